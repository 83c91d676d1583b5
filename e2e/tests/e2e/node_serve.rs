//! Commands while `civreg-node serve` runs: they reach the running node through its control
//! socket (`DATA_DIR/node.sock`) and give exactly what they give when they open the database
//! themselves. Real processes throughout: `civreg-node serve` against a real `civreg-hub serve`
//! (a throwaway PKI made with `civreg-hub pki`), against a hub link that hangs, and killed with
//! SIGKILL.
//!
//! While `serve` runs it holds the database, so a command that tried to open it itself would
//! fail ("in use") after `Node::LOCK_WAIT`: every command that succeeds here went through the
//! socket. The comparisons run the same command on a twin node (same municipality and node
//! id, so the same registration numbers) that nothing serves, or on the same node after
//! `serve` has stopped.

use civreg_testkit::node::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous: only a hung or refused command would take this long.
const PATIENCE: Duration = Duration::from_secs(60);

fn hub_bin() -> PathBuf {
    civreg_testkit::bins::hub_bin()
}

fn hub(hub_dir: &Path, args: &[&str]) -> Output {
    let o = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .env_remove("CIVREG_HUB_DATA_DIR")
        .env_remove("CIVREG_HUB_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run civreg-hub");
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A node enrolled (through a real bundle of a throwaway agency PKI) as prishtine/1, with the
/// clerk of [`TestNode`], and the hub data dir that issued it.
fn enrolled_node() -> (TestNode, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub_dir = dir.path().join("hub");
    let bundle = dir.path().join("bundle");
    hub(&hub_dir, &["pki", "init"]).ok();
    hub(
        &hub_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            "prishtine",
            "--node-id",
            "1",
            "--out",
            bundle.to_str().expect("utf-8"),
            // Every serve here is given --hub.
            "--hub-url",
            "https://localhost:9",
        ],
    )
    .ok();
    let node = TestNode {
        data_dir: dir.path().join("data"),
        dir,
        municipality: "prishtine".into(),
    };
    node.run(&["init", "--bundle", bundle.to_str().expect("utf-8")])
        .ok();
    node.run(&["clerk", "add", CLERK]).ok();
    (node, hub_dir)
}

/// A child process, SIGKILLed if the test ends without stopping it.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "could not send SIG{sig} to {}", self.child.id());
    }

    /// Waits for the process to exit; its exit code.
    fn wait(&mut self, what: &str) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still running after {PATIENCE:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        self.signal("KILL");
        self.wait("SIGKILLed process");
    }

    /// SIGTERM, as an operator (or systemd) stops it; its exit code.
    fn stop(&mut self) -> i32 {
        self.signal("TERM");
        self.wait("process stopped with SIGTERM")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("log file")
}

/// `civreg-hub serve` on 127.0.0.1:(ephemeral); its URL.
fn start_hub(hub_dir: &Path) -> (Proc, String) {
    let log = hub_dir.with_extension("log");
    let mut child = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(["serve", "--grpc-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file(&log))
        .spawn()
        .expect("spawn civreg-hub serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .strip_prefix("listening on ")
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
        }
    });
    let proc = Proc { child, log };
    let port = rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("the hub did not listen\n{}", proc.log()));
    (proc, format!("https://localhost:{port}"))
}

fn socket(node: &TestNode) -> PathBuf {
    node.data_dir.join("node.sock")
}

/// `civreg-node serve --hub URL`, once its control socket answers.
fn start_serve(node: &TestNode, hub_url: &str) -> Proc {
    let log = node.dir.path().join("serve.log");
    let child = node
        .command(&["serve", "--hub", hub_url, "--interval-secs", "1"])
        .env("RUST_LOG", "info")
        .stdout(log_file(&log))
        .stderr(log_file(&log))
        .spawn()
        .expect("spawn civreg-node serve");
    let mut proc = Proc { child, log };
    wait_for("serve to answer on its socket", PATIENCE, || {
        if let Some(st) = proc.child.try_wait().expect("try_wait") {
            panic!("serve exited ({st}) before answering\n{}", proc.log());
        }
        let o = node.run(&["--json", "status"]);
        (o.code == 0 && o.json()["serving"] == json!(true)).then_some(())
    });
    proc
}

