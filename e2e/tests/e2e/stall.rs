//! A hub that takes connections but stops answering in the middle of a call (issue 19 part 3):
//! the office's `serve` gives it up after its per-call stall limit (`--stall-secs`), not after
//! the HTTP/2 keep-alive (about 40 s), and goes on through the next hub of its bundle. Real
//! processes: two `civreg-hub serve` (each its own embedded store, the same PKI), one
//! `civreg-node serve` whose bundle lists both, hub A behind the test kit's proxy, which is
//! frozen mid-stream (it keeps the connection and forwards nothing more, either way).

use civreg_testkit::fleet::*;
use std::time::{Duration, Instant};

/// The stall limit the office runs with here (the default is 15 s).
const STALL_SECS: &str = "3";
/// Well below the HTTP/2 keep-alive (20 s between pings, 20 s for the answer), which is what
/// ended a stalled call before: the office must be on hub B within this of the freeze.
const MOVE_ON_WITHIN: Duration = Duration::from_secs(20);
const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn a_hub_that_stalls_mid_stream_is_left_for_the_next_within_seconds() {
    let s = Setup::new();
    let proxy_a = Proxy::start(9);
    let proxy_b = Proxy::start(9);
    let url_a = proxy_a.url();
    // Hub B by the address the hub certificate names besides localhost.
    let url_b = format!("https://127.0.0.1:{}", proxy_b.port());
    let bundle = s.path("bundle-both");
    super::hubs::issue(&s.hub_dir, "2", &bundle, &[&url_a, &url_b]);
    // Hub B: the same PKI and registry (copied after the bundle was issued), its own store.
    let hub_b_dir = s.path("hub-b");
    super::hubs::copy_dir(&s.hub_dir, &hub_b_dir);
    let dashboards = ["--http-listen", "127.0.0.1:0"];
    let _hub_a = HubProc::start_with(&s.hub_dir, &s.path("hub-a.log"), &dashboards);
    let _hub_b = HubProc::start_with(&hub_b_dir, &s.path("hub-b.log"), &dashboards);
    proxy_a.set_upstream(_hub_a.port);
    proxy_b.set_upstream(_hub_b.port);

    let office = NodeDir {
        data_dir: s.path("node2"),
    };
    office.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8")]);
    office.run_ok(&["clerk", "add", CLERK]);
    let log = s.path("node2.log");
    let _serve = office.spawn(
        &[
            "serve",
            "--interval-secs",
            "1",
            "--http-listen",
            "off",
            "--stall-secs",
            STALL_SECS,
        ],
        &log,
    );
    office.register_births(&birth_docs(1, 5));
    let t = now_ms();
    // A round through `url` that began after `since_ms` (the births registered before) and
    // left nothing waiting.
    let synced_through = |url: &str, since_ms: u64| {
        let st = office.status();
        (st["online"] == true
            && st["hub_url"] == url
            && st["ops_waiting"] == 0
            && st["last_attempt_ms"]
                .as_u64()
                .is_some_and(|t| t >= since_ms))
        .then_some(())
    };
    wait_until("the office to sync its births with hub A", PATIENCE, || {
        synced_through(&url_a, t)
    });

    // Hub A stops answering: the next bytes it sends are held, and nothing more passes either
    // way; the connection stays open.
    proxy_a.freeze_after(Direction::Down, 0);
    let frozen = Instant::now();
    office.register_births(&birth_docs(6, 5));
    let t = now_ms();
    wait_until("hub A's link to freeze", PATIENCE, || {
        proxy_a.is_frozen().then_some(())
    });
    wait_until(
        "the office to leave the stalled hub A for hub B, with every op acknowledged",
        MOVE_ON_WITHIN,
        || synced_through(&url_b, t),
    );
    eprintln!(
        "stall: the office synced through hub B {:.1} s after hub A froze",
        frozen.elapsed().as_secs_f64()
    );
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        said.contains(&format!(
            "the hub stopped answering during the push: nothing came for {STALL_SECS} s"
        )) || said.contains(&format!(
            "the hub stopped answering during the pull: nothing came for {STALL_SECS} s"
        )) || said.contains(&format!(
            "the hub stopped answering during the heartbeat: nothing came for {STALL_SECS} s"
        )),
        "the office says why it left hub A:\n{said}"
    );
    // It keeps to hub B while hub B answers.
    office.register_births(&birth_docs(11, 2));
    let t = now_ms();
    wait_until("the office to stay on hub B", PATIENCE, || {
        synced_through(&url_b, t)
    });
    proxy_a.thaw();
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}
