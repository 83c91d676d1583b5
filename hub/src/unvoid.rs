//! A clerk's request to un-void a record (issue 17): it comes with the office's heartbeat, is
//! checked and kept in `aux` (`uv/ID`), listed for the operators, and answered by them: a grant
//! restores the record by an op of the hub's chain (which reaches the office by pull), a refusal
//! keeps the operator's reason. The answer goes back in every heartbeat that repeats the request.
//!
//! A request is not an op: it changes no record, so it stays out of the canonical encoding, the
//! merge and the digests. What a node may ask is bounded (`limits::MAX_UNVOID_REQUESTS` per
//! heartbeat, `MAX_UNVOID_REASON_CHARS` of reason), and only for a record of its own municipality
//! that the hub holds as voided; anything else is answered `invalid` and never stored.
//!
//! Beside the requests, an index (`aux` `uvx/`, written in the same batch as the request or
//! the answer it follows) names the waiting requests by municipality and the answered ones by
//! the time of their answer, so that the dashboard counts the waiting ones on every render
//! without decoding a request ([`pending_counts`]) and lists the recent answers without reading
//! them all ([`answered_since`]). A store whose requests predate the index has it built once,
//! on first use ([`ensure_index`]). Every write of a request, an answer or the index is made
//! under one lock ([`WRITES`]), so two operators answering one request at the same moment (on
//! the dashboard and at the command line) can not both pass the check that it still waits.

use crate::store::aux::{UNVOID, UNVOID_INDEX};
use crate::store::{AuxReads, HubStore, StoreError};
use civreg_proto::v1::{UnvoidAnswer, UnvoidRequest};
use civreg_shared::ids::RegNo;
use civreg_shared::limits::{MAX_NAME_CHARS, MAX_UNVOID_REASON_CHARS, MAX_UNVOID_REQUESTS};
use civreg_shared::op::{ChangeKind, Hlc, Op, OP_FORMAT};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// Held by every write of a request, an answer or the index (see the module docs).
static WRITES: Mutex<()> = Mutex::new(());

fn writes() -> std::sync::MutexGuard<'static, ()> {
    WRITES.lock().unwrap_or_else(|p| p.into_inner())
}

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
    /// The answer was made and kept, but its access-log entry could not be written.
    #[error("the answer was kept, but the access log could not be written: {0}; check DATA_DIR/access.log (disk full? permissions?)")]
    AccessLog(std::io::Error),
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

/// The index entry of a waiting request: `uvx/p/MUNICIPALITY/ID`.
fn pending_key(municipality: &str, id: &str) -> Vec<u8> {
    crate::store::aux::aux_key(UNVOID_INDEX, &format!("p/{municipality}/{id}"))
}

/// The index entry of an answered request: `uvx/a/TIME/ID` (TIME in ms, 20 digits, so that
/// the keys sort by time).
fn answered_key(at_ms: u64, id: &str) -> Vec<u8> {
    crate::store::aux::aux_key(UNVOID_INDEX, &format!("a/{at_ms:020}/{id}"))
}

fn built_key() -> Vec<u8> {
    crate::store::aux::aux_key(UNVOID_INDEX, "built")
}

/// The index entry `r` needs as it stands.
fn index_entry(r: &Request) -> crate::store::AuxWrite {
    match &r.answer {
        None => (pending_key(&r.municipality, &r.id), Some(Vec::new())),
        Some(a) => (answered_key(a.at_ms, &r.id), Some(Vec::new())),
    }
}

/// Requests indexed per batch while the index is built.
const INDEX_BATCH: usize = 1_000;

/// Builds the index once, for a store whose requests were kept before it existed: every
/// request's entry, in flushed batches, then the mark that it is complete (an interrupted build
/// starts again and writes the same entries).
pub fn ensure_index(store: &HubStore) -> Result<(), UnvoidError> {
    if store.aux_get(&built_key())?.is_some() {
        return Ok(());
    }
    let _w = writes();
    if store.aux_get(&built_key())?.is_some() {
        return Ok(());
    }
    let mut batch = Vec::new();
    for kv in store.aux_scan(UNVOID.as_bytes()) {
        let (k, v) = kv?;
        let id = String::from_utf8_lossy(&k[UNVOID.len()..]).into_owned();
        batch.push(index_entry(&decode(&id, &v)?));
        if batch.len() >= INDEX_BATCH {
            store.aux_write(&batch)?;
            batch.clear();
        }
    }
    batch.push((built_key(), Some(Vec::new())));
    store.aux_write(&batch)?;
    Ok(())
}

