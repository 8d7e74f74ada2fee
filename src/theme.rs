//! Themes: TOML files that name colour *slots* (text, warn, selection...),
//! resolved into a [`Palette`] of ratatui styles for the colour depth the
//! terminal has.
//!
//! Four themes are built in (embedded with `include_str!`, so the binary
//! needs no files at run time). Users add themes by dropping `*.toml` files
//! into `paths::user_theme_dir()` (a built-in's name is refused, never
//! silently replaced); a user theme may leave slots
//! out and inherits them from `dark`, so a one-line tweak is a one-line file.
//! A broken user file never stops the cockpit: it is skipped with one warning
//! line that names the file, line and column.

use crate::model::Family;
use crate::toml_errors;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How many colours the terminal can show. Decides how theme colours are
/// degraded in [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    /// `NO_COLOR` or a dumb terminal: only bold, dim and reverse.
    NoColor,
}

/// Colour depth from the environment (`get` is `std::env::var` in the binary,
/// a table in tests).
///
/// Terminals do not announce their depth reliably; these are the conventions
/// that the common ones (xterm, tmux, screen, the Linux console, SSH clients)
/// follow. When in doubt we pick 16 colours: wrong-but-readable beats
/// escape codes the terminal shows as garbage.
pub fn detect(get: impl Fn(&str) -> Option<String>) -> ColorDepth {
    detect_why(get).0
}

/// [`detect`] plus the variable that decided it, as `themes list` shows it
/// (so what it reports is, by construction, what the cockpit uses).
pub fn detect_why(get: impl Fn(&str) -> Option<String>) -> (ColorDepth, String) {
    // https://no-color.org: set and non-empty means no colour, whatever its value.
    if get("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return (ColorDepth::NoColor, "NO_COLOR is set".into());
    }
    let term = get("TERM").unwrap_or_default();
    let shown_term = if term.is_empty() {
        "TERM is not set".to_string()
    } else {
        format!("TERM={}", toml_errors::escape(&term))
    };
    if term == "dumb" {
        return (ColorDepth::NoColor, shown_term);
    }
    let colorterm = get("COLORTERM").unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" {
        return (ColorDepth::TrueColor, format!("COLORTERM={colorterm}"));
    }
    if term.ends_with("-direct") {
        return (ColorDepth::TrueColor, shown_term);
    }
    if term.contains("256color") {
        return (ColorDepth::Ansi256, shown_term);
    }
    (ColorDepth::Ansi16, shown_term)
}

impl ColorDepth {
    /// How `themes list` and the docs name the depth.
    pub fn describe(self) -> &'static str {
        match self {
            ColorDepth::TrueColor => "24-bit colour",
            ColorDepth::Ansi256 => "256 colours",
            ColorDepth::Ansi16 => "16 colours",
            ColorDepth::NoColor => "no colour (bold, dim and reverse video only)",
        }
    }
}

/// The theme to use when neither `--theme` nor the config names one.
///
/// `COLORFGBG` ("fg;bg", set by rxvt, Konsole and some others) is the only
/// widespread hint about the background; its last field 7 or 15 is a light
/// grey or white background.
pub fn default_theme_name(depth: ColorDepth, colorfgbg: Option<&str>) -> &'static str {
    if matches!(depth, ColorDepth::Ansi16 | ColorDepth::NoColor) {
        return "ansi16";
    }
    let light_bg = colorfgbg
        .and_then(|v| v.rsplit(';').next())
        .is_some_and(|bg| matches!(bg.trim(), "7" | "15"));
    if light_bg { "light" } else { "dark" }
}

/// Declares one table of colour slots: the partial form read from a file
/// (every slot optional, unknown keys rejected so typos are caught) and the
/// complete form a [`Theme`] holds after inheriting from its base.
macro_rules! slot_table {
    ($partial:ident, $full:ident, $table:literal { $($slot:ident),+ $(,)? }) => {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $partial {
            $( $slot: Option<ColorSpec>, )+
        }

        #[derive(Debug, Clone, Copy, PartialEq)]
        struct $full {
            $( $slot: Color, )+
        }

        impl $full {
            const TABLE: &'static str = $table;
            const NAMES: &'static [&'static str] = &[$(stringify!($slot)),+];

            fn uniform(color: Color) -> Self {
                Self { $( $slot: color, )+ }
            }

            fn inherit(base: &Self, over: &$partial) -> Self {
                Self { $( $slot: over.$slot.map_or(base.$slot, |c| c.0), )+ }
            }

            fn get(&self, name: &str) -> Option<Color> {
                match name {
                    $( stringify!($slot) => Some(self.$slot), )+
                    _ => None,
                }
            }
        }

        impl $partial {
            /// Slots the file left out (for the built-in completeness test).
            #[cfg(test)]
            fn missing(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if self.$slot.is_none() { out.push(stringify!($slot)); } )+
                out
            }
        }
    };
}

slot_table!(PartialColors, Colors, "colors" {
    background, text, muted, accent, ok, warn, critical,
    selection_bg, selection_fg, selection_unfocused_bg, selection_unfocused_fg,
    border, border_focused,
    title, header, sparkline, badge_fg, badge_demo, badge_readonly,
});

slot_table!(PartialSources, Sources, "sources" {
    app, payment, inventory, fulfillment, logistics, supplier, finance, risk, erp, ops,
});

