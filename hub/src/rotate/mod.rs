//! Key rotation at the hub (issue 17): the at-rest key that seals the store
//! (`civreg-hub rotate-key`, [`atrest`]) and the search key whose blind tokens index personal
//! numbers (`civreg-hub rotate-search-key`, [`search`]). Both follow the office node's design
//! (`civreg-node rotate-key`, `node/src/rotate.rs`):
//! - the new key file is written first (0600, a path that does not exist yet), then a rotation
//!   record is committed (with the new key's check value) before anything is written under the
//!   new key;
//! - the data is worked through in bounded batches, each one atomic write that also moves the
//!   cursor in the rotation record, then flushed: an interruption (SIGKILL, power cut) loses at
//!   most the batch in flight, and `--resume` goes on from the cursor;
//! - each value is recognised by the key that opens it (or derives it), so a value found
//!   already under the new key is left alone, and one that fits neither stops the rotation
//!   without being overwritten;
//! - the switch comes last; then the key files are swapped (the old one renamed
//!   `KEY.old-DATE`, the new one moved to the key's place), each step recognised as done by
//!   the files' contents, and the rotation record is removed;
//! - while the record exists, the store refuses to open ([`crate::store::StoreError::RotationUnfinished`]):
//!   `serve` and every command say to resume. The rotation itself refuses while a hub serves
//!   (its control socket answers): a running hub keeps the old key in memory.
//!
//! Everything goes through [`crate::store::HubBackend`] (and the store above it), never sled
//! directly, so a second backend rotates the same way; only [`open_backend`] (the command
//! line's) knows that the hub's database is sled today.

pub mod atrest;
pub mod search;

use crate::store::backend::sled::SledBackend;
use crate::store::{HubBackend, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Values re-sealed (or import keys re-derived) per atomic write unless told otherwise.
pub const DEFAULT_BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] crate::atrest::KeyError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error("`civreg-hub serve` is running on {0}: stop it first (a key rotation needs the database alone, and a running hub keeps the old key in memory)")]
    Serving(PathBuf),
    #[error("there is no hub database at {0}: nothing to rotate (check --data-dir)")]
    NoDatabase(PathBuf),
    #[error("a rotation of the hub's {what} to {path} is already in progress: run `civreg-hub {command} --resume`")]
    InProgress {
        what: &'static str,
        command: &'static str,
        path: PathBuf,
    },
    #[error("no rotation of the hub's {what} is in progress: nothing to resume (`civreg-hub {command} --new-key-file PATH` starts one)")]
    NothingToResume {
        what: &'static str,
        command: &'static str,
    },
    #[error("{0} already exists and no rotation is in progress, so nothing was sealed with it: choose a path that does not exist, or delete that file if it is left from an interrupted start")]
    NewKeyExists(PathBuf),
    #[error("the new key file must not be the key file in use, {0}: choose another path")]
    SameKeyFile(PathBuf),
    #[error("the new key file {path} of the unfinished rotation is missing: part of the data is already under its key. Put it back (from where it was copied) and run `civreg-hub {command} --resume`")]
    NewKeyMissing {
        path: PathBuf,
        command: &'static str,
    },
    #[error("{path} is not the new key this rotation started with: put back the key file written when it started and run `civreg-hub {command} --resume`")]
    NewKeyWrong {
        path: PathBuf,
        command: &'static str,
    },
    #[error("{path} is not the key in use when this rotation started (its check does not match): put back that key file and run `civreg-hub {command} --resume`")]
    OldKeyWrong {
        path: PathBuf,
        command: &'static str,
    },
    #[error("the rotation started with the key file {started}, not {given}: run `civreg-hub --key-file {started} rotate-key --resume`")]
    OtherKeyFile { started: PathBuf, given: PathBuf },
    #[error("stored data is damaged: the {space} entry {key:?} opens with neither the old nor the new key; nothing was overwritten. Restore the hub from a backup made before the rotation (with the old key file), then rotate again")]
    Neither { space: &'static str, key: String },
    #[error("the key files could not be swapped ({what}): {source}. The data is already under the new key; fix the cause and run `civreg-hub {command} --resume`")]
    Files {
        what: String,
        command: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the rotation record in the hub database is damaged ({0}): restore the hub from a backup made before the rotation, with the old key file")]
    Record(String),
}

/// The hub's database for a rotation (the configured store: the embedded one under the data
/// directory, or PostgreSQL): refused while a hub serves the data directory (its control socket
/// answers); waits a few seconds while a one-off command (`status`) holds an embedded store.
/// Over PostgreSQL, hubs on other machines can not be seen from here: stop every hub process
/// of that database first (the operator manual says so).
pub fn open_backend(
    data_dir: &Path,
    store: &crate::paths::StoreAt,
) -> Result<Arc<dyn HubBackend>, RotateError> {
    if std::os::unix::net::UnixStream::connect(crate::control::socket_path(data_dir)).is_ok() {
        return Err(RotateError::Serving(data_dir.to_path_buf()));
    }
    let db = match store {
        crate::paths::StoreAt::Postgres(url) => {
            return Ok(Arc::new(
                crate::store::backend::postgres::PostgresBackend::open(url)?,
            ))
        }
        crate::paths::StoreAt::Sled(db) => db.clone(),
    };
    if !db.exists() {
        return Err(RotateError::NoDatabase(db));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match SledBackend::open(&db) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e @ StoreError::Locked(_)) => {
                return Err(RotateError::Store(StoreError::Backend(format!(
                    "{e}: stop it (serve, or a command still running) and run the rotation again"
                ))))
            }
            other => return Ok(Arc::new(other?)),
        }
    }
}

pub(crate) use civreg_runtime::keyswap::{old_key_path, same_file, sync_parent};

/// An absolute path (`--resume` may run from another directory).
pub(crate) fn absolute(p: &Path) -> Result<PathBuf, RotateError> {
    std::path::absolute(p).map_err(|source| RotateError::Io {
        what: "resolving",
        path: p.to_path_buf(),
        source,
    })
}

/// The last step's files: the key file `key` to `old_to`, the new one at `new` to `key`. Each
/// step is recognised as done by the files' contents, so it can run again after a crash.
pub(crate) fn swap_files(
    key: &Path,
    new: &Path,
    old_to: &Path,
    command: &'static str,
) -> Result<(), RotateError> {
    civreg_runtime::keyswap::swap_files(key, new, old_to).map_err(|e| RotateError::Files {
        what: e.what.to_string(),
        command,
        source: e.source,
    })
}
