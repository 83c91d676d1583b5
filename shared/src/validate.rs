//! Record validation: every rule a record must meet before it is saved.
//!
//! [`validate`] returns every problem at once, each with a field path, a severity, a stable code
//! (listed in [`ALL_CODES`]) and a sentence for the clerk. Errors block saving; warnings do not.

use crate::model::{PersonView, Record, RegisterRef, Sex};
use crate::pnum::{self, PnumError, PnumWarning};
use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use std::fmt;

mod opcheck;
pub use opcheck::check_op;

/// Whether a problem blocks saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks saving.
    Error,
    /// Shown to the clerk; does not block saving.
    Warning,
}

/// One thing wrong (or doubtful) with a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Dotted path of the field, e.g. `"child.personal_numbers.jmbg"`.
    pub field: String,
    pub severity: Severity,
    /// Stable machine name, e.g. `"jmbg.checksum"`; one of [`ALL_CODES`].
    pub code: &'static str,
    /// A sentence a clerk understands: what is wrong and what to do.
    pub message: String,
}

/// Everything [`validate`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether any problem blocks saving.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// The problems that block saving.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The problems that do not block saving.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    fn push(
        &mut self,
        severity: Severity,
        field: impl Into<String>,
        code: &'static str,
        message: String,
    ) {
        self.problems.push(Problem {
            field: field.into(),
            severity,
            code,
            message,
        });
    }

    fn error(&mut self, field: impl Into<String>, code: &'static str, message: String) {
        self.push(Severity::Error, field, code, message);
    }

    fn warning(&mut self, field: impl Into<String>, code: &'static str, message: String) {
        self.push(Severity::Warning, field, code, message);
    }
}

impl fmt::Display for Report {
    /// One problem per line: `error: child.date_of_birth: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            let sev = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(f, "{sev}: {}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

/// Every code [`validate`] and [`check_op`] can emit.
pub const ALL_CODES: &[&str] = &[
    "municipality.unknown",
    "name.required",
    "name.illegible",
    "name.characters",
    "name.too_long",
    "text.too_long",
    "place.required",
    "birth.date_required",
    "birth.sex_required",
    "date.future",
    "death.before_birth",
    "parent.too_young",
    "spouse.born_after_marriage",
    "spouse.under_16",
    "spouse.under_18",
    "register.book_required",
    "register.year_range",
    "register.page",
    "register.entry",
    "register.year_before_event",
    "jmbg.length",
    "jmbg.character",
    "jmbg.date",
    "jmbg.region",
    "jmbg.checksum",
    "jmbg.check_ten",
    "jmbg.date_mismatch",
    "jmbg.sex_mismatch",
    "jmbg.duplicate",
    "kosovo.length",
    "kosovo.character",
    "kosovo.checksum",
    "albanian.length",
    "albanian.character",
    "albanian.decade",
    "albanian.date",
    "albanian.checksum",
    "albanian.date_mismatch",
    "albanian.sex_mismatch",
    "op.record_id",
    "op.kind",
    "op.too_many_changes",
    "op.too_large",
    "op.clerk",
    "op.reason_too_long",
    "op.changes",
    "record.shape",
    "field.unknown",
    "field.value",
    "field.required",
    "field.municipality",
    "annotation.path",
    "annotation.office",
    "annotation.incomplete",
    "annotation.event",
    "annotation.record",
];

/// Longest name accepted, in characters.
pub use crate::limits::MAX_NAME_CHARS;
pub use crate::limits::MAX_TEXT_CHARS;
/// Minimum age difference between a parent and the child, in years.
pub const MIN_PARENT_AGE: u32 = 12;
/// Below this age at marriage a spouse is an error.
pub const MIN_MARRIAGE_AGE: u32 = 16;
/// Below this age at marriage a spouse is a warning.
pub const ADULT_AGE: u32 = 18;
/// Earliest register year accepted.
pub const MIN_REGISTER_YEAR: i32 = 1900;

/// Today's date in UTC: what dates are checked against.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Where a new record comes from: what it may leave out depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A clerk's registration at an office, an office's import, or anything not below: every
    /// required name is given.
    Office,
    /// A central import of historic register pages at the hub (`civreg-hub import`, a create
    /// of the hub's own chain under a `HUB` number): a person's given name may be empty when
    /// marked illegible (`given_name_illegible`), because the page can not be read there; the
    /// surname is still required, so an entry with neither name is refused.
    CentralImport,
}

/// Checks a record against every rule, relative to `today` (for "not in the future"), and
/// returns every problem found. Never panics. A clerk's record ([`Origin::Office`]).
pub fn validate(record: &Record, today: NaiveDate) -> Report {
    validate_as(record, today, Origin::Office)
}

/// [`validate`] for a record of the given origin.
pub fn validate_as(record: &Record, today: NaiveDate, origin: Origin) -> Report {
    let mut r = Report::default();
    check_municipality(&mut r, record.municipality());
    check_names(&mut r, record, origin);
    check_place(&mut r, record);
    check_texts(&mut r, record);
    check_dates(&mut r, record, today);
    if let Some(reg) = record.register() {
        check_register(&mut r, reg, record.event_date(), today);
    }
    check_numbers(&mut r, record);
    r
}

fn check_municipality(r: &mut Report, code: &str) {
    if crate::gazetteer::by_code(code).is_some() {
        return;
    }
    let hint = match crate::gazetteer::resolve(code) {
        Some(m) => format!("; did you mean \"{}\" ({})?", m.code, m.display()),
        None => String::new(),
    };
    r.error(
        "municipality",
        "municipality.unknown",
        format!(
            "{code:?} is not a municipality code{hint}; enter the code from the municipality \
             gazetteer: the municipality's name in lowercase ASCII without diacritics, words \
             joined by \"-\", such as \"prishtine\", \"istog\" or \"mitrovice-jugut\""
        ),
    );
}

/// `(field path, value, required)` for every name in the record.
fn names(record: &Record) -> Vec<(String, &str, bool)> {
    fn person<'a>(
        out: &mut Vec<(String, &'a str, bool)>,
        role: &str,
        p: &'a crate::model::Person,
        required: bool,
    ) {
        out.push((format!("{role}.given_name"), &p.given_name, required));
        if p.given_name_illegible {
            out.push((format!("{role}.{ILLEGIBLE}"), "", false));
        }
        out.push((format!("{role}.surname"), &p.surname, required));
        if let Some(m) = &p.maiden_surname {
            out.push((format!("{role}.maiden_surname"), m, false));
        }
        if let Some(f) = &p.father_given_name {
            out.push((format!("{role}.father_given_name"), f, false));
        }
    }
    fn spouse<'a>(out: &mut Vec<(String, &'a str, bool)>, role: &str, s: &'a crate::model::Spouse) {
        out.push((format!("{role}.given_name"), &s.given_name, true));
        if s.given_name_illegible {
            out.push((format!("{role}.{ILLEGIBLE}"), "", false));
        }
        out.push((format!("{role}.surname_before"), &s.surname_before, true));
        out.push((format!("{role}.surname_after"), &s.surname_after, true));
        if let Some(f) = &s.father_given_name {
            out.push((format!("{role}.father_given_name"), f, false));
        }
    }
    let mut out = Vec::new();
    match record {
        Record::Birth(b) => {
            person(&mut out, "child", &b.child, true);
            person(&mut out, "mother", &b.mother, true);
            if let Some(f) = &b.father {
                person(&mut out, "father", f, false);
            }
        }
        Record::Marriage(m) => {
            spouse(&mut out, "spouse1", &m.spouse1);
            spouse(&mut out, "spouse2", &m.spouse2);
        }
        Record::Death(d) => person(&mut out, "deceased", &d.deceased, true),
    }
    out
}

