//! The search query language, one parser for the hub's national search and the node's local one.
//!
//! A query is free text: names in any script, years (`1968`), dates (`1968-03-14`, `14.03.1968`,
//! `14/03/1968`, `14.03.1968.`), places by any of their names, also of several words ("Kosovo
//! Polje", "Mitrovicë e Jugut", "Kosovska Mitrovica", which covers both Mitrovica
//! municipalities), and personal numbers (a run of 9 or more digits: a JMBG or a Kosovo number; an
//! Albanian number, a letter, 8 digits and a letter; with an optional `JMBG:`, `PN:` or `NRP:`
//! prefix). Every other word is a name.
//!
//! Name words keep their order (given name, father's name, surname in the Albanian way; surname
//! first in registers). The patronymic particles `i` and `e` ("Arben i Besnikut") are dropped.
//! "e lindur", "i lindur", "lindur", "rođena", "rodjena", "рођена", "рођ", "née" and "nee" say that
//! the next name is a surname at birth (a maiden surname): that word is marked
//! [`NameRole::Birth`]. A double surname ("Krasniqi-Gashi") is two name words.
//!
//! A single word that names a place ("Gjakova", "Peja") may also be a surname: it is a
//! [`Place`] with `also_name` set, and each engine decides how to weigh the two readings.
//!
//! Bounded: the parser works on at most `MAX_QUERY_BYTES` of text (callers check the limits
//! first with [`crate::limits::check_search`]); it never panics on any input.

use crate::gazetteer;
use crate::normalize;
use chrono::{Datelike, NaiveDate};

/// How a name word of a query is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    /// Any name of a person (given name, surname, father's name, earlier surname).
    Any,
    /// A surname at birth (after "e lindur", "rođena", "née").
    Birth,
}

/// One name word of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameWord {
    /// The word as typed (one token: letters with their diacritics, any script), for the
    /// orthographic layer ([`normalize::orthographic_expansions`]).
    pub typed: String,
    /// Its folded form ([`normalize::fold`]).
    pub folded: String,
    pub role: NameRole,
}

/// A place named in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The words as typed.
    pub typed: String,
    /// The municipality codes it covers (one, or both Mitrovicas for "Kosovska Mitrovica").
    pub codes: Vec<&'static str>,
    /// The display name ("Gjakovë/Đakovica", or the typed name for a group).
    pub display: String,
    /// A single word that may also be a surname ("Gjakova"): its name reading.
    pub also_name: Option<NameWord>,
}

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub names: Vec<NameWord>,
    pub years: Vec<i32>,
    pub dates: Vec<NaiveDate>,
    pub places: Vec<Place>,
    /// Personal numbers: ASCII letters and digits only, uppercase (`1403968950011`, `J12345678K`).
    pub numbers: Vec<String>,
}

impl ParsedQuery {
    /// Whether the query asks for anything.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.years.is_empty()
            && self.dates.is_empty()
            && self.places.is_empty()
            && self.numbers.is_empty()
    }

    /// How many parts the query has (name words, years, dates, places, numbers): what "matches
    /// every part" counts.
    pub fn parts(&self) -> usize {
        self.names.len()
            + self.years.len()
            + self.dates.len()
            + self.places.len()
            + self.numbers.len()
    }
}

/// Prefixes a personal number may carry.
const NUMBER_PREFIXES: &[&str] = &["jmbg:", "jmbg=", "pn:", "nrp:", "nr:"];

/// Words that mark the next name as a surname at birth (folded). "e lindur"/"i lindur" drop their
/// particle as every particle is dropped.
const BIRTH_MARKERS: &[&str] = &[
    "lindur", "lindura", "rodjena", "rodena", "rodj", "rod", "nee", "born",
];

/// Patronymic particles (folded), dropped.
const PARTICLES: &[&str] = &["i", "e"];

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
    number.then(|| clean.to_ascii_uppercase())
}

/// A date as typed in a query.
pub fn date(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%Y."]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
}

/// The same date with day and month swapped, when that is another valid date.
pub fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()).filter(|s| *s != d)
}

