//! `render(&state, frame)`: draws the cockpit from the state alone.

mod alerts;
pub mod bigtext;
mod columns;
mod help;
mod orders;
mod queues;
mod remedy;
mod status_bar;
pub mod text;
mod timeline;
mod wallboard;

use crate::layout;
use crate::state::{Level, Mode, Pane, State};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

pub fn render(state: &State, frame: &mut Frame) {
    if state.wallboard.is_shown() {
        wallboard::render(state, frame);
        return;
    }
    let area = frame.area();
    let palette = state.palette();
    frame.render_widget(Block::new().style(palette.base), area);
    let Some(screen) = state.screen(area) else {
        render_too_small(state, frame, area);
        return;
    };
    status_bar::render(state, frame, screen.status);
    if let Some(r) = screen.alerts {
        alerts::render_strip(state, frame, r);
    }
    queues::render(state, frame, screen.queues);
    if let Some(r) = screen.orders {
        orders::render(state, frame, r);
    }
    if let Some(r) = screen.timeline {
        timeline::render(state, frame, r);
    }
    render_message_line(state, frame, screen.message);
    render_hints(state, frame, screen.hints);
    match state.mode {
        Mode::Help { scroll } => help::render(state, frame, area, scroll),
        Mode::Alerts { scroll } => alerts::render_list(state, frame, area, scroll),
        Mode::Remedy(ref d) => remedy::render(state, frame, area, d),
        _ => {}
    }
}

/// A bordered pane whose border and title show whether it has focus.
pub(crate) fn pane_block<'a>(state: &State, pane: Pane, title: Line<'a>) -> Block<'a> {
    let p = state.palette();
    let focused = state.focus == pane;
    let (border_style, border_type) = if focused {
        (p.border_focused, BorderType::Thick)
    } else {
        (p.border, BorderType::Plain)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(border_type)
        .border_style(border_style)
        .title(title)
}

