//! `update(state, msg) -> effects`: every behaviour of the cockpit core.

use super::filter::Filter;
use super::input::{Edit, LineInput};
use super::keys::{Action, Key, KeyCode, Mouse, MouseKind};
use super::orders::{OrderColumn, Sort};
use super::{Health, Mode, Pane, State, alerts};
use crate::action::{Effect, Msg};
use crate::config::ClockMode;
use crate::layout;
use ratatui::layout::Rect;

/// `update_at` at the time of the last message: for callers (and tests) to
/// which key timing does not matter. Keys sent this way all arrive at the
/// same instant, so they are inside every guard a preview or overlay sets.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let at = state.guard.now_ms;
    update_at(state, msg, at)
}

/// Folds `msg`, which arrived at monotonic time `at_ms` (milliseconds since
/// the cockpit started), into the state. Time comes in as data so that key
/// timing (see `guard`) is tested without a clock.
pub fn update_at(state: &mut State, msg: Msg, at_ms: u64) -> Vec<Effect> {
    state.guard.advance(at_ms);
    let mut effects = Vec::new();
    match msg {
        Msg::Key(key) => {
            on_key(state, key, &mut effects);
            state.needs_redraw = true;
        }
        Msg::Mouse(m) => {
            if on_mouse(state, m) {
                state.needs_redraw = true;
            }
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            state.needs_redraw = true;
        }
        Msg::Tick(now) => {
            // The clock and source ages are on screen: a new second is a change.
            let new_second = now.timestamp() != state.now.timestamp();
            state.now = now;
            state.needs_redraw |= new_second;
            let pages = super::wallboard::pages(state);
            // The message line is kept across a rotation: a refusal made
            // just before must still be readable on the next page.
            if new_second {
                state.wallboard.tick(now, &pages);
            }
        }
        Msg::Orders { at, result } => match result {
            Ok(snap) => {
                // A poll in which the database stopped answering is a
                // down source, whatever the rules that ran before found.
                let down = snap.down.clone();
                let changed = state.orders.ingest(at, snap);
                let before = state.db.health.clone();
                match down {
                    Some(why) => state.db.health = Health::Down(why),
                    None => {
                        state.db.health = Health::Ok;
                        state.db.last_ok = Some(at);
                    }
                }
                state.needs_redraw |= changed || state.db.health != before;
                if state.orders.added > 0 {
                    state.wallboard.note_anomaly(at);
                }
                if changed {
                    alerts::refresh(state, at, &mut effects);
                }
            }
            Err(e) => {
                state.db.health = Health::Down(e.0);
                state.needs_redraw = true;
            }
        },
        Msg::Queues { at, result } => match result {
            Ok(snap) => {
                let changed = state.queues.ingest(snap.as_of, &snap.queues);
                let was_ok = state.broker.health == Health::Ok;
                state.broker.health = Health::Ok;
                state.broker.last_ok = Some(at);
                state.needs_redraw |= changed || !was_ok;
                if changed {
                    alerts::refresh(state, at, &mut effects);
                }
            }
            Err(e) => {
                state.broker.health = Health::Down(e.0);
                state.needs_redraw = true;
            }
        },
        Msg::Timeline { order_id, result } => {
            let changed = state.timeline.ingest(order_id, result.map_err(|e| e.0));
            state.needs_redraw |= changed;
        }
        Msg::OrderFound { order_no, result } => {
            match result {
                Ok(Some(order_id)) => {
                    state.timeline_pinned = true;
                    if state.timeline.show(Some(order_id)) {
                        effects.push(Effect::WatchOrder(Some(order_id)));
                    }
                    state.focus = Pane::Timeline;
                    state.info(format!("{order_no} is not stuck; showing its timeline"));
                }
                Ok(None) => state.warn(format!("no order {order_no}")),
                Err(e) => state.error(format!("could not look up {order_no}: {e}")),
            }
            state.needs_redraw = true;
        }
        Msg::Log { at, report } => {
            if state.alerts.ingest_log(&report) {
                alerts::refresh(state, at, &mut effects);
            }
        }
        Msg::RemedyPreview(result) if state.wallboard.is_shown() => {
            // Asked for in the cockpit, arrived after `w`: no dialog opens
            // on the wall; the fix is refused and audited as such.
            state.guard.engine_busy = state.guard.engine_busy.saturating_sub(1);
            state.guard.awaiting = None;
            match *result {
                Ok(p) => {
                    state.error(format!(
                        "{} on {} refused: {}",
                        p.request.action(),
                        p.request.target(),
                        crate::model::remedy::WALLBOARD_READ_ONLY
                    ));
                    effects.push(Effect::RefuseRemedy {
                        request: p.request,
                        why: crate::model::remedy::WALLBOARD_READ_ONLY.to_string(),
                    });
                }
                Err(report) => super::remedy::show_report(state, &report),
            }
            state.needs_redraw = true;
        }
        Msg::RemedyPreview(result) => {
            state.guard.engine_busy = state.guard.engine_busy.saturating_sub(1);
            super::remedy::on_preview(state, *result, &mut effects);
            state.needs_redraw = true;
        }
        Msg::RemedyDone(report) => {
            state.guard.engine_busy = state.guard.engine_busy.saturating_sub(1);
            super::remedy::show_report(state, &report);
            state.needs_redraw = true;
        }
        Msg::EditorClosed => {
            // The keys that closed the editor, and those right behind
            // them, were meant for the editor: not for the orders.
            state.guard.closed_overlay();
            state.needs_redraw = true;
        }
        Msg::Terminate(why) => {
            state.quit = true;
            state.info(format!("leaving on {why}"));
        }
    }
    super::guard::after_update(state, &effects);
    relayout(state);
    sync_timeline(state, &mut effects);
    effects
}

