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

/// The page title: `PM-…: title`, sanitised like the body: controls
/// (ESC, BEL, C1) become spaces and bidi and invisible characters are
/// shown escaped, because the title goes to Confluence as it is.
pub fn title(draft: &Draft) -> String {
    let t = one_line(&draft.title);
    if t.is_empty() {
        draft.id.clone()
    } else {
        format!("{}: {t}", draft.id)
    }
}

/// Bidi overrides, isolates and marks and zero-width characters shown
/// escaped (`\u{202e}`, as the cockpit shows them): left in, U+202E makes
/// `gpj.exe` read as `exe.jpg` on the page. Controls are left to each
/// format, which knows what a line break is there.
pub fn reveal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let one: &str = c.encode_utf8(&mut buf);
        if c.is_control() || crate::sanitize::is_safe(one) {
            out.push(c);
        } else {
            out.push_str(&crate::sanitize::sanitize(one));
        }
    }
    out
}

/// Numbers of the whys as the exports show them: `1`, `1.1`, `1.1.2`. The
/// depth is in the number, and every why has its own, so an action item
/// can say which one it answers.
pub fn why_number(d: &Draft, id: u32) -> Option<String> {
    fn find(list: &[super::model::Why], prefix: &str, id: u32) -> Option<String> {
        for (i, w) in list.iter().enumerate() {
            let n = number(prefix, i);
            if w.id == id {
                return Some(n);
            }
            if let Some(found) = find(&w.children, &n, id) {
                return Some(found);
            }
        }
        None
    }
    find(&d.whys, "", id)
}

/// The number of the `i`th why under `prefix` (empty for the roots).
pub fn number(prefix: &str, i: usize) -> String {
    if prefix.is_empty() {
        (i + 1).to_string()
    } else {
        format!("{prefix}.{}", i + 1)
    }
}

/// Text for a table cell, a list item or the title: bidi and invisible
/// characters shown escaped, and every line break, control and run of
/// whitespace one space, so a cell stays one paragraph.
pub fn one_line(s: &str) -> String {
    reveal(s)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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

/// Label of the why an action answers, numbered as the why tree is:
/// `Why 1.1.2: answer…`.
pub fn answers_label(d: &Draft, id: Option<u32>) -> String {
    let Some(w) = id.and_then(|id| d.why(id)) else {
        return String::new();
    };
    let n = why_number(d, w.id).unwrap_or_default();
    let mut text: String = one_line(&w.answer).chars().take(40).collect();
    if one_line(&w.answer).chars().count() > 40 {
        text.push('…');
    }
    format!("Why {n}: {text}")
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
