//! The linkage's state decided by several hubs over one database at once: two stores over one
//! shared backend ([`crate::store::tests_concurrent::Shared`]), as two hub processes over one
//! PostgreSQL, each test on every backend. Writers start together behind a barrier; each store
//! has its own locks (a process's), so only the store's compare-and-set keeps them apart.

use super::duplicates::{self, DuplicateError, Found, Status};
use super::import::{import_file, ImportReport};
use super::persons;
use crate::search::{self, Blinder};
use crate::store::tests_concurrent::{on_every_shared_backend, Shared};
use crate::store::HubStore;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;

on_every_shared_backend!(
    two_hubs_importing_into_one_municipality_never_mint_one_number_twice,
    two_hubs_asking_for_a_persons_identifier_give_each_mention_one,
    two_hubs_deciding_one_duplicate_case_decide_it_once,
);

const SURNAMES: [&str; 10] = [
    "Gashi", "Krasniqi", "Berisha", "Hoxha", "Shala", "Morina", "Kastrati", "Rama", "Bytyqi",
    "Ahmeti",
];

/// A register file of `rows` births of `given` named children, from register book `book`.
fn register_file(dir: &Path, book: &str, given: &str, rows: usize) -> std::path::PathBuf {
    let mut csv = String::from("kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n");
    for i in 0..rows {
        let surname = SURNAMES[i % SURNAMES.len()];
        csv.push_str(&format!(
            "birth,{book},1973,{},1,{given},{surname},male,1973-03-{:02},Prizren,Drita,{surname}\n",
            i + 1,
            i % 28 + 1
        ));
    }
    let path = dir.join(format!("{book}.csv"));
    std::fs::write(&path, csv).unwrap();
    path
}

fn import(store: &HubStore, blinder: &Blinder, file: &Path) -> ImportReport {
    import_file(store, blinder, file, "prizren", "ana", &mut |_, _, _| {}).unwrap()
}

/// Two hubs import two register books into one municipality at once: every record gets a
/// number of its own (the series' last number is a condition of each group's write), and
/// each number holds the record its import reported.
fn two_hubs_importing_into_one_municipality_never_mint_one_number_twice(db: Shared) {
    const ROWS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    // One search key for the agency's hubs (their import keys must agree).
    let blinder = Arc::new(Blinder::open(&search::key_path(dir.path())).unwrap());
    let files = [
        register_file(dir.path(), "A", "Arta", ROWS),
        register_file(dir.path(), "B", "Blerim", ROWS),
    ];
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let start = Arc::new(Barrier::new(2));
    let imports: Vec<_> = stores
        .iter()
        .zip(files)
        .map(|(store, file)| {
            let (store, blinder, start) = (store.clone(), blinder.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                import(&store, &blinder, &file)
            })
        })
        .collect();
    let reports: Vec<ImportReport> = imports.into_iter().map(|t| t.join().unwrap()).collect();
    let mut numbers = BTreeSet::new();
    for (report, given) in reports.iter().zip(["Arta", "Blerim"]) {
        assert_eq!(report.imported.len(), ROWS, "{:?}", report.skipped);
        for row in &report.imported {
            assert!(
                numbers.insert(row.regno.clone()),
                "{} minted twice",
                row.regno
            );
            let st = stores[0].record(&row.regno).unwrap().expect("held");
            assert_eq!(
                st.fields.get("child.given_name"),
                Some(&serde_json::Value::from(given)),
                "{} holds another import's record",
                row.regno
            );
            assert_eq!(st.conflicts.len(), 0, "{}", row.regno);
        }
    }
    assert_eq!(numbers.len(), 2 * ROWS);
    // Run again at the other hub: everything is imported already.
    let again = import(&stores[1], &blinder, &dir.path().join("A.csv"));
    assert_eq!(again.imported.len(), 0);
    assert_eq!(again.skipped.len(), ROWS);
}

