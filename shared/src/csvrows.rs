//! The columns of register pages typed into CSV, as `civreg-node import` and `civreg-hub import`
//! read them: `kind` (birth, marriage or death) and then the record's field paths as headers,
//! e.g. `child.given_name`, `mother.maiden_surname`, `register.page`. Empty cells are absent
//! fields; `register.year`, `register.page` and `register.entry` are whole numbers.
//!
//! A row that can not be read says why, with every reason at once, so the data-entry staff can
//! fix the page in one go.
//!
//! Files are read as people have them ([`reader`]): the delimiter (`,`, `;` or tab, as Excel
//! writes in this region) is detected from the header line, a UTF-8 byte-order mark is
//! dropped, CRLF and CR line ends count as one line each (so reported line numbers are the
//! lines an editor shows), headers match case-insensitively, and dates may be written
//! `dd.mm.yyyy` or `dd.mm.yyyy.` ([`iso_date`]) as well as `yyyy-mm-dd`.

use crate::fields::{self, FieldMap};
use crate::model::RecordKind;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

/// Fields whose CSV cells are whole numbers.
pub const NUMERIC: &[&str] = &["register.year", "register.page", "register.entry"];

/// A row that was not imported, with its line in the file and every reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rejected {
    pub line: u64,
    pub reasons: Vec<String>,
}

/// A row not imported because it already was (an earlier run, or an earlier row of the file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub line: u64,
    /// The record it was imported as (empty for a repeat within the file).
    pub regno: String,
    pub reason: String,
}

/// A row imported although it is identical to an earlier row of the file, neither naming a
/// register entry: a suspected double entry (the same page typed twice, or two people whose
/// entries read alike), reported for a person to check, never dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoubleEntry {
    pub line: u64,
    pub regno: String,
    /// The line of the file's first row with the same content.
    pub same_as_line: u64,
}

/// What [`SeenRows::see`] says about a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The first row of the file with this key: import it under `key`.
    First(Vec<u8>),
    /// The same register entry as an earlier row of the file: skip it.
    RepeatedEntry,
    /// The same content as an earlier row, without a register reference: import it under
    /// its own key (the import key and its occurrence in the file, so that a rerun finds it
    /// and imports nothing twice) and report a [`DoubleEntry`].
    Double { key: Vec<u8>, same_as_line: u64 },
}

/// The import keys of the rows of one file seen so far, with the first line and the number
/// of rows of each. Both importers use it.
#[derive(Debug, Default)]
pub struct SeenRows {
    map: std::collections::HashMap<Vec<u8>, (u64, u32)>,
}

impl SeenRows {
    /// Records the row at `line` with import key `key`; `by_content` when the key is the
    /// row's content (it names no register entry).
    pub fn see(&mut self, key: &[u8], by_content: bool, line: u64) -> Seen {
        match self.map.get_mut(key) {
            None => {
                self.map.insert(key.to_vec(), (line, 1));
                Seen::First(key.to_vec())
            }
            Some(_) if !by_content => Seen::RepeatedEntry,
            Some((first, n)) => {
                *n = n.saturating_add(1);
                let mut k = key.to_vec();
                k.extend_from_slice(format!("#{n}").as_bytes());
                Seen::Double {
                    key: k,
                    same_as_line: *first,
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the CSV file has no header row: the first line must name the columns (kind, child.given_name, ...)")]
    NoHeader,
    #[error(
        "the CSV header has no `kind` column (it names {found}): add one saying birth, marriage or death for each row; the other columns are field paths such as {ex}",
        ex = EXPECTED_EXAMPLES
    )]
    NoKind { found: String },
    #[error(
        "none of the CSV header's columns is known (it names {found}); expected `kind` and field paths such as {ex} (README, \"Bulk import\"). The delimiter may be one that is not `,`, `;` or a tab",
        ex = EXPECTED_EXAMPLES
    )]
    NoKnownColumn { found: String },
    #[error("the CSV header names column {0:?} twice")]
    DuplicateColumn(String),
    #[error("column {0:?} is not valid: {1}")]
    BadColumn(String, String),
}

/// Example columns named in the header errors.
pub const EXPECTED_EXAMPLES: &str = "kind, register.book, register.year, register.page, register.entry, child.given_name, child.surname, child.sex, child.date_of_birth, place_of_birth, mother.given_name, mother.surname, father.given_name, spouse1.given_name, spouse1.surname_before, date_of_marriage, deceased.given_name, deceased.surname, date_of_death";

