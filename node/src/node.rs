//! The node: one municipal office's register, on one sled database.
//!
//! Every change goes through [`Node::write`], which holds the single writer lock, builds the ops,
//! commits ops, record states and counters in one atomic batch, and flushes to disk before it
//! returns. So when a clerk is told "saved", the entry is on disk; after a crash the database
//! holds a prefix of the log with every record state matching it.

use crate::crypto::{self, Crypto};
use crate::index::{Index, Query, SearchHit};
use crate::store::{Batch, SledStore, Store, StoreError, Tree};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use chrono::NaiveDate;
use civreg_shared::fields::{self, FieldChange, FieldMap};
use civreg_shared::gazetteer;
use civreg_shared::ids::{check_node_id, RegNo};
use civreg_shared::merge::merge;
use civreg_shared::model::{Record, RecordKind};
use civreg_shared::op::{
    ChainError, ChainVerifier, ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT,
};
use civreg_shared::validate::{self, Problem, Report};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The on-disk layout version this build writes.
pub const DB_FORMAT: &str = "1";
pub(crate) const KEY_CHECK: &[u8] = b"civreg key check v1";

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] crypto::KeyError),
    #[error("a key rotation is unfinished: run `civreg-node rotate-key --resume` (the database can not be opened until it is done; no data is lost)")]
    RotationUnfinished,
    #[error("the key file does not belong to this database (or the database is damaged): use the key file created when this node was initialised")]
    WrongKey,
    #[error("no node database in {0}: run `civreg-node --data-dir {0} init --municipality CODE --node-id ID` first")]
    NotInitialised(PathBuf),
    #[error("{0} already holds a node database: refusing to initialise it again; to enrol it for sync or apply a new bundle, run `civreg-node enrol --bundle DIR`")]
    AlreadyInitialised(PathBuf),
    #[error("unknown municipality {0:?}: use a code from the gazetteer, e.g. prishtine, istog or mitrovice-jugut (`civreg-node municipalities` lists them)")]
    UnknownMunicipality(String),
    #[error(transparent)]
    Id(#[from] civreg_shared::ids::IdError),
    #[error("the record was not saved:\n{0}")]
    Invalid(Report),
    #[error("{0}")]
    Shape(String),
    #[error(
        "this office registers records of municipality {own} only, but the record names {given}"
    )]
    WrongMunicipality { own: String, given: String },
    #[error("no record {0} at this node")]
    NotFound(String),
    #[error("record {0} is void and can not be changed")]
    Voided(String),
    #[error("nothing to change: the changes leave record {0} as it is")]
    NoChange(String),
    #[error("a record's municipality can not be changed by an amendment")]
    MunicipalityChange,
    #[error("a reason is required to void a record: pass --reason \"...\"")]
    ReasonRequired,
    #[error("a reason is required to amend a record (it is kept in the record's history): pass --reason \"...\"")]
    AmendReasonRequired,
    #[error("unknown clerk or wrong password")]
    BadCredentials,
    #[error("clerk {0:?} already exists")]
    ClerkExists(String),
    #[error(
        "clerk name {0:?} is not valid: use 1 to 32 lowercase letters, digits, dots or underscores"
    )]
    BadClerkName(String),
    #[error("the password must have at least 8 characters")]
    WeakPassword,
    #[error("no clerk {0:?} at this office (`civreg-node clerk list` names them)")]
    NoSuchClerk(String),
    #[error("clerk {0:?} is the office's last clerk and is not removed: add another clerk first")]
    LastClerk(String),
    #[error("this office has {max} clerk accounts, as many as are kept: remove one no longer needed (`civreg-node clerk remove NAME`) before adding another", max = civreg_shared::limits::MAX_CLERKS)]
    TooManyClerks,
    #[error("{0}; nothing of it was installed: call the agency")]
    HubRoster(String),
    #[error("stored data is damaged: {0}; run `civreg-node verify` for details")]
    Corrupt(String),
    #[error("this database was written by a newer civreg (format {0}); upgrade civreg-node")]
    Format(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("this office has stopped registering: {0}. Nothing can be saved on this database; call the agency (operator manual: \"An office that stopped registering\")")]
    Halted(String),
    #[error("this PC's clock was {minutes} minutes ahead of the hub's at the last sync: correct the PC's date and time, then sync (`civreg-node sync --once`) and save again")]
    ClockAhead { minutes: i64 },
    #[error("this municipality may register only {allowed} for now (the agency's rollout): a {kind} record can not be registered at this office yet; register it on paper and ask the agency when {kind} records open")]
    KindNotAllowed { kind: RecordKind, allowed: String },
    #[error(transparent)]
    Cert(#[from] civreg_cert::CertError),
    #[error("{0}")]
    Certificate(String),
    #[error("the hub sent this node's own chain back wrong: {0}; nothing of it was stored: call the agency")]
    OwnChain(String),
    #[error(transparent)]
    Unvoid(#[from] UnvoidRefused),
}

/// An annotation to add to a record (see [`civreg_shared::annotation`]).
#[derive(Debug, Clone, Default)]
pub struct NewAnnotation {
    /// One of [`civreg_shared::annotation::EVENTS`].
    pub event: String,
    pub date: Option<String>,
    pub place: Option<String>,
    /// The registration number of the source record (a marriage, a death).
    pub record: Option<String>,
    pub text: Option<String>,
}

/// Who this node is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    pub municipality: String,
    pub node_id: String,
}

/// The head of the node's chain, kept in meta and updated with every op.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default)]
struct Head {
    seq: u64,
    hash: Hash,
    hlc: Hlc,
}

/// A record as the node holds it now.
pub use civreg_shared::merge::{RecordState, VoidInfo};

mod certificate;
mod clerks;
pub mod dupes_model;
mod restore;
mod unvoid;
pub use certificate::{CertIssue, IdDocument, IssuedCertificate, SignerInfo};
pub use clerks::RosterRestored;
pub use restore::{Restored, SnapshotHead};
pub use unvoid::{UnvoidRefused, UnvoidRequest};

/// One entry of the node's access log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessEntry {
    pub at_ms: u64,
    pub clerk: String,
    /// `search` (local or national), `view` or `export` (every record, `civreg-node export`).
    pub action: String,
    pub query: String,
    pub records: Vec<String>,
}

/// A clerk who has proved their password. Only [`Node::authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct Clerk {
    name: String,
}

impl Clerk {
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub regno: String,
    pub seq: u64,
    pub warnings: Vec<Problem>,
}

/// One version of a record, for `show --history`.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub version: usize,
    pub op: OpId,
    pub at_ms: u64,
    pub clerk: String,
    pub change: ChangeKind,
    pub reason: String,
    /// (path, value before, value after)
    pub changes: Vec<(String, serde_json::Value, serde_json::Value)>,
    pub record: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ops_checked: u64,
    pub records_checked: u64,
    pub ok: bool,
    /// The first problem found, with the sequence number of the first bad op where there is one.
    pub problem: Option<VerifyProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyProblem {
    pub seq: Option<u64>,
    pub message: String,
}

/// Paths of a node's files under its data dir.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub db: PathBuf,
    pub key: PathBuf,
}

impl Paths {
    pub fn new(data_dir: &Path, key_file: Option<&Path>) -> Paths {
        Paths {
            data_dir: data_dir.to_path_buf(),
            db: data_dir.join("db"),
            key: key_file
                .map(Path::to_path_buf)
                .unwrap_or_else(|| crypto::default_key_path(data_dir)),
        }
    }
}

pub struct Node {
    store: Box<dyn Store>,
    crypto: Crypto,
    identity: Identity,
    head: Mutex<Head>,
    index: Mutex<Option<Index>>,
    clock: Clock,
    /// After the hub refused a batch of several ops, the sync sends one op at a time up to the
    /// batch's last op, so that the hub learns which op it refuses (`sync::push`).
    pub(crate) push_narrow: std::sync::atomic::AtomicU64,
    /// The hub's matching model for the duplicate check, once read (`node/dupes_model.rs`):
    /// `None` until read, then the model held (or none).
    dupes_model: Mutex<Option<Option<std::sync::Arc<dupes_model::HubModel>>>>,
}

/// Where a node reads the time (milliseconds since the Unix epoch): the system clock, or a
/// simulated one in deterministic tests.
pub use civreg_runtime::clock::Clock;

