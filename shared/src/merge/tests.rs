use super::*;
use crate::fields::FieldChange;
use crate::op::{Hash, OP_FORMAT};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

const REC: &str = "PRISHTINE-2026-B-000001";

fn id(node: &str, seq: u64) -> OpId {
    OpId {
        municipality: "prishtine".into(),
        node_id: node.into(),
        seq,
    }
}

fn op(
    node: &str,
    seq: u64,
    wall_ms: u64,
    change: ChangeKind,
    changes: &[(&str, Value)],
    base: Vec<OpId>,
) -> Op {
    let mut changes: Vec<FieldChange> = changes
        .iter()
        .map(|(p, v)| FieldChange {
            path: p.to_string(),
            value: v.clone(),
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Op {
        format: OP_FORMAT,
        id: id(node, seq),
        hlc: Hlc {
            wall_ms,
            logical: 0,
        },
        clerk: format!("clerk-{node}"),
        record_id: REC.into(),
        record_kind: RecordKind::Birth,
        change,
        changes,
        base,
        reason: String::new(),
        prev_hash: Hash::default(),
        hash: Hash::default(),
    }
    .seal()
}

fn create() -> Op {
    op(
        "1",
        1,
        1_000,
        ChangeKind::Create,
        &[
            ("child.given_name", json!("Arben")),
            ("mother.maiden_surname", json!("Berisa")),
            ("father.given_name", json!("Agim")),
        ],
        vec![],
    )
}

#[test]
fn edits_of_different_fields_all_apply() {
    let c = create();
    let a = op(
        "1",
        2,
        2_000,
        ChangeKind::Amend,
        &[("mother.maiden_surname", json!("Berisha"))],
        vec![c.id.clone()],
    );
    let b = op(
        "2",
        1,
        2_500,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agron"))],
        vec![c.id.clone()],
    );
    let st = merge([&c, &a, &b]).unwrap();
    assert_eq!(st.fields["mother.maiden_surname"], json!("Berisha"));
    assert_eq!(st.fields["father.given_name"], json!("Agron"));
    assert!(st.conflicts.is_empty());
    assert_eq!(st.heads, vec![a.id.clone(), b.id.clone()]);
    assert_eq!(st.ops.first(), Some(&c.id));
}

#[test]
fn concurrent_writes_of_one_field_conflict_and_the_order_picks_the_same_winner() {
    let c = create();
    let a = op(
        "1",
        2,
        5_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agron"))],
        vec![c.id.clone()],
    );
    let b = op(
        "2",
        1,
        4_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agon"))],
        vec![c.id.clone()],
    );
    let one = merge([&c, &a, &b]).unwrap();
    let two = merge([&b, &a, &c, &b]).unwrap();
    assert_eq!(one, two);
    assert_eq!(
        one.fields["father.given_name"],
        json!("Agron"),
        "the later HLC wins"
    );
    assert_eq!(one.conflicts.len(), 1);
    let k = &one.conflicts[0];
    assert_eq!(k.path, "father.given_name");
    assert_eq!(
        (k.winner.value.clone(), k.loser.value.clone()),
        (json!("Agron"), json!("Agon"))
    );
    assert_eq!(k.loser.op, b.id);
    assert_eq!(k.loser.clerk, "clerk-2");
    assert!(k.resolution.is_none());
    assert_eq!(k.id, conflict_id(REC, "father.given_name", &b.id, &a.id));
}

#[test]
fn equal_hlcs_are_ordered_by_node_then_sequence() {
    let c = create();
    let a = op(
        "1",
        2,
        5_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("A"))],
        vec![c.id.clone()],
    );
    let b = op(
        "2",
        1,
        5_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("B"))],
        vec![c.id.clone()],
    );
    assert_eq!(
        merge([&a, &b, &c]).unwrap().fields["father.given_name"],
        json!("B")
    );
}

#[test]
fn same_value_written_concurrently_is_no_conflict() {
    let c = create();
    let a = op(
        "1",
        2,
        5_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agron"))],
        vec![c.id.clone()],
    );
    let b = op(
        "2",
        1,
        4_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agron"))],
        vec![c.id.clone()],
    );
    assert!(merge([&c, &a, &b]).unwrap().conflicts.is_empty());
}

#[test]
fn an_edit_that_had_seen_the_other_wins_whatever_the_clocks_say() {
    let c = create();
    // Node 2's PC is three days ahead.
    let stale = op(
        "2",
        1,
        3 * 86_400_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agim Gabim"))],
        vec![c.id.clone()],
    );
    // Node 1 pulled it, then corrected the name; its clock is right, so its HLC is lower.
    let fix = op(
        "1",
        2,
        10_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agim"))],
        vec![stale.id.clone()],
    );
    let st = merge([&fix, &stale, &c]).unwrap();
    assert_eq!(st.fields["father.given_name"], json!("Agim"));
    assert!(st.conflicts.is_empty());
    assert_eq!(st.heads, vec![fix.id.clone()]);
}

