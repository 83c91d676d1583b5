//! The node's configuration, layered as the hub's: built-in defaults < TOML file (`--config` or
//! `CIVREG_NODE_CONFIG`) < `CIVREG_NODE_*` environment variables < command-line flags.
//! `civreg-node --dump-config` prints the result. Unknown keys in the file (also inside a
//! section) and unknown `CIVREG_NODE_*` variables are errors; a section value outside its range
//! is refused with the key's name. The TOML, environment and range rules are
//! `civreg_shared::config`'s, shared with the hub; this module only reads the file and says which
//! keys the node has.
//!
//! ```toml
//! version = 1                         # config format version
//! data_dir = "/var/lib/civreg"        # database (db/), enrollment (tls/), status
//! key_file = "/media/key/node.key"    # encrypts the database (default DATA_DIR/node.key)
//! log_json = false                    # JSON log lines
//! lang = "sq"                         # the command line's language: sq, sr-Latn, sr-Cyrl, en
//! hub = "https://hub.example:7443"    # serve and sync (default: the enrollment bundle's)
//! http_listen = "127.0.0.1:8090"      # the clerk app: loopback (HTTP), another address (HTTPS, app-cert), or "off"
//! http_hosts = []                     # names the clerk app answers to besides loopback
//!
//! [sync]
//! interval_s = 5                      # seconds between sync rounds of `serve` (1-86400)
//! stall_s = 15                        # a hub silent this long in the middle of a call is left
//!                                     # for the next hub of the list (1-3600; sync.rs)
//!
//! [backup]
//! dir = "/media/usb/civreg"           # `serve` backs up here at start and daily
//! keep = 7                            # scheduled backups kept in dir (1-1000)
//!
//! [session]                           # a clerk signed in at the command line (`login`)
//! idle_s = 900                        # ends after this long without a command (1-86400)
//! max_s = 28800                       # and this long after sign-in in any case (1-604800)
//! ```
//!
//! `session.idle_s` longer than `session.max_s` is refused (the idle limit would never apply).
//!
//! Environment: `CIVREG_NODE_` + the key in capitals, a section's keys prefixed by the section
//! (`CIVREG_NODE_DATA_DIR`, `CIVREG_NODE_SYNC_INTERVAL_S`, `CIVREG_NODE_BACKUP_DIR`,
//! `CIVREG_NODE_SESSION_IDLE_S`;
//! `CIVREG_NODE_HTTP_HOSTS` comma-separated). The older variables `CIVREG_DATA_DIR`,
//! `CIVREG_KEY_FILE`, `CIVREG_HTTP_LISTEN`, `CIVREG_BACKUP_DIR`, `CIVREG_SESSION_IDLE_SECS` and
//! `CIVREG_SESSION_MAX_SECS` are still read, as flags are
//! (they win over the file and `CIVREG_NODE_*`). A flag's value is taken as the flag always took
//! it (`--interval-secs 0` still means every second); the range check is for file and environment.
//!
//! The command line's language: `--lang` or `CIVREG_LANG` (flags), else `CIVREG_NODE_LANG`, else
//! the file's `lang`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else Albanian
//! ([`crate::clitext`]). A value that is not one of the four tags is refused with the choices.

use crate::cli::{Cli, Command};
use civreg_shared::config::{parse_toml, Bounded, EnvLayer, LayerError};
use civreg_shared::i18n::Lang;
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "CIVREG_NODE_";
const KNOWN_ENV: &[&str] = &[
    "CONFIG",
    "DATA_DIR",
    "KEY_FILE",
    "LOG_JSON",
    "LANG",
    "HUB",
    "HTTP_LISTEN",
    "HTTP_HOSTS",
    "BACKUP_DIR",
];
/// Read by the hub's test harness (hub/tests/bins), not by the node, which inherits it.
const IGNORED_ENV: &[&str] = &["BIN"];
const ENV_HINT: &str = "the node reads CIVREG_NODE_CONFIG, CIVREG_NODE_DATA_DIR, CIVREG_NODE_KEY_FILE, CIVREG_NODE_LOG_JSON, CIVREG_NODE_LANG, CIVREG_NODE_HUB, CIVREG_NODE_HTTP_LISTEN, CIVREG_NODE_HTTP_HOSTS, CIVREG_NODE_SYNC_INTERVAL_S, CIVREG_NODE_SYNC_STALL_S, CIVREG_NODE_BACKUP_DIR, CIVREG_NODE_BACKUP_KEEP, CIVREG_NODE_SESSION_IDLE_S and CIVREG_NODE_SESSION_MAX_S (deploy/node.example.toml)";
/// Where the data lives unless told otherwise (as `--data-dir`'s default always was).
pub const DEFAULT_DATA_DIR: &str = "./civreg-node-data";

