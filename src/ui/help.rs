//! `?` overlay: the bindings actually in force, the commands and the filter
//! syntax; and the popup frame it shares with the `:alerts` list.

use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

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

/// Columns before a description: two of indent, the key, a space.
const KEY_COLUMN: usize = 25;

pub fn render(state: &State, frame: &mut Frame, area: Rect, scroll: usize) {
    let p = state.palette();
    // Descriptions wrap under their own column instead of being cut at the
    // popup's edge (at 80 columns the longest ones lost their ends).
    let inner = usize::from(popup_area(area).0.width.saturating_sub(2));
    let what_width = inner.saturating_sub(KEY_COLUMN).max(12);
    let mut lines: Vec<Line> = Vec::new();
    let section = |lines: &mut Vec<Line>, title: &str| {
        lines.push(Line::from(Span::styled(title.to_string(), p.title)));
    };
    let row = |lines: &mut Vec<Line>, key: &str, what: &str| {
        // Always a space after the key, even one longer than the column.
        let key = format!("  {key:<22} ");
        let mut parts = wrap(what, what_width).into_iter();
        if key.width() > KEY_COLUMN {
            // A long key gets its own line; the description starts below it.
            lines.push(Line::from(Span::styled(key, p.accent)));
        } else {
            let first = parts.next().unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(key, p.accent),
                Span::styled(first, p.text),
            ]));
        }
        for rest in parts {
            lines.push(Line::from(Span::styled(
                format!("{}{rest}", " ".repeat(KEY_COLUMN)),
                p.text,
            )));
        }
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

/// `text` in lines of at most `width` columns, broken at spaces; a word
/// longer than a line is cut into pieces rather than overflowing.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = if line.is_empty() { 0 } else { line.width() + 1 };
        if needed + word.width() <= width {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if line.width() + c.to_string().width() > width {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_only_overlong_words() {
        assert_eq!(
            wrap("sort stuck orders (family rule order status)", 20),
            ["sort stuck orders", "(family rule order", "status)"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("fits", 10), ["fits"]);
    }
}
