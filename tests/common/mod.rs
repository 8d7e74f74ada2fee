//! Shared helpers: a real SQLite file in a temporary directory, a fixed
//! `now`, and plain-SQL inserts into the reference schema.
#![allow(dead_code)]

pub mod proxy;
pub mod pty;
pub mod remedy_world;
pub mod scratch;
pub mod world;

use chrono::{DateTime, Duration, TimeZone, Utc};
use orderdeck::sources::sqlite::SqliteStore;
use sqlx::SqlitePool;
use tempfile::TempDir;

/// A migrated store on a fresh file; keep the `TempDir` alive.
pub async fn store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"), true)
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    (store, dir)
}

/// The single number a `SELECT COUNT(*) ...` with no parameters returns.
pub async fn count(pool: &SqlitePool, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n
}

/// An unmigrated pool on a fresh file.
pub async fn empty_pool(dir: &TempDir, name: &str) -> SqlitePool {
    let path = dir.path().join(name);
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"), true)
        .await
        .expect("open");
    store.pool().clone()
}

/// The fixed "now" of the rule tests.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

/// `now` minus `minutes`, as the schema's text.
pub fn ago(minutes: i64) -> String {
    (now() - Duration::minutes(minutes))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Inserts an order by plain SQL; returns its id.
pub async fn order(
    pool: &SqlitePool,
    order_no: &str,
    status: &str,
    payment_status: &str,
    changed: &str,
) -> i64 {
    sqlx::query(
        "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
            status, payment_status, created_at, status_changed_at)
         VALUES (?, 100001, 1001, 'SKU-TEA-0042', 1, 12800, ?, ?, ?, ?)",
    )
    .bind(order_no)
    .bind(status)
    .bind(payment_status)
    .bind(changed)
    .bind(changed)
    .execute(pool)
    .await
    .expect("insert order")
    .last_insert_rowid()
}

pub async fn event(
    pool: &SqlitePool,
    order_id: i64,
    at: &str,
    source: &str,
    kind: &str,
    status: &str,
    detail: &str,
) {
    sqlx::query(
        "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(order_id)
    .bind(at)
    .bind(source)
    .bind(kind)
    .bind(status)
    .bind(detail)
    .execute(pool)
    .await
    .expect("insert event");
}

pub async fn view(pool: &SqlitePool, order_id: i64, system: &str, status: &str, at: &str) {
    sqlx::query(
        "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (order_id, system) DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at",
    )
    .bind(order_id)
    .bind(system)
    .bind(status)
    .bind(at)
    .execute(pool)
    .await
    .expect("insert view");
}

pub async fn lock(pool: &SqlitePool, order_id: i64, held: bool, locked_at: &str, expires_at: &str) {
    sqlx::query(
        "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
         VALUES (?, 'SKU-TEA-0042', 1, ?, ?, ?)",
    )
    .bind(order_id)
    .bind(held as i64)
    .bind(locked_at)
    .bind(expires_at)
    .execute(pool)
    .await
    .expect("insert lock");
}

pub async fn hold(pool: &SqlitePool, order_id: i64, reason: &str, at: &str) {
    sqlx::query("UPDATE orders SET hold_reason = ?, held_at = ? WHERE id = ?")
        .bind(reason)
        .bind(at)
        .bind(order_id)
        .execute(pool)
        .await
        .expect("hold");
}

/// A runbook whose one detection rule writes: `UPDATE … RETURNING` shaped
/// like a detection row. `Runbook::parse` refuses such SQL (as `config
/// check` does), so the rule is swapped in after parsing, the way a store
/// could still be handed one; detection must then fail and change nothing.
pub fn runbook_with_a_writing_rule() -> orderdeck::runbook::Runbook {
    let mut runbook = orderdeck::runbook::Runbook::parse(
        r#"
[[rule]]
id = "zombie.writes"
family = "zombie"
title = "Placeholder"
sql = "SELECT 1 AS order_id"
"#,
        "ok.toml",
    )
    .expect("placeholder runbook parses");
    runbook.rules[0].sql = "UPDATE orders SET amount_cents = 1 WHERE id > 0 \
        RETURNING id AS order_id, order_no, status, status_changed_at AS since, sku, \
        supplier_id, amount_cents, '' AS detail"
        .into();
    runbook
}
