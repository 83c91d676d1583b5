//! The at-rest key's rotation on each backend (memory and sled): everything reads back the
//! same under the new key, an interruption at any point is refused at open and resumed, a value
//! under neither key stops it.

use super::*;
use crate::pki::PeerIdentity;
use crate::store::backend::memory::MemoryBackend;
use crate::store::backend::sled::SledBackend;
use crate::store::{FiledConflict, HubRecord};
use civreg_shared::fields::FieldChange;
use civreg_shared::ids::RegNo;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use serde_json::json;

/// An op of chain m/n at `seq` after `prev`: a create of its own record, or an amend of
/// `on`'s record (based on `on`).
fn op(m: &str, n: &str, seq: u64, prev: Hash, on: Option<&Op>) -> Op {
    let (record_id, change, base, value) = match on {
        None => (
            RegNo::mint(m, 2026, RecordKind::Birth, n, seq).to_string(),
            ChangeKind::Create,
            vec![],
            format!("Gashi {seq}"),
        ),
        Some(o) => (
            o.record_id.clone(),
            ChangeKind::Amend,
            vec![o.id.clone()],
            format!("Krasniqi {n}"),
        ),
    };
    Op {
        format: OP_FORMAT,
        id: OpId {
            municipality: m.into(),
            node_id: n.into(),
            seq,
        },
        hlc: Hlc {
            wall_ms: 1_790_000_000_000 + seq,
            logical: 0,
        },
        clerk: "ana".into(),
        record_id,
        record_kind: RecordKind::Birth,
        change,
        changes: vec![FieldChange {
            path: "child.surname".into(),
            value: json!(value),
        }],
        base,
        reason: if on.is_some() {
            "typo".into()
        } else {
            String::new()
        },
        prev_hash: prev,
        hash: Hash::default(),
    }
    .seal()
}

use civreg_shared::op::ChangeKind;

fn node(m: &str, n: &str) -> PeerIdentity {
    PeerIdentity::Node {
        municipality: m.into(),
        node_id: n.into(),
    }
}

/// Everything the store holds under its key, read through the store.
#[derive(Debug, PartialEq)]
struct Snapshot {
    records: Vec<HubRecord>,
    chains: Vec<Vec<Op>>,
    conflicts: Vec<String>,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
}

fn snapshot(s: &HubStore) -> Snapshot {
    Snapshot {
        records: s.records_with_prefix("").collect::<Result<_, _>>().unwrap(),
        chains: s
            .heads()
            .iter()
            .map(|(c, _)| {
                let (m, n) = c.split_once('/').unwrap();
                s.chain_ops(m, n).unwrap()
            })
            .collect(),
        conflicts: s
            .conflicts()
            .map(|c| {
                let c: FiledConflict = c.unwrap();
                serde_json::to_string(&c).unwrap()
            })
            .collect(),
        aux: s.aux_scan(b"t/").collect::<Result<_, _>>().unwrap(),
    }
}

/// A store with two offices' chains (40 records, a concurrent amend of one record by both,
/// so a filed conflict), and auxiliary entries.
fn populate(s: &HubStore) -> Snapshot {
    let mut ops = Vec::new();
    let mut prev = GENESIS;
    for seq in 1..=40 {
        let o = op("prishtine", "1", seq, prev, None);
        prev = o.hash;
        ops.push(o);
    }
    let first = ops[0].clone();
    let mine = op("prishtine", "1", 41, prev, Some(&first));
    ops.push(mine);
    let heads = s.ingest(vec![(node("prishtine", "1"), ops)]).unwrap();
    assert!(heads[0].is_ok(), "{heads:?}");
    let theirs = op("prishtine", "2", 1, GENESIS, Some(&first));
    let heads = s
        .ingest(vec![(node("prishtine", "2"), vec![theirs])])
        .unwrap();
    assert!(heads[0].is_ok(), "{heads:?}");
    let aux: Vec<_> = (0..25)
        .map(|i| {
            (
                format!("t/{i:03}").into_bytes(),
                Some(format!("value {i}").into_bytes()),
            )
        })
        .collect();
    s.aux_write(&aux).unwrap();
    let snap = snapshot(s);
    assert_eq!(snap.records.len(), 40);
    assert_eq!(snap.chains.len(), 2);
    assert!(!snap.conflicts.is_empty(), "a conflict was filed");
    assert_eq!(snap.aux.len(), 25);
    snap
}

/// The database of one test, opened again as a restart would.
enum Db {
    Sled(std::path::PathBuf),
    Memory(Arc<MemoryBackend>),
}

impl Db {
    fn backend(&self) -> Arc<dyn HubBackend> {
        match self {
            Db::Sled(p) => {
                // sled releases its lock a moment after the last handle is dropped.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    match SledBackend::open(p) {
                        Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                            std::thread::sleep(std::time::Duration::from_millis(20))
                        }
                        other => return Arc::new(other.unwrap()),
                    }
                }
            }
            Db::Memory(b) => b.clone(),
        }
    }

    fn open(&self, key: &Path) -> Result<HubStore, StoreError> {
        HubStore::open_backend(self.backend(), atrest::load_key(key).unwrap())
    }
}

fn on_both(test: impl Fn(Db, &Path)) {
    let d = tempfile::tempdir().unwrap();
    test(Db::Memory(Arc::new(MemoryBackend::new())), d.path());
    let d = tempfile::tempdir().unwrap();
    test(Db::Sled(d.path().join("db")), d.path());
}

