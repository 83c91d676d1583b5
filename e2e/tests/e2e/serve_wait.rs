//! `civreg-hub serve` waits for a store another process holds for a moment (a `status`,
//! `show` or `digest` run while no hub served opens the database itself) instead of exiting 1
//! with "database in use" (issue 17, part C); and it announces its port only once it holds the
//! store, so that a command that must not run beside a serving hub (`migrate`), started the
//! moment the hub says it listens, is refused (issue 19).

use civreg_testkit::fleet as faults_support;

use faults_support::{hub_bin, open_hub_store, HubProc, Setup};
use std::process::Command;
use std::time::Duration;

#[test]
fn serve_waits_for_a_briefly_held_store_and_announces_only_once_it_holds_it() {
    let s = Setup::new();
    // A first start makes the store and its key; stopped again.
    let mut hub = s.start_hub();
    hub.stop();
    // This process holds the store, as a command reading it would.
    let held = open_hub_store(&s.hub_dir);
    let mut starting = HubProc::begin(&s.hub_dir, &s.path("hub-2.log"));
    // Held for two seconds: the hub must not exit meanwhile (it exited 1 at once before), nor
    // say that it listens (it did before it opened the store).
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        starting.alive(),
        "serve exited while the store was held:\n{}",
        faults_support::log_tail(&s.path("hub-2.log"))
    );
    assert!(
        !starting.has_announced(),
        "serve announced its port before it had the store:\n{}",
        faults_support::log_tail(&s.path("hub-2.log"))
    );
    let sock = civreg_hub::control::socket_path(&s.hub_dir);
    assert!(
        std::os::unix::net::UnixStream::connect(&sock).is_err(),
        "serve answers commands before it has the store"
    );
    drop(held);
    // Once the store is free, it takes it, then says that it listens: its control socket
    // answers from that moment.
    let mut hub = starting.announced();
    assert!(
        std::os::unix::net::UnixStream::connect(&sock).is_ok(),
        "serve announced before its control socket answers"
    );
    // A migration started the moment the hub announced is refused, saying what to do.
    let out = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(&s.hub_dir)
        .args(["migrate", "--to", "postgres://civreg@127.0.0.1:9/civreg"])
        .output()
        .expect("run civreg-hub migrate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "migrate ran beside a serving hub: {err}"
    );
    assert!(
        err.contains("a hub is running") && err.contains("stop it before migrating"),
        "{err}"
    );
    assert!(hub.alive());
    let log = std::fs::read_to_string(s.path("hub-2.log")).unwrap_or_default();
    assert!(
        log.contains("held by another civreg-hub process"),
        "serve says once why it waits:\n{log}"
    );
    assert_eq!(log.matches("held by another civreg-hub process").count(), 1);
    hub.stop();
}
