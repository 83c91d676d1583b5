//! The node's side of sync: one round of push then pull, over mutual TLS, with the node's
//! enrollment certificate.
//!
//! Push resumes from what the hub says it holds of this node's chain (its first answer on the
//! stream), sends the rest in batches, and records each acknowledgement only after the hub has
//! flushed. Pull applies the hub's changes in the node's municipality from the stored cursor and
//! stores the new cursor in the same durable write as the changes.
//!
//! Every step of a call with the hub (the call's first answer, each message of a stream, each
//! batch handed to a push stream, the heartbeat's reply) must come within `stall`
//! ([`STALL_LIMIT`] by default; `serve --stall-secs`, `[sync] stall_s`), else the call ends
//! with [`SyncError::Stalled`], a link failure: the worker moves on to the next hub in seconds,
//! not after the HTTP/2 keep-alive (about 40 s) notices a hub that takes connections but has
//! stopped answering. The limit is on progress, not on a call's total: a long catch-up stream
//! runs as long as its batches keep coming.

use crate::guard::{ClockView, RolloutView};
use crate::node::{Node, NodeError};
use civreg_proto::v1::sync_client::SyncClient;
use civreg_proto::v1::{ChainRequest, HeartbeatRequest, PullRequest, PushRequest};
use civreg_proto::{optional_hash, MAX_MESSAGE_BYTES};
use civreg_shared::limits::MAX_BATCH_BYTES;
use civreg_shared::op::{Hash, Op};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Ops per push batch.
pub const PUSH_BATCH: usize = 500;

/// How long one step of a call with the hub may take by default (see the module documentation).
pub const STALL_LIMIT: Duration = Duration::from_secs(15);

/// `step` (a call's answer, a stream's next message, room for the next push batch), or
/// [`SyncError::Stalled`] when it does not come within `stall`.
async fn within<F: std::future::Future>(
    stall: Duration,
    step: &'static str,
    f: F,
) -> Result<F::Output, SyncError> {
    tokio::time::timeout(stall, f)
        .await
        .map_err(|_| SyncError::Stalled {
            step,
            after_s: stall.as_secs(),
        })
}

/// `bundle.json` of an enrollment bundle, as `civreg-hub pki issue` writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub identity: String,
    pub municipality: Option<String>,
    pub node_id: Option<String>,
    /// The first hub address (all a bundle of the first format holds).
    pub hub_url: String,
    /// Every hub address, in the order the worker tries them (issue 19 part 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hub_urls: Vec<String>,
}

impl Bundle {
    /// The hubs this node may sync with, in the operator's order.
    pub fn hubs(&self) -> Vec<String> {
        civreg_shared::hubs::listed(&self.hub_url, &self.hub_urls)
    }

    /// Refuses a bundle whose hub addresses are unusable (`civreg_shared::hubs::check_list`).
    pub fn check_hubs(&self) -> Result<(), civreg_shared::hubs::HubUrlError> {
        civreg_shared::hubs::check_list(&self.hubs())
    }
}

/// Where a node keeps its enrollment: DATA_DIR/tls/{cert.pem,key.pem,ca.pem,bundle.json}.
pub fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this node is not enrolled: initialise it with `civreg-node init --bundle DIR` from a bundle made by `civreg-hub pki issue`")]
    NotEnrolled,
    #[error("enrollment bundle {path}: {why}")]
    Bundle { path: PathBuf, why: String },
    #[error("the hub at {url} could not be reached: {why}")]
    Unreachable { url: String, why: String },
    #[error("the hub refuses this node's certificate: {0}; it may be revoked or expired: ask the agency for a new enrollment bundle")]
    CertificateRefused(String),
    #[error("the hub refused: {message} ({code:?})")]
    Refused { code: tonic::Code, message: String },
    /// The municipality is planned or suspended: the node keeps registering and tries again.
    #[error("the hub refused: {0}")]
    Rollout(String),
    #[error("the hub holds op #{hub} of this node's chain but this node's log ends at #{local}: this database is older than what it already sent (restored from a backup?); do not register on it, call the agency")]
    HubAhead { hub: u64, local: u64 },
    #[error("the hub holds a different op #{seq} for this node: the chains have forked; call the agency")]
    Fork { seq: u64 },
    /// The hub refused for now, for a reason that passes by itself (an op stamped ahead of its
    /// clock): the queue is kept and sent again later.
    #[error("the hub refused for now and will be asked again: {0}")]
    Later(String),
    #[error("op #{seq} of this node (record {record}, hash {hash}) is {bytes} bytes, more than the hub accepts in one message ({limit} bytes): it was saved by an older civreg and blocks the entries behind it (this office keeps registering and receiving); call the agency: it can set the op aside with that number and hash (operator manual: \"A refused op blocks an office\")")]
    OpTooLarge {
        seq: u64,
        record: String,
        hash: Hash,
        bytes: usize,
        limit: usize,
    },
    /// The hub refused an op for what it is, for good: it blocks the ops saved after it until the
    /// agency sets it aside. The office keeps registering, and receiving what others register.
    #[error("{}", blocked_text(*first, *last, record, hash, why))]
    Blocked {
        first: u64,
        last: u64,
        /// The record and hash of the op, when the batch refused was that one op.
        record: String,
        hash: Option<Hash>,
        why: String,
    },
    /// The hub took the connection but sent nothing for `after_s` seconds in the middle of a
    /// call (a frozen process, a link that drops packets without closing).
    #[error("the hub stopped answering during the {step}: nothing came for {after_s} s; the next hub of the list is tried, and this one again later")]
    Stalled { step: &'static str, after_s: u64 },
    #[error("{0}")]
    Node(#[from] NodeError),
}

fn blocked_text(first: u64, last: u64, record: &str, hash: &Option<Hash>, why: &str) -> String {
    match hash {
        Some(h) if first == last => format!(
            "the hub refuses op #{first} of this node (record {record}, hash {h}) for good: {why}. It blocks the entries saved after it (this office keeps registering and receiving); call the agency: it can set the op aside (operator manual: \"A refused op blocks an office\")"
        ),
        _ => format!(
            "the hub refused the ops #{first}-#{last} of this node: {why}; they are sent again one at a time to find the op refused"
        ),
    }
}

impl SyncError {
    /// Whether the hub could not be reached or the link to it broke (no connection, a TLS
    /// handshake or request deadline, a connection closed under the round), rather than the
    /// hub answering: then another hub of the list is tried, and while none answers the worker
    /// probes their addresses.
    pub fn link_failed(&self) -> bool {
        match self {
            SyncError::Unreachable { .. } | SyncError::Stalled { .. } => true,
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

    /// Whether trying again later can help. A refused certificate or a fork will not heal. An
    /// op refused for good is tried again too: the agency may set it aside.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Unreachable { .. }
            | SyncError::Stalled { .. }
            | SyncError::Rollout(_)
            | SyncError::Later(_)
            | SyncError::Blocked { .. }
            | SyncError::OpTooLarge { .. } => true,
            SyncError::Refused { code, .. } => civreg_proto::codes::is_retryable(*code),
            _ => false,
        }
    }
}

/// The whole chain of an error's causes, joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        why = format!("{why}: {s}");
        src = s.source();
    }
    why
}

