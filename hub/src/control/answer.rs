//! What the hub answers: one type per [`Request`], gathered in [`Answer`].
//!
//! [`super::handle`] returns an [`Answer`]; the CLI renders it, as text or (with `--json`) as
//! its JSON. On the control socket an answer travels as its plain JSON (the enum is untagged,
//! so the wire is what it was when answers were untyped): the client knows which request it
//! sent, and [`Answer::decode`] reads the answer back as that request's type.
//!
//! The CLI's `--json` output is the answer's JSON as a `serde_json::Value` (object keys in
//! order), the same whether the answer came over the socket or from a store opened in-process:
//! every type here reads back what it writes.

use super::Request;
use crate::certificates::issue::{HubIssued, SignerInfo};
use crate::certificates::IssueRecord;
use crate::linkage::clusters::{Cluster, ClusterDecision};
use crate::linkage::duplicates::Case;
use crate::linkage::import::ImportReport;
use crate::linkage::matching::{DedupeReport, LinkReport};
use crate::linkage::models::ModelInfo;
use crate::search::Results;
use crate::status::HubStatus;
use crate::store::{FiledConflict, RefusedOp, SetAside};
use civreg_shared::annotation::Annotation;
use civreg_shared::merge::{DigestValue, PersonLink, VoidInfo};
use civreg_shared::model::RecordKind;
use civreg_shared::op::OpId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A record as operators see it: its fields, status, people and their person identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    pub regno: String,
    pub kind: RecordKind,
    pub voided: Option<VoidInfo>,
    /// The record's own fields, nested (`civreg_shared::fields::unflatten`): a record's
    /// content, shown as it is.
    pub record: Value,
    pub annotations: Vec<Annotation>,
    pub ops: Vec<OpId>,
    /// The person identifier of each of the record's people, by role.
    pub persons: BTreeMap<String, String>,
    /// The people an operator or an import linked, by role.
    pub links: BTreeMap<String, PersonLink>,
}

/// `Request::Status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// Whether the figures come from the running hub (else from its stopped store).
    pub running: bool,
    pub status: HubStatus,
    /// What the PKI's files say waits for an operator (filled by `civreg-hub status` itself,
    /// which reads them; absent from the control socket's answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki: Option<PkiState>,
    /// The outcome of the hub's own last backups (`DATA_DIR/backup-last.json`, also filled by
    /// the command itself); absent when none was ever tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<crate::backup::LastBackup>,
    /// Every hub process's address (`hub_urls`): the running hub's, as it was started, when
    /// it answered; else the config file's, filled by the command itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hub_urls: Vec<String>,
    /// Whether `hub_urls` is the running hub's (else the config file's).
    #[serde(default)]
    pub hub_urls_running: bool,
}

/// A CA rollover under way and a staged hub certificate, as `civreg-hub status` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkiState {
    /// When the CA rollover under way started (absent: none is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollover_since: Option<String>,
    /// Offices holding only old-CA certificates.
    #[serde(default)]
    pub on_old_ca: Vec<String>,
    /// Offices that have not reported trusting the new root.
    #[serde(default)]
    pub not_trusting_new_root: Vec<String>,
    #[serde(default)]
    pub hub_on_new_ca: bool,
    /// Operators whose certificates stop working when the rollover is finished.
    #[serde(default)]
    pub operators_on_old_ca: Vec<String>,
    /// The expiry (ms) of a hub certificate staged by `pki renew-hub --stage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_staged_until_ms: Option<u64>,
}

/// `Request::ConflictsShow`: the conflict and what the record holds now at its path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictView {
    pub conflict: FiledConflict,
    /// The field's value (any JSON), `"void"`/`"active"` for the status, null when absent.
    pub current: Value,
}

/// `Request::ConflictsResolve`: the operator's decision as an op of the hub's chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resolved {
    pub op: OpId,
    pub record: String,
}

/// `Request::MatchDedupe`: the report and how many pairs were filed for review.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupeAnswer {
    #[serde(flatten)]
    pub report: DedupeReport,
    pub filed: usize,
}

/// One side of a duplicates case: the record and which of its people is meant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSide {
    #[serde(flatten)]
    pub view: RecordView,
    pub role: String,
    /// `REGNO/ROLE`.
    pub mention: String,
}

/// `Request::DuplicatesShow`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseView {
    pub case: Case,
    pub a: CaseSide,
    pub b: CaseSide,
}

