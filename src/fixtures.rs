//! Deterministic worlds for tests and benchmarks: a state filled with
//! stuck orders, queues and a timeline, built without any I/O.
//!
//! Public (not `cfg(test)`) because integration tests and `cargo bench`
//! use it too.

use crate::action::Msg;
use crate::alerts::AlertLevel;
use crate::config::{AlertsConfig, ClockMode, LogExpr, LogRule, Thresholds, ZeroConsumers};
use crate::model::{
    DetectionSnapshot, Family, OrderSummary, OrderView, QueueSnapshot, QueueStat, StuckOrder,
    Timeline, TimelineEvent,
};
use crate::state::keys::Keymap;
use crate::state::{DemoInfo, EnvInfo, RuleInfo, SourceStatus, State, StateInit, Theming, update};
use crate::theme::{self, ColorDepth, ThemeSet};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::HashMap;

pub mod timelines;

/// The fixed "now" of every fixture, so snapshots do not drift.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 14, 30, 0)
        .single()
        .unwrap_or_default()
}

/// The built-in runbook's rules as the fixtures use them: id, family, the
/// status the rule's SQL finds an order in, title, the rule's threshold in
/// minutes and the detail its SQL writes. They match `runbooks/default.toml`
/// so that a snapshot never shows an order a real rule could not have found.
pub const RULES: [(&str, Family, &str, &str, i64, &str); 7] = [
    (
        "ghost.pending_review",
        Family::Ghost,
        "pending_review",
        "Stuck in pending_review",
        30,
        "no payment callback",
    ),
    (
        "ghost.paid_no_inventory_sync",
        Family::Ghost,
        "paid",
        "Paid, inventory never synced",
        15,
        "paid, no inventory_synced event",
    ),
    (
        "ghost.lock_expired_held",
        Family::Ghost,
        "inventory_locked",
        "Inventory lock expired but still held",
        10,
        "lock expired, order not progressing",
    ),
    (
        "split.delivered_vs_in_transit",
        Family::Split,
        "delivered",
        "App says delivered, logistics says in transit",
        15,
        "app=delivered logistics=in_transit",
    ),
    (
        "split.settled_vs_unpaid",
        Family::Split,
        "delivered",
        "Supplier says settled, finance has not received",
        30,
        "supplier=settled finance=not received",
    ),
    (
        "zombie.processing_24h",
        Family::Zombie,
        "processing",
        "In processing for more than 24 h",
        24 * 60,
        "erp=failed",
    ),
    (
        "zombie.risk_hold",
        Family::Zombie,
        "processing",
        "Held by risk control",
        2 * 60,
        "held by risk control",
    ),
];

pub fn rule_infos() -> HashMap<String, RuleInfo> {
    let builtin = crate::runbook::Runbook::builtin();
    RULES
        .iter()
        .map(|(id, family, _, title, _, _)| {
            (
                id.to_string(),
                // The built-in rule's own causes and remediations, so the
                // timeline pane explains a zombie with zombie causes.
                RuleInfo {
                    title: title.to_string(),
                    family: *family,
                    causes: builtin
                        .rule(id)
                        .map(|r| r.causes.clone())
                        .unwrap_or_default(),
                    remediations: builtin
                        .rule(id)
                        .map(|r| r.remediations.clone())
                        .unwrap_or_default(),
                },
            )
        })
        .collect()
}

/// `n` stuck orders spread over every rule, each older than its rule's
/// threshold by minutes to days.
pub fn stuck_orders(n: usize) -> Vec<StuckOrder> {
    (0..n)
        .map(|i| {
            let (rule, family, status, _, threshold, detail) = RULES[i % RULES.len()];
            let minutes = threshold + 17 + (i as i64 * 37) % (72 * 60);
            StuckOrder {
                order_id: 10_000 + i as i64,
                order_no: format!("CO20261125-{:06}", i),
                family,
                rule_id: rule.to_string(),
                status: status.to_string(),
                since: now() - Duration::minutes(minutes),
                sku: format!("SKU-{:04}", (i * 7) % 500),
                supplier_id: 1000 + (i as i64 % 40),
                amount_cents: 1_999 + (i as i64 * 7_919) % 2_000_000,
                detail: detail.to_string(),
            }
        })
        .collect()
}

/// The reference topology with a consumer down on `logistics.updates`.
pub fn queue_stats(samples: usize) -> Vec<Vec<QueueStat>> {
    let names = crate::config::REFERENCE_QUEUES;
    (0..samples)
        .map(|t| {
            let mut stats = Vec::new();
            for (q, name) in names.iter().enumerate() {
                let down = *name == "logistics.updates";
                let ready = if down {
                    120 + 40 * t as u64
                } else {
                    ((t * (q + 3)) % 17) as u64
                };
                stats.push(QueueStat {
                    name: name.to_string(),
                    ready,
                    unacked: Some(if down { 0 } else { q as u64 }),
                    consumers: if down { 0 } else { 2 },
                    publish_rate: Some(if down { 20.0 } else { 8.5 + q as f64 }),
                    deliver_rate: Some(if down { 0.0 } else { 9.0 + q as f64 }),
                    missing: false,
                });
                stats.push(QueueStat {
                    name: format!("{name}.dlq"),
                    ready: if *name == "payment.callback" { 37 } else { 0 },
                    unacked: Some(0),
                    consumers: 0,
                    publish_rate: None,
                    deliver_rate: None,
                    missing: false,
                });
            }
            stats
        })
        .collect()
}

/// One queue's numbers, without rates.
pub fn queue_stat(name: &str, ready: u64, consumers: u32) -> QueueStat {
    QueueStat {
        name: name.into(),
        ready,
        unacked: Some(0),
        consumers,
        publish_rate: None,
        deliver_rate: None,
        missing: false,
    }
}

