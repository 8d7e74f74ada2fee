//! WCAG 2 contrast of every foreground/background pair the cockpit draws,
//! for every built-in theme at 24-bit and 256 colours.
//!
//! A theme that looks right in its TOML can still be unreadable on screen:
//! `high-contrast` once drew the selected row white on white, because the
//! row's text kept its own (white) colour on the white selection bar. These
//! tests compute what the terminal shows, so such a pair fails here first.

use super::*;

/// WCAG 2 minimum for normal-size text (success criterion 1.4.3).
const MIN_TEXT: f64 = 4.5;

/// The depths a theme's colours are checked at. 16 colours and NO_COLOR are
/// left to the terminal's own palette (and to reverse video), which no RGB
/// table can speak for.
const CHECKED: [ColorDepth; 2] = [ColorDepth::TrueColor, ColorDepth::Ansi256];

/// The sRGB a colour is drawn in, using xterm's standard values for the 256
/// indexed colours and the 16 names; `None` for `reset`, the terminal's own
/// colour, which only the user knows (and chose to read).
fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    let index = match c {
        Color::Reset => return None,
        Color::Rgb(r, g, b) => return Some((r, g, b)),
        Color::Indexed(i) => i,
        named => {
            let i = ANSI16.iter().position(|n| *n == named)?;
            u8::try_from(i).ok()?
        }
    };
    Some(xterm256_rgb(index))
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2 contrast ratio, 1.0 (same) to 21.0 (black on white).
fn ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn ratio_matches_known_values() {
    // Literals from the WCAG definition: black on white is 21:1, a colour
    // on itself 1:1, and #767676 on white is the classic 4.54:1.
    assert!((ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 0.01);
    assert!((ratio((18, 52, 86), (18, 52, 86)) - 1.0).abs() < 1e-9);
    assert!((ratio((0x76, 0x76, 0x76), (255, 255, 255)) - 4.54).abs() < 0.01);
    assert_eq!(rgb(Color::Indexed(231)), Some((255, 255, 255)));
    assert_eq!(rgb(Color::Blue), Some((0, 0, 238)));
    assert_eq!(rgb(Color::Reset), None);
}

/// Every (what, foreground, background) pair drawn with `p`: text slots on
/// the screen background (panes, status bar, dialogs, help and the alert
/// line all draw on it) and the filled slots on their own fill.
fn drawn_pairs(p: &Palette) -> Vec<(String, Option<Color>, Option<Color>)> {
    let filled = [
        "selection",
        "selection_unfocused",
        "badge_demo",
        "badge_readonly",
    ];
    let not_text = ["base", "border", "border_focused", "sparkline"];
    let mut out = Vec::new();
    for (slot, s) in p.slots() {
        if filled.contains(&slot) {
            out.push((slot.to_string(), s.fg, s.bg));
        } else if !not_text.contains(&slot) {
            out.push((format!("{slot} on background"), s.fg, p.base.bg));
        }
    }
    out
}

#[test]
fn every_drawn_pair_reaches_wcag_aa_in_every_builtin_theme() {
    let set = ThemeSet::builtin_only();
    let mut failures = Vec::new();
    for name in set.names() {
        for depth in CHECKED {
            let p = resolve(set.get(name).expect("built-in theme"), depth);
            for (what, fg, bg) in drawn_pairs(&p) {
                let (Some(fg), Some(bg)) = (fg, bg) else {
                    continue;
                };
                if fg == Color::Reset && bg == Color::Reset {
                    // The terminal's own text on its own background.
                    continue;
                }
                if fg == bg {
                    failures.push(format!("{name} at {depth:?}: {what} is {fg:?} on itself"));
                    continue;
                }
                let (Some(f), Some(b)) = (rgb(fg), rgb(bg)) else {
                    continue;
                };
                let r = ratio(f, b);
                if r < MIN_TEXT {
                    failures.push(format!(
                        "{name} at {depth:?}: {what} {fg:?} on {bg:?} is {r:.2}:1"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "below {MIN_TEXT}:1\n{}",
        failures.join("\n")
    );
}

#[test]
fn unfocused_selection_is_visible_but_weaker_than_focused() {
    let set = ThemeSet::builtin_only();
    for name in set.names() {
        for depth in CHECKED {
            let p = resolve(set.get(name).expect("built-in theme"), depth);
            let ctx = format!("{name} at {depth:?}");
            let (focused, unfocused) = (p.selection, p.selection_unfocused);
            assert_ne!(focused.bg, unfocused.bg, "{ctx}: same selection bar");
            assert!(
                !unfocused.add_modifier.contains(Modifier::REVERSED),
                "{ctx}: unfocused selection fell back to reverse video"
            );
            // Against a known background, the unfocused bar must stand out
            // from it, but less than the focused bar does.
            let (Some(screen), Some(f), Some(u)) = (
                p.base.bg.and_then(rgb),
                focused.bg.and_then(rgb),
                unfocused.bg.and_then(rgb),
            ) else {
                continue;
            };
            let (rf, ru) = (ratio(f, screen), ratio(u, screen));
            assert!(ru > 1.1, "{ctx}: unfocused bar invisible ({ru:.2}:1)");
            assert!(
                ru < rf,
                "{ctx}: unfocused {ru:.2}:1 not weaker than {rf:.2}:1"
            );
        }
    }
    let plain = resolve(set.get("dark").expect("dark"), ColorDepth::NoColor);
    assert_eq!(
        plain.selection_unfocused,
        Style::new().add_modifier(Modifier::UNDERLINED)
    );
}
