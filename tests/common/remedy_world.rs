//! Every remediation on any of the three databases: the database after, the
//! audit row and the JSONL line, no-op re-runs, the guard, refusal and heal.
#![allow(dead_code)]

use super::world::{Db, Val, lock, order, view};
use orderdeck::broker::memory::{BrokerModel, Queue, SimBroker};
use orderdeck::remedy::audit::{Actor, AuditLog, Outcome};
use orderdeck::remedy::broker::{Broker, RequeueRequest};
use orderdeck::remedy::{Engine, Report, Request};
use orderdeck::runbook::Runbook;
use orderdeck::sources::store::AnyStore;
use std::sync::{Arc, Mutex};

pub struct Rig {
    pub engine: Engine,
    pub db: Db,
    pub broker: SimBroker,
    pub audit: AuditLog,
    _dir: tempfile::TempDir,
}

pub fn rig(store: AnyStore, runbook: Runbook, read_only: bool) -> Rig {
    rig_with(
        store,
        runbook,
        read_only.then(|| "read-only mode (test)".to_string()),
    )
}

/// A rig whose engine refuses everything for `read_only`'s reason, if any.
pub fn rig_with(store: AnyStore, runbook: Runbook, read_only: Option<String>) -> Rig {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = AuditLog::new(Some(dir.path().join("audit.jsonl")));
    let broker = SimBroker::new(Arc::new(Mutex::new(BrokerModel::new(super::now(), 2.0))));
    let db = Db::of(&store);
    let engine = Engine::new(
        Some(store),
        Broker::Sim(broker.clone()),
        Arc::new(runbook),
        Actor {
            os_user: "oncall".into(),
            host: "bastion".into(),
            environment: "test".into(),
        },
        audit.clone(),
    )
    .read_only(read_only);
    Rig {
        engine,
        db,
        broker,
        audit,
        _dir: dir,
    }
}

impl Rig {
    pub async fn run(&self, request: Request) -> Report {
        let now = super::now();
        match self.engine.preview(request, now).await {
            Ok(p) => self.engine.execute(&p, false, now).await,
            Err(r) => r,
        }
    }

    pub async fn fix(&self, action: &str, order_id: i64) -> Report {
        self.run(Request::Order {
            action: action.into(),
            order_id,
            order_no: format!("order-{order_id}"),
        })
        .await
    }

    pub async fn count(&self, sql: &str, args: &[Val]) -> i64 {
        self.db.count(sql, args).await
    }

    pub async fn status(&self, id: i64, status: &str) -> bool {
        self.count(
            "SELECT COUNT(*) FROM orders WHERE id = ? AND status = ?",
            &[id.into(), status.into()],
        )
        .await
            == 1
    }

    pub async fn audit_rows(&self, action: &str, outcome: &str) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM remediation_audit WHERE action = ? AND outcome = ?",
            &[action.into(), outcome.into()],
        )
        .await
    }

    pub fn jsonl(&self, action: &str, outcome: Outcome) -> usize {
        self.audit
            .read_since(super::now() - chrono::Duration::days(1))
            .expect("audit file")
            .iter()
            .filter(|r| r.action == action && r.outcome == outcome)
            .count()
    }

    pub async fn ops_events(&self, id: i64, kind: &str) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM order_events WHERE order_id = ? AND source = 'ops' AND kind = ?",
            &[id.into(), kind.into()],
        )
        .await
    }

    pub fn queued(&self, q: Queue) -> usize {
        self.broker.model().depth(q)
    }
}

/// Stock for the test SKU: `on_hand`, `reserved`.
async fn stock(db: &Db, sku: &str, on_hand: i64, reserved: i64) {
    db.exec(
        "INSERT INTO inventory (sku, on_hand, reserved) VALUES (?, ?, ?)",
        &[sku.into(), on_hand.into(), reserved.into()],
    )
    .await;
}

pub struct Planted {
    pub locked: i64,
    pub pending: i64,
    pub zombie_stock: i64,
    pub zombie_no_stock: i64,
    pub risk: i64,
    pub split: i64,
}

