//! Several stores over one database, as several hub processes share one PostgreSQL: writers on
//! threads, each with its own [`HubStore`] (its own cache of heads, its own write lock) over one
//! shared backend, and readers following the feed meanwhile. Each test runs on every backend
//! that can be shared ([`on_every_shared_backend`]): another backend is one line there.
//!
//! Interleavings come from real threads and many iterations; batch sizes and reads from a
//! seeded generator ([`Rng`]), so that a failure names its seed.

use super::backend::{Applied, Expected};
use super::tests::{keys, node, op};
use super::*;
use civreg_shared::ids::RegNo;
use civreg_shared::model::RecordKind;
use civreg_shared::op::GENESIS;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

/// One database shared by every store a test opens (the linkage's concurrent tests use it
/// too, [`crate::linkage::tests_concurrent`]).
pub(crate) struct Shared {
    backend: Arc<dyn HubBackend>,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: each store opens a backend of its own (its own connections) over this
    /// database, as another hub process would.
    url: Option<String>,
}

impl Shared {
    /// sled is one process's database; its stores here share one handle, as threads of that
    /// process would.
    pub(crate) fn sled() -> Shared {
        let dir = tempfile::tempdir().unwrap();
        let backend = SledBackend::open(&dir.path().join("db")).unwrap();
        Shared {
            backend: Arc::new(backend),
            _dir: Some(dir),
            url: None,
        }
    }

    pub(crate) fn memory() -> Shared {
        Shared {
            backend: Arc::new(MemoryBackend::new()),
            _dir: None,
            url: None,
        }
    }

    /// A fresh database in the test kit's throwaway PostgreSQL cluster.
    pub(crate) fn postgres() -> Shared {
        let url = civreg_testkit::postgres::database().url;
        Shared {
            backend: Arc::new(backend::postgres::PostgresBackend::open(&url).unwrap()),
            _dir: None,
            url: Some(url),
        }
    }

    /// A store over the shared database: another hub process. Its reads and writes yield the
    /// processor now and then ([`Jitter`]), so that writers interleave between reading and
    /// writing as processes on several machines would.
    pub(crate) fn store(&self) -> HubStore {
        let inner: Arc<dyn HubBackend> = match &self.url {
            Some(url) => Arc::new(backend::postgres::PostgresBackend::open(url).unwrap()),
            None => self.backend.clone(),
        };
        let jitter = Jitter {
            inner,
            turn: AtomicU64::new(0x9e37_79b9_7f4a_7c15),
        };
        HubStore::open_backend(Arc::new(jitter), keys()).unwrap()
    }
}

/// A backend that passes everything to the shared one, and yields the thread a varying number
/// of times after a read and more before a write: the gap between what a writer reads and what it
/// writes widens, and with it every chance for another writer to come between.
struct Jitter {
    inner: Arc<dyn HubBackend>,
    turn: AtomicU64,
}

impl Jitter {
    /// Yields 0 to 3 times, and before a write (`long`) also spins up to some 4,000 turns.
    fn pause(&self, long: bool) {
        let n = self
            .turn
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        for _ in 0..(n >> 62) {
            thread::yield_now();
        }
        if long {
            for _ in 0..(n >> 48 & 0xfff) {
                std::hint::spin_loop();
            }
        }
    }
}

impl HubBackend for Jitter {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let v = self.inner.get(key);
        self.pause(false);
        v
    }
    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> backend::Entries<'_> {
        self.inner.scan(from, to)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        self.inner.last_in(from, to)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.pause(true);
        self.inner.apply(batch)
    }
    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError> {
        self.pause(true);
        self.inner.apply_if(expected, batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.layout()
    }
    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
        self.inner.set_layout(mark)
    }
    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.inner.with_layout_lock(f)
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

/// Runs each named test function (taking a [`Shared`]) once per backend, as
/// `shared_sled::NAME`, `shared_memory::NAME` and `shared_postgres::NAME` (each store its own
/// connections to one database of the test kit's cluster).
macro_rules! on_every_shared_backend {
    ($($name:ident),* $(,)?) => {
        mod shared_sled {
            $(#[test]
            fn $name() {
                super::$name(super::Shared::sled())
            })*
        }
        mod shared_memory {
            $(#[test]
            fn $name() {
                super::$name(super::Shared::memory())
            })*
        }
        mod shared_postgres {
            $(#[test]
            fn $name() {
                super::$name(super::Shared::postgres())
            })*
        }
    };
}

