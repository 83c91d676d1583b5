//! The hub's store: every node's chain, verified, plus a per-municipality feed for pull and the
//! current state of every record.
//!
//! Ingest is all-or-nothing per batch and durable before it is acknowledged: [`HubStore::ingest`]
//! verifies a batch of pushes against the chain heads, commits all accepted ops in one atomic
//! sled batch, flushes once (group commit), and only then reports the new heads.
//!
//! One sled tree, in keyspaces, so that a group commit is one atomic `apply_batch`:
//! - `feed` (m 0 last-pos → run): the ops themselves, in *runs*. A run is consecutive ops of one
//!   chain whose records belong to one municipality `m`, at most [`RUN_MAX`] ops and
//!   [`RUN_BYTES`] bytes (a run of one op may be larger), written by one
//!   commit. Every op has its own feed position (a global counter, so positions of one
//!   municipality are increasing, not contiguous); a run of `n` ops holds positions
//!   `last-pos - n + 1 ..= last-pos` and is keyed by the last, so that the first run holding
//!   anything after a cursor is the first key after it.
//! - `ops` ("m/n" 0 first-seq → feed key of the run): finds an op by id: the run whose first
//!   sequence number is the greatest at or below the op's.
//! - `buckets` (regno less its last character → the merged states of those records, in number
//!   order; see [`bucket_key`]).
//! - `chains` ("m/n" → head), `conflicts` (id → filed conflict), `meta` (layout, feed position
//!   counter), `aux` (the hub modules' own state); `records` (regno → merged state) is layout 4's,
//!   read only to upgrade.
//!
//! Runs and buckets, not one value per op and per record, because sled's cost is per insert far
//! more than per byte: a group commit of 4,096 creates writes about 400 buckets and 300 runs
//! with their index entries, instead of three values per op (measured in BENCHMARKS.md, "Sync
//! (hub)"). Values stay small enough to stay out of sled's blob files ([`RUN_BYTES`], [`BlobFiles`]).
//!
//! Ops, record states and heads are stored in a compact binary encoding ([`codec`]); filed
//! conflicts, rare, as JSON. Layout 6 seals every value that holds personal data with the hub's
//! key ([`seal`], [`crate::atrest`]); keys stay in clear, and none is personal.

mod aside;
mod codec;
mod rules;

pub use aside::{AsideError, RefusedOp, SetAside};

pub use rules::{authorize, check_received};
mod seal;

use seal::Space;

use crate::pki::PeerIdentity;
use civreg_runtime::blobs::BlobFiles;
use civreg_shared::ids::RegNo;
use civreg_shared::merge::{merge, Conflict, RecordState};
use civreg_shared::op::{ChainVerifier, Hash, Op, OpError, OpId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the hub database at {0} is in use by another civreg-hub process")]
    Locked(String),
    #[error("hub database error: {0}")]
    Backend(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the key file does not open the hub database at {0}: the database was sealed with another key; pass the key file made for it (--key-file, CIVREG_HUB_KEY_FILE or key_file in the config file)")]
    WrongKey(String),
    #[error(transparent)]
    Key(#[from] crate::atrest::KeyError),
}

/// What a backend failure becomes: a [`StoreError`] stays what it is.
trait Failure {
    fn into_store_error(self) -> StoreError;
}
impl Failure for StoreError {
    fn into_store_error(self) -> StoreError {
        self
    }
}
macro_rules! backend_failure {
    ($($t:ty),*) => {$(
        impl Failure for $t {
            fn into_store_error(self) -> StoreError {
                StoreError::Backend(self.to_string())
            }
        }
    )*};
}
backend_failure!(sled::Error, std::io::Error, String);

fn backend(e: impl Failure) -> StoreError {
    e.into_store_error()
}

/// Why a push was refused. Nothing of a refused batch is stored.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    #[error("permission denied: {0}")]
    Denied(String),
    #[error("gap in the chain of {chain}: the hub holds up to #{held}, the batch starts at #{got}; resend from #{}", held + 1)]
    Gap { chain: String, held: u64, got: u64 },
    #[error(
        "fork in the chain of {chain} at #{seq}: the hub holds a different op with that number"
    )]
    Fork { chain: String, seq: u64 },
    #[error("invalid op: {0}")]
    Invalid(String),
    #[error("{0}")]
    NotHeld(String),
    #[error("op {op} is stamped {ahead_ms} ms ahead of the hub's clock, more than allowed: it is refused for now and accepted once the hub's clock catches up (in about {retry_ms} ms); check the office PC's clock")]
    Ahead {
        op: String,
        ahead_ms: u64,
        retry_ms: u64,
    },
}

/// The verified head of one node's chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
}

/// A record as the hub holds it: the shared merge of its ops.
pub type HubRecord = RecordState;

/// A conflict as the hub files it: with the municipality that owns the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FiledConflict {
    pub municipality: String,
    #[serde(flatten)]
    pub conflict: Conflict,
}

/// A write of auxiliary state: key, and the value (`None` removes the key).
pub type AuxWrite = (Vec<u8>, Option<Vec<u8>>);

/// The hub's own chain: the ops it writes itself (operators' decisions), owned by no municipality.
pub const HUB_CHAIN_MUNICIPALITY: &str = "agency";
pub const HUB_CHAIN_NODE: &str = "hub";

pub struct HubStore {
    db: sled::Db,
    chains: Space,
    ops: Space,
    feed: Space,
    /// Layout 4's record states, one value each: read only to upgrade.
    records: Space,
    buckets: Space,
    conflicts: Space,
    meta: Space,
    /// What the hub's own modules keep beside the log (persons, duplicates, imports): see
    /// [`HubStore::aux_get`].
    aux: Space,
    /// Chain heads in memory, the committed truth, changed only under this lock.
    heads: Mutex<HashMap<String, Head>>,
    /// The op of each chain last refused for its content ([`aside`]); locked after `heads`.
    refused: Mutex<HashMap<String, RefusedOp>>,
    /// sled's blob files, synced after each flush, since sled never fsyncs them (see
    /// [`RUN_BYTES`]); none for a temporary store.
    blobs: Option<BlobFiles>,
    /// The keys the store is sealed with (backups seal their frames with them too).
    keys: Arc<civreg_shared::seal::Sealer>,
}

pub type KeyValue = (Vec<u8>, sled::IVec);

/// The layout of the hub's database; a database of another layout is refused at open.
const LAYOUT: &[u8] =
    b"civreg-hub 6: one tree, binary values, ops in runs, states in buckets, sealed at rest";

/// Layout 5: values in clear.
const LAYOUT_5: &[u8] = b"civreg-hub 5: one tree, binary values, ops in runs, states in buckets";

/// Layout 4: ops in runs, one value per record state.
const LAYOUT_4: &[u8] = b"civreg-hub 4: one tree, binary values, ops in runs";

/// Layout 3: binary values, one value per op.
const LAYOUT_3: &[u8] = b"civreg-hub 3: one tree, binary values";

/// The layout before binary values: ops, states and heads in JSON.
const LAYOUT_2: &[u8] = b"civreg-hub 2: one tree";

fn chain_key(m: &str, n: &str) -> String {
    format!("{m}/{n}")
}

fn op_key(chain: &str, seq: u64) -> Vec<u8> {
    let mut k = chain.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn feed_key(m: &str, pos: u64) -> Vec<u8> {
    let mut k = m.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&pos.to_be_bytes());
    k
}

/// The most ops in one run: bounds what reading one op by id (a record's history, a replayed
/// op's hash) has to load.
const RUN_MAX: usize = 512;

