//! The order store on real PostgreSQL and MariaDB/MySQL servers: migrations,
//! every built-in rule, timelines, lookups, rule failures, and recovery
//! after the server drops the cockpit's connections.
//!
//! These need the servers, so they are ignored in a plain `cargo test`;
//! `.ci/run` runs them with `--ignored`. A server that cannot be reached
//! fails the test: it never passes by skipping. Each test works in its own
//! schema (PostgreSQL) or database (MySQL), so runs never collide.
//!
//! URLs: `ORDERDECK_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/test)
//! and `ORDERDECK_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/test).

mod common;

use common::now;
use common::scratch::{Scratch, mysql_url, pg_url, unique, with_database};
use common::world::{self, Db};
use orderdeck::action::Msg;
use orderdeck::runbook::Runbook;
use orderdeck::sources::OrderStore;
use orderdeck::sources::store::{AnyStore, Open};
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

async fn migrations_are_idempotent(s: &Scratch) {
    let store = s.store().await;
    store
        .migrate()
        .await
        .expect("second migrate changes nothing");
    let db = Db::of(&store);
    // Exactly one applied migration, recorded in orderdeck's own table.
    let n = match &db {
        Db::Postgres(p) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _orderdeck_migrations")
                .fetch_one(p)
                .await
        }
        Db::Mysql(p) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _orderdeck_migrations")
                .fetch_one(p)
                .await
        }
        Db::Sqlite(_) => unreachable!(),
    }
    .expect("count migrations");
    assert_eq!(n, 1);
    // The vocabularies are enforced by the schema.
    let bad = match &db {
        Db::Postgres(p) => sqlx::query(
            "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                status, payment_status, created_at, status_changed_at)
             VALUES ('X', 1, 1, 'S', 1, 1, 'lost', 'unpaid', now(), now())",
        )
        .execute(p)
        .await
        .map(|_| ()),
        Db::Mysql(p) => sqlx::query(
            "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                status, payment_status, created_at, status_changed_at)
             VALUES ('X', 1, 1, 'S', 1, 1, 'lost', 'unpaid', NOW(6), NOW(6))",
        )
        .execute(p)
        .await
        .map(|_| ()),
        Db::Sqlite(_) => unreachable!(),
    };
    assert!(bad.is_err(), "status 'lost' must be refused on {}", s.kind);
    // Every pooled session carries the server-side statement timeout and UTC.
    match &db {
        Db::Postgres(p) => {
            let t: String = sqlx::query_scalar("SHOW statement_timeout")
                .fetch_one(p)
                .await
                .unwrap();
            assert_eq!(t, "15s");
            let tz: String = sqlx::query_scalar("SHOW TimeZone")
                .fetch_one(p)
                .await
                .unwrap();
            assert_eq!(tz, "UTC");
        }
        Db::Mysql(p) => {
            let (limit, tz): (f64, String) =
                sqlx::query_as("SELECT @@SESSION.max_statement_time + 0e0, @@SESSION.time_zone")
                    .fetch_one(p)
                    .await
                    .unwrap();
            assert_eq!(limit, 15.0);
            assert_eq!(tz, "+00:00");
        }
        Db::Sqlite(_) => unreachable!(),
    }
    store.close().await;
}

async fn builtin_rules(s: &Scratch) {
    let store = s.store().await;
    let want = world::plant(&Db::of(&store)).await;
    world::assert_builtin_rules(&store, &want).await;
    store.close().await;
}

async fn timeline_and_lookup(s: &Scratch) {
    let store = s.store().await;
    let db = Db::of(&store);
    let hostile = "CO-1'; DROP TABLE orders; --\u{1b}[2J";
    let id = world::order(&db, hostile, "delivered", "paid", 30).await;
    world::event(&db, id, 30, "app", "order_created", "created").await;
    world::event(&db, id, 20, "payment", "payment_callback", "paid").await;
    world::event(&db, id, 25, "inventory", "inventory_synced", "paid").await;
    world::view(&db, id, "logistics", "in_transit", 10).await;
    world::view(&db, id, "app", "delivered", 5).await;

    assert_eq!(store.find_order_id(hostile).await.unwrap(), Some(id));
    assert_eq!(store.find_order_id("CO-1").await.unwrap(), None);
    let t = store.timeline(id).await.unwrap().expect("order exists");
    assert_eq!(t.order.order_no, hostile);
    assert_eq!(t.order.quantity, 1, "INT column read as a number");
    assert_eq!(t.order.amount_cents, 12800);
    let kinds: Vec<_> = t.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["order_created", "inventory_synced", "payment_callback"],
        "by time"
    );
    assert_eq!(t.events[0].occurred_at, world::at(30));
    let systems: Vec<_> = t.views.iter().map(|v| v.system.as_str()).collect();
    assert_eq!(systems, ["app", "logistics"]);
    assert_eq!(store.timeline(id + 1000).await.unwrap(), None);
    // The orders table survived the hostile order number.
    assert_eq!(store.find_order_id(hostile).await.unwrap(), Some(id));
    store.close().await;
}

