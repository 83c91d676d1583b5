//! Real `civreg-hub` and `civreg-node` processes in throwaway directories, for the tests that
//! cross binaries (faults, the hub's data at rest, its control socket, catch-up): a hub process
//! ([`HubProc`]), an enrolled node's directory driven through the binary ([`NodeDir`]), a whole
//! setup of both ([`Setup`]), and checks of the hub's chain against the node's.
//!
//! Everything here is synchronous for the caller: processes are driven with `std::process`, the
//! [`Proxy`] runs on its own runtime. Nothing waits with a bare sleep: [`wait_until`] polls a
//! condition against a deadline (sleeping only between polls). `use civreg_testkit::fleet::*`
//! brings the proxy, the process helpers, the binaries and the seeded [`Rng`] too.

pub use crate::bins::{hub_bin, node_bin};
pub use crate::process::*;
pub use crate::proxy::*;
pub use crate::rng::Rng;
pub use crate::wait::wait_until;

use civreg_hub::store::{Head, HubStore};
use civreg_shared::op::Op;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const MUNICIPALITY: &str = "prishtine";
pub const NODE_ID: &str = "1";
pub const CLERK: &str = "ana";
pub const CLERK_PASSWORD: &str = "correct-horse-9";

// ---------------------------------------------------------------------------------------------
// The hub process
// ---------------------------------------------------------------------------------------------

/// A `civreg-hub serve` process on 127.0.0.1:(ephemeral).
pub struct HubProc {
    pub data_dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    child: Option<Child>,
}

impl HubProc {
    /// Starts `civreg-hub serve` and waits for its `listening on` line, which it prints once
    /// its store is open and its control socket answers.
    pub fn start(data_dir: &Path, log: &Path) -> HubProc {
        Self::start_with(data_dir, log, &[])
    }

    /// [`HubProc::start`] with more arguments for `serve` (`--store postgres://…`).
    pub fn start_with(data_dir: &Path, log: &Path, args: &[&str]) -> HubProc {
        HubStarting::spawn(data_dir, log, args).announced()
    }

    /// Starts `civreg-hub serve` and returns at once, before it has announced anything (for a
    /// test of what serve does while its store is held).
    pub fn begin(data_dir: &Path, log: &Path) -> HubStarting {
        HubStarting::spawn(data_dir, log, &[])
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            sigkill(&mut c);
        }
    }

    /// Ctrl-C (SIGINT), which the hub handles by shutting down; SIGKILL after 20 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_gracefully(&mut c, "INT", Duration::from_secs(20));
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }
}

/// A `civreg-hub serve` started and not yet announced ([`HubProc::begin`]); SIGKILLed when
/// dropped.
pub struct HubStarting {
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    port_rx: std::sync::mpsc::Receiver<u16>,
    port: Option<u16>,
}

impl HubStarting {
    fn spawn(data_dir: &Path, log: &Path, args: &[&str]) -> HubStarting {
        let mut child = Command::new(hub_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--grpc-listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(log))
            .spawn()
            .expect("spawn civreg-hub serve");
        let stdout = child.stdout.take().expect("hub stdout");
        let (tx, rx) = std::sync::mpsc::channel::<u16>();
        std::thread::spawn(move || {
            // Reads until the hub exits, so its stdout never fills up.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    if let Some(port) = addr.rsplit(':').next().and_then(|p| p.parse().ok()) {
                        let _ = tx.send(port);
                    }
                }
            }
        });
        HubStarting {
            data_dir: data_dir.to_path_buf(),
            log: log.to_path_buf(),
            child: Some(child),
            port_rx: rx,
            port: None,
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }

    /// Whether it has printed its `listening on` line by now (without waiting).
    pub fn has_announced(&mut self) -> bool {
        if self.port.is_none() {
            self.port = self.port_rx.try_recv().ok();
        }
        self.port.is_some()
    }

    /// Waits up to 30 s for the `listening on` line and returns the announced hub.
    pub fn announced(mut self) -> HubProc {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut child = self.child.take().expect("a started hub has its process");
        let port = loop {
            if let Some(p) = self.port {
                break p;
            }
            match self.port_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(p) => break p,
                Err(_) => {
                    if let Some(st) = child.try_wait().expect("try_wait") {
                        panic!(
                            "civreg-hub serve exited ({st}) before listening\n{}",
                            log_tail(&self.log)
                        );
                    }
                    if Instant::now() >= deadline {
                        sigkill(&mut child);
                        panic!(
                            "civreg-hub serve did not listen within 30 s\n{}",
                            log_tail(&self.log)
                        );
                    }
                }
            }
        };
        HubProc {
            data_dir: self.data_dir.clone(),
            port,
            log: self.log.clone(),
            child: Some(child),
        }
    }
}

