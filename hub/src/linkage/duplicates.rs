//! The duplicates review queue: probable duplicates that the matcher found (`match dedupe`, or
//! an `import` row that is a possible match) wait here for an operator, next to conflicts.
//!
//! A case names two mentions (`REGNO/ROLE`) with the matcher's weight. An operator **links**
//! them (both become one person: the ops of [`crate::linkage::persons::link`], in the hub's log, so they
//! sync), **dismisses** the case (not the same person), or **unlinks** a linked case (the second
//! mention gets an identifier of its own again). Every decision is kept in the case with the
//! operator, the time, the reason and the ops it wrote. Records are never deleted.
//!
//! A link also closes the other open cases whose two sides it makes one person (as *linked*,
//! `via` this case), and a case whose two sides are already one person is closed as linked
//! with no op: nothing stays open that can only be wrongly dismissed. That rule, and the
//! proposal of the parents named on a linked child's records ([`crate::linkage::parents`]),
//! are [`after_links`], the one place every link of the queue, of a cluster and of the central
//! import goes through. An unlink reopens the cases that were closed only because the link had
//! made their two sides one person ([`Via::is_moot`]), and withdraws the parents' cases still
//! open that the link of the two children it separates had proposed ([`Status::Withdrawn`]);
//! cases an operator decided stay decided.
//! The queue by person, one decision for a whole cluster of cases, is
//! [`crate::linkage::clusters`].
//!
//! Case ids are `d` + 12 hex digits of SHA-256 over the two mentions (sorted), so the same pair
//! found twice is one case, and a dismissed pair is not filed again.

use crate::linkage::persons::{self, PersonError};
use crate::store::{AuxReads, AuxWrite, HubStore, StoreError};
use civreg_shared::ids::RegNo;
use civreg_shared::op::OpId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Holds the queue's decisions (pairs and clusters) through this store to one at a time, so
/// that two operators of one hub (dashboard and command line) deciding at once do not both
/// work for nothing. What keeps two decisions of one case apart, across hubs over one
/// database too, is that each is written only if the case it read is unchanged
/// (compare-and-set, [`AuxReads`]): the one that loses reads the case again and finds it
/// decided.
pub(crate) fn decide_lock(store: &HubStore) -> std::sync::MutexGuard<'_, ()> {
    store.decisions_held()
}

