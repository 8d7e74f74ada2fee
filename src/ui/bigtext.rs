//! Big digits for the wallboard: a 5-pixel-high font of numbers and the few
//! marks and units the wall needs (`1,234.56`, `2m13s`, `12.3M`, `∞`).
//!
//! Our own rather than `tui-big-text`: its releases that build against
//! ratatui 0.30 need a newer Rust than this crate's `rust-version`, and the
//! one that builds with it pulls in a second ratatui (0.29) whose widgets
//! cannot draw into our frames. A font this small is easy to own.
//!
//! Only characters of the font are drawn; anything else is skipped. The
//! wall only ever passes numbers it formatted itself, so no text from a
//! database or a message can reach the terminal this way.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

/// Pixel rows of every glyph.
const HEIGHT: usize = 5;

/// `#` is ink. Rows of one glyph are equally wide.
fn glyph(c: char) -> Option<[&'static str; HEIGHT]> {
    Some(match c {
        '0' => ["###", "#.#", "#.#", "#.#", "###"],
        '1' => [".#.", "##.", ".#.", ".#.", "###"],
        '2' => ["###", "..#", "###", "#..", "###"],
        '3' => ["###", "..#", "###", "..#", "###"],
        '4' => ["#.#", "#.#", "###", "..#", "..#"],
        '5' => ["###", "#..", "###", "..#", "###"],
        '6' => ["###", "#..", "###", "#.#", "###"],
        '7' => ["###", "..#", "..#", "..#", "..#"],
        '8' => ["###", "#.#", "###", "#.#", "###"],
        '9' => ["###", "#.#", "###", "..#", "###"],
        ',' => ["..", "..", "..", ".#", "#."],
        '.' => [".", ".", ".", ".", "#"],
        ':' => [".", "#", ".", "#", "."],
        // An en dash is an unknown count: drawn as a dash, never as a zero.
        '-' | '–' => ["...", "...", "###", "...", "..."],
        ' ' => ["..", "..", "..", "..", ".."],
        // Units of ages and abbreviated amounts. `s` is rounded so that
        // `13s` never reads as `135`.
        'd' => ["..#", "..#", "###", "#.#", "###"],
        'h' => ["#..", "#..", "###", "#.#", "#.#"],
        'm' => [".....", ".....", "####.", "#.#.#", "#.#.#"],
        's' => [".##", "#..", ".#.", "..#", "##."],
        'k' => ["#..", "#.#", "##.", "#.#", "#.#"],
        'M' => ["#...#", "##.##", "#.#.#", "#...#", "#...#"],
        'B' => ["##.", "#.#", "##.", "#.#", "##."],
        // A backlog that never drains at the current rates.
        '∞' => [".....", ".#.#.", "#.#.#", ".#.#.", "....."],
        _ => return None,
    })
}

/// How big the text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// One pixel is `2n` columns by `n` rows of full blocks (square on a
    /// terminal whose cells are twice as tall as wide).
    Block(u16),
    /// One pixel is one column by half a row (`▀ ▄ █`): 3 rows high.
    Half,
}

impl Scale {
    fn pixel_cols(self) -> u16 {
        match self {
            Scale::Block(n) => 2 * n,
            Scale::Half => 1,
        }
    }

    pub fn rows(self) -> u16 {
        match self {
            Scale::Block(n) => HEIGHT as u16 * n,
            Scale::Half => HEIGHT.div_ceil(2) as u16,
        }
    }
}

/// The glyphs of `text` the font has.
fn glyphs(text: &str) -> Vec<[&'static str; HEIGHT]> {
    text.chars().filter_map(glyph).collect()
}

/// Width in pixels: glyphs with one pixel between them.
fn pixel_width(glyphs: &[[&str; HEIGHT]]) -> u16 {
    let ink: usize = glyphs.iter().map(|g| g[0].len()).sum();
    (ink + glyphs.len().saturating_sub(1)) as u16
}

/// Columns `text` takes at `scale`.
pub fn width(text: &str, scale: Scale) -> u16 {
    pixel_width(&glyphs(text)).saturating_mul(scale.pixel_cols())
}

/// The largest scale (up to `Block(max)`) at which `text` fits in `area`;
/// `None` when not even half blocks fit, and plain text must do.
pub fn fit(text: &str, area: Rect, max: u16) -> Option<Scale> {
    let fits = |s: Scale| width(text, s) <= area.width && s.rows() <= area.height;
    (1..=max.max(1))
        .rev()
        .map(Scale::Block)
        .chain([Scale::Half])
        .find(|s| fits(*s))
}

