//! A clerk's request to un-void a record (issue 17). Only an operator at the hub can restore a
//! voided record; a clerk asks for it. The request is kept in its own sealed tree
//! (`Tree::Unvoid`, one per record) and sent with every heartbeat until the hub answers it
//! (`crate::sync`); the answer is kept with it, for the record page and `status`.

use super::{Clerk, Node, NodeError};
use crate::store::Tree;
use civreg_shared::ids::RegNo;
use civreg_shared::limits::{MAX_UNVOID_REASON_CHARS, MAX_UNVOID_REQUESTS};
use serde::{Deserialize, Serialize};

/// A request and, once heard, the hub's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnvoidRequest {
    /// Random (32 lowercase hex digits): the hub takes a repeat as the same request.
    pub id: String,
    pub regno: String,
    pub reason: String,
    pub clerk: String,
    pub at_ms: u64,
    /// "pending" until the hub took it; then as the hub said: "pending", "granted", "refused"
    /// or "invalid" (the hub could not take it).
    pub state: String,
    /// The operator's reason (refused, granted) or why the hub could not take it (invalid).
    #[serde(default)]
    pub answer_reason: String,
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub answered_ms: u64,
}

impl UnvoidRequest {
    /// Whether the hub has answered for good: no longer sent.
    pub fn answered(&self) -> bool {
        matches!(self.state.as_str(), "granted" | "refused" | "invalid")
    }
}

/// Why a request was not made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnvoidRefused {
    #[error("record {0} is not void: there is nothing to un-void")]
    NotVoid(String),
    #[error("record {regno} is of municipality {given}: ask its office ({own} can ask only for its own records)")]
    OtherMunicipality {
        regno: String,
        own: String,
        given: String,
    },
    #[error("an un-void request for {0} is already waiting for the agency's answer: sync, and see `civreg-node status`")]
    Pending(String),
    #[error("{0} un-void requests are waiting for the agency's answer: sync, and ask again once some are answered")]
    TooMany(usize),
    #[error("give a reason (--reason \"...\") of at most {max} characters, on one line: the agency's operator reads it", max = MAX_UNVOID_REASON_CHARS)]
    Reason,
}

