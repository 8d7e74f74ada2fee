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

/// How long the holder keeps the hot rows locked, and the gap between holds
/// in which some inventory syncs get through (so retries sometimes work).
const HOLD: Duration = Duration::from_secs(4);
const GAP: Duration = Duration::from_secs(1);

/// The `deadlock` drill: a "stock audit" job that locks the hot SKU's stock
/// row and its held inventory locks in a transaction it keeps open, over and
/// over. Inventory syncs of that SKU then time out waiting for the row (or
/// deadlock), and lock releases time out and leave their locks held.
pub async fn hold_hot_rows(db: Db, sku: String, stats: Arc<Stats>, cancel: CancellationToken) {
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        match hold_once(&db, &sku, &cancel).await {
            Ok(()) => Stats::bump(&stats.hot_row_holds),
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(error = %e, failures, "simulate: the deadlock holder could not lock the hot rows");
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(GAP) => {}
        }
    }
}

async fn hold_once(db: &Db, sku: &str, cancel: &CancellationToken) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    tx.set_lock_wait().await?;
    tx.fetch_ints(sql::stock_for_update(db.dialect()), &[sku.into()])
        .await?;
    // Row by row on the primary key: MySQL takes record locks only, no gap
    // locks that would block every insert into inventory_locks.
    let held = tx.fetch_ints(sql::HELD_LOCKS_OF_SKU, &[sku.into()]).await?;
    for row in held {
        if let Some(&id) = row.first() {
            tx.fetch_ints(sql::LOCK_ROW_FOR_UPDATE, &[id.into()])
                .await?;
        }
    }
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(HOLD) => {}
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
