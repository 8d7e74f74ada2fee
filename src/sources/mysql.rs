//! The MySQL/MariaDB order store: the reference schema (or a user's,
//! through the runbook) over a small pool with a server-side statement
//! timeout, sessions in UTC.

use super::SourceError;
use super::sql::{
    Backend, BoundQuery, STATEMENT_TIMEOUT, SqlStore, is_null, one_line, open_pool,
    server_pool_options, shorten,
};
use super::sqlite::time::parse_timestamp;
use crate::runbook::Dialect;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlRow};
use sqlx::{Executor, MySql, Row};
use std::str::FromStr;

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "reference schema",
    include_str!("../../migrations/mysql/0001_reference_schema.sql"),
)];

pub fn migrator() -> Migrator {
    super::sql::migrator(MIGRATIONS)
}

pub type MySqlStore = SqlStore<MySql>;

fn connect_options(url: &str) -> Result<MySqlConnectOptions, SourceError> {
    // sqlx only knows mysql://; MariaDB users write mariadb://.
    let url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_string(),
    };
    let opts = MySqlConnectOptions::from_str(&url).map_err(|e| {
        SourceError::new(format!(
            "bad MySQL URL: {} (expected mysql://user@host:3306/dbname)",
            one_line(&e.to_string())
        ))
    })?;
    // DATETIME has no zone: the session must be UTC for NOW() and
    // TIMESTAMP columns to agree with the UTC the store binds.
    Ok(opts.timezone(Some("+00:00".to_string())))
}

impl SqlStore<MySql> {
    /// A store over a MySQL/MariaDB URL; `lazy` as for PostgreSQL.
    pub async fn connect(url: &str, label: String, lazy: bool) -> Result<Self, SourceError> {
        let opts = connect_options(url)?;
        let secs = STATEMENT_TIMEOUT.as_secs();
        let pool_opts = server_pool_options::<MySql>().after_connect(move |conn, _meta| {
            Box::pin(async move {
                // MariaDB spells the statement timeout max_statement_time
                // (seconds, every statement); MySQL max_execution_time
                // (milliseconds, SELECT only). Whichever the server knows.
                let maria = format!("SET SESSION max_statement_time = {secs}");
                if conn.execute(sqlx::AssertSqlSafe(maria)).await.is_err() {
                    let mysql = format!("SET SESSION max_execution_time = {}", secs * 1000);
                    conn.execute(sqlx::AssertSqlSafe(mysql)).await?;
                }
                Ok(())
            })
        });
        let pool = open_pool(pool_opts, opts, &label, lazy).await?;
        Ok(SqlStore::from_pool(pool, label))
    }

    /// Applies the reference schema; running it again changes nothing.
    pub async fn migrate(&self) -> Result<(), SourceError> {
        migrator().run(self.pool()).await.map_err(|e| {
            SourceError::new(format!(
                "migrating the MySQL reference schema: {}",
                one_line(&e.to_string())
            ))
        })
    }
}

/// Text of a string cell, whether the server calls it text or binary (a
/// CASE over literals can come back as VARBINARY under some collations).
fn string(row: &MySqlRow, col: &str) -> Option<String> {
    if let Ok(t) = row.try_get::<String, _>(col) {
        return Some(t);
    }
    row.try_get::<Vec<u8>, _>(col)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

impl Backend for MySql {
    const DIALECT: Dialect = Dialect::Mysql;
    const BEGIN_READ_ONLY: &'static str = "START TRANSACTION READ ONLY";
    const NAME: &'static str = "mysql";

    fn bind_time(q: BoundQuery<'_, Self>, t: DateTime<Utc>) -> BoundQuery<'_, Self> {
        q.bind(t.naive_utc())
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

    fn opt_int(row: &MySqlRow, col: &str) -> Result<Option<i64>, String> {
        if is_null(row, col)? {
            return Ok(None);
        }
        if let Ok(v) = row.try_get::<i64, _>(col) {
            return Ok(Some(v));
        }
        if let Ok(v) = row.try_get::<u64, _>(col) {
            return i64::try_from(v)
                .map(Some)
                .map_err(|_| format!("column {col}: {v} is out of range"));
        }
        if let Ok(v) = row.try_get::<bool, _>(col) {
            return Ok(Some(i64::from(v)));
        }
        if let Some(t) = string(row, col) {
            return t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("column {col}: {:?} is not an integer", shorten(&t)));
        }
        Err(format!("column {col}: not an integer type"))
    }

    fn opt_text(row: &MySqlRow, col: &str) -> Result<Option<String>, String> {
        if is_null(row, col)? {
            return Ok(None);
        }
        if let Some(t) = string(row, col) {
            return Ok(Some(t));
        }
        Self::opt_int(row, col)
            .map_err(|_| format!("column {col}: not a text type"))
            .map(|v| v.map(|n| n.to_string()))
    }

    fn time(row: &MySqlRow, col: &str) -> Result<DateTime<Utc>, String> {
        if is_null(row, col)? {
            return Err(format!("column {col} is NULL, expected a timestamp"));
        }
        // DATETIME(6) holding UTC, per the reference schema.
        if let Ok(t) = row.try_get::<NaiveDateTime, _>(col) {
            return Ok(t.and_utc());
        }
        if let Ok(t) = row.try_get::<DateTime<Utc>, _>(col) {
            return Ok(t);
        }
        if let Some(t) = string(row, col) {
            return parse_timestamp(&t)
                .ok_or_else(|| format!("column {col}: unparseable timestamp {:?}", shorten(&t)));
        }
        Err(format!("column {col}: not a timestamp type"))
    }
}