impl Node {
    /// Asks the agency to un-void `regno` (a voided record of this node's municipality), for
    /// `reason`. Kept until the hub answers; a new request after an answer replaces the old.
    pub fn request_unvoid(
        &self,
        clerk: &Clerk,
        regno: &str,
        reason: &str,
    ) -> Result<UnvoidRequest, NodeError> {
        let regno = Self::resolve_regno(regno)?;
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_UNVOID_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(UnvoidRefused::Reason.into());
        }
        let number = RegNo::parse(&regno)?;
        if number.municipality != self.identity.municipality {
            return Err(UnvoidRefused::OtherMunicipality {
                regno: regno.clone(),
                own: self.identity.municipality.clone(),
                given: number.municipality,
            }
            .into());
        }
        let mut id = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
            .map_err(|_| NodeError::Shape("the system's random source failed: try again".into()))?;
        let at_ms = (self.clock)();
        let req = UnvoidRequest {
            id: hex::encode(id),
            regno: regno.clone(),
            reason: reason.to_string(),
            clerk: clerk.name().to_owned(),
            at_ms,
            state: "pending".into(),
            answer_reason: String::new(),
            operator: String::new(),
            answered_ms: 0,
        };
        let made = self.write(|tx| {
            let st = tx
                .state(&regno)?
                .ok_or_else(|| NodeError::NotFound(regno.clone()))?;
            if st.voided.is_none() {
                return Err(UnvoidRefused::NotVoid(regno.clone()).into());
            }
            let open = tx.node.unvoid_requests()?;
            if open.iter().any(|r| r.regno == regno && !r.answered()) {
                return Err(UnvoidRefused::Pending(regno.clone()).into());
            }
            let waiting = open.iter().filter(|r| !r.answered()).count();
            if waiting >= MAX_UNVOID_REQUESTS {
                return Err(UnvoidRefused::TooMany(waiting).into());
            }
            let plain = serde_json::to_vec(&req).expect("a request serialises");
            let sealed = tx
                .node
                .crypto
                .seal(Tree::Unvoid.name(), regno.as_bytes(), &plain);
            tx.batch()
                .put(Tree::Unvoid, regno.clone().into_bytes(), sealed);
            Ok(req)
        })?;
        self.log_access(clerk.name(), "unvoid-request", reason, &[regno])?;
        Ok(made)
    }

    /// Every request kept, answered or not, by registration number.
    pub fn unvoid_requests(&self) -> Result<Vec<UnvoidRequest>, NodeError> {
        self.store
            .scan(Tree::Unvoid)
            .map(|r| {
                let (k, v) = r?;
                self.open_unvoid(&k, &v)
            })
            .collect()
    }

    /// The request of `regno`, if one is kept.
    pub fn unvoid_request(&self, regno: &str) -> Result<Option<UnvoidRequest>, NodeError> {
        match self.store.get(Tree::Unvoid, regno.as_bytes())? {
            None => Ok(None),
            Some(v) => self.open_unvoid(regno.as_bytes(), &v).map(Some),
        }
    }

    /// The requests to send with the next heartbeat: those the hub has not answered for good.
    pub fn unvoid_requests_unanswered(&self) -> Result<Vec<UnvoidRequest>, NodeError> {
        Ok(self
            .unvoid_requests()?
            .into_iter()
            .filter(|r| !r.answered())
            .take(MAX_UNVOID_REQUESTS)
            .collect())
    }

    /// Keeps the hub's answers (`id`, state, reason, operator, when) with their requests; an
    /// answer to no request kept (or to a replaced one) is ignored.
    pub fn note_unvoid_answers(
        &self,
        answers: &[(String, String, String, String, u64)],
    ) -> Result<(), NodeError> {
        let known = self.unvoid_requests()?;
        self.write(|tx| {
            for (id, state, reason, operator, at_ms) in answers {
                if !matches!(
                    state.as_str(),
                    "pending" | "granted" | "refused" | "invalid"
                ) {
                    continue;
                }
                let Some(r) = known.iter().find(|r| r.id == *id && !r.answered()) else {
                    continue;
                };
                if r.state == *state {
                    continue;
                }
                let mut r = r.clone();
                r.state = state.clone();
                r.answer_reason = reason
                    .chars()
                    .take(civreg_shared::limits::MAX_TEXT_CHARS)
                    .collect();
                r.operator = operator
                    .chars()
                    .take(civreg_shared::limits::MAX_NAME_CHARS)
                    .collect();
                r.answered_ms = *at_ms;
                let plain = serde_json::to_vec(&r).expect("a request serialises");
                let sealed = tx
                    .node
                    .crypto
                    .seal(Tree::Unvoid.name(), r.regno.as_bytes(), &plain);
                tx.batch()
                    .put(Tree::Unvoid, r.regno.clone().into_bytes(), sealed);
            }
            Ok(())
        })
    }

    fn open_unvoid(&self, key: &[u8], sealed: &[u8]) -> Result<UnvoidRequest, NodeError> {
        let plain = self
            .crypto
            .open(Tree::Unvoid.name(), key, sealed)
            .map_err(|e| NodeError::Corrupt(format!("un-void request: {e}")))?;
        serde_json::from_slice(&plain)
            .map_err(|e| NodeError::Corrupt(format!("un-void request: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::model::RecordKind;
    use serde_json::json;

    fn node() -> (Node, Clerk) {
        (
            Node::in_memory("prishtine", "1").expect("a node"),
            Node::clerk_unchecked("drita"),
        )
    }

    fn register(n: &Node, c: &Clerk, given: &str) -> String {
        let doc = json!({
            "child": {"given_name": given, "surname": "Gashi", "sex": "female", "date_of_birth": "2020-03-14"},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha"}
        });
        n.register(c, RecordKind::Birth, doc)
            .expect("register")
            .regno
    }

    fn refused(r: Result<UnvoidRequest, NodeError>) -> UnvoidRefused {
        match r {
            Err(NodeError::Unvoid(u)) => u,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn only_a_voided_record_of_the_municipality_with_a_reason_is_asked_for() {
        let (n, c) = node();
        let regno = register(&n, &c, "Arben");
        assert_eq!(
            refused(n.request_unvoid(&c, &regno, "mistake")),
            UnvoidRefused::NotVoid(regno.clone())
        );
        n.void(&c, &regno, "entered twice").expect("void");
        assert_eq!(
            refused(n.request_unvoid(&c, &regno, "  ")),
            UnvoidRefused::Reason
        );
        let huge = "x".repeat(MAX_UNVOID_REASON_CHARS + 1);
        assert_eq!(
            refused(n.request_unvoid(&c, &regno, &huge)),
            UnvoidRefused::Reason
        );
        assert!(matches!(
            refused(n.request_unvoid(&c, "ISTOG-2026-B-000001", "r")),
            UnvoidRefused::OtherMunicipality { .. }
        ));
        assert!(matches!(
            n.request_unvoid(&c, "PRISHTINE-2020-B-000099", "r"),
            Err(NodeError::NotFound(_))
        ));
        let r = n
            .request_unvoid(&c, &regno, "the wrong record was voided")
            .expect("request");
        assert_eq!(r.state, "pending");
        assert_eq!(r.id.len(), 32);
        // One open request per record.
        assert_eq!(
            refused(n.request_unvoid(&c, &regno, "again")),
            UnvoidRefused::Pending(regno.clone())
        );
        assert_eq!(
            n.unvoid_requests_unanswered().expect("read"),
            vec![r.clone()]
        );
        // The clerk's request is in the access log.
        let log = n.access_log().expect("log");
        assert!(log
            .iter()
            .any(|e| e.action == "unvoid-request" && e.records == vec![regno.clone()]));
    }

    #[test]
    fn answers_are_kept_and_stop_the_sending_and_a_new_request_replaces_a_refused_one() {
        let (n, c) = node();
        let regno = register(&n, &c, "Arben");
        n.void(&c, &regno, "entered twice").expect("void");
        let r = n.request_unvoid(&c, &regno, "mistake").expect("request");
        // Answers to unknown ids, and unknown states, are ignored.
        n.note_unvoid_answers(&[
            ("f".repeat(32), "granted".into(), "x".into(), "op".into(), 1),
            (r.id.clone(), "weird".into(), "x".into(), "op".into(), 1),
        ])
        .expect("note");
        assert_eq!(n.unvoid_request(&regno).expect("read"), Some(r.clone()));
        n.note_unvoid_answers(&[(
            r.id.clone(),
            "refused".into(),
            "the paper register says void".into(),
            "vjosa".into(),
            7,
        )])
        .expect("note");
        let held = n.unvoid_request(&regno).expect("read").expect("kept");
        assert_eq!(held.state, "refused");
        assert_eq!(held.answer_reason, "the paper register says void");
        assert_eq!(held.operator, "vjosa");
        assert!(n.unvoid_requests_unanswered().expect("read").is_empty());
        let again = n
            .request_unvoid(&c, &regno, "new evidence")
            .expect("request");
        assert_ne!(again.id, r.id);
        assert_eq!(n.unvoid_requests().expect("read"), vec![again]);
    }

    #[test]
    fn open_requests_are_bounded() {
        let (n, c) = node();
        for i in 0..MAX_UNVOID_REQUESTS {
            let given: String = i
                .to_string()
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            let regno = register(&n, &c, &format!("Arben{given}"));
            n.void(&c, &regno, "entered twice").expect("void");
            n.request_unvoid(&c, &regno, "mistake").expect("request");
        }
        let regno = register(&n, &c, "Besnik");
        n.void(&c, &regno, "entered twice").expect("void");
        assert_eq!(
            refused(n.request_unvoid(&c, &regno, "mistake")),
            UnvoidRefused::TooMany(MAX_UNVOID_REQUESTS)
        );
    }
}
