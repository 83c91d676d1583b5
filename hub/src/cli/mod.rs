//! The `civreg-hub` command line: parse ([`args`]), dispatch to the command group's file, exit
//! code. `src/main.rs` only sets the allocator and calls [`main`].
//!
//! One file per command group, each with its renderer (text, or JSON with `--json`):
//! `serve` (serve, keygen), `pki`, `operators` (operator, access-log), `sync` (status, refused,
//! set-aside), `records` (show, person, digest), `review` (conflicts), `linkage` (import,
//! match, duplicates, synth), `search`, `rollout`, `certificate`, `backup` (backup, restore),
//! `rotate` (rotate-key, rotate-search-key).
//!
//! Commands that read or change the register ask through [`ask`]: the running hub over its
//! control socket, or, when none runs, the store opened here; either way the answer is a typed
//! [`control::Answer`], and no command reads an answer by string key. Nothing else in the
//! library imports this module.

use crate::control::{self, Answer};
use anyhow::{Context, Result};
use clap::Parser;
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};

mod args;
mod backup;
mod certificate;
mod hub_urls;
mod linkage;
mod migrate;
mod operators;
mod pki;
mod records;
mod review;
mod rollout;
mod rotate;
mod search;
mod serve;
mod sync;
mod unvoid;

use args::{Cli, Command};