/// The most bytes of encoded ops in one run (a run of one op may be larger). sled writes any
/// value, or any page it rewrites, of more than a quarter of a log segment (128 KiB with its
/// default 512 KiB segments) to a file of its own, a *blob*, which it never fsyncs (sled 0.34.7,
/// `pagecache::blob_io::write_blob`). A leaf page holds up to 17 entries, so values kept under
/// 6 KiB keep every page of ops, runs and record states in the fsynced log. Smaller runs were
/// faster as well: runs of up to 512 ops (about 230 KB) went to blobs and cost a file each.
const RUN_BYTES: usize = 6 * 1024;

fn decode_op(v: &[u8]) -> Result<Op, StoreError> {
    codec::decode_op(v).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))
}

fn run_ops(v: &[u8]) -> Result<Vec<&[u8]>, StoreError> {
    codec::run_ops(v).map_err(|e| StoreError::Corrupt(format!("stored run of ops: {e}")))
}

/// The number at the end of an `ops` or `feed` key (a sequence number or a feed position).
fn key_number(k: &[u8]) -> Result<u64, StoreError> {
    k.len()
        .checked_sub(8)
        .and_then(|at| k[at..].try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt("store key".into()))
}

/// The bucket of a record's state: its number without the last character, so that a bucket
/// holds up to ten consecutive numbers of one series. Buckets sort as their numbers do, except
/// across widths of one series (…-100001 and …-1000000); `records_with_prefix` puts those in
/// order.
fn bucket_key(regno: &str) -> &str {
    let cut = regno.char_indices().next_back().map_or(0, |(i, _)| i);
    &regno[..cut]
}

fn bucket_entries(v: &[u8]) -> Result<Vec<(&str, &[u8])>, StoreError> {
    codec::bucket_entries(v)
        .map_err(|e| StoreError::Corrupt(format!("stored bucket of records: {e}")))
}

fn decode_state(v: &[u8]) -> Result<HubRecord, StoreError> {
    codec::decode_state(v).map_err(|e| StoreError::Corrupt(format!("stored record state: {e}")))
}

/// An op with the work that needs nothing but the op itself done ahead of the committer: its own
/// check ([`Op::check`]: shape and hash) and its stored encodings. A push stream prepares each
/// batch as it arrives, on the async workers, so that the one committer thread only links
/// chains, reads what it must and writes.
pub struct Prepared {
    op: Op,
    checked: Result<(), OpError>,
    /// The content and clock check of an op received from a node ([`rules::check_received`]).
    content: Result<(), IngestError>,
    /// The op as a run holds it ([`codec::encode_op`]).
    stored: Vec<u8>,
    /// The state of a record made by this op alone ([`codec::encode_single_state`]).
    single: Option<Vec<u8>>,
}

impl Prepared {
    pub fn new(op: Op) -> Prepared {
        Prepared {
            content: Ok(()),
            checked: op.check(),
            stored: codec::encode_op(&op),
            single: codec::encode_single_state(&op),
            op,
        }
    }

    /// An op received from a node at `now_ms`: also its content and clock checked
    /// ([`rules::check_received`]).
    pub fn received(op: Op, now_ms: u64) -> Prepared {
        let content = rules::check_received(&op, now_ms);
        Prepared {
            content,
            ..Prepared::new(op)
        }
    }

    pub fn op(&self) -> &Op {
        &self.op
    }
}

impl HubStore {
    /// Opens (or creates) the database at `path`, sealed with `keys` (the key file's,
    /// [`crate::atrest::load_key`]); a database sealed with another key is refused.
    pub fn open(path: &Path, keys: civreg_shared::seal::Sealer) -> Result<HubStore, StoreError> {
        let mut store = Self::open_config(sled::Config::new().path(path), path, keys)?;
        let blobs = BlobFiles::new(path);
        // What an earlier run left unsynced, before anything new is acknowledged.
        blobs.sync().map_err(backend)?;
        store.blobs = Some(blobs);
        Ok(store)
    }

    /// A store that lives in memory and is gone when dropped (deterministic simulation).
    /// Sealed with a key of its own.
    pub fn open_temporary() -> Result<HubStore, StoreError> {
        let master = civreg_shared::seal::new_master()
            .map_err(|_| StoreError::Key(crate::atrest::KeyError::Rng))?;
        Self::open_config(
            sled::Config::new().temporary(true),
            Path::new("(temporary)"),
            crate::atrest::keys_from_master(&master),
        )
    }

