//! The runbook: every detection rule as data (TOML), with SQL users can
//! rewrite for their own schema.
//!
//! The built-in runbook (`runbooks/default.toml`) is compiled in and targets
//! the reference schema; a user file overrides rules by id or adds new ones.
//! Rule SQL uses named parameters (see [`params`]) that are always bound.

pub mod params;
mod refs;

use crate::model::{Family, Severity};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::fmt;
use std::path::Path;
use toml::Spanned;

pub use params::{BoundSql, Dialect, ParamError, rewrite, rewrite_lists};

use crate::remedy::spec::{HealSpec, RawHeal, RawRemediation, Remediation};

/// The runbook compiled into the binary.
pub const DEFAULT_RUNBOOK: &str = include_str!("../runbooks/default.toml");

/// Parameters a detection rule's SQL may use.
pub const DETECTION_PARAMS: &[&str] = &["cutoff", "now", "limit"];

/// Parameters per-order SQL (timelines, remediations) may use.
pub const ORDER_PARAMS: &[&str] = &["cutoff", "now", "limit", "order_id"];

/// Columns every detection rule's SELECT returns, by name.
pub const RULE_COLUMNS: &[&str] = &[
    "order_id",
    "order_no",
    "status",
    "since",
    "sku",
    "supplier_id",
    "amount_cents",
    "detail",
];

/// A set of detection rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Runbook {
    pub rules: Vec<Rule>,
    /// Fixes, by id (see `crate::remedy::spec`).
    pub remediations: Vec<Remediation>,
    /// How `heal` treats zombie orders.
    pub heal: Option<HealSpec>,
}

/// One detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable id, `family.name`, e.g. `ghost.pending_review`.
    pub id: String,
    pub family: Family,
    pub title: String,
    pub severity: Severity,
    /// A SELECT returning [`RULE_COLUMNS`]; parameters `:cutoff` (now minus
    /// the threshold), `:now` and `:limit`.
    pub sql: String,
    /// How long an order must be in the condition before it is reported.
    pub threshold_minutes: u64,
    /// Usual causes, shown in the timeline pane.
    pub causes: Vec<String>,
    /// Suggested remediations (action ids such as `release_lock`).
    pub remediations: Vec<String>,
    pub enabled: bool,
}

impl Rule {
    /// The `:cutoff` value for a poll at `now`: orders in the condition since
    /// before it are reported.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // Clamped to a century: a bigger threshold means "never", and
        // chrono's range must hold.
        let minutes = self.threshold_minutes.min(100 * 365 * 24 * 60) as i64;
        now - Duration::minutes(minutes)
    }

    /// The rule's SQL with placeholders for `dialect` and the parameter names
    /// to bind in order.
    pub fn bound_sql(&self, dialect: Dialect) -> Result<BoundSql, ParamError> {
        rewrite(&self.sql, dialect, DETECTION_PARAMS)
    }
}

/// A runbook is a page of rules; a file much bigger is the wrong file.
const MAX_RUNBOOK_BYTES: u64 = 1024 * 1024;

/// A runbook that could not be loaded: one line, `origin:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookError {
    pub origin: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for RunbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.origin, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for RunbookError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    remediation: Vec<Spanned<RawRemediation>>,
    heal: Option<Spanned<RawHeal>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    family: Spanned<String>,
    title: String,
    #[serde(default)]
    severity: Severity,
    sql: Spanned<String>,
    threshold_minutes: Option<u64>,
    threshold_hours: Option<u64>,
    #[serde(default)]
    causes: Vec<String>,
    #[serde(default)]
    remediations: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// One line, with control and bidi characters from the file escaped and
