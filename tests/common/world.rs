//! The same planted orders on any of the three databases: plain SQL with
//! `?` placeholders (numbered for PostgreSQL) and each dialect's own time
//! type, so every built-in rule is checked on every dialect.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, MySqlPool, PgPool, SqlitePool};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    Mysql(MySqlPool),
}

#[derive(Clone, Debug)]
pub enum Val {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
    Bool(bool),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<DateTime<Utc>> for Val {
    fn from(v: DateTime<Utc>) -> Self {
        Val::Time(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr, $time:expr, $bool:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Val::Int(v) => q.bind(*v),
                Val::Text(v) => q.bind(v.clone()),
                Val::Time(t) => q.bind($time(*t)),
                Val::Bool(b) => q.bind($bool(*b)),
            };
        }
        q
    }};
}

impl Db {
    /// Runs one statement; returns the last inserted id where the dialect
    /// reports it (PostgreSQL: add `RETURNING id` and use [`Db::insert`]).
    pub async fn exec(&self, sql: &str, args: &[Val]) -> u64 {
        match self {
            Db::Sqlite(p) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args, sqlite_time, |b: bool| b as i64)
                    .execute(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .rows_affected()
            }
            Db::Postgres(p) => {
                let q = sqlx::query(AssertSqlSafe(
                    orderdeck::sources::sql::numbered_placeholders(sql),
                ));
                bind_all!(q, args, |t| t, |b| b)
                    .execute(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .rows_affected()
            }
            Db::Mysql(p) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args, |t: DateTime<Utc>| t.naive_utc(), |b| b)
                    .execute(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .rows_affected()
            }
        }
    }

    /// Inserts one row into a table with an `id` key; returns the id.
    pub async fn insert(&self, sql: &str, args: &[Val]) -> i64 {
        match self {
            Db::Sqlite(p) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args, sqlite_time, |b: bool| b as i64)
                    .execute(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .last_insert_rowid()
            }
            Db::Postgres(p) => {
                let q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(format!(
                    "{} RETURNING id",
                    orderdeck::sources::sql::numbered_placeholders(sql)
                )));
                bind_all!(q, args, |t| t, |b| b)
                    .fetch_one(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .0
            }
            Db::Mysql(p) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                let id = bind_all!(q, args, |t: DateTime<Utc>| t.naive_utc(), |b| b)
                    .execute(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .last_insert_id();
                i64::try_from(id).expect("id fits i64")
            }
        }
    }
}

fn sqlite_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// `super::now()` minus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    super::now() - Duration::minutes(minutes)
}

pub async fn order(db: &Db, order_no: &str, status: &str, payment: &str, changed: i64) -> i64 {
    db.insert(
        "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
            status, payment_status, created_at, status_changed_at)
         VALUES (?, 100001, 1001, 'SKU-TEA-0042', 1, 12800, ?, ?, ?, ?)",
        &[
            order_no.into(),
            status.into(),
            payment.into(),
            at(changed).into(),
            at(changed).into(),
        ],
    )
    .await
}

pub async fn event(db: &Db, order_id: i64, ago: i64, source: &str, kind: &str, status: &str) {
    db.exec(
        "INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail)
         VALUES (?, ?, ?, ?, ?, '')",
        &[
            order_id.into(),
            at(ago).into(),
            source.into(),
            kind.into(),
            status.into(),
        ],
    )
    .await;
}

pub async fn view(db: &Db, order_id: i64, system: &str, status: &str, ago: i64) {
    db.exec(
        "DELETE FROM order_views WHERE order_id = ? AND system = ?",
        &[order_id.into(), system.into()],
    )
    .await;
    db.exec(
        "INSERT INTO order_views (order_id, system, status, observed_at) VALUES (?, ?, ?, ?)",
        &[
            order_id.into(),
            system.into(),
            status.into(),
            at(ago).into(),
        ],
    )
    .await;
}

pub async fn lock(db: &Db, order_id: i64, held: bool, locked: i64, expires: i64) {
    db.exec(
        "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
         VALUES (?, 'SKU-TEA-0042', 1, ?, ?, ?)",
        &[
            order_id.into(),
            held.into(),
            at(locked).into(),
            at(expires).into(),
        ],
    )
    .await;
}

pub async fn hold(db: &Db, order_id: i64, reason: &str, ago: i64) {
    db.exec(
        "UPDATE orders SET hold_reason = ?, held_at = ? WHERE id = ?",
        &[reason.into(), at(ago).into(), order_id.into()],
    )
    .await;
}

