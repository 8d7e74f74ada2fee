//! What the cockpit saw during an incident, kept so that the postmortem can
//! be pre-filled: alerts raised and cleared, the peaks of each anomaly family
//! and each queue's backlog, the money stuck. Pure: it returns observations
//! only when something changed, and the edge appends them to a file.

use crate::alerts::{Alert, AlertLevel};
use crate::model::Family;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One line of an incident's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// The first alert or stuck order after a quiet spell.
    Opened { at: DateTime<Utc> },
    AlertRaised {
        at: DateTime<Utc>,
        id: String,
        level: String,
        message: String,
    },
    AlertCleared {
        at: DateTime<Utc>,
        id: String,
        message: String,
    },
    /// Stuck orders of one family reached a new high.
    FamilyPeak {
        at: DateTime<Utc>,
        family: Family,
        orders: u64,
    },
    /// A queue's ready backlog reached a new high.
    QueuePeak {
        at: DateTime<Utc>,
        queue: String,
        ready: u64,
    },
    /// Money held up by stuck orders reached a new high.
    AmountPeak { at: DateTime<Utc>, cents: i64 },
    /// No alert active and no stuck order: the last anomaly cleared.
    AllClear { at: DateTime<Utc> },
}

impl Observation {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Observation::Opened { at }
            | Observation::AlertRaised { at, .. }
            | Observation::AlertCleared { at, .. }
            | Observation::FamilyPeak { at, .. }
            | Observation::QueuePeak { at, .. }
            | Observation::AmountPeak { at, .. }
            | Observation::AllClear { at } => *at,
        }
    }
}

/// Quiet this long after everything cleared, and the next anomaly is a new
/// incident rather than the same one flaring up again.
pub const QUIET_GAP: Duration = Duration::hours(1);

/// What one poll looked like, as far as the record cares.
pub struct Seen<'a> {
    pub alerts: &'a [Alert],
    pub families: [(Family, u64); 3],
    pub amount_cents: i64,
    pub queues: Vec<(&'a str, u64)>,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentRecorder {
    /// `INC-20261126-061503`, named after the time it opened.
    current: Option<String>,
    alerts: BTreeMap<String, String>,
    family_peak: BTreeMap<Family, u64>,
    queue_peak: BTreeMap<String, u64>,
    amount_peak: i64,
    clear_since: Option<DateTime<Utc>>,
}

impl IncidentRecorder {
    /// The incident now open, or the last one if it is quiet again.
    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Folds in one poll; returns the incident and what is new to record.
    pub fn observe(
        &mut self,
        at: DateTime<Utc>,
        seen: Seen<'_>,
    ) -> Option<(String, Vec<Observation>)> {
        let anomalous = !seen.alerts.is_empty() || seen.families.iter().any(|(_, n)| *n > 0);
        let mut out = Vec::new();
        if anomalous {
            let fresh = match (&self.current, self.clear_since) {
                (None, _) => true,
                (Some(_), Some(since)) => at - since >= QUIET_GAP,
                (Some(_), None) => false,
            };
            if fresh {
                *self = IncidentRecorder {
                    current: Some(format!("INC-{}", at.format("%Y%m%d-%H%M%S"))),
                    ..IncidentRecorder::default()
                };
                out.push(Observation::Opened { at });
            }
            self.clear_since = None;
        } else if self.current.is_none() {
            return None;
        }

        let now: BTreeMap<String, &Alert> = seen.alerts.iter().map(|a| (a.id.clone(), a)).collect();
        for (id, a) in &now {
            if !self.alerts.contains_key(id) {
                out.push(Observation::AlertRaised {
                    at,
                    id: id.clone(),
                    level: format!("{:?}", a.level).to_lowercase(),
                    message: a.message.clone(),
                });
            }
        }
        for (id, message) in &self.alerts {
            if !now.contains_key(id) {
                out.push(Observation::AlertCleared {
                    at,
                    id: id.clone(),
                    message: message.clone(),
                });
            }
        }
        self.alerts = now
            .into_iter()
            .map(|(id, a)| (id, a.message.clone()))
            .collect();

        for (family, orders) in seen.families {
            let peak = self.family_peak.entry(family).or_default();
            if orders > *peak {
                *peak = orders;
                out.push(Observation::FamilyPeak { at, family, orders });
            }
        }
        if seen.amount_cents > self.amount_peak {
            self.amount_peak = seen.amount_cents;
            out.push(Observation::AmountPeak {
                at,
                cents: seen.amount_cents,
            });
        }
        for (queue, ready) in seen.queues {
            let peak = self.queue_peak.entry(queue.to_string()).or_default();
            // A backlog creeping up by one message a poll is not news: only
            // a rise of a tenth or more over the last recorded peak is.
            if ready > 0 && u128::from(ready) * 10 > u128::from(*peak) * 11 {
                *peak = ready;
                out.push(Observation::QueuePeak {
                    at,
                    queue: queue.to_string(),
                    ready,
                });
            }
        }
        if !anomalous && self.clear_since.is_none() {
            self.clear_since = Some(at);
            out.push(Observation::AllClear { at });
        }
        let id = self.current.clone()?;
        (!out.is_empty()).then_some((id, out))
    }
}

