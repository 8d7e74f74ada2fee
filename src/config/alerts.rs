//! The `[alerts]` section: which conditions raise an alert, the log keyword
//! rules, and whether the terminal bell rings.

use super::{Problem, is_plain_name, problem, shown};
use crate::alerts::AlertLevel;
use crate::alerts::expr::Expr;
use crate::model::Family;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The queue pane keeps this many ready samples per queue, so a growth
/// streak can be at most one less.
pub const MAX_GROWING_SAMPLES: u32 = crate::model::limits::HISTORY as u32 - 1;

/// Longest log rule name; it is shown in the alerts strip.
const MAX_RULE_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Ring the terminal bell when a new alert fires.
    pub bell: bool,
    /// Alert on ready counts at `[thresholds]` queue_ready_warn / _critical.
    pub queue_ready: bool,
    /// Alert when a queue's ready count grew this many polls in a row; 0 is off.
    pub growing_samples: u32,
    pub zero_consumers: ZeroConsumers,
    /// Alert when a dead-letter queue holds messages.
    pub dlq_not_empty: bool,
    /// Alert when more distinct orders of a family than this are stuck;
    /// a family left out of the table is not alerted on.
    pub stuck_above: BTreeMap<Family, u64>,
    /// `[[alerts.log]]` keyword rules over tailed log files.
    pub log: Vec<LogRule>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            bell: false,
            queue_ready: true,
            growing_samples: 10,
            zero_consumers: ZeroConsumers::Backlog,
            dlq_not_empty: true,
            // Zombies are the family nobody gets paged for (DESIGN section
            // 2), so any one alerts; ghosts and splits come and go with
            // callbacks and syncs, so only a pile-up does.
            stuck_above: BTreeMap::from([
                (Family::Ghost, 10),
                (Family::Split, 10),
                (Family::Zombie, 0),
            ]),
            log: Vec::new(),
        }
    }
}

/// When a queue without consumers is an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZeroConsumers {
    Off,
    /// Only while messages wait: an idle queue nobody consumes is often by
    /// design (a paused integration, a night-only job), a backlog never is.
    Backlog,
    /// Any queue without a consumer, even an empty one.
    Always,
}

/// One `[[alerts.log]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRule {
    /// Short name shown in the alerts strip.
    pub name: String,
    /// The log file to follow (rotation and truncation are handled).
    pub file: PathBuf,
    pub expr: LogExpr,
    /// Alert when at least this many lines matched in the last minute.
    #[serde(default = "one")]
    pub threshold_per_minute: u32,
    /// Match terms regardless of letter case.
    #[serde(default)]
    pub ignore_case: bool,
    #[serde(default = "warning")]
    pub level: AlertLevel,
}

fn one() -> u32 {
    1
}

fn warning() -> AlertLevel {
    AlertLevel::Warning
}

/// A log rule's expression as written and as parsed. Parsed while the
/// config is read, so a mistake is reported with its line and column before
/// the cockpit starts rather than when the first log line arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct LogExpr {
    pub source: String,
    pub expr: Expr,
}

impl TryFrom<String> for LogExpr {
    type Error = String;

    fn try_from(source: String) -> Result<Self, String> {
        match Expr::parse(&source) {
            Ok(expr) => Ok(LogExpr { source, expr }),
            Err(e) => Err(format!(
                "log rule expr: {e}; an expression is double-quoted terms joined by AND, OR, NOT and parentheses, e.g. '\"ERROR\" AND NOT \"healthcheck\"'"
            )),
        }
    }
}

pub(super) fn validate(a: &AlertsConfig) -> Result<(), Problem> {
    if a.growing_samples > MAX_GROWING_SAMPLES {
        return Err(problem(
            &["alerts", "growing_samples"],
            format!(
                "alerts.growing_samples ({}) must be at most {MAX_GROWING_SAMPLES}: the queue pane keeps {} samples; 0 turns the rule off",
                a.growing_samples,
                MAX_GROWING_SAMPLES + 1
            ),
        ));
    }
    for (i, rule) in a.log.iter().enumerate() {
        let at = i.to_string();
        let keys = |key: &'static str| ["alerts", "log", at.as_str(), key];
        if !is_plain_name(&rule.name) || rule.name.chars().count() > MAX_RULE_NAME_CHARS {
            return Err(problem(
                &keys("name"),
                format!(
                    "alerts.log name \"{}\" is not usable: use 1-{MAX_RULE_NAME_CHARS} letters, digits, '-', '_' or '.', e.g. name = \"order-errors\"",
                    shown(&rule.name)
                ),
            ));
        }
        if a.log[..i].iter().any(|r| r.name == rule.name) {
            return Err(problem(
                &keys("name"),
                format!(
                    "alerts.log name \"{}\" is used twice: give each rule its own name",
                    rule.name
                ),
            ));
        }
        if rule.file.as_os_str().is_empty() {
            return Err(problem(
                &keys("file"),
                format!(
                    "alerts.log \"{}\": file is empty; give the log file's path, e.g. file = \"/var/log/orders/app.log\"",
                    rule.name
                ),
            ));
        }
        if rule.threshold_per_minute == 0 {
            return Err(problem(
                &keys("threshold_per_minute"),
                format!(
                    "alerts.log \"{}\": threshold_per_minute must be at least 1 (matches per minute that raise the alert)",
                    rule.name
                ),
            ));
        }
    }
    Ok(())
}
