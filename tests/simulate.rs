//! `orderdeck simulate` and `orderdeck broker declare`.
//!
//! Plain tests need no services: argument errors, unreachable servers (a
//! closed port) and the shop's handlers on SQLite, driven without a broker,
//! checked with the built-in detection rules.
//!
//! Tests marked `needs services` run real PostgreSQL, MariaDB and RabbitMQ
//! (`cargo test -- --ignored`); an unreachable service fails them. URLs:
//! ORDERDECK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
//! ORDERDECK_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test),
//! ORDERDECK_TEST_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2f).
//! Each test works in its own PostgreSQL schema or MariaDB database and on
//! its own prefixed exchanges and queues, and removes them at the end.

use assert_cmd::Command;
use chrono::Utc;
use orderdeck::runbook::Runbook;
use orderdeck::simulate::args::ChaosSet;
use orderdeck::simulate::front::Front;
use orderdeck::simulate::message::Msg;
use orderdeck::simulate::shop::{ErpLink, Outcome, Shop};
use orderdeck::simulate::stats::Stats;
use orderdeck::simulate::{SimulateSpec, Summary, db};
use orderdeck::sources::OrderStore;
use orderdeck::sources::sqlite::SqliteStore;
use orderdeck::sources::store::{AnyStore, Open};
use orderdeck::topology::{self, DeclareError, Topology};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

// ------------------------------------------------------------ helpers ----

fn orderdeck(home: &TempDir) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary built");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"));
    cmd
}

