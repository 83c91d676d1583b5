//! Identity matching at the hub over a seeded synthetic register loaded through real ingest:
//! `match dedupe` finds the planted duplicates, and `match link` links an external file with
//! missing columns, reporting its bad rows and linking the good ones; a pair that its cluster
//! makes a Match is filed for review whatever its own weight. Through the real binary.

use civreg_testkit::prelude as common;

use civreg_hub::pki::PeerIdentity;
use civreg_hub::store::HubStore;
use civreg_shared::fields;
use civreg_shared::ids::RegNo;
use civreg_shared::model::Record;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use civreg_shared::synth::population::{Population, PopulationConfig};
use std::collections::{BTreeMap, HashMap};

fn hub_bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_civreg-hub"))
}

/// Runs `civreg-hub`, which says its summaries in English (the tests read the English words).
fn hub_cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    hub_cli_in("en", dir, args)
}

/// Runs `civreg-hub` in the locale `lang` (`LC_ALL`).
fn hub_cli_in(lang: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(hub_bin())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("LC_ALL", lang)
        .output()
        .expect("run civreg-hub")
}

/// Loads `records` into a new hub store under `dir` (and makes its key file), each as a create
/// op of node 1 of its municipality; returns their registration numbers, in order.
fn load_register(dir: &std::path::Path, records: &[Record]) -> Vec<String> {
    let mut chains: BTreeMap<String, (u64, Hash, Vec<Op>)> = BTreeMap::new();
    let mut regnos = Vec::new();
    for rec in records {
        let m = rec.municipality().to_string();
        let e = chains.entry(m.clone()).or_insert((0, GENESIS, Vec::new()));
        e.0 += 1;
        let regno = RegNo::mint(&m, 2026, rec.kind(), "1", e.0).to_string();
        let changes = fields::flatten(&rec.to_json())
            .unwrap()
            .into_iter()
            .map(|(path, value)| fields::FieldChange { path, value })
            .collect();
        let op = Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: m.clone(),
                node_id: "1".into(),
                seq: e.0,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + e.0,
                logical: 0,
            },
            clerk: "synth".into(),
            record_id: regno.clone(),
            record_kind: rec.kind(),
            change: ChangeKind::Create,
            changes,
            base: vec![],
            reason: String::new(),
            prev_hash: e.1,
            hash: Hash::default(),
        }
        .seal();
        e.1 = op.hash;
        e.2.push(op);
        regnos.push(regno);
    }
    // The key file the `civreg-hub` commands open the store with.
    common::make_hub_key(dir);
    let store = HubStore::open(&civreg_hub::paths::db_dir(dir), common::hub_keys(dir)).unwrap();
    for (m, (_, _, ops)) in chains {
        let who = PeerIdentity::Node {
            municipality: m,
            node_id: "1".into(),
        };
        let r = store.ingest(vec![(who, ops)]).unwrap();
        assert!(r[0].is_ok(), "{:?}", r[0]);
    }
    regnos
}

