//! The SQLite order store on a real file: migrations, every built-in rule
//! against orders planted by plain SQL, rule failures, row limits,
//! timelines and order-number lookups.

mod common;

use common::{ago, event, hold, lock, now, order, view};
use orderdeck::model::Family;
use orderdeck::runbook::Runbook;
use orderdeck::sources::OrderStore;
use orderdeck::sources::sqlite::SqliteStore;
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test]
async fn migrating_twice_is_idempotent() {
    let (store, _dir) = common::store().await;
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _orderdeck_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, 1);
    for table in [
        "orders",
        "inventory",
        "inventory_locks",
        "order_events",
        "order_views",
        "remediation_audit",
    ] {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(table)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(n, 1, "{table}");
    }
}

#[tokio::test]
async fn the_schema_enforces_the_vocabularies() {
    let (store, _dir) = common::store().await;
    let bad = sqlx::query(
        "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents, status,
            payment_status, created_at, status_changed_at)
         VALUES ('X', 1, 1, 'S', 1, 1, 'lost', 'unpaid', '2026-11-25 10:00:00', '2026-11-25 10:00:00')",
    )
    .execute(store.pool())
    .await;
    assert!(bad.is_err(), "status outside the vocabulary was accepted");
    let id = order(store.pool(), "CO1", "created", "unpaid", &ago(1)).await;
    let dup = sqlx::query("INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, 'app', 'x', '2026-11-25 10:00:00'), (?, 'app', 'y', '2026-11-25 10:00:00')")
        .bind(id)
        .bind(id)
        .execute(store.pool())
        .await;
    assert!(dup.is_err(), "order_views is unique per (order_id, system)");
}

#[tokio::test]
async fn open_accepts_urls_and_paths_and_refuses_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let p = path.to_str().unwrap();
    let missing = SqliteStore::open(p, false).await.unwrap_err();
    assert!(missing.0.contains("does not exist"), "{missing}");
    assert!(!missing.0.contains('\n'));
    let store = SqliteStore::open(&format!("sqlite://{p}"), true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.describe(), "sqlite a.db");
    drop(store);
    let again = SqliteStore::open(&format!("sqlite:{p}"), false)
        .await
        .unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let missing_url =
        SqliteStore::open(&format!("sqlite://{}/nope.db", dir.path().display()), false)
            .await
            .unwrap_err();
    assert!(missing_url.0.contains("nope.db"), "{missing_url}");
}

