//! A clerk's request to un-void a record (issue 17): it comes with the office's heartbeat, is
//! checked and kept in `aux` (`uv/ID`), listed for the operators, and answered by them: a grant
//! restores the record by an op of the hub's chain (which reaches the office by pull), a refusal
//! keeps the operator's reason. The answer goes back in every heartbeat that repeats the request.
//!
//! A request is not an op: it changes no record, so it stays out of the canonical encoding, the
//! merge and the digests. What a node may ask is bounded (`limits::MAX_UNVOID_REQUESTS` per
//! heartbeat, `MAX_UNVOID_REASON_CHARS` of reason), and only for a record of its own municipality
//! that the hub holds as voided; anything else is answered `invalid` and never stored.

use crate::store::aux::UNVOID;
use crate::store::{AuxReads, HubStore, StoreError};
use civreg_proto::v1::{UnvoidAnswer, UnvoidRequest};
use civreg_shared::ids::RegNo;
use civreg_shared::limits::{MAX_NAME_CHARS, MAX_UNVOID_REASON_CHARS, MAX_UNVOID_REQUESTS};
use civreg_shared::op::{ChangeKind, Hlc, Op, OP_FORMAT};
use serde::{Deserialize, Serialize};

/// A request as the hub keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    /// `MUNICIPALITY/NODE` of the office that asked.
    pub office: String,
    pub municipality: String,
    pub regno: String,
    pub reason: String,
    pub clerk: String,
    /// When the clerk asked (the office's clock) and when the hub first heard it.
    pub at_ms: u64,
    pub received_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// An operator's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub granted: bool,
    pub reason: String,
    pub operator: String,
    pub at_ms: u64,
}

