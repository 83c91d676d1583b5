//! The store's test suite: each test runs on every backend ([`on_every_backend`]), except
//! those about sled itself (its files, its blob files, layouts older than the seam), which run
//! on sled only.

use super::commit::{RUN_BYTES, RUN_MAX};
use super::*;
use crate::pki::PeerIdentity;
use civreg_shared::fields::FieldChange;
use civreg_shared::ids::RegNo;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hlc, GENESIS, OP_FORMAT};
use serde_json::json;

pub(super) fn node(m: &str, n: &str) -> PeerIdentity {
    PeerIdentity::Node {
        municipality: m.into(),
        node_id: n.into(),
    }
}

/// An op of chain m/n at `seq` after `prev`: a create of its own record, or, with `on`, an
/// annotation of that op's record.
pub(super) fn op(m: &str, n: &str, seq: u64, prev: Hash, on: Option<&Op>) -> Op {
    let (record_id, change, base) = match on {
        None => (
            RegNo::mint(m, 2026, RecordKind::Birth, n, seq).to_string(),
            ChangeKind::Create,
            vec![],
        ),
        Some(o) => (
            o.record_id.clone(),
            ChangeKind::Annotate,
            vec![o.id.clone()],
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
            path: if on.is_some() {
                "notes.marriage"
            } else {
                "child.surname"
            }
            .into(),
            value: json!(format!("Gashi {seq}")),
        }],
        base,
        reason: String::new(),
        prev_hash: prev,
        hash: Hash::default(),
    }
    .seal()
}

/// Writes the store's record states back as layout 4 (and 3) kept them: one value per record
/// under `records`, no buckets.
fn unbucket(store: &HubStore, batch: &mut Batch) {
    for r in store.buckets.iter() {
        let (k, v) = r.unwrap();
        for (regno, st) in bucket_entries(&v).unwrap() {
            batch.put(store.records.key(regno.as_bytes()), st.to_vec());
        }
        batch.delete(store.buckets.key(&k));
    }
}

/// The database of one test, on one backend, opened again as a restart would.
enum Db {
    Sled(tempfile::TempDir),
    Memory(Arc<MemoryBackend>),
    /// A fresh database in the test process's PostgreSQL cluster ([`civreg_testkit::postgres`]).
    Postgres(String),
}

impl Db {
    fn sled() -> Db {
        Db::Sled(tempfile::tempdir().unwrap())
    }

    fn memory() -> Db {
        Db::Memory(Arc::new(MemoryBackend::new()))
    }

    fn postgres() -> Db {
        Db::Postgres(civreg_testkit::postgres::database().url)
    }

    /// Opens the store, or opens it again once the last one was dropped.
    fn open(&self) -> HubStore {
        match self {
            Db::Sled(dir) => reopen(&dir.path().join("db")),
            Db::Memory(b) => HubStore::open_backend(b.clone(), keys()).unwrap(),
            Db::Postgres(url) => {
                HubStore::open_at(&crate::paths::StoreAt::Postgres(url.clone()), keys()).unwrap()
            }
        }
    }
}

/// Runs each named test function (taking a [`Db`]) once per backend, as `on_sled::NAME`,
/// `in_memory::NAME` and `on_postgres::NAME`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod on_sled {
            $(#[test]
            fn $name() {
                super::$name(super::Db::sled())
            })*
        }
        mod in_memory {
            $(#[test]
            fn $name() {
                super::$name(super::Db::memory())
            })*
        }
        mod on_postgres {
            $(#[test]
            fn $name() {
                super::$name(super::Db::postgres())
            })*
        }
    };
}

on_every_backend!(
    ops_are_stored_in_runs_and_read_back_by_id_by_chain_and_by_feed_cursor,
    record_states_are_kept_in_buckets_read_by_number_and_prefix_and_upgraded_from_layout_4,
    a_refused_op_is_set_aside_by_hash_and_the_chain_goes_on,
    the_backend_applies_batches_atomically_and_scans_without_skipping,
    clerk_accounts_are_kept_per_office_sealed_and_survive_a_restart,
);

