//! Never commit by accident: key sequences with timing, through the pure
//! core with explicit monotonic timestamps (`update_at`), no wall clock.
//!
//! The rules: the key that opens a preview never confirms it; a preview
//! ignores keys within 500 ms of opening; proceeding is Tab to Proceed and
//! Enter (or the typed count for a bulk fix); for 500 ms after an overlay
//! or the editor closes, remediation keys and quit are swallowed; a late
//! preview never replaces what is open; quitting with a fix in flight asks.

use orderdeck::action::{Effect, Msg};
use orderdeck::fixtures;
use orderdeck::remedy::{Preview, Request};
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::{Mode, Pane, State, update_at};
use orderdeck::theme::ColorDepth;

fn cockpit() -> State {
    fixtures::state(120, 40, "dark", ColorDepth::TrueColor, 5)
}

fn key(s: &mut State, ms: u64, k: Key) -> Vec<Effect> {
    update_at(s, Msg::Key(k), ms)
}

fn tab() -> Key {
    Key::plain(KeyCode::Tab)
}

fn enter() -> Key {
    Key::plain(KeyCode::Enter)
}

fn esc() -> Key {
    Key::plain(KeyCode::Esc)
}

/// The request a remediation key produced (its `PreviewRemedy` effect).
fn asked(effects: &[Effect]) -> Option<Request> {
    effects.iter().find_map(|e| match e {
        Effect::PreviewRemedy(r) => Some(r.clone()),
        _ => None,
    })
}

fn committed(effects: &[Effect]) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::ExecuteRemedy(_)))
}

/// Presses `k` at `ms` and lets its preview (expecting `expected` rows)
/// arrive at `arrive_ms`: the dialog opens then.
fn open(s: &mut State, k: Key, ms: u64, arrive_ms: u64, expected: u64) -> Request {
    let request = asked(&key(s, ms, k)).expect("the key asks for a preview");
    let preview = Preview::fixture(request.clone(), expected);
    let effects = update_at(s, Msg::RemedyPreview(Box::new(Ok(preview))), arrive_ms);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(s.mode, Mode::Remedy(_)), "the dialog is open");
    request
}

/// Issue 22: a remediation key, then the deliberate confirmation (Tab to
/// Proceed, Enter) at 0, 50, 200 and 600 ms after the dialog opened. Only
/// the one after the 500 ms guard commits.
#[test]
fn a_proceed_commits_only_after_the_guard() {
    for (delay, commits) in [(0, false), (50, false), (200, false), (600, true)] {
        let mut s = cockpit();
        open(&mut s, Key::char('y'), 1_000, 1_000, 1);
        let mut effects = key(&mut s, 1_000 + delay, tab());
        effects.extend(key(&mut s, 1_000 + delay, enter()));
        assert_eq!(committed(&effects), commits, "Tab Enter at +{delay} ms");
        if !commits {
            assert!(
                matches!(&s.mode, Mode::Remedy(d) if !d.proceed),
                "+{delay} ms: still asking, still on Cancel"
            );
        }
    }
}

/// The opening key and the old one-key yes: `y` (the resync key itself),
/// at any delay, never confirms, and neither does Enter on Cancel.
#[test]
fn the_opening_key_and_y_never_confirm_at_any_delay() {
    for delay in [0, 50, 200, 600, 5_000] {
        let mut s = cockpit();
        open(&mut s, Key::char('y'), 1_000, 1_010, 1);
        let mut effects = Vec::new();
        for k in [Key::char('y'), Key::char('y'), enter(), Key::char('y')] {
            effects.extend(key(&mut s, 1_010 + delay, k));
        }
        assert!(!committed(&effects), "+{delay} ms: {effects:?}");
    }
}

/// The PTY test's sequence in the core: each remediation key, then `y`,
/// Enter and the same key again, typed as fast as a terminal delivers them.
#[test]
fn every_remediation_key_then_y_enter_and_itself_commits_nothing() {
    for c in ['u', 'r', 'c', 'y', 'x', 'd', 'H'] {
        let mut s = cockpit();
        if c == 'd' {
            key(&mut s, 0, Key::char('1'));
            assert_eq!(s.focus, Pane::Queues);
        }
        let expected = if c == 'H' || c == 'd' { 3 } else { 1 };
        open(&mut s, Key::char(c), 100, 150, expected);
        let mut effects = Vec::new();
        for (i, k) in [Key::char('y'), enter(), Key::char(c)]
            .into_iter()
            .enumerate()
        {
            effects.extend(key(&mut s, 150 + 30 * i as u64, k));
        }
        assert!(!committed(&effects), "{c}: {effects:?}");
        assert!(matches!(s.mode, Mode::Remedy(_)), "{c}: still asking");
    }
}