/// Recomputes page sizes from the layout so paging moves by what is visible.
pub(super) fn relayout(state: &mut State) {
    let area = Rect::new(0, 0, state.size.0, state.size.1);
    let Some(screen) = state.screen(area) else {
        return;
    };
    let qlen = state.queues.rows.len();
    state
        .queues
        .scroll
        .set_page(layout::table_rows(screen.queues), qlen);
    if let Some(orders) = screen.orders.or(screen.timeline) {
        let olen = state.orders.visible_len();
        state
            .orders
            .scroll
            .set_page(layout::table_rows(orders), olen);
    }
}

/// Keeps the timeline on the selected order (unless pinned by `:goto`).
fn sync_timeline(state: &mut State, effects: &mut Vec<Effect>) {
    if state.timeline_pinned {
        return;
    }
    let selected = state.orders.selected().map(|o| o.order_id);
    if state.timeline.show(selected) {
        effects.push(Effect::WatchOrder(selected));
    }
}

fn on_key(state: &mut State, key: Key, effects: &mut Vec<Effect>) {
    use super::guard::{ask_quit, on_quit_answer, swallowed};
    if state.guard.asking_quit {
        return on_quit_answer(state, key);
    }
    if key.is_interrupt() {
        return ask_quit(state);
    }
    if state.mode == Mode::Normal && swallowed(state, key) {
        return;
    }
    let was_wall = state.wallboard.is_shown();
    match std::mem::replace(&mut state.mode, Mode::Normal) {
        Mode::Normal if was_wall => {
            super::wallboard::on_key(state, key, effects);
            if !state.wallboard.is_shown() {
                // Back in the cockpit: the keys behind this one were meant
                // for the wall, where fixes are refused.
                state.guard.closed_overlay();
            }
        }
        Mode::Normal => on_normal_key(state, key, effects),
        Mode::Help { scroll } => on_overlay_key(state, key, scroll, |scroll| Mode::Help { scroll }),
        Mode::Alerts { scroll } => {
            on_overlay_key(state, key, scroll, |scroll| Mode::Alerts { scroll })
        }
        Mode::Remedy(dialog) => super::remedy::on_dialog_key(state, dialog, key, effects),
        Mode::Command(mut input) => match input.handle(key) {
            Edit::Submit => run_command(state, input.text.trim(), effects),
            Edit::Cancel => state.guard.closed_overlay(),
            _ => state.mode = Mode::Command(input),
        },
        Mode::Filter {
            mut input,
            previous,
        } => on_filter_key(state, key, &mut input, previous),
    }
}

