//! Bulk import of historic register pages from CSV.
//!
//! Columns: `kind` (birth, marriage or death) and then the record's field paths as headers, e.g.
//! `child.given_name`, `mother.maiden_surname`, `register.page` (README, "Bulk import"). Empty
//! cells are absent fields. Rows are validated like any registration; a rejected row is reported
//! with its line number and every reason, never dropped silently. Accepted rows are committed in
//! groups with one flush per group. A register entry (book, year, page, entry) already imported
//! or named by an earlier row of the file, and a row already imported by an earlier run, are
//! skipped, so a rerun imports nothing twice. A row identical to an earlier row of the file,
//! neither naming a register entry, is imported and reported as a suspected double entry.

use crate::node::{Checked, Clerk, Node, NodeError, Tx};
use crate::store::Tree;

use civreg_shared::model::{Record, RecordKind};
use serde::Serialize;
use std::io::Read;

/// Rows committed per flush.
pub const GROUP: usize = 512;

#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub line: u64,
    pub regno: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

use civreg_shared::csvrows::{row_to_doc, HeaderError, Seen, SeenRows};
pub use civreg_shared::csvrows::{DoubleEntry, Rejected, Skipped};

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub accepted: Vec<Accepted>,
    pub skipped: Vec<Skipped>,
    pub rejected: Vec<Rejected>,
    /// Rows identical to an earlier row of the file, neither naming a register entry:
    /// imported, and listed here for the clerk to check.
    pub double_entries: Vec<DoubleEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("the CSV file could not be read: {0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Node(#[from] NodeError),
}

/// A row that parsed and validated, ready to be written.
struct Row {
    line: u64,
    key: Vec<u8>,
    /// The key is the row's content (it names no register entry).
    by_content: bool,
    checked: Checked,
}

/// What the parsing thread hands to the writing thread.
struct Parsed {
    rows: Vec<Row>,
    rejected: Vec<Rejected>,
    /// Rows read from the file so far.
    read: u64,
}

/// The dedup keys of a row: its register entry if it names one, else its whole content.
fn import_key(node: &Node, kind: RecordKind, record: &Record) -> Vec<u8> {
    let crypto = node.crypto();
    let token = match record.register() {
        Some(r) => crypto.blind(
            "import-register",
            &format!(
                "{kind}|{}|{}|{}|{}",
                r.book.trim().to_lowercase(),
                r.year,
                r.page,
                r.entry
            ),
        ),
        None => crypto.blind("import-content", &format!("{kind}|{}", record.to_json())),
    };
    token.to_vec()
}

fn describe_error(e: NodeError) -> Vec<String> {
    match e {
        NodeError::Invalid(report) => report
            .errors()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect(),
        other => vec![other.to_string()],
    }
}

fn commit_group(
    node: &Node,
    clerk: &Clerk,
    group: Vec<Row>,
    seen: &mut SeenRows,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let mut local = ImportReport::default();
    node.write(|tx: &mut Tx<'_>| {
        for mut row in group {
            // Looked up before the store: a row identical to an earlier one (no register
            // reference) is keyed by its occurrence, so that a rerun finds it too.
            let same_as = match seen.see(&row.key, row.by_content, row.line) {
                Seen::RepeatedEntry => {
                    local.skipped.push(Skipped {
                        line: row.line,
                        regno: String::new(),
                        reason: "same register entry as an earlier row of this file".into(),
                    });
                    continue;
                }
                Seen::First(_) => None,
                Seen::Double { key, same_as_line } => {
                    row.key = key;
                    Some(same_as_line)
                }
            };
            if let Some(regno) = node.store().get(Tree::Imports, &row.key)? {
                local.skipped.push(Skipped {
                    line: row.line,
                    regno: String::from_utf8_lossy(&regno).into_owned(),
                    reason: "already imported".into(),
                });
                continue;
            }
            match tx.create_checked(clerk, row.checked) {
                Ok(saved) => {
                    tx.batch()
                        .put(Tree::Imports, row.key, saved.regno.clone().into_bytes());
                    let mut warnings: Vec<String> = saved
                        .warnings
                        .iter()
                        .map(|p| format!("{}: {}", p.field, p.message))
                        .collect();
                    if let Some(first) = same_as {
                        warnings.push(format!(
                            "suspected double entry: identical to line {first} and no register reference; imported, check the register page"
                        ));
                        local.double_entries.push(DoubleEntry {
                            line: row.line,
                            regno: saved.regno.clone(),
                            same_as_line: first,
                        });
                    }
                    local.accepted.push(Accepted {
                        line: row.line,
                        regno: saved.regno,
                        warnings,
                    });
                }
                Err(e) => local.rejected.push(Rejected {
                    line: row.line,
                    reasons: describe_error(e),
                }),
            }
        }
        Ok(())
    })?;
    report.accepted.append(&mut local.accepted);
    report.skipped.append(&mut local.skipped);
    report.rejected.append(&mut local.rejected);
    report.double_entries.append(&mut local.double_entries);
    Ok(())
}

