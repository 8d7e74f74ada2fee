//! `orderdeck simulate`: real order traffic, with chaos, into a real
//! database (PostgreSQL, MySQL/MariaDB or SQLite with the reference schema)
//! through a real RabbitMQ (the reference topology), for chaos drills and
//! for watching the cockpit find what went wrong.
//!
//! - [`args`]: options and their bounds; [`error`]: errors and exit codes
//! - [`db`], [`sql`]: the database, per dialect
//! - [`front`]: who buys what; [`shop`]: what each message does
//! - [`amqp`], [`consumer`]: publishing with confirms, the real consumers
//! - [`chaos`]: the deadlock holder, the outage and expiry schedule
//! - [`stats`]: counters, progress line, summary
//! - [`command`]: the CLI commands (`simulate`, `broker declare`)

pub mod amqp;
pub mod args;
pub mod chaos;
pub mod command;
pub mod consumer;
pub mod db;
pub mod error;
pub mod front;
pub mod message;
pub mod shop;
pub mod sql;
pub mod stats;

pub use args::{Chaos, ChaosSet};
pub use error::SimError;
pub use stats::Summary;

use crate::config::mask_secrets;
use crate::sources::sim::catalog::HOT_SKU;
use crate::sources::store::DbKind;
use crate::topology::{self, Topology};
use amqp::{Publisher, QueueProbe};
use consumer::{CONSUMERS, Consumers, Context};
use front::Front;
use shop::{ErpLink, Shop};
use stats::{Outage, Stats};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One run.
#[derive(Debug, Clone)]
pub struct SimulateSpec {
    pub database_url: String,
    pub amqp_url: String,
    /// New orders per second.
    pub rate: f64,
    pub duration: Duration,
    pub chaos: ChaosSet,
    pub seed: u64,
    /// Share (0-1) of orders whose history is written in the past.
    pub backdate_share: f64,
    /// [`Topology::reference`] except in tests sharing a broker.
    pub topology: Topology,
    /// How often the progress line is reported.
    pub progress_every: Duration,
}

/// How often the run checks the clock, the outage and the connection.
const TICK: Duration = Duration::from_millis(250);

/// Runs the simulation until `spec.duration` has passed or `cancel` fires,
/// reporting progress lines through `progress`, then stops every task,
/// closes channels, the connection and the pool, and returns the summary.
pub async fn run(
    spec: SimulateSpec,
    cancel: CancellationToken,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Summary, SimError> {
    let db = db::connect(&spec.database_url).await?;
    if let Err(e) = db::check_schema(&db, &spec.database_url).await {
        db.close().await;
        return Err(e);
    }
    if spec.chaos.deadlock && db.kind() == DbKind::Sqlite {
        db.close().await;
        return Err(SimError::Usage(
            "chaos deadlock needs row locks: use a PostgreSQL or MySQL/MariaDB database (SQLite locks the whole file)".into(),
        ));
    }
    let conn = match topology::connect(&spec.amqp_url, "orderdeck simulate").await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            db.close().await;
            return Err(e.into());
        }
    };
    let result = drive(&spec, &db, &conn, cancel, progress).await;
    let _ = conn.close(200, "simulate finished".into()).await;
    db.close().await;
    result
}

