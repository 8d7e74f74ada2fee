//! Bounded property tests for what orderdeck takes from outside: a user
//! runbook, the `/` filter, any key sequence into the pure core, and any
//! text in a stuck order's fields. (The sanitiser, config, theme and alert
//! expression parsers have theirs beside their code; the `cargo fuzz`
//! targets in `fuzz/` run the same properties without a bound.)

use chrono::Duration;
use orderdeck::action::Msg;
use orderdeck::model::{DetectionSnapshot, Family, StuckOrder};
use orderdeck::runbook::Runbook;
use orderdeck::sanitize::is_safe;
use orderdeck::state::filter::Filter;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::update;
use orderdeck::theme::ColorDepth;
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Pieces of plausible and hostile runbook text: random concatenations
/// reach the validation paths far more often than random bytes do.
const RUNBOOK_FRAGMENTS: &[&str] = &[
    "\n",
    "[[rule]]\n",
    "[rule]\n",
    "id = ",
    "family = ",
    "title = ",
    "severity = ",
    "sql = ",
    "threshold_minutes = ",
    "threshold_hours = ",
    "causes = ",
    "remediations = ",
    "enabled = ",
    "\"ghost\"",
    "\"zombi\"",
    "\"my.rule\"",
    "\"\"",
    "\"high\"",
    "\"SELECT id AS order_id FROM orders WHERE x < :cutoff LIMIT :limit\"",
    "\"SELECT :nope\"",
    "\"SELECT ':cutoff' -- :limit\"",
    "'''SELECT ? '''",
    "0",
    "-1",
    "18446744073709551615",
    "true",
    "[\"a\", 1]",
    "\"\u{1b}]0;pwned\u{7}\"",
    "\u{202e}",
    "\"",
    "=",
    "#",
];

fn key_strategy() -> impl Strategy<Value = Msg> {
    let chars = prop::sample::select(vec![
        ':', '/', '?', 'j', 'k', 'g', 'G', 's', 'S', 't', 'z', 'q', '1', '2', '3', '-', ' ', 'a',
        'o', 'e', 'r', 'h', 'f', 'i', 'l', 'c', 'x', '\'', ';', '订', '\u{202e}',
    ]);
    let special = prop::sample::select(vec![
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
    ]);
    prop_oneof![
        6 => chars.prop_map(|c| Msg::Key(Key::char(c))),
        3 => special.prop_map(|k| Msg::Key(Key::plain(k))),
        1 => (1u16..220, 1u16..70).prop_map(|(width, height)| Msg::Resize { width, height }),
    ]
}

fn order(i: i64, text: String) -> StuckOrder {
    StuckOrder {
        order_id: i,
        order_no: text.clone(),
        family: [Family::Ghost, Family::Split, Family::Zombie][(i % 3) as usize],
        rule_id: "ghost.pending_review".into(),
        status: text.clone(),
        since: orderdeck::fixtures::now() - Duration::minutes(i),
        sku: text.clone(),
        supplier_id: i,
        amount_cents: i * 100,
        detail: text,
    }
}

proptest! {
    // Integration tests have no lib.rs beside them to persist failures to.
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_runbook_text_gives_rules_or_one_clean_line(
        parts in prop::collection::vec(prop::sample::select(RUNBOOK_FRAGMENTS), 0..20),
        noise in "\\PC{0,30}",
    ) {
        let src = format!("{}{noise}", parts.concat());
        match Runbook::parse(&src, "/r/runbook.toml") {
            Ok(user) => {
                let merged = Runbook::builtin().merge(user);
                prop_assert!(merged.rules.len() >= Runbook::builtin().rules.len());
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.chars().any(char::is_control), "{:?}", msg);
                prop_assert!(msg.starts_with("/r/runbook.toml:"), "{}", msg);
                prop_assert!(msg.chars().count() < 700, "{}", msg);
            }
        }
    }

    #[test]
    fn any_filter_parses_or_says_why_and_matches_without_panicking(
        text in "\\PC{0,40}|[-a-z:0-9 ]{0,40}",
    ) {
        match Filter::parse(&text) {
            Ok(f) => {
                for o in orderdeck::fixtures::stuck_orders(5) {
                    let _ = f.matches(&o);
                }
            }
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }

    /// Any key sequence, at any size: `update` and `render` never panic,
    /// and nothing drawn holds a control character.
    #[test]
    fn any_keys_keep_the_cockpit_drawable(keys in prop::collection::vec(key_strategy(), 0..60)) {
        let mut state = orderdeck::fixtures::state(100, 30, "dark", ColorDepth::Ansi256, 30);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        for msg in keys {
            if let Msg::Resize { width, height } = msg {
                terminal.backend_mut().resize(width, height);
            }
            let _ = update(&mut state, msg);
        }
        terminal.draw(|f| orderdeck::ui::render(&state, f)).expect("draw");
        for cell in terminal.backend().buffer().content() {
            prop_assert!(is_safe(cell.symbol()), "{:?}", cell.symbol());
        }
    }

    /// Any text in every field of a stuck order: the state keeps it
    /// escaped and capped, and every cell drawn is printable.
    #[test]
    fn any_order_text_is_drawn_escaped(
        texts in prop::collection::vec(any::<String>(), 1..8),
        width in 20u16..200,
        height in 8u16..60,
    ) {
        let mut state = orderdeck::fixtures::state(width, height, "dark", ColorDepth::TrueColor, 0);
        let orders: Vec<StuckOrder> = texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| order(i as i64 + 1, t))
            .collect();
        update(&mut state, Msg::Orders {
            at: orderdeck::fixtures::now(),
            result: Ok(DetectionSnapshot {
                as_of: orderdeck::fixtures::now(),
                orders,
                ..DetectionSnapshot::default()
            }),
        });
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal.draw(|f| orderdeck::ui::render(&state, f)).expect("draw");
        for cell in terminal.backend().buffer().content() {
            prop_assert!(is_safe(cell.symbol()), "{:?}", cell.symbol());
        }
    }
}
