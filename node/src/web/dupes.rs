//! The duplicate check before a birth or death is saved: the app looks for the same person in
//! this office's records, and in the national register when the hub answers (the search the
//! clerk's own search makes, `pages::run_search`), scores every record found against what was
//! typed with the Fellegi-Sunter model of `civreg_shared::linkage`, and shows those the model
//! takes for the same person, possibly or very likely, beside what was typed, field by field.
//! The clerk opens the existing record, or confirms a new entry; that decision is kept in the
//! create op's reason (`dupes-checked: REGNO, ...`), so it stays in the record's history and
//! reaches the hub with the record.
//!
//! # Finding candidates
//!
//! A few searches, the top [`PER_SEARCH`] hits of each (so the model sees what a mistyped or
//! swapped entry would match, and the work stays bounded): both names within a year of the
//! date of birth; both names in any year (a mistyped year); the surname alone within the birth
//! year (a misspelt given name); the given name alone within the birth year (a misspelt
//! surname); each personal number. Names given and surname the other way round are found by
//! the first, since the index matches a name in any name field.
//!
//! # Scoring
//!
//! Each candidate's principal (the child, the deceased) and the typed one become
//! [`PersonRecord`]s ([`PersonRecord::from_record`]), personal numbers as blind tokens under
//! this node's key ([`crate::node::Node::pnum_token`]: the model compares tokens, never
//! numbers). [`Model::score`] gives the match weight and each field's level; a candidate is
//! shown when the weight reaches the Possible threshold, or when the personal numbers are the
//! same whatever the rest says. A national hit held at another office carries only what the
//! hub's search summary holds (names of the people, the principal's date and place of birth):
//! it is scored on those, and the page says that the other fields were not compared; one
//! without a name and date of birth can not be scored and is shown after the others, saying so.
//!
//! # The model
//!
//! The hub's current model is used once the node holds one (issue 16: trained on the national
//! register by `civreg-hub match train` or the first `match`/`import` that needed one, sent with
//! the heartbeat reply and checked before use: `crate::node::dupes_model`). Until then, and
//! while every model the hub offers is refused, the node uses its own, compiled in:
//! `dupes_model.json`, trained once with
//! [`civreg_shared::linkage::Matcher::train`] (the hub's configuration,
//! `linkage::generic::hub_train_config`) on the synthetic population of 20,000 records with
//! planted duplicates (`civreg_shared::synth::population`, seed `0xD00B1E`; 22,953 people),
//! written by
//!
//! ```text
//! cargo test --workspace --locked --lib -- --ignored --exact web::dupes::tests::write_the_default_model
//! ```
//!
//! and committed. Not trained on the office's own records: EM needs true duplicates to learn
//! what a match looks like, and the personal-number session that anchors it needs at least 200
//! pairs sharing a number, which an office's register, kept free of duplicates by this very
//! check, does not hold; the name-only sessions alone take families and namesakes for matches
//! (see the linkage module docs). The synthetic population has both, with names of both
//! communities in both scripts. Its thresholds are moved to the office's size
//! ([`Model::thresholds_for`] over the office's live records, never below the training set's
//! size), so a small office is not shown weaker candidates than the model was checked for.

use super::auth::Signed;
use super::pages::{run_search, HitView, SearchForm};
use super::{Context, FormBody};
use chrono::NaiveDate;
use civreg_shared::fields;
use civreg_shared::gazetteer;
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::linkage::{Field, Model, PartialDate, PersonRecord, Score, Thresholds};
use civreg_shared::model::{Record, RecordKind, Sex};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// How the create op's reason names a confirmed duplicate check.
const NOTE_PREFIX: &str = "dupes-checked: ";
/// The form field of the clerk's decision, and its value for "a new entry".
pub const DECISION: &str = "_dupes";
pub const NEW_ENTRY: &str = "new";
/// The form field carrying the candidates shown (what the decision was about).
pub const SHOWN: &str = "_dupes_shown";
/// At most this many candidates are shown.
const MAX_SHOWN: usize = 5;
/// Hits taken from each search (its best by the search's own ranking).
const PER_SEARCH: usize = 20;
/// A value shown longer than this (a peer's summary is not trusted) is cut.
const MAX_VALUE_CHARS: usize = 120;

/// The compiled-in model (see the module docs for how it was made).
const MODEL_JSON: &str = include_str!("dupes_model.json");

