//! The clerk app: the office's web application, served by `civreg-node serve` on
//! `--http-listen` (default `127.0.0.1:8090`), over the node that serve holds open. It works
//! fully offline: every asset (one CSS file, one small JS file) is compiled into the binary.
//! On loopback it speaks plain HTTP (a clerk on the node PC); on any other address only HTTPS,
//! with the agency-issued certificate of [`crate::appcert`] (`Secure` cookies, HSTS), so the
//! clerks of the office's other PCs can use it (issue 14).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | today at the office, with search and the register links |
//! | `GET/POST /login`, `POST /logout` | sign in with the node's clerk accounts, sign out |
//! | `GET /lang?to=TAG&back=PATH` | the language picker: sets the `civreg_lang` cookie |
//! | `GET /status.json` | the status bar's figures, polled by the page's script |
//! | `GET/POST /register/{birth,marriage,death}` | the registration forms |
//! | `GET /search`, `GET /search.json` | search (national when the hub answers, else local) |
//! | `GET /record/{regno}` | a record: every field, its history, its sync state |
//! | `GET/POST /record/{regno}/amend`, `POST /record/{regno}/void` | amend, void |
//! | `GET/POST /import`, `GET /import/{job}`, `GET /import/{job}/report.csv` | CSV import: the page, a job started, its progress and report, the report as CSV |
//! | `GET /assets/{app.css,app.js}` | the embedded assets |
//!
//! **Invariants.**
//! - *Handlers are thin over the node API*: a save calls [`Node::register`], [`Node::amend`] or
//!   [`Node::void`], the same calls the command line makes, so the same op, checks, guard and
//!   log apply; the app only turns a form into the record document and problems back into
//!   messages next to their fields.
//! - *Everything a person reads comes from the catalogues* ([`civreg_shared::i18n`]), and every
//!   value goes into HTML through minijinja, which escapes by default (templates are `.html`).
//! - *Strict Content-Security-Policy*: no inline script or style, nothing from elsewhere.
//! - *The guard of every request* ([`civreg_shared::webguard`], shared with the hub's dashboard):
//!   the `Host` must be loopback, the listener's address, a configured name or a name of the
//!   app certificate presented; bodies are
//!   bounded; sign-in is throttled per account and address; sessions are random, stored hashed,
//!   idle-timed; every POST carries the session's CSRF token.
//! - *A form is saved once*: each rendered form carries a random id; a second post of it, even
//!   after a restart, is answered with the record the first one saved (see [`FormLedger`]).

mod annotate;
mod auth;
mod certify;
mod dupes;
mod forms;
mod pages;
mod records;
pub(crate) mod status;
mod templates;
mod upload;

pub use upload::MAX_UPLOAD_BYTES;

use crate::control::Served;
use crate::node::NodeError;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::webguard::{self, Hosts, Sessions, Throttle};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// Where the clerk app listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";
/// Largest form body read (a registration form is a few KiB; names and notes are bounded by
/// `civreg_shared::limits` well below this).
pub const MAX_BODY_BYTES: usize = webguard::MAX_BODY_BYTES;
/// Most fields a form may carry.
pub const MAX_FORM_FIELDS: usize = 200;
/// The cookie holding the chosen language.
pub const LANG_COOKIE: &str = "civreg_lang";

/// The app's tunables (tests shorten the session's idle time).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Host names answered besides loopback and the listener's address (`--http-host`).
    pub hosts: Vec<String>,
    pub session_idle: Duration,
    /// Add `Secure` to cookies (set when the app is served over HTTPS).
    pub secure_cookies: bool,
    /// Serve over HTTPS with this certificate (beyond loopback, issue 14); its names are
    /// answered to as well.
    pub app_cert: Option<Arc<crate::appcert::AppCert>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hosts: Vec::new(),
            session_idle: webguard::SESSION_IDLE,
            secure_cookies: false,
            app_cert: None,
        }
    }
}

