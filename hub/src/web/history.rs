//! Each node's sync history over the last day, for the chart on its page.
//!
//! The dashboard samples the same view `status.json` is written from (chain heads from the store,
//! the rest from heartbeats) every `Settings::history_every` and keeps the samples in memory,
//! one bounded ring per node (one day's worth). [`crate::status::Keeper`] writes the samples to
//! the store every few seconds (one value per node and hour) and reads them back when the hub
//! starts, so a restart leaves a gap in the chart, not a blank one. It is a picture of recent
//! behaviour, not a record: the op log is the record.

use crate::status::HubStatus;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How far back the history reaches.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The chart's resolution: one bar per hour.
pub const HOUR_MS: u64 = 3_600_000;

/// One sample of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ms: u64,
    /// The hub's acknowledged head of the node's chain.
    pub acked_seq: u64,
    /// Ops the node reported waiting, and the age of the oldest (0 when none wait).
    pub waiting: u64,
    pub lag_s: u64,
}

pub struct History {
    cap: usize,
    nodes: Mutex<HashMap<String, VecDeque<Sample>>>,
    /// Counts the rounds recorded, so that a keeper can tell whether anything changed.
    generation: AtomicU64,
}

impl History {
    pub fn new(every: Duration) -> History {
        let every = every.max(Duration::from_millis(100));
        History {
            cap: (WINDOW.as_millis() / every.as_millis()) as usize + 2,
            nodes: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Sample>>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many rounds were recorded (or restored) so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Puts back samples of node "m/n" kept before a restart: merged with those it holds, in
    /// time order, leaving out those older than [`WINDOW`] before `now_ms` and those beyond the
    /// ring's bound (the oldest).
    pub fn restore(&self, node: &str, samples: Vec<Sample>, now_ms: u64) {
        let from = now_ms.saturating_sub(WINDOW.as_millis() as u64);
        let mut nodes = self.lock();
        let q = nodes.entry(node.to_string()).or_default();
        let mut all: Vec<Sample> = q
            .drain(..)
            .chain(samples)
            .filter(|s| s.at_ms >= from)
            .collect();
        all.sort_by_key(|s| s.at_ms);
        all.dedup_by_key(|s| s.at_ms);
        let skip = all.len().saturating_sub(self.cap);
        q.extend(all.into_iter().skip(skip));
        if q.is_empty() {
            nodes.remove(node);
        }
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Every node's samples taken at or after `from_ms`, oldest first.
    pub fn since(&self, from_ms: u64) -> Vec<(String, Vec<Sample>)> {
        self.lock()
            .iter()
            .map(|(node, q)| {
                let v: Vec<Sample> = q.iter().filter(|s| s.at_ms >= from_ms).copied().collect();
                (node.clone(), v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Drops the samples older than [`WINDOW`] before `now_ms`, and the nodes left without any.
    pub fn prune(&self, now_ms: u64) {
        let from = now_ms.saturating_sub(WINDOW.as_millis() as u64);
        self.lock().retain(|_, q| {
            while q.front().is_some_and(|s| s.at_ms < from) {
                q.pop_front();
            }
            !q.is_empty()
        });
    }

    /// Takes one sample of every chain in `status`.
    pub fn record(&self, status: &HubStatus, now_ms: u64) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        let mut nodes = self.lock();
        for c in &status.chains {
            let waiting = c.unacked_ops.unwrap_or(0);
            let s = Sample {
                at_ms: now_ms,
                acked_seq: c.acked_seq,
                waiting,
                lag_s: if waiting > 0 {
                    c.oldest_unacked_age_s.unwrap_or(0)
                } else {
                    0
                },
            };
            let q = nodes.entry(c.node.clone()).or_default();
            while q.len() >= self.cap {
                q.pop_front();
            }
            q.push_back(s);
        }
    }

    /// The samples of node "m/n", oldest first.
    pub fn samples(&self, node: &str) -> Vec<Sample> {
        self.lock()
            .get(node)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// One hour of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hour {
    pub start_ms: u64,
    /// Ops the hub acknowledged in the hour.
    pub acked: u64,
    /// The largest lag sampled in the hour (None: no sample).
    pub max_lag_s: Option<u64>,
}

/// The last 24 hours before `now_ms`, oldest first.
pub fn hourly(samples: &[Sample], now_ms: u64) -> Vec<Hour> {
    let start = now_ms.saturating_sub(24 * HOUR_MS);
    let mut hours: Vec<Hour> = (0..24)
        .map(|i| Hour {
            start_ms: start + i * HOUR_MS,
            ..Default::default()
        })
        .collect();
    let slot = |at: u64| -> Option<usize> {
        (at >= start && at <= now_ms).then(|| (((at - start) / HOUR_MS) as usize).min(23))
    };
    for (i, s) in samples.iter().enumerate() {
        let Some(h) = slot(s.at_ms) else { continue };
        hours[h].max_lag_s = Some(hours[h].max_lag_s.unwrap_or(0).max(s.lag_s));
        if i > 0 {
            hours[h].acked += s.acked_seq.saturating_sub(samples[i - 1].acked_seq);
        }
    }
    hours
}

/// One bar of the chart.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: u64,
    pub y: u64,
    pub w: u64,
    pub h: u64,
    pub start_ms: u64,
    pub acked: u64,
    pub lag_s: Option<u64>,
}

/// The chart's geometry, drawn as inline SVG by `templates/chart.html`: bars of ops
/// acknowledged per hour, a line of the lag.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub w: u64,
    pub h: u64,
    pub bars: Vec<Bar>,
    /// The lag line's points, `x,y x,y ...` (empty when nothing was sampled).
    pub points: String,
    pub max_ops: u64,
    pub worst_lag_s: u64,
}

/// The chart of `hours`.
pub fn chart(hours: &[Hour]) -> Chart {
    const W: u64 = 720;
    const H: u64 = 150;
    const TOP: u64 = 14;
    let plot = H - TOP - 18;
    let bar_w = W / hours.len().max(1) as u64;
    let max_ops = hours.iter().map(|h| h.acked).max().unwrap_or(0).max(1);
    let worst_lag = hours.iter().filter_map(|h| h.max_lag_s).max().unwrap_or(0);
    let max_lag = worst_lag.max(1);
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let bh = h.acked * plot / max_ops;
            Bar {
                x: i as u64 * bar_w + 1,
                y: TOP + plot - bh,
                w: bar_w.saturating_sub(2),
                h: bh,
                start_ms: h.start_ms,
                acked: h.acked,
                lag_s: h.max_lag_s,
            }
        })
        .collect();
    let points: Vec<String> = hours
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            h.max_lag_s.map(|l| {
                format!(
                    "{},{}",
                    i as u64 * bar_w + bar_w / 2,
                    TOP + plot - l.min(max_lag) * plot / max_lag
                )
            })
        })
        .collect();
    Chart {
        w: W,
        h: H,
        bars,
        points: points.join(" "),
        max_ops,
        worst_lag_s: worst_lag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_ms: u64, acked_seq: u64, lag_s: u64) -> Sample {
        Sample {
            at_ms,
            acked_seq,
            waiting: u64::from(lag_s > 0),
            lag_s,
        }
    }

    #[test]
    fn hours_sum_acknowledgements_and_keep_the_worst_lag() {
        let now = 100 * HOUR_MS;
        let samples = [
            s(now - 30 * HOUR_MS, 1, 0), // too old: only a baseline
            s(now - 2 * HOUR_MS + 10, 5, 7),
            s(now - 2 * HOUR_MS + 20, 9, 3),
            s(now - 10, 12, 0),
        ];
        let h = hourly(&samples, now);
        assert_eq!(h.len(), 24);
        assert_eq!(h[22].acked, 8);
        assert_eq!(h[22].max_lag_s, Some(7));
        assert_eq!(h[23].acked, 3);
        assert_eq!(h[0].max_lag_s, None);
        let svg = super::super::templates::render(
            "chart.html",
            minijinja::context! { chart => minijinja::Value::from_serialize(chart(&h)), lang => "en" },
        )
        .expect("the chart renders");
        let svg = svg.trim();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("class=\"ops\"").count(), 24);
        assert!(svg.contains("8 ops acknowledged, lag 7 s"), "{svg}");
        assert!(svg.contains("not sampled"), "{svg}");
    }

    #[test]
    fn ring_is_bounded() {
        let hist = History::new(Duration::from_secs(3600));
        let st = HubStatus {
            written_ms: 0,
            chains: vec![crate::status::ChainStatus {
                node: "istog/1".into(),
                acked_seq: 3,
                ..Default::default()
            }],
        };
        for i in 0..100 {
            hist.record(&st, i);
        }
        assert_eq!(hist.samples("istog/1").len(), 26);
        assert!(hist.samples("istog/2").is_empty());
    }
}
