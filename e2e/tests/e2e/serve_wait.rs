//! `civreg-hub serve` waits for a store another process holds for a moment (a `status`,
//! `show` or `digest` run while no hub served opens the database itself) instead of exiting 1
//! with "database in use" (issue 17, part C).

use civreg_testkit::fleet as faults_support;

use faults_support::{open_hub_store, HubProc, Setup};
use std::time::{Duration, Instant};

#[test]
fn serve_waits_for_a_briefly_held_store_and_then_serves() {
    let s = Setup::new();
    // A first start makes the store and its key; stopped again.
    let mut hub = s.start_hub();
    hub.stop();
    // This process holds the store, as a command reading it would.
    let held = open_hub_store(&s.hub_dir);
    // `serve` binds its port and says so before it opens the store.
    let mut hub = HubProc::start_announced(&s.hub_dir, &s.path("hub-2.log"));
    // Held for two seconds: the hub must not exit meanwhile (it exited 1 at once before).
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        hub.alive(),
        "serve exited while the store was held:\n{}",
        faults_support::log_tail(&s.path("hub-2.log"))
    );
    let sock = civreg_hub::control::socket_path(&s.hub_dir);
    assert!(
        std::os::unix::net::UnixStream::connect(&sock).is_err(),
        "serve answers commands before it has the store"
    );
    drop(held);
    // Once the store is free, it serves: its control socket answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(
            Instant::now() < deadline && hub.alive(),
            "serve did not take the store once it was free:\n{}",
            faults_support::log_tail(&s.path("hub-2.log"))
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(hub.alive());
    let log = std::fs::read_to_string(s.path("hub-2.log")).unwrap_or_default();
    assert!(
        log.contains("held by another civreg-hub process"),
        "serve says once why it waits:\n{log}"
    );
    assert_eq!(log.matches("held by another civreg-hub process").count(), 1);
    hub.stop();
}