/// A bulk fix takes its count typed after the guard; typed during it, the
/// count is ignored.
#[test]
fn a_bulk_count_typed_inside_the_guard_is_ignored() {
    let mut s = cockpit();
    open(&mut s, Key::char('H'), 0, 0, 3);
    let mut effects = key(&mut s, 100, Key::char('3'));
    effects.extend(key(&mut s, 120, enter()));
    assert!(!committed(&effects), "{effects:?}");
    assert!(matches!(&s.mode, Mode::Remedy(d) if d.typed.text.is_empty()));
    key(&mut s, 700, Key::char('3'));
    let effects = key(&mut s, 720, enter());
    assert!(committed(&effects), "{effects:?}");
    assert_eq!(s.mode, Mode::Normal);
}

/// Esc cancels at once, even inside the guard: cancelling is always safe.
#[test]
fn esc_cancels_even_inside_the_guard() {
    let mut s = cockpit();
    open(&mut s, Key::char('u'), 0, 0, 1);
    let effects = key(&mut s, 10, esc());
    assert!(
        matches!(effects.as_slice(), [Effect::DeclineRemedy(_)]),
        "{effects:?}"
    );
    assert_eq!(s.mode, Mode::Normal);
}

/// A preview that arrives after Esc is not shown; it goes back to be
/// audited as refused.
#[test]
fn a_preview_arriving_after_esc_is_dropped() {
    let mut s = cockpit();
    let request = asked(&key(&mut s, 0, Key::char('u'))).expect("asked");
    key(&mut s, 40, esc());
    let effects = update_at(
        &mut s,
        Msg::RemedyPreview(Box::new(Ok(Preview::fixture(request.clone(), 1)))),
        300,
    );
    assert_eq!(s.mode, Mode::Normal, "no dialog");
    assert_eq!(
        effects,
        vec![Effect::RefuseRemedy {
            request,
            why: "preview dropped before it arrived (Esc): nothing changed".into(),
        }]
    );
}

/// A preview that arrives while the user has opened something else does
/// not replace it.
#[test]
fn a_preview_arriving_over_another_dialog_does_not_replace_it() {
    let mut s = cockpit();
    let request = asked(&key(&mut s, 0, Key::char('x'))).expect("asked");
    key(&mut s, 30, Key::char(':'));
    orderdeck::state::update_at(&mut s, Msg::Key(Key::char('g')), 40);
    let effects = update_at(
        &mut s,
        Msg::RemedyPreview(Box::new(Ok(Preview::fixture(request.clone(), 1)))),
        300,
    );
    assert!(
        matches!(&s.mode, Mode::Command(i) if i.text == "g"),
        "the command line is still open, with what was typed: {:?}",
        s.mode
    );
    assert_eq!(
        effects,
        vec![Effect::RefuseRemedy {
            request,
            why: "preview arrived while another dialog was open; not shown: nothing changed".into(),
        }]
    );
}

/// A second remediation key while a preview is on its way asks for nothing.
#[test]
fn a_second_key_while_a_preview_is_on_its_way_asks_for_nothing() {
    let mut s = cockpit();
    assert!(asked(&key(&mut s, 0, Key::char('u'))).is_some());
    let effects = key(&mut s, 100, Key::char('c'));
    assert!(asked(&effects).is_none(), "{effects:?}");
    let m = s.message.clone().expect("says why");
    assert_eq!(
        m.text,
        "a release_lock preview is on its way: wait for it, or Esc to drop it"
    );
}

/// Closing help with q: a remediation key right behind it acts on nothing
/// for 500 ms; after that it works again.
#[test]
fn keys_right_after_an_overlay_closes_do_not_act() {
    let mut s = cockpit();
    key(&mut s, 0, Key::char('?'));
    key(&mut s, 100, Key::char('q'));
    assert_eq!(s.mode, Mode::Normal);
    let effects = key(&mut s, 200, Key::char('y'));
    assert!(asked(&effects).is_none(), "{effects:?}");
    assert_eq!(
        s.message.as_ref().map(|m| m.text.as_str()),
        Some("y ignored: it came right after closing a dialog; press it again")
    );
    key(&mut s, 550, Key::char('j'));
    assert_eq!(s.orders.scroll.cursor, 1, "moving is never swallowed");
    let effects = key(&mut s, 650, Key::char('y'));
    assert!(asked(&effects).is_some(), "{effects:?}");
}