#[derive(Debug, thiserror::Error)]
pub enum DuplicateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Person(#[from] PersonError),
    #[error("no duplicate case {0}: `civreg-hub duplicates list --all` shows them")]
    NoCase(String),
    #[error("case {id} was already decided: {status} by {by}")]
    Decided {
        id: String,
        status: String,
        by: String,
    },
    #[error("case {0} is not linked: only a linked case can be unlinked")]
    NotLinked(String),
    #[error("say why: every decision is recorded with its reason")]
    ReasonRequired,
    #[error("an operator name is required")]
    OperatorRequired,
    #[error("damaged case {0}")]
    Damaged(String),
    #[error("no open cluster {0}: it may have been decided; `civreg-hub duplicates clusters` lists those waiting")]
    NoCluster(String),
    #[error("cluster {0} changed since it was shown (a case was filed or decided): show it again and decide again")]
    ClusterChanged(String),
    #[error("cluster {id} has {size} records, more than {max} can be decided at once: decide its cases one by one")]
    ClusterTooLarge { id: String, size: usize, max: usize },
    #[error("{mention} is not a record of cluster {cluster}: show the cluster again")]
    NotInCluster { mention: String, cluster: String },
    #[error("record {0} has no group: give every record of the cluster a group number")]
    Unassigned(String),
    #[error("group {given:?} is not a number from 1 to {max}")]
    BadGroup { given: String, max: usize },
    #[error("{a} and {b} are already one person: put them in the same group (to separate them, unlink their case first)")]
    SplitsAPerson { a: String, b: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Linked,
    Dismissed,
    Unlinked,
    /// A parents' case the hub had proposed, taken back because the link of the children that
    /// proposed it was undone ([`Via::Withdrawn`]); proposed again if they are linked again.
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Linked => "linked",
            Status::Dismissed => "dismissed",
            Status::Unlinked => "unlinked",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// How a case was closed (or reopened) when not by a decision on the case itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// The link of another case made its two sides one person.
    Case(String),
    /// A decision on its whole cluster ([`crate::linkage::clusters`]).
    Cluster(String),
    /// Its two sides were already one person when it was linked.
    Already,
    /// The central import (of this file) linked its two sides as one person.
    Import(String),
    /// Reopened: the unlink of this case separated its two sides again, and it had been closed
    /// only because they were one person (moot, [`Via::Case`] or [`Via::Import`]).
    Unlink(String),
    /// Withdrawn: the unlink of this case separated the two children whose link had proposed
    /// this parents' case ([`Proposed::children`]), and no operator had decided it.
    Withdrawn(String),
}

impl Via {
    /// A closing that no one decided on the case: its two sides had become one person by a
    /// link made elsewhere. Such a case opens again when they are separated.
    pub fn is_moot(&self) -> bool {
        matches!(self, Via::Case(_) | Via::Import(_))
    }
}

/// Why a case was filed by the hub itself rather than found by the matcher over the register:
/// the parents named on two records of a person who was just linked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposed {
    /// The two mentions (`REGNO/child`) that were linked as one person.
    pub children: Vec<String>,
    /// Who linked them (an operator's name, or the import's operator) and when.
    pub operator: String,
    pub at_ms: u64,
    /// The decision that linked them: a case, a cluster, or an import.
    pub by: Via,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub status: Status,
    pub operator: String,
    pub at_ms: u64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpId>,
    /// Set when the case was closed by another decision (or had nothing left to link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    /// The mention already in the register (`REGNO/ROLE`).
    pub a: String,
    /// The mention found to duplicate it.
    pub b: String,
    /// The municipalities of the two records (for the queue's filter and the dashboard).
    pub municipalities: Vec<String>,
    pub weight: f64,
    pub probability: f64,
    /// `match` or `possible`, as the matcher classed the pair.
    pub class: String,
    /// What found it: `dedupe` or `import`.
    pub source: String,
    pub filed_ms: u64,
    pub status: Status,
    /// Every decision, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
    /// Set on a case the hub proposed when it linked the two records' child as one person
    /// (source `parents`): says who linked whom, and when. Boxed: most cases have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed: Option<Box<Proposed>>,
}

/// A pair the matcher found.
pub struct Found {
    pub a: String,
    pub b: String,
    pub weight: f64,
    pub probability: f64,
    pub class: String,
    pub source: String,
}

pub fn case_id(a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let d = ring::digest::digest(&ring::digest::SHA256, format!("{x}\0{y}").as_bytes());
    format!("d{}", hex::encode(&d.as_ref()[..6]))
}

fn key(id: &str) -> Vec<u8> {
    crate::store::aux::aux_key(crate::store::aux::DUPLICATES, id)
}

fn municipality_of(mention: &str) -> String {
    mention
        .rsplit_once('/')
        .and_then(|(r, _)| RegNo::parse(r).ok())
        .map(|r| r.municipality)
        .unwrap_or_default()
}

/// The case and its write, for a pair not filed before (`None` if it was, in any state).
pub fn new_case(store: &HubStore, f: Found) -> Result<Option<(Case, AuxWrite)>, DuplicateError> {
    new_case_noting(store, f, &mut AuxReads::default())
}