/// Plants, for every built-in rule, orders that must match and orders
/// that must not; returns the expected order ids per rule.
pub async fn plant(db: &Db) -> BTreeMap<&'static str, BTreeSet<i64>> {
    let mut want: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
    let mut hit = |rule: &'static str, id: i64| {
        want.entry(rule).or_default().insert(id);
    };

    // ghost.pending_review: 30 min.
    let a = order(db, "PR-OLD", "pending_review", "unpaid", 45).await;
    hit("ghost.pending_review", a);
    let b = order(db, "PR-PAID-AT-GATEWAY", "pending_review", "paid", 200).await;
    hit("ghost.pending_review", b);
    order(db, "PR-FRESH", "pending_review", "unpaid", 10).await;
    let held = order(db, "PR-HELD", "pending_review", "unpaid", 45).await;
    hold(db, held, "manual", 45).await;

    // ghost.paid_no_inventory_sync: 15 min.
    let c = order(db, "PAID-NOSYNC", "paid", "paid", 20).await;
    event(db, c, 20, "payment", "payment_callback", "paid").await;
    event(db, c, 19, "inventory", "lock_conflict", "paid").await;
    hit("ghost.paid_no_inventory_sync", c);
    let synced = order(db, "PAID-SYNCED", "paid", "paid", 20).await;
    event(
        db,
        synced,
        19,
        "inventory",
        "inventory_synced",
        "inventory_locked",
    )
    .await;
    order(db, "PAID-FRESH", "paid", "paid", 5).await;

    // ghost.lock_expired_held: 10 min after expiry.
    let d = order(db, "LOCK-LEAK", "cancelled", "refunded", 40).await;
    lock(db, d, true, 50, 35).await;
    lock(db, d, true, 45, 20).await;
    hit("ghost.lock_expired_held", d);
    let recent = order(db, "LOCK-RECENT", "inventory_locked", "paid", 20).await;
    lock(db, recent, true, 20, 5).await;
    let released = order(db, "LOCK-RELEASED", "processing", "paid", 60).await;
    lock(db, released, false, 80, 65).await;

    // split.delivered_vs_in_transit: 15 min.
    let e = order(db, "SPLIT-TRANSIT", "delivered", "paid", 30).await;
    view(db, e, "app", "delivered", 30).await;
    view(db, e, "logistics", "in_transit", 300).await;
    hit("split.delivered_vs_in_transit", e);
    let agree = order(db, "SPLIT-AGREE", "delivered", "paid", 30).await;
    view(db, agree, "app", "delivered", 30).await;
    view(db, agree, "logistics", "delivered", 29).await;
    // Settled in the app with the parcel still in transit: as split.
    let settled_transit = order(db, "SPLIT-SETTLED-TRANSIT", "settled", "paid", 30).await;
    view(db, settled_transit, "app", "settled", 30).await;
    view(db, settled_transit, "logistics", "in_transit", 300).await;
    view(db, settled_transit, "supplier", "settled", 30).await;
    view(db, settled_transit, "finance", "received", 30).await;
    hit("split.delivered_vs_in_transit", settled_transit);
    let young = order(db, "SPLIT-YOUNG", "delivered", "paid", 5).await;
    view(db, young, "app", "delivered", 5).await;
    view(db, young, "logistics", "in_transit", 300).await;

    // split.settled_vs_unpaid: 30 min.
    let f = order(db, "SETTLED-UNPAID", "delivered", "paid", 40).await;
    view(db, f, "supplier", "settled", 40).await;
    view(db, f, "finance", "unpaid", 300).await;
    hit("split.settled_vs_unpaid", f);
    let g = order(db, "SETTLED-NO-FINANCE", "delivered", "paid", 90).await;
    view(db, g, "supplier", "settled", 90).await;
    hit("split.settled_vs_unpaid", g);
    let paid = order(db, "SETTLED-RECEIVED", "settled", "paid", 90).await;
    view(db, paid, "supplier", "settled", 90).await;
    view(db, paid, "finance", "received", 90).await;
    // The app already shows it settled: still split while finance waits
    // (missed when the rule looked at `delivered` orders only).
    let app_settled = order(db, "SETTLED-IN-APP-UNPAID", "settled", "paid", 50).await;
    view(db, app_settled, "supplier", "settled", 50).await;
    view(db, app_settled, "finance", "unpaid", 300).await;
    hit("split.settled_vs_unpaid", app_settled);
    let soon = order(db, "SETTLED-SOON", "delivered", "paid", 10).await;
    view(db, soon, "supplier", "settled", 10).await;
    view(db, soon, "finance", "unpaid", 300).await;

    // zombie.processing_24h.
    let h = order(db, "ZOMBIE-25H", "processing", "paid", 25 * 60).await;
    view(db, h, "erp", "failed", 25 * 60).await;
    hit("zombie.processing_24h", h);
    order(db, "PROCESSING-23H", "processing", "paid", 23 * 60).await;

    // zombie.risk_hold: 2 h.
    let i = order(db, "RISK-3H", "processing", "paid", 30 * 60).await;
    hold(db, i, "risk", 180).await;
    hit("zombie.risk_hold", i);
    let fresh_hold = order(db, "RISK-1H", "processing", "paid", 60).await;
    hold(db, fresh_hold, "risk", 60).await;
    let shipped = order(db, "RISK-SHIPPED", "shipped", "paid", 300).await;
    hold(db, shipped, "risk", 300).await;
    let manual = order(db, "MANUAL-HOLD", "processing", "paid", 300).await;
    hold(db, manual, "manual", 300).await;

    // A healthy order that went all the way.
    let ok = order(db, "HEALTHY", "settled", "paid", 600).await;
    view(db, ok, "app", "settled", 600).await;
    view(db, ok, "logistics", "delivered", 700).await;
    view(db, ok, "supplier", "settled", 600).await;
    view(db, ok, "finance", "received", 600).await;
    want
}

