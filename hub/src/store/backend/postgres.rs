//! The PostgreSQL backend: the store's keys and values in one table of a PostgreSQL database,
//! for a hub whose database an IT department runs, backs up and replicates (issue 19).
//!
//! - **Schema**: one table, `civreg_hub_kv (key bytea primary key, value bytea)`; `bytea`
//!   compares as unsigned bytes, so the table's order is the store's key order. The layout mark
//!   is the entry `m/layout`, as in sled. The schema is made by versioned migrations
//!   ([`MIGRATIONS`]), applied at open under an advisory lock and recorded in a table of their
//!   own, `civreg_hub_schema`; a database whose schema is newer than this binary knows is
//!   refused ([`StoreError::Backend`], saying so).
//! - **Batches**: [`HubBackend::apply`] is one transaction on the writer's connection (one
//!   upsert of every put, one delete of every removed key, later writes of a key winning).
//!   [`HubBackend::apply_if`] is the same transaction, which first takes the advisory lock
//!   [`WRITE_LOCK`] (`pg_advisory_xact_lock`, held until the commit), then reads the expected
//!   keys (`READ COMMITTED`: that statement sees every commit made before the lock was granted),
//!   compares, and writes and commits, or rolls back and names the keys that differ. The lock
//!   goes with the commit, once the batch is visible, so the next conditional writer, of any hub
//!   process, reads what this one wrote; and conditional batches become visible one after
//!   another, in the order they took the lock (the store's feed positions among them: readers
//!   never skip an op).
//! - **Round trips**: a transaction's statements are pipelined, each flight sent at once and
//!   answered in order ([`transaction`]): `BEGIN`, the lock and the read of the expected keys
//!   (which the server runs only once the lock is granted, so its snapshot is taken then); then
//!   the delete, the upsert and `COMMIT`. Every statement is sent with its parameter types
//!   (`query_typed`: no round trip to prepare it, and no cache of prepared statements per
//!   connection). [`HubBackend::get_many`] reads many keys in one statement (`key = ANY($1)`):
//!   a group commit reads every bucket it merges into at once.
//! - **Durability**: `apply` returns once `COMMIT` has returned, and PostgreSQL answers a
//!   `COMMIT` only once the commit is as durable as `synchronous_commit` says: on the primary's
//!   disk (`on`, `local`), or, with `synchronous_standby_names`, on the standbys too
//!   (`remote_write`, `on`, `remote_apply`). So everything applied is durable when `apply`
//!   returns and [`HubBackend::flush`] has nothing left to do. A session whose
//!   `synchronous_commit` is `off` (a commit answered before its WAL is on disk) would break
//!   "acknowledged means durable": the backend sets it back to `on` for its own sessions, with a
//!   warning. A `COMMIT` whose answer is lost (the connection broke after it was sent) is
//!   looked up on a new connection ([`retry`]): reported committed if it was, sent again if it
//!   was not. Only when the look-up can not be made within the retry deadline is it an error
//!   although it may have committed: nothing is acknowledged, and the node sends the batch
//!   again; the store's cached head is then behind the pushed batch's base, so it reads the
//!   head again (the several-writers rule of `store/commit.rs`) and takes the resend as a
//!   replay.
//! - **Scans** read lazily, in keyset pages of [`PAGE`] entries (`key > last ORDER BY key
//!   LIMIT n`), each page its own statement: no snapshot and no transaction held between pages,
//!   as the trait allows; never a whole keyspace in memory.
//! - **Threads and runtimes**: the trait is synchronous and is called from blocking threads (the
//!   committer, `spawn_blocking`) but also from inside tokio workers (the dashboard's handlers
//!   read the store directly). The async driver (tokio-postgres) therefore runs on a runtime of
//!   the backend's own ([`Bridge`]); a call hands its future to that runtime and waits on a
//!   channel, which never nests one runtime in another. Reads share a few pipelined
//!   connections; writes have one connection of their own. A connection that broke (the server
//!   restarted, a failover) is made again at its next use.
//! - **Failover**: a request that fails for want of a connection (the server restarted or
//!   was killed, a standby promoted in its place) is retried on a new connection with
//!   exponential back-off within a deadline (`civreg_retry_secs` in the URL, 30 s by default);
//!   with several hosts and `target_session_attrs=read-write` the new connection finds the
//!   server that takes writes. A write whose `COMMIT` went unanswered is looked up before it
//!   is attempted again, so it is reported committed only if it was: the [`retry`] module.
//! - **TLS**: `sslmode` as libpq reads it ([`SslMode`]): `disable`; `prefer` (the default) and
//!   `require`: encrypted, the certificate unchecked unless `sslrootcert` is given; `verify-ca`:
//!   the certificate must chain to `sslrootcert`; `verify-full`: and name the host.

use super::{Applied, Batch, Entries, Expected, HubBackend, KeyValue};
use crate::store::{aux, StoreError};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

mod replication;
mod retry;
pub use replication::Standby;
pub use retry::DEFAULT_DEADLINE as DEFAULT_RETRY_DEADLINE;

/// Entries one page of a scan reads.
pub const PAGE: i64 = 512;

/// Connections shared by reads (pipelined: several reads may be in flight on each).
const READERS: usize = 3;

/// How long connecting (TCP, TLS, authentication) may take before the server is said to be
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The table of the store's entries.
const TABLE: &str = "civreg_hub_kv";

