//! What links do to the rest of the duplicates queue (issue 16): an unlink reopens the cases
//! that were closed only because the link had made their two sides one person (moot), withdraws
//! the parents' cases its link had proposed and no one decided, and leaves the cases an
//! operator decided alone; linking a child's records proposes linking the
//! parents named on them, when the model scores them at Possible or above and they are not one
//! person already.

use civreg_testkit::prelude as common;

use civreg_hub::linkage::clusters::{self, Choice};
use civreg_hub::linkage::duplicates::{self, Case, Found, Status, Via};
use civreg_hub::linkage::{matching, models, persons};
use civreg_hub::pki::PeerIdentity;
use civreg_hub::store::HubStore;
use civreg_shared::linkage::PersonRecord;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, GENESIS};
use civreg_shared::synth::population::{Population, PopulationConfig};
use std::path::Path;

fn open(dir: &Path) -> HubStore {
    HubStore::open(&civreg_hub::paths::db_dir(dir), common::hub_keys(dir)).unwrap()
}

fn person(store: &HubStore, mention: &str) -> String {
    let (regno, role) = mention.rsplit_once('/').unwrap();
    persons::person_of(store, regno, role).unwrap().to_string()
}

fn status(store: &HubStore, id: &str) -> Status {
    duplicates::get(store, id).unwrap().status
}

/// Four records of one child: A–B, A–C and A–D linked by an operator; B–C, B–D and C–D close as
/// moot. Unlinking A–C separates C: B–C and C–D (closed only because C was that person) open
/// again, saying which unlink reopened them; B–D stays closed (B and D are still one person),
/// and the cases the operator decided stay decided.
#[test]
fn an_unlink_reopens_the_cases_its_link_made_moot_and_only_those() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let m = common::seed_person_cluster(
        &dir,
        "gjakove",
        "1",
        &["Besnik", "Besniku", "Besnick", "Besnk"],
    );
    let store = open(&dir);
    let id = |a: usize, b: usize| duplicates::case_id(&m[a], &m[b]);

    duplicates::link(&store, &id(0, 1), "ana", "same child").unwrap();
    duplicates::link(&store, &id(0, 2), "ana", "same child").unwrap();
    assert_eq!(status(&store, &id(1, 2)), Status::Linked, "moot");
    duplicates::link(&store, &id(0, 3), "ana", "same child").unwrap();
    for (a, b) in [(1, 3), (2, 3)] {
        let c = duplicates::get(&store, &id(a, b)).unwrap();
        assert_eq!(c.status, Status::Linked, "moot {a}-{b}");
        assert_eq!(c.decisions.last().unwrap().via, Some(Via::Case(id(0, 3))));
    }
    assert!(clusters::list(&store, None).unwrap().is_empty());

    let un = duplicates::unlink(&store, &id(0, 2), "bo", "C is his cousin").unwrap();
    assert_eq!(un.status, Status::Unlinked);
    assert_ne!(person(&store, &m[2]), person(&store, &m[0]));
    for (a, b) in [(1, 2), (2, 3)] {
        let c = duplicates::get(&store, &id(a, b)).unwrap();
        assert_eq!(c.status, Status::Open, "{a}-{b} reopened");
        let last = c.decisions.last().unwrap();
        assert_eq!(last.status, Status::Open);
        assert_eq!(last.operator, "bo");
        assert_eq!(last.reason, "C is his cousin");
        assert_eq!(last.via, Some(Via::Unlink(id(0, 2))));
        // The history is kept: the moot closing is still there before the reopening.
        assert_eq!(c.decisions.len(), 2);
        assert_eq!(c.decisions[0].status, Status::Linked);
    }
    // B and D are still one person: their moot case stays closed.
    assert_eq!(status(&store, &id(1, 3)), Status::Linked);
    // What the operator decided stays decided.
    assert_eq!(status(&store, &id(0, 1)), Status::Linked);
    assert_eq!(status(&store, &id(0, 3)), Status::Linked);
    // The reopened cases are a cluster again, waiting for a decision: C against the person of
    // A, B and D.
    let cl = clusters::list(&store, None).unwrap();
    assert_eq!(cl.len(), 1);
    assert_eq!((cl[0].nodes.len(), cl[0].cases.len()), (2, 2));

    // A cluster decision is an operator's decision: an unlink leaves its cases decided.
    let d = clusters::decide(
        &store,
        &cl[0].id,
        Some(&cl[0].version),
        &Choice::One,
        "ana",
        "same child after all",
    )
    .unwrap();
    assert_eq!(d.linked.len(), 2);
    duplicates::unlink(&store, &id(0, 1), "bo", "B is another child").unwrap();
    assert_eq!(
        status(&store, &id(1, 2)),
        Status::Linked,
        "decided by the cluster"
    );
    let c = duplicates::get(&store, &id(1, 2)).unwrap();
    assert_eq!(
        c.decisions.last().unwrap().via,
        Some(Via::Cluster(cl[0].id.clone()))
    );
    // B–D had been closed as moot by A–D's link: B is separated from D, so it opens again.
    assert_eq!(status(&store, &id(1, 3)), Status::Open);
}

