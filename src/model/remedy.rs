//! The remediation vocabulary the core shares with the remediation edge:
//! what the user asked for, what will be done, and how it went. Plain data:
//! planning and executing live in `crate::remedy`, which fills these in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// One remediation of the runbook on one order.
    Order {
        action: String,
        order_id: i64,
        order_no: String,
    },
    /// Retry or cancel zombie orders older than `older_than`.
    Heal {
        older_than: chrono::Duration,
        limit: u32,
    },
    Requeue(RequeueRequest),
    /// A remediation key pressed with nothing to aim it at (the wallboard
    /// has no selection): only ever refused, and audited without touching
    /// any order.
    Unaimed {
        action: String,
    },
}

impl Request {
    pub fn action(&self) -> &str {
        match self {
            Request::Order { action, .. } => action,
            Request::Heal { .. } => "heal",
            Request::Requeue(_) => "requeue_dead_letters",
            Request::Unaimed { action } => action,
        }
    }

    pub fn target(&self) -> String {
        match self {
            Request::Order { order_no, .. } => format!("order {order_no}"),
            Request::Heal { older_than, .. } => {
                format!("zombie orders older than {}h", older_than.num_hours())
            }
            Request::Requeue(r) => format!("queue {}", r.dlq()),
            Request::Unaimed { .. } => "nothing selected".into(),
        }
    }
}

/// What will be done, shown before asking.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub request: Request,
    pub title: String,
    /// Statements with bound values, messages, counts: the dialog's body.
    pub lines: Vec<String>,
    /// Orders or messages the fix expects to touch.
    pub expected: u64,
    /// Nothing to do, and why (re-running on a fixed order).
    pub noop: Option<String>,
    /// Cannot proceed, and why (e.g. it must publish and no broker is set).
    pub blocked: Option<String>,
    /// What executing does; filled in by the remediation edge when it
    /// previews, never by the core.
    pub(crate) plan: Plan,
}

impl Preview {
    /// More than one row or message: the count must be typed to confirm.
    pub fn is_bulk(&self) -> bool {
        self.expected > 1
    }

    /// A preview for tests of the dialog (the core's key handling): it
    /// plans nothing, so executing it changes nothing.
    #[doc(hidden)]
    pub fn fixture(request: Request, expected: u64) -> Preview {
        Preview {
            title: format!("{} — {}", request.action(), request.target()),
            request,
            lines: vec!["-- fixture preview".into()],
            expected,
            noop: None,
            blocked: None,
            plan: Plan::Nothing,
        }
    }
}

/// The rows or messages a preview commits to, so executing touches
/// exactly what was shown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    Nothing,
    Orders { ids: Vec<i64> },
    Heal { retry: Vec<i64>, cancel: Vec<i64> },
    Requeue,
}

/// The result of an attempt, as the message line or a log line says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub outcome: Outcome,
    pub affected: u64,
    pub message: String,
}

impl Report {
    /// Exit code for headless commands: 0 done/no-op/dry run, 1 failed or refused.
    pub fn exit_code(&self) -> u8 {
        match self.outcome {
            Outcome::Ok | Outcome::Noop | Outcome::DryRun => 0,
            Outcome::Failed | Outcome::Refused => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    DryRun,
    Refused,
    #[default]
    Failed,
    Noop,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::DryRun => "dry_run",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Noop => "noop",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ok" => Outcome::Ok,
            "dry_run" => Outcome::DryRun,
            "refused" => Outcome::Refused,
            "failed" => Outcome::Failed,
            "noop" => Outcome::Noop,
            other => return Err(format!("unknown outcome {other:?}")),
        })
    }
}

/// What `requeue` is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RequeueRequest {
    /// The work queue; dead letters come from `<queue>.dlq`.
    pub queue: String,
    pub limit: u64,
    /// Only messages whose body or headers contain this text.
    pub filter: Option<String>,
}

impl RequeueRequest {
    pub fn dlq(&self) -> String {
        format!("{}.dlq", self.queue)
    }
}

/// Why the wallboard refuses remediations, as the refusal message and the
/// audit say it.
pub const WALLBOARD_READ_ONLY: &str = "wallboard is read-only";