async fn failing_rule_is_isolated(s: &Scratch) {
    let store = s.store().await;
    world::plant(&Db::of(&store)).await;
    let user = Runbook::parse(
        r#"
[[rule]]
id = "ghost.broken"
family = "ghost"
title = "Broken on purpose"
sql = "SELECT nope FROM no_such_table WHERE x < :now LIMIT :limit"
"#,
        "test.toml",
    )
    .unwrap();
    let store = store.with_runbook(Runbook::builtin().merge(user));
    let snap = store.detect(now()).await.expect("the database is fine");
    assert_eq!(snap.rule_errors.len(), 1, "{:?}", snap.rule_errors);
    assert_eq!(snap.rule_errors[0].rule_id, "ghost.broken");
    assert!(
        snap.rule_errors[0].message.contains("no_such_table"),
        "{}",
        snap.rule_errors[0].message
    );
    assert!(
        snap.orders
            .iter()
            .any(|o| o.rule_id == "zombie.processing_24h"),
        "the other rules still ran"
    );
    store.close().await;
}

macro_rules! on_each_server {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            #[ignore = "needs services"]
            async fn postgres() {
                let s = Scratch::postgres(stringify!($name)).await;
                super::$name(&s).await;
                s.cleanup().await;
            }

            #[tokio::test]
            #[ignore = "needs services"]
            async fn mysql() {
                let s = Scratch::mysql(stringify!($name)).await;
                super::$name(&s).await;
                s.cleanup().await;
            }
        }
    };
}

/// A rule past the row limit lists the oldest orders and counts the rest,
/// with their money, in the server's own dialect.
async fn orders_beyond_the_row_limit_are_counted(s: &Scratch) {
    let store = s.store().await;
    let db = Db::of(&store);
    for i in 0..7 {
        world::order(&db, &format!("PR-{i}"), "pending_review", "unpaid", 60 + i).await;
    }
    // The newest (PR-0) is past the limit; its amount tells it apart.
    db.exec(
        "UPDATE orders SET amount_cents = 100 WHERE order_no = ?",
        &["PR-0".into()],
    )
    .await;
    let snap = store
        .clone()
        .with_row_limit(4)
        .detect(now())
        .await
        .expect("detect");
    let listed: Vec<&str> = snap
        .orders
        .iter()
        .filter(|o| o.rule_id == "ghost.pending_review")
        .map(|o| o.order_no.as_str())
        .collect();
    assert_eq!(listed, ["PR-6", "PR-5", "PR-4", "PR-3"], "oldest first");
    assert_eq!(
        snap.beyond_limit,
        [orderdeck::model::BeyondLimit {
            rule_id: "ghost.pending_review".into(),
            family: orderdeck::model::Family::Ghost,
            orders: 3,
            amount_cents: 12_800 * 2 + 100,
        }]
    );
    store.close().await;
}

