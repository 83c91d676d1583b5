//! Identity matching: Fellegi-Sunter record linkage of people across the registers, tuned to
//! Albanian and Serbian names in Latin and Cyrillic script.
//!
//! # Use
//!
//! ```text
//! let people = PersonRecord::from_record("S000000042", &record, |scheme, number| hmac(scheme, number));
//! let model = Matcher::train(&all_people, &TrainConfig::default())?;   // store model.to_json()
//! let pairs = dedupe(&model, &all_people, model.thresholds.matched);   // duplicates in one set
//! let index = RegisterIndex::build(&model, &register_people);          // once
//! let link = link(&model, &index, &row);                                // per incoming row
//! ```
//!
//! # The records
//!
//! A [`PersonRecord`] is one person as one record names them: given name, surname, maiden or
//! earlier surname, father's and mother's given names, mother's maiden surname, sex, date of
//! birth (possibly the year alone), municipality of birth (a gazetteer code), and blind tokens of
//! their personal numbers (opaque strings: the hub passes HMACs; only equality is used, and only
//! between tokens of the same scheme). [`PersonRecord::from_record`] extracts everyone a
//! [`crate::model::Record`] names.
//!
//! # Comparison
//!
//! Names are compared after [`crate::normalize`]: Serbian Cyrillic transliterated, folded to
//! ASCII (`ë→e`, `č ć ç→c`, `đ→dj`), `đ` also read as `d` ([`crate::normalize::variants`]), and
//! under [`crate::normalize::phonetic_key`], where Albanian and Serbian spellings meet
//! (`Krasniqi`/`Krasnići`, `Xhafer`/`Džafer`). Each field falls into exactly one level, the first
//! that holds:
//!
//! | field | levels |
//! |---|---|
//! | given name, father's and mother's given name, mother's maiden surname | exact (as typed); normalised (same folded form or `đ` variant: `Đorđević` = `Ђорђевић` = `Dordevic`); phonetic (same key); Jaro-Winkler ≥ 0.94; ≥ 0.88; one typo apart (one letter inserted, dropped, changed, or two adjacent swapped: short names, which Jaro-Winkler puts under 0.88); different |
//! | surname | as above, plus *other surname*: the current surnames differ but one side's maiden or earlier surname agrees with the other's (at least phonetically) |
//! | date of birth | exact; day and month swapped; one digit apart (`YYYYMMDD` with one digit changed or two adjacent digits swapped: a typo'd year, month or day); same year; year ±1; different (a year-only date reaches at most "same year") |
//! | sex, municipality of birth | same; different |
//! | personal-number token | same; one edit apart; different |
//! | address (free text, where a source has one) | same words; most words (≥ 80% of the words of both have a like word on the other side: equal, or one typing error apart for words of four letters or more); some words (≥ 50%); different |
//!
//! A field missing on either side is *missing* and weighs 0.
//!
//! # Weights: how m and u are estimated
//!
//! The match weight of a pair is the sum over fields of log2(m/u) of the level reached, where
//! m = P(level | same person) and u = P(level | different people), plus the term-frequency
//! adjustment below. [`Matcher::train`] estimates them from the records themselves, without
//! labels:
//!
//! 1. **u by random sampling.** [`TrainConfig::random_pairs`] pairs of records are drawn
//!    uniformly at random (seeded), without regard to blocking, and u of each level is the share
//!    of those pairs (where the field is present on both sides) that reach it. Among n records
//!    with at most a few true matches each, a random pair is a match with probability about
//!    1/n, so these pairs are, to that precision, non-matches. A level never seen counts half a
//!    pair, so no u is 0. (Restricting the sample to pairs that no blocking rule brings together
//!    would bias u of the agreeing levels downwards, since the rules themselves group agreeing
//!    names and dates, and inflate every weight.)
//! 2. **m by expectation-maximisation** over the comparison vectors of the blocked candidate
//!    pairs (of a seeded random subset of at most [`TrainConfig::em_max_records`] records, so
//!    that training time is bounded), with u held fixed, one session per blocking rule. Each
//!    starts from priors (an exact given name in 80% of true matches, an exact date in 88%, …:
//!    `Field::prior_m`) and λ = 0.3, the share of matches among the session's pairs. E-step:
//!    each distinct comparison vector gets the posterior P(match | γ) = λ∏m / (λ∏m + (1−λ)∏u)
//!    (missing fields left out; the fields the session's rule fixes enter with m and u
//!    conditioned on the levels the rule lets through, so a field the rule fixes wholly weighs
//!    nothing and the date under a birth-year rule still counts). M-step: m of each field the
//!    rule leaves free is the posterior-weighted share of pairs reaching each level (with 10
//!    pseudo-pairs drawn from the prior, so that a level seen in few pairs stays near its
//!    prior), λ the mean posterior. It stops when nothing moves by more than
//!    [`TrainConfig::tolerance`].
//!
//!    **The personal-number session anchors the rest.** Pairs sharing a personal-number token
//!    are nearly all one person (the session finds λ ≈ 0.99), so when there are at least 200 of
//!    them and λ ≥ 0.9, the m of every other field is taken from that session and held; the
//!    other sessions then estimate only the personal number's m. The name-based sessions alone
//!    are not identifiable in a large register: their pairs are mostly relatives and namesakes
//!    who agree on the family's names (surname, father's and mother's names, mother's maiden
//!    surname) and differ on the date of birth, and EM takes such families for the "match"
//!    class (at a million records one session found λ = 0.97 and the pooled m(date differs)
//!    came to 0.18, against 0.012 at 200,000), so that a different date became little evidence. Without enough token pairs every
//!    field is pooled over the sessions, weighted by their expected matches, in two rounds.
//!
//!    **A personal number one edit apart** keeps at least its prior m (0.03, the error model
//!    of a number keyed by hand): the sessions that estimate it see it only as often as the
//!    register's numbers were mistyped by one key, and a register without such typos (the
//!    synthetic one's wrong digits come with a recomputed check digit: two edits) learnt an m
//!    of 0.0076 at 30,000 records, a fraction of what a typed number's error model gives.
//! 3. **λ**, the prior that two records drawn at random are one person: EM over all pairs of the
//!    subset with m and u fixed, the pairs no rule blocks taken as non-matches. The subset is a
//!    uniform sample of records, so its λ is the register's (a pair of it is a match as often as
//!    any pair); [`Model::thresholds_for`] scales λ by 1/(n − 1) only for a register of another
//!    size, whose records have as many matches each.
//! 4. **The given name and surname together** ([`NamesTogether`]). One corruption often damages
//!    both names (swapped and then misspelt, a typo in each), which the sum of two independent
//!    disagreements prices as two rare events. Each name's level falls into a class (agree,
//!    typo, different); P(both levels | match) = m(given) · m(surname) · r(cell of the two
//!    classes), and EM estimates r with the m's in the sessions that leave both names free (the
//!    anchor's, when there is one): the expected matches in the cell over those the two classes'
//!    shares predict, with one pseudo-pair at independence in each cell. log2 r is added to the
//!    pair's weight (and to every E-step's likelihood). u stays a product: different people's
//!    names do not share a corruption. Swapped names and a missing name have no cell.
//! 5. **Term-frequency adjustment** for given name and surname. Counting phonetic keys over the
//!    training records gives each key a frequency f; Σf² is the chance that two random people
//!    share a key. When two records agree on a name (exact, normalised, phonetic, or the other
//!    surname), log2(Σf² / f(key)) is added: agreeing on Krasniqi (f ≈ 6%) subtracts about 2.5
//!    bits, agreeing on a surname borne by one person in ten thousand adds about 7. Clamped to
//!    −5..8 bits. This follows from P(both called v | same person) ∝ f(v) and
//!    P(both called v | different people) = f(v)².
//!
//! # Thresholds
//!
//! A weight w means posterior odds λ/(1−λ) · 2^w among blocked pairs. The Match threshold is the
//! weight at which the posterior reaches [`TrainConfig::match_probability`] (0.99 by default),
//! the Possible threshold where it reaches [`TrainConfig::possible_probability`] (0.5):
//! w = logit2(p) − logit2(λ). Below Possible a row is New. The thresholds rise with the
//! register: each record has about as many true matches whatever the register's size, so λ falls
//! as 1/n and a pair needs log2(n) bits more evidence (the Match threshold is 25.7 bits over
//! 230,000 people and 29.6 over 3.6 million). These defaults were checked against
//! the synthetic register with planted duplicates ([`crate::synth::population`]): the benchmark
//! (`shared/benches/linkage_bench.rs`) prints precision and recall across thresholds, and the
//! figures in BENCHMARKS.md are read from it. An operator who wants fewer clerical reviews moves
//! the Possible threshold by changing the probability, not the weights.
//!
//! # Blocking
//!
//! Only pairs that share a key under at least one rule are compared ([`RULES`]): a personal
//! number token; a personal number one typing error apart (blinded halves and deletion keys,
//! [`PnumToken::blind`]); surname key + date of birth; given-name key + date of birth;
//! given-name key + surname key in either order + birth year; given-name key + surname key +
//! father's given-name key, for a pair of which one record lacks a whole date of birth;
//! father's + mother's given-name keys + birth year + the day or the month (for a child whose
//! given name and surname were both misspelt); the date of birth + both initials, or both
//! names' last two letters, in either order (both names misspelt, or swapped and one
//! misspelt); the date of birth + one name's initial and the other's last two letters, or
//! its own, in either order (one name misspelt at each end; one name misspelt in its middle
//! or in the other field, whatever the other name is: FEBRL 3's replaced or missing given
//! names); one name's key + the other's initial, or its last two letters, in either order +
//! day and month of birth + the decade of birth, and the same (with the initial) with the
//! last digit of the birth year instead of the decade (a misspelt or swapped name and a year
//! mistyped in its last or its tens digit); one name's key + the other's initial in either
//! order, between a record without a date and records with one (names alone: `link` and
//! `dedupe`, not training); the same + the birth year + the month, and the same + the birth
//! year + the day (a misspelt name and a mistyped day, or month); one name's key + the
//! other's last two letters in either order + the birth year + the municipality of birth
//! (the other name misspelt at its first letter and the day or month mistyped). Surname keys
//! are taken from the current and the maiden/earlier surname; dates enter as (year, the
//! smaller and the larger of day and month), so swapped dates still block together. A pair
//! is compared once, under the first rule that brings it together in a block within that
//! rule's cap. Blocks larger than [`TrainConfig::block_cap`] records (64 for numbers one edit
//! apart) are skipped (and counted in [`BlockingStats`]), so the work never grows with the
//! square of the register; a pair whose shared key under one rule is in a skipped block is
//! still compared under a later rule that brings it together. The narrow keys of the rules
//! after the parents' (initials or last letters, decade, month or day) replaced a name with
//! the day and month in any year, the date with one initial, and one name with the other's
//! initial and the year, which compared 527 million pairs at 3.1 million records; the year
//! without a window of ±1, the parents with the day or month, the last two letters for the
//! last one and the father's rule only where a date is missing took the 3.1 million pairs
//! from 121 million down (BENCHMARKS.md, "blocking at 3.1 million, before and after").
//!
//! # Clusters (dedupe)
//!
//! [`dedupe`] then groups the records into clusters, the connected components of the pairs at
//! Match, and classes the other pairs of a cluster of at most [`CLUSTER_CAP`] records together:
//! a pair under Match by its own weight, or that no rule blocked, is a Match when the path of
//! Match pairs between its records and its own comparison together give a posterior of at
//! least the match probability (two corrupted copies of one record, each matching it, carry
//! both copies' errors between them). Two records of one surname whose given names differ are
//! never joined this way (siblings). How, and why, is in the `cluster` module's docs;
//! [`CandidatePair::cluster`] marks such pairs and [`ClusterStats`] counts them.

