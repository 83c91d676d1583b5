//! Training (u by random sampling, m by EM, term frequencies), the model and scoring.

use super::block::{default_threads, BlockingStats, Blocks, NR, RULES};
use super::compare::{
    compare, name_cell, Compared, Field, Gamma, Prep, Tables, FIELDS, GIVEN_SWAPPED, MAX_LEVELS,
    MISSING, NAME_CELLS, NAME_CLASSES, NF, SURNAME_SWAPPED,
};
use super::{LinkageError, PersonRecord};
use crate::synth::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// How [`Matcher::train`] estimates the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed of the random pair sample and of the EM subset.
    pub seed: u64,
    /// Random pairs drawn to estimate u.
    pub random_pairs: usize,
    /// EM runs on the blocked pairs of at most this many records (a seeded random subset).
    pub em_max_records: usize,
    pub max_iterations: usize,
    /// EM stops when no m probability moves by more than this.
    pub tolerance: f64,
    /// Blocks larger than this are not compared (see [`super::BlockingStats`]).
    pub block_cap: usize,
    /// Posterior probability of a match at which a pair is classed Match ...
    pub match_probability: f64,
    /// ... and Possible.
    pub possible_probability: f64,
    /// Worker threads (0: the machine's parallelism, at most 8).
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0x0114_BA6E,
            random_pairs: 1_000_000,
            em_max_records: 400_000,
            max_iterations: 100,
            tolerance: 1e-5,
            block_cap: 1_000,
            match_probability: 0.99,
            possible_probability: 0.5,
            threads: 0,
        }
    }
}

/// m and u of one comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub name: String,
    /// P(level | the records are the same person), estimated by EM.
    pub m: f64,
    /// P(level | different people), estimated from random pairs.
    pub u: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldModel {
    pub field: Field,
    pub levels: Vec<Level>,
}

/// Counts of phonetic keys of a name field in the training records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// Names counted.
    pub total: u64,
    /// Phonetic key → occurrences.
    pub counts: BTreeMap<String, u64>,
    /// Σ f², the chance that two random names share a key: the u of agreeing.
    pub u_agree: f64,
}

/// The term-frequency adjustment is clamped to this range, in bits.
const TF_CLAMP: (f64, f64) = (-5.0, 8.0);

impl TermFrequencies {
    fn new(counts: HashMap<String, u64>) -> Self {
        let total: u64 = counts.values().sum();
        let t = total.max(1) as f64;
        let u_agree = counts.values().map(|&c| (c as f64 / t).powi(2)).sum();
        TermFrequencies {
            total,
            counts: counts.into_iter().collect(),
            u_agree,
        }
    }

    /// Bits added to an agreement on a name with this key: log2(Σ f² / f(key)), so a name
    /// more common than average weighs less, a rare one more (clamped to −5..8). A key not seen
    /// in training counts as seen once.
    pub fn adjustment(&self, key: &str) -> f64 {
        if self.total == 0 || key.is_empty() {
            return 0.0;
        }
        let c = self.counts.get(key).copied().unwrap_or(1).max(1);
        let f = c as f64 / self.total as f64;
        (self.u_agree / f).log2().clamp(TF_CLAMP.0, TF_CLAMP.1)
    }
}

/// The given name and the surname compared together: the dependence between the two fields'
/// disagreements among true matches, which the sum of the two fields' weights (independence)
/// misses.
///
/// One corruption often touches both names: given name and surname swapped and then misspelt
/// beyond what the swapped levels allow, a record whose whole name was retyped, a typo in each.
/// Independence prices such a pair at m(given differs) · m(surname differs), two rare events,
/// though among true matches both names are damaged together far more often than that product
/// (on the generic benchmark, before this term, such pairs weighed −4 and −4.8 bits and stayed
/// under Match with the same date of birth and personal number).
///
/// The model: P(given level g, surname level s | match) = m(g) · m(s) · r(cell), where a cell is
/// the pair of the two levels' classes ([`NAME_CLASSES`]: agree, typo, different) and r is the
/// interaction, the ratio of the cell's share among matches to the product of the two classes'
/// shares. Within a cell the levels keep their fields' own m, so the fields' weights are
/// unchanged; r adds log2 r bits. EM estimates r with the m's (it is the maximum-likelihood
/// estimate: the expected matches in the cell over those independence predicts from the same
/// expected matches), in the sessions whose rule leaves both names free; u stays a product
/// (different people's names are drawn independently of each other's corruptions). A pseudo-count
/// of [`TOGETHER_PRIOR`] pairs in every cell pulls a cell seen in few matches towards r = 1
/// (0 bits). Swapped names and a missing name have no cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamesTogether {
    /// Given-name class × surname class, row by row ([`NAME_CLASSES`]).
    pub cells: Vec<NameCell>,
}

/// One cell of [`NamesTogether`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameCell {
    /// The given name's class ([`NAME_CLASSES`]).
    pub given: String,
    /// The surname's class.
    pub surname: String,
    /// Expected matches in the cell among the training's blocked pairs (EM's posteriors) ...
    pub matches: f64,
    /// ... and as many as the two classes' shares would give if the names were independent.
    pub independent: f64,
    /// log2((matches + prior) / (independent + prior)): added to the two names' weights.
    pub bits: f64,
}

/// Pseudo-pairs at independence in every cell of [`NamesTogether`].
const TOGETHER_PRIOR: f64 = 1.0;

/// The largest size of a cell's bits a stored model may have: log2 of a count of expected
/// matches, under 30 for any register this project holds; beyond it the model is damaged.
const TOGETHER_MAX_BITS: f64 = 40.0;

