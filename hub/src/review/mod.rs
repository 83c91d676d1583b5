//! Operators' review of conflicts, and state digests: the logic behind `civreg-hub conflicts ...`
//! and `civreg-hub digest`, over a [`HubStore`], shared by the command line and the gRPC service.
//!
//! A decision is an op of the hub's own chain, made in the operator's name, based on the record's
//! current heads, so that it has seen both sides and the shared merge counts the conflict as
//! resolved everywhere the op arrives. It reaches the record's offices through pull like any op.

pub mod service;

use crate::store::{FiledConflict, HubStore, StoreError};
use civreg_shared::fields::FieldChange;
use civreg_shared::ids::RegNo;
use civreg_shared::merge::{Digest, DigestValue, STATUS};
use civreg_shared::model::Record;
use civreg_shared::op::{ChangeKind, Hlc, Op, OP_FORMAT};
use civreg_shared::validate;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no conflict {0}: `civreg-hub conflicts list` shows the open ones")]
    NotFound(String),
    #[error("conflict {id} is already resolved, by {by}")]
    AlreadyResolved { id: String, by: String },
    #[error("a decision needs a reason (--reason TEXT): it is kept with the record's history")]
    ReasonRequired,
    #[error("an operator name is needed (--operator NAME or CIVREG_OPERATOR)")]
    OperatorRequired,
    #[error(
        "conflict {0} is about a void: keep A (the void) or B (the edit); a value can not be given"
    )]
    ValueOnStatus(String),
    #[error("with that value record {regno} would not be valid: {why}")]
    Invalid { regno: String, why: String },
    #[error("unknown municipality {0:?}: use a code from the gazetteer")]
    UnknownMunicipality(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the operator decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Side A: the provisional winner.
    KeepA,
    /// Side B: the value the total order put aside.
    KeepB,
    /// Another value altogether.
    Value(Value),
}

/// Filed conflicts, open ones only unless `all`, optionally of one municipality, by id.
pub fn list(
    store: &HubStore,
    municipality: Option<&str>,
    all: bool,
) -> Result<Vec<FiledConflict>, ReviewError> {
    let mut out = Vec::new();
    for c in store.conflicts() {
        let c = c?;
        if municipality.is_some_and(|m| m != c.municipality) {
            continue;
        }
        if all || c.conflict.resolution.is_none() {
            out.push(c);
        }
    }
    Ok(out)
}

pub fn show(store: &HubStore, id: &str) -> Result<FiledConflict, ReviewError> {
    store
        .conflict(id.trim())?
        .ok_or_else(|| ReviewError::NotFound(id.to_string()))
}

/// Records the operator's decision as an op of the hub's chain and returns it.
pub fn resolve(
    store: &HubStore,
    id: &str,
    decision: Decision,
    reason: &str,
    operator: &str,
) -> Result<Op, ReviewError> {
    if reason.trim().is_empty() {
        return Err(ReviewError::ReasonRequired);
    }
    if operator.trim().is_empty() {
        return Err(ReviewError::OperatorRequired);
    }
    let filed = show(store, id)?;
    let c = &filed.conflict;
    if let Some(r) = &c.resolution {
        return Err(ReviewError::AlreadyResolved {
            id: c.id.clone(),
            by: format!("{} ({})", r.clerk, r.op),
        });
    }
    let record = store
        .record(&c.record_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("conflict {} names a missing record", c.id)))?;
    let (change, changes) = if c.path == STATUS {
        match decision {
            Decision::KeepA => (ChangeKind::Void, vec![]),
            Decision::KeepB => (ChangeKind::Restore, vec![]),
            Decision::Value(_) => return Err(ReviewError::ValueOnStatus(c.id.clone())),
        }
    } else {
        let value = match decision {
            Decision::KeepA => c.winner.value.clone(),
            Decision::KeepB => c.loser.value.clone(),
            Decision::Value(v) => v,
        };
        let change = FieldChange {
            path: c.path.clone(),
            value,
        };
        // A decision must not break a record that was valid; a record that was not (typed from
        // a damaged historic page, say) is not held to a standard it did not meet.
        let mut fields = record.fields.clone();
        civreg_shared::fields::apply(&mut fields, std::slice::from_ref(&change));
        if check(record.kind, &record.fields).is_ok() {
            check(record.kind, &fields).map_err(|why| ReviewError::Invalid {
                regno: record.regno.clone(),
                why,
            })?;
        }
        (ChangeKind::Amend, vec![change])
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let op = store.write_own(|id, prev_hash| Op {
        format: OP_FORMAT,
        id,
        hlc: Hlc::tick(record.updated, now),
        clerk: format!("operator:{}", operator.trim()),
        record_id: record.regno.clone(),
        record_kind: record.kind,
        change,
        changes,
        base: record.heads.clone(),
        reason: format!("conflict {}: {}", c.id, reason.trim()),
        prev_hash,
        hash: Default::default(),
    })?;
    tracing::info!(conflict = %c.id, record = %record.regno, operator = %operator, op = %op.id, "conflict resolved");
    Ok(op)
}

/// Whether fields form a valid record (no validation errors; warnings are fine).
fn check(
    kind: civreg_shared::model::RecordKind,
    fields: &civreg_shared::fields::FieldMap,
) -> Result<(), String> {
    let typed = Record::from_json(kind, civreg_shared::fields::unflatten(fields))
        .map_err(|e| e.to_string())?;
    let report = validate::validate(&typed, validate::today());
    if report.has_errors() {
        return Err(report.to_string());
    }
    Ok(())
}

/// The digest of a municipality's records at the hub (see [`Digest`]).
pub fn digest(store: &HubStore, municipality: &str) -> Result<DigestValue, ReviewError> {
    if civreg_shared::gazetteer::by_code(municipality).is_none() {
        return Err(ReviewError::UnknownMunicipality(municipality.to_string()));
    }
    let prefix = format!("{}-", municipality.to_ascii_uppercase());
    let mut d = Digest::default();
    for st in store.records_with_prefix(&prefix) {
        let st = st?;
        if RegNo::parse(&st.regno).is_ok_and(|r| r.municipality == municipality) {
            d.add(&st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
    }
    Ok(d.finish())
}
