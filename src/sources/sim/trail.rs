//! One order's history along the healthy path, up to a stage, with the
//! deviations a planted anomaly needs: the events, views and locks a real
//! platform would have written.

use super::catalog::{self, Product};
use super::world::{Simulator, after};
use super::writes::{NewOrder, Op};
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;

/// Stages of the healthy path, in order.
pub(super) const STAGES: [&str; 8] = [
    "created",
    "pending_review",
    "paid",
    "inventory_locked",
    "processing",
    "shipped",
    "delivered",
    "settled",
];
pub(super) const CREATED: usize = 0;
pub(super) const PENDING_REVIEW: usize = 1;
pub(super) const PAID: usize = 2;
pub(super) const INVENTORY_LOCKED: usize = 3;
pub(super) const PROCESSING: usize = 4;
pub(super) const DELIVERED: usize = 6;
pub(super) const SETTLED: usize = 7;

/// How one planted order deviates from the healthy path.
#[derive(Default)]
pub(super) struct Plant<'a> {
    /// Event kinds left out of the trail.
    pub(super) skip: &'a [&'a str],
    pub(super) sku: Option<&'a str>,
    pub(super) order_no_suffix: &'a str,
    /// The status in `orders` when it differs from the last stage's.
    pub(super) status: Option<&'static str>,
    pub(super) payment: Option<&'static str>,
    pub(super) hold_at: Option<DateTime<Utc>>,
    /// Leave the lock taken at `inventory_locked` held.
    pub(super) keep_lock: bool,
}

impl Simulator {
    /// Writes an order that followed the healthy path up to stage `last`,
    /// reached at `last_at`, with `plant`'s deviations. Returns its id and
    /// the time of each stage.
    pub(super) fn trail(
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
                        catalog::payout_batch(product.supplier_id, at),
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
}
