//! The duplicates review queue in the dashboard: the list of cases, one case with both records
//! side by side, and the operator's decision (link, dismiss, unlink) through
//! [`crate::linkage::duplicates`], the functions `civreg-hub duplicates` calls too, in the signed-in
//! operator's name.
//!
//! The list names records by number and role only (no personal data), so it is not written to
//! the access log. A case page shows two records: each view is appended to the hub's access log
//! (`by` = `operator:NAME`, like `civreg-hub duplicates show`) before the page is sent, and a
//! view whose entry can not be written is refused.

use super::auth::Operator;
use super::html::{esc, url_seg, utc_ms, value};
use super::pages::{csrf_field, frame, record_action, see_other};
use super::{blocking, Context, WebError};
use crate::linkage::duplicates::{self, Case, Status};
use crate::store::{HubRecord, HubStore};
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    municipality: Option<String>,
    all: Option<String>,
}

/// "linked by vjosa" for a decided case, "open" for an open one.
fn state(c: &Case) -> String {
    match c.decisions.last() {
        Some(d) if c.status != Status::Open => {
            format!("{} by {}", c.status.as_str(), d.operator)
        }
        _ => c.status.as_str().to_string(),
    }
}

pub async fn duplicates(
    State(ctx): State<Context>,
    op: Operator,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let m = q
        .municipality
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    let name = match &m {
        Some(code) => Some(
            civreg_shared::gazetteer::by_code(code)
                .ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "unknown municipality {code:?}: choose one from the list (codes as on the overview, e.g. prishtine)"
                    ))
                })?
                .name_sq,
        ),
        None => None,
    };
    let all = q.all.as_deref().is_some_and(|v| v != "0");
    let mm = m.clone();
    let list = blocking(move || Ok(duplicates::list(ctx.store(), mm.as_deref(), all)?)).await?;
    let mut b = format!(
        "<h1>{}{}</h1>\
         <p>Pairs of people the matcher found to be probably one person: <code>civreg-hub match dedupe</code> over the register, and an import's possible matches. \
         Open a case to compare both records, then link them (one person identifier) or dismiss the case (different people). Strongest first.</p>\
         <form method=\"get\" action=\"/duplicates\" id=\"filter\"><select name=\"municipality\" id=\"municipality\"><option value=\"\">every municipality</option>",
        if all { "All duplicate cases" } else { "Open duplicates" },
        name.map(|n| format!(" of {}", esc(n))).unwrap_or_default(),
    );
    for g in civreg_shared::gazetteer::all() {
        let _ = write!(
            b,
            "<option value=\"{code}\"{sel}>{name}</option>",
            code = esc(g.code),
            sel = if m.as_deref() == Some(g.code) {
                " selected"
            } else {
                ""
            },
            name = esc(g.name_sq),
        );
    }
    let _ = write!(
        b,
        "</select> <label><input type=\"checkbox\" name=\"all\" value=\"1\" id=\"all\"{}> include decided cases</label> <button>Show</button></form>",
        if all { " checked" } else { "" }
    );
    if list.is_empty() {
        b.push_str(if all {
            "<p id=\"none\">No duplicate cases.</p>"
        } else {
            "<p id=\"none\">No duplicates waiting for review.</p>"
        });
    } else {
        let _ = write!(
            b,
            "<p class=\"small\">{} cases.</p><table id=\"duplicates\"><thead><tr><th>Case</th><th>Weight</th><th>Probability</th><th>Class</th><th>Found by</th><th>A (in the register)</th><th>B (found to duplicate it)</th><th>Municipalities</th><th>Filed</th><th>State</th></tr></thead><tbody>",
            list.len()
        );
        for c in &list {
            let _ = write!(
                b,
                "<tr id=\"case-{id}\" data-status=\"{status}\"><td><a href=\"/duplicates/{uid}\" class=\"duplicate\" data-id=\"{id}\">{id}</a></td><td>{w:.1}</td><td>{p:.1} %</td><td>{class}</td><td>{source}</td><td>{a}</td><td>{bb}</td><td>{ms}</td><td class=\"small\">{filed}</td><td>{state}</td></tr>",
                id = esc(&c.id),
                uid = url_seg(&c.id),
                status = c.status.as_str(),
                w = c.weight,
                p = c.probability * 100.0,
                class = esc(&c.class),
                source = esc(&c.source),
                a = esc(&c.a),
                bb = esc(&c.b),
                ms = esc(&c.municipalities.join(", ")),
                filed = esc(&utc_ms(c.filed_ms)),
                state = esc(&state(c)),
            );
        }
        b.push_str("</tbody></table>");
    }
    let _ = write!(
        b,
        "<p><a href=\"/duplicates{}\">{}</a></p>",
        if all { "" } else { "?all=1" },
        if all {
            "Open cases only"
        } else {
            "Include decided cases"
        }
    );
    Ok(frame(&op, "Duplicates", None, &b))
}