/// the length capped: a hostile key must not drive the terminal that shows
/// the error.
fn one_line(s: &str) -> String {
    crate::toml_errors::one_line(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A detection rule reads: its SQL must be one query, never a write
/// (detection also runs in read-only transactions; this says so at
/// `config check` time instead of on every poll).
pub fn query_only(sql: &str) -> Result<(), String> {
    // Words outside quotes and comments, upper-cased.
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    let flush = |w: &mut String, words: &mut Vec<String>| {
        if !w.is_empty() {
            words.push(std::mem::take(w).to_ascii_uppercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                flush(&mut word, &mut words);
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut words);
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut word, &mut words);
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            ';' => {
                flush(&mut word, &mut words);
                words.push(";".into());
            }
            _ => flush(&mut word, &mut words),
        }
    }
    flush(&mut word, &mut words);
    while words.last().map(String::as_str) == Some(";") {
        words.pop();
    }
    match words.first().map(String::as_str) {
        Some("SELECT" | "WITH" | "VALUES") => {}
        Some(other) => {
            return Err(format!(
                "sql must be a query (SELECT or WITH), not {other}: detection never writes"
            ));
        }
        None => return Err("sql is empty".into()),
    }
    // Not REPLACE: it is also a string function.
    const WRITES: [&str; 10] = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "DROP", "ALTER", "CREATE", "GRANT",
        "CALL",
    ];
    if words.iter().any(|w| w == ";") {
        return Err("sql must be one query: it holds more than one statement".into());
    }
    if let Some(w) = words.iter().find(|w| WRITES.contains(&w.as_str())) {
        return Err(format!(
            "sql must be a query, but it holds {w}: detection never writes"
        ));
    }
    Ok(())
}

impl Runbook {
    /// The compiled-in default runbook.
    pub fn builtin() -> Runbook {
        // The file is compiled in and a unit test proves it parses.
        Runbook::parse(DEFAULT_RUNBOOK, "runbooks/default.toml")
            .expect("the built-in runbook parses (checked by a unit test)")
    }

    /// The built-in runbook with the user's file merged over it. `explicit`
    /// is a path the user named (missing is an error); `fallback` is the
    /// default location (missing is fine). A bad user file leaves the
    /// built-in rules running and says why: the cockpit keeps working.
    pub fn with_user_file(
        explicit: Option<&Path>,
        fallback: Option<&Path>,
    ) -> (Runbook, Option<String>) {
        let builtin = Runbook::builtin();
        let path = match (explicit, fallback) {
            (Some(p), _) => p,
            (None, Some(p)) if p.exists() => p,
            _ => return (builtin, None),
        };
        match Runbook::load_file(path) {
            Ok(user) => (builtin.merge(user), None),
            Err(e) => (builtin, Some(format!("{e}; using the built-in rules only"))),
        }
    }

    /// Reads and parses a user runbook. Every error is one line that names
    /// the file (escaped), and the line where the file has lines: a wrong
    /// path or a binary file is reported, never half-read or panicked on.
    pub fn load_file(path: &Path) -> Result<Runbook, String> {
        use crate::toml_errors::{ReadError, read_text, show_path};
        let shown = show_path(path);
        let text = read_text(path, MAX_RUNBOOK_BYTES).map_err(|e| match e {
            ReadError::NotUtf8 { line, col, .. } => {
                format!("{shown}:{line}:{col}: {}", e.describe(MAX_RUNBOOK_BYTES))
            }
            _ => format!("runbook {shown}: {}", e.describe(MAX_RUNBOOK_BYTES)),
        })?;
        let user = Runbook::parse(&text, &shown).map_err(|e| e.to_string())?;
        refs::check(&text, &shown, &user, &Runbook::builtin()).map_err(|e| e.to_string())?;
        Ok(user)
    }

