//! Keys in time: what keeps a slip of the fingers from committing a fix.
//!
//! Time comes in as data (`update_at` carries a monotonic millisecond
//! stamp), so every rule here is tested with explicit timestamps and no
//! wall clock. Three rules live here:
//!
//! - a preview ignores keys that arrive within [`GUARD_MS`] of it opening
//!   (typeahead, key repeat: `yy` must not be "open, then confirm");
//! - for [`GUARD_MS`] after an overlay, the wallboard or the postmortem
//!   editor closes, remediation keys are swallowed: the keys that closed it
//!   (or followed it) were meant for it, not for the orders;
//! - quitting while a preview is open or on its way, or while the engine is
//!   still running (or auditing) a step, asks first.

use super::keys::{Key, KeyCode};
use super::remedy::Awaiting;
use super::{Mode, State};
use crate::action::Effect;

/// How long keys are ignored after a preview opens or an overlay closes:
/// longer than key repeat's first delay and a typist's next key, short
/// enough not to be felt (browsers use about this for download dialogs).
pub const GUARD_MS: u64 = 500;

/// The key-timing state of one cockpit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyGuard {
    /// Monotonic time of the message being handled (ms since the cockpit
    /// started). Never goes backwards.
    pub now_ms: u64,
    /// Remediation keys are swallowed until this time.
    pub quiet_until_ms: u64,
    /// Remediation steps handed to the engine (preview, execute, decline,
    /// refuse) whose answer has not come back yet.
    pub engine_busy: u32,
    /// The preview asked for and not arrived yet.
    pub awaiting: Option<Awaiting>,
    /// A quit is waiting for y (or a second Ctrl-C).
    pub asking_quit: bool,
}

impl KeyGuard {
    /// Moves the clock to `at` (a stale stamp leaves it where it is).
    pub fn advance(&mut self, at_ms: u64) {
        self.now_ms = self.now_ms.max(at_ms);
    }

    /// An overlay, the wallboard or the editor just closed.
    pub fn closed_overlay(&mut self) {
        self.quiet_until_ms = self.now_ms.saturating_add(GUARD_MS);
    }

    /// Whether acting keys are still being swallowed.
    pub fn quiet(&self) -> bool {
        self.now_ms < self.quiet_until_ms
    }

    /// Whether a key stamped now is within the guard of something opened
    /// at `opened_ms`.
    pub fn too_soon_after(&self, opened_ms: u64) -> bool {
        self.now_ms < opened_ms.saturating_add(GUARD_MS)
    }

    /// Marks a preview on its way as not wanted any more.
    pub fn drop_awaited(&mut self) -> bool {
        match &mut self.awaiting {
            Some(a) if !a.dropped => {
                a.dropped = true;
                true
            }
            _ => false,
        }
    }
}

/// Bookkeeping after each message: counts the steps handed to the engine
/// (each answers with one RemedyPreview or RemedyDone; until then quitting
/// asks), and keeps an open quit question on the message line whatever
/// else reported meanwhile: the next key answers it.
pub(super) fn after_update(state: &mut State, effects: &[Effect]) {
    let handed = effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::PreviewRemedy(_)
                    | Effect::ExecuteRemedy(_)
                    | Effect::DeclineRemedy(_)
                    | Effect::RefuseRemedy { .. }
            )
        })
        .count() as u32;
    state.guard.engine_busy = state.guard.engine_busy.saturating_add(handed);
    if state.guard.asking_quit && !state.quit {
        let question = quit_question(state);
        state.warn(question);
    }
}

/// Right after an overlay, the wallboard or the editor closed, remediation
/// keys are swallowed and said so: they were typed for what just closed
/// (`p`, Esc, `y`, `y` once ran a resync). Quit is not: with nothing at
/// stake it may go at once, and with a fix in flight it asks anyway.
pub(super) fn swallowed(state: &mut State, key: Key) -> bool {
    if !state.guard.quiet() {
        return false;
    }
    let acts = state
        .keymap
        .action_for(key)
        .is_some_and(|a| a.is_remediation());
    if acts {
        state.warn(format!(
            "{key} ignored: it came right after closing a dialog; press it again"
        ));
    }
    acts
}

/// Why quitting now needs a yes, if it does.
fn quit_reason(state: &State) -> Option<&'static str> {
    if matches!(state.mode, Mode::Remedy(_)) {
        Some("a remediation preview is open")
    } else if state.guard.awaiting.as_ref().is_some_and(|a| !a.dropped) {
        Some("a remediation preview is on its way")
    } else if state.guard.engine_busy > 0 {
        Some("a remediation step is still running (or being audited)")
    } else {
        None
    }
}

fn quit_question(state: &State) -> String {
    let why = quit_reason(state).unwrap_or("a remediation step was running");
    format!("quit? {why}: y quits, n stays (Ctrl-C again quits)")
}

/// `q`, `:q` or Ctrl-C: quits at once unless something is in flight,
/// then asks.
pub(super) fn ask_quit(state: &mut State) {
    if quit_reason(state).is_none() {
        state.quit = true;
        return;
    }
    state.guard.asking_quit = true;
    let question = quit_question(state);
    state.warn(question);
}

/// The key after "quit?": y or a second Ctrl-C quits; anything else stays.
pub(super) fn on_quit_answer(state: &mut State, key: Key) {
    state.guard.asking_quit = false;
    let yes = key.is_interrupt() || (!key.ctrl && key.code == KeyCode::Char('y'));
    if yes {
        state.quit = true;
        return;
    }
    state.guard.closed_overlay();
    state.info("not quitting");
}
