//! The search key's rotation: the index and the import keys are under the new key, a search by
//! personal number finds under it and not under the old, a rerun of the import imports nothing
//! twice; an interruption at any point is refused at open and resumed.

use super::*;
use crate::search::SearchQuery;
use crate::store::backend::memory::MemoryBackend;
use crate::store::StoreError;

const JMBG: &str = "1403968950011";

/// Rows without a register entry (their import keys are tokens; one row twice, so `#2`), and
/// one with (its key is in clear).
const CSV: &str = "\
kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,child.personal_numbers.jmbg,place_of_birth,mother.given_name,mother.surname
birth,,,,,Vlorjana,Qerkezaj,male,1968-03-14,1403968950011,Prizren,Drita,Qerkezaj
birth,,,,,Besa,Krasniqi,female,1970-01-01,,Prizren,Drita,Krasniqi
birth,,,,,Besa,Krasniqi,female,1970-01-01,,Prizren,Drita,Krasniqi
birth,,,,,Ardita,Berisha,female,1971-02-02,,Prizren,Mimoza,Berisha
birth,,,,,Liridon,Hoxha,male,1972-03-03,,Prizren,Mimoza,Hoxha
birth,L-1,1973,4,1,Arben,Gashi,male,1973-03-14,,Prizren,Drita,Gashi
";

fn keys() -> Sealer {
    crate::atrest::keys_from_master(&[5; 32])
}

struct Hub {
    dir: tempfile::TempDir,
    backend: Arc<MemoryBackend>,
}

impl Hub {
    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn open(&self) -> Result<HubStore, StoreError> {
        HubStore::open_backend(self.backend.clone(), keys())
    }

    fn import(&self) -> crate::linkage::import::ImportReport {
        let store = self.open().unwrap();
        let csv = self.dir.path().join("rows.csv");
        std::fs::write(&csv, CSV).unwrap();
        let blinder = Blinder::open(&search::key_path(self.data_dir())).unwrap();
        crate::linkage::import::import_file(
            &store,
            &blinder,
            &csv,
            "prizren",
            "ana",
            &mut |_, _, _| {},
        )
        .unwrap()
    }