/// Runs the same command on both nodes and asserts identical exit code, stdout and stderr.
fn same(served: &TestNode, direct: &TestNode, args: &[&str]) -> Output {
    same_with(served, direct, args, |c| c)
}

fn same_with(
    served: &TestNode,
    direct: &TestNode,
    args: &[&str],
    f: impl Fn(&mut Command) -> &mut Command,
) -> Output {
    let mut a = served.command(args);
    f(&mut a);
    let a = run_command(a);
    let mut b = direct.command(args);
    f(&mut b);
    let b = run_command(b);
    assert_eq!(
        (a.code, &a.stdout, &a.stderr),
        (b.code, &b.stdout, &b.stderr),
        "civreg-node {args:?}: through serve (left) and directly (right) differ"
    );
    a
}

fn same_stdin(served: &TestNode, direct: &TestNode, args: &[&str], input: &[u8]) -> Output {
    let a = served.run_stdin(args, input);
    let b = direct.run_stdin(args, input);
    assert_eq!(
        (a.code, &a.stdout, &a.stderr),
        (b.code, &b.stdout, &b.stderr),
        "civreg-node {args:?} with input: through serve (left) and directly (right) differ"
    );
    a
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn every_command_runs_inside_serve_with_the_output_it_has_directly() {
    let (node, hub_dir) = enrolled_node();
    let twin = TestNode::new();
    let (hub_proc, hub_url) = start_hub(&hub_dir);
    let mut serve = start_serve(&node, &hub_url);

    // Registration from files and from a stream, warnings, refusals and exit codes.
    let birth_file = example("birth.json");
    let out = same(
        &node,
        &twin,
        &["register", "birth", "--file", path_str(&birth_file)],
    )
    .ok();
    assert_eq!(out.stdout.trim(), "saved PRISHTINE-2026-B-000001");
    same(
        &node,
        &twin,
        &[
            "--json",
            "register",
            "death",
            "--file",
            path_str(&example("death.json")),
        ],
    )
    .ok();
    let good = birth("Arben", "Gashi", "1968-03-14");
    let mut bad = birth("Besnik", "Gashi", "1970-05-01");
    bad["child"]["personal_numbers"] =
        json!({"jmbg": break_check_digit(&jmbg("1970-05-01", 91, 1))});
    let stream = format!("{good}\n{bad}\n{}", birth("Dardan", "Gashi", "1971-06-02"));
    for json_flag in [true, false] {
        let mut args = vec!["register", "birth", "--file", "-"];
        if json_flag {
            args.insert(0, "--json");
        }
        let o = same_stdin(&node, &twin, &args, stream.as_bytes());
        assert_eq!(o.code, 1, "a refused document makes the exit code 1: {o:?}");
        assert!(o.all().contains("jmbg"), "names the field: {o:?}");
    }
    let o = same_stdin(
        &node,
        &twin,
        &["register", "birth", "--file", "-"],
        b"{ not json",
    );
    assert_ne!(o.code, 0);
    let o = same(
        &node,
        &twin,
        &["register", "birth", "--file", "no-such-file.json"],
    );
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("no-such-file.json"), "{}", o.stderr);
    // Credentials are the client's: wrong ones are refused, missing ones asked for.
    let o = same_with(
        &node,
        &twin,
        &["register", "birth", "--file", path_str(&birth_file)],
        |c| c.env("CIVREG_CLERK_PASSWORD", "wrong-password"),
    );
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("wrong password"), "{}", o.stderr);
    let args = ["register", "birth", "--file", path_str(&birth_file)];
    let a = run_command({
        let mut c = node.command_without_terminal(&args);
        c.env_remove("CIVREG_CLERK")
            .env_remove("CIVREG_CLERK_PASSWORD");
        c
    });
    let b = run_command({
        let mut c = twin.command_without_terminal(&args);
        c.env_remove("CIVREG_CLERK")
            .env_remove("CIVREG_CLERK_PASSWORD");
        c
    });
    assert_eq!((a.code, &a.stderr), (b.code, &b.stderr));
    assert!(a.stderr.contains("set CIVREG_CLERK"), "{}", a.stderr);
    // In the clerk's language through serve as directly: the client's language goes with the
    // command (and with the question it could not answer); `--json` stays English.
    let cyrillic = |s: &str| s.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    let bad_file = node.dir.path().join("bad-birth.json");
    std::fs::write(&bad_file, bad.to_string()).expect("write the document");
    let bad_args = ["register", "birth", "--file", path_str(&bad_file)];
    let o = same_with(&node, &twin, &bad_args, |c| c.env("CIVREG_LANG", "sr-Cyrl"));
    assert_eq!(o.code, 1, "{o:?}");
    let sentence = civreg_shared::i18n::Catalog::get()
        .validation(civreg_shared::i18n::Lang::SrCyrl, "jmbg.checksum");
    assert!(o.stderr.contains(&sentence), "{}", o.stderr);
    let o = same_with(&node, &twin, &bad_args, |c| {
        c.env("CIVREG_LANG", "sr-Cyrl").arg("--json")
    });
    assert!(
        !cyrillic(&o.stdout) && o.stdout.contains("jmbg.checksum"),
        "{o:?}"
    );
    let [a, b] = [&node, &twin].map(|n| {
        let mut c = n.command_without_terminal(&args);
        c.env_remove("CIVREG_CLERK")
            .env_remove("CIVREG_CLERK_PASSWORD")
            .env("CIVREG_LANG", "sr-Cyrl");
        run_command(c)
    });
    assert_eq!((a.code, &a.stderr), (b.code, &b.stderr));
    assert!(
        a.stderr.contains("CIVREG_CLERK") && cyrillic(&a.stderr),
        "{}",
        a.stderr
    );

    // Amendments, voids, clerks.
    let b1 = "PRISHTINE-2026-B-000001";
    let amend = example("amend-birth.json");
    same(
        &node,
        &twin,
        &[
            "amend",
            b1,
            "--file",
            path_str(&amend),
            "--reason",
            "typo in the register",
        ],
    )
    .ok();
    let o = same(
        &node,
        &twin,
        &[
            "--json",
            "amend",
            b1,
            "--file",
            path_str(&amend),
            "--reason",
            "again",
        ],
    );
    assert_eq!(o.code, 1, "nothing to change: {o:?}");
    same(
        &node,
        &twin,
        &[
            "void",
            "PRISHTINE-2026-D-000001",
            "--reason",
            "registered twice",
        ],
    )
    .ok();
    same_with(&node, &twin, &["clerk", "add", "besa"], |c| {
        c.env("CIVREG_NEW_CLERK_PASSWORD", "besa-password")
    })
    .ok();
    same(&node, &twin, &["--json", "clerk", "list"]).ok();

    // Import and export with paths relative to the command's working directory (serve's is
    // elsewhere), the report included.
    for n in [&node, &twin] {
        std::fs::copy(example("import-sample.csv"), n.dir.path().join("pages.csv"))
            .expect("copy the sample");
    }
    let in_dir = |n: &TestNode, args: &[&str]| {
        let mut c = n.command(args);
        c.current_dir(n.dir.path());
        run_command(c)
    };
    let args = ["import", "pages.csv", "--report", "report.json"];
    let (a, b) = (in_dir(&node, &args), in_dir(&twin, &args));
    assert_eq!(
        (a.code, &a.stdout, &a.stderr),
        (b.code, &b.stdout, &b.stderr)
    );
    assert_eq!(a.code, 1, "the sample has rejected rows: {a:?}");
    let report = |n: &TestNode| -> Value {
        serde_json::from_slice(&std::fs::read(n.dir.path().join("report.json")).expect("report"))
            .expect("report is JSON")
    };
    assert_eq!(report(&node), report(&twin));
    let args = ["export", "--out", "all.jsonl"];
    let (a, b) = (in_dir(&node, &args), in_dir(&twin, &args));
    assert_eq!(
        (a.code, &a.stdout, &a.stderr),
        (b.code, &b.stdout, &b.stderr)
    );
    assert!(a.stdout.starts_with("exported "), "{a:?}");
    assert!(node.dir.path().join("all.jsonl").is_file());

    // Reads: errors and exit codes are the same as directly.
    for args in [
        &["show", "garbage"][..],
        &["--json", "show", "PRISHTINE-2026-B-000999"],
        &["search"],
        &["search", "Gashi", "--municipality", "atlantis"],
        &["sync"],
    ] {
        let o = same(&node, &twin, args);
        assert_ne!(o.code, 0, "{args:?}");
    }

    // Reads while serving, kept to compare with the same node once serve has stopped.
    let reads: Vec<Vec<&str>> = vec![
        vec!["show", b1],
        vec!["--json", "show", b1, "--history"],
        vec!["search", "Gashi"],
        vec!["--json", "search", "Arben", "--born", "1960..1970"],
        vec!["verify"],
        vec!["--json", "verify"],
        vec!["export"],
        vec!["clerk", "list"],
    ];
    let served: Vec<Output> = reads.iter().map(|a| node.run(a).ok()).collect();
    let exported = served[6].json_lines();
    assert!(
        exported.iter().filter(|l| l["type"] == "record").count() >= 5,
        "{exported:?}"
    );

    // Sync: the worker reaches the hub; `sync --once` and `status` work too.
    let st = wait_for("the worker to push everything", PATIENCE, || {
        let v = node.json(&["status"]).1;
        (v["status"]["online"] == json!(true) && v["status"]["ops_waiting"] == json!(0))
            .then_some(v)
    });
    assert_eq!(st["serving"], json!(true), "{st}");
    assert_eq!(st["counts_live"], json!(true), "{st}");
    assert_eq!(st["status"]["hub_url"], json!(hub_url), "{st}");
    let text = node.run(&["status"]).ok();
    assert!(
        text.stdout.contains("online (serve running)"),
        "{}",
        text.stdout
    );
    let (code, synced) = node.json(&["sync", "--once", "--hub", &hub_url]);
    assert_eq!(code, 0, "{synced}");
    assert_eq!(synced["ok"], json!(true), "{synced}");
    let at_hub = hub(&hub_dir, &["--json", "show", b1]).ok().json();
    assert_eq!(at_hub["regno"], json!(b1), "{at_hub}");

    // Stopped: the socket goes, commands open the database, and answer as they did.
    assert_eq!(serve.stop(), 0, "{}", serve.log());
    assert!(!socket(&node).exists(), "serve left its socket behind");
    for (args, before) in reads.iter().zip(&served) {
        let after = node.run(args).ok();
        assert_eq!(
            (&after.stdout, &after.stderr),
            (&before.stdout, &before.stderr),
            "civreg-node {args:?}: inside serve and directly differ"
        );
    }
    let (_, st) = node.json(&["status"]);
    assert_eq!(st["serving"], json!(false), "{st}");
    assert_eq!(st["worker_seen"], json!(true), "{st}");
    drop(hub_proc);
}