/// The duplicate check's model, parsed once.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        Model::from_json(MODEL_JSON).expect(
            "the compiled-in dupes_model.json is a valid model (tested by web::dupes::tests)",
        )
    })
}

/// The thresholds for a register of `records` people: the model's, moved to that size but
/// never below the size it was trained on.
fn thresholds(model: &Model, records: u64) -> Thresholds {
    model.thresholds_for(records.max(model.training.records))
}

/// The person a record of `kind` is about: the child of a birth, the deceased of a death.
pub fn principal(kind: RecordKind) -> Option<&'static str> {
    match kind {
        RecordKind::Birth => Some("child"),
        RecordKind::Death => Some("deceased"),
        RecordKind::Marriage => None,
    }
}

/// The searches that would find the same person (see the module docs).
fn searches(kind: RecordKind, doc: &serde_json::Value) -> Vec<SearchForm> {
    let Some(who) = principal(kind) else {
        return Vec::new();
    };
    let Ok(flat) = fields::flatten(doc) else {
        return Vec::new();
    };
    let text = |path: &str| {
        flat.get(&format!("{who}.{path}"))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let kind = kind.as_str().to_string();
    let search = |q: String, born: String| SearchForm {
        q,
        born,
        municipality: String::new(),
        kind: kind.clone(),
    };
    let mut out = Vec::new();
    let (given, surname) = (text("given_name"), text("surname"));
    let year = text("date_of_birth")
        .get(..4)
        .and_then(|y| y.parse::<i32>().ok());
    if !given.is_empty() && !surname.is_empty() {
        match year {
            Some(y) => {
                out.push(search(
                    format!("{given} {surname}"),
                    format!("{}..{}", y - 1, y + 1),
                ));
                out.push(search(format!("{given} {surname}"), String::new()));
            }
            None => out.push(search(format!("{given} {surname}"), String::new())),
        }
    }
    // One name alone only within the birth year: in any year it would match half the register.
    if let Some(y) = year {
        for name in [&surname, &given] {
            if !name.is_empty() {
                out.push(search(name.clone(), y.to_string()));
            }
        }
    }
    for scheme in ["jmbg", "kosovo", "albanian"] {
        let n = text(&format!("personal_numbers.{scheme}"));
        if !n.is_empty() {
            out.push(search(n, String::new()));
        }
    }
    out
}

/// One person as the check scores and shows them.
#[derive(Debug, Clone)]
struct Person {
    /// What the model compares.
    rec: PersonRecord,
    /// The first personal number, in clear (shown masked).
    pnum: Option<String>,
    /// The place of birth as written.
    place: Option<String>,
    /// The registering municipality's code.
    municipality: String,
    /// Only what a national search summary carries (names, date and place of birth).
    partial: bool,
}

/// The principal of `record` (`None` for a marriage).
fn person_of(
    record: &Record,
    id: &str,
    token: &mut dyn FnMut(&str, &str) -> String,
) -> Option<Person> {
    let role = principal(record.kind())?;
    let rec = PersonRecord::from_record(id, record, |s, n| token(s, n))
        .into_iter()
        .find(|p| p.id.rsplit('/').next() == Some(role))?;
    let pnum = record
        .people()
        .into_iter()
        .find(|v| v.role == role)
        .and_then(|v| v.personal_numbers.iter().next().map(|(_, n)| n.to_string()));
    let place = match record {
        Record::Birth(b) => Some(b.place_of_birth.clone()),
        _ => None,
    };
    Some(Person {
        rec,
        pnum,
        place,
        municipality: record.municipality().to_string(),
        partial: false,
    })
}

/// A record held at this office, unless voided.
fn local_person(
    ctx: &Context,
    regno: &str,
    token: &mut dyn FnMut(&str, &str) -> String,
) -> Option<Person> {
    let st = ctx.node().get(regno).ok()?;
    if st.voided.is_some() {
        return None;
    }
    let own = civreg_shared::annotation::record_fields(&st.fields);
    let record = Record::from_json(st.kind, fields::unflatten(&own)).ok()?;
    person_of(&record, &st.regno, token)
}

/// A national hit's summary, as the hub's search builds it.
#[derive(Debug, Default, Deserialize)]
struct Summary {
    #[serde(default)]
    people: Vec<(String, String)>,
    #[serde(default)]
    date_of_birth: Option<String>,
    #[serde(default)]
    place_of_birth: Option<String>,
}

/// A full name as a summary gives it, split into the given name (the first word) and the
/// surname (the rest); `None` when it is not two parts. A name longer than a register allows
/// (a peer's summary is not trusted) is cut first, so comparing it stays cheap.
fn split_name(full: &str) -> Option<(String, String)> {
    let full: String = full.chars().take(MAX_VALUE_CHARS).collect();
    let (g, s) = full.trim().split_once(char::is_whitespace)?;
    let s = s.trim();
    (!g.is_empty() && !s.is_empty()).then(|| (g.to_string(), s.to_string()))
}

/// What a national hit held at another office tells of its principal: names, date and place
/// of birth, and the parents' given names (no sex, no personal number, no maiden surname).
/// `None` when the summary does not parse or names no principal.
fn national_person(
    kind: RecordKind,
    regno: &str,
    json: &str,
    municipality: &str,
) -> Option<Person> {
    let s: Summary = serde_json::from_str(json).ok()?;
    let role = principal(kind)?;
    let name_of = |r: &str| {
        s.people
            .iter()
            .find(|(x, _)| x == r)
            .and_then(|(_, n)| split_name(n))
    };
    let (given_name, surname) = name_of(role)?;
    let rec = PersonRecord {
        id: format!("{regno}/{role}"),
        given_name,
        surname,
        father_given_name: name_of("father").map(|n| n.0),
        mother_given_name: name_of("mother").map(|n| n.0),
        birth_date: s
            .date_of_birth
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
            .map(PartialDate::from),
        birth_place: s
            .place_of_birth
            .as_deref()
            .and_then(gazetteer::resolve)
            .map(|m| m.code.to_string()),
        ..PersonRecord::default()
    };
    Some(Person {
        rec,
        pnum: None,
        place: s.place_of_birth,
        municipality: municipality.to_string(),
        partial: true,
    })
}

/// How strongly a shown candidate looks like the typed person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// At or above the Match threshold.
    Match,
    /// At or above the Possible threshold.
    Possible,
    /// Below it, but with the same personal number.
    SameNumber,
    /// A national hit with too little to score.
    Unscored,
}

