//! The registration forms: which fields each kind of record has (following
//! `civreg_shared::model`), how a posted form becomes the record document the node registers,
//! and how validation problems go back next to their fields.
//!
//! Input names are the record's dotted field paths (`child.personal_numbers.jmbg`), the same
//! paths validation reports problems on, so a problem finds its field without a table.

use chrono::NaiveDate;
use civreg_shared::fields::{self, FieldMap};
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::model::RecordKind;
use civreg_shared::validate::{Problem, Severity};
use serde::Serialize;
use serde_json::Value;

/// How a field is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    Date,
    Sex,
    Jmbg,
    Number,
    Place,
    Notes,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Text => "text",
            Input::Date => "date",
            Input::Sex => "sex",
            Input::Jmbg => "jmbg",
            Input::Number => "number",
            Input::Place => "place",
            Input::Notes => "notes",
        }
    }
}

/// One field of a form.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub path: &'static str,
    pub label: &'static str,
    pub input: Input,
    /// A text the model requires (sent as "" when empty, so validation names it).
    pub required: bool,
}

/// A group of fields, shown as one fieldset.
#[derive(Debug, Clone)]
pub struct Section {
    pub id: &'static str,
    pub label: &'static str,
    /// The object these fields belong to (`father`, `register`), left out of the record when
    /// every field of it is empty; `None` for fields of the record itself.
    pub optional_group: Option<&'static str>,
    pub fields: Vec<Spec>,
}

const fn f(path: &'static str, label: &'static str, input: Input, required: bool) -> Spec {
    Spec {
        path,
        label,
        input,
        required,
    }
}

fn person(prefix: &'static str, with_sex: bool, with_maiden: bool) -> Vec<Spec> {
    // The forms are built once (`sections`), so these few paths are leaked once.
    let p = |s: &str| -> &'static str { Box::leak(format!("{prefix}.{s}").into_boxed_str()) };
    let mut v = vec![
        f(p("given_name"), "f-given-name", Input::Text, true),
        f(p("surname"), "f-surname", Input::Text, true),
    ];
    if with_maiden {
        v.push(f(
            p("maiden_surname"),
            "f-maiden-surname",
            Input::Text,
            false,
        ));
    }
    v.push(f(
        p("father_given_name"),
        "f-father-given-name",
        Input::Text,
        false,
    ));
    v.push(f(p("date_of_birth"), "f-date-of-birth", Input::Date, false));
    if with_sex {
        v.push(f(p("sex"), "f-sex", Input::Sex, false));
    }
    v.push(f(p("personal_numbers.jmbg"), "f-jmbg", Input::Jmbg, false));
    v.push(f(
        p("personal_numbers.kosovo"),
        "f-kosovo",
        Input::Number,
        false,
    ));
    v.push(f(
        p("personal_numbers.albanian"),
        "f-albanian",
        Input::Text,
        false,
    ));
    v
}

fn spouse(prefix: &'static str) -> Vec<Spec> {
    let mut v = person(prefix, true, false);
    // A spouse has a surname before and after instead of one surname.
    let before: &'static str = Box::leak(format!("{prefix}.surname_before").into_boxed_str());
    let after: &'static str = Box::leak(format!("{prefix}.surname_after").into_boxed_str());
    v[1] = f(before, "f-surname-before", Input::Text, true);
    v.insert(2, f(after, "f-surname-after", Input::Text, true));
    v
}

fn register_and_notes() -> Vec<Section> {
    vec![
        Section {
            id: "register",
            label: "section-register",
            optional_group: Some("register"),
            fields: vec![
                f("register.book", "f-book", Input::Text, false),
                f("register.year", "f-year", Input::Number, false),
                f("register.page", "f-page", Input::Number, false),
                f("register.entry", "f-entry", Input::Number, false),
            ],
        },
        Section {
            id: "notes",
            label: "f-notes",
            optional_group: None,
            fields: vec![f("notes", "f-notes", Input::Notes, false)],
        },
    ]
}

