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
//! grpc_listen = "127.0.0.1:7443"   # where nodes connect (mutual TLS only)
//! http_listen = "127.0.0.1:8080"   # the operator dashboard and /metrics (plain HTTP: loopback)
//! http_hosts = []                  # names the dashboard answers to besides loopback (proxy)
//! log_json = false                 # JSON log lines for operators
//! ```

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "CIVREG_HUB_";
const KNOWN_ENV: &[&str] = &[
    "CONFIG",
    "DATA_DIR",
    "GRPC_LISTEN",
    "HTTP_LISTEN",
    "HTTP_HOSTS",
    "KEY_FILE",
    "LOG_JSON",
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
    #[error("unknown environment variable {0}: the hub reads CIVREG_HUB_CONFIG, CIVREG_HUB_DATA_DIR, CIVREG_HUB_GRPC_LISTEN, CIVREG_HUB_HTTP_LISTEN, CIVREG_HUB_KEY_FILE and CIVREG_HUB_LOG_JSON")]
    UnknownEnv(String),
    #[error("grpc_listen {0:?} is not an address: use HOST:PORT with an IP address, e.g. 127.0.0.1:7443 or 0.0.0.0:7443")]
    Listen(String),
    #[error("http_listen {0:?} is not an address: use HOST:PORT with an IP address, e.g. 127.0.0.1:8080")]
    HttpListen(String),
}

/// What a config file may say. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    version: Option<u32>,
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    grpc_listen: Option<String>,
    http_listen: Option<String>,
    http_hosts: Option<Vec<String>>,
    log_json: Option<bool>,
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    /// The key file that seals the database (`--key-file`).
    pub key_file: Option<PathBuf>,
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
    pub grpc_listen: SocketAddr,
    pub log_json: bool,
    /// The operator dashboard and `/metrics` (plain HTTP; keep it on loopback).
    pub http_listen: SocketAddr,
    /// Host names the dashboard answers to besides loopback and its own address (the name a
    /// reverse proxy forwards); any other `Host` is refused (DNS rebinding).
    pub http_hosts: Vec<String>,
}

impl Config {
    /// The config as a TOML file would say it.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            name: name.into(),
            value: v.into(),
            why: "use true or false".into(),
        }),
    }
}

/// Builds the configuration from the layers. `env` yields all environment variables.
pub fn load(
    env: impl IntoIterator<Item = (String, String)>,
    cli: Overrides,
) -> Result<Config, ConfigError> {
    let mut vars = std::collections::BTreeMap::new();
    for (k, v) in env {
        if let Some(rest) = k.strip_prefix(ENV_PREFIX) {
            if !KNOWN_ENV.contains(&rest) {
                return Err(ConfigError::UnknownEnv(k));
            }
            vars.insert(rest.to_string(), v);
        }
    }
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
    let listen = cli
        .grpc_listen
        .or_else(|| vars.get("GRPC_LISTEN").cloned())
        .or(file.grpc_listen)
        .unwrap_or_else(|| "127.0.0.1:7443".into());
    let grpc_listen = listen
        .parse()
        .map_err(|_| ConfigError::Listen(listen.clone()))?;
    let http = cli
        .http_listen
        .or_else(|| vars.get("HTTP_LISTEN").cloned())
        .or(file.http_listen)
        .unwrap_or_else(|| DEFAULT_HTTP_LISTEN.into());
    let http_listen = http
        .parse()
        .map_err(|_| ConfigError::HttpListen(http.clone()))?;
    // Comma-separated in the environment (CIVREG_HUB_HTTP_HOSTS=dash.example.org,10.0.0.5).
    let http_hosts = vars
        .get("HTTP_HOSTS")
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .or(file.http_hosts)
        .unwrap_or_default();
    let log_json = cli.log_json
        || match vars.get("LOG_JSON") {
            Some(v) => parse_bool("CIVREG_HUB_LOG_JSON", v)?,
            None => file.log_json.unwrap_or(false),
        };
    Ok(Config {
        version: 1,
        data_dir,
        key_file,
        grpc_listen,
        log_json,
        http_listen,
        http_hosts,
    })
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let f: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
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
}
