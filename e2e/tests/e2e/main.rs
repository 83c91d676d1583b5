//! civreg's end-to-end tests, in one test binary (one module per area): the tests that cross
//! binaries or run whole systems — real `civreg-hub` and `civreg-node` processes, faults on
//! the link, headless Chromium — and the deterministic simulation of many nodes and a hub.
//!
//! The binaries they run are this crate's `civreg-e2e-node` and `civreg-e2e-hub`, built by
//! cargo from the shipped `main.rs` files before these tests run (see `civreg_testkit::bins`).

mod at_rest;
mod backup;
mod browser;
mod catchup;
mod certificate;
mod clerk_a11y;
mod clerk_browser;
mod clerk_https;
mod clerk_upload;
mod clerks;
mod control;
mod failover;
mod faults;
mod hub_rotate;
mod hublist;
mod hubs;
mod node_serve;
mod pgops;
mod postgres;
mod reconcile;
mod renewal;
mod rollover;
mod rotate;
mod serve_wait;
mod shared;
mod simulation;
mod stall;
mod sync;
mod unvoid;

/// The binaries the tests run are the ones cargo just built for this crate, unless the
/// environment names others on purpose.
#[test]
fn the_binaries_under_test_are_the_ones_cargo_built() {
    if std::env::var_os("CIVREG_NODE_BIN").is_none() {
        assert_eq!(
            civreg_testkit::bins::node_bin(),
            std::path::Path::new(env!("CARGO_BIN_EXE_civreg-e2e-node"))
        );
    }
    if std::env::var_os("CIVREG_HUB_BIN").is_none() {
        assert_eq!(
            civreg_testkit::bins::hub_bin(),
            std::path::Path::new(env!("CARGO_BIN_EXE_civreg-e2e-hub"))
        );
    }
}