/// `p`, Esc, `y`, `y` once ran a resync: the editor closing is a closed
/// overlay like any other.
#[test]
fn keys_right_after_the_editor_closes_do_not_act() {
    let mut s = cockpit();
    let effects = key(&mut s, 0, Key::char('p'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::OpenPostmortem { .. }]
    ));
    update_at(&mut s, Msg::EditorClosed, 5_000);
    let mut effects = key(&mut s, 5_050, Key::char('y'));
    effects.extend(key(&mut s, 5_100, Key::char('y')));
    assert!(asked(&effects).is_none(), "{effects:?}");
    let effects = key(&mut s, 5_600, Key::char('y'));
    assert!(asked(&effects).is_some(), "{effects:?}");
}

/// Back on the cockpit from the wallboard, the keys behind `w` are quiet.
#[test]
fn keys_right_after_leaving_the_wallboard_do_not_act() {
    let mut s = cockpit();
    key(&mut s, 0, Key::char('w'));
    key(&mut s, 1_000, Key::char('w'));
    assert!(!s.wallboard.is_shown());
    let effects = key(&mut s, 1_100, Key::char('u'));
    assert!(asked(&effects).is_none(), "{effects:?}");
}

/// Quit asks when a preview is open, on its way, or a step is running;
/// y or a second Ctrl-C quits, anything else stays.
#[test]
fn quit_asks_while_a_fix_is_open_or_in_flight() {
    // A preview on its way: q asks, n stays.
    let mut s = cockpit();
    key(&mut s, 0, Key::char('u'));
    key(&mut s, 1_000, Key::char('q'));
    assert!(!s.quit, "asks first");
    assert_eq!(
        s.message.as_ref().map(|m| m.text.as_str()),
        Some("quit? a remediation preview is on its way: y quits, n stays (Ctrl-C again quits)")
    );
    key(&mut s, 1_100, Key::char('n'));
    assert!(!s.quit);
    // A preview open: Ctrl-C asks, a second Ctrl-C quits.
    let mut s = cockpit();
    open(&mut s, Key::char('u'), 0, 0, 1);
    key(&mut s, 1_000, Key::ctrl('c'));
    assert!(!s.quit, "asks first");
    key(&mut s, 1_050, Key::ctrl('c'));
    assert!(s.quit, "Ctrl-C twice quits");
    // A fix running: q asks (even after other news), y quits.
    let mut s = cockpit();
    open(&mut s, Key::char('u'), 0, 0, 1);
    key(&mut s, 600, tab());
    assert!(committed(&key(&mut s, 700, enter())));
    key(&mut s, 2_000, Key::char('q'));
    assert!(!s.quit);
    assert_eq!(
        s.message.as_ref().map(|m| m.text.as_str()),
        Some(
            "quit? a remediation step is still running (or being audited): y quits, n stays (Ctrl-C again quits)"
        )
    );
    key(&mut s, 2_100, Key::char('y'));
    assert!(s.quit);
    // Nothing in flight: q quits at once.
    let mut s = cockpit();
    key(&mut s, 0, Key::char('q'));
    assert!(s.quit);
}

/// When the running fix reports back, q quits at once again.
#[test]
fn quit_no_longer_asks_once_the_fix_has_reported() {
    let mut s = cockpit();
    open(&mut s, Key::char('u'), 0, 0, 1);
    key(&mut s, 600, tab());
    assert!(committed(&key(&mut s, 700, enter())));
    update_at(
        &mut s,
        Msg::RemedyDone(orderdeck::remedy::Report {
            outcome: orderdeck::remedy::audit::Outcome::Ok,
            affected: 1,
            message: "release_lock ok".into(),
        }),
        900,
    );
    key(&mut s, 2_000, Key::char('q'));
    assert!(s.quit);
}

/// The wallboard has no selection: a refused key is aimed at nothing, so
/// its audit touches no order's timeline (it used to name whatever order
/// the cockpit had selected behind the wall).
#[test]
fn a_wallboard_refusal_aims_at_no_order() {
    let mut s = cockpit();
    assert!(s.orders.selected().is_some(), "the cockpit has a selection");
    key(&mut s, 0, Key::char('w'));
    let effects = key(&mut s, 100, Key::char('u'));
    assert_eq!(
        effects,
        vec![Effect::RefuseRemedy {
            request: Request::Unaimed {
                action: "release_lock".into()
            },
            why: "wallboard is read-only".into(),
        }]
    );
}
