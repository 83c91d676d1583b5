//! Identity matching at the hub: `civreg-hub match dedupe` and `match link`, on the
//! Fellegi-Sunter matcher of `civreg_shared::linkage`.
//!
//! Everyone the register names becomes a `PersonRecord` (id `REGNO/role`), personal numbers only
//! as blind tokens (the search index's key). The model is trained on the register each time
//! (u from random pairs, m by EM per blocking rule: see the linkage module docs), and its
//! thresholds are taken for the register's size.
//!
//! `match link` reads a CSV of person rows. Columns (all optional but a name): `id`,
//! `given_name`, `surname`, `birth_surname` (or `maiden_surname`), `father_given_name`,
//! `mother_given_name`, `mother_maiden_surname`, `sex` (male/female), `date_of_birth`
//! (YYYY-MM-DD, DD.MM.YYYY or a year), `place_of_birth` (any name of a municipality),
//! `personal_number`. Columns of the node importer for a birth's child (`child.given_name`, ...)
//! are understood too. A row that can not be read is reported with its line and reason; the
//! others are still linked.

use crate::search::Blinder;
use crate::store::{HubStore, StoreError};
use civreg_shared::gazetteer;
use civreg_shared::linkage::{
    self, Class, Matcher, PartialDate, PersonRecord, PnumToken, TrainConfig,
};
use civreg_shared::model::Sex;
use serde::Serialize;
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

#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    pub a: String,
    pub b: String,
    pub weight: f64,
    pub probability: f64,
    /// `match` or `possible`.
    pub class: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DedupeReport {
    pub people: usize,
    pub threshold: f64,
    pub pairs_compared: u64,
    pub pairs: Vec<DuplicatePair>,
}

fn class_name(c: Class) -> &'static str {
    match c {
        Class::Match => "match",
        Class::Possible => "possible",
        Class::New => "new",
    }
}

pub fn train(people: &[PersonRecord]) -> Result<linkage::Model, MatchError> {
    let cfg = TrainConfig {
        random_pairs: 200_000.min(people.len().saturating_mul(20).max(1_000)),
        ..TrainConfig::default()
    };
    Ok(Matcher::train(people, &cfg)?)
}

/// Probable duplicates inside the register: pairs of people named in two different records
/// whose weight reaches `threshold` (default: the model's "possible" threshold).
pub fn dedupe(
    store: &HubStore,
    blinder: &Blinder,
    municipality: Option<&str>,
    threshold: Option<f64>,
) -> Result<DedupeReport, MatchError> {
    let people = register_people(store, blinder, municipality)?;
    if people.len() < 2 {
        return Err(MatchError::Empty(
            municipality.map(|m| format!(" in {m}")).unwrap_or_default(),
        ));
    }
    let model = train(&people)?;
    let th = model.thresholds_for(people.len() as u64);
    let threshold = threshold.unwrap_or(th.possible);
    let d = linkage::dedupe(&model, &people, threshold);
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
            probability: model.probability(p.weight),
            class: if p.weight >= th.matched {
                "match"
            } else {
                "possible"
            }
            .into(),
        })
        .collect();
    Ok(DedupeReport {
        people: people.len(),
        threshold,
        pairs_compared: d.stats.pairs,
        pairs,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    /// The CSV line.
    pub line: u64,
    pub id: String,
    /// `match`, `possible` or `new`.
    pub class: String,
    /// The best candidate in the register (`REGNO/role`), if any.
    pub best: Option<String>,
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    /// Per field: its agreement level.
    pub why: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    pub register_people: usize,
    pub rows: Vec<LinkRow>,
    pub rejected: Vec<Rejected>,
}

/// Readable rows with their CSV line numbers.
pub type Rows = Vec<(u64, PersonRecord)>;

fn parse_date(s: &str) -> Option<PartialDate> {
    let s = s.trim();
    if s.len() == 4 {
        return s.parse().ok().map(PartialDate::year);
    }
    ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"].iter().find_map(|f| {
        chrono::NaiveDate::parse_from_str(s, f)
            .ok()
            .map(PartialDate::from)
    })
}