/// One side of a case: the mention, its record and the person identifier of each of its people.
struct Side {
    mention: String,
    regno: String,
    role: String,
    record: HubRecord,
    /// Role → person identifier, for every person the record names.
    persons: BTreeMap<String, String>,
}

fn side(store: &HubStore, case: &str, mention: &str) -> Result<Side, WebError> {
    let (regno, role) = mention.rsplit_once('/').ok_or_else(|| {
        WebError::Internal(format!(
            "case {case} names {mention:?}, which is not REGNO/ROLE"
        ))
    })?;
    let record = store.record(regno)?.ok_or_else(|| {
        WebError::NotFound(format!(
            "case {case} names record {regno}, which this hub does not hold"
        ))
    })?;
    // Mints the identifiers of people who have none yet, as `civreg-hub duplicates show` does.
    let persons = crate::linkage::persons::persons_of_record(store, regno)?;
    Ok(Side {
        mention: mention.to_string(),
        regno: regno.to_string(),
        role: role.to_string(),
        record,
        persons,
    })
}

/// Writes the view of a case's records to the access log; the page is not sent without it.
fn log_view(ctx: &Context, by: &str, case: &Case, sides: [&Side; 2]) -> Result<(), WebError> {
    let records: Vec<String> = sides
        .iter()
        .map(|s| s.regno.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let log = crate::access::AccessLog::open(ctx.data_dir()).map_err(WebError::AccessLog)?;
    log.append(&crate::access::Entry {
        at_ms: crate::access::now_ms(),
        by: by.to_string(),
        clerk: String::new(),
        action: "view".into(),
        query: format!("duplicate {}", case.id),
        records,
    })
    .map_err(WebError::AccessLog)
}

/// Rows comparing two maps of field → value: every key of either, differing rows marked.
fn compare_rows(
    out: &mut String,
    a: &BTreeMap<String, &serde_json::Value>,
    b: &BTreeMap<String, &serde_json::Value>,
) {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let (va, vb) = (a.get(k), b.get(k));
        let cell = |v: Option<&&serde_json::Value>| match v {
            Some(v) => format!("<pre>{}</pre>", esc(&value(v))),
            None => "<span class=\"small\">—</span>".into(),
        };
        let _ = write!(
            out,
            "<tr{}><th>{}</th><td>{}</td><td>{}</td></tr>",
            if va != vb { " class=\"diff\"" } else { "" },
            esc(k),
            cell(va),
            cell(vb),
        );
    }
}

/// The fields of the person `role` of a record, without the role's prefix.
fn person_fields(s: &Side) -> BTreeMap<String, &serde_json::Value> {
    let prefix = format!("{}.", s.role);
    s.record
        .fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v)))
        .collect()
}

/// Every field of a side's record.
fn all_fields(s: &Side) -> BTreeMap<String, &serde_json::Value> {
    s.record
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v))
        .collect()
}

fn record_cell(s: &Side) -> String {
    format!(
        "<b>{}</b> <span class=\"small\">({}{})</span>",
        esc(&s.regno),
        esc(s.record.kind.as_str()),
        match &s.record.voided {
            Some(v) => format!(
                ", <span class=\"err\">voided by {}: {}</span>",
                esc(&v.clerk),
                esc(&v.reason)
            ),
            None => String::new(),
        }
    )
}

