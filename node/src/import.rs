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

use civreg_shared::i18n::{Catalog, Lang};
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

use civreg_shared::csvrows::{row_to_doc_coded, HeaderError, Seen, SeenRows};
pub use civreg_shared::csvrows::{CellProblem, DoubleEntry, Rejected, Skipped};

/// What `civreg-node import` reports (and writes with `--report`): every reason as an English
/// sentence. [`CodedReport`] is the same with its reasons as codes.
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

/// Why a row was not imported, or what to check about one that was: a code with its
/// arguments, so that it can be said in any language ([`Reason::text`]). `Display` is the
/// English sentence the command line prints and writes to its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A validation problem of a field; `code` is one of `validate::ALL_CODES`, `message` its
    /// English sentence.
    Problem {
        field: String,
        code: &'static str,
        message: String,
    },
    /// The row's cells do not make a record (their number, the kind, a number column).
    Cell(CellProblem),
    /// A value the record can not hold (a date that does not exist, a sex that is neither male
    /// nor female), at `field` when known; `missing` when a field the record needs is absent.
    /// `english` is the parser's sentence.
    Shape {
        field: Option<String>,
        missing: bool,
        english: String,
    },
    /// The row names a municipality that is not this office's.
    WrongMunicipality {
        own: String,
        given: String,
        english: String,
    },
    /// The line itself could not be read (bad quoting, bytes that are not UTF-8).
    Unreadable { english: String },
    /// Another refusal by the node's rules (the rollout, a halted office, the clock): its
    /// English sentence, shown inside a translated one.
    Refused(String),
    /// Imported, but identical to the row at `same_as_line` and without a register reference.
    DoubleEntry { same_as_line: u64 },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Problem { field, message, .. } => write!(f, "{field}: {message}"),
            Reason::Cell(c) => write!(f, "{c}"),
            Reason::Shape { english, .. }
            | Reason::WrongMunicipality { english, .. }
            | Reason::Unreadable { english } => f.write_str(english),
            Reason::Refused(s) => f.write_str(s),
            Reason::DoubleEntry { same_as_line } => write!(
                f,
                "suspected double entry: identical to line {same_as_line} and no register reference; imported, check the register page"
            ),
        }
    }
}

impl Reason {
    /// The reason in `lang`, from the catalogues.
    pub fn text(&self, lang: Lang) -> String {
        let c = Catalog::get();
        let field = |field: &str, problem: String| {
            c.format(
                lang,
                "import-r-field",
                &[("field", field.into()), ("problem", problem.into())],
            )
        };
        match self {
            Reason::Problem { field: f, code, .. } => field(f, c.validation(lang, code)),
            Reason::Cell(CellProblem::Cells { cells, columns }) => c.format(
                lang,
                "import-r-cells",
                &[("cells", (*cells).into()), ("columns", (*columns).into())],
            ),
            Reason::Cell(CellProblem::Kind(v)) => {
                c.format(lang, "import-r-kind", &[("value", v.into())])
            }
            Reason::Cell(CellProblem::NotNumber { column, value }) => field(
                column,
                c.format(lang, "import-r-number", &[("value", value.into())]),
            ),
            Reason::Shape {
                field: Some(f),
                missing: true,
                ..
            } => field(f, c.validation(lang, "field.required")),
            Reason::Shape { field: Some(f), .. } => field(f, c.text(lang, "import-r-value")),
            Reason::Shape { field: None, .. } => c.validation(lang, "record.shape"),
            Reason::WrongMunicipality { own, given, .. } => c.format(
                lang,
                "import-r-municipality",
                &[("own", own.into()), ("given", given.into())],
            ),
            Reason::Unreadable { .. } => c.text(lang, "import-r-unreadable"),
            Reason::Refused(s) => c.format(lang, "err-refused", &[("detail", s.into())]),
            Reason::DoubleEntry { same_as_line } => {
                c.format(lang, "import-r-double", &[("line", (*same_as_line).into())])
            }
        }
    }
}

