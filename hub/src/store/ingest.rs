//! The write rules: what a node may write, and what the hub checks in every op it receives
//! before it stores it. Nothing here knows how the store keeps bytes; the rules read the store
//! only through its facade (heads, held ops and records).
//!
//! - [`HubStore::check_push`]: one push of a group, linked to its chain (the head on disk or
//!   staged by an earlier push of the group: gap, fork, replay), each op authorized, its bases
//!   held, its record held; the accepted ops are staged for [`super::commit`].
//! - [`authorize`]: which records a node may change, and how (its own chain, its own
//!   municipality's records, numbers it mints; annotations of other municipalities' births).
//! - [`check_received`]: the op's content on its own ([`civreg_shared::validate::check_op`], the
//!   very check the node made before it saved the op) and its clock. Deterministic per op and
//!   independent of what else the hub holds, so acceptance never depends on arrival order; run
//!   on the async workers as each batch arrives ([`super::Prepared::received`]).
//! - [`require_record`]: an edit (amendment, annotation, void) is of a record the hub holds or
//!   that the same group of pushes creates: the committer's check, since it reads the store.

use super::{chain_key, codec, Head, HubStore, IngestError, StoreError};
use civreg_shared::ids::RegNo;
use civreg_shared::limits::MAX_OP_CLOCK_AHEAD_MS;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChainVerifier, ChangeKind, Op, OpError};
use civreg_shared::validate::Severity;
use std::collections::HashMap;
use std::fmt;

/// Who pushes a batch of ops, as the store sees it: a node (its chain is `municipality/node_id`),
/// or a caller that is no node, named for the refusal. The store does not know certificates:
/// the caller's verified identity is converted at the edge (`From<PeerIdentity>` in
/// [`crate::pki`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    Node {
        municipality: String,
        node_id: String,
    },
    /// A caller that is no node (an operator), by how it is named in messages.
    Other(String),
}

impl fmt::Display for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Author::Node {
                municipality,
                node_id,
            } => write!(f, "node {municipality}/{node_id}"),
            Author::Other(name) => f.write_str(name),
        }
    }
}

/// Most problems an error message lists; the rest are counted.
const MAX_LISTED: usize = 5;

/// Problem codes that say the op writes what its office may not (rather than what is malformed).
const DENIED_CODES: &[&str] = &["annotation.path", "annotation.office", "field.municipality"];

/// Checks what a node may write: only its own chain; creates, amendments and voids only of its
/// own municipality's records (and creates only under registration numbers it mints); annotations
/// also on birth records kept elsewhere.
pub fn authorize(who: &Author, op: &Op) -> Result<(), IngestError> {
    let Author::Node {
        municipality,
        node_id,
    } = who
    else {
        return Err(IngestError::Denied(format!(
            "{who} is not a node and can not push ops"
        )));
    };
    if op.id.municipality != *municipality || op.id.node_id != *node_id {
        return Err(IngestError::Denied(format!(
            "{who} pushed op {} of another node",
            op.id
        )));
    }
    let regno = RegNo::parse(&op.record_id).map_err(|e| IngestError::Invalid(e.to_string()))?;
    if regno.to_string() != op.record_id {
        return Err(IngestError::Invalid(format!(
            "op {} names record {:?}, which is not a registration number in its canonical form ({regno}): a node writes numbers as it mints them",
            op.id, op.record_id
        )));
    }
    if regno.kind != op.record_kind {
        return Err(IngestError::Invalid(format!(
            "op {} says {} but record {} is a {}",
            op.id, op.record_kind, op.record_id, regno.kind
        )));
    }
    let own = regno.municipality == *municipality;
    if op.change == ChangeKind::Link {
        return Err(IngestError::Denied(format!(
            "{who} may not link people to person identifiers: only the hub's operators do (record {})",
            op.record_id
        )));
    }
    if regno.node.as_deref() == Some(civreg_shared::ids::HUB_NODE_ID)
        && op.change == ChangeKind::Create
    {
        return Err(IngestError::Denied(format!(
            "{who} may not create {}: numbers with HUB are minted by the hub's own imports",
            op.record_id
        )));
    }
    match op.change {
        ChangeKind::Annotate if !own && op.record_kind == RecordKind::Birth => Ok(()),
        ChangeKind::Annotate if !own => Err(IngestError::Denied(format!(
            "{who} may annotate only birth records of other municipalities, not {}",
            op.record_id
        ))),
        _ if !own => Err(IngestError::Denied(format!(
            "{who} may not {} record {} of municipality {}",
            serde_json::to_value(op.change)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            op.record_id,
            regno.municipality
        ))),
        ChangeKind::Create => {
            let minted_by = regno
                .node
                .as_deref()
                .unwrap_or(civreg_shared::ids::PRIMARY_NODE_ID);
            if minted_by == node_id {
                Ok(())
            } else {
                Err(IngestError::Denied(format!(
                    "{who} may create records only under numbers it mints, not {}",
                    op.record_id
                )))
            }
        }
        _ => Ok(()),
    }
}

