//! The shop's systems as message handlers: what consuming each message does
//! to the order, the outside systems' views and the stock, in the reference
//! schema and with the demo simulator's event vocabulary.
//!
//! created → pending_review → paid → inventory_locked → processing →
//! shipped → delivered → settled, each arrow one message; settlement
//! follows the carrier's delivered scan (proof of delivery), not the app. Chaos acts here
//! through real causes: the bank answers 500, a row lock times out, the ERP
//! link's certificate has expired, risk control distrusts a changed IP.
//! Handlers know nothing of AMQP: they return an [`Outcome`] that the
//! consumer turns into publishes, acks and nacks.

use super::args::ChaosSet;
use super::db::{Db, is_deadlock, is_lock_conflict};
use super::front::NewOrder;
use super::message::{LogisticsStatus, Msg, Step};
use super::sql::{self, Halt, OrderTx, Stamp};
use super::stats::Stats;
use crate::sources::sim::catalog::{self, Product};
use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Lock lifetime, as in the demo: a lock older than this has expired.
pub const LOCK_TTL_MINUTES: i64 = 15;
/// Share of payment callbacks whose bank verification fails under `bank-500`.
pub const BANK_500_SHARE: f64 = 0.3;
/// Tries of a step that hits a lock conflict, and the pause between them.
pub const LOCK_TRIES: u32 = 3;
const LOCK_BACKOFF: std::time::Duration = std::time::Duration::from_millis(250);
/// Stock a supplier consigns when a SKU runs out.
const RESTOCK: i64 = 200;

/// What the consumer does with a message once handled.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Publish these next steps, then acknowledge.
    Done(Vec<Msg>),
    /// Reject without requeue: RabbitMQ dead-letters it into `<queue>.dlq`.
    DeadLetter(String),
    /// Publish it again for another try (dead-lettered after too many).
    Retry(String),
    /// The order is no longer where this step expects it (someone else
    /// moved it, or this is a duplicate delivery): acknowledge and drop.
    Stale,
}

/// The ERP link; `erp-cert-expired` makes its certificate expire mid-run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErpLink {
    expires: Option<Instant>,
}

impl ErpLink {
    pub fn healthy() -> Self {
        ErpLink { expires: None }
    }

    pub fn certificate_expiring_at(at: Instant) -> Self {
        ErpLink { expires: Some(at) }
    }

    /// Sends a work order; the acknowledgement never comes once the
    /// certificate has expired (the TLS handshake fails).
    fn send(&self) -> Result<(), &'static str> {
        match self.expires {
            Some(at) if Instant::now() >= at => {
                Err("TLS handshake with erp-gw.internal failed (certificate expired)")
            }
            _ => Ok(()),
        }
    }
}

/// The shop's back-office systems, shared by all consumers.
pub struct Shop {
    db: Db,
    chaos: ChaosSet,
    erp: ErpLink,
    stats: Arc<Stats>,
    rng: Mutex<ChaCha8Rng>,
}

impl Shop {
    pub fn new(db: Db, seed: u64, chaos: ChaosSet, erp: ErpLink, stats: Arc<Stats>) -> Shop {
        Shop {
            db,
            chaos,
            erp,
            stats,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5107_0000)),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn roll(&self, p: f64) -> bool {
        match self.rng.lock() {
            Ok(mut r) => r.random_bool(p.clamp(0.0, 1.0)),
            Err(poisoned) => poisoned.into_inner().random_bool(p.clamp(0.0, 1.0)),
        }
    }

    fn tracking_no(&self) -> String {
        match self.rng.lock() {
            Ok(mut r) => catalog::tracking_no(&mut *r),
            Err(poisoned) => catalog::tracking_no(&mut *poisoned.into_inner()),
        }
    }

