//! Node benchmark: registration latency, bulk import throughput and search latency on
//! synthetic but realistic data (`civreg_shared::synth`), against the targets of the pilot.
//!
//! ```text
//! cargo bench -p civreg-node --bench node_bench                 # full run, Markdown to stdout
//! cargo bench -p civreg-node --bench node_bench -- --write      # ... and update BENCHMARKS.md
//! cargo bench -p civreg-node --bench node_bench -- --quick      # small sizes, a smoke run
//! ```
//!
//! Other flags: `--register N`, `--import N`, `--search N` (sizes), `--queries N` (per query
//! class), `--only register,import,search`, `--dir PATH` (where the temporary databases go;
//! default: cargo's target tmp dir, on the same disk as the build), `--out FILE.md` (write the
//! section to that file instead of BENCHMARKS.md; implies `--write`).
//!
//! Run without `--bench` (that is, by `cargo test --benches` or `--all-targets`) it does the
//! quick run only, so tests never pay for the full one; `--full` overrides.
//!
//! Progress goes to stderr, the Markdown section to stdout.

use civreg_node::import::import_csv;
use civreg_node::index::{DateFilter, Query};
use civreg_node::node::{Node, Paths};
use civreg_shared::model::RecordKind;
use civreg_shared::normalize;
use civreg_shared::synth::{self, write::CsvWriter, Facts, Gen, Rng};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x00C1_7E62_0250_0001;
const MUNICIPALITY: &str = "prishtine";
const CLERK: &str = "bench";
const CLERK_PASSWORD: &str = "bench-password-1";

const BEGIN: &str = "<!-- node-bench:begin -->";
const END: &str = "<!-- node-bench:end -->";

const TARGET_REGISTER_P99_MS: f64 = 10.0;
const TARGET_IMPORT_ROWS_PER_S: f64 = 20_000.0;
const TARGET_SEARCH_P99_MS: f64 = 20.0;
const FULL_REGISTER: usize = 2_000;
const FULL_IMPORT: usize = 100_000;
const FULL_SEARCH: usize = 200_000;

const INTRO: &str = "# Benchmarks

Figures from `node/benches/node_bench.rs`, a plain `fn main` bench (`harness = false`) that drives
the real node on a real sled database in a temporary directory on the build disk.

Reproduce (release profile, `debug = 1`):

```text
cargo bench -p civreg-node --bench node_bench                # full run, prints the section below
cargo bench -p civreg-node --bench node_bench -- --write     # ... and replaces it in this file
cargo bench -p civreg-node --bench node_bench -- --quick     # smoke run with small sizes
```

What each figure is:

- **Registration**: `Node::register` of one record at a time on a node opened with `Node::open`
  (sled on disk); every call validates, seals (ChaCha20-Poly1305) the op and the record state, commits
  them in one sled transaction and flushes to disk before returning, as a clerk's \"saved\" does.
  Latency per call: median, p90, p99, max; throughput = records / wall time. Read it against the
  two baselines measured in the same run on the same disk: a raw sled `insert` + `flush` of a
  value as large as the op and the record together (no validation, no crypto, no transaction),
  and a sled transaction of the same shape as the node's (four trees) + `flush`. The
  *in-memory* row is the same `Node::register` on the in-memory store: the CPU part alone.
- **Import**: the real `civreg-node import` binary, run as a child process on a fresh node
  (`init`, `clerk add`, then `import FILE`, signed in through `CIVREG_CLERK`/`CIVREG_CLERK_PASSWORD`).
  Wall time from spawn to exit, so it includes process start, opening the database and the
  password check. Peak memory is the child's maximum resident set size (`ru_maxrss` through
  GNU `time`, else `VmHWM` polled from `/proc`).
- **Search**: a node holding N records, filled through the library's `import_csv` (200,000
  registrations one by one, each flushed, would take too long), then closed and reopened so that
  the index is built from the encrypted store: *index build* is `Node::ensure_index()`, *decode
  only* is a scan that decrypts and parses every record without indexing. Then a seeded, shuffled
  mix of queries through `Node::search` (limit 20, as the CLI): latency per class and overall,
  mean hits returned, mean records matching (the same query with no limit, not timed), and how
  often the record the query was made from is among the 20 hits. Index size (vocabulary words,
  postings, personal numbers) is recounted by the bench with the index's own tokenisation
  (`normalize::variants` + `tokens`), since the index does not expose it.

How the data is made (`civreg_shared::synth::Gen` in `shared/src/synth/`, fixed seed, so every run sees the same data):
Albanian and Serbian given names and surnames, most common first, drawn with a Zipf-like skew
(Krasniqi, Gashi, Berisha, Morina, Shala, Hoxha lead), the long tail extended with patronymic
surnames as real ones are formed (Adem → Ademi, Ademaj; Jovan → Jovanović); 15% Serbian families,
two thirds of them typed in Cyrillic (≈10% of records); 80% births (child, mother with maiden
surname, father and his father's name), 12% marriages, 8% deaths; principals born 1945–2025;
places from the gazetteer (Prishtinë two times in three); unique register references; valid
JMBGs (check digit, date and sex agreeing) on 30% of records and Kosovo personal numbers on 10%.
Every record passes validation (the bench fails if one does not).

Machine: 2 cores, 24 GiB, shared with other work and noisy: expect run-to-run variation of tens
of percent in tail latencies; the baselines are measured in the same run for that reason.
";

// ---- options ---------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Opts {
    quick: bool,
    forced_quick: bool,
    write: bool,
    register: usize,
    import: usize,
    search: usize,
    per_class: usize,
    stages: HashSet<String>,
    dir: Option<PathBuf>,
    /// The Markdown file `--write` updates (default: BENCHMARKS.md at the repository root).
    out: Option<PathBuf>,
}

