//! The order store over any SQL database sqlx speaks: detection through the
//! runbook's rules, timelines and order lookup, written once and run on
//! SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! What differs between databases (placeholders, time types, how loosely a
//! cell may be typed, what a lost connection looks like) lives behind
//! [`Backend`], implemented per dialect in `sqlite.rs`, `postgres.rs` and
//! `mysql.rs`. sqlx's `Any` driver is not used because it has no time types.

use super::faults::FaultPlan;
use super::{OrderStore, SourceError};
use crate::model::{
    BeyondLimit, DetectionSnapshot, OrderSummary, OrderView, RuleError, StuckOrder, Timeline,
    TimelineEvent,
};
use crate::runbook::{Dialect, Rule, Runbook};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::query::Query;
use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, Database, Executor, IntoArguments, Pool, SqlSafeStr,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// orderdeck's own migrations table, apart from any `_sqlx_migrations` the
/// application that owns the database may keep.
pub const MIGRATIONS_TABLE: &str = "_orderdeck_migrations";

// Rows a rule may return per poll unless `with_row_limit` says otherwise;
// the config names it too, so it lives in the core's vocabulary.
pub use crate::model::limits::DEFAULT_ROW_LIMIT;

/// Longest a single statement may run. Servers enforce it too (statement
/// timeouts set per connection), so a slow rule is cancelled there rather
/// than left running on a production database after orderdeck gave up.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);

/// Longest a connection may take to be made (TCP, TLS, authentication):
/// a server that accepts and never answers must not hang a poll or a
/// headless command.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Most recent events shown on one order's timeline.
const TIMELINE_EVENTS: i64 = 1000;

mod read;

use read::{Failure, Held, begin_read, secs};

pub type BoundQuery<'q, DB> = Query<'q, DB, <DB as Database>::Arguments>;

/// What one SQL dialect does its own way.
pub trait Backend: Database + Sized {
    const DIALECT: Dialect;
    /// Short name for messages and the status bar.
    const NAME: &'static str;

