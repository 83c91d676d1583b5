//! The hub's configuration, layered: built-in defaults < TOML file (`--config` or
//! `CIVREG_HUB_CONFIG`) < `CIVREG_HUB_*` environment variables < command-line flags.
//! `civreg-hub --dump-config` prints the result. Unknown keys in the file and unknown
//! `CIVREG_HUB_*` variables are errors, so a typo never silently falls back to a default.
//!
//! ```toml
//! version = 1                      # config format version
//! data_dir = "/var/lib/civreg-hub" # PKI under pki/, database under db/
//! key_file = "/etc/civreg-hub/hub.key" # seals the database; keep it off the data disk
//!                                  # (default DATA_DIR/hub.key; see atrest.rs)
//! # store = "postgres://civreg:PASSWORD@db.example:5432/civreg?sslmode=verify-full&sslrootcert=/etc/civreg-hub/pg-ca.pem"
//!                                  # the store in PostgreSQL (default: sled under DATA_DIR/db);
//!                                  # see store/backend/postgres.rs for sslmode
//! grpc_listen = "127.0.0.1:7443"   # where nodes connect (mutual TLS only)
//! http_listen = "127.0.0.1:8080"   # the operator dashboard and /metrics (plain HTTP: loopback)
//! http_hosts = []                  # names the dashboard answers to besides loopback (proxy)
//! hub_urls = []                    # every hub process's address, as offices dial it, e.g.
//!                                  # ["https://hub-a.civreg.rks:7443", "https://hub-b.civreg.rks:7443"]:
//!                                  # what `pki issue` writes into bundles without --hub-url; each
//!                                  # host must be a name of the hub certificate (hub_list.rs)
//! log_json = false                 # JSON log lines for operators
//!
//! [sync]                           # the Sync service (sync/): ingest and connections
//! group_max_pushes = 64            # most pushes the committer folds into one flush (1-1024)
//! group_max_ops = 4096             # ops at which the committer closes a group (1-1048576)
//! push_in_flight = 4               # push batches of one stream awaiting their answer (1-64)
//! keepalive_interval_s = 20        # HTTP/2 ping to each connection this often (1-3600)
//! keepalive_timeout_s = 20         # a connection whose ping is unanswered this long closes (1-3600)
//! handshake_timeout_s = 10         # time a client has to finish the TLS handshake (1-300)
//!
//! [web]                            # the operator dashboard (web/)
//! session_idle_s = 1800            # a session ends after this long without a request (1-86400)
//! session_max_s = 43200            # and this long after sign-in in any case (1-604800;
//!                                  # session_idle_s longer than it is refused)
//! online_within_s = 90             # a node is online while its last heartbeat is this recent (1-86400)
//! history_every_s = 60             # how often each node's history is sampled (1-3600)
//!
//! [search]                         # the national search index (search/)
//! index_interval_ms = 500          # how often the index follows the feed (10-60000)
//! ```
//!
//! Each key of a section is also an environment variable: `CIVREG_HUB_` + section + key in
//! capitals (`CIVREG_HUB_SYNC_GROUP_MAX_OPS=2048`). No section key has a flag. A value outside
//! its range, from the file or the environment, is refused with the key's name and the range.
//! The services take plain settings ([`SyncSettings`], [`SearchSettings`], `web::Settings`
//! through [`Config::web_settings`]) in `RunOptions`; none of them reads the config itself.

use civreg_shared::config::{parse_toml, Bounded, EnvLayer, LayerError};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ENV_PREFIX: &str = "CIVREG_HUB_";
const KNOWN_ENV: &[&str] = &[
    "CONFIG",
    "DATA_DIR",
    "GRPC_LISTEN",
    "HTTP_LISTEN",
    "HTTP_HOSTS",
    "HUB_URLS",
    "KEY_FILE",
    "LOG_JSON",
    "STORE",
];
/// Read by the test harness (hub/tests/bins), not by the hub: a hub it starts inherits it.
const IGNORED_ENV: &[&str] = &["BIN"];

