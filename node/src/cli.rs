//! The `civreg-node` command line. Everything prints for people by default and as JSON with
//! `--json`; every error exits non-zero with a message that says what to do.

use crate::import::{import_csv, ImportError};
use crate::index::{DateFilter, Query};
use crate::node::{Clerk, Node, NodeError, Paths, RecordState};
use anyhow::{anyhow, bail, Context, Result};
use civreg_shared::gazetteer;
use civreg_shared::model::RecordKind;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "civreg-node",
    version,
    about = "civreg municipal office node: register, amend and search civil-status entries, offline"
)]
pub struct Cli {
    /// The node's data directory.
    #[arg(
        long,
        env = "CIVREG_DATA_DIR",
        global = true,
        default_value = "./civreg-node-data"
    )]
    pub data_dir: PathBuf,
    /// The key file that encrypts the database (default: DATA_DIR/node.key). Keep a backup of it.
    #[arg(long, env = "CIVREG_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log as JSON lines (levels from RUST_LOG, default warn).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    Birth,
    Marriage,
    Death,
}

impl From<KindArg> for RecordKind {
    fn from(k: KindArg) -> RecordKind {
        match k {
            KindArg::Birth => RecordKind::Birth,
            KindArg::Marriage => RecordKind::Marriage,
            KindArg::Death => RecordKind::Death,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new node: data dir, key file (0600) and an empty database.
    Init {
        /// Municipality code from the gazetteer (`civreg-node municipalities`); taken from the
        /// bundle when one is given.
        #[arg(long, required_unless_present = "bundle")]
        municipality: Option<String>,
        /// This workstation's id within its office: 1 for the first, then e.g. 2, ws3.
        #[arg(long)]
        node_id: Option<String>,
        /// An enrollment bundle from `civreg-hub pki issue`: enrols the node for sync.
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Run the background sync worker until Ctrl-C / SIGTERM. Other commands keep working.
    Serve {
        /// Hub address (default: the one in the enrollment bundle).
        #[arg(long)]
        hub: Option<String>,
        /// Seconds between sync rounds while the link is up.
        #[arg(long, default_value_t = 5)]
        interval_secs: u64,
    },
    /// Sync state: online or offline, last success, ops waiting and the oldest one's age, last error.
    Status,
    /// Sync with the hub: push this node's ops, then pull its municipality's changes.
    Sync {
        /// One round, then exit (exit 3: hub unreachable, try later; exit 4: refused, will not heal).
        #[arg(long)]
        once: bool,
        /// Hub address (default: the one in the enrollment bundle).
        #[arg(long)]
        hub: Option<String>,
    },
    /// Manage clerks.
    Clerk {
        #[command(subcommand)]
        command: ClerkCommand,
    },
    /// Register a new record from a JSON file (`-` reads standard input; several JSON documents
    /// in a row are registered one after another, each reported as soon as it is saved).
    Register {
        kind: KindArg,
        #[arg(long)]
        file: PathBuf,
    },
    /// Amend fields of a record from a JSON file of changes.
    Amend {
        regno: String,
        #[arg(long)]
        file: PathBuf,
        /// Why the record is corrected (recorded in its history).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Void a record (it stays, with its history, but leaves search).
    Void {
        regno: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a record.
    Show {
        regno: String,
        /// Show every version, with who changed what and when.
        #[arg(long)]
        history: bool,
    },
    /// Search this node's records by names in any script, dates, places or personal numbers.
    Search {
        text: Vec<String>,
        /// Date of birth: YYYY, YYYY-MM-DD or FROM..TO.
        #[arg(long)]
        born: Option<String>,
        /// Municipality in any of its names (registering municipality or place of the event).
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Import historic register entries from a CSV file (columns in the README).
    Import {
        file: PathBuf,
        /// Also write the full per-row report (accepted, skipped, rejected) to this file as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Walk the op log's hash chain and check every record against it.
    Verify,
    /// Write every record and op as JSON Lines.
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the municipalities and their codes.
    Municipalities,
}

#[derive(Subcommand, Debug)]
pub enum ClerkCommand {
    /// Add a clerk. The first clerk needs no sign-in; later ones must be added by a clerk.
    /// The new password comes from CIVREG_NEW_CLERK_PASSWORD or a prompt.
    Add { name: String },
    /// List clerk names.
    List,
}

/// The outcome of a command: what to print, and whether it failed.
struct Out {
    json: bool,
}

impl Out {
    fn print(&self, value: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }
}

fn read_tty_line(prompt: &str) -> Result<String> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("no terminal to ask on: set CIVREG_CLERK and CIVREG_CLERK_PASSWORD")?;
    write!(tty, "{prompt}")?;
    tty.flush()?;
    let mut line = String::new();
    std::io::BufReader::new(tty).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The signed-in clerk, from CIVREG_CLERK / CIVREG_CLERK_PASSWORD or a prompt.
fn sign_in(node: &Node) -> Result<Clerk> {
    let name = match std::env::var("CIVREG_CLERK") {
        Ok(n) if !n.is_empty() => n,
        _ => read_tty_line("clerk: ")?,
    };
    let password = match std::env::var("CIVREG_CLERK_PASSWORD") {
        Ok(p) => p,
        Err(_) => rpassword::prompt_password(format!("password for {name}: "))
            .context("could not read the password: set CIVREG_CLERK_PASSWORD")?,
    };
    Ok(node.authenticate(&name, &password)?)
}

fn new_password(name: &str) -> Result<String> {
    if let Ok(p) = std::env::var("CIVREG_NEW_CLERK_PASSWORD") {
        return Ok(p);
    }
    let a = rpassword::prompt_password(format!("new password for {name}: "))
        .context("could not read the password: set CIVREG_NEW_CLERK_PASSWORD")?;
    let b = rpassword::prompt_password("repeat it: ")?;
    if a != b {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(a)
}

fn read_json_file(path: &PathBuf) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{} is not valid JSON: {e} (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

fn state_json(st: &RecordState) -> Result<serde_json::Value> {
    Ok(json!({
        "regno": st.regno,
        "kind": st.kind,
        "record": st.record()?.to_json(),
        "voided": st.voided,
        "versions": st.ops.len(),
        "created_ms": st.created.wall_ms,
        "updated_ms": st.updated.wall_ms,
    }))
}

fn fmt_ms(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn print_fields(prefix: &str, v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                print_fields(&p, c, out);
            }
        }
        serde_json::Value::String(s) => out.push_str(&format!("  {prefix:<34} {s}\n")),
        other => out.push_str(&format!("  {prefix:<34} {other}\n")),
    }
}

fn register_stream(
    node: &Node,
    clerk: &Clerk,
    kind: RecordKind,
    file: &PathBuf,
    out: &Out,
) -> Result<bool> {
    let reader: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file)
                .with_context(|| format!("could not read {}", file.display()))?,
        ))
    };
    let mut all_ok = true;
    let mut n = 0;
    for doc in serde_json::Deserializer::from_reader(reader).into_iter::<serde_json::Value>() {
        n += 1;
        let doc = doc.map_err(|e| {
            anyhow!("document {n} is not valid JSON: {e}; nothing after it was read")
        })?;
        match node.register(clerk, kind, doc) {
            Ok(saved) => {
                out.print(
                    json!({"ok": true, "regno": saved.regno, "warnings": saved.warnings}),
                    || {
                        let mut s = format!("saved {}", saved.regno);
                        for w in &saved.warnings {
                            s.push_str(&format!("\n  warning: {}: {}", w.field, w.message));
                        }
                        s
                    },
                );
                std::io::stdout().flush()?;
            }
            Err(e) => {
                all_ok = false;
                report_error(out, &e);
            }
        }
    }
    if n == 0 {
        bail!("{} holds no JSON document", file.display());
    }
    Ok(all_ok)
}

fn report_error(out: &Out, e: &NodeError) {
    if out.json {
        let problems = match e {
            NodeError::Invalid(r) => serde_json::to_value(&r.problems).unwrap_or_default(),
            _ => json!([]),
        };
        println!(
            "{}",
            json!({"ok": false, "error": e.to_string(), "problems": problems})
        );
    } else {
        eprintln!("error: {e}");
    }
}

/// Runs a parsed command line. Returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let out = Out { json: cli.json };
    let paths = Paths::new(&cli.data_dir, cli.key_file.as_deref());
    match cli.command {
        Command::Municipalities => {
            let all = gazetteer::all();
            out.print(
                json!(all
                    .iter()
                    .map(|m| json!({"code": m.code, "sq": m.name_sq, "sr_latn": m.name_sr_latn, "sr_cyrl": m.name_sr_cyrl}))
                    .collect::<Vec<_>>()),
                || {
                    all.iter()
                        .map(|m| format!("{:<18} {} / {} / {}", m.code, m.name_sq, m.name_sr_latn, m.name_sr_cyrl))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
            Ok(0)
        }
        Command::Init {
            municipality,
            node_id,
            bundle,
        } => {
            let enrolment = match &bundle {
                Some(dir) => {
                    let text =
                        std::fs::read_to_string(dir.join("bundle.json")).with_context(|| {
                            format!(
                                "{} is not an enrollment bundle (no bundle.json)",
                                dir.display()
                            )
                        })?;
                    let b: crate::sync::Bundle = serde_json::from_str(&text)
                        .with_context(|| format!("{}/bundle.json is not valid", dir.display()))?;
                    Some(b)
                }
                None => None,
            };
            let municipality = municipality
                .or_else(|| enrolment.as_ref().and_then(|b| b.municipality.clone()))
                .ok_or_else(|| anyhow!("give --municipality or --bundle"))?;
            let code = gazetteer::resolve(&municipality)
                .map(|m| m.code.to_string())
                .unwrap_or(municipality);
            let node_id = node_id
                .or_else(|| enrolment.as_ref().and_then(|b| b.node_id.clone()))
                .unwrap_or_else(|| "1".into());
            if let Some(b) = &enrolment {
                if b.municipality.as_deref() != Some(code.as_str())
                    || b.node_id.as_deref() != Some(node_id.as_str())
                {
                    bail!(
                        "the bundle is for {} but this node would be {code}/{node_id}: leave out --municipality and --node-id",
                        b.identity
                    );
                }
            }
            let id = Node::init(&paths, &code, &node_id)?;
            if let Some(dir) = &bundle {
                crate::sync::install_bundle(dir, &paths.data_dir)?;
            }
            out.print(
                json!({"ok": true, "municipality": id.municipality, "node_id": id.node_id, "data_dir": paths.data_dir, "key_file": paths.key, "enrolled": bundle.is_some()}),
                || {
                    format!(
                        "initialised node {} of {} in {}{}\nkey file: {} (keep a copy somewhere safe: without it the data can not be read)\nnext: civreg-node --data-dir {} clerk add NAME",
                        id.node_id,
                        id.municipality,
                        paths.data_dir.display(),
                        if bundle.is_some() { ", enrolled for sync" } else { "" },
                        paths.key.display(),
                        paths.data_dir.display()
                    )
                },
            );
            Ok(0)
        }
        Command::Serve { hub, interval_secs } => {
            // Fail early on a node that can not sync at all.
            drop(Node::open(&paths)?);
            let (url, rt) = hub_and_runtime(&paths, hub)?;
            eprintln!("civreg-node: syncing with {url} every {interval_secs}s; Ctrl-C stops");
            let res = rt.block_on(crate::worker::serve(
                paths.clone(),
                url,
                std::time::Duration::from_secs(interval_secs.max(1)),
                shutdown_signal(),
            ));
            match res {
                Ok(()) => Ok(0),
                Err(e) => {
                    eprintln!("error: sync stopped: {e}");
                    Ok(4)
                }
            }
        }
        Command::Status => {
            let file = crate::worker::read_status(&paths.data_dir);
            let mut st = file.clone().unwrap_or_default();
            let mut live = false;
            if let Ok(node) = Node::open(&paths) {
                let (n, age) = crate::sync::waiting(&node)?;
                st.ops_waiting = n;
                st.oldest_waiting_age_s = age;
                st.hub_acked = node.hub_acked()?;
                st.pull_cursor = node.pull_cursor()?;
                live = true;
            }
            let enrolled = crate::sync::load_bundle(&paths.data_dir).is_ok();
            out.print(
                json!({"enrolled": enrolled, "worker_seen": file.is_some(), "counts_live": live, "status": st}),
                || {
                    let when = |ms: Option<u64>| ms.map(fmt_ms).unwrap_or_else(|| "never".into());
                    let state = if !enrolled {
                        "not enrolled (offline node)".to_string()
                    } else if st.stopped {
                        "STOPPED: the hub refuses this node".to_string()
                    } else if file.is_none() {
                        "never synced by `serve`".to_string()
                    } else if st.online {
                        "online".to_string()
                    } else {
                        "offline".to_string()
                    };
                    format!(
                        "sync:               {state}\nlast success:       {}\nops waiting:        {} (oldest {}s old)\nhub holds up to:    #{}\npull cursor:        {}\nlast error:         {}",
                        when(st.last_success_ms),
                        st.ops_waiting,
                        st.oldest_waiting_age_s,
                        st.hub_acked,
                        st.pull_cursor,
                        st.last_error.as_deref().unwrap_or("none")
                    )
                },
            );
            Ok(0)
        }
        Command::Sync { once, hub } => {
            if !once {
                bail!("`sync` runs one round and needs --once; for continuous sync run `civreg-node serve`");
            }
            let node = Node::open(&paths)?;
            let (url, rt) = hub_and_runtime(&paths, hub)?;
            match rt.block_on(crate::sync::sync_once(&node, &paths.data_dir, &url)) {
                Ok(r) => {
                    out.print(json!({"ok": true, "report": r}), || {
                        format!(
                            "synced with {url}: pushed {} ops (the hub holds this node's log up to #{}), pulled {} changes",
                            r.pushed, r.hub_acked, r.pulled
                        )
                    });
                    Ok(0)
                }
                Err(e) => {
                    let retry = e.is_retryable();
                    if out.json {
                        println!(
                            "{}",
                            json!({"ok": false, "error": e.to_string(), "retryable": retry})
                        );
                    } else {
                        eprintln!(
                            "error: {e}{}",
                            if retry {
                                " (try again later)"
                            } else {
                                " (this will not heal by retrying)"
                            }
                        );
                    }
                    Ok(if retry { 3 } else { 4 })
                }
            }
        }
        Command::Clerk { command } => {
            let node = Node::open(&paths)?;
            match command {
                ClerkCommand::Add { name } => {
                    let by = if node.clerk_count()? > 0 {
                        Some(sign_in(&node)?)
                    } else {
                        None
                    };
                    let pw = new_password(&name)?;
                    node.add_clerk(by.as_ref(), &name, &pw)?;
                    out.print(json!({"ok": true, "clerk": name}), || {
                        format!("clerk {name} added")
                    });
                }
                ClerkCommand::List => {
                    let names = node.clerk_names()?;
                    out.print(json!(names), || names.join("\n"));
                }
            }
            Ok(0)
        }
        Command::Register { kind, file } => {
            let node = Node::open(&paths)?;
            let clerk = sign_in(&node)?;
            Ok(
                if register_stream(&node, &clerk, kind.into(), &file, &out)? {
                    0
                } else {
                    1
                },
            )
        }
        Command::Amend {
            regno,
            file,
            reason,
        } => {
            let node = Node::open(&paths)?;
            let changes = read_json_file(&file)?;
            let clerk = sign_in(&node)?;
            match node.amend(&clerk, &regno, &changes, &reason) {
                Ok(saved) => {
                    out.print(
                        json!({"ok": true, "regno": saved.regno, "warnings": saved.warnings}),
                        || format!("amended {}", saved.regno),
                    );
                    Ok(0)
                }
                Err(e) => {
                    report_error(&out, &e);
                    Ok(1)
                }
            }
        }
        Command::Void { regno, reason } => {
            let node = Node::open(&paths)?;
            let clerk = sign_in(&node)?;
            let saved = node.void(&clerk, &regno, &reason)?;
            out.print(json!({"ok": true, "regno": saved.regno}), || {
                format!("voided {}", saved.regno)
            });
            Ok(0)
        }
        Command::Show { regno, history } => {
            let node = Node::open(&paths)?;
            let st = node.get(&regno)?;
            if history {
                let versions = node.history(&regno)?;
                out.print(json!({"regno": st.regno, "versions": versions}), || {
                    let mut s = format!(
                        "{} ({}), {} version(s)\n",
                        st.regno,
                        st.kind,
                        versions.len()
                    );
                    for v in &versions {
                        s.push_str(&format!(
                            "\nversion {} — {} by {} at {} (op {})\n",
                            v.version,
                            serde_json::to_value(v.change)
                                .ok()
                                .and_then(|c| c.as_str().map(String::from))
                                .unwrap_or_default(),
                            v.clerk,
                            fmt_ms(v.at_ms),
                            v.op
                        ));
                        if !v.reason.is_empty() {
                            s.push_str(&format!("  reason: {}\n", v.reason));
                        }
                        for (path, before, after) in &v.changes {
                            let show = |x: &serde_json::Value| match x {
                                serde_json::Value::Null => "—".to_string(),
                                serde_json::Value::String(s) => s.clone(),
                                o => o.to_string(),
                            };
                            if before.is_null() {
                                s.push_str(&format!("  {path}: {}\n", show(after)));
                            } else {
                                s.push_str(&format!(
                                    "  {path}: {} → {}\n",
                                    show(before),
                                    show(after)
                                ));
                            }
                        }
                    }
                    s
                });
            } else {
                let v = state_json(&st)?;
                let rec = st.record()?;
                out.print(v, || {
                    let mut s = format!("{} — {}\n", st.regno, rec.summary());
                    if let Some(vd) = &st.voided {
                        s.push_str(&format!(
                            "VOID: {} (by {} at {})\n",
                            vd.reason,
                            vd.clerk,
                            fmt_ms(vd.at.wall_ms)
                        ));
                    }
                    print_fields("", &rec.to_json(), &mut s);
                    s.push_str(&format!(
                        "  {:<34} {} (last change {})",
                        "versions",
                        st.ops.len(),
                        fmt_ms(st.updated.wall_ms)
                    ));
                    s
                });
            }
            Ok(0)
        }
        Command::Search {
            text,
            born,
            municipality,
            limit,
        } => {
            let node = Node::open(&paths)?;
            let born = born.map(|b| DateFilter::parse(&b)).transpose()?;
            let municipality = match municipality {
                Some(m) => Some(
                    gazetteer::resolve(&m)
                        .map(|m| m.code.to_string())
                        .ok_or_else(|| anyhow!("unknown municipality {m:?}: `civreg-node municipalities` lists them"))?,
                ),
                None => None,
            };
            let text = text.join(" ");
            if text.trim().is_empty() && born.is_none() && municipality.is_none() {
                bail!("nothing to search for: give a name, a date, a place or a personal number");
            }
            let q = Query {
                text,
                born,
                municipality,
                limit,
            };
            let hits = node.search(&q)?;
            out.print(json!({"scope": "local", "hits": hits}), || {
                let mut s = String::from("local answer: this node's records only\n");
                if hits.is_empty() {
                    s.push_str("no record matches");
                }
                for h in &hits {
                    s.push_str(&format!(
                        "{:<30} {:>5.1}  {}\n      why: {}\n",
                        h.regno,
                        h.score,
                        h.summary,
                        h.why.join("; ")
                    ));
                }
                s.trim_end().to_string()
            });
            Ok(0)
        }
        Command::Import { file, report } => {
            let node = Node::open(&paths)?;
            let clerk = sign_in(&node)?;
            let f = std::fs::File::open(&file)
                .with_context(|| format!("could not read {}", file.display()))?;
            let total = f.metadata().map(|m| m.len()).unwrap_or(0);
            let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
            let counted = CountingReader {
                inner: std::io::BufReader::new(f),
                n: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
            };
            let pos = counted.n.clone();
            let res = import_csv(&node, &clerk, counted, |rows| {
                if let Some(b) = &bar {
                    b.set_position(pos.load(std::sync::atomic::Ordering::Relaxed));
                    b.set_message(format!("{rows} rows"));
                }
            });
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            let rep = match res {
                Ok(r) => r,
                Err(ImportError::Node(e)) => return Err(e.into()),
                Err(e) => return Err(e.into()),
            };
            if let Some(p) = report {
                std::fs::write(&p, serde_json::to_vec_pretty(&rep)?)
                    .with_context(|| format!("could not write the report to {}", p.display()))?;
            }
            out.print(serde_json::to_value(&rep)?, || {
                let mut s = format!(
                    "{} rows: {} imported, {} already imported (skipped), {} rejected\n",
                    rep.rows,
                    rep.accepted.len(),
                    rep.skipped.len(),
                    rep.rejected.len()
                );
                for r in &rep.rejected {
                    s.push_str(&format!(
                        "rejected line {}: {}\n",
                        r.line,
                        r.reasons.join("; ")
                    ));
                }
                s.trim_end().to_string()
            });
            Ok(if rep.rejected.is_empty() { 0 } else { 1 })
        }
        Command::Verify => {
            let node = Node::open(&paths)?;
            let rep = node.verify()?;
            out.print(serde_json::to_value(&rep)?, || match &rep.problem {
                None => format!(
                    "ok: {} ops in an unbroken chain, {} records match the log",
                    rep.ops_checked, rep.records_checked
                ),
                Some(p) => format!(
                    "TAMPERED OR DAMAGED: {}{}\n{} ops before it verified",
                    p.seq
                        .map(|s| format!("first bad op #{s}: "))
                        .unwrap_or_default(),
                    p.message,
                    rep.ops_checked
                ),
            });
            Ok(if rep.ok { 0 } else { 1 })
        }
        Command::Export { out: file } => {
            let node = Node::open(&paths)?;
            let mut w: Box<dyn Write> = match &file {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("could not create {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let id = node.identity();
            writeln!(
                w,
                "{}",
                json!({"type": "node", "municipality": id.municipality, "node_id": id.node_id, "format": 1})
            )?;
            let mut records = 0;
            for st in node.all_states() {
                let mut v = state_json(&st?)?;
                v["type"] = json!("record");
                writeln!(w, "{v}")?;
                records += 1;
            }
            let mut ops = 0;
            for op in node.all_ops() {
                let mut v = serde_json::to_value(op?)?;
                v["type"] = json!("op");
                writeln!(w, "{v}")?;
                ops += 1;
            }
            w.flush()?;
            if file.is_some() {
                out.print(json!({"ok": true, "records": records, "ops": ops}), || {
                    format!("exported {records} records and {ops} ops")
                });
            }
            Ok(0)
        }
    }
}

/// The hub address (given, or from the enrollment bundle) and a runtime to talk to it.
fn hub_and_runtime(
    paths: &Paths,
    hub: Option<String>,
) -> Result<(String, tokio::runtime::Runtime)> {
    let url = match hub {
        Some(u) => u,
        None => crate::sync::load_bundle(&paths.data_dir)?.hub_url,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok((url, rt))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct CountingReader<R> {
    inner: R,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}