    /// Places an order: the app writes it as `pending_review` (checkout
    /// submitted) and the gateway's callback is the message returned.
    pub async fn create_order(&self, o: &NewOrder) -> Result<Msg, sqlx::Error> {
        let at = o.now();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert_id(
                sql::INSERT_ORDER,
                &[
                    o.order_no.clone().into(),
                    o.buyer_id.into(),
                    o.supplier_id.into(),
                    o.sku.clone().into(),
                    o.quantity.into(),
                    o.amount_cents.into(),
                    at.into(),
                    at.into(),
                ],
            )
            .await?;
        let stamp = Stamp {
            order_id: id,
            order_no: &o.order_no,
            at,
        };
        let mut tx = OrderTx::new(tx, self.db.kind(), stamp);
        let ordered = format!(
            "buyer {} ordered {} x {} for {}",
            o.buyer_id,
            o.quantity,
            o.sku,
            catalog::yuan(o.amount_cents)
        );
        tx.event("app", "order_created", "created", ordered).await?;
        let awaiting = format!("awaiting payment via {}", o.gateway);
        tx.event("app", "checkout_submitted", "pending_review", awaiting)
            .await?;
        tx.view("app", "pending_review").await?;
        tx.commit().await?;
        Stats::bump(&self.stats.orders_created);
        if o.backdate_secs > 0 {
            Stats::bump(&self.stats.orders_backdated);
        }
        Ok(Msg {
            order_id: id,
            order_no: o.order_no.clone(),
            sku: o.sku.clone(),
            quantity: o.quantity,
            amount_cents: o.amount_cents,
            supplier_id: o.supplier_id,
            backdate_secs: o.backdate_secs,
            gateway: o.gateway.clone(),
            checkout_ip: o.checkout_ip.clone(),
            payment_ip: o.payment_ip.clone(),
            step: Step::PaymentCallback { paid: o.paid },
        })
    }

    /// Handles one message. A lock conflict is retried in place a few
    /// times, as an inventory client does, then the message is dead-lettered
    /// (someone requeues it once the locks are gone); other failures are
    /// retried through the queue.
    pub async fn handle(&self, m: &Msg) -> Outcome {
        let mut conflicts = 0;
        loop {
            match self.step(m).await {
                Ok(outcome) => {
                    if conflicts > 0
                        && matches!(m.step, Step::InventorySync)
                        && matches!(outcome, Outcome::Done(_))
                    {
                        Stats::bump(&self.stats.sync_recovered);
                    }
                    return outcome;
                }
                Err(e) if is_lock_conflict(&e) => {
                    conflicts += 1;
                    let detail = self.lock_conflict(m, &e).await;
                    if conflicts >= LOCK_TRIES {
                        return Outcome::DeadLetter(detail);
                    }
                    tokio::time::sleep(LOCK_BACKOFF).await;
                }
                Err(e) => {
                    Stats::bump(&self.stats.handler_errors);
                    let text = super::error::one_line(&e.to_string());
                    self.stats.note_error(&text);
                    tracing::warn!(order_id = m.order_id, step = ?m.step, error = %text, "simulate: step failed");
                    return Outcome::Retry(text);
                }
            }
        }
    }

    /// Runs the message's step; a stale order is an outcome, not an error.
    async fn step(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let ran = match &m.step {
            Step::PaymentCallback { paid } => self.payment_callback(m, *paid).await,
            Step::InventorySync => self.sync_inventory(m).await,
            Step::WorkOrder => self.work_order(m).await,
            Step::Ship => self.ship(m).await,
            Step::Deliver => self.deliver(m).await,
            Step::Logistics { status } => self.logistics(m, *status).await,
            Step::Settle => self.settle(m).await,
            Step::Notify { reason } => self.notify(m, reason).await,
        };
        match ran {
            Ok(outcome) => Ok(outcome),
            Err(Halt::Stale) => Ok(Outcome::Stale),
            Err(Halt::Db(e)) => Err(e),
        }
    }