/// The header's cells, quoted and shortened, for an error message.
fn found_columns(header: &[String]) -> String {
    let mut s = header
        .iter()
        .take(8)
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if header.len() > 8 {
        s.push_str(&format!(" and {} more", header.len() - 8));
    }
    s
}

/// The first part of every column the importers know.
const KNOWN_ROOTS: &[&str] = &[
    "kind",
    "municipality",
    "register",
    "notes",
    "child",
    "mother",
    "father",
    "place_of_birth",
    "spouse1",
    "spouse2",
    "date_of_marriage",
    "place_of_marriage",
    "deceased",
    "date_of_death",
    "place_of_death",
];

/// Whether a column names a field the importers know (by its first part).
fn is_field_path(h: &str) -> bool {
    KNOWN_ROOTS.contains(&h.split('.').next().unwrap_or(""))
}

/// Checks a header row and returns the column names, trimmed and lowercased (headers match
/// case-insensitively: `Kind`, `Child.Given_Name`).
pub fn header<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, HeaderError> {
    let header: Vec<String> = cells
        .into_iter()
        .map(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .trim()
                .to_lowercase()
        })
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(HeaderError::NoHeader);
    }
    if !header.iter().any(|h| h == "kind") {
        let found = found_columns(&header);
        return Err(if header.iter().any(|h| is_field_path(h)) {
            HeaderError::NoKind { found }
        } else {
            HeaderError::NoKnownColumn { found }
        });
    }
    let mut cols = HashSet::new();
    for h in &header {
        if !cols.insert(h.clone()) {
            return Err(HeaderError::DuplicateColumn(h.clone()));
        }
        if h != "kind" {
            fields::parse_changes(&serde_json::json!({ h.as_str(): 1 }))
                .map_err(|e| HeaderError::BadColumn(h.clone(), e.to_string()))?;
        }
    }
    Ok(header)
}

/// Why a row's cells do not make a record document, as a code with its arguments (the node's
/// clerk app says it in the clerk's language; `Display` is the importers' English sentence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("the row has {cells} cells but the header has {columns} columns (a missing or extra comma, or a truncated line?)")]
    Cells { cells: usize, columns: usize },
    #[error("kind {0:?} is not birth, marriage or death")]
    Kind(String),
    #[error("{column}: {value:?} is not a whole number")]
    NotNumber { column: String, value: String },
}

/// One row as the record kind and the record's JSON document.
pub fn row_to_doc(
    header: &[String],
    rec: &csv::StringRecord,
) -> Result<(RecordKind, serde_json::Value), Vec<String>> {
    row_to_doc_coded(header, rec).map_err(|e| e.iter().map(ToString::to_string).collect())
}

/// [`row_to_doc`] with its reasons as codes.
pub fn row_to_doc_coded(
    header: &[String],
    rec: &csv::StringRecord,
) -> Result<(RecordKind, serde_json::Value), Vec<CellProblem>> {
    if rec.len() != header.len() {
        return Err(vec![CellProblem::Cells {
            cells: rec.len(),
            columns: header.len(),
        }]);
    }
    let mut errs = Vec::new();
    let mut kind = None;
    let mut map = FieldMap::new();
    for (col, cell) in header.iter().zip(rec.iter()) {
        let cell = cell.trim();
        if col == "kind" {
            kind = RecordKind::parse(cell);
            if kind.is_none() {
                errs.push(CellProblem::Kind(cell.to_string()));
            }
            continue;
        }
        if cell.is_empty() {
            continue;
        }
        let value = if is_date_column(col) {
            serde_json::Value::from(iso_date(cell).unwrap_or_else(|| cell.to_string()))
        } else if NUMERIC.contains(&col.as_str()) {
            match cell.parse::<i64>() {
                Ok(n) => serde_json::Value::from(n),
                Err(_) => {
                    errs.push(CellProblem::NotNumber {
                        column: col.clone(),
                        value: cell.to_string(),
                    });
                    continue;
                }
            }
        } else {
            serde_json::Value::from(cell)
        };
        map.insert(col.clone(), value);
    }
    match (kind, errs.is_empty()) {
        (Some(k), true) => Ok((k, fields::unflatten(&map))),
        _ => Err(errs),
    }
}

