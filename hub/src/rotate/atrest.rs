//! `civreg-hub rotate-key --new-key-file PATH` (and `--resume`): every sealed value of the
//! store re-sealed under a new at-rest key ([`crate::atrest`]).
//!
//! 1. The store is opened once with the old key (which checks it, and brings an older layout to
//!    the current one); the new key file is written; the rotation record ([`Rotation`]) goes to
//!    `meta`/`rotation`, in clear (paths, the new key check, a cursor: nothing personal).
//! 2. The sealed keyspaces ([`STEPS`]: `feed`, `buckets`, `conflicts`, `aux`; a test keeps the
//!    list equal to the keyspaces marked sealed) are walked in key order through
//!    [`HubBackend::scan`], in batches of bounded size: each value is opened with the old key and
//!    sealed with the new (bound to the same keyspace and key), written with the cursor in one
//!    [`HubBackend::apply`], then flushed.
//! 3. One atomic write puts the new key check in place of the old: from then the store is the
//!    new key's. Then the key files are swapped ([`super::swap_files`]) and the record removed.
//!
//! What else the key seals: the hub's backups (their frames and the manifest's MAC), made with
//! the store's key at the time. A backup made before the rotation needs the old key file
//! (`civreg-hub --key-file OLD restore --from B`, then rotate again); the report says so. The
//! dashboard's state kept across restarts (`aux` `dash/`) and the saved matching models are in
//! `aux`, so they follow; `status.json`, the access log and the search index are not sealed
//! with it (the index's personal numbers are blind tokens of the search key: [`super::search`]).

use super::{RotateError, DEFAULT_BATCH};
use crate::atrest::{self, KeyError};
use crate::store::aux::{self, Keyspace};
use crate::store::backend::prefix_end;
use crate::store::{
    key_check_opens, key_check_value, Batch, HubBackend, HubStore, KeyValue, StoreError,
};
use civreg_shared::seal::Sealer;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const COMMAND: &str = "rotate-key";
const WHAT: &str = "at-rest key";

/// The keyspaces whose values are sealed, in the order they are worked through.
pub const STEPS: [Keyspace; 4] = [aux::FEED, aux::BUCKETS, aux::CONFLICTS, aux::AUX];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Re-sealing, keyspace by keyspace.
    Data,
    /// The store is the new key's; the key files are still to be swapped.
    Files,
}

/// An unfinished rotation, as kept in `meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// The key file in use when the rotation started (it gets the new key at the end).
    pub key_file: PathBuf,
    pub new_key_file: PathBuf,
    /// Where the old key file goes at the end.
    pub old_key_to: PathBuf,
    /// The key check sealed under the new key, hex.
    pub new_check: String,
    pub phase: Phase,
    /// Index into [`STEPS`].
    pub step: usize,
    /// The last key done in the current keyspace (without its prefix), hex.
    pub after: Option<String>,
    /// Values done so far, and how many there were at the start.
    pub done: u64,
    pub total: u64,
}

impl Rotation {
    /// The keyspace being worked on, if any is left.
    pub fn space(&self) -> Option<Keyspace> {
        STEPS.get(self.step).copied()
    }
}

/// What a finished rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The key file, now holding the new key.
    pub key_file: PathBuf,
    /// The old key file, renamed.
    pub old_key_file: PathBuf,
    /// Values re-sealed.
    pub values: u64,
}

fn record_key() -> Vec<u8> {
    aux::META.key(aux::META_ROTATION)
}

/// The unfinished rotation recorded in the database, if any.
pub fn unfinished(backend: &dyn HubBackend) -> Result<Option<Rotation>, RotateError> {
    match backend.get(&record_key())? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| RotateError::Record(e.to_string())),
    }
}

fn put_record(b: &mut Batch, r: &Rotation) {
    b.put(
        record_key(),
        serde_json::to_vec(r).expect("a rotation record serialises"),
    );
}

fn check_opens(backend: &dyn HubBackend, keys: &Sealer) -> Result<bool, RotateError> {
    let check = backend
        .get(&aux::META.key(aux::META_KEY_CHECK))?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} has no key check: restore it from a backup",
                backend.location()
            ))
        })?;
    Ok(key_check_opens(keys, &check))
}