/// Why a row was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Its register entry, or the row itself, was imported before (as `regno`).
    AlreadyImported,
    /// It names the same register entry as an earlier row of the file.
    RepeatedEntry,
}

impl Skip {
    /// The English words of the command line's report.
    pub fn english(self) -> &'static str {
        match self {
            Skip::AlreadyImported => "already imported",
            Skip::RepeatedEntry => "same register entry as an earlier row of this file",
        }
    }

    /// The reason in `lang`; `regno` is the record it was imported as (empty for a repeat).
    pub fn text(self, lang: Lang, regno: &str) -> String {
        let c = Catalog::get();
        match self {
            Skip::AlreadyImported => c.format(lang, "import-r-already", &[("regno", regno.into())]),
            Skip::RepeatedEntry => c.text(lang, "import-r-repeated"),
        }
    }
}

/// An imported row, with what to check about it.
#[derive(Debug, Clone)]
pub struct AcceptedRow {
    pub line: u64,
    pub regno: String,
    pub warnings: Vec<Reason>,
}

/// A row not imported because it already was.
#[derive(Debug, Clone)]
pub struct SkippedRow {
    pub line: u64,
    /// The record it was imported as (empty for a repeat within the file).
    pub regno: String,
    pub why: Skip,
}

/// A row that was not imported, with every reason.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub line: u64,
    pub reasons: Vec<Reason>,
}

/// How far an import is: rows read from the file, and what became of them so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub read: u64,
    pub accepted: u64,
    pub skipped: u64,
    pub rejected: u64,
    pub double_entries: u64,
}

/// An import's outcome with its reasons as codes. Each list keeps at most the `listed` rows
/// the import was given (in the order they were met); `counts` counts them all.
#[derive(Debug, Default)]
pub struct CodedReport {
    pub rows: u64,
    pub accepted: Vec<AcceptedRow>,
    pub skipped: Vec<SkippedRow>,
    pub rejected: Vec<RejectedRow>,
    pub double_entries: Vec<DoubleEntry>,
    pub counts: Progress,
}

impl CodedReport {
    /// The report in the command line's English words.
    pub fn english(self) -> ImportReport {
        let words = |r: &[Reason]| r.iter().map(ToString::to_string).collect();
        ImportReport {
            rows: self.rows,
            accepted: self
                .accepted
                .iter()
                .map(|a| Accepted {
                    line: a.line,
                    regno: a.regno.clone(),
                    warnings: words(&a.warnings),
                })
                .collect(),
            skipped: self
                .skipped
                .iter()
                .map(|s| Skipped {
                    line: s.line,
                    regno: s.regno.clone(),
                    reason: s.why.english().into(),
                })
                .collect(),
            rejected: self
                .rejected
                .iter()
                .map(|r| Rejected {
                    line: r.line,
                    reasons: words(&r.reasons),
                })
                .collect(),
            double_entries: self.double_entries,
        }
    }

    /// Whether some rows were left out of the lists (past `listed`).
    pub fn truncated(&self) -> bool {
        self.counts.accepted > self.accepted.len() as u64
            || self.counts.skipped > self.skipped.len() as u64
            || self.counts.rejected > self.rejected.len() as u64
    }
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
    rejected: Vec<RejectedRow>,
    /// Rows read from the file so far.
    read: u64,
}

/// The dedup keys of a row: its register entry if it names one, else its whole content.
fn import_key(node: &Node, kind: RecordKind, record: &Record) -> Vec<u8> {
    import_key_with(node.crypto(), kind, record)
}

