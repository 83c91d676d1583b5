//! `civreg-node serve`: the background sync worker.
//!
//! `serve` opens the node once and keeps it for its lifetime; clerks' commands reach that same
//! node through the control socket ([`crate::control`]), so registration never waits for the
//! network: a round locks the node only inside each local write (`Node::write`), never across a
//! network call. Rounds repeat every interval on one kept connection (so the hub counts the
//! office as connected between rounds; a new one after any failed round and every
//! [`CHANNEL_MAX_AGE`]). When a round fails they back off exponentially with jitter (backon);
//! the cap, [`BACKOFF_CAP`], holds with the jitter added. While the hub cannot be reached the
//! worker probes its address every [`PROBE_EVERY`] ([`sync::hub_answers`], a bare TCP connect)
//! and syncs as soon as a probe that failed answers again, so a returning link is used within
//! seconds, not at the end of a back-off of up to a minute. A refusal that retrying can not heal
//! (a revoked or expired certificate, a forked chain) stops the worker loudly and is shown by
//! `status`.
//!
//! The worker's state lives in memory ([`Live`], what `status` shows while `serve` runs) and in
//! `sync-status.json` (what `status` shows after `serve` has stopped).

use crate::node::Node;
use crate::sync::{self, SyncError, SyncReport};
use backon::{BackoffBuilder, ExponentialBuilder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{error, info, warn};

/// Most ops pushed in one round, so that a round reports progress (and resets its back-off)
/// regularly during a long backlog.
pub const ROUND_MAX_OPS: u64 = 20_000;

/// The longest wait between two failed rounds, jitter included.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// How often the hub's address is probed while the worker backs off from an unreachable hub.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// A kept connection is replaced after this long (a renewed certificate or a new hub address
/// is then used without a restart).
pub const CHANNEL_MAX_AGE: Duration = Duration::from_secs(600);

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

use civreg_runtime::clock::now_ms;

/// Reads the worker's last status, if it has written one.
pub fn read_status(data_dir: &Path) -> Option<SyncStatus> {
    serde_json::from_slice(&std::fs::read(status_path(data_dir)).ok()?).ok()
}

fn write_status(data_dir: &Path, st: &SyncStatus) {
    let path = status_path(data_dir);
    let ok = serde_json::to_vec_pretty(st).ok().and_then(|b| {
        civreg_runtime::fs::write_atomic(&path, &b, civreg_runtime::fs::Mode::Public).ok()
    });
    if ok.is_none() {
        warn!(path = %path.display(), "could not write the sync status file");
    }
}

/// The running worker's state, shared with the control socket's commands.
#[derive(Debug)]
pub struct Live {
    status: Mutex<SyncStatus>,
    rounds: AtomicU64,
    round: tokio::sync::Mutex<()>,
}

impl Live {
    /// Starts from the last status written, if any.
    pub fn new(data_dir: &Path, hub_url: &str) -> Live {
        let mut st = read_status(data_dir).unwrap_or_default();
        st.hub_url = hub_url.to_string();
        st.stopped = false;
        Live {
            status: Mutex::new(st),
            rounds: AtomicU64::new(0),
            round: tokio::sync::Mutex::new(()),
        }
    }

    /// What the worker last saw.
    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Rounds finished since `serve` started.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Held for the whole of a round, so that `sync --once` through the control socket and the
    /// worker never sync at the same time. It guards the network conversation, not the node:
    /// commands never take it.
    pub fn round_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.round
    }

    /// Records the outcome of a round.
    fn publish(&self, data_dir: &Path, st: &SyncStatus) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = st.clone();
        self.rounds.fetch_add(1, Ordering::Relaxed);
        write_status(data_dir, st);
    }
}

/// The connection the worker keeps between rounds, and when it was opened.
type Kept = Option<(tonic::transport::Channel, std::time::Instant)>;

async fn round(
    node: &Node,
    data_dir: &Path,
    hub_url: &str,
    live: &Live,
    st: &mut SyncStatus,
    kept: &mut Kept,
    interval: Duration,
) -> Result<SyncReport, SyncError> {
    let _round = live.round.lock().await;
    let channel = match kept.take() {
        Some((ch, at)) if at.elapsed() < CHANNEL_MAX_AGE => Ok((ch, at)),
        _ => sync::connect(data_dir, hub_url)
            .await
            .map(|ch| (ch, std::time::Instant::now())),
    };
    let r = match channel {
        Ok((ch, at)) => {
            let interval_ms = interval.as_millis() as u64;
            let r = sync::sync_round_on(
                node,
                data_dir,
                hub_url,
                ROUND_MAX_OPS,
                ch.clone(),
                interval_ms,
            )
            .await;
            // Kept only after a good round: any failure opens a new connection next time, and
            // so does a renewal (the kept connection presents the old certificate).
            if r.as_ref().is_ok_and(|r| !r.renewed) {
                *kept = Some((ch, at));
            }
            r
        }
        Err(e) => Err(e),
    };
    let counts =
        tokio::task::block_in_place(|| (sync::waiting(node), node.hub_acked(), node.pull_cursor()));
    if let (Ok((n, age)), _, _) = &counts {
        st.ops_waiting = *n;
        st.oldest_waiting_age_s = *age;
    }
    st.hub_acked = counts.1.unwrap_or(st.hub_acked);
    st.pull_cursor = counts.2.unwrap_or(st.pull_cursor);
    r
}

