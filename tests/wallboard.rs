//! The wallboard: snapshots at a small and a war-room terminal, a source
//! down with its stale age in big type, the pages and their rotation, and
//! read-only: every remediation key refused, nothing previewed or run.

use chrono::Duration;
use orderdeck::action::{Effect, Msg};
use orderdeck::fixtures;
use orderdeck::model::DetectionSnapshot;
use orderdeck::sources::SourceError;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::wallboard::{Page, Start};
use orderdeck::state::{Level, Mode, State, update};
use orderdeck::theme::ColorDepth;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "common/screen.rs"]
mod screen;
use screen::{draw, text};

fn press(s: &mut State, key: Key) -> Vec<Effect> {
    update(s, Msg::Key(key))
}

fn tab(s: &mut State) {
    press(s, Key::plain(KeyCode::Tab));
}

/// The fixture with the database down since a poll 2m13s ago.
fn db_down(width: u16, height: u16) -> State {
    let mut s = fixtures::wallboard(width, height);
    update(
        &mut s,
        Msg::Orders {
            at: fixtures::now(),
            result: Err(SourceError::new("connection refused")),
        },
    );
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(133)));
    s.message = None;
    s
}

#[test]
fn snapshots_of_the_overview() {
    for (w, h) in [(80, 24), (200, 60), (300, 80)] {
        let s = fixtures::wallboard(w, h);
        insta::assert_snapshot!(format!("overview_{w}x{h}"), text(&draw(&s)));
    }
}

#[test]
fn snapshots_of_the_single_pages_at_80x24() {
    let mut s = fixtures::wallboard(80, 24);
    for page in [Page::Orders, Page::Queues, Page::Alerts] {
        tab(&mut s);
        assert_eq!(s.wallboard.page(), Some(page));
        s.message = None;
        insta::assert_snapshot!(format!("page_{}_80x24", page.name()), text(&draw(&s)));
    }
}

#[test]
fn snapshots_with_the_database_down() {
    for (w, h) in [(80, 24), (300, 80)] {
        let s = db_down(w, h);
        let t = text(&draw(&s));
        insta::assert_snapshot!(format!("db_down_{w}x{h}"), t);
    }
}

/// At 80x24 there is no room for big type on the overview; every number
/// is there as text all the same. The expected numbers are worked out by
/// hand from the fixture (60 orders dealt over 7 rules: 9 to each of the
/// first four, 8 to the last three; amounts 1,999 + 7,919·i cents; the
/// last queue sample), not read back from the state being drawn.
#[test]
fn the_small_overview_shows_every_number() {
    let s = fixtures::wallboard(80, 24);
    let t = text(&draw(&s));
    for want in [
        "ghost 27",
        "split 17",
        "zombie 16",
        "amount 141,365.70",
        "BACKLOG 1,332 ready · 37 dead",
    ] {
        assert!(t.contains(want), "{want} in:\n{t}");
    }
    for (queue, ready) in [
        ("payment.callback", "2"),
        ("inventory.sync", "14"),
        ("fulfillment", "9"),
        ("logistics.updates", "1,280"),
        ("settlement", "16"),
        ("notify.customer", "11"),
    ] {
        let line = t
            .lines()
            .find(|l| l.trim_start().starts_with(queue))
            .unwrap_or_else(|| panic!("{queue} not listed:\n{t}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.get(1), Some(&ready), "{queue}: {line}");
    }
    assert!(t.contains("READ-ONLY"), "{t}");
}

/// From across the room: at 300x80 the counts are drawn in blocks, in the
/// colour their threshold gives them.
#[test]
fn the_large_overview_draws_big_digits_in_threshold_colours() {
    let s = fixtures::wallboard(300, 80);
    let buf = draw(&s);
    let p = s.palette();
    let blocks = |style: ratatui::style::Style| {
        buf.content
            .iter()
            .filter(|c| c.symbol() == "█" && c.fg == style.fg.unwrap_or_default())
            .count()
    };
    // 60 orders over 7 rules: every family is above 10 but below 50,
    // so amber; the amount (well over 100,000) is red.
    assert!(blocks(p.warn) > 100, "amber big digits");
    assert!(blocks(p.critical) > 100, "red big digits");
    // And no cursor, ever.
    let mut terminal = Terminal::new(TestBackend::new(300, 80)).unwrap();
    terminal.show_cursor().unwrap();
    terminal.draw(|f| render(&s, f)).unwrap();
    assert!(!terminal.backend().cursor_visible());
}

#[test]
fn a_down_source_shows_its_data_age_big() {
    let s = db_down(300, 80);
    let t = text(&draw(&s));
    assert!(t.contains("db DOWN"), "{t}");
    assert!(t.contains("showing data 2m13s old"), "{t}");
    let s = db_down(80, 24);
    let t = text(&draw(&s));
    assert!(t.contains("data 2m13s old"), "{t}");
    // A stale one too (polled fine once, silent since).
    let mut s = fixtures::wallboard(300, 80);
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(75)));
    let t = text(&draw(&s));
    assert!(t.contains("db STALE") && t.contains("mq STALE"), "{t}");
}

