//! The whole screen through ratatui's TestBackend: snapshots at the sizes
//! and themes that matter, and properties every frame must have.

use orderdeck::action::Msg;
use orderdeck::fixtures;
use orderdeck::model::DetectionSnapshot;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::{State, update};
use orderdeck::theme::ColorDepth;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "common/screen.rs"]
mod screen;
use ratatui::style::Color;
use screen::{draw, text};

fn keys(s: &mut State, typed: &str) {
    for c in typed.chars() {
        update(s, Msg::Key(Key::char(c)));
    }
}

fn enter(s: &mut State) {
    update(s, Msg::Key(Key::plain(KeyCode::Enter)));
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];
const THEMES: [(&str, ColorDepth); 2] = [
    ("dark", ColorDepth::TrueColor),
    ("ansi16", ColorDepth::Ansi16),
];

#[test]
fn snapshots_of_the_cockpit() {
    for (w, h) in SIZES {
        for (theme, depth) in THEMES {
            let s = fixtures::state(w, h, theme, depth, 60);
            insta::assert_snapshot!(format!("cockpit_{theme}_{w}x{h}"), text(&draw(&s)));
        }
    }
}

#[test]
fn snapshots_with_help_open() {
    for (w, h) in SIZES {
        for (theme, depth) in THEMES {
            let mut s = fixtures::state(w, h, theme, depth, 60);
            keys(&mut s, "?");
            insta::assert_snapshot!(format!("help_{theme}_{w}x{h}"), text(&draw(&s)));
        }
    }
}

/// At 80 columns the longest help rows used to be cut at the popup's edge;
/// they wrap under their column, and scrolling reaches the last one.
#[test]
fn help_wraps_at_80_columns_and_scrolls_to_the_end() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    keys(&mut s, "?");
    let first = text(&draw(&s));
    assert!(first.contains("(text, family:, status:,"), "{first}");
    keys(&mut s, &"j".repeat(80));
    let last = text(&draw(&s));
    assert!(last.contains("supplier amount)"), "{last}");
    assert!(last.contains("-term"), "{last}");
    insta::assert_snapshot!("help_dark_80x24_scrolled_to_end", last);
}

#[test]
fn snapshots_with_a_filter_on() {
    for (w, h) in SIZES {
        for (theme, depth) in THEMES {
            let mut s = fixtures::state(w, h, theme, depth, 60);
            keys(&mut s, "/family:zombie");
            enter(&mut s);
            insta::assert_snapshot!(format!("filter_{theme}_{w}x{h}"), text(&draw(&s)));
        }
    }
}

/// The text snapshots are the same for every theme; this one records the
/// style runs too (ratatui's `Buffer` debug form), so a change of colour or
/// emphasis in a theme shows up in review.
#[test]
fn styled_snapshots_at_80x24() {
    for (theme, depth) in THEMES {
        let s = fixtures::state(80, 24, theme, depth, 60);
        insta::assert_snapshot!(format!("styled_{theme}_80x24"), format!("{:?}", draw(&s)));
    }
}

#[test]
fn snapshot_of_the_timeline_pane_at_80x24() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    // Down to the oldest split order (five zombies are older), whose own
    // timeline arrives as the source would send it.
    keys(&mut s, "jjjjj");
    let sel = s.orders.selected().cloned().expect("a selected order");
    assert_eq!(
        (sel.order_no.as_str(), sel.rule_id.as_str()),
        ("CO20261125-000059", "split.delivered_vs_in_transit")
    );
    update(
        &mut s,
        Msg::Timeline {
            order_id: sel.order_id,
            result: Ok(Some(fixtures::timelines::of(&sel))),
        },
    );
    enter(&mut s);
    let t = text(&draw(&s));
    assert!(t.contains("Timeline"), "{t}");
    assert!(
        t.contains("app says delivered, logistics says in_transit"),
        "{t}"
    );
    insta::assert_snapshot!("timeline_dark_80x24", t);
    // The rest of the timeline is a scroll away; the 26 h silence is marked.
    keys(&mut s, "G");
    let t = text(&draw(&s));
    assert!(t.contains("1d02h gap"), "{t}");
    assert!(
        t.contains("buyer confirmed"),
        "the last event is in view:\n{t}"
    );
}

