//! Key rotation of an office node (issue 17), through the real binary: a node with a few
//! thousand records (imported and registered) and ops of another office pulled from a real
//! hub; `rotate-key` refused while `serve` runs; `rotate-key` killed with SIGKILL half-way
//! through the import keys, `--resume` killed again among the records; every command refused
//! with a message to resume; `rotate-key --resume`; then `verify` passes, every record and op
//! reads back as before, search finds, `sync` pushes and pulls, a rerun of the import imports
//! nothing twice, and the old key file no longer opens the database.

use civreg_testkit::fleet::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

const ROWS: u64 = 3000;

/// The records and ops of `export`, as lines.
fn exported(node: &NodeDir) -> Vec<String> {
    let out = node.run_ok(&["export"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("export line is JSON");
            v["type"] == "record" || v["type"] == "op"
        })
        .map(str::to_string)
        .collect()
}

fn distinct_birth(given: &str, surname: &str) -> serde_json::Value {
    serde_json::json!({
        "child": {"given_name": given, "surname": surname, "sex": "female", "date_of_birth": "2021-05-06"},
        "place_of_birth": "Prishtinë",
        "mother": {"given_name": "Drita", "surname": surname}
    })
}

/// Runs `args` and SIGKILLs it at the `nth` progress line that names `marker`.
fn kill_at(node: &NodeDir, args: &[&str], marker: &str, nth: u64) {
    let mut child = node
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rotate-key");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let mut hits = 0;
    while hits < nth {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{args:?} ended before {marker} #{nth}: {seen:#?}"))
            .expect("read rotate-key's progress");
        hits += u64::from(line.contains(marker));
        seen.push(line);
    }
    child.kill().expect("SIGKILL rotate-key");
    let status = child.wait().expect("wait rotate-key");
    assert!(!status.success(), "{args:?} was killed: {status:?}");
}

#[test]
fn a_key_rotation_killed_midway_resumes_and_leaves_everything_readable() {
    let setup = Setup::new();
    let node = &setup.node;
    let csv = setup.path("births.csv");
    node.import_births(&csv, "L-7", 0, ROWS);
    let mine = node.register_births(&[distinct_birth("Vlorjana", "Qerkezaj")])[0].clone();

    // A second office of the municipality, whose record the first one pulls from the hub.
    let other = setup.second_node();
    let theirs = other.register_births(&[distinct_birth("Shpresimira", "Berishaj")])[0].clone();

    let mut hub = setup.start_hub();
    let url = hub.url();
    other.run_ok(&["sync", "--once", "--hub", &url]);
    node.run_ok(&["sync", "--once", "--hub", &url]);
    node.run_ok(&["show", &theirs]);
    let before = exported(node);
    assert!(before.len() > 2 * ROWS as usize, "{} lines", before.len());

    // While `serve` runs, the rotation is refused and writes nothing.
    let new_key = setup.path("new.key");
    {
        let _serve = node.spawn(
            &["serve", "--interval-secs", "3600", "--http-listen", "off"],
            &setup.path("serve.log"),
        );
        let sock = node.data_dir.join("node.sock");
        wait_until("serve's control socket", Duration::from_secs(30), || {
            std::os::unix::net::UnixStream::connect(&sock).ok()
        });
        let refused = node.run(&[
            "rotate-key",
            "--new-key-file",
            new_key.to_str().expect("utf-8"),
        ]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("serve` is running"),
            "{}",
            describe("rotate-key while serve runs", &refused)
        );
        assert!(!new_key.exists());
    }

    // The rotation, in small batches, killed half-way through the import keys; resumed and
    // killed again once it is re-encrypting the records.
    let new_key_arg = new_key.to_str().expect("utf-8");
    kill_at(
        node,
        &["rotate-key", "--new-key-file", new_key_arg, "--batch", "20"],
        "(now: imports)",
        ROWS / 20 / 2,
    );
    kill_at(
        node,
        &["rotate-key", "--resume", "--batch", "20"],
        "(now: records)",
        1,
    );
    assert!(new_key.exists(), "the new key file is kept until the end");

    // Mid-rotation: refused with what to do, never a wrong answer.
    let refused = node.run(&["verify"]);
    assert!(
        !refused.status.success(),
        "{}",
        describe("verify", &refused)
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("rotate-key --resume"),
        "{}",
        describe("verify", &refused)
    );
    let again = node.run(&[
        "rotate-key",
        "--new-key-file",
        setup.path("third.key").to_str().expect("utf-8"),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in progress"));

    let out = node.run_ok(&["--json", "rotate-key", "--resume", "--batch", "50"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("rotate-key --json report");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["rotation"]["unmatched_imports"], 0, "{report}");
    let old_key = std::path::PathBuf::from(
        report["rotation"]["old_key_file"]
            .as_str()
            .expect("old key file"),
    );
    assert!(old_key.exists(), "{report}");
    assert!(!new_key.exists(), "the new key became the node's key file");

    node.assert_verifies("after the rotation");
    assert_eq!(exported(node), before, "every record and op reads back");
    let found = node.run_ok(&["--json", "search", "Qerkezaj"]);
    assert!(
        String::from_utf8_lossy(&found.stdout).contains(&mine),
        "{}",
        describe("search", &found)
    );
    node.run_ok(&["show", &theirs]);
    // The import keys were derived under the new key: the file imports nothing twice.
    let rerun = node.run(&["--json", "import", csv.to_str().expect("utf-8")]);
    let rep: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("import report");
    assert_eq!(
        rep["skipped"].as_array().map(Vec::len),
        Some(ROWS as usize),
        "{}",
        describe("import again", &rerun)
    );
    assert_eq!(rep["accepted"].as_array().map(Vec::len), Some(0));

    // Sync goes on: a new record of each office crosses the hub.
    let mine2 = node.register_births(&[distinct_birth("Ardita", "Qerkezaj")])[0].clone();
    let theirs2 = other.register_births(&[distinct_birth("Mimoza", "Berishaj")])[0].clone();
    other.run_ok(&["sync", "--once", "--hub", &url]);
    node.run_ok(&["sync", "--once", "--hub", &url]);
    node.run_ok(&["show", &theirs2]);
    other.run_ok(&["sync", "--once", "--hub", &url]);
    other.run_ok(&["show", &mine2]);
    hub.stop();
    let (head, hub_ops) = hub_chain(&setup.hub_dir);
    assert_exactly_once(&head, &hub_ops, &node.export_ops(), "after the rotation");

    // The old key opens nothing any more.
    let old = node.run(&["--key-file", old_key.to_str().expect("utf-8"), "verify"]);
    assert!(!old.status.success());
    assert!(
        String::from_utf8_lossy(&old.stderr).contains("does not belong"),
        "{}",
        describe("verify with the old key", &old)
    );
}
