//! What a command asks of the hub: one [`Request`] per control-socket conversation.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

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
    /// Clerks' un-void requests (pending ones unless `all`): `[unvoid::Request]`. Written to
    /// the access log under `by` (they name records and clerks).
    UnvoidList { all: bool, by: String },
    /// An operator's answer to an un-void request: a grant restores the record (an op of the
    /// hub's chain), a refusal keeps the reason. Answers the `unvoid::Request`.
    UnvoidAnswer {
        id: String,
        grant: bool,
        reason: String,
        operator: String,
    },
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
        /// Train the matching model again (and save it) before scoring.
        #[serde(default)]
        retrain: bool,
    },
    /// Trains the matching model on the whole register and saves it as the one in use:
    /// `ModelInfo`.
    MatchTrain { operator: String },
    /// The saved matching models, newest first: `Vec<ModelInfo>`.
    MatchModels,
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
    /// The duplicates queue by person: the clusters of open cases, of one municipality or all:
    /// `[linkage::clusters::Cluster]`.
    DuplicatesClusters { municipality: Option<String> },
    /// One cluster with every record it names: `ClusterView`. Written to the access log under
    /// `by`.
    DuplicatesCluster { id: String, by: String },
    /// People of the central import whose given name is illegible, waiting for review, of one
    /// municipality or all: `linkage::illegible::Waiting`.
    DuplicatesIllegible { municipality: Option<String> },
    /// One decision on a whole cluster: `groups` gives each record (`REGNO/ROLE`) a group
    /// number (a split); none, all one person. `version`, when given, must be the cluster's as
    /// it was shown. `linkage::clusters::ClusterDecision`.
    DuplicatesDecideCluster {
        id: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        groups: Option<std::collections::BTreeMap<String, String>>,
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
    /// The rollout plan every hub over the store enforces: `rollout::Rollout`.
    RolloutList,
    /// Changes a municipality's stage (and, if given, its record kinds) in the plan:
    /// `rollout::Entry`. Appended to the rollout audit trail (`audit`).
    RolloutSet {
        municipality: String,
        stage: crate::rollout::Stage,
        kinds: Option<Vec<civreg_shared::model::RecordKind>>,
        operator: String,
        reason: String,
    },
    /// Adds a dashboard operator (or, with `replace`, gives it a new password), given the
    /// password's argon2id hash (PHC form; the command hashes, the password never travels):
    /// `OperatorChanged`.
    OperatorAdd {
        name: String,
        phc: String,
        replace: bool,
    },
    /// Removes a dashboard operator; its sessions end at every hub: `OperatorChanged`.
    OperatorRemove { name: String },
    /// The hub list stored for offices (issue 19 part 3): `hub_list::HubUrls`.
    HubUrls,
    /// Stores the hub list offices sync with (empty: removes it, so that each hub's config
    /// applies again); every hub over the store sends it from its next heartbeat:
    /// `hub_list::HubUrls`.
    HubUrlsSet { urls: Vec<String>, operator: String },
    /// A page of an operators' audit trail, shared by every hub (`audit::read`):
    /// `audit::Page`.
    AuditLog {
        trail: crate::audit::Trail,
        since_ms: Option<u64>,
        after: Option<String>,
        limit: usize,
    },
    /// Appends an operator's action done by a command outside the hub (a certificate
    /// cancelled) to the operator actions trail (`operators::log_action`): `ActionKept`.
    OperatorAction {
        operator: String,
        action: String,
        ok: bool,
        details: Value,
    },
    /// Cancels a citizen's certificate (`certificates::cancel`, kept in the store and so
    /// refused by every hub): `certificates::Cancelled`. In the operator actions trail.
    CertificateCancel {
        serial: String,
        reason: String,
        operator: String,
    },
    /// Every certificate cancelled (`certificates::cancelled`): a list of
    /// `certificates::Cancelled`.
    CertificatesCancelled,
}
