//! What stands between the dashboard and a hostile browser or script:
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
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest request body the dashboard reads (its largest form, a conflict's value, fits many
/// times over).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Wrong passwords for one account before sign-in to it is refused for a while.
pub const FREE_FAILURES: u32 = 5;
/// Wrong passwords from one address (any accounts) before sign-in from it is refused a while.
pub const FREE_FAILURES_PER_ADDRESS: u32 = 20;
/// The first refusal's length; each further failure doubles it.
pub const FIRST_DELAY: Duration = Duration::from_secs(30);
/// The longest refusal.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Most argon2 password checks at once.
pub const MAX_CONCURRENT_CHECKS: usize = 2;
/// How long a sign-in waits for its turn to be checked.
pub const CHECK_WAIT: Duration = Duration::from_secs(10);
/// Most accounts and addresses the throttle remembers (the oldest quiet ones are forgotten).
const MAX_TRACKED: usize = 10_000;

/// The names the dashboard answers to.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    names: Vec<String>,
}

impl Hosts {
    /// Loopback names, the listener's address `local`, and the configured `extra` names.
    pub fn new(local: Option<SocketAddr>, extra: &[String]) -> Hosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(a) = local {
            if !a.ip().is_unspecified() {
                names.push(a.ip().to_string());
            }
        }
        names.extend(extra.iter().map(|n| n.trim().to_ascii_lowercase()));
        Hosts { names }
    }

    /// Whether a `Host` header value (name or address, with or without a port) is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = if let Some(rest) = host.strip_prefix('[') {
            // [v6]:port
            match rest.split_once(']') {
                Some((ip, tail)) if tail.is_empty() || tail.starts_with(':') => ip.to_string(),
                _ => return false,
            }
        } else {
            match host.rsplit_once(':') {
                Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n.to_string(),
                Some(_) => return false,
                None => host.clone(),
            }
        };
        let name = name.trim_end_matches('.');
        if name.is_empty() {
            return false;
        }
        if name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.names.iter().any(|n| n == name)
    }
}

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

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    until: Option<Instant>,
}

/// Failed sign-ins per account and per address.
#[derive(Default)]
pub struct Throttle {
    map: Mutex<HashMap<String, Failures>>,
}

/// Why a sign-in is refused before its password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

fn keys(account: &str, addr: Option<IpAddr>) -> [(String, u32); 2] {
    [
        (format!("account\u{0}{account}"), FREE_FAILURES),
        (
            format!(
                "address\u{0}{}",
                addr.map(|a| a.to_string()).unwrap_or_default()
            ),
            FREE_FAILURES_PER_ADDRESS,
        ),
    ]
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err` while the account or the address is refused.
    pub fn check(&self, account: &str, addr: Option<IpAddr>) -> Result<(), Refused> {
        let now = Instant::now();
        let map = self.lock();
        let wait = keys(account, addr)
            .iter()
            .filter_map(|(k, _)| map.get(k)?.until)
            .filter(|u| *u > now)
            .max();
        match wait {
            Some(u) => Err(Refused {
                retry_after: u - now,
            }),
            None => Ok(()),
        }
    }

    /// Counts a wrong password (or an unknown name) for the account and the address.
    pub fn failed(&self, account: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= MAX_TRACKED {
            // Forget what is no longer refused, then, if still full, the quietest half.
            map.retain(|_, f| f.until.is_some_and(|u| u > now));
            if map.len() >= MAX_TRACKED {
                let mut lasts: Vec<Instant> = map.values().map(|f| f.last).collect();
                lasts.sort();
                let cut = lasts[lasts.len() / 2];
                map.retain(|_, f| f.last > cut);
            }
        }
        for (k, free) in keys(account, addr) {
            let f = map.entry(k).or_insert(Failures {
                count: 0,
                last: now,
                until: None,
            });
            // A quiet spell longer than the longest refusal starts the count afresh.
            if now.duration_since(f.last) > MAX_DELAY {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
            if f.count >= free {
                let doublings = (f.count - free).min(16);
                let delay = FIRST_DELAY.saturating_mul(1u32 << doublings).min(MAX_DELAY);
                f.until = Some(now + delay);
            }
        }
    }

    /// A successful sign-in clears the account and the address.
    pub fn succeeded(&self, account: &str, addr: Option<IpAddr>) {
        let mut map = self.lock();
        for (k, _) in keys(account, addr) {
            map.remove(&k);
        }
    }
}

/// The answer to a throttled sign-in.
pub fn too_many(r: &Refused) -> Response {
    let secs = r.retry_after.as_secs().max(1);
    let body = format!(
        "<h1>429</h1><p class=\"msg bad\" id=\"error\">Too many wrong passwords: sign-in is refused for {secs} s. Try again later; if you forgot the password, ask for a new one (<code>civreg-hub operator add NAME --replace</code>).</p>"
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        axum::response::Html(super::html::page("Sign in", None, None, &body)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_allow_loopback_and_configured_names_only() {
        let h = Hosts::new(
            Some("10.0.0.5:8080".parse().unwrap()),
            &["Dash.Example.org".into()],
        );
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:8080",
            "10.0.0.5:8080",
            "dash.example.org",
            "dash.example.org.:80",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example",
            "10.0.0.6",
            "",
            "[::1",
            "localhost:80x",
            "dash.example.org@evil",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn failures_refuse_then_grow_and_a_success_clears() {
        let t = Throttle::default();
        let ip: Option<IpAddr> = Some("127.0.0.1".parse().unwrap());
        for _ in 0..FREE_FAILURES - 1 {
            t.failed("ana", ip);
            assert!(t.check("ana", ip).is_ok());
        }
        t.failed("ana", ip);
        let first = t.check("ana", ip).unwrap_err().retry_after;
        assert!(first <= FIRST_DELAY && first > FIRST_DELAY / 2, "{first:?}");
        t.failed("ana", ip);
        let second = t.check("ana", ip).unwrap_err().retry_after;
        assert!(second > FIRST_DELAY, "{second:?}");
        // Another account from another address is not refused.
        assert!(t.check("besa", Some("127.0.0.2".parse().unwrap())).is_ok());
        t.succeeded("ana", ip);
        assert!(t.check("ana", ip).is_ok());
        for _ in 0..40 {
            t.failed("ana", ip);
        }
        assert!(t.check("ana", ip).unwrap_err().retry_after <= MAX_DELAY);
    }
}
