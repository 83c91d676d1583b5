//! The storage facade: the few operations the node needs, behind a trait, so that a second
//! backend can come without touching the node's logic.
//!
//! Invariants every backend keeps:
//! - [`Store::commit`] applies a whole [`Batch`] atomically, across trees, or none of it;
//! - [`Store::flush`] returns only once everything committed before it is durable on disk;
//! - keys iterate in byte order.
//!
//! Two backends exist: [`SledStore`] (production, on disk) and [`MemStore`] (tests). The same
//! suite at the bottom of this file runs against both.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// The named trees (tables) of a node database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    /// Node identity, counters, chain head, key check. Small and mostly plain.
    Meta,
    /// The node's op log: big-endian seq → sealed op.
    Ops,
    /// Current state of every record: registration number → sealed state.
    Records,
    /// Registration-number sequences: "YEAR-KIND" → big-endian u64.
    RegSeq,
    /// Clerks: name → argon2 hash.
    Clerks,
    /// Imported register entries: blind token of the register reference → registration number.
    Imports,
    /// Ops of other nodes received from the hub: "municipality/node" 0 big-endian seq → sealed op.
    Remote,
    /// The access log: big-endian ms and a counter → sealed entry (who searched or viewed what).
    Access,
    /// Citizens' certificates issued here: serial → sealed issue record (issue 15).
    Certs,
    /// Clerk-app forms already saved (issue 14), so that a form posted again, even after a
    /// restart, registers once: `f` + form id → big-endian ms and the registration number, and
    /// `a` + big-endian ms + form id → empty (their age order, to forget them after a week).
    /// Form ids are random and name no one; registration numbers are plain in `imports` too.
    Forms,
    /// A clerk's requests to un-void a record (issue 17): registration number → sealed request
    /// and the hub's answer once heard; one per record (a new request after an answer replaces
    /// it), so the tree is bounded by the records.
    Unvoid,
}

