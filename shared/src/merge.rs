//! The deterministic merge: a record's state, as a pure function of the *set* of its ops.
//!
//! Hub and nodes both call [`merge`], so two places that hold the same ops of a record hold the
//! same state, whatever order the ops arrived in and however often they were redelivered.
//!
//! # The rules
//! - **Causality comes from `base`.** An op's `base` names the record's ops its writer had seen
//!   (the heads of its version). An op has *seen* every op reachable through `base`, and every
//!   earlier op of its own node on the same record. Clocks play no part in "seen".
//! - **Fields, not records.** Each op writes field paths (a create writes every field it has). For
//!   each path, the writes that no other write of that path has seen are the *maximal* writes.
//! - **A later edit that had seen the earlier one simply wins.** If one maximal write remains, it
//!   is the value.
//! - **Concurrent writes of the same path** (neither had seen the other) with different values are
//!   a [`Conflict`]. The provisional value is the write that is greatest in the total order
//!   [`order_key`]: hybrid logical clock, then municipality, node id and sequence number. The
//!   other value is kept in the conflict, with who wrote it, when and where.
//! - **Void is a write of the pseudo-field `$status`**, and restore (an operator's decision to
//!   keep a record) writes it back to active. A void concurrent with an amendment or annotation
//!   is a conflict on `$status`: provisionally the record is void *and* carries the amendment.
//! - **A conflict is resolved** by any later write of the same path that had seen both sides:
//!   an operator's decision, or a clerk's correction made after pulling both.
//!
//! The conflicts of a record are a function of its op set too: every pair of concurrent writes
//! of a path with different values, named by an id derived from the pair, so that every place
//! that holds the ops reports the same conflicts under the same ids.
//!
//! Ops whose `base` forms a cycle (which no honest writer can produce) are ordered by the total
//! order, ignoring the edges that would close the cycle: the result is still deterministic.

use crate::fields::{self, FieldMap};
use crate::model::{Record, RecordKind};
use crate::op::{ChangeKind, Hlc, Op, OpId};
use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// The pseudo-field that void and restore write.
pub const STATUS: &str = "$status";
/// The prefix of the pseudo-fields that links write: `$person.child` is the person identifier
/// the hub attached the record's child to. Kept out of `fields`, in [`RecordState::persons`].
pub const PERSON: &str = "$person.";
const VOID: &str = "void";
const ACTIVE: &str = "active";

/// A position in the total order: HLC, municipality, node id, sequence number.
pub type OrderKey<'a> = (Hlc, &'a str, &'a str, u64);

/// The total order that breaks ties between concurrent writes: the greatest wins.
pub fn order_key(op: &Op) -> OrderKey<'_> {
    (op.hlc, &op.id.municipality, &op.id.node_id, op.id.seq)
}

/// A record as merged from its ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub regno: String,
    pub kind: RecordKind,
    pub fields: FieldMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<VoidInfo>,
    /// Every op of this record, in a causal order (ties broken by [`order_key`]).
    pub ops: Vec<OpId>,
    pub created: Hlc,
    pub updated: Hlc,
    /// The ops no other op of this record has seen: what a new edit is based on.
    #[serde(default)]
    pub heads: Vec<OpId>,
    /// Every conflict of this record, open or resolved, sorted by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The people of this record the hub has linked, by role (`child`, `mother`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub persons: BTreeMap<String, PersonLink>,
}

/// A person of a record attached to a person identifier by the hub (an operator's link, or an
/// import that matched).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonLink {
    /// The person identifier (9 digits).
    pub person: String,
    pub op: OpId,
    pub clerk: String,
    pub at: Hlc,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// A stored record state whose fields no longer form a record: damaged data.
#[derive(Debug, thiserror::Error)]
#[error("record {regno} is damaged: its fields no longer form a record ({why})")]
pub struct DamagedRecord {
    pub regno: String,
    pub why: String,
}

impl RecordState {
    /// The typed record: its fields, without the annotations (see [`crate::annotation`]).
    pub fn record(&self) -> Result<Record, DamagedRecord> {
        let own = crate::annotation::record_fields(&self.fields);
        Record::from_json(self.kind, fields::unflatten(&own)).map_err(|e| DamagedRecord {
            regno: self.regno.clone(),
            why: e.to_string(),
        })
    }

    /// The annotations noted on this record, by office and key.
    pub fn annotations(&self) -> Vec<crate::annotation::Annotation> {
        crate::annotation::annotations(&self.fields)
    }

    /// What a new edit of this record is based on: the heads (or, for a state stored before
    /// heads were kept, its last op).
    pub fn base(&self) -> Vec<OpId> {
        if self.heads.is_empty() {
            self.ops.last().cloned().into_iter().collect()
        } else {
            self.heads.clone()
        }
    }

