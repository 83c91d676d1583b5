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

use super::backend::{prefix_end, Batch, HubBackend, KeyValue};
use super::{aux, HubStore, StoreError};
use civreg_shared::seal::Sealer;
use std::sync::Arc;

/// The key check: this text sealed under `meta`/`key_check`.
const KEY_CHECK: &[u8] = b"civreg-hub key check v1";

/// One keyspace of the store's single key space ([`super::aux`]): its prefix, and its sealing.
/// Everything lives in one key space so that a group commit is one atomic batch.
#[derive(Clone)]
pub(super) struct Space {
    pub(super) backend: Arc<dyn HubBackend>,
    pub(super) prefix: &'static [u8],
    /// What sealed values are bound to, with their key.
    pub(super) name: &'static str,
    /// The key values are sealed with; `None`: in clear (a keyspace that holds nothing
    /// personal, or any keyspace while an older layout is upgraded).
    seal: Option<Arc<Sealer>>,
}

impl Space {
    pub(super) fn new(backend: &Arc<dyn HubBackend>, space: aux::Keyspace) -> Space {
        Space {
            backend: backend.clone(),
            prefix: space.prefix,
            name: space.name,
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
    fn unseal(&self, k: &[u8], v: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        match &self.seal {
            None => Ok(v),
            Some(s) => s.open(self.name, k, &v).map_err(|_| {
                StoreError::Corrupt(format!(
                    "a value under {} ({:?}) could not be decrypted: it was altered on disk",
                    self.name,
                    String::from_utf8_lossy(k)
                ))
            }),
        }
    }

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        let k = k.as_ref();
        match self.backend.get(&self.key(k))? {
            None => Ok(None),
            Some(v) => self.unseal(k, v).map(Some),
        }
    }

    /// [`get`](Self::get), noting the key and the value as stored in `read`: a condition of
    /// the conditional write the caller decides with ([`HubBackend::apply_if`]).
    pub(super) fn get_noting(
        &self,
        k: impl AsRef<[u8]>,
        read: &mut Vec<super::backend::Expected>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let k = k.as_ref();
        let full = self.key(k);
        let raw = self.backend.get(&full)?;
        read.push((full, raw.clone()));
        raw.map(|v| self.unseal(k, v)).transpose()
    }

    /// [`get_noting`](Self::get_noting) of several keys, read together
    /// ([`HubBackend::get_many`]): the values in the order of `ks`.
    pub(super) fn get_many_noting<K: AsRef<[u8]>>(
        &self,
        ks: &[K],
        read: &mut Vec<super::backend::Expected>,
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let full: Vec<Vec<u8>> = ks.iter().map(|k| self.key(k)).collect();
        let raw = self.backend.get_many(&full)?;
        if raw.len() != full.len() {
            return Err(StoreError::Backend(format!(
                "the database answered {} values for {} keys read together under {}; the hub's database driver is at fault: report it",
                raw.len(),
                full.len(),
                self.name
            )));
        }
        let mut out = Vec::with_capacity(ks.len());
        for ((k, full), raw) in ks.iter().zip(full).zip(raw) {
            read.push((full, raw.clone()));
            out.push(raw.map(|v| self.unseal(k.as_ref(), v)).transpose()?);
        }
        Ok(out)
    }

    fn strip(&self, r: Result<KeyValue, StoreError>) -> Result<KeyValue, StoreError> {
        let (k, v) = r?;
        let k = k[self.prefix.len()..].to_vec();
        let v = self.unseal(&k, v)?;
        Ok((k, v))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Result<KeyValue, StoreError>> + '_ {
        self.scan_prefix(b"")
    }

    /// Every entry whose key (within this keyspace) starts with `p`, in key order.
    pub(super) fn scan_prefix<'a>(
        &'a self,
        p: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        let from = self.key(p);
        let to = prefix_end(&from);
        self.backend
            .scan(&from, to.as_deref())
            .map(|r| self.strip(r))
    }

