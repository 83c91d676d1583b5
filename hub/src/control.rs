//! The hub's control socket: how `civreg-hub show`, `status` (and whatever is added to
//! [`Request`]) reach a running `civreg-hub serve`, which holds the sled database.
//!
//! `serve` listens on `DATA_DIR/hub.sock` (mode 0600; a connection whose peer runs under another
//! uid is refused). A command sends one [`Request`] and gets one answer, a JSON value or an
//! error message, in the frames of [`civreg_shared::control`], from the server both binaries
//! share ([`civreg_runtime::control`]): `Started` first (from then on the request runs exactly
//! once), progress as standard error, then the answer; a stopping hub lets requests under way
//! finish ([`STOP_GRACE`]). The same [`handle`] answers
//! in-process when no hub runs: the command opens the store itself and calls it with a
//! [`HubState`] of its own, so both paths give the same answer and the command formats it.
//!
//! Adding a command: a variant of [`Request`] and its arm in [`handle`], which runs on a
//! blocking thread of the serving process against the live store (reads as well as writes: sled
//! and [`HubStore`] are safe to share between threads). The `PKI` commands do not come here: they
//! touch only files under `pki/`, and the server reads the CRL afresh for each connection.

use crate::status::Liveness;
use crate::store::{HubStore, StoreError};
use civreg_runtime::control;
use civreg_shared::control::{read_frame, write_frame, Frame, FrameError, PROTOCOL};
use civreg_shared::op::Hash;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// The socket's file name in the hub's data dir.
pub const SOCKET: &str = "hub.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// What a command asks of the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// A record as the hub holds it: `{"regno", "kind", "voided", "record", "ops"}`. The view
    /// is written to the access log under `by`.
    Show { regno: String, by: String },
    /// Per node: acknowledged head and what its last heartbeat said:
    /// `{"running": bool, "status": HubStatus}`.
    Status,
    /// Filed conflicts (open ones unless `all`): `[FiledConflict]`.
    ConflictsList {
        municipality: Option<String>,
        all: bool,
    },
    /// One conflict and the record's current value: `{"conflict": FiledConflict, "current": value}`.
    ConflictsShow { id: String },
    /// An operator's decision: `keep` "A" or "B", or `value`. Answers `{"op": OpId}`.
    ConflictsResolve {
        id: String,
        keep: Option<String>,
        value: Option<Value>,
        reason: String,
        operator: String,
    },
    /// The digest of a municipality's records: `DigestValue`.
    Digest { municipality: String },
    /// Probable duplicates in the register: `DedupeReport`.
    MatchDedupe {
        municipality: Option<String>,
        threshold: Option<f64>,
        /// Report the pairs without filing any into the review queue.
        #[serde(default)]
        report_only: bool,
    },
    /// Links the person rows of a CSV file (an absolute path) to the register: `LinkReport`.
    MatchLink {
        path: PathBuf,
        /// The expected share of matching rows and the thresholds, if the operator gave them.
        #[serde(default)]
        params: crate::linkage::matching::LinkParams,
    },
    /// National search: `Results`. Written to the access log under `by`.
    Search {
        query: crate::search::SearchQuery,
        by: String,
    },
    /// Loads historic register pages (a CSV file, absolute path) into `municipality`:
    /// `ImportReport`. Progress goes to the client's standard error while it runs.
    Import {
        path: PathBuf,
        municipality: String,
        operator: String,
    },
    /// The duplicates queue (open cases unless `all`): `[Case]`.
    DuplicatesList {
        municipality: Option<String>,
        all: bool,
    },
    /// One case with both records and their people: `{"case", "a", "b"}`. Written to the
    /// access log under `by`.
    DuplicatesShow { id: String, by: String },
    /// An operator's decision on a case: `action` is `link`, `dismiss` or `unlink`. `Case`.
    DuplicatesDecide {
        id: String,
        action: String,
        operator: String,
        reason: String,
    },
    /// Sets aside the op a node's chain is blocked on (`store::aside`): `SetAside`.
    SetAside {
        municipality: String,
        node_id: String,
        seq: u64,
        /// The op's hash in hex, when the hub has not seen it refused since it started.
        #[serde(default)]
        hash: Option<String>,
        reason: String,
        operator: String,
    },
    /// Undoes a set-aside while the hub has taken nothing after it: the `SetAside` undone.
    UndoSetAside {
        municipality: String,
        node_id: String,
        seq: u64,
        reason: String,
        operator: String,
    },
    /// Ops the hub refused and an operator may set aside, and the ops set aside:
    /// `{"refused": [{municipality, node_id, op: RefusedOp}], "set_aside": [SetAside]}`.
    Refused,
    /// Certificates the offices reported issuing (`certificates::IssueRecord`), of `regno` or
    /// all; written to the access log under `by` (they name the collectors).
    CertificatesIssued { regno: Option<String>, by: String },
    /// A person identifier: its mentions and records `{"person", "mentions", "records"}`.
    /// Written to the access log under `by`.
    Person { id: String, by: String },
    /// The records a person appears in, for the access log's `--person` filter (not itself
    /// written to the log: it reads no record): `[REGNO]`.
    PersonRecords { id: String },
    /// Installs the hub's document signer (`certificates::issue`), from a certificate the
    /// agency CA issued: `certificates::issue::SignerInfo`. In the operator-actions log.
    CertificateSigner {
        cert_pem: String,
        key_pem: crate::certificates::issue::SecretPem,
        operator: String,
    },
    /// Issues a certificate at the hub (`certificates::issue::issue`):
    /// `certificates::issue::HubIssued`. In the access log and the operator-actions log.
    CertificateIssue {
        request: crate::certificates::issue::IssueRequest,
    },
    /// A consistent backup of the hub under `out` (an absolute path): `{"path", "manifest"}`
    /// (`crate::backup`).
    Backup { out: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Id(#[from] civreg_shared::ids::IdError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the hub holds no record {0}")]
    NoRecord(String),
    /// The running hub's answer was an error; its message as the hub gave it.
    #[error("{0}")]
    Remote(String),
    #[error("another `civreg-hub serve` already answers on {0}: stop it first")]
    AlreadyServing(PathBuf),
    #[error("could not create the control socket {path}: {source}{hint}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("{path}: permission denied: run the command as the user that runs `civreg-hub serve`")]
    NoAccess { path: PathBuf },
    #[error("the running hub closed the connection before answering, so the command may or may not have taken effect: check before running it again")]
    Lost,
    #[error("the running hub closed the connection before taking the command (is it stopping?): nothing was done; try again")]
    NotStarted,
    #[error("the running hub answered something this command does not understand ({0}): run commands with the same civreg-hub version as serve")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error("give either --keep A|B or --value VALUE")]
    Decision,
    /// A request whose argument cannot be used; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Aside(#[from] crate::store::AsideError),
    #[error(transparent)]
    Match(#[from] crate::linkage::matching::MatchError),
    #[error(transparent)]
    Import(#[from] crate::linkage::import::ImportError),
    #[error(transparent)]
    Duplicate(#[from] crate::linkage::duplicates::DuplicateError),
    #[error(transparent)]
    Person(#[from] crate::linkage::persons::PersonError),
    #[error("unknown decision {0:?}: use link, dismiss or unlink")]
    Action(String),
}

/// What requests are answered from.
pub struct HubState {
    pub store: Arc<HubStore>,
    /// What nodes said in their heartbeats (empty when the hub is not running).
    pub seen: Arc<Liveness>,
    /// Whether this is the running hub.
    pub running: bool,
    /// The search index: the running hub's, or opened (and brought up to date) on first use.
    pub search: std::sync::OnceLock<Arc<crate::search::SearchIndex>>,
    pub data_dir: PathBuf,
}

impl HubState {
    /// A stopped hub's state: its store, opened by the command itself.
    pub fn stopped(data_dir: &Path, store: HubStore) -> HubState {
        HubState {
            store: Arc::new(store),
            seen: Arc::default(),
            running: false,
            search: std::sync::OnceLock::new(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Appends to the access log; no answer leaves without its entry.
    fn log_access(
        &self,
        by: &str,
        action: &str,
        query: &str,
        records: Vec<String>,
    ) -> Result<(), ControlError> {
        let log = crate::access::AccessLog::open(&self.data_dir)?;
        log.append(&crate::access::Entry {
            at_ms: crate::access::now_ms(),
            by: by.to_string(),
            clerk: String::new(),
            action: action.to_string(),
            query: query.to_string(),
            records,
        })?;
        Ok(())
    }

    fn search_index(&self) -> Result<Arc<crate::search::SearchIndex>, ControlError> {
        if let Some(ix) = self.search.get() {
            return Ok(ix.clone());
        }
        let ix = Arc::new(crate::search::SearchIndex::open(&self.data_dir)?);
        ix.catch_up(&self.store)?;
        Ok(self.search.get_or_init(|| ix).clone())
    }
}

/// A record as operators see it: its fields, status, people and their person identifiers.
fn record_view(state: &HubState, regno: &str) -> Result<Value, ControlError> {
    let rec = state
        .store
        .record(regno)?
        .ok_or_else(|| ControlError::NoRecord(regno.to_string()))?;
    let persons = crate::linkage::persons::persons_of_record(&state.store, regno)?;
    Ok(
        json!({"regno": rec.regno, "kind": rec.kind, "voided": rec.voided,
        "record": civreg_shared::fields::unflatten(&civreg_shared::annotation::record_fields(&rec.fields)),
        "annotations": rec.annotations(), "ops": rec.ops,
        "persons": persons, "links": rec.persons}),
    )
}

/// Answers a request. Runs inside the serving hub, or in the command when no hub runs.
pub fn handle(req: &Request, state: &HubState) -> Result<Value, ControlError> {
    handle_with_progress(req, state, &mut |_| {})
}

/// [`handle`], telling a long request's progress to `progress` (a line of text each time).
pub fn handle_with_progress(
    req: &Request,
    state: &HubState,
    progress: &mut dyn FnMut(String),
) -> Result<Value, ControlError> {
    match req {
        Request::Show { regno, by } => {
            let regno = civreg_shared::ids::RegNo::parse(regno)?.to_string();
            let view = record_view(state, &regno)?;
            state.log_access(by, "view", "", vec![regno])?;
            Ok(view)
        }
        Request::Import {
            path,
            municipality,
            operator,
        } => {
            let ix = state.search_index()?;
            let started = std::time::Instant::now();
            let mut last = std::time::Instant::now() - Duration::from_secs(1);
            let r = crate::linkage::import::import_file(
                &state.store,
                ix.blinder(),
                path,
                municipality,
                operator,
                &mut |rows, byte, total| {
                    if last.elapsed() >= Duration::from_millis(500) || byte >= total {
                        last = std::time::Instant::now();
                        let secs = started.elapsed().as_secs_f64().max(0.001);
                        let pct = (byte * 100).checked_div(total).unwrap_or(100);
                        progress(format!(
                            "import: {rows} rows read ({pct}%), {:.0} rows/s",
                            rows as f64 / secs
                        ));
                    }
                },
            )?;
            Ok(serde_json::to_value(r).expect("report serialises"))
        }
        Request::DuplicatesList { municipality, all } => Ok(serde_json::to_value(
            crate::linkage::duplicates::list(&state.store, municipality.as_deref(), *all)?,
        )
        .expect("cases serialise")),
        Request::DuplicatesShow { id, by } => {
            let c = crate::linkage::duplicates::get(&state.store, id)?;
            let side = |mention: &str| -> Result<Value, ControlError> {
                let (regno, role) = mention.rsplit_once('/').unwrap_or((mention, ""));
                let mut v = record_view(state, regno)?;
                v["role"] = json!(role);
                v["mention"] = json!(mention);
                Ok(v)
            };
            let (a, b) = (side(&c.a)?, side(&c.b)?);
            let records: Vec<String> = [&c.a, &c.b]
                .iter()
                .filter_map(|m| m.rsplit_once('/').map(|x| x.0.to_string()))
                .collect();
            state.log_access(by, "view", &format!("duplicate {}", c.id), records)?;
            Ok(json!({"case": c, "a": a, "b": b}))
        }
        Request::SetAside {
            municipality,
            node_id,
            seq,
            hash,
            reason,
            operator,
        } => {
            let hash = match hash.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(h) => Some(Hash::from_hex(h).ok_or_else(|| {
                    ControlError::Invalid(format!(
                        "--hash {h:?} is not a hash: give the 64 hex digits the office's `civreg-node status` prints"
                    ))
                })?),
            };
            let d = state
                .store
                .set_aside(municipality, node_id, *seq, hash, reason, operator)?;
            tracing::warn!(municipality = %d.municipality, node = %d.node_id, seq = d.seq, operator = %d.operator, reason = %d.reason, "op set aside by an operator");
            state.log_access(
                operator,
                "set-aside",
                &format!("{municipality}/{node_id}#{seq}"),
                d.record_id.iter().cloned().collect(),
            )?;
            Ok(serde_json::to_value(d).expect("decision serialises"))
        }
        Request::UndoSetAside {
            municipality,
            node_id,
            seq,
            reason,
            operator,
        } => {
            let d = state
                .store
                .undo_set_aside(municipality, node_id, *seq, reason)?;
            tracing::warn!(municipality = %d.municipality, node = %d.node_id, seq = d.seq, operator = %operator, reason = %reason, "set-aside undone by an operator");
            state.log_access(
                operator,
                "undo-set-aside",
                &format!("{municipality}/{node_id}#{seq}"),
                d.record_id.iter().cloned().collect(),
            )?;
            Ok(serde_json::to_value(d).expect("decision serialises"))
        }
        Request::CertificatesIssued { regno, by } => {
            let all = crate::certificates::issued(&state.store, regno.as_deref())
                .map_err(|e| ControlError::Invalid(e.to_string()))?;
            let mut records: Vec<String> = all.iter().map(|c| c.regno.clone()).collect();
            records.dedup();
            state.log_access(by, "view", "certificates issued", records)?;
            Ok(json!(all))
        }
        Request::Refused => {
            let refused: Vec<Value> = state
                .store
                .heads()
                .into_iter()
                .filter_map(|(chain, _)| {
                    let (m, n) = chain.split_once('/')?;
                    let op = state.store.refused_op(m, n)?;
                    Some(json!({"municipality": m, "node_id": n, "op": op}))
                })
                .collect();
            Ok(json!({"refused": refused, "set_aside": state.store.all_set_aside()?}))
        }
        Request::DuplicatesDecide {
            id,
            action,
            operator,
            reason,
        } => {
            let c = match action.as_str() {
                "link" => crate::linkage::duplicates::link(&state.store, id, operator, reason)?,
                "dismiss" => {
                    crate::linkage::duplicates::dismiss(&state.store, id, operator, reason)?
                }
                "unlink" => crate::linkage::duplicates::unlink(&state.store, id, operator, reason)?,
                other => return Err(ControlError::Action(other.to_string())),
            };
            Ok(serde_json::to_value(c).expect("case serialises"))
        }
        Request::Person { id, by } => {
            let pid = civreg_shared::ids::PersonId::parse(id)?;
            crate::linkage::persons::require_known(&state.store, &pid)?;
            let mentions = crate::linkage::persons::members(&state.store, &pid)?;
            let records = crate::linkage::persons::records_of_mentions(&mentions);
            state.log_access(by, "view", &format!("person {pid}"), records.clone())?;
            Ok(json!({"person": pid.to_string(), "mentions": mentions, "records": records}))
        }
        Request::CertificateSigner {
            cert_pem,
            key_pem,
            operator,
        } => {
            let info =
                crate::certificates::issue::install_signer(&state.store, cert_pem, &key_pem.0)
                    .map_err(|e| ControlError::Invalid(e.to_string()))?;
            crate::operators::log_action(
                &state.data_dir,
                operator,
                "certificate-signer",
                true,
                json!({"identity": info.identity, "kid": info.kid}),
            )
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
            Ok(serde_json::to_value(info).expect("signer info serialises"))
        }
        Request::CertificateIssue { request } => {
            let issued =
                crate::certificates::issue::issue(&state.store, request, crate::access::now_ms())
                    .map_err(|e| ControlError::Invalid(e.to_string()))?;
            state.log_access(
                &format!("operator:{}", issued.issue.clerk),
                "certificate",
                &format!("certificate {} issued", issued.issue.serial),
                vec![issued.issue.regno.clone()],
            )?;
            crate::operators::log_action(
                &state.data_dir,
                &issued.issue.clerk,
                "certificate-issue",
                true,
                json!({"serial": issued.issue.serial, "regno": issued.issue.regno}),
            )
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
            Ok(serde_json::to_value(issued).expect("issue serialises"))
        }
        Request::Backup { out } => {
            let (path, manifest) = crate::backup::backup(&state.store, &state.data_dir, None, out)
                .map_err(|e| ControlError::Remote(e.to_string()))?;
            Ok(json!({"path": path, "manifest": manifest}))
        }
        Request::PersonRecords { id } => {
            let pid = civreg_shared::ids::PersonId::parse(id)?;
            crate::linkage::persons::require_known(&state.store, &pid)?;
            Ok(json!(crate::linkage::persons::records_of(
                &state.store,
                &pid
            )?))
        }
        Request::Status => {
            let st = state.seen.status(&state.store);
            Ok(json!({"running": state.running, "status": st}))
        }
        Request::ConflictsList { municipality, all } => Ok(serde_json::to_value(
            crate::review::list(&state.store, municipality.as_deref(), *all)?,
        )
        .expect("conflicts serialise")),
        Request::ConflictsShow { id } => {
            let c = crate::review::show(&state.store, id)?;
            let current = state
                .store
                .record(&c.conflict.record_id)?
                .map(|r| {
                    if c.conflict.path == civreg_shared::merge::STATUS {
                        json!(if r.voided.is_some() { "void" } else { "active" })
                    } else {
                        r.fields
                            .get(&c.conflict.path)
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                })
                .unwrap_or(Value::Null);
            Ok(json!({"conflict": c, "current": current}))
        }
        Request::ConflictsResolve {
            id,
            keep,
            value,
            reason,
            operator,
        } => {
            let decision = match (keep.as_deref(), value) {
                (Some("A" | "a"), None) => crate::review::Decision::KeepA,
                (Some("B" | "b"), None) => crate::review::Decision::KeepB,
                (None, Some(v)) => crate::review::Decision::Value(v.clone()),
                _ => return Err(ControlError::Decision),
            };
            let op = crate::review::resolve(&state.store, id, decision, reason, operator)?;
            Ok(json!({"op": op.id, "record": op.record_id}))
        }
        Request::Digest { municipality } => Ok(serde_json::to_value(crate::review::digest(
            &state.store,
            municipality,
        )?)
        .expect("digest serialises")),
        Request::MatchDedupe {
            municipality,
            threshold,
            report_only,
        } => {
            let ix = state.search_index()?;
            let r = crate::linkage::matching::dedupe(
                &state.store,
                ix.blinder(),
                municipality.as_deref(),
                *threshold,
            )?;
            // The pairs at or above the model's Possible threshold go to the review queue (a
            // pair filed before, in any state, is not filed again); those the operator asked
            // for below it are only reported, and with `report_only` none is filed.
            let filed = crate::linkage::duplicates::file(
                &state.store,
                r.pairs
                    .iter()
                    .filter(|p| !*report_only && p.weight >= r.thresholds.possible)
                    .map(|p| crate::linkage::duplicates::Found {
                        a: p.a.clone(),
                        b: p.b.clone(),
                        weight: p.weight,
                        probability: p.probability,
                        class: p.class.clone(),
                        source: "dedupe".into(),
                    })
                    .collect(),
            )?;
            let mut v = serde_json::to_value(r).expect("report serialises");
            v["filed"] = json!(filed);
            Ok(v)
        }
        Request::MatchLink { path, params } => {
            let ix = state.search_index()?;
            let r = crate::linkage::matching::link_file(&state.store, ix.blinder(), path, params)?;
            Ok(serde_json::to_value(r).expect("report serialises"))
        }
        Request::Search { query, by } => {
            let ix = state.search_index()?;
            let results = ix.search(query)?;
            let redacted = crate::access::redact(&query.text, ix.blinder());
            state.log_access(
                by,
                "search",
                &redacted,
                results.hits.iter().map(|h| h.regno.clone()).collect(),
            )?;
            Ok(serde_json::to_value(results).expect("results serialise"))
        }
    }
}

// ---- client ------------------------------------------------------------------------------

/// Asks the running hub; `None` when no hub answers on the socket (none runs, or one was
/// killed and left its socket behind).
pub fn call(data_dir: &Path, req: &Request) -> Result<Option<Value>, ControlError> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(ControlError::NoAccess { path })
        }
        Err(_) => return Ok(None),
    };
    let body = serde_json::to_value(req).map_err(|e| ControlError::Protocol(e.to_string()))?;
    let mut writer = stream.try_clone()?;
    match write_frame(&mut writer, &Frame::Request { v: PROTOCOL, body }, &[]) {
        // A hub that refused at once may have said why before closing.
        Ok(()) | Err(FrameError::Io(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let mut reader = BufReader::new(stream);
    let mut started = false;
    // A large reply comes in parts.
    let mut parts = civreg_shared::control::ReplyReader::default();
    loop {
        match read_frame(&mut reader) {
            // From here on the request runs, once, whatever happens to this connection.
            Ok(Some((Frame::Started, _))) if !started => started = true,
            // A long request (an import) reports progress as standard-error frames.
            Ok(Some((Frame::Stderr { .. }, payload))) if started => {
                use std::io::Write;
                let mut err = std::io::stderr();
                let _ = err.write_all(&payload);
                let _ = err.flush();
            }
            Ok(Some((Frame::ReplyPart { .. }, payload))) if started => parts.part(&payload)?,
            Ok(Some((Frame::Reply { body }, _))) if started => return Ok(Some(body)),
            Ok(Some((Frame::ReplyEnd, _))) if started => return Ok(Some(parts.finish()?)),
            Ok(Some((Frame::Error { message }, _))) => return Err(ControlError::Remote(message)),
            Ok(Some((other, _))) => {
                return Err(ControlError::Protocol(format!(
                    "an unexpected {} message",
                    other.name()
                )))
            }
            Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) if !started => {
                return Err(ControlError::NotStarted)
            }
            Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) => {
                return Err(ControlError::Lost)
            }
            Err(e) => return Err(e.into()),
        }
    }
}

// ---- server ------------------------------------------------------------------------------

/// How long a stopping hub lets requests under way finish (an import, a backup).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// The control socket's listener ([`civreg_runtime::control::Server`]), running until
/// [`ControlServer::stop`].
pub struct ControlServer(control::Server);

impl ControlServer {
    /// Binds `DATA_DIR/hub.sock` (0600) and answers on it. Call inside the serving runtime,
    /// after the store is open (which makes this process the only hub of the data dir).
    pub fn start(data_dir: &Path, state: Arc<HubState>) -> Result<ControlServer, ControlError> {
        let path = socket_path(data_dir);
        if control::already_serving(&path)? {
            return Err(ControlError::AlreadyServing(path));
        }
        let config = control::Config {
            socket: path.clone(),
            program: "civreg-hub",
            grace: STOP_GRACE,
        };
        let server = control::Server::start(config, state).map_err(|e| ControlError::Bind {
            path: e.path,
            source: e.source,
            hint: e.hint,
        })?;
        info!(socket = %path.display(), "hub commands are answered on the control socket");
        Ok(ControlServer(server))
    }

    /// Stops taking requests, removes the socket, and lets those under way finish (for
    /// [`STOP_GRACE`] at most).
    pub async fn stop(self) {
        self.0.stop().await
    }
}

/// One request inside the running hub: answered by [`handle_with_progress`], its progress
/// lines sent as standard error.
impl control::Service for HubState {
    type Request = Request;
    type Answer = Value;

    fn run(&self, req: Request, conv: &control::Conversation) -> control::Ending<Value> {
        let mut err = conv.stderr();
        let mut progress = |line: String| {
            use std::io::Write;
            // A client that went away does not stop the request: it finishes and is recorded.
            let _ = err.write_all(format!("{line}\n").as_bytes());
        };
        match handle_with_progress(&req, self, &mut progress) {
            Ok(v) => control::Ending::Reply(v),
            Err(e) => control::Ending::Failed(e.to_string()),
        }
    }
}