/// Two hubs asked for the same people's identifiers at once (a page shown at each): each
/// mention gets one identifier, the same at both, and no identifier names two mentions.
fn two_hubs_asking_for_a_persons_identifier_give_each_mention_one(db: Shared) {
    const MENTIONS: usize = 60;
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let start = Arc::new(Barrier::new(2));
    let askers: Vec<_> = stores
        .iter()
        .map(|store| {
            let (store, start) = (store.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                (1..=MENTIONS)
                    .map(|i| {
                        persons::own_id(&store, &format!("PRIZREN-2026-B-{i:06}/child")).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let got: Vec<Vec<_>> = askers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        got[0], got[1],
        "one identifier per mention, whichever hub asked"
    );
    let distinct: BTreeSet<_> = got[0].iter().collect();
    assert_eq!(distinct.len(), MENTIONS);
    for (i, p) in got[0].iter().enumerate() {
        let mention = format!("PRIZREN-2026-B-{:06}/child", i + 1);
        assert_eq!(persons::minted(&stores[1], &mention).unwrap(), Some(*p));
        assert_eq!(persons::members(&stores[0], p).unwrap(), vec![mention]);
    }
}

/// One hub links a duplicate case while another dismisses it: one decision is kept, the other
/// is refused as already decided, and the people are linked exactly when the link won.
fn two_hubs_deciding_one_duplicate_case_decide_it_once(db: Shared) {
    const CASES: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let blinder = Blinder::open(&search::key_path(dir.path())).unwrap();
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let report = import(
        &stores[0],
        &blinder,
        &register_file(dir.path(), "C", "Arta", 2 * CASES),
    );
    let mentions: Vec<String> = report
        .imported
        .iter()
        .map(|r| format!("{}/child", r.regno))
        .collect();
    let found: Vec<Found> = mentions
        .chunks(2)
        .map(|pair| Found {
            a: pair[0].clone(),
            b: pair[1].clone(),
            weight: 12.0,
            probability: 0.9,
            class: "possible".into(),
            source: "test".into(),
        })
        .collect();
    assert_eq!(duplicates::file(&stores[0], found).unwrap(), CASES);
    let ids: Vec<String> = mentions
        .chunks(2)
        .map(|p| duplicates::case_id(&p[0], &p[1]))
        .collect();
    let start = Arc::new(Barrier::new(2));
    let deciders: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let (store, start, ids) = (store.clone(), start.clone(), ids.clone());
            thread::spawn(move || {
                start.wait();
                ids.iter()
                    .map(|id| match w {
                        0 => duplicates::link(&store, id, "ana", "same child"),
                        _ => duplicates::dismiss(&store, id, "bora", "different children"),
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<Vec<Result<_, DuplicateError>>> =
        deciders.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        let (linked, dismissed) = (&answers[0][i], &answers[1][i]);
        assert!(
            linked.is_ok() != dismissed.is_ok(),
            "case {id}: exactly one decision is taken, got {:?} and {:?}",
            linked.as_ref().map(|c| c.status),
            dismissed.as_ref().map(|c| c.status)
        );
        let refused = if linked.is_ok() { dismissed } else { linked };
        assert!(
            matches!(refused, Err(DuplicateError::Decided { .. })),
            "case {id}: the other is told it was decided: {refused:?}"
        );
        let held = duplicates::get(&stores[i % 2], id).unwrap();
        assert_eq!(held.decisions.len(), 1, "case {id}: {:?}", held.decisions);
        let (a, b) = (&mentions[2 * i], &mentions[2 * i + 1]);
        let person = |m: &str| {
            let (regno, role) = m.rsplit_once('/').unwrap();
            persons::person_of(&stores[0], regno, role).unwrap()
        };
        if linked.is_ok() {
            assert_eq!(held.status, Status::Linked);
            assert_eq!(person(a), person(b), "case {id}");
        } else {
            assert_eq!(held.status, Status::Dismissed);
            assert_ne!(person(a), person(b), "case {id}");
        }
    }
}