    fn open_config(
        config: sled::Config,
        path: &Path,
        keys: civreg_shared::seal::Sealer,
    ) -> Result<HubStore, StoreError> {
        let db = config
            .flush_every_ms(Some(1000))
            // Bounded page cache: sled's default (1 GiB) keeps everything written resident.
            .cache_capacity(256 * 1024 * 1024)
            .open()
            .map_err(|e| {
                let s = e.to_string();
                if s.contains("lock") || s.contains("WouldBlock") {
                    StoreError::Locked(path.display().to_string())
                } else {
                    backend(s)
                }
            })?;
        if db.tree_names().iter().any(|n| n.as_ref() == b"chains") {
            return Err(StoreError::Corrupt(format!(
                "{} holds a hub database of the first layout (several trees); this civreg-hub reads layouts 3 to 6 only: move it aside and let the nodes push again",
                path.display()
            )));
        }
        let tree = db.open_tree("hub").map_err(backend)?;
        let keys = Arc::new(keys);
        let mut store = HubStore {
            chains: Space::new(&tree, b"c/", "chains"),
            ops: Space::new(&tree, b"o/", "ops"),
            feed: Space::new(&tree, b"f/", "feed"),
            records: Space::new(&tree, b"r/", "records"),
            buckets: Space::new(&tree, b"b/", "buckets"),
            conflicts: Space::new(&tree, b"k/", "conflicts"),
            meta: Space::new(&tree, b"m/", "meta"),
            aux: Space::new(&tree, b"x/", "aux"),
            db,
            heads: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            blobs: None,
            keys: keys.clone(),
        };
        match store.meta.get("layout")? {
            Some(v) if v.as_ref() == LAYOUT => store.check_key(&keys, path, false)?,
            Some(v) if v.as_ref() == LAYOUT_5 => store.upgrade_from_5(&keys, path)?,
            Some(v) if v.as_ref() == LAYOUT_4 => {
                store.upgrade_from_4()?;
                store.upgrade_from_5(&keys, path)?;
            }
            Some(v) if v.as_ref() == LAYOUT_3 => {
                store.upgrade_from_3()?;
                store.upgrade_from_4()?;
                store.upgrade_from_5(&keys, path)?;
            }
            Some(v) if v.as_ref() == LAYOUT_2 => {
                return Err(StoreError::Corrupt(format!(
                    "{} holds a hub database of layout 2 (JSON values); this civreg-hub reads layouts 3 to 6 only: move it aside and let the nodes push again",
                    path.display(),
                )))
            }
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "unknown hub database layout {:?}: upgrade civreg-hub",
                    String::from_utf8_lossy(&v)
                )))
            }
            None => {
                store.check_key(&keys, path, true)?;
                store
                    .tree()
                    .insert(store.meta.key("layout"), LAYOUT)
                    .map_err(backend)?;
            }
        }
        store.seal_with(&keys);
        let mut heads = HashMap::new();
        for r in store.chains.iter() {
            let (k, v) = r.map_err(backend)?;
            let (seq, hash) = codec::decode_head(&v)
                .map_err(|e| StoreError::Corrupt(format!("chain head: {e}")))?;
            let head = Head { seq, hash };
            heads.insert(String::from_utf8_lossy(&k).into_owned(), head);
        }
        *store.heads.lock().unwrap_or_else(|p| p.into_inner()) = heads;
        Ok(store)
    }

    /// Rewrites a layout-3 database (one value per op under `ops`, feed entries naming them) to
    /// layout 4: each op becomes a run of one under its own feed key, and its `ops` entry names
    /// that key. Record states, heads, conflicts and the rest are the same in both layouts. In
    /// batches of 10,000 ops, each atomic (a feed entry and its op change together), so an
    /// interrupted upgrade resumes where it stopped: converted entries are recognised and
    /// skipped. The layout mark changes last, after a flush.
    fn upgrade_from_3(&self) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 3 to layout 4 (ops in runs)");
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        let mut done = 0u64;
        for r in self.feed.iter() {
            let (fk, v) = r.map_err(backend)?;
            if codec::is_run(&v) {
                continue;
            }
            let op = self.ops.get(&v).map_err(backend)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "upgrading from layout 3: a feed entry names op {:?}, which is missing",
                    String::from_utf8_lossy(&v)
                ))
            })?;
            self.feed
                .put(&mut batch, &fk, codec::encode_run(std::iter::once(&op[..])));
            self.ops.put(&mut batch, &v, fk.as_slice());
            pending += 1;
            done += 1;
            if pending == 10_000 {
                self.tree()
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(backend)?;
                pending = 0;
            }
        }
        self.tree().apply_batch(batch).map_err(backend)?;
        self.mark_layout(LAYOUT_4)?;
        tracing::info!(ops = done, "hub database upgraded to layout 4");
        Ok(())
    }

    /// Rewrites a layout-4 database (one value per record state, under `records`) to layout 5:
    /// the states go into buckets ([`bucket_key`]). Everything else is the same in both layouts.
    /// In batches of about 10,000 records, each atomic (a bucket written and its records' old
    /// entries removed together), so an interrupted upgrade resumes where it stopped: what is left
    /// under `records` is what remains, merged into any bucket already written. The layout mark
    /// changes last, after a flush.
    fn upgrade_from_4(&self) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 4 to layout 5 (states in buckets)");
        // The buckets of the batch being gathered. Number order is not quite bucket order (see
        // `bucket_key`), so a bucket may come back after another: it is merged here, and with
        // what an earlier batch (or an interrupted upgrade) wrote.
        let mut staged: HashMap<String, Vec<(String, sled::IVec)>> = HashMap::new();
        let mut pending = 0usize;
        let mut done = 0u64;
        let write = |staged: &mut HashMap<String, Vec<(String, sled::IVec)>>| {
            let mut batch = sled::Batch::default();
            for (bucket, mut entries) in staged.drain() {
                for (regno, _) in &entries {
                    batch.remove(self.records.key(regno.as_bytes()));
                }
                if let Some(held) = self.buckets.get(bucket.as_bytes()).map_err(backend)? {
                    for (regno, state) in bucket_entries(&held)? {
                        if !entries.iter().any(|(r, _)| r == regno) {
                            entries.push((regno.to_string(), state.into()));
                        }
                    }
                }
                let refs = entries.iter().map(|(r, s)| (r.as_str(), s.as_ref()));
                self.put_bucket(&mut batch, &bucket, refs.collect());
            }
            self.tree().apply_batch(batch).map_err(backend)
        };
        for r in self.records.iter() {
            let (k, v) = r.map_err(backend)?;
            let regno = String::from_utf8(k)
                .map_err(|_| StoreError::Corrupt("a record number is not UTF-8".into()))?;
            staged
                .entry(bucket_key(&regno).to_string())
                .or_default()
                .push((regno, v));
            pending += 1;
            done += 1;
            if pending == 10_000 {
                write(&mut staged)?;
                pending = 0;
            }
        }
        write(&mut staged)?;
        self.mark_layout(LAYOUT_5)?;
        tracing::info!(records = done, "hub database upgraded to layout 5");
        Ok(())
    }

    /// Writes a bucket: its records' numbers and encoded states, put in number order here.
    fn put_bucket(&self, batch: &mut sled::Batch, bucket: &str, mut entries: Vec<(&str, &[u8])>) {
        entries.sort_by(|a, b| a.0.cmp(b.0));
        self.buckets
            .put(batch, bucket.as_bytes(), codec::encode_bucket(&entries));
    }

    /// Marks the database as of `layout` once everything written so far is durable (the last
    /// step of an upgrade), and makes the mark durable.
    fn mark_layout(&self, layout: &[u8]) -> Result<(), StoreError> {
        self.flush()?;
        self.tree()
            .insert(self.meta.key("layout"), layout)
            .map_err(backend)?;
        self.flush()
    }

    /// Makes everything written so far durable: sled's flush, then its blob files ([`BlobFiles`]).
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(backend)?;
        if let Some(b) = &self.blobs {
            b.sync().map_err(backend)?;
        }
        Ok(())
    }

    /// The verified head of a node's chain (zero when the hub has nothing of it).
    pub fn head(&self, municipality: &str, node_id: &str) -> Head {
        self.heads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&chain_key(municipality, node_id))
            .copied()
            .unwrap_or_default()
    }

    /// Every chain and its head.
    pub fn heads(&self) -> Vec<(String, Head)> {
        let mut v: Vec<_> = self
            .heads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, h)| (k.clone(), *h))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Verifies and stores a set of pushes (one per caller), with one flush for all.
    /// Each push gets its own answer: the new head, or why it was refused. A refused push
    /// stores nothing; the others are unaffected.
    pub fn ingest(
        &self,
        pushes: Vec<(PeerIdentity, Vec<Op>)>,
    ) -> Result<Vec<Result<Head, IngestError>>, StoreError> {
        self.ingest_prepared(
            pushes
                .into_iter()
                .map(|(who, ops)| (who, ops.into_iter().map(Prepared::new).collect()))
                .collect(),
        )
    }

    /// [`ingest`](Self::ingest) of ops already [`Prepared`].
    pub fn ingest_prepared(
        &self,
        pushes: Vec<(PeerIdentity, Vec<Prepared>)>,
    ) -> Result<Vec<Result<Head, IngestError>>, StoreError> {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let mut staged: HashMap<String, Head> = HashMap::new();
        let mut answers = Vec::with_capacity(pushes.len());
        let mut accepted: Vec<Prepared> = Vec::new();
        for (who, ops) in pushes {
            answers.push(self.check_push(&who, ops, &heads, &mut staged, &mut accepted));
        }
        if !accepted.is_empty() {
            self.commit(&mut accepted, &staged, &[])?;
            self.flush()?;
            heads.extend(staged);
        }
        Ok(answers)
    }

    fn check_push(
        &self,
        who: &PeerIdentity,
        ops: Vec<Prepared>,
        heads: &HashMap<String, Head>,
        staged: &mut HashMap<String, Head>,
        accepted: &mut Vec<Prepared>,
    ) -> Result<Head, IngestError> {
        let PeerIdentity::Node {
            municipality,
            node_id,
        } = who
        else {
            return Err(IngestError::Denied(format!("{who} can not push ops")));
        };
        let chain = chain_key(municipality, node_id);
        // What is on disk, and what earlier pushes of this same group have staged on top of it.
        let committed = heads.get(&chain).copied().unwrap_or_default();
        let head = staged.get(&chain).copied().unwrap_or(committed);
        let mut verifier = ChainVerifier::resume(municipality, node_id, head.seq, head.hash);
        let mut new_ops: Vec<Prepared> = Vec::new();
        for p in ops {
            let op = &p.op;
            let next = op.id.seq == verifier.verified() + 1;
            // A refusal of the op the hub expects next, for what the op is (not a gap or a
            // fork), is remembered with its hash: an operator may set the op aside ([`aside`]).
            let refused = |e: IngestError| {
                if next
                    && !matches!(
                        e,
                        IngestError::Fork { .. }
                            | IngestError::Gap { .. }
                            | IngestError::Ahead { .. }
                    )
                {
                    self.note_refused(municipality, node_id, op, e.to_string());
                }
                e
            };
            let own = op.id.municipality == *municipality && op.id.node_id == *node_id;
            if own && op.id.seq <= verifier.verified() {
                // Already held (or staged, or set aside): harmless if it is the same op, a fork if
                // not. Checked before the write rules: a repeat of an op set aside is not judged
                // again. (An op naming another node goes to `authorize`, which refuses it.)
                let same = if op.id.seq <= committed.seq {
                    self.stored_hash(&chain, op.id.seq)? == Some(op.hash)
                } else {
                    // Staged by this push or by an earlier push of the same group.
                    new_ops
                        .iter()
                        .chain(accepted.iter())
                        .any(|o| o.op.id == op.id && o.op.hash == op.hash)
                };
                if !same {
                    return Err(IngestError::Fork {
                        chain,
                        seq: op.id.seq,
                    });
                }
                continue;
            }
            authorize(who, op).map_err(refused)?;
            for b in &op.base {
                // Chains are stored without gaps from #1, so the hub holds (or this group stages)
                // exactly the ops up to each chain's head: no lookup needed.
                let top = if b.municipality == *municipality && b.node_id == *node_id {
                    verifier.verified()
                } else {
                    let bc = chain_key(&b.municipality, &b.node_id);
                    staged
                        .get(&bc)
                        .or_else(|| heads.get(&bc))
                        .map_or(0, |h| h.seq)
                };
                if b.seq == 0 || b.seq > top {
                    return Err(refused(IngestError::Invalid(format!(
                        "op {} is based on op {b}, which the hub does not hold: a node bases edits only on ops it made or pulled",
                        op.id
                    ))));
                }
            }
            if op.id.seq > verifier.verified() + 1 {
                return Err(IngestError::Gap {
                    chain,
                    held: verifier.verified(),
                    got: op.id.seq,
                });
            }
            verifier
                .push_checked(op, p.checked.clone())
                .map_err(|e| match e {
                    civreg_shared::op::ChainError::Broken { seq, .. } => IngestError::Fork {
                        chain: chain.clone(),
                        seq,
                    },
                    other => IngestError::Invalid(other.to_string()),
                })
                .map_err(refused)?;
            p.content.clone().map_err(refused)?;
            rules::require_record(self, op, new_ops.iter().chain(accepted.iter()))
                .map_err(refused)?;
            new_ops.push(p);
        }
        let new_head = Head {
            seq: verifier.verified(),
            hash: verifier.last_hash(),
        };
        if !new_ops.is_empty() {
            staged.insert(chain, new_head);
            accepted.extend(new_ops);
        }
        Ok(new_head)
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

    /// The keys the store is sealed with.
    pub fn sealer(&self) -> &civreg_shared::seal::Sealer {
        &self.keys
    }

    /// Runs `f` over every raw entry of the store (keys with their keyspace, values as stored,
    /// sealed) while no write can happen (every write holds the heads' lock), with the chain
    /// heads of that moment: a consistent snapshot for `civreg-hub backup`. Ingest waits meanwhile.
    pub fn with_writes_held<T>(
        &self,
        f: impl FnOnce(&mut dyn Iterator<Item = Result<KeyValue, StoreError>>, Vec<(String, Head)>) -> T,
    ) -> T {
        let heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: Vec<(String, Head)> = heads.iter().map(|(k, h)| (k.clone(), *h)).collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut it = self
            .tree()
            .iter()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v)).map_err(backend));
        let out = f(&mut it, list);
        drop(heads);
        out
    }

    /// Auxiliary state kept beside the log by the hub's own modules (person identifiers, the
    /// duplicates queue, import keys), under keys the module chooses (its own prefix first).
    pub fn aux_get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        self.aux.get(key).map_err(backend)
    }

    /// Every auxiliary entry whose key starts with `prefix`, in key order.
    pub fn aux_scan<'a>(
        &'a self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, sled::IVec), StoreError>> + 'a {
        self.aux.scan_prefix(prefix).map(|r| r.map_err(backend))
    }

    /// Applies auxiliary writes (a `None` value removes the key) atomically, and flushes.
    /// Serialised with ingest and the hub's own ops.
    pub fn aux_write(&self, aux: &[AuxWrite]) -> Result<(), StoreError> {
        let _heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        self.aux_commit(aux)
    }

    fn aux_commit(&self, aux: &[AuxWrite]) -> Result<(), StoreError> {
        if aux.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => batch.remove(self.aux.key(k)),
            }
        }
        self.tree().apply_batch(batch).map_err(backend)?;
        self.flush()?;
        Ok(())
    }

    /// A filed conflict, by id.
    pub fn conflict(&self, id: &str) -> Result<Option<FiledConflict>, StoreError> {
        self.conflicts
            .get(id.as_bytes())
            .map_err(backend)?
            .map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Every filed conflict, by id.
    pub fn conflicts(&self) -> impl Iterator<Item = Result<FiledConflict, StoreError>> + '_ {
        self.conflicts.iter().map(|r| {
            let (_, v) = r.map_err(backend)?;
            serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
    }

    /// Every record whose registration number starts with `prefix`, in id order.
    pub fn records_with_prefix(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = Result<HubRecord, StoreError>> + '_ {
        // A number starts with `prefix` only if its bucket starts with `prefix` less its last
        // character (a number as long as the prefix is in that shorter bucket).
        let mut scan = self.buckets.scan_prefix(bucket_key(prefix).as_bytes());
        let prefix = prefix.to_string();
        // Buckets come in key order, which is not quite number order: the bucket of …-100001
        // (key …-10000) comes before that of …-1000000 (key …-100000), whose number sorts
        // first. But a bucket's key is a proper prefix of each of its numbers, so every record
        // still to come sorts after the key of the bucket just read: what is pending up to that
        // key can go out, in order.
        let mut pending: std::collections::BTreeMap<String, HubRecord> = Default::default();
        let mut ready: std::collections::VecDeque<Result<HubRecord, StoreError>> =
            Default::default();
        let mut done = false;
        std::iter::from_fn(move || loop {
            if let Some(r) = ready.pop_front() {
                return Some(r);
            }
            if done {
                return None;
            }
            match scan.next() {
                None => {
                    done = true;
                    ready.extend(std::mem::take(&mut pending).into_values().map(Ok));
                }
                Some(Err(e)) => ready.push_back(Err(backend(e))),
                Some(Ok((key, v))) => {
                    while pending
                        .first_key_value()
                        .is_some_and(|(r, _)| r.as_bytes() <= key.as_slice())
                    {
                        ready.extend(pending.pop_first().map(|(_, st)| Ok(st)));
                    }
                    match bucket_entries(&v) {
                        Err(e) => ready.push_back(Err(e)),
                        Ok(entries) => {
                            for (regno, st) in entries {
                                if !regno.starts_with(prefix.as_str()) {
                                    continue;
                                }
                                match decode_state(st) {
                                    Ok(st) => {
                                        pending.insert(regno.to_string(), st);
                                    }
                                    Err(e) => ready.push_back(Err(e)),
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    fn stored_hash(&self, chain: &str, seq: u64) -> Result<Option<Hash>, IngestError> {
        let bad = |e: StoreError| IngestError::Invalid(format!("hub store: {e}"));
        if let Some((run, i)) = self.find_run(chain, seq).map_err(bad)? {
            let ops = run_ops(&run).map_err(bad)?;
            if let Some(v) = ops.get(i) {
                return Ok(codec::op_hash(v).ok());
            }
        }
        // Not in a run: set aside by an operator, or not held.
        self.aside_hash(chain, seq).map_err(bad)
    }

    /// The run holding op `seq` of `chain`, and the op's index in it.
    fn find_run(&self, chain: &str, seq: u64) -> Result<Option<(sled::IVec, usize)>, StoreError> {
        let Some(r) = self
            .ops
            .range(&op_key(chain, 0), &op_key(chain, seq))
            .next_back()
        else {
            return Ok(None);
        };
        let (k, feed) = r.map_err(backend)?;
        let first = key_number(&k)?;
        let run = self
            .feed
            .get(&feed)
            .map_err(backend)?
            .ok_or_else(|| StoreError::Corrupt(format!("chain {chain} names a missing run")))?;
        Ok(Some((run, (seq - first) as usize)))
    }

    fn commit(
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
        let mut batch = sled::Batch::default();
        let mut pos = match self.meta.get("feed_pos").map_err(backend)? {
            Some(v) => u64::from_be_bytes(
                v.as_ref()
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
            let held_bucket = self.buckets.get(bucket.as_bytes()).map_err(backend)?;
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
        self.meta.put(&mut batch, "feed_pos", &pos.to_be_bytes());
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => batch.remove(self.aux.key(k)),
            }
        }
        self.tree().apply_batch(batch).map_err(backend)
    }

    fn tree(&self) -> &sled::Tree {
        &self.meta.tree
    }

    /// The ops of a municipality's feed after `cursor`, at most `max`, with the cursor after them.
    pub fn feed_after(
        &self,
        municipality: &str,
        cursor: u64,
        max: usize,
    ) -> Result<(Vec<Op>, u64), StoreError> {
        self.feed_map(municipality, cursor, max, decode_op)
    }

    /// The records changed by the ops of a municipality's feed after `cursor` (one entry per op,
    /// at most `max`), with the cursor after them: [`HubStore::feed_after`] without decoding
    /// whole ops, for the search indexer.
    pub fn feed_records_after(
        &self,
        municipality: &str,
        cursor: u64,
        max: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        self.feed_map(municipality, cursor, max, |v| {
            codec::op_record_id(v).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))
        })
    }

    fn feed_map<T>(
        &self,
        municipality: &str,
        cursor: u64,
        max: usize,
        read: impl Fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let start = feed_key(municipality, cursor.saturating_add(1));
        let end = feed_key(municipality, u64::MAX);
        let mut out = Vec::new();
        let mut last = cursor;
        for r in self.feed.range(&start, &end) {
            if out.len() >= max {
                break;
            }
            let (k, run) = r.map_err(backend)?;
            let last_pos = key_number(&k)?;
            let ops = run_ops(&run)?;
            let first_pos = last_pos + 1 - ops.len() as u64;
            for (i, v) in ops.iter().enumerate() {
                let pos = first_pos + i as u64;
                if pos <= cursor {
                    continue;
                }
                if out.len() >= max {
                    break;
                }
                out.push(read(v)?);
                last = pos;
            }
        }
        Ok((out, last))
    }

    /// One op, by id.
    pub fn op(&self, id: &OpId) -> Result<Option<Op>, StoreError> {
        let chain = chain_key(&id.municipality, &id.node_id);
        let Some((run, i)) = self.find_run(&chain, id.seq)? else {
            return Ok(None);
        };
        match run_ops(&run)?.get(i) {
            Some(v) => {
                let op = decode_op(v)?;
                if op.id != *id {
                    return Err(StoreError::Corrupt(format!(
                        "the run holding op {id} holds {} in its place",
                        op.id
                    )));
                }
                Ok(Some(op))
            }
            None => Ok(None),
        }
    }

    /// Ops of one node's chain after `after`, in order, at most `max`, up to its head (the
    /// `Chain` RPC: a restored or rebuilt node re-fetches what it had sent). Stops before an op
    /// the hub holds by hash only (set aside by an operator) and returns its number.
    pub fn chain_after(
        &self,
        municipality: &str,
        node_id: &str,
        after: u64,
        max: usize,
    ) -> Result<(Vec<Op>, Option<u64>), StoreError> {
        let head = self.head(municipality, node_id).seq;
        let mut out = Vec::new();
        let mut seq = after + 1;
        while seq <= head && out.len() < max {
            let id = OpId {
                municipality: municipality.to_string(),
                node_id: node_id.to_string(),
                seq,
            };
            match self.op(&id)? {
                Some(op) => out.push(op),
                None => return Ok((out, Some(seq))),
            }
            seq += 1;
        }
        Ok((out, None))
    }

    /// The highest log head a node reported in its heartbeats, and when (kept in `aux` under
    /// `logseq/M/N`, so that a recovery after the hub restarted still names what was lost).
    pub fn reported_log(
        &self,
        municipality: &str,
        node_id: &str,
    ) -> Result<(u64, u64), StoreError> {
        let key = format!("logseq/{municipality}/{node_id}");
        Ok(match self.aux_get(key.as_bytes())? {
            Some(v) if v.len() == 16 => (
                u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                u64::from_be_bytes(v[8..].try_into().expect("8 bytes")),
            ),
            _ => (0, 0),
        })
    }

    /// Notes a node's reported log head when it is higher than the one kept.
    pub fn note_reported_log(
        &self,
        municipality: &str,
        node_id: &str,
        seq: u64,
        at_ms: u64,
    ) -> Result<(), StoreError> {
        if seq <= self.reported_log(municipality, node_id)?.0 {
            return Ok(());
        }
        let mut v = seq.to_be_bytes().to_vec();
        v.extend_from_slice(&at_ms.to_be_bytes());
        let key = format!("logseq/{municipality}/{node_id}").into_bytes();
        self.aux_write(&[(key, Some(v))])
    }

    /// Every op of one node's chain, in order.
    pub fn chain_ops(&self, municipality: &str, node_id: &str) -> Result<Vec<Op>, StoreError> {
        let mut prefix = chain_key(municipality, node_id).into_bytes();
        prefix.push(0);
        let mut out = Vec::new();
        for r in self.ops.scan_prefix(&prefix) {
            let (_, feed) = r.map_err(backend)?;
            let run = self.feed.get(&feed).map_err(backend)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "chain {municipality}/{node_id} names a missing run"
                ))
            })?;
            for v in run_ops(&run)? {
                out.push(decode_op(v)?);
            }
        }
        Ok(out)
    }

    pub fn record(&self, regno: &str) -> Result<Option<HubRecord>, StoreError> {
        let Some(bucket) = self.buckets.get(bucket_key(regno)).map_err(backend)? else {
            return Ok(None);
        };
        bucket_entries(&bucket)?
            .into_iter()
            .find(|(r, _)| *r == regno)
            .map(|(_, st)| decode_state(st))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::fields::FieldChange;
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::{ChangeKind, Hlc, GENESIS, OP_FORMAT};
    use serde_json::json;

    fn node(m: &str, n: &str) -> PeerIdentity {
        PeerIdentity::Node {
            municipality: m.into(),
            node_id: n.into(),
        }
    }

    /// An op of chain m/n at `seq` after `prev`: a create of its own record, or, with `on`, an
    /// annotation of that op's record.
    fn op(m: &str, n: &str, seq: u64, prev: Hash, on: Option<&Op>) -> Op {
        let (record_id, change, base) = match on {
            None => (
                RegNo::mint(m, 2026, RecordKind::Birth, n, seq).to_string(),
                ChangeKind::Create,
                vec![],
            ),
            Some(o) => (
                o.record_id.clone(),
                ChangeKind::Annotate,
                vec![o.id.clone()],
            ),
        };
        Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: m.into(),
                node_id: n.into(),
                seq,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + seq,
                logical: 0,
            },
            clerk: "ana".into(),
            record_id,
            record_kind: RecordKind::Birth,
            change,
            changes: vec![FieldChange {
                path: if on.is_some() {
                    "notes.marriage"
                } else {
                    "child.surname"
                }
                .into(),
                value: json!(format!("Gashi {seq}")),
            }],
            base,
            reason: String::new(),
            prev_hash: prev,
            hash: Hash::default(),
        }
        .seal()
    }

    /// Writes the store's record states back as layout 4 (and 3) kept them: one value per record
    /// under `records`, no buckets.
    fn unbucket(store: &HubStore, batch: &mut sled::Batch) {
        for r in store.buckets.iter() {
            let (k, v) = r.unwrap();
            for (regno, st) in bucket_entries(&v).unwrap() {
                batch.insert(store.records.key(regno.as_bytes()), st);
            }
            batch.remove(store.buckets.key(&k));
        }
    }

    /// Opens a store this process just closed: sled's background threads release the file lock
    /// a moment after the last handle is dropped.
    /// The key the stores of these tests are sealed with.
    fn keys() -> civreg_shared::seal::Sealer {
        crate::atrest::keys_from_master(&[7; 32])
    }

    fn reopen(path: &Path) -> HubStore {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match HubStore::open(path, keys()) {
                Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
    }

    #[test]
    fn ops_are_stored_in_runs_and_read_back_by_id_by_chain_and_by_feed_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = HubStore::open(&path, keys()).unwrap();
        let other = op("istog", "1", 1, GENESIS, None);
        store
            .ingest(vec![(node("istog", "1"), vec![other.clone()])])
            .unwrap()[0]
            .as_ref()
            .unwrap();
        // One push of 1,100 ops: #701 annotates Istog's record, so its feed owner differs; the
        // 700 before it are more than one run holds.
        let mut ops: Vec<Op> = Vec::new();
        for seq in 1..=1100 {
            let prev = ops.last().map_or(GENESIS, |o| o.hash);
            let on = (seq == 701).then_some(&other);
            ops.push(op("prishtine", "1", seq, prev, on));
        }
        let me = node("prishtine", "1");
        let head = *store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
            .as_ref()
            .unwrap();
        assert_eq!(head.seq, 1100);
        let check = |store: &HubStore| {
            assert_eq!(store.chain_ops("prishtine", "1").unwrap(), ops);
            // Runs stay under RUN_BYTES (so out of sled's unsynced blob files), and split a
            // chain's ops at that size, not only at RUN_MAX ops.
            let runs: Vec<usize> = store
                .feed
                .iter()
                .map(|r| {
                    let (_, run) = r.unwrap();
                    assert!(run.len() <= RUN_BYTES, "a run of {} bytes", run.len());
                    run_ops(&run).unwrap().len()
                })
                .collect();
            assert!(runs.len() > 1101 / RUN_MAX + 2, "{runs:?}");
            assert_eq!(runs.iter().sum::<usize>(), 1101);
            for seq in [1, 2, 511, 512, 513, 700, 701, 702, 1099, 1100] {
                assert_eq!(
                    store.op(&ops[seq - 1].id).unwrap().as_ref(),
                    Some(&ops[seq - 1]),
                    "op #{seq}"
                );
            }
            let mut missing = ops[0].id.clone();
            missing.seq = 1101;
            assert_eq!(store.op(&missing).unwrap(), None);
            missing.node_id = "9".into();
            missing.seq = 1;
            assert_eq!(store.op(&missing).unwrap(), None);
            // Prishtinë's feed read 97 at a time from every cursor it returns: every op of its
            // records exactly once, in chain order, the cursor rising.
            let (mut got, mut cursor) = (Vec::new(), 0);
            loop {
                let (batch, next) = store.feed_after("prishtine", cursor, 97).unwrap();
                if batch.is_empty() {
                    assert_eq!(next, cursor);
                    break;
                }
                assert!(batch.len() <= 97 && next > cursor);
                cursor = next;
                got.extend(batch);
            }
            let mine: Vec<Op> = ops.iter().filter(|o| o.id.seq != 701).cloned().collect();
            assert_eq!(got, mine);
            // Istog's feed: its own create, then the annotation made in Prishtinë.
            let (ist, _) = store.feed_after("istog", 0, 10).unwrap();
            assert_eq!(ist, vec![other.clone(), ops[700].clone()]);
            // The indexer's reading: the same positions, record numbers only.
            let (ids, next) = store.feed_records_after("prishtine", 600, 150).unwrap();
            let (full, next_full) = store.feed_after("prishtine", 600, 150).unwrap();
            assert_eq!(next, next_full);
            assert_eq!(
                ids,
                full.iter().map(|o| o.record_id.clone()).collect::<Vec<_>>()
            );
            assert_eq!(ids.len(), 150);
        };
        check(&store);
        // A replay of the whole push is harmless; a different op under a held number is a fork.
        assert_eq!(
            store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
                .as_ref()
                .unwrap(),
            &head
        );
        let mut forged = op("prishtine", "1", 600, ops[598].hash, None);
        forged.changes[0].value = json!("Krasniqi");
        let forged = forged.seal();
        assert!(matches!(
            store.ingest(vec![(me, vec![forged])]).unwrap()[0],
            Err(IngestError::Fork { seq: 600, .. })
        ));
        drop(store);
        check(&reopen(&path));

        // The same database written as layout 3 did (one value per op, feed entries naming the
        // ops' keys) is upgraded at open, and reads the same.
        let store = reopen(&path);
        let mut batch = sled::Batch::default();
        for r in store.feed.iter() {
            let (fk, run) = r.unwrap();
            let last = key_number(&fk).unwrap();
            let parts = run_ops(&run).unwrap();
            let m = std::str::from_utf8(&fk[..fk.len() - 9]).unwrap();
            batch.remove(store.feed.key(&fk));
            for (i, v) in parts.iter().enumerate() {
                let o = decode_op(v).unwrap();
                let ok = op_key(&chain_key(&o.id.municipality, &o.id.node_id), o.id.seq);
                let pos = last + 1 - parts.len() as u64 + i as u64;
                batch.insert(store.feed.key(feed_key(m, pos)), ok.clone());
                batch.insert(store.ops.key(&ok), v.to_vec());
            }
        }
        unbucket(&store, &mut batch);
        batch.insert(store.meta.key("layout"), LAYOUT_3);
        store.tree().apply_batch(batch).unwrap();
        store.db.flush().unwrap();
        drop(store);
        let store = reopen(&path);
        assert_eq!(store.meta.get("layout").unwrap().unwrap().as_ref(), LAYOUT);
        check(&store);
        // Ingest goes on after the upgrade.
        let next = op("prishtine", "1", 1101, ops[1099].hash, None);
        let head = *store
            .ingest(vec![(node("prishtine", "1"), vec![next.clone()])])
            .unwrap()[0]
            .as_ref()
            .unwrap();
        assert_eq!(head.seq, 1101);
        assert_eq!(store.op(&next.id).unwrap(), Some(next));
    }

    #[test]
    fn an_op_too_big_for_sleds_log_is_synced_before_it_is_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = HubStore::open(&path, keys()).unwrap();
        let small = op("prishtine", "1", 1, GENESIS, None);
        let mut big = op("prishtine", "1", 2, small.hash, None);
        // A 300 KB note: over a quarter of sled's log segment, so sled writes it to a blob file.
        big.changes[0].value = json!("x".repeat(300_000));
        let big = big.seal();
        let me = node("prishtine", "1");
        assert_eq!(
            store
                .ingest(vec![(me, vec![small.clone(), big.clone()])])
                .unwrap()[0]
                .as_ref()
                .unwrap()
                .seq,
            2
        );
        let blobs = store.blobs.as_ref().unwrap();
        let on_disk = blobs.on_disk();
        assert!(
            !on_disk.is_empty(),
            "sled wrote no blob: the test needs a bigger op"
        );
        for name in &on_disk {
            assert!(blobs.is_synced(name), "blob {name:?} not synced");
        }
        drop(store);
        let store = reopen(&path);
        assert_eq!(store.op(&big.id).unwrap(), Some(big.clone()));
        assert_eq!(store.chain_ops("prishtine", "1").unwrap(), vec![small, big]);
    }

    #[test]
    fn record_states_are_kept_in_buckets_read_by_number_and_prefix_and_upgraded_from_layout_4() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = HubStore::open(&path, keys()).unwrap();
        // 25 creates of Prishtinë (buckets of numbers ...00-09, 10-19, 20-25), then, in a second
        // group, annotations of #9 and #10 (either side of a bucket's edge) and a new #26.
        let mut ops: Vec<Op> = Vec::new();
        for seq in 1..=25 {
            let prev = ops.last().map_or(GENESIS, |o| o.hash);
            ops.push(op("prishtine", "1", seq, prev, None));
        }
        let me = node("prishtine", "1");
        store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
            .as_ref()
            .unwrap();
        let mut more: Vec<Op> = Vec::new();
        for (seq, on) in [(26, Some(8)), (27, Some(9)), (28, None)] {
            let prev = more.last().unwrap_or(&ops[24]).hash;
            more.push(op("prishtine", "1", seq, prev, on.map(|i| &ops[i])));
        }
        // Numbers of another width in one series: bucket keys …-10000 and …-100000, whose
        // order is not the numbers' (…-100000 < …-1000000 < …-100001: the bucket …-10000 comes
        // back after …-100000).
        let wide = [100_000, 100_001, 1_000_000, 1_000_001];
        for (seq, number) in (29..).zip(wide) {
            let mut o = op("prishtine", "1", seq, more.last().unwrap().hash, None);
            o.record_id =
                RegNo::mint("prishtine", 2026, RecordKind::Birth, "1", number).to_string();
            more.push(o.seal());
        }
        store.ingest(vec![(me, more.clone())]).unwrap()[0]
            .as_ref()
            .unwrap();
        let regno =
            |seq: u64| RegNo::mint("prishtine", 2026, RecordKind::Birth, "1", seq).to_string();
        let expect = |store: &HubStore| {
            for seq in 1..=25u64 {
                let st = store.record(&regno(seq)).unwrap().expect("held");
                let amended = seq == 9 || seq == 10;
                assert_eq!(st.ops.len(), if amended { 2 } else { 1 }, "#{seq}");
                assert_eq!(st.fields["child.surname"], json!(format!("Gashi {seq}")));
                if amended {
                    assert!(st.fields["notes.marriage"].is_string(), "#{seq}");
                }
            }
            assert!(store.record(&regno(28)).unwrap().is_some());
            assert!(store.record(&regno(29)).unwrap().is_none());
            let all: Vec<String> = store
                .records_with_prefix("PRISHTINE-")
                .map(|r| r.unwrap().regno)
                .collect();
            let mut want: Vec<String> = (1..=25).chain([28]).chain(wide).map(regno).collect();
            want.sort();
            assert_eq!(all, want, "every record once, in number order");
            let d = crate::review::digest(store, "prishtine").expect("records in number order");
            assert_eq!(d.records, 30);
            // Prefixes of every length, down to a whole number.
            for p in [
                regno(1),
                regno(10)[..regno(10).len() - 1].to_string(),
                regno(25),
            ] {
                let got: Vec<String> = store
                    .records_with_prefix(&p)
                    .map(|r| r.unwrap().regno)
                    .collect();
                let want: Vec<&String> = all.iter().filter(|r| r.starts_with(&p)).collect();
                assert_eq!(got.iter().collect::<Vec<_>>(), want, "prefix {p}");
            }
        };
        // Creates in one group write one value per bucket, not one per record.
        let buckets = store.buckets.iter().count();
        assert_eq!(
            buckets, 5,
            "numbers 1-9, 10-19, 20-28, 100000-100001, 1000000-1000001"
        );
        expect(&store);
        // The same states written as layout 4 kept them (one value per record), upgraded at
        // open, read the same.
        let mut batch = sled::Batch::default();
        unbucket(&store, &mut batch);
        batch.insert(store.meta.key("layout"), LAYOUT_4);
        store.tree().apply_batch(batch).unwrap();
        store.db.flush().unwrap();
        assert_eq!(store.buckets.iter().count(), 0);
        drop(store);
        let store = reopen(&path);
        assert_eq!(store.meta.get("layout").unwrap().unwrap().as_ref(), LAYOUT);
        assert_eq!(
            store.records.iter().count(),
            0,
            "layout 4's entries are gone"
        );
        assert_eq!(store.buckets.iter().count(), 5);
        expect(&store);
    }

    /// Opens the sled database at `path` once the store that had it open lets go of its file
    /// lock (sled's flusher thread ends a moment after the drop).
    fn open_unlocked(path: &Path) -> sled::Db {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match sled::open(path) {
                Ok(db) => return db,
                Err(e) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the store's file stays locked: {e}"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }

    /// Writes the store at `path` back as layout 5 kept it: every value in clear, no key check
    /// (what 7705ca8 wrote). Then, if `interrupted`, seals every other value of each sealed
    /// keyspace and writes the key check, as an upgrade stopped half-way leaves it.
    fn back_to_layout_5(path: &Path, interrupted: bool) {
        let db = open_unlocked(path);
        let tree = db.open_tree("hub").unwrap();
        let k = keys();
        let names = [
            (&b"f/"[..], "feed"),
            (b"b/", "buckets"),
            (b"k/", "conflicts"),
            (b"x/", "aux"),
        ];
        let mut n = 0;
        for (prefix, name) in names {
            for r in tree.scan_prefix(prefix) {
                let (key, v) = r.unwrap();
                let plain = k.open(name, &key[prefix.len()..], &v).unwrap();
                n += 1;
                if !(interrupted && n % 2 == 0) {
                    tree.insert(&key, plain).unwrap();
                }
            }
        }
        if !interrupted {
            tree.remove(b"m/key_check").unwrap();
        }
        tree.insert(b"m/layout", LAYOUT_5).unwrap();
        db.flush().unwrap();
    }

    #[test]
    fn a_layout_5_store_is_sealed_at_open_resumably_and_never_with_a_wrong_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = HubStore::open(&path, keys()).unwrap();
        let mut ops: Vec<Op> = Vec::new();
        for seq in 1..=30 {
            let prev = ops.last().map_or(GENESIS, |o| o.hash);
            ops.push(op("prishtine", "1", seq, prev, None));
        }
        store
            .ingest(vec![(node("prishtine", "1"), ops.clone())])
            .unwrap()[0]
            .as_ref()
            .unwrap();
        store
            .aux_write(&[(b"t/1".to_vec(), Some(b"Drita Gashi".to_vec()))])
            .unwrap();
        let states: Vec<HubRecord> = store
            .records_with_prefix("")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(states.len(), 30);
        drop(store);
        let expect = |store: &HubStore| {
            assert_eq!(store.chain_ops("prishtine", "1").unwrap(), ops);
            assert_eq!(store.feed_after("prishtine", 0, 1000).unwrap().0, ops);
            let now: Vec<HubRecord> = store
                .records_with_prefix("")
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                serde_json::to_value(&now).unwrap(),
                serde_json::to_value(&states).unwrap()
            );
            assert_eq!(
                store.aux_get(b"t/1").unwrap().as_deref(),
                Some(&b"Drita Gashi"[..])
            );
            assert_eq!(store.meta.get("layout").unwrap().as_deref(), Some(LAYOUT));
        };
        // In clear, then sealed at open: nothing of a name is left in a value.
        let in_clear = |path: &Path| {
            let db = open_unlocked(path);
            let tree = db.open_tree("hub").unwrap();
            tree.iter()
                .filter(|r| r.as_ref().unwrap().1.windows(5).any(|w| w == b"Gashi"))
                .count()
        };
        back_to_layout_5(&path, false);
        assert!(in_clear(&path) > 0, "layout 5 holds names in clear");
        let store = reopen(&path);
        expect(&store);
        drop(store);
        assert_eq!(in_clear(&path), 0, "layout 6 holds no name in clear");
        // An upgrade stopped half-way resumes, and only with the key it began with.
        back_to_layout_5(&path, true);
        let wrong = loop {
            match HubStore::open(&path, crate::atrest::keys_from_master(&[8; 32])) {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => break other,
            }
        };
        let e = wrong.err().expect("a wrong key is refused");
        assert!(matches!(e, StoreError::WrongKey(_)), "{e}");
        assert!(e.to_string().contains("--key-file"), "{e}");
        let store = reopen(&path);
        expect(&store);
        drop(store);
        assert_eq!(in_clear(&path), 0);
        // A sealed store opened with another key is refused, and so is a value altered on disk.
        let e = loop {
            match HubStore::open(&path, crate::atrest::keys_from_master(&[8; 32])) {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => break other.err().expect("a wrong key is refused"),
            }
        };
        assert!(matches!(e, StoreError::WrongKey(_)), "{e}");
    }

    /// An op the hub refuses for good is set aside by its hash: the chain goes on past it, the
    /// op is in no record and no feed, a repeat of it is "already held", the decision survives a
    /// restart, and only the next op, with a reason and its true hash, can be set aside.
    #[test]
    fn a_refused_op_is_set_aside_by_hash_and_the_chain_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = reopen(&path);
        let who = node("istog", "1");
        let first = op("istog", "1", 1, GENESIS, None);
        // An annotation of a record nobody created: the hub will never take it.
        let ghost = op("istog", "1", 99, GENESIS, None);
        let bad = op("istog", "1", 2, first.hash, Some(&ghost));
        let third = op("istog", "1", 3, bad.hash, None);
        let ingest = |ops: Vec<Op>| store.ingest(vec![(who.clone(), ops)]).unwrap().remove(0);

        // Refused as a batch: nothing stored, and the op refused is not the next one.
        assert!(ingest(vec![first.clone(), bad.clone(), third.clone()]).is_err());
        assert_eq!(store.head("istog", "1").seq, 0);
        assert_eq!(store.refused_op("istog", "1"), None);
        let e = store
            .set_aside("istog", "1", 2, None, "x", "op:a")
            .unwrap_err();
        assert!(matches!(e, AsideError::UnknownChain { .. }), "{e}");

        // One at a time: the first goes in, the second is refused and remembered with its hash.
        assert_eq!(ingest(vec![first.clone()]).unwrap().seq, 1);
        let refusal = ingest(vec![bad.clone()]).unwrap_err();
        let seen = store.refused_op("istog", "1").expect("remembered");
        assert_eq!((seen.seq, seen.hash), (2, bad.hash));
        assert_eq!(seen.why, refusal.to_string());

        let e = store
            .set_aside("istog", "1", 3, None, "x", "op:a")
            .unwrap_err();
        assert!(matches!(e, AsideError::NotNext { held: 1, .. }), "{e}");
        let e = store
            .set_aside("istog", "1", 2, None, "  ", "op:a")
            .unwrap_err();
        assert!(matches!(e, AsideError::NoReason), "{e}");
        let e = store
            .set_aside("istog", "1", 2, Some(third.hash), "typo", "op:a")
            .unwrap_err();
        assert!(matches!(e, AsideError::WrongHash { .. }), "{e}");
        let e = store
            .set_aside("istog", "9", 1, None, "x", "op:a")
            .unwrap_err();
        assert!(matches!(e, AsideError::UnknownChain { .. }), "{e}");
        let d = store
            .set_aside(
                "istog",
                "1",
                2,
                None,
                "annotation of a record never made",
                "op:a",
            )
            .unwrap();
        assert_eq!(
            (d.seq, d.hash, d.record_id.as_deref()),
            (2, bad.hash, Some(bad.record_id.as_str()))
        );
        assert_eq!(
            store.head("istog", "1"),
            Head {
                seq: 2,
                hash: bad.hash
            }
        );
        assert_eq!(store.refused_op("istog", "1"), None);

        // The chain goes on; the op set aside is held by hash only, in no record and no feed.
        assert_eq!(ingest(vec![third.clone()]).unwrap().seq, 3);
        assert_eq!(
            ingest(vec![bad.clone(), third.clone()]).unwrap().seq,
            3,
            "a repeat is already held"
        );
        assert_eq!(store.op(&bad.id).unwrap(), None);
        assert_eq!(store.op(&third.id).unwrap(), Some(third.clone()));
        assert_eq!(
            store.chain_ops("istog", "1").unwrap(),
            vec![first.clone(), third.clone()]
        );
        assert_eq!(store.record(&bad.record_id).unwrap(), None);
        let (feed, _) = store.feed_after("istog", 0, 100).unwrap();
        assert!(feed.iter().all(|o| o.id != bad.id), "{feed:?}");
        // Another op of the same number but other content is a fork.
        let other = op("istog", "1", 2, first.hash, None);
        assert!(matches!(
            ingest(vec![other]),
            Err(IngestError::Fork { seq: 2, .. })
        ));

        // Once the office's next op is taken, the decision can not be undone.
        let e = store.undo_set_aside("istog", "1", 2, "typo").unwrap_err();
        assert!(matches!(e, AsideError::Followed { held: 3, .. }), "{e}");

        drop(store);
        let store = reopen(&path);
        assert_eq!(store.head("istog", "1").seq, 3);
        assert_eq!(store.set_aside_of("istog", "1").unwrap(), vec![d.clone()]);
        assert_eq!(store.all_set_aside().unwrap(), vec![d]);
        assert!(store.set_aside_of("istog", "10").unwrap().is_empty());

        // Set aside with a wrong hash (the hub never saw the op): the office's op after it is a
        // fork; undone, the hub expects the op again, and the true one is refused as before.
        let who2 = node("istog", "2");
        let a1 = op("istog", "2", 1, GENESIS, None);
        let a2 = op("istog", "2", 2, a1.hash, Some(&ghost));
        let a3 = op("istog", "2", 3, a2.hash, None);
        let ingest2 = |ops: Vec<Op>| store.ingest(vec![(who2.clone(), ops)]).unwrap().remove(0);
        assert_eq!(ingest2(vec![a1.clone()]).unwrap().seq, 1);
        store
            .set_aside("istog", "2", 2, Some(a3.hash), "copied wrong", "op:a")
            .unwrap();
        let r = ingest2(vec![a3.clone()]);
        assert!(matches!(r, Err(IngestError::Fork { seq: 3, .. })), "{r:?}");
        let e = store.undo_set_aside("istog", "2", 1, "x").unwrap_err();
        assert!(matches!(e, AsideError::NotSetAside { .. }), "{e}");
        store.undo_set_aside("istog", "2", 2, "wrong hash").unwrap();
        assert_eq!(
            store.head("istog", "2"),
            Head {
                seq: 1,
                hash: a1.hash
            }
        );
        assert!(store.set_aside_of("istog", "2").unwrap().is_empty());
        assert!(ingest2(vec![a2.clone()]).is_err());
        store
            .set_aside("istog", "2", 2, None, "never made", "op:a")
            .unwrap();
        assert_eq!(ingest2(vec![a3]).unwrap().seq, 3);
    }
}
