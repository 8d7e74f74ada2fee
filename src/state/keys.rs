//! Keys and the actions they are bound to.
//!
//! The app core has its own key type so that `state` never depends on the
//! terminal library; `app` converts crossterm events into it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Self {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn char(c: char) -> Self {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Self {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
        }
    }

    /// Ctrl-C always quits, whatever the keymap says: the one key every
    /// terminal user tries when something looks wrong.
    pub fn is_interrupt(&self) -> bool {
        self.ctrl && matches!(self.code, KeyCode::Char('c') | KeyCode::Char('C'))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
        }
    }
}

/// A mouse event the cockpit uses (only with `--mouse`); cells are 0-based
/// from the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mouse {
    pub kind: MouseKind,
    pub column: u16,
    pub row: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    ScrollUp,
    ScrollDown,
    /// Left button pressed.
    Click,
}

/// Declares the actions: the enum, every action in order (`Action::ALL`)
/// and the snake_case id that names it in the config's `[keys]` table.
/// Adding an action is one line here, an arm in `describe` (the compiler
/// asks for it), optionally a `hint`, and a default key in `Keymap::default`.
macro_rules! actions {
    ($($variant:ident = $id:literal),+ $(,)?) => {
        /// What a key does in the normal (no overlay) mode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant),+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The name in the config's `[keys]` table (`release_lock = "U"`).
            pub fn id(self) -> &'static str {
                match self {
                    $(Action::$variant => $id),+
                }
            }
        }
    };
}

actions! {
    Quit = "quit",
    Help = "help",
    CommandLine = "command_line",
    Filter = "filter",
    FocusNext = "focus_next",
    FocusPrev = "focus_prev",
    FocusQueues = "focus_queues",
    FocusOrders = "focus_orders",
    FocusTimeline = "focus_timeline",
    Down = "down",
    Up = "up",
    Top = "top",
    Bottom = "bottom",
    PageDown = "page_down",
    PageUp = "page_up",
    Open = "open",
    Back = "back",
    SortNext = "sort_next",
    SortReverse = "sort_reverse",
    CycleTheme = "cycle_theme",
    ToggleClock = "toggle_clock",
    Copy = "copy",
    ReleaseLock = "release_lock",
    Retry = "retry",
    CancelNotify = "cancel_notify",
    Resync = "resync",
    ClearHold = "clear_hold",
    RequeueDead = "requeue_dead",
    BulkHeal = "bulk_heal",
    Postmortem = "postmortem",
    Wallboard = "wallboard",
}

impl Action {
    /// The action a `[keys]` name means.
    pub fn from_id(id: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.id() == id)
    }
}

impl Action {
    /// Keys that change production data (refused in read-only mode).
    pub fn is_remediation(self) -> bool {
        matches!(
            self,
            Action::ReleaseLock
                | Action::Retry
                | Action::CancelNotify
                | Action::Resync
                | Action::ClearHold
                | Action::RequeueDead
                | Action::BulkHeal
        )
    }
}

impl Action {
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "this help",
            Action::CommandLine => "command line (:q :theme :sort :filter :goto)",
            Action::Filter => "filter stuck orders (text, family:, status:, rule:)",
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::FocusQueues => "focus queue backlog",
            Action::FocusOrders => "focus stuck orders",
            Action::FocusTimeline => "focus timeline",
            Action::Down => "move down",
            Action::Up => "move up",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::Open => "open the selected order's timeline",
            Action::Back => "close overlay / clear filter / back",
            Action::SortNext => "sort by next column",
            Action::SortReverse => "reverse sort order",
            Action::CycleTheme => "next theme",
            Action::ToggleClock => "UTC / local time",
            Action::Copy => "copy order no, queue, timeline or SQL (OSC 52)",
            Action::ReleaseLock => "release the order's inventory lock (previewed)",
            Action::Retry => "retry: republish the order's stuck message",
            Action::CancelNotify => "cancel, release stock, apologise to customer",
            Action::Resync => "resync status to the system that disagrees",
            Action::ClearHold => "clear a risk hold that was a false positive",
            Action::RequeueDead => "requeue the selected queue's dead letters",
            Action::BulkHeal => "bulk heal zombies older than 24 h",
            Action::Postmortem => "postmortem draft for this incident",
            Action::Wallboard => "war-room wallboard, read-only (w/Esc back)",
        }
    }

    /// Short label for the key-hint line.
    pub fn hint(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::CommandLine => "cmd",
            Action::Filter => "filter",
            Action::FocusNext => "pane",
            Action::Open => "timeline",
            Action::SortNext => "sort",
            Action::CycleTheme => "theme",
            Action::ToggleClock => "utc/local",
            Action::Copy => "copy",
            Action::Postmortem => "postmortem",
            Action::Wallboard => "wallboard",
            Action::Back => "back",
            Action::ReleaseLock => "unlock",
            Action::Retry => "retry",
            Action::CancelNotify => "cancel",
            Action::Resync => "resync",
            Action::ClearHold => "clear hold",
            Action::RequeueDead => "requeue DLQ",
            Action::BulkHeal => "heal",
            _ => "",
        }
    }
}

