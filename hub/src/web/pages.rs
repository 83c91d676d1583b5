//! The dashboard's handlers and pages.

use super::auth::{self, Operator};
use super::html::{ago_s, bytes, esc, page, url_seg, utc_ms, value};
use super::model::{self, now_ms, MunicipalityView, NodeView};
use super::{blocking, Context, WebError, REFRESH_SECS};
use crate::review::{self, Decision};
use crate::rollout::{Rollout, Stage};
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::model::RecordKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(super) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

/// Logs an operator's action with tracing and appends it to `operator-actions.log`. What a
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
    if let Err(e) = crate::operators::log_action(ctx.data_dir(), operator, action, ok, details) {
        tracing::error!(error = %e, operator, action, "could not append to the operator actions log");
    }
}

pub(super) fn frame(op: &Operator, title: &str, refresh: Option<u64>, body: &str) -> Html<String> {
    Html(page(title, refresh, Some((&op.name, &op.csrf)), body))
}

pub(super) fn csrf_field(op: &Operator) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&op.csrf)
    )
}

// ------------------------------------------------------------------------------------------
// Sign in and out
// ------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

fn login_page(ctx: &Context, status: StatusCode, message: Option<&str>) -> Response {
    let token = match auth::random_token() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(m) = message {
        let _ = write!(body, "<p class=\"msg bad\" id=\"error\">{}</p>", esc(m));
    }
    if crate::operators::names(ctx.data_dir()).is_ok_and(|n| n.is_empty()) {
        body.push_str("<p class=\"msg bad\">No operator account exists yet: create one on the hub's machine with <code>civreg-hub operator add NAME</code>.</p>");
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <p><label>Operator <input type=\"text\" name=\"name\" id=\"name\" autocomplete=\"username\" required autofocus></label></p>\
         <p><label>Password <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button id=\"signin\">Sign in</button></p></form>",
        esc(&token)
    );
    let res = (status, Html(page("Sign in", None, None, &body))).into_response();
    auth::with_cookie(
        res,
        auth::set_cookie(auth::LOGIN_COOKIE, &token, Some(3600)),
    )
}

pub async fn login_form(State(ctx): State<Context>, headers: HeaderMap) -> Response {
    if auth::cookie(&headers, auth::SESSION_COOKIE)
        .is_some_and(|t| ctx.sessions().touch(&t).is_some())
    {
        return see_other("/");
    }
    let c = ctx.clone();
    blocking(move || Ok(login_page(&c, StatusCode::OK, None)))
        .await
        .unwrap_or_else(IntoResponse::into_response)
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
        let c = ctx.clone();
        return blocking(move || {
            Ok(login_page(
                &c,
                StatusCode::FORBIDDEN,
                Some("The sign-in form had expired: try again."),
            ))
        })
        .await
        .unwrap_or_else(IntoResponse::into_response);
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
        _ => {
            return WebError::Busy("too many sign-ins at once: try again in a minute".into())
                .into_response()
        }
    };
    let c = ctx.clone();
    let n = name.clone();
    let verified =
        blocking(move || Ok(crate::operators::verify(c.data_dir(), &n, &f.password))).await;
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
                crate::operators::OperatorError::BadCredentials => e.to_string(),
                other => format!("sign-in is not possible: {other}"),
            };
            let c = ctx.clone();
            blocking(move || Ok(login_page(&c, StatusCode::UNAUTHORIZED, Some(&msg))))
                .await
                .unwrap_or_else(IntoResponse::into_response)
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

fn node_badge(n: &NodeView, now: u64) -> String {
    let seen = match n.chain.last_seen_ms {
        Some(t) => format!("seen {} ago", ago_s(now.saturating_sub(t) / 1000)),
        None => "never seen".into(),
    };
    format!(
        "<a class=\"node {state}\" href=\"/node/{m}/{id}\" data-node=\"{node}\" data-state=\"{state}\" title=\"{seen}\">{node} {label}</a> <span class=\"small\">{seen}</span><br>",
        state = n.state(),
        label = n.state_label(),
        m = url_seg(n.node.split('/').next().unwrap_or_default()),
        id = url_seg(&n.node_id),
        node = esc(&n.node),
        seen = esc(&seen),
    )
}