/// The latest date an op received at `now_ms` may name: the hub's UTC date plus a day, since an
/// office's local date may be a day ahead of the hub's UTC one.
fn latest_date(now_ms: u64) -> chrono::NaiveDate {
    let today = chrono::DateTime::from_timestamp_millis(i64::try_from(now_ms).unwrap_or(i64::MAX))
        .map_or(chrono::NaiveDate::MAX, |t| t.date_naive());
    today.succ_opt().unwrap_or(today)
}

/// The content and clock of an op as the hub receives it at `now_ms` (see the module docs).
pub fn check_received(op: &Op, now_ms: u64) -> Result<(), IngestError> {
    // Links and hub-only numbers are refused by `authorize` with their own message.
    if op.change == ChangeKind::Link {
        return Ok(());
    }
    let report = civreg_shared::validate::check_op(op, latest_date(now_ms));
    let errors: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        let mut text: Vec<String> = errors
            .iter()
            .take(MAX_LISTED)
            .map(|p| {
                if p.field.is_empty() {
                    format!("[{}] {}", p.code, p.message)
                } else {
                    format!("{} [{}]: {}", p.field, p.code, p.message)
                }
            })
            .collect();
        if errors.len() > MAX_LISTED {
            text.push(format!("and {} more", errors.len() - MAX_LISTED));
        }
        let msg = format!(
            "op {} of record {} refused: {}",
            op.id,
            op.record_id,
            text.join("; ")
        );
        return Err(if errors.iter().any(|p| DENIED_CODES.contains(&p.code)) {
            IngestError::Denied(msg)
        } else {
            IngestError::Invalid(msg)
        });
    }
    let ahead = op.hlc.wall_ms.saturating_sub(now_ms);
    if ahead > MAX_OP_CLOCK_AHEAD_MS {
        return Err(IngestError::Ahead {
            op: op.id.to_string(),
            ahead_ms: ahead,
            retry_ms: ahead - MAX_OP_CLOCK_AHEAD_MS,
        });
    }
    Ok(())
}

/// Refuses an edit of a record that neither the store holds nor this group of pushes creates
/// (`staged`, the ops accepted before it): the hub stores no record that was never created.
pub fn require_record<'a>(
    store: &HubStore,
    op: &Op,
    mut staged: impl Iterator<Item = &'a Prepared>,
) -> Result<(), IngestError> {
    if op.change == ChangeKind::Create {
        return Ok(());
    }
    let held = store
        .record(&op.record_id)
        .map_err(|e: StoreError| IngestError::Invalid(format!("could not read the record: {e}")))?
        .is_some()
        || staged.any(|p| p.op.record_id == op.record_id && p.op.change == ChangeKind::Create);
    if held {
        Ok(())
    } else {
        Err(IngestError::NotHeld(format!(
            "op {} changes record {}, which the hub does not hold: a node edits or annotates only records it holds, created by their office or found through national search",
            op.id, op.record_id
        )))
    }
}

/// An op with the work that needs nothing but the op itself done ahead of the committer: its own
/// check ([`Op::check`]: shape and hash) and its stored encodings. A push stream prepares each
/// batch as it arrives, on the async workers, so that the one committer thread only links
/// chains, reads what it must and writes.
pub struct Prepared {
    pub(super) op: Op,
    pub(super) checked: Result<(), OpError>,
    /// The content and clock check of an op received from a node ([`check_received`]).
    pub(super) content: Result<(), IngestError>,
    /// The op as a run holds it ([`codec::encode_op`]).
    pub(super) stored: Vec<u8>,
    /// The state of a record made by this op alone ([`codec::encode_single_state`]).
    pub(super) single: Option<Vec<u8>>,
}

impl Prepared {
    pub fn new(op: Op) -> Prepared {
        Prepared {
            content: Ok(()),
            checked: op.check(),
            stored: codec::encode_op(&op),
            single: codec::encode_single_state(&op),
            op,
        }
    }

