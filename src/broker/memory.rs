//! The in-process broker: the reference topology (six work queues, each
//! dead-lettering into `<queue>.dlq`), consumers with a throughput each,
//! and the rates a management API would report. The demo feeds it and
//! remediations requeue from it, so it lives at the broker edge rather
//! than inside the demo.

use crate::model::{QueueSnapshot, QueueStat};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// The six work queues of the reference topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Queue {
    PaymentCallback,
    InventorySync,
    Fulfillment,
    LogisticsUpdates,
    Settlement,
    NotifyCustomer,
}

impl Queue {
    pub const ALL: [Queue; 6] = [
        Queue::PaymentCallback,
        Queue::InventorySync,
        Queue::Fulfillment,
        Queue::LogisticsUpdates,
        Queue::Settlement,
        Queue::NotifyCustomer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Queue::PaymentCallback => "payment.callback",
            Queue::InventorySync => "inventory.sync",
            Queue::Fulfillment => "fulfillment",
            Queue::LogisticsUpdates => "logistics.updates",
            Queue::Settlement => "settlement",
            Queue::NotifyCustomer => "notify.customer",
        }
    }

    pub fn dlq_name(self) -> String {
        format!("{}.dlq", self.name())
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Consumers in normal operation.
    fn base_consumers(self) -> u32 {
        match self {
            Queue::PaymentCallback => 2,
            Queue::InventorySync => 2,
            Queue::Fulfillment => 3,
            Queue::LogisticsUpdates => 3,
            Queue::Settlement => 1,
            Queue::NotifyCustomer => 1,
        }
    }

    /// Messages per simulated second one consumer handles at an order rate
    /// of 2/s (scaled with the rate).
    fn per_consumer(self) -> f64 {
        match self {
            Queue::PaymentCallback => 2.5,
            Queue::InventorySync => 2.0,
            Queue::Fulfillment => 1.5,
            Queue::LogisticsUpdates => 8.0,
            Queue::Settlement => 4.0,
            Queue::NotifyCustomer => 8.0,
        }
    }
}

/// What a message asks its consumer to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    PaymentCallback {
        ok: bool,
    },
    InventorySync,
    Fulfil,
    /// A carrier status for the logistics system: `in_transit`, `delivered`, `returned`.
    Logistics(&'static str),
    Settle,
    Notify,
    /// A message no consumer can parse: dead-lettered on delivery.
    Malformed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub order_id: Option<i64>,
    pub payload: Payload,
}

/// Dead letters kept per queue (like `x-max-length` on the DLQ).
const DLQ_MAX: usize = 20_000;
/// Unacknowledged messages one consumer holds (its prefetch).
const PREFETCH: usize = 20;
/// Time constant of the rate averages, in simulated seconds.
const RATE_TAU: f64 = 10.0;

#[derive(Debug)]
struct QueueState {
    queue: Queue,
    messages: VecDeque<Message>,
    dead: VecDeque<Message>,
    consumers: u32,
    credit: f64,
    published: u64,
    delivered: u64,
    dead_lettered: u64,
    publish_rate: f64,
    deliver_rate: f64,
    dead_rate: f64,
}

impl QueueState {
    fn unacked(&self) -> usize {
        self.messages.len().min(self.consumers as usize * PREFETCH)
    }
}

/// The whole broker; shared between the simulator and [`SimBroker`].
#[derive(Debug)]
pub struct BrokerModel {
    queues: Vec<QueueState>,
    as_of: DateTime<Utc>,
    /// Consumer throughput scale (order rate / 2).
    scale: f64,
}

impl BrokerModel {
    pub fn new(as_of: DateTime<Utc>, order_rate: f64) -> Self {
        BrokerModel {
            queues: Queue::ALL
                .iter()
                .map(|&queue| QueueState {
                    queue,
                    messages: VecDeque::new(),
                    dead: VecDeque::new(),
                    consumers: queue.base_consumers(),
                    credit: 0.0,
                    published: 0,
                    delivered: 0,
                    dead_lettered: 0,
                    publish_rate: 0.0,
                    deliver_rate: 0.0,
                    dead_rate: 0.0,
                })
                .collect(),
            as_of,
            scale: (order_rate / 2.0).max(0.05),
        }
    }

    pub fn publish(&mut self, queue: Queue, message: Message) {
        let q = &mut self.queues[queue.index()];
        q.messages.push_back(message);
        q.published += 1;
    }

    /// Puts a message in a queue as history: not counted in the rates.
    pub fn preload(&mut self, queue: Queue, message: Message) {
        self.queues[queue.index()].messages.push_back(message);
    }

    /// Forgets counts not yet folded into the rates (history is not traffic).
    pub fn reset_counters(&mut self) {
        for q in &mut self.queues {
            q.published = 0;
            q.delivered = 0;
            q.dead_lettered = 0;
        }
    }

    /// Puts a message straight into `queue`'s dead-letter queue.
    pub fn dead_letter(&mut self, queue: Queue, message: Message) {
        let q = &mut self.queues[queue.index()];
        q.dead.push_back(message);
        q.dead_lettered += 1;
        while q.dead.len() > DLQ_MAX {
            q.dead.pop_front();
        }
    }

