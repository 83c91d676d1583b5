//! Writers for generated data: the node importer's CSV and the truth as JSON lines.
//!
//! Both write to any [`std::io::Write`]; the caller opens the file (this crate does no file I/O).
//! The CSV has the columns of [`super::CSV_COLUMNS`]: `kind`, `municipality` and the dotted field
//! paths, so `civreg-node import` reads it as it is (a node accepts only its own municipality:
//! split the file by the `municipality` column, or leave the column empty, before importing).
//! Row `i` of the CSV (line `i + 2`) is the `i`-th record written; the truth file has one line per
//! record in the same order, carrying the record's id.

use super::population::{SynthRecord, Truth};
use super::CSV_COLUMNS;
use crate::model::RecordKind;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

/// Why generated data could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("could not write generated data: {0}; check the disk and the output path")]
    Io(#[from] std::io::Error),
    #[error(
        "the generator wrote field {0:?}, which is not a CSV column: add it to synth::CSV_COLUMNS"
    )]
    UnknownColumn(String),
    #[error("a generated record is not a flat JSON object: {0}")]
    Shape(#[from] crate::fields::FieldError),
    #[error("could not encode a truth line: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes records as the node importer's CSV.
pub struct CsvWriter<W: Write> {
    out: W,
    col: HashMap<&'static str, usize>,
    row: Vec<String>,
    line: String,
    rows: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header line.
    pub fn new(mut out: W) -> Result<Self, SynthError> {
        let mut line = String::new();
        push_row(&mut line, CSV_COLUMNS.iter().copied());
        out.write_all(line.as_bytes())?;
        Ok(CsvWriter {
            out,
            col: CSV_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, i))
                .collect(),
            row: vec![String::new(); CSV_COLUMNS.len()],
            line,
            rows: 0,
        })
    }

    /// Writes one record document of `kind` as a row.
    pub fn write(&mut self, kind: RecordKind, doc: &Value) -> Result<(), SynthError> {
        for cell in self.row.iter_mut() {
            cell.clear();
        }
        self.row[0].push_str(kind.as_str());
        for (path, v) in crate::fields::flatten(doc)? {
            let i = *self
                .col
                .get(path.as_str())
                .ok_or_else(|| SynthError::UnknownColumn(path.clone()))?;
            match v {
                Value::String(t) => self.row[i].push_str(&t),
                other => self.row[i].push_str(&other.to_string()),
            }
        }
        self.line.clear();
        push_row(&mut self.line, self.row.iter().map(String::as_str));
        self.out.write_all(self.line.as_bytes())?;
        self.rows += 1;
        Ok(())
    }

    /// Writes a generated record of the population.
    pub fn write_synth(&mut self, r: &SynthRecord) -> Result<(), SynthError> {
        self.write(r.kind, &r.doc)
    }

    /// Rows written so far (not counting the header).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, SynthError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends one CSV line (RFC 4180: a cell with a comma, quote or line break is quoted, quotes
/// doubled), ending in `\n`.
fn push_row<'a>(line: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            line.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push('\n');
}

/// Writes the truth of each record as one JSON line: `{"id":…,"kind":…,"entities":{role:id},
/// "duplicate_of":…,"corruptions":[{"kind":…,"field":…}]}` (the last two only for duplicates).
pub struct TruthWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> TruthWriter<W> {
    pub fn new(out: W) -> Self {
        TruthWriter {
            out,
            buf: Vec::with_capacity(256),
        }
    }

    pub fn write(&mut self, t: &Truth) -> Result<(), SynthError> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, t)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, SynthError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        let mut l = String::new();
        push_row(&mut l, ["a", "b,c", "say \"hi\"", "", "Ђорђе"].into_iter());
        assert_eq!(l, "a,\"b,c\",\"say \"\"hi\"\"\",,Ђорђе\n");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let mut w = CsvWriter::new(Vec::new()).expect("header");
        let err = w
            .write(
                RecordKind::Birth,
                &serde_json::json!({"child": {"shoe_size": 3}}),
            )
            .unwrap_err();
        assert!(matches!(err, SynthError::UnknownColumn(p) if p == "child.shoe_size"));
    }
}