slot_table!(PartialFamilies, Families, "families" { ghost, split, zombie });

/// A colour as written in a theme file.
#[derive(Debug, Clone, Copy)]
struct ColorSpec(Color);

impl<'de> Deserialize<'de> for ColorSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ColorSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r##"a colour: "#rrggbb", an ANSI name such as "red", "lightblue" or "darkgray", "reset", or an index 0-255"##)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ColorSpec, E> {
                parse_color(v).map(ColorSpec).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ColorSpec, E> {
                u8::try_from(v)
                    .map(|i| ColorSpec(Color::Indexed(i)))
                    .map_err(|_| E::custom(format!("colour index {v} is out of range; use 0-255")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ColorSpec, E> {
                u8::try_from(v)
                    .map(|i| ColorSpec(Color::Indexed(i)))
                    .map_err(|_| E::custom(format!("colour index {v} is out of range; use 0-255")))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Parses `#rrggbb` (or `#rgb`), one of the 16 ANSI names, `reset`, or an
/// index written as a string. Names are forgiving about case, `_`, `-` and
/// spaces, `grey` and `bright*`, because people copy them from other tools.
fn parse_color(raw: &str) -> Result<Color, String> {
    let s = raw.trim().to_ascii_lowercase();
    let bad = || {
        let shown: String = toml_errors::escape(raw).chars().take(40).collect();
        format!(
            r##"invalid colour "{shown}": use "#rrggbb", an ANSI name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, white, or light+colour such as lightred), "reset", or 0-255"##
        )
    };
    if let Some(hex) = s.strip_prefix('#') {
        let digits: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        return match digits[..] {
            [r1, r2, g1, g2, b1, b2] => Ok(Color::Rgb(r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2)),
            [r, g, b] => Ok(Color::Rgb(r * 17, g * 17, b * 17)),
            _ => Err(bad()),
        };
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u8>()
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {s} is out of range; use 0-255"));
    }
    let name: String = s
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .replace("grey", "gray")
        .replace("bright", "light");
    Ok(match name.as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" | "lightblack" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" | "lightwhite" => Color::White,
        _ => return Err(bad()),
    })
}

/// The whole theme file. `name` defaults to the file name without `.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    colors: PartialColors,
    #[serde(default)]
    sources: PartialSources,
    #[serde(default)]
    families: PartialFamilies,
}

/// A theme with every slot filled in (inherited slots included).
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub description: String,
    colors: Colors,
    sources: Sources,
    families: Families,
}

impl Theme {
    /// The terminal's own colours everywhere. Only used if the embedded
    /// `dark.toml` failed to parse (a test makes sure it cannot), so that the
    /// cockpit still gets a usable "dark" theme rather than a panic.
    fn terminal_default() -> Theme {
        Theme {
            name: "dark".into(),
            description: "the terminal's own colours".into(),
            colors: Colors::uniform(Color::Reset),
            sources: Sources::uniform(Color::Reset),
            families: Families::uniform(Color::Reset),
        }
    }

    /// The colour a slot has in this theme, before degrading to a colour
    /// depth. `slot` is a key of `[colors]`, `[sources]` or `[families]`
    /// (the three tables share no key), or `table.key`.
    pub fn color(&self, slot: &str) -> Option<Color> {
        let (table, key) = slot.split_once('.').unwrap_or(("", slot));
        let pick = |t: &str| table.is_empty() || table == t;
        (pick(Colors::TABLE).then(|| self.colors.get(key)).flatten())
            .or_else(|| {
                pick(Sources::TABLE)
                    .then(|| self.sources.get(key))
                    .flatten()
            })
            .or_else(|| {
                pick(Families::TABLE)
                    .then(|| self.families.get(key))
                    .flatten()
            })
    }

    /// Every slot name, as `table.key`.
    pub fn slot_names() -> Vec<String> {
        let tables: [(&str, &[&str]); 3] = [
            (Colors::TABLE, Colors::NAMES),
            (Sources::TABLE, Sources::NAMES),
            (Families::TABLE, Families::NAMES),
        ];
        tables
            .iter()
            .flat_map(|(t, names)| names.iter().map(move |n| format!("{t}.{n}")))
            .collect()
    }
}

/// A theme-file problem: message plus where in the source it is, if known.
struct ThemeError {
    span: Option<Range<usize>>,
    message: String,
}

/// Longest theme name: names are typed after `--theme` and `:theme` and
/// shown in the status bar.
const MAX_NAME_CHARS: usize = 40;

/// A theme file is a page of colours; anything much bigger is the wrong file.
const MAX_THEME_BYTES: u64 = 256 * 1024;

fn parse_theme(src: &str, default_name: &str, base: &Theme) -> Result<Theme, ThemeError> {
    let file: ThemeFile = toml::from_str(src).map_err(|e| ThemeError {
        span: e.span(),
        message: toml_errors::message(&e, src),
    })?;
    let from_file_name = file.name.is_none();
    let name = file.name.unwrap_or_else(|| default_name.to_string());
    let usable = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !usable {
        let shown: String = toml_errors::escape(&name)
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        let rule = format!("1-{MAX_NAME_CHARS} letters, digits, '-', '_' or '.'");
        let message = if from_file_name {
            // No `name` key: the name came from the file name, so say so
            // rather than point at a key that is not there.
            format!(
                "the file name \"{shown}\" is not a usable theme name ({rule}); rename the file or add name = \"my-theme\""
            )
        } else if name.is_empty() {
            r#"theme name is empty; give it one such as name = "my-dark" (it is what --theme and :theme take)"#.to_string()
        } else {
            format!("theme name \"{shown}\" is not usable: use {rule}")
        };
        return Err(ThemeError {
            span: toml_errors::locate(src, &["name"]),
            message,
        });
    }
    // The description is shown by `themes list`; escape it like any outside text.
    let description = toml_errors::one_line(file.description.as_deref().unwrap_or(""));
    Ok(Theme {
        name,
        description,
        colors: Colors::inherit(&base.colors, &file.colors),
        sources: Sources::inherit(&base.sources, &file.sources),
        families: Families::inherit(&base.families, &file.families),
    })
}

/// The embedded themes, in cycling order. `dark` comes first: the others
/// (and user themes) inherit missing slots from it.
const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("ansi16", include_str!("../themes/ansi16.toml")),
];

