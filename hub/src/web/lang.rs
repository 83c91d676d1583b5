//! The language a dashboard page is written in.
//!
//! Operators choose theirs with the picker in every page's header (`GET /lang?to=TAG&back=PATH`
//! sets the `civreg_lang` cookie, the clerk app's name for it, so one browser reads both apps
//! in one language); without the cookie the dashboard speaks Albanian. The public `/verify` page
//! serves citizens, who have no reason to find a picker first: without the cookie it follows
//! the browser's `Accept-Language`, then Albanian.
//!
//! The language (and the path, for the picker's way back) is read once per request by
//! [`middleware`] and kept in a task-local for the request's handler, so handlers, the page
//! frame and error pages all read the same one ([`current`]). Work sent off the runtime
//! (`spawn_blocking`) does not see the task-local: take [`current`] before.

use axum::extract::{Query, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use serde::Deserialize;

/// The cookie holding the chosen language (the clerk app's name too).
pub const LANG_COOKIE: &str = "civreg_lang";
/// The cookie that pauses the overview's and node pages' automatic reload (`off`).
pub const REFRESH_COOKIE: &str = "civreg_refresh";

/// What a page needs to know of its request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub lang: Lang,
    /// The path and query asked for (the language picker comes back here).
    pub back: String,
    /// The operator paused the pages' automatic reload (`civreg_refresh=off`).
    pub paused: bool,
}

tokio::task_local! {
    /// The request being answered (tests of the dashboard answer as one would).
    pub(super) static REQUEST: RequestInfo;
}

/// The language of the request being answered (Albanian outside a request).
pub fn current() -> Lang {
    REQUEST.try_with(|r| r.lang).unwrap_or_default()
}

/// Where the language picker of the current page comes back to.
pub fn back() -> String {
    REQUEST
        .try_with(|r| r.back.clone())
        .unwrap_or_else(|_| "/".into())
}

/// Whether the operator paused the automatic reload of pages.
pub fn paused() -> bool {
    REQUEST.try_with(|r| r.paused).unwrap_or(false)
}

/// `key` in the current request's language.
pub fn text(key: &str) -> String {
    Catalog::get().text(current(), key)
}

/// `key` with arguments in the current request's language.
pub fn format(key: &str, args: &[(&str, Arg)]) -> String {
    Catalog::get().format(current(), key, args)
}

/// The first language of an `Accept-Language` value we write in, by preference (`q`); `None`
/// when it names none. At most 32 entries are read.
pub fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, usize, Lang)> = None;
    for (i, part) in value.split(',').take(32).enumerate() {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or_default().trim();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
            .unwrap_or(1.0);
        if q.is_nan() || q <= 0.0 {
            continue;
        }
        let Some(lang) = Lang::parse(tag) else {
            continue;
        };
        // Highest q wins; among equals, the first listed.
        if best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, i, lang));
        }
    }
    best.map(|(_, _, l)| l)
}

/// The language of a request: its `civreg_lang` cookie; then, if `accept` (the public pages),
/// its `Accept-Language`; else Albanian.
pub fn of_request(headers: &HeaderMap, accept: bool) -> Lang {
    super::auth::cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .or_else(|| {
            accept
                .then(|| {
                    headers
                        .get(axum::http::header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(from_accept_language)
                })
                .flatten()
        })
        .unwrap_or_default()
}

/// Whether `path` is a public page for citizens (its language follows `Accept-Language`).
fn public(path: &str) -> bool {
    path == "/verify"
}

/// Reads the request's language (and whether reloads are paused) and runs the rest of the
/// request with it.
pub async fn middleware(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let lang = of_request(req.headers(), public(uri.path()));
    // The picker asks again with GET: the page itself for a GET, else the form it came from
    // (`/login`, `/verify`) or the overview.
    let back = if req.method() == axum::http::Method::GET {
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .chars()
            .take(512)
            .collect()
    } else if matches!(uri.path(), "/login" | "/verify") {
        uri.path().to_string()
    } else {
        "/".to_string()
    };
    let paused = super::auth::cookie(req.headers(), REFRESH_COOKIE).as_deref() == Some("off");
    REQUEST
        .scope(RequestInfo { lang, back, paused }, next.run(req))
        .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangQuery {
    to: String,
    back: String,
}

/// A local path to come back to: it starts with one `/` (never `//` or `/\`, another site).
fn local_path(p: &str) -> &str {
    if p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
    {
        p
    } else {
        "/"
    }
}

/// `GET /lang?to=TAG&back=PATH`: remembers the language for a year and goes back.
pub async fn set(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or_else(|| of_request(&headers, false));
    super::auth::with_cookie(
        super::pages::see_other(local_path(&q.back)),
        super::auth::set_cookie(LANG_COOKIE, lang.tag(), Some(365 * 86_400)),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefreshQuery {
    on: String,
    back: String,
}

/// `GET /refresh?on=0|1&back=PATH`: pauses (`0`) or resumes the automatic reload of the
/// overview and node pages for this browser, and goes back. Reloading every few seconds is
/// what a wall display wants, and what a screen reader or a reader at their own pace does not
/// (WCAG 2.2.1: the user can turn it off).
pub async fn set_refresh(Query(q): Query<RefreshQuery>) -> Response {
    let off = q.on == "0";
    super::auth::with_cookie(
        super::pages::see_other(local_path(&q.back)),
        super::auth::set_cookie(
            REFRESH_COOKIE,
            if off { "off" } else { "" },
            Some(if off { 365 * 86_400 } else { 0 }),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_language_we_write_in() {
        assert_eq!(from_accept_language("sr-RS,sr;q=0.9"), Some(Lang::SrCyrl));
        assert_eq!(
            from_accept_language("de-DE, sr-Latn;q=0.8, en;q=0.9"),
            Some(Lang::En)
        );
        assert_eq!(from_accept_language("sq-AL"), Some(Lang::Sq));
        assert_eq!(from_accept_language("de, fr;q=0.5"), None);
        assert_eq!(from_accept_language("en;q=0, sr-Latn"), Some(Lang::SrLatn));
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language(&"x,".repeat(10_000)), None);
    }

    #[test]
    fn the_picker_comes_back_only_to_local_paths() {
        assert_eq!(local_path("/conflicts?all=1"), "/conflicts?all=1");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
