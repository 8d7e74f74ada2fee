//! The top line: where you are, whether you can trust what you see, and how
//! bad it is. Segments drop from the least important when space is short.

use super::text;
use crate::model::{Family, format_amount};
use crate::state::{Health, Level, SourceStatus, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

struct Segment {
    spans: Vec<Span<'static>>,
    /// Lower is kept longer.
    priority: u8,
    /// A shorter form tried before the segment is dropped: a source that is
    /// down must still say so at 80 columns, its reason is in its pane.
    compact: Option<Vec<Span<'static>>>,
}

impl Segment {
    fn width(&self) -> usize {
        self.spans.iter().map(|s| s.content.width()).sum::<usize>() + 1
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let mut segments = vec![Segment {
        spans: vec![Span::styled(" orderdeck", p.title)],
        priority: 3,
        compact: None,
    }];
    if let Some(demo) = state.env.demo {
        let speed = if (demo.speed - 1.0).abs() > f64::EPSILON {
            format!(" ×{}", demo.speed)
        } else {
            String::new()
        };
        segments.push(Segment {
            spans: vec![Span::styled(format!(" DEMO{speed} "), p.badge_demo)],
            priority: 0,
            compact: None,
        });
    } else {
        segments.push(Segment {
            spans: vec![Span::styled(format!("env {}", state.env.name), p.accent)],
            priority: 1,
            compact: None,
        });
    }
    if state.env.read_only {
        segments.push(Segment {
            spans: vec![Span::styled(" READ-ONLY ".to_string(), p.badge_readonly)],
            priority: 0,
            compact: None,
        });
    }
    segments.push(source_segment(state, &state.db));
    segments.push(source_segment(state, &state.broker));

    // Counts from a source that is down are its last ones: dimmed; counts
    // never read are `–`, never a zero.
    let blind = matches!(state.db.health, crate::state::Health::Down(_));
    let mut fam = Vec::new();
    for f in Family::ALL {
        let (text, style) = match state.orders.count(f) {
            None => ("–".to_string(), p.muted),
            Some(n) if blind => (n.to_string(), p.muted.add_modifier(Modifier::DIM)),
            Some(n) if n > 0 => (n.to_string(), p.family(f)),
            Some(n) => (n.to_string(), p.muted),
        };
        fam.push(Span::styled(format!("{} ", f.as_str()), p.muted));
        fam.push(Span::styled(format!("{text} "), style));
    }
    segments.push(Segment {
        spans: fam,
        priority: 1,
        compact: None,
    });
    if let Some(cents) = state.orders.amount().filter(|c| *c > 0) {
        segments.push(Segment {
            spans: vec![Span::styled(
                format!("stuck {}", format_amount(cents)),
                if blind {
                    p.muted.add_modifier(Modifier::DIM)
                } else {
                    p.warn
                },
            )],
            priority: 4,
            compact: None,
        });
    }

    let clock = text::clock(state.now, state.clock);
    let clock_w = clock.width() + 1;
    let budget = (area.width as usize).saturating_sub(clock_w);
    // Shorten, then drop, the least important segments until the rest fits.
    let mut keep: Vec<bool> = vec![true; segments.len()];
    let mut total: usize = segments.iter().map(Segment::width).sum();
    let mut by_priority: Vec<usize> = (0..segments.len()).collect();
    by_priority.sort_by_key(|&i| std::cmp::Reverse((segments[i].priority, i)));
    // One pass from the least important: shorten what has a short form,
    // drop what has none; then drop whatever is still too much.
    for i in by_priority {
        if total <= budget {
            break;
        }
        total -= segments[i].width();
        match segments[i].compact.take() {
            Some(short) => {
                segments[i].spans = short;
                total += segments[i].width();
            }
            None => keep[i] = false,
        }
    }
    while total > budget {
        let Some((i, _)) = segments
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[*i])
            .max_by_key(|(i, s)| (s.priority, *i))
        else {
            break;
        };
        keep[i] = false;
        total -= segments[i].width();
    }
    let mut spans: Vec<Span> = Vec::new();
    for (seg, k) in segments.into_iter().zip(keep) {
        if k {
            spans.extend(seg.spans);
            spans.push(Span::raw(" "));
        }
    }
    let pad = budget.saturating_sub(total);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(format!("{clock} "), p.muted));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(p.base), area);
}

fn source_segment(state: &State, src: &SourceStatus) -> Segment {
    let p = state.palette();
    let (level, summary) = src.summary(state.now);
    let style: Style = match level {
        Level::Info => p.ok,
        Level::Warn => p.warn,
        Level::Error => p.critical,
    };
    // A source that is not configured or has not answered yet has told us
    // nothing: a green dot there would read as "healthy".
    let unread = matches!(src.health, Health::NotConfigured | Health::Connecting);
    let style = if unread { p.muted } else { style };
    let dot = match (&src.health, level) {
        (Health::NotConfigured, _) => "○",
        (Health::Connecting, _) => "◌",
        (_, Level::Info) => "●",
        (_, Level::Warn) => "◐",
        (_, Level::Error) => "✖",
    };
    // Short forms: a healthy source keeps only its dot, a sick one says
    // `down` or `stale 14s` (the reason is on the message line).
    let short = match (level, summary.split_once(':')) {
        (_, _) if matches!(src.health, Health::NotConfigured) => " off".to_string(),
        (Level::Info, _) => String::new(),
        (Level::Error, _) => " down".to_string(),
        (_, Some((head, _))) => format!(" {head}"),
        (_, None) => format!(" {summary}"),
    };
    // Room for the age and the start of the reason.
    let summary = text::cell(&summary, 56, false).trim_end().to_string();
    let label = Span::styled(format!("{} ", src.label), p.muted);
    Segment {
        spans: vec![
            label.clone(),
            Span::styled(format!("{dot} {summary}"), style),
        ],
        priority: 2,
        compact: Some(vec![label, Span::styled(format!("{dot}{short}"), style)]),
    }
}
