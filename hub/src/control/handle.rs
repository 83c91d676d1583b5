//! How the hub answers a [`Request`]: inside the serving hub (called by the control socket's
//! server), or in the command itself when no hub runs (with a [`HubState::stopped`]).

use super::answer::{
    Answer, BackupMade, Blocked, CaseSide, CaseView, ClusterView, ConflictView, DedupeAnswer,
    PersonView, RecordView, RefusedAnswer, Resolved, StatusAnswer,
};
use super::{ControlError, Request};
use crate::status::Liveness;
use crate::store::HubStore;
use civreg_shared::op::Hash;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What requests are answered from.
pub struct HubState {
    pub store: Arc<HubStore>,
    /// What nodes said in their heartbeats (empty when the hub is not running).
    pub seen: Arc<Liveness>,
    /// Whether this is the running hub.
    pub running: bool,
    /// The search index: the running hub's, or opened (and brought up to date) on first use.
    pub search: std::sync::OnceLock<Arc<crate::search::SearchIndex>>,
    pub data_dir: PathBuf,
    /// Every hub's address (`hub_urls`) as the running hub was started with it; empty for a
    /// stopped hub (the command reads its config file).
    pub hub_urls: Vec<String>,
}

impl HubState {
    /// A stopped hub's state: its store, opened by the command itself.
    pub fn stopped(data_dir: &Path, store: HubStore) -> HubState {
        HubState {
            store: Arc::new(store),
            seen: Arc::default(),
            running: false,
            search: std::sync::OnceLock::new(),
            data_dir: data_dir.to_path_buf(),
            hub_urls: Vec::new(),
        }
    }

    /// Appends to the access log; no answer leaves without its entry.
    fn log_access(
        &self,
        by: &str,
        action: &str,
        query: &str,
        records: Vec<String>,
    ) -> Result<(), ControlError> {
        let log = crate::access::AccessLog::open(&self.data_dir)?;
        log.append(&crate::access::Entry {
            at_ms: crate::access::now_ms(),
            by: by.to_string(),
            clerk: String::new(),
            action: action.to_string(),
            query: query.to_string(),
            records,
        })?;
        Ok(())
    }

    fn search_index(&self) -> Result<Arc<crate::search::SearchIndex>, ControlError> {
        if let Some(ix) = self.search.get() {
            return Ok(ix.clone());
        }
        let ix = Arc::new(crate::search::SearchIndex::open(&self.data_dir)?);
        ix.catch_up(&self.store)?;
        Ok(self.search.get_or_init(|| ix).clone())
    }
}

/// A record as operators see it: its fields, status, people and their person identifiers.
fn record_view(state: &HubState, regno: &str) -> Result<RecordView, ControlError> {
    let rec = state
        .store
        .record(regno)?
        .ok_or_else(|| ControlError::NoRecord(regno.to_string()))?;
    let persons = crate::linkage::persons::persons_of_record(&state.store, regno)?;
    Ok(RecordView {
        record: civreg_shared::fields::unflatten(&civreg_shared::annotation::record_fields(
            &rec.fields,
        )),
        annotations: rec.annotations(),
        regno: rec.regno,
        kind: rec.kind,
        voided: rec.voided,
        ops: rec.ops,
        persons,
        links: rec.persons,
    })
}

/// Answers a request. Runs inside the serving hub, or in the command when no hub runs.
pub fn handle(req: &Request, state: &HubState) -> Result<Answer, ControlError> {
    answer(req, state, &mut |_| {})
}

/// [`answer`] as the control socket carries it: its JSON.
pub fn handle_with_progress(
    req: &Request,
    state: &HubState,
    progress: &mut dyn FnMut(String),
) -> Result<Value, ControlError> {
    answer(req, state, progress).map(|a| a.to_value())
}