/// Key bindings in force. Help and the hint line are generated from it, so
/// they never list a key that does nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<(Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        use KeyCode as K;
        let bindings = vec![
            (Key::char('q'), Quit),
            (Key::char('?'), Help),
            (Key::char(':'), CommandLine),
            (Key::char('/'), Filter),
            (Key::plain(K::Tab), FocusNext),
            (Key::plain(K::BackTab), FocusPrev),
            (Key::char('1'), FocusQueues),
            (Key::char('2'), FocusOrders),
            (Key::char('3'), FocusTimeline),
            (Key::char('j'), Down),
            (Key::plain(K::Down), Down),
            (Key::char('k'), Up),
            (Key::plain(K::Up), Up),
            (Key::char('g'), Top),
            (Key::plain(K::Home), Top),
            (Key::char('G'), Bottom),
            (Key::plain(K::End), Bottom),
            (Key::plain(K::PageDown), PageDown),
            (Key::ctrl('d'), PageDown),
            (Key::plain(K::PageUp), PageUp),
            (Key::ctrl('u'), PageUp),
            (Key::plain(K::Enter), Open),
            (Key::plain(K::Esc), Back),
            (Key::char('s'), SortNext),
            (Key::char('S'), SortReverse),
            (Key::char('t'), CycleTheme),
            (Key::char('z'), ToggleClock),
            (Key::char('Y'), Copy),
            (Key::char('u'), ReleaseLock),
            (Key::char('r'), Retry),
            (Key::char('c'), CancelNotify),
            (Key::char('y'), Resync),
            (Key::char('x'), ClearHold),
            (Key::char('d'), RequeueDead),
            (Key::char('H'), BulkHeal),
            (Key::char('p'), Postmortem),
            (Key::char('w'), Wallboard),
        ];
        Keymap { bindings }
    }
}

impl Keymap {
    pub fn action_for(&self, key: Key) -> Option<Action> {
        self.bindings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a)
    }

    pub fn keys_for(&self, action: Action) -> impl Iterator<Item = Key> + '_ {
        self.bindings
            .iter()
            .filter(move |(_, a)| *a == action)
            .map(|(k, _)| *k)
    }

    /// Every binding, in binding order.
    pub fn bindings(&self) -> impl Iterator<Item = (Key, Action)> + '_ {
        self.bindings.iter().copied()
    }

    /// First key bound to `action`, as shown in hints.
    pub fn primary(&self, action: Action) -> Option<Key> {
        self.keys_for(action).next()
    }

    /// One row per action in binding order: all keys for it and what it does.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        let mut seen: Vec<Action> = Vec::new();
        let mut rows = Vec::new();
        for (_, action) in &self.bindings {
            if seen.contains(action) {
                continue;
            }
            seen.push(*action);
            let keys: Vec<String> = self.keys_for(*action).map(|k| k.to_string()).collect();
            rows.push((keys.join(" "), action.describe()));
        }
        rows
    }
}