/// The reasons of a validation report's errors, one line each.
pub fn report_reasons(report: &crate::validate::Report) -> Vec<String> {
    report
        .errors()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect()
}

/// Whether a column holds a date (`child.date_of_birth`, `date_of_death`, ...).
pub fn is_date_column(col: &str) -> bool {
    col.rsplit('.')
        .next()
        .is_some_and(|last| last.starts_with("date_of_"))
}

/// A date written `dd.mm.yyyy` or `dd.mm.yyyy.` (also with one-digit day or month, or `/`
/// between the parts) as `yyyy-mm-dd`; `None` when the cell is not in that form (it is then kept
/// as typed, and validation says what is wrong with it). The day and month are not checked
/// here: `31.02.1968` becomes `1968-02-31`, which validation refuses with the field's name.
pub fn iso_date(cell: &str) -> Option<String> {
    let c = cell.trim();
    let c = c.strip_suffix('.').unwrap_or(c);
    let sep = if c.contains('.') { '.' } else { '/' };
    let parts: Vec<&str> = c.split(sep).map(str::trim).collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(d, 1, 2) && digits(m, 1, 2) && digits(y, 4, 4)) {
        return None;
    }
    Some(format!("{y}-{m:0>2}-{d:0>2}"))
}

/// The longest header line looked at to detect the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// The delimiter of a header line: whichever of `,`, `;` and tab occurs most often outside
/// quotes (`,` on a tie or when none does).
pub fn detect_delimiter(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            b'\n' if !quoted => break,
            _ => {}
        }
    }
    let mut best = (b',', counts[0]);
    for (d, n) in [(b';', counts[1]), (b'\t', counts[2])] {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Turns CRLF and lone CR line ends into LF, so that the CSV reader's line numbers are the
/// lines a person sees.
pub struct LineEnds<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    /// The last byte given out was a CR turned into LF: an LF right after it belongs to it.
    after_cr: bool,
}

impl<R: Read> LineEnds<R> {
    pub fn new(inner: R) -> Self {
        LineEnds {
            inner,
            buf: Vec::new(),
            pos: 0,
            after_cr: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos == self.buf.len() {
            let mut chunk = [0u8; 8192];
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            for &b in &chunk[..n] {
                if std::mem::take(&mut self.after_cr) && b == b'\n' {
                    continue;
                }
                if b == b'\r' {
                    self.buf.push(b'\n');
                    self.after_cr = true;
                } else {
                    self.buf.push(b);
                }
            }
        }
        let k = out.len().min(self.buf.len() - self.pos);
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// The input of [`reader`]: the bytes read to detect the delimiter, then the rest.
pub type Input<R> = LineEnds<std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<R>>>;

/// A CSV reader for a file as people have it: the UTF-8 byte-order mark dropped, the delimiter
/// detected from the header line ([`detect_delimiter`]), line ends made LF ([`LineEnds`]), rows
/// of any length (a short or long row is reported by [`row_to_doc`], not by the reader).
pub fn reader<R: Read>(input: R) -> std::io::Result<csv::Reader<Input<R>>> {
    let mut input = BufReader::new(input);
    let mut head: Vec<u8> = Vec::new();
    // The header line (or its first SNIFF_BYTES), read through the BufReader's own buffer.
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let take = match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => i + 1,
            None => buf.len(),
        };
        let done = take < buf.len() || buf[take - 1] == b'\n' || buf[take - 1] == b'\r';
        head.extend_from_slice(&buf[..take]);
        input.consume(take);
        if done || head.len() >= SNIFF_BYTES {
            break;
        }
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
    }
    let delimiter = detect_delimiter(&head);
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(delimiter)
        .from_reader(LineEnds::new(std::io::Cursor::new(head).chain(input))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
        let mut r = reader(text).expect("reads");
        let h = header(r.headers().expect("header").iter()).expect("valid header");
        let mut out = Vec::new();
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec).expect("row") {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            out.push((line, rec.iter().map(str::to_string).collect()));
        }
        (h, out)
    }

    #[test]
    fn identical_rows_without_a_register_entry_are_double_entries_not_repeats() {
        let mut seen = SeenRows::default();
        assert_eq!(seen.see(b"c1", true, 2), Seen::First(b"c1".to_vec()));
        assert_eq!(
            seen.see(b"c1", true, 5),
            Seen::Double {
                key: b"c1#2".to_vec(),
                same_as_line: 2
            }
        );
        assert_eq!(
            seen.see(b"c1", true, 9),
            Seen::Double {
                key: b"c1#3".to_vec(),
                same_as_line: 2
            }
        );
        assert_eq!(seen.see(b"r1", false, 3), Seen::First(b"r1".to_vec()));
        assert_eq!(seen.see(b"r1", false, 4), Seen::RepeatedEntry);
    }

