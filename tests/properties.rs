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
use proptest::test_runner::FileFailurePersistence;
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
    // A failure's seed is saved beside this file and replayed before new
    // cases: the saved ones are also named tests below, so they are
    // replayed even when the strategies change and the seeds drift.
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
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

/// The case saved in `properties.proptest-regressions` (three `/` then
/// U+202E: the filter prompt taking a bidi override), replayed by name so
/// it runs whatever the strategies generate.
#[test]
fn saved_case_slashes_then_a_bidi_override_keep_the_cockpit_drawable() {
    let mut state = orderdeck::fixtures::state(100, 30, "dark", ColorDepth::Ansi256, 30);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    for c in ['/', '/', '/', '\u{202e}'] {
        let _ = update(&mut state, Msg::Key(Key::char(c)));
    }
    terminal
        .draw(|f| orderdeck::ui::render(&state, f))
        .expect("draw");
    for cell in terminal.backend().buffer().content() {
        assert!(is_safe(cell.symbol()), "{:?}", cell.symbol());
    }
}

// Postmortem drafts: the loader and the three exports.

#[path = "common/export_checks.rs"]
mod export_checks;

use orderdeck::postmortem::model::{ActionItem, Draft, TimelineRow};
use orderdeck::postmortem::store::{Drafts, StoreError};

/// Pieces of text that have broken exporters before, or could: terminal
/// sequences, C1, bidi overrides, XML and Markdown and wiki markup.
const HOSTILE: &[&str] = &[
    "\u{1b}[31m",
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}P",
    "\u{7}",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{9b}2J",
    "\u{202e}",
    "\u{2066}",
    "\u{2028}",
    "\u{feff}",
    "\u{fffe}",
    "\u{ffff}",
    "]]>",
    "<![CDATA[",
    "<",
    ">",
    "&",
    "&amp;",
    "\"",
    "'",
    "|",
    "||",
    "\\",
    "\\|",
    "`",
    "*",
    "_",
    "#",
    "- ",
    "+ ",
    "1. ",
    "1) ",
    "===",
    "---",
    "> ",
    "[x](javascript:alert(1))",
    "{code}",
    "h1. ",
    "\n",
    "\r",
    "\r\n",
    "\n\n",
    "\t",
    "    ",
    " ",
    "订单",
    "🚨",
    "a",
];

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(HOSTILE), 0..12).prop_map(|v| v.concat()),
        any::<String>(),
        // Very long: one pasted log line.
        (prop::sample::select(HOSTILE), 1000usize..5000).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn time() -> impl Strategy<Value = chrono::DateTime<chrono::Utc>> {
    (0i64..4_000_000_000).prop_map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default())
}

/// A draft with hostile text in every text field, a small why tree and
/// action items pointing at its whys.
fn hostile_draft() -> impl Strategy<Value = Draft> {
    (
        prop::collection::vec(hostile_text(), 16),
        prop::collection::vec((time(), hostile_text(), hostile_text()), 0..4),
        prop::collection::vec(
            (
                hostile_text(),
                hostile_text(),
                hostile_text(),
                hostile_text(),
            ),
            0..4,
        ),
        prop::collection::vec((hostile_text(), hostile_text(), 0u32..6), 0..4),
        (
            any::<i64>(),
            any::<Option<u64>>(),
            prop::option::of(time()),
            prop::option::of(time()),
        ),
    )
        .prop_map(
            |(t, timeline, whys, actions, (cents, customers, start, end))| {
                let mut d = Draft::new(format!("PM-{}", t[0].len()), chrono::Utc::now());
                d.title = t[0].clone();
                d.owner = t[1].clone();
                d.summary = t[2].clone();
                d.impact.currency = t[3].clone();
                d.impact.sla_breaches = t[4].clone();
                d.impact.notes = t[5].clone();
                d.impact.amount_stuck_cents = cents;
                d.impact.customers_affected = customers;
                d.detection.how = t[6].clone();
                d.detection.halve_it = t[7].clone();
                d.root_cause = t[8].clone();
                d.contributing = t[9].clone();
                d.went_well = t[10].clone();
                d.went_wrong = t[11].clone();
                d.lucky = t[12].clone();
                d.runbook_updates = t[13].clone();
                d.started_at = start;
                d.resolved_at = end;
                d.timeline = timeline
                    .into_iter()
                    .map(|(at, source, what)| TimelineRow { at, source, what })
                    .collect();
                let mut parent = None;
                for (answer, evidence, _, _) in &whys {
                    let id = match parent {
                        Some(p) => d.add_child_why(p).unwrap_or_default(),
                        None => d.add_root_why(String::new()),
                    };
                    if let Some(w) = d.why_mut(id) {
                        w.answer = answer.clone();
                        w.evidence = evidence.clone();
                    }
                    parent = Some(id);
                }
                if let Some((_, _, a, _)) = whys.first() {
                    d.add_root_why(a.clone());
                }
                d.actions = actions
                    .into_iter()
                    .map(|(what, owner, answers)| ActionItem {
                        what,
                        owner: owner.clone(),
                        ticket: owner,
                        answers: Some(answers),
                        ..ActionItem::default()
                    })
                    .collect();
                d.suggestions = vec![t[14].clone(), t[15].clone()];
                d
            },
        )
}