/// Colours differ per theme; the text snapshots do not show them, so check
/// that the ansi16 theme really uses only the 16 named colours.
#[test]
fn ansi16_uses_only_named_colours_and_no_color_none_at_all() {
    let named = |c: Color| !matches!(c, Color::Rgb(..) | Color::Indexed(_));
    let s = fixtures::state(120, 40, "ansi16", ColorDepth::Ansi16, 60);
    let buf = draw(&s);
    assert!(buf.content.iter().all(|c| named(c.fg) && named(c.bg)));

    let s = fixtures::state(120, 40, "dark", ColorDepth::NoColor, 60);
    let buf = draw(&s);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR draws no colour"
    );
    // ...and still marks the selection, through reverse video.
    let reversed = buf
        .content
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .count();
    assert!(
        reversed >= 40,
        "selection row is reversed, found {reversed} cells"
    );
}

#[test]
fn zero_consumer_queue_stands_out() {
    let s = fixtures::state(120, 40, "dark", ColorDepth::TrueColor, 10);
    let buf = draw(&s);
    let t = text(&buf);
    // The queue pane's row, not the alerts strip above it.
    let y = t
        .lines()
        .position(|l| l.starts_with('│') && l.contains("logistics.updates"))
        .unwrap() as u16;
    let x = t
        .lines()
        .nth(y as usize)
        .unwrap()
        .find("logistics.updates")
        .unwrap() as u16;
    let critical = s.palette().critical.fg;
    assert_eq!(buf[(x, y)].fg, critical.unwrap_or(Color::Reset));
    let ok_y = t
        .lines()
        .position(|l| l.contains("inventory.sync"))
        .unwrap() as u16;
    assert_ne!(buf[(x, ok_y)].fg, buf[(x, y)].fg);
}

#[test]
fn no_number_is_cut_at_80x24() {
    let s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    let t = text(&draw(&s));
    // Every visible stuck order shows its whole amount: the ten oldest of
    // the fixture, amounts 19.99 + 79.19 · i worked out by hand (not read
    // back from the state being drawn).
    for (order_no, amount) in [
        ("CO20261125-000054", "4,296.25"),
        ("CO20261125-000047", "3,741.92"),
        ("CO20261125-000040", "3,187.59"),
        ("CO20261125-000033", "2,633.26"),
        ("CO20261125-000026", "2,078.93"),
        ("CO20261125-000059", "4,692.20"),
        ("CO20261125-000058", "4,613.01"),
        ("CO20261125-000055", "4,375.44"),
        ("CO20261125-000019", "1,524.60"),
        ("CO20261125-000057", "4,533.82"),
    ] {
        let line = t
            .lines()
            .find(|l| l.contains(order_no))
            .unwrap_or_else(|| panic!("{order_no} not shown:\n{t}"));
        assert!(
            line.trim_end_matches(['┃', '│']).ends_with(amount),
            "amount of {order_no} cut in:\n{line}"
        );
    }
    // Queue depths too, for the queues the pane has room for (the title
    // says how many are below the fold). The ready counts of the fixture's
    // last sample: (29 · (q + 3)) mod 17, and 120 + 40 · 29 for the queue
    // whose consumer is down.
    // (The alerts strip names a queue too: look at the pane's rows only.)
    assert!(t.contains("4 of 6 shown"), "{t}");
    for (queue, ready) in [
        ("payment.callback", "2"),
        ("inventory.sync", "14"),
        ("fulfillment", "9"),
        ("logistics.updates", "1280"),
    ] {
        let line = t
            .lines()
            .find(|l| l.trim_start_matches(['│', '┃']).starts_with(queue))
            .unwrap_or_else(|| panic!("{queue} not in the queue pane:\n{t}"));
        let cells: Vec<&str> = line
            .trim_start_matches(['│', '┃'])
            .split_whitespace()
            .collect();
        assert_eq!(cells.get(1), Some(&ready), "{line}");
    }
}