    /// An op received from a node at `now_ms`: also its content and clock checked
    /// ([`check_received`]).
    pub fn received(op: Op, now_ms: u64) -> Prepared {
        let content = check_received(&op, now_ms);
        Prepared {
            content,
            ..Prepared::new(op)
        }
    }

    pub fn op(&self) -> &Op {
        &self.op
    }
}

impl HubStore {
    pub(super) fn check_push<'a>(
        &self,
        who: &Author,
        ops: &'a [Prepared],
        heads: &HashMap<String, Head>,
        staged: &mut HashMap<String, Head>,
        accepted: &mut Vec<&'a Prepared>,
    ) -> Result<Head, IngestError> {
        let Author::Node {
            municipality,
            node_id,
        } = who
        else {
            return Err(IngestError::Denied(format!("{who} can not push ops")));
        };
        let chain = chain_key(municipality, node_id);
        // What is on disk, and what earlier pushes of this same group have staged on top of it.
        let committed = heads.get(&chain).copied().unwrap_or_default();
        let head = staged.get(&chain).copied().unwrap_or(committed);
        let mut verifier = ChainVerifier::resume(municipality, node_id, head.seq, head.hash);
        let mut new_ops: Vec<&Prepared> = Vec::new();
        for p in ops {
            let op = &p.op;
            let next = op.id.seq == verifier.verified() + 1;
            // A refusal of the op the hub expects next, for what the op is (not a gap or a
            // fork), is remembered with its hash: an operator may set the op aside ([`aside`]).
            let refused = |e: IngestError| {
                if next
                    && !matches!(
                        e,
                        IngestError::Fork { .. }
                            | IngestError::Gap { .. }
                            | IngestError::Ahead { .. }
                    )
                {
                    self.note_refused(municipality, node_id, op, e.to_string());
                }
                e
            };
            let own = op.id.municipality == *municipality && op.id.node_id == *node_id;
            if own && op.id.seq <= verifier.verified() {
                // Already held (or staged, or set aside): harmless if it is the same op, a fork if
                // not. Checked before the write rules: a repeat of an op set aside is not judged
                // again. (An op naming another node goes to `authorize`, which refuses it.)
                let same = if op.id.seq <= committed.seq {
                    self.stored_hash(&chain, op.id.seq)? == Some(op.hash)
                } else {
                    // Staged by this push or by an earlier push of the same group.
                    new_ops
                        .iter()
                        .chain(accepted.iter())
                        .any(|o| o.op.id == op.id && o.op.hash == op.hash)
                };
                if !same {
                    return Err(IngestError::Fork {
                        chain,
                        seq: op.id.seq,
                    });
                }
                continue;
            }
            authorize(who, op).map_err(refused)?;
            for b in &op.base {
                // Chains are stored without gaps from #1, so the hub holds (or this group stages)
                // exactly the ops up to each chain's head: no lookup needed.
                let top = if b.municipality == *municipality && b.node_id == *node_id {
                    verifier.verified()
                } else {
                    let bc = chain_key(&b.municipality, &b.node_id);
                    staged
                        .get(&bc)
                        .or_else(|| heads.get(&bc))
                        .map_or(0, |h| h.seq)
                };
                if b.seq == 0 || b.seq > top {
                    return Err(refused(IngestError::Invalid(format!(
                        "op {} is based on op {b}, which the hub does not hold: a node bases edits only on ops it made or pulled",
                        op.id
                    ))));
                }
            }
            if op.id.seq > verifier.verified() + 1 {
                return Err(IngestError::Gap {
                    chain,
                    held: verifier.verified(),
                    got: op.id.seq,
                });
            }
            verifier
                .push_checked(op, p.checked.clone())
                .map_err(|e| match e {
                    civreg_shared::op::ChainError::Broken { seq, .. } => IngestError::Fork {
                        chain: chain.clone(),
                        seq,
                    },
                    other => IngestError::Invalid(other.to_string()),
                })
                .map_err(refused)?;
            p.content.clone().map_err(refused)?;
            require_record(self, op, new_ops.iter().chain(accepted.iter()).copied())
                .map_err(refused)?;
            new_ops.push(p);
        }
        let new_head = Head {
            seq: verifier.verified(),
            hash: verifier.last_hash(),
        };
        if !new_ops.is_empty() {
            staged.insert(chain, new_head);
            accepted.extend(new_ops);
        }
        Ok(new_head)
    }
}
