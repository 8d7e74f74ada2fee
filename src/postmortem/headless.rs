//! Headless commands on the environment's incident record. `orderdeck
//! snapshot` folds its one poll in as a cockpit folds each of its polls:
//! the same alert rules, the same `IncidentRecorder` deciding whether an
//! incident opens, the same shared [`Journal`]. So a cockpit-less run from
//! cron or a bastion shell still leaves an incident for the postmortem.
//!
//! `heal`, `requeue` and `remediate` need nothing here: as in the cockpit,
//! every remediation outcome (dry runs included, marked as such) goes to
//! the shared audit file, and the pre-fill joins it to whichever incident
//! was open at the time.

use super::journal::Journal;
use crate::alerts::thresholds::{QueueFacts, queue_alerts, stuck_alert};
use crate::alerts::{AlertBoard, Firing};
use crate::config::{AlertsConfig, Thresholds};
use crate::model::Family;
use crate::snapshot::Snapshot;
use crate::state::incident::{Observation, Seen};
use std::collections::VecDeque;

/// The cockpit's queue and stuck-order rules on one snapshot. Log rules
/// need a tail over time, which one poll does not have.
fn firing(snap: &Snapshot, rules: &AlertsConfig, limits: &Thresholds) -> Vec<Firing> {
    let mut out = Vec::new();
    // One poll has no history: the growth rule cannot fire, as in a
    // cockpit's first poll.
    let history = VecDeque::new();
    for q in snap.queues.iter().filter(|q| !q.missing) {
        let facts = QueueFacts {
            name: &q.name,
            ready: q.ready,
            consumers: q.consumers,
            dlq: q.dead_letters,
            history: &history,
        };
        queue_alerts(rules, limits, facts, &mut out);
    }
    for family in Family::ALL {
        if let Some(n) = stuck(snap, family) {
            stuck_alert(rules, family, n, &mut out);
        }
    }
    out
}

/// A family's stuck orders, `None` where a rule of it could not be read.
fn stuck(snap: &Snapshot, family: Family) -> Option<usize> {
    snap.families.get(family.as_str()).copied().flatten()
}

/// Appends what `snap` saw to the environment's incident: into the open
/// one, or opening one when it saw an anomaly. A clean snapshot with no
/// incident open records nothing. Returns the incident written to.
pub fn record_snapshot(
    journal: &Journal,
    snap: &Snapshot,
    rules: &AlertsConfig,
    limits: &Thresholds,
) -> std::io::Result<Option<String>> {
    let at = snap.taken_at;
    let mut board = AlertBoard::default();
    board.reconcile(at, firing(snap, rules, limits));
    let families = Family::ALL.map(|f| (f, stuck(snap, f).unwrap_or(0) as u64));
    let total: u64 = families.iter().map(|(_, n)| n).sum();
    // The snapshot lists only the top orders: their amounts are the money
    // stuck only when they are all of them. Otherwise no amount (0 records
    // no peak), never a partial sum passed off as the total.
    let all_listed =
        Family::ALL.iter().all(|f| stuck(snap, *f).is_some()) && snap.orders.len() as u64 == total;
    let amount_cents = if all_listed {
        snap.orders.iter().map(|o| o.amount_cents).sum()
    } else {
        0
    };
    let seen = Seen {
        alerts: board.active(),
        families,
        amount_cents,
        queues: snap
            .queues
            .iter()
            .filter(|q| !q.missing)
            .map(|q| (q.name.as_str(), q.ready))
            .collect(),
    };
    let mut recorder = journal
        .open_incident(at)?
        .map(|open| open.recorder())
        .unwrap_or_default();
    let Some((id, batch)) = recorder.observe(at, seen) else {
        return Ok(None);
    };
    // One poll sees less than a cockpit does (no log tails, perhaps a
    // source down): it never says that something cleared.
    let batch: Vec<Observation> = batch
        .into_iter()
        .filter(|o| {
            !matches!(
                o,
                Observation::AlertCleared { .. } | Observation::AllClear { .. }
            )
        })
        .collect();
    if batch.is_empty() {
        return Ok(None);
    }
    journal.append(&id, batch).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postmortem::record::read_incident;
    use chrono::{DateTime, Utc};

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(min)
    }

    /// A snapshot with `ghost` stuck orders, or an unread database.
    fn snap(at: DateTime<Utc>, ghost: Option<usize>) -> Snapshot {
        Snapshot {
            environment: "prod".into(),
            taken_at: at,
            sources: Vec::new(),
            queues: Vec::new(),
            families: [("ghost", ghost), ("split", Some(0)), ("zombie", Some(0))]
                .into_iter()
                .map(|(f, n)| (f.to_string(), n.filter(|_| ghost.is_some())))
                .collect(),
            rules: Vec::new(),
            orders: Vec::new(),
            anomalies: ghost,
        }
    }

    fn record(j: &Journal, s: &Snapshot) -> Option<String> {
        record_snapshot(j, s, &AlertsConfig::default(), &Thresholds::default()).expect("record")
    }

    #[test]
    fn a_clean_snapshot_opens_nothing_and_one_poll_never_clears() {
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::new(dir.path(), "prod");
        assert_eq!(record(&j, &snap(t(0), Some(0))), None, "clean: no incident");
        assert_eq!(j.open_incident(t(0)).expect("read"), None);
        // A cockpit's incident, with an alert from a log tail a snapshot
        // cannot see.
        let raised = Observation::AlertRaised {
            at: t(1),
            id: "log/payment-errors".into(),
            level: "critical".into(),
            message: "payment errors".into(),
        };
        let opened = vec![Observation::Opened { at: t(1) }, raised.clone()];
        j.append("INC-19700101-000100", opened).expect("append");
        assert_eq!(
            record(&j, &snap(t(2), Some(3))),
            Some("INC-19700101-000100".to_string()),
            "joins the open incident"
        );
        // Clean, and then blind: neither clears the log alert nor the
        // incident.
        assert_eq!(record(&j, &snap(t(3), Some(0))), None);
        assert_eq!(record(&j, &snap(t(4), None)), None);
        assert_eq!(
            read_incident(dir.path(), "INC-19700101-000100"),
            [
                Observation::Opened { at: t(1) },
                raised,
                Observation::FamilyPeak {
                    at: t(2),
                    family: Family::Ghost,
                    orders: 3
                },
            ],
            "no amount: the listed orders are not all of them"
        );
    }
}
