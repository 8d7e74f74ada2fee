//! The demo simulator on a real SQLite file, stepped on its own clock
//! (no sleeping): determinism, every anomaly family through the real store,
//! the logistics outage and dead letters on the broker, hostile fields,
//! bounded growth and prompt cancellation.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use orderdeck::model::{Family, QueueStat};
use orderdeck::sources::sim::{self, SimConfig, Simulator};
use orderdeck::sources::sqlite::SqliteStore;
use orderdeck::sources::{OrderStore, QueueMonitor};
use sqlx::SqlitePool;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn cfg(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        ..SimConfig::default()
    }
}

async fn world(dir: &TempDir, name: &str, seed: u64) -> (Simulator, SqlitePool, SqliteStore) {
    let pool = common::empty_pool(dir, name).await;
    let mut sim = Simulator::new(cfg(seed), start());
    sim.seed_history(&pool).await.expect("seed history");
    let store = SqliteStore::open(dir.path().join(name).to_str().unwrap(), false)
        .await
        .expect("open store");
    (sim, pool, store)
}

async fn run(sim: &mut Simulator, pool: &SqlitePool, steps: usize, each: Duration) {
    for _ in 0..steps {
        sim.step(pool, each).await.expect("step");
    }
}

type OrderRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
);

async fn dump(pool: &SqlitePool) -> (Vec<OrderRow>, i64, i64) {
    let orders = sqlx::query_as(
        "SELECT id, order_no, status, payment_status, sku, amount_cents, status_changed_at, hold_reason
         FROM orders ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let events = common::count(pool, "SELECT COUNT(*) FROM order_events").await;
    let views = common::count(pool, "SELECT COUNT(*) FROM order_views").await;
    (orders, events, views)
}

fn queue<'a>(stats: &'a [QueueStat], name: &str) -> &'a QueueStat {
    stats
        .iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no queue {name}"))
}

#[tokio::test]
async fn the_same_seed_gives_the_same_world() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, pa, _) = world(&dir, "a.db", 7).await;
    let (mut b, pb, _) = world(&dir, "b.db", 7).await;
    let (mut c, pc, _) = world(&dir, "c.db", 8).await;
    run(&mut a, &pa, 6, Duration::seconds(30)).await;
    // Different step sizes still land on the same sub-steps.
    run(&mut b, &pb, 3, Duration::seconds(60)).await;
    run(&mut c, &pc, 6, Duration::seconds(30)).await;
    let (da, db, dc) = (dump(&pa).await, dump(&pb).await, dump(&pc).await);
    assert!(da.0.len() > 300, "orders were created: {}", da.0.len());
    assert_eq!(da, db);
    assert_ne!(da.0, dc.0, "another seed, another world");
    let qa = a.broker().poll().await.unwrap();
    let qb = b.broker().poll().await.unwrap();
    assert_eq!(qa, qb);
    let _ = c.broker();
}

#[tokio::test]
async fn every_family_is_there_on_the_first_poll_and_more_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, pool, store) = world(&dir, "d.db", 42).await;
    let first = store.detect(sim.now()).await.unwrap();
    assert!(first.rule_errors.is_empty(), "{:?}", first.rule_errors);
    let count = |s: &orderdeck::model::DetectionSnapshot, f: Family| {
        s.orders.iter().filter(|o| o.family == f).count()
    };
    for f in Family::ALL {
        assert!(count(&first, f) >= 4, "{f}: {}", count(&first, f));
    }
    let total = first.orders.len();
    assert!(
        (25..=80).contains(&total),
        "a few dozen, not thousands: {total}"
    );
    // Every built-in rule has something to show.
    for rule in orderdeck::runbook::Runbook::builtin().rules {
        assert!(
            first.orders.iter().any(|o| o.rule_id == rule.id),
            "{} found nothing",
            rule.id
        );
    }
    // Planted orders cross their thresholds in the first minutes.
    run(&mut sim, &pool, 10, Duration::seconds(60)).await;
    let later = store.detect(sim.now()).await.unwrap();
    assert!(count(&later, Family::Zombie) > count(&first, Family::Zombie));
    assert!(count(&later, Family::Ghost) > count(&first, Family::Ghost));
    // Timelines of found orders load, with events and views.
    let some = &later.orders[0];
    let t = store
        .timeline(some.order_id)
        .await
        .unwrap()
        .expect("timeline");
    assert!(!t.events.is_empty());
    assert!(!t.views.is_empty());
}

