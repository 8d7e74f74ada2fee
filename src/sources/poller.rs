//! Tokio tasks that poll the sources and send results to the app.
//!
//! A poll that outlasts its interval makes the next tick skip rather than
//! pile up: a cockpit must never become load on the database it watches.

use super::backoff::{Backoff, random_unit};
use super::{Clock, OrderStore, QueueMonitor};
use crate::action::Msg;
use chrono::Utc;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// An interval that skips missed ticks instead of bursting to catch up:
/// work that overran its slot must not be followed by a pile of repeats.
pub(crate) fn ticker(every: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval(every);
    t.set_missed_tick_behavior(MissedTickBehavior::Skip);
    t
}

/// Runs `poll` every `every` and sends what it returns, until cancelled or
/// the app has gone away. With `backoff`, a poll that failed (see
/// [`Msg::is_source_failure`]) delays the next one by a growing, jittered
/// pause on top of the interval (0.5 s doubling to 30 s), so a database
/// that is down is not hammered by every cockpit at once and is picked up
/// soon after it is back.
fn spawn_periodic<F, Fut>(
    every: Duration,
    backoff: bool,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
    mut poll: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Msg> + Send,
{
    tokio::spawn(async move {
        let mut tick = ticker(every);
        let mut pause = Backoff::reconnect();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {
                    let msg = poll().await;
                    let failed = msg.is_source_failure();
                    if tx.send(msg).await.is_err() {
                        break;
                    }
                    if !backoff {
                        continue;
                    }
                    if !failed {
                        pause.reset();
                        continue;
                    }
                    let extra = pause.fail(random_unit());
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(extra) => tick.reset(),
                    }
                }
            }
        }
    })
}

pub fn spawn_order_poller<S: OrderStore>(
    store: Arc<S>,
    clock: Clock,
    every: Duration,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    spawn_periodic(every, true, tx, cancel, move || {
        let (store, now) = (store.clone(), clock());
        async move {
            let result = store.detect(now).await;
            if let Err(e) = &result {
                tracing::warn!(source = "db", error = %e, "detection poll failed");
            }
            Msg::Orders {
                at: Utc::now(),
                result,
            }
        }
    })
}

pub fn spawn_queue_poller<Q: QueueMonitor>(
    monitor: Arc<Q>,
    every: Duration,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    // The broker source keeps its own reconnect schedule.
    spawn_periodic(every, false, tx, cancel, move || {
        let monitor = monitor.clone();
        async move {
            let result = monitor.poll().await;
            if let Err(e) = &result {
                tracing::warn!(source = "broker", error = %e, "queue poll failed");
            }
            Msg::Queues {
                at: Utc::now(),
                result,
            }
        }
    })
}

/// Keeps the watched order's timeline live: fetched at once when the
/// selection changes, then refreshed every `every`.
pub fn spawn_timeline_watcher<S: OrderStore>(
    store: Arc<S>,
    mut watched: watch::Receiver<Option<i64>>,
    every: Duration,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = ticker(every);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                changed = watched.changed() => {
                    if changed.is_err() { break; }
                    tick.reset();
                }
                _ = tick.tick() => {}
            }
            let Some(order_id) = *watched.borrow_and_update() else {
                continue;
            };
            let result = store.timeline(order_id).await;
            if tx.send(Msg::Timeline { order_id, result }).await.is_err() {
                break;
            }
        }
    })
}

/// Resolves one order number in the background (for `:goto`).
pub fn spawn_lookup<S: OrderStore>(store: Arc<S>, order_no: String, tx: mpsc::Sender<Msg>) {
    tokio::spawn(async move {
        let result = store.find_order_id(&order_no).await;
        let _ = tx.send(Msg::OrderFound { order_no, result }).await;
    });
}
