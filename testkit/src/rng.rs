//! Seeded random sources for tests: [`Rng`] (splitmix64, seed printed and replayable with
//! `CIVREG_FAULT_SEED`) and [`XorShift`] (a fixed stream of test bytes).

use std::time::Duration;

/// `CIVREG_FAULT_SEED` replays a run.
pub struct Rng(u64);

impl Rng {
    /// The seed from `CIVREG_FAULT_SEED`, or a fresh one; printed so a failure can be replayed.
    pub fn for_test(test: &str) -> Rng {
        let seed = match std::env::var("CIVREG_FAULT_SEED") {
            Ok(s) => s
                .trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("CIVREG_FAULT_SEED={s:?} is not a whole number")),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed),
        };
        eprintln!("{test}: random seed {seed} (replay with CIVREG_FAULT_SEED={seed})");
        // Each test draws its own stream from the shared seed.
        let mut h = seed;
        for b in test.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next_u64() % one_in == 0
    }
}

/// A tiny deterministic generator for test bytes.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
