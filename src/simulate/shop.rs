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
use super::db::{Db, Dialect, is_deadlock, is_lock_conflict};
use super::front::NewOrder;
use super::message::{LogisticsStatus, Msg, Step};
use super::sql::{self, Event, event_alone};
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

    fn dialect(&self) -> Dialect {
        self.db.dialect()
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
        tx.event(Event {
            order_id: id,
            at,
            source: "app",
            kind: "order_created",
            status: "created",
            detail: format!(
                "buyer {} ordered {} x {} for {}",
                o.buyer_id,
                o.quantity,
                o.sku,
                catalog::yuan(o.amount_cents)
            ),
        })
        .await?;
        tx.event(Event {
            order_id: id,
            at,
            source: "app",
            kind: "checkout_submitted",
            status: "pending_review",
            detail: format!("awaiting payment via {}", o.gateway),
        })
        .await?;
        tx.view(self.dialect(), id, "app", "pending_review", at)
            .await?;
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

    async fn step(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        match &m.step {
            Step::PaymentCallback { paid } => self.payment_callback(m, *paid).await,
            Step::InventorySync => self.sync_inventory(m).await,
            Step::WorkOrder => self.work_order(m).await,
            Step::Ship => self.ship(m).await,
            Step::Deliver => self.deliver(m).await,
            Step::Logistics { status } => self.logistics(m, *status).await,
            Step::Settle => self.settle(m).await,
            Step::Notify { reason } => self.notify(m, reason).await,
        }
    }

    /// Logs a lock conflict on the order's timeline, as the inventory
    /// service would, and returns the log line.
    async fn lock_conflict(&self, m: &Msg, e: &sqlx::Error) -> String {
        Stats::bump(&self.stats.lock_conflicts);
        let what = if is_deadlock(e) {
            "deadlock detected"
        } else {
            "lock wait timeout exceeded"
        };
        let detail = format!(
            "ERROR inventory_rollback: {what} on {} (try restarting transaction)",
            m.sku
        );
        let _ = event_alone(
            &self.db,
            &m.order_no,
            Event {
                order_id: m.order_id,
                at: m.now(),
                source: "inventory",
                kind: "lock_conflict",
                status: status_before(&m.step),
                detail: detail.clone(),
            },
        )
        .await;
        detail
    }

    async fn payment_callback(&self, m: &Msg, paid: bool) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        if self.chaos.bank_500 && self.roll(BANK_500_SHARE) {
            // The callback handler verifies the trade with the issuing bank
            // before booking it; the bank answers 500 and the handler gives up.
            event_alone(
                &self.db,
                &m.order_no,
                Event {
                    order_id: id,
                    at,
                    source: "payment",
                    kind: "callback_failed",
                    status: "pending_review",
                    detail: format!(
                        "ERROR order_timeout: issuing bank answered 500 verifying {} trade {}; callback dead-lettered",
                        m.gateway,
                        trade_no(at, id)
                    ),
                },
            )
            .await?;
            Stats::bump(&self.stats.bank_500);
            return Ok(Outcome::DeadLetter("issuing bank answered 500".into()));
        }
        let d = self.dialect();
        let mut tx = self.db.begin().await?;
        if !paid {
            if !tx
                .move_status(
                    id,
                    &m.order_no,
                    "pending_review",
                    "cancelled",
                    Some("failed"),
                    at,
                )
                .await?
            {
                return Ok(Outcome::Stale);
            }
            tx.event(Event {
                order_id: id,
                at,
                source: "payment",
                kind: "payment_failed",
                status: "failed",
                detail: format!("{} declined: card issuer refused the payment", m.gateway),
            })
            .await?;
            tx.view(d, id, "app", "cancelled", at).await?;
            tx.commit().await?;
            Stats::bump(&self.stats.payment_declined);
            return Ok(Outcome::Done(vec![m.then(Step::Notify {
                reason: "cancelled".into(),
            })]));
        }
        if !tx
            .move_status(id, &m.order_no, "pending_review", "paid", Some("paid"), at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        tx.event(Event {
            order_id: id,
            at,
            source: "payment",
            kind: "payment_callback",
            status: "paid",
            detail: format!(
                "{} trade {} paid {}",
                m.gateway,
                trade_no(at, id),
                catalog::yuan(m.amount_cents)
            ),
        })
        .await?;
        let score = 1 + (id.unsigned_abs() % 39);
        let risk = if m.checkout_ip == m.payment_ip {
            format!("score {score}/100, pass")
        } else {
            format!(
                "score {score}/100, pass (buyer IP changed {} -> {})",
                m.checkout_ip, m.payment_ip
            )
        };
        tx.event(Event {
            order_id: id,
            at,
            source: "risk",
            kind: "risk_check",
            status: "paid",
            detail: risk,
        })
        .await?;
        tx.view(d, id, "app", "paid", at).await?;
        tx.view(d, id, "finance", "unpaid", at).await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![m.then(Step::InventorySync)]))
    }

    async fn sync_inventory(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let d = self.dialect();
        let mut tx = self.db.begin().await?;
        tx.set_lock_wait().await?;
        // Locks the SKU's stock row: under `deadlock` another transaction
        // holds it, and this waits until the lock wait gives up.
        let stock = tx
            .fetch_ints(sql::stock_for_update(d), &[m.sku.clone().into()])
            .await?;
        let (on_hand, reserved) = match stock.first().map(Vec::as_slice) {
            Some([on_hand, reserved, ..]) => (*on_hand, *reserved),
            _ => (0, 0),
        };
        let available = on_hand - reserved;
        if available < m.quantity {
            if !tx
                .move_status(id, &m.order_no, "paid", "cancelled", Some("refunded"), at)
                .await?
            {
                return Ok(Outcome::Stale);
            }
            tx.event(Event {
                order_id: id,
                at,
                source: "inventory",
                kind: "out_of_stock",
                status: "cancelled",
                detail: format!("{} available, {} wanted", available.max(0), m.quantity),
            })
            .await?;
            tx.event(Event {
                order_id: id,
                at,
                source: "payment",
                kind: "refund_issued",
                status: "refunded",
                detail: format!("refunded {}", catalog::yuan(m.amount_cents)),
            })
            .await?;
            tx.view(d, id, "app", "cancelled", at).await?;
            // The supplier consigns more.
            if stock.is_empty() {
                tx.exec(sql::stock_sku(d), &[m.sku.clone().into(), RESTOCK.into()])
                    .await?;
            } else {
                tx.exec(sql::RESTOCK, &[RESTOCK.into(), m.sku.clone().into()])
                    .await?;
            }
            tx.commit().await?;
            Stats::bump(&self.stats.out_of_stock);
            return Ok(Outcome::Done(vec![m.then(Step::Notify {
                reason: "cancelled".into(),
            })]));
        }
        if !tx
            .move_status(id, &m.order_no, "paid", "inventory_locked", None, at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        tx.exec(sql::RESERVE, &[m.quantity.into(), m.sku.clone().into()])
            .await?;
        tx.exec(
            sql::INSERT_LOCK,
            &[
                id.into(),
                m.sku.clone().into(),
                m.quantity.into(),
                at.into(),
                (at + Duration::minutes(LOCK_TTL_MINUTES)).into(),
            ],
        )
        .await?;
        tx.event(Event {
            order_id: id,
            at,
            source: "inventory",
            kind: "inventory_synced",
            status: "inventory_locked",
            detail: format!(
                "locked {} x {} for {LOCK_TTL_MINUTES} min",
                m.quantity, m.sku
            ),
        })
        .await?;
        tx.view(d, id, "app", "inventory_locked", at).await?;
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

    async fn work_order(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let d = self.dialect();
        let wo = catalog::work_order_no(id);
        let release_conflict = self.release_lock(m).await?;
        let mut tx = self.db.begin().await?;
        if !tx
            .move_status(id, &m.order_no, "inventory_locked", "processing", None, at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        match &release_conflict {
            None => {
                tx.event(Event {
                    order_id: id,
                    at,
                    source: "inventory",
                    kind: "lock_released",
                    status: "processing",
                    detail: "lock converted to a reservation".into(),
                })
                .await?
            }
            Some(e) => {
                tx.event(Event {
                    order_id: id,
                    at,
                    source: "inventory",
                    kind: "release_failed",
                    status: "processing",
                    detail: format!(
                        "ERROR inventory_rollback: release of lock timed out, will retry ({})",
                        if is_deadlock(e) {
                            "deadlock detected"
                        } else {
                            "lock wait timeout exceeded"
                        }
                    ),
                })
                .await?
            }
        }
        tx.event(Event {
            order_id: id,
            at,
            source: "fulfillment",
            kind: "work_order_created",
            status: "processing",
            detail: format!("{wo} sent to ERP"),
        })
        .await?;
        tx.view(d, id, "app", "processing", at).await?;
        tx.view(d, id, "erp", "pending", at).await?;
        if self.chaos.risk_false_positive && m.checkout_ip != m.payment_ip {
            // Risk control re-checks before fulfilment and distrusts any IP
            // change: buyers on mobile networks are held by mistake.
            tx.exec(sql::HOLD, &[at.into(), id.into()]).await?;
            tx.event(Event {
                order_id: id,
                at,
                source: "risk",
                kind: "risk_hold",
                status: "processing",
                detail: format!(
                    "buyer IP changed {} -> {} within 3 min; held for review",
                    m.checkout_ip, m.payment_ip
                ),
            })
            .await?;
            tx.commit().await?;
            count_release(&self.stats, &release_conflict);
            Stats::bump(&self.stats.risk_held);
            return Ok(Outcome::Done(Vec::new()));
        }
        let next = match self.erp.send() {
            Err(reason) => {
                tx.view(d, id, "erp", "failed", at).await?;
                tx.event(Event {
                    order_id: id,
                    at,
                    source: "erp",
                    kind: "erp_sync_failed",
                    status: "failed",
                    detail: format!("ERROR order_timeout: {wo} not delivered: {reason}"),
                })
                .await?;
                Stats::bump(&self.stats.erp_failed);
                Vec::new()
            }
            Ok(()) => {
                tx.view(d, id, "erp", "acknowledged", at).await?;
                tx.event(Event {
                    order_id: id,
                    at,
                    source: "erp",
                    kind: "work_order_ack",
                    status: "acknowledged",
                    detail: format!("ERP accepted {wo}"),
                })
                .await?;
                vec![m.then(Step::Ship)]
            }
        };
        tx.commit().await?;
        count_release(&self.stats, &release_conflict);
        Ok(Outcome::Done(next))
    }

    async fn ship(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let d = self.dialect();
        let mut tx = self.db.begin().await?;
        tx.set_lock_wait().await?;
        if !tx
            .move_status(id, &m.order_no, "processing", "shipped", None, at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        let q = m.quantity;
        tx.exec(
            sql::TAKE_STOCK,
            &[q.into(), q.into(), q.into(), q.into(), m.sku.clone().into()],
        )
        .await?;
        tx.event(Event {
            order_id: id,
            at,
            source: "fulfillment",
            kind: "shipped",
            status: "shipped",
            detail: format!("picked at WH-HZ-02, tracking {}", self.tracking_no()),
        })
        .await?;
        tx.view(d, id, "app", "shipped", at).await?;
        tx.view(d, id, "logistics", "pending", at).await?;
        tx.view(d, id, "supplier", "unsettled", at).await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![
            m.then(Step::Logistics {
                status: LogisticsStatus::InTransit,
            }),
            m.then(Step::Notify {
                reason: "shipped".into(),
            }),
            m.then(Step::Deliver),
        ]))
    }

    async fn deliver(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let mut tx = self.db.begin().await?;
        if !tx
            .move_status(id, &m.order_no, "shipped", "delivered", None, at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        tx.event(Event {
            order_id: id,
            at,
            source: "app",
            kind: "delivery_confirmed",
            status: "delivered",
            detail: "courier app: signed for by buyer".into(),
        })
        .await?;
        tx.view(self.dialect(), id, "app", "delivered", at).await?;
        tx.commit().await?;
        Ok(Outcome::Done(vec![
            m.then(Step::Logistics {
                status: LogisticsStatus::Delivered,
            }),
            m.then(Step::Notify {
                reason: "delivered".into(),
            }),
        ]))
    }

    async fn logistics(&self, m: &Msg, status: LogisticsStatus) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let mut tx = self.db.begin().await?;
        let update = match status {
            LogisticsStatus::InTransit => sql::LOGISTICS_IN_TRANSIT,
            LogisticsStatus::Delivered => sql::LOGISTICS_DELIVERED,
        };
        if tx
            .exec(update, &[at.into(), id.into(), m.order_no.clone().into()])
            .await?
            == 0
        {
            // A later scan got here first, or the order has no shipment.
            return Ok(Outcome::Stale);
        }
        tx.event(Event {
            order_id: id,
            at,
            source: "logistics",
            kind: status.as_str(),
            status: status.as_str(),
            detail: "carrier scan received".into(),
        })
        .await?;
        tx.commit().await?;
        // The supplier is paid once the carrier's proof of delivery is in:
        // while logistics lags, settlement waits too.
        Ok(Outcome::Done(match status {
            LogisticsStatus::Delivered => vec![m.then(Step::Settle)],
            LogisticsStatus::InTransit => Vec::new(),
        }))
    }

    async fn settle(&self, m: &Msg) -> Result<Outcome, sqlx::Error> {
        let at = m.now();
        let id = m.order_id;
        let d = self.dialect();
        let mut tx = self.db.begin().await?;
        if !tx
            .move_status(id, &m.order_no, "delivered", "settled", None, at)
            .await?
        {
            return Ok(Outcome::Stale);
        }
        tx.view(d, id, "supplier", "settled", at).await?;
        tx.event(Event {
            order_id: id,
            at,
            source: "supplier",
            kind: "settled",
            status: "settled",
            detail: catalog::payout_batch(m.supplier_id, at),
        })
        .await?;
        tx.view(d, id, "finance", "received", at).await?;
        tx.event(Event {
            order_id: id,
            at,
            source: "finance",
            kind: "funds_received",
            status: "received",
            detail: format!(
                "{} booked to supplier {}",
                catalog::yuan(m.amount_cents),
                m.supplier_id
            ),
        })
        .await?;
        tx.view(d, id, "app", "settled", at).await?;
        tx.commit().await?;
        Ok(Outcome::Done(Vec::new()))
    }

    async fn notify(&self, m: &Msg, reason: &str) -> Result<Outcome, sqlx::Error> {
        let (status, text) = match reason {
            "shipped" => ("shipped", "your order is on its way"),
            "delivered" => ("delivered", "your order was delivered"),
            _ => (
                "cancelled",
                "your order was cancelled; any payment is refunded",
            ),
        };
        event_alone(
            &self.db,
            &m.order_no,
            Event {
                order_id: m.order_id,
                at: m.now(),
                source: "app",
                kind: "customer_notified",
                status,
                detail: format!("SMS to buyer: {} {text}", m.order_no),
            },
        )
        .await?;
        Ok(Outcome::Done(Vec::new()))
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
    let sql = sql::stock_sku(db.dialect());
    for p in products {
        db.exec(sql, &[p.sku.clone().into(), p.on_hand.into()])
            .await?;
    }
    Ok(())
}
