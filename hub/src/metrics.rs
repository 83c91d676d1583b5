//! The hub's counters, and their rendering in the Prometheus text format (version 0.0.4),
//! served at `/metrics` by the dashboard's listener.
//!
//! Counted where things happen (`sync/` and `serve.rs` call in here): ops newly stored by the committer,
//! the time from a push batch's arrival to its acknowledgement, TLS handshakes refused (by
//! reason), open connections of nodes, and the last errors each node's pushes ended with. The
//! gauges that describe the registers (lag, ops waiting, open conflicts, open duplicate cases)
//! are computed at each scrape from the heartbeats, the store and the duplicates review queue by
//! the caller and passed in a [`Snapshot`].
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `civreg_hub_ops_ingested_total` | counter | |
//! | `civreg_hub_ack_latency_seconds` | histogram | |
//! | `civreg_hub_tls_handshake_failures_total` | counter | `reason` |
//! | `civreg_hub_connected_nodes` | gauge | |
//! | `civreg_hub_node_last_seen_timestamp_seconds` | gauge | `node` |
//! | `civreg_hub_nodes_online` | gauge | |
//! | `civreg_hub_sync_lag_seconds` | gauge | `municipality` |
//! | `civreg_hub_ops_waiting` | gauge | `municipality` |
//! | `civreg_hub_open_conflicts` | gauge | `municipality` |
//! | `civreg_hub_open_duplicates` | gauge | `municipality` |
//! | `civreg_hub_certificate_expiry_timestamp_seconds` | gauge | `kind`, `subject` |
//! | `civreg_hub_certificates_expiring` | gauge | |

use crate::store::{Head, IngestError};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Upper bounds of the acknowledgement latency histogram, in seconds.
pub const ACK_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Errors kept per node for its dashboard page.
pub const ERRORS_KEPT: usize = 10;

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative), plus one for +Inf.
    counts: [u64; ACK_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// An error a node's push ended with, as the hub saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeError {
    pub at_ms: u64,
    pub text: String,
}

#[derive(Default)]
pub struct Metrics {
    ops_ingested: AtomicU64,
    ack_latency: Mutex<Histogram>,
    handshake_failures: Mutex<BTreeMap<&'static str, u64>>,
    /// "m/n" → open TLS connections of that node.
    connections: Arc<Mutex<HashMap<String, usize>>>,
    errors: Mutex<HashMap<String, VecDeque<NodeError>>>,
}

