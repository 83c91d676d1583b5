//! The dashboard's handlers and pages.

use super::auth::{self, Operator};
use super::fmt::{url_seg, value};
use super::lang;
use super::model::{self, now_ms, MunicipalityView, NodeView};
use super::templates::{self, Frame};
use super::{blocking, Context, WebError, REFRESH_SECS};
use crate::review::{self, Decision};
use crate::rollout::{Rollout, Stage};
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::model::RecordKind;
use minijinja::context;
use minijinja::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

/// Logs an operator's action with tracing and appends it to the operator actions trail in the
/// store (shared by every hub, [`crate::audit`]). What a
/// browser typed (a name, a reason) is made fit for a log first: no personal number, bounded
/// (see [`crate::operators::log_safe`]).
pub(super) fn record_action(
    ctx: &Context,
    operator: &str,
    action: &str,
    ok: bool,
    details: serde_json::Value,
) {
    let (operator, details) = crate::operators::log_safe(operator, details);
    let operator = operator.as_str();
    if ok {
        tracing::info!(operator, action, details = %details, "operator action");
    } else {
        tracing::warn!(operator, action, details = %details, "operator action failed");
    }
    if let Err(e) = crate::operators::log_action(ctx.store(), operator, action, ok, details) {
        tracing::error!(error = %e, operator, action, "could not append to the operator actions log");
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

/// The sign-in page in `frame`, with a fresh form token in its cookie. `no_accounts`: no
/// operator exists yet (the page says how to make one).
fn login_page(
    frame: &Frame,
    status: StatusCode,
    message: Option<&str>,
    no_accounts: bool,
) -> Response {
    let token = match auth::random_token() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let html = templates::page_in(
        frame,
        "login.html",
        context! { token => token, message => message, no_accounts => no_accounts },
    );
    match html {
        Ok(html) => auth::with_cookie(
            (status, Html(html)).into_response(),
            auth::set_cookie(auth::LOGIN_COOKIE, &token, Some(3600)),
        ),
        Err(e) => e.into_response(),
    }
}

/// [`login_page`] for the current request, after looking (off the runtime) whether any
/// operator account exists.
async fn login_answer(ctx: &Context, status: StatusCode, message: Option<String>) -> Response {
    let c = ctx.clone();
    let none =
        blocking(move || Ok(crate::operators::names_in(c.store()).is_ok_and(|n| n.is_empty())))
            .await
            .unwrap_or(false);
    login_page(&Frame::of(None), status, message.as_deref(), none)
}

pub async fn login_form(State(ctx): State<Context>, headers: HeaderMap) -> Response {
    if auth::cookie(&headers, auth::SESSION_COOKIE)
        .is_some_and(|t| ctx.sessions().touch(&t).is_some())
    {
        return see_other("/");
    }
    login_answer(&ctx, StatusCode::OK, None).await
}

pub async fn login(
    State(ctx): State<Context>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let addr = Some(peer.ip());
    let expected = auth::cookie(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same(&f.csrf, &expected) {
        record_action(
            &ctx,
            &f.name,
            "login",
            false,
            serde_json::json!({"why": "csrf"}),
        );
        return login_answer(
            &ctx,
            StatusCode::FORBIDDEN,
            Some(lang::text("dash-signin-expired")),
        )
        .await;
    }
    let name = f.name.trim().to_string();
    // Too many wrong passwords for this account or from this address: refused unchecked, the
    // right password included, until the delay has passed.
    if let Err(r) = ctx.throttle().check(&name, addr) {
        record_action(
            &ctx,
            &name,
            "login",
            false,
            serde_json::json!({"why": "throttled", "retry_after_s": r.retry_after.as_secs()}),
        );
        return super::guard::too_many(&r);
    }
    // At most a few argon2 checks at once, each ~19 MiB: a burst of sign-ins waits its turn.
    let permit = match tokio::time::timeout(super::guard::CHECK_WAIT, ctx.checks().acquire()).await
    {
        Ok(Ok(p)) => p,
        _ => return WebError::Busy(lang::text("dash-signin-busy")).into_response(),
    };
    let c = ctx.clone();
    let n = name.clone();
    let verified =
        blocking(move || Ok(crate::operators::verify_in(c.store(), &n, &f.password))).await;
    drop(permit);
    match &verified {
        Ok(Ok(())) => ctx.throttle().succeeded(&name, addr),
        Ok(Err(crate::operators::OperatorError::BadCredentials)) => {
            ctx.throttle().failed(&name, addr)
        }
        _ => {}
    }
    match verified {
        Ok(Ok(())) => {
            let token = match ctx.sessions().create(&name) {
                Ok(t) => t,
                Err(e) => return WebError::Internal(e.to_string()).into_response(),
            };
            record_action(&ctx, &name, "login", true, serde_json::json!({}));
            let res = see_other("/");
            let res = auth::with_cookie(res, auth::set_cookie(auth::SESSION_COOKIE, &token, None));
            auth::with_cookie(res, auth::set_cookie(auth::LOGIN_COOKIE, "", Some(0)))
        }
        Ok(Err(e)) => {
            record_action(
                &ctx,
                &name,
                "login",
                false,
                serde_json::json!({"why": e.to_string()}),
            );
            let msg = match e {
                crate::operators::OperatorError::BadCredentials => lang::text("dash-signin-wrong"),
                other => lang::format(
                    "dash-signin-impossible",
                    &[("detail", other.to_string().into())],
                ),
            };
            login_answer(&ctx, StatusCode::UNAUTHORIZED, Some(msg)).await
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(State(ctx): State<Context>, op: Operator, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = op.check_csrf(&f.csrf) {
        return e.into_response();
    }
    ctx.sessions().end(op.token());
    record_action(&ctx, &op.name, "logout", true, serde_json::json!({}));
    auth::with_cookie(
        see_other("/login"),
        auth::set_cookie(auth::SESSION_COOKIE, "", Some(0)),
    )
}

// ------------------------------------------------------------------------------------------
// Overview
// ------------------------------------------------------------------------------------------

/// A node on the overview.
#[derive(Debug, Serialize)]
struct BadgeView {
    node: String,
    municipality: String,
    node_id: String,
    state: &'static str,
    /// Seconds since its last heartbeat.
    seen_s: Option<u64>,
    acked: u64,
    /// Whether its heartbeat counted its queue (then `lag_s` holds).
    counted: bool,
    lag_s: u64,
}

#[derive(Debug, Serialize)]
struct CertView {
    date: String,
    days: i64,
    node: String,
}

#[derive(Debug, Serialize)]
struct RefusalView {
    why: String,
    node: String,
    ago_s: u64,
}

#[derive(Debug, Serialize)]
struct ClockView {
    node: String,
    warning: String,
}

/// A municipality's row on the overview.
#[derive(Debug, Serialize)]
struct RowView {
    code: String,
    name: String,
    class: &'static str,
    stage: &'static str,
    stage_by: Option<String>,
    nodes: Vec<BadgeView>,
    waiting: u64,
    oldest_s: u64,
    counted: bool,
    conflicts: usize,
    duplicates: u64,
    cert: Option<CertView>,
    refusal: Option<RefusalView>,
    clocks: Vec<ClockView>,
    trouble: Vec<String>,
}

fn badge(n: &NodeView, now: u64) -> BadgeView {
    BadgeView {
        node: n.node.clone(),
        municipality: n.node.split('/').next().unwrap_or_default().to_string(),
        node_id: n.node_id.clone(),
        state: n.state(),
        seen_s: n.chain.last_seen_ms.map(|t| now.saturating_sub(t) / 1000),
        acked: n.chain.acked_seq,
        counted: n.chain.unacked_ops.is_some(),
        lag_s: n.lag_s(),
    }
}

fn row_view(r: &MunicipalityView, now: u64) -> RowView {
    let today = time::OffsetDateTime::now_utc();
    RowView {
        code: r.code.clone(),
        name: r.name.clone(),
        class: r.severity.class(),
        stage: r.stage.as_str(),
        stage_by: r.stage_by.clone(),
        nodes: r.nodes.iter().map(|n| badge(n, now)).collect(),
        waiting: r.waiting(),
        oldest_s: r.oldest_waiting_s(),
        counted: r.nodes.iter().any(|n| n.chain.unacked_ops.is_some()),
        conflicts: r.open_conflicts,
        duplicates: r.open_duplicates,
        cert: r.cert_expiry.as_ref().map(|(t, node)| CertView {
            date: crate::pki::format_utc(*t).chars().take(10).collect(),
            days: (*t - today).whole_days(),
            node: node.clone(),
        }),
        refusal: r.last_refusal().map(|(at, node, why)| RefusalView {
            why: why.to_string(),
            node: node.to_string(),
            ago_s: now.saturating_sub(at) / 1000,
        }),
        clocks: r
            .nodes
            .iter()
            .filter_map(|n| {
                Some(ClockView {
                    node: n.node.clone(),
                    warning: n.chain.clock_warning.clone()?,
                })
            })
            .collect(),
        trouble: r.trouble.iter().map(|t| t.1.clone()).collect(),
    }
}

pub async fn overview(State(ctx): State<Context>, op: Operator) -> Result<Html<String>, WebError> {
    let online_within = ctx.settings().online_within.as_secs();
    let lang = lang::current();
    let (rows, certs, hub, hub_urls) = blocking(move || {
        let certs = model::expiring_certs(&ctx, time::OffsetDateTime::now_utc())?;
        // The list the offices are sent: stored with `hub-urls set`, else the config's.
        let hub_urls = crate::hub_list::in_use(ctx.store(), &ctx.settings().hub_urls);
        Ok((
            model::overview(&ctx, lang)?,
            certs,
            model::hub_state(&ctx)?,
            hub_urls,
        ))
    })
    .await?;
    let now = now_ms();
    let count = |s: model::Severity| rows.iter().filter(|r| r.severity == s).count();
    let (items, tiles) = super::now::context(&rows, &certs, &hub, now, lang);
    templates::page_in(
        &Frame::of(Some(&op)).refresh(REFRESH_SECS),
        "overview.html",
        context! {
            items => items,
            tiles => tiles,
            rule_window => super::fmt::ago(lang, online_within),
            updated => super::fmt::utc_ms(now),
            bad => count(model::Severity::Bad),
            warn => count(model::Severity::Warn),
            rows => Value::from_serialize(rows.iter().map(|r| row_view(r, now)).collect::<Vec<_>>()),
            hub_urls => hub_urls,
        },
    )
    .map(Html)
}

// ------------------------------------------------------------------------------------------
// A node
// ------------------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct NodeCertView {
    expiry: String,
    serial: String,
}

#[derive(Debug, Serialize)]
struct NodeRefusalView {
    why: String,
    at_ms: u64,
    ago_s: u64,
}

#[derive(Debug, Serialize)]
struct NodeErrorView {
    text: String,
    at_ms: u64,
}

#[derive(Debug, Serialize)]
struct BlockedView {
    seq: u64,
    record_id: String,
    why: String,
    hash: String,
}

#[derive(Debug, Serialize)]
struct AsideView {
    seq: u64,
    record_id: Option<String>,
    operator: String,
    at_ms: u64,
    reason: String,
}

/// A node's page.
#[derive(Debug, Serialize)]
struct NodePageView {
    node: String,
    municipality: String,
    node_id: String,
    state: &'static str,
    last_seen_ms: Option<u64>,
    last_seen_ago_s: u64,
    version: Option<String>,
    acked: u64,
    waiting: Option<u64>,
    lag_s: u64,
    clock_offset_ms: Option<i64>,
    clock_warning: Option<String>,
    free_disk: Option<u64>,
    cert: Option<NodeCertView>,
    revoked: bool,
    sync_interval_s: Option<u64>,
    window_s: u64,
    history_every_s: u64,
    samples: usize,
    halted: Option<String>,
    refusal: Option<NodeRefusalView>,
    errors: Vec<NodeErrorView>,
    blocked: Option<BlockedView>,
    aside: Vec<AsideView>,
}

pub async fn node(
    State(ctx): State<Context>,
    op: Operator,
    Path((m, n)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    let key = format!("{m}/{n}");
    let c = ctx.clone();
    let k = key.clone();
    let unknown = lang::format("dash-err-no-node", &[("node", (&key).into())]);
    let (view, blocked, aside) = blocking(move || {
        let view = model::nodes(&c)?
            .into_iter()
            .find(|v| v.node == k)
            .ok_or(WebError::NotFound(unknown))?;
        // An op refused for good blocks the node's queue until an operator sets it aside.
        let (blocked, aside) = match k.split_once('/') {
            Some((m, n)) => (c.store().refused_op(m, n), c.store().set_aside_of(m, n)?),
            None => (None, Vec::new()),
        };
        Ok((view, blocked, aside))
    })
    .await?;
    let now = now_ms();
    let ch = &view.chain;
    let samples = ctx.history().samples(&key);
    let chart = super::history::chart(&super::history::hourly(&samples, now));
    let page = NodePageView {
        node: key.clone(),
        municipality: m,
        node_id: n,
        state: view.state(),
        last_seen_ms: ch.last_seen_ms,
        last_seen_ago_s: ch
            .last_seen_ms
            .map(|t| now.saturating_sub(t) / 1000)
            .unwrap_or(0),
        version: ch.version.clone(),
        acked: ch.acked_seq,
        waiting: ch.unacked_ops,
        lag_s: view.lag_s(),
        clock_offset_ms: ch.clock_offset_ms,
        clock_warning: ch.clock_warning.clone(),
        free_disk: ch.free_disk_bytes,
        cert: match (&view.cert_expiry, &view.cert_serial) {
            (Some(t), Some(serial)) => Some(NodeCertView {
                expiry: crate::pki::format_utc(*t),
                serial: serial.clone(),
            }),
            _ => None,
        },
        revoked: view.cert_state == model::CertState::Revoked,
        sync_interval_s: ch.sync_interval_ms.map(|i| i.div_ceil(1000)),
        window_s: view.window_ms / 1000,
        history_every_s: ctx.settings().history_every.as_secs(),
        samples: samples.len(),
        halted: ch.halted.clone(),
        refusal: match (ch.last_refusal_ms, &ch.last_refusal) {
            (Some(at), Some(why)) => Some(NodeRefusalView {
                why: why.clone(),
                at_ms: at,
                ago_s: now.saturating_sub(at) / 1000,
            }),
            _ => None,
        },
        errors: ctx
            .metrics()
            .node_errors(&key)
            .into_iter()
            .map(|e| NodeErrorView {
                text: e.text,
                at_ms: e.at_ms,
            })
            .collect(),
        blocked: blocked.map(|r| BlockedView {
            seq: r.seq,
            record_id: r.record_id,
            why: r.why,
            hash: r.hash.to_string(),
        }),
        aside: aside
            .into_iter()
            .map(|a| AsideView {
                seq: a.seq,
                record_id: a.record_id,
                operator: a.operator,
                at_ms: a.at_ms,
                reason: a.reason,
            })
            .collect(),
    };
    templates::page_in(
        &Frame::of(Some(&op)).refresh(REFRESH_SECS),
        "node.html",
        context! {
            v => Value::from_serialize(&page),
            chart => Value::from_serialize(&chart),
        },
    )
    .map(Html)
}

// ------------------------------------------------------------------------------------------
// Conflicts
// ------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConflictsQuery {
    municipality: Option<String>,
    all: Option<String>,
}

/// A conflict in the list.
#[derive(Debug, Serialize)]
struct ConflictRow {
    id: String,
    municipality: String,
    record_id: String,
    path: String,
    a: String,
    b: String,
    resolved_by: Option<String>,
}

pub async fn conflicts(
    State(ctx): State<Context>,
    op: Operator,
    Query(q): Query<ConflictsQuery>,
) -> Result<Html<String>, WebError> {
    let m = q.municipality.clone().filter(|m| !m.is_empty());
    let all = q.all.is_some();
    let mm = m.clone();
    let list = blocking(move || Ok(review::list(ctx.store(), mm.as_deref(), all)?)).await?;
    let rows: Vec<ConflictRow> = list
        .iter()
        .map(|c| {
            let k = &c.conflict;
            ConflictRow {
                id: k.id.clone(),
                municipality: c.municipality.clone(),
                record_id: k.record_id.clone(),
                path: k.path.clone(),
                a: value(&k.winner.value),
                b: value(&k.loser.value),
                resolved_by: k.resolution.as_ref().map(|r| r.clerk.clone()),
            }
        })
        .collect();
    templates::page(
        Some(&op),
        "conflicts.html",
        context! { all => all, municipality => m, list => Value::from_serialize(&rows) },
    )
}

/// One side of a conflict.
#[derive(Debug, Serialize)]
struct SideView {
    label: &'static str,
    value: String,
    clerk: String,
    node: String,
    op: String,
    at_ms: u64,
    change: String,
    reason: String,
}

fn side(label: &'static str, s: &civreg_shared::merge::Side) -> SideView {
    SideView {
        label,
        value: value(&s.value),
        clerk: s.clerk.clone(),
        node: format!("{}/{}", s.op.municipality, s.op.node_id),
        op: s.op.to_string(),
        at_ms: s.at.wall_ms,
        change: serde_json::to_value(s.change)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        reason: s.reason.clone(),
    }
}

pub async fn conflict(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let filed = blocking(move || Ok(review::show(ctx.store(), &id)?)).await?;
    let c = &filed.conflict;
    let view = serde_json::json!({
        "id": c.id,
        "record_id": c.record_id,
        "municipality": filed.municipality,
        "path": c.path,
        "on_status": c.path == civreg_shared::merge::STATUS,
        "sides": [side("a", &c.winner), side("b", &c.loser)],
        "resolution": c.resolution.as_ref().map(|r| serde_json::json!({
            "clerk": r.clerk,
            "op": r.op.to_string(),
            "at_ms": r.at.wall_ms,
            "value": value(&r.value),
            "reason": r.reason,
        })),
    });
    templates::page(
        Some(&op),
        "conflict.html",
        context! { c => Value::from_serialize(&view) },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolveForm {
    csrf: String,
    keep: String,
    value: String,
    reason: String,
}

pub async fn resolve(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
    Form(f): Form<ResolveForm>,
) -> Result<Response, WebError> {
    op.check_csrf(&f.csrf)?;
    let c = ctx.clone();
    let operator = op.name.clone();
    let cid = id.clone();
    let keep = f.keep.clone();
    let reason = f.reason.clone();
    let choose = lang::text("dash-err-choose-side");
    let result = blocking(move || {
        let filed = review::show(c.store(), &cid)?;
        let decision = match keep.as_str() {
            "A" => Decision::KeepA,
            "B" => Decision::KeepB,
            "value" => {
                // Typed like the sides: text stays text; otherwise the value is read as JSON.
                let texts = filed.conflict.winner.value.is_string()
                    && filed.conflict.loser.value.is_string();
                Decision::Value(if texts {
                    serde_json::Value::String(f.value.clone())
                } else {
                    serde_json::from_str(&f.value)
                        .unwrap_or_else(|_| serde_json::Value::String(f.value.clone()))
                })
            }
            _ => return Err(WebError::BadRequest(choose)),
        };
        Ok(review::resolve(
            c.store(),
            &cid,
            decision,
            &reason,
            &operator,
        )?)
    })
    .await;
    match result {
        Ok(decision_op) => {
            record_action(
                &ctx,
                &op.name,
                "resolve",
                true,
                serde_json::json!({"conflict": id, "keep": f.keep, "reason": f.reason, "op": decision_op.id.to_string()}),
            );
            Ok(see_other(&format!("/conflicts/{}", url_seg(&id))))
        }
        Err(e) => {
            record_action(
                &ctx,
                &op.name,
                "resolve",
                false,
                serde_json::json!({"conflict": id, "keep": f.keep, "error": e.to_string()}),
            );
            Err(e)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Rollout
// ------------------------------------------------------------------------------------------

const STAGES: [Stage; 4] = [Stage::Planned, Stage::Pilot, Stage::Live, Stage::Suspended];
const KINDS: [RecordKind; 3] = [RecordKind::Birth, RecordKind::Marriage, RecordKind::Death];

/// A municipality on the rollout page.
#[derive(Debug, Serialize)]
struct RolloutRow {
    code: &'static str,
    name: &'static str,
    stage: &'static str,
    kinds: Vec<&'static str>,
    changed: Option<serde_json::Value>,
}

pub async fn rollout(State(ctx): State<Context>, op: Operator) -> Result<Html<String>, WebError> {
    let r = blocking(move || Ok(Rollout::read_in(ctx.store())?.1)).await?;
    let lang = lang::current();
    let rows: Vec<RolloutRow> = civreg_shared::gazetteer::all()
        .iter()
        .filter_map(|m| {
            let e = r.entry(m.code)?;
            Some(RolloutRow {
                code: m.code,
                name: super::fmt::municipality_name(lang, m),
                stage: e.stage.as_str(),
                kinds: e.kinds.iter().map(|k| k.as_str()).collect(),
                changed: match (&e.changed_by, e.changed_at_ms) {
                    (Some(by), Some(at)) => Some(serde_json::json!({
                        "by": by, "at_ms": at, "reason": e.reason,
                    })),
                    _ => None,
                },
            })
        })
        .collect();
    templates::page(
        Some(&op),
        "rollout.html",
        context! {
            rows => Value::from_serialize(&rows),
            stages => STAGES.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            kinds => KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StageForm {
    csrf: String,
    stage: String,
    kind_birth: Option<String>,
    kind_marriage: Option<String>,
    kind_death: Option<String>,
    reason: String,
}

pub async fn set_stage(
    State(ctx): State<Context>,
    op: Operator,
    Path(code): Path<String>,
    Form(f): Form<StageForm>,
) -> Result<Response, WebError> {
    op.check_csrf(&f.csrf)?;
    let stage = STAGES
        .into_iter()
        .find(|s| s.as_str() == f.stage)
        .ok_or_else(|| {
            WebError::BadRequest(lang::format(
                "dash-err-unknown-stage",
                &[("stage", f.stage.chars().take(40).collect::<String>().into())],
            ))
        })?;
    if f.reason.trim().is_empty() {
        return Err(WebError::BadRequest(lang::text("dash-err-stage-reason")));
    }
    let kinds: Vec<RecordKind> = [
        (RecordKind::Birth, &f.kind_birth),
        (RecordKind::Marriage, &f.kind_marriage),
        (RecordKind::Death, &f.kind_death),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(k, _)| k)
    .collect();
    let c = ctx.clone();
    let operator = op.name.clone();
    let (m, reason, ks) = (code.clone(), f.reason.clone(), kinds.clone());
    let result = blocking(move || {
        Ok(Rollout::set_in(
            c.store(),
            &m,
            stage,
            Some(ks),
            &operator,
            &reason,
        )?)
    })
    .await;
    let details = serde_json::json!({"municipality": code, "stage": stage, "kinds": kinds, "reason": f.reason});
    match result {
        Ok(_) => {
            record_action(&ctx, &op.name, "rollout", true, details);
            Ok(see_other(&format!("/rollout#r-{}", url_seg(&code))))
        }
        Err(e) => {
            let mut d = details;
            d["error"] = e.to_string().into();
            record_action(&ctx, &op.name, "rollout", false, d);
            Err(e)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Metrics
// ------------------------------------------------------------------------------------------

pub async fn metrics(State(ctx): State<Context>) -> Result<Response, WebError> {
    let text = blocking(move || {
        let nodes = model::nodes(&ctx)?;
        let conflicts = model::open_conflicts(&ctx)?;
        let duplicates = super::open_duplicates(&ctx)?;
        let mut snap = crate::metrics::Snapshot {
            nodes_online: nodes.iter().filter(|n| n.online).count() as u64,
            ..Default::default()
        };
        let mut lw: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for n in nodes.iter().filter(|n| n.chain.unacked_ops.is_some()) {
            let m = n.node.split('/').next().unwrap_or_default().to_string();
            let e = lw.entry(m).or_default();
            e.0 = e.0.max(n.lag_s());
            e.1 += n.chain.unacked_ops.unwrap_or(0);
        }
        snap.lag_and_waiting = lw;
        snap.last_seen = nodes
            .iter()
            .filter_map(|n| Some((n.node.clone(), n.chain.last_seen_ms? / 1000)))
            .collect();
        for m in civreg_shared::gazetteer::all() {
            snap.open_conflicts.insert(
                m.code.to_string(),
                conflicts.get(m.code).copied().unwrap_or(0) as u64,
            );
            snap.open_duplicates.insert(
                m.code.to_string(),
                duplicates.get(m.code).copied().unwrap_or(0),
            );
        }
        snap.certificates = model::expiring_certs(&ctx, time::OffsetDateTime::now_utc())?
            .iter()
            .map(|e| {
                // `/metrics` needs no sign-in: an operator's account name and the hub's host
                // names are not given there, only the certificate's serial (its first 16 hex
                // digits; `civreg-hub pki list` names it).
                let (kind, subject) = model::cert_subject(e);
                let subject = match e.kind {
                    crate::pki::CertKind::Operator | crate::pki::CertKind::Hub => {
                        format!("serial:{}", e.serial.get(..16).unwrap_or(&e.serial))
                    }
                    _ => subject,
                };
                (kind, subject, e.not_after.unix_timestamp())
            })
            .collect();
        snap.replication = ctx
            .store()
            .replication()
            .map(|r| r.map_err(|e| e.to_string()));
        if let Some(Err(e)) = &snap.replication {
            tracing::warn!(error = %e, "/metrics: the PostgreSQL primary's replication could not be read");
        }
        Ok(ctx.metrics().render(&snap))
    })
    .await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ChainStatus;
    use crate::web::model::{CertState, Severity};
    use crate::web::templates::tests::{assert_clean, render_as_hostile};
    use civreg_shared::i18n::Lang;

    const EVIL: &str = "<script>alert(1)</script>";

    /// A node in every state the overview knows, each named with markup.
    fn nodes(now: u64) -> Vec<NodeView> {
        let base = |i: usize, cert_state: CertState| NodeView {
            node: format!("prishtine/{EVIL}{i}"),
            node_id: format!("{EVIL}{i}"),
            chain: ChainStatus {
                node: format!("prishtine/{EVIL}{i}"),
                acked_seq: 7,
                last_seen_ms: Some(now - 600_000),
                unacked_ops: Some(3),
                oldest_unacked_age_s: Some(900),
                clock_offset_ms: Some(-90_000),
                clock_warning: Some(EVIL.into()),
                last_refusal: Some(EVIL.into()),
                last_refusal_ms: Some(now - 5_000),
                halted: (i == 2).then(|| format!("forked {EVIL}")),
                sync_interval_ms: Some(30_000),
                version: Some(EVIL.into()),
                free_disk_bytes: Some(5 << 30),
                ..Default::default()
            },
            online: i == 3,
            refused_now: true,
            cert_expiry: Some(time::OffsetDateTime::now_utc() + time::Duration::days(3)),
            cert_serial: Some(EVIL.into()),
            blocked: Some(crate::store::RefusedOp {
                seq: 4,
                hash: civreg_shared::op::Hash::default(),
                record_id: EVIL.into(),
                why: EVIL.into(),
                at_ms: now,
            }),
            cert_state,
            window_ms: 65_000,
        };
        let mut never = base(5, CertState::None);
        never.chain.last_seen_ms = None;
        never.online = false;
        vec![
            base(0, CertState::Revoked),
            base(1, CertState::Expired),
            base(2, CertState::Valid),
            base(3, CertState::Valid),
            base(4, CertState::Valid),
            never,
        ]
    }

    /// Certificates of every kind, expiring soon or expired, named with markup.
    fn certs() -> Vec<crate::pki::IssuedEntry> {
        use crate::pki::{CertKind, CertStatus, IssuedEntry};
        let now = time::OffsetDateTime::now_utc();
        [
            (CertKind::Node, format!("civreg://node/prishtine/{EVIL}"), 3),
            (CertKind::Operator, format!("civreg://operator/{EVIL}"), 9),
            (CertKind::App, format!("civreg://app/{EVIL}/1"), 20),
            (CertKind::Hub, format!("hub:{EVIL}"), 12),
            (
                CertKind::Operator,
                format!("civreg://operator/old{EVIL}"),
                -2,
            ),
        ]
        .into_iter()
        .map(|(kind, identity, days)| IssuedEntry {
            serial: "00".into(),
            identity,
            kind,
            not_before: now - time::Duration::days(300),
            not_after: now + time::Duration::days(days),
            status: CertStatus::Active,
            revoked_at: None,
        })
        .collect()
    }

    /// A rollover at each of its three steps (offices on the old CA; the hub's certificate
    /// left; ready to finish), the last with a staged hub certificate.
    fn hub_states() -> Vec<super::super::now::HubState> {
        use crate::pki::rollover::{OfficeState, RolloverStatus};
        let status = |on_new: bool, hub_on_new_ca: bool| RolloverStatus {
            started_at: EVIL.into(),
            new_root_sha256: EVIL.into(),
            hub_on_new_ca,
            hub_staged: None,
            offices: (0..12)
                .map(|i| OfficeState {
                    office: format!("{EVIL}/{i}"),
                    on_new_ca: on_new,
                    trusts_new_root: on_new,
                })
                .collect(),
            operators_on_old_ca: vec![EVIL.into()],
        };
        vec![
            super::super::now::HubState {
                rollover: Some(status(false, false)),
                staged_until_ms: None,
                backup: Some(crate::backup::LastBackup {
                    ok_ms: Some(1),
                    ok_dir: Some(EVIL.into()),
                    failed_ms: Some(2),
                    error: Some(EVIL.into()),
                }),
            },
            super::super::now::HubState {
                rollover: Some(status(true, false)),
                staged_until_ms: None,
                backup: Some(crate::backup::LastBackup {
                    ok_ms: Some(3),
                    failed_ms: Some(2),
                    ..Default::default()
                }),
            },
            super::super::now::HubState {
                rollover: Some(status(true, true)),
                staged_until_ms: Some(now_ms() + 86_400_000),
                backup: None,
            },
        ]
    }

    #[test]
    fn the_first_screen_names_the_step_a_rollover_waits_for_and_a_staged_hub_certificate() {
        let now = now_ms();
        for lang in Lang::ALL {
            let kinds: Vec<Vec<&str>> = hub_states()
                .iter()
                .map(|h| {
                    super::super::now::items(&[], &[], h, now, lang)
                        .into_iter()
                        .map(|i| i.kind)
                        .collect()
                })
                .collect();
            assert_eq!(
                kinds,
                vec![
                    vec!["hub-backup-failed", "rollover"],
                    vec!["rollover-hub"],
                    vec!["rollover-finish", "hub-staged"]
                ],
                "{lang}"
            );
            let first = super::super::now::items(&[], &[], &hub_states()[0], now, lang);
            // Twelve offices on the old CA: eight named, the rest counted.
            assert!(first[1].detail.contains("(+4)"), "{}", first[1].detail);
            assert!(first[1].what.contains("12"), "{}", first[1].what);
        }
        assert!(super::super::now::items(&[], &[], &Default::default(), now, Lang::En).is_empty());
    }

    #[test]
    fn a_failed_or_overdue_office_backup_needs_the_operator() {
        let now = now_ms();
        let mut ns = nodes(now);
        let mut failed = ns.remove(3);
        failed.chain.backup_error = Some("the USB drive is full".into());
        failed.chain.backup_at_ms = Some(now - 3_600_000);
        let mut overdue = ns.remove(3);
        overdue.chain.backup_at_ms = Some(now - (model::BACKUP_OVERDUE_HOURS + 1) * 3_600_000);
        let mut recent = ns.remove(3);
        recent.chain.backup_at_ms = Some(now - 3_600_000);
        let (failed_node, overdue_node) = (failed.node.clone(), overdue.node.clone());
        let row = MunicipalityView {
            code: "istog".into(),
            name: "Istog".into(),
            stage: Stage::Live,
            stage_by: None,
            nodes: vec![failed, overdue, recent],
            open_conflicts: 0,
            open_duplicates: 0,
            open_unvoid: 0,
            cert_expiry: None,
            trouble: Vec::new(),
            severity: Severity::Ok,
        };
        let items = super::super::now::items(&[row], &[], &Default::default(), now, Lang::En);
        let of = |kind: &str| -> Vec<String> {
            items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.node.clone())
                .collect()
        };
        assert_eq!(of("backup-failed"), vec![failed_node]);
        assert_eq!(of("backup-overdue"), vec![overdue_node]);
        let failed_item = items
            .iter()
            .find(|i| i.kind == "backup-failed")
            .expect("item");
        assert_eq!(failed_item.detail, "the USB drive is full");
        assert_eq!(failed_item.severity, "bad");
    }

    fn rows(lang: Lang, now: u64) -> Vec<MunicipalityView> {
        [Stage::Planned, Stage::Pilot, Stage::Live, Stage::Suspended]
            .into_iter()
            .enumerate()
            .map(|(i, stage)| {
                let mut r = MunicipalityView {
                    code: format!("{EVIL}{i}"),
                    name: EVIL.into(),
                    stage,
                    stage_by: Some(EVIL.into()),
                    nodes: if i == 0 { Vec::new() } else { nodes(now) },
                    open_conflicts: 2,
                    open_duplicates: 1,
                    open_unvoid: 3,
                    cert_expiry: Some((
                        time::OffsetDateTime::now_utc() - time::Duration::days(i as i64 - 1),
                        EVIL.into(),
                    )),
                    trouble: vec![(Severity::Bad, EVIL.into())],
                    severity: [Severity::Idle, Severity::Ok, Severity::Warn, Severity::Bad][i],
                };
                // The trouble, in words, as `model::overview` says it.
                let mut words = super::super::now::items(
                    std::slice::from_ref(&r),
                    &[],
                    &Default::default(),
                    now,
                    lang,
                );
                r.trouble
                    .extend(words.drain(..).map(|i| (Severity::Warn, i.what)));
                r
            })
            .collect()
    }

    #[test]
    fn the_overview_escapes_and_speaks_every_language() {
        let now = now_ms();
        for lang in Lang::ALL {
            let rows = rows(lang, now);
            let (items, tiles) =
                super::super::now::context(&rows, &certs(), &hub_states()[0], now, lang);
            let page = render_as_hostile(
                lang,
                "overview.html",
                context! {
                    items => items, tiles => tiles, rule_window => "1 min", updated => "now",
                    bad => 1, warn => 1,
                    rows => Value::from_serialize(rows.iter().map(|r| row_view(r, now)).collect::<Vec<_>>()),
                },
            );
            assert_clean(&page, &format!("overview in {lang}"));
            assert!(
                page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{page}"
            );
            for state in ["revoked", "expired", "forked", "online", "offline", "never"] {
                assert!(
                    page.contains(&format!("data-state=\"{state}\"")),
                    "{state} in {lang}"
                );
            }
            for kind in [
                "revoked",
                "expired",
                "forked",
                "refused",
                "blocked",
                "queue",
                "certificate",
                "certificate-expired",
                "conflicts",
                "duplicates",
                "unvoid",
                "rollover",
                "hub-backup-failed",
            ] {
                assert!(
                    page.contains(&format!("data-kind=\"{kind}\"")),
                    "{kind} in {lang}"
                );
            }
        }
        // The words are the language's own.
        let en = render_as_hostile(
            Lang::En,
            "overview.html",
            context! { rows => Vec::<Value>::new(), items => Vec::<Value>::new(), tiles => Vec::<Value>::new() },
        );
        let sq = render_as_hostile(
            Lang::Sq,
            "overview.html",
            context! { rows => Vec::<Value>::new(), items => Vec::<Value>::new(), tiles => Vec::<Value>::new() },
        );
        assert!(
            en.contains("Needs you now") && !sq.contains("Needs you now"),
            "{sq}"
        );
    }

    #[test]
    fn a_node_page_escapes_and_speaks_every_language() {
        let now = now_ms();
        for lang in Lang::ALL {
            for (i, n) in nodes(now).iter().enumerate() {
                let page = NodePageView {
                    node: n.node.clone(),
                    municipality: EVIL.into(),
                    node_id: n.node_id.clone(),
                    state: n.state(),
                    last_seen_ms: n.chain.last_seen_ms,
                    last_seen_ago_s: 600,
                    version: n.chain.version.clone(),
                    acked: 7,
                    waiting: n.chain.unacked_ops,
                    lag_s: n.lag_s(),
                    clock_offset_ms: n.chain.clock_offset_ms,
                    clock_warning: n.chain.clock_warning.clone(),
                    free_disk: n.chain.free_disk_bytes,
                    cert: (i % 2 == 0).then(|| NodeCertView {
                        expiry: EVIL.into(),
                        serial: EVIL.into(),
                    }),
                    revoked: n.cert_state == CertState::Revoked,
                    sync_interval_s: (i % 2 == 1).then_some(30),
                    window_s: 65,
                    history_every_s: 60,
                    samples: 3,
                    halted: n.chain.halted.clone(),
                    refusal: Some(NodeRefusalView {
                        why: EVIL.into(),
                        at_ms: now,
                        ago_s: 5,
                    }),
                    errors: vec![NodeErrorView {
                        text: EVIL.into(),
                        at_ms: now,
                    }],
                    blocked: Some(BlockedView {
                        seq: 4,
                        record_id: EVIL.into(),
                        why: EVIL.into(),
                        hash: EVIL.into(),
                    }),
                    aside: vec![AsideView {
                        seq: 2,
                        record_id: Some(EVIL.into()),
                        operator: EVIL.into(),
                        at_ms: now,
                        reason: EVIL.into(),
                    }],
                };
                let samples = [crate::web::history::Sample {
                    at_ms: now - 1000,
                    acked_seq: 3,
                    waiting: 1,
                    lag_s: 4,
                }];
                let chart = crate::web::history::chart(&crate::web::history::hourly(&samples, now));
                let html = render_as_hostile(
                    lang,
                    "node.html",
                    context! { v => Value::from_serialize(&page), chart => Value::from_serialize(&chart) },
                );
                assert_clean(&html, &format!("node page {i} in {lang}"));
                assert!(html.contains("<svg id=\"history\""), "{html}");
            }
        }
    }

    #[test]
    fn conflict_and_rollout_pages_escape_and_speak_every_language() {
        let side = |label: &'static str| SideView {
            label,
            value: EVIL.into(),
            clerk: EVIL.into(),
            node: EVIL.into(),
            op: EVIL.into(),
            at_ms: 0,
            change: EVIL.into(),
            reason: EVIL.into(),
        };
        for lang in Lang::ALL {
            for (on_status, resolution) in [
                (false, None),
                (true, None),
                (
                    false,
                    Some(
                        serde_json::json!({"clerk": EVIL, "op": EVIL, "at_ms": 0, "value": EVIL, "reason": EVIL}),
                    ),
                ),
            ] {
                let c = serde_json::json!({
                    "id": EVIL, "record_id": EVIL, "municipality": EVIL, "path": EVIL,
                    "on_status": on_status, "sides": [side("a"), side("b")], "resolution": resolution,
                });
                let page = render_as_hostile(
                    lang,
                    "conflict.html",
                    context! { c => Value::from_serialize(&c) },
                );
                assert_clean(&page, &format!("conflict in {lang}"));
            }
            for (all, m) in [(false, None), (true, Some(EVIL))] {
                let rows = vec![ConflictRow {
                    id: EVIL.into(),
                    municipality: EVIL.into(),
                    record_id: EVIL.into(),
                    path: EVIL.into(),
                    a: EVIL.into(),
                    b: EVIL.into(),
                    resolved_by: all.then(|| EVIL.to_string()),
                }];
                let page = render_as_hostile(
                    lang,
                    "conflicts.html",
                    context! { all => all, municipality => m, list => Value::from_serialize(&rows) },
                );
                assert_clean(&page, &format!("conflicts in {lang}"));
            }
            let rows: Vec<RolloutRow> = STAGES
                .iter()
                .map(|s| RolloutRow {
                    code: EVIL,
                    name: EVIL,
                    stage: s.as_str(),
                    kinds: KINDS.iter().map(|k| k.as_str()).collect(),
                    changed: Some(serde_json::json!({"by": EVIL, "at_ms": 0, "reason": EVIL})),
                })
                .collect();
            let page = render_as_hostile(
                lang,
                "rollout.html",
                context! {
                    rows => Value::from_serialize(&rows),
                    stages => STAGES.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    kinds => KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                },
            );
            assert_clean(&page, &format!("rollout in {lang}"));
            let page = render_as_hostile(
                lang,
                "login.html",
                context! { token => EVIL, message => EVIL, no_accounts => true },
            );
            assert_clean(&page, &format!("login in {lang}"));
        }
    }
}