pub async fn plant(db: &Db) -> Planted {
    stock(db, "SKU-TEA-0042", 10, 3).await;
    stock(db, "SKU-GONE", 0, 1).await;
    let locked = order(db, "RM-LOCK", "paid", "paid", 60).await;
    lock(db, locked, true, 60, 45).await;
    let pending = order(db, "RM-PEND", "pending_review", "paid", 90).await;
    let zombie_stock = order(db, "RM-Z1", "processing", "paid", 30 * 60).await;
    let zombie_no_stock = order(db, "RM-Z2", "processing", "paid", 40 * 60).await;
    db.exec(
        "UPDATE orders SET sku = 'SKU-GONE' WHERE id = ?",
        &[zombie_no_stock.into()],
    )
    .await;
    let risk = order(db, "RM-RISK", "processing", "paid", 5 * 60).await;
    super::world::hold(db, risk, "risk", 5 * 60).await;
    let split = order(db, "RM-SPLIT", "delivered", "paid", 120).await;
    view(db, split, "logistics", "in_transit", 110).await;
    Planted {
        locked,
        pending,
        zombie_stock,
        zombie_no_stock,
        risk,
        split,
    }
}

/// Everything but heal, on one database.
pub async fn every_action(store: AnyStore) {
    let db = Db::of(&store);
    let p = plant(&db).await;
    let rig = rig(store, Runbook::builtin(), false);

    // u: lock released, reserved stock back, ops event, audit in both places.
    let r = rig.fix("release_lock", p.locked).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(r.affected, 1);
    assert_eq!(
        rig.count(
            "SELECT COUNT(*) FROM inventory_locks WHERE order_id = ? AND is_locked = ?",
            &[p.locked.into(), false.into()]
        )
        .await,
        1
    );
    assert_eq!(
        rig.count(
            "SELECT COUNT(*) FROM inventory WHERE sku = 'SKU-TEA-0042' AND reserved = 2",
            &[]
        )
        .await,
        1,
        "one unit of reserved stock given back"
    );
    assert_eq!(rig.ops_events(p.locked, "inventory_lock_released").await, 1);
    assert_eq!(rig.audit_rows("release_lock", "ok").await, 1);
    assert_eq!(rig.jsonl("release_lock", Outcome::Ok), 1);
    // Again: a no-op that says so, audited as such, nothing changed.
    let r = rig.fix("release_lock", p.locked).await;
    assert_eq!(r.outcome, Outcome::Noop, "{}", r.message);
    assert!(r.message.contains("no inventory lock"), "{}", r.message);
    assert_eq!(rig.audit_rows("release_lock", "noop").await, 1);
    assert_eq!(rig.ops_events(p.locked, "inventory_lock_released").await, 1);

    // r on a pending_review order: the payment callback republished.
    let before = rig.queued(Queue::PaymentCallback);
    let r = rig.fix("redrive_payment_sync", p.pending).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(rig.queued(Queue::PaymentCallback), before + 1);
    assert_eq!(
        rig.ops_events(p.pending, "payment_callback_redriven").await,
        1
    );
    let r = rig.fix("redrive_payment_sync", p.pending).await;
    assert_eq!(
        r.outcome,
        Outcome::Noop,
        "redriven once per state: {}",
        r.message
    );
    assert_eq!(rig.queued(Queue::PaymentCallback), before + 1);

    // y on a split order: logistics told it was delivered.
    let before = rig.queued(Queue::LogisticsUpdates);
    let r = rig.fix("resync_status", p.split).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(rig.queued(Queue::LogisticsUpdates), before + 1);
    assert_eq!(rig.queued(Queue::Settlement), 0, "finance was not behind");

    // x: risk hold cleared, and the work order sent.
    let before = rig.queued(Queue::Fulfillment);
    let r = rig.fix("clear_risk_hold", p.risk).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(
        rig.count(
            "SELECT COUNT(*) FROM orders WHERE id = ? AND hold_reason IS NULL",
            &[p.risk.into()]
        )
        .await,
        1
    );
    assert_eq!(rig.queued(Queue::Fulfillment), before + 1);

    // r on a zombie: work order resent.
    let r = rig.fix("retry_fulfilment", p.zombie_stock).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(rig.queued(Queue::Fulfillment), before + 2);

    // c: cancelled, customer notified with the comfort template.
    let before = rig.queued(Queue::NotifyCustomer);
    let r = rig.fix("cancel_and_notify", p.zombie_no_stock).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert!(rig.status(p.zombie_no_stock, "cancelled").await);
    assert_eq!(rig.queued(Queue::NotifyCustomer), before + 1);
    let r = rig.fix("cancel_and_notify", p.zombie_no_stock).await;
    assert_eq!(r.outcome, Outcome::Noop);
    assert_eq!(rig.queued(Queue::NotifyCustomer), before + 1);

    // Dry run: audited, nothing changed.
    let now = super::now();
    let preview = rig
        .engine
        .preview(
            Request::Order {
                action: "cancel_and_notify".into(),
                order_id: p.pending,
                order_no: "RM-PEND".into(),
            },
            now,
        )
        .await
        .expect("preview");
    assert!(
        preview
            .lines
            .iter()
            .any(|l| l.contains("UPDATE orders SET status = 'cancelled'"))
    );
    assert!(
        preview
            .lines
            .iter()
            .any(|l| l.contains("notify.customer") && l.contains("RM-PEND"))
    );
    assert_eq!(preview.expected, 1);
    let r = rig.engine.execute(&preview, true, now).await;
    assert_eq!(r.outcome, Outcome::DryRun);
    assert!(rig.status(p.pending, "pending_review").await);
    assert_eq!(rig.audit_rows("cancel_and_notify", "dry_run").await, 1);
    assert_eq!(rig.ops_events(p.pending, "remediation_dry_run").await, 1);
}