impl Drop for HubStarting {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            sigkill(&mut c);
        }
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Opens the hub's database (the hub must be stopped), retrying briefly while the lock of a
/// just-ended process is released.
pub fn open_hub_store(hub_data_dir: &Path) -> HubStore {
    let db = civreg_hub::paths::db_dir(hub_data_dir);
    wait_until("the hub database to open", Duration::from_secs(20), || {
        HubStore::open(
            &db,
            civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(hub_data_dir))
                .ok()?,
        )
        .ok()
    })
}

/// What the hub holds of this test node's chain: its head and every op, in key order.
pub fn hub_chain(hub_data_dir: &Path) -> (Head, Vec<Op>) {
    let store = open_hub_store(hub_data_dir);
    let head = store.head(MUNICIPALITY, NODE_ID);
    let ops = store
        .chain_ops(MUNICIPALITY, NODE_ID)
        .expect("read the hub's copy of the chain");
    (head, ops)
}

/// Asserts the hub's copy is exactly a prefix of the node's log: ops #1..#head, each once, in
/// order, identical to the node's (same hash), and the head names the last of them.
pub fn assert_hub_prefix(head: &Head, hub_ops: &[Op], node_ops: &[Op], context: &str) {
    assert_eq!(
        hub_ops.len() as u64,
        head.seq,
        "{context}: the hub's head says #{} but it holds {} ops of the chain",
        head.seq,
        hub_ops.len()
    );
    assert!(
        hub_ops.len() <= node_ops.len(),
        "{context}: the hub holds {} ops but the node's log has only {}",
        hub_ops.len(),
        node_ops.len()
    );
    for (i, (h, n)) in hub_ops.iter().zip(node_ops).enumerate() {
        let want = i as u64 + 1;
        assert_eq!(
            h.id.seq, want,
            "{context}: the hub's op at position {want} is #{} (gap or duplicate)",
            h.id.seq
        );
        assert_eq!(
            (h.id.municipality.as_str(), h.id.node_id.as_str()),
            (MUNICIPALITY, NODE_ID),
            "{context}: op #{want} of another chain"
        );
        assert_eq!(
            h.hash, n.hash,
            "{context}: op #{want} differs between hub and node"
        );
        assert_eq!(h, n, "{context}: op #{want} differs between hub and node");
    }
    if let Some(last) = hub_ops.last() {
        assert_eq!(
            head.hash, last.hash,
            "{context}: head hash is not op #{}'s",
            head.seq
        );
    }
}