/// Today's date where the office is.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn check_clerk_name(name: &str) -> Result<(), NodeError> {
    if civreg_shared::roster::valid_clerk_name(name) {
        Ok(())
    } else {
        Err(NodeError::BadClerkName(name.to_string()))
    }
}

/// The metadata of a new, empty node database: format, identity, key check, empty chain head.
fn initial_meta(crypto: &Crypto, identity: &Identity) -> Batch {
    let mut b = Batch::default();
    b.put(
        Tree::Meta,
        b"format".to_vec(),
        DB_FORMAT.as_bytes().to_vec(),
    );
    b.put(
        Tree::Meta,
        b"identity".to_vec(),
        serde_json::to_vec(identity).expect("identity serialises"),
    );
    b.put(
        Tree::Meta,
        b"key_check".to_vec(),
        crypto.seal(Tree::Meta.name(), b"key_check", KEY_CHECK),
    );
    b.put(
        Tree::Meta,
        b"head".to_vec(),
        serde_json::to_vec(&Head::default()).expect("head serialises"),
    );
    b
}

/// Work inside one atomic write: a copy of the head, the batch, and what it has written so far.
pub(crate) struct Tx<'a> {
    node: &'a Node,
    head: Head,
    batch: Batch,
    regseq: BTreeMap<String, u64>,
    states: BTreeMap<String, RecordState>,
    /// Ops written or received by this transaction, so that merges inside it see them.
    staged: HashMap<OpId, Op>,
    ops: usize,
    /// The head changed without a new op of ours (the clock followed a remote one).
    head_moved: bool,
}

impl Tx<'_> {
    pub(crate) fn batch(&mut self) -> &mut Batch {
        &mut self.batch
    }

    fn next_regno(&mut self, kind: RecordKind) -> Result<RegNo, NodeError> {
        let year = chrono::Datelike::year(&today());
        let key = format!("{year}-{}", kind.letter());
        let cur = match self.regseq.get(&key) {
            Some(v) => *v,
            None => match self.node.store.get(Tree::RegSeq, key.as_bytes())? {
                Some(b) => u64::from_be_bytes(
                    b.as_slice()
                        .try_into()
                        .map_err(|_| NodeError::Corrupt(format!("sequence {key}")))?,
                ),
                None => 0,
            },
        };
        let next = cur + 1;
        self.regseq.insert(key.clone(), next);
        self.batch
            .put(Tree::RegSeq, key.into_bytes(), next.to_be_bytes().to_vec());
        let id = &self.node.identity;
        Ok(RegNo::mint(&id.municipality, year, kind, &id.node_id, next))
    }

    pub(crate) fn state(&self, regno: &str) -> Result<Option<RecordState>, NodeError> {
        if let Some(s) = self.states.get(regno) {
            return Ok(Some(s.clone()));
        }
        self.node.load_state(regno)
    }

    #[allow(clippy::too_many_arguments)]
    fn append(
        &mut self,
        clerk: &Clerk,
        record_id: &str,
        kind: RecordKind,
        change: ChangeKind,
        changes: Vec<FieldChange>,
        base: Vec<OpId>,
        reason: &str,
    ) -> Result<Op, NodeError> {
        // What the hub would refuse for a reason the node can know is refused here, before the
        // op exists: once saved it would block the office's queue (`guard.rs`).
        self.node.guard()?.check(kind, change)?;
        let id = &self.node.identity;
        let hlc = Hlc::tick(self.head.hlc, (self.node.clock)());
        let op = Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: id.municipality.clone(),
                node_id: id.node_id.clone(),
                seq: self.head.seq + 1,
            },
            hlc,
            clerk: clerk.name.clone(),
            record_id: record_id.to_string(),
            record_kind: kind,
            change,
            changes,
            base,
            reason: reason.to_string(),
            prev_hash: self.head.hash,
            hash: Hash::default(),
        }
        .seal();
        // What the hub checks on receipt, checked before saving: a saved op is never refused
        // for its content.
        let report = validate::check_op(&op, today());
        if report.has_errors() {
            return Err(NodeError::Invalid(report));
        }
        self.head = Head {
            seq: op.id.seq,
            hash: op.hash,
            hlc,
        };
        let key = op.id.seq.to_be_bytes();
        let plain = serde_json::to_vec(&op).expect("op serialises");
        let sealed = self.node.crypto.seal(Tree::Ops.name(), &key, &plain);
        self.batch.put(Tree::Ops, key.to_vec(), sealed);
        self.ops += 1;
        self.staged.insert(op.id.clone(), op.clone());
        Ok(op)
    }

    /// Every op of a record, stored or staged by this transaction.
    pub(crate) fn record_ops(&self, st: &RecordState) -> Result<Vec<Op>, NodeError> {
        st.ops
            .iter()
            .map(|id| match self.staged.get(id) {
                Some(op) => Ok(op.clone()),
                None => self.node.load_op(id)?.ok_or_else(|| {
                    NodeError::Corrupt(format!(
                        "record {} names op {id}, which is missing",
                        st.regno
                    ))
                }),
            })
            .collect()
    }

    /// The record's state with one more op, by the shared merge.
    fn merged_with(&self, st: Option<&RecordState>, op: &Op) -> Result<RecordState, NodeError> {
        let mut ops = match st {
            Some(st) => self.record_ops(st)?,
            None => Vec::new(),
        };
        ops.push(op.clone());
        Ok(merge(&ops).expect("at least one op"))
    }

    /// Removes a record's state (its only op was set aside: `aside.rs`).
    pub(crate) fn remove_state(&mut self, regno: &str) {
        self.batch.delete(Tree::Records, regno.as_bytes().to_vec());
        self.states.remove(regno);
    }

    pub(crate) fn put_state(&mut self, st: RecordState) {
        let plain = serde_json::to_vec(&st).expect("state serialises");
        let sealed = self
            .node
            .crypto
            .seal(Tree::Records.name(), st.regno.as_bytes(), &plain);
        self.batch
            .put(Tree::Records, st.regno.as_bytes().to_vec(), sealed);
        self.states.insert(st.regno.clone(), st);
    }

    /// Validates and adds a new record; returns its registration number and warnings.
    pub(crate) fn create(&mut self, clerk: &Clerk, record: Record) -> Result<Saved, NodeError> {
        self.create_checked(clerk, Checked::new(record)?)
    }

    /// Adds a record that [`Checked::new`] has already validated.
    pub(crate) fn create_checked(
        &mut self,
        clerk: &Clerk,
        checked: Checked,
    ) -> Result<Saved, NodeError> {
        self.create_noted(clerk, checked, "")
    }

    /// [`create_checked`](Self::create_checked) with a note in the create op's `reason` (the
    /// clerk app's duplicate check: `dupes-checked: REGNO, ...`).
    pub(crate) fn create_noted(
        &mut self,
        clerk: &Clerk,
        checked: Checked,
        note: &str,
    ) -> Result<Saved, NodeError> {
        let Checked {
            kind,
            fields,
            warnings,
        } = checked;
        let regno = self.next_regno(kind)?.to_string();
        let changes: Vec<FieldChange> = fields
            .iter()
            .map(|(k, v)| FieldChange {
                path: k.clone(),
                value: v.clone(),
            })
            .collect();
        let op = match self.append(
            clerk,
            &regno,
            kind,
            ChangeKind::Create,
            changes,
            vec![],
            note,
        ) {
            Ok(op) => op,
            Err(e) => {
                // The number goes back unused: numbers are minted without gaps.
                if let Ok(n) = RegNo::parse(&regno) {
                    let key = format!("{}-{}", n.year, kind.letter());
                    let back = n.seq - 1;
                    self.regseq.insert(key.clone(), back);
                    self.batch
                        .put(Tree::RegSeq, key.into_bytes(), back.to_be_bytes().to_vec());
                }
                return Err(e);
            }
        };
        let st = merge([&op]).expect("one op");
        debug_assert_eq!(st.fields, fields);
        self.put_state(st);
        Ok(Saved {
            regno,
            seq: op.id.seq,
            warnings,
        })
    }
}

/// A record that passed validation, as the field map it will be stored as. Making one needs no
/// lock and no store, so bulk import makes them on another thread.
pub(crate) struct Checked {
    kind: RecordKind,
    fields: FieldMap,
    warnings: Vec<Problem>,
}

impl Checked {
    pub(crate) fn new(record: Record) -> Result<Checked, NodeError> {
        let report = validate::validate(&record, today());
        if report.has_errors() {
            return Err(NodeError::Invalid(report));
        }
        let fields =
            fields::flatten(&record.to_json()).map_err(|e| NodeError::Shape(e.to_string()))?;
        Ok(Checked {
            kind: record.kind(),
            fields,
            warnings: report.problems,
        })
    }
}

