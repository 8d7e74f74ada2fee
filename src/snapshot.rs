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
    /// Stuck orders per family, every family listed.
    pub families: BTreeMap<String, usize>,
    pub rules: Vec<RuleReport>,
    /// The longest-stuck orders first, at most `top` of them.
    pub orders: Vec<OrderReport>,
    /// Stuck orders, dead letters, unconsumed backlogs and missing queues.
    pub anomalies: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub name: &'static str,
    pub describe: String,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    pub name: String,
    pub ready: u64,
    pub unacked: u64,
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
    pub count: usize,
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
        families: Family::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), 0))
            .collect(),
        rules: Vec::new(),
        orders: Vec::new(),
        anomalies: 0,
    };
    if let Some(store) = store {
        let (result, duration_ms) = timed(store.detect(now)).await;
        snap.sources.push(SourceReport {
            name: "db",
            describe: store.describe(),
            ok: result.is_ok(),
            error: result.as_ref().err().map(|e| e.to_string()),
            duration_ms,
        });
        if let Ok(d) = result {
            snap.rules = runbook
                .enabled()
                .map(|r| RuleReport {
                    id: r.id.clone(),
                    family: r.family,
                    title: r.title.clone(),
                    // Listed, plus what the rule counted past the row limit.
                    count: d.orders.iter().filter(|o| o.rule_id == r.id).count()
                        + d.beyond_limit
                            .iter()
                            .filter(|b| b.rule_id == r.id)
                            .map(|b| usize::try_from(b.orders).unwrap_or(usize::MAX))
                            .sum::<usize>(),
                    truncated: d.truncated_rules.contains(&r.id),
                    error: d
                        .rule_errors
                        .iter()
                        .find(|e| e.rule_id == r.id)
                        .map(|e| e.message.clone()),
                })
                .collect();
            for o in &d.orders {
                *snap
                    .families
                    .entry(o.family.as_str().to_string())
                    .or_default() += 1;
            }
            for b in &d.beyond_limit {
                let n = usize::try_from(b.orders).unwrap_or(usize::MAX);
                let slot = snap
                    .families
                    .entry(b.family.as_str().to_string())
                    .or_default();
                *slot = slot.saturating_add(n);
                snap.anomalies = snap.anomalies.saturating_add(n);
            }
            snap.anomalies += d.orders.len();
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
    }
    if let Some(monitor) = monitor {
        let (result, duration_ms) = timed(monitor.poll()).await;
        snap.sources.push(SourceReport {
            name: "mq",
            describe: monitor.describe(),
            ok: result.is_ok(),
            error: result.as_ref().err().map(|e| e.to_string()),
            duration_ms,
        });
        if let Ok(q) = result {
            snap.queues = queue_reports(&q);
            snap.anomalies += snap
                .queues
                .iter()
                .map(|q| {
                    let dead = q.dead_letters.unwrap_or(0) as usize;
                    let unconsumed = usize::from(q.consumers == 0 && q.ready > 0);
                    dead + unconsumed + usize::from(q.missing)
                })
                .sum::<usize>();
        }
    }
    snap
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
            None => "ok".to_string(),
            Some(e) => format!("down: {}", safe(e, 120)),
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
                q.unacked.to_string(),
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
            .map(|(f, n)| format!("{f} {n}"))
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
                r.count.to_string(),
                note,
            ]);
        }
        out.push_str(&format!("{t}\n\n"));
    }
    if !s.orders.is_empty() {
        let total: usize = s.families.values().sum();
        out.push_str(&format!("longest stuck ({} of {total}):\n", s.orders.len()));
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
