//! The app core through `update`: keys and data messages in, state and
//! effects out. No terminal, no I/O.

use chrono::Duration;
use orderdeck::action::{Effect, Msg};
use orderdeck::config::ClockMode;
use orderdeck::fixtures;
use orderdeck::model::{DetectionSnapshot, Family, StuckOrder};
use orderdeck::sources::SourceError;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::orders::OrderColumn;
use orderdeck::state::{Health, Level, Mode, Pane, State, update};
use orderdeck::theme::ColorDepth;

fn state_with(n: usize) -> State {
    fixtures::state(120, 40, "dark", ColorDepth::TrueColor, n)
}

fn press(s: &mut State, key: Key) -> Vec<Effect> {
    update(s, Msg::Key(key))
}

fn type_str(s: &mut State, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(press(s, Key::char(c)));
    }
    effects
}

fn enter(s: &mut State) -> Vec<Effect> {
    press(s, Key::plain(KeyCode::Enter))
}

fn orders_msg(rows: Vec<StuckOrder>) -> Msg {
    Msg::Orders {
        at: fixtures::now(),
        result: Ok(DetectionSnapshot {
            as_of: fixtures::now(),
            orders: rows,
            ..DetectionSnapshot::default()
        }),
    }
}

fn selected_no(s: &State) -> String {
    s.orders
        .selected()
        .map(|o| o.order_no.clone())
        .unwrap_or_default()
}

#[test]
fn moving_the_cursor_watches_the_new_orders_timeline() {
    let mut s = state_with(50);
    let first = s.orders.selected().cloned().unwrap();
    let effects = press(&mut s, Key::char('j'));
    let second = s.orders.selected().cloned().unwrap();
    assert_ne!(first.order_id, second.order_id);
    assert_eq!(effects, vec![Effect::WatchOrder(Some(second.order_id))]);
    assert!(
        s.timeline.loading,
        "the pane shows loading until the fetch answers"
    );
    // Moving back and forth ends where it started.
    press(&mut s, Key::plain(KeyCode::Down));
    press(&mut s, Key::char('k'));
    press(&mut s, Key::plain(KeyCode::Up));
    assert_eq!(s.orders.selected().unwrap().order_id, first.order_id);
}

#[test]
fn g_and_shift_g_and_paging_reach_the_ends() {
    let mut s = state_with(500);
    press(&mut s, Key::char('G'));
    assert_eq!(s.orders.scroll.cursor, 499);
    press(&mut s, Key::char('g'));
    assert_eq!(s.orders.scroll.cursor, 0);
    let page = s.orders.scroll.page;
    assert!(page > 5, "page size comes from the layout, got {page}");
    press(&mut s, Key::plain(KeyCode::PageDown));
    assert_eq!(s.orders.scroll.cursor, page);
    press(&mut s, Key::plain(KeyCode::PageUp));
    assert_eq!(s.orders.scroll.cursor, 0);
}

#[test]
fn selection_follows_its_row_when_rows_arrive_and_leave() {
    let mut s = state_with(0);
    let rows = fixtures::stuck_orders(40);
    update(&mut s, orders_msg(rows.clone()));
    for _ in 0..5 {
        press(&mut s, Key::char('j'));
    }
    let chosen = selected_no(&s);
    // New, older orders arrive (they sort above under age-desc).
    let mut more = rows.clone();
    for (i, mut extra) in fixtures::stuck_orders(10).into_iter().enumerate() {
        extra.order_id = 900_000 + i as i64;
        extra.order_no = format!("NEW-{i}");
        extra.since = fixtures::now() - Duration::days(3);
        more.push(extra);
    }
    update(&mut s, orders_msg(more.clone()));
    assert_eq!(selected_no(&s), chosen, "selection follows its order");
    assert!(s.orders.scroll.cursor > 5);

    // The selected order is fixed and leaves: the cursor stays at its position.
    let pos = s.orders.scroll.cursor;
    more.retain(|o| o.order_no != chosen);
    update(&mut s, orders_msg(more));
    assert_eq!(s.orders.scroll.cursor, pos);
    assert_ne!(selected_no(&s), chosen);
}

