//! The operator dashboard: server-rendered HTML over plain HTTP on its own listener
//! (`http_listen`, default `127.0.0.1:8080`: loopback only unless configured otherwise).
//!
//! Routes (all but `/login`, `/metrics` and `/verify` need a signed-in operator, see [`auth`]):
//!
//! | route | what |
//! |---|---|
//! | `GET /` | overview: one row per municipality, trouble first; reloads every 5 s (pausable) |
//! | `GET /node/{municipality}/{node}` | a node: state, version, clock, disk, errors, 24 h chart |
//! | `GET /conflicts` | open conflicts (`?all=1` also resolved ones, `?municipality=CODE`) |
//! | `GET /conflicts/{id}` | both sides of a conflict and the form to resolve it |
//! | `POST /conflicts/{id}/resolve` | `review::resolve` in the operator's name |
//! | `GET /duplicates` | open duplicate cases, strongest first (`?all=1`, `?municipality=CODE`) |
//! | `GET /duplicates/{id}` | both records of a case side by side (written to the access log) |
//! | `POST /duplicates/{id}/decide` | link, dismiss or unlink (`crate::linkage::duplicates`) in the operator's name |
//! | `GET /clusters` | the open cases by person: clusters, strongest first (`?municipality=CODE`) |
//! | `GET /clusters/{id}` | every record of a cluster side by side, the pairwise weights (written to the access log) |
//! | `POST /clusters/{id}/decide` | all one person, or split by group (`crate::linkage::clusters`) in the operator's name |
//! | `GET /unvoid` | clerks' un-void requests waiting (a form each) and answered lately (written to the access log) |
//! | `POST /unvoid/{id}/answer` | grant or refuse one (`crate::unvoid::answer`, as `civreg-hub unvoid-request`) in the operator's name |
//! | `GET /rollout`, `POST /rollout/{code}` | the stages, and changing one (`Rollout::set`) |
//! | `GET/POST /login`, `POST /logout` | sign in and out |
//! | `GET /metrics` | Prometheus text format, **no sign-in** (see below) |
//! | `GET/POST /verify` | public certificate verification, **no sign-in** (`verify_page.rs`) |
//! | `GET /lang?to=TAG&back=PATH` | the language picker: sets the `civreg_lang` cookie ([`lang`]) |
//! | `GET /refresh?on=0\|1&back=PATH` | pauses or resumes the pages' automatic reload (cookie) |
//!
//! Every request passes [`guard`] first: its `Host` must be a loopback name, the listener's
//! address or a configured `http_hosts` name (DNS rebinding), its body at most
//! [`guard::MAX_BODY_BYTES`]; sign-in is throttled per account and per address, and at most
//! [`guard::MAX_CONCURRENT_CHECKS`] passwords are checked at once.
//!
//! `/metrics` needs no session so that a Prometheus on the same machine can scrape it; it shows
//! counts, node names and the subjects of certificates expiring within 30 days (node names,
//! operators' account names, the hub's host names), no records and no citizen's name. Serve the listener beyond loopback only behind a reverse
//! proxy with TLS that also guards `/metrics`.
//!
//! Every page's data is gathered off the async runtime (`spawn_blocking`: the store, the PKI
//! registry and the rollout file are read from disk) from the same state `status.json` is
//! written from. Pages are minijinja templates extending one layout (`templates.rs`), which
//! escapes every value; their words come from the Fluent catalogues (`dash-…` keys), in the
//! language of [`lang`]: the `civreg_lang` cookie, else Albanian (`/verify` also follows
//! `Accept-Language`).

pub mod auth;
mod cluster_pages;
mod duplicate_pages;
pub mod fmt;
pub mod guard;
pub mod history;
pub mod lang;
pub mod model;
mod now;
mod pages;
mod templates;
mod unvoid_pages;
mod verify_page;