#[test]
fn tiny_terminals_get_a_note_not_a_crash() {
    for (w, h) in [(59, 24), (80, 15), (20, 5), (1, 1), (0, 0)] {
        let mut s = fixtures::state(120, 40, "dark", ColorDepth::TrueColor, 10);
        update(
            &mut s,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        let buf = draw(&s);
        if w >= 40 && h >= 3 {
            assert!(text(&buf).contains("terminal too small"), "{w}x{h}");
        }
    }
}

#[test]
fn resizing_redraws_without_leftovers() {
    let mut s = fixtures::state(200, 60, "dark", ColorDepth::TrueColor, 60);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    terminal.draw(|f| render(&s, f)).unwrap();
    terminal.backend_mut().resize(80, 24);
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    terminal.draw(|f| render(&s, f)).unwrap();
    let fresh = draw(&s);
    assert_eq!(terminal.backend().buffer(), &fresh);
}

/// Nothing from data may put a control character into a cell, whatever
/// the field holds.
#[test]
fn hostile_strings_never_reach_the_buffer_as_control_bytes() {
    let hostile = [
        "\x1b[2J\x1b[31mPWNED",
        "\x1b]52;c;ZXZpbA==\x07",
        "\u{9b}31m C1 CSI",
        "\u{202e}gnp.exe",
        "tab\there\nnewline\r",
        "\x07\x08\x7f\0",
        "寄售订单 库存锁冲突 😀",
    ];
    let mut s = fixtures::state(200, 60, "dark", ColorDepth::TrueColor, 0);
    let mut rows = fixtures::stuck_orders(hostile.len());
    for (row, h) in rows.iter_mut().zip(hostile) {
        row.order_no = format!("{h}{}", row.order_no);
        row.sku = h.to_string();
        row.status = h.to_string();
        row.rule_id = h.to_string();
        row.detail = h.repeat(50_000);
    }
    update(
        &mut s,
        Msg::Orders {
            at: fixtures::now(),
            result: Ok(DetectionSnapshot {
                as_of: fixtures::now(),
                orders: rows.clone(),
                ..DetectionSnapshot::default()
            }),
        },
    );
    let id = s.orders.selected().unwrap().order_id;
    let mut tl = fixtures::timeline(id, hostile[0]);
    for (e, h) in tl.events.iter_mut().zip(hostile.iter().cycle()) {
        e.detail = h.repeat(1000);
        e.source = h.to_string();
        e.kind = h.to_string();
    }
    tl.views[0].status = hostile[1].into();
    update(
        &mut s,
        Msg::Timeline {
            order_id: id,
            result: Ok(Some(tl)),
        },
    );
    for pane in ['2', '3'] {
        keys(&mut s, &pane.to_string());
        for size in SIZES {
            update(
                &mut s,
                Msg::Resize {
                    width: size.0,
                    height: size.1,
                },
            );
            let buf = draw(&s);
            for cell in buf.content.iter() {
                assert!(
                    !cell
                        .symbol()
                        .chars()
                        .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
                    "control char in cell {:?}",
                    cell.symbol()
                );
            }
            let t = text(&buf);
            if size.0 >= 200 {
                assert!(t.contains("PWNED"), "hostile text is shown, escaped:\n{t}");
            }
            assert!(t.contains("\\x1b["), "ESC is shown as \\x1b:\n{t}");
        }
    }
}

#[test]
fn a_missing_queue_says_not_found_in_the_warning_style() {
    use orderdeck::model::{QueueSnapshot, QueueStat};
    let mut s = fixtures::state(120, 40, "dark", ColorDepth::TrueColor, 10);
    let stat = |name: &str, ready: u64, missing: bool| QueueStat {
        name: name.into(),
        ready,
        unacked: Some(0),
        consumers: 1,
        publish_rate: None,
        deliver_rate: None,
        missing,
    };
    let snap = QueueSnapshot {
        as_of: s.now,
        queues: vec![
            stat("payment.callback", 12, false),
            stat("settlement", 0, true),
            stat("settlement.dlq", 0, true),
        ],
    };
    let at = s.now;
    update(
        &mut s,
        Msg::Queues {
            at,
            result: Ok(snap),
        },
    );
    let buf = draw(&s);
    let t = text(&buf);
    let (y, line) = t
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("settlement"))
        .expect("settlement row");
    assert!(line.contains("not found"), "{line}");
    assert!(
        !line.contains(" 0 "),
        "no zero counts on a missing row: {line}"
    );
    let x = line.find("not found").unwrap() as u16;
    let warn = s.palette().warn.fg.unwrap_or(Color::Reset);
    assert_eq!(buf[(x, y as u16)].fg, warn);
    let other = t.lines().find(|l| l.contains("payment.callback")).unwrap();
    assert!(!other.contains("not found"));
}

