//! The columns of register pages typed into CSV, as `civreg-node import` and `civreg-hub import`
//! read them: `kind` (birth, marriage or death) and then the record's field paths as headers,
//! e.g. `child.given_name`, `mother.maiden_surname`, `register.page`. Empty cells are absent
//! fields; `register.year`, `register.page` and `register.entry` are whole numbers.
//!
//! A row that can not be read says why, with every reason at once, so the data-entry staff can
//! fix the page in one go.

use crate::fields::{self, FieldMap};
use crate::model::RecordKind;
use serde::Serialize;
use std::collections::HashSet;

/// Fields whose CSV cells are whole numbers.
pub const NUMERIC: &[&str] = &["register.year", "register.page", "register.entry"];

/// A row that was not imported, with its line in the file and every reason.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub reasons: Vec<String>,
}

/// A row not imported because it already was (an earlier run, or an earlier row of the file).
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub line: u64,
    /// The record it was imported as (empty for a repeat within the file).
    pub regno: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the CSV file has no header row: the first line must name the columns (kind, child.given_name, ...)")]
    NoHeader,
    #[error(
        "the CSV header has no `kind` column: add one saying birth, marriage or death for each row"
    )]
    NoKind,
    #[error("the CSV header names column {0:?} twice")]
    DuplicateColumn(String),
    #[error("column {0:?} is not valid: {1}")]
    BadColumn(String, String),
}

/// Checks a header row and returns the trimmed column names.
pub fn header<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, HeaderError> {
    let header: Vec<String> = cells.into_iter().map(|h| h.trim().to_string()).collect();
    if header.iter().all(String::is_empty) {
        return Err(HeaderError::NoHeader);
    }
    if !header.iter().any(|h| h == "kind") {
        return Err(HeaderError::NoKind);
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

/// One row as the record kind and the record's JSON document.
pub fn row_to_doc(
    header: &[String],
    rec: &csv::StringRecord,
) -> Result<(RecordKind, serde_json::Value), Vec<String>> {
    if rec.len() != header.len() {
        return Err(vec![format!(
            "the row has {} cells but the header has {} columns (a missing or extra comma, or a truncated line?)",
            rec.len(),
            header.len()
        )]);
    }
    let mut errs = Vec::new();
    let mut kind = None;
    let mut map = FieldMap::new();
    for (col, cell) in header.iter().zip(rec.iter()) {
        let cell = cell.trim();
        if col == "kind" {
            kind = RecordKind::parse(cell);
            if kind.is_none() {
                errs.push(format!("kind {cell:?} is not birth, marriage or death"));
            }
            continue;
        }
        if cell.is_empty() {
            continue;
        }
        let value = if NUMERIC.contains(&col.as_str()) {
            match cell.parse::<i64>() {
                Ok(n) => serde_json::Value::from(n),
                Err(_) => {
                    errs.push(format!("{col}: {cell:?} is not a whole number"));
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
