//! The simulated clock: starts at a given instant and runs `speed` times
//! faster than the wall clock.

use crate::sources::Clock;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::time::Instant;

/// Builds the accelerated clock the cockpit measures ages against.
pub fn accelerated(start: DateTime<Utc>, speed: f64) -> Clock {
    let origin = Instant::now();
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    Arc::new(move || {
        let real = origin.elapsed().as_secs_f64();
        let micros = (real * speed * 1e6).min(1e15) as i64;
        start + Duration::microseconds(micros)
    })
}
