//! Sync through a real hub: the `civreg-node` binary end to end, the mutual-TLS gate, what a
//! certificate authorises, hostile clients, and the scope of pull.
//!
//! Every test starts its own hub in-process on an ephemeral port (`common::Hub`). The first one
//! drives nodes through the `civreg-node` binary (see `common::node_bin` for how it is found).

use civreg_testkit::prelude as common;

use civreg_hub::pki::Pki;
use civreg_hub::sync::tls::HANDSHAKE_TIMEOUT;
use civreg_proto::v1::PushRequest;
use civreg_proto::MAX_BATCH_OPS;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChainVerifier, ChangeKind, Hash, Op, GENESIS};
use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::Code;

/// A birth record document for the node CLI (the municipality defaults to the node's own).
fn birth_doc(given: &str, jmbg: &str) -> serde_json::Value {
    json!({
        "register": { "book": "L-12", "year": 1968, "page": 40, "entry": 3 },
        "child": {
            "given_name": given,
            "surname": "Gashi",
            "sex": "male",
            "date_of_birth": "1968-03-14",
            "personal_numbers": { "jmbg": jmbg }
        },
        "place_of_birth": "Prizren",
        "mother": {
            "given_name": "Drita",
            "surname": "Gashi",
            "maiden_surname": "Berisha",
            "date_of_birth": "1945-07-02"
        },
        "father": {
            "given_name": "Hysen",
            "surname": "Gashi",
            "father_given_name": "Rexhep",
            "date_of_birth": "1940-11-20"
        }
    })
}

fn ok_code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// Runs `sync --once --json` on a node, asserts exit 0 and returns the report.
async fn sync_once(data_dir: &std::path::Path) -> serde_json::Value {
    let args = ["--json", "sync", "--once"];
    let out = node(data_dir, &args).await;
    assert_eq!(ok_code(&out), Some(0), "{}", describe(&args, &out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&args, &out)));
    assert_eq!(v["ok"], json!(true), "{v}");
    v["report"].clone()
}

