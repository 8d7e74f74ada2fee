//! `heal`, `requeue` and `remediate` for cron and scripts: the engine's
//! preview printed as plain lines, a question on a terminal, `--yes`
//! required without one, and the result as one line.

use super::audit::{AuditRecord, Outcome};
use super::{Engine, Preview, Report, Request};
use chrono::Utc;
use std::io::{BufRead, IsTerminal, Write};

/// How a headless run is confirmed.
#[derive(Debug, Clone, Copy)]
pub struct Confirm {
    pub yes: bool,
    pub dry_run: bool,
}

/// Preview, ask, execute; prints the preview and the result on stdout.
pub async fn run(engine: &Engine, request: Request, confirm: Confirm) -> Report {
    let preview = match engine.preview(request, Utc::now()).await {
        Ok(p) => p,
        Err(report) => return report,
    };
    print_preview(&preview);
    if preview.noop.is_some() || confirm.dry_run || preview.blocked.is_some() {
        return engine.execute(&preview, confirm.dry_run, Utc::now()).await;
    }
    if !confirm.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return engine
                .decline(
                    &preview,
                    "no terminal to confirm on and no --yes: nothing changed",
                    Utc::now(),
                )
                .await;
        }
        let question = if preview.is_bulk() {
            format!(
                "This touches {} orders or messages. Type {} to go ahead, anything else cancels: ",
                preview.expected, preview.expected
            )
        } else {
            "Go ahead? [y/N] ".to_string()
        };
        let answer = ask(&question, &mut stdin.lock());
        if !accepts(&preview, &answer) {
            return engine
                .decline(
                    &preview,
                    "not confirmed at the prompt: nothing changed",
                    Utc::now(),
                )
                .await;
        }
    }
    engine.execute(&preview, false, Utc::now()).await
}

/// Whether `answer` confirms: the count for bulk runs, `y`/`yes` otherwise.
pub fn accepts(preview: &Preview, answer: &str) -> bool {
    let a = answer.trim();
    if preview.is_bulk() {
        a == preview.expected.to_string()
    } else {
        matches!(a.to_ascii_lowercase().as_str(), "y" | "yes")
    }
}

fn ask(question: &str, input: &mut impl BufRead) -> String {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(question.as_bytes());
    let _ = err.flush();
    let mut line = String::new();
    let _ = input.read_line(&mut line);
    line
}

fn print_preview(p: &Preview) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", crate::sanitize::sanitize(&p.title));
    for l in &p.lines {
        let _ = writeln!(out, "  {}", crate::sanitize::sanitize(l));
    }
    if let Some(n) = &p.noop {
        let _ = writeln!(out, "  {}", crate::sanitize::sanitize(n));
    } else {
        let _ = writeln!(out, "  expected: {}", p.expected);
    }
    if let Some(b) = &p.blocked {
        let _ = writeln!(out, "  cannot proceed: {}", crate::sanitize::sanitize(b));
    }
}

/// The audit trail as a table (comfy-table, plain ASCII for pasting).
pub fn audit_table(records: &[AuditRecord]) -> String {
    use comfy_table::{Table, presets::ASCII_MARKDOWN};
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN).set_header(vec![
        "time (UTC)",
        "who",
        "env",
        "action",
        "target",
        "outcome",
        "affected",
        "ms",
        "error",
    ]);
    for r in records {
        // Rows written before masking, or by another tool, are masked here.
        let clean = |s: &str, n: usize| {
            crate::sanitize::sanitize_capped(&crate::config::mask_secrets(s), n)
        };
        t.add_row(vec![
            r.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            clean(&format!("{}@{}", r.os_user, r.host), 40),
            clean(&r.environment, 20),
            clean(&r.action, 30),
            clean(&r.target, 40),
            r.outcome.to_string(),
            r.affected.to_string(),
            r.duration_ms.to_string(),
            clean(r.error.as_deref().unwrap_or(""), 80),
        ]);
    }
    format!("{t}\n")
}

/// One JSON object per line, as in the local file.
pub fn audit_json(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    for r in records {
        if let Ok(line) = serde_json::to_string(r) {
            let masked = crate::config::mask_secrets(&line);
            out.push_str(&crate::sanitize::escape_json_invisibles(&masked));
            out.push('\n');
        }
    }
    out
}

impl Report {
    /// The line a headless command ends with.
    pub fn line(&self) -> String {
        let tag = match self.outcome {
            Outcome::Ok => "done",
            Outcome::Noop => "no-op",
            Outcome::DryRun => "dry run",
            Outcome::Refused => "refused",
            Outcome::Failed => "FAILED",
        };
        format!("{tag}: {}", crate::sanitize::sanitize(&self.message))
    }
}
