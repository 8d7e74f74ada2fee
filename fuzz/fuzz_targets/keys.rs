//! Any key sequence (commands, filters, `:goto` with junk, theme and sort
//! changes, resizes) fed to the pure core and drawn after every key: no
//! panic in `update` or `render`, at any size down to 1x1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::action::Msg;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::update;
use orderdeck::theme::ColorDepth;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Characters worth typing: every bound key, command words' letters, and
/// text that must be shown escaped.
const CHARS: &[char] = &[
    ':', '/', '?', 'j', 'k', 'g', 'G', 's', 'S', 't', 'z', 'q', '1', '2', '3', '-', ' ', 'a', 'o',
    'e', 'r', 'h', 'm', 'l', 'c', 'f', 'i', 'y', 'u', 'p', 'd', 'w', 'H', 'x', '\'', ';', '"',
    '\u{1b}', '\u{9b}', '\u{202e}', '订', '\u{7}', '0', '9',
];

fn key(b: u8, next: u8) -> Msg {
    let special = [
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
    ];
    match b {
        0xf0..=0xff => Msg::Resize {
            width: u16::from(next),
            height: u16::from(next / 3),
        },
        0xe0..=0xef => Msg::Key(Key::plain(special[usize::from(b - 0xe0) % special.len()])),
        0xd0..=0xdf => Msg::Key(Key {
            code: KeyCode::Char(CHARS[usize::from(next) % CHARS.len()]),
            ctrl: b & 1 == 1,
            alt: b & 2 == 2,
        }),
        _ => Msg::Key(Key::char(CHARS[usize::from(b) % CHARS.len()])),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut state = orderdeck::fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 40);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    for (i, pair) in data.windows(2).enumerate().take(400) {
        let msg = key(pair[0], pair[1]);
        if let Msg::Resize { width, height } = msg {
            terminal.backend_mut().resize(width, height);
        }
        let _ = update(&mut state, msg);
        if i % 8 == 0 || i + 2 == data.len() {
            terminal
                .draw(|f| orderdeck::ui::render(&state, f))
                .expect("draw");
        }
    }
});