/// Starts a rotation of the store in `backend`, sealed with the key in `key_file`, to a new
/// key written at `new_key_file`, and runs it to the end. `progress` is told after each batch.
pub fn start(
    backend: Arc<dyn HubBackend>,
    key_file: &Path,
    new_key_file: &Path,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    if let Some(r) = unfinished(&*backend)? {
        return Err(RotateError::InProgress {
            what: WHAT,
            command: COMMAND,
            path: r.new_key_file,
        });
    }
    // Checks the key, and brings an older layout to the current one, before anything else.
    drop(HubStore::open_backend(
        backend.clone(),
        atrest::load_key(key_file)?,
    )?);
    let old = atrest::load_key(key_file)?;
    if super::same_file(new_key_file, key_file) {
        return Err(RotateError::SameKeyFile(key_file.to_path_buf()));
    }
    match atrest::create_key(new_key_file) {
        Err(KeyError::Exists(p)) => return Err(RotateError::NewKeyExists(p)),
        other => other?,
    }
    // The file's name too must survive a crash before anything is sealed with its key.
    super::sync_parent(new_key_file).map_err(|source| KeyError::Io {
        path: new_key_file.to_path_buf(),
        source,
    })?;
    let new_key_file = super::absolute(new_key_file)?;
    let key_file = super::absolute(key_file)?;
    let new = atrest::load_key(&new_key_file)?;
    let rotation = begin(
        &*backend,
        &new,
        key_file.clone(),
        new_key_file,
        super::old_key_path(&key_file),
    )?;
    finish(&*backend, &old, &new, rotation, batch, progress)
}

/// Records the rotation (durably) before anything is sealed with the new key.
pub fn begin(
    backend: &dyn HubBackend,
    new: &Sealer,
    key_file: PathBuf,
    new_key_file: PathBuf,
    old_key_to: PathBuf,
) -> Result<Rotation, RotateError> {
    let mut total = 0u64;
    for space in STEPS {
        let end = prefix_end(space.prefix);
        for kv in backend.scan(space.prefix, end.as_deref()) {
            kv?;
            total += 1;
        }
    }
    let rotation = Rotation {
        key_file,
        new_key_file,
        old_key_to,
        new_check: hex::encode(key_check_value(new)),
        phase: Phase::Data,
        step: 0,
        after: None,
        done: 0,
        total,
    };
    let mut b = Batch::default();
    put_record(&mut b, &rotation);
    backend.apply(b)?;
    backend.flush()?;
    Ok(rotation)
}

/// Resumes the unfinished rotation of the store in `backend` (`key_file`: the key file in
/// use, which must be the one it started with) and runs it to the end.
pub fn resume(
    backend: Arc<dyn HubBackend>,
    key_file: &Path,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let Some(rotation) = unfinished(&*backend)? else {
        return Err(RotateError::NothingToResume {
            what: WHAT,
            command: COMMAND,
        });
    };
    let given = super::absolute(key_file)?;
    if given != rotation.key_file {
        return Err(RotateError::OtherKeyFile {
            started: rotation.key_file,
            given,
        });
    }
    if rotation.phase == Phase::Files {
        // The store is the new key's; the new key is in the new file or already in place.
        let at = if rotation.new_key_file.exists() {
            &rotation.new_key_file
        } else {
            &rotation.key_file
        };
        if !check_opens(&*backend, &atrest::load_key(at)?)? {
            return Err(RotateError::NewKeyWrong {
                path: at.clone(),
                command: COMMAND,
            });
        }
        return complete(&*backend, rotation);
    }
    let old = atrest::load_key(&rotation.key_file)?;
    if !check_opens(&*backend, &old)? {
        return Err(StoreError::WrongKey(backend.location()).into());
    }
    let new = match atrest::load_key(&rotation.new_key_file) {
        Err(KeyError::Missing(p)) => {
            return Err(RotateError::NewKeyMissing {
                path: p,
                command: COMMAND,
            })
        }
        other => other?,
    };
    let new_check =
        hex::decode(&rotation.new_check).map_err(|_| RotateError::Record("new_check".into()))?;
    if !key_check_opens(&new, &new_check) {
        return Err(RotateError::NewKeyWrong {
            path: rotation.new_key_file.clone(),
            command: COMMAND,
        });
    }
    finish(&*backend, &old, &new, rotation, batch, progress)
}

fn finish(
    backend: &dyn HubBackend,
    old: &Sealer,
    new: &Sealer,
    mut rotation: Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    reseal_all(backend, old, new, &mut rotation, batch, progress)?;
    complete(backend, rotation)
}

