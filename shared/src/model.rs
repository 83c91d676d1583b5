//! The civil-status record model: births, marriages and deaths.
//!
//! Names are kept exactly as typed, in whatever script the clerk used; search and matching work on
//! normalised forms computed from them (see [`crate::normalize`]). Every struct rejects unknown
//! fields, so a misspelt key in a record file is an error, not silently lost data.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The three kinds of civil-status record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Birth,
    Marriage,
    Death,
}

impl RecordKind {
    /// The one-letter code used in registration numbers.
    pub fn letter(self) -> char {
        match self {
            RecordKind::Birth => 'B',
            RecordKind::Marriage => 'M',
            RecordKind::Death => 'D',
        }
    }

    pub fn from_letter(c: char) -> Option<Self> {
        match c {
            'B' => Some(RecordKind::Birth),
            'M' => Some(RecordKind::Marriage),
            'D' => Some(RecordKind::Death),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Birth => "birth",
            RecordKind::Marriage => "marriage",
            RecordKind::Death => "death",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "birth" | "b" => Some(RecordKind::Birth),
            "marriage" | "m" => Some(RecordKind::Marriage),
            "death" | "d" => Some(RecordKind::Death),
            _ => None,
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sex as recorded in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    #[serde(alias = "m", alias = "M")]
    Male,
    #[serde(alias = "f", alias = "F")]
    Female,
}

/// Personal numbers a person may carry. Each is optional: historic records rarely have one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalNumbers {
    /// Yugoslav-era unique master citizen number (JMBG/EMBG), 13 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jmbg: Option<String>,
    /// Kosovo personal number, 10 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kosovo: Option<String>,
    /// Albanian personal number: letter, 8 digits, letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub albanian: Option<String>,
}

impl PersonalNumbers {
    pub fn is_empty(&self) -> bool {
        self.jmbg.is_none() && self.kosovo.is_none() && self.albanian.is_none()
    }

    /// Every number present, with its scheme name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("jmbg", self.jmbg.as_deref()),
            ("kosovo", self.kosovo.as_deref()),
            ("albanian", self.albanian.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A person named in a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Empty only with [`Person::given_name_illegible`], and only in a record a central import
    /// of historic register pages created (see [`crate::validate::Origin`]).
    pub given_name: String,
    /// The given name can not be read in the historic register page (issue 16): set only by
    /// `civreg-hub import` for a row without a given name, and filed there for review.
    #[serde(default, skip_serializing_if = "is_false")]
    pub given_name_illegible: bool,
    pub surname: String,
    /// Surname at birth, where it differs (a mother's maiden surname).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maiden_surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "PersonalNumbers::is_empty")]
    pub personal_numbers: PersonalNumbers,
}

/// A spouse in a marriage record, with the surname before and after the marriage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spouse {
    /// Empty only with [`Spouse::given_name_illegible`], as for a [`Person`].
    pub given_name: String,
    /// The given name can not be read in the historic register page, as
    /// [`Person::given_name_illegible`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub given_name_illegible: bool,
    pub surname_before: String,
    pub surname_after: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "PersonalNumbers::is_empty")]
    pub personal_numbers: PersonalNumbers,
}

/// Where a record stands in the paper registers: book, year, page and entry number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRef {
    pub book: String,
    pub year: i32,
    pub page: u32,
    pub entry: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Birth {
    /// Registering municipality: a gazetteer code.
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The child; `date_of_birth` and `sex` are required.
    pub child: Person,
    pub place_of_birth: String,
    pub mother: Person,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father: Option<Person>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marriage {
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub spouse1: Spouse,
    pub spouse2: Spouse,
    pub date_of_marriage: NaiveDate,
    pub place_of_marriage: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Death {
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub deceased: Person,
    pub date_of_death: NaiveDate,
    pub place_of_death: String,
}

/// A record of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Birth(Birth),
    Marriage(Marriage),
    Death(Death),
}

/// Why a JSON document is not a record of the kind it was said to be.
#[derive(Debug, thiserror::Error)]
#[error("not a valid {kind} record: {}{message}{hint}", path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct ShapeError {
    pub kind: RecordKind,
    /// The dotted path of the offending field, when there is one.
    pub path: Option<String>,
    pub message: String,
    hint: &'static str,
}

fn parse_kind<T: serde::de::DeserializeOwned>(
    kind: RecordKind,
    v: serde_json::Value,
) -> Result<T, ShapeError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let hint = if message.contains("out of range")
            || message.contains("premature end")
            || message.contains("invalid characters")
            || message.contains("input contains invalid")
        {
            " (dates are YYYY-MM-DD and must exist in the calendar)"
        } else {
            ""
        };
        ShapeError {
            kind,
            path: (path != "." && !path.is_empty()).then_some(path),
            message,
            hint,
        }
    })
}

