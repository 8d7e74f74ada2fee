//! Confluence wiki markup, for servers without the storage format editor.
//! Every markup character in draft text is escaped with a backslash; a
//! literal backslash becomes an entity, because `\\` is a line break there.

use super::{
    answers_label, detection_delay, header_rows, impact_rows, number, one_line, paragraphs,
    prose_sections, title,
};
use crate::postmortem::model::{Choice, Draft, Severity, Status, Why, format_time};
use std::fmt::Write;

pub fn escape(s: &str) -> String {
    let s = super::reveal(s);
    let mut out = String::with_capacity(s.len() + 8);
    // At the start of a line `h1.`..`h6.` make a heading and `bq.` a quote;
    // their first letter as an entity keeps them text. (`*`, `#` and `-`,
    // which start lists and rules, are escaped wherever they are.)
    let lead = s.trim_start();
    let block = lead.len() > 2
        && (lead.starts_with("bq.")
            || (lead.starts_with('h')
                && matches!(lead.as_bytes()[1], b'1'..=b'6')
                && lead.as_bytes()[2] == b'.'));
    let mut first = block;
    for c in s.chars() {
        match c {
            c if first && !c.is_whitespace() => {
                first = false;
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '\\' => out.push_str("&#92;"),
            '{' | '}' | '[' | ']' | '|' | '*' | '_' | '-' | '+' | '^' | '~' | '?' | '!' | '#'
            | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn cell(s: &str) -> String {
    let e = escape(&one_line(s));
    // An empty cell would merge with its neighbour.
    if e.is_empty() { " ".into() } else { e }
}

fn block(out: &mut String, s: &str) {
    let paras = paragraphs(s);
    if paras.is_empty() {
        out.push_str("_Not written yet._\n\n");
        return;
    }
    for p in paras {
        let lines: Vec<String> = p.iter().map(|l| escape(l)).collect();
        out.push_str(&lines.join("\\\\\n"));
        out.push_str("\n\n");
    }
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "||{}||", head.join("||"));
    for r in rows {
        let _ = writeln!(out, "|{}|", r.join("|"));
    }
    out.push('\n');
}

fn lozenge(colour: &str, title: &str) -> String {
    format!("{{status:colour={colour}|title={title}}}")
}

fn whys(out: &mut String, list: &[Why], prefix: &str) {
    let depth = if prefix.is_empty() {
        0
    } else {
        prefix.split('.').count()
    };
    for (i, w) in list.iter().enumerate() {
        let n = number(prefix, i);
        let answer = if w.answer.trim().is_empty() {
            "\\(no answer yet\\)".to_string()
        } else {
            cell(&w.answer)
        };
        let _ = write!(
            out,
            "{} *Why {n}:* {answer} _{}, confidence {}_",
            "*".repeat(depth + 1),
            escape(w.category.label()),
            escape(w.confidence.label())
        );
        if !w.evidence.trim().is_empty() {
            let _ = write!(out, " \\\\ Evidence: {}", cell(&w.evidence));
        }
        out.push('\n');
        whys(out, &w.children, &n);
    }
}

pub fn render(d: &Draft) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "h1. {}\n", escape(&title(d)));
    let sev = match d.severity {
        Severity::Sev1 => "Red",
        Severity::Sev2 => "Yellow",
        Severity::Sev3 => "Blue",
        Severity::Sev4 => "Grey",
    };
    let st = match d.status {
        Status::Draft => "Grey",
        Status::InReview => "Yellow",
        Status::Reviewed => "Blue",
        Status::Closed => "Green",
    };
    let mut head = vec![
        vec!["Severity".to_string(), lozenge(sev, d.severity.label())],
        vec!["Status".to_string(), lozenge(st, d.status.label())],
    ];
    head.extend(
        header_rows(d)
            .into_iter()
            .map(|(k, v)| vec![k.to_string(), cell(&v)]),
    );
    table(&mut out, &["Field", "Value"], head);

    out.push_str("h2. Summary\n\n");
    block(&mut out, &d.summary);

    out.push_str("h2. Impact\n\n");
    let rows = impact_rows(d)
        .into_iter()
        .map(|(k, v)| vec![escape(k), cell(&v)])
        .collect();
    table(&mut out, &["Measure", "Value"], rows);
    if !d.impact.notes.trim().is_empty() {
        block(&mut out, &d.impact.notes);
    }

    out.push_str("h2. Detection\n\n");
    let _ = writeln!(out, "*Detection delay:* {}\n", escape(&detection_delay(d)));
    out.push_str("h3. How it was noticed\n\n");
    block(&mut out, &d.detection.how);
    out.push_str("h3. What would halve the delay\n\n");
    block(&mut out, &d.detection.halve_it);

    out.push_str("h2. Timeline \\(UTC\\)\n\n");
    let rows = d
        .timeline
        .iter()
        .map(|r| vec![cell(&format_time(r.at)), cell(&r.source), cell(&r.what)])
        .collect();
    table(&mut out, &["Time", "Source", "What happened"], rows);

    out.push_str("h2. 5 Whys\n\n");
    if d.whys.is_empty() {
        out.push_str("_Not written yet._\n\n");
    } else {
        whys(&mut out, &d.whys, "");
        out.push('\n');
    }

    for (heading, body) in prose_sections(d) {
        let _ = writeln!(out, "h2. {}\n", escape(heading));
        block(&mut out, body);
    }

    out.push_str("h2. Action items\n\n");
    let rows = d
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            vec![
                (i + 1).to_string(),
                cell(a.kind.label()),
                cell(&a.what),
                cell(&a.owner),
                cell(&a.due.map(|d| d.to_string()).unwrap_or_default()),
                cell(a.priority.label()),
                cell(&a.ticket),
                cell(a.status.label()),
                cell(&answers_label(d, a.answers)),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "#", "Type", "Action", "Owner", "Due", "Priority", "Ticket", "Status", "Answers",
        ],
        rows,
    );

    out.push_str("h2. Runbook and contingency updates\n\n");
    block(&mut out, &d.runbook_updates);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
