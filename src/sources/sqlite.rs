//! The SQLite order store: the reference schema in a local file (the demo's
//! database, or a user's), detection through the runbook's rules.

mod decode;
pub mod time;

use super::{OrderStore, SourceError};
use crate::model::{
    DetectionSnapshot, OrderSummary, OrderView, RuleError, StuckOrder, Timeline, TimelineEvent,
};
use crate::runbook::{Dialect, Rule, Runbook};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The reference schema, SQLite dialect, compiled in.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "reference schema",
    include_str!("../../migrations/sqlite/0001_reference_schema.sql"),
)];

/// orderdeck's own migrations table, apart from any `_sqlx_migrations` the
/// application that owns the database may keep.
pub const MIGRATIONS_TABLE: &str = "_orderdeck_migrations";

/// Rows a rule may return per poll unless `with_row_limit` says otherwise.
pub const DEFAULT_ROW_LIMIT: u32 = 5000;

/// Longest a single rule may run before it is reported as failed.
const RULE_TIMEOUT: Duration = Duration::from_secs(15);

/// Most recent events shown on one order's timeline.
const TIMELINE_EVENTS: i64 = 1000;

/// The embedded SQLite migrations, applied by [`SqliteStore::migrate`].
pub fn migrator() -> Migrator {
    let migrations = MIGRATIONS
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

/// A rule ready to run: its SQL rewritten to `?` placeholders, or why not.
#[derive(Debug)]
struct Prepared {
    rule: Rule,
    sql: Result<(String, Vec<String>), String>,
}

fn prepare(runbook: &Runbook) -> Arc<Vec<Prepared>> {
    Arc::new(
        runbook
            .enabled()
            .map(|rule| Prepared {
                rule: rule.clone(),
                sql: rule
                    .bound_sql(Dialect::Sqlite)
                    .map(|b| (b.sql, b.params))
                    .map_err(|e| e.to_string()),
            })
            .collect(),
    )
}

/// Orders, detection and timelines over an SQLite file. Cloning is cheap
/// (the pool and the prepared rules are shared).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    rules: Arc<Vec<Prepared>>,
    row_limit: u32,
    label: String,
}

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

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn db_err(context: &str, e: sqlx::Error) -> SourceError {
    SourceError::new(format!("{context}: {}", one_line(&e.to_string())))
}

