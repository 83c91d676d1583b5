//! Opaque person identifiers: every person the register names gets one, and links attach the
//! people of several records to one identifier.
//!
//! A person is named by a *mention*: `REGNO/ROLE` (`PRISHTINE-2026-B-000042/child`, the role as
//! [`civreg_shared::model::Record::people`] gives it). Each mention has its own identifier,
//! drawn at random the first time anything asks for it ([`person_of`]) and kept unique by the
//! hub. A link ([`link`]) is an op of the hub's own chain, a [`ChangeKind::Link`] writing
//! `$person.ROLE` on the record, so it syncs to the owning offices like any other change; a
//! mention linked to an identifier *is* that person. An unlink ([`unlink`]) gives the mention a
//! fresh identifier of its own, again by a link op: records are never deleted or merged away.
//!
//! Keys (in the store's auxiliary keyspace):
//! - `pm/MENTION` → the mention's own identifier (minted once, never reused);
//! - `pi/PID` → the mention it was minted for (uniqueness);
//! - `pl/PID/MENTION` → a mention linked to `PID` (kept in the same batch as the link op).
//!
//! The identifier reveals nothing: it is 8 random digits and a check digit
//! ([`civreg_shared::ids::PersonId`]).
//!
//! Minting is a compare-and-set ([`crate::store::AuxReads`]): a mint reads `pm/MENTION` and
//! `pi/PID` absent and writes them only if they still are, so two hubs over one database never
//! give one identifier to two mentions, nor two identifiers to one mention (the one that loses
//! reads again and takes the other's).

use crate::store::{aux, AuxReads, AuxWrite, HubStore, StoreError};
use civreg_shared::ids::{PersonId, RegNo};
use civreg_shared::merge::PERSON;
use civreg_shared::op::{ChangeKind, Hlc, Op, OP_FORMAT};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?} is not a person of a record: expected REGNO/ROLE, e.g. PRISHTINE-2026-B-000042/child")]
    Mention(String),
    #[error("the hub holds no record {0}")]
    NoRecord(String),
    #[error("record {regno} names no {role} (it names: {roles})")]
    NoRole {
        regno: String,
        role: String,
        roles: String,
    },
    #[error(transparent)]
    Id(#[from] civreg_shared::ids::IdError),
    #[error("{0} and {1} are already the same person")]
    AlreadyLinked(String, String),
    #[error("{0} is not linked to anyone else: there is nothing to unlink")]
    NotLinked(String),
    #[error("say why (--reason): every link and unlink is recorded with its reason")]
    ReasonRequired,
    #[error("no person {0} is known to this register")]
    UnknownPerson(String),
}

/// `REGNO/ROLE`, checked against the record the hub holds.
pub fn parse_mention(store: &HubStore, mention: &str) -> Result<(String, String), PersonError> {
    let (regno, role) = mention
        .trim()
        .rsplit_once('/')
        .ok_or_else(|| PersonError::Mention(mention.to_string()))?;
    let regno = RegNo::parse(regno)
        .map_err(|_| PersonError::Mention(mention.to_string()))?
        .to_string();
    let st = store
        .record(&regno)?
        .ok_or_else(|| PersonError::NoRecord(regno.clone()))?;
    let roles: Vec<&'static str> = st
        .record()
        .map(|r| r.people().iter().map(|p| p.role).collect())
        .unwrap_or_default();
    if !roles.contains(&role) {
        return Err(PersonError::NoRole {
            regno,
            role: role.to_string(),
            roles: roles.join(", "),
        });
    }
    Ok((regno, role.to_string()))
}

fn pm_key(mention: &str) -> Vec<u8> {
    aux::aux_key(aux::PERSON_OF_MENTION, mention)
}
fn pi_key(pid: &PersonId) -> Vec<u8> {
    aux::aux_key(aux::PERSON_ID, &pid.to_string())
}
/// The link index entry of a mention linked to `pid` (written with the link op).
pub fn pl_key(pid: &str, mention: &str) -> Vec<u8> {
    aux::aux_key(aux::PERSON_LINKS, &format!("{pid}/{mention}"))
}

fn random_pid() -> PersonId {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .expect("the system's random source works");
    PersonId::from_random(b)
}

