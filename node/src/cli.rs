//! The `civreg-node` command line. Everything prints for people by default and as JSON with
//! `--json`; every error exits non-zero with a message that says what to do.
//!
//! A command runs in one of two places with the same code ([`execute`]): in this process over
//! the database it opened, or, while `civreg-node serve` holds the database, inside the serving
//! process, reached through its control socket ([`crate::control`]). Commands therefore write to
//! an [`Io`] rather than to the process's own streams, ask for credentials through [`Ask`], and
//! resolve relative paths against the client's working directory.

use crate::clitext::{self, f, t, Said};
use crate::control::{self, Reach, Remote, Served};
use crate::import::ImportError;
use crate::index::{DateFilter, Query};
use crate::node::{Clerk, Node, NodeError, Paths, RecordState};
use crate::store::StoreError;
use anyhow::{anyhow, bail, Context, Result};
use civreg_shared::gazetteer;
use civreg_shared::i18n::{Arg, Lang};
use civreg_shared::model::RecordKind;
use clap::{Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "civreg-node",
    version,
    about = "civreg municipal office node: register, amend and search civil-status entries, offline"
)]
pub struct Cli {
    /// The node's data directory (also CIVREG_NODE_DATA_DIR or `data_dir` in the config file).
    #[arg(
        long,
        env = "CIVREG_DATA_DIR",
        global = true,
        default_value = crate::config::DEFAULT_DATA_DIR
    )]
    pub data_dir: PathBuf,
    /// The key file that encrypts the database (default: DATA_DIR/node.key). Keep a backup of it.
    #[arg(long, env = "CIVREG_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// A TOML config file (also CIVREG_NODE_CONFIG; deploy/node.example.toml). Layers:
    /// defaults < file < CIVREG_NODE_* < flags.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print the configuration in force, as TOML, and exit.
    #[arg(long, global = true)]
    pub dump_config: bool,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log as JSON lines (levels from RUST_LOG, default warn).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The language of the text output, as in the clerk app: sq (Albanian), sr-Latn, sr-Cyrl or
    /// en; given before the command (also CIVREG_LANG, or `lang` in the config file; else the
    /// locale's, from LC_ALL, LC_MESSAGES or LANG; else Albanian). `--json` output is always
    /// English.
    #[arg(long, env = "CIVREG_LANG", ignore_case = true, value_parser = clitext::lang_parser())]
    pub lang: Option<Lang>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// A command, as parsed here and as handed to a running `serve` over its control socket.
#[derive(Subcommand, Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        /// Rebuild a lost office from the hub (no backup): its own chain and its municipality's
        /// records; reports the sequence numbers lost. Needs --bundle.
        #[arg(long, requires = "bundle")]
        #[serde(default)]
        recover: bool,
    },
    /// Run the background sync worker until Ctrl-C / SIGTERM. It keeps the database open; every
    /// other command then runs inside it, through DATA_DIR/node.sock, and works as usual.
    Serve {
        /// Hub address (default: the one in the enrollment bundle).
        #[arg(long)]
        hub: Option<String>,
        /// Seconds between sync rounds while the link is up (also `[sync] interval_s`).
        #[arg(long, default_value_t = 5)]
        interval_secs: u64,
        /// Where the clerk app (the office's web application) listens: a loopback address
        /// (default 127.0.0.1:8090, skipped with a warning when taken; plain HTTP), an address
        /// on the office network such as 0.0.0.0:8443 (HTTPS with the certificate of
        /// `app-cert install`), or `off`.
        #[arg(long, env = "CIVREG_HTTP_LISTEN")]
        #[serde(default)]
        http_listen: Option<String>,
        /// A host name the clerk app answers to besides loopback names (repeatable).
        #[arg(long = "http-host")]
        #[serde(default)]
        http_hosts: Vec<String>,
        /// Make a backup here (a USB drive, say) at start and then daily (`backup`).
        #[arg(long, env = "CIVREG_BACKUP_DIR")]
        #[serde(default)]
        backup_dir: Option<PathBuf>,
        /// Seconds a call with the hub (push, pull, heartbeat) may go without the hub's next
        /// answer before the worker gives that hub up and tries the next of the list (also
        /// `[sync] stall_s`).
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
        #[serde(default)]
        stall_secs: u64,
        /// How many scheduled backups to keep in --backup-dir (also `[backup] keep`).
        #[arg(long, default_value_t = 7)]
        #[serde(default)]
        backup_keep: usize,
        /// A clerk signed in at the command line (`login`) stays signed in until this many
        /// seconds pass without a command (default 900: 15 minutes).
        #[arg(long, env = "CIVREG_SESSION_IDLE_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        #[serde(default)]
        session_idle_secs: u64,
        /// ... and at most this many seconds in all (default 28800: 8 hours).
        #[arg(long, env = "CIVREG_SESSION_MAX_SECS", default_value_t = 28_800, value_parser = clap::value_parser!(u64).range(1..=604_800))]
        #[serde(default)]
        session_max_secs: u64,
    },
    /// Sign a clerk in for a working session while `serve` runs: the following commands of
    /// this Unix user need no password until the session has been idle for 15 minutes (serve's
    /// --session-idle-secs), 8 hours have passed, `logout`, or serve stops.
    Login,
    /// End the clerk's working session (see `login`).
    Logout,
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
        /// Why the record is corrected (required; recorded in its history).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Note an event (a marriage, a death) on a record, of this municipality or a birth record
    /// of another (found first with national search): an annotation, which never changes the
    /// record's own fields.
    Annotate {
        regno: String,
        /// marriage, death, divorce or other.
        #[arg(long)]
        event: String,
        /// Date of the event (YYYY-MM-DD).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        place: Option<String>,
        /// Registration number of the record of the event (the marriage or death record).
        #[arg(long)]
        record: Option<String>,
        #[arg(long)]
        text: Option<String>,
    },
    /// Void a record (it stays, with its history, but leaves search).
    Void {
        regno: String,
        #[arg(long)]
        reason: String,
    },
    /// Ask the agency to un-void a voided record of this municipality: the request goes to
    /// the hub's operators with the next sync; `status` shows their answer.
    RequestUnvoid {
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
    /// Import historic register entries from a CSV file (columns in the README). Exit status,
    /// as `civreg-hub import`: 0 when every row was imported or skipped, 1 when some rows were
    /// rejected (the others are imported) or the import failed.
    Import {
        file: PathBuf,
        /// Also write the full per-row report (accepted, skipped, rejected) to this file as JSON.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Walk the op log's hash chain and check every record against it.
    Verify,
    /// Who searched for or opened which records on this node (searches answered by the hub are
    /// also in the hub's access log).
    AccessLog {
        /// Only entries that returned or opened this record.
        #[arg(long)]
        record: Option<String>,
    },
    /// A digest of this municipality's records as this node holds them; equal to the hub's
    /// `civreg-hub digest --municipality M` once both hold the same ops.
    Digest,
    /// Write every record and op as JSON Lines (personal numbers included): needs a signed-in
    /// clerk, and is written to the access log (who exported, when, where to).
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the municipalities and their codes.
    Municipalities,
    /// Issue a citizen's certificate of a record as it is now: a signed one-page A4 PDF with a
    /// QR code that anyone can verify offline. Works offline; recorded with the clerk, the
    /// record's version, the collector and the kind of identity document shown.
    Certificate {
        regno: String,
        /// sq (Albanian first), sr (Serbian first) or en (both, with English).
        #[arg(long, default_value = "sq")]
        lang: String,
        #[arg(long)]
        out: PathBuf,
        /// The name of the person who collects it.
        #[arg(long)]
        collector: String,
        /// The kind of identity document they showed: id-card, passport, driving-licence,
        /// residence-permit or other (never its number).
        #[arg(long)]
        id_document: String,
    },
    /// Certificates issued at this office.
    Certificates,
    /// Verify a certificate offline against the agency's trust list: give its QR text, a PDF,
    /// or a PNG picture of its QR code. Exit 0: valid; 1: not valid (the reason is printed).
    VerifyCertificate {
        /// The QR text (`CR1:...`), or a .pdf or .png file.
        input: String,
        /// The trust list (`civreg-hub pki trust-list`).
        #[arg(long)]
        trust_list: PathBuf,
        /// The agency's root certificate to pin the trust list to (default: the ca.pem of this
        /// office's enrolment, when there is one).
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// This office's document signer (for certificates).
    Signer {
        #[command(subcommand)]
        command: SignerCommand,
    },
    /// Apply an enrolment bundle to this existing node (a new hub address, a certificate from
    /// the agency, or the first enrolment of a node that started alone); see `enrol.rs`.
    Enrol {
        /// The bundle directory from `civreg-hub pki issue` for this node.
        #[arg(long)]
        bundle: PathBuf,
    },
    /// The clerk app's certificate for HTTPS on the office network (`civreg-hub pki issue-app`).
    AppCert {
        #[command(subcommand)]
        command: AppCertCommand,
    },
    /// Make a consistent, encrypted backup of the database under DIR (also while `serve` runs);
    /// the key file is not in it.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into an empty data directory (with the node's key file); the node
    /// catches up with the hub before it registers again.
    Restore {
        /// The backup's directory (civreg-backup-...).
        #[arg(long)]
        from: PathBuf,
        /// The node's enrollment bundle, when the data directory has none.
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Re-encrypt the database under a new key file (administrators; `serve` must be stopped).
    /// Resumable: after an interruption run `rotate-key --resume`. At the end the new key is
    /// the node's key file and the old one is renamed KEY.old-DATE.
    RotateKey {
        /// Where to write the new key (a file that does not exist yet).
        #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
        new_key_file: Option<PathBuf>,
        /// Continue an interrupted rotation.
        #[arg(long)]
        resume: bool,
        /// Entries re-encrypted per atomic write.
        #[arg(long, default_value_t = crate::rotate::DEFAULT_BATCH, hide = true)]
        batch: usize,
    },
}

#[derive(Subcommand, Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerCommand {
    /// Install signer.pem and signer.key from DIR (from `civreg-hub pki issue-signer`, or an
    /// enrolment bundle); the key is sealed in the database. Delete DIR's copy afterwards.
    Install { dir: PathBuf },
    /// Show the installed signer.
    Show,
}

#[derive(Subcommand, Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppCertCommand {
    /// Check and install app.pem and app.key from DIR (from `civreg-hub pki issue-app`); a
    /// running serve picks it up. Delete DIR's copy of app.key afterwards.
    Install { dir: PathBuf },
    /// Show the installed app certificate.
    Show,
}

#[derive(Subcommand, Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClerkCommand {
    /// Add a clerk. The first clerk needs no sign-in; later ones must be added by a clerk.
    /// The new password comes from CIVREG_NEW_CLERK_PASSWORD or a prompt.
    Add { name: String },
    /// List clerk names.
    List,
    /// Set a clerk's new password (a signed-in clerk does it: their own, or a colleague's who
    /// forgot theirs). The new password comes from CIVREG_NEW_CLERK_PASSWORD or a prompt.
    Password { name: String },
    /// Remove a clerk: they can no longer sign in. The last clerk is not removed.
    Remove { name: String },
}

