//! The hub's data at rest: the key file that seals its database, and the modes of everything
//! under its data directory.
//!
//! **Key file.** 64 hex digits (a 256-bit master key), mode 0600, made by `civreg-hub pki init`
//! (when none exists) or `civreg-hub keygen --out PATH`. The store's sealing keys are derived
//! from it ([`civreg_shared::seal`], salt `civreg-hub`). Where it is: `--key-file`, else
//! `CIVREG_HUB_KEY_FILE`, else `key_file` in the config file, else `DATA_DIR/hub.key` (the
//! pilot's default; outside the database directory, but on the data disk: in production keep
//! it on another disk, so that a copy of the data disk alone reads nothing). A missing key file
//! is an error, never a new key: a database is never opened with a key it was not sealed with
//! (the store checks the key at open, [`crate::store::HubStore::open`]).
//!
//! **Modes.** The binary runs with umask 077, so everything it creates (database, index, logs,
//! rollout, operators, PKI, status, sockets) is 0600 or 0700 whatever the caller's umask;
//! [`tighten`] makes what an older version or another tool left looser private at start.

use civreg_shared::seal::{self, Sealer};
use std::path::{Path, PathBuf};

/// The HKDF salt of the hub's keys (the node's is `civreg-node`).
pub const SIDE: &[u8] = b"civreg-hub";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0} not found: the hub database is sealed with it and can not be opened without it; restore it from where it was kept, pass --key-file (or CIVREG_HUB_KEY_FILE, or key_file in the config file), or for a new hub make one with `civreg-hub keygen --out PATH`")]
    Missing(PathBuf),
    #[error("key file {path} could not be read or written: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {0} is damaged: it must hold exactly 64 hex digits; restore it from where it was kept")]
    Malformed(PathBuf),
    #[error("key file {0} already exists: refusing to overwrite a key (that would make the database sealed with it unreadable)")]
    Exists(PathBuf),
    #[error("the system random number generator failed")]
    Rng,
}

/// The default key file of a data directory (the pilot's; see the module documentation).
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("hub.key")
}

/// The hub's keys from a master key (tests, and a temporary store).
pub fn keys_from_master(master: &[u8; 32]) -> Sealer {
    Sealer::new(SIDE, master)
}

/// Loads the key file.
pub fn load_key(path: &Path) -> Result<Sealer, KeyError> {
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
    let master =
        seal::parse_key_text(&text).ok_or_else(|| KeyError::Malformed(path.to_path_buf()))?;
    Ok(keys_from_master(&master))
}

/// Creates a new key file with mode 0600 (and its directory, 0700, if missing). Fails if one
/// already exists.
pub fn create_key(path: &Path) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let master = seal::new_master().map_err(|_| KeyError::Rng)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            create_private_dir(dir).map_err(io)?;
        }
    }
    civreg_runtime::fs::create_private(path, seal::key_text(&master).as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            io(e)
        }
    })
}

/// Makes this process create files 0600 and directories 0700, whatever umask it was started
/// with (the binary calls it first thing).
pub fn private_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and its parents) and makes `dir` itself 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes every directory under `data_dir` (itself included) 0700 and every other entry 0600
/// (owner's execute bit kept) where group or others had any access; symbolic links are left
/// alone and not followed. Returns what was changed.
pub fn tighten(data_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut todo = vec![data_dir.to_path_buf()];
        while let Some(p) = todo.pop() {
            let meta = match std::fs::symlink_metadata(&p) {
                Ok(m) => m,
                // Removed meanwhile (a temporary file of the index): nothing to tighten.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                for e in std::fs::read_dir(&p)? {
                    todo.push(e?.path());
                }
            }
            if mode & 0o077 != 0 {
                let want = if meta.is_dir() {
                    0o700
                } else {
                    0o600 | (mode & 0o100)
                };
                set_mode(&p, want)?;
                changed.push(p);
            }
        }
    }
    let _ = data_dir;
    Ok(changed)
}

/// [`tighten`], with what was changed said in the log.
pub fn tighten_logged(data_dir: &Path) -> std::io::Result<()> {
    let changed = tighten(data_dir)?;
    if !changed.is_empty() {
        let shown: Vec<String> = changed
            .iter()
            .take(10)
            .map(|p| p.display().to_string())
            .collect();
        tracing::warn!(
            data_dir = %data_dir.display(),
            count = changed.len(),
            first = %shown.join(", "),
            "files or directories under the data directory could be read by other users: made private (directories 0700, files 0600)"
        );
    }
    Ok(())
}

/// Says in the log when the key file sits inside the data directory (the pilot's default): a
/// copy of the data directory then holds both the sealed database and its key.
pub fn warn_if_key_inside(data_dir: &Path, key_file: &Path) {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if canon(key_file).starts_with(canon(data_dir)) {
        tracing::warn!(
            key_file = %key_file.display(),
            "the key file that seals the hub database is inside the data directory: a copy of that directory alone reads the database; keep the key on another disk and pass --key-file"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_not_overwritten_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys").join("hub.key");
        create_key(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(p.parent().unwrap()), 0o700);
        }
        assert!(matches!(create_key(&p), Err(KeyError::Exists(_))));
        let a = load_key(&p).unwrap();
        let sealed = a.seal("t", b"k", b"v");
        assert_eq!(
            load_key(&p).unwrap().open("t", b"k", &sealed).unwrap(),
            b"v"
        );
        std::fs::write(&p, "nothex").unwrap();
        assert!(matches!(load_key(&p), Err(KeyError::Malformed(_))));
        let missing = load_key(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, KeyError::Missing(_)));
        assert!(missing.to_string().contains("--key-file"), "{missing}");
    }

    #[cfg(unix)]
    #[test]
    fn tighten_makes_everything_private_and_says_what() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("data");
        std::fs::create_dir_all(d.join("index/sub")).unwrap();
        std::fs::write(d.join("index/sub/f"), "x").unwrap();
        std::fs::write(d.join("ok"), "x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        set_mode(&d, 0o755).unwrap();
        set_mode(&d.join("index"), 0o775).unwrap();
        set_mode(&d.join("index/sub"), 0o700).unwrap();
        set_mode(&d.join("index/sub/f"), 0o744).unwrap();
        set_mode(&d.join("ok"), 0o600).unwrap();
        let mut changed = tighten(&d).unwrap();
        changed.sort();
        assert_eq!(
            changed,
            vec![d.clone(), d.join("index"), d.join("index/sub/f")]
        );
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join("index")), 0o700);
        assert_eq!(mode(&d.join("index/sub/f")), 0o700);
        assert_eq!(mode(&d.join("ok")), 0o600);
        assert!(tighten(&d).unwrap().is_empty());
    }
}
