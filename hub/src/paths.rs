//! The layout of the hub's data directory: where each part lives under `DATA_DIR`.

use std::path::{Path, PathBuf};

/// The agency PKI: CA certificates, the hub's certificate and key, the CRL, signers.
pub fn pki_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("pki")
}

/// The hub's database (sled).
pub fn db_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("db")
}

/// Where the hub's store is: sled under the data directory (the default), or the PostgreSQL
/// database of the configured `store` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAt {
    Sled(PathBuf),
    Postgres(String),
}

impl StoreAt {
    /// The store a hub with this data directory and `store` setting (`--store`,
    /// `CIVREG_HUB_STORE`, `store` in the config file) opens.
    pub fn of(data_dir: &Path, configured: Option<&str>) -> StoreAt {
        match configured {
            Some(url) => StoreAt::Postgres(url.to_string()),
            None => StoreAt::Sled(db_dir(data_dir)),
        }
    }

    /// For messages: the path, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            StoreAt::Sled(p) => p.display().to_string(),
            StoreAt::Postgres(url) => crate::store::backend::postgres::redact(url),
        }
    }
}

/// What `civreg-hub status` reads while the hub runs (rewritten every two seconds).
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("status.json")
}
