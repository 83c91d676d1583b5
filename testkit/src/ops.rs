//! Op builders shared by the tests and the benchmarks: sealed ops of a node's chain, the
//! registration numbers nodes mint, and valid birth records.

use civreg_shared::fields::FieldChange;
use civreg_shared::ids::RegNo;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};

/// Year used in the registration numbers of hand-built ops.
pub const YEAR: i32 = 2026;

/// A sealed op of node `m/n` by clerk `ana`.
#[allow(clippy::too_many_arguments)]
pub fn op(
    m: &str,
    n: &str,
    seq: u64,
    prev: Hash,
    record: &str,
    kind: RecordKind,
    change: ChangeKind,
    changes: &[(&str, serde_json::Value)],
) -> Op {
    op_by("ana", m, n, seq, prev, record, kind, change, changes)
}

/// A sealed op of node `m/n` by `clerk`: no base, no reason, its clock at a fixed instant plus
/// `seq` ms, its field changes sorted by path (as a node writes them).
#[allow(clippy::too_many_arguments)]
pub fn op_by(
    clerk: &str,
    m: &str,
    n: &str,
    seq: u64,
    prev: Hash,
    record: &str,
    kind: RecordKind,
    change: ChangeKind,
    changes: &[(&str, serde_json::Value)],
) -> Op {
    let mut changes: Vec<FieldChange> = changes
        .iter()
        .map(|(p, v)| FieldChange {
            path: (*p).to_string(),
            value: v.clone(),
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Op {
        format: OP_FORMAT,
        id: OpId {
            municipality: m.into(),
            node_id: n.into(),
            seq,
        },
        hlc: Hlc {
            wall_ms: 1_790_000_000_000 + seq,
            logical: 0,
        },
        clerk: clerk.into(),
        record_id: record.into(),
        record_kind: kind,
        change,
        changes,
        base: vec![],
        reason: String::new(),
        prev_hash: prev,
        hash: Hash::default(),
    }
    .seal()
}

/// The registration number node `m/n` mints for its `seq`-th record of `kind`.
pub fn regno(m: &str, n: &str, kind: RecordKind, seq: u64) -> String {
    RegNo::mint(m, YEAR, kind, n, seq).to_string()
}

/// Op `seq` of node `m/n`: creates that node's `seq`-th birth record.
pub fn create_birth(m: &str, n: &str, seq: u64, prev: Hash) -> Op {
    op(
        m,
        n,
        seq,
        prev,
        &regno(m, n, RecordKind::Birth, seq),
        RecordKind::Birth,
        ChangeKind::Create,
        &birth_fields(m, &child_name(seq)),
    )
}

/// The child's given name of [`create_birth`]'s `seq`-th record: "Child" and the digits of
/// `seq` written as letters (1 → "Childb"), since names have no digits.
pub fn child_name(seq: u64) -> String {
    let letters: String = seq
        .to_string()
        .bytes()
        .map(|d| char::from(b'a' + (d - b'0')))
        .collect();
    format!("Child{letters}")
}

/// The fields of a valid birth record of municipality `m` whose child is `given`.
pub fn birth_fields(m: &str, given: &str) -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("child.date_of_birth", "2020-01-01".into()),
        ("child.given_name", given.into()),
        ("child.sex", "male".into()),
        ("child.surname", "Krasniqi".into()),
        ("mother.given_name", "Drita".into()),
        ("mother.surname", "Krasniqi".into()),
        ("municipality", m.into()),
        ("place_of_birth", "Prishtinë".into()),
    ]
}

/// `count` chained ops of node `m/n` from #1, each creating a birth record.
pub fn chain(m: &str, n: &str, count: u64) -> Vec<Op> {
    let mut prev = GENESIS;
    (1..=count)
        .map(|seq| {
            let o = create_birth(m, n, seq, prev);
            prev = o.hash;
            o
        })
        .collect()
}

/// A complete birth record (op `seq` of node `m/n`): the child `given surname`, born on `dob`.
#[allow(clippy::too_many_arguments)]
pub fn full_birth(
    m: &str,
    n: &str,
    seq: u64,
    prev: Hash,
    given: &str,
    surname: &str,
    dob: &str,
    notes: Option<&str>,
) -> Op {
    let mut fields = vec![
        ("municipality", serde_json::json!(m)),
        ("child.given_name", serde_json::json!(given)),
        ("child.surname", serde_json::json!(surname)),
        ("child.sex", serde_json::json!("male")),
        ("child.date_of_birth", serde_json::json!(dob)),
        ("place_of_birth", serde_json::json!("Prizren")),
        ("mother.given_name", serde_json::json!("Drita")),
        ("mother.surname", serde_json::json!(surname)),
    ];
    if let Some(n) = notes {
        fields.push(("notes", serde_json::json!(n)));
    }
    op(
        m,
        n,
        seq,
        prev,
        &regno(m, n, RecordKind::Birth, seq),
        RecordKind::Birth,
        ChangeKind::Create,
        &fields,
    )
}
