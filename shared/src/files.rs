//! Files that must be private and durable from their first byte (key files). std only.

use std::io::Write;
use std::path::Path;

/// Creates `path` with mode 0600 (never replacing an existing file: `AlreadyExists`), writes
/// `bytes` and fsyncs it, so a key file is never readable by others, nor lost after it was
/// reported written.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