/// How long a saved form is remembered (a form posted again is answered with its record):
/// far longer than any browser keeps a form to post again, short enough that the tree stays
/// small (an office saves some hundreds of forms a day).
pub const FORMS_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most forgotten forms deleted by one save (the rest go with the next saves).
const FORGET_PER_SAVE: usize = 64;

/// The forms being saved now, by their form id; the forms already saved are in the node's
/// store (tree `forms`, written in the same atomic write as the record: [`remember_form`]), so
/// a form posted twice (a double click, a reload after "saved", a post again after `serve`
/// restarted) is registered once.
#[derive(Default)]
pub struct FormLedger {
    pending: HashSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormState {
    /// Being saved by another request now.
    Pending,
    /// Saved as this record.
    Saved(String),
}

impl FormLedger {
    /// Claims `id` for saving: `Ok(Err(..))` with what is known of it if it is being saved now
    /// or was saved before. Called with the ledger locked, so two posts of one form can not
    /// both pass; a claim is released ([`FormLedger::release`]) only once its save is durable
    /// or has failed.
    pub fn claim(
        &mut self,
        node: &crate::node::Node,
        id: &str,
    ) -> Result<Result<(), FormState>, NodeError> {
        if self.pending.contains(id) {
            return Ok(Err(FormState::Pending));
        }
        if let Some(regno) = saved_form(node, id)? {
            return Ok(Err(FormState::Saved(regno)));
        }
        self.pending.insert(id.to_string());
        Ok(Ok(()))
    }