/// Plants, for every built-in rule, orders that must match and orders
/// that must not; returns the expected order ids per rule.
async fn plant(pool: &sqlx::SqlitePool) -> BTreeMap<&'static str, BTreeSet<i64>> {
    let mut want: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
    let mut hit = |rule: &'static str, id: i64| {
        want.entry(rule).or_default().insert(id);
    };

    // ghost.pending_review: 30 min.
    let a = order(pool, "PR-OLD", "pending_review", "unpaid", &ago(45)).await;
    hit("ghost.pending_review", a);
    let b = order(
        pool,
        "PR-PAID-AT-GATEWAY",
        "pending_review",
        "paid",
        &ago(200),
    )
    .await;
    hit("ghost.pending_review", b);
    order(pool, "PR-FRESH", "pending_review", "unpaid", &ago(10)).await;
    let held = order(pool, "PR-HELD", "pending_review", "unpaid", &ago(45)).await;
    hold(pool, held, "manual", &ago(45)).await;

    // ghost.paid_no_inventory_sync: 15 min.
    let c = order(pool, "PAID-NOSYNC", "paid", "paid", &ago(20)).await;
    event(pool, c, &ago(20), "payment", "payment_callback", "paid", "").await;
    event(pool, c, &ago(19), "inventory", "lock_conflict", "paid", "").await;
    hit("ghost.paid_no_inventory_sync", c);
    let synced = order(pool, "PAID-SYNCED", "paid", "paid", &ago(20)).await;
    event(
        pool,
        synced,
        &ago(19),
        "inventory",
        "inventory_synced",
        "inventory_locked",
        "",
    )
    .await;
    order(pool, "PAID-FRESH", "paid", "paid", &ago(5)).await;

    // ghost.lock_expired_held: 10 min after expiry.
    let d = order(pool, "LOCK-LEAK", "cancelled", "refunded", &ago(40)).await;
    lock(pool, d, true, &ago(50), &ago(35)).await;
    lock(pool, d, true, &ago(45), &ago(20)).await;
    hit("ghost.lock_expired_held", d);
    let recent = order(pool, "LOCK-RECENT", "inventory_locked", "paid", &ago(20)).await;
    lock(pool, recent, true, &ago(20), &ago(5)).await;
    let released = order(pool, "LOCK-RELEASED", "processing", "paid", &ago(60)).await;
    lock(pool, released, false, &ago(80), &ago(65)).await;

    // split.delivered_vs_in_transit: 15 min.
    let e = order(pool, "SPLIT-TRANSIT", "delivered", "paid", &ago(30)).await;
    view(pool, e, "app", "delivered", &ago(30)).await;
    view(pool, e, "logistics", "in_transit", &ago(300)).await;
    hit("split.delivered_vs_in_transit", e);
    let agree = order(pool, "SPLIT-AGREE", "delivered", "paid", &ago(30)).await;
    view(pool, agree, "app", "delivered", &ago(30)).await;
    view(pool, agree, "logistics", "delivered", &ago(29)).await;
    let young = order(pool, "SPLIT-YOUNG", "delivered", "paid", &ago(5)).await;
    view(pool, young, "app", "delivered", &ago(5)).await;
    view(pool, young, "logistics", "in_transit", &ago(300)).await;

    // split.settled_vs_unpaid: 30 min.
    let f = order(pool, "SETTLED-UNPAID", "delivered", "paid", &ago(40)).await;
    view(pool, f, "supplier", "settled", &ago(40)).await;
    view(pool, f, "finance", "unpaid", &ago(300)).await;
    hit("split.settled_vs_unpaid", f);
    let g = order(pool, "SETTLED-NO-FINANCE", "delivered", "paid", &ago(90)).await;
    view(pool, g, "supplier", "settled", &ago(90)).await;
    hit("split.settled_vs_unpaid", g);
    let paid = order(pool, "SETTLED-RECEIVED", "settled", "paid", &ago(90)).await;
    view(pool, paid, "supplier", "settled", &ago(90)).await;
    view(pool, paid, "finance", "received", &ago(90)).await;
    let soon = order(pool, "SETTLED-SOON", "delivered", "paid", &ago(10)).await;
    view(pool, soon, "supplier", "settled", &ago(10)).await;
    view(pool, soon, "finance", "unpaid", &ago(300)).await;

    // zombie.processing_24h.
    let h = order(pool, "ZOMBIE-25H", "processing", "paid", &ago(25 * 60)).await;
    view(pool, h, "erp", "failed", &ago(25 * 60)).await;
    hit("zombie.processing_24h", h);
    order(pool, "PROCESSING-23H", "processing", "paid", &ago(23 * 60)).await;

    // zombie.risk_hold: 2 h.
    let i = order(pool, "RISK-3H", "processing", "paid", &ago(30 * 60)).await;
    hold(pool, i, "risk", &ago(180)).await;
    hit("zombie.risk_hold", i);
    let fresh_hold = order(pool, "RISK-1H", "processing", "paid", &ago(60)).await;
    hold(pool, fresh_hold, "risk", &ago(60)).await;
    let shipped = order(pool, "RISK-SHIPPED", "shipped", "paid", &ago(300)).await;
    hold(pool, shipped, "risk", &ago(300)).await;
    let manual = order(pool, "MANUAL-HOLD", "processing", "paid", &ago(300)).await;
    hold(pool, manual, "manual", &ago(300)).await;

    // A healthy order that went all the way.
    let ok = order(pool, "HEALTHY", "settled", "paid", &ago(600)).await;
    view(pool, ok, "app", "settled", &ago(600)).await;
    view(pool, ok, "logistics", "delivered", &ago(700)).await;
    view(pool, ok, "supplier", "settled", &ago(600)).await;
    view(pool, ok, "finance", "received", &ago(600)).await;
    want
}

