//! The hub's store in PostgreSQL, with real processes: `civreg-hub serve --store postgres://…`
//! over a throwaway cluster ([`civreg_testkit::postgres`]), two nodes of one municipality
//! pushing and pulling over mutual TLS, the hub SIGKILLed mid-push and restarted over the same
//! database. Whatever a node recorded as acknowledged must be in PostgreSQL after each kill,
//! and at the end the hub and both nodes hold the same records (equal digests).

use civreg_hub::paths::StoreAt;
use civreg_hub::store::{Head, HubStore};
use civreg_testkit::fleet::*;
use std::process::Command;
use std::time::{Duration, Instant};

const INITIAL_OPS: u64 = 1500;
const TOP_UP_OPS: u64 = 400;
const KILL_ROUNDS: u64 = 4;

/// The hub's store in PostgreSQL, opened beside the running hub (PostgreSQL, unlike sled,
/// lets several processes open it): the head of the test node's chain.
fn pg_head(url: &str, hub_dir: &std::path::Path) -> Head {
    let keys = civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(hub_dir))
        .expect("the hub's key file");
    let store =
        HubStore::open_at(&StoreAt::Postgres(url.to_string()), keys).expect("open the PG store");
    store.head(MUNICIPALITY, NODE_ID)
}

fn hub_cli(hub_dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .output()
        .expect("run civreg-hub");
    assert!(out.status.success(), "{}", describe("civreg-hub", &out));
    serde_json::from_slice(&out.stdout).expect("civreg-hub --json")
}

#[test]
fn a_hub_on_postgres_sigkilled_mid_push_loses_no_acknowledged_op_and_nodes_converge() {
    let started = Instant::now();
    let db = civreg_testkit::postgres::database();
    let store = ["--store", db.url.as_str()];
    let s = Setup::new();
    let node = &s.node;
    // A second office PC of the same municipality, which pulls what the first pushes.
    let node2 = s.second_node();

    let csv = s.path("rows.csv");
    node.import_births(&csv, "L-1", 0, INITIAL_OPS);
    let mut total = INITIAL_OPS;
    // One address across hub restarts, and a slow link so that each kill lands inside a push.
    let proxy = Proxy::start(9);
    let log = s.path("node-sync.log");
    let mut prev_head = 0u64;
    let mut killed_mid_push = 0;
    for round in 0..KILL_ROUNDS {
        if round > 0 {
            node.import_births(&csv, "L-1", total, TOP_UP_OPS);
            total += TOP_UP_OPS;
        }
        let mut hub = HubProc::start_with(&s.hub_dir, &s.path("hub.log"), &store);
        proxy.set_upstream(hub.port);
        proxy.set_delay(Duration::from_millis(40));
        let mut sync = node.spawn(&["--json", "sync", "--once", "--hub", &proxy.url()], &log);
        // The kill comes once the hub has committed part of this round's push (polled in
        // PostgreSQL itself), or when the push is over.
        wait_until(
            "the hub to commit part of the push",
            Duration::from_secs(60),
            || {
                (pg_head(&db.url, &s.hub_dir).seq > prev_head
                    || sync.try_wait().expect("try_wait").is_some())
                .then_some(())
            },
        );
        let mid_push = sync.try_wait().expect("try_wait").is_none();
        hub.kill();
        proxy.set_delay(Duration::ZERO);
        let exit = wait_exit(
            &mut sync,
            "sync --once after the kill",
            Duration::from_secs(60),
        );
        let context = format!("round {round} (mid push: {mid_push})");
        assert!(
            matches!(exit.code(), Some(0) | Some(3)),
            "{context}: sync --once exited {exit}\n{}",
            log_tail(&log)
        );
        let acked = node.status_u64("hub_acked");
        let head = pg_head(&db.url, &s.hub_dir);
        assert!(
            head.seq >= acked,
            "{context}: the node recorded the hub's acknowledgement of #{acked}, but after SIGKILL PostgreSQL holds only #{}",
            head.seq
        );
        assert!(head.seq >= prev_head, "{context}: the head went back");
        if mid_push && exit.code() == Some(3) {
            killed_mid_push += 1;
        }
        eprintln!(
            "{context}: exit {:?}, node acked #{acked}, hub head #{prev_head} -> #{} of {total}",
            exit.code(),
            head.seq
        );
        prev_head = head.seq;
    }
    assert!(
        killed_mid_push > 0,
        "no kill landed inside a push: the test exercised nothing"
    );

    // Restarted over the same database: the push completes, the other PC pulls everything.
    let mut hub = HubProc::start_with(&s.hub_dir, &s.path("hub.log"), &store);
    for n in [node, &node2] {
        let out = n.run(&["--json", "sync", "--once", "--hub", &hub.url()]);
        assert!(out.status.success(), "{}", describe("sync --once", &out));
    }
    assert_eq!(node.status_u64("hub_acked"), total);
    assert_eq!(node.status()["ops_waiting"], 0);
    // The hub's digest through its control socket while it serves...
    let digest = ["--json", "digest", "--municipality", MUNICIPALITY];
    let serving = hub_cli(&s.hub_dir, &digest);
    hub.stop();
    // ... and from the PostgreSQL store opened by the command itself once it stopped.
    let mut args = digest.to_vec();
    args.extend(store);
    let stopped = hub_cli(&s.hub_dir, &args);
    assert_eq!(
        serving["sha256"], stopped["sha256"],
        "{serving} vs {stopped}"
    );
    assert_eq!(stopped["records"].as_u64(), Some(total), "{stopped}");
    for n in [node, &node2] {
        let d: serde_json::Value =
            serde_json::from_slice(&n.run_ok(&["--json", "digest"]).stdout).expect("json");
        assert_eq!(d["sha256"], stopped["sha256"], "{d} vs {stopped}");
    }
    // Every op exactly once, in chain order, as the node wrote it.
    let keys = civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(&s.hub_dir))
        .expect("key");
    let hub_store =
        HubStore::open_at(&StoreAt::Postgres(db.url.clone()), keys).expect("open the PG store");
    let hub_ops = hub_store.chain_ops(MUNICIPALITY, NODE_ID).expect("chain");
    let head = hub_store.head(MUNICIPALITY, NODE_ID);
    assert_exactly_once(&head, &hub_ops, &node.export_ops(), "after the kills");
    // Nothing of it went to a sled database under the data directory.
    assert!(!civreg_hub::paths::db_dir(&s.hub_dir).exists());
    eprintln!(
        "postgres: {KILL_ROUNDS} kills ({killed_mid_push} mid push), {total} ops, {:?}",
        started.elapsed()
    );
}
