//! The remediation preview dialog: what will run, and the confirmation.

use super::help::popup_area;
use crate::state::State;
use crate::state::remedy::Dialog;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

pub fn render(state: &State, frame: &mut Frame, area: Rect, d: &Dialog) {
    let p = state.palette();
    let (popup, height) = popup_area(area);
    if popup.width < 20 || height < 6 {
        return;
    }
    let inner_w = popup.width.saturating_sub(2) as usize;
    let preview = &d.preview;
    // The footer (confirmation) always shows; the body scrolls above it.
    let mut footer = vec![Line::from(Span::styled(
        crate::sanitize::fit_width(
            &format!(
                "expects {} order(s)/message(s); runs in one guarded transaction, audited",
                preview.expected
            ),
            inner_w,
        ),
        p.muted,
    ))];
    if preview.is_bulk() {
        footer.push(Line::from(vec![
            Span::styled(
                format!(
                    "Bulk: type {} and Enter to proceed, Esc cancels: ",
                    preview.expected
                ),
                p.warn,
            ),
            Span::styled(format!("{}▏", d.typed.text), p.accent),
        ]));
    } else {
        let (cancel, proceed) = if d.proceed {
            (p.muted, p.selection)
        } else {
            (p.selection, p.muted)
        };
        footer.push(Line::from(vec![
            Span::styled(" [ Cancel ] ", cancel),
            Span::raw("  "),
            Span::styled(" [ Proceed ] ", proceed),
            Span::styled("   Tab switches, Enter chooses", p.muted),
        ]));
    }
    let body_rows = (height as usize).saturating_sub(2 + footer.len());
    let body: Vec<Line> = preview
        .lines
        .iter()
        .map(|l| {
            let style = if l.starts_with("--") { p.muted } else { p.text };
            Line::from(Span::styled(
                crate::sanitize::fit_width(&crate::sanitize::sanitize(l), inner_w),
                style,
            ))
        })
        .collect();
    let scroll = d.scroll.min(body.len().saturating_sub(body_rows));
    let mut lines: Vec<Line> = body.into_iter().skip(scroll).take(body_rows).collect();
    while lines.len() < body_rows {
        lines.push(Line::raw(""));
    }
    lines.extend(footer);
    let title = crate::sanitize::fit_width(
        &format!(" {} ", crate::sanitize::sanitize(&preview.title)),
        inner_w,
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.warn)
        .title(Line::from(Span::styled(title, p.title)))
        .style(p.base);
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
