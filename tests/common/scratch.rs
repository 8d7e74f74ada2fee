//! A scratch schema (PostgreSQL) or database (MySQL/MariaDB) on the CI
//! servers, named so no other run or test collides, dropped by `cleanup`.
//! URLs: `ORDERDECK_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/test)
//! and `ORDERDECK_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/test).

use orderdeck::sources::store::{AnyStore, Open};
use sqlx::{AssertSqlSafe, Connection, Executor};

pub fn pg_url() -> String {
    std::env::var("ORDERDECK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_url() -> String {
    std::env::var("ORDERDECK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A name no other run or test uses.
pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("od_{tag}_{}_{nanos}", std::process::id())
}

/// `url` with its path (the MySQL database) replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("test URL parses");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

pub struct Scratch {
    pub kind: &'static str,
    admin_url: String,
    name: String,
    /// The URL orderdeck is given: it lands in the scratch schema/database.
    pub url: String,
}

impl Scratch {
    pub async fn postgres(tag: &str) -> Scratch {
        let admin_url = pg_url();
        let name = unique(tag);
        let mut c = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is unreachable: {e}"));
        c.execute(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .await
            .expect("create schema");
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{name}");
        Scratch {
            kind: "postgres",
            admin_url,
            name,
            url,
        }
    }

    pub async fn mysql(tag: &str) -> Scratch {
        let admin_url = mysql_url();
        let name = unique(tag);
        let mut c = sqlx::MySqlConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("MySQL/MariaDB at {admin_url} is unreachable: {e}"));
        c.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let url = with_database(&admin_url, &name);
        Scratch {
            kind: "mysql",
            admin_url,
            name,
            url,
        }
    }

    /// The schema (PostgreSQL) or database (MySQL) name.
    pub fn area(&self) -> &str {
        &self.name
    }

    /// The scratch URL with PostgreSQL sessions named `app` in
    /// pg_stat_activity (MySQL has no such name: find them by database).
    pub fn url_named(&self, app: &str) -> String {
        if self.kind == "postgres" {
            format!("{}&application_name={app}", self.url)
        } else {
            self.url.clone()
        }
    }

    /// A migrated store on the scratch area.
    pub async fn store(&self) -> AnyStore {
        self.store_at(&self.url).await
    }

    /// A migrated store on `url` (the scratch URL, maybe with parameters).
    pub async fn store_at(&self, url: &str) -> AnyStore {
        let store = AnyStore::open(
            url,
            Open {
                lazy: false,
                create: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", self.kind));
        store.migrate().await.expect("migrate");
        store
    }

    pub async fn cleanup(self) {
        let result = if self.kind == "postgres" {
            let mut c = sqlx::PgConnection::connect(&self.admin_url)
                .await
                .expect("connect");
            c.execute(AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.name)))
                .await
                .map(|_| ())
        } else {
            let mut c = sqlx::MySqlConnection::connect(&self.admin_url)
                .await
                .expect("connect");
            c.execute(AssertSqlSafe(format!("DROP DATABASE {}", self.name)))
                .await
                .map(|_| ())
        };
        result.expect("drop scratch area");
    }
}
