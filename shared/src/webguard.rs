//! What stands between a web UI (the hub's dashboard, the node's clerk app) and a hostile
//! browser or script, in plain Rust so that both binaries use one implementation:
//!
//! - **Host check** ([`Hosts`], against DNS rebinding): a request is answered only when its
//!   `Host` header names a loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port), the
//!   listener's own address, or a configured name.
//! - **Body limit**: [`MAX_BODY_BYTES`], the default largest request body.
//! - **Sign-in throttle** ([`Throttle`]): after [`FREE_FAILURES`] wrong passwords for one account,
//!   or [`FREE_FAILURES_PER_ADDRESS`] from one address, sign-in there is refused for
//!   [`FIRST_DELAY`], doubling with each further failure up to [`MAX_DELAY`]: while refused, not
//!   even the right password is checked. A success clears the account and the address.
//! - **Bounded password checks**: at most [`MAX_CONCURRENT_CHECKS`] argon2 checks at once (each
//!   takes ~19 MiB), each waiting at most [`CHECK_WAIT`] for its turn.
//! - **Sessions** ([`Sessions`]): a random 256-bit id (`ring::rand`), kept in memory only as its
//!   SHA-256; a session ends after [`SESSION_IDLE`] without a request and in any case
//!   [`SESSION_MAX`] after sign-in. Each has its own random CSRF token, compared with [`same`].
//!
//! The HTTP glue (middleware, cookies, pages) is each UI's own; this module does no I/O.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest request body a web UI reads by default (the dashboard's largest form, a conflict's
/// value, fits many times over).
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

/// The names a web UI answers to.
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

/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after sign-in, however active.
pub const SESSION_MAX: Duration = Duration::from_secs(12 * 3600);

/// The system's random number generator failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RngError;

/// A live session, as [`Sessions::touch`] finds it.
#[derive(Debug, Clone)]
pub struct Live {
    pub account: String,
    pub csrf: String,
}

struct Session {
    account: String,
    csrf: String,
    created: Instant,
    last_used: Instant,
}

/// The sessions of signed-in people (operators, clerks), by the SHA-256 of their id.
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
    idle: Duration,
    max: Duration,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_limits(SESSION_IDLE, SESSION_MAX)
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> Result<String, RngError> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| RngError)?;
    Ok(hex::encode(b))
}

fn key(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

/// Equal strings, compared without an early exit.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// Sessions that end after `idle` without a request, or `max` after sign-in.
    pub fn with_limits(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_used) < self.idle && now.duration_since(s.created) < self.max
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns its id (for the cookie).
    pub fn create(&self, account: &str) -> Result<String, RngError> {
        let token = random_token()?;
        let now = Instant::now();
        let s = Session {
            account: account.to_string(),
            csrf: random_token()?,
            created: now,
            last_used: now,
        };
        let mut map = self.lock();
        map.retain(|_, s| self.alive(s, now));
        map.insert(key(&token), s);
        Ok(token)
    }

    /// The account of a live session, which counts as used now.
    pub fn touch(&self, token: &str) -> Option<Live> {
        let now = Instant::now();
        let mut map = self.lock();
        let k = key(token);
        match map.get_mut(&k) {
            Some(s) if self.alive(s, now) => {
                s.last_used = now;
                Some(Live {
                    account: s.account.clone(),
                    csrf: s.csrf.clone(),
                })
            }
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn end(&self, token: &str) {
        self.lock().remove(&key(token));
    }
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

    #[test]
    fn sessions_live_and_end() {
        let s = Sessions::default();
        let t = s.create("vjosa").unwrap();
        assert_eq!(t.len(), 64);
        let live = s.touch(&t).unwrap();
        assert_eq!(live.account, "vjosa");
        assert!(same(&live.csrf, &live.csrf) && !same(&live.csrf, ""));
        assert!(s.touch("nope").is_none());
        s.end(&t);
        assert!(s.touch(&t).is_none());
        // An idle session is gone.
        if let Some(past) = Instant::now().checked_sub(SESSION_IDLE) {
            let t = s.create("vjosa").unwrap();
            s.lock().get_mut(&key(&t)).unwrap().last_used = past;
            assert!(s.touch(&t).is_none());
        }
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
