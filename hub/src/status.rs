//! Node liveness: what the hub last heard from each node (heartbeats, refusals by the rollout),
//! and the hub's status built from it and the store's chain heads, which `civreg-hub status`, the
//! control socket and the dashboard show. The Sync service writes it; everything else reads it.
//! [`Keeper`] keeps it, the push errors and the dashboard's 24-hour history in the store across
//! restarts (`aux` prefix `dash/`).

use crate::metrics::{Metrics, NodeError};
use crate::store::{aux, AuxWrite, HubStore};
use crate::web::history::{self, History, Sample};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tracing::{info, warn};

/// What the hub last heard from a node (kept across restarts by [`Keeper`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NodeSeen {
    pub last_seen_ms: u64,
    pub version: String,
    pub unacked_ops: u64,
    pub oldest_unacked_age_s: u64,
    pub clock_offset_ms: i64,
    pub free_disk_bytes: u64,
    /// The last time the rollout refused this node, and why.
    pub last_refusal: Option<String>,
    pub last_refusal_ms: Option<u64>,
    /// Why the node has stopped registering, as its last heartbeat said (empty: it has not).
    pub halted: String,
    /// The node's sync interval, as its last heartbeat said (0: not told, or no schedule).
    pub sync_interval_ms: u64,
    /// The node's last backup (ms; 0: none reported) and why its last one failed (issue 17).
    pub backup_at_ms: u64,
    pub backup_error: String,
    /// Why the node's feed is held back (an op it can not read, `PullRequest.reads_format`);
    /// empty: nothing held back at its last pull.
    pub held_back: String,
}

/// The longest sync interval the hub believes (a day): a larger claim is taken as this.
pub const MAX_SYNC_INTERVAL_MS: u64 = 86_400_000;

/// What the hub last heard from every node, keyed `municipality/node_id`: one per hub process,
/// shared by the Sync service (which writes it) and the control socket, the dashboard and the
/// status file (which read it).
#[derive(Debug, Default)]
pub struct Liveness {
    nodes: Mutex<HashMap<String, NodeSeen>>,
}