pub(crate) use on_every_shared_backend;

on_every_shared_backend!(
    the_backend_applies_a_conditional_batch_only_if_what_was_read_holds,
    a_store_behind_another_reads_the_heads_again,
    two_stores_pushing_rival_ops_of_one_chain_accept_one_op_per_number,
    two_stores_pushing_the_same_chain_store_each_op_once,
    feed_positions_are_given_once_and_densely_and_a_reader_never_skips_an_op,
    merges_into_one_bucket_through_two_stores_lose_no_op,
    the_hubs_own_chain_written_through_two_stores_loses_no_op,
    an_op_refused_at_one_hub_is_seen_and_set_aside_at_another,
    two_hubs_opening_an_old_layout_at_once_upgrade_it_once,
    conditional_aux_decisions_of_two_stores_lose_no_update,
);

/// A small seeded generator (xorshift64*): the same seed, the same sizes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A number in `1..=max`.
    fn upto(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % max + 1
    }
}

/// Op `seq` of chain m/n after `prev`, told apart from another writer's op of the same number
/// by `writer` (its clock's logical part).
fn rival(m: &str, n: &str, seq: u64, prev: Hash, writer: u32) -> Op {
    let mut o = op(m, n, seq, prev, None);
    o.hlc.logical = writer;
    o.seal()
}

/// A chain of `len` creates of m/n.
fn chain(m: &str, n: &str, len: u64) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::new();
    for seq in 1..=len {
        let prev = out.last().map_or(GENESIS, |o| o.hash);
        out.push(op(m, n, seq, prev, None));
    }
    out
}

/// Every feed position held, over every municipality: each run's positions (see the module
/// documentation of [`super`]).
fn feed_positions(store: &HubStore) -> Vec<u64> {
    let mut out = Vec::new();
    for r in store.feed.iter() {
        let (k, run) = r.unwrap();
        let last = key_number(&k).unwrap();
        let n = run_ops(&run).unwrap().len() as u64;
        out.extend(last + 1 - n..=last);
    }
    out.sort_unstable();
    out
}

/// The feed position counter.
fn feed_counter(store: &HubStore) -> u64 {
    store
        .meta
        .get(aux::META_FEED_POS)
        .unwrap()
        .map_or(0, |v| u64::from_be_bytes(v.as_slice().try_into().unwrap()))
}