    /// Parses a runbook; `origin` names it in errors (usually the path).
    pub fn parse(text: &str, origin: &str) -> Result<Runbook, RunbookError> {
        let at = |offset: usize, message: String| {
            let (line, col) = crate::toml_errors::position(text, offset);
            RunbookError {
                origin: origin.to_string(),
                line,
                col,
                message: one_line(&message),
            }
        };
        let raw: RawRunbook = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            at(offset, crate::toml_errors::message(&e, text))
        })?;
        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
        for spanned in raw.rule {
            let rule_start = spanned.span().start;
            let r = spanned.into_inner();
            let id = r.id.get_ref().trim().to_string();
            if id.is_empty() || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(at(
                    r.id.span().start,
                    "rule id must be non-empty without spaces or control characters".into(),
                ));
            }
            if rules.iter().any(|other| other.id == id) {
                return Err(at(r.id.span().start, format!("duplicate rule id {id:?}")));
            }
            let family: Family = r
                .family
                .get_ref()
                .parse()
                .map_err(|e: String| at(r.family.span().start, format!("rule {id}: {e}")))?;
            let threshold_minutes = match (r.threshold_minutes, r.threshold_hours) {
                (Some(_), Some(_)) => {
                    return Err(at(
                        rule_start,
                        format!("rule {id}: set threshold_minutes or threshold_hours, not both"),
                    ));
                }
                (Some(m), None) => m,
                (None, Some(h)) => h.saturating_mul(60),
                (None, None) => 0,
            };
            let sql = r.sql.get_ref().clone();
            if sql.trim().is_empty() {
                return Err(at(r.sql.span().start, format!("rule {id}: sql is empty")));
            }
            if let Err(e) = query_only(&sql) {
                return Err(at(r.sql.span().start, format!("rule {id}: {e}")));
            }
            // Every dialect must accept the SQL; the `?` check is the strictest.
            let bound = rewrite(&sql, Dialect::Sqlite, DETECTION_PARAMS)
                .map_err(|e| at(r.sql.span().start, format!("rule {id}: {e}")))?;
            if bound.params.iter().any(|p| p == "cutoff") && threshold_minutes == 0 {
                return Err(at(
                    rule_start,
                    format!(
                        "rule {id}: its sql uses :cutoff but it has no threshold_minutes or threshold_hours"
                    ),
                ));
            }
            rules.push(Rule {
                id,
                family,
                title: one_line(&r.title),
                severity: r.severity,
                sql,
                threshold_minutes,
                causes: r.causes,
                remediations: r.remediations,
                enabled: r.enabled,
            });
        }
        let mut remediations: Vec<Remediation> = Vec::new();
        for spanned in raw.remediation {
            let start = spanned.span().start;
            let raw = spanned.into_inner();
            if remediations.iter().any(|r| r.id == raw.id()) {
                return Err(at(
                    start,
                    format!("duplicate remediation id {:?}", raw.id()),
                ));
            }
            remediations.push(raw.build().map_err(|e| at(start, e))?);
        }
        let heal = match raw.heal {
            Some(h) => {
                let start = h.span().start;
                Some(h.into_inner().build().map_err(|e| at(start, e))?)
            }
            None => None,
        };
        Ok(Runbook {
            rules,
            remediations,
            heal,
        })
    }

    pub fn remediation(&self, id: &str) -> Option<&Remediation> {
        self.remediations.iter().find(|r| r.id == id)
    }

    /// The user's rules replace built-in ones with the same id (in place) and
    /// new ids are appended in the user's order.
    pub fn merge(mut self, user: Runbook) -> Runbook {
        for rule in user.rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
        for r in user.remediations {
            match self.remediations.iter_mut().find(|x| x.id == r.id) {
                Some(slot) => *slot = r,
                None => self.remediations.push(r),
            }
        }
        if user.heal.is_some() {
            self.heal = user.heal;
        }
        self
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_runbook_file_overrides_adds_or_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let builtin = Runbook::builtin();
        // No file at the default place: the built-in rules, no warning.
        let absent = dir.path().join("runbook.toml");
        let (rb, warning) = Runbook::with_user_file(None, Some(&absent));
        assert_eq!(rb.rules.len(), builtin.rules.len());
        assert_eq!(warning, None);
        // A file the user named must exist.
        let (rb, warning) = Runbook::with_user_file(Some(&absent), None);
        assert_eq!(rb.rules.len(), builtin.rules.len());
        let w = warning.expect("a warning");
        assert!(
            w.contains("runbook.toml") && w.contains("built-in rules only"),
            "{w}"
        );
        // A good file: one rule disabled, one added.
        std::fs::write(
            &absent,
            r#"
[[rule]]
id = "zombie.risk_hold"
family = "zombie"
title = "off here"
enabled = false
sql = "SELECT 1"

[[rule]]
id = "ghost.created_stuck"
family = "ghost"
title = "Created, never submitted"
threshold_minutes = 60
sql = "SELECT id AS order_id FROM orders WHERE status = 'created' AND created_at < :cutoff LIMIT :limit"
"#,
        )
        .unwrap();
        let (rb, warning) = Runbook::with_user_file(None, Some(&absent));
        assert_eq!(warning, None);
        assert!(rb.rule("ghost.created_stuck").is_some());
        assert!(rb.enabled().all(|r| r.id != "zombie.risk_hold"));
        assert_eq!(rb.enabled().count(), builtin.rules.len());
        // A broken file: one line with where, and the built-in rules run.
        std::fs::write(&absent, "[[rule]]\nid = 3\n").unwrap();
        let (rb, warning) = Runbook::with_user_file(None, Some(&absent));
        assert_eq!(rb.rules.len(), builtin.rules.len());
        let w = warning.expect("a warning");
        assert!(!w.contains('\n') && w.contains("runbook.toml"), "{w}");
    }

    #[test]
    fn builtin_parses_and_covers_every_family() {
        let rb = Runbook::parse(DEFAULT_RUNBOOK, "runbooks/default.toml").unwrap();
        for f in Family::ALL {
            assert!(rb.rules.iter().any(|r| r.family == f), "{f} has no rule");
        }
        for r in &rb.rules {
            assert!(r.id.starts_with(r.family.as_str()), "{}", r.id);
            assert!(!r.causes.is_empty(), "{} has no causes", r.id);
            assert!(!r.remediations.is_empty(), "{} has no remediations", r.id);
            assert!(!r.sql.contains("||"), "{} concatenates with ||", r.id);
            for d in [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres] {
                r.bound_sql(d).unwrap();
            }
            for col in RULE_COLUMNS {
                assert!(r.sql.contains(col), "{} does not select {col}", r.id);
            }
        }
        assert_eq!(Runbook::builtin(), rb);
    }

    const GOOD: &str = r#"
