//! Certificate lifecycle (issue 17 part B): a node renews its client certificate over mTLS by
//! itself when it is within 30 days of expiry, while it keeps syncing; an operator can require
//! a renewal; the hub issues only for the caller's own identity; the hub's renewed server
//! certificate is presented to new connections without a restart.

use civreg_testkit::prelude as common;

use civreg_hub::pki::PeerIdentity;
use civreg_proto::v1::RenewRequest;
use common::*;
use rcgen::{CertificateParams, KeyPair, SanType, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tonic::Code;

const LIMIT: Duration = Duration::from_secs(60);

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data_dir: &Path) -> Serve {
    let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
    Serve(
        Command::new(node_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--interval-secs", "1"])
            .env("CIVREG_CLERK", CLERK)
            .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn civreg-node serve"),
    )
}

fn birth(given: &str) -> String {
    json!({
        "register": { "book": "L-12", "year": 1968, "page": 40, "entry": 3 },
        "child": {
            "given_name": given, "surname": "Gashi", "sex": "male",
            "date_of_birth": "1968-03-14",
            "personal_numbers": { "jmbg": "1403968950011" }
        },
        "place_of_birth": "Prizren",
        "mother": { "given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha",
                    "date_of_birth": "1945-07-02" },
        "father": { "given_name": "Hysen", "surname": "Gashi", "father_given_name": "Rexhep",
                    "date_of_birth": "1940-11-20" }
    })
    .to_string()
}

async fn register(data_dir: &Path, given: &str) {
    let file = data_dir.with_extension(format!("{given}.json"));
    std::fs::write(&file, birth(given)).expect("write birth");
    let args = [
        "--json",
        "register",
        "birth",
        "--file",
        file.to_str().expect("utf-8"),
    ];
    let out = node(data_dir, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
}

fn serial_of_pem(pem: &[u8]) -> String {
    let der = CertificateDer::from_pem_slice(pem).expect("a certificate");
    civreg_hub::pki::admission::serial_of(&der).expect("a serial")
}

fn csr(uri: &str, key: &KeyPair) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![SanType::URI(uri.try_into().expect("IA5"))];
    params
        .serialize_request(key)
        .expect("request")
        .der()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_near_expiry_renews_by_itself_while_it_keeps_syncing() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().expect("tempdir");
    let data = nodes.path().join("istog-1");
    let bundle = nodes.path().join("bundle");
    // A certificate issued 335 days ago for a year: 30 days are left, renewal is due.
    let now = OffsetDateTime::now_utc();
    let old = hub
        .pki
        .issue_node_with_validity(
            "istog",
            "1",
            now - time::Duration::days(335),
            now + time::Duration::days(29),
        )
        .expect("issue");
    old.write_bundle(&bundle, &hub.pki.ca_pem(), &hub.url)
        .expect("bundle");
    enrol_node(&data, &bundle).await;
    register(&data, "Arben").await;
    let tls = data.join("tls");
    assert_eq!(
        serial_of_pem(&std::fs::read(tls.join("cert.pem")).expect("cert")),
        old.entry.serial
    );

    let _serve = serve(&data);
    // The node renews on its own: the hub records a second certificate for istog/1, and the
    // node's certificate file holds it.
    let renewed = wait_for("the node's renewed certificate", LIMIT, || {
        let list = hub.pki.list().ok()?;
        let new = list
            .iter()
            .find(|e| e.identity == "civreg://node/istog/1" && e.serial != old.entry.serial)?;
        let on_node = serial_of_pem(&std::fs::read(tls.join("cert.pem")).ok()?);
        (on_node == new.serial).then(|| new.clone())
    })
    .await;
    assert!(
        renewed.not_after > now + time::Duration::days(360),
        "{renewed:?}"
    );
    let key = std::fs::read_to_string(tls.join("key.pem")).expect("key");
    assert_ne!(key, old.key_pem, "a new key was made on the node");
    // Syncing goes on, on the new certificate: a birth registered now reaches the hub.
    register(&data, "Besnik").await;
    let deadline = Instant::now() + LIMIT;
    loop {
        let v = node_json(&data, &["--json", "status"]).await;
        if v["status"]["hub_acked"] == json!(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second birth never reached the hub: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Connections now use the new certificate: revoking the old one stops nothing.
    hub.pki
        .revoke(&old.entry.serial)
        .expect("revoke the old certificate");
    register(&data, "Driton").await;
    let deadline = Instant::now() + LIMIT;
    loop {
        let v = node_json(&data, &["--json", "status"]).await;
        if v["status"]["hub_acked"] == json!(3) {
            assert_eq!(v["status"]["last_error"], json!(null), "{v}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the third birth never reached the hub: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Only one renewal: the new certificate is a year away from expiry.
    let count = hub
        .pki
        .list()
        .expect("list")
        .iter()
        .filter(|e| e.identity == "civreg://node/istog/1")
        .count();
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renewal_is_required_by_an_operator_and_given_only_to_the_caller() {
    let hub = Hub::start().await;
    let me = hub.issue("istog", "1");
    let mut client = hub.client(&me).await;
    let reply = heartbeat(&mut client).await.expect("heartbeat");
    assert!(!reply.renew_required);
    let info = hub.pki.hub_cert_info().expect("hub cert");
    assert_eq!(reply.hub_cert_sha256, info.sha256);
    assert_eq!(reply.hub_cert_not_after_ms, info.not_after_ms);

    hub.pki.require_renewal(Some("istog/1")).expect("require");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !heartbeat(&mut client)
        .await
        .expect("heartbeat")
        .renew_required
    {
        assert!(Instant::now() < deadline, "the heartbeat never said renew");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A request for another node's name is refused, as is garbage.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let other = PeerIdentity::node("istog", "2").expect("id").uri();
    let e = client
        .renew(RenewRequest {
            csr_der: csr(&other, &key),
        })
        .await
        .expect_err("another node's name");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = client
        .renew(RenewRequest {
            csr_der: b"\x30\x03junk".to_vec(),
        })
        .await
        .expect_err("garbage");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(
        hub.pki
            .list()
            .expect("list")
            .iter()
            .filter(|e| e.identity.contains("istog"))
            .count(),
        1,
        "nothing was issued"
    );

    // Its own request is granted, and the new certificate opens connections of its own, with no
    // renewal required.
    let mine = PeerIdentity::node("istog", "1").expect("id").uri();
    let r = client
        .renew(RenewRequest {
            csr_der: csr(&mine, &key),
        })
        .await
        .expect("renewed")
        .into_inner();
    let mut fresh = hub
        .try_client(Some((&r.cert_pem, &key.serialize_pem())))
        .await
        .expect("connect with the new certificate");
    assert!(
        !heartbeat(&mut fresh)
            .await
            .expect("heartbeat")
            .renew_required
    );
    assert_eq!(r.ca_pem, hub.pki.ca_pem());

    // A suspended municipality's office gets no new certificate.
    civreg_hub::control::ask::set_stage(
        hub.data_dir(),
        "istog",
        civreg_hub::rollout::Stage::Suspended,
        None,
        "vjosa",
        "audit",
    )
    .expect("suspend");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match fresh
            .renew(RenewRequest {
                csr_der: csr(&mine, &key),
            })
            .await
        {
            Err(e) if e.code() == Code::FailedPrecondition => break,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "a suspended office renewed: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_running_hub_presents_its_renewed_certificate_to_new_connections() {
    let hub = Hub::start().await;
    let me = hub.issue("istog", "1");
    let before = hub.pki.hub_cert_info().expect("hub cert");
    assert_eq!(presented_sha256(&hub, &me).await, before.sha256);
    let entry = hub.pki.renew_hub(&[]).expect("renew hub");
    assert_eq!(
        entry.identity, "hub:localhost,127.0.0.1",
        "the names are kept"
    );
    let after = hub.pki.hub_cert_info().expect("hub cert");
    assert_ne!(after.sha256, before.sha256);
    assert_eq!(presented_sha256(&hub, &me).await, after.sha256);
    // Nodes hear of it with their heartbeat, and keep syncing.
    let mut client = hub.client(&me).await;
    let reply = heartbeat(&mut client).await.expect("heartbeat");
    assert_eq!(reply.hub_cert_sha256, after.sha256);
}

/// SHA-256 of the certificate the hub presents to a new connection.
async fn presented_sha256(hub: &Hub, me: &civreg_hub::pki::Issued) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(hub.pki.ca_pem().as_bytes()).expect("ca"))
        .expect("root");
    let certs = vec![CertificateDer::from_pem_slice(me.cert_pem.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(me.key_pem.as_bytes()).expect("key");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_client_auth_cert(certs, key)
    .expect("client config");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", hub.port))
        .await
        .expect("connect");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("handshake");
    let leaf = tls.get_ref().1.peer_certificates().expect("certs")[0].clone();
    hex::encode(ring::digest::digest(&ring::digest::SHA256, leaf.as_ref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_started_alone_is_enrolled_later_and_pushes_its_whole_log() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().expect("tempdir");
    let data = nodes.path().join("istog-1");
    node_json(
        &data,
        &[
            "--json",
            "init",
            "--municipality",
            "istog",
            "--node-id",
            "1",
        ],
    )
    .await;
    node_json(&data, &["--json", "clerk", "add", CLERK]).await;
    register(&data, "Arben").await;
    register(&data, "Besnik").await;
    // `init --bundle` refuses the existing database and names `enrol`.
    let bundle = hub.bundle("istog", "1");
    let b = bundle.to_str().expect("utf-8");
    let out = node(&data, &["init", "--bundle", b]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("civreg-node enrol --bundle"),
        "{}",
        describe(&["init", "--bundle", b], &out)
    );
    // Another node's bundle is refused, and nothing is installed.
    let other = hub.bundle("istog", "2");
    let o = other.to_str().expect("utf-8");
    let out = node(&data, &["enrol", "--bundle", o]).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&["enrol"], &out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("istog/1"),
        "{}",
        describe(&["enrol", "--bundle", o], &out)
    );
    assert!(!data.join("tls").join("cert.pem").exists());

    let v = node_json(&data, &["--json", "enrol", "--bundle", b]).await;
    assert_eq!(v["enrolled"]["first"], json!(true), "{v}");
    let out = node(&data, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["report"]["hub_acked"], json!(2), "{v}");

    // A new bundle for the same node (a certificate carried by hand) is applied in place.
    let again = nodes.path().join("again");
    let issued = hub.issue("istog", "1");
    issued
        .write_bundle(&again, &hub.pki.ca_pem(), &hub.url)
        .expect("bundle");
    let v = node_json(
        &data,
        &[
            "--json",
            "enrol",
            "--bundle",
            again.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(v["enrolled"]["first"], json!(false), "{v}");
    assert_eq!(
        serial_of_pem(&std::fs::read(data.join("tls").join("cert.pem")).expect("cert")),
        issued.entry.serial
    );
    let out = node(&data, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
}