    /// The save is over (written, or failed: the form may then be posted again).
    pub fn release(&mut self, id: &str) {
        self.pending.remove(id);
    }
}

fn form_key(id: &str) -> Vec<u8> {
    [b"f".as_slice(), id.as_bytes()].concat()
}

/// The record a form was saved as, if it was.
pub fn saved_form(node: &crate::node::Node, id: &str) -> Result<Option<String>, NodeError> {
    use crate::store::Tree;
    Ok(node
        .store()
        .get(Tree::Forms, &form_key(id))?
        .filter(|v| v.len() > 8)
        .map(|v| String::from_utf8_lossy(&v[8..]).into_owned()))
}

/// Writes "form `id` was saved as `regno`" into the write `tx` that saves the record, so both
/// are on disk or neither is: a crash can neither lose the record while its form is marked
/// saved, nor leave it saved with its form unmarked (which would register it again when the
/// form is posted again). Forgets a few forms saved more than [`FORMS_KEPT`] ago.
pub(crate) fn remember_form(
    node: &crate::node::Node,
    tx: &mut crate::node::Tx<'_>,
    id: &str,
    regno: &str,
    now_ms: u64,
) -> Result<(), NodeError> {
    use crate::store::Tree;
    let cutoff = now_ms.saturating_sub(FORMS_KEPT.as_millis() as u64);
    let mut old = Vec::new();
    // The age index (`a` + ms + id) sorts before the forms (`f` + id): the oldest come first.
    for kv in node.store().scan(Tree::Forms).take(FORGET_PER_SAVE) {
        let (k, _) = kv?;
        let Some(at) = k
            .strip_prefix(b"a")
            .and_then(|r| r.get(..8))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
        else {
            break;
        };
        if u64::from_be_bytes(at) >= cutoff {
            break;
        }
        old.push(k);
    }
    let b = tx.batch();
    for k in old {
        b.delete(Tree::Forms, [b"f".as_slice(), &k[9..]].concat());
        b.delete(Tree::Forms, k);
    }
    let mut value = now_ms.to_be_bytes().to_vec();
    value.extend_from_slice(regno.as_bytes());
    b.put(Tree::Forms, form_key(id), value);
    b.put(
        Tree::Forms,
        [
            b"a".as_slice(),
            now_ms.to_be_bytes().as_slice(),
            id.as_bytes(),
        ]
        .concat(),
        Vec::new(),
    );
    Ok(())
}

struct Inner {
    served: Arc<Served>,
    settings: Settings,
    sessions: Sessions,
    throttle: Throttle,
    checks: tokio::sync::Semaphore,
    forms: Mutex<FormLedger>,
    imports: Mutex<upload::Jobs>,
}

/// What every handler reads: the serving process's node and worker state, sessions, throttle.
#[derive(Clone)]
pub struct Context(Arc<Inner>);

impl Context {
    pub fn new(served: Arc<Served>, settings: Settings) -> Context {
        Context(Arc::new(Inner {
            served,
            sessions: Sessions::with_limits(settings.session_idle, webguard::SESSION_MAX),
            settings,
            throttle: Throttle::default(),
            checks: tokio::sync::Semaphore::new(webguard::MAX_CONCURRENT_CHECKS),
            forms: Mutex::new(FormLedger::default()),
            imports: Mutex::new(upload::Jobs::default()),
        }))
    }
    pub fn served(&self) -> &Served {
        &self.0.served
    }
    pub fn node(&self) -> &crate::node::Node {
        &self.0.served.node
    }
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }
    pub fn throttle(&self) -> &Throttle {
        &self.0.throttle
    }
    pub fn checks(&self) -> &tokio::sync::Semaphore {
        &self.0.checks
    }
    pub fn forms(&self) -> std::sync::MutexGuard<'_, FormLedger> {
        self.0.forms.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn imports(&self) -> std::sync::MutexGuard<'_, upload::Jobs> {
        self.0.imports.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a request failed, in words for the clerk (rendered in their language).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("csrf")]
    Csrf,
    #[error("too large")]
    TooLarge,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::NotFound(_) | WebError::Node(NodeError::NotFound(_)) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_)
            | WebError::Node(NodeError::Id(_))
            | WebError::Node(NodeError::Shape(_)) => StatusCode::BAD_REQUEST,
            WebError::Node(
                NodeError::Voided(_)
                | NodeError::Halted(_)
                | NodeError::ClockAhead { .. }
                | NodeError::KindNotAllowed { .. }
                | NodeError::Certificate(_),
            ) => StatusCode::CONFLICT,
            WebError::Node(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown to the clerk.
    pub fn message(&self, lang: Lang) -> String {
        let c = Catalog::get();
        match self {
            WebError::Csrf => c.text(lang, "err-csrf"),
            WebError::TooLarge => c.format(
                lang,
                "err-too-large",
                &[("kib", (MAX_BODY_BYTES / 1024).into())],
            ),
            WebError::NotFound(what) => c.format(lang, "err-not-found", &[("what", what.into())]),
            WebError::Node(NodeError::NotFound(what)) => {
                c.format(lang, "err-not-found", &[("what", what.into())])
            }
            WebError::BadRequest(d) => c.format(lang, "err-bad-request", &[("detail", d.into())]),
            // A refusal by the node's own rules says why (halted, rollout, clock, void).
            WebError::Node(e) if self.status() != StatusCode::INTERNAL_SERVER_ERROR => {
                c.format(lang, "err-refused", &[("detail", e.to_string().into())])
            }
            WebError::Node(_) | WebError::Internal(_) => c.text(lang, "err-internal"),
        }
    }

    /// This error, to be rendered in `lang`.
    pub fn in_lang(self, lang: Lang) -> Failure {
        Failure { lang, error: self }
    }
}

/// An error on its way to the browser, with the language to say it in.
#[derive(Debug)]
pub struct Failure {
    pub lang: Lang,
    pub error: WebError,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = self.error.status();
        if status.is_server_error() {
            tracing::error!(error = %self.error, "clerk app request failed");
        }
        let html = templates::error_page(self.lang, &self.error.message(self.lang));
        (status, axum::response::Html(html)).into_response()
    }
}