/// Identifiers minted for mentions but not yet written: for a batch that mints many at once.
/// Its writes are to be applied only if what it read still holds ([`reads`](Self::reads)).
#[derive(Default)]
pub struct Minting {
    new: BTreeMap<String, PersonId>,
    taken: BTreeSet<PersonId>,
    reads: AuxReads,
}

impl Minting {
    /// The mention's own identifier: stored, minted earlier in this batch, or minted now.
    pub fn own(&mut self, store: &HubStore, mention: &str) -> Result<PersonId, PersonError> {
        if let Some(p) = self.new.get(mention) {
            return Ok(*p);
        }
        if let Some(v) = store.aux_get_noting(&pm_key(mention), &mut self.reads)? {
            return Ok(PersonId::parse(&String::from_utf8_lossy(&v))?);
        }
        loop {
            let p = random_pid();
            if !self.taken.contains(&p)
                && store
                    .aux_get_noting(&pi_key(&p), &mut self.reads)?
                    .is_none()
            {
                self.taken.insert(p);
                self.new.insert(mention.to_string(), p);
                return Ok(p);
            }
        }
    }

    /// What the mints read (each mention's and each identifier's key, absent): the conditions
    /// of the write that records them.
    pub fn reads(&self) -> &AuxReads {
        &self.reads
    }

    /// The writes that record what was minted.
    pub fn writes(&self) -> Vec<AuxWrite> {
        self.new
            .iter()
            .flat_map(|(m, p)| {
                [
                    (pm_key(m), Some(p.to_string().into_bytes())),
                    (pi_key(p), Some(m.clone().into_bytes())),
                ]
            })
            .collect()
    }
}

/// A mention's own identifier if one was minted (nothing is minted here).
pub fn minted(store: &HubStore, mention: &str) -> Result<Option<PersonId>, PersonError> {
    match store.aux_get(&pm_key(mention))? {
        Some(v) => Ok(Some(PersonId::parse(&String::from_utf8_lossy(&v))?)),
        None => Ok(None),
    }
}

/// A mention's own identifier, minted (and stored) on first use.
pub fn own_id(store: &HubStore, mention: &str) -> Result<PersonId, PersonError> {
    if let Some(v) = store.aux_get(&pm_key(mention))? {
        return Ok(PersonId::parse(&String::from_utf8_lossy(&v))?);
    }
    store.aux_decide(|reads| {
        let mut m = Minting::default();
        let p = m.own(store, mention)?;
        let writes = m.writes();
        reads.extend(m.reads);
        Ok::<_, PersonError>((p, Some(writes).filter(|w| !w.is_empty())))
    })
}

/// The identifier a mention was linked to, if it was.
pub fn linked(store: &HubStore, regno: &str, role: &str) -> Result<Option<PersonId>, PersonError> {
    match store
        .record(regno)?
        .and_then(|st| st.persons.get(role).cloned())
    {
        Some(l) => Ok(Some(PersonId::parse(&l.person)?)),
        None => Ok(None),
    }
}

/// The person a mention is: its link if it has one, else its own identifier.
pub fn person_of(store: &HubStore, regno: &str, role: &str) -> Result<PersonId, PersonError> {
    match linked(store, regno, role)? {
        Some(p) => Ok(p),
        None => own_id(store, &format!("{regno}/{role}")),
    }
}

/// The person of each role of a record, by role (minting what is missing).
pub fn persons_of_record(
    store: &HubStore,
    regno: &str,
) -> Result<BTreeMap<String, String>, PersonError> {
    let Some(st) = store.record(regno)? else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    if let Ok(rec) = st.record() {
        for p in rec.people() {
            out.insert(
                p.role.to_string(),
                person_of(store, regno, p.role)?.to_string(),
            );
        }
    }
    Ok(out)
}

