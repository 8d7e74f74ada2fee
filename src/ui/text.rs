//! Small text helpers shared by the panes.

use crate::config::ClockMode;
use crate::sanitize::fit_width;
use chrono::{DateTime, Local, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// A cell's text cut to `width` columns (with `…`) and padded or aligned.
pub fn cell(s: &str, width: usize, right: bool) -> String {
    let fitted = fit_width(s, width);
    let pad = width.saturating_sub(fitted.width());
    if right {
        format!("{}{}", " ".repeat(pad), fitted)
    } else {
        format!("{}{}", fitted, " ".repeat(pad))
    }
}

pub fn span(s: &str, width: usize, right: bool, style: Style) -> Span<'static> {
    Span::styled(cell(s, width, right), style)
}

/// `HH:MM:SS` in the chosen clock, with a zone marker.
pub fn clock(now: DateTime<Utc>, mode: ClockMode) -> String {
    match mode {
        ClockMode::Utc => now.format("%H:%M:%S UTC").to_string(),
        ClockMode::Local => now.with_timezone(&Local).format("%H:%M:%S %Z").to_string(),
    }
}

/// `MM-DD HH:MM:SS` for timeline rows.
pub fn timestamp(t: DateTime<Utc>, mode: ClockMode) -> String {
    match mode {
        ClockMode::Utc => t.format("%m-%d %H:%M:%S").to_string(),
        ClockMode::Local => t.with_timezone(&Local).format("%m-%d %H:%M:%S").to_string(),
    }
}

/// `HH:MM:SS` only, for narrow panes.
pub fn time_of_day(t: DateTime<Utc>, mode: ClockMode) -> String {
    match mode {
        ClockMode::Utc => t.format("%H:%M:%S").to_string(),
        ClockMode::Local => t.with_timezone(&Local).format("%H:%M:%S").to_string(),
    }
}

/// Thousands-separated whole number, for counts in titles and cells.
pub use crate::model::format_count as count;

/// A rate per second, short: `0`, `4.2`, `37`, `1.2k`.
pub fn rate(r: Option<f64>) -> String {
    match r {
        None => "–".into(),
        Some(r) if r.abs() < 0.05 => "0".into(),
        Some(r) if r.abs() < 10.0 => format!("{r:.1}"),
        Some(r) if r.abs() < 1000.0 => format!("{r:.0}"),
        Some(r) => format!("{:.1}k", r / 1000.0),
    }
}

/// Draws lines that are already cut to width straight into the buffer, one
/// per row, clipped to `area`. Table rows never wrap, so `Paragraph`'s reflow
/// machinery buys nothing here and costs a third of a 200x60 frame.
pub fn draw_lines(frame: &mut Frame, area: Rect, lines: &[Line]) {
    let buf = frame.buffer_mut();
    for (i, line) in lines.iter().take(area.height as usize).enumerate() {
        let y = area.y + i as u16;
        if line.style != Style::default() {
            // A selected row is highlighted across the pane, not only under
            // its text; `line.style` is only ever that highlight.
            buf.set_style(Rect::new(area.x, y, area.width, 1), line.style);
        }
        let end = area.x.saturating_add(area.width);
        let mut x = area.x;
        for span in &line.spans {
            if x >= end {
                break;
            }
            // The line's own style is a selection bar; it wins over the
            // cells' colours, or a cell coloured like the bar (white text
            // on high-contrast's white bar) vanishes.
            let style = span.style.patch(line.style);
            if span.content.is_ascii() {
                // Sanitised ASCII is one column per byte: no need for the
                // grapheme segmentation that dominates `set_stringn`.
                for b in span.content.bytes() {
                    if x >= end {
                        break;
                    }
                    buf[(x, y)].set_char(char::from(b)).set_style(style);
                    x += 1;
                }
            } else {
                let (next, _) = buf.set_stringn(x, y, &span.content, usize::from(end - x), style);
                x = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selected_row_draws_every_cell_in_the_selection_colours() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use ratatui::style::Color;
        let bar = Style::new().fg(Color::Black).bg(Color::White);
        // White text, as high-contrast draws it, on the white selection bar.
        let line = Line::from(vec![
            Span::styled("CO1", Style::new().fg(Color::White)),
            Span::styled("x", Style::new().fg(Color::Red).bg(Color::Blue)),
        ])
        .style(bar);
        let mut term = Terminal::new(TestBackend::new(6, 1)).expect("test terminal");
        term.draw(|f| draw_lines(f, Rect::new(0, 0, 6, 1), std::slice::from_ref(&line)))
            .expect("draw");
        let buf = term.backend().buffer();
        for x in 0..6u16 {
            let cell = &buf[(x, 0)];
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Black, Color::White),
                "column {x}"
            );
        }
    }

    #[test]
    fn cells_align_and_never_exceed_their_width() {
        assert_eq!(cell("42", 5, true), "   42");
        assert_eq!(cell("ab", 4, false), "ab  ");
        assert_eq!(cell("abcdefgh", 5, false), "abcd…");
        assert_eq!(cell("寄售订单", 5, false).width(), 5);
    }

    #[test]
    fn counts_and_rates_are_short() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(rate(Some(0.01)), "0");
        assert_eq!(rate(Some(4.25)), "4.2");
        assert_eq!(rate(Some(1520.0)), "1.5k");
        assert_eq!(rate(None), "–");
    }
}