/// Keys in a scrolling overlay (help, alerts): scroll, or close; `reopen`
/// puts the same overlay back at the new scroll position.
fn on_overlay_key(state: &mut State, key: Key, scroll: usize, reopen: fn(usize) -> Mode) {
    let close = matches!(key.code, KeyCode::Esc | KeyCode::Enter)
        || matches!(
            state.keymap.action_for(key),
            Some(Action::Help | Action::Quit)
        );
    if close {
        state.guard.closed_overlay();
        return;
    }
    let scroll = match state.keymap.action_for(key) {
        Some(Action::Down) => scroll + 1,
        Some(Action::Up) => scroll.saturating_sub(1),
        Some(Action::PageDown) => scroll + 10,
        Some(Action::PageUp) => scroll.saturating_sub(10),
        Some(Action::Top) => 0,
        _ => scroll,
    };
    state.mode = reopen(scroll);
}

fn on_filter_key(state: &mut State, key: Key, input: &mut LineInput, previous: String) {
    match input.handle(key) {
        Edit::Submit => match Filter::parse(&input.text) {
            Ok(f) => {
                let shown = state.orders.visible_len();
                let empty = f.is_empty();
                state.orders.set_filter(f);
                if empty {
                    state.info("filter cleared");
                } else {
                    state.info(format!(
                        "filter: {} of {} rows",
                        state.orders.visible_len(),
                        state.orders.total_len().max(shown)
                    ));
                }
            }
            Err(e) => {
                state.error(e);
                state.mode = Mode::Filter {
                    input: input.clone(),
                    previous,
                };
            }
        },
        Edit::Cancel => {
            if let Ok(f) = Filter::parse(&previous) {
                state.orders.set_filter(f);
            }
            state.message = None;
            state.guard.closed_overlay();
        }
        Edit::Changed => {
            // Live filtering; a half-typed `family:zom` is not an error yet,
            // it just leaves the last valid filter in place.
            if let Ok(f) = Filter::parse(&input.text) {
                state.orders.set_filter(f);
            }
            state.mode = Mode::Filter {
                input: input.clone(),
                previous,
            };
        }
        Edit::Moved | Edit::Ignored => {
            state.mode = Mode::Filter {
                input: input.clone(),
                previous,
            };
        }
    }
}

fn on_normal_key(state: &mut State, key: Key, effects: &mut Vec<Effect>) {
    let Some(action) = state.keymap.action_for(key) else {
        return;
    };
    match action {
        Action::Back if super::remedy::drop_awaited(state) => {}
        Action::Quit => super::guard::ask_quit(state),
        a @ (Action::ReleaseLock
        | Action::Retry
        | Action::CancelNotify
        | Action::Resync
        | Action::ClearHold
        | Action::RequeueDead
        | Action::BulkHeal) => super::remedy::on_key(state, a, effects),
        Action::Help => state.mode = Mode::Help { scroll: 0 },
        Action::CommandLine => state.mode = Mode::Command(LineInput::default()),
        Action::Filter => {
            let current = state.orders.filter.source().to_string();
            state.focus = Pane::Orders;
            state.mode = Mode::Filter {
                input: LineInput::with_text(&current),
                previous: current,
            };
        }
        Action::FocusNext => state.focus = state.focus.next(),
        Action::FocusPrev => state.focus = state.focus.prev(),
        Action::FocusQueues => state.focus = Pane::Queues,
        Action::FocusOrders => state.focus = Pane::Orders,
        Action::FocusTimeline => state.focus = Pane::Timeline,
        Action::Down => move_in_focus(state, 1),
        Action::Up => move_in_focus(state, -1),
        Action::PageDown => page_in_focus(state, true),
        Action::PageUp => page_in_focus(state, false),
        Action::Top => jump_in_focus(state, false),
        Action::Bottom => jump_in_focus(state, true),
        Action::Open => {
            if state.focus == Pane::Orders && state.orders.selected().is_some() {
                state.timeline_pinned = false;
                state.focus = Pane::Timeline;
            }
        }
        Action::Back => {
            if state.focus == Pane::Timeline {
                state.focus = Pane::Orders;
            } else if !state.orders.filter.is_empty() {
                state.orders.set_filter(Filter::default());
                state.info("filter cleared");
            }
            if state.timeline_pinned {
                state.timeline_pinned = false;
            }
        }
        Action::SortNext => {
            state.orders.sort_next_column();
            announce_sort(state);
        }
        Action::SortReverse => {
            state.orders.reverse_sort();
            announce_sort(state);
        }
        Action::CycleTheme | Action::ToggleClock => on_view_action(state, action),
        Action::Copy => super::copy::from_pane(state, effects),
        Action::Postmortem => effects.push(Effect::OpenPostmortem {
            incident: state.incident.current().map(str::to_string),
        }),
        Action::Wallboard => {
            let now = state.now;
            state
                .wallboard
                .open(super::wallboard::Start::default(), true, now);
            state.info("wallboard (read-only): Tab next page, w or Esc back to the cockpit");
        }
    }
}

