//! The statements the simulated shop runs, written once with `?`
//! placeholders (numbered for PostgreSQL by [`db`](super::db)); only the
//! upserts and row locks differ per dialect.

use super::db::{Dialect, Tx, Val};
use chrono::{DateTime, Utc};

pub const INSERT_ORDER: &str = "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents, status, payment_status, created_at, status_changed_at) VALUES (?, ?, ?, ?, ?, ?, 'pending_review', 'unpaid', ?, ?)";

pub const INSERT_EVENT: &str = "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail, payload) VALUES (?, ?, ?, ?, ?, ?, ?)";
/// An event for an order that must exist with that number (outside a
/// transaction that already checked it).
pub const INSERT_EVENT_IF_ORDER: &str = "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail, payload) SELECT id, ?, ?, ?, ?, ?, NULL FROM orders WHERE id = ? AND order_no = ?";

/// Moves an order on only if it is still where the step expects it, so an
/// order changed by someone else (a remediation) is left alone. Every
/// statement that finds an order by id also checks its number: a message
/// left in a queue from a run against another database must not touch an
/// unrelated order that happens to have the same id.
pub const MOVE_STATUS: &str = "UPDATE orders SET status = ?, status_changed_at = ?, payment_status = COALESCE(?, payment_status) WHERE id = ? AND order_no = ? AND status = ?";

pub const HOLD: &str = "UPDATE orders SET hold_reason = 'risk', held_at = ? WHERE id = ?";

pub fn upsert_view(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => {
            "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE status = VALUES(status), observed_at = VALUES(observed_at)"
        }
        Dialect::Postgres | Dialect::Sqlite => {
            "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?) ON CONFLICT (order_id, system) DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at"
        }
    }
}

/// Logistics scans arrive out of order; a view only moves forward.
pub const LOGISTICS_IN_TRANSIT: &str = "UPDATE order_views SET status = 'in_transit', observed_at = ? WHERE order_id = ? AND system = 'logistics' AND status = 'pending' AND order_id IN (SELECT id FROM orders WHERE order_no = ?)";
pub const LOGISTICS_DELIVERED: &str = "UPDATE order_views SET status = 'delivered', observed_at = ? WHERE order_id = ? AND system = 'logistics' AND status IN ('pending', 'in_transit') AND order_id IN (SELECT id FROM orders WHERE order_no = ?)";

/// Stocks a SKU unless it is stocked already (earlier runs keep their stock).
pub fn stock_sku(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => {
            "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE sku = sku"
        }
        Dialect::Postgres | Dialect::Sqlite => {
            "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, 0) ON CONFLICT (sku) DO NOTHING"
        }
    }
}

/// The SKU's stock row, locked until the transaction ends (SQLite locks the
/// whole database on the first write instead).
pub fn stock_for_update(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "SELECT on_hand, reserved FROM inventory WHERE sku = ?",
        Dialect::Postgres | Dialect::MySql => {
            "SELECT on_hand, reserved FROM inventory WHERE sku = ? FOR UPDATE"
        }
    }
}

pub const RESERVE: &str = "UPDATE inventory SET reserved = reserved + ? WHERE sku = ?";
pub const RESTOCK: &str = "UPDATE inventory SET on_hand = on_hand + ? WHERE sku = ?";
/// Shipping takes the goods: on hand and reserved both drop, never below 0.
pub const TAKE_STOCK: &str = "UPDATE inventory SET on_hand = CASE WHEN on_hand > ? THEN on_hand - ? ELSE 0 END, reserved = CASE WHEN reserved > ? THEN reserved - ? ELSE 0 END WHERE sku = ?";

pub const INSERT_LOCK: &str = "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at) VALUES (?, ?, ?, TRUE, ?, ?)";
pub const RELEASE_LOCK: &str = "UPDATE inventory_locks SET is_locked = FALSE WHERE order_id = ? AND is_locked = TRUE AND order_id IN (SELECT id FROM orders WHERE order_no = ?)";

/// The held locks of a SKU, newest first (what the deadlock holder locks).
pub const HELD_LOCKS_OF_SKU: &str =
    "SELECT id FROM inventory_locks WHERE sku = ? AND is_locked = TRUE ORDER BY id DESC LIMIT 200";
/// One lock row by primary key, locked: a record lock only, no gap locks.
pub const LOCK_ROW_FOR_UPDATE: &str = "SELECT id FROM inventory_locks WHERE id = ? FOR UPDATE";

/// An `order_events` row.
pub struct Event<'a> {
    pub order_id: i64,
    pub at: DateTime<Utc>,
    pub source: &'static str,
    pub kind: &'static str,
    pub status: &'a str,
    pub detail: String,
}

impl Event<'_> {
    fn vals(&self) -> [Val; 7] {
        [
            self.order_id.into(),
            self.at.into(),
            self.source.into(),
            self.kind.into(),
            self.status.into(),
            self.detail.clone().into(),
            Val::OptText(None),
        ]
    }
}

/// Small writes inside a transaction.
impl Tx {
    pub async fn event(&mut self, e: Event<'_>) -> Result<(), sqlx::Error> {
        self.exec(INSERT_EVENT, &e.vals()).await.map(|_| ())
    }

    pub async fn view(
        &mut self,
        d: Dialect,
        order_id: i64,
        system: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        self.exec(
            upsert_view(d),
            &[order_id.into(), system.into(), status.into(), at.into()],
        )
        .await
        .map(|_| ())
    }

    /// `from` → `to` (and the payment status when given); false when the
    /// order was not in `from` (or is not the order numbered `order_no`).
    pub async fn move_status(
        &mut self,
        order_id: i64,
        order_no: &str,
        from: &str,
        to: &str,
        payment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let n = self
            .exec(
                MOVE_STATUS,
                &[
                    to.into(),
                    at.into(),
                    payment.into(),
                    order_id.into(),
                    order_no.into(),
                    from.into(),
                ],
            )
            .await?;
        Ok(n > 0)
    }
}

/// Writes one event outside any transaction (e.g. after a rollback, to say
/// why), if the order numbered `order_no` exists.
pub async fn event_alone(
    db: &super::db::Db,
    order_no: &str,
    e: Event<'_>,
) -> Result<(), sqlx::Error> {
    let vals = [
        e.at.into(),
        e.source.into(),
        e.kind.into(),
        e.status.into(),
        e.detail.clone().into(),
        e.order_id.into(),
        order_no.into(),
    ];
    db.exec(INSERT_EVENT_IF_ORDER, &vals).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `?` inside a quoted literal would be numbered as a placeholder too
    /// (`numbered_placeholders` does not parse SQL): none may be there.
    #[test]
    fn no_statement_has_a_question_mark_inside_a_literal() {
        let mut all = vec![
            INSERT_ORDER,
            INSERT_EVENT,
            INSERT_EVENT_IF_ORDER,
            MOVE_STATUS,
            HOLD,
            LOGISTICS_IN_TRANSIT,
            LOGISTICS_DELIVERED,
            RESERVE,
            RESTOCK,
            TAKE_STOCK,
            INSERT_LOCK,
            RELEASE_LOCK,
            HELD_LOCKS_OF_SKU,
            LOCK_ROW_FOR_UPDATE,
        ];
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            all.extend([upsert_view(d), stock_sku(d), stock_for_update(d)]);
        }
        for sql in all {
            let quoted = sql.split('\'').skip(1).step_by(2);
            assert!(quoted.clone().all(|lit| !lit.contains('?')), "{sql}");
        }
    }
}