/// The schema's migrations, in order: `(version, what it does, SQL)`. Each runs once, in the
/// transaction that records it in `civreg_hub_schema`. Append only: a released migration never
/// changes.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "the store's entries: one ordered table of byte keys and values",
        "CREATE TABLE civreg_hub_kv (key bytea PRIMARY KEY, value bytea NOT NULL)",
    ),
    // Most values are sealed (encrypted: incompressible) and between 2 and 8 KB (record
    // buckets, runs of ops). PostgreSQL's default would try to compress each value over 2 KB
    // and then move it out of line, a few rows of the table's TOAST table per value: values
    // are now kept in the row up to a page (8160 bytes) and never compressed. Rows written
    // before keep their storage until they are written again.
    (
        2,
        "values kept in their row up to a page, never compressed (they are sealed)",
        "ALTER TABLE civreg_hub_kv ALTER COLUMN value SET STORAGE EXTERNAL;
         ALTER TABLE civreg_hub_kv SET (toast_tuple_target = 8160)",
    ),
];

/// The schema version this binary writes (the last migration's).
pub fn schema_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// An arbitrary constant: the advisory lock under which migrations run, so that two hubs
/// starting at once over one database migrate it once.
const MIGRATION_LOCK: i64 = 0x6369_7672_6567_0001;

/// The advisory lock every conditional write ([`HubBackend::apply_if`]) holds from before it
/// reads its expected keys until its commit, across every hub process over the database.
/// One lock rather than one per key: every group commit that adds ops lists the feed position
/// counter, so those are one at a time anyway, and one lock can not deadlock.
const WRITE_LOCK: i64 = 0x6369_7672_6567_0002;

/// The session advisory lock under which a store upgrades the layout of its keys and values at
/// open ([`HubBackend::with_layout_lock`]): two hubs starting at once over a database of an
/// older layout upgrade it once; the second waits, then finds the new layout.
const LAYOUT_LOCK: i64 = 0x6369_7672_6567_0003;

/// Whether a `--store` value names a PostgreSQL database rather than a directory.
pub fn is_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// How the connection uses TLS (`sslmode` in the URL, as libpq reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A store URL, checked: the driver's settings, the TLS mode and root certificate, and the
/// URL without its password (for messages).
#[derive(Debug, Clone)]
pub struct Target {
    config: tokio_postgres::Config,
    pub ssl: SslMode,
    pub root_cert: Option<PathBuf>,
    pub shown: String,
    /// How long a request goes on retrying while the server is unreachable
    /// (`civreg_retry_secs`, [`retry`]).
    pub retry_for: Duration,
}

fn bad_url(shown: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!(
        "the store {shown} is not a usable PostgreSQL URL: {why}; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=/path/to/ca.pem"
    ))
}