/// The field that marks a person's given name illegible.
const ILLEGIBLE: &str = "given_name_illegible";

fn check_names(r: &mut Report, record: &Record, origin: Origin) {
    let all = names(record);
    for (i, (field, value, required)) in all.iter().enumerate() {
        if field.ends_with(ILLEGIBLE) {
            if origin == Origin::Office {
                r.error(
                    field.clone(),
                    "name.illegible",
                    "a given name marked illegible is accepted only from a central import of historic register pages at the hub; enter the given name as written in the source document and remove the mark".into(),
                );
            }
            continue;
        }
        // A given name marked illegible (the entry after it) may be empty in a central import.
        let illegible = origin == Origin::CentralImport
            && all
                .get(i + 1)
                .is_some_and(|(f, _, _)| f.ends_with(ILLEGIBLE));
        check_name(r, field.clone(), value, *required && !illegible);
    }
}

/// A value as a message quotes it: at most 40 characters, so that an oversized field does not
/// make an oversized message.
fn quoted(value: &str) -> String {
    if value.chars().count() <= 40 {
        format!("{value:?}")
    } else {
        format!("{:?}…", value.chars().take(40).collect::<String>())
    }
}

/// The rules of one name: present if required, no digits or control characters, not too long.
fn check_name(r: &mut Report, field: String, value: &str, required: bool) {
    if value.trim().is_empty() {
        if required {
            r.error(
                field,
                "name.required",
                "this name is required but is empty; enter it as written in the source \
                 document"
                    .into(),
            );
        }
        return;
    }
    if let Some(c) = value.chars().find(|c| c.is_numeric() || c.is_control()) {
        let what = if c.is_control() {
            format!("an invisible control character (U+{:04X})", c as u32)
        } else {
            format!("the digit {c:?}")
        };
        r.error(
            field.clone(),
            "name.characters",
            format!("the name {} contains {what}; names may not contain digits or control characters, so correct the name", quoted(value)),
        );
    }
    let len = value.trim().chars().count();
    if len > MAX_NAME_CHARS {
        r.error(
            field,
            "name.too_long",
            format!("the name is {len} characters long, more than the {MAX_NAME_CHARS} allowed; check that only the name was entered in this field"),
        );
    }
}

/// The length bound of a free-text field (notes, a place, a register book).
fn check_text(r: &mut Report, field: &str, value: &str) {
    let len = value.chars().count();
    if len > MAX_TEXT_CHARS {
        r.error(
            field,
            "text.too_long",
            format!("this text is {len} characters long, more than the {MAX_TEXT_CHARS} allowed; shorten it and remove what belongs in the paper file"),
        );
    }
}

fn check_texts(r: &mut Report, record: &Record) {
    let place = match record {
        Record::Birth(_) => "place_of_birth",
        Record::Marriage(_) => "place_of_marriage",
        Record::Death(_) => "place_of_death",
    };
    check_text(r, place, record.event_place());
    if let Some(n) = record.notes() {
        check_text(r, "notes", n);
    }
    if let Some(reg) = record.register() {
        check_text(r, "register.book", &reg.book);
    }
}

fn check_place(r: &mut Report, record: &Record) {
    let field = match record {
        Record::Birth(_) => "place_of_birth",
        Record::Marriage(_) => "place_of_marriage",
        Record::Death(_) => "place_of_death",
    };
    if record.event_place().trim().is_empty() {
        r.error(
            field,
            "place.required",
            "the place of the event is required but is empty; enter it as written in the source \
             document"
                .into(),
        );
    }
}

/// Whether `later` is at or after the `years`-th anniversary of `earlier` (a 29 February
/// anniversary falls on 28 February in common years).
fn reached(earlier: NaiveDate, later: NaiveDate, years: u32) -> bool {
    years
        .checked_mul(12)
        .and_then(|m| earlier.checked_add_months(Months::new(m)))
        .is_some_and(|anniversary| later >= anniversary)
}

fn check_dates(r: &mut Report, record: &Record, today: NaiveDate) {
    let future = |r: &mut Report, field: String, what: &str, d: NaiveDate| {
        if d > today {
            r.error(
                field,
                "date.future",
                format!("the {what} {d} is after today ({today}); correct the date"),
            );
        }
    };
    // The event date (a birth's is the child's date of birth, checked with the people below).
    match record {
        Record::Birth(b) => {
            if b.child.date_of_birth.is_none() {
                r.error(
                    "child.date_of_birth",
                    "birth.date_required",
                    "the child's date of birth is required for a birth record; enter it".into(),
                );
            }
            if b.child.sex.is_none() {
                r.error(
                    "child.sex",
                    "birth.sex_required",
                    "the child's sex is required for a birth record; enter it".into(),
                );
            }
        }
        Record::Marriage(m) => future(
            r,
            "date_of_marriage".into(),
            "date of marriage",
            m.date_of_marriage,
        ),
        Record::Death(d) => future(r, "date_of_death".into(), "date of death", d.date_of_death),
    }
    for p in record.people() {
        if let Some(dob) = p.date_of_birth {
            future(r, format!("{}.date_of_birth", p.role), "date of birth", dob);
        }
    }
    match record {
        Record::Birth(b) => {
            let Some(child) = b.child.date_of_birth else {
                return;
            };
            let parents = std::iter::once(("mother", &b.mother))
                .chain(b.father.iter().map(|f| ("father", f)));
            for (role, parent) in parents {
                if let Some(pdob) = parent.date_of_birth {
                    if !reached(pdob, child, MIN_PARENT_AGE) {
                        r.error(
                            format!("{role}.date_of_birth"),
                            "parent.too_young",
                            format!("the {role}, born {pdob}, would have been younger than {MIN_PARENT_AGE} at the child's birth on {child}; check both dates of birth"),
                        );
                    }
                }
            }
        }
        Record::Marriage(m) => {
            let wed = m.date_of_marriage;
            for (role, s) in [("spouse1", &m.spouse1), ("spouse2", &m.spouse2)] {
                let Some(dob) = s.date_of_birth else { continue };
                let field = format!("{role}.date_of_birth");
                if dob >= wed {
                    r.error(
                        field,
                        "spouse.born_after_marriage",
                        format!("{role}'s date of birth {dob} is not before the date of marriage {wed}; check both dates"),
                    );
                } else if !reached(dob, wed, MIN_MARRIAGE_AGE) {
                    r.error(
                        field,
                        "spouse.under_16",
                        format!("{role}, born {dob}, was under {MIN_MARRIAGE_AGE} on the date of marriage {wed}; check both dates"),
                    );
                } else if !reached(dob, wed, ADULT_AGE) {
                    r.warning(
                        field,
                        "spouse.under_18",
                        format!("{role}, born {dob}, was under {ADULT_AGE} on the date of marriage {wed}; confirm both dates and that the marriage was authorised"),
                    );
                }
            }
        }
        Record::Death(d) => {
            if let Some(dob) = d.deceased.date_of_birth {
                if d.date_of_death < dob {
                    r.error(
                        "date_of_death",
                        "death.before_birth",
                        format!("the date of death {} is before the date of birth {dob}; check both dates", d.date_of_death),
                    );
                }
            }
        }
    }
}