/// A saved model, trained on a synthetic register (the model the queue's proposals use).
fn save_model(store: &HubStore) {
    let mut people = Vec::new();
    for (i, r) in Population::new(PopulationConfig::new(3, 1_500)).enumerate() {
        let Ok(rec) = r.record() else { continue };
        people.extend(PersonRecord::from_record(
            &format!("SYNTH-{i}"),
            &rec,
            |s, n| format!("{s}:{n}"),
        ));
    }
    let model = matching::train(&people).unwrap();
    models::save(store, &model, "test").unwrap();
}

/// A birth of child Arben Gashi, born 2001-05-06, to mother Drita Gashi (née Krasniqi, born
/// 1975-02-03, daughter of Ismet) and `father` (given name, date of birth).
fn birth(seq: u64, prev: civreg_shared::op::Hash, father: (&str, &str)) -> civreg_shared::op::Op {
    let v = serde_json::Value::from;
    common::op(
        "prizren",
        "1",
        seq,
        prev,
        &common::regno("prizren", "1", RecordKind::Birth, seq),
        RecordKind::Birth,
        ChangeKind::Create,
        &[
            ("municipality", v("prizren")),
            ("child.given_name", v("Arben")),
            ("child.surname", v("Gashi")),
            ("child.sex", v("male")),
            ("child.date_of_birth", v("2001-05-06")),
            ("place_of_birth", v("Prizren")),
            ("mother.given_name", v("Drita")),
            ("mother.surname", v("Gashi")),
            ("mother.maiden_surname", v("Krasniqi")),
            ("mother.father_given_name", v("Ismet")),
            ("mother.date_of_birth", v("1975-02-03")),
            ("father.given_name", v(father.0)),
            ("father.surname", v("Gashi")),
            ("father.date_of_birth", v(father.1)),
        ],
    )
}

fn parents_cases(store: &HubStore) -> Vec<Case> {
    duplicates::list(store, None, true)
        .unwrap()
        .into_iter()
        .filter(|c| c.source == "parents")
        .collect()
}

/// Three births of one child. The mothers on A and B are already one person; A's and B's
/// fathers agree; C's father is another man. Linking A–B proposes the fathers (the mothers are
/// one person already); deciding A, B and C as one person proposes C's mother with A's and B's,
/// and not C's father. Each proposal says whose link it follows, by whom; nothing is proposed
/// twice, and the proposals are cases, not links.
#[test]
fn linking_a_childs_records_proposes_linking_the_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let store = open(&dir);
    let a = birth(1, GENESIS, ("Besnik", "1970-01-01"));
    let b = birth(2, a.hash, ("Besnik", "1970-01-01"));
    let c = birth(3, b.hash, ("Zef", "1948-11-30"));
    let r = [
        a.record_id.clone(),
        b.record_id.clone(),
        c.record_id.clone(),
    ];
    let who = PeerIdentity::Node {
        municipality: "prizren".into(),
        node_id: "1".into(),
    };
    assert!(store.ingest(vec![(who, vec![a, b, c])]).unwrap()[0].is_ok());
    let mention = |i: usize, role: &str| format!("{}/{role}", r[i]);
    persons::link(
        &store,
        &mention(0, "mother"),
        &mention(1, "mother"),
        "operator:ana",
        "setup",
        vec![],
    )
    .unwrap();
    let found = |x: usize, y: usize| Found {
        a: mention(x, "child"),
        b: mention(y, "child"),
        weight: 30.0,
        probability: 0.99,
        class: "match".into(),
        source: "dedupe".into(),
    };
    duplicates::file(&store, vec![found(0, 1), found(0, 2), found(1, 2)]).unwrap();

    save_model(&store);
    let ab = duplicates::case_id(&mention(0, "child"), &mention(1, "child"));
    duplicates::link(&store, &ab, "ana", "same child").unwrap();
    let p = parents_cases(&store);
    assert_eq!(p.len(), 1, "the fathers only: {p:#?}");
    let fathers = duplicates::case_id(&mention(0, "father"), &mention(1, "father"));
    assert_eq!(p[0].id, fathers);
    assert_eq!(p[0].status, Status::Open, "a proposal, not a link");
    assert!(["match", "possible"].contains(&p[0].class.as_str()));
    let why = p[0].proposed.as_ref().expect("says why it was proposed");
    assert_eq!(why.operator, "ana");
    assert_eq!(why.by, Via::Case(ab.clone()));
    assert_eq!(why.children, vec![mention(0, "child"), mention(1, "child")]);
    assert_ne!(
        person(&store, &mention(0, "father")),
        person(&store, &mention(1, "father"))
    );

    // The cluster of A+B and C, decided as one person.
    let cl = clusters::list(&store, None)
        .unwrap()
        .into_iter()
        .find(|cl| cl.mentions().any(|m| *m == mention(2, "child")))
        .unwrap();
    clusters::decide(
        &store,
        &cl.id,
        Some(&cl.version),
        &Choice::One,
        "bo",
        "one child",
    )
    .unwrap();
    let p = parents_cases(&store);
    let ids: Vec<&str> = p.iter().map(|c| c.id.as_str()).collect();
    let ac = duplicates::case_id(&mention(0, "mother"), &mention(2, "mother"));
    let bc = duplicates::case_id(&mention(1, "mother"), &mention(2, "mother"));
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(
        ids.contains(&ac.as_str()) && ids.contains(&bc.as_str()),
        "{ids:?}"
    );
    for c in p.iter().filter(|c| c.id != fathers) {
        let why = c.proposed.as_ref().unwrap();
        assert_eq!(
            (why.operator.as_str(), &why.by),
            ("bo", &Via::Cluster(cl.id.clone()))
        );
    }
    // C's father is another man: New, not proposed.
    for x in [0, 1] {
        let id = duplicates::case_id(&mention(x, "father"), &mention(2, "father"));
        assert!(duplicates::get(&store, &id).is_err(), "{id} was proposed");
    }
    // One level: linking the mothers proposes nothing more (a mother is not a birth's child).
    duplicates::link(&store, &ac, "ana", "same mother").unwrap();
    assert_eq!(parents_cases(&store).len(), 3);
    // The B–C mothers case is now moot: closed with that link.
    assert_eq!(status(&store, &bc), Status::Linked);
}