/// Named keys as written in the config, lower-case; the first of each is
/// the spelling `Display` uses (so every shown key parses back).
const KEY_NAMES: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("bs", KeyCode::Backspace),
    ("del", KeyCode::Delete),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("↑", KeyCode::Up),
    ("down", KeyCode::Down),
    ("↓", KeyCode::Down),
    ("left", KeyCode::Left),
    ("←", KeyCode::Left),
    ("right", KeyCode::Right),
    ("→", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

/// Longest key text we look at; anything longer is not a key, and quoting
/// all of it back would make a very long error line.
const MAX_KEY_CHARS: usize = 40;

/// A key as written in the config: one character (`U`, `?`), a name
/// (`Enter`, `PgDn`, `Space`, `Up`...), optionally after `Ctrl-`, `Alt-`
/// or `Shift-` (`+` works too, and case does not matter in names).
/// `Shift-` goes with a letter (`Shift-g` is `G`) or Tab; Ctrl-C is refused
/// because it always quits. Errors are one line without control characters.
pub fn parse_key(raw: &str) -> Result<Key, String> {
    let shown = || {
        let cut: String = raw.chars().take(MAX_KEY_CHARS).collect();
        let cut = crate::sanitize::sanitize(&cut);
        if raw.chars().count() > MAX_KEY_CHARS {
            format!("{cut}…")
        } else {
            cut
        }
    };
    let names = "a single character, or Enter, Esc, Tab, Shift-Tab, Backspace, Del, Up, Down, Left, Right, Home, End, PgUp, PgDn, Space; optionally after Ctrl-, Alt- or Shift-";
    if raw.chars().count() > MAX_KEY_CHARS {
        return Err(format!("\"{}\" is not a key: use {names}", shown()));
    }
    let mut rest = raw;
    let (mut ctrl, mut alt, mut shift) = (false, false, false);
    // Strip modifiers while something follows them: "-" and "Ctrl--" must
    // still mean the minus key.
    loop {
        let lower = rest.to_ascii_lowercase();
        let found = [
            "ctrl-", "ctrl+", "c-", "alt-", "alt+", "m-", "shift-", "shift+", "s-",
        ]
        .iter()
        .find(|p| lower.starts_with(**p) && rest.len() > p.len());
        let Some(prefix) = found else { break };
        match prefix.as_bytes()[0] {
            b'c' => ctrl = true,
            b'a' | b'm' => alt = true,
            _ => shift = true,
        }
        rest = &rest[prefix.len()..];
    }
    if rest.is_empty() {
        return Err(format!("\"{}\" is empty: use {names}", shown()));
    }
    let lower = rest.to_lowercase();
    let mut chars = rest.chars();
    let code = match (
        KEY_NAMES.iter().find(|(n, _)| *n == lower),
        chars.next(),
        chars.next(),
    ) {
        (Some((_, code)), _, _) => *code,
        (None, Some(' '), None) => KeyCode::Char(' '),
        (None, Some(c), None) if c.is_whitespace() => {
            return Err(format!(
                "\"{}\" is blank: use Space for the space bar",
                shown()
            ));
        }
        (None, Some(c), None) if crate::sanitize::is_safe(&c.to_string()) => KeyCode::Char(c),
        (None, Some(_), None) => {
            return Err(format!(
                "\"{}\" is not a key you can type: use {names}",
                shown()
            ));
        }
        _ => return Err(format!("unknown key \"{}\": use {names}", shown())),
    };
    let code = match (shift, code) {
        (false, code) => code,
        (true, KeyCode::Tab) => KeyCode::BackTab,
        (true, KeyCode::Char(c)) if c.is_ascii_alphabetic() => {
            KeyCode::Char(c.to_ascii_uppercase())
        }
        (true, _) => {
            return Err(format!(
                "\"{}\": Shift- goes with a letter (Shift-g is G) or Tab; for other keys write the character itself, such as \"?\"",
                shown()
            ));
        }
    };
    let code = match code {
        // Terminals send Ctrl-Q and Ctrl-q alike (crossterm reports the
        // lower-case letter), so keep one spelling.
        KeyCode::Char(c) if ctrl && c.is_ascii_alphabetic() => {
            KeyCode::Char(c.to_ascii_lowercase())
        }
        KeyCode::Char(c) if ctrl && c != ' ' => {
            return Err(format!(
                "\"{}\": terminals cannot send Ctrl with '{c}'; use Ctrl- with a letter, Space or a named key",
                shown()
            ));
        }
        other => other,
    };
    let key = Key { code, ctrl, alt };
    if key.is_interrupt() {
        return Err("Ctrl-C always quits and cannot be bound to anything else".into());
    }
    Ok(key)
}

/// A `[keys]` entry that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    /// The `[keys]` entries the problem is about, in the order given; the
    /// config points at the last one in the file.
    pub actions: Vec<String>,
    /// One line, starting with `keys.ACTION`.
    pub message: String,
}