/// An office's clerk accounts (`crate::clerks`, `aux` `clerks/M/N`): kept per office, replaced
/// whole, read back after a restart, refused whole when malformed, and sealed at rest: neither
/// a name nor a hash is in clear in the backend.
fn clerk_accounts_are_kept_per_office_sealed_and_survive_a_restart(db: Db) {
    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG7xm4HTcgcsQ";
    let roster = |version: u64, names: &[&str]| civreg_proto::v1::ClerkRoster {
        version,
        clerks: names
            .iter()
            .map(|n| civreg_proto::v1::ClerkAccount {
                name: (*n).into(),
                password_hash: PHC.into(),
            })
            .collect(),
        received_ms: 0,
    };
    let store = db.open();
    let kept = crate::clerks::take(&store, "istog", "1", &roster(2, &["drita", "besnik"]), 5)
        .unwrap()
        .unwrap();
    assert_eq!(kept.received_ms, 5);
    let refused = crate::clerks::take(&store, "istog", "1", &roster(3, &["Drita"]), 6).unwrap();
    assert!(refused.is_err());
    assert_eq!(crate::clerks::held(&store, "istog", "2").unwrap(), None);
    let raw = store
        .backend
        .get(&aux::AUX.key(aux::aux_key(aux::CLERKS, "istog/1")))
        .unwrap()
        .expect("kept");
    for clear in [&b"besnik"[..], b"argon2id", b"c29tZXNhbHRzb21lc2FsdA"] {
        assert!(
            !raw.windows(clear.len()).any(|w| w == clear),
            "{} in clear",
            String::from_utf8_lossy(clear)
        );
    }
    drop(store);
    let store = db.open();
    assert_eq!(
        crate::clerks::held(&store, "istog", "1").unwrap(),
        Some(kept)
    );
    // A removal replaces the roster whole.
    crate::clerks::take(&store, "istog", "1", &roster(3, &["drita"]), 7)
        .unwrap()
        .unwrap();
    let held = crate::clerks::held(&store, "istog", "1").unwrap().unwrap();
    assert_eq!(held.roster.version, 3);
    assert_eq!(held.roster.clerks.len(), 1);
}

/// The key the stores of these tests are sealed with.
pub(super) fn keys() -> civreg_shared::seal::Sealer {
    crate::atrest::keys_from_master(&[7; 32])
}

/// Opens a store this process just closed: sled's background threads release the file lock
/// a moment after the last handle is dropped.
fn reopen(path: &Path) -> HubStore {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match HubStore::open(path, keys()) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.unwrap(),
        }
    }
}

