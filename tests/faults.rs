//! Faults at exact points (issue 22): the k-th statement of a detection
//! poll fails (an error, a timeout, a lost connection, or no answer at all),
//! for every k, and what the on-call engineer sees is asserted: the counts,
//! the alerts, the status bar, the stuck-order pane and `snapshot`'s JSON.
//! The database is a real SQLite file; the seam is the store's own.

mod common;

#[path = "common/screen.rs"]
mod screen;

use chrono::Duration as Age;
use common::world::{self, Db};
use orderdeck::action::Msg;
use orderdeck::fixtures;
use orderdeck::model::Family;
use orderdeck::runbook::Runbook;
use orderdeck::snapshot;
use orderdeck::sources::OrderStore;
use orderdeck::sources::amqp::RabbitMonitor;
use orderdeck::sources::faults::{Fault, FaultPlan};
use orderdeck::state::{Health, State, update};
use orderdeck::theme::ColorDepth;
use screen::{draw, text};
use serde_json::Value;
use std::time::Duration;

/// The built-in rules in the order a poll runs them: statement 1 is the
/// connectivity check, statement k (k ≥ 2) is rule k-2 of this list.
const RULES: [(&str, Family, usize); 7] = [
    ("ghost.pending_review", Family::Ghost, 2),
    ("ghost.paid_no_inventory_sync", Family::Ghost, 1),
    ("ghost.lock_expired_held", Family::Ghost, 1),
    ("split.delivered_vs_in_transit", Family::Split, 2),
    ("split.settled_vs_unpaid", Family::Split, 3),
    ("zombie.processing_24h", Family::Zombie, 1),
    ("zombie.risk_hold", Family::Zombie, 1),
];

/// Distinct orders per family that `world::plant` makes stuck.
const GHOST: usize = 4;
const SPLIT: usize = 5;
const ZOMBIE: usize = 2;

/// Short enough that a hang costs the suite little, far longer than any
/// statement on a small local file takes even on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(2);

fn cockpit() -> State {
    // The fixture state with no stuck orders: only its clock and sources.
    fixtures::state(80, 24, "dark", ColorDepth::TrueColor, 0)
}

fn counts(s: &State) -> [Option<usize>; 3] {
    [
        s.orders.count(Family::Ghost),
        s.orders.count(Family::Split),
        s.orders.count(Family::Zombie),
    ]
}

async fn json_snapshot(store: &impl OrderStore) -> Value {
    let snap = snapshot::take(
        "faults",
        Some(store),
        None::<&RabbitMonitor>,
        &Runbook::builtin(),
        common::now(),
        50,
    )
    .await;
    serde_json::from_str(&snapshot::render_json(&snap)).expect("snapshot JSON parses")
}

