//! The incident script: which outages and waves happen when, as pure
//! functions of the simulated time elapsed since the start.
//!
//! - logistics.updates consumer down: from 22 min before the start until
//!   90 s after it (the backlog is there on the first poll), then for 6 min
//!   every 30 min;
//! - ERP link down (expired middleware certificate) for 5 min every 45 min;
//! - promotion waves: three times the order rate for 2 min every 10 min;
//! - a settlement publisher that emits malformed messages for 1 min every
//!   20 min (dead letters pile up in settlement.dlq).

/// Seconds the first logistics outage had already lasted at the start.
pub const LOGISTICS_DOWN_BEFORE_START: f64 = 22.0 * 60.0;
/// When the first logistics outage ends.
pub const LOGISTICS_BACK_AT: f64 = 90.0;

pub fn logistics_down(elapsed: f64) -> bool {
    if elapsed < LOGISTICS_BACK_AT {
        return true;
    }
    let t = elapsed - 15.0 * 60.0;
    t >= 0.0 && t % (30.0 * 60.0) < 6.0 * 60.0
}

pub fn erp_down(elapsed: f64) -> bool {
    elapsed >= 0.0
        && elapsed % (45.0 * 60.0) >= 20.0 * 60.0
        && elapsed % (45.0 * 60.0) < 25.0 * 60.0
}

/// When the ERP link current outage ends (the next time it is up).
pub fn erp_back_at(elapsed: f64) -> f64 {
    let cycle = 45.0 * 60.0;
    (elapsed / cycle).floor() * cycle + 25.0 * 60.0
}

/// Multiplier on the order rate.
pub fn wave(elapsed: f64) -> f64 {
    let t = elapsed.max(0.0) % 600.0;
    if (300.0..420.0).contains(&t) {
        3.0
    } else {
        1.0
    }
}

/// Malformed messages per simulated second published to `settlement`.
pub fn settlement_poison_rate(elapsed: f64) -> f64 {
    let t = elapsed.max(0.0) % 1200.0;
    if (600.0..660.0).contains(&t) {
        0.5
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_is_on_schedule() {
        assert!(logistics_down(0.0));
        assert!(!logistics_down(120.0));
        assert!(logistics_down(15.0 * 60.0 + 10.0));
        assert!(!logistics_down(22.0 * 60.0));
        assert!(!erp_down(0.0));
        assert!(erp_down(21.0 * 60.0));
        assert_eq!(erp_back_at(21.0 * 60.0), 25.0 * 60.0);
        assert_eq!(wave(0.0), 1.0);
        assert_eq!(wave(330.0), 3.0);
    }
}
