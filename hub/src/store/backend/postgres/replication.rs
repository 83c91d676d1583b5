//! The primary's replication to its standbys, for `/metrics` (issue 19 part 6): one row of
//! `pg_stat_replication` per standby, cached for [`CACHE_FOR`] so that scrapes (from several
//! Prometheus servers, or a dashboard reloaded) never query the database more often than that.
//!
//! - On a server that is itself a standby (`pg_is_in_recovery()`) there is nothing to say:
//!   `None`, as for sled.
//! - `pg_stat_replication` shows its lag and position columns only to a superuser or a member
//!   of `pg_monitor` (`pg_read_all_stats`): for another role they are empty, and the lags
//!   and bytes behind are absent from `/metrics` (deploy/docs/postgresql.md says to grant
//!   `pg_monitor` to the hub's role).
//! - One attempt, never the retry layer's: a scrape during a failover is answered at once
//!   (the error is cached as well), not held for the retry deadline.

use super::{pg_error, PostgresBackend, StoreError};
use std::time::{Duration, Instant};

/// How long an answer is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// One standby as the primary sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Standby {
    /// Its `application_name` (the name `synchronous_standby_names` lists).
    pub name: String,
    /// `startup`, `catchup`, `streaming`, `backup` or `stopping`.
    pub state: String,
    /// `async`, `potential`, `sync` or `quorum`.
    pub sync_state: String,
    /// Seconds between a commit on the primary and the standby having written, flushed and
    /// replayed it (0 when it has caught up and the primary is idle: the server then reports
    /// none); `None` when the hub's role may not see them.
    pub write_lag_s: Option<f64>,
    pub flush_lag_s: Option<f64>,
    pub replay_lag_s: Option<f64>,
    /// Bytes of WAL the standby has not replayed yet (`pg_wal_lsn_diff`).
    pub behind_bytes: Option<i64>,
}

/// The cached answer: when it was read, and what.
pub(super) type Cached = Option<(Instant, Option<Result<Vec<Standby>, String>>)>;

const QUERY: &str = "SELECT pg_is_in_recovery(), application_name, state, sync_state,
        extract(epoch FROM write_lag)::float8, extract(epoch FROM flush_lag)::float8,
        extract(epoch FROM replay_lag)::float8,
        CASE WHEN pg_is_in_recovery() OR replay_lsn IS NULL THEN NULL
             ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8 END,
        replay_lsn IS NOT NULL
    FROM (SELECT 1) one LEFT JOIN pg_stat_replication ON true
    ORDER BY application_name";

impl PostgresBackend {
    /// [`super::HubBackend::replication`]: see the module documentation.
    pub(super) fn replication_cached(&self) -> Option<Result<Vec<Standby>, StoreError>> {
        let mut cached = self.replication.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, v)| v.clone());
        let answer = match fresh {
            Some(v) => v,
            None => {
                let v = self.read_replication();
                *cached = Some((Instant::now(), v.clone()));
                v
            }
        };
        answer.map(|r| r.map_err(StoreError::Backend))
    }

    fn read_replication(&self) -> Option<Result<Vec<Standby>, String>> {
        let (readers, connector) = (self.readers.clone(), self.connector.clone());
        let rows = self.bridge.run(async move {
            let shown = connector.shown.clone();
            let c = connector.client(&readers[0]).await?;
            c.query(QUERY, &[]).await.map_err(|e| pg_error(&shown, &e))
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => return Some(Err(e.to_string())),
        };
        if rows.first().is_none_or(|r| r.get::<_, bool>(0)) {
            return None;
        }
        let standbys = rows
            .iter()
            .filter_map(|r| {
                let name: Option<String> = r.get(1);
                // Lags are shown (as NULL when caught up) only where positions are.
                let visible: bool = r.get(8);
                let lag = |i: usize| visible.then(|| r.get::<_, Option<f64>>(i).unwrap_or(0.0));
                Some(Standby {
                    name: name?,
                    state: r.get::<_, Option<String>>(2).unwrap_or_default(),
                    sync_state: r.get::<_, Option<String>>(3).unwrap_or_default(),
                    write_lag_s: lag(4),
                    flush_lag_s: lag(5),
                    replay_lag_s: lag(6),
                    behind_bytes: r.get(7),
                })
            })
            .collect();
        Some(Ok(standbys))
    }
}

#[cfg(test)]
mod tests {
    use super::super::HubBackend;
    use super::*;
    use civreg_testkit::postgres::Cluster;

    /// The primary's view of its synchronous standby; a second read within the cache's time
    /// does not query the server.
    #[test]
    fn the_primary_names_its_synchronous_standby_with_its_lag() {
        let primary = Cluster::private();
        let db = primary.database();
        let standby = primary.standby(true);
        let b = PostgresBackend::open(&db.url).unwrap();
        let got = b.replication().expect("a primary").unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        let s = &got[0];
        assert!(s.name.starts_with("civreg_standby_"), "{s:?}");
        assert_eq!(
            (s.state.as_str(), s.sync_state.as_str()),
            ("streaming", "sync")
        );
        for lag in [s.write_lag_s, s.flush_lag_s, s.replay_lag_s] {
            assert!(lag.is_some_and(|l| (0.0..60.0).contains(&l)), "{s:?}");
        }
        assert!(s.behind_bytes.is_some_and(|b| b >= 0), "{s:?}");
        // Cached: the standby stopped, the answer is the same for a few seconds.
        standby.kill();
        assert_eq!(b.replication().unwrap().unwrap(), got);
    }
}