/// What the caller computes at each scrape.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Nodes whose last heartbeat is recent enough to count as online.
    pub nodes_online: u64,
    /// Per municipality with nodes heard from: (lag in seconds, ops waiting).
    pub lag_and_waiting: BTreeMap<String, (u64, u64)>,
    /// Per municipality of the gazetteer: open conflicts.
    pub open_conflicts: BTreeMap<String, u64>,
    /// Per municipality of the gazetteer: open cases of the duplicates review queue (a case
    /// whose records belong to two municipalities counts for both; see `web::open_duplicates`).
    pub open_duplicates: BTreeMap<String, u64>,
    /// Per node heard from ("m/n", kept across restarts): its last heartbeat, Unix seconds.
    pub last_seen: BTreeMap<String, u64>,
    /// Active certificates that expire within 30 days or have expired: (kind, subject, expiry
    /// in Unix seconds), from `Pki::expiring_within`.
    pub certificates: Vec<(&'static str, String, i64)>,
    /// The PostgreSQL primary's standbys (`pg_stat_replication`), or why they could not be
    /// read; `None` on sled or when the hub's server is itself a standby.
    pub replication: Option<Result<Vec<crate::store::backend::postgres::Standby>, String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

use civreg_runtime::clock::now_ms;

impl Metrics {
    /// Counts the ops one group commit newly stored: per chain, the highest head acknowledged
    /// minus the head before the commit (`before`: one entry per push, chain and head seq). A
    /// replay of ops already held counts nothing.
    pub fn ingested(&self, before: &[(String, u64)], answers: &[Result<Head, IngestError>]) {
        let mut per_chain: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for ((chain, was), answer) in before.iter().zip(answers) {
            let e = per_chain.entry(chain).or_insert((*was, *was));
            e.0 = e.0.min(*was);
            if let Ok(h) = answer {
                e.1 = e.1.max(h.seq);
            }
        }
        let n: u64 = per_chain
            .values()
            .map(|(was, now)| now.saturating_sub(*was))
            .sum();
        self.ops_ingested.fetch_add(n, Ordering::Relaxed);
    }

    pub fn ops_ingested(&self) -> u64 {
        self.ops_ingested.load(Ordering::Relaxed)
    }

    /// One push batch acknowledged `took` after it arrived.
    pub fn observe_ack(&self, took: Duration) {
        let s = took.as_secs_f64();
        let mut h = lock(&self.ack_latency);
        let i = ACK_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(ACK_BUCKETS.len());
        h.counts[i] += 1;
        h.sum += s;
        h.count += 1;
    }

    /// A TLS handshake was refused or timed out.
    pub fn handshake_failed(&self, reason: &'static str) {
        *lock(&self.handshake_failures).entry(reason).or_default() += 1;
    }

    /// Notes an error a node's push or pull ended with (the last [`ERRORS_KEPT`] are kept).
    pub fn node_error(&self, municipality: &str, node_id: &str, text: impl Into<String>) {
        let mut all = lock(&self.errors);
        let q = all.entry(format!("{municipality}/{node_id}")).or_default();
        if q.len() == ERRORS_KEPT {
            q.pop_front();
        }
        q.push_back(NodeError {
            at_ms: now_ms(),
            text: text.into(),
        });
    }

    /// The errors kept for node "m/n", newest first.
    pub fn node_errors(&self, node: &str) -> Vec<NodeError> {
        lock(&self.errors)
            .get(node)
            .map(|q| q.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// Every node's kept errors, oldest first (for [`crate::status::Keeper`]).
    pub fn all_node_errors(&self) -> HashMap<String, Vec<NodeError>> {
        lock(&self.errors)
            .iter()
            .map(|(k, q)| (k.clone(), q.iter().cloned().collect()))
            .collect()
    }

    /// Puts back the errors of node "m/n" kept before a restart (oldest first), before any
    /// error noted since; the last [`ERRORS_KEPT`] stay.
    pub fn restore_node_errors(&self, node: &str, errors: Vec<NodeError>) {
        if errors.is_empty() {
            return;
        }
        let mut all = lock(&self.errors);
        let q = all.entry(node.to_string()).or_default();
        let newer: Vec<NodeError> = q.drain(..).collect();
        q.extend(errors);
        q.extend(newer);
        while q.len() > ERRORS_KEPT {
            q.pop_front();
        }
    }

    /// Nodes with at least one open TLS connection.
    pub fn connected_nodes(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.connections)
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }

    /// Wraps an accepted TLS connection so that it counts as connected while it is open.
    pub fn track<S>(&self, tls: tokio_rustls::server::TlsStream<S>) -> Tracked<S> {
        let node = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|leaf| crate::pki::peer_identity(leaf.as_ref()).ok())
            .and_then(|id| match id {
                crate::pki::PeerIdentity::Node {
                    municipality,
                    node_id,
                } => Some(format!("{municipality}/{node_id}")),
                crate::pki::PeerIdentity::Operator { .. } => None,
            });
        let guard = node.map(|n| {
            *lock(&self.connections).entry(n.clone()).or_default() += 1;
            ConnGuard {
                node: n,
                connections: self.connections.clone(),
            }
        });
        Tracked {
            inner: tls,
            _guard: guard,
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self, snap: &Snapshot) -> String {
        let mut t = String::new();
        family(
            &mut t,
            "civreg_hub_ops_ingested_total",
            "counter",
            "Ops verified, stored and flushed (replays of ops already held are not counted).",
        );
        let _ = writeln!(t, "civreg_hub_ops_ingested_total {}", self.ops_ingested());
        family(
            &mut t,
            "civreg_hub_ack_latency_seconds",
            "histogram",
            "Time from a push batch's arrival to its acknowledgement being sent.",
        );
        {
            let h = lock(&self.ack_latency);
            let mut cum = 0;
            for (i, b) in ACK_BUCKETS.iter().enumerate() {
                cum += h.counts[i];
                let _ = writeln!(
                    t,
                    "civreg_hub_ack_latency_seconds_bucket{{le=\"{b}\"}} {cum}"
                );
            }
            cum += h.counts[ACK_BUCKETS.len()];
            let _ = writeln!(
                t,
                "civreg_hub_ack_latency_seconds_bucket{{le=\"+Inf\"}} {cum}"
            );
            let _ = writeln!(t, "civreg_hub_ack_latency_seconds_sum {}", h.sum);
            let _ = writeln!(t, "civreg_hub_ack_latency_seconds_count {}", h.count);
        }
        family(
            &mut t,
            "civreg_hub_tls_handshake_failures_total",
            "counter",
            "TLS handshakes refused or timed out, by reason.",
        );
        for (reason, n) in lock(&self.handshake_failures).iter() {
            let _ = writeln!(
                t,
                "civreg_hub_tls_handshake_failures_total{{reason=\"{}\"}} {n}",
                label(reason)
            );
        }
        family(
            &mut t,
            "civreg_hub_connected_nodes",
            "gauge",
            "Nodes with an open TLS connection to the hub (a node keeps its connection between sync rounds).",
        );
        let _ = writeln!(
            t,
            "civreg_hub_connected_nodes {}",
            self.connected_nodes().len()
        );
        family(
            &mut t,
            "civreg_hub_node_last_seen_timestamp_seconds",
            "gauge",
            "When the node's last heartbeat reached the hub (Unix time); absent until it is heard from.",
        );
        for (node, at) in &snap.last_seen {
            let _ = writeln!(
                t,
                "civreg_hub_node_last_seen_timestamp_seconds{{node=\"{}\"}} {at}",
                label(node)
            );
        }
        family(
            &mut t,
            "civreg_hub_nodes_online",
            "gauge",
            "Nodes whose last heartbeat came within two of their own sync rounds (online).",
        );
        let _ = writeln!(t, "civreg_hub_nodes_online {}", snap.nodes_online);
        let per_municipality = [
            (
                "civreg_hub_sync_lag_seconds",
                "Age of the oldest op the municipality's nodes hold unacknowledged (largest over its nodes), from heartbeats.",
                snap.lag_and_waiting.iter().map(|(m, (lag, _))| (m, *lag)).collect::<Vec<_>>(),
            ),
            (
                "civreg_hub_ops_waiting",
                "Ops the municipality's nodes hold that the hub has not acknowledged, from heartbeats.",
                snap.lag_and_waiting.iter().map(|(m, (_, w))| (m, *w)).collect(),
            ),
            (
                "civreg_hub_open_conflicts",
                "Conflicts of the municipality's records no one has resolved yet.",
                snap.open_conflicts.iter().map(|(m, n)| (m, *n)).collect(),
            ),
            (
                "civreg_hub_open_duplicates",
                "Cases of the duplicates review queue naming one of the municipality's records that no operator has decided yet.",
                snap.open_duplicates.iter().map(|(m, n)| (m, *n)).collect(),
            ),
        ];
        for (name, help, samples) in per_municipality {
            family(&mut t, name, "gauge", help);
            for (m, v) in samples {
                let _ = writeln!(t, "{name}{{municipality=\"{}\"}} {v}", label(m));
            }
        }
        family(
            &mut t,
            "civreg_hub_certificate_expiry_timestamp_seconds",
            "gauge",
            "When an active certificate expires (Unix time), by kind (node, operator, hub, app) and subject (an office for node and app certificates; serial:HEX16 for operators' and the hub's), for those that expire within 30 days or have expired; certificates valid longer are absent.",
        );
        for (kind, subject, at) in &snap.certificates {
            let _ = writeln!(
                t,
                "civreg_hub_certificate_expiry_timestamp_seconds{{kind=\"{}\",subject=\"{}\"}} {at}",
                label(kind),
                label(subject)
            );
        }
        family(
            &mut t,
            "civreg_hub_certificates_expiring",
            "gauge",
            "Active certificates (nodes', operators', the hub's, clerk apps') that expire within 30 days or have expired.",
        );
        let _ = writeln!(
            t,
            "civreg_hub_certificates_expiring {}",
            snap.certificates.len()
        );
        if let Some(replication) = &snap.replication {
            render_replication(&mut t, replication);
        }
        t
    }
}

/// The PostgreSQL primary's replication (deploy/docs/postgresql.md says what to alert on).
fn render_replication(
    t: &mut String,
    replication: &Result<Vec<crate::store::backend::postgres::Standby>, String>,
) {
    family(
        t,
        "civreg_hub_pg_replication_readable",
        "gauge",
        "1 if the hub could read pg_stat_replication from its PostgreSQL primary at its last try (every 5 s at most), 0 if not (the hub's log says why).",
    );
    let standbys = match replication {
        Ok(s) => s.as_slice(),
        Err(_) => &[],
    };
    let _ = writeln!(
        t,
        "civreg_hub_pg_replication_readable {}",
        u8::from(replication.is_ok())
    );
    if replication.is_err() {
        return;
    }
    family(
        t,
        "civreg_hub_pg_standbys",
        "gauge",
        "Standbys connected to the hub's PostgreSQL primary, by sync_state (sync or quorum: a commit waits for them).",
    );
    let mut by_state: BTreeMap<&str, u64> = ["async", "potential", "quorum", "sync"]
        .into_iter()
        .map(|s| (s, 0))
        .collect();
    for s in standbys {
        *by_state.entry(s.sync_state.as_str()).or_default() += 1;
    }
    for (state, n) in by_state {
        let _ = writeln!(
            t,
            "civreg_hub_pg_standbys{{sync_state=\"{}\"}} {n}",
            label(state)
        );
    }
    family(
        t,
        "civreg_hub_pg_standby_streaming",
        "gauge",
        "1 per standby of the primary whose WAL sender is streaming, 0 if it is starting or catching up, with its state and sync_state as pg_stat_replication gives them.",
    );
    for s in standbys {
        let _ = writeln!(
            t,
            "civreg_hub_pg_standby_streaming{{standby=\"{}\",state=\"{}\",sync_state=\"{}\"}} {}",
            label(&s.name),
            label(&s.state),
            label(&s.sync_state),
            u8::from(s.state == "streaming")
        );
    }
    family(
        t,
        "civreg_hub_pg_replication_lag_seconds",
        "gauge",
        "Time between a commit on the primary and the standby having written, flushed and replayed it (0 when caught up and idle); absent if the hub's role may not see it (grant it pg_monitor).",
    );
    for s in standbys {
        for (stage, lag) in [
            ("write", s.write_lag_s),
            ("flush", s.flush_lag_s),
            ("replay", s.replay_lag_s),
        ] {
            if let Some(lag) = lag {
                let _ = writeln!(
                    t,
                    "civreg_hub_pg_replication_lag_seconds{{standby=\"{}\",stage=\"{stage}\"}} {lag}",
                    label(&s.name)
                );
            }
        }
    }
    family(
        t,
        "civreg_hub_pg_replication_behind_bytes",
        "gauge",
        "Bytes of WAL the standby has not replayed yet (pg_wal_lsn_diff of the primary's position and the standby's replay position).",
    );
    for s in standbys {
        if let Some(b) = s.behind_bytes {
            let _ = writeln!(
                t,
                "civreg_hub_pg_replication_behind_bytes{{standby=\"{}\"}} {b}",
                label(&s.name)
            );
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Why a TLS handshake failed, as a short label value.
pub fn handshake_failure_reason(e: &std::io::Error) -> &'static str {
    use rustls::{CertificateError, Error};
    match e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        Some(Error::NoCertificatesPresented) => "no_certificate",
        Some(Error::InvalidCertificate(c)) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not_yet_valid"
            }
            CertificateError::Revoked => "revoked",
            CertificateError::UnknownIssuer => "unknown_issuer",
            _ => "bad_certificate",
        },
        Some(Error::PeerIncompatible(_)) => "incompatible",
        Some(Error::AlertReceived(_)) => "alert_received",
        Some(Error::InvalidMessage(_)) => "invalid_message",
        Some(_) => "protocol",
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => "eof",
        None => "io",
    }
}

/// Decrements a node's open connections when its connection is dropped.
struct ConnGuard {
    node: String,
    connections: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut c = lock(&self.connections);
        if let Some(n) = c.get_mut(&self.node) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.node);
            }
        }
    }
}