/// [`new_case`], noting the case's key (absent) in `reads`: the write is to apply only if no
/// other hub filed or decided the case meanwhile.
pub fn new_case_noting(
    store: &HubStore,
    f: Found,
    reads: &mut AuxReads,
) -> Result<Option<(Case, AuxWrite)>, DuplicateError> {
    let id = case_id(&f.a, &f.b);
    if store.aux_get_noting(&key(&id), reads)?.is_some() {
        return Ok(None);
    }
    let mut municipalities = vec![municipality_of(&f.a), municipality_of(&f.b)];
    municipalities.sort();
    municipalities.dedup();
    let c = Case {
        id: id.clone(),
        a: f.a,
        b: f.b,
        municipalities,
        weight: f.weight,
        probability: f.probability,
        class: f.class,
        source: f.source,
        filed_ms: crate::access::now_ms(),
        status: Status::Open,
        decisions: Vec::new(),
        proposed: None,
    };
    let w = (
        key(&id),
        Some(serde_json::to_vec(&c).expect("case serialises")),
    );
    Ok(Some((c, w)))
}

/// Files the pairs not filed before and not already one person. Returns how many were filed.
pub fn file(store: &HubStore, found: Vec<Found>) -> Result<usize, DuplicateError> {
    let mut writes = Vec::new();
    for f in found {
        let same = match (
            persons::parse_mention(store, &f.a),
            persons::parse_mention(store, &f.b),
        ) {
            (Ok((ra, rola)), Ok((rb, rolb))) => {
                persons::person_of(store, &ra, &rola)? == persons::person_of(store, &rb, &rolb)?
            }
            _ => continue,
        };
        if same {
            continue;
        }
        if let Some((_, w)) = new_case(store, f)? {
            writes.push(w);
        }
    }
    // Each case written only if still absent: another hub may file or decide it meanwhile,
    // and a decided case is never put back to open.
    let mut n = 0;
    for chunk in writes.chunks(4096) {
        n += store.aux_decide(|reads| {
            let mut still = Vec::with_capacity(chunk.len());
            for (k, v) in chunk {
                if store.aux_get_noting(k, reads)?.is_none() {
                    still.push((k.clone(), v.clone()));
                }
            }
            Ok::<_, DuplicateError>((still.len(), Some(still)))
        })?;
    }
    Ok(n)
}

pub fn get(store: &HubStore, id: &str) -> Result<Case, DuplicateError> {
    get_noting(store, id, &mut AuxReads::default())
}

/// [`get`], noting the case as read in `reads` (a decision's condition).
fn get_noting(store: &HubStore, id: &str, reads: &mut AuxReads) -> Result<Case, DuplicateError> {
    let v = store
        .aux_get_noting(&key(id.trim()), reads)?
        .ok_or_else(|| DuplicateError::NoCase(id.trim().to_string()))?;
    serde_json::from_slice(&v).map_err(|_| DuplicateError::Damaged(id.to_string()))
}

/// Notes case `c` as the store holds it in `reads`; `false` when it is no longer as `c` shows
/// it (decided meanwhile: the caller decides again on a fresh read).
pub(crate) fn note_case(
    store: &HubStore,
    c: &Case,
    reads: &mut AuxReads,
) -> Result<bool, DuplicateError> {
    let held = get_noting(store, &c.id, reads)?;
    Ok(held.status == c.status && held.decisions.len() == c.decisions.len())
}

/// Adds the ops a decision wrote to the case as kept, unless another decision came after it
/// (a case decided again by another hub keeps that decision).
fn record_ops(store: &HubStore, c: &Case) -> Result<(), DuplicateError> {
    let Some(mine) = c.decisions.last() else {
        return Ok(());
    };
    store.aux_decide(|reads| {
        let held = get_noting(store, &c.id, reads)?;
        let same = held.decisions.last().is_some_and(|d| {
            d.status == mine.status && d.at_ms == mine.at_ms && d.operator == mine.operator
        });
        Ok::<_, DuplicateError>(((), same.then(|| vec![write_of(c)])))
    })
}

