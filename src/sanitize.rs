//! Text from databases and messages is untrusted: an order field holding
//! `ESC [2J` or an OSC title sequence must not drive the operator's terminal,
//! and a bidi override must not make `SKU-1` read as something else. Every
//! such string passes through here before it reaches the state, so the view
//! only ever draws printable text.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Longest field kept for a table cell or header; the rest is cut with `…`.
/// Real order numbers, SKUs and statuses are far shorter; a megabyte of
/// payload pasted into a column must not cost a megabyte per frame.
pub const MAX_FIELD_CHARS: usize = 256;

const ELLIPSIS: char = '…';

/// Sanitises and caps at [`MAX_FIELD_CHARS`].
pub fn sanitize(s: &str) -> String {
    sanitize_capped(s, MAX_FIELD_CHARS)
}

/// Shows every control, C1, bidi and invisible format character escaped
/// (`\x1b`, `\u{202e}`, `\n`), and cuts the result to at most `max_chars`
/// characters, the last being `…` when something was cut. Linear in the
/// output, so a huge input costs only what is kept.
pub fn sanitize_capped(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    let mut escaped = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        escaped.clear();
        let piece: &str = if needs_escape(c) {
            push_escape(&mut escaped, c);
            &escaped
        } else {
            escaped.push(c);
            &escaped
        };
        let n = piece.chars().count();
        // Leave room for the ellipsis unless this is the very last piece.
        let last = chars.peek().is_none();
        let room = if last {
            max_chars
        } else {
            max_chars.saturating_sub(1)
        };
        if count + n > room {
            if max_chars > 0 {
                out.push(ELLIPSIS);
            }
            return out;
        }
        out.push_str(piece);
        count += n;
    }
    out
}

/// True when `s` holds nothing that [`sanitize`] would escape.
pub fn is_safe(s: &str) -> bool {
    !s.chars().any(needs_escape)
}

/// Escapes, as JSON `\uXXXX`, every character [`sanitize`] would escape that
/// serde_json leaves raw (DEL, C1 such as U+009B CSI, bidi controls,
/// zero-width and other invisible characters), in JSON text that serde_json
/// wrote. The value a JSON reader gets back is unchanged; only the bytes on
/// the terminal, in a log or in `less` are: a `snapshot --format json` piped
/// to the screen must not drive it any more than a table may. C0 controls
/// are left alone: inside strings serde_json has already escaped them, so any
/// left are the pretty printer's own newlines and indentation.
pub fn escape_json_invisibles(json: &str) -> String {
    use std::fmt::Write;
    if !json.chars().any(|c| c >= '\u{7f}' && needs_escape(c)) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c >= '\u{7f}' && needs_escape(c) {
            // Every character needs_escape names is in the BMP: one \uXXXX.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (U+0080..U+009F)
        || matches!(c,
            // bidi embeddings, overrides, isolates and marks
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            // zero-width and invisible format characters that hide text
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
            // line and paragraph separators break a cell like a newline
            | '\u{2028}' | '\u{2029}'
            // interlinear annotations and the replacement-object marks
            | '\u{FFF9}'..='\u{FFFC}')
}

fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Cuts `s` to at most `width` terminal columns, ending in `…` when cut.
/// Works on grapheme clusters so a CJK character or an emoji with a
/// modifier is never split in half.
pub fn fit_width(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let budget = width - 1; // one column for the ellipsis
    let mut out = String::new();
    let mut used = 0usize;
    for g in s.graphemes(true) {
        let w = g.width();
        if used + w > budget {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(sanitize("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(sanitize("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
        assert_eq!(sanitize("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(sanitize("SKU\u{202e}1-UKS"), "SKU\\u{202e}1-UKS");
        assert_eq!(sanitize("line1\nline2\tend\r"), "line1\\nline2\\tend\\r");
        assert_eq!(sanitize("del\x7f"), "del\\x7f");
    }

    #[test]
    fn json_output_carries_no_raw_invisible_characters() {
        let raw = serde_json::to_string(&serde_json::json!({
            "target": "CO-1\u{9b}31m\u{202e}\u{200b}x\u{7f}\u{feff}",
            "ok": "寄售 ✅ line\nnext",
        }))
        .expect("json");
        let shown = escape_json_invisibles(&raw);
        assert_eq!(
            shown,
            r#"{"ok":"寄售 ✅ line\nnext","target":"CO-1\u009b31m\u202e\u200bx\u007f\ufeff"}"#
        );
        // A JSON reader still gets the exact value back.
        let back: serde_json::Value = serde_json::from_str(&shown).expect("valid json");
        assert_eq!(
            back["target"],
            "CO-1\u{9b}31m\u{202e}\u{200b}x\u{7f}\u{feff}"
        );
        // Pretty output keeps its own newlines.
        assert_eq!(
            escape_json_invisibles("{\n  \"a\": 1\n}"),
            "{\n  \"a\": 1\n}"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in [
            "CO20261125-000123",
            "SKU-TEA-0042",
            "寄售订单 待审核",
            "✅ ok",
            "",
        ] {
            assert_eq!(sanitize(s), s);
            assert!(is_safe(s));
        }
    }

    #[test]
    fn long_fields_are_cut_with_an_ellipsis() {
        let huge = "x".repeat(1_000_000);
        let s = sanitize(&huge);
        assert_eq!(s.chars().count(), MAX_FIELD_CHARS);
        assert!(s.ends_with('…'));
        // Exactly at the cap: nothing is cut.
        let exact = "y".repeat(MAX_FIELD_CHARS);
        assert_eq!(sanitize(&exact), exact);
        // An escape is never cut in half.
        let s = sanitize_capped("ab\x1bcd", 5);
        assert_eq!(s, "ab…");
    }

    #[test]
    fn fit_width_never_splits_a_wide_character() {
        assert_eq!(fit_width("订单号码", 5), "订单…");
        assert_eq!(fit_width("订单号码", 8), "订单号码");
        assert_eq!(fit_width("abcdef", 4), "abc…");
        assert_eq!(fit_width("abc", 0), "");
        assert_eq!(fit_width("订", 1), "…");
    }

    proptest! {
        #[test]
        fn sanitized_text_is_always_safe_and_bounded(s in any::<String>(), cap in 0usize..300) {
            let out = sanitize_capped(&s, cap);
            prop_assert!(is_safe(&out));
            prop_assert!(out.chars().count() <= cap);
            prop_assert!(!out.bytes().any(|b| b < 0x20 || b == 0x7f));
        }

        #[test]
        fn fitted_text_never_exceeds_the_width(s in "\\PC{0,40}", w in 0usize..30) {
            prop_assert!(fit_width(&s, w).width() <= w);
        }
    }
}
