//! Fault injection with real processes and real mutual TLS: a `civreg-hub serve` process, a
//! `civreg-node` driven through its command line, and an in-process TCP proxy between them that
//! cuts, restores and slows the link. Each test makes a throwaway PKI with `civreg-hub pki`.
//!
//! * `outage_…`: the sync worker (`serve`) through a link that is up, cut, flapping and slow,
//!   and restored; afterwards the hub holds the node's log exactly once, in chain order.
//! * `hub_sigkill_…`: the hub is SIGKILLed mid-ingest again and again; whatever the node
//!   recorded as acknowledged must be in the hub's database after the kill.
//! * `node_sigkill_…`: the node is SIGKILLed mid-push again and again; the hub ends with every
//!   op exactly once and the node's own chain still verifies.
//!
//! Random choices (kill delays, link delays, batch sizes) come from a seed printed at the start
//! of each test; `CIVREG_FAULT_SEED=N` replays it. Binaries: next to this test in
//! TARGET/PROFILE, or `CIVREG_HUB_BIN` / `CIVREG_NODE_BIN`.

use civreg_testkit::fleet as faults_support;

use faults_support::*;
use std::time::{Duration, Instant};

/// Pause between fault injections in the flapping phase: pacing the workload, not waiting
/// for anything (every wait for a state goes through `wait_until`).
fn pace(d: Duration) {
    std::thread::sleep(d);
}

/// Half the rounds at full speed, half slowed (up to 1 ms per forwarded chunk) so that the kill
/// lands at different points of the push.
fn random_link_delay(rng: &mut Rng) -> Duration {
    if rng.chance(2) {
        Duration::ZERO
    } else {
        Duration::from_micros(rng.range(100, 1000))
    }
}

/// When a SIGKILL test's kill falls.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after the node's connection reached the hub.
    After(Duration),
    /// When this many bytes have been pushed through the proxy (node → hub); the proxy then
    /// freezes the link, so the push stops at exactly that point until the kill.
    Pushed(u64),
}

/// Even rounds kill at a random time (0–300 ms after the node connected), odd rounds at a
/// random point of the push (an imported op is some 450 bytes on the wire, so the point falls
/// inside the `backlog` ops waiting, or in the TLS handshake before them). Round 0, with the
/// whole initial backlog of 2,000 ops (some 910 kB) waiting, kills between 300 and 800 kB:
/// the node sends a batch only after the previous one was acknowledged, so this is after the
/// first batch of 500 (some 230 kB) was acknowledged and before the last: every run has a kill
/// that follows an acknowledgement.
fn pick_kill(rng: &mut Rng, round: u64, backlog: u64) -> KillAt {
    if round == 0 {
        KillAt::Pushed(rng.range(300_000, 800_000))
    } else if round % 2 == 0 {
        KillAt::After(rng.millis(0, 300))
    } else {
        KillAt::Pushed(rng.range(500, 1_000 + backlog * 400))
    }
}