mod block;
mod cluster;
mod compare;
pub mod febrl;
pub mod generic;
mod job;
pub mod jw;
mod model;

pub use block::{rule_report, BlockingStats, RuleReport, RuleStats, RULES};
pub use cluster::{ClusterStats, CLUSTER_CAP};
pub use compare::Field;
pub use job::{KindShare, LinkJob, LinkOptions, LinkPrior};
pub use model::{
    Class, EmSession, FieldModel, FieldScore, Level, Matcher, Model, NameCell, NamesTogether,
    Score, TermFrequencies, Thresholds, TrainConfig, TrainingReport, MODEL_FORMAT,
};

use crate::model::{Record, Sex};
use block::{default_threads, keys_of, Blocks, FATHER, NAMES_ONLY};
use chrono::{Datelike, NaiveDate};
use compare::{compare, Prep, Tables};
use serde::{Deserialize, Serialize};

/// Why linkage could not run.
#[derive(Debug, thiserror::Error)]
pub enum LinkageError {
    #[error("training needs at least 2 person records, got {0}; train on the whole register")]
    TooFewRecords(usize),
    #[error("the training configuration is not valid: {0}")]
    BadConfig(String),
    #[error("the stored linkage model is not usable: {0}")]
    BadModel(String),
}

/// A date of birth, possibly known only to the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartialDate {
    pub year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u32>,
}

