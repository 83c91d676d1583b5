//! The hub store's binary encoding of ops, runs of ops, record states, buckets of record states
//! and chain heads (layout 5).
//!
//! Compact and cheap to write and read, unlike JSON: integers are LEB128 varints, strings a
//! varint length and UTF-8 bytes, hashes their 32 raw bytes. A field value is one tag byte and
//! its payload (null, false, true, a string, a number as its JSON text, or any other JSON value
//! as its text). Conflicts, rare and nested, are kept as JSON inside a record state.
//!
//! Every stored op and record state starts with a version byte, so that a value written by
//! another encoding is reported as damaged, never misread. This encoding is the store's own: an
//! op's identity is its canonical encoding and hash (`civreg_shared::op`), which this does not
//! change.

use civreg_shared::fields::{FieldChange, FieldMap};
use civreg_shared::merge::{RecordState, VoidInfo};
use civreg_shared::model::RecordKind;
use civreg_shared::op::{kind_code, ChangeKind, Hash, Hlc, Op, OpId};
use serde_json::Value;

const OP_V1: u8 = 1;
const STATE_V1: u8 = 1;
const RUN_V1: u8 = 1;
const BUCKET_V1: u8 = 1;

/// Why a stored value could not be decoded.
#[derive(Debug)]
pub struct Damaged(pub String);

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn damaged(what: &str) -> Damaged {
    Damaged(what.to_string())
}

struct W(Vec<u8>);

impl W {
    fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    /// Bytes with their length first (as [`R::len`] and [`R::bytes`] read them).
    fn sized(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.sized(s.as_bytes());
    }
    fn hash(&mut self, h: &Hash) {
        self.0.extend_from_slice(&h.0);
    }
    fn hlc(&mut self, h: &Hlc) {
        self.var(h.wall_ms);
        self.var(u64::from(h.logical));
    }
    fn id(&mut self, id: &OpId) {
        self.str(&id.municipality);
        self.str(&id.node_id);
        self.var(id.seq);
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.0.push(0),
            Value::Bool(false) => self.0.push(1),
            Value::Bool(true) => self.0.push(2),
            Value::String(s) => {
                self.0.push(3);
                self.str(s);
            }
            Value::Number(n) => {
                self.0.push(4);
                self.str(&n.to_string());
            }
            other => {
                self.0.push(5);
                self.str(&other.to_string());
            }
        }
    }
}

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn u8(&mut self) -> Result<u8, Damaged> {
        let (&b, rest) = self.0.split_first().ok_or_else(|| damaged("truncated"))?;
        self.0 = rest;
        Ok(b)
    }
    fn var(&mut self) -> Result<u64, Damaged> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(damaged("integer too long"))
    }
    fn len(&mut self) -> Result<usize, Damaged> {
        let n = self.var()?;
        if n > self.0.len() as u64 {
            return Err(damaged("length past the end"));
        }
        Ok(n as usize)
    }
    /// A count of items, each at least one byte long.
    fn count(&mut self) -> Result<usize, Damaged> {
        self.len()
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Damaged> {
        if n > self.0.len() {
            return Err(damaged("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn str(&mut self) -> Result<String, Damaged> {
        let n = self.len()?;
        let b = self.bytes(n)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| damaged("text is not UTF-8"))
    }
    fn hash(&mut self) -> Result<Hash, Damaged> {
        Hash::from_slice(self.bytes(32)?).ok_or_else(|| damaged("hash"))
    }
    fn hlc(&mut self) -> Result<Hlc, Damaged> {
        Ok(Hlc {
            wall_ms: self.var()?,
            logical: u32::try_from(self.var()?).map_err(|_| damaged("clock"))?,
        })
    }
    fn id(&mut self) -> Result<OpId, Damaged> {
        Ok(OpId {
            municipality: self.str()?,
            node_id: self.str()?,
            seq: self.var()?,
        })
    }
    fn ids(&mut self) -> Result<Vec<OpId>, Damaged> {
        let n = self.count()?;
        (0..n).map(|_| self.id()).collect()
    }
    fn value(&mut self) -> Result<Value, Damaged> {
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::String(self.str()?),
            4 => Value::Number(self.str()?.parse().map_err(|_| damaged("number"))?),
            5 => serde_json::from_str(&self.str()?).map_err(|_| damaged("value"))?,
            _ => return Err(damaged("value tag")),
        })
    }
    fn end(&self) -> Result<(), Damaged> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(damaged("trailing bytes"))
        }
    }
}

