//! Reconciliation at the hub, over real mTLS: two nodes of one municipality edit the same field
//! of a record concurrently; the hub files one conflict; an operator (operator certificate)
//! reviews and resolves it over gRPC; the decision reaches the municipality's offices through
//! pull and a node that applies the feed ends with the hub's digest.

mod common;

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