impl NamesTogether {
    /// No dependence: every cell 0 bits.
    fn independent() -> NamesTogether {
        NamesTogether::from_counts(&[0.0; NAME_CELLS])
    }

    /// The interaction from the expected matches in each cell.
    fn from_counts(c: &[f64; NAME_CELLS]) -> NamesTogether {
        let k = NAME_CLASSES.len();
        let n: f64 = c.iter().sum();
        let row = |i: usize| -> f64 { (0..k).map(|j| c[i * k + j]).sum() };
        let col = |j: usize| -> f64 { (0..k).map(|i| c[i * k + j]).sum() };
        let cells = (0..NAME_CELLS)
            .map(|x| {
                let (i, j) = (x / k, x % k);
                let independent = if n > 0.0 { row(i) * col(j) / n } else { 0.0 };
                NameCell {
                    given: NAME_CLASSES[i].to_string(),
                    surname: NAME_CLASSES[j].to_string(),
                    matches: c[x],
                    independent,
                    bits: ((c[x] + TOGETHER_PRIOR) / (independent + TOGETHER_PRIOR)).log2(),
                }
            })
            .collect();
        NamesTogether { cells }
    }

    fn bits(&self) -> [f64; NAME_CELLS] {
        let mut b = [0.0; NAME_CELLS];
        for (x, c) in b.iter_mut().zip(&self.cells) {
            *x = c.bits;
        }
        b
    }
}

/// Match weights at and above which pairs are classed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Weight at or above which a pair is a Match.
    pub matched: f64,
    /// Weight at or above which a pair is a Possible match (below: New).
    pub possible: f64,
}

/// What training saw and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub records: u64,
    pub em_records: u64,
    pub random_pairs: u64,
    /// Blocked pairs of the EM subset.
    pub candidate_pairs: u64,
    /// One EM session per blocking rule.
    pub sessions: Vec<EmSession>,
    pub blocking: BlockingStats,
}

/// One EM session: the pairs one blocking rule brings together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmSession {
    pub rule: String,
    pub pairs: u64,
    /// Distinct comparison vectors among them.
    pub patterns: u64,
    /// Estimated share of matches among them.
    pub lambda: f64,
    pub iterations: u64,
    pub converged: bool,
}

/// A trained Fellegi-Sunter model. Serialisable (JSON through serde) so the hub can store it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Layout version of this structure.
    pub format: u32,
    /// Prior probability that two records of the training set, drawn at random, are the same
    /// person.
    pub lambda: f64,
    pub fields: Vec<FieldModel>,
    pub given_tf: TermFrequencies,
    pub surname_tf: TermFrequencies,
    /// The given name and surname together: bits added to the two fields' weights by the
    /// classes of their levels.
    pub names_together: NamesTogether,
    /// Thresholds for a register of the training set's size ([`Model::thresholds_for`] gives
    /// them for another size).
    pub thresholds: Thresholds,
    pub match_probability: f64,
    pub possible_probability: f64,
    pub block_cap: usize,
    pub training: TrainingReport,
    #[serde(skip)]
    table: OnceLock<WeightTable>,
    #[serde(skip)]
    together: OnceLock<[f64; NAME_CELLS]>,
}

type WeightTable = [[f64; MAX_LEVELS]; NF];

/// One field's part of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldScore {
    pub field: Field,
    /// The level reached, `None` where either record lacks the field (weight 0).
    pub level: Option<&'static str>,
    /// log2(m/u) of the level plus the term-frequency adjustment.
    pub weight: f64,
    /// The term-frequency part of `weight`.
    pub tf_adjustment: f64,
}

/// The score of a pair of records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Sum of the field weights and of `names_together`, in bits.
    pub weight: f64,
    /// Bits the given name and surname add together beyond their two fields' weights
    /// ([`NamesTogether`]).
    pub names_together: f64,
    /// Posterior probability of a match for a blocked pair with this weight.
    pub probability: f64,
    pub fields: Vec<FieldScore>,
}

/// How a pair or a linked row is classed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Match,
    Possible,
    New,
}

/// Records prepared against a model.
pub(crate) struct Prepared {
    pub(crate) tables: Tables,
    pub(crate) preps: Vec<Prep>,
}

/// 2: swapped-name levels for given name and surname, and a one-edit level for personal
/// numbers (issue 16). 3: a date level for one digit apart, and the address field. 4: the
/// given name and surname together ([`NamesTogether`]), and a name level "one typo apart".
pub const MODEL_FORMAT: u32 = 4;

