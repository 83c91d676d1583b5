//! The `Review` gRPC service: [`crate::review`] for operators with operator certificates, and the
//! digest of its own municipality for a node.

use crate::grpc::ToStatus;
use crate::pki::PeerIdentity;
use crate::review::{self, Decision, ReviewError};
use crate::store::{FiledConflict, HubStore};
use civreg_proto::v1::review_server::Review;
use civreg_proto::v1::{
    ConflictInfo, ConflictSide, DigestReply, DigestRequest, Hlc as WireHlc, ListConflictsReply,
    ListConflictsRequest, ResolveConflictReply, ResolveConflictRequest,
};
use civreg_shared::merge::{Resolution, Side};
use civreg_shared::op::Hlc;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct ReviewService {
    pub store: Arc<HubStore>,
    pub rollout: Arc<crate::rollout::Watcher>,
}

fn hlc(h: Hlc) -> Option<WireHlc> {
    Some(WireHlc {
        wall_ms: h.wall_ms,
        logical: h.logical,
    })
}

fn side(s: &Side) -> ConflictSide {
    ConflictSide {
        op: Some(civreg_proto::id_to_wire(&s.op)),
        at: hlc(s.at),
        clerk: s.clerk.clone(),
        value_json: s.value.to_string(),
        reason: s.reason.clone(),
    }
}

fn resolution(r: &Resolution) -> ConflictSide {
    ConflictSide {
        op: Some(civreg_proto::id_to_wire(&r.op)),
        at: hlc(r.at),
        clerk: r.clerk.clone(),
        value_json: r.value.to_string(),
        reason: r.reason.clone(),
    }
}

pub fn conflict_info(f: &FiledConflict) -> ConflictInfo {
    let c = &f.conflict;
    ConflictInfo {
        id: c.id.clone(),
        municipality: f.municipality.clone(),
        record_id: c.record_id.clone(),
        path: c.path.clone(),
        a: Some(side(&c.winner)),
        b: Some(side(&c.loser)),
        resolution: c.resolution.as_ref().map(resolution),
    }
}

fn operator<T>(req: &Request<T>) -> Result<String, Status> {
    match crate::grpc::identity(req)? {
        PeerIdentity::Operator { name } => Ok(name),
        other => Err(Status::permission_denied(format!(
            "{other} is not an operator: conflict review needs an operator certificate"
        ))),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ReviewError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| e.to_status())
}

#[tonic::async_trait]
impl Review for ReviewService {
    async fn list_conflicts(
        &self,
        req: Request<ListConflictsRequest>,
    ) -> Result<Response<ListConflictsReply>, Status> {
        operator(&req)?;
        let r = req.into_inner();
        let store = self.store.clone();
        let list = blocking(move || {
            let m = (!r.municipality.is_empty()).then_some(r.municipality);
            review::list(&store, m.as_deref(), r.include_resolved)
        })
        .await?;
        Ok(Response::new(ListConflictsReply {
            conflicts: list.iter().map(conflict_info).collect(),
        }))
    }

    async fn resolve_conflict(
        &self,
        req: Request<ResolveConflictRequest>,
    ) -> Result<Response<ResolveConflictReply>, Status> {
        let name = operator(&req)?;
        let r = req.into_inner();
        let decision = match (r.keep.as_str(), r.value_json.is_empty()) {
            ("A" | "a", true) => Decision::KeepA,
            ("B" | "b", true) => Decision::KeepB,
            ("", false) => Decision::Value(serde_json::from_str(&r.value_json).map_err(|e| {
                Status::invalid_argument(format!(
                    "value_json is not JSON ({e}): a text value needs its quotes, e.g. \"Agron\""
                ))
            })?),
            _ => {
                return Err(Status::invalid_argument(
                    "give either keep (\"A\" or \"B\") or value_json, not both",
                ))
            }
        };
        let store = self.store.clone();
        let op =
            blocking(move || review::resolve(&store, &r.id, decision, &r.reason, &name)).await?;
        Ok(Response::new(ResolveConflictReply {
            op: Some(civreg_proto::id_to_wire(&op.id)),
        }))
    }

    async fn digest(&self, req: Request<DigestRequest>) -> Result<Response<DigestReply>, Status> {
        let who = crate::grpc::identity(&req)?;
        crate::grpc::check_rollout(&self.rollout, &who)?;
        let m = req.into_inner().municipality;
        if let PeerIdentity::Node { municipality, .. } = &who {
            if *municipality != m {
                return Err(Status::permission_denied(format!(
                    "{who} may ask only for the digest of {municipality}"
                )));
            }
        }
        let store = self.store.clone();
        let d = blocking(move || review::digest(&store, &m)).await?;
        Ok(Response::new(DigestReply {
            records: d.records,
            sha256: d.sha256,
        }))
    }
}
