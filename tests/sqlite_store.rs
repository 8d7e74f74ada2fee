//! The SQLite order store on a real file: migrations, every built-in rule
//! against orders planted by plain SQL, rule failures, row limits,
//! timelines and order-number lookups.

mod common;

use common::{ago, event, now, order, view, world};
use orderdeck::runbook::Runbook;
use orderdeck::sources::OrderStore;
use orderdeck::sources::sqlite::SqliteStore;
use std::collections::BTreeMap;

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

#[tokio::test]
async fn each_builtin_rule_finds_exactly_its_planted_orders() {
    let (store, _dir) = common::store().await;
    let db = world::Db::Sqlite(store.pool().clone());
    let want = world::plant(&db).await;
    world::assert_builtin_rules(&store, &want).await;
}

#[tokio::test]
async fn a_failing_rule_is_reported_and_the_others_still_run() {
    let (store, _dir) = common::store().await;
    world::plant(&world::Db::Sqlite(store.pool().clone())).await;
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
    // The newest is past the limit; its amount tells it apart.
    sqlx::query("UPDATE orders SET amount_cents = 100 WHERE order_no = 'PR-0'")
        .execute(store.pool())
        .await
        .unwrap();
    let limited = store.clone().with_row_limit(3);
    let snap = limited.detect(now()).await.unwrap();
    assert_eq!(snap.truncated_rules, ["ghost.pending_review"]);
    assert_eq!(snap.orders.len(), 3);
    // Oldest first, so the worst cases survive truncation.
    assert_eq!(snap.orders[0].order_no, "PR-4");
    // The two past the limit are counted, with their money.
    assert_eq!(
        snap.beyond_limit,
        [orderdeck::model::BeyondLimit {
            rule_id: "ghost.pending_review".into(),
            family: orderdeck::model::Family::Ghost,
            orders: 2,
            amount_cents: 12_800 + 100,
        }]
    );
    let exact = store.clone().with_row_limit(5).detect(now()).await.unwrap();
    assert!(exact.truncated_rules.is_empty());
    assert!(exact.beyond_limit.is_empty());
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
