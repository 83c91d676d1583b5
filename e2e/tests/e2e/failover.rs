//! The failover drill of issue 19 (part 5), whole, with real processes: two `civreg-hub serve`
//! over a PostgreSQL primary with a synchronous streaming standby (two clusters on this
//! machine; the hubs are given both, `target_session_attrs=read-write`), each hub behind a
//! proxy of the test kit, and three `civreg-node serve` of one municipality whose bundles list
//! both hubs. The offices push through a link cut; one hub is SIGKILLed mid-push and the
//! offices go on through the other; then the PostgreSQL primary is SIGKILLed (every one of its
//! processes: the machine lost) mid-push and the standby promoted, and the remaining hub goes
//! on over it. At the end no acknowledged op is lost (each office's acknowledged sequence is
//! held by the database after each kill), none is stored twice, and the digests are equal at
//! both hubs (the killed one restarted) and the three offices.
//!
//! The times until the offices resume after each kill are printed (`failover drill: ...`) and
//! recorded in BENCHMARKS.md.

use super::hubs::{
    assert_exactly_once_of, hub_json, issue, now_ms, pg_head, pg_store, Office, PATIENCE,
};
use civreg_testkit::fleet::*;
use civreg_testkit::postgres::Cluster;
use std::time::{Duration, Instant};

/// Births each office registers before the link cut, before the hub's kill, and before the
/// primary's kill.
const FIRST_OPS: u64 = 100;
const SECOND_OPS: u64 = 600;
const THIRD_OPS: u64 = 600;

/// Registers `n` more births at every office (each its own book).
fn register(offices: &[Office], logged: &mut [u64], csv: &std::path::Path, n: u64) {
    for (o, l) in offices.iter().zip(logged.iter_mut()) {
        o.dir.import_births(csv, &format!("L-{}", o.id), *l, n);
        *l += n;
    }
}

/// How many offices have ops the hub has not acknowledged yet.
fn pushing(offices: &[Office], logged: &[u64]) -> usize {
    offices
        .iter()
        .zip(logged)
        .filter(|(o, n)| o.status()["hub_acked"].as_u64().unwrap_or(0) < **n)
        .count()
}

/// Every office's acknowledged sequence is held by the database `url` names.
fn acked_are_stored(offices: &[Office], url: &str, hub_dir: &std::path::Path, after: &str) {
    for o in offices {
        let acked = o.status()["hub_acked"].as_u64().unwrap_or(0);
        let head = pg_head(url, hub_dir, o.id).seq;
        assert!(
            head >= acked,
            "office {}: acknowledged #{acked}, but after {after} PostgreSQL holds only #{head}",
            o.id
        );
    }
}

/// Waits until every office's whole log (`logged`) is acknowledged after `since_ms`, through
/// `hub`; returns each office's time from `since_ms` to its first round that completed after
/// it, and to its whole log acknowledged (ms).
fn resumed(offices: &[Office], logged: &[u64], hub: &str, since_ms: u64) -> (u64, u64) {
    let mut first: Vec<Option<u64>> = vec![None; offices.len()];
    let mut whole: Vec<Option<u64>> = vec![None; offices.len()];
    wait_until(
        "every office to have its whole log acknowledged after the kill",
        PATIENCE,
        || {
            for (i, o) in offices.iter().enumerate() {
                if whole[i].is_some() {
                    continue;
                }
                let st = o.status();
                let now = now_ms();
                if first[i].is_none() {
                    if let Some(t) = st["last_success_ms"]
                        .as_u64()
                        .filter(|t| *t >= since_ms && st["hub_url"] == hub)
                    {
                        first[i] = Some(t - since_ms);
                    }
                }
                if first[i].is_some() && st["hub_acked"].as_u64() == Some(logged[i]) {
                    whole[i] = Some(now - since_ms);
                }
            }
            whole.iter().all(Option::is_some).then_some(())
        },
    );
    (
        first.into_iter().flatten().max().unwrap_or(0),
        whole.into_iter().flatten().max().unwrap_or(0),
    )
}

