//! The consumers of the simulated queues: what handling each message does
//! to the order, the other systems' views and the stock.

use super::broker::{Message, Payload, Queue};
use super::catalog;
use super::flow::{GATEWAYS, LOCK_TTL_MINUTES};
use super::scenario;
use super::world::{Fate, Live, Simulator, Timer};
use super::writes::Op;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;

impl Simulator {
    pub(super) fn handle(&mut self, queue: Queue, message: Message, at: DateTime<Utc>) {
        if message.payload == Payload::Malformed {
            self.dead_letter(queue, message);
            return;
        }
        let Some(id) = message.order_id else {
            return;
        };
        let order = self.live.get(&id).cloned();
        match (&message.payload, order) {
            (Payload::PaymentCallback { ok: true }, Some(o)) => {
                let gw = GATEWAYS[(id as usize) % GATEWAYS.len()];
                self.batch
                    .status(id, "pending_review", "paid", Some("paid"), at);
                self.batch.event(
                    id,
                    at,
                    "payment",
                    "payment_callback",
                    "paid",
                    format!(
                        "{gw} trade {}{id:08} paid {}",
                        at.format("%Y%m%d"),
                        catalog::yuan(o.amount_cents)
                    ),
                );
                let score = self.rng.random_range(1..40);
                self.batch.event(
                    id,
                    at,
                    "risk",
                    "risk_check",
                    "paid",
                    format!("score {score}/100, pass"),
                );
                self.batch.view(id, "app", "paid", at);
                self.batch.view(id, "finance", "unpaid", at);
                self.publish(Queue::InventorySync, Some(id), Payload::InventorySync);
            }
            (Payload::PaymentCallback { ok: false }, Some(_)) => {
                self.batch
                    .status(id, "pending_review", "cancelled", Some("failed"), at);
                self.batch.event(
                    id,
                    at,
                    "payment",
                    "payment_failed",
                    "failed",
                    "gateway returned 500: issuing bank timeout",
                );
                self.batch.view(id, "app", "cancelled", at);
                self.publish(Queue::NotifyCustomer, Some(id), Payload::Notify);
                self.retire(id);
            }
            (Payload::InventorySync, Some(o)) => self.sync_inventory(o, message, at),
            (Payload::Fulfil, Some(o)) => self.fulfil(o, at),
            (Payload::Logistics(status), _) => {
                // Updates from the backlog after an outage fail now and then.
                let backlog = super::broker::lock(&self.broker).depth(Queue::LogisticsUpdates);
                let p = if backlog > 500 { 0.01 } else { 0.002 };
                if self.rng.random_bool(p) {
                    self.dead_letter(queue, message);
                    return;
                }
                let status = *status;
                let kind = match status {
                    "in_transit" => "in_transit",
                    "delivered" => "delivered",
                    _ => "returned",
                };
                self.batch.view(id, "logistics", status, at);
                self.batch
                    .event(id, at, "logistics", kind, status, "carrier scan received");
            }
            (Payload::Settle, Some(o)) => self.settle(o, at),
            _ => {}
        }
    }

    fn sync_inventory(&mut self, o: Live, message: Message, at: DateTime<Utc>) {
        let id = o.id;
        if o.fate == Fate::NoInventorySync {
            self.batch.event(id, at, "inventory", "lock_conflict", "paid", format!("ERROR inventory_rollback: lock wait timeout exceeded on {} (try restarting transaction)", o.sku));
            self.dead_letter(Queue::InventorySync, message);
            let t = self.later(at, 45.0 * 60.0, 180.0 * 60.0);
            self.schedule(id, t, Timer::Heal);
            return;
        }
        let available = self.stock.get(&o.sku).map_or(0, |s| s.on_hand - s.reserved);
        if available < o.quantity {
            self.batch
                .status(id, "paid", "cancelled", Some("refunded"), at);
            self.batch.event(
                id,
                at,
                "inventory",
                "out_of_stock",
                "cancelled",
                format!("{} available, {} wanted", available.max(0), o.quantity),
            );
            self.batch.refund(id, at, o.amount_cents);
            self.batch.view(id, "app", "cancelled", at);
            self.publish(Queue::NotifyCustomer, Some(id), Payload::Notify);
            self.retire(id);
            // The supplier consigns more.
            self.set_stock(&o.sku, |s| s.on_hand += 200);
            return;
        }
        let qty = o.quantity;
        self.set_stock(&o.sku, |s| s.reserved += qty);
        self.batch.status(id, "paid", "inventory_locked", None, at);
        self.batch.push(Op::Lock {
            order_id: id,
            sku: o.sku.clone(),
            quantity: qty,
            at,
            expires: at + Duration::minutes(LOCK_TTL_MINUTES),
        });
        self.batch.event(
            id,
            at,
            "inventory",
            "inventory_synced",
            "inventory_locked",
            format!("locked {qty} x {} for {LOCK_TTL_MINUTES} min", o.sku),
        );
        self.batch.view(id, "app", "inventory_locked", at);
        if o.fate == Fate::LockLeak {
            // The buyer cancels soon; the lock release will be lost.
            let t = self.later(at, 20.0, 120.0);
            self.schedule(id, t, Timer::BuyerCancel);
            return;
        }
        self.publish(Queue::Fulfillment, Some(id), Payload::Fulfil);
    }

