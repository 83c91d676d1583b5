//! What a node may write, and what the hub checks in every op it receives before it stores it.
//!
//! - [`authorize`]: which records a node may change, and how (its own chain, its own
//!   municipality's records, numbers it mints; annotations of other municipalities' births).
//! - [`check_received`]: the op's content on its own ([`civreg_shared::validate::check_op`], the
//!   very check the node made before it saved the op) and its clock. Deterministic per op and
//!   independent of what else the hub holds, so acceptance never depends on arrival order; run
//!   on the async workers as each batch arrives ([`super::Prepared::received`]).
//! - [`require_record`]: an edit (amendment, annotation, void) is of a record the hub holds or
//!   that the same group of pushes creates: the committer's check, since it reads the store.

use super::{HubStore, IngestError, Prepared, StoreError};
use crate::pki::PeerIdentity;
use civreg_shared::ids::RegNo;
use civreg_shared::limits::MAX_OP_CLOCK_AHEAD_MS;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Op};
use civreg_shared::validate::Severity;

/// Most problems an error message lists; the rest are counted.
const MAX_LISTED: usize = 5;

/// Problem codes that say the op writes what its office may not (rather than what is malformed).
const DENIED_CODES: &[&str] = &["annotation.path", "annotation.office", "field.municipality"];

/// Checks what a node may write: only its own chain; creates, amendments and voids only of its
/// own municipality's records (and creates only under registration numbers it mints); annotations
/// also on birth records kept elsewhere.
pub fn authorize(who: &PeerIdentity, op: &Op) -> Result<(), IngestError> {
    let PeerIdentity::Node {
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