/// A runbook rule that writes (`UPDATE ... RETURNING`, which the parser
/// refuses, slipped in after parsing) fails in the read-only transaction
/// detection runs in, and the amount it tried to change is unchanged.
async fn a_rule_that_writes_fails_and_changes_nothing(s: &Scratch) {
    let store = s.store().await;
    let db = Db::of(&store);
    let id = world::order(&db, "WRITE-ME", "processing", "paid", 60).await;
    let runbook = common::runbook_with_a_writing_rule();
    let store = store.with_runbook(runbook);
    let snap = store.detect(now()).await;
    // MariaDB has no RETURNING on UPDATE: a syntax error is a failure too;
    // either way the rule fails and nothing is written.
    match &snap {
        Ok(snap) => {
            assert_eq!(snap.rule_errors.len(), 1, "{:?}", snap.rule_errors);
            assert_eq!(snap.rule_errors[0].rule_id, "zombie.writes");
            assert!(snap.orders.is_empty());
        }
        Err(e) => panic!("the database is fine, the rule is not: {e}"),
    }
    let amount = db
        .count("SELECT amount_cents FROM orders WHERE id = ?", &[id.into()])
        .await;
    assert_eq!(amount, 12800);
    // Plain UPDATE without RETURNING: the read-only transaction refuses it.
    let mut runbook = Runbook::builtin();
    runbook.rules.truncate(1);
    runbook.rules[0].sql = "UPDATE orders SET amount_cents = 2 WHERE id > 0".into();
    let store = store.with_runbook(runbook);
    let snap = store.detect(now()).await.expect("the database is fine");
    let message = &snap.rule_errors.first().expect("the rule fails").message;
    assert!(
        message.to_ascii_lowercase().contains("read-only")
            || message.to_ascii_lowercase().contains("read only"),
        "{message}"
    );
    let amount = db
        .count("SELECT amount_cents FROM orders WHERE id = ?", &[id.into()])
        .await;
    assert_eq!(amount, 12800);
    store.close().await;
}