/// The sections of a kind's form, built once.
pub fn sections(kind: RecordKind) -> &'static [Section] {
    static FORMS: std::sync::OnceLock<[Vec<Section>; 3]> = std::sync::OnceLock::new();
    let all = FORMS.get_or_init(|| {
        let birth = {
            let mut v = vec![
                Section {
                    id: "child",
                    label: "section-child",
                    optional_group: None,
                    fields: person("child", true, false),
                },
                Section {
                    id: "place",
                    label: "f-place-of-birth",
                    optional_group: None,
                    fields: vec![f("place_of_birth", "f-place-of-birth", Input::Place, true)],
                },
                Section {
                    id: "mother",
                    label: "section-mother",
                    optional_group: None,
                    fields: person("mother", false, true),
                },
                Section {
                    id: "father",
                    label: "section-father",
                    optional_group: Some("father"),
                    fields: person("father", false, false),
                },
            ];
            v.extend(register_and_notes());
            v
        };
        let marriage = {
            let mut v = vec![
                Section {
                    id: "spouse1",
                    label: "section-spouse1",
                    optional_group: None,
                    fields: spouse("spouse1"),
                },
                Section {
                    id: "spouse2",
                    label: "section-spouse2",
                    optional_group: None,
                    fields: spouse("spouse2"),
                },
                Section {
                    id: "marriage",
                    label: "section-marriage",
                    optional_group: None,
                    fields: vec![
                        f("date_of_marriage", "f-date-of-marriage", Input::Date, false),
                        f(
                            "place_of_marriage",
                            "f-place-of-marriage",
                            Input::Place,
                            true,
                        ),
                    ],
                },
            ];
            v.extend(register_and_notes());
            v
        };
        let death = {
            let mut v = vec![
                Section {
                    id: "deceased",
                    label: "section-deceased",
                    optional_group: None,
                    fields: person("deceased", true, false),
                },
                Section {
                    id: "death",
                    label: "section-death",
                    optional_group: None,
                    fields: vec![
                        f("date_of_death", "f-date-of-death", Input::Date, false),
                        f("place_of_death", "f-place-of-death", Input::Place, true),
                    ],
                },
            ];
            v.extend(register_and_notes());
            v
        };
        [birth, marriage, death]
    });
    match kind {
        RecordKind::Birth => &all[0],
        RecordKind::Marriage => &all[1],
        RecordKind::Death => &all[2],
    }
}

/// The label key of a field path, for the record page (`None` for paths no form shows, such as
/// annotations).
pub fn label_of(kind: RecordKind, path: &str) -> Option<&'static str> {
    sections(kind)
        .iter()
        .flat_map(|s| s.fields.iter())
        .find(|f| f.path == path)
        .map(|f| f.label)
}

/// The date typed as `14.03.1968`, `14.3.1968.`, `14/03/1968` or `1968-03-14`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim().trim_end_matches('.');
    ["%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y"]
        .iter()
        .find_map(|fmt| NaiveDate::parse_from_str(s, fmt).ok())
        // A two-digit year (`14.03.68`) is not guessed at.
        .filter(|d| chrono::Datelike::year(d) >= 1000)
}

/// A problem of the form itself (before validation), on a field.
fn form_problem(field: &str, code: &'static str) -> Problem {
    Problem {
        field: field.to_string(),
        severity: Severity::Error,
        code,
        message: String::new(),
    }
}

/// Codes of problems the form finds itself; their messages are in the catalogues too.
pub const FORM_CODES: &[(&str, &str)] = &[
    ("form.date", "form-date"),
    ("form.number", "form-number"),
    ("form.register_incomplete", "form-register-incomplete"),
];

/// The record document of a posted form, and the problems that keep it from being the whole
/// record (a date that is not a date, a number that is not a number, a half-given register
/// reference): the document then leaves those fields out, so that the rest can still be
/// validated and every problem shown at once.
pub fn document(kind: RecordKind, get: impl Fn(&str) -> String) -> (Value, Vec<Problem>) {
    let mut map = FieldMap::new();
    let mut problems = Vec::new();
    for section in sections(kind) {
        let given: Vec<(&Spec, String)> = section
            .fields
            .iter()
            .map(|s| (s, get(s.path).trim().to_string()))
            .collect();
        let any = given.iter().any(|(_, v)| !v.is_empty());
        if section.optional_group.is_some() && !any {
            continue;
        }
        if section.optional_group == Some("register") && given.iter().any(|(_, v)| v.is_empty()) {
            for (s, v) in &given {
                if v.is_empty() {
                    problems.push(form_problem(s.path, "form.register_incomplete"));
                }
            }
            continue;
        }
        for (spec, v) in given {
            if v.is_empty() {
                if spec.required {
                    map.insert(spec.path.to_string(), Value::String(String::new()));
                } else if spec.input == Input::Date && !spec.path.contains('.') {
                    // The event's own date (marriage, death) is required by the model.
                    problems.push(Problem {
                        field: spec.path.to_string(),
                        severity: Severity::Error,
                        code: "field.required",
                        message: String::new(),
                    });
                }
                continue;
            }
            let value = match spec.input {
                Input::Date => match parse_date(&v) {
                    Some(d) => Value::String(d.format("%Y-%m-%d").to_string()),
                    None => {
                        problems.push(form_problem(spec.path, "form.date"));
                        continue;
                    }
                },
                Input::Number if spec.path.starts_with("register.") => match v.parse::<u32>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        problems.push(form_problem(spec.path, "form.number"));
                        continue;
                    }
                },
                Input::Jmbg => Value::String(v.split_whitespace().collect()),
                _ => Value::String(v),
            };
            map.insert(spec.path.to_string(), value);
        }
    }
    (fields::unflatten(&map), problems)
}

/// The values to show in a form for a stored record (dates as `14.03.1968`).
pub fn values_of(fields: &FieldMap) -> std::collections::BTreeMap<String, String> {
    fields
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) if k.ends_with("date_of_birth") || k.starts_with("date_of_") => {
                        d.format("%d.%m.%Y").to_string()
                    }
                    _ => s.clone(),
                },
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

