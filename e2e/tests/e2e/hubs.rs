//! Nodes that know several hubs (issue 19 part 3) and the first half of the failover drill
//! (part 5), with real processes: two `civreg-hub serve` over one throwaway PostgreSQL, each
//! behind a proxy of the test kit, and three `civreg-node serve` of one municipality whose
//! bundles list both hubs (one in the other order). One office starts with a bundle of the
//! first format naming a hub that is not there and is given the list with `enrol --bundle`
//! while its `serve` runs. A link cut moves an office to its second hub, which it keeps after
//! the link returns; then one hub is SIGKILLed while the offices push through it, and they go
//! on through the other. At the end nothing acknowledged is lost, every op is stored once, and
//! both hubs (the killed one restarted) and the three offices hold the same records.
//!
//! The time from the kill until every office has synced again through the other hub is printed
//! (`drill: offices resumed ...`) and recorded in BENCHMARKS.md.

use civreg_hub::paths::StoreAt;
use civreg_hub::store::{Head, HubStore};
use civreg_testkit::fleet::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Births each office registers before the link cut, and again before the kill.
const FIRST_OPS: u64 = 200;
const SECOND_OPS: u64 = 1200;
pub(super) const PATIENCE: Duration = Duration::from_secs(120);

pub(super) fn hub_run(hub_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .output()
        .expect("run civreg-hub")
}

pub(super) fn hub_json(hub_dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = hub_run(hub_dir, args);
    assert!(out.status.success(), "{}", describe("civreg-hub", &out));
    serde_json::from_slice(&out.stdout).expect("civreg-hub --json")
}

pub(super) fn pg_store(url: &str, hub_dir: &Path) -> HubStore {
    let keys = civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(hub_dir))
        .expect("the hub's key file");
    HubStore::open_at(&StoreAt::Postgres(url.to_string()), keys).expect("open the PG store")
}

pub(super) fn pg_head(url: &str, hub_dir: &Path, node_id: &str) -> Head {
    pg_store(url, hub_dir).head(MUNICIPALITY, node_id)
}

/// `from` copied whole to `to` (`cp -a`): a bundle, or a second hub's data directory (the same
/// agency PKI, registry of certificates, hub certificate and keys, copied once the bundles it
/// must know are issued).
pub(super) fn copy_dir(from: &Path, to: &Path) {
    let cp = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .expect("cp");
    assert!(cp.status.success(), "{}", describe("cp -a", &cp));
}

/// Issues node `node_id`'s bundle into `out`, listing `hubs` in that order.
pub(super) fn issue(hub_dir: &Path, node_id: &str, out: &Path, hubs: &[&str]) {
    let mut args = vec![
        "pki",
        "issue",
        "--municipality",
        MUNICIPALITY,
        "--node-id",
        node_id,
        "--out",
        out.to_str().expect("utf-8"),
    ];
    for h in hubs {
        args.extend(["--hub-url", h]);
    }
    let o = hub_run(hub_dir, &args);
    assert!(o.status.success(), "{}", describe("pki issue", &o));
}

pub(super) struct Office {
    pub(super) id: &'static str,
    pub(super) dir: NodeDir,
    pub(super) log: PathBuf,
    pub(super) serve: Option<KillOnDrop>,
}

impl Office {
    pub(super) fn start(&mut self) {
        let serve = self.dir.spawn(
            &["serve", "--interval-secs", "1", "--http-listen", "off"],
            &self.log,
        );
        self.serve = Some(serve);
        let dir = &self.dir;
        wait_until("serve to answer on its socket", PATIENCE, || {
            let o = dir.run(&["--json", "status"]);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
            (v["serving"] == true).then_some(())
        });
    }

    pub(super) fn status(&self) -> serde_json::Value {
        self.dir.status()
    }

    /// Waits until the office has synced after `since_ms` (unix ms) through `hub`.
    pub(super) fn synced_through(&self, hub: &str, since_ms: u64, what: &str) {
        wait_until(what, PATIENCE, || {
            let st = self.status();
            (st["online"] == true
                && st["hub_url"] == hub
                && st["last_success_ms"]
                    .as_u64()
                    .is_some_and(|t| t >= since_ms))
            .then_some(())
        });
    }

