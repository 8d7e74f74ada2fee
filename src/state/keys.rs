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

/// What a key does in the normal (no overlay) mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    CommandLine,
    Filter,
    FocusNext,
    FocusPrev,
    FocusQueues,
    FocusOrders,
    FocusTimeline,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Open,
    Back,
    SortNext,
    SortReverse,
    CycleTheme,
    ToggleClock,
    ReleaseLock,
    Retry,
    CancelNotify,
    Resync,
    ClearHold,
    RequeueDead,
    BulkHeal,
    Postmortem,
    Wallboard,
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
}
