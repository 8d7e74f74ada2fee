//! The guided postmortem editor's pure core: `Editor` state, `update` for
//! keys and pastes, and `render` in `view`. Saving is the run loop's job; the
//! core only counts changes (`revision`), so the loop can debounce.

pub mod fields;
pub mod view;

use super::checks::{self, Warning};
use super::model::{ActionItem, Draft, TimelineRow};
use crate::state::keys::{Key, KeyCode};
use fields::{Field, Kind, Section};
use ratatui_textarea::{Input, Key as TaKey, TextArea, WrapMode};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    /// Bracketed paste: the whole text at once, never as keys.
    Paste(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Ctrl-S: save now rather than after the debounce.
    SaveNow,
}

/// What is to be deleted once the user says yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Why(u32),
    Row(usize),
    Action(usize),
}

pub enum Mode {
    Browse,
    /// Typing into one field. `original` is restored if the typed text is
    /// not valid for the field (a time, a number) when leaving.
    Edit {
        field: Field,
        area: Box<TextArea<'static>>,
        original: String,
    },
    /// Ctrl-F inside a field: typing the pattern.
    Search {
        field: Field,
        area: Box<TextArea<'static>>,
        original: String,
        query: String,
    },
    Confirm(Target),
}

pub struct Editor {
    pub draft: Draft,
    pub section: usize,
    /// Index into the section's fields.
    pub cursor: usize,
    pub mode: Mode,
    /// Bumped on every change to the draft; the loop saves when it moves.
    pub revision: u64,
    pub message: Option<String>,
    /// The next suggestion `s` offers.
    pub next_suggestion: usize,
    pub quit: bool,
    /// Set by the run loop: the last save failed, so closing now would
    /// lose what is on screen; `q` then asks once.
    pub save_failed: bool,
    /// `q` was pressed once with the draft unsaved.
    pub quit_asked: bool,
}

impl Editor {
    pub fn new(draft: Draft) -> Editor {
        Editor {
            draft,
            section: 0,
            cursor: 0,
            mode: Mode::Browse,
            revision: 0,
            message: None,
            next_suggestion: 0,
            quit: false,
            save_failed: false,
            quit_asked: false,
        }
    }

    pub fn current_section(&self) -> Section {
        Section::ALL[self.section.min(Section::ALL.len() - 1)]
    }

    pub fn fields(&self) -> Vec<Field> {
        fields::fields(self.current_section(), &self.draft)
    }

    pub fn focused(&self) -> Option<Field> {
        self.fields().get(self.cursor).copied()
    }

    pub fn warnings(&self) -> Vec<Warning> {
        checks::check(&self.draft)
    }

    /// The why the cursor is on, on the 5-Whys screen.
    fn focused_why(&self) -> Option<u32> {
        use Field::*;
        match self.focused()? {
            WhyAnswer(id) | WhyEvidence(id) | WhyConfidence(id) | WhyCategory(id) => Some(id),
            _ => None,
        }
    }

    fn focused_row(&self) -> Option<usize> {
        use Field::*;
        match self.focused()? {
            RowTime(i) | RowSource(i) | RowWhat(i) => Some(i),
            _ => None,
        }
    }

    fn focused_action(&self) -> Option<usize> {
        use Field::*;
        match self.focused()? {
            ActWhat(i) | ActKind(i) | ActOwner(i) | ActDue(i) | ActPriority(i) | ActTicket(i)
            | ActStatus(i) | ActAnswers(i) => Some(i),
            _ => None,
        }
    }

    fn changed(&mut self) {
        self.revision += 1;
    }

    /// Puts the cursor on `field` if the current screen has it.
    fn focus(&mut self, field: Field) {
        if let Some(i) = self.fields().iter().position(|f| *f == field) {
            self.cursor = i;
        }
    }

    fn clamp(&mut self) {
        let n = self.fields().len();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }
}

pub fn update(ed: &mut Editor, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    match msg {
        Msg::Key(key) if key.ctrl && key.code == KeyCode::Char('s') => {
            effects.push(Effect::SaveNow);
            ed.message = Some("saved".into());
        }
        Msg::Key(key) => {
            let mode = std::mem::replace(&mut ed.mode, Mode::Browse);
            ed.mode = match mode {
                Mode::Browse => browse_key(ed, key),
                Mode::Edit {
                    field,
                    area,
                    original,
                } => edit_key(ed, field, area, original, key),
                Mode::Search {
                    field,
                    area,
                    original,
                    query,
                } => search_key(ed, field, area, original, query, key),
                Mode::Confirm(target) => confirm_key(ed, target, key),
            };
        }
        Msg::Paste(text) => {
            if matches!(ed.mode, Mode::Browse) {
                if let Some(field) = ed.focused().filter(|f| f.kind() != Kind::Choice) {
                    ed.mode = start_edit(ed, field);
                }
            }
            if let Mode::Edit { field, area, .. } = &mut ed.mode {
                let text = if field.kind() == Kind::Line {
                    text.replace(['\r', '\n'], " ")
                } else {
                    text.replace("\r\n", "\n").replace('\r', "\n")
                };
                if area.insert_str(text) {
                    let field = *field;
                    sync(ed, field);
                }
            }
        }
    }
    effects
}

