//! The status bar on every page: online or offline, the ops waiting and the oldest one's age,
//! the last successful sync, the hub in use (its host: an office of several hubs sees which one
//! it syncs with, issue 19); red with the reason when the hub refuses this office (revoked,
//! suspended, a fork: the worker has stopped) or the office has stopped registering
//! (`guard::Halt`); a warning when the office's certificate expires within
//! [`CERT_WARN_DAYS`]. The page renders it; `GET /status.json` gives the same figures, which
//! the page's script polls so that it updates without a reload.

use super::auth::Signed;
use super::{blocking, Context, Failure, WebError};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use civreg_shared::i18n::{Catalog, Lang};
use serde::Serialize;

/// Warn when the office's certificate expires within this many days.
pub const CERT_WARN_DAYS: i64 = 30;

/// What the bar shows, already in the clerk's language.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    /// `ok`, `warn` or `bad`: the bar's colour.
    pub level: &'static str,
    /// `online`, `offline`, `refused`, `halted` or `not-enrolled`.
    pub state: &'static str,
    pub connection: String,
    /// The host of the hub in use (the last that answered, or the first to try); empty when
    /// the office is not enrolled.
    pub hub: String,
    pub hub_text: String,
    pub waiting: u64,
    pub waiting_text: String,
    pub oldest_s: u64,
    pub oldest_text: String,
    pub last_success_ms: Option<u64>,
    pub last_text: String,
    /// Why the hub refuses or registration stopped (empty when neither).
    pub alert: String,
    /// The certificate's warning (empty when far from expiry).
    pub cert: String,
    pub cert_days_left: Option<i64>,
    /// Days until the clerk app's own certificate (HTTPS, issue 14) expires, when one is
    /// installed; its warning is in `cert` too.
    pub app_cert_days_left: Option<i64>,
}

use civreg_runtime::clock::now_ms;

/// A local time for the bar: `14:05` today, else `03.12.2026 14:05`.
pub fn when(ms: u64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms as i64) else {
        return String::new();
    };
    let t = t.with_timezone(&chrono::Local);
    if t.date_naive() == chrono::Local::now().date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%d.%m.%Y %H:%M").to_string()
    }
}

/// Days until the office's certificate (`DATA_DIR/tls/cert.pem`) expires; `None` without one.
pub(crate) fn cert_days_left(data_dir: &std::path::Path) -> Option<i64> {
    let pem = std::fs::read(crate::sync::tls_dir(data_dir).join("cert.pem")).ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
    let cert = pem.parse_x509().ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let now = (now_ms() / 1000) as i64;
    Some((not_after - now).div_euclid(86_400))
}

/// The bar's figures now.
pub fn compute(ctx: &Context, lang: Lang) -> Result<StatusView, WebError> {
    let c = Catalog::get();
    let served = ctx.served();
    let node = &served.node;
    let st = served.live.status();
    let (waiting, oldest_s) = crate::sync::waiting(node)?;
    let halted = node.halted()?;
    let enrolled = crate::sync::load_bundle(&served.paths.data_dir).is_ok();
    let days = cert_days_left(&served.paths.data_dir);

    let (state, level, connection) = if let Some(h) = &halted {
        let _ = h;
        ("halted", "bad", c.text(lang, "status-offline"))
    } else if st.stopped {
        ("refused", "bad", c.text(lang, "status-offline"))
    } else if !enrolled {
        ("not-enrolled", "warn", c.text(lang, "status-not-enrolled"))
    } else if st.online {
        ("online", "ok", c.text(lang, "status-online"))
    } else {
        ("offline", "warn", c.text(lang, "status-offline"))
    };
    let alert = if let Some(h) = &halted {
        c.format(lang, "status-halted", &[("reason", h.why.as_str().into())])
    } else if st.stopped {
        let why = st.last_error.clone().unwrap_or_default();
        c.format(lang, "status-refused", &[("reason", why.into())])
    } else {
        String::new()
    };
    let mut cert = match days {
        Some(d) if d < 0 => c.text(lang, "status-cert-expired"),
        Some(d) if d <= CERT_WARN_DAYS => {
            c.format(lang, "status-cert-expires", &[("days", d.into())])
        }
        _ => String::new(),
    };
    // The app's own certificate, the one the clerks' browsers check (issue 14).
    let app_days = crate::appcert::installed(&served.paths.data_dir).map(|i| i.days_left);
    let app_warning = match app_days {
        Some(d) if d < 0 => c.text(lang, "status-app-cert-expired"),
        Some(d) if d <= CERT_WARN_DAYS => {
            c.format(lang, "status-app-cert-expires", &[("days", d.into())])
        }
        _ => String::new(),
    };
    if !app_warning.is_empty() {
        if !cert.is_empty() {
            cert.push(' ');
        }
        cert.push_str(&app_warning);
    }
    let expired = days.is_some_and(|d| d < 0) || app_days.is_some_and(|d| d < 0);
    let level = if level == "ok" && !cert.is_empty() {
        "warn"
    } else if !cert.is_empty() && expired {
        "bad"
    } else {
        level
    };
    let hub = if enrolled {
        civreg_shared::hubs::host(&st.hub_url).to_string()
    } else {
        String::new()
    };
    let hub_text = if hub.is_empty() {
        String::new()
    } else {
        c.format(lang, "status-hub", &[("host", hub.as_str().into())])
    };
    Ok(StatusView {
        level,
        state,
        connection,
        hub,
        hub_text,
        waiting,
        waiting_text: c.format(lang, "status-waiting", &[("count", waiting.into())]),
        oldest_s,
        oldest_text: if waiting > 0 {
            c.format(
                lang,
                "status-oldest",
                &[("minutes", (oldest_s / 60).into())],
            )
        } else {
            String::new()
        },
        last_success_ms: st.last_success_ms,
        last_text: match st.last_success_ms {
            Some(ms) => c.format(lang, "status-last-sync", &[("when", when(ms).into())]),
            None => c.text(lang, "status-never"),
        },
        alert,
        cert,
        cert_days_left: days,
        app_cert_days_left: app_days,
    })
}

/// `GET /status.json`.
pub async fn json(State(ctx): State<Context>, who: Signed) -> Response {
    let lang = who.lang;
    match blocking(move || compute(&ctx, lang)).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => Failure { lang, error: e }.into_response(),
    }
}
