//! Where the cockpit's data comes from.
//!
//! Each source is a trait with real implementations (SQLite now; PostgreSQL,
//! MySQL and RabbitMQ follow) and the in-process simulator used by `demo`.
//! Pollers (tokio tasks) call them and send results to the app as messages.

use crate::model::{DetectionSnapshot, QueueSnapshot, Timeline};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;

pub use crate::model::source::SourceError;

impl SourceError {
    /// Masks any password in `msg`: driver errors sometimes echo a URL.
    pub fn new(msg: impl Into<String>) -> Self {
        SourceError(crate::config::mask_secrets(&msg.into()))
    }
}

/// The clock a source's data is measured against. Real sources use the wall
/// clock; the demo runs on the simulator's (possibly accelerated) clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn wall_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Orders, detection and timelines: a relational database with the reference
/// schema (or a user's schema through the runbook's SQL).
pub trait OrderStore: Send + Sync + 'static {
    /// Runs every detection rule once, with thresholds measured from `now`.
    /// A failing rule is reported in `rule_errors`; the others still run.
    fn detect(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DetectionSnapshot, SourceError>> + Send;

    /// The order's header, events and outside-system views.
    /// `Ok(None)` when no order has that id.
    fn timeline(
        &self,
        order_id: i64,
    ) -> impl Future<Output = Result<Option<Timeline>, SourceError>> + Send;

    /// Resolves an order number typed by the user (bound, never formatted in).
    fn find_order_id(
        &self,
        order_no: &str,
    ) -> impl Future<Output = Result<Option<i64>, SourceError>> + Send;

    /// A short, secret-free description for the status bar, e.g. `sqlite demo`.
    fn describe(&self) -> String;
}

/// Queue depths and rates: RabbitMQ, or the demo's simulated broker.
pub trait QueueMonitor: Send + Sync + 'static {
    fn poll(&self) -> impl Future<Output = Result<QueueSnapshot, SourceError>> + Send;

    fn describe(&self) -> String;
}

pub mod amqp;
pub mod backoff;
#[doc(hidden)]
pub mod faults;
pub mod logtail;
pub mod mysql;
pub mod poller;
pub mod postgres;
pub mod sim;
pub mod sql;
pub mod sqlite;
pub mod store;