#[tokio::test]
async fn orders_move_through_every_status() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, pool, _) = world(&dir, "s.db", 3).await;
    run(&mut sim, &pool, 8, Duration::seconds(150)).await;
    let statuses: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT status FROM orders ORDER BY status")
            .fetch_all(&pool)
            .await
            .unwrap();
    let statuses: Vec<&str> = statuses.iter().map(|(s,)| s.as_str()).collect();
    for s in [
        "cancelled",
        "created",
        "delivered",
        "inventory_locked",
        "paid",
        "pending_review",
        "processing",
        "refunded",
        "settled",
        "shipped",
    ] {
        assert!(statuses.contains(&s), "{s} missing from {statuses:?}");
    }
    let sources: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT source FROM order_events")
        .fetch_all(&pool)
        .await
        .unwrap();
    for s in [
        "app",
        "payment",
        "inventory",
        "fulfillment",
        "logistics",
        "supplier",
        "finance",
        "risk",
        "erp",
    ] {
        assert!(sources.iter().any(|(x,)| x == s), "no {s} events");
    }
    let held = common::count(
        &pool,
        "SELECT COUNT(*) FROM inventory_locks WHERE is_locked = 1",
    )
    .await;
    assert!(held > 0);
    let stock = common::count(&pool, "SELECT COUNT(*) FROM inventory WHERE reserved > 0").await;
    assert!(stock > 0);
    let no: Vec<(String,)> =
        sqlx::query_as("SELECT order_no FROM orders WHERE order_no LIKE 'CO2026112_-%' LIMIT 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(no.len(), 1);
}

#[tokio::test]
async fn the_logistics_consumer_goes_down_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, pool, store) = world(&dir, "q.db", 42).await;
    let broker = sim.broker();
    assert_eq!(QueueMonitor::describe(&broker), "simulated broker");
    let q0 = broker.poll().await.unwrap();
    assert_eq!(q0.queues.len(), 12);
    let lg0 = queue(&q0.queues, "logistics.updates").clone();
    assert_eq!(lg0.consumers, 0);
    assert!(
        lg0.ready > 1000,
        "a backlog on the first poll: {}",
        lg0.ready
    );
    let dead: u64 = q0
        .queues
        .iter()
        .filter(|q| q.is_dead_letter_queue())
        .map(|q| q.ready)
        .sum();
    assert!(dead > 0, "dead letters on the first poll");
    assert!(queue(&q0.queues, "settlement.dlq").ready > 0);

    run(&mut sim, &pool, 4, Duration::seconds(15)).await;
    let q1 = broker.poll().await.unwrap();
    let lg1 = queue(&q1.queues, "logistics.updates");
    assert_eq!(lg1.consumers, 0);
    assert!(
        lg1.ready > lg0.ready,
        "backlog grows: {} -> {}",
        lg0.ready,
        lg1.ready
    );
    assert!(lg1.publish_rate.unwrap_or(0.0) > 0.0);
    assert_eq!(q1.as_of, sim.now());
    let split_before = store
        .detect(sim.now())
        .await
        .unwrap()
        .orders
        .iter()
        .filter(|o| o.rule_id == "split.delivered_vs_in_transit")
        .count();

    // The consumer is back after 90 s and drains the backlog.
    run(&mut sim, &pool, 12, Duration::seconds(60)).await;
    let q2 = broker.poll().await.unwrap();
    let lg2 = queue(&q2.queues, "logistics.updates");
    assert!(lg2.consumers > 0);
    assert!(
        lg2.ready < lg1.ready,
        "backlog drains: {} -> {}",
        lg1.ready,
        lg2.ready
    );
    assert!(lg2.deliver_rate.unwrap_or(0.0) > 0.0);
    let split_after = store
        .detect(sim.now())
        .await
        .unwrap()
        .orders
        .iter()
        .filter(|o| o.rule_id == "split.delivered_vs_in_transit")
        .count();
    assert!(
        split_after < split_before,
        "resynced after the backlog drained: {split_before} -> {split_after}"
    );
    // Still stuck: the ones whose update is in the dead-letter queue.
    assert!(split_after > 0);
    assert!(queue(&q2.queues, "logistics.updates.dlq").ready > 0);
}

#[tokio::test]
async fn hostile_fields_are_seeded_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, pool, store) = world(&dir, "h.db", 1).await;
    let esc: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, sku FROM orders WHERE instr(sku, char(27)) > 0")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!esc.is_empty(), "an ESC in a SKU");
    let osc = common::count(
        &pool,
        "SELECT COUNT(*) FROM order_events WHERE instr(detail, char(27) || ']0;') > 0",
    )
    .await;
    assert!(osc > 0, "an OSC title sequence");
    let c1 = common::count(
        &pool,
        "SELECT COUNT(*) FROM order_events WHERE instr(detail, char(155)) > 0",
    )
    .await;
    assert!(c1 > 0, "a C1 CSI");
    let bidi = common::count(
        &pool,
        "SELECT COUNT(*) FROM orders WHERE instr(sku, char(8238)) > 0",
    )
    .await;
    assert!(bidi > 0, "a bidi override");
    let huge = common::count(
        &pool,
        "SELECT COUNT(*) FROM order_events WHERE length(detail) >= 100000",
    )
    .await;
    assert!(huge > 0, "a 100 KB field");
    let cjk = common::count(&pool, "SELECT COUNT(*) FROM orders WHERE sku LIKE '%茶叶%'").await;
    assert!(cjk > 0, "CJK text");
    // They reach the stuck-order list, where the cockpit must sanitise them.
    let snap = store.detect(start()).await.unwrap();
    assert!(snap.orders.iter().any(|o| o.sku.contains('\u{1b}')));
    assert!(snap.orders.iter().any(|o| o.sku.contains('\u{202e}')));
    assert!(snap.orders.iter().any(|o| o.order_no.contains('\u{7}')));
}

