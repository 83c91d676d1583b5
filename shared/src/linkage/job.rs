//! A link job: rows of one source linked to a register, with a prior for the job at hand.
//!
//! The prior λ of a link job is the chance that a (row, register record) pair drawn at random
//! is one person. It is **not** the register's own duplicate rate: a register without
//! duplicates drives that to nothing, and thresholds taken from it asked for 50-odd bits, so
//! that a row identical on every field came out "possible". It is estimated from the two
//! sources, as Splink's `estimate_probability_two_random_records_match` does: the pairs that
//! deterministic rules take for certain matches (the same personal-number token; the same
//! folded given name, surname and full date of birth) are counted, divided by the rules' assumed
//! recall ([`LinkOptions::rule_recall`]), and by all pairs. Or the user gives the share of the
//! rows they expect in the register ([`LinkOptions::expect_matches`]).
//!
//! The model's m and u are trained on the register and the rows together, so that the pairs
//! that cross the two sources (the matches a link job is about) are what EM learns from; a
//! clean register alone has none.

use super::compare::{compare, Prep, Tables, NONE};
use super::{
    Class, LinkageError, Matcher, Model, PersonRecord, RegisterIndex, Score, Thresholds,
    TrainConfig,
};
use serde::Serialize;
use std::collections::HashMap;

/// How a link job is set up.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Share of the rows expected to be in the register (0 < s ≤ 1); `None`: estimated.
    pub expect_matches: Option<f64>,
    /// Match threshold in bits; `None`: from the prior and the model's match probability.
    pub threshold: Option<f64>,
    /// Possible threshold in bits; `None`: from the prior and the possible probability.
    pub possible: Option<f64>,
    /// Share of the true matches the deterministic rules are assumed to find (Splink's
    /// `recall`).
    pub rule_recall: f64,
    pub train: TrainConfig,
}

impl LinkOptions {
    /// The estimated prior and the thresholds it gives, with `train` for the model.
    pub fn new(train: TrainConfig) -> LinkOptions {
        LinkOptions {
            expect_matches: None,
            threshold: None,
            possible: None,
            rule_recall: 1.0,
            train,
        }
    }
}

/// Where a link job's prior came from, and the thresholds it gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkPrior {
    /// P(a random row/register pair is one person).
    pub lambda: f64,
    /// Rows expected to be in the register (λ × rows × register).
    pub expected_matches: f64,
    /// `deterministic rules` or `expected by the user`.
    pub source: String,
    /// Pairs the deterministic rules found (0 when the user gave the share).
    pub rule_pairs: u64,
    pub thresholds: Thresholds,
    /// Whether the thresholds were set by the user.
    pub thresholds_given: bool,
}

/// A trained model, the register's index and the job's prior.
pub struct LinkJob {
    pub model: Model,
    pub index: RegisterIndex,
    pub prior: LinkPrior,
    /// The thresholds the user gave, and whether the prior may still be refined.
    given: (Option<f64>, Option<f64>),
    refine: bool,
}

