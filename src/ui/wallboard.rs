//! The wallboard: the cockpit's numbers for a war-room wall screen.
//!
//! Big digits (see `bigtext`) where the screen has room, plain text where
//! it has not, every number shown either way. Amber and red come from the
//! heat functions of `state::wallboard`, so the thresholds live in one
//! place. No cursor is ever placed: nothing here takes input.

use super::bigtext::{self, Scale};
use super::text;
use crate::alerts::AlertLevel;
use crate::layout;
use crate::model::{Family, format_amount, format_count};
use crate::state::queues::Drain;
use crate::state::wallboard::{self as wb, Heat, Page};
use crate::state::{Health, Level, Mode, SourceStatus, State};
use crate::theme::Palette;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

/// From this size up the overview is drawn in big type; below it, as text.
pub const FULL_WIDTH: u16 = 120;
pub const FULL_HEIGHT: u16 = 36;
/// Largest pixel of the big font (8 columns by 4 rows at 4).
const MAX_SCALE: u16 = 4;
/// Orders page: the five tiles in one row from this width up.
const ONE_ROW_TILES: u16 = 130;

pub fn render(state: &State, frame: &mut Frame) {
    let area = frame.area();
    let p = state.palette();
    frame.render_widget(Block::new().style(p.base), area);
    if layout::is_too_small(area) {
        super::render_too_small(state, frame, area);
        return;
    }
    let page = state.wallboard.page().unwrap_or(Page::All);
    let row = |y: u16| Rect::new(area.x, y, area.width, 1);
    header(state, frame, row(area.y), page);
    message_line(state, frame, row(area.y + area.height - 2));
    hints(state, frame, row(area.y + area.height - 1));
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 3);
    let big = page != Page::All || (area.width >= FULL_WIDTH && area.height >= FULL_HEIGHT);
    let body = banners(state, frame, body, big);
    match page {
        Page::All if big => {
            let tiles_h = (body.height * 2 / 5).max(7).min(body.height);
            let (top, lower) = split_v(body, tiles_h);
            order_tiles(state, frame, top, true);
            let left = lower.width * 3 / 5;
            let (q, a) = split_h(lower, left);
            queues_panel(state, frame, q);
            alerts_panel(state, frame, a);
        }
        Page::All => compact(state, frame, body),
        Page::Orders => order_tiles(state, frame, body, body.width >= ONE_ROW_TILES),
        Page::Queues => queues_panel(state, frame, body),
        Page::Alerts => alerts_panel(state, frame, body),
    }
    if let Mode::Help { scroll } = state.mode {
        super::help::render(state, frame, area, scroll);
    }
}

/// Rows for the big-number band of a panel that lists `rows` lines under
/// it (plus a header): what the list leaves, at most three fifths of the
/// panel, and none when even half-block digits (5 rows with the box) would
/// not fit.
fn band_height(inner: Rect, rows: usize) -> u16 {
    let list = (rows as u16).saturating_add(2);
    let band = inner.height.saturating_sub(list).min(inner.height * 3 / 5);
    if band >= 5 { band } else { 0 }
}

fn split_v(r: Rect, top: u16) -> (Rect, Rect) {
    let top = top.min(r.height);
    (
        Rect::new(r.x, r.y, r.width, top),
        Rect::new(r.x, r.y + top, r.width, r.height - top),
    )
}

fn split_h(r: Rect, left: u16) -> (Rect, Rect) {
    let left = left.min(r.width);
    (
        Rect::new(r.x, r.y, left, r.height),
        Rect::new(r.x + left, r.y, r.width - left, r.height),
    )
}

/// `n` equal columns of `r` (the last takes the remainder).
fn columns(r: Rect, n: u16) -> Vec<Rect> {
    let n = n.max(1);
    let w = r.width / n;
    (0..n)
        .map(|i| {
            let width = if i == n - 1 { r.width - w * i } else { w };
            Rect::new(r.x + w * i, r.y, width, r.height)
        })
        .collect()
}

fn heat_style(p: &Palette, heat: Heat) -> Style {
    match heat {
        Heat::Calm => p.text,
        Heat::Amber => p.warn,
        Heat::Red => p.critical,
    }
}