impl Request {
    /// "pending", "granted" or "refused".
    pub fn state(&self) -> &'static str {
        match &self.answer {
            None => "pending",
            Some(a) if a.granted => "granted",
            Some(_) => "refused",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnvoidError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no un-void request {0}: list them with `civreg-hub unvoid-requests`")]
    NotFound(String),
    #[error("give a reason (--reason TEXT): the office sees it")]
    ReasonRequired,
    #[error("the reason is {0} characters long; at most {max} are kept: shorten it", max = MAX_UNVOID_REASON_CHARS)]
    ReasonTooLong(usize),
    #[error("give the operator's name (--operator NAME)")]
    OperatorRequired,
    #[error("un-void request {id} was already {state}: nothing was done")]
    AlreadyAnswered { id: String, state: &'static str },
    #[error("record {0} is not void at the hub (restored since the request?): refuse the request instead, saying so")]
    NotVoided(String),
    #[error("the hub holds no record {0}: refuse the request instead, saying so")]
    NoRecord(String),
    #[error("un-void request {id} could not be read: {why}")]
    Corrupt { id: String, why: String },
}

/// Why the hub will not take a request from office `municipality`, if it will not. Pure of the
/// store but for reading the record.
pub fn check(store: &HubStore, municipality: &str, r: &UnvoidRequest) -> Result<(), String> {
    if r.id.len() != 32
        || !r
            .id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("the request id is not 32 lowercase hex digits".into());
    }
    let regno = RegNo::parse(&r.regno).map_err(|e| format!("the record number: {e}"))?;
    if regno.municipality != municipality {
        return Err(format!(
            "record {} is not of this office's municipality ({municipality})",
            r.regno
        ));
    }
    let reason = r.reason.trim();
    if reason.is_empty() {
        return Err("the request gives no reason".into());
    }
    let n = r.reason.chars().count();
    if n > MAX_UNVOID_REASON_CHARS {
        return Err(format!(
            "the reason is {n} characters long; at most {MAX_UNVOID_REASON_CHARS} are taken"
        ));
    }
    if r.reason
        .chars()
        .chain(r.clerk.chars())
        .any(char::is_control)
    {
        return Err("the reason or the clerk's name holds control characters".into());
    }
    if r.clerk.trim().is_empty() || r.clerk.chars().count() > MAX_NAME_CHARS {
        return Err("the request names no clerk, or a name too long".into());
    }
    match store.record(&r.regno).map_err(|e| e.to_string())? {
        None => Err(format!("the hub holds no record {}", r.regno)),
        Some(st) if st.voided.is_none() => Err(format!("record {} is not void", r.regno)),
        Some(_) => Ok(()),
    }
}

fn key(id: &str) -> Vec<u8> {
    crate::store::aux::aux_key(UNVOID, id)
}

fn decode(id: &str, v: &[u8]) -> Result<Request, UnvoidError> {
    serde_json::from_slice(v).map_err(|e| UnvoidError::Corrupt {
        id: id.to_string(),
        why: e.to_string(),
    })
}

/// One request, if the hub holds it.
pub fn get(store: &HubStore, id: &str) -> Result<Option<Request>, UnvoidError> {
    let id = id.trim();
    match store.aux_get(&key(id))? {
        None => Ok(None),
        Some(v) => decode(id, &v).map(Some),
    }
}

fn answer_of(r: &Request) -> UnvoidAnswer {
    UnvoidAnswer {
        id: r.id.clone(),
        state: r.state().into(),
        reason: r
            .answer
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        operator: r
            .answer
            .as_ref()
            .map(|a| a.operator.clone())
            .unwrap_or_default(),
        at_ms: r.answer.as_ref().map_or(0, |a| a.at_ms),
    }
}

/// Takes the requests an office sent with its heartbeat (its identity from its certificate) and
/// answers each: the first `MAX_UNVOID_REQUESTS` are read, a new valid one is stored (in one
/// flushed write), a known one is answered as it stands, and one that fails the checks (or
/// names an id another office used) is answered `invalid` with why, and not stored.
pub fn take(
    store: &HubStore,
    municipality: &str,
    node_id: &str,
    requests: &[UnvoidRequest],
    now_ms: u64,
) -> Result<Vec<UnvoidAnswer>, UnvoidError> {
    let office = format!("{municipality}/{node_id}");
    let mut answers = Vec::new();
    let mut writes: Vec<crate::store::AuxWrite> = Vec::new();
    let invalid = |id: &str, why: String| UnvoidAnswer {
        id: id.chars().take(64).collect(),
        state: "invalid".into(),
        reason: why,
        operator: String::new(),
        at_ms: now_ms,
    };
    for r in requests.iter().take(MAX_UNVOID_REQUESTS) {
        if answers.iter().any(|a: &UnvoidAnswer| a.id == r.id) {
            continue;
        }
        if let Err(why) = check(store, municipality, r) {
            // A known request stays known, even if its record changed since.
            if let Some(held) = get(store, &r.id)
                .ok()
                .flatten()
                .filter(|h| h.office == office)
            {
                answers.push(answer_of(&held));
                continue;
            }
            tracing::warn!(municipality, node = node_id, %why, "un-void request refused");
            answers.push(invalid(&r.id, why));
            continue;
        }
        match get(store, &r.id)? {
            Some(held) if held.office == office => answers.push(answer_of(&held)),
            Some(_) => answers.push(invalid(
                &r.id,
                "another office's request has this id".into(),
            )),
            None => {
                let req = Request {
                    id: r.id.clone(),
                    office: office.clone(),
                    municipality: municipality.to_string(),
                    regno: r.regno.clone(),
                    reason: r.reason.trim().to_string(),
                    clerk: r.clerk.trim().to_string(),
                    at_ms: r.at_ms,
                    received_ms: now_ms,
                    answer: None,
                };
                tracing::info!(municipality, node = node_id, record = %req.regno, id = %req.id, "un-void request received");
                answers.push(answer_of(&req));
                writes.push((
                    key(&req.id),
                    Some(serde_json::to_vec(&req).expect("a request serialises")),
                ));
            }
        }
    }
    // `aux_write` flushes before it returns: an answer "pending" means kept on disk.
    if !writes.is_empty() {
        store.aux_write(&writes)?;
    }
    Ok(answers)
}

/// The requests, oldest first: only the pending ones unless `all`.
pub fn list(store: &HubStore, all: bool) -> Result<Vec<Request>, UnvoidError> {
    let mut out = Vec::new();
    for kv in store.aux_scan(UNVOID.as_bytes()) {
        let (k, v) = kv?;
        let id = String::from_utf8_lossy(&k[UNVOID.len()..]).into_owned();
        let r = decode(&id, &v)?;
        if all || r.answer.is_none() {
            out.push(r);
        }
    }
    out.sort_by(|a, b| (a.received_ms, &a.id).cmp(&(b.received_ms, &b.id)));
    Ok(out)
}

/// The request `id`, still unanswered, noted in `reads`: an answer is written only if no
/// other hub answered it meanwhile (compare-and-set; the one that loses is told it was).
fn checked_answer(
    store: &HubStore,
    id: &str,
    reason: &str,
    operator: &str,
    reads: &mut AuxReads,
) -> Result<Request, UnvoidError> {
    if reason.trim().is_empty() {
        return Err(UnvoidError::ReasonRequired);
    }
    let n = reason.trim().chars().count();
    if n > MAX_UNVOID_REASON_CHARS {
        return Err(UnvoidError::ReasonTooLong(n));
    }
    if operator.trim().is_empty() {
        return Err(UnvoidError::OperatorRequired);
    }
    let r = match store.aux_get_noting(&key(id.trim()), reads)? {
        None => None,
        Some(v) => Some(decode(id.trim(), &v)?),
    }
    .ok_or_else(|| UnvoidError::NotFound(id.trim().to_string()))?;
    if r.answer.is_some() {
        return Err(UnvoidError::AlreadyAnswered {
            id: r.id.clone(),
            state: r.state(),
        });
    }
    Ok(r)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Grants a request: restores its record by an op of the hub's chain (the record's offices
/// receive it by pull) and keeps the answer, in one atomic, flushed write.
pub fn grant(
    store: &HubStore,
    id: &str,
    reason: &str,
    operator: &str,
) -> Result<Request, UnvoidError> {
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        if let Some(r) = grant_once(store, id, reason, operator)? {
            return Ok(r);
        }
    }
    Err(HubStore::contended().into())
}

/// [`grant`] once; `None`: another hub answered the request first (nothing written).
fn grant_once(
    store: &HubStore,
    id: &str,
    reason: &str,
    operator: &str,
) -> Result<Option<Request>, UnvoidError> {
    let mut reads = AuxReads::default();
    let mut r = checked_answer(store, id, reason, operator, &mut reads)?;
    let record = store
        .record(&r.regno)?
        .ok_or_else(|| UnvoidError::NoRecord(r.regno.clone()))?;
    if record.voided.is_none() {
        return Err(UnvoidError::NotVoided(r.regno.clone()));
    }
    let at = now();
    r.answer = Some(Answer {
        granted: true,
        reason: reason.trim().to_string(),
        operator: operator.trim().to_string(),
        at_ms: at,
    });
    let op_reason = format!(
        "un-void request {} of {} ({}): {}",
        r.id,
        r.clerk,
        r.office,
        reason.trim()
    );
    // The restore op and the answer in one atomic, flushed batch.
    let aux = [(
        key(&r.id),
        Some(serde_json::to_vec(&r).expect("a request serialises")),
    )];
    let written = store.write_own_many_if(
        vec![()],
        |(), id, prev_hash| Op {
            format: OP_FORMAT,
            id,
            hlc: Hlc::tick(record.updated, at),
            clerk: format!("operator:{}", operator.trim()),
            record_id: record.regno.clone(),
            record_kind: record.kind,
            change: ChangeKind::Restore,
            changes: vec![],
            base: record.heads.clone(),
            reason: op_reason.clone(),
            prev_hash,
            hash: Default::default(),
        },
        &aux,
        &reads,
    )?;
    if written.is_none() {
        return Ok(None);
    }
    tracing::info!(id = %r.id, record = %r.regno, operator, "un-void request granted: record restored");
    Ok(Some(r))
}

/// Refuses a request, keeping the operator's reason for the office.
pub fn refuse(
    store: &HubStore,
    id: &str,
    reason: &str,
    operator: &str,
) -> Result<Request, UnvoidError> {
    let r = store.aux_decide(|reads| {
        let mut r = checked_answer(store, id, reason, operator, reads)?;
        r.answer = Some(Answer {
            granted: false,
            reason: reason.trim().to_string(),
            operator: operator.trim().to_string(),
            at_ms: now(),
        });
        let w = (
            key(&r.id),
            Some(serde_json::to_vec(&r).expect("a request serialises")),
        );
        Ok::<_, UnvoidError>((r, Some(vec![w])))
    })?;
    tracing::info!(id = %r.id, record = %r.regno, operator, "un-void request refused");
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::PeerIdentity;
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::GENESIS;
    use civreg_testkit::ops;

    fn store() -> HubStore {
        HubStore::open_memory(crate::atrest::keys_from_master(&[7; 32])).expect("a memory store")
    }

    fn istog() -> PeerIdentity {
        PeerIdentity::Node {
            municipality: "istog".into(),
            node_id: "1".into(),
        }
    }

    /// A store holding istog/1's records #1 (voided) and #2 (active); returns their numbers.
    fn voided_and_active(store: &HubStore) -> (String, String) {
        let one = ops::create_birth("istog", "1", 1, GENESIS);
        let two = ops::create_birth("istog", "1", 2, one.hash);
        let mut void = ops::op(
            "istog",
            "1",
            3,
            two.hash,
            &one.record_id,
            RecordKind::Birth,
            ChangeKind::Void,
            &[],
        );
        void.base = vec![one.id.clone()];
        void.reason = "entered twice".into();
        let void = void.seal();
        let (a, b) = (one.record_id.clone(), two.record_id.clone());
        let answers = store
            .ingest(vec![(istog(), vec![one, two, void])])
            .expect("ingest");
        assert!(answers[0].is_ok(), "{:?}", answers[0]);
        (a, b)
    }

    fn request(n: u32, regno: &str, reason: &str) -> UnvoidRequest {
        UnvoidRequest {
            id: format!("{n:032x}"),
            regno: regno.into(),
            reason: reason.into(),
            clerk: "ana".into(),
            at_ms: 1,
        }
    }

    #[test]
    fn a_valid_request_is_kept_once_and_answered_pending() {
        let store = store();
        let (voided, _) = voided_and_active(&store);
        let r = request(1, &voided, "voided by mistake: the wrong record");
        let a = take(&store, "istog", "1", &[r.clone(), r.clone()], 5).expect("take");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].state, "pending");
        // Sent again with the next heartbeat: the same request, not a second one.
        let a = take(&store, "istog", "1", std::slice::from_ref(&r), 6).expect("take");
        assert_eq!(a[0].state, "pending");
        let held = list(&store, true).expect("list");
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].office, "istog/1");
        assert_eq!(held[0].received_ms, 5);
    }

    #[test]
    fn hostile_and_wrong_requests_are_answered_invalid_and_never_kept() {
        let store = store();
        let (voided, active) = voided_and_active(&store);
        let other = ops::regno("prishtine", "1", RecordKind::Birth, 1);
        let cases = [
            (request(1, &other, "why not"), "municipality"),
            (request(2, &active, "a reason"), "not void"),
            (
                request(3, &ops::regno("istog", "1", RecordKind::Birth, 9), "r"),
                "holds no record",
            ),
            (request(4, &voided, "   "), "no reason"),
            (
                request(5, &voided, &"x".repeat(MAX_UNVOID_REASON_CHARS + 1)),
                "characters",
            ),
            (request(6, "not a number", "r"), "record number"),
            (
                request(10, &voided, "a\u{1b}[2Jcleared"),
                "control characters",
            ),
            (
                UnvoidRequest {
                    id: "ZZ".into(),
                    ..request(7, &voided, "r")
                },
                "hex",
            ),
            (
                UnvoidRequest {
                    clerk: String::new(),
                    ..request(8, &voided, "r")
                },
                "clerk",
            ),
        ];
        let sent: Vec<UnvoidRequest> = cases.iter().map(|(r, _)| r.clone()).collect();
        let answers = take(&store, "istog", "1", &sent, 5).expect("take");
        assert_eq!(answers.len(), cases.len());
        for ((_, why), a) in cases.iter().zip(&answers) {
            assert_eq!(a.state, "invalid", "{a:?}");
            assert!(a.reason.contains(why), "{why:?} not in {:?}", a.reason);
        }
        assert!(list(&store, true).expect("list").is_empty());
        // Another office can not take over (or learn the answer to) istog/1's request.
        let mine = request(9, &voided, "mine");
        take(&store, "istog", "1", std::slice::from_ref(&mine), 5).expect("take");
        let a = take(&store, "istog", "2", &[mine], 5).expect("take");
        assert_eq!(a[0].state, "invalid");
        assert_eq!(list(&store, true).expect("list")[0].office, "istog/1");
    }

    #[test]
    fn thousands_of_requests_are_bounded() {
        let store = store();
        let (voided, _) = voided_and_active(&store);
        let many: Vec<UnvoidRequest> = (0..5_000)
            .map(|i| request(i, &voided, "a reason"))
            .collect();
        let answers = take(&store, "istog", "1", &many, 5).expect("take");
        assert_eq!(answers.len(), MAX_UNVOID_REQUESTS);
        assert_eq!(
            list(&store, false).expect("list").len(),
            MAX_UNVOID_REQUESTS
        );
    }

    #[test]
    fn a_grant_restores_the_record_and_a_refusal_keeps_the_reason() {
        let store = store();
        let (voided, _) = voided_and_active(&store);
        let (a, b) = (request(1, &voided, "first"), request(2, &voided, "second"));
        take(&store, "istog", "1", &[a.clone(), b.clone()], 5).expect("take");
        assert!(matches!(
            grant(&store, &a.id, " ", "op"),
            Err(UnvoidError::ReasonRequired)
        ));
        assert!(matches!(
            grant(&store, &a.id, "ok", ""),
            Err(UnvoidError::OperatorRequired)
        ));
        assert!(matches!(
            grant(&store, "nope", "ok", "op"),
            Err(UnvoidError::NotFound(_))
        ));
        let r = grant(&store, &a.id, "checked the paper register", "vjosa").expect("grant");
        assert_eq!(r.state(), "granted");
        let rec = store.record(&voided).expect("read").expect("held");
        assert!(rec.voided.is_none(), "the record is restored");
        let last = rec.ops.last().expect("ops");
        assert_eq!(last.municipality, crate::store::HUB_CHAIN_MUNICIPALITY);
        assert!(matches!(
            grant(&store, &a.id, "again", "vjosa"),
            Err(UnvoidError::AlreadyAnswered { .. })
        ));
        // The second request's record is no longer void: a grant is refused by name.
        assert!(matches!(
            grant(&store, &b.id, "again", "vjosa"),
            Err(UnvoidError::NotVoided(_))
        ));
        let r = refuse(&store, &b.id, "already restored", "vjosa").expect("refuse");
        assert_eq!(r.state(), "refused");
        // The office hears both answers with its next heartbeat.
        let answers = take(&store, "istog", "1", &[a, b], 9).expect("take");
        assert_eq!(answers[0].state, "granted");
        assert_eq!(answers[1].state, "refused");
        assert_eq!(answers[1].reason, "already restored");
        assert_eq!(answers[1].operator, "vjosa");
        assert!(list(&store, false).expect("list").is_empty());
    }
}