/// [`handle`], telling a long request's progress to `progress` (a line of text each time).
pub fn answer(
    req: &Request,
    state: &HubState,
    progress: &mut dyn FnMut(String),
) -> Result<Answer, ControlError> {
    Ok(match req {
        Request::Show { regno, by } => {
            let regno = civreg_shared::ids::RegNo::parse(regno)?.to_string();
            let view = record_view(state, &regno)?;
            state.log_access(by, "view", "", vec![regno])?;
            view.into()
        }
        Request::Import {
            path,
            municipality,
            operator,
        } => {
            let ix = state.search_index()?;
            let started = std::time::Instant::now();
            let mut last = std::time::Instant::now() - Duration::from_secs(1);
            let r = crate::linkage::import::import_file(
                &state.store,
                ix.blinder(),
                path,
                municipality,
                operator,
                &mut |rows, byte, total| {
                    if last.elapsed() >= Duration::from_millis(500) || byte >= total {
                        last = std::time::Instant::now();
                        let secs = started.elapsed().as_secs_f64().max(0.001);
                        let pct = (byte * 100).checked_div(total).unwrap_or(100);
                        progress(format!(
                            "import: {rows} rows read ({pct}%), {:.0} rows/s",
                            rows as f64 / secs
                        ));
                    }
                },
            )?;
            r.into()
        }
        Request::DuplicatesList { municipality, all } => {
            crate::linkage::duplicates::list(&state.store, municipality.as_deref(), *all)?.into()
        }
        Request::DuplicatesIllegible { municipality } => {
            crate::linkage::illegible::waiting(&state.store, municipality.as_deref())?.into()
        }
        Request::DuplicatesShow { id, by } => {
            let c = crate::linkage::duplicates::get(&state.store, id)?;
            let side = |mention: &str| -> Result<CaseSide, ControlError> {
                let (regno, role) = mention.rsplit_once('/').unwrap_or((mention, ""));
                Ok(CaseSide {
                    view: record_view(state, regno)?,
                    role: role.to_string(),
                    mention: mention.to_string(),
                })
            };
            let (a, b) = (side(&c.a)?, side(&c.b)?);
            let records: Vec<String> = [&c.a, &c.b]
                .iter()
                .filter_map(|m| m.rsplit_once('/').map(|x| x.0.to_string()))
                .collect();
            state.log_access(by, "view", &format!("duplicate {}", c.id), records)?;
            CaseView { case: c, a, b }.into()
        }
        Request::SetAside {
            municipality,
            node_id,
            seq,
            hash,
            reason,
            operator,
        } => {
            let hash = match hash.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(h) => Some(Hash::from_hex(h).ok_or_else(|| {
                    ControlError::Invalid(format!(
                        "--hash {h:?} is not a hash: give the 64 hex digits the office's `civreg-node status` prints"
                    ))
                })?),
            };
            let d = state
                .store
                .set_aside(municipality, node_id, *seq, hash, reason, operator)?;
            tracing::warn!(municipality = %d.municipality, node = %d.node_id, seq = d.seq, operator = %d.operator, reason = %d.reason, "op set aside by an operator");
            state.log_access(
                operator,
                "set-aside",
                &format!("{municipality}/{node_id}#{seq}"),
                d.record_id.iter().cloned().collect(),
            )?;
            d.into()
        }
        Request::UndoSetAside {
            municipality,
            node_id,
            seq,
            reason,
            operator,
        } => {
            let d = state
                .store
                .undo_set_aside(municipality, node_id, *seq, reason)?;
            tracing::warn!(municipality = %d.municipality, node = %d.node_id, seq = d.seq, operator = %operator, reason = %reason, "set-aside undone by an operator");
            state.log_access(
                operator,
                "undo-set-aside",
                &format!("{municipality}/{node_id}#{seq}"),
                d.record_id.iter().cloned().collect(),
            )?;
            d.into()
        }
        Request::CertificatesIssued { regno, by } => {
            let all = crate::certificates::issued(&state.store, regno.as_deref())
                .map_err(|e| ControlError::Invalid(e.to_string()))?;
            let mut records: Vec<String> = all.iter().map(|c| c.regno.clone()).collect();
            records.dedup();
            state.log_access(by, "view", "certificates issued", records)?;
            all.into()
        }
        Request::UnvoidList { all, by } => {
            let list = crate::unvoid::list(&state.store, *all)?;
            let records: Vec<String> = list.iter().map(|r| r.regno.clone()).collect();
            state.log_access(by, "view", "un-void requests", records)?;
            list.into()
        }
        Request::UnvoidAnswer {
            id,
            grant,
            reason,
            operator,
        } => crate::unvoid::answer(
            &state.store,
            &state.data_dir,
            id,
            *grant,
            reason,
            operator,
            operator,
        )?
        .into(),
        Request::Refused => {
            let refused: Vec<Blocked> = state
                .store
                .heads()
                .into_iter()
                .filter_map(|(chain, _)| {
                    let (m, n) = chain.split_once('/')?;
                    let op = state.store.refused_op(m, n)?;
                    Some(Blocked {
                        municipality: m.to_string(),
                        node_id: n.to_string(),
                        op,
                    })
                })
                .collect();
            RefusedAnswer {
                refused,
                set_aside: state.store.all_set_aside()?,
            }
            .into()
        }
        Request::DuplicatesDecide {
            id,
            action,
            operator,
            reason,
        } => {
            let c = match action.as_str() {
                "link" => crate::linkage::duplicates::link(&state.store, id, operator, reason)?,
                "dismiss" => {
                    crate::linkage::duplicates::dismiss(&state.store, id, operator, reason)?
                }
                "unlink" => crate::linkage::duplicates::unlink(&state.store, id, operator, reason)?,
                other => return Err(ControlError::Action(other.to_string())),
            };
            c.into()
        }
        Request::DuplicatesClusters { municipality } => {
            crate::linkage::clusters::list(&state.store, municipality.as_deref())?.into()
        }
        Request::DuplicatesCluster { id, by } => {
            let decisions = crate::linkage::clusters::decisions(&state.store, id)?;
            let cluster = crate::linkage::clusters::get(&state.store, id)?;
            if cluster.too_large() {
                return Err(
                    crate::linkage::duplicates::DuplicateError::ClusterTooLarge {
                        id: cluster.id,
                        size: cluster.size,
                        max: crate::linkage::clusters::MAX_CLUSTER,
                    }
                    .into(),
                );
            }
            let mut records = Vec::with_capacity(cluster.size);
            for m in cluster.mentions() {
                let (regno, role) = m.rsplit_once('/').unwrap_or((m, ""));
                records.push(CaseSide {
                    view: record_view(state, regno)?,
                    role: role.to_string(),
                    mention: m.clone(),
                });
            }
            let mut regnos: Vec<String> = records.iter().map(|r| r.view.regno.clone()).collect();
            regnos.sort();
            regnos.dedup();
            state.log_access(by, "view", &format!("cluster {}", cluster.id), regnos)?;
            ClusterView {
                cluster,
                records,
                decisions,
            }
            .into()
        }
        Request::DuplicatesDecideCluster {
            id,
            version,
            groups,
            operator,
            reason,
        } => {
            let choice = match groups {
                None => crate::linkage::clusters::Choice::One,
                Some(g) => crate::linkage::clusters::Choice::Split(g.clone()),
            };
            crate::linkage::clusters::decide(
                &state.store,
                id,
                version.as_deref(),
                &choice,
                operator,
                reason,
            )?
            .into()
        }
        Request::Person { id, by } => {
            let pid = civreg_shared::ids::PersonId::parse(id)?;
            crate::linkage::persons::require_known(&state.store, &pid)?;
            let mentions = crate::linkage::persons::members(&state.store, &pid)?;
            let records = crate::linkage::persons::records_of_mentions(&mentions);
            state.log_access(by, "view", &format!("person {pid}"), records.clone())?;
            PersonView {
                person: pid.to_string(),
                mentions,
                records,
            }
            .into()
        }
        Request::CertificateSigner {
            cert_pem,
            key_pem,
            operator,
        } => {
            let info =
                crate::certificates::issue::install_signer(&state.store, cert_pem, &key_pem.0)
                    .map_err(|e| ControlError::Invalid(e.to_string()))?;
            crate::operators::log_action(
                &state.store,
                operator,
                "certificate-signer",
                true,
                json!({"identity": info.identity, "kid": info.kid}),
            )
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
            info.into()
        }
        Request::CertificateCancel {
            serial,
            reason,
            operator,
        } => {
            if operator.trim().is_empty() {
                return Err(ControlError::Invalid(
                    "say who cancels: --operator NAME or CIVREG_OPERATOR".into(),
                ));
            }
            let c = crate::certificates::cancel(&state.store, serial, reason, operator)
                .map_err(|e| ControlError::Invalid(e.to_string()))?;
            crate::operators::log_action(
                &state.store,
                operator,
                "certificate-cancel",
                true,
                json!({"serial": c.serial, "reason": c.reason}),
            )
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
            c.into()
        }
        Request::CertificatesCancelled => crate::certificates::cancelled(&state.store)
            .map_err(|e| ControlError::Invalid(e.to_string()))?
            .into(),
        Request::CertificateIssue { request } => {
            let issued =
                crate::certificates::issue::issue(&state.store, request, crate::access::now_ms())
                    .map_err(|e| ControlError::Invalid(e.to_string()))?;
            state.log_access(
                &format!("operator:{}", issued.issue.clerk),
                "certificate",
                &format!("certificate {} issued", issued.issue.serial),
                vec![issued.issue.regno.clone()],
            )?;
            crate::operators::log_action(
                &state.store,
                &issued.issue.clerk,
                "certificate-issue",
                true,
                json!({"serial": issued.issue.serial, "regno": issued.issue.regno}),
            )
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
            issued.into()
        }
        Request::Backup { out } => {
            let (path, manifest) = crate::backup::backup(&state.store, &state.data_dir, None, out)
                .map_err(|e| ControlError::Remote(e.to_string()))?;
            BackupMade { path, manifest }.into()
        }
        Request::RolloutList => crate::rollout::Rollout::read_in(&state.store)?.1.into(),
        Request::RolloutSet {
            municipality,
            stage,
            kinds,
            operator,
            reason,
        } => crate::rollout::Rollout::set_in(
            &state.store,
            municipality,
            *stage,
            kinds.clone(),
            operator,
            reason,
        )?
        .into(),
        Request::OperatorAdd { name, phc, replace } => {
            crate::operators::add_in(&state.store, name, phc, *replace)?;
            super::answer::OperatorChanged {
                ok: true,
                operator: name.clone(),
                removed: false,
            }
            .into()
        }
        Request::OperatorRemove { name } => {
            crate::operators::remove_in(&state.store, name)?;
            super::answer::OperatorChanged {
                ok: true,
                operator: name.clone(),
                removed: true,
            }
            .into()
        }
        Request::HubUrls => crate::hub_list::HubUrls {
            stored: crate::hub_list::stored(&state.store)?,
        }
        .into(),
        Request::HubUrlsSet { urls, operator } => {
            let answer = crate::hub_list::set_in(
                &state.store,
                urls,
                operator,
                civreg_runtime::clock::now_ms(),
            )?;
            // In the operators' trail beside every other change an operator makes.
            crate::operators::log_action(
                &state.store,
                operator,
                "hub-urls-set",
                true,
                serde_json::json!({ "urls": urls }),
            )?;
            answer.into()
        }
        Request::AuditLog {
            trail,
            since_ms,
            after,
            limit,
        } => crate::audit::read(&state.store, *trail, *since_ms, after.as_deref(), *limit)?.into(),
        Request::OperatorAction {
            operator,
            action,
            ok,
            details,
        } => {
            crate::operators::log_action(&state.store, operator, action, *ok, details.clone())?;
            super::answer::ActionKept { ok: true }.into()
        }
        Request::PersonRecords { id } => {
            let pid = civreg_shared::ids::PersonId::parse(id)?;
            crate::linkage::persons::require_known(&state.store, &pid)?;
            crate::linkage::persons::records_of(&state.store, &pid)?.into()
        }
        Request::Status => {
            let st = state.seen.status(&state.store);
            StatusAnswer {
                running: state.running,
                status: st,
                pki: None,
                backup: None,
                hub_urls: state.hub_urls.clone(),
                hub_urls_running: state.running,
            }
            .into()
        }
        Request::ConflictsList { municipality, all } => {
            crate::review::list(&state.store, municipality.as_deref(), *all)?.into()
        }
        Request::ConflictsShow { id } => {
            let c = crate::review::show(&state.store, id)?;
            let current = state
                .store
                .record(&c.conflict.record_id)?
                .map(|r| {
                    if c.conflict.path == civreg_shared::merge::STATUS {
                        json!(if r.voided.is_some() { "void" } else { "active" })
                    } else {
                        r.fields
                            .get(&c.conflict.path)
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                })
                .unwrap_or(Value::Null);
            ConflictView {
                conflict: c,
                current,
            }
            .into()
        }
        Request::ConflictsResolve {
            id,
            keep,
            value,
            reason,
            operator,
        } => {
            let decision = match (keep.as_deref(), value) {
                (Some("A" | "a"), None) => crate::review::Decision::KeepA,
                (Some("B" | "b"), None) => crate::review::Decision::KeepB,
                (None, Some(v)) => crate::review::Decision::Value(v.clone()),
                _ => return Err(ControlError::Decision),
            };
            let op = crate::review::resolve(&state.store, id, decision, reason, operator)?;
            Resolved {
                op: op.id,
                record: op.record_id,
            }
            .into()
        }
        Request::Digest { municipality } => {
            crate::review::digest(&state.store, municipality)?.into()
        }
        Request::MatchDedupe {
            municipality,
            threshold,
            report_only,
            retrain,
        } => {
            let ix = state.search_index()?;
            let r = crate::linkage::matching::dedupe(
                &state.store,
                ix.blinder(),
                municipality.as_deref(),
                *threshold,
                *retrain,
            )?;
            // The Matches (a cluster's too, whatever their own weight) and the pairs at or
            // above the model's Possible threshold go to the review queue (a pair filed before,
            // in any state, is not filed again); those the operator asked for below it are only
            // reported, and with `report_only` none is filed.
            let filed = crate::linkage::duplicates::file(
                &state.store,
                r.pairs
                    .iter()
                    .filter(|p| !*report_only && p.for_review(r.thresholds.possible))
                    .map(|p| crate::linkage::duplicates::Found {
                        a: p.a.clone(),
                        b: p.b.clone(),
                        weight: p.weight,
                        probability: p.probability,
                        class: p.class.clone(),
                        source: "dedupe".into(),
                    })
                    .collect(),
            )?;
            DedupeAnswer { report: r, filed }.into()
        }
        Request::MatchTrain { operator } => {
            let ix = state.search_index()?;
            let people =
                crate::linkage::matching::register_people(&state.store, ix.blinder(), None)?;
            if people.len() < 2 {
                return Err(crate::linkage::matching::MatchError::Empty(String::new()).into());
            }
            progress(format!("training on {} people", people.len()));
            let (_, info) =
                crate::linkage::models::train_and_save(&state.store, &people, operator)?;
            info.into()
        }
        Request::MatchModels => crate::linkage::models::list(&state.store)?.into(),
        Request::MatchLink { path, params } => {
            let ix = state.search_index()?;
            crate::linkage::matching::link_file(&state.store, ix.blinder(), path, params)?.into()
        }
        Request::Search { query, by } => {
            let ix = state.search_index()?;
            let results = ix.search(query)?;
            let redacted = crate::access::redact(&query.text, ix.blinder());
            state.log_access(
                by,
                "search",
                &redacted,
                results.hits.iter().map(|h| h.regno.clone()).collect(),
            )?;
            results.into()
        }
    })
}
