//! Sign-in, sessions and CSRF protection for the dashboard.
//!
//! - **Accounts**: `operators.rs` (argon2 hashes in `DATA_DIR/operators.json`).
//! - **Sessions**: a random 256-bit id (`ring::rand`), sent as the cookie `civreg_session`
//!   (`HttpOnly; SameSite=Strict; Path=/`), kept in memory only as its SHA-256, so sessions end
//!   when the hub restarts. A session expires after [`SESSION_IDLE`] without a request and in any
//!   case [`SESSION_MAX`] after sign-in (defaults of `web.session_idle_s` and `web.session_max_s`
//!   in the config file, see `Settings`). Signing in always starts a new session id.
//! - **CSRF**: every session has its own random token, put in a hidden field of every form; every
//!   POST is refused (403) unless the field matches, compared in constant time. The sign-in form,
//!   which has no session yet, carries a token that must match the `civreg_login` cookie set
//!   with the form (double submit), so no other site can sign a browser in.
//! - Pages asked for without a session redirect to `/login` (303).
//!
//! The cookie has no `Secure` flag because the listener is plain HTTP on loopback; put a TLS
//! reverse proxy in front before serving it to another machine.

use super::{Context, WebError};
use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use civreg_shared::webguard::{same, Sessions, SESSION_IDLE, SESSION_MAX};

pub const SESSION_COOKIE: &str = "civreg_session";
pub const LOGIN_COOKIE: &str = "civreg_login";

/// 32 random bytes, hex.
pub fn random_token() -> Result<String, WebError> {
    civreg_shared::webguard::random_token().map_err(|e| WebError::Internal(e.to_string()))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the whole site; `max_age` 0 deletes.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut s = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(a) = max_age {
        s.push_str(&format!("; Max-Age={a}"));
    }
    HeaderValue::from_str(&s).expect("cookie names and hex values are valid header text")
}

/// A signed-in operator: what handlers of protected pages take.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub csrf: String,
    token: String,
}

impl Operator {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if same(given, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// An operator for rendering tests (no session behind it).
    #[cfg(test)]
    pub fn for_tests(name: &str, csrf: &str) -> Operator {
        Operator {
            name: name.into(),
            csrf: csrf.into(),
            token: String::new(),
        }
    }
}

/// The redirect to the sign-in page.
pub fn to_login() -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response()
}

impl FromRequestParts<Context> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Context) -> Result<Self, Response> {
        cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|t| {
                ctx.sessions().touch(&t).map(|live| Operator {
                    name: live.account,
                    csrf: live.csrf,
                    token: t,
                })
            })
            .ok_or_else(to_login)
    }
}

/// Attaches a cookie to a response.
pub fn with_cookie(mut res: Response, value: HeaderValue) -> Response {
    res.headers_mut().append(SET_COOKIE, value);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_checked() {
        let s = Sessions::default();
        let t = s.create("vjosa").unwrap();
        let live = s.touch(&t).unwrap();
        let op = Operator {
            name: live.account,
            csrf: live.csrf,
            token: t,
        };
        assert_eq!(op.name, "vjosa");
        assert!(op.check_csrf(&op.csrf).is_ok());
        assert!(op.check_csrf("").is_err());
        assert!(op.check_csrf(&"0".repeat(64)).is_err());
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; civreg_session=abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
