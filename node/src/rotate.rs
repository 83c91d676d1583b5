//! Key rotation (issue 17): `civreg-node rotate-key --new-key-file PATH`, and `--resume` after
//! an interruption.
//!
//! The rotation writes the new key file (0600), then records "rotation in progress" in `meta`
//! ([`ROTATION`]: the new key file's path, the new key's check value, a cursor). Then, in
//! batches of bounded size, each one atomic write that also moves the cursor:
//! 1. `imports`: every key is a blind token of the imported register entry (or content) under
//!    the node's key. The token is derived again, under the old key and the new, from the
//!    record the entry created (its create op, else its current state); when the old token is
//!    the stored key, the entry moves to the new token (keeping an occurrence suffix `#n`).
//!    An entry whose record no longer gives its token is left as it is and counted: a rerun of
//!    its file could import that row again (nothing is lost or unreadable).
//! 2. every sealed value of `meta` (the signer key), `ops`, `records`, `remote`, `access` and
//!    `certs` is opened with the old key and sealed again with the new.
//! 3. one atomic write puts the new key check in place of the old: from then the database is
//!    the new key's. Then the key files are swapped (the old one renamed `KEY.old-DATE`, the
//!    new one renamed to `KEY`) and the rotation record is removed.
//!
//! Resuming: by the cursor, which is committed with each batch, so it is exact; each value is
//! also recognised by the key that opens it (AEAD fails under the wrong key), so a value found
//! already sealed with the new key is left as it is and one that opens with neither stops the
//! rotation (it is never overwritten). Both keys are needed until step 3.
//!
//! While the rotation record exists, [`crate::node::Node::open`] refuses with a message that
//! says to resume: a node that opened it would read and write with one key while the data is
//! under two, and a write behind the cursor would be left under the old key. Refusing keeps one
//! writer and every value under exactly one known key.
//!
//! Not re-derived: the blind marks of personal numbers in the access log's queries (the numbers
//! themselves are not stored, so they can not be marked again). They stay readable (they are
//! inside the sealed entries) but a number searched after the rotation gets another mark.

use crate::crypto::{self, Crypto, KeyError};
use crate::node::{Identity, NodeError, Paths};
use crate::store::{Batch, Kv, SledStore, Store, StoreError, Tree};
use civreg_shared::fields::FieldMap;
use civreg_shared::merge::RecordState;
use civreg_shared::model::Record;
use civreg_shared::op::{ChangeKind, Op};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `meta` key of an unfinished rotation.
pub const ROTATION: &[u8] = b"rotation";
/// The `meta` key of the key check (sealed under the node's key).
pub(crate) const KEY_CHECK_KEY: &[u8] = b"key_check";

/// Values re-sealed per atomic write unless told otherwise.
pub const DEFAULT_BATCH: usize = 500;

/// The trees worked through, in order. `imports` comes first: its tokens are derived from the
/// records and ops while these are still under the old key.
const STEPS: [Tree; 7] = [
    Tree::Imports,
    Tree::Meta,
    Tree::Ops,
    Tree::Records,
    Tree::Remote,
    Tree::Access,
    Tree::Certs,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Re-sealing and re-deriving, tree by tree.
    Data,
    /// The database is the new key's; the key files are still to be swapped.
    Files,
}

/// An unfinished rotation, as kept in `meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub new_key_file: PathBuf,
    /// Where the old key file goes at the end.
    pub old_key_to: PathBuf,
    /// The key check sealed under the new key, hex.
    pub new_check: String,
    pub phase: Phase,
    /// Index into the trees worked through.
    pub step: usize,
    /// The last key done in the current tree, hex.
    pub after: Option<String>,
    /// Entries done so far, and about how many there are (counted at the start).
    pub done: u64,
    pub total: u64,
    /// Import keys that could not be derived again (left as they were).
    pub unmatched_imports: u64,
}