/// One person named in a record, seen uniformly across kinds (for validation, search and matching).
#[derive(Debug, Clone, Copy)]
pub struct PersonView<'a> {
    /// Field path prefix of this person in the record ("child", "mother", "spouse1", ...).
    pub role: &'static str,
    /// Whether the record is *about* this person (the child, the deceased, a spouse).
    pub principal: bool,
    pub given_name: &'a str,
    /// Current surname (for spouses: after marriage).
    pub surname: &'a str,
    /// Other surnames this person went by (maiden surname, surname before marriage).
    pub other_surname: Option<&'a str>,
    pub father_given_name: Option<&'a str>,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub personal_numbers: &'a PersonalNumbers,
}

impl<'a> PersonView<'a> {
    fn of_person(role: &'static str, principal: bool, p: &'a Person) -> Self {
        PersonView {
            role,
            principal,
            given_name: &p.given_name,
            surname: &p.surname,
            other_surname: p.maiden_surname.as_deref(),
            father_given_name: p.father_given_name.as_deref(),
            date_of_birth: p.date_of_birth,
            sex: p.sex,
            personal_numbers: &p.personal_numbers,
        }
    }

    fn of_spouse(role: &'static str, s: &'a Spouse) -> Self {
        PersonView {
            role,
            principal: true,
            given_name: &s.given_name,
            surname: &s.surname_after,
            other_surname: (s.surname_before != s.surname_after)
                .then_some(s.surname_before.as_str()),
            father_given_name: s.father_given_name.as_deref(),
            date_of_birth: s.date_of_birth,
            sex: s.sex,
            personal_numbers: &s.personal_numbers,
        }
    }
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Birth(_) => RecordKind::Birth,
            Record::Marriage(_) => RecordKind::Marriage,
            Record::Death(_) => RecordKind::Death,
        }
    }

    /// Parses a record of the given kind from JSON, rejecting unknown fields.
    pub fn from_json(kind: RecordKind, v: serde_json::Value) -> Result<Self, ShapeError> {
        Ok(match kind {
            RecordKind::Birth => Record::Birth(parse_kind(kind, v)?),
            RecordKind::Marriage => Record::Marriage(parse_kind(kind, v)?),
            RecordKind::Death => Record::Death(parse_kind(kind, v)?),
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        let r = match self {
            Record::Birth(b) => serde_json::to_value(b),
            Record::Marriage(m) => serde_json::to_value(m),
            Record::Death(d) => serde_json::to_value(d),
        };
        // Serialising these plain structs to a Value can not fail: no maps with non-string keys.
        r.unwrap_or(serde_json::Value::Null)
    }

    pub fn municipality(&self) -> &str {
        match self {
            Record::Birth(b) => &b.municipality,
            Record::Marriage(m) => &m.municipality,
            Record::Death(d) => &d.municipality,
        }
    }

    pub fn register(&self) -> Option<&RegisterRef> {
        match self {
            Record::Birth(b) => b.register.as_ref(),
            Record::Marriage(m) => m.register.as_ref(),
            Record::Death(d) => d.register.as_ref(),
        }
    }

    pub fn notes(&self) -> Option<&str> {
        match self {
            Record::Birth(b) => b.notes.as_deref(),
            Record::Marriage(m) => m.notes.as_deref(),
            Record::Death(d) => d.notes.as_deref(),
        }
    }

    /// The date of the event the record registers.
    pub fn event_date(&self) -> Option<NaiveDate> {
        match self {
            Record::Birth(b) => b.child.date_of_birth,
            Record::Marriage(m) => Some(m.date_of_marriage),
            Record::Death(d) => Some(d.date_of_death),
        }
    }

    /// The place of the event, as typed.
    pub fn event_place(&self) -> &str {
        match self {
            Record::Birth(b) => &b.place_of_birth,
            Record::Marriage(m) => &m.place_of_marriage,
            Record::Death(d) => &d.place_of_death,
        }
    }

    /// Everyone named in the record, principals first.
    pub fn people(&self) -> Vec<PersonView<'_>> {
        match self {
            Record::Birth(b) => {
                let mut v = vec![
                    PersonView::of_person("child", true, &b.child),
                    PersonView::of_person("mother", false, &b.mother),
                ];
                if let Some(f) = &b.father {
                    v.push(PersonView::of_person("father", false, f));
                }
                v
            }
            Record::Marriage(m) => vec![
                PersonView::of_spouse("spouse1", &m.spouse1),
                PersonView::of_spouse("spouse2", &m.spouse2),
            ],
            Record::Death(d) => vec![PersonView::of_person("deceased", true, &d.deceased)],
        }
    }

    /// A one-line summary for people: "Arben Gashi, born 1968-03-14 in Prizren".
    pub fn summary(&self) -> String {
        let p = &self.people()[0];
        let name = format!("{} {}", p.given_name, p.surname);
        match self {
            Record::Birth(b) => format!(
                "{name}, born {} in {}",
                b.child
                    .date_of_birth
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "?".into()),
                b.place_of_birth
            ),
            Record::Marriage(m) => format!(
                "{name} and {} {}, married {} in {}",
                m.spouse2.given_name,
                m.spouse2.surname_after,
                m.date_of_marriage,
                m.place_of_marriage
            ),
            Record::Death(d) => format!("{name}, died {} in {}", d.date_of_death, d.place_of_death),
        }
    }
}