/// Where a command's output goes and where its input and credentials come from: this
/// process's own streams and terminal, or the client's, through the control socket.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Standard input (read by `register --file -`).
    pub stdin: &'a mut dyn Read,
    pub ask: &'a mut dyn Ask,
    pub progress: Progress,
    /// The client's working directory, against which relative paths are resolved, when the
    /// command runs inside `serve`. Messages still show paths as they were given.
    pub cwd: Option<&'a Path>,
    /// Set when the client has gone away: long commands (import) stop reading their input.
    pub cancelled: Option<Arc<AtomicBool>>,
}

impl Io<'_> {
    /// Prints `value` with `--json`, else the text.
    fn print(
        &mut self,
        json: bool,
        value: serde_json::Value,
        text: impl FnOnce() -> String,
    ) -> Result<()> {
        emit(self.out, json, value, text)
    }

    /// The path to open for `p` as the user gave it.
    fn path(&self, p: &Path) -> PathBuf {
        match self.cwd {
            Some(cwd) if p.is_relative() => cwd.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// Opens the input file `p` as the user gave it: inside `serve`, the client opens it and
    /// sends its bytes. Returns the reader and the file's length.
    fn open_in(&mut self, p: &Path) -> Result<(Box<dyn Read>, u64)> {
        if let Some(opened) = self.ask.open_input(p)? {
            return Ok(opened);
        }
        let f = std::fs::File::open(self.path(p)).map_err(|e| unreadable(p, e))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        Ok((Box::new(std::io::BufReader::new(f)), len))
    }

    /// As [`Io::open_in`], for a reader handed to another thread (`import`): a client's file is
    /// first copied, as it comes, to an unnamed file in `spool_dir` (serve's data dir, on the
    /// same disk as the database it is imported into), so memory stays bounded.
    fn open_in_send(&mut self, p: &Path, spool_dir: &Path) -> Result<(Box<dyn Read + Send>, u64)> {
        let Some((mut remote, len)) = self.ask.open_input(p)? else {
            let f = std::fs::File::open(self.path(p)).map_err(|e| unreadable(p, e))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            return Ok((Box::new(std::io::BufReader::new(f)), len));
        };
        use std::os::unix::fs::OpenOptionsExt;
        let spool = spool_dir.join(format!(
            ".import-{}-{}.spool",
            std::process::id(),
            SPOOLED.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&spool)
            .with_context(|| format!("could not make a spool file in {}", spool_dir.display()))?;
        // Unnamed from now on: nothing is left behind, whatever happens next.
        let _ = std::fs::remove_file(&spool);
        let mut buf = vec![0; control::CHUNK];
        loop {
            if self
                .cancelled
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                bail!("the command was cancelled: its client went away");
            }
            let n = remote.read(&mut buf).map_err(|e| unreadable(p, e))?;
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n])?;
        }
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(0))?;
        Ok((Box::new(std::io::BufReader::new(f)), len))
    }

    /// Creates the output file `p` as the user gave it (`new`: refuse an existing one): inside
    /// `serve`, the client creates it and writes the bytes it is sent.
    fn create_out(&mut self, p: &Path, new: bool) -> Result<Box<dyn OutFile>> {
        if let Some(out) = self.ask.create_output(p, new)? {
            return Ok(out);
        }
        let mut o = std::fs::OpenOptions::new();
        o.write(true);
        if new {
            o.create_new(true);
        } else {
            o.create(true).truncate(true);
        }
        let path = self.path(p);
        let f = o.open(&path).map_err(|e| unwritable(p, e))?;
        Ok(Box::new(LocalOut {
            w: std::io::BufWriter::new(f),
            path,
            done: false,
        }))
    }
}

/// Prints `value` with `--json`, else the text.
fn emit(
    out: &mut dyn Write,
    json: bool,
    value: serde_json::Value,
    text: impl FnOnce() -> String,
) -> Result<()> {
    if json {
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{}", text())?;
    }
    Ok(())
}

/// How `import` shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A progress bar on this process's terminal.
    Bar,
    /// Plain lines on standard error (a command run inside `serve` for a client on a terminal).
    Lines,
    Off,
}

/// Numbers the spool files of imports running at the same time.
static SPOOLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Credentials only the person at the command line can give, and (inside `serve`) the clerk's
/// remembered session and the files only the client can open.
pub trait Ask {
    /// The signed-in clerk's name and password.
    fn clerk(&mut self) -> Result<(String, String)>;
    /// A new clerk's password.
    fn new_password(&mut self, name: &str) -> Result<String>;
    /// The clerk of the client's live remembered session (inside `serve` only).
    fn remembered(&mut self) -> Option<String> {
        None
    }
    /// `clerk` has just signed in with a password: remember them for a working session, when
    /// the password was typed at the client's terminal or `login` asks (inside `serve` only).
    fn remember(&mut self, _clerk: &str, _login: bool) -> Result<Option<Remembered>> {
        Ok(None)
    }
    /// Ends the client's session: `None` outside `serve`, else whether there was a live one.
    fn forget(&mut self) -> Option<bool> {
        None
    }
    /// The client's file `path` (as given), opened by the client, and its length; `None`: open
    /// it here (outside `serve`).
    fn open_input(&mut self, _path: &Path) -> Result<Option<(Box<dyn Read>, u64)>> {
        Ok(None)
    }
    /// The client's file `path` (as given), created by the client (`new`: refuse an existing
    /// one); `None`: create it here.
    fn create_output(&mut self, _path: &Path, _new: bool) -> Result<Option<Box<dyn OutFile>>> {
        Ok(None)
    }
}

/// A remembered session just opened.
pub struct Remembered {
    /// When it ends at the latest (seconds since the Unix epoch).
    pub until_unix: u64,
    pub idle_secs: u64,
}

/// A command's output file: complete only once finished (a client's file is removed if the
/// command fails before).
pub trait OutFile: Write {
    fn finish(self: Box<Self>) -> Result<()>;
}

/// An output file this process writes: removed again unless finished, as a client's is.
struct LocalOut {
    w: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    done: bool,
}

impl Write for LocalOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.w.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

impl OutFile for LocalOut {
    fn finish(mut self: Box<Self>) -> Result<()> {
        self.w.flush()?;
        self.w.get_ref().sync_all()?;
        self.done = true;
        Ok(())
    }
}

impl Drop for LocalOut {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The most an amendment's file of changes may hold (an op holds at most
/// [`civreg_shared::limits::MAX_OP_BYTES`]; this is far above, and refuses a wrong file early).
const MAX_CHANGES_FILE: u64 = civreg_shared::limits::MAX_BATCH_BYTES as u64;

/// Credentials from CIVREG_CLERK / CIVREG_CLERK_PASSWORD / CIVREG_NEW_CLERK_PASSWORD, or
/// asked on the terminal, in the user's language.
pub struct TerminalAsk(pub Lang);

/// A prompt: the words, then `: `.
fn prompt(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    format!("{}: ", f(lang, key, args))
}

fn password_unreadable(var: &str, e: std::io::Error) -> Said {
    Said::new("cli-err-read-password")
        .with("var", var)
        .with("detail", e)
}

impl Ask for TerminalAsk {
    fn clerk(&mut self) -> Result<(String, String)> {
        let lang = self.0;
        let name = match std::env::var("CIVREG_CLERK") {
            Ok(n) if !n.is_empty() => n,
            _ => read_tty_line(&prompt(lang, "cli-ask-clerk", &[]))?,
        };
        let password = match std::env::var("CIVREG_CLERK_PASSWORD") {
            Ok(p) => p,
            Err(_) => rpassword::prompt_password(prompt(
                lang,
                "cli-ask-password",
                &[("name", name.as_str().into())],
            ))
            .map_err(|e| password_unreadable("CIVREG_CLERK_PASSWORD", e))?,
        };
        Ok((name, password))
    }

    fn new_password(&mut self, name: &str) -> Result<String> {
        let lang = self.0;
        if let Ok(p) = std::env::var("CIVREG_NEW_CLERK_PASSWORD") {
            return Ok(p);
        }
        let a = rpassword::prompt_password(prompt(
            lang,
            "cli-ask-new-password",
            &[("name", name.into())],
        ))
        .map_err(|e| password_unreadable("CIVREG_NEW_CLERK_PASSWORD", e))?;
        let b = rpassword::prompt_password(prompt(lang, "cli-ask-repeat", &[]))?;
        if a != b {
            return Err(Said::new("cli-err-passwords-differ").into());
        }
        Ok(a)
    }
}

/// What a command runs against besides its node.
pub struct Ctx<'a> {
    pub paths: &'a Paths,
    pub json: bool,
    /// The language of the text output (the client's, inside `serve`).
    pub lang: Lang,
    /// The serving process, when the command runs inside `serve`.
    pub served: Option<&'a Served>,
}

fn read_tty_line(prompt: &str) -> Result<String> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|e| Said::new("cli-err-no-terminal").with("detail", e))?;
    write!(tty, "{prompt}")?;
    tty.flush()?;
    let mut line = String::new();
    std::io::BufReader::new(tty).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The signed-in clerk.
