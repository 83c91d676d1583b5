//! Reconciliation at the hub, over real mTLS: two nodes of one municipality edit the same field
//! of a record concurrently; the hub files one conflict; an operator (operator certificate)
//! reviews and resolves it over gRPC; the decision reaches the municipality's offices through
//! pull and a node that applies the feed ends with the hub's digest.

use civreg_testkit::prelude as common;

use civreg_node::node::Node;
use civreg_proto::v1::review_client::ReviewClient;
use civreg_proto::v1::{DigestRequest, ListConflictsRequest, ResolveConflictRequest};
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Op, GENESIS};
use common::*;
use serde_json::json;
use tonic::Code;

fn based_on(op: Op, base: &Op) -> Op {
    Op {
        base: vec![base.id.clone()],
        ..op
    }
    .seal()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operators_resolve_conflicts_over_grpc_and_the_decision_reaches_the_offices() {
    let hub = Hub::start().await;
    let (n1, n2) = (hub.issue("prishtine", "1"), hub.issue("prishtine", "2"));
    let (mut c1, mut c2) = (hub.client(&n1).await, hub.client(&n2).await);
    let create = create_birth("prishtine", "1", 1, GENESIS);
    let record = create.record_id.clone();
    assert_eq!(
        push(&mut c1, vec![vec![create.clone()]]).await.accepted(),
        1
    );
    // Both offices had the record and corrected the child's name offline, differently.
    let mine = based_on(
        op(
            "prishtine",
            "1",
            2,
            create.hash,
            &record,
            RecordKind::Birth,
            ChangeKind::Amend,
            &[("child.given_name", json!("Agron"))],
        ),
        &create,
    );
    let theirs = based_on(
        op(
            "prishtine",
            "2",
            1,
            GENESIS,
            &record,
            RecordKind::Birth,
            ChangeKind::Amend,
            &[("child.given_name", json!("Agon"))],
        ),
        &create,
    );
    assert_eq!(push(&mut c1, vec![vec![mine.clone()]]).await.accepted(), 2);
    assert_eq!(
        push(&mut c2, vec![vec![theirs.clone()]]).await.accepted(),
        1
    );

    // A node may not review conflicts.
    let mut as_node = ReviewClient::new(
        hub.channel(Some((&n1.cert_pem, &n1.key_pem)))
            .await
            .unwrap(),
    );
    let denied = as_node
        .list_conflicts(ListConflictsRequest::default())
        .await
        .expect_err("a node is refused");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let other = as_node
        .digest(DigestRequest {
            municipality: "istog".into(),
        })
        .await
        .expect_err("another municipality's digest is refused");
    assert_eq!(other.code(), Code::PermissionDenied);

    let operator = hub.pki.issue_operator("vjosa", 30).unwrap();
    let mut review = ReviewClient::new(
        hub.channel(Some((&operator.cert_pem, &operator.key_pem)))
            .await
            .unwrap(),
    );
    let list = review
        .list_conflicts(ListConflictsRequest {
            municipality: "prishtine".into(),
            include_resolved: false,
        })
        .await
        .unwrap()
        .into_inner()
        .conflicts;
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    assert_eq!(
        (c.record_id.as_str(), c.path.as_str()),
        (record.as_str(), "child.given_name")
    );
    let (a, b) = (c.a.as_ref().unwrap(), c.b.as_ref().unwrap());
    assert_eq!(
        a.value_json, "\"Agron\"",
        "the later clock is provisionally kept"
    );
    assert_eq!(b.value_json, "\"Agon\"");
    assert!(c.resolution.is_none());
    let bad = review
        .resolve_conflict(ResolveConflictRequest {
            id: c.id.clone(),
            keep: "B".into(),
            value_json: String::new(),
            reason: " ".into(),
        })
        .await
        .expect_err("a reason is required");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let done = review
        .resolve_conflict(ResolveConflictRequest {
            id: c.id.clone(),
            keep: "B".into(),
            value_json: String::new(),
            reason: "the paper register says Agon".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let op_id = done.op.unwrap();
    assert_eq!(
        (
            op_id.municipality.as_str(),
            op_id.node_id.as_str(),
            op_id.seq
        ),
        ("agency", "hub", 1)
    );
    let again = review
        .resolve_conflict(ResolveConflictRequest {
            id: c.id.clone(),
            keep: "A".into(),
            value_json: String::new(),
            reason: "changed my mind".into(),
        })
        .await
        .expect_err("already resolved");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let open = review
        .list_conflicts(ListConflictsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .conflicts;
    assert!(open.is_empty(), "{open:?}");

    // The decision is in Prishtinë's feed; an office that applies the feed agrees with the hub.
    let (ops, cursor) = pull_all(&mut c2, 0).await;
    let decision = ops
        .iter()
        .find(|o| o.id.node_id == "hub")
        .expect("the decision is pulled");
    assert_eq!(decision.clerk, "operator:vjosa");
    let office = Node::in_memory("prishtine", "3").unwrap();
    office.apply_remote(&ops, cursor).unwrap();
    let st = office.get(&record).unwrap();
    assert_eq!(st.fields["child.given_name"], json!("Agon"));
    assert_eq!(st.open_conflicts().count(), 0);
    assert_eq!(st.conflicts.len(), 1);
    let hub_digest = as_node
        .digest(DigestRequest {
            municipality: "prishtine".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let d = office.digest().unwrap();
    assert_eq!(
        (d.records, d.sha256),
        (hub_digest.records, hub_digest.sha256)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_refuses_an_op_based_on_one_it_does_not_hold() {
    let hub = Hub::start().await;
    let n1 = hub.issue("prishtine", "1");
    let mut c1 = hub.client(&n1).await;
    let create = create_birth("prishtine", "1", 1, GENESIS);
    let ghost = create_birth("prishtine", "2", 1, GENESIS);
    let amend = based_on(
        op(
            "prishtine",
            "1",
            2,
            create.hash,
            &create.record_id,
            RecordKind::Birth,
            ChangeKind::Amend,
            &[("child.given_name", json!("Agron"))],
        ),
        &ghost,
    );
    let out = push(&mut c1, vec![vec![create, amend]]).await;
    assert_eq!(out.refused().code(), Code::InvalidArgument);
    assert!(
        out.refused().message().contains("does not hold"),
        "{}",
        out.refused().message()
    );
    let (_dir, store) = hub.stop().await;
    assert_eq!(
        store.chain_ops("prishtine", "1").unwrap().len(),
        0,
        "nothing of a refused batch is stored"
    );
}

/// Runs `civreg-hub --data-dir DIR ARGS…` (the in-process hub answers on its control socket).
async fn hub_cli(data_dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let bin = civreg_testkit::bins::hub_bin();
    let d = data_dir.to_path_buf();
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .arg("--data-dir")
            .arg(d)
            .arg("--json")
            .args(&a)
            .env("CIVREG_OPERATOR", "vjosa")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run civreg-hub")
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "civreg-hub {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

async fn sync(dir: &std::path::Path) {
    let out = node(dir, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_offline_offices_edit_one_record_and_the_operator_decides_through_the_cli() {
    let hub = Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let (a, b) = (nodes.path().join("a"), nodes.path().join("b"));
    enrol_node(&a, &hub.bundle("prishtine", "1")).await;
    enrol_node(&b, &hub.bundle("prishtine", "2")).await;
    let doc = nodes.path().join("birth.json");
    std::fs::write(&doc, json!({
        "child": {"given_name": "Arben", "surname": "Gashi", "sex": "male", "date_of_birth": "2026-01-05"},
        "place_of_birth": "Prishtinë",
        "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisa"},
        "father": {"given_name": "Agim", "surname": "Gashi"}
    }).to_string()).unwrap();
    let saved = node_json(
        &a,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            doc.to_str().unwrap(),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().unwrap().to_string();
    sync(&a).await;
    sync(&b).await;

    // Both offices are offline now (no sync) and correct the record differently; office A also
    // fixes the mother's maiden surname, which nobody else touched.
    let amend = |dir: std::path::PathBuf, file: &str, body: serde_json::Value| {
        let p = nodes.path().join(file);
        std::fs::write(&p, body.to_string()).unwrap();
        let regno = regno.clone();
        async move {
            node_json(
                &dir,
                &[
                    "--json",
                    "amend",
                    &regno,
                    "--file",
                    p.to_str().unwrap(),
                    "--reason",
                    "register check",
                ],
            )
            .await
        }
    };
    amend(
        a.clone(),
        "a.json",
        json!({"father": {"given_name": "Agron"}, "mother": {"maiden_surname": "Berisha"}}),
    )
    .await;
    amend(
        b.clone(),
        "b.json",
        json!({"father": {"given_name": "Agon"}}),
    )
    .await;
    for d in [&a, &b, &a] {
        sync(d).await;
    }

    // One conflict, on the father's name; the maiden surname fix is simply in.
    let list = hub_cli(
        hub.data_dir(),
        &["conflicts", "list", "--municipality", "Prishtina"],
    )
    .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["path"], json!("father.given_name"));
    let id = list[0]["id"].as_str().unwrap().to_string();
    let shown = hub_cli(hub.data_dir(), &["conflicts", "show", &id]).await;
    let values: Vec<&serde_json::Value> = vec![
        &shown["conflict"]["winner"]["value"],
        &shown["conflict"]["loser"]["value"],
    ];
    assert!(
        values.contains(&&json!("Agron")) && values.contains(&&json!("Agon")),
        "{shown}"
    );
    // Each office marks the field as under conflict.
    let st = node_json(&b, &["--json", "show", &regno]).await;
    assert_eq!(st["open_conflicts"].as_array().unwrap().len(), 1, "{st}");
    assert_eq!(st["record"]["mother"]["maiden_surname"], json!("Berisha"));

    // The operator decides for a third spelling, from the paper register.
    hub_cli(
        hub.data_dir(),
        &[
            "conflicts",
            "resolve",
            &id,
            "--value",
            "Agron Agim",
            "--reason",
            "paper register, book 12",
        ],
    )
    .await;
    assert!(hub_cli(hub.data_dir(), &["conflicts", "list"])
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let hub_digest = hub_cli(hub.data_dir(), &["digest", "--municipality", "prishtine"]).await;
    for d in [&a, &b] {
        sync(d).await;
        let st = node_json(d, &["--json", "show", &regno]).await;
        assert_eq!(
            st["record"]["father"]["given_name"],
            json!("Agron Agim"),
            "{st}"
        );
        assert_eq!(st["open_conflicts"].as_array().unwrap().len(), 0, "{st}");
        let digest = node_json(d, &["--json", "digest"]).await;
        assert_eq!(
            digest["sha256"], hub_digest["sha256"],
            "{digest} vs {hub_digest}"
        );
        assert_eq!(digest["records"], json!(1));
    }
}
