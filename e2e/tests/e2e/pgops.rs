//! Operating the hub on PostgreSQL, with real processes (issue 19 parts 4-6): a hub that served
//! real nodes on its embedded store is migrated into PostgreSQL by `civreg-hub migrate`, which is
//! SIGKILLed mid-copy and run again; the copy resumes and is checked equal on both sides; then
//! `serve --store postgres://…` runs over it and the nodes sync on.

use civreg_hub::migrate;
use civreg_hub::store::backend::postgres::PostgresBackend;
use civreg_testkit::fleet::*;
use std::process::{Command, Stdio};
use std::time::Duration;

const OPS: u64 = 1200;
const MORE: u64 = 300;

fn hub_cli(hub_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .output()
        .expect("run civreg-hub")
}

fn json(out: &std::process::Output, what: &str) -> serde_json::Value {
    assert!(out.status.success(), "{}", describe(what, out));
    serde_json::from_slice(&out.stdout).expect("civreg-hub --json")
}

#[test]
fn a_sled_hub_migrated_into_postgres_resumes_after_sigkill_and_its_nodes_sync_on() {
    let db = civreg_testkit::postgres::database();
    let s = Setup::new();
    let node = &s.node;
    // A second office PC of the same municipality, which pulls what the first pushes.
    let node2 = s.second_node();

    // The hub serves the nodes on sled.
    let csv = s.path("rows.csv");
    node.import_births(&csv, "L-1", 0, OPS);
    let mut hub = s.start_hub();
    for n in [node, &node2] {
        let out = n.run(&["--json", "sync", "--once", "--hub", &hub.url()]);
        assert!(out.status.success(), "{}", describe("sync --once", &out));
    }
    assert_eq!(node.status_u64("hub_acked"), OPS);
    hub.stop();
    let digest = ["--json", "digest", "--municipality", MUNICIPALITY];
    let on_sled = json(&hub_cli(&s.hub_dir, &digest), "digest on sled");

    // While the hub runs, migrate refuses (its control socket answers, or the database is
    // locked) and says to stop it.
    let mut hub = s.start_hub();
    let out = hub_cli(&s.hub_dir, &["migrate", "--to", &db.url]);
    assert!(!out.status.success(), "{}", describe("migrate", &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stop"),
        "{}",
        describe("migrate while serving", &out)
    );
    assert!(!err.contains("then migrate: "), "said once: {err}");
    hub.stop();

    // One entry per write, so that the kill lands mid-copy; killed once some have committed.
    let log = s.path("migrate.log");
    let mut child = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(&s.hub_dir)
        .args(["migrate", "--to", &db.url, "--batch", "1"])
        .stdin(Stdio::null())
        .stdout(log_file(&log))
        .stderr(log_file(&s.path("migrate.err")))
        .spawn()
        .expect("spawn civreg-hub migrate");
    let target = PostgresBackend::open(&db.url).expect("the target");
    wait_until(
        "the migration to copy a few entries",
        Duration::from_secs(60),
        || {
            migrate::unfinished(&target)
                .ok()
                .flatten()
                .filter(|m| m.copied >= 20)
                .map(|_| ())
        },
    );
    sigkill(&mut child);
    let m = migrate::unfinished(&target)
        .expect("read the record")
        .expect("killed mid-copy: the record is there");
    assert!(m.copied < m.total, "killed mid-copy: {m:?}");
    eprintln!(
        "migrate SIGKILLed after {} of {} entries",
        m.copied, m.total
    );

    // Half a store: no hub serves it, and the message says what to do.
    let mut pg_digest = digest.to_vec();
    pg_digest.extend(["--store", db.url.as_str()]);
    let out = hub_cli(&s.hub_dir, &pg_digest);
    assert!(
        !out.status.success(),
        "{}",
        describe("digest of half a copy", &out)
    );
    // (With --json the error is a JSON object on standard output.)
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("migration") && said.contains("unfinished"),
        "{said}"
    );

    // Run again: resumed, checked, done.
    let done = json(
        &hub_cli(
            &s.hub_dir,
            &["--json", "migrate", "--to", &db.url, "--batch", "7"],
        ),
        "migrate (resumed)",
    );
    assert_eq!(done["copied"]["resumed"], true, "{done}");
    let digests = &done["copied"]["summary"]["digests"];
    assert_eq!(digests[0][0], MUNICIPALITY, "{done}");
    assert_eq!(digests[0][2], on_sled["sha256"], "{done}");
    assert!(migrate::unfinished(&target).expect("read").is_none());
    drop(target);
    // Once done, a second run is refused: the target is no longer empty.
    let out = hub_cli(&s.hub_dir, &["migrate", "--to", &db.url]);
    assert!(!out.status.success(), "{}", describe("migrate again", &out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    // The hub on PostgreSQL: the nodes sync on.
    let on_pg = json(&hub_cli(&s.hub_dir, &pg_digest), "digest on postgres");
    assert_eq!(on_pg["sha256"], on_sled["sha256"]);
    let store = ["--store", db.url.as_str()];
    let mut hub = HubProc::start_with(&s.hub_dir, &s.path("hub-pg.log"), &store);
    node.import_births(&csv, "L-1", OPS, MORE);
    for n in [node, &node2] {
        let out = n.run(&["--json", "sync", "--once", "--hub", &hub.url()]);
        assert!(
            out.status.success(),
            "{}",
            describe("sync --once on postgres", &out)
        );
    }
    assert_eq!(node.status_u64("hub_acked"), OPS + MORE);
    hub.stop();
    let after = json(&hub_cli(&s.hub_dir, &pg_digest), "digest on postgres after");
    assert_eq!(after["records"].as_u64(), Some(OPS + MORE), "{after}");
    for n in [node, &node2] {
        let d: serde_json::Value =
            serde_json::from_slice(&n.run_ok(&["--json", "digest"]).stdout).expect("json");
        assert_eq!(d["sha256"], after["sha256"], "{d} vs {after}");
    }

    // And out again, as JSON Lines, into a new embedded store: the same digest.
    let file = s.path("hub.jsonl");
    let e = json(
        &hub_cli(
            &s.hub_dir,
            &[
                "--json",
                "--store",
                &db.url,
                "export-jsonl",
                "--out",
                file.to_str().expect("utf-8"),
            ],
        ),
        "export-jsonl",
    );
    assert!(e["exported"]["entries"].as_u64() > Some(0), "{e}");
    let other = s.path("hub-from-jsonl");
    let key = civreg_hub::atrest::default_key_path(&s.hub_dir);
    let out = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(&other)
        .arg("--key-file")
        .arg(&key)
        .args([
            "--json",
            "import-jsonl",
            "--from",
            file.to_str().expect("utf-8"),
        ])
        .output()
        .expect("import-jsonl");
    json(&out, "import-jsonl");
    let out = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(&other)
        .arg("--key-file")
        .arg(&key)
        .args(digest)
        .output()
        .expect("digest");
    let back = json(&out, "digest of the imported store");
    assert_eq!(back["sha256"], after["sha256"]);
}
