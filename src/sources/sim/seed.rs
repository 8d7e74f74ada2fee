//! The demo's history: stock, a day and a half of finished orders, and the
//! planted anomalies of every family (some already past their rule's
//! threshold on the first poll, some crossing it in the first minutes), with
//! a few hostile fields, and the broker as the incident left it.

use super::broker::{Message, Payload, Queue, lock};
use super::catalog::Product;

use super::scenario;
use super::trail::{PENDING_REVIEW, Plant, SETTLED};
use super::world::{Fate, Live, Simulator, Timer, after};
use super::writes;
use crate::sources::SourceError;
use crate::sources::sqlite::migrate_pool;
use chrono::Duration;
use rand::RngExt;
use sqlx::SqlitePool;

/// Simulated time run before the start by [`Simulator::seed_history`].
const WARM_UP: Duration = Duration::minutes(4);

fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}

impl Simulator {
    /// Migrates, writes the demo's history and runs the last minutes before
    /// the start, so orders are in flight in every stage. On a database that
    /// already holds orders (a reused `--db`) it picks up where that left off.
    pub async fn seed_history(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        self.seed_only(pool).await?;
        self.warm_up(pool).await
    }

    /// [`seed_history`](Self::seed_history) without the warm-up: the
    /// history and the planted anomalies only (fast, for a first frame).
    pub async fn seed_only(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        migrate_pool(pool).await?;
        let (count, max_id): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM orders")
                .fetch_one(pool)
                .await
                .map_err(|e| writes::err("reading orders", e))?;
        let seq: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM sqlite_sequence WHERE name = 'orders'")
                .fetch_optional(pool)
                .await
                .map_err(|e| writes::err("reading sqlite_sequence", e))?;
        self.next_id = max_id.max(seq.map_or(0, |(s,)| s)) + 1;
        if count > 0 {
            self.load_stock(pool).await?;
            return self.adopt(pool).await;
        }
        for p in self.products.clone() {
            self.set_stock(&p.sku, |_| {});
        }
        self.seed_finished(150);
        self.plant_anomalies();
        self.seed_broker();
        self.flush(pool).await
    }

    /// Runs the last minutes before the start, so orders are in flight in
    /// every stage and the queues have rates. Does nothing once stepped.
    pub async fn warm_up(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        if self.now != self.start {
            return Ok(());
        }
        self.now = self.start - WARM_UP;
        self.last_prune = self.now;
        self.step(pool, WARM_UP).await
    }

