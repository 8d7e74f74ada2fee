//! The demo's history: stock, a day and a half of finished orders, and the
//! planted anomalies of every family (some already past their rule's
//! threshold on the first poll, some crossing it in the first minutes), with
//! a few hostile fields, and the broker as the incident left it.

use super::broker::{Message, Payload, Queue, lock};
use super::catalog::{self, Product};
use super::hostile;
use super::scenario;
use super::world::{Simulator, after};
use super::writes::{NewOrder, Op};
use crate::sources::SourceError;
use crate::sources::sqlite::migrate_pool;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use sqlx::SqlitePool;

/// Stages of the healthy path, in order.
const STAGES: [&str; 8] = [
    "created",
    "pending_review",
    "paid",
    "inventory_locked",
    "processing",
    "shipped",
    "delivered",
    "settled",
];
const CREATED: usize = 0;
const PENDING_REVIEW: usize = 1;
const PAID: usize = 2;
const INVENTORY_LOCKED: usize = 3;
const PROCESSING: usize = 4;
const DELIVERED: usize = 6;
const SETTLED: usize = 7;

/// How one planted order deviates from the healthy path.
#[derive(Default)]
struct Plant<'a> {
    /// Event kinds left out of the trail.
    skip: &'a [&'a str],
    sku: Option<&'a str>,
    order_no_suffix: &'a str,
    /// The status in `orders` when it differs from the last stage's.
    status: Option<&'static str>,
    payment: Option<&'static str>,
    hold_at: Option<DateTime<Utc>>,
    /// Leave the lock taken at `inventory_locked` held.
    keep_lock: bool,
}

fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}

impl Simulator {
    /// Migrates and writes the demo's history. On a database that already
    /// holds orders (a reused `--db`) it only picks up where that left off.
    pub async fn seed_history(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        migrate_pool(pool).await?;
        let (count, max_id): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM orders")
                .fetch_one(pool)
                .await
                .map_err(|e| SourceError::new(format!("simulator: reading orders: {e}")))?;
        let seq: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM sqlite_sequence WHERE name = 'orders'")
                .fetch_optional(pool)
                .await
                .map_err(|e| {
                    SourceError::new(format!("simulator: reading sqlite_sequence: {e}"))
                })?;
        self.next_id = max_id.max(seq.map_or(0, |(s,)| s)) + 1;
        if count > 0 {
            self.load_stock(pool).await?;
            return Ok(());
        }
        for p in self.products.clone() {
            self.set_stock(&p.sku, |_| {});
        }
        self.seed_finished(150);
        self.plant_anomalies();
        self.seed_broker();
        self.flush(pool).await
    }