/// `Request::DuplicatesCluster`: the cluster, each of its records (in the order of
/// `Cluster::mentions`), and the decisions made on it before.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterView {
    pub cluster: Cluster,
    pub records: Vec<CaseSide>,
    pub decisions: Vec<ClusterDecision>,
}

/// An office blocked on an op the hub refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    pub municipality: String,
    pub node_id: String,
    pub op: RefusedOp,
}

/// `Request::Refused`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedAnswer {
    pub refused: Vec<Blocked>,
    pub set_aside: Vec<SetAside>,
}

/// `Request::Person`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonView {
    pub person: String,
    /// `REGNO/ROLE` of every mention linked to the person.
    pub mentions: Vec<String>,
    pub records: Vec<String>,
}

/// `Request::Backup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupMade {
    pub path: PathBuf,
    pub manifest: crate::backup::Manifest,
}

/// `Request::OperatorAdd` and `Request::OperatorRemove`: whose account changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorChanged {
    pub ok: bool,
    pub operator: String,
    pub removed: bool,
}

/// `Request::OperatorAction`: the action is kept in the trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionKept {
    pub ok: bool,
}

macro_rules! answers {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// What the hub answers to a [`Request`]; see [`Answer::decode`] for which is which.
        #[derive(Debug, Clone, Serialize)]
        #[serde(untagged)]
        pub enum Answer {
            $($(#[$doc])* $variant($ty),)*
        }

        $(
            impl From<$ty> for Answer {
                fn from(a: $ty) -> Answer {
                    Answer::$variant(a)
                }
            }

            impl TryFrom<Answer> for $ty {
                /// An answer of another kind, given back.
                type Error = Answer;
                fn try_from(a: Answer) -> Result<$ty, Answer> {
                    match a {
                        Answer::$variant(x) => Ok(x),
                        other => Err(other),
                    }
                }
            }
        )*

        impl Answer {
            /// The variant's name, for messages.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Answer::$variant(_) => stringify!($variant),)*
                }
            }
        }
    };
}

answers! {
    /// `Show`.
    Record(RecordView),
    Status(StatusAnswer),
    /// `ConflictsList`.
    Conflicts(Vec<FiledConflict>),
    /// `ConflictsShow`.
    Conflict(ConflictView),
    /// `ConflictsResolve`.
    Resolved(Resolved),
    Digest(DigestValue),
    /// `MatchDedupe`.
    Dedupe(DedupeAnswer),
    /// `MatchLink`.
    Link(LinkReport),
    /// `MatchTrain`.
    Model(ModelInfo),
    /// `MatchModels`.
    Models(Vec<ModelInfo>),
    Search(Results),
    Import(ImportReport),
    /// `DuplicatesList`.
    Cases(Vec<Case>),
    /// `DuplicatesShow`.
    CaseView(CaseView),
    /// `DuplicatesDecide`.
    Case(Case),
    /// `DuplicatesClusters`.
    Clusters(Vec<Cluster>),
    /// `DuplicatesCluster`.
    ClusterView(ClusterView),
    /// `DuplicatesDecideCluster`.
    ClusterDecided(ClusterDecision),
    /// `DuplicatesIllegible`.
    Illegible(crate::linkage::illegible::Waiting),
    /// `SetAside` and `UndoSetAside`.
    SetAside(SetAside),
    Refused(RefusedAnswer),
    CertificatesIssued(Vec<IssueRecord>),
    Person(PersonView),
    PersonRecords(Vec<String>),
    /// `CertificateSigner`.
    Signer(SignerInfo),
    /// `CertificateIssue`.
    Issued(HubIssued),
    Backup(BackupMade),
    /// `UnvoidList`.
    UnvoidRequests(Vec<crate::unvoid::Request>),
    /// `UnvoidAnswer`.
    UnvoidAnswered(crate::unvoid::Request),
    /// `RolloutList`.
    Rollout(crate::rollout::Rollout),
    /// `RolloutSet`.
    Stage(crate::rollout::Entry),
    /// `OperatorAdd` and `OperatorRemove`.
    Operator(OperatorChanged),
    /// `HubUrls` and `HubUrlsSet`.
    HubUrls(crate::hub_list::HubUrls),
    /// `AuditLog`.
    AuditPage(crate::audit::Page),
    /// `OperatorAction`.
    ActionKept(ActionKept),
    /// `CertificateCancel`.
    CertificateCancelled(crate::certificates::Cancelled),
    /// `CertificatesCancelled`.
    CertificatesCancelled(Vec<crate::certificates::Cancelled>),
}