fn ops_are_stored_in_runs_and_read_back_by_id_by_chain_and_by_feed_cursor(db: Db) {
    let store = db.open();
    let other = op("istog", "1", 1, GENESIS, None);
    store
        .ingest(vec![(node("istog", "1"), vec![other.clone()])])
        .unwrap()[0]
        .as_ref()
        .unwrap();
    // One push of 1,100 ops: #701 annotates Istog's record, so its feed owner differs; the
    // 700 before it are more than one run holds.
    let mut ops: Vec<Op> = Vec::new();
    for seq in 1..=1100 {
        let prev = ops.last().map_or(GENESIS, |o| o.hash);
        let on = (seq == 701).then_some(&other);
        ops.push(op("prishtine", "1", seq, prev, on));
    }
    let me = node("prishtine", "1");
    let head = *store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
        .as_ref()
        .unwrap();
    assert_eq!(head.seq, 1100);
    let check = |store: &HubStore| {
        assert_eq!(store.chain_ops("prishtine", "1").unwrap(), ops);
        // Runs stay under RUN_BYTES (so out of sled's unsynced blob files), and split a
        // chain's ops at that size, not only at RUN_MAX ops.
        let runs: Vec<usize> = store
            .feed
            .iter()
            .map(|r| {
                let (_, run) = r.unwrap();
                assert!(run.len() <= RUN_BYTES, "a run of {} bytes", run.len());
                run_ops(&run).unwrap().len()
            })
            .collect();
        assert!(runs.len() > 1101 / RUN_MAX + 2, "{runs:?}");
        assert_eq!(runs.iter().sum::<usize>(), 1101);
        for seq in [1, 2, 511, 512, 513, 700, 701, 702, 1099, 1100] {
            assert_eq!(
                store.op(&ops[seq - 1].id).unwrap().as_ref(),
                Some(&ops[seq - 1]),
                "op #{seq}"
            );
        }
        let mut missing = ops[0].id.clone();
        missing.seq = 1101;
        assert_eq!(store.op(&missing).unwrap(), None);
        missing.node_id = "9".into();
        missing.seq = 1;
        assert_eq!(store.op(&missing).unwrap(), None);
        // Prishtinë's feed read 97 at a time from every cursor it returns: every op of its
        // records exactly once, in chain order, the cursor rising.
        let (mut got, mut cursor) = (Vec::new(), 0);
        loop {
            let (batch, next) = store.feed_after("prishtine", cursor, 97).unwrap();
            if batch.is_empty() {
                assert_eq!(next, cursor);
                break;
            }
            assert!(batch.len() <= 97 && next > cursor);
            cursor = next;
            got.extend(batch);
        }
        let mine: Vec<Op> = ops.iter().filter(|o| o.id.seq != 701).cloned().collect();
        assert_eq!(got, mine);
        // Istog's feed: its own create, then the annotation made in Prishtinë.
        let (ist, _) = store.feed_after("istog", 0, 10).unwrap();
        assert_eq!(ist, vec![other.clone(), ops[700].clone()]);
        // The indexer's reading: the same positions, record numbers only.
        let (ids, next) = store.feed_records_after("prishtine", 600, 150).unwrap();
        let (full, next_full) = store.feed_after("prishtine", 600, 150).unwrap();
        assert_eq!(next, next_full);
        assert_eq!(
            ids,
            full.iter().map(|o| o.record_id.clone()).collect::<Vec<_>>()
        );
        assert_eq!(ids.len(), 150);
    };
    check(&store);
    // A replay of the whole push is harmless; a different op under a held number is a fork.
    assert_eq!(
        store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
            .as_ref()
            .unwrap(),
        &head
    );
    let mut forged = op("prishtine", "1", 600, ops[598].hash, None);
    forged.changes[0].value = json!("Krasniqi");
    let forged = forged.seal();
    assert!(matches!(
        store.ingest(vec![(me, vec![forged])]).unwrap()[0],
        Err(IngestError::Fork { seq: 600, .. })
    ));
    drop(store);
    check(&db.open());

    // The same database written as layout 3 did (one value per op, feed entries naming the
    // ops' keys) is upgraded at open, and reads the same.
    let store = db.open();
    let mut batch = Batch::default();
    for r in store.feed.iter() {
        let (fk, run) = r.unwrap();
        let last = key_number(&fk).unwrap();
        let parts = run_ops(&run).unwrap();
        let m = std::str::from_utf8(&fk[..fk.len() - 9]).unwrap();
        batch.delete(store.feed.key(&fk));
        for (i, v) in parts.iter().enumerate() {
            let o = decode_op(v).unwrap();
            let ok = op_key(&chain_key(&o.id.municipality, &o.id.node_id), o.id.seq);
            let pos = last + 1 - parts.len() as u64 + i as u64;
            batch.put(store.feed.key(feed_key(m, pos)), ok.clone());
            batch.put(store.ops.key(&ok), v.to_vec());
        }
    }
    unbucket(&store, &mut batch);
    store.backend.apply(batch).unwrap();
    store.backend.set_layout(LAYOUT_3).unwrap();
    drop(store);
    let store = db.open();
    assert_eq!(store.backend.layout().unwrap().unwrap().as_slice(), LAYOUT);
    check(&store);
    // Ingest goes on after the upgrade.
    let next = op("prishtine", "1", 1101, ops[1099].hash, None);
    let head = *store
        .ingest(vec![(node("prishtine", "1"), vec![next.clone()])])
        .unwrap()[0]
        .as_ref()
        .unwrap();
    assert_eq!(head.seq, 1101);
    assert_eq!(store.op(&next.id).unwrap(), Some(next));
}