/// The themes available to this run, in the order `t` cycles through them.
#[derive(Debug, Clone)]
pub struct ThemeSet {
    themes: Vec<Theme>,
}

impl ThemeSet {
    /// The four embedded themes: dark, light, high-contrast, ansi16.
    pub fn builtin_only() -> ThemeSet {
        let mut themes: Vec<Theme> = Vec::with_capacity(BUILTIN.len());
        for (name, src) in BUILTIN {
            let base = themes
                .first()
                .cloned()
                .unwrap_or_else(Theme::terminal_default);
            // Embedded files are checked by `builtin_themes_parse_and_define_every_slot`;
            // should one still fail, skipping it beats refusing to start.
            match parse_theme(src, name, &base) {
                Ok(theme) => themes.push(theme),
                Err(_) if name == "dark" => themes.push(Theme::terminal_default()),
                Err(_) => {}
            }
        }
        ThemeSet { themes }
    }

    /// Built-ins plus every `*.toml` in `user_dir`, in file-name order. A user
    /// theme with a built-in's name replaces it in place (so `t` still cycles
    /// in the familiar order); new names are appended. Broken files are
    /// skipped, each with one warning line; a missing directory is normal
    /// (most users have no themes of their own) and gives no warning.
    pub fn load(user_dir: Option<&Path>) -> (ThemeSet, Vec<String>) {
        let mut set = ThemeSet::builtin_only();
        let mut warnings = Vec::new();
        let Some(dir) = user_dir else {
            return (set, warnings);
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (set, warnings),
            Err(e) => {
                warnings.push(format!(
                    "cannot read theme directory {}: {}; using the built-in themes",
                    toml_errors::show_path(dir),
                    toml_errors::one_line(&e.to_string())
                ));
                return (set, warnings);
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"))
            })
            .collect();
        files.sort();

        let base = set
            .get("dark")
            .cloned()
            .unwrap_or_else(Theme::terminal_default);
        // Which user file defined each name, to point out duplicates.
        let mut defined_by: Vec<(String, PathBuf)> = Vec::new();
        for path in files {
            match load_user_theme(&path, &base) {
                Ok(theme) => {
                    if let Some((_, earlier)) = defined_by.iter().find(|(n, _)| *n == theme.name) {
                        warnings.push(format!(
                            "{}: theme \"{}\" is also defined in {}; using this file",
                            toml_errors::show_path(&path),
                            theme.name,
                            toml_errors::show_path(earlier)
                        ));
                    }
                    defined_by.push((theme.name.clone(), path));
                    set.insert(theme);
                }
                Err(warning) => warnings.push(warning),
            }
        }
        (set, warnings)
    }

    fn insert(&mut self, theme: Theme) {
        match self.themes.iter_mut().find(|t| t.name == theme.name) {
            Some(slot) => *slot = theme,
            None => self.themes.push(theme),
        }
    }

    /// The theme called `name`; case-insensitive as a fallback, since names
    /// are typed at a `:theme` prompt.
    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.name == name).or_else(|| {
            self.themes
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
        })
    }

    /// Theme names in cycling order.
    pub fn names(&self) -> Vec<&str> {
        self.themes.iter().map(|t| t.name.as_str()).collect()
    }

    /// The theme after `name` in cycling order (the `t` key); wraps around,
    /// and an unknown name starts the cycle from the first theme.
    pub fn next_after(&self, name: &str) -> &str {
        let Some(first) = self.themes.first() else {
            return "dark";
        };
        match self.themes.iter().position(|t| t.name == name) {
            Some(i) => self.themes[(i + 1) % self.themes.len()].name.as_str(),
            None => first.name.as_str(),
        }
    }
}