impl Answer {
    /// Reads the JSON answer to `req` (as the control socket carries it) as its type.
    pub fn decode(req: &Request, v: Value) -> Result<Answer, serde_json::Error> {
        use serde_json::from_value as de;
        Ok(match req {
            Request::Show { .. } => Answer::Record(de(v)?),
            Request::Status => Answer::Status(de(v)?),
            Request::ConflictsList { .. } => Answer::Conflicts(de(v)?),
            Request::ConflictsShow { .. } => Answer::Conflict(de(v)?),
            Request::ConflictsResolve { .. } => Answer::Resolved(de(v)?),
            Request::Digest { .. } => Answer::Digest(de(v)?),
            Request::MatchDedupe { .. } => Answer::Dedupe(de(v)?),
            Request::MatchLink { .. } => Answer::Link(de(v)?),
            Request::MatchTrain { .. } => Answer::Model(de(v)?),
            Request::MatchModels => Answer::Models(de(v)?),
            Request::Search { .. } => Answer::Search(de(v)?),
            Request::Import { .. } => Answer::Import(de(v)?),
            Request::DuplicatesList { .. } => Answer::Cases(de(v)?),
            Request::DuplicatesShow { .. } => Answer::CaseView(de(v)?),
            Request::DuplicatesDecide { .. } => Answer::Case(de(v)?),
            Request::DuplicatesClusters { .. } => Answer::Clusters(de(v)?),
            Request::DuplicatesCluster { .. } => Answer::ClusterView(de(v)?),
            Request::DuplicatesIllegible { .. } => Answer::Illegible(de(v)?),
            Request::DuplicatesDecideCluster { .. } => Answer::ClusterDecided(de(v)?),
            Request::SetAside { .. } | Request::UndoSetAside { .. } => Answer::SetAside(de(v)?),
            Request::Refused => Answer::Refused(de(v)?),
            Request::CertificatesIssued { .. } => Answer::CertificatesIssued(de(v)?),
            Request::Person { .. } => Answer::Person(de(v)?),
            Request::PersonRecords { .. } => Answer::PersonRecords(de(v)?),
            Request::CertificateSigner { .. } => Answer::Signer(de(v)?),
            Request::CertificateIssue { .. } => Answer::Issued(de(v)?),
            Request::Backup { .. } => Answer::Backup(de(v)?),
            Request::UnvoidList { .. } => Answer::UnvoidRequests(de(v)?),
            Request::UnvoidAnswer { .. } => Answer::UnvoidAnswered(de(v)?),
            Request::RolloutList => Answer::Rollout(de(v)?),
            Request::RolloutSet { .. } => Answer::Stage(de(v)?),
            Request::OperatorAdd { .. } | Request::OperatorRemove { .. } => {
                Answer::Operator(de(v)?)
            }
            Request::HubUrls | Request::HubUrlsSet { .. } => Answer::HubUrls(de(v)?),
            Request::AuditLog { .. } => Answer::AuditPage(de(v)?),
            Request::OperatorAction { .. } => Answer::ActionKept(de(v)?),
            Request::CertificateCancel { .. } => Answer::CertificateCancelled(de(v)?),
            Request::CertificatesCancelled => Answer::CertificatesCancelled(de(v)?),
        })
    }

    /// The answer as JSON: what the control socket carries and `--json` prints.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("an answer is plain data and serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The answer as the socket carries it reads back, and writes the same JSON again: what
    /// `--json` prints is the same whether the hub ran or not.
    fn same_again(req: &Request, wire: Value) -> Answer {
        let a = Answer::decode(req, wire.clone()).unwrap_or_else(|e| panic!("{e}: {wire}"));
        assert_eq!(a.to_value(), wire);
        a
    }

    fn view(regno: &str) -> Value {
        json!({"regno": regno, "kind": "birth", "voided": null,
            "record": {"child": {"given_name": "Arben", "surname": "Gashi"}},
            "annotations": [{"office": "prishtine", "key": "k1", "event": "marriage"}],
            "ops": [{"municipality": "prishtine", "node_id": "1", "seq": 3}],
            "persons": {"child": "123456789"},
            "links": {"mother": {"person": "223456789", "clerk": "vjosa", "reason": "same",
                "op": {"municipality": "agency", "node_id": "hub", "seq": 9},
                "at": {"wall_ms": 1_700_000_000_000u64, "logical": 0}}}})
    }