#[test]
fn an_op_too_big_for_sleds_log_is_synced_before_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let sled = Arc::new(SledBackend::open(&path).unwrap());
    let store = HubStore::open_backend(sled.clone(), keys()).unwrap();
    let small = op("prishtine", "1", 1, GENESIS, None);
    let mut big = op("prishtine", "1", 2, small.hash, None);
    // A 300 KB note: over a quarter of sled's log segment, so sled writes it to a blob file.
    big.changes[0].value = json!("x".repeat(300_000));
    let big = big.seal();
    let me = node("prishtine", "1");
    assert_eq!(
        store
            .ingest(vec![(me, vec![small.clone(), big.clone()])])
            .unwrap()[0]
            .as_ref()
            .unwrap()
            .seq,
        2
    );
    let blobs = sled.blobs().unwrap();
    let on_disk = blobs.on_disk();
    assert!(
        !on_disk.is_empty(),
        "sled wrote no blob: the test needs a bigger op"
    );
    for name in &on_disk {
        assert!(blobs.is_synced(name), "blob {name:?} not synced");
    }
    drop(store);
    drop(sled);
    let store = reopen(&path);
    assert_eq!(store.op(&big.id).unwrap(), Some(big.clone()));
    assert_eq!(store.chain_ops("prishtine", "1").unwrap(), vec![small, big]);
}

fn record_states_are_kept_in_buckets_read_by_number_and_prefix_and_upgraded_from_layout_4(db: Db) {
    let store = db.open();
    // 25 creates of Prishtinë (buckets of numbers ...00-09, 10-19, 20-25), then, in a second
    // group, annotations of #9 and #10 (either side of a bucket's edge) and a new #26.
    let mut ops: Vec<Op> = Vec::new();
    for seq in 1..=25 {
        let prev = ops.last().map_or(GENESIS, |o| o.hash);
        ops.push(op("prishtine", "1", seq, prev, None));
    }
    let me = node("prishtine", "1");
    store.ingest(vec![(me.clone(), ops.clone())]).unwrap()[0]
        .as_ref()
        .unwrap();
    let mut more: Vec<Op> = Vec::new();
    for (seq, on) in [(26, Some(8)), (27, Some(9)), (28, None)] {
        let prev = more.last().unwrap_or(&ops[24]).hash;
        more.push(op("prishtine", "1", seq, prev, on.map(|i| &ops[i])));
    }
    // Numbers of another width in one series: bucket keys …-10000 and …-100000, whose
    // order is not the numbers' (…-100000 < …-1000000 < …-100001: the bucket …-10000 comes
    // back after …-100000).
    let wide = [100_000, 100_001, 1_000_000, 1_000_001];
    for (seq, number) in (29..).zip(wide) {
        let mut o = op("prishtine", "1", seq, more.last().unwrap().hash, None);
        o.record_id = RegNo::mint("prishtine", 2026, RecordKind::Birth, "1", number).to_string();
        more.push(o.seal());
    }
    store.ingest(vec![(me, more.clone())]).unwrap()[0]
        .as_ref()
        .unwrap();
    let regno = |seq: u64| RegNo::mint("prishtine", 2026, RecordKind::Birth, "1", seq).to_string();
    let expect = |store: &HubStore| {
        for seq in 1..=25u64 {
            let st = store.record(&regno(seq)).unwrap().expect("held");
            let amended = seq == 9 || seq == 10;
            assert_eq!(st.ops.len(), if amended { 2 } else { 1 }, "#{seq}");
            assert_eq!(st.fields["child.surname"], json!(format!("Gashi {seq}")));
            if amended {
                assert!(st.fields["notes.marriage"].is_string(), "#{seq}");
            }
        }
        assert!(store.record(&regno(28)).unwrap().is_some());
        assert!(store.record(&regno(29)).unwrap().is_none());
        // Read together, in the order asked, a number not held as None, repeats answered.
        let asked: Vec<String> = [29, 1, 9, 28, 1_000_000, 2, 29, 100_001]
            .into_iter()
            .map(regno)
            .collect();
        let many = store.records_many(&asked).unwrap();
        assert_eq!(many.len(), asked.len());
        for (r, got) in asked.iter().zip(&many) {
            assert_eq!(got, &store.record(r).unwrap(), "{r}");
        }
        assert!(many[0].is_none() && many[1].is_some() && many[7].is_some());
        let all: Vec<String> = store
            .records_with_prefix("PRISHTINE-")
            .map(|r| r.unwrap().regno)
            .collect();
        let mut want: Vec<String> = (1..=25).chain([28]).chain(wide).map(regno).collect();
        want.sort();
        assert_eq!(all, want, "every record once, in number order");
        let d = crate::review::digest(store, "prishtine").expect("records in number order");
        assert_eq!(d.records, 30);
        // Prefixes of every length, down to a whole number.
        for p in [
            regno(1),
            regno(10)[..regno(10).len() - 1].to_string(),
            regno(25),
        ] {
            let got: Vec<String> = store
                .records_with_prefix(&p)
                .map(|r| r.unwrap().regno)
                .collect();
            let want: Vec<&String> = all.iter().filter(|r| r.starts_with(&p)).collect();
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "prefix {p}");
        }
    };
    // Creates in one group write one value per bucket, not one per record.
    let buckets = store.buckets.iter().count();
    assert_eq!(
        buckets, 5,
        "numbers 1-9, 10-19, 20-28, 100000-100001, 1000000-1000001"
    );
    expect(&store);
    // The same states written as layout 4 kept them (one value per record), upgraded at
    // open, read the same.
    let mut batch = Batch::default();
    unbucket(&store, &mut batch);
    store.backend.apply(batch).unwrap();
    store.backend.set_layout(LAYOUT_4).unwrap();
    assert_eq!(store.buckets.iter().count(), 0);
    drop(store);
    let store = db.open();
    assert_eq!(store.backend.layout().unwrap().unwrap().as_slice(), LAYOUT);
    assert_eq!(
        store.records.iter().count(),
        0,
        "layout 4's entries are gone"
    );
    assert_eq!(store.buckets.iter().count(), 5);
    expect(&store);
}

