//! Backups of a node and their restore (issue 17 part A).
//!
//! A backup is a directory `civreg-backup-MUNICIPALITY-NODE-YYYYMMDDTHHMMSSZ/` holding
//! `manifest.json` and `snapshot.bin`:
//! - `snapshot.bin` is every tree of the database (ops, record states, counters, clerks' argon2
//!   hashes, import keys, received ops, access log, certificates, metadata) read while the
//!   node's single writer lock is held ([`Node::with_writes_held`]), so it is one consistent
//!   state, the same whether `serve` runs (the command then runs inside it) or not. The body is
//!   `civreg_shared::snapshot` (the hub's backups use it too): frames of up to 1 MiB, each
//!   sealed with the node's key with the backup's id and the frame's number as associated data,
//!   so a frame can be neither read, altered, moved nor dropped unnoticed. Values that the database keeps sealed stay sealed inside. The key file is
//!   never in a backup: it is needed to restore one.
//! - `manifest.json` says what the backup holds in clear (node, municipality, chain head and
//!   hash, acknowledged head, time, format, entry and frame counts, the SHA-256 of
//!   `snapshot.bin`) and carries a MAC over all of it with a key derived from the node's key, so
//!   an altered manifest (or a backup of another node's key) is refused before anything is
//!   written.
//!
//! [`restore`] writes the snapshot into an empty data directory (`db.restoring`, renamed to `db`
//! when whole) and marks the node restored: it registers again only after it has caught up
//! with the hub (`node/restore.rs`, `sync::sync_round`).

use crate::node::{Node, NodeError, Paths};
use crate::store::{Batch, SledStore, Store, StoreError, Tree};
use civreg_shared::snapshot::{self, Manifest as _, SnapshotError};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

/// The backup format this build writes and reads.
pub const BACKUP_FORMAT: u32 = 1;
const MANIFEST_MAX: u64 = 64 * 1024;
const MAC_DOMAIN: &str = "civreg-node backup manifest v1";
/// How often `serve --backup-dir` makes a backup.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Node(#[from] NodeError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a civreg-node backup (no readable manifest.json): give the directory `civreg-node backup` wrote, civreg-backup-...")]
    NotABackup(PathBuf),
    #[error("the backup in {path} can not be used: {why}")]
    Refused { path: PathBuf, why: String },
    #[error("{0} already holds a node database: restore into an empty data directory (move the old one aside first)")]
    DatabaseExists(PathBuf),
}

/// What a backup holds, in clear, with its MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// Random, names the backup; part of every frame's associated data.
    pub id: String,
    pub municipality: String,
    pub node_id: String,
    /// The last op of the node's log in the backup, and its hash.
    pub head_seq: u64,
    pub head_hash: String,
    /// What the hub had acknowledged when the backup was made.
    pub hub_acked: u64,
    pub created_at_ms: u64,
    pub created_at: String,
    pub entries: u64,
    pub frames: u64,
    pub bytes: u64,
    /// SHA-256 of `snapshot.bin`, hex.
    pub sha256: String,
    /// HMAC-SHA256 (a key derived from the node's key) of this manifest with `mac` empty, hex.
    pub mac: String,
}

impl From<SnapshotError> for BackupError {
    fn from(e: SnapshotError) -> Self {
        BackupError::Refused {
            path: PathBuf::new(),
            why: e.to_string(),
        }
    }
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

/// The outcome of the last scheduled backup, kept in `DATA_DIR/backup-status.json` and shown by
/// `status` and the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStatus {
    /// The last backup made (by the schedule or by hand through `serve`).
    pub last_ok_ms: Option<u64>,
    pub last_path: Option<PathBuf>,
    /// The last scheduled attempt, and why it failed when it did.
    pub last_attempt_ms: Option<u64>,
    pub last_error: Option<String>,
}

pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("backup-status.json")
}