/// A problem as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub severity: &'static str,
    pub code: String,
    pub text: String,
}

/// The sentence for a problem code in `lang`.
pub fn problem_text(lang: Lang, code: &str) -> String {
    let c = Catalog::get();
    match FORM_CODES.iter().find(|(k, _)| *k == code) {
        Some((_, key)) => c.text(lang, key),
        None => c.validation(lang, code),
    }
}

pub fn shown(lang: Lang, p: &Problem) -> Shown {
    Shown {
        severity: match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        code: p.code.to_string(),
        text: problem_text(lang, p.code),
    }
}

/// A field as the template renders it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub id: String,
    pub name: &'static str,
    pub label: &'static str,
    pub input: &'static str,
    pub required: bool,
    pub value: String,
    /// The person this field belongs to (`child`), for the JMBG's live check.
    pub group: String,
    pub problems: Vec<Shown>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub id: &'static str,
    pub label: &'static str,
    pub fields: Vec<FieldView>,
}

/// The sections of `kind`'s form with `values` and the problems on each field; the problems
/// that name no field of the form are returned apart.
pub fn view(
    lang: Lang,
    kind: RecordKind,
    value: impl Fn(&str) -> String,
    problems: &[Problem],
) -> (Vec<SectionView>, Vec<Shown>) {
    let mut placed = vec![false; problems.len()];
    let sections = sections(kind)
        .iter()
        .map(|s| SectionView {
            id: s.id,
            label: s.label,
            fields: s
                .fields
                .iter()
                .map(|spec| {
                    let mine: Vec<Shown> = problems
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.field == spec.path)
                        .map(|(i, p)| {
                            placed[i] = true;
                            shown(lang, p)
                        })
                        .collect();
                    FieldView {
                        id: spec.path.replace('.', "-"),
                        name: spec.path,
                        label: spec.label,
                        input: spec.input.name(),
                        required: spec.required,
                        value: value(spec.path),
                        group: spec.path.split('.').next().unwrap_or_default().to_string(),
                        problems: mine,
                    }
                })
                .collect(),
        })
        .collect();
    // A problem on no field of the form (a whole person, the record) is shown above it.
    let general = problems
        .iter()
        .enumerate()
        .filter(|(i, _)| !placed[*i])
        .map(|(_, p)| shown(lang, p))
        .collect();
    (sections, general)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_forms() {
        let d = NaiveDate::from_ymd_opt(1968, 3, 14).unwrap();
        for s in [
            "14.03.1968",
            "14.3.1968",
            "14.03.1968.",
            "1968-03-14",
            " 14/03/1968 ",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        for s in ["", "31.02.1968", "1968", "14.03.68", "x"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn a_form_becomes_the_record_document() {
        let form: std::collections::HashMap<&str, &str> = [
            ("child.given_name", "Arben"),
            ("child.surname", "Gashi"),
            ("child.date_of_birth", "14.03.1968"),
            ("child.sex", "male"),
            ("child.personal_numbers.jmbg", "1403968 950011"),
            ("place_of_birth", "Prizren"),
            ("mother.given_name", "Drita"),
            ("mother.surname", "Gashi"),
        ]
        .into_iter()
        .collect();
        let (doc, problems) = document(RecordKind::Birth, |k| {
            form.get(k).copied().unwrap_or_default().to_string()
        });
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(doc["child"]["date_of_birth"], "1968-03-14");
        assert_eq!(doc["child"]["personal_numbers"]["jmbg"], "1403968950011");
        assert!(doc.get("father").is_none() && doc.get("register").is_none());
        civreg_shared::model::Record::from_json(RecordKind::Birth, {
            let mut d = doc.clone();
            d["municipality"] = "prishtine".into();
            d
        })
        .expect("the model reads it");

        let (_, bad) = document(RecordKind::Birth, |k| match k {
            "child.date_of_birth" => "14.13.1968".into(),
            "register.book" => "L-1".into(),
            _ => String::new(),
        });
        let codes: Vec<(&str, &str)> = bad.iter().map(|p| (p.field.as_str(), p.code)).collect();
        assert!(
            codes.contains(&("child.date_of_birth", "form.date")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("register.year", "form.register_incomplete")),
            "{codes:?}"
        );
    }

    #[test]
    fn every_form_code_and_label_has_a_message() {
        let c = Catalog::get();
        for lang in Lang::ALL {
            for (_, key) in FORM_CODES {
                assert!(c.has(lang, key), "{lang} {key}");
            }
            for kind in [RecordKind::Birth, RecordKind::Marriage, RecordKind::Death] {
                for s in sections(kind) {
                    assert!(c.has(lang, s.label), "{lang} {}", s.label);
                    for f in &s.fields {
                        assert!(c.has(lang, f.label), "{lang} {}", f.label);
                    }
                }
            }
        }
    }
}