impl PartialDate {
    pub fn ymd(year: i32, month: u32, day: u32) -> Self {
        PartialDate {
            year,
            month: Some(month),
            day: Some(day),
        }
    }

    pub fn year(year: i32) -> Self {
        PartialDate {
            year,
            month: None,
            day: None,
        }
    }
}

impl From<NaiveDate> for PartialDate {
    fn from(d: NaiveDate) -> Self {
        PartialDate::ymd(d.year(), d.month(), d.day())
    }
}

/// The blind token of one personal number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PnumToken {
    /// `jmbg`, `kosovo` or `albanian`: only tokens of the same scheme are compared.
    pub scheme: String,
    pub token: String,
    /// Keys for finding numbers one edit apart, blinded like the token (see
    /// [`PnumToken::blind`]): the first half and the second half of the number (the middle
    /// character left out), then one key per deletion of one character. Held in memory only.
    #[serde(skip)]
    pub near: Vec<u64>,
}

impl PnumToken {
    /// A token without one-edit keys (its number can only be compared as a whole).
    pub fn new(scheme: &str, token: String) -> PnumToken {
        PnumToken {
            scheme: scheme.to_string(),
            token,
            near: Vec::new(),
        }
    }

    /// The token of `number` under `scheme`, blinded by `token(scheme, number)`, with its
    /// one-edit keys. Those are 64-bit hashes keyed by a secret drawn from the same blinding
    /// (`token(scheme, "near")`), so they say nothing without it; they are never stored.
    /// Two numbers one substitution or adjacent transposition apart share a half (the one the
    /// edit is not in; an edit of the middle character leaves both), and any two numbers one
    /// edit apart share a deletion key.
    pub fn blind(
        scheme: &str,
        number: &str,
        mut token: impl FnMut(&str, &str) -> String,
    ) -> PnumToken {
        let number = number.trim();
        let t = token(scheme, number);
        let chars: Vec<char> = number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let mut near = Vec::new();
        if chars.len() >= 4 && chars.len() <= 32 {
            let key = compare::hash_bytes(11, token(scheme, "near").as_bytes());
            let h = |tag: u8, cs: &[char]| {
                let mut b = vec![tag];
                b.extend(scheme.bytes());
                b.push(0);
                b.extend(cs.iter().map(|&c| c as u8));
                compare::hash_bytes(key, &b)
            };
            let half = chars.len() / 2;
            near.push(h(b'P', &chars[..half]));
            near.push(h(b'S', &chars[half + 1..]));
            // The number itself among the deletion keys: a number with one character more
            // meets it through one of its own deletions.
            near.push(h(b'D', &chars));
            let mut buf: Vec<char> = Vec::with_capacity(chars.len());
            for i in 0..chars.len() {
                buf.clear();
                buf.extend_from_slice(&chars[..i]);
                buf.extend_from_slice(&chars[i + 1..]);
                near.push(h(b'D', &buf));
            }
        }
        PnumToken {
            scheme: scheme.to_string(),
            token: t,
            near,
        }
    }
}

