//! Remediations on the real SQLite backend (PostgreSQL and MariaDB run the
//! same scenarios in `tests/databases.rs`, under `.ci/run`).

mod common;

use common::remedy_world as rw;
use orderdeck::sources::store::AnyStore;

async fn sqlite() -> (AnyStore, tempfile::TempDir) {
    let (store, dir) = common::store().await;
    (AnyStore::Sqlite(store), dir)
}

#[tokio::test]
async fn every_action_changes_the_database_and_is_audited() {
    let (store, _dir) = sqlite().await;
    rw::every_action(store).await;
}

#[tokio::test]
async fn the_guard_rolls_back_a_statement_that_changes_too_much() {
    let (store, _dir) = sqlite().await;
    rw::guard_rolls_back(store).await;
}

#[tokio::test]
async fn read_only_refuses_every_remediation_and_audits_it() {
    let (store, _dir) = sqlite().await;
    rw::read_only_refuses_everything(store).await;
}

#[tokio::test]
async fn the_wallboard_engine_refuses_and_audits_every_remediation() {
    let (store, _dir) = sqlite().await;
    rw::wallboard_refuses_everything(store).await;
}

#[tokio::test]
async fn heal_retries_with_stock_and_cancels_without() {
    let (store, _dir) = sqlite().await;
    rw::heal(store).await;
}

/// The copy key in the preview dialog hands the previewed SQL (with its
/// bound values) to the clipboard, sanitised, and leaves the dialog open;
/// the dialog's own keys keep their meaning.
#[tokio::test]
async fn the_copy_key_copies_the_preview_and_confirm_keys_stay_confirm_keys() {
    use orderdeck::action::{Effect, Msg};
    use orderdeck::remedy::Request;
    use orderdeck::state::keys::Key;
    use orderdeck::state::{Mode, update};
    let (store, _dir) = sqlite().await;
    let db = common::world::Db::of(&store);
    let p = rw::plant(&db).await;
    let rig = rw::rig(store, orderdeck::runbook::Runbook::builtin(), false);
    let request = Request::Order {
        action: "release_lock".into(),
        order_id: p.locked,
        order_no: "RM-LOCK".into(),
    };
    let preview = rig
        .engine
        .preview(request, common::now())
        .await
        .expect("a preview");
    let lines = preview.lines.clone();
    assert!(lines.iter().any(|l| l.contains("UPDATE")), "{lines:?}");
    let mut s =
        orderdeck::fixtures::state(120, 40, "dark", orderdeck::theme::ColorDepth::TrueColor, 5);
    update(&mut s, Msg::RemedyPreview(Box::new(Ok(preview))));
    assert!(matches!(s.mode, Mode::Remedy(_)));
    let effects = update(&mut s, Msg::Key(Key::char('Y')));
    // The previewed SQL as written out here, not rebuilt with the
    // product's own sanitiser: what the operator saw is what is copied.
    let want = r#"-- in one transaction on sqlite test.db (sqlite) (release_lock):
-- step 1 (guard: at most 1 row(s) per order, else roll back)
UPDATE inventory
SET reserved = CASE
    WHEN reserved > (SELECT COALESCE(SUM(l.quantity), 0) FROM inventory_locks l
                     WHERE l.sku = inventory.sku AND l.is_locked = TRUE AND l.order_id IN (?))
    THEN reserved - (SELECT COALESCE(SUM(l.quantity), 0) FROM inventory_locks l
                     WHERE l.sku = inventory.sku AND l.is_locked = TRUE AND l.order_id IN (?))
    ELSE 0 END
WHERE sku IN (SELECT l.sku FROM inventory_locks l WHERE l.is_locked = TRUE AND l.order_id IN (?))
-- bound: #1 :order_ids = 1, #2 :order_ids = 1, #3 :order_ids = 1
-- step 2 (guard: at most 1 row(s) per order, else roll back)
UPDATE inventory_locks SET is_locked = FALSE
WHERE is_locked = TRUE AND order_id IN (?)
-- bound: #1 :order_ids = 1
-- plus one ops event "inventory_lock_released" per order on its timeline"#;
    assert_eq!(effects, vec![Effect::Copy(want.to_string())]);
    assert!(matches!(s.mode, Mode::Remedy(_)), "still asking");
    let msg = s
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(
        msg.starts_with("copied the preview to the clipboard"),
        "{msg}"
    );
    // Copy bound to a dialog key does not take it over: y does not copy
    // (nor proceed: there is no one-key yes), and Tab + Enter, after the
    // dialog's half-second guard, still proceeds.
    s.keymap = orderdeck::state::keys::Keymap::with_overrides(&[
        ("copy".into(), vec!["y".into()]),
        ("resync".into(), vec!["R".into()]),
    ])
    .expect("valid keymap");
    use orderdeck::state::{keys::KeyCode, update_at};
    let effects = update_at(&mut s, Msg::Key(Key::char('y')), 1_000);
    assert!(effects.is_empty(), "{effects:?}");
    update_at(&mut s, Msg::Key(Key::plain(KeyCode::Tab)), 1_000);
    let effects = update_at(&mut s, Msg::Key(Key::plain(KeyCode::Enter)), 1_000);
    assert!(
        matches!(effects.as_slice(), [Effect::ExecuteRemedy(_)]),
        "{effects:?}"
    );
}

