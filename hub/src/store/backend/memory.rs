//! The memory backend: an ordered map under a lock, gone when dropped. For the deterministic
//! simulation (which runs the hub as it runs the node, in memory) and the store's test suite.
//!
//! A batch is applied under the write lock, so readers see all of it or none. A scan reads a
//! chunk of entries at a time under the read lock, then goes on after the last key it returned:
//! no snapshot (as the trait says), and no lock held between chunks, so a long scan never blocks
//! a commit. A conditional batch ([`HubBackend::apply_if`]) is compared and applied under the
//! same write lock, so it is atomic with respect to every other writer, of any store sharing
//! the backend. Nothing is durable: [`HubBackend::flush`] has nothing to do.

use super::{Applied, Batch, Entries, Expected, HubBackend, KeyValue};
use crate::store::StoreError;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Mutex, RwLock};

/// Entries a scan copies out per turn of the lock.
const CHUNK: usize = 256;

#[derive(Default)]
pub struct MemoryBackend {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
    layout: Mutex<Option<Vec<u8>>>,
    /// [`HubBackend::with_layout_lock`].
    layout_lock: Mutex<()>,
}

impl MemoryBackend {
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl HubBackend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().get(key).cloned())
    }

    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_> {
        let end = to.map(<[u8]>::to_vec);
        let mut next = Bound::Included(from.to_vec());
        let mut buf: VecDeque<KeyValue> = VecDeque::new();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if buf.is_empty() && !done {
                let upper = match &end {
                    Some(e) => Bound::Excluded(e.clone()),
                    None => Bound::Unbounded,
                };
                // An empty or reversed range reads nothing (BTreeMap::range would panic).
                let empty = match (&next, &upper) {
                    (Bound::Included(a), Bound::Excluded(b)) => a >= b,
                    (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
                    _ => false,
                };
                if !empty {
                    let map = self.read();
                    buf.extend(
                        map.range((next.clone(), upper))
                            .take(CHUNK)
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                }
                match buf.back() {
                    Some((k, _)) if buf.len() == CHUNK => next = Bound::Excluded(k.clone()),
                    _ => done = true,
                }
            }
            buf.pop_front().map(Ok)
        }))
    }

    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        if from > to {
            return Ok(None);
        }
        Ok(self
            .read()
            .range::<[u8], _>((Bound::Included(from), Bound::Included(to)))
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        for (k, v) in batch.into_writes() {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let differ: Vec<Vec<u8>> = expected
            .iter()
            .filter(|(k, v)| map.get(k) != v.as_ref())
            .map(|(k, _)| k.clone())
            .collect();
        if !differ.is_empty() {
            return Ok(Applied::Conflict(differ));
        }
        for (k, v) in batch.writes() {
            match v {
                Some(v) => map.insert(k.clone(), v.clone()),
                None => map.remove(k),
            };
        }
        Ok(Applied::Done)
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .layout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
        *self.layout.lock().unwrap_or_else(|p| p.into_inner()) = Some(mark.to_vec());
        Ok(())
    }

    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _held = self.layout_lock.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }

    fn location(&self) -> String {
        "(in memory)".into()
    }
}
