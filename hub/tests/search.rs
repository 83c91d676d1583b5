//! National search at the hub: records pushed into the store are found by the index that follows
//! the feed, across scripts, with typos, by year, date and place, and by personal number (exact,
//! through a blind token that leaves no number in the index files).

use civreg_hub::pki::PeerIdentity;
use civreg_hub::search::{Born, SearchIndex, SearchQuery};
use civreg_hub::store::HubStore;
use civreg_shared::fields;
use civreg_shared::ids::RegNo;
use civreg_shared::model::{Record, RecordKind};
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use serde_json::json;

fn create(m: &str, seq: u64, prev: Hash, kind: RecordKind, doc: serde_json::Value) -> Op {
    let mut doc = doc;
    doc["municipality"] = json!(m);
    let rec = Record::from_json(kind, doc).expect("a valid record");
    let changes = fields::flatten(&rec.to_json())
        .unwrap()
        .into_iter()
        .map(|(path, value)| fields::FieldChange { path, value })
        .collect();
    Op {
        format: OP_FORMAT,
        id: OpId {
            municipality: m.into(),
            node_id: "1".into(),
            seq,
        },
        hlc: Hlc {
            wall_ms: 1_790_000_000_000 + seq,
            logical: 0,
        },
        clerk: "ana".into(),
        record_id: RegNo::mint(m, 2026, kind, "1", seq).to_string(),
        record_kind: kind,
        change: ChangeKind::Create,
        changes,
        base: vec![],
        reason: String::new(),
        prev_hash: prev,
        hash: Hash::default(),
    }
    .seal()
}

fn birth(
    given: &str,
    surname: &str,
    dob: &str,
    place: &str,
    jmbg: Option<&str>,
) -> serde_json::Value {
    let mut child =
        json!({"given_name": given, "surname": surname, "sex": "male", "date_of_birth": dob});
    if let Some(j) = jmbg {
        child["personal_numbers"] = json!({"jmbg": j});
    }
    json!({
        "child": child,
        "place_of_birth": place,
        "mother": {"given_name": "Drita", "surname": surname, "maiden_surname": "Berisha"},
        "father": {"given_name": "Hysen", "surname": surname}
    })
}

fn load(store: &HubStore, m: &str, docs: Vec<(RecordKind, serde_json::Value)>) -> Vec<String> {
    let mut prev = GENESIS;
    let ops: Vec<Op> = docs
        .into_iter()
        .enumerate()
        .map(|(i, (k, d))| {
            let o = create(m, i as u64 + 1, prev, k, d);
            prev = o.hash;
            o
        })
        .collect();
    let ids = ops.iter().map(|o| o.record_id.clone()).collect();
    let who = PeerIdentity::Node {
        municipality: m.into(),
        node_id: "1".into(),
    };
    let r = store.ingest(vec![(who, ops)]).unwrap();
    assert!(r[0].is_ok(), "{:?}", r[0]);
    ids
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        limit: 10,
        ..Default::default()
    }
}

#[test]
fn the_four_queries_of_a_clerk_find_the_groom() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let ids = load(
        &store,
        "prizren",
        vec![
            (
                RecordKind::Birth,
                birth(
                    "Arben",
                    "Gashi",
                    "1968-03-14",
                    "Prizren",
                    Some("1403968950011"),
                ),
            ),
            (
                RecordKind::Birth,
                birth("Arben", "Gashi", "1975-06-02", "Prizren", None),
            ),
            (
                RecordKind::Birth,
                birth("Arbër", "Krasniqi", "1968-01-20", "Prizren", None),
            ),
            (
                RecordKind::Birth,
                birth("Đorđe", "Đorđević", "1968-05-21", "Prizren", None),
            ),
            // A surname that is also a place's name.
            (
                RecordKind::Birth,
                birth("Besa", "Gjakova", "1971-09-30", "Prizren", None),
            ),
        ],
    );
    let groom = &ids[0];
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.catch_up(&store).unwrap(), 5);
    assert_eq!(index.len(), 5);
    // A query of only a place-like word searches it as a name too (it was refused: "give at
    // least a name").
    for text in ["Gjakova", "Гјакова", "gjakova 1971"] {
        let r = index.search(&q(text)).unwrap();
        assert_eq!(r.hits.len(), 1, "{text:?}: {:?}", r.hits);
        assert_eq!(r.hits[0].regno, ids[4], "{text:?}");
    }

    for text in [
        "Gashi Arben",
        "Arben Gashi 1968",
        "Гаши",
        "gashi arbn",
        "Arben Gashi 1968 Prizren",
    ] {
        let r = index.search(&q(text)).unwrap();
        assert!(
            r.hits.iter().any(|h| &h.regno == groom),
            "{text:?} did not find the groom: {:?}",
            r.hits
        );
        assert!(r.hits.iter().all(|h| !h.why.is_empty()));
    }
    // The year narrows to him; the place and name explain why.
    let r = index.search(&q("Arben Gashi 1968 Prizren")).unwrap();
    assert_eq!(r.hits[0].regno, *groom, "{:?}", r.hits);
    assert_eq!(r.total, 1);
    assert!(
        r.hits[0].why.iter().any(|w| w.contains("1968")),
        "{:?}",
        r.hits[0].why
    );
    // Cross-script and transliterated.
    for text in ["Djordjevic", "Ђорђевић", "Dordevic", "Đorđević 1968"] {
        let r = index.search(&q(text)).unwrap();
        assert_eq!(r.hits.len(), 1, "{text:?}: {:?}", r.hits);
        assert_eq!(r.hits[0].regno, ids[3]);
    }
    // Swapped day and month, and fielded filters.
    // A date typed with day and month swapped still finds the record.
    let r = index.search(&q("Gashi 1975-02-06")).unwrap();
    assert_eq!(r.hits.len(), 1, "{:?}", r.hits);
    assert_eq!(r.hits[0].regno, ids[1]);
    assert!(
        r.hits[0].why.iter().any(|w| w.contains("swapped")),
        "{:?}",
        r.hits[0].why
    );
    let r = index.search(&q("Gashi 14.03.1968")).unwrap();
    assert_eq!(r.hits.len(), 1);
    let r = index
        .search(&SearchQuery {
            born: Some(Born::parse("1970..1980").unwrap()),
            ..q("Gashi")
        })
        .unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].regno, ids[1]);
    // Pagination.
    let all = index.search(&q("Gashi")).unwrap();
    assert_eq!(all.total, 2);
    let page2 = index
        .search(&SearchQuery {
            offset: 1,
            limit: 1,
            ..q("Gashi")
        })
        .unwrap();
    assert_eq!(page2.hits.len(), 1);
    assert_eq!(page2.hits[0].regno, all.hits[1].regno);
}