/// A TLS connection counted while open; reads and writes go straight through.
pub struct Tracked<S> {
    inner: tokio_rustls::server::TlsStream<S>,
    _guard: Option<ConnGuard>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S> tonic::transport::server::Connected for Tracked<S>
where
    S: tonic::transport::server::Connected,
{
    type ConnectInfo =
        <tokio_rustls::server::TlsStream<S> as tonic::transport::server::Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::op::Hash;

    fn head(seq: u64) -> Result<Head, IngestError> {
        Ok(Head {
            seq,
            hash: Hash::default(),
        })
    }

    #[test]
    fn ingested_counts_new_ops_once_per_chain() {
        let m = Metrics::default();
        // Two pushes of one chain in a group (the second sees the first's staged head), one
        // replay, one refusal.
        m.ingested(
            &[
                ("a/1".into(), 3),
                ("a/1".into(), 3),
                ("b/1".into(), 5),
                ("c/1".into(), 0),
            ],
            &[
                head(5),
                head(7),
                head(5),
                Err(IngestError::Invalid("x".into())),
            ],
        );
        assert_eq!(m.ops_ingested(), 4);
    }

    #[test]
    fn renders_replication_only_for_a_postgresql_primary() {
        let m = Metrics::default();
        let text = m.render(&Snapshot::default());
        assert!(!text.contains("civreg_hub_pg_"), "{text}");
        let s = Snapshot {
            replication: Some(Ok(vec![crate::store::backend::postgres::Standby {
                name: "db2".into(),
                state: "streaming".into(),
                sync_state: "sync".into(),
                write_lag_s: Some(0.002),
                flush_lag_s: Some(0.003),
                replay_lag_s: None,
                behind_bytes: Some(4096),
            }])),
            ..Default::default()
        };
        let text = m.render(&s);
        for line in [
            "civreg_hub_pg_replication_readable 1\n",
            "civreg_hub_pg_standbys{sync_state=\"sync\"} 1\n",
            "civreg_hub_pg_standbys{sync_state=\"async\"} 0\n",
            "civreg_hub_pg_standby_streaming{standby=\"db2\",state=\"streaming\",sync_state=\"sync\"} 1\n",
            "civreg_hub_pg_replication_lag_seconds{standby=\"db2\",stage=\"flush\"} 0.003\n",
            "civreg_hub_pg_replication_behind_bytes{standby=\"db2\"} 4096\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("stage=\"replay\""), "{text}");
        let s = Snapshot {
            replication: Some(Err("down".into())),
            ..Default::default()
        };
        let text = m.render(&s);
        assert!(
            text.contains("civreg_hub_pg_replication_readable 0\n"),
            "{text}"
        );
        assert!(!text.contains("civreg_hub_pg_standbys"), "{text}");
    }

    #[test]
    fn renders_histogram_and_labels() {
        let m = Metrics::default();
        m.observe_ack(Duration::from_millis(3));
        m.observe_ack(Duration::from_secs(60));
        m.handshake_failed("revoked");
        let mut s = Snapshot::default();
        s.lag_and_waiting.insert("pri\"sh".into(), (4, 2));
        let text = m.render(&s);
        assert!(
            text.contains("civreg_hub_ack_latency_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("civreg_hub_ack_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("civreg_hub_ack_latency_seconds_count 2\n"));
        assert!(text.contains("civreg_hub_tls_handshake_failures_total{reason=\"revoked\"} 1\n"));
        assert!(text.contains("civreg_hub_ops_waiting{municipality=\"pri\\\"sh\"} 2\n"));
    }
}