/// The contract of [`HubBackend::apply_if`]: applied whole when every condition holds, not at
/// all when one does not (naming it), an absent key as a condition; and compare-and-set
/// increments of one counter from several threads and stores lose none.
fn the_backend_applies_a_conditional_batch_only_if_what_was_read_holds(db: Shared) {
    let b = db.backend.clone();
    let mut batch = Batch::default();
    batch.put(b"t/a".to_vec(), b"1".to_vec());
    batch.put(b"t/b".to_vec(), b"1".to_vec());
    let absent: Vec<Expected> = vec![(b"t/a".to_vec(), None), (b"t/b".to_vec(), None)];
    assert_eq!(b.apply_if(&absent, &batch).unwrap(), Applied::Done);
    assert_eq!(b.get(b"t/a").unwrap().as_deref(), Some(&b"1"[..]));
    // Again on the same conditions: t/a and t/b are no longer absent; nothing applied.
    let mut batch = Batch::default();
    batch.put(b"t/a".to_vec(), b"2".to_vec());
    batch.put(b"t/c".to_vec(), b"2".to_vec());
    assert_eq!(
        b.apply_if(&absent, &batch).unwrap(),
        Applied::Conflict(vec![b"t/a".to_vec(), b"t/b".to_vec()])
    );
    assert_eq!(b.get(b"t/a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(b.get(b"t/c").unwrap(), None);
    // One condition of two fails: only that key is named, nothing applied.
    let mixed: Vec<Expected> = vec![
        (b"t/a".to_vec(), Some(b"1".to_vec())),
        (b"t/b".to_vec(), Some(b"0".to_vec())),
    ];
    assert_eq!(
        b.apply_if(&mixed, &batch).unwrap(),
        Applied::Conflict(vec![b"t/b".to_vec()])
    );
    assert_eq!(b.get(b"t/c").unwrap(), None);
    // Deletes apply too.
    let mut batch = Batch::default();
    batch.delete(b"t/a".to_vec());
    let held: Vec<Expected> = vec![(b"t/a".to_vec(), Some(b"1".to_vec()))];
    assert_eq!(b.apply_if(&held, &batch).unwrap(), Applied::Done);
    assert_eq!(b.get(b"t/a").unwrap(), None);

    // Read, add one, write if unchanged: 4 threads × 300 increments.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || {
                let mut conflicts = 0;
                for _ in 0..300 {
                    loop {
                        let held = b.get(b"t/n").unwrap();
                        let n = held
                            .as_deref()
                            .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
                        let mut batch = Batch::default();
                        batch.put(b"t/n".to_vec(), (n + 1).to_be_bytes().to_vec());
                        match b.apply_if(&[(b"t/n".to_vec(), held)], &batch).unwrap() {
                            Applied::Done => break,
                            Applied::Conflict(_) => conflicts += 1,
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(b.get(b"t/n").unwrap(), Some(1200u64.to_be_bytes().to_vec()));
}

/// A store whose cache is behind the database (another hub took ops since) answers with the
/// database's head, takes the op after it, sees a repeat as a replay and another op of a held
/// number as a fork; and is never fooled into a second op n.
fn a_store_behind_another_reads_the_heads_again(db: Shared) {
    let (a, b, c) = (db.store(), db.store(), db.store());
    let who = node("istog", "1");
    let ops = chain("istog", "1", 8);
    // b opened before a took anything: its cache knows nothing of the chain.
    let got = a.ingest(vec![(who.clone(), ops[..5].to_vec())]).unwrap();
    assert_eq!(got[0].as_ref().unwrap().seq, 5);
    assert_eq!(
        b.head("istog", "1").seq,
        5,
        "the head as the database holds it"
    );
    assert_eq!(
        b.heads(),
        vec![("istog/1".to_string(), b.head("istog", "1"))]
    );
    // A push after the database's head (ahead of b's cache) is taken.
    let got = b.ingest(vec![(who.clone(), ops[5..6].to_vec())]).unwrap();
    assert_eq!(got[0].as_ref().unwrap().seq, 6);
    // a's cache says 5: op 6 again is a replay, a rival op 6 a fork, op 7 is taken.
    let got = a.ingest(vec![(who.clone(), ops[5..7].to_vec())]).unwrap();
    assert_eq!(got[0].as_ref().unwrap().seq, 7);
    let other = rival("istog", "1", 8, ops[6].hash, 1);
    let got = b.ingest(vec![(who.clone(), vec![ops[7].clone()])]).unwrap();
    assert_eq!(got[0].as_ref().unwrap().seq, 8);
    let got = a.ingest(vec![(who.clone(), vec![other])]).unwrap();
    assert!(
        matches!(got[0], Err(IngestError::Fork { seq: 8, .. })),
        "{got:?}"
    );
    assert_eq!(a.chain_ops("istog", "1").unwrap(), ops);
    let (feed, _) = b.feed_after("istog", 0, 100).unwrap();
    assert_eq!(feed, ops, "each op on the feed once");
    // An op based on an op c's cache does not know (c has written nothing yet).
    let c1 = op("istog", "2", 1, GENESIS, Some(&ops[7]));
    let got = c.ingest(vec![(node("istog", "2"), vec![c1])]).unwrap();
    assert_eq!(got[0].as_ref().unwrap().seq, 1);

    // Setting aside: decided on the database's head, not a stale cache.
    let ghost = op("istog", "3", 99, GENESIS, None);
    let first = op("istog", "3", 1, GENESIS, None);
    let bad = op("istog", "3", 2, first.hash, Some(&ghost));
    a.ingest(vec![(node("istog", "3"), vec![first.clone()])])
        .unwrap()
        .remove(0)
        .unwrap();
    assert!(b
        .ingest(vec![(node("istog", "3"), vec![bad.clone()])])
        .unwrap()
        .remove(0)
        .is_err());
    let e = a
        .set_aside("istog", "3", 3, Some(bad.hash), "x", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::NotNext { held: 1, .. }), "{e}");
    b.set_aside("istog", "3", 2, None, "never made", "op:a")
        .unwrap();
    let e = a
        .set_aside("istog", "3", 2, Some(bad.hash), "again", "op:a")
        .unwrap_err();
    assert!(matches!(e, AsideError::NotNext { held: 2, .. }), "{e}");
    a.undo_set_aside("istog", "3", 2, "checked again").unwrap();
    assert_eq!(b.head("istog", "3").seq, 1);
}

/// Two stores race to extend one chain, each with its own op for each number: every number is
/// taken once, by one of them; the other is told of a fork.
fn two_stores_pushing_rival_ops_of_one_chain_accept_one_op_per_number(db: Shared) {
    const LEN: u64 = 150;
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let writers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let store = store.clone();
            thread::spawn(move || {
                let who = node("istog", "1");
                let mut taken: Vec<(u64, Hash)> = Vec::new();
                loop {
                    let head = store.head("istog", "1");
                    if head.seq >= LEN {
                        return taken;
                    }
                    let prev = if head.seq == 0 { GENESIS } else { head.hash };
                    let mine = rival("istog", "1", head.seq + 1, prev, w as u32);
                    match store
                        .ingest(vec![(who.clone(), vec![mine.clone()])])
                        .unwrap()
                        .remove(0)
                    {
                        Ok(h) => {
                            assert_eq!((h.seq, h.hash), (mine.id.seq, mine.hash));
                            taken.push((h.seq, h.hash));
                        }
                        Err(IngestError::Fork { .. }) => {}
                        Err(e) => panic!("writer {w}: {e}"),
                    }
                }
            })
        })
        .collect();
    let mut taken: Vec<(u64, Hash)> = writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    taken.sort_by_key(|t| t.0);
    let seqs: Vec<u64> = taken.iter().map(|t| t.0).collect();
    assert_eq!(
        seqs,
        (1..=LEN).collect::<Vec<_>>(),
        "each number taken once"
    );
    let stored: Vec<(u64, Hash)> = stores[0]
        .chain_ops("istog", "1")
        .unwrap()
        .iter()
        .map(|o| (o.id.seq, o.hash))
        .collect();
    assert_eq!(stored, taken, "the ops taken are the ops held");
    let (feed, _) = stores[1].feed_after("istog", 0, 1000).unwrap();
    assert_eq!(feed.len() as u64, LEN);
    // Both caches agree with the database once each writes again.
    for s in &stores {
        assert_eq!(s.head("istog", "1").seq, LEN);
    }
}

/// Two stores push the same chain (a node that moves from one hub to another and back, sending
/// from the head each one tells it): every push is acknowledged, every op stored once.
fn two_stores_pushing_the_same_chain_store_each_op_once(db: Shared) {
    const LEN: usize = 300;
    let ops = Arc::new(chain("istog", "1", LEN as u64));
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let writers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let (store, ops) = (store.clone(), ops.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(17 + w as u64);
                loop {
                    let from = store.head("istog", "1").seq as usize;
                    if from >= LEN {
                        return;
                    }
                    // Sometimes from a little before the head: a resend after a lost answer.
                    let from = from.saturating_sub(rng.upto(3) as usize - 1);
                    let to = (from + rng.upto(8) as usize).min(LEN);
                    let got = store
                        .ingest(vec![(node("istog", "1"), ops[from..to].to_vec())])
                        .unwrap()
                        .remove(0);
                    let h = got.unwrap_or_else(|e| panic!("writer {w}: {e}"));
                    assert!(h.seq >= to as u64, "{} < {to}", h.seq);
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    assert_eq!(stores[0].chain_ops("istog", "1").unwrap(), *ops);
    let (feed, _) = stores[1].feed_after("istog", 0, 10 * LEN).unwrap();
    assert_eq!(feed, *ops, "each op once on the feed, in order");
    assert_eq!(
        feed_positions(&stores[0]),
        (1..=LEN as u64).collect::<Vec<_>>()
    );
}

/// Writers on two stores push chains of two municipalities (several chains of one) while
/// readers on each store follow one municipality's feed by cursor, in small reads: positions
/// are given once and without holes, and each reader saw exactly the feed as it ends, in its
/// order (none skipped, none twice).
fn feed_positions_are_given_once_and_densely_and_a_reader_never_skips_an_op(db: Shared) {
    const LEN: u64 = 200;
    let stores = [
        Arc::new(db.store()),
        Arc::new(db.store()),
        Arc::new(db.store()),
    ];
    let plan: [(usize, &[(&str, &str)]); 3] = [
        (0, &[("istog", "1"), ("istog", "2"), ("peje", "1")]),
        (1, &[("istog", "3"), ("istog", "4"), ("peje", "2")]),
        (2, &[("istog", "5"), ("peje", "3")]),
    ];
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (store, done) = (stores[r].clone(), done.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(99 + r as u64);
                let (mut cursor, mut seen) = (0u64, Vec::<OpId>::new());
                loop {
                    // Read the flag first: a read that starts after the writers finished and
                    // finds nothing new means the reader is through.
                    let finished = done.load(Ordering::SeqCst);
                    let (ops, next) = store
                        .feed_after("istog", cursor, rng.upto(7) as usize)
                        .unwrap();
                    assert!(ops.is_empty() || next > cursor);
                    if ops.is_empty() && finished {
                        return seen;
                    }
                    seen.extend(ops.into_iter().map(|o| o.id));
                    cursor = next;
                }
            })
        })
        .collect();
    let writers: Vec<_> = plan
        .iter()
        .map(|&(s, chains)| {
            let store = stores[s].clone();
            let chains: Vec<(Author, Vec<Op>)> = chains
                .iter()
                .map(|(m, n)| (node(m, n).into(), chain(m, n, LEN)))
                .collect();
            thread::spawn(move || {
                let mut rng = Rng::new(7 + s as u64);
                let mut sent = vec![0usize; chains.len()];
                while sent.iter().any(|&n| n < LEN as usize) {
                    // A group: a batch of each chain with ops left, as the committer groups.
                    let mut group = Vec::new();
                    let mut ends = Vec::new();
                    for (c, (who, ops)) in chains.iter().enumerate() {
                        if sent[c] < ops.len() {
                            let to = (sent[c] + rng.upto(5) as usize).min(ops.len());
                            group.push((who.clone(), ops[sent[c]..to].to_vec()));
                            ends.push((c, to));
                        }
                    }
                    for (got, (c, to)) in store.ingest(group).unwrap().into_iter().zip(ends) {
                        assert_eq!(got.unwrap().seq, to as u64);
                        sent[c] = to;
                    }
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (all, _) = stores[0].feed_after("istog", 0, 10_000).unwrap();
    let all: Vec<OpId> = all.into_iter().map(|o| o.id).collect();
    assert_eq!(all.len() as u64, 5 * LEN);
    for t in readers {
        let seen = t.join().unwrap();
        assert_eq!(seen.len(), all.len(), "a reader saw each op once");
        assert!(
            seen == all,
            "a reader saw the feed in another order: it skipped an op"
        );
    }
    // Each chain's ops in its order on the feed.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for id in &all {
        let l = last
            .entry(format!("{}/{}", id.municipality, id.node_id))
            .or_default();
        assert_eq!(id.seq, *l + 1);
        *l = id.seq;
    }
    let positions = feed_positions(&stores[1]);
    let want: Vec<u64> = (1..=8 * LEN).collect();
    assert!(
        positions == want,
        "feed positions not each once without a hole: {} held, {} distinct, highest {:?}",
        positions.len(),
        positions.iter().collect::<BTreeSet<_>>().len(),
        positions.last()
    );
    assert_eq!(feed_counter(&stores[0]), 8 * LEN);
}

/// Two stores merge ops into the records of one bucket at once (annotations of nine records
/// from two offices): every record's state holds every op of it.
fn merges_into_one_bucket_through_two_stores_lose_no_op(db: Shared) {
    const EACH: u64 = 90;
    let creates = chain("istog", "1", 9);
    let buckets: BTreeSet<&str> = creates.iter().map(|o| bucket_key(&o.record_id)).collect();
    assert_eq!(buckets.len(), 1, "one bucket: {buckets:?}");
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    stores[0]
        .ingest(vec![(node("istog", "1"), creates.clone())])
        .unwrap()
        .remove(0)
        .unwrap();
    let creates = Arc::new(creates);
    let writers: Vec<_> = ["2", "3"]
        .into_iter()
        .enumerate()
        .map(|(w, n)| {
            let (store, creates) = (stores[w].clone(), creates.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(3 + w as u64);
                let mut ops: Vec<Op> = Vec::new();
                for seq in 1..=EACH {
                    let prev = ops.last().map_or(GENESIS, |o| o.hash);
                    let on = &creates[(seq % 9) as usize];
                    ops.push(op("istog", n, seq, prev, Some(on)));
                }
                let mut sent = 0;
                while sent < ops.len() {
                    let to = (sent + rng.upto(4) as usize).min(ops.len());
                    let got = store
                        .ingest(vec![(node("istog", n), ops[sent..to].to_vec())])
                        .unwrap()
                        .remove(0);
                    assert_eq!(got.unwrap().seq, to as u64);
                    sent = to;
                }
                ops
            })
        })
        .collect();
    let mut want: BTreeMap<String, HashSet<OpId>> = creates
        .iter()
        .map(|o| (o.record_id.clone(), HashSet::from([o.id.clone()])))
        .collect();
    for t in writers {
        for o in t.join().unwrap() {
            want.get_mut(&o.record_id).unwrap().insert(o.id);
        }
    }
    for (regno, ops) in want {
        let st = stores[1].record(&regno).unwrap().unwrap();
        let held: HashSet<OpId> = st.ops.iter().cloned().collect();
        assert_eq!(held, ops, "record {regno}");
    }
}

/// The hub's own chain written through two stores at once (operators' decisions at two hubs):
/// every op kept, numbered without gap or repeat, each as its writer was told.
fn the_hubs_own_chain_written_through_two_stores_loses_no_op(db: Shared) {
    const EACH: usize = 40;
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let writers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let store = store.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(5 + w as u64);
                let mut written = Vec::new();
                while written.len() < EACH {
                    let n = (rng.upto(3) as usize).min(EACH - written.len());
                    let items: Vec<usize> = (written.len()..written.len() + n).collect();
                    let ops = store
                        .write_own_many(
                            items,
                            |i, id, prev| {
                                let mut o = op("agency", "hub", 1, prev, None);
                                o.record_id = RegNo::mint(
                                    "prishtine",
                                    2026,
                                    RecordKind::Birth,
                                    &format!("w{w}"),
                                    i as u64 + 1,
                                )
                                .to_string();
                                o.id = id;
                                o
                            },
                            &[],
                        )
                        .unwrap();
                    written.extend(ops);
                }
                written
            })
        })
        .collect();
    let mut written: Vec<Op> = writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    written.sort_by_key(|o| o.id.seq);
    let held = stores[0]
        .chain_ops(HUB_CHAIN_MUNICIPALITY, HUB_CHAIN_NODE)
        .unwrap();
    assert_eq!(held.len(), 2 * EACH);
    assert_eq!(
        held, written,
        "each op as its writer was told, numbered 1.."
    );
    let mut prev = GENESIS;
    for o in &held {
        assert_eq!(o.prev_hash, prev);
        assert!(o.check().is_ok(), "{}", o.id);
        prev = o.hash;
    }
    for s in &stores {
        assert_eq!(
            s.head(HUB_CHAIN_MUNICIPALITY, HUB_CHAIN_NODE).seq,
            2 * EACH as u64
        );
    }
}