/// The connection cut, or black-holed, after the k-th message the cockpit
/// sends, at every point of a poll, through a TCP proxy to the real server:
/// the cockpit shows the database down and its last counts, never zeros,
/// and never `db ● ok` for a poll the database did not finish.
async fn cut_mid_poll(s: &Scratch) {
    use common::proxy::{Break, Proxy};
    use orderdeck::model::Family;
    use orderdeck::state::{Health, update};
    let direct = s.store().await;
    world::plant(&Db::of(&direct)).await;
    direct.close().await;
    let mut url = url::Url::parse(&s.url).expect("scratch URL");
    let target = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port()
            .unwrap_or(if s.kind == "postgres" { 5432 } else { 3306 })
    );
    let proxy = Proxy::start(target).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let store = AnyStore::open(
        url.as_str(),
        Open {
            lazy: true,
            create: false,
        },
    )
    .await
    .expect("lazy open")
    .with_statement_timeout(Duration::from_secs(2));

    // Every poll has a deadline of its own, so a poll that hangs fails the
    // test with its case instead of hanging it. Each statement of a poll
    // has 2 s: a poll with every step bounded ends well within 40 s.
    let bounded_poll = |case: String| {
        let store = &store;
        async move {
            tokio::time::timeout(Duration::from_secs(40), store.detect(now()))
                .await
                .unwrap_or_else(|_| panic!("{case}: a poll did not end within 40 s"))
        }
    };
    // A good poll through the proxy, as many tries as a broken pool needs.
    let good_poll = |case: String| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            match bounded_poll(case.clone()).await {
                Ok(snap) if snap.down.is_none() && snap.rule_errors.is_empty() => return snap,
                other => assert!(
                    std::time::Instant::now() < deadline,
                    "{case}: no good poll through the healed proxy: {other:?}"
                ),
            }
        }
    };
    proxy.arm(usize::MAX, Break::Cut);
    good_poll(format!("{} first poll", s.kind)).await;
    proxy.arm(usize::MAX, Break::Cut);
    good_poll(format!("{} counting poll", s.kind)).await;
    let per_poll = proxy.chunks();
    assert!(
        per_poll >= 8,
        "a poll sends at least 8 messages: {per_poll}"
    );

    let ks = |how| -> Vec<usize> {
        match how {
            Break::Cut => (1..=per_poll).collect(),
            // Each costs statement deadlines: the first message, the
            // last, and a few between.
            Break::BlackHole => {
                let mut ks = vec![1, 2, per_poll / 3, per_poll / 2, per_poll - 1, per_poll];
                ks.dedup();
                ks
            }
        }
    };
    // A black hole leaves every connection it caught open and silent for
    // ever; the pool must still give working connections once the
    // network heals (see `Held` in src/sources/sql/read.rs).
    for how in [Break::Cut, Break::BlackHole] {
        for k in ks(how) {
            let case = format!("{} {how:?} after message {k} of {per_poll}", s.kind);
            proxy.heal();
            let mut state = orderdeck::fixtures::state(
                80,
                24,
                "dark",
                orderdeck::theme::ColorDepth::TrueColor,
                0,
            );
            let t0 = state.now;
            let first = good_poll(case.clone()).await;
            update(
                &mut state,
                Msg::Orders {
                    at: t0,
                    result: Ok(first),
                },
            );
            proxy.arm(k, how);
            let result = bounded_poll(case.clone()).await;
            let later = t0 + chrono::Duration::seconds(12);
            update(&mut state, Msg::Orders { at: later, result });
            update(&mut state, Msg::Tick(later));
            let counts =
                [Family::Ghost, Family::Split, Family::Zombie].map(|f| state.orders.count(f));
            assert_eq!(counts, [Some(4), Some(5), Some(2)], "{case}");
            let screen = {
                let backend = ratatui::backend::TestBackend::new(80, 24);
                let mut t = ratatui::Terminal::new(backend).unwrap();
                t.draw(|f| orderdeck::ui::render(&state, f)).unwrap();
                let buf = t.backend().buffer().clone();
                (0..buf.area.height)
                    .map(|y| {
                        (0..buf.area.width)
                            .map(|x| buf[(x, y)].symbol().to_string())
                            .collect::<String>()
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let status = screen.lines().next().unwrap_or_default();
            assert!(
                status.contains("ghost 4 split 5 zombie 2"),
                "{case}: {status}"
            );
            if proxy.fired() {
                assert!(
                    matches!(state.db.health, Health::Down(_)),
                    "{case}: {:?}",
                    state.db.health
                );
                assert!(status.contains("db ✖ down"), "{case}: {status}");
                assert!(screen.contains("stale 12s"), "{case}:\n{screen}");
            } else {
                assert_eq!(state.db.health, Health::Ok, "{case}");
            }
        }
    }
    proxy.heal();
    // The black-holed sessions still hold their transactions open on the
    // server (and, on MariaDB, locks that dropping the database waits for).
    proxy.release();
    tokio::time::timeout(Duration::from_secs(30), store.close())
        .await
        .unwrap_or_else(|_| panic!("{}: closing the pool did not end within 30 s", s.kind));
}

on_each_server!(cut_mid_poll);
on_each_server!(a_rule_that_writes_fails_and_changes_nothing);
on_each_server!(orders_beyond_the_row_limit_are_counted);
on_each_server!(migrations_are_idempotent);
on_each_server!(builtin_rules);
on_each_server!(timeline_and_lookup);
on_each_server!(failing_rule_is_isolated);

/// The real order poller feeding a real cockpit state, as in the cockpit.
struct Watch {
    store: Arc<AnyStore>,
    rx: mpsc::Receiver<Msg>,
    state: orderdeck::state::State,
    cancel: CancellationToken,
    poller: tokio::task::JoinHandle<()>,
    last_ok: Option<chrono::DateTime<chrono::Utc>>,
}

impl Watch {
    /// Opens `url` as the cockpit does (lazily), applies the schema and
    /// starts polling.
    async fn open(url: &str) -> Watch {
        let store = AnyStore::open(
            url,
            Open {
                lazy: true,
                create: false,
            },
        )
        .await
        .expect("lazy open");
        store.migrate().await.expect("migrate");
        Watch::start(store)
    }

    fn start(store: AnyStore) -> Watch {
        let store = Arc::new(store);
        let (tx, rx) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        let poller = orderdeck::sources::poller::spawn_order_poller(
            store.clone(),
            orderdeck::sources::wall_clock(),
            Duration::from_millis(300),
            tx,
            cancel.clone(),
        );
        let mut state =
            orderdeck::fixtures::state(100, 30, "dark", orderdeck::theme::ColorDepth::TrueColor, 0);
        state.db = orderdeck::state::SourceStatus::new("db", Some(store.describe()), 1);
        Watch {
            store,
            rx,
            state,
            cancel,
            poller,
            last_ok: None,
        }
    }

    /// Feeds messages into the state until `want` holds for the database's
    /// health, or fails after `within`.
    async fn until(
        &mut self,
        within: Duration,
        what: &str,
        want: impl Fn(&orderdeck::state::Health) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        while !want(&self.state.db.health) {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("database never became {what}: {:?}", self.state.db.health)
                })
                .expect("poller alive");
            orderdeck::state::update(&mut self.state, msg);
        }
    }

    async fn until_ok(&mut self) {
        self.until(Duration::from_secs(60), "ok", |h| {
            matches!(h, orderdeck::state::Health::Ok)
        })
        .await;
        let now_ok = self.state.db.last_ok.expect("an ok poll has a time");
        if let Some(before) = self.last_ok {
            assert!(now_ok > before, "fresh data after recovery");
        }
        self.last_ok = Some(now_ok);
    }

    async fn until_down(&mut self) {
        self.until(Duration::from_secs(30), "down", |h| {
            matches!(h, orderdeck::state::Health::Down(_))
        })
        .await;
        assert_eq!(
            self.state.db.last_ok, self.last_ok,
            "the last good data is kept while down"
        );
    }

    async fn stop(self) {
        self.cancel.cancel();
        // A poller that panicked fails the test: its panic is the finding.
        if let Err(e) = self.poller.await {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("the order poller did not finish: {e}");
        }
        self.store.close().await;
    }
}

