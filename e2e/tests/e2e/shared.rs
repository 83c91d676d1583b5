//! What every hub over one database shares beyond the register (issue 19 part 2), with real
//! processes: two `civreg-hub serve` over one throwaway PostgreSQL ([`civreg_testkit::postgres`]),
//! hub B's data directory a copy of hub A's (the same agency PKI and keys), each with its own
//! control socket and dashboard.
//!
//! - The rollout plan: a municipality suspended through hub A is refused at hub B, and resumed
//!   through hub B it pushes through hub A again; an earlier version's `rollout.json` and
//!   `rollout.log` are imported once; both changes are listed alike by `rollout log` at
//!   either hub.
//! - Operator accounts: an operator added through hub A signs in at hub B's dashboard (HTTP),
//!   a session made at hub A works at hub B, an operator removed through hub B is signed out
//!   and refused at hub A, and a changed password applies at both and ends the sessions made
//!   with the old one; an earlier version's `operators.json` is imported once; what operators
//!   did at one hub is listed by `operator log` at the other.
//! - The registry of issued certificates and the revocations: an office enrolled with a bundle
//!   issued through hub A syncs through hub B, and revoked through hub A it is refused by hub
//!   B, its live connection to hub B ended.
//! - The renewal requirement: required through hub A, the office renews when it syncs with
//!   hub B.

use civreg_testkit::fleet::*;
use civreg_testkit::hub::WebSession;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(60);

fn hub_run(hub_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run civreg-hub")
}

fn hub_json(hub_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = hub_run(hub_dir, &all, env);
    assert!(out.status.success(), "{}", describe("civreg-hub", &out));
    serde_json::from_slice(&out.stdout).expect("civreg-hub --json")
}

/// A free port on 127.0.0.1 for a dashboard.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Two hubs over one new database: hub A in `s.hub_dir`, hub B in a copy of it made now
/// (after `prepare` ran on hub A's directory), each with its dashboard on a port of its own.
struct TwoHubs {
    a: HubProc,
    b: HubProc,
    web_a: String,
    web_b: String,
    _db: civreg_testkit::postgres::Database,
}

impl TwoHubs {
    fn start(s: &Setup, prepare: impl FnOnce(&Path)) -> TwoHubs {
        let db = civreg_testkit::postgres::database();
        prepare(&s.hub_dir);
        let hub_b_dir: PathBuf = s.path("hub-b");
        super::hubs::copy_dir(&s.hub_dir, &hub_b_dir);
        let (web_a, web_b) = (
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
        );
        let a = HubProc::start_with(
            &s.hub_dir,
            &s.path("hub-a.log"),
            &["--store", &db.url, "--http-listen", &web_a],
        );
        let b = HubProc::start_with(
            &hub_b_dir,
            &s.path("hub-b.log"),
            &["--store", &db.url, "--http-listen", &web_b],
        );
        TwoHubs {
            a,
            b,
            web_a,
            web_b,
            _db: db,
        }
    }
}

/// One `sync --once` of `node` with `hub`: its output.
fn sync_once(node: &NodeDir, hub: &HubProc) -> std::process::Output {
    node.run(&["--json", "sync", "--once", "--hub", &hub.url()])
}

