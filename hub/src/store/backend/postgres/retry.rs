//! The PostgreSQL backend's retry layer: a server that goes away (restarted, SIGKILLed, its
//! standby promoted in its place) costs the hub a pause, not a failed request.
//!
//! - **What is retried**: connection-level failures only, the errors [`pg_error`] calls
//!   [`StoreError::Unreachable`]: refused, reset or closed connections, `57P01
//!   admin_shutdown` and the other `57P0x`, class `08`, "the database system is in recovery"
//!   (`57P03`), and `25006 read_only_sql_transaction` (a write on a server that became, or is,
//!   a standby). Anything else (a refused login, a bad schema, a constraint) is returned at
//!   once. Each retry drops the connection that failed, so the next attempt connects again:
//!   with several hosts in the URL and `target_session_attrs=read-write`, to whichever of them
//!   takes writes now (the promoted standby).
//! - **How long**: exponential back-off (backon: from [`MIN_DELAY`], doubling, with jitter, at
//!   most [`MAX_DELAY`] between attempts) within a total deadline per call, the store URL's
//!   `civreg_retry_secs` (default [`DEFAULT_DEADLINE`]; `0` turns retrying off). Past it, the
//!   last error is returned, saying how long the hub tried.
//! - **Reads** are retried freely: they change nothing.
//! - **Writes are never reported committed unless they were.** A write that failed at the
//!   connection level may have failed before its `COMMIT` was sent (nothing committed) or
//!   after (committed or not: its answer was lost). Before any new attempt, the outcome is
//!   looked up on a new connection ([`PostgresBackend::committed`]): a conditional write's
//!   transaction holds [`WRITE_LOCK`] from before its `COMMIT` is sent until it ends, so the
//!   look-up first takes that lock (waiting, within the deadline, for a transaction the server
//!   still runs to commit or roll back), then reads the batch's keys. Every put holding its
//!   value and every deleted key absent: the batch is in the database (committed: reported
//!   [`Applied::Done`]); otherwise it is not, and the write is attempted again (a conditional
//!   write re-checks its condition, so an earlier attempt that did commit and was overwritten
//!   since shows as a conflict, never as a second commit). An unconditional write
//!   ([`HubBackend::apply`]) takes no lock: its look-up may come before a still-running
//!   transaction commits, and then the write is applied again, which writes the same final
//!   values (idempotent). A batch that writes nothing is simply attempted again.
//! - The statements of a write are [`PostgresBackend::write`]'s, unchanged: this layer only
//!   wraps calls to it.

use super::{pg_error, Applied, Expected, PostgresBackend, StoreError, TABLE, WRITE_LOCK};
use backon::{BackoffBuilder, ExponentialBuilder};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How long a call goes on retrying unless the URL says otherwise (`civreg_retry_secs`): more
/// than a promotion takes (a few seconds), less than an office's push waits for an answer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// The store URL's parameter that sets the deadline, in whole seconds.
pub const PARAM: &str = "civreg_retry_secs";

/// The first wait between attempts, and the longest.
pub const MIN_DELAY: Duration = Duration::from_millis(50);
pub const MAX_DELAY: Duration = Duration::from_secs(2);

/// Reads `civreg_retry_secs` (whole seconds, at most a day).
pub fn parse_deadline(v: &str) -> Result<Duration, String> {
    match v.parse::<u64>() {
        Ok(s) if s <= 86_400 => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "{PARAM}={v} is not a number of seconds from 0 to 86400 (how long the hub retries a request while PostgreSQL is unreachable; 0 turns retrying off)"
        )),
    }
}

/// The waits between attempts.
fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(MIN_DELAY)
        .with_max_delay(MAX_DELAY / 2)
        .without_max_times()
        .build()
        .map(|d| d.min(MAX_DELAY))
}

/// Whether `e` is a connection-level failure, worth another attempt on a new connection.
pub fn retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Unreachable(_))
}

/// The attempts of one call: the deadline and the back-off.
pub(super) struct Attempts {
    started: Instant,
    deadline: Instant,
    waits: Box<dyn Iterator<Item = Duration> + Send>,
}

impl Attempts {
    pub(super) fn new(limit: Duration) -> Attempts {
        let started = Instant::now();
        Attempts {
            started,
            deadline: started + limit,
            waits: Box::new(backoff()),
        }
    }