/// The server drops the cockpit's connections and refuses new ones for a
/// while: the status goes down with the server's reason, then back to ok
/// by itself once the server lets it in again.
#[tokio::test]
#[ignore = "needs services"]
async fn postgres_recovers_after_its_backends_are_terminated() {
    let admin = pg_url();
    let dbname = unique("recover");
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
    c.execute(AssertSqlSafe(format!("CREATE DATABASE {dbname}")))
        .await
        .expect("create database");
    let mut watch = Watch::open(&with_database(&admin, &dbname)).await;
    watch.until_ok().await;

    c.execute(AssertSqlSafe(format!(
        "ALTER DATABASE {dbname} WITH ALLOW_CONNECTIONS false"
    )))
    .await
    .expect("refuse connections");
    c.execute(AssertSqlSafe(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'"
    )))
    .await
    .expect("terminate backends");
    watch.until_down().await;

    c.execute(AssertSqlSafe(format!(
        "ALTER DATABASE {dbname} WITH ALLOW_CONNECTIONS true"
    )))
    .await
    .expect("allow connections");
    watch.until_ok().await;
    watch.stop().await;
    c.execute(AssertSqlSafe(format!(
        "DROP DATABASE {dbname} WITH (FORCE)"
    )))
    .await
    .expect("drop database");
}

/// The same on MariaDB: the cockpit's account is locked and its
/// connections killed, then unlocked.
#[tokio::test]
#[ignore = "needs services"]
async fn mysql_recovers_after_its_connections_are_killed() {
    let admin = mysql_url();
    let dbname = unique("recover");
    let user = dbname.clone();
    let mut c = sqlx::MySqlConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("MySQL/MariaDB at {admin} is unreachable: {e}"));
    for sql in [
        format!("CREATE DATABASE {dbname}"),
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{user}'"),
        format!("CREATE USER '{user}'@'localhost' IDENTIFIED BY 'pw-{user}'"),
        format!("GRANT ALL ON {dbname}.* TO '{user}'@'%'"),
        format!("GRANT ALL ON {dbname}.* TO '{user}'@'localhost'"),
    ] {
        c.execute(AssertSqlSafe(sql)).await.expect("setup");
    }
    let mut u = url::Url::parse(&with_database(&admin, &dbname)).unwrap();
    u.set_username(&user).unwrap();
    u.set_password(Some(&format!("pw-{user}"))).unwrap();
    let mut watch = Watch::open(u.as_str()).await;
    watch.until_ok().await;

    for host in ["%", "localhost"] {
        c.execute(AssertSqlSafe(format!(
            "ALTER USER '{user}'@'{host}' ACCOUNT LOCK"
        )))
        .await
        .expect("lock account");
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?")
            .bind(&user)
            .fetch_all(&mut c)
            .await
            .expect("list connections");
    for id in ids {
        let _ = c.execute(AssertSqlSafe(format!("KILL {id}"))).await;
    }
    watch.until_down().await;

    for host in ["%", "localhost"] {
        c.execute(AssertSqlSafe(format!(
            "ALTER USER '{user}'@'{host}' ACCOUNT UNLOCK"
        )))
        .await
        .expect("unlock account");
    }
    watch.until_ok().await;
    watch.stop().await;
    for sql in [
        format!("DROP DATABASE {dbname}"),
        format!("DROP USER '{user}'@'%'"),
        format!("DROP USER '{user}'@'localhost'"),
    ] {
        c.execute(AssertSqlSafe(sql)).await.expect("cleanup");
    }
}