impl Tree {
    pub const ALL: [Tree; 11] = [
        Tree::Meta,
        Tree::Ops,
        Tree::Records,
        Tree::RegSeq,
        Tree::Clerks,
        Tree::Imports,
        Tree::Remote,
        Tree::Access,
        Tree::Certs,
        Tree::Forms,
        Tree::Unvoid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Ops => "ops",
            Tree::Records => "records",
            Tree::RegSeq => "regseq",
            Tree::Clerks => "clerks",
            Tree::Imports => "imports",
            Tree::Remote => "remote",
            Tree::Access => "access",
            Tree::Certs => "certs",
            Tree::Forms => "forms",
            Tree::Unvoid => "unvoid",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {path} is in use by another civreg-node process (is `civreg-node serve` running?); stop it or wait for it to finish")]
    Locked { path: String },
    #[error("database error: {0}")]
    Backend(String),
}

/// Writes to apply atomically. `None` deletes.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub writes: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.push((tree, key.into(), Some(value.into())));
    }

    pub fn delete(&mut self, tree: Tree, key: impl Into<Vec<u8>>) {
        self.writes.push((tree, key.into(), None));
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// One key and its value.
pub type Kv = (Vec<u8>, Vec<u8>);
type MemTrees = BTreeMap<(Tree, Vec<u8>), Vec<u8>>;

pub type KvIter<'a> = Box<dyn Iterator<Item = Result<Kv, StoreError>> + 'a>;

pub trait Store: Send + Sync {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// All entries of a tree in key order.
    fn scan(&self, tree: Tree) -> KvIter<'_>;
    /// The entries of a tree whose key is greater than `after` (all of them for `None`), in
    /// key order: a cursor for work done in batches (key rotation).
    fn scan_after(&self, tree: Tree, after: Option<&[u8]>) -> KvIter<'_>;
    /// The entry with the greatest key.
    fn last(&self, tree: Tree) -> Result<Option<Kv>, StoreError>;
    fn len(&self, tree: Tree) -> Result<usize, StoreError>;
    /// Applies the batch atomically (not yet durable: see [`Store::flush`]).
    fn commit(&self, batch: Batch) -> Result<(), StoreError>;
    /// Makes everything committed so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// sled page cache size for a node database.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The production backend: one sled database.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    /// sled never fsyncs the files it writes values or pages of over 128 KiB to (a long
    /// record's history, one very large op): `flush` does.
    blobs: civreg_runtime::blobs::BlobFiles,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SledStore {
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new()
            .path(path)
            // Durability comes from explicit flushes before every acknowledgement, not from the
            // background flusher; keep it as a safety net only.
            .flush_every_ms(Some(1000))
            // sled's default page cache is 1 GiB and grows with the database; an office PC
            // should not give a register that much memory.
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                    StoreError::Locked {
                        path: path.display().to_string(),
                    }
                }
                sled::Error::Io(ref io) if io.to_string().contains("lock") => StoreError::Locked {
                    path: path.display().to_string(),
                },
                other => backend(other),
            })?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        let blobs = civreg_runtime::blobs::BlobFiles::new(path);
        // What an earlier run left unsynced, before anything new is acknowledged.
        blobs.sync().map_err(backend)?;
        Ok(SledStore { db, trees, blobs })
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t.index()]
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn scan(&self, tree: Tree) -> KvIter<'_> {
        Box::new(
            self.tree(tree)
                .iter()
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(backend)),
        )
    }

    fn scan_after(&self, tree: Tree, after: Option<&[u8]>) -> KvIter<'_> {
        use std::ops::Bound;
        let lower = match after {
            Some(k) => Bound::Excluded(k.to_vec()),
            None => Bound::Unbounded,
        };
        Box::new(
            self.tree(tree)
                .range::<Vec<u8>, _>((lower, Bound::Unbounded))
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(backend)),
        )
    }

    fn last(&self, tree: Tree) -> Result<Option<Kv>, StoreError> {
        Ok(self
            .tree(tree)
            .last()
            .map_err(backend)?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        Ok(self.tree(tree).len())
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
        if batch.is_empty() {
            return Ok(());
        }
        let trees: &[sled::Tree] = &self.trees;
        trees
            .transaction(|tx| {
                for (t, k, v) in &batch.writes {
                    let tt = &tx[t.index()];
                    match v {
                        Some(v) => {
                            tt.insert(k.as_slice(), v.as_slice())?;
                        }
                        None => {
                            tt.remove(k.as_slice())?;
                        }
                    }
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => backend(e),
                TransactionError::Abort(()) => StoreError::Backend("transaction aborted".into()),
            })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(backend)?;
        self.blobs.sync().map_err(backend)?;
        Ok(())
    }
}

/// A shared store (tests reopen a node on the same in-memory store to simulate a restart).
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(tree, key)
    }
    fn scan(&self, tree: Tree) -> KvIter<'_> {
        (**self).scan(tree)
    }
    fn scan_after(&self, tree: Tree, after: Option<&[u8]>) -> KvIter<'_> {
        (**self).scan_after(tree, after)
    }
    fn last(&self, tree: Tree) -> Result<Option<Kv>, StoreError> {
        (**self).last(tree)
    }
    fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        (**self).len(tree)
    }
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        (**self).flush()
    }
}

/// An in-memory backend for tests. `flush` is a no-op; nothing survives the process.
#[derive(Default)]
pub struct MemStore {
    trees: Mutex<MemTrees>,
}

