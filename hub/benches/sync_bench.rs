//! Sync benchmark: push throughput of one node and of 38 nodes at once over mutual TLS on
//! loopback, catch-up of a node that registered 10,000 ops offline, the hub's memory; the same
//! ops ingested into the hub's store with no network; and the ceiling: the same ops written
//! straight into sled with the same flush policy (one flush per group, grouped as the hub's committer does), no network.
//!
//! Data: synthetic birth-record create ops, sealed into valid hash chains, about 400 bytes of
//! canonical encoding each; made by `chain()` below with fixed names, so runs are comparable.
//!
//!     cargo bench -p civreg-hub --bench sync_bench                # full sizes
//!     cargo bench -p civreg-hub --bench sync_bench -- --write     # also update BENCHMARKS.md
//!     cargo bench -p civreg-hub --bench sync_bench -- --quick     # small sizes (what `cargo test` runs)
//!     cargo bench -p civreg-hub --bench sync_bench -- --postgres  # also a hub on PostgreSQL
//!     cargo bench -p civreg-hub --bench sync_bench -- --pg-only   # only the PostgreSQL runs
//!                                                                 # (printed, never written)
//!     cargo bench -p civreg-hub --bench sync_bench -- --two-hubs  # only one hub against two
//!                                                                 # hub processes over one
//!                                                                 # PostgreSQL (`two_hubs/`)
//!
//! With `--postgres`, each run also pushes the same 38 nodes and the same catch-up into a hub
//! whose store is a fresh database of the test kit's throwaway PostgreSQL cluster
//! (`civreg_testkit::postgres`: Debian's `postgresql`, fsync and `synchronous_commit` on, on the
//! same machine), side by side with sled in the same run.

#[path = "support/mod.rs"]
mod support;
mod two_hubs;

/// The same allocator as the hub binary, so that the hub measured here runs as it does there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use civreg_hub::pki::{PeerIdentity, Pki};
use civreg_hub::rollout::Stage;
use civreg_hub::store::HubStore;
use civreg_hub::sync::committer;
use civreg_hub::{paths, serve};
use civreg_proto::v1::sync_client::SyncClient;
use civreg_proto::v1::PushRequest;
use civreg_proto::MAX_MESSAGE_BYTES;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Op, GENESIS};
use civreg_testkit::ops::{op_by, regno};
use std::time::{Duration, Instant};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const BATCH: usize = 1000;

fn municipalities() -> Vec<&'static str> {
    civreg_shared::gazetteer::all()
        .iter()
        .map(|m| m.code)
        .collect()
}

fn chain(m: &str, n: &str, count: u64) -> Vec<Op> {
    let given = [
        "Arben",
        "Drita",
        "Ђорђе",
        "Besa",
        "Ljiljana",
        "Fatime",
        "Driton",
        "Vjosa",
    ];
    let surnames = [
        "Gashi",
        "Krasniqi",
        "Петровић",
        "Berisha",
        "Hoxha",
        "Đorđević",
        "Shala",
    ];
    let mut prev = GENESIS;
    (1..=count)
        .map(|seq| {
            let s = |v: &str| serde_json::Value::from(v);
            let i = seq as usize;
            let op = op_by(
                "bench",
                m,
                n,
                seq,
                prev,
                &regno(m, n, RecordKind::Birth, seq),
                RecordKind::Birth,
                ChangeKind::Create,
                &[
                    ("child.date_of_birth", s("1968-03-14")),
                    ("child.given_name", s(given[i % given.len()])),
                    ("child.sex", s("male")),
                    ("child.surname", s(surnames[i % surnames.len()])),
                    ("mother.given_name", s(given[(i / 3) % given.len()])),
                    (
                        "mother.maiden_surname",
                        s(surnames[(i / 5) % surnames.len()]),
                    ),
                    ("mother.surname", s(surnames[i % surnames.len()])),
                    ("municipality", s(m)),
                    ("place_of_birth", s("Prishtinë")),
                ],
            );
            prev = op.hash;
            op
        })
        .collect()
}

