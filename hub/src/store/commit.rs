//! Group commit: the ops of one group of pushes (or of the hub's own chain) and everything they
//! change written in one atomic batch, made durable by one flush before any answer leaves.
//!
//! [`HubStore::ingest_prepared`] checks each push ([`super::ingest`]) against the heads in memory
//! and what earlier pushes of the same group staged, then [`HubStore::commit`] turns the accepted
//! ops into the batch: record states merged per bucket, ops in runs on the feed, their index
//! entries, the new heads and the feed position counter.

use super::codec;
use super::{
    bucket_entries, bucket_key, chain_key, decode_state, feed_key, op_key, Author, AuxWrite, Batch,
    FiledConflict, Head, HubStore, IngestError, Prepared, StoreError, HUB_CHAIN_MUNICIPALITY,
    HUB_CHAIN_NODE,
};
use civreg_shared::ids::RegNo;
use civreg_shared::merge::merge;
use civreg_shared::op::{Hash, Op, OpId};
use std::collections::HashMap;

/// The most ops in one run: bounds what reading one op by id (a record's history, a replayed
/// op's hash) has to load.
pub(super) const RUN_MAX: usize = 512;

/// The most bytes of encoded ops in one run (a run of one op may be larger). sled writes any
/// value, or any page it rewrites, of more than a quarter of a log segment (128 KiB with its
/// default 512 KiB segments) to a file of its own, a *blob*, which it never fsyncs (sled 0.34.7,
/// `pagecache::blob_io::write_blob`). A leaf page holds up to 17 entries, so values kept under
/// 6 KiB keep every page of ops, runs and record states in the fsynced log. Smaller runs were
/// faster as well: runs of up to 512 ops (about 230 KB) went to blobs and cost a file each.
pub(super) const RUN_BYTES: usize = 6 * 1024;

impl HubStore {
    /// Verifies and stores a set of pushes (one per caller), with one flush for all.
    /// Each push gets its own answer: the new head, or why it was refused. A refused push
    /// stores nothing; the others are unaffected.
    pub fn ingest<A: Into<Author>>(
        &self,
        pushes: Vec<(A, Vec<Op>)>,
    ) -> Result<Vec<Result<Head, IngestError>>, StoreError> {
        self.ingest_prepared(
            pushes
                .into_iter()
                .map(|(who, ops)| (who, ops.into_iter().map(Prepared::new).collect()))
                .collect(),
        )
    }

    /// [`ingest`](Self::ingest) of ops already [`Prepared`].
    pub fn ingest_prepared<A: Into<Author>>(
        &self,
        pushes: Vec<(A, Vec<Prepared>)>,
    ) -> Result<Vec<Result<Head, IngestError>>, StoreError> {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let mut staged: HashMap<String, Head> = HashMap::new();
        let mut answers = Vec::with_capacity(pushes.len());
        let mut accepted: Vec<Prepared> = Vec::new();
        for (who, ops) in pushes {
            answers.push(self.check_push(&who.into(), ops, &heads, &mut staged, &mut accepted));
        }
        if !accepted.is_empty() {
            self.commit(&mut accepted, &staged, &[])?;
            self.flush()?;
            heads.extend(staged);
        }
        Ok(answers)
    }

    /// Writes an op of the hub's own chain (an operator's decision) and flushes it. `make` gets
    /// the op's id and prev hash and returns the op to seal. Serialised with ingest.
    pub fn write_own(&self, make: impl FnOnce(OpId, Hash) -> Op) -> Result<Op, StoreError> {
        let mut make = Some(make);
        let ops = self.write_own_many(
            vec![()],
            |(), id, prev| (make.take().expect("called once"))(id, prev),
            &[],
        )?;
        Ok(ops.into_iter().next().expect("one op"))
    }

