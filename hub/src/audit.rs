//! The operators' audit trails, kept in the hub's store so that every hub over one database
//! writes to and lists the same trails (issue 19 part 2): the rollout log (every stage change,
//! [`crate::rollout`]) and the operator actions log (sign-ins, decisions, certificates,
//! [`crate::operators::log_action`]).
//!
//! A trail is append-only: each entry is one JSON object under the `aux` key
//! `audit/TRAIL/TIME/SUFFIX` ([`crate::store::aux::AUDIT`]), `TIME` its `at_ms` in 20 digits
//! and `SUFFIX` 16 random hex digits, so keys sort by time and two hubs appending in the same
//! millisecond never write the same key (a blind put, no compare-and-set needed); entries of
//! one millisecond are listed in no particular order. An entry is
//! never changed or removed. Reads are pages of at most [`MAX_PAGE`] entries, oldest first,
//! from a time or after a cursor (the key of the last entry read), so a trail of any length is
//! read in bounded memory.
//!
//! Earlier versions appended to `DATA_DIR/rollout.log` and `DATA_DIR/operator-actions.log`;
//! [`import_files`] takes each into the store once (line by line, in batches) and renames it
//! `*.imported`. An imported line's suffix is its place in the file and a hash of the line,
//! so an import cut short and run again, or the same file copied to a second hub's directory,
//! adds no entry twice.

use crate::store::{aux, HubStore, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// The most entries one read returns.
pub const MAX_PAGE: usize = 1_000;
/// The longest line of an earlier version's log file that is imported whole; longer lines are
/// cut to this many bytes (a line the hub wrote is far shorter).
pub const MAX_IMPORTED_LINE: usize = 64 * 1024;
/// Entries written to the store in one batch by [`import_files`].
const IMPORT_BATCH: usize = 500;

/// One audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Trail {
    /// Rollout stage changes (was `rollout.log`).
    Rollout,
    /// What operators did on the dashboard and through commands (was `operator-actions.log`).
    Actions,
}

impl Trail {
    fn name(self) -> &'static str {
        match self {
            Trail::Rollout => "rollout",
            Trail::Actions => "actions",
        }
    }

    /// The file an earlier version appended this trail to, in the data directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Trail::Rollout => "rollout.log",
            Trail::Actions => "operator-actions.log",
        }
    }

    fn prefix(self) -> String {
        format!("{}{}/", aux::AUDIT, self.name())
    }

    fn key(self, rest: &str) -> Vec<u8> {
        aux::aux_key(aux::AUDIT, &format!("{}/{rest}", self.name()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("entry {key} of the {trail} audit trail in the hub's store can not be read ({why}): restore the store from a backup")]
    Damaged {
        trail: &'static str,
        key: String,
        why: String,
    },
    #[error("{0:?} is not a cursor of an audit trail: give the `next` an earlier listing printed")]
    BadCursor(String),
    #[error(
        "the system random number generator failed; check the operating system's entropy source"
    )]
    Random,
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// One page of a trail: its entries, oldest first, and the cursor of the next page (`None`:
/// the trail has no more entries now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub entries: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn time_part(at_ms: u64) -> String {
    format!("{at_ms:020}")
}

/// Appends `entry` (a JSON object with `at_ms`, the time it is kept under; now when absent)
/// to `trail` in `store`, flushed before it returns.
pub fn append(store: &HubStore, trail: Trail, entry: &serde_json::Value) -> Result<(), AuditError> {
    let at_ms = entry
        .get("at_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(civreg_runtime::clock::now_ms);
    let mut suffix = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix)
        .map_err(|_| AuditError::Random)?;
    let key = trail.key(&format!("{}/{}", time_part(at_ms), hex::encode(suffix)));
    let value = serde_json::to_vec(entry).expect("a JSON value serialises");
    store.aux_write(&[(key, Some(value))])?;
    Ok(())
}

fn check_cursor(c: &str) -> Result<(), AuditError> {
    let ok = !c.is_empty()
        && c.len() <= 64
        && c.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'/');
    if ok {
        Ok(())
    } else {
        Err(AuditError::BadCursor(c.chars().take(80).collect()))
    }
}

