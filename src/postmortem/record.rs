//! The files a postmortem is pre-filled from: the cockpit's incident
//! records (written here, at the edge) and the remediation audit (written by
//! the remediations). Both are read leniently: a bad line is skipped, not
//! fatal, because a half-written last line is what a crash leaves.

use crate::model::Family;
use crate::state::incident::Observation;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<dir>/<incident>.jsonl`, appended one observation per line. Processes
/// go through [`super::journal::Journal`], which decides the incident under
/// its lock; this is only the write.
pub fn append(dir: &Path, incident: &str, observations: &[Observation]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut text = String::new();
    for o in observations {
        text.push_str(&serde_json::to_string(o).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(incident_path(dir, incident))?;
    // One write per batch, so concurrent readers see whole lines.
    f.write_all(text.as_bytes())
}

/// An incident id names a file: letters, digits, `-` and `_` only, so no
/// `/`, `\\` or `..` can lead out of the incidents directory.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 80
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not an incident id: use the INC-… name the cockpit recorded (letters, digits, '-' and '_')",
            crate::sanitize::sanitize(id)
        ))
    }
}

pub fn incident_path(dir: &Path, incident: &str) -> PathBuf {
    dir.join(format!("{incident}.jsonl"))
}

/// Every observation of an incident that parses; a missing file is empty.
pub fn read_incident(dir: &Path, incident: &str) -> Vec<Observation> {
    read_lines(&incident_path(dir, incident))
}

/// The newest incident on record (ids sort by time).
pub fn latest_incident(dir: &Path) -> Option<String> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".jsonl")
                .filter(|n| n.starts_with("INC-"))
                .map(String::from)
        })
        .max()
}

fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    let Ok(text) = fs::read(path) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// One remediation attempt from `audit.jsonl`. Only what the postmortem
/// uses; unknown fields are ignored so the audit can grow.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditEntry {
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub os_user: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub environment: String,
    pub action: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub affected: Option<i64>,
    pub outcome: String,
    #[serde(default)]
    pub error: Option<String>,
}

impl AuditEntry {
    /// A remediation that changed something (not a dry run or refusal).
    pub fn acted(&self) -> bool {
        self.outcome == "ok"
    }
}

pub fn read_audit(path: &Path) -> Vec<AuditEntry> {
    let mut entries: Vec<AuditEntry> = read_lines(path);
    entries.sort_by_key(|e| e.occurred_at);
    entries
}

/// What the pre-fill takes from an incident's record and the audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub opened: Option<DateTime<Utc>>,
    pub first_alert: Option<DateTime<Utc>>,
    pub first_remediation: Option<DateTime<Utc>>,
    pub last_clear: Option<DateTime<Utc>>,
    pub family_peaks: BTreeMap<Family, u64>,
    pub amount_peak_cents: i64,
    /// UTC time, source, what happened.
    pub timeline: Vec<(DateTime<Utc>, String, String)>,
}

/// Sums up an incident: its times, its peaks, and a timeline with each
/// alert, the final peak of each family and queue, and the remediations run
/// while it was open.
pub fn facts(observations: &[Observation], audit: &[AuditEntry]) -> Facts {
    let mut f = Facts::default();
    let mut queue_peaks: BTreeMap<String, (DateTime<Utc>, u64)> = BTreeMap::new();
    let mut family_at: BTreeMap<Family, DateTime<Utc>> = BTreeMap::new();
    for o in observations {
        let at = o.at();
        f.opened = Some(f.opened.map_or(at, |t| t.min(at)));
        match o {
            Observation::Opened { .. } => {
                f.timeline
                    .push((at, "cockpit".into(), "first anomaly seen".into()));
            }
            Observation::AlertRaised { level, message, .. } => {
                f.first_alert.get_or_insert(at);
                f.timeline
                    .push((at, "alert".into(), format!("{level}: {message}")));
            }
            Observation::AlertCleared { message, .. } => {
                f.timeline
                    .push((at, "alert".into(), format!("cleared: {message}")));
            }
            Observation::FamilyPeak { family, orders, .. } => {
                f.family_peaks.insert(*family, *orders);
                family_at.insert(*family, at);
            }
            Observation::QueuePeak { queue, ready, .. } => {
                queue_peaks.insert(queue.clone(), (at, *ready));
            }
            Observation::AmountPeak { cents, .. } => {
                f.amount_peak_cents = f.amount_peak_cents.max(*cents);
            }
            Observation::AllClear { .. } => {
                f.last_clear = Some(at);
                f.timeline
                    .push((at, "cockpit".into(), "all anomalies cleared".into()));
            }
        }
    }
    for (family, at) in family_at {
        let n = f.family_peaks.get(&family).copied().unwrap_or(0);
        f.timeline.push((
            at,
            "cockpit".into(),
            format!(
                "peak: {n} {family} order{} stuck",
                if n == 1 { "" } else { "s" }
            ),
        ));
    }
    for (queue, (at, ready)) in queue_peaks {
        f.timeline.push((
            at,
            "broker".into(),
            format!("peak backlog: {queue} {ready} ready"),
        ));
    }
    // Remediations while the incident was open (and up to an hour after it
    // cleared: the clean-up often comes late).
    let end = f.last_clear.map(|t| t + chrono::Duration::hours(1));
    for e in audit {
        let inside = f.opened.is_some_and(|s| e.occurred_at >= s)
            && end.is_none_or(|end| e.occurred_at <= end);
        if !inside {
            continue;
        }
        if e.acted() {
            f.first_remediation.get_or_insert(e.occurred_at);
        }
        let affected = e
            .affected
            .map(|n| format!(", {n} affected"))
            .unwrap_or_default();
        let error = e
            .error
            .as_deref()
            .map(|err| format!(" ({err})"))
            .unwrap_or_default();
        let who = match (e.os_user.is_empty(), e.host.is_empty()) {
            (false, false) => format!(" by {}@{}", e.os_user, e.host),
            (false, true) => format!(" by {}", e.os_user),
            _ => String::new(),
        };
        f.timeline.push((
            e.occurred_at,
            "ops".into(),
            format!(
                "{} {}: {}{affected}{error}{who}",
                e.action, e.target, e.outcome
            ),
        ));
    }
    f.timeline.sort_by_key(|r| r.0);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(min)
    }

    #[test]
    fn audit_is_read_leniently_and_bad_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("audit.jsonl");
        let good = r#"{"occurred_at":"1970-01-01T00:05:00Z","os_user":"ops","host":"bastion","environment":"prod","action":"release_lock","target":"order SO-1","statement":"UPDATE ...","parameters":{"order_id":1},"affected":1,"outcome":"ok","error":null,"duration_ms":12}"#;
        let text = format!("{good}\nnot json\n{{\"occurred_at\":\"x\"}}\n{good}");
        fs::write(&path, text).expect("write");
        let entries = read_audit(&path);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].target, "order SO-1");
        assert!(read_audit(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn facts_take_times_peaks_and_remediations_inside_the_incident() {
        let obs = vec![
            Observation::Opened { at: t(1) },
            Observation::AlertRaised {
                at: t(2),
                id: "a".into(),
                level: "critical".into(),
                message: "settlement backlog".into(),
            },
            Observation::FamilyPeak {
                at: t(3),
                family: Family::Ghost,
                orders: 4,
            },
            Observation::FamilyPeak {
                at: t(4),
                family: Family::Ghost,
                orders: 9,
            },
            Observation::AllClear { at: t(20) },
        ];
        let entry = |min, outcome: &str| AuditEntry {
            occurred_at: t(min),
            os_user: "ops".into(),
            host: "b1".into(),
            environment: "prod".into(),
            action: "requeue".into(),
            target: "queue settlement.dlq".into(),
            affected: Some(3),
            outcome: outcome.into(),
            error: None,
        };
        let audit = vec![
            entry(0, "ok"),
            entry(5, "dry_run"),
            entry(6, "ok"),
            entry(200, "ok"),
        ];
        let f = facts(&obs, &audit);
        assert_eq!(f.opened, Some(t(1)));
        assert_eq!(f.first_alert, Some(t(2)));
        assert_eq!(
            f.first_remediation,
            Some(t(6)),
            "dry runs and outside ones do not count"
        );
        assert_eq!(f.last_clear, Some(t(20)));
        assert_eq!(f.family_peaks.get(&Family::Ghost), Some(&9));
        let whats: Vec<&str> = f.timeline.iter().map(|r| r.2.as_str()).collect();
        assert_eq!(
            whats,
            [
                "first anomaly seen",
                "critical: settlement backlog",
                "peak: 9 ghost orders stuck",
                "requeue queue settlement.dlq: dry_run, 3 affected by ops@b1",
                "requeue queue settlement.dlq: ok, 3 affected by ops@b1",
                "all anomalies cleared",
            ]
        );
    }

    #[test]
    fn appended_observations_read_back_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().expect("dir");
        let obs = [
            Observation::Opened { at: t(1) },
            Observation::AllClear { at: t(2) },
        ];
        append(dir.path(), "INC-1", &obs).expect("append");
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(incident_path(dir.path(), "INC-1"))
            .expect("open");
        f.write_all(b"{\"kind\":\"opened\",\"at\":").expect("torn");
        assert_eq!(read_incident(dir.path(), "INC-1"), obs.to_vec());
        assert_eq!(latest_incident(dir.path()).as_deref(), Some("INC-1"));
    }
}