/// Reads and parses one user theme; the error is the finished warning line.
fn load_user_theme(path: &Path, base: &Theme) -> Result<Theme, String> {
    let skipped = "theme file skipped";
    let src = toml_errors::read_text(path, MAX_THEME_BYTES).map_err(|e| {
        let at = match e {
            toml_errors::ReadError::NotUtf8 { line, col, .. } => {
                format!("{}:{line}:{col}", toml_errors::show_path(path))
            }
            _ => toml_errors::show_path(path),
        };
        format!("{at}: {}; {skipped}", e.describe(MAX_THEME_BYTES))
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let theme = parse_theme(&src, &stem, base).map_err(|e| {
        format!(
            "{}: {}; {skipped}",
            toml_errors::location(path, &src, e.span),
            e.message
        )
    })?;
    // A file called dark.toml used to replace the built-in dark without a
    // word: whoever picks `dark` (the default on most terminals) got it, and
    // the colours on a shared bastion changed for everyone. A built-in name
    // means the built-in theme; a variant takes a name of its own.
    if let Some((builtin, _)) = BUILTIN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&theme.name))
    {
        let span = toml_errors::locate(&src, &["name"]);
        let fix = if span.is_some() {
            format!("name = \"my-{builtin}\"")
        } else {
            format!("rename the file or add name = \"my-{builtin}\"")
        };
        return Err(format!(
            "{}: theme \"{}\" has the name of a built-in theme, which it would silently replace: {fix} and pick it with --theme or theme = \"…\"; {skipped}",
            toml_errors::location(path, &src, span),
            theme.name
        ));
    }
    Ok(theme)
}

/// Ready-to-use styles for one theme at one colour depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// Whole-screen default: text on background.
    pub base: Style,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub critical: Style,
    pub title: Style,
    pub header: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selection: Style,
    /// The cursor row of a pane without keyboard focus: still findable, but
    /// weaker than `selection` so the focused pane is obvious.
    pub selection_unfocused: Style,
    pub sparkline: Style,
    pub badge_demo: Style,
    pub badge_readonly: Style,
    /// Indexed like `Sources::NAMES`.
    sources: Vec<Style>,
    /// Indexed like `Family::ALL`.
    families: [Style; 3],
}

impl Default for Palette {
    /// No colours, only modifiers: readable on any terminal. Used when no
    /// theme could be resolved.
    fn default() -> Self {
        resolve(&Theme::terminal_default(), ColorDepth::NoColor)
    }
}

impl Palette {
    /// Style for an anomaly family.
    pub fn family(&self, f: Family) -> Style {
        let i = Family::ALL.iter().position(|x| *x == f).unwrap_or(0);
        self.families.get(i).copied().unwrap_or(self.text)
    }

    /// Style for an event source / system name in the timeline; names come
    /// from data, so unknown ones fall back to plain text.
    pub fn source(&self, name: &str) -> Style {
        Sources::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name.trim()))
            .and_then(|i| self.sources.get(i).copied())
            .unwrap_or(self.text)
    }

    /// Every style by slot name (tests and theme previews).
    pub fn slots(&self) -> Vec<(&'static str, Style)> {
        let mut out = vec![
            ("base", self.base),
            ("text", self.text),
            ("muted", self.muted),
            ("accent", self.accent),
            ("ok", self.ok),
            ("warn", self.warn),
            ("critical", self.critical),
            ("title", self.title),
            ("header", self.header),
            ("border", self.border),
            ("border_focused", self.border_focused),
            ("selection", self.selection),
            ("selection_unfocused", self.selection_unfocused),
            ("sparkline", self.sparkline),
            ("badge_demo", self.badge_demo),
            ("badge_readonly", self.badge_readonly),
        ];
        out.extend(
            Sources::NAMES
                .iter()
                .copied()
                .zip(self.sources.iter().copied()),
        );
        out.extend(
            Family::ALL
                .iter()
                .map(|f| f.as_str())
                .zip(self.families.iter().copied()),
        );
        out
    }
}

/// Builds the styles of `theme` for `depth`.
///
/// Colour carries meaning at every depth but `NoColor`; there, modifiers take
/// over so the cockpit stays usable: selection and badges reversed, critical
/// bold+reversed, warn/title/header/focused border bold, muted dim.
pub fn resolve(theme: &Theme, depth: ColorDepth) -> Palette {
    let c = &theme.colors;
    let map = |color: Color| degrade(color, depth);
    let fg = |color: Color| match map(color) {
        Some(col) => Style::new().fg(col),
        None => Style::new(),
    };
    let filled = |fore: Color, back: Color| {
        let mut s = fg(fore);
        if let Some(b) = map(back) {
            s = s.bg(b);
        }
        // A filled slot must stand out from the screen. When the theme's
        // colour is the background (or became it when degraded), or there is
        // no colour at all, reverse video does the job.
        if map(back).is_none() || map(back) == map(c.background) {
            s = s.add_modifier(Modifier::REVERSED);
        }
        s
    };
    let no_color = depth == ColorDepth::NoColor;
    let when_plain = |m: Modifier| if no_color { m } else { Modifier::empty() };

    let base = match map(c.background) {
        Some(b) => fg(c.text).bg(b),
        None => fg(c.text),
    };

    Palette {
        base,
        text: fg(c.text),
        muted: fg(c.muted).add_modifier(when_plain(Modifier::DIM)),
        accent: fg(c.accent),
        ok: fg(c.ok),
        warn: fg(c.warn).add_modifier(when_plain(Modifier::BOLD)),
        critical: fg(c.critical)
            .add_modifier(Modifier::BOLD)
            .add_modifier(when_plain(Modifier::REVERSED)),
        title: fg(c.title).add_modifier(Modifier::BOLD),
        header: fg(c.header).add_modifier(Modifier::BOLD),
        border: fg(c.border),
        border_focused: fg(c.border_focused).add_modifier(Modifier::BOLD),
        selection: filled(c.selection_fg, c.selection_bg),
        // Without colour, reverse video is the focused selection; underline
        // is the weaker mark that still shows where the cursor is.
        selection_unfocused: if no_color {
            Style::new().add_modifier(Modifier::UNDERLINED)
        } else {
            filled(c.selection_unfocused_fg, c.selection_unfocused_bg)
        },
        sparkline: fg(c.sparkline),
        badge_demo: filled(c.badge_fg, c.badge_demo).add_modifier(Modifier::BOLD),
        badge_readonly: filled(c.badge_fg, c.badge_readonly).add_modifier(Modifier::BOLD),
        sources: Sources::NAMES
            .iter()
            .map(|n| theme.sources.get(n).map_or(Style::new(), fg))
            .collect(),
        families: [
            fg(theme.families.ghost),
            fg(theme.families.split),
            fg(theme.families.zombie),
        ],
    }
}