/// Asserts the hub holds every op of the node exactly once: #1..#N, N the node's log length.
pub fn assert_exactly_once(head: &Head, hub_ops: &[Op], node_ops: &[Op], context: &str) {
    assert_hub_prefix(head, hub_ops, node_ops, context);
    assert_eq!(
        hub_ops.len(),
        node_ops.len(),
        "{context}: the node's log has {} ops but the hub holds {}",
        node_ops.len(),
        hub_ops.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The node process
// ---------------------------------------------------------------------------------------------

/// A `civreg-node` data directory driven through the binary, as clerk `ana`.
pub struct NodeDir {
    pub data_dir: PathBuf,
}

impl NodeDir {
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(node_bin());
        c.arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("CIVREG_CLERK", CLERK)
            .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
            .env("CIVREG_NEW_CLERK_PASSWORD", CLERK_PASSWORD)
            // The tests read the English words.
            .env("CIVREG_LANG", "en")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("run civreg-node {args:?}: {e}"))
    }

    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}",
            describe(&format!("civreg-node {args:?}"), &out)
        );
        out
    }

    /// Runs with `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn civreg-node {args:?}: {e}"));
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait civreg-node");
        let _ = writer.join();
        out
    }

    /// Starts a long-running command (serve, sync) with its output appended to `log`.
    pub fn spawn(&self, args: &[&str], log: &Path) -> KillOnDrop {
        let mut f = log_file(log);
        let _ = writeln!(f, "=== civreg-node {}", args.join(" "));
        KillOnDrop(
            self.cmd(args)
                .stdout(log_file(log))
                .stderr(f)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn civreg-node {args:?}: {e}")),
        )
    }

    /// Registers births from a stream of JSON documents; asserts each was saved and returns
    /// the registration numbers.
    pub fn register_births(&self, docs: &[serde_json::Value]) -> Vec<String> {
        let mut input = Vec::new();
        for d in docs {
            input.extend_from_slice(d.to_string().as_bytes());
            input.push(b'\n');
        }
        let out = self.run_stdin(&["--json", "register", "birth", "--file", "-"], &input);
        let what = describe("civreg-node register birth --file -", &out);
        assert!(out.status.success(), "{what}");
        let regnos: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{what}"));
                assert_eq!(v["ok"], true, "{what}");
                v["regno"].as_str().expect("regno").to_string()
            })
            .collect();
        assert_eq!(regnos.len(), docs.len(), "{what}");
        regnos
    }

    /// Imports `rows` birth rows (register entries `first..first+rows` of book `book`);
    /// asserts all were accepted.
    pub fn import_births(&self, csv_path: &Path, book: &str, first: u64, rows: u64) {
        std::fs::write(csv_path, births_csv(book, first, rows)).expect("write csv");
        let path = csv_path.to_str().expect("utf-8 path");
        let out = self.run(&["--json", "import", path]);
        let what = describe("civreg-node import", &out);
        assert!(out.status.success(), "{what}");
        let rep: serde_json::Value = serde_json::from_slice(&out.stdout).expect("import report");
        assert_eq!(
            rep["accepted"].as_array().map(Vec::len),
            Some(rows as usize),
            "{what}"
        );
    }

    /// `status --json`'s `status` object.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run_ok(&["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status is not JSON: {e}\n{}", describe("status", &out)));
        v["status"].clone()
    }

    pub fn status_u64(&self, field: &str) -> u64 {
        let st = self.status();
        st[field]
            .as_u64()
            .unwrap_or_else(|| panic!("status has no {field}: {st}"))
    }

    /// The node's log, from `export` (its `"type":"op"` lines).
    pub fn export_ops(&self) -> Vec<Op> {
        let out = self.run_ok(&["export"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("export line is JSON");
                (v["type"] == "op").then(|| serde_json::from_value(v).expect("export op line"))
            })
            .collect()
    }

    /// Asserts `verify` passes: the hash chain and every record check out.
    pub fn assert_verifies(&self, context: &str) {
        let out = self.run(&["--json", "verify"]);
        let what = describe(&format!("{context}: civreg-node verify"), &out);
        assert!(out.status.success(), "{what}");
        let rep: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify report");
        assert_eq!(rep["ok"], true, "{what}");
    }
}

/// A birth record document; `i` makes it distinct.
pub fn birth_doc(i: u64) -> serde_json::Value {
    const GIVEN: &[&str] = &[
        "Arben", "Besa", "Dardan", "Erza", "Fatos", "Gresa", "Ilir", "Jeta",
    ];
    let sex = if i % 2 == 0 { "male" } else { "female" };
    serde_json::json!({
        "child": {
            "given_name": GIVEN[(i % GIVEN.len() as u64) as usize],
            "surname": "Gashi",
            "sex": sex,
            "date_of_birth": format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28),
        },
        "place_of_birth": "Prizren",
        "mother": { "given_name": "Drita", "surname": "Gashi" }
    })
}

