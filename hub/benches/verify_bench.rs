//! The hub's public verification page (issue 15): `POST /verify` over HTTP, measured.
//!
//! A hub in this process (`serve::run_with`, dashboard on loopback) whose PKI has issued 200
//! document signers (so that the trust list is the size of a national one); one office
//! (`istog/1`) has reported the certificate verified, so the page runs its whole path: decode,
//! signature against the cached trust list, cancellations, the register, the record (not held:
//! the claims are made in the bench), the access log entry, the page. Clients are plain
//! HTTP/1.1 over loopback, a new connection per request.
//!
//! Also measured, in process: building the trust list from the PKI (what every verification
//! cost before the cache).
//!
//! ```text
//! cargo bench -p civreg-hub --bench verify_bench            # writes BENCHMARKS.md
//! cargo bench -p civreg-hub --bench verify_bench -- --quick # fewer requests, no write
//! ```

#[path = "support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use civreg_cert::{Claims, PersonClaim, SigningKey};
use civreg_hub::pki::Pki;
use civreg_hub::store::HubStore;
use civreg_hub::{paths, serve};
use rustls_pki_types::pem::PemObject;

const SIGNERS: usize = 200;

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One `POST /verify`; returns the page.
fn verify(addr: &str, text: &str) -> String {
    let body = format!("qr={}", form_encode(text));
    let req = format!(
        "POST /verify HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(req.as_bytes()).expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

fn claims(serial: &str) -> Claims {
    let person = |role: &str, g: &str, s: &str| PersonClaim {
        role: role.into(),
        given_name: g.into(),
        surname: s.into(),
        other_surname: None,
        father_given_name: Some("Fatmir".into()),
        date_of_birth: Some("1990-04-12".into()),
        sex: Some('F'),
        person_id: None,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims {
        format: 1,
        serial: serial.into(),
        kind: 'B',
        regno: "ISTOG-2026-B-000001".into(),
        record_version: 1,
        record_head: "0011223344556677".into(),
        issued_on: time::OffsetDateTime::now_utc().date().to_string(),
        issued_at: now,
        office: "istog/1".into(),
        municipality: "istog".into(),
        event_date: Some("2026-11-30".into()),
        event_place: "Istog".into(),
        register: None,
        people: vec![
            person("child", "Милица", "Петровић"),
            person("mother", "Драгана", "Петровић"),
            person("father", "Nikola", "Petrović"),
        ],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let requests = if quick { 100 } else { 1000 };

    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(&paths::pki_dir(dir.path()), &[]).expect("pki init");
    civreg_hub::atrest::create_key(&civreg_hub::atrest::default_key_path(dir.path()))
        .expect("hub key");
    let codes: Vec<&str> = civreg_shared::gazetteer::all()
        .iter()
        .map(|m| m.code)
        .collect();
    let office = pki.issue_signer(Some(("istog", "1")), 365).expect("signer");
    for i in 1..SIGNERS {
        let m = codes[i % codes.len()];
        pki.issue_signer(Some((m, &(i / codes.len() + 2).to_string())), 365)
            .expect("signer");
    }
    let signing = {
        let cert = rustls_pki_types::CertificateDer::from_pem_slice(office.cert_pem.as_bytes())
            .expect("cert");
        let key = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(office.key_pem.as_bytes())
            .expect("key");
        SigningKey::new(key.secret_pkcs8_der(), &cert).expect("signing key")
    };
    let serial = civreg_cert::mint_serial("istog/1", 2026, 1);
    let text = civreg_cert::sign(&claims(&serial), &signing).expect("sign");

    // The office's report of it, as its heartbeat would bring it.
    {
        let store = HubStore::open(
            &paths::db_dir(dir.path()),
            civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(dir.path()))
                .expect("key"),
        )
        .expect("store");
        civreg_hub::certificates::record_issues(
            &store,
            "istog",
            "1",
            &[civreg_proto::v1::CertificateIssued {
                serial: serial.clone(),
                regno: "ISTOG-2026-B-000001".into(),
                record_version: 1,
                record_head: "0011223344556677".into(),
                clerk: "drita".into(),
                at_ms: civreg_hub::access::now_ms(),
                collector: "Dragana Petrović".into(),
                id_document: "id-card".into(),
                lang: "sr".into(),
                signer_kid: "0011223344556677".into(),
            }],
            civreg_hub::access::now_ms(),
        )
        .expect("report");
    }

    // Building the trust list, as the page did on every request before the cache.
    let mut builds = Vec::new();
    for _ in 0..if quick { 5 } else { 30 } {
        let t = Instant::now();
        civreg_hub::certificates::current_trust_list(&pki).expect("trust list");
        builds.push(t.elapsed());
    }
    builds.sort();
    let list_bytes = pki.trust_list().expect("trust list").len();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, tx) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let http = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind http");
        let addr = http.local_addr().expect("addr").to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let data = dir.path().to_path_buf();
        tokio::spawn(async move {
            let opts = serve::RunOptions {
                http: Some(http),
                web: civreg_hub::web::Settings::default(),
                key_file: None,
                ..Default::default()
            };
            serve::run_with(&data, listener, opts, async {
                let _ = rx.await;
            })
            .await
        });
        (addr, tx)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "the hub did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let page = verify(&addr, &text);
    assert!(page.contains("data-valid=\"true\""), "{page}");

    // One client, one request at a time.
    let mut lat = Vec::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        let page = verify(&addr, &text);
        lat.push(t.elapsed());
        assert!(page.contains("data-valid=\"true\""));
    }
    let serial_rate = requests as f64 / started.elapsed().as_secs_f64();
    lat.sort();

    // Four clients at once.
    let clients = 4;
    let started = Instant::now();
    let mut all: Vec<Duration> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    (0..requests / clients)
                        .map(|_| {
                            let t = Instant::now();
                            let page = verify(&addr, &text);
                            assert!(page.contains("data-valid=\"true\""));
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("client"))
            .collect()
    });
    let parallel_rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    let _ = tx.send(());
    drop(rt);

    let (date, commit) = support::measured();
    // What else the machine was doing: the 1-minute load average when the rows were done.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    let section = format!(
        "Figures from `hub/benches/verify_bench.rs` (release profile), {date}, commit {commit}, on this\n\
         shared 2-core machine (1-minute load average {load} at the end of the run):\n\n\
         ```text\ncargo bench -p civreg-hub --bench verify_bench\n```\n\n\
         A hub in the bench's process with its dashboard on loopback; its PKI issued {SIGNERS} document\n\
         signers (trust list {list_bytes} bytes); the certificate verified (a birth, three people, made\n\
         in the bench) was reported by its office, so the page runs its whole path except comparing\n\
         with the record (not held: the bench does not sync one). HTTP/1.1 from the bench's process, a\n\
         new connection per request, {requests} requests per row.\n\n\
         | `POST /verify` | verifications per second | median | p99 |\n|---|---|---|---|\n\
         | one client | {serial_rate:.0} | {} | {} |\n\
         | {clients} clients at once | {parallel_rate:.0} | {} | {} |\n\n\
         Building the trust list from the PKI, as the page did on every request before it was cached\n\
         (`certificates::TrustCache`): median {}, p90 {}.\n\n",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(percentile(&builds, 0.5)),
        ms(percentile(&builds, 0.9)),
    );
    print!("{section}");
    if !quick {
        support::write_section("verify-bench", &section);
    }
}