impl Strength {
    fn class(self) -> &'static str {
        match self {
            Strength::Match => "match",
            Strength::Possible => "possible",
            Strength::SameNumber => "same-number",
            Strength::Unscored => "unscored",
        }
    }
}

/// The strength of a scored candidate, `None` when it is not to be shown.
fn strength(score: &Score, t: &Thresholds) -> Option<Strength> {
    let same_number = score
        .fields
        .iter()
        .any(|f| f.field == Field::PersonalNumber && f.level == Some("same"));
    if score.weight >= t.matched {
        Some(Strength::Match)
    } else if score.weight >= t.possible {
        Some(Strength::Possible)
    } else if same_number {
        Some(Strength::SameNumber)
    } else {
        None
    }
}

/// A candidate kept for the page.
struct Kept {
    hit: HitView,
    person: Person,
    score: Option<Score>,
    strength: Strength,
}

/// How a field of a candidate compares with what was typed, from the model's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Agree,
    Close,
    Differ,
    /// Missing on either side: not compared.
    Unknown,
}

impl Mark {
    fn class(self) -> &'static str {
        match self {
            Mark::Agree => "agree",
            Mark::Close => "close",
            Mark::Differ => "differ",
            Mark::Unknown => "unknown",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            Mark::Agree => "✓",
            Mark::Close => "≈",
            Mark::Differ => "✗",
            Mark::Unknown => "–",
        }
    }
}

/// The mark of a model level (`None`: missing on a side), with the message key saying it.
fn mark_of(level: Option<&str>) -> (Mark, &'static str) {
    match level {
        None => (Mark::Unknown, "dupes-m-unknown"),
        Some("exact" | "same") => (Mark::Agree, "dupes-m-agree"),
        Some("normalised") => (Mark::Agree, "dupes-m-agree-spelling"),
        Some("phonetic") => (Mark::Close, "dupes-m-sounds"),
        Some("jw>=0.94" | "jw>=0.88" | "one typo apart") => (Mark::Close, "dupes-m-typo"),
        Some("swapped with surname" | "swapped with given name") => {
            (Mark::Close, "dupes-m-swapped")
        }
        Some("other surname") => (Mark::Close, "dupes-m-other-surname"),
        Some("day/month swapped") => (Mark::Close, "dupes-m-date-swapped"),
        Some("one digit apart" | "one edit apart") => (Mark::Close, "dupes-m-digit"),
        Some("same year") => (Mark::Close, "dupes-m-same-year"),
        Some("year ±1") => (Mark::Close, "dupes-m-year-apart"),
        Some("different") => (Mark::Differ, "dupes-m-differ"),
        // A level added to the model later: some agreement, short of "different".
        Some(_) => (Mark::Close, "dupes-m-close"),
    }
}