/// One person as one record names them: the matcher's input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// The caller's id (for records: `"{record id}/{role}"`).
    pub id: String,
    pub given_name: String,
    pub surname: String,
    /// Surname at birth or before marriage, where it differs.
    #[serde(default)]
    pub birth_surname: Option<String>,
    #[serde(default)]
    pub father_given_name: Option<String>,
    #[serde(default)]
    pub mother_given_name: Option<String>,
    #[serde(default)]
    pub mother_maiden_surname: Option<String>,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub birth_date: Option<PartialDate>,
    /// Municipality of birth: a gazetteer code (free text is resolved with the gazetteer).
    #[serde(default)]
    pub birth_place: Option<String>,
    /// Blind tokens of the personal numbers (at most two are used).
    #[serde(default)]
    pub tokens: Vec<PnumToken>,
    /// A postal address as one line of free text (street, number, town, postcode), where the
    /// source has one: compared word by word. Civil-status records have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl PersonRecord {
    /// Everyone a record names, principals first, with ids `"{record_id}/{role}"`. `token`
    /// turns a personal number (scheme, number) into its blind token.
    ///
    /// The child of a birth gets the mother's given name and maiden surname (her surname when
    /// no maiden surname is given and it differs from the child's), the father's given name
    /// (from the child's own field, else the father's), and the place of birth resolved with
    /// the gazetteer.
    pub fn from_record(
        record_id: &str,
        record: &Record,
        mut token: impl FnMut(&str, &str) -> String,
    ) -> Vec<PersonRecord> {
        let mut out = Vec::new();
        for v in record.people() {
            let tokens = v
                .personal_numbers
                .iter()
                .take(2)
                .map(|(scheme, n)| PnumToken::blind(scheme, n, &mut token))
                .collect();
            let mut p = PersonRecord {
                id: format!("{record_id}/{}", v.role),
                given_name: v.given_name.to_string(),
                surname: v.surname.to_string(),
                birth_surname: v.other_surname.map(str::to_string),
                father_given_name: v.father_given_name.map(str::to_string),
                mother_given_name: None,
                mother_maiden_surname: None,
                sex: v.sex,
                birth_date: v.date_of_birth.map(PartialDate::from),
                birth_place: None,
                tokens,
                address: None,
            };
            if let (Record::Birth(b), "child") = (record, v.role) {
                p.mother_given_name = Some(b.mother.given_name.clone());
                p.mother_maiden_surname = b.mother.maiden_surname.clone().or_else(|| {
                    (crate::normalize::fold(&b.mother.surname)
                        != crate::normalize::fold(&b.child.surname))
                    .then(|| b.mother.surname.clone())
                });
                if p.father_given_name.is_none() {
                    p.father_given_name = b.father.as_ref().map(|f| f.given_name.clone());
                }
                p.birth_place =
                    crate::gazetteer::resolve(&b.place_of_birth).map(|m| m.code.to_string());
            }
            out.push(p);
        }
        out
    }
}