impl IncidentRecorder {
    /// Picks an incident up from its record, as a restarted cockpit or a
    /// second one on the same environment does: the alerts it has raised and
    /// not cleared, its peaks, and whether it is quiet. What this process
    /// sees next is then news only where the record does not say it yet.
    pub fn resume(id: String, record: &[Observation]) -> IncidentRecorder {
        let mut r = IncidentRecorder {
            current: Some(id),
            ..IncidentRecorder::default()
        };
        for o in record {
            r.apply(o);
        }
        r
    }

    /// Whether `o` adds anything to what this recorder knows.
    fn is_news(&self, o: &Observation) -> bool {
        match o {
            // The record already has its opening.
            Observation::Opened { .. } => false,
            Observation::AlertRaised { id, .. } => !self.alerts.contains_key(id),
            Observation::AlertCleared { id, .. } => self.alerts.contains_key(id),
            Observation::FamilyPeak { family, orders, .. } => {
                *orders > self.family_peak.get(family).copied().unwrap_or(0)
            }
            Observation::QueuePeak { queue, ready, .. } => {
                *ready > self.queue_peak.get(queue).copied().unwrap_or(0)
            }
            Observation::AmountPeak { cents, .. } => *cents > self.amount_peak,
            Observation::AllClear { .. } => self.clear_since.is_none(),
        }
    }

    fn apply(&mut self, o: &Observation) {
        match o {
            Observation::Opened { .. } => self.clear_since = None,
            Observation::AlertRaised { id, message, .. } => {
                self.alerts.insert(id.clone(), message.clone());
                self.clear_since = None;
            }
            Observation::AlertCleared { id, .. } => {
                self.alerts.remove(id);
            }
            Observation::FamilyPeak { family, orders, .. } => {
                let peak = self.family_peak.entry(*family).or_default();
                *peak = (*peak).max(*orders);
                self.clear_since = None;
            }
            Observation::QueuePeak { queue, ready, .. } => {
                let peak = self.queue_peak.entry(queue.clone()).or_default();
                *peak = (*peak).max(*ready);
            }
            Observation::AmountPeak { cents, .. } => {
                self.amount_peak = self.amount_peak.max(*cents);
            }
            Observation::AllClear { at } => self.clear_since = Some(*at),
        }
    }
}

/// What of `batch` the record does not say yet. Several processes watch one
/// environment and each sees the same alert rise; the record keeps it once.
pub fn news(record: &[Observation], batch: Vec<Observation>) -> Vec<Observation> {
    // An empty record has not opened yet: everything is news there.
    if record.is_empty() {
        return batch;
    }
    let mut known = IncidentRecorder::resume(String::new(), record);
    let mut out = Vec::new();
    for o in batch {
        if known.is_news(&o) {
            known.apply(&o);
            out.push(o);
        }
    }
    out
}

/// Whether the incident this is the record of is still going at `at`: it
/// has not gone quiet for [`QUIET_GAP`] since its last all-clear.
pub fn is_open(record: &[Observation], at: DateTime<Utc>) -> bool {
    if record.is_empty() {
        return false;
    }
    let r = IncidentRecorder::resume(String::new(), record);
    r.clear_since.is_none_or(|since| at - since < QUIET_GAP)
}

/// An alert still open in a record: its id, level and first raise.
pub type OpenAlert = (String, AlertLevel, DateTime<Utc>);

