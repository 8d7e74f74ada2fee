//! Remediation statements run on the store's own pool, in its dialect.
//!
//! The read store (`sources::store::AnyStore`) only detects and reads; it
//! knows nothing of remediations. This handle borrows its pool and runs
//! each remediation statement through the dialect backend directly.

use super::audit::AuditRecord;
use super::spec::Remediation;
use super::sql::{Applied, ApplyError, Bindings, Prepared, Sender, Store, prepare};
use super::template::Row;
use crate::sources::store::AnyStore;
use chrono::{DateTime, Utc};

/// Borrows the store's pool for remediation statements.
#[derive(Debug, Clone, Copy)]
pub struct RemedyDb<'s>(pub &'s AnyStore);

/// Runs `$e` with `$st` bound to a remediation [`Store`] on the pool of
/// whichever dialect the store speaks.
macro_rules! on_pool {
    ($self:expr, $st:ident => $e:expr) => {
        match $self.0 {
            AnyStore::Sqlite(s) => {
                let $st = Store { pool: s.pool() };
                $e
            }
            AnyStore::Postgres(s) => {
                let $st = Store { pool: s.pool() };
                $e
            }
            AnyStore::Mysql(s) => {
                let $st = Store { pool: s.pool() };
                $e
            }
        }
    };
}

impl RemedyDb<'_> {
    /// `sql` as it will be sent to this database, with its bound values.
    pub fn prepare(
        &self,
        sql: &str,
        allowed: &[&str],
        b: &Bindings<'_>,
    ) -> Result<Prepared, String> {
        match self.0 {
            AnyStore::Sqlite(_) => prepare::<sqlx::Sqlite>(sql, allowed, b),
            AnyStore::Postgres(_) => prepare::<sqlx::Postgres>(sql, allowed, b),
            AnyStore::Mysql(_) => prepare::<sqlx::MySql>(sql, allowed, b),
        }
    }

    pub async fn check(
        &self,
        rem: &Remediation,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<Row>, String> {
        on_pool!(self, st => st.check(rem, ids, now).await)
    }

    pub async fn ids(
        &self,
        sql: &str,
        allowed: &[&str],
        b: &Bindings<'_>,
    ) -> Result<Vec<i64>, String> {
        on_pool!(self, st => st.ids(sql, allowed, b).await)
    }

    pub async fn heal_candidates(
        &self,
        sql: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, String> {
        on_pool!(self, st => st.heal_candidates(sql, cutoff, now, limit).await)
    }

    pub async fn apply<S: Sender>(
        &self,
        rem: &Remediation,
        ids: &[i64],
        now: DateTime<Utc>,
        detail: &str,
        send: &S,
    ) -> Result<Applied, ApplyError> {
        on_pool!(self, st => st.apply(rem, ids, now, detail, send).await)
    }

    pub async fn note_event(
        &self,
        ids: &[i64],
        now: DateTime<Utc>,
        kind: &str,
        detail: &str,
    ) -> Result<(), String> {
        on_pool!(self, st => st.note_event(ids, now, kind, detail).await)
    }

    pub async fn insert_audit(&self, r: &AuditRecord) -> Result<(), String> {
        on_pool!(self, st => st.insert_audit(r).await)
    }

    pub async fn list_audit(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, String> {
        on_pool!(self, st => st.list_audit(since).await)
    }
}