pub fn birth_docs(first: u64, count: u64) -> Vec<serde_json::Value> {
    (first..first + count).map(birth_doc).collect()
}

/// An import CSV of `rows` births, each a distinct register entry of `book`.
pub fn births_csv(book: &str, first: u64, rows: u64) -> String {
    let mut s = String::from(
        "kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n",
    );
    for i in first..first + rows {
        s.push_str(&format!(
            "birth,{book},1968,{},{},Arben,Gashi,male,1968-03-14,Prizren,Drita,Gashi\n",
            i / 50 + 1,
            i % 50 + 1
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// A whole setup: PKI, hub data dir, one enrolled node
// ---------------------------------------------------------------------------------------------

/// A throwaway PKI and hub data dir made with `civreg-hub pki`, and one node enrolled from its
/// bundle with clerk `ana`.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub hub_dir: PathBuf,
    pub node: NodeDir,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub_dir = dir.path().join("hub");
        let bundle = dir.path().join("bundle");
        let hub = |args: &[&str]| {
            let out = Command::new(hub_bin())
                .arg("--data-dir")
                .arg(&hub_dir)
                .args(args)
                .output()
                .expect("run civreg-hub");
            assert!(
                out.status.success(),
                "{}",
                describe(&format!("civreg-hub {args:?}"), &out)
            );
        };
        hub(&["pki", "init"]);
        hub(&[
            "pki",
            "issue",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            NODE_ID,
            "--out",
            bundle.to_str().expect("utf-8 path"),
            // Tests always pass --hub; this one is never dialled.
            "--hub-url",
            "https://localhost:9",
        ]);
        let node = NodeDir {
            data_dir: dir.path().join("node"),
        };
        node.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8 path")]);
        node.run_ok(&["clerk", "add", CLERK]);
        Setup { dir, hub_dir, node }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A second office PC of the same municipality (node id 2, in `node2`, its bundle in
    /// `bundle2`), enrolled and with the same clerk: it pulls what the first one pushes.
    pub fn second_node(&self) -> NodeDir {
        let bundle2 = self.path("bundle2");
        let out = Command::new(hub_bin())
            .arg("--data-dir")
            .arg(&self.hub_dir)
            .args([
                "pki",
                "issue",
                "--municipality",
                MUNICIPALITY,
                "--node-id",
                "2",
            ])
            .arg("--out")
            .arg(&bundle2)
            .args(["--hub-url", "https://localhost:9"])
            .output()
            .expect("run civreg-hub pki issue");
        assert!(out.status.success(), "{}", describe("pki issue", &out));
        let node2 = NodeDir {
            data_dir: self.path("node2"),
        };
        node2.run_ok(&["init", "--bundle", bundle2.to_str().expect("utf-8")]);
        node2.run_ok(&["clerk", "add", CLERK]);
        node2
    }

    pub fn start_hub(&self) -> HubProc {
        HubProc::start(&self.hub_dir, &self.path("hub.log"))
    }
}

impl Drop for Setup {
    /// On a failure, shows the end of every process log before the directory goes away.
    /// `CIVREG_FAULT_KEEP=1` keeps the directory (hub, node, logs) and prints where it is.
    fn drop(&mut self) {
        let root = self.dir.path().to_path_buf();
        if std::env::var_os("CIVREG_FAULT_KEEP").is_some_and(|v| v != "0") {
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
            eprintln!("kept the test directory {}", dir.keep().display());
        }
        if !std::thread::panicking() {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(&root) {
            let mut logs: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            logs.sort();
            for l in logs {
                eprintln!("{}", log_tail(&l));
            }
        }
    }
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}
