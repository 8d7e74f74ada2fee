//! An order's life: what each timer and each consumed message does to the
//! order, the other systems' views, the stock and the queues.
//!
//! created → pending_review → paid → inventory_locked → processing →
//! shipped → delivered → settled, with cancelled / refunded branches, and
//! the anomalies of DESIGN section 2 when an order's fate says so.

use super::broker::{Payload, Queue};
use super::catalog::{self, HOT_SKU};

use super::world::{Due, Fate, Live, Simulator, Timer, after};
use super::writes::{NewOrder, Op};
use chrono::{DateTime, Utc};
use rand::RngExt;

/// Lock lifetime: a lock older than this has expired.
pub const LOCK_TTL_MINUTES: i64 = 15;

pub(super) const GATEWAYS: &[&str] = &["alipay", "wechat_pay", "unionpay"];

impl Simulator {
    pub(super) fn between(&mut self, lo: f64, hi: f64) -> f64 {
        self.rng.random_range(lo..hi)
    }

    pub(super) fn later(&mut self, at: DateTime<Utc>, lo: f64, hi: f64) -> DateTime<Utc> {
        let s = self.between(lo, hi);
        after(at, s)
    }

    fn roll_fate(&mut self, wave: bool, hot: bool) -> Fate {
        let u: f64 = self.rng.random();
        let no_sync = if wave && hot { 0.08 } else { 0.003 };
        let table: [(Fate, f64); 9] = [
            (Fate::PaymentFails, 0.02),
            (Fate::BuyerCancels, 0.02),
            (Fate::Returned, 0.02),
            (Fate::LostCallback, 0.003),
            (Fate::NoInventorySync, no_sync),
            (Fate::LockLeak, 0.002),
            (Fate::RiskHold, 0.004),
            (Fate::ErpStuck, 0.002),
            (Fate::SettledUnpaid, 0.002),
        ];
        let mut acc = 0.0;
        for (fate, p) in table {
            acc += p;
            if u < acc {
                return self.admit(fate);
            }
        }
        Fate::Normal
    }

    pub(super) fn create_order(&mut self, at: DateTime<Utc>, wave: bool) {
        let hot_share = if wave { 0.15 } else { 0.03 };
        let product = if self.rng.random_bool(hot_share) {
            self.products[0].clone()
        } else {
            let i = self.rng.random_range(0..self.products.len());
            self.products[i].clone()
        };
        let quantity = if self.rng.random_bool(0.85) {
            1
        } else {
            self.rng.random_range(2..=4)
        };
        let id = self.next_id;
        self.next_id += 1;
        let fate = self.roll_fate(wave, product.sku == HOT_SKU);
        let buyer = catalog::buyer_id(&mut self.rng);
        let amount = product.price_cents * quantity;
        self.batch.push(Op::Order(NewOrder {
            id,
            order_no: catalog::order_no(at, id),
            buyer_id: buyer,
            supplier_id: product.supplier_id,
            sku: product.sku.clone(),
            quantity,
            amount_cents: amount,
            status: "created",
            payment_status: "unpaid",
            hold_reason: None,
            held_at: None,
            created_at: at,
            status_changed_at: at,
        }));
        self.batch.event(
            id,
            at,
            "app",
            "order_created",
            "created",
            format!(
                "buyer {buyer} ordered {quantity} x {} for {}",
                product.sku,
                catalog::yuan(amount)
            ),
        );
        self.batch.view(id, "app", "created", at);
        self.live.insert(
            id,
            Live {
                id,
                sku: product.sku,
                quantity,
                supplier_id: product.supplier_id,
                amount_cents: amount,
                fate,
            },
        );
        let due = self.later(at, 2.0, 20.0);
        self.schedule(id, due, Timer::Checkout);
    }