/// An op refused at hub A (its refusal noted in the store) is listed at hub B, which can set it
/// aside without being told its hash; then neither lists it any more.
fn an_op_refused_at_one_hub_is_seen_and_set_aside_at_another(db: Shared) {
    let (a, b) = (db.store(), db.store());
    let who = node("istog", "1");
    let first = op("istog", "1", 1, GENESIS, None);
    // An annotation of a record nobody created: the hub will never take it.
    let ghost = op("istog", "1", 99, GENESIS, None);
    let bad = op("istog", "1", 2, first.hash, Some(&ghost));
    assert_eq!(
        a.ingest(vec![(who.clone(), vec![first.clone()])]).unwrap()[0]
            .as_ref()
            .unwrap()
            .seq,
        1
    );
    let refusal = a.ingest(vec![(who.clone(), vec![bad.clone()])]).unwrap()[0]
        .clone()
        .unwrap_err();
    a.flush().unwrap();
    let seen = b.refused_op("istog", "1").expect("seen at the other hub");
    assert_eq!((seen.seq, seen.hash), (2, bad.hash));
    assert_eq!(seen.why, refusal.to_string());
    let d = b
        .set_aside(
            "istog",
            "1",
            2,
            None,
            "annotation of a record never made",
            "op:b",
        )
        .unwrap();
    assert_eq!((d.seq, d.hash), (2, bad.hash));
    assert_eq!(d.refusal.as_deref(), Some(refusal.to_string().as_str()));
    assert_eq!(a.refused_op("istog", "1"), None);
    assert_eq!(b.refused_op("istog", "1"), None);
    assert_eq!(a.head("istog", "1").seq, 2);
}

