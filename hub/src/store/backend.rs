//! The storage seam: what the hub's store needs of a database, and nothing of how one works.
//!
//! The store ([`super::HubStore`]) keeps everything in one ordered space of byte keys, in
//! keyspaces by prefix ([`super::aux`]), and writes it only in atomic batches: a group commit
//! is one [`HubBackend::apply`] then one [`HubBackend::flush`]. The rules (authorize, chain
//! link, base check, merge) and the byte layout stay above this trait; a backend only keeps
//! bytes. Backends:
//! - [`sled::SledBackend`]: the default, embedded; its on-disk layout is the one every
//!   civreg-hub before this seam wrote (one sled tree `"hub"`).
//! - [`memory::MemoryBackend`]: a map under a lock, gone when dropped (the deterministic
//!   simulation, and the store's test suite).
//! - [`postgres::PostgresBackend`]: one table of a PostgreSQL database (`--store postgres://…`).
//!
//! The guarantees are written for a backend that is a server, too (a PostgreSQL one: an atomic
//! batch is one transaction): a scan is not a snapshot, and only `flush` promises durability.
//!
//! Several writers may share one database (several hub processes over one PostgreSQL, or two
//! stores over one memory backend in the tests). They never lock each other out for long: each
//! writes with [`HubBackend::apply_if`], a compare-and-set over the keys its decisions read, and
//! on a conflict reads those keys again and decides again (see [`super::commit`]).

pub mod memory;
pub mod postgres;
pub mod sled;

use super::StoreError;

/// A key and its value, as stored.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// Entries in ascending key order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<KeyValue, StoreError>> + 'a>;

/// Writes applied together or not at all ([`HubBackend::apply`]). Later writes of the same key
/// win.
#[derive(Debug, Default)]
pub struct Batch {
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push((key, Some(value)));
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.push((key, None));
    }

    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Drops every write after the first `len` (a writer that redoes the end of its batch).
    pub fn truncate(&mut self, len: usize) {
        self.writes.truncate(len);
    }

    /// The writes in the order they were made (see [`into_writes`](Self::into_writes)).
    pub fn writes(&self) -> &[(Vec<u8>, Option<Vec<u8>>)] {
        &self.writes
    }

    /// The writes in the order they were made: a key and its new value (`None`: removed).
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.writes
    }
}

/// A condition of [`HubBackend::apply_if`]: a key and the value the writer read under it
/// (`None`: the key was absent), byte for byte as stored.
pub type Expected = (Vec<u8>, Option<Vec<u8>>);

/// What a conditional write did ([`HubBackend::apply_if`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Every condition held, and the batch is applied.
    Done,
    /// These keys of the conditions (at least one) held something else: nothing was applied.
    /// The writer reads them again and decides again.
    Conflict(Vec<Vec<u8>>),
}

/// The smallest key after every key that starts with `prefix` (`None`: no such key, the prefix
/// is all `0xff`): a prefix scan is the range `prefix..prefix_end(prefix)`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// What the hub's store needs of a database (see the module documentation).
///
/// Every method may be called from several threads at once, and by several stores (several
/// processes) over one database. A store serialises its own writes (every write holds its
/// heads' lock); writers of several stores are kept apart by [`apply_if`](Self::apply_if)
/// alone: everything the store writes that another writer may have read (chain heads, the feed
/// position counter, buckets of record states, the key check) it writes with `apply_if`.
pub trait HubBackend: Send + Sync {
    /// The value under `key`, as last applied.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The values under `keys`, in their order, as [`get`](Self::get) gives each (not a
    /// snapshot: each value is as some batch left it). A server backend reads them in one
    /// statement: a group commit reads every bucket it merges into at once, not one round trip
    /// each. The default reads them one by one (an embedded engine, where a read is no trip).
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    /// The entries whose keys are at or after `from` and before `to` (`None`: to the end), in
    /// ascending key order, read lazily. Not a snapshot: an entry applied during the scan may
    /// or may not be seen, but each entry seen is as some batch left it (never half of a
    /// batch's value), and no entry that existed throughout the scan is skipped.
    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_>;

    /// The entry with the greatest key at or after `from` and at or before `to` (inclusive),
    /// if any (finding the run that holds an op: the last index entry at or before it).
    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError>;

    /// Applies every write of `batch` or none of them, visible to readers all at once. Not
    /// durable until [`flush`](Self::flush) returns. Unconditional: for keys no other writer
    /// decides on (see [`apply_if`](Self::apply_if)).
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Applies `batch` as [`apply`](Self::apply) does, but only if every key of `expected`
    /// still holds the value given with it (compare-and-set over several keys, like an etcd
    /// transaction); otherwise applies nothing and names the keys that differ.
    ///
    /// The guarantee, across every store and process writing the database: the batches applied
    /// (by `apply_if` and by [`apply`](Self::apply)) are applied one after another in a single
    /// order, each visible to readers all at once, never before a batch ordered before it; an
    /// `apply_if` is applied at a point of that order where each expected key holds its
    /// expected value. So two writers that read the same value of a key and both list it can
    /// not both succeed. A batch that is applied is visible to `get` and `scan` of every store
    /// once this returns (but durable only after [`flush`](Self::flush)).
    ///
    /// How a backend does it:
    /// - memory: compare and apply under the map's write lock;
    /// - sled (one process; the database's file lock keeps out others): compare and apply under
    ///   a writer mutex that [`apply`](Self::apply) takes too, so no write slips in between;
    /// - PostgreSQL: one `READ COMMITTED` transaction that first takes one advisory
    ///   transaction lock (`pg_advisory_xact_lock`, the same for every conditional write: no
    ///   deadlock between writers), then reads the expected keys
    ///   (`SELECT k, v FROM kv WHERE k = ANY($1)`), compares, writes the batch and commits; the
    ///   lock goes with the commit, after it is visible, so the next writer reads what this one
    ///   wrote. An advisory lock rather than `SELECT … FOR UPDATE`, because an expected key may
    ///   be absent (no row to lock). `apply` takes no lock: the store never
    ///   writes a listed key with it. The feed position counter is listed by every group commit
    ///   that adds ops, so those run one at a time, and their feed positions become visible in
    ///   increasing order (the store's "feed readers never skip an op").
    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError>;

    /// Makes everything applied before the call durable (on disk, or wherever the backend
    /// promises): the store acknowledges nothing before this returns.
    fn flush(&self) -> Result<(), StoreError>;

    /// The layout mark: what layout of the store's keys and values the database holds
    /// (`None`: a new, empty database).
    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets the layout mark, durably, once everything applied before it is durable: the last
    /// step of creating or upgrading a database.
    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError>;

    /// Runs `f` while no other store over this database (another hub process, or another
    /// store of this one) runs its own `with_layout_lock`: a layout upgrade at open, which
    /// another hub opening the same database meanwhile waits for, and then finds done. Writes
    /// are not held off (the store's ordinary writes do not take it).
    ///
    /// - memory, sled: a mutex of the backend (sled's file lock keeps other processes out);
    /// - PostgreSQL: a session advisory lock (`pg_advisory_lock`) on a connection of its own,
    ///   released when `f` returns, or by the server when that connection ends (a hub killed
    ///   mid-upgrade does not hold it).
    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Where the database is, for messages (a path, or "(in memory)").
    fn location(&self) -> String;

    /// The database's replication to its standbys, for `/metrics`: `None` for a backend
    /// without any (sled, memory) or a PostgreSQL server that is itself a standby.
    fn replication(&self) -> Option<Result<Vec<postgres::Standby>, StoreError>> {
        None
    }
}