#[test]
fn the_rules_run_in_the_order_this_test_assumes() {
    let ids: Vec<String> = Runbook::builtin().enabled().map(|r| r.id.clone()).collect();
    assert_eq!(ids, RULES.map(|r| r.0.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_of_a_poll_failing_every_way_never_shows_a_false_zero() {
    let (store, _dir) = common::store().await;
    world::plant(&Db::Sqlite(store.pool().clone())).await;
    let store = store.with_statement_timeout(DEADLINE);

    // How many statements a clean poll makes: the check and one per rule.
    let probe = FaultPlan::new(usize::MAX, Fault::Error);
    let clean = store.clone().with_faults(probe.clone());
    let good = clean.detect(common::now()).await.expect("a clean poll");
    assert!(good.rule_errors.is_empty(), "{:?}", good.rule_errors);
    assert_eq!(probe.statements(), 8);

    for fault in [Fault::Error, Fault::Timeout, Fault::Lost, Fault::Hang] {
        for k in 1..=8 {
            let case = format!("{fault:?} at statement {k}");
            let mut s = cockpit();
            let t0 = s.now;
            let first = store.detect(common::now()).await.expect("a good poll");
            update(
                &mut s,
                Msg::Orders {
                    at: t0,
                    result: Ok(first),
                },
            );
            assert_eq!(counts(&s), [Some(GHOST), Some(SPLIT), Some(ZOMBIE)]);
            assert!(
                s.alerts
                    .board
                    .active()
                    .iter()
                    .any(|a| a.id == "stuck/zombie"),
                "{case}: the zombie alert fires before the fault"
            );

            let faulty = store.clone().with_faults(FaultPlan::new(k, fault));
            let result = faulty.detect(common::now()).await;
            let later = t0 + Age::seconds(12);
            update(&mut s, Msg::Orders { at: later, result });
            update(&mut s, Msg::Tick(later));

            // The counts are the last good ones, never zero, never dropped.
            assert_eq!(
                counts(&s),
                [Some(GHOST), Some(SPLIT), Some(ZOMBIE)],
                "{case}"
            );
            assert_eq!(s.orders.total_len(), 11, "{case}: every row kept");
            assert!(
                s.alerts
                    .board
                    .active()
                    .iter()
                    .any(|a| a.id == "stuck/zombie"),
                "{case}: a blind database must not clear its alert"
            );

            let screen = text(&draw(&s));
            let status = screen.lines().next().unwrap_or_default().to_string();
            assert!(
                status.contains("ghost 4 split 5 zombie 2"),
                "{case}: {status}"
            );
            let source_down = k == 1 || fault != Fault::Error;
            if source_down {
                assert!(
                    matches!(s.db.health, Health::Down(_)),
                    "{case}: {:?}",
                    s.db.health
                );
                assert!(status.contains("db ✖ down"), "{case}: {status}");
                assert!(!status.contains("db ●"), "{case}: {status}");
                assert!(screen.contains("stale 12s"), "{case}:\n{screen}");
            } else {
                assert_eq!(s.db.health, Health::Ok, "{case}");
                let (rule, _, n) = RULES[k - 2];
                assert_eq!(
                    s.orders.stale_rules.keys().collect::<Vec<_>>(),
                    [rule],
                    "{case}"
                );
                let stale_rows = s.orders.visible().filter(|o| s.orders.is_stale(o)).count();
                assert_eq!(stale_rows, n, "{case}: the failed rule's rows are kept");
                assert!(screen.contains("stale 12s"), "{case}:\n{screen}");
            }

            // `snapshot` on the same fault: down and unknown, never 0.
            let faulty = store.clone().with_faults(FaultPlan::new(k, fault));
            let json = json_snapshot(&faulty).await;
            let src = &json["sources"][0];
            assert_eq!(src["name"], "db", "{case}");
            if source_down {
                assert_eq!(src["state"], "down", "{case}: {json}");
                assert!(src["error"].is_string(), "{case}");
            } else {
                assert_eq!(src["state"], "ok", "{case}: {json}");
            }
            assert_eq!(json["anomalies"], Value::Null, "{case}: {json}");
            let rules = json["rules"].as_array().expect("rules listed");
            assert_eq!(rules.len(), 7, "{case}");
            for (i, (id, family, n)) in RULES.iter().enumerate() {
                let r = &rules[i];
                assert_eq!(r["id"], *id, "{case}");
                let failed = k == 1 || k - 2 == i;
                if failed {
                    assert_eq!(r["count"], Value::Null, "{case}: {id}");
                    assert!(r["error"].is_string(), "{case}: {id}");
                    assert_eq!(
                        json["families"][family.as_str()],
                        Value::Null,
                        "{case}: {json}"
                    );
                } else {
                    assert_eq!(r["count"], *n, "{case}: {id}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_database_never_read_shows_dashes_not_zeros() {
    let mut s = cockpit();
    // As the cockpit starts: no poll has reached the database yet.
    let mut fresh = orderdeck::state::orders::OrdersTable::default();
    std::mem::swap(&mut s.orders, &mut fresh);
    s.db.health = Health::Down("postgres db:5432/shop: no answer within 5 s".into());
    s.db.last_ok = None;
    let screen = text(&draw(&s));
    let status = screen.lines().next().unwrap_or_default();
    assert!(status.contains("ghost – split – zombie –"), "{status}");
    assert!(!status.contains("ghost 0"), "{status}");
}

#[tokio::test]
async fn a_rule_that_writes_fails_on_sqlite_and_changes_nothing() {
    let (store, _dir) = common::store().await;
    let pool = store.pool().clone();
    let id = common::order(&pool, "WRITE-ME", "processing", "paid", &common::ago(60)).await;
    // The runbook parser refuses it; a rule that got past would still fail.
    let text = r#"
[[rule]]
id = "zombie.writes"
family = "zombie"
title = "Writes on purpose"
sql = "UPDATE orders SET amount_cents = 1 WHERE id > 0 RETURNING id AS order_id, order_no, status, status_changed_at AS since, sku, supplier_id, amount_cents, '' AS detail"
"#;
    let refused = Runbook::parse(text, "writes.toml").unwrap_err().to_string();
    assert!(
        refused.contains("writes.toml") && refused.contains("zombie.writes"),
        "{refused}"
    );
    assert!(refused.contains("UPDATE"), "{refused}");
    let sneaky = Runbook::parse(
        &text.replace("UPDATE orders", "SELECT 1; UPDATE orders"),
        "x",
    )
    .unwrap_err()
    .to_string();
    assert!(sneaky.contains("one query"), "{sneaky}");

    let runbook = common::runbook_with_a_writing_rule();
    let store = store.with_runbook(runbook);
    let snap = store
        .detect(common::now())
        .await
        .expect("the database is fine");
    assert_eq!(snap.rule_errors.len(), 1, "{:?}", snap.rule_errors);
    assert!(
        snap.rule_errors[0].message.contains("readonly")
            || snap.rule_errors[0].message.contains("read-only")
            || snap.rule_errors[0].message.contains("read only"),
        "{}",
        snap.rule_errors[0].message
    );
    let amount: i64 = sqlx::query_scalar("SELECT amount_cents FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(amount, 12800);
    // The connection went back writable: remediations still work.
    sqlx::query("UPDATE orders SET hold_reason = 'x' WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .expect("writes through the pool still work after a read");
}