fn check_register(r: &mut Report, reg: &RegisterRef, event: Option<NaiveDate>, today: NaiveDate) {
    if reg.book.trim().is_empty() {
        r.error(
            "register.book",
            "register.book_required",
            "the register book is empty; enter the book's name or number as written on its cover"
                .into(),
        );
    }
    let this_year = today.year();
    if reg.year < MIN_REGISTER_YEAR || reg.year > this_year {
        r.error(
            "register.year",
            "register.year_range",
            format!("the register year {} is not between {MIN_REGISTER_YEAR} and {this_year}; correct the year", reg.year),
        );
    } else if let Some(event) = event {
        if reg.year < event.year() {
            r.warning(
                "register.year",
                "register.year_before_event",
                format!("the register year {} is earlier than the year of the event ({}), but registers are written in the year of the event or later; check the year", reg.year, event.year()),
            );
        }
    }
    if reg.page == 0 {
        r.error(
            "register.page",
            "register.page",
            "the register page is 0; enter the page number, starting from 1".into(),
        );
    }
    if reg.entry == 0 {
        r.error(
            "register.entry",
            "register.entry",
            "the register entry is 0; enter the entry number, starting from 1".into(),
        );
    }
}

/// ("man", "male") or ("woman", "female").
fn sex_word(s: Sex) -> (&'static str, &'static str) {
    match s {
        Sex::Male => ("man", "male"),
        Sex::Female => ("woman", "female"),
    }
}

fn pnum_errors(r: &mut Report, field: &str, errors: Vec<PnumError>) {
    for e in errors {
        r.error(field, e.code(), e.to_string());
    }
}

fn pnum_warnings(r: &mut Report, field: &str, warnings: Vec<PnumWarning>) {
    for w in warnings {
        r.warning(field, w.code(), w.to_string());
    }
}

/// Date and sex agreement between a number and the person.
fn agree(
    r: &mut Report,
    field: &str,
    scheme: &str,
    p: &PersonView<'_>,
    date: NaiveDate,
    sex: Sex,
    codes: (&'static str, &'static str),
) {
    if let Some(dob) = p.date_of_birth {
        if dob != date {
            r.error(
                field,
                codes.0,
                format!("the {scheme} gives date of birth {date}, but the {}'s date of birth is {dob}; check the number and the date of birth", p.role),
            );
        }
    }
    if let Some(s) = p.sex {
        if s != sex {
            r.error(
                field,
                codes.1,
                format!("the {scheme} belongs to a {}, but the {} is recorded as {}; check the number and the sex", sex_word(sex).0, p.role, sex_word(s).1),
            );
        }
    }
}

