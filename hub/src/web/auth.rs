//! Sign-in, sessions and CSRF protection for the dashboard.
//!
//! - **Accounts**: `operators.rs` (argon2 hashes in the hub's store, shared by every hub over
//!   it). A session counts only while its operator's account exists with the password it was
//!   made with (the session keeps `operators::password_stamp_in` of its sign-in): an account
//!   removed, or its password changed, through any hub ends its sessions at every hub.
//! - **Sessions**: a random 256-bit id (`ring::rand`), sent as the cookie `civreg_session`
//!   (`HttpOnly; SameSite=Strict; Path=/`), kept in the hub's store only as its SHA-256
//!   ([`Sessions`], `aux` prefix `session/`, sealed at rest), so that a session made at one hub
//!   works at every hub over the same database, and survives a restart. A session expires after
//!   [`SESSION_IDLE`] without a request and in any case [`SESSION_MAX`] after sign-in (defaults
//!   of `web.session_idle_s` and `web.session_max_s` in the config file, see `Settings`),
//!   measured by the hubs' wall clocks. Signing in always starts a new session id.
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

pub use civreg_shared::webguard::{same, Live, SESSION_IDLE, SESSION_MAX};

use crate::store::{aux, HubStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Why a session could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Rng(#[from] civreg_shared::webguard::RngError),
    #[error("the session could not be kept: {0}")]
    Store(#[from] StoreError),
    #[error("the operator accounts could not be read: {0}")]
    Accounts(String),
}

/// A session as the store keeps it (under the SHA-256 of its id).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Kept {
    account: String,
    csrf: String,
    created_ms: u64,
    last_used_ms: u64,
    /// The account's password stamp at sign-in ([`crate::operators::password_stamp_in`]);
    /// empty in sessions of earlier versions, which end at their next use.
    #[serde(default)]
    stamp: String,
}

/// The dashboard's sessions, in the hub's store: every hub over one database sees a session
/// made at any of them, and one ended at any of them ends everywhere. A use is written back
/// at most every [`Sessions::touch_every`] (last writer wins, harmlessly: two hubs touching one
/// session at once write nearly the same time).
pub struct Sessions {
    store: Arc<HubStore>,
    idle: Duration,
    max: Duration,
}

fn session_key(token: &str) -> Vec<u8> {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    aux::aux_key(aux::SESSIONS, &hex::encode(d.as_ref()))
}

impl Sessions {
    /// Sessions kept in `store` that end after `idle` without a request, or `max` after
    /// sign-in.
    pub fn in_store(store: Arc<HubStore>, idle: Duration, max: Duration) -> Sessions {
        Sessions { store, idle, max }
    }

    /// How stale a session's last use may be in the store: a tenth of the idle limit, at most
    /// a minute.
    fn touch_every(&self) -> u64 {
        (self.idle.as_millis() as u64 / 10).min(60_000)
    }

    fn alive(&self, s: &Kept, now_ms: u64) -> bool {
        now_ms.saturating_sub(s.last_used_ms) < self.idle.as_millis() as u64
            && now_ms.saturating_sub(s.created_ms) < self.max.as_millis() as u64
    }

    fn read(&self, key: &[u8]) -> Result<Option<Kept>, StoreError> {
        self.store
            .aux_get(key)?
            .map(|v| {
                serde_json::from_slice(&v)
                    .map_err(|_| StoreError::Corrupt("a dashboard session".into()))
            })
            .transpose()
    }

    /// Starts a session; returns its id (for the cookie). Sessions that have expired are
    /// removed on the way.
    pub fn create(&self, account: &str) -> Result<String, SessionError> {
        let token = civreg_shared::webguard::random_token()?;
        let now = civreg_runtime::clock::now_ms();
        // No account (removed since the password was checked): the session never counts.
        let stamp = crate::operators::password_stamp_in(&self.store, account)
            .map_err(|e| SessionError::Accounts(e.to_string()))?
            .unwrap_or_default();
        let kept = Kept {
            account: account.to_string(),
            csrf: civreg_shared::webguard::random_token()?,
            created_ms: now,
            last_used_ms: now,
            stamp,
        };
        let mut writes = Vec::new();
        for kv in self.store.aux_scan(aux::SESSIONS.as_bytes()) {
            let (k, v) = kv?;
            let expired = serde_json::from_slice::<Kept>(&v).map_or(true, |s| !self.alive(&s, now));
            if expired {
                writes.push((k, None));
            }
        }
        writes.push((
            session_key(&token),
            Some(serde_json::to_vec(&kept).expect("a session serialises")),
        ));
        self.store.aux_write(&writes)?;
        Ok(token)
    }

    /// The account of a live session, which counts as used now.
    pub fn touch(&self, token: &str) -> Option<Live> {
        let key = session_key(token);
        let now = civreg_runtime::clock::now_ms();
        let kept = match self.read(&key) {
            Ok(k) => k?,
            Err(e) => {
                tracing::warn!(error = %e, "dashboard session not read");
                return None;
            }
        };
        // The account as it was at sign-in: not removed, its password not changed since.
        let account_kept = match crate::operators::password_stamp_in(&self.store, &kept.account) {
            Ok(k) => k.is_some_and(|s| !kept.stamp.is_empty() && s == kept.stamp),
            Err(e) => {
                tracing::warn!(error = %e, "operator accounts not read; session refused");
                return None;
            }
        };
        if !self.alive(&kept, now) || !account_kept {
            if let Err(e) = self.store.aux_write(&[(key, None)]) {
                tracing::warn!(error = %e, "expired dashboard session not removed");
            }
            return None;
        }
        if now.saturating_sub(kept.last_used_ms) >= self.touch_every() {
            let used = Kept {
                last_used_ms: now,
                ..kept.clone()
            };
            let v = serde_json::to_vec(&used).expect("a session serialises");
            if let Err(e) = self.store.aux_write(&[(key, Some(v))]) {
                tracing::warn!(error = %e, "dashboard session's use not kept");
            }
        }
        Some(Live {
            account: kept.account,
            csrf: kept.csrf,
        })
    }

    /// Ends a session, at every hub.
    pub fn end(&self, token: &str) {
        if let Err(e) = self.store.aux_write(&[(session_key(token), None)]) {
            tracing::warn!(error = %e, "dashboard session not ended");
        }
    }
}

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
        let Some(t) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        // The store may be a database server: read off the async workers.
        let c = ctx.clone();
        tokio::task::spawn_blocking(move || {
            c.sessions().touch(&t).map(|live| Operator {
                name: live.account,
                csrf: live.csrf,
                token: t,
            })
        })
        .await
        .ok()
        .flatten()
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

    /// A well-formed argon2id hash (no password is tried against it here).
    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    /// Another well-formed argon2id hash: vjosa's password changed.
    const PHC_NEW: &str = "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0b3RoZXI$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    /// Sessions over `store`, where operator vjosa has an account.
    fn sessions(store: HubStore, idle_s: u64) -> Sessions {
        crate::operators::add_in(&store, "vjosa", PHC, true).unwrap();
        Sessions::in_store(
            Arc::new(store),
            Duration::from_secs(idle_s),
            Duration::from_secs(3600),
        )
    }

    fn memory_store() -> HubStore {
        HubStore::open_backend(
            Arc::new(crate::store::backend::memory::MemoryBackend::new()),
            crate::atrest::keys_from_master(&[3; 32]),
        )
        .unwrap()
    }

    #[test]
    fn csrf_is_checked() {
        let s = sessions(memory_store(), 600);
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

    /// Two hubs over one database (two stores over one PostgreSQL): a session made at hub A is
    /// used at hub B with its CSRF token, ended at B it is gone at A, and only a hash of its id
    /// is kept; an expired one is refused at either.
    #[test]
    fn a_session_made_at_one_hub_works_at_another_over_one_database() {
        let db = crate::store::tests_concurrent::Shared::postgres();
        let (a, b) = (sessions(db.store(), 600), sessions(db.store(), 600));
        let t = a.create("vjosa").unwrap();
        let at_a = a.touch(&t).unwrap();
        let at_b = b.touch(&t).expect("the session works at the other hub");
        assert_eq!((at_b.account.as_str(), &at_b.csrf), ("vjosa", &at_a.csrf));
        let kept: Vec<_> = b
            .store
            .aux_scan(aux::SESSIONS.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept.len(), 1);
        assert!(
            !String::from_utf8_lossy(&kept[0].0).contains(&t),
            "only a hash of the id"
        );
        b.end(&t);
        assert!(
            a.touch(&t).is_none(),
            "ended at one hub, ended at every hub"
        );
        assert!(b.touch("0").is_none());
        // An operator removed through one hub: its sessions end at every hub.
        let t = a.create("vjosa").unwrap();
        assert!(b.touch(&t).is_some());
        crate::operators::remove_in(&a.store, "vjosa").unwrap();
        assert!(b.touch(&t).is_none(), "a removed operator's session ends");
        crate::operators::add_in(&b.store, "vjosa", PHC, false).unwrap();
        assert!(a.touch(&t).is_none(), "and stays ended");
        // A changed password, through one hub: the sessions made with the old one end at
        // every hub; one made with the new one works.
        let old = a.create("vjosa").unwrap();
        assert!(b.touch(&old).is_some());
        crate::operators::add_in(&b.store, "vjosa", PHC_NEW, true).unwrap();
        assert!(
            a.touch(&old).is_none(),
            "a changed password ends the session"
        );
        let new = b.create("vjosa").unwrap();
        assert!(
            a.touch(&new).is_some(),
            "a session of the new password works"
        );
        // Idle limit 0: expired at once, at either hub, and removed.
        let (a0, b0) = (sessions(db.store(), 0), sessions(db.store(), 0));
        let t = a0.create("vjosa").unwrap();
        assert!(b0.touch(&t).is_none());
        assert!(a0.touch(&t).is_none());
    }
}
