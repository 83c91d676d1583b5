//! Files replaced whole and durably, and files private from their first byte.
//!
//! [`write_atomic`] is the one way hub and node replace a file (a status file, the operator
//! accounts, the rollout plan, a TLS key): the bytes go to a temporary file beside it
//! (`NAME.tmp`), which is fsynced, renamed over `NAME`, and then the directory is fsynced. A
//! reader sees the old file or the new one, never a mix, and once `write_atomic` returns the new
//! file survives a power cut (without the directory's fsync the rename itself may be lost).
//!
//! One writer per path: two processes replacing the same file at once share its temporary
//! name. The callers ensure it (one `serve` per data directory, a lock for the PKI).

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Who may read a file written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Its owner only (0600): keys, accounts, anything that names a person.
    Private,
    /// Everyone may read it (0644, less what the umask removes): certificates, status files.
    Public,
}

impl Mode {
    /// The permission bits a file is created with.
    pub fn bits(self) -> u32 {
        match self {
            Mode::Private => 0o600,
            Mode::Public => 0o644,
        }
    }
}

/// Replaces `path` with `bytes` atomically and durably, as the module describes. The file has
/// `mode` whatever the file it replaces had. On an error the old file is left as it was (or,
/// when only the directory's fsync failed, the new one is in place but may not survive a crash).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    write_atomic_with(&Os, path, bytes, mode)
}

/// Creates `path` with mode 0600 (never replacing an existing file: `AlreadyExists`), writes
/// `bytes` and fsyncs it, so a key file is never readable by others, nor lost after it was
/// reported written.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    Os.write_new_synced(path, bytes, Mode::Private)
}

/// Fsyncs a directory, so that the files created, renamed or removed in it stay so after a
/// crash. A no-op where directories cannot be opened (not Unix).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    Os.sync_dir(dir)
}

/// The temporary file [`write_atomic`] writes `path` through: `NAME.tmp` beside it.
pub fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            ErrorKind::InvalidInput,
            format!("{} names no file to write", path.display()),
        )
    })?;
    let mut tmp = name.to_os_string();
    tmp.push(".tmp");
    Ok(path.with_file_name(tmp))
}

/// The file-system steps of [`write_atomic`], apart so that a test can watch or fail them.
pub(crate) trait Steps {
    fn remove_if_present(&self, path: &Path) -> std::io::Result<()>;
    /// Creates `path` (it must not exist) with `mode`, writes `bytes` and fsyncs the file.
    fn write_new_synced(&self, path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()>;
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()>;
}

/// The operating system's file system.
pub(crate) struct Os;

impl Steps for Os {
    fn remove_if_present(&self, path: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn write_new_synced(&self, path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode.bits());
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            std::fs::File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }
}

pub(crate) fn write_atomic_with(
    fs: &impl Steps,
    path: &Path,
    bytes: &[u8],
    mode: Mode,
) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A temporary file left by a crash is stale: this writer is the path's only one.
    fs.remove_if_present(&tmp)?;
    if let Err(e) = fs
        .write_new_synced(&tmp, bytes, mode)
        .and_then(|()| fs.rename(&tmp, path))
    {
        let _ = fs.remove_if_present(&tmp);
        return Err(e);
    }
    fs.sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// The OS's file system, recording each step and failing the `fail`-th one (from 0).
    struct Watched {
        steps: RefCell<Vec<String>>,
        fail: Option<usize>,
    }

    impl Watched {
        fn new(fail: Option<usize>) -> Watched {
            Watched {
                steps: RefCell::new(Vec::new()),
                fail,
            }
        }

        fn step(&self, what: String) -> std::io::Result<()> {
            let mut steps = self.steps.borrow_mut();
            steps.push(what);
            if self.fail == Some(steps.len() - 1) {
                return Err(std::io::Error::other("injected failure"));
            }
            Ok(())
        }
    }

    fn name(p: &Path) -> String {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    }

    impl Steps for Watched {
        fn remove_if_present(&self, path: &Path) -> std::io::Result<()> {
            Os.remove_if_present(path)
        }

        fn write_new_synced(&self, path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
            self.step(format!("write+fsync {}", name(path)))?;
            Os.write_new_synced(path, bytes, mode)
        }

        fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
            self.step(format!("rename {} {}", name(from), name(to)))?;
            Os.rename(from, to)
        }

        fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
            self.step(format!("fsync dir {}", name(dir)))?;
            Os.sync_dir(dir)
        }
    }

    #[test]
    fn the_file_is_synced_then_renamed_then_its_directory_synced() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("rollout.json");
        let fs = Watched::new(None);
        write_atomic_with(&fs, &path, b"{}", Mode::Public).unwrap();
        assert_eq!(
            fs.steps.into_inner(),
            [
                "write+fsync rollout.json.tmp",
                "rename rollout.json.tmp rollout.json",
                "fsync dir data",
            ]
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert!(!dir.join("rollout.json.tmp").exists());
    }

    #[test]
    fn a_failed_step_leaves_the_old_file_whole_and_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("operators.json");
        for fail in 0..3 {
            std::fs::write(&path, b"old").unwrap();
            let fs = Watched::new(Some(fail));
            let e = write_atomic_with(&fs, &path, b"new", Mode::Private).unwrap_err();
            assert_eq!(e.to_string(), "injected failure");
            let now = std::fs::read(&path).unwrap();
            if fail < 2 {
                assert_eq!(now, b"old", "failing step {fail}");
            } else {
                // Only the directory's fsync failed: the new file is in place, and the caller
                // was told it may not be durable.
                assert_eq!(now, b"new", "failing step {fail}");
            }
            assert!(!d.path().join("operators.json.tmp").exists());
        }
    }

    #[test]
    fn a_stale_temporary_file_does_not_stop_the_write() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("status.json");
        std::fs::write(d.path().join("status.json.tmp"), b"half").unwrap();
        write_atomic(&path, b"whole", Mode::Public).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
    }

    #[test]
    fn a_reader_never_sees_a_partial_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("big.json");
        const LEN: usize = 256 * 1024;
        write_atomic(&path, &[b'a'; LEN], Mode::Public).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let b = std::fs::read(&path).expect("the file is always there");
                    assert_eq!(b.len(), LEN, "a partial file was seen");
                    assert!(b.iter().all(|&c| c == b[0]), "a mixed file was seen");
                    reads += 1;
                }
                reads
            });
            for i in 0..60 {
                let c = if i % 2 == 0 { b'b' } else { b'a' };
                write_atomic(&path, &[c; LEN], Mode::Public).unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(reader.join().unwrap() > 0);
        });
    }

    #[cfg(unix)]
    #[test]
    fn a_private_file_stays_private_even_over_a_public_one() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("key.pem");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"secret", Mode::Private).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        write_atomic(&path, b"secret 2", Mode::Private).unwrap();
        assert_eq!(mode(&path), 0o600);
        let public = d.path().join("cert.pem");
        write_atomic(&public, b"cert", Mode::Public).unwrap();
        assert_eq!(mode(&public) & 0o600, 0o600);
        assert_eq!(
            mode(&public) & 0o133,
            0,
            "never executable nor writable by others"
        );
        // create_private never replaces a file.
        let e = create_private(&path, b"x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        create_private(&d.path().join("new.key"), b"k").unwrap();
        assert_eq!(mode(&d.path().join("new.key")), 0o600);
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error_not_a_panic() {
        let e = write_atomic(Path::new("/"), b"x", Mode::Public).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
