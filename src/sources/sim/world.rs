//! The simulator's state and its step loop: orders arrive, timers fire,
//! consumers take messages, and each step's writes go to the database in
//! one transaction.

use super::SimConfig;
use super::broker::{BrokerModel, Message, Payload, Queue, SimBroker, lock};
use super::catalog::{self, Product};
use super::scenario;
use super::writes::{self, Batch};
use crate::sources::SourceError;
use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sqlx::SqlitePool;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, Mutex};

/// Finished orders kept in the database by default; older ones are pruned.
pub const DEFAULT_RETAIN_FINISHED: u32 = 4000;
/// How often pruning runs, in simulated time.
const PRUNE_EVERY: i64 = 300;
/// Longest sub-step: queues and timers advance at most this much at once.
const SUB_STEP_MS: i64 = 1000;

/// What will go wrong with an order (decided when it is created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    Normal,
    PaymentFails,
    BuyerCancels,
    Returned,
    /// Planted by the seed: stuck until someone fixes it (e.g. requeues its
    /// dead-lettered message), then it moves on like any other order.
    Planted,
    // Anomalies, capped in number:
    LostCallback,
    NoInventorySync,
    LockLeak,
    RiskHold,
    ErpStuck,
    SettledUnpaid,
}

impl Fate {
    pub fn is_anomaly(self) -> bool {
        self >= Fate::LostCallback
    }
}

/// Anomalies of one kind the simulator keeps open at once.
const ANOMALY_CAP: usize = 5;

/// An order the simulator is moving along.
#[derive(Debug, Clone)]
pub struct Live {
    pub id: i64,
    pub sku: String,
    pub quantity: i64,
    pub supplier_id: i64,
    pub amount_cents: i64,
    pub fate: Fate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    Checkout,
    PayCallback,
    LateCallback,
    BuyerCancel,
    ErpAck,
    ClearHold,
    Ship,
    Deliver,
    Settle,
    /// The system heals a stuck order by itself (sweeper, reconciliation...).
    Heal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub order_id: i64,
    pub timer: Timer,
}

/// Stock as the simulator tracks it (mirrored to `inventory`).
#[derive(Debug, Clone, Copy)]
pub struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
}

/// The deterministic order-platform simulation.
pub struct Simulator {
    pub(super) cfg: SimConfig,
    pub(super) rng: ChaCha8Rng,
    pub(super) start: DateTime<Utc>,
    pub(super) now: DateTime<Utc>,
    pub(super) next_id: i64,
    pub(super) live: BTreeMap<i64, Live>,
    pub(super) timers: BinaryHeap<Reverse<Due>>,
    pub(super) timer_seq: u64,
    pub(super) broker: Arc<Mutex<BrokerModel>>,
    pub(super) outbox: Vec<(Queue, Message)>,
    pub(super) dead: Vec<(Queue, Message)>,
    pub(super) products: Vec<Product>,
    pub(super) stock: BTreeMap<String, Stock>,
    pub(super) stock_dirty: Vec<String>,
    pub(super) open_anomalies: BTreeMap<Fate, usize>,
    pub(super) arrivals: f64,
    pub(super) poison: f64,
    pub(super) batch: Batch,
    pub(super) last_prune: DateTime<Utc>,
    pub(super) retain_finished: u32,
    /// Planted orders whose logistics updates wait in the seeded backlog.
    pub(super) backlog_orders: Vec<(DateTime<Utc>, Message)>,
}

pub(super) fn secs(d: Duration) -> f64 {
    d.num_microseconds()
        .map_or(d.num_seconds() as f64, |us| us as f64 / 1e6)
}

pub(super) fn after(t: DateTime<Utc>, seconds: f64) -> DateTime<Utc> {
    t + Duration::microseconds((seconds * 1e6) as i64)
}

impl Simulator {
    /// A simulation starting at `start` (its clock's zero). Nothing is
    /// written until [`seed_history`](Self::seed_history) or [`step`](Self::step).
    pub fn new(cfg: SimConfig, start: DateTime<Utc>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let products = catalog::products(&mut rng);
        let stock = products
            .iter()
            .map(|p| {
                (
                    p.sku.clone(),
                    Stock {
                        on_hand: p.on_hand,
                        reserved: 0,
                    },
                )
            })
            .collect();
        let rate = if cfg.order_rate_per_sec.is_finite() && cfg.order_rate_per_sec >= 0.0 {
            cfg.order_rate_per_sec
        } else {
            0.0
        };
        Simulator {
            broker: Arc::new(Mutex::new(BrokerModel::new(start, rate))),
            cfg,
            rng,
            start,
            now: start,
            next_id: 1,
            live: BTreeMap::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            outbox: Vec::new(),
            dead: Vec::new(),
            products,
            stock,
            stock_dirty: Vec::new(),
            open_anomalies: BTreeMap::new(),
            arrivals: 0.0,
            poison: 0.0,
            batch: Batch::default(),
            last_prune: start,
            retain_finished: DEFAULT_RETAIN_FINISHED,
            backlog_orders: Vec::new(),
        }
    }

    /// Keeps at most `n` finished orders (settled, refunded, cancelled).
    pub fn with_retention(mut self, n: u32) -> Self {
        self.retain_finished = n;
        self
    }