    /// Writes ops of the hub's own chain (an import's records, an operator's links) and the
    /// auxiliary writes that go with them, in one atomic batch and one flush. `make` is called
    /// once per item, in order, with the op's id and prev hash.
    pub fn write_own_many<T>(
        &self,
        items: Vec<T>,
        mut make: impl FnMut(T, OpId, Hash) -> Op,
        aux: &[AuxWrite],
    ) -> Result<Vec<Op>, StoreError> {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let chain = chain_key(HUB_CHAIN_MUNICIPALITY, HUB_CHAIN_NODE);
        let mut head = heads.get(&chain).copied().unwrap_or_default();
        let mut ops = Vec::with_capacity(items.len());
        for item in items {
            let id = OpId {
                municipality: HUB_CHAIN_MUNICIPALITY.into(),
                node_id: HUB_CHAIN_NODE.into(),
                seq: head.seq + 1,
            };
            let prev = if head.seq == 0 {
                civreg_shared::op::GENESIS
            } else {
                head.hash
            };
            let op = make(item, id, prev).seal();
            head = Head {
                seq: op.id.seq,
                hash: op.hash,
            };
            ops.push(Prepared::new(op));
        }
        let staged = HashMap::from([(chain.clone(), head)]);
        if ops.is_empty() {
            self.aux_commit(aux)?;
            return Ok(Vec::new());
        }
        self.commit(&mut ops, &staged, aux)?;
        self.flush()?;
        heads.insert(chain, head);
        Ok(ops.into_iter().map(|p| p.op).collect())
    }

