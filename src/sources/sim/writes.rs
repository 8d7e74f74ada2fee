//! The simulator's database writes, collected per step and applied in one
//! transaction (SQLite has one writer; the cockpit reads through WAL).
//!
//! Status changes are guarded by the status the simulator expects, so an
//! order changed by someone else (a remediation) is left alone and dropped
//! from the simulation. Events and views are only written for orders that
//! still exist.
//!
//! Ops are grouped by kind and written with multi-row statements (SQLite
//! pays per statement, not per row). Only `?` placeholders are generated
//! into the SQL text; every value is bound.

use crate::sources::SourceError;
use crate::sources::sqlite::time::format_timestamp;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, AssertSqlSafe, Row, Sqlite, SqlitePool, Transaction};
use std::collections::BTreeMap;

pub use super::ops::{Batch, NewOrder, Op};

/// A one-line simulator error with context.
pub(super) fn err(what: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::new(format!(
        "simulator: {what}: {}",
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

/// Most bound values in one statement (SQLite allows 32766).
const MAX_PARAMS: usize = 30_000;
/// Most rows in one statement.
const MAX_ROWS: usize = 500;

/// `(?, ?, ?), (?, ?, ?)`: `rows` tuples of `width` placeholders.
fn tuples(rows: usize, width: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    vec![one; rows].join(", ")
}

fn rows_per_statement(width: usize) -> usize {
    (MAX_PARAMS / width).clamp(1, MAX_ROWS)
}

/// A multi-row statement: `head`, then `width`-wide VALUES tuples, then `tail`.
struct Multi {
    what: &'static str,
    width: usize,
    head: &'static str,
    tail: &'static str,
    /// The SQL ends in `RETURNING id`: collect the ids.
    returning: bool,
}

/// Runs `m` for `rows` in chunks; `bind` adds one row's values. Returns the
/// ids from `RETURNING`, if the statement has one.
async fn multi<T>(
    tx: &mut Transaction<'static, Sqlite>,
    m: Multi,
    rows: &[T],
    bind: impl Fn(&mut SqliteArguments, &T) -> Result<(), sqlx::error::BoxDynError>,
) -> Result<Vec<i64>, SourceError> {
    let Multi {
        what,
        width,
        head,
        tail,
        returning,
    } = m;
    let mut ids = Vec::new();
    for chunk in rows.chunks(rows_per_statement(width)) {
        let sql = format!("{head} {} {tail}", tuples(chunk.len(), width));
        let mut args = SqliteArguments::default();
        for row in chunk {
            bind(&mut args, row).map_err(|e| err(what, e))?;
        }
        let query = sqlx::query_with(AssertSqlSafe(sql), args).persistent(false);
        if returning {
            for row in query.fetch_all(&mut **tx).await.map_err(|e| err(what, e))? {
                ids.push(row.try_get::<i64, _>(0).map_err(|e| err(what, e))?);
            }
        } else {
            query.execute(&mut **tx).await.map_err(|e| err(what, e))?;
        }
    }
    Ok(ids)
}

/// One order's consecutive status changes, collapsed: `from` → `to`.
#[derive(Debug, Clone)]
struct Change {
    id: i64,
    from: &'static str,
    to: &'static str,
    payment: Option<&'static str>,
    at: DateTime<Utc>,
}

/// Collapses chains (`a→b`, `b→c` becomes `a→c`) and splits what cannot be
/// chained into rounds, so each statement touches an order at most once.
fn rounds(ops: &[Op]) -> Vec<Vec<Change>> {
    let mut per_order: BTreeMap<i64, Vec<Change>> = BTreeMap::new();
    let mut first_seen: Vec<i64> = Vec::new();
    for op in ops {
        if let Op::Status {
            id,
            from,
            to,
            payment,
            at,
        } = op
        {
            let chains = per_order.entry(*id).or_insert_with(|| {
                first_seen.push(*id);
                Vec::new()
            });
            match chains.last_mut() {
                Some(last) if last.to == *from => {
                    last.to = to;
                    last.at = *at;
                    if payment.is_some() {
                        last.payment = *payment;
                    }
                }
                _ => chains.push(Change {
                    id: *id,
                    from,
                    to,
                    payment: *payment,
                    at: *at,
                }),
            }
        }
    }
    let mut out: Vec<Vec<Change>> = Vec::new();
    for id in first_seen {
        for (round, change) in per_order
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if out.len() <= round {
                out.push(Vec::new());
            }
            out[round].push(change);
        }
    }
    out
}

/// Applies `batch` in one transaction. Returns the ids of orders whose
/// guarded status change found them in another status.
pub async fn apply(pool: &SqlitePool, batch: &Batch) -> Result<Vec<i64>, SourceError> {
    let mut rejected = Vec::new();
    if batch.is_empty() {
        return Ok(rejected);
    }
    let mut orders = Vec::new();
    let mut holds = Vec::new();
    let mut events = Vec::new();
    let mut views: Vec<(i64, &'static str, &'static str, DateTime<Utc>)> = Vec::new();
    let mut view_at: BTreeMap<(i64, &'static str), usize> = BTreeMap::new();
    let mut locks = Vec::new();
    let mut unlocks: Vec<i64> = Vec::new();
    let mut stock: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for op in &batch.ops {
        match op {
            Op::Order(o) => orders.push(o),
            Op::Status { .. } => {}
            Op::Hold { id, reason, at } => holds.push((*id, *reason, *at)),
            Op::Event { .. } => events.push(op),
            Op::View {
                order_id,
                system,
                status,
                at,
            } => {
                // The last view per (order, system) wins.
                match view_at.get(&(*order_id, *system)) {
                    Some(&i) => views[i] = (*order_id, *system, *status, *at),
                    None => {
                        view_at.insert((*order_id, *system), views.len());
                        views.push((*order_id, *system, *status, *at));
                    }
                }
            }
            Op::Lock { .. } => locks.push(op),
            Op::Unlock { order_id } => unlocks.push(*order_id),
            Op::Stock {
                sku,
                on_hand,
                reserved,
            } => {
                stock.insert(sku.as_str(), (*on_hand, *reserved));
            }
        }
    }
    let mut tx = pool.begin().await.map_err(|e| err("begin", e))?;
    multi(
        &mut tx,
        Multi {
            what: "inserting orders",
            width: 13,
            head: "INSERT INTO orders (id, order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
             status, payment_status, hold_reason, held_at, created_at, status_changed_at) VALUES",
            tail: "",
            returning: false,
        },
        &orders,
        |a, o| {
            a.add(o.id)?;
            a.add(o.order_no.clone())?;
            a.add(o.buyer_id)?;
            a.add(o.supplier_id)?;
            a.add(o.sku.clone())?;
            a.add(o.quantity)?;
            a.add(o.amount_cents)?;
            a.add(o.status)?;
            a.add(o.payment_status)?;
            a.add(o.hold_reason.clone())?;
            a.add(o.held_at.map(format_timestamp))?;
            a.add(format_timestamp(o.created_at))?;
            a.add(format_timestamp(o.status_changed_at))
        },
    )
    .await?;
    for round in rounds(&batch.ops) {
        let done = multi(
            &mut tx,
            Multi {
                what: "updating order statuses",
                width: 5,
                head: "UPDATE orders SET status = v.column3, status_changed_at = v.column4,
                 payment_status = COALESCE(v.column5, orders.payment_status)
             FROM (VALUES",
                tail: ") AS v WHERE orders.id = v.column1 AND orders.status = v.column2 RETURNING orders.id",
                returning: true,
            },
            &round,
            |a, c| {
                a.add(c.id)?;
                a.add(c.from)?;
                a.add(c.to)?;
                a.add(format_timestamp(c.at))?;
                a.add(c.payment)
            },
        )
        .await?;
        for c in &round {
            if !done.contains(&c.id) && !rejected.contains(&c.id) {
                rejected.push(c.id);
            }
        }
    }
    for (id, reason, at) in holds {
        sqlx::query("UPDATE orders SET hold_reason = ?, held_at = ? WHERE id = ?")
            .bind(reason)
            .bind(at.map(format_timestamp))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| err("updating a hold", e))?;
    }
    multi(
        &mut tx,
        Multi {
            what: "inserting events",
            width: 7,
            head: "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail, payload)
         SELECT column1, column2, column3, column4, column5, column6, column7 FROM (VALUES",
            tail: ") AS v WHERE EXISTS (SELECT 1 FROM orders WHERE orders.id = v.column1)",
            returning: false,
        },
        &events,
        |a, op| {
            if let Op::Event {
                order_id,
                at,
                source,
                kind,
                status,
                detail,
                payload,
            } = op
            {
                a.add(*order_id)?;
                a.add(format_timestamp(*at))?;
                a.add(*source)?;
                a.add(*kind)?;
                a.add(*status)?;
                a.add(detail.clone())?;
                a.add(payload.clone())?;
            }
            Ok(())
        },
    )
    .await?;
    multi(
        &mut tx,
        Multi {
            what: "writing order views",
            width: 4,
            head: "INSERT INTO order_views (order_id, system, status, observed_at)
         SELECT column1, column2, column3, column4 FROM (VALUES",
            tail: ") AS v WHERE EXISTS (SELECT 1 FROM orders WHERE orders.id = v.column1)
         ON CONFLICT (order_id, system)
         DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at",
            returning: false,
        },
        &views,
        |a, (id, system, status, at)| {
            a.add(*id)?;
            a.add(*system)?;
            a.add(*status)?;
            a.add(format_timestamp(*at))
        },
    )
    .await?;
    multi(
        &mut tx,
        Multi {
            what: "inserting inventory locks",
            width: 5,
            head: "INSERT INTO inventory_locks (order_id, sku, quantity, locked_at, expires_at) VALUES",
            tail: "",
            returning: false,
        },
        &locks,
        |a, op| {
            if let Op::Lock {
                order_id,
                sku,
                quantity,
                at,
                expires,
            } = op
            {
                a.add(*order_id)?;
                a.add(sku.clone())?;
                a.add(*quantity)?;
                a.add(format_timestamp(*at))?;
                a.add(format_timestamp(*expires))?;
            }
            Ok(())
        },
    )
    .await?;
    multi(
        &mut tx,
        Multi {
            what: "releasing inventory locks",
            width: 1,
            head: "UPDATE inventory_locks SET is_locked = 0
         WHERE is_locked = 1 AND order_id IN (SELECT column1 FROM (VALUES",
            tail: "))",
            returning: false,
        },
        &unlocks,
        |a, id| a.add(*id),
    )
    .await?;
    let stock: Vec<_> = stock.into_iter().collect();
    multi(
        &mut tx,
        Multi {
            what: "writing inventory",
            width: 3,
            head: "INSERT INTO inventory (sku, on_hand, reserved) VALUES",
            tail: "ON CONFLICT (sku) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved",
            returning: false,
        },
        &stock,
        |a, (sku, (on_hand, reserved))| {
            a.add(sku.to_string())?;
            a.add(*on_hand)?;
            a.add(*reserved)
        },
    )
    .await?;
    tx.commit().await.map_err(|e| err("commit", e))?;
    Ok(rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn chained_status_changes_collapse_and_breaks_make_rounds() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let mut b = Batch::default();
        b.status(1, "created", "pending_review", None, t);
        b.status(2, "paid", "inventory_locked", None, t);
        b.status(1, "pending_review", "paid", Some("paid"), t);
        b.status(1, "cancelled", "refunded", None, t);
        let r = rounds(&b.ops);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0][0].id, r[0][0].from, r[0][0].to, r[0][0].payment),
            (1, "created", "paid", Some("paid"))
        );
        assert_eq!((r[0][1].id, r[0][1].to), (2, "inventory_locked"));
        assert_eq!((r[1][0].id, r[1][0].from), (1, "cancelled"));
        assert_eq!(tuples(2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