    fn bind_time(q: BoundQuery<'_, Self>, t: DateTime<Utc>) -> BoundQuery<'_, Self>;
    fn bind_int(q: BoundQuery<'_, Self>, v: i64) -> BoundQuery<'_, Self>;
    fn bind_text(q: BoundQuery<'_, Self>, v: String) -> BoundQuery<'_, Self>;
    fn bind_opt_text(q: BoundQuery<'_, Self>, v: Option<String>) -> BoundQuery<'_, Self>;
    /// Rows an INSERT/UPDATE/DELETE reported as affected.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Cells of rows whose SQL the user may have written: checked at run
    /// time, every failure naming the column.
    fn opt_int(row: &Self::Row, col: &str) -> Result<Option<i64>, String>;
    fn opt_text(row: &Self::Row, col: &str) -> Result<Option<String>, String>;
    fn time(row: &Self::Row, col: &str) -> Result<DateTime<Utc>, String>;

    fn int(row: &Self::Row, col: &str) -> Result<i64, String> {
        Self::opt_int(row, col)?.ok_or_else(|| format!("column {col} is NULL"))
    }
    fn text(row: &Self::Row, col: &str) -> Result<String, String> {
        Ok(Self::opt_text(row, col)?.unwrap_or_default())
    }

    /// Opens every read: detection, timelines and lookups run in read-only
    /// transactions, so a runbook rule that writes fails instead.
    const BEGIN_READ_ONLY: &'static str;
    /// A statement run first inside that transaction, where the dialect has
    /// no read-only transaction (SQLite's `query_only`).
    const READ_ONLY_SESSION: Option<&'static str> = None;

    /// Whether a database error (not an I/O one) says the connection was
    /// lost under the statement, e.g. PostgreSQL terminating the session.
    fn is_lost_connection(message: &str) -> bool {
        Self::is_connection_error(message)
    }

    /// Whether a rule's error says the database, not the rule, is at fault.
    fn is_connection_error(message: &str) -> bool {
        let m = message.to_ascii_lowercase();
        [
            "pool timed out",
            "connection refused",
            "connection reset",
            "broken pipe",
            "error communicating with database",
            "io error",
            "unexpected end of file",
            "terminating connection",
        ]
        .iter()
        .any(|k| m.contains(k))
    }
}

/// Collapses a multi-line driver message to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A cell value quoted in an error: enough to recognise, never a screenful.
pub fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Whether a cell is NULL; a column the rule's SQL did not return is an
/// error naming it.
pub fn is_null<R: sqlx::Row>(row: &R, col: &str) -> Result<bool, String>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    use sqlx::ValueRef;
    Ok(row
        .try_get_raw(col)
        .map_err(|_| format!("column {col} is missing from the result"))?
        .is_null())
}

pub fn db_err(context: &str, e: sqlx::Error) -> SourceError {
    SourceError::new(format!("{context}: {}", one_line(&e.to_string())))
}

/// The pool of every server-backed store: a cockpit must not exhaust a
/// production database's `max_connections` (ten wall screens are thirty
/// connections, not three hundred), and idle connections are given back.
pub fn server_pool_options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Some(Duration::from_secs(120)))
        .max_lifetime(Some(Duration::from_secs(1800)))
}

/// Connections a cockpit may hold per database.
pub const MAX_CONNECTIONS: u32 = 3;

/// A pool over `opts`. With `lazy`, nothing connects until the first poll,
/// so the cockpit starts while the server is down; without, the server is
/// asked once, directly, because the pool would only say it timed out where
/// a direct attempt says why (refused, unknown host, bad password).
pub async fn open_pool<DB: Database>(
    pool_opts: PoolOptions<DB>,
    opts: <DB::Connection as Connection>::Options,
    label: &str,
    lazy: bool,
) -> Result<Pool<DB>, SourceError> {
    if !lazy {
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, opts.connect())
            .await
            .map_err(|_| {
                SourceError::new(format!(
                    "could not connect to {label}: no answer within {} (host down, or a firewall or proxy holding the connection?)",
                    secs(CONNECT_TIMEOUT)
                ))
            })?
            .map_err(|e| db_err(&format!("could not connect to {label}"), e))?;
        let _ = conn.close().await;
    }
    Ok(pool_opts.connect_lazy_with(opts))
}

/// A migrator for embedded `(version, description, sql)` migrations, tracked
/// in [`MIGRATIONS_TABLE`].
pub fn migrator(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = migrations
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    let mut m = Migrator::with_migrations(migrations);
    m.dangerous_set_table_name(MIGRATIONS_TABLE);
    m
}

/// A rule ready to run: its SQL rewritten to the dialect's placeholders, or
/// why not (shown as that rule's error on every poll).
#[derive(Debug)]
struct Prepared {
    rule: Rule,
    sql: Result<(String, Vec<String>), String>,
}

fn prepare(runbook: &Runbook, dialect: Dialect) -> Arc<Vec<Prepared>> {
    Arc::new(
        runbook
            .enabled()
            .map(|rule| Prepared {
                rule: rule.clone(),
                sql: rule
                    .bound_sql(dialect)
                    .map(|b| (b.sql, b.params))
                    .map_err(|e| e.to_string()),
            })
            .collect(),
    )
}

/// Orders, detection and timelines over one database. Cloning is cheap (the
/// pool and the prepared rules are shared).
pub struct SqlStore<DB: Backend> {
    pool: Pool<DB>,
    rules: Arc<Vec<Prepared>>,
    row_limit: u32,
    label: String,
    statement_timeout: Duration,
    /// Test seam; `None` outside tests (see [`FaultPlan`]).
    faults: Option<Arc<FaultPlan>>,
}

impl<DB: Backend> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            rules: self.rules.clone(),
            row_limit: self.row_limit,
            label: self.label.clone(),
            statement_timeout: self.statement_timeout,
            faults: self.faults.clone(),
        }
    }
}

