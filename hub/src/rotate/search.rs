//! `civreg-hub rotate-search-key --new-key-file PATH` (and `--resume`): a new search key
//! (`DATA_DIR/search.key`, [`crate::search::Blinder`]), and every blind token made with the old
//! one made again.
//!
//! What holds tokens of the search key:
//! - the search index: the tokens of personal numbers. It is derived from the store, so it is
//!   built again under the new key, beside the old one (`DATA_DIR/index.rotating`), then put in
//!   its place;
//! - the central import's keys of rows without a register entry (`aux` `im/c/TOKEN[#n]`,
//!   [`crate::linkage::import`]): the token is derived again, under the old key and the new,
//!   from the record the row created (its create op, else its current state); when the old
//!   token is the stored key, the entry moves to the new token (keeping the occurrence suffix
//!   `#n`). An entry whose record no longer gives its token is left as it is and counted:
//!   importing its file again could import that row again;
//! - the access log's marks of personal numbers in queries: not made again (the numbers are
//!   not stored). They stay as they are; a number searched after the rotation gets another
//!   mark.
//!
//! Nothing else keeps one: person links, duplicates cases and saved models hold none (the
//! matcher blinds numbers when it reads the register), and a backup carries the search key it
//! was made with (restoring it brings back that key, with data that matches it).
//!
//! Steps ([`Phase`]), the record (`aux` `keyrot/search`, sealed like the rest of `aux`) moving
//! with each atomic batch: the import keys in batches, each [`HubStore::aux_write`] carrying
//! the moves and the cursor; then the new index (a tantivy commit holds its feed positions, so
//! an interrupted build goes on where its last commit ended); then the files (the new index in
//! place of the old, the key files swapped: `search.key.old-DATE`). While the record exists the
//! store refuses to open, so no hub serves searches with one key over tokens of the other.

use super::{RotateError, DEFAULT_BATCH};
use crate::linkage::import::import_key;
use crate::search::{self, Blinder, SearchIndex};
use crate::store::aux::{self, aux_key};
use crate::store::{AuxWrite, HubBackend, HubStore, KeyValue};
use civreg_shared::model::Record;
use civreg_shared::op::ChangeKind;
use civreg_shared::seal::Sealer;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const COMMAND: &str = "rotate-search-key";
const WHAT: &str = "search key";

/// The rotation record's key under [`aux::KEY_ROTATION`].
pub const RECORD: &str = "search";

/// What the key checks are tokens of.
const CHECK_TEXT: &str = "civreg hub search key check";

/// The import keys that are tokens (rows without a register entry).
fn content_prefix() -> Vec<u8> {
    aux_key(aux::IMPORT_KEY, "c/")
}

fn record_key() -> Vec<u8> {
    aux_key(aux::KEY_ROTATION, RECORD)
}

/// Where the new index is built.
pub fn staging_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index.rotating")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The import keys, in batches.
    Imports,
    /// The new index, built beside the old.
    Index,
    /// The new index and key to their places.
    Files,
}

/// An unfinished rotation, as kept in `aux`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub new_key_file: PathBuf,
    /// Where the old key file goes at the end.
    pub old_key_to: PathBuf,
    /// The token of a known text under the old key and the new.
    pub old_check: String,
    pub new_check: String,
    pub phase: Phase,
    /// The last import key done, hex.
    pub after: Option<String>,
    /// Import keys done so far, and how many there were at the start.
    pub done: u64,
    pub total: u64,
    /// Import keys moved to their new token.
    pub moved: u64,
    /// Import keys that could not be derived again (left as they were).
    pub unmatched: u64,
}

/// What a finished rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub key_file: PathBuf,
    pub old_key_file: PathBuf,
    /// Records in the new index.
    pub indexed: u64,
    pub import_keys_moved: u64,
    pub import_keys_unmatched: u64,
}

/// The unfinished rotation recorded in the store, if any.
pub fn unfinished(store: &HubStore) -> Result<Option<Rotation>, RotateError> {
    match store.aux_get(&record_key())? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| RotateError::Record(e.to_string())),
    }
}

fn record_write(r: &Rotation) -> AuxWrite {
    (
        record_key(),
        Some(serde_json::to_vec(r).expect("a rotation record serialises")),
    )
}

fn load_old(data_dir: &Path) -> Result<Blinder, RotateError> {
    let key = search::key_path(data_dir);
    if !key.exists() {
        return Err(RotateError::Io {
            what: "the search key is missing:",
            path: key,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "restore it from the latest backup (without it the index must be rebuilt and imports of rows without a register entry are no longer recognised); a hub that never served has no search key to rotate",
            ),
        });
    }
    Ok(Blinder::load(&key)?)
}