/// Calm zero reads as good news; anything else by its heat.
fn number_style(p: &Palette, heat: Heat, zero: bool) -> Style {
    if zero && heat == Heat::Calm {
        p.ok
    } else {
        heat_style(p, heat)
    }
}

fn header(state: &State, frame: &mut Frame, area: Rect, page: Page) {
    let p = state.palette();
    let clock = format!("{} ", text::clock(state.now, state.clock));
    // At least one column between the rest and the clock.
    let room = (area.width as usize).saturating_sub(clock.width() + 1);
    // From the fullest form down: the page note goes first, then the
    // product name, then the sources' words (their dots stay). The clock
    // always stays: read from across the room, it says the screen is alive.
    let mut spans = Vec::new();
    for detail in (0..4).rev() {
        spans = header_spans(state, page, detail);
        if spans.iter().map(|s| s.content.width()).sum::<usize>() <= room {
            break;
        }
    }
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let pad = (area.width as usize).saturating_sub(clock.width() + used);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(clock, p.muted));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(p.base), area);
}

/// The header's segments at `detail` 3 (everything) down to 0 (badges
/// and source dots only).
fn header_spans(state: &State, page: Page, detail: u8) -> Vec<Span<'static>> {
    let p = state.palette();
    let mut spans = Vec::new();
    if detail >= 2 {
        spans.push(Span::styled(" orderdeck", p.title));
    }
    spans.push(Span::styled(
        " WALLBOARD ",
        p.title.add_modifier(Modifier::BOLD),
    ));
    match state.env.demo {
        Some(_) => spans.push(Span::styled(" DEMO ", p.badge_demo)),
        None => spans.push(Span::styled(
            format!("env {}", text::cell(&state.env.name, 24, false).trim_end()),
            p.accent,
        )),
    }
    spans.push(Span::raw(" "));
    spans.push(Span::styled(" READ-ONLY ", p.badge_readonly));
    for src in [&state.db, &state.broker] {
        let (level, summary) = src.summary(state.now);
        let (dot, style) = match level {
            Level::Info => ("●", p.ok),
            Level::Warn => ("◐", p.warn),
            Level::Error => ("✖", p.critical),
        };
        spans.push(Span::styled(format!("  {} ", src.label), p.muted));
        if detail >= 1 {
            // The age of a down source's data is in its banner below.
            let short = match level {
                Level::Error => "down",
                _ => summary.split(':').next().unwrap_or_default(),
            };
            spans.push(Span::styled(format!("{dot} {short}"), style));
        } else {
            spans.push(Span::styled(dot, style));
        }
    }
    if detail >= 3 {
        let mut note = format!(
            "  page {} {}/{}",
            page.name(),
            Page::ALL.iter().position(|x| *x == page).unwrap_or(0) + 1,
            Page::ALL.len()
        );
        if let Some(every) = state.wallboard.view.as_ref().and_then(|w| w.rotate_secs) {
            note.push_str(&format!(" · every {every}s"));
        }
        spans.push(Span::styled(note, p.muted));
    }
    spans
}

fn message_line(state: &State, frame: &mut Frame, area: Rect) {
    let Some(m) = &state.message else {
        return;
    };
    let style = super::level_style(state, m.level);
    let msg = text::cell(
        &crate::sanitize::sanitize(&m.text),
        area.width as usize,
        false,
    );
    frame.render_widget(Paragraph::new(Span::styled(msg, style)), area);
}