    /// Waits until the hub holds the office's whole log.
    pub(super) fn all_acked(&self) -> u64 {
        wait_until(
            &format!("office {} to have its whole log acknowledged", self.id),
            PATIENCE,
            || {
                let st = self.status();
                (st["ops_waiting"] == 0).then(|| st["hub_acked"].as_u64().unwrap_or(0))
            },
        )
    }

    pub(super) fn digest(&self) -> String {
        let out = self.dir.run_ok(&["--json", "digest"]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("digest json");
        d["sha256"].as_str().expect("sha256").to_string()
    }
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

#[test]
fn hubs_two_hubs_on_postgres_one_sigkilled_offices_go_on_through_the_other() {
    let started = Instant::now();
    let db = civreg_testkit::postgres::database();
    // The dashboards on ports of their own (two hubs, and other tests, on one machine).
    let store = ["--store", db.url.as_str(), "--http-listen", "127.0.0.1:0"];
    let s = Setup::new();
    let hub_a_dir = s.hub_dir.clone();

    // Each hub behind a proxy, so that links can be cut; the offices dial hub A by the name
    // localhost and hub B by the address 127.0.0.1, and check each against the certificate.
    let proxy_a = Proxy::start(9);
    let proxy_b = Proxy::start(9);
    let url_a = proxy_a.url();
    let url_b = format!("https://127.0.0.1:{}", proxy_b.port());

    // A hub the certificate does not name is refused when bundles are made.
    let refused = hub_run(
        &hub_a_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            "9",
            "--out",
            s.path("bundle-9").to_str().expect("utf-8"),
            "--hub-url",
            &url_a,
            "--hub-url",
            "https://hub-c.civreg.rks:7443",
        ],
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("does not name hub-c.civreg.rks"),
        "{}",
        describe("pki issue with an unnamed hub", &refused)
    );
    assert!(!s.path("bundle-9").exists());

    // Office 1 is Setup's, enrolled with a first-format bundle naming one hub that is not
    // there; offices 2 and 3 start from bundles listing both hubs (office 2 in the other
    // order).
    let mut offices = Vec::new();
    for (id, hubs) in [
        ("1", [url_a.as_str(), url_b.as_str()]),
        ("2", [url_b.as_str(), url_a.as_str()]),
        ("3", [url_a.as_str(), url_b.as_str()]),
    ] {
        let bundle = s.path(&format!("bundle-{id}-both"));
        issue(&hub_a_dir, id, &bundle, &hubs);
        let dir = if id == "1" {
            NodeDir {
                data_dir: s.node.data_dir.clone(),
            }
        } else {
            let dir = NodeDir {
                data_dir: s.path(&format!("node{id}")),
            };
            dir.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8")]);
            dir.run_ok(&["clerk", "add", CLERK]);
            dir
        };
        offices.push(Office {
            id,
            dir,
            log: s.path(&format!("node{id}.log")),
            serve: None,
        });
    }
    // Hub B: a copy of hub A's data directory made once every bundle is issued: the same
    // agency PKI, registry of certificates, hub certificate (it names localhost and 127.0.0.1)
    // and keys, over the same database; its own search index and control socket. (A
    // certificate issued at hub A after the copy reaches hub B through the store:
    // `shared.rs`.)
    let hub_b_dir = s.path("hub-b");
    copy_dir(&hub_a_dir, &hub_b_dir);
    let mut hub_a = HubProc::start_with(&hub_a_dir, &s.path("hub-a.log"), &store);
    let hub_b = HubProc::start_with(&hub_b_dir, &s.path("hub-b.log"), &store);
    proxy_a.set_upstream(hub_a.port);
    proxy_b.set_upstream(hub_b.port);
    for o in offices.iter_mut() {
        o.start();
    }

    // Office 1 can reach no hub; `enrol --bundle` through its running serve gives it the list,
    // and it syncs with hub A without a restart.
    wait_until("office 1 to fail a round", PATIENCE, || {
        offices[0].status()["last_error"].is_string().then_some(())
    });
    let bundle1 = s.path("bundle-1-both");
    // A bundle whose list was tampered with is refused, and changes nothing.
    let bad = s.path("bundle-1-bad");
    copy_dir(&bundle1, &bad);
    let mut info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bad.join("bundle.json")).expect("bundle.json"))
            .expect("json");
    info["hub_urls"] = serde_json::json!([url_a, "http://hub-c.civreg.rks:7443"]);
    std::fs::write(bad.join("bundle.json"), info.to_string()).expect("write");
    let out = offices[0]
        .dir
        .run(&["enrol", "--bundle", bad.to_str().expect("utf-8")]);
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("must start with https://"),
        "{}",
        describe("enrol with a bad hub list", &out)
    );
    let out = offices[0].dir.run_ok(&[
        "--json",
        "enrol",
        "--bundle",
        bundle1.to_str().expect("utf-8"),
    ]);
    let enrolled: serde_json::Value = serde_json::from_slice(&out.stdout).expect("enrol json");
    assert_eq!(
        enrolled["enrolled"]["hub_urls"],
        serde_json::json!([url_a, url_b]),
        "{enrolled}"
    );
    assert_eq!(
        enrolled["enrolled"]["previous_hub_urls"],
        serde_json::json!(["https://localhost:9"]),
        "{enrolled}"
    );
    let t = now_ms();
    offices[0].synced_through(&url_a, t, "office 1 to sync with hub A after enrol");
    offices[2].synced_through(&url_a, 0, "office 3 to sync with hub A, its first");
    // Office 2 uses hub B, its first; the link to it is cut, so it moves on to hub A.
    offices[1].synced_through(&url_b, 0, "office 2 to sync with hub B, its first");
    let st = offices[1].status();
    assert_eq!(
        st["hub_urls"],
        serde_json::json!([url_b, url_a]),
        "status lists the hubs: {st}"
    );
    let text = offices[1].dir.run_ok(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("hub in use:") && text.contains(&url_b),
        "status names the hub in use:\n{text}"
    );

    let mut logged: Vec<u64> = vec![0; 3];
    let csv = s.path("rows.csv");
    proxy_b.cut();
    let cut_at = now_ms();
    for (i, o) in offices.iter().enumerate() {
        o.dir
            .import_births(&csv, &format!("L-{}", o.id), logged[i], FIRST_OPS);
        logged[i] += FIRST_OPS;
    }
    for o in &offices {
        o.synced_through(
            &url_a,
            cut_at,
            "every office to sync with hub A while B's link is cut",
        );
    }
    proxy_b.restore();
    // The link returns: office 2 keeps to hub A, which answers, rather than flap back.
    let restored_at = now_ms();
    for o in &offices {
        o.all_acked();
    }
    for _ in 0..2 {
        let t = now_ms();
        offices[1].synced_through(
            &url_a,
            t,
            "office 2 to go on with hub A after the link returned",
        );
    }
    assert!(now_ms() > restored_at);

    // The kill: hub A's link slowed so that pushes are under way, then SIGKILL.
    let before: Vec<u64> = offices
        .iter()
        .map(|o| pg_head(&db.url, &hub_a_dir, o.id).seq)
        .collect();
    proxy_a.set_delay(Duration::from_millis(20));
    for (i, o) in offices.iter().enumerate() {
        o.dir
            .import_births(&csv, &format!("L-{}", o.id), logged[i], SECOND_OPS);
        logged[i] += SECOND_OPS;
    }
    wait_until("hub A to commit part of the pushes", PATIENCE, || {
        offices
            .iter()
            .zip(&before)
            .any(|(o, b)| pg_head(&db.url, &hub_a_dir, o.id).seq > *b)
            .then_some(())
    });
    let mid_push = offices
        .iter()
        .zip(&logged)
        .filter(|(o, n)| o.status()["hub_acked"].as_u64().unwrap_or(0) < **n)
        .count();
    hub_a.kill();
    let killed_ms = now_ms();
    proxy_a.set_delay(Duration::ZERO);
    // Whatever an office has recorded as acknowledged (by hub A before the kill, or by hub B
    // since) is in PostgreSQL.
    for o in &offices {
        let acked = o.status()["hub_acked"].as_u64().unwrap_or(0);
        let head = pg_head(&db.url, &hub_a_dir, o.id).seq;
        assert!(
            head >= acked,
            "office {}: acknowledged #{acked}, but after the SIGKILL PostgreSQL holds only #{head}",
            o.id
        );
    }
    assert!(
        mid_push > 0,
        "no office was pushing when hub A was killed: the drill exercised nothing"
    );
    // The offices go on through hub B: each one's first round completed there after the kill
    // (its own `last_success_ms`, polled often enough to see the first).
    let mut resumed: Vec<Option<u64>> = vec![None; offices.len()];
    wait_until(
        "every office to go on through hub B after the kill",
        PATIENCE,
        || {
            for (o, r) in offices.iter().zip(resumed.iter_mut()) {
                if r.is_some() {
                    continue;
                }
                let st = o.status();
                let ok = st["hub_url"] == url_b.as_str();
                if let Some(t) = st["last_success_ms"]
                    .as_u64()
                    .filter(|t| ok && *t >= killed_ms)
                {
                    *r = Some(t - killed_ms);
                }
            }
            resumed.iter().all(Option::is_some).then_some(())
        },
    );
    let resumed: Vec<u64> = resumed.into_iter().flatten().collect();
    let resume_ms = *resumed.iter().max().expect("three offices");
    for (o, n) in offices.iter().zip(&logged) {
        assert_eq!(o.all_acked(), *n, "office {}", o.id);
    }

    // Hub A back over the same database: both hubs, and every office once it has pulled,
    // hold the same records.
    let hub_a = HubProc::start_with(&hub_a_dir, &s.path("hub-a.log"), &store);
    proxy_a.set_upstream(hub_a.port);
    // Its gRPC port is announced before its store is open; the digest is asked of the hub
    // itself, once its control socket answers (a command finding no hub there would open the
    // store named on its own command line instead).
    wait_until("hub A's control socket to answer", PATIENCE, || {
        std::os::unix::net::UnixStream::connect(civreg_hub::control::socket_path(&hub_a_dir)).ok()
    });
    let digest = ["--json", "digest", "--municipality", MUNICIPALITY];
    let at_a = hub_json(&hub_a_dir, &digest);
    assert!(
        !civreg_hub::paths::db_dir(&hub_a_dir).exists(),
        "hub A's digest was not answered by hub A over PostgreSQL"
    );
    let at_b = hub_json(&hub_b_dir, &digest);
    assert_eq!(at_a["sha256"], at_b["sha256"], "{at_a} vs {at_b}");
    let total: u64 = logged.iter().sum();
    assert_eq!(at_b["records"].as_u64(), Some(total), "{at_b}");
    let want = at_b["sha256"].as_str().expect("sha256").to_string();
    for o in &offices {
        wait_until(
            &format!("office {} to pull every office's records", o.id),
            PATIENCE,
            || (o.digest() == want).then_some(()),
        );
    }
    // Every op of every office exactly once, in chain order, as the office wrote it.
    let pg = pg_store(&db.url, &hub_a_dir);
    for o in &offices {
        let head = pg.head(MUNICIPALITY, o.id);
        let ops = pg.chain_ops(MUNICIPALITY, o.id).expect("chain");
        let mine = o.dir.export_ops();
        assert_exactly_once_of(&head, &ops, &mine, o.id);
    }
    drop(hub_b);
    eprintln!(
        "drill: offices resumed through the other hub {:.1} s after the SIGKILL (each, ms: \
         {resumed:?}); {mid_push} of 3 offices were pushing; {total} ops; whole drill {:?}",
        resume_ms as f64 / 1000.0,
        started.elapsed()
    );
}

/// [`assert_exactly_once`] for the chain of node `node_id` (the fleet's helpers name node 1).
pub(super) fn assert_exactly_once_of(
    head: &Head,
    hub_ops: &[civreg_shared::op::Op],
    node_ops: &[civreg_shared::op::Op],
    node_id: &str,
) {
    let context = format!("office {node_id}");
    assert_eq!(
        hub_ops.len() as u64,
        head.seq,
        "{context}: head and chain disagree"
    );
    assert_eq!(
        hub_ops.len(),
        node_ops.len(),
        "{context}: the office's log has {} ops but the hub holds {}",
        node_ops.len(),
        hub_ops.len()
    );
    for (i, (h, n)) in hub_ops.iter().zip(node_ops).enumerate() {
        assert_eq!(h.id.seq, i as u64 + 1, "{context}: gap or duplicate at {i}");
        assert_eq!(h, n, "{context}: op #{} differs", i + 1);
    }
}
