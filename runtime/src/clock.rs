//! The time, as hub and node read it: milliseconds since the Unix epoch.
//!
//! Code that stamps what it stores (an op's hybrid logical clock, a rollout decision, an access
//! log entry) reads [`now_ms`], or a [`Clock`] when a test must set the time: the node's
//! deterministic simulation gives each node a simulated clock (`Node::set_clock`).

use std::sync::Arc;

/// Where the time is read: the system clock ([`system`]) or a simulated one in tests.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock in milliseconds since the Unix epoch; 0 if it is set before 1970.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The system clock as a [`Clock`].
pub fn system() -> Clock {
    Arc::new(now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_reads_the_time_of_day_and_a_clock_can_be_replaced() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let now = system()();
        // 2026-01-01 as a floor: the clock reads the date, not a count from start-up.
        assert!(now >= before && now >= 1_767_225_600_000, "{now}");
        let t = Arc::new(std::sync::atomic::AtomicU64::new(5));
        let sim: Clock = {
            let t = t.clone();
            Arc::new(move || t.load(std::sync::atomic::Ordering::Relaxed))
        };
        assert_eq!(sim(), 5);
        t.store(9, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(sim(), 9);
    }
}
