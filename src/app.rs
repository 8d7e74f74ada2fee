//! The run loop: terminal events, source messages and the clock go through
//! `update`; the screen is drawn only when `update` says something changed,
//! at most [`FRAME_INTERVAL`] apart, and never while the terminal has not
//! taken the previous frame (see `output`): a surge of data coalesces into
//! a few frames, and keys are read and handled whatever the link's speed.

use crate::action::{Effect, Msg};
use crate::output::Outbox;
use crate::state::keys::{Key, KeyCode, Mouse, MouseKind};
use crate::state::{State, update_at};
use crate::ui;
use chrono::Utc;
use crossterm::event::{
    Event, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Shortest time between two frames: at most 20 a second. A key is drawn
/// at once when the screen has been still that long; a burst of data
/// messages (a backlog surge, a poll with many changes) is one frame per
/// interval, not one per message.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(50);

/// Converts a terminal key into the core's key; `None` for releases and
/// keys the cockpit has no use for.
pub fn convert_key(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    use crossterm::event::KeyCode as C;
    let code = match ev.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        _ => return None,
    };
    Some(Key {
        code,
        ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        alt: ev.modifiers.contains(KeyModifiers::ALT),
    })
}

/// The mouse events the cockpit uses: the wheel and a left click.
pub fn convert_mouse(ev: MouseEvent) -> Option<Mouse> {
    let kind = match ev.kind {
        MouseEventKind::ScrollUp => MouseKind::ScrollUp,
        MouseEventKind::ScrollDown => MouseKind::ScrollDown,
        MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
        _ => return None,
    };
    Some(Mouse {
        kind,
        column: ev.column,
        row: ev.row,
    })
}

fn convert_event(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => convert_key(k).map(Msg::Key),
        Event::Mouse(m) => convert_mouse(m).map(Msg::Mouse),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// Runs the cockpit until the state says quit. `execute` carries effects to
/// the edges (pollers, lookups); their results come back through `rx`.
/// `outbox` is where the terminal's bytes queue (`None` for a backend that
/// writes synchronously, as in tests): no frame is drawn while it is busy.
pub async fn run<B, E>(
    terminal: &mut Terminal<B>,
    state: &mut State,
    rx: &mut mpsc::Receiver<Msg>,
    mut events: E,
    outbox: Option<&Outbox>,
    mut execute: impl FnMut(Effect),
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    // Ticks land just after each wall-clock second so the clock reads true.
    let first = Duration::from_millis(1000 - u64::from(Utc::now().timestamp_subsec_millis()));
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + first, Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_frame: Option<Instant> = None;
    // The core's monotonic clock: every message is stamped with when the
    // loop took it, in ms since the cockpit started (key timing, `guard`).
    let origin = Instant::now();
    let mono = move || u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX);
    loop {
        let busy = outbox.is_some_and(Outbox::busy);
        let next_frame = last_frame.map(|t| t + FRAME_INTERVAL);
        let due = next_frame.is_none_or(|t| Instant::now() >= t);
        if state.needs_redraw && !busy && due && !state.quit {
            terminal.draw(|f| ui::render(state, f))?;
            state.needs_redraw = false;
            last_frame = Some(Instant::now());
        }
        if state.quit {
            return Ok(());
        }
        // What the pending redraw waits for, if anything.
        let wait_writer = state.needs_redraw && busy;
        let wait_clock = state.needs_redraw && !busy && !due;
        let frame_at = next_frame.unwrap_or_else(Instant::now);
        let msg = tokio::select! {
            () = async {
                if let Some(o) = outbox {
                    o.write_finished().await;
                }
            }, if wait_writer => continue,
            () = tokio::time::sleep_until(frame_at), if wait_clock => continue,
            ev = events.next() => match ev {
                Some(Ok(ev)) => match convert_event(ev) {
                    Some(m) => m,
                    None => continue,
                },
                Some(Err(e)) => return Err(anyhow::anyhow!("reading terminal input failed: {e}")),
                // Input closed (terminal gone): nothing left to drive us.
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => Msg::Tick(Utc::now()),
        };
        let mut effects = update_at(state, msg, mono());
        while !effects.is_empty() {
            let mut next = Vec::new();
            for effect in effects {
                match effect {
                    // The editor takes over this terminal and these events
                    // until it closes; then the cockpit redraws and goes on,
                    // told when it closed so the keys right behind it do
                    // not reach the orders.
                    Effect::OpenPostmortem { incident } => {
                        crate::postmortem::command::from_cockpit(
                            terminal,
                            &mut events,
                            state,
                            incident.as_deref(),
                        )
                        .await;
                        next.extend(update_at(state, Msg::EditorClosed, mono()));
                    }
                    other => execute(other),
                }
            }
            effects = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode as C, KeyEventState};

    fn ev(code: C, modifiers: KeyModifiers, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn shifted_letters_arrive_as_upper_case_and_releases_are_dropped() {
        let k = convert_key(ev(C::Char('G'), KeyModifiers::SHIFT, KeyEventKind::Press));
        assert_eq!(k, Some(Key::char('G')));
        let k = convert_key(ev(C::Char('c'), KeyModifiers::CONTROL, KeyEventKind::Press));
        assert!(k.is_some_and(|k| k.is_interrupt()));
        assert_eq!(
            convert_key(ev(C::Char('q'), KeyModifiers::NONE, KeyEventKind::Release)),
            None
        );
        assert_eq!(
            convert_key(ev(C::F(5), KeyModifiers::NONE, KeyEventKind::Press)),
            None
        );
    }
}