fn kind_of(c: u8) -> Result<RecordKind, Damaged> {
    civreg_shared::op::kind_of_code(c).ok_or_else(|| damaged("record kind"))
}

fn change_of(c: u8) -> Result<ChangeKind, Damaged> {
    ChangeKind::from_code(c).ok_or_else(|| damaged("change kind"))
}

/// An op's stored encoding: what a run holds for it.
pub fn encode_op(op: &Op) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(320));
    w.op(op);
    w.0
}

impl W {
    fn op(&mut self, op: &Op) {
        self.0.push(OP_V1);
        self.var(u64::from(op.format));
        self.id(&op.id);
        self.hlc(&op.hlc);
        self.str(&op.clerk);
        self.str(&op.record_id);
        self.0.push(kind_code(op.record_kind));
        self.0.push(op.change.code());
        self.var(op.changes.len() as u64);
        for c in &op.changes {
            self.str(&c.path);
            self.value(&c.value);
        }
        self.var(op.base.len() as u64);
        for b in &op.base {
            self.id(b);
        }
        self.str(&op.reason);
        self.hash(&op.prev_hash);
        self.hash(&op.hash);
    }
}

/// A run: consecutive ops of one chain, stored as one value (version byte, count, then each op's
/// length and encoding, [`encode_op`]). One value per run instead of one per op is what makes a
/// group commit cheap: sled's cost is per insert, far more than per byte.
pub fn encode_run<'a>(encoded_ops: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let bytes: usize = encoded_ops.clone().map(|o| o.len() + 4).sum();
    let mut w = W(Vec::with_capacity(16 + bytes));
    w.0.push(RUN_V1);
    w.var(encoded_ops.len() as u64);
    for op in encoded_ops {
        w.sized(op);
    }
    w.0
}

/// A bucket: the states of records whose numbers differ only in their last character (up to
/// ten consecutive numbers of one series), one value, in number order (version byte, count, then
/// each number and its state's encoding, [`encode_state`]). One value per bucket rather than per
/// record is what makes storing a group of creates cheap (sled's cost is per insert).
pub fn encode_bucket(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let bytes: usize = entries.iter().map(|(r, s)| r.len() + s.len() + 4).sum();
    let mut w = W(Vec::with_capacity(8 + bytes));
    w.0.push(BUCKET_V1);
    w.var(entries.len() as u64);
    for (regno, state) in entries {
        w.str(regno);
        w.sized(state);
    }
    w.0
}

/// A bucket's entries, in the order stored: each record's number and its encoded state (which
/// decodes with [`decode_state`]).
pub fn bucket_entries(b: &[u8]) -> Result<Vec<(&str, &[u8])>, Damaged> {
    counted(b, BUCKET_V1, "bucket", |r| {
        let len = r.len()?;
        let regno = std::str::from_utf8(r.bytes(len)?).map_err(|_| damaged("record number"))?;
        let len = r.len()?;
        Ok((regno, r.bytes(len)?))
    })
}

/// A value of `version` holding a count, then that many items read by `item`, and nothing after.
fn counted<'a, T>(
    b: &'a [u8],
    version: u8,
    what: &str,
    mut item: impl FnMut(&mut R<'a>) -> Result<T, Damaged>,
) -> Result<Vec<T>, Damaged> {
    let mut r = R(b);
    if r.u8()? != version {
        return Err(Damaged(format!("unknown {what} encoding")));
    }
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(item(&mut r)?);
    }
    r.end()?;
    Ok(out)
}

/// Whether a stored value is a run (layout 4) rather than a layout-3 feed entry (an op key,
/// which starts with a municipality's code, a letter).
pub fn is_run(v: &[u8]) -> bool {
    v.first() == Some(&RUN_V1)
}

/// The encoded ops of a run, in order (each decodes with [`decode_op`]).
pub fn run_ops(b: &[u8]) -> Result<Vec<&[u8]>, Damaged> {
    counted(b, RUN_V1, "run", |r| {
        let len = r.len()?;
        r.bytes(len)
    })
}