/// Three births of one child (the same parents on each). Linking A–B proposes A's and B's
/// mothers and fathers; an operator links the mothers. Unlinking A–B withdraws the fathers'
/// proposal, still open, saying which unlink withdrew it, and leaves the mothers' case the
/// operator decided alone. When B is linked to the child again (through C), the fathers are
/// proposed again: the withdrawn case opens, following the new link.
#[test]
fn an_unlink_withdraws_the_parents_proposals_of_its_link() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let store = open(&dir);
    let a = birth(1, GENESIS, ("Besnik", "1970-01-01"));
    let b = birth(2, a.hash, ("Besnik", "1970-01-01"));
    let c = birth(3, b.hash, ("Besnik", "1970-01-01"));
    let r = [
        a.record_id.clone(),
        b.record_id.clone(),
        c.record_id.clone(),
    ];
    let who = PeerIdentity::Node {
        municipality: "prizren".into(),
        node_id: "1".into(),
    };
    assert!(store.ingest(vec![(who, vec![a, b, c])]).unwrap()[0].is_ok());
    let mention = |i: usize, role: &str| format!("{}/{role}", r[i]);
    let found = |x: usize, y: usize| Found {
        a: mention(x, "child"),
        b: mention(y, "child"),
        weight: 30.0,
        probability: 0.99,
        class: "match".into(),
        source: "dedupe".into(),
    };
    duplicates::file(&store, vec![found(0, 1), found(0, 2), found(1, 2)]).unwrap();
    save_model(&store);
    let pair =
        |x: usize, y: usize, role: &str| duplicates::case_id(&mention(x, role), &mention(y, role));

    let ab = pair(0, 1, "child");
    duplicates::link(&store, &ab, "ana", "same child").unwrap();
    let (mothers, fathers) = (pair(0, 1, "mother"), pair(0, 1, "father"));
    assert_eq!(status(&store, &mothers), Status::Open);
    assert_eq!(status(&store, &fathers), Status::Open);
    duplicates::link(&store, &mothers, "bo", "same mother").unwrap();

    duplicates::unlink(&store, &ab, "ana", "two children after all").unwrap();
    let f = duplicates::get(&store, &fathers).unwrap();
    assert_eq!(f.status, Status::Withdrawn, "{f:#?}");
    let d = f.decisions.last().unwrap();
    assert_eq!(d.via, Some(Via::Withdrawn(ab.clone())));
    assert_eq!(d.operator, "ana");
    // Decided by an operator: stays decided, and the mothers stay one person.
    assert_eq!(status(&store, &mothers), Status::Linked);
    assert_eq!(
        person(&store, &mention(0, "mother")),
        person(&store, &mention(1, "mother"))
    );
    assert!(parents_cases(&store)
        .iter()
        .all(|c| c.status != Status::Open));

    // A and C linked, then B with them: the A–B fathers are proposed again.
    duplicates::link(&store, &pair(0, 2, "child"), "ana", "same child").unwrap();
    let bc = pair(1, 2, "child");
    duplicates::link(&store, &bc, "ana", "same child").unwrap();
    let f = duplicates::get(&store, &fathers).unwrap();
    assert_eq!(f.status, Status::Open, "{f:#?}");
    assert_eq!(f.decisions.last().unwrap().via, Some(Via::Case(bc.clone())));
    assert_eq!(f.proposed.as_ref().unwrap().by, Via::Case(bc));
}
