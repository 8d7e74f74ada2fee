//! The PostgreSQL order store: the reference schema (or a user's, through
//! the runbook) over a small pool with a server-side statement timeout.

use super::SourceError;
use super::sql::{
    Backend, BoundQuery, STATEMENT_TIMEOUT, SqlStore, is_null, one_line, open_pool,
    server_pool_options, shorten,
};
use super::sqlite::time::parse_timestamp;
use crate::runbook::Dialect;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{Postgres, Row};
use std::str::FromStr;

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "reference schema",
    include_str!("../../migrations/postgres/0001_reference_schema.sql"),
)];

pub fn migrator() -> Migrator {
    super::sql::migrator(MIGRATIONS)
}

pub type PgStore = SqlStore<Postgres>;

fn connect_options(url: &str) -> Result<PgConnectOptions, SourceError> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| {
        SourceError::new(format!(
            "bad PostgreSQL URL: {} (expected postgres://user@host:5432/dbname)",
            one_line(&e.to_string())
        ))
    })?;
    // Server-side limits: a rule that runs away is cancelled by PostgreSQL
    // itself, and a session left idle in a transaction cannot hold locks.
    // The rules are small index-driven reads: parallel workers and JIT only
    // add start-up time to them, and a cockpit must not take workers from
    // the production queries it is watching.
    // `?application_name=` in the URL wins, so a DBA can tell one
    // cockpit's sessions from another's in pg_stat_activity.
    let name = opts
        .get_application_name()
        .unwrap_or("orderdeck")
        .to_string();
    Ok(opts.application_name(&name).options([
        ("max_parallel_workers_per_gather", "0".to_string()),
        ("jit", "off".to_string()),
        (
            "statement_timeout",
            format!("{}", STATEMENT_TIMEOUT.as_millis()),
        ),
        ("idle_in_transaction_session_timeout", "60000".to_string()),
        ("TimeZone", "UTC".to_string()),
    ]))
}

impl SqlStore<Postgres> {
    /// A store over a PostgreSQL URL; `lazy` as for [`open_pool`].
    pub async fn connect(url: &str, label: String, lazy: bool) -> Result<Self, SourceError> {
        let opts = connect_options(url)?;
        let pool = open_pool(server_pool_options(), opts, &label, lazy).await?;
        Ok(SqlStore::from_pool(pool, label))
    }

    /// Applies the reference schema; running it again changes nothing.
    pub async fn migrate(&self) -> Result<(), SourceError> {
        migrator().run(self.pool()).await.map_err(|e| {
            SourceError::new(format!(
                "migrating the PostgreSQL reference schema: {}",
                one_line(&e.to_string())
            ))
        })
    }
}

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    const BEGIN_READ_ONLY: &'static str = "BEGIN READ ONLY";
    const NAME: &'static str = "postgres";

    fn bind_time(q: BoundQuery<'_, Self>, t: DateTime<Utc>) -> BoundQuery<'_, Self> {
        q.bind(t)
    }
    fn bind_int(q: BoundQuery<'_, Self>, v: i64) -> BoundQuery<'_, Self> {
        q.bind(v)
    }
    fn bind_text(q: BoundQuery<'_, Self>, v: String) -> BoundQuery<'_, Self> {
        q.bind(v)
    }
    fn bind_opt_text(q: BoundQuery<'_, Self>, v: Option<String>) -> BoundQuery<'_, Self> {
        q.bind(v)
    }
    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    // PostgreSQL checks types strictly (an INT4 is not an i64), and users'
    // schemas differ from the reference one: each accepted spelling is tried.
    fn opt_int(row: &PgRow, col: &str) -> Result<Option<i64>, String> {
        if is_null(row, col)? {
            return Ok(None);
        }
        if let Ok(v) = row.try_get::<i64, _>(col) {
            return Ok(Some(v));
        }
        if let Ok(v) = row.try_get::<i32, _>(col) {
            return Ok(Some(i64::from(v)));
        }
        if let Ok(v) = row.try_get::<i16, _>(col) {
            return Ok(Some(i64::from(v)));
        }
        if let Ok(t) = row.try_get::<String, _>(col) {
            return t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("column {col}: {:?} is not an integer", shorten(&t)));
        }
        Err(format!("column {col}: not an integer type"))
    }

    fn opt_text(row: &PgRow, col: &str) -> Result<Option<String>, String> {
        if is_null(row, col)? {
            return Ok(None);
        }
        if let Ok(t) = row.try_get::<String, _>(col) {
            return Ok(Some(t));
        }
        Self::opt_int(row, col)
            .map_err(|_| format!("column {col}: not a text type"))
            .map(|v| v.map(|n| n.to_string()))
    }

    fn time(row: &PgRow, col: &str) -> Result<DateTime<Utc>, String> {
        if is_null(row, col)? {
            return Err(format!("column {col} is NULL, expected a timestamp"));
        }
        if let Ok(t) = row.try_get::<DateTime<Utc>, _>(col) {
            return Ok(t);
        }
        // `timestamp without time zone`: the reference world keeps UTC.
        if let Ok(t) = row.try_get::<NaiveDateTime, _>(col) {
            return Ok(t.and_utc());
        }
        if let Ok(t) = row.try_get::<String, _>(col) {
            return parse_timestamp(&t)
                .ok_or_else(|| format!("column {col}: unparseable timestamp {:?}", shorten(&t)));
        }
        Err(format!("column {col}: not a timestamp type"))
    }
}
