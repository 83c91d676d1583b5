//! `sync_bench -- --two-hubs` (issue 19's figure "with two hub processes"): real `civreg-hub
//! serve` processes over one database of the test kit's throwaway PostgreSQL cluster, the
//! clients in the bench process over mutual TLS on loopback. Each run, on fresh databases:
//!
//! 1. **one hub**: 38 nodes push `per_node` ops each into one hub process;
//! 2. **two hubs**: the same 38 chains into two hub processes over one database, 19 nodes on
//!    each (each process with its own store, PostgreSQL connections, search index and gRPC
//!    server; hub B's data directory is a copy of hub A's, as an agency would set up a replica);
//! 3. once both hubs have indexed every record, at hub B: a node's pull (the first
//!    [`PULL_OPS`] ops of its municipality's feed, one `Pull` call from cursor 0) and national
//!    search (a fixed query set, [`QUERIES`]) measured call by call, two offices asking in turn
//!    as fast as they are answered: first with hub A idle (for [`IDLE`]), then while 19 more
//!    nodes push `per_node` ops each into hub A (until their last op is acknowledged);
//! 4. checked afterwards: every chain's head at the last op acknowledged (its hash too), every
//!    op in its municipality's feed exactly once, and every municipality's digest equal at
//!    both hubs.
//!
//! The figures are what was measured; a check that fails stops the bench.

use super::{municipalities, push_all, requests, BATCH};
use civreg_hub::paths::{self, StoreAt};
use civreg_hub::pki::{Issued, Pki};
use civreg_hub::rollout::Stage;
use civreg_hub::store::HubStore;
use civreg_proto::v1::review_client::ReviewClient;
use civreg_proto::v1::search_client::SearchClient;
use civreg_proto::v1::sync_client::SyncClient;
use civreg_proto::v1::{DigestRequest, PullRequest, PushRequest, SearchRequest};
use civreg_proto::MAX_MESSAGE_BYTES;
use civreg_shared::op::{Hash, Op};
use civreg_testkit::fleet::{log_tail, HubProc};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Ops a pull reads of its municipality's feed (fewer at the quick sizes: the feed's length).
pub const PULL_OPS: u64 = 2_000;
/// How long the latency loops run with hub A idle (full sizes).
pub const IDLE: Duration = Duration::from_secs(15);
/// The search query set, asked in turn (text, born, municipality): names the bench's chains
/// hold in several scripts and spellings, with years, places and filters.
pub const QUERIES: &[(&str, &str, &str)] = &[
    ("Arben Gashi", "", ""),
    ("Drita Krasniqi 1968", "", ""),
    ("Ђорђе Петровић", "", ""),
    ("Besa Berisha Prishtinë", "", ""),
    ("Ljiljana Hoxha", "1968", ""),
    ("Fatime Đorđević", "", "prizren"),
    ("Driton Shala", "1968-03-14", ""),
    ("gashi arbn", "", ""),
    ("Vjosa Krasnići", "", "peje"),
    ("Хоџа", "", ""),
];
/// Node ids: the chains pushed (2), the load pushed into hub A while latency is measured (4),
/// the offices that pull, search and ask for digests (5).
const PUSHER: &str = "2";
const LOADER: &str = "4";
const READER: &str = "5";

/// One run's figures.
#[derive(Debug, Clone)]
pub struct Run {
    pub one_hub: f64,
    pub two_hubs: f64,
    pub indexed_after_s: f64,
    pub load_ops_s: f64,
    pub pull_idle: Vec<f64>,
    pub pull_load: Vec<f64>,
    pub search_idle: Vec<f64>,
    pub search_load: Vec<f64>,
    pub ops_checked: u64,
    pub load_before: String,
    pub load_after: String,
}

/// The machine's load averages (1, 5, 15 min), from `/proc/loadavg`.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// A hub's data directory over the database at `url`: its PKI (with a certificate for every
/// client the run uses, issued before any hub starts), its key file, every municipality live.
struct HubDir {
    dir: PathBuf,
    ca_pem: String,
    certs: BTreeMap<(String, String), Issued>,
}

