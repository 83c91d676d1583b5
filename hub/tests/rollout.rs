//! Rollout stages over real mTLS: a planned municipality's node is refused, a suspended one may
//! pull but not push and is told why, a stage change applies without a restart, a stage limits
//! the kinds of record a municipality may register, and refusals show in the hub's status.

use civreg_testkit::prelude as common;

use civreg_hub::rollout::Stage;
use civreg_hub::{paths, status};
use civreg_shared::model::RecordKind;
use civreg_shared::op::ChangeKind;
use common::*;
use std::time::Duration;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stages_decide_who_may_sync_and_apply_without_a_restart() {
    let hub = Hub::start().await;

    // Peje is planned: its node may not even heartbeat, and is marked so it keeps trying.
    let peje = hub.issue("peje", "1");
    let mut pc = hub.client(&peje).await;
    let refused = heartbeat(&mut pc).await.expect_err("planned");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("planned"),
        "{}",
        refused.message()
    );
    assert!(refused
        .metadata()
        .get(civreg_proto::ROLLOUT_METADATA)
        .is_some());
    let out = push(&mut pc, vec![chain("peje", "1", 1)]).await;
    assert_eq!(out.refused().code(), Code::PermissionDenied);

    // Prishtinë is a pilot: it pushes. Then it is suspended while the hub runs (probed by
    // re-sending ops the hub holds, which is harmless).
    let node = hub.issue("prishtine", "1");
    let mut c = hub.client(&node).await;
    let ops = chain("prishtine", "1", 3);
    assert_eq!(push(&mut c, vec![ops[..2].to_vec()]).await.accepted(), 2);
    civreg_hub::control::ask::set_stage(
        hub.data_dir(),
        "prishtine",
        Stage::Suspended,
        None,
        "vjosa",
        "data audit",
    )
    .unwrap();
    let out = wait_for("the suspension to apply", Duration::from_secs(10), || {
        futures_lite_block(push(&mut c, vec![ops[..2].to_vec()]))
            .error
            .filter(|s| s.code() == Code::FailedPrecondition)
    })
    .await;
    assert!(
        out.message().contains("suspended by vjosa"),
        "{}",
        out.message()
    );
    assert!(out.message().contains("data audit"), "{}", out.message());
    let (pulled, _) = pull_all(&mut c, 0).await;
    assert_eq!(pulled.len(), 2, "a suspended municipality still pulls");

    // Resumed, with births only.
    civreg_hub::control::ask::set_stage(
        hub.data_dir(),
        "prishtine",
        Stage::Live,
        Some(vec![RecordKind::Birth]),
        "vjosa",
        "audit done",
    )
    .unwrap();
    let acked = wait_for("the resumption to apply", Duration::from_secs(10), || {
        let out = futures_lite_block(push(&mut c, vec![ops[2..].to_vec()]));
        out.error.is_none().then_some(out.acks.last().copied())
    })
    .await;
    assert_eq!(acked, Some(3));
    let death = op(
        "prishtine",
        "1",
        4,
        ops[2].hash,
        &regno("prishtine", "1", RecordKind::Death, 1),
        RecordKind::Death,
        ChangeKind::Create,
        &[("deceased.given_name", "Agim".into())],
    );
    let out = push(&mut c, vec![vec![death]]).await;
    assert_eq!(out.refused().code(), Code::PermissionDenied);
    assert!(
        out.refused().message().contains("may not register death"),
        "{}",
        out.refused().message()
    );

    // The refusals show in the status the dashboard and `civreg-hub status` read.
    let status = wait_for(
        "status to show the refusal",
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(paths::status_path(hub.data_dir())).ok()?;
            let st: status::HubStatus = serde_json::from_str(&text).ok()?;
            st.chains
                .iter()
                .find(|c| c.node == "peje/1" && c.last_refusal.is_some())
                .cloned()
        },
    )
    .await;
    assert!(status.last_refusal.unwrap().contains("planned"));
}

/// Runs a future to completion from a synchronous poll closure (the test runtime is
/// multi-threaded, so blocking one worker is fine).
fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}