fn check_numbers(r: &mut Report, record: &Record) {
    let people = record.people();
    let mut seen_jmbg: Vec<(&str, &str)> = Vec::new();
    for p in &people {
        let nums = p.personal_numbers;
        if let Some(j) = nums.jmbg.as_deref() {
            let field = format!("{}.personal_numbers.jmbg", p.role);
            match pnum::parse_jmbg(j) {
                Ok((jm, warnings)) => {
                    pnum_warnings(r, &field, warnings);
                    agree(
                        r,
                        &field,
                        "JMBG",
                        p,
                        jm.date_of_birth,
                        jm.sex,
                        ("jmbg.date_mismatch", "jmbg.sex_mismatch"),
                    );
                }
                Err(errors) => pnum_errors(r, &field, errors),
            }
            let key = j.trim();
            if !key.is_empty() {
                if let Some((other, _)) = seen_jmbg.iter().find(|(_, k)| *k == key) {
                    r.error(
                        field,
                        "jmbg.duplicate",
                        format!("this JMBG is also given for the {other}, but each person has their own; check which person it belongs to and correct the other"),
                    );
                }
                seen_jmbg.push((p.role, key));
            }
        }
        if let Some(k) = nums.kosovo.as_deref() {
            let field = format!("{}.personal_numbers.kosovo", p.role);
            match pnum::check_kosovo(k) {
                Ok(warnings) => pnum_warnings(r, &field, warnings),
                Err(errors) => pnum_errors(r, &field, errors),
            }
        }
        if let Some(a) = nums.albanian.as_deref() {
            let field = format!("{}.personal_numbers.albanian", p.role);
            match pnum::parse_albanian(a) {
                Ok(al) => agree(
                    r,
                    &field,
                    "Albanian personal number",
                    p,
                    al.date_of_birth,
                    al.sex,
                    ("albanian.date_mismatch", "albanian.sex_mismatch"),
                ),
                Err(errors) => pnum_errors(r, &field, errors),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Birth, Death, Marriage, Person, PersonalNumbers, Spouse};
    use crate::pnum::{albanian_check_letter, jmbg_check_digit, kosovo_check_digit, JmbgCheck};
    use std::collections::BTreeSet;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2024, 6, 1);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    fn digits<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        v.try_into().unwrap()
    }

    /// A valid JMBG for this date, region 91 and sex (serial 000/500, or the next that avoids
    /// the m == 10 case).
    fn jmbg_for(dob: NaiveDate, sex: Sex) -> String {
        let yyy = dob.year() % 1000;
        let base = if sex == Sex::Male { 0 } else { 500 };
        (base..base + 500)
            .find_map(|serial| {
                let body = format!("{}{yyy:03}91{serial:03}", dob.format("%d%m"));
                match jmbg_check_digit(&digits(&body)) {
                    JmbgCheck::Digit(k) => Some(format!("{body}{k}")),
                    JmbgCheck::Ten => None,
                }
            })
            .unwrap()
    }

    fn albanian_for(dob: NaiveDate, sex: Sex) -> String {
        let letter = char::from(b'A' + ((dob.year() - 1900) / 10) as u8);
        let month = dob.month() + if sex == Sex::Female { 50 } else { 0 };
        let body = format!("{}{month:02}{}123", dob.year() % 10, dob.format("%d"));
        let check = albanian_check_letter(letter, &digits(&body)).unwrap();
        format!("{letter}{body}{check}")
    }

    fn kosovo(first9: &str) -> String {
        format!("{first9}{}", kosovo_check_digit(&digits(first9)))
    }

    fn person(given: &str, surname: &str, dob: Option<NaiveDate>, sex: Option<Sex>) -> Person {
        Person {
            given_name: given.into(),
            surname: surname.into(),
            date_of_birth: dob,
            sex,
            ..Person::default()
        }
    }

    fn register(year: i32) -> Option<RegisterRef> {
        Some(RegisterRef {
            book: "B-12".into(),
            year,
            page: 3,
            entry: 7,
        })
    }

    fn birth() -> Birth {
        let child_dob = d(2020, 3, 14);
        let mother_dob = d(1990, 1, 1);
        let mut child = person("Arben", "Gashi", Some(child_dob), Some(Sex::Male));
        child.personal_numbers = PersonalNumbers {
            jmbg: Some(jmbg_for(child_dob, Sex::Male)),
            kosovo: Some(kosovo("123456789")),
            albanian: None,
        };
        let mut mother = person("Drita", "Gashi", Some(mother_dob), Some(Sex::Female));
        mother.maiden_surname = Some("Krasniqi".into());
        mother.personal_numbers = PersonalNumbers {
            jmbg: Some(jmbg_for(mother_dob, Sex::Female)),
            kosovo: None,
            albanian: Some(albanian_for(mother_dob, Sex::Female)),
        };
        Birth {
            municipality: "prishtine".into(),
            register: register(2020),
            notes: None,
            child,
            place_of_birth: "Prishtinë".into(),
            mother,
            father: Some(person(
                "Besnik",
                "Gashi",
                Some(d(1988, 7, 9)),
                Some(Sex::Male),
            )),
        }
    }

    fn spouse(given: &str, surname: &str, dob: NaiveDate, sex: Sex) -> Spouse {
        Spouse {
            given_name: given.into(),
            given_name_illegible: false,
            surname_before: surname.into(),
            surname_after: "Berisha".into(),
            father_given_name: Some("Ilir".into()),
            date_of_birth: Some(dob),
            sex: Some(sex),
            personal_numbers: PersonalNumbers {
                jmbg: Some(jmbg_for(dob, sex)),
                ..PersonalNumbers::default()
            },
        }
    }

    fn marriage() -> Marriage {
        Marriage {
            municipality: "istog".into(),
            register: register(2015),
            notes: None,
            spouse1: spouse("Luan", "Berisha", d(1990, 5, 1), Sex::Male),
            spouse2: spouse("Vjosa", "Hoxha", d(1992, 7, 15), Sex::Female),
            date_of_marriage: d(2015, 6, 20),
            place_of_marriage: "Istog".into(),
        }
    }

    fn death() -> Death {
        let dob = d(1940, 2, 2);
        let mut deceased = person("Rexhep", "Morina", Some(dob), Some(Sex::Male));
        deceased.personal_numbers.albanian = Some(albanian_for(dob, Sex::Male));
        Death {
            municipality: "mitrovice-jugut".into(),
            register: register(2023),
            notes: None,
            deceased,
            date_of_death: d(2023, 11, 11),
            place_of_death: "Mitrovicë".into(),
        }
    }

    fn check(record: Record) -> Report {
        validate(&record, today())
    }

    fn codes(report: &Report) -> Vec<&'static str> {
        report.problems.iter().map(|p| p.code).collect()
    }

    fn fields_codes(report: &Report) -> Vec<(String, &'static str)> {
        report
            .problems
            .iter()
            .map(|p| (p.field.clone(), p.code))
            .collect()
    }

    #[test]
    fn valid_records_have_no_problems() {
        for r in [
            Record::Birth(birth()),
            Record::Marriage(marriage()),
            Record::Death(death()),
        ] {
            let report = check(r);
            assert!(report.problems.is_empty(), "{report}");
            assert!(!report.has_errors());
        }
    }

    #[test]
    fn unknown_municipality_suggests_code() {
        let mut b = birth();
        b.municipality = "Prishtina".into();
        let report = check(Record::Birth(b));
        assert_eq!(codes(&report), ["municipality.unknown"]);
        let msg = &report.problems[0].message;
        assert!(msg.contains("\"prishtine\""), "{msg}");
        assert!(msg.contains("gazetteer"), "{msg}");
    }

    #[test]
    fn names_required_and_clean() {
        let mut b = birth();
        b.child.given_name = "   ".into();
        b.mother.surname = String::new();
        b.child.surname = "Gash1".into();
        b.mother.maiden_surname = Some("Kras\u{7}niqi".into());
        b.father.as_mut().unwrap().given_name = "x".repeat(101);
        // Optional names may be empty; the father's names are not required.
        b.father.as_mut().unwrap().surname = String::new();
        b.child.father_given_name = Some(String::new());
        let report = check(Record::Birth(b));
        assert_eq!(
            fields_codes(&report),
            [
                ("child.given_name".to_string(), "name.required"),
                ("child.surname".to_string(), "name.characters"),
                ("mother.surname".to_string(), "name.required"),
                ("mother.maiden_surname".to_string(), "name.characters"),
                ("father.given_name".to_string(), "name.too_long"),
            ]
        );
        // Exactly 100 characters (non-ASCII counts as one each) is fine.
        let mut b = birth();
        b.child.given_name = "ë".repeat(100);
        assert!(check(Record::Birth(b)).problems.is_empty());
    }

    #[test]
    fn spouse_names_required() {
        let mut m = marriage();
        m.spouse2.surname_before = " ".into();
        m.spouse1.surname_after = String::new();
        assert_eq!(
            fields_codes(&check(Record::Marriage(m))),
            [
                ("spouse1.surname_after".to_string(), "name.required"),
                ("spouse2.surname_before".to_string(), "name.required"),
            ]
        );
    }

    #[test]
    fn place_required() {
        let mut dth = death();
        dth.place_of_death = " \t".into();
        assert_eq!(
            fields_codes(&check(Record::Death(dth))),
            [("place_of_death".to_string(), "place.required")]
        );
    }

    #[test]
    fn birth_requires_child_date_and_sex() {
        let mut b = birth();
        b.child.date_of_birth = None;
        b.child.sex = None;
        b.child.personal_numbers = PersonalNumbers::default();
        assert_eq!(
            fields_codes(&check(Record::Birth(b))),
            [
                ("child.date_of_birth".to_string(), "birth.date_required"),
                ("child.sex".to_string(), "birth.sex_required"),
            ]
        );
    }

    #[test]
    fn parent_at_least_twelve_years_older() {
        let with = |mother: NaiveDate, father: NaiveDate, child: NaiveDate| {
            let mut b = birth();
            b.child.date_of_birth = Some(child);
            b.child.personal_numbers = PersonalNumbers::default();
            b.mother.date_of_birth = Some(mother);
            b.mother.personal_numbers = PersonalNumbers::default();
            b.father.as_mut().unwrap().date_of_birth = Some(father);
            fields_codes(&check(Record::Birth(b)))
        };
        // Born on the mother's 12th birthday: fine. The day before: not.
        assert!(with(d(2000, 3, 14), d(1980, 1, 1), d(2012, 3, 14)).is_empty());
        assert_eq!(
            with(d(2000, 3, 14), d(1980, 1, 1), d(2012, 3, 13)),
            [("mother.date_of_birth".to_string(), "parent.too_young")]
        );
        assert_eq!(
            with(d(1980, 1, 1), d(2000, 3, 14), d(2012, 3, 13)),
            [("father.date_of_birth".to_string(), "parent.too_young")]
        );
        // A parent born after the child.
        assert_eq!(
            with(d(2013, 1, 1), d(1980, 1, 1), d(2012, 3, 13)),
            [("mother.date_of_birth".to_string(), "parent.too_young")]
        );
        // 29 February: the 12th birthday falls on 28 February.
        assert!(with(d(2000, 2, 29), d(1980, 1, 1), d(2012, 2, 29)).is_empty());
        assert!(!with(d(2000, 2, 29), d(1980, 1, 1), d(2012, 2, 28)).is_empty());
    }

    #[test]
    fn spouse_age_at_marriage() {
        let with = |dob: NaiveDate, wed: NaiveDate| {
            let mut m = marriage();
            m.date_of_marriage = wed;
            m.spouse1.date_of_birth = Some(dob);
            m.spouse1.personal_numbers = PersonalNumbers::default();
            m.spouse2.date_of_birth = None;
            m.spouse2.personal_numbers = PersonalNumbers::default();
            m.register = None;
            let r = check(Record::Marriage(m));
            assert!(r
                .problems
                .iter()
                .all(|p| p.field == "spouse1.date_of_birth"));
            r.problems
                .iter()
                .map(|p| (p.code, p.severity))
                .collect::<Vec<_>>()
        };
        let dob = d(2000, 1, 1);
        assert_eq!(
            with(dob, d(2015, 12, 31)),
            [("spouse.under_16", Severity::Error)]
        );
        assert_eq!(
            with(dob, d(2016, 1, 1)),
            [("spouse.under_18", Severity::Warning)]
        );
        assert_eq!(
            with(dob, d(2017, 6, 1)),
            [("spouse.under_18", Severity::Warning)]
        );
        assert_eq!(
            with(dob, d(2017, 12, 31)),
            [("spouse.under_18", Severity::Warning)]
        );
        assert!(with(dob, d(2018, 1, 1)).is_empty());
        assert_eq!(
            with(dob, dob),
            [("spouse.born_after_marriage", Severity::Error)]
        );
        assert_eq!(
            with(d(2001, 1, 1), dob),
            [("spouse.born_after_marriage", Severity::Error)]
        );
        assert_eq!(
            with(dob, d(2000, 1, 2)),
            [("spouse.under_16", Severity::Error)]
        );
    }

    #[test]
    fn death_not_before_birth() {
        let with = |dob: NaiveDate, died: NaiveDate| {
            let mut dth = death();
            dth.deceased.date_of_birth = Some(dob);
            dth.deceased.personal_numbers = PersonalNumbers::default();
            dth.date_of_death = died;
            dth.register = None;
            fields_codes(&check(Record::Death(dth)))
        };
        assert!(with(d(2020, 1, 1), d(2020, 1, 1)).is_empty());
        assert_eq!(
            with(d(2020, 1, 2), d(2020, 1, 1)),
            [("date_of_death".to_string(), "death.before_birth")]
        );
    }

    #[test]
    fn no_dates_in_the_future() {
        let t = today();
        let tomorrow = t.succ_opt().unwrap();
        // Today is fine.
        let mut b = birth();
        b.child.date_of_birth = Some(t);
        b.child.personal_numbers = PersonalNumbers::default();
        b.register = None;
        assert!(check(Record::Birth(b.clone())).problems.is_empty());
        b.child.date_of_birth = Some(tomorrow);
        b.mother.date_of_birth = Some(tomorrow);
        b.mother.personal_numbers = PersonalNumbers::default();
        assert_eq!(
            fields_codes(&check(Record::Birth(b))),
            [
                ("child.date_of_birth".to_string(), "date.future"),
                ("mother.date_of_birth".to_string(), "date.future"),
                ("mother.date_of_birth".to_string(), "parent.too_young"),
            ]
        );

        let mut m = marriage();
        m.register = None;
        m.date_of_marriage = tomorrow;
        assert_eq!(
            fields_codes(&check(Record::Marriage(m.clone()))),
            [("date_of_marriage".to_string(), "date.future")]
        );
        m.date_of_marriage = t;
        assert!(check(Record::Marriage(m)).problems.is_empty());

        let mut dth = death();
        dth.register = None;
        dth.date_of_death = tomorrow;
        assert_eq!(
            fields_codes(&check(Record::Death(dth.clone()))),
            [("date_of_death".to_string(), "date.future")]
        );
        // The same record is fine once "today" has come.
        assert!(validate(&Record::Death(dth), tomorrow).problems.is_empty());
    }

    #[test]
    fn register_reference() {
        let with = |book: &str, year: i32, page: u32, entry: u32| {
            let mut dth = death(); // died 2023
            dth.register = Some(RegisterRef {
                book: book.into(),
                year,
                page,
                entry,
            });
            check(Record::Death(dth))
                .problems
                .iter()
                .map(|p| (p.field.clone(), p.code, p.severity))
                .collect::<Vec<_>>()
        };
        assert!(with("7", 2023, 1, 1).is_empty());
        assert!(with("7", TODAY.0, 1, 1).is_empty());
        let e = |f: &str, c| (f.to_string(), c, Severity::Error);
        assert_eq!(
            with(" ", TODAY.0 + 1, 0, 0),
            [
                e("register.book", "register.book_required"),
                e("register.year", "register.year_range"),
                e("register.page", "register.page"),
                e("register.entry", "register.entry"),
            ]
        );
        assert_eq!(
            with("7", 1899, 1, 1),
            [e("register.year", "register.year_range")]
        );
        assert_eq!(
            with("7", 2022, 1, 1),
            [(
                "register.year".to_string(),
                "register.year_before_event",
                Severity::Warning
            )]
        );
        // 1900 is in range (and, for an event of 1900, not early).
        let mut dth = death();
        dth.deceased.date_of_birth = None;
        dth.deceased.personal_numbers = PersonalNumbers::default();
        dth.date_of_death = d(1900, 5, 5);
        dth.register = register(1900);
        assert!(check(Record::Death(dth)).problems.is_empty());
    }

    #[test]
    fn personal_numbers_agree_with_person() {
        let mut b = birth();
        b.child.sex = Some(Sex::Female);
        b.mother.date_of_birth = Some(d(1990, 1, 2));
        let report = check(Record::Birth(b));
        assert_eq!(
            fields_codes(&report),
            [
                (
                    "child.personal_numbers.jmbg".to_string(),
                    "jmbg.sex_mismatch"
                ),
                (
                    "mother.personal_numbers.jmbg".to_string(),
                    "jmbg.date_mismatch"
                ),
                (
                    "mother.personal_numbers.albanian".to_string(),
                    "albanian.date_mismatch"
                ),
            ]
        );
        let mut dth = death();
        dth.deceased.sex = Some(Sex::Female);
        assert_eq!(
            fields_codes(&check(Record::Death(dth))),
            [(
                "deceased.personal_numbers.albanian".to_string(),
                "albanian.sex_mismatch"
            )]
        );
    }

    #[test]
    fn personal_number_scheme_problems_are_reported_on_the_field() {
        let mut m = marriage();
        m.spouse1.personal_numbers.jmbg = Some("0101990910008".into());
        m.spouse2.personal_numbers.kosovo = Some("1234567893".into());
        m.spouse2.personal_numbers.albanian = Some("J0010199".into());
        let report = check(Record::Marriage(m));
        assert_eq!(
            report
                .problems
                .iter()
                .map(|p| (p.field.as_str(), p.code, p.severity))
                .collect::<Vec<_>>(),
            [
                (
                    "spouse1.personal_numbers.jmbg",
                    "jmbg.checksum",
                    Severity::Error
                ),
                (
                    "spouse2.personal_numbers.kosovo",
                    "kosovo.checksum",
                    Severity::Warning
                ),
                (
                    "spouse2.personal_numbers.albanian",
                    "albanian.length",
                    Severity::Error
                ),
            ]
        );
    }

    #[test]
    fn same_jmbg_on_two_people() {
        let mut b = birth();
        b.mother.personal_numbers.jmbg = b.child.personal_numbers.jmbg.clone();
        b.mother.date_of_birth = b.child.date_of_birth;
        b.mother.sex = Some(Sex::Male);
        b.mother.personal_numbers.albanian = None;
        let report = check(Record::Birth(b));
        let dup: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.code == "jmbg.duplicate")
            .collect();
        assert_eq!(dup.len(), 1);
        assert_eq!(dup[0].field, "mother.personal_numbers.jmbg");
        assert!(dup[0].message.contains("child"));
    }

    #[test]
    fn report_display_and_json() {
        let mut b = birth();
        b.child.date_of_birth = None;
        b.child.personal_numbers.kosovo = Some("1234567890".into());
        b.child.personal_numbers.jmbg = None;
        let report = check(Record::Birth(b));
        assert!(report.has_errors());
        assert_eq!(report.errors().count(), 1);
        assert_eq!(report.warnings().count(), 1);
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("error: child.date_of_birth: "),
            "{text}"
        );
        assert!(
            lines[1].starts_with("warning: child.personal_numbers.kosovo: "),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["problems"][0]["severity"], "error");
        assert_eq!(json["problems"][0]["code"], "birth.date_required");
        assert_eq!(json["problems"][1]["severity"], "warning");
    }

    /// Records crafted to produce every code, at once where possible.
    fn bad_records() -> Vec<Record> {
        let mut out = Vec::new();

        let mut b = birth();
        b.municipality = "nowhere".into();
        b.child.given_name = " ".into();
        // Marked illegible in a clerk's record: refused (only a central import may).
        b.child.given_name_illegible = true;
        b.child.surname = "Gashi2".into();
        b.mother.given_name = "D".repeat(101);
        b.place_of_birth = String::new();
        b.child.sex = None;
        b.child.date_of_birth = Some(d(2030, 1, 1));
        b.register = Some(RegisterRef {
            book: String::new(),
            year: 1800,
            page: 0,
            entry: 0,
        });
        b.child.personal_numbers = PersonalNumbers {
            jmbg: Some("123".into()),
            kosovo: Some("123".into()),
            albanian: Some("123".into()),
        };
        b.mother.personal_numbers = PersonalNumbers {
            jmbg: Some("01019909100x7".into()),
            kosovo: Some("12345678x2".into()),
            albanian: Some("J0010199?W".into()),
        };
        b.father.as_mut().unwrap().date_of_birth = Some(d(2025, 1, 1));
        out.push(Record::Birth(b));

        let mut b = birth();
        b.child.date_of_birth = None;
        b.register = register(2019);
        b.child.personal_numbers.jmbg = Some("3102990910002".into());
        b.mother.personal_numbers.jmbg = Some("0101990000003".into());
        b.mother.personal_numbers.albanian = Some("N00101999W".into());
        b.father.as_mut().unwrap().personal_numbers.albanian = Some("J01301999A".into());
        out.push(Record::Birth(b));

        let mut b = birth();
        b.register = register(2019); // born 2020
        b.child.sex = Some(Sex::Female);
        b.mother.date_of_birth = Some(d(1991, 1, 1));
        b.mother.personal_numbers.jmbg = b.child.personal_numbers.jmbg.clone();
        b.father.as_mut().unwrap().personal_numbers.jmbg = Some("0101990910008".into());
        b.father.as_mut().unwrap().personal_numbers.albanian = Some("J00101999V".into());
        out.push(Record::Birth(b));

        let mut m = marriage();
        m.spouse1.date_of_birth = Some(d(2000, 1, 1));
        m.date_of_marriage = d(2015, 1, 1);
        m.spouse1.personal_numbers = PersonalNumbers::default();
        m.spouse2.date_of_birth = Some(d(1998, 1, 1));
        m.spouse2.personal_numbers = PersonalNumbers::default();
        out.push(Record::Marriage(m));

        let mut m = marriage();
        m.spouse1.date_of_birth = Some(d(2016, 1, 1));
        m.spouse1.personal_numbers = PersonalNumbers::default();
        // Check digit 0 where 10 is computed.
        let body = (0..1000)
            .map(|s| format!("010199091{s:03}"))
            .find(|b| jmbg_check_digit(&digits(b)) == JmbgCheck::Ten)
            .unwrap();
        m.spouse2.personal_numbers.jmbg = Some(format!("{body}0"));
        m.spouse2.date_of_birth = Some(d(1990, 1, 1));
        m.spouse2.sex = None;
        out.push(Record::Marriage(m));

        let mut dth = death();
        dth.deceased.date_of_birth = Some(d(2023, 12, 1));
        dth.deceased.personal_numbers.albanian = Some(albanian_for(d(2023, 12, 1), Sex::Female));
        dth.deceased.personal_numbers.kosovo = Some("1234567890".into());
        dth.notes = Some("n".repeat(MAX_TEXT_CHARS + 1));
        out.push(Record::Death(dth));

        out
    }

    /// An op of node prishtine/1 on `record_id`, sealed.
    fn op_of(
        record_id: &str,
        kind: crate::model::RecordKind,
        change: crate::op::ChangeKind,
        changes: serde_json::Value,
    ) -> crate::op::Op {
        use crate::op::{Hlc, Op, OpId, OP_FORMAT};
        Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: "prishtine".into(),
                node_id: "1".into(),
                seq: 1,
            },
            hlc: Hlc::default(),
            clerk: "clerk".into(),
            record_id: record_id.into(),
            record_kind: kind,
            change,
            changes: crate::fields::parse_changes(&changes).unwrap(),
            base: vec![],
            reason: String::new(),
            prev_hash: crate::op::GENESIS,
            hash: crate::op::Hash::default(),
        }
        .seal()
    }

    fn create_of(record: &Record) -> crate::op::Op {
        op_of(
            "PRISHTINE-2020-B-000001",
            record.kind(),
            crate::op::ChangeKind::Create,
            record.to_json(),
        )
    }

    /// Ops whose content is refused, between them naming every op code.
    fn bad_ops() -> Vec<crate::op::Op> {
        use crate::model::RecordKind::{Birth as B, Death as D};
        use crate::op::ChangeKind::{Amend, Annotate, Create, Void};
        use serde_json::json;
        const NO: &str = "PRISHTINE-2020-B-000001";
        let mut out = Vec::new();
        let mut huge = json!({});
        for i in 0..=crate::limits::MAX_OP_CHANGES {
            huge[format!("f{i}")] = json!(1);
        }
        out.push(op_of(NO, B, Amend, huge));
        let mut big = op_of(NO, B, Amend, json!({"notes": "x"}));
        big.clerk = "c".repeat(70_000);
        big.reason = "r".repeat(MAX_TEXT_CHARS + 1);
        out.push(big.seal());
        out.push(op_of(
            "prishtine-2020-b-000001",
            B,
            Void,
            json!({"notes": "x"}),
        ));
        out.push(op_of("PRISHTINE-2020-D-000001", B, Amend, json!({})));
        out.push(op_of(
            NO,
            B,
            Amend,
            json!({"child": {"given_name": null, "shoe_size": 4, "sex": "banana",
                   "date_of_birth": "31-31-3100", "personal_numbers": "x"},
                   "municipality": "istog", "register": {"page": 0, "year": 1200}}),
        ));
        out.push(op_of(NO, B, Create, json!({"child": {"given_name": "A"}})));
        let mut b = birth();
        b.municipality = "istog".into();
        out.push(create_of(&Record::Birth(b)));
        out.push(op_of(
            NO,
            B,
            Create,
            json!({"annotation.prishtine.k.event": "death"}),
        ));
        out.push(op_of(
            NO,
            B,
            Annotate,
            json!({"child.given_name": "X", "annotation": {"istog": {"k": {"event": "death"}},
                   "prishtine": {"k": {"event": "party", "date": "2020-02-30", "place": 3,
                   "record": "istog-2020-d-000001", "text": null},
                   "j": {"event": null, "date": "2020-01-01", "place": null, "record": null,
                   "text": null}, "i": {"event": "death"}}}}),
        ));
        out.push(op_of("PRISHTINE-2020-D-000001", D, Annotate, json!({})));
        out
    }

    #[test]
    fn every_error_named() {
        let mut produced = BTreeSet::new();
        let (records, ops) = (bad_records(), bad_ops());
        let reports = records
            .iter()
            .map(|record| validate(record, today()))
            .chain(ops.iter().map(|op| check_op(op, today())));
        for report in reports {
            for p in &report.problems {
                produced.insert(p.code);
                assert!(!p.field.is_empty());
                assert!(p.message.len() > 20, "{}: {}", p.code, p.message);
                let lower = p.message.to_lowercase();
                assert!(
                    ["check", "correct", "enter", "confirm", "remove"]
                        .iter()
                        .any(|verb| lower.contains(verb)),
                    "{} has nothing actionable: {}",
                    p.code,
                    p.message
                );
            }
        }
        let all: BTreeSet<&str> = ALL_CODES.iter().copied().collect();
        assert_eq!(all.len(), ALL_CODES.len(), "duplicate in ALL_CODES");
        let missing: Vec<_> = all.difference(&produced).collect();
        let unlisted: Vec<_> = produced.difference(&all).collect();
        assert!(
            missing.is_empty() && unlisted.is_empty(),
            "missing {missing:?}, unlisted {unlisted:?}"
        );
    }

    #[test]
    fn good_ops_pass_and_bad_ones_are_refused() {
        use crate::model::RecordKind::Birth as B;
        use crate::op::ChangeKind::{Amend, Annotate, Void};
        use serde_json::json;
        const NO: &str = "PRISHTINE-2020-B-000001";
        let good = [
            create_of(&Record::Birth(birth())),
            op_of(
                NO,
                B,
                Amend,
                json!({"child.given_name": "Besnik", "father": null,
                  "register.page": 4, "notes": "n", "child.date_of_birth": "2020-03-15"}),
            ),
            op_of(NO, B, Void, json!({})),
            op_of(
                NO,
                B,
                Annotate,
                json!({"annotation.prishtine.k": {"event": "marriage",
                  "date": "2024-01-02", "place": "Istog", "record": "ISTOG-2024-M-000001",
                  "text": null}}),
            ),
        ];
        for op in &good {
            let r = check_op(op, today());
            assert!(!r.has_errors(), "{r}");
        }
        for op in bad_ops() {
            assert!(check_op(&op, today()).has_errors(), "{op:?}");
        }
        // A field at its bound passes; one character more is refused, with its own code.
        let mut b = birth();
        b.notes = Some("n".repeat(MAX_TEXT_CHARS));
        assert!(!check_op(&create_of(&Record::Birth(b.clone())), today()).has_errors());
        b.notes = Some("n".repeat(MAX_TEXT_CHARS + 1));
        let r = check_op(&create_of(&Record::Birth(b)), today());
        assert_eq!(
            r.errors().map(|p| p.code).collect::<Vec<_>>(),
            ["text.too_long"]
        );
    }

    /// A birth whose child's given name can not be read in the historic register page.
    fn illegible_birth() -> Birth {
        let mut b = birth();
        b.child.given_name = String::new();
        b.child.given_name_illegible = true;
        b
    }

    #[test]
    fn an_illegible_given_name_is_accepted_only_from_a_central_import() {
        let b = Record::Birth(illegible_birth());
        // A clerk's record: the given name is required, and the mark is refused.
        let office = validate(&b, today());
        let codes: Vec<&str> = office.errors().map(|p| p.code).collect();
        assert_eq!(codes, ["name.required", "name.illegible"], "{office}");
        // A central import of historic pages: accepted.
        let central = validate_as(&b, today(), Origin::CentralImport);
        assert!(!central.has_errors(), "{central}");
        // Without the mark, an empty given name is refused there too.
        let mut unmarked = illegible_birth();
        unmarked.child.given_name_illegible = false;
        let r = validate_as(&Record::Birth(unmarked), today(), Origin::CentralImport);
        assert_eq!(
            r.errors().map(|p| p.code).collect::<Vec<_>>(),
            ["name.required"]
        );
        // An entry with neither name stays refused.
        let mut neither = illegible_birth();
        neither.child.surname = " ".into();
        let r = validate_as(&Record::Birth(neither), today(), Origin::CentralImport);
        assert_eq!(
            r.errors().map(|p| p.field.as_str()).collect::<Vec<_>>(),
            ["child.surname"]
        );
        // The mark reads back from the record's JSON, and is absent when not set.
        assert_eq!(b.to_json()["child"]["given_name_illegible"], true);
        assert!(Record::Birth(birth()).to_json()["child"]
            .get("given_name_illegible")
            .is_none());
    }

    /// Both spouses of a marriage and the deceased of a death can be marked as the child can:
    /// accepted from a central import with the surname, refused from an office, and an empty
    /// given name without the mark is refused everywhere.
    #[test]
    fn spouses_and_the_deceased_can_have_an_illegible_given_name_too() {
        let mut m = marriage();
        m.spouse1.given_name = String::new();
        m.spouse1.given_name_illegible = true;
        m.spouse2.given_name = " ".into();
        m.spouse2.given_name_illegible = true;
        let mut d = death();
        d.deceased.given_name = String::new();
        d.deceased.given_name_illegible = true;
        for (r, roles) in [
            (Record::Marriage(m.clone()), &["spouse1", "spouse2"][..]),
            (Record::Death(d), &["deceased"][..]),
        ] {
            let central = validate_as(&r, today(), Origin::CentralImport);
            assert!(!central.has_errors(), "{central}");
            let office = validate(&r, today());
            let mut refused: Vec<&str> = office
                .errors()
                .filter(|p| p.code == "name.illegible")
                .map(|p| p.field.as_str())
                .collect();
            refused.sort();
            let want: Vec<String> = roles
                .iter()
                .map(|r| format!("{r}.given_name_illegible"))
                .collect();
            assert_eq!(refused, want, "{office}");
            assert_eq!(r.to_json()[roles[0]]["given_name_illegible"], true);
        }
        m.spouse2.given_name_illegible = false;
        let r = validate_as(&Record::Marriage(m), today(), Origin::CentralImport);
        assert_eq!(
            r.errors().map(|p| p.field.as_str()).collect::<Vec<_>>(),
            ["spouse2.given_name"]
        );
        // An amendment may set or clear a spouse's mark, as a child's.
        let op = op_of(
            "PRISHTINE-2015-M-000001",
            crate::model::RecordKind::Marriage,
            crate::op::ChangeKind::Amend,
            serde_json::json!({"spouse2.given_name_illegible": false}),
        );
        assert!(!check_op(&op, today()).has_errors());
    }

    #[test]
    fn check_op_accepts_an_illegible_given_name_only_in_the_hubs_central_import() {
        let b = Record::Birth(illegible_birth());
        // The hub's own chain, a number of the hub's series: a central import (what a node
        // pulls and checks again).
        let mut hub = op_of(
            "PRISHTINE-1968-B-HUB-000001",
            b.kind(),
            crate::op::ChangeKind::Create,
            b.to_json(),
        );
        hub.id.municipality = "agency".into();
        hub.id.node_id = crate::ids::HUB_NODE_ID.into();
        let hub = hub.seal();
        let r = check_op(&hub, today());
        assert!(!r.has_errors(), "{r}");
        // An office's create: refused, whatever number it names.
        let r = check_op(&create_of(&b), today());
        assert!(r.errors().any(|p| p.code == "name.illegible"), "{r}");
        let office_hub_number = op_of(
            "PRISHTINE-1968-B-HUB-000001",
            b.kind(),
            crate::op::ChangeKind::Create,
            b.to_json(),
        );
        assert!(check_op(&office_hub_number, today()).has_errors());
        // The hub's chain under an office's number: not a central import either.
        let mut own_number = create_of(&b);
        own_number.id.node_id = crate::ids::HUB_NODE_ID.into();
        assert!(check_op(&own_number.seal(), today()).has_errors());
        // An amendment may set or clear the mark, only as true or false.
        use crate::model::RecordKind::Birth as B;
        use crate::op::ChangeKind::Amend;
        const NO: &str = "PRISHTINE-2020-B-000001";
        for v in [
            serde_json::json!(true),
            serde_json::json!(false),
            serde_json::Value::Null,
        ] {
            let op = op_of(
                NO,
                B,
                Amend,
                serde_json::json!({"child.given_name_illegible": v}),
            );
            assert!(!check_op(&op, today()).has_errors(), "{v}");
        }
        let op = op_of(
            NO,
            B,
            Amend,
            serde_json::json!({"child.given_name_illegible": "yes"}),
        );
        assert!(check_op(&op, today()).has_errors());
    }

    #[test]
    fn every_problem_at_once() {
        let report = validate(&bad_records()[0], today());
        assert!(report.errors().count() >= 15, "{report}");
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn date() -> BoxedStrategy<NaiveDate> {
            prop_oneof![
                Just(NaiveDate::MIN),
                Just(NaiveDate::MAX),
                (-1_000_000i32..1_000_000).prop_map(|n| {
                    NaiveDate::from_num_days_from_ce_opt(700_000 + n).unwrap_or(NaiveDate::MIN)
                }),
            ]
            .boxed()
        }

        fn text() -> BoxedStrategy<String> {
            prop_oneof![
                any::<String>(),
                "\\PC{0,120}",
                "[0-9]{13}",
                "[0-9]{10}",
                "[A-Za-z][0-9]{8}[A-Za-z]",
                " *[0-9 ]{0,14}",
            ]
            .boxed()
        }

        fn numbers() -> BoxedStrategy<PersonalNumbers> {
            (
                proptest::option::of(text()),
                proptest::option::of(text()),
                proptest::option::of(text()),
            )
                .prop_map(|(jmbg, kosovo, albanian)| PersonalNumbers {
                    jmbg,
                    kosovo,
                    albanian,
                })
                .boxed()
        }

        fn person() -> BoxedStrategy<Person> {
            (
                text(),
                text(),
                proptest::option::of(text()),
                proptest::option::of(date()),
                proptest::option::of(prop_oneof![Just(Sex::Male), Just(Sex::Female)]),
                numbers(),
            )
                .prop_map(|(g, s, m, dob, sex, pn)| Person {
                    given_name: g,
                    given_name_illegible: false,
                    surname: s,
                    maiden_surname: m,
                    father_given_name: None,
                    date_of_birth: dob,
                    sex,
                    personal_numbers: pn,
                })
                .boxed()
        }

        fn reg() -> BoxedStrategy<Option<RegisterRef>> {
            proptest::option::of((text(), any::<i32>(), any::<u32>(), any::<u32>()).prop_map(
                |(book, year, page, entry)| RegisterRef {
                    book,
                    year,
                    page,
                    entry,
                },
            ))
            .boxed()
        }

        fn record() -> BoxedStrategy<Record> {
            prop_oneof![
                (
                    text(),
                    reg(),
                    person(),
                    text(),
                    person(),
                    proptest::option::of(person())
                )
                    .prop_map(
                        |(municipality, register, child, place, mother, father)| {
                            Record::Birth(Birth {
                                municipality,
                                register,
                                notes: None,
                                child,
                                place_of_birth: place,
                                mother,
                                father,
                            })
                        }
                    ),
                (text(), reg(), person(), person(), date(), text()).prop_map(
                    |(municipality, register, a, b, wed, place)| {
                        let sp = |p: Person| Spouse {
                            given_name: p.given_name,
                            given_name_illegible: p.given_name_illegible,
                            surname_before: p.surname.clone(),
                            surname_after: p.maiden_surname.unwrap_or(p.surname),
                            father_given_name: p.father_given_name,
                            date_of_birth: p.date_of_birth,
                            sex: p.sex,
                            personal_numbers: p.personal_numbers,
                        };
                        Record::Marriage(Marriage {
                            municipality,
                            register,
                            notes: None,
                            spouse1: sp(a),
                            spouse2: sp(b),
                            date_of_marriage: wed,
                            place_of_marriage: place,
                        })
                    }
                ),
                (text(), reg(), person(), date(), text()).prop_map(
                    |(municipality, register, deceased, died, place)| {
                        Record::Death(Death {
                            municipality,
                            register,
                            notes: None,
                            deceased,
                            date_of_death: died,
                            place_of_death: place,
                        })
                    }
                ),
            ]
            .boxed()
        }

        proptest! {
            #[test]
            fn validate_never_panics(record in record(), today in date()) {
                let report = validate(&record, today);
                for p in &report.problems {
                    prop_assert!(ALL_CODES.contains(&p.code), "unlisted code {}", p.code);
                    prop_assert!(!p.message.is_empty());
                }
                let _ = report.to_string();
            }

            #[test]
            fn check_op_never_panics(
                record in record(),
                today in date(),
                change in 0u8..7,
                extra in proptest::collection::vec(
                    ("[a-z_.]{0,40}", prop_oneof![
                        text().prop_map(serde_json::Value::from),
                        any::<i64>().prop_map(serde_json::Value::from),
                        Just(serde_json::Value::Null),
                    ]),
                    0..6,
                ),
            ) {
                let mut op = create_of(&record);
                op.change = crate::op::ChangeKind::from_code(change)
                    .unwrap_or(crate::op::ChangeKind::Amend);
                for (path, value) in extra {
                    op.changes.push(crate::fields::FieldChange { path, value });
                }
                for p in &check_op(&op, today).problems {
                    prop_assert!(ALL_CODES.contains(&p.code), "unlisted code {}", p.code);
                }
            }
        }
    }
}
