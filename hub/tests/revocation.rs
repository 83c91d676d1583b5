//! Certificates and live connections (issue 13, findings 5, 9 and the preface part of 12),
//! through real TLS: revocation ends connections already open, only certificates in the
//! hub's registry are admitted, the root CA's key stays out of the hub's data directory (and
//! the key ceremony of the operator manual works), and a client that never speaks HTTP/2 is
//! dropped.

use civreg_testkit::prelude as common;

use civreg_hub::live::PREFACE_TIMEOUT;
use civreg_hub::paths;
use civreg_hub::pki::{Issued, Pki};
use civreg_proto::v1::PushRequest;
use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tonic::Code;

fn wire(ops: &[civreg_shared::op::Op]) -> PushRequest {
    PushRequest {
        ops: ops.iter().map(civreg_proto::v1::Op::from).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_opened_before_revoke_is_refused_on_its_next_heartbeat() {
    let hub = Hub::start().await;
    let issued = hub.issue("prishtine", "2");
    let mut client = hub.client(&issued).await;
    heartbeat(&mut client)
        .await
        .expect("heartbeat before the revocation");
    hub.pki.revoke("prishtine/2").expect("revoke");
    // The same client, the same HTTP/2 connection: refused at once, and for good.
    for _ in 0..3 {
        let err = heartbeat(&mut client)
            .await
            .expect_err("a revoked certificate must be refused on a connection opened before");
        // Refused by the request check (UNAUTHENTICATED), or its connection already closed
        // by the hub (a transport error, whose code depends on the moment it is seen).
        assert_ne!(err.code(), Code::Ok, "{err:?}");
    }
    // And nothing it pushes afterwards is stored.
    let out = push(&mut client, vec![chain("prishtine", "2", 3)]).await;
    out.refused();
    let (_dir, store) = hub.stop().await;
    assert_eq!(
        store.head("prishtine", "2").seq,
        0,
        "a revoked PC stored ops"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_stream_open_across_revoke_stores_nothing_after_it() {
    let hub = Hub::start().await;
    let issued = hub.issue("prishtine", "2");
    let mut client = hub.client(&issued).await;
    let ops = chain("prishtine", "2", 6);
    let (tx, rx) = tokio::sync::mpsc::channel::<PushRequest>(4);
    let mut acks = client
        .push(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("push stream opens")
        .into_inner();
    let held = acks.message().await.expect("first answer").expect("head");
    assert_eq!(held.acked_seq, 0);
    tx.send(wire(&ops[..3])).await.expect("send batch 1");
    let ack = acks.message().await.expect("ack 1").expect("ack 1");
    assert_eq!(ack.acked_seq, 3);

    hub.pki.revoke("prishtine/2").expect("revoke");
    // The next batch on the same stream is refused (or its connection is gone).
    let _ = tx.send(wire(&ops[3..])).await;
    match acks.message().await {
        Ok(Some(a)) => panic!("batch after the revocation acknowledged: {a:?}"),
        Ok(None) => panic!("stream ended without a refusal"),
        Err(st) => assert!(
            matches!(
                st.code(),
                Code::Unauthenticated | Code::Unavailable | Code::Unknown
            ),
            "{st:?}"
        ),
    }
    drop(tx);
    let (_dir, store) = hub.stop().await;
    assert_eq!(
        store.head("prishtine", "2").seq,
        3,
        "ops pushed after the revocation were stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_connection_of_a_revoked_certificate_is_closed() {
    let hub = Hub::start().await;
    let issued = hub.issue("prishtine", "2");
    let (mut tls, _) = raw_tls(&hub, Some(&issued)).await;
    // A well-behaved HTTP/2 client: the preface, then nothing more for now.
    use tokio::io::AsyncWriteExt;
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("preface");
    tls.flush().await.expect("flush");
    hub.pki.revoke("prishtine/2").expect("revoke");
    let closed = read_until_closed(&mut tls, Duration::from_secs(20)).await;
    assert!(
        closed,
        "the connection of a revoked certificate stayed open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_signed_by_the_ca_key_but_not_in_the_registry_is_refused() {
    let hub = Hub::start().await;
    // Mint a certificate with the hub's own CA key, then put the registry back as it was:
    // a certificate signed outside `pki issue`.
    let registry = std::fs::read(hub.pki.registry_path()).expect("registry");
    let rogue = hub.issue("prishtine", "9");
    std::fs::write(hub.pki.registry_path(), &registry).expect("restore registry");
    assert!(
        !hub.pki
            .list()
            .expect("list")
            .iter()
            .any(|e| e.serial == rogue.entry.serial),
        "the rogue certificate is not in `pki list`"
    );
    let err = try_heartbeat(&hub, Some((&rogue.cert_pem, &rogue.key_pem)))
        .await
        .expect_err("a certificate absent from the registry must be refused");
    assert!(
        err.contains("connect") || err.contains("Unauthenticated") || err.contains("Unavailable"),
        "{err}"
    );
    // A certificate issued the normal way still works.
    let good = hub.issue("prishtine", "1");
    try_heartbeat(&hub, Some((&good.cert_pem, &good.key_pem)))
        .await
        .expect("a registered certificate is admitted");
    let (_dir, store) = hub.stop().await;
    assert_eq!(store.head("prishtine", "9").seq, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_client_that_never_sends_the_preface_is_disconnected() {
    let hub = Hub::start().await;
    let issued = hub.issue("prishtine", "1");
    let (mut tls, _) = raw_tls(&hub, Some(&issued)).await;
    let started = Instant::now();
    let closed = read_until_closed(&mut tls, PREFACE_TIMEOUT + Duration::from_secs(20)).await;
    assert!(
        closed,
        "a client silent after the handshake was still connected after {:?}",
        started.elapsed()
    );
}

/// Reads (and drops) whatever the hub sends until it closes the connection; false if it is
/// still open at `limit`.
async fn read_until_closed<S: tokio::io::AsyncRead + Unpin>(s: &mut S, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// A bare TLS connection to the hub with `issued`'s certificate, handshake done.
async fn raw_tls(
    hub: &Hub,
    issued: Option<&Issued>,
) -> (
    tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    Arc<rustls::ClientConfig>,
) {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(hub.pki.ca_pem().as_bytes()).expect("ca"))
        .expect("root");
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    let mut cfg = match issued {
        Some(i) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(i.cert_pem.as_bytes()).expect("cert")],
                PrivateKeyDer::from_pem_slice(i.key_pem.as_bytes()).expect("key"),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let cfg = Arc::new(cfg);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", hub.port))
        .await
        .expect("tcp connect");
    let tls = tokio_rustls::TlsConnector::from(cfg.clone())
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("handshake");
    (tls, cfg)
}

// ---------- the CA key leaves the hub ----------

fn hub_cli(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civreg-hub"))
        .args(args)
        .output()
        .expect("run civreg-hub");
    assert!(
        out.status.success(),
        "civreg-hub {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every private key (PEM) under `dir`, as the SPKI of its public key.
fn private_keys_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                if text.contains("PRIVATE KEY") {
                    let key = rcgen::KeyPair::from_pem(&text).expect("a usable key");
                    found.push((p, rcgen::PublicKeyData::subject_public_key_info(&key)));
                }
            }
        }
    }
    found
}

fn spki_of(cert_pem: &str) -> Vec<u8> {
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert");
    let (_, c) = x509_parser::parse_x509_certificate(&der).expect("parses");
    c.public_key().raw.to_vec()
}

#[test]
fn pki_init_leaves_no_root_key_in_the_data_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("hub");
    let out = hub_cli(&["--data-dir", data.to_str().expect("utf-8"), "pki", "init"]);
    let root_dir = tmp.path().join("hub-root-ca");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(root_dir.to_str().expect("utf-8")),
        "pki init says where the root is"
    );
    let pki = Pki::open(&paths::pki_dir(&data)).expect("opens");
    let root_spki = spki_of(&pki.ca_pem());
    for (path, spki) in private_keys_under(&data) {
        assert_ne!(spki, root_spki, "{} is the root CA key", path.display());
    }
    assert!(pki.legacy_ca_key().is_none());
    let root_keys = private_keys_under(&root_dir);
    assert_eq!(root_keys.len(), 1);
    assert_eq!(
        root_keys[0].1, root_spki,
        "the root key is in the root directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_ceremony_renews_the_issuing_ca_from_the_offline_root() {
    let data = tempfile::tempdir().expect("tempdir");
    let offline = tempfile::tempdir().expect("tempdir");
    let root_dir = offline.path().join("root");
    let d = data.path().to_str().expect("utf-8");
    hub_cli(&[
        "--data-dir",
        d,
        "pki",
        "init",
        "--root-dir",
        root_dir.to_str().expect("utf-8"),
    ]);
    let pki = Pki::open(&paths::pki_dir(data.path())).expect("opens");
    // A node enrolled before the ceremony.
    let before = pki.issue_node("prishtine", "1", 30).expect("issue");
    // The ceremony: the issuing certificate goes to the offline root and comes back renewed.
    let renewed = offline.path().join("issuing-renewed.pem");
    let issuing = pki.issuing_cert_path();
    hub_cli(&[
        "pki",
        "root",
        "sign-issuer",
        "--dir",
        root_dir.to_str().expect("utf-8"),
        "--cert",
        issuing.to_str().expect("utf-8"),
        "--out",
        renewed.to_str().expect("utf-8"),
    ]);
    let old = std::fs::read_to_string(&issuing).expect("issuing");
    hub_cli(&[
        "--data-dir",
        d,
        "pki",
        "install-issuer",
        renewed.to_str().expect("utf-8"),
    ]);
    assert_ne!(std::fs::read_to_string(&issuing).expect("issuing"), old);
    // A certificate not signed by the root is not installed.
    let foreign = tempfile::tempdir().expect("tempdir");
    let other = Pki::init(foreign.path(), &[]).expect("other pki");
    assert!(pki
        .install_issuing(&std::fs::read_to_string(other.issuing_cert_path()).expect("pem"))
        .is_err());

    // The hub serves with the renewed issuing CA: the node enrolled before and one enrolled
    // after both sync, and they verify the hub against the root.
    let after = pki.issue_node("prishtine", "2", 30).expect("issue");
    let hub = Hub::start_in(data).await;
    for i in [&before, &after] {
        try_heartbeat(&hub, Some((&i.cert_pem, &i.key_pem)))
            .await
            .expect("admitted after the ceremony");
    }
}

#[test]
fn a_root_made_offline_first_certifies_the_hub() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let offline = tmp.path().join("offline");
    hub_cli(&[
        "pki",
        "root",
        "init",
        "--dir",
        offline.to_str().expect("utf-8"),
    ]);
    let root_pem = std::fs::read_to_string(offline.join("root.pem")).expect("root.pem");
    let data = tmp.path().join("hub");
    hub_cli(&[
        "--data-dir",
        data.to_str().expect("utf-8"),
        "pki",
        "init",
        "--root-dir",
        offline.to_str().expect("utf-8"),
    ]);
    let pki = Pki::open(&paths::pki_dir(&data)).expect("opens");
    assert_eq!(pki.ca_pem(), root_pem, "offices trust the offline root");
    for (path, spki) in private_keys_under(&data) {
        assert_ne!(
            spki,
            spki_of(&root_pem),
            "{} is the root CA key",
            path.display()
        );
    }
}

#[test]
fn a_hub_of_the_first_layout_keeps_working_and_its_key_can_be_taken_offline() {
    // The first layout: the agency CA signs node certificates itself, its key in pki/ca.key.
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("hub");
    let dir = paths::pki_dir(&data);
    let pki = Pki::init(&dir, &[]).expect("init");
    let issuing_pem = std::fs::read_to_string(pki.issuing_cert_path()).expect("issuing");
    std::fs::write(dir.join("ca.pem"), &issuing_pem).expect("ca.pem");
    std::fs::rename(dir.join("issuing.key"), dir.join("ca.key")).expect("ca.key");
    std::fs::remove_file(pki.issuing_cert_path()).expect("rm issuing.pem");
    let pki = Pki::open(&dir).expect("a first-layout PKI opens");
    assert_eq!(pki.legacy_ca_key(), Some(dir.join("ca.key")));
    pki.issue_node("prishtine", "1", 30)
        .expect("it still issues");
    pki.server_config().expect("it still serves");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civreg-hub"))
        .args(["--data-dir", data.to_str().expect("utf-8"), "pki", "list"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pki root take-offline"),
        "a warning names the command"
    );
    let offline = tmp.path().join("offline");
    hub_cli(&[
        "--data-dir",
        data.to_str().expect("utf-8"),
        "pki",
        "root",
        "take-offline",
        "--dir",
        offline.to_str().expect("utf-8"),
    ]);
    assert!(!dir.join("ca.key").exists());
    assert!(offline.join("root.key").is_file());
    let pki = Pki::open(&dir).expect("opens");
    assert!(pki.legacy_ca_key().is_none());
    pki.server_config().expect("it still serves");
    let err = pki
        .issue_node("prishtine", "2", 30)
        .expect_err("no key to issue with");
    assert!(err.to_string().contains("Key ceremony"), "{err}");
}
