//! `civreg-node serve`: the background sync worker.
//!
//! Each round opens the node, pushes, pulls, sends a heartbeat, writes `sync-status.json`, and
//! closes the node again, so clerks' commands (which wait briefly for the database) keep working
//! while `serve` runs: registration never waits for the network, only for at most one round's
//! local writes. Rounds repeat every interval; when the hub is unreachable they back off
//! exponentially with jitter, capped (backon). A refusal that retrying can not heal (a revoked
//! or expired certificate, a forked chain) stops the worker loudly and is shown by `status`.

use crate::node::{Node, NodeError, Paths};
use crate::sync::{self, SyncError, SyncReport};
use backon::{BackoffBuilder, ExponentialBuilder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::{error, info, warn};

/// Most ops pushed in one round, so one round never holds the database for long.
pub const ROUND_MAX_OPS: u64 = 20_000;

/// What the worker last saw, as `civreg-node status` shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncStatus {
    pub online: bool,
    pub hub_url: String,
    pub last_attempt_ms: u64,
    pub last_success_ms: Option<u64>,
    pub last_error: Option<String>,
    /// The last error will not heal by retrying; the worker has stopped.
    pub stopped: bool,
    pub ops_waiting: u64,
    pub oldest_waiting_age_s: u64,
    pub hub_acked: u64,
    pub pull_cursor: u64,
    pub next_attempt_ms: Option<u64>,
}

pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sync-status.json")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Reads the worker's last status, if it has written one.
pub fn read_status(data_dir: &Path) -> Option<SyncStatus> {
    serde_json::from_slice(&std::fs::read(status_path(data_dir)).ok()?).ok()
}

fn write_status(data_dir: &Path, st: &SyncStatus) {
    let path = status_path(data_dir);
    let tmp = path.with_extension("json.tmp");
    let ok = serde_json::to_vec_pretty(st)
        .ok()
        .and_then(|b| std::fs::write(&tmp, b).ok())
        .and_then(|_| std::fs::rename(&tmp, &path).ok());
    if ok.is_none() {
        warn!(path = %path.display(), "could not write the sync status file");
    }
}

/// Opens the node, waiting while a clerk's command holds the database.
fn open_node(paths: &Paths) -> Result<Node, NodeError> {
    tokio::task::block_in_place(|| Node::open_waiting(paths, Duration::from_secs(30)))
}

async fn round(paths: &Paths, hub_url: &str, st: &mut SyncStatus) -> Result<SyncReport, SyncError> {
    let node = open_node(paths)?;
    let r = sync::sync_round(&node, &paths.data_dir, hub_url, ROUND_MAX_OPS).await;
    if let Ok((n, age)) = sync::waiting(&node) {
        st.ops_waiting = n;
        st.oldest_waiting_age_s = age;
    }
    st.hub_acked = node.hub_acked().unwrap_or(st.hub_acked);
    st.pull_cursor = node.pull_cursor().unwrap_or(st.pull_cursor);
    r
}

fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(60))
        .without_max_times()
        .build()
}

/// Runs sync rounds until `shutdown` resolves or a refusal that can not heal.
pub async fn serve(
    paths: Paths,
    hub_url: String,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(shutdown);
    let mut delays = backoff();
    let mut st = read_status(&paths.data_dir).unwrap_or_default();
    st.hub_url = hub_url.clone();
    st.stopped = false;
    loop {
        st.last_attempt_ms = now_ms();
        let wait = match round(&paths, &hub_url, &mut st).await {
            Ok(r) => {
                if r.pushed > 0 || r.pulled > 0 {
                    info!(
                        pushed = r.pushed,
                        pulled = r.pulled,
                        hub_acked = r.hub_acked,
                        "synced"
                    );
                }
                st.online = true;
                st.last_success_ms = Some(now_ms());
                st.last_error = None;
                delays = backoff();
                // A round that hit its op limit has more to send: go again at once.
                if r.pushed >= ROUND_MAX_OPS {
                    Duration::ZERO
                } else {
                    interval
                }
            }
            Err(e) if e.is_retryable() => {
                let d = delays.next().unwrap_or(Duration::from_secs(60));
                warn!(error = %e, retry_in_ms = d.as_millis() as u64, "sync failed; will retry");
                st.online = false;
                st.last_error = Some(e.to_string());
                d
            }
            Err(e) => {
                error!(error = %e, "SYNC STOPPED: the hub refuses this node and retrying will not help");
                st.online = false;
                st.stopped = true;
                st.last_error = Some(e.to_string());
                st.next_attempt_ms = None;
                write_status(&paths.data_dir, &st);
                return Err(e);
            }
        };
        st.next_attempt_ms = Some(now_ms() + wait.as_millis() as u64);
        write_status(&paths.data_dir, &st);
        tokio::select! {
            _ = &mut shutdown => {
                info!("sync worker stopped");
                return Ok(());
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