/// Starts a rotation of the search key of the hub in `data_dir` (its store in `backend`,
/// sealed with `keys`) to a new key written at `new_key_file`, and runs it to the end.
pub fn start(
    data_dir: &Path,
    backend: Arc<dyn HubBackend>,
    keys: Sealer,
    new_key_file: &Path,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let store = HubStore::open_rotating_search(backend, keys)?;
    if let Some(r) = unfinished(&store)? {
        return Err(RotateError::InProgress {
            what: WHAT,
            command: COMMAND,
            path: r.new_key_file,
        });
    }
    let key = search::key_path(data_dir);
    let old = load_old(data_dir)?;
    if super::same_file(new_key_file, &key) {
        return Err(RotateError::SameKeyFile(key));
    }
    let master = civreg_shared::seal::new_master()
        .map_err(|_| RotateError::Key(crate::atrest::KeyError::Rng))?;
    match civreg_runtime::fs::create_private(new_key_file, hex::encode(master).as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(RotateError::NewKeyExists(new_key_file.to_path_buf()))
        }
        other => other.map_err(|source| RotateError::Io {
            what: "writing the new search key",
            path: new_key_file.to_path_buf(),
            source,
        })?,
    }
    super::sync_parent(new_key_file).map_err(|source| RotateError::Io {
        what: "syncing the directory of",
        path: new_key_file.to_path_buf(),
        source,
    })?;
    let new_key_file = super::absolute(new_key_file)?;
    let new = Blinder::load(&new_key_file)?;
    // Left by an earlier rotation that was abandoned before its record was written: derived
    // data, built again below.
    let staging = staging_dir(data_dir);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|source| RotateError::Io {
            what: "removing",
            path: staging.clone(),
            source,
        })?;
    }
    let mut total = 0u64;
    for kv in store.aux_scan(&content_prefix()) {
        kv?;
        total += 1;
    }
    let rotation = Rotation {
        new_key_file,
        old_key_to: super::old_key_path(&key),
        old_check: old.token(CHECK_TEXT),
        new_check: new.token(CHECK_TEXT),
        phase: Phase::Imports,
        after: None,
        done: 0,
        total,
        moved: 0,
        unmatched: 0,
    };
    store.aux_write(&[record_write(&rotation)])?;
    finish(data_dir, &store, &old, &new, rotation, batch, progress)
}

/// Resumes the unfinished rotation of the search key and runs it to the end.
pub fn resume(
    data_dir: &Path,
    backend: Arc<dyn HubBackend>,
    keys: Sealer,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let store = HubStore::open_rotating_search(backend, keys)?;
    let Some(rotation) = unfinished(&store)? else {
        return Err(RotateError::NothingToResume {
            what: WHAT,
            command: COMMAND,
        });
    };
    let key = search::key_path(data_dir);
    if rotation.phase == Phase::Files {
        // The new key is in the new file, or already in place.
        let at = if rotation.new_key_file.exists() {
            rotation.new_key_file.clone()
        } else {
            key
        };
        if Blinder::load(&at)?.token(CHECK_TEXT) != rotation.new_check {
            return Err(RotateError::NewKeyWrong {
                path: at,
                command: COMMAND,
            });
        }
        return complete(data_dir, &store, rotation);
    }
    let old = load_old(data_dir)?;
    if old.token(CHECK_TEXT) != rotation.old_check {
        return Err(RotateError::OldKeyWrong {
            path: key,
            command: COMMAND,
        });
    }
    if !rotation.new_key_file.exists() {
        return Err(RotateError::NewKeyMissing {
            path: rotation.new_key_file.clone(),
            command: COMMAND,
        });
    }
    let new = Blinder::load(&rotation.new_key_file)?;
    if new.token(CHECK_TEXT) != rotation.new_check {
        return Err(RotateError::NewKeyWrong {
            path: rotation.new_key_file.clone(),
            command: COMMAND,
        });
    }
    finish(data_dir, &store, &old, &new, rotation, batch, progress)
}

fn finish(
    data_dir: &Path,
    store: &HubStore,
    old: &Blinder,
    new: &Blinder,
    mut rotation: Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    rederive_imports(store, old, new, &mut rotation, batch, progress)?;
    if rotation.phase == Phase::Index {
        let staging = staging_dir(data_dir);
        let ix = SearchIndex::open_at(&staging, &rotation.new_key_file)?;
        ix.catch_up(store)?;
        ix.wait_merges()?;
        rotation.phase = Phase::Files;
        store.aux_write(&[record_write(&rotation)])?;
        progress(&rotation);
    }
    complete(data_dir, store, rotation)
}

/// The new index in place of the old, the key files swapped, the record removed.
fn complete(data_dir: &Path, store: &HubStore, rotation: Rotation) -> Result<Outcome, RotateError> {
    let files = |what: &str| {
        let what = what.to_string();
        move |source| RotateError::Files {
            what,
            command: COMMAND,
            source,
        }
    };
    let staging = staging_dir(data_dir);
    let live = search::index_dir(data_dir);
    if staging.exists() {
        if live.exists() {
            std::fs::remove_dir_all(&live).map_err(files("removing the old index"))?;
        }
        std::fs::rename(&staging, &live).map_err(files("moving the new index into place"))?;
        civreg_runtime::fs::sync_dir(data_dir).map_err(files("syncing the data directory"))?;
    }
    let key = search::key_path(data_dir);
    super::swap_files(&key, &rotation.new_key_file, &rotation.old_key_to, COMMAND)?;
    store.aux_write(&[(record_key(), None)])?;
    let indexed = SearchIndex::open(data_dir)?.len();
    Ok(Outcome {
        key_file: key,
        old_key_file: rotation.old_key_to,
        indexed,
        import_keys_moved: rotation.moved,
        import_keys_unmatched: rotation.unmatched,
    })
}