#[test]
fn dedupe_finds_planted_duplicates_and_link_survives_a_ragged_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = civreg_hub::paths::db_dir(dir.path());
    // A seeded register: every record as a create op of node 1 of its municipality.
    let mut records = Vec::new();
    let mut truth = Vec::new();
    for r in Population::new(PopulationConfig::new(11, 3_000)) {
        let Ok(rec) = r.record() else { continue };
        records.push(rec);
        truth.push(r.truth);
    }
    let regnos = load_register(dir.path(), &records);
    let regno_of: HashMap<String, String> = truth
        .iter()
        .zip(&regnos)
        .map(|(t, n)| (t.id.clone(), n.clone()))
        .collect();

    // `--report-only` files nothing into the review queue.
    let open_cases = || {
        let out = hub_cli(dir.path(), &["--json", "duplicates", "list"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    let out = hub_cli(dir.path(), &["--json", "match", "dedupe", "--report-only"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "the pairs are reported");
    assert_eq!(open_cases(), 0, "--report-only files nothing");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("trained by this run"), "{stderr}");

    // Issue 16: that first run saved its model; the runs after it reuse it.
    let models = || {
        let out = hub_cli(dir.path(), &["--json", "match", "models"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
    };
    let saved = models();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0]["current"], true);
    assert_eq!(saved[0]["by"], "match dedupe");

    // Dedupe: the planted duplicates (original and copy both loaded) are found.
    let out = hub_cli(dir.path(), &["--json", "match", "dedupe"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("model {}", saved[0]["id"].as_str().unwrap()))
            && !stderr.contains("trained by this run"),
        "the saved model is reused: {stderr}"
    );
    let pairs: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let record =
        |v: &serde_json::Value| v.as_str().unwrap().rsplit_once('/').unwrap().0.to_string();
    let found: std::collections::HashSet<(String, String)> = pairs
        .iter()
        .map(|p| {
            let (a, b) = (record(&p["a"]), record(&p["b"]));
            if a < b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect();
    let planted: Vec<(String, String)> = truth
        .iter()
        .filter_map(|t| {
            let orig = regno_of.get(t.duplicate_of.as_ref()?)?;
            let copy = regno_of.get(&t.id)?;
            Some(if orig < copy {
                (orig.clone(), copy.clone())
            } else {
                (copy.clone(), orig.clone())
            })
        })
        .collect();
    assert!(
        planted.len() > 50,
        "the data plants duplicates: {}",
        planted.len()
    );
    let hit = planted.iter().filter(|p| found.contains(*p)).count();
    let recall = hit as f64 / planted.len() as f64;
    assert!(
        recall >= 0.85,
        "dedupe found {hit} of {} planted duplicates",
        planted.len()
    );

    // Issue 16: a lower threshold reports more pairs, but only those at or above the model's
    // Possible threshold are filed for review; `--report-only` files none.
    let filed = open_cases();
    assert!(filed > 0, "dedupe files its pairs");
    let out = hub_cli(
        dir.path(),
        &["--json", "match", "dedupe", "--threshold", "-20"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let low: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let below = low
        .iter()
        .filter(|p| p["class"] == "below possible")
        .count();
    assert!(below > 0, "a threshold of -20 bits reports weaker pairs");
    assert_eq!(open_cases(), filed, "pairs below Possible are not filed");

    // Link: a file with only some columns, two malformed rows, one known person and one stranger.
    let known = truth
        .iter()
        .find(|t| t.duplicate_of.is_none() && t.kind == civreg_shared::model::RecordKind::Birth)
        .unwrap();
    let store_rec = {
        let store = HubStore::open(&db, common::hub_keys(dir.path())).unwrap();
        store.record(&regno_of[&known.id]).unwrap().unwrap()
    };
    let f = |p: &str| {
        store_rec
            .fields
            .get(p)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let csv = dir.path().join("external.csv");
    std::fs::write(
        &csv,
        format!(
            "id,given_name,surname,date_of_birth\nX1,{},{},{}\nX2,,,1970-01-01\nX3,Zzyzx,Qwerty,1931-02-03\nX4,Arben,Gashi,31.02.1968\n",
            f("child.given_name"),
            f("child.surname"),
            f("child.date_of_birth")
        ),
    )
    .unwrap();
    let out = hub_cli(
        dir.path(),
        &["--json", "match", "link", csv.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Only the row with nothing to link on is rejected; an impossible date is compared by its
    // year and said so.
    assert!(
        stderr.contains("line 3: rejected") && !stderr.contains("line 5: rejected"),
        "{stderr}"
    );
    assert!(stderr.contains("thresholds: match"), "{stderr}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let x1 = rows.iter().find(|r| r["id"] == "X1").unwrap();
    assert!(
        x1["best"]
            .as_str()
            .unwrap()
            .starts_with(&regno_of[&known.id]),
        "{x1}"
    );
    // A row identical to a register record is a match at the default thresholds, joined back
    // with the record, the role, the person identifier and the agreeing fields.
    assert_eq!(x1["class"], "match", "{x1}");
    assert_eq!(x1["record"], regno_of[&known.id].as_str(), "{x1}");
    assert_eq!(x1["role"], "child", "{x1}");
    assert_eq!(x1["person"].as_str().map(str::len), Some(9), "{x1}");
    let agree: Vec<&str> = x1["agree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        agree.contains(&"given_name") && agree.contains(&"birth_date"),
        "{x1}"
    );
    let x3 = rows.iter().find(|r| r["id"] == "X3").unwrap();
    assert_eq!(x3["class"], "new", "{x3}");
    let x4 = rows.iter().find(|r| r["id"] == "X4").unwrap();
    assert_eq!(x4["line"], 5, "{x4}");
    assert!(
        x4["notes"][0]
            .as_str()
            .unwrap()
            .contains("compared by its year 1968"),
        "{x4}"
    );

    // The same person in a file as Excel writes it here: a byte-order mark, `;`, CRLF, capital
    // headers, dd.mm.yyyy. dates, and a surname typo. The line numbers are the file's.
    let (y, m, d) = {
        let iso = f("child.date_of_birth");
        let p: Vec<String> = iso.split('-').map(str::to_string).collect();
        (p[0].clone(), p[1].clone(), p[2].clone())
    };
    let mut surname = f("child.surname");
    surname.push('x');
    let excel = dir.path().join("excel.csv");
    std::fs::write(
        &excel,
        format!(
            "\u{feff}ID;Given_Name;Surname;Date_of_Birth\r\nE1;{};{surname};{d}.{m}.{y}.\r\nE2;;;\r\nE3;Zzyzx;Qwerty;03.02.1931\r\n",
            f("child.given_name"),
        ),
    )
    .unwrap();
    let out = hub_cli(
        dir.path(),
        &["--json", "match", "link", excel.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("line 3: rejected"), "{stderr}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let e1 = rows.iter().find(|r| r["id"] == "E1").expect("E1 linked");
    assert_eq!(e1["line"], 2, "{e1}");
    assert_eq!(e1["record"], regno_of[&known.id].as_str(), "{e1}");
    assert_ne!(e1["class"], "new", "{e1}");
    let e3 = rows.iter().find(|r| r["id"] == "E3").expect("E3 linked");
    assert_eq!(e3["line"], 4, "{e3}");

    // The thresholds by kind of row (the identifying fields a row lacks) that the job uses,
    // beside the overall ones: each kind on a line of its own with its share, and each row's
    // in its report line (JSON and CSV), in the operator's language.
    let kinds = dir.path().join("kinds.csv");
    std::fs::write(
        &kinds,
        format!(
            "id,given_name,surname,date_of_birth,place_of_birth\nK1,{g},{s},{d},{p}\nK2,{g},{s},,\nK3,Zzyzx,Qwerty,1931-02-03,\nK4,Zzyzy,Qwertz,,\n",
            g = f("child.given_name"),
            s = f("child.surname"),
            d = f("child.date_of_birth"),
            p = f("place_of_birth"),
        ),
    )
    .unwrap();
    let out = hub_cli(
        dir.path(),
        &["--json", "match", "link", kinds.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("thresholds: match"), "{stderr}");
    let kind_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("rows without "))
        .collect();
    assert_eq!(kind_lines.len(), 3, "three kinds of row: {stderr}");
    assert!(
        kind_lines.iter().any(|l| l.contains(
            "rows without date of birth, place of birth, personal number, father's given name, mother's given name (2): share "
        )),
        "{stderr}"
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let of = |id: &str| {
        let r = rows.iter().find(|r| r["id"] == id).unwrap();
        let t = |w: &str| r["thresholds"][w].as_f64().unwrap_or_else(|| panic!("{r}"));
        (t("matched"), t("possible"))
    };
    for id in ["K1", "K2", "K3", "K4"] {
        let (m, p) = of(id);
        assert!(p <= m, "{id}: {m} {p}");
        let printed = format!("match from {m:.1} bits, possible from {p:.1} bits");
        assert!(
            kind_lines.iter().any(|l| l.contains(&printed)),
            "{id}'s thresholds ({printed}) are its kind's: {stderr}"
        );
    }
    assert_eq!(of("K2"), of("K4"), "one kind, one pair of thresholds");
    let csv_out = hub_cli_in(
        "sq_AL.UTF-8",
        dir.path(),
        &["match", "link", kinds.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&csv_out.stderr);
    assert_eq!(csv_out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&csv_out.stdout);
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|h| h.contains(",match_from,possible_from,")),
        "{stdout}"
    );
    assert!(
        stderr.contains("pragjet: përputhje")
            && stderr
                .lines()
                .filter(|l| l.trim_start().starts_with("rreshtat pa "))
                .count()
                == 3,
        "{stderr}"
    );

    // Thresholds given by the operator are used and reported; a share out of range is refused.
    let out = hub_cli(
        dir.path(),
        &[
            "--json",
            "match",
            "link",
            csv.to_str().unwrap(),
            "--threshold",
            "500",
            "--possible",
            "400",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("match 500.0 bits") && stderr.contains("(given)"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .all(|l| l.contains("\"class\":\"new\"")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = hub_cli(
        dir.path(),
        &[
            "match",
            "link",
            csv.to_str().unwrap(),
            "--expect-matches",
            "2",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An operator trains the model again: a second saved model, now the one in use; a link job
    // may train its own instead (not saved), and links the known person all the same.
    let out = hub_cli(dir.path(), &["match", "train", "--operator", "ana"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = models();
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0]["current"], true);
    assert_eq!(after[0]["by"], "operator:ana");
    assert_eq!(after[1]["id"], saved[0]["id"]);
    let out = hub_cli(
        dir.path(),
        &[
            "--json",
            "match",
            "link",
            csv.to_str().unwrap(),
            "--retrain",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("model "),
        "the job trained its own: {stderr}"
    );
    let x1 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["id"] == "X1")
        .unwrap();
    assert_eq!(x1["class"], "match", "{x1}");
    assert_eq!(models().len(), 2, "a job's own model is not saved");
}

/// Three records of one child: the original; a copy with the same personal number, name and
/// date whose parents' names and place of birth were entered wrongly; and a copy of that copy
/// without the number and with a mistyped year. Each copy matches the record it was made from;
/// the two ends are weak together, under Possible by their own weight, and `match dedupe`
/// makes them a Match through their cluster: that Match goes to the review queue like any.
#[test]
fn a_match_made_by_its_cluster_is_filed_for_review_whatever_its_weight() {
    let dir = tempfile::tempdir().unwrap();
    let mut records: Vec<Record> = Population::new(PopulationConfig::new(23, 2_000))
        .filter(|r| r.truth.duplicate_of.is_none())
        .filter_map(|r| r.record().ok())
        .collect();
    let Some(Record::Birth(a)) = records
        .iter()
        .find(|r| {
            matches!(r, Record::Birth(b) if !b.child.personal_numbers.is_empty()
                && b.father.is_some()
                && b.child.given_name.chars().count() >= 5
                && b.child.given_name.is_ascii()
                && b.child.date_of_birth.is_some())
        })
        .cloned()
    else {
        panic!("the population has a birth with a personal number and a father");
    };
    let mut b = a.clone();
    b.mother.given_name = "Xhevahire".into();
    b.mother.surname = "Zymberi".into();
    b.mother.maiden_surname = None;
    b.father.as_mut().unwrap().given_name = "Xhevdet".into();
    b.place_of_birth = if a.place_of_birth == "prizren" {
        "gjakove"
    } else {
        "prizren"
    }
    .into();
    let mut c = b.clone();
    c.child.personal_numbers = Default::default();
    // A letter of the given name dropped.
    c.child.given_name.remove(2);
    let dob = c.child.date_of_birth.unwrap();
    let year = chrono::Datelike::year(&dob);
    let typo = if year % 10 == 9 { year - 1 } else { year + 1 };
    c.child.date_of_birth = chrono::Datelike::with_year(&dob, typo).or(Some(dob));
    records.extend([Record::Birth(b), Record::Birth(c)]);
    let regnos = load_register(dir.path(), &records);
    let a_at = records
        .iter()
        .position(|r| matches!(r, Record::Birth(x) if *x == a))
        .unwrap();
    let (a_id, c_id) = (
        format!("{}/child", regnos[a_at]),
        format!("{}/child", regnos[regnos.len() - 1]),
    );

    let out = hub_cli(dir.path(), &["--json", "match", "dedupe"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The default reporting threshold is the model's Possible.
    let possible: f64 = stderr
        .split("(threshold ")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no threshold in {stderr}"));
    let pairs: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let is = |p: &serde_json::Value, x: &str, y: &str| {
        (p["a"] == x && p["b"] == y) || (p["a"] == y && p["b"] == x)
    };
    let ac = pairs
        .iter()
        .find(|p| is(p, &a_id, &c_id))
        .unwrap_or_else(|| panic!("{a_id} and {c_id} are not reported: {pairs:?}"));
    let weight = |x: &str, y: &str| {
        pairs
            .iter()
            .find(|p| is(p, x, y))
            .map(|p| p["weight"].clone())
    };
    let b_id = format!("{}/child", regnos[regnos.len() - 2]);
    assert_eq!(
        ac["class"],
        "match",
        "{ac}; a-b {:?}, b-c {:?}",
        weight(&a_id, &b_id),
        weight(&b_id, &c_id)
    );
    assert!(
        ac["weight"].as_f64().unwrap() < possible,
        "the pair weighs {} on its own, Possible is {possible}",
        ac["weight"]
    );

    // Filed: the queue holds the pair.
    let out = hub_cli(dir.path(), &["--json", "duplicates", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        cases.iter().any(|k| is(k, &a_id, &c_id)),
        "the cluster's Match {a_id} - {c_id} is not in the review queue: {cases:?}"
    );
}
