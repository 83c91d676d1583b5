//! National search benchmark: index build time and size, query latency (median and p99) and
//! recall for a mix of free text, typos, cross-script and date-filtered queries, the latency a
//! node adds by asking over mutual TLS, and (with `--pg`) a PostgreSQL pg_trgm baseline on the
//! same records and the same queries.
//!
//! Data: the seeded synthetic register of `civreg_shared::synth` (38 municipalities, families,
//! both scripts, about 8% corrupted duplicates), loaded through the hub's real ingest (one chain
//! per municipality, batches of 1,000), then indexed by the index that follows the feed.
//! Queries are made from children's birth records sampled uniformly from the same data (seeded):
//! "given surname",
//! the same with one letter dropped from the surname, the surname in Cyrillic, and
//! "surname YEAR". Each query remembers the record it was made from; *recall* is how often that
//! record is among the first 20 results.
//!
//! The benchmark runs in two processes so that their memory is measured apart: this one
//! generates the records and loads them into the hub's store; a child process (this binary again,
//! `--hub-phase DIR`) builds the index, searches in-process and then through a node over mutual
//! TLS. Every pass over the queries is preceded by an unmeasured warm-up pass over the same
//! queries, so the in-hub and the remote figures both come from a warm cache.
//!
//! ```text
//! cargo bench -p civreg-hub --bench search_bench                # 200,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --full      # 3,100,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --records 1000000
//! cargo bench -p civreg-hub --bench search_bench -- --write     # also update BENCHMARKS.md
//! cargo bench -p civreg-hub --bench search_bench -- --quick     # small (what `cargo test` runs)
//! hub/benches/pg_baseline.sh [--full] [--write]                # the same, plus pg_trgm
//! ```
//!
//! `--dir DIR` keeps the data directory (store, index, exported queries) and, when it already
//! holds a loaded store, reuses it instead of loading again (for iterating on the query side;
//! published figures come from fresh runs). `--pg CONNINFO` runs the pg_trgm baseline against
//! that server; `pg_baseline.sh` starts a throwaway PostgreSQL and passes it.

#[path = "support/mod.rs"]
mod support;

