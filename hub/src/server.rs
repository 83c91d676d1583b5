//! The hub's gRPC server: mutual TLS only, identity from the client certificate, group-committed
//! ingest.
//!
//! TLS is terminated here with `tokio_rustls`, not tonic's built-in TLS, because the client
//! verifier must carry the CRL: each new connection uses the current `ServerConfig`, rebuilt
//! whenever `crl.pem` changes on disk, so `civreg-hub pki revoke` takes effect without a restart.
//! A connection that fails the handshake (no certificate, another CA, expired, revoked) never
//! reaches a gRPC handler.

use crate::metrics::Metrics;
use crate::pki::{PeerIdentity, Pki};
use crate::review_service::ReviewService;
use crate::rollout;
use crate::search_service::SearchService;
use crate::store::{Head, HubStore, IngestError, Prepared, StoreError};
use civreg_proto::v1::review_server::ReviewServer;
use civreg_proto::v1::search_server::SearchServer;
use civreg_proto::v1::sync_server::{Sync, SyncServer};
use civreg_proto::v1::{
    ChainRequest, HeartbeatReply, HeartbeatRequest, PullBatch, PullRequest, PushAck, PushRequest,
    RenewReply, RenewRequest,
};
use civreg_proto::ROLLOUT_METADATA;
use civreg_proto::{MAX_BATCH_OPS, MAX_MESSAGE_BYTES};
use civreg_shared::op::Op;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, warn};