    /// On a reused database, takes over the orders that were in flight when
    /// the last run stopped (the older ones stay where they are: stuck).
    async fn adopt(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        type Row = (i64, String, i64, i64, i64, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, sku, quantity, supplier_id, amount_cents, status FROM orders
             WHERE status IN ('created', 'pending_review', 'paid', 'inventory_locked',
                              'processing', 'shipped', 'delivered')
               AND hold_reason IS NULL
               AND status_changed_at >= (SELECT datetime(MAX(status_changed_at), '-10 minutes') FROM orders)
             ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .map_err(|e| writes::err("reading orders in flight", e))?;
        let now = self.now;
        for (id, sku, quantity, supplier_id, amount_cents, status) in rows {
            self.live.insert(
                id,
                Live {
                    id,
                    sku,
                    quantity,
                    supplier_id,
                    amount_cents,
                    fate: Fate::Normal,
                },
            );
            let soon = after(now, self.rng.random_range(1.0..60.0));
            match status.as_str() {
                "created" => self.schedule(id, soon, Timer::Checkout),
                "pending_review" => self.schedule(id, soon, Timer::PayCallback),
                "paid" => self.publish(Queue::InventorySync, Some(id), Payload::InventorySync),
                "inventory_locked" => self.publish(Queue::Fulfillment, Some(id), Payload::Fulfil),
                "processing" => self.schedule(id, soon, Timer::ErpAck),
                "shipped" => self.schedule(id, soon, Timer::Deliver),
                _ => self.schedule(id, soon, Timer::Settle),
            }
        }
        Ok(())
    }

    async fn load_stock(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT sku, on_hand, reserved FROM inventory")
                .fetch_all(pool)
                .await
                .map_err(|e| writes::err("reading inventory", e))?;
        for (sku, on_hand, reserved) in rows {
            if let Some(s) = self.stock.get_mut(&sku) {
                s.on_hand = on_hand;
                s.reserved = reserved;
            }
        }
        Ok(())
    }

    /// Any product but the hot one (which stories pick on purpose).
    pub(super) fn pick_product(&mut self) -> Product {
        let i = if self.products.len() > 1 {
            self.rng.random_range(1..self.products.len())
        } else {
            0
        };
        self.products[i].clone()
    }

    /// Finished orders over the last 36 hours, so timelines and the
    /// database look lived-in.
    fn seed_finished(&mut self, n: usize) {
        let now = self.start;
        for _ in 0..n {
            let product = self.pick_product();
            let ago = self.rng.random_range(60.0..36.0 * 60.0);
            let at = now - minutes(ago);
            let roll: f64 = self.rng.random();
            if roll < 0.85 {
                self.trail(&product, SETTLED, at, &Plant::default());
            } else if roll < 0.93 {
                let (id, times) = self.trail(
                    &product,
                    PENDING_REVIEW,
                    at,
                    &Plant {
                        status: Some("cancelled"),
                        ..Plant::default()
                    },
                );
                self.batch.event(
                    id,
                    times[PENDING_REVIEW],
                    "app",
                    "order_cancelled",
                    "cancelled",
                    "buyer cancelled before paying",
                );
                self.batch
                    .view(id, "app", "cancelled", times[PENDING_REVIEW]);
            } else {
                let (id, times) = self.trail(
                    &product,
                    5,
                    at,
                    &Plant {
                        status: Some("refunded"),
                        payment: Some("refunded"),
                        ..Plant::default()
                    },
                );
                self.batch.event(
                    id,
                    times[5],
                    "payment",
                    "refund_issued",
                    "refunded",
                    "buyer refused delivery; refunded",
                );
                self.batch.view(id, "logistics", "returned", times[5]);
                self.batch.view(id, "app", "refunded", times[5]);
            }
        }
    }

    /// The broker as the ongoing incident left it: a logistics.updates
    /// backlog since its consumer went down, and dead letters.
    fn seed_broker(&mut self) {
        let scale = self.cfg.order_rate_per_sec.max(0.0) / 2.0;
        // Two logistics updates per order while the consumer was down.
        // (The warm-up adds the last minutes as real traffic.)
        let window = scenario::LOGISTICS_DOWN_BEFORE_START - WARM_UP.num_seconds() as f64;
        let n = (4.0 * scale * window) as usize;
        let start = self.start - minutes(scenario::LOGISTICS_DOWN_BEFORE_START / 60.0);
        let mut planted = std::mem::take(&mut self.backlog_orders);
        planted.sort_by_key(|(t, _)| *t);
        let mut planted = planted.into_iter().peekable();
        let mut b = lock(&self.broker);
        for i in 0..n {
            let t = after(start, i as f64 / (4.0 * scale));
            while let Some((_, m)) = planted.next_if(|(pt, _)| *pt <= t) {
                b.preload(Queue::LogisticsUpdates, m);
            }
            let payload = Payload::Logistics(if i % 2 == 0 {
                "in_transit"
            } else {
                "delivered"
            });
            b.preload(
                Queue::LogisticsUpdates,
                Message {
                    order_id: None,
                    payload,
                },
            );
        }
        for (_, m) in planted {
            b.preload(Queue::LogisticsUpdates, m);
        }
        b.set_consumers(Queue::LogisticsUpdates, Some(0));
        for _ in 0..9 {
            b.dead_letter(
                Queue::LogisticsUpdates,
                Message {
                    order_id: None,
                    payload: Payload::Logistics("in_transit"),
                },
            );
        }
        for _ in 0..37 {
            b.dead_letter(
                Queue::Settlement,
                Message {
                    order_id: None,
                    payload: Payload::Malformed,
                },
            );
        }
        for _ in 0..14 {
            b.dead_letter(
                Queue::NotifyCustomer,
                Message {
                    order_id: None,
                    payload: Payload::Notify,
                },
            );
        }
        for (q, m) in std::mem::take(&mut self.dead) {
            b.dead_letter(q, m);
        }
        b.reset_counters();
        drop(b);
    }
}
