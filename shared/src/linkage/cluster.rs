//! Cluster evidence for [`super::dedupe`]: a pair whose own weight is under Match, or that no
//! blocking rule compared, is a Match when the records joined to both at Match make it one.
//!
//! A register holds one person in several records, and the pair of two corrupted copies of one
//! record often carries both copies' errors (a typo in each name, a missing date on one and a
//! mistyped number on the other): its own comparison is weak, or no blocking key is shared at
//! all, while each copy matches the original with confidence. Pairwise classification loses
//! such pairs; a reviewer looking at the three records would not.
//!
//! The records are grouped into clusters: the connected components of the pairs at Match. In a
//! cluster of at most [`CLUSTER_CAP`] records, every pair is compared (the pairs no rule
//! blocked are compared here), and a pair (a, b) under Match gets the posterior
//!
//! ```text
//! odds(a = b) = odds(P(path)) · 2^w(a, b)
//! ```
//!
//! where P(path) is the largest product of the Match posteriors along a path of Match pairs
//! from a to b (a = c and c = b are both true with at least that probability, and then a = b),
//! and 2^w(a, b) the pair's own likelihood ratio, which lowers it where the two records
//! disagree (a third record that matched two different people is a weak link: their own
//! comparison, strongly negative, keeps them apart). A Match posterior of a pair is its
//! weight's: logit2(p) = w − Match threshold + logit2(match probability), so a pair at the
//! threshold has the model's match probability. The pair is a Match when the posterior reaches
//! the match probability. This takes the pair's own comparison as independent of the path's
//! (the fields of the three records are), an approximation that credits a weak positive weight
//! slightly too much: two pairs at the very threshold give P(path) = 0.98, under 0.99, so a
//! pair needs a path that is more than just at Match, or agreeing evidence of its own.
//!
//! **Two records of one surname whose given names differ outright are never joined by their
//! cluster.** The fields are not independent where the records are relatives: siblings share
//! the surname, the parents' names, the place and often the year, so one pairwise Match
//! between a child's record and a sibling's mistyped copy (a false Match of the pair model)
//! made the child and the sibling "one person" with a high posterior, their own comparison
//! (given name different, every family field agreeing) being no veto. On the project's
//! population every pair the cluster step joined wrongly was such a pair of siblings. A pair
//! whose given names agree at some level, or whose surnames differ too (names swapped in one
//! record and mistyped, so that neither order agrees), or where a name is missing, may be
//! joined.
//!
//! Clusters larger than [`CLUSTER_CAP`] records (chains of links, counted in
//! [`ClusterStats::skipped_clusters`]) are left pairwise: their pairs are classed by weight.

use super::block::Blocks;
use super::compare::{compare, GIVEN_DIFFERENT, NAME_ONE_TYPO, SURNAME_OTHER};
use super::model::Prepared;
use super::{CandidatePair, Model, Thresholds};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The largest cluster whose pairs are classed together (every pair of it is compared).
pub const CLUSTER_CAP: usize = 32;

/// What the cluster step of [`super::dedupe`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Clusters (connected components of the pairs at Match) of three records or more.
    pub clusters: u64,
    pub largest: u64,
    /// Clusters over [`CLUSTER_CAP`], left pairwise.
    pub skipped_clusters: u64,
    /// Pairs inside clusters that no blocking rule compared, compared here.
    pub compared: u64,
    /// Pairs under Match by weight that their cluster classes Match.
    pub matched: u64,
}

fn logit2(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// log2 of the logistic of `l` (in bits): log2 P for log-odds `l`, without overflow.
fn log2_prob(l: f64) -> f64 {
    if l > 0.0 {
        -(-l).exp2().ln_1p() / std::f64::consts::LN_2
    } else {
        l - l.exp2().ln_1p() / std::f64::consts::LN_2
    }
}

fn prob(l: f64) -> f64 {
    1.0 / (1.0 + (-l).exp2())
}

struct Dsu(Vec<u32>);

impl Dsu {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let up = self.0[self.0[x as usize] as usize];
            self.0[x as usize] = up;
            x = up;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb) as usize] = ra.min(rb);
        }
    }
}

