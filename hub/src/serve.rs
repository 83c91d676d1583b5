//! The composition root: `run_with` opens the PKI, the store, the search index and the access
//! log, and starts every service of the hub (gRPC Sync, Search and Review behind mutual TLS, the
//! control socket, the status file, the dashboard) over them. It is the only module that knows
//! every service; nothing imports it but the binary and the tests.

use crate::metrics::Metrics;
use crate::paths;
use crate::pki::Pki;
use crate::review::service::ReviewService;
use crate::rollout;
use crate::search::service::SearchService;
use crate::status::{Keeper, Kept, Liveness};
use crate::store::{HubStore, StoreError};
use crate::sync::committer;
use crate::sync::service::SyncService;
use crate::sync::tls::{self, TlsReloader};
use civreg_proto::v1::review_server::ReviewServer;
use civreg_proto::v1::search_server::SearchServer;
use civreg_proto::v1::sync_server::SyncServer;
use civreg_proto::MAX_MESSAGE_BYTES;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::ReceiverStream;
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Rollout(#[from] crate::rollout::RolloutError),
    #[error("{0}")]
    Search(#[from] crate::search::SearchError),
    /// `hub_urls` names a host the hub's certificate does not carry.
    #[error("{0}")]
    HubList(#[from] crate::hub_list::NotNamed),
}

/// Serves the hub on `listener` until `shutdown` completes. Tests call this on port 0.
pub async fn run(
    data_dir: &Path,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    run_with(data_dir, listener, RunOptions::default(), shutdown).await
}

/// What `run_with` serves besides gRPC.
#[derive(Default)]
pub struct RunOptions {
    /// Called once the store is open (its lock held) and the control socket answers, before
    /// gRPC is served: `civreg-hub serve` prints its ports here, so that a command started
    /// after the announcement is answered by this hub or refused, never run beside it.
    pub announce: Option<Box<dyn FnOnce() + Send>>,
    /// The operator dashboard and `/metrics` (plain HTTP: keep it on loopback).
    pub http: Option<TcpListener>,
    pub web: crate::web::Settings,
    /// The key file that seals the database (default [`crate::atrest::default_key_path`]).
    pub key_file: Option<PathBuf>,
    /// The store's PostgreSQL URL (`None`: sled under `DATA_DIR/db`).
    pub store: Option<String>,
    /// The `[sync]` and `[search]` sections of the config file (`web` holds `[web]`'s).
    pub sync: crate::config::SyncSettings,
    pub search: crate::config::SearchSettings,
}

/// How long `serve` waits for a store another civreg-hub process holds (a `status`, `show` or
/// `digest` run while no hub served opens the database itself for a moment), or for a
/// PostgreSQL server that does not answer yet (started at the same time as the hub).
pub const STORE_WAIT: Duration = Duration::from_secs(30);

/// Opens the hub's store, waiting up to [`STORE_WAIT`] while another process holds it, as the
/// node's `serve` does, or while its PostgreSQL server is unreachable; says once that it waits.
async fn open_waiting(
    at: &crate::paths::StoreAt,
    key_file: &Path,
) -> Result<HubStore, crate::store::StoreError> {
    let deadline = tokio::time::Instant::now() + STORE_WAIT;
    let mut said = false;
    loop {
        let keys = crate::atrest::load_key(key_file)?;
        let at2 = at.clone();
        let opened = tokio::task::spawn_blocking(move || HubStore::open_at(&at2, keys))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        match opened {
            Err(StoreError::Locked(_)) if tokio::time::Instant::now() < deadline => {
                if !said {
                    info!(db = %at.shown(), wait_s = STORE_WAIT.as_secs(), "the hub database is held by another civreg-hub process (a status, show or digest command?): waiting for it");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(StoreError::Unreachable(why)) if tokio::time::Instant::now() < deadline => {
                if !said {
                    warn!(db = %at.shown(), wait_s = STORE_WAIT.as_secs(), error = %why, "the hub's PostgreSQL database does not answer: trying again");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// [`run`], with the dashboard's listener when `opts.http` is given.
pub async fn run_with(
    data_dir: &Path,
    listener: TcpListener,
    opts: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let pki = Pki::open(&paths::pki_dir(data_dir))?;
    // Every hub listed must be one the offices can verify: refused before anything starts.
    crate::hub_list::check_named(&pki, &opts.web.hub_urls, "hub_urls in the config")?;
    if let Some(key) = pki.legacy_ca_key() {
        warn!(key = %key.display(), "the agency CA's private key is on the serving hub: whoever reads this disk can mint certificates; take it offline with `civreg-hub pki root take-offline --dir OFFLINE_DIR` (operator manual, \"Key ceremony\")");
    }
    let web_pki = pki.clone();
    let svc_pki = pki.clone();
    let share_pki = pki.clone();
    let admission = Arc::new(crate::pki::Admission::new(&pki));
    let revocations = tokio::spawn(crate::live::watch_revocations(admission.clone()));
    let reloader = Arc::new(TlsReloader::new(pki, admission.clone())?);
    let conn_admission = admission.clone();
    let (health, health_svc) = tonic_health::server::health_reporter();
    health.set_not_serving::<SyncServer<SyncService>>().await;
    // What an older version, or a hub started by hand under umask 022, left readable by others.
    crate::atrest::tighten_logged(data_dir)?;
    let key_file =
        (opts.key_file.clone()).unwrap_or_else(|| crate::atrest::default_key_path(data_dir));
    crate::atrest::warn_if_key_inside(data_dir, &key_file);
    let at = paths::StoreAt::of(data_dir, opts.store.as_deref());
    let store = Arc::new(open_waiting(&at, &key_file).await?);
    // The rollout plan and operator accounts of an earlier version's files, into the store
    // once (then the files are no longer read).
    {
        let (st, dir) = (store.clone(), data_dir.to_path_buf());
        tokio::task::spawn_blocking(move || crate::control::ask::import_files(&dir, &st))
            .await
            .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?
            .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    }
    // The registry of issued certificates, shared with every hub over the store: exchanged
    // once now (an earlier version's registry goes into the store), then followed.
    let mut follower = crate::pki::shared::Follower::new(share_pki);
    let pki_share = {
        let st = store.clone();
        let (mut f, first) = tokio::task::spawn_blocking(move || {
            let r = follower.tick(&st);
            (follower, r)
        })
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
        first.map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
        let st = store.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(crate::pki::shared::FOLLOW_EVERY).await;
                let st = st.clone();
                let Ok((back, r)) = tokio::task::spawn_blocking(move || {
                    let r = f.tick(&st);
                    (f, r)
                })
                .await
                else {
                    return;
                };
                f = back;
                if let Err(e) = r {
                    warn!(error = %e, "the registry of issued certificates was not exchanged with the store; trying again");
                }
            }
        })
    };
    let metrics = Arc::new(Metrics::default());
    let seen = Liveness::new();
    // Every hub's address as this hub was started with it, for `civreg-hub status`.
    // (The same list goes with heartbeats when no list is stored: `SyncService::hub_urls`.)
    let hub_urls = Arc::new(opts.web.hub_urls.clone());
    // The operator dashboard and /metrics, served below once everything is open.
    let web = opts.http.map(|http| {
        let ctx = crate::web::Context::new(
            data_dir,
            store.clone(),
            seen.clone(),
            metrics.clone(),
            web_pki,
            opts.web,
        );
        (http, ctx)
    });
    // What the dashboard showed before a restart (heard, errors, refusals, the 24-hour history).
    let kept = {
        let history = web.as_ref().map(|(_, ctx)| ctx.history_handle());
        let (st, se, me, hi) = (
            store.clone(),
            seen.clone(),
            metrics.clone(),
            history.clone(),
        );
        let keeper = tokio::task::spawn_blocking(move || {
            Keeper::load(
                &st,
                &se,
                &me,
                hi.as_deref(),
                civreg_runtime::clock::now_ms(),
            )
        })
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
        Kept {
            keeper: Arc::new(std::sync::Mutex::new(keeper)),
            store: store.clone(),
            seen: seen.clone(),
            metrics: metrics.clone(),
            history,
        }
    };
    let keep_task = tokio::spawn(crate::status::keep_loop(kept.clone()));
    let svc = SyncService {
        rollout: Arc::new(rollout::Watcher::follow(store.clone())?),
        committer: committer::spawn(
            store.clone(),
            metrics.clone(),
            opts.sync.group_max_pushes,
            opts.sync.group_max_ops,
        ),
        push_in_flight: opts.sync.push_in_flight,
        store,
        seen,
        metrics: metrics.clone(),
        pki: svc_pki,
        admission: admission.clone(),
        node_model: Default::default(),
        hub_urls: hub_urls.clone(),
    };
    // The national search index follows the feed on its own thread.
    let search_index = Arc::new(crate::search::SearchIndex::open(data_dir)?);
    let _indexer = search_index.follow(svc.store.clone(), opts.search.index_interval());
    let access_log = Arc::new(crate::access::AccessLog::open(data_dir)?);
    health.set_serving::<SyncServer<SyncService>>().await;
    // Commands (`show`, `status`, ...) reach the live store through DATA_DIR/hub.sock.
    let control = crate::control::ControlServer::start(
        data_dir,
        Arc::new(crate::control::HubState {
            store: svc.store.clone(),
            seen: svc.seen.clone(),
            running: true,
            search: std::sync::OnceLock::from(search_index.clone()),
            data_dir: data_dir.to_path_buf(),
            hub_urls: hub_urls.to_vec(),
        }),
    )
    .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    if let Some(announce) = opts.announce {
        announce();
    }
    let status_task = tokio::spawn(crate::status::write_status_loop(
        data_dir.to_path_buf(),
        svc.store.clone(),
        svc.seen.clone(),
    ));
    let web_task = web.map(|(http, ctx)| tokio::spawn(crate::web::serve(http, ctx)));
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(civreg_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;
    // The same services under the older name many clients (grpcurl builds, IDEs) still ask for.
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(civreg_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))?;

    let local = listener.local_addr()?;
    info!(addr = %local, "hub listening (mutual TLS only)");
    let (accept, rx) = tls::accept(
        listener,
        reloader,
        metrics,
        conn_admission,
        opts.sync.handshake_timeout(),
    );
    let result = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(opts.sync.keepalive_interval()))
        .http2_keepalive_timeout(Some(opts.sync.keepalive_timeout()))
        .layer(tonic::service::InterceptorLayer::new(crate::live::admit(
            admission,
        )))
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(
            SearchServer::new(SearchService {
                index: search_index.clone(),
                log: access_log.clone(),
                rollout: svc.rollout.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ReviewServer::new(ReviewService {
                store: svc.store.clone(),
                rollout: svc.rollout.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            SyncServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await;
    accept.abort();
    revocations.abort();
    pki_share.abort();
    status_task.abort();
    control.stop().await;
    if let Some(t) = web_task {
        t.abort();
    }
    // What changed since the last round is kept before the hub stops.
    keep_task.abort();
    let _ = keep_task.await;
    kept.save().await;
    result?;
    Ok(())
}