/// The same allocator as the hub binary, so that the hub measured here runs as it does there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use civreg_hub::pki::{PeerIdentity, Pki};
use civreg_hub::search::{SearchIndex, SearchQuery};
use civreg_hub::server;
use civreg_hub::store::HubStore;
use civreg_proto::v1::search_client::SearchClient;
use civreg_proto::v1::SearchRequest;
use civreg_shared::fields;
use civreg_shared::ids::RegNo;
use civreg_shared::model::Record;
use civreg_shared::normalize;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use civreg_shared::synth::population::{Population, PopulationConfig};
use civreg_shared::synth::{to_cyrillic, Rng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const SEED: u64 = 0x5EA4C4;
/// Children the queries are drawn from.
const SOURCES: usize = 20_000;

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata().ok();
                    if m.as_ref().is_some_and(|m| m.is_dir()) {
                        dir_size(&e.path())
                    } else {
                        m.map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// A line of /proc/self/status in MiB (`VmHWM`: peak resident, `VmRSS`: resident now).
fn proc_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Resets the peak resident size to the current one (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A child whose birth record a query is made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Source {
    given: String,
    surname: String,
    year: i32,
    regno: String,
}

/// What the search text of a record is for the pg_trgm baseline: the folded names
/// (`normalize::fold`: Cyrillic to Latin, lowercase, no diacritics) of the record's principals,
/// and of everyone it names (principals first).
fn pg_row(regno: &str, rec: &Record) -> String {
    let (mut principal, mut others) = (Vec::new(), Vec::new());
    let mut year = String::from("\\N");
    for p in rec.people() {
        let parts = [
            Some(p.given_name),
            Some(p.surname),
            p.other_surname,
            p.father_given_name,
        ];
        let folded = parts
            .into_iter()
            .flatten()
            .map(normalize::fold)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if p.principal {
            if let (Some(d), "\\N") = (p.date_of_birth, year.as_str()) {
                year = chrono::Datelike::year(&d).to_string();
            }
            principal.push(folded);
        } else {
            others.push(folded);
        }
    }
    let principal = principal.join(" ");
    let all = if others.is_empty() {
        principal.clone()
    } else {
        format!("{principal} {}", others.join(" "))
    };
    format!("{regno}\t{year}\t{principal}\t{all}\n")
}

/// Loads `n` synthetic records into the store; returns a seeded sample of children (with their
/// record).
/// With `pg`, also writes each record's baseline row there.
fn load(store: &HubStore, n: u64, mut pg: Option<&mut dyn Write>) -> Vec<Source> {
    let mut chains: BTreeMap<String, (u64, Hash, Vec<Op>)> = BTreeMap::new();
    let mut names = Vec::new();
    let (mut sampler, mut children) = (Rng::new(0x50_0ACE), 0u64);
    let flush = |m: &str, ops: Vec<Op>| {
        let who = PeerIdentity::Node {
            municipality: m.into(),
            node_id: "1".into(),
        };
        let r = store.ingest(vec![(who, ops)]).expect("ingest");
        assert!(r[0].is_ok(), "{:?}", r[0]);
    };
    for r in Population::new(PopulationConfig::new(SEED, n)) {
        let Ok(rec) = r.record() else { continue };
        let m = rec.municipality().to_string();
        let e = chains.entry(m.clone()).or_insert((0, GENESIS, Vec::new()));
        e.0 += 1;
        let regno = RegNo::mint(&m, 2026, r.kind, "1", e.0).to_string();
        if let Some(child) = r.doc.get("child") {
            // A uniform sample of all children (reservoir sampling), so that the sources are not
            // the first records loaded: both engines break ties by load order.
            children += 1;
            let slot = if names.len() < SOURCES {
                Some(names.len())
            } else {
                Some(sampler.below(children) as usize).filter(|&i| i < SOURCES)
            };
            if let Some(i) = slot {
                let s = |k: &str| child[k].as_str().unwrap_or("").to_string();
                let year = s("date_of_birth")
                    .get(..4)
                    .and_then(|y| y.parse().ok())
                    .unwrap_or(0);
                let src = Source {
                    given: s("given_name"),
                    surname: s("surname"),
                    year,
                    regno: regno.clone(),
                };
                if i == names.len() {
                    names.push(src);
                } else {
                    names[i] = src;
                }
            }
        }
        if let Some(w) = pg.as_mut() {
            w.write_all(pg_row(&regno, &rec).as_bytes())
                .expect("write baseline rows");
        }
        let op = Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: m.clone(),
                node_id: "1".into(),
                seq: e.0,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + e.0,
                logical: 0,
            },
            clerk: "bench".into(),
            record_id: regno,
            record_kind: r.kind,
            change: ChangeKind::Create,
            changes: fields::flatten(&rec.to_json())
                .expect("fields")
                .into_iter()
                .map(|(path, value)| fields::FieldChange { path, value })
                .collect(),
            base: vec![],
            reason: String::new(),
            prev_hash: e.1,
            hash: Hash::default(),
        }
        .seal();
        e.1 = op.hash;
        e.2.push(op);
        if e.2.len() == 1_000 {
            let ops = std::mem::take(&mut e.2);
            flush(&m, ops);
        }
    }
    for (m, (_, _, ops)) in chains {
        if !ops.is_empty() {
            flush(&m, ops);
        }
    }
    names
}

/// One benchmark query: its class, its text, and the record it was made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchQuery {
    class: String,
    text: String,
    source: String,
}