    /// A transaction on the message's order, stamped now on its clock.
    async fn begin<'m>(&self, m: &'m Msg) -> Result<OrderTx<'m>, sqlx::Error> {
        OrderTx::begin(&self.db, Stamp::of(m)).await
    }

    /// Logs a lock conflict on the order's timeline, as the inventory
    /// service would, and returns the log line.
    async fn lock_conflict(&self, m: &Msg, e: &sqlx::Error) -> String {
        Stats::bump(&self.stats.lock_conflicts);
        let detail = format!(
            "ERROR inventory_rollback: {} on {} (try restarting transaction)",
            conflict_name(e),
            m.sku
        );
        let status = status_before(&m.step);
        let _ = Stamp::of(m)
            .event_alone(&self.db, "inventory", "lock_conflict", status, &detail)
            .await;
        detail
    }

    async fn payment_callback(&self, m: &Msg, paid: bool) -> Result<Outcome, Halt> {
        if self.chaos.bank_500 && self.roll(BANK_500_SHARE) {
            return self.bank_500(m).await;
        }
        let mut tx = self.begin(m).await?;
        let at = tx.stamp().at;
        if !paid {
            tx.advance("pending_review", "cancelled", Some("failed"))
                .await?;
            let declined = format!("{} declined: card issuer refused the payment", m.gateway);
            tx.event("payment", "payment_failed", "failed", declined)
                .await?;
            tx.commit().await?;
            Stats::bump(&self.stats.payment_declined);
            return Ok(Outcome::Done(vec![notify(m, "cancelled")]));
        }
        tx.advance("pending_review", "paid", Some("paid")).await?;
        let trade = format!(
            "{} trade {} paid {}",
            m.gateway,
            trade_no(at, m.order_id),
            catalog::yuan(m.amount_cents)
        );
        tx.event("payment", "payment_callback", "paid", trade)
            .await?;
        tx.event("risk", "risk_check", "paid", risk_check(m))
            .await?;
        tx.view("finance", "unpaid").await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![m.then(Step::InventorySync)]))
    }

    /// The callback handler verifies the trade with the issuing bank before
    /// booking it; the bank answers 500 and the handler gives up.
    async fn bank_500(&self, m: &Msg) -> Result<Outcome, Halt> {
        let stamp = Stamp::of(m);
        let detail = format!(
            "ERROR order_timeout: issuing bank answered 500 verifying {} trade {}; callback dead-lettered",
            m.gateway,
            trade_no(stamp.at, m.order_id)
        );
        stamp
            .event_alone(
                &self.db,
                "payment",
                "callback_failed",
                "pending_review",
                &detail,
            )
            .await?;
        Stats::bump(&self.stats.bank_500);
        Ok(Outcome::DeadLetter("issuing bank answered 500".into()))
    }

    async fn sync_inventory(&self, m: &Msg) -> Result<Outcome, Halt> {
        let d = self.db.kind();
        let mut tx = self.begin(m).await?;
        let at = tx.stamp().at;
        tx.tx().set_lock_wait().await?;
        // Locks the SKU's stock row: under `deadlock` another transaction
        // holds it, and this waits until the lock wait gives up.
        let stock = tx
            .tx()
            .fetch_ints(sql::stock_for_update(d), &[m.sku.clone().into()])
            .await?;
        let (on_hand, reserved) = match stock.first().map(Vec::as_slice) {
            Some([on_hand, reserved, ..]) => (*on_hand, *reserved),
            _ => (0, 0),
        };
        let available = on_hand - reserved;
        if available < m.quantity {
            tx.advance("paid", "cancelled", Some("refunded")).await?;
            let short = format!("{} available, {} wanted", available.max(0), m.quantity);
            tx.event("inventory", "out_of_stock", "cancelled", short)
                .await?;
            let refund = format!("refunded {}", catalog::yuan(m.amount_cents));
            tx.event("payment", "refund_issued", "refunded", refund)
                .await?;
            // The supplier consigns more.
            let (restock, vals) = if stock.is_empty() {
                (sql::stock_sku(d), [m.sku.clone().into(), RESTOCK.into()])
            } else {
                (sql::RESTOCK, [RESTOCK.into(), m.sku.clone().into()])
            };
            tx.tx().exec(restock, &vals).await?;
            tx.commit().await?;
            Stats::bump(&self.stats.out_of_stock);
            return Ok(Outcome::Done(vec![notify(m, "cancelled")]));
        }
        tx.advance("paid", "inventory_locked", None).await?;
        let lock = [
            m.order_id.into(),
            m.sku.clone().into(),
            m.quantity.into(),
            at.into(),
            (at + Duration::minutes(LOCK_TTL_MINUTES)).into(),
        ];
        tx.tx()
            .exec(sql::RESERVE, &[m.quantity.into(), m.sku.clone().into()])
            .await?;
        tx.tx().exec(sql::INSERT_LOCK, &lock).await?;
        let locked = format!(
            "locked {} x {} for {LOCK_TTL_MINUTES} min",
            m.quantity, m.sku
        );
        tx.event("inventory", "inventory_synced", "inventory_locked", locked)
            .await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![m.then(Step::WorkOrder)]))
    }

    /// Converts the inventory lock into a reservation in its own short
    /// transaction, as a call to the inventory service would. Returns the
    /// lock conflict if the release timed out: the lock then stays held.
    async fn release_lock(&self, m: &Msg) -> Result<Option<sqlx::Error>, sqlx::Error> {
        let attempt = async {
            let mut tx = self.db.begin().await?;
            tx.set_lock_wait().await?;
            tx.exec(
                sql::RELEASE_LOCK,
                &[m.order_id.into(), m.order_no.clone().into()],
            )
            .await?;
            tx.commit().await
        };
        match attempt.await {
            Ok(()) => Ok(None),
            Err(e) if is_lock_conflict(&e) => Ok(Some(e)),
            Err(e) => Err(e),
        }
    }

    async fn work_order(&self, m: &Msg) -> Result<Outcome, Halt> {
        let wo = catalog::work_order_no(m.order_id);
        // The step's time is when the work order began, before the release.
        let stamp = Stamp::of(m);
        let release_conflict = self.release_lock(m).await?;
        let mut tx = OrderTx::begin(&self.db, stamp).await?;
        let at = stamp.at;
        tx.advance("inventory_locked", "processing", None).await?;
        match &release_conflict {
            None => {
                let reserved = "lock converted to a reservation";
                tx.event("inventory", "lock_released", "processing", reserved)
                    .await?
            }
            Some(e) => {
                let failed = format!(
                    "ERROR inventory_rollback: release of lock timed out, will retry ({})",
                    conflict_name(e)
                );
                tx.event("inventory", "release_failed", "processing", failed)
                    .await?
            }
        }
        let sent = format!("{wo} sent to ERP");
        tx.event("fulfillment", "work_order_created", "processing", sent)
            .await?;
        tx.view("erp", "pending").await?;
        if self.chaos.risk_false_positive && m.checkout_ip != m.payment_ip {
            // Risk control re-checks before fulfilment and distrusts any IP
            // change: buyers on mobile networks are held by mistake.
            tx.tx()
                .exec(sql::HOLD, &[at.into(), m.order_id.into()])
                .await?;
            let held = format!(
                "buyer IP changed {} -> {} within 3 min; held for review",
                m.checkout_ip, m.payment_ip
            );
            tx.event("risk", "risk_hold", "processing", held).await?;
            tx.commit().await?;
            count_release(&self.stats, &release_conflict);
            Stats::bump(&self.stats.risk_held);
            return Ok(Outcome::Done(Vec::new()));
        }
        let next = match self.erp.send() {
            Err(reason) => {
                tx.view("erp", "failed").await?;
                let lost = format!("ERROR order_timeout: {wo} not delivered: {reason}");
                tx.event("erp", "erp_sync_failed", "failed", lost).await?;
                Stats::bump(&self.stats.erp_failed);
                Vec::new()
            }
            Ok(()) => {
                tx.view("erp", "acknowledged").await?;
                let accepted = format!("ERP accepted {wo}");
                tx.event("erp", "work_order_ack", "acknowledged", accepted)
                    .await?;
                vec![m.then(Step::Ship)]
            }
        };
        tx.commit().await?;
        count_release(&self.stats, &release_conflict);
        Ok(Outcome::Done(next))
    }

    async fn ship(&self, m: &Msg) -> Result<Outcome, Halt> {
        let mut tx = self.begin(m).await?;
        tx.tx().set_lock_wait().await?;
        tx.advance("processing", "shipped", None).await?;
        let q = m.quantity;
        tx.tx()
            .exec(
                sql::TAKE_STOCK,
                &[q.into(), q.into(), q.into(), q.into(), m.sku.clone().into()],
            )
            .await?;
        let picked = format!("picked at WH-HZ-02, tracking {}", self.tracking_no());
        tx.event("fulfillment", "shipped", "shipped", picked)
            .await?;
        tx.view("logistics", "pending").await?;
        tx.view("supplier", "unsettled").await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![
            m.then(Step::Logistics {
                status: LogisticsStatus::InTransit,
            }),
            notify(m, "shipped"),
            m.then(Step::Deliver),
        ]))
    }

    async fn deliver(&self, m: &Msg) -> Result<Outcome, Halt> {
        let mut tx = self.begin(m).await?;
        tx.advance("shipped", "delivered", None).await?;
        let signed = "courier app: signed for by buyer";
        tx.event("app", "delivery_confirmed", "delivered", signed)
            .await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![
            m.then(Step::Logistics {
                status: LogisticsStatus::Delivered,
            }),
            notify(m, "delivered"),
        ]))
    }

    async fn logistics(&self, m: &Msg, status: LogisticsStatus) -> Result<Outcome, Halt> {
        let mut tx = self.begin(m).await?;
        let at = tx.stamp().at;
        let update = match status {
            LogisticsStatus::InTransit => sql::LOGISTICS_IN_TRANSIT,
            LogisticsStatus::Delivered => sql::LOGISTICS_DELIVERED,
        };
        let vals = [at.into(), m.order_id.into(), m.order_no.clone().into()];
        if tx.tx().exec(update, &vals).await? == 0 {
            // A later scan got here first, or the order has no shipment.
            return Err(Halt::Stale);
        }
        let scan = "carrier scan received";
        tx.event("logistics", status.as_str(), status.as_str(), scan)
            .await?;
        tx.commit().await?;
        // The supplier is paid once the carrier's proof of delivery is in:
        // while logistics lags, settlement waits too.
        Ok(Outcome::Done(match status {
            LogisticsStatus::Delivered => vec![m.then(Step::Settle)],
            LogisticsStatus::InTransit => Vec::new(),
        }))
    }

    async fn settle(&self, m: &Msg) -> Result<Outcome, Halt> {
        let mut tx = self.begin(m).await?;
        let at = tx.stamp().at;
        tx.advance("delivered", "settled", None).await?;
        tx.view("supplier", "settled").await?;
        let batch = catalog::payout_batch(m.supplier_id, at);
        tx.event("supplier", "settled", "settled", batch).await?;
        tx.view("finance", "received").await?;
        let booked = format!(
            "{} booked to supplier {}",
            catalog::yuan(m.amount_cents),
            m.supplier_id
        );
        tx.event("finance", "funds_received", "received", booked)
            .await?;
        tx.commit().await?;
        Ok(Outcome::Done(Vec::new()))
    }

    async fn notify(&self, m: &Msg, reason: &str) -> Result<Outcome, Halt> {
        let (status, text) = match reason {
            "shipped" => ("shipped", "your order is on its way"),
            "delivered" => ("delivered", "your order was delivered"),
            _ => (
                "cancelled",
                "your order was cancelled; any payment is refunded",
            ),
        };
        let sms = format!("SMS to buyer: {} {text}", m.order_no);
        Stamp::of(m)
            .event_alone(&self.db, "app", "customer_notified", status, &sms)
            .await?;
        Ok(Outcome::Done(Vec::new()))
    }
}

