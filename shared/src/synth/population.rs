//! A streaming synthetic register of all 38 municipalities, with families and corrupted
//! duplicates, and the truth about both kept beside each record.
//!
//! # What is generated
//!
//! [`Population`] is an iterator of [`SynthRecord`]s: births (≈ 74%), marriages (≈ 15%) and
//! deaths (≈ 11%) in every municipality of the gazetteer (Prishtinë a fifth of them, the rest
//! evenly), with events from 1945 to [`super::LATEST`]. People live more than one record:
//!
//! * a child born in one record may marry in a later one (as groom or bride) and die in another;
//! * a married couple becomes the parents of later births (the mother under her married
//!   surname with her maiden surname beside it, the father with his own father's name);
//! * anyone may die, a married woman under her married surname.
//!
//! Each person has a hidden entity number; [`Truth::entities`] maps every role of a record
//! (`child`, `mother`, `spouse2`, …) to it, so that "same person" is known exactly, also for
//! links that no duplicate planted. A person keeps one JMBG (30% of people; date and sex
//! agreeing, a serial per day, region and sex as the registry assigns them, so never shared) and
//! one Kosovo number (10%); each record carries each of them with probability 0.8.
//!
//! # Duplicates
//!
//! With probability [`PopulationConfig::duplicate_rate`] an original record is entered again
//! later in the stream (1 to [`PopulationConfig::max_delay`] records later): the same people,
//! with one corruption (50%), two (35%) or three (15%) from [`super::corrupt`] applied to a
//! principal (the child, the deceased, or one spouse), and a register reference of its own.
//! [`Truth::duplicate_of`] names the original's id and [`Truth::corruptions`] lists what was
//! done. Every record, duplicates included, passes [`crate::validate::validate`] without errors.
//!
//! # Memory and determinism
//!
//! Memory is bounded whatever the number of records: the pools of people who may marry or die
//! (20,000 each), the couples who may have children (20,000), the duplicates waiting to be
//! emitted, and the JMBG serial counters (at most one per birth date, region and sex). The same
//! [`PopulationConfig`] gives the same records, byte for byte.

use super::corrupt::{self, Corruption};
use super::{Culture, Gen, Rng, Sex};
use crate::gazetteer::{self, Municipality};
use crate::model::{Record, RecordKind, ShapeError};
use crate::pnum::{jmbg_check_digit, kosovo_check_digit, JmbgCheck};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// How a [`Population`] is generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationConfig {
    pub seed: u64,
    /// Records to emit, duplicates included.
    pub records: u64,
    /// Probability that an original record is entered a second time, corrupted.
    pub duplicate_rate: f64,
    /// A duplicate follows its original by 1 to this many records.
    pub max_delay: u64,
    /// Probability that a marriage partner, a deceased or a pair of parents is a person already
    /// in the register rather than someone new.
    pub family_rate: f64,
}

impl PopulationConfig {
    pub fn new(seed: u64, records: u64) -> Self {
        PopulationConfig {
            seed,
            records,
            duplicate_rate: 0.08,
            max_delay: 5_000,
            family_rate: 0.5,
        }
    }
}

/// What is true about a generated record, kept apart from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    pub id: String,
    pub kind: RecordKind,
    /// Role → entity number of every person named in the record.
    pub entities: BTreeMap<String, u64>,
    /// For a duplicate: the id of the original record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// For a duplicate: what was done to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corruptions: Vec<Corruption>,
}

/// One generated record: its document (accepted by [`Record::from_json`]) and its truth.
#[derive(Debug, Clone)]
pub struct SynthRecord {
    pub id: String,
    pub kind: RecordKind,
    pub doc: Value,
    pub truth: Truth,
}

impl SynthRecord {
    pub fn record(&self) -> Result<Record, ShapeError> {
        Record::from_json(self.kind, self.doc.clone())
    }
}

