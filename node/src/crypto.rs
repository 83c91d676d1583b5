//! At-rest encryption for the node's database: its key file. The sealing itself is shared with
//! the hub ([`civreg_shared::seal`]).
//!
//! One 256-bit master key lives in a key file (hex, mode 0600) created by `init`. Two subkeys are
//! derived from it with HKDF-SHA256: one for ChaCha20-Poly1305 (every stored record and op), one
//! for HMAC-SHA256 blind-index tokens (lookups on values that must not be stored in clear).
//! Each sealed value is `nonce (12 random bytes) || ciphertext || tag`, with the tree name and key
//! as associated data, so a value moved to another key or tree fails to open.

use civreg_shared::seal::Sealer;
use std::path::{Path, PathBuf};

pub use civreg_shared::seal::OpenError;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0} not found: this node's data can not be read without it; restore it from the backup made at init, or pass --key-file")]
    Missing(PathBuf),
    #[error("key file {path} could not be read or written")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {0} is damaged: it must hold exactly 64 hex digits")]
    Malformed(PathBuf),
    #[error("key file {0} already exists: refusing to overwrite a key (that would make its data unreadable)")]
    Exists(PathBuf),
    #[error("the system random number generator failed")]
    Rng,
}

/// The node's keys, derived from the key file: the shared [`Sealer`] with the node's salt.
#[derive(Debug)]
pub struct Crypto(Sealer);

impl std::ops::Deref for Crypto {
    type Target = Sealer;
    fn deref(&self) -> &Sealer {
        &self.0
    }
}

/// Creates a new key file with mode 0600. Fails if one already exists.
pub fn create_key_file(path: &Path) -> Result<(), KeyError> {
    let key = civreg_shared::seal::new_master().map_err(|_| KeyError::Rng)?;
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    civreg_runtime::fs::create_private(path, civreg_shared::seal::key_text(&key).as_bytes())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(path.to_path_buf())
            } else {
                io(e)
            }
        })
}

impl Crypto {
    /// Loads the key file.
    pub fn load(path: &Path) -> Result<Crypto, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                KeyError::Missing(path.to_path_buf())
            } else {
                KeyError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
        let master = civreg_shared::seal::parse_key_text(&text)
            .ok_or_else(|| KeyError::Malformed(path.to_path_buf()))?;
        Ok(Crypto::from_master(&master))
    }

    pub fn from_master(master: &[u8; 32]) -> Crypto {
        Crypto(Sealer::new(b"civreg-node", master))
    }
}

/// The default key file location for a data dir.
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("node.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nodes_keys_are_the_shared_sealer_with_the_nodes_salt() {
        let node = Crypto::from_master(&[7; 32]);
        let shared = Sealer::new(b"civreg-node", &[7; 32]);
        let s = node.seal("records", b"k1", b"Arben Gashi");
        assert_eq!(shared.open("records", b"k1", &s).unwrap(), b"Arben Gashi");
        assert_eq!(node.blind("jmbg", "1"), shared.blind("jmbg", "1"));
    }

    #[test]
    fn key_file_is_private_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.key");
        create_key_file(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(matches!(create_key_file(&p), Err(KeyError::Exists(_))));
        assert!(Crypto::load(&p).is_ok());
        std::fs::write(&p, "nothex").unwrap();
        assert!(matches!(Crypto::load(&p), Err(KeyError::Malformed(_))));
        assert!(matches!(
            Crypto::load(&dir.path().join("nope")),
            Err(KeyError::Missing(_))
        ));
    }
}
