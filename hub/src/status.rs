//! Node liveness: what the hub last heard from each node (heartbeats, refusals by the rollout),
//! and the hub's status built from it and the store's chain heads, which `civreg-hub status`, the
//! control socket and the dashboard show. The Sync service writes it; everything else reads it.

use crate::store::HubStore;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tracing::warn;

/// What the hub last heard from a node.
#[derive(Debug, Clone, Default, serde::Serialize)]
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