fn queries(names: &[Source], per_class: usize) -> Vec<BenchQuery> {
    let mut rng = Rng::new(0x9E11);
    let mut out = Vec::new();
    let mut push = |class: &str, text: String, source: &str| {
        out.push(BenchQuery {
            class: class.into(),
            text,
            source: source.into(),
        })
    };
    for _ in 0..per_class {
        let src = &names[rng.below(names.len() as u64) as usize];
        let (g, s, y) = (&src.given, &src.surname, src.year);
        push("free text", format!("{g} {s}"), &src.regno);
        let typo: String = {
            let chars: Vec<char> = s.chars().collect();
            let drop = if chars.len() > 3 {
                1 + rng.below(chars.len() as u64 - 2) as usize
            } else {
                usize::MAX
            };
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, c)| c)
                .collect()
        };
        push("typo", format!("{g} {typo}"), &src.regno);
        push("cross-script", to_cyrillic(s), &src.regno);
        push("date filter", format!("{s} {y}"), &src.regno);
    }
    out
}

/// Latency and recall of one pass, per class.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Pass {
    /// class → latencies in ms
    ms: BTreeMap<String, Vec<f64>>,
    /// class → (source record in the first 20, at least one hit)
    found: BTreeMap<String, (usize, usize)>,
}

impl Pass {
    fn add(&mut self, class: &str, ms: f64, source_found: bool, any: bool) {
        self.ms.entry(class.into()).or_default().push(ms);
        let f = self.found.entry(class.into()).or_default();
        f.0 += usize::from(source_found);
        f.1 += usize::from(any);
    }
    fn all(&self) -> (f64, f64) {
        let mut v: Vec<f64> = self.ms.values().flatten().copied().collect();
        (percentile(&mut v, 0.5), percentile(&mut v, 0.99))
    }
    fn total(&self) -> usize {
        self.ms.values().map(Vec::len).sum()
    }
    fn recall(&self) -> usize {
        self.found.values().map(|f| f.0).sum()
    }
    fn any(&self) -> usize {
        self.found.values().map(|f| f.1).sum()
    }
    /// One table row per class: median, p99, found.
    fn class_rows(&self, name: &str) -> String {
        let mut rows = String::new();
        for (class, v) in &self.ms {
            let mut v = v.clone();
            let (a, b) = (percentile(&mut v, 0.5), percentile(&mut v, 0.99));
            let (r, _) = self.found[class];
            rows.push_str(&format!(
                "| {name}: {class} ({} queries) | {a:.2} ms | {b:.2} ms | {r} of {} |\n",
                v.len(),
                v.len()
            ));
        }
        rows
    }
}

/// What the hub phase (the child process) measured.
#[derive(Debug, Serialize, Deserialize)]
struct HubResult {
    commit_s: f64,
    committed_segments: usize,
    build_s: f64,
    reindexed: usize,
    docs: u64,
    index_bytes: u64,
    segments: usize,
    build_peak_mib: f64,
    search_start_mib: f64,
    search_peak_mib: f64,
    local: Pass,
    remote: Pass,
    slowest: Vec<(f64, String, String)>,
}

fn read_queries(dir: &Path) -> Vec<BenchQuery> {
    let text = std::fs::read_to_string(dir.join("bench-queries.json")).expect("queries file");
    serde_json::from_str(&text).expect("queries parse")
}

/// A warm-up pass over the queries, then a measured one.
fn run_pass(
    index: &SearchIndex,
    qs: &[BenchQuery],
    slowest: &mut Vec<(f64, String, String)>,
) -> Pass {
    let mut pass = Pass::default();
    for measured in [false, true] {
        for bq in qs {
            let q = SearchQuery {
                text: bq.text.clone(),
                limit: 20,
                ..Default::default()
            };
            let t = Instant::now();
            let r = index.search(&q).expect("search");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if measured {
                let hit = r.hits.iter().any(|h| h.regno == bq.source);
                pass.add(&bq.class, ms, hit, !r.hits.is_empty());
                slowest.push((ms, bq.class.clone(), bq.text.clone()));
            }
        }
    }
    pass
}