pub fn read_status(data_dir: &Path) -> BackupStatus {
    std::fs::read(status_path(data_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_status(data_dir: &Path, st: &BackupStatus) {
    let path = status_path(data_dir);
    let ok = serde_json::to_vec_pretty(st).ok().and_then(|b| {
        civreg_runtime::fs::write_atomic(&path, &b, civreg_runtime::fs::Mode::Public).ok()
    });
    if ok.is_none() {
        tracing::warn!(path = %path.display(), "could not write the backup status file");
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

use civreg_runtime::clock::now_ms;

fn fsync_dir(dir: &Path) -> Result<(), BackupError> {
    civreg_runtime::fs::sync_dir(dir).map_err(io(dir))
}

/// Makes a backup of `node` under `out` (created if missing) and returns its directory and
/// manifest. Registration waits while the trees are read; the directory appears whole or not
/// at all (written under a temporary name, synced, then renamed).
pub fn backup(node: &Node, out: &Path) -> Result<(PathBuf, Manifest), BackupError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let created_at_ms = now_ms();
    let stamp = chrono::DateTime::from_timestamp_millis(created_at_ms as i64)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%S%3fZ")
        .to_string();
    let ident = node.identity().clone();
    let name = format!(
        "civreg-backup-{}-{}-{stamp}",
        ident.municipality, ident.node_id
    );
    let dir = out.join(&name);
    let tmp = out.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(io(&tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700)).map_err(io(&tmp))?;
    }
    let mut id = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
        .map_err(|_| NodeError::Key(crate::crypto::KeyError::Rng))?;
    let id = hex::encode(id);
    let snap_path = tmp.join("snapshot.bin");
    let file = std::fs::File::create(&snap_path).map_err(io(&snap_path))?;
    let sealer: &civreg_shared::seal::Sealer = node.crypto();
    let mut w = snapshot::Writer::new(BufWriter::new(file), sealer, &id).map_err(io(&snap_path))?;
    let head = node.with_writes_held(|store, head| -> Result<_, BackupError> {
        for tree in Tree::ALL {
            for kv in store.scan(tree) {
                let (k, v) = kv?;
                w.entry(tree.name(), &k, &v).map_err(io(&snap_path))?;
            }
        }
        Ok(head)
    })??;
    let (buf, sum) = w.finish().map_err(io(&snap_path))?;
    let file = buf.into_inner().map_err(|e| BackupError::Io {
        path: snap_path.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(&snap_path))?;
    let mut m = Manifest {
        format: BACKUP_FORMAT,
        id,
        municipality: ident.municipality.clone(),
        node_id: ident.node_id.clone(),
        head_seq: head.seq,
        head_hash: head.hash.to_string(),
        hub_acked: head.hub_acked,
        created_at_ms,
        created_at: chrono::DateTime::from_timestamp_millis(created_at_ms as i64)
            .unwrap_or_default()
            .to_rfc3339(),
        entries: sum.entries,
        frames: sum.frames,
        bytes: sum.bytes,
        sha256: sum.sha256,
        mac: String::new(),
    };
    m.mac = m.mac_with(node.crypto());
    let man_path = tmp.join("manifest.json");
    let text = serde_json::to_vec_pretty(&m).expect("manifest serialises");
    civreg_runtime::fs::create_private(&man_path, &text).map_err(io(&man_path))?;
    fsync_dir(&tmp)?;
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    fsync_dir(out)?;
    Ok((dir, m))
}

/// Removes the oldest backups of this node in `dir` beyond the newest `keep`. Returns the
/// directories removed.
pub fn prune(node: &Node, dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let ident = node.identity();
    let prefix = format!("civreg-backup-{}-{}-", ident.municipality, ident.node_id);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
                && e.path().join("manifest.json").exists()
        })
        .map(|e| e.path())
        .collect();
    // The names end in a UTC timestamp: name order is time order.
    found.sort();
    let excess = found.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for p in found.into_iter().take(excess) {
        std::fs::remove_dir_all(&p).map_err(io(&p))?;
        removed.push(p);
    }
    Ok(removed)
}

/// Reads and checks a backup's manifest with the node's key.
pub fn read_manifest(
    from: &Path,
    crypto: &civreg_shared::seal::Sealer,
) -> Result<Manifest, BackupError> {
    use civreg_runtime::backup::ReadManifestError;
    civreg_runtime::backup::read_manifest(from, MANIFEST_MAX, "civreg-node", BACKUP_FORMAT, crypto)
        .map_err(|e| match e {
            ReadManifestError::NotABackup => BackupError::NotABackup(from.to_path_buf()),
            ReadManifestError::Refused(why) => BackupError::Refused {
                path: from.to_path_buf(),
                why: why.to_string(),
            },
        })
}

/// Reads a snapshot's entries, checking the checksum, every frame's seal and place and the
/// counts (`civreg_shared::snapshot`), and hands each frame's entries to `apply`.
fn read_snapshot(
    from: &Path,
    m: &Manifest,
    crypto: &civreg_shared::seal::Sealer,
    mut apply: impl FnMut(Batch) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let refused = |why: String| BackupError::Refused {
        path: from.to_path_buf(),
        why,
    };
    let path = from.join("snapshot.bin");
    // The checksum first, so that a damaged file is named as such before any frame is opened.
    let (len, sha) = snapshot::checksum(BufReader::new(
        std::fs::File::open(&path).map_err(io(&path))?,
    ))
    .map_err(io(&path))?;
    if len != m.bytes || sha != m.sha256 {
        return Err(refused(
            "snapshot.bin is damaged or altered (its checksum differs from the manifest's): use another backup".into(),
        ));
    }
    let trees: std::collections::HashMap<&str, Tree> =
        Tree::ALL.iter().map(|t| (t.name(), *t)).collect();
    let expect = snapshot::Summary {
        frames: m.frames,
        entries: m.entries,
        bytes: m.bytes,
        sha256: m.sha256.clone(),
    };
    let file = BufReader::new(std::fs::File::open(&path).map_err(io(&path))?);
    snapshot::read(file, crypto, &m.id, &expect, |entries| {
        let mut batch = Batch::default();
        for (space, k, v) in entries {
            let tree = trees
                .get(space.as_str())
                .copied()
                .ok_or_else(|| refused(format!("it names an unknown tree {space:?}")))?;
            batch.put(tree, k, v);
        }
        apply(batch)
    })
    .map_err(|e| match e {
        BackupError::Refused { why, .. } => refused(why),
        other => other,
    })
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restore {
    pub manifest: Manifest,
    pub data_dir: PathBuf,
}

/// Restores the backup in `from` into `paths` (whose data directory holds no database; its
/// key file must be the node's), checking everything before the database appears, and marks
/// the node restored: it registers again once it has caught up with the hub.
pub fn restore(paths: &Paths, from: &Path) -> Result<Restore, BackupError> {
    if paths.db.exists() {
        return Err(BackupError::DatabaseExists(paths.data_dir.clone()));
    }
    let crypto = crate::crypto::Crypto::load(&paths.key).map_err(NodeError::from)?;
    let m = read_manifest(from, &crypto)?;
    // Check every frame before writing anything.
    read_snapshot(from, &m, &crypto, |_| Ok(()))?;
    std::fs::create_dir_all(&paths.data_dir).map_err(io(&paths.data_dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&paths.data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io(&paths.data_dir))?;
    }
    let staging = paths.data_dir.join("db.restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    {
        let store = SledStore::open(&staging)?;
        read_snapshot(from, &m, &crypto, |b| Ok(store.commit(b)?))?;
        store.flush()?;
    }
    std::fs::rename(&staging, &paths.db).map_err(io(&paths.db))?;
    fsync_dir(&paths.data_dir)?;
    let node = Node::open(paths)?;
    let ident = node.identity();
    if ident.municipality != m.municipality
        || ident.node_id != m.node_id
        || node.log_len() != m.head_seq
        || node.head_hash().to_string() != m.head_hash
    {
        return Err(BackupError::Refused {
            path: from.to_path_buf(),
            why: "the restored database does not match its manifest".into(),
        });
    }
    node.mark_restored("backup", &m.id, now_ms())?;
    // Clerk accounts changed since the backup are the hub's: asked for with the next heartbeat.
    node.want_roster_after_backup()?;
    Ok(Restore {
        manifest: m,
        data_dir: paths.data_dir.clone(),
    })
}

/// Runs inside `serve`: a backup to `dir` at start and then every `every`, keeping `keep`;
/// the outcome goes to `backup-status.json` (shown by `status`, sent with the heartbeat).
pub async fn scheduled(
    node: std::sync::Arc<Node>,
    data_dir: PathBuf,
    dir: PathBuf,
    keep: usize,
    every: std::time::Duration,
) {
    loop {
        let (n, d) = (node.clone(), dir.clone());
        let res = tokio::task::spawn_blocking(move || -> Result<PathBuf, BackupError> {
            let (path, _) = backup(&n, &d)?;
            prune(&n, &d, keep)?;
            Ok(path)
        })
        .await;
        let mut st = read_status(&data_dir);
        let now = now_ms();
        st.last_attempt_ms = Some(now);
        match res {
            Ok(Ok(path)) => {
                tracing::info!(path = %path.display(), "backup made");
                st.last_ok_ms = Some(now);
                st.last_path = Some(path);
                st.last_error = None;
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "BACKUP FAILED");
                st.last_error = Some(e.to_string());
            }
            Err(e) => st.last_error = Some(format!("the backup task failed: {e}")),
        }
        write_status(&data_dir, &st);
        tokio::time::sleep(every).await;
    }
}

/// Notes a backup made by hand, so that `status` shows the last one.
pub fn note_made(data_dir: &Path, path: &Path) {
    let mut st = read_status(data_dir);
    st.last_ok_ms = Some(now_ms());
    st.last_path = Some(path.to_path_buf());
    write_status(data_dir, &st);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn birth(given: &str) -> serde_json::Value {
        serde_json::json!({
            "child": {"given_name": given, "surname": "Gashi", "sex": "female", "date_of_birth": "2020-03-14"},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha"}
        })
    }

    fn node_in(dir: &Path) -> (Paths, Node) {
        let paths = Paths::new(&dir.join("data"), None);
        Node::init(&paths, "prishtine", "1").unwrap();
        let node = Node::open(&paths).unwrap();
        (paths, node)
    }

    #[test]
    fn a_backup_restores_whole_and_refuses_tampering() {
        let tmp = tempfile::tempdir().unwrap();
        let (paths, node) = node_in(tmp.path());
        let clerk = Node::clerk_unchecked("ana");
        node.add_clerk(None, "ana", "correct horse").unwrap();
        for g in ["Arben", "Besnik", "Driton"] {
            node.register(&clerk, civreg_shared::model::RecordKind::Birth, birth(g))
                .unwrap();
        }
        let digest = node.digest().unwrap();
        let (dir, m) = backup(&node, &tmp.path().join("out")).unwrap();
        assert_eq!(m.head_seq, 3);
        drop(node);
        // Nothing personal in clear in the backup.
        let bytes = std::fs::read(dir.join("snapshot.bin")).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"Besnik"));
        assert!(!bytes.windows(3).any(|w| w == b"ana"));

        // Into a data dir that holds a database: refused.
        assert!(matches!(
            restore(&paths, &dir),
            Err(BackupError::DatabaseExists(_))
        ));
        let fresh = Paths {
            data_dir: tmp.path().join("fresh"),
            db: tmp.path().join("fresh/db"),
            key: paths.key.clone(),
        };
        // A flipped byte in the snapshot, or an edited manifest: refused, nothing written.
        let mut bad = bytes.clone();
        let at = bad.len() / 2;
        bad[at] ^= 1;
        let copy = tmp.path().join("copy");
        std::fs::create_dir(&copy).unwrap();
        std::fs::copy(dir.join("manifest.json"), copy.join("manifest.json")).unwrap();
        std::fs::write(copy.join("snapshot.bin"), &bad).unwrap();
        let e = restore(&fresh, &copy).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        assert!(!fresh.db.exists());
        std::fs::write(copy.join("snapshot.bin"), &bytes).unwrap();
        let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        std::fs::write(
            copy.join("manifest.json"),
            text.replace("\"head_seq\": 3", "\"head_seq\": 2"),
        )
        .unwrap();
        let e = restore(&fresh, &copy).unwrap_err().to_string();
        assert!(e.contains("altered"), "{e}");
        assert!(!fresh.db.exists());
        // Another node's key: refused.
        let other = Paths {
            data_dir: tmp.path().join("other"),
            db: tmp.path().join("other/db"),
            key: tmp.path().join("other.key"),
        };
        crate::crypto::create_key_file(&other.key).unwrap();
        assert!(restore(&other, &dir).is_err());

        let r = restore(&fresh, &dir).unwrap();
        assert_eq!(r.manifest.head_seq, 3);
        let back = Node::open(&fresh).unwrap();
        assert_eq!(back.digest().unwrap(), digest);
        assert!(back.verify().unwrap().ok);
        assert!(back.authenticate("ana", "correct horse").is_ok());
        // Restored: nothing is saved until it has caught up with the hub.
        assert!(back.restored().unwrap().is_some());
        assert!(back
            .register(
                &clerk,
                civreg_shared::model::RecordKind::Birth,
                birth("Fatos")
            )
            .is_err());
    }

    #[test]
    fn prune_keeps_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let (_paths, node) = node_in(tmp.path());
        let out = tmp.path().join("out");
        let mut made = Vec::new();
        for _ in 0..4 {
            made.push(backup(&node, &out).unwrap().0);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let removed = prune(&node, &out, 2).unwrap();
        assert_eq!(removed, made[..2].to_vec());
        assert!(made[2].exists() && made[3].exists());
    }
}