    /// The simulated time the database has reached.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The queue monitor reading this simulation's broker.
    pub fn broker(&self) -> SimBroker {
        SimBroker::new(self.broker.clone())
    }

    /// Orders the simulator is currently moving along (including the stuck
    /// ones it will heal later).
    pub fn live_orders(&self) -> usize {
        self.live.len()
    }

    pub(super) fn elapsed(&self) -> f64 {
        secs(self.now - self.start)
    }

    pub(super) fn schedule(&mut self, order_id: i64, at: DateTime<Utc>, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse(Due {
            at,
            seq: self.timer_seq,
            order_id,
            timer,
        }));
    }

    pub(super) fn publish(&mut self, queue: Queue, order_id: Option<i64>, payload: Payload) {
        self.outbox.push((queue, Message { order_id, payload }));
    }

    pub(super) fn dead_letter(&mut self, queue: Queue, message: Message) {
        self.dead.push((queue, message));
    }

    /// Takes an order out of the simulation (finished, or changed by someone else).
    pub(super) fn retire(&mut self, order_id: i64) {
        if let Some(l) = self.live.remove(&order_id) {
            self.close_anomaly(l.fate);
        }
    }

    pub(super) fn close_anomaly(&mut self, fate: Fate) {
        if fate.is_anomaly() {
            if let Some(n) = self.open_anomalies.get_mut(&fate) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// `fate` if fewer than the cap of its kind are open, else `Normal`.
    pub(super) fn admit(&mut self, fate: Fate) -> Fate {
        if !fate.is_anomaly() {
            return fate;
        }
        let n = self.open_anomalies.entry(fate).or_insert(0);
        if *n >= ANOMALY_CAP {
            return Fate::Normal;
        }
        *n += 1;
        fate
    }

    /// Advances the simulation by `dt` of simulated time and writes what
    /// happened in one transaction.
    pub async fn step(&mut self, pool: &SqlitePool, dt: Duration) -> Result<(), SourceError> {
        let end = self.now + dt.max(Duration::zero());
        while self.now < end {
            let sub_end = (self.now + Duration::milliseconds(SUB_STEP_MS)).min(end);
            self.sub_step(sub_end);
        }
        if secs(self.now - self.last_prune) >= PRUNE_EVERY as f64 {
            self.last_prune = self.now;
            self.flush(pool).await?;
            super::prune::prune(pool, self.retain_finished).await?;
        }
        self.flush(pool).await
    }

    fn sub_step(&mut self, sub_end: DateTime<Utc>) {
        let dt = secs(sub_end - self.now);
        let elapsed = self.elapsed();
        {
            let mut b = lock(&self.broker);
            let down = scenario::logistics_down(elapsed);
            b.set_consumers(Queue::LogisticsUpdates, if down { Some(0) } else { None });
        }
        self.poison += scenario::settlement_poison_rate(elapsed) * dt;
        while self.poison >= 1.0 {
            self.poison -= 1.0;
            self.publish(Queue::Settlement, None, Payload::Malformed);
        }
        self.arrive(sub_end, dt, elapsed);
        while let Some(Reverse(due)) = self.timers.peek().copied() {
            if due.at > sub_end {
                break;
            }
            self.timers.pop();
            self.fire(due);
        }
        let taken = lock(&self.broker).consume(dt);
        for (queue, message) in taken {
            self.handle(queue, message, sub_end);
        }
        let outbox = std::mem::take(&mut self.outbox);
        let dead = std::mem::take(&mut self.dead);
        {
            let mut b = lock(&self.broker);
            for (q, m) in outbox {
                b.publish(q, m);
            }
            for (q, m) in dead {
                b.dead_letter(q, m);
            }
            b.finish_step(sub_end, dt);
        }
        self.now = sub_end;
    }

    fn arrive(&mut self, sub_end: DateTime<Utc>, dt: f64, elapsed: f64) {
        use rand::RngExt;
        let rate = self.cfg.order_rate_per_sec.max(0.0) * scenario::wave(elapsed);
        if !(rate.is_finite() && rate > 0.0) {
            return;
        }
        self.arrivals += rate * dt * self.rng.random_range(0.6..1.4);
        let n = self.arrivals.floor() as usize;
        self.arrivals -= n as f64;
        for i in 0..n {
            let at = after(
                self.now,
                secs(sub_end - self.now) * (i as f64 + 0.5) / n as f64,
            );
            let wave = scenario::wave(elapsed) > 1.0;
            self.create_order(at, wave);
        }
    }

    pub(super) fn set_stock(&mut self, sku: &str, f: impl FnOnce(&mut Stock)) {
        if let Some(s) = self.stock.get_mut(sku) {
            f(s);
            if !self.stock_dirty.iter().any(|d| d == sku) {
                self.stock_dirty.push(sku.to_string());
            }
        }
    }

    pub(super) async fn flush(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        for sku in std::mem::take(&mut self.stock_dirty) {
            if let Some(s) = self.stock.get(&sku) {
                self.batch.push(writes::Op::Stock {
                    sku,
                    on_hand: s.on_hand,
                    reserved: s.reserved,
                });
            }
        }
        // On failure the batch stays for the next step: the transaction was
        // rolled back as a whole, so applying it again is correct.
        let rejected = writes::apply(pool, &self.batch).await?;
        self.batch = Batch::default();
        for id in rejected {
            self.retire(id);
        }
        Ok(())
    }
}