/// The guard: a user runbook whose step would change every order rolls
/// back, says so, and is audited as failed.
pub async fn guard_rolls_back(store: AnyStore) {
    let db = Db::of(&store);
    let p = plant(&db).await;
    let user = Runbook::parse(
        r#"
[[remediation]]
id = "release_lock"
title = "careless"
noop = "none"
event_kind = "careless"
check = "SELECT o.id AS order_id, o.order_no FROM orders o WHERE o.id IN (:order_ids)"
[[remediation.step]]
sql = "UPDATE orders SET status = 'cancelled' WHERE status <> 'cancelled' OR id IN (:order_ids)"
"#,
        "user.toml",
    )
    .expect("user runbook parses");
    let rig = rig(store, Runbook::builtin().merge(user), false);
    let r = rig.fix("release_lock", p.locked).await;
    assert_eq!(r.outcome, Outcome::Failed, "{}", r.message);
    assert!(r.message.contains("rolled back"), "{}", r.message);
    assert_eq!(
        rig.count(
            "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'",
            &[]
        )
        .await,
        0,
        "nothing changed"
    );
    assert_eq!(rig.ops_events(p.locked, "careless").await, 0);
    assert_eq!(rig.audit_rows("release_lock", "failed").await, 1);
    assert_eq!(rig.jsonl("release_lock", Outcome::Failed), 1);
}

/// Read-only: every remediation refused and audited, nothing changed.
pub async fn read_only_refuses_everything(store: AnyStore) {
    let db = Db::of(&store);
    let p = plant(&db).await;
    let rig = rig(store, Runbook::builtin(), true);
    let snapshot = "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' OR hold_reason IS NULL";
    let before = rig.count(snapshot, &[]).await;
    let locks = "SELECT COUNT(*) FROM inventory_locks WHERE is_locked = ?";
    let held = rig.count(locks, &[true.into()]).await;
    let actions = [
        ("release_lock", p.locked),
        ("redrive_payment_sync", p.pending),
        ("redrive_inventory_sync", p.locked),
        ("retry_fulfilment", p.zombie_stock),
        ("resync_status", p.split),
        ("cancel_and_notify", p.zombie_no_stock),
        ("clear_risk_hold", p.risk),
    ];
    let mut asked: std::collections::HashMap<i64, i64> = Default::default();
    for (action, id) in actions {
        *asked.entry(id).or_default() += 1;
        let r = rig.fix(action, id).await;
        assert_eq!(r.outcome, Outcome::Refused, "{action}: {}", r.message);
        assert!(r.message.contains("read-only"), "{}", r.message);
        assert_eq!(rig.audit_rows(action, "refused").await, 1, "{action}");
        assert_eq!(rig.jsonl(action, Outcome::Refused), 1, "{action}");
        assert_eq!(
            rig.ops_events(id, "remediation_refused").await,
            asked[&id],
            "{action}: one timeline event per refused attempt"
        );
    }
    let r = rig
        .run(Request::Heal {
            older_than: chrono::Duration::hours(24),
            limit: 100,
        })
        .await;
    assert_eq!(r.outcome, Outcome::Refused);
    let r = rig
        .run(Request::Requeue(RequeueRequest {
            queue: "payment.callback".into(),
            limit: 10,
            filter: None,
        }))
        .await;
    assert_eq!(r.outcome, Outcome::Refused);
    assert_eq!(rig.audit_rows("heal", "refused").await, 1);
    assert_eq!(rig.audit_rows("requeue_dead_letters", "refused").await, 1);
    assert_eq!(rig.count(snapshot, &[]).await, before);
    assert_eq!(rig.count(locks, &[true.into()]).await, held);
    for q in Queue::ALL {
        assert_eq!(rig.queued(q), 0, "nothing published to {}", q.name());
    }
}