fn hints(state: &State, frame: &mut Frame, area: Rect) {
    use crate::state::keys::Action;
    let p = state.palette();
    let from_cockpit = state
        .wallboard
        .view
        .as_ref()
        .is_some_and(|w| w.from_cockpit);
    let mut pairs: Vec<(String, &str)> = Vec::new();
    let mut key = |a: Action, what: &'static str| {
        if let Some(k) = state.keymap.primary(a) {
            pairs.push((k.to_string(), what));
        }
    };
    key(Action::FocusNext, "next page");
    key(Action::CycleTheme, "theme");
    key(Action::ToggleClock, "utc/local");
    key(Action::Help, "help");
    if from_cockpit {
        key(Action::Wallboard, "cockpit");
    }
    key(Action::Quit, "quit");
    let mut spans = vec![Span::styled(
        " remediations refused here ",
        p.badge_readonly,
    )];
    let mut used = spans[0].content.width();
    for (k, what) in pairs {
        let piece = k.width() + what.width() + 3;
        if used + piece > area.width as usize {
            break;
        }
        used += piece;
        spans.push(Span::styled(format!(" {k}"), p.accent));
        spans.push(Span::styled(format!(" {what} "), p.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A source whose data cannot be trusted now: down, or stale.
struct Sick<'a> {
    src: &'a SourceStatus,
    style: Style,
    /// `DOWN` or `STALE`.
    word: &'static str,
    /// Why it is down (sanitised when drawn).
    reason: Option<&'a str>,
}

fn sick(state: &State) -> Vec<Sick<'_>> {
    let p = state.palette();
    [&state.db, &state.broker]
        .into_iter()
        .filter_map(|src| match (src.summary(state.now).0, &src.health) {
            (Level::Info, _) => None,
            (_, Health::Down(reason)) => Some(Sick {
                src,
                style: p.critical,
                word: "DOWN",
                reason: Some(reason.as_str()),
            }),
            _ => Some(Sick {
                src,
                style: p.warn,
                word: "STALE",
                reason: None,
            }),
        })
        .collect()
}

fn data_age(state: &State, src: &SourceStatus) -> Option<i64> {
    src.last_ok.map(|t| (state.now - t).num_seconds().max(0))
}

/// A band per source that is down or stale, its data's age in big type (a
/// line of text each when `big` is off). Returns what is left of `area`.
fn banners(state: &State, frame: &mut Frame, area: Rect, big: bool) -> Rect {
    let sick = sick(state);
    if sick.is_empty() {
        return area;
    }
    let describe = |k: &Sick| {
        let reason = k
            .reason
            .map(|r| format!(": {}", crate::sanitize::sanitize_capped(r, 80)))
            .unwrap_or_default();
        // The age first: a long reason is what gets cut at 80 columns.
        let age = match data_age(state, k.src) {
            Some(a) => format!("showing data {} old", wb::age_text(a)),
            None => "no data yet".into(),
        };
        format!("{} {} — {age}{reason}", k.src.label, k.word)
    };
    // Below 30 rows a band would squeeze the page's own numbers out of big
    // type; a line each still says which source and how old its data is.
    if !big || area.height < 30 {
        let lines: Vec<Line> = sick
            .iter()
            .map(|k| {
                let text = format!(" ✖ {}", describe(k));
                Line::from(Span::styled(
                    text::cell(&text, area.width as usize, false),
                    k.style.add_modifier(Modifier::BOLD),
                ))
            })
            .collect();
        let (top, rest) = split_v(area, lines.len() as u16);
        text::draw_lines(frame, top, &lines);
        return rest;
    }
    let h = (area.height / 5).clamp(5, 13).min(area.height);
    let (band, rest) = split_v(area, h);
    for (k, r) in sick.iter().zip(columns(band, sick.len() as u16)) {
        let value = match data_age(state, k.src) {
            Some(a) => wb::age_text(a),
            None => "--".into(),
        };
        tile(
            state,
            frame,
            r,
            &Tile {
                title: format!(" {} {} ", k.src.label, k.word),
                value: vec![value.clone()],
                plain: format!("{} {} {value}", k.src.label, k.word),
                style: k.style,
                border: k.style,
                note: describe(k),
            },
        );
    }
    rest
}

/// One bordered box with a number in big type and a line under it.
struct Tile {
    title: String,
    /// Forms of the number, preferred first; the one drawn largest wins.
    value: Vec<String>,
    /// What is drawn when no form fits in big type.
    plain: String,
    style: Style,
    border: Style,
    note: String,
}

/// The form and scale of `forms` that come out largest in `area`, the
/// earlier form winning at equal size.
fn best_fit(forms: &[String], area: Rect) -> Option<(&str, Scale)> {
    let scales = (1..=MAX_SCALE).rev().map(Scale::Block).chain([Scale::Half]);
    for scale in scales {
        for f in forms {
            if bigtext::width(f, scale) <= area.width && scale.rows() <= area.height {
                return Some((f, scale));
            }
        }
    }
    None
}

fn tile(state: &State, frame: &mut Frame, area: Rect, t: &Tile) {
    let p = state.palette();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Line::from(Span::styled(
            t.title.clone(),
            t.border.add_modifier(Modifier::BOLD),
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let (digits, note) = if inner.height >= 3 && !t.note.is_empty() {
        split_v(inner, inner.height - 1)
    } else {
        (
            inner,
            Rect::new(inner.x, inner.y + inner.height, inner.width, 0),
        )
    };
    match best_fit(&t.value, digits) {
        Some((form, scale)) => bigtext::draw(frame.buffer_mut(), digits, form, scale, t.style),
        None => {
            let y = digits.y + digits.height.saturating_sub(1) / 2;
            frame.render_widget(
                Paragraph::new(Span::styled(
                    text::cell(&t.plain, digits.width as usize, false)
                        .trim_end()
                        .to_string(),
                    t.style.add_modifier(Modifier::BOLD),
                ))
                .alignment(Alignment::Center),
                Rect::new(digits.x, y, digits.width, 1),
            );
        }
    }
    if note.height > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(
                text::cell(&t.note, note.width as usize, false)
                    .trim_end()
                    .to_string(),
                p.muted,
            ))
            .alignment(Alignment::Center),
            note,
        );
    }
}

