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
    lines.push(clip(head, width));

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
        lines.push(clip(
            vec![
                Span::styled(format!("{rule_id} "), style),
                Span::styled(title.to_string(), p.text),
            ],
            width,
        ));
        if !causes.is_empty() {
            lines.push(clip(
                vec![
                    Span::styled("  usual causes: ", p.muted),
                    Span::styled(causes, p.muted),
                ],
                width,
            ));
        }
    }

    if !t.views.is_empty() {
        let mut spans = vec![Span::styled("views ", p.muted)];
        for v in &t.views {
            spans.push(Span::styled(v.system.clone(), p.source(&v.system)));
            spans.push(Span::styled(format!("={} ", v.status), p.text));
        }
        lines.push(clip(spans, width));
    }
    for c in contradictions(&t.views) {
        lines.push(clip(
            vec![
                Span::styled("⚠ split: ", p.critical),
                Span::styled(c.text, p.warn),
            ],
            width,
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
            Span::styled(
                format!("{} ", text::timestamp(e.occurred_at, state.clock)),
                p.muted,
            ),
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
        lines.push(clip(spans, width));
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
fn clip(spans: Vec<Span<'_>>, width: usize) -> Line<'_> {
    use unicode_width::UnicodeWidthStr;
    let mut out = Vec::with_capacity(spans.len());
    let mut used = 0;
    for s in spans {
        let w = s.content.width();
        if used + w <= width {
            used += w;
            out.push(s);
        } else {
            let room = width - used;
            if room > 0 {
                out.push(Span::styled(text::cell(&s.content, room, false), s.style));
            }
            break;
        }
    }
    Line::from(out)
}