/// Heal: zombies with stock on hand are retried, the others cancelled; a
/// second run finds nothing more to do.
pub async fn heal(store: AnyStore) {
    let db = Db::of(&store);
    let p = plant(&db).await;
    let rig = rig(store, Runbook::builtin(), false);
    let request = Request::Heal {
        older_than: chrono::Duration::hours(24),
        limit: 100,
    };
    let r = rig.run(request.clone()).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.message);
    assert_eq!(r.affected, 2);
    assert!(rig.status(p.zombie_stock, "processing").await);
    assert_eq!(
        rig.ops_events(p.zombie_stock, "fulfilment_retried").await,
        1
    );
    assert!(rig.status(p.zombie_no_stock, "cancelled").await);
    assert!(
        rig.status(p.risk, "processing").await,
        "held orders are not healed"
    );
    assert_eq!(rig.queued(Queue::Fulfillment), 1);
    assert_eq!(rig.queued(Queue::NotifyCustomer), 1);
    // Re-run: the retried order is skipped by its check, nothing is sent twice.
    let r = rig.run(request).await;
    assert_eq!(r.affected, 0, "{}", r.message);
    assert_eq!(rig.queued(Queue::Fulfillment), 1);
    assert_eq!(rig.audit_rows("heal", "ok").await, 2);
}

/// `n` zombie orders (processing for two days): the even ones on a SKU
/// with stock (heal retries them), the odd ones on a SKU without (heal
/// cancels them, giving their locked stock back). Inserted in multi-row
/// statements so thousands take a moment, not minutes.
pub async fn plant_zombies(db: &Db, n: usize) {
    stock(db, "SKU-TEA-0042", 1_000_000, 0).await;
    stock(db, "SKU-GONE", 0, n as i64).await;
    let since = super::world::at(48 * 60);
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        let mut sql = String::from(
            "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                status, payment_status, created_at, status_changed_at) VALUES ",
        );
        let mut args: Vec<Val> = Vec::new();
        for (k, i) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push(',');
            }
            sql.push_str("(?, 100001, 1001, ?, 1, 12800, 'processing', 'paid', ?, ?)");
            let sku = if i % 2 == 0 {
                "SKU-TEA-0042"
            } else {
                "SKU-GONE"
            };
            args.extend([
                Val::from(format!("HZ-{i:06}").as_str()),
                sku.into(),
                since.into(),
                since.into(),
            ]);
        }
        db.exec(&sql, &args).await;
    }
    db.exec(
        "INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
         SELECT id, sku, 1, ?, status_changed_at, status_changed_at FROM orders
         WHERE sku = 'SKU-GONE' AND order_no LIKE 'HZ-%'",
        &[true.into()],
    )
    .await;
}