/// The alerts an open incident has raised and not cleared, with when each
/// was first raised: a restarted cockpit shows them as old as they are.
pub fn open_alerts(record: &[Observation]) -> Vec<OpenAlert> {
    let mut open: BTreeMap<String, (AlertLevel, DateTime<Utc>)> = BTreeMap::new();
    for o in record {
        match o {
            Observation::AlertRaised { at, id, level, .. } => {
                let level = match level.as_str() {
                    "warning" => AlertLevel::Warning,
                    _ => AlertLevel::Critical,
                };
                open.entry(id.clone()).or_insert((level, *at));
            }
            Observation::AlertCleared { id, .. } => {
                open.remove(id);
            }
            _ => {}
        }
    }
    open.into_iter()
        .map(|(id, (level, at))| (id, level, at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(min)
    }

    fn seen(alerts: &[Alert], ghost: u64, queue: u64) -> Seen<'_> {
        Seen {
            alerts,
            families: [
                (Family::Ghost, ghost),
                (Family::Split, 0),
                (Family::Zombie, 0),
            ],
            amount_cents: ghost as i64 * 100,
            queues: vec![("settlement", queue)],
        }
    }

    fn alert(id: &str) -> Alert {
        Alert {
            id: id.into(),
            level: AlertLevel::Critical,
            message: format!("{id} over threshold"),
            since: t(0),
        }
    }

    #[test]
    fn records_only_changes_and_opens_a_new_incident_after_a_quiet_hour() {
        let mut r = IncidentRecorder::default();
        assert_eq!(r.observe(t(0), seen(&[], 0, 0)), None, "quiet: nothing");
        let a = [alert("queue.ready/settlement")];
        let (id, obs) = r.observe(t(1), seen(&a, 3, 5000)).expect("opened");
        assert_eq!(id, "INC-19700101-000100");
        let kinds: Vec<_> = obs
            .iter()
            .map(|o| {
                serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v["kind"].as_str().map(String::from))
            })
            .collect();
        assert_eq!(
            kinds.iter().flatten().collect::<Vec<_>>(),
            [
                "opened",
                "alert_raised",
                "family_peak",
                "amount_peak",
                "queue_peak"
            ]
        );
        assert_eq!(r.observe(t(2), seen(&a, 3, 5100)), None, "no news");
        let (_, obs) = r.observe(t(3), seen(&[], 0, 0)).expect("cleared");
        assert!(matches!(obs[0], Observation::AlertCleared { .. }));
        assert_eq!(obs.last(), Some(&Observation::AllClear { at: t(3) }));
        let (same, _) = r.observe(t(30), seen(&a, 1, 0)).expect("flare-up");
        assert_eq!(same, id, "within the quiet gap it is the same incident");
        r.observe(t(31), seen(&[], 0, 0));
        let (next, obs) = r.observe(t(31 + 61), seen(&a, 1, 0)).expect("new");
        assert_ne!(next, id);
        assert_eq!(obs[0], Observation::Opened { at: t(92) });
    }

    #[test]
    fn a_resumed_recorder_only_records_what_the_record_lacks() {
        let a = [alert("queue.ready/settlement")];
        let mut first = IncidentRecorder::default();
        let (id, record) = first.observe(t(1), seen(&a, 3, 5000)).expect("opened");
        // A restart ten minutes later sees the same alert and fewer orders.
        let mut again = IncidentRecorder::resume(id.clone(), &record);
        assert_eq!(again.current(), Some(id.as_str()));
        assert_eq!(again.observe(t(11), seen(&a, 2, 5000)), None, "no news");
        let (same, obs) = again.observe(t(12), seen(&a, 7, 5000)).expect("peak");
        assert_eq!(same, id);
        assert_eq!(
            obs,
            [
                Observation::FamilyPeak {
                    at: t(12),
                    family: Family::Ghost,
                    orders: 7
                },
                Observation::AmountPeak {
                    at: t(12),
                    cents: 700
                }
            ]
        );
        assert_eq!(
            open_alerts(&record),
            [(
                "queue.ready/settlement".to_string(),
                AlertLevel::Critical,
                t(1)
            )]
        );
    }

    #[test]
    fn news_drops_what_another_process_already_recorded() {
        let a = [alert("queue.ready/settlement")];
        let (_, record) = IncidentRecorder::default()
            .observe(t(1), seen(&a, 3, 5000))
            .expect("one");
        let (_, other) = IncidentRecorder::default()
            .observe(t(2), seen(&a, 5, 5000))
            .expect("two");
        assert_eq!(
            news(&record, other),
            [
                Observation::FamilyPeak {
                    at: t(2),
                    family: Family::Ghost,
                    orders: 5
                },
                Observation::AmountPeak {
                    at: t(2),
                    cents: 500
                }
            ]
        );
        assert!(is_open(&record, t(500)), "no all-clear: still open");
        let mut cleared = record.clone();
        cleared.push(Observation::AllClear { at: t(10) });
        assert!(is_open(&cleared, t(69)));
        assert!(!is_open(&cleared, t(70)), "an hour quiet: over");
        assert!(!is_open(&[], t(0)));
    }
}