#[test]
fn identical_data_does_not_ask_for_a_redraw() {
    let mut s = state_with(0);
    let rows = fixtures::stuck_orders(20);
    update(&mut s, orders_msg(rows.clone()));
    s.needs_redraw = false;
    update(&mut s, orders_msg(rows.clone()));
    assert!(
        !s.needs_redraw,
        "same rows, same clock second: nothing to draw"
    );
    let mut changed = rows;
    changed[3].status = "cancelled".into();
    update(&mut s, orders_msg(changed));
    assert!(s.needs_redraw);
}

#[test]
fn filter_applies_while_typing_and_esc_restores_the_previous_one() {
    let mut s = state_with(70);
    assert_eq!(s.orders.visible_len(), 70);
    press(&mut s, Key::char('/'));
    assert!(matches!(s.mode, Mode::Filter { .. }));
    type_str(&mut s, "family:zombie");
    assert_eq!(s.orders.visible_len(), 20);
    assert!(s.orders.visible().all(|o| o.family == Family::Zombie));
    enter(&mut s);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.orders.filter.source(), "family:zombie");

    // Edit it, then cancel: back to family:zombie.
    press(&mut s, Key::char('/'));
    type_str(&mut s, " status:paid");
    assert_eq!(s.orders.visible_len(), 0);
    press(&mut s, Key::plain(KeyCode::Esc));
    assert_eq!(s.orders.visible_len(), 20);

    // Esc in normal mode clears the filter.
    press(&mut s, Key::plain(KeyCode::Esc));
    assert_eq!(s.orders.visible_len(), 70);
}

#[test]
fn a_bad_filter_is_explained_and_not_applied() {
    let mut s = state_with(10);
    press(&mut s, Key::char('/'));
    type_str(&mut s, "family:phantom");
    assert_eq!(
        s.orders.visible_len(),
        10,
        "invalid text leaves the old filter"
    );
    enter(&mut s);
    assert!(
        matches!(s.mode, Mode::Filter { .. }),
        "stays open to fix it"
    );
    let msg = s.message.clone().unwrap();
    assert_eq!(msg.level, Level::Error);
    assert!(msg.text.contains("phantom"));
}

#[test]
fn sort_cycles_reverses_and_obeys_the_command_line() {
    let mut s = state_with(30);
    assert_eq!(s.orders.sort.column, OrderColumn::Age);
    press(&mut s, Key::char('s'));
    assert_eq!(s.orders.sort.column, OrderColumn::Sku);
    press(&mut s, Key::char('S'));
    assert!(s.orders.sort.descending);
    press(&mut s, Key::char(':'));
    type_str(&mut s, "sort amount asc");
    enter(&mut s);
    let amounts: Vec<i64> = s.orders.visible().map(|o| o.amount_cents).collect();
    assert!(amounts.windows(2).all(|w| w[0] <= w[1]), "{amounts:?}");
    press(&mut s, Key::char(':'));
    type_str(&mut s, "sort colour");
    enter(&mut s);
    assert_eq!(s.message.unwrap().level, Level::Error);
}

#[test]
fn goto_clears_the_filter_only_to_show_a_hidden_stuck_order() {
    let mut s = state_with(30);
    press(&mut s, Key::char('/'));
    type_str(&mut s, "family:zombie");
    enter(&mut s);
    let filtered = s.orders.visible_len();
    assert!(filtered < 30);

    // Unknown order: the filter the operator set stays.
    press(&mut s, Key::char(':'));
    type_str(&mut s, "goto CO-NOWHERE");
    let effects = enter(&mut s);
    assert_eq!(effects, vec![Effect::LookupOrder("CO-NOWHERE".into())]);
    assert_eq!(s.orders.visible_len(), filtered);
    assert_eq!(s.orders.filter.source(), "family:zombie");

    // A stuck order hidden by the filter: the filter goes, the row is selected.
    let ghost = fixtures::stuck_orders(30)
        .into_iter()
        .find(|o| o.family == orderdeck::model::Family::Ghost)
        .unwrap();
    press(&mut s, Key::char(':'));
    type_str(&mut s, &format!("goto {}", ghost.order_no));
    enter(&mut s);
    assert!(s.orders.filter.is_empty());
    assert_eq!(selected_no(&s), ghost.order_no);
}

