//! What stands between the dashboard and a hostile browser or script (the mechanisms are
//! `civreg_shared::webguard`'s, shared with the node's clerk app; the HTTP glue is here):
//!
//! - **Host check** (against DNS rebinding): a request is answered only when its `Host` header
//!   names a loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port), the listener's own
//!   address, or a name configured in `http_hosts`; anything else gets 421.
//! - **Body limit**: a request body above [`MAX_BODY_BYTES`] is refused (413) before a handler
//!   sees it, so an oversized form is never parsed, checked or logged.
//! - **Sign-in throttle** ([`Throttle`]): after [`FREE_FAILURES`] wrong passwords for one account,
//!   or [`FREE_FAILURES_PER_ADDRESS`] from one address, sign-in there is refused (429, with
//!   `Retry-After`) for [`FIRST_DELAY`], doubling with each further failure up to [`MAX_DELAY`]:
//!   while refused, not even the right password is checked. A success clears the account and
//!   the address.
//! - **Bounded password checks**: at most [`MAX_CONCURRENT_CHECKS`] argon2 checks run at once
//!   (each takes ~19 MiB); a sign-in that can not get a turn within [`CHECK_WAIT`] is refused
//!   with 503.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use civreg_shared::webguard::{
    Hosts, Refused, Throttle, CHECK_WAIT, FIRST_DELAY, FREE_FAILURES, FREE_FAILURES_PER_ADDRESS,
    MAX_BODY_BYTES, MAX_CONCURRENT_CHECKS, MAX_DELAY,
};

/// Refuses (421) a request whose `Host` is not one of ours: a page of another site that had its
/// name re-pointed at 127.0.0.1 must not reach the dashboard.
pub async fn check_host(
    State(hosts): State<std::sync::Arc<Hosts>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if hosts.allows(&h) => next.run(req).await,
        _ => (
            StatusCode::MISDIRECTED_REQUEST,
            "this dashboard answers only to the names it is configured for (http_hosts): open it as http://localhost:PORT or a configured name",
        )
            .into_response(),
    }
}

/// The answer to a throttled sign-in, in the operator's language.
pub fn too_many(r: &Refused) -> Response {
    let secs = r.retry_after.as_secs().max(1);
    let page = super::templates::page(
        None,
        "message.html",
        minijinja::context! {
            title => super::lang::text("dash-signin-title"),
            message => super::lang::format("dash-signin-throttled", &[("secs", secs.into())]),
            hint => super::lang::text("dash-signin-throttled-hint"),
            command => "civreg-hub operator add NAME --replace",
            links => vec![minijinja::Value::from_serialize(serde_json::json!({
                "href": "/login", "text": super::lang::text("dash-signin-title"),
            }))],
        },
    );
    match page {
        Ok(html) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            html,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