/// Runs detection and checks every built-in rule found exactly its planted
/// orders, with families, details and times intact.
pub async fn assert_builtin_rules(
    store: &impl orderdeck::sources::OrderStore,
    want: &BTreeMap<&'static str, BTreeSet<i64>>,
) {
    use orderdeck::model::Family;
    let now = super::now();
    let snap = store.detect(now).await.expect("detect");
    assert!(snap.rule_errors.is_empty(), "{:?}", snap.rule_errors);
    assert!(snap.truncated_rules.is_empty());
    assert_eq!(snap.as_of, now);
    let mut got: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for o in &snap.orders {
        got.entry(o.rule_id.as_str())
            .or_default()
            .insert(o.order_id);
    }
    let builtin = orderdeck::runbook::Runbook::builtin();
    for rule in &builtin.rules {
        assert_eq!(
            got.get(rule.id.as_str()),
            want.get(rule.id.as_str()),
            "rule {} on {}",
            rule.id,
            store.describe()
        );
    }
    assert_eq!(got.len(), builtin.rules.len());
    let find = |no: &str| {
        snap.orders
            .iter()
            .find(|o| o.order_no == no)
            .unwrap_or_else(|| panic!("{no} not detected"))
    };
    let zombie = find("ZOMBIE-25H");
    assert_eq!(zombie.family, Family::Zombie);
    assert_eq!(zombie.detail, "erp=failed");
    assert_eq!(zombie.since, now - Duration::hours(25));
    assert_eq!(zombie.amount_cents, 12800);
    assert_eq!(zombie.supplier_id, 1001);
    let lock = find("LOCK-LEAK");
    assert_eq!(lock.since, now - Duration::minutes(35), "the first expiry");
    assert_eq!(lock.detail, "lock still held after cancel");
}

impl Db {
    /// `SELECT COUNT(*) ...` (any dialect: COUNT is a 64-bit integer everywhere).
    pub async fn count(&self, sql: &str, args: &[Val]) -> i64 {
        match self {
            Db::Sqlite(p) => {
                let q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args, sqlite_time, |b: bool| b as i64)
                    .fetch_one(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .0
            }
            Db::Postgres(p) => {
                let q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(
                    orderdeck::sources::sql::numbered_placeholders(sql),
                ));
                bind_all!(q, args, |t| t, |b| b)
                    .fetch_one(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .0
            }
            Db::Mysql(p) => {
                let q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args, |t: DateTime<Utc>| t.naive_utc(), |b| b)
                    .fetch_one(p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .0
            }
        }
    }

    /// Every row of `sql` as one line, its columns (text or integers)
    /// joined by `|`: for comparing what two databases hold.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        fn cell<R: sqlx::Row>(row: &R, i: usize) -> String
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            row.try_get::<String, _>(i)
                .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
                .or_else(|_| row.try_get::<i32, _>(i).map(|v| v.to_string()))
                .unwrap_or_else(|e| panic!("column {i}: {e}"))
        }
        fn line<R: sqlx::Row>(row: &R) -> String
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            (0..row.len())
                .map(|i| cell(row, i))
                .collect::<Vec<_>>()
                .join("|")
        }
        let text = || AssertSqlSafe(sql.to_string());
        match self {
            Db::Sqlite(p) => sqlx::query(text())
                .fetch_all(p)
                .await
                .map(|r| r.iter().map(line).collect()),
            Db::Postgres(p) => sqlx::query(text())
                .fetch_all(p)
                .await
                .map(|r| r.iter().map(line).collect()),
            Db::Mysql(p) => sqlx::query(text())
                .fetch_all(p)
                .await
                .map(|r| r.iter().map(line).collect()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn of(store: &orderdeck::sources::store::AnyStore) -> Db {
        use orderdeck::sources::store::AnyStore;
        match store {
            AnyStore::Postgres(s) => Db::Postgres(s.pool().clone()),
            AnyStore::Mysql(s) => Db::Mysql(s.pool().clone()),
            AnyStore::Sqlite(s) => Db::Sqlite(s.pool().clone()),
        }
    }
}