/// The URL with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let auth = &rest[..auth_end];
    match (auth.rfind('@'), auth.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &auth[..colon],
            &rest[at..]
        ),
        _ => url.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Target {
    /// Reads a `postgres://` URL. `sslmode` and `sslrootcert` are read here (the driver knows
    /// neither `verify-ca`, `verify-full` nor root certificates); everything else is the
    /// driver's (`connect_timeout`, `target_session_attrs`, `application_name`, several hosts).
    pub fn parse(url: &str) -> Result<Target, StoreError> {
        let shown = redact(url);
        if !is_url(url) {
            return Err(bad_url(&shown, "it does not start with postgres://"));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        let mut retry_for = retry::DEFAULT_DEADLINE;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => {
                    ssl = match v {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(bad_url(
                                &shown,
                                format!("sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"),
                            ))
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v))),
                retry::PARAM => retry_for = retry::parse_deadline(v).map_err(|e| bad_url(&shown, e))?,
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: tokio_postgres::Config = rebuilt.parse().map_err(|e| bad_url(&shown, e))?;
        if matches!(ssl, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
            return Err(bad_url(
                &shown,
                "sslmode=verify-ca and verify-full check the server's certificate against a CA: add sslrootcert=/path/to/ca.pem (the CA that signed the PostgreSQL server's certificate)",
            ));
        }
        if config.get_hosts().is_empty() {
            return Err(bad_url(&shown, "it names no host"));
        }
        if config.get_user().is_none() {
            return Err(bad_url(&shown, "it names no user"));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.ssl_mode(match ssl {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        config.application_name("civreg-hub");
        Ok(Target {
            config,
            ssl,
            root_cert,
            shown,
            retry_for,
        })
    }

    /// The TLS connector for this target (reads the root certificate).
    fn tls(&self) -> Result<tls::MakeRustls, StoreError> {
        let roots = match &self.root_cert {
            None => None,
            Some(path) => {
                let fail = |why: String| {
                    StoreError::Backend(format!(
                        "the store's sslrootcert {}: {why}; give the PEM file of the CA that signed the PostgreSQL server's certificate",
                        path.display()
                    ))
                };
                use rustls_pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| fail(e.to_string()))?;
                for c in certs {
                    let c = c.map_err(|e| fail(e.to_string()))?;
                    roots.add(c).map_err(|e| fail(e.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(fail("it holds no certificate".into()));
                }
                Some(roots)
            }
        };
        tls::MakeRustls::new(self.ssl, roots).map_err(StoreError::Backend)
    }
}

/// What went wrong talking to PostgreSQL, said so that an operator knows what to fix.
fn pg_error(shown: &str, e: &tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let what = match code {
            "28P01" | "28000" => format!(
                "PostgreSQL refused the login at {shown}: {}; check the user and password in the store URL (and pg_hba.conf)",
                db.message()
            ),
            "3D000" => format!(
                "{}: create the database first (createdb), or correct the store URL {shown}",
                db.message()
            ),
            "42501" => format!(
                "{}: the store URL's user needs the right to create tables in the database's schema (or have an administrator run civreg-hub once as its owner); store {shown}",
                db.message()
            ),
            "57P03" | "57P01" | "57P02" | "57P05" => {
                return StoreError::Unreachable(format!(
                    "PostgreSQL at {shown} is not accepting connections ({}): wait for it to start, or check the store URL",
                    db.message()
                ))
            }
            c if c.starts_with("08") => {
                return StoreError::Unreachable(format!(
                    "the connection to PostgreSQL at {shown} failed ({}, {code}): the server stopped or the network failed",
                    db.message()
                ))
            }
            "25006" => {
                return StoreError::Unreachable(format!(
                    "PostgreSQL at {shown} is a read-only standby ({}): after a failover, list every server in the store URL with target_session_attrs=read-write so that the hub finds the new primary",
                    db.message()
                ))
            }
            _ => format!("PostgreSQL at {shown}: {} ({code})", db.message()),
        };
        return StoreError::Backend(what);
    }
    if e.is_closed() {
        return StoreError::Unreachable(format!(
            "the connection to PostgreSQL at {shown} closed: the server stopped or the network failed; the hub connects again at its next request"
        ));
    }
    // Connection-level failures (refused, timed out, TLS): the source says which.
    let mut why = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        why = format!("{why}: {s}");
        src = s.source();
    }
    if why.contains("certificate") || why.contains("tls") || why.contains("TLS") {
        return StoreError::Backend(format!(
            "TLS with PostgreSQL at {shown} failed: {why}; check sslmode and sslrootcert in the store URL, and the server's certificate"
        ));
    }
    StoreError::Unreachable(format!(
        "cannot reach PostgreSQL at {shown}: {why}; check that the server runs and that the host and port in the store URL are right"
    ))
}

/// A runtime of the backend's own, on which every future of the driver runs; see the module
/// documentation.
struct Bridge {
    rt: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    fn new() -> Result<Bridge, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("civreg-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("starting the PostgreSQL client: {e}")))?;
        Ok(Bridge { rt: Some(rt) })
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.rt
            .as_ref()
            .expect("the runtime lives until drop")
            .handle()
    }

    /// Runs `fut` on the backend's runtime and waits for it, from any thread (a tokio worker
    /// included: this blocks the calling thread, as a sled read does, and never enters a
    /// runtime from inside another).
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle().spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .expect("the PostgreSQL client's runtime runs until the backend is dropped")
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which panics inside another runtime (a store
        // dropped by an async task): let them go in the background instead.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// One connection, made again when it broke.
struct Slot {
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

/// What connects: the target and its TLS connector.
#[derive(Clone)]
struct Connector {
    config: tokio_postgres::Config,
    tls: tls::MakeRustls,
    shown: Arc<str>,
}

impl Connector {
    async fn connect(&self) -> Result<Client, StoreError> {
        let (client, conn) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| pg_error(&self.shown, &e))?;
        let shown = self.shown.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(store = %shown, error = %e, "the connection to PostgreSQL ended");
            }
        });
        let sc: String = client
            .query_one("SHOW synchronous_commit", &[])
            .await
            .map_err(|e| pg_error(&self.shown, &e))?
            .get(0);
        if sc == "off" {
            tracing::warn!(store = %self.shown, "synchronous_commit is off for this database: the hub sets it to on for its own sessions, so that nothing is acknowledged before it is durable");
            client
                .batch_execute("SET synchronous_commit = on")
                .await
                .map_err(|e| pg_error(&self.shown, &e))?;
        }
        Ok(client)
    }

    /// The slot's connection, made (again) if there is none or it broke.
    async fn client(&self, slot: &Slot) -> Result<Arc<Client>, StoreError> {
        let mut held = slot.client.lock().await;
        if let Some(c) = held.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(self.connect().await?);
        *held = Some(c.clone());
        Ok(c)
    }
}

pub struct PostgresBackend {
    bridge: Bridge,
    connector: Connector,
    readers: Arc<Vec<Slot>>,
    next_reader: AtomicUsize,
    /// The writer's connection: one transaction at a time.
    writer: Arc<tokio::sync::Mutex<Option<Client>>>,
    location: String,
    /// How long a request retries while the server is unreachable ([`retry`]).
    retry_for: Duration,
    /// The last answer about replication, for `/metrics` ([`replication`]).
    replication: std::sync::Mutex<replication::Cached>,
}

fn layout_key() -> Vec<u8> {
    aux::META.key(aux::META_LAYOUT)
}

impl PostgresBackend {
    /// Connects to the database `url` names and brings its schema to this binary's version
    /// ([`MIGRATIONS`]). An unreachable server is [`StoreError::Unreachable`] (the caller may
    /// wait and try again); a bad URL, refused login, or a schema newer than this binary knows
    /// is [`StoreError::Backend`], saying what to fix.
    pub fn open(url: &str) -> Result<PostgresBackend, StoreError> {
        let target = Target::parse(url)?;
        let bridge = Bridge::new()?;
        let connector = Connector {
            tls: target.tls()?,
            config: target.config.clone(),
            shown: target.shown.clone().into(),
        };
        let c = connector.clone();
        let writer = bridge.run(async move {
            let mut client = c.connect().await?;
            migrate(&mut client, &c.shown).await?;
            Ok::<_, StoreError>(client)
        })?;
        Ok(PostgresBackend {
            bridge,
            connector,
            readers: Arc::new(
                (0..READERS)
                    .map(|_| Slot {
                        client: tokio::sync::Mutex::new(None),
                    })
                    .collect(),
            ),
            next_reader: AtomicUsize::new(0),
            writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
            location: target.shown,
            retry_for: target.retry_for,
            replication: std::sync::Mutex::new(None),
        })
    }

    /// Runs `f` with a reader connection, on the backend's runtime; retried on a new
    /// connection while the server is unreachable, within the deadline ([`retry`]).
    fn read<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Client>, Arc<str>) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let (readers, connector) = (self.readers.clone(), self.connector.clone());
        let mut attempts = retry::Attempts::new(self.retry_for);
        self.bridge.run(async move {
            let mut n = first;
            loop {
                let slot = &readers[n % READERS];
                n = n.wrapping_add(1);
                let tried = match connector.client(slot).await {
                    Ok(client) => f.clone()(client, connector.shown.clone()).await,
                    Err(e) => Err(e),
                };
                match tried {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        let wait = attempts.next(e)?;
                        // Made again at its next use.
                        *slot.client.lock().await = None;
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    /// One page of a scan: up to [`PAGE`] entries after `after` (or from `from`), before `to`.
    fn page(
        &self,
        from: Vec<u8>,
        inclusive: bool,
        to: Option<Vec<u8>>,
    ) -> Result<Vec<KeyValue>, StoreError> {
        self.read(move |c, shown| async move {
            let cmp = if inclusive { ">=" } else { ">" };
            let rows = match &to {
                Some(to) => {
                    c.query_typed(
                        &format!("SELECT key, value FROM {TABLE} WHERE key {cmp} $1 AND key < $2 ORDER BY key LIMIT $3"),
                        &[(&from, Type::BYTEA), (to, Type::BYTEA), (&PAGE, Type::INT8)],
                    )
                    .await
                }
                None => {
                    c.query_typed(
                        &format!("SELECT key, value FROM {TABLE} WHERE key {cmp} $1 ORDER BY key LIMIT $2"),
                        &[(&from, Type::BYTEA), (&PAGE, Type::INT8)],
                    )
                    .await
                }
            }
            .map_err(|e| pg_error(&shown, &e))?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn put_one(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.put(key, value);
        self.apply(batch)
    }
}

/// Applies the migrations the database lacks, in one transaction under an advisory lock;
/// refuses a schema newer than this binary's.
async fn migrate(client: &mut Client, shown: &str) -> Result<(), StoreError> {
    let err = |e: tokio_postgres::Error| pg_error(shown, &e);
    let tx = client.transaction().await.map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS civreg_hub_schema (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(err)?;
    let have: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM civreg_hub_schema",
            &[],
        )
        .await
        .map_err(err)?
        .get(0);
    if have > schema_version() {
        return Err(StoreError::Backend(format!(
            "the PostgreSQL database at {shown} has schema version {have}, newer than this civreg-hub knows (up to {}): it was written by a newer civreg-hub; run that version (or a newer one), never an older one, over this database",
            schema_version()
        )));
    }
    for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        tx.batch_execute(sql).await.map_err(err)?;
        tx.execute(
            "INSERT INTO civreg_hub_schema (version, description) VALUES ($1, $2)",
            &[version, description],
        )
        .await
        .map_err(err)?;
        tracing::info!(store = %shown, version, description, "PostgreSQL schema migrated");
    }
    tx.commit().await.map_err(err)
}

impl PostgresBackend {
    /// One transaction on the writer's connection: with `expected`, under [`WRITE_LOCK`] and
    /// only if every expected key holds its value (else rolled back, the differing keys named);
    /// then every write (later writes of a key winning), then `COMMIT`.
    fn write(
        &self,
        expected: Option<Vec<Expected>>,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<Applied, StoreError> {
        // Later writes of a key win: one final write per key.
        let last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = writes.into_iter().collect();
        let (mut put_k, mut put_v, mut del) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in last {
            match v {
                Some(v) => {
                    put_k.push(k);
                    put_v.push(v);
                }
                None => del.push(k),
            }
        }
        let (writer, connector) = (self.writer.clone(), self.connector.clone());
        self.bridge.run(async move {
            let shown = connector.shown.clone();
            let mut held = writer.lock().await;
            if held.as_ref().is_none_or(Client::is_closed) {
                *held = None;
                *held = Some(connector.connect().await?);
            }
            let client = held.as_ref().expect("connected above");
            match transaction(client, expected, del, put_k, put_v).await {
                Ok(applied) => Ok(applied),
                Err(e) => {
                    // Whatever stopped it, nothing of it stays: end the transaction (a no-op
                    // when it was already ended, or the connection broke).
                    let _ = client.batch_execute("ROLLBACK").await;
                    Err(pg_error(&shown, &e))
                }
            }
        })
    }
}

/// The statements of one write ([`PostgresBackend::write`]), pipelined: each flight of
/// statements is sent at once and answered in order, so a conditional write is three round
/// trips (`BEGIN`, the lock and the read of the expected keys; the writes and `COMMIT`; a
/// rollback instead on a conflict) and an unconditional one is one. Every statement is sent
/// with its parameter types (`query_typed`), which needs no round trip to prepare it. On an
/// error the transaction may be open still: the caller rolls it back.
async fn transaction(
    client: &Client,
    expected: Option<Vec<Expected>>,
    del: Vec<Vec<u8>>,
    put_k: Vec<Vec<u8>>,
    put_v: Vec<Vec<u8>>,
) -> Result<Applied, tokio_postgres::Error> {
    let begin = client.batch_execute("BEGIN");
    if let Some(expected) = expected {
        let keys: Vec<&[u8]> = expected.iter().map(|(k, _)| k.as_slice()).collect();
        // The read is sent right behind the lock and runs once the lock is granted: under
        // READ COMMITTED its snapshot is taken then, so it sees every commit made before.
        let lock = client.execute_typed(
            "SELECT pg_advisory_xact_lock($1)",
            &[(&WRITE_LOCK, Type::INT8)],
        );
        let read = async {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            client
                .query_typed(
                    &format!("SELECT key, value FROM {TABLE} WHERE key = ANY($1)"),
                    &[(&keys, Type::BYTEA_ARRAY)],
                )
                .await
        };
        let (begun, locked, rows) = tokio::join!(begin, lock, read);
        begun?;
        locked?;
        let now: BTreeMap<Vec<u8>, Vec<u8>> =
            rows?.into_iter().map(|r| (r.get(0), r.get(1))).collect();
        let differ: Vec<Vec<u8>> = expected
            .iter()
            .filter(|(k, v)| now.get(k) != v.as_ref())
            .map(|(k, _)| k.clone())
            .collect();
        if !differ.is_empty() {
            client.batch_execute("ROLLBACK").await?;
            return Ok(Applied::Conflict(differ));
        }
        let (deleted, put, committed) = tokio::join!(
            delete(client, &del),
            upsert(client, &put_k, &put_v),
            client.batch_execute("COMMIT")
        );
        deleted?;
        put?;
        // Returns once the commit is durable as synchronous_commit says (module docs).
        committed?;
    } else {
        let (begun, deleted, put, committed) = tokio::join!(
            begin,
            delete(client, &del),
            upsert(client, &put_k, &put_v),
            client.batch_execute("COMMIT")
        );
        begun?;
        deleted?;
        put?;
        committed?;
    }
    Ok(Applied::Done)
}

/// Removes `keys` (one statement; nothing when there are none).
async fn delete(client: &Client, keys: &[Vec<u8>]) -> Result<(), tokio_postgres::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    client
        .execute_typed(
            &format!("DELETE FROM {TABLE} WHERE key = ANY($1)"),
            &[(&keys, Type::BYTEA_ARRAY)],
        )
        .await
        .map(|_| ())
}

/// Writes `keys` and their `values` (one statement; nothing when there are none).
async fn upsert(
    client: &Client,
    keys: &[Vec<u8>],
    values: &[Vec<u8>],
) -> Result<(), tokio_postgres::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    client
        .execute_typed(
            &format!(
                "INSERT INTO {TABLE} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            &[(&keys, Type::BYTEA_ARRAY), (&values, Type::BYTEA_ARRAY)],
        )
        .await
        .map(|_| ())
}

impl HubBackend for PostgresBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.read(move |c, shown| async move {
            let row = c
                .query_typed_opt(
                    &format!("SELECT value FROM {TABLE} WHERE key = $1"),
                    &[(&key, Type::BYTEA)],
                )
                .await
                .map_err(|e| pg_error(&shown, &e))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if let [key] = keys {
            return Ok(vec![self.get(key)?]);
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        self.read(move |c, shown| async move {
            let rows = c
                .query_typed(
                    &format!("SELECT key, value FROM {TABLE} WHERE key = ANY($1)"),
                    &[(&keys, Type::BYTEA_ARRAY)],
                )
                .await
                .map_err(|e| pg_error(&shown, &e))?;
            let found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
                rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
        })
    }

    fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_> {
        if to.is_some_and(|to| to <= from) {
            return Box::new(std::iter::empty());
        }
        let to = to.map(<[u8]>::to_vec);
        let mut next = from.to_vec();
        let mut inclusive = true;
        let mut buf: VecDeque<KeyValue> = VecDeque::new();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if buf.is_empty() && !done {
                match self.page(next.clone(), inclusive, to.clone()) {
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                    Ok(page) => {
                        done = (page.len() as i64) < PAGE;
                        if let Some((k, _)) = page.last() {
                            next = k.clone();
                            inclusive = false;
                        }
                        buf.extend(page);
                    }
                }
            }
            buf.pop_front().map(Ok)
        }))
    }

    fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        if from > to {
            return Ok(None);
        }
        let (from, to) = (from.to_vec(), to.to_vec());
        self.read(move |c, shown| async move {
            let row = c
                .query_typed_opt(
                    &format!("SELECT key, value FROM {TABLE} WHERE key >= $1 AND key <= $2 ORDER BY key DESC LIMIT 1"),
                    &[(&from, Type::BYTEA), (&to, Type::BYTEA)],
                )
                .await
                .map_err(|e| pg_error(&shown, &e))?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        })
    }

    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        match self.write_retrying(None, batch.into_writes())? {
            Applied::Done => Ok(()),
            Applied::Conflict(_) => unreachable!("an unconditional write has no conditions"),
        }
    }

    fn apply_if(&self, expected: &[Expected], batch: &Batch) -> Result<Applied, StoreError> {
        self.write_retrying(Some(expected.to_vec()), batch.writes().to_vec())
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every apply has committed durably before it returned (module documentation).
        Ok(())
    }

    fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&layout_key())
    }

    fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
        // Its own transaction, after every earlier one committed.
        self.put_one(layout_key(), mark.to_vec())
    }

    fn with_layout_lock(
        &self,
        f: &mut dyn FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A connection of its own: the lock is the session's, and ends with it.
        let connector = self.connector.clone();
        let client = self.bridge.run(async move {
            let client = connector.connect().await?;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&LAYOUT_LOCK])
                .await
                .map_err(|e| pg_error(&connector.shown, &e))?;
            Ok::<_, StoreError>(client)
        })?;
        let out = f();
        let shown = self.connector.shown.clone();
        let unlocked = self.bridge.run(async move {
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&LAYOUT_LOCK])
                .await
                .map_err(|e| pg_error(&shown, &e))
        });
        out?;
        unlocked.map(|_| ())
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn replication(&self) -> Option<Result<Vec<Standby>, StoreError>> {
        self.replication_cached()
    }
}

