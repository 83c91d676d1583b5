//! An operator's changed hub list reaches an enrolled office (issue 19 part 3), with real
//! processes: two `civreg-hub serve` over one throwaway PostgreSQL, each behind a proxy of the
//! test kit, and one `civreg-node serve` enrolled with a bundle that names hub A only.
//!
//! A list the hub's certificate does not name is refused by `civreg-hub hub-urls set`; one
//! put in the store behind the command's back reaches the office, which refuses it too (its
//! `status` says why) and keeps its list. Then `civreg-hub hub-urls set A B` at hub A: the
//! office takes the list at its next heartbeat and `status` says it came from hub A. Hub A is
//! SIGKILLed: the office goes on through hub B without a new bundle, and after a SIGKILL and
//! restart of its own `serve` it still knows hub B (the list is kept on disk).

use super::hubs::{copy_dir, hub_run, issue, now_ms, pg_store, PATIENCE};
use civreg_testkit::fleet::*;

/// `civreg-node --json status`, whole (the test kit's `status()` gives its `status` part).
fn full_status(office: &NodeDir) -> serde_json::Value {
    let out = office.run_ok(&["--json", "status"]);
    serde_json::from_slice(&out.stdout).expect("status --json")
}

#[test]
fn hublist_a_list_changed_at_the_hub_moves_an_office_to_hub_b_when_hub_a_is_killed() {
    let db = civreg_testkit::postgres::database();
    let store = ["--store", db.url.as_str(), "--http-listen", "127.0.0.1:0"];
    let s = Setup::new();
    let hub_a_dir = s.hub_dir.clone();
    // Hub A by the name localhost, hub B by the address 127.0.0.1: the hub certificate names
    // both.
    let proxy_a = Proxy::start(9);
    let proxy_b = Proxy::start(9);
    let url_a = proxy_a.url();
    let url_b = format!("https://127.0.0.1:{}", proxy_b.port());

    // The office's bundle names hub A only.
    let bundle = s.path("bundle-a");
    issue(&hub_a_dir, "2", &bundle, &[&url_a]);
    let hub_b_dir = s.path("hub-b");
    copy_dir(&hub_a_dir, &hub_b_dir);
    let mut hub_a = HubProc::start_with(&hub_a_dir, &s.path("hub-a.log"), &store);
    let hub_b = HubProc::start_with(&hub_b_dir, &s.path("hub-b.log"), &store);
    proxy_a.set_upstream(hub_a.port);
    proxy_b.set_upstream(hub_b.port);

    let office = NodeDir {
        data_dir: s.path("node2"),
    };
    office.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8")]);
    office.run_ok(&["clerk", "add", CLERK]);
    let log = s.path("node2.log");
    let serve = ["serve", "--interval-secs", "1", "--http-listen", "off"];
    let mut serving = Some(office.spawn(&serve, &log));
    let synced_through = |url: &str, since_ms: u64, what: &str| {
        wait_until(what, PATIENCE, || {
            let st = office.status();
            (st["online"] == true
                && st["hub_url"] == url
                && st["ops_waiting"] == 0
                && st["last_success_ms"]
                    .as_u64()
                    .is_some_and(|t| t >= since_ms))
            .then_some(())
        });
    };
    office.register_births(&birth_docs(1, 3));
    synced_through(
        &url_a,
        now_ms(),
        "the office to sync with hub A, its bundle's",
    );
    let st = full_status(&office);
    assert_eq!(st["hub_list"]["from"], "bundle", "{st}");
    assert_eq!(st["hub_list"]["urls"], serde_json::json!([url_a]), "{st}");

    // The command refuses a host the hub certificate does not name.
    let hub_c = "https://hub-c.civreg.rks:7443";
    let out = hub_run(
        &hub_a_dir,
        &[
            "--store",
            &db.url,
            "hub-urls",
            "set",
            &url_a,
            hub_c,
            "--operator",
            "ana",
        ],
    );
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("does not name hub-c.civreg.rks"),
        "{}",
        describe("hub-urls set with an unnamed hub", &out)
    );
    // Put in the store behind the command's back, it reaches the office, which refuses it,
    // says why, and keeps hub A.
    civreg_hub::hub_list::set_in(
        &pg_store(&db.url, &hub_a_dir),
        &[url_a.clone(), hub_c.to_string()],
        "test",
        now_ms(),
    )
    .expect("store a list");
    let st = wait_until("the office to refuse the unnamed hub", PATIENCE, || {
        let st = full_status(&office);
        st["hub_list"]["refused"].is_object().then_some(st)
    });
    let why = st["hub_list"]["refused"]["why"].as_str().unwrap_or("");
    assert!(
        why.contains("does not name hub-c.civreg.rks"),
        "the refusal says why: {st}"
    );
    assert_eq!(st["hub_list"]["urls"], serde_json::json!([url_a]), "{st}");
    assert_eq!(st["hub_list"]["from"], "bundle", "{st}");
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        said.contains("the hub sent a hub list that is refused"),
        "the office logs the refusal:\n{said}"
    );

    // The operator sets A and B at hub A (its control socket): the office takes the list.
    let set_at = std::time::Instant::now();
    let out = hub_run(
        &hub_a_dir,
        &[
            "--store",
            &db.url,
            "--json",
            "hub-urls",
            "set",
            &url_a,
            &url_b,
            "--operator",
            "ana",
        ],
    );
    assert!(out.status.success(), "{}", describe("hub-urls set", &out));
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).expect("hub-urls json");
    // The change is in the operators' trail, shared by both hubs: listed at hub B.
    let out = hub_run(
        &hub_b_dir,
        &[
            "--store", &db.url, "--json", "operator", "log", "--limit", "1000",
        ],
    );
    assert!(out.status.success(), "{}", describe("operator log", &out));
    let trail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("operator log json");
    assert!(
        trail["entries"].as_array().is_some_and(|es| es
            .iter()
            .any(|e| e["operator"] == "ana" && e["action"] == "hub-urls-set" && e["ok"] == true)),
        "hub-urls set is in the operators' trail: {trail}"
    );
    assert_eq!(
        set["stored"]["urls"],
        serde_json::json!([url_a, url_b]),
        "{set}"
    );
    let st = wait_until("the office to take the hub list A, B", PATIENCE, || {
        let st = full_status(&office);
        (st["hub_list"]["from"] == "hub").then_some(st)
    });
    assert_eq!(
        st["hub_list"]["urls"],
        serde_json::json!([url_a, url_b]),
        "{st}"
    );
    let taken_after = set_at.elapsed();
    assert_eq!(st["hub_list"]["by"], url_a.as_str(), "{st}");
    assert!(st["hub_list"]["refused"].is_null(), "{st}");
    let text = office.run_ok(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("{url_a}, {url_b} (sent by the hub {url_a},")),
        "status names the list and where it came from:\n{text}"
    );

    // Hub A is SIGKILLed: the office goes on through hub B, without a new bundle.
    hub_a.kill();
    let killed = now_ms();
    let killed_at = std::time::Instant::now();
    office.register_births(&birth_docs(4, 3));
    synced_through(
        &url_b,
        killed,
        "the office to go on through hub B after hub A's SIGKILL",
    );
    eprintln!(
        "hublist: the office took the new list {:.1} s after `hub-urls set` (command included) and synced through hub B {:.1} s after hub A's SIGKILL",
        taken_after.as_secs_f64(),
        killed_at.elapsed().as_secs_f64()
    );

    // The office's serve SIGKILLed and started again: the list was kept, hub B is used.
    if let Some(p) = serving.take() {
        drop(p);
    }
    let st = full_status(&office);
    assert_eq!(st["hub_list"]["from"], "hub", "kept on disk: {st}");
    serving = Some(office.spawn(&serve, &log));
    office.register_births(&birth_docs(7, 2));
    synced_through(
        &url_b,
        now_ms(),
        "the restarted office to sync through hub B",
    );
    assert_eq!(
        pg_store(&db.url, &hub_a_dir).head(MUNICIPALITY, "2").seq,
        office.status_u64("hub_acked"),
        "every op of the office is in the shared store"
    );
    drop(serving);
    drop(hub_b);
}
