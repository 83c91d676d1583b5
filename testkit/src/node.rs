//! What the node's process tests share: a node in a temporary directory driven through the
//! real `civreg-node` binary ([`TestNode`], the one of [`crate::bins::node_bin`]), and builders
//! for record documents. `use civreg_testkit::node::*` brings the synchronous [`wait_for`] too.

pub use crate::wait::wait_until as wait_for;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const CLERK: &str = "drita";
pub const PASSWORD: &str = "drita-test-password";

/// The binary under test.
pub fn bin() -> PathBuf {
    crate::bins::node_bin()
}

/// `deploy/examples`.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/examples")
}

pub fn example(name: &str) -> PathBuf {
    examples().join(name)
}

pub fn read_example(name: &str) -> Value {
    let p = example(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("example file"))
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", p.display()))
}

/// What a finished command gave.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn from(o: std::process::Output) -> Output {
        Output {
            // A process killed by a signal has no code; -1 is never a valid exit code here.
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Stdout as JSON Lines.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("line is not JSON ({e}): {l:?}\n{}", self.stderr))
            })
            .collect()
    }

    /// Panics with the whole output unless the command exited 0.
    pub fn ok(self) -> Output {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Everything the command printed, for looking for a message wherever it went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A node of `municipality` in a temporary data dir, with one clerk (`CLERK`/`PASSWORD`).
pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub municipality: String,
}

impl TestNode {
    pub fn new() -> TestNode {
        TestNode::with_municipality("prishtine")
    }

    pub fn with_municipality(municipality: &str) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let n = TestNode {
            dir,
            data_dir,
            municipality: municipality.to_string(),
        };
        n.run(&["init", "--municipality", municipality, "--node-id", "1"])
            .ok();
        n.run(&["clerk", "add", CLERK]).ok();
        n
    }

    pub fn db(&self) -> PathBuf {
        self.data_dir.join("db")
    }

    pub fn key(&self) -> PathBuf {
        self.data_dir.join("node.key")
    }

    /// A command for this node with the clerk's credentials set and nothing inherited that could
    /// point it elsewhere. Standard input is null unless changed.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_via(Command::new(bin()), args)
    }

    /// Like [`TestNode::command`], but run without a controlling terminal (through `setsid`
    /// when this test process has one), so that nothing can prompt on it.
    pub fn command_without_terminal(&self, args: &[&str]) -> Command {
        let has_tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok();
        if has_tty {
            let mut c = Command::new("setsid");
            c.arg("-w").arg(bin());
            self.command_via(c, args)
        } else {
            self.command(args)
        }
    }

    fn command_via(&self, mut c: Command, args: &[&str]) -> Command {
        c.arg("--data-dir").arg(&self.data_dir);
        c.args(args);
        c.env_remove("CIVREG_DATA_DIR")
            .env_remove("CIVREG_KEY_FILE")
            .env_remove("RUST_LOG")
            .env("CIVREG_CLERK", CLERK)
            .env("CIVREG_CLERK_PASSWORD", PASSWORD)
            .env("CIVREG_NEW_CLERK_PASSWORD", PASSWORD)
            // The tests read the English words; `node/tests/cli.rs` also runs without this.
            .env("CIVREG_LANG", "en")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run_command(self.command(args))
    }

    /// Runs with `--json` and parses stdout as one JSON document.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = self.run(&a);
        let v = o.json();
        (o.code, v)
    }

    /// Runs with `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut c = self.command(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn civreg-node");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // Write from a thread so that a child that prints a lot can not dead-lock with us.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for civreg-node");
        writer.join().expect("stdin writer");
        Output::from(out)
    }

    /// Registers one record from a document and returns its registration number.
    pub fn register(&self, kind: &str, doc: &Value) -> String {
        let o = self.run_stdin(
            &["--json", "register", kind, "--file", "-"],
            doc.to_string().as_bytes(),
        );
        let o = o.ok();
        let lines = o.json_lines();
        assert_eq!(lines.len(), 1, "one result line: {}", o.stdout);
        assert_eq!(lines[0]["ok"], json!(true), "{}", o.stdout);
        lines[0]["regno"]
            .as_str()
            .expect("regno in the result")
            .to_string()
    }

    /// Registers a record from a file (e.g. an example) and returns its registration number.
    pub fn register_file(&self, kind: &str, file: &Path) -> String {
        let (code, v) = self.json(&["register", kind, "--file", file.to_str().expect("utf-8")]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["ok"], json!(true), "{v}");
        v["regno"].as_str().expect("regno").to_string()
    }

    /// Every line of `export`, parsed.
    pub fn export(&self) -> Vec<Value> {
        self.run(&["export"]).ok().json_lines()
    }

    /// The exported records by registration number.
    pub fn records(&self) -> BTreeMap<String, Value> {
        self.export()
            .into_iter()
            .filter(|l| l["type"] == "record")
            .map(|l| (l["regno"].as_str().expect("regno").to_string(), l))
            .collect()
    }

    /// The exported ops, in log order.
    pub fn ops(&self) -> Vec<Value> {
        self.export()
            .into_iter()
            .filter(|l| l["type"] == "op")
            .collect()
    }

    /// `verify --json`: exit code and report.
    pub fn verify(&self) -> (i32, Value) {
        self.json(&["verify"])
    }

    /// `search --json` with the given arguments: the registration numbers of the hits, best first.
    pub fn search(&self, args: &[&str]) -> Vec<String> {
        let mut a = vec!["search"];
        a.extend_from_slice(args);
        let (code, v) = self.json(&a);
        assert_eq!(code, 0, "search {args:?}: {v}");
        assert_eq!(v["scope"], json!("local"), "search {args:?}: {v}");
        v["hits"]
            .as_array()
            .unwrap_or_else(|| panic!("hits: {v}"))
            .iter()
            .map(|h| h["regno"].as_str().expect("hit regno").to_string())
            .collect()
    }
}

