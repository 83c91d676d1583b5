//! Nothing may block an office's queue (issue 13, findings 4, 6 and part of 12), through a real
//! hub over real mutual TLS and the real `civreg-node` binary:
//! - a municipality's feed of large ops pulls for every office (batches cut by bytes);
//! - a push message over the limit, or one that is not protobuf of a push, ends the stream with
//!   `INVALID_ARGUMENT`, not OK;
//! - a births-only municipality's clerk can not save a death once the node has heard the
//!   rollout (the hub would refuse it and the queue would stop behind it);
//! - a node restored from an older copy stops registering, durably, says why in `status`, and
//!   the hub shows it.

use civreg_testkit::prelude as common;

use civreg_hub::control;
use civreg_hub::rollout::Stage;
use civreg_proto::v1::PushRequest;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{Op, GENESIS};
use common::*;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tonic::Code;

/// `count` chained births of node `m/n`, each with `notes` of 2,000 two-byte characters: within
/// every field bound, but a thousand of them are more than one gRPC message.
fn large_births(m: &str, n: &str, count: u64) -> Vec<Op> {
    let notes = "ë".repeat(civreg_shared::limits::MAX_TEXT_CHARS);
    let mut prev = GENESIS;
    (1..=count)
        .map(|seq| {
            let o = full_birth(
                m,
                n,
                seq,
                prev,
                &format!("Arta{}", &common::child_name(seq)[5..]),
                "Gashi",
                "2026-01-02",
                Some(&notes),
            );
            prev = o.hash;
            o
        })
        .collect()
}

