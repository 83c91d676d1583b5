//! The op log: every change to a record is an op, appended to its node's hash-chained log.
//!
//! # Canonical encoding, format 1
//! An op's hash is SHA-256 over its canonical encoding, which is independent of JSON, protobuf or
//! sled layout, so an op keeps its identity across every transport and store. All integers are
//! big-endian; `str` is a u32 byte length followed by UTF-8 bytes.
//!
//! ```text
//! b"civreg.op"                      magic, 9 bytes
//! u32 format                        = 1
//! str municipality, str node_id, u64 seq          the op id
//! u64 hlc.wall_ms, u32 hlc.logical                hybrid logical clock
//! str clerk, str record_id
//! u8 record_kind (1 birth, 2 marriage, 3 death)
//! u8 change (1 create, 2 amend, 3 annotate, 4 void)
//! u32 n, then n × (str path, str value)           value = canonical JSON text of a scalar
//! u32 n, then n × (str municipality, str node_id, u64 seq)   base: ops of the record seen
//! str reason
//! 32 bytes prev_hash                              all zero for a node's first op
//! ```
//! Test vectors live in `shared/testdata/op-hash-v1.json` and are checked by this module's tests.

use crate::fields::FieldChange;
use crate::model::RecordKind;
use ring::digest;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The canonical encoding version this code writes and reads.
pub const OP_FORMAT: u32 = 1;

/// The record format this build reads: the fields an op's changes may name. A reader of format
/// N reads every field of formats 1 to N; a field added later makes a record an older node can
/// not decode (its model refuses unknown fields), so the hub holds such ops back from it
/// ([`Op::reader_format`], `PullRequest.reads_format`) until the office is upgraded.
///
/// - 1: the fields of the first release (an older node sends no `reads_format`: 0, read as 1).
/// - 2: `given_name_illegible` on a person or a spouse (issue 16: central import of historic
///   pages whose given name can not be read).
pub const READS_FORMAT: u32 = 2;

/// Fields by the record format that introduced them (the last segment of a change's path).
const FIELDS_SINCE: &[(&str, u32)] = &[("given_name_illegible", 2)];

/// The `prev_hash` of a node's first op.
pub const GENESIS: Hash = Hash([0; 32]);

/// A SHA-256 digest, shown and serialised as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl Hash {
    pub fn from_hex(s: &str) -> Option<Hash> {
        let v = hex::decode(s).ok()?;
        Some(Hash(v.try_into().ok()?))
    }

    pub fn from_slice(b: &[u8]) -> Option<Hash> {
        Some(Hash(b.try_into().ok()?))
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// Hybrid logical clock timestamp. Ordered by wall time, then logical counter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Hlc {
    pub wall_ms: u64,
    pub logical: u32,
}

impl Hlc {
    /// The next timestamp for a local event, given the last one issued and the wall clock.
    /// Never goes backwards, even when the wall clock does.
    pub fn tick(last: Hlc, now_ms: u64) -> Hlc {
        if now_ms > last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                logical: 0,
            }
        } else {
            Hlc {
                wall_ms: last.wall_ms,
                logical: last.logical.saturating_add(1),
            }
        }
    }
}

/// How far ahead of the local wall clock a remote timestamp may move a clock: five minutes. A
/// node whose PC runs days ahead can not drag everyone's clock into the future; its timestamps
/// are reported instead (see [`Hlc::receive`]).
pub const MAX_CLOCK_AHEAD_MS: u64 = 5 * 60 * 1000;

impl Hlc {
    /// The clock after seeing a remote timestamp. A remote clock more than
    /// [`MAX_CLOCK_AHEAD_MS`] ahead of `now_ms` is not followed: the clock stays where it was and
    /// the answer says how far ahead the remote one was, so that it can be reported.
    pub fn receive(last: Hlc, remote: Hlc, now_ms: u64) -> (Hlc, Option<u64>) {
        let ahead = remote.wall_ms.saturating_sub(now_ms);
        if ahead > MAX_CLOCK_AHEAD_MS {
            (last, Some(ahead))
        } else {
            (last.max(remote), None)
        }
    }
}

/// The id of an op: its node and the node's sequence number (from 1, without gaps).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId {
    pub municipality: String,
    pub node_id: String,
    pub seq: u64,
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}#{}", self.municipality, self.node_id, self.seq)
    }
}