/// Up to `limit` entries of `trail` (at most [`MAX_PAGE`], at least 1), oldest first: those
/// after the cursor `after` when given, else those at or after `since_ms`, else from the
/// first.
pub fn read(
    store: &HubStore,
    trail: Trail,
    since_ms: Option<u64>,
    after: Option<&str>,
    limit: usize,
) -> Result<Page, AuditError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let prefix = trail.prefix();
    let from = match (after, since_ms) {
        (Some(c), _) => {
            check_cursor(c)?;
            Some(trail.key(c))
        }
        // Every key of that millisecond sorts after its time part alone.
        (None, Some(ms)) => Some(trail.key(&time_part(ms))),
        (None, None) => None,
    };
    let mut entries = Vec::new();
    let mut last = None;
    let mut more = false;
    for kv in store.aux_scan_after(prefix.as_bytes(), from.as_deref()) {
        let (k, v) = kv?;
        if entries.len() == limit {
            more = true;
            break;
        }
        let key = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        let entry = serde_json::from_slice(&v).map_err(|e| AuditError::Damaged {
            trail: trail.name(),
            key: key.clone(),
            why: e.to_string(),
        })?;
        entries.push(entry);
        last = Some(key);
    }
    Ok(Page {
        entries,
        next: if more { last } else { None },
    })
}

/// Takes the trail files an earlier version kept in `data_dir` (`rollout.log`,
/// `operator-actions.log`) into `store`, once each, and renames each `*.imported`. Returns how
/// many lines were taken in. Run by `serve` at start and by a command that opens the store
/// itself ([`crate::control::ask::import_files`]).
pub fn import_files(data_dir: &Path, store: &HubStore) -> Result<usize, AuditError> {
    let mut n = 0;
    for trail in [Trail::Rollout, Trail::Actions] {
        n += import_file(data_dir, store, trail)?;
    }
    Ok(n)
}