impl Model {
    /// Checks the structure of a model that was deserialised.
    pub fn check(&self) -> Result<(), LinkageError> {
        if self.format != MODEL_FORMAT {
            return Err(LinkageError::BadModel(format!(
                "format {} is not {MODEL_FORMAT}; retrain the model with this version",
                self.format
            )));
        }
        if self.fields.len() != NF {
            return Err(LinkageError::BadModel(format!(
                "{} fields instead of {NF}; retrain the model",
                self.fields.len()
            )));
        }
        for (fm, f) in self.fields.iter().zip(FIELDS) {
            if fm.field != f || fm.levels.len() != f.levels().len() {
                return Err(LinkageError::BadModel(format!(
                    "field {} does not have the levels of {}; retrain the model",
                    fm.field.as_str(),
                    f.as_str()
                )));
            }
            for l in &fm.levels {
                if !(l.m > 0.0 && l.m <= 1.0 && l.u > 0.0 && l.u <= 1.0) {
                    return Err(LinkageError::BadModel(format!(
                        "{} level {:?} has m = {} and u = {}, not in (0, 1]",
                        f.as_str(),
                        l.name,
                        l.m,
                        l.u
                    )));
                }
            }
        }
        let in_unit = |p: f64| p > 0.0 && p < 1.0;
        if !(in_unit(self.lambda)
            && in_unit(self.match_probability)
            && in_unit(self.possible_probability))
        {
            return Err(LinkageError::BadModel(format!(
                "lambda {} or a class probability ({}, {}) is not in (0, 1)",
                self.lambda, self.match_probability, self.possible_probability
            )));
        }
        // Thresholds are weights in bits: finite, and Possible never above Match.
        let t = self.thresholds;
        if !(t.matched.is_finite() && t.possible.is_finite() && t.possible <= t.matched) {
            return Err(LinkageError::BadModel(format!(
                "the thresholds (match {}, possible {}) are not finite weights with possible at most match; retrain the model",
                t.matched, t.possible
            )));
        }
        let cells = &self.names_together.cells;
        if cells.len() != NAME_CELLS
            || cells
                .iter()
                .any(|c| !(c.bits.is_finite() && c.bits.abs() <= TOGETHER_MAX_BITS))
        {
            return Err(LinkageError::BadModel(format!(
                "the names' joint term has {} cells, not {NAME_CELLS} of at most {TOGETHER_MAX_BITS} bits each; retrain the model",
                cells.len()
            )));
        }
        for (name, tf) in [
            ("given name", &self.given_tf),
            ("surname", &self.surname_tf),
        ] {
            if !(tf.u_agree.is_finite() && (0.0..=1.0).contains(&tf.u_agree)) {
                return Err(LinkageError::BadModel(format!(
                    "the {name} frequencies' u = {} is not in [0, 1]; retrain the model",
                    tf.u_agree
                )));
            }
        }
        Ok(())
    }

