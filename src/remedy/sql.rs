//! Remediation SQL on any of the three databases: the check, the guarded
//! transaction, the `ops` timeline events and the audit table.

use super::audit::AuditRecord;
use super::spec::{HEAL_PARAMS, REMEDY_PARAMS, Remediation};
use super::template::{Cell, Row};
use crate::runbook::rewrite_lists;
use crate::sources::sql::{Backend, BoundQuery, one_line, own_statement};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Column, Executor, IntoArguments, Pool, Row as _};
use std::future::Future;

/// Orders per statement when noting an event on many timelines.
const NOTE_CHUNK: usize = 1000;

/// Values a remediation statement is run with.
#[derive(Debug, Clone)]
pub struct Bindings<'a> {
    pub order_ids: &'a [i64],
    pub now: DateTime<Utc>,
    pub cutoff: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

/// A statement as it will be sent: dialect SQL and each placeholder's value
/// in order, as the preview shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub sql: String,
    pub params: Vec<(String, String)>,
}

/// Rewrites `sql` for `DB` with `:order_ids` expanded to the list's length.
pub fn prepare<DB: Backend>(
    sql: &str,
    allowed: &[&str],
    b: &Bindings<'_>,
) -> Result<Prepared, String> {
    let bound = rewrite_lists(
        sql,
        DB::DIALECT,
        allowed,
        &[("order_ids", b.order_ids.len())],
    )
    .map_err(|e| e.to_string())?;
    let mut list_at = 0usize;
    let mut params = Vec::with_capacity(bound.params.len());
    for name in bound.params {
        let value = match name.as_str() {
            "order_ids" => {
                let id = b
                    .order_ids
                    .get(list_at % b.order_ids.len().max(1))
                    .copied()
                    .unwrap_or(0);
                list_at += 1;
                id.to_string()
            }
            "now" => b.now.to_rfc3339(),
            "cutoff" => b
                .cutoff
                .ok_or("parameter :cutoff has no value here")?
                .to_rfc3339(),
            "limit" => b
                .limit
                .ok_or("parameter :limit has no value here")?
                .to_string(),
            other => return Err(format!("parameter :{other} has no value here")),
        };
        params.push((name, value));
    }
    Ok(Prepared {
        sql: bound.sql,
        params,
    })
}

/// The sqlx query for a prepared statement: every value bound with its type.
fn query<'q, DB: Backend>(p: &'q Prepared, b: &Bindings<'_>) -> BoundQuery<'q, DB> {
    let mut q = sqlx::query::<DB>(AssertSqlSafe(p.sql.clone()));
    for (name, value) in &p.params {
        q = match name.as_str() {
            "order_ids" | "limit" => DB::bind_int(q, value.parse().unwrap_or(0)),
            "now" => DB::bind_time(q, b.now),
            "cutoff" => DB::bind_time(q, b.cutoff.unwrap_or(b.now)),
            _ => DB::bind_text(q, value.clone()),
        };
    }
    q
}

/// Every column of a row the user's SQL returned, loosely typed.
pub fn decode_row<DB: Backend>(row: &DB::Row) -> Result<Row, String>
where
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
{
    let mut out = Row::new();
    for col in row.columns() {
        let name = col.name();
        let cell = if crate::sources::sql::is_null(row, name)? {
            Cell::Null
        } else if let Ok(Some(i)) = DB::opt_int(row, name) {
            Cell::Int(i)
        } else if let Ok(Some(t)) = DB::opt_text(row, name) {
            Cell::Text(t)
        } else if let Ok(t) = DB::time(row, name) {
            Cell::Text(t.to_rfc3339())
        } else {
            return Err(format!("column {name}: not a number, text or time"));
        };
        out.insert(name.to_string(), cell);
    }
    Ok(out)
}

fn order_id_of(row: &Row) -> Result<i64, String> {
    match row.get("order_id") {
        Some(Cell::Int(i)) => Ok(*i),
        Some(Cell::Text(t)) => t
            .trim()
            .parse()
            .map_err(|_| format!("order_id {t:?} is not a number")),
        _ => Err("the check returned no order_id column".into()),
    }
}

/// Why a remediation did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyError {
    /// The guard tripped: the transaction was rolled back.
    Guard(String),
    /// The database or the broker failed: rolled back (or never started).
    Failed(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Guard(m) | ApplyError::Failed(m) => f.write_str(m),
        }
    }
}

/// What one committed transaction changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The orders fixed (their check rows, as they were inside the transaction).
    pub orders: Vec<Row>,
    /// Rows changed per step.
    pub step_rows: Vec<u64>,
    pub messages: usize,
}

/// The edge that sends a remediation's messages; called inside the
/// transaction, which commits only when it returns `Ok` (all confirmed).
pub trait Sender: Sync {
    fn send<'a>(
        &'a self,
        orders: &'a [Row],
    ) -> impl Future<Output = Result<usize, String>> + Send + 'a;
}