/// A theme colour as the terminal at `depth` can show it; `None` at NoColor.
fn degrade(color: Color, depth: ColorDepth) -> Option<Color> {
    match depth {
        ColorDepth::NoColor => None,
        ColorDepth::TrueColor => Some(color),
        ColorDepth::Ansi256 => Some(match color {
            Color::Rgb(r, g, b) => Color::Indexed(nearest_xterm256(r, g, b)),
            other => other,
        }),
        ColorDepth::Ansi16 => Some(match color {
            Color::Rgb(r, g, b) => nearest_ansi16(r, g, b),
            Color::Indexed(i) => match ANSI16.get(usize::from(i)) {
                Some(named) => *named,
                None => {
                    let (r, g, b) = xterm256_rgb(i);
                    nearest_ansi16(r, g, b)
                }
            },
            other => other,
        }),
    }
}

/// ANSI colours by index 0-15.
const ANSI16: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// Channel levels of the xterm 6x6x6 colour cube (indexes 16-231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn xterm256_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        // The first 16 depend on the terminal's palette; these are xterm's.
        0..=15 => [
            (0, 0, 0),
            (205, 0, 0),
            (0, 205, 0),
            (205, 205, 0),
            (0, 0, 238),
            (205, 0, 205),
            (0, 205, 205),
            (229, 229, 229),
            (127, 127, 127),
            (255, 0, 0),
            (0, 255, 0),
            (255, 255, 0),
            (92, 92, 255),
            (255, 0, 255),
            (0, 255, 255),
            (255, 255, 255),
        ][usize::from(i)],
        16..=231 => {
            let n = i - 16;
            (
                CUBE[usize::from(n / 36)],
                CUBE[usize::from((n / 6) % 6)],
                CUBE[usize::from(n % 6)],
            )
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

/// Nearest colour among xterm's cube and grey ramp (16-255). The first 16
/// are left out on purpose: terminals redefine them, so they are not stable
/// approximations of an RGB value.
fn nearest_xterm256(r: u8, g: u8, b: u8) -> u8 {
    let dist = |(r2, g2, b2): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, r2) + d(g, g2) + d(b, b2)
    };
    let cube_index = |v: u8| {
        CUBE.iter()
            .enumerate()
            .min_by_key(|(_, l)| (i32::from(**l) - i32::from(v)).abs())
            .map_or(0, |(i, _)| i as u8)
    };
    let cube = 16 + 36 * cube_index(r) + 6 * cube_index(g) + cube_index(b);
    let avg = ((u16::from(r) + u16::from(g) + u16::from(b)) / 3) as u8;
    let grey = 232 + (avg.saturating_sub(3) / 10).min(23);
    if dist(xterm256_rgb(grey)) < dist(xterm256_rgb(cube)) {
        grey
    } else {
        cube
    }
}

/// Nearest of the 16 ANSI colours by hue rather than RGB distance: the muted
/// pastels of modern themes are closer to grey than to any ANSI colour in RGB
/// terms, which would turn warn and critical into the same grey. Hue keeps
/// red red and yellow yellow; brightness picks the normal or light variant.
fn nearest_ansi16(r: u8, g: u8, b: u8) -> Color {
    let (rf, gf, bf) = (f32::from(r), f32::from(g), f32::from(b));
    let max = rf.max(gf).max(bf);
    let min = rf.min(gf).min(bf);
    let chroma = max - min;
    let lightness = (max + min) / 2.0;
    if chroma < 48.0 {
        return match lightness {
            l if l < 64.0 => Color::Black,
            l if l < 150.0 => Color::DarkGray,
            l if l < 215.0 => Color::Gray,
            _ => Color::White,
        };
    }
    let hue = if max == rf {
        60.0 * ((gf - bf) / chroma).rem_euclid(6.0)
    } else if max == gf {
        60.0 * ((bf - rf) / chroma + 2.0)
    } else {
        60.0 * ((rf - gf) / chroma + 4.0)
    };
    let bright = max >= 200.0;
    let pick = |normal: Color, light: Color| if bright { light } else { normal };
    match hue {
        h if !(30.0..330.0).contains(&h) => pick(Color::Red, Color::LightRed),
        h if h < 90.0 => pick(Color::Yellow, Color::LightYellow),
        h if h < 150.0 => pick(Color::Green, Color::LightGreen),
        h if h < 210.0 => pick(Color::Cyan, Color::LightCyan),
        h if h < 270.0 => pick(Color::Blue, Color::LightBlue),
        _ => pick(Color::Magenta, Color::LightMagenta),
    }
}

#[cfg(test)]
mod contrast;