#[test]
fn shared_a_rollout_change_made_through_one_hub_is_enforced_at_the_other() {
    let s = Setup::new();
    // An earlier version's plan file in hub A's directory: Pejë live.
    let hubs = TwoHubs::start(&s, |dir| {
        let mut plan = serde_json::json!({"municipalities": {}});
        plan["municipalities"]["peje"] =
            serde_json::json!({"stage": "live", "kinds": ["birth", "marriage", "death"]});
        std::fs::write(dir.join("rollout.json"), plan.to_string()).expect("rollout.json");
        let line = serde_json::json!({"at_ms": 1, "operator": "arta", "municipality": "peje",
            "from": "planned", "to": "live", "reason": "before the store"});
        std::fs::write(dir.join("rollout.log"), format!("{line}\n")).expect("rollout.log");
    });
    let (a_dir, b_dir) = (&hubs.a.data_dir, &hubs.b.data_dir);
    // Imported once at hub A's start, and known at hub B; the file is no longer read.
    assert!(!a_dir.join("rollout.json").exists());
    assert!(a_dir.join("rollout.json.imported").exists());
    let listed = hub_json(b_dir, &["rollout", "list"], &[]);
    assert_eq!(
        listed["municipalities"]["peje"]["stage"], "live",
        "{listed}"
    );
    assert_eq!(listed["municipalities"]["prishtine"]["stage"], "pilot");

    let node = &s.node;
    node.register_births(&[birth_doc(0)]);
    let out = sync_once(node, &hubs.b);
    assert!(out.status.success(), "{}", describe("sync through B", &out));
    assert_eq!(node.status_u64("hub_acked"), 1);

    // Suspended through hub A: hub B refuses the next push within seconds.
    let set = hub_json(
        a_dir,
        &[
            "rollout",
            "set",
            MUNICIPALITY,
            "suspended",
            "--operator",
            "vjosa",
            "--reason",
            "data audit",
        ],
        &[],
    );
    assert_eq!(set["entry"]["stage"], "suspended", "{set}");
    // Hub B follows the plan's version at most once a second: a push in that moment may
    // still be taken, and then another entry waits for the next try.
    let mut next = 1;
    node.register_births(&[birth_doc(next)]);
    let refused = wait_until("hub B to enforce the suspension", PATIENCE, || {
        let before = node.status_u64("hub_acked");
        let out = sync_once(node, &hubs.b);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if said.contains("suspended by vjosa") {
            return Some(said);
        }
        if node.status_u64("hub_acked") > before {
            next += 1;
            node.register_births(&[birth_doc(next)]);
        }
        None
    });
    assert!(refused.contains("data audit"), "{refused}");
    // Once refused, nothing more is taken while suspended.
    let acked = node.status_u64("hub_acked");
    assert_eq!(acked, next, "the entry waiting is not taken");
    let out = sync_once(node, &hubs.b);
    assert!(
        !out.status.success(),
        "{}",
        describe("sync through B, suspended", &out)
    );
    assert_eq!(
        node.status_u64("hub_acked"),
        acked,
        "nothing pushed while suspended"
    );
    let listed = hub_json(b_dir, &["rollout", "list"], &[]);
    assert_eq!(listed["municipalities"][MUNICIPALITY]["stage"], "suspended");

    // Resumed through hub B: hub A takes the push.
    hub_json(
        b_dir,
        &[
            "rollout",
            "set",
            MUNICIPALITY,
            "live",
            "--operator",
            "besa",
            "--reason",
            "audit done",
        ],
        &[],
    );
    wait_until("hub A to take the push once resumed", PATIENCE, || {
        sync_once(node, &hubs.a).status.success().then_some(())
    });
    assert_eq!(node.status_u64("hub_acked"), next + 1);
    // Both changes are in the one rollout log, listed alike at either hub, in order; an
    // earlier version's `rollout.log` in hub A's directory was taken in first.
    for dir in [a_dir, b_dir] {
        let log = hub_json(dir, &["rollout", "log"], &[]);
        let ops: Vec<&str> = log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["operator"].as_str())
            .collect();
        assert_eq!(ops, ["arta", "vjosa", "besa"], "{log}");
        assert_eq!(log["entries"][1]["reason"], "data audit", "{log}");
    }
    assert!(a_dir.join("rollout.log.imported").exists());
    // Paged: one entry at a time, the cursor leads to the next.
    let first = hub_json(b_dir, &["rollout", "log", "--limit", "1"], &[]);
    let next = first["next"].as_str().expect("a cursor");
    let second = hub_json(
        b_dir,
        &["rollout", "log", "--limit", "1", "--after", next],
        &[],
    );
    assert_eq!(second["entries"][0]["operator"], "vjosa", "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_an_operator_added_or_removed_through_one_hub_is_so_at_the_other() {
    const PASSWORD: &str = "long-enough-secret-1";
    let s = Setup::new();
    // An earlier version's accounts file in hub A's directory: arben.
    let hubs = TwoHubs::start(&s, |dir| {
        let phc = civreg_hub::operators::hash_password("arben-secret-22").expect("hash");
        let file = serde_json::json!({
            "version": 1,
            "operators": {"arben": {"phc": phc, "created_ms": 1}},
        });
        std::fs::write(dir.join("operators.json"), file.to_string()).expect("operators.json");
    });
    let (a_dir, b_dir) = (hubs.a.data_dir.clone(), hubs.b.data_dir.clone());
    assert!(
        !a_dir.join("operators.json").exists(),
        "imported, no longer read"
    );
    WebSession::login(&hubs.web_b, "arben", "arben-secret-22")
        .await
        .expect("an imported account signs in at hub B");

    // Added through hub A, the operator signs in at hub B.
    let env = [("CIVREG_OPERATOR_PASSWORD", PASSWORD)];
    let added = hub_json(&a_dir, &["operator", "add", "vjosa"], &env);
    assert_eq!(added["operator"], "vjosa", "{added}");
    WebSession::login(&hubs.web_b, "vjosa", PASSWORD)
        .await
        .expect("vjosa signs in at hub B");
    // A session made at hub A works at hub B.
    let at_a = WebSession::login(&hubs.web_a, "vjosa", PASSWORD)
        .await
        .expect("vjosa signs in at hub A");
    let at_b = WebSession {
        addr: hubs.web_b.clone(),
        cookie: at_a.cookie.clone(),
        csrf: at_a.csrf.clone(),
    };
    assert_eq!(at_b.get("/").await.status, 200, "hub A's session at hub B");

    // Removed through hub B: signed out and refused at hub A.
    let removed = hub_json(&b_dir, &["operator", "remove", "vjosa"], &[]);
    assert_eq!(removed["removed"], true, "{removed}");
    let page = at_a.get("/").await;
    assert_eq!(
        page.status, 303,
        "a removed operator's session ends: {page:?}"
    );
    assert!(
        WebSession::login(&hubs.web_a, "vjosa", PASSWORD)
            .await
            .is_err(),
        "a removed operator can not sign in at hub A"
    );
    let out = hub_run(&a_dir, &["operator", "remove", "vjosa"], &[]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no operator"),
        "{}",
        describe("remove twice", &out)
    );

    // A changed password, through hub B, applies at hub A, and ends the sessions made with
    // the old one at both.
    let arben_at_a = WebSession::login(&hubs.web_a, "arben", "arben-secret-22")
        .await
        .expect("arben signs in at hub A");
    assert_eq!(arben_at_a.get("/").await.status, 200);
    let env = [("CIVREG_OPERATOR_PASSWORD", "arben-new-secret-33")];
    hub_json(&b_dir, &["operator", "add", "arben", "--replace"], &env);
    assert!(
        WebSession::login(&hubs.web_a, "arben", "arben-secret-22")
            .await
            .is_err(),
        "the old password is refused at hub A"
    );
    WebSession::login(&hubs.web_a, "arben", "arben-new-secret-33")
        .await
        .expect("the new password works at hub A");
    let page = arben_at_a.get("/").await;
    assert_eq!(
        page.status, 303,
        "the old password's session ends: {page:?}"
    );

    // What operators did at hub A's dashboard is listed at hub B, and the other way round.
    for (dir, seen_at) in [(&b_dir, "hub A"), (&a_dir, "hub B")] {
        let log = hub_json(dir, &["operator", "log", "--limit", "1000"], &[]);
        let entries = log["entries"].as_array().expect("entries");
        let did = |who: &str, action: &str, ok: bool| {
            entries
                .iter()
                .any(|e| e["operator"] == who && e["action"] == action && e["ok"] == ok)
        };
        assert!(did("arben", "login", true), "{seen_at}'s sign-in: {log}");
        assert!(did("vjosa", "login", true), "{log}");
        assert!(
            did("arben", "login", false),
            "the refused old password: {log}"
        );
    }
}

