//! Identity matching at the hub: `civreg-hub match dedupe` and `match link`, on the
//! Fellegi-Sunter matcher of `civreg_shared::linkage`.
//!
//! Everyone the register names becomes a `PersonRecord` (id `REGNO/role`), personal numbers only
//! as blind tokens (the search index's key). The model is trained on the register each time
//! (u from random pairs, m by EM per blocking rule: see the linkage module docs), and its
//! thresholds are taken for the register's size.
//!
//! `match link` reads a CSV of person rows (as people have them: `,` `;` or tab, a byte-order
//! mark, CRLF, any header case: [`civreg_shared::csvrows::reader`]). Columns (all optional):
//! `id`, `given_name`, `surname`, `birth_surname` (or `maiden_surname`), `father_given_name`,
//! `mother_given_name`, `mother_maiden_surname`, `sex` (male/female), `date_of_birth`
//! (YYYY-MM-DD, DD.MM.YYYY, DD.MM.YYYY. or a year), `place_of_birth` (any name of a
//! municipality), `personal_number`. Columns of the node importer for a birth's child
//! (`child.given_name`, ...) are understood too.
//!
//! Missing values are evidence of nothing: a row with one name, no date or no number is linked
//! on what it has. A value that can not be used (an impossible date, an unknown place or sex) is
//! left out of the comparison, or an impossible date compared by its year when the year is
//! sound, and the row's `notes` say so. Only a row with neither a name nor a personal number, or
//! one that is not CSV, is rejected, with its line.
//!
//! A link job has its own prior (`civreg_shared::linkage::LinkJob`): the share of rows expected
//! in the register is estimated from the two sources by deterministic rules, or given with
//! `--expect-matches`, and refined by kind of row (the identifying fields a row lacks); the
//! thresholds follow from it, overall and by kind of row (each row's are in its report line), or
//! are given with `--threshold` and `--possible`. The model is trained on the register and the file's rows together.

