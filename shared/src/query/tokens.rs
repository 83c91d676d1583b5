//! What one word of a query is: a personal number, a date, a year, or text (a name or part of a
//! place name). Each rule exists here once; the parser ([`super::parse`]) applies it to every
//! word, and the engines (the node's index, the hub's search) only ever see its result.
//!
//! Also here: the one normal form of a personal number ([`number_key`]) under which both engines
//! index the numbers of records, so that a number read from a query meets the same number read
//! from a record.

use super::dates;
use chrono::NaiveDate;

/// Prefixes a personal number may carry.
const NUMBER_PREFIXES: &[&str] = &["jmbg:", "jmbg=", "pn:", "nrp:", "nr:"];

/// Punctuation around a word that is not part of it (`"Gashi",`, `(1968)`).
pub fn trim_word(raw: &str) -> &str {
    raw.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '"' | '\''))
}

/// One word of a query, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A personal number, in its normal form ([`number_key`]).
    Number(String),
    Date(NaiveDate),
    Year(i32),
    /// Letters: a name, a particle or marker, or a word of a place name.
    Text(&'a str),
    /// Nothing a query can ask for (punctuation, a stray number such as `12`).
    Ignored,
}

/// Classifies one word (already trimmed with [`trim_word`]). The order matters: a personal
/// number before a date (`140396-8950011` is no date), a date before a year.
pub fn classify(word: &str) -> Token<'_> {
    if let Some(n) = personal_number(word) {
        Token::Number(n)
    } else if let Some(d) = dates::date(word) {
        Token::Date(d)
    } else if let Some(y) = dates::year(word) {
        Token::Year(y)
    } else if word.chars().any(char::is_alphabetic) {
        Token::Text(word)
    } else {
        Token::Ignored
    }
}

/// The normalised form of a personal number (letters and digits, uppercase) if `raw` is one:
/// 9 or more digits (separators `-`, `/`, `.` allowed), or a letter, 8 digits and a letter, with
/// an optional `JMBG:`/`PN:`/`NRP:` prefix.
pub fn personal_number(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    let body = NUMBER_PREFIXES
        .iter()
        .find_map(|p| lower.strip_prefix(p).map(|_| &raw[p.len()..]))
        .unwrap_or(raw);
    let had_prefix = body.len() != raw.len();
    let clean: String = body
        .chars()
        .filter(|c| !matches!(c, '-' | '/' | '.' | ' '))
        .collect();
    if clean.is_empty() || !clean.is_ascii() {
        return None;
    }
    let b = clean.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let number = (b.len() >= 9 && b.len() <= 20 && digits(b))
        || (b.len() == 10
            && b[0].is_ascii_alphabetic()
            && b[9].is_ascii_alphabetic()
            && digits(&b[1..9]))
        // After an explicit prefix, any short run of letters and digits is taken as a number
        // (it is then only ever matched exactly).
        || (had_prefix && b.len() <= 20 && b.iter().all(u8::is_ascii_alphanumeric));
    number.then(|| number_key(&clean))
}

/// The form under which a record's personal number is indexed, and in which [`personal_number`]
/// gives a query's: ASCII letters and digits only, uppercase (`140396-8950011` →
/// `1403968950011`, `g85314001t` → `G85314001T`). The hub blinds this form, so changing it
/// means rebuilding the hub's index.
pub fn number_key(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// How a query text must be read: the expected outcome of a row of [`TRICKY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A personal number, in its normal form.
    Number(&'static str),
    /// A date (year, month, day); with the day and month swapped when that is another date.
    Date {
        ymd: (i32, u32, u32),
        swapped: Option<(i32, u32, u32)>,
    },
    Year(i32),
    /// A place, by the municipality codes it covers.
    Place(&'static [&'static str]),
    /// Name words, folded, in order.
    Names(&'static [&'static str]),
}

/// One query text whose reading is easy to get wrong.
#[derive(Debug, Clone, Copy)]
pub struct Tricky {
    pub text: &'static str,
    pub reading: Reading,
}

/// The one table of tricky query texts. The parser's tests assert it, and the node's index and the
/// hub's search are each tested to answer every row as it says (a record found for the reason
/// the reading gives), so that neither engine can read a word its own way unnoticed. The rows
/// that name a person describe Shpresa Krasniqi-Gashi, born 14 March 1968 in Fushë Kosovë
/// (JMBG 1403968955005, Albanian number G85314001T, both valid for that birth), and Besa
/// Berisha, born 3 April 1968; see the engines' tests.
pub const TRICKY: &[Tricky] = &[
    Tricky {
        text: "1968",
        reading: Reading::Year(1968),
    },
    Tricky {
        text: "14.03.1968",
        reading: Reading::Date {
            ymd: (1968, 3, 14),
            swapped: None,
        },
    },
    Tricky {
        text: "14.03.1968.",
        reading: Reading::Date {
            ymd: (1968, 3, 14),
            swapped: None,
        },
    },
    Tricky {
        text: "14/03/1968",
        reading: Reading::Date {
            ymd: (1968, 3, 14),
            swapped: None,
        },
    },
    Tricky {
        text: "1968-03-14",
        reading: Reading::Date {
            ymd: (1968, 3, 14),
            swapped: None,
        },
    },
    // Day and month swapped: 4 March asked, Besa was born on 3 April.
    Tricky {
        text: "04.03.1968",
        reading: Reading::Date {
            ymd: (1968, 3, 4),
            swapped: Some((1968, 4, 3)),
        },
    },
    Tricky {
        text: "1403968955005",
        reading: Reading::Number("1403968955005"),
    },
    Tricky {
        text: "JMBG:1403968955005",
        reading: Reading::Number("1403968955005"),
    },
    Tricky {
        text: "140396-8955005",
        reading: Reading::Number("1403968955005"),
    },
    // The Albanian personal number: letter, 8 digits, letter.
    Tricky {
        text: "G85314001T",
        reading: Reading::Number("G85314001T"),
    },
    Tricky {
        text: "g85314001t",
        reading: Reading::Number("G85314001T"),
    },
    // A place in Cyrillic, of two words.
    Tricky {
        text: "Косово Поље",
        reading: Reading::Place(&["fushe-kosove"]),
    },
    // A hyphenated double surname: two name words.
    Tricky {
        text: "Krasniqi-Gashi",
        reading: Reading::Names(&["krasniqi", "gashi"]),
    },
];
