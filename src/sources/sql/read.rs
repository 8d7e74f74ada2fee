//! How one read of a poll is made and how it can fail: a read-only
//! transaction on a connection that is closed, not pooled, when its work is
//! abandoned at a deadline; failures sorted into the rule's fault and the
//! database's.

use super::{Backend, one_line};
use crate::sources::faults::Injected;
use sqlx::{AssertSqlSafe, Connection, Database, Executor};
use std::time::Duration;

/// Why one statement of a poll failed: the rule's own fault, or the
/// database's (then the source is down, whatever the other rules did).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure {
    Query(String),
    Lost(String),
    Timeout(String),
}

impl Failure {
    pub(super) fn message(&self) -> &str {
        match self {
            Failure::Query(m) | Failure::Lost(m) | Failure::Timeout(m) => m,
        }
    }

    pub(super) fn makes_source_down(&self) -> bool {
        !matches!(self, Failure::Query(_))
    }

    pub(super) fn of<DB: Backend>(e: sqlx::Error) -> Failure {
        let m = one_line(&e.to_string());
        let lower = m.to_ascii_lowercase();
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Failure::Lost(m),
            _ if lower.contains("statement timeout")
                || lower.contains("max_statement_time")
                || lower.contains("maximum statement execution time") =>
            {
                Failure::Timeout(m)
            }
            _ if DB::is_lost_connection(&m) => Failure::Lost(m),
            _ => Failure::Query(m),
        }
    }

    pub(super) fn timed_out(after: Duration) -> Failure {
        Failure::Timeout(format!("no answer within {}", secs(after)))
    }

    pub(super) fn injected(i: Injected) -> Failure {
        match i {
            Injected::Error => Failure::Query("injected fault: statement rejected".into()),
            Injected::Timeout => Failure::Timeout("injected fault: statement timed out".into()),
            Injected::Lost => Failure::Lost("injected fault: connection reset by peer".into()),
        }
    }
}

/// A connection checked out for one statement's work, given back to the
/// pool with a deadline on every step.
///
/// If the work was abandoned (its deadline passed), the connection is
/// closed rather than handed back. If it finished, it is handed back the
/// way sqlx does on drop (a ping that flushes a pending ROLLBACK and proves
/// the connection usable), but under `release_within`: sqlx's own ping has
/// no deadline, and a connection black-holed right then (the network
/// dropping packets) would hold its pool slot for ever. Three such pings and
/// every slot is gone: the database shows down for ever after the network
/// heals, and closing the pool never ends. Past the deadline the connection
/// is dropped, which frees its slot, and the pool dials a fresh one.
pub(super) struct Held<DB: Database> {
    pub(super) conn: sqlx::pool::PoolConnection<DB>,
    pub(super) finished: bool,
    release_within: Duration,
}

impl<DB: Database> Held<DB> {
    pub(super) fn new(conn: sqlx::pool::PoolConnection<DB>, release_within: Duration) -> Self {
        Held {
            conn,
            finished: false,
            release_within,
        }
    }
}

impl<DB: Database> Drop for Held<DB> {
    fn drop(&mut self) {
        if !self.finished {
            // sqlx bounds this close itself (5 s), then frees the slot.
            self.conn.close_on_drop();
            return;
        }
        // Outside a runtime sqlx's own drop is all there is.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // sqlx's drop, made callable (public, if hidden from its docs):
        // takes the connection out of `conn`, whose drop then does nothing;
        // dropping `back` unfinished drops the connection and its slot.
        let back = self.conn.return_to_pool();
        let within = self.release_within;
        rt.spawn(async move {
            if tokio::time::timeout(within, back).await.is_err() {
                tracing::warn!(
                    "a database connection did not answer within {} when handed back; dropped",
                    secs(within)
                );
            }
        });
    }
}

/// A read-only transaction on `conn`: a rule that tries to write fails
/// there and changes nothing. Dropped, it rolls back.
pub(super) async fn begin_read<DB: Backend>(
    conn: &mut DB::Connection,
) -> Result<sqlx::Transaction<'_, DB>, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut tx = conn.begin_with(AssertSqlSafe(DB::BEGIN_READ_ONLY)).await?;
    if let Some(s) = DB::READ_ONLY_SESSION {
        (&mut *tx).execute(AssertSqlSafe(s)).await?;
    }
    Ok(tx)
}

/// `15 s`, `0.5 s`: a deadline as the user reads it.
pub(super) fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