/// The rows of the table, in order: the message key of the label, and the model's field.
const ROWS: &[(&str, Option<Field>)] = &[
    ("f-given-name", Some(Field::GivenName)),
    ("f-surname", Some(Field::Surname)),
    ("f-sex", Some(Field::Sex)),
    ("f-date-of-birth", Some(Field::BirthDate)),
    ("f-place-of-birth", Some(Field::BirthPlace)),
    ("dupes-f-father", Some(Field::FatherGivenName)),
    ("dupes-f-mother", Some(Field::MotherGivenName)),
    ("dupes-f-mother-maiden", Some(Field::MotherMaidenSurname)),
    ("dupes-f-pnum", Some(Field::PersonalNumber)),
    ("dupes-f-municipality", None),
];

/// A personal number as the check shows it: all but the last four characters hidden.
fn mask(n: &str) -> String {
    let chars: Vec<char> = n.trim().chars().collect();
    let keep = chars.len().min(4);
    let hidden = chars.len() - keep;
    "•".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
}

fn municipality_name(code: &str, lang: Lang) -> String {
    match gazetteer::resolve(code) {
        Some(m) => match lang {
            Lang::SrLatn => m.name_sr_latn,
            Lang::SrCyrl => m.name_sr_cyrl,
            Lang::Sq | Lang::En => m.name_sq,
        }
        .to_string(),
        None => code.to_string(),
    }
}

fn cut(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= MAX_VALUE_CHARS {
        s.to_string()
    } else {
        s.chars().take(MAX_VALUE_CHARS).collect::<String>() + "…"
    }
}

/// The value of a row for a person, as shown.
fn value(p: &Person, key: &str, lang: Lang) -> String {
    let c = Catalog::get();
    let opt = |v: &Option<String>| v.as_deref().map(cut).unwrap_or_default();
    match key {
        "f-given-name" => cut(&p.rec.given_name),
        "f-surname" => cut(&p.rec.surname),
        "f-sex" => match p.rec.sex {
            Some(Sex::Male) => c.text(lang, "sex-male"),
            Some(Sex::Female) => c.text(lang, "sex-female"),
            None => String::new(),
        },
        "f-date-of-birth" => p
            .rec
            .birth_date
            .map(|d| match (d.month, d.day) {
                (Some(m), Some(day)) => format!("{day:02}.{m:02}.{:04}", d.year),
                _ => format!("{:04}", d.year),
            })
            .unwrap_or_default(),
        "f-place-of-birth" => match (&p.rec.birth_place, &p.place) {
            (Some(code), _) => municipality_name(code, lang),
            (None, place) => opt(place),
        },
        "dupes-f-father" => opt(&p.rec.father_given_name),
        "dupes-f-mother" => opt(&p.rec.mother_given_name),
        "dupes-f-mother-maiden" => opt(&p.rec.mother_maiden_surname),
        "dupes-f-pnum" => p.pnum.as_deref().map(mask).unwrap_or_default(),
        "dupes-f-municipality" if !p.municipality.is_empty() => {
            municipality_name(&p.municipality, lang)
        }
        _ => String::new(),
    }
}

/// One candidate's column head.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub regno: String,
    pub kind_text: String,
    /// `match`, `possible`, `same-number` or `unscored`.
    pub strength: &'static str,
    /// The strength in plain words, in the clerk's language.
    pub strength_text: String,
    /// The match weight in bits, one decimal (empty when not scored).
    pub weight: String,
    /// Held at this office: its page can be opened.
    pub here: bool,
    /// What was not compared, for a national hit known only by its summary.
    pub note: Option<String>,
}

/// One cell of a candidate: the value and how it compares with what was typed.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub value: String,
    /// `agree`, `close`, `differ`, `unknown`; empty for a row the model does not compare.
    pub mark: &'static str,
    pub icon: &'static str,
    pub mark_text: String,
}

/// One field: its label, what was typed, and each candidate's cell.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The model's field name (`given_name`, ...), or `municipality`.
    pub field: &'static str,
    pub label: String,
    pub typed: String,
    pub cells: Vec<Cell>,
}