/// Everything between connecting and disconnecting.
async fn drive(
    spec: &SimulateSpec,
    db: &db::Db,
    conn: &Arc<lapin::Connection>,
    cancel: CancellationToken,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Summary, SimError> {
    let broker_err = |what: &str, e: lapin::Error| {
        SimError::Unreachable(format!(
            "RabbitMQ at {}: {what}: {}",
            mask_secrets(&spec.amqp_url),
            error::one_line(&e.to_string())
        ))
    };
    let setup = conn
        .create_channel()
        .await
        .map_err(|e| broker_err("opening a channel", e))?;
    topology::declare_topology(&setup, &spec.topology).await?;
    let _ = setup.close(200, "declared".into()).await;

    let stats = Arc::new(Stats::default());
    let start = Instant::now();
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let front = Front::new(spec.seed, spec.backdate_share, &spec.chaos, run_id);
    shop::stock_shelves(db, front.products())
        .await
        .map_err(|e| {
            SimError::Failed(format!(
                "stocking the inventory: {}",
                error::one_line(&e.to_string())
            ))
        })?;
    let erp_expires = spec
        .chaos
        .erp_cert_expired
        .then(|| chaos::erp_expiry(spec.duration));
    let erp = erp_expires.map_or_else(ErpLink::healthy, |d| {
        ErpLink::certificate_expiring_at(start + d)
    });
    let shop = Arc::new(Shop::new(
        db.clone(),
        spec.seed,
        spec.chaos.clone(),
        erp,
        stats.clone(),
    ));
    let publisher = Publisher::open(conn, &spec.topology, stats.clone())
        .await
        .map_err(|e| broker_err("opening the publisher channel", e))?;
    let mut consumers = Consumers::new(
        conn,
        Context {
            shop: shop.clone(),
            publisher: publisher.clone(),
            topology: spec.topology.clone(),
            stats: stats.clone(),
        },
    );
    let stop_tasks = cancel.child_token();
    let mut result = Ok(());
    for (queue, n) in CONSUMERS {
        if let Err(e) = consumers.start(queue, n).await {
            result = Err(broker_err(&format!("starting the {queue} consumers"), e));
            break;
        }
    }
    let mut tasks = Vec::new();
    if result.is_ok() {
        tasks.push(tokio::spawn(place_orders(
            front,
            shop.clone(),
            publisher.clone(),
            stats.clone(),
            spec.rate,
            stop_tasks.clone(),
        )));
        if spec.chaos.deadlock {
            tasks.push(tokio::spawn(chaos::hold_hot_rows(
                db.clone(),
                HOT_SKU.to_string(),
                stats.clone(),
                stop_tasks.clone(),
            )));
        }
    }

    if result.is_ok() {
        progress(&format!(
            "simulating {} orders/s for {} into {} ({}) through {} (chaos {}, seed {}); Ctrl-C stops early",
            spec.rate,
            args::format_duration(spec.duration),
            mask_secrets(&spec.database_url),
            db::name(db.kind()),
            mask_secrets(&spec.amqp_url),
            spec.chaos,
            spec.seed
        ));
    }
    let mut probe = QueueProbe::new(conn);
    let mut outage: Option<Outage> = None;
    let (down_at, up_at) = chaos::outage_window(spec.duration);
    let progress_every = spec.progress_every.max(TICK);
    let mut next_progress = progress_every;
    let mut interrupted = false;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while result.is_ok() {
        tokio::select! {
            _ = cancel.cancelled() => { interrupted = true; break; }
            _ = tick.tick() => {}
        }
        let elapsed = start.elapsed();
        if elapsed >= spec.duration {
            break;
        }
        if !conn.status().connected() {
            result = Err(SimError::Unreachable(format!(
                "lost the connection to RabbitMQ at {} after {:.1}s",
                mask_secrets(&spec.amqp_url),
                elapsed.as_secs_f64()
            )));
            break;
        }
        if let Some(queue) = spec.chaos.consumer_down {
            match &mut outage {
                None if elapsed >= down_at => {
                    consumers.stop(queue).await;
                    outage = Some(Outage {
                        queue,
                        from: start.elapsed(),
                        until: None,
                        backlog_at_restart: 0,
                        peak_backlog: 0,
                    });
                }
                Some(o) if o.until.is_none() => {
                    let depth = probe.ready(&spec.topology.queue(queue)).await.unwrap_or(0);
                    o.peak_backlog = o.peak_backlog.max(depth);
                    if elapsed >= up_at {
                        o.backlog_at_restart = depth;
                        let n = CONSUMERS
                            .iter()
                            .find(|(q, _)| *q == queue)
                            .map_or(1, |(_, n)| *n);
                        if let Err(e) = consumers.start(queue, n).await {
                            result =
                                Err(broker_err(&format!("restarting the {queue} consumers"), e));
                        }
                        o.until = Some(start.elapsed());
                    }
                }
                _ => {}
            }
        }
        if elapsed >= next_progress {
            next_progress += progress_every;
            let mut backlog = 0u64;
            let mut known = true;
            for q in spec.topology.work_queues() {
                match probe.ready(&spec.topology.queue(q)).await {
                    Some(n) => backlog += u64::from(n),
                    None => known = false,
                }
            }
            let mut notes = Vec::new();
            if let Some(o) = outage.as_ref().filter(|o| o.until.is_none()) {
                notes.push(format!("{} consumers down", o.queue));
            }
            if erp_expires.is_some_and(|at| elapsed >= at) {
                notes.push("ERP certificate expired".into());
            }
            progress(&stats::progress_line(
                elapsed,
                spec.duration,
                &stats.snapshot(),
                known.then_some(backlog),
                &notes,
            ));
        }
    }

    // Stop producing first, then consuming, so nothing is left half done.
    stop_tasks.cancel();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    consumers.stop_all().await;
    let elapsed = start.elapsed();
    let mut depths = Vec::new();
    for q in spec.topology.work_queues() {
        for name in [spec.topology.queue(q), spec.topology.dlq(q)] {
            if let Some(n) = probe.ready(&name).await {
                depths.push((name, n));
            }
        }
    }
    probe.close().await;
    publisher.close().await;
    result?;
    Ok(Summary {
        elapsed,
        interrupted,
        database: mask_secrets(&spec.database_url),
        broker: mask_secrets(&spec.amqp_url),
        rate: spec.rate,
        seed: spec.seed,
        chaos: spec.chaos.clone(),
        counts: stats.snapshot(),
        outage,
        erp_expired_at: erp_expires.filter(|at| *at <= elapsed),
        depths,
    })
}

/// The shop front: places orders at `rate` per second until cancelled. A
/// slow database lowers the rate instead of piling up work.
async fn place_orders(
    mut front: Front,
    shop: Arc<Shop>,
    publisher: Publisher,
    stats: Arc<Stats>,
    rate: f64,
    cancel: CancellationToken,
) {
    // The CLI bounds the rate; a library caller's 0 or NaN must not panic.
    let rate = if rate.is_finite() {
        rate.clamp(args::MIN_RATE, args::MAX_RATE)
    } else {
        args::MIN_RATE
    };
    let mut tick = crate::sources::poller::ticker(Duration::from_secs_f64(1.0 / rate));
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let order = front.next_order();
        match shop.create_order(&order).await {
            // A callback that cannot be published is lost, as a gateway's
            // can be: the order stays pending_review (a ghost).
            Ok(msg) => {
                let _ = publisher.publish(&msg, 0).await;
            }
            Err(e) => {
                failures += 1;
                let text = error::one_line(&e.to_string());
                Stats::bump(&stats.order_errors);
                stats.note_error(&format!("placing an order: {text}"));
                if error::worth_logging(failures) {
                    tracing::warn!(error = %text, failures, "simulate: placing an order failed");
                }
            }
        }
    }
}