/// Swaps the key files and removes the rotation record (the store is the new key's).
fn complete(backend: &dyn HubBackend, rotation: Rotation) -> Result<Outcome, RotateError> {
    super::swap_files(
        &rotation.key_file,
        &rotation.new_key_file,
        &rotation.old_key_to,
        COMMAND,
    )?;
    let mut b = Batch::default();
    b.delete(record_key());
    backend.apply(b)?;
    backend.flush()?;
    Ok(Outcome {
        key_file: rotation.key_file,
        old_key_file: rotation.old_key_to,
        values: rotation.done,
    })
}

/// Steps 2 and 3 of the module's description, on any backend: re-seals in batches of `batch`
/// values, each one atomic and durable write with the cursor, then puts the new key check in
/// place. `progress` is called after each batch.
pub fn reseal_all(
    backend: &dyn HubBackend,
    old: &Sealer,
    new: &Sealer,
    rotation: &mut Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<(), RotateError> {
    let batch = batch.clamp(1, 100_000);
    while let Some(space) = rotation.space() {
        let from = match &rotation.after {
            Some(h) => {
                let mut k =
                    space.key(hex::decode(h).map_err(|_| RotateError::Record("cursor".into()))?);
                // The first key after the cursor.
                k.push(0);
                k
            }
            None => space.prefix.to_vec(),
        };
        let end = prefix_end(space.prefix);
        let items: Vec<KeyValue> = backend
            .scan(&from, end.as_deref())
            .take(batch)
            .collect::<Result<_, _>>()?;
        let mut b = Batch::default();
        match items.last() {
            None => {
                rotation.step += 1;
                rotation.after = None;
            }
            Some((last, _)) => {
                rotation.after = Some(hex::encode(&last[space.prefix.len()..]));
                for (k, v) in &items {
                    reseal(space, old, new, k, v, &mut b, rotation)?;
                }
            }
        }
        put_record(&mut b, rotation);
        backend.apply(b)?;
        backend.flush()?;
        progress(rotation);
    }
    // The switch: from this write on the store is the new key's.
    let check =
        hex::decode(&rotation.new_check).map_err(|_| RotateError::Record("new_check".into()))?;
    rotation.phase = Phase::Files;
    let mut b = Batch::default();
    b.put(aux::META.key(aux::META_KEY_CHECK), check);
    put_record(&mut b, rotation);
    backend.apply(b)?;
    backend.flush()?;
    progress(rotation);
    Ok(())
}

fn reseal(
    space: Keyspace,
    old: &Sealer,
    new: &Sealer,
    full_key: &[u8],
    v: &[u8],
    b: &mut Batch,
    rotation: &mut Rotation,
) -> Result<(), RotateError> {
    let k = &full_key[space.prefix.len()..];
    rotation.done += 1;
    if let Ok(plain) = old.open(space.name, k, v) {
        b.put(full_key.to_vec(), new.seal(space.name, k, &plain));
        return Ok(());
    }
    if new.open(space.name, k, v).is_ok() {
        // Re-sealed by a batch whose cursor was lost with a crash? Never (the cursor is in the
        // same write), but a value already under the new key is left as it is whatever the cause.
        return Ok(());
    }
    Err(RotateError::Neither {
        space: space.name,
        key: String::from_utf8_lossy(k).into_owned(),
    })
}

/// `rotate-key` from the command line (never inside `serve`): opens the database
/// ([`super::open_backend`]) and starts or resumes. The text says what to do with the old key.
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
    let batch = batch.unwrap_or(DEFAULT_BATCH);
    match (new_key_file, resume_it) {
        (_, true) => resume(backend, key_file, batch, progress),
        (Some(p), false) => start(backend, key_file, p, batch, progress),
        (None, false) => Err(RotateError::NothingToResume {
            what: WHAT,
            command: COMMAND,
        }),
    }
}

/// A progress line of [`run`].
pub fn progress_line(r: &Rotation) -> String {
    match (r.phase, r.space()) {
        (Phase::Data, Some(s)) => format!(
            "rotate-key: {} of {} values re-sealed (now: {})",
            r.done,
            r.total.max(r.done),
            s.name
        ),
        _ => "rotate-key: the database uses the new key; swapping the key files".to_string(),
    }
}

#[cfg(test)]
mod tests;