    fn search(&self, index: &SearchIndex, text: &str) -> Vec<String> {
        index
            .search(&SearchQuery {
                text: text.into(),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.regno)
            .collect()
    }
}

/// A hub with imported rows and an index built under the first search key. Returns the number
/// of the record with the personal number.
fn populated() -> (Hub, String) {
    let hub = Hub {
        dir: tempfile::tempdir().unwrap(),
        backend: Arc::new(MemoryBackend::new()),
    };
    let report = hub.import();
    assert_eq!(report.imported.len(), 6, "{report:?}");
    let regno = report.imported[0].regno.clone();
    let store = hub.open().unwrap();
    let content_keys = store.aux_scan(&content_prefix()).count();
    assert_eq!(content_keys, 5, "five rows are keyed by a token");
    let ix = SearchIndex::open(hub.data_dir()).unwrap();
    ix.catch_up(&store).unwrap();
    assert_eq!(hub.search(&ix, JMBG), vec![regno.clone()]);
    (hub, regno)
}

fn check_after(hub: &Hub, regno: &str, out: &Outcome) {
    assert_eq!(out.import_keys_moved, 5, "{out:?}");
    assert_eq!(out.import_keys_unmatched, 0, "{out:?}");
    assert_eq!(out.indexed, 6);
    let store = hub.open().unwrap();
    let ix = SearchIndex::open(hub.data_dir()).unwrap();
    ix.catch_up(&store).unwrap();
    assert_eq!(
        hub.search(&ix, JMBG),
        vec![regno.to_string()],
        "found by number"
    );
    assert_eq!(hub.search(&ix, "Qerkezaj"), vec![regno.to_string()]);
    drop((ix, store));
    // The index holds no token of the old key any more.
    let old = SearchIndex::open_at(&search::index_dir(hub.data_dir()), &out.old_key_file).unwrap();
    assert!(
        hub.search(&old, JMBG).is_empty(),
        "an old token matches nothing"
    );
    drop(old);
    assert!(!staging_dir(hub.data_dir()).exists());
    // The import keys were derived again: the same file imports nothing twice.
    let again = hub.import();
    assert!(again.imported.is_empty(), "{again:?}");
    assert_eq!(again.skipped.len(), 6);
}

#[test]
fn a_rotation_rebuilds_the_index_and_the_import_keys_under_the_new_key() {
    let (hub, regno) = populated();
    let old_text = std::fs::read(search::key_path(hub.data_dir())).unwrap();
    let new_file = hub.data_dir().join("new-search.key");
    let mut batches = 0;
    let out = start(
        hub.data_dir(),
        hub.backend.clone(),
        keys(),
        &new_file,
        2,
        &mut |_| batches += 1,
    )
    .unwrap();
    assert!(batches >= 4, "small batches: {batches}");
    assert!(!new_file.exists());
    assert_eq!(std::fs::read(&out.old_key_file).unwrap(), old_text);
    assert_ne!(
        std::fs::read(search::key_path(hub.data_dir())).unwrap(),
        old_text
    );
    check_after(&hub, &regno, &out);
    assert!(matches!(
        resume(hub.data_dir(), hub.backend.clone(), keys(), 2, &mut |_| {}),
        Err(RotateError::NothingToResume { .. })
    ));
}

#[test]
fn an_interrupted_rotation_is_refused_at_open_and_resumes() {
    // 1, 2: among the import keys; 4: the index built; MAX: about to swap the files.
    for stop_after in [1usize, 2, 4, usize::MAX] {
        let (hub, regno) = populated();
        let new_file = hub.data_dir().join("new-search.key");
        let mut seen = 0;
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = start(
                hub.data_dir(),
                hub.backend.clone(),
                keys(),
                &new_file,
                2,
                &mut |r| {
                    seen += 1;
                    if seen == stop_after || (stop_after == usize::MAX && r.phase == Phase::Files) {
                        panic!("simulated crash");
                    }
                },
            );
        }));
        assert!(crashed.is_err(), "stop {stop_after}: no crash simulated");
        let Err(refused) = hub.open() else {
            panic!("refused while rotating")
        };
        assert!(
            refused.to_string().contains("rotate-search-key --resume"),
            "{refused}"
        );
        assert!(matches!(
            start(
                hub.data_dir(),
                hub.backend.clone(),
                keys(),
                &hub.data_dir().join("other.key"),
                2,
                &mut |_| {}
            ),
            Err(RotateError::InProgress { .. })
        ));
        if stop_after == 2 {
            let aside = hub.data_dir().join("aside.key");
            std::fs::rename(&new_file, &aside).unwrap();
            assert!(matches!(
                resume(hub.data_dir(), hub.backend.clone(), keys(), 2, &mut |_| {}),
                Err(RotateError::NewKeyMissing { .. })
            ));
            std::fs::write(&new_file, "11".repeat(32)).unwrap();
            assert!(matches!(
                resume(hub.data_dir(), hub.backend.clone(), keys(), 2, &mut |_| {}),
                Err(RotateError::NewKeyWrong { .. })
            ));
            std::fs::remove_file(&new_file).unwrap();
            std::fs::rename(&aside, &new_file).unwrap();
        }
        let out = resume(hub.data_dir(), hub.backend.clone(), keys(), 3, &mut |_| {}).unwrap();
        check_after(&hub, &regno, &out);
    }
}

/// A search key file gone missing under a filled index is refused, never replaced by a new key
/// (which would make every personal number searched find nothing); a new data directory still
/// gets its key made.
#[test]
fn a_missing_key_under_a_filled_index_is_refused_not_replaced() {
    let (hub, _regno) = populated();
    let key = search::key_path(hub.data_dir());
    std::fs::remove_file(&key).unwrap();
    let e = match SearchIndex::open(hub.data_dir()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a filled index opened without its key"),
    };
    assert!(e.contains("missing") && e.contains("backup"), "{e}");
    assert!(!key.exists(), "no new key was written");

    let fresh = tempfile::tempdir().unwrap();
    SearchIndex::open(fresh.path()).unwrap();
    assert!(search::key_path(fresh.path()).exists());
}
