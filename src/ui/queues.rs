//! Queue backlog pane: depth, consumers, rates, dead letters, time to drain
//! and a sparkline of the last minute of ready counts.

use super::columns::{self, Column};
use super::text::{self, count, rate};
use super::{pane_block, pane_title};
use crate::layout;
use crate::model::format_age;
use crate::state::queues::{Drain, QueueRow};
use crate::state::{Health, Pane, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Ready,
    Unacked,
    Consumers,
    In,
    Out,
    Dlq,
    Drain,
    Trend,
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character per sample, scaled to the window's peak; empty is blank so
/// a quiet queue reads as quiet.
pub fn sparkline(history: impl ExactSizeIterator<Item = u64> + Clone, width: usize) -> String {
    let skip = history.len().saturating_sub(width);
    let samples = history.skip(skip);
    let peak = samples.clone().max().unwrap_or(0);
    samples
        .map(|v| {
            if v == 0 || peak == 0 {
                ' '
            } else {
                let idx = ((v as f64 / peak as f64) * (BARS.len() - 1) as f64).round() as usize;
                BARS[idx.min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// Unacked messages, or `–` where the source cannot read them (plain
/// AMQP): a zero there would say "nothing in flight" without knowing.
fn unacked(r: &QueueRow) -> String {
    r.unacked.map_or_else(|| "–".to_string(), |n| n.to_string())
}

fn drain_text(d: Drain) -> String {
    match d {
        Drain::Empty => "empty".into(),
        Drain::Seconds(s) => format_age(s.ceil() as i64),
        Drain::Never => "never".into(),
        Drain::Unknown => "…".into(),
    }
}

/// A watched queue the broker does not have: its name and "not found"
/// across the number columns, since zeros would read as a drained queue.
fn missing_row(row: &QueueRow, fitted: &[(Col, usize)], warn: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut rest = 0;
    for (c, w) in fitted {
        if *c == Col::Name {
            spans.push(text::span(&row.name, *w, false, warn));
            spans.push(Span::raw(" "));
        } else {
            rest += w + 1;
        }
    }
    let note = match row.dlq {
        Some(d) if d > 0 => format!("not found (dlq {d})"),
        _ => "not found".to_string(),
    };
    spans.push(text::span(&note, rest.saturating_sub(1), false, warn));
    spans
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let t = &state.queues;
    let ready_total = t.total_ready();
    let dead = t.total_dead_letters();
    // With no queue read (no broker, or none answered yet) there is no
    // total to show: "0 ready" would be a zero nobody read.
    let mut extra = Vec::new();
    if !t.rows.is_empty() || state.broker.health == Health::Ok {
        extra.push(Span::styled(
            format!(" {} ready", count(ready_total)),
            p.muted,
        ));
    }
    if dead > 0 {
        extra.push(Span::styled(format!(" · {} dead", count(dead)), p.warn));
    }
    // A short pane (80x24) cannot show every queue; say so, or a quiet
    // `notify.customer` below the fold would read as "not there".
    let shown = layout::table_rows(area);
    if t.rows.len() > shown {
        extra.push(Span::styled(
            format!(" · {shown} of {} shown, j/k scroll", t.rows.len()),
            p.muted,
        ));
    }
    let block = pane_block(
        state,
        Pane::Queues,
        pane_title(state, '1', "Queue backlog", extra),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if t.rows.is_empty() {
        let note = match &state.broker.health {
            Health::NotConfigured => {
                "no broker configured (set amqp_url for this environment)".to_string()
            }
            Health::Connecting => "connecting to the broker…".to_string(),
            Health::Down(e) => format!("broker unreachable: {e}"),
            Health::Ok => "no queues".to_string(),
        };
        frame.render_widget(Paragraph::new(Span::styled(note, p.muted)), inner);
        return;
    }

    let widest = |f: &dyn Fn(&QueueRow) -> String, header: &str| {
        t.rows
            .iter()
            .map(|r| f(r).chars().count())
            .chain([header.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let fixed = Column::fixed;
    let cols = [
        Column::flexible(Col::Name, widest(&|r| r.name.clone(), "queue"), 10, 0),
        fixed(Col::Ready, widest(&|r| r.ready.to_string(), "ready"), 1),
        fixed(Col::Unacked, widest(&unacked, "unack"), 5),
        fixed(
            Col::Consumers,
            widest(&|r| r.consumers.to_string(), "cons"),
            2,
        ),
        fixed(Col::In, widest(&|r| rate(r.in_rate), "in/s"), 6),
        fixed(Col::Out, widest(&|r| rate(r.out_rate), "out/s"), 6),
        fixed(
            Col::Dlq,
            widest(
                &|r| r.dlq.map(|d| d.to_string()).unwrap_or("–".into()),
                "dlq",
            ),
            3,
        ),
        fixed(Col::Drain, widest(&|r| drain_text(r.drain), "drain"), 4),
        Column {
            key: Col::Trend,
            width: crate::state::queues::HISTORY,
            min: 8,
            flexible: true,
            priority: 7,
        },
    ];
    let fitted = columns::fit(&cols, inner.width as usize);

    let header: Vec<Span> = fitted
        .iter()
        .flat_map(|(c, w)| {
            let (label, right) = match c {
                Col::Name => ("queue", false),
                Col::Ready => ("ready", true),
                Col::Unacked => ("unack", true),
                Col::Consumers => ("cons", true),
                Col::In => ("in/s", true),
                Col::Out => ("out/s", true),
                Col::Dlq => ("dlq", true),
                Col::Drain => ("drain", true),
                Col::Trend => ("last 60 samples", false),
            };
            [text::span(label, *w, right, p.header), Span::raw(" ")]
        })
        .collect();
    let mut lines = vec![Line::from(header)];

    let warn = state.thresholds.queue_ready_warn;
    let critical = state.thresholds.queue_ready_critical;
    let visible = layout::table_rows(area);
    let focused = state.focus == Pane::Queues;
    for (i, row) in t
        .rows
        .iter()
        .enumerate()
        .skip(t.scroll.offset)
        .take(visible)
    {
        let level: Style = if row.consumers == 0 && row.ready > 0 || row.over(critical) {
            p.critical
        } else if row.over(warn) {
            p.warn
        } else {
            p.text
        };
        if row.missing {
            let mut line = Line::from(missing_row(row, &fitted, p.warn));
            if focused && i == t.scroll.cursor {
                line = line.style(p.selection);
            }
            lines.push(line);
            continue;
        }
        let mut spans = Vec::new();
        for (c, w) in &fitted {
            let w = *w;
            let s = match c {
                Col::Name => text::span(&row.name, w, false, level),
                Col::Ready => text::span(&row.ready.to_string(), w, true, level),
                Col::Unacked => text::span(&unacked(row), w, true, p.text),
                Col::Consumers => {
                    let st = if row.consumers == 0 {
                        p.critical
                    } else {
                        p.text
                    };
                    text::span(&row.consumers.to_string(), w, true, st)
                }
                Col::In => text::span(&rate(row.in_rate), w, true, p.muted),
                Col::Out => text::span(&rate(row.out_rate), w, true, p.muted),
                Col::Dlq => {
                    let (s, st) = match row.dlq {
                        Some(0) => ("0".to_string(), p.muted),
                        Some(d) => (d.to_string(), p.warn),
                        None => ("–".to_string(), p.muted),
                    };
                    text::span(&s, w, true, st)
                }
                Col::Drain => {
                    use crate::state::wallboard::{Heat, drain_heat};
                    let st = match drain_heat(&state.thresholds, row.drain) {
                        Heat::Red => p.critical,
                        Heat::Amber => p.warn,
                        Heat::Calm => p.muted,
                    };
                    text::span(&drain_text(row.drain), w, true, st)
                }
                Col::Trend => {
                    let line = sparkline(row.history.iter().copied(), w);
                    text::span(&line, w, false, p.sparkline)
                }
            };
            spans.push(s);
            spans.push(Span::raw(" "));
        }
        let mut line = Line::from(spans);
        if i == t.scroll.cursor {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_peak_and_keeps_the_latest_samples() {
        let h = [0u64, 5, 10, 0, 10];
        assert_eq!(sparkline(h.iter().copied(), 5), " ▅█ █");
        // Narrower than the history: the oldest samples go.
        assert_eq!(sparkline(h.iter().copied(), 2), " █");
        assert_eq!(sparkline([0u64, 0].iter().copied(), 4), "  ");
    }
}