/// Cases, open ones unless `all`, of one municipality or all, strongest first.
pub fn list(
    store: &HubStore,
    municipality: Option<&str>,
    all: bool,
) -> Result<Vec<Case>, DuplicateError> {
    let mut out = Vec::new();
    for r in store.aux_scan(crate::store::aux::DUPLICATES.as_bytes()) {
        let (k, v) = r?;
        let c: Case = serde_json::from_slice(&v)
            .map_err(|_| DuplicateError::Damaged(String::from_utf8_lossy(&k).into_owned()))?;
        if !all && c.status != Status::Open {
            continue;
        }
        if let Some(m) = municipality {
            if !c.municipalities.iter().any(|x| x == m) {
                continue;
            }
        }
        out.push(c);
    }
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Open cases per municipality (a case of two municipalities counts for both).
pub fn open_by_municipality(
    store: &HubStore,
) -> Result<std::collections::BTreeMap<String, u64>, DuplicateError> {
    let mut out = std::collections::BTreeMap::new();
    for c in list(store, None, false)? {
        for m in &c.municipalities {
            *out.entry(m.clone()).or_insert(0) += 1;
        }
    }
    Ok(out)
}

pub(crate) fn check_decision(operator: &str, reason: &str) -> Result<(), DuplicateError> {
    if operator.trim().is_empty() {
        return Err(DuplicateError::OperatorRequired);
    }
    if reason.trim().is_empty() {
        return Err(DuplicateError::ReasonRequired);
    }
    Ok(())
}

fn decided(c: &Case) -> DuplicateError {
    let by = c
        .decisions
        .last()
        .map(|d| d.operator.clone())
        .unwrap_or_default();
    DuplicateError::Decided {
        id: c.id.clone(),
        status: c.status.as_str().into(),
        by,
    }
}

fn with_decision(mut c: Case, status: Status, operator: &str, reason: &str) -> Case {
    c.status = status;
    c.decisions.push(Decision {
        status,
        operator: operator.trim().to_string(),
        at_ms: crate::access::now_ms(),
        reason: reason.trim().to_string(),
        ops: Vec::new(),
        via: None,
    });
    c
}

pub(crate) fn write_of(c: &Case) -> AuxWrite {
    (
        key(&c.id),
        Some(serde_json::to_vec(c).expect("case serialises")),
    )
}

/// One link as the queue's rules see it: `parts` are people (each the mentions that are that
/// person) that the link makes one person. Mentions of different parts are newly one person;
/// mentions of one part were one person before.
#[derive(Debug, Clone, Default)]
pub struct Merge {
    pub parts: Vec<Vec<String>>,
}

impl Merge {
    /// Every mention of the merged person.
    pub fn mentions(&self) -> impl Iterator<Item = &String> {
        self.parts.iter().flatten()
    }
}

/// Who links, why, and by what decision (the `via` of what the links close or propose).
#[derive(Debug, Clone)]
pub struct LinkedBy {
    pub operator: String,
    pub reason: String,
    pub via: Via,
}

/// What links change in the queue, to be written in the same batch as the links' ops.
#[derive(Debug, Default)]
pub struct AfterLinks {
    /// Open cases whose two sides the links make one person, closed as linked (moot).
    pub moot: Vec<Case>,
    /// Cases proposed for the parents named on records of a person the links joined.
    pub proposed: Vec<Case>,
}

impl AfterLinks {
    /// Notes the moot cases as the store holds them in `reads` (conditions of the links'
    /// write): each still open, without the decision closing it. `false` when one changed since
    /// (decided at another hub meanwhile): decide again.
    pub fn note_reads(
        &self,
        store: &HubStore,
        reads: &mut AuxReads,
    ) -> Result<bool, DuplicateError> {
        for c in &self.moot {
            let held = get_noting(store, &c.id, reads)?;
            if held.status != Status::Open || held.decisions.len() + 1 != c.decisions.len() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn writes(&self) -> Vec<AuxWrite> {
        self.moot
            .iter()
            .chain(&self.proposed)
            .map(write_of)
            .collect()
    }
}

/// The queue's rules for links about to be written (a pair's link, a cluster's decision, the
/// central import's matches; this is the one place for them):
/// - every open case, other than those in `except` (decided by the decision itself), whose two
///   sides are mentions of one merged person closes as linked, `via` the decision: it is moot;
/// - the parents named on two birth records whose children the links newly make one person are
///   proposed as cases, when the model scores them at Possible or above and they are not one
///   person already ([`crate::linkage::parents`]).
///
/// Nothing is written here: the caller commits [`AfterLinks::writes`] with its ops.
pub fn after_links(
    store: &HubStore,
    merges: &[Merge],
    except: &BTreeSet<String>,
    by: &LinkedBy,
    parents: &mut crate::linkage::parents::Parents<'_>,
) -> Result<AfterLinks, DuplicateError> {
    let mut out = AfterLinks::default();
    if merges.is_empty() {
        return Ok(out);
    }
    // Mention → the merge it belongs to: a case is moot when both its sides are in one.
    let mut merge_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, m) in merges.iter().enumerate() {
        for x in m.mentions() {
            merge_of.insert(x.as_str(), i);
        }
    }
    let at_ms = crate::access::now_ms();
    for c in list(store, None, false)? {
        if except.contains(&c.id) {
            continue;
        }
        let same = match (merge_of.get(c.a.as_str()), merge_of.get(c.b.as_str())) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        };
        if same {
            let mut c = with_decision(c, Status::Linked, &by.operator, &by.reason);
            if let Some(d) = c.decisions.last_mut() {
                d.at_ms = at_ms;
                d.via = Some(by.via.clone());
            }
            out.moot.push(c);
        }
    }
    for m in merges {
        out.proposed.extend(parents.propose(m, by, at_ms)?);
    }
    Ok(out)
}

/// Links the two mentions of an open case: one person. The other open cases whose two sides
/// the link makes one person are closed with it, as linked by this case, and the parents named
/// on the two records, when they are children, are proposed ([`after_links`]). A case whose
/// two sides are already one person (linked through other cases) is closed as linked, with no
/// op.
pub fn link(
    store: &HubStore,
    id: &str,
    operator: &str,
    reason: &str,
) -> Result<Case, DuplicateError> {
    check_decision(operator, reason)?;
    let _one_at_a_time = decide_lock(store);
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        if let Some(c) = link_once(store, id, operator, reason)? {
            return Ok(c);
        }
    }
    Err(HubStore::contended().into())
}