// ---- alerts ----

use chrono::Duration;
use orderdeck::alerts::AlertLevel;
use orderdeck::alerts::log::{LogCount, LogReport};
use orderdeck::config::{AlertsConfig, LogRule};
use orderdeck::model::QueueSnapshot;

/// The fixture with every threshold rule off and one critical log rule, fed
/// a report whose last match is long and hostile, so the strip shows the
/// log alert alone.
fn log_alert_state(w: u16, h: u16) -> State {
    let mut s = fixtures::state(w, h, "dark", ColorDepth::TrueColor, 60);
    s.alerts.rules = AlertsConfig {
        log: vec![LogRule {
            level: AlertLevel::Critical,
            ..fixtures::log_rule("order-errors", fixtures::FIELD_RULE)
        }],
        ..fixtures::alerts_off()
    };
    let line = format!(
        "2026-11-25T14:29:58Z ERROR order_timeout order=CO20261125-000042 \x1b[2J\x1b]0;pwned\x07 gateway=alipay {}",
        "payload=".repeat(40)
    );
    update(
        &mut s,
        Msg::Log {
            at: fixtures::now() - Duration::seconds(2),
            report: LogReport {
                problem: None,
                counts: vec![LogCount {
                    rule: "order-errors".into(),
                    per_minute: 12,
                    last_match: Some(line),
                }],
            },
        },
    );
    assert_eq!(s.alerts.board.active().len(), 1);
    s
}

#[test]
fn snapshots_of_a_log_alert_in_the_strip() {
    for (w, h) in [(80, 24), (120, 40)] {
        let s = log_alert_state(w, h);
        let buf = draw(&s);
        let t = text(&buf);
        let strip = t.lines().nth(1).unwrap_or_default();
        assert!(
            strip.contains("log order-errors: 12 matches/min: "),
            "{strip}"
        );
        // Cut to the width, keeping when it started; one alert, no hint.
        assert!(strip.contains("…  since 14:29:58"), "{strip}");
        assert!(!strip.contains(":alerts"), "{strip}");
        assert!(!strip.chars().any(char::is_control), "{strip:?}");
        insta::assert_snapshot!(format!("strip_log_dark_{w}x{h}"), t);
    }
}

#[test]
fn snapshots_of_the_alerts_list() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut s = fixtures::state(w, h, "dark", ColorDepth::TrueColor, 60);
        keys(&mut s, ":alerts");
        enter(&mut s);
        let t = text(&draw(&s));
        assert!(t.contains("Alerts: 1 critical, 6 warning"), "{t}");
        insta::assert_snapshot!(format!("alerts_dark_{w}x{h}"), t);
    }
    // The whole hostile log line can be read there, wrapped and escaped.
    let mut s = log_alert_state(120, 40);
    keys(&mut s, ":alerts");
    enter(&mut s);
    let t = text(&draw(&s));
    assert!(t.contains("gateway=alipay"), "{t}");
    assert!(t.contains("\\x1b]0;pwned\\x07"), "{t}");
}