pub struct Store<'p, DB: sqlx::Database> {
    pub pool: &'p Pool<DB>,
}

impl<DB: Backend> Store<'_, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
{
    /// The orders among `ids` that still need `rem`.
    pub async fn check(
        &self,
        rem: &Remediation,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<Row>, String> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let b = Bindings {
            order_ids: ids,
            now,
            cutoff: None,
            limit: None,
        };
        let p = prepare::<DB>(&rem.check, REMEDY_PARAMS, &b)?;
        let rows = query::<DB>(&p, &b)
            .fetch_all(self.pool)
            .await
            .map_err(|e| format!("{} check: {}", rem.id, one_line(&e.to_string())))?;
        rows.iter()
            .map(|r| decode_row::<DB>(r).map_err(|e| format!("{} check: {e}", rem.id)))
            .collect()
    }

    /// Heal candidates: order ids from the heal spec's SELECT.
    pub async fn ids(
        &self,
        sql: &str,
        allowed: &[&str],
        b: &Bindings<'_>,
    ) -> Result<Vec<i64>, String> {
        let p = prepare::<DB>(sql, allowed, b)?;
        let rows = query::<DB>(&p, b)
            .fetch_all(self.pool)
            .await
            .map_err(|e| one_line(&e.to_string()))?;
        rows.iter()
            .map(|r| decode_row::<DB>(r).and_then(|row| order_id_of(&row)))
            .collect()
    }

