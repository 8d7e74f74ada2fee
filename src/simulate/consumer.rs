//! The real consumers: one lapin channel and tokio task each, taking
//! messages off a work queue, handing them to the [`Shop`], then
//! publishing the next steps (confirmed) before acknowledging, so a crash
//! loses nothing (at-least-once; the handlers' guarded updates make a
//! duplicate harmless).
//!
//! Consumers of one queue can be stopped and started again: that is how
//! `consumer-down` takes a consumer away for a while.

use super::amqp::Publisher;
use super::message::Msg;
use super::shop::{Outcome, Shop};
use super::stats::Stats;
use crate::broker::retries_of;
use crate::topology::Topology;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, Connection};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Tries a message gets before it is dead-lettered.
pub const MAX_RETRIES: u32 = 3;
/// Unacknowledged messages one consumer may hold.
const PREFETCH: u16 = 10;
/// Consumers per work queue in normal operation.
pub const CONSUMERS: [(&str, usize); 6] = [
    ("payment.callback", 2),
    ("inventory.sync", 2),
    ("fulfillment", 3),
    ("logistics.updates", 2),
    ("settlement", 1),
    ("notify.customer", 1),
];
/// How long stopping waits for a consumer to finish its current message.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Everything a consumer task needs.
#[derive(Clone)]
pub struct Context {
    pub shop: Arc<Shop>,
    pub publisher: Publisher,
    pub topology: Topology,
    pub stats: Arc<Stats>,
}

struct Running {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// The running consumers, by work queue.
pub struct Consumers {
    conn: Arc<Connection>,
    ctx: Context,
    running: BTreeMap<&'static str, Running>,
}

impl Consumers {
    pub fn new(conn: &Arc<Connection>, ctx: Context) -> Consumers {
        Consumers {
            conn: conn.clone(),
            ctx,
            running: BTreeMap::new(),
        }
    }

    /// Starts `n` consumers on the work queue `queue` (a reference name).
    pub async fn start(&mut self, queue: &'static str, n: usize) -> Result<(), lapin::Error> {
        let stop = CancellationToken::new();
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let channel = self.conn.create_channel().await?;
            channel
                .basic_qos(PREFETCH, BasicQosOptions::default())
                .await?;
            let consumer = channel
                .basic_consume(
                    ShortString::from(self.ctx.topology.queue(queue)),
                    ShortString::from(format!(
                        "orderdeck-simulate-{queue}-{i}-{}",
                        std::process::id()
                    )),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            tasks.push(tokio::spawn(consume(
                channel,
                consumer,
                queue,
                self.ctx.clone(),
                stop.clone(),
            )));
        }
        self.running.insert(queue, Running { stop, tasks });
        Ok(())
    }

    /// Stops the consumers of `queue`: each finishes the message in hand and
    /// closes its channel, and RabbitMQ requeues what they had prefetched.
    pub async fn stop(&mut self, queue: &'static str) {
        if let Some(r) = self.running.remove(queue) {
            r.stop.cancel();
            for t in r.tasks {
                let _ = tokio::time::timeout(STOP_GRACE, t).await;
            }
        }
    }

    pub async fn stop_all(&mut self) {
        let queues: Vec<&'static str> = self.running.keys().copied().collect();
        for r in self.running.values() {
            r.stop.cancel();
        }
        for q in queues {
            self.stop(q).await;
        }
    }
}

async fn consume(
    channel: Channel,
    mut consumer: lapin::Consumer,
    queue: &'static str,
    ctx: Context,
    stop: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            next = consumer.next() => next,
        };
        match next {
            Some(Ok(delivery)) => process(&delivery, queue, &ctx).await,
            Some(Err(e)) => {
                tracing::warn!(queue, error = %e, "simulate: consumer stream failed");
                ctx.stats.note_error(&format!("consumer on {queue}: {e}"));
                break;
            }
            None => break,
        }
    }
    let _ = channel
        .close(200, "simulate: consumer stopped".into())
        .await;
}

async fn process(d: &Delivery, queue: &'static str, ctx: &Context) {
    let stats = &ctx.stats;
    let msg = match Msg::from_json(&d.data) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(queue, error = %e, "simulate: malformed message dead-lettered");
            Stats::bump(&stats.malformed);
            dead_letter(d, queue, stats).await;
            return;
        }
    };
    let retries = retries_of(&d.properties);
    match ctx.shop.handle(&msg).await {
        Outcome::Done(next) => {
            for m in &next {
                if ctx.publisher.publish(m, 0).await.is_err() {
                    // Not acknowledged: it comes back and is handled again.
                    requeue(d).await;
                    return;
                }
            }
            ack(d).await;
            Stats::bump(&stats.acked);
        }
        Outcome::Stale => {
            ack(d).await;
            Stats::bump(&stats.stale);
        }
        Outcome::DeadLetter(_) => dead_letter(d, queue, stats).await,
        Outcome::Retry(_) if retries >= MAX_RETRIES => dead_letter(d, queue, stats).await,
        Outcome::Retry(_) => {
            // To the back of the queue with the count raised, then done with
            // this copy.
            if ctx.publisher.publish(&msg, retries + 1).await.is_ok() {
                ack(d).await;
                Stats::bump(&stats.retried);
            } else {
                requeue(d).await;
            }
        }
    }
}

async fn ack(d: &Delivery) {
    if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
        tracing::warn!(error = %e, "simulate: ack failed");
    }
}

async fn requeue(d: &Delivery) {
    let opts = BasicNackOptions {
        requeue: true,
        ..BasicNackOptions::default()
    };
    if let Err(e) = d.acker.nack(opts).await {
        tracing::warn!(error = %e, "simulate: nack failed");
    }
}

/// Rejects without requeue: the queue's dead-letter exchange routes it into
/// `<queue>.dlq`.
async fn dead_letter(d: &Delivery, queue: &'static str, stats: &Stats) {
    let opts = BasicNackOptions {
        requeue: false,
        ..BasicNackOptions::default()
    };
    match d.acker.nack(opts).await {
        Ok(_) => stats.dead_letter(queue),
        Err(e) => tracing::warn!(error = %e, "simulate: nack failed"),
    }
}