    #[test]
    fn a_record_and_a_duplicates_case_read_back_as_they_were_sent() {
        let show = Request::Show {
            regno: "R".into(),
            by: String::new(),
        };
        let a = same_again(&show, view("B-PRISHTINE-2025-000001"));
        let Answer::Record(v) = a else {
            panic!("not a record: {a:?}")
        };
        assert_eq!(v.persons["child"], "123456789");

        let mut side = view("B-PRISHTINE-2025-000002");
        side["role"] = json!("child");
        side["mention"] = json!("B-PRISHTINE-2025-000002/child");
        let case = json!({"id": "d1", "a": "X/child", "b": "Y/child",
            "municipalities": ["prishtine"], "weight": 12.5, "probability": 0.998,
            "class": "match", "source": "dedupe", "filed_ms": 5, "status": "open"});
        let req = Request::DuplicatesShow {
            id: "d1".into(),
            by: String::new(),
        };
        let Answer::CaseView(c) = same_again(&req, json!({"case": case, "a": side, "b": side}))
        else {
            panic!("not a case view")
        };
        assert_eq!(c.a.role, "child");
        assert_eq!(c.b.view.regno, "B-PRISHTINE-2025-000002");
    }

    #[test]
    fn reports_with_left_out_fields_read_back_as_they_were_sent() {
        let dedupe = Request::MatchDedupe {
            municipality: None,
            threshold: None,
            report_only: false,
            retrain: false,
        };
        same_again(
            &dedupe,
            json!({"people": 10, "threshold": 4.25, "pairs_compared": 45, "filed": 1,
                "thresholds": {"matched": 11.5, "possible": 4.25},
                "pairs": [{"a": "X/child", "b": "Y/child", "weight": 13.1,
                    "probability": 0.9999, "class": "match"}]}),
        );
        let import = Request::Import {
            path: "/x.csv".into(),
            municipality: "istog".into(),
            operator: "o".into(),
        };
        same_again(
            &import,
            json!({"municipality": "istog", "rows": 4, "register_people": 7, "matched": 1,
                "possible": 0, "new": 1,
                "imported": [{"line": 2, "regno": "B-ISTOG-1990-000001", "people": [
                    {"role": "child", "outcome": "match", "person": "123456789",
                     "candidate": "B-PRISHTINE-2025-000001/child", "weight": 14.0},
                    {"role": "mother", "outcome": "new"}]}],
                "skipped": [{"line": 3, "regno": "", "reason": "repeat"}],
                "rejected": [{"line": 4, "reasons": ["no surname", "bad date"]}],
                "double_entries": [{"line": 5, "regno": "B-ISTOG-1990-000002", "same_as_line": 2}]}),
        );
        let link = Request::MatchLink {
            path: "/x.csv".into(),
            params: Default::default(),
        };
        let row = json!({"line": 2, "id": "a1", "class": "new", "record": null, "role": null,
            "person": null, "best": null, "weight": null, "probability": null,
            "agree": [], "disagree": [], "why": []});
        let mut noted = row.clone();
        noted["notes"] = json!(["date of birth 1990-02-30 read as year 1990"]);
        noted["thresholds"] = json!({"matched": 12.0, "possible": 5.5});
        same_again(
            &link,
            json!({"register_people": 7, "rows": [row, noted],
                "rejected": [{"line": 9, "reason": "no name"}],
                "prior": {"lambda": 0.0001, "expected_matches": 1.5, "source": "deterministic rules",
                    "rule_pairs": 2, "thresholds": {"matched": 10.0, "possible": 3.5},
                    "thresholds_given": false}}),
        );
        same_again(
            &Request::Refused,
            json!({"refused": [{"municipality": "istog", "node_id": "1", "op": {"seq": 4,
                "hash": "ab".repeat(32), "record_id": "B-ISTOG-2025-000001", "why": "bad", "at_ms": 3}}],
                "set_aside": []}),
        );
    }

    #[test]
    fn an_answer_of_another_request_is_an_error_not_a_panic() {
        let show = Request::Show {
            regno: "R".into(),
            by: String::new(),
        };
        assert!(Answer::decode(&show, json!({"running": true})).is_err());
        assert!(Answer::decode(&Request::Status, json!([1, 2])).is_err());
        let digest: Answer = DigestValue {
            records: 1,
            sha256: "00".into(),
        }
        .into();
        let not_a_case: Result<Case, Answer> = digest.try_into();
        assert_eq!(not_a_case.unwrap_err().kind(), "Digest");
    }
}