    fn fulfil(&mut self, o: Live, at: DateTime<Utc>) {
        let id = o.id;
        let wo = catalog::work_order_no(id);
        self.batch
            .status(id, "inventory_locked", "processing", None, at);
        self.batch.push(Op::Unlock { order_id: id });
        self.batch.event(
            id,
            at,
            "inventory",
            "lock_released",
            "processing",
            "lock converted to a reservation",
        );
        self.batch.event(
            id,
            at,
            "fulfillment",
            "work_order_created",
            "processing",
            format!("{wo} sent to ERP"),
        );
        self.batch.view(id, "app", "processing", at);
        self.batch.view(id, "erp", "pending", at);
        match o.fate {
            Fate::RiskHold => {
                let before = catalog::ip(&mut self.rng);
                let now_ip = catalog::ip(&mut self.rng);
                self.batch.push(Op::Hold {
                    id,
                    reason: Some("risk"),
                    at: Some(at),
                });
                self.batch.event(
                    id,
                    at,
                    "risk",
                    "risk_hold",
                    "processing",
                    format!("buyer IP changed {before} -> {now_ip} within 3 min; held for review"),
                );
                let t = self.later(at, 30.0 * 60.0, 5.0 * 3600.0);
                self.schedule(id, t, Timer::ClearHold);
            }
            Fate::ErpStuck => {
                self.batch.view(id, "erp", "failed", at);
                self.batch.event(id, at, "erp", "erp_sync_failed", "failed", format!("ERROR order_timeout: {wo} not delivered: TLS handshake with erp-gw.internal failed (certificate expired)"));
                let t = self.later(at, 26.0 * 3600.0, 60.0 * 3600.0);
                self.schedule(id, t, Timer::Heal);
            }
            _ if scenario::erp_down(self.elapsed()) => {
                self.batch.view(id, "erp", "failed", at);
                self.batch.event(id, at, "erp", "erp_sync_failed", "failed", format!("ERROR order_timeout: {wo} not delivered: TLS handshake with erp-gw.internal failed (certificate expired)"));
                let back = scenario::erp_back_at(self.elapsed()) - self.elapsed();
                let t = self.later(at, back.max(0.0) + 5.0, back.max(0.0) + 90.0);
                self.schedule(id, t, Timer::ErpAck);
            }
            _ => {
                let t = self.later(at, 2.0, 20.0);
                self.schedule(id, t, Timer::ErpAck);
            }
        }
    }

    fn settle(&mut self, o: Live, at: DateTime<Utc>) {
        let id = o.id;
        self.batch.view(id, "supplier", "settled", at);
        self.batch.event(
            id,
            at,
            "supplier",
            "settled",
            "settled",
            catalog::payout_batch(o.supplier_id, at),
        );
        if o.fate == Fate::SettledUnpaid {
            self.batch.event(
                id,
                at,
                "finance",
                "transfer_failed",
                "unpaid",
                "XA branch on finance-db rolled back (deadlock); supplier branch committed",
            );
            let t = self.later(at, 45.0 * 60.0, 240.0 * 60.0);
            self.schedule(id, t, Timer::Heal);
            return;
        }
        self.batch.view(id, "finance", "received", at);
        self.batch.event(
            id,
            at,
            "finance",
            "funds_received",
            "received",
            format!(
                "{} booked to supplier {}",
                catalog::yuan(o.amount_cents),
                o.supplier_id
            ),
        );
        self.batch.status(id, "delivered", "settled", None, at);
        self.batch.view(id, "app", "settled", at);
        self.retire(id);
    }
}
