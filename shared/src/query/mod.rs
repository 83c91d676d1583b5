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
//! How a record answers a parsed query (one query word, one name; the name words within one
//! person, the principal first) is [`rank`], the one rule of both engines.
//!
//! Each word is classified once, by [`tokens::classify`] (number, date, year or text); the dates
//! of a query, the date-of-birth filter and how a date agrees with a record's are in [`dates`].
//! The node's index and the hub's search take what these give and classify nothing themselves:
//! [`tokens::TRICKY`] is the table of readings both are tested against.
//!
//! Bounded: the parser works on at most `MAX_QUERY_BYTES` of text (callers check the limits
//! first with [`crate::limits::check_search`]); it never panics on any input.

pub mod dates;
pub mod rank;
pub mod tokens;
pub mod why;

pub use dates::{agreement, date, swapped, year, Agreement, DateFilter, DateFilterError};
pub use tokens::{classify, number_key, personal_number, Token};
pub use why::{DateAgrees, Why, WhyField, WhyHow};

use crate::gazetteer;
use crate::normalize;
use chrono::NaiveDate;

/// How a name word of a query is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    /// Any name of a person (given name, surname, father's name, earlier surname).
    Any,
    /// A surname at birth (after "e lindur", "rođena", "née").
    Birth,
    /// The given name of the mother of the person sought (after "nëna", "majka", "мајка",
    /// "mother").
    Mother,
    /// The given name of the father of the person sought (after "babai", "i ati", "otac",
    /// "отац", "father").
    Father,
}

impl NameRole {
    /// Whether the word names a parent of the person sought, not the person.
    pub fn is_parent(self) -> bool {
        matches!(self, NameRole::Mother | NameRole::Father)
    }
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

/// Words that mark the next name as a surname at birth (folded). "e lindur"/"i lindur" drop their
/// particle as every particle is dropped.
const BIRTH_MARKERS: &[&str] = &[
    "lindur", "lindura", "rodjena", "rodena", "rodj", "rod", "nee", "born",
];

/// Words that mark the next name as the mother's or the father's given name (folded): how a
/// clerk labels a parent in free text ("Arben Gashi nëna Drita", "Marko Petrović majka Jelena",
/// "emri i nënës Drita", "ime oca Petar"). Only after a name (a query "Nena Gashi" is about
/// Nena) and before one (a label with nothing after it is read as a name).
const PARENT_MARKERS: &[(&str, NameRole)] = &[
    ("nena", NameRole::Mother),
    ("nenes", NameRole::Mother),
    ("majka", NameRole::Mother),
    ("majke", NameRole::Mother),
    ("mother", NameRole::Mother),
    ("babai", NameRole::Father),
    ("babait", NameRole::Father),
    ("ati", NameRole::Father),
    ("atit", NameRole::Father),
    ("otac", NameRole::Father),
    ("oca", NameRole::Father),
    ("father", NameRole::Father),
];

/// Words around a parent's label that say nothing more ("**emri** i nënës", "**ime** oca").
const LABEL_WORDS: &[&str] = &["emri", "ime"];

/// Patronymic particles (folded), dropped.
const PARTICLES: &[&str] = &["i", "e"];

/// Longest run of words tried as one place name.
const MAX_PLACE_WORDS: usize = 4;

/// Parses free text (see the module documentation).
pub fn parse(text: &str) -> ParsedQuery {
    let mut q = ParsedQuery::default();
    // Text words, in order, before places are recognised.
    let mut words: Vec<&str> = Vec::new();
    for raw in text.split_whitespace() {
        match tokens::classify(tokens::trim_word(raw)) {
            Token::Number(n) => q.numbers.push(n),
            Token::Date(d) => q.dates.push(d),
            Token::Year(y) => q.years.push(y),
            Token::Text(w) => words.push(w),
            Token::Ignored => {}
        }
    }
    // Places: the longest run of up to four words that names a place; then names.
    let mut birth_next = false;
    // A parent's label waiting for its name: (role, the label as typed, folded).
    let mut parent_next: Option<(NameRole, String, String)> = None;
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
                if !q.names.is_empty() && !birth_next {
                    if let Some(&(_, role)) = PARENT_MARKERS.iter().find(|(m, _)| *m == tok) {
                        parent_next = Some((role, part.to_string(), tok.to_string()));
                        continue;
                    }
                    // "emri i nënës": the label's first word, when a label follows.
                    if LABEL_WORDS.contains(&tok) && label_follows(&words[i + 1..]) {
                        continue;
                    }
                }
                let role = match parent_next.take() {
                    Some((role, _, _)) => role,
                    None if birth_next => NameRole::Birth,
                    None => NameRole::Any,
                };
                q.names.push(NameWord {
                    typed: part.to_string(),
                    folded: tok.to_string(),
                    role,
                });
                birth_next = false;
            }
        }
        i += 1;
    }
    // A label with no name after it is a name itself.
    if let Some((_, typed, folded)) = parent_next {
        q.names.push(NameWord {
            typed,
            folded,
            role: NameRole::Any,
        });
    }
    q
}

