//! The simulator's database: one pool type per dialect behind a small enum
//! (sqlx's `Any` driver has no time types, DESIGN section 3), statements
//! written once with `?` placeholders, values bound, never formatted in.
//!
//! Times are bound in each dialect's native type: `timestamptz` from a UTC
//! `DateTime` (PostgreSQL), `DATETIME(6)` from the naive UTC time
//! (MySQL/MariaDB), ISO-8601 text (SQLite).

use super::error::{SimError, one_line};
use crate::config::mask_secrets;
use crate::sources::sql::numbered_placeholders;
use crate::sources::sqlite::time::format_timestamp;
use crate::sources::store::DbKind;
use chrono::{DateTime, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions};
use sqlx::{
    AssertSqlSafe, Connection, Database, Executor, MySql, Pool, Postgres, Row, Sqlite, Transaction,
};
use std::str::FromStr;
use std::time::Duration;

/// How a dialect is named to the user (progress line, summary).
pub fn name(kind: DbKind) -> &'static str {
    match kind {
        DbKind::Postgres => "PostgreSQL",
        DbKind::Mysql => "MySQL/MariaDB",
        DbKind::Sqlite => "SQLite",
    }
}

/// A value to bind.
#[derive(Debug, Clone)]
pub enum Val {
    Int(i64),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
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
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::OptText(v.map(str::to_string))
    }
}
impl From<DateTime<Utc>> for Val {
    fn from(v: DateTime<Utc>) -> Self {
        Val::Time(v)
    }
}

/// Binds `vals` onto a query, converting times to the dialect's type.
macro_rules! bind_vals {
    ($query:expr, $vals:expr, $time:expr) => {{
        let mut q = $query;
        for v in $vals {
            q = match v {
                Val::Int(i) => q.bind(*i),
                Val::Text(s) => q.bind(s.clone()),
                Val::OptText(s) => q.bind(s.clone()),
                Val::Time(t) => q.bind($time(*t)),
            };
        }
        q
    }};
}

fn pg_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}
fn my_time(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.naive_utc()
}
fn lite_time(t: DateTime<Utc>) -> String {
    format_timestamp(t)
}

/// Runs one statement against an executor of each dialect.
macro_rules! dispatch {
    ($self:expr, $sql:expr, $vals:expr, |$q:ident, $ex:ident| $body:expr) => {
        match $self {
            Either::Pg($ex) => {
                let $q = bind_vals!(
                    sqlx::query(AssertSqlSafe(numbered_placeholders($sql))),
                    $vals,
                    pg_time
                );
                $body
            }
            Either::My($ex) => {
                let $q = bind_vals!(sqlx::query(AssertSqlSafe($sql.to_string())), $vals, my_time);
                $body
            }
            Either::Lite($ex) => {
                let $q = bind_vals!(
                    sqlx::query(AssertSqlSafe($sql.to_string())),
                    $vals,
                    lite_time
                );
                $body
            }
        }
    };
}

/// A pool or a transaction, per dialect.
enum Either<P, M, L> {
    Pg(P),
    My(M),
    Lite(L),
}

/// What runs a statement is a pool or a transaction's connection; the
/// statement runs the same on either.
impl<'c, P, M, L> Either<P, M, L>
where
    P: Executor<'c, Database = Postgres>,
    M: Executor<'c, Database = MySql>,
    L: Executor<'c, Database = Sqlite>,
{
    async fn exec(self, sql: &str, vals: &[Val]) -> Result<u64, sqlx::Error> {
        dispatch!(self, sql, vals, |q, ex| Ok(q
            .execute(ex)
            .await?
            .rows_affected()))
    }

    async fn fetch_ints(self, sql: &str, vals: &[Val]) -> Result<Vec<Vec<i64>>, sqlx::Error> {
        dispatch!(self, sql, vals, |q, ex| {
            let mut rows = Vec::new();
            for row in q.fetch_all(ex).await? {
                // INT columns decode as `i32`, BIGINT as `i64`.
                let mut ints = Vec::with_capacity(row.len());
                for i in 0..row.len() {
                    ints.push(match row.try_get::<i64, _>(i) {
                        Ok(v) => v,
                        Err(_) => i64::from(row.try_get::<i32, _>(i)?),
                    });
                }
                rows.push(ints);
            }
            Ok(rows)
        })
    }
}