/// TLS alerts that mean the hub refuses this node's certificate: retrying will not help.
const CERT_ALERTS: &[&str] = &[
    "CertificateRevoked",
    "CertificateExpired",
    "BadCertificate",
    "UnknownCA",
    "CertificateUnknown",
    "AccessDenied",
    // A certificate signed by another CA fails the signature check at the hub.
    "DecryptError",
    "BadSignature",
    "UnknownIssuer",
];

fn refused(s: tonic::Status) -> SyncError {
    if s.metadata().get(civreg_proto::ROLLOUT_METADATA).is_some() {
        return SyncError::Rollout(s.message().to_string());
    }
    if s.metadata().get(civreg_proto::RETRY_METADATA).is_some() {
        return SyncError::Later(s.message().to_string());
    }
    let why = chain(&s);
    if let Some(alert) = alert_in(&why) {
        return SyncError::CertificateRefused(alert);
    }
    SyncError::Refused {
        code: s.code(),
        message: why,
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Ops of this node's own chain fetched back from the hub (a restored or rebuilt node).
    pub fetched_own: u64,
    pub pushed: u64,
    pub hub_acked: u64,
    pub pulled: u64,
    pub cursor: u64,
    /// The node's certificate was renewed in this round: a connection kept between rounds still
    /// presents the old one, so the next round must open a new one.
    pub renewed: bool,
}

/// Copies an enrollment bundle into the node's data dir and returns it.
pub fn install_bundle(bundle_dir: &Path, data_dir: &Path) -> Result<Bundle, SyncError> {
    let bad = |why: String| SyncError::Bundle {
        path: bundle_dir.to_path_buf(),
        why,
    };
    let text = std::fs::read_to_string(bundle_dir.join("bundle.json"))
        .map_err(|e| bad(format!("bundle.json could not be read: {e}")))?;
    let b: Bundle =
        serde_json::from_str(&text).map_err(|e| bad(format!("bundle.json is not valid: {e}")))?;
    if b.municipality.is_none() || b.node_id.is_none() {
        return Err(bad(
            "it is not a node bundle (no municipality and node id)".into()
        ));
    }
    b.check_hubs().map_err(|e| bad(e.to_string()))?;
    let dir = tls_dir(data_dir);
    // The bundle's hub list applies, not one a hub sent before (`hublist.rs`).
    crate::hublist::forget(data_dir).map_err(|e| bad(e.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|e| bad(e.to_string()))?;
    for f in ["cert.pem", "key.pem", "ca.pem", "bundle.json"] {
        let to = dir.join(f);
        std::fs::copy(bundle_dir.join(f), &to).map_err(|e| bad(format!("{f}: {e}")))?;
        #[cfg(unix)]
        if f == "key.pem" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(b)
}

/// The node's enrollment, if it has one.
pub fn load_bundle(data_dir: &Path) -> Result<Bundle, SyncError> {
    let p = tls_dir(data_dir).join("bundle.json");
    let text = std::fs::read_to_string(&p).map_err(|_| SyncError::NotEnrolled)?;
    serde_json::from_str(&text).map_err(|e| SyncError::Bundle {
        path: p,
        why: e.to_string(),
    })
}

/// Asks the hubs' national search, in the order of `hubs` (the hub in use first: see
/// [`in_use_first`]), moving on to the next when one can not be reached, giving up after `wait`
/// in all (connections included).
pub async fn search_hub(
    data_dir: &Path,
    hubs: &[String],
    req: civreg_proto::v1::SearchRequest,
    wait: Duration,
) -> Result<civreg_proto::v1::SearchReply, SyncError> {
    let ask = async {
        let mut last = SyncError::NotEnrolled;
        for url in hubs {
            let asked = async {
                let ch = connect(data_dir, url).await?;
                civreg_proto::v1::search_client::SearchClient::new(ch)
                    .search(req.clone())
                    .await
                    .map(|r| r.into_inner())
                    .map_err(refused)
            };
            match asked.await {
                Err(e) if e.link_failed() => last = e,
                r => return r,
            }
        }
        Err(last)
    };
    tokio::time::timeout(wait, ask)
        .await
        .map_err(|_| SyncError::Unreachable {
            url: hubs.join(", "),
            why: format!("no answer within {} s", wait.as_secs()),
        })?
}

/// `hubs` with `current` (the hub the worker uses) moved to the front, when listed.
pub fn in_use_first(mut hubs: Vec<String>, current: Option<&str>) -> Vec<String> {
    if let Some(at) = current.and_then(|c| hubs.iter().position(|u| u == c)) {
        let url = hubs.remove(at);
        hubs.insert(0, url);
    }
    hubs
}

/// Opens a mutually authenticated channel to the hub.
pub async fn connect(data_dir: &Path, hub_url: &str) -> Result<Channel, SyncError> {
    let dir = tls_dir(data_dir);
    // A renewal interrupted by a crash is completed (or undone) before the files are read.
    if dir.join("cert.pem.new").exists() || dir.join("key.pem.new").exists() {
        blocking(|| crate::renew::finish_install(&dir)).map_err(|e| SyncError::Bundle {
            path: dir.clone(),
            why: format!("could not finish installing a renewed certificate: {e}"),
        })?;
    }
    let read = |f: &str| {
        std::fs::read(dir.join(f)).map_err(|e| SyncError::Bundle {
            path: dir.join(f),
            why: e.to_string(),
        })
    };
    let (ca, cert, key) = (read("ca.pem")?, read("cert.pem")?, read("key.pem")?);
    let unreachable = |why: String| SyncError::Unreachable {
        url: hub_url.to_string(),
        why,
    };
    let endpoint = Endpoint::from_shared(hub_url.to_string())
        .map_err(|e| unreachable(format!("not a valid hub address: {e}")))?;
    let host = endpoint.uri().host().unwrap_or("localhost").to_string();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(Identity::from_pem(cert, key))
        .domain_name(host);
    let endpoint = endpoint
        .tls_config(tls)
        .map_err(|e| unreachable(e.to_string()))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .http2_keep_alive_interval(Duration::from_secs(20));
    let connecting = endpoint.connect();
    // tonic bounds the TCP connection only: a hub that takes it and never finishes the TLS
    // handshake (a frozen process, a half-open link) is given up here, so that the worker
    // moves on to the next hub.
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, connecting).await {
        Ok(r) => r.map_err(|e| unreachable(chain(&e))),
        Err(_) => Err(unreachable(format!(
            "no TLS handshake within {} s",
            HANDSHAKE_TIMEOUT.as_secs()
        ))),
    }
}

/// The longest [`connect`] waits for the TCP connection and the TLS handshake together.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Pushes every op the hub does not hold yet, up to `limit`; returns (ops sent, hub head).
/// When the hub refuses a batch of several ops for what they are, pushes again at once, one op
/// at a time up to that batch's end, so that the error names the one op refused (see
/// [`batch_refused`]).
pub async fn push(
    node: &Node,
    channel: Channel,
    limit: u64,
    stall: Duration,
) -> Result<(u64, u64), SyncError> {
    match push_stream(node, channel.clone(), limit, stall).await {
        Err(SyncError::Blocked { first, last, .. }) if first < last => {
            push_stream(node, channel, limit, stall).await
        }
        other => other,
    }
}

async fn push_stream(
    node: &Node,
    channel: Channel,
    limit: u64,
    stall: Duration,
) -> Result<(u64, u64), SyncError> {
    let mut client = SyncClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let (tx, rx) = tokio::sync::mpsc::channel::<PushRequest>(2);
    let mut acks = within(stall, "push", client.push(ReceiverStream::new(rx)))
        .await?
        .map_err(refused)?
        .into_inner();
    let first = within(stall, "push", acks.message())
        .await?
        .map_err(refused)?
        .ok_or_else(|| refused(tonic::Status::unavailable("hub closed the stream")))?;
    let local = node.log_len();
    if first.acked_seq > local {
        return Err(SyncError::HubAhead {
            hub: first.acked_seq,
            local,
        });
    }
    if first.acked_seq > 0 {
        let hub_hash = optional_hash(&first.acked_hash)
            .map_err(|e| refused(tonic::Status::internal(e.to_string())))?;
        let mine = blocking(|| node.op(first.acked_seq))?;
        if mine.map(|o| o.hash) != Some(hub_hash) {
            return Err(SyncError::Fork {
                seq: first.acked_seq,
            });
        }
    }
    blocking(|| node.set_hub_acked(first.acked_seq))?;
    let mut acked = first.acked_seq;
    let mut pushed = 0u64;
    while pushed < limit {
        // After a refused batch, one op at a time up to its end (see `batch_refused`).
        let narrow = node.push_narrow.load(Ordering::Relaxed);
        let max = if acked < narrow { 1 } else { PUSH_BATCH };
        let ops: Vec<Op> = blocking(|| node.ops_after(acked, max))?;
        if ops.is_empty() {
            break;
        }
        let wire = push_batch(&ops)?;
        let n = wire.len() as u64;
        let sent = &ops[..wire.len()];
        let want = sent[sent.len() - 1].id.seq;
        let req = PushRequest { ops: wire };
        if within(stall, "push", tx.send(req)).await?.is_err() {
            // The hub ended the stream: its status on the answer stream says why.
            return Err(match within(stall, "push", acks.message()).await? {
                Err(status) => batch_refused(node, sent, status),
                Ok(_) => refused(tonic::Status::unavailable(
                    "hub closed the push stream before taking the batch",
                )),
            });
        }
        let ack = within(stall, "push", acks.message())
            .await?
            .map_err(|status| batch_refused(node, sent, status))?
            .ok_or_else(|| refused(tonic::Status::unavailable("hub closed the stream")))?;
        if ack.acked_seq < want {
            return Err(refused(tonic::Status::internal(format!(
                "hub acknowledged #{} after a batch up to #{want}",
                ack.acked_seq
            ))));
        }
        acked = ack.acked_seq;
        blocking(|| node.set_hub_acked(acked))?;
        pushed += n;
    }
    drop(tx);
    Ok((pushed, acked))
}

/// The error for a batch the hub refused. A refusal for what the ops are (not a passing
/// condition) is [`SyncError::Blocked`]; the hub refuses a batch whole, so when it held several
/// ops the next rounds send them one at a time (`Node::push_narrow`), until the hub refuses the
/// one op it will not take, and knows its hash for an operator to set it aside.
fn batch_refused(node: &Node, sent: &[Op], status: tonic::Status) -> SyncError {
    let e = refused(status);
    let why = match &e {
        SyncError::Refused { code, message } if civreg_proto::codes::is_refusal(*code) => {
            message.clone()
        }
        // A kind the municipality may not register (the node refuses it at save once it knows).
        SyncError::Rollout(message) => message.clone(),
        _ => return e,
    };
    let (first, last) = (sent[0].id.seq, sent[sent.len() - 1].id.seq);
    if sent.len() > 1 {
        node.push_narrow.fetch_max(last, Ordering::Relaxed);
    }
    SyncError::Blocked {
        first,
        last,
        record: sent[0].record_id.clone(),
        hash: (sent.len() == 1).then_some(sent[0].hash),
        why,
    }
}

/// The longest prefix of `ops` (at least one op) whose wire encodings fit in
/// `MAX_BATCH_BYTES`, so that a batch never exceeds the message limit whatever its ops' sizes.
/// An op larger than a batch goes alone; one too large for any message (saved by an older
/// version, before ops were bounded) can not be sent at all and is reported.
fn push_batch(ops: &[Op]) -> Result<Vec<civreg_proto::v1::Op>, SyncError> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for op in ops {
        let w = civreg_proto::v1::Op::from(op);
        let len = civreg_proto::encoded_len(&w) + 8;
        if out.is_empty() && len > MESSAGE_ROOM {
            return Err(SyncError::OpTooLarge {
                seq: op.id.seq,
                record: op.record_id.clone(),
                hash: op.hash,
                bytes: len,
                limit: MESSAGE_ROOM,
            });
        }
        if !out.is_empty() && bytes + len > MAX_BATCH_BYTES {
            break;
        }
        bytes += len;
        out.push(w);
    }
    Ok(out)
}

/// The most one op may take on the wire: the message limit less room for the framing.
const MESSAGE_ROOM: usize = MAX_MESSAGE_BYTES - 1024;

/// Pulls and applies what changed at the hub in this node's municipality.
pub async fn pull(node: &Node, channel: Channel, stall: Duration) -> Result<(u64, u64), SyncError> {
    let mut client = SyncClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let cursor = blocking(|| node.pull_cursor())?;
    let call = client.pull(PullRequest {
        cursor,
        max_batch: 1000,
        reads_format: civreg_shared::op::READS_FORMAT,
    });
    let mut stream = within(stall, "pull", call)
        .await?
        .map_err(refused)?
        .into_inner();
    let mut pulled = 0u64;
    let mut cursor = cursor;
    // Each batch within `stall`: a long catch-up goes on while batches keep coming.
    while let Some(batch) = within(stall, "pull", stream.message())
        .await?
        .map_err(refused)?
    {
        let ops: Vec<Op> = batch
            .ops
            .into_iter()
            .map(Op::try_from)
            .collect::<Result<_, _>>()
            .map_err(|e| refused(tonic::Status::invalid_argument(e.to_string())))?;
        pulled += blocking(|| node.apply_remote(&ops, batch.cursor))? as u64;
        cursor = batch.cursor;
    }
    Ok((pulled, cursor))
}

/// Fetches this node's own chain from the hub after its head and appends it, each batch
/// checked by hash chain against the node's head (`Node::append_own_from_hub`): a restored
/// node takes back what it had sent after its backup was made, a rebuilt one its whole chain.
pub async fn fetch_own(node: &Node, channel: Channel, stall: Duration) -> Result<u64, SyncError> {
    let mut client = SyncClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let call = client.chain(ChainRequest {
        after_seq: node.log_len(),
        max_batch: 1000,
    });
    let mut stream = within(stall, "chain fetch", call)
        .await?
        .map_err(refused)?
        .into_inner();
    let mut fetched = 0u64;
    while let Some(batch) = within(stall, "chain fetch", stream.message())
        .await?
        .map_err(refused)?
    {
        let ops: Vec<Op> = batch
            .ops
            .into_iter()
            .map(Op::try_from)
            .collect::<Result<_, _>>()
            .map_err(|e| refused(tonic::Status::invalid_argument(e.to_string())))?;
        fetched += blocking(|| node.append_own_from_hub(&ops))? as u64;
    }
    Ok(fetched)
}

use civreg_runtime::clock::now_ms;

/// Ops the hub has not acknowledged, and the age in seconds of the oldest.
pub fn waiting(node: &Node) -> Result<(u64, u64), NodeError> {
    let acked = node.hub_acked()?;
    let n = node.log_len().saturating_sub(acked);
    let age = match node.op(acked + 1)? {
        Some(op) if n > 0 => now_ms().saturating_sub(op.hlc.wall_ms) / 1000,
        _ => 0,
    };
    Ok((n, age))
}

/// Reports the node's health to the hub: version, ops waiting, clock, free disk, and whether it
/// has stopped registering. Keeps what the reply says of the rollout and the hub's clock, which
/// the node checks before every save (`guard.rs`).
pub async fn heartbeat(
    node: &Node,
    channel: Channel,
    data_dir: &Path,
    hub_url: &str,
    stall: Duration,
) -> Result<(), SyncError> {
    heartbeat_with(node, channel, data_dir, hub_url, None, 0, stall)
        .await
        .map(|_| ())
}

/// What a heartbeat reply says of certificates (fields 30-39, issue 17).
#[derive(Debug, Clone, Default)]
pub struct CertNews {
    /// An operator requires this node to renew its certificate now.
    pub renew_required: bool,
    /// The hub's server certificate: expiry (Unix ms, 0 from an older hub) and SHA-256.
    pub hub_cert_not_after_ms: u64,
    pub hub_cert_sha256: String,
}

/// [`heartbeat`], telling the hub of an op too large for any push message
/// ([`SyncError::OpTooLarge`]), so that an operator can set it aside.
async fn heartbeat_with(
    node: &Node,
    channel: Channel,
    data_dir: &Path,
    hub_url: &str,
    too_large: Option<&SyncError>,
    sync_interval_ms: u64,
    stall: Duration,
) -> Result<CertNews, SyncError> {
    let (too_large_seq, too_large_hash, too_large_record) = match too_large {
        Some(SyncError::OpTooLarge {
            seq, hash, record, ..
        }) => (*seq, hash.0.to_vec(), record.clone()),
        _ => (0, Vec::new(), String::new()),
    };
    let (unacked, age) = blocking(|| waiting(node))?;
    let halted = blocking(|| node.halted())?
        .map(|h| h.why)
        .unwrap_or_default();
    let free = fs2::available_space(data_dir).unwrap_or(0);
    let backup = crate::backup::read_status(data_dir);
    // Certificates issued here that the hub has not acknowledged yet, oldest first.
    let certificates: Vec<civreg_proto::v1::CertificateIssued> =
        blocking(|| node.certificates_unreported(CERTIFICATES_PER_HEARTBEAT))?
            .into_iter()
            .map(|c| civreg_proto::v1::CertificateIssued {
                serial: c.serial,
                regno: c.regno,
                record_version: c.record_version,
                record_head: c.record_head,
                clerk: c.clerk,
                at_ms: c.at_ms,
                collector: c.collector,
                id_document: c.id_document.as_str().to_string(),
                lang: c.lang,
                signer_kid: c.signer_kid,
            })
            .collect();
    // A clerk's un-void requests the hub has not answered for good: sent until it does.
    let unvoid_requests: Vec<civreg_proto::v1::UnvoidRequest> =
        blocking(|| node.unvoid_requests_unanswered())?
            .into_iter()
            .map(|r| civreg_proto::v1::UnvoidRequest {
                id: r.id,
                regno: r.regno,
                reason: r.reason,
                clerk: r.clerk,
                at_ms: r.at_ms,
            })
            .collect();
    // The clerk accounts (issue 17): a rebuilt node asks for the hub's; any other sends its own
    // whole when it differs from what the hub last said it holds, unless it has stopped
    // registering: a database behind its own log at the hub (an old copy, or a node made anew
    // with `init --bundle` without `--recover`) must not replace the office's accounts there.
    let clerk_roster_wanted = blocking(|| node.roster_wanted())?;
    let clerk_roster = if clerk_roster_wanted || !halted.is_empty() {
        None
    } else {
        let (roster, at_hub) =
            blocking(|| Ok::<_, NodeError>((node.clerk_roster()?, node.roster_at_hub()?)))?;
        (at_hub != Some(civreg_shared::roster::digest(&roster.clerks)))
            .then(|| civreg_proto::roster_to_wire(&roster, 0))
    };
    let sent = now_ms();
    let mut client = SyncClient::new(channel);
    let call = client.heartbeat(HeartbeatRequest {
        version: env!("CARGO_PKG_VERSION").into(),
        unacked_ops: unacked,
        oldest_unacked_age_s: age,
        clock_ms: sent,
        free_disk_bytes: free,
        halted,
        too_large_seq,
        too_large_hash,
        too_large_record,
        certificates,
        sync_interval_ms,
        log_seq: node.log_len(),
        backup_at_ms: backup.last_ok_ms.unwrap_or(0),
        backup_error: backup.last_error.unwrap_or_default(),
        trusted_ca_sha256: blocking(|| crate::hubtrust::trusted(data_dir)),
        unvoid_requests,
        clerk_roster,
        clerk_roster_wanted,
        dupes_model_sha256: blocking(|| node.dupes_model_offered())?.unwrap_or_default(),
    });
    let reply = within(stall, "heartbeat", call)
        .await?
        .map_err(refused)?
        .into_inner();
    let back = now_ms();
    // The hub read its clock between sending and receiving: compare with the middle.
    let mid = sent / 2 + back / 2;
    let clock = ClockView {
        ahead_ms: mid as i64 - reply.hub_clock_ms as i64,
        at_ms: back,
    };
    let rollout = reply.rollout_known.then(|| RolloutView {
        stage: reply.stage.clone(),
        kinds: reply
            .kinds
            .iter()
            .filter_map(|k| civreg_proto::kind_from_wire(*k).ok())
            .collect(),
        at_ms: back,
    });
    blocking(|| node.note_heartbeat(rollout, clock))?;
    let aside: Vec<(u64, Hash, String, u64)> = reply
        .set_aside
        .iter()
        .filter_map(|a| {
            let hash = Hash(a.hash.as_slice().try_into().ok()?);
            Some((a.seq, hash, a.reason.clone(), a.at_ms))
        })
        .collect();
    if !aside.is_empty() {
        blocking(|| node.note_set_aside(&aside))?;
    }
    if reply.reported_log_seq > 0 {
        blocking(|| node.note_reported_log(reply.reported_log_seq, reply.reported_log_at_ms))?;
    }
    if !reply.certificates_through.is_empty() {
        blocking(|| node.set_certificates_reported(&reply.certificates_through))?;
    }
    // The roots to trust the hub by (a CA rollover), and the hub's certificates for `status`.
    let from_hub = crate::hubtrust::FromHub {
        trust_pem: &reply.trust_pem,
        current_not_after_ms: reply.hub_cert_not_after_ms,
        current_sha256: &reply.hub_cert_sha256,
        next_not_after_ms: reply.hub_next_cert_not_after_ms,
        next_sha256: &reply.hub_next_cert_sha256,
    };
    if let Err(e) = blocking(|| crate::hubtrust::apply(data_dir, &from_hub)) {
        tracing::warn!(error = %e, "could not record the hub's trusted roots and certificates; tried again at the next heartbeat");
    }
    if !reply.unvoid_answers.is_empty() {
        let answers: Vec<(String, String, String, String, u64)> = reply
            .unvoid_answers
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.state.clone(),
                    a.reason.clone(),
                    a.operator.clone(),
                    a.at_ms,
                )
            })
            .collect();
        blocking(|| node.note_unvoid_answers(&answers))?;
    }
    let hub_roster = <[u8; 32]>::try_from(reply.clerk_roster_sha256.as_slice()).ok();
    if !reply.clerk_roster_refused.is_empty() {
        tracing::warn!(why = %reply.clerk_roster_refused, "the hub refused this office's clerk accounts; sent again at the next heartbeat");
    }
    if clerk_roster_wanted {
        let held = reply
            .clerk_roster
            .as_ref()
            .filter(|_| hub_roster.is_some())
            .map(|r| (civreg_proto::roster_from_wire(r), r.received_ms));
        if let Err(e) = blocking(|| node.install_roster(held, hub_roster)) {
            tracing::warn!(error = %e, "could not take back the clerk accounts the hub holds; asked again at the next heartbeat");
        }
    } else {
        blocking(|| node.note_roster_at_hub(hub_roster))?;
    }
    // The hub's matching model for the duplicate check (issue 16), when it sent a new one.
    if !reply.dupes_model_json.is_empty() {
        match blocking(|| {
            node.take_dupes_model(
                &reply.dupes_model_id,
                &reply.dupes_model_sha256,
                &reply.dupes_model_json,
            )
        })? {
            Ok(info) => {
                tracing::info!(model = %info.id, trained_on = info.trained_on, matched = info.matched, possible = info.possible, "the duplicate check uses the hub's new matching model")
            }
            Err(why) => {
                tracing::warn!(model = %reply.dupes_model_id.chars().take(64).collect::<String>(), %why, "the hub's matching model was refused; the duplicate check keeps the model it had")
            }
        }
    }
    // The hub list (issue 19 part 3): a new one is checked and, if good, used from the next
    // round (`hublist.rs`); a bad one is logged there and the list in use kept.
    crate::hublist::offered(data_dir, hub_url, &reply.hub_urls, back).await;
    Ok(CertNews {
        renew_required: reply.renew_required,
        hub_cert_not_after_ms: reply.hub_cert_not_after_ms,
        hub_cert_sha256: reply.hub_cert_sha256,
    })
}

