//! The duplicates queue by person (issue 16): one man registered six times is one cluster of
//! fifteen cases, closed by one decision; a split links each group and dismisses the cases
//! between groups; a pair linked alone closes the cases it makes moot; a case whose two sides
//! are already one person closes as linked, with no op.

use civreg_testkit::prelude as common;

use civreg_hub::linkage::clusters::{self, Choice};
use civreg_hub::linkage::duplicates::{self, DuplicateError, Status, Via};
use civreg_hub::linkage::persons;
use civreg_hub::store::HubStore;
use std::collections::BTreeMap;
use std::path::Path;

fn open(dir: &Path) -> HubStore {
    HubStore::open(&civreg_hub::paths::db_dir(dir), common::hub_keys(dir)).unwrap()
}

fn person(store: &HubStore, mention: &str) -> String {
    let (regno, role) = mention.rsplit_once('/').unwrap();
    persons::person_of(store, regno, role).unwrap().to_string()
}

const SIX: [&str; 6] = ["Arben", "Arbeni", "Arbën", "Arbin", "Albert", "Arben A."];

/// Six registrations of one man: one cluster; `duplicates decide-cluster --one-person` closes
/// all fifteen cases at once and every record is one person.
#[test]
fn one_man_registered_six_times_is_one_cluster_closed_by_one_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let six = common::seed_person_cluster(&dir, "prishtine", "1", &SIX);
    // Another man, twice, elsewhere: a cluster of his own.
    let two = common::seed_person_cluster(&dir, "peje", "1", &["Drilon", "Driloni"]);

    let list = common::hub_ok_json(&dir, &["duplicates", "clusters"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let big = list
        .iter()
        .find(|c| c["size"] == 6)
        .expect("the cluster of six");
    assert_eq!(big["cases"].as_array().unwrap().len(), 15);
    assert_eq!(big["nodes"].as_array().unwrap().len(), 6);
    assert_eq!(big["municipalities"], serde_json::json!(["prishtine"]));
    assert!(big["strongest"].as_f64().unwrap() > big["weakest"].as_f64().unwrap());
    let id = big["id"].as_str().unwrap().to_string();
    let only_peje =
        common::hub_ok_json(&dir, &["duplicates", "clusters", "--municipality", "Pejë"]);
    assert_eq!(only_peje.as_array().unwrap().len(), 1);
    assert_eq!(only_peje[0]["size"], 2);

    // The cluster's records side by side; the view is in the access log.
    let shown = common::hub_ok_json(&dir, &["duplicates", "cluster", &id, "--operator", "ana"]);
    assert_eq!(shown["records"].as_array().unwrap().len(), 6);
    let text = common::hub_run(&dir, &["duplicates", "cluster", &id, "--operator", "ana"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Arbën") && text.contains("Albert"), "{text}");
    let log = civreg_hub::access::read(&dir, &Default::default()).unwrap();
    assert!(log
        .iter()
        .any(|e| e.query == format!("cluster {id}") && e.by == "operator:ana"));

    // A decision needs a reason, and one of the two choices.
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "decide-cluster",
            &id,
            "--one-person",
            "--reason",
            " ",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason"));
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "decide-cluster",
            &id,
            "--reason",
            "x",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--one-person"));
    // A stale version is refused.
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "decide-cluster",
            &id,
            "--one-person",
            "--version",
            "0000",
            "--reason",
            "x",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed"));

    let version = shown["cluster"]["version"].as_str().unwrap();
    let d = common::hub_ok_json(
        &dir,
        &[
            "duplicates",
            "decide-cluster",
            &id,
            "--one-person",
            "--version",
            version,
            "--reason",
            "one man, six entries",
            "--operator",
            "ana",
        ],
    );
    assert_eq!(d["linked"].as_array().unwrap().len(), 15);
    assert!(d["dismissed"].as_array().unwrap().is_empty());
    assert_eq!(d["groups"].as_array().unwrap().len(), 1);
    // One op per record moved (the first is the person's own).
    assert_eq!(d["ops"].as_array().unwrap().len(), 5);
    let left = common::hub_ok_json(&dir, &["duplicates", "clusters"]);
    assert_eq!(left.as_array().unwrap().len(), 1, "only the other man's");
    assert_eq!(left[0]["size"], 2);
    // Decided once: the cluster has no open case left.
    let out = common::hub_run(
        &dir,
        &[
            "duplicates",
            "decide-cluster",
            &id,
            "--one-person",
            "--reason",
            "again",
            "--operator",
            "bo",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no open cluster"));

    let store = open(&dir);
    let p = person(&store, &six[0]);
    assert_eq!(d["groups"][0]["person"], p.as_str());
    for m in &six {
        assert_eq!(person(&store, m), p, "{m}");
    }
    assert_ne!(person(&store, &two[0]), p);
    let cases = duplicates::list(&store, None, true).unwrap();
    let mine: Vec<_> = cases
        .iter()
        .filter(|c| six.contains(&c.a) && six.contains(&c.b))
        .collect();
    assert_eq!(mine.len(), 15);
    for c in mine {
        assert_eq!(c.status, Status::Linked, "{}", c.id);
        let last = c.decisions.last().unwrap();
        assert_eq!(last.operator, "ana");
        assert_eq!(last.reason, "one man, six entries");
        assert_eq!(last.via, Some(Via::Cluster(id.clone())));
    }
    let kept = clusters::decisions(&store, &id).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].choice, "one");
    assert_eq!(kept[0].ops.len(), 5);
    // The links are ops of the hub's chain, in the operator's name.
    let (regno, _) = six[3].rsplit_once('/').unwrap();
    let st = store.record(regno).unwrap().unwrap();
    assert_eq!(st.persons["child"].person, p);
    assert_eq!(st.persons["child"].clerk, "operator:ana");
}

/// Two men of the same name, three records each, all filed against each other: a split links
/// each group as one person and dismisses the nine cases between them.
#[test]
fn a_split_links_each_group_and_dismisses_the_cases_between_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let six = common::seed_person_cluster(&dir, "prizren", "1", &SIX);
    let store = open(&dir);
    let all = clusters::list(&store, None).unwrap();
    assert_eq!(all.len(), 1);
    let cl = &all[0];
    let (x, y) = (&six[..3], &six[3..]);
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    for m in x {
        groups.insert(m.clone(), "2".into());
    }
    for m in y {
        groups.insert(m.clone(), "1".into());
    }

    // Every record needs a group, a number in range, and nothing outside the cluster.
    let mut missing = groups.clone();
    missing.remove(&six[5]);
    let e = clusters::decide(&store, &cl.id, None, &Choice::Split(missing), "ana", "r");
    assert!(
        matches!(e, Err(DuplicateError::Unassigned(ref m)) if *m == six[5]),
        "{e:?}"
    );
    let mut bad = groups.clone();
    bad.insert(six[0].clone(), "7".into());
    let e = clusters::decide(&store, &cl.id, None, &Choice::Split(bad), "ana", "r");
    assert!(matches!(e, Err(DuplicateError::BadGroup { .. })), "{e:?}");
    let mut extra = groups.clone();
    extra.insert("PRIZREN-2026-B-999999/child".into(), "1".into());
    let e = clusters::decide(&store, &cl.id, None, &Choice::Split(extra), "ana", "r");
    assert!(
        matches!(e, Err(DuplicateError::NotInCluster { .. })),
        "{e:?}"
    );
    assert_eq!(
        duplicates::list(&store, None, false).unwrap().len(),
        15,
        "nothing decided by a refused decision"
    );

    let d = clusters::decide(
        &store,
        &cl.id,
        Some(&cl.version),
        &Choice::Split(groups),
        "ana",
        "two men of one name: fathers differ",
    )
    .unwrap();
    assert_eq!(d.choice, "split");
    assert_eq!(d.groups.len(), 2);
    assert_eq!(d.linked.len(), 6, "3 + 3 cases inside the groups");
    assert_eq!(d.dismissed.len(), 9, "3 × 3 cases across");
    let px = person(&store, &x[0]);
    let py = person(&store, &y[0]);
    assert_ne!(px, py);
    for m in x {
        assert_eq!(person(&store, m), px);
    }
    for m in y {
        assert_eq!(person(&store, m), py);
    }
    for c in duplicates::list(&store, None, true).unwrap() {
        let across = x.contains(&c.a) != x.contains(&c.b);
        let want = if across {
            Status::Dismissed
        } else {
            Status::Linked
        };
        assert_eq!(c.status, want, "{} {} {}", c.id, c.a, c.b);
        assert_eq!(
            c.decisions.last().unwrap().via,
            Some(Via::Cluster(cl.id.clone()))
        );
    }
    assert!(clusters::list(&store, None).unwrap().is_empty());
}

/// Three records of one child: linking A–B leaves A–C and B–C open (C is not decided yet);
/// linking A–C then makes B–C moot, and it closes as linked by that case, not dismissed. A case
/// whose two sides are already one person closes as linked with no op.
#[test]
fn a_pair_linked_alone_closes_the_cases_it_makes_moot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    common::make_hub_key(&dir);
    let m = common::seed_person_cluster(&dir, "gjakove", "1", &["Besnik", "Besniku", "Besnick"]);
    let store = open(&dir);
    let id = |a: usize, b: usize| duplicates::case_id(&m[a], &m[b]);
    let cl = clusters::list(&store, None).unwrap();
    assert_eq!((cl.len(), cl[0].size, cl[0].cases.len()), (1, 3, 3));

    duplicates::link(&store, &id(0, 1), "ana", "same child").unwrap();
    assert_eq!(
        duplicates::get(&store, &id(0, 2)).unwrap().status,
        Status::Open
    );
    assert_eq!(
        duplicates::get(&store, &id(1, 2)).unwrap().status,
        Status::Open
    );
    // A and B now count as one node: one cluster of three records, two people, two cases.
    let cl = clusters::list(&store, None).unwrap();
    assert_eq!(cl.len(), 1);
    assert_eq!(
        (cl[0].size, cl[0].nodes.len(), cl[0].cases.len()),
        (3, 2, 2)
    );
    // Two records of one person can not be put in different groups.
    let mut g = BTreeMap::new();
    g.insert(m[0].clone(), "1".to_string());
    g.insert(m[1].clone(), "2".to_string());
    g.insert(m[2].clone(), "2".to_string());
    let e = clusters::decide(&store, &cl[0].id, None, &Choice::Split(g), "ana", "r");
    assert!(
        matches!(e, Err(DuplicateError::SplitsAPerson { .. })),
        "{e:?}"
    );

    let linked = duplicates::link(&store, &id(0, 2), "ana", "same child again").unwrap();
    assert_eq!(linked.status, Status::Linked);
    let moot = duplicates::get(&store, &id(1, 2)).unwrap();
    assert_eq!(moot.status, Status::Linked, "closed, not left open");
    let last = moot.decisions.last().unwrap();
    assert_eq!(last.via, Some(Via::Case(id(0, 2))));
    assert_eq!(last.operator, "ana");
    assert!(clusters::list(&store, None).unwrap().is_empty());
    assert_eq!(person(&store, &m[1]), person(&store, &m[2]));

    // A case filed before this change between two sides already one person (it was left open):
    // "link" closes it as linked, with no op, instead of refusing.
    let (c, w) = duplicates::new_case(
        &store,
        duplicates::Found {
            a: m[2].clone(),
            b: format!("{}/mother", m[1].rsplit_once('/').unwrap().0),
            weight: 1.0,
            probability: 0.1,
            class: "possible".into(),
            source: "dedupe".into(),
        },
    )
    .unwrap()
    .unwrap();
    store.aux_write(&[w]).unwrap();
    // Make its two sides one person the way a stale queue had them: link the mother to the child.
    persons::link(&store, &c.a, &c.b, "operator:ana", "test setup", vec![]).unwrap();
    let closed = duplicates::link(&store, &c.id, "bo", "already one person").unwrap();
    assert_eq!(closed.status, Status::Linked);
    let last = closed.decisions.last().unwrap();
    assert_eq!(last.via, Some(Via::Already));
    assert!(last.ops.is_empty());
}