/// What a heal leaves behind, comparable across two databases planted
/// alike: every order's number, status and fix events (the ops events a
/// fix writes, not the `remediation_*` notes about attempts), plus stock.
pub async fn healed_state(db: &Db) -> Vec<String> {
    let mut out = db
        .strings(
            "SELECT o.order_no, o.status,
                (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id
                   AND e.source = 'ops' AND e.kind NOT LIKE 'remediation%') AS fixes
             FROM orders o ORDER BY o.order_no",
        )
        .await;
    out.extend(
        db.strings("SELECT sku, on_hand, reserved FROM inventory ORDER BY sku")
            .await,
    );
    out.extend(
        db.strings(
            "SELECT l.sku, COUNT(*), COUNT(CASE WHEN l.is_locked THEN 1 END)
             FROM inventory_locks l GROUP BY l.sku ORDER BY l.sku",
        )
        .await,
    );
    out
}

pub fn heal_request(limit: u32) -> Request {
    Request::Heal {
        older_than: chrono::Duration::hours(24),
        limit,
    }
}

/// The wallboard's engine, built the way `orderdeck wallboard` builds it
/// (`read_only_reason` with the wallboard on, and neither --read-only nor a
/// read-only environment): every remediation refused and audited in the
/// JSONL file and `remediation_audit`, both through a preview (a fix asked
/// for before `w`) and straight away (`Effect::RefuseRemedy`, a key pressed
/// on the wall); nothing changed.
pub async fn wallboard_refuses_everything(store: AnyStore) {
    use orderdeck::remedy::{WALLBOARD_READ_ONLY, read_only_reason};
    let db = Db::of(&store);
    let p = plant(&db).await;
    let why = read_only_reason(true, false, "test", false);
    assert_eq!(why.as_deref(), Some(WALLBOARD_READ_ONLY));
    let rig = rig_with(store, Runbook::builtin(), why);
    assert!(rig.engine.is_read_only());
    let snapshot = "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' OR hold_reason IS NULL";
    let before = rig.count(snapshot, &[]).await;
    let locks = "SELECT COUNT(*) FROM inventory_locks WHERE is_locked = ?";
    let held = rig.count(locks, &[true.into()]).await;

    // Through a preview.
    for (action, id) in [("release_lock", p.locked), ("clear_risk_hold", p.risk)] {
        let r = rig.fix(action, id).await;
        assert_eq!(r.outcome, Outcome::Refused, "{action}: {}", r.message);
        assert!(r.message.contains(WALLBOARD_READ_ONLY), "{}", r.message);
        assert_eq!(rig.audit_rows(action, "refused").await, 1, "{action}");
        assert_eq!(rig.jsonl(action, Outcome::Refused), 1, "{action}");
    }
    // Refused straight away, as the wall's keys are: one of each kind.
    let now = super::now();
    let requests = [
        Request::Order {
            action: "cancel_and_notify".into(),
            order_id: p.zombie_no_stock,
            order_no: "RM-Z2".into(),
        },
        Request::Heal {
            older_than: chrono::Duration::hours(24),
            limit: 1000,
        },
        Request::Requeue(RequeueRequest {
            queue: "payment.callback".into(),
            limit: 1000,
            filter: None,
        }),
    ];
    for request in requests {
        let action = request.action().to_string();
        let r = rig
            .engine
            .refuse_request(&request, WALLBOARD_READ_ONLY, now)
            .await;
        assert_eq!(r.outcome, Outcome::Refused, "{action}: {}", r.message);
        assert_eq!(
            r.message,
            format!("{action} refused: {WALLBOARD_READ_ONLY}"),
            "no audit problem reported"
        );
        assert_eq!(rig.audit_rows(&action, "refused").await, 1, "{action}");
        let lines: Vec<_> = rig
            .audit
            .read_since(now - chrono::Duration::days(1))
            .expect("audit file")
            .into_iter()
            .filter(|a| a.action == action && a.outcome == Outcome::Refused)
            .collect();
        assert_eq!(lines.len(), 1, "{action}");
        assert_eq!(lines[0].error.as_deref(), Some(WALLBOARD_READ_ONLY));
        assert_eq!(lines[0].target, request.target());
    }
    assert_eq!(
        rig.ops_events(p.zombie_no_stock, "remediation_refused")
            .await,
        1,
        "the order's timeline shows the refused attempt"
    );
    assert_eq!(rig.count(snapshot, &[]).await, before);
    assert_eq!(rig.count(locks, &[true.into()]).await, held);
    for q in Queue::ALL {
        assert_eq!(rig.queued(q), 0, "nothing published to {}", q.name());
    }
}
