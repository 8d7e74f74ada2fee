//! `?` overlay: the bindings actually in force, the commands and the filter
//! syntax; and the popup frame it shares with the `:alerts` list.

use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

const COMMANDS: &[(&str, &str)] = &[
    (":q", "quit"),
    (":theme NAME", "switch theme"),
    (
        ":sort COL [asc|desc]",
        "sort stuck orders (family rule order status age sku supplier amount)",
    ),
    (":filter EXPR", "filter stuck orders; empty clears"),
    (":goto ORDER_NO", "show an order's timeline, stuck or not"),
    (":clock utc|local", "clock and timestamps"),
    (":alerts", "list the active alerts"),
];

const FILTER: &[(&str, &str)] = &[
    ("family:zombie", "ghost, split or zombie"),
    ("status:processing", "order status contains"),
    ("rule:lock", "rule id contains"),
    ("sku:TEA order:CO2026", "SKU / order number contains"),
    ("supplier:1007", "supplier id is"),
    ("text", "order no, sku, status, rule or detail contains"),
    ("-term", "exclude what matches"),
];

pub fn render(state: &State, frame: &mut Frame, area: Rect, scroll: usize) {
    let p = state.palette();
    let mut lines: Vec<Line> = Vec::new();
    let section = |lines: &mut Vec<Line>, title: &str| {
        lines.push(Line::from(Span::styled(title.to_string(), p.title)));
    };
    let row = |lines: &mut Vec<Line>, key: &str, what: &str| {
        lines.push(Line::from(vec![
            // Always a space after the key, even one longer than the column.
            Span::styled(format!("  {key:<22} "), p.accent),
            Span::styled(what.to_string(), p.text),
        ]));
    };
    section(&mut lines, "Keys");
    for (keys, what) in state.keymap.help_rows() {
        row(&mut lines, &keys, what);
    }
    row(&mut lines, "Ctrl-C", "quit (always)");
    lines.push(Line::raw(""));
    section(&mut lines, "Commands");
    for (c, what) in COMMANDS {
        row(&mut lines, c, what);
    }
    lines.push(Line::raw(""));
    section(&mut lines, "Filter (/)");
    for (c, what) in FILTER {
        row(&mut lines, c, what);
    }
    overlay(
        state,
        frame,
        area,
        " Help — Esc closes, j/k scroll ",
        lines,
        scroll,
    );
}

/// A centred, bordered popup over the cockpit showing `lines` from
/// `scroll` on (clamped so the last page stays full): help and `:alerts`.
pub(super) fn overlay(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    scroll: usize,
) {
    let p = state.palette();
    let (popup, height) = popup_area(area);
    let page = height.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(page));
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.border_focused)
        .title(Line::from(Span::styled(title.to_string(), p.title)))
        .style(p.base);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(scroll).collect::<Vec<_>>()).block(block),
        popup,
    );
}

/// Where the popup goes, and its height.
pub(super) fn popup_area(area: Rect) -> (Rect, u16) {
    let width = area.width.saturating_sub(4).min(78);
    let height = area.height.saturating_sub(2);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    (popup, height)
}