/// `12,345`, `123.4k`, `12.3M`, `1.2B` of whole currency units.
fn short_amount(cents: i64) -> String {
    let units = cents.max(0) / 100;
    let scaled = |d: f64, unit: &str| format!("{:.1}{unit}", units as f64 / d);
    match units {
        u if u < 10_000 => format_count(u as u64),
        u if u < 1_000_000 => scaled(1e3, "k"),
        u if u < 1_000_000_000 => scaled(1e6, "M"),
        _ => scaled(1e9, "B"),
    }
}

/// A database that is down leaves its last numbers on the tiles: dimmed,
/// the banner above says how old they are.
fn db_blind(state: &State) -> bool {
    matches!(state.db.health, Health::Down(_))
}

/// The number as a tile shows it: `–` when it was never read.
fn tile_count(n: Option<usize>) -> String {
    n.map_or_else(|| "–".to_string(), |n| format_count(n as u64))
}

fn blind_style(state: &State, style: Style, unknown: bool) -> Style {
    if unknown || db_blind(state) {
        state.palette().muted.add_modifier(Modifier::DIM)
    } else {
        style
    }
}

fn family_tile(state: &State, family: Family) -> Tile {
    let p = state.palette();
    let known = state.orders.count(family);
    let n = known.unwrap_or(0);
    let heat = wb::stuck_heat(&state.thresholds, &state.alerts.rules, family, n);
    let style = blind_style(state, number_style(p, heat, n == 0), known.is_none());
    let mut note = Vec::new();
    if let Some(above) = state.alerts.rules.stuck_above.get(&family) {
        note.push(format!("amber >{above}"));
    }
    note.push(format!("red ≥{}", state.thresholds.stuck_orders_critical));
    let name = match family {
        Family::Ghost => "GHOST",
        Family::Split => "SPLIT-PERSONALITY",
        Family::Zombie => "ZOMBIE",
    };
    Tile {
        title: format!(" {name} stuck "),
        value: vec![tile_count(known)],
        plain: format!("{} {}", family.as_str(), tile_count(known)),
        style,
        border: if heat == Heat::Calm {
            p.family(family)
        } else {
            style
        },
        note: note.join(" · "),
    }
}