/// Longest run of words tried as one place name.
const MAX_PLACE_WORDS: usize = 4;

/// Parses free text (see the module documentation).
pub fn parse(text: &str) -> ParsedQuery {
    let mut q = ParsedQuery::default();
    // Text words, in order, before places are recognised.
    let mut words: Vec<&str> = Vec::new();
    for raw in text.split_whitespace() {
        let raw = raw.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '"' | '\''));
        if raw.is_empty() {
            continue;
        }
        if let Some(n) = personal_number(raw) {
            q.numbers.push(n);
        } else if let Some(d) = date(raw) {
            q.dates.push(d);
        } else if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
            q.years.extend(raw.parse::<i32>().ok());
        } else if raw.chars().any(char::is_alphabetic) {
            words.push(raw);
        }
    }
    // Places: the longest run of up to four words that names a place; then names.
    let mut birth_next = false;
    let mut i = 0;
    while i < words.len() {
        let mut took = 0;
        for n in (1..=MAX_PLACE_WORDS.min(words.len() - i)).rev() {
            let span = words[i..i + n].join(" ");
            // A run that starts or ends with a particle is no place ("e Jugut" alone).
            let f = normalize::tokens(&span);
            if f.first().is_some_and(|w| PARTICLES.contains(&w.as_str()))
                || f.last().is_some_and(|w| PARTICLES.contains(&w.as_str()))
            {
                continue;
            }
            let ms = gazetteer::resolve_places(&span);
            if ms.is_empty() {
                continue;
            }
            let display = if ms.len() == 1 {
                ms[0].display()
            } else {
                span.clone()
            };
            let also_name = (n == 1 && f.len() == 1 && !birth_next).then(|| NameWord {
                typed: words[i].to_string(),
                folded: f[0].clone(),
                role: NameRole::Any,
            });
            q.places.push(Place {
                typed: span,
                codes: ms.iter().map(|m| m.code).collect(),
                display,
                also_name,
            });
            took = n;
            break;
        }
        if took > 0 {
            i += took;
            continue;
        }
        // A word of several tokens ("Krasniqi-Gashi") gives a name word per token; the typed
        // spelling is split the same way so that each keeps its diacritics.
        let typed_parts: Vec<&str> = words[i]
            .split(|c: char| !(c.is_alphanumeric() || unicode_normalization_mark(c)))
            .filter(|p| p.chars().any(char::is_alphanumeric))
            .collect();
        for part in typed_parts {
            let folded = normalize::fold(part);
            for tok in folded.split(' ').filter(|t| !t.is_empty()) {
                if BIRTH_MARKERS.contains(&tok) {
                    birth_next = true;
                    continue;
                }
                if PARTICLES.contains(&tok) {
                    continue;
                }
                q.names.push(NameWord {
                    typed: part.to_string(),
                    folded: tok.to_string(),
                    role: if birth_next {
                        NameRole::Birth
                    } else {
                        NameRole::Any
                    },
                });
                birth_next = false;
            }
        }
        i += 1;
    }
    q
}