/// The keyword rule from the field notes (DESIGN section 2).
pub const FIELD_RULE: &str = r#""ERROR" AND ("order_timeout" OR "inventory_rollback")"#;

/// A log rule on `/var/log/orders/app.log` with the config's defaults
/// (one match a minute, case-sensitive, warning).
pub fn log_rule(name: &str, expr: &str) -> LogRule {
    LogRule {
        name: name.into(),
        file: "/var/log/orders/app.log".into(),
        // Fixtures only use expressions written in the tests; a typo should
        // fail the test loudly.
        expr: LogExpr::try_from(expr.to_string()).unwrap_or_else(|e| panic!("fixtures: {e}")),
        threshold_per_minute: 1,
        ignore_case: false,
        level: AlertLevel::Warning,
    }
}

/// Alert settings with every threshold rule off, so that a test sees only
/// the alerts it raises itself.
pub fn alerts_off() -> AlertsConfig {
    AlertsConfig {
        queue_ready: false,
        growing_samples: 0,
        zero_consumers: ZeroConsumers::Off,
        dlq_not_empty: false,
        stuck_above: Default::default(),
        ..AlertsConfig::default()
    }
}

/// A split-personality order's timeline with a long gap in it.
pub fn timeline(order_id: i64, order_no: &str) -> Timeline {
    let t0 = now() - Duration::hours(30);
    let ev = |mins: i64, source: &str, kind: &str, status: &str, detail: &str| TimelineEvent {
        occurred_at: t0 + Duration::minutes(mins),
        source: source.into(),
        kind: kind.into(),
        status: status.into(),
        detail: detail.into(),
    };
    Timeline {
        order: OrderSummary {
            order_id,
            order_no: order_no.into(),
            status: "delivered".into(),
            payment_status: "paid".into(),
            sku: "SKU-0042".into(),
            quantity: 2,
            supplier_id: 1007,
            buyer_id: 88,
            amount_cents: 25_800,
            hold_reason: None,
            created_at: t0,
            status_changed_at: t0 + Duration::hours(28),
        },
        events: vec![
            ev(0, "app", "created", "created", "order placed"),
            ev(1, "payment", "payment_callback", "paid", "gateway ok"),
            ev(
                2,
                "inventory",
                "inventory_synced",
                "inventory_locked",
                "reserved 2",
            ),
            ev(5, "fulfillment", "picked", "processing", "wave 12"),
            ev(90, "logistics", "shipped", "shipped", "carrier SF"),
            ev(
                28 * 60,
                "app",
                "delivered",
                "delivered",
                "buyer confirmed receipt",
            ),
        ],
        views: vec![
            OrderView {
                system: "app".into(),
                status: "delivered".into(),
                observed_at: t0 + Duration::hours(28),
            },
            OrderView {
                system: "logistics".into(),
                status: "in_transit".into(),
                observed_at: t0 + Duration::minutes(90),
            },
        ],
    }
}

/// A state at `width`x`height` with the built-in theme `theme` resolved for
/// `depth`, fed `orders` stuck orders, the queue samples and the
/// selected order's own timeline.
pub fn state(width: u16, height: u16, theme_name: &str, depth: ColorDepth, orders: usize) -> State {
    let set = ThemeSet::builtin_only();
    // Fixtures only name built-in themes; a typo should fail the test loudly.
    let theme = set
        .get(theme_name)
        .unwrap_or_else(|| panic!("fixtures: no built-in theme {theme_name:?}"));
    let palette = theme::resolve(theme, depth);
    let mut db = SourceStatus::new("db", Some("sqlite demo.db".into()), 2);
    db.last_ok = Some(now());
    let mut mq = SourceStatus::new("mq", Some("simulated broker".into()), 1);
    mq.last_ok = Some(now());
    let mut s = State::new(StateInit {
        env: EnvInfo {
            name: "demo".into(),
            demo: Some(DemoInfo {
                seed: 42,
                speed: 1.0,
            }),
            read_only: false,
        },
        now: now(),
        clock: ClockMode::Utc,
        theming: Theming {
            set,
            name: theme_name.to_string(),
            depth,
            palette,
        },
        thresholds: Thresholds::default(),
        alerts: AlertsConfig::default(),
        keymap: Keymap::default(),
        rules: rule_infos(),
        db,
        broker: mq,
        size: (width, height),
    });
    for (i, stats) in queue_stats(30).into_iter().enumerate() {
        update(
            &mut s,
            Msg::Queues {
                at: now() - Duration::seconds(30 - i as i64),
                result: Ok(QueueSnapshot {
                    as_of: now(),
                    queues: stats,
                }),
            },
        );
    }
    update(
        &mut s,
        Msg::Orders {
            at: now(),
            result: Ok(DetectionSnapshot {
                as_of: now(),
                orders: stuck_orders(orders),
                ..DetectionSnapshot::default()
            }),
        },
    );
    if let Some(sel) = s.orders.selected().cloned() {
        update(
            &mut s,
            Msg::Timeline {
                order_id: sel.order_id,
                result: Ok(Some(timelines::of(&sel))),
            },
        );
    }
    update(&mut s, Msg::Tick(now()));
    s
}

/// The fixture state on the wallboard, as `orderdeck wallboard` starts it:
/// the high-contrast theme, no cockpit behind it.
pub fn wallboard(width: u16, height: u16) -> State {
    let mut s = state(width, height, "high-contrast", ColorDepth::TrueColor, 60);
    s.wallboard
        .open(crate::state::wallboard::Start::default(), false, now());
    s.message = None;
    s
}