/// A renewal required through hub A (`pki require-renewal`, at the running hub A) is told to
/// the office when it syncs with hub B, which renews it; hub A admits the renewed certificate.
#[test]
fn shared_a_renewal_required_through_one_hub_is_asked_at_the_other() {
    let s = Setup::new();
    let hubs = TwoHubs::start(&s, |_| {});
    let cert = s.node.data_dir.join("tls").join("cert.pem");
    let before = std::fs::read(&cert).expect("the office's certificate");
    s.node.register_births(&[birth_doc(0)]);
    let out = sync_once(&s.node, &hubs.b);
    assert!(out.status.success(), "{}", describe("sync through B", &out));
    assert_eq!(
        std::fs::read(&cert).expect("cert"),
        before,
        "not renewed unasked"
    );

    let required = hub_json(
        &hubs.a.data_dir,
        &["pki", "require-renewal", "prishtine/1"],
        &[],
    );
    assert!(required.to_string().contains("prishtine/1"), "{required}");
    wait_until("the office to renew through hub B", PATIENCE, || {
        let out = sync_once(&s.node, &hubs.b);
        (out.status.success() && std::fs::read(&cert).ok()? != before).then_some(())
    });
    s.node.register_births(&[birth_doc(1)]);
    wait_until(
        "hub A to admit the certificate renewed at hub B",
        PATIENCE,
        || sync_once(&s.node, &hubs.a).status.success().then_some(()),
    );
    assert_eq!(s.node.status_u64("hub_acked"), 2);
}

