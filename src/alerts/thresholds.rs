//! Threshold rules over the latest queue poll and detection run: ready
//! counts, growth streaks, missing consumers, dead letters and stuck orders
//! per family. Each rule is a plain function of the numbers it looks at.

use super::{AlertLevel, Firing};
use crate::config::{AlertsConfig, Thresholds, ZeroConsumers};
use crate::model::{Family, format_count};
use std::collections::VecDeque;

/// What the rules need to know about one queue row. Borrowed from the
/// state's rows; names are already sanitised there.
#[derive(Debug, Clone, Copy)]
pub struct QueueFacts<'a> {
    pub name: &'a str,
    pub ready: u64,
    pub consumers: u32,
    /// Ready messages in the queue's `.dlq`, when it has one.
    pub dlq: Option<u64>,
    /// Ready counts of the last polls, oldest first.
    pub history: &'a VecDeque<u64>,
}

impl QueueFacts<'_> {
    /// An orphan dead-letter queue shown as its own row.
    fn is_dead_letter_queue(&self) -> bool {
        self.name.ends_with(".dlq")
    }
}

/// How many polls in a row, ending with the latest, the count went up.
pub fn growth_streak(history: &VecDeque<u64>) -> usize {
    history
        .iter()
        .rev()
        .zip(history.iter().rev().skip(1))
        .take_while(|(now, before)| now > before)
        .count()
}

/// Every queue rule, for one queue.
pub fn queue_alerts(
    rules: &AlertsConfig,
    limits: &Thresholds,
    q: QueueFacts<'_>,
    out: &mut Vec<Firing>,
) {
    let name = q.name;
    if rules.queue_ready {
        let over = if q.ready >= limits.queue_ready_critical {
            Some((AlertLevel::Critical, limits.queue_ready_critical))
        } else if q.ready >= limits.queue_ready_warn {
            Some((AlertLevel::Warning, limits.queue_ready_warn))
        } else {
            None
        };
        if let Some((level, limit)) = over {
            out.push(Firing {
                id: format!("queue.ready/{name}"),
                level,
                message: format!(
                    "{name}: {} ready (limit {})",
                    format_count(q.ready),
                    format_count(limit)
                ),
            });
        }
    }
    let streak = growth_streak(q.history);
    if rules.growing_samples > 0 && streak >= rules.growing_samples as usize {
        let len = q.history.len();
        let from = q.history.get(len - 1 - streak).copied().unwrap_or(0);
        out.push(Firing {
            id: format!("queue.growing/{name}"),
            level: AlertLevel::Warning,
            message: format!(
                "{name}: backlog grew {streak} polls in a row ({} → {})",
                format_count(from),
                format_count(q.ready)
            ),
        });
    }
    // A dead-letter queue is drained by hand (requeue), not by a consumer.
    if q.consumers == 0 && !q.is_dead_letter_queue() {
        let level = match (rules.zero_consumers, q.ready) {
            (ZeroConsumers::Off, _) | (ZeroConsumers::Backlog, 0) => None,
            (_, 0) => Some(AlertLevel::Warning),
            (_, _) => Some(AlertLevel::Critical),
        };
        if let Some(level) = level {
            let message = if q.ready == 0 {
                format!("{name}: no consumer")
            } else {
                format!("{name}: no consumer, {} ready", format_count(q.ready))
            };
            out.push(Firing {
                id: format!("queue.consumers/{name}"),
                level,
                message,
            });
        }
    }
    if rules.dlq_not_empty {
        let dead = if q.is_dead_letter_queue() {
            Some((name.to_string(), q.ready))
        } else {
            q.dlq.map(|n| (format!("{name}.dlq"), n))
        };
        if let Some((dlq, n)) = dead.filter(|(_, n)| *n > 0) {
            out.push(Firing {
                id: format!("queue.dlq/{dlq}"),
                level: AlertLevel::Warning,
                message: format!(
                    "{dlq}: {} dead letter{}",
                    format_count(n),
                    if n == 1 { "" } else { "s" }
                ),
            });
        }
    }
}