#[test]
fn a_void_against_a_concurrent_amendment_is_a_conflict_and_loses_nothing() {
    let c = create();
    let v = Op {
        reason: "registered twice".into(),
        ..op("1", 2, 3_000, ChangeKind::Void, &[], vec![c.id.clone()])
    }
    .seal();
    let a = op(
        "2",
        1,
        4_000,
        ChangeKind::Amend,
        &[("mother.maiden_surname", json!("Berisha"))],
        vec![c.id.clone()],
    );
    let st = merge([&c, &v, &a]).unwrap();
    assert_eq!(
        st.voided.as_ref().map(|v| v.reason.as_str()),
        Some("registered twice")
    );
    assert_eq!(st.fields["mother.maiden_surname"], json!("Berisha"));
    assert_eq!(st.conflicts.len(), 1);
    let k = &st.conflicts[0];
    assert_eq!(k.path, STATUS);
    assert_eq!(k.winner.op, v.id);
    assert_eq!(k.loser.value, json!({"mother.maiden_surname": "Berisha"}));

    // The operator keeps the record: a restore that had seen both.
    let keep = op(
        "hub",
        1,
        9_000,
        ChangeKind::Restore,
        &[],
        vec![v.id.clone(), a.id.clone()],
    );
    let st = merge([&c, &v, &a, &keep]).unwrap();
    assert!(st.voided.is_none());
    let r = st.conflicts[0].resolution.as_ref().expect("resolved");
    assert_eq!(
        (r.op.clone(), r.value.clone()),
        (keep.id.clone(), json!("active"))
    );
    assert_eq!(st.open_conflicts().count(), 0);
}

#[test]
fn a_later_write_that_saw_both_sides_resolves_the_conflict() {
    let c = create();
    let a = op(
        "1",
        2,
        5_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agron"))],
        vec![c.id.clone()],
    );
    let b = op(
        "2",
        1,
        4_000,
        ChangeKind::Amend,
        &[("father.given_name", json!("Agon"))],
        vec![c.id.clone()],
    );
    let r = Op {
        reason: "the register says Agon".into(),
        ..op(
            "hub",
            1,
            4_500,
            ChangeKind::Amend,
            &[("father.given_name", json!("Agon"))],
            vec![a.id.clone(), b.id.clone()],
        )
    }
    .seal();
    let st = merge([&r, &b, &a, &c]).unwrap();
    assert_eq!(
        st.fields["father.given_name"],
        json!("Agon"),
        "the decision wins though its clock is older"
    );
    let res = st.conflicts[0].resolution.as_ref().expect("resolved");
    assert_eq!(res.op, r.id);
    assert_eq!(res.reason, "the register says Agon");
}

#[test]
fn a_base_cycle_from_forged_ops_is_still_deterministic() {
    let c = create();
    let a = op(
        "1",
        2,
        5_000,
        ChangeKind::Amend,
        &[("x", json!(1))],
        vec![id("2", 1)],
    );
    let b = op(
        "2",
        1,
        4_000,
        ChangeKind::Amend,
        &[("x", json!(2))],
        vec![id("1", 2)],
    );
    assert_eq!(merge([&c, &a, &b]), merge([&b, &a, &c]));
}

#[test]
fn digests_agree_on_equal_states_and_refuse_disorder() {
    let c = create();
    let st = merge([&c]).unwrap();
    let mut other = st.clone();
    other.regno = "PRISHTINE-2026-B-000002".into();
    let mut d1 = Digest::default();
    d1.add(&st).unwrap();
    d1.add(&other).unwrap();
    let mut d2 = Digest::default();
    d2.add(&st).unwrap();
    d2.add(&other).unwrap();
    assert_eq!(d1.clone().finish(), d2.finish());
    assert_eq!(d1.clone().finish().records, 2);
    assert!(d1.add(&st).is_err());
    let mut changed = other.clone();
    changed.fields.insert("x".into(), json!(1));
    let mut d3 = Digest::default();
    d3.add(&st).unwrap();
    d3.add(&changed).unwrap();
    assert_ne!(d3.finish().sha256, d1.finish().sha256);
}

// ---- properties ---------------------------------------------------------------------------

