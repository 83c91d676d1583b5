//! Importing a CSV of register pages from the browser: the page sends the file as the request
//! body (with the session's CSRF token in a header), the node imports it with
//! `import::import_csv`, the importer `civreg-node import` uses, and the page shows the report:
//! every rejected row with its line and reasons, to read and to download.

use super::auth::Signed;
use super::pages::page;
use super::{blocking, Context, WebError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use civreg_shared::i18n::{Arg, Catalog, Lang};

/// The largest file the page takes (a register book of some thousands of rows is far less).
pub const MAX_UPLOAD_BYTES: usize = 16 << 20;

/// `GET /import`: the page.
pub async fn form(State(ctx): State<Context>, who: Signed) -> Response {
    page(ctx, who, "import.html", "import-title", move |_, _| {
        Ok(minijinja::context! { max_mib => MAX_UPLOAD_BYTES >> 20 })
    })
    .await
}

fn problem(status: StatusCode, lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> Response {
    let text = Catalog::get().format(lang, key, args);
    (status, axum::Json(serde_json::json!({ "problem": text }))).into_response()
}

/// `POST /import`: the file as the body; the report as JSON.
pub async fn upload(
    State(ctx): State<Context>,
    who: Signed,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let lang = who.lang;
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !civreg_shared::webguard::same(token, &who.csrf) {
        return problem(StatusCode::FORBIDDEN, lang, "err-csrf", &[]);
    }
    let too_large = || {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            lang,
            "import-too-large",
            &[("mib", (MAX_UPLOAD_BYTES >> 20).into())],
        )
    };
    if headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_UPLOAD_BYTES as u64)
    {
        return too_large();
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPLOAD_BYTES).await else {
        return too_large();
    };
    if bytes.is_empty() {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, lang, "import-empty", &[]);
    }
    if std::str::from_utf8(&bytes).is_err() && bytes.iter().take(4096).any(|b| *b == 0) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            "import-not-csv",
            &[],
        );
    }
    let w2 = who.clone();
    let outcome = blocking(move || {
        let clerk = w2.clerk();
        match crate::import::import_csv(ctx.node(), &clerk, bytes.as_ref(), |_| {}) {
            Ok(report) => Ok(Ok(report)),
            // The file itself (its header, its encoding): what to fix, not a failure of ours.
            Err(crate::import::ImportError::Header(e)) => Ok(Err(e.to_string())),
            Err(crate::import::ImportError::Csv(e)) => Ok(Err(e.to_string())),
            Err(crate::import::ImportError::Node(e)) => Err(WebError::Node(e)),
        }
    })
    .await;
    match outcome {
        Ok(Ok(report)) => {
            tracing::info!(clerk = %who.clerk, rows = report.rows, accepted = report.accepted.len(), rejected = report.rejected.len(), "CSV imported from the clerk app");
            let c = Catalog::get();
            let summary = c.format(
                lang,
                "import-summary",
                &[
                    ("rows", report.rows.into()),
                    ("accepted", report.accepted.len().into()),
                    ("skipped", report.skipped.len().into()),
                    ("rejected", report.rejected.len().into()),
                ],
            );
            let status = if report.rejected.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (
                status,
                axum::Json(serde_json::json!({ "summary": summary, "report": report })),
            )
                .into_response()
        }
        Ok(Err(detail)) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            "import-unreadable",
            &[("detail", detail.as_str().into())],
        ),
        Err(e) => {
            let text = e.message(lang);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({ "problem": text })),
            )
                .into_response()
        }
    }
}