impl<DB: Backend> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("label", &self.label)
            .field("rules", &self.rules.len())
            .field("row_limit", &self.row_limit)
            .finish()
    }
}

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    /// A store over `pool` with the built-in runbook. `label` is what the
    /// status bar shows: secret-free.
    pub fn from_pool(pool: Pool<DB>, label: String) -> Self {
        SqlStore {
            pool,
            rules: prepare(&Runbook::builtin(), DB::DIALECT),
            row_limit: DEFAULT_ROW_LIMIT,
            label,
            statement_timeout: STATEMENT_TIMEOUT,
            faults: None,
        }
    }

    /// Client-side deadline of each statement (default
    /// [`STATEMENT_TIMEOUT`]); tests shorten it.
    #[doc(hidden)]
    pub fn with_statement_timeout(mut self, d: Duration) -> Self {
        self.statement_timeout = d;
        self
    }

    /// Test seam: fails one statement of every poll as `plan` says.
    #[doc(hidden)]
    pub fn with_faults(mut self, plan: Arc<FaultPlan>) -> Self {
        self.faults = Some(plan);
        self
    }

    /// The seam's check before a statement; free when no plan is set.
    async fn fault_point(&self) -> Result<(), Failure> {
        match &self.faults {
            None => Ok(()),
            Some(f) => f.before_statement().await.map_err(Failure::injected),
        }
    }

    /// A pooled connection for one statement's work (see [`Held`]).
    async fn held(&self) -> Result<Held<DB>, sqlx::Error> {
        let conn = self.pool.acquire().await?;
        Ok(Held::new(conn, self.statement_timeout))
    }

    /// Runs one statement's work under the store's deadline and the test
    /// seam, so neither a black hole nor an injected hang can stall a poll.
    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let d = self.statement_timeout;
        match tokio::time::timeout(d, async {
            self.fault_point().await?;
            work.await
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err(Failure::timed_out(d)),
        }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Migrations recorded as applied, `(version, description)` in version
    /// order; empty when the migrations table does not exist yet (a fresh
    /// database). Only reads, so `db migrate` can say what it changed.
    pub async fn applied_migrations(&self) -> Vec<(i64, String)> {
        let sql = format!("SELECT version, description FROM {MIGRATIONS_TABLE} ORDER BY version");
        let Ok(rows) = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await else {
            return Vec::new();
        };
        rows.iter()
            .filter_map(|r| {
                Some((
                    DB::int(r, "version").ok()?,
                    DB::text(r, "description").ok()?,
                ))
            })
            .collect()
    }

    /// Uses `runbook`'s enabled rules for detection (default: the built-in runbook).
    pub fn with_runbook(mut self, runbook: Runbook) -> Self {
        self.rules = prepare(&runbook, DB::DIALECT);
        self
    }

    /// Most rows one rule may return per poll (bound as `:limit`); a rule that
    /// reaches it is listed in `DetectionSnapshot::truncated_rules`.
    pub fn with_row_limit(mut self, n: u32) -> Self {
        self.row_limit = n.max(1);
        self
    }

    /// Closes the pool's connections (a headless command ending).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool retries a refused connection until its timeout and then
    /// only says it timed out; one direct attempt recovers the reason
    /// (refused, unknown host, bad password) for the status bar.
    async fn why_unreachable(&self, e: sqlx::Error) -> SourceError {
        if !matches!(e, sqlx::Error::PoolTimedOut) {
            return db_err(&self.label, e);
        }
        let opts = self.pool.connect_options();
        match tokio::time::timeout(Duration::from_secs(3), opts.connect()).await {
            Ok(Err(direct)) => db_err(&self.label, direct),
            Ok(Ok(conn)) => {
                // It answered just now: the next poll will get through.
                let _ = conn.close().await;
                db_err(&self.label, e)
            }
            Err(_) => SourceError::new(format!(
                "{}: no answer within 3 s (host down or a firewall dropping packets?)",
                self.label
            )),
        }
    }

    async fn run_rule(
        &self,
        p: &Prepared,
        now: DateTime<Utc>,
    ) -> Result<(Vec<StuckOrder>, bool), Failure> {
        let (sql, params) = p.sql.as_ref().map_err(|e| Failure::Query(e.clone()))?;
        let limit = i64::from(self.row_limit);
        // The SQL is the runbook's text with placeholders; every value is
        // bound. One more than asked, so reaching the limit is visible.
        let query = bind_rule::<DB>(
            sqlx::query(AssertSqlSafe(sql.clone())),
            p,
            params,
            now,
            limit + 1,
        )
        .map_err(Failure::Query)?;
        let cap = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut held = self.held().await.map_err(Failure::of::<DB>)?;
        let read = read_rule::<DB>(&mut held.conn, query, &p.rule, cap).await;
        held.finished = true;
        read
    }
}