impl Rotation {
    /// The tree being worked on, if any is left.
    pub fn tree(&self) -> Option<Tree> {
        STEPS.get(self.step).copied()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("a key rotation to {0} is already in progress: run `civreg-node rotate-key --resume`")]
    InProgress(PathBuf),
    #[error("no key rotation is in progress in this database: nothing to resume (`civreg-node rotate-key --new-key-file PATH` starts one)")]
    NothingToResume,
    #[error("{0} already exists and no rotation is in progress, so no data was sealed with it: choose a path that does not exist, or delete that file if it is left from an interrupted start of rotate-key")]
    NewKeyExists(PathBuf),
    #[error("the new key file must not be the node's key file {0}")]
    SameKeyFile(PathBuf),
    #[error("the new key file {0} of the unfinished rotation is missing: part of the data is already sealed with it. Put it back (from where it was copied) and run `civreg-node rotate-key --resume`")]
    NewKeyMissing(PathBuf),
    #[error("{0} is not the new key this rotation started with: put back the key file written by `rotate-key` and run `civreg-node rotate-key --resume`")]
    NewKeyWrong(PathBuf),
    #[error("stored data is damaged: the {tree} entry {key} opens with neither the old nor the new key; nothing was overwritten. Run `civreg-node verify` with the old key, or restore from a backup")]
    Neither { tree: &'static str, key: String },
    #[error("the key files could not be swapped ({what}): {source}. The database already uses the new key; fix the cause and run `civreg-node rotate-key --resume`")]
    Files {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("node metadata is damaged ({0}); run `civreg-node verify`")]
    Meta(String),
}

/// The unfinished rotation recorded in `store`, if any.
pub fn unfinished(store: &dyn Store) -> Result<Option<Rotation>, RotateError> {
    match store.get(Tree::Meta, ROTATION)? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| RotateError::Meta(format!("rotation record: {e}"))),
    }
}

/// What a finished rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The node's key file, now holding the new key.
    pub key_file: PathBuf,
    /// The old key file, renamed.
    pub old_key_file: PathBuf,
    pub entries: u64,
    pub unmatched_imports: u64,
}

use civreg_runtime::keyswap::{old_key_path, same_file, sync_parent};

fn check_key(store: &dyn Store, c: &Crypto) -> Result<bool, RotateError> {
    let check = store
        .get(Tree::Meta, KEY_CHECK_KEY)?
        .ok_or_else(|| RotateError::Meta("key check".into()))?;
    Ok(
        matches!(c.open(Tree::Meta.name(), KEY_CHECK_KEY, &check), Ok(p) if p == crate::node::KEY_CHECK),
    )
}

fn open_store(paths: &Paths) -> Result<SledStore, RotateError> {
    if !paths.db.exists() {
        return Err(NodeError::NotInitialised(paths.data_dir.clone()).into());
    }
    // A one-off command (a `sync --once` round) may hold the database for a moment.
    let deadline = std::time::Instant::now() + crate::node::Node::LOCK_WAIT;
    loop {
        match SledStore::open(&paths.db) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(25))
            }
            other => return Ok(other?),
        }
    }
}

/// Starts a rotation to a new key written at `new_key_file` and runs it to the end.
pub fn start(
    paths: &Paths,
    new_key_file: &Path,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let store = open_store(paths)?;
    if let Some(r) = unfinished(&store)? {
        return Err(RotateError::InProgress(r.new_key_file));
    }
    let old = Crypto::load(&paths.key)?;
    if !check_key(&store, &old)? {
        return Err(NodeError::WrongKey.into());
    }
    if same_file(new_key_file, &paths.key) {
        return Err(RotateError::SameKeyFile(paths.key.clone()));
    }
    match crypto::create_key_file(new_key_file) {
        Err(KeyError::Exists(p)) => return Err(RotateError::NewKeyExists(p)),
        other => other?,
    }
    // The file's name too must survive a crash before anything is sealed with its key.
    sync_parent(new_key_file).map_err(|source| KeyError::Io {
        path: new_key_file.to_path_buf(),
        source,
    })?;
    // An absolute path: `--resume` may run from another directory.
    let new_key_file = std::path::absolute(new_key_file).map_err(|source| KeyError::Io {
        path: new_key_file.to_path_buf(),
        source,
    })?;
    let new = Crypto::load(&new_key_file)?;
    let rotation = begin(&store, &new, new_key_file, old_key_path(&paths.key))?;
    finish(paths, &store, &old, &new, rotation, batch, progress)
}

