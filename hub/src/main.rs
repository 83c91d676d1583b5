/// The hub's allocator (see hub/Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, Result};
use civreg_hub::control;
use civreg_hub::pki::Pki;
use civreg_hub::serve;
use civreg_hub::store::HubStore;
use clap::{Parser, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

mod cert_cli;

#[derive(Parser)]
#[command(
    name = "civreg-hub",
    version,
    about = "civreg central hub: PKI and the mutually authenticated sync server"
)]
struct Cli {
    /// The hub's data directory (PKI under pki/, database under db/); also CIVREG_HUB_DATA_DIR
    /// or `data_dir` in the config file; default ./civreg-hub-data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// The key file that seals the hub database (also CIVREG_HUB_KEY_FILE or `key_file` in the
    /// config file; default DATA_DIR/hub.key): keep it off the data disk. `pki init` makes one
    /// when none exists, `keygen` makes one anywhere.
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// A TOML config file (also CIVREG_HUB_CONFIG). Layers: defaults < file < CIVREG_HUB_* < flags.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print the configuration in force, as TOML, and exit.
    #[arg(long, global = true)]
    dump_config: bool,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Log as JSON lines (levels from RUST_LOG, default info).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new key file to seal the hub database with (0600; refuses to overwrite one).
    Keygen {
        /// Where to write it (default: the key file in force, see --key-file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The agency's certificates: CA, hub, nodes and operators.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Serve sync to enrolled nodes over mutual TLS.
    Serve {
        /// Address to listen on (also CIVREG_HUB_GRPC_LISTEN or `grpc_listen`; default 127.0.0.1:7443).
        #[arg(long)]
        grpc_listen: Option<String>,
        /// The operator dashboard and /metrics, plain HTTP (also CIVREG_HUB_HTTP_LISTEN or
        /// `http_listen`; default 127.0.0.1:8080). Keep it on loopback.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Operator accounts for the dashboard (work whether or not the hub runs).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Per node: last acknowledged sequence, last seen, ops waiting, clock offset. While `serve`
    /// runs, asks it (live figures).
    Status,
    /// Ops the hub refuses for good, each blocking its office's queue, and the ops operators
    /// set aside. While `serve` runs, asks it (a stopped hub knows only the ops set aside).
    Refused,
    /// Set aside the op an office's queue is blocked on (its hash as the hub saw it refused, or
    /// as the office reported it when too large to send): the hub takes its place in the chain
    /// by that hash, applies it to no record and sends it to no office, and takes the office's
    /// next ops. The office's own log keeps the op; the office's node drops it from the record at its
    /// next sync. `civreg-hub refused` lists what can be set aside.
    SetAside {
        /// The office's municipality, any of its names.
        municipality: String,
        /// The node id (`civreg-hub status` lists them).
        node: String,
        /// The op's sequence number in the node's chain.
        seq: u64,
        /// Why (required); kept with the decision.
        #[arg(long)]
        reason: String,
        /// Who decides (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        /// The op's hash (64 hex digits), as the office's `civreg-node status` prints it; needed
        /// only when the hub has not seen the op refused since it started.
        #[arg(long)]
        hash: Option<String>,
        /// Put back an op set aside by mistake (a wrong hash), while the hub has taken nothing
        /// of the office after it: the hub expects that op again.
        #[arg(long)]
        undo: bool,
    },
    /// Show a record as the hub holds it (while `serve` runs, asks it). Written to the access log.
    Show {
        regno: String,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Who searched for or opened which records: searches and views at the hub, from nodes and
    /// operators. Personal numbers in queries appear only as `pn:` and a blind-token prefix.
    AccessLog {
        /// Entries that returned or opened this record.
        #[arg(long)]
        record: Option<String>,
        /// Entries by an identity or clerk (substring, e.g. "prishtine/1" or "vjosa").
        #[arg(long)]
        by: Option<String>,
        /// Entries since this date (YYYY-MM-DD) or RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Entries that returned or opened any record this person appears in (a person
        /// identifier): "who looked at this person?".
        #[arg(long)]
        person: Option<String>,
    },
    /// Load historic register pages centrally: each row becomes a record of the municipality
    /// (its offices receive it through pull), and each record's people are linked to the
    /// register: a match, a possible match for the duplicates queue, or new. Same columns and
    /// validation as `civreg-node import`; a rerun imports nothing twice. Exit status, as
    /// `civreg-node import`: 0 when every row was imported or skipped, 1 when some rows were
    /// rejected (the others are imported; the report lists why) or the import failed.
    Import {
        file: PathBuf,
        #[arg(long)]
        municipality: String,
        /// The operator loading the file (also CIVREG_OPERATOR); recorded in every op.
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        /// Write the per-row report (JSON Lines) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// The duplicates review queue: probable duplicates for an operator to link or dismiss.
    Duplicates {
        #[command(subcommand)]
        command: DuplicatesCommand,
    },
    /// A person identifier: every record the person appears in. Written to the access log.
    Person {
        id: String,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Conflicts between concurrent edits, for an operator to decide.
    Conflicts {
        #[command(subcommand)]
        command: ConflictsCommand,
    },
    /// The digest of a municipality's records: equal to `civreg-node digest` on each of its
    /// nodes once they have synced.
    Digest {
        #[arg(long)]
        municipality: String,
    },
    /// Identity matching: duplicates in the register, and linking an external file to it.
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
    /// Write a seeded synthetic register (births, marriages, deaths of the 38 municipalities,
    /// with corrupted duplicates) as the importer's CSV, and the ground truth as JSON Lines.
    Synth {
        #[arg(long, default_value_t = 10_000)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for records.csv and truth.jsonl.
        #[arg(long)]
        out: PathBuf,
    },
    /// Municipalities' rollout stages (planned, pilot, live, suspended).
    Rollout {
        #[command(subcommand)]
        command: RolloutCommand,
    },
    /// Citizens' certificates: issue one at the hub (`certificate REGNO --out FILE.pdf
    /// --collector NAME --id-document KIND --operator NAME`), the hub's signer, cancel one
    /// issued in error, list. Verification is the public page `/verify` on the dashboard.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Certificate {
        #[command(subcommand)]
        command: Option<CertificateCommand>,
        #[command(flatten)]
        issue: cert_cli::IssueArgs,
    },
    /// National search: names in any script, typos, years, dates, places, personal numbers.
    Search {
        /// Free text, e.g. "Arben Gashi 1968 Prizren".
        text: String,
        /// Date of birth: YYYY, YYYY-MM-DD or FROM..TO.
        #[arg(long)]
        born: Option<String>,
        /// Registering municipality or place of birth, any of its names.
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long, value_parser = ["birth", "marriage", "death"])]
        kind: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Who is searching (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// A consistent, encrypted backup of the hub (store and files, not the key file) under DIR,
    /// made by the running hub through its control socket, or from the stopped store.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a data directory without a database (with the hub's key file),
    /// then check every chain against its head and print every municipality's digest.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
}

/// The gazetteer code of a municipality given by any of its names.
fn municipality_code(name: &str) -> Result<String> {
    civreg_shared::gazetteer::resolve(name)
        .map(|g| g.code.to_string())
        .with_context(|| {
            format!("unknown municipality {name:?}: `civreg-hub rollout list` shows the codes")
        })
}

fn operator_label(name: &str) -> String {
    if name.trim().is_empty() {
        "operator:(unnamed, set CIVREG_OPERATOR)".into()
    } else {
        format!("operator:{}", name.trim())
    }
}

#[derive(Subcommand)]
enum MatchCommand {
    /// Probable duplicates inside the register (the same person in two records), scored by the
    /// Fellegi-Sunter matcher; writes JSON Lines (--json) or CSV.
    Dedupe {
        #[arg(long)]
        municipality: Option<String>,
        /// Match weight (log2) from which a pair is reported (default: the model's "possible").
        /// Pairs below the model's "possible" are reported but not filed for review.
        #[arg(long, allow_hyphen_values = true)]
        threshold: Option<f64>,
        /// Report the pairs without filing any into the review queue.
        #[arg(long)]
        report_only: bool,
        /// Write the pairs to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Links a CSV file of person rows to the register: for each row the best candidate, its
    /// score, and whether it is a match, a possible match for review, or new. Columns: id,
    /// given_name, surname, birth_surname, father_given_name, mother_given_name,
    /// mother_maiden_surname, sex, date_of_birth, place_of_birth, personal_number (any subset
    /// with a name); rows that can not be read are reported and the rest still linked.
    ///
    /// The prior (the share of rows expected in the register) is estimated from the two sources
    /// by deterministic rules (same personal number; same given name, surname and date of birth),
    /// or given with --expect-matches; the Match and Possible thresholds follow from it (both are
    /// printed), or are given in bits with --threshold and --possible. The output joins back to
    /// the file: its id, the candidate's record, role and person identifier, weight, class, and
    /// the fields that agree and disagree.
    Link {
        file: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Share of the file's rows expected to be in the register (0.5: half of them).
        #[arg(long, value_name = "SHARE")]
        expect_matches: Option<f64>,
        /// Match weight (bits) from which a row is a match (default: from the prior).
        #[arg(long, value_name = "BITS", allow_hyphen_values = true)]
        threshold: Option<f64>,
        /// Match weight (bits) from which a row is a possible match (default: from the prior).
        #[arg(long, value_name = "BITS", allow_hyphen_values = true)]
        possible: Option<f64>,
    },
}

#[derive(Subcommand)]
enum ConflictsCommand {
    /// Open conflicts (with --all, resolved ones too).
    List {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Both values of a conflict: who made each, when, and on which node.
    Show { id: String },
    /// Decide a conflict: keep side A or B, or give another value. The decision is an op of the
    /// hub's log, in the operator's name, and reaches the record's offices through pull.
    Resolve {
        id: String,
        /// A or B, as `conflicts show` labels them.
        #[arg(long, conflicts_with = "value")]
        keep: Option<String>,
        /// Another value (JSON, or plain text for a name).
        #[arg(long)]
        value: Option<String>,
        #[arg(long)]
        reason: String,
        /// The operator deciding (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
enum DuplicatesCommand {
    /// Open cases, strongest first (with --all, decided ones too).
    List {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Both records of a case, side by side, with their person identifiers.
    Show {
        id: String,
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// The two are one person: link them (ops in the hub's log, reaching the offices by pull).
    Link {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// The two are different people: close the case.
    Dismiss {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Undo a link: the second record's person gets an identifier of their own again.
    Unlink {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
enum RolloutCommand {
    /// Every municipality's stage and the record kinds it may register.
    List,
    /// Change a municipality's stage; the running hub applies it within a second.
    Set {
        code: String,
        #[arg(value_enum)]
        stage: civreg_hub::rollout::Stage,
        /// The record kinds it may register, e.g. birth,marriage (default: unchanged).
        #[arg(long, value_delimiter = ',', value_parser = ["birth", "marriage", "death"])]
        kinds: Option<Vec<String>>,
        /// The operator making the change (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn kind_of(s: &str) -> civreg_shared::model::RecordKind {
    use civreg_shared::model::RecordKind;
    match s {
        "marriage" => RecordKind::Marriage,
        "death" => RecordKind::Death,
        _ => RecordKind::Birth,
    }
}

/// Answers through the running hub or the store, failing when neither can be had.
fn ask(data_dir: &Path, req: control::Request) -> Result<serde_json::Value> {
    match ask_hub(data_dir, &req) {
        Ok(v) => Ok(v),
        Err(HubAnswer::Locked) => anyhow::bail!(
            "the hub database is in use by a civreg-hub that does not answer on {}: stop it, or run the same civreg-hub version as it",
            control::socket_path(data_dir).display()
        ),
        Err(HubAnswer::Failed(e)) => Err(e),
    }
}

/// Writes a dedupe or link report: JSON Lines with --json, else CSV, to a file or stdout; a
/// summary (and the rejected rows) goes to standard error.
fn write_match_output(json_mode: bool, v: &serde_json::Value, out: Option<&Path>) -> Result<()> {
    use std::io::Write;
    let (items, header, cols): (&[serde_json::Value], &str, &[&str]) =
        if let Some(rows) = v["rows"].as_array() {
            (
                rows,
                "line,id,class,record,role,person,weight,probability,agree,disagree,notes",
                &[
                    "line",
                    "id",
                    "class",
                    "record",
                    "role",
                    "person",
                    "weight",
                    "probability",
                    "agree",
                    "disagree",
                    "notes",
                ],
            )
        } else {
            (
                v["pairs"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                "a,b,class,weight,probability",
                &["a", "b", "class", "weight", "probability"],
            )
        };
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("could not write {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if !json_mode {
        writeln!(w, "{header}")?;
    }
    for it in items {
        if json_mode {
            writeln!(w, "{it}")?;
        } else {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| match &it[*c] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) if s.contains(',') || s.contains('"') => {
                        format!("\"{}\"", s.replace('"', "\"\""))
                    }
                    serde_json::Value::String(s) => s.clone(),
                    // Lists (agreeing fields, notes) as one cell, `;`-separated.
                    serde_json::Value::Array(a) => {
                        let s = a
                            .iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join("; ");
                        if s.contains(',') || s.contains('"') {
                            format!("\"{}\"", s.replace('"', "\"\""))
                        } else {
                            s
                        }
                    }
                    other => other.to_string(),
                })
                .collect();
            writeln!(w, "{}", cells.join(","))?;
        }
    }
    w.flush()?;
    if let Some(rej) = v["rejected"].as_array() {
        for r in rej {
            eprintln!(
                "line {}: rejected: {}",
                r["line"],
                r["reason"].as_str().unwrap_or("")
            );
        }
        let by_class = |c: &str| items.iter().filter(|i| i["class"] == c).count();
        let p = &v["prior"];
        eprintln!(
            "prior: {:.0} of the rows expected in the register ({}, λ {:.2e}); thresholds: match {:.1} bits, possible {:.1} bits{}",
            p["expected_matches"].as_f64().unwrap_or(0.0),
            p["source"].as_str().unwrap_or("?"),
            p["lambda"].as_f64().unwrap_or(0.0),
            p["thresholds"]["matched"].as_f64().unwrap_or(0.0),
            p["thresholds"]["possible"].as_f64().unwrap_or(0.0),
            if p["thresholds_given"].as_bool().unwrap_or(false) { " (given)" } else { "" }
        );
        eprintln!(
            "{} rows linked against {} people: {} match, {} possible, {} new; {} rejected",
            items.len(),
            v["register_people"],
            by_class("match"),
            by_class("possible"),
            by_class("new"),
            rej.len()
        );
    } else {
        eprintln!(
            "{} probable duplicate pairs among {} people (threshold {:.1}, {} pairs compared)",
            items.len(),
            v["people"],
            v["threshold"].as_f64().unwrap_or(0.0),
            v["pairs_compared"]
        );
    }
    Ok(())
}

fn side_text(label: &str, s: &serde_json::Value) -> String {
    format!(
        "  {label}: {}  by {} on node {}/{} at {}{}\n",
        s["value"],
        s["clerk"].as_str().unwrap_or("?"),
        s["op"]["municipality"].as_str().unwrap_or("?"),
        s["op"]["node_id"].as_str().unwrap_or("?"),
        s["at"]["wall_ms"]
            .as_u64()
            .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64))
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default(),
        s["reason"]
            .as_str()
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the password comes from CIVREG_OPERATOR_PASSWORD or a prompt.
    Add {
        name: String,
        /// Give an existing operator a new password.
        #[arg(long)]
        replace: bool,
    },
}

/// The new operator's password: CIVREG_OPERATOR_PASSWORD, or asked twice on the terminal.
/// `civreg-hub refused` as text.
fn refused_text(v: &serde_json::Value) -> String {
    let mut out = Vec::new();
    let refused = v["refused"].as_array().cloned().unwrap_or_default();
    if refused.is_empty() {
        out.push("no office is blocked on a refused op".to_string());
    }
    for r in &refused {
        let op = &r["op"];
        out.push(format!(
            "BLOCKED {}/{} at op #{} (record {}, hash {}): {}\n  to set it aside: civreg-hub set-aside {} {} {} --reason \"...\"",
            r["municipality"].as_str().unwrap_or(""),
            r["node_id"].as_str().unwrap_or(""),
            op["seq"],
            op["record_id"].as_str().unwrap_or(""),
            op["hash"].as_str().unwrap_or(""),
            op["why"].as_str().unwrap_or(""),
            r["municipality"].as_str().unwrap_or(""),
            r["node_id"].as_str().unwrap_or(""),
            op["seq"],
        ));
    }
    for a in v["set_aside"].as_array().cloned().unwrap_or_default() {
        out.push(format!(
            "set aside {}/{} op #{}{} by {}: {}",
            a["municipality"].as_str().unwrap_or(""),
            a["node_id"].as_str().unwrap_or(""),
            a["seq"],
            a["record_id"]
                .as_str()
                .map(|r| format!(" (record {r})"))
                .unwrap_or_default(),
            a["operator"].as_str().unwrap_or(""),
            a["reason"].as_str().unwrap_or("")
        ));
    }
    out.join("\n")
}

fn operator_password(name: &str) -> Result<String> {
    if let Ok(p) = std::env::var("CIVREG_OPERATOR_PASSWORD") {
        return Ok(p);
    }
    let a = rpassword::prompt_password(format!("password for operator {name}: "))
        .context("no terminal to ask for the password: set CIVREG_OPERATOR_PASSWORD")?;
    let b = rpassword::prompt_password("repeat it: ")?;
    anyhow::ensure!(a == b, "the two passwords differ: nothing was changed");
    Ok(a)
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Create the issuing CA, the hub's server certificate and an empty revocation list, under
    /// the root CA of --root-dir (created there if empty). The root key never enters DATA_DIR.
    Init {
        /// DNS names or IP addresses nodes use to reach the hub (default: localhost, 127.0.0.1).
        #[arg(long = "hub-name")]
        hub_names: Vec<String>,
        /// The root CA's directory, to keep offline (default: DATA_DIR-root-ca beside DATA_DIR).
        #[arg(long)]
        root_dir: Option<PathBuf>,
    },
    /// The offline root CA and the key ceremony (operator manual, "Key ceremony").
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Install an issuing CA certificate renewed by `pki root sign-issuer`.
    InstallIssuer { cert: PathBuf },
    /// Issue a node certificate and write its enrollment bundle.
    Issue {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        node_id: String,
        /// Directory to write the bundle to (cert.pem, key.pem, ca.pem, bundle.json).
        #[arg(long)]
        out: PathBuf,
        /// The hub address written into the bundle.
        #[arg(long, default_value = "https://localhost:7443")]
        hub_url: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Issue an operator certificate and write its bundle.
    IssueOperator {
        name: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "https://localhost:7443")]
        hub_url: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Issue a document-signing certificate (for citizens' certificates) to an enrolled node
    /// (`istog/1`) or to the hub's central services (`hub`); writes signer.pem and signer.key
    /// into --out. Install it on the node with `civreg-node signer install DIR`.
    IssueSigner {
        /// `MUNICIPALITY/NODE_ID` (e.g. `istog/1`), or `hub`.
        node: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
    /// Write the trust list (CA, every document signer, revocations; signed by the issuing CA)
    /// that verifiers use offline. Publish it again after every issue-signer and revoke.
    TrustList {
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke certificates by serial or identity (e.g. prishtine/2, signer/prishtine/2); the running hub refuses them at once.
    Revoke { selector: String },
    /// Every certificate issued, with identity, serial, expiry and status.
    List,
    /// Require nodes to renew their certificates now (told with their next heartbeat).
    RequireRenewal(civreg_hub::pki::lifecycle::RequireRenewalArgs),
    /// Issue a new server certificate for the hub; the running hub presents it to new connections.
    RenewHub(civreg_hub::pki::lifecycle::RenewHubArgs),
}

#[derive(Subcommand)]
enum CertificateCommand {
    /// Issue the hub's document signer (civreg://signer/hub) with the agency CA and install it
    /// sealed in the hub's database (or install one from `pki issue-signer hub --out DIR`).
    /// Publish a new trust list afterwards.
    Signer {
        /// Install the signer.pem and signer.key of this directory instead of issuing one.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Validity of a new signer, in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Who installs it (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Cancel a certificate issued in error: every later verification at the hub refuses it.
    Cancel {
        /// The serial printed on it (C-MUNICIPALITY-YEAR-NNNNNN).
        serial: String,
        #[arg(long)]
        reason: String,
        /// The operator cancelling (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Every cancelled certificate.
    Cancelled,
    /// The certificates the offices issued and reported (with their heartbeat): serial, record
    /// and version, office, clerk, when, collector and document kind. Written to the access log.
    Issued {
        /// Only the certificates of this record.
        #[arg(long)]
        regno: Option<String>,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
}

#[derive(Subcommand)]
enum RootCommand {
    /// On the offline machine: create the root CA (root.pem, root.key) in --dir.
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// On the offline machine: renew the hub's issuing CA certificate (the hub's
    /// pki/issuing.pem, carried over) with the root of --dir; writes --out.
    SignIssuer {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// On a hub of the first layout: move the CA key pki/ca.key into --dir (offline medium).
    TakeOffline {
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Prints the answer. A reader that went away (`| head`) is not an error worth a panic.
fn print(json_mode: bool, v: serde_json::Value, text: impl FnOnce() -> String) {
    use std::io::Write;
    let out = if json_mode { v.to_string() } else { text() };
    let _ = writeln!(std::io::stdout().lock(), "{out}");
}

fn run(cli: Cli, cfg: civreg_hub::config::Config) -> Result<()> {
    let data_dir = cfg.data_dir.clone();
    let pki_dir = civreg_hub::paths::pki_dir(&data_dir);
    let Some(command) = cli.command else {
        anyhow::bail!("no command given: try `civreg-hub --help`");
    };
    if let (Command::Pki { .. }, Ok(pki)) = (&command, Pki::open(&pki_dir)) {
        if let Some(key) = pki.legacy_ca_key() {
            eprintln!("warning: the agency CA's private key {} is on the hub: take it offline with `civreg-hub pki root take-offline --dir OFFLINE_DIR` (operator manual, \"Key ceremony\")", key.display());
        }
    }
    match command {
        Command::Keygen { out } => {
            let path = out.unwrap_or(cfg.key_file);
            civreg_hub::atrest::create_key(&path)?;
            print(cli.json, json!({"ok": true, "key_file": path}), || {
                format!(
                    "key file written to {}: keep it off the data disk, with a copy in a safe place (the database can not be read without it), and pass it with --key-file",
                    path.display()
                )
            });
        }
        Command::Pki { command } => match command {
            PkiCommand::Init {
                hub_names,
                root_dir,
            } => {
                civreg_hub::atrest::create_private_dir(&data_dir)
                    .with_context(|| format!("could not create {}", data_dir.display()))?;
                let root_dir = root_dir.unwrap_or_else(|| {
                    let name = data_dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                    data_dir.with_file_name(format!(
                        "{}-root-ca",
                        name.as_deref().unwrap_or("civreg-hub")
                    ))
                });
                let pki = Pki::init_with_root(&pki_dir, Some(&root_dir), &hub_names)?;
                // The pilot's key file, unless one is there already (a hub's PKI made again).
                let key_made = !cfg.key_file.exists();
                if key_made {
                    civreg_hub::atrest::create_key(&cfg.key_file)?;
                }
                let key = json!({"key_file": cfg.key_file, "key_file_created": key_made});
                print(
                    cli.json,
                    json!({"ok": true, "pki": pki.dir(), "root": root_dir, "key": key}),
                    || {
                        format!(
                        "issuing CA and hub certificate created in {}\nthe root CA is in {}: move it to the offline machine and delete it here (operator manual, \"Key ceremony\")\n{} {}: it seals the hub database; keep it off the data disk and pass it with --key-file\nnext: civreg-hub --data-dir {} pki issue --municipality CODE --node-id ID --out BUNDLE_DIR",
                        pki.dir().display(),
                        root_dir.display(),
                        if key_made { "key file created:" } else { "key file kept:" },
                        cfg.key_file.display(),
                        data_dir.display()
                    )
                    },
                );
            }
            PkiCommand::Root { command } => {
                use civreg_hub::pki::root;
                let (v, text) = match command {
                    RootCommand::Init { dir } => {
                        root::RootCa::init(&dir)?;
                        (
                            json!({"ok": true, "root": dir}),
                            format!(
                                "root CA created in {}: keep this directory offline",
                                dir.display()
                            ),
                        )
                    }
                    RootCommand::SignIssuer { dir, cert, out } => {
                        let current = std::fs::read_to_string(&cert)
                            .with_context(|| format!("could not read {}", cert.display()))?;
                        let pem = root::RootCa::open(&dir)?.renew_issuing(&current)?;
                        std::fs::write(&out, pem)
                            .with_context(|| format!("could not write {}", out.display()))?;
                        (json!({"ok": true, "out": out}), format!("renewed issuing CA certificate written to {}: on the hub, run `civreg-hub pki install-issuer {}`", out.display(), out.display()))
                    }
                    RootCommand::TakeOffline { dir } => {
                        let key = root::take_offline(&Pki::open(&pki_dir)?, &dir)?;
                        (
                            json!({"ok": true, "key": key}),
                            format!(
                                "the CA key is now in {} and no longer on the hub",
                                key.display()
                            ),
                        )
                    }
                };
                print(cli.json, v, || text);
            }
            PkiCommand::InstallIssuer { cert } => {
                let pem = std::fs::read_to_string(&cert)
                    .with_context(|| format!("could not read {}", cert.display()))?;
                Pki::open(&pki_dir)?.install_issuing(&pem)?;
                print(cli.json, json!({"ok": true}), || {
                    "issuing CA certificate installed; restart the hub so that it presents it"
                        .into()
                });
            }
            PkiCommand::Issue {
                municipality,
                node_id,
                out,
                hub_url,
                days,
            } => {
                let pki = Pki::open(&pki_dir)?;
                let code = civreg_shared::gazetteer::resolve(&municipality)
                    .map(|m| m.code.to_string())
                    .unwrap_or(municipality);
                let issued = pki.issue_node(&code, &node_id, days)?;
                issued.write_bundle(&out, &pki.ca_pem(), &hub_url)?;
                // The office's document signer travels in the same bundle (issue 15).
                pki.issue_signer(Some((code.as_str(), node_id.as_str())), days)?
                    .write_signer(&out)?;
                print(
                    cli.json,
                    json!({"ok": true, "entry": issued.entry, "bundle": out}),
                    || {
                        format!(
                        "issued {} (serial {}, valid until {})\nbundle written to {}: enrol with `civreg-node --data-dir DIR init --bundle {}`",
                        issued.entry.identity,
                        issued.entry.serial,
                        civreg_hub::pki::format_utc(issued.entry.not_after),
                        out.display(),
                        out.display()
                    )
                    },
                );
            }
            PkiCommand::IssueOperator {
                name,
                out,
                hub_url,
                days,
            } => {
                let pki = Pki::open(&pki_dir)?;
                let issued = pki.issue_operator(&name, days)?;
                issued.write_bundle(&out, &pki.ca_pem(), &hub_url)?;
                print(
                    cli.json,
                    json!({"ok": true, "entry": issued.entry, "bundle": out}),
                    || {
                        format!(
                            "issued {} (serial {}), bundle in {}",
                            issued.entry.identity,
                            issued.entry.serial,
                            out.display()
                        )
                    },
                );
            }
            PkiCommand::IssueSigner { node, out, days } => {
                let pki = Pki::open(&pki_dir)?;
                let office = match node.split_once('/') {
                    _ if node == "hub" => None,
                    Some((m, n)) => Some((
                        civreg_shared::gazetteer::resolve(m)
                            .map(|m| m.code.to_string())
                            .unwrap_or_else(|| m.to_string()),
                        n.to_string(),
                    )),
                    None => anyhow::bail!(
                        "{node:?} names no office: give MUNICIPALITY/NODE_ID (e.g. istog/1) or hub"
                    ),
                };
                if let Some((m, n)) = &office {
                    let node_uri = civreg_hub::pki::PeerIdentity::node(m, n)?.uri();
                    let enrolled = pki.list()?.iter().any(|e| {
                        e.identity == node_uri && e.status == civreg_hub::pki::CertStatus::Active
                    });
                    if !enrolled {
                        anyhow::bail!("{m}/{n} has no active node certificate: enrol it first with `civreg-hub pki issue`");
                    }
                }
                let issued =
                    pki.issue_signer(office.as_ref().map(|(m, n)| (m.as_str(), n.as_str())), days)?;
                issued.write_signer(&out)?;
                print(
                    cli.json,
                    json!({"ok": true, "entry": issued.entry, "out": out}),
                    || {
                        format!(
                            "issued {} (serial {}, valid until {})\nsigner.pem and signer.key written to {}: install with `civreg-node signer install {}`, then publish a new trust list (`civreg-hub pki trust-list`)",
                            issued.entry.identity,
                            issued.entry.serial,
                            civreg_hub::pki::format_utc(issued.entry.not_after),
                            out.display(),
                            out.display()
                        )
                    },
                );
            }
            PkiCommand::TrustList { out } => {
                let pki = Pki::open(&pki_dir)?;
                let bytes = pki.trust_list()?;
                std::fs::write(&out, &bytes)
                    .with_context(|| format!("could not write {}", out.display()))?;
                let list = civreg_cert::TrustList::open(&bytes, None)?;
                print(
                    cli.json,
                    json!({"ok": true, "out": out, "signers": list.signers().count(), "anchor_sha256": list.anchor_fingerprint}),
                    || {
                        format!(
                            "trust list written to {} ({} bytes, {} signers, anchor SHA-256 {})",
                            out.display(),
                            bytes.len(),
                            list.signers().count(),
                            list.anchor_fingerprint
                        )
                    },
                );
            }
            PkiCommand::Revoke { selector } => {
                let pki = Pki::open(&pki_dir)?;
                let revoked = pki.revoke(&selector)?;
                print(cli.json, json!({"ok": true, "revoked": revoked}), || {
                    revoked
                        .iter()
                        .map(|e| format!("revoked {} (serial {})", e.identity, e.serial))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
            PkiCommand::RequireRenewal(args) => {
                let (v, text) = args.run(&Pki::open(&pki_dir)?)?;
                print(cli.json, v, || text);
            }
            PkiCommand::RenewHub(args) => {
                let (v, text) = args.run(&Pki::open(&pki_dir)?)?;
                print(cli.json, v, || text);
            }
            PkiCommand::List => {
                let pki = Pki::open(&pki_dir)?;
                let all = pki.list()?;
                print(cli.json, json!(all), || {
                    let mut s = format!(
                        "{:<40} {:<10} {:<8} {:<21} serial\n",
                        "identity", "kind", "status", "expires"
                    );
                    for e in &all {
                        s.push_str(&format!(
                            "{:<40} {:<10} {:<8} {:<21} {}\n",
                            e.identity,
                            format!("{:?}", e.kind).to_lowercase(),
                            format!("{:?}", e.status).to_lowercase(),
                            civreg_hub::pki::format_utc(e.not_after),
                            e.serial
                        ));
                    }
                    s.trim_end().to_string()
                });
            }
        },
        Command::Operator { command } => match command {
            OperatorCommand::Add { name, replace } => {
                let password = operator_password(&name)?;
                std::fs::create_dir_all(&data_dir)
                    .with_context(|| format!("could not create {}", data_dir.display()))?;
                civreg_hub::operators::add(&data_dir, &name, &password, replace)?;
                print(cli.json, json!({"ok": true, "operator": name}), || {
                    format!(
                        "operator {name} can sign in to the dashboard (accounts in {})",
                        civreg_hub::operators::path(&data_dir).display()
                    )
                });
            }
        },
        Command::Serve { .. } => {
            let grpc_listen = cfg.grpc_listen;
            let http_listen = cfg.http_listen;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(grpc_listen)
                    .await
                    .with_context(|| format!("could not listen on {grpc_listen}"))?;
                let addr = listener.local_addr()?;
                // Tests and scripts read this line to find the port when listening on :0.
                println!("listening on {addr}");
                // The dashboard is secondary to sync: a taken port is logged, not fatal.
                let http = match tokio::net::TcpListener::bind(http_listen).await {
                    Ok(l) => {
                        if let Ok(a) = l.local_addr() {
                            println!("dashboard on http://{a}");
                        }
                        Some(l)
                    }
                    Err(e) => {
                        tracing::error!(addr = %http_listen, error = %e, "the dashboard is not served: could not listen there; set --http-listen");
                        None
                    }
                };
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                let opts = serve::RunOptions {
                    http,
                    web: cfg.web_settings(),
                    key_file: Some(cfg.key_file.clone()),
                    sync: cfg.sync.clone(),
                    search: cfg.search.clone(),
                };
                serve::run_with(&data_dir, listener, opts, shutdown).await?;
                anyhow::Ok(())
            })?;
        }
        Command::Refused => {
            let v = ask(&data_dir, control::Request::Refused)?;
            print(cli.json, v.clone(), || refused_text(&v));
        }
        Command::SetAside {
            municipality,
            node,
            seq,
            reason,
            operator,
            hash,
            undo,
        } => {
            if undo {
                let v = ask(
                    &data_dir,
                    control::Request::UndoSetAside {
                        municipality: municipality_code(&municipality)?,
                        node_id: node,
                        seq,
                        reason,
                        operator: operator_label(&operator),
                    },
                )?;
                print(cli.json, v.clone(), || {
                    format!(
                        "op #{} of {}/{} is no longer set aside: the hub expects it again",
                        v["seq"],
                        v["municipality"].as_str().unwrap_or(""),
                        v["node_id"].as_str().unwrap_or("")
                    )
                });
                return Ok(());
            }
            let v = ask(
                &data_dir,
                control::Request::SetAside {
                    municipality: municipality_code(&municipality)?,
                    node_id: node,
                    seq,
                    hash,
                    reason,
                    operator: operator_label(&operator),
                },
            )?;
            print(cli.json, v.clone(), || {
                format!(
                    "op #{} of {}/{} set aside (hash {}): the office's next ops are taken at its next sync",
                    v["seq"],
                    v["municipality"].as_str().unwrap_or(""),
                    v["node_id"].as_str().unwrap_or(""),
                    v["hash"].as_str().unwrap_or("")
                )
            });
        }
        Command::Status => {
            let (st, live): (civreg_hub::status::HubStatus, bool) = match ask_hub(
                &data_dir,
                &control::Request::Status,
            ) {
                Ok(v) => {
                    let live = v["running"].as_bool().unwrap_or(false);
                    (
                        serde_json::from_value(v["status"].clone())
                            .context("the hub's status answer is not valid")?,
                        live,
                    )
                }
                // A hub holds the database but does not answer on its control socket (an
                // older build): what it last wrote to status.json.
                Err(HubAnswer::Locked) => {
                    let text = std::fs::read(civreg_hub::paths::status_path(&data_dir))
                            .context("the hub is running but has not written its status yet; try again in a few seconds")?;
                    (
                        serde_json::from_slice(&text)
                            .context("the hub's status file is damaged")?,
                        true,
                    )
                }
                Err(HubAnswer::Failed(e)) => return Err(e),
            };
            print(cli.json, json!({"running": live, "status": st}), || {
                let ago = |ms: Option<u64>| match ms {
                    Some(ms) => format!("{}s ago", st.written_ms.saturating_sub(ms) / 1000),
                    None => "-".into(),
                };
                let mut s = format!(
                    "hub {}\n{:<28} {:>10} {:>12} {:>9} {:>10}\n",
                    if live {
                        "running"
                    } else {
                        "stopped (figures from its database)"
                    },
                    "node",
                    "acked",
                    "last seen",
                    "waiting",
                    "clock off"
                );
                for c in &st.chains {
                    s.push_str(&format!(
                        "{:<28} {:>10} {:>12} {:>9} {:>10}\n",
                        c.node,
                        c.acked_seq,
                        ago(c.last_seen_ms),
                        c.unacked_ops
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                        c.clock_offset_ms
                            .map(|n| format!("{n}ms"))
                            .unwrap_or_else(|| "-".into()),
                    ));
                    if let Some(w) = &c.clock_warning {
                        s.push_str(&format!("    clock: {w}\n"));
                    }
                    if let Some(r) = &c.last_refusal {
                        s.push_str(&format!("    refused {}: {r}\n", ago(c.last_refusal_ms)));
                    }
                    if let Some(h) = &c.halted {
                        s.push_str(&format!("    STOPPED REGISTERING: {h}\n"));
                    }
                    if let Some(e) = &c.backup_error {
                        s.push_str(&format!("    BACKUP FAILED: {e}\n"));
                    }
                }
                s.trim_end().to_string()
            });
        }
        Command::Conflicts { command } => match command {
            ConflictsCommand::List { municipality, all } => {
                let m = municipality.map(|m| municipality_code(&m)).transpose()?;
                let v = ask(
                    &data_dir,
                    control::Request::ConflictsList {
                        municipality: m,
                        all,
                    },
                )?;
                print(cli.json, v.clone(), || {
                    let list = v.as_array().cloned().unwrap_or_default();
                    if list.is_empty() {
                        return "no open conflicts".into();
                    }
                    let mut s = format!(
                        "{:<15} {:<16} {:<26} {:<26} {}\n",
                        "id", "municipality", "record", "field", "status"
                    );
                    for c in &list {
                        s.push_str(&format!(
                            "{:<15} {:<16} {:<26} {:<26} {}\n",
                            c["id"].as_str().unwrap_or(""),
                            c["municipality"].as_str().unwrap_or(""),
                            c["record_id"].as_str().unwrap_or(""),
                            c["path"].as_str().unwrap_or(""),
                            if c["resolution"].is_null() {
                                "open"
                            } else {
                                "resolved"
                            }
                        ));
                    }
                    s.trim_end().to_string()
                });
            }
            ConflictsCommand::Show { id } => {
                let v = ask(&data_dir, control::Request::ConflictsShow { id })?;
                print(cli.json, v.clone(), || {
                    let c = &v["conflict"];
                    let mut s = format!(
                        "conflict {} on record {} ({}), field {}\n",
                        c["id"].as_str().unwrap_or(""),
                        c["record_id"].as_str().unwrap_or(""),
                        c["municipality"].as_str().unwrap_or(""),
                        c["path"].as_str().unwrap_or("")
                    );
                    s.push_str(&side_text("A (kept for now)", &c["winner"]));
                    s.push_str(&side_text("B (set aside)   ", &c["loser"]));
                    s.push_str(&format!("  the record now holds: {}\n", v["current"]));
                    match c.get("resolution") {
                        Some(r) if !r.is_null() => s.push_str(&side_text("resolved", r)),
                        _ => s.push_str(&format!(
                            "  open: civreg-hub conflicts resolve {} --keep A|B --reason TEXT",
                            c["id"].as_str().unwrap_or("")
                        )),
                    }
                    s.trim_end().to_string()
                });
            }
            ConflictsCommand::Resolve {
                id,
                keep,
                value,
                reason,
                operator,
            } => {
                let value =
                    value.map(|v| serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v)));
                let v = ask(
                    &data_dir,
                    control::Request::ConflictsResolve {
                        id: id.clone(),
                        keep: keep.map(|k| k.to_ascii_uppercase()),
                        value,
                        reason,
                        operator,
                    },
                )?;
                print(cli.json, v.clone(), || {
                    format!(
                        "conflict {id} resolved by op {}/{}#{} on {}: the record's offices receive it with their next pull",
                        v["op"]["municipality"].as_str().unwrap_or(""),
                        v["op"]["node_id"].as_str().unwrap_or(""),
                        v["op"]["seq"],
                        v["record"].as_str().unwrap_or("")
                    )
                });
            }
        },
        Command::Match { command } => {
            let (v, out) = match command {
                MatchCommand::Dedupe {
                    municipality,
                    threshold,
                    report_only,
                    out,
                } => {
                    let m = municipality.map(|m| municipality_code(&m)).transpose()?;
                    (
                        ask(
                            &data_dir,
                            control::Request::MatchDedupe {
                                municipality: m,
                                threshold,
                                report_only,
                            },
                        )?,
                        out,
                    )
                }
                MatchCommand::Link {
                    file,
                    out,
                    expect_matches,
                    threshold,
                    possible,
                } => {
                    let path = std::fs::canonicalize(&file)
                        .with_context(|| format!("{}: can not read it", file.display()))?;
                    let params = civreg_hub::linkage::matching::LinkParams {
                        expect_matches,
                        threshold,
                        possible,
                    };
                    (
                        ask(&data_dir, control::Request::MatchLink { path, params })?,
                        out,
                    )
                }
            };
            write_match_output(cli.json, &v, out.as_deref())?;
        }
        Command::Synth { records, seed, out } => {
            use civreg_shared::synth::population::{Population, PopulationConfig};
            use civreg_shared::synth::write::{CsvWriter, TruthWriter};
            std::fs::create_dir_all(&out)
                .with_context(|| format!("could not create {}", out.display()))?;
            let file = |name: &str| -> Result<std::io::BufWriter<std::fs::File>> {
                let p = out.join(name);
                Ok(std::io::BufWriter::new(
                    std::fs::File::create(&p)
                        .with_context(|| format!("could not write {}", p.display()))?,
                ))
            };
            let mut csv = CsvWriter::new(file("records.csv")?)?;
            let mut truth = TruthWriter::new(file("truth.jsonl")?);
            let (mut n, mut dups) = (0u64, 0u64);
            for r in Population::new(PopulationConfig::new(seed, records)) {
                csv.write_synth(&r)?;
                truth.write(&r.truth)?;
                n += 1;
                dups += u64::from(r.truth.duplicate_of.is_some());
            }
            csv.finish()?;
            truth.finish()?;
            print(
                cli.json,
                json!({"ok": true, "records": n, "duplicates": dups, "dir": out}),
                || {
                    format!(
                    "{n} records ({dups} corrupted duplicates) in {}/records.csv, truth in {}/truth.jsonl",
                    out.display(),
                    out.display()
                )
                },
            );
        }
        Command::Backup { out } => {
            let out = std::path::absolute(&out)?;
            let v = ask(&data_dir, control::Request::Backup { out })?;
            print(cli.json, v.clone(), || {
                format!(
                    "backup made: {}\n{} chains, {} store entries, {} files, {} bytes; encrypted with the hub's key file, which it does not contain",
                    v["path"].as_str().unwrap_or(""),
                    v["manifest"]["chains"].as_array().map_or(0, Vec::len),
                    v["manifest"]["store_entries"],
                    v["manifest"]["files"].as_array().map_or(0, Vec::len),
                    v["manifest"]["bytes"]
                )
            });
        }
        Command::Restore { from } => {
            let r = civreg_hub::backup::restore(&data_dir, &cfg.key_file, &from)?;
            let ok = r.drill.problems.is_empty();
            print(cli.json, json!({"ok": ok, "restored": r}), || {
                let mut s = format!(
                    "restored the backup made {} into {}\ndrill: {} chains, {} ops checked from #1 to each head: {}\n",
                    r.manifest.created_at,
                    data_dir.display(),
                    r.drill.chains,
                    r.drill.ops,
                    if ok { "all lead to their heads".to_string() } else { r.drill.problems.join("; ") }
                );
                for (m, n, d) in &r.drill.digests {
                    s.push_str(&format!("{m}: {n} records, digest {d}\n"));
                }
                s.trim_end().to_string()
            });
            if !ok {
                anyhow::bail!("the restored hub's chains do not all lead to their heads");
            }
        }
        Command::Digest { municipality } => {
            let code = civreg_shared::gazetteer::resolve(&municipality)
                .map(|g| g.code.to_string())
                .with_context(|| format!("unknown municipality {municipality:?}"))?;
            let v = ask(
                &data_dir,
                control::Request::Digest {
                    municipality: code.clone(),
                },
            )?;
            print(cli.json, v.clone(), || {
                format!(
                    "{code}: {} records, digest {}",
                    v["records"],
                    v["sha256"].as_str().unwrap_or("")
                )
            });
        }
        Command::Certificate {
            command: None,
            issue,
        } => cert_cli::issue(&data_dir, cli.json, issue)?,
        Command::Certificate {
            command: Some(command),
            ..
        } => match command {
            CertificateCommand::Signer {
                from,
                days,
                operator,
            } => cert_cli::signer(&data_dir, &pki_dir, cli.json, from, days, &operator)?,
            CertificateCommand::Cancel {
                serial,
                reason,
                operator,
            } => {
                if operator.trim().is_empty() {
                    anyhow::bail!("say who cancels: --operator NAME or CIVREG_OPERATOR");
                }
                let c = civreg_hub::certificates::cancel(&data_dir, &serial, &reason, &operator)?;
                civreg_hub::operators::log_action(
                    &data_dir,
                    &operator,
                    "certificate-cancel",
                    true,
                    json!({"serial": c.serial, "reason": c.reason}),
                )?;
                print(cli.json, json!({"ok": true, "cancelled": c}), || {
                    format!(
                        "certificate {} cancelled: the verification page refuses it from now on",
                        c.serial
                    )
                });
            }
            CertificateCommand::Issued { regno, operator } => {
                let v = ask(
                    &data_dir,
                    control::Request::CertificatesIssued {
                        regno,
                        by: operator_label(&operator),
                    },
                )?;
                print(cli.json, v.clone(), || {
                    let all = v.as_array().cloned().unwrap_or_default();
                    if all.is_empty() {
                        return "no certificate reported by the offices yet".to_string();
                    }
                    all.iter()
                        .map(|c| {
                            format!(
                                "{}  {} v{}  {} by {}  for {} ({})",
                                c["serial"].as_str().unwrap_or(""),
                                c["regno"].as_str().unwrap_or(""),
                                c["record_version"],
                                c["office"].as_str().unwrap_or(""),
                                c["clerk"].as_str().unwrap_or(""),
                                c["collector"].as_str().unwrap_or(""),
                                c["id_document"].as_str().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
            CertificateCommand::Cancelled => {
                let all = civreg_hub::certificates::cancelled(&data_dir)?;
                print(cli.json, json!(all), || {
                    all.iter()
                        .map(|c| format!("{}  by {}: {}", c.serial, c.operator, c.reason))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
        },
        Command::Rollout { command } => match command {
            RolloutCommand::List => {
                let r = civreg_hub::rollout::Rollout::load(&data_dir)?;
                print(cli.json, serde_json::to_value(&r)?, || {
                    let mut s = format!(
                        "{:<18} {:<10} {:<24} {}\n",
                        "municipality", "stage", "may register", "last change"
                    );
                    for (code, e) in &r.municipalities {
                        s.push_str(&format!(
                            "{:<18} {:<10} {:<24} {}\n",
                            code,
                            e.stage,
                            e.kinds
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                            e.changed_by
                                .as_ref()
                                .map(|b| format!(
                                    "by {b}{}",
                                    if e.reason.is_empty() {
                                        String::new()
                                    } else {
                                        format!(": {}", e.reason)
                                    }
                                ))
                                .unwrap_or_else(|| "default".into())
                        ));
                    }
                    s.trim_end().to_string()
                });
            }
            RolloutCommand::Set {
                code,
                stage,
                kinds,
                operator,
                reason,
            } => {
                let m = civreg_shared::gazetteer::resolve(&code)
                    .map(|g| g.code.to_string())
                    .with_context(|| format!("unknown municipality {code:?}: `civreg-hub rollout list` shows the codes"))?;
                let kinds = kinds.map(|k| k.iter().map(|s| kind_of(s)).collect());
                let e = civreg_hub::rollout::Rollout::set(
                    &data_dir, &m, stage, kinds, &operator, &reason,
                )?;
                print(
                    cli.json,
                    json!({"ok": true, "municipality": m, "entry": e}),
                    || {
                        format!(
                            "{m} is now {} (applies to the running hub within a second)",
                            e.stage
                        )
                    },
                );
            }
        },
        Command::Search {
            text,
            born,
            municipality,
            kind,
            limit,
            offset,
            operator,
        } => {
            let query = civreg_hub::search::SearchQuery {
                text,
                born: born
                    .map(|b| civreg_hub::search::Born::parse(&b))
                    .transpose()?,
                municipality,
                kind: kind.as_deref().map(kind_of),
                offset,
                limit,
            };
            let v = ask(
                &data_dir,
                control::Request::Search {
                    query,
                    by: operator_label(&operator),
                },
            )?;
            print(cli.json, v.clone(), || {
                let hits = v["hits"].as_array().cloned().unwrap_or_default();
                let mut s = format!("{} found (national register)\n", v["total"]);
                if v["partial"].as_bool() == Some(true) {
                    s.push_str(
                        "no record matches every part of the query: the closest records follow\n",
                    );
                }
                for h in &hits {
                    let people: Vec<String> = h["summary"]["people"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|p| {
                                    format!(
                                        "{} ({})",
                                        p[1].as_str().unwrap_or(""),
                                        p[0].as_str().unwrap_or("")
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    s.push_str(&format!(
                        "{}  {}  born {}  {}\n",
                        h["regno"].as_str().unwrap_or(""),
                        people.join(", "),
                        h["summary"]["date_of_birth"].as_str().unwrap_or("?"),
                        h["summary"]["place_of_birth"].as_str().unwrap_or("")
                    ));
                    for w in h["why"].as_array().cloned().unwrap_or_default() {
                        s.push_str(&format!("    {}\n", w.as_str().unwrap_or("")));
                    }
                }
                s.trim_end().to_string()
            });
        }
        Command::Import {
            file,
            municipality,
            operator,
            report,
        } => {
            let path = std::fs::canonicalize(&file)
                .with_context(|| format!("{}: can not read it", file.display()))?;
            let v = ask(
                &data_dir,
                control::Request::Import {
                    path,
                    municipality: municipality_code(&municipality)?,
                    operator,
                },
            )?;
            if let Some(out) = report {
                use std::io::Write;
                let mut w = std::io::BufWriter::new(
                    std::fs::File::create(&out)
                        .with_context(|| format!("could not write {}", out.display()))?,
                );
                for section in ["imported", "skipped", "rejected"] {
                    for row in v[section].as_array().cloned().unwrap_or_default() {
                        let mut row = row;
                        row["status"] = json!(section);
                        writeln!(w, "{row}")?;
                    }
                }
                w.flush()?;
            }
            for r in v["rejected"].as_array().cloned().unwrap_or_default() {
                eprintln!(
                    "line {}: rejected: {}",
                    r["line"],
                    r["reasons"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join("; "))
                        .unwrap_or_default()
                );
            }
            for d in v["double_entries"].as_array().cloned().unwrap_or_default() {
                eprintln!(
                    "line {}: suspected double entry, identical to line {} (no register reference): imported as {}, check the register page",
                    d["line"],
                    d["same_as_line"],
                    d["regno"].as_str().unwrap_or("")
                );
            }
            print(cli.json, v.clone(), || {
                let n = |k: &str| v[k].as_array().map_or(0, |a| a.len());
                format!(
                    "{} rows: {} imported into {} ({} suspected double entries), {} skipped (already imported), {} rejected\npeople: {} matched to the register, {} possible matches filed for review (`civreg-hub duplicates list`), {} new",
                    v["rows"], n("imported"), v["municipality"].as_str().unwrap_or(""),
                    n("double_entries"), n("skipped"), n("rejected"), v["matched"], v["possible"], v["new"]
                )
            });
            // Rejected rows: exit 1, as `civreg-node import` does (the output is complete).
            if v["rejected"].as_array().is_some_and(|a| !a.is_empty()) {
                use std::io::Write;
                let _ = std::io::stdout().flush();
                std::process::exit(1);
            }
        }
        Command::Duplicates { command } => {
            let decide = |id: String, action: &str, reason: String, operator: String| {
                ask(
                    &data_dir,
                    control::Request::DuplicatesDecide {
                        id,
                        action: action.into(),
                        operator,
                        reason,
                    },
                )
            };
            let v = match command {
                DuplicatesCommand::List { municipality, all } => {
                    let m = municipality.map(|m| municipality_code(&m)).transpose()?;
                    let v = ask(
                        &data_dir,
                        control::Request::DuplicatesList {
                            municipality: m,
                            all,
                        },
                    )?;
                    print(cli.json, v.clone(), || {
                        let cases = v.as_array().cloned().unwrap_or_default();
                        if cases.is_empty() {
                            return "no duplicates waiting".into();
                        }
                        cases
                            .iter()
                            .map(|c| {
                                format!(
                                    "{}  {:<9} weight {:>6.1}  {}  {}  ({}, {})",
                                    c["id"].as_str().unwrap_or(""),
                                    c["status"].as_str().unwrap_or(""),
                                    c["weight"].as_f64().unwrap_or(0.0),
                                    c["a"].as_str().unwrap_or(""),
                                    c["b"].as_str().unwrap_or(""),
                                    c["class"].as_str().unwrap_or(""),
                                    c["source"].as_str().unwrap_or("")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                    return Ok(());
                }
                DuplicatesCommand::Show { id, operator } => {
                    let v = ask(
                        &data_dir,
                        control::Request::DuplicatesShow {
                            id,
                            by: operator_label(&operator),
                        },
                    )?;
                    print(cli.json, v.clone(), || {
                        let side = |label: &str, s: &serde_json::Value| {
                            format!(
                                "{label}: {} ({}), person {}\n{}",
                                s["mention"].as_str().unwrap_or(""),
                                s["kind"].as_str().unwrap_or(""),
                                s["persons"][s["role"].as_str().unwrap_or("")]
                                    .as_str()
                                    .unwrap_or("?"),
                                serde_json::to_string_pretty(&s["record"]).unwrap_or_default()
                            )
                        };
                        format!(
                            "case {}: {} (weight {:.1}, probability {:.3}, found by {})\n\n{}\n\n{}",
                            v["case"]["id"].as_str().unwrap_or(""),
                            v["case"]["status"].as_str().unwrap_or(""),
                            v["case"]["weight"].as_f64().unwrap_or(0.0),
                            v["case"]["probability"].as_f64().unwrap_or(0.0),
                            v["case"]["source"].as_str().unwrap_or(""),
                            side("A", &v["a"]),
                            side("B", &v["b"])
                        )
                    });
                    return Ok(());
                }
                DuplicatesCommand::Link {
                    id,
                    reason,
                    operator,
                } => decide(id, "link", reason, operator)?,
                DuplicatesCommand::Dismiss {
                    id,
                    reason,
                    operator,
                } => decide(id, "dismiss", reason, operator)?,
                DuplicatesCommand::Unlink {
                    id,
                    reason,
                    operator,
                } => decide(id, "unlink", reason, operator)?,
            };
            print(cli.json, v.clone(), || {
                let ops = v["decisions"]
                    .as_array()
                    .and_then(|d| d.last())
                    .and_then(|d| d["ops"].as_array())
                    .map_or(0, |o| o.len());
                format!(
                    "case {}: {} ({} op(s) in the hub's log; the records' offices receive them with their next pull)",
                    v["id"].as_str().unwrap_or(""),
                    v["status"].as_str().unwrap_or(""),
                    ops
                )
            });
        }
        Command::Person { id, operator } => {
            let v = ask(
                &data_dir,
                control::Request::Person {
                    id,
                    by: operator_label(&operator),
                },
            )?;
            print(cli.json, v.clone(), || {
                format!(
                    "person {}\n{}",
                    v["person"].as_str().unwrap_or(""),
                    v["mentions"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .map(|m| format!("  {}", m.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
        }
        Command::AccessLog {
            record,
            by,
            since,
            person,
        } => {
            let since_ms = since
                .map(|s| {
                    chrono::DateTime::parse_from_rfc3339(&s)
                        .map(|t| t.timestamp_millis() as u64)
                        .or_else(|_| {
                            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(|d| {
                                d.and_hms_opt(0, 0, 0)
                                    .map(|t| t.and_utc().timestamp_millis() as u64)
                                    .unwrap_or(0)
                            })
                        })
                        .map_err(|_| {
                            anyhow::anyhow!("--since {s:?}: use YYYY-MM-DD or an RFC 3339 time")
                        })
                })
                .transpose()?;
            let record = record
                .map(|r| civreg_shared::ids::RegNo::parse(&r).map(|r| r.to_string()))
                .transpose()?;
            // A person's records, asked without writing a view: the question is about the log.
            let person_records: Option<Vec<String>> = match person {
                Some(p) => {
                    let pid = civreg_shared::ids::PersonId::parse(&p)?;
                    let v = ask(
                        &data_dir,
                        control::Request::PersonRecords {
                            id: pid.to_string(),
                        },
                    )?;
                    Some(serde_json::from_value(v)?)
                }
                None => None,
            };
            let mut entries = civreg_hub::access::read(
                &data_dir,
                &civreg_hub::access::Filter {
                    record,
                    by,
                    since_ms,
                },
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            if let Some(recs) = &person_records {
                entries.retain(|e| e.records.iter().any(|r| recs.contains(r)));
            }
            print(cli.json, serde_json::to_value(&entries)?, || {
                if entries.is_empty() {
                    return "no entries".into();
                }
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {:<30} {:<7} {}{}  -> {}",
                            chrono::DateTime::from_timestamp_millis(e.at_ms as i64)
                                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                                .unwrap_or_default(),
                            e.by,
                            e.action,
                            if e.clerk.is_empty() {
                                String::new()
                            } else {
                                format!("clerk {} ", e.clerk)
                            },
                            e.query,
                            e.records.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Show { regno, operator } => {
            let req = control::Request::Show {
                regno,
                by: operator_label(&operator),
            };
            let v = match ask_hub(&data_dir, &req) {
                Ok(v) => v,
                Err(HubAnswer::Locked) => anyhow::bail!(
                    "the hub database is in use by a civreg-hub that does not answer on {}: stop it, or run the same civreg-hub version as it",
                    control::socket_path(&data_dir).display()
                ),
                Err(HubAnswer::Failed(e)) => return Err(e),
            };
            print(cli.json, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
        }
    }
    Ok(())
}

/// Why [`ask_hub`] has no answer.
enum HubAnswer {
    /// Another process holds the database and no hub answers on the control socket.
    Locked,
    Failed(anyhow::Error),
}

/// Answers `req`: from the running hub through its control socket, or, when none runs, from
/// the store opened here. Either way the same code ([`control::handle`]) answers. While another
/// process holds the store (a hub starting, whose socket answers a moment later, or another
/// command) it tries both for a few seconds.
fn ask_hub(data_dir: &Path, req: &control::Request) -> Result<serde_json::Value, HubAnswer> {
    let failed = |e: control::ControlError| HubAnswer::Failed(e.into());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        if let Some(v) = control::call(data_dir, req).map_err(failed)? {
            return Ok(v);
        }
        let keys = civreg_hub::atrest::load_key(
            KEY_FILE
                .get()
                .map_or(&civreg_hub::atrest::default_key_path(data_dir), |p| p),
        )
        .map_err(|e| HubAnswer::Failed(e.into()))?;
        match HubStore::open(&civreg_hub::paths::db_dir(data_dir), keys) {
            Ok(store) => {
                return control::handle_with_progress(
                    req,
                    &control::HubState::stopped(data_dir, store),
                    &mut |line| eprintln!("{line}"),
                )
                .map_err(failed)
            }
            Err(civreg_hub::store::StoreError::Locked(_))
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(civreg_hub::store::StoreError::Locked(_)) => return Err(HubAnswer::Locked),
            Err(e) => return Err(HubAnswer::Failed(e.into())),
        }
    }
}

/// The key file in force (set once in `main`), for commands that open the store themselves.
static KEY_FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn main() {
    // Everything this process creates (database, index, logs, PKI, sockets) is private to the
    // hub's user, whatever umask it was started with.
    civreg_hub::atrest::private_umask();
    let cli = Cli::parse();
    let json_mode = cli.json;
    let fail = |e: anyhow::Error| -> ! {
        if json_mode {
            println!("{}", json!({"ok": false, "error": format!("{e:#}")}));
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(1);
    };
    let (grpc_listen, http_listen) = match &cli.command {
        Some(Command::Serve {
            grpc_listen,
            http_listen,
        }) => (grpc_listen.clone(), http_listen.clone()),
        _ => (None, None),
    };
    let cfg = match civreg_hub::config::load(
        std::env::vars(),
        civreg_hub::config::Overrides {
            config: cli.config.clone(),
            data_dir: cli.data_dir.clone(),
            key_file: cli.key_file.clone(),
            grpc_listen,
            log_json: cli.log_json,
            http_listen,
        },
    ) {
        Ok(c) => c,
        Err(e) => fail(e.into()),
    };
    if cli.dump_config {
        print!("{}", cfg.to_toml());
        return;
    }
    let _ = KEY_FILE.set(cfg.key_file.clone());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_json {
        sub.json().init();
    } else {
        sub.init();
    }
    if let Err(e) = run(cli, cfg) {
        fail(e);
    }
}