#[tokio::test]
async fn each_builtin_rule_finds_exactly_its_planted_orders() {
    let (store, _dir) = common::store().await;
    let want = plant(store.pool()).await;
    let snap = store.detect(now()).await.unwrap();
    assert!(snap.rule_errors.is_empty(), "{:?}", snap.rule_errors);
    assert!(snap.truncated_rules.is_empty());
    assert_eq!(snap.as_of, now());
    let mut got: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for o in &snap.orders {
        got.entry(o.rule_id.as_str())
            .or_default()
            .insert(o.order_id);
    }
    let builtin = Runbook::builtin();
    for rule in &builtin.rules {
        assert_eq!(
            got.get(rule.id.as_str()),
            want.get(rule.id.as_str()),
            "rule {}",
            rule.id
        );
    }
    assert_eq!(got.len(), builtin.rules.len());
    // Families, details and `since` come through.
    let zombie = snap
        .orders
        .iter()
        .find(|o| o.order_no == "ZOMBIE-25H")
        .unwrap();
    assert_eq!(zombie.family, Family::Zombie);
    assert_eq!(zombie.detail, "erp=failed");
    assert_eq!(zombie.since, now() - chrono::Duration::hours(25));
    assert_eq!(zombie.amount_cents, 12800);
    assert_eq!(zombie.supplier_id, 1001);
    let lock = snap
        .orders
        .iter()
        .find(|o| o.order_no == "LOCK-LEAK")
        .unwrap();
    assert_eq!(
        lock.since,
        now() - chrono::Duration::minutes(35),
        "the first expiry"
    );
    assert_eq!(lock.detail, "lock still held after cancel");
}