    pub(super) fn fire(&mut self, due: Due) {
        let Some(order) = self.live.get(&due.order_id).cloned() else {
            return;
        };
        let at = due.at;
        let id = order.id;
        match due.timer {
            Timer::Checkout => {
                self.batch.status(id, "created", "pending_review", None, at);
                let gw = GATEWAYS[self.rng.random_range(0..GATEWAYS.len())];
                self.batch.event(
                    id,
                    at,
                    "app",
                    "checkout_submitted",
                    "pending_review",
                    format!("awaiting payment via {gw}"),
                );
                self.batch.view(id, "app", "pending_review", at);
                match order.fate {
                    Fate::BuyerCancels => {
                        let t = self.later(at, 30.0, 400.0);
                        self.schedule(id, t, Timer::BuyerCancel);
                    }
                    Fate::LostCallback => {
                        self.batch.event(
                            id,
                            at,
                            "payment",
                            "payment_redirect",
                            "pending_review",
                            format!("buyer redirected to {gw}; waiting for callback"),
                        );
                        let t = self.later(at, 40.0 * 60.0, 150.0 * 60.0);
                        self.schedule(id, t, Timer::LateCallback);
                    }
                    _ => {
                        let t = self.later(at, 3.0, 45.0);
                        self.schedule(id, t, Timer::PayCallback);
                    }
                }
            }
            Timer::PayCallback | Timer::LateCallback => {
                if due.timer == Timer::LateCallback {
                    self.batch.event(
                        id,
                        at,
                        "payment",
                        "callback_retry",
                        "pending_review",
                        "gateway re-sent the callback after a timeout",
                    );
                    self.close_anomaly(order.fate);
                    self.set_fate(id, Fate::Normal);
                }
                let ok = order.fate != Fate::PaymentFails;
                self.publish(
                    Queue::PaymentCallback,
                    Some(id),
                    Payload::PaymentCallback { ok },
                );
            }
            Timer::BuyerCancel if order.fate == Fate::LockLeak => {
                self.batch
                    .status(id, "inventory_locked", "cancelled", Some("refunded"), at);
                self.batch.buyer_cancelled(id, at);
                self.batch.refund(id, at, order.amount_cents);
                self.batch.event(
                    id,
                    at,
                    "inventory",
                    "release_failed",
                    "cancelled",
                    "ERROR inventory_rollback: release of lock timed out, will retry",
                );
                self.batch.view(id, "app", "cancelled", at);
                let heal = self.later(at, 60.0 * 60.0, 180.0 * 60.0);
                self.schedule(id, heal, Timer::Heal);
            }
            Timer::BuyerCancel => {
                self.batch
                    .status(id, "pending_review", "cancelled", None, at);
                self.batch.event(
                    id,
                    at,
                    "app",
                    "order_cancelled",
                    "cancelled",
                    "buyer cancelled before paying",
                );
                self.batch.view(id, "app", "cancelled", at);
                self.retire(id);
            }
            Timer::ErpAck => {
                self.batch.view(id, "erp", "acknowledged", at);
                self.batch.event(
                    id,
                    at,
                    "erp",
                    "work_order_ack",
                    "acknowledged",
                    format!("ERP accepted {}", catalog::work_order_no(id)),
                );
                let t = self.later(at, 20.0, 120.0);
                self.schedule(id, t, Timer::Ship);
            }
            Timer::ClearHold => {
                self.batch.push(Op::Hold {
                    id,
                    reason: None,
                    at: None,
                });
                self.batch.event(
                    id,
                    at,
                    "risk",
                    "risk_cleared",
                    "processing",
                    "analyst review: false positive (buyer on mobile network), hold cleared",
                );
                self.close_anomaly(order.fate);
                self.set_fate(id, Fate::Normal);
                let t = self.later(at, 2.0, 20.0);
                self.schedule(id, t, Timer::ErpAck);
            }
            Timer::Ship => {
                self.batch.status(id, "processing", "shipped", None, at);
                let tracking = catalog::tracking_no(&mut self.rng);
                self.batch.event(
                    id,
                    at,
                    "fulfillment",
                    "shipped",
                    "shipped",
                    format!("picked at WH-HZ-02, tracking {tracking}"),
                );
                self.batch.view(id, "app", "shipped", at);
                self.batch.view(id, "logistics", "pending", at);
                self.batch.view(id, "supplier", "unsettled", at);
                let qty = order.quantity;
                self.set_stock(&order.sku, |s| {
                    s.on_hand = (s.on_hand - qty).max(0);
                    s.reserved = (s.reserved - qty).max(0);
                });
                self.publish(
                    Queue::LogisticsUpdates,
                    Some(id),
                    Payload::Logistics("in_transit"),
                );
                self.publish(Queue::NotifyCustomer, Some(id), Payload::Notify);
                let t = self.later(at, 180.0, 900.0);
                self.schedule(id, t, Timer::Deliver);
            }
            Timer::Deliver => {
                if order.fate == Fate::Returned {
                    self.batch
                        .status(id, "shipped", "refunded", Some("refunded"), at);
                    self.batch.event(
                        id,
                        at,
                        "app",
                        "return_requested",
                        "refunded",
                        "buyer refused delivery",
                    );
                    self.batch.refund(id, at, order.amount_cents);
                    self.batch.view(id, "app", "refunded", at);
                    self.publish(
                        Queue::LogisticsUpdates,
                        Some(id),
                        Payload::Logistics("returned"),
                    );
                    self.publish(Queue::NotifyCustomer, Some(id), Payload::Notify);
                    self.retire(id);
                    return;
                }
                self.batch.status(id, "shipped", "delivered", None, at);
                self.batch.event(
                    id,
                    at,
                    "app",
                    "delivery_confirmed",
                    "delivered",
                    "courier app: signed for by buyer",
                );
                self.batch.view(id, "app", "delivered", at);
                self.publish(
                    Queue::LogisticsUpdates,
                    Some(id),
                    Payload::Logistics("delivered"),
                );
                self.publish(Queue::NotifyCustomer, Some(id), Payload::Notify);
                let t = self.later(at, 120.0, 600.0);
                self.schedule(id, t, Timer::Settle);
            }
            Timer::Settle => {
                self.publish(Queue::Settlement, Some(id), Payload::Settle);
            }
            Timer::Heal => self.heal(&order, at),
        }
    }

