//! Confluence storage format: XHTML with Confluence's `ac:` elements.
//! Every text node is XML-escaped and stripped of characters XML cannot
//! hold, so the page body is always well-formed.

use super::{answers_label, detection_delay, header_rows, impact_rows, paragraphs, prose_sections};
use crate::postmortem::model::{ActionStatus, Choice, Draft, Severity, Status, Why, format_time};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// What XML 1.0 cannot hold (most C0 controls, U+FFFE, U+FFFF) is
/// dropped; the controls it can (CR, DEL, C1) are dropped too, because the
/// page must not carry terminal control sequences either. Line breaks and
/// tabs stay.
fn keep(c: char) -> bool {
    matches!(c, '\t' | '\n') || !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
}

/// Escapes a text node or attribute value.
pub fn text(s: &str) -> String {
    let s = super::reveal(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars().filter(|c| keep(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CDATA section; a `]]>` inside is split across two sections.
pub fn cdata(s: &str) -> String {
    let clean: String = super::reveal(s)
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| keep(*c))
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

fn para(out: &mut String, s: &str) {
    let paras = paragraphs(s);
    if paras.is_empty() {
        out.push_str("<p><em>Not written yet.</em></p>");
        return;
    }
    for p in paras {
        let lines: Vec<String> = p.iter().map(|l| text(l)).collect();
        let _ = write!(out, "<p>{}</p>", lines.join("<br />"));
    }
}

fn lozenge(colour: &str, title: &str) -> String {
    format!(
        "<ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">{colour}</ac:parameter><ac:parameter ac:name=\"title\">{}</ac:parameter></ac:structured-macro>",
        text(title)
    )
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => "Red",
        Severity::Sev2 => "Yellow",
        Severity::Sev3 => "Blue",
        Severity::Sev4 => "Grey",
    }
}

fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Draft => "Grey",
        Status::InReview => "Yellow",
        Status::Reviewed => "Blue",
        Status::Closed => "Green",
    }
}

/// Confluence's `<time>` holds a date; the clock time follows as text.
fn time(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => format!(
            "<time datetime=\"{}\" /> {}",
            t.format("%Y-%m-%d"),
            t.format("%H:%M UTC")
        ),
        None => "—".into(),
    }
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    out.push_str("<table><tbody><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", text(h));
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            // Cells arrive already escaped (some hold markup like <time>).
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn code(s: &str) -> String {
    format!(
        "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body>{}</ac:plain-text-body></ac:structured-macro>",
        cdata(s)
    )
}

fn whys(out: &mut String, list: &[Why], prefix: &str) {
    out.push_str("<ul>");
    for (i, w) in list.iter().enumerate() {
        let n = super::number(prefix, i);
        let answer = if w.answer.trim().is_empty() {
            "(no answer yet)".to_string()
        } else {
            text(&super::one_line(&w.answer))
        };
        let _ = write!(
            out,
            "<li><p><strong>Why {n}:</strong> {answer} <em>({}, confidence {})</em></p>",
            w.category.label(),
            w.confidence.label()
        );
        if !w.evidence.trim().is_empty() {
            out.push_str(&code(&w.evidence));
        }
        if !w.children.is_empty() {
            whys(out, &w.children, &n);
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

pub fn render(d: &Draft) -> String {
    let mut out = String::new();
    let mut head = vec![
        vec![
            text("Severity"),
            lozenge(severity_colour(d.severity), d.severity.label()),
        ],
        vec![
            text("Status"),
            lozenge(status_colour(d.status), d.status.label()),
        ],
    ];
    let times = [d.started_at, d.detected_at, d.mitigated_at, d.resolved_at];
    for (i, (k, v)) in header_rows(d).into_iter().enumerate() {
        let value = match i {
            1..=4 => time(times[i - 1]),
            _ => text(&v),
        };
        head.push(vec![text(k), value]);
    }
    table(&mut out, &["Field", "Value"], head);

    out.push_str("<h2>Summary</h2>");
    para(&mut out, &d.summary);

    out.push_str("<h2>Impact</h2>");
    let rows = impact_rows(d)
        .into_iter()
        .map(|(k, v)| vec![text(k), text(&v)])
        .collect();
    table(&mut out, &["Measure", "Value"], rows);
    if !d.impact.notes.trim().is_empty() {
        para(&mut out, &d.impact.notes);
    }

    out.push_str("<h2>Detection</h2>");
    let _ = write!(
        out,
        "<p><strong>Detection delay:</strong> {}</p>",
        text(&detection_delay(d))
    );
    out.push_str("<h3>How it was noticed</h3>");
    para(&mut out, &d.detection.how);
    out.push_str("<h3>What would halve the delay</h3>");
    para(&mut out, &d.detection.halve_it);

    out.push_str("<h2>Timeline (UTC)</h2>");
    let rows = d
        .timeline
        .iter()
        .map(|r| {
            vec![
                text(&format_time(r.at)),
                text(&super::one_line(&r.source)),
                text(&super::one_line(&r.what)),
            ]
        })
        .collect();
    table(&mut out, &["Time", "Source", "What happened"], rows);

    out.push_str("<h2>5 Whys</h2>");
    if d.whys.is_empty() {
        out.push_str("<p><em>Not written yet.</em></p>");
    } else {
        whys(&mut out, &d.whys, "");
    }

    for (heading, body) in prose_sections(d) {
        let _ = write!(out, "<h2>{}</h2>", text(heading));
        para(&mut out, body);
    }

    out.push_str("<h2>Action items</h2>");
    if d.actions.is_empty() {
        out.push_str("<p><em>None yet.</em></p>");
    } else {
        out.push_str("<ac:task-list>");
        for (i, a) in d.actions.iter().enumerate() {
            let status = if a.status == ActionStatus::Done {
                "complete"
            } else {
                "incomplete"
            };
            let mut body = format!(
                "<strong>{}</strong> {} — owner: {}, due: ",
                text(a.kind.label()),
                text(&super::one_line(&a.what)),
                text(&super::one_line(&a.owner)),
            );
            match a.due {
                Some(due) => {
                    let _ = write!(body, "<time datetime=\"{due}\" />");
                }
                None => body.push_str("none"),
            }
            let _ = write!(
                body,
                ", {}, {}",
                text(a.priority.label()),
                text(a.status.label())
            );
            if !a.ticket.trim().is_empty() {
                let _ = write!(body, ", ticket {}", text(&super::one_line(&a.ticket)));
            }
            let answers = answers_label(d, a.answers);
            if !answers.is_empty() {
                let _ = write!(body, ", answers {}", text(&answers));
            }
            let _ = write!(
                out,
                "<ac:task><ac:task-id>{}</ac:task-id><ac:task-status>{status}</ac:task-status><ac:task-body>{body}</ac:task-body></ac:task>",
                i + 1
            );
        }
        out.push_str("</ac:task-list>");
    }

    out.push_str("<h2>Runbook and contingency updates</h2>");
    para(&mut out, &d.runbook_updates);
    out
}
