//! The civreg wire format. Only this crate knows protobuf; everything else works with
//! `civreg_shared` types. Conversions from the wire validate at this boundary: a message that
//! does not convert is refused with `INVALID_ARGUMENT` and a message that says which field.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("civreg.v1");
}

/// The encoded file descriptor set of `civreg.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/civreg_v1_descriptor.bin"));

use civreg_shared::fields::FieldChange;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId};

/// Largest gRPC message either side accepts, on purpose: a batch of a few thousand ops fits,
/// a hostile client can not make the hub buffer more (`civreg_shared::limits`).
pub use civreg_shared::limits::MAX_MESSAGE_BYTES;

/// The metadata key with which the hub marks a refusal by the rollout (a planned or suspended
/// municipality): an operator's decision that can change, so the node keeps trying.
pub const ROLLOUT_METADATA: &str = "civreg-rollout";

/// The metadata key with which the hub marks a refusal that will pass by itself (an op stamped
/// too far ahead of the hub's clock is accepted once the hub's clock catches up): the node keeps
/// its queue and tries again later, and says why in its status. Its value is a hint, in
/// milliseconds, of when to try again.
pub const RETRY_METADATA: &str = "civreg-retry-after-ms";

/// The vocabulary of gRPC codes that the hub answers with and the node acts on: one table, so
/// that a code the hub's `grpc::ToStatus` chooses means the same thing to the node's sync worker.
pub mod codes {
    use tonic::Code;

    /// What a node does with an answer of this code.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Disposition {
        /// The call succeeded.
        Ok,
        /// The hub refused what was sent, for what it is (invalid, not held, not allowed, a gap
        /// or fork in the chain, out of range): sending the same again will not help, but a
        /// narrower batch can find the one op refused.
        Refused,
        /// The call did not get through or the hub could not answer now: try again later.
        Retry,
        /// The call itself is wrong (unimplemented, unauthenticated, already exists, data
        /// loss): neither retried nor blamed on the ops.
        Broken,
    }

    /// The one table of codes.
    pub fn disposition(code: Code) -> Disposition {
        match code {
            Code::Ok => Disposition::Ok,
            Code::InvalidArgument
            | Code::NotFound
            | Code::PermissionDenied
            | Code::FailedPrecondition
            | Code::OutOfRange => Disposition::Refused,
            Code::Cancelled
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Internal
            | Code::Unavailable => Disposition::Retry,
            Code::AlreadyExists | Code::Unimplemented | Code::Unauthenticated | Code::DataLoss => {
                Disposition::Broken
            }
        }
    }

    /// Whether trying again later can help.
    pub fn is_retryable(code: Code) -> bool {
        disposition(code) == Disposition::Retry
    }

    /// Whether the hub refused what was sent for what it is.
    pub fn is_refusal(code: Code) -> bool {
        disposition(code) == Disposition::Refused
    }
}

/// The size of a message's protobuf encoding, for cutting batches by bytes
/// (`civreg_shared::limits::MAX_BATCH_BYTES`) without depending on prost.
pub fn encoded_len(m: &impl prost::Message) -> usize {
    m.encoded_len()
}

/// Largest number of ops in one push or pull batch.
pub const MAX_BATCH_OPS: usize = 2_000;

