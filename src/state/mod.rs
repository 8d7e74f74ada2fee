//! The cockpit's state and the pure `update` that changes it.
//!
//! Nothing here does I/O or knows about the terminal: messages come in,
//! effects go out (see `crate::action`).

pub mod alerts;
pub mod copy;
pub mod filter;
pub mod guard;
pub mod incident;
pub mod input;
pub mod keys;
pub mod orders;
pub mod queues;
pub mod remedy;
pub mod scroll;
pub mod timeline;
mod update;
pub mod wallboard;

pub use update::{update, update_at};

use crate::config::{AlertsConfig, ClockMode, Thresholds};
use crate::model::{Family, format_age};
use crate::theme::{ColorDepth, Palette, ThemeSet};
use alerts::AlertsState;
use chrono::{DateTime, Utc};
use input::LineInput;
use keys::Keymap;
use orders::OrdersTable;
use queues::QueueTable;
use std::collections::HashMap;
use timeline::TimelinePane;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queues,
    Orders,
    Timeline,
}

impl Pane {
    pub fn next(self) -> Pane {
        match self {
            Pane::Queues => Pane::Orders,
            Pane::Orders => Pane::Timeline,
            Pane::Timeline => Pane::Queues,
        }
    }

    pub fn prev(self) -> Pane {
        self.next().next()
    }
}

/// What the keyboard is talking to.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Help {
        scroll: usize,
    },
    /// The `:alerts` list.
    Alerts {
        scroll: usize,
    },
    Command(LineInput),
    /// A remediation's preview, waiting for confirmation.
    Remedy(remedy::Dialog),
    /// Typing a filter; it applies as you type, Esc restores `previous`.
    Filter {
        input: LineInput,
        previous: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The last result, shown on the message line.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    NotConfigured,
    Connecting,
    Ok,
    Down(String),
}

/// Health of one source as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub label: &'static str,
    /// Secret-free description (`sqlite demo.db`, `simulated broker`).
    pub description: String,
    pub health: Health,
    /// Wall-clock time of the last good poll.
    pub last_ok: Option<DateTime<Utc>>,
    pub interval_secs: u64,
}

impl SourceStatus {
    pub fn new(label: &'static str, description: Option<String>, interval_secs: u64) -> Self {
        let health = if description.is_some() {
            Health::Connecting
        } else {
            Health::NotConfigured
        };
        SourceStatus {
            label,
            description: description.unwrap_or_default(),
            health,
            last_ok: None,
            interval_secs: interval_secs.max(1),
        }
    }

    /// `ok 2s`, `stale 14s`, `down (data 40s old): reason`, `not configured`.
    pub fn summary(&self, now: DateTime<Utc>) -> (Level, String) {
        let age = self.last_ok.map(|t| (now - t).num_seconds().max(0));
        match (&self.health, age) {
            (Health::NotConfigured, _) => (Level::Info, "not configured".into()),
            (Health::Connecting, _) => (Level::Info, "connecting".into()),
            (Health::Ok, Some(a)) if a as u64 > self.interval_secs * 3 + 2 => {
                (Level::Warn, format!("stale {}", format_age(a)))
            }
            (Health::Ok, Some(a)) => (Level::Info, format!("ok {}", format_age(a))),
            (Health::Ok, None) => (Level::Info, "ok".into()),
            // The age first: on a narrow screen the reason is what gets cut.
            (Health::Down(reason), Some(a)) => (
                Level::Error,
                format!("down (data {} old): {reason}", format_age(a)),
            ),
            (Health::Down(reason), None) => (Level::Error, format!("down: {reason}")),
        }
    }
}

/// The environment the cockpit watches.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvInfo {
    pub name: String,
    pub demo: Option<DemoInfo>,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoInfo {
    pub seed: u64,
    pub speed: f64,
}

