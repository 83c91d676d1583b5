//! Printing a certificate for a citizen from the record page: the node's own
//! `Node::issue_certificate` (the call `civreg-node certificate` makes), so the serial, the
//! signature, the PDF and the record of who printed it for whom are one write. The PDF comes
//! back as a download; the record page lists every certificate printed of the record.

use super::auth::Signed;
use super::{blocking, templates, Context, FormBody, WebError};
use crate::node::{IdDocument, NodeError};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::i18n::{Catalog, Lang};
use serde::Serialize;

/// The kinds of identity document offered, as the form sends them.
pub const ID_DOCUMENTS: [&str; 5] = [
    "id-card",
    "passport",
    "driving-licence",
    "residence-permit",
    "other",
];

/// The certificate's languages: Albanian and Serbian on every page, the one chosen first
/// (`en` adds English).
pub const CERT_LANGS: [&str; 3] = ["sq", "sr", "en"];

/// One certificate printed of a record, as its page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PrintedView {
    pub serial: String,
    pub when: String,
    pub clerk: String,
    pub collector: String,
    pub id_document: String,
    pub version: u32,
}

/// What the record page needs for the certificate section: whether this office can sign, and
/// the certificates printed of `regno` so far.
pub fn section(
    ctx: &Context,
    lang: Lang,
    regno: &str,
) -> Result<(bool, Vec<PrintedView>), WebError> {
    let node = ctx.node();
    let can_sign = node.signer()?.is_some();
    let c = Catalog::get();
    let printed = node
        .certificates()?
        .into_iter()
        .filter(|i| i.regno == regno)
        .map(|i| PrintedView {
            serial: i.serial,
            when: super::status::when(i.at_ms),
            clerk: i.clerk,
            collector: i.collector,
            id_document: c.text(lang, &format!("cert-id-{}", i.id_document.as_str())),
            version: i.record_version,
        })
        .collect();
    Ok((can_sign, printed))
}

/// A refusal shown as a page in the clerk's language.
fn refused(lang: Lang, status: StatusCode, key: &str) -> Response {
    let message = Catalog::get().text(lang, key);
    (status, Html(templates::error_page(lang, &message))).into_response()
}

/// `POST /record/{regno}/certificate`: the PDF as a download, or a page saying what to fix.
pub async fn issue(
    State(ctx): State<Context>,
    who: Signed,
    Path(regno): Path<String>,
    form: FormBody,
) -> Response {
    let lang = who.lang;
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    let collector = form.get("collector").trim().to_string();
    if collector.is_empty()
        || collector.chars().count() > civreg_shared::limits::MAX_NAME_CHARS
        || collector.chars().any(char::is_control)
    {
        return refused(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "cert-collector-required",
        );
    }
    let Ok(id_document) = IdDocument::parse(form.get("id_document")) else {
        return refused(lang, StatusCode::UNPROCESSABLE_ENTITY, "cert-id-required");
    };
    let Some(cert_lang) = civreg_cert::pdf::Lang::parse(form.get("cert_lang")) else {
        return refused(lang, StatusCode::UNPROCESSABLE_ENTITY, "cert-lang-required");
    };
    let w2 = who.clone();
    let outcome = blocking(move || {
        let node = ctx.node();
        if node.signer()?.is_none() {
            return Ok(Err("cert-no-signer"));
        }
        let st = node.get(&regno)?;
        if st.voided.is_some() {
            return Ok(Err("cert-void"));
        }
        match node.issue_certificate(&w2.clerk(), &st.regno, cert_lang, &collector, id_document) {
            Ok(issued) => Ok(Ok(issued)),
            Err(e @ NodeError::Certificate(_)) => Err(WebError::Node(e)),
            Err(e) => Err(e.into()),
        }
    })
    .await;
    match outcome {
        Ok(Ok(issued)) => {
            tracing::info!(clerk = %who.clerk, serial = %issued.issue.serial, regno = %issued.issue.regno, "certificate printed from the clerk app");
            let name = format!("attachment; filename=\"{}.pdf\"", issued.issue.serial);
            let mut res = (StatusCode::OK, issued.pdf).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(v) = HeaderValue::from_str(&name) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Ok(Err(key)) => refused(lang, StatusCode::CONFLICT, key),
        Err(e) => e.in_lang(lang).into_response(),
    }
}
