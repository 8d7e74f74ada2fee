//! Capped exponential backoff with full jitter, for sources that reconnect
//! on their own (broker, database).
//!
//! Pure: the caller supplies the random fraction, so the schedule is
//! testable and a source decides where its randomness comes from. Full
//! jitter (a uniform delay in `[0, ceiling]`) spreads the reconnects of many
//! cockpits after a broker restart, so ten wallboards do not knock on the
//! recovering broker in the same instant.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// `base` is the ceiling after the first failure; it doubles with each
    /// further failure up to `cap`. A zero `base` is raised to 1 ms, so the
    /// schedule still grows, and `cap` is at least `base`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        let base = base.max(Duration::from_millis(1));
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// The reconnect schedule of the cockpit's sources: 0.5 s doubling to 30 s.
    pub fn reconnect() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The longest delay the next failure can draw: `min(cap, base * 2^failures)`.
    pub fn ceiling(&self) -> Duration {
        // 2^31 times any base already exceeds any sane cap; stop doubling
        // there instead of overflowing.
        let doublings = self.failures.min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// Records a failure and returns how long to wait before the next
    /// attempt: `unit` (a random fraction in `[0, 1)`, clamped) times the
    /// ceiling. A NaN fraction counts as the whole ceiling, the safe side.
    pub fn fail(&mut self, unit: f64) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let unit = if unit.is_nan() {
            1.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        // Float rounding near Duration::MAX must not panic or pass the ceiling.
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * unit)
            .map_or(ceiling, |d| d.min(ceiling))
    }

    /// A success: the next failure starts again from `base`.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A random fraction in `[0, 1)` for [`Backoff::fail`]. Jitter only has to
/// differ between processes and attempts, not be unpredictable, so the
/// standard library's randomly keyed hasher is enough.
pub fn random_unit() -> f64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    // The top 53 bits fill an f64 mantissa exactly.
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::reconnect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn ceiling_doubles_from_base_and_stops_at_the_cap() {
        let mut b = Backoff::reconnect();
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(b.ceiling());
            b.fail(0.5);
        }
        assert_eq!(
            ceilings,
            [
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(16000),
                ms(30000),
                ms(30000),
                ms(30000),
                ms(30000)
            ]
        );
        assert_eq!(b.failures(), 10);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let mut b = Backoff::reconnect();
        for _ in 0..3 {
            b.fail(0.0);
        }
        // Ceiling is now 4 s.
        assert_eq!(b.clone().fail(0.0), Duration::ZERO);
        assert_eq!(b.clone().fail(0.25), ms(1000));
        assert_eq!(
            b.clone().fail(0.999_999),
            ms(4000) - Duration::from_nanos(4000)
        );
        assert_eq!(b.clone().fail(1.0), ms(4000));
    }

    #[test]
    fn out_of_range_fractions_stay_within_bounds() {
        let mut b = Backoff::reconnect();
        assert_eq!(b.clone().fail(-3.0), Duration::ZERO);
        assert_eq!(b.clone().fail(7.0), ms(500));
        assert_eq!(b.fail(f64::NAN), ms(500));
    }

    #[test]
    fn every_delay_is_within_zero_and_the_cap() {
        let mut b = Backoff::reconnect();
        for i in 0..200u32 {
            let unit = f64::from(i % 17) / 17.0;
            let before = b.ceiling();
            let d = b.fail(unit);
            assert!(
                d <= before && before <= Duration::from_secs(30),
                "{d:?} {before:?}"
            );
        }
    }

    #[test]
    fn many_failures_neither_overflow_nor_pass_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(3600), Duration::from_secs(7200));
        for _ in 0..100 {
            b.fail(1.0);
        }
        assert_eq!(b.ceiling(), Duration::from_secs(7200));
        let mut huge = Backoff::new(Duration::MAX, Duration::MAX);
        huge.fail(1.0);
        assert_eq!(huge.ceiling(), Duration::MAX);
    }

    #[test]
    fn random_units_are_fractions_and_vary() {
        let draws: Vec<f64> = (0..100).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)), "{draws:?}");
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn success_resets_the_schedule() {
        let mut b = Backoff::reconnect();
        for _ in 0..6 {
            b.fail(1.0);
        }
        assert_eq!(b.ceiling(), ms(30000));
        b.reset();
        assert_eq!((b.failures(), b.ceiling()), (0, ms(500)));
        assert_eq!(b.fail(1.0), ms(500));
    }

    #[test]
    fn degenerate_settings_are_repaired() {
        let b = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(b.ceiling(), ms(1));
        let b = Backoff::new(ms(800), ms(100));
        assert_eq!(b.ceiling(), ms(800));
    }
}