const fn bounded(
    key: &'static str,
    default: i64,
    min: i64,
    max: i64,
    unit: &'static str,
) -> Bounded {
    Bounded {
        key,
        default,
        min,
        max,
        unit,
    }
}

const S: &str = " seconds";
const GROUP_MAX_PUSHES: Bounded = bounded(
    "sync.group_max_pushes",
    crate::sync::committer::GROUP_MAX_PUSHES as i64,
    1,
    1024,
    "",
);
const GROUP_MAX_OPS: Bounded = bounded(
    "sync.group_max_ops",
    crate::sync::committer::GROUP_MAX_OPS as i64,
    1,
    1 << 20,
    "",
);
const PUSH_IN_FLIGHT: Bounded = bounded(
    "sync.push_in_flight",
    crate::sync::service::PUSH_IN_FLIGHT as i64,
    1,
    64,
    "",
);
const KEEPALIVE_INTERVAL: Bounded = bounded("sync.keepalive_interval_s", 20, 1, 3600, S);
const KEEPALIVE_TIMEOUT: Bounded = bounded("sync.keepalive_timeout_s", 20, 1, 3600, S);
const HANDSHAKE_TIMEOUT: Bounded = bounded(
    "sync.handshake_timeout_s",
    crate::sync::tls::HANDSHAKE_TIMEOUT.as_secs() as i64,
    1,
    300,
    S,
);
const SESSION_IDLE: Bounded = bounded(
    "web.session_idle_s",
    civreg_shared::webguard::SESSION_IDLE.as_secs() as i64,
    1,
    86_400,
    S,
);
const SESSION_MAX: Bounded = bounded(
    "web.session_max_s",
    civreg_shared::webguard::SESSION_MAX.as_secs() as i64,
    1,
    7 * 86_400,
    S,
);
const ONLINE_WITHIN: Bounded = bounded(
    "web.online_within_s",
    crate::web::ONLINE_WITHIN.as_secs() as i64,
    1,
    86_400,
    S,
);
const HISTORY_EVERY: Bounded = bounded(
    "web.history_every_s",
    crate::web::HISTORY_EVERY.as_secs() as i64,
    1,
    3600,
    S,
);
const INDEX_INTERVAL: Bounded = bounded("search.index_interval_ms", 500, 10, 60_000, " ms");
/// Every section key, in the order `--dump-config` prints them.
const SECTION_KEYS: [Bounded; 11] = [
    GROUP_MAX_PUSHES,
    GROUP_MAX_OPS,
    PUSH_IN_FLIGHT,
    KEEPALIVE_INTERVAL,
    KEEPALIVE_TIMEOUT,
    HANDSHAKE_TIMEOUT,
    SESSION_IDLE,
    SESSION_MAX,
    ONLINE_WITHIN,
    HISTORY_EVERY,
    INDEX_INTERVAL,
];
/// Where the dashboard listens unless told otherwise: loopback only.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path} has version {version}; this hub reads version 1")]
    Version { path: PathBuf, version: u32 },
    #[error("{name}={value:?} is not valid: {why}")]
    Env {
        name: String,
        value: String,
        why: String,
    },
    #[error("unknown environment variable {0}: {ENV_HINT}")]
    UnknownEnv(String),
    /// A section key (`sync.group_max_ops`, ...) outside its range.
    #[error("{0}")]
    Range(LayerError),
    #[error("grpc_listen {0:?} is not an address: use HOST:PORT with an IP address, e.g. 127.0.0.1:7443 or 0.0.0.0:7443")]
    Listen(String),
    #[error("http_listen {0:?} is not an address: use HOST:PORT with an IP address, e.g. 127.0.0.1:8080")]
    HttpListen(String),
    /// `hub_urls` (file or `CIVREG_HUB_HUB_URLS`) is not a valid list of hub addresses.
    #[error("hub_urls: {0}")]
    HubUrls(civreg_shared::hubs::HubUrlError),
    #[error("web.session_idle_s = {idle} is longer than web.session_max_s = {max}: the idle limit would never end a session; make session_idle_s at most session_max_s")]
    SessionIdle { idle: u64, max: u64 },
    /// The URL without its password.
    #[error("store {0:?} is not a PostgreSQL URL: write postgres://USER:PASSWORD@HOST:PORT/DATABASE, or leave store out for the embedded database under DATA_DIR/db")]
    Store(String),
}

