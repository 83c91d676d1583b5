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

    /// The writes in the order they were made: a key and its new value (`None`: removed).
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.writes
    }
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
/// Every method may be called from several threads at once. The store serialises its own
/// writes (every write holds its heads' lock), so a backend needs no write ordering of its own
/// beyond each batch's atomicity.
pub trait HubBackend: Send + Sync {
    /// The value under `key`, as last applied.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The entries whose keys are at or after `from` and before `to` (`None`: to the end), in
    /// ascending key order, read lazily. Not a snapshot: an entry applied during the scan may
    /// or may not be seen, but each entry seen is as some batch left it (never half of a
    /// batch's value), and no entry that existed throughout the scan is skipped.
    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_>;

    /// The entry with the greatest key at or after `from` and at or before `to` (inclusive),
    /// if any (finding the run that holds an op: the last index entry at or before it).
    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError>;

    /// Applies every write of `batch` or none of them, visible to readers all at once. Not
    /// durable until [`flush`](Self::flush) returns.
    fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Makes everything applied before the call durable (on disk, or wherever the backend
    /// promises): the store acknowledges nothing before this returns.
    fn flush(&self) -> Result<(), StoreError>;

    /// The layout mark: what layout of the store's keys and values the database holds
    /// (`None`: a new, empty database).
    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets the layout mark, durably, once everything applied before it is durable: the last
    /// step of creating or upgrading a database.
    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError>;

    /// Where the database is, for messages (a path, or "(in memory)").
    fn location(&self) -> String;
}