impl Node {
    /// Creates a new node: data dir, key file (0600) and database.
    pub fn init(paths: &Paths, municipality: &str, node_id: &str) -> Result<Identity, NodeError> {
        let m = gazetteer::by_code(municipality)
            .ok_or_else(|| NodeError::UnknownMunicipality(municipality.to_string()))?;
        check_node_id(node_id)?;
        if paths.db.exists() {
            return Err(NodeError::AlreadyInitialised(paths.data_dir.clone()));
        }
        std::fs::create_dir_all(&paths.data_dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&paths.data_dir, std::fs::Permissions::from_mode(0o700))?;
        }
        crypto::create_key_file(&paths.key)?;
        let crypto = Crypto::load(&paths.key)?;
        let store = SledStore::open(&paths.db)?;
        let identity = Identity {
            municipality: m.code.to_string(),
            node_id: node_id.to_string(),
        };
        store.commit(initial_meta(&crypto, &identity))?;
        store.flush()?;
        Ok(identity)
    }

    /// How long a command waits for the database while another process (the sync worker's
    /// round, usually well under a second) holds it.
    pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

    /// Opens an initialised node, waiting up to [`Node::LOCK_WAIT`] while another process holds it.
    pub fn open(paths: &Paths) -> Result<Node, NodeError> {
        Self::open_waiting(paths, Self::LOCK_WAIT)
    }

    /// Opens an initialised node, waiting up to `wait` while another process holds it.
    pub fn open_waiting(paths: &Paths, wait: std::time::Duration) -> Result<Node, NodeError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::open_now(paths) {
                Err(NodeError::Store(StoreError::Locked { .. }))
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                other => return other,
            }
        }
    }

    /// Opens an initialised node, failing at once if another process holds it.
    pub fn open_now(paths: &Paths) -> Result<Node, NodeError> {
        if !paths.db.exists() {
            return Err(NodeError::NotInitialised(paths.data_dir.clone()));
        }
        let crypto = Crypto::load(&paths.key)?;
        let store = SledStore::open(&paths.db)?;
        Node::open_store(Box::new(store), crypto)
    }

    /// Opens a node over any store (tests use [`crate::store::MemStore`]).
    pub fn open_store(store: Box<dyn Store>, crypto: Crypto) -> Result<Node, NodeError> {
        let corrupt = |what: &str| NodeError::Corrupt(format!("node metadata ({what})"));
        let format = store
            .get(Tree::Meta, b"format")?
            .ok_or_else(|| corrupt("format"))?;
        if format != DB_FORMAT.as_bytes() {
            return Err(NodeError::Format(String::from_utf8_lossy(&format).into()));
        }
        // Part of the data may be sealed under the old key and part under the new one: only
        // `rotate-key --resume` opens such a database (see `rotate.rs`).
        if store.get(Tree::Meta, crate::rotate::ROTATION)?.is_some() {
            return Err(NodeError::RotationUnfinished);
        }
        let check = store
            .get(Tree::Meta, b"key_check")?
            .ok_or_else(|| corrupt("key check"))?;
        match crypto.open(Tree::Meta.name(), b"key_check", &check) {
            Ok(p) if p == KEY_CHECK => {}
            _ => return Err(NodeError::WrongKey),
        }
        let identity: Identity = serde_json::from_slice(
            &store
                .get(Tree::Meta, b"identity")?
                .ok_or_else(|| corrupt("identity"))?,
        )
        .map_err(|_| corrupt("identity"))?;
        let head: Head = serde_json::from_slice(
            &store
                .get(Tree::Meta, b"head")?
                .ok_or_else(|| corrupt("head"))?,
        )
        .map_err(|_| corrupt("head"))?;
        Ok(Node {
            store,
            crypto,
            identity,
            head: Mutex::new(head),
            index: Mutex::new(None),
            clock: civreg_runtime::clock::system(),
            push_narrow: std::sync::atomic::AtomicU64::new(0),
            dupes_model: Mutex::new(None),
        })
    }

    /// Replaces the clock (for deterministic simulation).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Initialises a node on an empty store and opens it (tests and simulation; `init` is the
    /// real thing, with a data dir and a key file).
    pub fn init_store(
        store: Box<dyn Store>,
        crypto: Crypto,
        municipality: &str,
        node_id: &str,
    ) -> Result<Node, NodeError> {
        let identity = Identity {
            municipality: municipality.to_string(),
            node_id: node_id.to_string(),
        };
        store.commit(initial_meta(&crypto, &identity))?;
        Node::open_store(store, crypto)
    }

    /// A node over a fresh in-memory store, for tests and benchmarks of the logic alone.
    pub fn in_memory(municipality: &str, node_id: &str) -> Result<Node, NodeError> {
        Node::init_store(
            Box::new(crate::store::MemStore::default()),
            Crypto::from_master(&[42; 32]),
            municipality,
            node_id,
        )
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub(crate) fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    fn lock_head(&self) -> MutexGuard<'_, Head> {
        self.head.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn lock_index(&self) -> MutexGuard<'_, Option<Index>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of ops in the node's log.
    pub fn log_len(&self) -> u64 {
        self.lock_head().seq
    }

    /// Runs `f` as one atomic, durable write: nothing of it is visible or on disk unless all of
    /// it is, and it is flushed before this returns.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, NodeError>,
    ) -> Result<T, NodeError> {
        let mut head = self.lock_head();
        let mut tx = Tx {
            node: self,
            head: *head,
            batch: Batch::default(),
            regseq: BTreeMap::new(),
            states: BTreeMap::new(),
            staged: HashMap::new(),
            ops: 0,
            head_moved: false,
        };
        let out = f(&mut tx)?;
        if tx.batch.is_empty() {
            return Ok(out);
        }
        if tx.ops > 0 || tx.head_moved {
            tx.batch.put(
                Tree::Meta,
                b"head".to_vec(),
                serde_json::to_vec(&tx.head).expect("head serialises"),
            );
        }
        let states = std::mem::take(&mut tx.states);
        let new_head = tx.head;
        self.store.commit(tx.batch)?;
        self.store.flush()?;
        *head = new_head;
        drop(head);
        if let Some(ix) = self.lock_index().as_mut() {
            for st in states.values() {
                ix.upsert(st);
            }
        }
        Ok(out)
    }

    // ---- clerks -------------------------------------------------------------------------

    pub fn clerk_count(&self) -> Result<usize, NodeError> {
        Ok(self.store.len(Tree::Clerks)?)
    }

    /// Adds a clerk. Once any clerk exists, only a signed-in clerk may add another.
    pub fn add_clerk(
        &self,
        by: Option<&Clerk>,
        name: &str,
        password: &str,
    ) -> Result<(), NodeError> {
        check_clerk_name(name)?;
        if password.chars().count() < 8 {
            return Err(NodeError::WeakPassword);
        }
        if by.is_none() && self.clerk_count()? > 0 {
            return Err(NodeError::BadCredentials);
        }
        let phc = clerks::hash_password(password)?;
        // Checked under the writer lock, so that two adds can not both pass.
        self.write(|tx| {
            if by.is_none() && self.clerk_count()? > 0 {
                return Err(NodeError::BadCredentials);
            }
            if self.store.get(Tree::Clerks, name.as_bytes())?.is_some() {
                return Err(NodeError::ClerkExists(name.to_string()));
            }
            if self.clerk_count()? >= civreg_shared::limits::MAX_CLERKS {
                return Err(NodeError::TooManyClerks);
            }
            // The roster's change counter moves with it (sent to the hub, `node/clerks.rs`).
            let (k, v) = self.next_roster_version()?;
            let b = tx.batch();
            b.put(Tree::Clerks, name.as_bytes().to_vec(), phc.into_bytes());
            b.put(Tree::Meta, k, v);
            Ok(())
        })
    }

    /// The names of all clerks.
    pub fn clerk_names(&self) -> Result<Vec<String>, NodeError> {
        self.store
            .scan(Tree::Clerks)
            .map(|r| Ok(String::from_utf8_lossy(&r?.0).into_owned()))
            .collect()
    }

    /// Checks a clerk's password.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<Clerk, NodeError> {
        let phc = self
            .store
            .get(Tree::Clerks, name.as_bytes())?
            .ok_or(NodeError::BadCredentials)?;
        let phc = String::from_utf8(phc).map_err(|_| NodeError::Corrupt("clerk entry".into()))?;
        let parsed =
            PasswordHash::new(&phc).map_err(|_| NodeError::Corrupt("clerk entry".into()))?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .map_err(|_| NodeError::BadCredentials)?;
        Ok(Clerk {
            name: name.to_string(),
        })
    }

    /// A clerk whose password the clerk app checked at sign-in (`web::auth`): the session,
    /// which only a successful [`Node::authenticate`] opens, proves it.
    pub(crate) fn signed_in_clerk(name: &str) -> Clerk {
        Clerk {
            name: name.to_string(),
        }
    }

    /// A clerk for tests and benchmarks that drive the library directly.
    #[doc(hidden)]
    pub fn clerk_unchecked(name: &str) -> Clerk {
        Clerk {
            name: name.to_string(),
        }
    }

    // ---- records ------------------------------------------------------------------------

    pub(crate) fn load_state(&self, regno: &str) -> Result<Option<RecordState>, NodeError> {
        let Some(sealed) = self.store.get(Tree::Records, regno.as_bytes())? else {
            return Ok(None);
        };
        let plain = self
            .crypto
            .open(Tree::Records.name(), regno.as_bytes(), &sealed)
            .map_err(|e| NodeError::Corrupt(format!("record {regno}: {e}")))?;
        let st = serde_json::from_slice(&plain)
            .map_err(|e| NodeError::Corrupt(format!("record {regno}: {e}")))?;
        Ok(Some(st))
    }

    /// How many records this node holds.
    pub fn record_count(&self) -> Result<usize, NodeError> {
        Ok(self.store.len(Tree::Records)?)
    }

    /// The records that are not void, counted in the in-memory search index (built once if it
    /// is not yet): unlike [`record_count`](Self::record_count), which walks the whole tree on
    /// disk, this costs well under a millisecond at 200,000 records, so a page can show it.
    pub fn live_record_count(&self) -> Result<usize, NodeError> {
        self.ensure_index()?;
        Ok(self.lock_index().as_ref().map_or(0, |ix| ix.len()))
    }

    /// Every record state, in registration-number order.
    pub fn all_states(&self) -> impl Iterator<Item = Result<RecordState, NodeError>> + '_ {
        self.store.scan(Tree::Records).map(move |r| {
            let (k, v) = r?;
            let plain = self
                .crypto
                .open(Tree::Records.name(), &k, &v)
                .map_err(|e| {
                    NodeError::Corrupt(format!("record {}: {e}", String::from_utf8_lossy(&k)))
                })?;
            serde_json::from_slice(&plain).map_err(|e| NodeError::Corrupt(e.to_string()))
        })
    }

    /// Every op of the log, in order (decrypted, not verified: see [`Node::verify`]).
    pub fn all_ops(&self) -> impl Iterator<Item = Result<Op, NodeError>> + '_ {
        self.store.scan(Tree::Ops).map(move |r| {
            let (k, v) = r?;
            let plain = self
                .crypto
                .open(Tree::Ops.name(), &k, &v)
                .map_err(|e| NodeError::Corrupt(format!("op: {e}")))?;
            serde_json::from_slice(&plain).map_err(|e| NodeError::Corrupt(e.to_string()))
        })
    }

    fn resolve_regno(regno: &str) -> Result<String, NodeError> {
        Ok(RegNo::parse(regno)?.to_string())
    }

    pub fn get(&self, regno: &str) -> Result<RecordState, NodeError> {
        let regno = Self::resolve_regno(regno)?;
        self.load_state(&regno)?.ok_or(NodeError::NotFound(regno))
    }

    /// Parses a record document of `kind` for this node: the municipality defaults to the
    /// node's own, may be given by any of its names, and must be the node's own.
    pub(crate) fn prepare(
        &self,
        kind: RecordKind,
        mut doc: serde_json::Value,
    ) -> Result<Record, NodeError> {
        let own = self.identity.municipality.clone();
        let given = match doc.get("municipality") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(m)) => Some(m.clone()),
            Some(_) => {
                return Err(NodeError::Shape(
                    "\"municipality\" must be a municipality code, e.g. \"prishtine\"".into(),
                ))
            }
        };
        if let Some(m) = given {
            if gazetteer::resolve(&m).map(|m| m.code) != Some(own.as_str()) {
                return Err(NodeError::WrongMunicipality { own, given: m });
            }
        }
        match doc.as_object_mut() {
            Some(obj) => {
                obj.insert("municipality".into(), own.into());
            }
            None => {
                return Err(NodeError::Shape(format!(
                    "a {kind} record must be a JSON object (see deploy/examples/{kind}.json)"
                )))
            }
        }
        Record::from_json(kind, doc).map_err(|e| NodeError::Shape(e.to_string()))
    }

    /// Registers a new record of `kind` from its JSON document.
    pub fn register(
        &self,
        clerk: &Clerk,
        kind: RecordKind,
        doc: serde_json::Value,
    ) -> Result<Saved, NodeError> {
        let record = self.prepare(kind, doc)?;
        self.write(|tx| tx.create(clerk, record))
    }

    /// [`register`](Self::register) with a note kept in the create op's reason (and so in the
    /// record's history): what the clerk decided before saving, such as the duplicate check.
    pub fn register_noted(
        &self,
        clerk: &Clerk,
        kind: RecordKind,
        doc: serde_json::Value,
        note: &str,
    ) -> Result<Saved, NodeError> {
        let checked = Checked::new(self.prepare(kind, doc)?)?;
        self.write(|tx| tx.create_noted(clerk, checked, note))
    }

    /// Amends fields of a record. `changes` is a JSON object, nested or with dotted keys.
    pub fn amend(
        &self,
        clerk: &Clerk,
        regno: &str,
        changes: &serde_json::Value,
        reason: &str,
    ) -> Result<Saved, NodeError> {
        let regno = Self::resolve_regno(regno)?;
        let wanted = fields::parse_changes(changes).map_err(|e| NodeError::Shape(e.to_string()))?;
        if wanted
            .iter()
            .any(|c| c.path == "municipality" || c.path.starts_with("municipality."))
        {
            return Err(NodeError::MunicipalityChange);
        }
        if wanted
            .iter()
            .any(|c| civreg_shared::annotation::is_annotation_path(&c.path))
        {
            return Err(NodeError::Shape(
                "an amendment can not change annotations: add one with `civreg-node annotate`"
                    .into(),
            ));
        }
        // As for a void: every correction says why, in the record's history.
        if reason.trim().is_empty() {
            return Err(NodeError::AmendReasonRequired);
        }
        self.write(|tx| {
            let st = tx
                .state(&regno)?
                .ok_or_else(|| NodeError::NotFound(regno.clone()))?;
            if st.voided.is_some() {
                return Err(NodeError::Voided(regno.clone()));
            }
            // The record's own fields: annotations are kept apart and left as they are.
            let own = civreg_shared::annotation::record_fields(&st.fields);
            let mut next = own.clone();
            fields::apply(&mut next, &wanted);
            // Re-derive the canonical field map through the typed record, so that what is stored
            // is exactly what the model holds (and unknown paths are refused).
            let record = Record::from_json(st.kind, fields::unflatten(&next))
                .map_err(|e| NodeError::Shape(e.to_string()))?;
            let report = validate::validate(&record, today());
            if report.has_errors() {
                return Err(NodeError::Invalid(report));
            }
            let next =
                fields::flatten(&record.to_json()).map_err(|e| NodeError::Shape(e.to_string()))?;
            let changes = fields::diff(&own, &next);
            if changes.is_empty() {
                return Err(NodeError::NoChange(regno.clone()));
            }
            let op = tx.append(
                clerk,
                &regno,
                st.kind,
                ChangeKind::Amend,
                changes,
                st.base(),
                reason,
            )?;
            let st = tx.merged_with(Some(&st), &op)?;
            tx.put_state(st);
            Ok(Saved {
                regno: regno.clone(),
                seq: op.id.seq,
                warnings: report.problems,
            })
        })
    }

    /// Voids a record: it stays, with its history, but is marked void and leaves search.
    pub fn void(&self, clerk: &Clerk, regno: &str, reason: &str) -> Result<Saved, NodeError> {
        let regno = Self::resolve_regno(regno)?;
        if reason.trim().is_empty() {
            return Err(NodeError::ReasonRequired);
        }
        self.write(|tx| {
            let st = tx
                .state(&regno)?
                .ok_or_else(|| NodeError::NotFound(regno.clone()))?;
            if st.voided.is_some() {
                return Err(NodeError::Voided(regno.clone()));
            }
            let op = tx.append(
                clerk,
                &regno,
                st.kind,
                ChangeKind::Void,
                vec![],
                st.base(),
                reason.trim(),
            )?;
            let st = tx.merged_with(Some(&st), &op)?;
            tx.put_state(st);
            Ok(Saved {
                regno: regno.clone(),
                seq: op.id.seq,
                warnings: vec![],
            })
        })
    }

    /// Notes an event on a record, of this municipality or (a birth record) of another: an
    /// annotation, which never changes the record's own fields. The record must be one the hub
    /// holds, so that the op is never refused for good: one this node holds, or one national
    /// search returned to it (its access log says so).
    pub fn annotate(
        &self,
        clerk: &Clerk,
        regno: &str,
        note: &NewAnnotation,
    ) -> Result<Saved, NodeError> {
        use civreg_shared::annotation;
        let regno = Self::resolve_regno(regno)?;
        let number = RegNo::parse(&regno)?;
        let record = match &note.record {
            Some(r) => Some(Self::resolve_regno(r)?),
            None => None,
        };
        let key = annotation::key_for(&note.event, record.as_deref(), (self.clock)());
        let prefix = format!(
            "{}{}.{key}.",
            annotation::PREFIX,
            annotation::office_segment(&self.identity.municipality)
        );
        let value = |v: &Option<String>| v.clone().map_or(serde_json::Value::Null, Into::into);
        let changes: Vec<FieldChange> = [
            ("date", value(&note.date)),
            ("event", note.event.clone().into()),
            ("place", value(&note.place)),
            ("record", value(&record)),
            ("text", value(&note.text)),
        ]
        .into_iter()
        .map(|(attr, value)| FieldChange {
            path: format!("{prefix}{attr}"),
            value,
        })
        .collect();
        let own = number.municipality == self.identity.municipality;
        if !own && number.kind != RecordKind::Birth {
            return Err(NodeError::Shape(format!(
                "an office annotates only birth records of other municipalities, and {regno} is a {}",
                number.kind
            )));
        }
        let held = self.load_state(&regno)?;
        if held.is_none() {
            let found = own
                || self
                    .access_log()?
                    .iter()
                    .any(|e| e.action.contains("national") && e.records.contains(&regno));
            if !own && !found {
                return Err(NodeError::Shape(format!(
                    "record {regno} is not known to this node: find it first with `civreg-node search` while the line works (a national answer), so that the hub is known to hold it"
                )));
            }
            if own {
                return Err(NodeError::NotFound(regno));
            }
        }
        self.write(|tx| {
            let st = tx.state(&regno)?;
            if st.as_ref().is_some_and(|s| s.voided.is_some()) {
                return Err(NodeError::Voided(regno.clone()));
            }
            let base = st.as_ref().map(RecordState::base).unwrap_or_default();
            let op = tx.append(
                clerk,
                &regno,
                number.kind,
                ChangeKind::Annotate,
                changes.clone(),
                base,
                "",
            )?;
            // A record of another municipality is not kept here: the op only goes to the hub.
            if let Some(st) = st {
                let st = tx.merged_with(Some(&st), &op)?;
                tx.put_state(st);
            }
            Ok(Saved {
                regno: regno.clone(),
                seq: op.id.seq,
                warnings: vec![],
            })
        })
    }

    /// Reads one op of this node's log.
    pub fn op(&self, seq: u64) -> Result<Option<Op>, NodeError> {
        let key = seq.to_be_bytes();
        let Some(sealed) = self.store.get(Tree::Ops, &key)? else {
            return Ok(None);
        };
        let plain = self
            .crypto
            .open(Tree::Ops.name(), &key, &sealed)
            .map_err(|e| NodeError::Corrupt(format!("op #{seq}: {e}")))?;
        Ok(Some(serde_json::from_slice(&plain).map_err(|e| {
            NodeError::Corrupt(format!("op #{seq}: {e}"))
        })?))
    }

    /// Every version of a record, oldest first, with who changed what and when.
    pub fn history(&self, regno: &str) -> Result<Vec<Version>, NodeError> {
        let st = self.get(regno)?;
        let mut fields = FieldMap::new();
        let mut out = Vec::new();
        for (i, id) in st.ops.iter().enumerate() {
            // Own ops are in the log; other offices' ops came through pull.
            let op = if id.municipality == self.identity.municipality
                && id.node_id == self.identity.node_id
            {
                self.op(id.seq)?
            } else {
                self.remote_op(id)?
            };
            let op = op.ok_or_else(|| {
                NodeError::Corrupt(format!("op {id} of record {} is missing", st.regno))
            })?;
            let changes = op
                .changes
                .iter()
                .map(|c| {
                    let before = fields
                        .get(&c.path)
                        .cloned()
                        .unwrap_or(serde_json::Value::Null);
                    (c.path.clone(), before, c.value.clone())
                })
                .collect();
            fields::apply(&mut fields, &op.changes);
            out.push(Version {
                version: i + 1,
                op: op.id.clone(),
                at_ms: op.hlc.wall_ms,
                clerk: op.clerk.clone(),
                change: op.change,
                reason: op.reason.clone(),
                changes,
                record: fields::unflatten(&fields),
            });
        }
        Ok(out)
    }

    // ---- search -------------------------------------------------------------------------

    /// Builds the in-memory search index from the encrypted records, if not built yet.
    pub fn ensure_index(&self) -> Result<(), NodeError> {
        let mut guard = self.lock_index();
        if guard.is_none() {
            let mut ix = Index::default();
            for st in self.all_states() {
                ix.upsert(&st?);
            }
            *guard = Some(ix);
        }
        Ok(())
    }

    /// The blind token of a personal number under this node's key (HMAC-SHA256, cut to 128
    /// bits, hex): the clerk app's duplicate check hands these, never the numbers, to the
    /// linkage model. Computed when needed and never stored.
    pub fn pnum_token(&self, scheme: &str, number: &str) -> String {
        let tag = self
            .crypto
            .blind(&format!("linkage-pnum|{scheme}"), number.trim());
        hex::encode(&tag[..16])
    }

    pub fn search(&self, q: &Query) -> Result<Vec<SearchHit>, NodeError> {
        self.ensure_index()?;
        let guard = self.lock_index();
        Ok(guard.as_ref().map(|ix| ix.search(q)).unwrap_or_default())
    }

    // ---- sync state ---------------------------------------------------------------------

    fn remote_key(id: &OpId) -> Vec<u8> {
        let mut k = format!("{}/{}", id.municipality, id.node_id).into_bytes();
        k.push(0);
        k.extend_from_slice(&id.seq.to_be_bytes());
        k
    }

    /// An op of another node that this node received from the hub.
    /// Appends to the node's access log (sealed like everything else): who searched for or
    /// opened which records. Personal numbers in the query, in any typed form, are replaced by a
    /// blind-token prefix, so the log holds none in plain text even once decrypted.
    pub fn log_access(
        &self,
        clerk: &str,
        action: &str,
        query: &str,
        records: &[String],
    ) -> Result<(), NodeError> {
        // Every personal number, however typed (civreg_shared::redact), becomes a mark.
        let query = civreg_shared::redact::redact_with(query, |n| {
            civreg_shared::redact::mark(&self.crypto.blind("access-log", n))
        });
        let clerk =
            civreg_shared::redact::for_log(clerk, civreg_shared::limits::MAX_LOGGED_NAME_CHARS);
        let at_ms = (self.clock)();
        let entry = AccessEntry {
            at_ms,
            clerk,
            action: action.to_string(),
            query,
            records: records.to_vec(),
        };
        self.write(|tx| {
            let n = tx.node.store.len(Tree::Access)? as u32;
            let mut key = at_ms.to_be_bytes().to_vec();
            key.extend_from_slice(&n.to_be_bytes());
            let plain = serde_json::to_vec(&entry).expect("entry serialises");
            let sealed = tx.node.crypto.seal(Tree::Access.name(), &key, &plain);
            tx.batch().put(Tree::Access, key, sealed);
            Ok(())
        })
    }

    /// The access log, oldest first.
    pub fn access_log(&self) -> Result<Vec<AccessEntry>, NodeError> {
        self.store
            .scan(Tree::Access)
            .map(|r| {
                let (k, v) = r?;
                let plain = self
                    .crypto
                    .open(Tree::Access.name(), &k, &v)
                    .map_err(|e| NodeError::Corrupt(format!("access log entry: {e}")))?;
                serde_json::from_slice(&plain)
                    .map_err(|e| NodeError::Corrupt(format!("access log entry: {e}")))
            })
            .collect()
    }

    /// The digest of this municipality's records as this node holds them; equal to the hub's
    /// `digest --municipality` once both hold the same ops.
    pub fn digest(&self) -> Result<civreg_shared::merge::DigestValue, NodeError> {
        let mut d = civreg_shared::merge::Digest::default();
        for st in self.all_states() {
            let st = st?;
            if RegNo::parse(&st.regno).is_ok_and(|r| r.municipality == self.identity.municipality) {
                d.add(&st).map_err(|e| NodeError::Corrupt(e.to_string()))?;
            }
        }
        Ok(d.finish())
    }

    /// Any op this node holds: its own, or one received from the hub.
    pub fn load_op(&self, id: &OpId) -> Result<Option<Op>, NodeError> {
        if id.municipality == self.identity.municipality && id.node_id == self.identity.node_id {
            self.op(id.seq)
        } else {
            self.remote_op(id)
        }
    }

    pub fn remote_op(&self, id: &OpId) -> Result<Option<Op>, NodeError> {
        let key = Self::remote_key(id);
        let Some(sealed) = self.store.get(Tree::Remote, &key)? else {
            return Ok(None);
        };
        let plain = self
            .crypto
            .open(Tree::Remote.name(), &key, &sealed)
            .map_err(|e| NodeError::Corrupt(format!("received op {id}: {e}")))?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| NodeError::Corrupt(format!("received op {id}: {e}")))
    }

    /// The node's own ops after `seq`, at most `max`, in chain order.
    pub fn ops_after(&self, seq: u64, max: usize) -> Result<Vec<Op>, NodeError> {
        let mut out = Vec::new();
        let mut s = seq + 1;
        while out.len() < max {
            match self.op(s)? {
                Some(op) => out.push(op),
                None => break,
            }
            s += 1;
        }
        Ok(out)
    }

    fn meta_u64(&self, key: &[u8]) -> Result<u64, NodeError> {
        Ok(match self.store.get(Tree::Meta, key)? {
            Some(v) => u64::from_be_bytes(
                v.as_slice()
                    .try_into()
                    .map_err(|_| NodeError::Corrupt(String::from_utf8_lossy(key).into()))?,
            ),
            None => 0,
        })
    }

    /// The highest sequence number the hub has acknowledged (verified and flushed).
    pub fn hub_acked(&self) -> Result<u64, NodeError> {
        self.meta_u64(b"hub_acked")
    }

    /// Records the hub's acknowledgement. Never moves backwards.
    pub fn set_hub_acked(&self, seq: u64) -> Result<(), NodeError> {
        if seq <= self.hub_acked()? {
            return Ok(());
        }
        self.write(|tx| {
            tx.batch().put(
                Tree::Meta,
                b"hub_acked".to_vec(),
                seq.to_be_bytes().to_vec(),
            );
            Ok(())
        })
    }

    /// Where this node's pull from the hub resumes.
    pub fn pull_cursor(&self) -> Result<u64, NodeError> {
        self.meta_u64(b"pull_cursor")
    }

    /// Applies ops pulled from the hub and stores the cursor after them, in one durable write,
    /// so the cursor never covers ops that are not applied. Own ops and ops already received are
    /// skipped (pull is idempotent); an op whose hash does not match its content is refused.
    /// Each record touched is re-merged from all its ops with the shared merge, so the node ends
    /// with the hub's state whatever it edited offline. The node's clock follows remote clocks
    /// within [`civreg_shared::op::MAX_CLOCK_AHEAD_MS`]; an op stamped further ahead is reported.
    pub fn apply_remote(&self, ops: &[Op], cursor: u64) -> Result<usize, NodeError> {
        for op in ops {
            op.check()
                .map_err(|e| NodeError::Corrupt(format!("op {} from the hub: {e}", op.id)))?;
        }
        self.write(|tx| {
            let mut applied = 0;
            for op in ops {
                let own = op.id.municipality == self.identity.municipality
                    && op.id.node_id == self.identity.node_id;
                let key = Self::remote_key(&op.id);
                if own
                    || tx.staged.contains_key(&op.id)
                    || self.store.get(Tree::Remote, &key)?.is_some()
                {
                    continue;
                }
                let st = tx.state(&op.record_id)?;
                if st.as_ref().is_some_and(|st| st.ops.contains(&op.id)) {
                    continue;
                }
                let merged = tx.merged_with(st.as_ref(), op)?;
                let plain = serde_json::to_vec(op).expect("op serialises");
                let sealed = self.crypto.seal(Tree::Remote.name(), &key, &plain);
                tx.batch().put(Tree::Remote, key, sealed);
                tx.staged.insert(op.id.clone(), op.clone());
                tx.put_state(merged);
                let (hlc, ahead) = Hlc::receive(tx.head.hlc, op.hlc, (self.clock)());
                if let Some(ms) = ahead {
                    tracing::warn!(op = %op.id, ahead_ms = ms, "an op from the hub is stamped ahead of this PC's clock; not following it (check both clocks)");
                }
                tx.head.hlc = hlc;
                tx.head_moved = true;
                applied += 1;
            }
            tx.batch().put(
                Tree::Meta,
                b"pull_cursor".to_vec(),
                cursor.to_be_bytes().to_vec(),
            );
            Ok(applied)
        })
    }

    // ---- verification -------------------------------------------------------------------

    /// Walks the chain from the first op and reports the first bad one exactly; then checks that
    /// every stored record state is what replaying the log gives.
    pub fn verify(&self) -> Result<VerifyReport, NodeError> {
        let mut v = ChainVerifier::default();
        // The node's own ops by sequence number, to replay each record's op list against.
        let mut local: BTreeMap<u64, Op> = BTreeMap::new();
        let fail = |seq: Option<u64>, message: String, n: u64| VerifyReport {
            ops_checked: n,
            records_checked: 0,
            ok: false,
            problem: Some(VerifyProblem { seq, message }),
        };
        for r in self.store.scan(Tree::Ops) {
            let (k, sealed) = r?;
            let n = v.verified();
            let Ok(key): Result<[u8; 8], _> = k.as_slice().try_into() else {
                return Ok(fail(
                    None,
                    format!("an entry with a malformed key follows op #{n}"),
                    n,
                ));
            };
            let seq = u64::from_be_bytes(key);
            if seq != n + 1 {
                let e = if seq > n + 1 {
                    ChainError::Gap {
                        expected: n + 1,
                        found: seq,
                    }
                } else {
                    ChainError::OutOfOrder {
                        expected: n + 1,
                        found: seq,
                    }
                };
                return Ok(fail(Some(e.seq()), e.to_string(), n));
            }
            let plain = match self.crypto.open(Tree::Ops.name(), &key, &sealed) {
                Ok(p) => p,
                Err(e) => return Ok(fail(Some(seq), format!("op #{seq}: {e}"), n)),
            };
            let op: Op = match serde_json::from_slice(&plain) {
                Ok(op) => op,
                Err(e) => {
                    return Ok(fail(
                        Some(seq),
                        format!("op #{seq} is not readable: {e}"),
                        n,
                    ))
                }
            };
            if op.id.seq != seq {
                let e = ChainError::OutOfOrder {
                    expected: seq,
                    found: op.id.seq,
                };
                return Ok(fail(Some(seq), format!("op stored at #{seq}: {e}"), n));
            }
            if op.id.municipality != self.identity.municipality
                || op.id.node_id != self.identity.node_id
            {
                let e = ChainError::WrongNode {
                    seq,
                    expected: format!("{}/{}", self.identity.municipality, self.identity.node_id),
                    found: format!("{}/{}", op.id.municipality, op.id.node_id),
                };
                return Ok(fail(Some(seq), e.to_string(), n));
            }
            if let Err(e) = v.push(&op) {
                return Ok(fail(Some(e.seq()), e.to_string(), n));
            }
            local.insert(seq, op);
        }
        let n = v.verified();
        let head = *self.lock_head();
        if head.seq != n
            || (n > 0 && head.hash != v.last_hash())
            || (n == 0 && head.hash != GENESIS)
        {
            return Ok(fail(
                Some(n + 1),
                format!(
                    "the log ends at op #{n} but the node's head says #{}: ops at the end of the log are missing",
                    head.seq
                ),
                n,
            ));
        }
        let mut records = 0u64;
        let mut used = std::collections::BTreeSet::new();
        for st in self.all_states() {
            let st = match st {
                Ok(s) => s,
                Err(e) => return Ok(fail(None, e.to_string(), n)),
            };
            records += 1;
            let mismatch = || {
                fail(
                    None,
                    format!(
                        "record {} does not match what its ops in the log say",
                        st.regno
                    ),
                    n,
                )
            };
            let mut ops = Vec::with_capacity(st.ops.len());
            for id in &st.ops {
                let op = if id.municipality == self.identity.municipality
                    && id.node_id == self.identity.node_id
                {
                    used.insert(id.seq);
                    match local.get(&id.seq) {
                        Some(op) => op.clone(),
                        None => return Ok(mismatch()),
                    }
                } else {
                    match self.remote_op(id) {
                        Ok(Some(op)) if op.check().is_ok() => op,
                        Ok(_) => return Ok(mismatch()),
                        Err(e) => return Ok(fail(None, e.to_string(), n)),
                    }
                };
                if op.record_id != st.regno {
                    return Ok(mismatch());
                }
                ops.push(op);
            }
            let replayed = merge(&ops);
            let same = replayed.as_ref().is_some_and(|r| {
                r.fields == st.fields
                    && r.voided.is_some() == st.voided.is_some()
                    && r.ops.len() == st.ops.len()
                    && (st.heads.is_empty() || (r.heads == st.heads && r.conflicts == st.conflicts))
            });
            if !same {
                return Ok(mismatch());
            }
        }
        // Annotations of other municipalities' records: the node keeps no copy of those.
        let foreign_note = |op: &Op| {
            op.change == ChangeKind::Annotate
                && RegNo::parse(&op.record_id)
                    .is_ok_and(|n| n.municipality != self.identity.municipality)
        };
        // Ops the agency set aside belong to no record (`aside.rs`).
        let aside: std::collections::HashSet<u64> = match self.set_aside_ops() {
            Ok(a) => a.iter().map(|a| a.seq).collect(),
            Err(e) => return Ok(fail(None, e.to_string(), n)),
        };
        if let Some(op) = local.values().find(|op| {
            !used.contains(&op.id.seq) && !foreign_note(op) && !aside.contains(&op.id.seq)
        }) {
            // The log is intact; the record that op #n changed is not what the log says.
            return Ok(fail(
                None,
                format!(
                    "record {} does not match what its ops in the log say: op #{} changes it, but the record is missing or does not list that op",
                    op.record_id, op.id.seq
                ),
                n,
            ));
        }
        Ok(VerifyReport {
            ops_checked: n,
            records_checked: records,
            ok: true,
            problem: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Query;
    use serde_json::json;

    fn birth(given: &str, surname: &str, dob: &str) -> serde_json::Value {
        json!({
            "child": {"given_name": given, "surname": surname, "sex": "female", "date_of_birth": dob},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": "Drita", "surname": surname, "maiden_surname": "Berisha"}
        })
    }

    fn node() -> (Node, Clerk) {
        (
            Node::in_memory("prishtine", "1").unwrap(),
            Node::clerk_unchecked("drita"),
        )
    }

    #[test]
    fn oversized_fields_are_refused_at_save_and_burn_no_number() {
        let (n, c) = node();
        let mut doc = birth("Arben", "Gashi", "2020-03-14");
        doc["notes"] = json!("n".repeat(5_000_000));
        match n.register(&c, RecordKind::Birth, doc) {
            Err(NodeError::Invalid(r)) => {
                assert!(r.errors().any(|p| p.code == "text.too_long"), "{r}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(n.log_len(), 0);
        let saved = n
            .register(&c, RecordKind::Birth, birth("Arben", "Gashi", "2020-03-14"))
            .unwrap();
        assert_eq!(
            saved.regno,
            format!("PRISHTINE-{}-B-000001", chrono::Datelike::year(&today()))
        );
    }

    #[test]
    fn annotations_are_kept_apart_and_foreign_ones_need_a_national_search() {
        let (n, c) = node();
        let regno = n
            .register(&c, RecordKind::Birth, birth("Arben", "Gashi", "2020-03-14"))
            .unwrap()
            .regno;
        let note = NewAnnotation {
            event: "marriage".into(),
            date: Some("2024-05-01".into()),
            place: Some("Istog".into()),
            record: Some("istog-2024-m-000003".into()),
            text: None,
        };
        n.annotate(&c, &regno, &note).unwrap();
        n.amend(
            &c,
            &regno,
            &json!({"child": {"given_name": "Besnik"}}),
            "typo",
        )
        .unwrap();
        let st = n.get(&regno).unwrap();
        let a = st.annotations();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].record.as_deref(), Some("ISTOG-2024-M-000003"));
        assert_eq!(a[0].office, "prishtine");
        assert!(st.record().is_ok());
        assert!(matches!(
            n.amend(
                &c,
                &regno,
                &json!({"annotation.prishtine.x.event": "death"}),
                ""
            ),
            Err(NodeError::Shape(_))
        ));
        let bad = NewAnnotation {
            event: "party".into(),
            ..note.clone()
        };
        assert!(matches!(
            n.annotate(&c, &regno, &bad),
            Err(NodeError::Invalid(_))
        ));

        // A record of another municipality: only once the hub is known to hold it.
        let foreign = "ISTOG-2020-B-000004";
        assert!(matches!(
            n.annotate(&c, foreign, &note),
            Err(NodeError::Shape(m)) if m.contains("national answer")
        ));
        n.log_access(
            "drita",
            "search (national)",
            "gashi",
            &[foreign.to_string()],
        )
        .unwrap();
        let saved = n.annotate(&c, foreign, &note).unwrap();
        let op = n.op(saved.seq).unwrap().unwrap();
        assert_eq!(op.change, ChangeKind::Annotate);
        assert!(op
            .changes
            .iter()
            .all(|ch| ch.path.starts_with("annotation.prishtine.")));
        assert!(n.verify().unwrap().ok);
    }

    #[test]
    fn register_mints_sequential_numbers_and_chains_ops() {
        let (n, c) = node();
        let a = n
            .register(&c, RecordKind::Birth, birth("Ana", "Gashi", "2020-01-02"))
            .unwrap();
        let b = n
            .register(&c, RecordKind::Birth, birth("Besa", "Gashi", "2020-01-03"))
            .unwrap();
        let year = chrono::Datelike::year(&today());
        assert_eq!(a.regno, format!("PRISHTINE-{year}-B-000001"));
        assert_eq!(b.regno, format!("PRISHTINE-{year}-B-000002"));
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(
            n.op(2).unwrap().unwrap().prev_hash,
            n.op(1).unwrap().unwrap().hash
        );
        assert!(n.verify().unwrap().ok);
    }

    #[test]
    fn invalid_records_leave_no_trace() {
        let (n, c) = node();
        let mut bad = birth("Ana", "Gashi", "2999-01-01");
        bad["child"]["personal_numbers"] = json!({"jmbg": "0101990910008"});
        match n.register(&c, RecordKind::Birth, bad) {
            Err(NodeError::Invalid(r)) => {
                let fields: Vec<_> = r.errors().map(|p| p.field.as_str()).collect();
                assert!(fields.contains(&"child.date_of_birth"), "{fields:?}");
                assert!(
                    fields.contains(&"child.personal_numbers.jmbg"),
                    "{fields:?}"
                );
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert_eq!(n.log_len(), 0);
        let ok = n
            .register(&c, RecordKind::Birth, birth("Ana", "Gashi", "2020-01-02"))
            .unwrap();
        assert!(
            ok.regno.ends_with("-000001"),
            "sequence did not advance on failure"
        );
    }

    #[test]
    fn unknown_fields_and_foreign_municipality_are_refused() {
        let (n, c) = node();
        let mut doc = birth("Ana", "Gashi", "2020-01-02");
        doc["child"]["givn_name"] = json!("x");
        assert!(matches!(
            n.register(&c, RecordKind::Birth, doc),
            Err(NodeError::Shape(_))
        ));
        let mut doc = birth("Ana", "Gashi", "2020-01-02");
        doc["municipality"] = json!("istog");
        assert!(matches!(
            n.register(&c, RecordKind::Birth, doc),
            Err(NodeError::WrongMunicipality { .. })
        ));
        // Any name of the node's own municipality is accepted and stored as the code.
        let mut doc = birth("Ana", "Gashi", "2020-01-02");
        doc["municipality"] = json!("Приштина");
        let s = n.register(&c, RecordKind::Birth, doc).unwrap();
        assert_eq!(
            n.get(&s.regno).unwrap().fields["municipality"],
            json!("prishtine")
        );
    }

    #[test]
    fn amend_keeps_history_and_void_freezes() {
        let (n, c) = node();
        let s = n
            .register(&c, RecordKind::Birth, birth("Ana", "Gashi", "2020-01-02"))
            .unwrap();
        let other = Node::clerk_unchecked("besnik");
        n.amend(
            &other,
            &s.regno,
            &json!({"mother.maiden_surname": "Hoxha"}),
            "typo",
        )
        .unwrap();
        assert!(matches!(
            n.amend(
                &c,
                &s.regno,
                &json!({"mother": {"maiden_surname": "Hoxha"}}),
                "typo"
            ),
            Err(NodeError::NoChange(_))
        ));
        assert!(matches!(
            n.amend(&c, &s.regno, &json!({"municipality": "istog"}), ""),
            Err(NodeError::MunicipalityChange)
        ));
        assert!(matches!(
            n.amend(
                &c,
                &s.regno,
                &json!({"child": {"date_of_birth": "2999-01-01"}}),
                "typo"
            ),
            Err(NodeError::Invalid(_))
        ));
        // No reason, or only spaces: refused, as for a void.
        for reason in ["", "  "] {
            assert!(matches!(
                n.amend(&c, &s.regno, &json!({"notes": "x"}), reason),
                Err(NodeError::AmendReasonRequired)
            ));
        }
        let h = n.history(&s.regno).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].clerk, "besnik");
        assert_eq!(
            h[1].changes,
            vec![(
                "mother.maiden_surname".to_string(),
                json!("Berisha"),
                json!("Hoxha")
            )]
        );
        assert_eq!(h[0].record["mother"]["maiden_surname"], json!("Berisha"));
        assert!(matches!(
            n.void(&c, &s.regno, "  "),
            Err(NodeError::ReasonRequired)
        ));
        n.void(&c, &s.regno, "registered twice").unwrap();
        assert!(matches!(
            n.amend(&c, &s.regno, &json!({"notes": "x"}), "typo"),
            Err(NodeError::Voided(_))
        ));
        assert_eq!(n.history(&s.regno).unwrap().len(), 3);
        assert!(n.verify().unwrap().ok);
    }

    #[test]
    fn the_index_follows_writes_once_built() {
        let (n, c) = node();
        let s = n
            .register(&c, RecordKind::Birth, birth("Ana", "Gashi", "2020-01-02"))
            .unwrap();
        assert_eq!(n.search(&Query::text("Gashi")).unwrap().len(), 1);
        n.amend(
            &c,
            &s.regno,
            &json!({"child.surname": "Shala", "mother.surname": "Shala"}),
            "married name",
        )
        .unwrap();
        // Gashi is gone from the index: "Gashi Ana" finds Ana only as a partial answer.
        let r = n.search(&Query::text("Gashi Ana")).unwrap();
        assert!(r.iter().all(|h| h.unmatched == ["Gashi"]), "{r:?}");
        assert_eq!(n.search(&Query::text("Шала")).unwrap()[0].regno, s.regno);
        n.void(&c, &s.regno, "test").unwrap();
        assert!(n.search(&Query::text("Shala")).unwrap().is_empty());
    }

    /// The node parses a query with the hub's parser: personal numbers with a `JMBG:` prefix or in
    /// the Albanian form, names in the other community's orthography, places of several words,
    /// and a query nothing matches fully answered with the closest records, marked partial.
    #[test]
    fn local_search_reads_the_query_language_of_the_hub() {
        let (n, c) = node();
        let mut doc = birth("Shpresa", "Krasniqi", "1968-03-14");
        doc["child"]["personal_numbers"] =
            json!({"jmbg": "1403968955005", "albanian": "G85314001T"});
        let a = n.register(&c, RecordKind::Birth, doc).unwrap();
        let b = n
            .register(
                &c,
                RecordKind::Birth,
                birth("Jelena", "Đorđević", "1988-02-03"),
            )
            .unwrap();
        for text in [
            "JMBG:1403968955005",
            "jmbg:1403968955005",
            "G85314001T",
            "g85314001t",
        ] {
            let r = n.search(&Query::text(text)).unwrap();
            assert_eq!(r.len(), 1, "{text:?}: {r:?}");
            assert_eq!(r[0].regno, a.regno, "{text:?}");
        }
        for text in ["Krasnići", "Краснићи 1968", "Špresa Krasnići"] {
            let r = n.search(&Query::text(text)).unwrap();
            assert_eq!(
                r.first().map(|h| &h.regno),
                Some(&a.regno),
                "{text:?}: {r:?}"
            );
            assert!(r[0].unmatched.is_empty(), "{text:?}: {r:?}");
        }
        for text in ["Gjorgjeviq", "Ђорђевић", "Djordjevic"] {
            let r = n.search(&Query::text(text)).unwrap();
            assert_eq!(
                r.first().map(|h| &h.regno),
                Some(&b.regno),
                "{text:?}: {r:?}"
            );
        }
        let r = n.search(&Query::text("Krasniqi Fushë Kosovë")).unwrap();
        assert_eq!(r.first().map(|h| &h.regno), Some(&a.regno), "{r:?}");
        // "Hashim" is in no record: the Krasniqi record is given, marked partial.
        let r = n.search(&Query::text("Hashim Krasniqi")).unwrap();
        assert_eq!(r.first().map(|h| &h.regno), Some(&a.regno), "{r:?}");
        assert_eq!(r[0].unmatched, ["Hashim"]);
    }

    #[test]
    fn clerks_need_a_password_and_a_sponsor() {
        let (n, _) = node();
        assert!(matches!(
            n.add_clerk(None, "drita", "short"),
            Err(NodeError::WeakPassword)
        ));
        assert!(matches!(
            n.add_clerk(None, "Drita!", "long enough"),
            Err(NodeError::BadClerkName(_))
        ));
        n.add_clerk(None, "drita", "long enough").unwrap();
        assert!(matches!(
            n.add_clerk(None, "besnik", "long enough"),
            Err(NodeError::BadCredentials)
        ));
        let d = n.authenticate("drita", "long enough").unwrap();
        assert!(matches!(
            n.authenticate("drita", "wrong one"),
            Err(NodeError::BadCredentials)
        ));
        assert!(matches!(
            n.authenticate("nobody", "long enough"),
            Err(NodeError::BadCredentials)
        ));
        assert!(matches!(
            n.add_clerk(Some(&d), "drita", "long enough"),
            Err(NodeError::ClerkExists(_))
        ));
        n.add_clerk(Some(&d), "besnik", "another one").unwrap();
        assert_eq!(n.clerk_names().unwrap(), vec!["besnik", "drita"]);
    }

    #[test]
    fn pulled_ops_apply_once_and_verify() {
        let (a, c) = node();
        let s = a
            .register(&c, RecordKind::Birth, birth("Ana", "Gashi", "2020-01-02"))
            .unwrap();
        a.amend(&c, &s.regno, &json!({"child.surname": "Shala"}), "typo")
            .unwrap();
        let ops = a.ops_after(0, 10).unwrap();
        assert_eq!(ops.len(), 2);
        let b = Node::in_memory("prishtine", "2").unwrap();
        assert_eq!(b.apply_remote(&ops, 2).unwrap(), 2);
        assert_eq!(b.apply_remote(&ops, 2).unwrap(), 0, "pull is idempotent");
        assert_eq!(b.pull_cursor().unwrap(), 2);
        assert_eq!(
            b.get(&s.regno).unwrap().fields,
            a.get(&s.regno).unwrap().fields
        );
        assert!(b.verify().unwrap().ok);
        // Own ops coming back from the hub are skipped.
        assert_eq!(a.apply_remote(&ops, 2).unwrap(), 0);
        let mut forged = ops[0].clone();
        forged.changes[0].value = json!("Forged");
        assert!(matches!(
            Node::in_memory("prishtine", "3")
                .unwrap()
                .apply_remote(&[forged], 1),
            Err(NodeError::Corrupt(_))
        ));
        // The acknowledgement never moves backwards.
        a.set_hub_acked(2).unwrap();
        a.set_hub_acked(1).unwrap();
        assert_eq!(a.hub_acked().unwrap(), 2);
    }
}
