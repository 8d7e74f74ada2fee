//! Entering and leaving the TUI, so that the shell always comes back clean:
//! on quit, on Ctrl-C, on SIGTERM and on panic.

use crate::output::{FrameWriter, Outbox};
use crate::theme::ColorDepth;
use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub type Tui = Terminal<CrosstermBackend<FrameWriter>>;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// How to set the terminal up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Capture the mouse (`--mouse`). Off by default: capturing takes the
    /// mouse from the terminal, and with it text selection, which is how
    /// people copy an order number out of an SSH session.
    pub mouse: bool,
    /// Colour depth; at 16 colours the frames' colour sequences are
    /// rewritten to the basic SGR forms (see `output::sgr16`).
    pub depth: ColorDepth,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mouse: false,
            depth: ColorDepth::TrueColor,
        }
    }
}

/// Mouse reporting as `--mouse` wants it: button presses and the wheel
/// (`?1000`), in the SGR encoding (`?1006`), which has no 223-column limit.
const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";

/// How long leaving waits for the terminal to take what is queued before
/// the restore sequences go out after it.
const DRAIN_ON_EXIT: Duration = Duration::from_secs(3);

/// Raw mode and the alternate screen; the guard restores them when dropped.
pub struct TerminalGuard {
    pub terminal: Tui,
    /// Where frames, the bell and clipboard copies are queued for the
    /// terminal (one writer thread, see `output`).
    pub outbox: Arc<Outbox>,
}

impl TerminalGuard {
    pub fn enter(options: Options) -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = io::stdout();
        let setup = execute!(out, EnterAlternateScreen).and_then(|()| {
            if options.mouse {
                // Clicks and the wheel only (1000), SGR-encoded (1006).
                // crossterm's EnableMouseCapture also asks for every pointer
                // movement (1003), a stream of reports over SSH that the
                // cockpit has no use for.
                out.write_all(MOUSE_ON)?;
                out.flush()?;
            }
            Ok(())
        });
        if let Err(e) = setup {
            restore();
            return Err(e);
        }
        let outbox = match Outbox::start(io::stdout()) {
            Ok(o) => o,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        let writer = FrameWriter::new(outbox.clone(), options.depth == ColorDepth::Ansi16);
        match Terminal::new(CrosstermBackend::new(writer)) {
            Ok(mut terminal) => {
                let _ = terminal.hide_cursor();
                // Not `terminal.clear()`: it asks the terminal where the cursor
                // is (DSR) and waits up to 2 s for an answer, a round trip per
                // start over SSH. The first frame draws from an empty back
                // buffer, so a plain clear is all it needs.
                let _ = execute!(
                    terminal.backend_mut(),
                    crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
                );
                Ok(TerminalGuard { terminal, outbox })
            }
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.flush();
        // The restore sequences must come after the last frame, not inside
        // it; a terminal that takes nothing for this long gets them anyway.
        self.outbox.drain(DRAIN_ON_EXIT);
        self.outbox.close();
        restore();
    }
}

/// Puts the terminal back. Idempotent, and safe to call from a panic hook.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal *before* the panic message is printed, so the
/// message is readable and the shell is usable, then says where the log is.
/// The message is printed here rather than by the default hook so that a
/// URL in it (an `expect` on a connection, say) has its password masked on
/// the screen and in the log alike.
pub fn install_panic_hook(log_file: Option<PathBuf>) {
    std::panic::set_hook(Box::new(move |info| {
        restore();
        let report = panic_report(&info.to_string());
        tracing::error!(panic = %report, "orderdeck panicked");
        eprintln!("orderdeck {report}");
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{}", crate::config::mask_secrets(&trace.to_string()));
        } else {
            eprintln!("note: run with RUST_BACKTRACE=1 for a backtrace");
        }
        match &log_file {
            Some(p) => eprintln!("orderdeck crashed; the log is at {}", p.display()),
            None => eprintln!("orderdeck crashed (no log file could be opened)"),
        }
    }));
}

/// What a panic says (`panicked at FILE:LINE:COL:` and the message), with
/// passwords masked and control characters from the message escaped: the
/// message may quote outside data.
pub fn panic_report(info: &str) -> String {
    let masked = crate::config::mask_secrets(info);
    masked
        .lines()
        .map(|l| crate::sanitize::sanitize_capped(l, 2000))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_reports_mask_passwords_and_escape_controls() {
        let r = panic_report(
            "panicked at src/x.rs:1:2:\nconnect postgres://u:hunter2@db/x failed \u{1b}]0;t\u{7}",
        );
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("postgres://u:***@db/x"), "{r}");
        assert!(!r.contains('\u{1b}') && !r.contains('\u{7}'), "{r:?}");
        assert!(r.starts_with("panicked at src/x.rs:1:2:\nconnect"), "{r}");
    }
}