pub fn decode_op(b: &[u8]) -> Result<Op, Damaged> {
    let mut r = R(b);
    if r.u8()? != OP_V1 {
        return Err(damaged("unknown op encoding"));
    }
    let format = u32::try_from(r.var()?).map_err(|_| damaged("op format"))?;
    let id = r.id()?;
    let hlc = r.hlc()?;
    let clerk = r.str()?;
    let record_id = r.str()?;
    let record_kind = kind_of(r.u8()?)?;
    let change = change_of(r.u8()?)?;
    let n = r.count()?;
    let mut changes = Vec::with_capacity(n);
    for _ in 0..n {
        changes.push(FieldChange {
            path: r.str()?,
            value: r.value()?,
        });
    }
    let base = r.ids()?;
    let reason = r.str()?;
    let prev_hash = r.hash()?;
    let hash = r.hash()?;
    r.end()?;
    Ok(Op {
        format,
        id,
        hlc,
        clerk,
        record_id,
        record_kind,
        change,
        changes,
        base,
        reason,
        prev_hash,
        hash,
    })
}

/// The registration number of the record an encoded op changes, without decoding the rest.
pub fn op_record_id(b: &[u8]) -> Result<String, Damaged> {
    let mut r = R(b);
    if r.u8()? != OP_V1 {
        return Err(damaged("unknown op encoding"));
    }
    r.var()?;
    r.id()?;
    r.hlc()?;
    let n = r.len()?;
    r.bytes(n)?; // the clerk
    r.str()
}

/// The hash stored in an encoded op, without decoding the rest: it is the last 32 bytes.
pub fn op_hash(b: &[u8]) -> Result<Hash, Damaged> {
    if b.first() != Some(&OP_V1) || b.len() < 65 {
        return Err(damaged("unknown op encoding"));
    }
    Hash::from_slice(&b[b.len() - 32..]).ok_or_else(|| damaged("hash"))
}

pub fn encode_state(st: &RecordState) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(384));
    w.0.push(STATE_V1);
    w.str(&st.regno);
    w.0.push(kind_code(st.kind));
    w.var(st.fields.len() as u64);
    for (path, v) in &st.fields {
        w.str(path);
        w.value(v);
    }
    match &st.voided {
        None => w.0.push(0),
        Some(v) => {
            w.0.push(1);
            w.str(&v.reason);
            w.str(&v.clerk);
            w.hlc(&v.at);
        }
    }
    w.var(st.ops.len() as u64);
    for id in &st.ops {
        w.id(id);
    }
    w.hlc(&st.created);
    w.hlc(&st.updated);
    w.var(st.heads.len() as u64);
    for id in &st.heads {
        w.id(id);
    }
    if st.conflicts.is_empty() {
        w.var(0);
    } else {
        w.sized(&serde_json::to_vec(&st.conflicts).expect("conflicts serialise"));
    }
    // Linked people (rare: JSON, like conflicts).
    if st.persons.is_empty() {
        w.var(0);
    } else {
        w.sized(&serde_json::to_vec(&st.persons).expect("links serialise"));
    }
    w.0
}

/// The encoding of the state of a record made by this one op, `merge` of it alone, written
/// straight from the op without building the state; `None` when the op is not plain (it writes
/// `$status`, a null, or a path under another of its paths), where the caller merges. Equal to
/// `encode_state(&merge([op]))` (the tests check it).
pub fn encode_single_state(op: &Op) -> Option<Vec<u8>> {
    for (i, c) in op.changes.iter().enumerate() {
        // `$status`, `$person.ROLE`: pseudo-fields, left to the merge.
        if c.value.is_null() || c.path.starts_with('$') {
            return None;
        }
        // Stored ops have sorted, distinct paths (checked with their hash); anything else is
        // left to the merge.
        if i > 0 && op.changes[i - 1].path >= c.path {
            return None;
        }
        let nested = op.changes.iter().any(|o| {
            o.path.len() > c.path.len()
                && o.path.starts_with(c.path.as_str())
                && o.path.as_bytes()[c.path.len()] == b'.'
        });
        if nested {
            return None;
        }
    }
    let mut w = W(Vec::with_capacity(320));
    w.0.push(STATE_V1);
    w.str(&op.record_id);
    w.0.push(kind_code(op.record_kind));
    w.var(op.changes.len() as u64);
    for c in &op.changes {
        w.str(&c.path);
        w.value(&c.value);
    }
    if op.change == ChangeKind::Void {
        w.0.push(1);
        w.str(&op.reason);
        w.str(&op.clerk);
        w.hlc(&op.hlc);
    } else {
        w.0.push(0);
    }
    w.var(1);
    w.id(&op.id);
    w.hlc(&op.hlc);
    w.hlc(&op.hlc);
    w.var(1);
    w.id(&op.id);
    w.var(0);
    w.var(0);
    Some(w.0)
}

