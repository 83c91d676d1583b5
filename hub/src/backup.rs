//! Backups of the hub and their restore, with a drill (issue 17 part A).
//!
//! `civreg-hub backup --out DIR` writes `DIR/civreg-hub-backup-YYYYMMDDTHHMMSSmmmZ/` with
//! `manifest.json` and `snapshot.bin` (the body of `civreg_shared::snapshot`, sealed with the
//! hub's at-rest key):
//! - space `store`: every raw entry of the store, read while the heads' lock is held, so it is
//!   one state between two group commits (ingest waits meanwhile); values stay sealed as stored;
//! - space `file`: the hub's files beside the store (PKI with the issuing CA and the hub's
//!   server key, rollout, operators, access and action logs, cancelled certificates, the search
//!   key), by path under the data directory. Not the key file, not the search index (rebuilt
//!   from the store when the hub opens it), not the control socket.
//!
//! The manifest says in clear when, which format, the chain heads, the counts and the body's
//! SHA-256, under a MAC with a key derived from the hub's key. It runs inside the running hub
//! through its control socket, or on a stopped hub's store.
//!
//! Every backup's outcome (the last success and the last failure) is kept in
//! `DATA_DIR/backup-last.json` ([`LastBackup`], [`last`]), so that `civreg-hub status` and the
//! dashboard can say that the hub's last backup failed; that file is not in the backup.
//!
//! `civreg-hub restore --from B` writes the backup into a data directory without a database
//! (with the hub's key file), then runs the drill ([`drill`]): every chain is walked from #1
//! against its head (hash of each op over its content, each link, ops set aside by their hash),
//! and every municipality's digest is computed, to compare with the running hub's.

use crate::store::{Head, HubStore, StoreError};
use civreg_shared::op::{Hash, GENESIS};
use civreg_shared::snapshot::{self, Manifest as _, SnapshotError, Summary};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

pub const BACKUP_FORMAT: u32 = 1;
const MAC_DOMAIN: &str = "civreg-hub backup manifest v1";
const MANIFEST_MAX: u64 = 1 << 20;
/// What the data directory holds that a backup leaves out: the store (in the body by entry),
/// the index (derived), the control socket, temporary files.
const SKIP: &[&str] = &[
    "db",
    "index",
    "index.rotating",
    "hub.sock",
    "hub.key",
    "status.json",
    LAST_FILE,
];

/// Where the outcome of the hub's last backups is kept, in the data directory.
pub const LAST_FILE: &str = "backup-last.json";

/// The outcome of the hub's last backups: the last success and the last failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBackup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_ms: Option<u64>,
    /// The directory the last successful backup was written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LastBackup {
    /// The last backup tried failed (no success since).
    pub fn failed(&self) -> bool {
        self.failed_ms.is_some() && self.failed_ms > self.ok_ms
    }
}

/// The outcome of the hub's last backups, if one was ever tried (a damaged file reads as none,
/// with a warning).
pub fn last(data_dir: &Path) -> Option<LastBackup> {
    let p = data_dir.join(LAST_FILE);
    let bytes = std::fs::read(&p).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(path = %p.display(), error = %e, "the record of the last backup is damaged; the next backup rewrites it");
            None
        }
    }
}

