//! Stuck-order pane. Only the visible window of rows is touched, so a table
//! of 100,000 orders draws as fast as one of ten.

use super::columns::{self, Column};
use super::text::{self, count};
use super::{pane_block, pane_title};
use crate::layout;
use crate::model::{StuckOrder, format_age, format_amount};
use crate::state::orders::OrderColumn;
use crate::state::{Health, Pane, State};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Sorted(OrderColumn),
    Detail,
}

fn age(o: &StuckOrder, as_of: Option<DateTime<Utc>>) -> String {
    as_of
        .map(|now| format_age((now - o.since).num_seconds()))
        .unwrap_or_default()
}

/// `zombie.processing_24h` in a row whose family column already says
/// `zombie` reads better, and fits better, as `processing_24h`.
fn short_rule(o: &StuckOrder) -> &str {
    o.rule_id
        .strip_prefix(o.family.as_str())
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(&o.rule_id)
}

/// Seconds since the rows on screen were last read, when some are not
/// fresh: the database is down, or a rule failed and kept its last rows.
fn stale_age(state: &State) -> Option<i64> {
    let t = &state.orders;
    let since = if matches!(state.db.health, Health::Down(_)) {
        state.db.last_ok
    } else if t.stale_rules.is_empty() {
        return None;
    } else {
        t.stale_rules.values().flatten().min().copied()
    };
    Some(since.map_or(0, |s| (state.now - s).num_seconds().max(0)))
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let t = &state.orders;
    let sort = t.sort;
    let mut extra = vec![Span::styled(
        if t.filter.is_empty() {
            format!(" {}", count(t.total_len() as u64))
        } else {
            format!(
                " {} of {}",
                count(t.visible_len() as u64),
                count(t.total_len() as u64)
            )
        },
        p.muted,
    )];
    if !t.filter.is_empty() {
        extra.push(Span::styled(
            format!(" /{}", text::cell(t.filter.source(), 30, false).trim_end()),
            p.accent,
        ));
    }
    extra.push(Span::styled(
        format!(
            " ↕{}{}",
            sort.column.name(),
            if sort.descending { "▼" } else { "▲" }
        ),
        p.muted,
    ));
    if let Some(age) = stale_age(state) {
        extra.push(Span::styled(format!(" stale {}", format_age(age)), p.warn));
    }
    if !t.truncated_rules.is_empty() {
        let more: u64 = t.beyond_limit.iter().map(|b| b.orders).sum();
        extra.push(Span::styled(
            if more > 0 {
                format!(" (row limit hit: {} more not listed)", count(more))
            } else {
                " (row limit hit)".to_string()
            },
            p.warn,
        ));
    }
    let block = pane_block(
        state,
        Pane::Orders,
        pane_title(state, '2', "Stuck orders", extra),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if t.visible_len() == 0 {
        let note = match (&state.db.health, t.total_len()) {
            (Health::NotConfigured, _) => {
                "no database configured (set database_url for this environment)".to_string()
            }
            (Health::Connecting, _) => "running detection rules…".to_string(),
            (Health::Down(e), 0) => format!("database unreachable: {e}"),
            (_, 0) => "no stuck orders — all rules clear".to_string(),
            _ => "no stuck order matches the filter (Esc clears it)".to_string(),
        };
        frame.render_widget(Paragraph::new(Span::styled(note, p.muted)), inner);
        return;
    }

    let rows_shown = layout::table_rows(area);
    let window: Vec<&StuckOrder> = (t.scroll.offset..t.visible_len())
        .take(rows_shown)
        .filter_map(|i| t.visible_row(i))
        .collect();
    let as_of = t.as_of;
    let widest = |f: &dyn Fn(&StuckOrder) -> usize, header: &str| {
        window
            .iter()
            .map(|o| f(o))
            .chain([header.chars().count()])
            .max()
            .unwrap_or(0)
    };
    use unicode_width::UnicodeWidthStr as W;
    let fixed = Column::fixed;
    let flex = Column::flexible;
    let cols = [
        fixed(Col::Sorted(OrderColumn::Family), 6, 2),
        flex(
            Col::Sorted(OrderColumn::Rule),
            widest(&|o| short_rule(o).width(), "rule"),
            10,
            6,
        ),
        // The order number is what the operator acts on (`:goto`, copy, a
        // ticket): it is never cut unless it is longer than real ones are.
        {
            let w = widest(&|o| o.order_no.width(), "order");
            flex(Col::Sorted(OrderColumn::Order), w, w.min(32), 0)
        },
        flex(
            Col::Sorted(OrderColumn::Status),
            widest(&|o| o.status.width(), "status"),
            10,
            3,
        ),
        fixed(
            Col::Sorted(OrderColumn::Age),
            widest(&|o| age(o, as_of).len(), "age"),
            1,
        ),
        flex(
            Col::Sorted(OrderColumn::Sku),
            widest(&|o| o.sku.width(), "sku"),
            8,
            5,
        ),
        fixed(
            Col::Sorted(OrderColumn::Supplier),
            widest(&|o| o.supplier_id.to_string().len(), "supplier"),
            7,
        ),
        fixed(
            Col::Sorted(OrderColumn::Amount),
            widest(&|o| format_amount(o.amount_cents).len(), "amount"),
            4,
        ),
        flex(Col::Detail, widest(&|o| o.detail.width(), "detail"), 12, 8),
    ];
    let fitted = columns::fit(&cols, inner.width as usize);
    let right = |c: Col| {
        matches!(
            c,
            Col::Sorted(OrderColumn::Age | OrderColumn::Supplier | OrderColumn::Amount)
        )
    };

    let header: Vec<Span> = fitted
        .iter()
        .flat_map(|(c, w)| {
            let (label, style) = match c {
                Col::Sorted(col) if *col == sort.column => (
                    format!("{}{}", col.name(), if sort.descending { "▼" } else { "▲" }),
                    p.accent,
                ),
                Col::Sorted(col) => (col.name().to_string(), p.header),
                Col::Detail => ("detail".to_string(), p.header),
            };
            [text::span(&label, *w, right(*c), style), Span::raw(" ")]
        })
        .collect();
    let mut lines = vec![Line::from(header)];
    let focused = state.focus == Pane::Orders;
    let blind = matches!(state.db.health, Health::Down(_));
    for (n, o) in window.iter().enumerate() {
        let idx = t.scroll.offset + n;
        let mut spans = Vec::with_capacity(fitted.len() * 2);
        for (c, w) in &fitted {
            let w = *w;
            let span = match c {
                Col::Sorted(OrderColumn::Family) => {
                    text::span(o.family.as_str(), w, false, p.family(o.family))
                }
                Col::Sorted(OrderColumn::Rule) => text::span(short_rule(o), w, false, p.muted),
                Col::Sorted(OrderColumn::Order) => text::span(&o.order_no, w, false, p.text),
                Col::Sorted(OrderColumn::Status) => text::span(&o.status, w, false, p.text),
                Col::Sorted(OrderColumn::Age) => text::span(&age(o, as_of), w, true, p.warn),
                Col::Sorted(OrderColumn::Sku) => text::span(&o.sku, w, false, p.text),
                Col::Sorted(OrderColumn::Supplier) => {
                    text::span(&o.supplier_id.to_string(), w, true, p.muted)
                }
                Col::Sorted(OrderColumn::Amount) => {
                    text::span(&format_amount(o.amount_cents), w, true, p.text)
                }
                Col::Detail => text::span(&o.detail, w, false, p.muted),
            };
            spans.push(span);
            spans.push(Span::raw(" "));
        }
        let mut line = Line::from(spans);
        // Last-known rows, not fresh ones: dimmed, the title says how old.
        if blind || t.is_stale(o) {
            line = line.style(p.muted.add_modifier(Modifier::DIM));
        }
        if idx == t.scroll.cursor {
            line = line.style(if focused {
                p.selection
            } else {
                p.selection_unfocused
            });
        }
        lines.push(line);
    }
    text::draw_lines(frame, inner, &lines);
}