/// What the runbook says about a rule, for the timeline pane.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    pub title: String,
    pub family: Family,
    pub causes: Vec<String>,
    /// Remediation ids the runbook suggests (`r` picks its retry from them).
    pub remediations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Theming {
    pub set: ThemeSet,
    pub name: String,
    pub depth: ColorDepth,
    pub palette: Palette,
}

impl Theming {
    /// Switches to `name`; errors list the themes there are.
    pub fn select(&mut self, name: &str) -> Result<(), String> {
        match self.set.get(name) {
            Some(theme) => {
                self.palette = crate::theme::resolve(theme, self.depth);
                self.name = theme.name.clone();
                Ok(())
            }
            None => Err(format!(
                "no theme {name:?} (have: {})",
                self.set.names().join(", ")
            )),
        }
    }
}

pub struct State {
    pub env: EnvInfo,
    /// Wall clock, advanced by the 1 Hz tick.
    pub now: DateTime<Utc>,
    pub clock: ClockMode,
    pub focus: Pane,
    pub mode: Mode,
    pub queues: QueueTable,
    pub orders: OrdersTable,
    pub timeline: TimelinePane,
    /// True when the timeline shows an order reached by `:goto` that is not
    /// the table's selection; moving in the table unpins it.
    pub timeline_pinned: bool,
    pub db: SourceStatus,
    pub broker: SourceStatus,
    pub message: Option<Message>,
    pub keymap: Keymap,
    pub theming: Theming,
    pub thresholds: Thresholds,
    pub alerts: AlertsState,
    pub rules: HashMap<String, RuleInfo>,
    /// The incident being recorded for the postmortem.
    pub incident: incident::IncidentRecorder,
    /// The war-room view (`w`, `orderdeck wallboard`) and what it tracks.
    pub wallboard: wallboard::WallboardState,
    /// Terminal size in cells.
    pub size: (u16, u16),
    /// Set by `update` when something visible changed; the loop draws and clears it.
    pub needs_redraw: bool,
    pub quit: bool,
    /// Key timing: the preview guard, the quiet time after an overlay
    /// closes, the quit question (see `guard`).
    pub guard: guard::KeyGuard,
}

/// Everything `State::new` needs from configuration and the command line.
pub struct StateInit {
    pub env: EnvInfo,
    pub now: DateTime<Utc>,
    pub clock: ClockMode,
    pub theming: Theming,
    pub thresholds: Thresholds,
    pub alerts: AlertsConfig,
    pub keymap: Keymap,
    pub rules: HashMap<String, RuleInfo>,
    pub db: SourceStatus,
    pub broker: SourceStatus,
    pub size: (u16, u16),
}

impl State {
    pub fn new(init: StateInit) -> State {
        let mut state = State {
            env: init.env,
            now: init.now,
            clock: init.clock,
            focus: Pane::Orders,
            mode: Mode::Normal,
            queues: QueueTable::default(),
            orders: OrdersTable::default(),
            timeline: TimelinePane::default(),
            timeline_pinned: false,
            db: init.db,
            broker: init.broker,
            message: None,
            keymap: init.keymap,
            theming: init.theming,
            thresholds: init.thresholds,
            alerts: AlertsState::new(init.alerts),
            rules: init.rules,
            incident: incident::IncidentRecorder::default(),
            wallboard: wallboard::WallboardState::default(),
            size: init.size,
            needs_redraw: true,
            quit: false,
            guard: guard::KeyGuard::default(),
        };
        update::relayout(&mut state);
        state
    }

    /// Where everything goes in `area` with what the state holds now;
    /// `update` (page sizes) and `render` both ask here, so they agree.
    pub fn screen(&self, area: ratatui::layout::Rect) -> Option<crate::layout::Screen> {
        crate::layout::screen(
            area,
            self.queues.rows.len(),
            self.focus == Pane::Timeline,
            !self.alerts.board.is_empty(),
        )
    }

    pub fn palette(&self) -> &Palette {
        &self.theming.palette
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            level: Level::Info,
            text: text.into(),
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            level: Level::Warn,
            text: text.into(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            level: Level::Error,
            text: text.into(),
        });
    }
}