const SYNC_INTERVAL: Bounded = Bounded {
    key: "sync.interval_s",
    default: 5,
    min: 1,
    max: 86_400,
    unit: " seconds",
};
/// The default and range are `serve --stall-secs`'s.
const SYNC_STALL: Bounded = Bounded {
    key: "sync.stall_s",
    default: 15,
    min: 1,
    max: 3600,
    unit: " seconds",
};
const BACKUP_KEEP: Bounded = Bounded {
    key: "backup.keep",
    default: 7,
    min: 1,
    max: 1000,
    unit: "",
};
/// The defaults and ranges are `serve`'s flags' (`--session-idle-secs`, `--session-max-secs`).
const SESSION_IDLE: Bounded = Bounded {
    key: "session.idle_s",
    default: 900,
    min: 1,
    max: 86_400,
    unit: " seconds",
};
const SESSION_MAX: Bounded = Bounded {
    key: "session.max_s",
    default: 28_800,
    min: 1,
    max: 604_800,
    unit: " seconds",
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path} has version {version}; this node reads version 1")]
    Version { path: PathBuf, version: u32 },
    #[error("{0}")]
    Layer(#[from] LayerError),
    #[error("{origin}: unknown language {value:?}: choose one of {choices}", choices = Lang::choices())]
    Lang { origin: String, value: String },
    #[error("session.idle_s = {idle} is longer than session.max_s = {max}: the idle limit would never end a session; make idle_s at most max_s (the flags are --session-idle-secs and --session-max-secs)")]
    SessionIdle { idle: u64, max: u64 },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    version: Option<u32>,
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    log_json: Option<bool>,
    lang: Option<String>,
    hub: Option<String>,
    http_listen: Option<String>,
    http_hosts: Option<Vec<String>>,
    #[serde(default)]
    sync: FileSync,
    #[serde(default)]
    backup: FileBackup,
    #[serde(default)]
    session: FileSession,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSession {
    idle_s: Option<i64>,
    max_s: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    // Signed, so that a negative value reaches the range check and is refused by its name.
    interval_s: Option<i64>,
    stall_s: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    dir: Option<PathBuf>,
    keep: Option<i64>,
}

/// What the command line (or one of the older `CIVREG_*` variables) said: these win.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub log_json: bool,
    /// `--lang` or `CIVREG_LANG`.
    pub lang: Option<Lang>,
    pub hub: Option<String>,
    pub interval_s: Option<u64>,
    pub stall_s: Option<u64>,
    pub http_listen: Option<String>,
    pub http_hosts: Vec<String>,
    pub backup_dir: Option<PathBuf>,
    pub backup_keep: Option<usize>,
    pub session_idle_s: Option<u64>,
    pub session_max_s: Option<u64>,
}

fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

fn value<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
    if given(m, id) {
        m.get_one::<T>(id).cloned()
    } else {
        None
    }
}

impl Flags {
    /// The values given on the command line, from clap's matches of [`Cli`] (a default clap
    /// filled in is not a flag: the file and the environment may still set it).
    pub fn from_matches(m: &ArgMatches) -> Flags {
        let mut f = Flags {
            config: value(m, "config"),
            data_dir: value(m, "data_dir"),
            key_file: value(m, "key_file"),
            log_json: m.get_flag("log_json"),
            lang: value(m, "lang"),
            ..Flags::default()
        };
        match m.subcommand() {
            Some(("serve", s)) => {
                f.hub = value(s, "hub");
                f.interval_s = value(s, "interval_secs");
                f.stall_s = value(s, "stall_secs");
                f.http_listen = value(s, "http_listen");
                f.http_hosts = s
                    .get_many::<String>("http_hosts")
                    .map(|v| v.cloned().collect())
                    .unwrap_or_default();
                f.backup_dir = value(s, "backup_dir");
                f.backup_keep = value(s, "backup_keep");
                f.session_idle_s = value(s, "session_idle_secs");
                f.session_max_s = value(s, "session_max_secs");
            }
            Some(("sync", s)) => f.hub = value(s, "hub"),
            _ => {}
        }
        f
    }
}