/// A fix previewed in the cockpit whose preview arrives after `w`: no
/// dialog opens on the wall, and it goes back to be refused and audited.
#[tokio::test]
async fn a_preview_arriving_on_the_wallboard_is_refused_not_shown() {
    use orderdeck::action::{Effect, Msg};
    use orderdeck::state::keys::Key;
    use orderdeck::state::{Mode, update};
    let (store, _dir) = sqlite().await;
    let db = common::world::Db::of(&store);
    let planted = rw::plant(&db).await;
    let rig = rw::rig(store, orderdeck::runbook::Runbook::builtin(), false);
    let preview = rig
        .engine
        .preview(
            orderdeck::remedy::Request::Order {
                action: "release_lock".into(),
                order_id: planted.locked,
                order_no: "RM-LOCK".into(),
            },
            common::now(),
        )
        .await
        .expect("a preview");
    assert!(preview.noop.is_none() && preview.blocked.is_none());
    let mut s =
        orderdeck::fixtures::state(80, 24, "dark", orderdeck::theme::ColorDepth::TrueColor, 60);
    update(&mut s, Msg::Key(Key::char('w')));
    let effects = update(&mut s, Msg::RemedyPreview(Box::new(Ok(preview.clone()))));
    assert_eq!(s.mode, Mode::Normal, "no dialog on the wall");
    assert_eq!(
        effects,
        vec![Effect::RefuseRemedy {
            request: preview.request.clone(),
            why: "wallboard is read-only".into(),
        }]
    );
    // Back in the cockpit the same preview opens its dialog as before.
    update(&mut s, Msg::Key(Key::char('w')));
    update(&mut s, Msg::RemedyPreview(Box::new(Ok(preview))));
    assert!(matches!(s.mode, Mode::Remedy(_)));
}

/// A refusal aimed at nothing (a fix key on the wallboard, which has no
/// selection) is audited in the JSONL file and `remediation_audit`, and
/// writes no event on any order's timeline.
#[tokio::test]
async fn a_refusal_aimed_at_nothing_is_audited_and_touches_no_order() {
    use orderdeck::remedy::audit::Outcome;
    use orderdeck::remedy::{Request, WALLBOARD_READ_ONLY};
    let (store, _dir) = sqlite().await;
    let db = common::world::Db::of(&store);
    rw::plant(&db).await;
    let rig = rw::rig(store, orderdeck::runbook::Runbook::builtin(), false);
    let ops = "SELECT COUNT(*) FROM order_events WHERE source = 'ops'";
    let before = rig.count(ops, &[]).await;
    let request = Request::Unaimed {
        action: "release_lock".into(),
    };
    let r = rig
        .engine
        .refuse_request(&request, WALLBOARD_READ_ONLY, common::now())
        .await;
    assert_eq!(r.outcome, Outcome::Refused, "{}", r.message);
    assert_eq!(r.message, "release_lock refused: wallboard is read-only");
    assert_eq!(rig.audit_rows("release_lock", "refused").await, 1);
    assert_eq!(rig.jsonl("release_lock", Outcome::Refused), 1);
    let lines = rig
        .audit
        .read_since(common::now() - chrono::Duration::days(1))
        .expect("audit file");
    assert_eq!(lines[0].target, "nothing selected");
    assert_eq!(rig.count(ops, &[]).await, before, "no order's timeline");
    // A preview of it is refused too, never planned.
    let p = rig.engine.preview(request, common::now()).await;
    assert!(p.is_err(), "nothing to preview");
}
