//! What every gRPC service of the hub shares: who the caller is (from its client certificate),
//! and one mapping of each service's errors to a gRPC status ([`ToStatus`]). The codes follow the
//! vocabulary the node reads ([`civreg_proto::codes`]): a *refusal* (invalid argument, not found,
//! permission denied, failed precondition, out of range) will not heal by sending again; anything
//! else (unavailable, internal, ...) is retried.

use crate::pki::PeerIdentity;
use crate::review::ReviewError;
use crate::rollout;
use crate::store::IngestError;
use civreg_proto::ROLLOUT_METADATA;
use tonic::{Request, Status};

/// The caller, named by the client certificate the TLS layer checked (revocation re-checked).
pub fn identity<T>(req: &Request<T>) -> Result<PeerIdentity, Status> {
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

pub fn node_of(who: &PeerIdentity) -> Result<(String, String), Status> {
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

/// Refuses a node whose municipality may not connect (planned, or unknown); operators pass.
pub fn check_rollout(rollout: &rollout::Watcher, who: &PeerIdentity) -> Result<(), Status> {
    if let PeerIdentity::Node {
        municipality,
        node_id,
    } = who
    {
        if let Err(r) = rollout.current().check_connect(municipality) {
            tracing::warn!(%municipality, node = %node_id, reason = %r, "refused by the rollout");
            return Err(r.to_status());
        }
    }
    Ok(())
}

/// A service error as the gRPC status its caller gets. Every error a hub service returns to a
/// client goes through this, so that one error has one code whichever service answers.
pub trait ToStatus {
    fn to_status(&self) -> Status;
}

impl ToStatus for IngestError {
    fn to_status(&self) -> Status {
        let e = self;
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
}

/// A refusal by the rollout, marked so that the node knows to keep trying.
impl ToStatus for rollout::Refusal {
    fn to_status(&self) -> Status {
        let r = self;
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
}

impl ToStatus for ReviewError {
    fn to_status(&self) -> Status {
        let e = self;
        match e {
            ReviewError::NotFound(_) => Status::not_found(e.to_string()),
            ReviewError::AlreadyResolved { .. } => Status::failed_precondition(e.to_string()),
            ReviewError::Store(_) => Status::internal(e.to_string()),
            _ => Status::invalid_argument(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_proto::codes::{disposition, Disposition};

    /// Every refusal of a push has a code the node treats as a refusal of the ops (it narrows
    /// the batch to find the op), not as a passing failure nor as a broken call. (An op stamped
    /// ahead of the hub's clock is a refusal too; its `RETRY_METADATA` tells the node to wait.)
    #[test]
    fn ingest_refusals_are_refusals_in_the_nodes_vocabulary() {
        let errors = [
            IngestError::Denied("not yours".into()),
            IngestError::Invalid("bad".into()),
            IngestError::NotHeld("R-1".into()),
            IngestError::Gap {
                chain: "istog/1".into(),
                held: 2,
                got: 5,
            },
            IngestError::Fork {
                chain: "istog/1".into(),
                seq: 3,
            },
            IngestError::Ahead {
                op: "istog/1#4".into(),
                ahead_ms: 600_000,
                retry_ms: 300_000,
            },
        ];
        for e in &errors {
            let st = e.to_status();
            assert_eq!(
                disposition(st.code()),
                Disposition::Refused,
                "{e}: {:?}",
                st.code()
            );
        }
    }

    #[test]
    fn a_rollout_refusal_is_marked_so_that_the_node_keeps_trying() {
        let st = rollout::Refusal::Planned("istog".into()).to_status();
        assert_eq!(st.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            st.metadata()
                .get(ROLLOUT_METADATA)
                .and_then(|v| v.to_str().ok()),
            Some("planned")
        );
    }
}