fn parse_opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let under_cargo_bench = args.iter().any(|a| a == "--bench");
    let full = args.iter().any(|a| a == "--full");
    let quick_flag = args.iter().any(|a| a == "--quick");
    let quick = quick_flag || !(under_cargo_bench || full);
    let mut o = Opts {
        quick,
        forced_quick: quick && !quick_flag,
        write: false,
        register: if quick { 200 } else { FULL_REGISTER },
        import: if quick { 5_000 } else { FULL_IMPORT },
        search: if quick { 5_000 } else { FULL_SEARCH },
        per_class: if quick { 30 } else { 150 },
        stages: ["register", "import", "search"]
            .into_iter()
            .map(String::from)
            .collect(),
        dir: None,
        out: None,
    };
    let mut it = args.into_iter();
    let num = |v: Option<String>, flag: &str| -> usize {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a whole number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" | "--quick" | "--full" => {}
            "--write" => o.write = true,
            "--register" => o.register = num(it.next(), "--register"),
            "--import" => o.import = num(it.next(), "--import"),
            "--search" => o.search = num(it.next(), "--search"),
            "--queries" => o.per_class = num(it.next(), "--queries"),
            "--only" => {
                let v = it.next().expect("--only needs register,import,search");
                o.stages = v.split(',').map(|s| s.trim().to_string()).collect();
            }
            "--dir" => o.dir = Some(PathBuf::from(it.next().expect("--dir needs a path"))),
            "--out" => {
                o.write = true;
                o.out = Some(PathBuf::from(it.next().expect("--out needs a path")));
            }
            "--help" | "-h" => {
                println!("{}", HELP);
                std::process::exit(0);
            }
            other => eprintln!("node_bench: ignoring argument {other:?}"),
        }
    }
    o
}

const HELP: &str =
    "node_bench [--quick|--full] [--write] [--register N] [--import N] [--search N] \
[--queries N] [--only register,import,search] [--dir PATH] [--out FILE.md]";

// ---- statistics ------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    n: usize,
    median: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    mean: Duration,
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], q: f64) -> Duration {
    let n = sorted.len();
    let k = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted[k]
}

fn summarise(samples: &[Duration]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    let mut s = samples.to_vec();
    s.sort_unstable();
    let total: Duration = s.iter().sum();
    Summary {
        n: s.len(),
        median: pct(&s, 0.50),
        p90: pct(&s, 0.90),
        p99: pct(&s, 0.99),
        max: *s.last().expect("non-empty"),
        mean: total / s.len() as u32,
    }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v < 1.0 {
        format!("{v:.3}")
    } else if v < 100.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn tick(ok: bool) -> &'static str {
    if ok {
        "✅"
    } else {
        "❌"
    }
}

// ---- small system helpers --------------------------------------------------------------------

/// A `kB` field of `/proc/<pid>/status` (VmRSS, VmHWM), in KiB.
fn proc_status_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn command_line(cmd: &str, args: &[&str], cwd: &Path) -> Option<String> {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(cwd)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The filesystem type of the mount holding `p` (longest mount-point prefix in /proc/mounts).
fn fs_type(p: &Path) -> String {
    let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _dev = f.next()?;
            let mnt = f.next()?;
            let ty = f.next()?;
            p.starts_with(mnt).then(|| (mnt.len(), ty.to_string()))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, t)| t)
        .unwrap_or_else(|| "unknown".into())
}

struct Machine {
    load: String,
    cpu: String,
    cores: usize,
    mem: String,
    kernel: String,
    rustc: String,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = proc_meminfo_total()
        .map(|k| format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".into());
    Machine {
        load: std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "?".into()),
        cpu,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        mem,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        rustc: command_line("rustc", &["-V"], Path::new(".")).unwrap_or_else(|| "?".into()),
    }
}

fn proc_meminfo_total() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    s.lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("node/ has a parent")
        .to_path_buf()
}

fn new_node(dir: &Path) -> (Paths, Node) {
    let paths = Paths::new(dir, None);
    Node::init(&paths, MUNICIPALITY, "1").expect("init node");
    let node = Node::open(&paths).expect("open node");
    (paths, node)
}

/// Writes `n` generated records as an import CSV; returns their facts in row order (row `i` is
/// CSV line `i + 2`) and the file size in bytes.
fn write_csv(path: &Path, gen: &mut Gen, n: usize) -> std::io::Result<(Vec<Facts>, u64)> {
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut w = CsvWriter::new(file).map_err(std::io::Error::other)?;
    let mut facts = Vec::with_capacity(n);
    for _ in 0..n {
        let s = gen.record();
        w.write(s.kind, &s.doc).map_err(std::io::Error::other)?;
        facts.push(s.facts);
    }
    w.finish().map_err(std::io::Error::other)?;
    let size = std::fs::metadata(path)?.len();
    Ok((facts, size))
}

