//! Measuring a matcher against the truth of a generated population.
//!
//! [`LinkageSet`] turns generated records into the matcher's [`PersonRecord`]s (the principals:
//! child, deceased, spouses), with each one's entity number, and the planted duplicate pairs
//! (each principal of a duplicate with the same role of its original). [`LinkageSet::evaluate`]
//! scores predicted pairs:
//!
//! * **precision**: predicted pairs whose two records are the same entity (a planted duplicate,
//!   or a person's birth, marriage and death records, which are true links too);
//! * **recall (planted)**: planted pairs predicted;
//! * **recall (all)**: same-entity pairs predicted, out of all of them.

use super::corrupt::CorruptionKind;
use super::population::SynthRecord;
use crate::linkage::{CandidatePair, PersonRecord};
use crate::model::ShapeError;
use ring::hmac;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// People of a generated population, with the truth.
#[derive(Debug, Default)]
pub struct LinkageSet {
    pub people: Vec<PersonRecord>,
    /// Entity number of each person.
    pub entity: Vec<u64>,
    /// Planted pairs (duplicate's person, original's person) and the duplicate's corruptions.
    pub planted: Vec<(usize, usize, Vec<CorruptionKind>)>,
    pub records: u64,
    pub duplicates: u64,
}

/// Precision and recall at one threshold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Quality {
    pub threshold: f64,
    pub predicted: u64,
    pub true_positives: u64,
    pub precision: f64,
    pub planted: u64,
    pub planted_found: u64,
    pub recall_planted: f64,
    pub same_entity_pairs: u64,
    pub recall_all: f64,
    pub f1_planted: f64,
    /// Per corruption kind: (kind, planted pairs with it, found).
    pub by_corruption: Vec<(CorruptionKind, u64, u64)>,
}

/// The blind token the tests and the benchmark use: HMAC-SHA256 under a fixed key, as the hub
/// computes it under its own.
pub fn test_token(scheme: &str, number: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"civreg synthetic linkage test key");
    let tag = hmac::sign(&key, format!("{scheme}|{number}").as_bytes());
    hex::encode(&tag.as_ref()[..16])
}

impl LinkageSet {
    /// Collects the principals of `records` (streamed) with their truth.
    pub fn from_records(
        records: impl IntoIterator<Item = SynthRecord>,
    ) -> Result<LinkageSet, ShapeError> {
        let mut set = LinkageSet::default();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for r in records {
            set.records += 1;
            let rec = r.record()?;
            let people = PersonRecord::from_record(&r.id, &rec, test_token);
            let first = set.people.len();
            for p in people {
                let role = p.id.rsplit('/').next().unwrap_or_default().to_string();
                if !matches!(role.as_str(), "child" | "deceased" | "spouse1" | "spouse2") {
                    continue;
                }
                let e = r.truth.entities.get(&role).copied().unwrap_or(0);
                by_id.insert(p.id.clone(), set.people.len());
                set.entity.push(e);
                set.people.push(p);
            }
            if let Some(orig) = &r.truth.duplicate_of {
                set.duplicates += 1;
                let kinds: Vec<CorruptionKind> =
                    r.truth.corruptions.iter().map(|c| c.kind).collect();
                for i in first..set.people.len() {
                    let role = set.people[i].id.rsplit('/').next().unwrap_or_default();
                    if let Some(&o) = by_id.get(&format!("{orig}/{role}")) {
                        set.planted.push((i, o, kinds.clone()));
                    }
                }
            }
        }
        Ok(set)
    }

    /// Pairs of people with the same entity.
    pub fn same_entity_pairs(&self) -> u64 {
        let mut n: HashMap<u64, u64> = HashMap::new();
        for &e in &self.entity {
            *n.entry(e).or_default() += 1;
        }
        n.values().map(|&k| k * (k - 1) / 2).sum()
    }

    /// Quality of the predicted `pairs` with weight ≥ `threshold`.
    pub fn evaluate(&self, pairs: &[CandidatePair], threshold: f64) -> Quality {
        let kept: Vec<&CandidatePair> = pairs.iter().filter(|p| p.weight >= threshold).collect();
        let found: HashSet<(usize, usize)> =
            kept.iter().map(|p| (p.a.min(p.b), p.a.max(p.b))).collect();
        let tp = kept
            .iter()
            .filter(|p| self.entity[p.a] == self.entity[p.b])
            .count() as u64;
        let mut by: HashMap<CorruptionKind, (u64, u64)> = HashMap::new();
        let mut planted_found = 0;
        for (a, b, kinds) in &self.planted {
            let hit = found.contains(&((*a).min(*b), (*a).max(*b)));
            planted_found += u64::from(hit);
            for k in kinds {
                let e = by.entry(*k).or_default();
                e.0 += 1;
                e.1 += u64::from(hit);
            }
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, kept.len() as u64);
        let recall_planted = ratio(planted_found, self.planted.len() as u64);
        let same = self.same_entity_pairs();
        let mut by_corruption: Vec<(CorruptionKind, u64, u64)> =
            by.into_iter().map(|(k, (n, f))| (k, n, f)).collect();
        by_corruption.sort_by_key(|(k, _, _)| k.as_str());
        Quality {
            threshold,
            predicted: kept.len() as u64,
            true_positives: tp,
            precision,
            planted: self.planted.len() as u64,
            planted_found,
            recall_planted,
            same_entity_pairs: same,
            recall_all: ratio(tp, same),
            f1_planted: if precision + recall_planted > 0.0 {
                2.0 * precision * recall_planted / (precision + recall_planted)
            } else {
                0.0
            },
            by_corruption,
        }
    }
}
