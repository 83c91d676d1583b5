//! People of the central import whose given name can not be read in the historic register page
//! (issue 16: "missing values are evidence of nothing, not reasons to drop a row").
//!
//! `civreg-hub import` accepts such an entry (the surname is still required): the person's
//! given name is left empty and marked `given_name_illegible` in the record, and the person is
//! filed here, in the same atomic batch as the record's create op, for an operator to review
//! (`civreg-hub duplicates illegible`, and the dashboard's duplicates page). An entry stays on
//! the list while the record's given name is still empty and the record not void: once an
//! office amends the name (the clerk reads the page again), it is no longer listed.
//!
//! Keys: `ill/M/REGNO/ROLE` → [`Illegible`] (JSON; the store seals `aux` values at rest).

use crate::store::aux::{aux_key, ILLEGIBLE};
use crate::store::{AuxWrite, HubStore, StoreError};
use serde::{Deserialize, Serialize};

/// At most this many entries are listed in one answer (the count is always whole).
pub const LISTED: usize = 200;

/// One person whose given name is illegible, as filed by the import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Illegible {
    pub municipality: String,
    pub regno: String,
    /// `child`, `mother`, `father`, `deceased`, `spouse1` or `spouse2`.
    pub role: String,
    /// The surname as imported (a spouse's before the marriage, else after), for the operator
    /// to find the page.
    pub surname: String,
    /// The imported file and the row's line in it.
    pub file: String,
    pub line: u64,
    /// The operator who ran the import.
    pub operator: String,
    pub at_ms: u64,
}

/// The entries waiting, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    pub total: u64,
    /// The first [`LISTED`], in key order (municipality, registration number, role).
    pub entries: Vec<Illegible>,
}

fn key(municipality: &str, regno: &str, role: &str) -> Vec<u8> {
    aux_key(ILLEGIBLE, &format!("{municipality}/{regno}/{role}"))
}

/// The write that files `entry`.
pub fn file(entry: &Illegible) -> AuxWrite {
    (
        key(&entry.municipality, &entry.regno, &entry.role),
        Some(serde_json::to_vec(entry).expect("an Illegible serialises to JSON")),
    )
}

/// Whether the record still leaves the person's given name empty (and is not void).
fn still_illegible(store: &HubStore, e: &Illegible) -> Result<bool, StoreError> {
    let Some(state) = store.record(&e.regno)? else {
        // Not stored yet (the group's write is under way): listed.
        return Ok(true);
    };
    if state.voided.is_some() {
        return Ok(false);
    }
    Ok(match state.fields.get(&format!("{}.given_name", e.role)) {
        None | Some(serde_json::Value::Null) => true,
        Some(v) => v.as_str().is_some_and(|s| s.trim().is_empty()),
    })
}

/// The people waiting for review, of one municipality or all.
pub fn waiting(store: &HubStore, municipality: Option<&str>) -> Result<Waiting, StoreError> {
    let prefix = match municipality {
        Some(m) => aux_key(ILLEGIBLE, &format!("{m}/")),
        None => aux_key(ILLEGIBLE, ""),
    };
    let mut out = Waiting::default();
    for kv in store.aux_scan(&prefix) {
        let (_, v) = kv?;
        let e: Illegible = serde_json::from_slice(&v)
            .map_err(|e| StoreError::Corrupt(format!("an illegible-name entry: {e}")))?;
        if !still_illegible(store, &e)? {
            continue;
        }
        out.total += 1;
        if out.entries.len() < LISTED {
            out.entries.push(e);
        }
    }
    Ok(out)
}
