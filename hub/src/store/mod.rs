//! The hub's store: every node's chain, verified, plus a per-municipality feed for pull and the
//! current state of every record.
//!
//! Ingest is all-or-nothing per batch and durable before it is acknowledged: [`HubStore::ingest`]
//! verifies a batch of pushes against the chain heads ([`ingest`]: the write rules, no database
//! types), commits all accepted ops in one atomic batch, flushes once ([`commit`]: group commit),
//! and only then reports the new heads.
//!
//! By concern:
//! - this file: the facade ([`HubStore`]): opening, and every read;
//! - [`ingest`]: who may write what, the chain link, the base check ([`Author`], [`Prepared`]);
//! - [`commit`]: group commit, the hub's own chain, auxiliary writes;
//! - [`upgrade`]: one file per layout migration, run at open;
//! - [`aux`]: the registry of every key prefix (keyspaces, `meta` keys, modules' `aux` prefixes);
//! - [`codec`]: the binary encodings; [`seal`]: keyspaces and their sealing at rest;
//! - [`backend`]: the [`HubBackend`] seam (sled, the default; memory; PostgreSQL) — the store above it knows
//!   nothing of how a database works, the backends nothing of what the bytes mean;
//! - `aside`: ops set aside by an operator;
//! - `shared`: decisions on `aux` state by compare-and-set ([`AuxReads`],
//!   [`HubStore::aux_decide`]), for state that several hubs decide on.
//!
//! Several stores (several hub processes) may share one database. Each keeps the chain heads in
//! memory as a cache, and writes only by compare-and-set ([`HubBackend::apply_if`]) over what
//! its decisions read: the heads of the chains it extends, the feed position counter, the
//! buckets it merges into. A conflict means another store wrote first: the store reads those
//! entries again and decides again (see [`commit`]). So a chain's op n is accepted by one
//! writer only, a feed position is given once, a bucket never loses another writer's merge, and
//! feed positions become visible in increasing order (a feed reader never skips an op).
//!
//! One ordered key space, in keyspaces ([`aux`]), so that a group commit is one atomic batch:
//! - `feed` (m 0 last-pos → run): the ops themselves, in *runs*. A run is consecutive ops of one
//!   chain whose records belong to one municipality `m`, at most [`commit::RUN_MAX`] ops and
//!   [`commit::RUN_BYTES`] bytes (a run of one op may be larger), written by one
//!   commit. Every op has its own feed position (a global counter, so positions of one
//!   municipality are increasing, not contiguous); a run of `n` ops holds positions
//!   `last-pos - n + 1 ..= last-pos` and is keyed by the last, so that the first run holding
//!   anything after a cursor is the first key after it.
//! - `ops` ("m/n" 0 first-seq → feed key of the run): finds an op by id: the run whose first
//!   sequence number is the greatest at or below the op's.
//! - `buckets` (regno less its last character → the merged states of those records, in number
//!   order; see [`bucket_key`]).
//! - `chains` ("m/n" → head), `conflicts` (id → filed conflict), `meta` (feed position counter,
//!   key check), `aux` (the hub modules' own state); `records` (regno → merged state) is layout
//!   4's, read only to upgrade.
//!
//! Runs and buckets, not one value per op and per record, because sled's cost is per insert far
//! more than per byte: a group commit of 4,096 creates writes about 400 buckets and 300 runs
//! with their index entries, instead of three values per op (measured in BENCHMARKS.md, "Sync
//! (hub)"). Values stay small enough to stay out of sled's blob files ([`commit::RUN_BYTES`],
//! [`civreg_runtime::blobs::BlobFiles`]).
//!
//! Ops, record states and heads are stored in a compact binary encoding ([`codec`]); filed
//! conflicts, rare, as JSON. Layout 6 seals every value that holds personal data with the hub's
//! key ([`seal`], [`crate::atrest`]); keys stay in clear, and none is personal.

mod aside;
pub mod aux;
pub mod backend;
mod codec;
mod commit;
mod ingest;
mod seal;
mod shared;
mod upgrade;

pub(crate) use seal::{key_check_opens, key_check_value};

pub use aside::{AsideError, RefusedOp, SetAside};
pub use ingest::{authorize, check_received, Author, Prepared};
pub use shared::{AuxReads, Decided};