    /// Parses and checks a model stored as JSON.
    pub fn from_json(s: &str) -> Result<Model, LinkageError> {
        // The format first, so that a model of another version is refused as such and not for
        // a field it lacks.
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        if let Ok(h) = serde_json::from_str::<Head>(s) {
            if h.format != MODEL_FORMAT {
                return Err(LinkageError::BadModel(format!(
                    "format {} is not {MODEL_FORMAT}; retrain the model with this version",
                    h.format
                )));
            }
        }
        let m: Model =
            serde_json::from_str(s).map_err(|e| LinkageError::BadModel(e.to_string()))?;
        m.check()?;
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn table(&self) -> &WeightTable {
        self.table.get_or_init(|| {
            let mut t = [[0.0; MAX_LEVELS]; NF];
            for (row, fm) in t.iter_mut().zip(&self.fields) {
                for (w, l) in row.iter_mut().zip(&fm.levels) {
                    *w = (l.m.max(1e-12) / l.u.max(1e-12)).log2();
                }
            }
            // A name found in the other field is no more evidence than the same name in its
            // own field. u of "swapped" is tiny (random pairs of different people almost never
            // show it), but for common names two different people written once each way do:
            // "Nielsen Hannah" against "Hannah Nielsen" outweighed the same names in place by
            // 12 bits, and such pairs of namesakes reached Match on the generic benchmark.
            t[0][GIVEN_SWAPPED as usize] = t[0][GIVEN_SWAPPED as usize].min(t[0][0]);
            t[1][SURNAME_SWAPPED as usize] = t[1][SURNAME_SWAPPED as usize].min(t[1][0]);
            t
        })
    }

    fn together(&self) -> &[f64; NAME_CELLS] {
        self.together.get_or_init(|| self.names_together.bits())
    }

    /// The bits the given name and surname of `g` add together ([`NamesTogether`]).
    #[inline]
    fn together_bits(&self, g: &Gamma) -> f64 {
        name_cell(g).map_or(0.0, |x| self.together()[x])
    }

    /// The weight of a comparison (used for every blocked pair: no allocation).
    #[inline]
    pub(crate) fn weight(&self, c: &Compared<'_>) -> f64 {
        let t = self.table();
        let mut w = self.together_bits(&c.gamma);
        for (f, &l) in c.gamma.iter().enumerate() {
            if l != MISSING {
                w += t[f][l as usize];
            }
        }
        if let Some(n) = c.given {
            w += f64::from(n.tf_adj);
        }
        if let Some(n) = c.surname {
            w += f64::from(n.tf_adj);
        }
        w
    }

    /// The thresholds for a set of `records` records: the weights at which the posterior
    /// probability reaches the model's match and possible probabilities, with the prior λ
    /// scaled from the training set's size (a record has the same number of true matches in a
    /// larger set, spread over more pairs).
    pub fn thresholds_for(&self, records: u64) -> Thresholds {
        let n_train = self.training.records.max(2) as f64;
        let lambda =
            (self.lambda * (n_train - 1.0) / (records.max(2) as f64 - 1.0)).clamp(1e-15, 0.5);
        let logit = |p: f64| (p / (1.0 - p)).log2();
        Thresholds {
            matched: logit(self.match_probability) - logit(lambda),
            possible: logit(self.possible_probability) - logit(lambda),
        }
    }

    /// Posterior probability that a pair with this weight, drawn from the training set, is a
    /// match.
    pub fn probability(&self, weight: f64) -> f64 {
        let odds = self.lambda / (1.0 - self.lambda) * weight.exp2();
        if odds.is_infinite() {
            1.0
        } else {
            odds / (1.0 + odds)
        }
    }

    pub fn class(&self, weight: f64) -> Class {
        if weight >= self.thresholds.matched {
            Class::Match
        } else if weight >= self.thresholds.possible {
            Class::Possible
        } else {
            Class::New
        }
    }

    pub(crate) fn explain(&self, c: &Compared<'_>) -> Score {
        let t = self.table();
        let mut fields = Vec::with_capacity(NF);
        for (f, (&l, field)) in c.gamma.iter().zip(FIELDS).enumerate() {
            let tf = match (field, l) {
                (_, MISSING) => 0.0,
                (Field::GivenName, _) => c.given.map_or(0.0, |n| f64::from(n.tf_adj)),
                (Field::Surname, _) => c.surname.map_or(0.0, |n| f64::from(n.tf_adj)),
                _ => 0.0,
            };
            fields.push(FieldScore {
                field,
                level: (l != MISSING).then(|| field.levels()[l as usize]),
                weight: if l == MISSING {
                    0.0
                } else {
                    t[f][l as usize] + tf
                },
                tf_adjustment: tf,
            });
        }
        let weight = self.weight(c);
        Score {
            weight,
            names_together: self.together_bits(&c.gamma),
            probability: self.probability(weight),
            fields,
        }
    }

    /// Scores a pair of records, with each field's part.
    pub fn score(&self, a: &PersonRecord, b: &PersonRecord) -> Score {
        let pa = self.prepare(std::slice::from_ref(a));
        let pb = self.prepare(std::slice::from_ref(b));
        let c = compare(&pa.tables, &pa.preps[0], &pb.tables, &pb.preps[0]);
        self.explain(&c)
    }

    /// Interns and prepares records, with this model's term-frequency adjustments.
    pub(crate) fn prepare(&self, records: &[PersonRecord]) -> Prepared {
        let mut tables = Tables::default();
        let preps = records.iter().map(|r| Prep::new(r, &mut tables)).collect();
        self.set_tf(&mut tables);
        Prepared { tables, preps }
    }

    pub(crate) fn set_tf(&self, t: &mut Tables) {
        for n in &mut t.given.entries {
            n.tf_adj = self.given_tf.adjustment(&n.key) as f32;
        }
        for n in &mut t.surname.entries {
            n.tf_adj = self.surname_tf.adjustment(&n.key) as f32;
        }
    }
}

/// Trains [`Model`]s.
pub struct Matcher;

impl Matcher {
    /// Estimates a model from unlabelled records; see the module documentation for how.
    pub fn train(records: &[PersonRecord], cfg: &TrainConfig) -> Result<Model, LinkageError> {
        if records.len() < 2 {
            return Err(LinkageError::TooFewRecords(records.len()));
        }
        for (name, p) in [
            ("match_probability", cfg.match_probability),
            ("possible_probability", cfg.possible_probability),
        ] {
            if !(p > 0.0 && p < 1.0) {
                return Err(LinkageError::BadConfig(format!(
                    "{name} is {p}; give a probability strictly between 0 and 1"
                )));
            }
        }
        if cfg.possible_probability > cfg.match_probability {
            return Err(LinkageError::BadConfig(
                "possible_probability is above match_probability; the Possible band must lie below the Match band".into(),
            ));
        }
        let threads = if cfg.threads == 0 {
            default_threads()
        } else {
            cfg.threads
        };
        let mut tables = Tables::default();
        let preps: Vec<Prep> = records.iter().map(|r| Prep::new(r, &mut tables)).collect();

        // Term frequencies, by phonetic key, over every record.
        let count = |ids: &mut dyn Iterator<Item = u32>, names: &super::compare::Names| {
            let mut m: HashMap<String, u64> = HashMap::new();
            for i in ids {
                if let Some(n) = names.at(i) {
                    if !n.key.is_empty() {
                        *m.entry(n.key.to_string()).or_default() += 1;
                    }
                }
            }
            TermFrequencies::new(m)
        };
        let given_tf = count(&mut preps.iter().map(|p| p.given), &tables.given);
        let surname_tf = count(
            &mut preps.iter().flat_map(|p| [p.surname, p.birth]),
            &tables.surname,
        );

        // u: comparison levels of uniformly random pairs.
        let mut rng = Rng::new(cfg.seed);
        let n = preps.len() as u64;
        let mut u_counts = [[0u64; MAX_LEVELS]; NF];
        let mut u_seen = [0u64; NF];
        for _ in 0..cfg.random_pairs {
            let i = rng.below(n) as usize;
            let mut j = rng.below(n - 1) as usize;
            if j >= i {
                j += 1;
            }
            let c = compare(&tables, &preps[i], &tables, &preps[j]);
            for (f, &l) in c.gamma.iter().enumerate() {
                if l != MISSING {
                    u_counts[f][l as usize] += 1;
                    u_seen[f] += 1;
                }
            }
        }

        // m: EM over the comparison vectors of blocked pairs of (a subset of) the records, one
        // session per blocking rule, each leaving out the fields its rule makes agree.
        let subset: Vec<Prep> = if preps.len() > cfg.em_max_records {
            let p = cfg.em_max_records as f64 / preps.len() as f64;
            preps.iter().filter(|_| rng.chance(p)).copied().collect()
        } else {
            preps.clone()
        };
        let blocks = Blocks::build(&tables, &subset, cfg.block_cap);
        let gamma_of = |a: u32, b: u32| {
            compare(&tables, &subset[a as usize], &tables, &subset[b as usize]).gamma
        };
        let collect = |maps: Vec<HashMap<Gamma, u64>>| -> Vec<(Gamma, f64)> {
            let mut all: HashMap<Gamma, u64> = HashMap::new();
            for m in maps {
                for (g, k) in m {
                    *all.entry(g).or_default() += k;
                }
            }
            let mut v: Vec<(Gamma, f64)> = all.into_iter().map(|(g, k)| (g, k as f64)).collect();
            v.sort_unstable_by_key(|x| x.0);
            v
        };

        let mut fields: Vec<FieldModel> = FIELDS
            .iter()
            .enumerate()
            .map(|(f, &field)| {
                let names = field.levels();
                let prior = field.prior_m();
                let seen = u_seen[f] as f64;
                let levels = names
                    .iter()
                    .enumerate()
                    .map(|(l, name)| Level {
                        name: (*name).to_string(),
                        m: prior[l],
                        // Half a count where none was seen, so no level has u = 0.
                        u: (u_counts[f][l] as f64).max(0.5) / seen.max(1.0),
                    })
                    .collect();
                FieldModel { field, levels }
            })
            .collect();
        for (f, fm) in fields.iter_mut().enumerate() {
            let s: f64 = fm.levels.iter().map(|l| l.u).sum();
            for l in &mut fm.levels {
                l.u /= s;
            }
            // A field no random pair had on both sides (an address, in a register without
            // addresses): nothing is known of it, so it weighs nothing at any level (u = m,
            // and EM below leaves it alone).
            if u_seen[f] == 0 {
                for l in &mut fm.levels {
                    l.u = l.m;
                }
            }
        }

        // The comparison vectors of each rule's pairs, counted once.
        let per_rule: Vec<(Vec<(Gamma, f64)>, u64)> = (0..NR)
            .map(|rule| {
                let (maps, st) =
                    blocks.for_each_pair_of_rule(rule, threads, HashMap::new, |acc, a, b| {
                        *acc.entry(gamma_of(a, b)).or_default() += 1;
                    });
                (collect(maps), st.pairs)
            })
            .collect();
        // The anchor: pairs that share a personal-number token are nearly all one person (the
        // session's λ is about 0.99), so the m of every other field is read from them first and
        // then held. The other rules' pairs are dominated, in a large register, by relatives and
        // namesakes who agree on the family's names (surname, parents' names, mother's maiden
        // surname) and differ on the date of birth; EM over those fields alone takes such
        // families for the latent "match" class (at a million records one session found λ 0.97
        // and the pooled m(date differs) came to 0.18, 0.012 at 200,000) and would teach the
        // model that a different date is little evidence. Without
        // enough token pairs (a register without personal numbers) every field is pooled from
        // the sessions as below.
        let mut frozen: Vec<Field> = Vec::new();
        let mut anchor: Option<EmSession> = None;
        // The names' joint term: from the anchor when there is one (held with its m's), else
        // pooled, like the m's, over the sessions that leave both names free.
        let mut together = [0.0f64; NAME_CELLS];
        let mut together_counts: Option<[f64; NAME_CELLS]> = None;
        {
            let (patterns, pairs) = &per_rule[0];
            if *pairs >= ANCHOR_MIN_PAIRS {
                let mut sf = fields.clone();
                let mut st = together;
                let out = em(&mut sf, patterns, RULE_FIELDS[0], &[], &mut st, cfg);
                if out.converged && out.lambda >= ANCHOR_MIN_LAMBDA {
                    together = st;
                    together_counts = Some(out.cells);
                    for (fm, s) in fields.iter_mut().zip(&sf) {
                        if !RULE_FIELDS[0].contains(&fm.field) {
                            fm.levels.clone_from(&s.levels);
                            frozen.push(fm.field);
                        }
                    }
                    anchor = Some(EmSession {
                        rule: RULES[0].to_string(),
                        pairs: *pairs,
                        patterns: patterns.len() as u64,
                        lambda: out.lambda,
                        iterations: out.iterations as u64,
                        converged: out.converged,
                    });
                }
            }
        }
        // The sessions, in two rounds: the first starts from the priors (and the anchor's m),
        // the second from the m the first pooled, so that the fields a rule fixes weigh in each
        // E-step with estimates from the sessions that could see them vary.
        let mut sessions = Vec::with_capacity(NR);
        for _round in 0..EM_ROUNDS {
            sessions.clear();
            // Per field: Σ over sessions of (expected matches × m), and Σ expected matches.
            let mut m_sum = [[0.0f64; MAX_LEVELS]; NF];
            let mut m_weight = [0.0f64; NF];
            // The names' joint term: Σ over sessions of the expected matches per cell.
            let mut cells_sum = [0.0f64; NAME_CELLS];
            let mut cells_seen = false;
            for (rule, used) in RULE_FIELDS.iter().enumerate() {
                if let (0, Some(a)) = (rule, &anchor) {
                    sessions.push(a.clone());
                    continue;
                }
                let (patterns, pairs) = &per_rule[rule];
                let mut session_fields = fields.clone();
                let mut st = together;
                let out = em(&mut session_fields, patterns, used, &frozen, &mut st, cfg);
                let matches = out.lambda * *pairs as f64;
                let names_free = [Field::GivenName, Field::Surname]
                    .iter()
                    .all(|f| !used.contains(f) && !frozen.contains(f));
                if names_free && out.iterations > 0 {
                    for (s, c) in cells_sum.iter_mut().zip(out.cells) {
                        *s += c;
                    }
                    cells_seen = true;
                }
                for (f, fm) in session_fields.iter().enumerate() {
                    if used.contains(&FIELDS[f])
                        || frozen.contains(&FIELDS[f])
                        || out.iterations == 0
                    {
                        continue;
                    }
                    for (l, lev) in fm.levels.iter().enumerate() {
                        m_sum[f][l] += matches * lev.m;
                    }
                    m_weight[f] += matches;
                }
                sessions.push(EmSession {
                    rule: RULES[rule].to_string(),
                    pairs: *pairs,
                    patterns: patterns.len() as u64,
                    lambda: out.lambda,
                    iterations: out.iterations as u64,
                    converged: out.converged,
                });
            }
            for (f, fm) in fields.iter_mut().enumerate() {
                if m_weight[f] > 0.0 {
                    for (l, lev) in fm.levels.iter_mut().enumerate() {
                        lev.m = m_sum[f][l] / m_weight[f];
                    }
                }
            }
            if cells_seen {
                together = NamesTogether::from_counts(&cells_sum).bits();
                together_counts = Some(cells_sum);
            }
        }

        // A personal number one edit apart: m at least its prior, the chance that a typed
        // number carries one keying error. The sessions that estimate it are rules of names and
        // dates, whose matches show that level only as often as the register's numbers were
        // mistyped by one key; a register whose numbers were never mistyped (or whose wrong
        // numbers also carry a recomputed check digit, two edits) learns an m near 0, and a
        // record whose number was then mistyped once would count it as evidence against.
        floor_one_edit(&mut fields);

        // λ, the chance that two records drawn at random are the same person: EM over all
        // pairs of the subset with m and u fixed, the pairs no rule blocks taken as non-matches.
        let (maps, blocking) = blocks.for_each_pair(threads, HashMap::new, |acc, a, b| {
            *acc.entry(gamma_of(a, b)).or_default() += 1;
        });
        let patterns = collect(maps);
        let lambda_subset =
            prior_of_all_pairs(&fields, &together, &patterns, blocking.all_pairs, cfg);
        // The subset is a uniform sample of the records, so a pair of it is a match as often
        // as a pair of all the records: λ of the subset is λ of the whole. (Scaling it by
        // subset/n, as if the subset were a smaller register with as many matches per record,
        // undercounted λ by that factor, 8.9 at 3.1 million records, and raised both
        // thresholds by log2 of it.)
        let lambda = lambda_subset.clamp(1e-15, 0.5);
        let mut model = Model {
            format: MODEL_FORMAT,
            lambda,
            fields,
            given_tf,
            surname_tf,
            names_together: together_counts.map_or_else(NamesTogether::independent, |c| {
                NamesTogether::from_counts(&c)
            }),
            thresholds: Thresholds {
                matched: 0.0,
                possible: 0.0,
            },
            match_probability: cfg.match_probability,
            possible_probability: cfg.possible_probability,
            block_cap: cfg.block_cap,
            training: TrainingReport {
                records: n,
                em_records: subset.len() as u64,
                random_pairs: cfg.random_pairs as u64,
                candidate_pairs: blocking.pairs,
                sessions,
                blocking,
            },
            table: OnceLock::new(),
            together: OnceLock::new(),
        };
        model.thresholds = model.thresholds_for(n);
        model.check()?;
        Ok(model)
    }
}

/// Raises the m of a personal number one edit apart to at least the level's prior
/// ([`Field::prior_m`], 0.03): the error model of a number keyed by hand, where one keying
/// error (a digit wrong, two adjacent digits swapped, one left out or added) is the commonest
/// error (single-character errors are about four fifths of typing errors, Damerau 1964) and
/// the share of numbers with one is taken as 3%, an assumption, not a measurement. The other
/// levels give up the difference in proportion.
fn floor_one_edit(fields: &mut [FieldModel]) {
    let Some(fm) = fields.iter_mut().find(|f| f.field == Field::PersonalNumber) else {
        return;
    };
    let floor = Field::PersonalNumber.prior_m()[PNUM_ONE_EDIT];
    let have = fm.levels[PNUM_ONE_EDIT].m;
    if have >= floor {
        return;
    }
    let rest: f64 = 1.0 - have;
    for (l, lev) in fm.levels.iter_mut().enumerate() {
        lev.m = if l == PNUM_ONE_EDIT {
            floor
        } else {
            lev.m * (1.0 - floor) / rest
        };
    }
}

/// The index of "one edit apart" among the personal number's levels.
const PNUM_ONE_EDIT: usize = 1;

/// The personal-number session anchors the other fields' m when it has at least this many
/// pairs and finds at least this share of them matches (see [`Matcher::train`]).
const ANCHOR_MIN_PAIRS: u64 = 200;
const ANCHOR_MIN_LAMBDA: f64 = 0.9;

/// Rounds of the EM sessions (see [`Matcher::train`]).
const EM_ROUNDS: usize = 2;

/// Pseudo-pairs of prior weight in every m update, so a level seldom seen keeps near its prior.
const M_PRIOR_WEIGHT: f64 = 10.0;

/// The fields each blocking rule makes agree (left out of its EM session).
const RULE_FIELDS: [&[Field]; NR] = [
    &[Field::PersonalNumber],
    &[Field::PersonalNumber],
    &[Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::FatherGivenName],
    &[
        Field::FatherGivenName,
        Field::MotherGivenName,
        Field::BirthDate,
    ],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::GivenName, Field::Surname, Field::BirthDate],
    &[Field::BirthDate, Field::BirthPlace],
];

