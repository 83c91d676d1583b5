//! Why a search hit matched, one line per part of the query, as data ([`Why`]) that each reader
//! says in their own language ([`Why::text`], through the Fluent catalogues: keys `search-why-*`,
//! `search-field-*`, `search-how-*`, `search-role-*`). The hub's national search gives these
//! with every hit (over gRPC as JSON beside the English lines), and both command lines print
//! them in the language of the reader; the English lines are [`Why::text`] in [`Lang::En`].
//!
//! Each line of a name names the person and the field that matched (given name, surname,
//! surname at birth, father's name, the father's given name) and how (exact, the other
//! community's orthography or script, the same letters without diacritics, sounds alike, typing
//! differences).

use crate::i18n::{Arg, Catalog, Lang};
use serde::{Deserialize, Serialize};

/// The field of a person's name that a query word matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhyField {
    Given,
    Surname,
    /// Surname at birth (a maiden surname, or the surname before marriage).
    Birth,
    /// The person's father's given name, written in the person's own entry.
    Father,
    /// The given name of the person's father, named as a person of the record.
    FathersGiven,
}

impl WhyField {
    fn key(self) -> &'static str {
        match self {
            WhyField::Given => "search-field-given",
            WhyField::Surname => "search-field-surname",
            WhyField::Birth => "search-field-birth",
            WhyField::Father => "search-field-father",
            WhyField::FathersGiven => "search-field-fathers-given",
        }
    }
}

/// How a query word met a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhyHow {
    /// The same name, ignoring script and diacritics.
    Exact,
    /// The same name in the other community's orthography or script (Krasnići for Krasniqi).
    Orthography,
    /// The same letters once diacritics are gone, another spelling (Krasniçi for Krasnići).
    Folded,
    Phonetic,
    /// Within this many typing differences.
    Typos(u32),
    /// The name begins with the word (the node's local search).
    Prefix,
}

/// How a date of the query agrees with the date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateAgrees {
    Exact,
    /// With day and month swapped.
    Swapped,
    No,
}

/// One line of a hit's explanation: a part of the query and how the record meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum Why {
    /// A name word met a name of a person of the record.
    Name {
        /// The word as typed.
        word: String,
        /// The person's given name and surname as written in the record.
        person: String,
        /// The person's surname at birth, when the record gives one.
        #[serde(default)]
        born_as: Option<String>,
        /// The person's role in the record (`child`, `mother`, `father`, `spouse1`, `spouse2`,
        /// `deceased`).
        role: String,
        field: WhyField,
        how: WhyHow,
    },
    /// A name word that no name of the record answers.
    NoName { word: String },
    /// A year of the query, against the date of birth (`born`, when the record has one).
    Year {
        year: i32,
        #[serde(default)]
        born: Option<String>,
        agrees: bool,
    },
    /// A date of the query, against the date of birth.
    Date {
        date: String,
        #[serde(default)]
        born: Option<String>,
        agrees: DateAgrees,
    },
    /// A place of the query that is the record's (registering municipality or place of birth).
    Place { word: String, place: String },
    /// A place of the query that is not the record's.
    NotPlace {
        word: String,
        place: String,
        #[serde(default)]
        record_place: Option<String>,
    },
    /// A personal number of the query, matched exactly.
    Number,
}

/// A role's name in `lang` (`search-role-ROLE`), or the role itself when the catalogues have no
/// such role.
pub fn role_text(lang: Lang, role: &str) -> String {
    let key = format!("search-role-{role}");
    let c = Catalog::get();
    if c.has(lang, &key) {
        c.text(lang, &key)
    } else {
        role.to_string()
    }
}