/// A connection pool to the simulated shop's database.
#[derive(Debug, Clone)]
pub enum Db {
    Pg(PgPool),
    My(MySqlPool),
    Lite(SqlitePool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Pg(Transaction<'static, Postgres>),
    My(Transaction<'static, MySql>),
    Lite(Transaction<'static, Sqlite>),
}

/// How long a statement waits for a row lock before giving up. Short, so a
/// hot-row conflict shows up as a lock timeout within a short run.
pub const LOCK_WAIT: Duration = Duration::from_secs(1);

impl Db {
    pub fn kind(&self) -> DbKind {
        match self {
            Db::Pg(_) => DbKind::Postgres,
            Db::My(_) => DbKind::Mysql,
            Db::Lite(_) => DbKind::Sqlite,
        }
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Pg(p) => Tx::Pg(p.begin().await?),
            Db::My(p) => Tx::My(p.begin().await?),
            Db::Lite(p) => Tx::Lite(p.begin().await?),
        })
    }

    fn either(&self) -> Either<&PgPool, &MySqlPool, &SqlitePool> {
        match self {
            Db::Pg(p) => Either::Pg(p),
            Db::My(p) => Either::My(p),
            Db::Lite(p) => Either::Lite(p),
        }
    }

    /// Runs one statement on its own; returns the rows affected.
    pub async fn exec(&self, sql: &str, vals: &[Val]) -> Result<u64, sqlx::Error> {
        self.either().exec(sql, vals).await
    }

    /// The integer columns of every row.
    pub async fn fetch_ints(&self, sql: &str, vals: &[Val]) -> Result<Vec<Vec<i64>>, sqlx::Error> {
        self.either().fetch_ints(sql, vals).await
    }

    pub async fn close(&self) {
        match self {
            Db::Pg(p) => p.close().await,
            Db::My(p) => p.close().await,
            Db::Lite(p) => p.close().await,
        }
    }
}

impl Tx {
    fn either(&mut self) -> Either<&mut PgConnection, &mut MySqlConnection, &mut SqliteConnection> {
        match self {
            Tx::Pg(t) => Either::Pg(&mut **t),
            Tx::My(t) => Either::My(&mut **t),
            Tx::Lite(t) => Either::Lite(&mut **t),
        }
    }

    pub async fn exec(&mut self, sql: &str, vals: &[Val]) -> Result<u64, sqlx::Error> {
        self.either().exec(sql, vals).await
    }

    /// The integer columns of every row.
    pub async fn fetch_ints(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> Result<Vec<Vec<i64>>, sqlx::Error> {
        self.either().fetch_ints(sql, vals).await
    }

    /// Runs an `INSERT` and returns the new row's `id`: `RETURNING id` where
    /// the dialect has it, `LAST_INSERT_ID()` on MySQL (which has not).
    pub async fn insert_id(&mut self, sql: &str, vals: &[Val]) -> Result<i64, sqlx::Error> {
        match self {
            Tx::My(tx) => {
                let q = bind_vals!(sqlx::query(AssertSqlSafe(sql.to_string())), vals, my_time);
                let done = q.execute(&mut **tx).await?;
                i64::try_from(done.last_insert_id()).map_err(|e| sqlx::Error::Decode(Box::new(e)))
            }
            Tx::Pg(tx) => {
                let q = bind_vals!(
                    sqlx::query(AssertSqlSafe(format!(
                        "{} RETURNING id",
                        numbered_placeholders(sql)
                    ))),
                    vals,
                    pg_time
                );
                q.fetch_one(&mut **tx).await?.try_get::<i64, _>(0)
            }
            Tx::Lite(tx) => {
                let q = bind_vals!(
                    sqlx::query(AssertSqlSafe(format!("{sql} RETURNING id"))),
                    vals,
                    lite_time
                );
                q.fetch_one(&mut **tx).await?.try_get::<i64, _>(0)
            }
        }
    }

    /// Makes row-lock waits in this transaction give up after [`LOCK_WAIT`].
    pub async fn set_lock_wait(&mut self) -> Result<(), sqlx::Error> {
        let ms = LOCK_WAIT.as_millis();
        match self {
            // SET LOCAL lasts until the transaction ends.
            Tx::Pg(tx) => {
                tx.execute(AssertSqlSafe(format!("SET LOCAL lock_timeout = {ms}")))
                    .await?;
            }
            // Whole seconds only; the session keeps it, which is what the
            // simulator wants on every pooled connection anyway.
            Tx::My(tx) => {
                let secs = LOCK_WAIT.as_secs().max(1);
                tx.execute(AssertSqlSafe(format!(
                    "SET SESSION innodb_lock_wait_timeout = {secs}"
                )))
                .await?;
            }
            // One writer, one connection: there is nothing to wait for.
            Tx::Lite(_) => {}
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Pg(t) => t.commit().await,
            Tx::My(t) => t.commit().await,
            Tx::Lite(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Pg(t) => t.rollback().await,
            Tx::My(t) => t.rollback().await,
            Tx::Lite(t) => t.rollback().await,
        }
    }
}

/// Connections the simulator may hold: its consumers, the order front and
/// the deadlock holder each use one at a time.
const MAX_CONNECTIONS: u32 = 12;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a pool for `url` (`postgres://`, `mysql://`, `mariadb://` or
/// `sqlite://`, the schemes the cockpit's store knows). Errors are one line
/// with the URL masked.
pub async fn connect(url: &str) -> Result<Db, SimError> {
    let masked = mask_secrets(url);
    let url = url.trim();
    let kind = DbKind::of_url(url).map_err(|_| unsupported(url, &masked))?;
    let bad_url = |e: sqlx::Error| {
        SimError::Usage(format!(
            "bad database URL {masked}: {}",
            one_line(&mask_secrets(&e.to_string()))
        ))
    };
    match kind {
        DbKind::Postgres => {
            let opts = PgConnectOptions::from_str(url)
                .map_err(bad_url)?
                .application_name("orderdeck simulate")
                .options([("statement_timeout", "60s")]);
            open_pool(opts, &masked).await.map(Db::Pg)
        }
        DbKind::Mysql => {
            // sqlx knows MariaDB by the mysql:// scheme only.
            let rest = url.split_once(':').map_or("", |(_, rest)| rest);
            let opts = MySqlConnectOptions::from_str(&format!("mysql:{rest}")).map_err(bad_url)?;
            open_pool(opts, &masked).await.map(Db::My)
        }
        DbKind::Sqlite => {
            // The schema must be there already, so the file must too.
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(bad_url)?
                .create_if_missing(false)
                .busy_timeout(Duration::from_secs(10));
            open_sqlite(opts, &masked).await.map(Db::Lite)
        }
    }
}

/// A URL whose scheme is none of the databases': simulate names the
/// scheme it was given and the ones it takes.
fn unsupported(url: &str, masked: &str) -> SimError {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    SimError::Usage(if scheme.is_empty() {
        "empty database URL (use postgres://, mysql://, mariadb:// or sqlite://)".into()
    } else {
        format!(
            "database URL {masked}: unsupported scheme {scheme:?} (use postgres://, mysql://, mariadb:// or sqlite://)"
        )
    })
}

/// A server's pool, after one probe connection says whether it answers.
async fn open_pool<DB: Database>(
    opts: <DB::Connection as Connection>::Options,
    masked: &str,
) -> Result<Pool<DB>, SimError> {
    let unreachable = |e: sqlx::Error| {
        SimError::Unreachable(format!(
            "database {masked} unreachable: {}; is the server running and are the URL and credentials right?",
            one_line(&mask_secrets(&e.to_string()))
        ))
    };
    probe::<DB::Connection>(&opts).await.map_err(unreachable)?;
    PoolOptions::<DB>::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(opts)
        .await
        .map_err(unreachable)
}

/// SQLite has one writer: one connection serialises the consumers instead
/// of failing them with SQLITE_BUSY.
async fn open_sqlite(opts: SqliteConnectOptions, masked: &str) -> Result<SqlitePool, SimError> {
    SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts)
        .await
        .map_err(|e| {
            SimError::Usage(format!(
                "SQLite database {masked}: {}; create it with `orderdeck db migrate --database-url {masked}` first",
                one_line(&e.to_string())
            ))
        })
}

/// One connection first: a pool retries a refused connection until its
/// acquire timeout and then reports only that it timed out, where a single
/// connection says at once what is wrong (refused, bad password, no such
/// database).
async fn probe<C: Connection>(opts: &<C as Connection>::Options) -> Result<(), sqlx::Error> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, C::connect_with(opts)).await {
        Ok(Ok(conn)) => conn.close().await,
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::PoolTimedOut),
    }
}

/// The reference tables and the columns the simulator writes.
const SCHEMA_PROBES: [(&str, &str); 5] = [
    (
        "orders",
        "SELECT id, order_no, buyer_id, supplier_id, sku, quantity, amount_cents, status, payment_status, hold_reason, held_at, created_at, status_changed_at FROM orders WHERE 1 = 0",
    ),
    (
        "order_events",
        "SELECT id, order_id, occurred_at, source, kind, status, detail, payload FROM order_events WHERE 1 = 0",
    ),
    (
        "order_views",
        "SELECT order_id, system, status, observed_at FROM order_views WHERE 1 = 0",
    ),
    (
        "inventory",
        "SELECT sku, on_hand, reserved FROM inventory WHERE 1 = 0",
    ),
    (
        "inventory_locks",
        "SELECT id, order_id, sku, quantity, is_locked, locked_at, expires_at FROM inventory_locks WHERE 1 = 0",
    ),
];

/// Checks that the reference schema is there; a missing table or column is
/// a usage error that says how to create it.
pub async fn check_schema(db: &Db, url: &str) -> Result<(), SimError> {
    let masked = mask_secrets(url);
    for (table, probe) in SCHEMA_PROBES {
        if let Err(e) = db.exec(probe, &[]).await {
            return Err(if is_missing_schema(&e) {
                SimError::Usage(format!(
                    "{masked} has no reference schema ({table}: {}): run `orderdeck db migrate --database-url {masked}` first",
                    one_line(&e.to_string())
                ))
            } else {
                SimError::Unreachable(format!(
                    "database {masked}: checking table {table} failed: {}",
                    one_line(&mask_secrets(&e.to_string()))
                ))
            });
        }
    }
    Ok(())
}

/// The SQLSTATE (or SQLite code) of a database error.
fn code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

fn is_missing_schema(e: &sqlx::Error) -> bool {
    // PostgreSQL undefined_table / undefined_column; MySQL ER_NO_SUCH_TABLE
    // (42S02) / ER_BAD_FIELD_ERROR (42S22); SQLite says it in words.
    matches!(
        code(e).as_deref(),
        Some("42P01" | "42703" | "42S02" | "42S22" | "3F000")
    ) || {
        let m = e.to_string();
        m.contains("no such table") || m.contains("no such column")
    }
}

/// A row-lock wait that gave up, or a deadlock the database broke: the
/// conflicts the `deadlock` chaos causes. Retrying may succeed.
pub fn is_lock_conflict(e: &sqlx::Error) -> bool {
    let Some(d) = e.as_database_error() else {
        return false;
    };
    if let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK
        return matches!(my.number(), 1205 | 1213);
    }
    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
        return d
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|n| matches!(n & 0xff, 5 | 6));
    }
    // lock_not_available, deadlock_detected, serialization_failure
    matches!(d.code().as_deref(), Some("55P03" | "40P01" | "40001"))
}

/// Whether a lock conflict was a deadlock (for the event's wording).
pub fn is_deadlock(e: &sqlx::Error) -> bool {
    if let Some(d) = e.as_database_error()
        && let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
    {
        return my.number() == 1213;
    }
    code(e).as_deref() == Some("40P01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unsupported_and_bad_urls_are_usage_errors_with_masked_passwords() {
        let e = connect("oracle://scott:tiger@db/x").await.unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unsupported scheme"), "{e}");
        assert!(!e.to_string().contains("tiger"), "{e}");
        let e = connect("").await.unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[tokio::test]
    async fn a_missing_sqlite_file_says_to_migrate_first() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("none.db").display());
        let e = connect(&url).await.unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains("orderdeck db migrate"), "{e}");
    }

    #[tokio::test]
    async fn an_empty_sqlite_database_has_no_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.db");
        std::fs::File::create(&path).unwrap();
        let url = format!("sqlite://{}", path.display());
        let db = connect(&url).await.unwrap();
        let e = check_schema(&db, &url).await.unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains("no reference schema (orders"), "{e}");
        db.close().await;
    }
}