#[test]
fn goto_selects_a_listed_order_or_looks_it_up() {
    let mut s = state_with(30);
    let target = fixtures::stuck_orders(30)[17].order_no.clone();
    press(&mut s, Key::char(':'));
    type_str(&mut s, &format!("goto {target}"));
    let effects = enter(&mut s);
    assert_eq!(selected_no(&s), target);
    assert_eq!(s.focus, Pane::Timeline);
    assert!(matches!(effects.as_slice(), [Effect::WatchOrder(Some(_))]));

    press(&mut s, Key::char(':'));
    type_str(&mut s, "goto CO-NOT-STUCK-1");
    let effects = enter(&mut s);
    assert_eq!(effects, vec![Effect::LookupOrder("CO-NOT-STUCK-1".into())]);
    let effects = update(
        &mut s,
        Msg::OrderFound {
            order_no: "CO-NOT-STUCK-1".into(),
            result: Ok(Some(4242)),
        },
    );
    assert_eq!(effects, vec![Effect::WatchOrder(Some(4242))]);
    assert!(s.timeline_pinned);
    assert_eq!(s.timeline.order_id, Some(4242));
    // Poll results do not yank a pinned timeline back to the table selection.
    update(&mut s, orders_msg(fixtures::stuck_orders(31)));
    assert_eq!(s.timeline.order_id, Some(4242));
    // Moving in the table unpins it.
    press(&mut s, Key::char('2'));
    let effects = press(&mut s, Key::char('j'));
    assert!(!s.timeline_pinned);
    assert!(matches!(effects.as_slice(), [Effect::WatchOrder(Some(id))] if *id != 4242));
}

#[test]
fn unknown_commands_and_themes_say_what_exists() {
    let mut s = state_with(5);
    press(&mut s, Key::char(':'));
    type_str(&mut s, "frobnicate");
    enter(&mut s);
    let m = s.message.clone().unwrap();
    assert_eq!(m.level, Level::Error);
    assert!(m.text.contains(":goto"), "{}", m.text);

    press(&mut s, Key::char(':'));
    type_str(&mut s, "theme neon");
    enter(&mut s);
    let m = s.message.clone().unwrap();
    assert!(m.text.contains("high-contrast"), "{}", m.text);
    assert_eq!(s.theming.name, "dark");

    press(&mut s, Key::char(':'));
    type_str(&mut s, "theme light");
    enter(&mut s);
    assert_eq!(s.theming.name, "light");
}

#[test]
fn t_cycles_themes_and_z_toggles_the_clock() {
    let mut s = state_with(5);
    let mut seen = vec![s.theming.name.clone()];
    for _ in 0..4 {
        press(&mut s, Key::char('t'));
        seen.push(s.theming.name.clone());
    }
    assert_eq!(seen, ["dark", "light", "high-contrast", "ansi16", "dark"]);
    assert_eq!(s.clock, ClockMode::Utc);
    press(&mut s, Key::char('z'));
    assert_eq!(s.clock, ClockMode::Local);
}