/// A person of the synthetic population (names in Latin script).
#[derive(Debug, Clone)]
pub(crate) struct Individual {
    pub(crate) entity: u64,
    pub(crate) culture: Culture,
    pub(crate) sex: Sex,
    pub(crate) given: String,
    /// Surname at birth.
    pub(crate) surname: String,
    /// Surname after marriage, where it changed.
    pub(crate) married: Option<String>,
    pub(crate) dob: NaiveDate,
    pub(crate) father_given: String,
    pub(crate) jmbg: Option<String>,
    pub(crate) kosovo: Option<String>,
}

/// One person as a record names them (Latin script; rendered at the end).
#[derive(Debug, Clone)]
pub(crate) struct PersonSpec {
    pub(crate) role: &'static str,
    pub(crate) entity: u64,
    pub(crate) given: String,
    /// Current surname (for spouses: after the marriage).
    pub(crate) surname: String,
    /// Maiden surname (for spouses: before the marriage).
    pub(crate) other: Option<String>,
    pub(crate) father: Option<String>,
    pub(crate) dob: Option<NaiveDate>,
    pub(crate) sex: Option<Sex>,
    pub(crate) jmbg: Option<String>,
    pub(crate) kosovo: Option<String>,
    /// Whether the person's names are Albanian (for rendering in Cyrillic).
    pub(crate) albanian: bool,
}

/// A record before rendering: corruptions work on this.
#[derive(Debug, Clone)]
pub(crate) struct RecordSpec {
    pub(crate) kind: RecordKind,
    pub(crate) municipality: &'static str,
    /// Written in Cyrillic script.
    pub(crate) cyrillic: bool,
    /// Place names in Serbian (else Albanian).
    pub(crate) serbian_place: bool,
    pub(crate) place: &'static str,
    /// Date of marriage or of death.
    pub(crate) event: Option<NaiveDate>,
    pub(crate) people: Vec<PersonSpec>,
}

impl RecordSpec {
    pub(crate) fn principals(&self) -> Vec<usize> {
        self.people
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p.role, "child" | "deceased" | "spouse1" | "spouse2"))
            .map(|(i, _)| i)
            .collect()
    }

    fn event_year(&self) -> i32 {
        self.event
            .or_else(|| self.people.first().and_then(|p| p.dob))
            .map(|d| d.year())
            .unwrap_or(1945)
    }
}

const POOL: usize = 20_000;

/// A married couple and the given names of their children so far (parents do not give two
/// children the same name).
#[derive(Debug, Clone)]
struct Couple {
    husband: Individual,
    wife: Individual,
    wed: NaiveDate,
    children: Vec<String>,
}

/// The streaming generator; see the module documentation.
pub struct Population {
    gen: Gen,
    cfg: PopulationConfig,
    next_entity: u64,
    emitted: u64,
    /// People who may still marry (unmarried) or die.
    single: Vec<Individual>,
    /// Couples who may have children.
    couples: Vec<Couple>,
    /// Duplicates waiting: emit position → (original id, spec, corruptions).
    pending: BTreeMap<u64, Vec<(String, RecordSpec, Vec<Corruption>)>>,
    pending_len: u64,
    jmbg_serials: HashMap<(NaiveDate, u8, bool), u16>,
    kosovo_next: u64,
    weights: Vec<f64>,
}

impl Population {
    pub fn new(cfg: PopulationConfig) -> Self {
        let all = gazetteer::all();
        let weights: Vec<f64> = all
            .iter()
            .map(|m| {
                if m.code == "prishtine" {
                    0.2
                } else {
                    0.8 / (all.len() - 1) as f64
                }
            })
            .collect();
        Population {
            gen: Gen::new(cfg.seed),
            next_entity: 1,
            emitted: 0,
            single: Vec::new(),
            couples: Vec::new(),
            pending: BTreeMap::new(),
            pending_len: 0,
            jmbg_serials: HashMap::new(),
            kosovo_next: 10_000_000 + (cfg.seed % 1_000) * 100_000,
            weights,
            cfg,
        }
    }

    fn rng(&mut self) -> &mut Rng {
        &mut self.gen.rng
    }