/// [`link`] decided once; `None`: another hub changed the case first (decide again).
fn link_once(
    store: &HubStore,
    id: &str,
    operator: &str,
    reason: &str,
) -> Result<Option<Case>, DuplicateError> {
    let mut reads = AuxReads::default();
    let c = get_noting(store, id, &mut reads)?;
    if c.status != Status::Open {
        return Err(decided(&c));
    }
    let (ra, rola) = persons::parse_mention(store, &c.a)?;
    let (rb, rolb) = persons::parse_mention(store, &c.b)?;
    let pa = persons::person_of(store, &ra, &rola)?;
    let pb = persons::person_of(store, &rb, &rolb)?;
    let mut side_a: BTreeSet<String> = persons::members(store, &pa)?.into_iter().collect();
    side_a.insert(c.a.clone());
    let mut side_b: BTreeSet<String> = persons::members(store, &pb)?.into_iter().collect();
    side_b.insert(c.b.clone());
    let merge = if pa == pb {
        // Nothing is linked: one part, so that only the moot cases close.
        side_a.extend(side_b);
        Merge {
            parts: vec![side_a.into_iter().collect()],
        }
    } else {
        Merge {
            parts: vec![side_a.into_iter().collect(), side_b.into_iter().collect()],
        }
    };
    let by = LinkedBy {
        operator: operator.trim().to_string(),
        reason: reason.trim().to_string(),
        via: Via::Case(c.id.clone()),
    };
    let mut parents = crate::linkage::parents::Parents::new(store);
    let after = after_links(
        store,
        std::slice::from_ref(&merge),
        &BTreeSet::from([c.id.clone()]),
        &by,
        &mut parents,
    )?;
    if !after.note_reads(store, &mut reads)? {
        return Ok(None);
    }
    let mut c = with_decision(c, Status::Linked, operator, reason);
    let mut writes = after.writes();
    if pa == pb {
        if let Some(d) = c.decisions.last_mut() {
            d.via = Some(Via::Already);
        }
        writes.push(write_of(&c));
        if !store.aux_write_if(&reads, &writes)? {
            return Ok(None);
        }
        tracing::info!(case = %c.id, operator = %operator, moot = after.moot.len(), "duplicate closed: already one person");
        return Ok(Some(c));
    }
    writes.push(write_of(&c));
    let Some(written) = persons::link_if(
        store,
        &c.a,
        &c.b,
        &format!("operator:{}", operator.trim()),
        &format!("duplicate {}: {}", c.id, reason.trim()),
        writes,
        &reads,
    )?
    else {
        return Ok(None);
    };
    if let Some(d) = c.decisions.last_mut() {
        d.ops = written.iter().map(|o| o.id.clone()).collect();
    }
    record_ops(store, &c)?;
    tracing::info!(case = %c.id, operator = %operator, ops = written.len(), moot = after.moot.len(), parents_proposed = after.proposed.len(), "duplicate linked");
    Ok(Some(c))
}