#[test]
fn focus_keys_and_enter_and_esc() {
    let mut s = state_with(5);
    assert_eq!(s.focus, Pane::Orders);
    press(&mut s, Key::plain(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Timeline);
    press(&mut s, Key::plain(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Queues);
    press(&mut s, Key::plain(KeyCode::BackTab));
    assert_eq!(s.focus, Pane::Timeline);
    press(&mut s, Key::char('2'));
    enter(&mut s);
    assert_eq!(s.focus, Pane::Timeline);
    press(&mut s, Key::plain(KeyCode::Esc));
    assert_eq!(s.focus, Pane::Orders);
    press(&mut s, Key::char('1'));
    press(&mut s, Key::char('j'));
    assert_eq!(s.queues.scroll.cursor, 1, "j moves in the focused pane");
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut s = state_with(5);
    press(&mut s, Key::char('?'));
    assert_eq!(s.mode, Mode::Help { scroll: 0 });
    press(&mut s, Key::char('j'));
    assert_eq!(s.mode, Mode::Help { scroll: 1 });
    press(&mut s, Key::char('q'));
    assert_eq!(s.mode, Mode::Normal);
    assert!(!s.quit, "q closes help first");
    press(&mut s, Key::char('?'));
    press(&mut s, Key::plain(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn q_quits_and_ctrl_c_quits_from_any_mode() {
    let mut s = state_with(5);
    press(&mut s, Key::char('q'));
    assert!(s.quit);
    let mut s = state_with(5);
    press(&mut s, Key::char(':'));
    type_str(&mut s, "the");
    press(&mut s, Key::ctrl('c'));
    assert!(s.quit);
    let mut s = state_with(5);
    press(&mut s, Key::char(':'));
    type_str(&mut s, "q");
    enter(&mut s);
    assert!(s.quit);
    let mut s = state_with(5);
    update(&mut s, Msg::Terminate("SIGTERM"));
    assert!(s.quit);
}

#[test]
fn a_failed_poll_keeps_the_data_and_marks_the_source_down() {
    let mut s = state_with(12);
    update(
        &mut s,
        Msg::Orders {
            at: fixtures::now() + Duration::seconds(2),
            result: Err(SourceError::new("connection refused")),
        },
    );
    assert_eq!(s.orders.total_len(), 12, "last good data stays");
    assert_eq!(s.db.health, Health::Down("connection refused".into()));
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(40)));
    let (level, text) = s.db.summary(s.now);
    assert_eq!(level, Level::Error);
    assert!(
        text.contains("connection refused") && text.contains("40s"),
        "{text}"
    );
}

#[test]
fn silent_sources_go_stale() {
    let mut s = state_with(3);
    // The fixture's last queue sample arrived one second before `now`.
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(3)));
    assert_eq!(s.broker.summary(s.now).1, "ok 4s");
    update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(29)));
    let (level, text) = s.broker.summary(s.now);
    assert_eq!((level, text.as_str()), (Level::Warn, "stale 30s"));
}

#[test]
fn late_timelines_for_another_order_are_dropped() {
    let mut s = state_with(5);
    let shown = s.timeline.order_id.unwrap();
    let changed_before = s.timeline.clone();
    update(
        &mut s,
        Msg::Timeline {
            order_id: shown + 999,
            result: Ok(Some(fixtures::timeline(shown + 999, "OTHER"))),
        },
    );
    assert_eq!(s.timeline, changed_before);
}

#[test]
fn hostile_fields_are_sanitised_on_arrival() {
    let mut s = state_with(0);
    let mut rows = fixtures::stuck_orders(1);
    rows[0].sku = "\x1b[2J\x1b[31mPWNED\u{202e}".into();
    rows[0].detail = "\x1b]52;c;ZXZpbA==\x07".repeat(10_000);
    update(&mut s, orders_msg(rows));
    let row = s.orders.selected().unwrap();
    assert!(orderdeck::sanitize::is_safe(&row.sku), "{:?}", row.sku);
    assert!(row.sku.contains("PWNED"));
    assert!(orderdeck::sanitize::is_safe(&row.detail));
    assert!(row.detail.chars().count() <= orderdeck::sanitize::MAX_FIELD_CHARS);
}

#[test]
fn resize_recomputes_the_page_size() {
    let mut s = state_with(200);
    let big = s.orders.scroll.page;
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    let small = s.orders.scroll.page;
    assert!(small < big, "{small} < {big}");
    assert_eq!(small, 10);
}

// ---- alerts ----