fn overview_row(r: &MunicipalityView, now: u64) -> String {
    let mut s = format!(
        "<tr id=\"m-{code}\" class=\"{class}\" data-stage=\"{stage}\" data-severity=\"{class}\"><td><b>{name}</b><br><span class=\"small\">{code}</span></td><td>{stage}{by}</td><td>",
        code = esc(&r.code),
        class = r.severity.class(),
        stage = r.stage,
        name = esc(&r.name),
        by = r
            .stage_by
            .as_deref()
            .map(|b| format!("<br><span class=\"small\">by {}</span>", esc(b)))
            .unwrap_or_default(),
    );
    if r.nodes.is_empty() {
        s.push_str("<span class=\"small\">no node</span>");
    }
    for n in &r.nodes {
        s.push_str(&node_badge(n, now));
    }
    s.push_str("</td><td>");
    let waiting = r.waiting();
    if waiting > 0 {
        let _ = write!(
            s,
            "{waiting} ops<br><span class=\"small\">oldest {}</span>",
            ago_s(r.oldest_waiting_s())
        );
    } else if r.nodes.iter().any(|n| n.chain.unacked_ops.is_some()) {
        s.push('0');
    } else {
        s.push('—');
    }
    s.push_str("</td><td>");
    for n in &r.nodes {
        let _ = write!(
            s,
            "{}: #{}{}<br>",
            esc(&n.node_id),
            n.chain.acked_seq,
            if n.chain.unacked_ops.is_some() {
                format!(", lag {}", ago_s(n.lag_s()))
            } else {
                String::new()
            }
        );
    }
    let _ = write!(
        s,
        "</td><td><a href=\"/conflicts?municipality={code}\" data-conflicts=\"{n}\">{n}</a></td><td><a href=\"/duplicates?municipality={code}\" data-duplicates=\"{dup}\">{dup}</a></td><td>",
        code = url_seg(&r.code),
        n = r.open_conflicts,
        dup = r.open_duplicates,
    );
    match &r.cert_expiry {
        Some((t, node)) => {
            let days = (*t - time::OffsetDateTime::now_utc()).whole_days();
            let _ = write!(
                s,
                "{} <span class=\"small\">({}, {})</span>",
                esc(&crate::pki::format_utc(*t)[..10]),
                if days < 0 {
                    "expired".to_string()
                } else {
                    format!("in {days} days")
                },
                esc(node)
            );
        }
        None => s.push('—'),
    }
    s.push_str("</td><td class=\"refusal\">");
    if let Some((at, node, why)) = r.last_refusal() {
        let _ = write!(
            s,
            "<span class=\"err\">{}</span><br><span class=\"small\">{}, {} ago</span>",
            esc(why),
            esc(node),
            ago_s(now.saturating_sub(at) / 1000)
        );
    }
    s.push_str("</td><td>");
    for n in &r.nodes {
        if let Some(w) = &n.chain.clock_warning {
            let _ = write!(
                s,
                "<span class=\"err\">{}: {}</span><br>",
                esc(&n.node),
                esc(w)
            );
        }
    }
    s.push_str("</td><td class=\"trouble\">");
    for (_, t) in &r.trouble {
        let _ = write!(s, "{}<br>", esc(t));
    }
    s.push_str("</td></tr>");
    s
}

pub async fn overview(State(ctx): State<Context>, op: Operator) -> Result<Html<String>, WebError> {
    let online_within = ctx.settings().online_within.as_secs();
    let rows = blocking(move || model::overview(&ctx)).await?;
    let now = now_ms();
    let bad = rows
        .iter()
        .filter(|r| r.severity == model::Severity::Bad)
        .count();
    let warn = rows
        .iter()
        .filter(|r| r.severity == model::Severity::Warn)
        .count();
    let rule = format!(
        "An office is \"not reaching the hub\" when it missed two of its own sync rounds (offices of older versions: no heartbeat for {}). Ops waiting are as the office's last heartbeat counted them.",
        ago_s(online_within)
    );
    let mut body = super::now::render(&rows, now, REFRESH_SECS, &rule)?;
    let _ = write!(
        body,
        "<h2 id=\"details\">Every municipality</h2><p>{bad} municipalities need attention now, {warn} should be looked at.</p>\
         <table id=\"overview\"><thead><tr><th>Municipality</th><th>Stage</th><th>Nodes</th><th>Ops waiting</th><th>Acked, lag</th><th>Open conflicts</th><th>Open duplicates</th><th>Nearest certificate expiry</th><th>Rollout refusal</th><th>Clock</th><th>Attention</th></tr></thead><tbody>",
    );
    for r in &rows {
        body.push_str(&overview_row(r, now));
    }
    body.push_str("</tbody></table>");
    Ok(frame(&op, "Overview", Some(REFRESH_SECS), &body))
}

// ------------------------------------------------------------------------------------------
// A node
// ------------------------------------------------------------------------------------------