fn check_after(db: &Db, key: &Path, old_key: &Path, before: &Snapshot) {
    let s = db.open(key).unwrap();
    assert_eq!(&snapshot(&s), before, "everything reads back");
    // Still writable: a new op goes in and reads back.
    let head = s.head("prishtine", "2");
    let more = op("prishtine", "2", 2, head.hash, None);
    assert!(s
        .ingest(vec![(node("prishtine", "2"), vec![more.clone()])])
        .unwrap()[0]
        .is_ok());
    assert_eq!(s.op(&more.id).unwrap().unwrap(), more);
    drop(s);
    assert!(matches!(db.open(old_key), Err(StoreError::WrongKey(_))));
}

#[test]
fn a_rotation_reseals_everything_and_retires_the_old_key() {
    on_both(|db, dir| {
        let key = dir.join("hub.key");
        atrest::create_key(&key).unwrap();
        let before = populate(&db.open(&key).unwrap());
        let sealed: usize = {
            let b = db.backend();
            STEPS
                .iter()
                .map(|s| {
                    let end = prefix_end(s.prefix);
                    b.scan(s.prefix, end.as_deref()).count()
                })
                .sum()
        };
        let old_text = std::fs::read(&key).unwrap();
        let new_file = dir.join("new.key");
        let mut batches = 0;
        let out = start(db.backend(), &key, &new_file, 7, &mut |_| batches += 1).unwrap();
        assert!(batches > 10, "small batches: {batches}");
        assert_eq!(
            out.values, sealed as u64,
            "every sealed value, once: {out:?}"
        );
        assert!(!new_file.exists(), "the new key moved to the key file");
        assert_ne!(std::fs::read(&key).unwrap(), old_text);
        assert_eq!(std::fs::read(&out.old_key_file).unwrap(), old_text);
        assert!(out
            .old_key_file
            .to_string_lossy()
            .contains(&format!(".old-{}", chrono::Utc::now().format("%Y-%m-%d"))));
        check_after(&db, &key, &out.old_key_file, &before);
        assert!(matches!(
            resume(db.backend(), &key, 7, &mut |_| {}),
            Err(RotateError::NothingToResume { .. })
        ));
    });
}

/// Interrupted at every stage (a panic in the progress callback, each batch being durable):
/// the store refuses to open with a message to resume, and the resumed rotation ends with
/// everything readable under the new key.
#[test]
fn an_interrupted_rotation_is_refused_at_open_and_resumes() {
    for stop_after in [1usize, 5, 12, usize::MAX] {
        on_both(|db, dir| {
            let key = dir.join("hub.key");
            atrest::create_key(&key).unwrap();
            let before = populate(&db.open(&key).unwrap());
            let new_file = dir.join("new.key");
            let mut seen = 0;
            let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = start(db.backend(), &key, &new_file, 4, &mut |r| {
                    seen += 1;
                    if seen == stop_after || (stop_after == usize::MAX && r.phase == Phase::Files) {
                        panic!("simulated crash");
                    }
                });
            }));
            assert!(crashed.is_err(), "stop {stop_after}: no crash simulated");
            let Err(refused) = db.open(&key) else {
                panic!("refused while rotating")
            };
            assert!(
                refused.to_string().contains("rotate-key --resume"),
                "{refused}"
            );
            assert!(matches!(
                start(db.backend(), &key, &dir.join("other.key"), 4, &mut |_| {}),
                Err(RotateError::InProgress { .. })
            ));
            if stop_after == 5 {
                // Without the new key the rotation can not go on, and says so.
                let aside = dir.join("aside.key");
                std::fs::rename(&new_file, &aside).unwrap();
                assert!(matches!(
                    resume(db.backend(), &key, 4, &mut |_| {}),
                    Err(RotateError::NewKeyMissing { .. })
                ));
                // Another key is not taken for it.
                atrest::create_key(&new_file).unwrap();
                assert!(matches!(
                    resume(db.backend(), &key, 4, &mut |_| {}),
                    Err(RotateError::NewKeyWrong { .. })
                ));
                std::fs::remove_file(&new_file).unwrap();
                std::fs::rename(&aside, &new_file).unwrap();
            }
            let out = resume(db.backend(), &key, 3, &mut |_| {}).unwrap();
            check_after(&db, &key, &out.old_key_file, &before);
        });
    }
}

#[test]
fn a_value_under_neither_key_stops_the_rotation_and_is_kept() {
    let backend: Arc<dyn HubBackend> = Arc::new(MemoryBackend::new());
    let old = atrest::keys_from_master(&[1; 32]);
    let new = atrest::keys_from_master(&[2; 32]);
    drop(HubStore::open_backend(backend.clone(), atrest::keys_from_master(&[1; 32])).unwrap());
    let mut b = Batch::default();
    b.put(aux::AUX.key("t/a"), old.seal("aux", b"t/a", b"fine"));
    b.put(aux::AUX.key("t/b"), b"garbage".to_vec());
    backend.apply(b).unwrap();
    let mut r = begin(&*backend, &new, "k".into(), "n".into(), "o".into()).unwrap();
    match reseal_all(&*backend, &old, &new, &mut r, 10, &mut |_| {}) {
        Err(RotateError::Neither { space: "aux", key }) => assert_eq!(key, "t/b"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        backend.get(&aux::AUX.key("t/b")).unwrap().unwrap(),
        b"garbage"
    );
    assert!(
        check_opens(&*backend, &old).unwrap(),
        "the old key is still the store's"
    );
}

/// A keyspace marked sealed that the rotation does not walk would stay under the old key.
#[test]
fn the_rotation_walks_every_sealed_keyspace() {
    let mut sealed: Vec<&str> = aux::KEYSPACES
        .iter()
        .filter(|k| k.sealed)
        .map(|k| k.name)
        .collect();
    let mut walked: Vec<&str> = STEPS.iter().map(|k| k.name).collect();
    sealed.sort();
    walked.sort();
    assert_eq!(sealed, walked);
}