    /// Every entry whose key (within this keyspace) starts with `p` and sorts after `after`
    /// (`None`: from the first), in key order: a cursor's next batch.
    pub(super) fn scan_after<'a>(
        &'a self,
        p: &[u8],
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        let from = match after {
            // The first key after `a` is `a` followed by a zero byte.
            Some(a) if a > p => {
                let mut k = self.key(a);
                k.push(0);
                k
            }
            _ => self.key(p),
        };
        let to = prefix_end(&self.key(p));
        self.backend
            .scan(&from, to.as_deref())
            .map(|r| self.strip(r))
    }

    /// Every entry from `from` to `to`, both included, in key order.
    pub(super) fn range<'a>(
        &'a self,
        from: &[u8],
        to: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue, StoreError>> + 'a {
        // The first key after `to` is `to` followed by a zero byte.
        let mut end = self.key(to);
        end.push(0);
        self.backend
            .scan(&self.key(from), Some(&end))
            .map(|r| self.strip(r))
    }

    /// The entry with the greatest key from `from` to `to`, both included.
    pub(super) fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        self.backend
            .last_in(&self.key(from), &self.key(to))?
            .map(|kv| self.strip(Ok(kv)))
            .transpose()
    }

    /// Puts `v` under `k` in `batch`, sealed if this keyspace is.
    pub(super) fn put(&self, batch: &mut Batch, k: impl AsRef<[u8]>, v: impl Into<Vec<u8>>) {
        let k = k.as_ref();
        let v: Vec<u8> = v.into();
        match &self.seal {
            None => batch.put(self.key(k), v),
            Some(s) => batch.put(self.key(k), s.seal(self.name, k, &v)),
        }
    }

    /// This keyspace with its values sealed with `keys`.
    pub(super) fn sealed_with(&self, keys: &Arc<Sealer>) -> Space {
        Space {
            seal: Some(keys.clone()),
            ..self.clone()
        }
    }

    /// Removes `k` in `batch`.
    pub(super) fn delete(&self, batch: &mut Batch, k: impl AsRef<[u8]>) {
        batch.delete(self.key(k));
    }
}

/// The key check as `keys` seal it (what a rotation puts in place of the old key's).
pub(crate) fn key_check_value(keys: &Sealer) -> Vec<u8> {
    keys.seal(aux::META.name, aux::META_KEY_CHECK.as_bytes(), KEY_CHECK)
}

/// Whether `stored` is the key check sealed with `keys`.
pub(crate) fn key_check_opens(keys: &Sealer, stored: &[u8]) -> bool {
    matches!(keys.open(aux::META.name, aux::META_KEY_CHECK.as_bytes(), stored), Ok(p) if p == KEY_CHECK)
}

impl HubStore {
    /// The keyspaces whose values are sealed (see the module documentation).
    pub(super) fn sealed_spaces(&mut self) -> [&mut Space; 4] {
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
    pub(super) fn check_key(&self, keys: &Sealer, may_write: bool) -> Result<(), StoreError> {
        let path = self.backend.location();
        let k = self.meta.key(aux::META_KEY_CHECK);
        match self.backend.get(&k)? {
            Some(v) => match keys.open(self.meta.name, aux::META_KEY_CHECK.as_bytes(), &v) {
                Ok(p) if p == KEY_CHECK => Ok(()),
                _ => Err(StoreError::WrongKey(path)),
            },
            None if may_write => {
                // Conditional: of two hubs creating one database at once, the second checks its
                // key against the first's check rather than writing over it.
                let mut batch = Batch::default();
                batch.put(
                    k.clone(),
                    keys.seal(self.meta.name, aux::META_KEY_CHECK.as_bytes(), KEY_CHECK),
                );
                match self.backend.apply_if(&[(k, None)], &batch)? {
                    super::backend::Applied::Done => self.flush(),
                    super::backend::Applied::Conflict(_) => self.check_key(keys, false),
                }
            }
            None => Err(StoreError::Corrupt(format!(
                "{path} is a sealed hub database (layout 6) without its key check: restore it from a backup"
            ))),
        }
    }
}
