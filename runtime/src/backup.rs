//! Reading a backup's manifest (`DIR/manifest.json`), for hub and node alike. The format and
//! its check are `civreg_shared::snapshot`'s ([`check_manifest`]); this reads the file, bounded.

use civreg_shared::seal::Sealer;
use civreg_shared::snapshot::{check_manifest, Manifest, ManifestError};
use std::io::Read;
use std::path::Path;

/// Why a backup's manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadManifestError {
    /// No readable `manifest.json`: the directory is not a backup.
    #[error("no readable manifest.json")]
    NotABackup,
    #[error(transparent)]
    Refused(#[from] ManifestError),
}

/// Reads `dir/manifest.json` (at most `max` bytes) and checks it as [`check_manifest`] does.
pub fn read_manifest<M: Manifest + serde::de::DeserializeOwned>(
    dir: &Path,
    max: u64,
    program: &str,
    format: u32,
    sealer: &Sealer,
) -> Result<M, ReadManifestError> {
    let mut text = Vec::new();
    std::fs::File::open(dir.join("manifest.json"))
        .and_then(|f| f.take(max).read_to_end(&mut text))
        .map_err(|_| ReadManifestError::NotABackup)?;
    Ok(check_manifest(&text, program, format, sealer)?)
}