/// Dismisses an open case: the two are different people.
pub fn dismiss(
    store: &HubStore,
    id: &str,
    operator: &str,
    reason: &str,
) -> Result<Case, DuplicateError> {
    check_decision(operator, reason)?;
    let _one_at_a_time = decide_lock(store);
    let c = store.aux_decide(|reads| {
        let c = get_noting(store, id, reads)?;
        if c.status != Status::Open {
            return Err(decided(&c));
        }
        let c = with_decision(c, Status::Dismissed, operator, reason);
        let w = write_of(&c);
        Ok((c, Some(vec![w])))
    })?;
    tracing::info!(case = %c.id, operator = %operator, "duplicate dismissed");
    Ok(c)
}

/// What an unlink separates: the mention (as the store names it) and the other mentions of
/// the person it is until then.
struct Separated {
    me: String,
    others: BTreeSet<String>,
}

impl Separated {
    fn of(store: &HubStore, mention: &str) -> Result<Separated, DuplicateError> {
        let (regno, role) = persons::parse_mention(store, mention)?;
        let me = format!("{regno}/{role}");
        let current = persons::person_of(store, &regno, &role)?;
        let others: BTreeSet<String> = persons::members(store, &current)?
            .into_iter()
            .filter(|m| *m != me)
            .collect();
        Ok(Separated { me, others })
    }

    /// Whether `a` and `b` are the separated mention and another mention of its person.
    fn parts(&self, a: &str, b: &str) -> bool {
        (a == self.me && self.others.contains(b)) || (b == self.me && self.others.contains(a))
    }
}

