//! The `Search` gRPC service: national search for nodes and operators, each search written to
//! the access log under the caller's certificate identity. A node of a `planned` municipality is
//! refused, as on every call (see [`crate::rollout`]).

use crate::access::{self, AccessLog, Entry};

use crate::rollout;
use crate::search::{Born, SearchIndex, SearchQuery};
use civreg_proto::v1::search_server::Search;
use civreg_proto::v1::{SearchHit, SearchReply, SearchRequest};
use civreg_shared::model::RecordKind;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct SearchService {
    pub index: Arc<SearchIndex>,
    pub log: Arc<AccessLog>,
    pub rollout: Arc<rollout::Watcher>,
}

#[tonic::async_trait]
impl Search for SearchService {
    async fn search(&self, req: Request<SearchRequest>) -> Result<Response<SearchReply>, Status> {
        let who = crate::grpc::identity(&req)?;
        crate::grpc::check_rollout(&self.rollout, &who)?;
        let r = req.into_inner();
        // Bounded before anything is parsed or run (INVALID_ARGUMENT, saying which bound).
        civreg_shared::limits::check_search(&r.text, r.offset as usize, r.limit as usize)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let kind = match r.kind.as_str() {
            "" => None,
            "birth" => Some(RecordKind::Birth),
            "marriage" => Some(RecordKind::Marriage),
            "death" => Some(RecordKind::Death),
            other => {
                return Err(Status::invalid_argument(format!(
                    "kind {other:?}: use birth, marriage or death"
                )))
            }
        };
        let born = if r.born.is_empty() {
            None
        } else {
            Some(Born::parse(&r.born).map_err(|e| Status::invalid_argument(e.to_string()))?)
        };
        let query = SearchQuery {
            text: r.text.clone(),
            born,
            municipality: (!r.municipality.is_empty()).then_some(r.municipality.clone()),
            kind,
            offset: r.offset as usize,
            limit: if r.limit == 0 { 20 } else { r.limit as usize },
        };
        let (index, log) = (self.index.clone(), self.log.clone());
        let by = who.to_string();
        let clerk = access::peer_name(&r.clerk);
        let results = tokio::task::spawn_blocking(move || {
            let results = index
                .search(&query)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            let entry = Entry {
                at_ms: access::now_ms(),
                by,
                clerk,
                action: "search".into(),
                query: access::redact(&query.text, index.blinder()),
                records: results.hits.iter().map(|h| h.regno.clone()).collect(),
            };
            // No answer leaves without its access-log entry.
            log.append(&entry)
                .map_err(|e| Status::unavailable(format!("access log not written: {e}")))?;
            Ok::<_, Status>(results)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))??;
        Ok(Response::new(SearchReply {
            total: results.total as u64,
            partial: results.partial,
            hits: results
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    regno: h.regno,
                    municipality: h.municipality,
                    kind: h.kind,
                    score: h.score,
                    summary_json: serde_json::to_string(&h.summary).expect("summary serialises"),
                    why: h.why,
                    unmatched: h.unmatched,
                    explain_json: serde_json::to_string(&h.explain)
                        .expect("explanations serialise"),
                })
                .collect(),
        }))
    }
}