    async fn load_stock(&mut self, pool: &SqlitePool) -> Result<(), SourceError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT sku, on_hand, reserved FROM inventory")
                .fetch_all(pool)
                .await
                .map_err(|e| SourceError::new(format!("simulator: reading inventory: {e}")))?;
        for (sku, on_hand, reserved) in rows {
            if let Some(s) = self.stock.get_mut(&sku) {
                s.on_hand = on_hand;
                s.reserved = reserved;
            }
        }
        Ok(())
    }

    fn pick_product(&mut self) -> Product {
        let i = self.rng.random_range(1..self.products.len());
        self.products[i].clone()
    }

    /// Writes an order that followed the healthy path up to stage `last`,
    /// reached at `last_at`, with `plant`'s deviations. Returns its id and
    /// the time of each stage.
    fn trail(
        &mut self,
        product: &Product,
        last: usize,
        last_at: DateTime<Utc>,
        plant: &Plant,
    ) -> (i64, Vec<DateTime<Utc>>) {
        let id = self.next_id;
        self.next_id += 1;
        // Gaps between consecutive stages, in seconds.
        let ranges = [
            (0.0, 0.0),
            (5.0, 40.0),
            (5.0, 60.0),
            (2.0, 30.0),
            (5.0, 60.0),
            (600.0, 7200.0),
            (3600.0, 36_000.0),
            (600.0, 7200.0),
        ];
        let gaps: Vec<f64> = (0..=last)
            .map(|s| {
                if s == 0 {
                    0.0
                } else {
                    self.rng.random_range(ranges[s].0..ranges[s].1)
                }
            })
            .collect();
        let total: f64 = gaps.iter().sum();
        let mut t = after(last_at, -total);
        let mut times = Vec::with_capacity(last + 1);
        for g in &gaps {
            t = after(t, *g);
            times.push(t);
        }
        times[last] = last_at;
        let quantity = if self.rng.random_bool(0.85) { 1 } else { 2 };
        let amount = product.price_cents * quantity;
        let buyer = catalog::buyer_id(&mut self.rng);
        let sku = plant.sku.unwrap_or(&product.sku).to_string();
        let status = plant.status.unwrap_or(STAGES[last]);
        let payment = plant
            .payment
            .unwrap_or(if last >= PAID { "paid" } else { "unpaid" });
        self.batch.push(Op::Order(NewOrder {
            id,
            order_no: format!(
                "{}{}",
                catalog::order_no(times[0], id),
                plant.order_no_suffix
            ),
            buyer_id: buyer,
            supplier_id: product.supplier_id,
            sku: sku.clone(),
            quantity,
            amount_cents: amount,
            status,
            payment_status: payment,
            hold_reason: plant.hold_at.map(|_| "risk".to_string()),
            held_at: plant.hold_at,
            created_at: times[0],
            status_changed_at: last_at,
        }));
        let wo = catalog::work_order_no(id);
        let tracking = catalog::tracking_no(&mut self.rng);
        let ev = |sim: &mut Simulator,
                  at: DateTime<Utc>,
                  source: &'static str,
                  kind: &'static str,
                  st: &'static str,
                  detail: String| {
            if !plant.skip.contains(&kind) {
                sim.batch.event(id, at, source, kind, st, detail);
            }
        };
        for (stage, &at) in times.iter().enumerate() {
            match stage {
                CREATED => ev(
                    self,
                    at,
                    "app",
                    "order_created",
                    "created",
                    format!(
                        "buyer {buyer} ordered {quantity} x {sku} for {}",
                        catalog::yuan(amount)
                    ),
                ),
                PENDING_REVIEW => ev(
                    self,
                    at,
                    "app",
                    "checkout_submitted",
                    "pending_review",
                    "awaiting payment via alipay".into(),
                ),
                PAID => {
                    ev(
                        self,
                        at,
                        "payment",
                        "payment_callback",
                        "paid",
                        format!(
                            "alipay trade {}{id:08} paid {}",
                            at.format("%Y%m%d"),
                            catalog::yuan(amount)
                        ),
                    );
                    ev(
                        self,
                        at,
                        "risk",
                        "risk_check",
                        "paid",
                        "score 9/100, pass".into(),
                    );
                    self.batch.view(id, "finance", "unpaid", at);
                }
                INVENTORY_LOCKED => {
                    ev(
                        self,
                        at,
                        "inventory",
                        "inventory_synced",
                        "inventory_locked",
                        format!("locked {quantity} x {sku} for 15 min"),
                    );
                    self.batch.push(Op::Lock {
                        order_id: id,
                        sku: sku.clone(),
                        quantity,
                        at,
                        expires: at + Duration::minutes(super::flow::LOCK_TTL_MINUTES),
                    });
                }
                PROCESSING => {
                    if !plant.keep_lock {
                        self.batch.push(Op::Unlock { order_id: id });
                    }
                    ev(
                        self,
                        at,
                        "inventory",
                        "lock_released",
                        "processing",
                        "lock converted to a reservation".into(),
                    );
                    ev(
                        self,
                        at,
                        "fulfillment",
                        "work_order_created",
                        "processing",
                        format!("{wo} sent to ERP"),
                    );
                    self.batch.view(id, "erp", "pending", at);
                    if !plant.skip.contains(&"work_order_ack") {
                        let ack = after(at, 8.0);
                        ev(
                            self,
                            ack,
                            "erp",
                            "work_order_ack",
                            "acknowledged",
                            format!("ERP accepted {wo}"),
                        );
                        self.batch.view(id, "erp", "acknowledged", ack);
                    }
                }
                5 => {
                    ev(
                        self,
                        at,
                        "fulfillment",
                        "shipped",
                        "shipped",
                        format!("picked at WH-HZ-02, tracking {tracking}"),
                    );
                    let scan = after(at, 1800.0);
                    ev(
                        self,
                        scan,
                        "logistics",
                        "in_transit",
                        "in_transit",
                        "carrier scan received".into(),
                    );
                    self.batch.view(id, "logistics", "in_transit", scan);
                    self.batch.view(id, "supplier", "unsettled", at);
                }
                DELIVERED => {
                    ev(
                        self,
                        at,
                        "app",
                        "delivery_confirmed",
                        "delivered",
                        "courier app: signed for by buyer".into(),
                    );
                    if !plant.skip.contains(&"delivered") {
                        let scan = after(at, 20.0);
                        ev(
                            self,
                            scan,
                            "logistics",
                            "delivered",
                            "delivered",
                            "carrier scan received".into(),
                        );
                        self.batch.view(id, "logistics", "delivered", scan);
                    }
                }
                SETTLED => {
                    ev(
                        self,
                        at,
                        "supplier",
                        "settled",
                        "settled",
                        format!(
                            "supplier {} payout batch PB-{}",
                            product.supplier_id,
                            at.format("%Y%m%d%H")
                        ),
                    );
                    self.batch.view(id, "supplier", "settled", at);
                    if !plant.skip.contains(&"funds_received") {
                        ev(
                            self,
                            at,
                            "finance",
                            "funds_received",
                            "received",
                            format!(
                                "{} booked to supplier {}",
                                catalog::yuan(amount),
                                product.supplier_id
                            ),
                        );
                        self.batch.view(id, "finance", "received", at);
                    }
                }
                _ => {}
            }
        }
        self.batch.view(id, "app", STAGES[last], last_at);
        (id, times)
    }

    /// Finished orders over the last 36 hours, so timelines and the
    /// database look lived-in.
    fn seed_finished(&mut self, n: usize) {
        let now = self.now;
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

    fn plant_anomalies(&mut self) {
        let now = self.now;
        let hot = self.products[0].clone();
        let huge = hostile::huge_detail();

        // ghost.pending_review (30 min): payment callbacks lost.
        let ages = [
            35.0, 48.0, 62.0, 95.0, 140.0, 230.0, 410.0, 22.0, 26.0, 29.0,
        ];
        for (i, age) in ages.into_iter().enumerate() {
            let product = if i % 3 == 0 {
                hot.clone()
            } else {
                self.pick_product()
            };
            let plant = Plant {
                sku: (i == 1).then_some(hostile::CLEAR_SCREEN_SKU),
                order_no_suffix: if i == 4 {
                    hostile::ODD_ORDER_NO_SUFFIX
                } else {
                    ""
                },
                payment: (i % 4 == 2).then_some("paid"),
                ..Plant::default()
            };
            let (id, times) = self.trail(&product, PENDING_REVIEW, now - minutes(age), &plant);
            let at = after(times[PENDING_REVIEW], 3.0);
            let detail = if i == 2 {
                hostile::OSC_TITLE.to_string()
            } else {
                "buyer redirected to alipay; waiting for callback".to_string()
            };
            self.batch.event(
                id,
                at,
                "payment",
                "payment_redirect",
                "pending_review",
                detail,
            );
            if i % 4 == 2 {
                self.batch.event(id, after(at, 30.0), "payment", "callback_timeout", "pending_review", "ERROR order_timeout: gateway callback POST /pay/notify timed out after 30 s (504)");
            }
            if i < 3 {
                let m = Message {
                    order_id: Some(id),
                    payload: Payload::PaymentCallback { ok: true },
                };
                self.dead_letter(Queue::PaymentCallback, m);
            }
        }

        // ghost.paid_no_inventory_sync (15 min): lock conflicts on the hot SKU.
        for (i, age) in [18.0, 27.0, 44.0, 75.0, 130.0, 11.0, 13.0]
            .into_iter()
            .enumerate()
        {
            let product = if i % 2 == 0 {
                hot.clone()
            } else {
                self.pick_product()
            };
            let (id, times) = self.trail(&product, PAID, now - minutes(age), &Plant::default());
            let detail = if i == 3 {
                hostile::C1_CSI.to_string()
            } else {
                format!(
                    "ERROR inventory_rollback: lock wait timeout exceeded on {} (try restarting transaction)",
                    product.sku
                )
            };
            self.batch.event(
                id,
                after(times[PAID], 4.0),
                "inventory",
                "lock_conflict",
                "paid",
                detail,
            );
            if i < 2 {
                let m = Message {
                    order_id: Some(id),
                    payload: Payload::InventorySync,
                };
                self.dead_letter(Queue::InventorySync, m);
            }
        }

        // ghost.lock_expired_held (10 min after expiry): cancelled, lock kept.
        let ttl = super::flow::LOCK_TTL_MINUTES as f64;
        for (i, expired_ago) in [12.0, 35.0, 80.0, 150.0, 25.0, 7.0].into_iter().enumerate() {
            let locked_at = now - minutes(expired_ago + ttl);
            let cancelled = i != 4;
            let plant = Plant {
                keep_lock: true,
                status: cancelled.then_some("cancelled"),
                payment: cancelled.then_some("refunded"),
                ..Plant::default()
            };
            let (id, _) = self.trail(&hot, INVENTORY_LOCKED, locked_at, &plant);
            if cancelled {
                let at = after(locked_at, 90.0);
                self.batch.event(
                    id,
                    at,
                    "app",
                    "order_cancelled",
                    "cancelled",
                    "buyer cancelled after paying",
                );
                self.batch.event(
                    id,
                    at,
                    "inventory",
                    "release_failed",
                    "cancelled",
                    "ERROR inventory_rollback: release of lock timed out, will retry",
                );
                self.batch.view(id, "app", "cancelled", at);
                self.batch.push(Op::Status {
                    id,
                    from: "inventory_locked",
                    to: "cancelled",
                    payment: Some("refunded"),
                    at,
                });
            }
        }

        // split.delivered_vs_in_transit (15 min): logistics.updates consumer down.
        let mut backlog_orders = Vec::new();
        for (i, age) in [16.0, 17.5, 19.0, 21.0, 12.0, 14.0, 190.0, 340.0]
            .into_iter()
            .enumerate()
        {
            let product = self.pick_product();
            let plant = Plant {
                skip: &["delivered"],
                sku: (i == 2).then_some(hostile::CJK_SKU),
                ..Plant::default()
            };
            let (id, times) = self.trail(&product, DELIVERED, now - minutes(age), &plant);
            if i == 2 {
                self.batch.event(
                    id,
                    after(times[DELIVERED], 60.0),
                    "app",
                    "customer_contact",
                    "delivered",
                    hostile::CJK_DETAIL,
                );
            }
            let m = Message {
                order_id: Some(id),
                payload: Payload::Logistics("delivered"),
            };
            if age > 60.0 {
                self.dead_letter(Queue::LogisticsUpdates, m);
            } else {
                backlog_orders.push((times[DELIVERED], m));
            }
        }
        self.backlog_orders = backlog_orders;

        // split.settled_vs_unpaid (30 min): distributed transaction half-committed.
        for age in [38.0, 55.0, 90.0, 160.0, 300.0, 27.0] {
            let product = self.pick_product();
            let plant = Plant {
                skip: &["funds_received"],
                status: Some("delivered"),
                ..Plant::default()
            };
            let (id, times) = self.trail(&product, SETTLED, now - minutes(age), &plant);
            self.batch.event(
                id,
                after(times[SETTLED], 2.0),
                "finance",
                "transfer_failed",
                "unpaid",
                "XA branch on finance-db rolled back (deadlock); supplier branch committed",
            );
            self.batch.view(id, "app", "delivered", times[DELIVERED]);
        }

        // zombie.processing_24h: the ERP link's expired certificate.
        let hours = [
            26.0,
            31.0,
            38.0,
            45.0,
            52.0,
            61.0,
            70.0,
            23.0 + 52.0 / 60.0,
            23.0 + 56.0 / 60.0,
            23.0 + 58.5 / 60.0,
        ];
        for (i, h) in hours.into_iter().enumerate() {
            let product = self.pick_product();
            let plant = Plant {
                skip: &["work_order_ack"],
                sku: (i == 0).then_some(hostile::BIDI_SKU),
                ..Plant::default()
            };
            let (id, times) = self.trail(&product, PROCESSING, now - minutes(h * 60.0), &plant);
            let at = after(times[PROCESSING], 30.0);
            let wo = catalog::work_order_no(id);
            if i % 3 == 1 {
                self.batch.view(id, "erp", "pending", at);
                self.batch.event(
                    id,
                    at,
                    "erp",
                    "erp_no_ack",
                    "pending",
                    format!("{wo} sent, no acknowledgement from ERP"),
                );
            } else {
                self.batch.view(id, "erp", "failed", at);
                let detail = if i == 3 {
                    huge.clone()
                } else {
                    format!(
                        "ERROR order_timeout: {wo} not delivered: TLS handshake with erp-gw.internal failed (certificate expired)"
                    )
                };
                self.batch
                    .event(id, at, "erp", "erp_sync_failed", "failed", detail);
            }
        }

        // zombie.risk_hold (2 h): false positives of risk control.
        let held = [
            2.5,
            4.0,
            7.0,
            13.0,
            29.0,
            1.0 + 54.0 / 60.0,
            1.0 + 58.0 / 60.0,
        ];
        for (i, h) in held.into_iter().enumerate() {
            let product = self.pick_product();
            let hold_at = now - minutes(h * 60.0);
            let plant = Plant {
                skip: &["work_order_ack"],
                hold_at: Some(hold_at),
                ..Plant::default()
            };
            let (id, _) = self.trail(&product, PROCESSING, after(hold_at, -20.0), &plant);
            let before = catalog::ip(&mut self.rng);
            let now_ip = catalog::ip(&mut self.rng);
            let detail = if i == 4 {
                format!("{} (buyer IP {before} -> {now_ip})", hostile::OSC_TITLE)
            } else {
                format!("buyer IP changed {before} -> {now_ip} within 3 min; held for review")
            };
            self.batch
                .event(id, hold_at, "risk", "risk_hold", "processing", detail);
        }
    }

    /// The broker as the ongoing incident left it: a logistics.updates
    /// backlog since its consumer went down, and dead letters.
    fn seed_broker(&mut self) {
        let scale = self.cfg.order_rate_per_sec.max(0.0) / 2.0;
        // Two logistics updates per order while the consumer was down.
        let n = (4.0 * scale * scenario::LOGISTICS_DOWN_BEFORE_START) as usize;
        let start = self.now - minutes(scenario::LOGISTICS_DOWN_BEFORE_START / 60.0);
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
