//! The editor's run loop on an already-open terminal: the cockpit's (after
//! `p`) or a fresh one for `orderdeck postmortem edit`. Keys and pastes go
//! through `editor::update`; the draft is saved at most half a second after
//! a change, and once more on the way out.
//!
//! SIGTERM and SIGHUP (the SSH session went away) close the editor the same
//! way: the draft is saved and the caller gets the terminal back to restore.
//! In the cockpit-hosted editor the cockpit's own listener hears the same
//! signal and quits once the editor has closed.

use super::editor::{self, Editor, Msg, view};
use super::model::Draft;
use super::store::Drafts;
use crate::theme::Palette;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::time::Duration;
use tokio::time::Instant;

/// Longest a change waits before it is written: well under the promised
/// second, long enough that typing a sentence is a handful of writes.
pub const SAVE_AFTER: Duration = Duration::from_millis(500);

/// Edits `draft` until the user closes the editor; returns the last draft,
/// saved. Save failures are shown in the title line and retried on the
/// next change, never fatal: the text stays on screen.
pub async fn run<B, E>(
    terminal: &mut Terminal<B>,
    events: &mut E,
    drafts: &Drafts,
    draft: Draft,
    palette: &Palette,
) -> anyhow::Result<Draft>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut signals = Signals::install();
    set_bracketed_paste(true);
    let result = edit_loop(terminal, events, drafts, draft, palette, &mut signals).await;
    set_bracketed_paste(false);
    result
}

async fn edit_loop<B, E>(
    terminal: &mut Terminal<B>,
    events: &mut E,
    drafts: &Drafts,
    draft: Draft,
    palette: &Palette,
    signals: &mut Signals,
) -> anyhow::Result<Draft>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut ed = Editor::new(draft);
    let mut saved = ed.revision;
    let mut note = match drafts.path(&ed.draft.id) {
        Ok(p) => format!(" autosaves to {}", p.display()),
        Err(e) => format!(" {e}"),
    };
    let mut deadline: Option<Instant> = None;
    let mut redraw = true;
    loop {
        if redraw {
            terminal.draw(|f| view::render(&ed, palette, &note, f))?;
            redraw = false;
        }
        if ed.quit {
            break;
        }
        let save_at = deadline;
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => match crate::app::convert_key(k) {
                    Some(key) => Msg::Key(key),
                    None => continue,
                },
                Some(Ok(Event::Paste(text))) => Msg::Paste(text),
                Some(Ok(Event::Resize(..))) => {
                    redraw = true;
                    continue;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    save(drafts, &mut ed, &mut saved, &mut note);
                    return Err(anyhow::anyhow!("reading terminal input failed: {e}"));
                }
                None => break,
            },
            why = signals.next() => {
                tracing::info!(signal = why, "closing the postmortem editor");
                break;
            }
            _ = sleep_until(save_at) => {
                deadline = None;
                save(drafts, &mut ed, &mut saved, &mut note);
                redraw = true;
                continue;
            }
        };
        let effects = editor::update(&mut ed, msg);
        redraw = true;
        if effects.contains(&editor::Effect::SaveNow) {
            deadline = None;
            save(drafts, &mut ed, &mut saved, &mut note);
        } else if ed.revision != saved && deadline.is_none() {
            deadline = Some(Instant::now() + SAVE_AFTER);
        }
    }
    if ed.revision != saved {
        drafts.save(&ed.draft)?;
    }
    Ok(ed.draft)
}

/// The signals that close the editor (saving first).
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Installed before the first frame, so a signal never finds the
    /// terminal in raw mode with its default (killing) action.
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(t), Ok(h)) => Some((t, h)),
                _ => {
                    tracing::warn!("could not install signal handlers for the editor");
                    None
                }
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal's name; pending for ever if none can arrive.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some((term, hup)) = &mut self.streams {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            };
        }
        std::future::pending().await
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn save(drafts: &Drafts, ed: &mut Editor, saved: &mut u64, note: &mut String) {
    if ed.revision == *saved {
        return;
    }
    match drafts.save(&ed.draft) {
        Ok(_) => {
            *saved = ed.revision;
            ed.save_failed = false;
            *note = format!(" saved {}", chrono::Utc::now().format("%H:%M:%S UTC"));
        }
        Err(e) => {
            // The editor asks before closing on an unsaved draft.
            ed.save_failed = true;
            *note = format!(" NOT SAVED: {e}");
        }
    }
}

/// Pastes arrive as one event (not as keys that could trigger commands).
/// A failed write only costs that convenience.
fn set_bracketed_paste(on: bool) {
    use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
    let mut out = std::io::stdout();
    let _ = if on {
        crossterm::execute!(out, EnableBracketedPaste)
    } else {
        crossterm::execute!(out, DisableBracketedPaste)
    };
}
