//! Log keyword rules as the core sees them: the numbers a log tail reports
//! and the alerts they raise. The tailing itself is I/O and lives in
//! `crate::sources::logtail`.

use super::{AlertLevel, Firing};
use crate::config::LogRule;
use crate::model::format_count;
use crate::sanitize::sanitize;

/// One rule's numbers in a [`LogReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCount {
    /// The rule's configured name.
    pub rule: String,
    /// Matching lines in the last 60 s.
    pub per_minute: u32,
    /// The last line that matched (the tail sanitises and caps it).
    pub last_match: Option<String>,
}

/// What one followed file reports; sent when anything in it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Why the file cannot be read right now (missing, permissions), one
    /// line; `None` while it is followed normally.
    pub problem: Option<String>,
    /// The rules on this file.
    pub counts: Vec<LogCount>,
}

/// The latest numbers for one rule, as the state keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogStatus {
    pub per_minute: u32,
    pub last_match: Option<String>,
    pub problem: Option<String>,
}

impl LogStatus {
    /// The status of `count`'s rule after `report`. Text is sanitised again
    /// here because `Msg` is public: whatever sends it, the screen only
    /// ever gets printable text.
    pub fn from_report(report: &LogReport, count: &LogCount) -> LogStatus {
        LogStatus {
            per_minute: count.per_minute,
            last_match: count.last_match.as_deref().map(sanitize),
            problem: report.problem.as_deref().map(sanitize),
        }
    }
}

/// The alerts of one log rule: its match rate at or over the threshold, or
/// its file unreadable (a blind rule is worth knowing about: it cannot fire).
pub fn log_alerts(rule: &LogRule, status: &LogStatus, out: &mut Vec<Firing>) {
    let name = &rule.name;
    if let Some(problem) = &status.problem {
        out.push(Firing {
            id: format!("log.unreadable/{name}"),
            level: AlertLevel::Warning,
            message: format!("log {name} cannot see its file: {problem}"),
        });
    }
    if status.per_minute >= rule.threshold_per_minute {
        let n = status.per_minute;
        let last = status
            .last_match
            .as_deref()
            .map(|l| format!(": {l}"))
            .unwrap_or_default();
        out.push(Firing {
            id: format!("log/{name}"),
            level: rule.level,
            message: format!(
                "log {name}: {} match{}/min{last}",
                format_count(u64::from(n)),
                if n == 1 { "" } else { "es" }
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(threshold: u32) -> LogRule {
        LogRule {
            threshold_per_minute: threshold,
            level: AlertLevel::Critical,
            ..crate::fixtures::log_rule("order-errors", r#""ERROR""#)
        }
    }

    fn fire(rule: &LogRule, status: LogStatus) -> Vec<Firing> {
        let mut out = Vec::new();
        log_alerts(rule, &status, &mut out);
        out
    }

    #[test]
    fn fires_at_the_threshold_with_the_last_line() {
        let r = rule(3);
        let status = |n| LogStatus {
            per_minute: n,
            last_match: Some("ERROR order_timeout CO1".into()),
            problem: None,
        };
        assert!(fire(&r, status(2)).is_empty());
        let f = fire(&r, status(3));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "log/order-errors");
        assert_eq!(f[0].level, AlertLevel::Critical);
        assert_eq!(
            f[0].message,
            "log order-errors: 3 matches/min: ERROR order_timeout CO1"
        );
    }

    #[test]
    fn an_unreadable_file_is_a_warning_of_its_own() {
        let f = fire(
            &rule(1),
            LogStatus {
                problem: Some("/var/log/app.log: not found".into()),
                ..LogStatus::default()
            },
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "log.unreadable/order-errors");
        assert_eq!(f[0].level, AlertLevel::Warning);
    }

    #[test]
    fn reported_text_is_sanitised_on_arrival() {
        let report = LogReport {
            problem: Some("gone\x1b[2J".into()),
            counts: vec![LogCount {
                rule: "r".into(),
                per_minute: 1,
                last_match: Some("ERROR \x1b]0;pwned\x07".into()),
            }],
        };
        let s = LogStatus::from_report(&report, &report.counts[0]);
        assert_eq!(s.last_match.as_deref(), Some("ERROR \\x1b]0;pwned\\x07"));
        assert_eq!(s.problem.as_deref(), Some("gone\\x1b[2J"));
    }
}