const ENV_HINT: &str = "the hub reads CIVREG_HUB_CONFIG, CIVREG_HUB_DATA_DIR, CIVREG_HUB_GRPC_LISTEN, CIVREG_HUB_HTTP_LISTEN, CIVREG_HUB_HTTP_HOSTS, CIVREG_HUB_HUB_URLS, CIVREG_HUB_KEY_FILE, CIVREG_HUB_LOG_JSON, CIVREG_HUB_STORE, and CIVREG_HUB_SYNC_*, CIVREG_HUB_WEB_*, CIVREG_HUB_SEARCH_* for the keys of the [sync], [web] and [search] sections (deploy/hub.example.toml lists them)";

impl From<LayerError> for ConfigError {
    fn from(e: LayerError) -> ConfigError {
        match e {
            LayerError::UnknownEnv { name, .. } => ConfigError::UnknownEnv(name),
            LayerError::Env { name, value, why } => ConfigError::Env { name, value, why },
            range => ConfigError::Range(range),
        }
    }
}

/// What a config file may say. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    version: Option<u32>,
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    store: Option<String>,
    grpc_listen: Option<String>,
    http_listen: Option<String>,
    http_hosts: Option<Vec<String>>,
    hub_urls: Option<Vec<String>>,
    log_json: Option<bool>,
    #[serde(default)]
    sync: FileSync,
    #[serde(default)]
    web: FileWeb,
    #[serde(default)]
    search: FileSearch,
}

// Signed, so that a negative value reaches the range check and is refused by its key's name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    group_max_pushes: Option<i64>,
    group_max_ops: Option<i64>,
    push_in_flight: Option<i64>,
    keepalive_interval_s: Option<i64>,
    keepalive_timeout_s: Option<i64>,
    handshake_timeout_s: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWeb {
    session_idle_s: Option<i64>,
    session_max_s: Option<i64>,
    online_within_s: Option<i64>,
    history_every_s: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSearch {
    index_interval_ms: Option<i64>,
}

/// The Sync service's tunables (`[sync]`): how the committer groups pushes, and how long a
/// connection may stay quiet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSettings {
    /// Most pushes the committer folds into one flush.
    pub group_max_pushes: usize,
    /// The committer stops adding pushes to a group once it holds this many ops.
    pub group_max_ops: usize,
    /// Push batches of one stream handed to the committer and not yet answered.
    pub push_in_flight: usize,
    pub keepalive_interval_s: u64,
    pub keepalive_timeout_s: u64,
    pub handshake_timeout_s: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            group_max_pushes: GROUP_MAX_PUSHES.default as usize,
            group_max_ops: GROUP_MAX_OPS.default as usize,
            push_in_flight: PUSH_IN_FLIGHT.default as usize,
            keepalive_interval_s: KEEPALIVE_INTERVAL.default as u64,
            keepalive_timeout_s: KEEPALIVE_TIMEOUT.default as u64,
            handshake_timeout_s: HANDSHAKE_TIMEOUT.default as u64,
        }
    }
}

impl SyncSettings {
    pub fn keepalive_interval(&self) -> Duration {
        Duration::from_secs(self.keepalive_interval_s)
    }
    pub fn keepalive_timeout(&self) -> Duration {
        Duration::from_secs(self.keepalive_timeout_s)
    }
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_s)
    }
}

/// The dashboard's tunables (`[web]`), turned into `web::Settings` by [`Config::web_settings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebTunables {
    pub session_idle_s: u64,
    pub session_max_s: u64,
    pub online_within_s: u64,
    pub history_every_s: u64,
}