/// The candidates found for the record about to be saved, side by side with what was typed.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub scope_text: String,
    pub count_text: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Found {
    /// The registration numbers shown, for the form's [`SHOWN`] field.
    pub fn shown(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.regno.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Scores the hits against the typed person and keeps those to show, strongest first.
fn keep(model: &Model, t: &Thresholds, typed: &Person, found: Vec<(HitView, Person)>) -> Vec<Kept> {
    let mut kept: Vec<Kept> = Vec::new();
    for (hit, person) in found {
        let scorable = !person.partial || person.rec.birth_date.is_some();
        if !scorable {
            kept.push(Kept {
                hit,
                person,
                score: None,
                strength: Strength::Unscored,
            });
            continue;
        }
        let score = model.score(&typed.rec, &person.rec);
        if let Some(strength) = strength(&score, t) {
            kept.push(Kept {
                hit,
                person,
                score: Some(score),
                strength,
            });
        }
    }
    // Scored first, heaviest first; ties by registration number (a stable page).
    kept.sort_by(|a, b| {
        let w = |k: &Kept| k.score.as_ref().map_or(f64::NEG_INFINITY, |s| s.weight);
        (a.strength == Strength::Unscored)
            .cmp(&(b.strength == Strength::Unscored))
            .then(w(b).total_cmp(&w(a)))
            .then(a.hit.regno.cmp(&b.hit.regno))
    });
    kept.truncate(MAX_SHOWN);
    kept
}

/// The page's view of the kept candidates.
fn view(lang: Lang, scope_text: String, typed: &Person, kept: &[Kept]) -> Found {
    let c = Catalog::get();
    let columns = kept
        .iter()
        .map(|k| Column {
            regno: k.hit.regno.clone(),
            kind_text: k.hit.kind_text.clone(),
            strength: k.strength.class(),
            strength_text: c.text(lang, &format!("dupes-strength-{}", k.strength.class())),
            weight: k
                .score
                .as_ref()
                .map(|s| format!("{:.1}", s.weight))
                .unwrap_or_default(),
            here: k.hit.here,
            note: k.person.partial.then(|| c.text(lang, "dupes-partial")),
        })
        .collect();
    let mut rows = Vec::new();
    for &(key, field) in ROWS {
        let typed_value = value(typed, key, lang);
        let cells: Vec<Cell> = kept
            .iter()
            .map(|k| {
                let v = value(&k.person, key, lang);
                let Some(field) = field else {
                    return Cell {
                        value: v,
                        mark: "",
                        icon: "",
                        mark_text: String::new(),
                    };
                };
                let level = k
                    .score
                    .as_ref()
                    .and_then(|s| s.fields.iter().find(|f| f.field == field))
                    .and_then(|f| f.level);
                let (mark, text_key) = mark_of(level);
                Cell {
                    value: v,
                    mark: mark.class(),
                    icon: mark.icon(),
                    mark_text: c.text(lang, text_key),
                }
            })
            .collect();
        if typed_value.is_empty() && cells.iter().all(|x| x.value.is_empty()) {
            continue;
        }
        rows.push(Row {
            field: field.map_or("municipality", Field::as_str),
            label: c.text(lang, key),
            typed: typed_value,
            cells,
        });
    }
    Found {
        scope_text,
        count_text: c.format(lang, "dupes-count", &[("count", kept.len().into())]),
        columns,
        rows,
    }
}

/// The candidates for the record about to be saved, or `None` when nothing looks like it.
/// A search that fails (a query the index refuses) is no candidate: the check never stops a
/// clerk from saving.
pub fn candidates(
    ctx: &Context,
    who: &Signed,
    kind: RecordKind,
    doc: &serde_json::Value,
) -> Option<Found> {
    let node = ctx.node();
    let record = node.prepare(kind, doc.clone()).ok()?;
    let mut token = |s: &str, n: &str| node.pnum_token(s, n);
    let typed = person_of(&record, "typed", &mut token)?;
    let mut hits: Vec<HitView> = Vec::new();
    let mut scope_text = None;
    for f in searches(kind, doc) {
        let Ok(a) = run_search(ctx, who, &f) else {
            continue;
        };
        // The national register when any search reached it.
        if scope_text.is_none() || a.scope == "national" {
            scope_text = Some(a.scope_text.clone());
        }
        for h in a.hits.into_iter().take(PER_SEARCH) {
            if !hits.iter().any(|x| x.regno == h.regno) {
                hits.push(h);
            }
        }
    }
    let found: Vec<(HitView, Person)> = hits
        .into_iter()
        .filter_map(|h| {
            let p = if h.here {
                local_person(ctx, &h.regno, &mut token)
            } else {
                national_person(kind, &h.regno, h.summary_json.as_deref()?, &h.municipality)
            }?;
            Some((h, p))
        })
        .collect();
    if found.is_empty() {
        return None;
    }
    // The hub's model when one was taken (issue 16), else the compiled-in one.
    let hub = node.dupes_model();
    let model: &Model = match hub.as_deref() {
        Some(h) => &h.model,
        None => model(),
    };
    let records = node.live_record_count().unwrap_or(0) as u64;
    let kept = keep(model, &thresholds(model, records), &typed, found);
    if kept.is_empty() {
        return None;
    }
    Some(view(
        who.lang,
        scope_text.unwrap_or_default(),
        &typed,
        &kept,
    ))
}

/// Whether the clerk already decided this is a new entry.
pub fn confirmed_new(form: &FormBody) -> bool {
    form.get(DECISION) == NEW_ENTRY
}

/// The note kept with the record when the clerk confirmed a new entry over shown candidates:
/// only registration numbers from the form's list are kept (the list comes back from the
/// browser, so anything else in it is dropped).
pub fn note(form: &FormBody) -> String {
    if !confirmed_new(form) {
        return String::new();
    }
    let shown: Vec<&str> = form
        .get(SHOWN)
        .split(',')
        .map(str::trim)
        .filter(|r| civreg_shared::ids::RegNo::parse(r).is_ok())
        .take(MAX_SHOWN)
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    format!("{NOTE_PREFIX}{}", shown.join(", "))
}

/// A create op's reason as the record's history shows it: the duplicate check in the clerk's
/// language, anything else as written.
pub fn history_text(lang: Lang, reason: &str) -> String {
    match reason.strip_prefix(NOTE_PREFIX) {
        Some(regnos) => {
            Catalog::get().format(lang, "record-dupes-checked", &[("regnos", regnos.into())])
        }
        None => Catalog::get().format(lang, "record-reason", &[("reason", reason.into())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_birth_is_looked_up_by_names_by_one_name_in_the_year_and_by_each_personal_number() {
        let doc = json!({"child": {"given_name": " Arben ", "surname": "Gashi",
            "date_of_birth": "1968-03-14", "personal_numbers": {"jmbg": "1403968950011"}}});
        let s = searches(RecordKind::Birth, &doc);
        let got: Vec<(&str, &str, &str)> = s
            .iter()
            .map(|f| (f.q.as_str(), f.born.as_str(), f.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Arben Gashi", "1967..1969", "birth"),
                ("Arben Gashi", "", "birth"),
                ("Gashi", "1968", "birth"),
                ("Arben", "1968", "birth"),
                ("1403968950011", "", "birth"),
            ]
        );
        // A death without a date of birth: the names alone, in any year. A marriage: no check.
        let doc = json!({"deceased": {"given_name": "Ђорђе", "surname": "Ђорђевић"}});
        let s = searches(RecordKind::Death, &doc);
        assert_eq!((s.len(), s[0].born.as_str()), (1, ""));
        assert!(searches(RecordKind::Marriage, &doc).is_empty());
        // One name and no date: no name search (it would match half the register).
        assert!(searches(
            RecordKind::Birth,
            &json!({"child": {"given_name": "Arben"}})
        )
        .is_empty());
    }

    fn token(scheme: &str, n: &str) -> String {
        format!("{scheme}:{n}")
    }

    /// A birth at Prizren, the child's fields replaced by `child`, the mother by `mother`.
    fn birth(child: serde_json::Value, mother: (&str, &str)) -> Person {
        let mut doc = json!({
            "municipality": "prizren",
            "place_of_birth": "Prizren",
            "child": {"given_name": "Arben", "surname": "Gashi", "sex": "male",
                "date_of_birth": "1968-03-14"},
            "mother": {"given_name": mother.0, "surname": mother.1},
            "father": {"given_name": "Ilir", "surname": "Gashi"},
        });
        if let (Some(c), Some(over)) = (doc["child"].as_object_mut(), child.as_object()) {
            for (k, v) in over {
                c.insert(k.clone(), v.clone());
            }
        }
        let record = Record::from_json(RecordKind::Birth, doc).expect("a birth document");
        person_of(&record, "P-B-1", &mut token).expect("a child")
    }

    fn score(a: &Person, b: &Person) -> (Score, Option<Strength>) {
        let m = model();
        let s = m.score(&a.rec, &b.rec);
        let st = strength(&s, &thresholds(m, 0));
        (s, st)
    }

    fn level(s: &Score, f: Field) -> Option<&'static str> {
        s.fields.iter().find(|x| x.field == f).and_then(|x| x.level)
    }

    #[test]
    fn the_compiled_in_model_is_valid_and_its_thresholds_never_fall_below_the_trained_ones() {
        let m = Model::from_json(MODEL_JSON).expect("dupes_model.json parses and checks");
        assert!(m.training.records > 10_000, "{:?}", m.training);
        let small = thresholds(model(), 3);
        assert_eq!(small, m.thresholds);
        let large = thresholds(model(), 10 * m.training.records);
        assert!(large.possible > small.possible + 3.0, "{large:?} {small:?}");
    }

    #[test]
    fn a_mistyped_surname_and_a_swapped_day_and_month_still_look_like_the_same_child() {
        let existing = birth(
            json!({"date_of_birth": "1968-03-11"}),
            ("Drita", "Krasniqi"),
        );
        let typed = birth(
            json!({"surname": "Gahsi", "date_of_birth": "1968-11-03"}),
            ("Drita", "Krasniqi"),
        );
        let (s, st) = score(&typed, &existing);
        assert_eq!(level(&s, Field::BirthDate), Some("day/month swapped"));
        assert_ne!(level(&s, Field::Surname), Some("exact"));
        assert!(
            matches!(st, Some(Strength::Match | Strength::Possible)),
            "weight {:.1}: {s:?}",
            s.weight
        );
    }

    #[test]
    fn given_name_and_surname_swapped_still_look_like_the_same_child() {
        let existing = birth(json!({}), ("Drita", "Krasniqi"));
        let typed = birth(
            json!({"given_name": "Gashi", "surname": "Arben"}),
            ("Drita", "Krasniqi"),
        );
        let (s, st) = score(&typed, &existing);
        assert_eq!(level(&s, Field::GivenName), Some("swapped with surname"));
        assert!(
            matches!(st, Some(Strength::Match | Strength::Possible)),
            "weight {:.1}: {s:?}",
            s.weight
        );
    }

    #[test]
    fn a_namesake_born_another_day_of_other_parents_is_not_offered() {
        let existing = birth(json!({}), ("Drita", "Krasniqi"));
        let mut other = birth(
            json!({"date_of_birth": "1971-09-02"}),
            ("Shpresa", "Berisha"),
        );
        other.rec.father_given_name = Some("Agim".into());
        let (s, st) = score(&other, &existing);
        assert_eq!(level(&s, Field::GivenName), Some("exact"));
        assert_eq!(st, None, "weight {:.1}: {s:?}", s.weight);
        // The same personal number is always offered, whatever else differs.
        let with = |p: &Person| {
            let mut p = p.clone();
            p.rec.tokens = vec![civreg_shared::linkage::PnumToken::new(
                "jmbg",
                token("jmbg", "1403968950011"),
            )];
            p
        };
        let (_, st) = score(&with(&other), &with(&existing));
        assert_eq!(st, Some(Strength::SameNumber));
    }

    #[test]
    fn each_cell_says_how_it_compares_in_words_and_numbers_are_masked() {
        let existing = birth(
            json!({"date_of_birth": "1968-03-11", "personal_numbers": {"jmbg": "1103968950011"}}),
            ("Drita", "Krasniqi"),
        );
        let typed = birth(
            json!({"surname": "Гаши", "date_of_birth": "1968-11-03", "sex": "female"}),
            ("Drita", "Krasniqi"),
        );
        let s = model().score(&typed.rec, &existing.rec);
        let kept = vec![Kept {
            hit: HitView {
                regno: "PZ-B-2026-000001".into(),
                kind_text: "Lindje".into(),
                summary: String::new(),
                here: true,
                annotate_text: None,
                summary_json: None,
                municipality: String::new(),
            },
            person: existing,
            score: Some(s),
            strength: Strength::Possible,
        }];
        let f = view(Lang::En, "here".into(), &typed, &kept);
        let row = |field: &str| {
            f.rows
                .iter()
                .find(|r| r.field == field)
                .unwrap_or_else(|| panic!("a {field} row in {f:?}"))
        };
        let given = &row("given_name").cells[0];
        assert_eq!((given.mark, given.mark_text.as_str()), ("agree", "Agrees"));
        // Albanian "sh" and Serbian "ш" (š): the same surname by sound, not by letters.
        let surname = &row("surname").cells[0];
        assert_eq!(
            (surname.mark, surname.mark_text.as_str()),
            ("close", "Close: sounds the same")
        );
        assert_eq!(row("surname").typed, "Гаши");
        let born = &row("birth_date").cells[0];
        assert_eq!(
            (born.mark, born.value.as_str()),
            ("close", "11.03.1968"),
            "{born:?}"
        );
        assert!(born.mark_text.contains("day and month"), "{born:?}");
        let sex = &row("sex").cells[0];
        assert_eq!((sex.mark, sex.icon), ("differ", "✗"));
        let pn = &row("personal_number");
        assert_eq!(pn.cells[0].value, "•••••••••0011");
        assert_eq!((pn.typed.as_str(), pn.cells[0].mark), ("", "unknown"));
        assert_eq!(row("municipality").cells[0].value, "Prizren");
        assert_eq!(f.shown(), "PZ-B-2026-000001");
        assert_eq!(f.columns[0].strength_text, "Possibly the same person");
    }

    #[test]
    fn a_national_summary_gives_names_date_and_place_and_says_the_rest_is_unknown() {
        let json = r#"{"people":[["child","Arben Gashi"],["mother","Drita Krasniqi"],["father","Ilir Gashi"]],
            "date_of_birth":"1968-03-14","place_of_birth":"Prizren"}"#;
        let p = national_person(RecordKind::Birth, "PZ-B-1", json, "prizren").expect("a person");
        assert_eq!(
            (
                p.rec.given_name.as_str(),
                p.rec.surname.as_str(),
                p.rec.mother_given_name.as_deref(),
                p.rec.father_given_name.as_deref(),
                p.rec.birth_place.as_deref(),
                p.partial,
            ),
            (
                "Arben",
                "Gashi",
                Some("Drita"),
                Some("Ilir"),
                Some("prizren"),
                true
            )
        );
        assert_eq!(p.rec.birth_date, Some(PartialDate::ymd(1968, 3, 14)));
        let typed = birth(json!({}), ("Drita", "Krasniqi"));
        let (s, st) = score(&typed, &p);
        assert_eq!(level(&s, Field::Sex), None);
        assert!(st.is_some(), "weight {:.1}", s.weight);
        // What the hub sends is not trusted: nonsense is no candidate, never a panic.
        for bad in [
            "",
            "{",
            "[]",
            r#"{"people":[["child","Arben"]]}"#,
            r#"{"people":7}"#,
        ] {
            assert!(
                national_person(RecordKind::Birth, "X", bad, "").is_none(),
                "{bad}"
            );
        }
        assert_eq!(
            split_name("  Arben   Gashi Berisha "),
            Some(("Arben".into(), "Gashi Berisha".into()))
        );
        let (g, s) = split_name(&format!("Arben {}", "x".repeat(100_000))).expect("two parts");
        assert_eq!(
            (g.as_str(), s.chars().count()),
            ("Arben", MAX_VALUE_CHARS - 6)
        );
        assert_eq!(mask("12"), "12");
        assert_eq!(mask(""), "");
    }

    /// The synthetic population the model was trained on.
    const MODEL_SEED: u64 = 0xD0_0B1E;
    const MODEL_RECORDS: u64 = 20_000;

    /// Writes `dupes_model.json`: the model trained on the synthetic population (see the
    /// module docs). Run once when the linkage model's format changes.
    #[test]
    #[ignore = "writes node/src/web/dupes_model.json; run by hand"]
    fn write_the_default_model() {
        use civreg_shared::linkage::{generic::hub_train_config, Matcher};
        use civreg_shared::synth::eval::LinkageSet;
        use civreg_shared::synth::population::{Population, PopulationConfig};
        let set = LinkageSet::from_records(Population::new(PopulationConfig::new(
            MODEL_SEED,
            MODEL_RECORDS,
        )))
        .expect("generated records parse");
        let model = Matcher::train(&set.people, &hub_train_config(set.people.len()))
            .expect("training on the synthetic population");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/dupes_model.json");
        std::fs::write(path, model.to_json() + "\n").expect("write dupes_model.json");
        eprintln!(
            "{path}: {} people, thresholds {:?}",
            set.people.len(),
            model.thresholds
        );
    }
}
