//! The order store for a database URL: the dialect is picked by the URL's
//! scheme, and the status bar label never carries credentials.

use super::mysql::MySqlStore;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{OrderStore, SourceError};
use crate::model::{DetectionSnapshot, Timeline};
use crate::runbook::Runbook;
use chrono::{DateTime, Utc};

/// The databases orderdeck speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
    Mysql,
}

impl DbKind {
    /// The dialect a URL names, or a one-line error listing the ones known.
    pub fn of_url(url: &str) -> Result<DbKind, SourceError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(DbKind::Sqlite),
            "postgres" | "postgresql" => Ok(DbKind::Postgres),
            "mysql" | "mariadb" => Ok(DbKind::Mysql),
            "" => Err(SourceError::new(
                "the database URL has no scheme: use postgres://, mysql://, mariadb:// or sqlite://",
            )),
            other => Err(SourceError::new(format!(
                "unsupported database URL scheme {:?}: use postgres://, mysql://, mariadb:// or sqlite://",
                crate::sanitize::sanitize_capped(other, 20)
            ))),
        }
    }
}

/// `postgres 10.0.0.5:5432/shop`: enough to tell environments apart,
/// nothing secret (no user, password or query parameters).
pub fn label(kind: DbKind, url: &str) -> String {
    match kind {
        DbKind::Sqlite => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            let name = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.to_string());
            format!("sqlite {name}")
        }
        DbKind::Postgres | DbKind::Mysql => {
            let name = if kind == DbKind::Postgres {
                "postgres"
            } else {
                "mysql"
            };
            match url::Url::parse(url) {
                Ok(u) => {
                    let host = u.host_str().unwrap_or("localhost");
                    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                    let db = u.path().trim_start_matches('/');
                    let db = if db.is_empty() {
                        String::new()
                    } else {
                        format!("/{db}")
                    };
                    crate::sanitize::sanitize_capped(&format!("{name} {host}{port}{db}"), 60)
                }
                Err(_) => name.to_string(),
            }
        }
    }
}

/// One of the three stores, chosen at run time by URL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
    Mysql(MySqlStore),
}

/// How to open a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Open {
    /// Connect on first use (the cockpit starts while the server is down).
    pub lazy: bool,
    /// Create a missing SQLite file (only `db migrate` does).
    pub create: bool,
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
            AnyStore::Mysql($s) => $e,
        }
    };
}

impl AnyStore {
    pub async fn open(url: &str, how: Open) -> Result<AnyStore, SourceError> {
        let kind = DbKind::of_url(url)?;
        let label = label(kind, url);
        Ok(match kind {
            DbKind::Sqlite => AnyStore::Sqlite(SqliteStore::open(url, how.create).await?),
            DbKind::Postgres => AnyStore::Postgres(PgStore::connect(url, label, how.lazy).await?),
            DbKind::Mysql => AnyStore::Mysql(MySqlStore::connect(url, label, how.lazy).await?),
        })
    }

    pub fn kind(&self) -> DbKind {
        match self {
            AnyStore::Sqlite(_) => DbKind::Sqlite,
            AnyStore::Postgres(_) => DbKind::Postgres,
            AnyStore::Mysql(_) => DbKind::Mysql,
        }
    }

    pub fn with_runbook(self, runbook: Runbook) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_runbook(runbook)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_runbook(runbook)),
            AnyStore::Mysql(s) => AnyStore::Mysql(s.with_runbook(runbook)),
        }
    }

    pub fn with_row_limit(self, n: u32) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_row_limit(n)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_row_limit(n)),
            AnyStore::Mysql(s) => AnyStore::Mysql(s.with_row_limit(n)),
        }
    }

    /// Test seam: a shorter client-side deadline per statement.
    #[doc(hidden)]
    pub fn with_statement_timeout(self, d: std::time::Duration) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_statement_timeout(d)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_statement_timeout(d)),
            AnyStore::Mysql(s) => AnyStore::Mysql(s.with_statement_timeout(d)),
        }
    }

    /// Applies the reference schema for this dialect; idempotent.
    pub async fn migrate(&self) -> Result<(), SourceError> {
        each!(self, s => s.migrate().await)
    }

    /// See [`SqlStore::applied_migrations`](super::sql::SqlStore::applied_migrations).
    pub async fn applied_migrations(&self) -> Vec<(i64, String)> {
        each!(self, s => s.applied_migrations().await)
    }

    pub async fn close(&self) {
        each!(self, s => s.close().await)
    }

    /// `postgres`, `mysql` or `sqlite`: the dialect a preview's SQL is in.
    pub fn describe_kind(&self) -> String {
        format!(
            "{} ({})",
            self.describe(),
            match self.kind() {
                DbKind::Sqlite => "sqlite",
                DbKind::Postgres => "postgres",
                DbKind::Mysql => "mysql",
            }
        )
    }
}

impl OrderStore for AnyStore {
    async fn detect(&self, now: DateTime<Utc>) -> Result<DetectionSnapshot, SourceError> {
        each!(self, s => s.detect(now).await)
    }

    async fn timeline(&self, order_id: i64) -> Result<Option<Timeline>, SourceError> {
        each!(self, s => s.timeline(order_id).await)
    }

    async fn find_order_id(&self, order_no: &str) -> Result<Option<i64>, SourceError> {
        each!(self, s => s.find_order_id(order_no).await)
    }

    fn describe(&self) -> String {
        each!(self, s => s.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_dialect() {
        assert_eq!(
            DbKind::of_url("postgres://u@h/db").unwrap(),
            DbKind::Postgres
        );
        assert_eq!(
            DbKind::of_url("postgresql://h/db").unwrap(),
            DbKind::Postgres
        );
        assert_eq!(DbKind::of_url("mysql://root@h/db").unwrap(), DbKind::Mysql);
        assert_eq!(
            DbKind::of_url("mariadb://root@h/db").unwrap(),
            DbKind::Mysql
        );
        assert_eq!(
            DbKind::of_url("sqlite:///tmp/x.db").unwrap(),
            DbKind::Sqlite
        );
        let e = DbKind::of_url("redis://h").unwrap_err().to_string();
        assert!(e.contains("\"redis\"") && e.contains("postgres://"), "{e}");
        assert!(
            DbKind::of_url("/tmp/x.db")
                .unwrap_err()
                .to_string()
                .contains("no scheme")
        );
    }

    #[test]
    fn labels_carry_no_credentials() {
        let l = label(
            DbKind::Postgres,
            "postgres://admin:s3cret@db.internal:6432/shop?sslmode=require&password=x",
        );
        assert_eq!(l, "postgres db.internal:6432/shop");
        let l = label(DbKind::Mysql, "mariadb://root:pw@127.0.0.1/test");
        assert_eq!(l, "mysql 127.0.0.1/test");
        assert_eq!(
            label(DbKind::Sqlite, "sqlite:///var/lib/od/shop.db?mode=ro"),
            "sqlite shop.db"
        );
    }
}