/// Waits between failed rounds: from 0.5 s, doubling, with up to as much again of jitter,
/// never more than [`BACKOFF_CAP`] (backon adds the jitter after its own cap, so the growth is
/// capped at half and the sum clamped).
fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(BACKOFF_CAP / 2)
        .without_max_times()
        .build()
        .map(|d| d.min(BACKOFF_CAP))
}

/// Whether a round failed for want of a link (no connection, or one that broke), rather than
/// by the hub's answer: only then is the hub's address probed while backing off.
fn link_failed(e: &SyncError) -> bool {
    match e {
        SyncError::Unreachable { .. } => true,
        SyncError::Refused { code, .. } => matches!(
            code,
            tonic::Code::Unavailable
                | tonic::Code::Cancelled
                | tonic::Code::Unknown
                | tonic::Code::DeadlineExceeded
        ),
        _ => false,
    }
}

/// Sleeps `wait`, or less: when `probe` is set (the hub could not be reached), the hub's address
/// is probed every [`PROBE_EVERY`], and the wait ends when a probe answers after one that did
/// not (the link is back). A probe that answers all along (the address takes connections but
/// the round fails later) changes nothing: the back-off runs its course.
async fn pause(hub_url: &str, wait: Duration, probe: bool) -> bool {
    let end = tokio::time::Instant::now() + wait;
    if !probe {
        tokio::time::sleep_until(end).await;
        return false;
    }
    let mut was_down = false;
    loop {
        let next = tokio::time::Instant::now() + PROBE_EVERY;
        if next >= end {
            tokio::time::sleep_until(end).await;
            return false;
        }
        tokio::time::sleep_until(next).await;
        let up = sync::hub_answers(hub_url).await;
        if up && was_down {
            return true;
        }
        was_down = !up;
    }
}

/// Runs sync rounds on `node` until `shutdown` resolves or a refusal that can not heal.
pub async fn serve(
    node: Arc<Node>,
    data_dir: PathBuf,
    hub_url: String,
    interval: Duration,
    live: Arc<Live>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(shutdown);
    let mut delays = backoff();
    let mut st = live.status();
    let mut kept: Kept = None;
    loop {
        st.last_attempt_ms = now_ms();
        let outcome = tokio::select! {
            _ = &mut shutdown => {
                info!("sync worker stopped");
                return Ok(());
            }
            r = round(&node, &data_dir, &hub_url, &live, &mut st, &mut kept, interval) => r,
        };
        let unreachable = outcome.as_ref().err().is_some_and(link_failed);
        let wait = match outcome {
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
                live.publish(&data_dir, &st);
                return Err(e);
            }
        };
        st.next_attempt_ms = Some(now_ms() + wait.as_millis() as u64);
        live.publish(&data_dir, &st);
        tokio::select! {
            _ = &mut shutdown => {
                info!("sync worker stopped");
                return Ok(());
            }
            early = pause(&hub_url, wait, unreachable) => {
                if early {
                    info!("the hub answers again: syncing now");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_cap_holds_with_the_jitter_added() {
        for _ in 0..20 {
            let delays: Vec<Duration> = backoff().take(40).collect();
            assert!(delays.iter().all(|d| *d <= BACKOFF_CAP), "{delays:?}");
            // It still grows to the cap's half at least, and the jitter spreads it.
            assert!(
                delays[20..].iter().all(|d| *d >= BACKOFF_CAP / 2),
                "{delays:?}"
            );
            assert_eq!(delays[0].max(Duration::from_millis(500)), delays[0]);
        }
    }

    #[tokio::test]
    async fn the_probe_tells_a_listening_hub_from_a_cut_link() {
        use tokio::net::TcpListener;
        // Nothing listens: no answer.
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = gone.local_addr().unwrap().port();
        drop(gone);
        assert!(!sync::hub_answers(&format!("https://localhost:{port}")).await);
        // Accepted and closed at once (a proxy whose link is cut): no answer.
        let closing = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closing.local_addr().unwrap().port();
        let closer = tokio::spawn(async move {
            loop {
                if let Ok((s, _)) = closing.accept().await {
                    drop(s);
                }
            }
        });
        assert!(!sync::hub_answers(&format!("https://127.0.0.1:{port}")).await);
        closer.abort();
        // Accepted and held, waiting for the client to speak (a TLS server): it answers.
        let holding = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = holding.local_addr().unwrap().port();
        let holder = tokio::spawn(async move {
            let mut kept = Vec::new();
            loop {
                if let Ok((s, _)) = holding.accept().await {
                    kept.push(s);
                }
            }
        });
        assert!(sync::hub_answers(&format!("https://localhost:{port}")).await);
        holder.abort();
        // Not an address at all.
        assert!(!sync::hub_answers("not a url").await);
    }
}