fn new_area(text: &str) -> Box<TextArea<'static>> {
    let mut area = TextArea::new(text.split('\n').map(String::from).collect());
    area.set_wrap_mode(WrapMode::WordOrGlyph);
    area.move_cursor(ratatui_textarea::CursorMove::Bottom);
    area.move_cursor(ratatui_textarea::CursorMove::End);
    Box::new(area)
}

fn start_edit(ed: &Editor, field: Field) -> Mode {
    let original = fields::get(&ed.draft, field);
    Mode::Edit {
        field,
        area: new_area(&original),
        original,
    }
}

/// Copies the text being edited into the draft after each change, so an
/// autosave never misses what is on screen. Fields that must parse (times,
/// numbers) are written only when the text is valid.
fn sync(ed: &mut Editor, field: Field) {
    let Mode::Edit { area, .. } = &ed.mode else {
        return;
    };
    let text = area.lines().join("\n");
    let before = fields::get(&ed.draft, field);
    if fields::set(&mut ed.draft, field, &text).is_ok() && fields::get(&ed.draft, field) != before {
        ed.changed();
    }
}

fn browse_key(ed: &mut Editor, key: Key) -> Mode {
    use KeyCode as K;
    let n_sections = Section::ALL.len();
    ed.message = None;
    if key.is_interrupt() {
        ed.quit = true;
        return Mode::Browse;
    }
    let asked = std::mem::take(&mut ed.quit_asked);
    match (key.code, key.ctrl) {
        (K::Char('q'), false) if ed.save_failed && !asked => {
            ed.quit_asked = true;
            ed.message = Some(
                "the draft is NOT saved (see the title line): q again closes without it, Ctrl-S tries again"
                    .into(),
            );
        }
        (K::Char('q'), false) => ed.quit = true,
        // Esc closes a field, never the editor: a second Esc typed to
        // "make sure" would otherwise drop the user into the live cockpit,
        // where the next keys act on orders.
        (K::Esc, false) => {
            ed.message = Some("Esc closes a field; q closes the editor (the draft is saved)".into())
        }
        (K::Tab | K::PageDown | K::Char(']'), false) => {
            ed.section = (ed.section + 1) % n_sections;
            ed.cursor = 0;
        }
        (K::BackTab | K::PageUp | K::Char('['), false) => {
            ed.section = (ed.section + n_sections - 1) % n_sections;
            ed.cursor = 0;
        }
        (K::Char('j') | K::Down, false) => {
            ed.cursor = (ed.cursor + 1).min(ed.fields().len().saturating_sub(1));
        }
        (K::Char('k') | K::Up, false) => ed.cursor = ed.cursor.saturating_sub(1),
        (K::Char('g') | K::Home, false) => ed.cursor = 0,
        (K::Char('G') | K::End, false) => ed.cursor = ed.fields().len().saturating_sub(1),
        (K::Char('h') | K::Left, false) => step_choice(ed, -1),
        (K::Char('l') | K::Right, false) => step_choice(ed, 1),
        (K::Enter | K::Char('i') | K::Char('e'), false) => match ed.focused() {
            Some(f) if f.kind() == Kind::Choice => step_choice(ed, 1),
            Some(f) => return start_edit(ed, f),
            None => ed.message = Some(empty_hint(ed.current_section()).into()),
        },
        (K::Char('a'), false) => add(ed),
        (K::Char('b'), false) => branch(ed),
        (K::Char('r'), false) if ed.current_section() == Section::Whys => {
            let id = ed.draft.add_root_why(String::new());
            ed.changed();
            ed.focus(Field::WhyAnswer(id));
            return start_edit(ed, Field::WhyAnswer(id));
        }
        (K::Char('s'), false) if ed.current_section() == Section::Whys => suggest(ed),
        (K::Char('J'), false) => move_item(ed, 1),
        (K::Char('K'), false) => move_item(ed, -1),
        (K::Char('d') | K::Delete, false) => {
            let target = match ed.current_section() {
                Section::Whys => ed.focused_why().map(Target::Why),
                Section::Timeline => ed.focused_row().map(Target::Row),
                Section::Actions => ed.focused_action().map(Target::Action),
                _ => None,
            };
            if let Some(t) = target {
                return Mode::Confirm(t);
            }
        }
        _ => {}
    }
    Mode::Browse
}