    /// The wait before the next attempt after `e`, or `e` itself (saying how long the hub
    /// tried) when it is not retryable or the deadline is past.
    pub(super) fn next(&mut self, e: StoreError) -> Result<Duration, StoreError> {
        if !retryable(&e) {
            return Err(e);
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        let wait = self.waits.next().unwrap_or(MAX_DELAY);
        if left.is_zero() || wait >= left {
            let tried = self.started.elapsed();
            return Err(match e {
                StoreError::Unreachable(why) if tried >= Duration::from_millis(100) => {
                    StoreError::Unreachable(format!(
                        "{why} (the hub tried again for {:.1} s)",
                        tried.as_secs_f64()
                    ))
                }
                e => e,
            });
        }
        tracing::debug!(error = %e, ?wait, "PostgreSQL unreachable: trying again");
        Ok(wait)
    }

    /// What is left of the deadline.
    pub(super) fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl PostgresBackend {
    /// [`PostgresBackend::write`] with the retry layer: see the module documentation.
    pub(super) fn write_retrying(
        &self,
        expected: Option<Vec<Expected>>,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<Applied, StoreError> {
        let mut attempts = Attempts::new(self.retry_for);
        // Whether an earlier attempt may have committed (its COMMIT's answer lost).
        let mut unknown = false;
        loop {
            let tried = if unknown && !writes.is_empty() {
                match self.committed(expected.is_some(), &writes, attempts.left()) {
                    Ok(true) => {
                        tracing::info!(store = %self.location, "a write whose COMMIT went unanswered had committed: reported as committed");
                        return Ok(Applied::Done);
                    }
                    Ok(false) => self.write(expected.clone(), writes.clone()),
                    Err(e) => Err(e),
                }
            } else {
                self.write(expected.clone(), writes.clone())
            };
            match tried {
                Ok(applied) => return Ok(applied),
                Err(e) => {
                    let retry = retryable(&e);
                    if retry {
                        unknown = true;
                        self.drop_writer();
                    }
                    let wait = attempts.next(e).map_err(|e| {
                        if unknown && retry {
                            outcome_unknown(e)
                        } else {
                            e
                        }
                    })?;
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// Forgets the writer's connection: the next use connects again (to the server that takes
    /// writes now).
    fn drop_writer(&self) {
        let writer = self.writer.clone();
        self.bridge.run(async move {
            *writer.lock().await = None;
        });
    }

    /// Whether the batch `writes` is in the database: every final put holds its value and
    /// every deleted key is absent. For a `conditional` write, first waits (within `wait`) for
    /// [`WRITE_LOCK`], which a transaction of an earlier attempt still running holds until it
    /// ends.
    fn committed(
        &self,
        conditional: bool,
        writes: &[(Vec<u8>, Option<Vec<u8>>)],
        wait: Duration,
    ) -> Result<bool, StoreError> {
        let want: BTreeMap<Vec<u8>, Option<Vec<u8>>> = writes.iter().cloned().collect();
        let (writer, connector) = (self.writer.clone(), self.connector.clone());
        let wait_ms = wait.as_millis().clamp(1, i32::MAX as u128);
        self.bridge.run(async move {
            let shown = connector.shown.clone();
            let err = |e: tokio_postgres::Error| pg_error(&shown, &e);
            let mut held = writer.lock().await;
            if held.as_ref().is_none_or(Client::is_closed) {
                *held = None;
                *held = Some(connector.connect().await?);
            }
            let client = held.as_mut().expect("connected above");
            let tx = client.transaction().await.map_err(err)?;
            if conditional {
                tx.batch_execute(&format!("SET LOCAL lock_timeout = {wait_ms}"))
                    .await
                    .map_err(err)?;
                if let Err(e) = tx
                    .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                    .await
                {
                    if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                        return Err(StoreError::Unreachable(format!(
                            "PostgreSQL at {shown}: a transaction of this hub whose COMMIT went unanswered still holds the write lock after {wait_ms} ms (a connection the server has not seen break)"
                        )));
                    }
                    return Err(err(e));
                }
            }
            let keys: Vec<&[u8]> = want.keys().map(Vec::as_slice).collect();
            let rows = tx
                .query(
                    &format!("SELECT key, value FROM {TABLE} WHERE key = ANY($1)"),
                    &[&keys],
                )
                .await
                .map_err(err)?;
            tx.rollback().await.map_err(err)?;
            let now: BTreeMap<Vec<u8>, Vec<u8>> =
                rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(want.iter().all(|(k, v)| now.get(k) == v.as_ref()))
        })
    }
}

/// The error of a write given up on after an attempt whose outcome could not be looked up.
fn outcome_unknown(e: StoreError) -> StoreError {
    match e {
        StoreError::Unreachable(why) => StoreError::Unreachable(format!(
            "{why}; the last write was not acknowledged (whether its COMMIT reached PostgreSQL could not be checked: it is checked again when the write is sent again)"
        )),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Batch, HubBackend};
    use super::*;
    use civreg_testkit::postgres::Cluster;

    fn put(k: &[u8], v: &[u8]) -> Batch {
        let mut b = Batch::default();
        b.put(k.to_vec(), v.to_vec());
        b
    }

    /// Writes `k` = `v` on `b` (expecting `k` absent) while every commit waits for a standby
    /// that is not there, terminates the write's session during that wait (the transaction
    /// is then committed locally, its answer never sent), and returns what the write said.
    fn unanswered(
        c: &Cluster,
        db: &str,
        b: &PostgresBackend,
        k: &[u8],
    ) -> Result<Applied, StoreError> {
        c.psql(
            "postgres",
            "ALTER SYSTEM SET synchronous_standby_names = 'civreg_absent'",
        );
        c.psql("postgres", "SELECT pg_reload_conf()");
        let waiting = format!(
            "SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND wait_event = 'SyncRep'"
        );
        std::thread::scope(|scope| {
            let write = scope.spawn(|| b.apply_if(&[(k.to_vec(), None)], &put(k, b"v")));
            let pid = civreg_testkit::wait::wait_until(
                "the write's COMMIT to wait for the synchronous standby",
                Duration::from_secs(30),
                || {
                    let pid = c.psql("postgres", &waiting);
                    (!pid.trim().is_empty()).then(|| pid.trim().to_string())
                },
            );
            c.psql("postgres", &format!("SELECT pg_terminate_backend({pid})"));
            // Later commits (a write attempted again) go through.
            c.psql("postgres", "ALTER SYSTEM RESET synchronous_standby_names");
            c.psql("postgres", "SELECT pg_reload_conf()");
            write.join().unwrap()
        })
    }

    /// A conditional write whose `COMMIT` went unanswered is looked up on a new connection
    /// and reported committed, as it was. Without the retry layer (`civreg_retry_secs=0`) the
    /// same write is an error although it committed; attempted again without the look-up, it
    /// would find its own write and report a conflict.
    #[test]
    fn a_write_whose_commit_went_unanswered_is_reported_committed_as_it_was() {
        let c = Cluster::private();
        let db = c.database();
        let b = PostgresBackend::open(&db.url).unwrap();
        let no_retry = PostgresBackend::open(&format!("{}&{PARAM}=0", db.url)).unwrap();
        b.apply(put(b"before", b"1")).unwrap();
        let got = unanswered(&c, &db.name, &no_retry, b"k0");
        assert!(matches!(got, Err(StoreError::Unreachable(_))), "{got:?}");
        assert_eq!(b.get(b"k0").unwrap(), Some(b"v".to_vec()), "it did commit");
        let got = unanswered(&c, &db.name, &b, b"k");
        assert!(matches!(got, Ok(Applied::Done)), "{got:?}");
        assert_eq!(b.get(b"k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(
            c.psql(&db.name, "SELECT count(*) FROM civreg_hub_kv")
                .trim(),
            "3"
        );
    }

    /// The primary SIGKILLed (a machine lost) while the backend is in use: its requests wait,
    /// retrying, until the synchronous standby is promoted, and the multi-host URL with
    /// `target_session_attrs=read-write` finds it; nothing committed before the kill is lost.
    /// With a short deadline, a server that stays away is an error saying how long the hub
    /// tried.
    #[test]
    fn requests_ride_out_the_primary_killed_and_the_standby_promoted() {
        let primary = Cluster::private();
        let db = primary.database();
        let standby = primary.standby(true);
        let url = primary.failover_url(&[&standby], &db.name);
        let b = PostgresBackend::open(&url).unwrap();
        for i in 0..50u32 {
            let k = i.to_be_bytes();
            assert!(matches!(
                b.apply_if(&[(k.to_vec(), None)], &put(&k, b"before")),
                Ok(Applied::Done)
            ));
        }
        let quick = PostgresBackend::open(&format!("{url}&{PARAM}=1")).unwrap();
        let no_retry = PostgresBackend::open(&format!("{url}&{PARAM}=0")).unwrap();
        primary.kill();
        // Without the retry layer, a request in the outage fails.
        let e = no_retry.get(&7u32.to_be_bytes()).expect_err("no retry");
        assert!(retryable(&e), "{e}");
        let (wrote, read) = std::thread::scope(|scope| {
            let write =
                scope.spawn(|| b.apply_if(&[(b"after".to_vec(), None)], &put(b"after", b"1")));
            let read = scope.spawn(|| b.get(&7u32.to_be_bytes()));
            // Both are retrying (refused, then a read-only standby) until the promotion.
            standby.promote();
            (write.join().unwrap(), read.join().unwrap())
        });
        assert!(matches!(wrote, Ok(Applied::Done)), "{wrote:?}");
        assert_eq!(read.unwrap(), Some(b"before".to_vec()));
        assert_eq!(b.scan(b"", None).count(), 51);
        assert_eq!(
            standby
                .psql(&db.name, "SELECT count(*) FROM civreg_hub_kv")
                .trim(),
            "51"
        );
        standby.kill();
        let t = Instant::now();
        let e = quick.get(b"after").expect_err("no server left");
        assert!(
            retryable(&e) && e.to_string().contains("tried again"),
            "{e}"
        );
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }

    #[test]
    fn the_deadline_is_read_from_the_url() {
        assert_eq!(parse_deadline("0"), Ok(Duration::ZERO));
        assert_eq!(parse_deadline("45"), Ok(Duration::from_secs(45)));
        for bad in ["-1", "soon", "100000"] {
            assert!(parse_deadline(bad).unwrap_err().contains(PARAM));
        }
        let t = super::super::Target::parse(
            "postgres://u:p@h:1,h:2/db?civreg_retry_secs=5&target_session_attrs=read-write",
        )
        .unwrap();
        assert_eq!(t.retry_for, Duration::from_secs(5));
        let t = super::super::Target::parse("postgres://u:p@h/db").unwrap();
        assert_eq!(t.retry_for, DEFAULT_DEADLINE);
        let e = super::super::Target::parse("postgres://u:p@h/db?civreg_retry_secs=x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("civreg_retry_secs=x"), "{e}");
    }
}