/// Every key bound to a remediation, in a wallboard entered both ways:
/// refused on the message line, handed to the engine to audit, and never
/// previewed, run or turned into a dialog.
#[test]
fn every_remediation_key_is_refused_on_the_wallboard() {
    let keys: Vec<(Key, _)> = fixtures::wallboard(80, 24)
        .keymap
        .bindings()
        .filter(|(_, a)| a.is_remediation())
        .collect();
    assert_eq!(keys.len(), 7, "u r c y x d H: {keys:?}");
    for from_cockpit in [false, true] {
        for (key, action) in &keys {
            let mut s = if from_cockpit {
                let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
                press(&mut s, Key::char('w'));
                s
            } else {
                fixtures::wallboard(80, 24)
            };
            assert!(s.wallboard.is_shown());
            let effects = press(&mut s, *key);
            let what = format!("{key} ({action:?}), from cockpit {from_cockpit}");
            assert!(
                !effects.iter().any(|e| matches!(
                    e,
                    Effect::PreviewRemedy(_) | Effect::ExecuteRemedy(_) | Effect::DeclineRemedy(_)
                )),
                "{what}: {effects:?}"
            );
            let refused: Vec<_> = effects
                .iter()
                .filter_map(|e| match e {
                    Effect::RefuseRemedy { request, why } => Some((request, why)),
                    _ => None,
                })
                .collect();
            assert_eq!(refused.len(), 1, "{what}: {effects:?}");
            assert_eq!(refused[0].1, "wallboard is read-only");
            let m = s.message.clone().expect("a refusal line");
            assert_eq!(m.level, Level::Error, "{what}");
            assert!(
                m.text.ends_with("refused: wallboard is read-only"),
                "{what}: {}",
                m.text
            );
            assert!(!m.text.contains('\n'));
            assert_eq!(s.mode, Mode::Normal, "{what}: no dialog");
            assert!(s.wallboard.is_shown(), "{what}: still on the wall");
        }
    }
}

/// With nothing to aim at (no stuck order) the key is still refused, and
/// audited as aimed at nothing.
#[test]
fn a_remediation_key_with_nothing_selected_is_still_refused() {
    let mut s = fixtures::wallboard(80, 24);
    update(
        &mut s,
        Msg::Orders {
            at: fixtures::now(),
            result: Ok(DetectionSnapshot {
                as_of: fixtures::now(),
                ..Default::default()
            }),
        },
    );
    let effects = press(&mut s, Key::char('u'));
    assert_eq!(
        effects,
        vec![Effect::RefuseRemedy {
            request: orderdeck::remedy::Request::Unaimed {
                action: "release_lock".into()
            },
            why: "wallboard is read-only".into(),
        }],
        "audited, aimed at no order"
    );
    let m = s.message.expect("a refusal line");
    assert_eq!(m.text, "unlock refused: wallboard is read-only");
}

#[test]
fn w_and_esc_go_back_to_the_cockpit_only_when_they_came_from_it() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    press(&mut s, Key::char('w'));
    assert!(s.wallboard.is_shown());
    assert!(text(&draw(&s)).contains("WALLBOARD"));
    press(&mut s, Key::char('w'));
    assert!(!s.wallboard.is_shown());
    assert!(!text(&draw(&s)).contains("WALLBOARD"));
    press(&mut s, Key::char('w'));
    press(&mut s, Key::plain(KeyCode::Esc));
    assert!(!s.wallboard.is_shown());

    let mut s = fixtures::wallboard(80, 24);
    press(&mut s, Key::char('w'));
    press(&mut s, Key::plain(KeyCode::Esc));
    assert!(
        s.wallboard.is_shown(),
        "`orderdeck wallboard` has no cockpit"
    );
    // No prompt either: `:` would need a cursor.
    press(&mut s, Key::char(':'));
    assert_eq!(s.mode, Mode::Normal);
    press(&mut s, Key::char('q'));
    assert!(s.quit);
}

