//! CommonMark plus GFM tables, nothing else: it pastes into Confluence's
//! editor and renders on GitHub. No raw HTML ever; every piece of draft text
//! is backslash-escaped so it stays text.

use super::{
    answers_label, detection_delay, header_rows, impact_rows, number, one_line, paragraphs,
    prose_sections, title,
};
use crate::postmortem::model::{Choice, Draft, Why, format_time};
use std::fmt::Write;

/// Escapes inline text: every character that could start markup, plus the
/// ones that start a block at the beginning of a line.
pub fn inline(s: &str) -> String {
    let s = super::reveal(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    // At the start of a line these begin a list, a heading rule or an
    // ordered list: `- x`, `+ x`, `= `, `1. x`, `1) x`.
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    }
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && out[digits..].starts_with(['.', ')']) {
        out.insert(digits, '\\');
    }
    out
}

/// One table cell: one paragraph, pipes and backslashes escaped.
fn cell(s: &str) -> String {
    inline(&one_line(s))
}

fn block(out: &mut String, s: &str) {
    let paras = paragraphs(s);
    if paras.is_empty() {
        out.push_str("*Not written yet.*\n\n");
        return;
    }
    for p in paras {
        let lines: Vec<String> = p.iter().map(|l| inline(l)).collect();
        // A trailing backslash is CommonMark's hard line break: the lines
        // the user typed stay lines.
        out.push_str(&lines.join("\\\n"));
        out.push_str("\n\n");
    }
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn whys(out: &mut String, list: &[Why], prefix: &str) {
    let depth = if prefix.is_empty() {
        0
    } else {
        prefix.split('.').count()
    };
    let indent = "  ".repeat(depth);
    for (i, w) in list.iter().enumerate() {
        let n = number(prefix, i);
        let answer = if w.answer.trim().is_empty() {
            "(no answer yet)".to_string()
        } else {
            cell(&w.answer)
        };
        let _ = write!(
            out,
            "{indent}- **Why {n}:** {answer}\\\n{indent}  *{}, confidence {}*",
            w.category.label(),
            w.confidence.label()
        );
        if !w.evidence.trim().is_empty() {
            let _ = write!(out, "\\\n{indent}  Evidence: {}", cell(&w.evidence));
        }
        out.push('\n');
        whys(out, &w.children, &n);
    }
}

pub fn render(d: &Draft) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", inline(&title(d)));
    let mut head = vec![
        vec!["Severity".to_string(), d.severity.label().to_string()],
        vec!["Status".to_string(), d.status.label().to_string()],
    ];
    head.extend(
        header_rows(d)
            .into_iter()
            .map(|(k, v)| vec![k.to_string(), v]),
    );
    table(&mut out, &["Field", "Value"], &head);

    out.push_str("## Summary\n\n");
    block(&mut out, &d.summary);

    out.push_str("## Impact\n\n");
    let rows: Vec<Vec<String>> = impact_rows(d)
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    table(&mut out, &["Measure", "Value"], &rows);
    if !d.impact.notes.trim().is_empty() {
        block(&mut out, &d.impact.notes);
    }

    out.push_str("## Detection\n\n");
    let _ = writeln!(
        out,
        "**Detection delay:** {}\n",
        inline(&detection_delay(d))
    );
    out.push_str("### How it was noticed\n\n");
    block(&mut out, &d.detection.how);
    out.push_str("### What would halve the delay\n\n");
    block(&mut out, &d.detection.halve_it);

    out.push_str("## Timeline (UTC)\n\n");
    let rows: Vec<Vec<String>> = d
        .timeline
        .iter()
        .map(|r| vec![format_time(r.at), r.source.clone(), r.what.clone()])
        .collect();
    table(&mut out, &["Time", "Source", "What happened"], &rows);

    out.push_str("## 5 Whys\n\n");
    if d.whys.is_empty() {
        out.push_str("*Not written yet.*\n\n");
    } else {
        whys(&mut out, &d.whys, "");
        out.push('\n');
    }

    for (heading, text) in prose_sections(d) {
        let _ = writeln!(out, "## {heading}\n");
        block(&mut out, text);
    }

    out.push_str("## Action items\n\n");
    let rows: Vec<Vec<String>> = d
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            vec![
                (i + 1).to_string(),
                a.kind.label().to_string(),
                a.what.clone(),
                a.owner.clone(),
                a.due.map(|d| d.to_string()).unwrap_or_default(),
                a.priority.label().to_string(),
                a.ticket.clone(),
                a.status.label().to_string(),
                answers_label(d, a.answers),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "#", "Type", "Action", "Owner", "Due", "Priority", "Ticket", "Status", "Answers",
        ],
        &rows,
    );

    out.push_str("## Runbook and contingency updates\n\n");
    block(&mut out, &d.runbook_updates);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
