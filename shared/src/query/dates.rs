//! Dates in queries: a date or year typed in free text, the date-of-birth filter (`--born`, the
//! search page's field, the `born` of a national search request), and how a date of a query
//! agrees with a date of a record. One rule each, for the node's index and the hub's search.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A date as typed in a query: `1968-03-14`, `14.03.1968`, `14/03/1968` or `14.03.1968.`.
pub fn date(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%Y."]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
}

/// A year as typed: exactly four ASCII digits.
pub fn year(raw: &str) -> Option<i32> {
    (raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse().ok())
        .flatten()
}

/// The same date with day and month swapped, when that is another valid date.
pub fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()).filter(|s| *s != d)
}

/// How a date of a query agrees with a date of a record, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Agreement {
    Exact,
    /// The record's date is the query's with day and month swapped.
    Swapped,
    /// Only the year is the same.
    SameYear,
}

/// How the date `asked` in a query agrees with the date `have` of a record, if at all. Each
/// engine weighs the kinds of agreement its own way (the hub counts no [`Agreement::SameYear`]).
pub fn agreement(asked: NaiveDate, have: NaiveDate) -> Option<Agreement> {
    if asked == have {
        Some(Agreement::Exact)
    } else if swapped(asked) == Some(have) {
        Some(Agreement::Swapped)
    } else if asked.year() == have.year() {
        Some(Agreement::SameYear)
    } else {
        None
    }
}

/// A date-of-birth filter: a year, a day, or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateFilter {
    Year(i32),
    Day(NaiveDate),
    Range(NaiveDate, NaiveDate),
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a date filter: use YYYY, YYYY-MM-DD or FROM..TO (e.g. 1968, 1968-03-14, 1965..1970 or 1968-01-01..1968-06-30)")]
pub struct DateFilterError(pub String);

/// One end of a range: a day, or a year (its first day at the start, its last at the end).
fn bound(s: &str, start: bool) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let y = year(s)?;
    if start {
        NaiveDate::from_ymd_opt(y, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, 12, 31)
    }
}

impl DateFilter {
    /// `YYYY`, `YYYY-MM-DD`, or `FROM..TO` with either form at each end (surrounding spaces
    /// allowed).
    pub fn parse(s: &str) -> Result<DateFilter, DateFilterError> {
        let s = s.trim();
        let err = || DateFilterError(s.to_string());
        if let Some((a, b)) = s.split_once("..") {
            let from = bound(a.trim(), true).ok_or_else(err)?;
            let to = bound(b.trim(), false).ok_or_else(err)?;
            if from > to {
                return Err(err());
            }
            return Ok(DateFilter::Range(from, to));
        }
        if s.len() == 4 {
            return year(s).map(DateFilter::Year).ok_or_else(err);
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(DateFilter::Day)
            .map_err(|_| err())
    }

    pub fn matches(&self, d: NaiveDate) -> bool {
        match *self {
            DateFilter::Year(y) => d.year() == y,
            DateFilter::Day(x) => d == x,
            DateFilter::Range(a, b) => a <= d && d <= b,
        }
    }

    /// The first and last day the filter lets through; `None` for a year chrono cannot hold
    /// (a filter deserialised from a hand-made request).
    pub fn bounds(&self) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            DateFilter::Year(y) => Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            )),
            DateFilter::Day(d) => Some((d, d)),
            DateFilter::Range(a, z) => Some((a, z)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn date_filters() {
        assert_eq!(DateFilter::parse("1968").unwrap(), DateFilter::Year(1968));
        assert_eq!(
            DateFilter::parse(" 1968-03-14 ").unwrap(),
            DateFilter::Day(day(1968, 3, 14))
        );
        let r = DateFilter::parse("1965..1970").unwrap();
        assert_eq!(r, DateFilter::Range(day(1965, 1, 1), day(1970, 12, 31)));
        assert!(r.matches(day(1970, 12, 31)));
        assert!(!r.matches(day(1971, 1, 1)));
        assert_eq!(r.bounds(), Some((day(1965, 1, 1), day(1970, 12, 31))));
        assert_eq!(
            DateFilter::parse("1968-01-01 .. 1968-06-30").unwrap(),
            DateFilter::Range(day(1968, 1, 1), day(1968, 6, 30))
        );
        assert_eq!(
            DateFilter::Year(1968).bounds(),
            Some((day(1968, 1, 1), day(1968, 12, 31)))
        );
        assert_eq!(DateFilter::Year(i32::MAX).bounds(), None);
        for bad in [
            "1970..1965",
            "68",
            "1968-13-01",
            "14.03.1968",
            "-968",
            "+968",
            "..",
            "",
        ] {
            let e = DateFilter::parse(bad).unwrap_err();
            assert!(e.to_string().contains("is not a date filter"), "{bad:?}");
        }
    }

    #[test]
    fn dates_agree_exactly_swapped_or_by_year() {
        let asked = day(1968, 3, 4);
        assert_eq!(agreement(asked, asked), Some(Agreement::Exact));
        assert_eq!(agreement(asked, day(1968, 4, 3)), Some(Agreement::Swapped));
        assert_eq!(
            agreement(asked, day(1968, 12, 1)),
            Some(Agreement::SameYear)
        );
        assert_eq!(agreement(asked, day(1969, 3, 4)), None);
        // 14 March has no swapped reading.
        assert_eq!(swapped(day(1968, 3, 14)), None);
        assert_eq!(swapped(day(1968, 3, 3)), None);
        assert_eq!(year("1968"), Some(1968));
        for not in ["968", "19680", "-968", "+968", "١٩٦٨"] {
            assert_eq!(year(not), None, "{not:?}");
        }
    }
}
