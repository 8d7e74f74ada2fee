//! The cockpit's alerts: the rules from the config, the latest log numbers,
//! and the board, re-evaluated in `update` whenever queue, detection or log
//! data arrives (never on a timer, so an idle cockpit stays idle).

use super::State;
use crate::action::Effect;
use crate::alerts::log::{LogReport, LogStatus, log_alerts};
use crate::alerts::thresholds::{QueueFacts, queue_alerts, stuck_alert};
use crate::alerts::{AlertBoard, Firing};
use crate::config::AlertsConfig;
use crate::model::Family;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct AlertsState {
    pub rules: AlertsConfig,
    pub board: AlertBoard,
    /// Latest numbers per log rule, by rule name.
    pub logs: HashMap<String, LogStatus>,
}

impl AlertsState {
    pub fn new(rules: AlertsConfig) -> Self {
        AlertsState {
            rules,
            board: AlertBoard::default(),
            logs: HashMap::new(),
        }
    }

    /// Folds in a log tail's report; false when it changes nothing.
    pub fn ingest_log(&mut self, report: &LogReport) -> bool {
        let mut changed = false;
        for count in &report.counts {
            let status = LogStatus::from_report(report, count);
            if self.logs.get(&count.rule) != Some(&status) {
                self.logs.insert(count.rule.clone(), status);
                changed = true;
            }
        }
        changed
    }
}

/// Every rule on the state's current data.
fn firing(state: &State) -> Vec<Firing> {
    let rules = &state.alerts.rules;
    let mut out = Vec::new();
    for row in &state.queues.rows {
        let facts = QueueFacts {
            name: &row.name,
            ready: row.ready,
            consumers: row.consumers,
            dlq: row.dlq,
            history: &row.history,
        };
        queue_alerts(rules, &state.thresholds, facts, &mut out);
    }
    for family in Family::ALL {
        stuck_alert(rules, family, state.orders.counts.get(family), &mut out);
    }
    for rule in &rules.log {
        if let Some(status) = state.alerts.logs.get(&rule.name) {
            log_alerts(rule, status, &mut out);
        }
    }
    out
}

/// Re-evaluates the alerts with new data that arrived at `at`. Asks for a
/// redraw when the list changed, and for the bell when an alert is new and
/// the bell is on: only then, so the terminal stays silent at idle.
pub(super) fn refresh(state: &mut State, at: DateTime<Utc>, effects: &mut Vec<Effect>) {
    let firing = firing(state);
    let change = state.alerts.board.reconcile(at, firing);
    state.needs_redraw |= change.changed;
    if !change.fired.is_empty() {
        state.wallboard.note_anomaly(at);
    }
    if state.alerts.rules.bell && !change.fired.is_empty() {
        effects.push(Effect::Bell);
    }
    record(state, at, effects);
}

/// Hands what is new about the incident to the edge to append to its record.
fn record(state: &mut State, at: DateTime<Utc>, effects: &mut Vec<Effect>) {
    let counts = state.orders.counts;
    let seen = super::incident::Seen {
        alerts: state.alerts.board.active(),
        families: Family::ALL.map(|f| (f, counts.get(f) as u64)),
        amount_cents: counts.amount_cents,
        queues: state
            .queues
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.ready))
            .collect(),
    };
    if let Some((incident, observations)) = state.incident.observe(at, seen) {
        effects.push(Effect::RecordIncident {
            incident,
            observations,
        });
    }
}

/// Whether an alert's source is down: the alert stays (a source going
/// blind must never look like the problem went away), marked stale.
pub fn is_blind(state: &State, alert_id: &str) -> bool {
    let down = |s: &super::SourceStatus| matches!(s.health, super::Health::Down(_));
    if alert_id.starts_with("stuck/") {
        down(&state.db)
    } else if alert_id.starts_with("queue.") {
        down(&state.broker)
    } else {
        false
    }
}