/// The language of a request: its `civreg_lang` cookie, else Albanian.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .unwrap_or_default()
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the whole app (and Secure over
/// HTTPS); `max_age` 0 deletes.
pub fn set_cookie(ctx: &Context, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut s = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(a) = max_age {
        s.push_str(&format!("; Max-Age={a}"));
    }
    if ctx.settings().secure_cookies {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("civreg_bad=1"))
}

/// Attaches a cookie to a response.
pub fn with_cookie(mut res: Response, value: HeaderValue) -> Response {
    res.headers_mut().append(header::SET_COOKIE, value);
    res
}

/// A form's fields, read with a bound on the body's size and the number of fields.
#[derive(Debug, Default, Clone)]
pub struct FormBody {
    pub lang: Lang,
    pairs: Vec<(String, String)>,
}

impl FormBody {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = Failure;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Failure> {
        let lang = lang_of(req.headers());
        let too_large = || WebError::TooLarge.in_lang(lang);
        if req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| too_large())?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            WebError::BadRequest(format!("the form could not be read: {e}")).in_lang(lang)
        })?;
        if pairs.len() > MAX_FORM_FIELDS {
            return Err(WebError::BadRequest(format!(
                "the form has {} fields, at most {MAX_FORM_FIELDS} are read",
                pairs.len()
            ))
            .in_lang(lang));
        }
        Ok(FormBody { lang, pairs })
    }
}

/// Runs `f` off the async runtime (the node's calls read and write sled).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// Headers on every answer: strict CSP, no caching, no framing, no referrer.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// Over HTTPS: browsers keep to HTTPS for this host for a year.
async fn hsts(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    res
}

/// The names the app answers to: the fixed ones, and those of the certificate presented now
/// (a renewed certificate may name more).
struct Answering {
    hosts: Hosts,
    app_cert: Option<Arc<crate::appcert::AppCert>>,
}

impl Answering {
    fn allows(&self, host: &str) -> bool {
        self.hosts.allows(host)
            || self
                .app_cert
                .as_ref()
                .is_some_and(|c| Hosts::new(None, &c.info().names).allows(host))
    }
}

/// Refuses (421) a request whose `Host` is not one of ours (DNS rebinding).
async fn check_host(
    axum::extract::State(hosts): axum::extract::State<Arc<Answering>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if hosts.allows(&h) => next.run(req).await,
        _ => {
            let lang = lang_of(req.headers());
            (
                StatusCode::MISDIRECTED_REQUEST,
                Catalog::get().text(lang, "err-host"),
            )
                .into_response()
        }
    }
}

/// The app's routes over `ctx`, answering to `hosts`.
pub fn router(ctx: Context, hosts: Hosts) -> axum::Router {
    use axum::routing::{get, post};
    let app_cert = ctx.settings().app_cert.clone();
    let https = app_cert.is_some();
    let hosts = Arc::new(Answering { hosts, app_cert });
    let router = axum::Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", get(pages::set_lang))
        .route("/status.json", get(status::json))
        .route(
            "/register/{kind}",
            get(records::register_form).post(records::register),
        )
        .route("/search", get(pages::search))
        .route("/search.json", get(pages::search_json))
        .route("/record/{regno}", get(records::record))
        .route(
            "/record/{regno}/amend",
            get(records::amend_form).post(records::amend),
        )
        .route("/record/{regno}/void", post(records::void))
        .route("/record/{regno}/unvoid", post(records::unvoid))
        .route("/record/{regno}/certificate", post(certify::issue))
        .route(
            "/annotate/{regno}",
            get(annotate::form).post(annotate::save),
        )
        .route("/import", get(upload::form).post(upload::upload))
        .route("/import/{job}", get(upload::job))
        .route("/import/{job}/report.csv", get(upload::report_csv))
        .route("/assets/{name}", get(templates::asset))
        .fallback(pages::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(hosts, check_host))
        .layer(axum::middleware::map_response(security_headers));
    let router = if https {
        router.layer(axum::middleware::map_response(hsts))
    } else {
        router
    };
    router.with_state(ctx)
}

