//! The in-process simulator behind `orderdeck demo`: a consignment shop's
//! order traffic written into the reference schema, a simulated broker with
//! the reference topology, and the incidents of DESIGN section 2 (seeded and
//! recurring), all deterministic from a seed and driven by a simulated clock.
//!
//! - [`world`]: the simulator's state and step loop
//! - `flow`, `consumers`: an order's life, timer by timer and message by message
//! - `seed`, `plant`, `trail`: history, warm-up and the planted anomalies
//! - [`scenario`]: the incident script over time
//! - [`broker`]: the simulated broker and its [`QueueMonitor`](crate::sources::QueueMonitor)
//! - [`writes`]: batched, guarded database writes; [`prune`]: bounded growth
//! - [`catalog`], [`hostile`], [`clock`]: data and time

pub mod broker;
pub mod catalog;
pub mod clock;
mod consumers;
mod flow;
pub mod hostile;
mod ops;
mod plant;
pub mod prune;
pub mod scenario;
mod seed;
mod trail;
pub mod world;
pub mod writes;

pub use broker::{Queue, SimBroker};
pub use world::Simulator;

use super::{Clock, SourceError};
use chrono::{Duration, Utc};
use sqlx::SqlitePool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How the demo world runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every random choice: the same seed gives the same world.
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// New orders per simulated second (waves multiply it).
    pub order_rate_per_sec: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            speed: 1.0,
            order_rate_per_sec: 2.0,
        }
    }
}

/// Real time between simulation steps.
const TICK: std::time::Duration = std::time::Duration::from_millis(200);
/// Most simulated time one step covers; a slower machine lets the world lag
/// rather than pile up work.
const MAX_STEP_SECS: i64 = 120;

/// Migrates `pool`, seeds the demo history and spawns the simulation task.
/// Returns the broker to poll, the simulated clock (starting now, running
/// `speed` times faster) and the task, which ends soon after `cancel`.
pub async fn start(
    pool: SqlitePool,
    cfg: SimConfig,
    cancel: CancellationToken,
) -> Result<(SimBroker, Clock, JoinHandle<()>), SourceError> {
    let start = Utc::now();
    let speed = cfg.speed;
    let mut sim = Simulator::new(cfg, start);
    // History and planted anomalies now (present on the first poll); the
    // warm-up traffic in the task, so the cockpit's first frame is not held.
    sim.seed_only(&pool).await?;
    let broker = sim.broker();
    let clock = clock::accelerated(start, speed);
    let task_clock = clock.clone();
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => return,
            r = sim.warm_up(&pool) => if let Err(e) = r {
                tracing::warn!(error = %e, "simulator warm-up failed");
            },
        }
        let mut tick = super::poller::ticker(TICK);
        let mut failures = 0u32;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            let target = task_clock();
            let dt = (target - sim.now()).min(Duration::seconds(MAX_STEP_SECS));
            if dt <= Duration::zero() {
                continue;
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                r = sim.step(&pool, dt) => match r {
                    Ok(()) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures.is_power_of_two() {
                            tracing::warn!(error = %e, failures, "simulator step failed");
                        }
                    }
                },
            }
        }
    });
    Ok((broker, clock, task))
}