/// A valid draft's JSON with a few bytes cut out, replaced or inserted:
/// the near misses that random bytes rarely produce.
fn damaged_draft_json() -> impl Strategy<Value = Vec<u8>> {
    let valid = {
        let mut d = Draft::new("PM-x".into(), chrono::DateTime::UNIX_EPOCH);
        d.title = "Settlement backlog".into();
        d.add_root_why("backlog".into());
        d.actions.push(ActionItem::default());
        d.timeline.push(TimelineRow {
            at: chrono::DateTime::UNIX_EPOCH,
            source: "cockpit".into(),
            what: "stuck".into(),
        });
        serde_json::to_vec_pretty(&d).unwrap_or_default()
    };
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 0..6).prop_map(
        move |edits| {
            let mut bytes = valid.clone();
            for (at, kind, b) in edits {
                let i = at.index(bytes.len().max(1)).min(bytes.len());
                match kind {
                    0 if i < bytes.len() => {
                        bytes.truncate(i);
                    }
                    1 if i < bytes.len() => bytes[i] = b,
                    _ => bytes.insert(i, b),
                }
            }
            bytes
        },
    )
}

/// Loads `bytes` as draft `PM-x` and checks the store's promise: a draft,
/// or one printable line naming the file; a corrupt file moved aside byte
/// for byte, anything else left in place.
fn load_property(bytes: &[u8]) -> Result<Option<Draft>, TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let drafts = Drafts::new(dir.path().to_path_buf());
    let path = dir.path().join("PM-x.json");
    std::fs::write(&path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match drafts.load("PM-x") {
        Ok(d) => {
            prop_assert_eq!(&d.id, "PM-x");
            Ok(Some(d))
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.chars().any(char::is_control), "{:?}", msg);
            prop_assert!(msg.starts_with(&format!("{}:", path.display())), "{}", msg);
            prop_assert!(msg.chars().count() < 1500, "{}", msg);
            match &e {
                StoreError::Corrupt { moved_to, .. } => {
                    prop_assert!(!path.exists());
                    prop_assert_eq!(std::fs::read(moved_to).ok(), Some(bytes.to_vec()));
                }
                _ => prop_assert_eq!(std::fs::read(&path).ok(), Some(bytes.to_vec())),
            }
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Any text in every field: no export panics or holds a control byte,
    /// the storage export is XML, Markdown tables keep their columns.
    #[test]
    fn any_draft_text_exports_cleanly(d in hostile_draft()) {
        if let Err(e) = export_checks::all_exports(&d) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// A damaged draft file loads, or is one clean line and kept aside; a
    /// draft that loads exports cleanly too.
    #[test]
    fn any_damaged_draft_loads_or_is_kept_aside(bytes in damaged_draft_json()) {
        if let Some(d) = load_property(&bytes)? {
            if let Err(e) = export_checks::all_exports(&d) {
                return Err(TestCaseError::fail(e));
            }
        }
    }

    #[test]
    fn any_bytes_as_a_draft_load_or_give_one_clean_line(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        load_property(&bytes)?;
    }
}