/// One rule's rows, read in a read-only transaction on `conn`.
async fn read_rule<'q, DB: Backend>(
    conn: &mut DB::Connection,
    query: BoundQuery<'q, DB>,
    rule: &Rule,
    cap: usize,
) -> Result<(Vec<StuckOrder>, bool), Failure>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    {
        let mut tx = begin_read::<DB>(conn).await.map_err(Failure::of::<DB>)?;
        let mut rows = query.fetch(&mut *tx);
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut truncated = false;
        let mut n = 0usize;
        while let Some(row) = rows.try_next().await.map_err(Failure::of::<DB>)? {
            n += 1;
            if n > cap {
                truncated = true;
                break;
            }
            let order = stuck_order::<DB>(rule, &row)
                .map_err(|e| Failure::Query(format!("row {n}: {e}")))?;
            if seen.insert(order.order_id) {
                found.push(order);
            }
        }
        drop(rows);
        // Nothing to keep: a read-only transaction ends by rolling back. A
        // connection lost even here was lost during the poll: said so,
        // rather than passing for a clean read.
        if let Err(e) = tx.rollback().await {
            let f = Failure::of::<DB>(e);
            if f.makes_source_down() {
                return Err(f);
            }
        }
        Ok((found, truncated))
    }
}

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    /// For a rule that hit the row limit: the orders and money it finds
    /// beyond the ones `listed`, by running it again inside a count.
    async fn count_beyond(
        &self,
        p: &Prepared,
        now: DateTime<Utc>,
        listed: &[StuckOrder],
    ) -> Result<Option<BeyondLimit>, Failure> {
        let (sql, params) = p.sql.as_ref().map_err(|e| Failure::Query(e.clone()))?;
        let integer = match DB::DIALECT {
            Dialect::Mysql => "SIGNED",
            Dialect::Postgres | Dialect::Sqlite => "BIGINT",
        };
        // The rule on lines of its own, so a trailing `--` comment in it
        // cannot swallow the closing parenthesis.
        let rule = sql.trim_end().trim_end_matches(';');
        let counted = format!(
            "SELECT COUNT(*) AS orders, CAST(COALESCE(SUM(amount_cents), 0) AS {integer}) AS amount_cents\n\
             FROM (SELECT DISTINCT order_id, amount_cents FROM (\n{rule}\n) AS listed) AS counted"
        );
        // No limit: every order the rule finds is counted.
        let query = bind_rule::<DB>(
            sqlx::query(AssertSqlSafe(counted)),
            p,
            params,
            now,
            i64::MAX,
        )
        .map_err(Failure::Query)?;
        let row = self
            .bounded(async {
                let mut held = self.held().await.map_err(Failure::of::<DB>)?;
                let read = async {
                    let mut tx = begin_read::<DB>(&mut held.conn)
                        .await
                        .map_err(Failure::of::<DB>)?;
                    let row = query.fetch_one(&mut *tx).await.map_err(Failure::of::<DB>)?;
                    let _ = tx.rollback().await;
                    Ok(row)
                }
                .await;
                held.finished = true;
                read
            })
            .await?;
        let total = u64::try_from(DB::int(&row, "orders").map_err(Failure::Query)?).unwrap_or(0);
        let amount = DB::opt_int(&row, "amount_cents")
            .map_err(Failure::Query)?
            .unwrap_or(0);
        let listed_amount = listed
            .iter()
            .fold(0i64, |sum, o| sum.saturating_add(o.amount_cents));
        let orders = total.saturating_sub(listed.len() as u64);
        Ok((orders > 0).then(|| BeyondLimit {
            rule_id: p.rule.id.clone(),
            family: p.rule.family,
            orders,
            amount_cents: amount.saturating_sub(listed_amount).max(0),
        }))
    }

    async fn read_timeline(&self, order_id: i64) -> Result<Option<Timeline>, SourceError> {
        if let Some(f) = &self.faults {
            f.start_poll();
        }
        let d = self.statement_timeout;
        let read = self.bounded(async {
            let mut held = match self.held().await {
                Ok(h) => h,
                Err(e) => {
                    return Ok(Err(db_err(
                        &format!("timeline of order {order_id}: connecting"),
                        e,
                    )));
                }
            };
            let read = self.read_timeline_on(&mut held.conn, order_id).await;
            held.finished = true;
            Ok(read)
        });
        match read.await {
            Ok(r) => r,
            Err(f) => Err(SourceError::new(format!(
                "timeline of order {order_id}: {}",
                match f {
                    Failure::Timeout(_) => format!("no answer within {}", secs(d)),
                    other => other.message().to_string(),
                }
            ))),
        }
    }

    async fn read_timeline_on(
        &self,
        conn: &mut DB::Connection,
        order_id: i64,
    ) -> Result<Option<Timeline>, SourceError> {
        let ctx = |what: &str| format!("timeline of order {order_id}: {what}");
        let mut conn = begin_read::<DB>(conn)
            .await
            .map_err(|e| db_err(&ctx("starting a read-only transaction"), e))?;
        let q = sqlx::query::<DB>(statement::<DB>(
            "SELECT id, order_no, status, payment_status, sku, quantity, supplier_id, buyer_id,
                    amount_cents, hold_reason, created_at, status_changed_at
             FROM orders WHERE id = ?",
        ));
        let row = DB::bind_int(q, order_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| db_err(&ctx("reading orders"), e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let order =
            summary::<DB>(&row).map_err(|e| SourceError::new(ctx(&format!("orders: {e}"))))?;
        let q = sqlx::query::<DB>(statement::<DB>(
            "SELECT id, occurred_at, source, kind, status, detail FROM order_events
             WHERE order_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
        ));
        let rows = DB::bind_int(DB::bind_int(q, order_id), TIMELINE_EVENTS)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db_err(&ctx("reading order_events"), e))?;
        let mut events = rows
            .iter()
            .map(event::<DB>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::new(ctx(&format!("order_events: {e}"))))?;
        // Text order can disagree with time order when spellings are mixed.
        events.sort_by_key(|(id, e)| (e.occurred_at, *id));
        let q = sqlx::query::<DB>(statement::<DB>(
            "SELECT system, status, observed_at FROM order_views WHERE order_id = ? ORDER BY system",
        ));
        let rows = DB::bind_int(q, order_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db_err(&ctx("reading order_views"), e))?;
        let views = rows
            .iter()
            .map(view::<DB>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::new(ctx(&format!("order_views: {e}"))))?;
        Ok(Some(Timeline {
            order,
            events: events.into_iter().map(|(_, e)| e).collect(),
            views,
        }))
    }
}