/// How long a client may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most pushes the committer folds into one flush.
const GROUP_MAX: usize = 64;
/// The committer stops adding pushes to a group once it holds this many ops. Bigger groups
/// flush less often but cost more per op in sled's `apply_batch` (6 µs per op in groups of
/// 1,000, 11 µs in groups of 64,000, measured): 38 nodes pushed 44-46k ops/s with groups of up to
/// 64 batches of 1,000 and 49-60k with groups capped at 2,000-4,000 ops (BENCHMARKS.md).
pub const GROUP_MAX_OPS: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Rollout(#[from] crate::rollout::RolloutError),
    #[error("{0}")]
    Search(#[from] crate::search::SearchError),
}

/// The rustls server config, rebuilt when the content of the CRL file, the hub's certificate
/// (`civreg-hub pki renew-hub`) or the issuing CA's certificate changes (compared by content,
/// not modification time, so two revocations within one timestamp tick are both seen).
struct TlsReloader {
    pki: Pki,
    admission: Arc<crate::pki::Admission>,
    crl: PathBuf,
    current: Mutex<(Option<Vec<u8>>, Arc<rustls::ServerConfig>)>,
}

impl TlsReloader {
    fn new(pki: Pki, admission: Arc<crate::pki::Admission>) -> Result<TlsReloader, ServeError> {
        let crl = pki.crl_path();
        let content = Self::watched(&pki);
        let cfg = Arc::new(pki.server_config_with(admission.clone())?);
        Ok(TlsReloader {
            pki,
            admission,
            crl,
            current: Mutex::new((content, cfg)),
        })
    }

    /// What the configuration is built from: CRL, hub certificate (its key is written before
    /// it, so a new certificate comes with its key), issuing CA certificate.
    fn watched(pki: &Pki) -> Option<Vec<u8>> {
        let mut all = std::fs::read(pki.crl_path()).ok()?;
        all.extend(std::fs::read(pki.hub_cert_path()).ok()?);
        all.extend(std::fs::read(pki.issuing_cert_path()).unwrap_or_default());
        Some(all)
    }

    fn config(&self) -> Arc<rustls::ServerConfig> {
        let content = Self::watched(&self.pki);
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if content != cur.0 {
            match self.pki.server_config_with(self.admission.clone()) {
                Ok(cfg) => {
                    info!(crl = %self.crl.display(), "revocation list or hub certificate changed: new TLS config in force");
                    *cur = (content, Arc::new(cfg));
                }
                // Keep refusing with the old config rather than serving without a CRL.
                Err(e) => {
                    warn!(error = %e, "could not reload the revocation list; keeping the previous one")
                }
            }
        }
        cur.1.clone()
    }
}

/// After a refused handshake the alert has been written; close our side and read what the
/// client still sends for a moment, so the socket is not reset before the alert reaches it.
async fn linger(mut io: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = io.shutdown().await;
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

type Reply = Result<Result<Head, IngestError>, String>;

struct Job {
    who: PeerIdentity,
    ops: Vec<Prepared>,
    reply: oneshot::Sender<Reply>,
}

/// A push batch waiting for its answer, or a refusal the reader found before committing.
enum Pending {
    Commit(oneshot::Receiver<Reply>, usize, std::time::Instant),
    Refuse(Status),
}

/// Push batches of one stream handed to the committer and not yet answered.
const PUSH_IN_FLIGHT: usize = 4;

/// Runs ingest on one thread: takes every push waiting, verifies them, commits and flushes once.
fn spawn_committer(store: Arc<HubStore>, metrics: Arc<Metrics>) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    std::thread::Builder::new()
        .name("civreg-committer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut ops = first.ops.len();
                let mut jobs = vec![first];
                while jobs.len() < GROUP_MAX && ops < GROUP_MAX_OPS {
                    match rx.try_recv() {
                        Ok(j) => {
                            ops += j.ops.len();
                            jobs.push(j);
                        }
                        Err(_) => break,
                    }
                }
                let pushes = jobs
                    .iter_mut()
                    .map(|j| (j.who.clone(), std::mem::take(&mut j.ops)))
                    .collect();
                // metrics: the heads before, so that only newly stored ops are counted.
                let before: Vec<(String, u64)> = jobs
                    .iter()
                    .map(|j| match &j.who {
                        PeerIdentity::Node {
                            municipality,
                            node_id,
                        } => (
                            format!("{municipality}/{node_id}"),
                            store.head(municipality, node_id).seq,
                        ),
                        other => (other.to_string(), 0),
                    })
                    .collect();
                match store.ingest_prepared(pushes) {
                    Ok(answers) => {
                        metrics.ingested(&before, &answers);
                        for (j, a) in jobs.into_iter().zip(answers) {
                            let _ = j.reply.send(Ok(a));
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "ingest failed: nothing of this group was acknowledged");
                        for j in jobs {
                            let _ = j.reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        })
        .expect("spawn committer thread");
    tx
}

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

#[derive(Clone)]
pub struct SyncService {
    store: Arc<HubStore>,
    rollout: Arc<rollout::Watcher>,
    committer: mpsc::Sender<Job>,
    seen: Arc<Mutex<HashMap<String, NodeSeen>>>,
    metrics: Arc<Metrics>,
    /// For `Renew` and the heartbeat's certificate fields (issue 17, `pki/lifecycle.rs`).
    pki: Pki,
    admission: Arc<crate::pki::Admission>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn identity<T>(req: &Request<T>) -> Result<PeerIdentity, Status> {
    crate::live::Admitted::recheck_request(req)?; // revoked since the connection opened?
    let certs = req
        .peer_certs()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    let leaf = certs
        .first()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    crate::pki::peer_identity(leaf.as_ref()).map_err(|e| {
        Status::permission_denied(format!("certificate names no civreg identity: {e}"))
    })
}

fn node_of(who: &PeerIdentity) -> Result<(String, String), Status> {
    match who {
        PeerIdentity::Node {
            municipality,
            node_id,
        } => Ok((municipality.clone(), node_id.clone())),
        other => Err(Status::permission_denied(format!(
            "{other} is not a node: this call is for nodes"
        ))),
    }
}

/// The longest prefix of `ops` whose wire encodings fit in `MAX_BATCH_BYTES` (at least one op).
fn pull_batch_ops(ops: &[Op]) -> Vec<civreg_proto::v1::Op> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for op in ops {
        let w = civreg_proto::v1::Op::from(op);
        let len = civreg_proto::encoded_len(&w) + 8;
        if !out.is_empty() && bytes + len > civreg_shared::limits::MAX_BATCH_BYTES {
            break;
        }
        bytes += len;
        out.push(w);
    }
    out
}

/// The status for a refusal by the rollout, marked so that the node knows to keep trying.
pub(crate) fn rollout_status(r: &rollout::Refusal) -> Status {
    let (code, mark) = match r {
        rollout::Refusal::Planned(_) => (tonic::Code::PermissionDenied, "planned"),
        rollout::Refusal::Suspended { .. } => (tonic::Code::FailedPrecondition, "suspended"),
        rollout::Refusal::Kind { .. } => (tonic::Code::PermissionDenied, "kind"),
    };
    let mut st = Status::new(code, r.to_string());
    st.metadata_mut().insert(
        ROLLOUT_METADATA,
        tonic::metadata::MetadataValue::from_static(mark),
    );
    st
}

impl SyncService {
    /// The rollout lets this node push now: a refusal noted before is over and no longer shown
    /// (the dashboard shows a refusal only until the node's next push the rollout admits).
    fn admitted_again(&self, m: &str, n: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = seen.get_mut(&format!("{m}/{n}")) {
            if e.last_refusal.take().is_some() {
                info!(municipality = %m, node = %n, "admitted again after a refusal by the rollout");
            }
            e.last_refusal_ms = None;
        }
    }

    /// Notes a refusal where `status` and the dashboard show it, logs it, and returns its status.
    fn refuse(&self, m: &str, n: &str, r: &rollout::Refusal) -> Status {
        warn!(municipality = %m, node = %n, reason = %r, "refused by the rollout");
        let now = now_ms();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let e = seen.entry(format!("{m}/{n}")).or_default();
        e.last_refusal = Some(r.to_string());
        e.last_refusal_ms = Some(now);
        rollout_status(r)
    }
}

fn ack(h: Head) -> PushAck {
    PushAck {
        acked_seq: h.seq,
        acked_hash: if h.seq == 0 {
            Vec::new()
        } else {
            h.hash.0.to_vec()
        },
    }
}

fn status_of(e: &IngestError) -> Status {
    match e {
        IngestError::Denied(m) => Status::permission_denied(m.clone()),
        IngestError::Gap { .. } | IngestError::Fork { .. } => {
            Status::failed_precondition(e.to_string())
        }
        IngestError::Invalid(m) => Status::invalid_argument(m.clone()),
        IngestError::NotHeld(m) => Status::not_found(m.clone()),
        IngestError::Ahead { retry_ms, .. } => {
            let mut st = Status::failed_precondition(e.to_string());
            if let Ok(v) = retry_ms.to_string().parse() {
                st.metadata_mut().insert(civreg_proto::RETRY_METADATA, v);
            }
            st
        }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl Sync for SyncService {
    type PushStream = BoxStream<PushAck>;
    type PullStream = BoxStream<PullBatch>;
    type ChainStream = BoxStream<PullBatch>;

    async fn push(
        &self,
        req: Request<Streaming<PushRequest>>,
    ) -> Result<Response<Self::PushStream>, Status> {
        let who = identity(&req)?;
        let (m, n) = node_of(&who)?;
        if let Err(r) = self.rollout.current().check_push(&m, []) {
            return Err(self.refuse(&m, &n, &r));
        }
        self.admitted_again(&m, &n);
        let head = self.store.head(&m, &n);
        let admitted = req.extensions().get::<crate::live::Admitted>().cloned();
        let mut inbound = req.into_inner();
        let service = self.clone();
        let (tx, rx) = mpsc::channel::<Result<PushAck, Status>>(16);
        let committer = self.committer.clone();
        let _ = tx.send(Ok(ack(head))).await;
        // Two tasks per stream, so that the next batch is read and decoded while the committer
        // stores the previous one: the reader hands each batch to the committer in order and
        // queues the wait for its answer (at most PUSH_IN_FLIGHT); the acker answers them in that
        // same order. The first refusal ends the stream: the acker stops, and the reader with it.
        // A batch queued behind a refused one is answered by the committer (a gap, since what it
        // follows was not stored) but never acknowledged.
        let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(PUSH_IN_FLIGHT);
        let acker = service.clone();
        let (acker_who, am, an) = (who.clone(), m.clone(), n.clone());
        let atx = tx.clone();
        tokio::spawn(async move {
            while let Some(p) = pending_rx.recv().await {
                let (rrx, count, received) = match p {
                    Pending::Commit(rrx, count, received) => (rrx, count, received),
                    Pending::Refuse(status) => {
                        let _ = atx.send(Err(status)).await;
                        break;
                    }
                };
                match rrx.await {
                    Ok(Ok(Ok(head))) => {
                        tracing::debug!(identity = %acker_who, ops = count, acked = head.seq, "push acknowledged");
                        if atx.send(Ok(ack(head))).await.is_err() {
                            break;
                        }
                        acker.metrics.observe_ack(received.elapsed());
                    }
                    Ok(Ok(Err(e))) => {
                        warn!(identity = %acker_who, municipality = %am, node = %an, error = %e, "push refused");
                        acker
                            .metrics
                            .node_error(&am, &an, format!("push refused: {e}"));
                        let _ = atx.send(Err(status_of(&e))).await;
                        break;
                    }
                    Ok(Err(e)) => {
                        let _ = atx
                            .send(Err(Status::unavailable(format!(
                                "hub could not store: {e}"
                            ))))
                            .await;
                        break;
                    }
                    Err(_) => {
                        let _ = atx
                            .send(Err(Status::unavailable("hub is shutting down")))
                            .await;
                        break;
                    }
                }
            }
        });
        drop(tx);
        tokio::spawn(async move {
            while let Some(msg) = inbound.next().await {
                let msg = match msg {
                    Ok(m) => m,
                    // A message over the limit (tonic: OUT_OF_RANGE) or one that is not a
                    // PushRequest (INTERNAL, from prost) is the caller's fault: say so.
                    Err(status)
                        if matches!(
                            status.code(),
                            tonic::Code::OutOfRange | tonic::Code::Internal
                        ) =>
                    {
                        warn!(identity = %who, error = %status, "unreadable push message refused");
                        let _ = pending_tx
                            .send(Pending::Refuse(Status::invalid_argument(format!(
                                "the push message could not be read: {}; send batches of at most {} bytes (civreg_shared::limits::MAX_BATCH_BYTES)",
                                status.message(),
                                civreg_shared::limits::MAX_BATCH_BYTES
                            ))))
                            .await;
                        break;
                    }
                    Err(status) => {
                        warn!(identity = %who, error = %status, "push stream broke");
                        break;
                    }
                };
                let received = std::time::Instant::now(); // metrics: ack latency
                                                          // A certificate revoked while the stream is open stores nothing more.
                if let Some(Err(st)) = admitted.as_ref().map(|a| a.recheck()) {
                    let _ = pending_tx.send(Pending::Refuse(st)).await;
                    break;
                }
                if msg.ops.len() > MAX_BATCH_OPS {
                    let _ = pending_tx
                        .send(Pending::Refuse(Status::invalid_argument(format!(
                            "a push batch may hold at most {MAX_BATCH_OPS} ops, this one holds {}",
                            msg.ops.len()
                        ))))
                        .await;
                    break;
                }
                let ops: Result<Vec<Op>, _> = msg.ops.into_iter().map(Op::try_from).collect();
                let ops = match ops {
                    Ok(o) => o,
                    Err(e) => {
                        warn!(identity = %who, error = %e, "malformed op refused");
                        let _ = pending_tx
                            .send(Pending::Refuse(Status::invalid_argument(e.to_string())))
                            .await;
                        break;
                    }
                };
                let created = ops
                    .iter()
                    .filter(|o| o.change == civreg_shared::op::ChangeKind::Create)
                    .map(|o| o.record_kind);
                if let Err(r) = service.rollout.current().check_push(&m, created) {
                    // A node pushes one op at a time after a refusal (`civreg-node`'s sync), so
                    // the op refused is known: an operator may set it aside.
                    if let [op] = ops.as_slice() {
                        if op.id.seq == service.store.head(&m, &n).seq + 1 {
                            service.store.note_refused(
                                &m,
                                &n,
                                op,
                                format!("refused by the rollout: {r}"),
                            );
                        }
                    }
                    let _ = pending_tx
                        .send(Pending::Refuse(service.refuse(&m, &n, &r)))
                        .await;
                    break;
                }
                // Each op's own check and encodings, here on the async workers rather than on
                // the one committer thread (see `Prepared`).
                let now = now_ms();
                let ops: Vec<Prepared> = ops
                    .into_iter()
                    .map(|o| Prepared::received(o, now))
                    .collect();
                let count = ops.len();
                let (rtx, rrx) = oneshot::channel();
                if committer
                    .send(Job {
                        who: who.clone(),
                        ops,
                        reply: rtx,
                    })
                    .await
                    .is_err()
                {
                    let _ = pending_tx
                        .send(Pending::Refuse(Status::unavailable("hub is shutting down")))
                        .await;
                    break;
                }
                if pending_tx
                    .send(Pending::Commit(rrx, count, received))
                    .await
                    .is_err()
                {
                    break; // the acker stopped: a refusal ended the stream
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn pull(&self, req: Request<PullRequest>) -> Result<Response<Self::PullStream>, Status> {
        let who = identity(&req)?;
        let (m, n) = node_of(&who)?;
        if let Err(r) = self.rollout.current().check_connect(&m) {
            return Err(self.refuse(&m, &n, &r));
        }
        let PullRequest { cursor, max_batch } = req.into_inner();
        let max = (max_batch as usize).clamp(1, MAX_BATCH_OPS);
        let store = self.store.clone();
        let (tx, rx) = mpsc::channel::<Result<PullBatch, Status>>(4);
        tokio::spawn(async move {
            let mut cursor = cursor;
            loop {
                let st = store.clone();
                let mm = m.clone();
                let got =
                    tokio::task::spawn_blocking(move || st.feed_after(&mm, cursor, max)).await;
                let (ops, next) = match got {
                    Ok(Ok(v)) => v,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                        return;
                    }
                    Err(_) => return,
                };
                if ops.is_empty() {
                    return;
                }
                // Cut by bytes as well as count, so that a batch always fits in a message: an op
                // larger than a batch goes alone. Feed positions are consecutive, so the cursor
                // after the ops kept is `next` less the ops left for the next batch.
                let wire = pull_batch_ops(&ops);
                cursor = next - (ops.len() - wire.len()) as u64;
                let batch = PullBatch { ops: wire, cursor };
                if tx.send(Ok(batch)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn heartbeat(
        &self,
        req: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatReply>, Status> {
        let who = identity(&req)?;
        let (m, n) = node_of(&who)?;
        if let Err(r) = self.rollout.current().check_connect(&m) {
            return Err(self.refuse(&m, &n, &r));
        }
        let renew_required = req
            .extensions()
            .get::<crate::live::Admitted>()
            .is_some_and(|a| self.admission.renewal_required(&a.serial));
        let hb = req.into_inner();
        let now = now_ms();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let e = seen.entry(format!("{m}/{n}")).or_default();
        e.last_seen_ms = now;
        e.version = hb.version;
        e.unacked_ops = hb.unacked_ops;
        e.oldest_unacked_age_s = hb.oldest_unacked_age_s;
        e.clock_offset_ms = hb.clock_ms as i64 - now as i64;
        e.free_disk_bytes = hb.free_disk_bytes;
        e.sync_interval_ms = hb.sync_interval_ms.min(MAX_SYNC_INTERVAL_MS);
        if !hb.halted.is_empty() && e.halted != hb.halted {
            warn!(municipality = %m, node = %n, why = %hb.halted, "node has stopped registering");
        }
        e.halted = hb
            .halted
            .chars()
            .take(civreg_shared::limits::MAX_TEXT_CHARS)
            .collect();
        e.backup_at_ms = hb.backup_at_ms;
        e.backup_error = hb
            .backup_error
            .chars()
            .take(civreg_shared::limits::MAX_TEXT_CHARS)
            .collect();
        drop(seen);
        // What the node holds of its own log: a recovery names the ops after the hub's head up
        // to the highest reported as lost.
        if hb.log_seq > 0 {
            self.store
                .note_reported_log(&m, &n, hb.log_seq, now)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let (reported_log_seq, reported_log_at_ms) = self
            .store
            .reported_log(&m, &n)
            .map_err(|e| Status::internal(e.to_string()))?;
        // An op too large to push, as the node reports it: listed for an operator to set aside
        // (a node can only name ops of its own chain, so a false report blocks only itself).
        if hb.too_large_seq > 0 && hb.too_large_seq == self.store.head(&m, &n).seq + 1 {
            if let Ok(hash) = <[u8; 32]>::try_from(hb.too_large_hash.as_slice()) {
                let record: String = hb
                    .too_large_record
                    .chars()
                    .take(civreg_shared::limits::MAX_NAME_CHARS)
                    .collect();
                self.store.note_refused_seq(
                    &m,
                    &n,
                    hb.too_large_seq,
                    civreg_shared::op::Hash(hash),
                    &record,
                    "the op is too large for any push message (saved by an older version, as the office reports)".into(),
                );
            }
        }
        // Certificates the office issued: kept, so that the agency knows every one in circulation.
        let certificates_through = if hb.certificates.is_empty() {
            String::new()
        } else {
            crate::certificates::record_issues(&self.store, &m, &n, &hb.certificates, now)
                .map_err(|e| Status::internal(e.to_string()))?
        };
        // The rollout goes back with the reply, so that the node refuses at save what a push
        // would be refused for.
        let rollout = self.rollout.current();
        let entry = rollout.entry(&m);
        let set_aside = self
            .store
            .set_aside_of(&m, &n)
            .map_err(|e| Status::internal(e.to_string()))?
            .into_iter()
            .map(|a| civreg_proto::v1::SetAsideOp {
                seq: a.seq,
                hash: a.hash.0.to_vec(),
                reason: a.reason,
                at_ms: a.at_ms,
            })
            .collect();
        let hub_cert = self.pki.hub_cert_info().ok();
        Ok(Response::new(HeartbeatReply {
            acked_seq: self.store.head(&m, &n).seq,
            hub_clock_ms: now,
            rollout_known: true,
            stage: entry
                .map(|e| e.stage.as_str())
                .unwrap_or("planned")
                .to_string(),
            kinds: entry
                .map(|e| {
                    e.kinds
                        .iter()
                        .map(|k| civreg_proto::kind_to_wire(*k) as i32)
                        .collect()
                })
                .unwrap_or_default(),
            set_aside,
            certificates_through,
            reported_log_seq,
            reported_log_at_ms,
            renew_required,
            hub_cert_not_after_ms: hub_cert.as_ref().map(|h| h.not_after_ms).unwrap_or(0),
            hub_cert_sha256: hub_cert.map(|h| h.sha256).unwrap_or_default(),
        }))
    }

    async fn renew(&self, req: Request<RenewRequest>) -> Result<Response<RenewReply>, Status> {
        let who = identity(&req)?;
        let (m, n) = node_of(&who)?;
        // A suspended (or planned) municipality's offices get no new certificate.
        let rollout = self.rollout.current();
        if let Err(r) = rollout.check_connect(&m) {
            return Err(self.refuse(&m, &n, &r));
        }
        if let Err(r) = rollout.check_push(&m, []) {
            return Err(self.refuse(&m, &n, &r));
        }
        let csr = req.into_inner().csr_der;
        let pki = self.pki.clone();
        let renewed = tokio::task::spawn_blocking(move || pki.renew_from_csr(&who, &csr))
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        use crate::pki::lifecycle::RenewError;
        match renewed {
            Ok(r) => {
                info!(municipality = %m, node = %n, serial = %r.entry.serial, not_after = %crate::pki::format_utc(r.entry.not_after), "node certificate renewed");
                Ok(Response::new(RenewReply {
                    cert_pem: r.cert_pem,
                    ca_pem: r.ca_pem,
                    serial: r.entry.serial,
                    not_after_ms: (r.entry.not_after.unix_timestamp().max(0) as u64)
                        .saturating_mul(1000),
                }))
            }
            Err(e @ RenewError::NotCaller { .. }) | Err(e @ RenewError::NotNode(_)) => {
                warn!(municipality = %m, node = %n, error = %e, "renewal refused");
                Err(Status::permission_denied(e.to_string()))
            }
            Err(
                e @ (RenewError::TooLarge(_) | RenewError::BadRequest(_) | RenewError::KeyType),
            ) => {
                warn!(municipality = %m, node = %n, error = %e, "renewal refused");
                Err(Status::invalid_argument(e.to_string()))
            }
            Err(RenewError::Pki(e)) => {
                warn!(municipality = %m, node = %n, error = %e, "renewal failed at the hub");
                Err(Status::unavailable(e.to_string()))
            }
        }
    }

    async fn chain(
        &self,
        req: Request<ChainRequest>,
    ) -> Result<Response<Self::ChainStream>, Status> {
        let who = identity(&req)?;
        let (m, n) = node_of(&who)?;
        if let Err(r) = self.rollout.current().check_connect(&m) {
            return Err(self.refuse(&m, &n, &r));
        }
        let ChainRequest {
            after_seq,
            max_batch,
        } = req.into_inner();
        let max = (max_batch as usize).clamp(1, MAX_BATCH_OPS);
        let store = self.store.clone();
        let (tx, rx) = mpsc::channel::<Result<PullBatch, Status>>(4);
        tokio::spawn(async move {
            let mut after = after_seq;
            loop {
                let (st, mm, nn) = (store.clone(), m.clone(), n.clone());
                let got =
                    tokio::task::spawn_blocking(move || st.chain_after(&mm, &nn, after, max)).await;
                let (ops, stop) = match got {
                    Ok(Ok(v)) => v,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                        return;
                    }
                    Err(_) => return,
                };
                if !ops.is_empty() {
                    let wire = pull_batch_ops(&ops);
                    after += wire.len() as u64;
                    let batch = PullBatch {
                        cursor: after,
                        ops: wire,
                    };
                    if tx.send(Ok(batch)).await.is_err() {
                        return;
                    }
                    continue;
                }
                if let Some(seq) = stop {
                    let _ = tx
                        .send(Err(Status::failed_precondition(format!(
                            "op #{seq} of this node's chain was set aside by an operator: the hub holds only its hash and can not send it"
                        ))))
                        .await;
                }
                return;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
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

pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("status.json")
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

async fn write_status_loop(
    data_dir: PathBuf,
    store: Arc<HubStore>,
    seen: Arc<Mutex<HashMap<String, NodeSeen>>>,
) {
    loop {
        let st = {
            let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            hub_status(&store, &seen)
        };
        let path = status_path(&data_dir);
        let tmp = path.with_extension("json.tmp");
        if let Ok(b) = serde_json::to_vec_pretty(&st) {
            if std::fs::write(&tmp, b)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .is_err()
            {
                warn!(path = %path.display(), "could not write the status file");
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Paths of the hub's files under its data dir.
pub fn pki_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("pki")
}

pub fn db_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("db")
}

/// Serves the hub on `listener` until `shutdown` completes. Tests call this on port 0.
pub async fn run(
    data_dir: &Path,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    run_with(data_dir, listener, RunOptions::default(), shutdown).await
}

// ---- web dashboard hook (hub/src/web) ----
/// What `run_with` serves besides gRPC.
#[derive(Default)]
pub struct RunOptions {
    /// The operator dashboard and `/metrics` (plain HTTP: keep it on loopback).
    pub http: Option<TcpListener>,
    pub web: crate::web::Settings,
    /// The key file that seals the database (default [`crate::atrest::default_key_path`]).
    pub key_file: Option<PathBuf>,
}
// ---- end web dashboard hook ----

/// How long `serve` waits for a store another civreg-hub process holds (a `status`, `show` or
/// `digest` run while no hub served opens the database itself for a moment).
pub const STORE_WAIT: Duration = Duration::from_secs(30);

/// Opens the hub's store, waiting up to [`STORE_WAIT`] while another process holds it, as the
/// node's `serve` does; says once that it waits.
async fn open_waiting(db: &Path, key_file: &Path) -> Result<HubStore, crate::store::StoreError> {
    let deadline = tokio::time::Instant::now() + STORE_WAIT;
    let mut said = false;
    loop {
        let keys = crate::atrest::load_key(key_file)?;
        let db2 = db.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || HubStore::open(&db2, keys))
            .await
            .map_err(|e| crate::store::StoreError::Backend(e.to_string()))?;
        match opened {
            Err(crate::store::StoreError::Locked(_)) if tokio::time::Instant::now() < deadline => {
                if !said {
                    info!(db = %db.display(), wait_s = STORE_WAIT.as_secs(), "the hub database is held by another civreg-hub process (a status, show or digest command?): waiting for it");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// [`run`], with the dashboard's listener when `opts.http` is given.
pub async fn run_with(
    data_dir: &Path,
    listener: TcpListener,
    opts: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let pki = Pki::open(&pki_dir(data_dir))?;
    if let Some(key) = pki.legacy_ca_key() {
        warn!(key = %key.display(), "the agency CA's private key is on the serving hub: whoever reads this disk can mint certificates; take it offline with `civreg-hub pki root take-offline --dir OFFLINE_DIR` (operator manual, \"Key ceremony\")");
    }
    let web_pki = pki.clone(); // web dashboard hook
    let svc_pki = pki.clone();
    let admission = Arc::new(crate::pki::Admission::new(&pki));
    let revocations = tokio::spawn(crate::live::watch_revocations(admission.clone()));
    let reloader = Arc::new(TlsReloader::new(pki, admission.clone())?);
    let conn_admission = admission.clone();
    let (health, health_svc) = tonic_health::server::health_reporter();
    health.set_not_serving::<SyncServer<SyncService>>().await;
    // What an older version, or a hub started by hand under umask 022, left readable by others.
    crate::atrest::tighten_logged(data_dir)?;
    let key_file =
        (opts.key_file.clone()).unwrap_or_else(|| crate::atrest::default_key_path(data_dir));
    crate::atrest::warn_if_key_inside(data_dir, &key_file);
    let store = Arc::new(open_waiting(&db_dir(data_dir), &key_file).await?);
    let metrics = Arc::new(Metrics::default());
    let svc = SyncService {
        rollout: Arc::new(rollout::Watcher::new(data_dir)?),
        committer: spawn_committer(store.clone(), metrics.clone()),
        store,
        seen: Arc::new(Mutex::new(HashMap::new())),
        metrics: metrics.clone(),
        pki: svc_pki,
        admission: admission.clone(),
    };
    // The national search index follows the feed on its own thread.
    let search_index = Arc::new(crate::search::SearchIndex::open(data_dir)?);
    let _indexer = search_index.follow(svc.store.clone(), Duration::from_millis(500));
    let access_log = Arc::new(crate::access::AccessLog::open(data_dir)?);
    health.set_serving::<SyncServer<SyncService>>().await;
    // Commands (`show`, `status`, ...) reach the live store through DATA_DIR/hub.sock.
    let control = crate::control::ControlServer::start(
        data_dir,
        Arc::new(crate::control::HubState {
            store: svc.store.clone(),
            seen: svc.seen.clone(),
            running: true,
            search: std::sync::OnceLock::from(search_index.clone()),
            data_dir: data_dir.to_path_buf(),
        }),
    )
    .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    let status_task = tokio::spawn(write_status_loop(
        data_dir.to_path_buf(),
        svc.store.clone(),
        svc.seen.clone(),
    ));
    // ---- web dashboard hook: started once the store is open ----
    let web_task = opts.http.map(|http| {
        let ctx = crate::web::Context::new(
            data_dir,
            svc.store.clone(),
            svc.seen.clone(),
            metrics.clone(),
            web_pki,
            opts.web,
        );
        tokio::spawn(crate::web::serve(http, ctx))
    });
    // ---- end web dashboard hook ----
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(civreg_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    // The same services under the older name many clients (grpcurl builds, IDEs) still ask for.
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(civreg_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;

    let local = listener.local_addr()?;
    info!(addr = %local, "hub listening (mutual TLS only)");
    let (tx, rx) = mpsc::channel(64);
    let accept = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = tokio_rustls::TlsAcceptor::from(reloader.config());
            let tx = tx.clone();
            let metrics = metrics.clone();
            let admission = conn_admission.clone();
            tokio::spawn(async move {
                let accept = acceptor.accept(tcp).into_fallible();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
                    Ok(Ok(tls)) => {
                        let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
                        let leaf = leaf.map(|c| c.as_ref().to_vec());
                        // metrics: counts the node as connected while the connection is open.
                        let tls = metrics.track(tls);
                        // Closed on revocation, or when no HTTP/2 preface comes (live.rs).
                        let tls = crate::live::Guarded::new(tls, leaf.as_deref(), admission);
                        let _ = tx.send(Ok::<_, std::io::Error>(tls)).await;
                    }
                    Ok(Err((e, io))) => {
                        warn!(%peer, reason = %e, "TLS handshake refused");
                        metrics.handshake_failed(crate::metrics::handshake_failure_reason(&e));
                        linger(io).await;
                    }
                    Err(_) => {
                        warn!(%peer, "TLS handshake timed out");
                        metrics.handshake_failed("timeout");
                    }
                }
            });
        }
    });
    let result = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(20)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .layer(tonic::service::InterceptorLayer::new(crate::live::admit(
            admission,
        )))
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(
            SearchServer::new(SearchService {
                index: search_index.clone(),
                log: access_log.clone(),
                rollout: svc.rollout.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ReviewServer::new(ReviewService {
                store: svc.store.clone(),
                rollout: svc.rollout.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            SyncServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await;
    accept.abort();
    revocations.abort();
    status_task.abort();
    control.stop();
    if let Some(t) = web_task {
        t.abort(); // web dashboard hook
    }
    result?;
    Ok(())
}