/// `2 Stuck orders` style pane title, the number being the focus key.
pub(crate) fn pane_title<'a>(
    state: &State,
    key: char,
    name: &str,
    extra: Vec<Span<'a>>,
) -> Line<'a> {
    let p = state.palette();
    let mut spans = vec![
        Span::styled(format!(" {key} "), p.muted),
        Span::styled(name.to_string(), p.title),
    ];
    spans.extend(extra);
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn render_too_small(state: &State, frame: &mut Frame, area: Rect) {
    let text = format!(
        "terminal too small: {}x{} — orderdeck needs at least {}x{} (q quits)",
        area.width,
        area.height,
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT
    );
    let y = area.height / 2;
    let r = Rect::new(
        area.x,
        area.y + y,
        area.width,
        area.height.saturating_sub(y),
    );
    frame.render_widget(
        Paragraph::new(text)
            .style(state.palette().warn)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

fn render_message_line(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    match &state.mode {
        Mode::Command(input) | Mode::Filter { input, .. } => {
            let prompt = if matches!(state.mode, Mode::Command(_)) {
                ":"
            } else {
                "/"
            };
            let visible = text::cell(&input.text, area.width.saturating_sub(2) as usize, false);
            let line = Line::from(vec![
                Span::styled(prompt, p.accent),
                Span::styled(visible, p.text),
            ]);
            frame.render_widget(Paragraph::new(line), area);
            let before: String = input.text.chars().take(input.cursor).collect();
            let x = 1 + unicode_width::UnicodeWidthStr::width(before.as_str()) as u16;
            frame.set_cursor_position((area.x + x.min(area.width.saturating_sub(1)), area.y));
        }
        _ => {
            // A source that is down keeps its last data on screen; its reason
            // goes here, since the status bar only has room for "down" at 80
            // columns.
            let down = [&state.db, &state.broker]
                .into_iter()
                .find(|s| matches!(s.health, crate::state::Health::Down(_)));
            let (style, msg) = match (&state.message, down, state.orders.rule_errors.first()) {
                (Some(m), _, _) => (level_style(state, m.level), m.text.clone()),
                (None, Some(src), _) => (
                    p.critical,
                    format!("{} {}", src.label, src.summary(state.now).1),
                ),
                (None, None, Some(e)) => {
                    (p.warn, format!("rule {} failed: {}", e.rule_id, e.message))
                }
                (None, None, None) => (p.muted, String::new()),
            };
            let msg = text::cell(&crate::sanitize::sanitize(&msg), area.width as usize, false);
            frame.render_widget(Paragraph::new(Span::styled(msg, style)), area);
        }
    }
}

pub(crate) fn level_style(state: &State, level: Level) -> Style {
    let p = state.palette();
    match level {
        Level::Info => p.text,
        Level::Warn => p.warn,
        Level::Error => p.critical,
    }
}

fn render_hints(state: &State, frame: &mut Frame, area: Rect) {
    use crate::state::keys::Action;
    let p = state.palette();
    let pairs: Vec<(String, &str)> = match &state.mode {
        Mode::Command(_) => vec![
            ("Enter".into(), "run"),
            ("Esc".into(), "cancel"),
            (":q".into(), "quit"),
            (":theme".into(), "NAME"),
            (":sort".into(), "COL"),
            (":filter".into(), "EXPR"),
            (":goto".into(), "ORDER_NO"),
        ],
        Mode::Filter { .. } => vec![
            ("Enter".into(), "apply"),
            ("Esc".into(), "cancel"),
            ("family:".into(), "ghost|split|zombie"),
            ("status:".into(), ""),
            ("rule:".into(), ""),
            ("sku:".into(), ""),
            ("-term".into(), "exclude"),
        ],
        Mode::Help { .. } | Mode::Alerts { .. } => {
            vec![("Esc".into(), "close"), ("j/k".into(), "scroll")]
        }
        Mode::Remedy(d) => {
            let mut pairs: Vec<(String, &str)> = if d.preview.is_bulk() {
                vec![
                    ("type count + Enter".into(), "proceed"),
                    ("Esc".into(), "cancel"),
                    ("↑/↓".into(), "scroll"),
                ]
            } else {
                vec![
                    ("Tab".into(), "Cancel/Proceed"),
                    ("Enter".into(), "choose"),
                    ("Esc/n".into(), "cancel"),
                    ("j/k".into(), "scroll"),
                ]
            };
            if let Some(k) = state.keymap.primary(Action::Copy) {
                pairs.push((k.to_string(), "copy SQL"));
            }
            pairs
        }
        Mode::Normal => {
            let mut actions = vec![
                Action::Help,
                Action::CommandLine,
                Action::Filter,
                Action::FocusNext,
            ];
            match state.focus {
                Pane::Orders => actions.extend([Action::Open, Action::SortNext]),
                Pane::Timeline => actions.push(Action::Back),
                Pane::Queues => {}
            }
            actions.extend([Action::CycleTheme, Action::ToggleClock]);
            // At 80 columns the line is full; quit must stay on it.
            if area.width >= 100 {
                actions.push(Action::Copy);
            }
            actions.push(Action::Quit);
            actions
                .into_iter()
                .filter_map(|a| state.keymap.primary(a).map(|k| (k.to_string(), a.hint())))
                .collect()
        }
    };
    let width = |(key, what): &(String, &str)| key.chars().count() + what.chars().count() + 3;
    let mut pairs = pairs;
    // In normal mode the last hint is how to quit: it stays when the line
    // is too narrow for all of them, and the ones before it give way.
    let last = if matches!(state.mode, Mode::Normal) {
        pairs.pop()
    } else {
        None
    };
    let reserve = last.as_ref().map_or(0, width);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let push = |spans: &mut Vec<Span>, (key, what): (String, &str)| {
        spans.push(Span::styled(format!(" {key}"), p.accent));
        spans.push(Span::styled(format!(" {what} "), p.muted));
    };
    for pair in pairs {
        let piece = width(&pair);
        if used + piece + reserve > area.width as usize {
            break;
        }
        used += piece;
        push(&mut spans, pair);
    }
    if let Some(pair) = last
        && used + reserve <= area.width as usize
    {
        push(&mut spans, pair);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
