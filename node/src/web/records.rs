//! Registering, showing, amending and voiding records. Every save is the node's own call
//! (`Node::register`, `Node::amend`, `Node::void`), the one the command line makes.

use super::auth::{see_other, Signed};
use super::forms;
use super::pages::{frame, page, places};
use super::{blocking, templates, Context, FormBody, FormState, WebError};
use crate::node::NodeError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::fields::{self, FieldMap};
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::model::RecordKind;
use civreg_shared::validate::{self, Problem};
use minijinja::value::Value;
use serde::Serialize;
use std::collections::BTreeMap;

fn kind_of(s: &str, lang: Lang) -> Result<RecordKind, super::Failure> {
    match s {
        "birth" => Ok(RecordKind::Birth),
        "marriage" => Ok(RecordKind::Marriage),
        "death" => Ok(RecordKind::Death),
        other => Err(WebError::NotFound(other.chars().take(40).collect()).in_lang(lang)),
    }
}

fn heading_key(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Birth => "nav-register-birth",
        RecordKind::Marriage => "nav-register-marriage",
        RecordKind::Death => "nav-register-death",
    }
}

/// Everything a form page shows besides the frame.
#[derive(Default)]
struct FormPage {
    heading: String,
    action: String,
    values: BTreeMap<String, String>,
    problems: Vec<Problem>,
    form_id: String,
    version: String,
    with_reason: bool,
    reason: String,
    reason_problem: String,
    stale: String,
    already: String,
    /// Records that look like the one being saved (the duplicate check), beside what was typed.
    dupes: Option<super::dupes::Found>,
    /// The warnings were confirmed already (kept through the duplicate check).
    confirmed: bool,
}

fn form_value(kind: RecordKind, lang: Lang, p: FormPage) -> Value {
    let (sections, general) = forms::view(
        lang,
        kind,
        |path| p.values.get(path).cloned().unwrap_or_default(),
        &p.problems,
    );
    let has_errors = p
        .problems
        .iter()
        .any(|x| x.severity == validate::Severity::Error);
    let has_warnings = p
        .problems
        .iter()
        .any(|x| x.severity == validate::Severity::Warning);
    minijinja::context! {
        heading => p.heading,
        action => p.action,
        sections => Value::from_serialize(&sections),
        general => Value::from_serialize(&general),
        has_errors => has_errors,
        has_warnings => has_warnings,
        form_id => p.form_id,
        version => p.version,
        with_reason => p.with_reason,
        reason => p.reason,
        reason_problem => p.reason_problem,
        stale => p.stale,
        already => p.already,
        dupes_shown => p.dupes.as_ref().map(super::dupes::Found::shown),
        dupes => p.dupes.map(|a| Value::from_serialize(&a)),
        confirmed => p.confirmed,
        places => places(),
    }
}

fn new_form_id() -> Result<String, WebError> {
    civreg_shared::webguard::random_token().map_err(|e| WebError::Internal(e.to_string()))
}