use seal::Space;
#[cfg(test)]
use upgrade::{LAYOUT, LAYOUT_3, LAYOUT_4, LAYOUT_5};

use backend::memory::MemoryBackend;
use backend::postgres::PostgresBackend;
use backend::sled::SledBackend;
pub use backend::{Batch, HubBackend, KeyValue};
use civreg_shared::merge::{Conflict, RecordState};
use civreg_shared::op::{Hash, Op, OpId};
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
    /// A database server that does not answer (yet): the caller may wait and try again.
    #[error("{0}")]
    Unreachable(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the key file does not open the hub database at {0}: the database was sealed with another key; pass the key file made for it (--key-file, CIVREG_HUB_KEY_FILE or key_file in the config file)")]
    WrongKey(String),
    #[error(transparent)]
    Key(#[from] crate::atrest::KeyError),
    #[error("a migration into the hub database at {0} is unfinished: run the same `civreg-hub migrate` (or `import-jsonl`) again to finish it (it resumes), or `--restart` it; until it is done no hub opens this database")]
    MigrationUnfinished(String),
    #[error("a rotation of the hub's {what} is unfinished in the hub database at {path}: run `civreg-hub {command} --resume` (with the hub stopped); until it is done the hub refuses to open its database, serve included")]
    RotationUnfinished {
        what: &'static str,
        command: &'static str,
        path: String,
    },
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
    /// The database the keyspaces below live in ([`backend`]).
    backend: Arc<dyn HubBackend>,
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
    /// Chain heads as this store last read or wrote them: a cache of the `chains` keyspace,
    /// which is the truth (another store over the same database may have moved a head since).
    /// Every write lists the cached heads it relies on as conditions ([`HubBackend::apply_if`]),
    /// so a stale entry costs a conflict and a fresh read, never a wrong decision. Every write
    /// of this store holds this lock (one writer per store).
    heads: Mutex<HashMap<String, Head>>,
    /// The op of each chain this store last noted as refused ([`aside`]; the store holds
    /// them), so that a refusal is written once; locked after `heads`.
    refused: Mutex<HashMap<String, (u64, Hash)>>,
    /// The keys the store is sealed with (backups seal their frames with them too).
    keys: Arc<civreg_shared::seal::Sealer>,
    /// Held by the duplicates queue's decisions through this store, one at a time
    /// ([`HubStore::decisions_held`]).
    decisions: Mutex<()>,
}

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

fn decode_head(v: &[u8]) -> Result<Head, StoreError> {
    let (seq, hash) =
        codec::decode_head(v).map_err(|e| StoreError::Corrupt(format!("chain head: {e}")))?;
    Ok(Head { seq, hash })
}

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

/// Why a store is opened ([`HubStore::open_checked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Normal,
    /// By the search key's rotation, while its record exists.
    RotatingSearch,
    /// By a migration checking its target, while its record exists.
    Migrating,
}

impl HubStore {
    /// Opens (or creates) the database at `path` (sled, [`SledBackend`]), sealed with `keys`
    /// (the key file's, [`crate::atrest::load_key`]); a database sealed with another key is
    /// refused.
    pub fn open(path: &Path, keys: civreg_shared::seal::Sealer) -> Result<HubStore, StoreError> {
        Self::open_backend(Arc::new(SledBackend::open(path)?), keys)
    }

    /// Opens the store a hub is configured with: sled at a path, or the PostgreSQL database of
    /// a `postgres://` URL ([`PostgresBackend`]).
    pub fn open_at(
        at: &crate::paths::StoreAt,
        keys: civreg_shared::seal::Sealer,
    ) -> Result<HubStore, StoreError> {
        match at {
            crate::paths::StoreAt::Sled(path) => Self::open(path, keys),
            crate::paths::StoreAt::Postgres(url) => {
                Self::open_backend(Arc::new(PostgresBackend::open(url)?), keys)
            }
        }
    }

    /// A store in sled's temporary mode, gone when dropped. Sealed with a key of its own.
    pub fn open_temporary() -> Result<HubStore, StoreError> {
        let master = civreg_shared::seal::new_master()
            .map_err(|_| StoreError::Key(crate::atrest::KeyError::Rng))?;
        Self::open_backend(
            Arc::new(SledBackend::temporary()?),
            crate::atrest::keys_from_master(&master),
        )
    }