/// A pair of records at or above a threshold, by index into the input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CandidatePair {
    pub a: usize,
    pub b: usize,
    /// The pair's own weight (its two records compared).
    pub weight: f64,
    /// Where the pair is a Match by its cluster and not by its own weight: the posterior
    /// probability that the two are one person given the records joined to both at Match
    /// (see [`ClusterStats`]). `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<f64>,
    /// Whether a blocking rule compared the pair; `false`: compared because both records are
    /// in one cluster.
    #[serde(default = "blocked_default")]
    pub blocked: bool,
}

fn blocked_default() -> bool {
    true
}

impl CandidatePair {
    /// Whether the pair is a Match at `matched` bits: by its own weight, or by its cluster.
    pub fn is_match(&self, matched: f64) -> bool {
        self.weight >= matched || self.cluster.is_some()
    }
}

/// The result of [`dedupe`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dedupe {
    /// Pairs with weight ≥ the threshold, and the pairs their cluster makes Matches whatever
    /// their weight; heaviest first.
    pub pairs: Vec<CandidatePair>,
    pub stats: BlockingStats,
    /// What the cluster step did.
    #[serde(default)]
    pub clusters: ClusterStats,
}

/// Finds pairs of records in one set that are likely the same person: every blocked pair is
/// scored, and those with weight ≥ `threshold` are returned (use `model.thresholds.matched`
/// for matches, `possible` to include clerical review). Then the records are grouped into
/// clusters (connected components of the pairs at the model's Match threshold), and the
/// pairs of a cluster that its evidence makes Matches are returned too, with
/// [`CandidatePair::cluster`] set ([`ClusterStats`] says how).
pub fn dedupe(model: &Model, records: &[PersonRecord], threshold: f64) -> Dedupe {
    dedupe_at(model, records, threshold, model.thresholds)
}

