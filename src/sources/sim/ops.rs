//! The simulator's database writes as data: what one step wants written,
//! in order, before [`writes::apply`](super::writes::apply) turns it into SQL.

use chrono::{DateTime, Utc};

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

    /// The app's record of a buyer cancelling an order already paid for.
    pub fn buyer_cancelled(&mut self, order_id: i64, at: DateTime<Utc>) {
        self.event(
            order_id,
            at,
            "app",
            "order_cancelled",
            "cancelled",
            "buyer cancelled after paying",
        );
    }

    /// The payment system's record of money going back to the buyer.
    pub fn refund(&mut self, order_id: i64, at: DateTime<Utc>, amount_cents: i64) {
        self.event(
            order_id,
            at,
            "payment",
            "refund_issued",
            "refunded",
            format!("refunded {}", super::catalog::yuan(amount_cents)),
        );
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