/// The people of a record with their identifiers and how each was linked.
fn people_cell(s: &Side, label: &str) -> String {
    let mut out = format!("<ul class=\"people\" id=\"people-{label}\">");
    for (role, pid) in &s.persons {
        let link = s
            .record
            .persons
            .get(role)
            .map(|l| {
                format!(
                    " <span class=\"small\">linked by {} (op {})</span>",
                    esc(&l.clerk),
                    esc(&l.op.to_string())
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<li{}>{}: <b class=\"pid\">{}</b>{}</li>",
            if *role == s.role {
                " class=\"mention\""
            } else {
                ""
            },
            esc(role),
            esc(pid),
            link
        );
    }
    out.push_str("</ul>");
    out
}

fn render_case(op: &Operator, c: &Case, a: &Side, b: &Side) -> String {
    let pid = |s: &Side| s.persons.get(&s.role).cloned().unwrap_or_default();
    let (pa, pb) = (pid(a), pid(b));
    let mut h = format!(
        "<h1>Duplicate case {id} <span class=\"status {status}\" id=\"status\" data-status=\"{status}\">{status}</span></h1>\
         <p>The matcher ({source}) found <b>A</b> <span id=\"mention-a\">{ma}</span> and <b>B</b> <span id=\"mention-b\">{mb}</span> \
         to be probably one person: weight <b id=\"weight\">{w:.1}</b>, probability {p:.1} %, class <b id=\"class\">{class}</b>. \
         Filed {filed}; municipalities {ms}.</p>",
        id = esc(&c.id),
        status = c.status.as_str(),
        source = esc(&c.source),
        ma = esc(&a.mention),
        mb = esc(&b.mention),
        w = c.weight,
        p = c.probability * 100.0,
        class = esc(&c.class),
        filed = esc(&utc_ms(c.filed_ms)),
        ms = esc(&c.municipalities.join(", ")),
    );
    let _ = write!(
        h,
        "<h2>The person</h2><table id=\"person\"><thead><tr><th></th><th>A: {ma}</th><th>B: {mb}</th></tr></thead><tbody>\
         <tr><th>Record</th><td id=\"record-a\">{ra}</td><td id=\"record-b\">{rb}</td></tr>\
         <tr><th>Role</th><td id=\"role-a\">{rola}</td><td id=\"role-b\">{rolb}</td></tr>\
         <tr{same}><th>Person identifier</th><td class=\"pid\" id=\"pid-a\">{pa}</td><td class=\"pid\" id=\"pid-b\">{pb}</td></tr>",
        ma = esc(&a.mention),
        mb = esc(&b.mention),
        ra = record_cell(a),
        rb = record_cell(b),
        rola = esc(&a.role),
        rolb = esc(&b.role),
        same = if pa == pb { "" } else { " class=\"diff\"" },
        pa = esc(&pa),
        pb = esc(&pb),
    );
    compare_rows(&mut h, &person_fields(a), &person_fields(b));
    let _ = write!(
        h,
        "</tbody></table><p class=\"small\" id=\"same\">{}</p>",
        if pa == pb {
            "A and B have the same person identifier: they are one person."
        } else {
            "A and B have different person identifiers. Rows that differ are highlighted."
        }
    );
    let _ = write!(
        h,
        "<h2>The two records</h2><table id=\"records\"><thead><tr><th>Field</th><th>A: {}</th><th>B: {}</th></tr></thead><tbody>\
         <tr><th>People and their identifiers</th><td>{}</td><td>{}</td></tr>",
        esc(&a.regno),
        esc(&b.regno),
        people_cell(a, "a"),
        people_cell(b, "b"),
    );
    compare_rows(&mut h, &all_fields(a), &all_fields(b));
    h.push_str("</tbody></table><h2>Decisions</h2>");
    if c.decisions.is_empty() {
        h.push_str("<p id=\"decisions\">None yet.</p>");
    } else {
        h.push_str("<table id=\"decisions\"><thead><tr><th>Decision</th><th>Operator</th><th>When</th><th>Reason</th><th>Ops</th></tr></thead><tbody>");
        for d in &c.decisions {
            let _ = write!(
                h,
                "<tr data-status=\"{s}\"><td>{s}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
                esc(&d.operator),
                esc(&utc_ms(d.at_ms)),
                esc(&d.reason),
                esc(&d.ops.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                s = d.status.as_str(),
            );
        }
        h.push_str("</tbody></table>");
    }
    if let Some(d) = c.decisions.last() {
        let _ = write!(
            h,
            "<p class=\"msg {}\" id=\"decided\">{} by <b id=\"decided-by\">{}</b> on {}: {}</p>",
            if c.status == Status::Linked {
                "ok"
            } else {
                "bad"
            },
            match c.status {
                Status::Open => "Reopened",
                Status::Linked => "Linked",
                Status::Dismissed => "Dismissed",
                Status::Unlinked => "Unlinked",
            },
            esc(&d.operator),
            esc(&utc_ms(d.at_ms)),
            esc(&d.reason)
        );
    }
    let buttons = match c.status {
        Status::Open => Some(
            "<button name=\"action\" value=\"link\" id=\"link\">Link: one person</button> \
             <button name=\"action\" value=\"dismiss\" id=\"dismiss\">Dismiss: different people</button>",
        ),
        Status::Linked => Some(
            "<button name=\"action\" value=\"unlink\" id=\"unlink\">Unlink: B gets an identifier of its own again</button>",
        ),
        Status::Dismissed | Status::Unlinked => None,
    };
    match buttons {
        Some(buttons) => {
            let _ = write!(
                h,
                "<form method=\"post\" action=\"/duplicates/{}/decide\" id=\"decide\"><fieldset><legend>Decide, as {}</legend>{}\
                 <p><label>Reason (kept in the case's history and in the link's op) <input type=\"text\" name=\"reason\" id=\"reason\" required></label></p>\
                 <p>{buttons}</p></fieldset></form>",
                url_seg(&c.id),
                esc(&op.name),
                csrf_field(op),
            );
        }
        None => h.push_str(
            "<p class=\"small\">This case is decided; nothing more can be done with it here.</p>",
        ),
    }
    h.push_str("<p><a href=\"/duplicates\">All open duplicates</a></p>");
    h
}

pub async fn duplicate(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let by = format!("operator:{}", op.name);
    let c = ctx.clone();
    let (case, a, b) = blocking(move || {
        let case = duplicates::get(c.store(), &id)?;
        let a = side(c.store(), &case.id, &case.a)?;
        let b = side(c.store(), &case.id, &case.b)?;
        log_view(&c, &by, &case, [&a, &b])?;
        Ok((case, a, b))
    })
    .await?;
    Ok(frame(
        &op,
        "Duplicate case",
        None,
        &render_case(&op, &case, &a, &b),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    action: String,
    reason: String,
}

/// Decisions from the dashboard are made one at a time (see [`decide`]).
static DECIDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A refused decision: the message, and the way back to the case.
fn refused(op: &Operator, id: &str, e: WebError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        return e.into_response();
    }
    let body = format!(
        "<h1>Not recorded</h1><p class=\"msg bad\" id=\"error\">{}</p><p><a href=\"/duplicates/{}\" id=\"back\">Back to the case</a> · <a href=\"/duplicates\">All open duplicates</a></p>",
        esc(&e.to_string()),
        url_seg(id)
    );
    (status, frame(op, "Not recorded", None, &body)).into_response()
}

pub async fn decide(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Response {
    if let Err(e) = op.check_csrf(&f.csrf) {
        return e.into_response();
    }
    let action = f.action.trim().to_string();
    let reason = f.reason.trim().to_string();
    let checked = if !["link", "dismiss", "unlink"].contains(&action.as_str()) {
        Err(WebError::BadRequest(
            "choose link, dismiss or unlink, then record the decision".into(),
        ))
    } else if reason.is_empty() {
        Err(WebError::BadRequest(
            "say why: every decision is kept with its reason in the case's history".into(),
        ))
    } else {
        Ok(())
    };
    let result = match checked {
        Err(e) => Err(e),
        Ok(()) => {
            let (c, cid, a, r, operator) = (
                ctx.clone(),
                id.clone(),
                action.clone(),
                reason.clone(),
                op.name.clone(),
            );
            blocking(move || {
                // `duplicates` checks a case's state and then writes it: two operators
                // deciding one case at the same moment must not both pass the check.
                let _one_at_a_time = DECIDING.lock().unwrap_or_else(|p| p.into_inner());
                let s = c.store();
                Ok(match a.as_str() {
                    "link" => duplicates::link(s, &cid, &operator, &r)?,
                    "dismiss" => duplicates::dismiss(s, &cid, &operator, &r)?,
                    _ => duplicates::unlink(s, &cid, &operator, &r)?,
                })
            })
            .await
        }
    };
    match result {
        Ok(case) => {
            let ops: Vec<String> = case
                .decisions
                .last()
                .map(|d| d.ops.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            record_action(
                &ctx,
                &op.name,
                "duplicate",
                true,
                serde_json::json!({"case": id, "decision": action, "reason": reason, "ops": ops}),
            );
            see_other(&format!("/duplicates/{}", url_seg(&id)))
        }
        Err(e) => {
            record_action(
                &ctx,
                &op.name,
                "duplicate",
                false,
                serde_json::json!({"case": id, "decision": action, "reason": reason, "error": e.to_string()}),
            );
            refused(&op, &id, e)
        }
    }
}