    fn municipality(&mut self) -> &'static Municipality {
        let mut u = self.gen.rng.unit();
        let all = gazetteer::all();
        for (m, w) in all.iter().zip(&self.weights) {
            if u < *w {
                return m;
            }
            u -= w;
        }
        &all[all.len() - 1]
    }

    fn entity(&mut self) -> u64 {
        let e = self.next_entity;
        self.next_entity += 1;
        e
    }

    /// JMBG region digits of a municipality: 91 for Prishtinë, else one of 92–96, fixed per code.
    fn region(code: &str) -> u8 {
        if code == "prishtine" {
            return 91;
        }
        let h = code
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        92 + (h % 5) as u8
    }

    fn jmbg(&mut self, dob: NaiveDate, sex: Sex, place: &str) -> Option<String> {
        let region = Self::region(place);
        let female = sex == Sex::Female;
        let counter = self.jmbg_serials.entry((dob, region, female)).or_insert(0);
        while *counter < 500 {
            let serial = u32::from(*counter) + if female { 500 } else { 0 };
            *counter += 1;
            let body = format!(
                "{:02}{:02}{:03}{region:02}{serial:03}",
                dob.day(),
                dob.month(),
                dob.year().rem_euclid(1000)
            );
            if let Some(j) = with_jmbg_check(&body) {
                return Some(j);
            }
        }
        None
    }

    fn kosovo(&mut self) -> String {
        self.kosovo_next += 1 + self.gen.rng.below(7);
        let first9 = format!("1{:08}", self.kosovo_next % 100_000_000);
        with_kosovo_check(&first9)
    }

    /// A new person born on `dob` in `place`.
    fn person(&mut self, culture: Culture, sex: Sex, dob: NaiveDate, place: &str) -> Individual {
        let entity = self.entity();
        let given = self.gen.given(culture, sex).latin;
        let surname = self.gen.surname(culture).0.latin;
        let father_given = self.gen.given(culture, Sex::Male).latin;
        let jmbg = if self.rng().chance(0.30) {
            self.jmbg(dob, sex, place)
        } else {
            None
        };
        let kosovo = self.rng().chance(0.10).then(|| self.kosovo());
        Individual {
            entity,
            culture,
            sex,
            given,
            surname,
            married: None,
            dob,
            father_given,
            jmbg,
            kosovo,
        }
    }

    fn spec_of(&mut self, role: &'static str, p: &Individual, full: bool) -> PersonSpec {
        let keep = |rng: &mut Rng, v: &Option<String>| v.clone().filter(|_| rng.chance(0.8));
        let jmbg = if full {
            keep(self.rng(), &p.jmbg)
        } else {
            None
        };
        let kosovo = if full {
            keep(self.rng(), &p.kosovo)
        } else {
            None
        };
        PersonSpec {
            role,
            entity: p.entity,
            given: p.given.clone(),
            surname: p.married.clone().unwrap_or_else(|| p.surname.clone()),
            other: p.married.as_ref().map(|_| p.surname.clone()),
            father: Some(p.father_given.clone()),
            dob: Some(p.dob),
            sex: Some(p.sex),
            jmbg,
            kosovo,
            albanian: !p.culture.serbian,
        }
    }

    fn take_single(&mut self, pred: impl Fn(&Individual) -> bool) -> Option<Individual> {
        if self.single.is_empty() {
            return None;
        }
        for _ in 0..8 {
            let i = self.gen.rng.below(self.single.len() as u64) as usize;
            if pred(&self.single[i]) {
                return Some(self.single.swap_remove(i));
            }
        }
        None
    }

    fn keep_single(&mut self, p: Individual) {
        if self.single.len() < POOL {
            self.single.push(p);
        } else {
            let i = self.gen.rng.below(POOL as u64) as usize;
            self.single[i] = p;
        }
    }

    fn birth(&mut self) -> RecordSpec {
        let muni = self.municipality();
        let cap = self.gen.cap;
        // Parents: a couple from the register, if one can have a child now, else new people.
        let mut parents = None;
        if !self.couples.is_empty() && self.gen.rng.chance(self.cfg.family_rate) {
            let i = self.gen.rng.below(self.couples.len() as u64) as usize;
            let c = &self.couples[i];
            let lo = c
                .wed
                .max(years_after(c.wife.dob, 18))
                .max(years_after(c.husband.dob, 18));
            let hi = cap.min(years_after(c.wife.dob, 44));
            if lo <= hi && c.children.len() < 8 {
                parents = Some((i, c.husband.clone(), c.wife.clone(), lo, hi));
            }
        }
        let couple = parents.as_ref().map(|p| p.0);
        let (father, mother, dob, family) = match parents {
            Some((_, h, w, lo, hi)) => {
                let dob = self.gen.date_between(lo, hi);
                (h, w, dob, true)
            }
            None => {
                let culture = self.gen.culture();
                let dob = self.gen.date_between(self.gen.earliest, cap);
                let mdob = self.gen.years_before(dob, 18, 42);
                let fdob = self.gen.years_before(dob, 20, 50);
                let mplace = self.municipality().code;
                let mut mother = self.person(culture, Sex::Female, mdob, mplace);
                let father = self.person(culture, Sex::Male, fdob, mplace);
                if mother.surname == father.surname {
                    mother.surname = self.gen.surname(culture).0.latin;
                }
                if self.gen.rng.chance(0.9) {
                    mother.married = Some(father.surname.clone());
                }
                (father, mother, dob, false)
            }
        };
        let place = if self.gen.rng.chance(0.85) {
            muni.code
        } else {
            self.municipality().code
        };
        let sex = self.gen.sex();
        let culture = father.culture;
        let mut child = self.person(culture, sex, dob, place);
        child.surname = father.surname.clone();
        child.father_given = father.given.clone();
        if let Some(i) = couple {
            for _ in 0..20 {
                if !self.couples[i].children.contains(&child.given) {
                    break;
                }
                child.given = self.gen.given(culture, sex).latin;
            }
            self.couples[i].children.push(child.given.clone());
        }
        let mut c = self.spec_of("child", &child, true);
        if !self.gen.rng.chance(0.5) {
            c.father = None;
        }
        let mut m = self.spec_of("mother", &mother, false);
        m.father = None;
        if !family && !self.gen.rng.chance(0.85) {
            m.dob = None;
        }
        let mut people = vec![c, m];
        if self.gen.rng.chance(0.95) {
            let mut f = self.spec_of("father", &father, false);
            if !self.gen.rng.chance(0.7) {
                f.father = None;
            }
            if !self.gen.rng.chance(0.7) {
                f.dob = None;
            }
            f.sex = None;
            people.push(f);
        }
        // Parents in a birth record carry no sex field (the model has it, clerks leave it).
        people[1].sex = None;
        self.keep_single(child);
        RecordSpec {
            kind: RecordKind::Birth,
            municipality: muni.code,
            cyrillic: culture.cyrillic,
            serbian_place: culture.serbian,
            place,
            event: None,
            people,
        }
    }

    fn marriage(&mut self) -> RecordSpec {
        let muni = self.municipality();
        let cap = self.gen.cap;
        let latest_birth = years_before_date(cap, 19);
        let reuse = self.cfg.family_rate;
        let mut groom = if self.gen.rng.chance(reuse) {
            self.take_single(|p| p.sex == Sex::Male && p.married.is_none() && p.dob <= latest_birth)
        } else {
            None
        };
        let culture = groom
            .as_ref()
            .map(|g| g.culture)
            .unwrap_or_else(|| self.gen.culture());
        let mut bride = if self.gen.rng.chance(reuse) {
            let serbian = culture.serbian;
            self.take_single(|p| {
                p.sex == Sex::Female
                    && p.married.is_none()
                    && p.dob <= latest_birth
                    && p.culture.serbian == serbian
            })
        } else {
            None
        };
        let earliest_birth = NaiveDate::from_ymd_opt(1925, 1, 1).expect("a date");
        let (groom, mut bride, wed) = loop {
            let g = match &groom {
                Some(g) => g.dob,
                None => self.gen.date_between(
                    self.gen.earliest,
                    NaiveDate::from_ymd_opt(2002, 12, 31).expect("a date"),
                ),
            };
            let b = match &bride {
                Some(b) => b.dob,
                None => {
                    let d = g + Duration::days(self.gen.rng.between(-3 * 365, 8 * 365));
                    d.max(earliest_birth)
                }
            };
            let younger = g.max(b);
            let wed = younger + Duration::days(self.gen.rng.between(19 * 365, 35 * 365));
            if wed <= cap {
                let place = muni.code;
                let g = match groom.take() {
                    Some(p) => p,
                    None => self.person(culture, Sex::Male, g, place),
                };
                let b = match bride.take() {
                    Some(p) => p,
                    None => self.person(culture, Sex::Female, b, place),
                };
                break (g, b, wed);
            }
            // The people drawn are too young to have married by now: try new ones.
            if let Some(p) = groom.take() {
                self.keep_single(p);
            }
            if let Some(p) = bride.take() {
                self.keep_single(p);
            }
        };
        if bride.surname == groom.surname {
            // Same surname at birth: no change to record.
        } else if self.gen.rng.chance(0.85) {
            bride.married = Some(groom.surname.clone());
        }
        let mut s1 = self.spec_of("spouse1", &groom, true);
        let mut s2 = self.spec_of("spouse2", &bride, true);
        for s in [&mut s1, &mut s2] {
            if !self.gen.rng.chance(0.6) {
                s.father = None;
            }
        }
        let couple = Couple {
            husband: groom,
            wife: bride,
            wed,
            children: Vec::new(),
        };
        if self.couples.len() < POOL {
            self.couples.push(couple);
        } else {
            let i = self.gen.rng.below(POOL as u64) as usize;
            self.couples[i] = couple;
        }
        RecordSpec {
            kind: RecordKind::Marriage,
            municipality: muni.code,
            cyrillic: culture.cyrillic,
            serbian_place: culture.serbian,
            place: muni.code,
            event: Some(wed),
            people: vec![s1, s2],
        }
    }

    fn death(&mut self) -> RecordSpec {
        let muni = self.municipality();
        let cap = self.gen.cap;
        let latest_birth = years_before_date(cap, 25);
        let mut who = None;
        if self.gen.rng.chance(self.cfg.family_rate) {
            if !self.couples.is_empty() && self.gen.rng.chance(0.5) {
                let i = self.gen.rng.below(self.couples.len() as u64) as usize;
                let c = &self.couples[i];
                let p = if self.gen.rng.chance(0.5) {
                    &c.husband
                } else {
                    &c.wife
                };
                if p.dob <= latest_birth {
                    who = Some(p.clone());
                    // A dead spouse has no more children.
                    self.couples.swap_remove(i);
                }
            } else {
                who = self.take_single(|p| p.dob <= latest_birth);
            }
        }
        let p = match who {
            Some(p) => p,
            None => {
                let culture = self.gen.culture();
                let sex = self.gen.sex();
                let dob = self.gen.date_between(
                    NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date"),
                    NaiveDate::from_ymd_opt(1990, 12, 31).expect("a date"),
                );
                let place = self.municipality().code;
                let mut p = self.person(culture, sex, dob, place);
                if sex == Sex::Female && self.gen.rng.chance(0.7) {
                    let m = self.gen.surname(culture).0.latin;
                    if m != p.surname {
                        p.married = Some(m);
                    }
                }
                p
            }
        };
        let dod = loop {
            let d = p.dob + Duration::days(self.gen.rng.between(25 * 365, 100 * 365));
            let d = if d > cap {
                self.gen.date_between(years_after(p.dob, 25).min(cap), cap)
            } else {
                d
            };
            if d.year() >= 1945 && d >= p.dob {
                break d;
            }
        };
        let mut d = self.spec_of("deceased", &p, true);
        if !self.gen.rng.chance(0.85) {
            d.dob = None;
            d.jmbg = None;
            d.kosovo = None;
        }
        if d.other.is_some() && !self.gen.rng.chance(0.7) {
            d.other = None;
        }
        if !self.gen.rng.chance(0.6) {
            d.father = None;
        }
        RecordSpec {
            kind: RecordKind::Death,
            municipality: muni.code,
            cyrillic: p.culture.cyrillic,
            serbian_place: p.culture.serbian,
            place: if self.gen.rng.chance(0.9) {
                muni.code
            } else {
                self.municipality().code
            },
            event: Some(dod),
            people: vec![d],
        }
    }

    fn original(&mut self) -> RecordSpec {
        let r = self.gen.rng.unit();
        if r < 0.74 {
            self.birth()
        } else if r < 0.89 {
            self.marriage()
        } else {
            self.death()
        }
    }

    /// Renders a spec as a record document and its truth.
    fn render(
        &mut self,
        spec: &RecordSpec,
        duplicate_of: Option<String>,
        corruptions: Vec<Corruption>,
    ) -> SynthRecord {
        let id = format!("S{:09}", self.emitted);
        self.emitted += 1;
        let mut doc = Map::new();
        doc.insert("municipality".into(), spec.municipality.into());
        self.gen.common(&mut doc, spec.kind, spec.event_year());
        let name =
            |p: &PersonSpec, s: &str| -> Value { render_name(s, spec.cyrillic, p.albanian).into() };
        let person = |p: &PersonSpec| -> Value {
            let mut o = Map::new();
            o.insert("given_name".into(), name(p, &p.given));
            o.insert("surname".into(), name(p, &p.surname));
            if let Some(m) = &p.other {
                o.insert("maiden_surname".into(), name(p, m));
            }
            if let Some(f) = &p.father {
                o.insert("father_given_name".into(), name(p, f));
            }
            if let Some(d) = p.dob {
                o.insert("date_of_birth".into(), d.to_string().into());
            }
            if let Some(s) = p.sex {
                o.insert("sex".into(), s.word().into());
            }
            let mut nums = Map::new();
            if let Some(j) = &p.jmbg {
                nums.insert("jmbg".into(), j.clone().into());
            }
            if let Some(k) = &p.kosovo {
                nums.insert("kosovo".into(), k.clone().into());
            }
            if !nums.is_empty() {
                o.insert("personal_numbers".into(), Value::Object(nums));
            }
            Value::Object(o)
        };
        let place = place_name(spec.place, spec.serbian_place, spec.cyrillic);
        match spec.kind {
            RecordKind::Birth => {
                for p in &spec.people {
                    doc.insert(p.role.into(), person(p));
                }
                doc.insert("place_of_birth".into(), place.into());
            }
            RecordKind::Marriage => {
                for p in &spec.people {
                    let mut v = person(p);
                    if let Some(o) = v.as_object_mut() {
                        let after = o.remove("surname").unwrap_or(Value::Null);
                        let before = o.remove("maiden_surname").unwrap_or_else(|| after.clone());
                        o.insert("surname_before".into(), before);
                        o.insert("surname_after".into(), after);
                    }
                    doc.insert(p.role.into(), v);
                }
                if let Some(d) = spec.event {
                    doc.insert("date_of_marriage".into(), d.to_string().into());
                }
                doc.insert("place_of_marriage".into(), place.into());
            }
            RecordKind::Death => {
                for p in &spec.people {
                    doc.insert(p.role.into(), person(p));
                }
                if let Some(d) = spec.event {
                    doc.insert("date_of_death".into(), d.to_string().into());
                }
                doc.insert("place_of_death".into(), place.into());
            }
        }
        let truth = Truth {
            id: id.clone(),
            kind: spec.kind,
            entities: spec
                .people
                .iter()
                .map(|p| (p.role.to_string(), p.entity))
                .collect(),
            duplicate_of,
            corruptions,
        };
        SynthRecord {
            id,
            kind: spec.kind,
            doc: Value::Object(doc),
            truth,
        }
    }
}