/// Where to serve the app, from `serve`'s `--http-listen`.
#[derive(Debug, Clone)]
pub struct Listen {
    /// `None`: the default address, tried and skipped with a warning if taken.
    pub addr: Option<String>,
}

/// A bound listener and, beyond loopback, the certificate to serve it with over HTTPS.
#[derive(Debug)]
pub struct Bound {
    pub listener: TcpListener,
    pub app_cert: Option<Arc<crate::appcert::AppCert>>,
}

impl Bound {
    /// `http://ADDR/` or `https://ADDR/`, for the log.
    pub fn url(&self) -> Option<String> {
        let addr = self.listener.local_addr().ok()?;
        let scheme = if self.app_cert.is_some() {
            "https"
        } else {
            "http"
        };
        Some(format!("{scheme}://{addr}/"))
    }
}

/// Binds the app's listener: `Ok(None)` when it is switched off (`off`) or the default address
/// is taken (a warning says so); an explicit address that can not be bound is an error. A
/// loopback address is served plain HTTP (a clerk on this PC); an address beyond this PC only
/// over HTTPS, with the app certificate installed in `data_dir` ([`crate::appcert`]): without
/// one it is refused, with what to do.
pub async fn bind(
    listen: &Listen,
    data_dir: &std::path::Path,
) -> Result<Option<Bound>, std::io::Error> {
    let plain = |listener: TcpListener| -> Result<Option<Bound>, std::io::Error> {
        Ok(Some(Bound {
            listener,
            app_cert: None,
        }))
    };
    match listen.addr.as_deref().map(str::trim) {
        Some("off") | Some("none") => Ok(None),
        Some(a) => {
            let l = TcpListener::bind(a).await.map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("the clerk app can not listen on {a}: {e}; choose another --http-listen address, or `off`"),
                )
            })?;
            match l.local_addr() {
                Ok(addr) if addr.ip().is_loopback() => plain(l),
                _ => {
                    let refused = |e: crate::appcert::AppCertError| {
                        std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
                    };
                    let cert = crate::appcert::AppCert::load(data_dir)
                        .map_err(refused)?
                        .ok_or_else(|| {
                            refused(crate::appcert::AppCertError::NotInstalled {
                                addr: a.to_string(),
                            })
                        })?;
                    if let Some(days) = crate::appcert::expiry_warning(&cert.info()) {
                        tracing::warn!(days_left = days, "the clerk app's certificate expires within 30 days (or has expired): ask the agency for a new one (civreg-hub pki issue-app)");
                    }
                    Ok(Some(Bound {
                        listener: l,
                        app_cert: Some(cert),
                    }))
                }
            }
        }
        None => match TcpListener::bind(DEFAULT_LISTEN).await {
            Ok(l) => plain(l),
            Err(e) => {
                tracing::warn!(addr = DEFAULT_LISTEN, error = %e, "the clerk app is not served: its default address is taken (pass --http-listen ADDR)");
                Ok(None)
            }
        },
    }
}

/// Serves the app on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    ctx: Context,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use axum::serve::ListenerExt;
    let local = listener.local_addr().ok();
    let hosts = Hosts::new(local, &ctx.settings().hosts);
    let tls = match ctx.settings().app_cert.as_ref().map(|c| c.server_config()) {
        None => None,
        Some(Ok(config)) => Some(config),
        Some(Err(e)) => {
            tracing::error!(error = %e, "the clerk app is not served; sync goes on");
            return;
        }
    };
    let app = router(ctx, hosts).into_make_service_with_connect_info::<SocketAddr>();
    let res = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(config) => {
            let listener = match crate::appcert::TlsListener::new(listener, config) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "the clerk app is not served; sync goes on");
                    return;
                }
            };
            // `tap_io` gives the handlers the client's address (ConnectInfo) as for TCP.
            axum::serve(listener.tap_io(|_| {}), app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    if let Err(e) = res {
        tracing::error!(error = %e, "the clerk app stopped; sync goes on");
    }
}