impl Default for WebTunables {
    fn default() -> Self {
        WebTunables {
            session_idle_s: SESSION_IDLE.default as u64,
            session_max_s: SESSION_MAX.default as u64,
            online_within_s: ONLINE_WITHIN.default as u64,
            history_every_s: HISTORY_EVERY.default as u64,
        }
    }
}

/// The national search index's tunables (`[search]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchSettings {
    /// How often the indexer looks for new ops in the feed.
    pub index_interval_ms: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            index_interval_ms: INDEX_INTERVAL.default as u64,
        }
    }
}

impl SearchSettings {
    pub fn index_interval(&self) -> Duration {
        Duration::from_millis(self.index_interval_ms)
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    /// The key file that seals the database (`--key-file`).
    pub key_file: Option<PathBuf>,
    /// The store's PostgreSQL URL (`--store`).
    pub store: Option<String>,
    pub grpc_listen: Option<String>,
    pub log_json: bool,
    /// The dashboard's address (`serve --http-listen`).
    pub http_listen: Option<String>,
}

/// The validated configuration the hub runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    pub version: u32,
    pub data_dir: PathBuf,
    /// The key file that seals the database ([`crate::atrest`]).
    pub key_file: PathBuf,
    /// The store's PostgreSQL URL; `None`: sled under `DATA_DIR/db` ([`crate::paths::StoreAt`]).
    /// Printed without its password.
    #[serde(serialize_with = "redacted", skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    pub grpc_listen: SocketAddr,
    pub log_json: bool,
    /// The operator dashboard and `/metrics` (plain HTTP; keep it on loopback).
    pub http_listen: SocketAddr,
    /// Host names the dashboard answers to besides loopback and its own address (the name a
    /// reverse proxy forwards); any other `Host` is refused (DNS rebinding).
    pub http_hosts: Vec<String>,
    /// Every hub process's address, as offices dial them (`hub_urls`; empty: not said).
    /// `pki issue` writes them into bundles when no `--hub-url` is given ([`crate::hub_list`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hub_urls: Vec<String>,
    pub sync: SyncSettings,
    pub web: WebTunables,
    pub search: SearchSettings,
}

fn redacted<S: serde::Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(u) => s.serialize_some(&crate::store::backend::postgres::redact(u)),
        None => s.serialize_none(),
    }
}

impl Config {
    /// Where the store is ([`crate::paths::StoreAt`]).
    pub fn store_at(&self) -> crate::paths::StoreAt {
        crate::paths::StoreAt::of(&self.data_dir, self.store.as_deref())
    }

    /// The config as a TOML file would say it.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The dashboard's settings: `[web]`, `http_hosts` and `hub_urls`.
    pub fn web_settings(&self) -> crate::web::Settings {
        crate::web::Settings {
            online_within: Duration::from_secs(self.web.online_within_s),
            history_every: Duration::from_secs(self.web.history_every_s),
            hosts: self.http_hosts.clone(),
            session_idle: Duration::from_secs(self.web.session_idle_s),
            session_max: Duration::from_secs(self.web.session_max_s),
            hub_urls: self.hub_urls.clone(),
        }
    }
}

