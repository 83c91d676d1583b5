//! The hub's access log: every search and every record view, append-only, in
//! `DATA_DIR/access.log` (JSON lines, flushed per entry). It answers "who looked at this record?"
//! for a data-protection officer (`civreg-hub access-log`). It never holds a personal number in
//! plain text: every personal number in a query, in any typed form ([`civreg_shared::redact`]),
//! is replaced by the first characters of its blind token before the entry is written, and the
//! clerk a node names is cleaned and cut the same way ([`peer_name`]).

use crate::search::Blinder;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at_ms: u64,
    /// Who asked: `node M/ID` or `operator NAME` (from the TLS certificate), or `operator:NAME`
    /// for a command run at the hub (CIVREG_OPERATOR).
    pub by: String,
    /// The clerk a node named, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub clerk: String,
    /// `search`, `view`, or `verify` (the public certificate page, `by` = `public verification`).
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// Registration numbers returned or opened.
    pub records: Vec<String>,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("access.log")
}

/// Replaces every personal number in a query, however it was typed (see
/// [`civreg_shared::redact`]), by a mark of its blind token (`civreg_shared::redact::mark`:
/// `pn:` and eight letters): the same number gives the same mark, the number can not be read
/// back, and no digit of it can appear by chance.
pub fn redact(query: &str, blinder: &Blinder) -> String {
    civreg_shared::redact::redact_with(query, |n| {
        let token = blinder.token(n);
        match hex::decode(&token) {
            Ok(bytes) => civreg_shared::redact::mark(&bytes),
            Err(_) => civreg_shared::redact::mark(token.as_bytes()),
        }
    })
}

/// A name a peer supplied (a node's `clerk`), fit for a log: no personal number, no control
/// characters, at most `limits::MAX_LOGGED_NAME_CHARS` characters.
pub fn peer_name(name: &str) -> String {
    civreg_shared::redact::for_log(name, civreg_shared::limits::MAX_LOGGED_NAME_CHARS)
}

/// The log, opened for appending.
pub struct AccessLog {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl AccessLog {
    pub fn open(data_dir: &Path) -> std::io::Result<AccessLog> {
        use std::os::unix::fs::OpenOptionsExt;
        let p = path(data_dir);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&p)?;
        Ok(AccessLog {
            path: p,
            file: Mutex::new(file),
        })
    }

    pub fn append(&self, e: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(e).expect("entry serialises");
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)?;
        f.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A filter for [`read`].
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub record: Option<String>,
    /// A substring of the identity or the clerk.
    pub by: Option<String>,
    pub since_ms: Option<u64>,
}

/// The entries that pass the filter, oldest first. A damaged line is reported, not skipped.
pub fn read(data_dir: &Path, f: &Filter) -> Result<Vec<Entry>, String> {
    let p = path(data_dir);
    let file = match std::fs::File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", p.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: Entry = serde_json::from_str(&line).map_err(|e| {
            format!(
                "{} line {}: {e}: the log is damaged there",
                p.display(),
                n + 1
            )
        })?;
        let keep = f
            .record
            .as_ref()
            .is_none_or(|r| e.records.iter().any(|x| x == r))
            && f.by
                .as_ref()
                .is_none_or(|b| e.by.contains(b.as_str()) || e.clerk.contains(b.as_str()))
            && f.since_ms.is_none_or(|s| e.at_ms >= s);
        if keep {
            out.push(e);
        }
    }
    Ok(out)
}

pub use civreg_runtime::clock::now_ms;
