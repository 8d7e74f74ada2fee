//! Chaos that runs beside the shop: the `deadlock` drill's lock holder, and
//! when `consumer-down` stops and restarts its consumers.
//!
//! (`bank-500`, `erp-cert-expired` and `risk-false-positive` act inside the
//! shop's handlers, where their causes are.)

use super::db::Db;
use super::sql;
use super::stats::Stats;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The holder's cycle: the stock row is held long enough that a sync
/// arriving early in it runs out of tries (paid, never synced) while later
/// ones get through on a retry; then the SKU's inventory locks are held,
/// each as soon as it appears, so lock releases time out; then nothing is
/// held for a while, so the queues can catch up.
const HOLD_STOCK: Duration = Duration::from_secs(8);
const HOLD_LOCKS: Duration = Duration::from_secs(3);
const PAUSE: Duration = Duration::from_secs(3);
/// How often the lock phase looks for new inventory locks to take.
const LOCK_SCAN: Duration = Duration::from_millis(20);

/// The `deadlock` drill: a stock-audit job that keeps the hot SKU's rows
/// locked in transactions it holds open, over and over. Inventory syncs of
/// that SKU time out waiting for its stock row (or deadlock) and are retried
/// or dead-lettered; lock releases time out and leave their locks held.
pub async fn hold_hot_rows(db: Db, sku: String, stats: Arc<Stats>, cancel: CancellationToken) {
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        let cycle = async {
            hold_stock_row(&db, &sku, &cancel).await?;
            hold_new_locks(&db, &sku, &cancel).await
        };
        match cycle.await {
            Ok(()) => {
                Stats::bump(&stats.hot_row_holds);
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(PAUSE) => {}
                }
            }
            Err(e) => {
                failures += 1;
                if super::error::worth_logging(failures) {
                    tracing::warn!(error = %e, failures, "simulate: the deadlock holder could not lock the hot rows");
                }
                // Do not spin on a database that refuses.
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

async fn hold_stock_row(db: &Db, sku: &str, cancel: &CancellationToken) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    tx.set_lock_wait().await?;
    tx.fetch_ints(sql::stock_for_update(db.kind()), &[sku.into()])
        .await?;
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(HOLD_STOCK) => {}
    }
    tx.rollback().await
}

async fn hold_new_locks(db: &Db, sku: &str, cancel: &CancellationToken) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    tx.set_lock_wait().await?;
    let until = tokio::time::Instant::now() + HOLD_LOCKS;
    let mut taken = std::collections::HashSet::new();
    while tokio::time::Instant::now() < until && !cancel.is_cancelled() {
        // Found outside the transaction (MySQL's snapshot would hide new
        // rows), then locked row by row on the primary key: record locks
        // only, no gap locks that would block every insert into
        // inventory_locks.
        for row in db.fetch_ints(sql::HELD_LOCKS_OF_SKU, &[sku.into()]).await? {
            if let Some(&id) = row.first()
                && taken.insert(id)
            {
                tx.fetch_ints(sql::LOCK_ROW_FOR_UPDATE, &[id.into()])
                    .await?;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(LOCK_SCAN) => {}
        }
    }
    tx.rollback().await
}

/// When `consumer-down` stops its consumers and brings them back, as
/// shares of the run: down from 15 % to 65 % of it.
pub fn outage_window(total: Duration) -> (Duration, Duration) {
    (total.mul_f64(0.15), total.mul_f64(0.65))
}

/// When `erp-cert-expired` lets the certificate expire: a third of the way
/// in, so the first orders still flow end to end.
pub fn erp_expiry(total: Duration) -> Duration {
    total / 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaos_windows_fall_inside_the_run() {
        let (down, up) = outage_window(Duration::from_secs(5));
        assert_eq!(down, Duration::from_millis(750));
        assert_eq!(up, Duration::from_millis(3250));
        assert_eq!(
            erp_expiry(Duration::from_secs(300)),
            Duration::from_secs(100)
        );
    }
}