fn empty_hint(s: Section) -> &'static str {
    match s {
        Section::Timeline => "no rows yet: a adds one",
        Section::Whys => "no whys yet: a starts a chain, s takes a suggestion",
        Section::Actions => "no action items yet: a adds one",
        _ => "nothing to edit here",
    }
}

fn step_choice(ed: &mut Editor, delta: isize) {
    if let Some(f) = ed.focused() {
        if fields::cycle(&mut ed.draft, f, delta) {
            ed.changed();
        }
    }
}

fn add(ed: &mut Editor) {
    match ed.current_section() {
        Section::Timeline => {
            let at = ed
                .focused_row()
                .and_then(|i| ed.draft.timeline.get(i))
                .map(|r| r.at)
                .or(ed.draft.timeline.last().map(|r| r.at))
                .or(ed.draft.started_at)
                .unwrap_or(ed.draft.created_at);
            let i = ed.focused_row().map_or(ed.draft.timeline.len(), |i| i + 1);
            ed.draft.timeline.insert(
                i,
                TimelineRow {
                    at,
                    source: "ops".into(),
                    what: String::new(),
                },
            );
            ed.changed();
            ed.focus(Field::RowWhat(i));
        }
        Section::Whys => {
            let id = match ed.focused_why() {
                Some(parent) => ed.draft.add_child_why(parent),
                None => Some(ed.draft.add_root_why(String::new())),
            };
            if let Some(id) = id {
                ed.changed();
                ed.focus(Field::WhyAnswer(id));
                ed.message = Some("and why was that?".into());
            }
        }
        Section::Actions => {
            let answers = None;
            ed.draft.actions.push(ActionItem {
                answers,
                ..ActionItem::default()
            });
            ed.changed();
            ed.focus(Field::ActWhat(ed.draft.actions.len() - 1));
        }
        s => ed.message = Some(format!("{} has no list to add to", s.title())),
    }
}

fn branch(ed: &mut Editor) {
    if ed.current_section() != Section::Whys {
        return;
    }
    match ed.focused_why().and_then(|w| ed.draft.add_sibling_why(w)) {
        Some(id) => {
            ed.changed();
            ed.focus(Field::WhyAnswer(id));
            ed.message = Some("another cause beside the one above".into());
        }
        None => ed.message = Some("put the cursor on a why to branch it".into()),
    }
}

fn suggest(ed: &mut Editor) {
    let list = &ed.draft.suggestions;
    if list.is_empty() {
        ed.message = Some("no suggestions for this incident's anomaly families".into());
        return;
    }
    let text = list[ed.next_suggestion % list.len()].clone();
    ed.next_suggestion += 1;
    let id = ed.draft.add_root_why(text);
    ed.changed();
    ed.focus(Field::WhyAnswer(id));
}

fn move_item(ed: &mut Editor, delta: isize) {
    let moved = match ed.current_section() {
        Section::Whys => ed.focused_why().is_some_and(|id| {
            let ok = ed.draft.move_why(id, delta);
            if ok {
                ed.focus(Field::WhyAnswer(id));
            }
            ok
        }),
        Section::Timeline | Section::Actions => {
            let (i, len) = if ed.current_section() == Section::Timeline {
                (ed.focused_row(), ed.draft.timeline.len())
            } else {
                (ed.focused_action(), ed.draft.actions.len())
            };
            match i {
                Some(i) if (i as isize + delta) >= 0 && ((i as isize + delta) as usize) < len => {
                    let j = (i as isize + delta) as usize;
                    let per = ed.fields().len() / len.max(1);
                    if ed.current_section() == Section::Timeline {
                        ed.draft.timeline.swap(i, j);
                    } else {
                        ed.draft.actions.swap(i, j);
                    }
                    ed.cursor = (ed.cursor as isize + delta * per as isize).max(0) as usize;
                    true
                }
                _ => false,
            }
        }
        _ => false,
    };
    if moved {
        ed.changed();
    }
}