impl Liveness {
    pub fn new() -> Arc<Liveness> {
        Arc::new(Liveness::default())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, NodeSeen>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes what is known of node `m/n`, creating its entry if the hub never heard from it.
    pub fn note<R>(&self, m: &str, n: &str, f: impl FnOnce(&mut NodeSeen) -> R) -> R {
        f(self.lock().entry(format!("{m}/{n}")).or_default())
    }

    /// The rollout admits node `m/n` again: a refusal noted before is over and no longer shown.
    /// True if there was one.
    pub fn admitted_again(&self, m: &str, n: &str) -> bool {
        let mut nodes = self.lock();
        match nodes.get_mut(&format!("{m}/{n}")) {
            Some(e) => {
                e.last_refusal_ms = None;
                e.last_refusal.take().is_some()
            }
            None => false,
        }
    }

    /// Puts back what was heard of node "m/n" before a restart, unless it was heard from since.
    pub fn restore(&self, node: &str, seen: NodeSeen) {
        self.lock().entry(node.to_string()).or_insert(seen);
    }

    /// What is known of every node, as of now.
    pub fn snapshot(&self) -> HashMap<String, NodeSeen> {
        self.lock().clone()
    }

    /// The hub's status: chain heads from `store`, the rest from what was heard.
    pub fn status(&self, store: &HubStore) -> HubStatus {
        hub_status(store, &self.lock())
    }
}

/// What `civreg-hub status` shows while the hub runs (it holds the database, so the command
/// reads this file, rewritten every two seconds).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct HubStatus {
    pub written_ms: u64,
    pub chains: Vec<ChainStatus>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ChainStatus {
    pub node: String,
    pub acked_seq: u64,
    pub last_seen_ms: Option<u64>,
    pub unacked_ops: Option<u64>,
    pub oldest_unacked_age_s: Option<u64>,
    pub clock_offset_ms: Option<i64>,
    pub free_disk_bytes: Option<u64>,
    pub version: Option<String>,
    /// Set when the clock is off by more than the merge lets a clock lead (five minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_warning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refusal_ms: Option<u64>,
    /// The node has stopped registering, and why (from its heartbeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
    /// The node's sync interval in milliseconds, from its heartbeat (absent: not told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_interval_ms: Option<u64>,
    /// The node's last backup and why its last one failed, from its heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_error: Option<String>,
    /// The node's feed waits at an op it can not read: it must be upgraded (from its pulls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back: Option<String>,
}

fn human_ms(ms: u64) -> String {
    match ms / 1000 {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The hub's view of every node: chain heads from the store, the rest from heartbeats.
pub fn hub_status(store: &HubStore, seen: &HashMap<String, NodeSeen>) -> HubStatus {
    let mut chains: Vec<ChainStatus> = store
        .heads()
        .into_iter()
        .map(|(node, h)| ChainStatus {
            node,
            acked_seq: h.seq,
            ..Default::default()
        })
        .collect();
    for (node, s) in seen {
        let c = match chains.iter_mut().find(|c| &c.node == node) {
            Some(c) => c,
            None => {
                chains.push(ChainStatus {
                    node: node.clone(),
                    ..Default::default()
                });
                chains.last_mut().expect("just pushed")
            }
        };
        c.last_refusal = s.last_refusal.clone();
        c.last_refusal_ms = s.last_refusal_ms;
        c.held_back = (!s.held_back.is_empty()).then(|| s.held_back.clone());
        if s.last_seen_ms == 0 {
            // Refused before it ever got through.
            continue;
        }
        c.last_seen_ms = Some(s.last_seen_ms);
        c.unacked_ops = Some(s.unacked_ops);
        c.oldest_unacked_age_s = Some(s.oldest_unacked_age_s);
        c.clock_offset_ms = Some(s.clock_offset_ms);
        c.free_disk_bytes = Some(s.free_disk_bytes);
        c.version = Some(s.version.clone());
        c.halted = (!s.halted.is_empty()).then(|| s.halted.clone());
        c.sync_interval_ms = (s.sync_interval_ms > 0).then_some(s.sync_interval_ms);
        c.backup_at_ms = (s.backup_at_ms > 0).then_some(s.backup_at_ms);
        c.backup_error = (!s.backup_error.is_empty()).then(|| s.backup_error.clone());
        if s.clock_offset_ms.unsigned_abs() > civreg_shared::op::MAX_CLOCK_AHEAD_MS {
            c.clock_warning = Some(format!(
                "this PC's clock is {} the hub's by {}: fix its date and time; its edits win ties they should not",
                if s.clock_offset_ms > 0 { "ahead of" } else { "behind" },
                human_ms(s.clock_offset_ms.unsigned_abs())
            ));
        }
    }
    chains.sort_by(|a, b| a.node.cmp(&b.node));
    HubStatus {
        written_ms: now_ms(),
        chains,
    }
}

pub async fn write_status_loop(data_dir: PathBuf, store: Arc<HubStore>, seen: Arc<Liveness>) {
    loop {
        let st = seen.status(&store);
        let path = crate::paths::status_path(&data_dir);
        if let Ok(b) = serde_json::to_vec_pretty(&st) {
            let public = civreg_runtime::fs::Mode::Public;
            if civreg_runtime::fs::write_atomic(&path, &b, public).is_err() {
                warn!(path = %path.display(), "could not write the status file");
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

use civreg_runtime::clock::now_ms;

// ---------------------------------------------------------------------------------------------
// What the dashboard shows, kept across restarts (issue 17)
// ---------------------------------------------------------------------------------------------

/// How often [`keep_loop`] writes what changed.
pub const KEEP_EVERY: Duration = Duration::from_secs(5);

/// `dash/seen/M/N` (under [`aux::DASHBOARD`]): what the hub last heard from node M/N and the
/// last errors its pushes ended with.
const SEEN: &str = "seen/";
/// `dash/hist/M/N/HOUR`: node M/N's history samples of the hour that starts at HOUR (Unix ms,
/// 16 hex digits).
const HIST: &str = "hist/";

/// One node's `dash/seen/` value.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptNode {
    seen: NodeSeen,
    /// Oldest first.
    #[serde(default)]
    errors: Vec<NodeError>,
}

fn digest(v: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn hour_of(at_ms: u64) -> u64 {
    at_ms - at_ms % history::HOUR_MS
}

fn hist_key(node: &str, hour: u64) -> Vec<u8> {
    aux::aux_key(aux::DASHBOARD, &format!("{HIST}{node}/{hour:016x}"))
}

/// Keeps what the dashboard shows of each node in the store's `aux` space, so that a restart
/// does not blank it: what the hub last heard (heartbeat, refusal), the last errors its pushes
/// ended with ([`Metrics::node_errors`]), and its 24-hour history ([`History`], one value per
/// node and hour). [`Keeper::load`] reads it back when `serve` starts; [`Keeper::save`] (every
/// [`KEEP_EVERY`], off the request path) writes only what changed and removes history older
/// than [`history::WINDOW`].
#[derive(Default)]
pub struct Keeper {
    /// Key → digest of the value in the store under it.
    written: HashMap<Vec<u8>, u64>,
    /// The history hours in the store, per node.
    hours: BTreeMap<String, BTreeSet<u64>>,
    /// The history's generation at the last save.
    history_gen: u64,
    /// Per node, the newest history sample in the store.
    newest: HashMap<String, u64>,
    /// The last save failed (it is said once, not every round).
    failing: bool,
}

impl Keeper {
    /// Reads what an earlier run kept into `seen`, `metrics` and `history` (that have heard
    /// nothing yet), dropping errors and history older than a day before `now_ms`, and
    /// removes from the store what it dropped or could not read. Never fails: what can not be
    /// read is logged and left out.
    pub fn load(
        store: &HubStore,
        seen: &Liveness,
        metrics: &Metrics,
        history: Option<&History>,
        now_ms: u64,
    ) -> Keeper {
        let from = now_ms.saturating_sub(history::WINDOW.as_millis() as u64);
        let mut k = Keeper::default();
        let mut drop: Vec<AuxWrite> = Vec::new();
        let seen_prefix = aux::aux_key(aux::DASHBOARD, SEEN);
        for kv in store.aux_scan(&seen_prefix) {
            let (key, v) = match kv {
                Ok(kv) => kv,
                Err(e) => {
                    warn!(error = %e, "could not read what the dashboard kept of the nodes; it starts again");
                    break;
                }
            };
            let node = String::from_utf8_lossy(&key[seen_prefix.len()..]).into_owned();
            match serde_json::from_slice::<KeptNode>(&v) {
                Ok(mut kept) => {
                    kept.errors.retain(|e| e.at_ms >= from);
                    metrics.restore_node_errors(&node, kept.errors);
                    seen.restore(&node, kept.seen);
                    k.written.insert(key, digest(&v));
                }
                Err(e) => {
                    warn!(node, error = %e, "unreadable dashboard state of a node: left out");
                    drop.push((key, None));
                }
            }
        }
        let hist_prefix = aux::aux_key(aux::DASHBOARD, HIST);
        for kv in store.aux_scan(&hist_prefix) {
            let (key, v) = match kv {
                Ok(kv) => kv,
                Err(e) => {
                    warn!(error = %e, "could not read the nodes' 24-hour history; it starts again");
                    break;
                }
            };
            let rest = String::from_utf8_lossy(&key[hist_prefix.len()..]).into_owned();
            let parsed = rest
                .rsplit_once('/')
                .and_then(|(n, h)| Some((n.to_string(), u64::from_str_radix(h, 16).ok()?)));
            let Some((node, hour)) = parsed else {
                drop.push((key, None));
                continue;
            };
            if hour.saturating_add(history::HOUR_MS) <= from {
                drop.push((key, None));
                continue;
            }
            match serde_json::from_slice::<Vec<Sample>>(&v) {
                Ok(samples) => {
                    let newest = samples.iter().map(|s| s.at_ms).max().unwrap_or(0);
                    let n = k.newest.entry(node.clone()).or_default();
                    *n = (*n).max(newest);
                    if let Some(h) = history {
                        h.restore(&node, samples, now_ms);
                    }
                    k.hours.entry(node).or_default().insert(hour);
                    k.written.insert(key, digest(&v));
                }
                Err(e) => {
                    warn!(node, error = %e, "unreadable history of a node: left out");
                    drop.push((key, None));
                }
            }
        }
        if !drop.is_empty() {
            if let Err(e) = store.aux_write(&drop) {
                warn!(error = %e, "could not remove the dashboard's old history from the store");
            }
        }
        k.history_gen = history.map(History::generation).unwrap_or(0);
        k
    }

    /// Writes what changed since the last save (one atomic write), and removes history hours
    /// older than a day before `now_ms`. Returns how many keys it wrote or removed.
    pub fn save(
        &mut self,
        store: &HubStore,
        seen: &Liveness,
        metrics: &Metrics,
        history: Option<&History>,
        now_ms: u64,
    ) -> Result<usize, crate::store::StoreError> {
        let mut writes: Vec<AuxWrite> = Vec::new();
        let mut digests: Vec<(Vec<u8>, Option<u64>)> = Vec::new();
        let mut stage = |key: Vec<u8>, v: Option<Vec<u8>>, written: &HashMap<Vec<u8>, u64>| {
            let d = v.as_deref().map(digest);
            if written.get(&key).copied() != d {
                digests.push((key.clone(), d));
                writes.push((key, v));
            }
        };
        let mut errors = metrics.all_node_errors();
        for (node, s) in seen.snapshot() {
            let kept = KeptNode {
                seen: s,
                errors: errors.remove(&node).unwrap_or_default(),
            };
            let v = serde_json::to_vec(&kept)
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
            stage(
                aux::aux_key(aux::DASHBOARD, &format!("{SEEN}{node}")),
                Some(v),
                &self.written,
            );
        }
        for (node, errors) in errors {
            let kept = KeptNode {
                seen: NodeSeen::default(),
                errors,
            };
            let v = serde_json::to_vec(&kept)
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
            stage(
                aux::aux_key(aux::DASHBOARD, &format!("{SEEN}{node}")),
                Some(v),
                &self.written,
            );
        }
        let mut new_hours: Vec<(String, u64)> = Vec::new();
        let mut newest: Vec<(String, u64)> = Vec::new();
        let history_gen = history.map(History::generation).unwrap_or(0);
        if let Some(h) = history.filter(|_| history_gen != self.history_gen) {
            // Only the hours from that of a node's first sample not yet in the store on are
            // written again.
            for (node, samples) in h.since(0) {
                let done = self.newest.get(&node).copied();
                let Some(first) = samples.iter().find(|s| done.is_none_or(|d| s.at_ms > d)) else {
                    continue;
                };
                let from = hour_of(first.at_ms);
                let mut by_hour: BTreeMap<u64, Vec<Sample>> = BTreeMap::new();
                for s in samples.iter().filter(|s| s.at_ms >= from) {
                    by_hour.entry(hour_of(s.at_ms)).or_default().push(*s);
                }
                newest.push((node.clone(), samples.last().map(|s| s.at_ms).unwrap_or(0)));
                for (hour, samples) in by_hour {
                    let v = serde_json::to_vec(&samples)
                        .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
                    stage(hist_key(&node, hour), Some(v), &self.written);
                    new_hours.push((node.clone(), hour));
                }
            }
        }
        let from = now_ms.saturating_sub(history::WINDOW.as_millis() as u64);
        let mut old: Vec<(String, u64)> = Vec::new();
        for (node, hours) in &self.hours {
            for hour in hours {
                if hour.saturating_add(history::HOUR_MS) <= from {
                    old.push((node.clone(), *hour));
                    stage(hist_key(node, *hour), None, &self.written);
                }
            }
        }
        if !writes.is_empty() {
            store.aux_write(&writes)?;
        }
        for (key, d) in digests {
            match d {
                Some(d) => self.written.insert(key, d),
                None => self.written.remove(&key),
            };
        }
        for (node, hour) in new_hours {
            self.hours.entry(node).or_default().insert(hour);
        }
        self.newest.extend(newest);
        for (node, hour) in old {
            if let Some(hours) = self.hours.get_mut(&node) {
                hours.remove(&hour);
            }
        }
        if let Some(h) = history {
            h.prune(now_ms);
        }
        self.history_gen = history_gen;
        Ok(writes.len())
    }

    /// [`Keeper::save`], logging a failure (once until a save succeeds) instead of returning
    /// it: the store may refuse a write, sync goes on and the next round tries again.
    pub fn save_logged(
        &mut self,
        store: &HubStore,
        seen: &Liveness,
        metrics: &Metrics,
        history: Option<&History>,
        now_ms: u64,
    ) {
        match self.save(store, seen, metrics, history, now_ms) {
            Ok(_) if self.failing => {
                info!("the dashboard's history and errors are kept in the store again");
                self.failing = false;
            }
            Ok(_) => {}
            Err(e) if !self.failing => {
                warn!(error = %e, every_s = KEEP_EVERY.as_secs(), "could not keep the dashboard's history and errors in the store; trying again (sync goes on)");
                self.failing = true;
            }
            Err(_) => {}
        }
    }
}

/// What [`keep_loop`] keeps, and where from.
#[derive(Clone)]
pub struct Kept {
    pub keeper: Arc<Mutex<Keeper>>,
    pub store: Arc<HubStore>,
    pub seen: Arc<Liveness>,
    pub metrics: Arc<Metrics>,
    pub history: Option<Arc<History>>,
}

impl Kept {
    /// Saves now, on a blocking thread.
    pub async fn save(&self) {
        let k = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            k.keeper
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .save_logged(
                    &k.store,
                    &k.seen,
                    &k.metrics,
                    k.history.as_deref(),
                    now_ms(),
                )
        })
        .await;
    }
}

/// Saves what changed every [`KEEP_EVERY`], until the task is dropped.
pub async fn keep_loop(kept: Kept) {
    let mut tick = tokio::time::interval(KEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        kept.save().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = history::HOUR_MS;

    fn store() -> HubStore {
        HubStore::open_memory(crate::atrest::keys_from_master(&[7; 32])).unwrap()
    }

    fn status(acked: u64) -> HubStatus {
        HubStatus {
            written_ms: 0,
            chains: vec![ChainStatus {
                node: "istog/1".into(),
                acked_seq: acked,
                unacked_ops: Some(2),
                oldest_unacked_age_s: Some(40),
                ..Default::default()
            }],
        }
    }

    fn hist_keys(store: &HubStore) -> Vec<String> {
        store
            .aux_scan(&aux::aux_key(aux::DASHBOARD, HIST))
            .map(|kv| String::from_utf8(kv.unwrap().0).unwrap())
            .collect()
    }

    #[test]
    fn what_was_heard_errors_and_history_come_back_after_a_restart() {
        let store = store();
        let t0 = 1_000 * HOUR;
        let (seen, metrics, hist) = (
            Liveness::new(),
            Metrics::default(),
            History::new(Duration::from_secs(60)),
        );
        let mut k = Keeper::load(&store, &seen, &metrics, Some(&hist), t0);
        seen.note("istog", "1", |s| {
            s.last_seen_ms = t0;
            s.version = "1.2".into();
        });
        seen.note("peje", "1", |s| {
            s.last_refusal = Some("peje is planned".into());
            s.last_refusal_ms = Some(t0);
        });
        metrics.node_error("istog", "1", "push refused: a gap");
        hist.record(&status(3), t0 - 2 * HOUR);
        hist.record(&status(5), t0 - HOUR + 10);
        hist.record(&status(9), t0 + 10);
        assert!(
            k.save(&store, &seen, &metrics, Some(&hist), t0 + 20)
                .unwrap()
                > 0
        );
        // Nothing changed: nothing is written.
        assert_eq!(
            k.save(&store, &seen, &metrics, Some(&hist), t0 + 30)
                .unwrap(),
            0
        );
        // One more sample rewrites its hour only, and what was heard changes one node.
        hist.record(&status(10), t0 + 40);
        seen.note("istog", "1", |s| s.last_seen_ms = t0 + 40);
        assert_eq!(
            k.save(&store, &seen, &metrics, Some(&hist), t0 + 50)
                .unwrap(),
            2
        );

        // The hub starts again.
        let (seen2, metrics2, hist2) = (
            Liveness::new(),
            Metrics::default(),
            History::new(Duration::from_secs(60)),
        );
        let mut k2 = Keeper::load(&store, &seen2, &metrics2, Some(&hist2), t0 + 60);
        assert_eq!(hist2.samples("istog/1"), hist.samples("istog/1"));
        assert_eq!(hist2.samples("istog/1").len(), 4);
        let s = seen2.snapshot();
        assert_eq!(s["istog/1"].last_seen_ms, t0 + 40);
        assert_eq!(s["istog/1"].version, "1.2");
        assert_eq!(s["peje/1"].last_refusal.as_deref(), Some("peje is planned"));
        let errors = metrics2.node_errors("istog/1");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].text, "push refused: a gap");
        // What it read back is not written again.
        assert_eq!(
            k2.save(&store, &seen2, &metrics2, Some(&hist2), t0 + 70)
                .unwrap(),
            0
        );
    }

    /// A memory backend that refuses every write while `broken` is set.
    struct Flaky {
        inner: crate::store::backend::memory::MemoryBackend,
        broken: std::sync::atomic::AtomicBool,
    }

    impl crate::store::HubBackend for Flaky {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
            self.inner.get(key)
        }
        fn scan(&self, from: &[u8], to: Option<&[u8]>) -> crate::store::backend::Entries<'_> {
            self.inner.scan(from, to)
        }
        fn last_in(
            &self,
            from: &[u8],
            to: &[u8],
        ) -> Result<Option<crate::store::KeyValue>, crate::store::StoreError> {
            self.inner.last_in(from, to)
        }
        fn apply(&self, batch: crate::store::Batch) -> Result<(), crate::store::StoreError> {
            if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(crate::store::StoreError::Backend("disk full".into()));
            }
            self.inner.apply(batch)
        }
        fn apply_if(
            &self,
            expected: &[crate::store::backend::Expected],
            batch: &crate::store::Batch,
        ) -> Result<crate::store::backend::Applied, crate::store::StoreError> {
            if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(crate::store::StoreError::Backend("disk full".into()));
            }
            self.inner.apply_if(expected, batch)
        }
        fn flush(&self) -> Result<(), crate::store::StoreError> {
            self.inner.flush()
        }
        fn layout(&self) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
            self.inner.layout()
        }
        fn set_layout(&self, mark: &[u8]) -> Result<(), crate::store::StoreError> {
            self.inner.set_layout(mark)
        }
        fn with_layout_lock(
            &self,
            f: &mut dyn FnMut() -> Result<(), crate::store::StoreError>,
        ) -> Result<(), crate::store::StoreError> {
            self.inner.with_layout_lock(f)
        }
        fn location(&self) -> String {
            "(flaky, in memory)".into()
        }
    }

    #[test]
    fn a_refused_write_is_tried_again_at_the_next_round() {
        let backend = Arc::new(Flaky {
            inner: crate::store::backend::memory::MemoryBackend::new(),
            broken: false.into(),
        });
        let store =
            HubStore::open_backend(backend.clone(), crate::atrest::keys_from_master(&[7; 32]))
                .unwrap();
        let t0 = 1_000 * HOUR;
        let (seen, metrics, hist) = (
            Liveness::new(),
            Metrics::default(),
            History::new(Duration::from_secs(60)),
        );
        let mut k = Keeper::load(&store, &seen, &metrics, Some(&hist), t0);
        metrics.node_error("istog", "1", "push refused: a gap");
        hist.record(&status(3), t0 + 10);
        backend
            .broken
            .store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(k
            .save(&store, &seen, &metrics, Some(&hist), t0 + 20)
            .is_err());
        // Logged, not returned, and not panicking.
        k.save_logged(&store, &seen, &metrics, Some(&hist), t0 + 25);
        assert!(k.failing);
        backend
            .broken
            .store(false, std::sync::atomic::Ordering::Relaxed);
        // Nothing was taken as written: the next round writes it all.
        assert_eq!(
            k.save(&store, &seen, &metrics, Some(&hist), t0 + 30)
                .unwrap(),
            2
        );
        k.save_logged(&store, &seen, &metrics, Some(&hist), t0 + 35);
        assert!(!k.failing);
        let (seen2, metrics2, hist2) = (
            Liveness::new(),
            Metrics::default(),
            History::new(Duration::from_secs(60)),
        );
        Keeper::load(&store, &seen2, &metrics2, Some(&hist2), t0 + 40);
        assert_eq!(metrics2.node_errors("istog/1").len(), 1);
        assert_eq!(hist2.samples("istog/1").len(), 1);
    }

    #[test]
    fn history_older_than_a_day_is_pruned_in_memory_and_in_the_store() {
        let store = store();
        let t0 = 1_000 * HOUR;
        let (seen, metrics, hist) = (
            Liveness::new(),
            Metrics::default(),
            History::new(Duration::from_secs(60)),
        );
        let mut k = Keeper::load(&store, &seen, &metrics, Some(&hist), t0);
        hist.record(&status(1), t0 + 10);
        hist.record(&status(2), t0 + 3 * HOUR);
        k.save(&store, &seen, &metrics, Some(&hist), t0 + 3 * HOUR + 1)
            .unwrap();
        assert_eq!(hist_keys(&store).len(), 2, "{:?}", hist_keys(&store));
        // A day and an hour later, the first hour is gone from the store and from memory.
        let later = t0 + 25 * HOUR + 20;
        hist.record(&status(3), later);
        k.save(&store, &seen, &metrics, Some(&hist), later).unwrap();
        let keys = hist_keys(&store);
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(
            !keys.iter().any(|k| k.ends_with(&format!("{t0:016x}"))),
            "{keys:?}"
        );
        assert_eq!(
            hist.samples("istog/1")
                .iter()
                .map(|s| s.acked_seq)
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
        // A hub that starts after a long stop reads back only the last day.
        let hist2 = History::new(Duration::from_secs(60));
        Keeper::load(&store, &seen, &metrics, Some(&hist2), t0 + 28 * HOUR + 30);
        assert_eq!(
            hist2
                .samples("istog/1")
                .iter()
                .map(|s| s.acked_seq)
                .collect::<Vec<_>>(),
            vec![3]
        );
        assert_eq!(
            hist_keys(&store).len(),
            1,
            "the old hour is removed on load"
        );
    }
}