/// The validated configuration, as `--dump-config` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeConfig {
    pub version: u32,
    pub data_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    pub log_json: bool,
    /// The command line's language, when the config or a flag names one (else the locale's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_listen: Option<String>,
    pub http_hosts: Vec<String>,
    pub sync: SyncSection,
    pub backup: BackupSection,
    pub session: SessionSection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSection {
    pub idle_s: u64,
    pub max_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSection {
    pub interval_s: u64,
    /// How long one step of a call with the hub may take (`serve --stall-secs`).
    pub stall_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    pub keep: usize,
}

impl NodeConfig {
    /// The config as a TOML file would say it.
    pub fn to_toml(&self) -> String {
        civreg_shared::config::to_toml(self)
    }

    /// Puts the configuration into the parsed command line: its global options, and the
    /// options of `serve` and `sync`.
    pub fn apply(&self, cli: &mut Cli) {
        cli.data_dir = self.data_dir.clone();
        cli.key_file = self.key_file.clone();
        cli.log_json = self.log_json;
        cli.lang = self.lang.as_deref().and_then(Lang::from_tag);
        match &mut cli.command {
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
                *hub = self.hub.clone();
                *interval_secs = self.sync.interval_s;
                *stall_secs = self.sync.stall_s;
                *http_listen = self.http_listen.clone();
                *http_hosts = self.http_hosts.clone();
                *backup_dir = self.backup.dir.clone();
                *backup_keep = self.backup.keep;
                *session_idle_secs = self.session.idle_s;
                *session_max_secs = self.session.max_s;
            }
            Command::Sync { hub, .. } => *hub = self.hub.clone(),
            _ => {}
        }
    }
}

/// Builds the configuration from the layers. `env` yields all environment variables.
pub fn load(
    env: impl IntoIterator<Item = (String, String)>,
    flags: Flags,
) -> Result<NodeConfig, ConfigError> {
    let known: Vec<String> = KNOWN_ENV
        .iter()
        .map(|k| k.to_string())
        .chain([
            SYNC_INTERVAL.env_name(),
            SYNC_STALL.env_name(),
            BACKUP_KEEP.env_name(),
            SESSION_IDLE.env_name(),
            SESSION_MAX.env_name(),
        ])
        .collect();
    let env = EnvLayer::new(ENV_PREFIX, &known, IGNORED_ENV, ENV_HINT, env)?;
    let path = flags
        .config
        .clone()
        .or_else(|| env.get("CONFIG").map(PathBuf::from));
    let file = match &path {
        Some(p) => read_file(p)?,
        None => FileConfig::default(),
    };
    let path_of = |flag: Option<PathBuf>, var: &str, file: Option<PathBuf>| {
        flag.or_else(|| env.get(var).map(PathBuf::from)).or(file)
    };
    let text_of = |flag: Option<String>, var: &str, file: Option<String>| {
        flag.or_else(|| env.get(var).map(str::to_string)).or(file)
    };
    let interval_s = match flags.interval_s {
        Some(v) => v,
        None => SYNC_INTERVAL.resolve_u64(None, &env, file.sync.interval_s)?,
    };
    let stall_s = match flags.stall_s {
        Some(v) => v,
        None => SYNC_STALL.resolve_u64(None, &env, file.sync.stall_s)?,
    };
    let keep = match flags.backup_keep {
        Some(v) => v,
        None => BACKUP_KEEP.resolve_u64(None, &env, file.backup.keep)? as usize,
    };
    let session_idle = match flags.session_idle_s {
        Some(v) => v,
        None => SESSION_IDLE.resolve_u64(None, &env, file.session.idle_s)?,
    };
    let session_max = match flags.session_max_s {
        Some(v) => v,
        None => SESSION_MAX.resolve_u64(None, &env, file.session.max_s)?,
    };
    if session_idle > session_max {
        return Err(ConfigError::SessionIdle {
            idle: session_idle,
            max: session_max,
        });
    }
    let log_json = flags.log_json
        || match env.bool("LOG_JSON")? {
            Some(v) => v,
            None => file.log_json.unwrap_or(false),
        };
    let lang = match flags.lang {
        Some(l) => Some(l),
        None => match env.get("LANG") {
            Some(v) => Some(lang_of(&format!("{ENV_PREFIX}LANG"), v)?),
            None => match &file.lang {
                Some(v) => Some(lang_of(
                    &format!(
                        "{} (lang)",
                        path.as_deref().unwrap_or(Path::new("")).display()
                    ),
                    v,
                )?),
                None => None,
            },
        },
    };
    let http_hosts = if flags.http_hosts.is_empty() {
        env.list("HTTP_HOSTS")
            .or(file.http_hosts)
            .unwrap_or_default()
    } else {
        flags.http_hosts
    };
    Ok(NodeConfig {
        version: 1,
        data_dir: path_of(flags.data_dir, "DATA_DIR", file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        key_file: path_of(flags.key_file, "KEY_FILE", file.key_file),
        log_json,
        lang: lang.map(|l| l.tag().to_string()),
        hub: text_of(flags.hub, "HUB", file.hub),
        http_listen: text_of(flags.http_listen, "HTTP_LISTEN", file.http_listen),
        http_hosts,
        sync: SyncSection {
            interval_s,
            stall_s,
        },
        backup: BackupSection {
            dir: path_of(flags.backup_dir, "BACKUP_DIR", file.backup.dir),
            keep,
        },
        session: SessionSection {
            idle_s: session_idle,
            max_s: session_max,
        },
    })
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let f: FileConfig = parse_toml(&text).map_err(|message| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    })?;
    if let Some(v) = f.version.filter(|v| *v != 1) {
        return Err(ConfigError::Version {
            path: path.to_path_buf(),
            version: v,
        });
    }
    Ok(f)
}