impl MemStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemTrees> {
        self.trees.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(&(tree, key.to_vec())).cloned())
    }

    fn scan(&self, tree: Tree) -> KvIter<'_> {
        let items: Vec<_> = self
            .lock()
            .range((tree, Vec::new())..)
            .take_while(|((t, _), _)| *t == tree)
            .map(|((_, k), v)| Ok((k.clone(), v.clone())))
            .collect();
        Box::new(items.into_iter())
    }

    fn scan_after(&self, tree: Tree, after: Option<&[u8]>) -> KvIter<'_> {
        use std::ops::Bound;
        let lower = match after {
            Some(k) => Bound::Excluded((tree, k.to_vec())),
            None => Bound::Included((tree, Vec::new())),
        };
        let items: Vec<_> = self
            .lock()
            .range((lower, Bound::Unbounded))
            .take_while(|((t, _), _)| *t == tree)
            .map(|((_, k), v)| Ok((k.clone(), v.clone())))
            .collect();
        Box::new(items.into_iter())
    }

    fn last(&self, tree: Tree) -> Result<Option<Kv>, StoreError> {
        Ok(self
            .lock()
            .range((tree, Vec::new())..)
            .take_while(|((t, _), _)| *t == tree)
            .last()
            .map(|((_, k), v)| (k.clone(), v.clone())))
    }

    fn len(&self, tree: Tree) -> Result<usize, StoreError> {
        Ok(self.lock().keys().filter(|(t, _)| *t == tree).count())
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        let mut m = self.lock();
        for (t, k, v) in batch.writes {
            match v {
                Some(v) => {
                    m.insert((t, k), v);
                }
                None => {
                    m.remove(&(t, k));
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(s: &dyn Store) {
        assert_eq!(s.get(Tree::Ops, b"a").unwrap(), None);
        assert_eq!(s.last(Tree::Ops).unwrap(), None);
        let mut b = Batch::default();
        b.put(Tree::Ops, b"b".to_vec(), b"2".to_vec());
        b.put(Tree::Ops, b"a".to_vec(), b"1".to_vec());
        b.put(Tree::Records, b"z".to_vec(), b"r".to_vec());
        s.commit(b).unwrap();
        s.flush().unwrap();
        assert_eq!(s.get(Tree::Ops, b"a").unwrap(), Some(b"1".to_vec()));
        let keys: Vec<_> = s.scan(Tree::Ops).map(|r| r.unwrap().0).collect();
        assert_eq!(
            keys,
            vec![b"a".to_vec(), b"b".to_vec()],
            "byte order, one tree only"
        );
        assert_eq!(s.last(Tree::Ops).unwrap().unwrap().0, b"b".to_vec());
        let after: Vec<_> = s
            .scan_after(Tree::Ops, Some(b"a"))
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(after, vec![b"b".to_vec()], "strictly after the cursor");
        assert_eq!(s.scan_after(Tree::Ops, None).count(), 2);
        assert_eq!(s.scan_after(Tree::Ops, Some(b"b")).count(), 0);
        assert_eq!(s.len(Tree::Ops).unwrap(), 2);
        assert_eq!(s.len(Tree::Records).unwrap(), 1);
        let mut b = Batch::default();
        b.delete(Tree::Ops, b"a".to_vec());
        s.commit(b).unwrap();
        assert_eq!(s.get(Tree::Ops, b"a").unwrap(), None);
        assert_eq!(s.len(Tree::Meta).unwrap(), 0);
    }

    #[test]
    fn mem_store_suite() {
        suite(&MemStore::default());
    }

    #[test]
    fn sled_store_suite() {
        let d = tempfile::tempdir().unwrap();
        suite(&SledStore::open(&d.path().join("db")).unwrap());
    }

    #[test]
    fn a_value_too_big_for_sleds_log_is_synced_by_flush() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("db");
        let s = SledStore::open(&path).unwrap();
        let big = vec![7u8; 300_000];
        let mut b = Batch::default();
        b.put(Tree::Records, b"long".to_vec(), big.clone());
        s.commit(b).unwrap();
        s.flush().unwrap();
        let on_disk = s.blobs.on_disk();
        assert!(
            !on_disk.is_empty(),
            "sled wrote no blob: the test needs a bigger value"
        );
        for name in &on_disk {
            assert!(s.blobs.is_synced(name), "blob {name:?} not synced");
        }
        drop(s);
        let mut again = None;
        for _ in 0..100 {
            match SledStore::open(&path) {
                Ok(s) => {
                    again = Some(s);
                    break;
                }
                // sled's threads release the lock a moment after the last handle is dropped.
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("{e}"),
            }
        }
        let s = again.expect("reopened");
        assert_eq!(s.get(Tree::Records, b"long").unwrap(), Some(big));
    }

    #[test]
    fn sled_store_is_exclusive() {
        let d = tempfile::tempdir().unwrap();
        let _a = SledStore::open(&d.path().join("db")).unwrap();
        // A second handle in the same process is refused by sled's file lock, as a second
        // process would be.
        match SledStore::open(&d.path().join("db")) {
            Err(StoreError::Locked { .. }) => {}
            Err(e) => panic!("expected Locked, got {e}"),
            Ok(_) => panic!("second open should be refused"),
        }
    }
}
