//! Matches per minute over a sliding minute, in constant memory.
//!
//! A log can match thousands of times a second during an incident; keeping a
//! timestamp per match would grow without bound. Sixty one-second buckets
//! give the same "how many in the last 60 s" to within a second.

/// Seconds in the window.
pub const WINDOW_SECS: u64 = 60;

#[derive(Debug, Clone)]
pub struct MinuteWindow {
    /// Counts per second, indexed by `second % WINDOW_SECS`.
    buckets: [u32; WINDOW_SECS as usize],
    /// The second each bucket holds, so stale buckets read as empty.
    stamps: [u64; WINDOW_SECS as usize],
}

impl Default for MinuteWindow {
    fn default() -> Self {
        MinuteWindow {
            buckets: [0; WINDOW_SECS as usize],
            stamps: [0; WINDOW_SECS as usize],
        }
    }
}

impl MinuteWindow {
    /// Records `n` matches in second `now` (seconds on any monotonic clock).
    pub fn record(&mut self, now: u64, n: u32) {
        if n == 0 {
            return;
        }
        let i = (now % WINDOW_SECS) as usize;
        if self.stamps[i] != now {
            self.stamps[i] = now;
            self.buckets[i] = 0;
        }
        self.buckets[i] = self.buckets[i].saturating_add(n);
    }

    /// Matches in the 60 seconds ending with second `now`.
    pub fn count(&self, now: u64) -> u32 {
        let oldest = now.saturating_sub(WINDOW_SECS - 1);
        self.buckets
            .iter()
            .zip(&self.stamps)
            .filter(|(_, s)| **s >= oldest && **s <= now)
            .fold(0u32, |sum, (b, _)| sum.saturating_add(*b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_last_sixty_seconds_only() {
        let mut w = MinuteWindow::default();
        w.record(100, 3);
        w.record(100, 2);
        w.record(130, 1);
        assert_eq!(w.count(130), 6);
        assert_eq!(w.count(159), 6);
        assert_eq!(w.count(160), 1, "second 100 left the window");
        assert_eq!(w.count(190), 0);
        // A bucket reused a minute later starts from zero.
        w.record(220, 4);
        assert_eq!(w.count(220), 4);
    }

    #[test]
    fn second_zero_is_a_real_second() {
        let mut w = MinuteWindow::default();
        w.record(0, 1);
        assert_eq!(w.count(0), 1);
        assert_eq!(w.count(59), 1);
        assert_eq!(w.count(60), 0);
    }

    #[test]
    fn floods_saturate_instead_of_wrapping() {
        let mut w = MinuteWindow::default();
        for s in 0..60 {
            w.record(s, u32::MAX / 2);
        }
        assert_eq!(w.count(59), u32::MAX);
    }
}
