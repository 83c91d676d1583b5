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
//!
//! **π is estimated by kind of row** (the identifying fields a row lacks: date of birth,
//! place, personal number, parents' names, a name), a logistic model fitted by EM over the
//! rows' candidates ([`LinkJob::refine_prior`], reported in [`LinkPrior::by_kind`]): the rows
//! of one file are not one population, and a kind that the weights show to be nearly always in
//! the register (stubs looked up by name) needs less evidence than complete rows that mostly
//! are not. Where the kinds do not differ the shares come out alike and nothing changes. The
//! reported thresholds are those of a row of the job's overall share; each kind's own are in
//! [`KindShare::thresholds`] and [`LinkJob::row_thresholds`].

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
    /// Whether the refined share of rows with a person in the register may differ by kind of
    /// row (the identifying fields a row lacks, [`LinkJob::refine_prior`]); `false`: one
    /// share for every row (as before; the benchmark's comparison).
    pub share_by_kind: bool,
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
            share_by_kind: true,
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
    /// The share of rows with a person in the register, by kind of row (the identifying
    /// fields a row lacks), as refined by EM ([`LinkJob::refine_prior`]); empty when the
    /// prior was not refined (a share the user gave holds for every row).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_kind: Vec<KindShare>,
}

/// The estimated share of the rows of one kind that have a person in the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindShare {
    /// The identifying fields these rows lack (empty: rows with all of them).
    pub lacks: Vec<String>,
    pub rows: u64,
    pub share: f64,
    /// The weights at which a candidate without rivals of a row of this kind reaches Match and
    /// Possible at this share (the thresholds the user gave, when given); `None` only in a
    /// report of an older version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

/// The rows of one kind: how many, and the candidates (best weight, rivals) of those that
/// have any.
struct KindRows {
    kind: u8,
    rows: u64,
    candidates: Vec<(f64, Option<f64>)>,
}

/// The identifying fields whose absence marks a kind of row, in the order of [`row_kind`]'s
/// bits.
const KIND_FIELDS: [&str; 7] = [
    "given_name",
    "surname",
    "birth_date",
    "birth_place",
    "personal_number",
    "father_given_name",
    "mother_given_name",
];

/// The kind of a row: bit i set when it lacks [`KIND_FIELDS`]`[i]`.
fn row_kind(r: &PersonRecord) -> u8 {
    let lacks = [
        r.given_name.trim().is_empty(),
        r.surname.trim().is_empty(),
        r.birth_date.is_none(),
        r.birth_place.as_deref().is_none_or(|p| p.trim().is_empty()),
        r.tokens.is_empty(),
        r.father_given_name
            .as_deref()
            .is_none_or(|p| p.trim().is_empty()),
        r.mother_given_name
            .as_deref()
            .is_none_or(|p| p.trim().is_empty()),
    ];
    lacks
        .iter()
        .enumerate()
        .fold(0u8, |k, (i, &l)| if l { k | 1 << i } else { k })
}