// ---- 1. registration -------------------------------------------------------------------------

struct RegisterResult {
    n: usize,
    node: Summary,
    node_rate: f64,
    mem: Summary,
    mem_rate: f64,
    raw: Summary,
    raw_tx: Summary,
    op_bytes: usize,
    record_bytes: usize,
    warnings: usize,
}

fn bench_register(n: usize, base: &Path) -> RegisterResult {
    eprintln!("register: generating {n} records");
    let mut gen = Gen::new(SEED ^ 0x01);
    let docs: Vec<(RecordKind, serde_json::Value)> = (0..n)
        .map(|_| {
            let s = gen.record();
            (s.kind, s.doc)
        })
        .collect();
    let clerk = Node::clerk_unchecked(CLERK);

    // The CPU part alone: the same calls on the in-memory store.
    eprintln!("register: in-memory node");
    let mem_node = Node::in_memory(MUNICIPALITY, "1").expect("in-memory node");
    let mut mem_lat = Vec::with_capacity(n);
    let t0 = Instant::now();
    for (kind, doc) in docs.iter().cloned() {
        let t = Instant::now();
        mem_node
            .register(&clerk, kind, doc)
            .expect("register (memory)");
        mem_lat.push(t.elapsed());
    }
    let mem_wall = t0.elapsed();
    drop(mem_node);

    eprintln!("register: sled node on disk");
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let (paths, node) = new_node(dir.path());
    let mut lat = Vec::with_capacity(n);
    let mut warnings = 0;
    let t0 = Instant::now();
    for (i, (kind, doc)) in docs.into_iter().enumerate() {
        let t = Instant::now();
        let saved = node
            .register(&clerk, kind, doc)
            .unwrap_or_else(|e| panic!("record {i} was refused: {e}"));
        lat.push(t.elapsed());
        warnings += saved.warnings.len();
    }
    let wall = t0.elapsed();
    drop(node);

    // How much the node wrote per record, to size the baselines alike.
    let (op_bytes, record_bytes) = {
        let db = sled::open(&paths.db).expect("reopen sled");
        let mean = |t: &str| {
            let tree = db.open_tree(t).expect("tree");
            let (mut total, mut k) = (0usize, 0usize);
            for kv in tree.iter() {
                let (_, v) = kv.expect("read");
                total += v.len();
                k += 1;
            }
            total / k.max(1)
        };
        (mean("ops"), mean("records"))
    };

    eprintln!("register: raw sled baselines");
    let (raw, raw_tx) = sled_baselines(n, base, op_bytes, record_bytes);
    RegisterResult {
        n,
        node: summarise(&lat),
        node_rate: n as f64 / wall.as_secs_f64(),
        mem: summarise(&mem_lat),
        mem_rate: n as f64 / mem_wall.as_secs_f64(),
        raw,
        raw_tx,
        op_bytes,
        record_bytes,
        warnings,
    }
}

/// Raw sled on the same disk, with the node's sled settings: (one insert of op+record bytes and
/// a flush; a four-tree transaction shaped like the node's and a flush).
fn sled_baselines(
    n: usize,
    base: &Path,
    op_bytes: usize,
    record_bytes: usize,
) -> (Summary, Summary) {
    use sled::transaction::{ConflictableTransactionError, Transactional};
    let mut rng = Rng::new(SEED ^ 0x05);
    let mut bytes = |len: usize| -> Vec<u8> { (0..len).map(|_| rng.next_u64() as u8).collect() };
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let db = sled::Config::new()
        .path(dir.path().join("raw"))
        .flush_every_ms(Some(1000))
        .open()
        .expect("sled");

    let tree = db.open_tree("raw").expect("tree");
    let mut raw = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let v = bytes(op_bytes + record_bytes);
        let t = Instant::now();
        tree.insert(i.to_be_bytes(), v).expect("insert");
        db.flush().expect("flush");
        raw.push(t.elapsed());
    }

    let trees: Vec<sled::Tree> = ["ops", "records", "regseq", "meta"]
        .iter()
        .map(|t| db.open_tree(t).expect("tree"))
        .collect();
    let mut tx = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let op = bytes(op_bytes);
        let rec = bytes(record_bytes);
        let head = bytes(120);
        let regno = format!("{MUNICIPALITY}-2026-B-1-{i:06}");
        let t = Instant::now();
        let s: &[sled::Tree] = &trees;
        s.transaction(|tx| {
            tx[0].insert(&i.to_be_bytes(), op.as_slice())?;
            tx[1].insert(regno.as_bytes(), rec.as_slice())?;
            tx[2].insert(b"2026-B".as_slice(), &i.to_be_bytes())?;
            tx[3].insert(b"head".as_slice(), head.as_slice())?;
            Ok::<(), ConflictableTransactionError<()>>(())
        })
        .expect("transaction");
        db.flush().expect("flush");
        tx.push(t.elapsed());
    }
    (summarise(&raw), summarise(&tx))
}

// ---- 2. import through the binary ------------------------------------------------------------

