//! Alerts: rules that turn what the cockpit sees into a short list of things
//! to look at now. Pure: no I/O, no clock of its own, no terminal.
//!
//! - [`expr`]: keyword expressions for log rules;
//! - [`window`]: matches per minute over a sliding minute;
//! - [`thresholds`]: queue and stuck-order rules over the latest data;
//! - [`log`]: what the log tails report, and the alerts it raises;
//! - [`AlertBoard`] (here): the active alerts, with when each first fired,
//!   and which ones are new (for the bell).

pub mod expr;
pub mod log;
pub mod thresholds;
pub mod window;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How loud an alert is. Only two levels: an operator at 3 a.m. needs
/// "look at this" and "act now", not a five-step scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    Warning,
    Critical,
}

/// An alert a rule raises on the latest data, before the board dates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    /// Stable for one rule and subject (`queue.ready/settlement`), so the
    /// same condition on the next poll is recognised as the same alert.
    pub id: String,
    pub level: AlertLevel,
    /// One line, built from sanitised data.
    pub message: String,
}

/// An active alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub level: AlertLevel,
    pub message: String,
    /// When it first fired (kept across a brief clear, see [`REFIRE_QUIET`]).
    pub since: DateTime<Utc>,
}

/// An alert that clears and fires again within this long counts as the same
/// alert going on: it keeps its first `since` and does not ring the bell
/// again. A queue hovering around its threshold must not beep every poll.
pub const REFIRE_QUIET: Duration = Duration::seconds(60);

/// What one [`AlertBoard::reconcile`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    /// The list on screen differs (an alert came, went, or reads differently).
    pub changed: bool,
    /// Ids that are new, or went from warning to critical: what the bell is for.
    pub fired: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Cleared {
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    level: AlertLevel,
}

/// The active alerts, most severe first, then oldest first (the first thing
/// to break is usually the cause of what broke after it), then by id.
#[derive(Debug, Clone, Default)]
pub struct AlertBoard {
    active: Vec<Alert>,
    cleared: HashMap<String, Cleared>,
}

