//! Bounded growth: finished orders beyond the newest `keep` are deleted with
//! their events, views and locks, so a demo left running for hours stays
//! small. Stuck orders are never finished, so they stay.

use crate::sources::SourceError;
use sqlx::SqlitePool;

/// Deletes finished orders beyond the newest `keep`; returns how many.
pub async fn prune(pool: &SqlitePool, keep: u32) -> Result<u64, SourceError> {
    let err = |what: &str, e: sqlx::Error| {
        SourceError::new(format!(
            "simulator: pruning {what}: {}",
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    };
    let keep = i64::from(keep);
    let mut tx = pool.begin().await.map_err(|e| err("(begin)", e))?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY)")
        .execute(&mut *tx)
        .await
        .map_err(|e| err("(temp table)", e))?;
    sqlx::query("DELETE FROM prune_ids")
        .execute(&mut *tx)
        .await
        .map_err(|e| err("(temp table)", e))?;
    let pick = sqlx::query(
        "INSERT INTO prune_ids (id) SELECT o.id FROM orders o
         WHERE o.status IN ('settled', 'refunded', 'cancelled')
           AND NOT EXISTS (SELECT 1 FROM inventory_locks l WHERE l.order_id = o.id AND l.is_locked = 1)
         ORDER BY o.id DESC LIMIT -1 OFFSET ?",
    )
    .bind(keep)
    .execute(&mut *tx)
    .await
    .map_err(|e| err("orders", e))?;
    let n = pick.rows_affected();
    if n > 0 {
        for (what, sql) in [
            (
                "order_events",
                "DELETE FROM order_events WHERE order_id IN (SELECT id FROM prune_ids)",
            ),
            (
                "order_views",
                "DELETE FROM order_views WHERE order_id IN (SELECT id FROM prune_ids)",
            ),
            (
                "inventory_locks",
                "DELETE FROM inventory_locks WHERE order_id IN (SELECT id FROM prune_ids)",
            ),
            (
                "orders",
                "DELETE FROM orders WHERE id IN (SELECT id FROM prune_ids)",
            ),
        ] {
            sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| err(what, e))?;
        }
    }
    tx.commit().await.map_err(|e| err("(commit)", e))?;
    Ok(n)
}
