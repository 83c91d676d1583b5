//! sled's blob files, made durable.
//!
//! sled 0.34 writes any value, or any page it rewrites, of more than a quarter of a log segment
//! (128 KiB with its default 512 KiB segments) to a file of its own under `DB/blobs/`, and never
//! fsyncs that file (`pagecache::blob_io::write_blob`): its flush makes durable only the log that
//! points to it. A store whose flush promises durability calls [`BlobFiles::sync`] after sled's
//! flush, before it acknowledges anything.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The blob files of one sled database, and the size at which each was last synced.
pub struct BlobFiles {
    dir: PathBuf,
    synced: Mutex<HashMap<OsString, u64>>,
}

impl BlobFiles {
    /// The blob files of the sled database at `db_path` (none synced yet).
    pub fn new(db_path: &Path) -> BlobFiles {
        BlobFiles {
            dir: db_path.join("blobs"),
            synced: Mutex::new(HashMap::new()),
        }
    }

    /// Fsyncs every blob file not synced at its present size, then the directory if any was.
    /// Returns how many files it synced; an error says which directory it was syncing.
    pub fn sync(&self) -> std::io::Result<usize> {
        self.sync_all().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("syncing sled's blob files in {}: {e}", self.dir.display()),
            )
        })
    }

    fn sync_all(&self) -> std::io::Result<usize> {
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        let mut now = HashMap::with_capacity(synced.len());
        let mut fresh = 0;
        // A blob sled removes meanwhile needs nothing.
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        for e in listing {
            let e = e?;
            let name = e.file_name();
            let size = match e.metadata() {
                Ok(m) => m.len(),
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(e),
            };
            if synced.get(&name) != Some(&size) {
                match std::fs::File::open(e.path()).and_then(|f| f.sync_all()) {
                    Ok(()) => fresh += 1,
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(e),
                }
            }
            now.insert(name, size);
        }
        if fresh > 0 {
            std::fs::File::open(&self.dir)?.sync_all()?;
        }
        *synced = now;
        Ok(fresh)
    }

    /// Whether the blob file `name` was synced at its present size (for tests).
    pub fn is_synced(&self, name: &OsString) -> bool {
        let size = std::fs::metadata(self.dir.join(name)).map(|m| m.len()).ok();
        let synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        size.is_some() && synced.get(name).copied() == size
    }

    /// The blob files on disk now.
    pub fn on_disk(&self) -> Vec<OsString> {
        std::fs::read_dir(&self.dir)
            .map(|l| l.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
            .unwrap_or_default()
    }
}