/// Opens the sled database at `path` once the store that had it open lets go of its file
/// lock (sled's flusher thread ends a moment after the drop).
fn open_unlocked(path: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the store's file stays locked: {e}"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// Writes the store at `path` back as layout 5 kept it: every value in clear, no key check
/// (what 7705ca8 wrote). Then, if `interrupted`, seals every other value of each sealed
/// keyspace and writes the key check, as an upgrade stopped half-way leaves it.
fn back_to_layout_5(path: &Path, interrupted: bool) {
    let db = open_unlocked(path);
    let tree = db.open_tree("hub").unwrap();
    let k = keys();
    let names = [
        (&b"f/"[..], "feed"),
        (b"b/", "buckets"),
        (b"k/", "conflicts"),
        (b"x/", "aux"),
    ];
    let mut n = 0;
    for (prefix, name) in names {
        for r in tree.scan_prefix(prefix) {
            let (key, v) = r.unwrap();
            let plain = k.open(name, &key[prefix.len()..], &v).unwrap();
            n += 1;
            if !(interrupted && n % 2 == 0) {
                tree.insert(&key, plain).unwrap();
            }
        }
    }
    if !interrupted {
        tree.remove(b"m/key_check").unwrap();
    }
    tree.insert(b"m/layout", LAYOUT_5).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_layout_5_store_is_sealed_at_open_resumably_and_never_with_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = HubStore::open(&path, keys()).unwrap();
    let mut ops: Vec<Op> = Vec::new();
    for seq in 1..=30 {
        let prev = ops.last().map_or(GENESIS, |o| o.hash);
        ops.push(op("prishtine", "1", seq, prev, None));
    }
    store
        .ingest(vec![(node("prishtine", "1"), ops.clone())])
        .unwrap()[0]
        .as_ref()
        .unwrap();
    store
        .aux_write(&[(b"t/1".to_vec(), Some(b"Drita Gashi".to_vec()))])
        .unwrap();
    let states: Vec<HubRecord> = store
        .records_with_prefix("")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(states.len(), 30);
    drop(store);
    let expect = |store: &HubStore| {
        assert_eq!(store.chain_ops("prishtine", "1").unwrap(), ops);
        assert_eq!(store.feed_after("prishtine", 0, 1000).unwrap().0, ops);
        let now: Vec<HubRecord> = store
            .records_with_prefix("")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&now).unwrap(),
            serde_json::to_value(&states).unwrap()
        );
        assert_eq!(
            store.aux_get(b"t/1").unwrap().as_deref(),
            Some(&b"Drita Gashi"[..])
        );
        assert_eq!(store.meta.get("layout").unwrap().as_deref(), Some(LAYOUT));
    };
    // In clear, then sealed at open: nothing of a name is left in a value.
    let in_clear = |path: &Path| {
        let db = open_unlocked(path);
        let tree = db.open_tree("hub").unwrap();
        tree.iter()
            .filter(|r| r.as_ref().unwrap().1.windows(5).any(|w| w == b"Gashi"))
            .count()
    };
    back_to_layout_5(&path, false);
    assert!(in_clear(&path) > 0, "layout 5 holds names in clear");
    let store = reopen(&path);
    expect(&store);
    drop(store);
    assert_eq!(in_clear(&path), 0, "layout 6 holds no name in clear");
    // An upgrade stopped half-way resumes, and only with the key it began with.
    back_to_layout_5(&path, true);
    let wrong = loop {
        match HubStore::open(&path, crate::atrest::keys_from_master(&[8; 32])) {
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => break other,
        }
    };
    let e = wrong.err().expect("a wrong key is refused");
    assert!(matches!(e, StoreError::WrongKey(_)), "{e}");
    assert!(e.to_string().contains("--key-file"), "{e}");
    let store = reopen(&path);
    expect(&store);
    drop(store);
    assert_eq!(in_clear(&path), 0);
    // A sealed store opened with another key is refused, and so is a value altered on disk.
    let e = loop {
        match HubStore::open(&path, crate::atrest::keys_from_master(&[8; 32])) {
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => break other.err().expect("a wrong key is refused"),
        }
    };
    assert!(matches!(e, StoreError::WrongKey(_)), "{e}");
}