/// Records the rotation in `meta` (durably) before anything is sealed with the new key.
pub fn begin(
    store: &dyn Store,
    new: &Crypto,
    new_key_file: PathBuf,
    old_key_to: PathBuf,
) -> Result<Rotation, RotateError> {
    let mut total = 0u64;
    for t in STEPS {
        total += store.len(t)? as u64;
    }
    let rotation = Rotation {
        new_key_file,
        old_key_to,
        new_check: hex::encode(new.seal(Tree::Meta.name(), KEY_CHECK_KEY, crate::node::KEY_CHECK)),
        phase: Phase::Data,
        step: 0,
        after: None,
        done: 0,
        total,
        unmatched_imports: 0,
    };
    let mut b = Batch::default();
    put_record(&mut b, &rotation);
    store.commit(b)?;
    store.flush()?;
    Ok(rotation)
}

fn put_record(b: &mut Batch, r: &Rotation) {
    b.put(
        Tree::Meta,
        ROTATION.to_vec(),
        serde_json::to_vec(r).expect("rotation serialises"),
    );
}

/// Resumes an unfinished rotation and runs it to the end.
pub fn resume_run(
    paths: &Paths,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    let store = open_store(paths)?;
    let Some(rotation) = unfinished(&store)? else {
        return Err(RotateError::NothingToResume);
    };
    let new_check = hex::decode(&rotation.new_check)
        .map_err(|_| RotateError::Meta("rotation record".into()))?;
    if rotation.phase == Phase::Files {
        // The database is the new key's; the new key is in the new file or already in place.
        let at = if rotation.new_key_file.exists() {
            &rotation.new_key_file
        } else {
            &paths.key
        };
        if !check_key(&store, &Crypto::load(at)?)? {
            return Err(RotateError::NewKeyWrong(at.clone()));
        }
        return complete(paths, &store, rotation);
    }
    let old = Crypto::load(&paths.key)?;
    if !check_key(&store, &old)? {
        return Err(NodeError::WrongKey.into());
    }
    let new = match Crypto::load(&rotation.new_key_file) {
        Err(KeyError::Missing(p)) => return Err(RotateError::NewKeyMissing(p)),
        other => other?,
    };
    if !matches!(new.open(Tree::Meta.name(), KEY_CHECK_KEY, &new_check), Ok(p) if p == crate::node::KEY_CHECK)
    {
        return Err(RotateError::NewKeyWrong(rotation.new_key_file.clone()));
    }
    finish(paths, &store, &old, &new, rotation, batch, progress)
}

