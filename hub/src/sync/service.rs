//! The `Sync` gRPC service: push (each batch handed to the committer, acknowledged after the
//! flush), pull (the municipality's feed), heartbeat (liveness, certificate state), renew, chain.
//! Every call names its caller by the client certificate (`grpc::identity`) and passes the
//! rollout first.

use super::committer::{Job, Reply};
use crate::grpc::{identity, node_of, ToStatus};
use crate::metrics::Metrics;
use crate::pki::Pki;
use crate::rollout;
use crate::status::{Liveness, MAX_SYNC_INTERVAL_MS};
use crate::store::{Head, HubStore, Prepared};
use civreg_proto::v1::sync_server::Sync;
use civreg_proto::v1::{
    ChainRequest, HeartbeatReply, HeartbeatRequest, PullBatch, PullRequest, PushAck, PushRequest,
    RenewReply, RenewRequest,
};
use civreg_proto::MAX_BATCH_OPS;
use civreg_shared::op::Op;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, warn};

/// A push batch waiting for its answer, or a refusal the reader found before committing.
enum Pending {
    Commit(oneshot::Receiver<Reply>, usize, std::time::Instant),
    Refuse(Status),
}

/// Push batches of one stream handed to the committer and not yet answered (default of
/// `sync.push_in_flight`).
pub const PUSH_IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub struct SyncService {
    pub store: Arc<HubStore>,
    pub rollout: Arc<rollout::Watcher>,
    pub committer: mpsc::Sender<Job>,
    /// Push batches of one stream handed to the committer and not yet answered.
    pub push_in_flight: usize,
    pub seen: Arc<Liveness>,
    pub metrics: Arc<Metrics>,
    /// For `Renew` and the heartbeat's certificate fields (issue 17, `pki/lifecycle.rs`).
    pub pki: Pki,
    pub admission: Arc<crate::pki::Admission>,
    /// The matching model the offices' duplicate check gets with the heartbeat (issue 16).
    pub node_model: Arc<crate::linkage::models::NodeModelCache>,
    /// `hub_urls` of the config: the hub list heartbeats carry when none is stored
    /// ([`crate::hub_list::in_use`], issue 19 part 3).
    pub hub_urls: Arc<Vec<String>>,
}

use civreg_runtime::clock::now_ms;

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

impl SyncService {
    /// The rollout lets this node push now: a refusal noted before is over and no longer shown
    /// (the dashboard shows a refusal only until the node's next push the rollout admits).
    fn admitted_again(&self, m: &str, n: &str) {
        if self.seen.admitted_again(m, n) {
            info!(municipality = %m, node = %n, "admitted again after a refusal by the rollout");
        }
    }