#[cfg(test)]
mod tests {
    use super::*;

    const DEPTHS: [ColorDepth; 4] = [
        ColorDepth::TrueColor,
        ColorDepth::Ansi256,
        ColorDepth::Ansi16,
        ColorDepth::NoColor,
    ];

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn builtin_themes_parse_and_define_every_slot() {
        for (name, src) in BUILTIN {
            let file: ThemeFile = match toml::from_str(src) {
                Ok(f) => f,
                Err(e) => panic!("themes/{name}.toml: {e}"),
            };
            assert_eq!(file.name.as_deref(), Some(name));
            assert!(
                !file.description.unwrap_or_default().is_empty(),
                "{name}: description"
            );
            // Built-ins must not lean on inheritance: light inheriting dark's
            // background would be unreadable.
            assert_eq!(file.colors.missing(), Vec::<&str>::new(), "{name} [colors]");
            assert_eq!(
                file.sources.missing(),
                Vec::<&str>::new(),
                "{name} [sources]"
            );
            assert_eq!(
                file.families.missing(),
                Vec::<&str>::new(),
                "{name} [families]"
            );
        }
        let set = ThemeSet::builtin_only();
        assert_eq!(
            set.names(),
            vec!["dark", "light", "high-contrast", "ansi16"]
        );
        let dark = set.get("dark").expect("dark");
        assert_ne!(*dark, Theme::terminal_default());
    }

    #[test]
    fn no_color_palettes_have_no_colours_but_keep_the_cues() {
        let set = ThemeSet::builtin_only();
        for name in set.names() {
            let p = resolve(set.get(name).expect("theme"), ColorDepth::NoColor);
            for (slot, style) in p.slots() {
                assert_eq!(style.fg, None, "{name}.{slot} fg");
                assert_eq!(style.bg, None, "{name}.{slot} bg");
                assert_eq!(style.underline_color, None, "{name}.{slot} underline");
            }
            assert!(p.selection.add_modifier.contains(Modifier::REVERSED));
            assert!(
                p.critical
                    .add_modifier
                    .contains(Modifier::BOLD | Modifier::REVERSED)
            );
            assert!(p.warn.add_modifier.contains(Modifier::BOLD));
            assert!(p.title.add_modifier.contains(Modifier::BOLD));
            assert!(p.header.add_modifier.contains(Modifier::BOLD));
            assert!(p.muted.add_modifier.contains(Modifier::DIM));
            assert!(p.badge_demo.add_modifier.contains(Modifier::REVERSED));
            assert!(p.badge_readonly.add_modifier.contains(Modifier::REVERSED));
            assert!(p.border_focused.add_modifier.contains(Modifier::BOLD));
        }
        assert_eq!(Palette::default().selection.fg, None);
    }

    fn is_ansi_named(c: Option<Color>) -> bool {
        !matches!(c, Some(Color::Rgb(..) | Color::Indexed(_)))
    }

    #[test]
    fn ansi16_palettes_use_only_named_colours() {
        let set = ThemeSet::builtin_only();
        for name in set.names() {
            let p = resolve(set.get(name).expect("theme"), ColorDepth::Ansi16);
            for (slot, s) in p.slots() {
                assert!(
                    is_ansi_named(s.fg) && is_ansi_named(s.bg),
                    "{name}.{slot}: {s:?}"
                );
            }
        }
        // The ansi16 theme itself is written with ANSI names only.
        let ansi = set.get("ansi16").expect("ansi16");
        for slot in Theme::slot_names() {
            let c = ansi.color(&slot);
            assert!(is_ansi_named(c), "ansi16 {slot} = {c:?}");
        }
    }

    #[test]
    fn ansi256_palettes_use_no_rgb() {
        let set = ThemeSet::builtin_only();
        for name in set.names() {
            let p = resolve(set.get(name).expect("theme"), ColorDepth::Ansi256);
            for (slot, s) in p.slots() {
                assert!(!matches!(s.fg, Some(Color::Rgb(..))), "{name}.{slot}");
                assert!(!matches!(s.bg, Some(Color::Rgb(..))), "{name}.{slot}");
            }
        }
    }

    #[test]
    fn ok_warn_critical_differ_and_selection_shows_in_every_theme_and_depth() {
        let set = ThemeSet::builtin_only();
        for name in set.names() {
            for depth in DEPTHS {
                let p = resolve(set.get(name).expect("theme"), depth);
                let ctx = format!("{name} at {depth:?}");
                assert_ne!(p.ok, p.warn, "{ctx}: ok = warn");
                assert_ne!(p.ok, p.critical, "{ctx}: ok = critical");
                assert_ne!(p.warn, p.critical, "{ctx}: warn = critical");
                for (slot, s) in [
                    ("selection", p.selection),
                    ("badge_demo", p.badge_demo),
                    ("badge_readonly", p.badge_readonly),
                ] {
                    let stands_out = s.add_modifier.contains(Modifier::REVERSED)
                        || (s.bg.is_some() && s.bg != p.base.bg && s.fg != s.bg);
                    assert!(stands_out, "{ctx}: {slot} {s:?} on {:?}", p.base);
                }
                if depth != ColorDepth::NoColor {
                    // "reset" on both is the terminal's own pair, readable by definition.
                    if p.base.bg != Some(Color::Reset) {
                        assert_ne!(p.base.fg, p.base.bg, "{ctx}: text on background");
                    }
                    assert_ne!(p.badge_demo, p.badge_readonly, "{ctx}: badges alike");
                }
            }
        }
    }