    /// Sets how many consumers `queue` has; `None` restores the usual number.
    pub fn set_consumers(&mut self, queue: Queue, consumers: Option<u32>) {
        self.queues[queue.index()].consumers = consumers.unwrap_or(queue.base_consumers());
    }

    pub fn consumers(&self, queue: Queue) -> u32 {
        self.queues[queue.index()].consumers
    }

    pub fn depth(&self, queue: Queue) -> usize {
        self.queues[queue.index()].messages.len()
    }

    /// Dead letters waiting in `queue`'s DLQ.
    pub fn dead_len(&self, queue: Queue) -> usize {
        self.queues[queue.index()].dead.len()
    }

    /// Moves up to `limit` dead letters of `queue` back to it, oldest first.
    pub fn requeue_dead_letters_limit(&mut self, queue: Queue, limit: usize) -> usize {
        let q = &mut self.queues[queue.index()];
        let n = q.dead.len().min(limit);
        for m in q.dead.drain(..n) {
            q.messages.push_back(m);
        }
        q.published += n as u64;
        n
    }

    /// Moves every dead letter of `queue` back to it; returns how many.
    pub fn requeue_dead_letters(&mut self, queue: Queue) -> usize {
        let q = &mut self.queues[queue.index()];
        let n = q.dead.len();
        while let Some(m) = q.dead.pop_front() {
            q.messages.push_back(m);
            q.published += 1;
        }
        n
    }

    /// Lets consumers work for `dt` simulated seconds; returns the messages
    /// they took, in queue order, for the simulator to handle.
    pub fn consume(&mut self, dt: f64) -> Vec<(Queue, Message)> {
        let mut taken = Vec::new();
        for q in &mut self.queues {
            q.credit += f64::from(q.consumers) * q.queue.per_consumer() * self.scale * dt;
            let n = (q.credit.floor() as usize).min(q.messages.len());
            q.credit -= n as f64;
            if q.messages.is_empty() {
                q.credit = q.credit.min(1.0);
            }
            for m in q.messages.drain(..n) {
                taken.push((q.queue, m));
            }
            q.delivered += n as u64;
        }
        taken
    }

    /// Folds this step's counts into the rate averages and moves the clock.
    pub fn finish_step(&mut self, now: DateTime<Utc>, dt: f64) {
        if dt > 0.0 {
            let alpha = 1.0 - (-dt / RATE_TAU).exp();
            for q in &mut self.queues {
                let ema = |avg: f64, count: u64| avg + (count as f64 / dt - avg) * alpha;
                q.publish_rate = ema(q.publish_rate, q.published);
                q.deliver_rate = ema(q.deliver_rate, q.delivered);
                q.dead_rate = ema(q.dead_rate, q.dead_lettered);
                q.published = 0;
                q.delivered = 0;
                q.dead_lettered = 0;
            }
        }
        self.as_of = now;
    }

    pub fn snapshot(&self) -> QueueSnapshot {
        let round = |r: f64| (r * 100.0).round() / 100.0;
        let mut queues = Vec::with_capacity(self.queues.len() * 2);
        for q in &self.queues {
            let unacked = q.unacked();
            queues.push(QueueStat {
                name: q.queue.name().to_string(),
                ready: (q.messages.len() - unacked) as u64,
                unacked: Some(unacked as u64),
                consumers: q.consumers,
                publish_rate: Some(round(q.publish_rate)),
                deliver_rate: Some(round(q.deliver_rate)),
                missing: false,
            });
        }
        for q in &self.queues {
            queues.push(QueueStat {
                name: q.queue.dlq_name(),
                ready: q.dead.len() as u64,
                unacked: Some(0),
                consumers: 0,
                publish_rate: Some(round(q.dead_rate)),
                deliver_rate: Some(0.0),
                missing: false,
            });
        }
        QueueSnapshot {
            as_of: self.as_of,
            queues,
        }
    }
}

/// The demo's queue monitor: reads the simulated broker.
#[derive(Clone, Debug)]
pub struct SimBroker {
    model: Arc<Mutex<BrokerModel>>,
}

impl SimBroker {
    pub fn new(model: Arc<Mutex<BrokerModel>>) -> Self {
        SimBroker { model }
    }

    /// Locks the model (a poisoned lock still holds usable counters).
    pub fn model(&self) -> MutexGuard<'_, BrokerModel> {
        lock(&self.model)
    }

    /// Moves `queue`'s dead letters back to it (`queue` is a work queue name
    /// or its `.dlq`); returns how many.
    pub fn requeue_dead_letters(&self, queue: &str) -> Result<usize, String> {
        let base = queue.strip_suffix(".dlq").unwrap_or(queue);
        let q = Queue::ALL
            .into_iter()
            .find(|q| q.name() == base)
            .ok_or_else(|| format!("queue {queue:?} not found"))?;
        Ok(self.model().requeue_dead_letters(q))
    }
}

pub fn lock(model: &Mutex<BrokerModel>) -> MutexGuard<'_, BrokerModel> {
    model
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
