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
//! **Several hubs** (issue 19 part 3): the enrolment bundle lists the hub processes' addresses
//! ([`crate::sync::Bundle::hubs`]), and a hub's heartbeat may bring a newer list, which the node
//! checks and keeps ([`crate::hublist`]); `serve --hub URL` names one instead. The worker reads
//! the list again before every round, so `civreg-node enrol --bundle`, and a list an operator set
//! at the hub (`civreg-hub hub-urls set`), change the list of a running `serve`. A round starts at the hub in use ([`Hubs::current`]); when that one can not be
//! reached (connection refused, TLS handshake or request deadline, a link that breaks, a hub
//! that stops answering mid-call for `stall` ([`sync::STALL_LIMIT`], `serve --stall-secs`):
//! [`link_failed`]), the same round moves on to the next in the list, and keeps to the first that
//! works: it never goes back to an earlier hub while the one in use answers, so it does not flap.
//! Only when no hub can be reached does the round fail and the back-off begin, and then every
//! hub is probed, and the first whose link returns is tried first. Pushes resume from what the
//! hub holds and pull cursors are feed positions of the shared store, so the hubs must share one
//! store (`civreg-hub serve --store postgres://…`): hubs over separate databases are not hubs of
//! one list.
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
    /// The hub in use (the last that answered, or the first to try).
    pub hub_url: String,
    /// Every hub the worker may use, in the order it tries them.
    #[serde(default)]
    pub hub_urls: Vec<String>,
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
    /// Ends the worker's wait between rounds (a new enrolment: new hubs, a new certificate).
    wake: tokio::sync::Notify,
}

impl Live {
    /// Starts from the last status written, if any.
    pub fn new(data_dir: &Path, hub_url: &str) -> Live {
        Live::with_hubs(
            data_dir,
            &Hubs {
                list: vec![hub_url.to_string()],
                current: hub_url.to_string(),
            },
        )
    }