    #[test]
    fn detect_table() {
        let cases: &[(&[(&str, &str)], ColorDepth)] = &[
            (&[], ColorDepth::Ansi16),
            (
                &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
                ColorDepth::NoColor,
            ),
            (
                &[("NO_COLOR", ""), ("COLORTERM", "truecolor")],
                ColorDepth::TrueColor,
            ),
            (
                &[("TERM", "dumb"), ("COLORTERM", "truecolor")],
                ColorDepth::NoColor,
            ),
            (
                &[("TERM", "xterm"), ("COLORTERM", "truecolor")],
                ColorDepth::TrueColor,
            ),
            (
                &[("TERM", "xterm"), ("COLORTERM", "24bit")],
                ColorDepth::TrueColor,
            ),
            (&[("TERM", "xterm-256color")], ColorDepth::Ansi256),
            (&[("TERM", "tmux-256color")], ColorDepth::Ansi256),
            (&[("TERM", "screen-256color")], ColorDepth::Ansi256),
            (&[("TERM", "xterm-direct")], ColorDepth::TrueColor),
            (&[("TERM", "xterm")], ColorDepth::Ansi16),
            (&[("TERM", "linux")], ColorDepth::Ansi16),
            (&[("TERM", "screen")], ColorDepth::Ansi16),
        ];
        for (vars, want) in cases {
            assert_eq!(detect(env(vars)), *want, "{vars:?}");
        }
    }

    #[test]
    fn default_theme_names() {
        use ColorDepth::*;
        assert_eq!(default_theme_name(Ansi16, Some("0;15")), "ansi16");
        assert_eq!(default_theme_name(NoColor, None), "ansi16");
        assert_eq!(default_theme_name(TrueColor, None), "dark");
        assert_eq!(default_theme_name(TrueColor, Some("15;0")), "dark");
        assert_eq!(default_theme_name(TrueColor, Some("0;15")), "light");
        assert_eq!(default_theme_name(Ansi256, Some("0;default;7")), "light");
        assert_eq!(default_theme_name(Ansi256, Some("garbage")), "dark");
        assert_eq!(default_theme_name(Ansi256, Some("")), "dark");
    }

    #[test]
    fn next_after_cycles_through_all_and_wraps() {
        let set = ThemeSet::builtin_only();
        let mut seen = vec![];
        let mut name = set.names()[0].to_string();
        for _ in 0..set.names().len() {
            seen.push(name.clone());
            name = set.next_after(&name).to_string();
        }
        assert_eq!(name, "dark", "wraps to the first");
        assert_eq!(seen, set.names());
        assert_eq!(set.next_after("no-such-theme"), "dark");
        assert_eq!(set.next_after("ansi16"), "dark");
    }

