//! Merge benchmark: how fast the shared merge runs, and what a municipality's digest costs.
//!
//! Data (fixed seed, so runs compare): records of one municipality, each a birth create (13
//! fields) followed by 0–6 amendments of one or two fields from three nodes; about one amendment
//! in four is made offline, based on an older version, so it is concurrent with others (the
//! report says how many records end with a conflict).
//!
//! - merge, whole record: the shared `merge` over each record's full op set (what a node does
//!   when it re-merges a record after pulling).
//! - merge, as ingest does it: the record re-merged after each of its ops arrives, one at a
//!   time (the hub's worst case: every op of a record in its own push).
//! - digest: `civreg-hub digest` over 200,000 records in a real hub store on disk (the records
//!   made by ingesting their creates), and the digest alone over states in memory.
//!
//! ```text
//! cargo bench -p civreg-hub --bench merge_bench                # full sizes
//! cargo bench -p civreg-hub --bench merge_bench -- --write     # also update BENCHMARKS.md
//! cargo bench -p civreg-hub --bench merge_bench -- --quick     # small sizes (what `cargo test` runs)
//! ```

#[path = "support/mod.rs"]
mod support;

use civreg_hub::pki::PeerIdentity;
use civreg_hub::review;
use civreg_hub::store::HubStore;
use civreg_shared::fields::FieldChange;
use civreg_shared::merge::{merge, Digest};
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hlc, Op, OpId, GENESIS};
use civreg_testkit::ops::{op_by, regno};
use std::time::Instant;

use civreg_shared::synth::Rng;

const NAMES: [&str; 6] = ["Arben", "Agron", "Besnik", "Ђорђе", "Drita", "Vjosa"];
const PATHS: [&str; 4] = [
    "child.given_name",
    "father.given_name",
    "mother.maiden_surname",
    "place_of_birth",
];

fn fc(path: &str, v: &str) -> FieldChange {
    FieldChange {
        path: path.into(),
        value: v.into(),
    }
}

fn create(m: &str, seq: u64) -> Op {
    let s = serde_json::Value::from;
    op_by(
        "bench",
        m,
        "1",
        seq,
        GENESIS,
        &regno(m, "1", RecordKind::Birth, seq),
        RecordKind::Birth,
        ChangeKind::Create,
        &[
            ("child.date_of_birth", s("1968-03-14")),
            ("child.given_name", s(NAMES[seq as usize % NAMES.len()])),
            ("child.sex", s("male")),
            ("child.surname", s("Gashi")),
            ("father.given_name", s("Agim")),
            ("father.surname", s("Gashi")),
            ("mother.given_name", s("Drita")),
            ("mother.maiden_surname", s("Berisha")),
            ("mother.surname", s("Gashi")),
            ("municipality", s(m)),
            ("place_of_birth", s("Prishtinë")),
            ("register.book", s("12")),
            ("register.page", s("34")),
        ],
    )
}

/// One record's ops: a create, then amendments from three nodes.
fn record_ops(rng: &mut Rng, m: &str, i: u64) -> Vec<Op> {
    let c = create(m, i);
    let mut ops = vec![c.clone()];
    let mut heads = vec![c.id.clone()];
    for k in 0..rng.below(7) {
        let node = ["1", "2", "3"][rng.below(3) as usize];
        // One in four is made offline on the record as it was created: concurrent.
        let base = if rng.below(4) == 0 {
            vec![c.id.clone()]
        } else {
            heads.clone()
        };
        let mut changes = vec![fc(
            PATHS[rng.below(PATHS.len() as u64) as usize],
            NAMES[rng.below(NAMES.len() as u64) as usize],
        )];
        if rng.below(3) == 0 {
            changes.push(fc("register.page", "35"));
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes.dedup_by(|a, b| a.path == b.path);
        let op = Op {
            id: OpId {
                municipality: m.into(),
                node_id: node.into(),
                seq: i * 100 + k + 1,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + i + k * 1000 + rng.below(5000),
                logical: 0,
            },
            change: ChangeKind::Amend,
            changes,
            base: base.clone(),
            ..c.clone()
        }
        .seal();
        heads.retain(|h| !base.contains(h));
        heads.push(op.id.clone());
        ops.push(op);
    }
    ops
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let write = args.iter().any(|a| a == "--write");
    let (records, digest_records) = if quick {
        (5_000u64, 5_000u64)
    } else {
        (100_000, 200_000)
    };
    let mut rng = Rng::new(0x5eed);
    let data: Vec<Vec<Op>> = (1..=records)
        .map(|i| record_ops(&mut rng, "prishtine", i))
        .collect();
    let total_ops: usize = data.iter().map(Vec::len).sum();

    let t = Instant::now();
    let mut conflicted = 0usize;
    for ops in &data {
        let st = merge(ops).expect("state");
        conflicted += usize::from(!st.conflicts.is_empty());
    }
    let whole = total_ops as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    for ops in &data {
        for k in 1..=ops.len() {
            std::hint::black_box(merge(&ops[..k]));
        }
    }
    let incremental = total_ops as f64 / t.elapsed().as_secs_f64();

    // The digest over a real hub store.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .expect("store");
    let who = PeerIdentity::Node {
        municipality: "prishtine".into(),
        node_id: "1".into(),
    };
    let mut prev = GENESIS;
    let creates: Vec<Op> = (1..=digest_records)
        .map(|i| {
            let op = Op {
                prev_hash: prev,
                ..create("prishtine", i)
            }
            .seal();
            prev = op.hash;
            op
        })
        .collect();
    let t = Instant::now();
    for chunk in creates.chunks(1000) {
        let r = store
            .ingest(vec![(who.clone(), chunk.to_vec())])
            .expect("ingest");
        assert!(r[0].is_ok(), "{:?}", r[0]);
    }
    let ingest_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let d = review::digest(&store, "prishtine").expect("digest");
    let digest_s = t.elapsed().as_secs_f64();
    assert_eq!(d.records, digest_records);
    let states: Vec<_> = creates.iter().map(|o| merge([o]).expect("state")).collect();
    let t = Instant::now();
    let mut dg = Digest::default();
    for st in &states {
        dg.add(st).expect("in order");
    }
    let d2 = dg.finish();
    let digest_mem_s = t.elapsed().as_secs_f64();
    assert_eq!(d2, d, "the store's digest is the digest of the states");

    let (date, commit) = support::measured();
    let section = format!(
        "## Merge and digests\n\n\
Measured {date} at commit `{commit}`{quick_note}, `cargo bench -p civreg-hub --bench merge_bench`, one thread. \
Data: {records} records of one municipality, {total_ops} ops (a 13-field create and 0–6 amendments each, from three \
nodes, one amendment in four concurrent); {conflicted} records carry a conflict.\n\n\
| figure | value |\n|---|---|\n\
| merge, each record's whole op set | {whole:.0} ops/s |\n\
| merge as ingest does it (re-merge after every op) | {incremental:.0} ops/s |\n\
| hub ingest of {digest_records} creates, for comparison (sled, flush per 1,000) | {ingest_rate:.0} ops/s |\n\
| `digest` of {digest_records} records from the hub store on disk | {digest_s:.2} s |\n\
| digest alone, same records in memory | {digest_mem_s:.2} s |\n",
        quick_note = if quick { " (quick sizes)" } else { "" },
        ingest_rate = digest_records as f64 / ingest_s,
    );
    println!("{section}");
    if write {
        support::write_section("merge-bench", &section);
    }
}