use orderdeck::alerts::AlertLevel;
use orderdeck::alerts::log::{LogCount, LogReport};
use orderdeck::config::LogRule;
use orderdeck::model::QueueSnapshot;

/// One poll of a single work queue (and its empty DLQ), `secs` after the fixture's now.
fn poll(s: &mut State, secs: i64, ready: u64, consumers: u32) -> Vec<Effect> {
    let at = fixtures::now() + Duration::seconds(secs);
    update(
        s,
        Msg::Queues {
            at,
            result: Ok(QueueSnapshot {
                as_of: at,
                queues: vec![
                    fixtures::queue_stat("fulfillment", ready, consumers),
                    fixtures::queue_stat("fulfillment.dlq", 0, 0),
                ],
            }),
        },
    )
}

fn alert_ids(s: &State) -> Vec<String> {
    s.alerts
        .board
        .active()
        .iter()
        .map(|a| a.id.clone())
        .collect()
}

/// A state with no stuck orders whose queues are healthy, so only what a
/// test feeds raises alerts.
fn calm_state(bell: bool) -> State {
    let mut s = state_with(0);
    s.alerts.rules.bell = bell;
    poll(&mut s, 0, 0, 2);
    assert!(s.alerts.board.is_empty(), "{:?}", alert_ids(&s));
    s
}

#[test]
fn the_fixture_incident_raises_its_alerts_most_severe_first() {
    let s = state_with(60);
    assert_eq!(
        alert_ids(&s),
        [
            "queue.consumers/logistics.updates",
            "queue.dlq/payment.callback.dlq",
            "queue.growing/logistics.updates",
            "queue.ready/logistics.updates",
            "stuck/ghost",
            "stuck/split",
            "stuck/zombie",
        ]
    );
    let top = s.alerts.board.top().expect("alerts");
    assert_eq!(top.level, AlertLevel::Critical);
    assert_eq!(top.message, "logistics.updates: no consumer, 1,280 ready");
    assert_eq!(
        top.since,
        fixtures::now() - Duration::seconds(30),
        "first poll"
    );
}

#[test]
fn an_alert_fires_goes_on_and_clears() {
    let mut s = calm_state(false);
    poll(&mut s, 2, 50, 0);
    assert_eq!(alert_ids(&s), ["queue.consumers/fulfillment"]);
    let since = s.alerts.board.top().map(|a| a.since);
    assert_eq!(since, Some(fixtures::now() + Duration::seconds(2)));
    // Still down, more waiting: the same alert, updated, with its first since.
    poll(&mut s, 4, 80, 0);
    assert_eq!(alert_ids(&s), ["queue.consumers/fulfillment"]);
    let top = s.alerts.board.top().expect("alert");
    assert_eq!(top.message, "fulfillment: no consumer, 80 ready");
    assert_eq!(Some(top.since), since);
    // The consumer is back.
    s.needs_redraw = false;
    poll(&mut s, 6, 60, 1);
    assert!(s.alerts.board.is_empty());
    assert!(s.needs_redraw);
}

/// The bell among a poll's effects (polls also hand the incident record
/// its changes, which these tests are not about).
fn bells(effects: Vec<Effect>) -> Vec<Effect> {
    effects.into_iter().filter(|e| *e == Effect::Bell).collect()
}

#[test]
fn the_bell_rings_once_per_new_alert_and_only_when_enabled() {
    let mut quiet = calm_state(false);
    assert!(!poll(&mut quiet, 2, 50, 0).contains(&Effect::Bell));

    let mut s = calm_state(true);
    assert_eq!(
        bells(poll(&mut s, 2, 50, 0)),
        vec![Effect::Bell],
        "a new alert rings"
    );
    assert!(bells(poll(&mut s, 4, 70, 0)).is_empty(), "going on: silent");
    // A second problem on the same queue is a new alert: it rings.
    assert_eq!(bells(poll(&mut s, 6, 20_000, 0)), vec![Effect::Bell]);
    assert_eq!(
        alert_ids(&s),
        ["queue.consumers/fulfillment", "queue.ready/fulfillment"]
    );
    // Cleared and back within a minute: the same incident, silent.
    poll(&mut s, 8, 0, 1);
    assert!(s.alerts.board.is_empty());
    assert!(!poll(&mut s, 10, 5, 0).contains(&Effect::Bell));
    // Cleared for longer than that: new again.
    poll(&mut s, 12, 0, 1);
    assert!(poll(&mut s, 200, 5, 0).contains(&Effect::Bell));
    // Ticks never ring, whatever is active.
    assert!(update(&mut s, Msg::Tick(fixtures::now() + Duration::seconds(201))).is_empty());
}