impl Iterator for Population {
    type Item = SynthRecord;

    fn next(&mut self) -> Option<SynthRecord> {
        if self.emitted >= self.cfg.records {
            return None;
        }
        // A duplicate whose turn has come, or every one left once no more originals fit.
        let due = self
            .pending
            .first_key_value()
            .is_some_and(|(&at, _)| at <= self.emitted)
            || self.emitted + self.pending_len >= self.cfg.records;
        if due {
            if let Some(mut entry) = self.pending.first_entry() {
                let (orig, spec, corruptions) = entry.get_mut().remove(0);
                if entry.get().is_empty() {
                    entry.remove();
                }
                self.pending_len -= 1;
                return Some(self.render(&spec, Some(orig), corruptions));
            }
        }
        let spec = self.original();
        let out = self.render(&spec, None, Vec::new());
        let room = self.cfg.records - self.emitted - self.pending_len;
        if room > 0 && self.gen.rng.chance(self.cfg.duplicate_rate) {
            let mut dup = spec;
            let n = match self.gen.rng.unit() {
                u if u < 0.50 => 1,
                u if u < 0.85 => 2,
                _ => 3,
            };
            let corruptions = corrupt::apply(&mut dup, n, &mut self.gen.rng);
            let at = self.emitted + 1 + self.gen.rng.below(self.cfg.max_delay.max(1));
            self.pending
                .entry(at)
                .or_default()
                .push((out.id.clone(), dup, corruptions));
            self.pending_len += 1;
        }
        Some(out)
    }
}

