//! The cockpit drawn into an in-memory terminal, and that screen as text,
//! for tests that look at what `render` shows without a PTY.

use orderdeck::state::State;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// One frame of `state` at its own size.
pub fn draw(state: &State) -> Buffer {
    let (w, h) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal.draw(|f| render(state, f)).expect("draw");
    terminal.backend().buffer().clone()
}

/// The frame's characters, a line per row, trailing blanks trimmed.
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
