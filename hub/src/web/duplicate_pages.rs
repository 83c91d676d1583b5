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
use super::fmt::{url_seg, value};
use super::lang;
use super::pages::{record_action, see_other};
use super::templates;
use super::{blocking, Context, WebError};
use crate::linkage::duplicates::{self, Case, Status, Via};
use crate::store::{HubRecord, HubStore};
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    municipality: Option<String>,
    all: Option<String>,
}

/// A case in the list.
#[derive(Debug, Serialize)]
struct CaseRow {
    id: String,
    status: &'static str,
    /// Who decided it (decided cases).
    by: Option<String>,
    weight: String,
    probability: String,
    class: String,
    source: String,
    a: String,
    b: String,
    municipalities: String,
    filed_ms: u64,
}

fn case_row(c: &Case) -> CaseRow {
    CaseRow {
        id: c.id.clone(),
        status: c.status.as_str(),
        by: match c.decisions.last() {
            Some(d) if c.status != Status::Open => Some(d.operator.clone()),
            _ => None,
        },
        weight: format!("{:.1}", c.weight),
        probability: format!("{:.1}", c.probability * 100.0),
        class: c.class.clone(),
        source: c.source.clone(),
        a: c.a.clone(),
        b: c.b.clone(),
        municipalities: c.municipalities.join(", "),
        filed_ms: c.filed_ms,
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
    let lang = lang::current();
    let name = match &m {
        Some(code) => Some(
            civreg_shared::gazetteer::by_code(code)
                .ok_or_else(|| {
                    WebError::BadRequest(lang::format(
                        "dash-err-unknown-municipality",
                        &[("code", code.chars().take(40).collect::<String>().into())],
                    ))
                })
                .map(|g| super::fmt::municipality_name(lang, g))?,
        ),
        None => None,
    };
    let all = q.all.as_deref().is_some_and(|v| v != "0");
    let mm = m.clone();
    let (list, illegible) = blocking(move || {
        Ok((
            duplicates::list(ctx.store(), mm.as_deref(), all)?,
            crate::linkage::illegible::waiting(ctx.store(), mm.as_deref())?,
        ))
    })
    .await?;
    let gazetteer: Vec<serde_json::Value> = civreg_shared::gazetteer::all()
        .iter()
        .map(|g| {
            serde_json::json!({
                "code": g.code,
                "name": super::fmt::municipality_name(lang, g),
                "selected": m.as_deref() == Some(g.code),
            })
        })
        .collect();
    templates::page(
        Some(&op),
        "duplicates.html",
        context! {
            all => all,
            name => name,
            gazetteer => Value::from_serialize(&gazetteer),
            list => Value::from_serialize(list.iter().map(case_row).collect::<Vec<_>>()),
            illegible => Value::from_serialize(&illegible),
        },
    )
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

/// A row comparing one field of A and B.
#[derive(Debug, Serialize)]
struct CompareRow {
    field: String,
    a: Option<String>,
    b: Option<String>,
    diff: bool,
}

/// Rows comparing two maps of field → value: every key of either, differing rows marked.
fn compare_rows(
    a: &BTreeMap<String, &serde_json::Value>,
    b: &BTreeMap<String, &serde_json::Value>,
) -> Vec<CompareRow> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .map(|k| {
            let (va, vb) = (a.get(k), b.get(k));
            CompareRow {
                field: k.clone(),
                a: va.map(|v| value(v)),
                b: vb.map(|v| value(v)),
                diff: va != vb,
            }
        })
        .collect()
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

/// One side of a case as the page shows it: its record, the role, and the people of the
/// record with their identifiers and how each was linked.
fn side_view(s: &Side, label: &str) -> serde_json::Value {
    let people: Vec<serde_json::Value> = s
        .persons
        .iter()
        .map(|(role, pid)| {
            serde_json::json!({
                "role": role,
                "pid": pid,
                "mention": *role == s.role,
                "link": s.record.persons.get(role).map(|l| serde_json::json!({
                    "clerk": l.clerk, "op": l.op.to_string(),
                })),
            })
        })
        .collect();
    serde_json::json!({
        "label": label,
        "mention": s.mention,
        "regno": s.regno,
        "kind": s.record.kind.as_str(),
        "voided": s.record.voided.as_ref().map(|v| serde_json::json!({
            "clerk": v.clerk, "reason": v.reason,
        })),
        "role": s.role,
        "pid": s.persons.get(&s.role).cloned().unwrap_or_default(),
        "people": people,
    })
}

/// How a decision came about, for the page:
/// `{"kind": "case"|"cluster"|"already"|"import"|"unlink"|"withdrawn", "id"}`.
fn via_view(via: Option<&Via>) -> Option<serde_json::Value> {
    via.map(|v| match v {
        Via::Case(id) => serde_json::json!({"kind": "case", "id": id}),
        Via::Cluster(id) => serde_json::json!({"kind": "cluster", "id": id}),
        Via::Already => serde_json::json!({"kind": "already", "id": ""}),
        Via::Import(file) => serde_json::json!({"kind": "import", "id": file}),
        Via::Unlink(id) => serde_json::json!({"kind": "unlink", "id": id}),
        Via::Withdrawn(id) => serde_json::json!({"kind": "withdrawn", "id": id}),
    })
}

fn render_case(
    op: &Operator,
    c: &Case,
    a: &Side,
    b: &Side,
    cluster: Option<&serde_json::Value>,
) -> Result<Html<String>, WebError> {
    let pid = |s: &Side| s.persons.get(&s.role).cloned().unwrap_or_default();
    let case = serde_json::json!({
        "id": c.id,
        "status": c.status.as_str(),
        "source": c.source,
        "weight": format!("{:.1}", c.weight),
        "probability": format!("{:.1}", c.probability * 100.0),
        "class": c.class,
        "filed_ms": c.filed_ms,
        "municipalities": c.municipalities.join(", "),
        "decisions": c.decisions.iter().map(|d| serde_json::json!({
            "status": d.status.as_str(),
            "operator": d.operator,
            "at_ms": d.at_ms,
            "reason": d.reason,
            "ops": d.ops.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "via": via_view(d.via.as_ref()),
        })).collect::<Vec<_>>(),
        "proposed": c.proposed.as_ref().map(|p| serde_json::json!({
            "children": p.children,
            "operator": p.operator,
            "at_ms": p.at_ms,
            "by": via_view(Some(&p.by)),
        })),
    });
    let last = c.decisions.last().map(
        |d| serde_json::json!({ "operator": d.operator, "at_ms": d.at_ms, "reason": d.reason }),
    );
    templates::page(
        Some(op),
        "duplicate.html",
        context! {
            c => Value::from_serialize(&case),
            a => Value::from_serialize(side_view(a, "a")),
            b => Value::from_serialize(side_view(b, "b")),
            same => pid(a) == pid(b),
            person_rows => Value::from_serialize(compare_rows(&person_fields(a), &person_fields(b))),
            record_rows => Value::from_serialize(compare_rows(&all_fields(a), &all_fields(b))),
            last => Value::from_serialize(&last),
            cluster => Value::from_serialize(cluster),
        },
    )
}

pub async fn duplicate(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let by = format!("operator:{}", op.name);
    let c = ctx.clone();
    let (case, a, b, cluster) = blocking(move || {
        let case = duplicates::get(c.store(), &id)?;
        let a = side(c.store(), &case.id, &case.a)?;
        let b = side(c.store(), &case.id, &case.b)?;
        log_view(&c, &by, &case, [&a, &b])?;
        // The open case's cluster, when it has more than these two records.
        let cluster = if case.status == Status::Open {
            crate::linkage::clusters::list(c.store(), None)?
                .into_iter()
                .find(|cl| cl.size > 2 && cl.cases.iter().any(|x| x.id == case.id))
                .map(|cl| serde_json::json!({"id": cl.id, "size": cl.size}))
        } else {
            None
        };
        Ok((case, a, b, cluster))
    })
    .await?;
    render_case(&op, &case, &a, &b, cluster.as_ref())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    action: String,
    reason: String,
}

/// A refused decision: the message, and the way back to the case.
fn refused(op: &Operator, id: &str, e: WebError) -> Response {
    refused_page(
        op,
        e,
        (
            &format!("/duplicates/{}", url_seg(id)),
            "dash-dup-back-to-case",
        ),
        ("/duplicates", "dash-dups-back"),
    )
}

/// A refused decision of the queue (a pair's or a cluster's): the message, a link back to what
/// was decided (`back`: its address and the words' key) and one to its list. A server error is
/// answered as such.
pub(super) fn refused_page(
    op: &Operator,
    e: WebError,
    back: (&str, &str),
    list: (&str, &str),
) -> Response {
    let status = e.status();
    if status.is_server_error() {
        return e.into_response();
    }
    let page = templates::page(
        Some(op),
        "message.html",
        context! {
            title => lang::text("dash-dup-not-recorded"),
            message => e.to_string(),
            links => vec![
                serde_json::json!({ "href": back.0, "id": "back", "text": lang::text(back.1) }),
                serde_json::json!({ "href": list.0, "text": lang::text(list.1) }),
            ].into_iter().map(Value::from_serialize).collect::<Vec<_>>(),
        },
    );
    match page {
        Ok(p) => (status, p).into_response(),
        Err(e) => e.into_response(),
    }
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
        Err(WebError::BadRequest(lang::text("dash-err-choose-decision")))
    } else if reason.is_empty() {
        Err(WebError::BadRequest(lang::text("dash-err-decision-reason")))
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
                // Two operators deciding one case at the same moment can not both pass the
                // state check: `duplicates` holds its decisions to one at a time
                // (`decide_lock`), whether from here, a cluster page or the command line.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::templates::tests::{assert_clean, render_as_hostile};
    use civreg_shared::i18n::Lang;

    const EVIL: &str = "<script>alert(1)</script>";

    #[test]
    fn duplicate_pages_escape_and_speak_every_language() {
        let side = |label: &str| {
            serde_json::json!({
                "label": label, "mention": EVIL, "regno": EVIL, "kind": EVIL,
                "voided": {"clerk": EVIL, "reason": EVIL}, "role": EVIL, "pid": EVIL,
                "people": [
                    {"role": EVIL, "pid": EVIL, "mention": true, "link": {"clerk": EVIL, "op": EVIL}},
                    {"role": EVIL, "pid": EVIL, "mention": false, "link": null},
                ],
            })
        };
        let row = |diff: bool| CompareRow {
            field: EVIL.into(),
            a: Some(EVIL.into()),
            b: (!diff).then(|| EVIL.to_string()),
            diff,
        };
        for lang in Lang::ALL {
            for status in [
                Status::Open,
                Status::Linked,
                Status::Dismissed,
                Status::Unlinked,
                Status::Withdrawn,
            ] {
                let decisions: Vec<serde_json::Value> = [Status::Open, Status::Linked, Status::Dismissed, Status::Unlinked, Status::Withdrawn]
                    .iter()
                    .zip([Some(serde_json::json!({"kind": "unlink", "id": EVIL})), Some(serde_json::json!({"kind": "case", "id": EVIL})), Some(serde_json::json!({"kind": "cluster", "id": EVIL})), Some(serde_json::json!({"kind": "import", "id": EVIL})), Some(serde_json::json!({"kind": "withdrawn", "id": EVIL}))])
                    .map(|(s, via)| serde_json::json!({"status": s.as_str(), "operator": EVIL, "at_ms": 0, "reason": EVIL, "ops": [EVIL], "via": via}))
                    .collect();
                let case = serde_json::json!({
                    "id": EVIL, "status": status.as_str(), "source": EVIL, "weight": "1.0",
                    "probability": "90.0", "class": EVIL, "filed_ms": 0, "municipalities": EVIL,
                    "decisions": if status == Status::Open { vec![] } else { decisions },
                    "proposed": {"children": [EVIL, EVIL], "operator": EVIL, "at_ms": 0, "by": {"kind": "case", "id": EVIL}},
                });
                for same in [true, false] {
                    let page = render_as_hostile(
                        lang,
                        "duplicate.html",
                        context! {
                            c => Value::from_serialize(&case),
                            a => Value::from_serialize(side("a")),
                            b => Value::from_serialize(side("b")),
                            same => same,
                            person_rows => Value::from_serialize(vec![row(true), row(false)]),
                            record_rows => Value::from_serialize(vec![row(true), row(false)]),
                            last => Value::from_serialize(serde_json::json!({"operator": EVIL, "at_ms": 0, "reason": EVIL})),
                            cluster => Value::from_serialize(serde_json::json!({"id": EVIL, "size": 3})),
                        },
                    );
                    assert_clean(&page, &format!("case {} in {lang}", status.as_str()));
                }
            }
            let c = Case {
                id: EVIL.into(),
                a: EVIL.into(),
                b: EVIL.into(),
                municipalities: vec![EVIL.into()],
                weight: 3.0,
                probability: 0.5,
                class: EVIL.into(),
                source: EVIL.into(),
                filed_ms: 0,
                status: Status::Linked,
                decisions: vec![duplicates::Decision {
                    status: Status::Linked,
                    operator: EVIL.into(),
                    at_ms: 0,
                    reason: EVIL.into(),
                    ops: vec![],
                    via: None,
                }],
                proposed: None,
            };
            for (all, name) in [(false, None), (true, Some(EVIL))] {
                let page = render_as_hostile(
                    lang,
                    "duplicates.html",
                    context! {
                        all => all,
                        name => name,
                        gazetteer => Value::from_serialize(vec![serde_json::json!({"code": EVIL, "name": EVIL, "selected": true})]),
                        list => Value::from_serialize(vec![case_row(&c)]),
                        illegible => Value::from_serialize(crate::linkage::illegible::Waiting {
                            total: 2,
                            entries: vec![crate::linkage::illegible::Illegible {
                                municipality: EVIL.into(),
                                regno: EVIL.into(),
                                role: "child".into(),
                                surname: EVIL.into(),
                                file: EVIL.into(),
                                line: 7,
                                operator: EVIL.into(),
                                at_ms: 0,
                            }],
                        }),
                    },
                );
                assert_clean(&page, &format!("duplicates in {lang}"));
                let empty = render_as_hostile(
                    lang,
                    "duplicates.html",
                    context! { all => all, name => name, gazetteer => Vec::<Value>::new(), list => Vec::<Value>::new() },
                );
                assert_clean(&empty, &format!("no duplicates in {lang}"));
            }
        }
    }
}
