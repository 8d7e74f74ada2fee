//! `orderdeck snapshot`: one poll of every source, as a table to paste into
//! a war-room chat or as JSON for scripts.

use crate::model::{Family, QueueSnapshot, StuckOrder};
use crate::runbook::Runbook;
use crate::sanitize::sanitize_capped;
use crate::sources::{OrderStore, QueueMonitor, SourceError};
use chrono::{DateTime, Utc};
use comfy_table::{CellAlignment, Table, presets};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub environment: String,
    pub taken_at: DateTime<Utc>,
    pub sources: Vec<SourceReport>,
    pub queues: Vec<QueueReport>,
    /// Stuck orders per family, every family listed; `null` where a rule
    /// of the family could not be read (or no database is configured).
    pub families: BTreeMap<String, Option<usize>>,
    pub rules: Vec<RuleReport>,
    /// The longest-stuck orders first, at most `top` of them.
    pub orders: Vec<OrderReport>,
    /// Stuck orders, dead letters, unconsumed backlogs and missing queues;
    /// `null` when a configured source or a rule could not be read.
    pub anomalies: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub name: &'static str,
    pub describe: String,
    /// `ok` or `down`.
    pub state: &'static str,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    pub name: String,
    pub ready: u64,
    /// `null` when the source cannot read it (plain AMQP).
    pub unacked: Option<u64>,
    pub consumers: u32,
    /// Ready messages in `<name>.dlq`, when it exists.
    pub dead_letters: Option<u64>,
    /// The broker has no such queue (a typo in the config, or it was deleted).
    pub missing: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub id: String,
    pub family: Family,
    pub title: String,
    /// `null` when the rule could not be read.
    pub count: Option<usize>,
    pub truncated: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderReport {
    pub order_id: i64,
    pub order_no: String,
    pub family: Family,
    pub rule: String,
    pub status: String,
    pub since: DateTime<Utc>,
    pub stuck_secs: i64,
    pub amount_cents: i64,
    pub detail: String,
}

impl Snapshot {
    /// Whether any source could not be read (exit code 3).
    pub fn any_source_down(&self) -> bool {
        self.sources.iter().any(|s| !s.ok)
    }

    /// Records a configured source that could not even be opened: it is
    /// listed as down, and what it would have counted is unknown.
    pub fn source_unopened(&mut self, name: &'static str, describe: String, error: String) {
        self.sources.push(down_report(name, describe, error, 0));
        if name == "db" {
            for v in self.families.values_mut() {
                *v = None;
            }
        }
        self.anomalies = None;
    }
}

fn down_report(
    name: &'static str,
    describe: String,
    error: String,
    duration_ms: u64,
) -> SourceReport {
    SourceReport {
        name,
        describe,
        state: "down",
        ok: false,
        error: Some(error),
        duration_ms,
    }
}

fn up_report(name: &'static str, describe: String, duration_ms: u64) -> SourceReport {
    SourceReport {
        name,
        describe,
        state: "ok",
        ok: true,
        error: None,
        duration_ms,
    }
}

async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, SourceError>>,
) -> (Result<T, SourceError>, u64) {
    let t0 = Instant::now();
    let r = f.await;
    let ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    (r, ms)
}

/// Polls each source once. A source that fails is reported with its error
/// and the others still count.
pub async fn take<S: OrderStore, Q: QueueMonitor>(
    environment: &str,
    store: Option<&S>,
    monitor: Option<&Q>,
    runbook: &Runbook,
    now: DateTime<Utc>,
    top: usize,
) -> Snapshot {
    let mut snap = Snapshot {
        environment: environment.to_string(),
        taken_at: now,
        sources: Vec::new(),
        queues: Vec::new(),
        // Unknown until a database is read.
        families: Family::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), None))
            .collect(),
        rules: Vec::new(),
        orders: Vec::new(),
        anomalies: Some(0),
    };
    if let Some(store) = store {
        let (result, duration_ms) = timed(store.detect(now)).await;
        add_detection(
            &mut snap,
            runbook,
            store.describe(),
            result,
            duration_ms,
            now,
            top,
        );
    }
    if let Some(monitor) = monitor {
        let (result, duration_ms) = timed(monitor.poll()).await;
        match result {
            Ok(q) => {
                snap.sources
                    .push(up_report("mq", monitor.describe(), duration_ms));
                snap.queues = queue_reports(&q);
                let found = snap
                    .queues
                    .iter()
                    .map(|q| {
                        let dead = q.dead_letters.unwrap_or(0) as usize;
                        let unconsumed = usize::from(q.consumers == 0 && q.ready > 0);
                        dead + unconsumed + usize::from(q.missing)
                    })
                    .sum::<usize>();
                snap.anomalies = snap.anomalies.map(|n| n + found);
            }
            Err(e) => {
                snap.sources.push(down_report(
                    "mq",
                    monitor.describe(),
                    e.to_string(),
                    duration_ms,
                ));
                snap.anomalies = None;
            }
        }
    }
    snap
}