fn hub_dir(root: &Path, url: &str, munis: &[&str]) -> HubDir {
    let dir = root.join("hub-a");
    std::fs::create_dir_all(&dir).expect("hub dir");
    let pki = Pki::init(&paths::pki_dir(&dir), &[]).expect("pki");
    let key = civreg_hub::atrest::default_key_path(&dir);
    civreg_hub::atrest::create_key(&key).expect("key");
    let at = StoreAt::Postgres(url.to_string());
    for m in munis {
        let set = civreg_hub::control::Request::RolloutSet {
            municipality: m.to_string(),
            stage: Stage::Live,
            kinds: None,
            operator: "bench".into(),
            reason: String::new(),
        };
        civreg_hub::control::ask::ask_at(&dir, &at, &key, &set, &mut |_| {}).expect("rollout");
    }
    let mut certs = BTreeMap::new();
    for m in munis {
        for n in [PUSHER, LOADER, READER] {
            let issued = pki.issue_node(m, n, 30).expect("issue");
            certs.insert((m.to_string(), n.to_string()), issued);
        }
    }
    HubDir {
        dir,
        ca_pem: pki.ca_pem(),
        certs,
    }
}

/// `civreg-hub serve` over `url` in `dir`, its log in `dir`'s parent.
fn start(dir: &Path, url: &str, name: &str) -> HubProc {
    let log = dir.parent().expect("parent").join(format!("{name}.log"));
    HubProc::start_with(dir, &log, &["--store", url, "--http-listen", "127.0.0.1:0"])
}

fn copy_dir(from: &Path, to: &Path) {
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .expect("cp");
    assert!(cp.status.success(), "cp -a failed: {cp:?}");
}

async fn channel(h: &HubDir, port: u16, m: &str, n: &str) -> Channel {
    let issued = &h.certs[&(m.to_string(), n.to_string())];
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&h.ca_pem))
        .identity(Identity::from_pem(&issued.cert_pem, &issued.key_pem))
        .domain_name("localhost");
    Endpoint::from_shared(format!("https://localhost:{port}"))
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect")
}