/// Every mention that is this person: the one it was minted for (unless that one was linked
/// elsewhere) and every mention linked to it. Sorted.
pub fn members(store: &HubStore, pid: &PersonId) -> Result<Vec<String>, PersonError> {
    let mut out = BTreeSet::new();
    if let Some(m) = store.aux_get(&pi_key(pid))? {
        let m = String::from_utf8_lossy(&m).into_owned();
        // An identifier minted for a split (`MENTION#split...`) has members only through links.
        if let Some((regno, role)) = m.rsplit_once('/').filter(|_| !m.contains('#')) {
            let moved = store
                .record(regno)?
                .is_some_and(|st| st.persons.contains_key(role));
            if !moved {
                out.insert(m);
            }
        }
    }
    let prefix = aux::aux_key(aux::PERSON_LINKS, &format!("{pid}/"));
    for r in store.aux_scan(&prefix) {
        let (k, _) = r?;
        out.insert(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
    }
    Ok(out.into_iter().collect())
}

/// Refuses an identifier that was never minted here.
pub fn require_known(store: &HubStore, pid: &PersonId) -> Result<(), PersonError> {
    match store.aux_get(&pi_key(pid))? {
        Some(_) => Ok(()),
        None => Err(PersonError::UnknownPerson(pid.to_string())),
    }
}

/// One planned link: the mention and the identifier it is to be.
pub struct Planned {
    pub regno: String,
    pub role: String,
    pub to: PersonId,
    /// The identifier it was before (its link, or its own).
    pub from: PersonId,
}

/// The links of a plan, by record: one op per record.
pub type RecordLinks = Vec<(String, Vec<(String, PersonId)>)>;

/// Groups a plan by record, with the index writes that go with it.
pub fn link_ops(plan: &[Planned]) -> (RecordLinks, Vec<AuxWrite>) {
    let mut by_record: BTreeMap<String, Vec<(String, PersonId)>> = BTreeMap::new();
    let mut aux = Vec::new();
    for p in plan {
        let mention = format!("{}/{}", p.regno, p.role);
        aux.push((pl_key(&p.from.to_string(), &mention), None));
        aux.push((pl_key(&p.to.to_string(), &mention), Some(Vec::new())));
        by_record
            .entry(p.regno.clone())
            .or_default()
            .push((p.role.clone(), p.to));
    }
    (by_record.into_iter().collect(), aux)
}

/// The changes of a link op: `$person.ROLE` = identifier for each of `links`, sorted by path,
/// each path once.
pub fn link_changes(links: &[(String, PersonId)]) -> Vec<civreg_shared::fields::FieldChange> {
    let mut changes: Vec<civreg_shared::fields::FieldChange> = links
        .iter()
        .map(|(role, pid)| civreg_shared::fields::FieldChange {
            path: format!("{PERSON}{role}"),
            value: serde_json::Value::from(pid.to_string()),
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.dedup_by(|a, b| a.path == b.path);
    changes
}

/// Makes the op that writes `$person.ROLE` for each of `links` on record `regno`.
pub fn make_link_op(
    st: &crate::store::HubRecord,
    links: &[(String, PersonId)],
    clerk: &str,
    reason: &str,
    id: civreg_shared::op::OpId,
    prev_hash: civreg_shared::op::Hash,
) -> Op {
    let changes = link_changes(links);
    Op {
        format: OP_FORMAT,
        id,
        hlc: Hlc::tick(st.updated, crate::access::now_ms()),
        clerk: clerk.to_string(),
        record_id: st.regno.clone(),
        record_kind: st.kind,
        change: ChangeKind::Link,
        changes,
        base: st.heads.clone(),
        reason: reason.to_string(),
        prev_hash,
        hash: Default::default(),
    }
}

/// Writes a plan of links as ops of the hub's chain, with their index entries and whatever
/// `extra` the caller adds (a duplicate case's decision), atomically. Returns the ops.
pub fn apply_plan(
    store: &HubStore,
    plan: &[Planned],
    clerk: &str,
    reason: &str,
    extra: Vec<AuxWrite>,
) -> Result<Vec<Op>, PersonError> {
    let ops = apply_plan_if(store, plan, clerk, reason, extra, &AuxReads::default())?;
    Ok(ops.expect("no condition on aux state, so never stale"))
}

/// [`apply_plan`], written only if every `aux` key of `reads` still holds what was read
/// ([`HubStore::write_own_many_if`]); `None`: another hub changed one first, nothing was
/// written (decide again).
pub fn apply_plan_if(
    store: &HubStore,
    plan: &[Planned],
    clerk: &str,
    reason: &str,
    mut extra: Vec<AuxWrite>,
    reads: &AuxReads,
) -> Result<Option<Vec<Op>>, PersonError> {
    let (by_record, mut aux) = link_ops(plan);
    aux.append(&mut extra);
    let mut states = Vec::with_capacity(by_record.len());
    for (regno, links) in by_record {
        let st = store
            .record(&regno)?
            .ok_or_else(|| PersonError::NoRecord(regno.clone()))?;
        states.push((st, links));
    }
    Ok(store.write_own_many_if(
        states,
        |(st, links), id, prev| make_link_op(&st, &links, clerk, reason, id, prev),
        &aux,
        reads,
    )?)
}

/// Attaches person `b` (every mention that is it) to person `a`'s identifier. Returns the ops.
pub fn link(
    store: &HubStore,
    a: &str,
    b: &str,
    operator_clerk: &str,
    reason: &str,
    extra: Vec<AuxWrite>,
) -> Result<Vec<Op>, PersonError> {
    let ops = link_if(
        store,
        a,
        b,
        operator_clerk,
        reason,
        extra,
        &AuxReads::default(),
    )?;
    Ok(ops.expect("no condition on aux state, so never stale"))
}

/// [`link`], written only if every `aux` key of `reads` (the caller's decision) still holds
/// what was read. Returns the ops (`None`: another hub changed what was read first; nothing
/// written, decide again).
pub fn link_if(
    store: &HubStore,
    a: &str,
    b: &str,
    operator_clerk: &str,
    reason: &str,
    extra: Vec<AuxWrite>,
    reads: &AuxReads,
) -> Result<Option<Vec<Op>>, PersonError> {
    if reason.trim().is_empty() {
        return Err(PersonError::ReasonRequired);
    }
    let (ra, rola) = parse_mention(store, a)?;
    let (rb, rolb) = parse_mention(store, b)?;
    let pa = person_of(store, &ra, &rola)?;
    let pb = person_of(store, &rb, &rolb)?;
    if pa == pb {
        return Err(PersonError::AlreadyLinked(a.to_string(), b.to_string()));
    }
    let mut plan = Vec::new();
    for m in members(store, &pb)? {
        if let Some((regno, role)) = m.rsplit_once('/') {
            plan.push(Planned {
                regno: regno.to_string(),
                role: role.to_string(),
                to: pa,
                from: pb,
            });
        }
    }
    apply_plan_if(store, &plan, operator_clerk, reason.trim(), extra, reads)
}

/// Splits a mention from the person it is: it gets a fresh identifier of its own. Refused
/// when no other mention is that person. Written only if every `aux` key of `reads` (the
/// caller's decision) still holds what was read (`None`: another hub changed one first;
/// nothing written, decide again).
pub fn unlink(
    store: &HubStore,
    mention: &str,
    operator_clerk: &str,
    reason: &str,
    extra: Vec<AuxWrite>,
    reads: &AuxReads,
) -> Result<Option<(PersonId, Vec<Op>)>, PersonError> {
    if reason.trim().is_empty() {
        return Err(PersonError::ReasonRequired);
    }
    let (regno, role) = parse_mention(store, mention)?;
    let me = format!("{regno}/{role}");
    let current = person_of(store, &regno, &role)?;
    if members(store, &current)?.iter().all(|m| *m == me) {
        return Err(PersonError::NotLinked(me));
    }
    // A fresh identifier, recorded as minted for this mention's split.
    let mut minting = Minting::default();
    let fresh = minting.own(store, &format!("{me}#split{}", crate::access::now_ms()))?;
    let mut aux = minting.writes();
    aux.extend(extra);
    let mut reads = reads.clone();
    reads.extend(minting.reads);
    let written = apply_plan_if(
        store,
        &[Planned {
            regno,
            role,
            to: fresh,
            from: current,
        }],
        operator_clerk,
        reason.trim(),
        aux,
        &reads,
    )?;
    Ok(written.map(|ops| (fresh, ops)))
}

/// The records a person appears in (for "who looked at this person?").
pub fn records_of(store: &HubStore, pid: &PersonId) -> Result<Vec<String>, PersonError> {
    Ok(records_of_mentions(&members(store, pid)?))
}

/// The records of `mentions` (`REGNO/ROLE`, in order, as [`members`] gives them), each once.
pub fn records_of_mentions(mentions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = mentions
        .iter()
        .filter_map(|m| m.rsplit_once('/').map(|(r, _)| r.to_string()))
        .collect();
    out.dedup();
    out
}