/// Why a wire message is not a valid op.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("op is missing its {0}")]
    Missing(&'static str),
    #[error("op field {field} is not valid: {why}")]
    Invalid { field: &'static str, why: String },
}

/// A record kind from its wire number.
pub fn kind_from_wire(k: i32) -> Result<RecordKind, WireError> {
    match v1::RecordKind::try_from(k) {
        Ok(v1::RecordKind::Birth) => Ok(RecordKind::Birth),
        Ok(v1::RecordKind::Marriage) => Ok(RecordKind::Marriage),
        Ok(v1::RecordKind::Death) => Ok(RecordKind::Death),
        _ => Err(WireError::Invalid {
            field: "record_kind",
            why: format!("unknown record kind {k}"),
        }),
    }
}

/// A record kind's wire enum.
pub fn kind_to_wire(k: RecordKind) -> v1::RecordKind {
    match k {
        RecordKind::Birth => v1::RecordKind::Birth,
        RecordKind::Marriage => v1::RecordKind::Marriage,
        RecordKind::Death => v1::RecordKind::Death,
    }
}

fn change_from_wire(c: i32) -> Result<ChangeKind, WireError> {
    match v1::ChangeKind::try_from(c) {
        Ok(v1::ChangeKind::Create) => Ok(ChangeKind::Create),
        Ok(v1::ChangeKind::Amend) => Ok(ChangeKind::Amend),
        Ok(v1::ChangeKind::Annotate) => Ok(ChangeKind::Annotate),
        Ok(v1::ChangeKind::Void) => Ok(ChangeKind::Void),
        Ok(v1::ChangeKind::Restore) => Ok(ChangeKind::Restore),
        Ok(v1::ChangeKind::Link) => Ok(ChangeKind::Link),
        _ => Err(WireError::Invalid {
            field: "change",
            why: format!("unknown change kind {c}"),
        }),
    }
}

fn change_to_wire(c: ChangeKind) -> v1::ChangeKind {
    match c {
        ChangeKind::Create => v1::ChangeKind::Create,
        ChangeKind::Amend => v1::ChangeKind::Amend,
        ChangeKind::Annotate => v1::ChangeKind::Annotate,
        ChangeKind::Void => v1::ChangeKind::Void,
        ChangeKind::Restore => v1::ChangeKind::Restore,
        ChangeKind::Link => v1::ChangeKind::Link,
    }
}

fn hash_from_wire(b: &[u8], field: &'static str, allow_empty: bool) -> Result<Hash, WireError> {
    if allow_empty && b.is_empty() {
        return Ok(Hash::default());
    }
    Hash::from_slice(b).ok_or(WireError::Invalid {
        field,
        why: format!("expected 32 bytes, got {}", b.len()),
    })
}

pub fn id_from_wire(id: Option<v1::OpId>, field: &'static str) -> Result<OpId, WireError> {
    let id = id.ok_or(WireError::Missing(field))?;
    Ok(OpId {
        municipality: id.municipality,
        node_id: id.node_id,
        seq: id.seq,
    })
}

pub fn id_to_wire(id: &OpId) -> v1::OpId {
    v1::OpId {
        municipality: id.municipality.clone(),
        node_id: id.node_id.clone(),
        seq: id.seq,
    }
}

impl From<&Op> for v1::Op {
    fn from(op: &Op) -> v1::Op {
        v1::Op {
            format: op.format,
            id: Some(id_to_wire(&op.id)),
            hlc: Some(v1::Hlc {
                wall_ms: op.hlc.wall_ms,
                logical: op.hlc.logical,
            }),
            clerk: op.clerk.clone(),
            record_id: op.record_id.clone(),
            record_kind: kind_to_wire(op.record_kind) as i32,
            change: change_to_wire(op.change) as i32,
            changes: op
                .changes
                .iter()
                .map(|c| v1::FieldChange {
                    path: c.path.clone(),
                    value_json: civreg_shared::op::canonical_value(&c.value),
                })
                .collect(),
            base: op.base.iter().map(id_to_wire).collect(),
            reason: op.reason.clone(),
            prev_hash: op.prev_hash.0.to_vec(),
            hash: op.hash.0.to_vec(),
        }
    }
}

impl TryFrom<v1::Op> for Op {
    type Error = WireError;

    /// Converts and checks shape only; the hash and chain are checked by the receiver.
    fn try_from(w: v1::Op) -> Result<Op, WireError> {
        let hlc = w.hlc.ok_or(WireError::Missing("hlc"))?;
        let mut changes = Vec::with_capacity(w.changes.len());
        for c in w.changes {
            let value: serde_json::Value =
                serde_json::from_str(&c.value_json).map_err(|e| WireError::Invalid {
                    field: "changes.value_json",
                    why: e.to_string(),
                })?;
            if value.is_object() || value.is_array() {
                return Err(WireError::Invalid {
                    field: "changes.value_json",
                    why: format!("{} is not a single value", c.path),
                });
            }
            changes.push(FieldChange {
                path: c.path,
                value,
            });
        }
        Ok(Op {
            format: w.format,
            id: id_from_wire(w.id, "id")?,
            hlc: Hlc {
                wall_ms: hlc.wall_ms,
                logical: hlc.logical,
            },
            clerk: w.clerk,
            record_id: w.record_id,
            record_kind: kind_from_wire(w.record_kind)?,
            change: change_from_wire(w.change)?,
            changes,
            base: w
                .base
                .into_iter()
                .map(|b| id_from_wire(Some(b), "base"))
                .collect::<Result<_, _>>()?,
            reason: w.reason,
            prev_hash: hash_from_wire(&w.prev_hash, "prev_hash", false)?,
            hash: hash_from_wire(&w.hash, "hash", false)?,
        })
    }
}

/// Converts a wire hash that may be empty (meaning "none yet").
pub fn optional_hash(b: &[u8]) -> Result<Hash, WireError> {
    hash_from_wire(b, "hash", true)
}

/// An office's clerk accounts on the wire (issue 17), `received_ms` set by the hub in replies.
pub fn roster_to_wire(r: &civreg_shared::roster::Roster, received_ms: u64) -> v1::ClerkRoster {
    v1::ClerkRoster {
        version: r.version,
        clerks: r
            .clerks
            .iter()
            .map(|c| v1::ClerkAccount {
                name: c.name.clone(),
                password_hash: c.password_hash.clone(),
            })
            .collect(),
        received_ms,
    }
}

/// A roster from the wire, as sent: the receiver checks it with `civreg_shared::roster::check`
/// (bounded, well-formed hashes only) before keeping anything of it.
pub fn roster_from_wire(r: &v1::ClerkRoster) -> civreg_shared::roster::Roster {
    civreg_shared::roster::Roster {
        version: r.version,
        clerks: r
            .clerks
            .iter()
            .map(|c| civreg_shared::roster::ClerkAccount {
                name: c.name.clone(),
                password_hash: c.password_hash.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::op::{GENESIS, OP_FORMAT};

    fn op() -> Op {
        Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: "istog".into(),
                node_id: "1".into(),
                seq: 1,
            },
            hlc: Hlc {
                wall_ms: 5,
                logical: 1,
            },
            clerk: "ana".into(),
            record_id: "ISTOG-2026-B-000001".into(),
            record_kind: RecordKind::Birth,
            change: ChangeKind::Create,
            changes: vec![
                FieldChange {
                    path: "child.given_name".into(),
                    value: "Ђорђе".into(),
                },
                FieldChange {
                    path: "register.page".into(),
                    value: 12.into(),
                },
            ],
            base: vec![],
            reason: String::new(),
            prev_hash: GENESIS,
            hash: Hash::default(),
        }
        .seal()
    }

    #[test]
    fn ops_survive_the_wire_with_their_hash() {
        use prost::Message;
        let o = op();
        let bytes = v1::Op::from(&o).encode_to_vec();
        let back = Op::try_from(v1::Op::decode(bytes.as_slice()).unwrap()).unwrap();
        assert_eq!(back, o);
        assert!(back.check().is_ok());
    }

    #[test]
    fn malformed_wire_ops_are_refused_with_the_field() {
        let mut w = v1::Op::from(&op());
        w.hash = vec![1, 2, 3];
        assert!(matches!(
            Op::try_from(w),
            Err(WireError::Invalid { field: "hash", .. })
        ));
        let mut w = v1::Op::from(&op());
        w.id = None;
        assert_eq!(Op::try_from(w), Err(WireError::Missing("id")));
        let mut w = v1::Op::from(&op());
        w.record_kind = 99;
        assert!(Op::try_from(w).is_err());
        let mut w = v1::Op::from(&op());
        w.changes[0].value_json = "{\"a\":1}".into();
        assert!(Op::try_from(w).is_err());
        let mut w = v1::Op::from(&op());
        w.changes[0].value_json = "not json".into();
        assert!(Op::try_from(w).is_err());
    }
}