/// orderdeck's own fixed statements are written with `?` and rewritten for
/// PostgreSQL here, so each is spelled once.
fn statement<DB: Backend>(sql: &'static str) -> sqlx::SqlStr {
    AssertSqlSafe(own_statement::<DB>(sql)).into_sql_str()
}

/// [`statement`] for text built at run time (a list of `?` for an `IN`).
pub fn own_statement<DB: Backend>(sql: &str) -> String {
    match DB::DIALECT {
        Dialect::Postgres => numbered_placeholders(sql),
        Dialect::Sqlite | Dialect::Mysql => sql.to_string(),
    }
}

/// `?` placeholders to PostgreSQL's `$1, $2, ...`, so a fixed statement is
/// written once for every dialect. For orderdeck's own statements only:
/// every `?` is taken for a placeholder, even inside a quoted literal or a
/// comment, and none of those statements has one there.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn stuck_order<DB: Backend>(rule: &Rule, row: &DB::Row) -> Result<StuckOrder, String> {
    Ok(StuckOrder {
        order_id: DB::int(row, "order_id")?,
        order_no: DB::text(row, "order_no")?,
        family: rule.family,
        rule_id: rule.id.clone(),
        status: DB::text(row, "status")?,
        since: DB::time(row, "since")?,
        sku: DB::text(row, "sku")?,
        supplier_id: DB::opt_int(row, "supplier_id")?.unwrap_or(0),
        amount_cents: DB::opt_int(row, "amount_cents")?.unwrap_or(0),
        detail: DB::text(row, "detail")?,
    })
}

