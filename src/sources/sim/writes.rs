//! The simulator's database writes, collected per step and applied in one
//! transaction (SQLite has one writer; the cockpit reads through WAL).
//!
//! Status changes are guarded by the status the simulator expects, so an
//! order changed by someone else (a remediation) is left alone and dropped
//! from the simulation.

use crate::sources::SourceError;
use crate::sources::sqlite::time::format_timestamp;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// A new `orders` row.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: i64,
    pub order_no: String,
    pub buyer_id: i64,
    pub supplier_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub amount_cents: i64,
    pub status: &'static str,
    pub payment_status: &'static str,
    pub hold_reason: Option<String>,
    pub held_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum Op {
    Order(NewOrder),
    /// `from` → `to`, only if the order is still in `from`.
    Status {
        id: i64,
        from: &'static str,
        to: &'static str,
        payment: Option<&'static str>,
        at: DateTime<Utc>,
    },
    Hold {
        id: i64,
        reason: Option<&'static str>,
        at: Option<DateTime<Utc>>,
    },
    Event {
        order_id: i64,
        at: DateTime<Utc>,
        source: &'static str,
        kind: &'static str,
        status: &'static str,
        detail: String,
        payload: Option<String>,
    },
    View {
        order_id: i64,
        system: &'static str,
        status: &'static str,
        at: DateTime<Utc>,
    },
    Lock {
        order_id: i64,
        sku: String,
        quantity: i64,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    },
    Unlock {
        order_id: i64,
    },
    Stock {
        sku: String,
        on_hand: i64,
        reserved: i64,
    },
}

/// Writes collected during one step.
#[derive(Debug, Default)]
pub struct Batch {
    pub ops: Vec<Op>,
}

impl Batch {
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &mut self,
        order_id: i64,
        at: DateTime<Utc>,
        source: &'static str,
        kind: &'static str,
        status: &'static str,
        detail: impl Into<String>,
    ) {
        self.ops.push(Op::Event {
            order_id,
            at,
            source,
            kind,
            status,
            detail: detail.into(),
            payload: None,
        });
    }

    pub fn view(
        &mut self,
        order_id: i64,
        system: &'static str,
        status: &'static str,
        at: DateTime<Utc>,
    ) {
        self.ops.push(Op::View {
            order_id,
            system,
            status,
            at,
        });
    }

    pub fn status(
        &mut self,
        id: i64,
        from: &'static str,
        to: &'static str,
        payment: Option<&'static str>,
        at: DateTime<Utc>,
    ) {
        self.ops.push(Op::Status {
            id,
            from,
            to,
            payment,
            at,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

fn err(what: &str, e: sqlx::Error) -> SourceError {
    SourceError::new(format!(
        "simulator: {what}: {}",
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

/// Applies `batch` in one transaction. Returns the ids of orders whose
/// guarded status change found them in another status.
pub async fn apply(pool: &SqlitePool, batch: &Batch) -> Result<Vec<i64>, SourceError> {
    let mut rejected = Vec::new();
    if batch.is_empty() {
        return Ok(rejected);
    }
    let mut tx = pool.begin().await.map_err(|e| err("begin", e))?;
    for op in &batch.ops {
        match op {
            Op::Order(o) => {
                sqlx::query(
                    "INSERT INTO orders (id, order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                         status, payment_status, hold_reason, held_at, created_at, status_changed_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(o.id)
                .bind(&o.order_no)
                .bind(o.buyer_id)
                .bind(o.supplier_id)
                .bind(&o.sku)
                .bind(o.quantity)
                .bind(o.amount_cents)
                .bind(o.status)
                .bind(o.payment_status)
                .bind(o.hold_reason.as_deref())
                .bind(o.held_at.map(format_timestamp))
                .bind(format_timestamp(o.created_at))
                .bind(format_timestamp(o.status_changed_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| err("inserting an order", e))?;
            }
            Op::Status {
                id,
                from,
                to,
                payment,
                at,
            } => {
                let done = sqlx::query(
                    "UPDATE orders SET status = ?, status_changed_at = ?,
                         payment_status = COALESCE(?, payment_status)
                     WHERE id = ? AND status = ?",
                )
                .bind(*to)
                .bind(format_timestamp(*at))
                .bind(*payment)
                .bind(*id)
                .bind(*from)
                .execute(&mut *tx)
                .await
                .map_err(|e| err("updating an order's status", e))?;
                if done.rows_affected() == 0 {
                    rejected.push(*id);
                }
            }
            Op::Hold { id, reason, at } => {
                sqlx::query("UPDATE orders SET hold_reason = ?, held_at = ? WHERE id = ?")
                    .bind(*reason)
                    .bind(at.map(format_timestamp))
                    .bind(*id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| err("updating a hold", e))?;
            }
            Op::Event {
                order_id,
                at,
                source,
                kind,
                status,
                detail,
                payload,
            } => {
                sqlx::query(
                    "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail, payload)
                     SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?)",
                )
                .bind(*order_id)
                .bind(format_timestamp(*at))
                .bind(*source)
                .bind(*kind)
                .bind(*status)
                .bind(detail)
                .bind(payload.as_deref())
                .bind(*order_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| err("inserting an event", e))?;
            }
            Op::View {
                order_id,
                system,
                status,
                at,
            } => {
                sqlx::query(
                    "INSERT INTO order_views (order_id, system, status, observed_at)
                     SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?)
                     ON CONFLICT (order_id, system)
                     DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at",
                )
                .bind(*order_id)
                .bind(*system)
                .bind(*status)
                .bind(format_timestamp(*at))
                .bind(*order_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| err("writing an order view", e))?;
            }
            Op::Lock {
                order_id,
                sku,
                quantity,
                at,
                expires,
            } => {
                sqlx::query(
                    "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
                     VALUES (?, ?, ?, 1, ?, ?)",
                )
                .bind(*order_id)
                .bind(sku)
                .bind(*quantity)
                .bind(format_timestamp(*at))
                .bind(format_timestamp(*expires))
                .execute(&mut *tx)
                .await
                .map_err(|e| err("inserting an inventory lock", e))?;
            }
            Op::Unlock { order_id } => {
                sqlx::query(
                    "UPDATE inventory_locks SET is_locked = 0 WHERE order_id = ? AND is_locked = 1",
                )
                .bind(*order_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| err("releasing an inventory lock", e))?;
            }
            Op::Stock {
                sku,
                on_hand,
                reserved,
            } => {
                sqlx::query(
                    "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, ?)
                     ON CONFLICT (sku) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved",
                )
                .bind(sku)
                .bind(*on_hand)
                .bind(*reserved)
                .execute(&mut *tx)
                .await
                .map_err(|e| err("writing inventory", e))?;
            }
        }
    }
    tx.commit().await.map_err(|e| err("commit", e))?;
    Ok(rejected)
}