struct EmOut {
    lambda: f64,
    iterations: usize,
    converged: bool,
    /// Expected matches in each cell of the names' joint term ([`NamesTogether`]), at the last
    /// E-step.
    cells: [f64; NAME_CELLS],
}

/// log P(γ | match) and log P(γ | non-match) over the fields not in `skip`, with the names'
/// joint term (`together`, in bits) where neither name is in `skip`.
fn loglik(
    fields: &[FieldModel],
    g: &Gamma,
    skip: &[Field],
    together: &[f64; NAME_CELLS],
) -> (f64, f64) {
    let mut lm = 0.0;
    let mut lu = 0.0;
    if !skip.contains(&Field::GivenName) && !skip.contains(&Field::Surname) {
        if let Some(x) = name_cell(g) {
            lm += together[x] * std::f64::consts::LN_2;
        }
    }
    for ((fm, &l), field) in fields.iter().zip(g).zip(FIELDS) {
        if l != MISSING && !skip.contains(&field) {
            lm += fm.levels[l as usize].m.ln();
            lu += fm.levels[l as usize].u.ln();
        }
    }
    (lm, lu)
}

/// Expectation-maximisation of m (of the fields in neither `skip` nor `frozen`) and λ with u
/// fixed. The E-step
/// weighs every field, those in `skip` (which the session's blocking rule makes agree, wholly or
/// partly) at their m and u as given, each conditioned on the levels the rule lets through: a
/// field the rule fixes wholly then weighs nothing, but one it fixes only partly (the birth year
/// of a full date: exact, swapped or only the same year) still tells matches from non-matches. Leaving such a field out lets a session whose remaining fields say
/// little (given name + surname + birth year: sex, parents' names, place) take nearly all its
/// pairs as matches and pass their disagreements on to m.
///
/// Where the session leaves both names free (in neither `skip` nor `frozen`), the names' joint
/// term `together` is estimated with the m's (M-step: [`NamesTogether::from_counts`] of the
/// expected matches per cell); elsewhere it is used as given.
fn em(
    fields: &mut [FieldModel],
    patterns: &[(Gamma, f64)],
    skip: &[Field],
    frozen: &[Field],
    together: &mut [f64; NAME_CELLS],
    cfg: &TrainConfig,
) -> EmOut {
    let total: f64 = patterns.iter().map(|p| p.1).sum();
    if total == 0.0 {
        return EmOut {
            lambda: 0.0,
            iterations: 0,
            converged: false,
            cells: [0.0; NAME_CELLS],
        };
    }
    let names_free = [Field::GivenName, Field::Surname]
        .iter()
        .all(|f| !skip.contains(f) && !frozen.contains(f));
    let mut cells = [0.0f64; NAME_CELLS];
    // The fields the rule fixes, at m and u conditioned on the levels the rule lets through:
    // ln(m / Σ m) and ln(u / Σ u) over the levels seen among the session's pairs.
    let fixed: Vec<(usize, [(f64, f64); MAX_LEVELS])> = fields
        .iter()
        .enumerate()
        .filter(|(_, fm)| skip.contains(&fm.field))
        .map(|(f, fm)| {
            let mut seen = [false; MAX_LEVELS];
            for (g, _) in patterns {
                if g[f] != MISSING {
                    seen[g[f] as usize] = true;
                }
            }
            let (mut sm, mut su) = (0.0, 0.0);
            for (l, lev) in fm.levels.iter().enumerate() {
                if seen[l] {
                    sm += lev.m;
                    su += lev.u;
                }
            }
            let mut t = [(0.0, 0.0); MAX_LEVELS];
            for (l, lev) in fm.levels.iter().enumerate() {
                if seen[l] {
                    t[l] = ((lev.m / sm).ln(), (lev.u / su).ln());
                }
            }
            (f, t)
        })
        .collect();
    let mut lambda: f64 = 0.3;
    let mut post = vec![0.0f64; patterns.len()];
    for it in 1..=cfg.max_iterations {
        // E: posterior of each pattern.
        let mut matched = 0.0;
        for ((g, k), p) in patterns.iter().zip(post.iter_mut()) {
            let (mut lm, mut lu) = loglik(fields, g, skip, together);
            for (f, t) in &fixed {
                if g[*f] != MISSING {
                    lm += t[g[*f] as usize].0;
                    lu += t[g[*f] as usize].1;
                }
            }
            *p = 1.0 / (1.0 + ((1.0 - lambda).ln() + lu - lambda.ln() - lm).exp());
            matched += *p * k;
        }
        // M: m per field and level, the names' joint term, and λ.
        let mut delta: f64 = 0.0;
        cells = [0.0; NAME_CELLS];
        for ((g, k), p) in patterns.iter().zip(&post) {
            if let Some(x) = name_cell(g) {
                cells[x] += p * k;
            }
        }
        if names_free {
            let bits = NamesTogether::from_counts(&cells).bits();
            for (t, b) in together.iter_mut().zip(bits) {
                // In bits; a change of 1e-3 bits is a relative change of m under 1e-3.
                delta = delta.max((*t - b).abs() * 1e-2);
                *t = b;
            }
        }
        for (f, fm) in fields.iter_mut().enumerate() {
            if skip.contains(&fm.field) || frozen.contains(&fm.field) {
                continue;
            }
            let mut num = [0.0f64; MAX_LEVELS];
            let mut den = 0.0;
            for ((g, k), p) in patterns.iter().zip(&post) {
                let l = g[f];
                if l != MISSING {
                    num[l as usize] += p * k;
                    den += p * k;
                }
            }
            let prior = fm.field.prior_m();
            for (l, lev) in fm.levels.iter_mut().enumerate() {
                let m = (num[l] + M_PRIOR_WEIGHT * prior[l]) / (den + M_PRIOR_WEIGHT);
                delta = delta.max((m - lev.m).abs());
                lev.m = m;
            }
        }
        let new_lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
        delta = delta.max((new_lambda - lambda).abs());
        lambda = new_lambda;
        if delta < cfg.tolerance {
            return EmOut {
                lambda,
                iterations: it,
                converged: true,
                cells,
            };
        }
    }
    EmOut {
        lambda,
        iterations: cfg.max_iterations,
        converged: false,
        cells,
    }
}