/// [`import_key`] under the given keys (key rotation derives it under the old and the new).
pub(crate) fn import_key_with(
    crypto: &crate::crypto::Crypto,
    kind: RecordKind,
    record: &Record,
) -> Vec<u8> {
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

fn problem_reason(p: &civreg_shared::validate::Problem) -> Reason {
    Reason::Problem {
        field: p.field.clone(),
        code: p.code,
        message: p.message.clone(),
    }
}

/// The reasons of a node error. `shape` gives the parser's own account of a record that
/// could not be read (its field), when the error is one.
fn describe_error(
    e: NodeError,
    shape: impl FnOnce() -> Option<civreg_shared::model::ShapeError>,
) -> Vec<Reason> {
    match e {
        NodeError::Invalid(report) => report.errors().map(problem_reason).collect(),
        NodeError::Shape(english) => {
            let (field, missing) = match shape() {
                Some(se) => {
                    // serde's words for an absent field: "missing field `surname`".
                    let absent = se
                        .message
                        .strip_prefix("missing field `")
                        .and_then(|m| m.split('`').next())
                        .map(str::to_string);
                    match (se.path, absent) {
                        (Some(p), Some(f)) => (Some(format!("{p}.{f}")), true),
                        (None, Some(f)) => (Some(f), true),
                        (p, None) => (p, false),
                    }
                }
                None => (None, false),
            };
            vec![Reason::Shape {
                field,
                missing,
                english,
            }]
        }
        NodeError::WrongMunicipality { own, given } => {
            let english = NodeError::WrongMunicipality {
                own: own.clone(),
                given: given.clone(),
            }
            .to_string();
            vec![Reason::WrongMunicipality {
                own,
                given,
                english,
            }]
        }
        other => vec![Reason::Refused(other.to_string())],
    }
}

/// Appends `item` to `list` while it holds fewer than `listed`.
fn keep<T>(list: &mut Vec<T>, listed: usize, item: T) {
    if list.len() < listed {
        list.push(item);
    }
}

fn commit_group(
    node: &Node,
    clerk: &Clerk,
    group: Vec<Row>,
    seen: &mut SeenRows,
    report: &mut CodedReport,
    listed: usize,
) -> Result<(), ImportError> {
    let mut local = CodedReport::default();
    node.write(|tx: &mut Tx<'_>| {
        for mut row in group {
            // Looked up before the store: a row identical to an earlier one (no register
            // reference) is keyed by its occurrence, so that a rerun finds it too.
            let same_as = match seen.see(&row.key, row.by_content, row.line) {
                Seen::RepeatedEntry => {
                    local.skipped.push(SkippedRow {
                        line: row.line,
                        regno: String::new(),
                        why: Skip::RepeatedEntry,
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
                local.skipped.push(SkippedRow {
                    line: row.line,
                    regno: String::from_utf8_lossy(&regno).into_owned(),
                    why: Skip::AlreadyImported,
                });
                continue;
            }
            match tx.create_checked(clerk, row.checked) {
                Ok(saved) => {
                    tx.batch()
                        .put(Tree::Imports, row.key, saved.regno.clone().into_bytes());
                    let mut warnings: Vec<Reason> =
                        saved.warnings.iter().map(problem_reason).collect();
                    if let Some(first) = same_as {
                        warnings.push(Reason::DoubleEntry {
                            same_as_line: first,
                        });
                        local.double_entries.push(DoubleEntry {
                            line: row.line,
                            regno: saved.regno.clone(),
                            same_as_line: first,
                        });
                    }
                    local.accepted.push(AcceptedRow {
                        line: row.line,
                        regno: saved.regno,
                        warnings,
                    });
                }
                Err(e) => local.rejected.push(RejectedRow {
                    line: row.line,
                    reasons: describe_error(e, || None),
                }),
            }
        }
        Ok(())
    })?;
    // Counted and listed only once the group is written (a failed write counts nothing).
    report.counts.accepted += local.accepted.len() as u64;
    report.counts.skipped += local.skipped.len() as u64;
    report.counts.rejected += local.rejected.len() as u64;
    report.counts.double_entries += local.double_entries.len() as u64;
    for a in local.accepted {
        keep(&mut report.accepted, listed, a);
    }
    for s in local.skipped {
        keep(&mut report.skipped, listed, s);
    }
    for r in local.rejected {
        keep(&mut report.rejected, listed, r);
    }
    for d in local.double_entries {
        keep(&mut report.double_entries, listed, d);
    }
    Ok(())
}

/// Parses, validates and keys one row (the part of the work that needs no lock).
fn check_row(
    node: &Node,
    line: u64,
    kind: RecordKind,
    doc: serde_json::Value,
) -> Result<Row, RejectedRow> {
    // Kept to ask the parser where a record that can not be read went wrong.
    let mut copy = doc.clone();
    let shape = move || {
        if let Some(obj) = copy.as_object_mut() {
            obj.insert(
                "municipality".into(),
                node.identity().municipality.clone().into(),
            );
        }
        Record::from_json(kind, copy).err()
    };
    let record = node.prepare(kind, doc).map_err(|e| RejectedRow {
        line,
        reasons: describe_error(e, shape),
    })?;
    // The dedup key is computed from the record as it will be stored.
    let key = import_key(node, kind, &record);
    let by_content = record.register().is_none();
    let checked = Checked::new(record).map_err(|e| RejectedRow {
        line,
        reasons: describe_error(e, || None),
    })?;
    Ok(Row {
        line,
        key,
        by_content,
        checked,
    })
}

/// Imports a CSV stream, as `civreg-node import` does. `progress` is called with the number of
/// rows read so far.
pub fn import_csv<R: Read + Send>(
    node: &Node,
    clerk: &Clerk,
    input: R,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    import_csv_coded(node, clerk, input, usize::MAX, |p| progress(p.read)).map(CodedReport::english)
}

/// Imports a CSV stream, with the reasons as codes. Each list of the report keeps at most
/// `listed` rows (the counts are whole), so that a file of bad rows takes bounded memory.
/// `progress` is called after every group of rows written.
pub fn import_csv_coded<R: Read + Send>(
    node: &Node,
    clerk: &Clerk,
    input: R,
    listed: usize,
    mut progress: impl FnMut(&Progress),
) -> Result<CodedReport, ImportError> {
    // Delimiter, byte-order mark, line ends and header case as people's files have them.
    let mut rdr = civreg_shared::csvrows::reader(input).map_err(csv::Error::from)?;
    let header =
        civreg_shared::csvrows::header(rdr.headers().map_err(|_| HeaderError::NoHeader)?.iter())?;
    let mut report = CodedReport::default();
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
                        match row_to_doc_coded(&header, &rec) {
                            Ok((kind, doc)) => match check_row(node, line, kind, doc) {
                                Ok(row) => batch.rows.push(row),
                                Err(r) => batch.rejected.push(r),
                            },
                            Err(cells) => batch.rejected.push(RejectedRow {
                                line,
                                reasons: cells.into_iter().map(Reason::Cell).collect(),
                            }),
                        }
                    }
                    Err(e) => {
                        // A malformed row (bad quoting, invalid UTF-8) is reported and the import goes on.
                        batch.read += 1;
                        let line = e.position().map(|p| p.line()).unwrap_or(line);
                        batch.rejected.push(RejectedRow {
                            line,
                            reasons: vec![Reason::Unreadable {
                                english: format!("the row could not be read: {e}"),
                            }],
                        });
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            let _ = tx.send(Err(ImportError::Csv(e)));
                            return;
                        }
                    }
                }
                // A group is handed over when it is full, and so are the rejected rows of a
                // file of bad rows (they are counted, and their memory bounded, as they come).
                if batch.rows.len() >= GROUP || batch.rejected.len() >= GROUP {
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
            let parsed = parsed?;
            report.rows = parsed.read;
            if !parsed.rows.is_empty() {
                commit_group(node, clerk, parsed.rows, &mut seen, &mut report, listed)?;
            }
            report.counts.rejected += parsed.rejected.len() as u64;
            for r in parsed.rejected {
                keep(&mut report.rejected, listed, r);
            }
            report.counts.read = report.rows;
            progress(&report.counts);
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
    /// Issue 14: a rejected row's reasons are codes, said in the clerk's language; the English
    /// words of the command line are what they were.
    #[test]
    fn reasons_are_codes_said_in_the_clerks_language() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let csv =
            format!("{CSV}birth,L-1,1968,6,1,Besnik,Hoxha,male,31.02.1975,Pejë,Fatime,Hoxha\n");
        let r = import_csv_coded(&node, &clerk, csv.as_bytes(), usize::MAX, |_| {}).unwrap();
        let reasons = |line| {
            r.rejected
                .iter()
                .find(|x| x.line == line)
                .unwrap_or_else(|| panic!("line {line} not rejected: {r:?}"))
                .reasons
                .clone()
        };
        let c = Catalog::get();
        let future = &reasons(3)[0];
        assert!(
            matches!(future, Reason::Problem { field, code: "date.future", .. } if field == "child.date_of_birth"),
            "{future:?}"
        );
        assert_eq!(
            future.text(Lang::Sq),
            format!(
                "child.date_of_birth: {}",
                c.validation(Lang::Sq, "date.future")
            )
        );
        assert_eq!(
            future.text(Lang::SrCyrl),
            "child.date_of_birth: Датум је у будућности."
        );
        assert!(future.to_string().starts_with("child.date_of_birth: "));
        assert_ne!(future.to_string(), future.text(Lang::Sq));
        assert_eq!(
            reasons(4),
            [Reason::Cell(CellProblem::NotNumber {
                column: "register.page".into(),
                value: "four".into()
            })]
        );
        assert_eq!(
            reasons(4)[0].text(Lang::Sq),
            "register.page: \"four\" nuk është numër i plotë."
        );
        assert_eq!(
            reasons(5)[0].text(Lang::SrCyrl),
            "Врста \"wedding\" није birth, marriage ни death."
        );
        assert!(matches!(
            reasons(7)[0],
            Reason::Cell(CellProblem::Cells {
                cells: 10,
                columns: 12
            })
        ));
        // A date that does not exist: the parser's field, said in the clerk's words.
        let bad_date = &reasons(8)[0];
        assert!(
            matches!(bad_date, Reason::Shape { field: Some(f), missing: false, .. } if f == "child.date_of_birth"),
            "{bad_date:?}"
        );
        assert!(
            bad_date
                .text(Lang::Sq)
                .starts_with("child.date_of_birth: vlera nuk mund të lexohet"),
            "{}",
            bad_date.text(Lang::Sq)
        );
        assert!(
            bad_date.to_string().contains("not a valid birth record"),
            "{bad_date}"
        );
        // Skipped rows say why, with the record they were imported as.
        let again = import_csv_coded(&node, &clerk, csv.as_bytes(), usize::MAX, |_| {}).unwrap();
        let first = &again.skipped.iter().find(|s| s.line == 2).unwrap();
        assert_eq!(first.why, Skip::AlreadyImported);
        assert_eq!(
            first.why.text(Lang::SrLatn, &first.regno),
            format!("Već uvezeno kao {}.", first.regno)
        );
        // The command line's report is the same sentences as before.
        let english = again.english();
        assert_eq!(english.skipped[0].reason, "already imported");
    }

    /// A file of bad rows takes bounded memory: the lists stop at `listed`, the counts do not,
    /// and the progress is told as the rows come, not only at the end.
    #[test]
    fn lists_are_bounded_and_progress_is_told_as_rows_come() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let mut csv = String::from("kind,child.given_name\n");
        for _ in 0..(3 * GROUP) {
            csv.push_str("wedding,Ana\n");
        }
        let mut told = Vec::new();
        let r = import_csv_coded(&node, &clerk, csv.as_bytes(), 10, |p| told.push(p.read)).unwrap();
        assert_eq!(r.rows, 3 * GROUP as u64);
        assert_eq!(r.rejected.len(), 10);
        assert_eq!(r.counts.rejected, 3 * GROUP as u64);
        assert!(r.truncated());
        assert!(told.len() >= 3, "{told:?}");
        assert!(told.windows(2).all(|w| w[0] <= w[1]), "{told:?}");
        assert_eq!(told.last(), Some(&(3 * GROUP as u64)));
    }
}