fn confirm_key(ed: &mut Editor, target: Target, key: Key) -> Mode {
    if !matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) || key.ctrl {
        ed.message = Some("kept".into());
        return Mode::Browse;
    }
    match target {
        Target::Why(id) => {
            if let Some(w) = ed.draft.delete_why(id) {
                ed.message = Some(format!("deleted why #{}", w.id));
            }
        }
        Target::Row(i) if i < ed.draft.timeline.len() => {
            ed.draft.timeline.remove(i);
            ed.message = Some(format!("deleted timeline row {}", i + 1));
        }
        Target::Action(i) if i < ed.draft.actions.len() => {
            ed.draft.actions.remove(i);
            ed.message = Some(format!("deleted action {}", i + 1));
        }
        _ => return Mode::Browse,
    }
    ed.changed();
    ed.clamp();
    Mode::Browse
}

/// Our key as the text area's input.
fn input(key: Key) -> Input {
    use KeyCode as K;
    let k = match key.code {
        K::Char(c) => TaKey::Char(c),
        K::Enter => TaKey::Enter,
        K::Esc => TaKey::Esc,
        K::Tab => TaKey::Tab,
        K::BackTab => TaKey::Null,
        K::Backspace => TaKey::Backspace,
        K::Delete => TaKey::Delete,
        K::Up => TaKey::Up,
        K::Down => TaKey::Down,
        K::Left => TaKey::Left,
        K::Right => TaKey::Right,
        K::Home => TaKey::Home,
        K::End => TaKey::End,
        K::PageUp => TaKey::PageUp,
        K::PageDown => TaKey::PageDown,
    };
    Input {
        key: k,
        ctrl: key.ctrl,
        alt: key.alt,
        shift: false,
    }
}

/// Leaves the field: keeps the text if the field accepts it, else puts
/// back what was there and says why.
fn leave(ed: &mut Editor, field: Field, area: &TextArea<'static>, original: &str) {
    let text = area.lines().join("\n");
    if let Err(e) = fields::set(&mut ed.draft, field, &text) {
        if fields::set(&mut ed.draft, field, original).is_ok() {
            ed.message = Some(format!("{e}; kept {original:?}"));
        }
    }
}

fn edit_key(
    ed: &mut Editor,
    field: Field,
    mut area: Box<TextArea<'static>>,
    original: String,
    key: Key,
) -> Mode {
    use KeyCode as K;
    let done = key.code == K::Esc
        || key.is_interrupt()
        || (key.code == K::Enter && !key.ctrl && !key.alt && field.kind() == Kind::Line);
    if done {
        leave(ed, field, &area, &original);
        return Mode::Browse;
    }
    if key.ctrl && key.code == K::Char('f') {
        ed.message = Some("search (regex): type, Enter finds next, Esc back".into());
        return Mode::Search {
            field,
            area,
            original,
            query: String::new(),
        };
    }
    let modified = match (key.code, key.ctrl, key.alt) {
        // Common undo/redo keys besides the text area's own Ctrl-U / Ctrl-R.
        (K::Char('z'), true, false) => area.undo(),
        (K::Char('y'), true, false) => area.redo(),
        // Word movement on Ctrl-arrows as well as Alt-b / Alt-f.
        (K::Left, true, _) => {
            area.move_cursor(ratatui_textarea::CursorMove::WordBack);
            false
        }
        (K::Right, true, _) => {
            area.move_cursor(ratatui_textarea::CursorMove::WordForward);
            false
        }
        _ => area.input(input(key)),
    };
    ed.mode = Mode::Edit {
        field,
        area,
        original,
    };
    if modified {
        sync(ed, field);
    }
    std::mem::replace(&mut ed.mode, Mode::Browse)
}

fn search_key(
    ed: &mut Editor,
    field: Field,
    mut area: Box<TextArea<'static>>,
    original: String,
    mut query: String,
    key: Key,
) -> Mode {
    use KeyCode as K;
    match key.code {
        K::Esc => {
            ed.message = None;
            return Mode::Edit {
                field,
                area,
                original,
            };
        }
        K::Enter => {
            if !query.is_empty() {
                if let Err(e) = area.set_search_pattern(&query) {
                    ed.message = Some(format!(
                        "bad pattern: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ));
                    return Mode::Search {
                        field,
                        area,
                        original,
                        query,
                    };
                }
            }
            ed.message = Some(if area.search_forward(false) {
                "found".into()
            } else {
                format!("{query:?} not found")
            });
            return Mode::Edit {
                field,
                area,
                original,
            };
        }
        K::Backspace => {
            query.pop();
        }
        K::Char(c) if !key.ctrl => query.push(c),
        _ => {}
    }
    Mode::Search {
        field,
        area,
        original,
        query,
    }
}

#[cfg(test)]
mod tests;