#[test]
fn a_personal_number_is_found_exactly_and_never_stored_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let jmbg = "1403968950011";
    let ids = load(
        &store,
        "prizren",
        vec![(
            RecordKind::Birth,
            birth("Arben", "Gashi", "1968-03-14", "Prizren", Some(jmbg)),
        )],
    );
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    let r = index.search(&q(jmbg)).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].regno, ids[0]);
    assert!(
        index.search(&q("1403968950012")).unwrap().hits.is_empty(),
        "one digit off finds nothing"
    );
    drop(index);
    let mut files = 0;
    for e in walk(&civreg_hub::search::index_dir(dir.path())) {
        files += 1;
        let bytes = std::fs::read(&e).unwrap();
        assert!(
            !bytes.windows(jmbg.len()).any(|w| w == jmbg.as_bytes()),
            "{} holds the personal number",
            e.display()
        );
    }
    assert!(files > 0);
}

#[test]
fn the_index_follows_new_ops_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    load(
        &store,
        "istog",
        vec![(
            RecordKind::Birth,
            birth("Besnik", "Morina", "1970-01-01", "Istog", None),
        )],
    );
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.catch_up(&store).unwrap(), 1);
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(
        index.catch_up(&store).unwrap(),
        0,
        "the commit payload says where it was"
    );
    assert_eq!(index.search(&q("Morina")).unwrap().hits.len(), 1);
    assert!(
        index
            .search(&SearchQuery {
                municipality: Some("Istok".into()),
                ..q("Morina")
            })
            .unwrap()
            .hits
            .len()
            == 1
    );
    assert!(index
        .search(&SearchQuery {
            municipality: Some("Peć".into()),
            ..q("Morina")
        })
        .unwrap()
        .hits
        .is_empty());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

use civreg_testkit::prelude as common;