struct ImportResult {
    rows: usize,
    csv_bytes: u64,
    accepted: Option<u64>,
    skipped: Option<u64>,
    rejected: Option<u64>,
    exit_ok: bool,
    wall: Duration,
    rows_per_s: f64,
    peak_rss_kib: Option<u64>,
    rss_method: &'static str,
    cpu: Option<(f64, f64)>,
    db_bytes: u64,
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bench_import(n: usize, base: &Path) -> ImportResult {
    let bin = env!("CARGO_BIN_EXE_civreg-node");
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let csv = dir.path().join("historic.csv");
    eprintln!("import: writing {n} CSV rows");
    let (_, csv_bytes) = write_csv(&csv, &mut Gen::new(SEED ^ 0x02), n).expect("csv");
    let data = dir.path().join("node");
    let node_cmd = || {
        let mut c = Command::new(bin);
        c.arg("--data-dir").arg(&data).stdin(Stdio::null());
        c
    };
    run_ok(
        node_cmd().args(["init", "--municipality", MUNICIPALITY, "--node-id", "1"]),
        "civreg-node init",
    );
    run_ok(
        node_cmd()
            .args(["clerk", "add", CLERK])
            .env("CIVREG_NEW_CLERK_PASSWORD", CLERK_PASSWORD),
        "civreg-node clerk add",
    );

    eprintln!("import: civreg-node import ({n} rows)");
    let out_path = dir.path().join("import.out");
    let err_path = dir.path().join("import.err");
    let time_path = dir.path().join("import.time");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M %e %U %S", "-o"]).arg(&time_path).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("--data-dir")
        .arg(&data)
        .arg("import")
        .arg(&csv)
        .env("CIVREG_CLERK", CLERK)
        .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(std::fs::File::create(&err_path).expect("err"));
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("spawn civreg-node import");
    let pid = child.id().to_string();
    let mut polled_hwm = None;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if !gnu_time {
            if let Some(h) = proc_status_kib(&pid, "VmHWM:") {
                polled_hwm = Some(h);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = t0.elapsed();

    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let first = stdout.lines().next().unwrap_or("");
    let f: Vec<&str> = first.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
    let (accepted, skipped, rejected) = (field(2), field(4), field(8));
    if rejected != Some(0) {
        eprintln!("import: the node did not accept every row:\n{first}");
        for l in stdout.lines().skip(1).take(5) {
            eprintln!("  {l}");
        }
        eprintln!("{}", std::fs::read_to_string(&err_path).unwrap_or_default());
    }
    let (peak, cpu) = if gnu_time {
        let t = std::fs::read_to_string(&time_path).unwrap_or_default();
        let v: Vec<f64> = t
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() == 4 {
            (Some(v[0] as u64), Some((v[2], v[3])))
        } else {
            (None, None)
        }
    } else {
        (polled_hwm, None)
    };
    ImportResult {
        rows: n,
        csv_bytes,
        accepted,
        skipped,
        rejected,
        exit_ok: status.success(),
        wall,
        rows_per_s: n as f64 / wall.as_secs_f64(),
        peak_rss_kib: peak,
        rss_method: if gnu_time {
            "ru_maxrss (GNU time)"
        } else {
            "VmHWM polled every 10 ms"
        },
        cpu,
        db_bytes: dir_size(&data.join("db")),
    }
}

// ---- 3. search -------------------------------------------------------------------------------

const CLASSES: &[(&str, &str)] = &[
    ("exact", "\"Given Surname\" as typed in the record"),
    (
        "surname, common",
        "one of the six most common surnames alone",
    ),
    (
        "surname, rare",
        "a surname from the rare half of its list alone",
    ),
    (
        "misspelt",
        "given name and surname with 1–2 letter edits (lowercase, no diacritics)",
    ),
    (
        "Cyrillic",
        "a Serbian name typed in Cyrillic (record in either script)",
    ),
    ("name + year", "\"Given Surname YYYY\" (year of birth)"),
    (
        "--born range",
        "surname with `--born FROM..TO`, a window of up to 5 years",
    ),
    ("personal number", "a JMBG or Kosovo personal number"),
    (
        "name + place",
        "\"Given Surname Place\" (place of the event, as written)",
    ),
];

struct Q {
    class: usize,
    query: Query,
    target: Option<String>,
}

fn misspell(word: &str, rng: &mut Rng) -> String {
    let base: Vec<char> = normalize::fold(word).chars().collect();
    let len = base.len();
    let edits = match len {
        0..=3 => return base.into_iter().collect(),
        4 | 5 => 1,
        _ => 1 + rng.below(2) as usize,
    };
    let letters: Vec<char> = "abcdefghijklmnopqrstuvwxyz".chars().collect();
    loop {
        let mut w = base.clone();
        for _ in 0..edits {
            let i = rng.below(w.len() as u64) as usize;
            match rng.below(4) {
                0 => {
                    let c = *rng.pick(&letters);
                    w[i] = c;
                }
                1 if w.len() > 4 => {
                    w.remove(i);
                }
                2 => {
                    let c = *rng.pick(&letters);
                    w.insert(i, c);
                }
                _ if i + 1 < w.len() => w.swap(i, i + 1),
                _ => {
                    let c = *rng.pick(&letters);
                    w[i] = c;
                }
            }
        }
        if w != base {
            return w.into_iter().collect();
        }
    }
}

fn text_query(text: String) -> Query {
    Query::text(&text)
}

fn make_queries(facts: &[Facts], per_class: usize, rng: &mut Rng) -> Vec<Q> {
    let pool = |pred: &dyn Fn(&Facts) -> bool| -> Vec<&Facts> {
        facts
            .iter()
            .filter(|f| pred(f) && f.regno.is_some())
            .collect()
    };
    let any = pool(&|_| true);
    let common = pool(&|f| !f.serbian && f.surname_rank < 6);
    let rare = pool(&|f| f.surname_rank >= f.surname_list_len / 2);
    let serbian = pool(&|f| f.serbian);
    let with_dob = pool(&|f| f.dob.is_some());
    let with_pnum = pool(&|f| f.pnum.is_some());
    let mut out = Vec::new();
    for (class, _) in CLASSES.iter().enumerate() {
        let src = match class {
            1 => &common,
            2 => &rare,
            4 => &serbian,
            5 | 6 => &with_dob,
            7 => &with_pnum,
            _ => &any,
        };
        if src.is_empty() {
            continue;
        }
        for _ in 0..per_class {
            let f = *rng.pick(src);
            let target = f.regno.clone();
            let (query, target) = match class {
                0 => (text_query(format!("{} {}", f.given, f.surname)), target),
                1 | 2 => (text_query(f.surname.clone()), None),
                3 => {
                    let given = if rng.chance(0.4) {
                        misspell(&f.given_latin, rng)
                    } else {
                        normalize::fold(&f.given_latin)
                    };
                    let surname = misspell(&f.surname_latin, rng);
                    (text_query(format!("{given} {surname}")), target)
                }
                4 => (
                    text_query(format!(
                        "{} {}",
                        synth::to_cyrillic(&f.given_latin),
                        synth::to_cyrillic(&f.surname_latin)
                    )),
                    target,
                ),
                5 => {
                    let y = chrono::Datelike::year(&f.dob.expect("dob"));
                    (text_query(format!("{} {} {y}", f.given, f.surname)), target)
                }
                6 => {
                    let dob = f.dob.expect("dob");
                    let before = rng.between(0, 2 * 365);
                    let after = rng.between(0, 2 * 365);
                    let mut q = text_query(f.surname.clone());
                    q.born = Some(DateFilter::Range(
                        dob - chrono::Duration::days(before),
                        dob + chrono::Duration::days(after),
                    ));
                    (q, target)
                }
                7 => (text_query(f.pnum.clone().expect("pnum")), target),
                _ => (
                    text_query(format!("{} {} {}", f.given, f.surname, f.place_text)),
                    target,
                ),
            };
            out.push(Q {
                class,
                query,
                target,
            });
        }
    }
    out
}

struct ClassStats {
    lat: Summary,
    mean_hits: f64,
    mean_matching: f64,
    found: Option<(usize, usize)>,
}

struct SearchResult {
    records: usize,
    fill: Duration,
    open: Duration,
    index: Duration,
    decode: Duration,
    rss_growth_kib: Option<u64>,
    vocab: usize,
    postings: u64,
    pnums: u64,
    classes: Vec<ClassStats>,
    overall: ClassStats,
    queries: usize,
    surname_shares: Vec<(String, f64)>,
    list_sizes: (usize, usize, usize),
    /// Shares of births, marriages, deaths, Cyrillic-typed records.
    mix: [f64; 4],
}

/// Recounts what the index holds, with the index's own tokenisation (see `index.rs`,
/// `Index::add_name`): distinct words, postings (word, record, person, field), personal numbers.
fn index_stats(node: &Node) -> (usize, u64, u64) {
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let mut postings = 0u64;
    let mut pnums = 0u64;
    let mut per_doc: HashSet<(u32, u8, u8)> = HashSet::new();
    for st in node.all_states() {
        let st = st.expect("record state");
        if st.voided.is_some() {
            continue;
        }
        let rec = st.record().expect("record");
        per_doc.clear();
        for (i, p) in rec.people().iter().enumerate() {
            let names = [
                (0u8, Some(p.given_name)),
                (1, Some(p.surname)),
                (2, p.other_surname),
                (3, p.father_given_name),
            ];
            for (field, text) in names {
                let Some(text) = text else { continue };
                for tok in text.split(|c: char| c.is_whitespace() || c == '-') {
                    for v in normalize::variants(tok) {
                        for w in normalize::tokens(&v) {
                            let next = vocab.len() as u32;
                            let id = *vocab.entry(w).or_insert(next);
                            per_doc.insert((id, i as u8, field));
                        }
                    }
                }
            }
            pnums += p.personal_numbers.iter().count() as u64;
        }
        postings += per_doc.len() as u64;
    }
    (vocab.len(), postings, pnums)
}

fn bench_search(n: usize, per_class: usize, base: &Path) -> SearchResult {
    let dir = tempfile::tempdir_in(base).expect("tempdir");
    let csv = dir.path().join("register.csv");
    eprintln!("search: writing {n} records as CSV");
    let mut gen = Gen::new(SEED ^ 0x03);
    let surname_shares = gen.top_surnames(6);
    let list_sizes = gen.list_sizes();
    let (mut facts, _) = write_csv(&csv, &mut gen, n).expect("csv");
    let share = |p: &dyn Fn(&Facts) -> bool| {
        facts.iter().filter(|f| p(f)).count() as f64 / facts.len().max(1) as f64
    };
    let mix = [
        share(&|f| f.kind == RecordKind::Birth),
        share(&|f| f.kind == RecordKind::Marriage),
        share(&|f| f.kind == RecordKind::Death),
        share(&|f| f.cyrillic),
    ];

    eprintln!("search: importing {n} records (library import_csv, sled on disk)");
    let node_dir = dir.path().join("node");
    let (paths, node) = new_node(&node_dir);
    let clerk = Node::clerk_unchecked(CLERK);
    let t0 = Instant::now();
    let file = std::io::BufReader::new(std::fs::File::open(&csv).expect("open csv"));
    let report = import_csv(&node, &clerk, file, |_| {}).expect("import");
    let fill = t0.elapsed();
    assert!(
        report.rejected.is_empty(),
        "generated rows were rejected, e.g. {:?}",
        report.rejected.first()
    );
    for a in &report.accepted {
        let row = a.line as usize - 2;
        facts[row].regno = Some(a.regno.clone());
    }
    drop(node);

    eprintln!("search: reopening and building the index");
    let t0 = Instant::now();
    let node = Node::open(&paths).expect("reopen");
    let open = t0.elapsed();
    let rss0 = proc_status_kib("self", "VmRSS:");
    let t0 = Instant::now();
    node.ensure_index().expect("index");
    let index = t0.elapsed();
    let rss1 = proc_status_kib("self", "VmRSS:");
    let t0 = Instant::now();
    let mut k = 0usize;
    for st in node.all_states() {
        st.expect("record state");
        k += 1;
    }
    let decode = t0.elapsed();
    assert_eq!(k, n, "records in the store");
    let (vocab, postings, pnums) = index_stats(&node);

    let mut rng = Rng::new(SEED ^ 0x04);
    let mut queries = make_queries(&facts, per_class, &mut rng);
    rng.shuffle(&mut queries);
    eprintln!("search: {} queries", queries.len());
    let mut lat: Vec<Vec<Duration>> = vec![Vec::new(); CLASSES.len()];
    let mut hits_n: Vec<Vec<usize>> = vec![Vec::new(); CLASSES.len()];
    let mut found: Vec<(usize, usize)> = vec![(0, 0); CLASSES.len()];
    for q in &queries {
        let t = Instant::now();
        let hits = node.search(&q.query).expect("search");
        lat[q.class].push(t.elapsed());
        hits_n[q.class].push(hits.len());
        if let Some(target) = &q.target {
            found[q.class].1 += 1;
            if hits.iter().any(|h| &h.regno == target) {
                found[q.class].0 += 1;
            }
        }
    }
    // Not timed: how many records each query matches in all.
    let mut matching: Vec<Vec<usize>> = vec![Vec::new(); CLASSES.len()];
    for q in &queries {
        let mut all = q.query.clone();
        all.limit = usize::MAX;
        matching[q.class].push(node.search(&all).expect("search").len());
    }
    let mean = |v: &[usize]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<usize>() as f64 / v.len() as f64
        }
    };
    let classes: Vec<ClassStats> = (0..CLASSES.len())
        .map(|c| ClassStats {
            lat: summarise(&lat[c]),
            mean_hits: mean(&hits_n[c]),
            mean_matching: mean(&matching[c]),
            found: (found[c].1 > 0).then_some(found[c]),
        })
        .collect();
    let all_lat: Vec<Duration> = lat.concat();
    let all_found = found.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let overall = ClassStats {
        lat: summarise(&all_lat),
        mean_hits: mean(&hits_n.concat()),
        mean_matching: mean(&matching.concat()),
        found: Some(all_found),
    };
    SearchResult {
        records: n,
        fill,
        open,
        index,
        decode,
        rss_growth_kib: rss0.zip(rss1).map(|(a, b)| b.saturating_sub(a)),
        vocab,
        postings,
        pnums,
        classes,
        overall,
        queries: queries.len(),
        surname_shares,
        list_sizes,
        mix,
    }
}

// ---- report ----------------------------------------------------------------------------------

fn lat_row(label: &str, s: &Summary, rate: Option<f64>) -> String {
    format!(
        "| {label} | {} | {} | {} | {} | {} | {} |\n",
        ms(s.median),
        ms(s.p90),
        ms(s.p99),
        ms(s.max),
        ms(s.mean),
        rate.map(|r| format!("{r:.0}/s"))
            .unwrap_or_else(|| "".into())
    )
}

struct Report {
    opts: Opts,
    register: Option<RegisterResult>,
    import: Option<ImportResult>,
    search: Option<SearchResult>,
    total: Duration,
    bench_dir: PathBuf,
    /// Taken at the start: the load average then says how busy the shared machine was.
    machine: Machine,
}

fn render(r: &Report) -> String {
    let root = repo_root();
    let commit = command_line("git", &["rev-parse", "--short", "HEAD"], &root)
        .unwrap_or_else(|| "unknown".into());
    let dirty = command_line(
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
        &root,
    )
    .is_some_and(|s| !s.is_empty());
    let m = &r.machine;
    let mut s = String::new();
    let mode = if r.opts.quick {
        "quick run (small sizes: figures are indicative only and not comparable with the targets)"
    } else {
        "full run"
    };
    s.push_str(&format!(
        "## Node benchmark — {}\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    s.push_str(&format!(
        "- commit `{commit}`{}; {mode}; total bench time {}\n",
        if dirty {
            " (with uncommitted changes in the working tree)"
        } else {
            ""
        },
        secs(r.total)
    ));
    s.push_str(&format!(
        "- machine: {} × {}, {} RAM, Linux {}, databases on {} ({}); {}; release profile with `debug = 1`; load average (1/5/15 min) at start {}, at end {}\n",
        m.cores,
        m.cpu,
        m.mem,
        m.kernel,
        fs_type(&r.bench_dir),
        r.bench_dir.display(),
        m.rustc,
        m.load,
        machine().load
    ));
    s.push_str(&format!(
        "- command: `cargo bench -p civreg-node --bench node_bench --{}{}`\n\n",
        if r.opts.quick { " --quick" } else { "" },
        if r.opts.write { " --write" } else { "" }
    ));

    // Targets first.
    s.push_str("### Targets\n\n| target | measured | |\n|---|---|---|\n");
    if let Some(g) = &r.register {
        let p99 = g.node.p99.as_secs_f64() * 1e3;
        s.push_str(&format!(
            "| registration p99 < {TARGET_REGISTER_P99_MS:.0} ms (one record, flushed) | p99 {} ms over {} registrations | {} |\n",
            ms(g.node.p99),
            thousands(g.n as u64),
            tick(p99 < TARGET_REGISTER_P99_MS)
        ));
    }
    if let Some(i) = &r.import {
        let ok = i.rows_per_s >= TARGET_IMPORT_ROWS_PER_S && i.rejected == Some(0);
        s.push_str(&format!(
            "| import of {} rows ≥ {} rows/s, peak memory reported | {} rows/s over {} rows, peak RSS {} | {} |\n",
            thousands(FULL_IMPORT as u64),
            thousands(TARGET_IMPORT_ROWS_PER_S as u64),
            thousands(i.rows_per_s as u64),
            thousands(i.rows as u64),
            i.peak_rss_kib.map(mib).unwrap_or_else(|| "?".into()),
            tick(ok)
        ));
    }
    if let Some(q) = &r.search {
        let p99 = q.overall.lat.p99.as_secs_f64() * 1e3;
        s.push_str(&format!(
            "| search over {} records p99 < {TARGET_SEARCH_P99_MS:.0} ms | p99 {} ms over {} queries on {} records | {} |\n",
            thousands(FULL_SEARCH as u64),
            ms(q.overall.lat.p99),
            thousands(q.queries as u64),
            thousands(q.records as u64),
            tick(p99 < TARGET_SEARCH_P99_MS)
        ));
    }
    s.push('\n');

    if let Some(g) = &r.register {
        s.push_str(&format!(
            "### Registration ({} records, one `Node::register` call each)\n\n",
            thousands(g.n as u64)
        ));
        s.push_str("| ms per record | median | p90 | p99 | max | mean | rate |\n|---|---|---|---|---|---|---|\n");
        s.push_str(&lat_row(
            "**`Node::register`, sled on disk, flushed**",
            &g.node,
            Some(g.node_rate),
        ));
        s.push_str(&lat_row(
            &format!(
                "baseline: raw sled insert of {} B + flush",
                g.op_bytes + g.record_bytes
            ),
            &g.raw,
            None,
        ));
        s.push_str(&lat_row(
            "baseline: sled transaction over 4 trees (op, record, sequence, head) + flush",
            &g.raw_tx,
            None,
        ));
        s.push_str(&lat_row(
            "`Node::register` on the in-memory store (CPU only)",
            &g.mem,
            Some(g.mem_rate),
        ));
        s.push_str(&format!(
            "\nMean sealed sizes written per record: op {} B, record state {} B. Validation warnings on the generated records: {}.\n\n",
            g.op_bytes, g.record_bytes, g.warnings
        ));
    }

    if let Some(i) = &r.import {
        s.push_str(&format!(
            "### Import ({} rows, `civreg-node import` as a child process)\n\n",
            thousands(i.rows as u64)
        ));
        let opt = |v: Option<u64>| v.map(thousands).unwrap_or_else(|| "?".into());
        s.push_str("| rows | imported / skipped / rejected | wall | rows/s | peak RSS | CPU user + sys | CSV | database on disk |\n|---|---|---|---|---|---|---|---|\n");
        s.push_str(&format!(
            "| {} | {} / {} / {}{} | {} | **{}** | **{}** | {} | {:.1} MiB | {:.1} MiB |\n\n",
            thousands(i.rows as u64),
            opt(i.accepted),
            opt(i.skipped),
            opt(i.rejected),
            if i.exit_ok { "" } else { " (exit code ≠ 0)" },
            secs(i.wall),
            thousands(i.rows_per_s as u64),
            i.peak_rss_kib.map(mib).unwrap_or_else(|| "?".into()),
            i.cpu
                .map(|(u, sy)| format!("{u:.2} s + {sy:.2} s"))
                .unwrap_or_else(|| "?".into()),
            i.csv_bytes as f64 / 1048576.0,
            i.db_bytes as f64 / 1048576.0,
        ));
        s.push_str(&format!(
            "Wall time is spawn to exit (process start, database open, password check, import, report). Peak RSS: {}.\n\n",
            i.rss_method
        ));
    }

    if let Some(q) = &r.search {
        s.push_str(&format!(
            "### Search ({} records, {} queries)\n\n",
            thousands(q.records as u64),
            thousands(q.queries as u64)
        ));
        s.push_str(&format!(
            "- filling the node: library `import_csv` on sled, {} ({} rows/s)\n",
            secs(q.fill),
            thousands((q.records as f64 / q.fill.as_secs_f64()) as u64)
        ));
        s.push_str(&format!(
            "- `Node::open`: {} ms; **index build (`ensure_index`): {}** ({} records/s); of which decrypt + parse alone (a full scan without indexing): {}\n",
            ms(q.open),
            secs(q.index),
            thousands((q.records as f64 / q.index.as_secs_f64()) as u64),
            secs(q.decode)
        ));
        s.push_str(&format!(
            "- index size: {} vocabulary words, {} postings, {} personal numbers; resident memory grew by {} while building it\n",
            thousands(q.vocab as u64),
            thousands(q.postings),
            thousands(q.pnums),
            q.rss_growth_kib.map(mib).unwrap_or_else(|| "?".into())
        ));
        s.push_str(&format!(
            "- data: {:.0}% births, {:.0}% marriages, {:.0}% deaths, {:.0}% typed in Cyrillic; {} Albanian and {} Serbian surnames, {} given names; most common Albanian surnames and their share of Albanian families: {}\n\n",
            q.mix[0] * 100.0,
            q.mix[1] * 100.0,
            q.mix[2] * 100.0,
            q.mix[3] * 100.0,
            q.list_sizes.0,
            q.list_sizes.1,
            q.list_sizes.2,
            q.surname_shares
                .iter()
                .map(|(n, p)| format!("{n} {:.1}%", p * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        s.push_str("| query class | n | median ms | p90 | p99 | max | mean hits (limit 20) | mean records matching | made-from record in top 20 |\n|---|---|---|---|---|---|---|---|---|\n");
        let row = |label: &str, c: &ClassStats| {
            format!(
                "| {label} | {} | {} | {} | {} | {} | {:.1} | {:.0} | {} |\n",
                c.lat.n,
                ms(c.lat.median),
                ms(c.lat.p90),
                ms(c.lat.p99),
                ms(c.lat.max),
                c.mean_hits,
                c.mean_matching,
                c.found
                    .map(|(f, t)| format!("{:.0}% ({f}/{t})", 100.0 * f as f64 / t.max(1) as f64))
                    .unwrap_or_else(|| "—".into())
            )
        };
        for (i, c) in q.classes.iter().enumerate() {
            if c.lat.n > 0 {
                s.push_str(&row(CLASSES[i].0, c));
            }
        }
        s.push_str(&row("**all**", &q.overall));
        s.push_str("\nQuery classes: ");
        s.push_str(
            &CLASSES
                .iter()
                .map(|(n, d)| format!("*{n}*: {d}"))
                .collect::<Vec<_>>()
                .join("; "),
        );
        s.push_str(". Queries are drawn from random records (seeded) and run shuffled.\n\n");
    }
    s
}

fn write_section(section: &str, out: Option<&Path>) -> std::io::Result<PathBuf> {
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("BENCHMARKS.md"));
    let block = format!("{BEGIN}\n{}\n{END}", section.trim_end());
    let text = match std::fs::read_to_string(&path) {
        Ok(old) => match (old.find(BEGIN), old.find(END)) {
            (Some(a), Some(b)) if b > a => {
                format!("{}{block}{}", &old[..a], &old[b + END.len()..])
            }
            _ => format!("{}\n\n{block}\n", old.trim_end()),
        },
        Err(_) => format!("{INTRO}\n{block}\n"),
    };
    std::fs::write(&path, text)?;
    Ok(path)
}

fn main() {
    let opts = parse_opts();
    if opts.forced_quick {
        eprintln!("node_bench: not run by `cargo bench` (no --bench): quick run only; pass --full for the full one");
    }
    let bench_dir = opts
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&bench_dir).expect("bench dir");
    let machine = machine();
    let t0 = Instant::now();
    let stage = |name: &str| opts.stages.contains(name);
    let register = stage("register").then(|| bench_register(opts.register, &bench_dir));
    let import = stage("import").then(|| bench_import(opts.import, &bench_dir));
    let search = stage("search").then(|| bench_search(opts.search, opts.per_class, &bench_dir));
    let report = Report {
        opts: opts.clone(),
        register,
        import,
        search,
        total: t0.elapsed(),
        bench_dir,
        machine,
    };
    let section = render(&report);
    println!("{section}");
    if opts.write {
        match write_section(&section, opts.out.as_deref()) {
            Ok(p) => eprintln!("node_bench: wrote {}", p.display()),
            Err(e) => {
                eprintln!("node_bench: could not write the Markdown file: {e}");
                std::process::exit(1);
            }
        }
    }
}