fn import_file(data_dir: &Path, store: &HubStore, trail: Trail) -> Result<usize, AuditError> {
    let p: PathBuf = data_dir.join(trail.file_name());
    let io = |source| AuditError::Io {
        path: p.display().to_string(),
        source,
    };
    let file = match std::fs::File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(e)),
    };
    let mut reader = std::io::BufReader::new(file);
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let (mut index, mut last_ms, mut taken) = (0u64, 0u64, 0usize);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_IMPORTED_LINE as u64)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && read == MAX_IMPORTED_LINE {
            // The rest of an overlong line is left out.
            let mut rest = Vec::new();
            reader.read_until(b'\n', &mut rest).map_err(io)?;
        }
        let text = String::from_utf8_lossy(&line).trim().to_string();
        index += 1;
        if text.is_empty() {
            continue;
        }
        let entry = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            // Kept as text, at the time of the line before, so the order stays.
            _ => serde_json::json!({"at_ms": last_ms, "unparsed_line": text}),
        };
        let at_ms = entry
            .get("at_ms")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(last_ms);
        last_ms = at_ms;
        let digest =
            ring::digest::digest(&ring::digest::SHA256, format!("{index}\n{text}").as_bytes());
        // The line's place first, so that lines of one millisecond keep their order.
        let suffix = format!("{index:012}{}", hex::encode(&digest.as_ref()[..4]));
        batch.push((
            trail.key(&format!("{}/{suffix}", time_part(at_ms))),
            Some(serde_json::to_vec(&entry).expect("a JSON value serialises")),
        ));
        taken += 1;
        if batch.len() == IMPORT_BATCH {
            store.aux_write(&batch)?;
            batch.clear();
        }
    }
    store.aux_write(&batch)?;
    let to = data_dir.join(format!("{}.imported", trail.file_name()));
    std::fs::rename(&p, &to).map_err(io)?;
    tracing::info!(
        from = %p.display(),
        kept_as = %to.display(),
        lines = taken,
        "audit trail imported into the hub's store; the file is no longer written or read"
    );
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Two hubs over one database append to one trail at the same moment, in the same
    /// millisecond: none overwrites the other, each lists every entry, in time order, in
    /// bounded pages.
    #[test]
    fn two_hubs_append_to_one_trail_and_list_it_in_pages() {
        let db = crate::store::tests_concurrent::Shared::postgres();
        let (a, b) = (db.store(), db.store());
        std::thread::scope(|s| {
            for (hub, name) in [(&a, "a"), (&b, "b")] {
                s.spawn(move || {
                    for i in 0..20u64 {
                        let e = json!({"at_ms": 1_000 + i / 4, "operator": name, "i": i});
                        append(hub, Trail::Actions, &e).unwrap();
                    }
                });
            }
        });
        append(
            &a,
            Trail::Rollout,
            &json!({"at_ms": 5, "operator": "vjosa"}),
        )
        .unwrap();
        let all = read(&b, Trail::Actions, None, None, MAX_PAGE).unwrap();
        assert_eq!(all.entries.len(), 40, "no entry overwrote another");
        assert_eq!(all.next, None);
        let times: Vec<u64> = all
            .entries
            .iter()
            .map(|e| e["at_ms"].as_u64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        for name in ["a", "b"] {
            assert_eq!(
                all.entries.iter().filter(|e| e["operator"] == name).count(),
                20
            );
        }
        // Pages of 7: the same entries, each once.
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = read(&a, Trail::Actions, None, after.as_deref(), 7).unwrap();
            assert!(p.entries.len() <= 7);
            paged.extend(p.entries);
            match p.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(paged, all.entries);
        // From a time: that millisecond's entries included.
        let since = read(&a, Trail::Actions, Some(1_004), None, MAX_PAGE).unwrap();
        assert_eq!(since.entries.len(), 8);
        assert!(since
            .entries
            .iter()
            .all(|e| e["at_ms"].as_u64() >= Some(1_004)));
        // The trails are apart.
        let r = read(&b, Trail::Rollout, None, None, 10).unwrap();
        assert_eq!(r.entries, vec![json!({"at_ms": 5, "operator": "vjosa"})]);
        assert!(matches!(
            read(&a, Trail::Actions, None, Some("../x"), 5),
            Err(AuditError::BadCursor(_))
        ));
    }

    /// An earlier version's files are taken in once; the same file in a second hub's
    /// directory (a copy of the first's) adds nothing twice; a damaged line is kept as text.
    #[test]
    fn the_files_of_an_earlier_version_are_imported_once() {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let store = HubStore::open_temporary().unwrap();
        assert_eq!(
            import_files(d1.path(), &store).unwrap(),
            0,
            "no files, nothing"
        );
        let rollout = "{\"at_ms\":10,\"operator\":\"vjosa\",\"to\":\"live\"}\n\
                       {\"at_ms\":20,\"operator\":\"besa\",\"to\":\"suspended\"}\n";
        let long = "x".repeat(MAX_IMPORTED_LINE + 10);
        let actions = format!(
            "{{\"at_ms\":7,\"operator\":\"vjosa\",\"action\":\"login\",\"ok\":true}}\nnot json\n{long}\n{{\"at_ms\":9,\"operator\":\"vjosa\",\"action\":\"logout\",\"ok\":true}}\n"
        );
        for d in [&d1, &d2] {
            std::fs::write(d.path().join("rollout.log"), rollout).unwrap();
            std::fs::write(d.path().join("operator-actions.log"), &actions).unwrap();
        }
        assert_eq!(import_files(d1.path(), &store).unwrap(), 6);
        assert!(!d1.path().join("rollout.log").exists());
        assert!(d1.path().join("rollout.log.imported").exists());
        assert!(d1.path().join("operator-actions.log.imported").exists());
        assert_eq!(import_files(d2.path(), &store).unwrap(), 6);
        let r = read(&store, Trail::Rollout, None, None, MAX_PAGE).unwrap();
        assert_eq!(r.entries.len(), 2, "the copy added nothing twice");
        assert_eq!(r.entries[1]["operator"], "besa");
        let a = read(&store, Trail::Actions, None, None, MAX_PAGE).unwrap();
        assert_eq!(a.entries.len(), 4, "{:?}", a.entries);
        assert_eq!(a.entries[0]["action"], "login");
        assert_eq!(a.entries[1]["unparsed_line"], "not json");
        assert_eq!(a.entries[1]["at_ms"], 7, "kept in its place");
        assert!(
            a.entries[2]["unparsed_line"].as_str().unwrap().len() <= MAX_IMPORTED_LINE,
            "an overlong line is cut"
        );
        assert_eq!(a.entries[3]["action"], "logout");
    }
}