/// Logit in base 2.
fn logit2(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

impl LinkJob {
    /// Trains on `register` and `rows` together, builds the register's index and sets the prior.
    pub fn new(
        register: &[PersonRecord],
        rows: &[PersonRecord],
        opts: &LinkOptions,
    ) -> Result<LinkJob, LinkageError> {
        if let Some(s) = opts.expect_matches {
            if !(s > 0.0 && s <= 1.0) {
                return Err(LinkageError::BadConfig(format!(
                    "the expected share of matching rows is {s}; give a share above 0 and at most 1 (0.5: half the rows)"
                )));
            }
        }
        if let (Some(m), Some(p)) = (opts.threshold, opts.possible) {
            if p > m {
                return Err(LinkageError::BadConfig(format!(
                    "the Possible threshold {p} is above the Match threshold {m}; give a lower one"
                )));
            }
        }
        for t in [opts.threshold, opts.possible].into_iter().flatten() {
            if !t.is_finite() {
                return Err(LinkageError::BadConfig(format!(
                    "threshold {t} is not a number of bits"
                )));
            }
        }
        let mut both = Vec::with_capacity(register.len() + rows.len());
        both.extend_from_slice(register);
        both.extend_from_slice(rows);
        let model = Matcher::train(&both, &opts.train)?;
        drop(both);
        let index = RegisterIndex::build(&model, register);
        let pairs = (rows.len().max(1) as f64) * (index.len().max(1) as f64);
        let (lambda, source, rule_pairs) = match opts.expect_matches {
            Some(s) => (s * rows.len() as f64 / pairs, "expected by the user", 0),
            None => {
                let found = rule_pairs(&index, rows);
                let expected = (found as f64 / opts.rule_recall.clamp(0.05, 1.0))
                    .min(rows.len().min(index.len()) as f64)
                    .max(1.0);
                (expected / pairs, "deterministic rules", found)
            }
        };
        let lambda = lambda.clamp(1e-15, 0.5);
        let given = (opts.threshold, opts.possible);
        let thresholds = thresholds_of(&model, lambda, given);
        Ok(LinkJob {
            given,
            refine: opts.expect_matches.is_none(),
            prior: LinkPrior {
                lambda,
                expected_matches: lambda * pairs,
                source: source.into(),
                rule_pairs,
                thresholds,
                thresholds_given: opts.threshold.is_some() || opts.possible.is_some(),
            },
            model,
            index,
        })
    }

    pub fn class(&self, weight: f64) -> Class {
        let t = self.prior.thresholds;
        if weight >= t.matched {
            Class::Match
        } else if weight >= t.possible {
            Class::Possible
        } else {
            Class::New
        }
    }

    /// The posterior probability of a match for a pair of this job with this weight.
    pub fn probability(&self, weight: f64) -> f64 {
        let l = self.prior.lambda;
        let odds = l / (1.0 - l) * weight.exp2();
        if odds.is_infinite() {
            1.0
        } else {
            odds / (1.0 + odds)
        }
    }

    /// Links every row, classed by the job's thresholds, with each row's probability from the
    /// job's prior. An estimated prior is first refined on the rows' best candidates
    /// ([`LinkJob::refine_prior`]); a share the user gave is kept.
    pub fn link_all(&mut self, rows: &[PersonRecord], threads: usize) -> Vec<super::Link> {
        let mut links = super::link_many(&self.model, &self.index, rows, threads);
        if self.refine {
            let weights: Vec<f64> = links
                .iter()
                .filter_map(|l| l.best.as_ref().map(|b| b.score.weight))
                .collect();
            self.refine_prior(&weights, rows.len());
        }
        for l in &mut links {
            if let Some(b) = &mut l.best {
                b.score.probability = self.probability(b.score.weight);
            }
            l.class = l
                .best
                .as_ref()
                .map_or(Class::New, |b| self.class(b.score.weight));
        }
        links
    }

    /// Refines an estimated prior by expectation-maximisation over the weights of the rows'
    /// best candidates (each row is at most one register person): λ is set to the expected
    /// number of matches among them, Σ P(match | w, λ), over all pairs, until it settles.
    /// The deterministic rules miss the true pairs they can not see (a typo in the number and
    /// in the name), and assuming they see all (Splink's recall 1.0) put the Match threshold
    /// about a bit too high on the generic benchmark; the weights themselves say how many rows
    /// have a match. The thresholds the user did not give follow the refined λ.
    pub fn refine_prior(&mut self, best_weights: &[f64], rows: usize) {
        let pairs = (rows.max(1) as f64) * (self.index.len().max(1) as f64);
        let most = rows.min(self.index.len()).max(1) as f64 / pairs;
        let mut lambda = self.prior.lambda;
        for _ in 0..200 {
            let odds = lambda / (1.0 - lambda);
            let expected: f64 = best_weights
                .iter()
                .map(|w| {
                    let o = odds * w.exp2();
                    if o.is_infinite() {
                        1.0
                    } else {
                        o / (1.0 + o)
                    }
                })
                .sum();
            let new = (expected / pairs).clamp(1e-15, most.min(0.5));
            let settled = ((new - lambda) / lambda).abs() < 1e-6;
            lambda = new;
            if settled {
                break;
            }
        }
        self.prior.lambda = lambda;
        self.prior.expected_matches = lambda * pairs;
        self.prior.source = "deterministic rules, refined by EM over the best candidates".into();
        self.prior.thresholds = thresholds_of(&self.model, lambda, self.given);
        self.refine = false;
    }

    /// Scores one row against one register record.
    pub fn score(&self, row: &PersonRecord, register_index: usize) -> Option<Score> {
        let mut tables = Tables::default();
        let prep = Prep::new(row, &mut tables);
        self.model.set_tf(&mut tables);
        let other = self.index.preps.get(register_index)?;
        let c = compare(&tables, &prep, &self.index.tables, other);
        let mut s = self.model.explain(&c);
        s.probability = self.probability(s.weight);
        Some(s)
    }
}

/// The Match and Possible thresholds for prior `lambda`, or as the user gave them; Possible is
/// never above Match.
fn thresholds_of(model: &Model, lambda: f64, given: (Option<f64>, Option<f64>)) -> Thresholds {
    let matched = given
        .0
        .unwrap_or_else(|| logit2(model.match_probability) - logit2(lambda));
    let possible = given
        .1
        .unwrap_or_else(|| logit2(model.possible_probability) - logit2(lambda));
    Thresholds {
        matched,
        possible: possible.min(matched),
    }
}

/// The (row, register record) pairs that deterministic rules take for matches: the same
/// personal-number token of one scheme, or the same folded given name, surname and full date
/// of birth. Each pair counted once.
fn rule_pairs(index: &RegisterIndex, rows: &[PersonRecord]) -> u64 {
    let t = &index.tables;
    let exact_key = |t: &Tables, p: &Prep| -> Option<(String, String, i32, u32, u32)> {
        let d = p.date?;
        let (m, day) = (d.month?, d.day?);
        if p.given == NONE || p.surname == NONE {
            return None;
        }
        Some((
            t.given.at(p.given)?.folded.to_string(),
            t.surname.at(p.surname)?.folded.to_string(),
            d.year,
            m,
            day,
        ))
    };
    let mut by_tok: HashMap<(u8, u64), Vec<u32>> = HashMap::new();
    let mut by_exact: HashMap<(String, String, i32, u32, u32), Vec<u32>> = HashMap::new();
    for (i, p) in index.preps.iter().enumerate() {
        for &tk in &p.toks {
            if tk.0 != 0 {
                by_tok.entry(tk).or_default().push(i as u32);
            }
        }
        if let Some(k) = exact_key(t, p) {
            by_exact.entry(k).or_default().push(i as u32);
        }
    }
    let mut found = 0u64;
    let mut tables = Tables::default();
    let mut hits: Vec<u32> = Vec::new();
    for r in rows {
        let p = Prep::new(r, &mut tables);
        hits.clear();
        for tk in &p.toks {
            if let Some(v) = by_tok.get(tk) {
                hits.extend_from_slice(v);
            }
        }
        if let Some(v) = exact_key(&tables, &p).and_then(|k| by_exact.get(&k)) {
            hits.extend_from_slice(v);
        }
        hits.sort_unstable();
        hits.dedup();
        found += hits.len() as u64;
    }
    found
}
