//! Drawing the editor: progress rail on the left, the section's fields (or
//! the field being edited) in the middle, the checks panel below, and a
//! message/hint line. Reads the editor state only.

use super::fields::{self, Field, Kind, Section};
use super::{Editor, Mode, Target};
use crate::sanitize::sanitize;
use crate::theme::Palette;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

const RAIL_WIDTH: u16 = 20;

pub fn render(ed: &Editor, p: &Palette, save_note: &str, frame: &mut Frame) {
    let area = frame.area();
    frame.render_widget(Block::new().style(p.base), area);
    let [top, body, checks, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(checks_height(ed, area.height)),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = format!(
        " postmortem {} · {} ",
        ed.draft.id,
        if ed.draft.title.trim().is_empty() {
            "(untitled)".to_string()
        } else {
            sanitize(&ed.draft.title)
        }
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(title, p.title),
            Span::styled(save_note.to_string(), p.muted),
        ])),
        top,
    );
    let rail_w = if body.width >= 60 { RAIL_WIDTH } else { 0 };
    let [rail, main] =
        Layout::horizontal([Constraint::Length(rail_w), Constraint::Min(10)]).areas(body);
    if rail_w > 0 {
        render_rail(ed, p, frame, rail);
    }
    render_main(ed, p, frame, main);
    render_checks(ed, p, frame, checks);
    render_bottom(ed, p, frame, bottom);
}

fn checks_height(ed: &Editor, height: u16) -> u16 {
    let n = ed.warnings().len() as u16;
    // Keep most of a small screen for the text.
    let max = if height >= 30 { 7 } else { 4 };
    (n + 2).min(max)
}

fn render_rail(ed: &Editor, p: &Palette, frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = Section::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mark = if s.filled(&ed.draft) { "✓" } else { "·" };
            let here = i == ed.section;
            let style = if here {
                p.selection
            } else if s.filled(&ed.draft) {
                p.ok
            } else {
                p.muted
            };
            Line::styled(
                format!(
                    "{}{:>2} {mark} {}",
                    if here { "▶" } else { " " },
                    i + 1,
                    s.title()
                ),
                style,
            )
        })
        .collect();
    let done = Section::ALL.iter().filter(|s| s.filled(&ed.draft)).count();
    let block = Block::new()
        .borders(Borders::RIGHT)
        .border_style(p.border)
        .title(Span::styled(
            format!("{done}/{} done", Section::ALL.len()),
            p.header,
        ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Indentation of a why on the 5-Whys screen.
fn why_depth(ed: &Editor, id: u32) -> usize {
    ed.draft
        .flat_whys()
        .iter()
        .find(|(_, w)| w.id == id)
        .map_or(0, |(d, _)| *d)
}

fn field_lines(ed: &Editor, p: &Palette, width: u16) -> (Vec<Line<'static>>, usize) {
    let mut lines = Vec::new();
    let mut focus_line = 0;
    let fields = ed.fields();
    for (i, f) in fields.iter().enumerate() {
        let focused = i == ed.cursor;
        if focused {
            focus_line = lines.len();
        }
        let (indent, heading) = match *f {
            Field::WhyAnswer(id) => {
                let depth = why_depth(ed, id);
                // Numbered as the exports number it, so "answers Why 1.2"
                // on an action item points at what is on screen.
                let n = crate::postmortem::export::why_number(&ed.draft, id).unwrap_or_default();
                (depth * 2, Some(format!("Why {n}")))
            }
            Field::WhyEvidence(id) | Field::WhyConfidence(id) | Field::WhyCategory(id) => {
                (why_depth(ed, id) * 2, None)
            }
            Field::RowTime(i) => (0, Some(format!("Row {}", i + 1))),
            Field::ActWhat(i) => (0, Some(format!("Action {}", i + 1))),
            _ => (0, None),
        };
        let pad = " ".repeat(indent);
        if let Some(h) = heading {
            if focused {
                focus_line = lines.len();
            }
            lines.push(Line::styled(format!("{pad}{h}"), p.header));
        }
        let label_style = if focused { p.selection } else { p.muted };
        let value = sanitize_multiline(&fields::show(&ed.draft, *f));
        let marker = if focused { "›" } else { " " };
        let label = format!("{pad}{marker} {}: ", f.label());
        let shown = match f.kind() {
            Kind::Choice => format!("◂ {value} ▸"),
            _ if value.is_empty() => "—".to_string(),
            _ => value,
        };
        let mut first = true;
        let avail = (width as usize)
            .saturating_sub(label.chars().count())
            .max(10);
        for raw in shown.split('\n') {
            for chunk in wrap(raw, avail) {
                if first {
                    lines.push(Line::from(vec![
                        Span::styled(label.clone(), label_style),
                        Span::styled(chunk, p.text),
                    ]));
                    first = false;
                } else {
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(label.chars().count())),
                        Span::styled(chunk, p.text),
                    ]));
                }
            }
        }
    }
    (lines, focus_line)
}

/// Wraps by display width (CJK and emoji are two cells wide).
fn wrap(s: &str, width: usize) -> Vec<String> {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut w = 0;
    for g in s.graphemes(true) {
        let gw = g.width();
        if w + gw > width && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            w = 0;
        }
        cur.push_str(g);
        w += gw;
    }
    out.push(cur);
    out
}