fn amount_tile(state: &State) -> Tile {
    let p = state.palette();
    let known = state.orders.amount();
    let cents = known.unwrap_or(0);
    let heat = wb::amount_heat(&state.thresholds, cents);
    let style = blind_style(state, number_style(p, heat, cents == 0), known.is_none());
    let value = match known {
        Some(_) => vec![
            format_amount(cents),
            format_count(cents.max(0) as u64 / 100),
            short_amount(cents),
        ],
        None => vec!["–".to_string()],
    };
    Tile {
        title: " AMOUNT stuck ".into(),
        plain: format!("amount {}", value[0]),
        value,
        style,
        border: if heat == Heat::Calm { p.border } else { style },
        note: format!("{} in stuck orders", format_amount(cents)),
    }
}

fn anomaly_tile(state: &State) -> Tile {
    let p = state.palette();
    match (wb::since_last_anomaly(state), state.wallboard.last_anomaly) {
        (Some(secs), Some(at)) => Tile {
            title: " LAST ANOMALY ".into(),
            value: vec![wb::age_text(secs)],
            plain: format!("{} ago", wb::age_text(secs)),
            style: p.accent,
            border: p.border,
            note: format!("ago, at {}", text::time_of_day(at, state.clock)),
        },
        _ => Tile {
            title: " LAST ANOMALY ".into(),
            value: vec!["--".into()],
            plain: "none seen".into(),
            style: p.ok,
            border: p.border,
            note: "none seen since start".into(),
        },
    }
}

/// Stuck orders per family, the amount stuck and the last anomaly: one
/// row of five tiles, or three over two.
fn order_tiles(state: &State, frame: &mut Frame, area: Rect, one_row: bool) {
    let tiles = [
        family_tile(state, Family::Ghost),
        family_tile(state, Family::Split),
        family_tile(state, Family::Zombie),
        amount_tile(state),
        anomaly_tile(state),
    ];
    let rects = if one_row {
        columns(area, 5)
    } else {
        let (top, bottom) = split_v(area, area.height / 2);
        let mut r = columns(top, 3);
        r.extend(columns(bottom, 2));
        r
    };
    for (t, r) in tiles.iter().zip(rects) {
        tile(state, frame, r, t);
    }
}

fn drain_big(d: Drain) -> String {
    match d {
        Drain::Never => "∞".into(),
        Drain::Seconds(s) => wb::age_text(s.ceil() as i64),
        Drain::Empty => "0s".into(),
        Drain::Unknown => "--".into(),
    }
}

fn drain_plain(d: Drain) -> String {
    match d {
        Drain::Never => "never".into(),
        Drain::Seconds(s) => wb::age_text(s.ceil() as i64),
        Drain::Empty => "empty".into(),
        Drain::Unknown => "…".into(),
    }
}

/// The worst heat over the queues' ready counts.
fn backlog_heat(state: &State) -> Heat {
    state
        .queues
        .rows
        .iter()
        .filter(|r| !r.missing)
        .map(|r| wb::backlog_heat(&state.thresholds, r.ready, r.consumers))
        .max()
        .unwrap_or(Heat::Calm)
}

