//! Remediation throughput against the real servers (DESIGN section 9):
//!
//! * **heal**: `orderdeck heal` (preview + execute, the same engine the
//!   `H` key uses) over 100,000 zombie orders in PostgreSQL, publishing its
//!   retries and apologies to RabbitMQ with confirms; budget ≥ 1,000
//!   orders/s and ≥ 10x a loop that sends one autocommitted `UPDATE` per
//!   order, measured in the same run on the same data. The heal runs twice
//!   with RabbitMQ: one batch at a time (the schedule before batches
//!   overlapped, `Schedule::SEQUENTIAL`) and overlapped (the default on
//!   PostgreSQL), so their ratio comes from one run on one machine load.
//! * **requeue**: 20,000 dead letters moved back with confirms and acks;
//!   budget ≥ 2,000 messages/s and ≥ 50% of a plain lapin publish loop with
//!   confirms (same message count and size, same window of 500) in the same
//!   run.
//!
//! Needs PostgreSQL (`ORDERDECK_BENCH_PG_URL`, default
//! postgres://postgres@127.0.0.1:5432/test) and RabbitMQ
//! (`ORDERDECK_TEST_AMQP_URL`, default amqp://guest:guest@127.0.0.1:5672/%2f).
//! A missing server fails the bench (exit 1, one line saying which): a
//! bench that measured nothing must not pass. The heal works in
//! its own schema, `orderdeck_bench_heal`, rebuilt for every run, and
//! publishes into the reference topology in a vhost of its own,
//! `orderdeck-bench` (made with `rabbitmqctl`), purged afterwards.
//!
//! Run: `cargo bench --bench remedy` (about two minutes).

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use orderdeck::config::mask_secrets;
use orderdeck::remedy::audit::{Actor, AuditLog, Outcome};
use orderdeck::remedy::broker::{AmqpBroker, Broker, RequeueRequest};
use orderdeck::remedy::pipeline::Schedule;
use orderdeck::remedy::{Engine, Request};
use orderdeck::runbook::Runbook;
use orderdeck::sources::store::{AnyStore, Open};
use sqlx::{AssertSqlSafe, Connection as _, Executor};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

const ZOMBIES: usize = 100_000;
/// The per-order loop is slow by design: it runs on the first this many
/// orders and its rate is compared.
const LOOP_SAMPLE: usize = 20_000;
const DEAD_LETTERS: usize = 20_000;
const WINDOW: usize = 500;
const SCHEMA: &str = "orderdeck_bench_heal";

fn pg_url() -> String {
    std::env::var("ORDERDECK_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn amqp_url() -> String {
    std::env::var("ORDERDECK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn schema_url() -> String {
    let url = pg_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{SCHEMA}")
}

fn actor() -> Actor {
    Actor {
        os_user: "bench".into(),
        host: "bench".into(),
        environment: "bench".into(),
    }
}

/// A fresh schema with `ZOMBIES` orders in `processing` for three days:
/// even ones on a SKU with stock (heal retries them), odd ones on a SKU
/// without (heal cancels them and gives their locked stock back).
async fn seed() -> Result<AnyStore, String> {
    let mut admin = sqlx::PgConnection::connect(&pg_url())
        .await
        .map_err(|e| format!("PostgreSQL unreachable ({e})"))?;
    admin
        .execute(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"
        )))
        .await
        .map_err(|e| e.to_string())?;
    let store = AnyStore::open(&schema_url(), Open::default())
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let mut c = sqlx::PgConnection::connect(&schema_url())
        .await
        .map_err(|e| e.to_string())?;
    c.execute(AssertSqlSafe(format!(
        "INSERT INTO inventory (sku, on_hand, reserved)
           VALUES ('SKU-TEA-0042', 100000000, 0), ('SKU-GONE', 0, {ZOMBIES});
         INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                             status, payment_status, created_at, status_changed_at)
           SELECT 'BZ-' || lpad(g::text, 7, '0'), 100001, 1001,
                  CASE WHEN g % 2 = 0 THEN 'SKU-TEA-0042' ELSE 'SKU-GONE' END,
                  1, 12800, 'processing', 'paid',
                  now() - interval '3 days', now() - interval '3 days' - g * interval '1 second'
           FROM generate_series(1, {ZOMBIES}) g;
         INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
           SELECT id, sku, 1, TRUE, status_changed_at, status_changed_at
           FROM orders WHERE sku = 'SKU-GONE';
         ANALYZE;"
    )))
    .await
    .map_err(|e| format!("seeding: {e}"))?;
    Ok(store)
}