fn summary<DB: Backend>(row: &DB::Row) -> Result<OrderSummary, String> {
    Ok(OrderSummary {
        order_id: DB::int(row, "id")?,
        order_no: DB::text(row, "order_no")?,
        status: DB::text(row, "status")?,
        payment_status: DB::text(row, "payment_status")?,
        sku: DB::text(row, "sku")?,
        quantity: DB::opt_int(row, "quantity")?.unwrap_or(0),
        supplier_id: DB::opt_int(row, "supplier_id")?.unwrap_or(0),
        buyer_id: DB::opt_int(row, "buyer_id")?.unwrap_or(0),
        amount_cents: DB::opt_int(row, "amount_cents")?.unwrap_or(0),
        hold_reason: DB::opt_text(row, "hold_reason")?,
        created_at: DB::time(row, "created_at")?,
        status_changed_at: DB::time(row, "status_changed_at")?,
    })
}

fn event<DB: Backend>(row: &DB::Row) -> Result<(i64, TimelineEvent), String> {
    let id = DB::int(row, "id")?;
    let ev = TimelineEvent {
        occurred_at: DB::time(row, "occurred_at").map_err(|e| format!("event {id}: {e}"))?,
        source: DB::text(row, "source")?,
        kind: DB::text(row, "kind")?,
        status: DB::text(row, "status")?,
        detail: DB::text(row, "detail")?,
    };
    Ok((id, ev))
}

fn view<DB: Backend>(row: &DB::Row) -> Result<OrderView, String> {
    let system = DB::text(row, "system")?;
    let observed_at = DB::time(row, "observed_at").map_err(|e| format!("view {system}: {e}"))?;
    Ok(OrderView {
        status: DB::text(row, "status")?,
        system,
        observed_at,
    })
}

/// Binds a detection rule's parameters, in the order its SQL names them.
fn bind_rule<'q, DB: Backend>(
    mut query: BoundQuery<'q, DB>,
    p: &Prepared,
    params: &[String],
    now: DateTime<Utc>,
    limit: i64,
) -> Result<BoundQuery<'q, DB>, String> {
    for name in params {
        query = match name.as_str() {
            "cutoff" => DB::bind_time(query, p.rule.cutoff(now)),
            "now" => DB::bind_time(query, now),
            "limit" => DB::bind_int(query, limit),
            other => return Err(format!("parameter :{other} has no value in detection")),
        };
    }
    Ok(query)
}