// ---------------------------------------------------------------------------------------------
// 1. End to end through the binary
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_sync_end_to_end_through_the_binary() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().expect("tempdir");
    let p1 = nodes.path().join("prishtine-1");
    let p2 = nodes.path().join("prishtine-2");
    let ist = nodes.path().join("istog-1");
    enrol_node(&p1, &hub.bundle("prishtine", "1")).await;
    enrol_node(&p2, &hub.bundle("prishtine", "2")).await;
    enrol_node(&ist, &hub.bundle("istog", "1")).await;

    // Node 1 registers three births (three JSON documents in one file) and amends one.
    let births = nodes.path().join("births.json");
    let docs = [
        birth_doc("Arben", "1403968950011"),
        birth_doc("Besnik", "1403968950011"),
        birth_doc("Driton", "1403968950011"),
    ];
    std::fs::write(
        &births,
        docs.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("write births");
    let reg_args = [
        "--json",
        "register",
        "birth",
        "--file",
        births.to_str().expect("utf-8"),
    ];
    let out = node(&p1, &reg_args).await;
    assert_eq!(ok_code(&out), Some(0), "{}", describe(&reg_args, &out));
    let regnos: Vec<String> = json_lines(&out)
        .iter()
        .map(|l| {
            assert_eq!(l["ok"], json!(true), "{l}");
            l["regno"].as_str().expect("regno").to_string()
        })
        .collect();
    assert_eq!(regnos.len(), 3, "{}", describe(&reg_args, &out));
    assert!(
        regnos.iter().all(|r| r.starts_with("PRISHTINE-")),
        "{regnos:?}"
    );

    let amend = nodes.path().join("amend.json");
    std::fs::write(
        &amend,
        json!({ "mother": { "maiden_surname": "Krasniqi" } }).to_string(),
    )
    .expect("write amendment");
    let amend_args = [
        "--json",
        "amend",
        regnos[1].as_str(),
        "--file",
        amend.to_str().expect("utf-8"),
        "--reason",
        "typo in the register",
    ];
    let amended = node_json(&p1, &amend_args).await;
    assert_eq!(amended["ok"], json!(true), "{amended}");

    // Node 1 pushes its four ops.
    let r = sync_once(&p1).await;
    assert_eq!(r["pushed"], json!(4), "{r}");
    assert_eq!(r["hub_acked"], json!(4), "{r}");

    // Node 2 of the same office pulls them.
    let r = sync_once(&p2).await;
    assert_eq!(r["pushed"], json!(0), "{r}");
    assert_eq!(r["pulled"], json!(4), "{r}");
    let shown = node_json(&p2, &["--json", "show", regnos[1].as_str()]).await;
    assert_eq!(
        shown["record"]["mother"]["maiden_surname"],
        json!("Krasniqi"),
        "{shown}"
    );
    assert_eq!(shown["record"]["child"]["given_name"], json!("Besnik"));
    assert_eq!(shown["versions"], json!(2), "{shown}");
    let first = node_json(&p2, &["--json", "show", regnos[0].as_str()]).await;
    assert_eq!(first["record"]["child"]["given_name"], json!("Arben"));
    assert_eq!(
        first["record"]["mother"]["maiden_surname"],
        json!("Berisha")
    );
    let verified = node_json(&p2, &["--json", "verify"]).await;
    assert_eq!(verified["ok"], json!(true), "{verified}");
    // Node 2's search goes to the hub, whose index follows the feed within a second or so.
    wait_for(
        "node 2 to find the three records",
        Duration::from_secs(20),
        || {
            let out = node_run(&p2, &["--json", "search", "Gashi"]);
            let found: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            (found["hits"].as_array().map(Vec::len) == Some(3)).then_some(())
        },
    )
    .await;

    // The istog node pulls nothing of prishtine.
    let r = sync_once(&ist).await;
    assert_eq!(r["pulled"], json!(0), "{r}");
    assert_eq!(r["pushed"], json!(0), "{r}");
    let held = node_json(&ist, &["--json", "digest"]).await;
    assert_eq!(
        held["records"],
        json!(0),
        "istog holds prishtine's records: {held}"
    );
    let show_args = ["--json", "show", regnos[0].as_str()];
    let out = node(&ist, &show_args).await;
    assert_ne!(ok_code(&out), Some(0), "{}", describe(&show_args, &out));

    // Syncing again is harmless.
    let r = sync_once(&p1).await;
    assert_eq!(r["pushed"], json!(0), "{r}");
    assert_eq!(r["hub_acked"], json!(4), "{r}");
    let r = sync_once(&p2).await;
    assert_eq!(r["pulled"], json!(0), "{r}");
    let verified = node_json(&p2, &["--json", "verify"]).await;
    assert_eq!(verified["ok"], json!(true), "{verified}");

    // Node 1's own log, to compare with what the hub holds.
    let export = node(&p1, &["export"]).await;
    assert_eq!(
        ok_code(&export),
        Some(0),
        "{}",
        describe(&["export"], &export)
    );
    let local_ops: Vec<Op> = json_lines(&export)
        .into_iter()
        .filter(|l| l["type"] == json!("op"))
        .map(|mut l| {
            l.as_object_mut().expect("object").remove("type");
            serde_json::from_value(l).expect("an op")
        })
        .collect();
    assert_eq!(local_ops.len(), 4);

    let (_dir, store) = hub.stop().await;
    let held = store.chain_ops("prishtine", "1").expect("chain ops");
    let seqs: Vec<u64> = held.iter().map(|o| o.id.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    let mut v = ChainVerifier::default();
    for o in &held {
        v.push(o).expect("the hub's copy of the chain verifies");
    }
    assert_eq!(held, local_ops, "the hub holds exactly node 1's log");
    assert_eq!(held[3].change, ChangeKind::Amend);
    assert_eq!(held[3].record_id, regnos[1]);
    let heads = store.heads();
    assert_eq!(heads.len(), 1, "only prishtine/1 wrote ops: {heads:?}");
    assert_eq!(heads[0].0, "prishtine/1");
    assert_eq!(heads[0].1.seq, 4);
    assert!(store.chain_ops("prishtine", "2").expect("ops").is_empty());
    assert!(store.chain_ops("istog", "1").expect("ops").is_empty());
    let rec = store.record(&regnos[1]).expect("read").expect("held");
    assert_eq!(
        rec.fields.get("mother.maiden_surname"),
        Some(&json!("Krasniqi"))
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The mutual-TLS gate
// ---------------------------------------------------------------------------------------------

/// Connects with `identity` and pushes `ops`: the acknowledged head, or why it failed.
async fn try_push(hub: &Hub, identity: Option<(&str, &str)>, ops: Vec<Op>) -> Result<u64, String> {
    let mut c = hub
        .try_client(identity)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let o = push(&mut c, vec![ops]).await;
    match o.error {
        None => Ok(o.accepted()),
        Some(s) => Err(format!("call: {:?}: {}", s.code(), error_chain(&s))),
    }
}

/// The failure came from the transport, not from a gRPC handler: a handler would have answered
/// with a status of its own (`Unauthenticated`, `PermissionDenied`, ...). Which TLS alert the
/// client sees is a race (the hub closes right after sending it, so the client may see a reset
/// or a closed connection first), so only the kind of failure is asserted here; that nothing
/// was stored is checked through the heads afterwards.
fn assert_refused_by_tls(err: &str) {
    let failed_call = ["call: Unknown:", "call: Unavailable:", "call: Cancelled:"]
        .iter()
        .any(|p| err.starts_with(p))
        && err.contains("transport error");
    assert!(
        err.starts_with("connect: ") || failed_call,
        "expected a transport failure (refused at the TLS handshake), got: {err}"
    );
    assert!(
        !err.contains("no client certificate") && !err.contains("permission denied"),
        "a gRPC handler ran and refused; the TLS layer should have: {err}"
    );
}

fn pair(i: &civreg_hub::pki::Issued) -> Option<(&str, &str)> {
    Some((i.cert_pem.as_str(), i.key_pem.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mtls_refuses_bad_certificates_at_the_handshake() {
    let hub = Hub::start().await;
    let good = hub.issue("prishtine", "1");
    assert_eq!(try_heartbeat(&hub, pair(&good)).await, Ok(0));

    // No client certificate.
    let err = try_push(&hub, None, chain("prishtine", "1", 1))
        .await
        .expect_err("no client certificate must be refused");
    assert_refused_by_tls(&err);

    // A certificate from another CA, naming a real identity.
    let other = tempfile::tempdir().expect("tempdir");
    let foreign_pki = Pki::init(&other.path().join("pki"), &[]).expect("second pki");
    let foreign = foreign_pki
        .issue_node("prishtine", "1", 30)
        .expect("foreign cert");
    let err = try_push(&hub, pair(&foreign), chain("prishtine", "1", 1))
        .await
        .expect_err("a foreign CA's certificate must be refused");
    // (Both CAs are called "civreg agency CA": the hub's verifier takes its own CA for the issuer
    // and the signature check fails, so the alert, when the client sees it, is DecryptError.)
    assert_refused_by_tls(&err);

    // An expired certificate of the agency's own CA.
    let now = time::OffsetDateTime::now_utc();
    let expired = hub
        .pki
        .issue_node_with_validity(
            "prishtine",
            "3",
            now - time::Duration::days(10),
            now - time::Duration::days(1),
        )
        .expect("expired cert");
    let err = try_push(&hub, pair(&expired), chain("prishtine", "3", 1))
        .await
        .expect_err("an expired certificate must be refused");
    assert_refused_by_tls(&err);

    // A certificate revoked while the hub runs: it works, then a new connection is refused.
    let p2 = hub.issue("prishtine", "2");
    let p2_chain = chain("prishtine", "2", 2);
    assert_eq!(
        try_push(&hub, pair(&p2), vec![p2_chain[0].clone()]).await,
        Ok(1)
    );
    let revoked = hub.pki.revoke("prishtine/2").expect("revoke");
    assert_eq!(revoked.len(), 1);
    let err = try_push(&hub, pair(&p2), vec![p2_chain[1].clone()])
        .await
        .expect_err("a revoked certificate must be refused without a restart");
    assert_refused_by_tls(&err);

    // No refused connection reached the store: the refused pushes left every head where it was.
    let mut c1 = hub.client(&good).await;
    assert_eq!(acked(&mut c1).await, 0, "foreign/no-cert push stored ops");
    let p3 = hub.issue("prishtine", "3");
    assert_eq!(
        try_heartbeat(&hub, pair(&p3)).await,
        Ok(0),
        "expired cert stored ops"
    );
    let p2_new = hub.issue("prishtine", "2");
    assert_eq!(
        try_heartbeat(&hub, pair(&p2_new)).await,
        Ok(1),
        "revoked cert stored ops"
    );

    // The hub kept serving: a good node still pushes.
    assert_eq!(
        try_push(&hub, pair(&good), chain("prishtine", "1", 1)).await,
        Ok(1)
    );
    drop(c1);
    hub.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Authorisation from the certificate
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_certificate_decides_what_a_node_may_write() {
    let hub = Hub::start().await;
    let mut p1 = hub.client(&hub.issue("prishtine", "1")).await;
    let mut p2 = hub.client(&hub.issue("prishtine", "2")).await;
    let mut ist = hub.client(&hub.issue("istog", "1")).await;

    // Prishtine/1 creates a birth and a death record of its own.
    let birth = regno("prishtine", "1", RecordKind::Birth, 1);
    let death = regno("prishtine", "1", RecordKind::Death, 1);
    assert_eq!(birth, "PRISHTINE-2026-B-000001");
    let c1 = create_birth("prishtine", "1", 1, GENESIS);
    let c2 = op(
        "prishtine",
        "1",
        2,
        c1.hash,
        &death,
        RecordKind::Death,
        ChangeKind::Create,
        &[
            ("date_of_death", json!("2025-01-01")),
            ("deceased.given_name", json!("Fatime")),
            ("deceased.surname", json!("Gashi")),
            ("municipality", json!("prishtine")),
            ("place_of_death", json!("Prishtinë")),
        ],
    );
    assert_eq!(push(&mut p1, vec![vec![c1, c2]]).await.accepted(), 2);

    // Istog may not create a record of prishtine, even in its own, correctly sealed chain.
    let foreign_create = op(
        "istog",
        "1",
        1,
        GENESIS,
        "PRISHTINE-2026-B-000002",
        RecordKind::Birth,
        ChangeKind::Create,
        &[("child.given_name", json!("Ilir"))],
    );
    assert!(foreign_create.check().is_ok());
    let o = push(&mut ist, vec![vec![foreign_create]]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    assert_eq!(acked(&mut ist).await, 0, "a refused op was stored");
    // ...nor amend one.
    let foreign_amend = op(
        "istog",
        "1",
        1,
        GENESIS,
        &birth,
        RecordKind::Birth,
        ChangeKind::Amend,
        &[("child.given_name", json!("Ilir"))],
    );
    let o = push(&mut ist, vec![vec![foreign_amend]]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    assert_eq!(acked(&mut ist).await, 0);

    // Prishtine/1 may not push prishtine/2's chain: the op's id names another node.
    let o = push(&mut p1, vec![chain("prishtine", "2", 1)]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    assert_eq!(acked(&mut p1).await, 2);
    assert_eq!(
        acked(&mut p2).await,
        0,
        "prishtine/2's chain was written by another node"
    );
    // ...and prishtine/2 may not create under a number only node 1 mints.
    let stolen = op(
        "prishtine",
        "2",
        1,
        GENESIS,
        "PRISHTINE-2026-B-000007",
        RecordKind::Birth,
        ChangeKind::Create,
        &[("child.given_name", json!("Ilir"))],
    );
    let o = push(&mut p2, vec![vec![stolen]]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    assert_eq!(acked(&mut p2).await, 0);

    // Istog may annotate a prishtine birth record...
    let note = op(
        "istog",
        "1",
        1,
        GENESIS,
        &birth,
        RecordKind::Birth,
        ChangeKind::Annotate,
        &[
            ("annotation.istog.k.date", json!(null)),
            ("annotation.istog.k.event", json!("marriage")),
            ("annotation.istog.k.place", json!("Istog")),
            ("annotation.istog.k.record", json!(null)),
            ("annotation.istog.k.text", json!("Married in Istog, 1990.")),
        ],
    );
    let note_hash = note.hash;
    assert_eq!(push(&mut ist, vec![vec![note]]).await.accepted(), 1);
    assert_eq!(acked(&mut ist).await, 1);
    // ...but not a prishtine death record.
    let death_note = op(
        "istog",
        "1",
        2,
        note_hash,
        &death,
        RecordKind::Death,
        ChangeKind::Annotate,
        &[
            ("annotation.istog.k.date", json!(null)),
            ("annotation.istog.k.event", json!("other")),
            ("annotation.istog.k.place", json!(null)),
            ("annotation.istog.k.record", json!(null)),
            ("annotation.istog.k.text", json!("Seen in Istog.")),
        ],
    );
    let o = push(&mut ist, vec![vec![death_note]]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    assert_eq!(acked(&mut ist).await, 1);

    // An operator certificate is not a node: it may neither push nor pull.
    let operator = hub.pki.issue_operator("ana", 30).expect("operator cert");
    let mut opc = hub.client(&operator).await;
    let o = push(&mut opc, vec![chain("prishtine", "1", 1)]).await;
    assert_eq!(o.refused().code(), Code::PermissionDenied, "{o:?}");
    let e = pull(&mut opc, 0, 100).await.expect_err("operator pull");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");

    drop((p1, p2, ist, opc));
    let (_dir, store) = hub.stop().await;
    let ist_ops = store.chain_ops("istog", "1").expect("ops");
    assert_eq!(ist_ops.len(), 1);
    assert_eq!(ist_ops[0].change, ChangeKind::Annotate);
    assert!(store.chain_ops("prishtine", "2").expect("ops").is_empty());
    let rec = store.record(&birth).expect("read").expect("held");
    assert_eq!(
        rec.annotations()[0].text.as_deref(),
        Some("Married in Istog, 1990.")
    );
    assert_eq!(
        rec.fields.get("child.given_name"),
        Some(&json!(child_name(1))),
        "a refused amendment changed the record"
    );
    assert!(store
        .record("PRISHTINE-2026-B-000002")
        .expect("read")
        .is_none());
    assert!(store
        .record("PRISHTINE-2026-B-000007")
        .expect("read")
        .is_none());
}

// ---------------------------------------------------------------------------------------------
// 4. Hostile clients
// ---------------------------------------------------------------------------------------------

async fn poll_write_all<S: AsyncWrite + Unpin>(s: &mut S, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *s).poll_write(cx, buf)).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *s).poll_flush(cx)).await
}

/// Reads until the peer closes (EOF or an error); returns the bytes read before that.
async fn read_until_closed<S: AsyncRead + Unpin>(s: &mut S) -> usize {
    let mut total = 0;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut rb = ReadBuf::new(&mut buf);
        match poll_fn(|cx| Pin::new(&mut *s).poll_read(cx, &mut rb)).await {
            Ok(()) if rb.filled().is_empty() => return total,
            Ok(()) => total += rb.filled().len(),
            Err(_) => return total,
        }
    }
}

fn tls_client_config(ca_pem: &str, cert_pem: &str, key_pem: &str) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("ca pem"))
        .expect("ca as root");
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("cert pem");
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key pem");
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client auth cert");
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_clients_are_refused_and_the_hub_keeps_serving() {
    let hub = Hub::start().await;

    // Connections that never start the TLS handshake do not hold the hub up (everything below
    // is served while they are open), and the hub drops them after its handshake timeout.
    let mut idle = Vec::new();
    for _ in 0..16 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", hub.port))
                .await
                .expect("tcp connect"),
        );
    }
    let idle_closed = tokio::spawn(async move {
        for mut s in idle {
            tokio::time::timeout(
                HANDSHAKE_TIMEOUT + Duration::from_secs(10),
                read_until_closed(&mut s),
            )
            .await
            .expect("the hub drops a connection that never completes the handshake");
        }
    });

    // A forged chain: op #2 does not follow op #1.
    let mut p1 = hub.client(&hub.issue("prishtine", "1")).await;
    let good = chain("prishtine", "1", 3);
    assert_eq!(
        push(&mut p1, vec![vec![good[0].clone()]]).await.accepted(),
        1
    );
    let forged = create_birth("prishtine", "1", 2, Hash([7; 32]));
    assert!(forged.check().is_ok(), "the forged op is well sealed");
    let o = push(&mut p1, vec![vec![forged]]).await;
    assert_eq!(o.held, 1);
    let st = o.refused();
    assert_eq!(st.code(), Code::FailedPrecondition, "{st:?}");
    assert!(st.message().contains("#2"), "{st:?}");
    assert_eq!(acked(&mut p1).await, 1, "the hub must keep op #1 only");
    // A good op followed by a forged one in the same batch: nothing of the batch is stored.
    let forged3 = create_birth("prishtine", "1", 3, Hash([9; 32]));
    let o = push(&mut p1, vec![vec![good[1].clone(), forged3]]).await;
    assert_eq!(o.refused().code(), Code::FailedPrecondition, "{o:?}");
    assert_eq!(acked(&mut p1).await, 1, "a refused batch was partly stored");
    // Op #1 again with other content: a fork.
    let other1 = op(
        "prishtine",
        "1",
        1,
        GENESIS,
        &regno("prishtine", "1", RecordKind::Birth, 1),
        RecordKind::Birth,
        ChangeKind::Create,
        &[("child.given_name", json!("Someone else"))],
    );
    let o = push(&mut p1, vec![vec![other1]]).await;
    let st = o.refused();
    assert_eq!(st.code(), Code::FailedPrecondition, "{st:?}");
    assert!(st.message().contains("fork"), "{st:?}");
    assert_eq!(acked(&mut p1).await, 1);

    // A gap: #1, then #3.
    let mut p2 = hub.client(&hub.issue("prishtine", "2")).await;
    let c2 = chain("prishtine", "2", 3);
    assert_eq!(push(&mut p2, vec![vec![c2[0].clone()]]).await.accepted(), 1);
    let o = push(&mut p2, vec![vec![c2[2].clone()]]).await;
    let st = o.refused();
    assert_eq!(st.code(), Code::FailedPrecondition, "{st:?}");
    assert!(
        st.message().contains("holds up to #1") && st.message().contains("#3"),
        "the refusal names the held and the sent seq: {st:?}"
    );
    assert_eq!(acked(&mut p2).await, 1);

    // A wrong hash: the op's content was changed after sealing, or the hash is random.
    let mut p3 = hub.client(&hub.issue("prishtine", "3")).await;
    let mut tampered = create_birth("prishtine", "3", 1, GENESIS);
    tampered.changes[0].value = json!("Tampered");
    assert!(tampered.check().is_err());
    let o = push(&mut p3, vec![vec![tampered]]).await;
    let st = o.refused();
    assert_eq!(st.code(), Code::InvalidArgument, "{st:?}");
    assert!(st.message().contains("hash"), "{st:?}");
    let mut random_hash = create_birth("prishtine", "3", 1, GENESIS);
    random_hash.hash = Hash(
        XorShift(0x9e37_79b9_7f4a_7c15).bytes(32)[..]
            .try_into()
            .expect("32 bytes"),
    );
    let o = push(&mut p3, vec![vec![random_hash]]).await;
    assert_eq!(o.refused().code(), Code::InvalidArgument, "{o:?}");
    // A malformed wire op (a 3-byte hash) is refused at the wire boundary.
    let mut wire = civreg_proto::v1::Op::from(&create_birth("prishtine", "3", 1, GENESIS));
    wire.hash = vec![1, 2, 3];
    let o = push_raw(&mut p3, vec![PushRequest { ops: vec![wire] }]).await;
    assert_eq!(o.refused().code(), Code::InvalidArgument, "{o:?}");
    assert_eq!(acked(&mut p3).await, 0);
    // The right op still goes in afterwards.
    assert_eq!(
        push(&mut p3, vec![chain("prishtine", "3", 1)])
            .await
            .accepted(),
        1
    );

    // A replayed batch is acknowledged and stored once.
    let mut p4 = hub.client(&hub.issue("prishtine", "4")).await;
    let c4 = chain("prishtine", "4", 2);
    assert_eq!(push(&mut p4, vec![c4.clone()]).await.accepted(), 2);
    let o = push(&mut p4, vec![c4.clone()]).await;
    assert_eq!(o.held, 2, "{o:?}");
    assert_eq!(o.accepted(), 2);
    let o = push(&mut p4, vec![c4.clone(), c4.clone()]).await;
    assert_eq!(o.acks, vec![2, 2], "{o:?}");
    let (fed, _) = pull_all(&mut p4, 0).await;
    assert_eq!(
        fed.iter()
            .filter(|o| o.id.node_id == "4" && o.id.municipality == "prishtine")
            .count(),
        2,
        "a replayed op reached the feed twice"
    );

    // A batch over the limit is refused whole; one at the limit is accepted.
    let mut p5 = hub.client(&hub.issue("prishtine", "5")).await;
    let big = chain("prishtine", "5", MAX_BATCH_OPS as u64 + 1);
    let o = push(&mut p5, vec![big.clone()]).await;
    let st = o.refused();
    assert_eq!(st.code(), Code::InvalidArgument, "{st:?}");
    assert!(st.message().contains(&MAX_BATCH_OPS.to_string()), "{st:?}");
    assert_eq!(acked(&mut p5).await, 0);
    assert_eq!(
        push(&mut p5, vec![big[..MAX_BATCH_OPS].to_vec()])
            .await
            .accepted(),
        MAX_BATCH_OPS as u64
    );

    // Garbage over a verified TLS connection (ALPN h2): the hub closes the connection.
    let p6 = hub.issue("prishtine", "6");
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_client_config(
        &hub.pki.ca_pem(),
        &p6.cert_pem,
        &p6.key_pem,
    )));
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for round in 0..3 {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", hub.port))
            .await
            .expect("tcp connect");
        let mut tls = connector
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("TLS handshake with a valid certificate");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let garbage = rng.bytes(4096 << round);
        let _ = poll_write_all(&mut tls, &garbage).await; // the hub may close while we write
        tokio::time::timeout(Duration::from_secs(15), read_until_closed(&mut tls))
            .await
            .expect("the hub closes a connection that speaks garbage");
    }
    // Garbage instead of a TLS handshake.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", hub.port))
        .await
        .expect("tcp connect");
    let _ = poll_write_all(&mut tcp, &rng.bytes(2048)).await;
    tokio::time::timeout(Duration::from_secs(15), read_until_closed(&mut tcp))
        .await
        .expect("the hub closes a connection that does not speak TLS");

    // The hub keeps serving: a new connection of a good node is answered.
    let mut fresh = hub.client(&hub.issue("prishtine", "1")).await;
    assert_eq!(acked(&mut fresh).await, 1);
    assert_eq!(
        push(&mut fresh, vec![good[1..].to_vec()]).await.accepted(),
        3
    );

    idle_closed.await.expect("idle connections task");
    drop((p1, p2, p3, p4, p5, fresh));
    let (_dir, store) = hub.stop().await;
    let seqs = |n: &str| -> Vec<u64> {
        store
            .chain_ops("prishtine", n)
            .expect("ops")
            .iter()
            .map(|o| o.id.seq)
            .collect()
    };
    assert_eq!(seqs("1"), vec![1, 2, 3]);
    assert_eq!(
        store.chain_ops("prishtine", "1").expect("ops"),
        good,
        "the hub holds the good chain, not the forged ops"
    );
    assert_eq!(seqs("2"), vec![1]);
    assert_eq!(seqs("3"), vec![1]);
    assert_eq!(seqs("4"), vec![1, 2]);
    assert_eq!(seqs("5"), (1..=MAX_BATCH_OPS as u64).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// 5. Pull scope
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pull_serves_a_municipality_its_own_changes_from_a_cursor() {
    let hub = Hub::start().await;
    let mut p1 = hub.client(&hub.issue("prishtine", "1")).await;
    let mut p2 = hub.client(&hub.issue("prishtine", "2")).await;
    let mut ist = hub.client(&hub.issue("istog", "1")).await;

    let pc = chain("prishtine", "1", 5);
    let ic = chain("istog", "1", 2);
    assert_eq!(push(&mut p1, vec![pc[..3].to_vec()]).await.accepted(), 3);
    assert_eq!(push(&mut ist, vec![ic[..1].to_vec()]).await.accepted(), 1);

    let is_prishtine = |o: &Op| o.record_id.starts_with("PRISHTINE-");
    let (got, _) = pull_all(&mut ist, 0).await;
    assert!(
        !got.iter().any(is_prishtine),
        "istog pulled prishtine ops: {got:?}"
    );
    assert_eq!(got, ic[..1].to_vec(), "istog pulls its own municipality");

    let (got, cursor) = pull_all(&mut p2, 0).await;
    assert_eq!(
        got,
        pc[..3].to_vec(),
        "prishtine/2 pulls node 1's ops in order"
    );
    assert!(cursor > 0);

    // Later changes, interleaved with istog's: from the cursor only the new ones come.
    assert_eq!(push(&mut ist, vec![ic[1..].to_vec()]).await.accepted(), 2);
    assert_eq!(push(&mut p1, vec![pc[3..].to_vec()]).await.accepted(), 5);
    let (got, later) = pull_all(&mut p2, cursor).await;
    assert_eq!(got, pc[3..].to_vec(), "from the cursor only later ops");
    assert!(later > cursor);
    let (got, end) = pull_all(&mut p2, later).await;
    assert!(got.is_empty(), "nothing after the last cursor: {got:?}");
    assert_eq!(end, later);

    // In small batches, with growing cursors, resumable from any of them.
    let batches = pull(&mut p2, 0, 2).await.expect("pull");
    let sizes: Vec<usize> = batches.iter().map(|b| b.0.len()).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
    assert!(batches.windows(2).all(|w| w[0].1 < w[1].1), "cursors grow");
    let all: Vec<Op> = batches.iter().flat_map(|b| b.0.clone()).collect();
    assert_eq!(all, pc);
    let (got, _) = pull_all(&mut p2, batches[0].1).await;
    assert_eq!(got, pc[2..].to_vec());

    let (got, _) = pull_all(&mut ist, 0).await;
    assert_eq!(got, ic, "istog still sees only its own");
    // Node 1 itself gets its municipality's feed too (its own ops, which it skips).
    let (got, _) = pull_all(&mut p1, 0).await;
    assert_eq!(got, pc);

    drop((p1, p2, ist));
    hub.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 6. One group commit holding the same node's batch twice
// ---------------------------------------------------------------------------------------------

#[test]
fn a_batch_replayed_within_one_group_commit_is_acknowledged() {
    use civreg_hub::pki::PeerIdentity;
    use civreg_hub::store::HubStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .expect("open store");
    let who = PeerIdentity::node("prishtine", "1").expect("identity");
    let ops = chain("prishtine", "1", 2);
    let answers = store
        .ingest(vec![(who.clone(), ops.clone()), (who, ops)])
        .expect("ingest");
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].as_ref().map(|h| h.seq), Ok(2));
    assert_eq!(
        answers[1].as_ref().map(|h| h.seq),
        Ok(2),
        "the same ops twice in one group must both be acknowledged: {answers:?}"
    );
    assert_eq!(store.chain_ops("prishtine", "1").expect("ops").len(), 2);
}

/// The same bug through the server: pushes waiting together are folded into one group commit.
/// (Timing decides whether two of them share a group; with the bug this fails most runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_of_the_same_batch_are_all_acknowledged() {
    let hub = Hub::start().await;
    let cert = hub.issue("prishtine", "1");
    let ops = chain("prishtine", "1", 300);
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(hub.client(&cert).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let ops = ops.clone();
            tokio::spawn(async move { push(&mut c, vec![ops]).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("push task"));
    }
    for o in &outcomes {
        assert!(
            o.error.is_none(),
            "a concurrent replay was refused: {:?}",
            o.error
        );
        assert_eq!(o.acks, vec![300]);
    }
    let (_dir, store) = hub.stop().await;
    assert_eq!(store.chain_ops("prishtine", "1").expect("ops").len(), 300);
}

// ---------------------------------------------------------------------------------------------
// 7. What the node binary makes of a refusal
// ---------------------------------------------------------------------------------------------

/// Runs `sync --once --json` and returns the exit code and the JSON it printed.
async fn sync_exit(data_dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["--json", "sync", "--once"];
    args.extend_from_slice(extra);
    let out = node(data_dir, &args).await;
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&args, &out)));
    (ok_code(&out), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_node_exits_4_on_a_refused_certificate_and_3_when_the_hub_is_away() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().expect("tempdir");

    let revoked = nodes.path().join("revoked");
    enrol_node(&revoked, &hub.bundle("prishtine", "2")).await;
    hub.pki.revoke("prishtine/2").expect("revoke");
    let (code, v) = sync_exit(&revoked, &[]).await;
    assert_eq!(code, Some(4), "{v}");
    assert_eq!(v["retryable"], json!(false), "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("CertificateRevoked"),
        "{v}"
    );

    let expired = nodes.path().join("expired");
    let now = time::OffsetDateTime::now_utc();
    let bundle = nodes.path().join("expired-bundle");
    hub.pki
        .issue_node_with_validity(
            "prishtine",
            "3",
            now - time::Duration::days(10),
            now - time::Duration::days(1),
        )
        .expect("expired cert")
        .write_bundle(&bundle, &hub.pki.ca_pem(), &hub.url)
        .expect("bundle");
    enrol_node(&expired, &bundle).await;
    let (code, v) = sync_exit(&expired, &[]).await;
    assert_eq!(code, Some(4), "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("CertificateExpired"),
        "{v}"
    );

    // A good node, but nothing listens at the address: retryable.
    let good = nodes.path().join("good");
    enrol_node(&good, &hub.bundle("prishtine", "1")).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let away = format!("https://localhost:{closed}");
    let (code, v) = sync_exit(&good, &["--hub", &away]).await;
    assert_eq!(code, Some(3), "{v}");
    assert_eq!(v["retryable"], json!(true), "{v}");
    let (code, v) = sync_exit(&good, &[]).await;
    assert_eq!(code, Some(0), "{v}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_node_exits_4_on_a_certificate_of_another_ca() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let foreign = Pki::init(&other.path().join("pki"), &[]).expect("second pki");
    let bundle = nodes.path().join("foreign-bundle");
    foreign
        .issue_node("prishtine", "1", 30)
        .expect("foreign cert")
        .write_bundle(&bundle, &hub.pki.ca_pem(), &hub.url)
        .expect("bundle");
    let dir = nodes.path().join("foreign");
    enrol_node(&dir, &bundle).await;
    let (code, v) = sync_exit(&dir, &[]).await;
    assert_eq!(
        code,
        Some(4),
        "a certificate the hub refuses will not heal: {v}"
    );
    assert_eq!(v["retryable"], json!(false), "{v}");
    hub.stop().await;
}