/// The prior λ over all `all_pairs` pairs, given the blocked pairs' patterns, m and u fixed:
/// the fixed point of λ = Σ P(match | γ, λ) / all_pairs.
fn prior_of_all_pairs(
    fields: &[FieldModel],
    together: &[f64; NAME_CELLS],
    patterns: &[(Gamma, f64)],
    all_pairs: u64,
    cfg: &TrainConfig,
) -> f64 {
    let all = all_pairs.max(1) as f64;
    let lr: Vec<f64> = patterns
        .iter()
        .map(|(g, _)| {
            let (lm, lu) = loglik(fields, g, &[], together);
            lm - lu
        })
        .collect();
    let mut lambda = (patterns.iter().map(|p| p.1).sum::<f64>() * 0.1 / all).clamp(1e-15, 0.5);
    for _ in 0..cfg.max_iterations.max(1) * 10 {
        let odds = lambda / (1.0 - lambda);
        let expected: f64 = patterns
            .iter()
            .zip(&lr)
            .map(|((_, k), l)| k / (1.0 + 1.0 / (odds * l.exp())))
            .sum();
        let new = (expected / all).clamp(1e-15, 0.5);
        if ((new - lambda) / lambda).abs() < 1e-9 {
            return new;
        }
        lambda = new;
    }
    lambda
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::dedupe;
    use crate::synth::eval::LinkageSet;
    use crate::synth::population::{Population, PopulationConfig};

    /// The names' joint term is the interaction of the two names' classes among matches: 0
    /// bits where the classes are independent, positive where both names are damaged together
    /// more often than independence predicts, pulled towards 0 where a cell has few matches.
    #[test]
    fn the_names_joint_term_is_the_interaction_of_the_two_classes() {
        // Independent: every cell is its row's share times its column's share.
        let (rows, cols) = ([0.9, 0.07, 0.03], [0.85, 0.1, 0.05]);
        let mut c = [0.0; NAME_CELLS];
        for i in 0..3 {
            for j in 0..3 {
                c[i * 3 + j] = 10_000.0 * rows[i] * cols[j];
            }
        }
        let t = NamesTogether::from_counts(&c);
        for cell in &t.cells {
            assert!(cell.bits.abs() < 1e-9, "{cell:?}");
            assert!((cell.matches - cell.independent).abs() < 1e-6, "{cell:?}");
        }
        assert_eq!(
            (&*t.cells[5].given, &*t.cells[5].surname),
            ("typo", "different")
        );
        // 100 of the matches with an agreeing given name and surname have both names different
        // instead (one event damaged both): that cell gains, its row and column lose.
        let mut d = c;
        d[0] -= 100.0;
        d[8] += 100.0;
        let t = NamesTogether::from_counts(&d);
        let dd = t.cells[8].bits;
        let expect = ((d[8] + TOGETHER_PRIOR) / (t.cells[8].independent + TOGETHER_PRIOR)).log2();
        assert!((dd - expect).abs() < 1e-9);
        assert!(dd > 2.0, "{dd}");
        assert!(t.cells[2].bits < 0.0 && t.cells[6].bits < 0.0, "{t:?}");
        // No matches at all: no dependence.
        assert!(NamesTogether::independent()
            .cells
            .iter()
            .all(|c| c.bits == 0.0));
        // Few matches: the prior keeps the cell near 0 bits.
        let few = NamesTogether::from_counts(&[3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2]);
        assert!(few.cells[8].bits < 0.3, "{few:?}");
    }

    /// A large register is trained on a random subset of its records (`em_max_records`), as
    /// 3.1 million records are trained on 400,000. The subset must give the model the whole
    /// register's prior and thresholds, and the thresholds must still find the duplicates: once
    /// λ was scaled down by subset/n, which raised the thresholds by log2(n/subset) bits and cut
    /// recall at 3.1 million records to 0.64. This trains on a quarter of 20,000 records, the
    /// same shape in seconds.
    #[test]
    fn training_on_a_subset_keeps_the_thresholds_of_the_whole() {
        let set = LinkageSet::from_records(Population::new(PopulationConfig::new(0x5CA1E, 20_000)))
            .expect("generated records parse");
        let n = set.people.len();
        let cfg = TrainConfig {
            random_pairs: 200_000,
            ..TrainConfig::default()
        };
        let whole = Matcher::train(&set.people, &cfg).expect("training");
        let sub = Matcher::train(
            &set.people,
            &TrainConfig {
                em_max_records: n / 4,
                ..cfg.clone()
            },
        )
        .expect("training on a subset");
        assert!(sub.training.em_records < n as u64 / 3);
        let (a, b) = (whole.thresholds.matched, sub.thresholds.matched);
        assert!(
            (a - b).abs() < 1.0,
            "Match threshold {a:.2} from all {n} records, {b:.2} from a quarter"
        );
        let d = dedupe(&sub, &set.people, sub.thresholds.matched);
        let q = set.evaluate(&d.pairs, sub.thresholds.matched);
        assert!(q.precision >= 0.95, "precision {:.4}", q.precision);
        assert!(q.recall_planted >= 0.90, "recall {:.4}", q.recall_planted);
    }
}