/// A language named in the config (`origin` says where), or the error listing the choices.
fn lang_of(origin: &str, value: &str) -> Result<Lang, ConfigError> {
    Lang::from_tag(value).ok_or_else(|| ConfigError::Lang {
        origin: origin.to_string(),
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The configuration and the command line `args` would run with.
    fn resolve(args: &[&str], vars: &[(&str, &str)]) -> Result<(NodeConfig, Cli), ConfigError> {
        let m = Cli::command()
            .try_get_matches_from(std::iter::once("civreg-node").chain(args.iter().copied()))
            .unwrap();
        let cfg = load(env(vars), Flags::from_matches(&m))?;
        let mut cli = Cli::from_arg_matches(&m).unwrap();
        cfg.apply(&mut cli);
        Ok((cfg, cli))
    }

    fn serve_fields(cli: &Cli) -> (Option<String>, u64, Option<PathBuf>, usize, Vec<String>) {
        match &cli.command {
            Command::Serve {
                hub,
                interval_secs,
                backup_dir,
                backup_keep,
                http_hosts,
                ..
            } => (
                hub.clone(),
                *interval_secs,
                backup_dir.clone(),
                *backup_keep,
                http_hosts.clone(),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn layers_apply_in_order_and_reach_the_command() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("node.toml");
        let fs = f.to_str().unwrap();
        std::fs::write(
            &f,
            "version = 1\ndata_dir = \"/from/file\"\nhub = \"https://file:7443\"\n[sync]\ninterval_s = 30\n[backup]\ndir = \"/usb\"\nkeep = 3\n",
        )
        .unwrap();
        let (defaults, cli) = resolve(&["serve"], &[]).unwrap();
        assert_eq!(cli.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(serve_fields(&cli), (None, 5, None, 7, vec![]));
        assert_eq!(defaults.sync.interval_s, 5);
        let (_, cli) = resolve(&["--config", fs, "serve"], &[]).unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("/from/file"));
        assert_eq!(
            serve_fields(&cli),
            (
                Some("https://file:7443".into()),
                30,
                Some("/usb".into()),
                3,
                vec![]
            )
        );
        // The file named by the environment; the environment over the file.
        let vars = [
            ("CIVREG_NODE_CONFIG", fs),
            ("CIVREG_NODE_SYNC_INTERVAL_S", "60"),
            ("CIVREG_NODE_DATA_DIR", "/from/env"),
            ("CIVREG_NODE_HTTP_HOSTS", "a.example, b.example"),
            ("CIVREG_NODE_BIN", "/read/by/the/test/harness"),
        ];
        let (_, cli) = resolve(&["serve"], &vars).unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("/from/env"));
        let (_, interval, _, keep, hosts) = serve_fields(&cli);
        assert_eq!((interval, keep), (60, 3));
        assert_eq!(hosts, ["a.example", "b.example"]);
        // Flags over everything, global ones before or after the command.
        let (cfg, cli) = resolve(
            &[
                "serve",
                "--data-dir",
                "/from/flag",
                "--interval-secs",
                "2",
                "--backup-keep",
                "9",
                "--hub",
                "https://flag:1",
                "--http-host",
                "c.example",
            ],
            &vars,
        )
        .unwrap();
        assert_eq!(cli.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(
            serve_fields(&cli),
            (
                Some("https://flag:1".into()),
                2,
                Some("/usb".into()),
                9,
                vec!["c.example".to_string()]
            )
        );
        // `sync` takes the hub too; other commands only the global keys.
        let (_, cli) = resolve(&["--config", fs, "sync", "--once"], &[]).unwrap();
        assert!(
            matches!(&cli.command, Command::Sync { hub: Some(h), once: true } if h == "https://file:7443")
        );
        // --dump-config prints what reads back as the same.
        let dump = cfg.to_toml();
        assert!(dump.contains("[sync]\ninterval_s = 2"), "{dump}");
        std::fs::write(&f, &dump).unwrap();
        let (again, _) = resolve(&["--config", fs, "serve"], &[]).unwrap();
        assert_eq!(again, cfg);
    }

    #[test]
    fn the_language_comes_from_the_flag_the_environment_or_the_file_and_is_checked() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("node.toml");
        let fs = f.to_str().unwrap();
        std::fs::write(&f, "lang = \"sr-Latn\"\n").unwrap();
        // Nothing given: none (the locale's, at run time).
        let (cfg, cli) = resolve(&["status"], &[]).unwrap();
        assert_eq!((cfg.lang, cli.lang), (None, None));
        let (cfg, cli) = resolve(&["--config", fs, "status"], &[]).unwrap();
        assert_eq!(cli.lang, Some(Lang::SrLatn));
        assert!(
            cfg.to_toml().contains("lang = \"sr-Latn\""),
            "{}",
            cfg.to_toml()
        );
        let vars = [("CIVREG_NODE_LANG", "SR-CYRL")];
        let (_, cli) = resolve(&["--config", fs, "status"], &vars).unwrap();
        assert_eq!(cli.lang, Some(Lang::SrCyrl));
        let (_, cli) = resolve(&["--config", fs, "--lang", "en", "status"], &vars).unwrap();
        assert_eq!(cli.lang, Some(Lang::En));
        // A language without a catalogue is refused with the choices, wherever it is named.
        let e = resolve(&["status"], &[("CIVREG_NODE_LANG", "de")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CIVREG_NODE_LANG") && e.contains("sq, sr-Latn, sr-Cyrl, en"),
            "{e}"
        );
        std::fs::write(&f, "lang = \"sr_RS\"\n").unwrap();
        let e = resolve(&["--config", fs, "status"], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"sr_RS\"") && e.contains("sr-Cyrl"), "{e}");
        let e = Cli::command()
            .try_get_matches_from(["civreg-node", "--lang", "xx", "status"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("xx") && e.contains("sr-Latn"), "{e}");
    }

    #[test]
    fn mistakes_are_named() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("node.toml");
        let fs = f.to_str().unwrap().to_string();
        let with_file = |text: &str| {
            std::fs::write(&f, text).unwrap();
            resolve(&["--config", &fs, "status"], &[])
                .unwrap_err()
                .to_string()
        };
        let e = with_file("data_dri = \"/x\"\n");
        assert!(e.contains("data_dri"), "{e}");
        let e = with_file("[backup]\nkeep = 3\nkept = 4\n");
        assert!(e.contains("kept"), "{e}");
        let e = with_file("[sync]\ninterval_s = 0\n");
        assert!(
            e.contains("sync.interval_s = 0") && e.contains("allowed 1 to 86400 seconds"),
            "{e}"
        );
        let e = with_file("[backup]\nkeep = -1\n");
        assert!(e.contains("backup.keep = -1"), "{e}");
        let e = with_file("version = 2\n");
        assert!(e.contains("version 2"), "{e}");
        let e = resolve(&["status"], &[("CIVREG_NODE_DATADIR", "/x")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CIVREG_NODE_DATADIR") && e.contains("CIVREG_NODE_DATA_DIR"),
            "{e}"
        );
        let e = resolve(&["status"], &[("CIVREG_NODE_SYNC_INTERVAL_S", "-3")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sync.interval_s = -3") && e.contains("CIVREG_NODE_SYNC_INTERVAL_S"),
            "{e}"
        );
        let e = resolve(&["status"], &[("CIVREG_NODE_LOG_JSON", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("CIVREG_NODE_LOG_JSON"), "{e}");
        // A flag is taken as it always was: 0 still means "every second" in serve.
        let (_, cli) = resolve(&["serve", "--interval-secs", "0"], &[]).unwrap();
        assert_eq!(serve_fields(&cli).1, 0);
    }

    fn sessions(cli: &Cli) -> (u64, u64) {
        match &cli.command {
            Command::Serve {
                session_idle_secs,
                session_max_secs,
                ..
            } => (*session_idle_secs, *session_max_secs),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn session_limits_come_from_the_file_the_environment_or_the_flags_and_idle_is_at_most_max() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("node.toml");
        let fs = f.to_str().unwrap().to_string();
        std::fs::write(&f, "[session]\nidle_s = 600\nmax_s = 3600\n").unwrap();
        // Defaults: serve's flags' defaults.
        let (cfg, cli) = resolve(&["serve"], &[]).unwrap();
        assert_eq!(sessions(&cli), (900, 28_800));
        assert!(cfg.to_toml().contains("[session]"), "{}", cfg.to_toml());
        // The file reaches serve.
        let (_, cli) = resolve(&["--config", &fs, "serve"], &[]).unwrap();
        assert_eq!(sessions(&cli), (600, 3600));
        // The environment beats the file; a flag beats both.
        let (_, cli) = resolve(
            &["--config", &fs, "serve"],
            &[("CIVREG_NODE_SESSION_IDLE_S", "300")],
        )
        .unwrap();
        assert_eq!(sessions(&cli), (300, 3600));
        let (_, cli) = resolve(
            &["--config", &fs, "serve", "--session-max-secs", "7200"],
            &[("CIVREG_NODE_SESSION_IDLE_S", "300")],
        )
        .unwrap();
        assert_eq!(sessions(&cli), (300, 7200));
        // Out of range, and idle longer than max, are refused by name.
        std::fs::write(&f, "[session]\nidle_s = 0\n").unwrap();
        let e = resolve(&["--config", &fs, "serve"], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("session.idle_s = 0"), "{e}");
        std::fs::write(&f, "[session]\nidle_s = 7200\nmax_s = 3600\n").unwrap();
        let e = resolve(&["--config", &fs, "serve"], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("session.idle_s = 7200") && e.contains("max_s = 3600"),
            "{e}"
        );
        let e = resolve(
            &[
                "serve",
                "--session-idle-secs",
                "9000",
                "--session-max-secs",
                "60",
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("longer than session.max_s"), "{e}");
    }

    /// `[sync] stall_s` and `CIVREG_NODE_SYNC_STALL_S` reach `serve --stall-secs`, the flag
    /// wins, and a value out of range is refused by its key's name.
    #[test]
    fn the_stall_limit_comes_from_the_file_the_environment_or_the_flag() {
        let stall = |cli: &Cli| match &cli.command {
            Command::Serve { stall_secs, .. } => *stall_secs,
            other => panic!("{other:?}"),
        };
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("node.toml");
        let fs = f.to_str().unwrap().to_string();
        std::fs::write(&f, "[sync]\nstall_s = 4\n").unwrap();
        let (cfg, cli) = resolve(&["serve"], &[]).unwrap();
        assert_eq!((cfg.sync.stall_s, stall(&cli)), (15, 15));
        let (cfg, cli) = resolve(&["--config", &fs, "serve"], &[]).unwrap();
        assert_eq!((cfg.sync.stall_s, stall(&cli)), (4, 4));
        assert!(cfg.to_toml().contains("stall_s = 4"), "{}", cfg.to_toml());
        let (_, cli) = resolve(
            &["--config", &fs, "serve"],
            &[("CIVREG_NODE_SYNC_STALL_S", "9")],
        )
        .unwrap();
        assert_eq!(stall(&cli), 9);
        let (_, cli) = resolve(
            &["--config", &fs, "serve", "--stall-secs", "2"],
            &[("CIVREG_NODE_SYNC_STALL_S", "9")],
        )
        .unwrap();
        assert_eq!(stall(&cli), 2);
        std::fs::write(&f, "[sync]\nstall_s = 0\n").unwrap();
        let e = resolve(&["--config", &fs, "serve"], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sync.stall_s = 0"), "{e}");
    }
}
