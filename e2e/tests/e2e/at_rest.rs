//! The hub's data at rest, through the real binaries: a hub made and run by hand under umask 022
//! (`pki init`, `serve`, a node's push, a search, stop) leaves nothing under its data directory
//! that another user can read, no personal number in any file of its index or database, and no
//! name in its database (sealed with its key file); a wrong key file is refused at start.

use civreg_testkit::fleet as faults_support;

use faults_support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const JMBG: &str = "1403968950011";
const MOTHER_JMBG: &str = "0101945955008";
const GIVEN: &str = "Vlorjana";
const SURNAME: &str = "Qerkezaj";
const MOTHER: &str = "Shpresimira";

/// Runs `civreg-hub --data-dir DIR ARGS` under umask 022, as a hub started by hand would be.
fn hub(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(hub_bin())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run civreg-hub")
}

fn hub_ok(dir: &Path, args: &[&str]) -> Output {
    let out = hub(dir, args);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("civreg-hub {args:?}"), &out)
    );
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() && !out[i].is_symlink() {
            let mut more: Vec<PathBuf> = std::fs::read_dir(&out[i])
                .expect("read dir")
                .map(|e| e.expect("dir entry").path())
                .collect();
            more.sort();
            out.extend(more);
        }
        i += 1;
    }
    out
}

fn holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A hub data dir made under umask 022 with `pki init`, served (under umask 022 too), one birth
/// with personal numbers pushed to it by a real node, searched for with `civreg-hub search`,
/// and stopped. Returns the set-up (its directory kept alive), the hub's data dir and the
/// record's number.
fn hub_after_a_push_and_a_search() -> (Setup, PathBuf, String) {
    // The hub started by `HubProc::start` inherits this process's umask.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    // The PKI, the bundle and the enrolled node with its clerk, made under that umask.
    let setup = Setup::new();
    let (dir, hub_dir, node) = (&setup.dir, setup.hub_dir.clone(), &setup.node);
    let regno = node
        .register_births(&[serde_json::json!({
            "child": {
                "given_name": GIVEN,
                "surname": SURNAME,
                "sex": "male",
                "date_of_birth": "1968-03-14",
                "personal_numbers": { "jmbg": JMBG }
            },
            "place_of_birth": "Prizren",
            "mother": {
                "given_name": MOTHER,
                "surname": SURNAME,
                "personal_numbers": { "jmbg": MOTHER_JMBG }
            }
        })])
        .remove(0);
    let mut proc = HubProc::start(&hub_dir, &dir.path().join("hub.log"));
    node.run_ok(&["sync", "--once", "--hub", &proc.url()]);
    // The indexer follows the feed on its own: wait until the search finds the record.
    let found = wait_until(
        "the hub's search to find the pushed record",
        Duration::from_secs(30),
        || {
            let out = hub_ok(&hub_dir, &["--json", "search", GIVEN, "--operator", "test"]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.contains(&regno).then_some(text)
        },
    );
    assert!(found.contains(&regno), "{found}");
    let by_number = hub_ok(&hub_dir, &["--json", "search", JMBG, "--operator", "test"]);
    assert!(
        String::from_utf8_lossy(&by_number.stdout).contains(&regno),
        "the personal number finds the record (through its blind token)"
    );
    proc.stop();
    (setup, hub_dir, regno)
}

#[test]
fn a_hub_run_by_hand_under_umask_022_leaves_nothing_readable_by_others() {
    let (_dir, hub_dir, _) = hub_after_a_push_and_a_search();
    let mut seen_db = false;
    let mut seen_index = false;
    let mut loose = Vec::new();
    for p in walk(&hub_dir) {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        if meta.file_type().is_symlink() {
            continue;
        }
        seen_db |= p.ends_with("db/db");
        seen_index |= p.ends_with("index");
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode & 0o077 != 0 || (meta.is_dir() && mode != want) {
            loose.push(format!("{:o} {}", mode, p.display()));
        }
    }
    assert!(
        seen_db && seen_index,
        "the walk saw the database and the index"
    );
    assert!(
        loose.is_empty(),
        "readable by group or others:\n{}",
        loose.join("\n")
    );
}

#[test]
fn a_pushed_record_leaves_no_personal_number_in_the_index_or_db_and_no_name_in_the_db() {
    let (_dir, hub_dir, _) = hub_after_a_push_and_a_search();
    let index = civreg_hub::search::index_dir(&hub_dir);
    let db = civreg_hub::paths::db_dir(&hub_dir);
    let (mut index_files, mut db_files) = (0, 0);
    let mut found = Vec::new();
    for (root, names) in [(&index, false), (&db, true)] {
        for p in walk(root).into_iter().filter(|p| p.is_file()) {
            if names {
                db_files += 1;
            } else {
                index_files += 1;
            }
            let mut needles = vec![JMBG, MOTHER_JMBG];
            if names {
                needles.extend([GIVEN, SURNAME, MOTHER]);
            }
            for n in needles {
                if holds(&p, n) {
                    found.push(format!("{} holds {n}", p.display()));
                }
            }
        }
    }
    assert!(index_files > 0 && db_files > 0);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_wrong_key_file_is_refused_at_start_and_a_missing_one_is_named() {
    let (setup, hub_dir, _) = hub_after_a_push_and_a_search();
    let key = civreg_hub::atrest::default_key_path(&hub_dir);
    let other = setup.dir.path().join("other.key");
    hub_ok(
        &hub_dir,
        &["keygen", "--out", other.to_str().expect("utf-8 path")],
    );
    let out = hub(
        &hub_dir,
        &[
            "--key-file",
            other.to_str().expect("utf-8 path"),
            "serve",
            "--grpc-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("sealed with another key") && err.contains("--key-file"),
        "{err}"
    );
    // A key file moved away: named, with what to do.
    let moved = setup.dir.path().join("moved.key");
    std::fs::rename(&key, &moved).expect("move the key file");
    let out = hub(&hub_dir, &["serve", "--grpc-listen", "127.0.0.1:0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("not found") && err.contains(&key.display().to_string()),
        "{err}"
    );
    // With the right key given, the record is read back.
    let out = hub_ok(
        &hub_dir,
        &[
            "--key-file",
            moved.to_str().expect("utf-8 path"),
            "--json",
            "search",
            JMBG,
            "--operator",
            "test",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(GIVEN));
}
