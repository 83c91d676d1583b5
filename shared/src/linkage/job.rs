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
//!
//! **Each row is at most one register person**, so a row's best candidate is classed by the
//! posterior that it is the row's person given all of the row's candidates
//! ([`LinkJob::row_probability`]): with π = λ × register the share of rows that have a
//! person in the register, a candidate of weight w gets prior odds π/N · 2^w against the row
//! having no person there (1 − π) and against every other candidate (π/N · 2^w' each). A pair
//! model alone (odds λ/(1 − λ) · 2^w) asks a row that surely has a person (π near 1) for as
//! much evidence as one that surely has none, and cannot see that two candidates of one
//! row share the row. A row is Match when that posterior reaches
//! [`Model::match_probability`] (0.99), Possible when the posterior that the row has a person
//! in the register at all (any of its candidates) reaches [`Model::possible_probability`]
//! (0.5: two candidates that fit equally well go to review, not to New); the thresholds
//! reported are the weights at which a candidate without rivals reaches them. Thresholds the user gives
//! (`--threshold`, `--possible`) class by weight instead.

use super::compare::{compare, Prep, Tables, NONE};
use super::{
    Class, LinkageError, Matcher, Model, PersonRecord, RegisterIndex, Score, Thresholds,
    TrainConfig,
};
use serde::{Deserialize, Serialize};
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Refuses options no job can use: a share outside (0, 1], thresholds in the wrong order or not
/// numbers.
fn check_options(opts: &LinkOptions) -> Result<(), LinkageError> {
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
    Ok(())
}

impl LinkJob {
    /// Trains on `register` and `rows` together, builds the register's index and sets the prior.
    pub fn new(
        register: &[PersonRecord],
        rows: &[PersonRecord],
        opts: &LinkOptions,
    ) -> Result<LinkJob, LinkageError> {
        check_options(opts)?;
        let mut both = Vec::with_capacity(register.len() + rows.len());
        both.extend_from_slice(register);
        both.extend_from_slice(rows);
        let model = Matcher::train(&both, &opts.train)?;
        drop(both);
        LinkJob::with_model(model, register, rows, opts)
    }