/// What an op does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Create,
    Amend,
    Annotate,
    Void,
    /// An operator keeps a record that a concurrent void would have voided.
    Restore,
    /// The hub attaches people named in the record to person identifiers: changes of
    /// `$person.ROLE` (see [`crate::merge::PERSON`]) to a [`crate::ids::PersonId`].
    Link,
}

impl ChangeKind {
    /// The byte that stands for this kind in an op's canonical encoding (so in its hash); the
    /// hub's store encodes ops with the same codes.
    pub fn code(self) -> u8 {
        match self {
            ChangeKind::Create => 1,
            ChangeKind::Amend => 2,
            ChangeKind::Annotate => 3,
            ChangeKind::Void => 4,
            ChangeKind::Restore => 5,
            ChangeKind::Link => 6,
        }
    }

    /// The kind a [`ChangeKind::code`] stands for.
    pub fn from_code(c: u8) -> Option<ChangeKind> {
        Some(match c {
            1 => ChangeKind::Create,
            2 => ChangeKind::Amend,
            3 => ChangeKind::Annotate,
            4 => ChangeKind::Void,
            5 => ChangeKind::Restore,
            6 => ChangeKind::Link,
            _ => return None,
        })
    }
}

/// The byte that stands for a record kind in an op's canonical encoding (so in its hash); the
/// hub's store encodes ops and record states with the same codes.
pub fn kind_code(k: RecordKind) -> u8 {
    match k {
        RecordKind::Birth => 1,
        RecordKind::Marriage => 2,
        RecordKind::Death => 3,
    }
}

/// The record kind a [`kind_code`] stands for.
pub fn kind_of_code(c: u8) -> Option<RecordKind> {
    Some(match c {
        1 => RecordKind::Birth,
        2 => RecordKind::Marriage,
        3 => RecordKind::Death,
        _ => return None,
    })
}

/// One entry of a node's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub format: u32,
    pub id: OpId,
    pub hlc: Hlc,
    /// The clerk (or, at the hub, the operator) who made the change.
    pub clerk: String,
    /// The registration number of the record changed.
    pub record_id: String,
    pub record_kind: RecordKind,
    pub change: ChangeKind,
    /// Changed fields, sorted by path, each path once.
    pub changes: Vec<FieldChange>,
    /// The record's ops that the writer had seen: the version the change was based on.
    pub base: Vec<OpId>,
    /// Why: required for a void, optional otherwise.
    pub reason: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// Why an op is not well formed, independent of its place in a chain.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OpError {
    #[error("op format {0} is not supported (this build reads format {OP_FORMAT})")]
    Format(u32),
    #[error("op hash does not match its content: stored {stored}, computed {computed}")]
    HashMismatch { stored: Hash, computed: Hash },
    #[error("op changes are not sorted by path or name a path twice ({0:?})")]
    Changes(String),
    #[error("op value at {0:?} is not a single value (string, number, true/false or null)")]
    Value(String),
    #[error("op sequence number 0 is not allowed: sequences start at 1")]
    SeqZero,
    #[error("op change at {0:?}: a link writes only $person.ROLE with a person identifier, and no other op writes a $ path")]
    Link(String),
}

struct Enc(Vec<u8>);