/// Starts the node with `args` and returns when the kill is due (or the process has exited);
/// the caller kills and then calls `proxy.thaw()`.
fn run_until_kill(
    node: &NodeDir,
    args: &[&str],
    log: &std::path::Path,
    proxy: &Proxy,
    at: KillAt,
) -> KillOnDrop {
    if let KillAt::Pushed(bytes) = at {
        proxy.freeze_after(Direction::Up, bytes);
    }
    let linked = proxy.stats().linked;
    let mut child = node.spawn(args, log);
    match at {
        KillAt::After(d) => {
            wait_connected(proxy, linked, &mut child);
            std::thread::sleep(d); // the fault's timing, not a wait for a state
        }
        KillAt::Pushed(_) => {
            // The point may lie beyond what this round pushes (the hub can hold more than the
            // node knows, from a push a kill cut short); `serve` then idles with little traffic,
            // so after a few seconds the kill comes anyway.
            let deadline = Instant::now() + Duration::from_secs(5);
            while !proxy.is_frozen()
                && child.try_wait().expect("try_wait").is_none()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    child
}

/// Waits until a node process started after `linked_before` connections has reached the hub
/// through the proxy (or has exited): the SIGKILL tests time their kill from there.
fn wait_connected(proxy: &Proxy, linked_before: u64, child: &mut KillOnDrop) {
    wait_until(
        "the node to connect to the hub",
        Duration::from_secs(30),
        || {
            (proxy.stats().linked > linked_before || child.try_wait().expect("try_wait").is_some())
                .then_some(())
        },
    );
}

fn status_line(st: &serde_json::Value) -> String {
    format!(
        "online={} ops_waiting={} hub_acked={} last_error={}",
        st["online"], st["ops_waiting"], st["hub_acked"], st["last_error"]
    )
}

#[test]
fn outage_cut_flapping_and_restore_deliver_every_op_exactly_once() {
    let started = Instant::now();
    let mut rng = Rng::for_test("outage");
    let s = Setup::new();
    let mut hub = s.start_hub();
    let proxy = Proxy::start(hub.port);
    let node = &s.node;
    let mut serve = node.spawn(
        &["serve", "--hub", &proxy.url(), "--interval-secs", "1"],
        &s.path("node-serve.log"),
    );
    let count = std::cell::Cell::new(0u64);
    let register = |n: u64| {
        node.register_births(&birth_docs(count.get(), n));
        count.set(count.get() + n);
    };
    let synced = |what: &str| {
        wait_until(what, Duration::from_secs(60), || {
            let st = node.status();
            (st["online"] == true && st["ops_waiting"] == 0).then_some(st)
        })
    };

    // 1. Link up: registrations reach the hub on the worker's next round.
    register(5);
    let st = synced("phase 1 (link up): the worker to push 5 ops");
    assert_eq!(st["hub_acked"], 5, "{}", status_line(&st));
    assert!(
        proxy.stats().linked > 0,
        "the node did not go through the proxy"
    );

    // 2. Link cut: clerks keep registering; the node shows itself offline with work waiting.
    proxy.cut();
    register(5);
    let st = wait_until(
        "phase 2 (cut): status to show the node offline",
        Duration::from_secs(30),
        || {
            let st = node.status();
            (st["online"] == false).then_some(st)
        },
    );
    assert!(
        st["ops_waiting"].as_u64().unwrap_or(0) > 0,
        "offline with nothing waiting: {}",
        status_line(&st)
    );
    let acked_at_cut = st["hub_acked"].as_u64().expect("hub_acked");
    let refused_before = proxy.stats().refused;
    register(7);
    wait_until(
        "phase 2 (cut): the worker to retry (and be refused) while the link is down",
        Duration::from_secs(30),
        || (proxy.stats().refused > refused_before).then_some(()),
    );
    let st = node.status();
    assert_eq!(st["online"], false, "{}", status_line(&st));
    assert_eq!(
        st["hub_acked"].as_u64(),
        Some(acked_at_cut),
        "the hub acknowledged ops while the link was cut: {}",
        status_line(&st)
    );
    assert_eq!(
        st["ops_waiting"].as_u64(),
        Some(count.get() - acked_at_cut),
        "{}",
        status_line(&st)
    );

    // 3. Flapping. Each cycle: the link is restored with a cut armed to fire in the middle of
    //    a transfer (after a random number of bytes, node→hub or hub→node; the chunk crossing
    //    the line is swallowed, so e.g. a push the hub stored may never be acknowledged); then
    //    short up/down blips while clerks register; the link is sometimes slow; finally it
    //    recovers (which also resets the worker's back-off).
    let csv = s.path("flap.csv");
    let imported = std::cell::Cell::new(0u64);
    for cycle in 0..FLAP_CYCLES {
        let delay = if rng.chance(2) {
            Duration::from_millis(rng.range(1, 5))
        } else {
            Duration::ZERO
        };
        proxy.set_delay(delay);
        // Work for the worker, made while the link is down so that the next round carries all
        // of it: sometimes a bulk import big enough to be cut mid-push.
        proxy.cut();
        let (work, ops) = if rng.chance(2) {
            let rows = rng.range(100, 400);
            node.import_births(&csv, "L-9", imported.get(), rows);
            imported.set(imported.get() + rows);
            count.set(count.get() + rows);
            (format!("imported {rows}"), rows)
        } else {
            let n = rng.range(1, 40);
            register(n);
            (format!("registered {n}"), n)
        };
        // An op is some 400 bytes on the wire, pushed up and pulled back down: cut somewhere
        // inside the round that carries them (or its TLS handshake).
        let dir = if rng.chance(2) {
            Direction::Up
        } else {
            Direction::Down
        };
        let after = rng.range(100, 2_000 + ops * 350);
        let trips_before = proxy.stats().trips;
        proxy.cut_after(dir, after);
        proxy.restore();
        wait_until(
            &format!("flap cycle {cycle}: the armed cut ({dir:?} after {after} bytes) to fire"),
            Duration::from_secs(30),
            || (proxy.stats().trips > trips_before).then_some(()),
        );
        let blips = rng.range(2, 4);
        for _ in 0..blips {
            register(rng.range(1, 5));
            pace(rng.millis(20, 400));
            if proxy.is_cut() {
                proxy.restore();
            } else {
                proxy.cut();
            }
        }
        proxy.restore();
        let st = synced(&format!("flap cycle {cycle}: recovery"));
        eprintln!(
            "flap cycle {cycle}: delay {delay:?}, cut {dir:?} after {after} bytes, {work}, \
             {blips} blips; recovered with {}",
            status_line(&st)
        );
    }

    // 4. Restored: everything waiting is delivered.
    proxy.restore();
    proxy.set_delay(Duration::ZERO);
    register(5);
    let st = synced("phase 4 (restored): every waiting op to be acknowledged");
    let registered = count.get();
    assert_eq!(
        st["hub_acked"].as_u64(),
        Some(registered),
        "{}",
        status_line(&st)
    );

    let stopped = stop_gracefully(&mut serve, "TERM", Duration::from_secs(20));
    assert!(
        stopped.is_some_and(|st| st.success()),
        "serve did not stop cleanly on SIGTERM: {stopped:?}"
    );
    hub.stop();
    let stats = proxy.stats();
    drop(proxy);

    let node_ops = node.export_ops();
    assert_eq!(node_ops.len() as u64, registered, "one op per registration");
    let (head, hub_ops) = hub_chain(&s.hub_dir);
    assert_exactly_once(&head, &hub_ops, &node_ops, "after the outage");
    node.assert_verifies("after the outage");
    assert!(
        stats.refused > 0 && stats.linked > 1,
        "the proxy saw no refused or no repeated connections: {stats:?}"
    );
    eprintln!(
        "outage: {registered} ops, proxy {stats:?}, {:?}",
        started.elapsed()
    );
}

/// Cut-mid-transfer / blip / recover cycles of the outage test's flapping phase.
const FLAP_CYCLES: u64 = 4;

/// Ops registered offline before the first sync of the SIGKILL tests.
const INITIAL_OPS: u64 = 2000;
/// Ops added offline before each later round, so every round has a backlog to push.
const TOP_UP_OPS: u64 = 250;
const KILL_ROUNDS: u64 = 12;

#[test]
fn hub_sigkill_mid_ingest_never_loses_an_acknowledged_op() {
    let started = Instant::now();
    let mut rng = Rng::for_test("hub_sigkill");
    let s = Setup::new();
    let node = &s.node;
    let csv = s.path("rows.csv");
    node.import_births(&csv, "L-1", 0, INITIAL_OPS);
    let mut total = INITIAL_OPS;
    // The proxy gives the node one address across hub restarts and can slow the push so kills
    // land inside it.
    let proxy = Proxy::start(9);
    let log = s.path("node-sync.log");
    let mut prev_head = 0u64;
    let (mut interrupted, mut acked_then_killed) = (0u64, 0u64);
    for round in 0..KILL_ROUNDS {
        if round > 0 {
            node.import_births(&csv, "L-1", total, TOP_UP_OPS);
            total += TOP_UP_OPS;
        }
        let acked_before = node.status_u64("hub_acked");
        let mut hub = s.start_hub();
        proxy.set_upstream(hub.port);
        let link_delay = random_link_delay(&mut rng);
        proxy.set_delay(link_delay);
        let at = pick_kill(&mut rng, round, total - acked_before);
        let url = proxy.url();
        let mut sync = run_until_kill(
            node,
            &["--json", "sync", "--once", "--hub", &url],
            &log,
            &proxy,
            at,
        );
        hub.kill();
        proxy.thaw();
        let exit = wait_exit(
            &mut sync,
            "sync --once after the hub died",
            Duration::from_secs(60),
        );
        let context = format!("round {round} (hub SIGKILLed at {at:?}, link delay {link_delay:?})");
        // 0: it finished before the kill; 3: hub unreachable, retry later. Anything else (4: a
        // refusal that will not heal, e.g. a fork) means the kill left the two sides disagreeing.
        assert!(
            matches!(exit.code(), Some(0) | Some(3)),
            "{context}: sync --once exited {exit}\n{}",
            log_tail(&log)
        );
        // What the node believes the hub acknowledged, now that the sync process has exited.
        let acked = node.status_u64("hub_acked");
        if exit.code() == Some(0) {
            assert_eq!(
                acked, total,
                "{context}: sync --once reported success, but the hub acknowledged only #{acked} of {total}"
            );
        }
        let (head, hub_ops) = hub_chain(&s.hub_dir);
        assert!(
            head.seq >= acked,
            "{context}: the node recorded the hub's acknowledgement of #{acked}, but after \
             SIGKILL the hub's database holds only #{} (acknowledged ⇒ durable is broken)",
            head.seq
        );
        assert!(
            head.seq >= prev_head,
            "{context}: the hub held #{prev_head} before this round and #{} after it",
            head.seq
        );
        let node_ops = node.export_ops();
        assert_eq!(node_ops.len() as u64, total, "{context}: node log length");
        assert_hub_prefix(&head, &hub_ops, &node_ops, &context);
        if exit.code() == Some(3) {
            interrupted += 1;
            if acked > acked_before {
                acked_then_killed += 1;
            }
        }
        eprintln!(
            "{context}: exit {:?}, node acked #{acked_before} -> #{acked}, hub head #{prev_head} -> #{} of {total}",
            exit.code(),
            head.seq
        );
        prev_head = head.seq;
    }

    // Let it complete.
    let mut hub = s.start_hub();
    proxy.set_upstream(hub.port);
    proxy.set_delay(Duration::ZERO);
    final_sync(node, &proxy.url(), total);
    hub.stop();
    let node_ops = node.export_ops();
    let (head, hub_ops) = hub_chain(&s.hub_dir);
    assert_exactly_once(&head, &hub_ops, &node_ops, "after the hub kills");
    node.assert_verifies("after the hub kills");
    eprintln!(
        "hub_sigkill: {KILL_ROUNDS} kills, {interrupted} interrupted a sync, {acked_then_killed} \
         after acknowledgements; {total} ops; proxy {:?}; {:?}",
        proxy.stats(),
        started.elapsed()
    );
    assert!(
        acked_then_killed > 0,
        "no kill landed after the hub had acknowledged part of a push: the test exercised nothing \
         (interrupted {interrupted} of {KILL_ROUNDS})"
    );
}

#[test]
fn node_sigkill_mid_push_leaves_every_op_exactly_once() {
    let started = Instant::now();
    let mut rng = Rng::for_test("node_sigkill");
    let s = Setup::new();
    let node = &s.node;
    let csv = s.path("rows.csv");
    node.import_births(&csv, "L-1", 0, INITIAL_OPS);
    let mut total = INITIAL_OPS;
    let mut hub = s.start_hub();
    let proxy = Proxy::start(hub.port);
    let log = s.path("node-sync.log");
    let mut killed_mid_push = 0u64;
    for round in 0..KILL_ROUNDS {
        if round > 0 {
            node.import_births(&csv, "L-1", total, TOP_UP_OPS);
            total += TOP_UP_OPS;
        }
        let acked_before = node.status_u64("hub_acked");
        let link_delay = random_link_delay(&mut rng);
        proxy.set_delay(link_delay);
        let url = proxy.url();
        // Every third round kills the background worker instead of a one-shot sync.
        let worker = round % 3 == 2;
        let args: Vec<&str> = if worker {
            vec!["serve", "--hub", &url, "--interval-secs", "1"]
        } else {
            vec!["--json", "sync", "--once", "--hub", &url]
        };
        let at = pick_kill(&mut rng, round, total - acked_before);
        let mut child = run_until_kill(node, &args, &log, &proxy, at);
        let finished = child.try_wait().expect("try_wait");
        sigkill(&mut child);
        proxy.thaw();
        let context = format!(
            "round {round} ({} SIGKILLed at {at:?}, link delay {link_delay:?})",
            if worker { "serve" } else { "sync --once" }
        );
        if let Some(st) = finished {
            assert_eq!(
                st.code(),
                Some(0),
                "{context}: exited {st} before the kill\n{}",
                log_tail(&log)
            );
        }
        // The node survives: it opens, its chain and records verify, its ack is sane.
        node.assert_verifies(&context);
        let acked = node.status_u64("hub_acked");
        assert!(
            acked >= acked_before && acked <= total,
            "{context}: hub_acked went from #{acked_before} to #{acked} (log has {total})"
        );
        if finished.is_some() && !worker {
            assert_eq!(
                acked, total,
                "{context}: sync --once reported success, but the hub acknowledged only #{acked} of {total}"
            );
        }
        if finished.is_none() && acked < total {
            killed_mid_push += 1;
        }
        eprintln!("{context}: node acked #{acked_before} -> #{acked} of {total}");
    }

    // Let it complete, through the same (now fast) link.
    proxy.set_delay(Duration::ZERO);
    final_sync(node, &proxy.url(), total);
    assert!(hub.alive(), "the hub died while nodes were being killed");
    hub.stop();
    drop(proxy);
    let node_ops = node.export_ops();
    assert_eq!(node_ops.len() as u64, total, "node log length");
    let (head, hub_ops) = hub_chain(&s.hub_dir);
    assert_exactly_once(&head, &hub_ops, &node_ops, "after the node kills");
    node.assert_verifies("after the node kills");
    eprintln!(
        "node_sigkill: {KILL_ROUNDS} kills, {killed_mid_push} with ops still unacknowledged; \
         {total} ops; {:?}",
        started.elapsed()
    );
    assert!(
        killed_mid_push > 0,
        "no kill landed while ops were still being pushed: the test exercised nothing"
    );
}

/// One last `sync --once` that must succeed and leave the hub holding all `total` ops.
fn final_sync(node: &NodeDir, url: &str, total: u64) {
    let out = node.run(&["--json", "sync", "--once", "--hub", url]);
    assert!(
        out.status.success(),
        "{}",
        describe("final sync --once", &out)
    );
    let st = node.status();
    assert_eq!(
        st["hub_acked"].as_u64(),
        Some(total),
        "{}",
        status_line(&st)
    );
    assert_eq!(st["ops_waiting"], 0, "{}", status_line(&st));
}