/// Draws `text` at `scale`, centred in `area` (clipped if it does not fit).
pub fn draw(buf: &mut Buffer, area: Rect, text: &str, scale: Scale, style: Style) {
    let gl = glyphs(text);
    let w = pixel_width(&gl).saturating_mul(scale.pixel_cols());
    let x0 = area.x + area.width.saturating_sub(w) / 2;
    let y0 = area.y + area.height.saturating_sub(scale.rows()) / 2;
    let right = area.x.saturating_add(area.width);
    let bottom = area.y.saturating_add(area.height);
    let mut put = |x: u16, y: u16, symbol: &str| {
        if x >= area.x && x < right && y >= area.y && y < bottom {
            buf[(x, y)].set_symbol(symbol).set_style(style);
        }
    };
    let ink = |g: &[&str; HEIGHT], px: usize, py: usize| {
        g.get(py)
            .and_then(|row| row.as_bytes().get(px))
            .is_some_and(|b| *b == b'#')
    };
    let mut px0: u16 = 0;
    for g in &gl {
        let gw = g[0].len();
        for px in 0..gw {
            match scale {
                Scale::Block(n) => {
                    for py in 0..HEIGHT {
                        if !ink(g, px, py) {
                            continue;
                        }
                        let cx = x0 + (px0 + px as u16) * 2 * n;
                        let cy = y0 + py as u16 * n;
                        for dy in 0..n {
                            for dx in 0..2 * n {
                                put(cx + dx, cy + dy, "█");
                            }
                        }
                    }
                }
                Scale::Half => {
                    for row in 0..scale.rows() as usize {
                        let top = ink(g, px, 2 * row);
                        let low = ink(g, px, 2 * row + 1);
                        let symbol = match (top, low) {
                            (true, true) => "█",
                            (true, false) => "▀",
                            (false, true) => "▄",
                            (false, false) => continue,
                        };
                        put(x0 + px0 + px as u16, y0 + row as u16, symbol);
                    }
                }
            }
        }
        px0 += gw as u16 + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str, scale: Scale, w: u16, h: u16) -> Vec<String> {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        draw(&mut buf, area, text, scale, Style::default());
        (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect()
    }

    #[test]
    fn every_glyph_is_rectangular() {
        for c in "0123456789,.:- dhmskMB∞".chars() {
            let g = glyph(c).unwrap_or_else(|| panic!("no glyph for {c:?}"));
            assert!(g.iter().all(|r| r.len() == g[0].len()), "{c:?}");
        }
    }

    #[test]
    fn digits_are_drawn_in_blocks_and_half_blocks() {
        assert_eq!(
            rendered("10", Scale::Block(1), 14, 5),
            [
                "  ██    ██████",
                "████    ██  ██",
                "  ██    ██  ██",
                "  ██    ██  ██",
                "██████  ██████",
            ]
        );
        assert_eq!(rendered("7", Scale::Half, 3, 3), ["▀▀█", "  █", "  ▀"]);
    }

    #[test]
    fn fit_picks_the_largest_scale_that_fits_and_then_gives_up() {
        // "42" is 7 pixels wide, 5 high.
        assert_eq!(fit("42", Rect::new(0, 0, 28, 10), 4), Some(Scale::Block(2)));
        assert_eq!(fit("42", Rect::new(0, 0, 27, 10), 4), Some(Scale::Block(1)));
        assert_eq!(fit("42", Rect::new(0, 0, 10, 4), 4), Some(Scale::Half));
        assert_eq!(fit("42", Rect::new(0, 0, 6, 4), 4), None);
        assert_eq!(
            fit("42", Rect::new(0, 0, 300, 80), 3),
            Some(Scale::Block(3))
        );
    }

    #[test]
    fn characters_outside_the_font_are_not_drawn() {
        // An escape sequence or a letter never reaches the buffer.
        // (Digits inside one would be drawn as blocks: harmless shapes.)
        assert_eq!(width("\u{1b}[Jx7", Scale::Half), width("7", Scale::Half));
        let lines = rendered("\u{1b}7", Scale::Half, 3, 3);
        assert_eq!(lines, rendered("7", Scale::Half, 3, 3));
    }
}
