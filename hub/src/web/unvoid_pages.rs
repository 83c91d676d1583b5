//! Clerks' un-void requests in the dashboard (issue 17): `/unvoid` lists the requests waiting
//! for an answer (office, record number, the clerk and their reason, how long ago they asked)
//! with a form each to grant or refuse, and the requests answered in the last
//! [`ANSWERED_DAYS`] days; `POST /unvoid/{id}/answer` answers one through
//! [`crate::unvoid::answer`], the function `civreg-hub unvoid-request grant|refuse` reaches
//! through the control socket, in the signed-in operator's name.
//!
//! The list names records and clerks, so its view is appended to the access log (`by` =
//! `operator:NAME`, query `un-void requests`, like `civreg-hub unvoid-requests`) before the
//! page is sent; an answer is in the access log as from the command line, and in the
//! operator actions trail (`audit`). A reason is required (the office reads it). What is read
//! is bounded: at most [`MAX_PENDING`] waiting requests and [`MAX_ANSWERED`] answers are
//! shown, found through the requests' index, never by decoding every request.

use super::auth::Operator;
use super::fmt::url_seg;
use super::lang;
use super::pages::{record_action, see_other};
use super::templates;
use super::{blocking, Context, WebError};
use crate::unvoid::{self, Request};
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Value;
use serde::{Deserialize, Serialize};

/// Answers shown: those of the last this many days.
pub const ANSWERED_DAYS: u64 = 14;
/// At most this many waiting requests are shown at once (the page says how many wait in all).
pub const MAX_PENDING: usize = 200;
/// At most this many recent answers are shown.
pub const MAX_ANSWERED: usize = 50;

/// A request as the page shows it.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    state: &'static str,
    office: String,
    municipality: String,
    regno: String,
    clerk: String,
    reason: String,
    /// When the clerk asked (the office's clock), and how long ago the hub heard it (seconds).
    at_ms: u64,
    age_s: u64,
    operator: String,
    answer: String,
    answered_ms: u64,
}