/// The reference topology in a vhost of its own, so nothing real
/// receives 100,000 test messages.
async fn heal_broker(rt_conn: &Connection, vhost: &str) -> Result<Broker, String> {
    let ch = rt_conn.create_channel().await.map_err(|e| e.to_string())?;
    // The reference topology (the `orders` exchange, the work queues and
    // their DLQs), as `orderdeck broker declare` makes it.
    orderdeck::topology::declare_reference_topology(&ch)
        .await
        .map_err(|e| format!("declare the topology in vhost {vhost}: {e}"))?;
    let url = vhost_url(vhost)?;
    AmqpBroker::new(&url, vhost, "bench").map(|b| Broker::Amqp(Box::new(b)))
}

fn vhost_url(vhost: &str) -> Result<String, String> {
    let mut u = url::Url::parse(&amqp_url()).map_err(|e| e.to_string())?;
    u.set_path(&format!(
        "/{}",
        percent_encoding::utf8_percent_encode(vhost, percent_encoding::NON_ALPHANUMERIC)
    ));
    Ok(u.to_string())
}

/// Creates `vhost` through `rabbitmqctl` (the bench runs as root on the
/// CI machine, as the broker bench does); an error says why.
fn ensure_vhost(vhost: &str) -> Result<(), String> {
    for args in [
        vec!["add_vhost", vhost],
        vec!["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
    ] {
        let out = std::process::Command::new("rabbitmqctl")
            .args(&args)
            .output()
            .map_err(|e| format!("rabbitmqctl: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && !stderr.contains("already exists") {
            return Err(format!("rabbitmqctl {}: {}", args.join(" "), stderr.trim()));
        }
    }
    Ok(())
}

fn sim_broker() -> Broker {
    let model = orderdeck::broker::memory::BrokerModel::new(chrono::Utc::now(), 1.0);
    Broker::Sim(orderdeck::broker::memory::SimBroker::new(Arc::new(
        std::sync::Mutex::new(model),
    )))
}

/// One heal over a fresh seed, as `orderdeck heal --older-than 24h
/// --limit 100000 --yes`: orders per second.
async fn timed_heal(broker: Broker, label: &str, schedule: Schedule) -> Result<f64, String> {
    let t = Instant::now();
    let store = seed().await?;
    println!("seeded {ZOMBIES} zombie orders in {:.1?}", t.elapsed());
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine = Engine::new(
        Some(store.clone()),
        broker,
        Arc::new(Runbook::builtin()),
        actor(),
        AuditLog::new(Some(dir.path().join("audit.jsonl"))),
    )
    .with_heal_schedule(schedule);
    let now = chrono::Utc::now();
    let request = Request::Heal {
        older_than: chrono::Duration::hours(24),
        limit: ZOMBIES as u32,
    };
    let t = Instant::now();
    let preview = engine
        .preview(request, now)
        .await
        .map_err(|r| format!("heal preview: {}", r.message))?;
    let previewed = t.elapsed();
    let report = engine.execute(&preview, false, now).await;
    let healed_in = t.elapsed();
    store.close().await;
    if report.outcome != Outcome::Ok || report.affected != ZOMBIES as u64 {
        return Err(format!(
            "heal did not heal every order: {:?} {} ({})",
            report.outcome, report.affected, report.message
        ));
    }
    let rate = ZOMBIES as f64 / healed_in.as_secs_f64();
    println!(
        "heal: {ZOMBIES} orders in {healed_in:.2?} (preview {previewed:.2?}), publishing to {label}: {rate:.0} orders/s"
    );
    Ok(rate)
}

async fn heal_bench() -> Result<(), String> {
    let vhost = "orderdeck-bench";
    // 1. The heal as it runs in production: retries and apologies go to
    //    RabbitMQ with confirms. Then the same heal with the in-process
    //    broker, which leaves the database's share of the time.
    let (heal_rate, conn) = match ensure_vhost(vhost) {
        Ok(()) => {
            let conn = Connection::connect(&vhost_url(vhost)?, ConnectionProperties::default())
                .await
                .map_err(|e| format!("RabbitMQ at {}: {e}", mask_secrets(&amqp_url())))?;
            let broker = heal_broker(&conn, vhost).await?;
            let before = timed_heal(
                broker,
                "RabbitMQ with confirms, one batch at a time (before)",
                Schedule::SEQUENTIAL,
            )
            .await?;
            // Each run starts with empty queues.
            purge(&conn).await?;
            let broker = heal_broker(&conn, vhost).await?;
            let rate = timed_heal(
                broker,
                "RabbitMQ with confirms, overlapped",
                Schedule::OVERLAPPED,
            )
            .await?;
            println!(
                "heal overlapped vs one batch at a time: {:.1}x",
                rate / before
            );
            ((before, rate), Some(conn))
        }
        Err(e) => support::fail("heal", format!("no RabbitMQ to heal into ({e})")),
    };
    let db_rate = timed_heal(
        sim_broker(),
        "the in-process broker (the database's share alone)",
        Schedule::OVERLAPPED,
    )
    .await?;

    // 2. The loop an engineer writes by hand: one UPDATE per order, each
    //    its own transaction, on the same data, nothing published.
    let store = seed().await?;
    store.close().await;
    let mut c = sqlx::PgConnection::connect(&schema_url())
        .await
        .map_err(|e| e.to_string())?;
    let ids: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, sku FROM orders WHERE status = 'processing'
         ORDER BY status_changed_at, id LIMIT $1",
    )
    .bind(LOOP_SAMPLE as i64)
    .fetch_all(&mut c)
    .await
    .map_err(|e| e.to_string())?;
    let t = Instant::now();
    for (id, sku) in &ids {
        let status = if sku == "SKU-GONE" {
            "cancelled"
        } else {
            "processing"
        };
        sqlx::query("UPDATE orders SET status = $1, status_changed_at = now() WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    }
    let loop_rate = ids.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "one UPDATE per order: {} orders in {:.2?}: {loop_rate:.0} orders/s",
        ids.len(),
        t.elapsed()
    );
    let (before, heal_rate) = heal_rate;
    println!(
        "heal one batch at a time (before) vs the loop: {:.1}x",
        before / loop_rate
    );
    println!(
        "heal vs the loop: {:.1}x (budget ≥ 10x); the database's share alone: {:.1}x; \
         heal rate budget ≥ 1,000 orders/s: {}",
        heal_rate / loop_rate,
        db_rate / loop_rate,
        if heal_rate >= 1000.0 { "met" } else { "MISSED" }
    );
    support::figure("heal_orders_per_s", heal_rate, "orders/s");
    support::figure("heal_vs_update_loop", heal_rate / loop_rate, "x");
    let _ = c
        .execute(AssertSqlSafe(format!("DROP SCHEMA {SCHEMA} CASCADE")))
        .await;
    if let Some(conn) = conn {
        purge(&conn).await?;
    }
    Ok(())
}

/// Empties the queues a heal publishes to; the topology stays for the
/// next run.
async fn purge(conn: &Connection) -> Result<(), String> {
    let ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    for q in ["fulfillment", "notify.customer"] {
        let _ = ch
            .queue_purge(q.into(), lapin::options::QueuePurgeOptions::default())
            .await;
    }
    Ok(())
}

/// `n` persistent messages of about the size of an order event, published
/// with confirms and a window of `WINDOW` outstanding.
async fn publish_loop(conn: &Connection, queue: &str, n: usize, ids: bool) -> Result<(), String> {
    let ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut pending = std::collections::VecDeque::with_capacity(WINDOW);
    for i in 0..n {
        let mut props = BasicProperties::default().with_delivery_mode(2);
        if ids {
            props = props.with_message_id(format!("dl-{i}").into());
        }
        let body = format!(
            "{{\"order_id\":{i},\"order_no\":\"SO-{i:08}\",\"event\":\"payment_callback\",\"gateway\":\"alipay\",\"amount_cents\":12800}}"
        );
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                props,
            )
            .await
            .map_err(|e| e.to_string())?;
        pending.push_back(confirm);
        if pending.len() >= WINDOW
            && let Some(c) = pending.pop_front()
        {
            c.await.map_err(|e| e.to_string())?;
        }
    }
    for c in pending {
        c.await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn requeue_bench() -> Result<(), String> {
    let conn = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .map_err(|e| {
            format!(
                "RabbitMQ at {} unreachable ({e})",
                mask_secrets(&amqp_url())
            )
        })?;
    let ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    let q = format!("bench.{}.requeue", std::process::id());
    let dlq = format!("{q}.dlq");
    let plain = format!("bench.{}.plain", std::process::id());
    let mut args = FieldTable::default();
    args.insert("x-expires".into(), AMQPValue::LongInt(600_000));
    for name in [&q, &dlq, &plain] {
        ch.queue_declare(
            name.as_str().into(),
            QueueDeclareOptions::durable(),
            args.clone(),
        )
        .await
        .map_err(|e| format!("declare {name}: {e}"))?;
    }

    let t = Instant::now();
    publish_loop(&conn, &plain, DEAD_LETTERS, true).await?;
    let plain_rate = DEAD_LETTERS as f64 / t.elapsed().as_secs_f64();
    println!(
        "plain lapin publish with confirms: {DEAD_LETTERS} messages in {:.2?}: {plain_rate:.0} msg/s",
        t.elapsed()
    );

    publish_loop(&conn, &dlq, DEAD_LETTERS, true).await?;
    let broker = Broker::Amqp(Box::new(AmqpBroker::new(&amqp_url(), "/", "bench")?));
    let t = Instant::now();
    let report = broker
        .requeue(&RequeueRequest {
            queue: q.clone(),
            limit: DEAD_LETTERS as u64,
            filter: None,
        })
        .await;
    let took = t.elapsed();
    if report.moved != DEAD_LETTERS as u64 || report.error.is_some() {
        return Err(format!(
            "requeue moved {} of {DEAD_LETTERS}: {report:?}",
            report.moved
        ));
    }
    let rate = DEAD_LETTERS as f64 / took.as_secs_f64();
    println!(
        "requeue (consume, republish with confirms, ack after confirm): {DEAD_LETTERS} in {took:.2?}: {rate:.0} msg/s"
    );
    println!(
        "requeue vs plain publishing: {:.0}% (budget ≥ 50%); ≥ 2,000 msg/s: {}",
        100.0 * rate / plain_rate,
        if rate >= 2000.0 { "met" } else { "MISSED" }
    );
    support::figure("requeue_msg_per_s", rate, "msg/s");
    support::figure(
        "requeue_vs_plain_publish_pct",
        100.0 * rate / plain_rate,
        "%",
    );
    for name in [&q, &dlq, &plain] {
        let _ = ch
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter that excludes this
    // file's parts skips them, as criterion's filters do.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |part: &str| filter.as_deref().is_none_or(|f| part.contains(f));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => support::fail("remedy", format!("cannot start a tokio runtime ({e})")),
    };
    if wanted("heal")
        && let Err(e) = rt.block_on(heal_bench())
    {
        support::fail("heal", e);
    }
    if wanted("requeue")
        && let Err(e) = rt.block_on(requeue_bench())
    {
        support::fail("requeue", e);
    }
    // The process exits with lapin's threads idle; nothing to wait for.
    std::thread::sleep(Duration::from_millis(10));
}