[[rule]]
id = "ghost.custom"
family = "ghost"
title = "Custom"
severity = "low"
threshold_hours = 3
causes = ["a"]
remediations = ["release_lock"]
sql = "SELECT 1 WHERE x < :cutoff LIMIT :limit"
"#;

    #[test]
    fn hours_become_minutes_and_defaults_apply() {
        let rb = Runbook::parse(GOOD, "user.toml").unwrap();
        let r = &rb.rules[0];
        assert_eq!(r.threshold_minutes, 180);
        assert_eq!(r.severity, Severity::Low);
        assert!(r.enabled);
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 25, 12, 0, 0).unwrap();
        assert_eq!(r.cutoff(now), now - Duration::hours(3));
    }

    #[test]
    fn errors_are_one_line_with_origin_line_and_column() {
        let cases = [
            (
                GOOD.replace("family = \"ghost\"", "family = \"phantom\""),
                4,
                "phantom",
            ),
            (GOOD.replace(":cutoff", ":cuttoff"), 10, ":cuttoff"),
            (
                GOOD.replace("title = \"Custom\"", "title = \"Custom"),
                5,
                "",
            ),
            (
                GOOD.replace("severity = \"low\"", "severity = \"dire\""),
                6,
                "dire",
            ),
            (GOOD.replace("causes", "cuases"), 8, "cuases"),
            (format!("{GOOD}{GOOD}"), 13, "duplicate rule id"),
            (GOOD.replace("threshold_hours = 3\n", ""), 2, "threshold"),
        ];
        for (text, line, needle) in cases {
            let e = Runbook::parse(&text, "user.toml").unwrap_err();
            let shown = e.to_string();
            assert_eq!(shown.lines().count(), 1, "{shown}");
            assert!(shown.starts_with(&format!("user.toml:{line}:")), "{shown}");
            assert!(shown.contains(needle), "{shown}");
        }
    }

    #[test]
    fn user_rules_override_by_id_or_are_added() {
        let user = Runbook::parse(
            &format!(
                "{}{}",
                GOOD,
                GOOD.replace("ghost.custom", "zombie.processing_24h")
                    .replace("family = \"ghost\"", "family = \"zombie\"")
            ),
            "user.toml",
        )
        .unwrap();
        let builtin = Runbook::builtin();
        let n = builtin.rules.len();
        let merged = builtin.merge(user);
        assert_eq!(merged.rules.len(), n + 1);
        let z = merged.rule("zombie.processing_24h").unwrap();
        assert_eq!(z.threshold_minutes, 180);
        assert_eq!(merged.rules.last().unwrap().id, "ghost.custom");
        let off =
            Runbook::parse(&GOOD.replace("severity", "enabled = false\nseverity"), "u").unwrap();
        assert_eq!(Runbook::builtin().merge(off).enabled().count(), n);
    }
}