use crate::linkage::models::{self, ModelUse};
use crate::search::Blinder;
use crate::store::{HubStore, StoreError};
use civreg_shared::gazetteer;
use civreg_shared::linkage::{
    self, Class, LinkJob, LinkOptions, LinkPrior, Matcher, PartialDate, PersonRecord, PnumToken,
    TrainConfig,
};
use civreg_shared::model::Sex;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("matching: {0}")]
    Linkage(#[from] linkage::LinkageError),
    #[error("{path}: {why}")]
    Input { path: String, why: String },
    #[error("the register holds no people{0}: nothing to match against")]
    Empty(String),
    #[error(transparent)]
    Person(#[from] crate::linkage::persons::PersonError),
    #[error("{0}")]
    Model(String),
}

/// Everyone the register names (of one municipality's records, or all).
pub fn register_people(
    store: &HubStore,
    blinder: &Blinder,
    municipality: Option<&str>,
) -> Result<Vec<PersonRecord>, MatchError> {
    let prefix = municipality
        .map(|m| format!("{}-", m.to_ascii_uppercase()))
        .unwrap_or_default();
    let mut out = Vec::new();
    for st in store.records_with_prefix(&prefix) {
        let st = st?;
        if st.voided.is_some() {
            continue;
        }
        let Ok(rec) = st.record() else { continue };
        out.extend(PersonRecord::from_record(&st.regno, &rec, |_, n| {
            blinder.token(n)
        }));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub a: String,
    pub b: String,
    pub weight: f64,
    pub probability: f64,
    /// `match`, `possible`, or `below possible` (reported, since the operator asked for a
    /// lower threshold, but not filed for review).
    pub class: String,
}

impl DuplicatePair {
    /// Whether `match dedupe` files the pair into the review queue: a Match (by its own weight
    /// or by its cluster, whose pair weight may be under Possible: two corrupted copies of one
    /// record) or a pair at or above the Possible weight. The pairs an operator asked for under
    /// it are only reported.
    pub fn for_review(&self, possible: f64) -> bool {
        self.class == "match" || self.weight >= possible
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupeReport {
    pub people: usize,
    /// The weight from which pairs are reported.
    pub threshold: f64,
    /// The model's Match and Possible thresholds: the Matches and the pairs at or above
    /// Possible are filed into the review queue ([`DuplicatePair::for_review`]).
    pub thresholds: linkage::Thresholds,
    pub pairs_compared: u64,
    pub pairs: Vec<DuplicatePair>,
    /// The saved model the pairs were scored with ([`crate::linkage::models`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUse>,
}

fn class_name(c: Class) -> &'static str {
    match c {
        Class::Match => "match",
        Class::Possible => "possible",
        Class::New => "new",
    }
}

/// The training configuration for `n` people.
pub fn train_config(n: usize) -> TrainConfig {
    linkage::generic::hub_train_config(n)
}

pub fn train(people: &[PersonRecord]) -> Result<linkage::Model, MatchError> {
    Ok(Matcher::train(people, &train_config(people.len()))?)
}

/// Probable duplicates inside the register: pairs of people named in two different records
/// whose weight reaches `threshold` (default: the model's "possible" threshold).
pub fn dedupe(
    store: &HubStore,
    blinder: &Blinder,
    municipality: Option<&str>,
    threshold: Option<f64>,
    retrain: bool,
) -> Result<DedupeReport, MatchError> {
    let people = register_people(store, blinder, municipality)?;
    if people.len() < 2 {
        return Err(MatchError::Empty(
            municipality.map(|m| format!(" in {m}")).unwrap_or_default(),
        ));
    }
    // The saved model is the whole register's: one municipality's people train none.
    let (model, used) = match municipality {
        None => models::model_for(store, &people, retrain, "match dedupe")?,
        Some(_) => {
            let all = register_people(store, blinder, None)?;
            models::model_for(store, &all, retrain, "match dedupe")?
        }
    };
    let th = model.thresholds_for(people.len() as u64);
    let threshold = threshold.unwrap_or(th.possible);
    let d = linkage::dedupe_at(&model, &people, threshold, th);
    let record_of = |id: &str| {
        id.rsplit_once('/')
            .map(|(r, _)| r.to_string())
            .unwrap_or_default()
    };
    let pairs = d
        .pairs
        .iter()
        .filter(|p| record_of(&people[p.a].id) != record_of(&people[p.b].id))
        .map(|p| DuplicatePair {
            a: people[p.a].id.clone(),
            b: people[p.b].id.clone(),
            weight: p.weight,
            // A pair its cluster makes a Match has that posterior (its own weight may be low).
            probability: p.cluster.unwrap_or_else(|| model.probability(p.weight)),
            class: if p.is_match(th.matched) {
                "match"
            } else if p.weight >= th.possible {
                "possible"
            } else {
                "below possible"
            }
            .into(),
        })
        .collect();
    Ok(DedupeReport {
        people: people.len(),
        threshold,
        thresholds: th,
        pairs_compared: d.stats.pairs,
        pairs,
        model: Some(used),
    })
}

/// One linked row, joined back to the user's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkRow {
    /// The CSV line.
    pub line: u64,
    /// The row's own `id` column (or `line N` when the file has none).
    pub id: String,
    /// `match`, `possible` or `new`.
    pub class: String,
    /// The best candidate's record number and role, and its person identifier.
    pub record: Option<String>,
    pub role: Option<String>,
    pub person: Option<String>,
    /// The best candidate as `REGNO/role`.
    pub best: Option<String>,
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    /// The weights at which a lone candidate of a row of this row's kind (the identifying
    /// fields it lacks) is Match and Possible: the link job's thresholds by kind of row
    /// (`None` only in a report of an older version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<linkage::Thresholds>,
    /// Fields that agree (at any agreeing level), and those that disagree.
    pub agree: Vec<String>,
    pub disagree: Vec<String>,
    /// Per field: its agreement level and weight.
    pub why: Vec<String>,
    /// Values of the row that could not be used, and how they were taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkReport {
    pub register_people: usize,
    /// The saved model used; `None` when the job trained its own (`--retrain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUse>,
    /// The job's prior and thresholds.
    pub prior: LinkPrior,
    pub rows: Vec<LinkRow>,
    pub rejected: Vec<Rejected>,
}

/// What a `match link` is asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct LinkParams {
    /// Share of the rows expected to be in the register.
    #[serde(default)]
    pub expect_matches: Option<f64>,
    /// Match threshold in bits.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Possible threshold in bits.
    #[serde(default)]
    pub possible: Option<f64>,
    /// Train a model for this job on the register and the file together, instead of using the
    /// saved one (it is not saved: it is the job's).
    #[serde(default)]
    pub retrain: bool,
}

/// A readable row: its CSV line, the person, and notes on values that could not be used.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub person: PersonRecord,
    pub notes: Vec<String>,
}