/// TLS for the driver over rustls (ring), as [`SslMode`] asks.
mod tls {
    use super::SslMode;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

    #[derive(Clone)]
    pub struct MakeRustls {
        config: Arc<rustls::ClientConfig>,
    }

    /// Checks the server's certificate against the roots (`verify-ca`: the chain only;
    /// `verify-full`: and the host name), or not at all (`prefer`/`require` without roots:
    /// encryption against a passive listener only, as libpq does). Handshake signatures are
    /// always checked.
    #[derive(Debug)]
    struct Verifier {
        chain: Option<Arc<dyn ServerCertVerifier>>,
        check_name: bool,
        provider: Arc<rustls::crypto::CryptoProvider>,
    }

    impl ServerCertVerifier for Verifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            let Some(chain) = &self.chain else {
                return Ok(ServerCertVerified::assertion());
            };
            match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) if !self.check_name => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }

    impl MakeRustls {
        pub fn new(
            mode: SslMode,
            roots: Option<rustls::RootCertStore>,
        ) -> Result<MakeRustls, String> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let chain: Option<Arc<dyn ServerCertVerifier>> = match roots {
                Some(roots) => Some(
                    rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        provider.clone(),
                    )
                    .build()
                    .map_err(|e| format!("the store's sslrootcert: {e}"))?,
                ),
                None => None,
            };
            let verifier = Verifier {
                chain,
                check_name: mode == SslMode::VerifyFull,
                provider: provider.clone(),
            };
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS for PostgreSQL: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            Ok(MakeRustls {
                config: Arc::new(config),
            })
        }
    }

    pub struct Connect {
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    }

    impl<S> MakeTlsConnect<S> for MakeRustls
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        type Stream = Stream<S>;
        type TlsConnect = Connect;
        type Error = rustls::pki_types::InvalidDnsNameError;

        fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, Self::Error> {
            Ok(Connect {
                config: self.config.clone(),
                name: ServerName::try_from(domain)?.to_owned(),
            })
        }
    }

    impl<S> TlsConnect<S> for Connect
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        type Stream = Stream<S>;
        type Error = std::io::Error;
        type Future = Pin<Box<dyn Future<Output = std::io::Result<Stream<S>>> + Send>>;

        fn connect(self, stream: S) -> Self::Future {
            let connector = tokio_rustls::TlsConnector::from(self.config);
            Box::pin(async move { Ok(Stream(connector.connect(self.name, stream).await?)) })
        }
    }

    pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

    impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
        fn channel_binding(&self) -> ChannelBinding {
            // SCRAM without channel binding (scram-sha-256, not -plus): the certificate checks
            // above are what tie the session to the server.
            ChannelBinding::none()
        }
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_is_read_with_its_tls_mode_and_its_password_never_shown() {
        let t = Target::parse("postgres://hub:s3cret@db.example:5433/civreg?sslmode=verify-full&sslrootcert=/etc/ca%20x.pem&target_session_attrs=read-write").unwrap();
        assert_eq!(t.ssl, SslMode::VerifyFull);
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/ca x.pem")));
        assert_eq!(t.shown, "postgres://hub:***@db.example:5433/civreg?sslmode=verify-full&sslrootcert=/etc/ca%20x.pem&target_session_attrs=read-write");
        assert_eq!(t.config.get_ports(), &[5433]);
        assert_eq!(
            t.config.get_target_session_attrs(),
            tokio_postgres::config::TargetSessionAttrs::ReadWrite
        );
        let t = Target::parse("postgresql://hub@localhost/civreg").unwrap();
        assert_eq!(t.ssl, SslMode::Prefer);
        for (url, says) in [
            ("postgres://hub:pw@h/db?sslmode=verify-full", "sslrootcert"),
            (
                "postgres://hub:pw@h/db?sslmode=sometimes",
                "sslmode=sometimes",
            ),
            ("mysql://hub:pw@h/db", "postgres://"),
            ("postgres://hub:pw@h:notaport/db", "usable"),
        ] {
            let e = Target::parse(url).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("pw@"), "the password is never shown: {e}");
        }
    }

    fn versions(db: &civreg_testkit::postgres::Database) -> String {
        civreg_testkit::postgres::cluster().psql(
            &db.name,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM civreg_hub_schema",
        )
    }

    #[test]
    fn migrations_run_once_and_a_database_of_a_newer_schema_is_refused() {
        let db = civreg_testkit::postgres::database();
        drop(PostgresBackend::open(&db.url).unwrap());
        let b = PostgresBackend::open(&db.url).unwrap();
        let every: Vec<String> = MIGRATIONS.iter().map(|m| m.0.to_string()).collect();
        assert_eq!(versions(&db).trim(), every.join(","));
        // Migration 2: values stored in their row, never compressed.
        let storage = civreg_testkit::postgres::cluster().psql(
            &db.name,
            "SELECT attstorage::text || ' ' || array_to_string(c.reloptions, ',') FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'civreg_hub_kv' AND a.attname = 'value'",
        );
        assert_eq!(storage.trim(), "e toast_tuple_target=8160");
        let mut batch = Batch::default();
        batch.put(b"k".to_vec(), b"v".to_vec());
        b.apply(batch).unwrap();
        drop(b);
        let newer = schema_version() + 1;
        civreg_testkit::postgres::cluster().psql(
            &db.name,
            &format!("INSERT INTO civreg_hub_schema (version, description) VALUES ({newer}, 'from the future')"),
        );
        let e = PostgresBackend::open(&db.url)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains(&format!("schema version {newer}"))
                && e.contains("newer than this civreg-hub"),
            "{e}"
        );
        // Nothing was touched.
        let rows = civreg_testkit::postgres::cluster()
            .psql(&db.name, "SELECT count(*) FROM civreg_hub_kv");
        assert_eq!(rows.trim(), "1");
    }

    #[test]
    fn a_wrong_password_a_missing_database_and_a_silent_server_are_each_said() {
        let c = civreg_testkit::postgres::cluster();
        let db = civreg_testkit::postgres::database();
        let e = PostgresBackend::open(&c.url("postgres", "wrong-pw", &db.name))
            .err()
            .expect("refused");
        assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("refused the login") && e.contains("password"),
            "{e}"
        );
        assert!(!e.contains("wrong-pw"), "the password is never shown: {e}");
        let e = PostgresBackend::open(&c.url("postgres", &c.password, "no_such_db"))
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("no_such_db") && e.contains("createdb"), "{e}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = PostgresBackend::open(&format!(
            "postgres://u:p@127.0.0.1:{port}/x?sslmode=disable"
        ))
        .err()
        .expect("refused");
        assert!(matches!(e, StoreError::Unreachable(_)), "{e:?}");
        assert!(e.to_string().contains("cannot reach PostgreSQL"), "{e}");
    }

    /// Whether the backend's reader connection runs over TLS.
    fn over_tls(b: &PostgresBackend) -> bool {
        let (readers, connector) = (b.readers.clone(), b.connector.clone());
        b.bridge.run(async move {
            let c = connector.client(&readers[0]).await.unwrap();
            c.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0)
        })
    }

    /// The test cluster's certificate names 127.0.0.1 only, and is signed by `ca_pem`.
    #[test]
    fn tls_is_used_and_the_certificate_checked_as_sslmode_asks() {
        let c = civreg_testkit::postgres::cluster();
        let db = civreg_testkit::postgres::database();
        let ca = c.ca_pem.display().to_string();
        let url = |host: &str, tls: &str| {
            c.url("postgres", &c.password, &db.name)
                .replace("127.0.0.1", host)
                .replace("sslmode=disable", tls)
        };
        let b = PostgresBackend::open(&url(
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .unwrap();
        assert!(over_tls(&b));
        let b = PostgresBackend::open(&url("127.0.0.1", "sslmode=require")).unwrap();
        assert!(over_tls(&b));
        let b = PostgresBackend::open(&url("127.0.0.1", "sslmode=disable")).unwrap();
        assert!(!over_tls(&b));
        // A name the certificate does not give: refused by verify-full, not by verify-ca.
        let e = PostgresBackend::open(&url(
            "127.0.0.2",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .err()
        .expect("refused")
        .to_string();
        assert!(
            e.contains("TLS with PostgreSQL") && e.contains("sslrootcert"),
            "{e}"
        );
        let b = PostgresBackend::open(&url(
            "127.0.0.2",
            &format!("sslmode=verify-ca&sslrootcert={ca}"),
        ))
        .unwrap();
        assert!(over_tls(&b));
        // Another CA: refused by verify-ca.
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        std::fs::write(&other, cert.cert.pem()).unwrap();
        let e = PostgresBackend::open(&url(
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={}", other.display()),
        ))
        .err()
        .expect("refused")
        .to_string();
        assert!(e.contains("TLS with PostgreSQL"), "{e}");
        // A root file that is not there.
        let e = PostgresBackend::open(&url(
            "127.0.0.1",
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ))
        .err()
        .expect("refused")
        .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }

    /// The dashboard's handlers read the store from inside tokio workers: no "runtime within
    /// a runtime" panic, on a current-thread runtime (whose one thread the call blocks) too,
    /// and the backend can be dropped there.
    #[tokio::test(flavor = "current_thread")]
    async fn it_is_called_and_dropped_inside_a_tokio_runtime() {
        let db = civreg_testkit::postgres::database();
        let b = PostgresBackend::open(&db.url).unwrap();
        let mut batch = Batch::default();
        for i in 0..(PAGE as u32 * 2 + 7) {
            batch.put(i.to_be_bytes().to_vec(), vec![1]);
        }
        b.apply(batch).unwrap();
        assert_eq!(b.scan(b"", None).count(), PAGE as usize * 2 + 7);
        assert_eq!(b.get(&0u32.to_be_bytes()).unwrap(), Some(vec![1]));
        drop(b);
    }

    /// `synchronous_commit = off` on the database would acknowledge commits not yet on disk:
    /// the backend's sessions set it back to on.
    #[test]
    fn synchronous_commit_off_is_turned_back_on() {
        let db = civreg_testkit::postgres::database();
        civreg_testkit::postgres::cluster().psql(
            "postgres",
            &format!("ALTER DATABASE {} SET synchronous_commit = off", db.name),
        );
        let b = PostgresBackend::open(&db.url).unwrap();
        let writer = b.writer.clone();
        let got: String = b.bridge.run(async move {
            let held = writer.lock().await;
            let c = held.as_ref().unwrap();
            c.query_one("SHOW synchronous_commit", &[])
                .await
                .unwrap()
                .get(0)
        });
        assert_eq!(got, "on");
        let readers = b.readers.clone();
        let connector = b.connector.clone();
        let got: String = b.bridge.run(async move {
            let c = connector.client(&readers[0]).await.unwrap();
            c.query_one("SHOW synchronous_commit", &[])
                .await
                .unwrap()
                .get(0)
        });
        assert_eq!(got, "on");
    }

    /// A statement that fails inside a write's transaction (here: the table is not there for a
    /// moment) fails that write only: the transaction is rolled back, nothing of it stays, and
    /// the writer's connection is not left in an aborted transaction for the next write.
    #[test]
    fn a_write_whose_statement_fails_leaves_nothing_and_the_next_write_works() {
        let db = civreg_testkit::postgres::database();
        let c = civreg_testkit::postgres::cluster();
        let b = PostgresBackend::open(&db.url).unwrap();
        let mut batch = Batch::default();
        batch.put(b"a".to_vec(), b"1".to_vec());
        b.apply(batch).unwrap();
        let rename = |from: &str, to: &str| {
            c.psql(&db.name, &format!("ALTER TABLE {from} RENAME TO {to}"));
        };
        let write = |v: &[u8]| {
            let mut batch = Batch::default();
            batch.put(b"a".to_vec(), v.to_vec());
            batch.put(b"b".to_vec(), v.to_vec());
            batch
        };
        let one = Some(b"1".to_vec());
        // The conditional write fails at its read (the first flight), the unconditional one at
        // its upsert (the only flight).
        rename(TABLE, "civreg_hub_kv_away");
        let e = b
            .apply_if(&[(b"a".to_vec(), one.clone())], &write(b"2"))
            .unwrap_err();
        assert!(e.to_string().contains("civreg_hub_kv"), "{e}");
        rename("civreg_hub_kv_away", TABLE);
        assert_eq!(b.get(b"a").unwrap(), one);
        assert_eq!(b.get(b"b").unwrap(), None);
        // The writer goes on at once, with a conditional write (whose first statements would
        // fail in a transaction left aborted).
        assert_eq!(
            b.apply_if(&[(b"b".to_vec(), None)], &write(b"1")).unwrap(),
            Applied::Done
        );
        rename(TABLE, "civreg_hub_kv_away");
        assert!(b.apply(write(b"3")).is_err());
        rename("civreg_hub_kv_away", TABLE);
        assert_eq!(b.get(b"b").unwrap(), one);
        assert_eq!(
            b.apply_if(&[(b"a".to_vec(), one.clone())], &write(b"4"))
                .unwrap(),
            Applied::Done
        );
        assert_eq!(
            b.apply_if(&[(b"a".to_vec(), one)], &write(b"5")).unwrap(),
            Applied::Conflict(vec![b"a".to_vec()])
        );
        b.apply(write(b"6")).unwrap();
        assert_eq!(b.get(b"a").unwrap().as_deref(), Some(&b"6"[..]));
        assert_eq!(b.get(b"b").unwrap().as_deref(), Some(&b"6"[..]));
    }

    /// A connection that broke (the server restarted, a failover) is made again at its next
    /// use: the backend goes on after its sessions were terminated.
    #[test]
    fn broken_connections_are_made_again() {
        let db = civreg_testkit::postgres::database();
        let b = PostgresBackend::open(&db.url).unwrap();
        // Every reader's connection made (they are used in turn).
        for _ in 0..READERS {
            assert_eq!(b.get(b"x").unwrap(), None);
        }
        civreg_testkit::postgres::cluster().psql(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                db.name
            ),
        );
        // The first use of each connection may fail (it is found closed only then); later ones
        // work, on every connection.
        civreg_testkit::wait::wait_until(
            "the backend to connect again",
            Duration::from_secs(10),
            || {
                let mut batch = Batch::default();
                batch.put(b"x".to_vec(), b"1".to_vec());
                let read = |_| b.get(b"x").ok().flatten().is_some();
                let all = (0..2 * READERS).map(read).fold(true, |a, r| a & r);
                (b.apply(batch).is_ok() && all).then_some(())
            },
        );
    }
}
