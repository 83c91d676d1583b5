//! Noting an event (a marriage, a death, a divorce) on a birth record: of this municipality from
//! its record page, or of another municipality from a national search answer. The save is
//! `Node::annotate`, the call `civreg-node annotate` makes: an annotation never changes the
//! record's own fields, and the node refuses one on a record the hub is not known to hold.

use super::auth::{see_other, Signed};
use super::forms::parse_date;
use super::pages::page;
use super::{blocking, Context, FormBody, WebError};
use crate::node::{NewAnnotation, NodeError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use civreg_shared::annotation::EVENTS;
use civreg_shared::i18n::{Catalog, Lang};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnnotateQuery {
    done: String,
}

/// What the form shows: the values typed and the problem to fix, if any.
#[derive(Debug, Default, Clone, Serialize)]
struct Typed {
    event: String,
    date: String,
    place: String,
    record: String,
    text: String,
    problem: String,
}

fn events(lang: Lang) -> Vec<(String, String)> {
    EVENTS
        .iter()
        .map(|e| {
            (
                e.to_string(),
                Catalog::get().text(lang, &format!("annotate-event-{e}")),
            )
        })
        .collect()
}

async fn render(
    ctx: Context,
    who: Signed,
    regno: String,
    typed: Typed,
    done: bool,
    status: StatusCode,
) -> Response {
    let mut res = page(
        ctx,
        who,
        "annotate.html",
        "annotate-title",
        move |ctx, who| {
            let here = ctx.node().get(&regno).ok();
            Ok(minijinja::context! {
                regno => regno,
                here => here.is_some(),
                events => events(who.lang),
                typed => minijinja::Value::from_serialize(&typed),
                done => done,
            })
        },
    )
    .await;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// `GET /annotate/{regno}`: the form (or, after a save, what happened).
pub async fn form(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    Query(q): Query<AnnotateQuery>,
) -> Response {
    let regno: String = regno.chars().take(64).collect();
    render(
        ctx,
        who,
        regno,
        Typed::default(),
        !q.done.is_empty(),
        StatusCode::OK,
    )
    .await
}

/// `POST /annotate/{regno}`.
pub async fn save(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let regno: String = regno.chars().take(64).collect();
    let c = Catalog::get();
    let mut typed = Typed {
        event: form.get("event").trim().to_string(),
        date: form.get("date").trim().to_string(),
        place: form.get("place").trim().to_string(),
        record: form.get("record").trim().to_string(),
        text: form.get("text").trim().to_string(),
        problem: String::new(),
    };
    let fail = |mut t: Typed, key: &str| {
        t.problem = c.text(lang, key);
        t
    };
    if !EVENTS.contains(&typed.event.as_str()) {
        let t = fail(typed, "annotate-event-required");
        return render(ctx, who, regno, t, false, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let date = match typed.date.as_str() {
        "" => None,
        d => match parse_date(d) {
            Some(d) => Some(d.format("%Y-%m-%d").to_string()),
            None => {
                let t = fail(typed, "form-date");
                return render(ctx, who, regno, t, false, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let note = NewAnnotation {
        event: typed.event.clone(),
        date,
        place: opt(&typed.place),
        record: opt(&typed.record),
        text: opt(&typed.text),
    };
    let (c2, w2, r2) = (ctx.clone(), who.clone(), regno.clone());
    let outcome = blocking(move || {
        match c2.node().annotate(&w2.clerk(), &r2, &note) {
            Ok(saved) => Ok(Ok(saved.regno)),
            // What the clerk can fix: the problem's own words, in the clerk's language.
            Err(NodeError::Invalid(report)) => Ok(Err(report
                .problems
                .iter()
                .map(|p| c.validation(lang, p.code))
                .collect::<Vec<_>>()
                .join(" "))),
            Err(NodeError::Shape(_)) => Ok(Err(c.text(lang, "annotate-not-known"))),
            Err(NodeError::Id(_)) => Ok(Err(c.text(lang, "annotate-bad-regno"))),
            Err(e) => Err(WebError::Node(e)),
        }
    })
    .await;
    match outcome {
        Ok(Ok(saved)) => {
            tracing::info!(clerk = %who.clerk, regno = %saved, "annotation from the clerk app");
            let held = ctx.node().get(&saved).is_ok();
            if held {
                see_other(&format!("/record/{saved}?annotated=1"))
            } else {
                see_other(&format!("/annotate/{saved}?done=1"))
            }
        }
        Ok(Err(problem)) => {
            typed.problem = problem;
            render(
                ctx,
                who,
                regno,
                typed,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => e.in_lang(lang).into_response(),
    }
}