/// An op the hub refuses for good is set aside by its hash: the chain goes on past it, the
/// op is in no record and no feed, a repeat of it is "already held", the decision survives a
/// restart, and only the next op, with a reason and its true hash, can be set aside.
fn a_refused_op_is_set_aside_by_hash_and_the_chain_goes_on(db: Db) {
    let store = db.open();
    let who = node("istog", "1");
    let first = op("istog", "1", 1, GENESIS, None);
    // An annotation of a record nobody created: the hub will never take it.
    let ghost = op("istog", "1", 99, GENESIS, None);
    let bad = op("istog", "1", 2, first.hash, Some(&ghost));
    let third = op("istog", "1", 3, bad.hash, None);
    let ingest = |ops: Vec<Op>| store.ingest(vec![(who.clone(), ops)]).unwrap().remove(0);

    // Refused as a batch: nothing stored, and the op refused is not the next one.
    assert!(ingest(vec![first.clone(), bad.clone(), third.clone()]).is_err());
    assert_eq!(store.head("istog", "1").seq, 0);
    assert_eq!(store.refused_op("istog", "1"), None);
    let e = store
        .set_aside("istog", "1", 2, None, "x", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::UnknownChain { .. }), "{e}");

    // One at a time: the first goes in, the second is refused and remembered with its hash.
    assert_eq!(ingest(vec![first.clone()]).unwrap().seq, 1);
    let refusal = ingest(vec![bad.clone()]).unwrap_err();
    let seen = store.refused_op("istog", "1").expect("remembered");
    assert_eq!((seen.seq, seen.hash), (2, bad.hash));
    assert_eq!(seen.why, refusal.to_string());

    let e = store
        .set_aside("istog", "1", 3, None, "x", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::NotNext { held: 1, .. }), "{e}");
    let e = store
        .set_aside("istog", "1", 2, None, "  ", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::NoReason), "{e}");
    let e = store
        .set_aside("istog", "1", 2, Some(third.hash), "typo", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::WrongHash { .. }), "{e}");
    let e = store
        .set_aside("istog", "9", 1, None, "x", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::UnknownChain { .. }), "{e}");
    let d = store
        .set_aside(
            "istog",
            "1",
            2,
            None,
            "annotation of a record never made",
            "op:a",
        )
        .unwrap();
    assert_eq!(
        (d.seq, d.hash, d.record_id.as_deref()),
        (2, bad.hash, Some(bad.record_id.as_str()))
    );
    assert_eq!(
        store.head("istog", "1"),
        Head {
            seq: 2,
            hash: bad.hash
        }
    );
    assert_eq!(store.refused_op("istog", "1"), None);

    // The chain goes on; the op set aside is held by hash only, in no record and no feed.
    assert_eq!(ingest(vec![third.clone()]).unwrap().seq, 3);
    assert_eq!(
        ingest(vec![bad.clone(), third.clone()]).unwrap().seq,
        3,
        "a repeat is already held"
    );
    assert_eq!(store.op(&bad.id).unwrap(), None);
    assert_eq!(store.op(&third.id).unwrap(), Some(third.clone()));
    assert_eq!(
        store.chain_ops("istog", "1").unwrap(),
        vec![first.clone(), third.clone()]
    );
    assert_eq!(store.record(&bad.record_id).unwrap(), None);
    let (feed, _) = store.feed_after("istog", 0, 100).unwrap();
    assert!(feed.iter().all(|o| o.id != bad.id), "{feed:?}");
    // Another op of the same number but other content is a fork.
    let other = op("istog", "1", 2, first.hash, None);
    assert!(matches!(
        ingest(vec![other]),
        Err(IngestError::Fork { seq: 2, .. })
    ));

    // Once the office's next op is taken, the decision can not be undone.
    let e = store.undo_set_aside("istog", "1", 2, "typo").unwrap_err();
    assert!(matches!(e, AsideError::Followed { held: 3, .. }), "{e}");

    drop(store);
    let store = db.open();
    assert_eq!(store.head("istog", "1").seq, 3);
    assert_eq!(store.set_aside_of("istog", "1").unwrap(), vec![d.clone()]);
    assert_eq!(store.all_set_aside().unwrap(), vec![d]);
    assert!(store.set_aside_of("istog", "10").unwrap().is_empty());

    // Set aside with a wrong hash (the hub never saw the op): the office's op after it is a
    // fork; undone, the hub expects the op again, and the true one is refused as before.
    let who2 = node("istog", "2");
    let a1 = op("istog", "2", 1, GENESIS, None);
    let a2 = op("istog", "2", 2, a1.hash, Some(&ghost));
    let a3 = op("istog", "2", 3, a2.hash, None);
    let ingest2 = |ops: Vec<Op>| store.ingest(vec![(who2.clone(), ops)]).unwrap().remove(0);
    assert_eq!(ingest2(vec![a1.clone()]).unwrap().seq, 1);
    store
        .set_aside("istog", "2", 2, Some(a3.hash), "copied wrong", "op:a")
        .unwrap();
    let r = ingest2(vec![a3.clone()]);
    assert!(matches!(r, Err(IngestError::Fork { seq: 3, .. })), "{r:?}");
    let e = store.undo_set_aside("istog", "2", 1, "x").unwrap_err();
    assert!(matches!(e, AsideError::NotSetAside { .. }), "{e}");
    store.undo_set_aside("istog", "2", 2, "wrong hash").unwrap();
    assert_eq!(
        store.head("istog", "2"),
        Head {
            seq: 1,
            hash: a1.hash
        }
    );
    assert!(store.set_aside_of("istog", "2").unwrap().is_empty());
    assert!(ingest2(vec![a2.clone()]).is_err());
    store
        .set_aside("istog", "2", 2, None, "never made", "op:a")
        .unwrap();
    assert_eq!(ingest2(vec![a3]).unwrap().seq, 3);
}