impl Keymap {
    /// The default bindings with `overrides` (action id, keys) applied: an
    /// action named here gets exactly these keys (an empty list unbinds
    /// it), the others keep their defaults. A key bound to two actions is an
    /// error naming both, whether the other binding is a default or not.
    pub fn with_overrides(overrides: &[(String, Vec<String>)]) -> Result<Keymap, KeymapError> {
        let mut parsed: Vec<(Action, Vec<Key>)> = Vec::new();
        for (id, keys) in overrides {
            let err = |message: String| KeymapError {
                actions: vec![id.clone()],
                message,
            };
            let Some(action) = Action::from_id(id) else {
                let shown = crate::sanitize::sanitize_capped(id, MAX_KEY_CHARS);
                let hint = closest_id(id)
                    .map(|a| format!("did you mean `{a}`? "))
                    .unwrap_or_default();
                let all: Vec<&str> = Action::ALL.iter().map(|a| a.id()).collect();
                return Err(err(format!(
                    "keys.{shown}: unknown action `{shown}`; {hint}actions are {}",
                    all.join(", ")
                )));
            };
            let mut list = Vec::new();
            for raw in keys {
                let key = parse_key(raw).map_err(|m| err(format!("keys.{id}: {m}")))?;
                if !list.contains(&key) {
                    list.push(key);
                }
            }
            parsed.push((action, list));
        }
        let user = |a: Action| parsed.iter().any(|(p, _)| *p == a);
        // Defaults of actions the user left alone, then the user's keys.
        let mut bindings: Vec<(Key, Action)> = Keymap::default()
            .bindings
            .into_iter()
            .filter(|(_, a)| !user(*a))
            .collect();
        for (action, keys) in &parsed {
            for key in keys {
                if let Some((_, other)) = bindings.iter().find(|(k, a)| k == key && a != action) {
                    let other = *other;
                    let mut actions = Vec::new();
                    if user(other) {
                        actions.push(other.id().to_string());
                    }
                    actions.push(action.id().to_string());
                    let by = if user(other) {
                        format!("keys.{}", other.id())
                    } else {
                        format!("{} (a default binding)", other.id())
                    };
                    return Err(KeymapError {
                        actions,
                        message: format!(
                            "keys.{}: \"{key}\" is also bound to {by}; a key does one thing: give {} another key (e.g. {} = \"…\") or pick another for {}",
                            action.id(),
                            other.id(),
                            other.id(),
                            action.id()
                        ),
                    });
                }
                bindings.push((*key, *action));
            }
        }
        // Help lists actions in the default order whatever the file's order.
        bindings.sort_by_key(|(_, a)| Action::ALL.iter().position(|x| x == a));
        Ok(Keymap { bindings })
    }
}