/// The whole program: parse, load the configuration, set up logging, run the command, and
/// exit 1 with the error (as text, or as `{"ok": false, "error"}` with `--json`) if it fails.
pub fn main() {
    // Everything this process creates (database, index, logs, PKI, sockets) is private to the
    // hub's user, whatever umask it was started with.
    crate::atrest::private_umask();
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
    let cfg = match crate::config::load(
        std::env::vars(),
        crate::config::Overrides {
            config: cli.config.clone(),
            data_dir: cli.data_dir.clone(),
            key_file: cli.key_file.clone(),
            store: cli.store.clone(),
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
    let _ = STORE.set(cfg.store.clone());
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

/// What every command is given: the configuration in force and the output mode.
pub(crate) struct Ctx {
    pub cfg: crate::config::Config,
    pub data_dir: PathBuf,
    pub pki_dir: PathBuf,
    /// `--json`: print machine-readable JSON.
    pub json: bool,
}

/// Runs one command: the dispatch to the command groups.
fn run(cli: Cli, cfg: crate::config::Config) -> Result<()> {
    let Some(command) = cli.command else {
        anyhow::bail!("no command given: try `civreg-hub --help`");
    };
    let ctx = Ctx {
        data_dir: cfg.data_dir.clone(),
        pki_dir: crate::paths::pki_dir(&cfg.data_dir),
        json: cli.json,
        cfg,
    };
    match command {
        Command::Keygen { out } => serve::keygen(&ctx, out),
        Command::Serve { .. } => serve::serve(&ctx),
        Command::Pki { command } => pki::run(&ctx, command),
        Command::Operator { command } => operators::run(&ctx, command),
        Command::AccessLog {
            record,
            by,
            since,
            person,
        } => operators::access_log(&ctx, record, by, since, person),
        Command::Status => sync::status(&ctx),
        Command::Refused => sync::refused(&ctx),
        Command::SetAside {
            municipality,
            node,
            seq,
            reason,
            operator,
            hash,
            undo,
        } => sync::set_aside(
            &ctx,
            sync::SetAsideArgs {
                municipality,
                node,
                seq,
                reason,
                operator,
                hash,
                undo,
            },
        ),
        Command::Show { regno, operator } => records::show(&ctx, regno, &operator),
        Command::Person { id, operator } => records::person(&ctx, id, &operator),
        Command::Digest { municipality } => records::digest(&ctx, &municipality),
        Command::Conflicts { command } => review::run(&ctx, command),
        Command::UnvoidRequests { all, operator } => unvoid::list(&ctx, all, operator),
        Command::UnvoidRequest { command } => unvoid::answer(&ctx, command),
        Command::Import {
            file,
            municipality,
            operator,
            report,
        } => linkage::import(&ctx, &file, &municipality, operator, report),
        Command::Match { command } => linkage::matching(&ctx, command),
        Command::Duplicates { command } => linkage::duplicates(&ctx, command),
        Command::Synth { records, seed, out } => linkage::synth(&ctx, records, seed, &out),
        Command::Search {
            text,
            born,
            municipality,
            kind,
            limit,
            offset,
            operator,
        } => search::run(
            &ctx,
            crate::search::SearchQuery {
                text,
                born: born.map(|b| crate::search::Born::parse(&b)).transpose()?,
                municipality,
                kind: kind.as_deref().map(kind_of),
                offset,
                limit,
            },
            &operator,
        ),
        Command::HubUrls { command } => hub_urls::run(&ctx, command),
        Command::Rollout { command } => rollout::run(&ctx, command),
        Command::Certificate {
            command: None,
            issue,
        } => certificate::issue(&ctx, issue),
        Command::Certificate {
            command: Some(command),
            ..
        } => certificate::run(&ctx, command),
        Command::Backup { out } => backup::backup(&ctx, &out),
        Command::Restore { from } => backup::restore(&ctx, &from),
        Command::RotateKey { how } => rotate::rotate_key(&ctx, how),
        Command::RotateSearchKey { how } => rotate::rotate_search_key(&ctx, how),
        Command::Migrate { from, to, how } => migrate::migrate(&ctx, from, &to, how),
        Command::ExportJsonl { out } => migrate::export_jsonl(&ctx, &out),
        Command::ImportJsonl { from, how } => migrate::import_jsonl(&ctx, &from, how),
    }
}

/// The gazetteer code of a municipality given by any of its names.
fn municipality_code(name: &str) -> Result<String> {
    civreg_shared::gazetteer::resolve(name)
        .map(|g| g.code.to_string())
        .with_context(|| {
            format!("unknown municipality {name:?}: `civreg-hub rollout list` shows the codes")
        })
}

/// Who is looking, as the access log names an operator.
fn operator_label(name: &str) -> String {
    if name.trim().is_empty() {
        "operator:(unnamed, set CIVREG_OPERATOR)".into()
    } else {
        format!("operator:{}", name.trim())
    }
}

/// The language of the operator's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`; Albanian when none
/// names one of the four), for what the commands say through the Fluent catalogues.
fn operator_lang() -> civreg_shared::i18n::Lang {
    let env = |k: &str| std::env::var(k).ok();
    let (a, b, c) = (env("LC_ALL"), env("LC_MESSAGES"), env("LANG"));
    civreg_shared::i18n::Lang::from_env_values([a.as_deref(), b.as_deref(), c.as_deref()])
}

fn kind_of(s: &str) -> civreg_shared::model::RecordKind {
    use civreg_shared::model::RecordKind;
    match s {
        "marriage" => RecordKind::Marriage,
        "death" => RecordKind::Death,
        _ => RecordKind::Birth,
    }
}

/// Prints the answer. A reader that went away (`| head`) is not an error worth a panic.
fn print(json_mode: bool, v: serde_json::Value, text: impl FnOnce() -> String) {
    use std::io::Write;
    let out = if json_mode { v.to_string() } else { text() };
    let _ = writeln!(std::io::stdout().lock(), "{out}");
}

/// Prints a typed answer: its JSON with `--json` (as a `serde_json::Value`, so object keys in
/// order, as the control socket carries it), else `text`.
fn print_answer<T: Serialize>(
    json_mode: bool,
    answer: &T,
    text: impl FnOnce() -> String,
) -> Result<()> {
    let v = if json_mode {
        serde_json::to_value(answer).context("the hub's answer could not be written as JSON")?
    } else {
        serde_json::Value::Null
    };
    print(json_mode, v, text);
    Ok(())
}

/// Asks the hub and reads the answer as `T`, the type of the request's answer: through the
/// running hub or the store, failing when neither can be had.
fn ask<T: TryFrom<Answer, Error = Answer>>(data_dir: &Path, req: control::Request) -> Result<T> {
    let answer = match ask_hub(data_dir, &req) {
        Ok(a) => a,
        Err(HubAnswer::Locked(e)) | Err(HubAnswer::Failed(e)) => return Err(e),
    };
    T::try_from(answer).map_err(|other| {
        control::ControlError::Protocol(format!("a {} answer", other.kind())).into()
    })
}

/// Why [`ask_hub`] has no answer.
enum HubAnswer {
    /// Another process holds the database and no hub answers on the control socket.
    Locked(anyhow::Error),
    Failed(anyhow::Error),
}

/// Answers `req`: from the running hub through its control socket, or, when none runs, from
/// the store opened here ([`control::ask::ask_at`], with the key file and store in force).
fn ask_hub(data_dir: &Path, req: &control::Request) -> Result<Answer, HubAnswer> {
    let key_file = KEY_FILE
        .get()
        .cloned()
        .unwrap_or_else(|| crate::atrest::default_key_path(data_dir));
    let at = crate::paths::StoreAt::of(data_dir, STORE.get().and_then(Option::as_deref));
    control::ask::ask_at(data_dir, &at, &key_file, req, &mut |line| {
        eprintln!("{line}")
    })
    .map_err(|e| match e {
        e @ control::ControlError::Locked(_) => HubAnswer::Locked(e.into()),
        e => HubAnswer::Failed(e.into()),
    })
}

/// The key file in force (set once in [`main`]), for commands that open the store themselves.
static KEY_FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The store URL in force (set once in [`main`]; `None`: sled under the data directory).
static STORE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
