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

use super::remedy::Awaiting;

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