    pub async fn heal_candidates(
        &self,
        sql: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, String> {
        let b = Bindings {
            order_ids: &[],
            now,
            cutoff: Some(cutoff),
            limit: Some(limit),
        };
        self.ids(sql, HEAL_PARAMS, &b)
            .await
            .map_err(|e| format!("heal candidates: {e}"))
    }

    /// Runs `rem` on `ids` in one transaction: re-checks inside it, runs each
    /// step under its guard, writes the `ops` events, lets `send` publish
    /// (with confirms), then commits. Any failure rolls everything back.
    pub async fn apply<S>(
        &self,
        rem: &Remediation,
        ids: &[i64],
        now: DateTime<Utc>,
        detail: &str,
        send: &S,
    ) -> Result<Applied, ApplyError>
    where
        S: Sender,
    {
        let fail = |what: &str, e: sqlx::Error| {
            ApplyError::Failed(format!(
                "{} {what}: {}; rolled back",
                rem.id,
                one_line(&e.to_string())
            ))
        };
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| fail("could not start a transaction", e))?;
        let b = Bindings {
            order_ids: ids,
            now,
            cutoff: None,
            limit: None,
        };
        let p = prepare::<DB>(&rem.check, REMEDY_PARAMS, &b).map_err(ApplyError::Failed)?;
        let rows = query::<DB>(&p, &b)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| fail("check", e))?;
        let orders = rows
            .iter()
            .map(decode_row::<DB>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApplyError::Failed)?;
        if orders.len() > ids.len() {
            return Err(ApplyError::Guard(format!(
                "{}: the check found {} orders for {} asked; rolled back",
                rem.id,
                orders.len(),
                ids.len()
            )));
        }
        if orders.is_empty() {
            return Ok(Applied::default());
        }
        let fixed: Vec<i64> = orders
            .iter()
            .map(order_id_of)
            .collect::<Result<_, _>>()
            .map_err(ApplyError::Failed)?;
        let b = Bindings {
            order_ids: &fixed,
            ..b
        };
        let mut step_rows = Vec::with_capacity(rem.steps.len());
        for (n, step) in rem.steps.iter().enumerate() {
            let p = prepare::<DB>(&step.sql, REMEDY_PARAMS, &b).map_err(ApplyError::Failed)?;
            let done = query::<DB>(&p, &b)
                .execute(&mut *tx)
                .await
                .map_err(|e| fail(&format!("step {}", n + 1), e))?;
            let changed = DB::rows_affected(&done);
            let most = step.max_rows_per_order.saturating_mul(fixed.len() as u64);
            if changed > most {
                // Dropping `tx` rolls back; say so explicitly anyway.
                let _ = tx.rollback().await;
                return Err(ApplyError::Guard(format!(
                    "{} step {} would change {changed} rows, more than the {most} previewed \
                     ({} per order); rolled back, nothing changed",
                    rem.id,
                    n + 1,
                    step.max_rows_per_order
                )));
            }
            step_rows.push(changed);
        }
        insert_events::<DB>(&mut tx, &fixed, now, &rem.event_kind, detail)
            .await
            .map_err(|e| fail("writing the ops events", e))?;
        let messages = match send.send(&orders).await {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(ApplyError::Failed(format!(
                    "{}: publishing failed ({e}); rolled back, nothing changed",
                    rem.id
                )));
            }
        };
        tx.commit().await.map_err(|e| {
            ApplyError::Failed(format!(
                "{}: commit failed ({}) after {messages} message(s) were confirmed; \
                 re-running sends the same message ids",
                rem.id,
                one_line(&e.to_string())
            ))
        })?;
        Ok(Applied {
            orders,
            step_rows,
            messages,
        })
    }

    /// An `ops` event for an attempt that changed nothing (refused, failed,
    /// dry run), outside any transaction.
    pub async fn note_event(
        &self,
        order_ids: &[i64],
        now: DateTime<Utc>,
        kind: &str,
        detail: &str,
    ) -> Result<(), String> {
        if order_ids.is_empty() {
            return Ok(());
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| one_line(&e.to_string()))?;
        // One statement per chunk: a failed heal notes every order it
        // meant to fix, and PostgreSQL takes at most 65,535 parameters.
        for chunk in order_ids.chunks(NOTE_CHUNK) {
            insert_events::<DB>(&mut conn, chunk, now, kind, detail)
                .await
                .map_err(|e| one_line(&e.to_string()))?;
        }
        Ok(())
    }

    pub async fn insert_audit(&self, r: &AuditRecord) -> Result<(), String> {
        let sql = own_statement::<DB>(
            "INSERT INTO remediation_audit (occurred_at, os_user, host, environment, action, \
             target, parameters, statement, affected, outcome, error, duration_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let q = sqlx::query::<DB>(AssertSqlSafe(sql));
        let q = DB::bind_time(q, r.occurred_at);
        let q = DB::bind_text(q, r.os_user.clone());
        let q = DB::bind_text(q, r.host.clone());
        let q = DB::bind_text(q, r.environment.clone());
        let q = DB::bind_text(q, r.action.clone());
        let q = DB::bind_text(q, r.target.clone());
        let q = DB::bind_text(q, r.parameters.to_string());
        let q = DB::bind_text(q, r.statement.clone());
        let q = DB::bind_int(q, r.affected as i64);
        let q = DB::bind_text(q, r.outcome.as_str().to_string());
        let q = DB::bind_opt_text(q, r.error.clone());
        let q = DB::bind_int(q, r.duration_ms as i64);
        q.execute(self.pool)
            .await
            .map(|_| ())
            .map_err(|e| one_line(&e.to_string()))
    }

    /// Audit rows since `since`, oldest first.
    pub async fn list_audit(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, String> {
        let sql = own_statement::<DB>(
            "SELECT id, occurred_at, os_user, host, environment, action, target, parameters, \
             statement, affected, outcome, error, duration_ms FROM remediation_audit \
             WHERE occurred_at >= ? ORDER BY occurred_at, id",
        );
        let q = DB::bind_time(sqlx::query::<DB>(AssertSqlSafe(sql)), since);
        let rows = q
            .fetch_all(self.pool)
            .await
            .map_err(|e| one_line(&e.to_string()))?;
        rows.iter().map(audit_row::<DB>).collect()
    }
}

fn audit_row<DB: Backend>(row: &DB::Row) -> Result<AuditRecord, String> {
    let text = |c: &str| DB::text(row, c);
    Ok(AuditRecord {
        id: Some(DB::int(row, "id")?),
        occurred_at: DB::time(row, "occurred_at")?,
        os_user: text("os_user")?,
        host: text("host")?,
        environment: text("environment")?,
        action: text("action")?,
        target: text("target")?,
        parameters: DB::opt_text(row, "parameters")?
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or(serde_json::Value::Null),
        statement: text("statement")?,
        affected: DB::opt_int(row, "affected")?.unwrap_or(0).max(0) as u64,
        outcome: text("outcome")?.parse().unwrap_or_default(),
        error: DB::opt_text(row, "error")?,
        duration_ms: DB::opt_int(row, "duration_ms")?.unwrap_or(0).max(0) as u64,
    })
}

/// One `ops` event per order, in one statement.
async fn insert_events<DB: Backend>(
    conn: &mut DB::Connection,
    ids: &[i64],
    now: DateTime<Utc>,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    let list = vec!["?"; ids.len()].join(", ");
    let sql = own_statement::<DB>(&format!(
        "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail) \
         SELECT id, ?, 'ops', ?, status, ? FROM orders WHERE id IN ({list})"
    ));
    let mut q = sqlx::query::<DB>(AssertSqlSafe(sql));
    q = DB::bind_time(q, now);
    q = DB::bind_text(q, kind.to_string());
    q = DB::bind_text(q, detail.to_string());
    for id in ids {
        q = DB::bind_int(q, *id);
    }
    q.execute(&mut *conn).await.map(|_| ())
}