    pub(super) fn aux_commit(&self, aux: &[AuxWrite]) -> Result<(), StoreError> {
        if aux.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => self.aux.delete(&mut batch, k),
            }
        }
        self.backend.apply(batch)?;
        self.flush()?;
        Ok(())
    }

    pub(super) fn commit(
        &self,
        ops: &mut [Prepared],
        heads: &HashMap<String, Head>,
        aux: &[AuxWrite],
    ) -> Result<(), StoreError> {
        // Record states after these ops, merged from all of each record's ops, computed before the
        // batch is applied (only the committer writes). Ops of this group are grouped by record, so
        // no op of the group is read back; a record the hub did not hold (the common case: a
        // create) needs no read-back at all.
        let mut singles: Vec<Option<Vec<u8>>> = ops.iter_mut().map(|p| p.single.take()).collect();
        let mut touched: HashMap<&str, Vec<usize>> = HashMap::with_capacity(ops.len());
        for (i, p) in ops.iter().enumerate() {
            touched.entry(p.op.record_id.as_str()).or_default().push(i);
        }
        let mut batch = Batch::default();
        let mut pos = match self.meta.get(super::aux::META_FEED_POS)? {
            Some(v) => u64::from_be_bytes(
                v.as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("feed position".into()))?,
            ),
            None => 0,
        };
        // The touched records by bucket: each bucket read once and written once.
        let mut by_bucket: HashMap<&str, Vec<(&str, Vec<usize>)>> = HashMap::new();
        for (regno, new) in touched {
            by_bucket
                .entry(bucket_key(regno))
                .or_default()
                .push((regno, new));
        }
        let mut owners: HashMap<&str, Option<String>> = HashMap::with_capacity(ops.len());
        for (bucket, records) in by_bucket {
            let held_bucket = self.buckets.get(bucket.as_bytes())?;
            let mut entries: Vec<(&str, std::borrow::Cow<[u8]>)> = match &held_bucket {
                Some(v) => bucket_entries(v)?
                    .into_iter()
                    .map(|(r, st)| (r, std::borrow::Cow::Borrowed(st)))
                    .collect(),
                None => Vec::new(),
            };
            for (regno, new) in records {
                let at = entries.iter().position(|(r, _)| *r == regno);
                let held = at.map(|i| decode_state(&entries[i].1)).transpose()?;
                let owner = RegNo::parse(regno).map(|r| r.municipality).ok();
                let single = match (&held, new.as_slice()) {
                    // The common case, a new record's create: its state is the op alone,
                    // written straight from it (no conflicts).
                    (None, [i]) => singles[*i].take(),
                    _ => None,
                };
                let encoded = match single {
                    Some(v) => v,
                    None => {
                        let new = new.iter().map(|&i| &ops[i].op);
                        let state = match held {
                            None => merge(new),
                            Some(st) => {
                                let mut all: Vec<Op> = Vec::with_capacity(st.ops.len());
                                for id in &st.ops {
                                    all.push(self.op(id)?.ok_or_else(|| {
                                        StoreError::Corrupt(format!(
                                            "record {regno} names op {id}, which is missing"
                                        ))
                                    })?);
                                }
                                merge(all.iter().chain(new))
                            }
                        }
                        .expect("at least one op");
                        for c in &state.conflicts {
                            let f = FiledConflict {
                                municipality: owner.clone().unwrap_or_default(),
                                conflict: c.clone(),
                            };
                            self.conflicts.put(
                                &mut batch,
                                c.id.as_bytes(),
                                serde_json::to_vec(&f).expect("conflict serialises"),
                            );
                        }
                        codec::encode_state(&state)
                    }
                };
                match at {
                    Some(i) => entries[i].1 = std::borrow::Cow::Owned(encoded),
                    None => entries.push((regno, std::borrow::Cow::Owned(encoded))),
                }
                owners.insert(regno, owner);
            }
            let refs = entries.iter().map(|(r, st)| (*r, st.as_ref()));
            self.put_bucket(&mut batch, bucket, refs.collect());
        }
        // The feed: runs of consecutive ops of one chain and one owning municipality (the record's,
        // or the op's own when the number does not parse), in the order the group holds them
        // (each chain in sequence order), each op one feed position.
        let owner_of: Vec<&str> = ops
            .iter()
            .map(|p| {
                owners
                    .get(p.op.record_id.as_str())
                    .and_then(|o| o.as_deref())
                    .unwrap_or(&p.op.id.municipality)
            })
            .collect();
        let mut i = 0;
        while i < ops.len() {
            let first = &ops[i].op;
            let owner = owner_of[i];
            // The run's header, then each op's length (a varint) and encoding.
            let framed = |p: &Prepared| p.stored.len() + 3;
            let mut bytes = 8 + framed(&ops[i]);
            let mut j = i + 1;
            while j < ops.len()
                && j - i < RUN_MAX
                && bytes + framed(&ops[j]) <= RUN_BYTES
                && ops[j].op.id.municipality == first.id.municipality
                && ops[j].op.id.node_id == first.id.node_id
                && ops[j].op.id.seq == ops[j - 1].op.id.seq + 1
                && owner_of[j] == owner
            {
                bytes += framed(&ops[j]);
                j += 1;
            }
            pos += (j - i) as u64;
            let fk = feed_key(owner, pos);
            let run = codec::encode_run(ops[i..j].iter().map(|p| p.stored.as_slice()));
            self.feed.put(&mut batch, &fk, run);
            let chain = chain_key(&first.id.municipality, &first.id.node_id);
            self.ops.put(&mut batch, op_key(&chain, first.id.seq), fk);
            i = j;
        }
        for (chain, head) in heads {
            self.chains.put(
                &mut batch,
                chain.as_bytes(),
                codec::encode_head(head.seq, &head.hash).to_vec(),
            );
        }
        self.meta
            .put(&mut batch, super::aux::META_FEED_POS, pos.to_be_bytes());
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => self.aux.delete(&mut batch, k),
            }
        }
        self.backend.apply(batch)
    }

    /// Writes a bucket: its records' numbers and encoded states, put in number order here.
    pub(super) fn put_bucket(
        &self,
        batch: &mut Batch,
        bucket: &str,
        mut entries: Vec<(&str, &[u8])>,
    ) {
        entries.sort_by(|a, b| a.0.cmp(b.0));
        self.buckets
            .put(batch, bucket.as_bytes(), codec::encode_bucket(&entries));
    }
}