/// Features of a kind for the prior's logistic model: 1 (the intercept), then one per
/// field the kind lacks.
fn kind_features(kind: u8) -> [f64; KIND_FIELDS.len() + 1] {
    let mut x = [0.0; KIND_FIELDS.len() + 1];
    x[0] = 1.0;
    for (i, v) in x[1..].iter_mut().enumerate() {
        if kind & (1 << i) != 0 {
            *v = 1.0;
        }
    }
    x
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A trained model, the register's index and the job's prior.
pub struct LinkJob {
    pub model: Model,
    pub index: RegisterIndex,
    pub prior: LinkPrior,
    /// The thresholds the user gave, and whether the prior may still be refined.
    given: (Option<f64>, Option<f64>),
    refine: bool,
    /// Coefficients of the logistic model of a row's share by its kind
    /// ([`LinkJob::refine_prior`]); `None`: the job's one share π for every row.
    by_kind: Option<[f64; KIND_FIELDS.len() + 1]>,
    /// [`LinkOptions::share_by_kind`].
    share_by_kind: bool,
    /// The largest share a row may have: rows ≤ register, so at most register / rows.
    most: f64,
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
        let most =
            (rows.len().min(index.len()).max(1) as f64 / rows.len().max(1) as f64).min(1.0 - 1e-9);
        Ok(LinkJob {
            given,
            refine: opts.expect_matches.is_none(),
            by_kind: None,
            share_by_kind: opts.share_by_kind,
            most,
            prior: LinkPrior {
                lambda,
                expected_matches: lambda * pairs,
                source: source.into(),
                rule_pairs,
                thresholds,
                thresholds_given: opts.threshold.is_some() || opts.possible.is_some(),
                by_kind: Vec::new(),
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

    /// Share of the rows expected to have a person in the register, π = λ × register: the
    /// job's overall share, which [`LinkJob::row_probability`] uses.
    fn row_share(&self) -> f64 {
        (self.prior.lambda * self.index.len().max(1) as f64).clamp(1e-12, 1.0 - 1e-9)
    }

    /// The share of rows of this kind expected to have a person in the register: by the
    /// logistic model [`LinkJob::refine_prior`] fitted, else the job's overall share.
    fn kind_share(&self, kind: u8) -> f64 {
        let kind = if self.share_by_kind { kind } else { 0 };
        match &self.by_kind {
            Some(beta) => {
                let x = kind_features(kind);
                let z: f64 = beta.iter().zip(&x).map(|(b, x)| b * x).sum();
                sigmoid(z).clamp(1e-12, self.most)
            }
            None => self.row_share(),
        }
    }

    /// The thresholds of a row of `row`'s kind: the weights at which a candidate without rivals
    /// reaches Match and Possible at the share of rows of that kind with a person in the
    /// register ([`KindShare::thresholds`]); the job's overall ones before the prior is refined,
    /// or the user's when given.
    pub fn row_thresholds(&self, row: &PersonRecord) -> Thresholds {
        self.thresholds_at(self.kind_share(row_kind(row)))
    }

    /// The lone-candidate thresholds at share `pi`; the job's own when the user gave any (the
    /// rows are then classed by weight alone, [`LinkJob::class`]).
    fn thresholds_at(&self, pi: f64) -> Thresholds {
        if self.prior.thresholds_given {
            return self.prior.thresholds;
        }
        let n = self.index.len().max(1) as f64;
        thresholds_of(&self.model, pi / n, n, self.given)
    }

    /// The posterior that a row's best candidate, of weight `best`, is the row's person, given
    /// its other candidates' evidence `rivals` (log2 Σ 2^w, [`super::Link::rivals`]) and the
    /// job's overall share π of rows with a person in the register:
    /// (π/N)·2^best / ((1 − π) + (π/N)·(2^best + Σ 2^rival)). [`LinkJob::link_all`] uses the
    /// share of the row's own kind ([`LinkJob::row_probability_of`]).
    pub fn row_probability(&self, best: f64, rivals: Option<f64>) -> f64 {
        let (a, r, none) = self.row_terms(best, rivals, self.row_share());
        a / (none + a + r)
    }

    /// [`LinkJob::row_probability`] with the share of rows of `row`'s kind (the identifying
    /// fields it lacks) that have a person in the register.
    pub fn row_probability_of(&self, row: &PersonRecord, best: f64, rivals: Option<f64>) -> f64 {
        let (a, r, none) = self.row_terms(best, rivals, self.kind_share(row_kind(row)));
        a / (none + a + r)
    }

    /// The terms of [`LinkJob::row_probability`] for share `pi`, scaled by a common power of
    /// two so that none overflows: (best, rivals, no person in the register).
    fn row_terms(&self, best: f64, rivals: Option<f64>, pi: f64) -> (f64, f64, f64) {
        let n = self.index.len().max(1) as f64;
        let pi = pi.clamp(1e-12, 1.0 - 1e-9);
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

    /// The class of a row from its best candidate and rivals, at the job's overall share: by
    /// the posterior, or by weight when the user gave the thresholds.
    pub fn row_class(&self, best: f64, rivals: Option<f64>) -> Class {
        self.class_at(best, rivals, self.row_share())
    }

    /// [`LinkJob::row_class`] with the share of `row`'s kind ([`LinkJob::row_probability_of`]).
    pub fn row_class_of(&self, row: &PersonRecord, best: f64, rivals: Option<f64>) -> Class {
        self.class_at(best, rivals, self.kind_share(row_kind(row)))
    }

    fn class_at(&self, best: f64, rivals: Option<f64>, pi: f64) -> Class {
        if self.prior.thresholds_given {
            return self.class(best);
        }
        let (a, r, none) = self.row_terms(best, rivals, pi);
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
    /// job's prior. An estimated prior is first refined on the rows' candidates
    /// ([`LinkJob::refine_prior`]); a share the user gave is kept, for every row.
    pub fn link_all(&mut self, rows: &[PersonRecord], threads: usize) -> Vec<super::Link> {
        let mut links = super::link_many(&self.model, &self.index, rows, threads);
        if self.refine {
            let candidates: Vec<Option<(f64, Option<f64>)>> = links
                .iter()
                .map(|l| l.best.as_ref().map(|b| (b.score.weight, l.rivals)))
                .collect();
            self.refine_prior(rows, &candidates);
        }
        for (l, row) in links.iter_mut().zip(rows) {
            let rivals = l.rivals;
            if let Some(b) = &mut l.best {
                b.score.probability = self.row_probability_of(row, b.score.weight, rivals);
            }
            l.class = l.best.as_ref().map_or(Class::New, |b| {
                self.row_class_of(row, b.score.weight, rivals)
            });
        }
        links
    }

    /// Refines an estimated prior by expectation-maximisation over the rows' candidates
    /// (`candidates[i]`: row `i`'s best weight and rivals, `None` when it has none; each row is
    /// at most one register person).
    ///
    /// The share π of rows with a person in the register is not assumed the same for every
    /// row: a source's rows differ in what they carry, and rows that lack identifying fields
    /// (no date of birth, no personal number, no parents' names) may come from another part
    /// of the source than complete ones (a register's stubs, a list of people looked up by
    /// name) and have their person in the register more often, or less. One π for all rows
    /// makes every incomplete row pay the complete rows' odds: on the generic benchmark,
    /// where only copies of register people lack fields, rows whose best candidate had a row
    /// posterior between 0.1 and 0.99 were right 52 times in 57. So π is a logistic function
    /// of the row's kind, logit π = β₀ + Σ β_f · [the row lacks field f] over [`KIND_FIELDS`],
    /// and EM fits it: the E-step gives each row P(it has a person | its candidates, its π)
    /// = (π/N)·Σ2^w / ((1 − π) + (π/N)·Σ2^w) (0 without candidates), the M-step fits β to
    /// those soft labels by Newton's method, with a normal prior of standard deviation 2 on
    /// each β_f (not on β₀), so that a kind of few rows stays near the others (a field's
    /// absence moves the odds by about e² at one standard deviation). When every row is of
    /// one kind this is the job's single π refined as before; λ = (mean P)/N. The
    /// deterministic rules miss the true pairs they can not see (a typo in the number and in
    /// the name), and assuming they see all (Splink's recall 1.0) put the Match threshold
    /// about a bit too high on the generic benchmark; the weights themselves say how many rows
    /// have a match. The thresholds the user did not give follow the refined λ (they are the
    /// lone-candidate thresholds of a row of the job's overall share).
    pub fn refine_prior(
        &mut self,
        rows: &[PersonRecord],
        candidates: &[Option<(f64, Option<f64>)>],
    ) {
        const K: usize = KIND_FIELDS.len() + 1;
        /// 1/σ² of the normal prior on each field's coefficient (σ = 2).
        const PRECISION: f64 = 0.25;
        let n = self.index.len().max(1) as f64;
        // Rows by kind: how many, and the candidates of those that have any.
        let mut by: HashMap<u8, KindRows> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            let kind = if self.share_by_kind { row_kind(r) } else { 0 };
            let e = by.entry(kind).or_insert_with(|| KindRows {
                kind,
                rows: 0,
                candidates: Vec::new(),
            });
            e.rows += 1;
            if let Some(Some(c)) = candidates.get(i) {
                e.candidates.push(*c);
            }
        }
        let mut kinds: Vec<KindRows> = by.into_values().collect();
        kinds.sort_by_key(|k| (std::cmp::Reverse(k.rows), k.kind));
        let total_rows = rows.len().max(1) as f64;
        self.most = (rows.len().min(self.index.len()).max(1) as f64 / total_rows).min(1.0 - 1e-9);
        // EM starts from a share of one half for every kind: the likelihood of one share is
        // concave, so any start reaches its maximum, but from a share near 0 (the rules'
        // estimate when they find nothing) EM creeps out by a factor near 1 per iteration.
        let mut beta = [0.0; K];
        self.by_kind = Some(beta);
        let mut expected = 0.0;
        for _ in 0..1_000 {
            // E-step: the expected number of rows with a person, by kind.
            let soft: Vec<f64> = kinds
                .iter()
                .map(|k| {
                    let pi = self.kind_share(k.kind);
                    k.candidates
                        .iter()
                        .map(|&(w, r)| {
                            let (a, r, none) = self.row_terms(w, r, pi);
                            (a + r) / (none + a + r)
                        })
                        .sum()
                })
                .collect();
            let new_expected: f64 = soft.iter().sum();
            // M-step: Newton's method on the penalised log-likelihood
            // Σ_k [S_k log π_k + (n_k − S_k) log(1 − π_k)] − (PRECISION/2) Σ_f β_f².
            let old = beta;
            for _ in 0..50 {
                let mut grad = [0.0; K];
                let mut hess = [[0.0; K]; K];
                for (k, s) in kinds.iter().zip(&soft) {
                    let x = kind_features(k.kind);
                    let z: f64 = beta.iter().zip(&x).map(|(b, x)| b * x).sum();
                    let p = sigmoid(z);
                    let c = k.rows as f64;
                    for i in 0..K {
                        grad[i] += (s - c * p) * x[i];
                        for j in 0..K {
                            hess[i][j] += c * p * (1.0 - p) * x[i] * x[j];
                        }
                    }
                }
                for i in 1..K {
                    grad[i] -= PRECISION * beta[i];
                    hess[i][i] += PRECISION;
                }
                let Some(step) = solve(hess, grad) else { break };
                let mut moved = 0.0f64;
                for i in 0..K {
                    // A bounded step keeps Newton's method safe far from the optimum.
                    let d = step[i].clamp(-5.0, 5.0);
                    beta[i] += d;
                    moved = moved.max(d.abs());
                }
                if moved < 1e-10 {
                    break;
                }
            }
            self.by_kind = Some(beta);
            // Settled when no share moves by more than 1e-7 in logit (a relative change, so
            // that a share near 0 still growing is not taken for settled).
            let moved = beta
                .iter()
                .zip(&old)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            expected = new_expected;
            if moved < 1e-7 {
                break;
            }
        }
        let share = (expected / total_rows).clamp(1e-12, self.most);
        self.prior.lambda = (share / n).clamp(1e-15, 0.5);
        let pairs = total_rows * n;
        self.prior.expected_matches = self.prior.lambda * pairs;
        self.prior.source =
            "deterministic rules, refined by EM over the rows' candidates (by kind of row)".into();
        self.prior.thresholds = thresholds_of(&self.model, self.prior.lambda, n, self.given);
        self.prior.by_kind = kinds
            .iter()
            .map(|k| KindShare {
                lacks: KIND_FIELDS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| k.kind & (1 << i) != 0)
                    .map(|(_, f)| f.to_string())
                    .collect(),
                rows: k.rows,
                share: self.kind_share(k.kind),
                thresholds: Some(self.thresholds_at(self.kind_share(k.kind))),
            })
            .collect();
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
        s.probability = self.row_probability_of(row, s.weight, None);
        Some(s)
    }
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` when `a` is
/// singular.
fn solve<const K: usize>(mut a: [[f64; K]; K], mut b: [f64; K]) -> Option<[f64; K]> {
    for c in 0..K {
        let p = (c..K).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 || !a[p][c].is_finite() {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c];
        for r in c + 1..K {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; K];
    for c in (0..K).rev() {
        let s: f64 = (c + 1..K).map(|j| a[c][j] * x[j]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
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
