//! OSC 52: setting the clipboard of the terminal the user sits at, through
//! SSH and multiplexers, by writing an escape sequence (no X11 or pbcopy on
//! a bastion host is needed, and none would reach the user's laptop).
//!
//! `ESC ] 52 ; c ; <base64> BEL` is understood by xterm (with
//! `allowWindowOps`/`disallowedWindowOps` permitting it), iTerm2, kitty,
//! WezTerm, Alacritty, foot, Windows Terminal and others. Multiplexers sit
//! in between:
//!
//! * tmux: the sequence is sent twice, first wrapped in tmux's DCS
//!   passthrough (`ESC P tmux; ... ESC \`, every ESC inside doubled), which
//!   reaches the outer terminal when `allow-passthrough` is on (tmux 3.3+),
//!   then plain, which tmux itself takes when `set-clipboard` is on (and
//!   passes on to the outer terminal). Either setting is enough; with both,
//!   the outer terminal gets the same text twice, which is harmless.
//! * GNU screen: the sequence is cut into DCS strings (`ESC P ... ESC \`)
//!   that screen passes through; screen keeps at most 768 bytes of one
//!   string, so the base64 goes in pieces of 76 characters (the split
//!   chromium's hterm `osc52.sh` uses).
//!
//! The text is sanitised and capped by the core (`state::copy`) before it
//! gets here; base64 keeps even that from being read as control bytes.

use base64::Engine as _;

/// What sits between orderdeck and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mux {
    None,
    Tmux,
    Screen,
}

impl Mux {
    /// From the environment: `TMUX` is set inside tmux (also when tmux runs
    /// inside screen), `STY` inside GNU screen. Over SSH neither reaches the
    /// remote shell, so a copy goes out plain; a local tmux with
    /// `set-clipboard on` takes it from there.
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> Mux {
        let set = |k: &str| get(k).is_some_and(|v| !v.is_empty());
        if set("TMUX") {
            Mux::Tmux
        } else if set("STY") {
            Mux::Screen
        } else {
            Mux::None
        }
    }
}

/// base64 characters per DCS string under screen.
const SCREEN_CHUNK: usize = 76;

/// The bytes that put `text` on the clipboard through `mux`.
pub fn osc52(text: &str, mux: Mux) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let plain = format!("\x1b]52;c;{b64}\x07");
    match mux {
        Mux::None => plain.into_bytes(),
        Mux::Tmux => {
            let mut out = b"\x1bPtmux;".to_vec();
            for b in plain.bytes() {
                if b == 0x1b {
                    out.push(0x1b);
                }
                out.push(b);
            }
            out.extend_from_slice(b"\x1b\\");
            out.extend_from_slice(plain.as_bytes());
            out
        }
        Mux::Screen => {
            let mut out = b"\x1bP\x1b]52;c;".to_vec();
            let chunks = b64.as_bytes().chunks(SCREEN_CHUNK);
            let n = chunks.len();
            for (i, chunk) in chunks.enumerate() {
                out.extend_from_slice(chunk);
                if i + 1 < n {
                    out.extend_from_slice(b"\x1b\\\x1bP");
                }
            }
            out.extend_from_slice(b"\x07\x1b\\");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn mux_detection() {
        assert_eq!(Mux::detect(env(&[])), Mux::None);
        assert_eq!(Mux::detect(env(&[("TERM", "screen-256color")])), Mux::None);
        assert_eq!(
            Mux::detect(env(&[("TMUX", "/tmp/tmux-0/default,1,0")])),
            Mux::Tmux
        );
        assert_eq!(Mux::detect(env(&[("STY", "123.pts-0.host")])), Mux::Screen);
        // tmux inside screen: tmux is the one we talk to.
        assert_eq!(
            Mux::detect(env(&[("STY", "1.x"), ("TMUX", "/tmp/t,1,0")])),
            Mux::Tmux
        );
        assert_eq!(Mux::detect(env(&[("TMUX", "")])), Mux::None);
    }

    #[test]
    fn plain_is_osc_52_with_base64_and_bel() {
        // base64("CO-42") = Q08tNDI=
        assert_eq!(osc52("CO-42", Mux::None), b"\x1b]52;c;Q08tNDI=\x07");
        assert_eq!(osc52("", Mux::None), b"\x1b]52;c;\x07");
        // UTF-8 is encoded as its bytes.
        assert_eq!(osc52("订", Mux::None), b"\x1b]52;c;6K6i\x07");
    }

    #[test]
    fn tmux_wraps_in_passthrough_with_escs_doubled_then_sends_plain() {
        assert_eq!(
            osc52("CO-42", Mux::Tmux),
            b"\x1bPtmux;\x1b\x1b]52;c;Q08tNDI=\x07\x1b\\\x1b]52;c;Q08tNDI=\x07"
        );
    }

    #[test]
    fn screen_cuts_into_short_dcs_strings() {
        assert_eq!(
            osc52("CO-42", Mux::Screen),
            b"\x1bP\x1b]52;c;Q08tNDI=\x07\x1b\\"
        );
        // 120 bytes -> 160 base64 characters -> pieces of 76, 76 and 8.
        let text = "x".repeat(120);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&text);
        let want = format!(
            "\x1bP\x1b]52;c;{}\x1b\\\x1bP{}\x1b\\\x1bP{}\x07\x1b\\",
            &b64[..76],
            &b64[76..152],
            &b64[152..]
        );
        assert_eq!(osc52(&text, Mux::Screen), want.as_bytes());
        // No DCS string longer than screen keeps.
        let big = osc52(&"y".repeat(100_000), Mux::Screen);
        let longest = big
            .split(|b| *b == b'\\')
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        assert!(longest < 768, "{longest}");
    }

    #[test]
    fn the_payload_never_carries_a_control_byte() {
        let out = osc52("a\x1b[2Jb\x07\u{9b}", Mux::None);
        let inner = &out[7..out.len() - 1];
        assert!(
            inner
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
        );
    }
}