/// A clerk's search from an office goes to the hub (national answer, in the hub's access log
/// under the node and the clerk) and falls back to the office's own records when the hub is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_searches_the_hub_and_falls_back_when_it_is_down() {
    use common::*;
    use std::time::Duration;
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let ist = nodes.path().join("istog");
    enrol_node(&ist, &hub.bundle("istog", "1")).await;
    let doc = nodes.path().join("b.json");
    std::fs::write(
        &doc,
        birth(
            "Arben",
            "Gashi",
            "1968-03-14",
            "Prizren",
            Some("1403968950011"),
        )
        .to_string(),
    )
    .unwrap();
    let saved = node_json(
        &ist,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            doc.to_str().unwrap(),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().unwrap().to_string();
    let out = node(&ist, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));

    // The four ways a clerk types the groom's name, answered by the hub once its index follows.
    for text in ["Gashi Arben", "Arben Gashi 1968", "Гаши", "gashi arbn"] {
        wait_for(text, Duration::from_secs(20), || {
            let out = node_run(&ist, &["--json", "search", text]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            (v["scope"] == "national"
                && v["hits"]
                    .as_array()?
                    .iter()
                    .any(|h| h["regno"] == regno.as_str()))
            .then_some(())
        })
        .await;
    }
    let log = civreg_hub::access::read(
        hub.data_dir(),
        &civreg_hub::access::Filter {
            by: Some("istog/1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(log.len() >= 4, "{log:?}");
    assert!(
        log.iter().all(|e| e.clerk == CLERK && e.action == "search"),
        "{log:?}"
    );
    assert!(log.iter().any(|e| e.records.contains(&regno)), "{log:?}");
    // A search by personal number is logged without the number.
    let v = node_json(&ist, &["--json", "search", "1403968950011"]).await;
    assert_eq!(v["scope"], "national", "{v}");
    let text = std::fs::read_to_string(civreg_hub::access::path(hub.data_dir())).unwrap();
    assert!(
        !text.contains("1403968950011"),
        "the access log holds a personal number"
    );
    assert!(text.contains("pn:"));

    // The hub goes away: the office answers from its own records and says so.
    let (_dir, _store) = hub.stop().await;
    let v = node_json(&ist, &["--json", "search", "Gashi"]).await;
    assert_eq!(v["scope"], "local", "{v}");
    assert!(v["why_local"].as_str().unwrap().contains("hub"), "{v}");
    assert_eq!(v["hits"][0]["regno"], regno.as_str());
    // The office's own access log has every search and view, without the number.
    let log = node_json(&ist, &["--json", "access-log"]).await;
    let log = log.as_array().unwrap();
    assert!(log.len() >= 6, "{log:?}");
    assert!(!serde_json::to_string(log)
        .unwrap()
        .contains("1403968950011"));
}

/// A birth record with the parents named.
fn family(
    child: (&str, &str),
    dob: &str,
    place: &str,
    father: &str,
    mother: (&str, &str, &str),
) -> serde_json::Value {
    json!({
        "child": {"given_name": child.0, "surname": child.1, "sex": "female", "date_of_birth": dob},
        "place_of_birth": place,
        "mother": {"given_name": mother.0, "surname": mother.1, "maiden_surname": mother.2},
        "father": {"given_name": father, "surname": child.1}
    })
}

fn marriage(bride: (&str, &str, &str), groom: (&str, &str), on: &str) -> serde_json::Value {
    json!({
        "spouse1": {"given_name": groom.0, "surname_before": groom.1, "surname_after": groom.1, "sex": "male"},
        "spouse2": {"given_name": bride.0, "surname_before": bride.1, "surname_after": bride.2, "sex": "female"},
        "date_of_marriage": on,
        "place_of_marriage": "Prishtinë"
    })
}

/// Records of real-world names of both communities, registered in several municipalities, with
/// their registration numbers by a short label.
struct Register {
    _dir: tempfile::TempDir,
    index: SearchIndex,
    ids: std::collections::HashMap<&'static str, String>,
}

/// A record to register, with its label in [`Register::ids`].
type Labelled = (&'static str, RecordKind, serde_json::Value);

fn register() -> Register {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let b = RecordKind::Birth;
    let mut ids = std::collections::HashMap::new();
    let sets: Vec<(&str, Vec<Labelled>)> = vec![
        (
            "prishtine",
            vec![
                // A surname that is also a place's name, registered before anyone born there.
                (
                    "besa_gjakova",
                    b,
                    family(
                        ("Besa", "Gjakova"),
                        "1971-09-30",
                        "Prishtinë",
                        "Agron",
                        ("Mirlinda", "Gjakova", "Rama"),
                    ),
                ),
                // Krasniqi, the commonest surname, three times; Krasniçi, a rarer surname that
                // folds to the same letters as the Serbian Krasnići, once, registered first so
                // that only the frequency rule (not the registration number that breaks ties)
                // puts Krasniqi first for "Krasnici".
                (
                    "krasnici",
                    b,
                    family(
                        ("Besim", "Krasniçi"),
                        "1985-10-11",
                        "Prishtinë",
                        "Sefer",
                        ("Hava", "Krasniçi", "Lila"),
                    ),
                ),
                (
                    "krasniqi1",
                    b,
                    family(
                        ("Valon", "Krasniqi"),
                        "1979-01-02",
                        "Prishtinë",
                        "Ilir",
                        ("Vjosa", "Krasniqi", "Hoti"),
                    ),
                ),
                (
                    "krasniqi2",
                    b,
                    family(
                        ("Blerta", "Krasniqi"),
                        "1983-04-05",
                        "Prishtinë",
                        "Agim",
                        ("Mimoza", "Krasniqi", "Rexha"),
                    ),
                ),
                (
                    "krasniqi3",
                    b,
                    family(
                        ("Liridon", "Krasniqi"),
                        "1991-07-08",
                        "Prishtinë",
                        "Fatmir",
                        ("Lumnije", "Krasniqi", "Morina"),
                    ),
                ),
                (
                    "bytyqi",
                    b,
                    family(
                        ("Kushtrim", "Bytyqi"),
                        "1970-02-03",
                        "Prishtinë",
                        "Rrustem",
                        ("Zyla", "Bytyqi", "Gashi"),
                    ),
                ),
                (
                    "xhaferi",
                    b,
                    family(
                        ("Mentor", "Xhaferi"),
                        "1966-06-06",
                        "Prishtinë",
                        "Ramadan",
                        ("Nexhmije", "Xhaferi", "Kastrati"),
                    ),
                ),
                (
                    "djordjevic",
                    b,
                    family(
                        ("Jelena", "Đorđević"),
                        "1975-03-09",
                        "Priština",
                        "Dragan",
                        ("Mirjana", "Đorđević", "Stojanović"),
                    ),
                ),
                // "Drita Gashi": a child of that name, and a record whose mother is a Drita
                // born Gashi (the name split across her given name and her maiden surname).
                // The mother's record and a record whose child is Drita and whose mother is a
                // Gashi are registered first, so that only the ranking (not the registration
                // number that breaks ties) puts the child Drita Gashi first.
                (
                    "drita_split",
                    b,
                    family(
                        ("Drita", "Hoxha"),
                        "1991-01-01",
                        "Prishtinë",
                        "Agron",
                        ("Shqipe", "Gashi", "Rexhepi"),
                    ),
                ),
                (
                    "drita_mother",
                    b,
                    family(
                        ("Arta", "Hoxha"),
                        "1990-09-09",
                        "Prishtinë",
                        "Driton",
                        ("Drita", "Hoxha", "Gashi"),
                    ),
                ),
                (
                    "drita_child",
                    b,
                    family(
                        ("Drita", "Gashi"),
                        "1988-08-08",
                        "Prishtinë",
                        "Besnik",
                        ("Shqipe", "Gashi", "Berisha"),
                    ),
                ),
                // A marriage: Drita born Krasniqi, now Gashi.
                (
                    "bride",
                    RecordKind::Marriage,
                    marriage(
                        ("Drita", "Krasniqi", "Gashi"),
                        ("Fatos", "Gashi"),
                        "2010-05-15",
                    ),
                ),
                (
                    "thaci",
                    b,
                    family(
                        ("Hashim", "Thaçi"),
                        "1968-04-24",
                        "Skënderaj",
                        "Halit",
                        ("Sabrije", "Thaçi", "Hoxha"),
                    ),
                ),
            ],
        ),
        (
            "prizren",
            vec![
                // Ukë son of Arben (registered first) and Arben son of Ukë: the query's word
                // order tells them apart.
                (
                    "uke_of_arben",
                    b,
                    family(
                        ("Ukë", "Mustafa"),
                        "1980-05-05",
                        "Prizren",
                        "Arben",
                        ("Hanife", "Mustafa", "Krasniqi"),
                    ),
                ),
                (
                    "arben_of_uke",
                    b,
                    family(
                        ("Arben", "Mustafa"),
                        "1980-05-05",
                        "Prizren",
                        "Ukë",
                        ("Hanife", "Mustafa", "Krasniqi"),
                    ),
                ),
                // Two namesakes: the father's name and the place tell them apart.
                (
                    "arben_besnik",
                    b,
                    family(
                        ("Arben", "Gashi"),
                        "1972-02-02",
                        "Prizren",
                        "Besnik",
                        ("Ajshe", "Gashi", "Thaçi"),
                    ),
                ),
                (
                    "arben_hysen",
                    b,
                    family(
                        ("Arben", "Gashi"),
                        "1972-02-02",
                        "Prizren",
                        "Hysen",
                        ("Ajshe", "Gashi", "Thaçi"),
                    ),
                ),
                (
                    "gjinovci",
                    b,
                    family(
                        ("Ardita", "Gjinovci"),
                        "1994-12-12",
                        "Prizren",
                        "Naim",
                        ("Valbona", "Gjinovci", "Kryeziu"),
                    ),
                ),
            ],
        ),
        (
            "gjakove",
            vec![(
                "gjakova_rec",
                b,
                family(
                    ("Teuta", "Dushi"),
                    "1981-11-11",
                    "Gjakovë",
                    "Luan",
                    ("Lule", "Dushi", "Kabashi"),
                ),
            )],
        ),
        (
            "mitrovice-veriut",
            vec![(
                "hodza_north",
                b,
                family(
                    ("Milan", "Hodža"),
                    "1960-01-01",
                    "Severna Kosovska Mitrovica",
                    "Petar",
                    ("Vesna", "Hodža", "Ilić"),
                ),
            )],
        ),
        (
            "mitrovice-jugut",
            vec![(
                "hoxha_south",
                b,
                family(
                    ("Fitore", "Hoxha"),
                    "1999-03-03",
                    "Mitrovicë e Jugut",
                    "Bekim",
                    ("Hana", "Hoxha", "Jashari"),
                ),
            )],
        ),
        (
            "fushe-kosove",
            vec![(
                "hoxha_fk",
                b,
                family(
                    ("Blerim", "Hoxha"),
                    "1977-07-07",
                    "Fushë Kosovë",
                    "Adem",
                    ("Sevdije", "Hoxha", "Zeqiri"),
                ),
            )],
        ),
    ];
    for (m, recs) in sets {
        let labels: Vec<&'static str> = recs.iter().map(|r| r.0).collect();
        let regnos = load(
            &store,
            m,
            recs.into_iter().map(|(_, k, d)| (k, d)).collect(),
        );
        for (l, r) in labels.into_iter().zip(regnos) {
            ids.insert(l, r);
        }
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    Register {
        _dir: dir,
        index,
        ids,
    }
}

impl Register {
    fn top(&self, text: &str) -> civreg_hub::search::Results {
        self.index.search(&q(text)).unwrap()
    }

    fn first(&self, text: &str) -> String {
        let r = self.top(text);
        let first = r.hits.first().map(|h| h.regno.clone()).unwrap_or_default();
        self.ids
            .iter()
            .find(|(_, v)| **v == first)
            .map(|(k, _)| k.to_string())
            .unwrap_or_else(|| format!("nothing ({text:?}: {:?})", r.hits))
    }

    fn labels(&self, text: &str) -> Vec<String> {
        self.top(text)
            .hits
            .iter()
            .map(|h| {
                self.ids
                    .iter()
                    .find(|(_, v)| **v == h.regno)
                    .map(|(k, _)| k.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// Albanian names written in Serbian orthography (Latin and Cyrillic) find the Albanian spelling
/// first, Serbian names typed in Albanian orthography find the Serbian spelling, and a rarer
/// surname that only folds to the same letters does not push out the common one.
#[test]
fn either_communitys_orthography_finds_the_other() {
    let r = register();
    for text in [
        "Krasnići",
        "Краснићи",
        "Krasnici",
        "KRASNIĆI",
        "Valon Krasnići",
    ] {
        let labels = r.labels(text);
        assert!(labels[0].starts_with("krasniqi"), "{text:?}: {labels:?}");
        // Every Krasniqi before the Krasniçi.
        if let Some(pos) = labels.iter().position(|l| l == "krasnici") {
            assert!(pos >= 3, "{text:?}: {labels:?}");
        }
    }
    let top = r.top("Краснићи");
    assert!(
        top.hits[0].why[0].contains("other community's orthography"),
        "{:?}",
        top.hits[0].why
    );
    assert!(!top.partial);
    // Krasniči / Красничи (č, the Albanian ç) is the rarer Krasniçi.
    for text in ["Krasniči", "Красничи", "Krasniçi"] {
        assert_eq!(r.first(text), "krasnici", "{text:?}");
    }
    for (text, want) in [
        ("Bitići", "bytyqi"),
        ("Битићи", "bytyqi"),
        ("Kushtrim Bitići", "bytyqi"),
        ("Džaferi", "xhaferi"),
        ("Џафери", "xhaferi"),
        ("Dzaferi", "xhaferi"),
        ("Đinovci", "gjinovci"),
        ("Ђиновци", "gjinovci"),
        ("Djinovci", "gjinovci"),
        ("Đorđević", "djordjevic"),
        ("Ђорђевић", "djordjevic"),
        ("Djordjevic", "djordjevic"),
        ("Gjorgjeviq", "djordjevic"),
        ("Jelena Gjorgjeviq", "djordjevic"),
        ("Тачи", "thaci"),
        ("Tači Hašim", "thaci"),
    ] {
        assert_eq!(r.first(text), want, "{text:?}");
    }
}

/// Natural queries that required every word before: the father's name in the middle, a double
/// surname, née, a given name not in the register; places by colloquial and multi-word names.
#[test]
fn natural_queries_degrade_gracefully() {
    let r = register();
    assert_eq!(r.first("Arben Besnik Gashi"), "arben_besnik");
    assert_eq!(r.first("Arben Hysen Gashi"), "arben_hysen");
    // Given name first: Arben son of Ukë, and Ukë son of Arben.
    assert_eq!(r.first("Arben Ukë Mustafa"), "arben_of_uke");
    assert_eq!(r.first("Ukë Arben Mustafa"), "uke_of_arben");
    let why = r.top("Arben Besnik Gashi").hits[0].why.join("; ");
    assert!(why.contains("father's given name"), "{why}");
    for text in [
        "Drita Krasniqi-Gashi",
        "Drita Gashi e lindur Krasniqi",
        "Drita Gashi rođena Krasniqi",
        "Дрита Гаши рођена Краснићи",
        "Drita Gashi née Krasniqi",
    ] {
        assert_eq!(r.first(text), "bride", "{text:?}");
        assert!(!r.top(text).partial, "{text:?}");
    }
    let why = r.top("Drita Gashi e lindur Krasniqi").hits[0]
        .why
        .join("; ");
    assert!(why.contains("surname at birth"), "{why}");
    // A given name that is in no record: the surname answers, flagged partial.
    let t = r.top("Тачи Хашимко");
    assert!(t.partial, "{t:?}");
    assert_eq!(r.first("Тачи Хашимко"), "thaci");
    assert_eq!(t.hits[0].unmatched, ["Хашимко"]);
    // A place alone, by its short or colloquial name: its records before a surname Gjakova.
    // With a given name, the surname reading answers.
    assert_eq!(r.first("Besa Gjakova"), "besa_gjakova");
    let why = r.top("Gjakova 1971").hits[0].why.join("; ");
    assert!(why.contains("Besa Gjakova (child), surname"), "{why}");
    for text in ["Ђакова", "Đakova", "Gjakova", "Gjakovë"] {
        let t = r.top(text);
        assert_eq!(r.first(text), "gjakova_rec", "{text:?}: {t:?}");
        assert!(!t.partial, "{text:?}");
    }
    // Kosovska Mitrovica covers both Mitrovicas: both Hoxhas there before the one elsewhere.
    let labels = r.labels("Хоџа Косовска Митровица");
    let mut two: Vec<&str> = labels.iter().take(2).map(String::as_str).collect();
    two.sort_unstable();
    assert_eq!(two, ["hodza_north", "hoxha_south"], "{labels:?}");
    for (text, want) in [
        ("Hoxha Fushë Kosovë", "hoxha_fk"),
        ("Hoxha Kosovo Polje", "hoxha_fk"),
        ("Хоџа Косово Поље", "hoxha_fk"),
        ("Hoxha Mitrovicë e Jugut", "hoxha_south"),
        ("Hodža Južna Mitrovica", "hoxha_south"),
        ("Arben Gashi Suva Reka", "arben_besnik"),
    ] {
        let labels = r.labels(text);
        if text.contains("Suva Reka") {
            // Nobody was born in Suva Reka: the namesakes answer, flagged partial.
            assert!(r.top(text).partial, "{text:?}");
            assert!(labels[0].starts_with("arben"), "{text:?}: {labels:?}");
        } else {
            assert_eq!(labels[0], want, "{text:?}: {labels:?}");
        }
    }
}

/// The name words of a query match within one person: a child named Drita Gashi before a record
/// whose mother is Drita born Gashi; and the explanation names the field.
#[test]
fn one_query_one_person_principal_first() {
    let r = register();
    let labels = r.labels("Drita Gashi");
    assert_eq!(labels[0], "drita_child", "{labels:?}");
    let pos = |l: &str| labels.iter().position(|x| x == l);
    assert!(pos("drita_mother") > pos("drita_child"), "{labels:?}");
    // A name split across two people (the child Drita, her mother Gashi) comes after the child
    // named Drita Gashi.
    assert!(pos("drita_split") > pos("drita_child"), "{labels:?}");
    let t = r.top("Drita Gashi");
    let mother = t
        .hits
        .iter()
        .find(|h| h.regno == r.ids["drita_mother"])
        .expect("the mother's record is still found");
    let why = mother.why.join("; ");
    assert!(why.contains("surname at birth"), "{why}");
    assert!(
        !why.contains("a father's name or spelling variant"),
        "{why}"
    );
}

/// Namesakes rank by the further facts of the query that agree, and remaining ties are broken
/// the same way every time.
#[test]
fn namesakes_rank_by_agreeing_facts_then_always_the_same_way() {
    let r = register();
    assert_eq!(r.first("Arben Gashi Besnik"), "arben_besnik");
    let a = r.labels("Arben Gashi 1972");
    assert_eq!(a.len(), 2);
    for _ in 0..3 {
        assert_eq!(r.labels("Arben Gashi 1972"), a);
    }
    // Registration numbers break the tie: the same order, ascending.
    let t = r.top("Arben Gashi 1972");
    assert!(t.hits[0].regno < t.hits[1].regno);
    assert!(t.hits[0].unmatched.is_empty() && t.hits[1].unmatched.is_empty());
}

/// The hub reads personal numbers as the node does: a `JMBG:` prefix, separators, and the
/// Albanian form (letter, 8 digits, letter).
#[test]
fn personal_numbers_are_read_as_the_node_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let mut doc = family(
        ("Shpresa", "Krasniqi"),
        "1968-03-14",
        "Prishtinë",
        "Agim",
        ("Drita", "Krasniqi", "Berisha"),
    );
    doc["child"]["personal_numbers"] = json!({"jmbg": "1403968955005", "albanian": "G85314001T"});
    let ids = load(&store, "prishtine", vec![(RecordKind::Birth, doc)]);
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    for text in [
        "JMBG:1403968955005",
        "jmbg:1403968955005",
        "140396-8955005",
        "G85314001T",
        "g85314001t",
        "Krasniqi G85314001T",
    ] {
        let r = index.search(&q(text)).unwrap();
        assert_eq!(r.hits.len(), 1, "{text:?}: {:?}", r.hits);
        assert_eq!(r.hits[0].regno, ids[0], "{text:?}");
        assert!(
            r.hits[0].why.iter().any(|w| w.contains("personal number")),
            "{text:?}"
        );
    }
    assert!(index
        .search(&q("JMBG:1403968955006"))
        .unwrap()
        .hits
        .is_empty());
}

/// The hub reads every row of the shared table of tricky query texts
/// (`civreg_shared::query::tokens::TRICKY`) as the table says: it finds the record the reading
/// points to, for that reason. The node's index is held to the same table
/// (`node/src/index.rs`), so the two cannot read a word differently.
#[test]
fn the_shared_table_of_tricky_texts_is_read_as_it_says() {
    use civreg_shared::query::tokens::{Reading, TRICKY};
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let mut shpresa = family(
        ("Shpresa", "Krasniqi-Gashi"),
        "1968-03-14",
        "Fushë Kosovë",
        "Agim",
        ("Drita", "Krasniqi", "Hoxha"),
    );
    shpresa["child"]["personal_numbers"] =
        json!({"jmbg": "1403968955005", "albanian": "G85314001T"});
    let besa = family(
        ("Besa", "Berisha"),
        "1968-04-03",
        "Prishtinë",
        "Ilir",
        ("Vjosa", "Berisha", "Shala"),
    );
    let ids = load(
        &store,
        "prishtine",
        vec![(RecordKind::Birth, shpresa), (RecordKind::Birth, besa)],
    );
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    let ymd = |(y, m, d): (i32, u32, u32)| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for row in TRICKY {
        // The record the reading points to, and the start of each line of its explanation.
        let (want, needles): (&str, Vec<String>) = match row.reading {
            Reading::Number(_) => (a, vec!["personal number: exact".into()]),
            Reading::Year(y) => (a, vec![format!("{y}: born 1968-03-14")]),
            Reading::Date {
                ymd: d,
                swapped: None,
            } => (a, vec![format!("{}: born 1968-03-14", ymd(d))]),
            Reading::Date {
                ymd: d,
                swapped: Some(_),
            } => (
                b,
                vec![format!(
                    "{}: born 1968-04-03 (day and month swapped)",
                    ymd(d)
                )],
            ),
            Reading::Place(_) => (a, vec![format!("{:?}: fush", row.text)]),
            Reading::Names(words) => (a, words.iter().map(|w| format!("{w:?}: ")).collect()),
        };
        let r = index.search(&q(row.text)).unwrap();
        let Some(hit) = r.hits.iter().find(|h| h.regno == want) else {
            panic!("{:?}: {want} not found: {:?}", row.text, r.hits);
        };
        for needle in &needles {
            assert!(
                hit.why
                    .iter()
                    .any(|w| w.to_lowercase().starts_with(&needle.to_lowercase())),
                "{:?}: {needle:?} not in {:?}",
                row.text,
                hit.why
            );
        }
        assert!(hit.unmatched.is_empty(), "{:?}: {hit:?}", row.text);
        if matches!(row.reading, Reading::Number(_)) {
            assert_eq!(r.hits.len(), 1, "{:?}: {:?}", row.text, r.hits);
        }
    }
}

/// A record carrying an Albanian personal number (letter, 8 digits, letter), registered at an
/// office and synced, is found nationally by that number: the office's search goes to the hub's
/// Search service over mutual TLS, and the answer is the hub's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_albanian_personal_number_is_found_nationally() {
    use common::*;
    use std::time::Duration;
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let ist = nodes.path().join("istog");
    enrol_node(&ist, &hub.bundle("istog", "1")).await;
    let mut doc = family(
        ("Shpresa", "Krasniqi"),
        "1968-03-14",
        "Prishtinë",
        "Agim",
        ("Drita", "Krasniqi", "Berisha"),
    );
    doc["child"]["personal_numbers"] = json!({"albanian": "G85314001T"});
    let file = nodes.path().join("b.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let saved = node_json(
        &ist,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().unwrap().to_string();
    let out = node(&ist, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
    for text in ["G85314001T", "g85314001t", "PN:G85314001T"] {
        wait_for(text, Duration::from_secs(20), || {
            let out = node_run(&ist, &["--json", "search", text]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            let hits = v["hits"].as_array()?;
            (v["scope"] == "national" && hits.len() == 1 && hits[0]["regno"] == regno.as_str())
                .then_some(())
        })
        .await;
    }
    // One letter off (the check letter) finds nothing, nationally.
    let v = node_json(&ist, &["--json", "search", "G85314001A"]).await;
    assert_eq!(v["scope"], "national", "{v}");
    assert!(v["hits"].as_array().unwrap().is_empty(), "{v}");
    // The hub's access log holds no such number.
    let text = std::fs::read_to_string(civreg_hub::access::path(hub.data_dir())).unwrap();
    assert!(
        !text.contains("G85314001T"),
        "the access log holds a number"
    );
    let _ = hub.stop().await;
}

/// One query word, one name: in "Arben Arben Gërguri" (a son named after his father, the
/// Albanian "given, father's, surname") the child's given name answers the first word only, so
/// the child whose father is Arben comes before a namesake whose father is not, although the
/// namesake was registered first (and would win the tie on the registration number); the
/// explanation names the father's given name for the second word.
#[test]
fn one_query_word_answers_one_name_of_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let b = RecordKind::Birth;
    let ids = load(
        &store,
        "ferizaj",
        vec![
            (
                b,
                family(
                    ("Arben", "Gërguri"),
                    "1990-01-01",
                    "Ferizaj",
                    "Dritan",
                    ("Vjosa", "Gërguri", "Hoti"),
                ),
            ),
            (
                b,
                family(
                    ("Arben", "Gërguri"),
                    "1990-01-01",
                    "Ferizaj",
                    "Arben",
                    ("Vjosa", "Gërguri", "Hoti"),
                ),
            ),
        ],
    );
    let (namesake, son) = (&ids[0], &ids[1]);
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    let r = index.search(&q("Arben Arben Gërguri")).unwrap();
    assert_eq!(r.hits.len(), 2, "{:?}", r.hits);
    assert_eq!(&r.hits[0].regno, son, "{:?}", r.hits);
    assert!(r.hits[0].score > r.hits[1].score, "{:?}", r.hits);
    let why = r.hits[0].why.join("; ");
    assert!(why.contains("father's given name"), "{why}");
    // The same explanation, as data, said in the reader's language.
    let said = |lang| {
        r.hits[0]
            .explain
            .iter()
            .map(|w| w.text(lang))
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert_eq!(said(civreg_shared::i18n::Lang::En), why);
    assert!(
        said(civreg_shared::i18n::Lang::Sq).contains("(babai), emri i babait"),
        "{}",
        said(civreg_shared::i18n::Lang::Sq)
    );
    assert!(
        said(civreg_shared::i18n::Lang::SrCyrl).contains("(отац), име оца"),
        "{}",
        said(civreg_shared::i18n::Lang::SrCyrl)
    );
    // The namesake's father is Dritan: its second "Arben" is answered by no name.
    assert_eq!(&r.hits[1].regno, namesake);
    assert_eq!(
        r.hits[1].unmatched,
        vec!["Arben".to_string()],
        "{:?}",
        r.hits[1]
    );
    // One word still finds both, the given name answering it.
    let one = index.search(&q("Arben Gërguri")).unwrap();
    assert_eq!(one.hits.len(), 2);
    assert!(one.hits.iter().all(|h| h.unmatched.is_empty()));
}

/// Namesakes told apart by a further fact typed the way clerks type it: the full date of birth
/// (day and month swapped count a little less), the year and the place of birth, the mother's
/// given name after "nëna"; a record whose principal is another person (Drita, daughter of
/// Arben) does not answer "Arben Gashi nëna Drita".
#[test]
fn namesakes_are_told_apart_by_a_date_a_place_or_a_parent() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let b = RecordKind::Birth;
    let ids = load(
        &store,
        "prizren",
        vec![
            (
                b,
                family(
                    ("Arben", "Gashi"),
                    "1990-03-12",
                    "Prizren",
                    "Besnik",
                    ("Shpresa", "Gashi", "Hoti"),
                ),
            ),
            (
                b,
                family(
                    ("Arben", "Gashi"),
                    "1990-07-01",
                    "Gjakovë",
                    "Ilir",
                    ("Drita", "Gashi", "Krasniqi"),
                ),
            ),
            (
                b,
                family(
                    ("Arben", "Gashi"),
                    "1990-12-03",
                    "Pejë",
                    "Besnik",
                    ("Vjosa", "Gashi", "Hoti"),
                ),
            ),
            (
                b,
                family(
                    ("Drita", "Gashi"),
                    "1990-05-05",
                    "Gjakovë",
                    "Arben",
                    ("Vjosa", "Gashi", "Hoti"),
                ),
            ),
        ],
    );
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    let first = |text: &str| -> Vec<String> {
        index
            .search(&q(text))
            .unwrap()
            .hits
            .iter()
            .map(|h| h.regno.clone())
            .collect()
    };
    for (text, want) in [
        ("Arben Gashi 12.03.1990", 0),
        ("Arben Gashi 3.12.1990", 2),
        ("Arben Gashi 1990 Gjakovë", 1),
        ("Arben Gashi 1990 Đakovica", 1),
        ("Arben Gashi 1990 Peja", 2),
        ("Arben Gashi nëna Drita", 1),
        ("Arben Gashi emri i nënës Drita", 1),
        ("Арбен Гаши мајка Дрита", 1),
    ] {
        let hits = first(text);
        assert_eq!(hits.first(), Some(&ids[want]), "{text:?}: {hits:?}");
    }
    // The swapped reading of a date comes after the exact one.
    let hits = first("Arben Gashi 03.12.1990");
    assert_eq!(hits[..2], [ids[2].clone(), ids[0].clone()], "{hits:?}");
    // The daughter named Drita whose father is Arben is no answer to a query about Arben.
    let r = index.search(&q("Arben Gashi nëna Drita")).unwrap();
    assert!(!r.hits.iter().any(|h| h.regno == ids[3]), "{:?}", r.hits);
    let why = r.hits[0].why.join("; ");
    assert!(why.contains("(mother)"), "{why}");
}

/// The father's given name written in a child's own entry is a parent's name to the index too:
/// "Arben Gashi 1990" finds the child Arben Gashi among 90 Gashis born in 1990 whose fathers are
/// named Arben (more than the candidates re-ranked), whichever way the index orders equal scores.
#[test]
fn a_fathers_name_in_the_childs_entry_does_not_crowd_out_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .unwrap();
    let b = RecordKind::Birth;
    let son_of_arben = |given: &str| {
        let mut d = family(
            (given, "Gashi"),
            "1990-01-01",
            "Prizren",
            "Arben",
            ("Vjosa", "Gashi", "Hoti"),
        );
        d["child"]["father_given_name"] = json!("Arben");
        (b, d)
    };
    let mut docs: Vec<(RecordKind, serde_json::Value)> =
        (0..45).map(|_| son_of_arben("Besnik")).collect();
    docs.push((
        b,
        family(
            ("Arben", "Gashi"),
            "1990-06-01",
            "Prizren",
            "Ilir",
            ("Drita", "Gashi", "Hoti"),
        ),
    ));
    docs.extend((0..45).map(|_| son_of_arben("Valon")));
    let ids = load(&store, "prizren", docs);
    let index = SearchIndex::open(dir.path()).unwrap();
    index.catch_up(&store).unwrap();
    let r = index.search(&q("Arben Gashi 1990")).unwrap();
    assert_eq!(
        r.hits.first().map(|h| &h.regno),
        Some(&ids[45]),
        "{:?}",
        r.hits
    );
}
