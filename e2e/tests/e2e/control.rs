//! `civreg-hub` commands while `civreg-hub serve` runs: `show` and `status` reach the running
//! hub through its control socket (`DATA_DIR/hub.sock`) and answer from its live store; the
//! `pki` commands work on the PKI files beside it and take effect in the running hub. Real
//! processes: a `civreg-hub serve`, `civreg-node` nodes syncing to it, the hub SIGKILLed.

use civreg_testkit::fleet as faults_support;

use faults_support::*;
use serde_json::{json, Value};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn hub_cmd(hub_dir: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .env_remove("CIVREG_HUB_DATA_DIR")
        .env_remove("CIVREG_HUB_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run civreg-hub")
}

fn hub_ok(hub_dir: &Path, args: &[&str]) -> Output {
    let out = hub_cmd(hub_dir, args);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("civreg-hub {args:?}"), &out)
    );
    out
}

fn hub_json(hub_dir: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = hub_ok(hub_dir, &a);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            describe(&format!("civreg-hub {a:?}"), &out)
        )
    })
}

fn sync_once(node: &NodeDir, url: &str) -> Output {
    node.run(&["--json", "sync", "--once", "--hub", url])
}

fn chain<'a>(status: &'a Value, node: &str) -> &'a Value {
    status["status"]["chains"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["node"] == json!(node)))
        .unwrap_or_else(|| panic!("no chain {node} in {status}"))
}

