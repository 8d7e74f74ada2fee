//! What every bench shares: a bench that cannot measure (no server, a
//! failed poll) fails the run with one line saying why, rather than
//! printing "skipped" and exiting 0; and each figure a budget applies to is
//! printed as `budget: ID VALUE UNIT`, the line `scripts/budgets.sh` reads
//! and checks against `scripts/budgets.tsv`.

// Each bench uses the part it needs.
#![allow(dead_code)]

use std::time::Duration;

/// Ends the bench with exit code 1 and `why` on stderr.
pub fn fail(bench: &str, why: impl std::fmt::Display) -> ! {
    eprintln!("{bench} bench FAILED: {why}");
    std::process::exit(1)
}

/// A measured figure, for `scripts/budgets.sh`.
pub fn figure(id: &str, value: f64, unit: &str) {
    println!("budget: {id} {value:.3} {unit}");
}

/// The median of `n` timed runs of `f`.
pub fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n.max(1))
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