/// Readable rows.
pub type Rows = Vec<Row>;

/// Rows one `match link` reads at most (each is held in memory with its result).
pub const MAX_LINK_ROWS: usize = 2_000_000;

/// Oldest year of birth taken as sound.
const FIRST_YEAR: i32 = 1800;

/// A date of birth as typed: `Ok(date)`, or `Err(year)` when it is not a real date but its year
/// is sound (then compared by the year), or `Err(None)` when nothing in it is usable.
fn parse_date(s: &str) -> Result<PartialDate, Option<i32>> {
    let s = s.trim();
    let this_year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let sound = |y: i32| (FIRST_YEAR..=this_year).contains(&y);
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<i32>() {
            Ok(y) if sound(y) => Ok(PartialDate::year(y)),
            _ => Err(None),
        };
    }
    let iso = civreg_shared::csvrows::iso_date(s).unwrap_or_else(|| s.to_string());
    let parts: Vec<&str> = iso.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(None);
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(None);
    };
    match chrono::NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) if sound(y) => Ok(PartialDate::from(date)),
        _ if sound(y) => Err(Some(y)),
        _ => Err(None),
    }
}

/// Reads the person rows of a CSV file (see the module docs).
pub fn read_rows(path: &Path, blinder: &Blinder) -> Result<(Rows, Vec<Rejected>), MatchError> {
    let input = |why: String| MatchError::Input {
        path: path.display().to_string(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| input(e.to_string()))?;
    let mut r = civreg_shared::csvrows::reader(file).map_err(|e| input(e.to_string()))?;
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| input(e.to_string()))?
        .iter()
        .map(|h| {
            let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
            for prefix in ["child.", "deceased.", "person."] {
                if let Some(rest) = h.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
            h
        })
        .collect();
    if !headers
        .iter()
        .any(|h| h == "given_name" || h == "surname" || h == "personal_number")
    {
        return Err(input(format!(
            "no given_name, surname or personal_number column (the header names {}); expected any of: {}",
            headers
                .iter()
                .take(8)
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            COLUMNS.join(", ")
        )));
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut count = 0usize;
    loop {
        let line_before = r.position().line() + 1;
        let rec = match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => &rec,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line_before);
                rejected.push(Rejected {
                    line,
                    reason: format!("not a CSV row: {e}"),
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(input(e.to_string()));
                }
                continue;
            }
        };
        count += 1;
        if count > MAX_LINK_ROWS {
            return Err(input(format!(
                "more than {MAX_LINK_ROWS} rows: split the file and link each part"
            )));
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(line_before);
        let get = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut notes = Vec::new();
        let given = get("given_name").unwrap_or_default().to_string();
        let surname = get("surname").unwrap_or_default().to_string();
        let number = get("personal_number");
        if given.is_empty() && surname.is_empty() && number.is_none() {
            rejected.push(Rejected {
                line,
                reason: "no given name, no surname and no personal number: nothing to link on"
                    .into(),
            });
            continue;
        }
        let birth_date = match get("date_of_birth") {
            Some(d) => match parse_date(d) {
                Ok(p) => Some(p),
                Err(Some(y)) => {
                    notes.push(format!(
                        "date_of_birth {d:?} is not a real date: compared by its year {y}"
                    ));
                    Some(PartialDate::year(y))
                }
                Err(None) => {
                    notes.push(format!(
                        "date_of_birth {d:?} is not a date (YYYY-MM-DD, DD.MM.YYYY or a year): left out"
                    ));
                    None
                }
            },
            None => None,
        };
        let sex = match get("sex").map(str::to_lowercase).as_deref() {
            None => None,
            Some("male" | "m") => Some(Sex::Male),
            Some("female" | "f") => Some(Sex::Female),
            Some(other) => {
                notes.push(format!("sex {other:?} is not male or female: left out"));
                None
            }
        };
        let birth_place = match get("place_of_birth") {
            Some(p) => match gazetteer::resolve(p) {
                Some(m) => Some(m.code.to_string()),
                None => {
                    notes.push(format!(
                        "place_of_birth {p:?} is not a municipality: left out"
                    ));
                    None
                }
            },
            None => None,
        };
        let tokens = number
            .map(|n| {
                let digits = n.chars().filter(char::is_ascii_digit).count();
                let scheme = if digits == 13 {
                    "jmbg"
                } else if digits == 10 {
                    "kosovo"
                } else {
                    "albanian"
                };
                vec![PnumToken::blind(scheme, n, |_, n| blinder.token(n))]
            })
            .unwrap_or_default();
        rows.push(Row {
            line,
            person: PersonRecord {
                id: get("id")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("line {line}")),
                given_name: given,
                surname,
                birth_surname: get("birth_surname")
                    .or(get("maiden_surname"))
                    .map(str::to_string),
                father_given_name: get("father_given_name").map(str::to_string),
                mother_given_name: get("mother_given_name").map(str::to_string),
                mother_maiden_surname: get("mother_maiden_surname").map(str::to_string),
                sex,
                birth_date,
                birth_place,
                tokens,
                // Civil-status records name no address, so a row's would meet none.
                address: None,
            },
            notes,
        });
    }
    Ok((rows, rejected))
}

