//! Domain types shared by the sources, the state and the view.
//!
//! Plain data only: no I/O, no terminal types. Strings here may come from a
//! database or a message and are *not* trusted; the state sanitises them when
//! they arrive (see `crate::sanitize`).

pub mod limits;
pub mod remedy;
pub mod source;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The three kinds of broken order orderdeck hunts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Exists but cannot be processed: stuck in review, or paid with no inventory sync.
    Ghost,
    /// Systems disagree about the order's state.
    Split,
    /// Sits in `processing` (or on hold) for a day or more.
    Zombie,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Ghost, Family::Split, Family::Zombie];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ghost => "ghost",
            Family::Split => "split",
            Family::Zombie => "zombie",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ghost" => Ok(Family::Ghost),
            "split" | "split-personality" | "split_personality" => Ok(Family::Split),
            "zombie" => Ok(Family::Zombie),
            other => Err(format!(
                "unknown anomaly family {other:?} (expected ghost, split or zombie)"
            )),
        }
    }
}

/// Severity of a detection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

/// One order matched by one detection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StuckOrder {
    pub order_id: i64,
    pub order_no: String,
    pub family: Family,
    pub rule_id: String,
    pub status: String,
    /// When the order entered the condition the rule looks at (status change,
    /// lock expiry, hold, view observation). Age is measured from here.
    pub since: DateTime<Utc>,
    pub sku: String,
    pub supplier_id: i64,
    pub amount_cents: i64,
    /// Short rule-specific explanation, e.g. `logistics=in_transit`.
    pub detail: String,
}

impl StuckOrder {
    /// Identity of a row in the stuck table: one order may match several rules.
    pub fn key(&self) -> RowKey {
        RowKey {
            order_id: self.order_id,
            rule_id: self.rule_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub order_id: i64,
    pub rule_id: String,
}

/// A rule that failed to run this poll; the others go on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleError {
    pub rule_id: String,
    pub message: String,
    /// The rule's family, so a family whose rule never ran is shown as
    /// unknown rather than as zero.
    #[serde(default)]
    pub family: Option<Family>,
}

/// What one run of every detection rule found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DetectionSnapshot {
    /// The source's clock when the rules ran; ages are measured against it.
    pub as_of: DateTime<Utc>,
    pub orders: Vec<StuckOrder>,
    pub rule_errors: Vec<RuleError>,
    /// Rules whose result hit the row limit.
    pub truncated_rules: Vec<String>,
    /// What those rules found beyond the limit: counted, not listed, so
    /// the totals stay true when an incident outgrows the list.
    pub beyond_limit: Vec<BeyondLimit>,
    /// Set when the database stopped answering during this poll (a rule
    /// lost its connection or ran out of time): the source is down even
    /// though some rules were read, and the failed rules' rows are stale.
    pub down: Option<String>,
}

/// Orders one rule found past the row limit, and the money they hold up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeyondLimit {
    pub rule_id: String,
    pub family: Family,
    pub orders: u64,
    pub amount_cents: i64,
}

/// Depth and throughput of one queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueStat {
    pub name: String,
    pub ready: u64,
    /// Delivered but not yet acknowledged; `None` when the source cannot
    /// read it (plain AMQP only sees ready messages and consumers).
    pub unacked: Option<u64>,
    pub consumers: u32,
    /// Messages per second published into the queue, when the source knows it.
    pub publish_rate: Option<f64>,
    /// Messages per second delivered to consumers, when the source knows it.
    pub deliver_rate: Option<f64>,
    /// The queue is watched but the broker does not have it (deleted, never
    /// declared, or a typo in the config); the counts are then zero.
    #[serde(default)]
    pub missing: bool,
}

impl QueueStat {
    pub fn is_dead_letter_queue(&self) -> bool {
        self.name.ends_with(".dlq")
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueSnapshot {
    pub as_of: DateTime<Utc>,
    pub queues: Vec<QueueStat>,
}

/// One row of `order_events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub kind: String,
    pub status: String,
    pub detail: String,
}

/// One row of `order_views`: what an outside system says of the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub system: String,
    pub status: String,
    pub observed_at: DateTime<Utc>,
}

/// The order header shown above its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub order_id: i64,
    pub order_no: String,
    pub status: String,
    pub payment_status: String,
    pub sku: String,
    pub quantity: i64,
    pub supplier_id: i64,
    pub buyer_id: i64,
    pub amount_cents: i64,
    pub hold_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
}

/// Everything the timeline pane shows for one order.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub order: OrderSummary,
    pub events: Vec<TimelineEvent>,
    pub views: Vec<OrderView>,
}

/// Formats an amount in cents as `1,234.56` (currency-neutral).
pub fn format_amount(cents: i64) -> String {
    let negative = cents < 0;
    let abs = cents.unsigned_abs();
    let grouped = format_count(abs / 100);
    let frac = abs % 100;
    format!("{}{grouped}.{frac:02}", if negative { "-" } else { "" })
}

/// Formats a whole number with thousands separators: `1,234,567`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Formats a duration compactly for narrow columns: `45s`, `12m`, `3h05m`, `2d04h`.
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_and_keep_cents() {
        assert_eq!(format_amount(0), "0.00");
        assert_eq!(format_amount(5), "0.05");
        assert_eq!(format_amount(123_456_789), "1,234,567.89");
        assert_eq!(format_amount(-100_000), "-1,000.00");
        assert_eq!(format_amount(99_999), "999.99");
    }

    #[test]
    fn ages_pick_the_coarsest_useful_unit() {
        assert_eq!(format_age(-5), "0s");
        assert_eq!(format_age(59), "59s");
        assert_eq!(format_age(61), "1m");
        assert_eq!(format_age(3 * 3600 + 5 * 60), "3h05m");
        assert_eq!(format_age(2 * 86_400 + 4 * 3600 + 59), "2d04h");
    }

    #[test]
    fn family_parses_its_aliases_and_rejects_others() {
        assert_eq!("Zombie".parse::<Family>(), Ok(Family::Zombie));
        assert_eq!("split-personality".parse::<Family>(), Ok(Family::Split));
        assert!("phantom".parse::<Family>().is_err());
    }
}