/// The stuck-order rule for one family with `stuck` distinct orders.
pub fn stuck_alert(rules: &AlertsConfig, family: Family, stuck: usize, out: &mut Vec<Firing>) {
    let Some(&limit) = rules.stuck_above.get(&family) else {
        return;
    };
    if stuck as u64 > limit {
        out.push(Firing {
            id: format!("stuck/{family}"),
            level: AlertLevel::Warning,
            message: format!(
                "{} {family} order{} stuck (limit {limit})",
                format_count(stuck as u64),
                if stuck == 1 { "" } else { "s" }
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        name: &'a str,
        history: &'a VecDeque<u64>,
        consumers: u32,
        dlq: Option<u64>,
    ) -> QueueFacts<'a> {
        QueueFacts {
            name,
            ready: history.back().copied().unwrap_or(0),
            consumers,
            dlq,
            history,
        }
    }

    fn run(rules: &AlertsConfig, q: QueueFacts<'_>) -> Vec<(String, AlertLevel, String)> {
        let mut out = Vec::new();
        queue_alerts(rules, &Thresholds::default(), q, &mut out);
        out.into_iter()
            .map(|f| (f.id, f.level, f.message))
            .collect()
    }

    #[test]
    fn growth_streak_counts_rises_back_from_the_latest() {
        let h = |v: &[u64]| v.iter().copied().collect::<VecDeque<_>>();
        assert_eq!(growth_streak(&h(&[])), 0);
        assert_eq!(growth_streak(&h(&[5])), 0);
        assert_eq!(growth_streak(&h(&[1, 2, 3, 4])), 3);
        assert_eq!(growth_streak(&h(&[9, 1, 2, 3])), 2);
        assert_eq!(growth_streak(&h(&[1, 2, 3, 3])), 0, "flat is not growth");
        assert_eq!(growth_streak(&h(&[1, 2, 3, 2])), 0);
    }

    #[test]
    fn ready_counts_warn_then_go_critical() {
        let rules = AlertsConfig::default();
        let calm: VecDeque<u64> = [999].into();
        assert!(run(&rules, facts("q", &calm, 2, None)).is_empty());
        let warn: VecDeque<u64> = [1000].into();
        assert_eq!(
            run(&rules, facts("q", &warn, 2, None)),
            [(
                "queue.ready/q".into(),
                AlertLevel::Warning,
                "q: 1,000 ready (limit 1,000)".into()
            )]
        );
        let crit: VecDeque<u64> = [12_345].into();
        let got = run(&rules, facts("q", &crit, 2, None));
        assert_eq!(got[0].1, AlertLevel::Critical);
        assert_eq!(got[0].2, "q: 12,345 ready (limit 10,000)");
        let off = AlertsConfig {
            queue_ready: false,
            ..AlertsConfig::default()
        };
        assert!(run(&off, facts("q", &crit, 2, None)).is_empty());
    }

    #[test]
    fn growing_fires_after_the_configured_streak() {
        let rules = AlertsConfig {
            growing_samples: 3,
            ..AlertsConfig::default()
        };
        let two: VecDeque<u64> = [5, 1, 2, 3].into();
        assert!(run(&rules, facts("q", &two, 2, None)).is_empty());
        let three: VecDeque<u64> = [5, 1, 2, 3, 4].into();
        assert_eq!(
            run(&rules, facts("q", &three, 2, None)),
            [(
                "queue.growing/q".into(),
                AlertLevel::Warning,
                "q: backlog grew 3 polls in a row (1 → 4)".into()
            )]
        );
        let off = AlertsConfig {
            growing_samples: 0,
            ..rules
        };
        assert!(run(&off, facts("q", &three, 2, None)).is_empty());
    }

    #[test]
    fn zero_consumers_by_mode_and_never_for_dead_letter_queues() {
        let empty: VecDeque<u64> = [0].into();
        let backlog: VecDeque<u64> = [7].into();
        let mode = |m| AlertsConfig {
            zero_consumers: m,
            ..AlertsConfig::default()
        };
        let backlog_mode = mode(ZeroConsumers::Backlog);
        assert!(run(&backlog_mode, facts("q", &empty, 0, None)).is_empty());
        assert_eq!(
            run(&backlog_mode, facts("q", &backlog, 0, None)),
            [(
                "queue.consumers/q".into(),
                AlertLevel::Critical,
                "q: no consumer, 7 ready".into()
            )]
        );
        assert_eq!(
            run(&mode(ZeroConsumers::Always), facts("q", &empty, 0, None)),
            [(
                "queue.consumers/q".into(),
                AlertLevel::Warning,
                "q: no consumer".into()
            )]
        );
        assert!(run(&mode(ZeroConsumers::Off), facts("q", &backlog, 0, None)).is_empty());
        assert!(run(&backlog_mode, facts("q", &backlog, 1, None)).is_empty());
        let dlq = run(
            &mode(ZeroConsumers::Always),
            facts("orphan.dlq", &backlog, 0, None),
        );
        assert!(
            dlq.iter()
                .all(|(id, ..)| !id.starts_with("queue.consumers"))
        );
    }

    #[test]
    fn dead_letters_folded_or_orphaned() {
        let rules = AlertsConfig::default();
        let calm: VecDeque<u64> = [0].into();
        assert_eq!(
            run(&rules, facts("payment.callback", &calm, 2, Some(37))),
            [(
                "queue.dlq/payment.callback.dlq".into(),
                AlertLevel::Warning,
                "payment.callback.dlq: 37 dead letters".into()
            )]
        );
        assert!(run(&rules, facts("q", &calm, 2, Some(0))).is_empty());
        let one: VecDeque<u64> = [1].into();
        assert_eq!(
            run(&rules, facts("orphan.dlq", &one, 0, None)),
            [(
                "queue.dlq/orphan.dlq".into(),
                AlertLevel::Warning,
                "orphan.dlq: 1 dead letter".into()
            )]
        );
        let off = AlertsConfig {
            dlq_not_empty: false,
            ..rules
        };
        assert!(run(&off, facts("payment.callback", &calm, 2, Some(37))).is_empty());
    }

    #[test]
    fn stuck_orders_above_the_family_limit() {
        let rules = AlertsConfig::default();
        let fire = |f, n| {
            let mut out = Vec::new();
            stuck_alert(&rules, f, n, &mut out);
            out
        };
        assert!(fire(Family::Ghost, 10).is_empty());
        assert_eq!(
            fire(Family::Ghost, 11)[0].message,
            "11 ghost orders stuck (limit 10)"
        );
        assert_eq!(
            fire(Family::Zombie, 1)[0].message,
            "1 zombie order stuck (limit 0)"
        );
        assert_eq!(fire(Family::Zombie, 1)[0].id, "stuck/zombie");
        assert!(fire(Family::Zombie, 0).is_empty());
        let only_zombies = AlertsConfig {
            stuck_above: [(Family::Zombie, 5)].into(),
            ..AlertsConfig::default()
        };
        let mut out = Vec::new();
        stuck_alert(&only_zombies, Family::Ghost, 1000, &mut out);
        assert!(out.is_empty(), "a family left out is not alerted on");
    }
}
