//! The alerts strip under the status bar, and the `:alerts` list.

use super::help::{overlay, popup_area};
use super::text;
use super::timeline::wrap;
use crate::alerts::{Alert, AlertLevel};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

fn level_style(state: &State, level: AlertLevel) -> Style {
    let p = state.palette();
    match level {
        AlertLevel::Warning => p.warn,
        AlertLevel::Critical => p.critical,
    }
}

fn symbol(level: AlertLevel) -> &'static str {
    match level {
        AlertLevel::Warning => "▲",
        AlertLevel::Critical => "✖",
    }
}

/// One row: `✖1 ▲4  <most severe alert>  since 14:29:31  :alerts`. The
/// counts and the hint always fit; the message takes what is left and is
/// cut with `…`. A time of day rather than an age, so the strip does not
/// change (and cost terminal output) every second.
pub fn render_strip(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let board = &state.alerts.board;
    let Some(top) = board.top() else {
        return;
    };
    let mut left: Vec<Span> = vec![Span::raw(" ")];
    for level in [AlertLevel::Critical, AlertLevel::Warning] {
        let n = board.count(level);
        if n > 0 {
            left.push(Span::styled(
                format!("{}{n} ", symbol(level)),
                level_style(state, level),
            ));
        }
    }
    left.push(Span::raw(" "));
    let since = format!("  since {}", text::time_of_day(top.since, state.clock));
    let hint = if board.active().len() > 1 {
        "  :alerts"
    } else {
        ""
    };
    let width = area.width as usize;
    let used: usize = left.iter().map(|s| s.content.width()).sum();
    let room = width.saturating_sub(used + hint.width());
    // The time goes before the message is cut short: which alert matters more.
    let since_w = since.width();
    let (since, room) = if room >= since_w + 20 {
        (since, room - since_w)
    } else {
        (String::new(), room)
    };
    let message = if crate::state::alerts::is_blind(state, &top.id) {
        format!("(stale) {}", top.message)
    } else {
        top.message.clone()
    };
    let message = text::cell(&message, room, false);
    let message = message.trim_end().to_string();
    let mut spans = left;
    spans.push(Span::styled(message, level_style(state, top.level)));
    spans.push(Span::styled(since, p.muted));
    spans.push(Span::styled(hint, p.muted));
    text::draw_lines(frame, area, &[Line::from(spans)]);
}

/// The `:alerts` overlay: every active alert, most severe and oldest first,
/// its message wrapped so a whole log line can be read.
pub fn render_list(state: &State, frame: &mut Frame, area: Rect, scroll: usize) {
    let p = state.palette();
    let inner = popup_area(area).0.width.saturating_sub(2) as usize;
    let alerts = state.alerts.board.active();
    let mut lines: Vec<Line> = Vec::new();
    if alerts.is_empty() {
        lines.push(Line::from(Span::styled("no active alerts", p.muted)));
    }
    for alert in alerts {
        lines.extend(alert_lines(state, alert, inner));
    }
    let title = format!(
        " Alerts: {} critical, {} warning — Esc closes, j/k scroll ",
        state.alerts.board.count(AlertLevel::Critical),
        state.alerts.board.count(AlertLevel::Warning)
    );
    overlay(state, frame, area, &title, lines, scroll);
}

fn alert_lines(state: &State, alert: &Alert, width: usize) -> Vec<Line<'static>> {
    let style = level_style(state, alert.level);
    let head = format!(
        "{} {}  ",
        symbol(alert.level),
        text::timestamp(alert.since, state.clock)
    );
    let indent = head.width();
    wrap(
        vec![
            Span::styled(head, style),
            Span::styled(
                if crate::state::alerts::is_blind(state, &alert.id) {
                    format!("(stale: its source is down) {}", alert.message)
                } else {
                    alert.message.clone()
                },
                state.palette().text,
            ),
        ],
        width,
        indent,
    )
}