/// Runs `c` with `input` on standard input; fails the test if it has not finished within
/// [`PATIENCE`].
fn finishes(mut c: Command, input: &[u8], what: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn civreg-node");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut pipes = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let readers = std::thread::spawn(move || {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = pipes.0.read_to_string(&mut out);
        let _ = pipes.1.read_to_string(&mut err);
        (out, err)
    });
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: not finished after {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = readers.join().expect("output readers");
    Output {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// Accepts TCP connections and never answers: a hub whose link hangs.
struct HangingHub {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl HangingHub {
    fn start() -> HangingHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().map_while(Result::ok) {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        HangingHub { port, accepted }
    }
}

#[test]
fn registration_completes_while_the_hub_link_hangs() {
    let (node, _hub_dir) = enrolled_node();
    let hanging = HangingHub::start();
    let mut serve = start_serve(&node, &format!("https://localhost:{}", hanging.port));
    wait_for("the worker's round to connect", PATIENCE, || {
        (hanging.accepted.load(Ordering::SeqCst) > 0).then_some(())
    });

    // The round is stuck in its TLS handshake; clerks are not.
    let doc = birth("Arben", "Gashi", "1968-03-14").to_string();
    let o = finishes(
        node.command(&["register", "birth", "--file", "-"]),
        doc.as_bytes(),
        "a registration while the hub link hangs",
    )
    .ok();
    assert_eq!(o.stdout, "saved PRISHTINE-2026-B-000001\n");
    let regno = "PRISHTINE-2026-B-000001".to_string();
    let o = finishes(node.command(&["show", &regno]), b"", "show").ok();
    assert!(o.stdout.contains("Arben"), "{}", o.stdout);
    assert_eq!(node.search(&["Gashi"]), vec![regno.clone()]);
    let (code, v) = node.verify();
    assert_eq!((code, &v["ok"]), (0, &json!(true)), "{v}");

    // A document at a time: each is saved and reported before the next is written.
    let mut c = node.command(&["--json", "register", "birth", "--file", "-"]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn register");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    for (i, name) in ["Besa", "Dardan"].iter().enumerate() {
        writeln!(stdin, "{}", birth(name, "Krasniqi", "1990-01-02")).expect("write");
        stdin.flush().expect("flush");
        // Input stays open: the answer must come for this document alone.
        let line = lines
            .recv_timeout(PATIENCE)
            .expect("each document is reported as soon as it is saved");
        let v: Value = serde_json::from_str(&line).expect("a result line");
        assert_eq!(
            v["regno"],
            json!(format!("PRISHTINE-2026-B-00000{}", i + 2)),
            "{line}"
        );
    }
    drop(stdin);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert!(child.wait().expect("wait").success(), "{stderr}");
    assert!(
        lines.recv_timeout(Duration::from_millis(100)).is_err(),
        "one line per document"
    );

    // SIGTERM stops serve even in the middle of a hanging round.
    assert_eq!(serve.stop(), 0, "{}", serve.log());
    assert!(!socket(&node).exists());
    assert_eq!(node.records().len(), 3);
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
fn the_socket_is_private_and_a_killed_serve_leaves_nothing_in_the_way() {
    let (node, _hub_dir) = enrolled_node();
    // Nothing listens on port 9 of localhost: the worker backs off and retries.
    let unreachable = "https://localhost:9";
    let mut serve = start_serve(&node, unreachable);
    let meta = std::fs::metadata(socket(&node)).expect("the socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let first = node.register("birth", &birth("Arben", "Gashi", "1968-03-14"));

    // A second serve for the same data dir is refused at once, and the first goes on.
    let o = node.run(&["serve", "--hub", unreachable]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("already running"), "{}", o.stderr);
    assert!(socket(&node).exists());
    node.run(&["show", &first]).ok();

    // A request is bounded (1 MiB), and the refusal says so.
    let long = "Gashi".repeat(20_000);
    let words: Vec<&str> = std::iter::repeat_n(long.as_str(), 12).collect();
    let mut args = vec!["search"];
    args.extend(words);
    let o = node.run(&args);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("too large"), "{}", o.stderr);

    // Only serve's own user is served: another, even one that can reach the socket, is
    // refused (needs root to act as another user).
    if as_root() {
        let dir_mode = std::fs::metadata(&node.data_dir)
            .expect("data dir")
            .permissions();
        std::fs::set_permissions(&node.data_dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::fs::set_permissions(socket(&node), std::fs::Permissions::from_mode(0o666))
            .expect("chmod");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin())
            .arg("--data-dir")
            .arg(&node.data_dir)
            .args(["show", &first])
            .env("CIVREG_LANG", "en")
            .stdin(Stdio::null());
        let o = run_command(c);
        assert_eq!(o.code, 1, "{o:?}");
        assert!(
            o.stderr
                .contains("only the user running `civreg-node serve`"),
            "{o:?}"
        );
        assert!(!o.all().contains("Arben"), "{o:?}");
        assert!(
            serve
                .log()
                .contains("refused a connection from another user"),
            "{}",
            serve.log()
        );
        std::fs::set_permissions(&node.data_dir, dir_mode).expect("chmod back");
    } else {
        eprintln!("not root: the check of another user's connection is skipped");
    }

    // SIGKILL leaves the socket file behind; commands see that nothing answers and open the
    // database themselves.
    serve.kill9();
    assert!(socket(&node).exists(), "the killed serve's socket is gone");
    let second = node.register("birth", &birth("Besa", "Gashi", "1969-04-15"));
    let o = node.run(&["--json", "show", &first]).ok();
    assert_eq!(o.json()["regno"], json!(first));
    let (_, st) = node.json(&["status"]);
    assert_eq!(st["serving"], json!(false), "{st}");

    // A new serve replaces the stale socket and takes the commands again.
    let mut serve = start_serve(&node, unreachable);
    let meta = std::fs::metadata(socket(&node)).expect("the socket exists");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let third = node.register("birth", &birth("Dardan", "Gashi", "1970-05-16"));
    assert_eq!(regno_seq(&third), 3);
    wait_for("the new worker's first round", PATIENCE, || {
        let o = node.run(&["status"]).ok();
        (!o.stdout.contains("first round")).then_some(())
    });
    let (_, st) = node.json(&["status"]);
    assert_eq!(st["status"]["online"], json!(false), "{st}");
    assert!(
        st["status"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be reached")),
        "{st}"
    );
    assert_eq!(st["status"]["ops_waiting"], json!(3), "{st}");
    assert_eq!(serve.stop(), 0, "{}", serve.log());
    let recs = node.records();
    assert_eq!(
        recs.keys().cloned().collect::<Vec<_>>(),
        vec![first, second, third]
    );
}

// ---- the remembered clerk and files sent as bytes (issue 17) ------------------------------

/// `serve` for `node` with these extra arguments, started through `wrap` (e.g. `setpriv`).
fn start_serve_with(node: &TestNode, wrap: &[&str], extra: &[&str]) -> Proc {
    let log = node.dir.path().join("serve.log");
    let mut c = if wrap.is_empty() {
        Command::new(bin())
    } else {
        let mut c = Command::new(wrap[0]);
        c.args(&wrap[1..]).arg(bin());
        c
    };
    c.arg("--data-dir")
        .arg(&node.data_dir)
        .args([
            "serve",
            "--hub",
            "https://localhost:9",
            "--interval-secs",
            "1",
        ])
        .args(["--http-listen", "off"])
        .args(extra)
        .env_remove("CIVREG_DATA_DIR")
        .env("CIVREG_LANG", "en")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log_file(&log))
        .stderr(log_file(&log));
    let child = c.spawn().expect("spawn civreg-node serve");
    let mut proc = Proc { child, log };
    wait_for("serve to answer on its socket", PATIENCE, || {
        if let Some(st) = proc.child.try_wait().expect("try_wait") {
            panic!("serve exited ({st}) before answering\n{}", proc.log());
        }
        let o = node.run(&["--json", "status"]);
        (o.code == 0 && o.json()["serving"] == json!(true)).then_some(())
    });
    proc
}

/// A command of `node` with no clerk in the environment, no terminal to ask on, and `run` as
/// the private runtime directory where the token is kept.
fn bare(node: &TestNode, run: &Path, args: &[&str]) -> Output {
    let mut c = node.command_without_terminal(args);
    c.env_remove("CIVREG_CLERK")
        .env_remove("CIVREG_CLERK_PASSWORD")
        .env("XDG_RUNTIME_DIR", run);
    run_command(c)
}

fn private_dir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).expect("mkdir");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    path.to_path_buf()
}

fn token_files(run: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(run.join("civreg"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// "asks again": with no terminal and no password in the environment, a command that needs a
/// clerk fails saying there is no terminal to ask on.
fn asks(o: &Output) -> bool {
    o.code != 0 && o.stderr.contains("no terminal to ask on")
}

#[test]
fn a_clerk_signed_in_once_is_remembered_until_idle_or_logout() {
    let (node, _hub_dir) = enrolled_node();
    let run = private_dir(&node.dir.path().join("run"));
    let _serve = start_serve_with(&node, &[], &["--session-idle-secs", "3"]);
    let doc = node.dir.path().join("birth.json");
    std::fs::write(&doc, birth("Arben", "Gashi", "1968-03-14").to_string()).expect("write");
    let doc = doc.to_str().expect("utf-8");

    // Nothing remembered yet: the command asks.
    let o = bare(&node, &run, &["register", "birth", "--file", doc]);
    assert!(asks(&o), "{}", o.all());
    assert!(token_files(&run).is_empty());

    // `login` once (here with the password in the environment: there is no terminal)...
    let mut c = node.command_without_terminal(&["login"]);
    c.env("XDG_RUNTIME_DIR", &run);
    let o = run_command(c);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("signed in as drita"), "{}", o.all());
    let files = token_files(&run);
    assert_eq!(files.len(), 1, "{files:?}");
    let meta = std::fs::metadata(&files[0]).expect("token file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir_mode = std::fs::metadata(run.join("civreg"))
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let token = std::fs::read_to_string(&files[0]).expect("token");
    assert_eq!(token.trim().len(), 64, "32 random bytes in hex");
    // The token is never logged by serve.
    assert!(!_serve.log().contains(token.trim()));

    // ... then three commands with no password and no environment.
    let o = bare(&node, &run, &["--json", "register", "birth", "--file", doc]);
    assert_eq!(o.code, 0, "{}", o.all());
    let regno = o.json()["regno"].as_str().expect("regno").to_string();
    let o = bare(&node, &run, &["certificates"]);
    assert_eq!(o.code, 0, "{}", o.all());
    std::thread::sleep(Duration::from_millis(2000));
    let out = node.dir.path().join("export.jsonl");
    let o = bare(
        &node,
        &run,
        &["export", "--out", out.to_str().expect("utf-8")],
    );
    assert_eq!(o.code, 0, "{}", o.all());
    // Used within the idle time, the session lives on past it.
    std::thread::sleep(Duration::from_millis(2000));
    let o = bare(&node, &run, &["show", &regno]);
    assert_eq!(o.code, 0, "{}", o.all());
    // The access log names the clerk of the session.
    let (_, log) = node.json(&["access-log", "--record", &regno]);
    let views: Vec<&Value> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == json!("view"))
        .collect();
    assert!(views.iter().any(|e| e["clerk"] == json!(CLERK)), "{log:#}");
    let (_, log) = node.json(&["access-log"]);
    assert!(
        log.as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == json!("export") && e["clerk"] == json!(CLERK)),
        "{log:#}"
    );

    // Idle longer than --session-idle-secs: the command asks again, and the client forgets
    // the dead token.
    std::thread::sleep(Duration::from_millis(3500));
    let o = bare(&node, &run, &["register", "birth", "--file", doc]);
    assert!(asks(&o), "{}", o.all());
    assert!(token_files(&run).is_empty(), "{:?}", token_files(&run));

    // `logout` ends a session at once.
    let mut c = node.command_without_terminal(&["login"]);
    c.env("XDG_RUNTIME_DIR", &run);
    assert_eq!(run_command(c).code, 0);
    let o = bare(&node, &run, &["certificates"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = bare(&node, &run, &["logout"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("session ended"), "{}", o.all());
    assert!(token_files(&run).is_empty());
    let o = bare(&node, &run, &["certificates"]);
    assert!(asks(&o), "{}", o.all());
    // A token kept but no longer known to serve (logged out elsewhere, serve restarted) is
    // worth nothing either.
    std::fs::create_dir_all(run.join("civreg")).expect("mkdir");
    std::fs::write(&files[0], &token).expect("put the old token back");
    std::fs::set_permissions(&files[0], std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let o = bare(&node, &run, &["certificates"]);
    assert!(asks(&o), "{}", o.all());
}

#[test]
fn another_unix_user_can_not_use_a_remembered_clerk() {
    let (node, _hub_dir) = enrolled_node();
    let run = private_dir(&node.dir.path().join("run"));
    let _serve = start_serve_with(&node, &[], &[]);
    let mut c = node.command_without_terminal(&["login"]);
    c.env("XDG_RUNTIME_DIR", &run);
    assert_eq!(run_command(c).code, 0);
    let token = std::fs::read_to_string(&token_files(&run)[0]).expect("token");
    let o = bare(&node, &run, &["certificates"]);
    assert_eq!(o.code, 0, "{}", o.all());
    if !as_root() {
        eprintln!("not root: the check of another user's attempt is skipped");
        return;
    }
    // The token copied to `nobody`, who can reach the socket (opened up for the test).
    let other = node.dir.path().join("other");
    std::fs::create_dir_all(other.join("civreg")).expect("mkdir");
    let copy = other
        .join("civreg")
        .join(token_files(&run)[0].file_name().expect("name"));
    std::fs::write(&copy, &token).expect("copy");
    for (p, mode) in [
        (&other, 0o700),
        (&other.join("civreg"), 0o700),
        (&copy, 0o600),
    ] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown");
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    for p in [node.dir.path(), node.data_dir.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(socket(&node), std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin())
        .arg("--data-dir")
        .arg(&node.data_dir)
        .args(["--json", "certificates"])
        .env_remove("CIVREG_CLERK")
        .env_remove("CIVREG_CLERK_PASSWORD")
        .env("XDG_RUNTIME_DIR", &other)
        .env("CIVREG_LANG", "en")
        .stdin(Stdio::null());
    let o = run_command(c);
    assert_ne!(o.code, 0, "{}", o.all());
    assert!(!o.stdout.contains("\"serial\""), "{}", o.all());
    // The clerk's own session goes on.
    let o = bare(&node, &run, &["certificates"]);
    assert_eq!(o.code, 0, "{}", o.all());
}

/// serve without the capabilities that let root read any file: as a service whose sandbox
/// hides the clerk's files. The client (root, with them) reads and writes the files.
#[test]
fn files_travel_as_bytes_between_the_client_and_serve() {
    let (node, _hub_dir) = enrolled_node();
    if !as_root() {
        eprintln!("not root: serve can not be kept from the clerk's files here; skipped");
        return;
    }
    let _serve = start_serve_with(
        &node,
        &[
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            "--",
        ],
        &[],
    );
    // A directory serve can not read or write: owned by nobody, 0700.
    let hidden = node.dir.path().join("hidden");
    std::fs::create_dir_all(&hidden).expect("mkdir");
    let doc = hidden.join("birth.json");
    std::fs::write(
        &doc,
        format!(
            "{}\n{}",
            birth("Arben", "Gashi", "1968-03-14"),
            birth("Besa", "Gashi", "1970-01-02")
        ),
    )
    .expect("write");
    let csv = hidden.join("old.csv");
    std::fs::write(
        &csv,
        "kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n\
         birth,L-1,1968,4,1,Drita,Krasniqi,female,1968-03-14,Prizren,Vjosa,Krasniqi\n",
    )
    .expect("write");
    for p in [&hidden, &doc, &csv] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown");
    }
    std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // A process started as serve was can not open it: the check that the test means something.
    let o = Command::new("setpriv")
        .args(["--bounding-set=-dac_override,-dac_read_search", "--", "cat"])
        .arg(&doc)
        .output()
        .expect("run cat");
    assert!(
        !o.status.success(),
        "serve's sandbox can read the file: the test proves nothing"
    );

    let o = node.run(&[
        "--json",
        "register",
        "birth",
        "--file",
        doc.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.code, 0, "{}", o.all());
    let regnos: Vec<String> = o
        .json_lines()
        .iter()
        .map(|v| v["regno"].as_str().expect("regno").to_string())
        .collect();
    assert_eq!(regnos.len(), 2, "{}", o.all());

    let changes = hidden.join("changes.json");
    std::fs::write(&changes, r#"{"child": {"given_name": "Arbën"}}"#).expect("write");
    std::os::unix::fs::chown(&changes, Some(65534), Some(65534)).expect("chown");
    let o = node.run(&[
        "amend",
        &regnos[0],
        "--file",
        changes.to_str().expect("utf-8"),
        "--reason",
        "spelling",
    ]);
    assert_eq!(o.code, 0, "{}", o.all());

    let report = hidden.join("report.json");
    let o = node.run(&[
        "import",
        csv.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.code, 0, "{}", o.all());
    let rep: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).expect("json");
    assert_eq!(rep["accepted"].as_array().map(Vec::len), Some(1), "{rep:#}");

    // Outputs are written by the client where it can write.
    let out = hidden.join("export.jsonl");
    let o = node.run(&["export", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(o.code, 0, "{}", o.all());
    let text = std::fs::read_to_string(&out).expect("export written");
    assert!(
        text.contains("Arbën") && text.contains("Krasniqi"),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&out)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .ok(),
        Some(0),
        "written by the client (root), not by serve"
    );
    // A file that is not there: the client says so, in the user's words.
    let o = node.run(&[
        "register",
        "birth",
        "--file",
        hidden.join("none.json").to_str().expect("utf-8"),
    ]);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("could not read") && o.stderr.contains("none.json"),
        "{}",
        o.all()
    );
    // No spool file is left in the data dir.
    let left: Vec<_> = std::fs::read_dir(&node.data_dir)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".spool"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
