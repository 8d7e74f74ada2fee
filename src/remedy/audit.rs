//! The audit trail: every remediation attempt (done, no-op, dry run,
//! refused, failed) as a `remediation_audit` row and as a line in a local
//! append-only JSONL file that is fsynced before the attempt is reported,
//! so the trail survives the database being the thing that is down.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::model::remedy::Outcome;

/// One attempt, as stored in both places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The database row id (absent in the JSONL file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub os_user: String,
    pub host: String,
    pub environment: String,
    pub action: String,
    /// `order SO-1042`, `queue payment.callback.dlq`, `heal 37 orders`.
    pub target: String,
    /// Parameters as JSON: order ids, limits, filters, run id.
    pub parameters: serde_json::Value,
    /// The exact statements (with placeholders) and/or messages.
    pub statement: String,
    pub affected: u64,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// Who is at the keyboard, as the audit records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub os_user: String,
    pub host: String,
    pub environment: String,
}

impl Actor {
    pub fn current(environment: &str) -> Actor {
        Actor {
            os_user: whoami::username(),
            host: whoami::fallible::hostname().unwrap_or_else(|_| "unknown-host".into()),
            environment: environment.to_string(),
        }
    }
}

/// The local audit file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: Option<PathBuf>,
}

impl AuditLog {
    /// `path` `None`: no local file could be placed (no home directory);
    /// appends then fail and say so.
    pub fn new(path: Option<PathBuf>) -> Self {
        AuditLog { path }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends one line and fsyncs it: the attempt is on disk before anyone
    /// is told it happened.
    pub fn append(&self, record: &AuditRecord) -> Result<(), String> {
        let path = self.path.as_ref().ok_or(
            "no data directory for the local audit file (set HOME or ORDERDECK_AUDIT_LOG)",
        )?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        // `tail -f audit.jsonl` on a terminal must not be driven by an order
        // number holding CSI or a bidi override: those go in as \uXXXX.
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        let mut line = crate::sanitize::escape_json_invisibles(&json).into_bytes();
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("opening the audit file {}: {e}", path.display()))?;
        // One write of the whole line: O_APPEND keeps concurrent writers'
        // lines whole.
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("writing the audit file {}: {e}", path.display()))
    }

    /// Records at or after `since`, skipping lines that do not parse.
    pub fn read_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, String> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<AuditRecord>(l).ok())
            .filter(|r| r.occurred_at >= since)
            .collect())
    }
}

/// `ORDERDECK_AUDIT_LOG`, else `audit.jsonl` in the data directory.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("ORDERDECK_AUDIT_LOG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(crate::paths::audit_log_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome) -> AuditRecord {
        AuditRecord {
            id: None,
            occurred_at: Utc::now(),
            os_user: "alice".into(),
            host: "bastion".into(),
            environment: "prod".into(),
            action: "release_lock".into(),
            target: "order SO-1".into(),
            parameters: serde_json::json!({"order_ids": [1]}),
            statement: "UPDATE inventory_locks SET is_locked = FALSE WHERE ...".into(),
            affected: 1,
            outcome,
            error: None,
            duration_ms: 3,
        }
    }

    #[test]
    fn appends_one_line_per_attempt_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(Some(dir.path().join("sub/audit.jsonl")));
        log.append(&record(Outcome::Ok)).unwrap();
        log.append(&record(Outcome::Refused)).unwrap();
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .contains("\"outcome\":\"refused\"")
        );
        let back = log
            .read_since(Utc::now() - chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].outcome, Outcome::Refused);
        // A torn or foreign line is skipped, not fatal.
        std::fs::write(log.path().unwrap(), format!("{{garbage\n{}", text)).unwrap();
        assert_eq!(
            log.read_since(Utc::now() - chrono::Duration::hours(1))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn the_file_holds_no_raw_invisible_characters() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(Some(dir.path().join("audit.jsonl")));
        let mut r = record(Outcome::Failed);
        r.target = "order SO\u{9b}2J\u{202e}1\u{200b}\u{7f}".into();
        log.append(&r).unwrap();
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        assert!(
            text.contains(r#""target":"order SO\u009b2J\u202e1\u200b\u007f""#),
            "{text}"
        );
        let back = log
            .read_since(Utc::now() - chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(back[0].target, "order SO\u{9b}2J\u{202e}1\u{200b}\u{7f}");
    }

    #[test]
    fn outcomes_round_trip_as_the_schema_spells_them() {
        for o in [
            Outcome::Ok,
            Outcome::DryRun,
            Outcome::Refused,
            Outcome::Failed,
            Outcome::Noop,
        ] {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
        }
        assert!("done".parse::<Outcome>().is_err());
    }
}