    /// A store that lives in memory ([`MemoryBackend`]) and is gone when dropped: the
    /// deterministic simulation's hub.
    pub fn open_memory(keys: civreg_shared::seal::Sealer) -> Result<HubStore, StoreError> {
        Self::open_backend(Arc::new(MemoryBackend::new()), keys)
    }

    /// Opens the store over any backend: checks or upgrades its layout ([`upgrade`]), checks
    /// the key, and reads the chain heads.
    pub fn open_backend(
        backend: Arc<dyn HubBackend>,
        keys: civreg_shared::seal::Sealer,
    ) -> Result<HubStore, StoreError> {
        Self::open_checked(backend, keys, Opening::Normal)
    }

    /// [`HubStore::open_backend`] for the search key's rotation itself, which works through
    /// the store while its own rotation record exists ([`crate::rotate::search`]).
    pub(crate) fn open_rotating_search(
        backend: Arc<dyn HubBackend>,
        keys: civreg_shared::seal::Sealer,
    ) -> Result<HubStore, StoreError> {
        Self::open_checked(backend, keys, Opening::RotatingSearch)
    }

    /// [`HubStore::open_backend`] for a migration's own check of what it copied
    /// ([`crate::migrate`]), while its record in the target still keeps every hub out.
    pub(crate) fn open_migrating(
        backend: Arc<dyn HubBackend>,
        keys: civreg_shared::seal::Sealer,
    ) -> Result<HubStore, StoreError> {
        Self::open_checked(backend, keys, Opening::Migrating)
    }

    /// Opens the store; refuses while a key rotation is unfinished ([`crate::rotate`]), except
    /// the search key's when `rotating_search`: the data is then under two keys, and a write
    /// behind the rotation's cursor would stay under the old one.
    fn open_checked(
        backend: Arc<dyn HubBackend>,
        keys: civreg_shared::seal::Sealer,
        opening: Opening,
    ) -> Result<HubStore, StoreError> {
        let rotating_search = opening == Opening::RotatingSearch;
        // A database a migration is still filling holds part of a store: never served.
        if opening != Opening::Migrating
            && backend.get(&aux::META.key(aux::META_MIGRATION))?.is_some()
        {
            return Err(StoreError::MigrationUnfinished(backend.location()));
        }
        // Before the key check: once the new key check is in place, the old key no longer
        // passes it, and "wrong key" would hide what to do.
        if backend.get(&aux::META.key(aux::META_ROTATION))?.is_some() {
            return Err(StoreError::RotationUnfinished {
                what: "at-rest key",
                command: "rotate-key",
                path: backend.location(),
            });
        }
        let keys = Arc::new(keys);
        let mut store = HubStore {
            chains: Space::new(&backend, aux::CHAINS),
            ops: Space::new(&backend, aux::OPS),
            feed: Space::new(&backend, aux::FEED),
            records: Space::new(&backend, aux::RECORDS),
            buckets: Space::new(&backend, aux::BUCKETS),
            conflicts: Space::new(&backend, aux::CONFLICTS),
            meta: Space::new(&backend, aux::META),
            aux: Space::new(&backend, aux::AUX),
            backend,
            heads: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            keys: keys.clone(),
            decisions: Mutex::new(()),
        };
        store.bring_to_current(&keys)?;
        store.seal_with(&keys);
        if !rotating_search
            && store
                .aux_get(&aux::aux_key(
                    aux::KEY_ROTATION,
                    crate::rotate::search::RECORD,
                ))?
                .is_some()
        {
            return Err(StoreError::RotationUnfinished {
                what: "search key",
                command: "rotate-search-key",
                path: store.backend.location(),
            });
        }
        let mut heads = HashMap::new();
        for r in store.chains.iter() {
            let (k, v) = r?;
            heads.insert(String::from_utf8_lossy(&k).into_owned(), decode_head(&v)?);
        }
        *store.heads.lock().unwrap_or_else(|p| p.into_inner()) = heads;
        Ok(store)
    }