async fn render_form(
    ctx: Context,
    who: Signed,
    kind: RecordKind,
    status: StatusCode,
    p: FormPage,
) -> Response {
    let lang = who.lang;
    let res = blocking(move || {
        let title = p.heading.clone();
        let own = form_value(kind, who.lang, p);
        let full = frame(&ctx, &who, &title, own)?;
        templates::render("form.html", full)
    })
    .await;
    match res {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// `GET /register/{kind}`: an empty form.
pub async fn register_form(
    State(ctx): State<Context>,
    who: Signed,
    Path(kind): Path<String>,
) -> Response {
    let kind = match kind_of(&kind, who.lang) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let form_id = match new_form_id() {
        Ok(id) => id,
        Err(e) => return e.in_lang(who.lang).into_response(),
    };
    let p = FormPage {
        heading: Catalog::get().text(who.lang, heading_key(kind)),
        action: format!("/register/{}", kind.as_str()),
        form_id,
        ..Default::default()
    };
    render_form(ctx, who, kind, StatusCode::OK, p).await
}

/// The typed values of a posted form, to show again (nothing typed is lost).
fn typed(form: &FormBody) -> BTreeMap<String, String> {
    form.pairs()
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Why a registration was not saved yet.
enum Stop {
    /// Problems to show by their fields.
    Problems(Vec<Problem>),
    /// Records that look like this one: the clerk decides (`dupes`).
    Dupes(super::dupes::Found),
    /// The form is being saved by another request, or was saved.
    Claimed(FormState),
}

/// Registers as [`crate::node::Node::register_noted`] does, and marks form `form_id` saved in
/// the same write (see [`super::remember_form`]).
fn register_once(
    node: &crate::node::Node,
    clerk: &crate::node::Clerk,
    kind: RecordKind,
    doc: serde_json::Value,
    note: &str,
    form_id: &str,
) -> Result<crate::node::Saved, NodeError> {
    let checked = crate::node::Checked::new(node.prepare(kind, doc)?)?;
    node.write(|tx| {
        let saved = tx.create_noted(clerk, checked, note)?;
        super::remember_form(
            node,
            tx,
            form_id,
            &saved.regno,
            civreg_runtime::clock::now_ms(),
        )?;
        Ok(saved)
    })
}

/// The outcome of checking a form before saving.
enum Checked {
    /// Ready to save: the record document.
    Ready(serde_json::Value),
    /// Problems to show (errors, or warnings not yet confirmed).
    Problems(Vec<Problem>),
}

/// Turns the form into the record document and validates it with the shared validation (the
/// node validates again when it saves: this is only to show problems by their fields and to
/// ask for warnings to be confirmed).
fn check(ctx: &Context, kind: RecordKind, form: &FormBody) -> Result<Checked, WebError> {
    let (doc, mut problems) = forms::document(kind, |p| form.get(p).to_string());
    let report = match ctx.node().prepare(kind, doc.clone()) {
        Ok(record) => validate::validate(&record, crate::node::today()),
        // A field the form could not read is missing from the document: its problem says so.
        Err(NodeError::Shape(_)) if !problems.is_empty() => validate::Report::default(),
        Err(NodeError::Shape(detail)) => {
            return Ok(Checked::Problems(vec![Problem {
                field: "record".into(),
                severity: validate::Severity::Error,
                code: "record.shape",
                message: detail,
            }]))
        }
        Err(e) => return Err(e.into()),
    };
    // A field the form could not read has that problem only (not also "required").
    let unread: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
    problems.extend(
        report
            .problems
            .into_iter()
            .filter(|p| !unread.contains(&p.field)),
    );
    let confirmed = form.get("_confirm") == "1";
    let errors = problems
        .iter()
        .any(|p| p.severity == validate::Severity::Error);
    if errors || (!confirmed && !problems.is_empty()) {
        return Ok(Checked::Problems(problems));
    }
    Ok(Checked::Ready(doc))
}

/// `POST /register/{kind}`.
pub async fn register(
    State(ctx): State<Context>,
    who: Signed,
    Path(kind): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    let kind = match kind_of(&kind, lang) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let c = Catalog::get();
    let form_id = form.get("_form").to_string();
    if form_id.len() != 64 || !form_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return WebError::BadRequest("the form has no valid id: open the form again".into())
            .in_lang(lang)
            .into_response();
    }
    let base = FormPage {
        heading: c.text(lang, heading_key(kind)),
        action: format!("/register/{}", kind.as_str()),
        values: typed(&form),
        form_id: form_id.clone(),
        ..Default::default()
    };
    let (c2, w2, f2, id2) = (ctx.clone(), who.clone(), form.clone(), form_id.clone());
    let outcome = blocking(move || {
        // A form posted again (a double click, a reload, a post again after a restart) is not
        // registered twice: claimed here, released once its save is on disk (or failed).
        let claim = c2.forms().claim(c2.node(), &id2)?;
        if let Err(state) = claim {
            return Ok(Err(Stop::Claimed(state)));
        }
        let res = (|| {
            let doc = match check(&c2, kind, &f2)? {
                Checked::Ready(doc) => doc,
                Checked::Problems(p) => return Ok(Err(Stop::Problems(p))),
            };
            // Before a birth or death is saved: is this person registered already?
            if !super::dupes::confirmed_new(&f2) {
                if let Some(found) = super::dupes::candidates(&c2, &w2, kind, &doc) {
                    return Ok(Err(Stop::Dupes(found)));
                }
            }
            // The command line's own call (`Node::register_noted`: same op, checks, guard and
            // log; the clerk's decision over the candidates shown kept in the op's reason),
            // with the form marked saved in the same atomic write.
            match register_once(
                c2.node(),
                &w2.clerk(),
                kind,
                doc,
                &super::dupes::note(&f2),
                &id2,
            ) {
                Ok(saved) => Ok(Ok(saved)),
                Err(NodeError::Invalid(report)) => Ok(Err(Stop::Problems(report.problems))),
                Err(e) => Err(WebError::Node(e)),
            }
        })();
        c2.forms().release(&id2);
        res
    })
    .await;
    match outcome {
        Ok(Ok(saved)) => {
            tracing::info!(clerk = %who.clerk, regno = %saved.regno, "registered from the clerk app");
            see_other(&format!("/record/{}?saved=1", saved.regno))
        }
        Ok(Err(Stop::Problems(problems))) => {
            let p = FormPage { problems, ..base };
            render_form(ctx, who, kind, StatusCode::UNPROCESSABLE_ENTITY, p).await
        }
        Ok(Err(Stop::Claimed(FormState::Saved(regno)))) => {
            see_other(&format!("/record/{regno}?again=1"))
        }
        Ok(Err(Stop::Claimed(FormState::Pending))) => {
            let p = FormPage {
                already: c.format(lang, "form-already-saved", &[("regno", "…".into())]),
                ..base
            };
            render_form(ctx, who, kind, StatusCode::CONFLICT, p).await
        }
        Ok(Err(Stop::Dupes(found))) => {
            let p = FormPage {
                dupes: Some(found),
                confirmed: form.get("_confirm") == "1",
                ..base
            };
            render_form(ctx, who, kind, StatusCode::CONFLICT, p).await
        }
        Err(e) => e.in_lang(lang).into_response(),
    }
}

// ---- the record page ---------------------------------------------------------------------

#[derive(Serialize)]
struct FieldRow {
    path: String,
    label: String,
    value: String,
}

#[derive(Serialize)]
struct ChangeRow {
    label: String,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct VersionRow {
    version: usize,
    change_text: String,
    when: String,
    clerk: String,
    /// The reason as shown: a duplicate check in the clerk's language, else as written.
    reason_text: String,
    changes: Vec<ChangeRow>,
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn label(lang: Lang, kind: RecordKind, path: &str) -> String {
    match forms::label_of(kind, path) {
        Some(key) => {
            // The person the field belongs to, for names that repeat (given name of whom).
            let group = path.split('.').next().unwrap_or_default();
            let section = forms::sections(kind)
                .iter()
                .find(|s| s.id == group)
                .map(|s| Catalog::get().text(lang, s.label));
            match section {
                Some(s) if path.contains('.') => {
                    format!("{s}: {}", Catalog::get().text(lang, key))
                }
                _ => Catalog::get().text(lang, key),
            }
        }
        None => path.to_string(),
    }
}

/// A record's version: its number of ops, which changes whenever anything (here or pulled)
/// changes the record. A form carries the version it was opened at.
fn version_of(st: &crate::node::RecordState) -> String {
    st.ops.len().to_string()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RecordQuery {
    saved: String,
    again: String,
    amended: String,
    voided: String,
    annotated: String,
    unvoid: String,
}

/// `GET /record/{regno}`: every field, the history, the sync state, amend and void.
pub async fn record(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    axum::extract::Query(q): axum::extract::Query<RecordQuery>,
) -> Response {
    page(ctx, who, "record.html", "record-history", move |ctx, who| {
        let lang = who.lang;
        let c = Catalog::get();
        let node = ctx.node();
        let st = node.get(&regno)?;
        node.log_access(&who.clerk, "view", "", std::slice::from_ref(&st.regno))?;
        let fields: Vec<FieldRow> = st
            .fields
            .iter()
            .map(|(p, v)| FieldRow {
                path: p.clone(),
                label: label(lang, st.kind, p),
                value: show(v),
            })
            .collect();
        let history: Vec<VersionRow> = node
            .history(&st.regno)?
            .into_iter()
            .map(|v| {
                let change = serde_json::to_value(v.change)
                    .ok()
                    .and_then(|c| c.as_str().map(String::from))
                    .unwrap_or_default();
                VersionRow {
                    version: v.version,
                    change_text: c.text(lang, &format!("record-change-{change}")),
                    when: super::status::when(v.at_ms),
                    clerk: v.clerk,
                    reason_text: if v.reason.is_empty() {
                        String::new()
                    } else {
                        super::dupes::history_text(lang, &v.reason)
                    },
                    changes: v
                        .changes
                        .iter()
                        .map(|(p, before, after)| ChangeRow {
                            label: label(lang, st.kind, p),
                            before: show(before),
                            after: show(after),
                        })
                        .collect(),
                }
            })
            .collect();
        // Saved here until the hub holds every op this office made on the record.
        let acked = node.hub_acked()?;
        let own = node.identity();
        let waiting = st.ops.iter().any(|id| {
            id.municipality == own.municipality && id.node_id == own.node_id && id.seq > acked
        });
        let notice = if !q.again.is_empty() {
            c.format(lang, "form-already-saved", &[("regno", st.regno.as_str().into())])
        } else if !q.saved.is_empty() {
            c.format(lang, "saved", &[("regno", st.regno.as_str().into())])
        } else if !q.amended.is_empty() {
            c.text(lang, "amended")
        } else if !q.voided.is_empty() {
            c.text(lang, "voided")
        } else if !q.annotated.is_empty() {
            c.text(lang, "annotated")
        } else if !q.unvoid.is_empty() {
            c.text(lang, "unvoid-asked")
        } else {
            String::new()
        };
        let (can_sign, printed) = super::certify::section(ctx, lang, &st.regno)?;
        // A voided record: the clerk's un-void request and the agency's answer, or the form.
        let unvoid = if st.voided.is_some() {
            node.unvoid_request(&st.regno)?
        } else {
            None
        };
        let unvoid_state = unvoid.as_ref().map(|r| r.state.clone()).unwrap_or_default();
        Ok(minijinja::context! {
            unvoid_text => unvoid.as_ref().map(|r| crate::clitext::unvoid_text(lang, r)),
            unvoid_state => unvoid_state.clone(),
            unvoid_class => match unvoid_state.as_str() {
                "granted" => "ok",
                "refused" | "invalid" => "bad",
                _ => "warn",
            },
            unvoid_open => st.voided.is_some() && unvoid.as_ref().is_none_or(|r| r.answered()),
            unvoid_max => civreg_shared::limits::MAX_UNVOID_REASON_CHARS,
            can_sign => can_sign,
            is_birth => st.kind == RecordKind::Birth,
            printed => Value::from_serialize(&printed),
            cert_langs => super::certify::CERT_LANGS,
            cert_lang => match lang {
                Lang::Sq => "sq",
                Lang::En => "en",
                _ => "sr",
            },
            id_documents => super::certify::ID_DOCUMENTS,
            regno => st.regno.clone(),
            kind_text => c.text(lang, &format!("kind-{}", st.kind.as_str())),
            notice => notice,
            void_reason => st.voided.as_ref().map(|v| v.reason.clone()),
            sync_class => if waiting { "here" } else { "hub" },
            sync_text => c.text(lang, if waiting { "record-sync-here" } else { "record-sync-hub" }),
            conflicts => st.open_conflicts().count(),
            fields => Value::from_serialize(&fields),
            history => Value::from_serialize(&history),
            version => version_of(&st),
        })
    })
    .await
}

// ---- amend and void ----------------------------------------------------------------------

/// `GET /record/{regno}/amend`: the record's form, prefilled.
pub async fn amend_form(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
) -> Response {
    let lang = who.lang;
    let c2 = ctx.clone();
    let st = match blocking(move || Ok(c2.node().get(&regno)?)).await {
        Ok(st) => st,
        Err(e) => return e.in_lang(lang).into_response(),
    };
    let own = civreg_shared::annotation::record_fields(&st.fields);
    let p = FormPage {
        heading: Catalog::get().format(lang, "amend-title", &[("regno", st.regno.as_str().into())]),
        action: format!("/record/{}/amend", st.regno),
        values: forms::values_of(&own),
        form_id: "0".repeat(64),
        version: version_of(&st),
        with_reason: true,
        ..Default::default()
    };
    render_form(ctx, who, st.kind, StatusCode::OK, p).await
}

/// The changes that turn `old` (the record's own fields) into the record of `doc`: changed and
/// new paths with their values, and, as null, the fields of the form the clerk emptied (a field
/// no form shows is left as it is).
fn changes(
    kind: RecordKind,
    old: &FieldMap,
    doc: &serde_json::Value,
) -> Result<serde_json::Value, WebError> {
    let mut new = fields::flatten(doc).map_err(|e| WebError::BadRequest(e.to_string()))?;
    new.remove("municipality");
    let mut out = serde_json::Map::new();
    for (k, v) in &new {
        if old.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in old.keys() {
        if forms::label_of(kind, k).is_some() && !new.contains_key(k) {
            out.insert(k.clone(), serde_json::Value::Null);
        }
    }
    Ok(serde_json::Value::Object(out))
}

/// `POST /record/{regno}/amend`: refused with a clear message if the record changed since the
/// form was opened (never a silent overwrite); a reason is required.
pub async fn amend(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let c = Catalog::get();
    let (c2, r2) = (ctx.clone(), regno.clone());
    let st = match blocking(move || Ok(c2.node().get(&r2)?)).await {
        Ok(st) => st,
        Err(e) => return e.in_lang(lang).into_response(),
    };
    let kind = st.kind;
    let reason = form.get("_reason").to_string();
    let mut p = FormPage {
        heading: c.format(lang, "amend-title", &[("regno", st.regno.as_str().into())]),
        action: format!("/record/{}/amend", st.regno),
        values: typed(&form),
        form_id: "0".repeat(64),
        version: form.get("_version").to_string(),
        with_reason: true,
        reason: reason.clone(),
        ..Default::default()
    };
    if form.get("_version") != version_of(&st) {
        p.stale = c.format(lang, "form-stale", &[("version", st.ops.len().into())]);
        p.version = version_of(&st);
        return render_form(ctx, who, kind, StatusCode::CONFLICT, p).await;
    }
    if reason.is_empty() {
        p.reason_problem = c.text(lang, "form-reason-required");
        return render_form(ctx, who, kind, StatusCode::UNPROCESSABLE_ENTITY, p).await;
    }
    let (c2, w2, f2) = (ctx.clone(), who.clone(), form.clone());
    let outcome = blocking(move || {
        let doc = match check(&c2, kind, &f2)? {
            Checked::Ready(doc) => doc,
            Checked::Problems(p) => return Ok(Err(p)),
        };
        let own = civreg_shared::annotation::record_fields(&st.fields);
        let changes = changes(kind, &own, &doc)?;
        match c2.node().amend(&w2.clerk(), &st.regno, &changes, &reason) {
            Ok(saved) => Ok(Ok(saved.regno)),
            Err(NodeError::Invalid(report)) => Ok(Err(report.problems)),
            Err(NodeError::NoChange(_)) => Ok(Err(vec![Problem {
                field: "record".into(),
                severity: validate::Severity::Error,
                code: "op.changes",
                message: String::new(),
            }])),
            Err(e) => Err(WebError::Node(e)),
        }
    })
    .await;
    match outcome {
        Ok(Ok(regno)) => see_other(&format!("/record/{regno}?amended=1")),
        Ok(Err(problems)) => {
            p.problems = problems;
            render_form(ctx, who, kind, StatusCode::UNPROCESSABLE_ENTITY, p).await
        }
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// `POST /record/{regno}/void`: a reason is required; refused if the record changed since
/// its page was opened.
pub async fn void(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let c = Catalog::get();
    let reason = form.get("_reason").to_string();
    let version = form.get("_version").to_string();
    let (c2, w2) = (ctx.clone(), who.clone());
    let outcome = blocking(move || {
        let st = c2.node().get(&regno)?;
        if version != version_of(&st) {
            return Ok(Err(c.format(
                lang,
                "form-stale",
                &[("version", st.ops.len().into())],
            )));
        }
        if reason.is_empty() {
            return Ok(Err(c.text(lang, "form-reason-required")));
        }
        let saved = c2.node().void(&w2.clerk(), &st.regno, &reason)?;
        Ok(Ok(saved.regno))
    })
    .await;
    match outcome {
        Ok(Ok(regno)) => see_other(&format!("/record/{regno}?voided=1")),
        Ok(Err(message)) => (
            StatusCode::CONFLICT,
            Html(templates::error_page(lang, &message)),
        )
            .into_response(),
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// `POST /record/{regno}/unvoid`: asks the agency to un-void a voided record; a reason is
/// required (the node's checks, in the clerk's language, refuse anything else).
pub async fn unvoid(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let reason = form.get("_reason").to_string();
    let (c2, w2) = (ctx.clone(), who.clone());
    let outcome = blocking(
        move || match c2.node().request_unvoid(&w2.clerk(), &regno, &reason) {
            Ok(r) => Ok(Ok(r.regno)),
            Err(crate::node::NodeError::Unvoid(u)) => {
                Ok(Err(crate::clitext::unvoid_refused_text(lang, &u)))
            }
            Err(e) => Err(WebError::Node(e)),
        },
    )
    .await;
    match outcome {
        Ok(Ok(regno)) => see_other(&format!("/record/{regno}?unvoid=1")),
        Ok(Err(message)) => (
            StatusCode::CONFLICT,
            Html(templates::error_page(lang, &message)),
        )
            .into_response(),
        Err(e) => e.in_lang(lang).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{remember_form, saved_form, FormLedger, FormState, FORMS_KEPT};
    use super::*;
    use crate::node::Node;
    use crate::store::Tree;

    fn birth() -> serde_json::Value {
        serde_json::json!({
            "child": {"given_name": "Arben", "surname": "Gashi", "sex": "male", "date_of_birth": "1968-03-14"},
            "place_of_birth": "Prizren",
            "mother": {"given_name": "Drita", "surname": "Gashi"}
        })
    }

    /// Issue 14: the saved form is in the store, written with the record: a new ledger (as
    /// after a restart) over the same store answers with the record, not a second save.
    #[test]
    fn a_saved_form_is_known_after_a_restart_and_forgotten_after_a_week() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("drita");
        let id = "ab".repeat(32);
        let mut ledger = FormLedger::default();
        assert_eq!(ledger.claim(&node, &id).unwrap(), Ok(()));
        assert_eq!(ledger.claim(&node, &id).unwrap(), Err(FormState::Pending));
        let saved = register_once(&node, &clerk, RecordKind::Birth, birth(), "", &id).unwrap();
        ledger.release(&id);
        let mut restarted = FormLedger::default();
        assert_eq!(
            restarted.claim(&node, &id).unwrap(),
            Err(FormState::Saved(saved.regno.clone()))
        );
        // A failed save marks nothing: the form may be posted again.
        let other = "cd".repeat(32);
        let mut bad = birth();
        bad["child"]["date_of_birth"] = "2999-01-01".into();
        assert!(register_once(&node, &clerk, RecordKind::Birth, bad, "", &other).is_err());
        assert_eq!(saved_form(&node, &other).unwrap(), None);
        assert_eq!(node.record_count().unwrap(), 1);

        // A form saved more than a week ago is forgotten by a later save.
        let now = civreg_runtime::clock::now_ms();
        let week = FORMS_KEPT.as_millis() as u64;
        let old = "ef".repeat(32);
        node.write(|tx| remember_form(&node, tx, &old, "OLD", now - week - 1000))
            .unwrap();
        assert_eq!(saved_form(&node, &old).unwrap().as_deref(), Some("OLD"));
        let newer = "01".repeat(32);
        register_once(&node, &clerk, RecordKind::Birth, birth(), "", &newer).unwrap();
        assert_eq!(saved_form(&node, &old).unwrap(), None);
        assert_eq!(
            saved_form(&node, &id).unwrap(),
            Some(saved.regno),
            "a form of today is kept"
        );
        // Two entries (the form and its age) per form kept.
        assert_eq!(node.store().len(Tree::Forms).unwrap(), 4);
    }
}