    /// [`Live::new`] for the worker of several hubs.
    pub fn with_hubs(data_dir: &Path, hubs: &Hubs) -> Live {
        let mut st = read_status(data_dir).unwrap_or_default();
        st.hub_url = hubs.current.clone();
        st.hub_urls = hubs.list.clone();
        st.stopped = false;
        Live {
            status: Mutex::new(st),
            rounds: AtomicU64::new(0),
            round: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Starts the next round now, with the hub list read again (`enrol --bundle` calls it).
    pub fn wake(&self) {
        self.wake.notify_one();
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

/// Where the worker's hubs come from.
#[derive(Debug, Clone)]
pub enum HubSource {
    /// `serve --hub URL`: that hub only.
    Given(String),
    /// The enrolment bundle's list, or the one a hub sent since (`hublist.rs`), read again
    /// before every round.
    Bundle,
}

/// The hubs the worker may sync with, and the one in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hubs {
    /// In the operator's order; never empty.
    pub list: Vec<String>,
    /// The hub in use: a round starts with it.
    pub current: String,
}

impl Hubs {
    /// The hubs of `source` (an unreadable or invalid bundle is an error, as at start).
    pub fn load(source: &HubSource, data_dir: &Path) -> Result<Hubs, SyncError> {
        let list = match source {
            HubSource::Given(url) => vec![url.clone()],
            HubSource::Bundle => crate::hublist::in_use(data_dir)?.urls,
        };
        Ok(Hubs {
            current: list[0].clone(),
            list,
        })
    }

    /// Takes the list again from `source` (after `enrol --bundle`), keeping the hub in use if
    /// it is still listed; an unreadable bundle (being replaced, say) keeps the list as it was.
    fn refresh(&mut self, source: &HubSource, data_dir: &Path) {
        let Ok(new) = Hubs::load(source, data_dir) else {
            return;
        };
        if new.list != self.list {
            info!(hubs = ?new.list, "the hub list changed");
            if !new.list.contains(&self.current) {
                self.current = new.list[0].clone();
            }
            self.list = new.list;
        }
    }

    /// The order of a round: the hub in use, then those after it, then those before.
    fn order(&self) -> Vec<String> {
        let at = self
            .list
            .iter()
            .position(|u| *u == self.current)
            .unwrap_or(0);
        self.list[at..]
            .iter()
            .chain(&self.list[..at])
            .cloned()
            .collect()
    }
}

/// The connection the worker keeps between rounds, when it was opened, and to which hub.
type Kept = Option<(tonic::transport::Channel, std::time::Instant, String)>;

/// One round with the hubs in order: the hub in use first; on a link failure the next, and so
/// on. The first that completes the round is the hub in use from then on.
#[allow(clippy::too_many_arguments)]
async fn round(
    node: &Node,
    data_dir: &Path,
    hubs: &mut Hubs,
    live: &Live,
    st: &mut SyncStatus,
    kept: &mut Kept,
    interval: Duration,
    stall: Duration,
) -> Result<SyncReport, SyncError> {
    let _round = live.round.lock().await;
    let order = hubs.order();
    let mut outcome = None;
    for (i, url) in order.iter().enumerate() {
        let r = round_with(node, data_dir, url, kept, interval, stall).await;
        match r {
            Err(e) if link_failed(&e) && i + 1 < order.len() => {
                warn!(hub = %url, next = %order[i + 1], error = %e, "the hub can not be reached; trying the next");
            }
            r => {
                if r.is_ok() && hubs.current != *url {
                    info!(hub = %url, was = %hubs.current, "syncing with another hub");
                    hubs.current = url.clone();
                }
                outcome = Some(r);
                break;
            }
        }
    }
    st.hub_url = hubs.current.clone();
    st.hub_urls = hubs.list.clone();
    let counts =
        tokio::task::block_in_place(|| (sync::waiting(node), node.hub_acked(), node.pull_cursor()));
    if let (Ok((n, age)), _, _) = &counts {
        st.ops_waiting = *n;
        st.oldest_waiting_age_s = *age;
    }
    st.hub_acked = counts.1.unwrap_or(st.hub_acked);
    st.pull_cursor = counts.2.unwrap_or(st.pull_cursor);
    // `order` is never empty (a list never is), so a round always has an outcome.
    outcome.unwrap_or(Err(SyncError::NotEnrolled))
}

/// One round with the hub at `hub_url`, on the kept connection when it goes there.
async fn round_with(
    node: &Node,
    data_dir: &Path,
    hub_url: &str,
    kept: &mut Kept,
    interval: Duration,
    stall: Duration,
) -> Result<SyncReport, SyncError> {
    let channel = match kept.take() {
        Some((ch, at, url)) if at.elapsed() < CHANNEL_MAX_AGE && url == hub_url => Ok((ch, at)),
        _ => sync::connect(data_dir, hub_url)
            .await
            .map(|ch| (ch, std::time::Instant::now())),
    };
    match channel {
        Ok((ch, at)) => {
            let interval_ms = interval.as_millis() as u64;
            let r = sync::sync_round_on(
                node,
                data_dir,
                hub_url,
                ROUND_MAX_OPS,
                ch.clone(),
                interval_ms,
                stall,
            )
            .await;
            // Kept only after a good round: any failure opens a new connection next time, and
            // so does a renewal (the kept connection presents the old certificate).
            if r.as_ref().is_ok_and(|r| !r.renewed) {
                *kept = Some((ch, at, hub_url.to_string()));
            }
            r
        }
        Err(e) => Err(e),
    }
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
/// by the hub's answer: only then is the next hub tried, and the hubs' addresses probed while
/// backing off ([`SyncError::link_failed`]).
fn link_failed(e: &SyncError) -> bool {
    e.link_failed()
}

/// Sleeps `wait`, or less: when `probe` is set (no hub could be reached), every hub's address
/// is probed every [`PROBE_EVERY`] (all at once), and the wait ends when a probe answers after
/// one of the same hub that did not (its link is back): that hub is returned. A probe that
/// answers all along (the address takes connections but the round fails later) changes
/// nothing: the back-off runs its course.
async fn pause(hubs: &[String], wait: Duration, probe: bool) -> Option<String> {
    let end = tokio::time::Instant::now() + wait;
    if !probe {
        tokio::time::sleep_until(end).await;
        return None;
    }
    let mut was_down = vec![false; hubs.len()];
    loop {
        let next = tokio::time::Instant::now() + PROBE_EVERY;
        if next >= end {
            tokio::time::sleep_until(end).await;
            return None;
        }
        tokio::time::sleep_until(next).await;
        let mut probes = tokio::task::JoinSet::new();
        for (i, url) in hubs.iter().enumerate() {
            let url = url.clone();
            probes.spawn(async move { (i, sync::hub_answers(&url).await) });
        }
        let mut back = None;
        while let Some(done) = probes.join_next().await {
            let Ok((i, up)) = done else { continue };
            if up && was_down[i] && back.is_none_or(|b| i < b) {
                back = Some(i);
            }
            was_down[i] = !up;
        }
        if let Some(i) = back {
            return Some(hubs[i].clone());
        }
    }
}

/// Runs sync rounds on `node` until `shutdown` resolves or a refusal that can not heal; every
/// `interval` while they succeed, each step of a call with a hub within `stall`.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    node: Arc<Node>,
    data_dir: PathBuf,
    source: HubSource,
    mut hubs: Hubs,
    interval: Duration,
    stall: Duration,
    live: Arc<Live>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(shutdown);
    let mut delays = backoff();
    let mut st = live.status();
    let mut kept: Kept = None;
    loop {
        st.last_attempt_ms = now_ms();
        tokio::task::block_in_place(|| hubs.refresh(&source, &data_dir));
        let outcome = tokio::select! {
            _ = &mut shutdown => {
                info!("sync worker stopped");
                return Ok(());
            }
            r = round(&node, &data_dir, &mut hubs, &live, &mut st, &mut kept, interval, stall) => r,
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
            early = pause(&hubs.list, wait, unreachable) => {
                if let Some(url) = early {
                    info!(hub = %url, "a hub answers again: syncing now");
                    hubs.current = url;
                }
            }
            _ = live.wake.notified() => {
                info!("the enrolment changed: syncing now");
                delays = backoff();
                // The kept connection presents the certificate of before.
                kept = None;
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

    fn hubs(list: &[&str], current: &str) -> Hubs {
        Hubs {
            list: list.iter().map(|s| s.to_string()).collect(),
            current: current.to_string(),
        }
    }

    #[test]
    fn a_round_starts_at_the_hub_in_use_and_goes_round_the_list() {
        let h = hubs(
            &["https://a:1", "https://b:1", "https://c:1"],
            "https://b:1",
        );
        assert_eq!(h.order(), ["https://b:1", "https://c:1", "https://a:1"]);
        let h = hubs(&["https://a:1", "https://b:1"], "https://a:1");
        assert_eq!(h.order(), ["https://a:1", "https://b:1"]);
        // A hub no longer listed: from the first.
        let h = hubs(&["https://a:1", "https://b:1"], "https://z:1");
        assert_eq!(h.order(), ["https://a:1", "https://b:1"]);
    }

    /// Writes a bundle.json naming `urls` into the node's tls directory.
    fn write_bundle(data_dir: &Path, urls: &[&str]) {
        let tls = sync::tls_dir(data_dir);
        std::fs::create_dir_all(&tls).unwrap();
        let b = sync::Bundle {
            identity: "civreg://node/istog/1".into(),
            municipality: Some("istog".into()),
            node_id: Some("1".into()),
            hub_url: urls[0].to_string(),
            hub_urls: if urls.len() > 1 {
                urls.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            },
        };
        std::fs::write(tls.join("bundle.json"), serde_json::to_vec(&b).unwrap()).unwrap();
    }

    #[test]
    fn the_hub_list_is_read_again_and_the_hub_in_use_kept_while_listed() {
        let dir = tempfile::tempdir().unwrap();
        // A bundle of the first format: one address.
        std::fs::create_dir_all(sync::tls_dir(dir.path())).unwrap();
        std::fs::write(
            sync::tls_dir(dir.path()).join("bundle.json"),
            br#"{"identity":"civreg://node/istog/1","municipality":"istog","node_id":"1","hub_url":"https://a:1"}"#,
        )
        .unwrap();
        let mut h = Hubs::load(&HubSource::Bundle, dir.path()).unwrap();
        assert_eq!(h, hubs(&["https://a:1"], "https://a:1"));
        // `enrol --bundle` lists a second hub: the one in use stays.
        write_bundle(dir.path(), &["https://a:1", "https://b:1"]);
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h, hubs(&["https://a:1", "https://b:1"], "https://a:1"));
        h.current = "https://b:1".into();
        write_bundle(dir.path(), &["https://c:1", "https://b:1"]);
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h, hubs(&["https://c:1", "https://b:1"], "https://b:1"));
        // The hub in use leaves the list: the first is tried.
        write_bundle(dir.path(), &["https://d:1", "https://c:1"]);
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h, hubs(&["https://d:1", "https://c:1"], "https://d:1"));
        // An unreadable or invalid bundle keeps the list.
        std::fs::write(sync::tls_dir(dir.path()).join("bundle.json"), b"{").unwrap();
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h, hubs(&["https://d:1", "https://c:1"], "https://d:1"));
        write_bundle(dir.path(), &["ftp://e:1", "https://c:1"]);
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h.list, ["https://d:1", "https://c:1"]);
        // A list a hub sent and the node took (`hublist.rs`) wins over the bundle's.
        write_bundle(dir.path(), &["https://d:1", "https://c:1"]);
        let held = crate::hublist::Held {
            taken: Some(crate::hublist::Sent {
                urls: vec!["https://c:1".into(), "https://f:1".into()],
                by: "https://d:1".into(),
                at_ms: 1,
            }),
            refused: None,
        };
        std::fs::write(
            sync::tls_dir(dir.path()).join(crate::hublist::FILE),
            serde_json::to_vec(&held).unwrap(),
        )
        .unwrap();
        h.refresh(&HubSource::Bundle, dir.path());
        assert_eq!(h, hubs(&["https://c:1", "https://f:1"], "https://c:1"));
        // `serve --hub URL`: that hub only, whatever the bundle says.
        let given = HubSource::Given("https://g:1".into());
        h.refresh(&given, dir.path());
        assert_eq!(h, hubs(&["https://g:1"], "https://g:1"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_names_the_hub_whose_link_returns() {
        use tokio::net::TcpListener;
        // Hub a: nothing listens, all along.
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = format!("https://127.0.0.1:{}", gone.local_addr().unwrap().port());
        drop(gone);
        // Hub b: its first connection is closed at once (a cut link), the later ones are held
        // (the link is back, a TLS server waits for the hello).
        let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b = format!(
            "https://127.0.0.1:{}",
            b_listener.local_addr().unwrap().port()
        );
        let holder = tokio::spawn(async move {
            let mut kept = Vec::new();
            let mut first = true;
            loop {
                if let Ok((s, _)) = b_listener.accept().await {
                    if first {
                        first = false;
                        drop(s);
                    } else {
                        kept.push(s);
                    }
                }
            }
        });
        let list = vec![a.clone(), b.clone()];
        let came_back = tokio::time::timeout(
            Duration::from_secs(20),
            pause(&list, Duration::from_secs(30), true),
        )
        .await
        .expect("the probe ends when a link returns");
        assert_eq!(came_back, Some(b));
        holder.abort();
        // Without probing, the whole wait passes.
        assert_eq!(pause(&[a], Duration::from_millis(10), false).await, None);
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