/// The cases to open again when `mention` is separated from the person it is: those closed
/// as moot (not decided by anyone, [`Via::is_moot`]) whose two sides were `mention` and another
/// mention of that person. Each gets a decision `open`, `via` the unlink of case `by_case`.
fn reopened_by_unlink(
    store: &HubStore,
    sep: &Separated,
    by_case: &str,
    operator: &str,
    reason: &str,
) -> Result<Vec<Case>, DuplicateError> {
    let mut out = Vec::new();
    for c in list(store, None, true)? {
        let moot = c.status == Status::Linked
            && c.decisions
                .last()
                .and_then(|d| d.via.as_ref())
                .is_some_and(Via::is_moot);
        if moot && sep.parts(&c.a, &c.b) && c.id != by_case {
            let mut c = with_decision(c, Status::Open, operator, reason);
            if let Some(d) = c.decisions.last_mut() {
                d.via = Some(Via::Unlink(by_case.to_string()));
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// The parents' cases still open that a link of `mention` with another mention of its person
/// had proposed ([`Proposed::children`]): withdrawn when `mention` is separated, `via` the
/// unlink of case `by_case`. Returns each as it is held (the condition of the write) and as
/// withdrawn.
fn withdrawn_by_unlink(
    store: &HubStore,
    sep: &Separated,
    by_case: &str,
    operator: &str,
    reason: &str,
) -> Result<Vec<(Case, Case)>, DuplicateError> {
    let mut out = Vec::new();
    for c in list(store, None, false)? {
        let Some(p) = c.proposed.as_deref() else {
            continue;
        };
        let [x, y] = p.children.as_slice() else {
            continue;
        };
        if !sep.parts(x, y) {
            continue;
        }
        let mut w = with_decision(c.clone(), Status::Withdrawn, operator, reason);
        if let Some(d) = w.decisions.last_mut() {
            d.via = Some(Via::Withdrawn(by_case.to_string()));
        }
        out.push((c, w));
    }
    Ok(out)
}

/// A parents' case withdrawn by an unlink ([`Status::Withdrawn`]), open again because a link
/// proposes the same pair once more: with the new score, and a decision `open` `via` that
/// link. `None` when the pair's case is not a withdrawn one (a pair decided by an operator
/// is not proposed again).
pub(crate) fn propose_again(
    store: &HubStore,
    f: &Found,
    by: &LinkedBy,
    at_ms: u64,
) -> Result<Option<Case>, DuplicateError> {
    let Some(v) = store.aux_get(&key(&case_id(&f.a, &f.b)))? else {
        return Ok(None);
    };
    let mut c: Case =
        serde_json::from_slice(&v).map_err(|_| DuplicateError::Damaged(case_id(&f.a, &f.b)))?;
    if c.status != Status::Withdrawn {
        return Ok(None);
    }
    c.weight = f.weight;
    c.probability = f.probability;
    c.class = f.class.clone();
    c.status = Status::Open;
    c.decisions.push(Decision {
        status: Status::Open,
        operator: by.operator.clone(),
        at_ms,
        reason: by.reason.clone(),
        ops: Vec::new(),
        via: Some(by.via.clone()),
    });
    Ok(Some(c))
}

/// Undoes a linked case: the second mention gets an identifier of its own again. The cases
/// that were closed only because the link made their two sides one person (moot) open again,
/// in the same write, their history saying which unlink reopened them, and the parents' cases
/// still open that a link of the two separated children had proposed are withdrawn; cases an
/// operator decided stay decided.
pub fn unlink(
    store: &HubStore,
    id: &str,
    operator: &str,
    reason: &str,
) -> Result<Case, DuplicateError> {
    check_decision(operator, reason)?;
    let _one_at_a_time = decide_lock(store);
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        let mut reads = AuxReads::default();
        let c = get_noting(store, id, &mut reads)?;
        if c.status != Status::Linked {
            return Err(DuplicateError::NotLinked(c.id));
        }
        let sep = Separated::of(store, &c.b)?;
        let reopened = reopened_by_unlink(store, &sep, &c.id, operator, reason)?;
        let withdrawn = withdrawn_by_unlink(store, &sep, &c.id, operator, reason)?;
        // Each withdrawn only if still as read: an operator may decide it meanwhile.
        let mut still = true;
        for (held, _) in &withdrawn {
            still &= note_case(store, held, &mut reads)?;
        }
        if !still {
            continue;
        }
        let mut c = with_decision(c, Status::Unlinked, operator, reason);
        let mut extra: Vec<AuxWrite> = reopened.iter().map(write_of).collect();
        extra.extend(withdrawn.iter().map(|(_, w)| write_of(w)));
        extra.push(write_of(&c));
        let Some((_, written)) = persons::unlink(
            store,
            &c.b,
            &format!("operator:{}", operator.trim()),
            &format!("duplicate {}: {}", c.id, reason.trim()),
            extra,
            &reads,
        )?
        else {
            continue;
        };
        if let Some(d) = c.decisions.last_mut() {
            d.ops = written.iter().map(|o| o.id.clone()).collect();
        }
        record_ops(store, &c)?;
        tracing::info!(case = %c.id, operator = %operator, decision = "unlinked", ops = written.len(), reopened = reopened.len(), withdrawn = withdrawn.len(), "duplicate decided");
        return Ok(c);
    }
    Err(HubStore::contended().into())
}