/// Installs DIR/signer.pem and DIR/signer.key as the office's document signer.
fn install_signer_from(node: &Node, dir: &Path) -> Result<crate::node::SignerInfo> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .with_context(|| format!("could not read {}", dir.join(f).display()))
    };
    Ok(node.install_signer(&read("signer.pem")?, &read("signer.key")?)?)
}

/// `verify-certificate`: reads the QR text from the input (text, PDF or PNG) and verifies it
/// against the trust list. Exit 0 when valid, 1 when not.
fn verify_certificate(
    io: &mut Io,
    json: bool,
    lang: Lang,
    paths: &Paths,
    input: &str,
    trust_list: &Path,
    anchor: Option<&Path>,
) -> Result<i32> {
    let list_bytes = std::fs::read(io.path(trust_list)).map_err(|e| {
        Said::new("cli-err-trust-list")
            .with("file", trust_list.display())
            .with("detail", e)
    })?;
    let enrolled_ca = paths.data_dir.join("tls").join("ca.pem");
    let anchor_path = anchor
        .map(|a| io.path(a))
        .or_else(|| enrolled_ca.exists().then_some(enrolled_ca));
    let anchor_der = match &anchor_path {
        Some(p) => {
            use rustls_pki_types::pem::PemObject;
            let pem = std::fs::read(p).map_err(|e| unreadable(p, e))?;
            Some(
                rustls_pki_types::CertificateDer::from_pem_slice(&pem)
                    .map_err(|e| anyhow!("{} holds no certificate ({e})", p.display()))?
                    .to_vec(),
            )
        }
        None => None,
    };
    let trust = civreg_cert::TrustList::open(&list_bytes, anchor_der.as_deref())?;
    let lower = input.to_ascii_lowercase();
    let text = if lower.ends_with(".pdf") {
        civreg_cert::qr::from_pdf(&io.path(Path::new(input)))?
    } else if lower.ends_with(".png") {
        let bytes = std::fs::read(io.path(Path::new(input)))
            .map_err(|e| unreadable(Path::new(input), e))?;
        civreg_cert::qr::decode_png(&bytes)?
    } else {
        input.to_owned()
    };
    match civreg_cert::verify(&text, &trust) {
        Ok(v) => {
            let c = &v.claims;
            io.print(
                json,
                json!({"valid": true, "claims": c, "signer": v.signer.identity, "trust_list_issued": civreg_cert::format_time(trust.issued_at), "anchor_pinned": anchor_der.is_some()}),
                || {
                    let mut s = f(
                        lang,
                        "cli-verify-valid",
                        &[
                            ("serial", c.serial.as_str().into()),
                            ("regno", c.regno.as_str().into()),
                            ("date", c.issued_on.as_str().into()),
                            ("office", v.signer.office().into()),
                        ],
                    );
                    s.push('\n');
                    for p in &c.people {
                        let name = format!(
                            "{} {}",
                            civreg_cert::pdf::printed_name(&p.given_name),
                            civreg_cert::pdf::printed_name(&p.surname)
                        );
                        let line = match p.date_of_birth.as_deref() {
                            Some(d) => f(
                                lang,
                                "cli-verify-person-born",
                                &[("name", name.into()), ("date", d.into())],
                            ),
                            None => name,
                        };
                        s.push_str(&format!(
                            "  {}: {line}\n",
                            clitext::role_name(lang, &p.role)
                        ));
                    }
                    s.push_str(&format!(
                        "  {}\n{}",
                        f(
                            lang,
                            "cli-verify-event",
                            &[
                                ("date", c.event_date.as_deref().unwrap_or("?").into()),
                                ("place", c.event_place.as_str().into()),
                            ],
                        ),
                        f(
                            lang,
                            "cli-verify-offline",
                            &[("date", civreg_cert::format_time(trust.issued_at).into())],
                        )
                    ));
                    if anchor_der.is_none() {
                        s.push('\n');
                        s.push_str(&f(
                            lang,
                            "cli-verify-unpinned",
                            &[("fingerprint", trust.anchor_fingerprint.as_str().into())],
                        ));
                    }
                    s
                },
            )?;
            Ok(0)
        }
        Err(refusal) => {
            io.print(
                json,
                json!({"valid": false, "refusal": refusal.code(), "message": refusal.to_string()}),
                || clitext::refusal_text(lang, &refusal),
            )?;
            Ok(1)
        }
    }
}

/// The signed-in clerk: the client's remembered session inside `serve` when it is live, else
/// asked (and then remembered, when typed at the client's terminal).
fn sign_in(node: &Node, ask: &mut dyn Ask) -> Result<Clerk> {
    // A remembered session of a clerk removed since ends: the password is asked again.
    if let Some(name) = ask.remembered() {
        if node.clerk_exists(&name)? {
            return Ok(Node::signed_in_clerk(&name));
        }
    }
    let (name, password) = ask.clerk()?;
    let clerk = node.authenticate(&name, &password)?;
    ask.remember(clerk.name(), false)?;
    Ok(clerk)
}

fn read_json_file(io: &mut Io, path: &Path) -> Result<serde_json::Value> {
    let (reader, len) = io.open_in(path)?;
    let too_large = || {
        Said::new("cli-err-file-too-large")
            .with("file", path.display())
            .num("max", MAX_CHANGES_FILE / 1024)
    };
    if len > MAX_CHANGES_FILE {
        return Err(too_large().into());
    }
    let mut text = String::new();
    reader
        .take(MAX_CHANGES_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(path, e))?;
    if text.len() as u64 > MAX_CHANGES_FILE {
        return Err(too_large().into());
    }
    serde_json::from_str(&text).map_err(|e| {
        Said::new("cli-err-not-json")
            .with("file", path.display())
            .with("detail", &e)
            .num("line", e.line() as u64)
            .num("column", e.column() as u64)
            .into()
    })
}

/// "could not read FILE: why".
pub(crate) fn unreadable(path: &Path, e: std::io::Error) -> Said {
    Said::new("cli-err-read-file")
        .with("file", path.display())
        .with("detail", e)
}

/// "could not write FILE: why" (or "FILE exists already").
pub(crate) fn unwritable(path: &Path, e: std::io::Error) -> Said {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        return Said::new("cli-err-out-exists").with("file", path.display());
    }
    Said::new("cli-err-write-file")
        .with("file", path.display())
        .with("detail", e)
}

fn state_json(st: &RecordState) -> Result<serde_json::Value> {
    Ok(json!({
        "regno": st.regno,
        "kind": st.kind,
        "record": st.record()?.to_json(),
        "voided": st.voided,
        "open_conflicts": st.open_conflicts().collect::<Vec<_>>(),
        "persons": st.persons,
        "annotations": st.annotations(),
        "versions": st.ops.len(),
        "created_ms": st.created.wall_ms,
        "updated_ms": st.updated.wall_ms,
    }))
}

/// An annotation on one line: "marriage 2026-05-01 in Istog, record ISTOG-2026-M-000003 (by istog)".
fn note_line(lang: Lang, a: &civreg_shared::annotation::Annotation) -> String {
    let event_key = format!("annotate-event-{}", a.event);
    let mut s = if civreg_shared::i18n::Catalog::get().has(lang, &event_key) {
        t(lang, &event_key)
    } else {
        a.event.clone()
    };
    if let Some(d) = &a.date {
        s.push(' ');
        s.push_str(d);
    }
    if let Some(p) = &a.place {
        s.push_str(&f(lang, "cli-note-place", &[("place", p.into())]));
    }
    if let Some(r) = &a.record {
        s.push_str(&f(lang, "cli-note-record", &[("regno", r.into())]));
    }
    if let Some(x) = &a.text {
        s.push_str(": ");
        s.push_str(x);
    }
    format!(
        "{s} {}",
        f(lang, "cli-note-by", &[("office", a.office.as_str().into())])
    )
}

/// What `status` says of the hub's rules before the sync lines: nothing when all is well.
fn guard_lines(lang: Lang, g: &crate::guard::Guard) -> String {
    let mut s = String::new();
    if let Some(h) = &g.halted {
        s.push_str(&format!(
            "{}\n{:20}{}\n",
            f(
                lang,
                "cli-status-halted",
                &[("reason", h.why.as_str().into())]
            ),
            "",
            t(lang, "cli-status-halted-note")
        ));
    }
    if let Some(c) = &g.clock {
        if c.ahead_ms > civreg_shared::op::MAX_CLOCK_AHEAD_MS as i64 {
            let minutes = (c.ahead_ms + 59_999) / 60_000;
            s.push_str(&format!(
                "{}{}\n",
                clitext::label(lang, "cli-status-clock"),
                f(
                    lang,
                    "cli-status-clock-value",
                    &[("minutes", minutes.into())]
                )
            ));
        }
    }
    if let Some(r) = &g.rollout {
        let kinds = if r.kinds.is_empty() {
            t(lang, "cli-status-rollout-none")
        } else {
            r.kinds
                .iter()
                .map(|k| t(lang, &format!("cli-status-rollout-{k}")))
                .collect::<Vec<_>>()
                .join(&format!(" {} ", t(lang, "cli-status-rollout-and")))
        };
        s.push_str(&format!(
            "{}{}\n",
            clitext::label(lang, "cli-status-rollout"),
            f(
                lang,
                "cli-status-rollout-value",
                &[("stage", r.stage.as_str().into()), ("kinds", kinds.into())]
            )
        ));
    }
    s
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
    file: &Path,
    json: bool,
    lang: Lang,
    io: &mut Io,
) -> Result<bool> {
    let mut opened = if file.as_os_str() == "-" {
        None
    } else {
        Some(io.open_in(file)?.0)
    };
    let Io {
        out, err, stdin, ..
    } = io;
    let reader: &mut dyn Read = match opened.as_mut() {
        Some(r) => &mut **r,
        None => &mut **stdin,
    };
    let mut all_ok = true;
    let mut n = 0;
    for doc in serde_json::Deserializer::from_reader(reader).into_iter::<serde_json::Value>() {
        n += 1;
        let doc = doc.map_err(|e| {
            Said::new("cli-err-doc-not-json")
                .num("n", n)
                .with("detail", e)
        })?;
        match node.register(clerk, kind, doc) {
            Ok(saved) => {
                emit(
                    &mut **out,
                    json,
                    json!({"ok": true, "regno": saved.regno, "warnings": saved.warnings}),
                    || {
                        let mut s = f(lang, "cli-saved", &[("regno", saved.regno.as_str().into())]);
                        for w in &saved.warnings {
                            s.push_str("\n  ");
                            s.push_str(&clitext::problem_line(lang, w));
                        }
                        s
                    },
                )?;
                out.flush()?;
            }
            Err(e) => {
                all_ok = false;
                report_error(json, lang, &mut **out, &mut **err, &e)?;
            }
        }
    }
    if n == 0 {
        return Err(Said::new("cli-err-no-document")
            .with("file", file.display())
            .into());
    }
    Ok(all_ok)
}