/// Combining marks stay inside a word (a name typed in decomposed form).
fn unicode_normalization_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(q: &ParsedQuery) -> Vec<(&str, NameRole)> {
        q.names
            .iter()
            .map(|n| (n.folded.as_str(), n.role))
            .collect()
    }

    #[test]
    fn names_years_dates_and_numbers() {
        let q = parse("Arben Gashi 1968 14.03.1968 1403968950011");
        assert_eq!(
            names(&q),
            [("arben", NameRole::Any), ("gashi", NameRole::Any)]
        );
        assert_eq!(q.years, [1968]);
        assert_eq!(q.dates, [NaiveDate::from_ymd_opt(1968, 3, 14).unwrap()]);
        assert_eq!(q.numbers, ["1403968950011"]);
        assert_eq!(q.parts(), 5);
    }

    #[test]
    fn personal_numbers_in_every_form() {
        // A Kosovo number (10 digits), a JMBG (13), an Albanian number (letter, 8 digits,
        // letter), with a prefix, and with separators.
        for (typed, want) in [
            ("1234567890", "1234567890"),
            ("1403968950011", "1403968950011"),
            ("J12345678K", "J12345678K"),
            ("j12345678k", "J12345678K"),
            ("JMBG:1403968950011", "1403968950011"),
            ("jmbg:1403968950011", "1403968950011"),
            ("PN:1234567890", "1234567890"),
            ("140396-8950011", "1403968950011"),
        ] {
            let q = parse(&format!("Gashi {typed}"));
            assert_eq!(q.numbers, [want], "{typed:?}");
            assert_eq!(names(&q), [("gashi", NameRole::Any)], "{typed:?}");
        }
        for not in [
            "1968",
            "12345678",
            "Gashi",
            "J1234567K",
            "JMBG",
            "Љ12345678К",
        ] {
            assert_eq!(personal_number(not), None, "{not:?}");
        }
    }

    #[test]
    fn father_name_double_surname_particles_and_nee() {
        let q = parse("Arben Besnik Gashi");
        assert_eq!(q.names.len(), 3);
        let q = parse("Drita Krasniqi-Gashi");
        assert_eq!(
            names(&q),
            [
                ("drita", NameRole::Any),
                ("krasniqi", NameRole::Any),
                ("gashi", NameRole::Any)
            ]
        );
        assert_eq!(q.names[1].typed, "Krasniqi");
        for text in [
            "Drita Gashi e lindur Krasniqi",
            "Drita Gashi lindur Krasniqi",
            "Дрита Гаши рођена Краснићи",
            "Drita Gaši rođena Krasnići",
            "Drita Gashi née Krasniqi",
        ] {
            let q = parse(text);
            let n = names(&q);
            assert_eq!(n.len(), 3, "{text:?}: {n:?}");
            assert_eq!(n[2].1, NameRole::Birth, "{text:?}");
            assert_eq!(n[0].1, NameRole::Any, "{text:?}");
            assert_eq!(n[1].1, NameRole::Any, "{text:?}");
        }
        // The Cyrillic word keeps its letters for the orthographic layer.
        let q = parse("Дрита Гаши рођена Краснићи");
        assert_eq!(q.names[2].typed, "Краснићи");
        let q = parse("Arben i Besnikut Gashi");
        assert_eq!(q.names.len(), 3);
    }

    #[test]
    fn places_of_one_or_several_words() {
        let q = parse("Хоџа Косовска Митровица");
        assert_eq!(names(&q), [("hodza", NameRole::Any)]);
        assert_eq!(q.places.len(), 1);
        assert_eq!(q.places[0].codes, ["mitrovice-jugut", "mitrovice-veriut"]);
        for (text, code) in [
            ("Ђакова", "gjakove"),
            ("Fushë Kosovë", "fushe-kosove"),
            ("Kosovo Polje", "fushe-kosove"),
            ("Suva Reka", "suhareke"),
            ("Mitrovicë e Jugut", "mitrovice-jugut"),
            ("Južna Mitrovica", "mitrovice-jugut"),
        ] {
            let q = parse(text);
            assert!(q.names.is_empty(), "{text:?}: {q:?}");
            assert_eq!(q.places.len(), 1, "{text:?}");
            assert_eq!(q.places[0].codes, [code], "{text:?}");
        }
        // A one-word place may be a surname; a multi-word one is not.
        let q = parse("Besa Gjakova");
        assert_eq!(names(&q), [("besa", NameRole::Any)]);
        assert_eq!(
            q.places[0].also_name.as_ref().map(|n| n.folded.as_str()),
            Some("gjakova")
        );
        assert!(parse("Kosovo Polje").places[0].also_name.is_none());
        let q = parse("Arben Gashi 1968 Prizren");
        assert_eq!(q.names.len(), 2);
        assert_eq!(q.places[0].codes, ["prizren"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in proptest::prelude::any::<String>()) {
            let q = parse(&s);
            for n in &q.names {
                proptest::prop_assert!(!n.folded.is_empty() && !n.folded.contains(' '));
            }
            for n in &q.numbers {
                proptest::prop_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
            }
        }
    }
}
