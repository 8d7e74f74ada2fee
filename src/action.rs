//! Messages into the app core and effects out of it.

use crate::alerts::log::LogReport;
use crate::model::remedy::{Preview, Report, Request};
use crate::model::source::SourceError;
use crate::model::{DetectionSnapshot, QueueSnapshot, Timeline};
use crate::state::keys::{Key, Mouse};
use chrono::{DateTime, Utc};

/// Everything that can happen to the cockpit. Sources, the terminal and the
/// clock send these over one channel; `update` folds them into the state.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// Wheel or click (only sent when mouse capture is on, `--mouse`).
    Mouse(Mouse),
    Resize {
        width: u16,
        height: u16,
    },
    /// The 1 Hz wall clock.
    Tick(DateTime<Utc>),
    /// A detection poll finished (wall-clock time of arrival).
    Orders {
        at: DateTime<Utc>,
        result: Result<DetectionSnapshot, SourceError>,
    },
    /// A queue poll finished.
    Queues {
        at: DateTime<Utc>,
        result: Result<QueueSnapshot, SourceError>,
    },
    Timeline {
        order_id: i64,
        result: Result<Option<Timeline>, SourceError>,
    },
    /// Answer to `Effect::LookupOrder`.
    OrderFound {
        order_no: String,
        result: Result<Option<i64>, SourceError>,
    },
    /// A followed log file's rule counts changed, or it became unreadable
    /// or readable again (sent by `sources::logtail` only on change).
    Log {
        at: DateTime<Utc>,
        report: LogReport,
    },
    /// A remediation's preview (or its refusal / failure, already audited).
    RemedyPreview(Box<Result<Preview, Report>>),
    /// A remediation ran (or was declined / refused); already audited.
    RemedyDone(Report),
    /// The postmortem editor the cockpit hosted has closed (its keys were
    /// the editor's until now).
    EditorClosed,
    /// SIGTERM, SIGHUP or the like: leave cleanly.
    Terminate(&'static str),
}

impl Msg {
    /// A poll whose source could not be read at all (not one failing rule).
    pub fn is_source_failure(&self) -> bool {
        match self {
            Msg::Orders {
                result: Ok(snap), ..
            } => snap.down.is_some(),
            Msg::Orders { result: Err(_), .. } | Msg::Queues { result: Err(_), .. } => true,
            _ => false,
        }
    }
}

/// Work the core asks the edges to do; results come back as messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Fetch this order's timeline now and keep it live; `None` stops.
    WatchOrder(Option<i64>),
    /// Resolve an order number typed by the user (for `:goto`).
    LookupOrder(String),
    /// Put this text on the clipboard of the user's terminal (OSC 52, so
    /// it works over SSH); sanitised and capped by the core.
    Copy(String),
    /// Ring the terminal bell: a new alert fired and `alerts.bell` is on.
    Bell,
    /// Ask the remediation engine what this would do (it refuses and
    /// audits in read-only mode).
    PreviewRemedy(Request),
    /// Confirmed: do it.
    ExecuteRemedy(Box<Preview>),
    /// Cancelled at the dialog: audited as refused, nothing changed.
    DeclineRemedy(Box<Preview>),
    /// A remediation asked for where none may run (the wallboard): nothing
    /// is previewed or done; the engine audits the attempt as refused,
    /// saying `why`.
    RefuseRemedy { request: Request, why: String },
    /// Append to the incident's record (only sent when something changed).
    RecordIncident {
        incident: String,
        observations: Vec<crate::state::incident::Observation>,
    },
    /// Open the postmortem editor for this incident (or a new draft) on the
    /// cockpit's terminal; the cockpit resumes when it closes.
    OpenPostmortem { incident: Option<String> },
}
