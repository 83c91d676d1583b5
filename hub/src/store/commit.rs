//! Group commit: the ops of one group of pushes (or of the hub's own chain) and everything they
//! change written in one atomic batch, made durable by one flush before any answer leaves.
//!
//! [`HubStore::ingest_prepared`] checks each push ([`super::ingest`]) against the heads in memory
//! and what earlier pushes of the same group staged, then [`HubStore::commit`] turns the accepted
//! ops into the batch: record states merged per bucket, ops in runs on the feed, their index
//! entries, the new heads and the feed position counter.
//!
//! Several writers (hub processes over one database): the batch is applied by compare-and-set
//! over what it was decided on ([`HubBackend::apply_if`](super::HubBackend::apply_if)): the
//! heads (cached) of the chains it extends, the buckets it merges into, the feed position
//! counter. On a conflict nothing is written; the heads that moved are read again and the group
//! is decided again. So:
//! - a chain's op n is accepted by one writer only (the other finds it held: a replay if it is
//!   the same op, a fork if not), the hub's own chain included (its ops numbered again);
//! - a bucket never loses another writer's merge;
//! - feed positions are given once, and become visible in the order they were given: every
//!   batch that gives positions lists the counter, so those batches apply one after another,
//!   each giving the positions after the last one applied. A feed reader that has seen
//!   position p never later finds an op before p that it did not see.

use super::backend::{Applied, Expected};
use super::codec;
use super::shared::AuxReads;
use super::{
    bucket_entries, bucket_key, chain_key, decode_state, feed_key, op_key, Author, AuxWrite, Batch,
    FiledConflict, Head, HubStore, IngestError, Prepared, StoreError, HUB_CHAIN_MUNICIPALITY,
    HUB_CHAIN_NODE,
};
use civreg_shared::ids::RegNo;
use civreg_shared::merge::merge;
use civreg_shared::op::{Hash, Op, OpId};
use std::borrow::Cow;
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

/// How many times a write is decided again, after conflicts with other hubs writing the same
/// database, before the store gives up on it. Each conflict means another writer succeeded, so
/// this is reached only by a writer that keeps losing.
pub(super) const MAX_ATTEMPTS: usize = 200;

/// The error of a write that lost [`MAX_ATTEMPTS`] times in a row to other writers.
pub(super) fn contended() -> StoreError {
    StoreError::Backend(format!(
        "the write conflicted {MAX_ATTEMPTS} times in a row with other hubs writing the same database; nothing of it was stored, and it can be sent again"
    ))
}

