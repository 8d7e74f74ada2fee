//! A new draft filled in from what the cockpit saw: times, impact numbers,
//! timeline rows, and the usual causes of the anomaly families involved.

use super::model::{Draft, TimelineRow};
use super::record::Facts;
use crate::model::Family;
use crate::runbook::Runbook;
use chrono::{DateTime, Utc};

/// Draft id for an incident: `INC-20261126-061503` → `PM-20261126-061503`.
pub fn draft_id(incident: Option<&str>, now: DateTime<Utc>) -> String {
    match incident.and_then(|i| i.strip_prefix("INC-")) {
        Some(rest) => format!("PM-{rest}"),
        None => format!("PM-{}", now.format("%Y%m%d-%H%M%S")),
    }
}

/// The runbook's usual causes for each family, without repeats.
pub fn causes(runbook: &Runbook, families: &[Family]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in &runbook.rules {
        if families.contains(&rule.family) {
            for c in &rule.causes {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
    }
    out
}

pub fn draft(
    id: String,
    incident: Option<&str>,
    facts: &Facts,
    suggestions: Vec<String>,
    now: DateTime<Utc>,
) -> Draft {
    let mut d = Draft::new(id, now);
    d.incident = incident.map(String::from);
    d.started_at = facts.opened;
    d.detected_at = facts.first_alert.or(facts.opened);
    d.mitigated_at = facts.first_remediation;
    d.resolved_at = facts.last_clear;
    let peak = |f| facts.family_peaks.get(&f).copied().unwrap_or(0);
    d.impact.ghost_orders = peak(Family::Ghost);
    d.impact.split_orders = peak(Family::Split);
    d.impact.zombie_orders = peak(Family::Zombie);
    d.impact.amount_stuck_cents = facts.amount_peak_cents;
    d.impact.currency = "CNY".into();
    d.timeline = facts
        .timeline
        .iter()
        .map(|(at, source, what)| TimelineRow {
            at: *at,
            source: source.clone(),
            what: what.clone(),
        })
        .collect();
    if let Some(t) = facts.first_alert {
        d.detection.how = format!("orderdeck alert at {}", super::model::format_time(t));
    }
    d.suggestions = suggestions;
    d
}

/// Families that had stuck orders in the incident.
pub fn families(facts: &Facts) -> Vec<Family> {
    facts
        .family_peaks
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(f, _)| *f)
        .collect()
}