impl Enc {
    fn str(&mut self, s: &str) {
        self.0.extend_from_slice(&(s.len() as u32).to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
}

/// The canonical JSON text of a scalar value, as hashed.
pub fn canonical_value(v: &serde_json::Value) -> String {
    v.to_string()
}

impl Op {
    /// The record format a node must read to apply this op ([`READS_FORMAT`]): the highest
    /// format of a field its changes name, 1 when they name only the first release's fields.
    pub fn reader_format(&self) -> u32 {
        self.changes
            .iter()
            .filter_map(|c| {
                let last = c.path.rsplit('.').next().unwrap_or(&c.path);
                FIELDS_SINCE
                    .iter()
                    .find(|(f, _)| *f == last)
                    .map(|(_, v)| *v)
            })
            .max()
            .unwrap_or(1)
    }

    /// The canonical encoding of everything but `hash` (see the module docs).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(256));
        e.0.extend_from_slice(b"civreg.op");
        e.u32(self.format);
        e.str(&self.id.municipality);
        e.str(&self.id.node_id);
        e.u64(self.id.seq);
        e.u64(self.hlc.wall_ms);
        e.u32(self.hlc.logical);
        e.str(&self.clerk);
        e.str(&self.record_id);
        e.u8(kind_code(self.record_kind));
        e.u8(self.change.code());
        e.u32(self.changes.len() as u32);
        for c in &self.changes {
            e.str(&c.path);
            e.str(&canonical_value(&c.value));
        }
        e.u32(self.base.len() as u32);
        for b in &self.base {
            e.str(&b.municipality);
            e.str(&b.node_id);
            e.u64(b.seq);
        }
        e.str(&self.reason);
        e.0.extend_from_slice(&self.prev_hash.0);
        e.0
    }

    pub fn compute_hash(&self) -> Hash {
        let d = digest::digest(&digest::SHA256, &self.canonical_bytes());
        let mut h = [0u8; 32];
        h.copy_from_slice(d.as_ref());
        Hash(h)
    }

    /// Sets `hash` from the content.
    pub fn seal(mut self) -> Op {
        self.hash = self.compute_hash();
        self
    }

    /// Checks the op on its own: format, well-formed changes, and that its hash matches.
    pub fn check(&self) -> Result<(), OpError> {
        if self.format != OP_FORMAT {
            return Err(OpError::Format(self.format));
        }
        if self.id.seq == 0 {
            return Err(OpError::SeqZero);
        }
        for w in self.changes.windows(2) {
            if w[0].path >= w[1].path {
                return Err(OpError::Changes(w[1].path.clone()));
            }
        }
        for c in &self.changes {
            if c.value.is_object() || c.value.is_array() {
                return Err(OpError::Value(c.path.clone()));
            }
            let link_change = c
                .path
                .strip_prefix(crate::merge::PERSON)
                .is_some_and(|role| {
                    !role.is_empty()
                        && c.value
                            .as_str()
                            .is_some_and(|v| crate::ids::PersonId::parse(v).is_ok())
                });
            let ok = if self.change == ChangeKind::Link {
                link_change
            } else {
                !c.path.starts_with('$')
            };
            if !ok {
                return Err(OpError::Link(c.path.clone()));
            }
        }
        if self.change == ChangeKind::Link && self.changes.is_empty() {
            return Err(OpError::Link(String::new()));
        }
        let computed = self.compute_hash();
        if computed != self.hash {
            return Err(OpError::HashMismatch {
                stored: self.hash,
                computed,
            });
        }
        Ok(())
    }
}

/// Where and why a node's chain is broken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("op #{seq}: {source}")]
    BadOp {
        seq: u64,
        #[source]
        source: OpError,
    },
    #[error("op #{expected} is missing: the log goes from #{} to #{found}", expected - 1)]
    Gap { expected: u64, found: u64 },
    #[error("op #{found} is out of order: expected #{expected} at this position")]
    OutOfOrder { expected: u64, found: u64 },
    #[error("op #{seq} does not follow op #{}: its prev_hash {found} is not that op's hash {expected}", seq - 1)]
    Broken {
        seq: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("op #{seq} belongs to node {found}, not to this log's node {expected}")]
    WrongNode {
        seq: u64,
        expected: String,
        found: String,
    },
}

impl ChainError {
    /// The sequence number of the first bad op.
    pub fn seq(&self) -> u64 {
        match self {
            ChainError::BadOp { seq, .. }
            | ChainError::Broken { seq, .. }
            | ChainError::WrongNode { seq, .. } => *seq,
            ChainError::Gap { expected, .. } | ChainError::OutOfOrder { expected, .. } => *expected,
        }
    }
}

/// Incremental checker of one node's chain, fed ops in log order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    node: Option<(String, String)>,
    next_seq: u64,
    prev: Hash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            node: None,
            next_seq: 1,
            prev: GENESIS,
        }
    }
}

impl ChainVerifier {
    /// Continues a chain whose last verified op is `(seq, hash)`.
    pub fn resume(municipality: &str, node_id: &str, seq: u64, hash: Hash) -> Self {
        ChainVerifier {
            node: Some((municipality.to_string(), node_id.to_string())),
            next_seq: seq + 1,
            prev: hash,
        }
    }

