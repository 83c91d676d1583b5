//! The sled backend: the default, embedded in the hub's process.
//!
//! Everything lives in one sled tree, `"hub"`, so that a batch is one `apply_batch`: atomic,
//! and far cheaper than a transaction over several trees. The layout mark is the entry
//! `m/layout` of that tree. This is byte for byte what civreg-hub wrote before the backend seam,
//! so a database written by any earlier layout-3-to-6 hub opens unchanged.
//!
//! Writers: sled lets one process open a database, and [`HubBackend::apply_if`] compares and
//! applies under a writer mutex that [`HubBackend::apply`] takes too, so a conditional batch is
//! atomic with respect to every writer of the database (several stores over one backend in the
//! tests). Readers take no lock.
//!
//! sled never fsyncs its blob files (values or pages over a quarter of a log segment), so
//! [`HubBackend::flush`] syncs them after sled's own flush ([`BlobFiles`]).

use super::{Applied, Batch, Entries, Expected, HubBackend, KeyValue};
use crate::store::{aux, StoreError};
use civreg_runtime::blobs::BlobFiles;
use std::path::Path;
use std::sync::Mutex;

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub struct SledBackend {
    db: sled::Db,
    tree: sled::Tree,
    /// sled's blob files, synced after each flush; none for a temporary database.
    blobs: Option<BlobFiles>,
    location: String,
    /// Held by every write, so that `apply_if`'s comparison and its batch are one step.
    writer: Mutex<()>,
    /// [`HubBackend::with_layout_lock`] (sled's file lock keeps out other processes).
    layout_lock: Mutex<()>,
}

impl SledBackend {
    /// Opens (or creates) the sled database at `path`, after syncing any blob file an earlier
    /// run left unsynced (before anything new is acknowledged).
    pub fn open(path: &Path) -> Result<SledBackend, StoreError> {
        let mut backend = Self::open_config(sled::Config::new().path(path), path)?;
        let blobs = BlobFiles::new(path);
        blobs.sync().map_err(failed)?;
        backend.blobs = Some(blobs);
        Ok(backend)
    }

    /// A sled database that lives in memory and is gone when dropped.
    pub fn temporary() -> Result<SledBackend, StoreError> {
        Self::open_config(
            sled::Config::new().temporary(true),
            Path::new("(temporary)"),
        )
    }

    fn open_config(config: sled::Config, path: &Path) -> Result<SledBackend, StoreError> {
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
                    StoreError::Backend(s)
                }
            })?;
        if db.tree_names().iter().any(|n| n.as_ref() == b"chains") {
            return Err(StoreError::Corrupt(format!(
                "{} holds a hub database of the first layout (several trees); this civreg-hub reads layouts 3 to 6 only: move it aside and let the nodes push again",
                path.display()
            )));
        }
        let tree = db.open_tree("hub").map_err(failed)?;
        Ok(SledBackend {
            db,
            tree,
            blobs: None,
            location: path.display().to_string(),
            writer: Mutex::new(()),
            layout_lock: Mutex::new(()),
        })
    }

    /// sled's blob files of this database (none for a temporary one).
    pub fn blobs(&self) -> Option<&BlobFiles> {
        self.blobs.as_ref()
    }

    fn layout_key() -> Vec<u8> {
        aux::META.key(aux::META_LAYOUT)
    }
}

fn entry(r: sled::Result<(sled::IVec, sled::IVec)>) -> Result<KeyValue, StoreError> {
    let (k, v) = r.map_err(failed)?;
    Ok((k.to_vec(), v.to_vec()))
}

impl HubBackend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key).map_err(failed)?.map(|v| v.to_vec()))
    }

    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_> {
        match to {
            Some(to) if to <= from => Box::new(std::iter::empty()),
            Some(to) => Box::new(self.tree.range(from.to_vec()..to.to_vec()).map(entry)),
            None => Box::new(self.tree.range(from.to_vec()..).map(entry)),
        }
    }

    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        if from > to {
            return Ok(None);
        }
        self.tree
            .range(from..=to)
            .next_back()
            .map(entry)
            .transpose()
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.into_writes() {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.tree.apply_batch(b).map_err(failed)
    }

    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.writes() {
            match v {
                Some(v) => b.insert(k.as_slice(), v.as_slice()),
                None => b.remove(k.as_slice()),
            }
        }
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut differ = Vec::new();
        for (k, v) in expected {
            let held = self.tree.get(k).map_err(failed)?;
            if held.as_deref() != v.as_deref() {
                differ.push(k.clone());
            }
        }
        if !differ.is_empty() {
            return Ok(Applied::Conflict(differ));
        }
        self.tree.apply_batch(b).map_err(failed)?;
        Ok(Applied::Done)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(failed)?;
        if let Some(b) = &self.blobs {
            b.sync().map_err(failed)?;
        }
        Ok(())
    }

    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&Self::layout_key())
    }

    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
        self.flush()?;
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.tree.insert(Self::layout_key(), mark).map_err(failed)?;
        self.flush()
    }

    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _held = self.layout_lock.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}
