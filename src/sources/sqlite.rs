//! The SQLite order store: the reference schema in a local file (the demo's
//! database, or a user's), detection through the runbook's rules.

mod decode;
pub mod time;

use super::SourceError;
use super::sql::{Backend, BoundQuery, SqlStore, db_err, one_line};
use crate::runbook::Dialect;
use chrono::{DateTime, Utc};
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub use super::sql::{DEFAULT_ROW_LIMIT, MIGRATIONS_TABLE};

/// The reference schema, SQLite dialect, compiled in.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "reference schema",
    include_str!("../../migrations/sqlite/0001_reference_schema.sql"),
)];

/// The embedded SQLite migrations, applied by [`SqliteStore::migrate`].
pub fn migrator() -> Migrator {
    super::sql::migrator(MIGRATIONS)
}

/// Orders, detection and timelines over an SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

/// Splits what the user typed into connect options and a label for the
/// status bar (the file name only: paths can say more than they should).
fn options(url_or_path: &str) -> Result<(SqliteConnectOptions, Option<String>, bool), SourceError> {
    let s = url_or_path.trim();
    if s.is_empty() {
        return Err(SourceError::new("empty SQLite database path"));
    }
    let memory = matches!(s, ":memory:" | "sqlite::memory:" | "sqlite://:memory:");
    if memory {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| SourceError::new(format!("sqlite in-memory database: {e}")))?;
        return Ok((opts, None, true));
    }
    let opts = if s.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(s).map_err(|e| {
            SourceError::new(format!("bad SQLite URL: {}", one_line(&e.to_string())))
        })?
    } else {
        SqliteConnectOptions::new().filename(s)
    };
    let file = opts.get_filename().to_path_buf();
    Ok((opts, Some(file.to_string_lossy().into_owned()), false))
}

impl SqlStore<Sqlite> {
    /// Opens an SQLite database: `sqlite://path`, `sqlite:path` or a bare
    /// path. With `create` a missing file is created; without, it is an error.
    pub async fn open(url_or_path: &str, create: bool) -> Result<SqliteStore, SourceError> {
        let (opts, file, memory) = options(url_or_path)?;
        if let Some(file) = &file {
            if !create && !Path::new(file).exists() {
                return Err(SourceError::new(format!(
                    "SQLite database {file} does not exist (check the path, or create it with `orderdeck db migrate`)"
                )));
            }
        }
        let opts = opts
            .create_if_missing(create)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 4 })
            .min_connections(if memory { 1 } else { 0 })
            .acquire_timeout(Duration::from_secs(10))
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(300))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            // Reads switch `query_only` on; whatever borrows the connection
            // next (a remediation, a migration) gets it writable again.
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA query_only = OFF").await?;
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| {
                db_err(
                    &format!(
                        "could not open SQLite database {}",
                        file.as_deref().unwrap_or(":memory:")
                    ),
                    e,
                )
            })?;
        let name = file
            .as_deref()
            .map(|f| {
                Path::new(f)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.to_string())
            })
            .unwrap_or_else(|| ":memory:".into());
        Ok(SqlStore::from_pool(pool, format!("sqlite {name}")))
    }

    /// Applies the reference schema; running it again changes nothing.
    pub async fn migrate(&self) -> Result<(), SourceError> {
        migrate_pool(self.pool()).await
    }
}

/// Applies the embedded migrations to any SQLite pool (the simulator uses it too).
pub async fn migrate_pool(pool: &SqlitePool) -> Result<(), SourceError> {
    migrator().run(pool).await.map_err(|e| {
        SourceError::new(format!(
            "migrating the SQLite reference schema: {}",
            one_line(&e.to_string())
        ))
    })
}

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    const BEGIN_READ_ONLY: &'static str = "BEGIN";
    // Not transactional: set per read, cleared when the connection goes
    // back to the pool (see `open`), so remediations can still write.
    const READ_ONLY_SESSION: Option<&'static str> = Some("PRAGMA query_only = ON");
    const NAME: &'static str = "sqlite";

    fn bind_time(q: BoundQuery<'_, Self>, t: DateTime<Utc>) -> BoundQuery<'_, Self> {
        q.bind(time::bind_value(t))
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
    fn opt_int(row: &SqliteRow, col: &str) -> Result<Option<i64>, String> {
        decode::opt_int(row, col)
    }
    fn opt_text(row: &SqliteRow, col: &str) -> Result<Option<String>, String> {
        decode::opt_text(row, col)
    }
    fn time(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>, String> {
        decode::timestamp(row, col)
    }
    // A local file has no connection to lose; only the file going away is.
    fn is_lost_connection(message: &str) -> bool {
        let m = message.to_ascii_lowercase();
        ["unable to open", "disk i/o"].iter().any(|k| m.contains(k))
    }
    fn is_connection_error(message: &str) -> bool {
        let m = message.to_ascii_lowercase();
        [
            "unable to open",
            "pool timed out",
            "database is locked",
            "disk i/o",
            "no such table",
        ]
        .iter()
        .any(|k| m.contains(k))
    }
}