/// Runs the binary and returns (exit code, stdout, stderr).
fn run_cli(args: &[&str]) -> (i32, String, String) {
    let home = TempDir::new().unwrap();
    let out = orderdeck(&home).args(args).output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `orderdeck simulate` on a database and a broker, with `more` options.
fn run_simulate(database_url: &str, amqp_url: &str, more: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "simulate",
        "--database-url",
        database_url,
        "--amqp-url",
        amqp_url,
    ];
    args.extend_from_slice(more);
    run_cli(&args)
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn pg_url() -> String {
    env_or(
        "ORDERDECK_TEST_PG_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    )
}

fn mysql_url() -> String {
    env_or(
        "ORDERDECK_TEST_MYSQL_URL",
        "mysql://root@127.0.0.1:3306/test",
    )
}

fn amqp_url() -> String {
    env_or(
        "ORDERDECK_TEST_AMQP_URL",
        "amqp://guest:guest@127.0.0.1:5672/%2f",
    )
}

/// A name no other run uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}_{nanos}", std::process::id())
}

/// How many orders each enabled built-in rule finds now, through the
/// cockpit's own detection; a rule that finds none is there with 0.
async fn detected(store: &impl OrderStore) -> BTreeMap<String, usize> {
    let snap = store.detect(Utc::now()).await.expect("detection runs");
    assert!(snap.rule_errors.is_empty(), "{:?}", snap.rule_errors);
    let mut out: BTreeMap<String, usize> = Runbook::builtin()
        .enabled()
        .map(|rule| (rule.id.clone(), 0))
        .collect();
    for o in snap.orders {
        *out.entry(o.rule_id).or_insert(0) += 1;
    }
    out
}

/// The number a `SELECT COUNT(*) ...` with no parameters returns.
async fn count(db: &db::Db, sql: &str) -> i64 {
    let rows = db
        .fetch_ints(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first().and_then(|r| r.first()).copied().expect(sql)
}

/// A fresh PostgreSQL schema or MariaDB database, optionally migrated by
/// the cockpit's store, which also detects in it.
struct TestDb {
    admin: db::Db,
    db: db::Db,
    store: AnyStore,
    url: String,
    /// The statement that removes the schema or database.
    drop: String,
}

impl TestDb {
    async fn postgres(migrate: bool) -> TestDb {
        let base = pg_url();
        let schema = unique("sim_");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let create = format!("CREATE SCHEMA {schema}");
        let drop = format!("DROP SCHEMA {schema} CASCADE");
        TestDb::create(&base, &create, url, drop, migrate).await
    }

    async fn mariadb() -> TestDb {
        let base = mysql_url();
        let name = unique("sim_");
        let mut u = url::Url::parse(&base).expect("MySQL URL");
        u.set_path(&format!("/{name}"));
        // simulate maps mariadb:// to mysql://; use that spelling here.
        let url = u.as_str().replacen("mysql://", "mariadb://", 1);
        let create = format!("CREATE DATABASE {name}");
        let drop = format!("DROP DATABASE {name}");
        TestDb::create(&base, &create, url, drop, true).await
    }

    /// Runs `create` on the server at `base`, then opens `url` inside it.
    async fn create(base: &str, create: &str, url: String, drop: String, migrate: bool) -> TestDb {
        let admin = db::connect(base).await.unwrap_or_else(|e| {
            panic!("{e} (set ORDERDECK_TEST_PG_URL or ORDERDECK_TEST_MYSQL_URL)")
        });
        admin.exec(create, &[]).await.expect(create);
        let store = AnyStore::open(&url, Open::default())
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        if migrate {
            store.migrate().await.expect("reference schema");
        }
        let db = db::connect(&url)
            .await
            .expect("connect to the test database");
        TestDb {
            admin,
            db,
            store,
            url,
            drop,
        }
    }

    fn url(&self) -> &str {
        &self.url
    }

    async fn count(&self, sql: &str) -> i64 {
        count(&self.db, sql).await
    }

    async fn drop_all(self) {
        self.store.close().await;
        self.db.close().await;
        let _ = self.admin.exec(&self.drop, &[]).await;
        self.admin.close().await;
    }
}

async fn broker() -> lapin::Connection {
    let url = amqp_url();
    topology::connect(&url, "orderdeck tests")
        .await
        .unwrap_or_else(|e| panic!("RabbitMQ unreachable (set ORDERDECK_TEST_AMQP_URL): {e}"))
}

/// Ready messages on `queue`, by a passive declare on a throwaway channel.
async fn ready(conn: &lapin::Connection, queue: &str) -> u32 {
    let ch = conn.create_channel().await.expect("channel");
    let q = ch
        .queue_declare(
            queue.into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("queue {queue}: {e}"));
    let _ = ch.close(200, "probe".into()).await;
    q.message_count()
}

/// Deletes a test topology's queues and exchanges.
async fn teardown(conn: &lapin::Connection, t: &Topology) {
    let ch = conn.create_channel().await.expect("channel");
    for q in t.work_queues() {
        for name in [t.queue(q), t.dlq(q)] {
            let _ = ch
                .queue_delete(name.into(), lapin::options::QueueDeleteOptions::default())
                .await;
        }
    }
    for x in [t.exchange(), t.dead_letter_exchange()] {
        let _ = ch
            .exchange_delete(x.into(), lapin::options::ExchangeDeleteOptions::default())
            .await;
    }
    let _ = ch.close(200, "teardown".into()).await;
}

fn spec(db_url: &str, t: &Topology, secs: u64, chaos: &str, backdate: f64) -> SimulateSpec {
    let list: Vec<orderdeck::simulate::Chaos> = chaos
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("chaos profile"))
        .collect();
    SimulateSpec {
        database_url: db_url.to_string(),
        amqp_url: amqp_url(),
        rate: 20.0,
        duration: Duration::from_secs(secs),
        chaos: ChaosSet::from_list(&list),
        seed: 7,
        backdate_share: backdate,
        topology: t.clone(),
        progress_every: Duration::from_secs(2),
    }
}

async fn simulate(spec: SimulateSpec) -> Summary {
    let mut lines = Vec::new();
    let summary = orderdeck::simulate::run(spec, CancellationToken::new(), &mut |l: &str| {
        lines.push(l.to_string())
    })
    .await
    .unwrap_or_else(|e| panic!("simulate failed: {e}"));
    assert!(!lines.is_empty(), "no progress line was reported");
    println!("{}\n{summary}", lines.join("\n"));
    summary
}

// ------------------------------------------- plain: no services needed ----

#[test]
fn an_unreachable_database_exits_3_with_one_masked_line() {
    let (code, _, err) = run_simulate(
        "postgres://shop:s3cret@127.0.0.1:1/shop",
        "amqp://guest:hunter2@127.0.0.1:1",
        &["--duration", "5s"],
    );
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("orderdeck: database postgres://shop:***@127.0.0.1:1/shop unreachable"),
        "{err}"
    );
    assert!(err.contains("is the server running"), "{err}");
    assert!(!err.contains("s3cret") && !err.contains("hunter2"), "{err}");
}