    /// How many ops have been verified (the last good sequence number).
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }

    pub fn last_hash(&self) -> Hash {
        self.prev
    }

    /// Checks the next op of the chain.
    pub fn push(&mut self, op: &Op) -> Result<(), ChainError> {
        self.push_checked(op, op.check())
    }

    /// [`push`](Self::push), with the op's own check ([`Op::check`]: its shape and its hash)
    /// already done, elsewhere (the hub checks each op as its batch arrives, on the async workers,
    /// and links the chain on its one committer thread). `checked` must be that op's `check()`.
    pub fn push_checked(
        &mut self,
        op: &Op,
        checked: Result<(), OpError>,
    ) -> Result<(), ChainError> {
        let expected = self.next_seq;
        if op.id.seq > expected {
            return Err(ChainError::Gap {
                expected,
                found: op.id.seq,
            });
        }
        if op.id.seq < expected {
            return Err(ChainError::OutOfOrder {
                expected,
                found: op.id.seq,
            });
        }
        match &self.node {
            Some((m, n)) if *m != op.id.municipality || *n != op.id.node_id => {
                return Err(ChainError::WrongNode {
                    seq: op.id.seq,
                    expected: format!("{m}/{n}"),
                    found: format!("{}/{}", op.id.municipality, op.id.node_id),
                })
            }
            _ => {}
        }
        checked.map_err(|source| ChainError::BadOp {
            seq: op.id.seq,
            source,
        })?;
        if op.prev_hash != self.prev {
            return Err(ChainError::Broken {
                seq: op.id.seq,
                expected: self.prev,
                found: op.prev_hash,
            });
        }
        self.node
            .get_or_insert_with(|| (op.id.municipality.clone(), op.id.node_id.clone()));
        self.prev = op.hash;
        self.next_seq += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_and_change_codes_read_back() {
        for k in [RecordKind::Birth, RecordKind::Marriage, RecordKind::Death] {
            assert_eq!(kind_of_code(kind_code(k)), Some(k));
        }
        for c in [
            ChangeKind::Create,
            ChangeKind::Amend,
            ChangeKind::Annotate,
            ChangeKind::Void,
            ChangeKind::Restore,
            ChangeKind::Link,
        ] {
            assert_eq!(ChangeKind::from_code(c.code()), Some(c));
        }
        assert_eq!(kind_of_code(0), None);
        assert_eq!(ChangeKind::from_code(7), None);
    }

    #[test]
    fn a_clock_follows_remote_time_only_within_the_bound() {
        let now = 1_000_000_000;
        let last = Hlc {
            wall_ms: now,
            logical: 3,
        };
        let near = Hlc {
            wall_ms: now + 60_000,
            logical: 0,
        };
        assert_eq!(Hlc::receive(last, near, now), (near, None));
        let days = Hlc {
            wall_ms: now + 3 * 86_400_000,
            logical: 0,
        };
        assert_eq!(Hlc::receive(last, days, now), (last, Some(3 * 86_400_000)));
        let behind = Hlc {
            wall_ms: now - 10,
            logical: 9,
        };
        assert_eq!(Hlc::receive(last, behind, now), (last, None));
    }

    fn op(seq: u64, prev: Hash) -> Op {
        Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: "prishtine".into(),
                node_id: "1".into(),
                seq,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + seq,
                logical: 0,
            },
            clerk: "drita".into(),
            record_id: format!("PRISHTINE-2026-B-{seq:06}"),
            record_kind: RecordKind::Birth,
            change: ChangeKind::Create,
            changes: vec![
                FieldChange {
                    path: "child.given_name".into(),
                    value: json!("Arbën"),
                },
                FieldChange {
                    path: "child.surname".into(),
                    value: json!("Гаши"),
                },
            ],
            base: vec![],
            reason: String::new(),
            prev_hash: prev,
            hash: Hash::default(),
        }
        .seal()
    }

    #[test]
    fn an_op_naming_a_later_field_needs_a_later_reader() {
        let first = op(1, GENESIS);
        assert_eq!(first.reader_format(), 1);
        let mut marked = op(2, first.hash);
        marked.changes.push(FieldChange {
            path: "spouse1.given_name_illegible".into(),
            value: json!(true),
        });
        assert_eq!(marked.reader_format(), 2);
        assert!(marked.reader_format() <= READS_FORMAT);
        // A path that only ends in the same letters is not the field.
        let mut other = op(3, marked.hash);
        other.changes[0].path = "child.not_given_name_illegible".into();
        assert_eq!(other.reader_format(), 1);
    }

    fn chain(n: u64) -> Vec<Op> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|s| {
                let o = op(s, prev);
                prev = o.hash;
                o
            })
            .collect()
    }

    fn verify(ops: &[Op]) -> Result<(), ChainError> {
        let mut v = ChainVerifier::default();
        ops.iter().try_for_each(|o| v.push(o))
    }

    #[test]
    fn a_good_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(()));
    }

    #[test]
    fn a_changed_field_is_found_at_its_op() {
        let mut c = chain(5);
        c[2].changes[0].value = json!("Arben");
        let e = verify(&c).unwrap_err();
        assert_eq!(e.seq(), 3);
        assert!(matches!(e, ChainError::BadOp { .. }), "{e}");
    }

    #[test]
    fn a_deleted_op_is_a_gap() {
        let mut c = chain(5);
        c.remove(3);
        let e = verify(&c).unwrap_err();
        assert_eq!(
            e,
            ChainError::Gap {
                expected: 4,
                found: 5
            }
        );
    }

    #[test]
    fn a_reordered_op_is_found() {
        let mut c = chain(5);
        c.swap(1, 2);
        let e = verify(&c).unwrap_err();
        assert_eq!(e.seq(), 2);
    }

    #[test]
    fn a_resealed_forgery_breaks_the_link() {
        // An attacker who rewrites op 3 and recomputes its hash still breaks op 4's prev_hash.
        let mut c = chain(5);
        c[2].changes[0].value = json!("Forged");
        c[2] = c[2].clone().seal();
        let e = verify(&c).unwrap_err();
        assert!(matches!(e, ChainError::Broken { seq: 4, .. }), "{e}");
    }

    #[test]
    fn hlc_never_goes_back() {
        let a = Hlc::tick(Hlc::default(), 100);
        let b = Hlc::tick(a, 50);
        let c = Hlc::tick(b, 100);
        let d = Hlc::tick(c, 101);
        assert!(a < b && b < c && c < d);
        assert_eq!(
            d,
            Hlc {
                wall_ms: 101,
                logical: 0
            }
        );
    }

    #[derive(Serialize, Deserialize)]
    struct Vector {
        description: String,
        op: Op,
        canonical_hex: String,
    }

    /// The committed test vectors pin the canonical encoding. Regenerate (only when deliberately
    /// changing the format, with a new format number) with `CIVREG_WRITE_VECTORS=1`.
    #[test]
    fn hash_test_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/op-hash-v1.json");
        let mut amend = op(2, chain(1)[0].hash);
        amend.change = ChangeKind::Amend;
        amend.record_id = "PRISHTINE-2026-B-000001".into();
        amend.changes = vec![
            FieldChange {
                path: "mother.maiden_surname".into(),
                value: json!("Đorđević"),
            },
            FieldChange {
                path: "register.page".into(),
                value: json!(40),
            },
        ];
        amend.base = vec![OpId {
            municipality: "prishtine".into(),
            node_id: "1".into(),
            seq: 1,
        }];
        let amend = amend.seal();
        let mut void = op(3, amend.hash);
        void.change = ChangeKind::Void;
        void.changes = vec![];
        void.reason = "registered twice".into();
        let void = void.seal();
        let made = vec![
            Vector {
                description: "first op of a node: create, genesis prev_hash".into(),
                op: chain(1)[0].clone(),
                canonical_hex: String::new(),
            },
            Vector {
                description: "amend with a number value and a base".into(),
                op: amend,
                canonical_hex: String::new(),
            },
            Vector {
                description: "void with a reason and no changes".into(),
                op: void,
                canonical_hex: String::new(),
            },
        ];
        let made: Vec<Vector> = made
            .into_iter()
            .map(|mut v| {
                v.canonical_hex = hex::encode(v.op.canonical_bytes());
                v
            })
            .collect();
        if std::env::var_os("CIVREG_WRITE_VECTORS").is_some() {
            std::fs::write(path, serde_json::to_string_pretty(&made).unwrap() + "\n").unwrap();
        }
        let stored: Vec<Vector> =
            serde_json::from_str(&std::fs::read_to_string(path).expect("test vectors file"))
                .expect("test vectors parse");
        assert_eq!(stored.len(), made.len());
        for (s, m) in stored.iter().zip(&made) {
            assert_eq!(
                hex::encode(s.op.canonical_bytes()),
                s.canonical_hex,
                "{}",
                s.description
            );
            assert_eq!(s.op.compute_hash(), s.op.hash, "{}", s.description);
            assert_eq!(
                s.op, m.op,
                "{}: vector no longer produced by this code",
                s.description
            );
        }
    }
}
