//! The planted anomalies: orders of every family, some already past their
//! rule's threshold on the first poll, some crossing it in the first
//! minutes, a few carrying hostile text, and the dead letters that belong
//! to them.

use super::broker::{Message, Payload, Queue};
use super::catalog::{self, Product};
use super::hostile;
use super::trail::{DELIVERED, INVENTORY_LOCKED, PAID, PENDING_REVIEW, PROCESSING, Plant, SETTLED};
use super::world::{Fate, Live, Simulator, after};
use chrono::Duration;

fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}

impl Simulator {
    /// Keeps a planted order in the simulation, so that requeueing its dead
    /// letter moves it on.
    fn track_planted(&mut self, id: i64, product: &Product, plant: &Plant) {
        let sku = plant.sku.unwrap_or(&product.sku).to_string();
        // `trail` chose the quantity; the stock math only needs it roughly.
        self.live.insert(
            id,
            Live {
                id,
                sku,
                quantity: 1,
                supplier_id: product.supplier_id,
                amount_cents: product.price_cents,
                fate: Fate::Planted,
            },
        );
    }

    pub(super) fn plant_anomalies(&mut self) {
        let now = self.start;
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
                self.track_planted(id, &product, &plant);
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
                self.track_planted(id, &product, &Plant::default());
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
                self.batch.buyer_cancelled(id, at);
                self.batch.event(
                    id,
                    at,
                    "inventory",
                    "release_failed",
                    "cancelled",
                    "ERROR inventory_rollback: release of lock timed out, will retry",
                );
                self.batch.view(id, "app", "cancelled", at);
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
}