#[test]
fn an_unreachable_broker_exits_3_with_one_masked_line() {
    let (code, out, err) = run_cli(&[
        "broker",
        "declare",
        "--amqp-url",
        "amqp://guest:hunter2@127.0.0.1:1/%2f",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("orderdeck: RabbitMQ at amqp://guest:***@127.0.0.1:1/%2f unreachable"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn bad_options_are_usage_errors() {
    let (code, _, err) = run_simulate(
        "sqlite://x.db",
        "amqp://h",
        &["--chaos", "bank-500,bank-404"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown chaos profile \"bank-404\""), "{err}");
    let (code, _, err) = run_simulate("oracle://scott:tiger@db/x", "amqp://h", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unsupported scheme") && !err.contains("tiger"),
        "{err}"
    );
    let (code, _, err) = run_cli(&["simulate", "--amqp-url", "amqp://h"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--database-url"), "{err}");
}

#[test]
fn help_explains_chaos_and_backdating() {
    let (code, out, _) = run_cli(&["simulate", "--help"]);
    assert_eq!(code, 0);
    for needle in [
        "consumer-down[:QUEUE]",
        "bank-500",
        "erp-cert-expired",
        "1 to 50 hours in the past",
        "and broker, never production",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
}

/// A broker stand-in for the handler tests: a FIFO of messages, where the
/// consumers of `down` queues are "down" (their messages wait).
struct Loop {
    queue: VecDeque<Msg>,
    waiting: Vec<Msg>,
    dead: Vec<Msg>,
    down: Vec<&'static str>,
}

impl Loop {
    async fn run(&mut self, shop: &Shop) {
        while let Some(m) = self.queue.pop_front() {
            if self.down.contains(&m.step.queue()) {
                self.waiting.push(m);
                continue;
            }
            match shop.handle(&m).await {
                Outcome::Done(next) => self.queue.extend(next),
                Outcome::DeadLetter(_) => self.dead.push(m),
                Outcome::Retry(why) => panic!("{:?} failed: {why}", m.step),
                Outcome::Stale => {}
            }
        }
    }
}

/// A migrated SQLite file, the shop on it, and `n` backdated orders placed.
async fn sqlite_shop(
    chaos: ChaosSet,
    erp: ErpLink,
    n: usize,
) -> (TempDir, SqliteStore, Shop, Loop) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("shop.db");
    let path = path.to_str().unwrap();
    let store = SqliteStore::open(path, true).await.unwrap();
    store.migrate().await.unwrap();
    let db = db::connect(&format!("sqlite://{path}")).await.unwrap();
    db::check_schema(&db, path).await.unwrap();
    let mut front = Front::new(11, 1.0, &chaos, 1);
    orderdeck::simulate::shop::stock_shelves(&db, front.products())
        .await
        .unwrap();
    let shop = Shop::new(db, 11, chaos, erp, Arc::new(Stats::default()));
    let mut lp = Loop {
        queue: VecDeque::new(),
        waiting: Vec::new(),
        dead: Vec::new(),
        down: Vec::new(),
    };
    for _ in 0..n {
        let msg = shop.create_order(&front.next_order()).await.unwrap();
        lp.queue.push_back(msg);
    }
    (dir, store, shop, lp)
}

#[tokio::test]
async fn bank_500_risk_and_an_expired_erp_certificate_make_ghosts_and_zombies() {
    let chaos = ChaosSet {
        bank_500: true,
        risk_false_positive: true,
        erp_cert_expired: true,
        ..ChaosSet::default()
    };
    let expired = ErpLink::certificate_expiring_at(Instant::now());
    let (_dir, store, shop, mut lp) = sqlite_shop(chaos, expired, 60).await;
    lp.run(&shop).await;
    // bank-500 dead-letters payment callbacks; nothing else fails.
    assert!(!lp.dead.is_empty());
    assert!(lp.dead.iter().all(|m| m.step.queue() == "payment.callback"));
    let pending = count(
        shop.db(),
        "SELECT COUNT(*) FROM orders WHERE status = 'pending_review'",
    )
    .await;
    assert_eq!(pending as usize, lp.dead.len());
    let held = count(
        shop.db(),
        "SELECT COUNT(*) FROM orders WHERE hold_reason = 'risk' AND held_at IS NOT NULL",
    )
    .await;
    assert!(held > 0, "no order was held");
    let erp_failed = count(
        shop.db(),
        "SELECT COUNT(*) FROM order_views WHERE system = 'erp' AND status = 'failed'",
    )
    .await;
    assert!(erp_failed > 0);
    assert_eq!(
        count(
            shop.db(),
            "SELECT COUNT(*) FROM orders WHERE status IN ('shipped', 'delivered', 'settled')"
        )
        .await,
        0
    );
    let found = detected(&store).await;
    for rule in [
        "ghost.pending_review",
        "zombie.risk_hold",
        "zombie.processing_24h",
    ] {
        assert!(found[rule] > 0, "{rule} not detected: {found:?}");
    }
    assert_eq!(found["ghost.pending_review"], lp.dead.len());
}

#[tokio::test]
async fn a_logistics_outage_splits_app_and_logistics_until_the_consumer_is_back() {
    let (_dir, store, shop, mut lp) =
        sqlite_shop(ChaosSet::default(), ErpLink::healthy(), 40).await;
    lp.down = vec!["logistics.updates"];
    lp.run(&shop).await;
    assert!(!lp.waiting.is_empty(), "no logistics update waited");
    let found = detected(&store).await;
    let split = found["split.delivered_vs_in_transit"];
    assert!(split > 0, "{found:?}");
    // Settlement waits for the carrier's proof of delivery.
    let delivered = count(
        shop.db(),
        "SELECT COUNT(*) FROM orders WHERE status = 'delivered'",
    )
    .await;
    assert_eq!(delivered as usize, split);
    // The consumer comes back and works off its backlog: the split heals
    // and the orders settle.
    lp.down.clear();
    lp.queue.extend(lp.waiting.drain(..));
    lp.run(&shop).await;
    let found = detected(&store).await;
    assert_eq!(found["split.delivered_vs_in_transit"], 0, "{found:?}");
    let settled = count(
        shop.db(),
        "SELECT COUNT(*) FROM orders WHERE status = 'settled'",
    )
    .await;
    assert_eq!(settled as usize, split);
    let lagging = count(
        shop.db(),
        "SELECT COUNT(*) FROM order_views WHERE system = 'logistics' AND status <> 'delivered'",
    )
    .await;
    assert_eq!(lagging, 0);
}

#[tokio::test]
async fn an_inventory_consumer_outage_leaves_paid_orders_unsynced() {
    let (_dir, store, shop, mut lp) =
        sqlite_shop(ChaosSet::default(), ErpLink::healthy(), 20).await;
    lp.down = vec!["inventory.sync"];
    lp.run(&shop).await;
    let found = detected(&store).await;
    let ghosts = found["ghost.paid_no_inventory_sync"];
    assert!(ghosts > 0, "{found:?}");
    assert_eq!(ghosts, lp.waiting.len());
    // A duplicate delivery after the fact is harmless: the order moved on.
    lp.down.clear();
    let again = lp.waiting.clone();
    lp.queue.extend(lp.waiting.drain(..));
    lp.run(&shop).await;
    for m in &again {
        assert_eq!(shop.handle(m).await, Outcome::Stale);
    }
    let locks = count(shop.db(), "SELECT COUNT(*) FROM inventory_locks").await;
    assert_eq!(
        locks as usize,
        again.len(),
        "a duplicate took a second lock"
    );
}

#[tokio::test]
async fn a_leftover_message_from_another_database_touches_nothing() {
    let (_dir, _store, shop, mut lp) =
        sqlite_shop(ChaosSet::default(), ErpLink::healthy(), 3).await;
    // Same ids, other order numbers: messages a run against another
    // database left in the queues.
    let foreign: Vec<Msg> = lp
        .queue
        .iter()
        .map(|m| Msg {
            order_no: format!("{}-elsewhere", m.order_no),
            ..m.clone()
        })
        .collect();
    for m in &foreign {
        assert_eq!(shop.handle(m).await, Outcome::Stale);
        let notify = m.then(orderdeck::simulate::message::Step::Notify {
            reason: "shipped".into(),
        });
        assert_eq!(shop.handle(&notify).await, Outcome::Done(Vec::new()));
    }
    let events = count(shop.db(), "SELECT COUNT(*) FROM order_events WHERE kind NOT IN ('order_created', 'checkout_submitted')").await;
    assert_eq!(events, 0);
    lp.run(&shop).await;
    let settled = count(
        shop.db(),
        "SELECT COUNT(*) FROM orders WHERE status IN ('settled', 'cancelled')",
    )
    .await;
    assert_eq!(settled, 3);
}

// ----------------------------------------------- needs services ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn broker_declare_is_idempotent_and_names_a_mismatch() {
    let conn = broker().await;
    let t = Topology::with_prefix(unique("t") + ".");
    let ch = conn.create_channel().await.unwrap();
    let first = topology::declare_topology(&ch, &t).await.expect("declare");
    let again = topology::declare_topology(&ch, &t)
        .await
        .expect("redeclare");
    assert_eq!(first, again);
    assert_eq!(first.exchanges.len(), 2);
    assert_eq!(first.queues.len(), 12);
    teardown(&conn, &t).await;

    // An existing queue with other arguments: a clear error, not a crash.
    let t = Topology::with_prefix(unique("t") + ".");
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        t.queue("payment.callback").into(),
        lapin::options::QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        lapin::types::FieldTable::default(),
    )
    .await
    .unwrap();
    let e = topology::declare_topology(&ch, &t).await.unwrap_err();
    match &e {
        DeclareError::Mismatch { kind, name, .. } => {
            assert_eq!(
                (*kind, name.as_str()),
                ("queue", t.queue("payment.callback").as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains("exists with different arguments"), "{text}");
    assert!(text.contains("x-dead-letter-exchange"), "{text}");
    teardown(&conn, &t).await;

    // The command on the reference names, twice.
    for _ in 0..2 {
        let (code, out, err) = run_cli(&["broker", "declare", "--amqp-url", &amqp_url()]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("payment.callback.dlq"), "{out}");
        assert!(
            out.contains("guest:***@") || !amqp_url().contains(':'),
            "{out}"
        );
    }
    let _ = conn.close(200, "done".into()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_database_without_the_schema_is_a_usage_error() {
    let db = TestDb::postgres(false).await;
    let (code, _, err) = run_simulate(db.url(), &amqp_url(), &["--duration", "2s"]);
    db.drop_all().await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no reference schema"), "{err}");
    assert!(err.contains("orderdeck db migrate --database-url"), "{err}");
}

/// The logistics queue's (ready, consumers) as the broker sees it, or `None`
/// while it is not declared yet.
async fn queue_state(conn: &lapin::Connection, queue: &str) -> Option<(u32, u32)> {
    let ch = conn.create_channel().await.expect("channel");
    let q = ch
        .queue_declare(
            queue.into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .ok()?;
    let _ = ch.close(200, "probe".into()).await;
    Some((q.message_count(), q.consumer_count()))
}

/// Follows `queue` through a consumer-down outage of a running simulate:
/// waits for its consumers, then for them to go, and while they are gone
/// records the peak backlog and whether the split rule finds orders. Returns
/// (peak backlog, split orders seen) once both are seen or the consumers are
/// back. Fails if the outage never comes before the run ends.
async fn during_the_outage<T>(
    conn: &lapin::Connection,
    queue: &str,
    run: &tokio::task::JoinHandle<T>,
    store: &impl OrderStore,
) -> (u32, usize) {
    // Generous: the run itself is a few seconds; this only stops a hang.
    let deadline = Instant::now() + Duration::from_secs(180);
    let (mut up, mut down) = (false, false);
    let (mut peak, mut split) = (0, 0);
    loop {
        assert!(
            Instant::now() < deadline,
            "no outage of {queue} within 180 s"
        );
        match queue_state(conn, queue).await {
            Some((_, c)) if c > 0 && !down => up = true,
            Some((ready, 0)) if up => {
                down = true;
                peak = peak.max(ready);
                if split == 0 {
                    split = detected(store).await["split.delivered_vs_in_transit"];
                }
                if peak > 0 && split > 0 {
                    return (peak, split);
                }
            }
            Some((_, c)) if c > 0 && down => return (peak, split),
            _ => {}
        }
        assert!(
            !run.is_finished(),
            "the run ended before the consumers of {queue} went down and came back (up {up}, down {down})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// bank-500, risk-false-positive and consumer-down against `db`.
async fn bank_risk_and_outage(db: TestDb) {
    let conn = broker().await;
    let t = Topology::with_prefix(unique("t") + ".");
    let secs = 6;
    let run = tokio::spawn(simulate(spec(
        db.url(),
        &t,
        secs,
        "bank-500,risk-false-positive,consumer-down",
        0.5,
    )));
    // Watch the logistics queue while its consumers are down, as the broker
    // reports it (the consumers come, go, and come back), not in a window of
    // the wall clock: on a loaded machine the run's phases drift.
    let (peak, split_seen) =
        during_the_outage(&conn, &t.queue("logistics.updates"), &run, &db.store).await;
    let summary = run.await.expect("simulate task");
    assert!(summary.counts.orders_created >= 60, "{summary}");
    assert_eq!(
        summary.counts.published, summary.counts.confirmed,
        "{summary}"
    );
    // bank-500: the failed callbacks are in the dead-letter queue, the
    // orders still pending_review.
    let dlq = ready(&conn, &t.dlq("payment.callback")).await;
    assert!(dlq > 0, "{summary}");
    assert_eq!(u64::from(dlq), summary.counts.bank_500, "{summary}");
    assert_eq!(summary.depth(&t.dlq("payment.callback")), Some(dlq));
    let failed = db
        .count("SELECT COUNT(*) FROM order_events WHERE kind = 'callback_failed'")
        .await;
    assert_eq!(failed as u64, summary.counts.bank_500);
    // risk-false-positive: good orders held.
    let held = db
        .count("SELECT COUNT(*) FROM orders WHERE hold_reason = 'risk' AND held_at IS NOT NULL")
        .await;
    assert!(held > 0, "{summary}");
    assert_eq!(held as u64, summary.counts.risk_held);
    // consumer-down: the logistics queue backed up while its consumers were
    // away, and the app and logistics disagreed.
    assert!(
        peak > 0,
        "no logistics backlog seen during the outage\n{summary}"
    );
    let outage = summary.outage.clone().expect("an outage");
    assert!(
        outage.peak_backlog > 0 && outage.until.is_some(),
        "{summary}"
    );
    assert!(
        split_seen > 0,
        "split.delivered_vs_in_transit not seen during the outage"
    );
    // The rules find the ghosts and the held orders (half of the orders are
    // backdated past the thresholds).
    let found = detected(&db.store).await;
    assert!(found["ghost.pending_review"] > 0, "{found:?}");
    assert!(found["zombie.risk_hold"] > 0, "{found:?}");
    teardown(&conn, &t).await;
    let _ = conn.close(200, "done".into()).await;
    db.drop_all().await;
}

/// deadlock and erp-cert-expired against `db`, every order backdated.
async fn deadlock_and_erp(db: TestDb) {
    let conn = broker().await;
    let t = Topology::with_prefix(unique("t") + ".");
    let summary = simulate(spec(db.url(), &t, 12, "deadlock,erp-cert-expired", 1.0)).await;
    let c = &summary.counts;
    assert!(c.hot_row_holds > 0, "{summary}");
    assert!(c.lock_conflicts > 0, "{summary}");
    let conflicts = db
        .count("SELECT COUNT(*) FROM order_events WHERE kind = 'lock_conflict'")
        .await;
    assert!(conflicts > 0, "{summary}");
    // Syncs that ran out of tries are dead letters; their orders are paid
    // and never synced, which the ghost rule finds.
    let dlq = ready(&conn, &t.dlq("inventory.sync")).await;
    assert!(dlq > 0, "{summary}");
    let found = detected(&db.store).await;
    assert!(
        found["ghost.paid_no_inventory_sync"] > 0,
        "{found:?}\n{summary}"
    );
    // Lock releases that timed out leave expired locks held.
    assert!(c.release_failed > 0, "{summary}");
    assert!(found["ghost.lock_expired_held"] > 0, "{found:?}\n{summary}");
    // The expired certificate: work orders never acknowledged, orders in
    // processing; those backdated past a day are zombies.
    assert!(c.erp_failed > 0, "{summary}");
    let failed = db
        .count("SELECT COUNT(*) FROM orders o JOIN order_views v ON v.order_id = o.id AND v.system = 'erp' WHERE v.status = 'failed' AND o.status = 'processing'")
        .await;
    assert_eq!(failed as u64, c.erp_failed, "{summary}");
    assert!(found["zombie.processing_24h"] > 0, "{found:?}");
    teardown(&conn, &t).await;
    let _ = conn.close(200, "done".into()).await;
    db.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn postgres_bank_500_risk_and_consumer_down() {
    bank_risk_and_outage(TestDb::postgres(true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn mariadb_bank_500_risk_and_consumer_down() {
    bank_risk_and_outage(TestDb::mariadb().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn postgres_deadlock_and_erp_cert_expired() {
    deadlock_and_erp(TestDb::postgres(true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn mariadb_deadlock_and_erp_cert_expired() {
    deadlock_and_erp(TestDb::mariadb().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn sqlite_through_the_broker() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("shop.db");
    let store = SqliteStore::open(path.to_str().unwrap(), true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let url = format!("sqlite://{}", path.display());
    let conn = broker().await;
    let t = Topology::with_prefix(unique("t") + ".");
    let summary = simulate(spec(&url, &t, 3, "bank-500", 0.5)).await;
    assert!(summary.counts.orders_created > 20, "{summary}");
    assert!(
        ready(&conn, &t.dlq("payment.callback")).await > 0,
        "{summary}"
    );
    let db = db::connect(&url).await.unwrap();
    let settled = count(&db, "SELECT COUNT(*) FROM orders WHERE status = 'settled'").await;
    db.close().await;
    assert!(settled > 0, "{summary}");
    // Deadlocks need row locks, which SQLite has not.
    let e = orderdeck::simulate::run(
        spec(&url, &t, 2, "deadlock", 0.0),
        CancellationToken::new(),
        &mut |_: &str| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    teardown(&conn, &t).await;
    let _ = conn.close(200, "done".into()).await;
}