const PATHS: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
enum Step {
    Edit {
        node: usize,
        path: usize,
        value: u8,
        void: bool,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..4usize, 0..PATHS.len(), 0..3u8, prop::bool::weighted(0.08))
            .prop_map(|(node, path, value, void)| Step::Edit { node, path, value, void }),
        3 => (0..4usize, 0..4usize).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

/// Runs a history of offline edits and partial syncs over 4 nodes with skewed clocks. Returns
/// every op with the set of ops its writer knew (the oracle's "seen").
fn run(steps: &[Step], skew: [i64; 4]) -> Vec<(Op, BTreeSet<OpId>)> {
    let c = create();
    let mut all: Vec<(Op, BTreeSet<OpId>)> = vec![(c.clone(), BTreeSet::new())];
    let mut known: Vec<BTreeSet<OpId>> = vec![BTreeSet::from([c.id.clone()]); 4];
    let mut seq = [1u64, 0, 0, 0];
    for (t, s) in steps.iter().enumerate() {
        match *s {
            Step::Edit {
                node,
                path,
                value,
                void,
            } => {
                let mine: Vec<&Op> = all
                    .iter()
                    .map(|(o, _)| o)
                    .filter(|o| known[node].contains(&o.id))
                    .collect();
                let base = merge(mine.iter().copied()).unwrap().heads;
                seq[node] += 1;
                let wall = (10_000 + t as i64 * 100 + skew[node]).max(1) as u64;
                let name = (node + 1).to_string();
                let o = if void {
                    op(&name, seq[node], wall, ChangeKind::Void, &[], base.clone())
                } else {
                    op(
                        &name,
                        seq[node],
                        wall,
                        ChangeKind::Amend,
                        &[(PATHS[path], json!(value))],
                        base,
                    )
                };
                all.push((o.clone(), known[node].clone()));
                known[node].insert(o.id);
            }
            Step::Sync { from, to } => {
                let k = known[from].clone();
                known[to].extend(k);
            }
        }
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_order_with_redeliveries_gives_the_same_state_and_conflicts(
        steps in prop::collection::vec(step(), 1..40),
        skew in prop::array::uniform4(-5_000i64..5_000),
        perm in prop::collection::vec(any::<prop::sample::Index>(), 0..80),
    ) {
        let all = run(&steps, skew);
        let ops: Vec<Op> = all.iter().map(|(o, _)| o.clone()).collect();
        let reference = merge(&ops).unwrap();
        // Another delivery order, with duplicates.
        let mut shuffled = ops.clone();
        for (i, ix) in perm.iter().enumerate() {
            let j = ix.index(shuffled.len());
            let len = shuffled.len();
            shuffled.swap(i % len, j);
            if i % 3 == 0 {
                shuffled.push(shuffled[j].clone());
            }
        }
        prop_assert_eq!(&merge(&shuffled).unwrap(), &reference);
        // Applying growing prefixes (a node receiving the ops one at a time) ends the same.
        let mut seen_so_far = Vec::new();
        let mut last = None;
        for o in &shuffled {
            seen_so_far.push(o.clone());
            last = merge(&seen_so_far);
        }
        prop_assert_eq!(last.unwrap(), reference);
    }

    #[test]
    fn the_merge_agrees_with_an_oracle_that_knows_who_saw_what(
        steps in prop::collection::vec(step(), 1..40),
        skew in prop::array::uniform4(-5_000i64..5_000),
    ) {
        let all = run(&steps, skew);
        let ops: Vec<Op> = all.iter().map(|(o, _)| o.clone()).collect();
        let st = merge(&ops).unwrap();
        let saw = |x: usize, y: usize| all[x].1.contains(&all[y].0.id);
        let conc = |x: usize, y: usize| !saw(x, y) && !saw(y, x);
        let writes_of = |p: &str| -> Vec<(usize, Value)> {
            all.iter().enumerate().flat_map(|(i, (o, _))| {
                writes(o).into_iter().filter(|(q, _)| *q == p).map(move |(_, v)| (i, v))
            }).collect()
        };
        let mut expected: BTreeSet<(String, BTreeSet<OpId>)> = BTreeSet::new();
        for p in PATHS.iter().copied().chain([STATUS]) {
            let ws = writes_of(p);
            // Every concurrent pair with different values is a conflict.
            for (x, (a, va)) in ws.iter().enumerate() {
                for (b, vb) in &ws[x + 1..] {
                    if va != vb && conc(*a, *b) {
                        expected.insert((p.to_string(), BTreeSet::from([all[*a].0.id.clone(), all[*b].0.id.clone()])));
                    }
                }
            }
            // The value: the greatest (by the total order) of the writes nobody overwrote knowingly.
            let top = ws.iter()
                .filter(|(i, _)| !ws.iter().any(|(j, _)| saw(*j, *i)))
                .max_by(|(a, _), (b, _)| order_key(&all[*a].0).cmp(&order_key(&all[*b].0)));
            if p == STATUS {
                let void = top.map(|(_, v)| v == &json!("void")).unwrap_or(false);
                prop_assert_eq!(st.voided.is_some(), void);
            } else {
                let expected_value = top.map(|(_, v)| v.clone()).unwrap_or(Value::Null);
                prop_assert_eq!(st.fields.get(p).cloned().unwrap_or(Value::Null), expected_value);
            }
        }
        for (v, (vo, _)) in all.iter().enumerate().filter(|(_, (o, _))| o.change == ChangeKind::Void) {
            for (e, (eo, _)) in all.iter().enumerate() {
                if is_edit(eo) && conc(v, e) {
                    expected.insert((STATUS.to_string(), BTreeSet::from([vo.id.clone(), eo.id.clone()])));
                }
            }
        }
        let got: BTreeSet<(String, BTreeSet<OpId>)> = st.conflicts.iter()
            .map(|k| (k.path.clone(), BTreeSet::from([k.winner.op.clone(), k.loser.op.clone()])))
            .collect();
        prop_assert_eq!(got.len(), st.conflicts.len(), "each conflict once");
        prop_assert_eq!(got, expected);
    }
}