/// At most this many certificate issue records go with one heartbeat (the hub takes no more).
const CERTIFICATES_PER_HEARTBEAT: usize = 100;

/// One round (push everything, then pull) with the first of `hubs` that can be reached, in
/// order; returns the hub used. When none can, the last hub's error.
pub async fn sync_once_with(
    node: &Node,
    data_dir: &Path,
    hubs: &[String],
) -> Result<(String, SyncReport), SyncError> {
    let mut last = SyncError::NotEnrolled;
    for url in hubs {
        match sync_once(node, data_dir, url).await {
            Ok(r) => return Ok((url.clone(), r)),
            Err(e) if e.link_failed() => {
                tracing::warn!(hub = %url, error = %e, "the hub can not be reached");
                last = e;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// One round: push everything, then pull.
pub async fn sync_once(
    node: &Node,
    data_dir: &Path,
    hub_url: &str,
) -> Result<SyncReport, SyncError> {
    sync_round(node, data_dir, hub_url, u64::MAX).await
}

/// One round: push up to `limit` ops, then pull.
pub async fn sync_round(
    node: &Node,
    data_dir: &Path,
    hub_url: &str,
    limit: u64,
) -> Result<SyncReport, SyncError> {
    let channel = connect(data_dir, hub_url).await?;
    sync_round_on(node, data_dir, hub_url, limit, channel, 0, STALL_LIMIT).await
}

/// One round on an open channel (the worker keeps one between rounds, so that the hub sees the
/// office connected): push up to `limit` ops, pull, heartbeat telling the hub the node's sync
/// interval (`sync_interval_ms`, 0 when it syncs on no schedule); each step of each call within
/// `stall` (see the module documentation).
pub async fn sync_round_on(
    node: &Node,
    data_dir: &Path,
    hub_url: &str,
    limit: u64,
    channel: Channel,
    sync_interval_ms: u64,
    stall: Duration,
) -> Result<SyncReport, SyncError> {
    let round = async {
        // Restored from a backup or rebuilt: first take back what the hub holds of this
        // node's chain after its head, so that the push finds the hub's head in the log.
        let restored = blocking(|| node.restored())?;
        let fetched_own = match restored {
            Some(_) => fetch_own(node, channel.clone(), stall).await?,
            None => 0,
        };
        let (pushed, hub_acked) = match push(node, channel.clone(), limit, stall).await {
            Ok(v) => v,
            Err(e @ (SyncError::HubAhead { .. } | SyncError::Fork { .. })) => {
                // Behind its own log at the hub: stop registering (durably) so that this node
                // never mints a number the hub already holds, and tell the hub.
                blocking(|| node.halt(&e.to_string(), now_ms()))?;
                if let Err(h) = heartbeat(node, channel, data_dir, hub_url, stall).await {
                    tracing::warn!(error = %h, "heartbeat failed");
                }
                return Err(e);
            }
            // One op blocks the queue: the office still receives what others register and
            // reports its health, and the heartbeat brings the ops the agency set aside.
            Err(e @ (SyncError::Blocked { .. } | SyncError::OpTooLarge { .. })) => {
                pull(node, channel.clone(), stall).await?;
                if let Err(h) = heartbeat_with(
                    node,
                    channel,
                    data_dir,
                    hub_url,
                    Some(&e),
                    sync_interval_ms,
                    stall,
                )
                .await
                {
                    tracing::warn!(error = %h, "heartbeat failed");
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        // The hub holds the restored node's whole log: it may register again.
        if restored.is_some() && hub_acked >= node.log_len() {
            blocking(|| node.finish_restore())?;
        }
        let (pulled, cursor) = pull(node, channel.clone(), stall).await?;
        // Health report on the same connection; a failed heartbeat does not fail the round.
        let beat = heartbeat_with(
            node,
            channel.clone(),
            data_dir,
            hub_url,
            None,
            sync_interval_ms,
            stall,
        );
        let renewed = match beat.await {
            Ok(news) => renew_if_due(channel, data_dir, &news, stall).await,
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat failed");
                false
            }
        };
        Ok(SyncReport {
            renewed,
            fetched_own,
            pushed,
            hub_acked,
            pulled,
            cursor,
        })
    };
    match round.await {
        // In TLS 1.3 the hub judges the client certificate after the client has finished its
        // half of the handshake, so a refusal reaches gRPC only as a closed connection. Ask
        // again with a bare TLS connection to learn the hub's alert.
        Err(SyncError::Refused { code, message })
            if matches!(
                code,
                tonic::Code::Cancelled | tonic::Code::Unknown | tonic::Code::Unavailable
            ) =>
        {
            match probe_tls(data_dir, hub_url).await {
                Some(alert) => Err(SyncError::CertificateRefused(alert)),
                None => Err(SyncError::Refused { code, message }),
            }
        }
        other => other,
    }
}

/// Renews the node's certificate on this connection when it expires within 30 days or the hub
/// requires it (`renew.rs`); a failed renewal does not fail the round: the current certificate
/// is still valid, and the renewal is tried again later.
async fn renew_if_due(channel: Channel, data_dir: &Path, news: &CertNews, stall: Duration) -> bool {
    let soon = crate::renew::RENEW_BEFORE_DAYS as u64 * 86_400_000;
    // Said once per process (and again after a restart), not every round.
    static HUB_CERT_WARNED: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);
    if news.hub_cert_not_after_ms > 0
        && news.hub_cert_not_after_ms < now_ms() + soon
        && !HUB_CERT_WARNED.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(hub_cert_sha256 = %news.hub_cert_sha256, expires_ms = news.hub_cert_not_after_ms, "the hub's server certificate expires within 30 days: tell the agency (civreg-hub pki renew-hub)");
    }
    let now_s = (now_ms() / 1000) as i64;
    if !crate::renew::due(data_dir, news.renew_required, now_s) {
        return false;
    }
    let renewal = within(
        stall,
        "certificate renewal",
        crate::renew::renew(channel, data_dir),
    );
    match renewal.await.and_then(|r| r) {
        Ok(r) => {
            tracing::info!(serial = %r.serial, required = news.renew_required, "certificate renewed");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "certificate renewal failed; the current certificate stays in use and renewal is tried again later");
            false
        }
    }
}

/// Opens a bare mutually authenticated TLS connection to the hub and returns the TLS alert the
/// hub sends, if it refuses this node's certificate.
async fn probe_tls(data_dir: &Path, hub_url: &str) -> Option<String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::AsyncReadExt;
    let dir = tls_dir(data_dir);
    let uri: tonic::transport::Uri = hub_url.parse().ok()?;
    let host = uri.host()?.to_string();
    let port = uri.port_u16().unwrap_or(443);
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("ca.pem")).ok()? {
        roots.add(c.ok()?).ok()?;
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).ok()?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .ok()?;
    let tcp = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .ok()?
    .ok()?;
    let name = ServerName::try_from(host).ok()?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let mut tls = match connector.connect(name, tcp).await {
        Ok(t) => t,
        Err(e) => return alert_in(&chain(&e)),
    };
    let mut buf = [0u8; 64];
    match tokio::time::timeout(Duration::from_secs(3), tls.read(&mut buf)).await {
        Ok(Err(e)) => alert_in(&chain(&e)),
        _ => None,
    }
}

/// Whether the hub's address answers at the TCP level and keeps the connection open (a TLS
/// server waits for the client's hello): the worker's cheap probe while it backs off. A refused,
/// timed-out or at once closed connection (a cut link, a proxy with nowhere to go) is `false`.
/// No certificate is shown and nothing is sent.
pub async fn hub_answers(hub_url: &str) -> bool {
    use tokio::io::AsyncReadExt;
    let Ok(uri) = hub_url.parse::<tonic::transport::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let port = uri.port_u16().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp =
        tokio::time::timeout(PROBE_CONNECT, tokio::net::TcpStream::connect((host, port))).await;
    let Ok(Ok(mut tcp)) = tcp else {
        return false;
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(PROBE_HOLD, tcp.read(&mut byte)).await {
        // Still open and silent: a server waiting for the client to speak.
        Err(_) => true,
        // Closed (0 bytes) or reset at once: nothing behind the address.
        Ok(Ok(0)) | Ok(Err(_)) => false,
        // A server that speaks first is not a TLS server, but the address answers.
        Ok(Ok(_)) => true,
    }
}

/// How long the probe waits for the TCP connection.
const PROBE_CONNECT: Duration = Duration::from_secs(2);
/// How long the probe's connection must stay open to count as answered.
const PROBE_HOLD: Duration = Duration::from_millis(300);

fn alert_in(why: &str) -> Option<String> {
    CERT_ALERTS
        .iter()
        .find(|a| why.contains(*a))
        .map(|a| format!("{a} ({why})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::fields::FieldChange;
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::{ChangeKind, Hash, Hlc, OpId, GENESIS, OP_FORMAT};

    /// A node's tls directory with a self-signed CA, and a client certificate and key of its own.
    fn tls_files(data_dir: &Path) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let dir = tls_dir(data_dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::default();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        std::fs::write(dir.join("ca.pem"), p.self_signed(&key).unwrap().pem()).unwrap();
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = CertificateParams::new(vec!["node".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hub_that_never_finishes_the_handshake_is_given_up_as_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        tls_files(dir.path());
        // Takes the TCP connection and never answers the client's hello.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://localhost:{}", silent.local_addr().unwrap().port());
        let holder = tokio::spawn(async move {
            let mut kept = Vec::new();
            loop {
                if let Ok((s, _)) = silent.accept().await {
                    kept.push(s);
                }
            }
        });
        let r = tokio::time::timeout(HANDSHAKE_TIMEOUT * 3, connect(dir.path(), &url))
            .await
            .expect("connect gives up by itself");
        let e = r.expect_err("no handshake, no channel");
        assert!(e.link_failed(), "{e}");
        assert!(e.to_string().contains("no TLS handshake"), "{e}");
        holder.abort();
    }

    /// `count` chained ops whose notes are `bytes` long (as an older version could save them).
    fn ops(count: u64, bytes: usize) -> Vec<Op> {
        let mut prev = GENESIS;
        (1..=count)
            .map(|seq| {
                let op = Op {
                    format: OP_FORMAT,
                    id: OpId {
                        municipality: "prishtine".into(),
                        node_id: "1".into(),
                        seq,
                    },
                    hlc: Hlc {
                        wall_ms: 1_790_000_000_000 + seq,
                        logical: 0,
                    },
                    clerk: "ana".into(),
                    record_id: format!("PRISHTINE-2026-B-1-{seq:06}"),
                    record_kind: RecordKind::Birth,
                    change: ChangeKind::Create,
                    changes: vec![FieldChange {
                        path: "notes".into(),
                        value: "x".repeat(bytes).into(),
                    }],
                    base: vec![],
                    reason: String::new(),
                    prev_hash: prev,
                    hash: Hash::default(),
                }
                .seal();
                prev = op.hash;
                op
            })
            .collect()
    }

    #[test]
    fn push_batches_are_cut_by_bytes() {
        // 500 ops of 9 KB: 4.5 MB, more than one message, were one batch before.
        let big = ops(PUSH_BATCH as u64, 9_000);
        let mut rest = &big[..];
        let mut batches = 0;
        while !rest.is_empty() {
            let b = push_batch(rest).unwrap();
            let bytes: usize = b.iter().map(civreg_proto::encoded_len).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes}");
            rest = &rest[b.len()..];
            batches += 1;
        }
        assert!(batches >= 4, "{batches}");
        // Small ops still go 500 at a time.
        assert_eq!(
            push_batch(&ops(PUSH_BATCH as u64, 10)).unwrap().len(),
            PUSH_BATCH
        );
        // An op larger than a batch goes alone.
        let two = ops(2, 2 * MAX_BATCH_BYTES);
        assert_eq!(push_batch(&two).unwrap().len(), 1);
    }

    #[test]
    fn an_op_too_large_for_any_message_is_named() {
        let huge = ops(1, MAX_MESSAGE_BYTES + 10);
        match push_batch(&huge) {
            Err(e @ SyncError::OpTooLarge { seq: 1, .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("op #1") && text.contains("PRISHTINE-2026-B-1-000001"),
                    "{text}"
                );
                // The worker goes on (pull, heartbeat that reports the op) until an operator
                // sets the op aside.
                assert!(e.is_retryable());
            }
            other => panic!("{other:?}"),
        }
    }
}
