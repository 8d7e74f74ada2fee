use super::*;
use crate::postmortem::store::Drafts;
use crate::theme::Palette;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(c: char) -> Msg {
    Msg::Key(Key::char(c))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(Key::plain(c))
}

fn feed(ed: &mut Editor, msgs: impl IntoIterator<Item = Msg>) {
    for m in msgs {
        update(ed, m);
    }
}

fn typed(s: &str) -> Vec<Msg> {
    s.chars().map(key).collect()
}

fn goto(ed: &mut Editor, s: Section) {
    while ed.current_section() != s {
        update(ed, code(KeyCode::Tab));
    }
}

fn screen(ed: &Editor, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| view::render(ed, &Palette::default(), " saved", f))
        .expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        let mut x = 0;
        while x < w {
            let s = buf[(x, y)].symbol();
            line.push_str(s);
            // A wide character covers the next cell too.
            x += unicode_width::UnicodeWidthStr::width(s).max(1) as u16;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn typing_in_a_field_updates_the_draft_and_undo_takes_it_back() {
    let mut ed = Editor::new(Draft::default());
    feed(&mut ed, [code(KeyCode::Enter)]);
    feed(&mut ed, typed("Settlement 積压 🚨"));
    assert_eq!(ed.draft.title, "Settlement 積压 🚨");
    let rev = ed.revision;
    assert!(rev > 0);
    feed(&mut ed, [Msg::Key(Key::ctrl('u'))]);
    assert_ne!(ed.draft.title, "Settlement 積压 🚨", "undo");
    feed(&mut ed, [Msg::Key(Key::ctrl('r'))]);
    assert_eq!(ed.draft.title, "Settlement 積压 🚨", "redo");
    feed(&mut ed, [code(KeyCode::Enter)]);
    assert!(
        matches!(ed.mode, Mode::Browse),
        "Enter leaves a one-line field"
    );
}

#[test]
fn a_bad_time_is_refused_with_a_message_and_the_old_value_kept() {
    let mut ed = Editor::new(Draft::default());
    // Title, Severity, Status, Owner, Started.
    feed(
        &mut ed,
        [key('j'), key('j'), key('j'), key('j'), code(KeyCode::Enter)],
    );
    feed(&mut ed, typed("soon"));
    feed(&mut ed, [code(KeyCode::Esc)]);
    assert_eq!(ed.draft.started_at, None);
    assert!(
        ed.message
            .as_deref()
            .is_some_and(|m| m.contains("not a time"))
    );
    feed(&mut ed, [code(KeyCode::Enter)]);
    feed(&mut ed, typed("2026-11-26 06:15"));
    feed(&mut ed, [code(KeyCode::Enter)]);
    assert_eq!(
        ed.draft
            .started_at
            .map(crate::postmortem::model::format_time)
            .as_deref(),
        Some("2026-11-26 06:15 UTC")
    );
}

#[test]
fn bracketed_paste_goes_in_whole_and_multi_line_fields_keep_lines() {
    let mut ed = Editor::new(Draft::default());
    goto(&mut ed, Section::Summary);
    update(
        &mut ed,
        Msg::Paste("line one\r\nline two | \\ ]]>\x1b[31m".into()),
    );
    assert_eq!(ed.draft.summary, "line one\nline two | \\ ]]>\x1b[31m");
    update(&mut ed, code(KeyCode::Esc));
    // Shown sanitised: no raw escape reaches the terminal.
    let shown = screen(&ed, 80, 24);
    assert!(!shown.contains('\x1b'), "{shown}");
}

#[test]
fn why_tree_add_branch_move_and_delete_with_confirmation() {
    let mut ed = Editor::new(Draft::default());
    goto(&mut ed, Section::Whys);
    feed(&mut ed, [key('a')]);
    let root = ed.draft.whys[0].id;
    feed(&mut ed, [code(KeyCode::Enter)]);
    feed(&mut ed, typed("settlement queue backed up"));
    feed(&mut ed, [code(KeyCode::Esc), key('a')]);
    let child = ed.draft.whys[0].children[0].id;
    feed(&mut ed, [key('b')]);
    let sibling = ed.draft.whys[0].children[1].id;
    assert_eq!(ed.draft.why(root).map(|w| w.children.len()), Some(2));
    feed(&mut ed, [key('K')]);
    let order: Vec<u32> = ed.draft.whys[0].children.iter().map(|w| w.id).collect();
    assert_eq!(order, vec![sibling, child]);
    // Confidence is a choice: → steps it.
    feed(&mut ed, [key('j'), key('j'), code(KeyCode::Right)]);
    assert_eq!(
        ed.draft.why(sibling).map(|w| w.confidence),
        Some(crate::postmortem::model::Confidence::High)
    );
    feed(&mut ed, [key('d')]);
    assert!(matches!(ed.mode, Mode::Confirm(Target::Why(id)) if id == sibling));
    feed(&mut ed, [key('n')]);
    assert!(ed.draft.why(sibling).is_some(), "n keeps it");
    feed(&mut ed, [key('d'), key('y')]);
    assert!(ed.draft.why(sibling).is_none());
    assert_eq!(ed.draft.flat_whys().len(), 2);
}

#[test]
fn checks_panel_shows_warnings_and_updates_as_the_draft_changes() {
    let mut ed = Editor::new(Draft::default());
    goto(&mut ed, Section::Whys);
    feed(&mut ed, [key('a'), code(KeyCode::Enter)]);
    feed(&mut ed, typed("ops forgot to restart the consumer"));
    feed(&mut ed, [code(KeyCode::Esc)]);
    let before = screen(&ed, 100, 30);
    assert!(before.contains("blames a person (forgot)"), "{before}");
    assert!(before.contains("is 1 deep"), "{before}");
    insta::assert_snapshot!("editor_whys_100x30", before);
    // Going two whys deeper clears the depth warning.
    feed(&mut ed, [key('a'), key('a')]);
    let after: Vec<String> = ed.warnings().into_iter().map(|w| w.text).collect();
    assert!(!after.iter().any(|t| t.contains("deep")), "{after:?}");
}

#[test]
fn autosave_then_reload_gives_back_the_draft() {
    let dir = tempfile::tempdir().expect("dir");
    let drafts = Drafts::new(dir.path().to_path_buf());
    let mut ed = Editor::new(Draft::new("PM-test".into(), chrono::Utc::now()));
    feed(&mut ed, [code(KeyCode::Enter)]);
    feed(&mut ed, typed("支払い | pipes \\ and ]]>"));
    feed(&mut ed, [code(KeyCode::Enter)]);
    goto(&mut ed, Section::Actions);
    feed(&mut ed, [key('a'), key('j'), code(KeyCode::Right)]);
    drafts.save(&ed.draft).expect("save");
    let back = drafts.load("PM-test").expect("load");
    assert_eq!(back, ed.draft);
    assert_eq!(
        back.actions[0].kind,
        crate::postmortem::model::ActionKind::Detect
    );
}

#[test]
fn the_header_screen_at_80x24() {
    let mut d = Draft::new("PM-20261126-061500".into(), chrono::DateTime::UNIX_EPOCH);
    d.title = "结算队列积压 settlement backlog".into();
    d.owner = "oncall@example.com".into();
    let ed = Editor::new(d);
    insta::assert_snapshot!("editor_header_80x24", screen(&ed, 80, 24));
}

/// Esc leaves the field being edited and never the editor (it used to
/// close it, and the next keys went to the live cockpit); q closes it.
#[test]
fn esc_closes_only_the_field_and_q_closes_the_editor() {
    let mut ed = Editor::new(Draft::default());
    feed(&mut ed, [code(KeyCode::Enter)]);
    feed(&mut ed, typed("Lock storm"));
    feed(&mut ed, [code(KeyCode::Esc)]);
    assert!(matches!(ed.mode, Mode::Browse), "Esc leaves the field");
    assert!(!ed.quit);
    feed(&mut ed, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    assert!(!ed.quit, "Esc in browse does not close the editor");
    assert_eq!(
        ed.message.as_deref(),
        Some("Esc closes a field; q closes the editor (the draft is saved)")
    );
    assert_eq!(ed.draft.title, "Lock storm");
    feed(&mut ed, [key('q')]);
    assert!(ed.quit);
}

/// With the last save failed, q asks once before closing (what is on
/// screen would be lost); any other key in between takes the question back.
#[test]
fn q_asks_once_when_the_draft_is_not_saved() {
    let mut ed = Editor::new(Draft::default());
    ed.save_failed = true;
    feed(&mut ed, [key('q')]);
    assert!(!ed.quit, "asks first");
    assert_eq!(
        ed.message.as_deref(),
        Some(
            "the draft is NOT saved (see the title line): q again closes without it, Ctrl-S tries again"
        )
    );
    feed(&mut ed, [key('j'), key('q')]);
    assert!(!ed.quit, "j took the question back; this q asks again");
    feed(&mut ed, [key('q')]);
    assert!(ed.quit);
    let mut saved = Editor::new(Draft::default());
    feed(&mut saved, [key('q')]);
    assert!(saved.quit, "saved: q closes at once");
}