    #[test]
    fn user_dir_override_and_broken_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("my-light.toml"),
            "name = \"my-light\"\ndescription = \"mine\"\n[colors]\naccent = \"#ff0000\"\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("mine.toml"), "[colors]\nok = 46\n").expect("write");
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"broken\"\n[colors]\nacent = \"red\"\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a theme").expect("write");

        let (set, warnings) = ThemeSet::load(Some(dir.path()));
        assert_eq!(
            set.names(),
            vec![
                "dark",
                "light",
                "high-contrast",
                "ansi16",
                "mine",
                "my-light"
            ]
        );
        let light = set.get("my-light").expect("my-light");
        assert_eq!(light.description, "mine");
        assert_eq!(light.color("accent"), Some(Color::Rgb(255, 0, 0)));
        // Omitted slots come from dark, not from the built-in light.
        let dark = set.get("dark").expect("dark");
        assert_eq!(light.color("background"), dark.color("background"));
        assert_eq!(
            set.get("mine").and_then(|t| t.color("ok")),
            Some(Color::Indexed(46))
        );

        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        let want = format!("{}:3:1: ", dir.path().join("broken.toml").display());
        assert!(w.starts_with(&want), "{w}");
        assert!(w.contains("unknown field `acent`"), "{w}");
        assert!(!w.contains('\n'));
    }

    #[test]
    fn a_user_theme_never_replaces_a_built_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        // By its name key, and by its file name alone.
        std::fs::write(
            dir.path().join("mine.toml"),
            "description = \"x\"\nname = \"Dark\"\n[colors]\naccent = \"#ff0000\"\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("light.toml"), "[colors]\nok = 46\n").expect("write");
        let (set, warnings) = ThemeSet::load(Some(dir.path()));
        let builtin = ThemeSet::builtin_only();
        assert_eq!(set.names(), builtin.names());
        assert_eq!(set.get("dark"), builtin.get("dark"));
        assert_eq!(set.get("light"), builtin.get("light"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let light = dir.path().join("light.toml").display().to_string();
        let mine = dir.path().join("mine.toml").display().to_string();
        assert_eq!(
            warnings[0],
            format!(
                "{light}: theme \"light\" has the name of a built-in theme, which it would silently replace: rename the file or add name = \"my-light\" and pick it with --theme or theme = \"…\"; theme file skipped"
            )
        );
        assert!(
            warnings[1].starts_with(&format!(
                "{mine}:2:8: theme \"Dark\" has the name of a built-in theme"
            )),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("name = \"my-dark\""), "{warnings:?}");
    }

    #[test]
    fn unusable_file_name_is_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("my theme.toml");
        std::fs::write(&path, "[colors]\nok = \"green\"\n").expect("write");
        let (set, warnings) = ThemeSet::load(Some(dir.path()));
        assert_eq!(set.names().len(), 4);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("the file name \"my theme\" is not a usable theme name"),
            "{warnings:?}"
        );
    }

    #[test]
    fn light_keeps_text_and_muted_apart_on_16_colours() {
        let set = ThemeSet::builtin_only();
        for name in set.names() {
            let p = resolve(set.get(name).expect("theme"), ColorDepth::Ansi16);
            assert_ne!(p.text, p.muted, "{name}");
        }
    }

    #[test]
    fn missing_user_dir_is_silent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (set, warnings) = ThemeSet::load(Some(&dir.path().join("nope")));
        assert!(warnings.is_empty());
        assert_eq!(set.names().len(), 4);
        let (_, warnings) = ThemeSet::load(None);
        assert!(warnings.is_empty());
    }

    #[test]
    fn colour_syntax() {
        assert_eq!(parse_color("#FFaa00"), Ok(Color::Rgb(255, 170, 0)));
        assert_eq!(parse_color("#fa0"), Ok(Color::Rgb(255, 170, 0)));
        assert_eq!(parse_color("Light_Red"), Ok(Color::LightRed));
        assert_eq!(parse_color("dark grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("bright-blue"), Ok(Color::LightBlue));
        assert_eq!(parse_color("reset"), Ok(Color::Reset));
        assert_eq!(parse_color("255"), Ok(Color::Indexed(255)));
        assert!(parse_color("256").is_err());
        assert!(parse_color("#12345").is_err());
        assert!(parse_color("#ééé").is_err());
        assert!(parse_color("").is_err());
        assert!(parse_color("mauve").is_err());
    }

    #[test]
    fn degrading_keeps_hues_apart() {
        // Nord's pastel red/yellow/green are closer to grey than to any ANSI
        // colour in RGB distance; by hue they stay apart.
        assert_eq!(nearest_ansi16(0xbf, 0x61, 0x6a), Color::Red);
        assert_eq!(nearest_ansi16(0xeb, 0xcb, 0x8b), Color::LightYellow);
        assert_eq!(nearest_ansi16(0xa3, 0xbe, 0x8c), Color::Green);
        assert_eq!(nearest_ansi16(0x1b, 0x1d, 0x23), Color::Black);
        assert_eq!(nearest_ansi16(0xff, 0xff, 0xff), Color::White);
        assert_eq!(nearest_xterm256(0, 0, 0), 16);
        assert_eq!(nearest_xterm256(255, 0, 0), 196);
        assert_eq!(nearest_xterm256(128, 128, 128), 244);
        for i in 16..=255u8 {
            let (r, g, b) = xterm256_rgb(i);
            let back = nearest_xterm256(r, g, b);
            assert_eq!(xterm256_rgb(back), (r, g, b), "index {i}");
        }
    }

    #[test]
    fn unknown_source_falls_back_to_text() {
        let set = ThemeSet::builtin_only();
        let p = resolve(set.get("dark").expect("dark"), ColorDepth::TrueColor);
        assert_eq!(p.source("no-such-system\x1b"), p.text);
        assert_ne!(p.source("payment"), p.source("risk"));
        assert_eq!(p.source("PAYMENT"), p.source("payment"));
        assert_ne!(p.family(Family::Ghost), p.family(Family::Zombie));
    }

    const FRAGMENTS: &[&str] = &[
        "\n",
        "[colors]\n",
        "[sources]\n",
        "[families]\n",
        "name = ",
        "description = ",
        "ok = ",
        "warn = ",
        "background = ",
        "app = ",
        "ghost = ",
        "\"#ff00ff\"",
        "\"#fff\"",
        "\"#zzzzzz\"",
        "\"red\"",
        "\"LightRed\"",
        "\"reset\"",
        "\"\"",
        "300",
        "-1",
        "255",
        "true",
        "1.5",
        "\"dark\"",
        "=",
        "\"",
        "\u{1b}]0;x\u{7}",
        "\u{202e}",
        "é",
        "[[colors]]\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        #[test]
        fn any_theme_text_parses_or_fails_cleanly(
            parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..16),
            noise in "\\PC{0,30}",
        ) {
            let src = format!("{}{noise}", parts.concat());
            let base = Theme::terminal_default();
            match parse_theme(&src, "fuzz", &base) {
                Ok(theme) => {
                    for depth in DEPTHS {
                        let _ = resolve(&theme, depth);
                    }
                }
                Err(e) => {
                    proptest::prop_assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
                    if let Some(span) = e.span {
                        let _ = toml_errors::position(&src, span.start);
                    }
                }
            }
        }

        #[test]
        fn any_rgb_degrades_to_the_right_kind(r in 0u8.., g in 0u8.., b in 0u8..) {
            let c = Color::Rgb(r, g, b);
            proptest::prop_assert!(matches!(degrade(c, ColorDepth::Ansi256), Some(Color::Indexed(16..))));
            proptest::prop_assert!(is_ansi_named(degrade(c, ColorDepth::Ansi16)));
            proptest::prop_assert_eq!(degrade(c, ColorDepth::NoColor), None);
        }
    }
}