/// How many requests wait for an answer, per municipality (one absent: none), from the index's
/// keys alone: no request is read.
pub fn pending_counts(store: &HubStore) -> Result<BTreeMap<String, u64>, UnvoidError> {
    ensure_index(store)?;
    let prefix = crate::store::aux::aux_key(UNVOID_INDEX, "p/");
    let mut out = BTreeMap::new();
    for kv in store.aux_scan(&prefix) {
        let (k, _) = kv?;
        let rest = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        if let Some((m, _)) = rest.split_once('/') {
            *out.entry(m.to_string()).or_insert(0u64) += 1;
        }
    }
    Ok(out)
}

/// The requests waiting for an answer, found through the index: the first `max` by
/// municipality are read (and given oldest first); the second value is how many wait in all.
pub fn pending(store: &HubStore, max: usize) -> Result<(Vec<Request>, u64), UnvoidError> {
    ensure_index(store)?;
    let prefix = crate::store::aux::aux_key(UNVOID_INDEX, "p/");
    let mut ids = Vec::new();
    for kv in store.aux_scan(&prefix) {
        let (k, _) = kv?;
        let rest = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        if let Some((_, id)) = rest.split_once('/') {
            ids.push(id.to_string());
        }
    }
    let total = ids.len() as u64;
    let mut out = Vec::new();
    for id in ids.iter().take(max) {
        if let Some(r) = get(store, id)?.filter(|r| r.answer.is_none()) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| (a.received_ms, &a.id).cmp(&(b.received_ms, &b.id)));
    Ok((out, total))
}

/// The requests answered at or after `since_ms`, newest first, at most `max` of them (only
/// those are read).
pub fn answered_since(
    store: &HubStore,
    since_ms: u64,
    max: usize,
) -> Result<Vec<Request>, UnvoidError> {
    ensure_index(store)?;
    let prefix = crate::store::aux::aux_key(UNVOID_INDEX, "a/");
    let from = answered_key(since_ms, "");
    let mut last: VecDeque<String> = VecDeque::new();
    for kv in store.aux_scan_after(&prefix, Some(&from[..from.len() - 1])) {
        let (k, _) = kv?;
        let rest = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        if let Some((_, id)) = rest.split_once('/') {
            if last.len() == max {
                last.pop_front();
            }
            last.push_back(id.to_string());
        }
    }
    let mut out = Vec::with_capacity(last.len());
    for id in last.iter().rev() {
        if let Some(r) = get(store, id)? {
            out.push(r);
        }
    }
    Ok(out)
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
    let _w = writes();
    let mut answers = Vec::new();
    let mut kept: Vec<crate::store::AuxWrite> = Vec::new();
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
                kept.push((
                    key(&req.id),
                    Some(serde_json::to_vec(&req).expect("a request serialises")),
                ));
                kept.push(index_entry(&req));
            }
        }
    }
    // `aux_write` flushes before it returns: an answer "pending" means kept on disk.
    if !kept.is_empty() {
        store.aux_write(&kept)?;
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
    let _w = writes();
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        if let Some(r) = grant_once(store, id, reason, operator)? {
            return Ok(r);
        }
    }
    Err(HubStore::contended().into())
}

/// [`grant`] once, under [`WRITES`]; `None`: another hub answered the request first (nothing
/// written).
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
    // The restore op, the answer and its index entries in one atomic, flushed batch, written
    // only if the request is still as read (another hub may have answered it).
    let aux = answer_writes(&r);
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
    let _w = writes();
    let r = store.aux_decide(|reads| {
        let mut r = checked_answer(store, id, reason, operator, reads)?;
        r.answer = Some(Answer {
            granted: false,
            reason: reason.trim().to_string(),
            operator: operator.trim().to_string(),
            at_ms: now(),
        });
        Ok::<_, UnvoidError>((r.clone(), Some(answer_writes(&r))))
    })?;
    tracing::info!(id = %r.id, record = %r.regno, operator, "un-void request refused");
    Ok(r)
}