/// The columns `match link` reads.
pub const COLUMNS: &[&str] = &[
    "id",
    "given_name",
    "surname",
    "birth_surname",
    "father_given_name",
    "mother_given_name",
    "mother_maiden_surname",
    "sex",
    "date_of_birth",
    "place_of_birth",
    "personal_number",
];

/// Links every readable row of a CSV file to the register.
pub fn link_file(
    store: &HubStore,
    blinder: &Blinder,
    path: &Path,
    params: &LinkParams,
) -> Result<LinkReport, MatchError> {
    let people = register_people(store, blinder, None)?;
    if people.len() < 2 {
        return Err(MatchError::Empty(String::new()));
    }
    let (rows, rejected) = read_rows(path, blinder)?;
    let only: Vec<PersonRecord> = rows.iter().map(|r| r.person.clone()).collect();
    let opts = LinkOptions {
        expect_matches: params.expect_matches,
        threshold: params.threshold,
        possible: params.possible,
        ..LinkOptions::new(train_config(people.len() + only.len()))
    };
    let (mut job, model) = if params.retrain {
        (LinkJob::new(&people, &only, &opts)?, None)
    } else {
        let (model, used) = models::model_for(store, &people, false, "match link")?;
        (
            LinkJob::with_model(model, &people, &only, &opts)?,
            Some(used),
        )
    };
    let links = job.link_all(&only, 0);
    let mut out = Vec::with_capacity(rows.len());
    for (row, l) in rows.into_iter().zip(links) {
        let thresholds = Some(job.row_thresholds(&row.person));
        let best = l.best.as_ref();
        let (record, role) = match best.and_then(|b| b.id.rsplit_once('/')) {
            Some((r, role)) => (Some(r.to_string()), Some(role.to_string())),
            None => (None, None),
        };
        // The candidate's person identifier (drawn the first time it is shown), for the rows
        // that found one worth looking at.
        let person = match (&record, &role, l.class) {
            (Some(r), Some(role), Class::Match | Class::Possible) => {
                Some(crate::linkage::persons::person_of(store, r, role)?.to_string())
            }
            _ => None,
        };
        let fields = best.map(|b| b.score.fields.as_slice()).unwrap_or(&[]);
        let agree = fields
            .iter()
            .filter(|f| f.level.is_some_and(linkage::Field::agrees_level))
            .map(|f| f.field.as_str().to_string())
            .collect();
        let disagree = fields
            .iter()
            .filter(|f| f.level.is_some_and(|lv| !linkage::Field::agrees_level(lv)))
            .map(|f| f.field.as_str().to_string())
            .collect();
        out.push(LinkRow {
            line: row.line,
            id: row.person.id,
            class: class_name(l.class).into(),
            record,
            role,
            person,
            best: best.map(|b| b.id.clone()),
            weight: best.map(|b| b.score.weight),
            probability: best.map(|b| b.score.probability),
            thresholds,
            agree,
            disagree,
            // Civil-status records carry no address: a missing address is no news to the user.
            why: fields
                .iter()
                .filter(|f| {
                    !(f.level.is_none() && f.field == civreg_shared::linkage::Field::Address)
                })
                .map(|f| {
                    format!(
                        "{}: {} ({:+.1})",
                        f.field.as_str(),
                        f.level.unwrap_or("missing"),
                        f.weight
                    )
                })
                .collect(),
            notes: row.notes,
        });
    }
    Ok(LinkReport {
        register_people: people.len(),
        model,
        prior: job.prior,
        rows: out,
        rejected,
    })
}