/// The id and prev hash of the op after `head` on the hub's own chain.
fn next_own(head: Head) -> (OpId, Hash) {
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
    (id, prev)
}

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
    ///
    /// Decided against the cached heads, written by compare-and-set over what the decisions
    /// read ([`HubStore::commit`]); when another store wrote first, the heads that moved are
    /// read again and the whole group decided again (an op now held is a replay, or a fork).
    pub fn ingest_prepared<A: Into<Author>>(
        &self,
        pushes: Vec<(A, Vec<Prepared>)>,
    ) -> Result<Vec<Result<Head, IngestError>>, StoreError> {
        let pushes: Vec<(Author, Vec<Prepared>)> =
            pushes.into_iter().map(|(w, o)| (w.into(), o)).collect();
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh_behind(&mut heads, &pushes)?;
        for _ in 0..MAX_ATTEMPTS {
            let mut staged: HashMap<String, Head> = HashMap::new();
            let mut answers = Vec::with_capacity(pushes.len());
            let mut accepted: Vec<&Prepared> = Vec::new();
            for (who, ops) in &pushes {
                answers.push(self.check_push(who, ops, &heads, &mut staged, &mut accepted));
            }
            if accepted.is_empty() {
                return Ok(answers);
            }
            match self.commit(&accepted, &staged, &heads, &[], &[])? {
                Applied::Done => {
                    self.flush()?;
                    heads.extend(staged);
                    return Ok(answers);
                }
                Applied::Conflict(keys) => self.refresh_conflicting(&mut heads, &keys)?,
            }
        }
        Err(contended())
    }

    /// Reads again the cached heads that a group shows to be behind the database (written
    /// through another hub): a push that starts after the cached head, an op based on an op
    /// after the cached head of its chain.
    fn refresh_behind(
        &self,
        heads: &mut HashMap<String, Head>,
        pushes: &[(Author, Vec<Prepared>)],
    ) -> Result<(), StoreError> {
        let seq = |heads: &HashMap<String, Head>, c: &str| heads.get(c).map_or(0, |h| h.seq);
        let mut behind: Vec<String> = Vec::new();
        for (who, ops) in pushes {
            let Author::Node {
                municipality,
                node_id,
            } = who
            else {
                continue;
            };
            let chain = chain_key(municipality, node_id);
            if ops
                .first()
                .is_some_and(|p| p.op.id.seq > seq(heads, &chain) + 1)
            {
                behind.push(chain.clone());
            }
            for p in ops {
                for b in &p.op.base {
                    let bc = chain_key(&b.municipality, &b.node_id);
                    if bc != chain && b.seq > seq(heads, &bc) {
                        behind.push(bc);
                    }
                }
            }
        }
        behind.sort();
        behind.dedup();
        self.refresh_heads(heads, behind.iter().map(String::as_str))
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
    /// once per item, in order, with the op's id and prev hash, which it puts in the op as they
    /// are and uses for nothing else: when another hub extended the chain first, the ops are
    /// numbered again after its ops and sealed again.
    pub fn write_own_many<T>(
        &self,
        items: Vec<T>,
        make: impl FnMut(T, OpId, Hash) -> Op,
        aux: &[AuxWrite],
    ) -> Result<Vec<Op>, StoreError> {
        let written = self.write_own_many_if(items, make, aux, &AuxReads::default())?;
        Ok(written.expect("no condition on aux state, so never stale"))
    }

    /// [`write_own_many`](Self::write_own_many), applied only if every `aux` key of `reads`
    /// still holds what the caller read ([`super::shared`]); `None`: another writer changed one
    /// first, nothing was written, and the caller reads again and decides again. (A move of the
    /// chain's head alone is not a reason: the ops are numbered again, as there.)
    pub fn write_own_many_if<T>(
        &self,
        items: Vec<T>,
        mut make: impl FnMut(T, OpId, Hash) -> Op,
        aux: &[AuxWrite],
        reads: &AuxReads,
    ) -> Result<Option<Vec<Op>>, StoreError> {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let chain = chain_key(HUB_CHAIN_MUNICIPALITY, HUB_CHAIN_NODE);
        if items.is_empty() {
            drop(heads);
            return Ok(self.aux_write_if(reads, aux)?.then(Vec::new));
        }
        // Another hub may have written the chain since this one last did: one read.
        self.refresh_heads(&mut heads, [chain.as_str()])?;
        let mut head = heads.get(&chain).copied().unwrap_or_default();
        let mut ops = Vec::with_capacity(items.len());
        for item in items {
            let (id, prev) = next_own(head);
            let op = make(item, id, prev).seal();
            head = Head {
                seq: op.id.seq,
                hash: op.hash,
            };
            ops.push(op);
        }
        for _ in 0..MAX_ATTEMPTS {
            let prepared: Vec<Prepared> = ops.into_iter().map(Prepared::new).collect();
            let last = prepared.last().expect("at least one op");
            let staged = HashMap::from([(
                chain.clone(),
                Head {
                    seq: last.op.id.seq,
                    hash: last.op.hash,
                },
            )]);
            let refs: Vec<&Prepared> = prepared.iter().collect();
            match self.commit(&refs, &staged, &heads, aux, reads.conditions())? {
                Applied::Done => {
                    self.flush()?;
                    heads.extend(staged);
                    return Ok(Some(prepared.into_iter().map(|p| p.op).collect()));
                }
                Applied::Conflict(keys) if reads.names_any(&keys) => return Ok(None),
                Applied::Conflict(keys) => {
                    self.refresh_conflicting(&mut heads, &keys)?;
                    let mut head = heads.get(&chain).copied().unwrap_or_default();
                    ops = prepared
                        .into_iter()
                        .map(|p| {
                            let mut op = p.op;
                            (op.id, op.prev_hash) = next_own(head);
                            let op = op.seal();
                            head = Head {
                                seq: op.id.seq,
                                hash: op.hash,
                            };
                            op
                        })
                        .collect();
                }
            }
        }
        Err(contended())
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

    /// Writes `ops` (accepted against the cached heads `cached`, moving the heads to `staged`)
    /// and `aux` in one batch, applied only if nothing it was decided on changed meanwhile
    /// ([`HubBackend::apply_if`](super::HubBackend::apply_if)): the cached heads of the chains
    /// it extends, each bucket it merges into, and the feed position counter. Answers
    /// [`Applied::Conflict`] (nothing written) when another writer changed one of them. The
    /// feed positions are given last, just before the batch is applied, and when the counter
    /// alone moved they are given again without deciding the rest again.
    ///
    /// Not conditions, because they only ever grow: whether a record is held
    /// ([`super::ingest::require_record`]), the ops a held state names.
    pub(super) fn commit(
        &self,
        ops: &[&Prepared],
        staged: &HashMap<String, Head>,
        cached: &HashMap<String, Head>,
        aux: &[AuxWrite],
        aux_read: &[Expected],
    ) -> Result<Applied, StoreError> {
        // Record states after these ops, merged from all of each record's ops, computed before the
        // batch is applied. Ops of this group are grouped by record, so no op of the group is read
        // back; a record the hub did not hold (the common case: a create) needs no read-back at
        // all.
        let mut read: Vec<Expected> = aux_read.to_vec();
        let mut touched: HashMap<&str, Vec<usize>> = HashMap::with_capacity(ops.len());
        for (i, p) in ops.iter().enumerate() {
            touched.entry(p.op.record_id.as_str()).or_default().push(i);
        }
        let mut batch = Batch::default();
        // The touched records by bucket: each bucket read once and written once.
        let mut by_bucket: HashMap<&str, Vec<(&str, Vec<usize>)>> = HashMap::new();
        for (regno, new) in touched {
            by_bucket
                .entry(bucket_key(regno))
                .or_default()
                .push((regno, new));
        }
        let mut owners: HashMap<&str, Option<String>> = HashMap::with_capacity(ops.len());
        // Every bucket read at once: one statement on a server backend, not one per bucket.
        let by_bucket: Vec<_> = by_bucket.into_iter().collect();
        let bucket_keys: Vec<&[u8]> = by_bucket.iter().map(|(b, _)| b.as_bytes()).collect();
        let held_buckets = self.buckets.get_many_noting(&bucket_keys, &mut read)?;
        for ((bucket, records), held_bucket) in by_bucket.into_iter().zip(held_buckets) {
            let mut entries: Vec<(&str, Cow<[u8]>)> = match &held_bucket {
                Some(v) => bucket_entries(v)?
                    .into_iter()
                    .map(|(r, st)| (r, Cow::Borrowed(st)))
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
                    (None, [i]) => ops[*i].single.as_deref(),
                    _ => None,
                };
                let encoded: Cow<[u8]> = match single {
                    Some(v) => Cow::Borrowed(v),
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
                        Cow::Owned(codec::encode_state(&state))
                    }
                };
                match at {
                    Some(i) => entries[i].1 = encoded,
                    None => entries.push((regno, encoded)),
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
        // Each run: its owner, its chain's index key, its number of ops, its encoding.
        let mut runs: Vec<(&str, Vec<u8>, u64, Vec<u8>)> = Vec::new();
        let mut i = 0;
        while i < ops.len() {
            let first = &ops[i].op;
            let owner = owner_of[i];
            // The run's header, then each op's length (a varint) and encoding.
            let framed = |p: &Prepared| p.stored.len() + 3;
            let mut bytes = 8 + framed(ops[i]);
            let mut j = i + 1;
            while j < ops.len()
                && j - i < RUN_MAX
                && bytes + framed(ops[j]) <= RUN_BYTES
                && ops[j].op.id.municipality == first.id.municipality
                && ops[j].op.id.node_id == first.id.node_id
                && ops[j].op.id.seq == ops[j - 1].op.id.seq + 1
                && owner_of[j] == owner
            {
                bytes += framed(ops[j]);
                j += 1;
            }
            let chain = chain_key(&first.id.municipality, &first.id.node_id);
            let run = codec::encode_run(ops[i..j].iter().map(|p| p.stored.as_slice()));
            runs.push((owner, op_key(&chain, first.id.seq), (j - i) as u64, run));
            i = j;
        }
        for (chain, head) in staged {
            read.push(self.head_condition(cached, chain));
            self.chains.put(
                &mut batch,
                chain.as_bytes(),
                codec::encode_head(head.seq, &head.hash).to_vec(),
            );
        }
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => self.aux.delete(&mut batch, k),
            }
        }
        // Feed positions last: read the counter, give the positions, apply if it has not
        // moved. Positions become visible in the order they are given, since every batch that
        // gives some lists the counter.
        let decided = (batch.len(), read.len());
        let counter = self.meta.key(super::aux::META_FEED_POS);
        for _ in 0..MAX_ATTEMPTS {
            batch.truncate(decided.0);
            read.truncate(decided.1);
            let mut pos = match self.meta.get_noting(super::aux::META_FEED_POS, &mut read)? {
                Some(v) => u64::from_be_bytes(
                    v.as_slice()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("feed position".into()))?,
                ),
                None => 0,
            };
            for (owner, index_key, n, run) in &runs {
                pos += n;
                let fk = feed_key(owner, pos);
                self.feed.put(&mut batch, &fk, run.as_slice());
                self.ops.put(&mut batch, index_key, fk);
            }
            self.meta
                .put(&mut batch, super::aux::META_FEED_POS, pos.to_be_bytes());
            match self.backend.apply_if(&read, &batch)? {
                Applied::Conflict(keys) if keys.iter().all(|k| *k == counter) => continue,
                other => return Ok(other),
            }
        }
        Err(contended())
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