/// [`dedupe`] with the Match threshold of `thresholds` for the clusters (for a set of another
/// size than the model's training set: [`Model::thresholds_for`]).
pub fn dedupe_at(
    model: &Model,
    records: &[PersonRecord],
    threshold: f64,
    thresholds: Thresholds,
) -> Dedupe {
    let prepared = model.prepare(records);
    let mut blocks = Blocks::build(&prepared.tables, &prepared.preps, model.block_cap);
    blocks.names_only = true;
    let floor = threshold.min(thresholds.matched);
    let (accs, stats) = blocks.for_each_pair(default_threads(), Vec::new, |acc, a, b| {
        let t = &prepared.tables;
        let c = compare(
            t,
            &prepared.preps[a as usize],
            t,
            &prepared.preps[b as usize],
        );
        let w = model.weight(&c);
        if w >= floor {
            acc.push(CandidatePair {
                a: a as usize,
                b: b as usize,
                weight: w,
                cluster: None,
                blocked: true,
            });
        }
    });
    let mut pairs: Vec<CandidatePair> = accs.into_iter().flatten().collect();
    let clusters = cluster::classify(model, &prepared, &blocks, &mut pairs, thresholds);
    pairs.retain(|p| p.weight >= threshold || p.cluster.is_some());
    pairs.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    Dedupe {
        pairs,
        stats,
        clusters,
    }
}

/// The register prepared for [`link`]: every record's comparison data and its blocking keys,
/// built once.
pub struct RegisterIndex {
    tables: Tables,
    preps: Vec<Prep>,
    ids: Vec<String>,
    blocks: Blocks,
}

impl RegisterIndex {
    pub fn build(model: &Model, register: &[PersonRecord]) -> RegisterIndex {
        let p = model.prepare(register);
        let blocks = Blocks::build(&p.tables, &p.preps, model.block_cap);
        RegisterIndex {
            tables: p.tables,
            preps: p.preps,
            ids: register.iter().map(|r| r.id.clone()).collect(),
            blocks,
        }
    }

    pub fn len(&self) -> usize {
        self.preps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.preps.is_empty()
    }

    /// The id of the register record at `index`.
    pub fn id(&self, index: usize) -> Option<&str> {
        self.ids.get(index).map(String::as_str)
    }
}

/// The best register record for a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkCandidate {
    pub index: usize,
    pub id: String,
    pub score: Score,
}

/// What [`link`] found for a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The heaviest candidate, if blocking found any.
    pub best: Option<LinkCandidate>,
    /// Match, Possible or New, by the best candidate's weight and the model's thresholds.
    pub class: Class,
    /// Register records compared.
    pub compared: usize,
    /// Blocks skipped because they were over the cap.
    pub skipped_blocks: usize,
    /// log2 of the sum of 2^weight over the other candidates compared (their total evidence),
    /// leaving out those the model takes for the best's own person (another record of the
    /// same person in the register); `None` when there is no other: a link job weighs the best
    /// against them ([`LinkJob::row_probability`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rivals: Option<f64>,
}

