//! Any bytes, read the way a lossy decoder reads a database cell: the
//! sanitised text holds no control byte, never exceeds its cap, and a
//! fitted cell never exceeds its width.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::sanitize::{fit_width, is_safe, sanitize, sanitize_capped};

fuzz_target!(|data: &[u8]| {
    let (cap, rest) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c), rest),
        None => (0, data),
    };
    let text = String::from_utf8_lossy(rest);
    for out in [sanitize_capped(&text, cap), sanitize(&text)] {
        assert!(is_safe(&out), "{out:?}");
        assert!(
            !out.bytes().any(|b| b < 0x20 || b == 0x7f),
            "control byte in {out:?}"
        );
        // C1 controls are two bytes in UTF-8 (0xC2 0x80..0x9F).
        assert!(!out.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)));
    }
    assert!(sanitize_capped(&text, cap).chars().count() <= cap);
    let fitted = fit_width(&sanitize(&text), cap);
    assert!(unicode_width(&fitted) <= cap, "{fitted:?} wider than {cap}");
});

fn unicode_width(s: &str) -> usize {
    ratatui::text::Line::raw(s).width()
}