/// Keeps the outcome of a backup in [`LAST_FILE`]; a failure to keep it is logged, never
/// turned into the backup's own failure.
fn note(data_dir: &Path, outcome: &Result<(PathBuf, Manifest), BackupError>) {
    let mut l = last(data_dir).unwrap_or_default();
    let now = now_ms();
    match outcome {
        Ok((dir, _)) => {
            l.ok_ms = Some(now);
            l.ok_dir = Some(dir.display().to_string());
        }
        Err(e) => {
            l.failed_ms = Some(now);
            l.error = Some(e.to_string().chars().take(500).collect());
        }
    }
    let p = data_dir.join(LAST_FILE);
    let bytes = serde_json::to_vec(&l).expect("the record of a backup serialises");
    if let Err(e) = civreg_runtime::fs::write_atomic(&p, &bytes, civreg_runtime::fs::Mode::Private)
    {
        tracing::warn!(path = %p.display(), error = %e, "could not keep the outcome of the backup");
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a civreg-hub backup (no readable manifest.json): give the directory `civreg-hub backup` wrote")]
    NotABackup(PathBuf),
    #[error("the backup in {path} can not be used: {why}")]
    Refused { path: PathBuf, why: String },
    #[error("{0} already holds a hub database: restore into a data directory without one (move it aside first)")]
    DatabaseExists(PathBuf),
    #[error("{0}")]
    Key(#[from] crate::atrest::KeyError),
    #[error("{0}")]
    Review(#[from] crate::review::ReviewError),
}

impl From<SnapshotError> for BackupError {
    fn from(e: SnapshotError) -> Self {
        BackupError::Refused {
            path: PathBuf::new(),
            why: e.to_string(),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A chain head as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainHead {
    pub chain: String,
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    pub created_at_ms: u64,
    pub created_at: String,
    pub chains: Vec<ChainHead>,
    pub store_entries: u64,
    pub files: Vec<String>,
    pub frames: u64,
    pub entries: u64,
    pub bytes: u64,
    pub sha256: String,
    pub mac: String,
}

impl civreg_shared::snapshot::Manifest for Manifest {
    const MAC_DOMAIN: &'static str = MAC_DOMAIN;
    fn format(&self) -> u32 {
        self.format
    }
    fn mac_mut(&mut self) -> &mut String {
        &mut self.mac
    }
}

impl Manifest {
    fn summary(&self) -> Summary {
        Summary {
            frames: self.frames,
            entries: self.entries,
            bytes: self.bytes,
            sha256: self.sha256.clone(),
        }
    }
}

use civreg_runtime::clock::now_ms;

/// The hub's files to back up, relative to the data directory, in name order.
fn files(data_dir: &Path, key_file: Option<&Path>) -> Result<Vec<PathBuf>, BackupError> {
    let key = key_file.and_then(|k| k.canonicalize().ok());
    // The old keys a rotation kept (`crate::rotate`: `KEY.old-DATE`): never in a backup.
    let old_keys: Vec<String> = [
        key_file
            .and_then(|k| k.file_name())
            .and_then(|n| n.to_str())
            .map(str::to_string),
        Some("hub.key".into()),
        Some("search.key".into()),
    ]
    .into_iter()
    .flatten()
    .map(|n| format!("{n}.old-"))
    .collect();
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = data_dir.join(&rel);
        for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let e = e.map_err(io(&dir))?;
            let name = e.file_name();
            let Some(n) = name.to_str() else { continue };
            if rel.as_os_str().is_empty() && SKIP.contains(&n) {
                continue;
            }
            if n.ends_with(".tmp")
                || n.starts_with('.')
                || old_keys.iter().any(|p| n.starts_with(p.as_str()))
            {
                continue;
            }
            let path = rel.join(n);
            let ft = e.file_type().map_err(io(&e.path()))?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                if key.is_some() && e.path().canonicalize().ok() == key {
                    continue;
                }
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Makes a backup of the hub under `out`; returns its directory and manifest. Its outcome is
/// kept in [`LAST_FILE`].
pub fn backup(
    store: &HubStore,
    data_dir: &Path,
    key_file: Option<&Path>,
    out: &Path,
) -> Result<(PathBuf, Manifest), BackupError> {
    let outcome = make(store, data_dir, key_file, out);
    note(data_dir, &outcome);
    outcome
}

fn make(
    store: &HubStore,
    data_dir: &Path,
    key_file: Option<&Path>,
    out: &Path,
) -> Result<(PathBuf, Manifest), BackupError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let created_at_ms = now_ms();
    let when = chrono::DateTime::from_timestamp_millis(created_at_ms as i64).unwrap_or_default();
    let name = format!("civreg-hub-backup-{}", when.format("%Y%m%dT%H%M%S%3fZ"));
    let dir = out.join(&name);
    let tmp = out.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(io(&tmp))?;
    let mut id = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
        .map_err(|_| BackupError::Key(crate::atrest::KeyError::Rng))?;
    let id = hex::encode(id);
    let body_path = tmp.join("snapshot.bin");
    let file = std::fs::File::create(&body_path).map_err(io(&body_path))?;
    let keys = store.sealer();
    let mut w = snapshot::Writer::new(BufWriter::new(file), keys, &id).map_err(io(&body_path))?;
    let (heads, store_entries) =
        store.with_writes_held(|entries, heads| -> Result<_, BackupError> {
            let mut n = 0u64;
            for kv in entries {
                let (k, v) = kv?;
                w.entry("store", &k, &v).map_err(io(&body_path))?;
                n += 1;
            }
            Ok((heads, n))
        })?;
    let listed = files(data_dir, key_file)?;
    for rel in &listed {
        let p = data_dir.join(rel);
        let bytes = std::fs::read(&p).map_err(io(&p))?;
        let key = rel.to_string_lossy();
        w.entry("file", key.as_bytes(), &bytes)
            .map_err(io(&body_path))?;
    }
    let (buf, sum) = w.finish().map_err(io(&body_path))?;
    let file = buf.into_inner().map_err(|e| BackupError::Io {
        path: body_path.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(&body_path))?;
    let mut m = Manifest {
        format: BACKUP_FORMAT,
        id,
        created_at_ms,
        created_at: when.to_rfc3339(),
        chains: heads
            .iter()
            .map(|(c, h)| ChainHead {
                chain: c.clone(),
                seq: h.seq,
                hash: h.hash.to_string(),
            })
            .collect(),
        store_entries,
        files: listed
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        frames: sum.frames,
        entries: sum.entries,
        bytes: sum.bytes,
        sha256: sum.sha256,
        mac: String::new(),
    };
    m.mac = m.mac_with(keys);
    let man = tmp.join("manifest.json");
    civreg_runtime::fs::create_private(
        &man,
        &serde_json::to_vec_pretty(&m).expect("manifest serialises"),
    )
    .map_err(io(&man))?;
    sync_dir(&tmp)?;
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    sync_dir(out)?;
    Ok((dir, m))
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    civreg_runtime::fs::sync_dir(dir).map_err(io(dir))
}

fn read_manifest(from: &Path, keys: &civreg_shared::seal::Sealer) -> Result<Manifest, BackupError> {
    use civreg_runtime::backup::{read_manifest, ReadManifestError};
    read_manifest(from, MANIFEST_MAX, "civreg-hub", BACKUP_FORMAT, keys).map_err(|e| match e {
        ReadManifestError::NotABackup => BackupError::NotABackup(from.to_path_buf()),
        ReadManifestError::Refused(why) => BackupError::Refused {
            path: from.to_path_buf(),
            why: why.to_string(),
        },
    })
}

/// A relative path from a backup that stays inside the data directory.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    let ok = !p.is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    ok.then(|| path.to_path_buf())
}

/// What the drill found.
#[derive(Debug, Clone, Serialize)]
pub struct Drill {
    /// Chains walked, and their ops (set-aside ones included by hash).
    pub chains: usize,
    pub ops: u64,
    /// The first problem of each chain whose log does not lead to its head.
    pub problems: Vec<String>,
    /// Per municipality with records: (code, records, digest).
    pub digests: Vec<(String, u64, String)>,
}

/// Walks every chain from #1 to its head and computes every municipality's digest.
pub fn drill(store: &HubStore) -> Result<Drill, BackupError> {
    let mut problems = Vec::new();
    let mut ops_seen = 0u64;
    let heads = store.heads();
    for (chain, head) in &heads {
        let Some((m, n)) = chain.split_once('/') else {
            problems.push(format!("chain {chain}: not municipality/node"));
            continue;
        };
        if let Some(p) = walk(store, m, n, *head, &mut ops_seen)? {
            problems.push(format!("chain {chain}: {p}"));
        }
    }
    let mut digests = Vec::new();
    for muni in civreg_shared::gazetteer::all() {
        let d = crate::review::digest(store, muni.code)?;
        if d.records > 0 {
            digests.push((muni.code.to_string(), d.records, d.sha256));
        }
    }
    Ok(Drill {
        chains: heads.len(),
        ops: ops_seen,
        problems,
        digests,
    })
}

fn walk(
    store: &HubStore,
    m: &str,
    n: &str,
    head: Head,
    seen: &mut u64,
) -> Result<Option<String>, BackupError> {
    let aside: std::collections::HashMap<u64, Hash> = store
        .set_aside_of(m, n)?
        .into_iter()
        .map(|a| (a.seq, a.hash))
        .collect();
    let mut prev = GENESIS;
    let mut next = 1u64;
    let skip_to = |upto: u64, prev: &mut Hash, next: &mut u64| -> Option<String> {
        while *next < upto {
            match aside.get(next) {
                Some(h) => *prev = *h,
                None => return Some(format!("op #{next} is missing")),
            }
            *next += 1;
        }
        None
    };
    for op in store.chain_ops(m, n)? {
        if let Some(p) = skip_to(op.id.seq, &mut prev, &mut next) {
            return Ok(Some(p));
        }
        if op.id.seq != next {
            return Ok(Some(format!("op #{} is out of place", op.id.seq)));
        }
        if let Err(e) = op.check() {
            return Ok(Some(format!("op #{}: {e}", op.id.seq)));
        }
        if op.prev_hash != prev {
            return Ok(Some(format!(
                "op #{} does not link to #{}",
                op.id.seq,
                next - 1
            )));
        }
        prev = op.hash;
        next += 1;
        *seen += 1;
    }
    if let Some(p) = skip_to(head.seq + 1, &mut prev, &mut next) {
        return Ok(Some(p));
    }
    if next != head.seq + 1 || prev != head.hash {
        return Ok(Some(format!(
            "the log ends at #{} but the head is #{} {}",
            next - 1,
            head.seq,
            head.hash
        )));
    }
    *seen += aside.keys().filter(|s| **s <= head.seq).count() as u64;
    Ok(None)
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub manifest: Manifest,
    pub drill: Drill,
}

/// Restores the backup in `from` into `data_dir` (no database there; `key_file` the hub's),
/// checking every frame before anything is written, then runs the drill on the result.
pub fn restore(data_dir: &Path, key_file: &Path, from: &Path) -> Result<Restored, BackupError> {
    let db = crate::paths::db_dir(data_dir);
    if db.exists() {
        return Err(BackupError::DatabaseExists(data_dir.to_path_buf()));
    }
    let keys = crate::atrest::load_key(key_file)?;
    let m = read_manifest(from, &keys)?;
    let body = from.join("snapshot.bin");
    let refused = |e: BackupError| match e {
        BackupError::Refused { why, .. } => BackupError::Refused {
            path: from.to_path_buf(),
            why,
        },
        other => other,
    };
    let (len, sha) = snapshot::checksum(BufReader::new(
        std::fs::File::open(&body).map_err(io(&body))?,
    ))
    .map_err(io(&body))?;
    if len != m.bytes || sha != m.sha256 {
        return Err(BackupError::Refused {
            path: from.to_path_buf(),
            why: "snapshot.bin is damaged or altered (its checksum differs from the manifest's): use another backup".into(),
        });
    }
    let open = || -> Result<_, BackupError> {
        Ok(BufReader::new(
            std::fs::File::open(&body).map_err(io(&body))?,
        ))
    };
    // Every frame checked, and every file's path, before anything is written.
    snapshot::read(open()?, &keys, &m.id, &m.summary(), |entries| {
        for (space, k, _) in entries {
            let ok = match space.as_str() {
                "store" => true,
                "file" => std::str::from_utf8(&k)
                    .ok()
                    .and_then(safe_relative)
                    .is_some(),
                _ => false,
            };
            if !ok {
                return Err(BackupError::from(SnapshotError::Refused(format!(
                    "an entry of space {space:?} can not be restored"
                ))));
            }
        }
        Ok(())
    })
    .map_err(refused)?;
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let staging = data_dir.join("db.restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    {
        let sdb = sled::Config::new()
            .path(&staging)
            .open()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let tree = sdb
            .open_tree("hub")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        snapshot::read(open()?, &keys, &m.id, &m.summary(), |entries| {
            let mut batch = sled::Batch::default();
            for (space, k, v) in entries {
                if space == "store" {
                    batch.insert(k, v);
                } else if let Some(rel) = std::str::from_utf8(&k).ok().and_then(safe_relative) {
                    let p = data_dir.join(rel);
                    if let Some(parent) = p.parent() {
                        std::fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    std::fs::write(&p, &v).map_err(io(&p))?;
                }
            }
            tree.apply_batch(batch)
                .map_err(|e| BackupError::Store(StoreError::Corrupt(e.to_string())))
        })
        .map_err(refused)?;
        sdb.flush()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    std::fs::rename(&staging, &db).map_err(io(&db))?;
    sync_dir(data_dir)?;
    // The staging database was closed above, but sled lets go of its file lock only when its
    // background threads have ended, which on a loaded machine can be a moment after the drop:
    // the lock held then is this process's own, so it is waited for (bounded), never reported
    // as another hub's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let backend = loop {
        match crate::store::backend::sled::SledBackend::open(&db) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => break other?,
        }
    };
    let store = HubStore::open_backend(std::sync::Arc::new(backend), keys)?;
    let drill = drill(&store)?;
    let heads: Vec<ChainHead> = store
        .heads()
        .into_iter()
        .map(|(c, h)| ChainHead {
            chain: c,
            seq: h.seq,
            hash: h.hash.to_string(),
        })
        .collect();
    if heads != m.chains {
        return Err(BackupError::Refused {
            path: from.to_path_buf(),
            why: "the restored store's chain heads differ from the manifest's".into(),
        });
    }
    Ok(Restored { manifest: m, drill })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_of_the_last_backup_is_kept_and_a_success_clears_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("hub");
        std::fs::create_dir_all(&data).expect("data dir");
        let store = HubStore::open_memory(crate::atrest::keys_from_master(&[7; 32]))
            .expect("a memory store");
        assert_eq!(last(&data), None);
        // `out` is a file: the backup fails, and says so.
        let not_a_dir = dir.path().join("file");
        std::fs::write(&not_a_dir, b"x").expect("write");
        assert!(backup(&store, &data, None, &not_a_dir).is_err());
        let l = last(&data).expect("kept");
        assert!(l.failed(), "{l:?}");
        assert!(
            l.error.as_deref().is_some_and(|e| e.contains("file")),
            "{l:?}"
        );
        let (made, _) = backup(&store, &data, None, &dir.path().join("out")).expect("backup");
        let l = last(&data).expect("kept");
        assert!(!l.failed(), "{l:?}");
        assert_eq!(
            l.ok_dir.as_deref(),
            Some(made.display().to_string().as_str())
        );
        assert!(l.error.is_some(), "the last failure is still told");
    }
}
