//! Timeline pane: the selected order, what each system says about it, and
//! its events with deltas, long gaps and contradictions marked.

use super::text;
use super::{pane_block, pane_title};
use crate::layout;
use crate::model::{Timeline, format_age, format_amount};
use crate::state::timeline::contradictions;
use crate::state::{Pane, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let tl = &state.timeline;
    let mut extra = Vec::new();
    if let Some(t) = &tl.data {
        extra.push(Span::styled(
            format!(" {}", text::cell(&t.order.order_no, 24, false).trim_end()),
            p.accent,
        ));
        extra.push(Span::styled(format!(" {} events", t.events.len()), p.muted));
    }
    if state.timeline_pinned {
        extra.push(Span::styled(" (goto)", p.muted));
    }
    let block = pane_block(
        state,
        Pane::Timeline,
        pane_title(state, '3', "Timeline", extra),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(err) = &tl.error {
        lines.push(Line::from(Span::styled(
            text::cell(err, width, false),
            p.critical,
        )));
    }
    match (&tl.data, tl.order_id, tl.loading) {
        (Some(t), _, _) => lines.extend(timeline_lines(state, t, width)),
        (None, Some(id), true) => lines.push(Line::from(Span::styled(
            format!("loading order #{id}…"),
            p.muted,
        ))),
        (None, None, _) => lines.push(Line::from(Span::styled(
            "select a stuck order to see its timeline",
            p.muted,
        ))),
        (None, Some(_), false) => {}
    }
    let page = layout::inner_lines(area);
    let max_scroll = lines.len().saturating_sub(page);
    let scroll = tl.scroll.min(max_scroll);
    let visible: Vec<Line> = lines.into_iter().skip(scroll).take(page).collect();
    text::draw_lines(frame, inner, &visible);
}

fn timeline_lines<'a>(state: &State, t: &'a Timeline, width: usize) -> Vec<Line<'a>> {
    let p = state.palette();
    let o = &t.order;
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled(format!("{} ", o.status), p.accent),
        Span::styled(format!("pay:{} ", o.payment_status), p.muted),
        Span::styled(format!("{} ", format_amount(o.amount_cents)), p.text),
        Span::styled(format!("{}×{} ", o.sku, o.quantity), p.text),
        Span::styled(format!("supplier {} ", o.supplier_id), p.muted),
    ];
    if let Some(h) = &o.hold_reason {
        head.push(Span::styled(format!("HOLD:{h}"), p.critical));
    }
    lines.extend(wrap(head, width, 2));

    // Why is it here: the rules it matched and their usual causes.
    let matched: Vec<String> = state
        .orders
        .rules_for(o.order_id)
        .map(String::from)
        .collect();
    for rule_id in matched.iter().take(3) {
        let (title, causes, style) = match state.rules.get(rule_id) {
            Some(r) => (r.title.as_str(), r.causes.join(" · "), p.family(r.family)),
            None => ("", String::new(), p.text),
        };
        lines.extend(wrap(
            vec![
                Span::styled(format!("{rule_id} "), style),
                Span::styled(title.to_string(), p.text),
            ],
            width,
            4,
        ));
        if !causes.is_empty() {
            lines.extend(wrap(
                vec![
                    Span::styled("  usual causes: ", p.muted),
                    Span::styled(causes, p.muted),
                ],
                width,
                16,
            ));
        }
    }

    if !t.views.is_empty() {
        let mut spans = vec![Span::styled("views ", p.muted)];
        for v in &t.views {
            // One span per view so wrapping never splits `finance=unpaid`.
            spans.push(Span::styled(
                format!("{}={} ", v.system, v.status),
                p.source(&v.system),
            ));
        }
        lines.extend(wrap(spans, width, 6));
    }
    for c in contradictions(&t.views) {
        lines.extend(wrap(
            vec![
                Span::styled("⚠ split: ", p.critical),
                Span::styled(c.text, p.warn),
            ],
            width,
            4,
        ));
    }
    lines.push(Line::from(Span::styled("─".repeat(width), p.border)));

    let gap_secs = (state.thresholds.long_gap_minutes as i64).max(1) * 60;
    let source_w = t
        .events
        .iter()
        .map(|e| e.source.len())
        .max()
        .unwrap_or(3)
        .clamp(3, 11);
    // A narrow pane (the side-by-side layout at 120 columns) drops the date
    // from each event so the kind and detail keep some room; the header's
    // order dates and the gap markers still say when days pass.
    let narrow = width < 70;
    let stamp_w = if narrow { 8 } else { 14 };
    let stamp = |t, mode| {
        if narrow {
            text::time_of_day(t, mode)
        } else {
            text::timestamp(t, mode)
        }
    };
    let mut prev: Option<chrono::DateTime<chrono::Utc>> = None;
    for e in &t.events {
        let delta = prev.map(|p| (e.occurred_at - p).num_seconds());
        if let Some(d) = delta.filter(|d| *d >= gap_secs) {
            lines.push(Line::from(Span::styled(
                text::cell(&format!("  ┄┄ {} gap ┄┄", format_age(d)), width, false),
                p.warn,
            )));
        }
        prev = Some(e.occurred_at);
        let delta_text = delta
            .map(|d| format!("+{}", format_age(d)))
            .unwrap_or_default();
        let spans = vec![
            Span::styled(format!("{} ", stamp(e.occurred_at, state.clock)), p.muted),
            Span::styled(format!("{:>7} ", delta_text), p.muted),
            Span::styled(
                text::cell(&e.source, source_w, false) + " ",
                p.source(&e.source),
            ),
            Span::styled(format!("{} ", e.kind), p.text),
            Span::styled(
                if e.status.is_empty() {
                    String::new()
                } else {
                    format!("[{}] ", e.status)
                },
                p.accent,
            ),
            Span::styled(e.detail.clone(), p.muted),
        ];
        // Continuation lines start under the event's kind, so the time
        // column stays a clean left edge to scan down.
        let indent = (stamp_w + 1 + 8 + source_w + 1).min(width / 4);
        lines.extend(wrap(spans, width, indent));
    }
    if t.events.is_empty() {
        lines.push(Line::from(Span::styled(
            "no events recorded for this order",
            p.muted,
        )));
    }
    lines
}