impl AlertBoard {
    /// Replaces the active alerts with `firing`, everything the rules raise
    /// on the data as of `now`. Alerts still firing keep their `since`.
    pub fn reconcile(&mut self, now: DateTime<Utc>, firing: Vec<Firing>) -> Change {
        self.cleared.retain(|_, c| now - c.at < REFIRE_QUIET);
        let before = std::mem::take(&mut self.active);
        let mut previous: HashMap<&str, &Alert> =
            before.iter().map(|a| (a.id.as_str(), a)).collect();
        let mut fired = Vec::new();
        let mut seen = HashSet::with_capacity(firing.len());
        let mut next: Vec<Alert> = Vec::with_capacity(firing.len());
        for f in firing {
            if !seen.insert(f.id.clone()) {
                // Two rules claiming one id is a bug upstream; keep the first.
                continue;
            }
            let (since, was) = match previous.remove(f.id.as_str()) {
                Some(old) => (old.since, Some(old.level)),
                None => match self.cleared.remove(&f.id) {
                    Some(c) => (c.since, Some(c.level)),
                    None => (now, None),
                },
            };
            if was.is_none_or(|level| f.level > level) {
                fired.push(f.id.clone());
            }
            next.push(Alert {
                id: f.id,
                level: f.level,
                message: f.message,
                since,
            });
        }
        for old in previous.into_values() {
            self.cleared.insert(
                old.id.clone(),
                Cleared {
                    at: now,
                    since: old.since,
                    level: old.level,
                },
            );
        }
        next.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(a.since.cmp(&b.since))
                .then_with(|| a.id.cmp(&b.id))
        });
        let change = Change {
            changed: next != before,
            fired,
        };
        self.active = next;
        change
    }

    pub fn active(&self) -> &[Alert] {
        &self.active
    }

    /// An alert the environment's incident record says has been firing
    /// since `since` (raised by this cockpit before a restart, or by another
    /// one): when it fires on the first poll it keeps that start and does
    /// not ring the bell again.
    pub fn resume(
        &mut self,
        id: String,
        level: AlertLevel,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        self.cleared.insert(
            id,
            Cleared {
                at: now,
                since,
                level,
            },
        );
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    pub fn count(&self, level: AlertLevel) -> usize {
        self.active.iter().filter(|a| a.level == level).count()
    }

    /// The alert the strip shows: the first in board order.
    pub fn top(&self) -> Option<&Alert> {
        self.active.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap() + Duration::seconds(secs)
    }

    fn firing(id: &str, level: AlertLevel, message: &str) -> Firing {
        Firing {
            id: id.into(),
            level,
            message: message.into(),
        }
    }

    use AlertLevel::{Critical, Warning};

    #[test]
    fn new_alerts_fire_once_and_keep_their_since() {
        let mut b = AlertBoard::default();
        let c = b.reconcile(t(0), vec![firing("a", Warning, "a: 5")]);
        assert_eq!(c.fired, ["a"]);
        assert!(c.changed);
        // Still firing, new numbers: not new, but the screen changes.
        let c = b.reconcile(t(2), vec![firing("a", Warning, "a: 6")]);
        assert!(c.fired.is_empty());
        assert!(c.changed);
        assert_eq!(b.active()[0].since, t(0));
        assert_eq!(b.active()[0].message, "a: 6");
        // Same again: nothing to redraw.
        let c = b.reconcile(t(4), vec![firing("a", Warning, "a: 6")]);
        assert_eq!(c, Change::default());
    }

    #[test]
    fn clearing_is_a_change_and_a_quick_return_is_not_new() {
        let mut b = AlertBoard::default();
        b.reconcile(t(0), vec![firing("a", Warning, "a")]);
        let c = b.reconcile(t(10), vec![]);
        assert!(c.changed && c.fired.is_empty());
        assert!(b.is_empty());
        // Back within a minute: the same alert going on, no bell.
        let c = b.reconcile(t(30), vec![firing("a", Warning, "a")]);
        assert!(c.changed && c.fired.is_empty());
        assert_eq!(b.active()[0].since, t(0));
        // Cleared for longer than REFIRE_QUIET: a new alert.
        b.reconcile(t(40), vec![]);
        let c = b.reconcile(t(40) + REFIRE_QUIET, vec![firing("a", Warning, "a")]);
        assert_eq!(c.fired, ["a"]);
        assert_eq!(b.active()[0].since, t(40) + REFIRE_QUIET);
    }

    #[test]
    fn escalation_fires_again_and_calming_down_does_not() {
        let mut b = AlertBoard::default();
        b.reconcile(t(0), vec![firing("q", Warning, "q")]);
        let c = b.reconcile(t(2), vec![firing("q", Critical, "q!")]);
        assert_eq!(c.fired, ["q"]);
        assert_eq!(b.active()[0].since, t(0));
        let c = b.reconcile(t(4), vec![firing("q", Warning, "q")]);
        assert!(c.fired.is_empty() && c.changed);
    }

    #[test]
    fn most_severe_then_oldest_first_and_counts() {
        let mut b = AlertBoard::default();
        b.reconcile(t(0), vec![firing("w-old", Warning, "")]);
        b.reconcile(
            t(5),
            vec![
                firing("w-old", Warning, ""),
                firing("c-new", Critical, ""),
                firing("w-new", Warning, ""),
            ],
        );
        let ids: Vec<&str> = b.active().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["c-new", "w-old", "w-new"]);
        assert_eq!(b.top().map(|a| a.id.as_str()), Some("c-new"));
        assert_eq!((b.count(Critical), b.count(Warning)), (1, 2));
    }

    #[test]
    fn a_duplicate_id_is_kept_once() {
        let mut b = AlertBoard::default();
        let c = b.reconcile(
            t(0),
            vec![
                firing("a", Warning, "first"),
                firing("a", Critical, "second"),
            ],
        );
        assert_eq!(c.fired, ["a"]);
        assert_eq!(b.active().len(), 1);
        assert_eq!(b.active()[0].message, "first");
    }
}
