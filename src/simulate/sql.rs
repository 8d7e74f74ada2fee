//! The statements the simulated shop runs, written once with `?`
//! placeholders (numbered for PostgreSQL by [`db`](super::db)); only the
//! upserts and row locks differ per dialect.

use super::db::{Db, Tx, Val};
use super::message::Msg;
use crate::sources::store::DbKind;
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

pub fn upsert_view(d: DbKind) -> &'static str {
    match d {
        DbKind::Mysql => {
            "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE status = VALUES(status), observed_at = VALUES(observed_at)"
        }
        DbKind::Postgres | DbKind::Sqlite => {
            "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?) ON CONFLICT (order_id, system) DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at"
        }
    }
}

/// Logistics scans arrive out of order; a view only moves forward.
pub const LOGISTICS_IN_TRANSIT: &str = "UPDATE order_views SET status = 'in_transit', observed_at = ? WHERE order_id = ? AND system = 'logistics' AND status = 'pending' AND order_id IN (SELECT id FROM orders WHERE order_no = ?)";
pub const LOGISTICS_DELIVERED: &str = "UPDATE order_views SET status = 'delivered', observed_at = ? WHERE order_id = ? AND system = 'logistics' AND status IN ('pending', 'in_transit') AND order_id IN (SELECT id FROM orders WHERE order_no = ?)";

/// Stocks a SKU unless it is stocked already (earlier runs keep their stock).
pub fn stock_sku(d: DbKind) -> &'static str {
    match d {
        DbKind::Mysql => {
            "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE sku = sku"
        }
        DbKind::Postgres | DbKind::Sqlite => {
            "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, 0) ON CONFLICT (sku) DO NOTHING"
        }
    }
}

/// The SKU's stock row, locked until the transaction ends (SQLite locks the
/// whole database on the first write instead).
pub fn stock_for_update(d: DbKind) -> &'static str {
    match d {
        DbKind::Sqlite => "SELECT on_hand, reserved FROM inventory WHERE sku = ?",
        DbKind::Postgres | DbKind::Mysql => {
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

/// Whose a write is and when it happened: one order, named by id and by
/// number, at one moment on that order's clock.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub order_id: i64,
    pub order_no: &'a str,
    pub at: DateTime<Utc>,
}

impl<'a> Stamp<'a> {
    /// The message's order, now on its clock.
    pub fn of(m: &'a Msg) -> Self {
        Stamp {
            order_id: m.order_id,
            order_no: &m.order_no,
            at: m.now(),
        }
    }

    /// Writes one event outside any transaction (e.g. after a rollback, to
    /// say why), if the order numbered `order_no` exists.
    pub async fn event_alone(
        self,
        db: &Db,
        source: &str,
        kind: &str,
        status: &str,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        let vals = [
            self.at.into(),
            source.into(),
            kind.into(),
            status.into(),
            detail.into(),
            self.order_id.into(),
            self.order_no.into(),
        ];
        db.exec(INSERT_EVENT_IF_ORDER, &vals).await.map(|_| ())
    }
}

/// Why a step stopped short of its commit; the transaction rolls back.
#[derive(Debug)]
pub enum Halt {
    /// The order is not where the step expects it (someone else moved it,
    /// a duplicate delivery, or an order of another database).
    Stale,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Halt {
    fn from(e: sqlx::Error) -> Self {
        Halt::Db(e)
    }
}

/// One step's transaction on one order: its events and views are stamped
/// alike, and the app's view follows the status the step moved it to.
pub struct OrderTx<'a> {
    tx: Tx,
    dialect: DbKind,
    stamp: Stamp<'a>,
    moved_to: Option<&'a str>,
}

impl<'a> OrderTx<'a> {
    pub async fn begin(db: &Db, stamp: Stamp<'a>) -> Result<Self, sqlx::Error> {
        Ok(OrderTx::new(db.begin().await?, db.kind(), stamp))
    }

    /// Goes on in `tx` (e.g. the transaction that inserted the order).
    pub fn new(tx: Tx, dialect: DbKind, stamp: Stamp<'a>) -> Self {
        OrderTx {
            tx,
            dialect,
            stamp,
            moved_to: None,
        }
    }

    pub fn stamp(&self) -> Stamp<'a> {
        self.stamp
    }

    /// The transaction itself, for statements that are not about the order.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Moves the order `from` → `to` (and the payment status when given);
    /// [`Halt::Stale`] when it is not in `from` or not numbered as stamped.
    pub async fn advance(
        &mut self,
        from: &str,
        to: &'a str,
        payment: Option<&str>,
    ) -> Result<(), Halt> {
        let s = self.stamp;
        let vals = [
            to.into(),
            s.at.into(),
            payment.into(),
            s.order_id.into(),
            s.order_no.into(),
            from.into(),
        ];
        if self.tx.exec(MOVE_STATUS, &vals).await? == 0 {
            return Err(Halt::Stale);
        }
        self.moved_to = Some(to);
        Ok(())
    }

    pub async fn event(
        &mut self,
        source: &str,
        kind: &str,
        status: &str,
        detail: impl Into<String>,
    ) -> Result<(), sqlx::Error> {
        let s = self.stamp;
        let vals = [
            s.order_id.into(),
            s.at.into(),
            source.into(),
            kind.into(),
            status.into(),
            detail.into().into(),
            Val::OptText(None),
        ];
        self.tx.exec(INSERT_EVENT, &vals).await.map(|_| ())
    }

    /// What `system` reports for the order.
    pub async fn view(&mut self, system: &str, status: &str) -> Result<(), sqlx::Error> {
        let s = self.stamp;
        let vals = [s.order_id.into(), system.into(), status.into(), s.at.into()];
        self.tx
            .exec(upsert_view(self.dialect), &vals)
            .await
            .map(|_| ())
    }

    /// Commits, the app's view showing the status the order was moved to.
    /// Written last, as the app learns of a step once it is done: an
    /// upsert's row locks are then held the shortest time.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Some(to) = self.moved_to {
            self.view("app", to).await?;
        }
        self.tx.commit().await
    }
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
        for d in [DbKind::Postgres, DbKind::Mysql, DbKind::Sqlite] {
            all.extend([upsert_view(d), stock_sku(d), stock_for_update(d)]);
        }
        for sql in all {
            let quoted = sql.split('\'').skip(1).step_by(2);
            assert!(quoted.clone().all(|lit| !lit.contains('?')), "{sql}");
        }
    }
}