/// Keys that change how things look, the same in the cockpit and on the
/// wallboard.
pub(super) fn on_view_action(state: &mut State, action: Action) {
    match action {
        Action::CycleTheme => {
            let next = state
                .theming
                .set
                .next_after(&state.theming.name)
                .to_string();
            match state.theming.select(&next) {
                Ok(()) => state.info(format!("theme {next}")),
                Err(e) => state.error(e),
            }
        }
        Action::ToggleClock => {
            state.clock = match state.clock {
                ClockMode::Utc => ClockMode::Local,
                ClockMode::Local => ClockMode::Utc,
            };
        }
        _ => {}
    }
}

/// Wheel and click: the wheel scrolls what is under the pointer (or the
/// open overlay), a click focuses a pane and selects the row under it.
/// Returns whether anything changed.
fn on_mouse(state: &mut State, m: Mouse) -> bool {
    let step: isize = match m.kind {
        MouseKind::ScrollUp => -1,
        MouseKind::ScrollDown => 1,
        MouseKind::Click => 0,
    };
    match &mut state.mode {
        Mode::Help { scroll } | Mode::Alerts { scroll } => {
            *scroll = scroll.saturating_add_signed(step * 3);
            return step != 0;
        }
        Mode::Remedy(d) => {
            d.scroll = d.scroll.saturating_add_signed(step * 3);
            return step != 0;
        }
        Mode::Command(_) | Mode::Filter { .. } => return false,
        Mode::Normal => {}
    }
    let area = Rect::new(0, 0, state.size.0, state.size.1);
    let Some(screen) = state.screen(area) else {
        return false;
    };
    let (x, y) = (m.column, m.row);
    let hit = |r: Option<Rect>| r.filter(|r| layout::contains(*r, x, y));
    let (pane, rect) = if let Some(r) = hit(Some(screen.queues)) {
        (Pane::Queues, r)
    } else if let Some(r) = hit(screen.orders) {
        (Pane::Orders, r)
    } else if let Some(r) = hit(screen.timeline) {
        (Pane::Timeline, r)
    } else {
        return false;
    };
    if step != 0 {
        let before = state.focus;
        state.focus = pane;
        // The timeline scrolls by a few lines; tables move the selection.
        move_in_focus(
            state,
            if pane == Pane::Timeline {
                step * 3
            } else {
                step
            },
        );
        state.focus = before;
        return true;
    }
    state.focus = pane;
    if let Some(i) = layout::table_row_at(rect, y) {
        match pane {
            Pane::Queues => {
                let len = state.queues.rows.len();
                let pos = state.queues.scroll.offset + i;
                if pos < len {
                    state.queues.scroll.set_cursor(pos, len);
                }
            }
            Pane::Orders => {
                let pos = state.orders.scroll.offset + i;
                if pos < state.orders.visible_len() {
                    state.timeline_pinned = false;
                    state.orders.cursor_to(pos);
                }
            }
            Pane::Timeline => {}
        }
    }
    true
}

fn announce_sort(state: &mut State) {
    let s = state.orders.sort;
    state.info(format!(
        "sorted by {} {}",
        s.column.name(),
        if s.descending { "desc" } else { "asc" }
    ));
}

fn move_in_focus(state: &mut State, delta: isize) {
    match state.focus {
        Pane::Queues => {
            let len = state.queues.rows.len();
            state.queues.scroll.move_by(delta, len);
        }
        Pane::Orders => {
            state.timeline_pinned = false;
            state.orders.move_cursor(delta);
        }
        Pane::Timeline => {
            state.timeline.scroll = state.timeline.scroll.saturating_add_signed(delta);
        }
    }
}