/// Links one row to the register: blocks it against the index, scores every candidate and
/// classes the best.
pub fn link(model: &Model, index: &RegisterIndex, row: &PersonRecord) -> Link {
    let mut tables = Tables::default();
    let prep = Prep::new(row, &mut tables);
    model.set_tf(&mut tables);
    let keys = keys_of(&tables, &prep);
    let mut cands: Vec<u32> = Vec::new();
    let mut skipped = 0;
    // By key row: a rule's keys, and a second row of one rule's (`block::keys_of`).
    for (rule, ks) in keys.iter().enumerate() {
        for &k in ks.iter().filter(|&&k| k != 0) {
            match index.blocks.block(rule, k) {
                // Names alone only where one side has no date, and given name + surname +
                // father's only where one lacks a full date (as in dedupe).
                Some(b) if rule == NAMES_ONLY || rule == FATHER => cands.extend(
                    b.iter()
                        .map(|e| e.1)
                        .filter(|&c| block::applies(rule, &prep, &index.preps[c as usize])),
                ),
                Some(b) => cands.extend(b.iter().map(|e| e.1)),
                None => skipped += 1,
            }
        }
    }
    cands.sort_unstable();
    cands.dedup();
    let mut best: Option<(f64, u32)> = None;
    let mut weights: Vec<f64> = Vec::with_capacity(cands.len());
    for &c in &cands {
        let cmp = compare(&tables, &prep, &index.tables, &index.preps[c as usize]);
        let w = model.weight(&cmp);
        weights.push(w);
        if best.is_none_or(|(bw, _)| w > bw) {
            best = Some((w, c));
        }
    }
    // The other candidates' evidence, log2 Σ 2^w, summed stably around the best weight. A
    // register holds one person in several records (birth, marriage, death, an entry made
    // twice): a candidate the model itself takes for the best's person (the two register
    // records weigh at least the Match threshold together) is no rival. Candidates more
    // than 30 bits under the best add nothing measurable and are not compared.
    let rivals = best.and_then(|(bw, bc)| {
        let bp = &index.preps[bc as usize];
        let sum: f64 = cands
            .iter()
            .zip(&weights)
            .filter(|(c, w)| **c != bc && **w > bw - 30.0)
            .filter(|(c, _)| {
                let same = compare(&index.tables, bp, &index.tables, &index.preps[**c as usize]);
                model.weight(&same) < model.thresholds.matched
            })
            .map(|(_, w)| (w - bw).exp2())
            .sum();
        (sum > 0.0).then(|| bw + sum.log2())
    });
    let best = best.map(|(_, c)| {
        let cmp = compare(&tables, &prep, &index.tables, &index.preps[c as usize]);
        LinkCandidate {
            index: c as usize,
            id: index.ids[c as usize].clone(),
            score: model.explain(&cmp),
        }
    });
    let class = best
        .as_ref()
        .map_or(Class::New, |b| model.class(b.score.weight));
    Link {
        best,
        class,
        compared: cands.len(),
        skipped_blocks: skipped,
        rivals,
    }
}

/// [`link`] for many rows on `threads` threads (0: the machine's parallelism), in row order.
pub fn link_many(
    model: &Model,
    index: &RegisterIndex,
    rows: &[PersonRecord],
    threads: usize,
) -> Vec<Link> {
    let threads = if threads == 0 {
        default_threads()
    } else {
        threads
    };
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|r| link(model, index, r))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// For diagnostics (the benchmark's `--diagnose`): the first blocking rule ([`RULES`] index)
/// under which each pair `(a, b)` of `records` shares a key, `None` where no rule does, as
/// [`link`] and [`dedupe`] block (names alone for a pair of which one side has no date); block
/// caps are not applied.
#[doc(hidden)]
pub fn first_rules(records: &[PersonRecord], pairs: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut tables = Tables::default();
    let preps: Vec<Prep> = records.iter().map(|r| Prep::new(r, &mut tables)).collect();
    pairs
        .iter()
        .map(|&(a, b)| {
            let (ka, kb) = (keys_of(&tables, &preps[a]), keys_of(&tables, &preps[b]));
            (0..RULES.len()).find(|&r| {
                block::applies(r, &preps[a], &preps[b])
                    && block::share_under(&ka, &kb, r)
                    // Numbers sharing a half block together only when one edit apart.
                    && (r != block::NEAR_RULE
                        || compare(&tables, &preps[a], &tables, &preps[b]).gamma[compare::PNUM]
                            == 1)
            })
        })
        .collect()
}