/// The customer notification that follows a step.
fn notify(m: &Msg, reason: &str) -> Msg {
    m.then(Step::Notify {
        reason: reason.into(),
    })
}

/// Risk control's verdict on a paid order: always a pass, noting a changed
/// buyer IP (which `risk-false-positive` later holds against it).
fn risk_check(m: &Msg) -> String {
    let score = 1 + (m.order_id.unsigned_abs() % 39);
    if m.checkout_ip == m.payment_ip {
        format!("score {score}/100, pass")
    } else {
        format!(
            "score {score}/100, pass (buyer IP changed {} -> {})",
            m.checkout_ip, m.payment_ip
        )
    }
}

/// How a lock conflict reads in the inventory service's log.
fn conflict_name(e: &sqlx::Error) -> &'static str {
    if is_deadlock(e) {
        "deadlock detected"
    } else {
        "lock wait timeout exceeded"
    }
}

fn count_release(stats: &Stats, conflict: &Option<sqlx::Error>) {
    if conflict.is_some() {
        Stats::bump(&stats.release_failed);
        Stats::bump(&stats.lock_conflicts);
    }
}

/// The order status a step expects to find (for events about failures).
fn status_before(step: &Step) -> &'static str {
    match step {
        Step::PaymentCallback { .. } => "pending_review",
        Step::InventorySync => "paid",
        Step::WorkOrder => "inventory_locked",
        Step::Ship => "processing",
        Step::Deliver => "shipped",
        Step::Logistics { .. } | Step::Settle | Step::Notify { .. } => "delivered",
    }
}

/// The gateway's trade number for an order.
fn trade_no(at: DateTime<Utc>, id: i64) -> String {
    format!("{}{id:08}", at.format("%Y%m%d"))
}

/// Stocks the catalogue's SKUs that have no `inventory` row yet.
pub async fn stock_shelves(db: &Db, products: &[Product]) -> Result<(), sqlx::Error> {
    let sql = sql::stock_sku(db.kind());
    for p in products {
        db.exec(sql, &[p.sku.clone().into(), p.on_hand.into()])
            .await?;
    }
    Ok(())
}