    /// The database's replication to its standbys, for `/metrics`
    /// ([`HubBackend::replication`]): `None` on sled, or a PostgreSQL standby.
    pub fn replication(&self) -> Option<Result<Vec<backend::postgres::Standby>, StoreError>> {
        self.backend.replication()
    }

    /// Makes everything written so far durable ([`HubBackend::flush`]).
    fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush()
    }

    /// The verified head of a node's chain (zero when the hub has nothing of it), as the
    /// database holds it now (another hub may have moved it); this store's cache if the
    /// database can not be read.
    pub fn head(&self, municipality: &str, node_id: &str) -> Head {
        let chain = chain_key(municipality, node_id);
        match self.read_head(&chain) {
            Ok(h) => h.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(chain = %chain, error = %e, "chain head not read; the cached one is used");
                self.cached_heads().get(&chain).copied().unwrap_or_default()
            }
        }
    }

    /// Every chain and its head, as the database holds them now (this store's cache if the
    /// database can not be read).
    pub fn heads(&self) -> Vec<(String, Head)> {
        let read: Result<Vec<_>, StoreError> = self
            .chains
            .iter()
            .map(|r| {
                let (k, v) = r?;
                Ok((String::from_utf8_lossy(&k).into_owned(), decode_head(&v)?))
            })
            .collect();
        let mut v = read.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "chain heads not read; the cached ones are used");
            self.cached_heads()
                .iter()
                .map(|(k, h)| (k.clone(), *h))
                .collect()
        });
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn cached_heads(&self) -> std::sync::MutexGuard<'_, HashMap<String, Head>> {
        self.heads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The head of `chain` in the database (`None`: the database holds nothing of it).
    fn read_head(&self, chain: &str) -> Result<Option<Head>, StoreError> {
        self.chains
            .get(chain.as_bytes())?
            .map(|v| decode_head(&v))
            .transpose()
    }

    /// Reads the heads of `chains` again into `heads` (the cache, whose lock the caller holds).
    fn refresh_heads<'a>(
        &self,
        heads: &mut HashMap<String, Head>,
        chains: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        for chain in chains {
            match self.read_head(chain)? {
                Some(h) => heads.insert(chain.to_string(), h),
                None => heads.remove(chain),
            };
        }
        Ok(())
    }

    /// After a conflict ([`backend::Applied::Conflict`]): reads again the heads among the keys
    /// that held something else (buckets and the feed counter are read afresh by every
    /// attempt).
    fn refresh_conflicting(
        &self,
        heads: &mut HashMap<String, Head>,
        keys: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let chains: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix(self.chains.prefix))
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.refresh_heads(heads, chains.iter().map(String::as_str))
    }

    /// The condition that `chain`'s head is still `heads`' (the cache's) when a write of it
    /// applies.
    fn head_condition(&self, heads: &HashMap<String, Head>, chain: &str) -> backend::Expected {
        (
            self.chains.key(chain.as_bytes()),
            heads
                .get(chain)
                .map(|h| codec::encode_head(h.seq, &h.hash).to_vec()),
        )
    }

    /// The keys the store is sealed with.
    pub fn sealer(&self) -> &civreg_shared::seal::Sealer {
        &self.keys
    }

    /// Runs `f` over every raw entry of the store (keys with their keyspace, values as stored,
    /// sealed) while no write of this store can happen (every write holds the heads' lock), with
    /// the chain heads of that moment: a consistent snapshot for `civreg-hub backup` when this
    /// store is the database's only writer (the embedded sled hub). Ingest waits meanwhile.
    pub fn with_writes_held<T>(
        &self,
        f: impl FnOnce(&mut dyn Iterator<Item = Result<KeyValue, StoreError>>, Vec<(String, Head)>) -> T,
    ) -> T {
        let heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: Vec<(String, Head)> = heads.iter().map(|(k, h)| (k.clone(), *h)).collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut it = self.backend.scan(b"", None);
        let out = f(&mut it, list);
        drop(heads);
        out
    }

    /// Holds the duplicates queue's decisions through this store to one at a time (see
    /// [`crate::linkage::duplicates`]; other stores are kept apart by compare-and-set).
    pub fn decisions_held(&self) -> std::sync::MutexGuard<'_, ()> {
        self.decisions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Auxiliary state kept beside the log by the hub's own modules (person identifiers, the
    /// duplicates queue, import keys), under keys the module chooses (its own prefix first).
    pub fn aux_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.aux.get(key)
    }

    /// Every auxiliary entry whose key starts with `prefix`, in key order.
    pub fn aux_scan<'a>(
        &'a self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        self.aux.scan_prefix(prefix)
    }

    /// Every auxiliary entry whose key starts with `prefix` and sorts after `after`, in key
    /// order (a resumable walk: [`crate::rotate::search`]).
    pub fn aux_scan_after<'a>(
        &'a self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        self.aux.scan_after(prefix, after)
    }

    /// Applies auxiliary writes (a `None` value removes the key) atomically, and flushes.
    /// Serialised with ingest and the hub's own ops.
    pub fn aux_write(&self, aux: &[AuxWrite]) -> Result<(), StoreError> {
        let _heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        self.aux_commit(aux)
    }

    /// A filed conflict, by id.
    pub fn conflict(&self, id: &str) -> Result<Option<FiledConflict>, StoreError> {
        self.conflicts
            .get(id.as_bytes())?
            .map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Every filed conflict, by id.
    pub fn conflicts(&self) -> impl Iterator<Item = Result<FiledConflict, StoreError>> + '_ {
        self.conflicts.iter().map(|r| {
            let (_, v) = r?;
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
                Some(Err(e)) => ready.push_back(Err(e)),
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
    fn find_run(&self, chain: &str, seq: u64) -> Result<Option<(Vec<u8>, usize)>, StoreError> {
        let Some((k, feed)) = self.ops.last_in(&op_key(chain, 0), &op_key(chain, seq))? else {
            return Ok(None);
        };
        let first = key_number(&k)?;
        let run = self
            .feed
            .get(&feed)?
            .ok_or_else(|| StoreError::Corrupt(format!("chain {chain} names a missing run")))?;
        Ok(Some((run, (seq - first) as usize)))
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
            let (k, run) = r?;
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
        let key = format!("{}{municipality}/{node_id}", aux::LOG_SEQ);
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
        let key = format!("{}{municipality}/{node_id}", aux::LOG_SEQ).into_bytes();
        self.aux_write(&[(key, Some(v))])
    }

    /// Every op of one node's chain, in order.
    pub fn chain_ops(&self, municipality: &str, node_id: &str) -> Result<Vec<Op>, StoreError> {
        let mut prefix = chain_key(municipality, node_id).into_bytes();
        prefix.push(0);
        let mut out = Vec::new();
        for r in self.ops.scan_prefix(&prefix) {
            let (_, feed) = r?;
            let run = self.feed.get(&feed)?.ok_or_else(|| {
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

    /// The current states of `regnos` (in their order; `None`: not held), their buckets read
    /// together ([`HubBackend::get_many`]: one statement on PostgreSQL, where
    /// [`record`](Self::record) per number is one round trip each). A bucket shared by
    /// several numbers is read once.
    pub fn records_many<S: AsRef<str>>(
        &self,
        regnos: &[S],
    ) -> Result<Vec<Option<HubRecord>>, StoreError> {
        let mut keys: Vec<&str> = regnos.iter().map(|r| bucket_key(r.as_ref())).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut read = Vec::new();
        let buckets = self.buckets.get_many_noting(&keys, &mut read)?;
        let by_key: std::collections::HashMap<&str, &Vec<u8>> = keys
            .iter()
            .zip(buckets.iter())
            .filter_map(|(k, b)| b.as_ref().map(|b| (*k, b)))
            .collect();
        regnos
            .iter()
            .map(|regno| {
                let regno = regno.as_ref();
                let Some(bucket) = by_key.get(bucket_key(regno)) else {
                    return Ok(None);
                };
                bucket_entries(bucket)?
                    .into_iter()
                    .find(|(r, _)| *r == regno)
                    .map(|(_, st)| decode_state(st))
                    .transpose()
            })
            .collect()
    }

    pub fn record(&self, regno: &str) -> Result<Option<HubRecord>, StoreError> {
        let Some(bucket) = self.buckets.get(bucket_key(regno))? else {
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
mod tests;
#[cfg(test)]
pub(crate) mod tests_concurrent;