fn sanitize_multiline(s: &str) -> String {
    s.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

fn render_main(ed: &Editor, p: &Palette, frame: &mut Frame, area: Rect) {
    let section = ed.current_section();
    let block = Block::new().borders(Borders::NONE).title(Span::styled(
        format!(
            " {} · {}/{} ",
            section.title(),
            ed.section + 1,
            Section::ALL.len()
        ),
        p.title,
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [guide, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Span::styled(section.guide(), p.muted)),
        guide,
    );

    let (field, area_widget) = match &ed.mode {
        Mode::Edit { field, area, .. } | Mode::Search { field, area, .. } => {
            (Some(*field), Some(area))
        }
        _ => (None, None),
    };
    if let (Some(field), Some(text)) = (field, area_widget) {
        let mut extra: Vec<Line> = Vec::new();
        if let Field::WhyAnswer(id) | Field::WhyEvidence(id) = field {
            if let Some(w) = ed.draft.why(id) {
                extra.push(Line::styled(w.category.prompt(), p.accent));
            }
        }
        let [hint, edit] =
            Layout::vertical([Constraint::Length(extra.len() as u16), Constraint::Min(3)])
                .areas(rest);
        frame.render_widget(Paragraph::new(extra), hint);
        let b = Block::new()
            .borders(Borders::ALL)
            .border_style(p.border_focused)
            .title(Span::styled(format!(" {} ", field.label()), p.title));
        let inner = b.inner(edit);
        frame.render_widget(b, edit);
        frame.render_widget(&**text, inner);
        return;
    }

    let mut tail: Vec<Line> = Vec::new();
    if section == Section::Whys {
        if let Some(
            Field::WhyAnswer(id)
            | Field::WhyEvidence(id)
            | Field::WhyConfidence(id)
            | Field::WhyCategory(id),
        ) = ed.focused()
        {
            if let Some(w) = ed.draft.why(id) {
                tail.push(Line::styled(format!("? {}", w.category.prompt()), p.accent));
            }
        }
        if !ed.draft.suggestions.is_empty() {
            tail.push(Line::styled(
                "Usual causes (s adds one as a new chain):",
                p.header,
            ));
            for s in ed.draft.suggestions.iter().take(4) {
                tail.push(Line::styled(format!("  • {}", sanitize(s)), p.muted));
            }
        }
    }
    let [list, below] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length((tail.len() as u16).min(rest.height / 2)),
    ])
    .areas(rest);
    let (lines, focus) = field_lines(ed, p, list.width);
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(super::empty_hint(section), p.muted)),
            list,
        );
    } else {
        let h = list.height as usize;
        let offset = focus
            .saturating_sub(h.saturating_sub(4).max(1) / 2)
            .min(lines.len().saturating_sub(h));
        frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), list);
    }
    frame.render_widget(Paragraph::new(tail).wrap(Wrap { trim: false }), below);
}

fn render_checks(ed: &Editor, p: &Palette, frame: &mut Frame, area: Rect) {
    let warnings = ed.warnings();
    let title = if warnings.is_empty() {
        " checks: nothing to ask ".to_string()
    } else {
        format!(
            " checks: {} to consider (warnings, never blocking) ",
            warnings.len()
        )
    };
    let lines: Vec<Line> = warnings
        .iter()
        .map(|w| Line::styled(format!("! {}", sanitize(&w.text)), p.warn))
        .collect();
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(p.border)
        .title(Span::styled(title, p.header));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_bottom(ed: &Editor, p: &Palette, frame: &mut Frame, area: Rect) {
    let line = match &ed.mode {
        Mode::Confirm(t) => {
            let what = match t {
                Target::Why(id) => {
                    let below = ed.draft.why(*id).map_or(0, |w| count(&w.children));
                    let n =
                        crate::postmortem::export::why_number(&ed.draft, *id).unwrap_or_default();
                    format!("delete Why {n} and the {below} under it? y/n")
                }
                Target::Row(i) => format!("delete timeline row {}? y/n", i + 1),
                Target::Action(i) => format!("delete action {}? y/n", i + 1),
            };
            Line::styled(what, p.critical.add_modifier(Modifier::BOLD))
        }
        Mode::Search { query, .. } => Line::styled(format!("search: {query}▏"), p.accent),
        _ => match &ed.message {
            Some(m) => Line::styled(sanitize(m), p.accent),
            None => Line::styled(hints(ed), p.muted),
        },
    };
    frame.render_widget(Paragraph::new(line).style(Style::default()), area);
}

fn count(list: &[crate::postmortem::model::Why]) -> usize {
    list.iter().map(|w| 1 + count(&w.children)).sum()
}

fn hints(ed: &Editor) -> String {
    match &ed.mode {
        Mode::Edit { field, .. } => {
            let enter = if field.kind() == Kind::Line { "Enter/Esc done" } else { "Esc done" };
            format!("{enter}  Ctrl-U undo  Ctrl-R redo  Alt-b/f word  Ctrl-F search  Ctrl-S save")
        }
        _ => "Tab/Shift-Tab section  j/k field  Enter edit  ←/→ choose  a add  d delete  Ctrl-S save  q close".into(),
    }
}
