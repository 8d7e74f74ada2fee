//! Exports of a draft: Markdown, Confluence storage format (XHTML) and
//! Confluence wiki markup. Pure text in, text out; every exporter escapes
//! all draft text for its own format, because drafts hold pasted log lines.

pub mod markdown;
pub mod storage;
pub mod wiki;

use super::model::{Draft, format_amount, format_duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Markdown,
    ConfluenceStorage,
    ConfluenceWiki,
}

pub fn render(draft: &Draft, format: Format) -> String {
    match format {
        Format::Markdown => markdown::render(draft),
        Format::ConfluenceStorage => storage::render(draft),
        Format::ConfluenceWiki => wiki::render(draft),
    }
}

/// The page title: `PM-…: title`.
pub fn title(draft: &Draft) -> String {
    let t = one_line(&draft.title);
    if t.is_empty() {
        draft.id.clone()
    } else {
        format!("{}: {t}", draft.id)
    }
}

/// Text for a table cell or a list item: every line break and run of
/// whitespace becomes one space, so a cell stays one paragraph.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Paragraphs of a multi-line field: blocks split at blank lines, each a
/// list of trimmed lines.
pub fn paragraphs(s: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut cur = Vec::new();
    for line in s.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Header and impact rows shared by every format: (label, value).
pub fn header_rows(d: &Draft) -> Vec<(&'static str, String)> {
    let t = |x: Option<chrono::DateTime<chrono::Utc>>| {
        x.map(super::model::format_time)
            .unwrap_or_else(|| "—".into())
    };
    vec![
        ("Owner", one_line(&d.owner)),
        ("Started", t(d.started_at)),
        ("Detected", t(d.detected_at)),
        ("Mitigated", t(d.mitigated_at)),
        ("Resolved", t(d.resolved_at)),
        (
            "Duration",
            d.duration()
                .map(format_duration)
                .unwrap_or_else(|| "—".into()),
        ),
    ]
}

pub fn impact_rows(d: &Draft) -> Vec<(&'static str, String)> {
    let i = &d.impact;
    vec![
        ("Ghost orders", i.ghost_orders.to_string()),
        ("Split-personality orders", i.split_orders.to_string()),
        ("Zombie orders", i.zombie_orders.to_string()),
        (
            "Amount stuck",
            format_amount(i.amount_stuck_cents, &i.currency),
        ),
        (
            "Customers affected",
            i.customers_affected
                .map(|n| n.to_string())
                .unwrap_or_else(|| "unknown".into()),
        ),
        (
            "Duration",
            d.duration()
                .map(format_duration)
                .unwrap_or_else(|| "—".into()),
        ),
        ("SLA breaches", one_line(&i.sla_breaches)),
    ]
}

pub fn detection_delay(d: &Draft) -> String {
    d.detection_delay()
        .map(format_duration)
        .unwrap_or_else(|| "unknown".into())
}

/// Label of the why an action answers: `Why 3: answer…`.
pub fn answers_label(d: &Draft, id: Option<u32>) -> String {
    let Some(w) = id.and_then(|id| d.why(id)) else {
        return String::new();
    };
    let mut text: String = one_line(&w.answer).chars().take(40).collect();
    if one_line(&w.answer).chars().count() > 40 {
        text.push('…');
    }
    format!("why #{}: {text}", w.id)
}

/// The closing sections: (heading, text) in document order.
pub fn prose_sections(d: &Draft) -> Vec<(&'static str, &str)> {
    vec![
        ("Root cause", d.root_cause.as_str()),
        ("Contributing factors", d.contributing.as_str()),
        ("What went well", d.went_well.as_str()),
        ("What went wrong", d.went_wrong.as_str()),
        ("Where we got lucky", d.lucky.as_str()),
    ]
}