fn row(r: &Request, now_ms: u64) -> Row {
    let municipality = civreg_shared::gazetteer::by_code(&r.municipality)
        .map(|g| super::fmt::municipality_name(lang::current(), g).to_string())
        .unwrap_or_else(|| r.municipality.clone());
    Row {
        id: r.id.clone(),
        state: r.state(),
        office: r.office.clone(),
        municipality,
        regno: r.regno.clone(),
        clerk: r.clerk.clone(),
        reason: r.reason.clone(),
        at_ms: r.at_ms,
        age_s: now_ms.saturating_sub(r.received_ms) / 1000,
        operator: r
            .answer
            .as_ref()
            .map(|a| a.operator.clone())
            .unwrap_or_default(),
        answer: r
            .answer
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        answered_ms: r.answer.as_ref().map_or(0, |a| a.at_ms),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// The request just answered (the page says so).
    done: Option<String>,
}

pub async fn list(
    State(ctx): State<Context>,
    op: Operator,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let by = format!("operator:{}", op.name);
    let c = ctx.clone();
    let now = super::model::now_ms();
    let (pending, total, answered) = blocking(move || {
        let (pending, total) = unvoid::pending(c.store(), MAX_PENDING)?;
        let since = now.saturating_sub(ANSWERED_DAYS * 86_400_000);
        let answered = unvoid::answered_since(c.store(), since, MAX_ANSWERED)?;
        let mut records: Vec<String> = pending
            .iter()
            .chain(&answered)
            .map(|r| r.regno.clone())
            .collect();
        records.sort();
        records.dedup();
        if !records.is_empty() {
            let log = crate::access::AccessLog::open(c.data_dir()).map_err(WebError::AccessLog)?;
            log.append(&crate::access::Entry {
                at_ms: crate::access::now_ms(),
                by,
                clerk: String::new(),
                action: "view".into(),
                query: "un-void requests".into(),
                records,
            })
            .map_err(WebError::AccessLog)?;
        }
        Ok((pending, total, answered))
    })
    .await?;
    // Only an id the page can name: 32 hex digits.
    let done = q
        .done
        .filter(|d| d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|d| answered.iter().find(|r| r.id == d).map(|r| row(r, now)));
    templates::page(
        Some(&op),
        "unvoid.html",
        context! {
            pending => Value::from_serialize(pending.iter().map(|r| row(r, now)).collect::<Vec<_>>()),
            total => total,
            answered => Value::from_serialize(answered.iter().map(|r| row(r, now)).collect::<Vec<_>>()),
            days => ANSWERED_DAYS,
            done => Value::from_serialize(&done),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    csrf: String,
    /// `grant` or `refuse` (the button pressed).
    answer: String,
    reason: String,
}

/// A refused answer: the message in the operator's language, and the way back to the list.
fn refused(op: &Operator, e: WebError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        return e.into_response();
    }
    let page = templates::page(
        Some(op),
        "message.html",
        context! {
            title => lang::text("dash-unvoid-not-recorded"),
            message => e.message(),
            links => vec![
                serde_json::json!({ "href": "/unvoid", "id": "back", "text": lang::text("dash-unvoid-back") }),
            ].into_iter().map(Value::from_serialize).collect::<Vec<_>>(),
        },
    );
    match page {
        Ok(p) => (status, p).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn answer(
    State(ctx): State<Context>,
    op: Operator,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    if let Err(e) = op.check_csrf(&f.csrf) {
        return e.into_response();
    }
    let grant = match f.answer.trim() {
        "grant" => true,
        "refuse" => false,
        _ => {
            return refused(
                &op,
                WebError::BadRequest(lang::text("dash-err-unvoid-choose")),
            )
        }
    };
    let (c, rid, reason, operator) = (ctx.clone(), id.clone(), f.reason.clone(), op.name.clone());
    let result = blocking(move || {
        let by = format!("operator:{operator}");
        Ok(unvoid::answer(
            c.store(),
            c.data_dir(),
            &rid,
            grant,
            &reason,
            &operator,
            &by,
        )?)
    })
    .await;
    let action = if grant {
        "unvoid-grant"
    } else {
        "unvoid-refuse"
    };
    match result {
        Ok(r) => {
            record_action(
                &ctx,
                &op.name,
                action,
                true,
                serde_json::json!({"request": r.id, "record": r.regno, "office": r.office, "reason": f.reason}),
            );
            see_other(&format!("/unvoid?done={}", url_seg(&r.id)))
        }
        Err(e) => {
            record_action(
                &ctx,
                &op.name,
                action,
                false,
                serde_json::json!({"request": id.chars().take(64).collect::<String>(), "reason": f.reason, "error": e.to_string()}),
            );
            refused(&op, e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unvoid::Answer;
    use crate::web::templates::tests::{assert_clean, render_as_hostile};
    use civreg_shared::i18n::Lang;

    const EVIL: &str = "<script>alert(1)</script>";

    fn evil(answer: Option<bool>) -> Request {
        Request {
            id: EVIL.into(),
            office: EVIL.into(),
            municipality: EVIL.into(),
            regno: EVIL.into(),
            reason: EVIL.into(),
            clerk: EVIL.into(),
            at_ms: 1,
            received_ms: 2,
            answer: answer.map(|granted| Answer {
                granted,
                reason: EVIL.into(),
                operator: EVIL.into(),
                at_ms: 3,
            }),
        }
    }

    #[test]
    fn the_unvoid_page_escapes_and_speaks_every_language() {
        for lang in Lang::ALL {
            let rows = |a: Option<bool>| row(&evil(a), 10_000);
            let (pending, granted, refused) = (rows(None), rows(Some(true)), rows(Some(false)));
            for (total, done) in [(1u64, true), (400, false)] {
                let page = render_as_hostile(
                    lang,
                    "unvoid.html",
                    context! {
                        pending => Value::from_serialize(vec![&pending]),
                        total => total,
                        answered => Value::from_serialize(vec![&granted, &refused]),
                        days => ANSWERED_DAYS,
                        done => Value::from_serialize(done.then_some(&granted)),
                    },
                );
                assert_clean(&page, &format!("un-void requests in {lang}"));
                assert!(page.contains("name=\"csrf\""), "{page}");
            }
            let empty = render_as_hostile(
                lang,
                "unvoid.html",
                context! {
                    pending => Vec::<Value>::new(), total => 0, answered => Vec::<Value>::new(),
                    days => ANSWERED_DAYS, done => Value::from(()),
                },
            );
            assert_clean(&empty, &format!("no un-void requests in {lang}"));
            assert!(empty.contains("id=\"none\""), "{empty}");
        }
    }
}