fn finish(
    paths: &Paths,
    store: &dyn Store,
    old: &Crypto,
    new: &Crypto,
    mut rotation: Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<Outcome, RotateError> {
    rotate_data(store, old, new, &mut rotation, batch, progress)?;
    complete(paths, store, rotation)
}

/// Swaps the key files and removes the rotation record (the database is the new key's).
fn complete(paths: &Paths, store: &dyn Store, rotation: Rotation) -> Result<Outcome, RotateError> {
    swap_files(paths, &rotation)?;
    let mut b = Batch::default();
    b.delete(Tree::Meta, ROTATION.to_vec());
    store.commit(b)?;
    store.flush()?;
    Ok(Outcome {
        key_file: paths.key.clone(),
        old_key_file: rotation.old_key_to,
        entries: rotation.done,
        unmatched_imports: rotation.unmatched_imports,
    })
}

/// Steps 1 to 3 of the module's description, on any store: re-derives and re-seals in batches
/// of `batch` entries, each one atomic and durable write with the cursor, then puts the new
/// key check in place. `progress` is called after each batch.
pub fn rotate_data(
    store: &dyn Store,
    old: &Crypto,
    new: &Crypto,
    rotation: &mut Rotation,
    batch: usize,
    progress: &mut dyn FnMut(&Rotation),
) -> Result<(), RotateError> {
    let batch = batch.max(1);
    let identity: Identity = serde_json::from_slice(
        &store
            .get(Tree::Meta, b"identity")?
            .ok_or_else(|| RotateError::Meta("identity".into()))?,
    )
    .map_err(|_| RotateError::Meta("identity".into()))?;
    while let Some(tree) = rotation.tree() {
        let after = match &rotation.after {
            Some(h) => {
                Some(hex::decode(h).map_err(|_| RotateError::Meta("rotation cursor".into()))?)
            }
            None => None,
        };
        let items: Vec<Kv> = store
            .scan_after(tree, after.as_deref())
            .take(batch)
            .collect::<Result<_, _>>()?;
        let mut b = Batch::default();
        match items.last() {
            None => {
                rotation.step += 1;
                rotation.after = None;
            }
            Some((last, _)) => {
                rotation.after = Some(hex::encode(last));
                for (k, v) in &items {
                    if tree == Tree::Imports {
                        rekey_import(store, old, new, &identity, k, v, &mut b, rotation)?;
                    } else {
                        reseal(tree, old, new, k, v, &mut b, rotation)?;
                    }
                }
            }
        }
        put_record(&mut b, rotation);
        store.commit(b)?;
        store.flush()?;
        progress(rotation);
    }
    // The switch: from this write on the database is the new key's.
    let check = hex::decode(&rotation.new_check)
        .map_err(|_| RotateError::Meta("rotation record".into()))?;
    rotation.phase = Phase::Files;
    let mut b = Batch::default();
    b.put(Tree::Meta, KEY_CHECK_KEY.to_vec(), check);
    put_record(&mut b, rotation);
    store.commit(b)?;
    store.flush()?;
    progress(rotation);
    Ok(())
}

fn reseal(
    tree: Tree,
    old: &Crypto,
    new: &Crypto,
    k: &[u8],
    v: &[u8],
    b: &mut Batch,
    rotation: &mut Rotation,
) -> Result<(), RotateError> {
    if tree == Tree::Meta && (k == KEY_CHECK_KEY || k == ROTATION) {
        return Ok(());
    }
    rotation.done += 1;
    if let Ok(plain) = old.open(tree.name(), k, v) {
        b.put(tree, k.to_vec(), new.seal(tree.name(), k, &plain));
        return Ok(());
    }
    if new.open(tree.name(), k, v).is_ok() || tree == Tree::Meta {
        // Already the new key's; or, in meta, a value kept in clear (identity, counters).
        return Ok(());
    }
    Err(RotateError::Neither {
        tree: tree.name(),
        key: String::from_utf8_lossy(k).into_owned(),
    })
}

/// A sealed value under either key (imports are re-derived before the values are re-sealed,
/// but a damaged cursor must not make a record unreadable here).
fn open_either(old: &Crypto, new: &Crypto, tree: Tree, k: &[u8], v: &[u8]) -> Option<Vec<u8>> {
    old.open(tree.name(), k, v)
        .or_else(|_| new.open(tree.name(), k, v))
        .ok()
}

/// The records an import entry may have been keyed from: the record as its create op wrote
/// it, and as it is now.
fn import_candidates(
    store: &dyn Store,
    old: &Crypto,
    new: &Crypto,
    identity: &Identity,
    regno: &str,
) -> Result<Vec<Record>, RotateError> {
    let mut out = Vec::new();
    let Some(sealed) = store.get(Tree::Records, regno.as_bytes())? else {
        return Ok(out);
    };
    let Some(state) = open_either(old, new, Tree::Records, regno.as_bytes(), &sealed)
        .and_then(|p| serde_json::from_slice::<RecordState>(&p).ok())
    else {
        return Ok(out);
    };
    if let Some(first) = state.ops.first() {
        if first.municipality == identity.municipality && first.node_id == identity.node_id {
            let key = first.seq.to_be_bytes();
            if let Some(sealed) = store.get(Tree::Ops, &key)? {
                let op = open_either(old, new, Tree::Ops, &key, &sealed)
                    .and_then(|p| serde_json::from_slice::<Op>(&p).ok());
                if let Some(op) = op.filter(|o| o.change == ChangeKind::Create) {
                    let fields: FieldMap = op
                        .changes
                        .iter()
                        .map(|c| (c.path.clone(), c.value.clone()))
                        .collect();
                    let own = civreg_shared::annotation::record_fields(&fields);
                    if let Ok(r) =
                        Record::from_json(state.kind, civreg_shared::fields::unflatten(&own))
                    {
                        out.push(r);
                    }
                }
            }
        }
    }
    if let Ok(r) = state.record() {
        out.push(r);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn rekey_import(
    store: &dyn Store,
    old: &Crypto,
    new: &Crypto,
    identity: &Identity,
    k: &[u8],
    v: &[u8],
    b: &mut Batch,
    rotation: &mut Rotation,
) -> Result<(), RotateError> {
    let regno = String::from_utf8_lossy(v);
    for record in import_candidates(store, old, new, identity, &regno)? {
        let kind = record.kind();
        let new_token = crate::import::import_key_with(new, kind, &record);
        if k.starts_with(&new_token) {
            // Moved by an earlier batch (it sorts after the cursor).
            return Ok(());
        }
        let old_token = crate::import::import_key_with(old, kind, &record);
        if k.starts_with(&old_token) {
            let mut moved = new_token;
            moved.extend_from_slice(&k[old_token.len()..]);
            b.delete(Tree::Imports, k.to_vec());
            b.put(Tree::Imports, moved, v.to_vec());
            rotation.done += 1;
            return Ok(());
        }
    }
    rotation.done += 1;
    rotation.unmatched_imports += 1;
    Ok(())
}

/// Step 3's files: the old key file to `old_key_to`, the new one to the node's key file
/// (`civreg_runtime::keyswap`, shared with the hub's rotations), so it can run again after a crash.
fn swap_files(paths: &Paths, rotation: &Rotation) -> Result<(), RotateError> {
    civreg_runtime::keyswap::swap_files(&paths.key, &rotation.new_key_file, &rotation.old_key_to)
        .map_err(|e| RotateError::Files {
            what: e.what.to_string(),
            source: e.source,
        })
}

#[derive(Debug, thiserror::Error)]
#[error("`civreg-node serve` is running on {0}: stop it first (a key rotation needs the database alone, and a running serve keeps the old key in memory); the rotation takes a few minutes")]
pub struct ServeRunning(PathBuf);

/// `rotate-key --new-key-file PATH` or `rotate-key --resume`, from the command line (never
/// inside `serve`: it needs the database alone). Like `backup`, no clerk signs in: whoever can
/// read the data directory and its key file can already read everything in it.
pub fn run_cli(
    paths: &Paths,
    io: &mut crate::cli::Io,
    json: bool,
    new_key_file: Option<&Path>,
    resume: bool,
    batch: usize,
) -> anyhow::Result<i32> {
    if let crate::control::Reach::Serving(_) = crate::control::reach(&paths.data_dir)? {
        return Err(ServeRunning(paths.data_dir.clone()).into());
    }
    let err = &mut *io.err;
    let mut progress = |r: &Rotation| {
        let line = match (r.phase, r.tree()) {
            (Phase::Data, Some(t)) => format!(
                "rotate-key: {} of about {} entries re-encrypted (now: {})",
                r.done,
                r.total.max(r.done),
                t.name()
            ),
            _ => "rotate-key: the database uses the new key; swapping the key files".to_string(),
        };
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
    };
    let outcome = match (new_key_file, resume) {
        (_, true) => resume_run(paths, batch, &mut progress)?,
        (Some(p), false) => start(paths, p, batch, &mut progress)?,
        (None, false) => anyhow::bail!("pass --new-key-file PATH, or --resume"),
    };
    let mut text = format!(
        "key rotated: {} entries are encrypted with the new key, now in {}.\nThe old key is in {}: store it offline with the backups made before this rotation (they can only be restored with it), or destroy it once no such backup is kept. Make a new backup now.",
        outcome.entries,
        outcome.key_file.display(),
        outcome.old_key_file.display()
    );
    if outcome.unmatched_imports > 0 {
        text.push_str(&format!(
            "\n{} import keys could not be derived again (their records changed since the import): importing their files again may register those rows again.",
            outcome.unmatched_imports
        ));
    }
    if json {
        writeln!(
            io.out,
            "{}",
            serde_json::json!({"ok": true, "rotation": outcome})
        )?;
    } else {
        writeln!(io.out, "{text}")?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{IdDocument, Node};
    use civreg_shared::model::RecordKind;
    use serde_json::json;

    const CSV: &str = "\
kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname
birth,L-1,1968,4,1,Arben,Gashi,male,1968-03-14,Prizren,Drita,Gashi
birth,L-1,1968,4,2,Besa,Gashi,female,1968-01-01,Prizren,Drita,Gashi
birth,,,,,Ana,Gashi,female,1968-01-01,Prizren,Drita,Gashi
birth,,,,,Ana,Gashi,female,1968-01-01,Prizren,Drita,Gashi
";

    fn signer_pems() -> (String, String) {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType,
            ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
            PKCS_ECDSA_P256_SHA256,
        };
        let dn = |cn: &str| {
            let mut d = DistinguishedName::new();
            d.push(DnType::CommonName, cn);
            d
        };
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::default();
        p.distinguished_name = dn("test CA");
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let issuer = Issuer::new(p, ca_key);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::default();
        p.distinguished_name = dn("signer prishtine/1");
        p.subject_alt_names = vec![SanType::URI(
            "civreg://signer/prishtine/1".try_into().unwrap(),
        )];
        p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(
            civreg_cert::trust::OID_DOCUMENT_SIGNING.to_vec(),
        )];
        let cert = p.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// Everything a node holds that the key protects, read through the node.
    #[derive(Debug, PartialEq)]
    struct Snapshot {
        states: Vec<RecordState>,
        ops: Vec<Op>,
        remote: Vec<Option<Op>>,
        access: serde_json::Value,
        clerks: Vec<String>,
        certs: Vec<crate::node::CertIssue>,
        signer: Option<String>,
        imports: usize,
    }

    fn snapshot(n: &Node, remote_ids: &[civreg_shared::op::OpId]) -> Snapshot {
        Snapshot {
            states: n.all_states().collect::<Result<_, _>>().unwrap(),
            ops: n.ops_after(0, 10_000).unwrap(),
            remote: remote_ids
                .iter()
                .map(|id| n.remote_op(id).unwrap())
                .collect(),
            access: serde_json::to_value(n.access_log().unwrap()).unwrap(),
            clerks: n.clerk_names().unwrap(),
            certs: n.certificates().unwrap(),
            signer: n.signer().unwrap().map(|(_, i)| i.kid),
            imports: n.store().len(Tree::Imports).unwrap(),
        }
    }

    fn retry<T>(mut f: impl FnMut() -> Result<T, RotateError>) -> Result<T, RotateError> {
        // sled releases its lock a moment after the last handle is dropped.
        for _ in 0..200 {
            match f() {
                Err(RotateError::Store(StoreError::Locked { .. }))
                | Err(RotateError::Node(NodeError::Store(StoreError::Locked { .. }))) => {
                    std::thread::sleep(std::time::Duration::from_millis(25))
                }
                other => return other,
            }
        }
        f()
    }

    fn open(paths: &Paths) -> Result<Node, NodeError> {
        Node::open_waiting(paths, std::time::Duration::from_secs(5))
    }

    /// A node on disk with records (one keyed by content amended after its import), imports keyed by register
    /// entry and by content (twice the same row), ops received from another office, access
    /// log entries, a clerk, a document signer and an issued certificate.
    fn populated(dir: &Path) -> (Paths, Vec<civreg_shared::op::OpId>, Snapshot) {
        let paths = Paths::new(&dir.join("node"), None);
        Node::init(&paths, "prishtine", "1").unwrap();
        let n = Node::open(&paths).unwrap();
        n.add_clerk(None, "drita", "drita-password-1").unwrap();
        let c = n.authenticate("drita", "drita-password-1").unwrap();
        let r = crate::import::import_csv(&n, &c, CSV.as_bytes(), |_| {}).unwrap();
        assert_eq!(r.accepted.len(), 4, "{r:?}");
        // A row without a register entry is keyed by its content: once amended, only its
        // create op gives that key again.
        let first = r.accepted[2].regno.clone();
        n.amend(
            &c,
            &first,
            &json!({"child": {"given_name": "Besnik"}}),
            "typo",
        )
        .unwrap();
        let saved = n
            .register(
                &c,
                RecordKind::Birth,
                json!({
                    "child": {"given_name": "Vjosa", "surname": "Shala", "sex": "female", "date_of_birth": "2020-03-14"},
                    "place_of_birth": "Prishtinë",
                    "mother": {"given_name": "Drita", "surname": "Shala"}
                }),
            )
            .unwrap();
        n.log_access(
            "drita",
            "search",
            "Shala 1234567890123",
            std::slice::from_ref(&saved.regno),
        )
        .unwrap();
        let (cert, key) = signer_pems();
        n.install_signer(&cert, &key).unwrap();
        n.issue_certificate(
            &c,
            &saved.regno,
            civreg_cert::pdf::Lang::Sq,
            "Drita Shala",
            IdDocument::IdCard,
        )
        .unwrap();
        // Ops of another office of the municipality, as pulled from the hub.
        let other = Node::in_memory("prishtine", "2").unwrap();
        other
            .register(
                &Node::clerk_unchecked("besa"),
                RecordKind::Birth,
                json!({
                    "child": {"given_name": "Liridon", "surname": "Krasniqi", "sex": "male", "date_of_birth": "2021-01-02"},
                    "place_of_birth": "Prishtinë",
                    "mother": {"given_name": "Mimoza", "surname": "Krasniqi"}
                }),
            )
            .unwrap();
        let theirs = other.ops_after(0, 10).unwrap();
        assert_eq!(n.apply_remote(&theirs, 1).unwrap(), 1);
        let ids: Vec<_> = theirs.iter().map(|o| o.id.clone()).collect();
        let before = snapshot(&n, &ids);
        assert_eq!(before.certs.len(), 1);
        assert!(before.signer.is_some());
        assert_eq!(before.imports, 4);
        assert!(before.remote.iter().all(Option::is_some));
        (paths, ids, before)
    }

    fn check_after(
        paths: &Paths,
        ids: &[civreg_shared::op::OpId],
        before: &Snapshot,
        old_key: &Path,
    ) {
        let n = open(paths).unwrap();
        assert_eq!(&snapshot(&n, ids), before);
        assert!(n.verify().unwrap().ok);
        // The import keys were derived again: the same file imports nothing twice, also the
        // amended record's row and the repeated rows without a register entry.
        let c = Node::clerk_unchecked("drita");
        let again = crate::import::import_csv(&n, &c, CSV.as_bytes(), |_| {}).unwrap();
        assert!(again.accepted.is_empty(), "{again:?}");
        assert_eq!(again.skipped.len(), 4);
        drop(n);
        // The old key no longer opens the database.
        let old = Paths::new(&paths.data_dir, Some(old_key));
        assert!(matches!(open(&old), Err(NodeError::WrongKey)));
    }

    #[test]
    fn a_rotation_keeps_everything_readable_and_retires_the_old_key() {
        let d = tempfile::tempdir().unwrap();
        let (paths, ids, before) = populated(d.path());
        let old_text = std::fs::read(&paths.key).unwrap();
        let new_file = d.path().join("new.key");
        let mut batches = 0;
        let out = retry(|| start(&paths, &new_file, 2, &mut |_| batches += 1)).unwrap();
        assert!(batches > 5, "small batches: {batches}");
        assert_eq!(out.unmatched_imports, 0);
        assert!(!new_file.exists(), "the new key moved to the key file");
        assert_ne!(std::fs::read(&paths.key).unwrap(), old_text);
        assert_eq!(std::fs::read(&out.old_key_file).unwrap(), old_text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&paths.key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        check_after(&paths, &ids, &before, &out.old_key_file);
        // Nothing left to resume; a second rotation works too.
        assert!(matches!(
            retry(|| resume_run(&paths, 2, &mut |_| {})),
            Err(RotateError::NothingToResume)
        ));
    }

    /// Interrupted at every stage (a panic in the progress callback drops the database as a
    /// crash would leave it, each batch being durable): the node refuses to open with a
    /// message to resume, and the resumed rotation ends with everything readable.
    #[test]
    fn an_interrupted_rotation_is_refused_by_open_and_resumes() {
        for stop_after in [1usize, 4, 9, usize::MAX] {
            let d = tempfile::tempdir().unwrap();
            let (paths, ids, before) = populated(d.path());
            let new_file = d.path().join("new.key");
            let mut seen = 0;
            let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = retry(|| {
                    start(&paths, &new_file, 2, &mut |r| {
                        seen += 1;
                        // usize::MAX: after the key check was swapped, before the files.
                        if seen == stop_after
                            || (stop_after == usize::MAX && r.phase == Phase::Files)
                        {
                            panic!("simulated crash");
                        }
                    })
                });
            }));
            assert!(crashed.is_err(), "stop {stop_after}: no crash simulated");
            assert!(matches!(open(&paths), Err(NodeError::RotationUnfinished)));
            assert!(matches!(
                retry(|| start(&paths, &d.path().join("other.key"), 2, &mut |_| {})),
                Err(RotateError::InProgress(_))
            ));
            if stop_after == 4 {
                // Without the new key the rotation can not go on, and says so.
                let aside = d.path().join("aside.key");
                std::fs::rename(&new_file, &aside).unwrap();
                assert!(matches!(
                    retry(|| resume_run(&paths, 2, &mut |_| {})),
                    Err(RotateError::NewKeyMissing(_))
                ));
                // Another key is not taken for it.
                crypto::create_key_file(&new_file).unwrap();
                assert!(matches!(
                    retry(|| resume_run(&paths, 2, &mut |_| {})),
                    Err(RotateError::NewKeyWrong(_))
                ));
                std::fs::remove_file(&new_file).unwrap();
                std::fs::rename(&aside, &new_file).unwrap();
            }
            let out = retry(|| resume_run(&paths, 3, &mut |_| {})).unwrap();
            assert_eq!(out.unmatched_imports, 0);
            check_after(&paths, &ids, &before, &out.old_key_file);
        }
    }

    #[test]
    fn a_value_that_opens_with_neither_key_stops_the_rotation_and_is_kept() {
        let store = crate::store::MemStore::default();
        let old = Crypto::from_master(&[1; 32]);
        let new = Crypto::from_master(&[2; 32]);
        let mut b = Batch::default();
        b.put(
            Tree::Meta,
            b"identity".to_vec(),
            br#"{"municipality":"prishtine","node_id":"1"}"#.to_vec(),
        );
        b.put(
            Tree::Meta,
            KEY_CHECK_KEY.to_vec(),
            old.seal("meta", KEY_CHECK_KEY, crate::node::KEY_CHECK),
        );
        b.put(
            Tree::Records,
            b"A".to_vec(),
            old.seal("records", b"A", b"{}"),
        );
        b.put(Tree::Records, b"B".to_vec(), b"garbage".to_vec());
        store.commit(b).unwrap();
        let mut r = begin(&store, &new, "n".into(), "o".into()).unwrap();
        match rotate_data(&store, &old, &new, &mut r, 10, &mut |_| {}) {
            Err(RotateError::Neither {
                tree: "records",
                key,
            }) => assert_eq!(key, "B"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(store.get(Tree::Records, b"B").unwrap().unwrap(), b"garbage");
        assert!(
            check_key(&store, &old).unwrap(),
            "the old key is still the database's"
        );
    }
}