/// Reads the person rows of a CSV file (see the module docs).
pub fn read_rows(path: &Path, blinder: &Blinder) -> Result<(Rows, Vec<Rejected>), MatchError> {
    let input = |why: String| MatchError::Input {
        path: path.display().to_string(),
        why,
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| input(e.to_string()))?;
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| input(e.to_string()))?
        .iter()
        .map(|h| {
            let h = h.trim().to_ascii_lowercase();
            for prefix in ["child.", "deceased.", "person."] {
                if let Some(rest) = h.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
            h
        })
        .collect();
    if !headers.iter().any(|h| h == "given_name" || h == "surname") {
        return Err(input(format!(
            "no given_name or surname column (columns: {}); the columns are listed in `civreg-hub match link --help`",
            headers.join(", ")
        )));
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                rejected.push(Rejected {
                    line,
                    reason: format!("not a CSV row: {e}"),
                });
                continue;
            }
        };
        let get = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let given = get("given_name").unwrap_or_default().to_string();
        let surname = get("surname").unwrap_or_default().to_string();
        if given.is_empty() && surname.is_empty() {
            problems.push("no given name and no surname".to_string());
        }
        let birth_date = match get("date_of_birth") {
            Some(d) => match parse_date(d) {
                Some(p) => Some(p),
                None => {
                    problems.push(format!(
                        "date_of_birth {d:?} is not YYYY-MM-DD, DD.MM.YYYY or a year"
                    ));
                    None
                }
            },
            None => None,
        };
        let sex = match get("sex").map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("male" | "m") => Some(Sex::Male),
            Some("female" | "f") => Some(Sex::Female),
            Some(other) => {
                problems.push(format!("sex {other:?} is not male or female"));
                None
            }
        };
        let birth_place = match get("place_of_birth") {
            Some(p) => match gazetteer::resolve(p) {
                Some(m) => Some(m.code.to_string()),
                None => {
                    problems.push(format!("place_of_birth {p:?} is not a municipality"));
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            rejected.push(Rejected {
                line,
                reason: problems.join("; "),
            });
            continue;
        }
        let tokens = get("personal_number")
            .map(|n| {
                let digits = n.chars().filter(char::is_ascii_digit).count();
                let scheme = if digits == 13 {
                    "jmbg"
                } else if digits == 10 {
                    "kosovo"
                } else {
                    "albanian"
                };
                vec![PnumToken {
                    scheme: scheme.into(),
                    token: blinder.token(n),
                }]
            })
            .unwrap_or_default();
        rows.push((
            line,
            PersonRecord {
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
            },
        ));
    }
    Ok((rows, rejected))
}

/// Links every readable row of a CSV file to the register.
pub fn link_file(
    store: &HubStore,
    blinder: &Blinder,
    path: &Path,
) -> Result<LinkReport, MatchError> {
    let people = register_people(store, blinder, None)?;
    if people.len() < 2 {
        return Err(MatchError::Empty(String::new()));
    }
    let (rows, rejected) = read_rows(path, blinder)?;
    let model = train(&people)?;
    let index = linkage::RegisterIndex::build(&model, &people);
    let only: Vec<PersonRecord> = rows.iter().map(|(_, p)| p.clone()).collect();
    let links = linkage::link_many(&model, &index, &only, 0);
    let rows = rows
        .iter()
        .zip(links)
        .map(|((line, p), l)| LinkRow {
            line: *line,
            id: p.id.clone(),
            class: class_name(l.class).into(),
            best: l.best.as_ref().map(|b| b.id.clone()),
            weight: l.best.as_ref().map(|b| b.score.weight),
            probability: l.best.as_ref().map(|b| b.score.probability),
            why: l
                .best
                .as_ref()
                .map(|b| {
                    b.score
                        .fields
                        .iter()
                        .map(|f| {
                            format!(
                                "{}: {} ({:+.1})",
                                f.field.as_str(),
                                f.level.unwrap_or("missing"),
                                f.weight
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok(LinkReport {
        register_people: people.len(),
        rows,
        rejected,
    })
}