/// Folds one detection poll into the snapshot. A rule that failed has no
/// count (`null`), nor has its family or the total: a count that was not
/// read is never shown as a number.
fn add_detection(
    snap: &mut Snapshot,
    runbook: &Runbook,
    describe: String,
    result: Result<crate::model::DetectionSnapshot, SourceError>,
    duration_ms: u64,
    now: DateTime<Utc>,
    top: usize,
) {
    let d = match result {
        Ok(d) => d,
        Err(e) => {
            snap.sources
                .push(down_report("db", describe, e.to_string(), duration_ms));
            snap.rules = runbook
                .enabled()
                .map(|r| RuleReport {
                    id: r.id.clone(),
                    family: r.family,
                    title: r.title.clone(),
                    count: None,
                    truncated: false,
                    error: Some(e.to_string()),
                })
                .collect();
            snap.anomalies = None;
            return;
        }
    };
    snap.sources.push(match &d.down {
        Some(why) => down_report("db", describe, why.clone(), duration_ms),
        None => up_report("db", describe, duration_ms),
    });
    snap.rules = runbook
        .enabled()
        .map(|r| {
            let error = d
                .rule_errors
                .iter()
                .find(|e| e.rule_id == r.id)
                .map(|e| e.message.clone());
            RuleReport {
                id: r.id.clone(),
                family: r.family,
                title: r.title.clone(),
                // Listed, plus what the rule counted past the row limit.
                count: error.is_none().then(|| {
                    d.orders.iter().filter(|o| o.rule_id == r.id).count()
                        + d.beyond_limit
                            .iter()
                            .filter(|b| b.rule_id == r.id)
                            .map(|b| usize::try_from(b.orders).unwrap_or(usize::MAX))
                            .sum::<usize>()
                }),
                truncated: d.truncated_rules.contains(&r.id),
                error,
            }
        })
        .collect();
    let mut families: BTreeMap<String, Option<usize>> = Family::ALL
        .iter()
        .map(|f| (f.as_str().to_string(), Some(0)))
        .collect();
    for o in &d.orders {
        if let Some(Some(n)) = families.get_mut(o.family.as_str()) {
            *n += 1;
        }
    }
    let mut found = d.orders.len();
    for b in &d.beyond_limit {
        let n = usize::try_from(b.orders).unwrap_or(usize::MAX);
        if let Some(Some(slot)) = families.get_mut(b.family.as_str()) {
            *slot = slot.saturating_add(n);
        }
        found = found.saturating_add(n);
    }
    for e in &d.rule_errors {
        let family = e.family.or_else(|| {
            runbook
                .enabled()
                .find(|r| r.id == e.rule_id)
                .map(|r| r.family)
        });
        match family {
            Some(f) => {
                families.insert(f.as_str().to_string(), None);
            }
            None => families.values_mut().for_each(|v| *v = None),
        }
    }
    snap.families = families;
    snap.anomalies = if d.rule_errors.is_empty() && d.down.is_none() {
        snap.anomalies.map(|n| n + found)
    } else {
        None
    };
    let mut orders: Vec<&StuckOrder> = d.orders.iter().collect();
    orders.sort_by_key(|o| (o.since, o.order_id));
    snap.orders = orders
        .into_iter()
        .take(top)
        .map(|o| OrderReport {
            order_id: o.order_id,
            order_no: o.order_no.clone(),
            family: o.family,
            rule: o.rule_id.clone(),
            status: o.status.clone(),
            since: o.since,
            stuck_secs: (now - o.since).num_seconds().max(0),
            amount_cents: o.amount_cents,
            detail: o.detail.clone(),
        })
        .collect();
}

/// Work queues with their dead-letter queue folded in, as the cockpit
/// shows them.
fn queue_reports(q: &QueueSnapshot) -> Vec<QueueReport> {
    let dlq = |name: &str| {
        q.queues
            .iter()
            .find(|d| !d.missing && d.name.strip_suffix(".dlq") == Some(name))
            .map(|d| d.ready)
    };
    q.queues
        .iter()
        .filter(|s| !s.is_dead_letter_queue())
        .map(|s| QueueReport {
            name: s.name.clone(),
            ready: s.ready,
            unacked: s.unacked,
            consumers: s.consumers,
            dead_letters: dlq(&s.name),
            missing: s.missing,
        })
        .collect()
}

