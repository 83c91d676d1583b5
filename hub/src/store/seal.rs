//! The store's keyspaces, and their sealing at rest (layout 6).
//!
//! Every value that holds personal data is sealed with the hub's key ([`civreg_shared::seal`],
//! the node's implementation): `feed` (runs of ops), `buckets` (record states), `conflicts`
//! (field values) and `aux` (duplicates cases, person links, import keys). Each is bound to its
//! keyspace's name and its key, so a value moved elsewhere fails to open. Keys stay in clear:
//! none is personal (registration numbers, `municipality/node` chains, feed positions, conflict
//! ids, random person ids, register references, and the import keys of records without one,
//! which are already blind tokens). `chains` (heads: numbers and hashes), `ops` (feed keys) and
//! `meta` (layout, feed position, key check) hold nothing personal and stay in clear.
//!
//! A sealed key check in `meta` tells a wrong key at open from damage: a database is never
//! read, nor upgraded, with a key it was not sealed with.

use super::{backend, HubStore, KeyValue, StoreError, LAYOUT};
use civreg_shared::seal::Sealer;
use std::path::Path;
use std::sync::Arc;

/// The key check: this text sealed under `meta`/`key_check`.
const KEY_CHECK: &[u8] = b"civreg-hub key check v1";

/// One keyspace of the hub's single sled tree. Everything lives in one tree so that a group
/// commit is one `apply_batch`: atomic, and far cheaper than a transaction over several trees.
#[derive(Clone)]
pub(super) struct Space {
    pub(super) tree: sled::Tree,
    pub(super) prefix: &'static [u8],
    /// What sealed values are bound to, with their key.
    name: &'static str,
    /// The key values are sealed with; `None`: in clear (a keyspace that holds nothing
    /// personal, or any keyspace while an older layout is upgraded).
    seal: Option<Arc<Sealer>>,
}

impl Space {
    pub(super) fn new(tree: &sled::Tree, prefix: &'static [u8], name: &'static str) -> Space {
        Space {
            tree: tree.clone(),
            prefix,
            name,
            seal: None,
        }
    }

    pub(super) fn key(&self, k: impl AsRef<[u8]>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + k.as_ref().len());
        out.extend_from_slice(self.prefix);
        out.extend_from_slice(k.as_ref());
        out
    }

    /// The value as stored, opened if this keyspace is sealed.
    fn unseal(&self, k: &[u8], v: sled::IVec) -> Result<sled::IVec, StoreError> {
        match &self.seal {
            None => Ok(v),
            Some(s) => s.open(self.name, k, &v).map(sled::IVec::from).map_err(|_| {
                StoreError::Corrupt(format!(
                    "a value under {} ({:?}) could not be decrypted: it was altered on disk",
                    self.name,
                    String::from_utf8_lossy(k)
                ))
            }),
        }
    }

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<sled::IVec>, StoreError> {
        let k = k.as_ref();
        match self.tree.get(self.key(k)).map_err(backend)? {
            None => Ok(None),
            Some(v) => self.unseal(k, v).map(Some),
        }
    }

    fn strip(&self, r: sled::Result<(sled::IVec, sled::IVec)>) -> Result<KeyValue, StoreError> {
        let (k, v) = r.map_err(backend)?;
        let k = k[self.prefix.len()..].to_vec();
        let v = self.unseal(&k, v)?;
        Ok((k, v))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Result<KeyValue, StoreError>> + '_ {
        self.scan_prefix(b"")
    }

    pub(super) fn scan_prefix<'a>(
        &'a self,
        p: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        self.tree.scan_prefix(self.key(p)).map(|r| self.strip(r))
    }

    pub(super) fn range<'a>(
        &'a self,
        from: &[u8],
        to: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<KeyValue, StoreError>> + 'a {
        self.tree
            .range(self.key(from)..=self.key(to))
            .map(|r| self.strip(r))
    }

    /// Puts `v` under `k` in `batch`, sealed if this keyspace is.
    pub(super) fn put(
        &self,
        batch: &mut sled::Batch,
        k: impl AsRef<[u8]>,
        v: impl Into<sled::IVec>,
    ) {
        let k = k.as_ref();
        let v: sled::IVec = v.into();
        match &self.seal {
            None => batch.insert(self.key(k), v),
            Some(s) => batch.insert(self.key(k), s.seal(self.name, k, &v)),
        }
    }
}

impl HubStore {
    /// The keyspaces whose values are sealed (see the module documentation).
    fn sealed_spaces(&mut self) -> [&mut Space; 4] {
        [
            &mut self.feed,
            &mut self.buckets,
            &mut self.conflicts,
            &mut self.aux,
        ]
    }

    /// From now on, values of the sealed keyspaces are sealed and opened with `keys`.
    pub(super) fn seal_with(&mut self, keys: &Arc<Sealer>) {
        for s in self.sealed_spaces() {
            s.seal = Some(keys.clone());
        }
    }

    /// Checks `keys` against the key check; writes the check (durably) when there is none yet
    /// and `may_write` (a new database, or one being upgraded to layout 6).
    pub(super) fn check_key(
        &self,
        keys: &Sealer,
        path: &Path,
        may_write: bool,
    ) -> Result<(), StoreError> {
        let k = self.meta.key("key_check");
        match self.tree().get(&k).map_err(backend)? {
            Some(v) => match keys.open(self.meta.name, b"key_check", &v) {
                Ok(p) if p == KEY_CHECK => Ok(()),
                _ => Err(StoreError::WrongKey(path.display().to_string())),
            },
            None if may_write => {
                self.tree()
                    .insert(k, keys.seal(self.meta.name, b"key_check", KEY_CHECK))
                    .map_err(backend)?;
                self.flush()
            }
            None => Err(StoreError::Corrupt(format!(
                "{} is a sealed hub database (layout 6) without its key check: restore it from a backup",
                path.display()
            ))),
        }
    }

    /// Rewrites a layout-5 database (every value in clear) to layout 6: the values of the sealed
    /// keyspaces are sealed with `keys` in place. The key check is written first, so an
    /// interrupted upgrade resumes only with the same key; then batches of 10,000 values, each
    /// atomic; a value that already opens with the key was sealed by an interrupted run and is
    /// skipped (a value in clear never opens: the tag fails). The layout mark changes last,
    /// after a flush.
    pub(super) fn upgrade_from_5(
        &mut self,
        keys: &Arc<Sealer>,
        path: &Path,
    ) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 5 to layout 6 (sealed at rest)");
        self.check_key(keys, path, true)?;
        let mut done = 0u64;
        let spaces: Vec<Space> = self.sealed_spaces().map(|s| s.clone()).to_vec();
        for plain in spaces {
            let sealed = Space {
                seal: Some(keys.clone()),
                ..plain.clone()
            };
            let mut batch = sled::Batch::default();
            let mut pending = 0usize;
            for r in plain.iter() {
                let (k, v) = r?;
                if keys.open(plain.name, &k, &v).is_ok() {
                    continue;
                }
                sealed.put(&mut batch, &k, v);
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
        }
        self.mark_layout(LAYOUT)?;
        tracing::info!(values = done, "hub database upgraded to layout 6");
        Ok(())
    }
}