#[test]
fn shared_an_office_enrolled_or_revoked_through_one_hub_is_so_at_the_other() {
    let s = Setup::new();
    let hubs = TwoHubs::start(&s, |_| {});
    // Enrolled through hub A once both hubs run (hub B's copy of the PKI directory never had
    // this certificate).
    let node2 = s.second_node();
    node2.register_births(&[birth_doc(0)]);
    wait_until(
        "hub B to admit the office enrolled at hub A",
        PATIENCE,
        || sync_once(&node2, &hubs.b).status.success().then_some(()),
    );
    assert_eq!(node2.status_u64("hub_acked"), 1);

    // Connected to hub B, then revoked through hub A: hub B ends the connection and refuses it.
    let log = s.path("node2.log");
    let _serve = node2.spawn(
        &[
            "serve",
            "--interval-secs",
            "1",
            "--http-listen",
            "off",
            "--hub",
            &hubs.b.url(),
        ],
        &log,
    );
    wait_until("office 2 to be online with hub B", PATIENCE, || {
        (node2.status()["online"] == true).then_some(())
    });
    let revoked = hub_json(&hubs.a.data_dir, &["pki", "revoke", "prishtine/2"], &[]);
    assert!(revoked.to_string().contains("prishtine/2"), "{revoked}");
    wait_until("hub B to refuse office 2", PATIENCE, || {
        (node2.status()["online"] == false).then_some(())
    });
    drop(_serve);
    let out = sync_once(&node2, &hubs.b);
    assert!(
        !out.status.success(),
        "{}",
        describe("a revoked office at hub B", &out)
    );
    // Office 1, not revoked, goes on at hub B.
    s.node.register_births(&[birth_doc(1)]);
    let out = sync_once(&s.node, &hubs.b);
    assert!(
        out.status.success(),
        "{}",
        describe("office 1 at hub B", &out)
    );
    // Hub B's own registry has it revoked (and its CRL, written from it, lists it).
    let listed = hub_json(&hubs.b.data_dir, &["pki", "list"], &[]);
    assert!(
        listed.to_string().contains("revoked"),
        "hub B's registry: {listed}"
    );
}

/// `civreg-hub status` shows the `hub_urls` the running hub was started with (asked over its
/// control socket), even once its config file says otherwise; when it is stopped, the config
/// file's.
#[test]
fn shared_status_shows_the_running_hubs_hub_urls_else_the_config_files() {
    let s = Setup::new();
    let cfg = s.path("hub.toml");
    let cfg_s = cfg.to_str().expect("utf-8");
    let started = ["https://localhost:7443", "https://localhost:7444"];
    let write = |list: &[&str]| {
        std::fs::write(&cfg, format!("hub_urls = {}\n", serde_json::json!(list))).expect("hub.toml")
    };
    write(&started);
    let mut hub = HubProc::start_with(&s.hub_dir, &s.path("hub.log"), &["--config", cfg_s]);
    let changed = ["https://localhost:7445"];
    write(&changed);
    let st = hub_json(&s.hub_dir, &["--config", cfg_s, "status"], &[]);
    assert_eq!(st["running"], true, "{st}");
    assert_eq!(
        st["hub_urls"],
        serde_json::json!(started),
        "the running hub's: {st}"
    );
    assert_eq!(st["hub_urls_running"], true, "{st}");
    let out = hub_run(&s.hub_dir, &["--config", cfg_s, "status"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "hubs: https://localhost:7443, https://localhost:7444 (as the running hub was started)"
        ),
        "{text}"
    );
    hub.stop();
    let st = hub_json(&s.hub_dir, &["--config", cfg_s, "status"], &[]);
    assert_eq!(st["running"], false, "{st}");
    assert_eq!(
        st["hub_urls"],
        serde_json::json!(changed),
        "the config file's: {st}"
    );
    assert_eq!(st["hub_urls_running"], false, "{st}");
}
