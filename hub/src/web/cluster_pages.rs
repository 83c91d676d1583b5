//! The duplicates queue by person in the dashboard: the clusters of open cases
//! ([`crate::linkage::clusters`]), one cluster with every record side by side and the pairwise
//! weights, and one decision for the whole cluster (all one person, or split by group), in the
//! signed-in operator's name, as `civreg-hub duplicates decide-cluster` does.
//!
//! The list names records by number only; a cluster page shows the records, so each view is
//! appended to the access log (`by` = `operator:NAME`, query `cluster ID`) before it is sent. A
//! cluster of more than [`MAX_CLUSTER`] records shows its pairs only, to be decided one by one.

use super::auth::Operator;
use super::fmt::{url_seg, value};
use super::lang;
use super::pages::{record_action, see_other};
use super::templates;
use super::{blocking, Context, WebError};
use crate::linkage::clusters::{self, Choice, Cluster, ClusterDecision, MAX_CLUSTER};
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
}

/// A cluster in the list.
#[derive(Debug, Serialize)]
struct ClusterRow {
    id: String,
    size: usize,
    persons: usize,
    cases: usize,
    strongest: String,
    weakest: String,
    municipalities: String,
    too_large: bool,
}

fn cluster_row(c: &Cluster) -> ClusterRow {
    ClusterRow {
        id: c.id.clone(),
        size: c.size,
        persons: c.nodes.len(),
        cases: c.cases.len(),
        strongest: format!("{:.1}", c.strongest),
        weakest: format!("{:.1}", c.weakest),
        municipalities: c.municipalities.join(", "),
        too_large: c.too_large(),
    }
}

pub async fn clusters(
    State(ctx): State<Context>,
    op: Operator,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let m = q
        .municipality
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    if let Some(code) = &m {
        if civreg_shared::gazetteer::by_code(code).is_none() {
            return Err(WebError::BadRequest(lang::format(
                "dash-err-unknown-municipality",
                &[("code", code.chars().take(40).collect::<String>().into())],
            )));
        }
    }
    let list = blocking(move || Ok(clusters::list(ctx.store(), m.as_deref())?)).await?;
    templates::page(
        Some(&op),
        "clusters.html",
        context! {
            list => Value::from_serialize(list.iter().map(cluster_row).collect::<Vec<_>>()),
            max => MAX_CLUSTER,
        },
    )
}

/// A record of the cluster, as a column of the page.
#[derive(Debug, Serialize)]
struct Column {
    /// 1-based, as the pairs table names it.
    n: usize,
    mention: String,
    regno: String,
    kind: String,
    role: String,
    pid: String,
    voided: bool,
}

/// One field of the principal across the records.
#[derive(Debug, Serialize)]
struct FieldRow {
    field: String,
    values: Vec<Option<String>>,
    diff: bool,
}

#[derive(Debug, Serialize)]
struct PairRow {
    id: String,
    a: usize,
    b: usize,
    weight: String,
    probability: String,
    class: String,
    a_mention: String,
    b_mention: String,
}

#[derive(Debug, Serialize)]
struct DecisionView {
    choice: String,
    operator: String,
    at_ms: u64,
    reason: String,
    groups: Vec<clusters::Group>,
    linked: usize,
    dismissed: usize,
    ops: Vec<String>,
}

fn decision_view(d: &ClusterDecision) -> DecisionView {
    DecisionView {
        choice: d.choice.clone(),
        operator: d.operator.clone(),
        at_ms: d.at_ms,
        reason: d.reason.clone(),
        groups: d.groups.clone(),
        linked: d.linked.len(),
        dismissed: d.dismissed.len(),
        ops: d.ops.iter().map(ToString::to_string).collect(),
    }
}

/// What the page shows of an open cluster: its records (read, and their view logged, only
/// when the cluster is small enough to be decided at once).
struct Shown {
    cluster: Option<Cluster>,
    columns: Vec<Column>,
    rows: Vec<FieldRow>,
    decisions: Vec<ClusterDecision>,
}