#[test]
fn rotation_follows_the_ticks_and_redraws() {
    let mut s = fixtures::wallboard(80, 24);
    s.wallboard.open(
        Start {
            rotate_secs: Some(15),
        },
        false,
        fixtures::now(),
    );
    press(&mut s, Key::char('u'));
    let refusal = s.message.clone();
    let mut pages = Vec::new();
    for sec in 1..=60 {
        s.needs_redraw = false;
        update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(sec)));
        assert!(s.needs_redraw, "every second is a change on the wall");
        if sec % 15 == 0 {
            pages.push(s.wallboard.page());
        }
    }
    assert_eq!(
        pages,
        [Page::Orders, Page::Queues, Page::Alerts, Page::All].map(Some)
    );
    assert_eq!(
        s.message, refusal,
        "a refusal outlives the page it was made on"
    );
    // The same second twice changes nothing: no busy redraw.
    s.needs_redraw = false;
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(60)));
    assert!(!s.needs_redraw);
}

/// "Last anomaly" moves when a stuck order appears that was not there
/// before, not when the same rows come again.
#[test]
fn the_last_anomaly_is_the_last_new_stuck_order_or_alert() {
    let mut s = fixtures::wallboard(80, 24);
    assert_eq!(s.wallboard.last_anomaly, Some(fixtures::now()));
    let later = fixtures::now() + Duration::seconds(30);
    let same = fixtures::stuck_orders(60);
    let snap = |orders| Msg::Orders {
        at: later,
        result: Ok(DetectionSnapshot {
            as_of: later,
            orders,
            ..DetectionSnapshot::default()
        }),
    };
    update(&mut s, snap(same.clone()));
    assert_eq!(s.wallboard.last_anomaly, Some(fixtures::now()));
    update(&mut s, snap(fixtures::stuck_orders(61)));
    assert_eq!(s.wallboard.last_anomaly, Some(later));
    // Shown as an age that ticks.
    update(&mut s, Msg::Tick(later + Duration::seconds(133)));
    assert!(text(&draw(&s)).contains("2m13s ago"));
}

/// Without a broker there is no queues page to flip or rotate to.
#[test]
fn pages_without_a_source_are_skipped() {
    let mut s = fixtures::wallboard(80, 24);
    s.broker.health = orderdeck::state::Health::NotConfigured;
    tab(&mut s);
    assert_eq!(s.wallboard.page(), Some(Page::Orders));
    tab(&mut s);
    assert_eq!(s.wallboard.page(), Some(Page::Alerts));
    tab(&mut s);
    assert_eq!(s.wallboard.page(), Some(Page::All));
}

/// The clock keeps its place at the right edge, a space clear of the rest,
/// however long the header gets (a source down, a long environment name).
#[test]
fn the_header_clock_stands_clear_at_80_columns() {
    let mut long = fixtures::wallboard(80, 24);
    long.env.demo = None;
    long.env.name = "production-eu-west-with-a-long-name".into();
    update(
        &mut long,
        Msg::Queues {
            at: fixtures::now(),
            result: Err(SourceError::new("connection refused")),
        },
    );
    for s in [fixtures::wallboard(80, 24), db_down(80, 24), long] {
        let t = text(&draw(&s));
        let header = t.lines().next().unwrap_or_default();
        let clock = orderdeck::ui::text::clock(s.now, s.clock);
        assert!(header.ends_with(&format!(" {clock}")), "{header:?}");
        for label in ["db", "mq"] {
            assert!(
                ["●", "◐", "✖"]
                    .iter()
                    .any(|dot| header.contains(&format!("{label} {dot}"))),
                "{label} keeps its health dot: {header:?}"
            );
        }
    }
}

/// The whole wall is on the theme's background (a washed-out projector
/// shows every patch of terminal default), at every size and page.
#[test]
fn every_cell_has_the_theme_background() {
    for (w, h) in [(80, 24), (300, 80)] {
        let mut s = db_down(w, h);
        for _ in 0..4 {
            let buf = draw(&s);
            let p = s.palette();
            assert!(p.base.bg.is_some());
            // The badges (DEMO, READ-ONLY) have their own.
            let allowed = [p.base.bg, p.badge_demo.bg, p.badge_readonly.bg];
            let off: Vec<_> = buf
                .content
                .iter()
                .enumerate()
                .filter(|(_, c)| !allowed.contains(&Some(c.bg)))
                .map(|(i, c)| (i % w as usize, i / w as usize, c.symbol().to_string()))
                .take(5)
                .collect();
            assert!(off.is_empty(), "{w}x{h} {:?}: {off:?}", s.wallboard.page());
            tab(&mut s);
        }
    }
}