/// Cuts a line of spans to `width` columns, with `…` where it was cut.
/// Lays spans out over as many lines as they need (at most
/// [`MAX_WRAPPED_LINES`]), breaking between words and indenting continuation
/// lines by `indent`, so a long cause or event detail is readable in a
/// narrow pane instead of cut. A word wider than a line is broken anyway.
pub(super) fn wrap(spans: Vec<Span<'_>>, width: usize, indent: usize) -> Vec<Line<'static>> {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    let width = width.max(1);
    let indent = indent.min(width / 2);
    let mut out = Wrapped {
        lines: vec![Vec::new()],
        used: 0,
        width,
        indent,
    };
    for span in spans {
        for word in words(&span.content) {
            let w = word.width();
            if out.used + w > width && out.used > out.indent_of_current() {
                if word.trim().is_empty() {
                    continue; // a space at the break is dropped
                }
                if !out.new_line(span.style) {
                    return out.finish();
                }
            }
            if out.used + w <= width {
                out.push(word, span.style);
                continue;
            }
            // Wider than a whole line: break it between characters.
            for g in word.graphemes(true) {
                if out.used + g.width() > width && !out.new_line(span.style) {
                    return out.finish();
                }
                out.push(g, span.style);
            }
        }
    }
    out.finish()
}

/// Runs of spaces and runs of anything else, in order: `[paid]` stays one
/// word, unlike with Unicode word boundaries.
fn words(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let space = first == ' ';
        let end = rest
            .char_indices()
            .find(|&(_, c)| (c == ' ') != space)
            .map_or(rest.len(), |(i, _)| i);
        let (word, tail) = rest.split_at(end);
        rest = tail;
        Some(word)
    })
}

struct Wrapped {
    lines: Vec<Vec<Span<'static>>>,
    used: usize,
    width: usize,
    indent: usize,
}

impl Wrapped {
    fn indent_of_current(&self) -> usize {
        if self.lines.len() > 1 { self.indent } else { 0 }
    }

    fn push(&mut self, text: &str, style: ratatui::style::Style) {
        use unicode_width::UnicodeWidthStr;
        self.used += text.width();
        let Some(line) = self.lines.last_mut() else {
            return;
        };
        match line.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(text),
            _ => line.push(Span::styled(text.to_string(), style)),
        }
    }

    /// Starts a continuation line; false (after marking the cut with `…`)
    /// when the line budget is spent.
    fn new_line(&mut self, style: ratatui::style::Style) -> bool {
        if self.lines.len() == MAX_WRAPPED_LINES {
            if let Some(l) = self.lines.last_mut() {
                if self.used >= self.width {
                    if let Some(last) = l.last_mut() {
                        let c = last.content.to_mut();
                        c.pop();
                    }
                }
                l.push(Span::styled("…", style));
            }
            return false;
        }
        self.lines.push(vec![Span::raw(" ".repeat(self.indent))]);
        self.used = self.indent;
        true
    }

    fn finish(self) -> Vec<Line<'static>> {
        self.lines.into_iter().map(Line::from).collect()
    }
}

const MAX_WRAPPED_LINES: usize = 4;

#[cfg(test)]
mod wrap_tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn breaks_between_words_and_indents_continuations() {
        let got = wrap(vec![Span::raw("shipped [shipped] carrier SF")], 18, 2);
        let got: Vec<String> = texts(&got)
            .iter()
            .map(|l| l.trim_end().to_string())
            .collect();
        assert_eq!(got, ["shipped [shipped]", "  carrier SF"]);
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken_and_long_text_is_capped() {
        let got = wrap(vec![Span::raw("x".repeat(100))], 10, 0);
        assert_eq!(got.len(), MAX_WRAPPED_LINES);
        let t = texts(&got);
        assert!(t.last().is_some_and(|l| l.ends_with('…')), "{t:?}");
        assert!(t.iter().all(|l| l.width() <= 10), "{t:?}");
    }

    #[test]
    fn wide_characters_never_overflow() {
        let got = wrap(
            vec![Span::raw("寄售订单 库存锁冲突 物流显示在途 财务未收款")],
            9,
            1,
        );
        assert!(
            texts(&got).iter().all(|l| l.width() <= 9),
            "{:?}",
            texts(&got)
        );
    }
}