/// The cluster step: `scored` holds every blocked pair with weight at least the Match
/// threshold (and maybe lighter ones). Returns the pairs of clusters that were not in
/// `scored` (compared here, `blocked: false`), and, for pairs under Match that their cluster
/// classes Match (in `scored` or new), their posterior in `cluster`.
pub(crate) fn classify(
    model: &Model,
    prepared: &Prepared,
    blocks: &Blocks,
    scored: &mut Vec<CandidatePair>,
    thresholds: Thresholds,
) -> ClusterStats {
    let n = prepared.preps.len();
    let mut stats = ClusterStats::default();
    let matched = thresholds.matched;
    let target = logit2(model.match_probability);
    // log-odds in bits of a pair of weight w
    let odds = |w: f64| w - matched + target;
    let mut dsu = Dsu((0..n as u32).collect());
    for p in scored.iter().filter(|p| p.weight >= matched) {
        dsu.union(p.a as u32, p.b as u32);
    }
    let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in scored.iter().filter(|p| p.weight >= matched) {
        for x in [p.a as u32, p.b as u32] {
            members.entry(dsu.find(x)).or_default().push(x);
        }
    }
    let index: HashMap<(u32, u32), usize> = scored
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.a.min(p.b) as u32, p.a.max(p.b) as u32), i))
        .collect();
    let mut roots: Vec<u32> = members.keys().copied().collect();
    roots.sort_unstable();
    let t = &prepared.tables;
    let mut added: Vec<CandidatePair> = Vec::new();
    for root in roots {
        let mut m = members.remove(&root).unwrap_or_default();
        m.sort_unstable();
        m.dedup();
        let k = m.len();
        if k < 3 {
            continue;
        }
        stats.clusters += 1;
        stats.largest = stats.largest.max(k as u64);
        if k > CLUSTER_CAP {
            stats.skipped_clusters += 1;
            continue;
        }
        // Every pair's weight (scored, or compared now), and whether its given names differ.
        let mut w = vec![vec![0.0f64; k]; k];
        let mut differ = vec![vec![false; k]; k];
        let mut at: Vec<Vec<Option<usize>>> = vec![vec![None; k]; k];
        for i in 0..k {
            for j in i + 1..k {
                let (a, b) = (m[i], m[j]);
                let scored_at = index.get(&(a, b)).copied();
                if scored_at.is_some_and(|x| scored[x].weight >= matched) {
                    w[i][j] = scored[scored_at.unwrap_or_default()].weight;
                    w[j][i] = w[i][j];
                    continue;
                }
                let c = compare(
                    t,
                    &prepared.preps[a as usize],
                    t,
                    &prepared.preps[b as usize],
                );
                let weight = model.weight(&c);
                if scored_at.is_none() && !blocks.compares(a as usize, b as usize) {
                    stats.compared += 1;
                }
                at[i][j] = scored_at;
                // A given name only one typo apart is "different" here too: short names of
                // siblings are often one letter apart (Ali, Ari).
                differ[i][j] = matches!(c.gamma[0], GIVEN_DIFFERENT | NAME_ONE_TYPO)
                    && c.gamma[1] <= SURNAME_OTHER;
                w[i][j] = weight;
                w[j][i] = weight;
            }
        }
        // Best path: the largest sum of log2 P over Match pairs (Floyd-Warshall, k ≤ the cap).
        let mut best = vec![vec![f64::NEG_INFINITY; k]; k];
        for i in 0..k {
            best[i][i] = 0.0;
            for j in 0..k {
                if i != j && w[i][j] >= matched {
                    best[i][j] = log2_prob(odds(w[i][j]));
                }
            }
        }
        for via in 0..k {
            let through = best[via].clone();
            for row in best.iter_mut() {
                let iv = row[via];
                if iv == f64::NEG_INFINITY {
                    continue;
                }
                for (x, &vj) in row.iter_mut().zip(&through) {
                    if iv + vj > *x {
                        *x = iv + vj;
                    }
                }
            }
        }
        for i in 0..k {
            for j in i + 1..k {
                if w[i][j] >= matched || best[i][j] == f64::NEG_INFINITY || differ[i][j] {
                    continue;
                }
                // logit2 of the path's probability 2^lp
                let lp = best[i][j];
                let path = lp - (-(lp.exp2())).ln_1p() / std::f64::consts::LN_2;
                let posterior = path + w[i][j];
                let cluster = (posterior >= target).then(|| prob(posterior));
                if cluster.is_some() {
                    stats.matched += 1;
                }
                match at[i][j] {
                    Some(x) => scored[x].cluster = cluster,
                    None => added.push(CandidatePair {
                        a: m[i] as usize,
                        b: m[j] as usize,
                        weight: w[i][j],
                        cluster,
                        blocked: blocks.compares(m[i] as usize, m[j] as usize),
                    }),
                }
            }
        }
    }
    scored.extend(added);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_prob_is_the_log_of_the_logistic() {
        for l in [-40.0, -3.0, 0.0, 2.5, 40.0] {
            let direct = prob(l).log2();
            assert!(
                (log2_prob(l) - direct).abs() < 1e-9,
                "{l}: {}",
                log2_prob(l)
            );
        }
        assert!((prob(logit2(0.99)) - 0.99).abs() < 1e-12);
    }
}
