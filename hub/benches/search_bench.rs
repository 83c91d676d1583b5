//! National search benchmark: index build time and size, query latency (median and p99) for a
//! mix of free text, typos, cross-script and date-filtered queries, and the latency a node adds
//! by asking over mutual TLS.
//!
//! Data: the seeded synthetic register of `civreg_shared::synth` (38 municipalities, families,
//! both scripts, about 8% corrupted duplicates), loaded through the hub's real ingest (one chain
//! per municipality, batches of 1,000), then indexed by the index that follows the feed.
//! Queries are made from records of the same data (seeded): "given surname", the same with one
//! letter dropped, the surname in Cyrillic, and "surname YEAR".
//!
//! ```text
//! cargo bench -p civreg-hub --bench search_bench                # 200,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --full      # 3,100,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --write     # also update BENCHMARKS.md
//! cargo bench -p civreg-hub --bench search_bench -- --quick     # small (what `cargo test` runs)
//! ```

#[path = "support/mod.rs"]
mod support;

use civreg_hub::pki::{PeerIdentity, Pki};
use civreg_hub::search::{SearchIndex, SearchQuery};
use civreg_hub::server;
use civreg_hub::store::HubStore;
use civreg_proto::v1::search_client::SearchClient;
use civreg_proto::v1::SearchRequest;
use civreg_shared::fields;
use civreg_shared::ids::RegNo;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use civreg_shared::synth::population::{Population, PopulationConfig};
use civreg_shared::synth::{to_cyrillic, Rng};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

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
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Loads `n` synthetic records into the store; returns (given, surname, year) of some children.
fn load(store: &HubStore, n: u64) -> Vec<(String, String, i32)> {
    let mut chains: BTreeMap<String, (u64, Hash, Vec<Op>)> = BTreeMap::new();
    let mut names = Vec::new();
    let flush = |m: &str, ops: Vec<Op>| {
        let who = PeerIdentity::Node {
            municipality: m.into(),
            node_id: "1".into(),
        };
        let r = store.ingest(vec![(who, ops)]).expect("ingest");
        assert!(r[0].is_ok(), "{:?}", r[0]);
    };
    for r in Population::new(PopulationConfig::new(0x5EA4C4, n)) {
        let Ok(rec) = r.record() else { continue };
        if let Some(child) = r.doc.get("child") {
            if names.len() < 20_000 {
                let s = |k: &str| child[k].as_str().unwrap_or("").to_string();
                let year = s("date_of_birth")
                    .get(..4)
                    .and_then(|y| y.parse().ok())
                    .unwrap_or(0);
                names.push((s("given_name"), s("surname"), year));
            }
        }
        let m = rec.municipality().to_string();
        let e = chains.entry(m.clone()).or_insert((0, GENESIS, Vec::new()));
        e.0 += 1;
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
            record_id: RegNo::mint(&m, 2026, r.kind, "1", e.0).to_string(),
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

fn queries(names: &[(String, String, i32)], per_class: usize) -> Vec<(&'static str, String)> {
    let mut rng = Rng::new(0x9E11);
    let mut out = Vec::new();
    for _ in 0..per_class {
        let (g, s, y) = &names[rng.below(names.len() as u64) as usize];
        out.push(("free text", format!("{g} {s}")));
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
        out.push(("typo", format!("{g} {typo}")));
        out.push(("cross-script", to_cyrillic(s)));
        out.push(("date filter", format!("{s} {y}")));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let full = args.iter().any(|a| a == "--full");
    let write = args.iter().any(|a| a == "--write");
    let n: u64 = if quick {
        5_000
    } else if full {
        3_100_000
    } else {
        200_000
    };
    let per_class = if quick { 25 } else { 250 };

    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(&server::pki_dir(dir.path()), &[]).expect("pki");
    let store = HubStore::open(&server::db_dir(dir.path())).expect("store");
    let t = Instant::now();
    let names = load(&store, n);
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = SearchIndex::open(dir.path()).expect("index");
    index.catch_up(&store).expect("index build");
    let build_s = t.elapsed().as_secs_f64();
    let docs = index.len();
    let size = dir_size(&civreg_hub::search::index_dir(dir.path()));
    let qs = queries(&names, per_class);

    let mut by_class: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut found = 0usize;
    for (class, text) in &qs {
        let q = SearchQuery {
            text: text.clone(),
            limit: 20,
            ..Default::default()
        };
        let t = Instant::now();
        let r = index.search(&q).expect("search");
        by_class
            .entry(class)
            .or_default()
            .push(t.elapsed().as_secs_f64() * 1000.0);
        found += usize::from(!r.hits.is_empty());
    }
    let mut all: Vec<f64> = by_class.values().flatten().copied().collect();
    let (p50, p99) = (percentile(&mut all, 0.5), percentile(&mut all, 0.99));
    drop(index);
    drop(store);

    // The same queries from a node over mutual TLS.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut remote: Vec<f64> = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let data = dir.path().to_path_buf();
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
        for _ in 0..100 {
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
        let mut v = Vec::new();
        for (_, text) in &qs {
            let t = Instant::now();
            client
                .search(SearchRequest {
                    text: text.clone(),
                    limit: 20,
                    clerk: "bench".into(),
                    ..Default::default()
                })
                .await
                .expect("remote search");
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let _ = stop.send(());
        let _ = hub.await;
        v
    });
    let (r50, r99) = (percentile(&mut remote, 0.5), percentile(&mut remote, 0.99));

    let (date, commit) = support::measured();
    let mut rows = String::new();
    for (class, v) in &mut by_class {
        let (a, b) = (percentile(v, 0.5), percentile(v, 0.99));
        rows.push_str(&format!(
            "| {class} ({} queries) | {a:.2} ms | {b:.2} ms |\n",
            v.len()
        ));
    }
    let ok = if p99 < 50.0 { "✅" } else { "❌" };
    let section = format!(
        "## National search (hub)\n\n\
Measured {date} at commit `{commit}`{note}, `cargo bench -p civreg-hub --bench search_bench`. \
Data: {n} synthetic records (seeded `civreg_shared::synth` population), loaded through the hub's ingest in {load_s:.1} s; \
queries made from the same data, one thread.\n\n\
| figure | value |\n|---|---|\n\
| index build (following the feed from empty) | {build_s:.1} s for {docs} records |\n\
| index size on disk | {mib:.1} MiB |\n\
| queries with at least one hit | {found} of {total} |\n\n\
| query class | median | p99 |\n|---|---|---|\n{rows}\
| **all, in the hub** (target p99 < 50 ms {ok}) | **{p50:.2} ms** | **{p99:.2} ms** |\n\
| all, from a node over mutual TLS (one connection) | {r50:.2} ms | {r99:.2} ms |\n\
| added by the node's round trip (median) | {added:.2} ms | |\n",
        note = if quick { " (quick sizes)" } else if full { " (full size)" } else { "" },
        mib = size as f64 / 1_048_576.0,
        total = qs.len(),
        added = r50 - p50,
    );
    println!("{section}");
    if write {
        support::write_section("search-bench", &section);
    }
}