    /// Notes a refusal where `status` and the dashboard show it, logs it, and returns its status.
    fn refuse(&self, m: &str, n: &str, r: &rollout::Refusal) -> Status {
        warn!(municipality = %m, node = %n, reason = %r, "refused by the rollout");
        let now = now_ms();
        self.seen.note(m, n, |e| {
            e.last_refusal = Some(r.to_string());
            e.last_refusal_ms = Some(now);
        });
        r.to_status()
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
        // queues the wait for its answer (at most `push_in_flight`); the acker answers them in that
        // same order. The first refusal ends the stream: the acker stops, and the reader with it.
        // A batch queued behind a refused one is answered by the committer (a gap, since what it
        // follows was not stored) but never acknowledged.
        let (pending_tx, mut pending_rx) = mpsc::channel::<Pending>(self.push_in_flight.max(1));
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
                        let _ = atx.send(Err(e.to_status())).await;
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
        let PullRequest {
            cursor,
            max_batch,
            reads_format,
        } = req.into_inner();
        let max = (max_batch as usize).clamp(1, MAX_BATCH_OPS);
        // A node older than the field sends 0: it reads the first release's records.
        let reads = reads_format.max(1);
        let store = self.store.clone();
        let seen = self.seen.clone();
        let (tx, rx) = mpsc::channel::<Result<PullBatch, Status>>(4);
        tokio::spawn(async move {
            let mut cursor = cursor;
            loop {
                let st = store.clone();
                let mm = m.clone();
                let got =
                    tokio::task::spawn_blocking(move || st.feed_after(&mm, cursor, max)).await;
                let (mut ops, mut next) = match got {
                    Ok(Ok(v)) => v,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                        return;
                    }
                    Err(_) => return,
                };
                // An op naming a field this node can not read stops its feed there: sent, it
                // would stop the node's every pull at that op; held back, the node keeps what it
                // has and takes the rest once upgraded (the cursor stays before the op).
                let held = ops.iter().position(|op| op.reader_format() > reads);
                if let Some(k) = held {
                    let op = &ops[k];
                    let why = format!(
                        "its feed waits at {} ({}): the record uses format {} and this office's \
                         version reads format {reads}; upgrade civreg-node at this office",
                        op.record_id,
                        op.id,
                        op.reader_format()
                    );
                    let new = seen.note(&m, &n, |e| {
                        let new = e.held_back != why;
                        e.held_back.clone_from(&why);
                        new
                    });
                    if new {
                        warn!(municipality = %m, node = %n, %why, "feed held back for an older node");
                    }
                    next -= (ops.len() - k) as u64;
                    ops.truncate(k);
                } else if ops.len() < max {
                    // The feed's end reached with nothing held back.
                    seen.note(&m, &n, |e| e.held_back.clear());
                }
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
        // During a CA rollover: which offices trust the new root (at most a few roots counted).
        if !hb.trusted_ca_sha256.is_empty() && self.pki.rollover_active() {
            let trusted: Vec<String> = hb.trusted_ca_sha256.iter().take(8).cloned().collect();
            let pki = self.pki.clone();
            let who = who.clone();
            match tokio::task::spawn_blocking(move || pki.note_trust(&who, &trusted)).await {
                Ok(Ok(true)) => {
                    info!(municipality = %m, node = %n, "office trusts the new root CA")
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => {
                    warn!(municipality = %m, node = %n, error = %e, "could not record the office's trust of the new root CA")
                }
                Err(e) => {
                    warn!(error = %e, "could not record the office's trust of the new root CA")
                }
            }
        }
        self.seen.note(&m, &n, |e| {
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
        });
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
        // A clerk's requests to un-void a record: kept for the operators, answered as they stand.
        let unvoid_answers = if hb.unvoid_requests.is_empty() {
            Vec::new()
        } else {
            crate::unvoid::take(&self.store, &m, &n, &hb.unvoid_requests, now)
                .map_err(|e| Status::internal(e.to_string()))?
        };
        // The office's clerk accounts (issue 17): taken when sent (checked whole, only as this
        // node's own), named in the reply by digest, and sent back when a rebuilt node asks.
        let clerk_roster_refused = match &hb.clerk_roster {
            None => String::new(),
            Some(sent) => match crate::clerks::take(&self.store, &m, &n, sent, now)
                .map_err(|e| Status::internal(e.to_string()))?
            {
                Ok(_) => String::new(),
                Err(why) => {
                    warn!(municipality = %m, node = %n, %why, "clerk accounts refused");
                    why
                }
            },
        };
        let clerk_roster = crate::clerks::held(&self.store, &m, &n)
            .map_err(|e| Status::internal(e.to_string()))?;
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
        // The duplicate check's model (issue 16): named by id and digest in every reply, sent
        // whole only when the node was not offered this one yet.
        let node_model = {
            let (store, cache) = (self.store.clone(), self.node_model.clone());
            match tokio::task::spawn_blocking(move || cache.get(&store)).await {
                Ok(Ok(m)) => m,
                Ok(Err(e)) => {
                    warn!(error = %e, "the matching model for the offices can not be read");
                    None
                }
                Err(e) => {
                    warn!(error = %e, "the matching model for the offices can not be read");
                    None
                }
            }
        };
        let (dupes_model_sha256, dupes_model_id, dupes_model_json) = match node_model {
            Some(nm) => {
                let json = if hb.dupes_model_sha256.as_slice() == nm.sha256.as_slice() {
                    Vec::new()
                } else {
                    info!(municipality = %m, node = %n, model = %nm.id, bytes = nm.json.len(), "matching model sent to the office");
                    nm.json.as_ref().clone()
                };
                (nm.sha256.to_vec(), nm.id, json)
            }
            None => (Vec::new(), String::new(), Vec::new()),
        };
        // The hub list (issue 19 part 3): read at every heartbeat, so that `hub-urls set` at
        // any hub over the store reaches every office within a round.
        let hub_urls = {
            let (store, configured) = (self.store.clone(), self.hub_urls.clone());
            tokio::task::spawn_blocking(move || crate::hub_list::in_use(&store, &configured))
                .await
                .unwrap_or_else(|_| self.hub_urls.to_vec())
        };
        let hub_cert = self.pki.hub_cert_info().ok();
        let hub_next = self.pki.hub_next_cert_info().ok().flatten();
        let trust_pem = self.pki.trust_pem().unwrap_or_default();
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
            hub_next_cert_not_after_ms: hub_next.as_ref().map(|h| h.not_after_ms).unwrap_or(0),
            hub_next_cert_sha256: hub_next.map(|h| h.sha256).unwrap_or_default(),
            trust_pem,
            unvoid_answers,
            clerk_roster_sha256: clerk_roster
                .as_ref()
                .map(|h| h.digest().to_vec())
                .unwrap_or_default(),
            clerk_roster: clerk_roster
                .filter(|_| hb.clerk_roster_wanted)
                .map(|h| h.to_wire()),
            clerk_roster_refused,
            dupes_model_sha256,
            dupes_model_id,
            dupes_model_json,
            hub_urls,
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