#[test]
fn escalation_from_warning_to_critical_rings() {
    let mut s = calm_state(true);
    assert_eq!(bells(poll(&mut s, 2, 1_500, 3)), vec![Effect::Bell]);
    assert_eq!(
        s.alerts.board.top().map(|a| a.level),
        Some(AlertLevel::Warning)
    );
    assert_eq!(bells(poll(&mut s, 4, 10_500, 3)), vec![Effect::Bell]);
    assert_eq!(
        s.alerts.board.top().map(|a| a.level),
        Some(AlertLevel::Critical)
    );
    assert!(poll(&mut s, 6, 10_600, 3).is_empty());
}

#[test]
fn stuck_orders_per_family_alert_from_detection() {
    let mut s = calm_state(false);
    let zombies: Vec<StuckOrder> = fixtures::stuck_orders(14)
        .into_iter()
        .filter(|o| o.family == Family::Zombie)
        .collect();
    assert_eq!(zombies.len(), 4);
    update(&mut s, orders_msg(zombies));
    assert_eq!(alert_ids(&s), ["stuck/zombie"]);
    assert_eq!(
        s.alerts.board.top().map(|a| a.message.as_str()),
        Some("4 zombie orders stuck (limit 0)")
    );
    update(&mut s, orders_msg(vec![]));
    assert!(s.alerts.board.is_empty());
}