fn page_in_focus(state: &mut State, down: bool) {
    let page = match state.focus {
        Pane::Queues => state.queues.scroll.page,
        Pane::Orders | Pane::Timeline => state.orders.scroll.page,
    }
    .max(1) as isize;
    move_in_focus(state, if down { page } else { -page });
}

fn jump_in_focus(state: &mut State, to_end: bool) {
    match state.focus {
        Pane::Queues => {
            let len = state.queues.rows.len();
            let pos = if to_end { len.saturating_sub(1) } else { 0 };
            state.queues.scroll.set_cursor(pos, len);
        }
        Pane::Orders => {
            state.timeline_pinned = false;
            let pos = if to_end { usize::MAX } else { 0 };
            state.orders.cursor_to(pos);
        }
        Pane::Timeline => {
            // The renderer clamps an oversized scroll to the last page.
            state.timeline.scroll = if to_end { usize::MAX / 2 } else { 0 };
        }
    }
}

/// The commands of the `:` line. Errors say what would have worked.
fn run_command(state: &mut State, line: &str, effects: &mut Vec<Effect>) {
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match cmd {
        "" => {}
        "q" | "quit" | "qa" => super::guard::ask_quit(state),
        "q!" => state.quit = true,
        "help" | "h" => state.mode = Mode::Help { scroll: 0 },
        "alerts" if state.alerts.board.is_empty() => state.info("no active alerts"),
        "alerts" => state.mode = Mode::Alerts { scroll: 0 },
        "theme" if arg.is_empty() => state.info(format!(
            "theme {} (have: {})",
            state.theming.name,
            state.theming.set.names().join(", ")
        )),
        "theme" => match state.theming.select(arg) {
            Ok(()) => state.info(format!("theme {arg}")),
            Err(e) => state.error(e),
        },
        "sort" => {
            let mut words = arg.split_whitespace();
            let col = words.next().and_then(OrderColumn::parse);
            let dir = words.next();
            match (col, dir) {
                (Some(column), None | Some("asc" | "desc")) => {
                    let descending = match dir {
                        Some(d) => d == "desc",
                        None => matches!(column, OrderColumn::Age | OrderColumn::Amount),
                    };
                    state.orders.set_sort(Sort { column, descending });
                    announce_sort(state);
                }
                _ => state.error(format!(
                    ":sort needs a column ({}) and optionally asc or desc",
                    OrderColumn::ALL.map(|c| c.name()).join(", ")
                )),
            }
        }
        "filter" | "f" => match Filter::parse(arg) {
            Ok(f) => {
                let empty = f.is_empty();
                state.orders.set_filter(f);
                state.focus = Pane::Orders;
                if empty {
                    state.info("filter cleared");
                } else {
                    state.info(format!(
                        "filter: {} of {} rows",
                        state.orders.visible_len(),
                        state.orders.total_len()
                    ));
                }
            }
            Err(e) => state.error(e),
        },
        "goto" | "g" if arg.is_empty() => state.error(":goto needs an order number"),
        "goto" | "g" => {
            let order_no = arg.to_string();
            if state.orders.select_order_no(&order_no) {
                state.timeline_pinned = false;
                state.focus = Pane::Timeline;
            } else if !state.orders.filter.is_empty() && state.orders.contains_order_no(&order_no) {
                // Stuck but hidden by the filter: clear it to show the row.
                state.orders.set_filter(Filter::default());
                state.orders.select_order_no(&order_no);
                state.timeline_pinned = false;
                state.focus = Pane::Timeline;
                state.info(format!("filter cleared to show {order_no}"));
            } else {
                // Not stuck (or not there at all): ask the database, and
                // leave the operator's filter alone.
                state.info(format!("looking up {order_no}…"));
                effects.push(Effect::LookupOrder(order_no));
            }
        }
        "clock" => match arg {
            "utc" => state.clock = ClockMode::Utc,
            "local" => state.clock = ClockMode::Local,
            _ => state.error(":clock takes utc or local"),
        },
        other => state.error(format!(
            "unknown command :{other} (try :q, :theme NAME, :sort COL, :filter EXPR, :goto ORDER_NO, :clock utc|local, :alerts, :help)"
        )),
    }
}