#[tokio::test]
async fn pruning_bounds_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let pool = common::empty_pool(&dir, "p.db").await;
    let mut sim = Simulator::new(cfg(5), start()).with_retention(60);
    sim.seed_history(&pool).await.unwrap();
    let finished = |pool: SqlitePool| async move {
        common::count(
            &pool,
            "SELECT COUNT(*) FROM orders o WHERE status IN ('settled', 'refunded', 'cancelled')
               AND NOT EXISTS (SELECT 1 FROM inventory_locks l WHERE l.order_id = o.id AND l.is_locked = 1)",
        )
        .await
    };
    assert!(
        finished(pool.clone()).await > 60,
        "the history alone is over the bound"
    );
    let mut most_orders = 0;
    for _ in 0..6 {
        sim.step(&pool, Duration::minutes(5)).await.unwrap();
        assert!(finished(pool.clone()).await <= 60);
        let orders = common::count(&pool, "SELECT COUNT(*) FROM orders").await;
        most_orders = most_orders.max(orders);
    }
    // Pruned orders take their events, views and locks with them.
    let orphans = common::count(&pool, "SELECT (SELECT COUNT(*) FROM order_events WHERE order_id NOT IN (SELECT id FROM orders))
              + (SELECT COUNT(*) FROM order_views WHERE order_id NOT IN (SELECT id FROM orders))
              + (SELECT COUNT(*) FROM inventory_locks WHERE order_id NOT IN (SELECT id FROM orders))").await;
    assert_eq!(orphans, 0);
    // What stays is the pipeline in flight and the stuck orders.
    assert!(
        most_orders < 60 + sim.live_orders() as i64 + 200,
        "{most_orders}"
    );
}

#[tokio::test]
async fn a_reused_database_continues_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, pool, _) = world(&dir, "r.db", 9).await;
    run(&mut sim, &pool, 2, Duration::seconds(30)).await;
    let before = common::count(&pool, "SELECT COUNT(*) FROM orders").await;
    let mut again = Simulator::new(cfg(9), start() + Duration::minutes(5));
    again
        .seed_history(&pool)
        .await
        .expect("seeding a used database");
    again
        .step(&pool, Duration::seconds(30))
        .await
        .expect("stepping on");
    let after = common::count(&pool, "SELECT COUNT(*) FROM orders").await;
    assert!(after > before);
}

#[tokio::test]
async fn start_runs_on_its_own_clock_and_stops_when_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let pool = common::empty_pool(&dir, "live.db").await;
    let cancel = CancellationToken::new();
    let cfg = SimConfig {
        speed: 60.0,
        ..SimConfig::default()
    };
    let before = Utc::now();
    let (broker, clock, task) = sim::start(pool.clone(), cfg, cancel.clone()).await.unwrap();
    // The clock runs 60x the real one: the simulated time between two
    // readings lies within 60x the real time bracketing them, however long
    // a loaded machine takes between them (no window of the wall clock).
    let outer0 = std::time::Instant::now();
    let t0 = clock();
    let inner0 = std::time::Instant::now();
    assert!(t0 >= before && t0 - before < Duration::minutes(10));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let inner1 = std::time::Instant::now();
    let t1 = clock();
    let outer1 = std::time::Instant::now();
    let sim_ms = (t1 - t0).num_milliseconds();
    let (least, most) = (
        (inner1 - inner0).as_millis() as i64 * 60,
        (outer1 - outer0).as_millis() as i64 * 60 + 60,
    );
    assert!(
        least <= sim_ms && sim_ms <= most,
        "runs 60x faster: {sim_ms} ms simulated, want {least}..={most}"
    );
    // The task warms up, then steps on the clock and writes new orders.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE created_at > ?")
            .bind(orderdeck::sources::sqlite::time::format_timestamp(t0))
            .fetch_one(&pool)
            .await
            .unwrap();
        if n > 0 && broker.poll().await.unwrap().as_of > t0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the simulation never moved"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cancel.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(30), task)
        .await
        .expect("stops once cancelled")
        .expect("no panic");
}

#[tokio::test]
async fn requeued_dead_letters_move_planted_orders_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sim, pool, _) = world(&dir, "rq.db", 42).await;
    let planted_pending = |pool: SqlitePool| async move {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM orders WHERE status = 'pending_review' AND created_at < ?",
        )
        .bind(orderdeck::sources::sqlite::time::format_timestamp(
            start() - Duration::minutes(10),
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        n
    };
    let before = planted_pending(pool.clone()).await;
    let broker = sim.broker();
    assert_eq!(
        broker.requeue_dead_letters("payment.callback.dlq").unwrap(),
        3
    );
    assert!(broker.requeue_dead_letters("no.such.queue").is_err());
    let q = broker.poll().await.unwrap();
    assert_eq!(queue(&q.queues, "payment.callback.dlq").ready, 0);
    run(&mut sim, &pool, 2, Duration::seconds(30)).await;
    assert_eq!(planted_pending(pool.clone()).await, before - 3);
}