fn log_rule(name: &str, threshold: u32) -> LogRule {
    LogRule {
        threshold_per_minute: threshold,
        level: AlertLevel::Critical,
        ..fixtures::log_rule(name, r#""ERROR" AND "order_timeout""#)
    }
}

fn log_msg(secs: i64, per_minute: u32, last: Option<&str>, problem: Option<&str>) -> Msg {
    Msg::Log {
        at: fixtures::now() + Duration::seconds(secs),
        report: LogReport {
            problem: problem.map(str::to_string),
            counts: vec![LogCount {
                rule: "order-errors".into(),
                per_minute,
                last_match: last.map(str::to_string),
            }],
        },
    }
}

#[test]
fn log_rules_fire_at_their_rate_and_clear_when_it_drops() {
    let mut s = calm_state(true);
    s.alerts.rules.log = vec![log_rule("order-errors", 2)];
    assert!(update(&mut s, log_msg(1, 0, None, None)).is_empty());
    assert!(s.alerts.board.is_empty());
    assert!(update(&mut s, log_msg(2, 1, Some("ERROR order_timeout CO1"), None)).is_empty());
    assert!(s.alerts.board.is_empty(), "below the threshold");
    let effects = update(
        &mut s,
        log_msg(3, 2, Some("ERROR order_timeout \x1b]0;pwned\x07 CO2"), None),
    );
    assert_eq!(bells(effects), vec![Effect::Bell]);
    let top = s.alerts.board.top().expect("log alert");
    assert_eq!(top.id, "log/order-errors");
    assert_eq!(top.level, AlertLevel::Critical);
    assert_eq!(
        top.message,
        "log order-errors: 2 matches/min: ERROR order_timeout \\x1b]0;pwned\\x07 CO2"
    );
    // The same report again changes nothing and asks for no redraw.
    s.needs_redraw = false;
    update(
        &mut s,
        log_msg(4, 2, Some("ERROR order_timeout \x1b]0;pwned\x07 CO2"), None),
    );
    assert!(!s.needs_redraw);
    update(
        &mut s,
        log_msg(70, 0, Some("ERROR order_timeout CO2"), None),
    );
    assert!(s.alerts.board.is_empty());
    assert!(s.needs_redraw);
}

#[test]
fn an_unreadable_log_file_is_a_warning_and_unknown_rules_are_ignored() {
    let mut s = calm_state(false);
    s.alerts.rules.log = vec![log_rule("order-errors", 1)];
    update(
        &mut s,
        log_msg(
            1,
            0,
            None,
            Some("/var/log/orders/app.log not found; waiting for it to appear"),
        ),
    );
    assert_eq!(alert_ids(&s), ["log.unreadable/order-errors"]);
    assert_eq!(
        s.alerts.board.top().map(|a| a.level),
        Some(AlertLevel::Warning)
    );
    update(&mut s, log_msg(2, 0, None, None));
    assert!(s.alerts.board.is_empty());
    s.alerts.rules.log.clear();
    update(&mut s, log_msg(3, 5, Some("ERROR order_timeout"), None));
    assert!(s.alerts.board.is_empty(), "a report for no configured rule");
}

#[test]
fn alerts_command_lists_them_and_esc_closes() {
    let mut calm = calm_state(false);
    type_str(&mut calm, ":alerts");
    enter(&mut calm);
    assert_eq!(calm.mode, Mode::Normal);
    assert_eq!(
        calm.message.as_ref().map(|m| m.text.as_str()),
        Some("no active alerts")
    );
    let mut s = state_with(60);
    type_str(&mut s, ":alerts");
    enter(&mut s);
    assert_eq!(s.mode, Mode::Alerts { scroll: 0 });
    press(&mut s, Key::char('j'));
    assert_eq!(s.mode, Mode::Alerts { scroll: 1 });
    press(&mut s, Key::plain(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn the_strip_does_not_shrink_the_stuck_order_table_at_80x24() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    assert!(!s.alerts.board.is_empty());
    assert_eq!(s.orders.scroll.page, 10);
    assert_eq!(s.queues.scroll.page, 4);
    // Every rule off: the next poll clears the strip, the table keeps its rows.
    s.alerts.rules = fixtures::alerts_off();
    let stats = fixtures::queue_stats(31).pop().expect("a sample");
    update(
        &mut s,
        Msg::Queues {
            at: fixtures::now() + Duration::seconds(1),
            result: Ok(QueueSnapshot {
                as_of: fixtures::now(),
                queues: stats,
            }),
        },
    );
    assert!(s.alerts.board.is_empty());
    assert_eq!(s.orders.scroll.page, 10);
    assert_eq!(s.queues.scroll.page, 5);
}

fn copied(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Copy(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_copy_key_copies_what_the_focused_pane_holds() {
    let mut s = state_with(20);
    let no = selected_no(&s);
    let effects = press(&mut s, Key::char('Y'));
    assert_eq!(copied(&effects), vec![no.clone()]);
    assert_eq!(
        s.message.as_ref().map(|m| m.text.as_str()),
        Some(
            format!(
                "copied order no {no} to the clipboard ({} bytes, OSC 52)",
                no.len()
            )
            .as_str()
        )
    );
    // Queue pane: the queue's name.
    press(&mut s, Key::char('1'));
    let queue = s
        .queues
        .selected()
        .map(|q| q.name.clone())
        .expect("a queue");
    assert_eq!(copied(&press(&mut s, Key::char('Y'))), vec![queue]);
    // Timeline pane: nothing loaded yet is said, not copied.
    press(&mut s, Key::char('3'));
    let loaded = s.timeline.data.take();
    assert!(copied(&press(&mut s, Key::char('Y'))).is_empty());
    assert!(loaded.is_some(), "the fixture had a timeline loaded");
    assert_eq!(s.message.as_ref().map(|m| m.level), Some(Level::Warn));
    let id = s.timeline.order_id.expect("timeline follows the selection");
    let mut t = fixtures::timeline(id, "CO-\u{1b}]52;c;evil\u{7}");
    t.events[0].detail = "line one\nline two \u{1b}[2J".into();
    update(
        &mut s,
        Msg::Timeline {
            order_id: id,
            result: Ok(Some(t.clone())),
        },
    );
    let text = copied(&press(&mut s, Key::char('Y')))
        .pop()
        .expect("copied");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("order CO-\\x1b]52;c;evil\\x07 status "),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + t.views.len() + t.events.len(), "{text}");
    assert!(text.contains("line one\\nline two \\x1b[2J"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "only line ends: {text:?}"
    );
}

#[test]
fn a_rebound_copy_key_is_the_one_that_copies() {
    let mut s = state_with(5);
    s.keymap =
        orderdeck::state::keys::Keymap::with_overrides(&[("copy".into(), vec!["Ctrl-y".into()])])
            .expect("valid");
    assert!(copied(&press(&mut s, Key::char('Y'))).is_empty());
    assert_eq!(copied(&press(&mut s, Key::ctrl('y'))).len(), 1);
}

mod mouse {
    use super::*;
    use orderdeck::state::keys::{Mouse, MouseKind};

    fn mouse(s: &mut State, kind: MouseKind, column: u16, row: u16) -> Vec<Effect> {
        update(s, Msg::Mouse(Mouse { kind, column, row }))
    }

    #[test]
    fn a_click_focuses_the_pane_and_selects_the_row_under_it() {
        let mut s = state_with(50);
        let area = ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1);
        let screen = s.screen(area).expect("big enough");
        let orders = screen.orders.expect("orders pane");
        // Header at y+1, rows from y+2: the fourth row is index 3.
        let effects = mouse(&mut s, MouseKind::Click, orders.x + 5, orders.y + 5);
        assert_eq!(s.focus, Pane::Orders);
        assert_eq!(s.orders.scroll.cursor, 3);
        assert!(matches!(effects.as_slice(), [Effect::WatchOrder(Some(_))]));
        // A click on the border or header selects nothing new.
        mouse(&mut s, MouseKind::Click, orders.x + 5, orders.y + 1);
        assert_eq!(s.orders.scroll.cursor, 3);
        // The queue pane: focus and row.
        let q = screen.queues;
        mouse(&mut s, MouseKind::Click, q.x + 3, q.y + 3);
        assert_eq!(s.focus, Pane::Queues);
        assert_eq!(s.queues.scroll.cursor, 1);
        // Below the last queue row: focus only.
        mouse(&mut s, MouseKind::Click, q.x + 3, q.y + q.height - 1);
        assert_eq!(s.queues.scroll.cursor, 1);
        // Outside every pane (status bar): nothing.
        let before = s.focus;
        mouse(&mut s, MouseKind::Click, 3, 0);
        assert_eq!(s.focus, before);
    }

    #[test]
    fn the_wheel_scrolls_the_pane_under_the_pointer_or_the_overlay() {
        let mut s = state_with(50);
        let area = ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1);
        let orders = s.screen(area).and_then(|sc| sc.orders).expect("orders");
        press(&mut s, Key::char('1'));
        mouse(&mut s, MouseKind::ScrollDown, orders.x + 2, orders.y + 4);
        mouse(&mut s, MouseKind::ScrollDown, orders.x + 2, orders.y + 4);
        assert_eq!(s.orders.scroll.cursor, 2);
        assert_eq!(s.focus, Pane::Queues, "the wheel does not steal focus");
        mouse(&mut s, MouseKind::ScrollUp, orders.x + 2, orders.y + 4);
        assert_eq!(s.orders.scroll.cursor, 1);
        press(&mut s, Key::char('?'));
        mouse(&mut s, MouseKind::ScrollDown, 10, 10);
        assert_eq!(s.mode, Mode::Help { scroll: 3 });
        assert_eq!(s.orders.scroll.cursor, 1);
    }
}