    #[test]
    fn semicolons_bom_crlf_and_capitals_are_read() {
        let text = "\u{feff}Kind;Child.Given_Name;child.date_of_birth\r\nbirth;Arben;07.03.1968.\r\nbirth;\"Drita\r\nGashi\";1.2.1970\r\nbirth;Ana;1970-02-01\r\n";
        let (h, rs) = rows(text.as_bytes());
        assert_eq!(h, ["kind", "child.given_name", "child.date_of_birth"]);
        let lines: Vec<u64> = rs.iter().map(|r| r.0).collect();
        // The quoted name spans lines 3 and 4. (A record after a blank line is numbered by
        // the csv crate at the blank line: README, "Not finished".)
        assert_eq!(lines, [2, 3, 5]);
        assert_eq!(rs[0].1[1], "Arben");
        let (_, doc) = row_to_doc(&h, &csv::StringRecord::from(rs[0].1.clone())).expect("row");
        assert_eq!(doc["child"]["date_of_birth"], "1968-03-07");
        let (_, doc) = row_to_doc(&h, &csv::StringRecord::from(rs[1].1.clone())).expect("row");
        assert_eq!(doc["child"]["date_of_birth"], "1970-02-01");
    }

    #[test]
    fn tabs_and_commas_are_detected() {
        assert_eq!(detect_delimiter(b"kind\tchild.given_name\n"), b'\t');
        assert_eq!(detect_delimiter(b"kind,\"a;b\",c;d\n"), b',');
        assert_eq!(detect_delimiter(b"kind;a;b,c\n"), b';');
        let (_, rs) = rows(b"kind\tchild.given_name\nbirth\tArben\rbirth\tDrita");
        assert_eq!(rs.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(rs[1].1[1], "Drita");
    }

    #[test]
    fn dates_are_converted_only_when_they_look_like_dates() {
        assert_eq!(iso_date("07.03.1968").as_deref(), Some("1968-03-07"));
        assert_eq!(iso_date("7.3.1968.").as_deref(), Some("1968-03-07"));
        assert_eq!(iso_date("31/12/1999").as_deref(), Some("1999-12-31"));
        assert_eq!(iso_date("1968-03-07"), None);
        assert_eq!(iso_date("7.3.68"), None);
        assert_eq!(iso_date("a.b.cdef"), None);
        assert!(is_date_column("child.date_of_birth"));
        assert!(is_date_column("date_of_death"));
        assert!(!is_date_column("register.year"));
    }

    #[test]
    fn a_header_with_no_known_column_lists_what_is_expected() {
        let e = header(["name", "surname", "born"]).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, HeaderError::NoKnownColumn { .. }), "{msg}");
        assert!(
            msg.contains("child.given_name") && msg.contains("\"born\""),
            "{msg}"
        );
        let e = header(["child.given_name", "child.surname"]).unwrap_err();
        assert!(matches!(e, HeaderError::NoKind { .. }), "{e}");
        // A file with a delimiter other than the ones detected: one column naming them all.
        let e = header(["kind|child.given_name"]).unwrap_err();
        assert!(e.to_string().contains("delimiter"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(mut r) = reader(bytes.as_slice()) {
                let _ = r.headers().map(|h| header(h.iter()).ok());
                for rec in r.records().take(50) {
                    let _ = rec;
                }
            }
            let _ = iso_date(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn line_ends_keep_every_other_byte(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            let mut out = Vec::new();
            LineEnds::new(bytes.as_slice()).read_to_end(&mut out).expect("reads");
            let kept: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
            let got: Vec<u8> = out.iter().copied().filter(|&b| b != b'\n').collect();
            proptest::prop_assert_eq!(kept, got);
            let lines = |v: &[u8]| {
                let s = String::from_utf8_lossy(v).replace("\r\n", "\n").replace('\r', "\n");
                s.matches('\n').count()
            };
            proptest::prop_assert_eq!(lines(&bytes), out.iter().filter(|&&b| b == b'\n').count());
        }
    }
}