    fn set_fate(&mut self, id: i64, fate: Fate) {
        if let Some(l) = self.live.get_mut(&id) {
            l.fate = fate;
        }
    }

    /// The platform fixes a stuck order by itself, late.
    fn heal(&mut self, order: &Live, at: DateTime<Utc>) {
        let id = order.id;
        self.close_anomaly(order.fate);
        match order.fate {
            Fate::NoInventorySync => {
                self.batch.event(
                    id,
                    at,
                    "inventory",
                    "sync_redriven",
                    "paid",
                    "nightly reconciliation re-drove the inventory sync",
                );
                self.set_fate(id, Fate::Normal);
                self.publish(Queue::InventorySync, Some(id), Payload::InventorySync);
            }
            Fate::LockLeak => {
                self.batch.push(Op::Unlock { order_id: id });
                self.batch.event(
                    id,
                    at,
                    "inventory",
                    "lock_released",
                    "cancelled",
                    "lock sweeper released an expired lock",
                );
                let qty = order.quantity;
                self.set_stock(&order.sku, |s| s.reserved = (s.reserved - qty).max(0));
                self.live.remove(&id);
            }
            Fate::ErpStuck => {
                self.set_fate(id, Fate::Normal);
                let t = self.later(at, 1.0, 10.0);
                self.schedule(id, t, Timer::ErpAck);
            }
            Fate::SettledUnpaid => {
                self.batch.view(id, "finance", "received", at);
                self.batch.event(
                    id,
                    at,
                    "finance",
                    "reconciled",
                    "received",
                    "reconciliation job booked the missing transfer",
                );
                self.batch.status(id, "delivered", "settled", None, at);
                self.batch.view(id, "app", "settled", at);
                self.live.remove(&id);
            }
            _ => {}
        }
    }
}
