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

mod common;

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