/// Every remediation scenario of `tests/remedy.rs`, on a fresh scratch area each.
async fn remedies(
    s_for: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Scratch>>>,
) {
    use common::remedy_world as rw;
    for (name, case) in [
        ("every_action", 0),
        ("guard", 1),
        ("read_only", 2),
        ("heal", 3),
    ] {
        let s = s_for().await;
        let store = s.store().await;
        match case {
            0 => rw::every_action(store.clone()).await,
            1 => rw::guard_rolls_back(store.clone()).await,
            2 => rw::read_only_refuses_everything(store.clone()).await,
            _ => rw::heal(store.clone()).await,
        }
        eprintln!("{} remediation scenario {name}: ok", s.kind);
        store.close().await;
        s.cleanup().await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (run by .ci/run)"]
async fn postgres_remediations() {
    remedies(|| Box::pin(Scratch::postgres("remedy"))).await;
}

#[tokio::test]
#[ignore = "needs MariaDB/MySQL (run by .ci/run)"]
async fn mysql_remediations() {
    remedies(|| Box::pin(Scratch::mysql("remedy"))).await;
}

/// Holds a lock on the stock row of the SKU the heal cancels on, so the
/// heal's first cancel batch blocks inside its transaction (after all the
/// retry batches committed); then drops the session it blocks (found by
/// what blocks it, not by name) from the server side and lets go. `locked`
/// fires once the lock is held. Returns how many connections were dropped.
///
/// It watches until the heal blocks or `heal_over` says the heal returned
/// (then it can never block: the test fails at once, saying so). How long
/// the retry batches take before the block depends on the machine's load,
/// so no short clock decides it: [`BLOCK_BUDGET`] only stops a heal that
/// blocked where nobody can see it from hanging the run (the watcher's
/// panic rolls its lock back, and the test fails on the panic).
async fn kill_heal_midway(
    kind: &'static str,
    watch_url: String,
    area: String,
    locked: tokio::sync::oneshot::Sender<()>,
    heal_over: tokio_util::sync::CancellationToken,
) -> u64 {
    const LOCK: &str = "SELECT sku FROM inventory WHERE sku = 'SKU-GONE' FOR UPDATE";
    const BLOCK_BUDGET: Duration = Duration::from_secs(900);
    const POLL: Duration = Duration::from_millis(20);
    let deadline = std::time::Instant::now() + BLOCK_BUDGET;
    let still_waiting = || {
        assert!(
            !heal_over.is_cancelled(),
            "the heal returned without ever blocking on the locked stock row"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the heal never blocked on the locked stock row within {BLOCK_BUDGET:?}"
        );
    };
    if kind == "postgres" {
        let mut holder = sqlx::PgConnection::connect(&watch_url)
            .await
            .expect("lock holder");
        // The watch runs on its own connection, outside the holder's
        // transaction: inside one, pg_stat_activity is a snapshot taken at
        // its first read, so a heal connection opened after the first poll
        // was never seen (the heal then sat blocked until its 15 s
        // statement timeout, and the test failed under load).
        let mut watch = sqlx::PgConnection::connect(&watch_url)
            .await
            .expect("watcher");
        let (holder_pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
            .fetch_one(&mut holder)
            .await
            .expect("holder pid");
        holder.execute("BEGIN").await.expect("begin");
        holder.execute(LOCK).await.expect("lock the stock row");
        let _ = locked.send(());
        loop {
            let (killed,): (i64,) = sqlx::query_as(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE $1 = ANY(pg_blocking_pids(pid))",
            )
            .bind(holder_pid)
            .fetch_one(&mut watch)
            .await
            .expect("terminate");
            if killed > 0 {
                holder.execute("ROLLBACK").await.expect("unlock");
                return u64::try_from(killed).unwrap_or(0);
            }
            still_waiting();
            tokio::time::sleep(POLL).await;
        }
    } else {
        let mut c = sqlx::MySqlConnection::connect(&watch_url)
            .await
            .expect("watcher");
        c.execute("START TRANSACTION").await.expect("begin");
        c.execute(LOCK).await.expect("lock the stock row");
        let _ = locked.send(());
        loop {
            let ids: Vec<(i64,)> = sqlx::query_as(
                "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST
                 WHERE DB = ? AND ID <> CONNECTION_ID() AND COMMAND IN ('Query', 'Execute')
                   AND INFO LIKE '%UPDATE inventory%'",
            )
            .bind(&area)
            .fetch_all(&mut c)
            .await
            .expect("processlist");
            let mut killed = 0;
            for (id,) in &ids {
                if c.execute(AssertSqlSafe(format!("KILL {id}"))).await.is_ok() {
                    killed += 1;
                }
            }
            if killed > 0 {
                c.execute("ROLLBACK").await.expect("unlock");
                return killed;
            }
            still_waiting();
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The issue's drill: heal while the database drops the heal's
/// connections midway. The batch in flight rolls back (only whole batches
/// are committed), the run is audited as failed in the database and the
/// JSONL log, and running heal again ends exactly where an uninterrupted
/// heal of the same orders ends.
async fn heal_interrupted(
    fresh: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Scratch>>>,
) {
    use common::remedy_world as rw;
    use orderdeck::remedy::HEAL_BATCH;
    use orderdeck::remedy::audit::Outcome;
    const N: usize = 6_000;
    let request = rw::heal_request(2 * N as u32);

    let calm = fresh().await;
    let store = calm.store().await;
    let db = Db::of(&store);
    rw::plant_zombies(&db, N).await;
    let rig = rw::rig(store.clone(), Runbook::builtin(), false);
    let started = std::time::Instant::now();
    let r = rig.run(request.clone()).await;
    eprintln!(
        "{}: uninterrupted heal of {N} in {:?}",
        calm.kind,
        started.elapsed()
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(r.affected, N as u64, "{}", r.message);
    let want = rw::healed_state(&db).await;
    assert!(want.iter().any(|l| l.ends_with("|cancelled|1")));
    assert!(want.iter().any(|l| l.ends_with("|processing|1")));
    store.close().await;
    calm.cleanup().await;

    let s = fresh().await;
    let store = s.store_at(&s.url_named(&unique("heal"))).await;
    let db = Db::of(&store);
    rw::plant_zombies(&db, N).await;
    let rig = rw::rig(store.clone(), Runbook::builtin(), false);
    let (locked_tx, locked) = tokio::sync::oneshot::channel();
    let heal_over = tokio_util::sync::CancellationToken::new();
    let killer = tokio::spawn(kill_heal_midway(
        s.kind,
        s.url.clone(),
        s.area().to_string(),
        locked_tx,
        heal_over.clone(),
    ));
    locked.await.expect("the stock row is locked");
    let r = rig.run(request.clone()).await;
    heal_over.cancel();
    // A failed watch says what the heal answered, so a failure under load
    // tells which side went wrong.
    let killed = match killer.await {
        Ok(killed) => killed,
        Err(e) => panic!(
            "{}: the watcher failed: {e}; the heal said ({:?}): {}",
            s.kind, r.outcome, r.message
        ),
    };
    eprintln!(
        "{}: {killed} connection(s) killed; heal said: {}",
        s.kind, r.message
    );
    assert!(killed > 0, "the heal's connections were found");
    assert_eq!(r.outcome, Outcome::Failed, "{}", r.message);
    assert!(r.message.contains("run heal again"), "{}", r.message);
    let fixed = rig
        .count(
            "SELECT COUNT(*) FROM order_events WHERE source = 'ops'
             AND kind IN ('fulfilment_retried', 'cancelled_and_notified')",
            &[],
        )
        .await as usize;
    // Every retry batch committed; the first cancel batch, cut while it
    // waited for the stock row, left nothing behind.
    assert_eq!(fixed, N / 2, "the retries, and not one cancel");
    assert_eq!(fixed % HEAL_BATCH, 0, "only whole batches committed");
    assert_eq!(
        rig.count(
            "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'",
            &[]
        )
        .await,
        0,
        "the cancel batch in flight rolled back"
    );
    assert_eq!(
        r.affected as usize, fixed,
        "the failure counts what was committed"
    );
    assert_eq!(rig.audit_rows("heal", "failed").await, 1);
    assert_eq!(rig.jsonl("heal", Outcome::Failed), 1);

    let again = rig.run(request).await;
    assert_eq!(again.outcome, Outcome::Ok, "{}", again.message);
    assert_eq!(again.affected, (N - fixed) as u64, "{}", again.message);
    assert_eq!(
        rw::healed_state(&db).await,
        want,
        "same end state as an uninterrupted heal"
    );
    store.close().await;
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (run by .ci/run)"]
async fn postgres_heal_survives_its_backends_being_terminated() {
    heal_interrupted(|| Box::pin(Scratch::postgres("healkill"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MariaDB/MySQL (run by .ci/run)"]
async fn mysql_heal_survives_its_connections_being_killed() {
    heal_interrupted(|| Box::pin(Scratch::mysql("healkill"))).await;
}