#[test]
fn no_alerts_no_strip() {
    let mut s = log_alert_state(80, 24);
    s.alerts.rules.log.clear();
    update(
        &mut s,
        Msg::Queues {
            at: fixtures::now() + Duration::seconds(1),
            result: Ok(QueueSnapshot {
                as_of: fixtures::now(),
                queues: fixtures::queue_stats(31).pop().expect("sample"),
            }),
        },
    );
    assert!(s.alerts.board.is_empty());
    let t = text(&draw(&s));
    let second = t.lines().nth(1).unwrap_or_default();
    assert!(second.starts_with("┌ 1 Queue backlog"), "{second}");
    assert!(second.contains("5 of 6 shown"), "{second}");
}

/// When both sources are down at 80 columns, the status bar still says so
/// (shortened to `down`; the reasons are in the panes), instead of dropping
/// the health segments for lack of room.
#[test]
fn sources_down_still_show_in_the_status_bar_at_80_columns() {
    use orderdeck::sources::SourceError;
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 10);
    let at = s.now;
    let reason = "postgres db.internal:5432/orders: error communicating with database: Connection refused (os error 111)";
    update(
        &mut s,
        Msg::Orders {
            at,
            result: Err(SourceError::new(reason)),
        },
    );
    update(
        &mut s,
        Msg::Queues {
            at,
            result: Err(SourceError::new("amqp mq:5672/ down: Connection refused")),
        },
    );
    let t = text(&draw(&s));
    let status = t.lines().next().unwrap_or_default();
    assert!(status.contains("db ✖ down"), "{status}");
    assert!(status.contains("mq ✖ down"), "{status}");
    assert!(
        !status.contains("Connection refused"),
        "too long for 80 columns: {status}"
    );
    // The reason, as much as fits, on the message line above the key hints.
    let message = t.lines().rev().nth(1).unwrap_or_default();
    assert!(
        message.starts_with(
            "db down (data 0s old): postgres db.internal:5432/orders: error communicating"
        ),
        "{t}"
    );
    // At 200 columns there is room for the reason itself.
    let mut wide = s;
    update(
        &mut wide,
        Msg::Resize {
            width: 200,
            height: 60,
        },
    );
    let wide_text = text(&draw(&wide));
    let status = wide_text.lines().next().unwrap_or_default();
    assert!(
        status.contains("db ✖ down (data 0s old): postgres db.internal"),
        "{status}"
    );
}

/// Order numbers as long as real platforms write them (the simulator's
/// `CO20261124-LCBP-000406`, 22 characters) stay whole at 80x24: other
/// columns give way first.
#[test]
fn long_real_order_numbers_are_whole_at_80x24() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 0);
    let orders: Vec<_> = fixtures::stuck_orders(30)
        .into_iter()
        .enumerate()
        .map(|(i, mut o)| {
            o.order_no = format!("CO20261124-LCBP-{i:06}");
            o
        })
        .collect();
    let at = s.now;
    update(
        &mut s,
        Msg::Orders {
            at,
            result: Ok(DetectionSnapshot {
                as_of: at,
                orders,
                ..DetectionSnapshot::default()
            }),
        },
    );
    let t = text(&draw(&s));
    // The ten oldest, with amounts 19.99 + 79.19 · i worked out by hand.
    for (order_no, amount) in [
        ("CO20261124-LCBP-000026", "2,078.93"),
        ("CO20261124-LCBP-000019", "1,524.60"),
        ("CO20261124-LCBP-000012", "970.27"),
        ("CO20261124-LCBP-000005", "415.94"),
        ("CO20261124-LCBP-000027", "2,158.12"),
        ("CO20261124-LCBP-000029", "2,316.50"),
        ("CO20261124-LCBP-000028", "2,237.31"),
        ("CO20261124-LCBP-000025", "1,999.74"),
        ("CO20261124-LCBP-000024", "1,920.55"),
        ("CO20261124-LCBP-000023", "1,841.36"),
    ] {
        let line = t
            .lines()
            .find(|l| l.contains(order_no))
            .unwrap_or_else(|| panic!("{order_no} not whole:\n{t}"));
        assert!(
            line.trim_end_matches(['┃', '│']).ends_with(amount),
            "{line}"
        );
    }
}