impl<DB: Backend> OrderStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    async fn detect(&self, now: DateTime<Utc>) -> Result<DetectionSnapshot, SourceError> {
        let mut snap = DetectionSnapshot {
            as_of: now,
            ..DetectionSnapshot::default()
        };
        if let Some(f) = &self.faults {
            f.start_poll();
        }
        // One cheap round trip first: a database that is away is a source
        // error (the status bar shows it down), not seven rule errors.
        let ping = self.bounded(async {
            let mut held = match self.held().await {
                Ok(h) => h,
                Err(e) => return Ok(Err(e)),
            };
            let r = sqlx::query::<DB>("SELECT 1").execute(&mut *held.conn).await;
            held.finished = true;
            Ok(r)
        });
        match ping.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(self.why_unreachable(e).await),
            Err(Failure::Timeout(m)) => {
                return Err(SourceError::new(format!(
                    "{}: {m} (host down, or a firewall or proxy holding the connection?)",
                    self.label
                )));
            }
            Err(f) => return Err(SourceError::new(format!("{}: {}", self.label, f.message()))),
        }
        let mut rule_errors = 0usize;
        let mut last_error = String::new();
        for p in self.rules.iter() {
            let outcome = self.bounded(self.run_rule(p, now)).await;
            match outcome {
                Ok((orders, truncated)) => {
                    if truncated {
                        snap.truncated_rules.push(p.rule.id.clone());
                        match self.count_beyond(p, now, &orders).await {
                            Ok(Some(b)) => snap.beyond_limit.push(b),
                            Ok(None) => {}
                            Err(f) if f.makes_source_down() => {
                                snap.down.get_or_insert_with(|| {
                                    format!("{}: rule {}: {}", self.label, p.rule.id, f.message())
                                });
                            }
                            // The list is still right; only the total is
                            // unknown, and the pane says the limit was hit.
                            Err(e) => tracing::warn!(rule = %p.rule.id, error = %e.message(),
                                "counting the orders beyond the row limit failed"),
                        }
                    }
                    snap.orders.extend(orders);
                }
                Err(failure) => {
                    rule_errors += 1;
                    last_error = failure.message().to_string();
                    // A rule that lost its connection or its time did not
                    // find "nothing": the database went blind under it.
                    if failure.makes_source_down() {
                        snap.down.get_or_insert_with(|| {
                            format!("{}: rule {}: {}", self.label, p.rule.id, failure.message())
                        });
                    }
                    snap.rule_errors.push(RuleError {
                        rule_id: p.rule.id.clone(),
                        message: format!("rule {}: {}", p.rule.id, failure.message()),
                        family: Some(p.rule.family),
                    });
                }
            }
        }
        // Every rule failing the same way is the database, not the rules.
        if rule_errors > 0
            && rule_errors == self.rules.len()
            && (snap.down.is_some() || DB::is_connection_error(&last_error))
        {
            return Err(SourceError::new(format!("{}: {last_error}", self.label)));
        }
        Ok(snap)
    }

    async fn timeline(&self, order_id: i64) -> Result<Option<Timeline>, SourceError> {
        self.read_timeline(order_id).await
    }

    async fn find_order_id(&self, order_no: &str) -> Result<Option<i64>, SourceError> {
        if let Some(f) = &self.faults {
            f.start_poll();
        }
        let q = sqlx::query::<DB>(statement::<DB>("SELECT id FROM orders WHERE order_no = ?"));
        let q = DB::bind_text(q, order_no.trim().to_string());
        let row = self
            .bounded(async {
                let mut held = self.held().await.map_err(Failure::of::<DB>)?;
                let read = async {
                    let mut tx = begin_read::<DB>(&mut held.conn)
                        .await
                        .map_err(Failure::of::<DB>)?;
                    let row = q
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Failure::of::<DB>)?;
                    let _ = tx.rollback().await;
                    Ok(row)
                }
                .await;
                held.finished = true;
                read
            })
            .await
            .map_err(|f| {
                SourceError::new(format!("looking up an order number: {}", f.message()))
            })?;
        row.map(|r| DB::int(&r, "id"))
            .transpose()
            .map_err(|e| SourceError::new(format!("looking up an order number: {e}")))
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_statements_get_numbered_placeholders_on_postgres() {
        assert_eq!(
            statement::<sqlx::Postgres>("SELECT a FROM t WHERE x = ? AND y = ?").as_str(),
            "SELECT a FROM t WHERE x = $1 AND y = $2"
        );
        assert_eq!(
            statement::<sqlx::MySql>("SELECT a FROM t WHERE x = ?").as_str(),
            "SELECT a FROM t WHERE x = ?"
        );
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered_placeholders("UPDATE t SET a = ? WHERE b = ? AND c = 'x'"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = 'x'"
        );
        let many = ["?"; 11].join(", ");
        assert!(numbered_placeholders(&many).ends_with("$10, $11"));
    }
}