async fn client(pki: &Pki, port: u16, m: &str, n: &str) -> SyncClient<tonic::transport::Channel> {
    let issued = pki.issue_node(m, n, 30).expect("issue");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pki.ca_pem()))
        .identity(Identity::from_pem(&issued.cert_pem, &issued.key_pem))
        .domain_name("localhost");
    let ch = Endpoint::from_shared(format!("https://localhost:{port}"))
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect");
    SyncClient::new(ch)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// A chain's push messages, batches of [`BATCH`] ops, and its last sequence number. Built before
/// the clock starts, as a node's log is there before it pushes: the load generator shares the
/// hub's two cores, and converting ops to messages is the node's work, not the hub's. Encoding
/// and encrypting the messages (prost, TLS) stay inside the measured time.
fn requests(ops: &[Op]) -> (Vec<PushRequest>, u64) {
    let last = ops.last().map(|o| o.id.seq).unwrap_or(0);
    let reqs = ops
        .chunks(BATCH)
        .map(|chunk| PushRequest {
            ops: chunk.iter().map(civreg_proto::v1::Op::from).collect(),
        })
        .collect();
    (reqs, last)
}

/// Pushes a whole chain with batches pipelined; returns when the last op is acknowledged.
async fn push_all(
    mut c: SyncClient<tonic::transport::Channel>,
    (reqs, last): (Vec<PushRequest>, u64),
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<PushRequest>(8);
    let mut acks = c
        .push(ReceiverStream::new(rx))
        .await
        .expect("push")
        .into_inner();
    let first = acks.message().await.expect("ack").expect("first ack");
    assert_eq!(first.acked_seq, 0);
    let sender = tokio::spawn(async move {
        for req in reqs {
            if tx.send(req).await.is_err() {
                return;
            }
        }
    });
    loop {
        let a = acks
            .message()
            .await
            .expect("ack")
            .expect("stream ended early");
        if a.acked_seq == last {
            break;
        }
    }
    sender.await.expect("sender");
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Hub {
    _dir: tempfile::TempDir,
    pki: Pki,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// A hub on port 0 over a fresh data directory; its store in PostgreSQL at `store` if given.
async fn start_hub(store: Option<String>) -> Hub {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(&paths::pki_dir(dir.path()), &[]).expect("pki");
    civreg_hub::atrest::create_key(&civreg_hub::atrest::default_key_path(dir.path())).expect("key");
    // All 38 municipalities push in this benchmark: roll them all out.
    let at = paths::StoreAt::of(dir.path(), store.as_deref());
    let key = civreg_hub::atrest::default_key_path(dir.path());
    for m in municipalities() {
        let set = civreg_hub::control::Request::RolloutSet {
            municipality: m.to_string(),
            stage: Stage::Live,
            kinds: None,
            operator: "bench".into(),
            reason: String::new(),
        };
        civreg_hub::control::ask::ask_at(dir.path(), &at, &key, &set, &mut |_| {})
            .expect("rollout");
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let data = dir.path().to_path_buf();
    let task = tokio::spawn(async move {
        let opts = serve::RunOptions {
            store,
            ..Default::default()
        };
        serve::run_with(&data, l, opts, async {
            let _ = rx.await;
        })
        .await
        .expect("hub");
    });
    Hub {
        _dir: dir,
        pki,
        port,
        stop: Some(stop),
        task,
    }
}

impl Hub {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.task.await;
    }
}

/// Resets the process's peak resident memory (Linux `clear_refs` 5), so that the figure that
/// follows covers what comes after.
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The groups the committer forms when every chain has batches waiting: round by round (one
/// batch of every chain per round), consecutive batches until a group holds
/// [`committer::GROUP_MAX_OPS`] ops.
fn groups(pushes: &[(PeerIdentity, Vec<Op>)]) -> Vec<Vec<(PeerIdentity, Vec<Op>)>> {
    let rounds = pushes
        .iter()
        .map(|(_, o)| o.len().div_ceil(BATCH))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut group: Vec<(PeerIdentity, Vec<Op>)> = Vec::new();
    let mut held = 0;
    for r in 0..rounds {
        for (who, ops) in pushes {
            let Some(chunk) = ops.chunks(BATCH).nth(r) else {
                continue;
            };
            held += chunk.len();
            group.push((who.clone(), chunk.to_vec()));
            if held >= committer::GROUP_MAX_OPS {
                out.push(std::mem::take(&mut group));
                held = 0;
            }
        }
    }
    if !group.is_empty() {
        out.push(group);
    }
    out
}

/// The hub store with no network: `pushes` (one chain per push) ingested in the committer's
/// groups ([`groups`]), each one `ingest` (verify, commit, one flush). Returns ops per second.
fn store_direct(pushes: &[(PeerIdentity, Vec<Op>)]) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .expect("store");
    let total: usize = pushes.iter().map(|(_, o)| o.len()).sum();
    let groups = groups(pushes);
    let t = Instant::now();
    for group in groups {
        for a in store.ingest(group).expect("ingest") {
            a.expect("accepted");
        }
    }
    total as f64 / t.elapsed().as_secs_f64()
}

/// `civreg-hub migrate`'s copy: the same ops ingested into a sled hub store (not timed), then
/// the store migrated into a fresh PostgreSQL database ([`civreg_hub::migrate::migrate`]:
/// batches of the default size, the check of every entry, head and digest included). Returns
/// the seconds per million ops and the store's entries.
fn migration(pushes: &[(PeerIdentity, Vec<Op>)]) -> (f64, u64) {
    use civreg_hub::migrate;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = civreg_hub::atrest::default_key_path(dir.path());
    civreg_hub::atrest::create_key(&key).expect("key");
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::load_key(&key).expect("key"),
    )
    .expect("store");
    let total: usize = pushes.iter().map(|(_, o)| o.len()).sum();
    for group in groups(pushes) {
        for a in store.ingest(group).expect("ingest") {
            a.expect("accepted");
        }
    }
    drop(store);
    let source = migrate::open_source(dir.path()).expect("source");
    let db = civreg_testkit::postgres::database();
    let target = migrate::open_target(&paths::StoreAt::Postgres(db.url.clone())).expect("target");
    let t = Instant::now();
    let o = migrate::migrate(
        source,
        &key,
        target,
        migrate::DEFAULT_BATCH,
        false,
        &mut |_| {},
    )
    .expect("migrate");
    let secs = t.elapsed().as_secs_f64();
    (secs * 1e6 / total as f64, o.entries)
}

/// The ceiling: the same ops written straight into a sled tree with the same flush policy and
/// no network, no verification, no feed and no record states: each op (its canonical encoding and
/// hash) under its chain and sequence number, in the same groups as [`store_direct`], one
/// `apply_batch` and one flush per group. Returns ops per second.
fn sled_direct(pushes: &[(PeerIdentity, Vec<Op>)]) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    // The hub's sled settings.
    let db = sled::Config::new()
        .path(dir.path().join("db"))
        .flush_every_ms(Some(1000))
        .cache_capacity(256 * 1024 * 1024)
        .open()
        .expect("sled");
    let tree = db.open_tree("ops").expect("tree");
    let total: usize = pushes.iter().map(|(_, o)| o.len()).sum();
    let groups = groups(pushes);
    let t = Instant::now();
    for group in groups {
        let mut batch = sled::Batch::default();
        for (_, chunk) in &group {
            for op in chunk {
                let mut key = format!("{}/{}", op.id.municipality, op.id.node_id).into_bytes();
                key.push(0);
                key.extend_from_slice(&op.id.seq.to_be_bytes());
                let mut value = op.canonical_bytes();
                value.extend_from_slice(&op.hash.0);
                batch.insert(key, value);
            }
        }
        tree.apply_batch(batch).expect("apply");
        db.flush().expect("flush");
    }
    total as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Under `cargo test` (no --bench flag) only the quick sizes run.
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let write = args.iter().any(|a| a == "--write");
    // Only the hub on PostgreSQL (its push and catch-up runs, printed): for comparing builds
    // of the PostgreSQL backend quickly.
    let pg_only = args.iter().any(|a| a == "--pg-only");
    let postgres = pg_only || args.iter().any(|a| a == "--postgres");
    assert!(
        !(pg_only && write),
        "--pg-only measures part of the table: run with --postgres to --write"
    );
    let (one, per_node, catch, runs) = if quick {
        (5_000, 500, 2_000, 1)
    } else {
        (100_000, 20_000, 10_000, 3)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.iter().any(|a| a == "--two-hubs") {
        assert!(
            !pg_only && !postgres,
            "--two-hubs runs on PostgreSQL by itself: give it alone (with --write or --quick)"
        );
        // The hub processes: the binary cargo built with this bench, in its profile (unless
        // CIVREG_HUB_BIN names another).
        if std::env::var_os("CIVREG_HUB_BIN").is_none() {
            std::env::set_var("CIVREG_HUB_BIN", env!("CARGO_BIN_EXE_civreg-hub"));
        }
        // Half the ops per node of the runs above, and two runs: each run waits for both hubs
        // to index every record, which on PostgreSQL takes minutes (see BENCHMARKS.md).
        let (per_node, runs) = if quick { (per_node, 1) } else { (10_000, 2) };
        let mut all = Vec::new();
        for run in 0..runs {
            let r = two_hubs::run(&rt, per_node, quick);
            eprintln!(
                "two hubs, run {run}: one hub {:.0} ops/s, two hubs {:.0} ops/s, pull p50 {:.1} ms \
                 idle / {:.1} ms loaded, search p50 {:.1} ms idle / {:.1} ms loaded, {} ops checked",
                r.one_hub,
                r.two_hubs,
                two_hubs::percentile(&r.pull_idle, 50.0),
                two_hubs::percentile(&r.pull_load, 50.0),
                two_hubs::percentile(&r.search_idle, 50.0),
                two_hubs::percentile(&r.search_load, 50.0),
                r.ops_checked
            );
            all.push(r);
        }
        let section = two_hubs::section(&all, per_node, quick);
        println!("{section}");
        if write {
            support::write_section("hub-two-hubs", &section);
        }
        return;
    }
    let munis = municipalities();
    let node = |m: &str, n: &str| PeerIdentity::Node {
        municipality: m.into(),
        node_id: n.into(),
    };

    // The same ops for the network runs and the runs without network.
    let ops = chain("prishtine", "1", one);
    let chains: Vec<(String, Vec<Op>)> = munis
        .iter()
        .map(|m| (m.to_string(), chain(m, "2", per_node)))
        .collect();
    let single_set = vec![(node("prishtine", "1"), ops.clone())];
    let many_set: Vec<(PeerIdentity, Vec<Op>)> = chains
        .iter()
        .map(|(m, ops)| (node(m, "2"), ops.clone()))
        .collect();
    let (sled_one, store_one, sled_many, store_many, migrated) = if pg_only {
        (0.0, 0.0, 0.0, 0.0, None)
    } else {
        (
            sled_direct(&single_set),
            store_direct(&single_set),
            sled_direct(&many_set),
            store_direct(&many_set),
            postgres.then(|| migration(&many_set)),
        )
    };
    drop((single_set, many_set));

    drop((ops, chains));

    // Each run on a fresh hub: the 38-node push (and, in the first run, one node's push before
    // it), then the catch-up on the hub that now holds all of that. The figures reported are the
    // medians over the runs, with every run shown: the machine is shared and noisy.
    let mut singles = Vec::new();
    let mut manys = Vec::new();
    let mut catchups = Vec::new();
    let mut pg_manys = Vec::new();
    let mut pg_catchups = Vec::new();
    let mut hwm = 0;
    for run in 0..runs {
        // sled, then (with --postgres) PostgreSQL: the same ops, one after the other.
        let stores: Vec<Option<String>> = if pg_only {
            vec![Some(civreg_testkit::postgres::database().url)]
        } else if postgres {
            vec![None, Some(civreg_testkit::postgres::database().url)]
        } else {
            vec![None]
        };
        for store in stores {
            let on_pg = store.is_some();
            // The push messages, built before the clock starts (see `requests`), afresh for
            // each run so that the process holds one run's worth.
            let chains: Vec<(String, (Vec<PushRequest>, u64))> = munis
                .iter()
                .map(|m| (m.to_string(), requests(&chain(m, "2", per_node))))
                .collect();
            let offline = requests(&chain("istog", "3", catch));
            let ops = (run == 0 && !on_pg).then(|| requests(&chain("prishtine", "1", one)));
            reset_hwm();
            let (single, many, catchup) = rt.block_on(async {
                let hub = start_hub(store).await;
                let single = match ops {
                    Some(ops) => {
                        let c = client(&hub.pki, hub.port, "prishtine", "1").await;
                        let t = Instant::now();
                        push_all(c, ops).await;
                        Some(one as f64 / t.elapsed().as_secs_f64())
                    }
                    None => None,
                };

                let mut clients = Vec::new();
                for (m, _) in &chains {
                    clients.push(client(&hub.pki, hub.port, m, "2").await);
                }
                let t = Instant::now();
                let tasks: Vec<_> = clients
                    .into_iter()
                    .zip(chains)
                    .map(|(c, (_, ops))| tokio::spawn(push_all(c, ops)))
                    .collect();
                for task in tasks {
                    task.await.expect("push task");
                }
                let many = (per_node * munis.len() as u64) as f64 / t.elapsed().as_secs_f64();

                // Catch-up: the link returns (a new connection, with its TLS handshake) and the
                // node pushes what it registered offline.
                let t = Instant::now();
                let c = client(&hub.pki, hub.port, "istog", "3").await;
                push_all(c, offline).await;
                let catchup = t.elapsed();
                hub.stop().await;
                (single, many, catchup)
            });
            eprintln!(
                "run {run} on {}: 38 nodes {many:.0} ops/s, catch-up {:.2} s",
                if on_pg { "PostgreSQL" } else { "sled" },
                catchup.as_secs_f64()
            );
            if on_pg {
                pg_manys.push(many);
                pg_catchups.push(catchup.as_secs_f64());
            } else {
                hwm = hwm.max(vm_hwm_kib());
                singles.extend(single);
                manys.push(many);
                catchups.push(catchup.as_secs_f64());
            }
        }
    }
    if pg_only {
        println!(
            "PostgreSQL: 38 nodes, median {:.0} ops/s (runs: {}); catch-up median {:.2} s (runs: {})",
            median(&pg_manys),
            pg_manys.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(", "),
            median(&pg_catchups),
            pg_catchups.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(", "),
        );
        return;
    }
    let single = median(&singles);
    let many = median(&manys);
    let catchup = Duration::from_secs_f64(median(&catchups));
    let all = |v: &[f64], unit: &str| {
        v.iter()
            .map(|x| {
                if unit == "s" {
                    format!("{x:.2}")
                } else {
                    format!("{x:.0}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };

    let (date, commit) = support::measured();
    let ok = |b: bool| if b { "✅" } else { "❌" };
    let n_many = per_node * munis.len() as u64;
    let section = format!(
        "## Sync (hub)\n\n\
Measured {date} at commit `{commit}`{quick_note}, `cargo bench -p civreg-hub --bench sync_bench`, on a 2-core machine \
shared with other work (figures vary by ±20 % from run to run). Hub and clients in one process on loopback, \
real mutual TLS (rustls, ECDSA P-256), the hub flushing to disk before each acknowledgement and indexing for \
national search as it runs. Ops: synthetic birth-record creates in valid hash chains, pushed in batches of {BATCH}, \
pipelined; the clients' push messages are built before the clock starts (their encoding and TLS are inside it). The runs without network take the same ops and the same flush policy: one flush per group, grouped as \
the committer does when every node has batches waiting (round by round, one batch of every chain per round, a group \
closed once it holds {group_ops} ops).\n\n\
| figure | value | target |\n|---|---|---|\n\
| push, one node ({one} ops) | {single:.0} ops/s | |\n\
| push, 38 nodes at once ({per_node} ops each), median of {runs} runs | {many:.0} ops/s (runs: {many_all}) | ≥ 50,000 ops/s {t1} |\n\
| hub store, no network, one chain ({one} ops) | {store_one:.0} ops/s | |\n\
| hub store, no network, 38 chains ({n_many} ops) | {store_many:.0} ops/s | |\n\
| ceiling: straight into sled, one chain ({one} ops) | {sled_one:.0} ops/s | |\n\
| ceiling: straight into sled, 38 chains ({n_many} ops) | {sled_many:.0} ops/s | |\n\
| one node / its ceiling | {r1:.2} | |\n\
| 38 nodes / their ceiling | {r2:.2} | |\n\
| catch-up: connect + push {catch} ops registered offline, median of {runs} runs | {cu:.2} s (runs: {cu_all}) | < 2 s {t2} |\n\
| peak memory of the process while the hub ingests (hub, clients and their ops) | {mem:.0} MiB | |\n\n\
\"Straight into sled\": each op's canonical encoding and hash under its chain and sequence number in one sled tree \
with the hub's sled settings, one `apply_batch` and one flush per group: no verification, no feed, no record states, \
no network.\n",
        quick_note = if quick { " (quick sizes)" } else { "" },
        group_ops = committer::GROUP_MAX_OPS,
        t1 = ok(many >= 50_000.0),
        r1 = single / sled_one,
        r2 = many / sled_many,
        cu = catchup.as_secs_f64(),
        t2 = ok(catchup < Duration::from_secs(2)),
        mem = hwm as f64 / 1024.0,
        many_all = all(&manys, "ops/s"),
        cu_all = all(&catchups, "s"),
    );
    let mut section = section;
    if postgres {
        let pg_many = median(&pg_manys);
        let pg_cu = median(&pg_catchups);
        section.push_str(&format!(
            "\n### The hub on PostgreSQL, side by side\n\n\
Same run, same ops, same hub (`serve::run_with` with `RunOptions::store`), its store a fresh database of the test \
kit's throwaway PostgreSQL {pg_version} cluster on the same machine (`civreg_testkit::postgres`: fsync and \
`synchronous_commit` on, `shared_buffers` 64 MB, otherwise Debian's defaults; over TCP on loopback, no TLS to the \
database). Command: `cargo bench -p civreg-hub --bench sync_bench -- --postgres`.\n\n\
| figure | sled | PostgreSQL | PostgreSQL / sled | target (PostgreSQL) |\n|---|---|---|---|---|\n\
| push, 38 nodes at once ({per_node} ops each), median of {runs} runs | {many:.0} ops/s | {pg_many:.0} ops/s (runs: {pg_all}) | {ratio:.2} | ≥ 25,000 ops/s {t3} |\n\
| catch-up: connect + push {catch} ops, median of {runs} runs | {cu:.2} s | {pg_cu:.2} s (runs: {pg_cu_all}) | | < 1 s {t4} |\n",
            pg_version = civreg_testkit::postgres::cluster()
                .psql("postgres", "SHOW server_version")
                .trim(),
            ratio = pg_many / many,
            t3 = ok(pg_many >= 25_000.0),
            t4 = ok(pg_cu < 1.0),
            cu = catchup.as_secs_f64(),
            pg_all = all(&pg_manys, "ops/s"),
            pg_cu_all = all(&pg_catchups, "s"),
        ));
    }
    if let Some((per_million, entries)) = migrated {
        section.push_str(&format!(
            "\n### Migration from sled (`civreg-hub migrate`)\n\n\
The 38 chains above ({n_many} ops, {entries} store entries) ingested into a sled hub store, then copied into a \
fresh database of the same PostgreSQL cluster by `civreg_hub::migrate::migrate` (what `civreg-hub migrate` runs: \
batches of {batch} entries, each one transaction with its cursor, then every entry compared and every head and \
digest checked on both sides). Command: `cargo bench -p civreg-hub --bench sync_bench -- --postgres`.\n\n\
| figure | value |\n|---|---|\n\
| migration, copy and check | {per_million:.1} s per million ops |\n",
            batch = civreg_hub::migrate::DEFAULT_BATCH,
        ));
    }
    println!("{section}");
    if write {
        support::write_section("hub-bench", &section);
    }
}