pub async fn node(
    State(ctx): State<Context>,
    op: Operator,
    Path((m, n)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    let key = format!("{m}/{n}");
    let c = ctx.clone();
    let k = key.clone();
    let view = blocking(move || {
        model::nodes(&c)?
            .into_iter()
            .find(|v| v.node == k)
            .ok_or_else(|| WebError::NotFound(format!("the hub knows no node {k}")))
    })
    .await?;
    let now = now_ms();
    let ch = &view.chain;
    let mut b = format!(
        "<h1>Node {node} <span class=\"node {state}\" id=\"state\" data-state=\"{state}\">{label}</span></h1><table id=\"facts\">",
        node = esc(&key),
        state = view.state(),
        label = view.state_label(),
    );
    let mut row = |k: &str, v: String| {
        let _ = write!(b, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    row(
        "Last seen",
        ch.last_seen_ms
            .map(|t| {
                format!(
                    "{} ({} ago)",
                    esc(&utc_ms(t)),
                    ago_s(now.saturating_sub(t) / 1000)
                )
            })
            .unwrap_or_else(|| "never".into()),
    );
    row("Version", esc(ch.version.as_deref().unwrap_or("—")));
    row("Last acknowledged op", format!("#{}", ch.acked_seq));
    row(
        "Ops waiting",
        match ch.unacked_ops {
            Some(w) => format!("{w} (oldest {})", ago_s(view.lag_s())),
            None => "—".into(),
        },
    );
    row(
        "Clock offset",
        match ch.clock_offset_ms {
            Some(o) => format!(
                "{o} ms{}",
                ch.clock_warning
                    .as_deref()
                    .map(|w| format!(" <span class=\"err\">{}</span>", esc(w)))
                    .unwrap_or_default()
            ),
            None => "—".into(),
        },
    );
    row(
        "Free disk",
        ch.free_disk_bytes.map(bytes).unwrap_or_else(|| "—".into()),
    );
    row(
        "Certificate",
        match (&view.cert_expiry, &view.cert_serial) {
            (Some(t), Some(serial)) => format!(
                "expires {} <span class=\"small\">serial {}</span>",
                esc(&crate::pki::format_utc(*t)),
                esc(serial)
            ),
            _ if view.cert_state == model::CertState::Revoked => {
                "<span class=\"err\">revoked</span> (no active certificate)".into()
            }
            _ => "no active certificate".into(),
        },
    );
    row(
        "Sync interval",
        match ch.sync_interval_ms {
            Some(i) => format!(
                "{} <span class=\"small\">(not reaching the hub after {} without a heartbeat)</span>",
                ago_s(i.div_ceil(1000)),
                ago_s(view.window_ms / 1000)
            ),
            None => "— <span class=\"small\">(not told by the node)</span>".into(),
        },
    );
    b.push_str("</table><h2>Last day</h2>");
    let samples = ctx.history().samples(&key);
    b.push_str(&super::history::chart(&super::history::hourly(
        &samples, now,
    )));
    let _ = write!(
        b,
        "<p class=\"small\">Bars: ops the hub acknowledged per hour. Line: the lag (age of the oldest op waiting). Sampled every {} in memory: the history starts again when the hub restarts ({} samples so far).</p><h2>Last errors and refusals</h2><ul id=\"errors\">",
        ago_s(ctx.settings().history_every.as_secs()),
        samples.len()
    );
    let mut any = false;
    if let Some(why) = &ch.halted {
        any = true;
        let _ = write!(
            b,
            "<li><span class=\"err\">stopped registering: {}</span></li>",
            esc(why)
        );
    }
    if let (Some(at), Some(why)) = (ch.last_refusal_ms, &ch.last_refusal) {
        any = true;
        let _ = write!(
            b,
            "<li><span class=\"err\">{}</span> <span class=\"small\">{} ({} ago)</span></li>",
            esc(why),
            esc(&utc_ms(at)),
            ago_s(now.saturating_sub(at) / 1000)
        );
    }
    for e in ctx.metrics().node_errors(&key) {
        any = true;
        let _ = write!(
            b,
            "<li><span class=\"err\">{}</span> <span class=\"small\">{}</span></li>",
            esc(&e.text),
            esc(&utc_ms(e.at_ms))
        );
    }
    if !any {
        b.push_str("<li>none since the hub started</li>");
    }
    b.push_str("</ul>");
    // An op refused for good blocks the node's queue until an operator sets it aside.
    if let Some((m, n)) = key.split_once('/') {
        if let Some(r) = ctx.store().refused_op(m, n) {
            let _ = write!(
                b,
                "<h2>Blocked</h2><p id=\"blocked\"><span class=\"err\">The hub refuses op #{} (record {}) for good: {}</span><br>Everything this office saved after it waits. After reading the reason with the office, an operator may set the op aside: <code>civreg-hub set-aside {} {} {} --reason \"...\"</code> (hash {}).</p>",
                r.seq,
                esc(&r.record_id),
                esc(&r.why),
                esc(m),
                esc(n),
                r.seq,
                esc(&r.hash.to_string())
            );
        }
        let aside = ctx.store().set_aside_of(m, n)?;
        if !aside.is_empty() {
            b.push_str("<h2>Ops set aside</h2><ul id=\"set-aside\">");
            for a in aside {
                let _ = write!(
                    b,
                    "<li>op #{}{} set aside by {} on {}: {}</li>",
                    a.seq,
                    a.record_id
                        .as_deref()
                        .map(|r| format!(" (record {})", esc(r)))
                        .unwrap_or_default(),
                    esc(&a.operator),
                    esc(&utc_ms(a.at_ms)),
                    esc(&a.reason)
                );
            }
            b.push_str("</ul>");
        }
    }
    Ok(frame(&op, &key, Some(REFRESH_SECS), &b))
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

pub async fn conflicts(
    State(ctx): State<Context>,
    op: Operator,
    Query(q): Query<ConflictsQuery>,
) -> Result<Html<String>, WebError> {
    let m = q.municipality.clone().filter(|m| !m.is_empty());
    let all = q.all.is_some();
    let mm = m.clone();
    let list = blocking(move || Ok(review::list(ctx.store(), mm.as_deref(), all)?)).await?;
    let mut b = format!(
        "<h1>{} conflicts{}</h1><p><a href=\"/conflicts{}\">{}</a></p>",
        if all { "All" } else { "Open" },
        m.as_deref()
            .map(|m| format!(" of {}", esc(m)))
            .unwrap_or_default(),
        if all { "" } else { "?all=1" },
        if all {
            "Open ones only"
        } else {
            "Include resolved ones"
        },
    );
    if list.is_empty() {
        b.push_str("<p id=\"none\">No conflicts.</p>");
    } else {
        b.push_str("<table id=\"conflicts\"><thead><tr><th>Conflict</th><th>Municipality</th><th>Record</th><th>Field</th><th>A (kept for now)</th><th>B</th><th>State</th></tr></thead><tbody>");
        for c in &list {
            let k = &c.conflict;
            let _ = write!(
                b,
                "<tr><td><a href=\"/conflicts/{}\" class=\"conflict\" data-id=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                url_seg(&k.id),
                esc(&k.id),
                esc(&k.id),
                esc(&c.municipality),
                esc(&k.record_id),
                esc(&k.path),
                esc(&value(&k.winner.value)),
                esc(&value(&k.loser.value)),
                match &k.resolution {
                    Some(r) => format!("resolved by {}", esc(&r.clerk)),
                    None => "open".into(),
                }
            );
        }
        b.push_str("</tbody></table>");
    }
    Ok(frame(&op, "Conflicts", None, &b))
}

fn side(label: &str, s: &civreg_shared::merge::Side) -> String {
    format!(
        "<td class=\"side\" id=\"side-{label}\"><pre class=\"value\">{}</pre><p class=\"small\">by {} on node {}/{} (op {}), {} · {}{}</p></td>",
        esc(&value(&s.value)),
        esc(&s.clerk),
        esc(&s.op.municipality),
        esc(&s.op.node_id),
        esc(&s.op.to_string()),
        esc(&utc_ms(s.at.wall_ms)),
        esc(&serde_json::to_value(s.change).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()),
        if s.reason.is_empty() {
            String::new()
        } else {
            format!(" · reason: {}", esc(&s.reason))
        }
    )
}

pub async fn conflict(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let filed = blocking(move || Ok(review::show(ctx.store(), &id)?)).await?;
    let c = &filed.conflict;
    let on_status = c.path == civreg_shared::merge::STATUS;
    let mut b = format!(
        "<h1>Conflict {id}</h1><p>Record <b id=\"record\">{rec}</b> of {m}, field <b id=\"path\">{path}</b>: two offices wrote it without having seen each other's change.</p>\
         <table><thead><tr><th>A: kept for now (the later write)</th><th>B: put aside</th></tr></thead><tbody><tr>{a}{bb}</tr></tbody></table>",
        id = esc(&c.id),
        rec = esc(&c.record_id),
        m = esc(&filed.municipality),
        path = esc(&c.path),
        a = side("a", &c.winner),
        bb = side("b", &c.loser),
    );
    match &c.resolution {
        Some(r) => {
            let _ = write!(
                b,
                "<p class=\"msg ok\" id=\"resolution\">Resolved by <b id=\"resolved-by\">{}</b> (op {}) on {}: <b>{}</b>{}</p>",
                esc(&r.clerk),
                esc(&r.op.to_string()),
                esc(&utc_ms(r.at.wall_ms)),
                esc(&value(&r.value)),
                if r.reason.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", esc(&r.reason))
                }
            );
        }
        None => {
            let (la, lb) = if on_status {
                ("Keep A (the void)", "Keep B (the edit: restore the record)")
            } else {
                ("Keep A", "Keep B")
            };
            let _ = write!(
                b,
                "<form method=\"post\" action=\"/conflicts/{}/resolve\" id=\"resolve\"><fieldset><legend>Resolve, as {}</legend>{}\
                 <p><label><input type=\"radio\" name=\"keep\" value=\"A\" id=\"keep-a\"> {la}</label>\
                 <label><input type=\"radio\" name=\"keep\" value=\"B\" id=\"keep-b\"> {lb}</label>{}</p>\
                 <p><label>Reason (kept with the record's history) <input type=\"text\" name=\"reason\" id=\"reason\" required></label></p>\
                 <p><button id=\"resolve-submit\">Record the decision</button></p></fieldset></form>",
                url_seg(&c.id),
                esc(&op.name),
                csrf_field(&op),
                if on_status {
                    String::new()
                } else {
                    "<label><input type=\"radio\" name=\"keep\" value=\"value\" id=\"keep-value\"> Another value: <input type=\"text\" name=\"value\" id=\"value\"></label>".into()
                }
            );
        }
    }
    b.push_str("<p><a href=\"/conflicts\">All open conflicts</a></p>");
    Ok(frame(&op, "Conflict", None, &b))
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
            _ => {
                return Err(WebError::BadRequest(
                    "choose A, B or another value, then record the decision".into(),
                ))
            }
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

pub async fn rollout(State(ctx): State<Context>, op: Operator) -> Result<Html<String>, WebError> {
    let r = blocking(move || Ok(Rollout::load(ctx.data_dir())?)).await?;
    let mut b = String::from(
        "<h1>Rollout</h1><p>Planned: no node may connect. Pilot and live: full sync. Suspended: nodes may pull but not push (they keep registering and push when resumed). A change applies at once and is logged with your name and reason.</p>\
         <table id=\"rollout\"><thead><tr><th>Municipality</th><th>Stage</th><th>Record kinds</th><th>Last change</th><th>Change to</th></tr></thead><tbody>",
    );
    for m in civreg_shared::gazetteer::all() {
        let Some(e) = r.entry(m.code) else { continue };
        let _ = write!(
            b,
            "<tr id=\"r-{code}\" data-stage=\"{stage}\"><td><b>{name}</b><br><span class=\"small\">{code}</span></td><td class=\"stage\">{stage}</td><td>{kinds}</td><td class=\"small\">{changed}</td><td>\
             <form method=\"post\" action=\"/rollout/{ucode}\">{csrf}<select name=\"stage\">",
            code = esc(m.code),
            ucode = url_seg(m.code),
            name = esc(m.name_sq),
            stage = e.stage,
            kinds = esc(
                &e.kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            changed = match (&e.changed_by, e.changed_at_ms) {
                (Some(by), Some(at)) => format!(
                    "{} by {}{}",
                    esc(&utc_ms(at)),
                    esc(by),
                    if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", esc(&e.reason))
                    }
                ),
                _ => "default".into(),
            },
            csrf = csrf_field(&op),
        );
        for s in STAGES {
            let _ = write!(
                b,
                "<option value=\"{s}\"{}>{s}</option>",
                if s == e.stage { " selected" } else { "" }
            );
        }
        b.push_str("</select> ");
        for k in KINDS {
            let _ = write!(
                b,
                "<label><input type=\"checkbox\" name=\"kind_{k}\"{}> {k}</label>",
                if e.kinds.contains(&k) { " checked" } else { "" },
                k = k.as_str()
            );
        }
        b.push_str(" <input type=\"text\" name=\"reason\" placeholder=\"reason\" required> <button>Change</button></form></td></tr>");
    }
    b.push_str("</tbody></table>");
    Ok(frame(&op, "Rollout", None, &b))
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
            WebError::BadRequest(format!(
                "unknown stage {:?}: choose planned, pilot, live or suspended",
                f.stage
            ))
        })?;
    if f.reason.trim().is_empty() {
        return Err(WebError::BadRequest(
            "a stage change needs a reason: it is kept in the rollout log".into(),
        ));
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
        Ok(Rollout::set(
            c.data_dir(),
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
        Ok(ctx.metrics().render(&snap))
    })
    .await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