    /// As [`LinkJob::new`], with a model trained before (a saved one): its m and u
    /// probabilities are used as they are; the prior and thresholds are the job's own.
    pub fn with_model(
        model: Model,
        register: &[PersonRecord],
        rows: &[PersonRecord],
        opts: &LinkOptions,
    ) -> Result<LinkJob, LinkageError> {
        check_options(opts)?;
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
        let thresholds = thresholds_of(&model, lambda, index.len().max(1) as f64, given);
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

    /// The class of a candidate by weight alone, at the job's thresholds (a candidate without
    /// rivals); [`LinkJob::link_all`] classes rows by [`LinkJob::row_class`].
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

    /// Share of the rows expected to have a person in the register, π = λ × register.
    fn row_share(&self) -> f64 {
        (self.prior.lambda * self.index.len().max(1) as f64).clamp(1e-12, 1.0 - 1e-9)
    }

    /// The posterior that a row's best candidate, of weight `best`, is the row's person, given
    /// its other candidates' evidence `rivals` (log2 Σ 2^w, [`super::Link::rivals`]) and the
    /// job's prior: (π/N)·2^best / ((1 − π) + (π/N)·(2^best + Σ 2^rival)).
    pub fn row_probability(&self, best: f64, rivals: Option<f64>) -> f64 {
        let (a, r, none) = self.row_terms(best, rivals);
        a / (none + a + r)
    }

    /// The terms of [`LinkJob::row_probability`], scaled by a common power of two so that
    /// none overflows: (best, rivals, no person in the register).
    fn row_terms(&self, best: f64, rivals: Option<f64>) -> (f64, f64, f64) {
        let n = self.index.len().max(1) as f64;
        let pi = self.row_share();
        let base = (pi / n).log2();
        let lb = base + best;
        let lr = rivals.map(|w| base + w);
        let ln = (1.0 - pi).log2();
        let top = lb.max(ln).max(lr.unwrap_or(f64::NEG_INFINITY));
        (
            (lb - top).exp2(),
            lr.map_or(0.0, |l| (l - top).exp2()),
            (ln - top).exp2(),
        )
    }

    /// The class of a row from its best candidate and rivals: by the posterior, or by weight
    /// when the user gave the thresholds.
    pub fn row_class(&self, best: f64, rivals: Option<f64>) -> Class {
        if self.prior.thresholds_given {
            return self.class(best);
        }
        let (a, r, none) = self.row_terms(best, rivals);
        if a / (none + a + r) >= self.model.match_probability {
            Class::Match
        } else if (a + r) / (none + a + r) >= self.model.possible_probability {
            // The row probably has a person in the register, but not surely this one.
            Class::Possible
        } else {
            Class::New
        }
    }

    /// The posterior probability of a match for a pair of this job with this weight, by the
    /// pair model alone (λ/(1 − λ) · 2^w); see [`LinkJob::row_probability`].
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
            let weights: Vec<(f64, Option<f64>)> = links
                .iter()
                .filter_map(|l| l.best.as_ref().map(|b| (b.score.weight, l.rivals)))
                .collect();
            self.refine_prior(&weights, rows.len());
        }
        for l in &mut links {
            let rivals = l.rivals;
            if let Some(b) = &mut l.best {
                b.score.probability = self.row_probability(b.score.weight, rivals);
            }
            l.class = l
                .best
                .as_ref()
                .map_or(Class::New, |b| self.row_class(b.score.weight, rivals));
        }
        links
    }

    /// Refines an estimated prior by expectation-maximisation over the rows' candidates
    /// (`(best weight, rivals)` per row that has any; each row is at most one register
    /// person): π, the share of rows with a person in the register, is set to the mean over
    /// all `rows` of P(the row has one | its candidates, π) = (π/N)·Σ2^w / ((1 − π) +
    /// (π/N)·Σ2^w), until it settles, and λ = π/N. The deterministic rules miss the true
    /// pairs they can not see (a typo in the number and in the name), and assuming they see
    /// all (Splink's recall 1.0) put the Match threshold about a bit too high on the generic
    /// benchmark; the weights themselves say how many rows have a match. The thresholds the
    /// user did not give follow the refined λ.
    pub fn refine_prior(&mut self, candidates: &[(f64, Option<f64>)], rows: usize) {
        let n = self.index.len().max(1) as f64;
        let most = (rows.min(self.index.len()).max(1) as f64 / rows.max(1) as f64).min(1.0 - 1e-9);
        for _ in 0..200 {
            let pi = self.row_share();
            let expected: f64 = candidates
                .iter()
                .map(|&(w, r)| {
                    let (a, r, none) = self.row_terms(w, r);
                    (a + r) / (none + a + r)
                })
                .sum();
            let new = (expected / rows.max(1) as f64).clamp(1e-12, most);
            self.prior.lambda = (new / n).clamp(1e-15, 0.5);
            if ((new - pi) / pi).abs() < 1e-6 {
                break;
            }
        }
        let pairs = (rows.max(1) as f64) * n;
        self.prior.expected_matches = self.prior.lambda * pairs;
        self.prior.source = "deterministic rules, refined by EM over the rows' candidates".into();
        self.prior.thresholds = thresholds_of(&self.model, self.prior.lambda, n, self.given);
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
        s.probability = self.row_probability(s.weight, None);
        Some(s)
    }
}

/// The Match and Possible thresholds for prior `lambda` over a register of `n` records, or as
/// the user gave them; Possible is never above Match. A candidate without rivals reaches
/// posterior p ([`LinkJob::row_probability`]) at w = logit2(p) + log2((1 − π)·N/π), π = λN.
fn thresholds_of(
    model: &Model,
    lambda: f64,
    n: f64,
    given: (Option<f64>, Option<f64>),
) -> Thresholds {
    let pi = (lambda * n).clamp(1e-12, 1.0 - 1e-9);
    let odds = ((1.0 - pi) * n / pi).log2();
    let matched = given
        .0
        .unwrap_or_else(|| logit2(model.match_probability) + odds);
    let possible = given
        .1
        .unwrap_or_else(|| logit2(model.possible_probability) + odds);
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