fn queues_panel(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let t = &state.queues;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(p.border)
        .title(Line::from(Span::styled(
            format!(" QUEUE BACKLOG · {} queues ", t.rows.len()),
            p.title.add_modifier(Modifier::BOLD),
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if t.rows.is_empty() {
        let note = match &state.broker.health {
            Health::NotConfigured => "no broker configured",
            Health::Connecting => "connecting to the broker…",
            Health::Down(_) => "broker unreachable, no data yet",
            Health::Ok => "no queues",
        };
        frame.render_widget(Paragraph::new(Span::styled(note, p.muted)), inner);
        return;
    }
    // Big numbers on top, as tall as the table below leaves room for.
    let band = band_height(inner, t.rows.len());
    let (top, table) = split_v(inner, band);
    if band > 0 {
        let ready = t.total_ready();
        let heat = backlog_heat(state);
        let dead = t.total_dead_letters();
        let worst = wb::worst_drain(state);
        let [left, right] = [columns(top, 2)[0], columns(top, 2)[1]];
        let style = number_style(p, heat, ready == 0);
        tile(
            state,
            frame,
            left,
            &Tile {
                title: " READY ".into(),
                value: vec![format_count(ready)],
                plain: format!("ready {}", format_count(ready)),
                style,
                border: if heat == Heat::Calm { p.border } else { style },
                note: format!(
                    "{} dead letters · amber ≥{} red ≥{} per queue",
                    format_count(dead),
                    format_count(state.thresholds.queue_ready_warn),
                    format_count(state.thresholds.queue_ready_critical)
                ),
            },
        );
        let (d, note) = match worst {
            Some((name, d)) => (
                d,
                format!(
                    "{name} · amber >{}m red ≥{}m",
                    state.thresholds.drain_warn_minutes, state.thresholds.drain_critical_minutes
                ),
            ),
            None => (Drain::Empty, "every queue empty or still measuring".into()),
        };
        let heat = wb::drain_heat(&state.thresholds, d);
        let style = number_style(p, heat, matches!(d, Drain::Empty));
        tile(
            state,
            frame,
            right,
            &Tile {
                title: " SLOWEST DRAIN ".into(),
                value: vec![drain_big(d)],
                plain: format!("drain {}", drain_plain(d)),
                style,
                border: if heat == Heat::Calm { p.border } else { style },
                note,
            },
        );
    }
    queue_table(state, frame, table);
}

/// One row per queue: name, ready, consumers, dead letters, time to drain,
/// and a sparkline as wide as the rest.
fn queue_table(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let t = &state.queues;
    if area.height == 0 {
        return;
    }
    let name_w = t
        .rows
        .iter()
        .map(|r| r.name.width())
        .max()
        .unwrap_or(5)
        .clamp(5, 24);
    let fixed = [("ready", 8usize), ("cons", 4), ("dlq", 6), ("drain", 7)];
    let used = name_w + fixed.iter().map(|(_, w)| w + 1).sum::<usize>() + 2;
    let spark_w = (area.width as usize).saturating_sub(used);
    let mut header = vec![Span::raw(" "), text::span("queue", name_w, false, p.header)];
    for (label, w) in fixed {
        header.push(Span::raw(" "));
        header.push(text::span(label, w, true, p.header));
    }
    if spark_w >= 4 {
        header.push(Span::raw("  "));
        header.push(text::span("ready, last 60 polls", spark_w, false, p.header));
    }
    let mut lines = vec![Line::from(header)];
    let room = area.height as usize - 1;
    let shown = if t.rows.len() > room {
        room.saturating_sub(1)
    } else {
        room
    };
    for row in t.rows.iter().take(shown) {
        if row.missing {
            lines.push(Line::from(vec![
                Span::raw(" "),
                text::span(&row.name, name_w, false, p.warn),
                Span::styled("  not found on the broker", p.warn),
            ]));
            continue;
        }
        let heat = wb::backlog_heat(&state.thresholds, row.ready, row.consumers);
        let style = heat_style(p, heat);
        let dheat = wb::drain_heat(&state.thresholds, row.drain);
        let dlq = match row.dlq {
            Some(d) => format_count(d),
            None => "–".into(),
        };
        let mut spans = vec![
            Span::raw(" "),
            text::span(&row.name, name_w, false, style),
            Span::raw(" "),
            text::span(
                &format_count(row.ready),
                8,
                true,
                style.add_modifier(Modifier::BOLD),
            ),
            Span::raw(" "),
            text::span(
                &row.consumers.to_string(),
                4,
                true,
                if row.consumers == 0 {
                    p.critical
                } else {
                    p.text
                },
            ),
            Span::raw(" "),
            text::span(
                &dlq,
                6,
                true,
                if row.dlq.unwrap_or(0) > 0 {
                    p.warn
                } else {
                    p.muted
                },
            ),
            Span::raw(" "),
            text::span(&drain_plain(row.drain), 7, true, heat_style(p, dheat)),
        ];
        if spark_w >= 4 {
            spans.push(Span::raw("  "));
            let line = super::queues::sparkline(row.history.iter().copied(), spark_w);
            spans.push(text::span(&line, spark_w, false, p.sparkline));
        }
        lines.push(Line::from(spans));
    }
    if shown < t.rows.len() {
        lines.push(Line::from(Span::styled(
            format!(" +{} more queues (queues page: Tab)", t.rows.len() - shown),
            p.muted,
        )));
    }
    text::draw_lines(frame, area, &lines);
}

fn alert_symbol(level: AlertLevel) -> &'static str {
    match level {
        AlertLevel::Warning => "▲",
        AlertLevel::Critical => "✖",
    }
}

fn alert_style(p: &Palette, level: AlertLevel) -> Style {
    match level {
        AlertLevel::Warning => p.warn,
        AlertLevel::Critical => p.critical,
    }
}

fn alerts_panel(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let board = &state.alerts.board;
    let (crit, warn) = (
        board.count(AlertLevel::Critical),
        board.count(AlertLevel::Warning),
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(p.border)
        .title(Line::from(Span::styled(
            " ACTIVE ALERTS ",
            p.title.add_modifier(Modifier::BOLD),
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let band = band_height(inner, board.active().len().max(1));
    let (top, list) = split_v(inner, band);
    if band > 0 {
        let style = if crit > 0 {
            p.critical
        } else if warn > 0 {
            p.warn
        } else {
            p.ok
        };
        tile(
            state,
            frame,
            top,
            &Tile {
                title: " ALERTS ".into(),
                value: vec![format_count((crit + warn) as u64)],
                plain: format!("{} alerts", crit + warn),
                style,
                border: if crit + warn > 0 { style } else { p.border },
                note: format!("✖ {crit} critical · ▲ {warn} warning"),
            },
        );
    }
    let mut lines: Vec<Line> = Vec::new();
    if band == 0 {
        lines.push(Line::from(vec![
            Span::styled(format!(" ✖ {crit} critical "), p.critical),
            Span::styled(format!(" ▲ {warn} warning"), p.warn),
        ]));
    }
    if board.is_empty() {
        lines.push(Line::from(Span::styled(" no active alerts", p.ok)));
    }
    let width = list.width as usize;
    for a in board.active() {
        let head = format!(
            " {} {}  ",
            alert_symbol(a.level),
            text::time_of_day(a.since, state.clock)
        );
        let rest = width.saturating_sub(head.width());
        lines.push(Line::from(vec![
            Span::styled(head, alert_style(p, a.level)),
            Span::styled(
                text::cell(&a.message, rest, false).trim_end().to_string(),
                p.text,
            ),
        ]));
    }
    let room = list.height as usize;
    if lines.len() > room && room > 0 {
        let hidden = lines.len() - (room - 1);
        lines.truncate(room - 1);
        lines.push(Line::from(Span::styled(
            format!(" +{hidden} more (alerts page: Tab)"),
            p.muted,
        )));
    }
    text::draw_lines(frame, list, &lines);
}

/// The overview as text, for terminals too small for big type: every
/// number still there, coloured the same way.
fn compact(state: &State, frame: &mut Frame, area: Rect) {
    let p = state.palette();
    let w = area.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut stuck = vec![Span::styled(
        " STUCK ",
        p.title.add_modifier(Modifier::BOLD),
    )];
    for f in Family::ALL {
        let known = state.orders.count(f);
        let n = known.unwrap_or(0);
        let heat = wb::stuck_heat(&state.thresholds, &state.alerts.rules, f, n);
        stuck.push(Span::styled(format!(" {} ", f.as_str()), p.muted));
        stuck.push(Span::styled(
            tile_count(known),
            blind_style(state, number_style(p, heat, n == 0), known.is_none())
                .add_modifier(Modifier::BOLD),
        ));
    }
    let known = state.orders.amount();
    let cents = known.unwrap_or(0);
    let aheat = wb::amount_heat(&state.thresholds, cents);
    stuck.push(Span::styled("  amount ", p.muted));
    stuck.push(Span::styled(
        known.map_or_else(|| "–".to_string(), format_amount),
        blind_style(state, number_style(p, aheat, cents == 0), known.is_none())
            .add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::from(stuck));

    let last = match (wb::since_last_anomaly(state), state.wallboard.last_anomaly) {
        (Some(s), Some(at)) => format!(
            "{} ago (at {})",
            wb::age_text(s),
            text::time_of_day(at, state.clock)
        ),
        _ => "none seen since start".into(),
    };
    let board = &state.alerts.board;
    lines.push(Line::from(vec![
        Span::styled(" LAST ANOMALY ", p.title.add_modifier(Modifier::BOLD)),
        Span::styled(last, p.accent),
        Span::styled("   ALERTS ", p.title.add_modifier(Modifier::BOLD)),
        Span::styled(
            format!("✖{} ", board.count(AlertLevel::Critical)),
            p.critical,
        ),
        Span::styled(format!("▲{}", board.count(AlertLevel::Warning)), p.warn),
    ]));

    let t = &state.queues;
    let ready = t.total_ready();
    let heat = backlog_heat(state);
    let mut backlog = vec![
        Span::styled(" BACKLOG ", p.title.add_modifier(Modifier::BOLD)),
        Span::styled(
            format_count(ready),
            number_style(p, heat, ready == 0).add_modifier(Modifier::BOLD),
        ),
        Span::styled(" ready", p.muted),
        Span::styled(
            format!(" · {} dead", format_count(t.total_dead_letters())),
            if t.total_dead_letters() > 0 {
                p.warn
            } else {
                p.muted
            },
        ),
    ];
    if let Some((name, d)) = wb::worst_drain(state) {
        let dheat = wb::drain_heat(&state.thresholds, d);
        backlog.push(Span::styled(" · slowest drain ", p.muted));
        backlog.push(Span::styled(
            drain_plain(d),
            heat_style(p, dheat).add_modifier(Modifier::BOLD),
        ));
        backlog.push(Span::styled(format!(" {name}"), p.muted));
    }
    lines.push(Line::from(backlog));
    for l in &mut lines {
        fit_line(l, w);
    }
    let head = lines.len() as u16;
    let (top, rest) = split_v(area, head);
    text::draw_lines(frame, top, &lines);
    // Queues get what they need (header plus rows), alerts the rest, but
    // alerts keep at least three rows when there are any.
    let alerts_min = if board.is_empty() { 2 } else { 4 };
    let queues_h = (t.rows.len() as u16 + 1)
        .min(rest.height.saturating_sub(alerts_min))
        .max(2.min(rest.height));
    let (q, a) = split_v(rest, queues_h);
    if t.rows.is_empty() {
        text::draw_lines(
            frame,
            q,
            &[Line::from(Span::styled(" no queue data", p.muted))],
        );
    } else {
        queue_table(state, frame, q);
    }
    let mut alert_lines = vec![Line::from(Span::styled(
        " ALERTS",
        p.title.add_modifier(Modifier::BOLD),
    ))];
    if board.is_empty() {
        alert_lines.push(Line::from(Span::styled(" no active alerts", p.ok)));
    }
    for al in board.active() {
        let head = format!(
            " {} {}  ",
            alert_symbol(al.level),
            text::time_of_day(al.since, state.clock)
        );
        let rest = w.saturating_sub(head.width());
        alert_lines.push(Line::from(vec![
            Span::styled(head, alert_style(p, al.level)),
            Span::styled(
                text::cell(&al.message, rest, false).trim_end().to_string(),
                p.text,
            ),
        ]));
    }
    let room = a.height as usize;
    if alert_lines.len() > room && room > 1 {
        let hidden = alert_lines.len() - (room - 1);
        alert_lines.truncate(room - 1);
        alert_lines.push(Line::from(Span::styled(
            format!(" +{hidden} more (alerts page: Tab)"),
            p.muted,
        )));
    }
    text::draw_lines(frame, a, &alert_lines);
}

/// Cuts a line's spans to `width` columns (the last one with `…`).
fn fit_line(line: &mut Line, width: usize) {
    let mut used = 0;
    let mut keep = Vec::new();
    for span in line.spans.drain(..) {
        let w = span.content.width();
        if used + w <= width {
            used += w;
            keep.push(span);
        } else {
            let room = width - used;
            if room > 0 {
                keep.push(Span::styled(
                    crate::sanitize::fit_width(&span.content, room),
                    span.style,
                ));
            }
            break;
        }
    }
    line.spans = keep;
}