/// The action id closest to a mistyped one, when it is close enough.
fn closest_id(id: &str) -> Option<&'static str> {
    let id = id.to_ascii_lowercase();
    if id.chars().count() > MAX_KEY_CHARS {
        return None;
    }
    Action::ALL
        .iter()
        .map(|a| (crate::toml_errors::edit_distance(&id, a.id()), a.id()))
        .filter(|(d, name)| *d <= 2.max(name.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keymap_binds_the_documented_keys() {
        let km = Keymap::default();
        assert_eq!(km.action_for(Key::char('q')), Some(Action::Quit));
        assert_eq!(km.action_for(Key::char('G')), Some(Action::Bottom));
        assert_eq!(
            km.action_for(Key::plain(KeyCode::PageDown)),
            Some(Action::PageDown)
        );
        assert_eq!(km.action_for(Key::char('x')), Some(Action::ClearHold));
        assert_eq!(km.action_for(Key::char('H')), Some(Action::BulkHeal));
        assert_eq!(km.action_for(Key::char('w')), Some(Action::Wallboard));
        assert_eq!(km.action_for(Key::char('v')), None);
    }

    #[test]
    fn help_rows_group_every_key_of_an_action() {
        let km = Keymap::default();
        let rows = km.help_rows();
        let down = rows
            .iter()
            .find(|(_, d)| *d == Action::Down.describe())
            .map(|(k, _)| k.clone());
        assert_eq!(down.as_deref(), Some("j ↓"));
        // Each action is listed once.
        let mut descs: Vec<_> = rows.iter().map(|(_, d)| *d).collect();
        descs.sort();
        descs.dedup();
        assert_eq!(descs.len(), rows.len());
    }

    #[test]
    fn ctrl_c_is_an_interrupt_but_c_is_not() {
        assert!(Key::ctrl('c').is_interrupt());
        assert!(!Key::char('c').is_interrupt());
    }

    fn ov(pairs: &[(&str, &[&str])]) -> Result<Keymap, KeymapError> {
        let list: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
            .collect();
        Keymap::with_overrides(&list)
    }

    #[test]
    fn parse_key_spellings() {
        use KeyCode as K;
        let ok = |s: &str| parse_key(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("U"), Key::char('U'));
        assert_eq!(ok("?"), Key::char('?'));
        assert_eq!(ok("-"), Key::char('-'));
        assert_eq!(ok("+"), Key::char('+'));
        assert_eq!(ok("Ctrl-q"), Key::ctrl('q'));
        assert_eq!(ok("ctrl+Q"), Key::ctrl('q'));
        assert_eq!(ok("C-x"), Key::ctrl('x'));
        assert_eq!(
            ok("Alt-x"),
            Key {
                code: K::Char('x'),
                ctrl: false,
                alt: true
            }
        );
        assert_eq!(ok("Shift-g"), Key::char('G'));
        assert_eq!(ok("Shift-Tab"), Key::plain(K::BackTab));
        assert_eq!(ok("space"), Key::char(' '));
        assert_eq!(ok(" "), Key::char(' '));
        assert_eq!(ok("PgDn"), Key::plain(K::PageDown));
        assert_eq!(ok("pagedown"), Key::plain(K::PageDown));
        assert_eq!(ok("↑"), Key::plain(K::Up));
        assert_eq!(ok("Del"), Key::plain(K::Delete));
        assert_eq!(
            ok("Ctrl-Up"),
            Key {
                code: K::Up,
                ctrl: true,
                alt: false
            }
        );
        assert_eq!(ok("订"), Key::char('订'));
    }

    #[test]
    fn parse_key_refusals_say_why() {
        let err = |s: &str| parse_key(s).expect_err(s);
        assert!(err("").contains("is empty"), "{}", err(""));
        assert!(err("Ctrl-c").contains("Ctrl-C always quits"));
        assert!(err("Ctrl-Alt-C").contains("Ctrl-C always quits"));
        assert!(err("Enterr").starts_with("unknown key \"Enterr\""));
        assert!(err("Shift-?").contains("Shift- goes with a letter"));
        assert!(err("Ctrl-?").contains("cannot send Ctrl with '?'"));
        assert!(err("\u{1b}").contains("not a key you can type"));
        assert!(err("\u{202e}").contains("not a key you can type"));
        assert!(err("\t").contains("blank"));
        let long = err(&"x".repeat(1000));
        assert!(long.chars().count() < 400, "{long}");
        for e in [err("\u{1b}[2J"), err("a\nb")] {
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }

    #[test]
    fn every_default_key_displays_as_text_that_parses_back() {
        for (key, action) in &Keymap::default().bindings {
            let shown = key.to_string();
            assert_eq!(parse_key(&shown), Ok(*key), "{action:?} {shown}");
        }
    }

    #[test]
    fn action_ids_are_unique_snake_case_and_round_trip() {
        let mut ids: Vec<&str> = Action::ALL.iter().map(|a| a.id()).collect();
        for (a, id) in Action::ALL.iter().zip(&ids) {
            assert_eq!(Action::from_id(id), Some(*a));
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Action::ALL.len());
        // Every action has a default key (so help lists it) and a description.
        let km = Keymap::default();
        for a in Action::ALL {
            assert!(km.primary(*a).is_some(), "{a:?} has no default key");
            assert!(!a.describe().is_empty());
        }
    }

    #[test]
    fn no_overrides_is_the_default_keymap() {
        assert_eq!(ov(&[]), Ok(Keymap::default()));
    }

    #[test]
    fn an_override_replaces_that_actions_keys_only() {
        let km = ov(&[("release_lock", &["U"]), ("quit", &["q", "Ctrl-q"])]).expect("valid");
        assert_eq!(km.action_for(Key::char('U')), Some(Action::ReleaseLock));
        assert_eq!(km.action_for(Key::char('u')), None);
        assert_eq!(km.action_for(Key::ctrl('q')), Some(Action::Quit));
        assert_eq!(km.action_for(Key::char('q')), Some(Action::Quit));
        assert_eq!(km.action_for(Key::char('j')), Some(Action::Down));
        // Help shows the new keys, in the usual order.
        let rows = km.help_rows();
        assert_eq!(rows[0], ("q Ctrl-q".to_string(), Action::Quit.describe()));
        assert!(rows.contains(&("U".to_string(), Action::ReleaseLock.describe())));
        // Freeing a key and taking it elsewhere is fine; [] unbinds.
        let km = ov(&[("release_lock", &[]), ("copy", &["u"])]).expect("valid");
        assert_eq!(km.action_for(Key::char('u')), Some(Action::Copy));
        assert_eq!(km.primary(Action::ReleaseLock), None);
    }

    #[test]
    fn clashes_name_both_actions_and_the_key() {
        let e = ov(&[("quit", &["u"])]).expect_err("clash with a default");
        assert_eq!(e.actions, vec!["quit"]);
        assert!(
            e.message
                .starts_with("keys.quit: \"u\" is also bound to release_lock (a default binding)"),
            "{}",
            e.message
        );
        let e = ov(&[("copy", &["v"]), ("retry", &["v"])]).expect_err("clash between entries");
        assert_eq!(e.actions, vec!["copy", "retry"]);
        assert!(
            e.message.contains("\"v\" is also bound to keys.copy"),
            "{}",
            e.message
        );
        // The same key twice for one action is not a clash.
        let km = ov(&[("quit", &["q", "q"])]).expect("one key twice for one action");
        assert_eq!(km.action_for(Key::char('q')), Some(Action::Quit));
    }

    #[test]
    fn unknown_actions_and_bad_keys_are_named() {
        let e = ov(&[("relase_lock", &["U"])]).expect_err("typo");
        assert_eq!(e.actions, vec!["relase_lock"]);
        assert!(
            e.message.starts_with(
                "keys.relase_lock: unknown action `relase_lock`; did you mean `release_lock`?"
            ),
            "{}",
            e.message
        );
        let e = ov(&[("quit", &["q", "Ctrl-c"])]).expect_err("ctrl-c");
        assert!(
            e.message.starts_with("keys.quit: Ctrl-C always quits"),
            "{}",
            e.message
        );
        let e = ov(&[("\u{1b}]0;x", &["q"])]).expect_err("hostile id");
        assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
    }

    const KEY_PIECES: &[&str] = &[
        "Ctrl-", "ctrl+", "C-", "Alt-", "M-", "Shift-", "S-", "-", "+", "q", "Q", "c", "C",
        "Enter", "tab", "PgDn", "↑", "Space", " ", "?", "订", "\u{1b}", "\u{202e}", "\n", "x",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Any text: a key whose display parses back to it, or a one-line
        /// printable error.
        #[test]
        fn any_key_text_parses_round_trip_or_fails_cleanly(
            parts in proptest::collection::vec(proptest::sample::select(KEY_PIECES), 0..5),
            noise in "\\PC{0,3}",
        ) {
            let src = format!("{}{noise}", parts.concat());
            match parse_key(&src) {
                Ok(key) => {
                    proptest::prop_assert!(!key.is_interrupt());
                    proptest::prop_assert_eq!(parse_key(&key.to_string()), Ok(key));
                }
                Err(e) => {
                    proptest::prop_assert!(!e.chars().any(char::is_control), "{:?}", e);
                    proptest::prop_assert!(e.chars().count() < 400);
                }
            }
        }

        /// Any set of overrides: a keymap where every key has one action,
        /// or an error naming an entry that was given.
        #[test]
        fn any_overrides_give_a_consistent_keymap_or_a_named_error(
            entries in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["quit", "copy", "retry", "down", "help", "nope"]),
                    proptest::collection::vec(proptest::sample::select(KEY_PIECES), 0..3),
                ),
                0..5,
            )
        ) {
            let list: Vec<(String, Vec<String>)> = entries
                .iter()
                .map(|(a, ks)| (a.to_string(), ks.iter().map(|k| k.to_string()).collect()))
                .collect();
            match Keymap::with_overrides(&list) {
                Ok(km) => {
                    for (i, (k, a)) in km.bindings.iter().enumerate() {
                        let clash = km.bindings[i + 1..].iter().any(|(k2, a2)| k2 == k && a2 != a);
                        proptest::prop_assert!(!clash, "{k} bound twice");
                    }
                    // Ctrl-C is never bound; it quits whatever the map says.
                    proptest::prop_assert_eq!(km.action_for(Key::ctrl('c')), None);
                }
                Err(e) => {
                    proptest::prop_assert!(!e.actions.is_empty());
                    for a in &e.actions {
                        proptest::prop_assert!(list.iter().any(|(id, _)| id == a));
                    }
                    let last = e.actions.last().map(String::as_str).unwrap_or("");
                    let prefix = format!("keys.{last}:");
                    proptest::prop_assert!(e.message.starts_with(&prefix), "{}", e.message);
                    proptest::prop_assert!(!e.message.chars().any(char::is_control));
                }
            }
        }
    }
}