/// A backend that counts the layout marks set through it (each store's own; the count shared).
struct CountingMarks {
    inner: Arc<dyn HubBackend>,
    marks: Arc<AtomicU64>,
}

impl HubBackend for CountingMarks {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> backend::Entries<'_> {
        self.inner.scan(from, to)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        self.inner.last_in(from, to)
    }
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.inner.apply(batch)
    }
    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError> {
        self.inner.apply_if(expected, batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.layout()
    }
    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
        self.marks.fetch_add(1, Ordering::SeqCst);
        self.inner.set_layout(mark)
    }
    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.inner.with_layout_lock(f)
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

/// Three hubs start at once over a database of layout 5 (values in clear): one upgrades it,
/// the others wait for it and find layout 6; every value reads afterwards, through each.
fn two_hubs_opening_an_old_layout_at_once_upgrade_it_once(db: Shared) {
    const VALUES: usize = 3_000;
    // Layout 5, as an older civreg-hub left it: aux values in clear, no key check.
    let mut batch = Batch::default();
    for i in 0..VALUES {
        batch.put(
            aux::AUX.key(format!("t/{i:05}")),
            format!("Drita Gashi {i}").into_bytes(),
        );
    }
    db.backend.apply(batch).unwrap();
    db.backend.set_layout(LAYOUT_5).unwrap();
    db.backend.flush().unwrap();
    let marks = Arc::new(AtomicU64::new(0));
    let start = Arc::new(std::sync::Barrier::new(3));
    let openers: Vec<_> = (0..3)
        .map(|_| {
            let inner: Arc<dyn HubBackend> = match &db.url {
                Some(url) => Arc::new(backend::postgres::PostgresBackend::open(url).unwrap()),
                None => db.backend.clone(),
            };
            let (marks, start) = (marks.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                HubStore::open_backend(Arc::new(CountingMarks { inner, marks }), keys()).unwrap()
            })
        })
        .collect();
    let stores: Vec<HubStore> = openers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        marks.load(Ordering::SeqCst),
        1,
        "the layout was upgraded once, by one hub"
    );
    assert_eq!(db.backend.layout().unwrap().as_deref(), Some(LAYOUT));
    for s in &stores {
        for i in (0..VALUES).step_by(97) {
            assert_eq!(
                s.aux_get(format!("t/{i:05}").as_bytes()).unwrap(),
                Some(format!("Drita Gashi {i}").into_bytes())
            );
        }
    }
}

/// Counters kept in `aux` and raised through two stores at once by [`HubStore::aux_decide`]
/// (a read-modify-write by compare-and-set): no raise is lost.
fn conditional_aux_decisions_of_two_stores_lose_no_update(db: Shared) {
    const EACH: u64 = 60;
    let stores = [Arc::new(db.store()), Arc::new(db.store())];
    let start = Arc::new(std::sync::Barrier::new(2));
    let raisers: Vec<_> = stores
        .iter()
        .map(|s| {
            let (s, start) = (s.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..EACH {
                    s.aux_decide(|reads| {
                        let n = s
                            .aux_get_noting(b"t/counter", reads)?
                            .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
                        let w = vec![(b"t/counter".to_vec(), Some((n + 1).to_be_bytes().to_vec()))];
                        Ok::<_, StoreError>(((), Some(w)))
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in raisers {
        t.join().unwrap();
    }
    let n = stores[0].aux_get(b"t/counter").unwrap().unwrap();
    assert_eq!(u64::from_be_bytes(n.try_into().unwrap()), 2 * EACH);
}