/// The import keys, in batches of `batch`, each one atomic and durable write with the cursor.
pub fn rederive_imports(
    store: &HubStore,
    old: &Blinder,
    new: &Blinder,
    rotation: &mut Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<(), RotateError> {
    let batch = batch.clamp(1, 100_000);
    let prefix = content_prefix();
    while rotation.phase == Phase::Imports {
        let after = match &rotation.after {
            Some(h) => Some(hex::decode(h).map_err(|_| RotateError::Record("cursor".into()))?),
            None => None,
        };
        let items: Vec<KeyValue> = store
            .aux_scan_after(&prefix, after.as_deref())
            .take(batch)
            .collect::<Result<_, _>>()?;
        let mut writes = Vec::with_capacity(items.len() * 2 + 1);
        match items.last() {
            None => {
                rotation.phase = Phase::Index;
                rotation.after = None;
            }
            Some((last, _)) => {
                rotation.after = Some(hex::encode(last));
                for (k, v) in &items {
                    rekey_import(store, old, new, k, v, &mut writes, rotation)?;
                }
            }
        }
        writes.push(record_write(rotation));
        store.aux_write(&writes)?;
        progress(rotation);
    }
    Ok(())
}

/// The records an import key may have been derived from, with their municipality: the record
/// as its create op wrote it, and as it is now.
fn import_candidates(store: &HubStore, regno: &str) -> Result<Vec<(String, Record)>, RotateError> {
    let mut out = Vec::new();
    let Ok(parsed) = civreg_shared::ids::RegNo::parse(regno) else {
        return Ok(out);
    };
    let m = parsed.municipality;
    let Some(state) = store.record(regno)? else {
        return Ok(out);
    };
    if let Some(first) = state.ops.first() {
        if let Some(op) = store.op(first)?.filter(|o| o.change == ChangeKind::Create) {
            let fields: civreg_shared::fields::FieldMap = op
                .changes
                .iter()
                .map(|c| (c.path.clone(), c.value.clone()))
                .collect();
            let own = civreg_shared::annotation::record_fields(&fields);
            if let Ok(r) = Record::from_json(state.kind, civreg_shared::fields::unflatten(&own)) {
                out.push((m.clone(), r));
            }
        }
    }
    if let Ok(r) = state.record() {
        out.push((m, r));
    }
    Ok(out)
}

fn rekey_import(
    store: &HubStore,
    old: &Blinder,
    new: &Blinder,
    k: &[u8],
    v: &[u8],
    writes: &mut Vec<AuxWrite>,
    rotation: &mut Rotation,
) -> Result<(), RotateError> {
    rotation.done += 1;
    let regno = String::from_utf8_lossy(v);
    for (m, record) in import_candidates(store, &regno)? {
        let new_key = import_key(new, &m, &record);
        if k.starts_with(&new_key) {
            // Moved by an earlier batch (it sorts after the cursor).
            return Ok(());
        }
        let old_key = import_key(old, &m, &record);
        if k.starts_with(&old_key) {
            let mut moved = new_key;
            moved.extend_from_slice(&k[old_key.len()..]);
            writes.push((k.to_vec(), None));
            writes.push((moved, Some(v.to_vec())));
            rotation.moved += 1;
            return Ok(());
        }
    }
    rotation.unmatched += 1;
    Ok(())
}

/// `rotate-search-key` from the command line (never inside `serve`).
pub fn run(
    store: &crate::paths::StoreAt,
    data_dir: &Path,
    key_file: &Path,
    new_key_file: Option<&Path>,
    resume_it: bool,
    batch: Option<usize>,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let backend = super::open_backend(data_dir, store)?;
    let keys = crate::atrest::load_key(key_file)?;
    let batch = batch.unwrap_or(DEFAULT_BATCH);
    match (new_key_file, resume_it) {
        (_, true) => resume(data_dir, backend, keys, batch, progress),
        (Some(p), false) => start(data_dir, backend, keys, p, batch, progress),
        (None, false) => Err(RotateError::NothingToResume {
            what: WHAT,
            command: COMMAND,
        }),
    }
}

/// A progress line of [`run`].
pub fn progress_line(r: &Rotation) -> String {
    match r.phase {
        Phase::Imports => format!(
            "rotate-search-key: {} of {} import keys derived again (now: imports)",
            r.done,
            r.total.max(r.done)
        ),
        Phase::Index => {
            "rotate-search-key: import keys done; building the index under the new key".into()
        }
        Phase::Files => {
            "rotate-search-key: the index is built; putting it and the new key in place".into()
        }
    }
}

#[cfg(test)]
mod tests;