/// The backend's own contract ([`HubBackend`]), below the store: a batch is applied whole, later
/// writes of a key win, ranges and `last_in` keep their bounds, and a scan that outlasts
/// commits (more entries than the memory backend copies per turn of its lock) skips no entry
/// that existed throughout it.
fn the_backend_applies_batches_atomically_and_scans_without_skipping(db: Db) {
    let store = db.open();
    let b = &store.backend;
    let key = |i: u32| format!("t/{i:06}").into_bytes();
    let mut batch = Batch::default();
    for i in 0..1000 {
        batch.put(key(i), i.to_be_bytes().to_vec());
    }
    batch.put(b"t/x".to_vec(), b"first".to_vec());
    batch.put(b"t/x".to_vec(), b"second".to_vec());
    batch.put(b"t/y".to_vec(), b"y".to_vec());
    batch.delete(b"t/y".to_vec());
    assert_eq!(batch.len(), 1004);
    b.apply(batch).unwrap();
    assert_eq!(b.get(b"t/x").unwrap().as_deref(), Some(&b"second"[..]));
    assert_eq!(b.get(b"t/y").unwrap(), None);
    // Several keys read together: in the order asked, absent ones `None`, a key asked twice
    // answered twice.
    let asked = [key(998), b"t/y".to_vec(), key(2), b"t/x".to_vec(), key(998)];
    let want = |i: u32| Some(i.to_be_bytes().to_vec());
    assert_eq!(
        b.get_many(&asked).unwrap(),
        vec![
            want(998),
            None,
            want(2),
            Some(b"second".to_vec()),
            want(998)
        ]
    );
    assert_eq!(b.get_many(&[]).unwrap(), Vec::<Option<Vec<u8>>>::new());
    assert_eq!(b.get_many(&[key(7)]).unwrap(), vec![want(7)]);
    // Values of every size come back whole: small, about a page, and far over one.
    let mut batch = Batch::default();
    for (i, len) in [0usize, 2_000, 8_100, 8_200, 300_000]
        .into_iter()
        .enumerate()
    {
        batch.put(format!("u/{i}").into_bytes(), vec![i as u8 + 1; len]);
    }
    b.apply(batch).unwrap();
    for (i, len) in [0usize, 2_000, 8_100, 8_200, 300_000]
        .into_iter()
        .enumerate()
    {
        let got = b.get(format!("u/{i}").as_bytes()).unwrap().unwrap();
        assert_eq!(got, vec![i as u8 + 1; len], "a value of {len} bytes");
    }
    // Bounds: from included, to excluded; `last_in` both included.
    let got: Vec<Vec<u8>> = b
        .scan(&key(10), Some(key(20).as_slice()))
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(got, (10..20).map(key).collect::<Vec<_>>());
    assert_eq!(b.scan(&key(20), Some(key(10).as_slice())).count(), 0);
    assert_eq!(b.last_in(&key(10), &key(20)).unwrap().unwrap().0, key(20));
    assert_eq!(b.last_in(&key(20), &key(10)).unwrap(), None);
    assert_eq!(b.last_in(b"t/a", b"t/b").unwrap(), None);
    // A prefix scan ends where the prefix does.
    let end = backend::prefix_end(b"t/");
    assert_eq!(end.as_deref(), Some(&b"t0"[..]));
    assert_eq!(backend::prefix_end(&[0xff, 0xff]), None);
    assert_eq!(b.scan(b"t/", end.as_deref()).count(), 1001);
    // Commits during a scan: every odd key removed and keys added, in batches, while the scan
    // reads; the even keys, there throughout, are all seen, in order.
    let mut seen = Vec::new();
    for (n, r) in b.scan(b"t/0", Some(&b"t/1"[..])).enumerate() {
        seen.push(r.unwrap().0);
        if n % 100 == 0 {
            let mut batch = Batch::default();
            for i in (1..1000).step_by(2) {
                batch.delete(key(i));
            }
            batch.put(format!("t/{n:05}").into_bytes(), vec![]);
            b.apply(batch).unwrap();
        }
    }
    let even: Vec<Vec<u8>> = (0..1000).step_by(2).map(key).collect();
    let kept: Vec<Vec<u8>> = seen.iter().filter(|k| even.contains(k)).cloned().collect();
    assert_eq!(kept, even);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "in order, each once");
    b.flush().unwrap();
    drop(store);
    // What was applied is there after a restart (of the same database).
    let store = db.open();
    assert_eq!(
        store.backend.get(&key(998)).unwrap(),
        Some(998u32.to_be_bytes().to_vec())
    );
    assert_eq!(store.backend.get(&key(999)).unwrap(), None);
}

/// The keyspaces sealed at rest are the ones the registry says hold personal data.
#[test]
fn the_sealed_keyspaces_are_those_of_the_registry() {
    let mut store = HubStore::open_memory(keys()).unwrap();
    let mut sealed: Vec<&str> = store.sealed_spaces().iter().map(|s| s.name).collect();
    let mut want: Vec<&str> = aux::KEYSPACES
        .iter()
        .filter(|k| k.sealed)
        .map(|k| k.name)
        .collect();
    sealed.sort_unstable();
    want.sort_unstable();
    assert_eq!(sealed, want);
}