fn load(ctx: &Context, by: &str, id: &str) -> Result<Shown, WebError> {
    let store = ctx.store();
    let decisions = clusters::decisions(store, id)?;
    let cluster = match clusters::get(store, id) {
        Ok(c) => Some(c),
        Err(crate::linkage::duplicates::DuplicateError::NoCluster(_)) if !decisions.is_empty() => {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let (mut columns, mut rows) = (Vec::new(), Vec::new());
    if let Some(cl) = cluster.as_ref().filter(|c| !c.too_large()) {
        let mut fields: Vec<BTreeMap<String, serde_json::Value>> = Vec::new();
        for (i, m) in cl.mentions().enumerate() {
            let (regno, role) = m.rsplit_once('/').ok_or_else(|| {
                WebError::Internal(format!("cluster {} names {m:?}, not REGNO/ROLE", cl.id))
            })?;
            let rec = store.record(regno)?.ok_or_else(|| {
                WebError::NotFound(format!(
                    "cluster {} names record {regno}, which this hub does not hold",
                    cl.id
                ))
            })?;
            let persons = crate::linkage::persons::persons_of_record(store, regno)?;
            let prefix = format!("{role}.");
            fields.push(
                rec.fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
                    .collect(),
            );
            columns.push(Column {
                n: i + 1,
                mention: m.clone(),
                regno: regno.to_string(),
                kind: rec.kind.as_str().to_string(),
                role: role.to_string(),
                pid: persons.get(role).cloned().unwrap_or_default(),
                voided: rec.voided.is_some(),
            });
        }
        let keys: BTreeSet<&String> = fields.iter().flat_map(|f| f.keys()).collect();
        for k in keys {
            let vals: Vec<Option<&serde_json::Value>> = fields.iter().map(|f| f.get(k)).collect();
            let diff = vals.iter().any(|v| *v != vals[0]);
            rows.push(FieldRow {
                field: k.clone(),
                values: vals.iter().map(|v| v.map(value)).collect(),
                diff,
            });
        }
        let records: Vec<String> = columns
            .iter()
            .map(|c| c.regno.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let log = crate::access::AccessLog::open(ctx.data_dir()).map_err(WebError::AccessLog)?;
        log.append(&crate::access::Entry {
            at_ms: crate::access::now_ms(),
            by: by.to_string(),
            clerk: String::new(),
            action: "view".into(),
            query: format!("cluster {}", cl.id),
            records,
        })
        .map_err(WebError::AccessLog)?;
    }
    Ok(Shown {
        cluster,
        columns,
        rows,
        decisions,
    })
}

fn pair_rows(cl: &Cluster) -> Vec<PairRow> {
    let n_of: BTreeMap<&String, usize> =
        cl.mentions().enumerate().map(|(i, m)| (m, i + 1)).collect();
    cl.cases
        .iter()
        .map(|c| PairRow {
            id: c.id.clone(),
            a: n_of.get(&c.a).copied().unwrap_or(0),
            b: n_of.get(&c.b).copied().unwrap_or(0),
            weight: format!("{:.1}", c.weight),
            probability: format!("{:.1}", c.probability * 100.0),
            class: c.class.clone(),
            a_mention: c.a.clone(),
            b_mention: c.b.clone(),
        })
        .collect()
}

fn render(op: &Operator, id: &str, s: &Shown) -> Result<Html<String>, WebError> {
    let cl = s.cluster.as_ref().map(|c| {
        serde_json::json!({
            "id": c.id,
            "version": c.version,
            "row": cluster_row(c),
        })
    });
    templates::page(
        Some(op),
        "cluster.html",
        context! {
            id => id,
            cl => Value::from_serialize(&cl),
            columns => Value::from_serialize(&s.columns),
            rows => Value::from_serialize(&s.rows),
            pairs => Value::from_serialize(s.cluster.as_ref().map(pair_rows).unwrap_or_default()),
            groups => (1..=s.cluster.as_ref().map_or(0, |c| c.nodes.len())).collect::<Vec<_>>(),
            decisions => Value::from_serialize(s.decisions.iter().map(decision_view).collect::<Vec<_>>()),
            max => MAX_CLUSTER,
        },
    )
}

pub async fn cluster(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let by = format!("operator:{}", op.name);
    let (c, i) = (ctx.clone(), id.clone());
    let shown = blocking(move || load(&c, &by, &i)).await?;
    render(&op, id.trim(), &shown)
}

/// A refused decision: the message, and the way back to the cluster.
fn refused(op: &Operator, id: &str, e: WebError) -> Response {
    super::duplicate_pages::refused_page(
        op,
        e,
        (
            &format!("/clusters/{}", url_seg(id)),
            "dash-cl-back-to-cluster",
        ),
        ("/clusters", "dash-cl-back"),
    )
}

/// The form's fields: `csrf`, `action` (`one` or `split`), `reason`, `version`, and
/// `g:MENTION` = a group number for each record.
pub async fn decide(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if let Err(e) = op.check_csrf(&get("csrf")) {
        return e.into_response();
    }
    let (action, reason, version) = (get("action"), get("reason"), get("version"));
    let groups: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("g:")?.to_string(), v.clone())))
        .take(4 * MAX_CLUSTER)
        .collect();
    let choice = match action.as_str() {
        "one" => Ok(Choice::One),
        "split" => Ok(Choice::Split(groups.clone())),
        _ => Err(WebError::BadRequest(lang::text(
            "dash-err-choose-cluster-decision",
        ))),
    };
    let result = match choice {
        Err(e) => Err(e),
        Ok(_) if reason.is_empty() => {
            Err(WebError::BadRequest(lang::text("dash-err-decision-reason")))
        }
        Ok(choice) => {
            let (c, cid, r, operator, v) = (
                ctx.clone(),
                id.clone(),
                reason.clone(),
                op.name.clone(),
                version.clone(),
            );
            blocking(move || {
                let v = Some(v).filter(|v| !v.is_empty());
                Ok(clusters::decide(
                    c.store(),
                    &cid,
                    v.as_deref(),
                    &choice,
                    &operator,
                    &r,
                )?)
            })
            .await
        }
    };
    match result {
        Ok(d) => {
            record_action(
                &ctx,
                &op.name,
                "cluster",
                true,
                serde_json::json!({
                    "cluster": id, "decision": action, "reason": reason,
                    "groups": d.groups.iter().map(|g| &g.mentions).collect::<Vec<_>>(),
                    "linked": d.linked, "dismissed": d.dismissed,
                    "ops": d.ops.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            );
            see_other(&format!("/clusters/{}", url_seg(&d.cluster)))
        }
        Err(e) => {
            record_action(
                &ctx,
                &op.name,
                "cluster",
                false,
                serde_json::json!({"cluster": id, "decision": action, "reason": reason, "error": e.to_string()}),
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
    fn cluster_pages_escape_and_speak_every_language() {
        let col = |n: usize| Column {
            n,
            mention: EVIL.into(),
            regno: EVIL.into(),
            kind: EVIL.into(),
            role: EVIL.into(),
            pid: EVIL.into(),
            voided: n == 2,
        };
        let row = FieldRow {
            field: EVIL.into(),
            values: vec![Some(EVIL.into()), None],
            diff: true,
        };
        let pair = PairRow {
            id: EVIL.into(),
            a: 1,
            b: 2,
            weight: EVIL.into(),
            probability: EVIL.into(),
            class: EVIL.into(),
            a_mention: EVIL.into(),
            b_mention: EVIL.into(),
        };
        let decision = |choice: &str| DecisionView {
            choice: choice.into(),
            operator: EVIL.into(),
            at_ms: 0,
            reason: EVIL.into(),
            groups: vec![clusters::Group {
                mentions: vec![EVIL.into()],
                person: EVIL.into(),
            }],
            linked: 3,
            dismissed: 1,
            ops: vec![EVIL.into()],
        };
        let summary = ClusterRow {
            id: EVIL.into(),
            size: 6,
            persons: 6,
            cases: 15,
            strongest: EVIL.into(),
            weakest: EVIL.into(),
            municipalities: EVIL.into(),
            too_large: false,
        };
        for lang in Lang::ALL {
            for (open, too_large) in [(true, false), (true, true), (false, false)] {
                let mut r = serde_json::to_value(&summary).unwrap();
                r["too_large"] = serde_json::json!(too_large);
                let cl = open.then(|| serde_json::json!({"id": EVIL, "version": EVIL, "row": r}));
                let page = render_as_hostile(
                    lang,
                    "cluster.html",
                    context! {
                        id => EVIL,
                        cl => Value::from_serialize(&cl),
                        columns => Value::from_serialize(if too_large { vec![] } else { vec![col(1), col(2)] }),
                        rows => Value::from_serialize(vec![&row]),
                        pairs => Value::from_serialize(vec![&pair]),
                        groups => vec![1, 2],
                        decisions => Value::from_serialize(vec![decision("one"), decision("split")]),
                        max => MAX_CLUSTER,
                    },
                );
                assert_clean(&page, &format!("cluster in {lang}"));
            }
            for list in [vec![], vec![&summary]] {
                let page = render_as_hostile(
                    lang,
                    "clusters.html",
                    context! { list => Value::from_serialize(&list), max => MAX_CLUSTER },
                );
                assert_clean(&page, &format!("clusters in {lang}"));
            }
        }
    }
}