impl SqliteStore {
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
        Ok(SqliteStore {
            pool,
            rules: prepare(&Runbook::builtin()),
            row_limit: DEFAULT_ROW_LIMIT,
            label: format!("sqlite {name}"),
        })
    }

    /// Applies the reference schema; running it again changes nothing.
    pub async fn migrate(&self) -> Result<(), SourceError> {
        migrate_pool(&self.pool).await
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Uses `runbook`'s enabled rules for detection (default: the built-in runbook).
    pub fn with_runbook(mut self, runbook: Runbook) -> Self {
        self.rules = prepare(&runbook);
        self
    }

    /// Most rows one rule may return per poll (bound as `:limit`); a rule that
    /// reaches it is listed in `DetectionSnapshot::truncated_rules`.
    pub fn with_row_limit(mut self, n: u32) -> Self {
        self.row_limit = n.max(1);
        self
    }

    async fn run_rule(
        &self,
        p: &Prepared,
        now: DateTime<Utc>,
    ) -> Result<(Vec<StuckOrder>, bool), String> {
        let (sql, params) = p.sql.as_ref().map_err(Clone::clone)?;
        let limit = i64::from(self.row_limit);
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for name in params {
            query = match name.as_str() {
                "cutoff" => query.bind(time::bind_value(p.rule.cutoff(now))),
                "now" => query.bind(time::bind_value(now)),
                // One more than asked, so reaching the limit is visible.
                "limit" => query.bind(limit + 1),
                other => return Err(format!("parameter :{other} has no value in detection")),
            };
        }
        let cap = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut rows = query.fetch(&self.pool);
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut truncated = false;
        let mut n = 0usize;
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| one_line(&e.to_string()))?
        {
            n += 1;
            if n > cap {
                truncated = true;
                break;
            }
            let order = stuck_order(&p.rule, &row).map_err(|e| format!("row {n}: {e}"))?;
            if seen.insert(order.order_id) {
                found.push(order);
            }
        }
        Ok((found, truncated))
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

fn stuck_order(rule: &Rule, row: &SqliteRow) -> Result<StuckOrder, String> {
    Ok(StuckOrder {
        order_id: decode::int(row, "order_id")?,
        order_no: decode::text(row, "order_no")?,
        family: rule.family,
        rule_id: rule.id.clone(),
        status: decode::text(row, "status")?,
        since: decode::timestamp(row, "since")?,
        sku: decode::text(row, "sku")?,
        supplier_id: decode::opt_int(row, "supplier_id")?.unwrap_or(0),
        amount_cents: decode::opt_int(row, "amount_cents")?.unwrap_or(0),
        detail: decode::text(row, "detail")?,
    })
}

fn summary(row: &SqliteRow) -> Result<OrderSummary, String> {
    Ok(OrderSummary {
        order_id: decode::int(row, "id")?,
        order_no: decode::text(row, "order_no")?,
        status: decode::text(row, "status")?,
        payment_status: decode::text(row, "payment_status")?,
        sku: decode::text(row, "sku")?,
        quantity: decode::opt_int(row, "quantity")?.unwrap_or(0),
        supplier_id: decode::opt_int(row, "supplier_id")?.unwrap_or(0),
        buyer_id: decode::opt_int(row, "buyer_id")?.unwrap_or(0),
        amount_cents: decode::opt_int(row, "amount_cents")?.unwrap_or(0),
        hold_reason: decode::opt_text(row, "hold_reason")?,
        created_at: decode::timestamp(row, "created_at")?,
        status_changed_at: decode::timestamp(row, "status_changed_at")?,
    })
}

fn event(row: &SqliteRow) -> Result<(i64, TimelineEvent), String> {
    let id = decode::int(row, "id")?;
    let ev = TimelineEvent {
        occurred_at: decode::timestamp(row, "occurred_at")
            .map_err(|e| format!("event {id}: {e}"))?,
        source: decode::text(row, "source")?,
        kind: decode::text(row, "kind")?,
        status: decode::text(row, "status")?,
        detail: decode::text(row, "detail")?,
    };
    Ok((id, ev))
}

fn view(row: &SqliteRow) -> Result<OrderView, String> {
    let system = decode::text(row, "system")?;
    let observed_at =
        decode::timestamp(row, "observed_at").map_err(|e| format!("view {system}: {e}"))?;
    Ok(OrderView {
        status: decode::text(row, "status")?,
        system,
        observed_at,
    })
}

impl OrderStore for SqliteStore {
    async fn detect(&self, now: DateTime<Utc>) -> Result<DetectionSnapshot, SourceError> {
        let mut snap = DetectionSnapshot {
            as_of: now,
            ..DetectionSnapshot::default()
        };
        // One cheap round trip first: a database that is away is a source
        // error (the status bar shows it down), not seven rule errors.
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| db_err(&self.label, e))?;
        let mut rule_errors = 0usize;
        let mut last_error = String::new();
        for p in self.rules.iter() {
            let outcome = match tokio::time::timeout(RULE_TIMEOUT, self.run_rule(p, now)).await {
                Ok(r) => r,
                Err(_) => Err(format!("timed out after {} s", RULE_TIMEOUT.as_secs())),
            };
            match outcome {
                Ok((orders, truncated)) => {
                    snap.orders.extend(orders);
                    if truncated {
                        snap.truncated_rules.push(p.rule.id.clone());
                    }
                }
                Err(message) => {
                    rule_errors += 1;
                    last_error = message.clone();
                    snap.rule_errors.push(RuleError {
                        rule_id: p.rule.id.clone(),
                        message: format!("rule {}: {message}", p.rule.id),
                    });
                }
            }
        }
        // Every rule failing the same way is the database, not the rules.
        if rule_errors > 0 && rule_errors == self.rules.len() && is_connection_error(&last_error) {
            return Err(SourceError::new(format!("{}: {last_error}", self.label)));
        }
        Ok(snap)
    }

    async fn timeline(&self, order_id: i64) -> Result<Option<Timeline>, SourceError> {
        let ctx = |what: &str| format!("timeline of order {order_id}: {what}");
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_err(&ctx("connecting"), e))?;
        let row = sqlx::query(
            "SELECT id, order_no, status, payment_status, sku, quantity, supplier_id, buyer_id,
                    amount_cents, hold_reason, created_at, status_changed_at
             FROM orders WHERE id = ?",
        )
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_err(&ctx("reading orders"), e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let order = summary(&row).map_err(|e| SourceError::new(ctx(&format!("orders: {e}"))))?;
        let rows = sqlx::query(
            "SELECT id, occurred_at, source, kind, status, detail FROM order_events
             WHERE order_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
        )
        .bind(order_id)
        .bind(TIMELINE_EVENTS)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_err(&ctx("reading order_events"), e))?;
        let mut events = rows
            .iter()
            .map(event)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::new(ctx(&format!("order_events: {e}"))))?;
        // Text order can disagree with time order when spellings are mixed.
        events.sort_by_key(|(id, e)| (e.occurred_at, *id));
        let rows = sqlx::query(
            "SELECT system, status, observed_at FROM order_views WHERE order_id = ? ORDER BY system",
        )
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_err(&ctx("reading order_views"), e))?;
        let views = rows
            .iter()
            .map(view)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::new(ctx(&format!("order_views: {e}"))))?;
        Ok(Some(Timeline {
            order,
            events: events.into_iter().map(|(_, e)| e).collect(),
            views,
        }))
    }

    async fn find_order_id(&self, order_no: &str) -> Result<Option<i64>, SourceError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM orders WHERE order_no = ?")
            .bind(order_no.trim())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("looking up an order number", e))?;
        Ok(row.map(|(id,)| id))
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
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