pub fn decode_state(b: &[u8]) -> Result<RecordState, Damaged> {
    let mut r = R(b);
    if r.u8()? != STATE_V1 {
        return Err(damaged("unknown record state encoding"));
    }
    let regno = r.str()?;
    let kind = kind_of(r.u8()?)?;
    let n = r.count()?;
    let mut fields = FieldMap::new();
    for _ in 0..n {
        let path = r.str()?;
        let v = r.value()?;
        fields.insert(path, v);
    }
    let voided = match r.u8()? {
        0 => None,
        1 => Some(VoidInfo {
            reason: r.str()?,
            clerk: r.str()?,
            at: r.hlc()?,
        }),
        _ => return Err(damaged("void flag")),
    };
    let ops = r.ids()?;
    let created = r.hlc()?;
    let updated = r.hlc()?;
    let heads = r.ids()?;
    let n = r.len()?;
    let conflicts = if n == 0 {
        Vec::new()
    } else {
        serde_json::from_slice(r.bytes(n)?).map_err(|e| Damaged(format!("conflicts: {e}")))?
    };
    let n = r.len()?;
    let persons = if n == 0 {
        Default::default()
    } else {
        serde_json::from_slice(r.bytes(n)?).map_err(|e| Damaged(format!("linked people: {e}")))?
    };
    r.end()?;
    Ok(RecordState {
        regno,
        kind,
        fields,
        voided,
        ops,
        created,
        updated,
        heads,
        conflicts,
        persons,
    })
}

/// A chain head: the sequence number (8 bytes, big-endian) and the hash.
pub fn encode_head(seq: u64, hash: &Hash) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&seq.to_be_bytes());
    out[8..].copy_from_slice(&hash.0);
    out
}