fn report_error(
    json: bool,
    lang: Lang,
    out: &mut dyn Write,
    err: &mut dyn Write,
    e: &NodeError,
) -> Result<()> {
    if json {
        let problems = match e {
            NodeError::Invalid(r) => serde_json::to_value(&r.problems).unwrap_or_default(),
            _ => json!([]),
        };
        writeln!(
            out,
            "{}",
            json!({"ok": false, "error": e.to_string(), "problems": problems})
        )?;
    } else {
        let text = clitext::node_error_text(lang, e).unwrap_or_else(|| e.to_string());
        writeln!(err, "{}", f(lang, "cli-error", &[("message", text.into())]))?;
    }
    Ok(())
}

/// Prints a failed command's error as the command line does: a JSON object on standard output
/// with `--json` (in English), else `error: ...` on standard error in `lang`. Returns the exit
/// code, 1.
pub fn report_failure(
    json: bool,
    lang: Lang,
    e: &anyhow::Error,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    // Nothing more can be done if the streams themselves are gone.
    let _ = if json {
        writeln!(out, "{}", json!({"ok": false, "error": format!("{e:#}")}))
    } else {
        let text = clitext::error_text(lang, e);
        writeln!(err, "{}", f(lang, "cli-error", &[("message", text.into())]))
    };
    let _ = out.flush();
    let _ = err.flush();
    1
}

/// Whether a command uses the node's database (and so goes to a running `serve`).
fn uses_database(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Init { .. }
            | Command::Restore { .. }
            | Command::RotateKey { .. }
            | Command::Serve { .. }
            | Command::Municipalities
            | Command::VerifyCertificate { .. }
    )
}

/// Runs a parsed command line and returns the process exit code; errors are printed.
///
/// A command that uses the database first tries the control socket of a running
/// `civreg-node serve`; when none answers (none runs, or one was killed and left its socket
/// behind) it opens the database itself. If the database is held by another process, it keeps
/// trying both for up to [`Node::LOCK_WAIT`], so a `serve` that is just starting or stopping
/// is found either way.
pub fn run(cli: Cli) -> i32 {
    let json = cli.json;
    let lang = clitext::choose(cli.lang, |v| std::env::var(v).ok());
    let paths = Paths::new(&cli.data_dir, cli.key_file.as_deref());
    let ctx = Ctx {
        paths: &paths,
        json,
        lang,
        served: None,
    };
    // Not locked for the whole command: `serve` logs from other threads to standard error.
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let progress = if !json && std::io::stderr().is_terminal() {
        Progress::Bar
    } else {
        Progress::Off
    };
    let local = |command: Command, node: Result<&Node, NodeError>| {
        let (mut out, mut err, mut input) =
            (std::io::stdout(), std::io::stderr(), std::io::stdin());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            stdin: &mut input,
            ask: &mut TerminalAsk(lang),
            progress,
            cwd: None,
            cancelled: None,
        };
        execute_reporting(command, &ctx, node, &mut io)
    };
    if !uses_database(&cli.command) {
        let not_needed = Err(NodeError::NotInitialised(paths.data_dir.clone()));
        return local(cli.command, not_needed);
    }
    let request = match std::env::current_dir() {
        Ok(cwd) => control::Request {
            json,
            command: cli.command.clone(),
            cwd,
            progress: progress == Progress::Bar,
            lang: lang.tag().to_string(),
            // A password in the environment is meant: it wins over a remembered session.
            session: std::env::var_os("CIVREG_CLERK_PASSWORD")
                .is_none()
                .then(|| crate::session::read_token(&paths.data_dir))
                .flatten()
                .map(control::SessionToken),
        },
        Err(e) => {
            let e = anyhow!("could not read the current directory: {e}");
            return report_failure(json, lang, &e, &mut stdout.lock(), &mut stderr.lock());
        }
    };
    let deadline = Instant::now() + Node::LOCK_WAIT;
    loop {
        let reached = control::reach(&paths.data_dir).and_then(|r| match r {
            Reach::Serving(stream) => {
                control::run_remote(stream, &request, &mut TerminalAsk(lang), &paths.data_dir)
            }
            Reach::Absent => Ok(Remote::NotStarted),
        });
        match reached {
            Ok(Remote::Exit(code)) => return code,
            Ok(Remote::NotStarted) => {}
            Err(e) => {
                return report_failure(
                    json,
                    lang,
                    &e.into(),
                    &mut stdout.lock(),
                    &mut stderr.lock(),
                )
            }
        }
        match Node::open_now(&paths) {
            Err(NodeError::Store(StoreError::Locked { .. })) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(25));
            }
            Ok(node) => return local(cli.command, Ok(&node)),
            Err(e) => return local(cli.command, Err(e)),
        }
    }
}
/// Runs a command and prints its error, if any, as the command line does; returns the exit code.
pub fn execute_reporting(
    command: Command,
    ctx: &Ctx,
    node: Result<&Node, NodeError>,
    io: &mut Io,
) -> i32 {
    match execute(command, ctx, node, io) {
        Ok(code) => {
            let _ = io.out.flush();
            let _ = io.err.flush();
            code
        }
        Err(e) => report_failure(ctx.json, ctx.lang, &e, io.out, io.err),
    }
}

/// How long `serve` waits at start for a command that has the database open (an import).
const SERVE_OPEN_WAIT: Duration = Duration::from_secs(30);

/// How long `sync --once` inside `serve` waits for the worker's round under way.
const ROUND_WAIT: Duration = Duration::from_secs(60);