impl Why {
    /// The line in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let c = Catalog::get();
        let unknown = || c.text(lang, "search-why-unknown-date");
        let opt = |d: &Option<String>| d.clone().unwrap_or_else(unknown);
        match self {
            Why::Name {
                word,
                person,
                born_as,
                role,
                field,
                how,
            } => {
                let person = match born_as {
                    Some(b) => c.format(
                        lang,
                        "search-why-person-born",
                        &[
                            ("name", person.as_str().into()),
                            ("born", b.as_str().into()),
                        ],
                    ),
                    None => person.clone(),
                };
                let how = match how {
                    WhyHow::Exact => c.text(lang, "search-how-exact"),
                    WhyHow::Orthography => c.text(lang, "search-how-orthography"),
                    WhyHow::Folded => c.text(lang, "search-how-folded"),
                    WhyHow::Phonetic => c.text(lang, "search-how-phonetic"),
                    WhyHow::Prefix => c.text(lang, "search-how-prefix"),
                    WhyHow::Typos(n) => {
                        c.format(lang, "search-how-typos", &[("n", Arg::Num(f64::from(*n)))])
                    }
                };
                c.format(
                    lang,
                    "search-why-name",
                    &[
                        ("word", word.as_str().into()),
                        ("person", person.into()),
                        ("role", role_text(lang, role).into()),
                        ("field", c.text(lang, field.key()).into()),
                        ("how", how.into()),
                    ],
                )
            }
            Why::NoName { word } => c.format(
                lang,
                "search-why-no-name",
                &[("word", word.as_str().into())],
            ),
            Why::Year { year, born, agrees } => c.format(
                lang,
                if *agrees {
                    "search-why-year"
                } else {
                    "search-why-year-not"
                },
                &[
                    ("year", year.to_string().into()),
                    ("born", opt(born).into()),
                ],
            ),
            Why::Date { date, born, agrees } => c.format(
                lang,
                match agrees {
                    DateAgrees::Exact => "search-why-date",
                    DateAgrees::Swapped => "search-why-date-swapped",
                    DateAgrees::No => "search-why-date-not",
                },
                &[("date", date.as_str().into()), ("born", opt(born).into())],
            ),
            Why::Place { word, place } => c.format(
                lang,
                "search-why-place",
                &[
                    ("word", word.as_str().into()),
                    ("place", place.as_str().into()),
                ],
            ),
            Why::NotPlace {
                word,
                place,
                record_place,
            } => c.format(
                lang,
                "search-why-place-not",
                &[
                    ("word", word.as_str().into()),
                    ("place", place.as_str().into()),
                    ("record_place", opt(record_place).into()),
                ],
            ),
            Why::Number => c.text(lang, "search-why-number"),
        }
    }

    /// Lines in `lang` from the JSON the hub sends beside its English lines (`explain_json` of
    /// a gRPC `SearchHit`); `None` when it is empty or not understood (a hub of an older
    /// version), so that the caller shows the English lines instead.
    pub fn lines_from_json(json: &str, lang: Lang) -> Option<Vec<String>> {
        if json.trim().is_empty() {
            return None;
        }
        let parts: Vec<Why> = serde_json::from_str(json).ok()?;
        Some(parts.iter().map(|w| w.text(lang)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Why> {
        let mut v = Vec::new();
        for field in [
            WhyField::Given,
            WhyField::Surname,
            WhyField::Birth,
            WhyField::Father,
            WhyField::FathersGiven,
        ] {
            for how in [
                WhyHow::Exact,
                WhyHow::Orthography,
                WhyHow::Folded,
                WhyHow::Phonetic,
                WhyHow::Typos(1),
                WhyHow::Typos(2),
                WhyHow::Prefix,
            ] {
                v.push(Why::Name {
                    word: "Drita".into(),
                    person: "Drita Gashi".into(),
                    born_as: Some("Krasniqi".into()),
                    role: "mother".into(),
                    field,
                    how,
                });
            }
        }
        v.extend([
            Why::NoName {
                word: "Siobhan".into(),
            },
            Why::Year {
                year: 1990,
                born: Some("1990-01-01".into()),
                agrees: true,
            },
            Why::Year {
                year: 1991,
                born: None,
                agrees: false,
            },
            Why::Date {
                date: "1990-01-02".into(),
                born: Some("1990-02-01".into()),
                agrees: DateAgrees::Swapped,
            },
            Why::Date {
                date: "1990-01-02".into(),
                born: Some("1990-01-02".into()),
                agrees: DateAgrees::Exact,
            },
            Why::Date {
                date: "1990-01-03".into(),
                born: None,
                agrees: DateAgrees::No,
            },
            Why::Place {
                word: "Ђакова".into(),
                place: "Gjakovë".into(),
            },
            Why::NotPlace {
                word: "Pejë".into(),
                place: "Pejë".into(),
                record_place: Some("Prizren".into()),
            },
            Why::Number,
        ]);
        v
    }

    /// Every line is said in every language from the catalogues (never a key, never an
    /// unformatted placeholder), differently from English in the other three, and names the
    /// field that matched.
    #[test]
    fn every_line_is_said_in_every_language() {
        for w in every_kind() {
            let en = w.text(Lang::En);
            for lang in Lang::ALL {
                let s = w.text(lang);
                assert!(!s.contains("search-"), "{lang:?} {w:?}: {s}");
                assert!(!s.contains('$') && !s.contains('{'), "{lang:?}: {s}");
                if lang != Lang::En && !matches!(w, Why::Place { .. }) {
                    assert_ne!(s, en, "{lang:?} says {w:?} in English");
                }
            }
        }
        let maiden = Why::Name {
            word: "Krasniqi".into(),
            person: "Drita Gashi".into(),
            born_as: Some("Krasniqi".into()),
            role: "mother".into(),
            field: WhyField::Birth,
            how: WhyHow::Exact,
        };
        assert_eq!(
            maiden.text(Lang::En),
            "\"Krasniqi\": Drita Gashi (born Krasniqi) (mother), surname at birth (maiden surname): exact, ignoring script and diacritics"
        );
        assert!(
            maiden.text(Lang::Sq).contains("nëna"),
            "{}",
            maiden.text(Lang::Sq)
        );
        assert!(
            maiden.text(Lang::SrCyrl).contains("мајка"),
            "{}",
            maiden.text(Lang::SrCyrl)
        );
        let typos = |n| Why::Name {
            word: "Gashi".into(),
            person: "Arben Gashi".into(),
            born_as: None,
            role: "child".into(),
            field: WhyField::Surname,
            how: WhyHow::Typos(n),
        };
        assert!(typos(1).text(Lang::En).ends_with("1 typing difference"));
        assert!(typos(2).text(Lang::En).ends_with("2 typing differences"));
    }

    #[test]
    fn lines_travel_as_json_and_an_older_hub_falls_back() {
        let all = every_kind();
        let json = serde_json::to_string(&all).unwrap();
        let lines = Why::lines_from_json(&json, Lang::SrLatn).unwrap();
        assert_eq!(lines.len(), all.len());
        assert_eq!(lines[0], all[0].text(Lang::SrLatn));
        assert_eq!(Why::lines_from_json("", Lang::Sq), None);
        assert_eq!(
            Why::lines_from_json("[{\"part\":\"nonsense\"}]", Lang::Sq),
            None
        );
        assert_eq!(role_text(Lang::En, "godparent"), "godparent");
    }
}