#[tokio::test]
async fn a_failing_rule_is_reported_and_the_others_still_run() {
    let (store, _dir) = common::store().await;
    plant(store.pool()).await;
    let user = Runbook::parse(
        r#"
[[rule]]
id = "ghost.broken"
family = "ghost"
title = "Broken on purpose"
sql = "SELECT nope FROM no_such_table WHERE x < :now LIMIT :limit"

[[rule]]
id = "ghost.bad_time"
family = "ghost"
title = "Unparseable since"
sql = """
SELECT id AS order_id, order_no, status, 'last tuesday' AS since, sku, supplier_id,
       amount_cents, 'x' AS detail FROM orders LIMIT :limit
"""
"#,
        "test.toml",
    )
    .unwrap();
    let store = store.with_runbook(Runbook::builtin().merge(user));
    let snap = store.detect(now()).await.unwrap();
    let errors: BTreeMap<_, _> = snap
        .rule_errors
        .iter()
        .map(|e| (e.rule_id.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors["ghost.broken"].contains("no_such_table"),
        "{errors:?}"
    );
    assert!(errors["ghost.bad_time"].contains("since"), "{errors:?}");
    assert!(
        errors["ghost.bad_time"].contains("ghost.bad_time"),
        "{errors:?}"
    );
    for m in errors.values() {
        assert!(!m.contains('\n'), "{m}");
    }
    assert!(
        snap.orders
            .iter()
            .any(|o| o.rule_id == "zombie.processing_24h")
    );
    assert!(snap.orders.len() >= 9);
}

#[tokio::test]
async fn a_rule_reaching_the_row_limit_is_truncated() {
    let (store, _dir) = common::store().await;
    for i in 0..5 {
        order(
            store.pool(),
            &format!("PR-{i}"),
            "pending_review",
            "unpaid",
            &ago(60 + i),
        )
        .await;
    }
    let limited = store.clone().with_row_limit(3);
    let snap = limited.detect(now()).await.unwrap();
    assert_eq!(snap.truncated_rules, ["ghost.pending_review"]);
    assert_eq!(snap.orders.len(), 3);
    // Oldest first, so the worst cases survive truncation.
    assert_eq!(snap.orders[0].order_no, "PR-4");
    let exact = store.clone().with_row_limit(5).detect(now()).await.unwrap();
    assert!(exact.truncated_rules.is_empty());
    assert_eq!(exact.orders.len(), 5);
}

#[tokio::test]
async fn disabled_rules_do_not_run() {
    let (store, _dir) = common::store().await;
    order(store.pool(), "PR", "pending_review", "unpaid", &ago(60)).await;
    let mut rb = Runbook::builtin();
    for r in &mut rb.rules {
        r.enabled = r.id != "ghost.pending_review";
    }
    let snap = store.with_runbook(rb).detect(now()).await.unwrap();
    assert!(snap.orders.is_empty());
}

#[tokio::test]
async fn timeline_orders_events_by_time_then_id_and_lists_views() {
    let (store, _dir) = common::store().await;
    let pool = store.pool();
    let id = order(pool, "CO20261125-000001", "delivered", "paid", &ago(30)).await;
    event(
        pool,
        id,
        "2026-11-25 11:00:00",
        "app",
        "second",
        "created",
        "",
    )
    .await;
    event(
        pool,
        id,
        "2026-11-25 10:00:00.5",
        "app",
        "first",
        "created",
        "",
    )
    .await;
    event(
        pool,
        id,
        "2026-11-25 11:00:00",
        "app",
        "third",
        "created",
        "",
    )
    .await;
    event(
        pool,
        id,
        "2026-11-25T11:30:00Z",
        "logistics",
        "fourth",
        "in_transit",
        "scan",
    )
    .await;
    let other = order(pool, "OTHER", "created", "unpaid", &ago(1)).await;
    event(
        pool,
        other,
        "2026-11-25 09:00:00",
        "app",
        "not_mine",
        "created",
        "",
    )
    .await;
    view(pool, id, "logistics", "in_transit", "2026-11-25 11:30:00").await;
    view(pool, id, "app", "delivered", "2026-11-25 11:31:00").await;

    let t = store.timeline(id).await.unwrap().expect("timeline");
    assert_eq!(t.order.order_no, "CO20261125-000001");
    assert_eq!(t.order.status, "delivered");
    assert_eq!(t.order.payment_status, "paid");
    assert_eq!(t.order.quantity, 1);
    let kinds: Vec<_> = t.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["first", "second", "third", "fourth"]);
    assert_eq!(t.events[3].source, "logistics");
    assert_eq!(t.events[3].detail, "scan");
    let views: Vec<_> = t
        .views
        .iter()
        .map(|v| (v.system.as_str(), v.status.as_str()))
        .collect();
    assert_eq!(views, [("app", "delivered"), ("logistics", "in_transit")]);
    assert!(store.timeline(999_999).await.unwrap().is_none());
}

#[tokio::test]
async fn an_unparseable_event_time_is_an_error_not_a_panic() {
    let (store, _dir) = common::store().await;
    let id = order(store.pool(), "BAD-TIME", "created", "unpaid", &ago(1)).await;
    event(
        store.pool(),
        id,
        "half past nine",
        "app",
        "x",
        "created",
        "",
    )
    .await;
    let err = store.timeline(id).await.unwrap_err();
    assert!(err.0.contains("occurred_at"), "{err}");
    assert!(err.0.contains(&format!("order {id}")), "{err}");
}

#[tokio::test]
async fn find_order_id_binds_the_order_number() {
    let (store, _dir) = common::store().await;
    let id = order(
        store.pool(),
        "CO20261125-000123",
        "created",
        "unpaid",
        &ago(1),
    )
    .await;
    assert_eq!(
        store.find_order_id("CO20261125-000123").await.unwrap(),
        Some(id)
    );
    assert_eq!(
        store.find_order_id(" CO20261125-000123 ").await.unwrap(),
        Some(id)
    );
    assert_eq!(
        store
            .find_order_id("'; DROP TABLE orders; --")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.find_order_id("' OR '1'='1").await.unwrap(), None);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "orders is still there");
}
