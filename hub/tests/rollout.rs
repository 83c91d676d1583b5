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

/// The hub list (issue 19 part 3) is shared state like the rollout: `hub-urls set` (here
/// through the running hub's control socket) reaches the next heartbeat reply without a
/// restart, and clearing it sends no list again ("no news", as an older hub sends).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hub_list_set_at_the_running_hub_goes_with_the_next_heartbeat() {
    use civreg_hub::control::{ask::ask, Request};
    use civreg_hub::hub_list::HubUrls;
    let hub = Hub::start().await;
    let mut c = hub.client(&hub.issue("prishtine", "1")).await;
    let r = heartbeat(&mut c).await.expect("heartbeat");
    assert!(r.hub_urls.is_empty(), "no list anywhere: no news");
    let list = vec![hub.url.clone(), "https://127.0.0.1:7444".to_string()];
    let set = |urls: Vec<String>| {
        let dir = hub.data_dir().to_path_buf();
        tokio::task::block_in_place(move || {
            ask::<HubUrls>(
                &dir,
                Request::HubUrlsSet {
                    urls,
                    operator: "ana".into(),
                },
            )
        })
    };
    let stored = set(list.clone()).expect("set");
    assert_eq!(stored.stored.map(|s| s.urls), Some(list.clone()));
    let r = heartbeat(&mut c).await.expect("heartbeat");
    assert_eq!(r.hub_urls, list);
    // A malformed list is refused with the reason, and the stored one still goes out.
    let e = set(vec!["http://x:1".into()]).expect_err("refused");
    assert!(e.to_string().contains("must start with https://"), "{e}");
    assert_eq!(heartbeat(&mut c).await.expect("heartbeat").hub_urls, list);
    set(Vec::new()).expect("clear");
    assert!(heartbeat(&mut c)
        .await
        .expect("heartbeat")
        .hub_urls
        .is_empty());
}