/// A name as the record writes it: in Cyrillic (Albanian names through their Serbian Latin
/// spelling), else as it is.
pub(crate) fn render_name(latin: &str, cyrillic: bool, albanian: bool) -> String {
    if !cyrillic {
        latin.to_string()
    } else if albanian {
        super::to_cyrillic(&super::albanian_to_serbian(latin))
    } else {
        super::to_cyrillic(latin)
    }
}

/// The name of a municipality in the record's language and script.
pub(crate) fn place_name(code: &str, serbian: bool, cyrillic: bool) -> String {
    match gazetteer::by_code(code) {
        Some(m) if serbian && cyrillic => m.name_sr_cyrl.to_string(),
        Some(m) if serbian => m.name_sr_latn.to_string(),
        Some(m) => m.name_sq.to_string(),
        None => code.to_string(),
    }
}

/// `body` (12 digits) with its JMBG check digit, or `None` when the check would be 10.
pub(crate) fn with_jmbg_check(body: &str) -> Option<String> {
    let mut d = [0u8; 12];
    if body.len() != 12 {
        return None;
    }
    for (x, b) in d.iter_mut().zip(body.bytes()) {
        *x = b.wrapping_sub(b'0');
    }
    match jmbg_check_digit(&d) {
        JmbgCheck::Digit(k) => Some(format!("{body}{k}")),
        JmbgCheck::Ten => None,
    }
}