/// A count, or `–` where it could not be read: never a zero that was not.
fn unknown_or<T: std::fmt::Display>(n: Option<T>) -> String {
    n.map_or_else(|| "–".to_string(), |n| n.to_string())
}

/// `3h12m`, `45m`, `20s`: how long an order has been stuck.
pub fn short_age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn table(header: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    // Markdown: it reads as a table in a terminal and renders as one when
    // pasted into most chat tools and Confluence.
    t.load_preset(presets::ASCII_MARKDOWN);
    t.set_header(header.to_vec());
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Every string that came from a source is made safe for a terminal here:
/// an order number can hold escape sequences.
fn safe(s: &str, max: usize) -> String {
    sanitize_capped(s, max)
}

/// The table form: sources, queues, counts per rule, oldest stuck orders.
pub fn render_table(s: &Snapshot) -> String {
    let mut out = format!(
        "orderdeck snapshot · {} · {} UTC\n\n",
        safe(&s.environment, 40),
        s.taken_at.format("%Y-%m-%d %H:%M:%S")
    );
    let mut t = table(&["source", "where", "state", "ms"], &[3]);
    for src in &s.sources {
        let state = match &src.error {
            None => src.state.to_string(),
            Some(e) => format!("{}: {}", src.state, safe(e, 120)),
        };
        t.add_row(vec![
            src.name.to_string(),
            safe(&src.describe, 60),
            state,
            src.duration_ms.to_string(),
        ]);
    }
    out.push_str(&format!("{t}\n\n"));
    if !s.queues.is_empty() {
        let mut t = table(
            &["queue", "ready", "unacked", "consumers", "dead letters"],
            &[1, 2, 3, 4],
        );
        for q in &s.queues {
            if q.missing {
                t.add_row(vec![safe(&q.name, 60), "not found".into()]);
                continue;
            }
            t.add_row(vec![
                safe(&q.name, 60),
                q.ready.to_string(),
                unknown_or(q.unacked),
                q.consumers.to_string(),
                q.dead_letters
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&format!("{t}\n\n"));
    }
    if !s.rules.is_empty() {
        let counts = s
            .families
            .iter()
            .map(|(f, n)| format!("{f} {}", unknown_or(*n)))
            .collect::<Vec<_>>()
            .join(" · ");
        out.push_str(&format!("stuck: {counts}\n\n"));
        let mut t = table(&["rule", "family", "stuck", "note"], &[2]);
        for r in &s.rules {
            let note = match (&r.error, r.truncated) {
                (Some(e), _) => format!("error: {}", safe(e, 100)),
                (None, true) => "row limit reached: counted, not all listed".into(),
                (None, false) => String::new(),
            };
            t.add_row(vec![
                safe(&r.id, 40),
                r.family.as_str().to_string(),
                unknown_or(r.count),
                note,
            ]);
        }
        out.push_str(&format!("{t}\n\n"));
    }
    if !s.orders.is_empty() {
        let total = s
            .families
            .values()
            .try_fold(0usize, |sum, n| n.map(|n| sum + n));
        out.push_str(&format!(
            "longest stuck ({} of {}):\n",
            s.orders.len(),
            unknown_or(total)
        ));
        let mut t = table(
            &["order", "family", "status", "stuck", "amount", "detail"],
            &[3, 4],
        );
        for o in &s.orders {
            t.add_row(vec![
                safe(&o.order_no, 32),
                o.family.as_str().to_string(),
                safe(&o.status, 20),
                short_age(o.stuck_secs),
                format!(
                    "{}.{:02}",
                    o.amount_cents / 100,
                    (o.amount_cents % 100).abs()
                ),
                safe(&o.detail, 60),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    out
}

/// The JSON form: the whole [`Snapshot`], strings as the sources gave
/// them (JSON escaping makes control characters harmless).
pub fn render_json(s: &Snapshot) -> String {
    let json = serde_json::to_string_pretty(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    crate::sanitize::escape_json_invisibles(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_clock() {
        assert_eq!(short_age(-5), "0s");
        assert_eq!(short_age(59), "59s");
        assert_eq!(short_age(60 * 45), "45m");
        assert_eq!(short_age(3600 * 3 + 60 * 12), "3h12m");
        assert_eq!(short_age(86_400 * 2 + 3600 * 5), "2d05h");
    }
}