/// With both badges up at 80 columns the program name and the data ages
/// give way, but each source keeps its health dot.
#[test]
fn healthy_sources_keep_their_dot_when_the_status_bar_is_full() {
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 10);
    s.env.demo = None;
    s.env.name = "drill-eu".into();
    s.env.read_only = true;
    let t = text(&draw(&s));
    let status = t.lines().next().unwrap_or_default();
    assert!(status.contains("READ-ONLY"), "{status}");
    assert!(status.contains("db ●"), "{status}");
    assert!(status.contains("mq ●"), "{status}");
    assert!(status.contains("zombie"), "family counts stay: {status}");
}

/// An incident bigger than the list: the pane lists what the row limit
/// allows and says how many more there are, and the status bar's family
/// counts and stuck amount are the true totals.
#[test]
fn orders_past_the_row_limit_are_counted_on_screen() {
    use orderdeck::model::{BeyondLimit, Family};
    let mut s = fixtures::state(200, 60, "dark", ColorDepth::TrueColor, 0);
    // 40 fixture orders: 10 of them zombies (i % 7 is 5 or 6), together
    // 40 · 19.99 + 79.19 · (0 + … + 39) = 62,567.80 (worked out by hand).
    let rows = fixtures::stuck_orders(40);
    update(
        &mut s,
        Msg::Orders {
            at: fixtures::now(),
            result: Ok(DetectionSnapshot {
                as_of: fixtures::now(),
                orders: rows,
                truncated_rules: vec!["zombie.processing_24h".into()],
                beyond_limit: vec![BeyondLimit {
                    rule_id: "zombie.processing_24h".into(),
                    family: Family::Zombie,
                    orders: 95_161,
                    amount_cents: 1_000_000,
                }],
                ..DetectionSnapshot::default()
            }),
        },
    );
    let screen = text(&draw(&s));
    assert!(
        screen.contains("row limit hit: 95,161 more not listed"),
        "{screen}"
    );
    // 10 listed + 95,161 beyond the limit; 62,567.80 listed + 10,000.00.
    assert!(screen.contains("zombie 95171"), "{screen}");
    assert!(screen.contains("stuck 72,567.80"), "{screen}");
}

/// A cockpit watching a database only: the broker has told it nothing, so
/// the status bar must not give it a healthy green dot and the queue pane
/// must not total "0 ready" that nobody read.
#[test]
fn a_broker_that_is_not_configured_is_neither_healthy_nor_zero() {
    use orderdeck::state::Health;
    let mut s = fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 60);
    s.broker.health = Health::NotConfigured;
    s.broker.last_ok = None;
    s.queues.rows.clear();
    let t = text(&draw(&s));
    let status = t.lines().next().unwrap_or_default();
    assert!(
        status.contains("mq ○ not configured"),
        "status bar: {status}"
    );
    assert!(!status.contains("mq ●"), "status bar: {status}");
    let title = t
        .lines()
        .find(|l| l.contains("Queue backlog"))
        .expect("queue pane title");
    assert!(!title.contains("ready"), "queue pane title: {title}");
    assert!(t.contains("no broker configured"), "{t}");

    // Connecting: no dot that reads as healthy either.
    s.broker.health = Health::Connecting;
    let t = text(&draw(&s));
    let status = t.lines().next().unwrap_or_default();
    assert!(status.contains("mq ◌"), "status bar: {status}");
}