/// Everything a command printed (with `--json`, errors are on standard output).
fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn run_ok(data_dir: &Path, args: &[&str]) -> std::process::Output {
    let out = node(data_dir, args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_feed_of_large_ops_pulls_for_every_office() {
    let hub = Hub::start().await;
    let writer = hub.issue("prishtine", "1");
    let mut c = hub.client(&writer).await;
    let ops = large_births("prishtine", "1", 1_200);
    let total: usize = ops
        .iter()
        .map(|o| civreg_proto::encoded_len(&civreg_proto::v1::Op::from(o)))
        .sum();
    assert!(
        total * 1_000 / 1_200 > civreg_proto::MAX_MESSAGE_BYTES,
        "the test needs a thousand ops to exceed one message ({total} bytes for 1,200)"
    );
    let batches: Vec<Vec<Op>> = ops.chunks(100).map(<[Op]>::to_vec).collect();
    assert_eq!(push(&mut c, batches).await.accepted(), 1_200);

    // A raw client asking for the largest batches gets every op, in batches that each fit.
    let reader = hub.issue("prishtine", "2");
    let mut r = hub.client(&reader).await;
    let got = pull(&mut r, 0, civreg_proto::MAX_BATCH_OPS as u32)
        .await
        .expect("a feed of large ops must pull");
    assert!(got.len() > 1, "one batch can not have held them all");
    let all: Vec<&Op> = got.iter().flat_map(|b| &b.0).collect();
    assert_eq!(all.len(), 1_200);
    assert_eq!(got.last().map(|b| b.1), Some(1_200));
    // Cursors are per op: resuming from any batch's cursor gives exactly the rest.
    let mid = got[0].1;
    let rest = pull(&mut r, mid, 1_000).await.expect("resume");
    assert_eq!(
        rest.iter().map(|b| b.0.len() as u64).sum::<u64>(),
        1_200 - mid
    );

    // The real node binary of another office of the municipality pulls it all too.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    enrol_node(&data, &hub.bundle("prishtine", "3")).await;
    let out = run_ok(&data, &["--json", "sync", "--once"]).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["pulled"], 1_200, "{report}");
    hub.stop().await;
}

#[derive(Clone, PartialEq, prost::Message)]
struct NotAPush {
    /// Field 1 of a PushRequest is a repeated message; a varint there does not decode.
    #[prost(uint64, tag = "1")]
    ops: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_push_message_ends_with_invalid_argument() {
    let hub = Hub::start().await;
    let issued = hub.issue("prishtine", "1");

    // Over the message limit: a client that allows itself more sends 5 MiB in one message.
    let channel = hub
        .channel(Some((&issued.cert_pem, &issued.key_pem)))
        .await
        .unwrap();
    let mut big = civreg_proto::v1::sync_client::SyncClient::new(channel.clone())
        .max_encoding_message_size(16 << 20)
        .max_decoding_message_size(16 << 20);
    let huge = full_birth(
        "prishtine",
        "1",
        1,
        GENESIS,
        "Arta",
        "Gashi",
        "2026-01-02",
        Some(&"a".repeat(5 << 20)),
    );
    let out = push_raw(
        &mut big,
        vec![PushRequest {
            ops: vec![civreg_proto::v1::Op::from(&huge)],
        }],
    )
    .await;
    let st = out.refused();
    assert_eq!(st.code(), Code::InvalidArgument, "{st:?}");
    assert!(st.message().contains("bytes"), "{}", st.message());

    // Not protobuf of a push: field 1 with the wrong wire type.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<NotAPush, civreg_proto::v1::PushAck>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/civreg.v1.Sync/Push");
    let res = grpc
        .streaming(
            tonic::Request::new(tokio_stream::iter(vec![NotAPush { ops: 7 }])),
            path,
            codec,
        )
        .await;
    let status = match res {
        Err(s) => s,
        Ok(resp) => {
            let mut s = resp.into_inner();
            loop {
                match s.message().await {
                    Ok(Some(_)) => continue, // the hub's head comes first
                    Ok(None) => {
                        panic!("the push stream ended with OK after an undecodable message")
                    }
                    Err(st) => break st,
                }
            }
        }
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // Nothing was stored, and the node's chain still takes a good push.
    let mut c = hub.client(&issued).await;
    assert_eq!(
        push(&mut c, vec![chain("prishtine", "1", 2)])
            .await
            .accepted(),
        2
    );
    hub.stop().await;
}

fn write_json(dir: &Path, name: &str, v: &serde_json::Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

fn death_doc() -> serde_json::Value {
    json!({
        "deceased": {
            "given_name": "Fatime",
            "surname": "Krasniqi",
            "sex": "female",
            "date_of_birth": "1931-02-11"
        },
        "date_of_death": "1999-12-30",
        "place_of_death": "Prishtinë"
    })
}

fn birth_doc(given: &str) -> serde_json::Value {
    json!({
        "child": {
            "given_name": given,
            "surname": "Gashi",
            "sex": "male",
            "date_of_birth": "2026-01-02"
        },
        "place_of_birth": "Prishtinë",
        "mother": { "given_name": "Drita", "surname": "Gashi" }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_births_only_municipality_can_not_save_a_death() {
    // The rollout is decided before the hub starts, so that the node's first round hears it
    // (a change to a running hub applies within a second, which a test would have to wait for).
    let hub_dir = tempfile::tempdir().unwrap();
    civreg_hub::pki::Pki::init(&civreg_hub::paths::pki_dir(hub_dir.path()), &[]).unwrap();
    // Decided on the store of the hub to be, opened by the call itself (no hub runs yet).
    civreg_testkit::hub::make_hub_key(hub_dir.path());
    civreg_hub::control::ask::set_stage(
        hub_dir.path(),
        "prishtine",
        Stage::Pilot,
        Some(vec![RecordKind::Birth]),
        "vjosa",
        "births first",
    )
    .unwrap();
    let hub = Hub::start_in(hub_dir).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    enrol_node(&data, &hub.bundle("prishtine", "1")).await;
    // The node hears the rollout with its first round.
    run_ok(&data, &["--json", "sync", "--once"]).await;

    let death = write_json(dir.path(), "death.json", &death_doc());
    let args = ["--json", "register", "death", "--file", death.as_str()];
    let out = node(&data, &args).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let err = said(&out);
    assert!(
        err.contains("only birth records") && err.contains("death"),
        "{}",
        describe(&args, &out)
    );
    // Nothing was saved; births still are, and the queue flows.
    let birth = write_json(dir.path(), "birth.json", &birth_doc("Arta"));
    run_ok(
        &data,
        &["--json", "register", "birth", "--file", birth.as_str()],
    )
    .await;
    let out = run_ok(&data, &["--json", "sync", "--once"]).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["hub_acked"], 1, "{report}");
    let st = run_ok(&data, &["--json", "status"]).await;
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["status"]["ops_waiting"], 0, "{st}");
    assert_eq!(st["guard"]["rollout"]["kinds"], json!(["birth"]), "{st}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_restored_from_an_older_copy_stops_registering() {
    let hub = Hub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let backup = dir.path().join("backup");
    enrol_node(&data, &hub.bundle("prishtine", "1")).await;
    let b1 = write_json(dir.path(), "b1.json", &birth_doc("Arta"));
    run_ok(
        &data,
        &["--json", "register", "birth", "--file", b1.as_str()],
    )
    .await;
    run_ok(&data, &["--json", "sync", "--once"]).await;
    // The copy: one record, acknowledged.
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(&backup)
        .status()
        .unwrap();
    assert!(cp.success());
    let b2 = write_json(dir.path(), "b2.json", &birth_doc("Blerta"));
    run_ok(
        &data,
        &["--json", "register", "birth", "--file", b2.as_str()],
    )
    .await;
    run_ok(&data, &["--json", "sync", "--once"]).await;

    // The PC is restored from the copy: the hub holds op #2, the node's log ends at #1.
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::rename(&backup, &data).unwrap();
    let args = ["--json", "sync", "--once"];
    let out = node(&data, &args).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&args, &out));
    assert!(
        said(&out).contains("older than what it already sent"),
        "{}",
        describe(&args, &out)
    );

    // It registers nothing now, nor after a restart (every command is a new process), and
    // never mints the number the hub holds for another child.
    let b3 = write_json(dir.path(), "b3.json", &birth_doc("Dafina"));
    for _ in 0..2 {
        let args = ["--json", "register", "birth", "--file", b3.as_str()];
        let out = node(&data, &args).await;
        assert_ne!(out.status.code(), Some(0), "{}", describe(&args, &out));
        assert!(
            said(&out).contains("stopped registering"),
            "{}",
            describe(&args, &out)
        );
    }
    let st = run_ok(&data, &["status"]).await;
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("REGISTRATION STOPPED") && text.contains("older than what it already sent"),
        "{text}"
    );
    // The clerk reads it in their language too (the reason is the node's own sentence).
    let st = run_ok(&data, &["--lang", "sr-Cyrl", "status"]).await;
    let text = String::from_utf8_lossy(&st.stdout);
    let c = civreg_shared::i18n::Catalog::get();
    let cyrl = civreg_shared::i18n::Lang::SrCyrl;
    let stopped = c.format(cyrl, "cli-status-halted", &[("reason", "".into())]);
    assert!(
        text.contains(stopped.trim()) && text.contains(&c.text(cyrl, "cli-status-halted-note")),
        "{text}"
    );

    // The hub heard it with the heartbeat and shows it in `civreg-hub status`.
    let status_file = civreg_hub::paths::status_path(hub.data_dir());
    wait_for(
        "the hub's status to show the stopped node",
        Duration::from_secs(20),
        || {
            let st: civreg_hub::status::HubStatus =
                serde_json::from_slice(&std::fs::read(&status_file).ok()?).ok()?;
            st.chains
                .into_iter()
                .find(|c| c.node == "prishtine/1")?
                .halted
                .filter(|h| h.contains("older"))
        },
    )
    .await;
    // The hub's record #2 is the one it had.
    let (_dir, store) = hub.stop().await;
    let held = store
        .record(&regno("prishtine", "1", RecordKind::Birth, 2))
        .unwrap()
        .expect("the hub keeps its record");
    assert_eq!(held.fields["child.given_name"], json!("Blerta"));
}

/// An op the hub refuses for good (a death saved before the municipality was limited to births)
/// blocks the office's queue until an operator sets it aside; then the office's later ops go
/// through, the record of the op set aside is gone on both sides (equal digests), the node's log
/// still verifies, and the decision survives a hub restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_op_refused_for_good_is_set_aside_and_the_queue_flows() {
    let hub = Hub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    enrol_node(&data, &hub.bundle("prishtine", "1")).await;
    run_ok(&data, &["--json", "sync", "--once"]).await;
    // Saved while deaths were allowed: a birth, a death, a birth.
    let mut regnos = Vec::new();
    for (kind, doc) in [
        ("birth", birth_doc("Arta")),
        ("death", death_doc()),
        ("birth", birth_doc("Blerta")),
    ] {
        let f = write_json(dir.path(), &format!("{kind}.json"), &doc);
        let out = run_ok(&data, &["--json", "register", kind, "--file", f.as_str()]).await;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        regnos.push(v["regno"].as_str().unwrap().to_string());
    }
    // Then the municipality is limited to births, and the running hub applies it.
    civreg_hub::control::ask::set_stage(
        hub.data_dir(),
        "prishtine",
        Stage::Pilot,
        Some(vec![RecordKind::Birth]),
        "vjosa",
        "births first",
    )
    .unwrap();
    let mut probe = hub.client(&hub.issue("prishtine", "9")).await;
    let started = std::time::Instant::now();
    while heartbeat(&mut probe).await.unwrap().kinds.len() != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "rollout not applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The push stops at the death, and says which op and its hash; the birth before it is in.
    let args = ["--json", "sync", "--once"];
    let out = node(&data, &args).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let refused = control::call(hub.data_dir(), &control::Request::Refused)
        .unwrap()
        .unwrap();
    let blocked = &refused["refused"][0];
    assert_eq!(blocked["node_id"], "1", "{refused}");
    assert_eq!(blocked["op"]["seq"], 2, "{refused}");
    assert_eq!(blocked["op"]["record_id"], regnos[1].as_str(), "{refused}");
    let hash = blocked["op"]["hash"].as_str().unwrap().to_string();
    let err = said(&out);
    assert!(
        err.contains("op #2") && err.contains(&hash) && err.contains("set the op aside"),
        "{}",
        describe(&args, &out)
    );
    assert_eq!(
        acked(&mut hub.client(&hub.issue("prishtine", "1")).await).await,
        1
    );

    // Only the next op, with a reason, can be set aside.
    let set_aside = |seq: u64, reason: &str| control::Request::SetAside {
        municipality: "prishtine".into(),
        node_id: "1".into(),
        seq,
        hash: None,
        reason: reason.into(),
        operator: "operator:vjosa".into(),
    };
    let e = control::call(hub.data_dir(), &set_aside(3, "x")).unwrap_err();
    assert!(e.to_string().contains("only #2"), "{e}");
    let e = control::call(hub.data_dir(), &set_aside(2, " ")).unwrap_err();
    assert!(e.to_string().contains("reason is required"), "{e}");
    let d = control::call(
        hub.data_dir(),
        &set_aside(
            2,
            "death saved before deaths were allowed; register it again later",
        ),
    )
    .unwrap()
    .unwrap();
    assert_eq!(d["hash"], hash.as_str(), "{d}");

    // The queue flows; the node drops the death from its records and still verifies.
    let out = run_ok(&data, &args).await;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["hub_acked"], 3, "{report}");
    let st = run_ok(&data, &["--json", "status"]).await;
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["status"]["ops_waiting"], 0, "{st}");
    assert_eq!(st["set_aside"][0]["seq"], 2, "{st}");
    assert_eq!(st["set_aside"][0]["record_id"], regnos[1].as_str(), "{st}");
    let show = node(&data, &["--json", "show", regnos[1].as_str()]).await;
    assert_ne!(show.status.code(), Some(0), "{}", said(&show));
    run_ok(&data, &["--json", "show", regnos[2].as_str()]).await;
    let v = run_ok(&data, &["--json", "verify"]).await;
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    let node_digest = run_ok(&data, &["--json", "digest"]).await;
    let node_digest: serde_json::Value = serde_json::from_slice(&node_digest.stdout).unwrap();
    let digest = |dir: &Path| {
        control::call(
            dir,
            &control::Request::Digest {
                municipality: "prishtine".into(),
            },
        )
        .unwrap()
        .unwrap()
    };
    let hub_digest = digest(hub.data_dir());
    assert_eq!(node_digest["records"], 2, "{node_digest}");
    assert_eq!(
        hub_digest["sha256"], node_digest["sha256"],
        "{hub_digest} {node_digest}"
    );

    // The decision outlives the hub.
    let (dir_kept, store) = hub.stop().await;
    drop(store);
    let hub = Hub::start_in(dir_kept).await;
    let refused = wait_for(
        "the restarted hub's control socket",
        Duration::from_secs(20),
        || control::call(hub.data_dir(), &control::Request::Refused).unwrap(),
    )
    .await;
    assert_eq!(refused["set_aside"][0]["seq"], 2, "{refused}");
    assert_eq!(
        refused["set_aside"][0]["operator"], "operator:vjosa",
        "{refused}"
    );
    assert!(
        refused["refused"].as_array().unwrap().is_empty(),
        "{refused}"
    );
    let reply = heartbeat(&mut hub.client(&hub.issue("prishtine", "1")).await)
        .await
        .unwrap();
    assert_eq!(reply.set_aside.len(), 1);
    assert_eq!(reply.acked_seq, 3);
    hub.stop().await;
}