impl Default for TestNode {
    fn default() -> Self {
        TestNode::new()
    }
}

pub fn run_command(mut c: Command) -> Output {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    Output::from(c.output().expect("run civreg-node"))
}

/// The sequence number at the end of a registration number (`PRISHTINE-2026-B-000042` → 42).
pub fn regno_seq(regno: &str) -> u64 {
    regno
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{regno:?} does not end in a sequence number"))
}

/// The kind letter of a registration number (`PRISHTINE-2026-B-000042` → 'B').
pub fn regno_kind(regno: &str) -> char {
    regno
        .split('-')
        .nth(2)
        .and_then(|s| s.chars().next())
        .unwrap_or_else(|| panic!("{regno:?} has no kind letter"))
}

/// A JMBG with a correct check digit for a date of birth (`YYYY-MM-DD`), region and serial. The
/// serial is moved up past the values whose check digit would be the doubtful "10".
pub fn jmbg(dob: &str, region: u8, serial: u16) -> String {
    let (y, rest) = dob.split_once('-').expect("YYYY-MM-DD");
    let (m, d) = rest.split_once('-').expect("YYYY-MM-DD");
    const W: [u32; 12] = [7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let mut serial = serial;
    loop {
        let first12 = format!("{d}{m}{}{region:02}{serial:03}", &y[1..]);
        assert_eq!(first12.len(), 12, "{first12}");
        let sum: u32 = first12
            .bytes()
            .zip(W)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        match 11 - sum % 11 {
            10 => serial += 1,
            11 => return format!("{first12}0"),
            k => return format!("{first12}{k}"),
        }
    }
}

/// The same JMBG with its check digit changed to a wrong one.
pub fn break_check_digit(j: &str) -> String {
    let (head, last) = j.split_at(12);
    let d = last.parse::<u8>().expect("digit");
    format!("{head}{}", (d + 1) % 10)
}

/// A birth record document: the child `given surname`, born `dob` (`YYYY-MM-DD`) in Prishtinë,
/// male, with a mother 25 years older. Change any field with `doc["child"]["sex"] = ...`.
pub fn birth(given: &str, surname: &str, dob: &str) -> Value {
    let year: i32 = dob[..4].parse().expect("YYYY-MM-DD");
    let mother_dob = format!("{}{}", year - 25, &dob[4..]);
    let mother_dob = if mother_dob.ends_with("-02-29") {
        mother_dob.replace("-02-29", "-02-28")
    } else {
        mother_dob
    };
    json!({
        "child": {
            "given_name": given,
            "surname": surname,
            "sex": "male",
            "date_of_birth": dob,
        },
        "place_of_birth": "Prishtinë",
        "mother": {
            "given_name": "Drita",
            "surname": surname,
            "date_of_birth": mother_dob,
        }
    })
}

/// A name made only of letters (names may not hold digits) that is unique for `n`.
pub fn letters_name(prefix: &str, n: u64) -> String {
    let mut s = String::from(prefix);
    let digits = n.to_string();
    for b in digits.bytes() {
        s.push((b'a' + (b - b'0')) as char);
    }
    s
}