/// Whether the next words of a query begin with a parent's label (after "emri"/"ime").
fn label_follows(rest: &[&str]) -> bool {
    rest.iter()
        .flat_map(|w| normalize::tokens(w))
        .find(|t| !PARTICLES.contains(&t.as_str()))
        .is_some_and(|t| PARENT_MARKERS.iter().any(|(m, _)| *m == t))
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
    fn a_parent_labelled_by_the_clerk() {
        for (text, parent, role) in [
            ("Arben Gashi nëna Drita", "drita", NameRole::Mother),
            ("Arben Gashi nena: Drita", "drita", NameRole::Mother),
            ("Arben Gashi emri i nënës Drita", "drita", NameRole::Mother),
            ("Marko Petrović majka Jelena", "jelena", NameRole::Mother),
            ("Марко Петровић мајка Јелена", "jelena", NameRole::Mother),
            (
                "Marko Petrović ime majke Jelena",
                "jelena",
                NameRole::Mother,
            ),
            ("Arben Gashi i ati Besnik", "besnik", NameRole::Father),
            ("Arben Gashi babai Besnik", "besnik", NameRole::Father),
            ("Marko Petrović otac Petar", "petar", NameRole::Father),
            ("Марко Петровић отац Петар", "petar", NameRole::Father),
        ] {
            let q = parse(text);
            let n = names(&q);
            assert_eq!(n.len(), 3, "{text:?}: {n:?}");
            assert_eq!(n[2], (parent, role), "{text:?}");
            assert_eq!(n[0].1, NameRole::Any, "{text:?}");
            assert_eq!(n[1].1, NameRole::Any, "{text:?}");
        }
        // A label first is a name (Nena is a given name); a label with nothing after it too.
        assert_eq!(
            names(&parse("Nena Gashi")),
            [("nena", NameRole::Any), ("gashi", NameRole::Any)]
        );
        assert_eq!(
            names(&parse("Arben Gashi nëna")),
            [
                ("arben", NameRole::Any),
                ("gashi", NameRole::Any),
                ("nena", NameRole::Any)
            ]
        );
        // "Ime" is only a label word before a label.
        assert_eq!(names(&parse("Arben Ime Gashi")).len(), 3);
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

    /// Every row of the one table of tricky texts is read as it says, and as nothing else.
    #[test]
    fn the_tricky_table_is_read_as_it_says() {
        use tokens::{Reading, TRICKY};
        let ymd = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for row in TRICKY {
            let q = parse(row.text);
            let mut want = ParsedQuery::default();
            match row.reading {
                Reading::Number(n) => want.numbers.push(n.to_string()),
                Reading::Date { ymd: d, swapped: s } => {
                    want.dates.push(ymd(d));
                    assert_eq!(swapped(ymd(d)), s.map(ymd), "{:?}", row.text);
                }
                Reading::Year(y) => want.years.push(y),
                Reading::Place(codes) => {
                    assert_eq!(q.places.len(), 1, "{:?}: {q:?}", row.text);
                    assert_eq!(q.places[0].codes, codes, "{:?}", row.text);
                    assert_eq!(q.parts(), 1, "{:?}: {q:?}", row.text);
                    continue;
                }
                Reading::Names(n) => {
                    let folded: Vec<&str> = q.names.iter().map(|w| w.folded.as_str()).collect();
                    assert_eq!(folded, n, "{:?}", row.text);
                    assert_eq!(q.parts(), n.len(), "{:?}: {q:?}", row.text);
                    continue;
                }
            }
            assert_eq!(q, want, "{:?}", row.text);
        }
        // Tokens that look like one class and are another, or nothing.
        assert_eq!(classify("03.14.1968"), Token::Ignored, "no 14th month");
        assert_eq!(classify("12345678"), Token::Ignored, "8 digits: no number");
        assert_eq!(classify("19680"), Token::Ignored);
        assert_eq!(classify("1968."), Token::Ignored);
        assert_eq!(classify("G8531400T"), Token::Text("G8531400T"));
        assert_eq!(number_key(" g85314001t "), "G85314001T");
        assert_eq!(number_key("140396-8955005"), "1403968955005");
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
