//! Central import, person identifiers and the duplicates queue, through the real binary:
//! - `civreg-hub import` loads a synthetic register, then a file of corrupted copies of some of
//!   its records (typos, transliteration, swapped dates, ...): each copy is linked to the record
//!   it copies, as a match or as a case for review; a malformed row is reported and the others
//!   still load; a rerun imports nothing;
//! - an operator links a case and unlinks it again; `person` and `access-log --person` follow;
//! - links are ops in the hub's log, in the owning municipality's feed, so they sync.

use civreg_testkit::prelude as common;

use civreg_hub::store::HubStore;
use civreg_shared::op::ChangeKind;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// CSV rows of `civreg-hub synth`, their truth lines, split into originals and copies.
struct Synth {
    header: String,
    rows: Vec<String>,
    truth: Vec<Value>,
}

fn synth(dir: &Path, records: u64, seed: u64) -> Synth {
    let out = dir.join("synth");
    let o = common::hub_run(
        &dir.join("scratch"),
        &[
            "synth",
            "--records",
            &records.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("records.csv")).unwrap();
    // One record per line: the generator quotes no newlines.
    let mut lines = csv.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<String> = lines.map(|l| blank_municipality(&header, l)).collect();
    let truth: Vec<Value> = std::fs::read_to_string(out.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), truth.len());
    Synth {
        header,
        rows,
        truth,
    }
}

/// The import says which municipality: the generated one is left out.
fn blank_municipality(header: &str, line: &str) -> String {
    let col = header.split(',').position(|h| h == "municipality").unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let rec = rdr.records().next().unwrap().unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    let cells: Vec<&str> = rec
        .iter()
        .enumerate()
        .map(|(i, c)| if i == col { "" } else { c })
        .collect();
    w.write_record(&cells).unwrap();
    String::from_utf8(w.into_inner().unwrap())
        .unwrap()
        .trim_end()
        .to_string()
}