#[test]
fn failover_drill_a_hub_and_the_postgresql_primary_sigkilled_nothing_acknowledged_lost() {
    let started = Instant::now();
    let primary = Cluster::private();
    let db = primary.database();
    let standby = primary.standby(true);
    // Both servers, the one that takes writes found at each connection.
    let url = primary.failover_url(&[&standby], &db.name);
    let store = ["--store", url.as_str(), "--http-listen", "127.0.0.1:0"];
    let s = Setup::new();
    let hub_a_dir = s.hub_dir.clone();
    let proxy_a = Proxy::start(9);
    let proxy_b = Proxy::start(9);
    let url_a = proxy_a.url();
    let url_b = format!("https://127.0.0.1:{}", proxy_b.port());

    // Three offices (Setup's own node is not used), bundles listing both hubs.
    let mut offices = Vec::new();
    for (id, hubs) in [
        ("2", [url_a.as_str(), url_b.as_str()]),
        ("3", [url_b.as_str(), url_a.as_str()]),
        ("4", [url_a.as_str(), url_b.as_str()]),
    ] {
        let bundle = s.path(&format!("bundle-{id}"));
        issue(&hub_a_dir, id, &bundle, &hubs);
        let dir = NodeDir {
            data_dir: s.path(&format!("node{id}")),
        };
        dir.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8")]);
        dir.run_ok(&["clerk", "add", CLERK]);
        offices.push(Office {
            id,
            dir,
            log: s.path(&format!("node{id}.log")),
            serve: None,
        });
    }
    // Hub B: a copy of hub A's data directory (PKI, certificate, keys) over the same database.
    let hub_b_dir = s.path("hub-b");
    super::hubs::copy_dir(&hub_a_dir, &hub_b_dir);
    let mut hub_a = HubProc::start_with(&hub_a_dir, &s.path("hub-a.log"), &store);
    let mut hub_b = HubProc::start_with(&hub_b_dir, &s.path("hub-b.log"), &store);
    proxy_a.set_upstream(hub_a.port);
    proxy_b.set_upstream(hub_b.port);
    for o in offices.iter_mut() {
        o.start();
    }
    offices[0].synced_through(&url_a, 0, "office 2 to sync with hub A, its first");
    offices[1].synced_through(&url_b, 0, "office 3 to sync with hub B, its first");
    offices[2].synced_through(&url_a, 0, "office 4 to sync with hub A, its first");

    // 1. Pushes through a link cut: hub B's link cut, every office on hub A.
    let mut logged: Vec<u64> = vec![0; 3];
    let csv = s.path("rows.csv");
    proxy_b.cut();
    let cut_at = now_ms();
    register(&offices, &mut logged, &csv, FIRST_OPS);
    for o in &offices {
        o.synced_through(
            &url_a,
            cut_at,
            "every office to sync with hub A while B's link is cut",
        );
    }
    proxy_b.restore();
    for (o, n) in offices.iter().zip(&logged) {
        assert_eq!(o.all_acked(), *n, "office {}", o.id);
    }

    // 2. Hub A SIGKILLed mid-push (its link slowed so that pushes are under way).
    let before: Vec<u64> = offices
        .iter()
        .map(|o| pg_head(&url, &hub_a_dir, o.id).seq)
        .collect();
    proxy_a.set_delay(Duration::from_millis(20));
    register(&offices, &mut logged, &csv, SECOND_OPS);
    wait_until("hub A to commit part of the pushes", PATIENCE, || {
        offices
            .iter()
            .zip(&before)
            .any(|(o, b)| pg_head(&url, &hub_a_dir, o.id).seq > *b)
            .then_some(())
    });
    let hub_mid_push = pushing(&offices, &logged);
    hub_a.kill();
    let hub_killed_ms = now_ms();
    proxy_a.set_delay(Duration::ZERO);
    acked_are_stored(&offices, &url, &hub_a_dir, "hub A's SIGKILL");
    assert!(
        hub_mid_push > 0,
        "no office was pushing when hub A was killed: the drill exercised nothing"
    );
    let (hub_first, hub_whole) = resumed(&offices, &logged, &url_b, hub_killed_ms);

    // 3. The primary SIGKILLed mid-push through hub B (its link slowed), the standby promoted.
    let before: Vec<u64> = offices
        .iter()
        .map(|o| pg_head(&url, &hub_a_dir, o.id).seq)
        .collect();
    proxy_b.set_delay(Duration::from_millis(20));
    register(&offices, &mut logged, &csv, THIRD_OPS);
    wait_until("hub B to commit part of the pushes", PATIENCE, || {
        offices
            .iter()
            .zip(&before)
            .any(|(o, b)| pg_head(&url, &hub_a_dir, o.id).seq > *b)
            .then_some(())
    });
    let pg_mid_push = pushing(&offices, &logged);
    let acked_at_kill: Vec<u64> = offices
        .iter()
        .map(|o| o.status()["hub_acked"].as_u64().unwrap_or(0))
        .collect();
    let pg_kill_started = Instant::now();
    primary.kill();
    let pg_killed_ms = now_ms();
    standby.promote();
    let promote_ms = pg_kill_started.elapsed().as_millis() as u64;
    proxy_b.set_delay(Duration::ZERO);
    assert!(
        pg_mid_push > 0,
        "no office was pushing when the primary was killed: the drill exercised nothing"
    );
    // Everything acknowledged before the kill (and since) is on the promoted standby: the
    // commits were synchronous.
    acked_are_stored(&offices, &url, &hub_a_dir, "the primary's SIGKILL");
    for (o, a) in offices.iter().zip(&acked_at_kill) {
        assert!(pg_head(&url, &hub_a_dir, o.id).seq >= *a, "office {}", o.id);
    }
    let (pg_first, pg_whole) = resumed(&offices, &logged, &url_b, pg_killed_ms);
    assert!(hub_b.alive(), "hub B went on over the promoted standby");

    // Hub A back, over the same URL (its first server is gone: it finds the promoted one).
    let hub_a = HubProc::start_with(&hub_a_dir, &s.path("hub-a.log"), &store);
    proxy_a.set_upstream(hub_a.port);
    let digest = ["--json", "digest", "--municipality", MUNICIPALITY];
    let at_a = hub_json(&hub_a_dir, &digest);
    assert!(
        !civreg_hub::paths::db_dir(&hub_a_dir).exists(),
        "hub A's digest was not answered by hub A over PostgreSQL"
    );
    let at_b = hub_json(&hub_b_dir, &digest);
    assert_eq!(at_a["sha256"], at_b["sha256"], "{at_a} vs {at_b}");
    let total: u64 = logged.iter().sum();
    assert_eq!(at_b["records"].as_u64(), Some(total), "{at_b}");
    let want = at_b["sha256"].as_str().expect("sha256").to_string();
    for o in &offices {
        wait_until(
            &format!("office {} to pull every office's records", o.id),
            PATIENCE,
            || (o.digest() == want).then_some(()),
        );
    }
    // Every op of every office exactly once, in chain order, as the office wrote it.
    let pg = pg_store(&url, &hub_a_dir);
    for o in &offices {
        let head = pg.head(MUNICIPALITY, o.id);
        let ops = pg.chain_ops(MUNICIPALITY, o.id).expect("chain");
        let mine = o.dir.export_ops();
        assert_exactly_once_of(&head, &ops, &mine, o.id);
    }
    drop(hub_b);
    eprintln!(
        "failover drill: hub SIGKILL: offices' first round through the other hub after {:.1} s, \
         whole logs acknowledged after {:.1} s ({hub_mid_push} of 3 offices pushing); \
         PostgreSQL primary SIGKILL: standby promoted after {:.1} s, offices' first round after \
         {:.1} s, whole logs acknowledged after {:.1} s ({pg_mid_push} of 3 pushing); {total} ops; \
         whole drill {:.1} s",
        hub_first as f64 / 1000.0,
        hub_whole as f64 / 1000.0,
        promote_ms as f64 / 1000.0,
        pg_first as f64 / 1000.0,
        pg_whole as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
}