pub fn decode_head(b: &[u8]) -> Result<(u64, Hash), Damaged> {
    if b.len() != 40 {
        return Err(damaged("chain head"));
    }
    let seq = u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
    Ok((
        seq,
        Hash::from_slice(&b[8..]).ok_or_else(|| damaged("hash"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::merge::merge;
    use civreg_shared::op::OP_FORMAT;
    use serde_json::json;

    fn op(
        node: &str,
        seq: u64,
        change: ChangeKind,
        changes: &[(&str, Value)],
        base: Vec<OpId>,
    ) -> Op {
        Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: "prishtine".into(),
                node_id: node.into(),
                seq,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + seq * 1000,
                logical: 3,
            },
            clerk: "ana".into(),
            record_id: "PRISHTINE-2026-B-000001".into(),
            record_kind: RecordKind::Birth,
            change,
            changes: changes
                .iter()
                .map(|(p, v)| FieldChange {
                    path: p.to_string(),
                    value: v.clone(),
                })
                .collect(),
            base,
            reason: if change == ChangeKind::Void {
                "duplicate, ğ ђ".into()
            } else {
                String::new()
            },
            prev_hash: Hash([7; 32]),
            hash: Hash::default(),
        }
        .seal()
    }

    #[test]
    fn ops_and_states_round_trip_exactly() {
        let create = op(
            "1",
            1,
            ChangeKind::Create,
            &[
                ("child.given_name", json!("Ђорђе")),
                ("child.surname", json!("Gashi")),
                ("n", json!(-12.5e-3)),
                ("big", json!(u64::MAX)),
                ("t", json!(true)),
                ("f", json!(false)),
                ("z", Value::Null),
            ],
            vec![],
        );
        // Two concurrent edits of one field and a concurrent void: conflicts with object values.
        let a = op(
            "1",
            2,
            ChangeKind::Amend,
            &[("child.surname", json!("Hoxha"))],
            vec![create.id.clone()],
        );
        let b = op(
            "2",
            1,
            ChangeKind::Amend,
            &[("child.surname", json!("Shala"))],
            vec![create.id.clone()],
        );
        let v = op("3", 1, ChangeKind::Void, &[], vec![create.id.clone()]);
        // The hub links the child to a person identifier.
        let link = op(
            "hub",
            1,
            ChangeKind::Link,
            &[("$person.child", json!("418203957"))],
            vec![create.id.clone()],
        );
        for o in [&create, &a, &b, &v, &link] {
            let enc = encode_op(o);
            assert_eq!(&decode_op(&enc).unwrap(), o);
            assert_eq!(op_record_id(&enc).unwrap(), o.record_id);
            assert_eq!(op_hash(&enc).unwrap(), o.hash);
            for cut in 0..enc.len() {
                assert!(
                    decode_op(&enc[..cut]).is_err(),
                    "a truncated op must not decode"
                );
            }
        }
        let single = merge([&create]).unwrap();
        let full = merge([&create, &a, &b, &v, &link]).unwrap();
        assert!(!full.conflicts.is_empty() && full.voided.is_some());
        assert_eq!(full.persons["child"].person, "418203957");
        for st in [&single, &full] {
            let enc = encode_state(st);
            assert_eq!(&decode_state(&enc).unwrap(), st);
            assert!(decode_state(&enc[..enc.len() - 1]).is_err());
        }
        let (seq, h) = decode_head(&encode_head(42, &a.hash)).unwrap();
        assert_eq!((seq, h), (42, a.hash));
    }

    #[test]
    fn a_single_op_state_is_written_as_the_merge_would() {
        let id = |n: &str| OpId {
            municipality: "prishtine".into(),
            node_id: n.into(),
            seq: 1,
        };
        let plain = [("a", json!("x")), ("a-b", json!(1)), ("b.c", json!(true))];
        let nested = [("a", json!("x")), ("a-b", json!(1)), ("a.c", json!(true))];
        let null = [("a", json!("x")), ("b", Value::Null)];
        let status = [("$status", json!("void"))];
        let person = [("$person.child", json!("418203957"))];
        let cases = [
            (op("1", 1, ChangeKind::Create, &plain, vec![]), true),
            (
                op("1", 1, ChangeKind::Annotate, &plain, vec![id("2")]),
                true,
            ),
            (op("1", 1, ChangeKind::Void, &[], vec![]), true),
            (op("1", 1, ChangeKind::Create, &[], vec![]), true),
            (op("1", 1, ChangeKind::Create, &nested, vec![]), false),
            (op("1", 1, ChangeKind::Create, &null, vec![]), false),
            (op("1", 1, ChangeKind::Restore, &status, vec![]), false),
            (op("1", 1, ChangeKind::Link, &person, vec![]), false),
        ];
        for (o, fast) in cases {
            let merged = encode_state(&merge([&o]).unwrap());
            match encode_single_state(&o) {
                Some(direct) => assert_eq!(direct, merged, "{o:?}"),
                None => assert!(!fast, "{o:?} should take the fast path"),
            }
        }
    }

    #[test]
    fn runs_round_trip_and_truncation_is_caught() {
        let ops: Vec<Op> = (1..=5)
            .map(|i| {
                op(
                    "1",
                    i,
                    ChangeKind::Create,
                    &[("child.surname", json!(format!("Gashi {i}")))],
                    vec![],
                )
            })
            .collect();
        let encoded: Vec<Vec<u8>> = ops.iter().map(encode_op).collect();
        let run = encode_run(encoded.iter().map(Vec::as_slice));
        let parts = run_ops(&run).unwrap();
        assert_eq!(parts.len(), 5);
        for (p, o) in parts.iter().zip(&ops) {
            assert_eq!(&decode_op(p).unwrap(), o);
        }
        for cut in 0..run.len() {
            assert!(
                run_ops(&run[..cut]).is_err(),
                "a truncated run must not decode"
            );
        }
        assert!(run_ops(&encode_run(std::iter::empty())).unwrap().is_empty());
    }

    #[test]
    fn buckets_round_trip_and_truncation_is_caught() {
        let entries: Vec<(&str, &[u8])> =
            vec![("P-2026-B-000010", b"one"), ("P-2026-B-000011", b"")];
        let b = encode_bucket(&entries);
        assert_eq!(bucket_entries(&b).unwrap(), entries);
        for cut in 0..b.len() {
            assert!(
                bucket_entries(&b[..cut]).is_err(),
                "a truncated bucket must not decode"
            );
        }
        assert!(bucket_entries(&encode_bucket(&[])).unwrap().is_empty());
    }

    #[test]
    fn another_encoding_is_refused() {
        assert!(run_ops(b"{}").is_err());
        assert!(bucket_entries(b"{}").is_err());
        assert!(decode_op(b"{\"format\":1}").is_err());
        assert!(decode_state(b"{\"regno\":\"x\"}").is_err());
        assert!(op_hash(b"{}").is_err());
    }
}