/// `civreg-hub serve`, once its control socket answers (it prints `listening on` once it
/// does). Polls for the socket file too, as a check of that order.
/// A socket left by a killed hub does not count: the new hub replaces it.
fn start_answering(s: &Setup) -> HubProc {
    let sock = s.hub_dir.join("hub.sock");
    let id = |m: &std::fs::Metadata| (m.ino(), m.ctime(), m.ctime_nsec());
    let stale = std::fs::metadata(&sock).ok().map(|m| id(&m));
    let hub = s.start_hub();
    wait_until("the hub's control socket", Duration::from_secs(30), || {
        std::fs::metadata(&sock)
            .is_ok_and(|m| m.file_type().is_socket() && Some(id(&m)) != stale)
            .then_some(())
    });
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(st["running"], json!(true), "{st}");
    hub
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        && Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

#[test]
fn show_and_status_answer_from_the_running_hub() {
    let s = Setup::new();
    let mut hub = start_answering(&s);
    let sock = s.hub_dir.join("hub.sock");
    let meta = std::fs::metadata(&sock).expect("the hub's control socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let regnos = s.node.register_births(&birth_docs(0, 2));
    let out = sync_once(&s.node, &hub.url());
    assert!(out.status.success(), "{}", describe("sync --once", &out));

    // The status file the hub rewrites every two seconds can no longer be written or read:
    // what status shows now can only come from the running hub.
    let status_file = s.hub_dir.join("status.json");
    let _ = std::fs::remove_file(&status_file);
    std::fs::create_dir(&status_file).expect("block the status file");

    let shown = hub_json(&s.hub_dir, &["show", &regnos[1]]);
    assert_eq!(shown["regno"], json!(regnos[1]), "{shown}");
    assert_eq!(
        shown["record"]["child"]["surname"],
        json!("Gashi"),
        "{shown}"
    );
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(st["running"], json!(true), "{st}");
    let c = chain(&st, "prishtine/1");
    assert_eq!(c["acked_seq"], json!(2), "{st}");
    assert!(
        c["last_seen_ms"].as_u64().is_some(),
        "the heartbeat is shown: {st}"
    );

    // A change is visible at once.
    let more = s.node.register_births(&birth_docs(2, 1));
    let out = sync_once(&s.node, &hub.url());
    assert!(out.status.success(), "{}", describe("sync --once", &out));
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(chain(&st, "prishtine/1")["acked_seq"], json!(3), "{st}");
    let text = String::from_utf8_lossy(&hub_ok(&s.hub_dir, &["status"]).stdout).into_owned();
    assert!(text.starts_with("hub running"), "{text}");
    assert!(text.contains("prishtine/1"), "{text}");
    let shown_new = hub_json(&s.hub_dir, &["show", &more[0]]);
    assert_eq!(shown_new["regno"], json!(more[0]));

    // Errors come back as the hub gives them.
    let served_errors: Vec<Output> = [
        &["show", "PRISHTINE-2026-B-000999"][..],
        &["--json", "show", "garbage"],
    ]
    .iter()
    .map(|a| hub_cmd(&s.hub_dir, a))
    .collect();
    assert!(!served_errors[0].status.success());
    assert!(
        String::from_utf8_lossy(&served_errors[0].stderr).contains("holds no record"),
        "{}",
        describe("show unknown", &served_errors[0])
    );
    let shown_text = hub_ok(&s.hub_dir, &["show", &regnos[0]]).stdout;

    // Only the hub's own user is answered: another, even one that can reach the socket, is
    // refused (needs root to act as another user).
    if as_root() {
        let mode = std::fs::metadata(&s.hub_dir)
            .expect("hub dir")
            .permissions();
        std::fs::set_permissions(&s.hub_dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(hub_bin())
            .arg("--data-dir")
            .arg(&s.hub_dir)
            .args(["show", &regnos[0]])
            .stdin(Stdio::null())
            .output()
            .expect("run civreg-hub as another user");
        let what = describe("civreg-hub show as another user", &out);
        assert!(!out.status.success(), "{what}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("only the user running `civreg-hub serve`"),
            "{what}"
        );
        std::fs::set_permissions(&s.hub_dir, mode).expect("chmod back");
    } else {
        eprintln!("not root: the check of another user's connection is skipped");
    }

    // Stopped: the socket goes and the commands open the store; same answers.
    hub.stop();
    assert!(!sock.exists(), "the hub left its socket behind");
    assert_eq!(hub_json(&s.hub_dir, &["show", &regnos[1]]), shown);
    assert_eq!(hub_ok(&s.hub_dir, &["show", &regnos[0]]).stdout, shown_text);
    for (args, served) in [
        &["show", "PRISHTINE-2026-B-000999"][..],
        &["--json", "show", "garbage"],
    ]
    .iter()
    .zip(&served_errors)
    {
        let direct = hub_cmd(&s.hub_dir, args);
        assert_eq!(
            (direct.status.code(), &direct.stdout, &direct.stderr),
            (served.status.code(), &served.stdout, &served.stderr),
            "civreg-hub {args:?}: served and direct differ"
        );
    }
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(st["running"], json!(false), "{st}");
    assert_eq!(chain(&st, "prishtine/1")["acked_seq"], json!(3), "{st}");

    // SIGKILL leaves the socket behind: commands still work, and a new hub replaces it.
    let mut hub = start_answering(&s);
    hub.kill();
    assert!(sock.exists(), "the killed hub's socket is gone");
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(st["running"], json!(false), "{st}");
    let hub = start_answering(&s);
    assert_eq!(hub_json(&s.hub_dir, &["show", &regnos[1]]), shown);
    drop(hub);
}

#[test]
fn pki_commands_take_effect_in_the_running_hub() {
    let s = Setup::new();
    let hub = s.start_hub();
    s.node.register_births(&birth_docs(0, 1));
    let out = sync_once(&s.node, &hub.url());
    assert!(out.status.success(), "{}", describe("sync --once", &out));

    // Issue while serving: the new node is let in at once.
    let bundle = s.path("bundle-istog");
    hub_ok(
        &s.hub_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            "istog",
            "--node-id",
            "1",
            "--out",
            bundle.to_str().expect("utf-8"),
            "--hub-url",
            &hub.url(),
        ],
    );
    let istog = NodeDir {
        data_dir: s.path("istog"),
    };
    istog.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8")]);
    istog.run_ok(&["clerk", "add", CLERK]);
    let out = sync_once(&istog, &hub.url());
    assert!(out.status.success(), "{}", describe("istog sync", &out));

    // Revoke while serving: the next connection of that node is refused, others go on.
    let revoked = hub_json(&s.hub_dir, &["pki", "revoke", "prishtine/1"]);
    assert_eq!(revoked["ok"], json!(true), "{revoked}");
    let out = wait_until(
        "the running hub to refuse the revoked node",
        Duration::from_secs(30),
        || {
            let out = sync_once(&s.node, &hub.url());
            (!out.status.success()).then_some(out)
        },
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("sync --once", &out)
    );
    let out = sync_once(&istog, &hub.url());
    assert!(out.status.success(), "{}", describe("istog sync", &out));

    let list = hub_json(&s.hub_dir, &["pki", "list"]);
    let status_of = |identity: &str| {
        list.as_array()
            .and_then(|l| {
                l.iter().find(|e| {
                    e["identity"]
                        .as_str()
                        .is_some_and(|i| i.ends_with(identity))
                })
            })
            .map(|e| e["status"].clone())
            .unwrap_or_else(|| panic!("{identity} not listed: {list}"))
    };
    assert_eq!(status_of("prishtine/1"), json!("revoked"), "{list}");
    assert_eq!(status_of("istog/1"), json!("active"), "{list}");
    // The hub ran through all of it, and answers.
    let st = hub_json(&s.hub_dir, &["status"]);
    assert_eq!(st["running"], json!(true), "{st}");
    assert_eq!(chain(&st, "istog/1")["acked_seq"], json!(0), "{st}");
}

/// Issue 13, finding 12: an answer of the running hub larger than one control frame (1 MiB)
/// arrives whole: an import of 12,050 rows (50 good, 12,000 rejected) through `civreg-hub
/// serve` writes its full report and exits 1 (rows rejected), as `civreg-node import` does.
#[test]
fn a_large_import_through_the_running_hub_writes_its_report_and_exit_code() {
    let s = Setup::new();
    let _hub = start_answering(&s);
    // 50 valid rows from the generator, then 12,000 that fail validation (born in 2999).
    let gen = s.dir.path().join("synth");
    hub_ok(
        &s.dir.path().join("scratch"),
        &[
            "synth",
            "--records",
            "50",
            "--seed",
            "7",
            "--out",
            gen.to_str().unwrap(),
        ],
    );
    let csv = std::fs::read_to_string(gen.join("records.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap().to_string();
    let cols: Vec<&str> = header.split(',').collect();
    let col = |name: &str| cols.iter().position(|h| *h == name).unwrap();
    let mut rows: Vec<String> = lines
        .map(|l| {
            // The import names the municipality: the generated one is left out.
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes());
            let rec = rdr.records().next().unwrap().unwrap();
            let mut w = csv::Writer::from_writer(Vec::new());
            let m = col("municipality");
            w.write_record(
                rec.iter()
                    .enumerate()
                    .map(|(i, c)| if i == m { "" } else { c }),
            )
            .unwrap();
            String::from_utf8(w.into_inner().unwrap())
                .unwrap()
                .trim_end()
                .to_string()
        })
        .collect();
    let good = rows.len();
    let mut bad = vec![String::new(); cols.len()];
    bad[0] = "birth".into();
    for (c, v) in [
        ("child.given_name", "Arben"),
        ("child.surname", "Gashi"),
        ("child.sex", "male"),
        ("child.date_of_birth", "2999-01-01"),
        ("place_of_birth", "Prizren"),
        ("mother.given_name", "Drita"),
        ("mother.surname", "Gashi"),
    ] {
        bad[col(c)] = v.into();
    }
    let bad = bad.join(",");
    rows.extend(std::iter::repeat_n(bad, 12_000));
    let file = s.dir.path().join("pages.csv");
    std::fs::write(&file, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let report = s.dir.path().join("report.jsonl");
    let out = hub_cmd(
        &s.hub_dir,
        &[
            "--json",
            "import",
            file.to_str().unwrap(),
            "--municipality",
            "istog",
            "--operator",
            "drita",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let what = describe("civreg-hub import", &out);
    assert_eq!(out.status.code(), Some(1), "rows were rejected: {what}");
    assert!(!what.contains("closed the connection"), "{what}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON answer");
    assert!(v["imported"].is_array(), "{what}");
    assert_eq!(v["imported"].as_array().unwrap().len(), good);
    assert_eq!(v["rejected"].as_array().unwrap().len(), 12_000);
    assert!(
        out.stdout.len() > civreg_shared::control::MAX_HEADER,
        "the answer ({} bytes) should be larger than one control frame",
        out.stdout.len()
    );
    let lines = std::fs::read_to_string(&report).expect("the report is written");
    assert_eq!(lines.lines().count(), good + 12_000);
}

/// Issue 18: the hub's control socket speaks as the node's. `Started` comes once the request
/// is taken (from then on it runs exactly once), and a request in flight when `serve` is asked
/// to stop finishes and is answered, instead of being cut off.
#[test]
fn a_request_in_flight_when_the_hub_stops_is_started_finished_and_answered() {
    use civreg_shared::control::{read_frame, write_frame, Frame, ReplyReader, PROTOCOL};
    let s = Setup::new();
    let mut hub = start_answering(&s);
    let gen = s.dir.path().join("synth");
    hub_ok(
        &s.dir.path().join("scratch"),
        &[
            "synth",
            "--records",
            "3000",
            "--seed",
            "18",
            "--out",
            gen.to_str().unwrap(),
        ],
    );
    let csv = std::fs::read_to_string(gen.join("records.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let m = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "municipality")
        .unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(rdr.headers().unwrap()).unwrap();
    let mut rows = 0;
    for rec in rdr.records() {
        // The import names the municipality: the generated one is left out.
        let rec = rec.unwrap();
        w.write_record(
            rec.iter()
                .enumerate()
                .map(|(i, c)| if i == m { "" } else { c }),
        )
        .unwrap();
        rows += 1;
    }
    let file = s.dir.path().join("pages.csv");
    std::fs::write(&file, w.into_inner().unwrap()).unwrap();

    let sock = std::os::unix::net::UnixStream::connect(s.hub_dir.join("hub.sock")).unwrap();
    let mut writer = sock.try_clone().unwrap();
    let body = json!({"import": {"path": file, "municipality": "istog", "operator": "drita"}});
    write_frame(&mut writer, &Frame::Request { v: PROTOCOL, body }, &[]).unwrap();
    let mut reader = std::io::BufReader::new(sock);
    let mut next = move || read_frame(&mut reader).expect("a frame");
    let first = next().expect("an answer");
    assert_eq!(first.0, Frame::Started, "the hub takes the request first");
    // The import reports its progress as it starts: it is under way.
    let (progress, text) = next().expect("progress");
    assert!(
        matches!(progress, Frame::Stderr { .. }),
        "{progress:?} {text:?}"
    );
    // The rest is read on its own thread, so the hub never waits on this test to stop.
    let rest = std::thread::spawn(move || {
        let mut parts = ReplyReader::default();
        loop {
            match next() {
                Some((Frame::Stderr { .. }, _)) => {}
                Some((Frame::ReplyPart { .. }, p)) => parts.part(&p).unwrap(),
                Some((Frame::ReplyEnd, _)) => {
                    break (std::time::Instant::now(), parts.finish().unwrap())
                }
                Some((Frame::Reply { body }, _)) => break (std::time::Instant::now(), body),
                other => panic!("the import was cut off: {other:?}"),
            }
        }
    });
    let asked_to_stop = std::time::Instant::now();
    hub.stop();
    assert!(!hub.alive(), "the hub stopped");
    let (answered, reply) = rest.join().expect("the whole answer");
    assert!(
        answered > asked_to_stop,
        "the import was still running when the hub was asked to stop"
    );
    assert_eq!(
        reply["imported"].as_array().map(Vec::len),
        Some(rows),
        "every row imported"
    );
    assert!(
        !s.hub_dir.join("hub.sock").exists(),
        "the socket is removed"
    );
}