/// The child process: index build, then searches in the hub and through a node.
fn hub_phase(dir: &Path) {
    let qs = read_queries(dir);
    reset_peak();
    let store = HubStore::open(
        &server::db_dir(dir),
        civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(dir))
            .expect("the hub's key file"),
    )
    .expect("store");
    let t = Instant::now();
    let index = SearchIndex::open(dir).expect("index");
    let reindexed = index.catch_up(&store).expect("index build");
    let commit_s = t.elapsed().as_secs_f64();
    let committed_segments = index.segments();
    if std::env::var_os("CIVREG_BENCH_PREMERGE").is_some() {
        let pass = run_pass(&index, &qs, &mut Vec::new());
        let (a, b) = pass.all();
        eprintln!(
            "before merges ({committed_segments} segments): median {a:.2} ms, p99 {b:.2} ms, found {}",
            pass.recall()
        );
    }
    // What a running hub reaches once the merges that follow a large catch-up are done.
    index.wait_merges().expect("merges");
    let build_s = t.elapsed().as_secs_f64();
    let build_peak_mib = proc_mib("VmHWM:");
    let index = SearchIndex::open(dir).expect("index");
    // A reused index (`--dir`) reports the figures of the run that built it.
    let build_file = dir.join("bench-build.json");
    let (commit_s, committed_segments, build_s, build_peak_mib) = if reindexed > 0 {
        let v = (commit_s, committed_segments, build_s, build_peak_mib);
        std::fs::write(&build_file, serde_json::to_string(&v).expect("build")).expect("build file");
        v
    } else {
        eprintln!("reusing the index built earlier in {}", dir.display());
        serde_json::from_str(&std::fs::read_to_string(&build_file).expect("build file"))
            .expect("build file parse")
    };
    let docs = index.len();
    let index_bytes = dir_size(&civreg_hub::search::index_dir(dir));
    let segments = index.segments();

    reset_peak();
    let search_start_mib = proc_mib("VmRSS:");
    let mut slowest = Vec::new();
    let local = run_pass(&index, &qs, &mut slowest);
    let search_peak_mib = proc_mib("VmHWM:");
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(15);
    drop(index);
    drop(store);

    // The same queries from a node over mutual TLS.
    let pki = Pki::open(&server::pki_dir(dir)).expect("pki");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let remote = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let data = dir.to_path_buf();
        let hub = tokio::spawn(async move {
            server::run(&data, l, async {
                let _ = rx.await;
            })
            .await
        });
        let issued = pki.issue_node("prishtine", "1", 30).expect("issue");
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pki.ca_pem()))
            .identity(Identity::from_pem(&issued.cert_pem, &issued.key_pem))
            .domain_name("localhost");
        let mut ch = None;
        for _ in 0..600 {
            let ep = Endpoint::from_shared(format!("https://localhost:{port}"))
                .expect("url")
                .tls_config(tls.clone())
                .expect("tls");
            if let Ok(c) = ep.connect().await {
                ch = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut client = SearchClient::new(ch.expect("connect to the hub"));
        let mut pass = Pass::default();
        for measured in [false, true] {
            for bq in &qs {
                let t = Instant::now();
                let r = client
                    .search(SearchRequest {
                        text: bq.text.clone(),
                        limit: 20,
                        clerk: "bench".into(),
                        ..Default::default()
                    })
                    .await
                    .expect("remote search")
                    .into_inner();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if measured {
                    let hit = r.hits.iter().any(|h| h.regno == bq.source);
                    pass.add(&bq.class, ms, hit, !r.hits.is_empty());
                }
            }
        }
        let _ = stop.send(());
        let _ = hub.await;
        pass
    });
    let out = HubResult {
        commit_s,
        committed_segments,
        build_s,
        reindexed,
        docs,
        index_bytes,
        segments,
        build_peak_mib,
        search_start_mib,
        search_peak_mib,
        local,
        remote,
        slowest,
    };
    std::fs::write(
        dir.join("bench-hub-result.json"),
        serde_json::to_string(&out).expect("result serialises"),
    )
    .expect("write result");
}

/// What the pg_trgm baseline measured.
struct PgResult {
    version: String,
    load_s: f64,
    index_s: f64,
    table_bytes: i64,
    index_bytes: i64,
    pass: Pass,
}