fn sync(ch: Channel) -> SyncClient<Channel> {
    SyncClient::new(ch)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// A chain's push messages and, to check the hub's head by, its last op's hash.
type Chain = ((Vec<PushRequest>, u64), Hash);

fn chain_of(m: &str, n: &str, count: u64) -> Chain {
    let ops: Vec<Op> = super::chain(m, n, count);
    let last = ops.last().expect("a chain has ops").hash;
    (requests(&ops), last)
}

/// Pushes every `(port, municipality, node, chain)` at once; returns ops per second, from the
/// first push's start until the last op of every chain is acknowledged.
async fn push_many(h: &HubDir, pushes: Vec<(u16, String, &'static str, Chain)>) -> f64 {
    let mut clients = Vec::new();
    let mut total = 0;
    for (port, m, n, (reqs, _)) in pushes {
        total += reqs.1;
        clients.push((sync(channel(h, port, &m, n).await), reqs));
    }
    let t = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(c, reqs)| tokio::spawn(push_all(c, reqs)))
        .collect();
    for task in tasks {
        task.await.expect("push task");
    }
    total as f64 / t.elapsed().as_secs_f64()
}

/// Records whose place of birth is Prishtinë (every record the bench makes) in the hub's
/// index: how far its indexer has come.
async fn indexed(c: &mut SearchClient<Channel>) -> u64 {
    c.search(SearchRequest {
        text: "Prishtinë".into(),
        limit: 1,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().total)
    .unwrap_or(0)
}

/// Polls both hubs' indexes until each holds `want` records (at most 30 minutes); returns the
/// seconds it took.
async fn until_indexed(clients: &mut [SearchClient<Channel>], want: u64) -> f64 {
    let t = Instant::now();
    let deadline = t + Duration::from_secs(1800);
    for c in clients.iter_mut() {
        loop {
            let got = indexed(c).await;
            if got == want {
                break;
            }
            assert!(
                got < want,
                "the index holds {got} records where the bench made {want}"
            );
            assert!(
                Instant::now() < deadline,
                "the hubs' indexes did not reach {want} records within 30 minutes (one has {got})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    t.elapsed().as_secs_f64()
}

/// One pull: the first `want` ops of the caller's municipality's feed, from cursor 0 (the
/// stream is dropped once they are in). Milliseconds.
async fn pull_once(c: &mut SyncClient<Channel>, want: u64) -> f64 {
    let t = Instant::now();
    let mut s = c
        .pull(PullRequest {
            cursor: 0,
            max_batch: BATCH as u32,
            reads_format: civreg_shared::op::READS_FORMAT,
        })
        .await
        .expect("pull")
        .into_inner();
    let mut got = 0;
    while got < want {
        match s.message().await.expect("pull batch") {
            Some(b) => got += b.ops.len() as u64,
            None => break,
        }
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        got >= want,
        "a pull gave {got} ops where the feed holds {want}"
    );
    ms
}

/// One search of the query set's entry `i`. Milliseconds.
async fn search_once(c: &mut SearchClient<Channel>, i: usize) -> f64 {
    let (text, born, municipality) = QUERIES[i % QUERIES.len()];
    let t = Instant::now();
    let r = c
        .search(SearchRequest {
            text: text.into(),
            born: born.into(),
            municipality: municipality.into(),
            limit: 10,
            clerk: "bench".into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(!r.hits.is_empty(), "no hit for {text:?}");
    ms
}

/// Pulls and searches at hub B, each office asking again as soon as it is answered, until
/// `done`; returns (pull ms, search ms), call by call.
async fn readers(
    mut pullers: Vec<SyncClient<Channel>>,
    mut searchers: Vec<SearchClient<Channel>>,
    want: u64,
    done: Arc<AtomicBool>,
) -> (Vec<f64>, Vec<f64>) {
    let d = done.clone();
    let pulls = tokio::spawn(async move {
        let mut v = Vec::new();
        let mut i = 0;
        while !d.load(Ordering::Relaxed) || v.is_empty() {
            let n = pullers.len();
            v.push(pull_once(&mut pullers[i % n], want).await);
            i += 1;
        }
        v
    });
    let searches = tokio::spawn(async move {
        let mut v = Vec::new();
        let mut i = 0;
        while !done.load(Ordering::Relaxed) || v.len() < QUERIES.len() {
            let n = searchers.len();
            v.push(search_once(&mut searchers[i % n], i).await);
            i += 1;
        }
        v
    });
    (
        pulls.await.expect("pull loop"),
        searches.await.expect("search loop"),
    )
}

/// Nearest-rank percentile `p` (0-100) of `v`.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Every pushed chain's head is its last op (number and hash), and each municipality's feed
/// holds every op of its chains exactly once. Returns the ops checked.
fn check_store(url: &str, dir: &Path, chains: &[(String, &str, u64, Hash)]) -> u64 {
    let keys =
        civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(dir)).expect("key file");
    let store = HubStore::open_at(&StoreAt::Postgres(url.to_string()), keys).expect("open");
    let mut per_muni: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for (m, n, last, hash) in chains {
        let head = store.head(m, n);
        assert_eq!(
            (head.seq, head.hash),
            (*last, *hash),
            "chain {m}/{n}: the hub's head is not the last op acknowledged"
        );
        per_muni.entry(m).or_default().push((n, *last));
    }
    let mut checked = 0;
    for (m, nodes) in per_muni {
        let mut seen: HashSet<(String, u64)> = HashSet::new();
        let mut cursor = 0;
        loop {
            let (ops, next) = store.feed_after(m, cursor, 10_000).expect("feed");
            if ops.is_empty() {
                break;
            }
            for op in ops {
                let id = (op.id.node_id.clone(), op.id.seq);
                assert!(seen.insert(id), "{m}: op {:?} twice in the feed", op.id);
            }
            cursor = next;
        }
        let want: u64 = nodes.iter().map(|(_, l)| l).sum();
        assert_eq!(seen.len() as u64, want, "{m}: the feed's ops");
        for (n, last) in nodes {
            for seq in 1..=last {
                assert!(
                    seen.contains(&(n.to_string(), seq)),
                    "{m}/{n}: op {seq} missing from the feed"
                );
            }
        }
        checked += want;
    }
    checked
}

/// Every municipality's digest asked of both hubs (by an office of that municipality): equal.
async fn check_digests(h: &HubDir, ports: [u16; 2], munis: &[&str]) {
    for m in munis {
        let mut got = Vec::new();
        for port in ports {
            let mut c = ReviewClient::new(channel(h, port, m, READER).await);
            let d = c
                .digest(DigestRequest {
                    municipality: m.to_string(),
                })
                .await
                .expect("digest")
                .into_inner();
            got.push((d.records, d.sha256));
        }
        assert_eq!(got[0], got[1], "{m}: the two hubs' digests differ");
        assert!(got[0].0 > 0, "{m}: no records");
    }
}

/// One run (see the module's comment).
pub fn run(rt: &tokio::runtime::Runtime, per_node: u64, quick: bool) -> Run {
    let load_before = loadavg();
    let munis = municipalities();
    let half = munis.len() / 2;
    let root = tempfile::tempdir().expect("tempdir");

    // 1. One hub.
    let one_hub = {
        let db = civreg_testkit::postgres::database();
        let h = hub_dir(&root.path().join("one"), &db.url, &munis);
        let hub = start(&h.dir, &db.url, "one");
        let mut chains = Vec::new();
        let pushes = munis
            .iter()
            .map(|m| {
                let c = chain_of(m, PUSHER, per_node);
                chains.push((m.to_string(), PUSHER, per_node, c.1));
                (hub.port, m.to_string(), PUSHER, c)
            })
            .collect();
        let rate = rt.block_on(push_many(&h, pushes));
        let mut hub = hub;
        assert!(
            hub.alive(),
            "the hub exited during the run\n{}",
            log_tail(&hub.log)
        );
        hub.stop();
        check_store(&db.url, &h.dir, &chains);
        rate
    };
    eprintln!("two hubs: one hub {one_hub:.0} ops/s");

    // 2. Two hubs over one database.
    let db = civreg_testkit::postgres::database();
    let h = hub_dir(&root.path().join("two"), &db.url, &munis);
    let dir_b = root.path().join("two").join("hub-b");
    copy_dir(&h.dir, &dir_b);
    let hub_a = start(&h.dir, &db.url, "hub-a");
    let hub_b = start(&dir_b, &db.url, "hub-b");
    let ports = [hub_a.port, hub_b.port];
    let mut chains: Vec<(String, &str, u64, Hash)> = Vec::new();
    let pushes = munis
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let c = chain_of(m, PUSHER, per_node);
            chains.push((m.to_string(), PUSHER, per_node, c.1));
            (ports[usize::from(i >= half)], m.to_string(), PUSHER, c)
        })
        .collect();
    let two_hubs = rt.block_on(push_many(&h, pushes));
    eprintln!("two hubs: two hubs {two_hubs:.0} ops/s");

    // 3. Pull and search at hub B, hub A idle, then hub A ingesting.
    let want = PULL_OPS.min(per_node);
    let idle = if quick { Duration::from_secs(2) } else { IDLE };
    let load: Vec<(String, Chain)> = munis[..half]
        .iter()
        .map(|m| (m.to_string(), chain_of(m, LOADER, per_node)))
        .collect();
    for (m, c) in &load {
        chains.push((m.clone(), LOADER, per_node, c.1));
    }
    let (indexed_after_s, load_ops_s, pull_idle, search_idle, pull_load, search_load) = rt
        .block_on(async {
            let mut both = Vec::new();
            for port in ports {
                both.push(SearchClient::new(
                    channel(&h, port, munis[half], READER).await,
                ));
            }
            let indexed_after_s = until_indexed(&mut both, per_node * munis.len() as u64).await;
            let mut pullers = Vec::new();
            let mut searchers = Vec::new();
            for m in &munis[half..] {
                let ch = channel(&h, hub_b.port, m, READER).await;
                pullers.push(sync(ch.clone()));
                searchers.push(SearchClient::new(ch));
            }
            // Hub A idle.
            let done = Arc::new(AtomicBool::new(false));
            let d = done.clone();
            let timer = tokio::spawn(async move {
                tokio::time::sleep(idle).await;
                d.store(true, Ordering::Relaxed);
            });
            let (pull_idle, search_idle) =
                readers(pullers.clone(), searchers.clone(), want, done).await;
            timer.await.expect("timer");
            // Hub A ingesting.
            let done = Arc::new(AtomicBool::new(false));
            let reading = tokio::spawn(readers(pullers, searchers, want, done.clone()));
            let pushes = load
                .into_iter()
                .map(|(m, c)| (hub_a.port, m, LOADER, c))
                .collect();
            let load_ops_s = push_many(&h, pushes).await;
            done.store(true, Ordering::Relaxed);
            let (pull_load, search_load) = reading.await.expect("readers");
            (
                indexed_after_s,
                load_ops_s,
                pull_idle,
                search_idle,
                pull_load,
                search_load,
            )
        });

    // 4. Checks.
    rt.block_on(check_digests(&h, ports, &munis));
    for mut hub in [hub_a, hub_b] {
        assert!(
            hub.alive(),
            "a hub exited during the run\n{}",
            log_tail(&hub.log)
        );
        hub.stop();
    }
    let ops_checked = check_store(&db.url, &h.dir, &chains);
    Run {
        one_hub,
        two_hubs,
        indexed_after_s,
        load_ops_s,
        pull_idle,
        pull_load,
        search_idle,
        search_load,
        ops_checked,
        load_before,
        load_after: loadavg(),
    }
}

/// The BENCHMARKS.md section of `runs`: every run's figures side by side, and their medians.
pub fn section(runs: &[Run], per_node: u64, quick: bool) -> String {
    let (date, commit) = super::support::measured();
    let n = munis_len() as u64;
    let half = n / 2;
    let cols = |f: &dyn Fn(&Run) -> String| -> String {
        runs.iter().map(f).collect::<Vec<_>>().join(" | ")
    };
    let med = |f: &dyn Fn(&Run) -> f64| super::median(&runs.iter().map(f).collect::<Vec<_>>());
    let lat = |v: &[f64]| {
        format!(
            "{:.1} / {:.1} ms ({} calls)",
            percentile(v, 50.0),
            percentile(v, 99.0),
            v.len()
        )
    };
    let run_heads: String = (1..=runs.len()).map(|i| format!(" run {i} |")).collect();
    let run_rule: String = runs.iter().map(|_| "---|").collect();
    let mut rows = Vec::new();
    rows.push(format!(
        "| push, {n} nodes × {per_node} ops into **one** hub | {} | {:.0} ops/s |",
        cols(&|r| format!("{:.0} ops/s", r.one_hub)),
        med(&|r| r.one_hub)
    ));
    rows.push(format!(
        "| push, the same {n} nodes into **two** hubs ({half} on each), total | {} | {:.0} ops/s |",
        cols(&|r| format!("{:.0} ops/s", r.two_hubs)),
        med(&|r| r.two_hubs)
    ));
    rows.push(format!(
        "| two hubs / one hub | {} | {:.2} |",
        cols(&|r| format!("{:.2}", r.two_hubs / r.one_hub)),
        med(&|r| r.two_hubs / r.one_hub)
    ));
    rows.push(format!(
        "| both hubs' indexes holding all {} records, after the two-hub push ended | {} | {:.1} s |",
        per_node * n,
        cols(&|r| format!("{:.1} s", r.indexed_after_s)),
        med(&|r| r.indexed_after_s)
    ));
    rows.push(format!(
        "| pull at hub B (first {} ops of a feed), p50 / p99, hub A idle | {} | |",
        PULL_OPS.min(per_node),
        cols(&|r| lat(&r.pull_idle))
    ));
    rows.push(format!(
        "| the same while hub A ingests | {} | |",
        cols(&|r| lat(&r.pull_load))
    ));
    rows.push(format!(
        "| national search at hub B ({} queries in turn), p50 / p99, hub A idle | {} | |",
        QUERIES.len(),
        cols(&|r| lat(&r.search_idle))
    ));
    rows.push(format!(
        "| the same while hub A ingests | {} | |",
        cols(&|r| lat(&r.search_load))
    ));
    rows.push(format!(
        "| hub A's ingest meanwhile ({half} more nodes × {per_node} ops) | {} | {:.0} ops/s |",
        cols(&|r| format!("{:.0} ops/s", r.load_ops_s)),
        med(&|r| r.load_ops_s)
    ));
    rows.push(format!(
        "| ops acknowledged and checked: head at the last op, each once in its feed, digests equal at both hubs | {} | |",
        cols(&|r| format!("{} ✅", r.ops_checked))
    ));
    rows.push(format!(
        "| load average (1, 5, 15 min) at the run's start → end | {} | |",
        cols(&|r| format!("{} → {}", r.load_before, r.load_after))
    ));
    format!(
        "## Two hubs over one PostgreSQL (issue 19)\n\n\
Measured {date} at commit `{commit}`{quick_note}, `cargo bench -p civreg-hub --bench sync_bench -- --two-hubs` \
(release), on a 2-core machine shared with other engineers' builds (the load average is in the table). \
Real `civreg-hub serve` processes (the release binary cargo builds with the bench), each with its own data \
directory (hub B's a copy of hub A's: the same PKI and key file), its own store over its own PostgreSQL \
connections, its own search index and its own gRPC server over mutual TLS; one fresh database of the test kit's \
throwaway PostgreSQL cluster per run and per figure (`civreg_testkit::postgres`, as in \"The hub on PostgreSQL, side by side\": fsync and \
`synchronous_commit` on, on the same machine). The clients (the nodes) are tasks of the bench process on \
loopback, sharing the 2 cores with both hubs and PostgreSQL; their push messages are built before the clock \
starts, as in \"Sync (hub)\". Pull and search: once both hubs' indexes hold every record, two loops at hub B, \
one pulling and one searching, each asking again as soon as it is answered, through the offices of the \
{half} municipalities hub B serves: for {idle} s with hub A idle, then while {half} other nodes push into hub A \
until their last op is acknowledged. A pull is one `Pull` call from cursor 0, read until {pull} ops are in; a \
search is one `Search` call (10 hits, access log written). p99 is the nearest rank.\n\n\
| figure |{run_heads} median |\n|---|{run_rule}---|\n{rows}\n",
        quick_note = if quick { " (quick sizes)" } else { "" },
        idle = if quick { 2 } else { IDLE.as_secs() },
        pull = PULL_OPS.min(per_node),
        rows = rows.join("\n"),
    )
}

fn munis_len() -> usize {
    municipalities().len()
}