use crate::metrics::Metrics;
use crate::pki::Pki;
use crate::status::Liveness;
use crate::store::HubStore;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A node counts as online while its last heartbeat is at most this old: three sync intervals
/// of a node that syncs every 30 s (nodes send one heartbeat per round).
pub const ONLINE_WITHIN: Duration = Duration::from_secs(90);
/// How often each node's history is sampled (see [`history`]).
pub const HISTORY_EVERY: Duration = Duration::from_secs(60);
/// How often the overview and node pages reload themselves.
pub const REFRESH_SECS: u64 = 5;

/// The dashboard's tunables (tests shorten them).
#[derive(Debug, Clone)]
pub struct Settings {
    pub online_within: Duration,
    pub history_every: Duration,
    /// Host names answered besides loopback and the listener's address (`http_hosts`).
    pub hosts: Vec<String>,
    /// A session ends after this long without a request (`web.session_idle_s`).
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active (`web.session_max_s`).
    pub session_max: Duration,
    /// Every hub process's address (`hub_urls`), shown on the overview.
    pub hub_urls: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            online_within: ONLINE_WITHIN,
            history_every: HISTORY_EVERY,
            hosts: Vec::new(),
            session_idle: auth::SESSION_IDLE,
            session_max: auth::SESSION_MAX,
            hub_urls: Vec::new(),
        }
    }
}

/// Open duplicate cases per municipality, from the review queue ([`crate::linkage::duplicates`]): one
/// scan of the queue per page or scrape. A case whose two records belong to two municipalities
/// counts for both; a municipality without open cases is absent (read it as 0).
pub fn open_duplicates(ctx: &Context) -> Result<BTreeMap<String, u64>, WebError> {
    Ok(crate::linkage::duplicates::open_by_municipality(
        ctx.store(),
    )?)
}

struct Inner {
    data_dir: PathBuf,
    store: Arc<HubStore>,
    seen: Arc<Liveness>,
    metrics: Arc<Metrics>,
    pki: Pki,
    settings: Settings,
    sessions: auth::Sessions,
    history: Arc<history::History>,
    throttle: guard::Throttle,
    checks: tokio::sync::Semaphore,
    trust: crate::certificates::TrustCache,
}

/// Everything the dashboard reads: shared with the gRPC service, not copied.
#[derive(Clone)]
pub struct Context(Arc<Inner>);