/// Runs one command against `node` (the database this process opened, or the serving
/// process's node; `Err` if it could not be opened, which only `status` survives). Returns the
/// exit code.
pub fn execute(
    command: Command,
    ctx: &Ctx,
    node: Result<&Node, NodeError>,
    io: &mut Io,
) -> Result<i32> {
    let json = ctx.json;
    let lang = ctx.lang;
    let paths = ctx.paths;
    if ctx.served.is_some() && !uses_database(&command) {
        bail!(
            "this command can not run inside `civreg-node serve`: run it with civreg-node directly"
        );
    }
    match command {
        Command::Municipalities => {
            let all = gazetteer::all();
            io.print(
                json,
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
            )?;
            Ok(0)
        }
        Command::Init {
            municipality,
            node_id,
            bundle,
            recover,
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
            let id = Node::init(paths, &code, &node_id)?;
            if let Some(dir) = &bundle {
                crate::sync::install_bundle(dir, &paths.data_dir)?;
                // Bundles made since issue 15 carry the office's document signer.
                if dir.join("signer.pem").exists() {
                    let node = Node::open(paths)?;
                    install_signer_from(&node, dir)?;
                }
                // And, from `pki issue --app-name`, the clerk app's certificate (issue 14).
                if dir.join(crate::appcert::SOURCE_CERT).exists() {
                    crate::appcert::install(
                        &paths.data_dir,
                        (code.as_str(), node_id.as_str()),
                        dir,
                    )?;
                }
            }
            if recover {
                return crate::recovery::run_recover(paths, io, json, lang);
            }
            io.print(
                json,
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
            )?;
            Ok(0)
        }
        Command::Serve {
            hub,
            interval_secs,
            stall_secs,
            http_listen,
            http_hosts,
            backup_dir,
            backup_keep,
            session_idle_secs,
            session_max_secs,
        } => {
            // Another serve answering on the socket is refused at once; a socket left by a
            // killed one is removed.
            control::refuse_if_serving(&paths.data_dir)?;
            // The node stays open, for the worker and for every command, until serve stops.
            let node = Arc::new(Node::open_waiting(paths, SERVE_OPEN_WAIT)?);
            let source = match hub {
                Some(url) => crate::worker::HubSource::Given(url),
                None => crate::worker::HubSource::Bundle,
            };
            let hubs = crate::worker::Hubs::load(&source, &paths.data_dir)?;
            let rt = runtime()?;
            writeln!(
                io.err,
                "civreg-node: syncing with {} every {interval_secs}s; Ctrl-C stops",
                hubs.list.join(", then ")
            )?;
            let live = Arc::new(crate::worker::Live::with_hubs(&paths.data_dir, &hubs));
            let served = Arc::new(Served {
                node: node.clone(),
                paths: paths.clone(),
                live: live.clone(),
                runtime: rt.handle().clone(),
                sessions: crate::session::Sessions::new(
                    Duration::from_secs(session_idle_secs),
                    Duration::from_secs(session_max_secs),
                ),
            });
            let web = rt.block_on(crate::web::bind(
                &crate::web::Listen { addr: http_listen },
                &paths.data_dir,
            ))?;
            if let Some(url) = web.as_ref().and_then(|b| b.url()) {
                writeln!(io.err, "civreg-node: clerk app on {url}")?;
            }
            let res = rt.block_on(async {
                let server = control::Server::start(served.clone())?;
                let backups = backup_dir.map(|d| {
                    tokio::spawn(crate::backup::scheduled(
                        node.clone(),
                        paths.data_dir.clone(),
                        d,
                        backup_keep,
                        crate::backup::EVERY,
                    ))
                });
                let (web_stop, web_stopped) = tokio::sync::oneshot::channel::<()>();
                let web_task = web.map(|bound| {
                    let listener = bound.listener;
                    let settings = crate::web::Settings {
                        hosts: http_hosts,
                        secure_cookies: bound.app_cert.is_some(),
                        app_cert: bound.app_cert,
                        ..Default::default()
                    };
                    let ctx = crate::web::Context::new(served, settings);
                    tokio::spawn(crate::web::serve(listener, ctx, async {
                        let _ = web_stopped.await;
                    }))
                });
                let res = crate::worker::serve(
                    node,
                    paths.data_dir.clone(),
                    source,
                    hubs,
                    Duration::from_secs(interval_secs.max(1)),
                    Duration::from_secs(stall_secs.max(1)),
                    live,
                    shutdown_signal(),
                )
                .await;
                if let Some(b) = backups {
                    b.abort();
                }
                let _ = web_stop.send(());
                if let Some(t) = web_task {
                    let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
                }
                server.stop().await;
                Ok::<_, control::ControlError>(res)
            });
            // Commands still running after the grace period end with the process; each write
            // they made is whole.
            rt.shutdown_timeout(Duration::from_millis(200));
            match res? {
                Ok(()) => Ok(0),
                Err(e) => {
                    writeln!(io.err, "error: sync stopped: {e}")?;
                    Ok(4)
                }
            }
        }
        Command::Login => {
            let node = node?;
            if ctx.served.is_none() {
                return Err(Said::new("cli-err-login-needs-serve").into());
            }
            let (name, password) = io.ask.clerk()?;
            let clerk = node.authenticate(&name, &password)?;
            let Some(r) = io.ask.remember(clerk.name(), true)? else {
                return Err(Said::new("cli-err-login-needs-serve").into());
            };
            let until = chrono::DateTime::from_timestamp(r.until_unix as i64, 0)
                .map(|t| t.with_timezone(&chrono::Local))
                .unwrap_or_default();
            io.print(
                json,
                json!({"ok": true, "clerk": clerk.name(), "idle_secs": r.idle_secs, "until": until.to_rfc3339()}),
                || {
                    f(
                        lang,
                        "cli-session-signed-in",
                        &[
                            ("name", clerk.name().into()),
                            ("minutes", r.idle_secs.div_ceil(60).into()),
                            ("until", until.format("%Y-%m-%d %H:%M").to_string().into()),
                        ],
                    )
                },
            )?;
            Ok(0)
        }
        Command::Logout => {
            let ended = match io.ask.forget() {
                Some(ended) => ended,
                // Without serve no session can be live: the kept token is only forgotten.
                None => {
                    crate::session::remove_token(&paths.data_dir);
                    false
                }
            };
            io.print(json, json!({"ok": true, "ended": ended}), || {
                t(
                    lang,
                    if ended {
                        "cli-session-ended"
                    } else {
                        "cli-session-none"
                    },
                )
            })?;
            Ok(0)
        }
        Command::Status => {
            // Inside serve: the running worker's own state; else what it last wrote.
            let (file, rounds) = match ctx.served {
                Some(s) => (Some(s.live.status()), Some(s.live.rounds())),
                None => (crate::worker::read_status(&paths.data_dir), None),
            };
            let mut st = file.clone().unwrap_or_default();
            let mut live = false;
            let mut guard = crate::guard::Guard::default();
            let mut aside = Vec::new();
            let mut unvoid = Vec::new();
            let mut restored = None;
            let mut dupes_model = None;
            let backups = crate::backup::read_status(&paths.data_dir);
            if let Ok(node) = node {
                restored = node.restored()?;
                dupes_model = Some(node.dupes_model_status()?);
                guard = node.guard()?;
                aside = node.set_aside_ops()?;
                unvoid = node.unvoid_requests()?;
                let (n, age) = crate::sync::waiting(node)?;
                st.ops_waiting = n;
                st.oldest_waiting_age_s = age;
                st.hub_acked = node.hub_acked()?;
                st.pull_cursor = node.pull_cursor()?;
                live = true;
            }
            let enrolled = crate::sync::load_bundle(&paths.data_dir).is_ok();
            // The hub list in use and where it came from (issue 19 part 3, `hublist.rs`).
            let hub_list = crate::hublist::in_use(&paths.data_dir).ok();
            let cert_days = crate::web::status::cert_days_left(&paths.data_dir);
            io.print(
                json,
                json!({"enrolled": enrolled, "worker_seen": file.is_some(), "counts_live": live, "serving": rounds.is_some(), "status": st, "guard": guard, "set_aside": aside, "unvoid_requests": unvoid, "backup": backups, "restored": restored, "app_cert": crate::appcert::installed(&paths.data_dir), "hub_certs": crate::hubtrust::read(&paths.data_dir), "dupes_model": dupes_model, "hub_list": hub_list}),
                || {
                    let when = |ms: Option<u64>| {
                        ms.map(fmt_ms)
                            .unwrap_or_else(|| t(lang, "cli-status-never"))
                    };
                    let state = if !enrolled {
                        t(lang, "cli-status-not-enrolled")
                    } else if st.stopped {
                        t(lang, "cli-status-stopped")
                    } else if rounds == Some(0) {
                        t(lang, "cli-status-first-round")
                    } else if file.is_none() {
                        t(lang, "cli-status-never-served")
                    } else {
                        let state = t(
                            lang,
                            if st.online {
                                "cli-status-online"
                            } else {
                                "cli-status-offline"
                            },
                        );
                        if rounds.is_some() {
                            f(lang, "cli-status-serving", &[("state", state.into())])
                        } else {
                            state
                        }
                    };
                    let line = |key: &str, value: String| {
                        format!("{}{value}\n", clitext::label(lang, key))
                    };
                    let mut text = guard_lines(lang, &guard);
                    for r in &unvoid {
                        text += &line("cli-status-unvoid", clitext::unvoid_text(lang, r));
                    }
                    for a in &aside {
                        text += &line(
                            "cli-status-set-aside",
                            f(
                                lang,
                                "cli-status-set-aside-value",
                                &[
                                    ("seq", a.seq.into()),
                                    ("regno", a.record_id.as_str().into()),
                                    ("reason", a.reason.as_str().into()),
                                ],
                            ),
                        );
                    }
                    if let Some(e) = &backups.last_error {
                        text += &line(
                            "cli-status-backup-failed",
                            f(
                                lang,
                                "cli-status-backup-failed-value",
                                &[
                                    ("error", e.as_str().into()),
                                    (
                                        "when",
                                        backups.last_attempt_ms.map(fmt_ms).unwrap_or_default().into(),
                                    ),
                                    ("last", when(backups.last_ok_ms).into()),
                                ],
                            ),
                        );
                    } else if let (Some(ms), Some(p)) = (backups.last_ok_ms, &backups.last_path) {
                        text += &line(
                            "cli-status-backup",
                            format!("{} ({})", fmt_ms(ms), p.display()),
                        );
                    }
                    if let Some(days) = cert_days {
                        let value = if days < 0 {
                            t(lang, "status-cert-expired")
                        } else if days <= crate::web::status::CERT_WARN_DAYS {
                            f(lang, "status-cert-expires", &[("days", days.into())])
                        } else {
                            f(lang, "cli-status-cert-valid", &[("days", days.into())])
                        };
                        text += &line("cli-status-cert", value);
                    }
                    if let Some(hub) = crate::hubtrust::read(&paths.data_dir) {
                        let value = |ms: u64, sha: &str| {
                            f(
                                lang,
                                "cli-status-hub-cert-value",
                                &[("until", fmt_ms(ms).into()), ("sha", sha.into())],
                            )
                        };
                        if !hub.current_sha256.is_empty() {
                            text += &line(
                                "cli-status-hub-cert",
                                value(hub.current_not_after_ms, &hub.current_sha256),
                            );
                        }
                        if let (Some(ms), Some(sha)) = (hub.next_not_after_ms, &hub.next_sha256) {
                            text += &line("cli-status-hub-next", value(ms, sha));
                        }
                        if hub.trusted_roots.len() > 1 {
                            text += &line(
                                "cli-status-trusted-roots",
                                f(
                                    lang,
                                    "cli-status-trusted-roots-value",
                                    &[("count", hub.trusted_roots.len().into())],
                                ),
                            );
                        }
                    }
                    if let Some(dm) = &dupes_model {
                        let value = match &dm.hub {
                            Some(h) => f(
                                lang,
                                "cli-status-dupes-model-hub",
                                &[
                                    ("id", h.id.as_str().into()),
                                    ("people", h.trained_on.into()),
                                    ("matched", format!("{:.1}", h.matched).into()),
                                    ("possible", format!("{:.1}", h.possible).into()),
                                    ("when", fmt_ms(h.received_ms).into()),
                                ],
                            ),
                            None => t(lang, "cli-status-dupes-model-builtin"),
                        };
                        text += &line("cli-status-dupes-model", value);
                        if let Some(r) = &dm.refused {
                            text += &line(
                                "cli-status-dupes-model-refused",
                                f(
                                    lang,
                                    "cli-status-dupes-model-refused-value",
                                    &[
                                        ("id", r.id.as_str().into()),
                                        ("why", r.why.as_str().into()),
                                        ("when", fmt_ms(r.at_ms).into()),
                                    ],
                                ),
                            );
                        }
                    }
                    if let Some(app) = crate::appcert::installed(&paths.data_dir) {
                        let until = f(
                            lang,
                            "cli-status-app-cert-value",
                            &[
                                ("names", app.names.join(", ").into()),
                                ("until", civreg_cert::format_time(app.not_after).into()),
                            ],
                        );
                        let value = match crate::appcert::expiry_warning(&app) {
                            Some(d) if d < 0 => format!("{until}: {}", t(lang, "status-app-cert-expired")),
                            Some(d) => format!(
                                "{until}: {}",
                                f(lang, "status-app-cert-expires", &[("days", d.into())])
                            ),
                            None => until,
                        };
                        text += &line("cli-status-app-cert", value);
                    }
                    text += &line("cli-status-sync", state);
                    text += &line("cli-status-last-success", when(st.last_success_ms));
                    text += &line(
                        "cli-status-waiting",
                        f(
                            lang,
                            "cli-status-waiting-value",
                            &[
                                ("count", st.ops_waiting.into()),
                                ("age", st.oldest_waiting_age_s.into()),
                            ],
                        ),
                    );
                    text += &line("cli-status-hub-acked", format!("#{}", st.hub_acked));
                    text += &line("cli-status-pull-cursor", st.pull_cursor.to_string());
                    if !st.hub_url.is_empty() {
                        text += &line("cli-status-hub", st.hub_url.clone());
                    }
                    if let Some(l) = &hub_list {
                        let hubs = l.urls.join(", ");
                        let value = match &l.origin {
                            crate::hublist::Origin::Bundle => f(
                                lang,
                                "cli-status-hubs-from-bundle",
                                &[("hubs", hubs.into())],
                            ),
                            crate::hublist::Origin::Hub { by, at_ms } => f(
                                lang,
                                "cli-status-hubs-from-hub",
                                &[
                                    ("hubs", hubs.into()),
                                    ("by", by.as_str().into()),
                                    ("when", fmt_ms(*at_ms).into()),
                                ],
                            ),
                        };
                        text += &line("cli-status-hubs", value);
                        if let Some(r) = &l.refused {
                            text += &line(
                                "cli-status-hubs-refused",
                                f(
                                    lang,
                                    "cli-status-hubs-refused-value",
                                    &[
                                        ("hubs", r.list.urls.join(", ").into()),
                                        ("by", r.list.by.as_str().into()),
                                        ("when", fmt_ms(r.list.at_ms).into()),
                                        ("why", r.why.as_str().into()),
                                    ],
                                ),
                            );
                        }
                    } else if st.hub_urls.len() > 1 {
                        text += &line("cli-status-hubs", st.hub_urls.join(", "));
                    }
                    text += &line(
                        "cli-status-last-error",
                        st.last_error
                            .clone()
                            .unwrap_or_else(|| t(lang, "cli-status-none")),
                    );
                    text.trim_end().to_string()
                },
            )?;
            Ok(0)
        }
        Command::Sync { once, hub } => {
            if !once {
                return Err(Said::new("cli-err-sync-once").into());
            }
            let node = node?;
            let hubs = match hub {
                Some(url) => vec![url],
                None => crate::hublist::in_use(&paths.data_dir)?.urls,
            };
            let current = ctx.served.map(|s| s.live.status().hub_url);
            let hubs = crate::sync::in_use_first(hubs, current.as_deref());
            let all = hubs.join(", ");
            let round = crate::sync::sync_once_with(node, &paths.data_dir, &hubs);
            let result = match ctx.served {
                // Inside serve: after the worker's round under way, never alongside it.
                Some(s) => s.runtime.block_on(async {
                    let Ok(_round) =
                        tokio::time::timeout(ROUND_WAIT, s.live.round_lock().lock()).await
                    else {
                        return Err(crate::sync::SyncError::Unreachable {
                            url: all.clone(),
                            why: format!(
                                "the sync round of the running serve has not finished within {}s",
                                ROUND_WAIT.as_secs()
                            ),
                        });
                    };
                    round.await
                }),
                None => runtime()?.block_on(round),
            };
            match result {
                Ok((url, r)) => {
                    io.print(json, json!({"ok": true, "hub": url, "report": r}), || {
                        f(
                            lang,
                            "cli-sync-done",
                            &[
                                ("hub", url.as_str().into()),
                                ("pushed", r.pushed.into()),
                                ("acked", r.hub_acked.into()),
                                ("pulled", r.pulled.into()),
                            ],
                        )
                    })?;
                    Ok(0)
                }
                Err(e) => {
                    let retry = e.is_retryable();
                    if json {
                        writeln!(
                            io.out,
                            "{}",
                            json!({"ok": false, "error": e.to_string(), "retryable": retry})
                        )?;
                    } else {
                        let key = if retry {
                            "cli-sync-retry"
                        } else {
                            "cli-sync-no-retry"
                        };
                        let text = f(lang, key, &[("error", e.to_string().into())]);
                        writeln!(
                            io.err,
                            "{}",
                            f(lang, "cli-error", &[("message", text.into())])
                        )?;
                    }
                    Ok(if retry { 3 } else { 4 })
                }
            }
        }
        Command::Clerk { command } => {
            let node = node?;
            match command {
                ClerkCommand::Add { name } => {
                    let by = if node.clerk_count()? > 0 {
                        Some(sign_in(node, io.ask)?)
                    } else {
                        None
                    };
                    let pw = io.ask.new_password(&name)?;
                    node.add_clerk(by.as_ref(), &name, &pw)?;
                    io.print(json, json!({"ok": true, "clerk": name}), || {
                        f(lang, "cli-clerk-added", &[("name", name.as_str().into())])
                    })?;
                }
                ClerkCommand::List => {
                    let names = node.clerk_names()?;
                    io.print(json, json!(names), || names.join("\n"))?;
                }
                ClerkCommand::Password { name } => {
                    let by = sign_in(node, io.ask)?;
                    let pw = io.ask.new_password(&name)?;
                    node.change_password(&by, &name, &pw)?;
                    io.print(json, json!({"ok": true, "clerk": name}), || {
                        f(
                            lang,
                            "cli-clerk-password-changed",
                            &[("name", name.as_str().into())],
                        )
                    })?;
                }
                ClerkCommand::Remove { name } => {
                    let by = sign_in(node, io.ask)?;
                    node.remove_clerk(&by, &name)?;
                    io.print(json, json!({"ok": true, "clerk": name}), || {
                        f(lang, "cli-clerk-removed", &[("name", name.as_str().into())])
                    })?;
                }
            }
            Ok(0)
        }
        Command::Register { kind, file } => {
            let node = node?;
            let clerk = sign_in(node, io.ask)?;
            Ok(
                if register_stream(node, &clerk, kind.into(), &file, json, lang, io)? {
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
            let node = node?;
            let changes = read_json_file(io, &file)?;
            let clerk = sign_in(node, io.ask)?;
            match node.amend(&clerk, &regno, &changes, &reason) {
                Ok(saved) => {
                    io.print(
                        json,
                        json!({"ok": true, "regno": saved.regno, "warnings": saved.warnings}),
                        || {
                            let mut s = f(
                                lang,
                                "cli-amended",
                                &[("regno", saved.regno.as_str().into())],
                            );
                            for w in &saved.warnings {
                                s.push_str("\n  ");
                                s.push_str(&clitext::problem_line(lang, w));
                            }
                            s
                        },
                    )?;
                    Ok(0)
                }
                Err(e) => {
                    report_error(json, lang, io.out, io.err, &e)?;
                    Ok(1)
                }
            }
        }
        Command::Annotate {
            regno,
            event,
            date,
            place,
            record,
            text,
        } => {
            let node = node?;
            let clerk = sign_in(node, io.ask)?;
            let note = crate::node::NewAnnotation {
                event,
                date,
                place,
                record,
                text,
            };
            match node.annotate(&clerk, &regno, &note) {
                Ok(saved) => {
                    io.print(json, json!({"ok": true, "regno": saved.regno}), || {
                        f(
                            lang,
                            "cli-annotated",
                            &[("regno", saved.regno.as_str().into())],
                        )
                    })?;
                    Ok(0)
                }
                Err(e) => {
                    report_error(json, lang, io.out, io.err, &e)?;
                    Ok(1)
                }
            }
        }
        Command::Certificate {
            regno,
            lang: cert_lang,
            out,
            collector,
            id_document,
        } => {
            let node = node?;
            let cert_lang = civreg_cert::pdf::Lang::parse(&cert_lang).ok_or_else(|| {
                Said::new("cli-err-cert-lang").with("value", format!("{cert_lang:?}"))
            })?;
            let id_document = crate::node::IdDocument::parse(&id_document)?;
            if io.path(&out).exists() {
                return Err(Said::new("cli-err-out-exists")
                    .with("file", out.display())
                    .into());
            }
            let clerk = sign_in(node, io.ask)?;
            // Created (by the client, inside serve) before the certificate is issued: one that
            // could not be written is never issued. Removed again if issuing fails.
            let mut file = io.create_out(&out, true)?;
            let issued =
                node.issue_certificate(&clerk, &regno, cert_lang, &collector, id_document)?;
            file.write_all(&issued.pdf)
                .map_err(anyhow::Error::from)
                .and_then(|()| file.finish())
                .map_err(|e| {
                    Said::new("cli-err-cert-not-written")
                        .with("serial", &issued.issue.serial)
                        .with("file", out.display())
                        .with("detail", format!("{e:#}"))
                })?;
            io.print(
                json,
                json!({"ok": true, "serial": issued.issue.serial, "regno": issued.issue.regno, "out": out, "qr_text": issued.qr_text, "qr_chars": issued.qr_text.len()}),
                || {
                    f(
                        lang,
                        "cli-cert-written",
                        &[
                            ("serial", issued.issue.serial.as_str().into()),
                            ("regno", issued.issue.regno.as_str().into()),
                            ("file", out.display().to_string().into()),
                            ("version", issued.issue.record_version.into()),
                        ],
                    )
                },
            )?;
            Ok(0)
        }
        Command::Certificates => {
            let node = node?;
            sign_in(node, io.ask)?;
            let all = node.certificates()?;
            io.print(json, json!(all), || {
                all.iter()
                    .map(|c| {
                        format!(
                            "{}  {}  v{}  {} by {} for {} ({:?})",
                            c.serial,
                            c.regno,
                            c.record_version,
                            fmt_ms(c.at_ms),
                            c.clerk,
                            c.collector,
                            c.id_document
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(0)
        }
        Command::VerifyCertificate {
            input,
            trust_list,
            anchor,
        } => verify_certificate(
            io,
            json,
            lang,
            paths,
            &input,
            &trust_list,
            anchor.as_deref(),
        ),
        Command::Enrol { bundle } => {
            let node = node?;
            sign_in(node, io.ask)?;
            let e = crate::enrol::enrol(node, &paths.data_dir, &io.path(&bundle))?;
            // A running worker takes the new hubs and certificate at once.
            if let Some(s) = ctx.served {
                s.live.wake();
            }
            io.print(json, json!({"ok": true, "enrolled": e}), || {
                crate::enrol::text(&e)
            })?;
            Ok(0)
        }
        Command::AppCert { command } => {
            let node = node?;
            match command {
                AppCertCommand::Install { dir } => {
                    sign_in(node, io.ask)?;
                    let id = node.identity();
                    let info = crate::appcert::install(
                        &paths.data_dir,
                        (id.municipality.as_str(), id.node_id.as_str()),
                        &io.path(&dir),
                    )?;
                    io.print(json, json!({"ok": true, "app_cert": info}), || {
                        crate::appcert::installed_text(&info)
                    })?;
                }
                AppCertCommand::Show => match crate::appcert::installed(&paths.data_dir) {
                    Some(info) => io.print(json, json!(info), || {
                        crate::appcert::status_line(&paths.data_dir).unwrap_or_default()
                    })?,
                    None => io.print(json, json!(null), || {
                        "no clerk app certificate installed: `civreg-node app-cert install DIR` (from `civreg-hub pki issue-app`)".into()
                    })?,
                },
            }
            Ok(0)
        }
        Command::Signer { command } => {
            let node = node?;
            match command {
                SignerCommand::Install { dir } => {
                    sign_in(node, io.ask)?;
                    let info = install_signer_from(node, &io.path(&dir))?;
                    io.print(json, json!({"ok": true, "signer": info}), || {
                        format!(
                            "document signer {} installed (key id {}, valid until {}); you may delete the copy in {}",
                            info.identity,
                            info.kid,
                            civreg_cert::format_time(info.not_after),
                            dir.display()
                        )
                    })?;
                }
                SignerCommand::Show => match node.signer()? {
                    Some((_, info)) => io.print(json, json!(info), || {
                        format!(
                            "{} (key id {}), valid {} to {}",
                            info.identity,
                            info.kid,
                            civreg_cert::format_time(info.not_before),
                            civreg_cert::format_time(info.not_after)
                        )
                    })?,
                    None => io.print(json, json!(null), || {
                        "no document signer installed: `civreg-node signer install DIR`".into()
                    })?,
                },
            }
            Ok(0)
        }
        Command::Backup { out } => {
            let dir = io.path(&out);
            crate::recovery::run_backup(node?, paths, io, json, &dir)
        }
        Command::Restore { from, bundle } => {
            let (from, bundle) = (io.path(&from), bundle.map(|b| io.path(&b)));
            crate::recovery::run_restore(paths, io, json, &from, bundle.as_deref())
        }
        Command::RotateKey {
            new_key_file,
            resume,
            batch,
        } => crate::rotate::run_cli(
            paths,
            io,
            json,
            new_key_file.map(|p| io.path(&p)).as_deref(),
            resume,
            batch,
        ),
        Command::Void { regno, reason } => {
            let node = node?;
            let clerk = sign_in(node, io.ask)?;
            let saved = node.void(&clerk, &regno, &reason)?;
            io.print(json, json!({"ok": true, "regno": saved.regno}), || {
                f(
                    lang,
                    "cli-voided",
                    &[("regno", saved.regno.as_str().into())],
                )
            })?;
            Ok(0)
        }
        Command::RequestUnvoid { regno, reason } => {
            let node = node?;
            let clerk = sign_in(node, io.ask)?;
            let r = node.request_unvoid(&clerk, &regno, &reason)?;
            io.print(
                json,
                json!({"ok": true, "regno": r.regno, "id": r.id}),
                || {
                    f(
                        lang,
                        "cli-unvoid-requested",
                        &[
                            ("regno", r.regno.as_str().into()),
                            ("id", r.id.as_str().into()),
                        ],
                    )
                },
            )?;
            Ok(0)
        }
        Command::Show { regno, history } => {
            let node = node?;
            // A record holds personal data (the personal number among it): shown to a signed-in
            // clerk only, as `search` and `export`, and named in the access log.
            let clerk = sign_in(node, io.ask)?.name().to_string();
            let st = node.get(&regno)?;
            node.log_access(&clerk, "view", "", std::slice::from_ref(&st.regno))?;
            if history {
                let versions = node.history(&regno)?;
                io.print(
                    json,
                    json!({"regno": st.regno, "versions": versions}),
                    || {
                        let mut s = f(
                            lang,
                            "cli-history-head",
                            &[
                                ("regno", st.regno.as_str().into()),
                                (
                                    "kind",
                                    clitext::kind_name(lang, &st.kind.to_string()).into(),
                                ),
                                ("count", versions.len().into()),
                            ],
                        );
                        s.push('\n');
                        for v in &versions {
                            let change = serde_json::to_value(v.change)
                                .ok()
                                .and_then(|c| c.as_str().map(String::from))
                                .unwrap_or_default();
                            let change_key = format!("record-change-{change}");
                            let change =
                                if civreg_shared::i18n::Catalog::get().has(lang, &change_key) {
                                    t(lang, &change_key)
                                } else {
                                    change
                                };
                            s.push('\n');
                            s.push_str(&f(
                                lang,
                                "cli-history-version",
                                &[
                                    ("version", v.version.into()),
                                    ("change", change.into()),
                                    ("clerk", v.clerk.as_str().into()),
                                    ("when", fmt_ms(v.at_ms).into()),
                                    ("op", v.op.to_string().into()),
                                ],
                            ));
                            s.push('\n');
                            if !v.reason.is_empty() {
                                s.push_str(&format!(
                                    "  {}\n",
                                    f(
                                        lang,
                                        "cli-history-reason",
                                        &[("reason", v.reason.as_str().into())]
                                    )
                                ));
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
                    },
                )?;
            } else {
                let v = state_json(&st)?;
                let rec = st.record()?;
                io.print(json, v, || {
                    let mut s = format!("{} — {}\n", st.regno, clitext::record_summary(lang, &rec));
                    if let Some(vd) = &st.voided {
                        s.push_str(&f(
                            lang,
                            "cli-show-void",
                            &[
                                ("reason", vd.reason.as_str().into()),
                                ("clerk", vd.clerk.as_str().into()),
                                ("when", fmt_ms(vd.at.wall_ms).into()),
                            ],
                        ));
                        s.push('\n');
                    }
                    print_fields("", &rec.to_json(), &mut s);
                    for c in st.open_conflicts() {
                        let side = |x: &civreg_shared::merge::Side| {
                            f(
                                lang,
                                "cli-show-side",
                                &[
                                    ("value", x.value.to_string().into()),
                                    ("clerk", x.clerk.as_str().into()),
                                    (
                                        "node",
                                        format!("{}/{}", x.op.municipality, x.op.node_id).into(),
                                    ),
                                    ("when", fmt_ms(x.at.wall_ms).into()),
                                ],
                            )
                        };
                        let field = if c.path == civreg_shared::merge::STATUS {
                            t(lang, "cli-show-conflict-status")
                        } else {
                            c.path.clone()
                        };
                        s.push_str(&format!(
                            "  {}\n",
                            f(
                                lang,
                                "cli-show-conflict",
                                &[
                                    ("id", c.id.to_string().into()),
                                    ("field", field.into()),
                                    ("shown", side(&c.winner).into()),
                                    ("other", side(&c.loser).into()),
                                ],
                            )
                        ));
                    }
                    for a in st.annotations() {
                        s.push_str(&format!(
                            "  {:<34} {}\n",
                            t(lang, "cli-show-annotation"),
                            note_line(lang, &a)
                        ));
                    }
                    for (role, l) in &st.persons {
                        s.push_str(&format!(
                            "  {:<34} {}\n",
                            role,
                            f(
                                lang,
                                "cli-show-person",
                                &[
                                    ("person", l.person.to_string().into()),
                                    ("clerk", l.clerk.as_str().into()),
                                    ("when", fmt_ms(l.at.wall_ms).into()),
                                ],
                            )
                        ));
                    }
                    s.push_str(&format!(
                        "  {:<34} {}",
                        t(lang, "cli-show-versions"),
                        f(
                            lang,
                            "cli-show-versions-value",
                            &[
                                ("count", st.ops.len().into()),
                                ("when", fmt_ms(st.updated.wall_ms).into()),
                            ],
                        )
                    ));
                    s
                })?;
            }
            Ok(0)
        }
        Command::Search {
            text,
            born,
            municipality,
            limit,
        } => {
            let node = node?;
            let born_text = born.clone();
            let born = born.map(|b| DateFilter::parse(&b)).transpose()?;
            let municipality = match municipality {
                Some(m) => Some(
                    gazetteer::resolve(&m)
                        .map(|m| m.code.to_string())
                        .ok_or_else(|| {
                            Said::new("cli-err-unknown-municipality").with("name", format!("{m:?}"))
                        })?,
                ),
                None => None,
            };
            let text = text.join(" ");
            if text.trim().is_empty() && born.is_none() && municipality.is_none() {
                return Err(Said::new("cli-err-nothing-to-search").into());
            }
            // The same bounds as the hub's, for the local search too.
            civreg_shared::limits::check_search(&text, 0, limit)?;
            let q = Query {
                text,
                born,
                municipality,
                limit,
            };
            // The clerk asking: a search answers with personal data, so it needs a signed-in
            // clerk (wrong or missing credentials are refused, never logged as unnamed), who is
            // named in the access logs here and at the hub.
            let clerk = sign_in(node, io.ask)?.name().to_string();
            let why_local = match crate::hublist::in_use(&paths.data_dir) {
                Err(_) => t(lang, "cli-search-why-not-enrolled"),
                Ok(l) => {
                    let req = civreg_proto::v1::SearchRequest {
                        text: q.text.clone(),
                        born: born_text.clone().unwrap_or_default(),
                        municipality: q.municipality.clone().unwrap_or_default(),
                        kind: String::new(),
                        offset: 0,
                        limit: q.limit as u32,
                        clerk: clerk.clone(),
                    };
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let current = ctx.served.map(|s| s.live.status().hub_url);
                    let hubs = crate::sync::in_use_first(l.urls, current.as_deref());
                    match rt.block_on(crate::sync::search_hub(
                        &paths.data_dir,
                        &hubs,
                        req,
                        HUB_SEARCH_WAIT,
                    )) {
                        Ok(reply) => {
                            let regnos: Vec<String> =
                                reply.hits.iter().map(|h| h.regno.clone()).collect();
                            node.log_access(&clerk, "search (national)", &q.text, &regnos)?;
                            let hits: Vec<serde_json::Value> = reply
                                .hits
                                .iter()
                                .map(|h| {
                                    json!({"regno": h.regno, "municipality": h.municipality, "kind": h.kind, "score": h.score,
                                        "summary": serde_json::from_str::<serde_json::Value>(&h.summary_json).unwrap_or_default(),
                                        "why": h.why, "unmatched": h.unmatched,
                                        "explain": serde_json::from_str::<serde_json::Value>(&h.explain_json).unwrap_or_default()})
                                })
                                .collect();
                            io.print(
                                json,
                                json!({"scope": "national", "total": reply.total, "partial": reply.partial, "hits": hits}),
                                || {
                                    let mut s = f(
                                        lang,
                                        "cli-search-national",
                                        &[("count", reply.total.into())],
                                    );
                                    s.push('\n');
                                    if reply.partial {
                                        s.push_str(&t(lang, "cli-search-partial"));
                                        s.push('\n');
                                    }
                                    for (h, v) in reply.hits.iter().zip(&hits) {
                                        let people: Vec<String> = v["summary"]["people"]
                                            .as_array()
                                            .map(|a| {
                                                a.iter()
                                                    .map(|p| {
                                                        format!(
                                                            "{} ({})",
                                                            p[1].as_str().unwrap_or(""),
                                                            clitext::role_name(
                                                                lang,
                                                                p[0].as_str().unwrap_or("")
                                                            )
                                                        )
                                                    })
                                                    .collect()
                                            })
                                            .unwrap_or_default();
                                        s.push_str(&format!(
                                            "{:<30} {:>5.1}  {}  {}\n      {}: {}\n",
                                            h.regno,
                                            h.score,
                                            people.join(", "),
                                            f(
                                                lang,
                                                "cli-search-born",
                                                &[(
                                                    "date",
                                                    v["summary"]["date_of_birth"]
                                                        .as_str()
                                                        .unwrap_or("?")
                                                        .into()
                                                )]
                                            ),
                                            t(lang, "cli-search-why"),
                                            // In the clerk's language; a hub that sends no
                                            // explanation as data gives its English lines.
                                            civreg_shared::query::Why::lines_from_json(
                                                &h.explain_json,
                                                lang
                                            )
                                            .unwrap_or_else(|| h.why.clone())
                                            .join("; ")
                                        ));
                                    }
                                    s.trim_end().to_string()
                                },
                            )?;
                            return Ok(0);
                        }
                        Err(e) => f(
                            lang,
                            "cli-search-why-no-answer",
                            &[("detail", e.to_string().into())],
                        ),
                    }
                }
            };
            let hits = node.search(&q)?;
            let regnos: Vec<String> = hits.iter().map(|h| h.regno.clone()).collect();
            node.log_access(&clerk, "search (local)", &q.text, &regnos)?;
            // No record matches every name word: the closest records follow, flagged.
            let partial = hits.first().is_some_and(|h| !h.unmatched.is_empty());
            io.print(
                json,
                json!({"scope": "local", "why_local": why_local, "partial": partial, "hits": hits}),
                || {
                    let mut s = f(
                        lang,
                        "cli-search-local",
                        &[("why", why_local.as_str().into())],
                    );
                    s.push('\n');
                    if hits.is_empty() {
                        s.push_str(&t(lang, "cli-search-none"));
                    }
                    if partial {
                        s.push_str(&t(lang, "cli-search-partial"));
                        s.push('\n');
                    }
                    let why = t(lang, "cli-search-why");
                    for h in &hits {
                        // The index keeps the English summary; the record says it in `lang`.
                        let summary = node
                            .get(&h.regno)
                            .ok()
                            .and_then(|st| st.record().ok())
                            .map(|rec| clitext::record_summary(lang, &rec))
                            .unwrap_or_else(|| h.summary.clone());
                        // Each part of the query explained in the clerk's language.
                        let lines: Vec<String> = h.explain.iter().map(|w| w.text(lang)).collect();
                        s.push_str(&format!(
                            "{:<30} {:>5.1}  {}\n      {why}: {}\n",
                            h.regno,
                            h.score,
                            summary,
                            lines.join("; ")
                        ));
                    }
                    s.trim_end().to_string()
                },
            )?;
            Ok(0)
        }
        Command::Import { file, report } => {
            let node = node?;
            let clerk = sign_in(node, io.ask)?;
            let (csv, total) = io.open_in_send(&file, &paths.data_dir)?;
            let bar = (io.progress == Progress::Bar).then(|| {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
            let counted = CountingReader {
                inner: csv,
                n: Arc::new(std::sync::atomic::AtomicU64::new(0)),
                cancelled: io.cancelled.clone(),
            };
            let pos = counted.n.clone();
            // Over the control socket, plain lines (at most one a second) stand in for the bar.
            let lines = io.progress == Progress::Lines;
            let mut last_line = Instant::now();
            let err = &mut *io.err;
            let res = crate::import::import_csv_coded(node, &clerk, counted, usize::MAX, |p| {
                let rows = p.read;
                let read = pos.load(Ordering::Relaxed);
                if let Some(b) = &bar {
                    b.set_position(read);
                    b.set_message(f(lang, "cli-import-rows", &[("rows", rows.into())]));
                }
                if lines && last_line.elapsed() >= Duration::from_secs(1) {
                    last_line = Instant::now();
                    let pct = (read * 100).checked_div(total).unwrap_or(100).min(100);
                    let _ = writeln!(
                        err,
                        "{}",
                        f(
                            lang,
                            "cli-import-progress",
                            &[("rows", rows.into()), ("percent", pct.into())]
                        )
                    );
                }
            });
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            let coded = match res {
                Ok(r) => r,
                Err(ImportError::Node(e)) => return Err(e.into()),
                Err(e) => return Err(e.into()),
            };
            // The rejected rows' reasons in the clerk's language for people; the report file
            // and `--json` keep the English of `import_csv`.
            let said: Vec<String> = coded
                .rejected
                .iter()
                .map(|r| {
                    r.reasons
                        .iter()
                        .map(|x| x.text(lang))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .collect();
            let rep = coded.english();
            if let Some(p) = report {
                let bytes = serde_json::to_vec_pretty(&rep)?;
                io.create_out(&p, false)
                    .and_then(|mut w| {
                        w.write_all(&bytes)?;
                        w.finish()
                    })
                    .map_err(|e| {
                        Said::new("cli-err-write-report")
                            .with("file", p.display())
                            .with("detail", format!("{e:#}"))
                    })?;
            }
            io.print(json, serde_json::to_value(&rep)?, || {
                let mut s = f(
                    lang,
                    "cli-import-summary",
                    &[
                        ("rows", rep.rows.into()),
                        ("accepted", rep.accepted.len().into()),
                        ("skipped", rep.skipped.len().into()),
                        ("rejected", rep.rejected.len().into()),
                    ],
                );
                s.push('\n');
                for (r, reasons) in rep.rejected.iter().zip(&said) {
                    s.push_str(&f(
                        lang,
                        "cli-import-rejected",
                        &[
                            ("line", r.line.into()),
                            ("reasons", reasons.as_str().into()),
                        ],
                    ));
                    s.push('\n');
                }
                for d in &rep.double_entries {
                    s.push_str(&f(
                        lang,
                        "cli-import-double",
                        &[
                            ("line", d.line.into()),
                            ("same", d.same_as_line.into()),
                            ("regno", d.regno.as_str().into()),
                        ],
                    ));
                    s.push('\n');
                }
                s.trim_end().to_string()
            })?;
            Ok(if rep.rejected.is_empty() { 0 } else { 1 })
        }
        Command::AccessLog { record } => {
            let node = node?;
            let entries: Vec<_> = node
                .access_log()?
                .into_iter()
                .filter(|e| record.as_ref().is_none_or(|r| e.records.contains(r)))
                .collect();
            io.print(json, serde_json::to_value(&entries)?, || {
                if entries.is_empty() {
                    return "no entries".into();
                }
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {:<12} {:<18} {}  -> {}",
                            fmt_ms(e.at_ms),
                            if e.clerk.is_empty() {
                                "(unnamed)"
                            } else {
                                e.clerk.as_str()
                            },
                            e.action,
                            e.query,
                            e.records.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(0)
        }
        Command::Digest => {
            let node = node?;
            let d = node.digest()?;
            let m = node.identity().municipality.clone();
            io.print(
                json,
                json!({"municipality": m, "records": d.records, "sha256": d.sha256}),
                || format!("{m}: {} records, digest {}", d.records, d.sha256),
            )?;
            Ok(0)
        }
        Command::Verify => {
            let node = node?;
            let rep = node.verify()?;
            io.print(json, serde_json::to_value(&rep)?, || match &rep.problem {
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
            })?;
            Ok(if rep.ok { 0 } else { 1 })
        }
        Command::Export { out: file } => {
            let node = node?;
            // Every record with its personal numbers leaves the node: as searching does, it
            // needs a clerk and is logged before the first byte is written.
            let clerk = sign_in(node, io.ask)?;
            let dest = match &file {
                Some(p) => format!("file {}", p.display()),
                None => "standard output".to_string(),
            };
            node.log_access(
                clerk.name(),
                "export",
                &format!("every record and op, to {dest}"),
                &[],
            )?;
            let mut to_file = match &file {
                Some(p) => Some(io.create_out(p, false)?),
                None => None,
            };
            let mut w: Box<dyn Write + '_> = match to_file.as_mut() {
                Some(f) => Box::new(&mut **f),
                None => Box::new(std::io::BufWriter::with_capacity(
                    control::CHUNK,
                    &mut *io.out,
                )),
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
            drop(w);
            if let Some(f) = to_file {
                f.finish()?;
            }
            if file.is_some() {
                io.print(
                    json,
                    json!({"ok": true, "records": records, "ops": ops}),
                    || format!("exported {records} records and {ops} ops"),
                )?;
            }
            Ok(0)
        }
    }
}

/// How long `search` waits for the hub before answering from this node's records.
const HUB_SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A runtime to talk to the hub.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
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

/// Counts the bytes read (for the progress bar) and stops reading once the client of a command
/// run inside `serve` has gone away.
struct CountingReader<R> {
    inner: R,
    n: Arc<std::sync::atomic::AtomicU64>,
    cancelled: Option<Arc<AtomicBool>>,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self
            .cancelled
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(std::io::Error::other(
                "the command was cancelled: its client went away",
            ));
        }
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}
