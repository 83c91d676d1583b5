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

/// What `civreg-hub status` reads while the hub runs (rewritten every two seconds).
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("status.json")
}
