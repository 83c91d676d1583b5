//! Polling against a deadline, in the two forms the tests need: [`wait_for`] for async tests
//! (yields to the runtime between polls) and [`wait_until`] for synchronous ones (the process
//! tests). Nothing in the test kit waits with a bare sleep.

use std::time::{Duration, Instant};

/// Polls `cond` every 20 ms until it holds or `limit` passes; panics with `what` on timeout.
pub async fn wait_for<T>(what: &str, limit: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `cond` every 50 ms until it yields a value; panics naming `what` after `limit`.
pub fn wait_until<T>(what: &str, limit: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
