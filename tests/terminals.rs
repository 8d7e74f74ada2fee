//! The real binary under the terminals people run it in: tmux and screen
//! (`TERM=screen-256color`), a plain 16-colour xterm, and `NO_COLOR`.
//! Every CSI sequence it writes is scanned: only the colour forms the mode
//! allows may appear. And the copy key's OSC 52 output, byte for byte,
//! plain, inside tmux and inside GNU screen.

mod common;

use base64::Engine as _;
use common::pty::{ENTER_ALT, LEAVE_ALT, Pty, find};
use std::time::Duration;

const ROWS: u16 = 30;
const COLS: u16 = 120;

/// The parameter lists of every SGR sequence (`ESC [ ... m`) in `out`.
fn sgr_params(out: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < out.len() {
        if out[i] == 0x1b && out[i + 1] == b'[' {
            let start = i + 2;
            let mut end = start;
            while end < out.len() && (0x20..=0x3f).contains(&out[end]) {
                end += 1;
            }
            if out.get(end) == Some(&b'm') {
                found.push(String::from_utf8_lossy(&out[start..end]).into_owned());
            }
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// What one SGR parameter list sets, colour-wise.
#[derive(Debug, Default, PartialEq)]
struct Colours {
    /// 30-37, 40-47, 90-97, 100-107.
    basic: usize,
    /// 38;5;N / 48;5;N / 58;5;N.
    indexed: usize,
    /// 38;2;R;G;B and friends.
    truecolor: usize,
    /// 39 / 49 / 59: back to the terminal's default colour.
    default: usize,
    /// Anything we do not know (a bug in this scan or in the output).
    unknown: Vec<String>,
}

fn classify(all: &[String]) -> Colours {
    let mut c = Colours::default();
    for params in all {
        let parts: Vec<&str> = params.split(';').collect();
        let mut i = 0;
        while i < parts.len() {
            let p = parts[i];
            match p.parse::<u16>() {
                // Reset, bold, dim, italic, underline, blink, reverse,
                // hidden, crossed out, and their "off" forms.
                Ok(0..=9 | 21..=29) => {}
                Ok(n @ (30..=37 | 40..=47 | 90..=97 | 100..=107)) => {
                    let _ = n;
                    c.basic += 1;
                }
                Ok(39 | 49 | 59) => c.default += 1,
                Ok(38 | 48 | 58) => match parts.get(i + 1) {
                    Some(&"5") => {
                        c.indexed += 1;
                        i += 2;
                    }
                    Some(&"2") => {
                        c.truecolor += 1;
                        i += 4;
                    }
                    _ => c.unknown.push(params.clone()),
                },
                _ if p.is_empty() => {}
                _ => c.unknown.push(params.clone()),
            }
            i += 1;
        }
    }
    c
}

#[test]
fn the_sgr_scan_sees_what_it_must() {
    let out = b"\x1b[0m\x1b[38;5;12mx\x1b[1;48;2;1;2;3m\x1b[31;107m\x1b[39;49m\x1b[5;1H\x1b[m";
    let c = classify(&sgr_params(out));
    assert_eq!(
        (c.basic, c.indexed, c.truecolor, c.default),
        (2, 1, 1, 2),
        "{c:?}"
    );
    assert!(c.unknown.is_empty());
    assert_eq!(classify(&["38;7".to_string()]).unknown.len(), 1);
}

/// The demo under `term_env`: first frame, every theme (`t` cycles them),
/// help, the timeline, then quit. Returns everything it wrote.
fn drive_demo(term_env: &[(&str, &str)]) -> Vec<u8> {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Pty::start_in(&["demo", "--seed", "3"], home.path(), ROWS, COLS, term_env);
    s.wait_for(ENTER_ALT, Duration::from_secs(20));
    s.wait_for(b"Stuck orders", Duration::from_secs(20));
    s.wait_for(b"CO2026", Duration::from_secs(20));
    for _ in 0..4 {
        // `send` reads what comes back for a while after each key.
        s.send(b"t");
        // `?` again closes help: a lone Esc followed closely by the next
        // key reads as Alt+key on a loaded machine.
        s.send(b"?");
        s.send(b"?");
        s.send(b"3");
        s.send(b"2j");
    }
    s.send(b"q");
    let status = s.wait_exit();
    assert!(status.success(), "exit {status:?}");
    assert!(
        find(&s.seen, LEAVE_ALT).is_some(),
        "left the alternate screen"
    );
    s.seen
}

#[test]
fn screen_256color_gets_256_colours_and_never_truecolor() {
    let out = drive_demo(&[("TERM", "screen-256color")]);
    let c = classify(&sgr_params(&out));
    assert!(c.unknown.is_empty(), "{:?}", c.unknown);
    assert_eq!(c.truecolor, 0, "38;2/48;2 sent to a 256-colour terminal");
    assert!(c.indexed > 0, "the cockpit is coloured: {c:?}");
}

#[test]
fn tmux_256color_is_256_colours_too_unless_colorterm_says_more() {
    let out = drive_demo(&[("TERM", "tmux-256color"), ("TMUX", "/tmp/t,1,0")]);
    let c = classify(&sgr_params(&out));
    assert_eq!(c.truecolor, 0);
    assert!(c.indexed > 0);
    let out = drive_demo(&[("TERM", "tmux-256color"), ("COLORTERM", "truecolor")]);
    assert!(classify(&sgr_params(&out)).truecolor > 0);
}

#[test]
fn plain_xterm_gets_only_the_16_basic_colour_forms() {
    let out = drive_demo(&[("TERM", "xterm")]);
    let c = classify(&sgr_params(&out));
    assert!(c.unknown.is_empty(), "{:?}", c.unknown);
    assert_eq!(
        (c.indexed, c.truecolor),
        (0, 0),
        "38;5/38;2 sent to a 16-colour terminal"
    );
    assert!(c.basic > 0, "the cockpit is coloured: {c:?}");
}

#[test]
fn no_color_sends_no_colour_at_all_but_keeps_bold_and_reverse() {
    let out = drive_demo(&[
        ("TERM", "xterm-256color"),
        ("COLORTERM", "truecolor"),
        ("NO_COLOR", "1"),
    ]);
    let all = sgr_params(&out);
    let c = classify(&all);
    assert!(c.unknown.is_empty(), "{:?}", c.unknown);
    assert_eq!(
        (c.basic, c.indexed, c.truecolor),
        (0, 0, 0),
        "colour SGR under NO_COLOR: {c:?}"
    );
    let has = |n: &str| all.iter().any(|p| p.split(';').any(|x| x == n));
    assert!(has("7"), "reverse video marks the selection");
    assert!(has("1"), "bold marks titles and warnings");
}

/// The demo's first frame; `Y` on the selected order. Returns the session,
/// the order number the message line names, and where the copy started.
fn copy_selected(term_env: &[(&str, &str)]) -> (Pty, String, usize, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut s = Pty::start_in(&["demo", "--seed", "3"], home.path(), ROWS, COLS, term_env);
    s.wait_for(ENTER_ALT, Duration::from_secs(20));
    s.wait_for(b"Stuck orders", Duration::from_secs(20));
    // The first poll has landed: there is an order to copy.
    s.wait_for(b"CO2026", Duration::from_secs(20));
    // Pin the selection to the top row before copying.
    s.send(b"2g");
    let before = s.seen.len();
    s.send(b"Y");
    let at = s.wait_for_from(b"copied order no ", before, Duration::from_secs(10));
    let rest = &s.seen[at + b"copied order no ".len()..];
    let end = find(rest, b" to the clipboard").expect("message names the order");
    let order_no = String::from_utf8_lossy(&rest[..end]).into_owned();
    assert!(order_no.starts_with("CO"), "{order_no}");
    (s, order_no, before, home)
}

fn finish(mut s: Pty) -> Vec<u8> {
    s.send(b"q");
    assert!(s.wait_exit().success());
    s.seen
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every OSC 52 (and DCS) in `out` from byte `from` on.
fn clipboard_writes(out: &[u8], from: usize) -> usize {
    let tail = &out[from..];
    tail.windows(4).filter(|w| w == b"]52;").count()
}

#[test]
fn copy_writes_osc_52_plain_outside_multiplexers() {
    let (s, order_no, before, _home) = copy_selected(&[("TERM", "xterm-256color")]);
    let out = finish(s);
    let want = format!("\x1b]52;c;{}\x07", b64(&order_no));
    let at = find(&out[before..], want.as_bytes()).map(|p| p + before);
    assert!(
        at.is_some(),
        "want {want:?} in {:?}",
        String::from_utf8_lossy(&out[before..])
    );
    assert_eq!(clipboard_writes(&out, 0), 1, "one copy, written once");
    // Between two frames, not inside one: what comes right before it is the
    // cursor sequence ratatui ends every frame with.
    let at = at.unwrap_or(0);
    let before_copy = &out[..at];
    assert!(
        before_copy.ends_with(b"\x1b[?25l") || before_copy.ends_with(b"\x1b[?25h"),
        "{:?}",
        String::from_utf8_lossy(&before_copy[before_copy.len().saturating_sub(40)..])
    );
}

#[test]
fn copy_inside_tmux_goes_through_passthrough_and_plain() {
    let (s, order_no, before, _home) = copy_selected(&[
        ("TERM", "screen-256color"),
        ("TMUX", "/tmp/tmux-1000/default,4242,0"),
    ]);
    let out = finish(s);
    let b = b64(&order_no);
    let want = format!("\x1bPtmux;\x1b\x1b]52;c;{b}\x07\x1b\\\x1b]52;c;{b}\x07");
    assert!(
        find(&out[before..], want.as_bytes()).is_some(),
        "want {want:?} in {:?}",
        String::from_utf8_lossy(&out[before..])
    );
    assert_eq!(clipboard_writes(&out, 0), 2);
}

#[test]
fn copy_inside_gnu_screen_goes_in_dcs_strings() {
    let (s, order_no, before, _home) =
        copy_selected(&[("TERM", "screen-256color"), ("STY", "4242.pts-3.bastion")]);
    let out = finish(s);
    let want = format!("\x1bP\x1b]52;c;{}\x07\x1b\\", b64(&order_no));
    assert!(
        find(&out[before..], want.as_bytes()).is_some(),
        "want {want:?} in {:?}",
        String::from_utf8_lossy(&out[before..])
    );
}

const MOUSE_ON: &[u8] = b"\x1b[?1000h";
const MOUSE_OFF: &[u8] = b"\x1b[?1000l";

#[test]
fn the_mouse_is_left_to_the_terminal_unless_asked_for() {
    let home = tempfile::tempdir().expect("tempdir");
    let env = [("TERM", "screen-256color")];
    let mut s = Pty::start_in(&["demo"], home.path(), ROWS, COLS, &env);
    s.wait_for(b"Stuck orders", Duration::from_secs(20));
    let out = finish(s);
    assert!(
        find(&out, MOUSE_ON).is_none(),
        "mouse captured without --mouse"
    );

    let mut s = Pty::start_in(&["demo", "--mouse"], home.path(), ROWS, COLS, &env);
    s.wait_for(b"Stuck orders", Duration::from_secs(20));
    let on = find(&s.seen, MOUSE_ON).expect("--mouse captures the mouse");
    s.wait_for(b"CO2026", Duration::from_secs(20));
    // Click the fourth row of the stuck-order table: the timeline follows.
    let screen = |s: &Pty| {
        let mut p = vt100::Parser::new(ROWS, COLS, 0);
        p.process(&s.seen);
        p.screen().contents()
    };
    // The fourth row of the table, once it is drawn (frames are paced, so
    // the first order number on screen can come before the fourth row).
    let fourth_row = |s: &Pty| {
        let lines: Vec<String> = screen(s).lines().map(str::to_string).collect();
        let header = lines
            .iter()
            .position(|l| l.contains("family") && l.contains("order"))?;
        let row = header + 4;
        let order_no = lines
            .get(row)?
            .split_whitespace()
            .find(|w| w.starts_with("CO2026"))?
            .to_string();
        Some((row, order_no))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (row, order_no) = loop {
        if let Some(found) = fourth_row(&s) {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no order number on the table's fourth row:\n{}",
            screen(&s)
        );
        s.pump(Duration::from_millis(200));
    };
    let title = |s: &Pty| {
        screen(s)
            .lines()
            .find(|l| l.contains("3 Timeline"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(!title(&s).contains(&order_no), "already showing {order_no}");
    // SGR encoding, 1-based: press and release of the left button.
    let click = format!("\x1b[<0;10;{}M\x1b[<0;10;{}m", row + 1, row + 1);
    s.send(click.as_bytes());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !title(&s).contains(&order_no) {
        assert!(
            std::time::Instant::now() < deadline,
            "timeline did not follow the click: {}",
            title(&s)
        );
        s.pump(Duration::from_millis(200));
    }
    // The wheel is read as a mouse event too, not as keys: `q` after it
    // still quits, and nothing in it (`M`, `[`, digits) hit a binding.
    s.send(b"\x1b[<65;20;20M");
    let out = finish(s);
    let off = find(&out[on..], MOUSE_OFF).expect("capture released on exit");
    assert!(find(&out[on + off..], LEAVE_ALT).is_some());
}
