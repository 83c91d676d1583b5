//! The last step of a key rotation, for the node's key file and the hub's two (at rest, search):
//! the old key file moved aside, the new one put in its place, each step fsynced and recognised
//! as done by the files' contents, so that the step can run again after a crash at any point.
//!
//! Invariant: at every moment either the key file holds the old key and the new key file
//! exists, or the key file holds the new key; the old key is never deleted (it is kept as
//! `KEY.old-DATE` for backups made before the rotation).

use std::path::{Path, PathBuf};

/// What failed while swapping, and the I/O error. The callers word the advice (which command to
/// resume with).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct SwapError {
    pub what: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// Where the old key file goes: `KEY.old-DATE`, or `KEY.old-DATE-N` if that exists.
pub fn old_key_path(key: &Path) -> PathBuf {
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let with = |suffix: String| {
        let mut n = key.as_os_str().to_os_string();
        n.push(suffix);
        PathBuf::from(n)
    };
    let mut p = with(format!(".old-{date}"));
    let mut i = 2;
    while p.exists() {
        p = with(format!(".old-{date}-{i}"));
        i += 1;
    }
    p
}

/// The same path once both are made absolute (a relative and an absolute spelling of one file).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// fsyncs the directory holding `p` (the current directory for a bare file name), so that a
/// rename or a new file survives a crash.
pub fn sync_parent(p: &Path) -> std::io::Result<()> {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => crate::fs::sync_dir(d),
        _ => crate::fs::sync_dir(Path::new(".")),
    }
}

/// The key file `key` to `old_to`, the new one at `new` to `key`, then `new` removed. Each step
/// is skipped when the files show it done, so this may run again after a crash.
pub fn swap_files(key: &Path, new: &Path, old_to: &Path) -> Result<(), SwapError> {
    let err = |what: &'static str| move |source| SwapError { what, source };
    if !new.exists() {
        // Moved by an earlier run.
        return Ok(());
    }
    let new_text = std::fs::read(new).map_err(err("reading the new key file"))?;
    let key_text = match std::fs::read(key) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(err("reading the key file")(e)),
    };
    if key_text.as_ref().is_some_and(|t| *t != new_text) {
        if old_to.exists() {
            return Err(err("keeping the old key")(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} already exists", old_to.display()),
            )));
        }
        std::fs::rename(key, old_to).map_err(err("renaming the old key file"))?;
        sync_parent(key).map_err(err("syncing the key's directory"))?;
    }
    if key_text.as_ref() != Some(&new_text) {
        if std::fs::rename(new, key).is_err() {
            // Another file system: write a copy, then remove the new file.
            crate::fs::create_private(key, &new_text).map_err(err("writing the key file"))?;
        }
        sync_parent(key).map_err(err("syncing the key's directory"))?;
    }
    if new.exists() {
        std::fs::remove_file(new).map_err(err("removing the new key file"))?;
        sync_parent(new).map_err(err("syncing the new key's directory"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> Option<Vec<u8>> {
        std::fs::read(p).ok()
    }

    #[test]
    fn swaps_and_keeps_the_old_key() {
        let d = tempfile::tempdir().unwrap();
        let (key, new, old) = (
            d.path().join("k"),
            d.path().join("k.new"),
            d.path().join("k.old"),
        );
        std::fs::write(&key, b"old").unwrap();
        std::fs::write(&new, b"new").unwrap();
        swap_files(&key, &new, &old).unwrap();
        assert_eq!(read(&key).as_deref(), Some(&b"new"[..]));
        assert_eq!(read(&old).as_deref(), Some(&b"old"[..]));
        assert!(!new.exists());
        // Running again is a no-op.
        swap_files(&key, &new, &old).unwrap();
        assert_eq!(read(&key).as_deref(), Some(&b"new"[..]));
        assert_eq!(read(&old).as_deref(), Some(&b"old"[..]));
    }

    #[test]
    fn resumes_from_every_crash_point() {
        // After the old key was moved aside, before the new one took its place.
        let d = tempfile::tempdir().unwrap();
        let (key, new, old) = (
            d.path().join("k"),
            d.path().join("k.new"),
            d.path().join("k.old"),
        );
        std::fs::write(&old, b"old").unwrap();
        std::fs::write(&new, b"new").unwrap();
        swap_files(&key, &new, &old).unwrap();
        assert_eq!(read(&key).as_deref(), Some(&b"new"[..]));
        assert_eq!(read(&old).as_deref(), Some(&b"old"[..]));
        assert!(!new.exists());
        // After a copy across file systems, before the new file was removed.
        std::fs::write(&new, b"new").unwrap();
        swap_files(&key, &new, &old).unwrap();
        assert_eq!(read(&key).as_deref(), Some(&b"new"[..]));
        assert!(!new.exists());
    }

    #[test]
    fn never_overwrites_an_earlier_old_key() {
        let d = tempfile::tempdir().unwrap();
        let (key, new, old) = (
            d.path().join("k"),
            d.path().join("k.new"),
            d.path().join("k.old"),
        );
        std::fs::write(&key, b"old").unwrap();
        std::fs::write(&new, b"new").unwrap();
        std::fs::write(&old, b"older").unwrap();
        let e = swap_files(&key, &new, &old).unwrap_err();
        assert_eq!(e.what, "keeping the old key");
        assert_eq!(read(&key).as_deref(), Some(&b"old"[..]));
        assert_eq!(read(&old).as_deref(), Some(&b"older"[..]));
        assert_eq!(read(&new).as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn old_key_path_never_names_an_existing_file() {
        let d = tempfile::tempdir().unwrap();
        let key = d.path().join("node.key");
        let first = old_key_path(&key);
        assert!(first.to_string_lossy().contains("node.key.old-"));
        std::fs::write(&first, b"x").unwrap();
        let second = old_key_path(&key);
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with("-2"));
    }
}