/// What an answered request `r` writes: the request, its answered entry in the index, and no
/// more waiting entry.
fn answer_writes(r: &Request) -> Vec<crate::store::AuxWrite> {
    vec![
        (
            key(&r.id),
            Some(serde_json::to_vec(r).expect("a request serialises")),
        ),
        index_entry(r),
        (pending_key(&r.municipality, &r.id), None),
    ]
}

/// An operator's answer, wherever it is given (`civreg-hub unvoid-request` through the control
/// socket, or the dashboard's form): [`grant`] or [`refuse`] in the operator's name, then the
/// entry `by` (who, as the access log names them) in the access log of `data_dir`.
pub fn answer(
    store: &HubStore,
    data_dir: &std::path::Path,
    id: &str,
    grant_it: bool,
    reason: &str,
    operator: &str,
    by: &str,
) -> Result<Request, UnvoidError> {
    let r = if grant_it {
        grant(store, id, reason, operator)?
    } else {
        refuse(store, id, reason, operator)?
    };
    let log = crate::access::AccessLog::open(data_dir).map_err(UnvoidError::AccessLog)?;
    log.append(&crate::access::Entry {
        at_ms: crate::access::now_ms(),
        by: by.to_string(),
        clerk: String::new(),
        action: if grant_it {
            "unvoid-grant"
        } else {
            "unvoid-refuse"
        }
        .into(),
        query: r.id.clone(),
        records: vec![r.regno.clone()],
    })
    .map_err(UnvoidError::AccessLog)?;
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

    #[test]
    fn the_index_counts_and_lists_without_decoding_every_request() {
        let store = store();
        let (voided, _) = voided_and_active(&store);
        let (a, b, c) = (
            request(1, &voided, "first"),
            request(2, &voided, "second"),
            request(3, &voided, "third"),
        );
        take(&store, "istog", "1", &[a.clone(), b.clone(), c.clone()], 5).expect("take");
        let counts = pending_counts(&store).expect("counts");
        assert_eq!(counts.get("istog"), Some(&3), "{counts:?}");
        refuse(&store, &b.id, "no", "vjosa").expect("refuse");
        let (waiting, total) = pending(&store, 10).expect("pending");
        assert_eq!(total, 2);
        assert_eq!(
            waiting.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            [a.id.as_str(), c.id.as_str()]
        );
        let answered = answered_since(&store, 0, 10).expect("answered");
        assert_eq!(answered.len(), 1);
        assert_eq!(answered[0].id, b.id);
        assert!(answered_since(&store, now() + 60_000, 10)
            .expect("answered")
            .is_empty());
        // The counts come from the index's keys alone: a request that can not be decoded (a
        // damaged value) does not stop them, where reading every request would.
        store
            .aux_write(&[(key(&c.id), Some(b"not json".to_vec()))])
            .expect("damage");
        assert!(list(&store, false).is_err());
        assert_eq!(
            pending_counts(&store).expect("counts").get("istog"),
            Some(&2)
        );
    }

    #[test]
    fn requests_kept_before_the_index_are_indexed_once() {
        let store = store();
        let (voided, _) = voided_and_active(&store);
        let (a, b) = (request(1, &voided, "first"), request(2, &voided, "second"));
        take(&store, "istog", "1", &[a.clone(), b.clone()], 5).expect("take");
        refuse(&store, &b.id, "no", "vjosa").expect("refuse");
        // A store of the previous version: the requests, no index.
        let index: Vec<crate::store::AuxWrite> = store
            .aux_scan(UNVOID_INDEX.as_bytes())
            .map(|kv| (kv.expect("scan").0, None))
            .collect();
        assert_eq!(index.len(), 2, "one entry per request");
        store.aux_write(&index).expect("drop the index");
        assert!(store.aux_get(&built_key()).expect("read").is_none());
        assert_eq!(
            pending_counts(&store).expect("counts").get("istog"),
            Some(&1)
        );
        assert!(store.aux_get(&built_key()).expect("read").is_some());
        assert_eq!(answered_since(&store, 0, 10).expect("answered")[0].id, b.id);
    }
}