/// `first9` (9 digits) with its Kosovo check digit.
pub(crate) fn with_kosovo_check(first9: &str) -> String {
    let mut d = [0u8; 9];
    for (x, b) in d.iter_mut().zip(first9.bytes()) {
        *x = b.wrapping_sub(b'0');
    }
    format!("{first9}{}", kosovo_check_digit(&d))
}

fn years_after(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(years * 12))
        .unwrap_or(d)
}

fn years_before_date(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_sub_months(chrono::Months::new(years * 12))
        .unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate;
    use std::collections::HashSet;

    #[test]
    fn records_are_valid_and_duplicates_are_planted() {
        let today = chrono::Local::now().date_naive().max(super::super::LATEST);
        let cfg = PopulationConfig::new(11, 6_000);
        let recs: Vec<SynthRecord> = Population::new(cfg).collect();
        assert_eq!(recs.len(), 6_000);
        let ids: HashSet<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), recs.len(), "ids are unique");
        let mut dups = 0;
        let mut kinds = HashSet::new();
        for r in &recs {
            let rec = r.record().unwrap_or_else(|e| panic!("{}: {e}", r.id));
            let report = validate(&rec, today);
            assert!(!report.has_errors(), "{} {}: {report}", r.id, r.doc);
            if let Some(o) = &r.truth.duplicate_of {
                dups += 1;
                assert!(
                    o.as_str() < r.id.as_str(),
                    "a duplicate follows its original"
                );
                assert!(
                    !r.truth.corruptions.is_empty(),
                    "{} has no corruption",
                    r.id
                );
                for c in &r.truth.corruptions {
                    kinds.insert(c.kind);
                }
            }
        }
        assert!(dups > 300 && dups < 700, "{dups} duplicates");
        assert!(kinds.len() >= 9, "corruption kinds seen: {kinds:?}");
    }
}