    /// The conflicts still waiting for a decision.
    pub fn open_conflicts(&self) -> impl Iterator<Item = &Conflict> {
        self.conflicts.iter().filter(|c| c.resolution.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoidInfo {
    pub reason: String,
    pub clerk: String,
    pub at: Hlc,
}

/// Two concurrent writes of one path with different values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// Stable: derived from the record, the path and the two ops.
    pub id: String,
    pub record_id: String,
    /// The field path, or `$status` for a void against an edit.
    pub path: String,
    /// The side the total order picks provisionally.
    pub winner: Side,
    pub loser: Side,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub op: OpId,
    pub at: Hlc,
    pub clerk: String,
    pub change: ChangeKind,
    /// The value written; for an edit against a void, the edit's changes as an object.
    pub value: Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The first later write of the path that had seen both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub op: OpId,
    pub at: Hlc,
    pub clerk: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The id of the conflict between two ops on a path.
pub fn conflict_id(record_id: &str, path: &str, a: &OpId, b: &OpId) -> String {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let text = format!("{record_id}\0{path}\0{a}\0{b}");
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    format!("c{}", hex::encode(&d.as_ref()[..6]))
}

/// What an op writes: field paths (and `$status`) with their values.
fn writes(op: &Op) -> Vec<(&str, Value)> {
    let mut w: Vec<(&str, Value)> = op
        .changes
        .iter()
        .filter(|c| c.path != STATUS)
        .map(|c| (c.path.as_str(), c.value.clone()))
        .collect();
    match op.change {
        ChangeKind::Void => w.push((STATUS, Value::from(VOID))),
        ChangeKind::Restore => w.push((STATUS, Value::from(ACTIVE))),
        _ => {}
    }
    w
}

fn is_edit(op: &Op) -> bool {
    matches!(op.change, ChangeKind::Amend | ChangeKind::Annotate) && !op.changes.is_empty()
}

struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn has(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn union(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
}

/// Merges one record's ops (any order, duplicates allowed) into its state; `None` for no ops.
/// All ops must be of the same record.
pub fn merge<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Option<RecordState> {
    // One op per id. Two different ops under one id can only come from damaged or forged data;
    // keep the one with the smaller hash so that the choice does not depend on order.
    let mut by_id: BTreeMap<&OpId, &Op> = BTreeMap::new();
    for op in ops {
        by_id
            .entry(&op.id)
            .and_modify(|held| {
                if op.hash.0 < held.hash.0 {
                    *held = op;
                }
            })
            .or_insert(op);
    }
    let ops: Vec<&Op> = by_id.into_values().collect();
    let first = *ops.first()?;
    if let [only] = ops[..] {
        return Some(single(only));
    }
    let n = ops.len();
    let index: HashMap<&OpId, usize> = ops.iter().enumerate().map(|(i, o)| (&o.id, i)).collect();

    // Edges: base, plus the previous op of the same node on this record.
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut last_of_node: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        // `ops` is sorted by id, so a node's ops come in sequence order.
        let node = (op.id.municipality.as_str(), op.id.node_id.as_str());
        if let Some(&p) = last_of_node.get(&node) {
            parents[i].push(p);
        }
        last_of_node.insert(node, i);
        for b in &op.base {
            if let Some(&p) = index.get(b) {
                if p != i && !parents[i].contains(&p) {
                    parents[i].push(p);
                }
            }
        }
    }

    // A causal order, ties broken by the total order (smallest first).
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending: Vec<usize> = vec![0; n];
    for (i, ps) in parents.iter().enumerate() {
        pending[i] = ps.len();
        for &p in ps {
            children[p].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<(OrderKey<'_>, usize)>> = (0..n)
        .filter(|&i| pending[i] == 0)
        .map(|i| Reverse((order_key(ops[i]), i)))
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    while order.len() < n {
        let next = match ready.pop() {
            Some(Reverse((_, i))) => i,
            // A cycle: place its smallest op and ignore the edges that close it.
            None => (0..n)
                .filter(|&i| !placed[i])
                .min_by(|&a, &b| order_key(ops[a]).cmp(&order_key(ops[b])))
                .expect("an op is left"),
        };
        if placed[next] {
            continue;
        }
        placed[next] = true;
        order.push(next);
        for &c in &children[next] {
            pending[c] = pending[c].saturating_sub(1);
            if pending[c] == 0 && !placed[c] {
                ready.push(Reverse((order_key(ops[c]), c)));
            }
        }
    }

    // What each op had seen, following only edges from ops placed before it.
    let mut position = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let mut seen: Vec<Bits> = (0..n).map(|_| Bits::new(n)).collect();
    for &i in &order {
        let mut s = Bits::new(n);
        for &p in &parents[i] {
            if position[p] < position[i] {
                s.set(p);
                s.union(&seen[p]);
            }
        }
        seen[i] = s;
    }
    let concurrent = |a: usize, b: usize| !seen[a].has(b) && !seen[b].has(a);

    // Writes per path, in causal order.
    let mut by_path: BTreeMap<&str, Vec<(usize, Value)>> = BTreeMap::new();
    for &i in &order {
        for (path, value) in writes(ops[i]) {
            by_path.entry(path).or_default().push((i, value));
        }
    }

    let side = |i: usize, value: Value| Side {
        op: ops[i].id.clone(),
        at: ops[i].hlc,
        clerk: ops[i].clerk.clone(),
        change: ops[i].change,
        value,
        reason: ops[i].reason.clone(),
    };
    let resolution = |path_writes: &[(usize, Value)], a: usize, b: usize| {
        path_writes
            .iter()
            .find(|(k, _)| seen[*k].has(a) && seen[*k].has(b))
            .map(|(k, v)| Resolution {
                op: ops[*k].id.clone(),
                at: ops[*k].hlc,
                clerk: ops[*k].clerk.clone(),
                value: v.clone(),
                reason: ops[*k].reason.clone(),
            })
    };
    let record_id = first.record_id.as_str();
    let mut winners: HashMap<&str, usize> = HashMap::new();
    let mut conflicts = Vec::new();
    for (path, ws) in &by_path {
        let maximal = ws
            .iter()
            .filter(|(i, _)| !ws.iter().any(|(j, _)| seen[*j].has(*i)))
            .map(|(i, _)| *i);
        if let Some(w) = maximal.max_by(|&a, &b| order_key(ops[a]).cmp(&order_key(ops[b]))) {
            winners.insert(path, w);
        }
        for (x, (a, va)) in ws.iter().enumerate() {
            for (b, vb) in &ws[x + 1..] {
                if va == vb || !concurrent(*a, *b) {
                    continue;
                }
                let (w, l) = if order_key(ops[*a]) > order_key(ops[*b]) {
                    ((*a, va), (*b, vb))
                } else {
                    ((*b, vb), (*a, va))
                };
                conflicts.push(Conflict {
                    id: conflict_id(record_id, path, &ops[*a].id, &ops[*b].id),
                    record_id: record_id.to_string(),
                    path: path.to_string(),
                    winner: side(w.0, w.1.clone()),
                    loser: side(l.0, l.1.clone()),
                    resolution: resolution(ws, *a, *b),
                });
            }
        }
    }
    // A void against a concurrent edit.
    if let Some(status_writes) = by_path.get(STATUS) {
        for (v, _) in status_writes
            .iter()
            .filter(|(i, _)| ops[*i].change == ChangeKind::Void)
        {
            for &e in &order {
                if !is_edit(ops[e]) || !concurrent(*v, e) {
                    continue;
                }
                let edit: serde_json::Map<String, Value> = ops[e]
                    .changes
                    .iter()
                    .map(|c| (c.path.clone(), c.value.clone()))
                    .collect();
                conflicts.push(Conflict {
                    id: conflict_id(record_id, STATUS, &ops[*v].id, &ops[e].id),
                    record_id: record_id.to_string(),
                    path: STATUS.to_string(),
                    winner: side(*v, Value::from(VOID)),
                    loser: side(e, Value::Object(edit)),
                    resolution: resolution(status_writes, *v, e),
                });
            }
        }
    }
    conflicts.sort_by(|a, b| a.id.cmp(&b.id));

    // The state: each path's winning write, applied in causal order.
    let mut fields_map = FieldMap::new();
    let mut voided = None;
    let mut persons = BTreeMap::new();
    for &i in &order {
        let op = ops[i];
        let won: Vec<fields::FieldChange> = op
            .changes
            .iter()
            .filter(|c| !c.path.starts_with('$') && winners.get(c.path.as_str()) == Some(&i))
            .cloned()
            .collect();
        fields::apply(&mut fields_map, &won);
        for c in &op.changes {
            if winners.get(c.path.as_str()) == Some(&i) {
                link_person(&mut persons, op, c);
            }
        }
        if winners.get(STATUS) == Some(&i) {
            voided = (op.change == ChangeKind::Void).then(|| VoidInfo {
                reason: op.reason.clone(),
                clerk: op.clerk.clone(),
                at: op.hlc,
            });
        }
    }
    let mut heads: Vec<OpId> = (0..n)
        .filter(|&i| !(0..n).any(|j| seen[j].has(i)))
        .map(|i| ops[i].id.clone())
        .collect();
    heads.sort();
    let created = ops
        .iter()
        .find(|o| o.change == ChangeKind::Create)
        .map(|o| o.hlc)
        .unwrap_or_else(|| ops.iter().map(|o| o.hlc).min().unwrap_or_default());
    Some(RecordState {
        regno: record_id.to_string(),
        kind: first.record_kind,
        fields: fields_map,
        voided,
        ops: order.iter().map(|&i| ops[i].id.clone()).collect(),
        created,
        updated: ops.iter().map(|o| o.hlc).max().unwrap_or_default(),
        heads,
        conflicts,
        persons,
    })
}

/// Notes a `$person.ROLE` write in `persons`.
fn link_person(persons: &mut BTreeMap<String, PersonLink>, op: &Op, c: &fields::FieldChange) {
    if let (Some(role), Some(person)) = (c.path.strip_prefix(PERSON), c.value.as_str()) {
        persons.insert(
            role.to_string(),
            PersonLink {
                person: person.to_string(),
                op: op.id.clone(),
                clerk: op.clerk.clone(),
                at: op.hlc,
                reason: op.reason.clone(),
            },
        );
    }
}

/// The state of a record with one op (most records): what the general case gives, without the
/// graph.
fn single(op: &Op) -> RecordState {
    let mut fields_map = FieldMap::new();
    let changes: Vec<fields::FieldChange> = op
        .changes
        .iter()
        .filter(|c| !c.path.starts_with('$'))
        .cloned()
        .collect();
    fields::apply(&mut fields_map, &changes);
    let mut persons = BTreeMap::new();
    for c in &op.changes {
        link_person(&mut persons, op, c);
    }
    RecordState {
        regno: op.record_id.clone(),
        kind: op.record_kind,
        fields: fields_map,
        voided: (op.change == ChangeKind::Void).then(|| VoidInfo {
            reason: op.reason.clone(),
            clerk: op.clerk.clone(),
            at: op.hlc,
        }),
        ops: vec![op.id.clone()],
        created: op.hlc,
        updated: op.hlc,
        heads: vec![op.id.clone()],
        conflicts: Vec::new(),
        persons,
    }
}

/// A digest of the records of a scope: equal digests mean equal states.
///
/// SHA-256 over, for each record in ascending id order: id, kind, status (`active` or `void`)
/// and the canonical JSON of its fields (sorted paths), each followed by a NUL; then, for a
/// record with linked people, `persons` and the canonical JSON of role → person identifier. Ops, clocks and
/// conflict bookkeeping are left out: two places that merged the same ops agree on all of them
/// anyway, and the digest states what a clerk would read.
#[derive(Clone)]
pub struct Digest {
    ctx: digest::Context,
    records: u64,
    last: Option<String>,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            ctx: digest::Context::new(&digest::SHA256),
            records: 0,
            last: None,
        }
    }
}

/// The finished digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestValue {
    pub records: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("records must be added in ascending id order: {got} came after {after}")]
pub struct DigestOrderError {
    pub after: String,
    pub got: String,
}

impl Digest {
    pub fn add(&mut self, st: &RecordState) -> Result<(), DigestOrderError> {
        if let Some(last) = &self.last {
            if st.regno.as_str() <= last.as_str() {
                return Err(DigestOrderError {
                    after: last.clone(),
                    got: st.regno.clone(),
                });
            }
        }
        let ctx = &mut self.ctx;
        for part in [
            st.regno.as_str(),
            st.kind.as_str(),
            if st.voided.is_some() { VOID } else { ACTIVE },
        ] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        // BTreeMap serialises with sorted keys: canonical.
        ctx.update(&serde_json::to_vec(&st.fields).expect("fields serialise"));
        ctx.update(&[0]);
        if !st.persons.is_empty() {
            // Which person each role is linked to (not who linked it): what a clerk reads.
            let linked: BTreeMap<&str, &str> = st
                .persons
                .iter()
                .map(|(role, l)| (role.as_str(), l.person.as_str()))
                .collect();
            ctx.update(b"persons");
            ctx.update(&serde_json::to_vec(&linked).expect("links serialise"));
            ctx.update(&[0]);
        }
        self.records += 1;
        self.last = Some(st.regno.clone());
        Ok(())
    }

    pub fn finish(self) -> DigestValue {
        DigestValue {
            records: self.records,
            sha256: hex::encode(self.ctx.finish().as_ref()),
        }
    }
}

#[cfg(test)]
mod tests;