impl Context {
    pub fn new(
        data_dir: &Path,
        store: Arc<HubStore>,
        seen: Arc<Liveness>,
        metrics: Arc<Metrics>,
        pki: Pki,
        settings: Settings,
    ) -> Context {
        let sessions_store = store.clone();
        Context(Arc::new(Inner {
            data_dir: data_dir.to_path_buf(),
            store,
            seen,
            metrics,
            pki,
            history: Arc::new(history::History::new(settings.history_every)),
            sessions: auth::Sessions::in_store(
                sessions_store,
                settings.session_idle,
                settings.session_max,
            ),
            settings,
            throttle: guard::Throttle::default(),
            checks: tokio::sync::Semaphore::new(guard::MAX_CONCURRENT_CHECKS),
            trust: crate::certificates::TrustCache::default(),
        }))
    }
    pub fn data_dir(&self) -> &Path {
        &self.0.data_dir
    }
    pub fn store(&self) -> &HubStore {
        &self.0.store
    }
    pub fn seen(&self) -> &Liveness {
        &self.0.seen
    }
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
    pub fn pki(&self) -> &Pki {
        &self.0.pki
    }
    /// The trust list `/verify` checks against, rebuilt when the PKI changes.
    pub fn trust(&self) -> &crate::certificates::TrustCache {
        &self.0.trust
    }
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
    pub fn sessions(&self) -> &auth::Sessions {
        &self.0.sessions
    }
    pub fn history(&self) -> &history::History {
        &self.0.history
    }
    /// The history, shared with [`crate::status::Keeper`], which keeps it across restarts.
    pub fn history_handle(&self) -> Arc<history::History> {
        self.0.history.clone()
    }
    pub fn throttle(&self) -> &guard::Throttle {
        &self.0.throttle
    }
    /// Turns for argon2 password checks.
    pub fn checks(&self) -> &tokio::sync::Semaphore {
        &self.0.checks
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    #[error(transparent)]
    Rollout(#[from] crate::rollout::RolloutError),
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Operators(#[from] crate::operators::OperatorError),
    #[error(transparent)]
    Duplicate(#[from] crate::linkage::duplicates::DuplicateError),
    #[error(transparent)]
    Person(#[from] crate::linkage::persons::PersonError),
    #[error(transparent)]
    Unvoid(#[from] crate::unvoid::UnvoidError),
    /// The access log could not be written: the records are not shown.
    #[error("could not write the access log, so the records are not shown: {0}")]
    AccessLog(std::io::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("refused: the form has expired or did not come from this dashboard; reload the page and try again")]
    Csrf,
    #[error("internal error: {0}")]
    Internal(String),
    /// Refused for now (too many at once): the message says when to try again.
    #[error("{0}")]
    Busy(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        use crate::linkage::duplicates::DuplicateError as D;
        use crate::linkage::persons::PersonError as P;
        use crate::review::ReviewError as R;
        use crate::unvoid::UnvoidError as U;
        match self {
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Unvoid(U::NotFound(_)) => StatusCode::NOT_FOUND,
            WebError::Unvoid(U::AlreadyAnswered { .. } | U::NotVoided(_) | U::NoRecord(_)) => {
                StatusCode::CONFLICT
            }
            WebError::Unvoid(U::ReasonRequired | U::ReasonTooLong(_) | U::OperatorRequired) => {
                StatusCode::BAD_REQUEST
            }
            WebError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::NotFound(_)
            | WebError::Review(R::NotFound(_))
            | WebError::Duplicate(D::NoCase(_) | D::NoCluster(_)) => StatusCode::NOT_FOUND,
            WebError::Review(R::AlreadyResolved { .. })
            | WebError::Duplicate(
                D::Decided { .. }
                | D::NotLinked(_)
                | D::ClusterChanged(_)
                | D::ClusterTooLarge { .. }
                | D::Person(P::AlreadyLinked(..) | P::NotLinked(_)),
            )
            | WebError::Person(P::AlreadyLinked(..) | P::NotLinked(_)) => StatusCode::CONFLICT,
            WebError::Duplicate(
                D::ReasonRequired
                | D::OperatorRequired
                | D::NotInCluster { .. }
                | D::Unassigned(_)
                | D::BadGroup { .. }
                | D::SplitsAPerson { .. },
            ) => StatusCode::BAD_REQUEST,
            WebError::BadRequest(_)
            | WebError::Review(
                R::ReasonRequired
                | R::OperatorRequired
                | R::ValueOnStatus(_)
                | R::Invalid { .. }
                | R::UnknownMunicipality(_),
            )
            | WebError::Rollout(crate::rollout::RolloutError::Unknown(_)) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl WebError {
    /// What the page says, in the operator's language: the errors an operator meets on the
    /// dashboard's forms are worded in the catalogues; the rarer ones of the hub's own modules
    /// (a damaged store, an I/O failure) keep their English words.
    fn message(&self) -> String {
        use crate::linkage::duplicates::DuplicateError as D;
        use crate::review::ReviewError as R;
        use crate::unvoid::UnvoidError as U;
        let cut = |s: &str| -> String { s.chars().take(200).collect() };
        match self {
            WebError::Unvoid(U::NotFound(id)) => {
                lang::format("dash-err-unvoid-none", &[("id", cut(id).into())])
            }
            WebError::Unvoid(U::ReasonRequired) => lang::text("dash-err-unvoid-reason"),
            WebError::Unvoid(U::ReasonTooLong(n)) => lang::format(
                "dash-err-unvoid-reason-long",
                &[
                    ("n", (*n as u64).into()),
                    (
                        "max",
                        (civreg_shared::limits::MAX_UNVOID_REASON_CHARS as u64).into(),
                    ),
                ],
            ),
            WebError::Unvoid(U::AlreadyAnswered { id, state }) => lang::format(
                "dash-err-unvoid-answered",
                &[
                    ("id", cut(id).into()),
                    (
                        "state",
                        lang::text(&format!("dash-unvoid-state-{state}")).into(),
                    ),
                ],
            ),
            WebError::Unvoid(U::NotVoided(regno)) => {
                lang::format("dash-err-unvoid-not-void", &[("regno", cut(regno).into())])
            }
            WebError::Unvoid(U::NoRecord(regno)) => {
                lang::format("dash-err-unvoid-no-record", &[("regno", cut(regno).into())])
            }
            WebError::Review(R::NotFound(id)) => {
                lang::format("dash-err-no-conflict", &[("id", cut(id).into())])
            }
            WebError::Review(R::AlreadyResolved { id, by }) => lang::format(
                "dash-err-conflict-resolved",
                &[("id", cut(id).into()), ("by", by.into())],
            ),
            WebError::Review(R::ReasonRequired) => lang::text("dash-err-conflict-reason"),
            WebError::Review(R::Invalid { regno, why }) => lang::format(
                "dash-err-conflict-invalid",
                &[("regno", regno.into()), ("why", why.into())],
            ),
            WebError::Duplicate(D::NoCase(id)) => {
                lang::format("dash-err-no-case", &[("id", cut(id).into())])
            }
            WebError::Duplicate(D::Decided { id, status, by }) => lang::format(
                "dash-err-case-decided",
                &[
                    ("id", id.into()),
                    (
                        "status",
                        {
                            let key = format!("dash-dup-status-{status}");
                            let c = civreg_shared::i18n::Catalog::get();
                            if c.has(lang::current(), &key) {
                                lang::text(&key)
                            } else {
                                cut(status)
                            }
                        }
                        .into(),
                    ),
                    ("by", by.into()),
                ],
            ),
            WebError::Duplicate(D::NotLinked(id)) => {
                lang::format("dash-err-case-not-linked", &[("id", id.into())])
            }
            WebError::Duplicate(D::ReasonRequired) => lang::text("dash-err-decision-reason"),
            WebError::Duplicate(D::NoCluster(id)) => {
                lang::format("dash-err-no-cluster", &[("id", cut(id).into())])
            }
            WebError::Duplicate(D::ClusterChanged(id)) => {
                lang::format("dash-err-cluster-changed", &[("id", cut(id).into())])
            }
            WebError::Duplicate(D::ClusterTooLarge { id, size, max }) => lang::format(
                "dash-err-cluster-too-large",
                &[
                    ("id", cut(id).into()),
                    ("n", (*size as u64).into()),
                    ("max", (*max as u64).into()),
                ],
            ),
            WebError::Duplicate(D::NotInCluster { mention, cluster }) => lang::format(
                "dash-err-not-in-cluster",
                &[
                    ("mention", cut(mention).into()),
                    ("id", cut(cluster).into()),
                ],
            ),
            WebError::Duplicate(D::Unassigned(m)) => {
                lang::format("dash-err-unassigned", &[("mention", cut(m).into())])
            }
            WebError::Duplicate(D::BadGroup { given, max }) => lang::format(
                "dash-err-bad-group",
                &[("given", cut(given).into()), ("max", (*max as u64).into())],
            ),
            WebError::Duplicate(D::SplitsAPerson { a, b }) => lang::format(
                "dash-err-splits-person",
                &[("a", cut(a).into()), ("b", cut(b).into())],
            ),
            WebError::Rollout(crate::rollout::RolloutError::Unknown(code)) => lang::format(
                "dash-err-unknown-municipality",
                &[("code", cut(code).into())],
            ),
            WebError::Csrf => lang::text("dash-err-csrf"),
            WebError::AccessLog(e) => {
                lang::format("dash-err-access-log", &[("detail", e.to_string().into())])
            }
            WebError::Internal(d) => lang::format("dash-err-internal", &[("detail", d.into())]),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "dashboard request failed");
        }
        let title = match status {
            StatusCode::NOT_FOUND => lang::text("dash-err-not-found"),
            StatusCode::FORBIDDEN => lang::text("dash-err-forbidden"),
            StatusCode::CONFLICT => lang::text("dash-err-conflict"),
            StatusCode::BAD_REQUEST => lang::text("dash-err-bad-request"),
            StatusCode::SERVICE_UNAVAILABLE => lang::text("dash-err-busy"),
            _ => lang::text("dash-err-title"),
        };
        let page = templates::page(
            None,
            "message.html",
            minijinja::context! {
                title => format!("{} · {title}", status.as_u16()),
                message => self.message(),
                links => vec![minijinja::Value::from_serialize(serde_json::json!({
                    "href": "/", "text": lang::text("dash-back-overview"),
                }))],
            },
        );
        match page {
            Ok(html) => (status, html).into_response(),
            // The error page itself failed: its words in plain text.
            Err(_) => (status, self.message()).into_response(),
        }
    }
}

/// Runs `f` off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// Headers on every answer: no caching, no framing, no scripts, no referrer.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The dashboard's routes over `ctx`, answering to `hosts`.
pub fn router(ctx: Context, hosts: guard::Hosts) -> axum::Router {
    use axum::routing::{get, post};
    let hosts = Arc::new(hosts);
    axum::Router::new()
        .route("/", get(pages::overview))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/node/{municipality}/{node}", get(pages::node))
        .route("/conflicts", get(pages::conflicts))
        .route("/conflicts/{id}", get(pages::conflict))
        .route("/conflicts/{id}/resolve", post(pages::resolve))
        .route("/duplicates", get(duplicate_pages::duplicates))
        .route("/duplicates/{id}", get(duplicate_pages::duplicate))
        .route("/duplicates/{id}/decide", post(duplicate_pages::decide))
        .route("/clusters", get(cluster_pages::clusters))
        .route("/clusters/{id}", get(cluster_pages::cluster))
        .route("/clusters/{id}/decide", post(cluster_pages::decide))
        .route("/unvoid", get(unvoid_pages::list))
        .route("/unvoid/{id}/answer", post(unvoid_pages::answer))
        .route("/rollout", get(pages::rollout))
        .route("/rollout/{code}", post(pages::set_stage))
        .route("/metrics", get(pages::metrics))
        .route("/verify", get(verify_page::form).post(verify_page::check))
        .route("/lang", get(lang::set))
        .route("/refresh", get(lang::set_refresh))
        .layer(axum::middleware::from_fn(lang::middleware))
        .layer(axum::extract::DefaultBodyLimit::max(guard::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            guard::check_host,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(ctx)
}

/// Samples every node's history every `history_every`, forever.
async fn sample_history(ctx: Context) {
    let mut tick = tokio::time::interval(ctx.settings().history_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let status = ctx.seen().status(ctx.store());
        ctx.history().record(&status, model::now_ms());
    }
}

/// Serves the dashboard on `listener` (and samples history) until the task is dropped.
pub async fn serve(listener: TcpListener, ctx: Context) {
    let local = match listener.local_addr() {
        Ok(a) => {
            tracing::info!(addr = %a, "dashboard listening (plain HTTP: operators sign in; /metrics open)");
            Some(a)
        }
        Err(e) => {
            tracing::warn!(error = %e, "dashboard listener has no local address");
            None
        }
    };
    let hosts = guard::Hosts::new(local, &ctx.settings().hosts);
    let app =
        router(ctx.clone(), hosts).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::select! {
        r = axum::serve(listener, app) => {
            if let Err(e) = r {
                tracing::error!(error = %e, "the dashboard stopped; gRPC sync goes on");
            }
        }
        _ = sample_history(ctx) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::duplicates::DuplicateError as D;
    use crate::review::ReviewError as R;
    use civreg_shared::i18n::Lang;

    fn errors() -> Vec<WebError> {
        vec![
            WebError::Review(R::NotFound("c1".into())),
            WebError::Review(R::AlreadyResolved {
                id: "c1".into(),
                by: "vjosa".into(),
            }),
            WebError::Review(R::ReasonRequired),
            WebError::Review(R::Invalid {
                regno: "R1".into(),
                why: "w".into(),
            }),
            WebError::Duplicate(D::NoCase("d1".into())),
            WebError::Duplicate(D::Decided {
                id: "d1".into(),
                status: "linked".into(),
                by: "vjosa".into(),
            }),
            WebError::Duplicate(D::Decided {
                id: "d1".into(),
                status: "strange".into(),
                by: "vjosa".into(),
            }),
            WebError::Duplicate(D::NotLinked("d1".into())),
            WebError::Duplicate(D::ReasonRequired),
            WebError::Duplicate(D::NoCluster("c1".into())),
            WebError::Duplicate(D::ClusterChanged("c1".into())),
            WebError::Duplicate(D::ClusterTooLarge {
                id: "c1".into(),
                size: 60,
                max: 50,
            }),
            WebError::Duplicate(D::NotInCluster {
                mention: "R/child".into(),
                cluster: "c1".into(),
            }),
            WebError::Duplicate(D::Unassigned("R/child".into())),
            WebError::Duplicate(D::BadGroup {
                given: "x".into(),
                max: 3,
            }),
            WebError::Duplicate(D::SplitsAPerson {
                a: "R/child".into(),
                b: "S/child".into(),
            }),
            WebError::Rollout(crate::rollout::RolloutError::Unknown("x".into())),
            WebError::Unvoid(crate::unvoid::UnvoidError::NotFound("u".into())),
            WebError::Unvoid(crate::unvoid::UnvoidError::ReasonRequired),
            WebError::Unvoid(crate::unvoid::UnvoidError::ReasonTooLong(600)),
            WebError::Unvoid(crate::unvoid::UnvoidError::AlreadyAnswered {
                id: "u".into(),
                state: "granted",
            }),
            WebError::Unvoid(crate::unvoid::UnvoidError::NotVoided("R".into())),
            WebError::Unvoid(crate::unvoid::UnvoidError::NoRecord("R".into())),
            WebError::Csrf,
            WebError::Internal("i".into()),
            WebError::NotFound("n".into()),
        ]
    }

    /// The message of `e` as a request in `lang` words it.
    async fn message_in(lang: Lang, e: &WebError) -> String {
        lang::REQUEST
            .scope(
                lang::RequestInfo {
                    lang,
                    back: "/".into(),
                    paused: false,
                },
                async { e.message() },
            )
            .await
    }

    #[tokio::test]
    async fn the_errors_an_operator_meets_are_said_in_their_language() {
        for lang in Lang::ALL {
            for e in errors() {
                let m = message_in(lang, &e).await;
                assert!(!m.contains("dash-") && !m.contains("{$"), "{lang}: {m}");
            }
        }
        let en = |i: usize| errors().remove(i);
        assert!(message_in(Lang::En, &en(5))
            .await
            .contains("already decided: linked by vjosa"));
        assert!(message_in(Lang::En, &en(6))
            .await
            .contains("strange by vjosa"));
        assert!(message_in(Lang::En, &en(7)).await.contains("not linked"));
        assert_ne!(
            message_in(Lang::Sq, &en(1)).await,
            message_in(Lang::En, &en(1)).await
        );
    }
}
