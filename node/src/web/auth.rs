//! Sign-in with the node's clerk accounts (`Node::authenticate`, the argon2 hashes that
//! `civreg-node clerk add` writes), sessions and CSRF.
//!
//! - **Sessions** ([`civreg_shared::webguard::Sessions`]): a random 256-bit id in the cookie
//!   `civreg_clerk` (`HttpOnly; SameSite=Strict`, plus `Secure` over HTTPS), kept in memory
//!   only as its SHA-256, so sessions end when serve stops; idle timeout 30 minutes.
//! - **CSRF**: every form carries the session's token in `_csrf`; every POST is refused (403)
//!   unless it matches. The sign-in form, before any session, carries a token that must match
//!   the `civreg_login` cookie set with it (double submit).
//! - **Throttle**: after 5 wrong passwords for an account (20 from an address) sign-in there
//!   waits 30 s, doubling up to 15 min, without checking the password (429).

use super::{blocking, lang_of, set_cookie, templates, Context, Failure, FormBody, WebError};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::webguard::{self, same};

pub const SESSION_COOKIE: &str = "civreg_clerk";
pub const LOGIN_COOKIE: &str = "civreg_login";

/// A signed-in clerk: what every page but sign-in takes.
#[derive(Debug, Clone)]
pub struct Signed {
    pub clerk: String,
    pub csrf: String,
    pub lang: Lang,
    /// The request's path, for the language picker's way back.
    pub path: String,
    token: String,
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, form: &FormBody) -> Result<(), Failure> {
        if same(form.get("_csrf"), &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf.in_lang(self.lang))
        }
    }

    /// The clerk, for the node's calls: the session proves the password was checked.
    pub fn clerk(&self) -> crate::node::Clerk {
        crate::node::Node::signed_in_clerk(&self.clerk)
    }
}

pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

impl FromRequestParts<Context> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let token = super::cookie(&parts.headers, SESSION_COOKIE);
        match token.and_then(|t| ctx.sessions().touch(&t).map(|live| (t, live))) {
            Some((token, live)) => Ok(Signed {
                clerk: live.account,
                csrf: live.csrf,
                lang,
                path,
                token,
            }),
            None => Err(see_other("/login")),
        }
    }
}

fn login_page(
    ctx: &Context,
    lang: Lang,
    status: StatusCode,
    message: Option<(String, &str)>,
    name: &str,
) -> Response {
    let token = match webguard::random_token() {
        Ok(t) => t,
        Err(e) => {
            return WebError::Internal(e.to_string())
                .in_lang(lang)
                .into_response()
        }
    };
    let c = Catalog::get();
    let (message, level) = message.unwrap_or_default();
    let page = templates::render(
        "login.html",
        minijinja::context! {
            lang => lang.tag(),
            languages => templates::languages(lang),
            path => "/login",
            title => c.text(lang, "sign-in"),
            office => ctx.node().identity().municipality.clone(),
            login_csrf => token,
            message => message,
            message_level => level,
            name => name,
        },
    );
    match page {
        Ok(html) => {
            let res = (status, Html(html)).into_response();
            super::with_cookie(res, set_cookie(ctx, LOGIN_COOKIE, &token, Some(3600)))
        }
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// `GET /login`.
pub async fn login_form(State(ctx): State<Context>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    if super::cookie(&headers, SESSION_COOKIE).is_some_and(|t| ctx.sessions().touch(&t).is_some()) {
        return see_other("/");
    }
    let notice = match super::cookie(&headers, SESSION_COOKIE) {
        // A session cookie that no longer opens a session: it ended (idle, or serve restarted).
        Some(t) if !t.is_empty() => Some((Catalog::get().text(lang, "session-expired"), "warn")),
        _ => None,
    };
    login_page(&ctx, lang, StatusCode::OK, notice, "")
}

/// `POST /login`.
pub async fn login(
    State(ctx): State<Context>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: FormBody,
) -> Response {
    let lang = form.lang;
    let c = Catalog::get();
    let addr = Some(peer.ip());
    let name = form.get("name").to_string();
    let expected = super::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(form.get("_csrf"), &expected) {
        tracing::warn!(clerk = %civreg_shared::redact::redact(&name), "clerk app sign-in refused: the form's token did not match");
        return login_page(
            &ctx,
            lang,
            StatusCode::FORBIDDEN,
            Some((c.text(lang, "err-csrf"), "bad")),
            &name,
        );
    }
    if let Err(r) = ctx.throttle().check(&name, addr) {
        let secs = r.retry_after.as_secs().max(1);
        let mut res = login_page(
            &ctx,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            Some((
                c.format(lang, "sign-in-throttled", &[("seconds", secs.into())]),
                "bad",
            )),
            &name,
        );
        if let Ok(v) = secs.to_string().parse() {
            res.headers_mut().insert(RETRY_AFTER, v);
        }
        return res;
    }
    let permit = match tokio::time::timeout(webguard::CHECK_WAIT, ctx.checks().acquire()).await {
        Ok(Ok(p)) => p,
        _ => {
            return login_page(
                &ctx,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                Some((c.text(lang, "sign-in-busy"), "bad")),
                &name,
            )
        }
    };
    let password = form.get("password").to_string();
    let (c2, n2) = (ctx.clone(), name.clone());
    let verified = blocking(move || Ok(c2.node().authenticate(&n2, &password))).await;
    drop(permit);
    match verified {
        Ok(Ok(_clerk)) => {
            ctx.throttle().succeeded(&name, addr);
            let token = match ctx.sessions().create(&name) {
                Ok(t) => t,
                Err(e) => {
                    return WebError::Internal(e.to_string())
                        .in_lang(lang)
                        .into_response()
                }
            };
            tracing::info!(clerk = %name, "clerk signed in to the app");
            let res = see_other("/");
            let res = super::with_cookie(res, set_cookie(&ctx, SESSION_COOKIE, &token, None));
            super::with_cookie(res, set_cookie(&ctx, LOGIN_COOKIE, "", Some(0)))
        }
        Ok(Err(crate::node::NodeError::BadCredentials)) => {
            ctx.throttle().failed(&name, addr);
            login_page(
                &ctx,
                lang,
                StatusCode::UNAUTHORIZED,
                Some((c.text(lang, "sign-in-failed"), "bad")),
                &name,
            )
        }
        Ok(Err(e)) => WebError::Node(e).in_lang(lang).into_response(),
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// `POST /logout`.
pub async fn logout(State(ctx): State<Context>, who: Signed, form: FormBody) -> Response {
    if let Err(e) = who.check_csrf(&form) {
        return e.into_response();
    }
    ctx.sessions().end(&who.token);
    super::with_cookie(
        see_other("/login"),
        set_cookie(&ctx, SESSION_COOKIE, "", Some(0)),
    )
}