/// Parses, validates and keys one row (the part of the work that needs no lock).
fn check_row(
    node: &Node,
    line: u64,
    kind: RecordKind,
    doc: serde_json::Value,
) -> Result<Row, Rejected> {
    let reject = |e: NodeError| Rejected {
        line,
        reasons: describe_error(e),
    };
    let record = node.prepare(kind, doc).map_err(reject)?;
    // The dedup key is computed from the record as it will be stored.
    let key = import_key(node, kind, &record);
    let by_content = record.register().is_none();
    let checked = Checked::new(record).map_err(reject)?;
    Ok(Row {
        line,
        key,
        by_content,
        checked,
    })
}

/// Imports a CSV stream. `progress` is called with the number of rows read so far.
pub fn import_csv<R: Read + Send>(
    node: &Node,
    clerk: &Clerk,
    input: R,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    // Delimiter, byte-order mark, line ends and header case as people's files have them.
    let mut rdr = civreg_shared::csvrows::reader(input).map_err(csv::Error::from)?;
    let header =
        civreg_shared::csvrows::header(rdr.headers().map_err(|_| HeaderError::NoHeader)?.iter())?;
    let mut report = ImportReport::default();
    let mut seen = SeenRows::default();
    // One thread reads, parses and validates rows; this one writes them, a group per flush.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Parsed, ImportError>>(2);
    std::thread::scope(|scope| -> Result<(), ImportError> {
        scope.spawn(move || {
            let mut rec = csv::StringRecord::new();
            let mut batch = Parsed {
                rows: Vec::with_capacity(GROUP),
                rejected: Vec::new(),
                read: 0,
            };
            loop {
                let line = rdr.position().line() + 1;
                match rdr.read_record(&mut rec) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = rec.position().map(|p| p.line()).unwrap_or(line);
                        batch.read += 1;
                        match row_to_doc(&header, &rec) {
                            Ok((kind, doc)) => match check_row(node, line, kind, doc) {
                                Ok(row) => batch.rows.push(row),
                                Err(r) => batch.rejected.push(r),
                            },
                            Err(reasons) => batch.rejected.push(Rejected { line, reasons }),
                        }
                    }
                    Err(e) => {
                        // A malformed row (bad quoting, invalid UTF-8) is reported and the import goes on.
                        batch.read += 1;
                        let line = e.position().map(|p| p.line()).unwrap_or(line);
                        batch.rejected.push(Rejected {
                            line,
                            reasons: vec![format!("the row could not be read: {e}")],
                        });
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            let _ = tx.send(Err(ImportError::Csv(e)));
                            return;
                        }
                    }
                }
                if batch.rows.len() >= GROUP {
                    let read = batch.read;
                    let full = std::mem::replace(
                        &mut batch,
                        Parsed {
                            rows: Vec::with_capacity(GROUP),
                            rejected: Vec::new(),
                            read,
                        },
                    );
                    if tx.send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(batch));
        });
        for parsed in rx {
            let mut parsed = parsed?;
            report.rows = parsed.read;
            report.rejected.append(&mut parsed.rejected);
            if !parsed.rows.is_empty() {
                commit_group(node, clerk, parsed.rows, &mut seen, &mut report)?;
            }
            progress(report.rows);
        }
        Ok(())
    })?;
    report.rejected.sort_by_key(|r| r.line);
    report.accepted.sort_by_key(|r| r.line);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\
kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname
birth,L-1,1968,4,1,Arben,Gashi,male,1968-03-14,Prizren,Drita,Gashi
birth,L-1,1968,4,2,Besa,Gashi,female,2999-01-01,Prizren,Drita,Gashi
birth,L-1,1968,four,3,Ana,Gashi,female,1968-01-01,Prizren,Drita,Gashi
wedding,L-1,1968,4,4,Ana,Gashi,female,1968-01-01,Prizren,Drita,Gashi
birth,L-1,1968,4,1,Arben,Gashi,male,1968-03-14,Prizren,Drita,Gashi
birth,L-1,1968,5,1,Vjosa,Shala,female,1968-05-05,Prishtinë
";

    #[test]
    fn rows_are_accepted_rejected_or_skipped_never_lost() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let r = import_csv(&node, &clerk, CSV.as_bytes(), |_| {}).unwrap();
        assert_eq!(r.rows, 6);
        assert_eq!(
            r.accepted.iter().map(|a| a.line).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(
            r.skipped.iter().map(|a| a.line).collect::<Vec<_>>(),
            vec![6]
        );
        let rejected: Vec<_> = r.rejected.iter().map(|a| a.line).collect();
        assert_eq!(rejected, vec![3, 4, 5, 7]);
        let why = |line| {
            r.rejected
                .iter()
                .find(|x| x.line == line)
                .unwrap()
                .reasons
                .join(" ")
        };
        assert!(why(3).contains("child.date_of_birth"), "{}", why(3));
        assert!(why(4).contains("register.page"), "{}", why(4));
        assert!(why(5).contains("wedding"), "{}", why(5));
        assert!(why(7).contains("cells"), "{}", why(7));
        // A rerun imports nothing twice.
        let again = import_csv(&node, &clerk, CSV.as_bytes(), |_| {}).unwrap();
        assert!(again.accepted.is_empty());
        assert_eq!(again.skipped.len(), 2);
        assert_eq!(node.log_len(), 1);
        assert!(node.verify().unwrap().ok);
    }

    /// Issue 16: a row identical to an earlier one, neither naming a register entry, is not
    /// dropped as "already imported" but imported and reported; a rerun still imports nothing.
    #[test]
    fn identical_rows_without_a_register_entry_are_imported_and_reported() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let csv = "kind;child.given_name;child.surname;child.sex;child.date_of_birth;place_of_birth;mother.given_name;mother.surname\r\n\
birth;Arben;Gashi;male;14.03.1968;Prizren;Drita;Gashi\r\n\
birth;Arben;Gashi;male;14.03.1968;Prizren;Drita;Gashi\r\n\
birth;Arben;Gashi;male;14.03.1968;Prizren;Drita;Gashi\r\n";
        let r = import_csv(&node, &clerk, csv.as_bytes(), |_| {}).unwrap();
        assert_eq!(r.accepted.len(), 3, "{r:?}");
        assert!(r.skipped.is_empty(), "{r:?}");
        let doubles: Vec<(u64, u64)> = r
            .double_entries
            .iter()
            .map(|d| (d.line, d.same_as_line))
            .collect();
        assert_eq!(doubles, [(3, 2), (4, 2)]);
        assert!(r.accepted[1]
            .warnings
            .iter()
            .any(|w| w.contains("double entry")));
        let again = import_csv(&node, &clerk, csv.as_bytes(), |_| {}).unwrap();
        assert!(again.accepted.is_empty(), "{again:?}");
        assert_eq!(again.skipped.len(), 3);
        assert_eq!(node.log_len(), 3);
    }

    #[test]
    fn bad_headers_are_refused() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let e = |csv: &str| import_csv(&node, &clerk, csv.as_bytes(), |_| {}).unwrap_err();
        assert!(matches!(
            e("child.given_name\nA\n"),
            ImportError::Header(HeaderError::NoKind { .. })
        ));
        assert!(matches!(
            e("kind,kind\nbirth,birth\n"),
            ImportError::Header(HeaderError::DuplicateColumn(_))
        ));
        assert!(matches!(
            e("kind,child name\nbirth,A\n"),
            ImportError::Header(HeaderError::BadColumn(..))
        ));
        assert!(matches!(
            e(""),
            ImportError::Header(HeaderError::NoHeader)
                | ImportError::Header(HeaderError::NoKind { .. })
        ));
    }
}