fn write_csv(path: &Path, header: &str, rows: &[String]) {
    let mut s = format!("{header}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn import_links_copies_to_the_register_and_operators_link_and_unlink() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    // A new hub's key file, as `pki init` or `keygen` makes it: the commands below open the store.
    common::make_hub_key(&dir);
    let s = synth(tmp.path(), 2_000, 5);

    // The register: every record that is not a planted copy. The copies: the other file.
    let mut originals = Vec::new();
    let mut original_line: HashMap<String, u64> = HashMap::new();
    let mut copies = Vec::new();
    for (row, t) in s.rows.iter().zip(&s.truth) {
        match t["duplicate_of"].as_str() {
            Some(_) => copies.push(row.clone()),
            None => {
                original_line.insert(
                    t["id"].as_str().unwrap().to_string(),
                    originals.len() as u64 + 2,
                );
                originals.push(row.clone());
            }
        }
    }
    assert!(
        copies.len() > 50,
        "the generator planted {} copies",
        copies.len()
    );
    let a = tmp.path().join("register.csv");
    write_csv(&a, &s.header, &originals);
    let r1 = common::hub_ok_json(
        &dir,
        &[
            "import",
            a.to_str().unwrap(),
            "--municipality",
            "Istok",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(r1["municipality"], "istog");
    assert_eq!(r1["imported"].as_array().unwrap().len(), originals.len());
    assert_eq!(r1["matched"], 0, "an empty register matches nobody");
    let regno_at: HashMap<u64, String> = r1["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["line"].as_u64().unwrap(),
                i["regno"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(regno_at
        .values()
        .all(|r| r.starts_with("ISTOG-") && r.contains("-HUB-")));

    // Issue 16: an open case between an original child and the record a copy of it will be
    // imported as (the hub mints `PRIZREN-YEAR-B-HUB-k` for the k-th birth of the file). When
    // the import links the two as one person, the case is moot and closes with the import, as
    // it would with an operator's link.
    let year = civreg_shared::ids::RegNo::parse(regno_at.values().next().unwrap())
        .unwrap()
        .year;
    let mut prefiled = Vec::new();
    {
        let store =
            HubStore::open(&civreg_hub::paths::db_dir(&dir), common::hub_keys(&dir)).unwrap();
        let mut k = 0;
        for (row, t) in s.rows.iter().zip(&s.truth) {
            let Some(of) = t["duplicate_of"].as_str() else {
                continue;
            };
            if !row.starts_with("birth,") {
                continue;
            }
            k += 1;
            let original = format!("{}/child", regno_at[&original_line[of]]);
            let copy = format!(
                "{}/child",
                civreg_shared::ids::RegNo::mint(
                    "prizren",
                    year,
                    civreg_shared::model::RecordKind::Birth,
                    civreg_shared::ids::HUB_NODE_ID,
                    k
                )
            );
            let (c, w) = civreg_hub::linkage::duplicates::new_case(
                &store,
                civreg_hub::linkage::duplicates::Found {
                    a: original.clone(),
                    b: copy.clone(),
                    weight: 20.0,
                    probability: 0.9,
                    class: "possible".into(),
                    source: "dedupe".into(),
                },
            )
            .unwrap()
            .unwrap();
            store.aux_write(&[w]).unwrap();
            prefiled.push((c.id, original, copy));
        }
    }
    assert!(prefiled.len() > 10, "{} birth copies", prefiled.len());

    // The copies, plus two bad rows: a malformed one and one that fails validation.
    let mut rows = copies.clone();
    rows.push("birth,,not,a,number".into());
    let cols = s.header.split(',').count();
    let mut bad = vec![String::new(); cols];
    bad[0] = "birth".into();
    let col = |name: &str| s.header.split(',').position(|h| h == name).unwrap();
    bad[col("child.given_name")] = "Arben".into();
    bad[col("child.surname")] = "Gashi".into();
    bad[col("child.sex")] = "male".into();
    bad[col("child.date_of_birth")] = "2999-01-01".into();
    bad[col("place_of_birth")] = "Prizren".into();
    bad[col("mother.given_name")] = "Drita".into();
    bad[col("mother.surname")] = "Gashi".into();
    rows.push(bad.join(","));
    let b = tmp.path().join("copies.csv");
    write_csv(&b, &s.header, &rows);
    let report = tmp.path().join("report.jsonl");
    // Rows were rejected: the import exits 1 (as `civreg-node import`), with its full answer.
    let out = common::hub_run(
        &dir,
        &[
            "--json",
            "import",
            b.to_str().unwrap(),
            "--municipality",
            "prizren",
            "--operator",
            "ana",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r2: Value = serde_json::from_slice(&out.stdout).expect("json answer");
    let rejected = r2["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    let last = copies.len() as u64 + 2;
    assert_eq!(rejected[0]["line"], last);
    assert_eq!(rejected[1]["line"], last + 1);
    assert!(
        rejected[1]["reasons"].to_string().contains("date_of_birth"),
        "{rejected:?}"
    );
    let imported = r2["imported"].as_array().unwrap();
    assert_eq!(imported.len(), copies.len());
    assert_eq!(
        std::fs::read_to_string(&report).unwrap().lines().count(),
        copies.len() + 2
    );

    // Each copy's principal was found as its original (match, or a case for review). The
    // truth names the person behind each role, so a match to another record of the same
    // person (the birth of the deceased, say) is right too.
    let mut entity_of: HashMap<String, u64> = HashMap::new();
    for t in &s.truth {
        if t["duplicate_of"].is_string() {
            continue;
        }
        let line = original_line[t["id"].as_str().unwrap()];
        for (role, e) in t["entities"].as_object().unwrap() {
            entity_of.insert(format!("{}/{role}", regno_at[&line]), e.as_u64().unwrap());
        }
    }
    let copy_truth: Vec<&Value> = s
        .truth
        .iter()
        .filter(|t| t["duplicate_of"].is_string())
        .collect();
    let (mut found, mut matched, mut matched_right) = (0, 0, 0);
    for (i, imp) in imported.iter().enumerate() {
        let people = imp["people"].as_array().unwrap();
        let same = |p: &Value| {
            let role = p["role"].as_str().unwrap();
            let want = copy_truth[i]["entities"][role].as_u64();
            p["candidate"]
                .as_str()
                .and_then(|c| entity_of.get(c))
                .is_some_and(|e| Some(*e) == want)
        };
        if people.iter().any(|p| p["outcome"] != "new" && same(p)) {
            found += 1;
        }
        for p in people.iter().filter(|p| p["outcome"] == "match") {
            matched += 1;
            if same(p) {
                matched_right += 1;
            }
        }
    }
    let recall = found as f64 / copies.len() as f64;
    let precision = matched_right as f64 / matched.max(1) as f64;
    eprintln!(
        "import linkage: {found}/{} copies found (recall {recall:.3}), {matched_right}/{matched} matches right (precision {precision:.3})",
        copies.len()
    );
    assert!(recall >= 0.90, "recall {recall}");
    assert!(precision >= 0.95, "precision {precision}");

    // The prefiled cases whose two sides the import made one person closed as moot, `via` the
    // import; the others are still open.
    let all = common::hub_ok_json(&dir, &["duplicates", "list", "--all"]);
    let all = all.as_array().unwrap();
    let case_of = |id: &str| all.iter().find(|c| c["id"] == id).unwrap();
    let (mut closed, mut still_open) = (0, 0);
    let store = HubStore::open(&civreg_hub::paths::db_dir(&dir), common::hub_keys(&dir)).unwrap();
    let person_of = |m: &str| {
        let (regno, role) = m.rsplit_once('/').unwrap();
        civreg_hub::linkage::persons::person_of(&store, regno, role).unwrap()
    };
    for (id, original, copy) in &prefiled {
        let c = case_of(id);
        if person_of(original) == person_of(copy) {
            closed += 1;
            assert_eq!(c["status"], "linked", "{c}");
            let last = c["decisions"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(
                last["via"],
                serde_json::json!({"import": "copies.csv"}),
                "{c}"
            );
            assert_eq!(last["operator"], "ana");
        } else {
            still_open += 1;
            assert_eq!(c["status"], "open", "{c}");
        }
    }
    eprintln!("prefiled cases: {closed} closed by the import's links, {still_open} open");
    assert!(closed > 0, "no copy was linked to its original");
    assert_eq!(r2["moot_closed"].as_u64().unwrap_or(0), closed);

    // Linking a copy's child to the register proposed its parents: each proposal names the
    // import and who ran it, and by the truth the two parents are one person.
    let mut entity_of_copy: HashMap<String, u64> = HashMap::new();
    for (i, imp) in imported.iter().enumerate() {
        let regno = imp["regno"].as_str().unwrap();
        for (role, e) in copy_truth[i]["entities"].as_object().unwrap() {
            entity_of_copy.insert(format!("{regno}/{role}"), e.as_u64().unwrap());
        }
    }
    let proposed: Vec<&Value> = all.iter().filter(|c| c["source"] == "parents").collect();
    assert!(!proposed.is_empty(), "no parents were proposed");
    assert_eq!(
        r2["parents_proposed"].as_u64().unwrap(),
        proposed.len() as u64
    );
    let entity = |m: &str| entity_of.get(m).or_else(|| entity_of_copy.get(m)).copied();
    let mut right = 0;
    for c in &proposed {
        assert_eq!(c["status"], "open", "a proposal, not a link: {c}");
        assert_eq!(
            c["proposed"]["by"],
            serde_json::json!({"import": "copies.csv"})
        );
        assert_eq!(c["proposed"]["operator"], "ana");
        let (a, b) = (c["a"].as_str().unwrap(), c["b"].as_str().unwrap());
        assert_eq!(
            a.rsplit_once('/').unwrap().1,
            b.rsplit_once('/').unwrap().1,
            "mother with mother, father with father"
        );
        if entity(a).is_some() && entity(a) == entity(b) {
            right += 1;
        }
    }
    eprintln!(
        "parents proposed by the import: {right}/{} right",
        proposed.len()
    );
    assert!(
        right as f64 >= 0.9 * proposed.len() as f64,
        "{right}/{}",
        proposed.len()
    );
    drop(store);

    // A matched copy is the same person as its original.
    let m = imported
        .iter()
        .flat_map(|i| i["people"].as_array().unwrap().iter().cloned())
        .find(|p| p["outcome"] == "match")
        .expect("a match");
    let person = common::hub_ok_json(
        &dir,
        &["person", m["person"].as_str().unwrap(), "--operator", "dpo"],
    );
    assert!(person["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == &m["candidate"]));
    assert!(person["mentions"].as_array().unwrap().len() >= 2);

    // A rerun imports nothing twice (and its two bad rows are rejected again: exit 1).
    let out = common::hub_run(
        &dir,
        &[
            "--json",
            "import",
            b.to_str().unwrap(),
            "--municipality",
            "prizren",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let r3: Value = serde_json::from_slice(&out.stdout).expect("json answer");
    assert_eq!(r3["imported"].as_array().unwrap().len(), 0);
    assert_eq!(r3["skipped"].as_array().unwrap().len(), copies.len());

    // The queue: link a case, then undo it.
    let cases = common::hub_ok_json(&dir, &["duplicates", "list"]);
    let cases = cases.as_array().unwrap();
    assert!(!cases.is_empty(), "possible matches wait for review");
    let case = &cases[0];
    let id = case["id"].as_str().unwrap();
    let (ca, cb) = (case["a"].as_str().unwrap(), case["b"].as_str().unwrap());
    let shown = common::hub_ok_json(&dir, &["duplicates", "show", id, "--operator", "ana"]);
    let pa = shown["a"]["persons"][shown["a"]["role"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_string();
    let pb = shown["b"]["persons"][shown["b"]["role"].as_str().unwrap()]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(pa, pb);
    // No reason, no decision.
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "link",
            id,
            "--reason",
            " ",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason"));
    let linked = common::hub_ok_json(
        &dir,
        &[
            "duplicates",
            "link",
            id,
            "--reason",
            "same entry, typed twice",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(linked["status"], "linked");
    let after = common::hub_ok_json(&dir, &["person", &pa]);
    let mentions: Vec<&str> = after["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        mentions.contains(&ca) && mentions.contains(&cb),
        "{mentions:?}"
    );
    // Decided once.
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "dismiss",
            id,
            "--reason",
            "x",
            "--operator",
            "bo",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already decided"));

    // The link is an op of the hub's chain, in the feed of B's municipality: it syncs.
    {
        let store = HubStore::open(
            &civreg_hub::paths::db_dir(&dir),
            civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(&dir))
                .expect("the hub's key file"),
        )
        .unwrap();
        let b_regno = cb.rsplit_once('/').unwrap().0;
        let st = store.record(b_regno).unwrap().unwrap();
        let role = cb.rsplit_once('/').unwrap().1;
        assert_eq!(st.persons[role].person, pa);
        assert_eq!(st.persons[role].clerk, "operator:ana");
        let owner = civreg_shared::ids::RegNo::parse(b_regno)
            .unwrap()
            .municipality;
        let (feed, _) = store.feed_after(&owner, 0, 1_000_000).unwrap();
        assert!(feed
            .iter()
            .any(|o| o.change == ChangeKind::Link && o.record_id == b_regno));
        // Records are never deleted by a link.
        assert!(store
            .record(ca.rsplit_once('/').unwrap().0)
            .unwrap()
            .is_some());
    }

    let unlinked = common::hub_ok_json(
        &dir,
        &[
            "duplicates",
            "unlink",
            id,
            "--reason",
            "twins",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(unlinked["status"], "unlinked");
    assert_eq!(unlinked["decisions"].as_array().unwrap().len(), 2);
    let after = common::hub_ok_json(&dir, &["person", &pa]);
    assert!(!after["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == cb));

    // Who looked at this person: the views of the case and of the person are in the log.
    let log = common::hub_ok_json(&dir, &["access-log", "--person", &pa]);
    let by: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert!(by.contains(&"operator:ana"), "{by:?}");
    assert!(
        by.contains(&"operator:dpo") || m["person"] != pa.as_str(),
        "{by:?}"
    );
    // A mistyped person identifier is caught by its check digit.
    let mut typo = pa.clone().into_bytes();
    typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
    let out = common::hub_run(
        &dir,
        &[
            "access-log",
            "--person",
            std::str::from_utf8(&typo).unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("check digit"));
}

async fn sync(node_dir: &Path) {
    let out = common::node(node_dir, &["--json", "sync", "--once"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        common::describe(&["sync"], &out)
    );
}

/// The imported records and the operators' links reach the municipality's office through
/// pull: the office shows the linked person, and its digest (which covers links) equals the
/// hub's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn imported_records_and_links_reach_the_office_through_pull() {
    let hub = common::Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let office = nodes.path().join("istog-1");
    common::enrol_node(&office, &hub.bundle("istog", "1")).await;
    let s = synth(nodes.path(), 600, 9);
    let (mut originals, mut copies) = (Vec::new(), Vec::new());
    for (row, t) in s.rows.iter().zip(&s.truth) {
        if t["duplicate_of"].is_string() {
            copies.push(row.clone());
        } else {
            originals.push(row.clone());
        }
    }
    let a = nodes.path().join("register.csv");
    let b = nodes.path().join("copies.csv");
    write_csv(&a, &s.header, &originals);
    write_csv(&b, &s.header, &copies);
    // Through the running hub's control socket, with progress on standard error.
    let r1 = common::hub_ok_json_async(
        hub.data_dir(),
        &[
            "import",
            a.to_str().unwrap(),
            "--municipality",
            "istog",
            "--operator",
            "ana",
        ],
    )
    .await;
    assert_eq!(r1["imported"].as_array().unwrap().len(), originals.len());
    let r2 = common::hub_ok_json_async(
        hub.data_dir(),
        &[
            "import",
            b.to_str().unwrap(),
            "--municipality",
            "istog",
            "--operator",
            "ana",
        ],
    )
    .await;
    assert!(r2["matched"].as_u64().unwrap() > 0, "{}", r2["matched"]);
    let matched = r2["imported"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["people"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["outcome"] == "match")
        })
        .expect("a matched copy")
        .clone();
    let regno = matched["regno"].as_str().unwrap();
    let person = matched["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["outcome"] == "match")
        .unwrap()
        .clone();

    // The office pulls everything: its records, the hub's numbers, the links.
    sync(&office).await;
    sync(&office).await;
    let shown = common::node_json(&office, &["--json", "show", regno]).await;
    let role = person["role"].as_str().unwrap();
    assert_eq!(
        shown["persons"][role]["person"], person["person"],
        "{shown}"
    );
    assert_eq!(shown["persons"][role]["clerk"], "operator:ana");

    // An operator's link reaches it too.
    let cases = common::hub_ok_json_async(
        hub.data_dir(),
        &["duplicates", "list", "--municipality", "istog"],
    )
    .await;
    if let Some(case) = cases.as_array().unwrap().first() {
        let id = case["id"].as_str().unwrap();
        common::hub_ok_json_async(
            hub.data_dir(),
            &[
                "duplicates",
                "link",
                id,
                "--reason",
                "same person",
                "--operator",
                "ana",
            ],
        )
        .await;
    }
    sync(&office).await;
    let node_digest = common::node_json(&office, &["--json", "digest"]).await;
    let hub_digest =
        common::hub_ok_json_async(hub.data_dir(), &["digest", "--municipality", "istog"]).await;
    assert_eq!(node_digest["records"], hub_digest["records"]);
    assert_eq!(node_digest["sha256"], hub_digest["sha256"]);
    assert_eq!(
        hub_digest["records"].as_u64().unwrap() as usize,
        originals.len() + copies.len()
    );
}

/// Only the hub links people, and only the hub creates records under `HUB` numbers: a node that
/// pushes either is refused, over real mTLS, and nothing of the batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_may_not_push_links_nor_create_hub_numbers() {
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::GENESIS;
    let hub = common::Hub::start().await;
    let n = hub.issue("istog", "1");
    let mut c = hub.client(&n).await;
    let create = common::create_birth("istog", "1", 1, GENESIS);
    let record = create.record_id.clone();
    assert_eq!(
        common::push(&mut c, vec![vec![create.clone()]])
            .await
            .accepted(),
        1
    );
    let link = common::op(
        "istog",
        "1",
        2,
        create.hash,
        &record,
        RecordKind::Birth,
        ChangeKind::Link,
        &[("$person.child", serde_json::json!("418203957"))],
    );
    let out = common::push(&mut c, vec![vec![link]]).await;
    assert_eq!(out.refused().code(), tonic::Code::PermissionDenied);
    assert!(
        out.refused().message().contains("link"),
        "{}",
        out.refused().message()
    );
    let hub_number = common::op(
        "istog",
        "1",
        2,
        create.hash,
        "ISTOG-2026-B-HUB-000001",
        RecordKind::Birth,
        ChangeKind::Create,
        &[("child.given_name", serde_json::json!("Arben"))],
    );
    let out = common::push(&mut c, vec![vec![hub_number]]).await;
    assert_eq!(out.refused().code(), tonic::Code::PermissionDenied);
    // An amendment that smuggles a `$person` path is not a well-formed op at all.
    let smuggled = common::op(
        "istog",
        "1",
        2,
        create.hash,
        &record,
        RecordKind::Birth,
        ChangeKind::Amend,
        &[("$person.child", serde_json::json!("418203957"))],
    );
    let out = common::push(&mut c, vec![vec![smuggled]]).await;
    assert_eq!(out.refused().code(), tonic::Code::InvalidArgument);
    let (_dir, store) = hub.stop().await;
    assert_eq!(store.chain_ops("istog", "1").unwrap().len(), 1);
}

/// Issue 16: rows identical to an earlier row without a register reference are imported and
/// reported as suspected double entries, not skipped as "already imported"; a rerun imports
/// nothing twice. The file is as Excel in the region writes it (`;`, BOM, CRLF, dd.mm.yyyy.).
#[test]
fn identical_rows_are_reported_as_double_entries_not_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let f = tmp.path().join("pages.csv");
    let row = "birth;Arben;Gashi;male;14.03.1968.;Prizren;Drita;Gashi\r\n";
    std::fs::write(
        &f,
        format!(
            "\u{feff}Kind;Child.Given_Name;Child.Surname;Child.Sex;Child.Date_of_Birth;Place_of_Birth;Mother.Given_Name;Mother.Surname\r\n{row}birth;Besa;Krasniqi;female;01.02.1970;Prizren;Drita;Krasniqi\r\n{row}"
        ),
    )
    .unwrap();
    let import = |dir: &Path| {
        common::hub_ok_json(
            dir,
            &[
                "import",
                f.to_str().unwrap(),
                "--municipality",
                "prizren",
                "--operator",
                "ana",
            ],
        )
    };
    let r = import(&dir);
    assert_eq!(r["imported"].as_array().unwrap().len(), 3, "{r}");
    assert_eq!(r["skipped"].as_array().unwrap().len(), 0, "{r}");
    let d = r["double_entries"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{r}");
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["same_as_line"].as_u64()),
        (Some(4), Some(2))
    );
    let again = import(&dir);
    assert_eq!(again["imported"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["skipped"].as_array().unwrap().len(), 3, "{again}");
}