/// Builds the configuration from the layers. `env` yields all environment variables.
pub fn load(
    env: impl IntoIterator<Item = (String, String)>,
    cli: Overrides,
) -> Result<Config, ConfigError> {
    let known: Vec<String> = KNOWN_ENV
        .iter()
        .map(|k| k.to_string())
        .chain(SECTION_KEYS.iter().map(Bounded::env_name))
        .collect();
    let vars = EnvLayer::new(ENV_PREFIX, &known, IGNORED_ENV, ENV_HINT, env)?;
    let file_path = cli
        .config
        .clone()
        .or_else(|| vars.get("CONFIG").map(PathBuf::from));
    let file = match &file_path {
        Some(p) => read_file(p)?,
        None => FileConfig::default(),
    };
    let data_dir = cli
        .data_dir
        .or_else(|| vars.get("DATA_DIR").map(PathBuf::from))
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("./civreg-hub-data"));
    let key_file = cli
        .key_file
        .or_else(|| vars.get("KEY_FILE").map(PathBuf::from))
        .or(file.key_file)
        .unwrap_or_else(|| crate::atrest::default_key_path(&data_dir));
    let store = cli
        .store
        .or_else(|| vars.get("STORE").map(str::to_string))
        .or(file.store)
        .filter(|s| !s.is_empty());
    if let Some(s) = &store {
        if !crate::store::backend::postgres::is_url(s) {
            return Err(ConfigError::Store(crate::store::backend::postgres::redact(
                s,
            )));
        }
    }
    let listen = cli
        .grpc_listen
        .or_else(|| vars.get("GRPC_LISTEN").map(str::to_string))
        .or(file.grpc_listen)
        .unwrap_or_else(|| "127.0.0.1:7443".into());
    let grpc_listen = listen
        .parse()
        .map_err(|_| ConfigError::Listen(listen.clone()))?;
    let http = cli
        .http_listen
        .or_else(|| vars.get("HTTP_LISTEN").map(str::to_string))
        .or(file.http_listen)
        .unwrap_or_else(|| DEFAULT_HTTP_LISTEN.into());
    let http_listen = http
        .parse()
        .map_err(|_| ConfigError::HttpListen(http.clone()))?;
    // Comma-separated in the environment (CIVREG_HUB_HTTP_HOSTS=dash.example.org,10.0.0.5).
    let http_hosts = vars
        .list("HTTP_HOSTS")
        .or(file.http_hosts)
        .unwrap_or_default();
    // Comma-separated in the environment, as http_hosts.
    let hub_urls = vars.list("HUB_URLS").or(file.hub_urls).unwrap_or_default();
    if !hub_urls.is_empty() {
        civreg_shared::hubs::check_list(&hub_urls).map_err(ConfigError::HubUrls)?;
    }
    let log_json = cli.log_json
        || match vars.bool("LOG_JSON")? {
            Some(v) => v,
            None => file.log_json.unwrap_or(false),
        };
    // No section key has a flag: file < environment < default.
    let n = |b: Bounded, file: Option<i64>| b.resolve_u64(None, &vars, file);
    let (fs, fw) = (&file.sync, &file.web);
    let sync = SyncSettings {
        group_max_pushes: n(GROUP_MAX_PUSHES, fs.group_max_pushes)? as usize,
        group_max_ops: n(GROUP_MAX_OPS, fs.group_max_ops)? as usize,
        push_in_flight: n(PUSH_IN_FLIGHT, fs.push_in_flight)? as usize,
        keepalive_interval_s: n(KEEPALIVE_INTERVAL, fs.keepalive_interval_s)?,
        keepalive_timeout_s: n(KEEPALIVE_TIMEOUT, fs.keepalive_timeout_s)?,
        handshake_timeout_s: n(HANDSHAKE_TIMEOUT, fs.handshake_timeout_s)?,
    };
    let web = WebTunables {
        session_idle_s: n(SESSION_IDLE, fw.session_idle_s)?,
        session_max_s: n(SESSION_MAX, fw.session_max_s)?,
        online_within_s: n(ONLINE_WITHIN, fw.online_within_s)?,
        history_every_s: n(HISTORY_EVERY, fw.history_every_s)?,
    };
    if web.session_idle_s > web.session_max_s {
        return Err(ConfigError::SessionIdle {
            idle: web.session_idle_s,
            max: web.session_max_s,
        });
    }
    let search = SearchSettings {
        index_interval_ms: n(INDEX_INTERVAL, file.search.index_interval_ms)?,
    };
    Ok(Config {
        version: 1,
        data_dir,
        key_file,
        store,
        grpc_listen,
        log_json,
        http_listen,
        http_hosts,
        hub_urls,
        sync,
        web,
        search,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        std::fs::write(&f, "version = 1\ndata_dir = \"/from/file\"\ngrpc_listen = \"0.0.0.0:9000\"\nlog_json = true\n").unwrap();
        let defaults = load(env(&[]), Overrides::default()).unwrap();
        assert_eq!(defaults.grpc_listen.to_string(), "127.0.0.1:7443");
        assert!(!defaults.log_json);
        let file = load(
            env(&[]),
            Overrides {
                config: Some(f.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(file.data_dir, PathBuf::from("/from/file"));
        assert_eq!(file.grpc_listen.to_string(), "0.0.0.0:9000");
        assert!(file.log_json);
        let e = env(&[
            ("CIVREG_HUB_DATA_DIR", "/from/env"),
            ("CIVREG_HUB_LOG_JSON", "false"),
            ("OTHER", "x"),
        ]);
        let over_env = load(
            e.clone(),
            Overrides {
                config: Some(f.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(over_env.data_dir, PathBuf::from("/from/env"));
        assert!(!over_env.log_json);
        let over_cli = load(
            e,
            Overrides {
                config: Some(f),
                data_dir: Some("/from/cli".into()),
                key_file: Some("/keys/hub.key".into()),
                store: None,
                grpc_listen: Some("127.0.0.1:1".into()),
                log_json: false,
                http_listen: Some("127.0.0.1:2".into()),
            },
        )
        .unwrap();
        assert_eq!(over_cli.data_dir, PathBuf::from("/from/cli"));
        assert_eq!(over_cli.key_file, PathBuf::from("/keys/hub.key"));
        assert_eq!(over_env.key_file, PathBuf::from("/from/env/hub.key"));
        assert_eq!(over_cli.grpc_listen.to_string(), "127.0.0.1:1");
        assert_eq!(over_cli.http_listen.to_string(), "127.0.0.1:2");
        assert_eq!(defaults.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_HTTP_LISTEN", "everywhere")]),
                Overrides::default()
            ),
            Err(ConfigError::HttpListen(_))
        ));
        assert!(over_cli.to_toml().contains("data_dir = \"/from/cli\""));
    }

    /// `store` from the file, the environment or `--store`; never shown with its password; a
    /// value that is not a PostgreSQL URL refused.
    #[test]
    fn the_store_url_is_layered_shown_without_its_password_and_checked() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        std::fs::write(&f, "store = \"postgres://hub:filepw@db/civreg\"\n").unwrap();
        let file = Overrides {
            config: Some(f.clone()),
            ..Default::default()
        };
        let c = load(env(&[]), file.clone()).unwrap();
        assert_eq!(c.store.as_deref(), Some("postgres://hub:filepw@db/civreg"));
        assert_eq!(
            c.store_at(),
            crate::paths::StoreAt::Postgres("postgres://hub:filepw@db/civreg".into())
        );
        let toml = c.to_toml();
        assert!(
            toml.contains("store = \"postgres://hub:***@db/civreg\""),
            "{toml}"
        );
        assert!(!toml.contains("filepw"), "{toml}");
        let e = env(&[("CIVREG_HUB_STORE", "postgresql://hub:envpw@db2/civreg")]);
        let c = load(e.clone(), file.clone()).unwrap();
        assert_eq!(
            c.store.as_deref(),
            Some("postgresql://hub:envpw@db2/civreg")
        );
        let cli = Overrides {
            store: Some("postgres://hub:clipw@db3/civreg".into()),
            ..file
        };
        assert_eq!(
            load(e, cli).unwrap().store.as_deref(),
            Some("postgres://hub:clipw@db3/civreg")
        );
        // The default: sled under the data directory, and nothing printed.
        let c = load(env(&[("CIVREG_HUB_DATA_DIR", "/d")]), Overrides::default()).unwrap();
        assert_eq!(c.store_at(), crate::paths::StoreAt::Sled("/d/db".into()));
        assert!(!c.to_toml().contains("store"));
        let err = load(
            env(&[("CIVREG_HUB_STORE", "mysql://hub:pw@db/x")]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Store(_)), "{err:?}");
        assert!(err.to_string().contains("not a PostgreSQL URL"), "{err}");
        assert!(!err.to_string().contains(":pw@"), "{err}");
    }

    #[test]
    fn mistakes_are_named() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        std::fs::write(&f, "grpc_listn = \"x\"\n").unwrap();
        let err = load(
            env(&[]),
            Overrides {
                config: Some(f.clone()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("grpc_listn"), "{err}");
        std::fs::write(&f, "version = 2\n").unwrap();
        assert!(matches!(
            load(
                env(&[]),
                Overrides {
                    config: Some(f),
                    ..Default::default()
                }
            ),
            Err(ConfigError::Version { .. })
        ));
        assert!(matches!(
            load(env(&[("CIVREG_HUB_DATADIR", "x")]), Overrides::default()),
            Err(ConfigError::UnknownEnv(_))
        ));
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_GRPC_LISTEN", "localhost")]),
                Overrides::default()
            ),
            Err(ConfigError::Listen(_))
        ));
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_LOG_JSON", "maybe")]),
                Overrides::default()
            ),
            Err(ConfigError::Env { .. })
        ));
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_CONFIG", "/nonexistent.toml")]),
                Overrides::default()
            ),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn sections_layer_and_reach_the_settings() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        std::fs::write(
            &f,
            "[sync]\ngroup_max_ops = 2000\nkeepalive_interval_s = 7\n[web]\nsession_idle_s = 2\n[search]\nindex_interval_ms = 50\n",
        )
        .unwrap();
        let with = |pairs: &[(&str, &str)]| {
            load(
                env(pairs),
                Overrides {
                    config: Some(f.clone()),
                    ..Default::default()
                },
            )
        };
        let defaults = load(env(&[]), Overrides::default()).unwrap();
        assert_eq!(defaults.sync, SyncSettings::default());
        assert_eq!(
            defaults.sync.group_max_ops,
            crate::sync::committer::GROUP_MAX_OPS
        );
        assert_eq!(
            defaults.sync.handshake_timeout(),
            crate::sync::tls::HANDSHAKE_TIMEOUT
        );
        assert_eq!(
            defaults.web_settings().session_idle,
            crate::web::auth::SESSION_IDLE
        );
        assert_eq!(
            defaults.web_settings().online_within,
            crate::web::ONLINE_WITHIN
        );
        assert_eq!(defaults.search.index_interval(), Duration::from_millis(500));
        let file = with(&[]).unwrap();
        assert_eq!(file.sync.group_max_ops, 2000);
        assert_eq!(file.sync.keepalive_interval(), Duration::from_secs(7));
        assert_eq!(
            file.sync.group_max_pushes, 64,
            "a key the file leaves out keeps its default"
        );
        assert_eq!(file.web_settings().session_idle, Duration::from_secs(2));
        assert_eq!(file.search.index_interval(), Duration::from_millis(50));
        let over = with(&[
            ("CIVREG_HUB_SYNC_GROUP_MAX_OPS", "3000"),
            ("CIVREG_HUB_WEB_SESSION_MAX_S", "600"),
            ("CIVREG_HUB_BIN", "/read/by/the/test/harness"),
        ])
        .unwrap();
        assert_eq!(over.sync.group_max_ops, 3000);
        assert_eq!(over.web_settings().session_max, Duration::from_secs(600));
        assert_eq!(over.web_settings().session_idle, Duration::from_secs(2));
        let dump = over.to_toml();
        for line in [
            "[sync]",
            "group_max_ops = 3000",
            "[web]",
            "session_max_s = 600",
            "[search]",
            "index_interval_ms = 50",
        ] {
            assert!(dump.lines().any(|l| l == line), "{line} in\n{dump}");
        }
        // What --dump-config prints reads back as the same config.
        std::fs::write(&f, &dump).unwrap();
        assert_eq!(with(&[]).unwrap(), over);
    }

    #[test]
    fn out_of_range_and_unknown_section_keys_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        let from_file = |text: &str| {
            std::fs::write(&f, text).unwrap();
            load(
                env(&[]),
                Overrides {
                    config: Some(f.clone()),
                    ..Default::default()
                },
            )
            .unwrap_err()
            .to_string()
        };
        let zero = from_file("[sync]\ngroup_max_pushes = 0\n");
        assert!(
            zero.contains("sync.group_max_pushes = 0") && zero.contains("allowed 1 to 1024"),
            "{zero}"
        );
        let idle = from_file("[web]\nsession_idle_s = 7200\nsession_max_s = 3600\n");
        assert!(
            idle.contains("web.session_idle_s = 7200") && idle.contains("session_max_s = 3600"),
            "{idle}"
        );
        let negative = from_file("[web]\nsession_idle_s = -5\n");
        assert!(
            negative.contains("web.session_idle_s = -5")
                && negative.contains("allowed 1 to 86400 seconds"),
            "{negative}"
        );
        let unknown = from_file("[search]\nindex_intervall_ms = 5\n");
        assert!(unknown.contains("index_intervall_ms"), "{unknown}");
        let misplaced = from_file("[web]\ngroup_max_ops = 5\n");
        assert!(misplaced.contains("group_max_ops"), "{misplaced}");
        let unknown_section = from_file("[syncc]\ngroup_max_ops = 5\n");
        assert!(unknown_section.contains("syncc"), "{unknown_section}");
        let env_zero = load(
            env(&[("CIVREG_HUB_SEARCH_INDEX_INTERVAL_MS", "0")]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(matches!(env_zero, ConfigError::Range(_)), "{env_zero}");
        assert!(
            env_zero.to_string().contains("search.index_interval_ms")
                && env_zero
                    .to_string()
                    .contains("CIVREG_HUB_SEARCH_INDEX_INTERVAL_MS"),
            "{env_zero}"
        );
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_SYNC_GROUP_MAX", "5")]),
                Overrides::default()
            ),
            Err(ConfigError::UnknownEnv(_))
        ));
        assert!(matches!(
            load(
                env(&[("CIVREG_HUB_WEB_SESSION_IDLE_S", "1h")]),
                Overrides::default()
            ),
            Err(ConfigError::Env { .. })
        ));
    }

    /// `hub_urls` from the file, overridden by `CIVREG_HUB_HUB_URLS` (comma-separated); shown
    /// by `--dump-config`; a bad list refused saying which address and why; absent: empty.
    #[test]
    fn hub_urls_come_from_the_file_or_the_environment_and_a_bad_list_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hub.toml");
        std::fs::write(
            &f,
            "hub_urls = [\"https://hub-a.civreg.rks:7443\", \"https://hub-b.civreg.rks:7443\"]\n",
        )
        .unwrap();
        let from_file = || Overrides {
            config: Some(f.clone()),
            ..Default::default()
        };
        let c = load(env(&[]), from_file()).unwrap();
        assert_eq!(
            c.hub_urls,
            [
                "https://hub-a.civreg.rks:7443",
                "https://hub-b.civreg.rks:7443"
            ]
        );
        assert!(c.to_toml().contains("hub_urls = ["), "{}", c.to_toml());
        assert_eq!(c.web_settings().hub_urls, c.hub_urls);
        let c = load(
            env(&[(
                "CIVREG_HUB_HUB_URLS",
                "https://10.0.0.5:7443, https://10.0.0.6:7443",
            )]),
            from_file(),
        )
        .unwrap();
        assert_eq!(
            c.hub_urls,
            ["https://10.0.0.5:7443", "https://10.0.0.6:7443"]
        );
        assert!(load(env(&[]), Overrides::default())
            .unwrap()
            .hub_urls
            .is_empty());
        for (value, says) in [
            ("http://hub-a:7443", "must start with https://"),
            ("https://hub-a:7443,https://hub-a:7443", "listed twice"),
            ("https://hub a:7443", "host and a port only"),
        ] {
            let e = load(env(&[("CIVREG_HUB_HUB_URLS", value)]), Overrides::default()).unwrap_err();
            assert!(matches!(e, ConfigError::HubUrls(_)), "{e}");
            let e = e.to_string();
            assert!(e.starts_with("hub_urls: hub address"), "{e}");
            assert!(e.contains(says), "{value}: {e}");
        }
    }
}