/// The name text and the year of a query, parsed the way the hub parses it (a 4-digit token is a
/// year; every other token is folded by `normalize::tokens`).
fn pg_query(text: &str) -> (String, Option<i32>) {
    let mut names = Vec::new();
    let mut year = None;
    for raw in text.split_whitespace() {
        if raw.len() == 4 && raw.chars().all(|c| c.is_ascii_digit()) {
            year = raw.parse().ok();
        } else {
            names.extend(normalize::tokens(raw));
        }
    }
    (names.join(" "), year)
}

fn pg_phase(conninfo: &str, dir: &Path, qs: &[BenchQuery]) -> PgResult {
    let mut c =
        postgres::Client::connect(conninfo, postgres::NoTls).expect("connect to PostgreSQL");
    let version: String = c
        .query_one("SHOW server_version", &[])
        .expect("version")
        .get(0);
    c.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;
         DROP TABLE IF EXISTS rec;
         CREATE UNLOGGED TABLE rec (regno text PRIMARY KEY, year int, principal text NOT NULL, names text NOT NULL);",
    )
    .expect("create table");
    let t = Instant::now();
    {
        let mut w = c
            .copy_in("COPY rec (regno, year, principal, names) FROM STDIN")
            .expect("copy");
        let f = std::fs::File::open(dir.join("bench-pg-rows.tsv")).expect("baseline rows");
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        std::io::copy(&mut r, &mut w).expect("copy rows");
        w.finish().expect("copy finish");
    }
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.batch_execute(
        "SET maintenance_work_mem = '1GB';
         CREATE INDEX rec_names_trgm ON rec USING gin (names gin_trgm_ops);
         CREATE INDEX rec_year ON rec (year);",
    )
    .expect("create indexes");
    c.batch_execute("VACUUM ANALYZE rec").expect("analyze");
    let index_s = t.elapsed().as_secs_f64();
    let table_bytes: i64 = c
        .query_one("SELECT pg_table_size('rec')", &[])
        .expect("size")
        .get(0);
    let index_bytes: i64 = c
        .query_one("SELECT pg_indexes_size('rec')", &[])
        .expect("size")
        .get(0);
    // word_similarity: the query against the best-matching stretch of the record's names, so a
    // two-word query is not diluted by the parents' names; `<%` (threshold 0.6, the default)
    // uses the trigram index. Principals rank first, as in the hub.
    let by_name = c
        .prepare(
            "SELECT regno FROM rec WHERE $1 <% names
             ORDER BY word_similarity($1, principal) + word_similarity($1, names) DESC LIMIT 20",
        )
        .expect("prepare");
    let by_name_year = c
        .prepare(
            "SELECT regno FROM rec WHERE $1 <% names AND year = $2
             ORDER BY word_similarity($1, principal) + word_similarity($1, names) DESC LIMIT 20",
        )
        .expect("prepare");
    let mut pass = Pass::default();
    // The warm-up pass covers the first 200 queries only: over millions of rows the slowest
    // baseline queries take seconds each.
    for measured in [false, true] {
        for bq in qs.iter().take(if measured { usize::MAX } else { 200 }) {
            let (names, year) = pg_query(&bq.text);
            let t = Instant::now();
            let rows = match year {
                Some(y) => c.query(&by_name_year, &[&names, &y]),
                None => c.query(&by_name, &[&names]),
            }
            .expect("baseline query");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if measured {
                let hit = rows.iter().any(|r| r.get::<_, String>(0) == bq.source);
                pass.add(&bq.class, ms, hit, !rows.is_empty());
            }
        }
    }
    PgResult {
        version,
        load_s,
        index_s,
        table_bytes,
        index_bytes,
        pass,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(dir) = value("--hub-phase") {
        hub_phase(Path::new(&dir));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let full = args.iter().any(|a| a == "--full");
    let write = args.iter().any(|a| a == "--write");
    let pg = value("--pg");
    let n: u64 = if let Some(n) = value("--records") {
        n.parse().expect("--records N")
    } else if quick {
        5_000
    } else if full {
        3_100_000
    } else {
        200_000
    };
    let per_class = if quick { 25 } else { 250 };

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = value("--dir").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("data dir");
    let names_file = dir.join("bench-sources.json");
    let pg_rows = dir.join("bench-pg-rows.tsv");
    let (names, load_s, load_peak_mib) = match std::fs::read_to_string(&names_file) {
        Ok(text) if pg.is_none() || pg_rows.exists() => {
            eprintln!("reusing the store loaded in {}", dir.display());
            let v: (Vec<Source>, f64, f64, u64) =
                serde_json::from_str(&text).expect("sources parse");
            assert_eq!(v.3, n, "{} was loaded with another size", dir.display());
            (v.0, v.1, v.2)
        }
        _ => {
            Pki::init(&server::pki_dir(&dir), &[]).expect("pki");
            civreg_hub::atrest::create_key(&civreg_hub::atrest::default_key_path(&dir))
                .expect("key");
            let store = HubStore::open(
                &server::db_dir(&dir),
                civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(&dir))
                    .expect("the hub's key file"),
            )
            .expect("store");
            let mut rows = pg.as_ref().map(|_| {
                std::io::BufWriter::new(std::fs::File::create(&pg_rows).expect("rows file"))
            });
            let t = Instant::now();
            let names = load(&store, n, rows.as_mut().map(|w| w as &mut dyn Write));
            if let Some(mut w) = rows {
                w.flush().expect("rows flush");
            }
            let load_s = t.elapsed().as_secs_f64();
            drop(store);
            let peak = proc_mib("VmHWM:");
            std::fs::write(
                &names_file,
                serde_json::to_string(&(&names, load_s, peak, n)).expect("sources"),
            )
            .expect("write sources");
            (names, load_s, peak)
        }
    };
    let qs = queries(&names, per_class);
    std::fs::write(
        dir.join("bench-queries.json"),
        serde_json::to_string_pretty(&qs).expect("queries"),
    )
    .expect("write queries");
    drop(names);

    let exe = std::env::current_exe().expect("exe");
    let status = std::process::Command::new(exe)
        .arg("--hub-phase")
        .arg(&dir)
        .status()
        .expect("start the hub phase");
    assert!(status.success(), "the hub phase failed: {status}");
    let hub: HubResult = serde_json::from_str(
        &std::fs::read_to_string(dir.join("bench-hub-result.json")).expect("hub result"),
    )
    .expect("hub result parse");
    for (ms, class, text) in &hub.slowest {
        eprintln!("slow: {ms:8.2} ms  {class:12}  {text}");
    }
    let pg = pg.map(|conninfo| pg_phase(&conninfo, &dir, &qs));

    let (date, commit) = support::measured();
    let (p50, p99) = hub.local.all();
    let (r50, r99) = hub.remote.all();
    let total = hub.local.total();
    let ok = if p99 < 50.0 { "✅" } else { "❌" };
    let section = format!(
        "## National search (hub)\n\n\
Measured {date} at commit `{commit}`{note}, `cargo bench -p civreg-hub --bench search_bench{how}`. \
Data: {n} synthetic records (seeded `civreg_shared::synth` population), loaded through the hub's ingest in {load_s:.1} s; \
{total} queries made from children's birth records of the same data, one thread, each pass after an unmeasured warm-up pass over the same queries. \
*Found* is how often the record a query was made from is among its first 20 results.\n\n\
| figure | value |\n|---|---|\n\
| index build (following the feed from empty): committed, then merged | {commit_s:.1} s ({csegs} segments), {build_s:.1} s for {docs} records ({segs} segments) |\n\
| index size on disk | {mib:.1} MiB |\n\
| peak resident: generating and loading the records (bench process) | {load_peak_mib:.0} MiB |\n\
| peak resident: hub process building the index | {build_peak:.0} MiB |\n\
| peak resident: hub process searching (from {s0:.0} MiB when the pass started) | {s1:.0} MiB |\n\
| queries with at least one hit | {any} of {total} |\n\n\
| query class | median | p99 | found in first 20 |\n|---|---|---|---|\n{rows}\
| **all, in the hub** (target p99 < 50 ms {ok}) | **{p50:.2} ms** | **{p99:.2} ms** | {rec} of {total} |\n\
| all, from a node over mutual TLS (one connection) | {r50:.2} ms | {r99:.2} ms | {rrec} of {total} |\n\
| added by the node's round trip (median) | {added:.2} ms | | |\n",
        note = if quick { " (quick sizes)" } else if full { " (full size)" } else { "" },
        how = if full { " -- --full" } else { "" },
        build_s = hub.build_s,
        docs = hub.docs,
        segs = hub.segments,
        commit_s = hub.commit_s,
        csegs = hub.committed_segments,
        mib = hub.index_bytes as f64 / 1_048_576.0,
        build_peak = hub.build_peak_mib,
        s0 = hub.search_start_mib,
        s1 = hub.search_peak_mib,
        any = hub.local.any(),
        rows = hub.local.class_rows("hub"),
        rec = hub.local.recall(),
        rrec = hub.remote.recall(),
        added = r50 - p50,
    );
    println!("{section}");
    let pg_section = pg.map(|pg| {
        let (g50, g99) = pg.pass.all();
        format!(
            "## National search: PostgreSQL pg_trgm baseline\n\n\
Measured {date} at commit `{commit}`{note}, `hub/benches/pg_baseline.sh{how}`, in the same run as the hub's figures above: \
the same {n} records and the same {total} queries, PostgreSQL {ver} (Debian's, a throwaway cluster on this machine, \
`shared_buffers` 1 GB), one connection, one query at a time, after a warm-up pass over the first 200 queries.\n\n\
Setup: one row per record, `names` = the folded names (our `normalize::fold`: Cyrillic to Latin, lowercase, no diacritics) \
of everyone the record names, principals first, and `principal` = those of the principals only; \
a GIN `gin_trgm_ops` index on `names` and a b-tree on the principal's year of birth. \
A query's names are folded the same way and a 4-digit token is the year: \
`WHERE $names <% names [AND year = $y] ORDER BY word_similarity($names, principal) + word_similarity($names, names) DESC LIMIT 20` \
(`pg_trgm.word_similarity_threshold` 0.6, the default).\n\n\
| figure | pg_trgm | civreg-hub (tantivy) |\n|---|---|---|\n\
| load | {pl:.1} s (COPY) | {load_s:.1} s (ingest) |\n\
| index build | {pi:.1} s | {build_s:.1} s |\n\
| size on disk | table {pt:.1} MiB + indexes {px:.1} MiB | {mib:.1} MiB |\n\
| **all queries: median / p99** | **{g50:.2} ms / {g99:.2} ms** | **{p50:.2} ms / {p99:.2} ms** |\n\
| all queries: found in first 20 | {grec} of {total} | {rec} of {total} |\n\n\
| query class | median | p99 | found in first 20 |\n|---|---|---|---|\n{prows}{hrows}",
            ver = pg.version,
            pl = pg.load_s,
            pi = pg.index_s,
            pt = pg.table_bytes as f64 / 1_048_576.0,
            px = pg.index_bytes as f64 / 1_048_576.0,
            build_s = hub.build_s,
            mib = hub.index_bytes as f64 / 1_048_576.0,
            grec = pg.pass.recall(),
            rec = hub.local.recall(),
            prows = pg.pass.class_rows("pg_trgm"),
            hrows = hub.local.class_rows("hub"),
            note = if full { " (full size)" } else { "" },
            how = if full { " --full" } else { "" },
        )
    });
    if let Some(s) = &pg_section {
        println!("{s}");
    }
    if write {
        support::write_section("search-bench", &section);
        if let Some(s) = &pg_section {
            support::write_section("search-pg-baseline", s);
        }
    }
    drop(tmp);
}
