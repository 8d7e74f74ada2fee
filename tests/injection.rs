//! What the operator types never becomes SQL: `:goto` order numbers are
//! bound as parameters, the `/` filter never reaches the database at all,
//! and rules take only their bound `:cutoff`, `:now` and `:limit`.
//!
//! Each hostile text is typed into the real `update` (as keys), and the
//! effect it produces is run against a real database holding an order
//! whose number IS that text: binding finds exactly that order; any
//! concatenation would break the statement, match too much, or drop the
//! table. SQLite runs in a plain `cargo test`; PostgreSQL and MariaDB are
//! `#[ignore]`d service tests, run by `.ci/run` with `--ignored`.

mod common;

use common::scratch::Scratch;
use common::world::{self, Db};
use orderdeck::action::{Effect, Msg};
use orderdeck::sources::OrderStore;
use orderdeck::state::keys::{Key, KeyCode};
use orderdeck::state::{State, update};
use orderdeck::theme::ColorDepth;
use sqlx::AssertSqlSafe;

/// Classic injections for every dialect's quoting: quotes, comments,
/// stacked statements, MySQL's backslash escapes, placeholders of every
/// style, tautologies, wildcards.
const HOSTILE: &[&str] = &[
    "'; DROP TABLE orders; --",
    "CO1'; DROP TABLE orders; --",
    "' OR '1'='1",
    "' OR 1=1 --",
    "1 OR 1=1",
    "\" OR \"\"=\"",
    "\\'; DROP TABLE orders; -- ",
    "CO1\\",
    "'); DELETE FROM orders; --",
    "CO1' UNION SELECT id FROM orders --",
    "CO1'/*",
    "*/ OR 1=1 /*",
    "%",
    "CO%' OR order_no LIKE '%",
    "_",
    "$1",
    "?",
    ":cutoff",
    ":limit",
    "CO1'; UPDATE orders SET status = 'cancelled'; --",
    "ʼ OR 1=1 --",
    "＇ OR ＇1＇=＇1",
    "CO1\u{2019}; --",
];

/// 20 fixture orders with no `_` or `%` in any field (real rule ids and
/// statuses have `_`), so that a filter of `_` or `%` matching every row
/// would mean it was taken for a wildcard.
fn state() -> State {
    let mut s = orderdeck::fixtures::state(120, 40, "dark", ColorDepth::TrueColor, 0);
    let orders = orderdeck::fixtures::stuck_orders(20)
        .into_iter()
        .map(|mut o| {
            for field in [&mut o.rule_id, &mut o.status, &mut o.detail] {
                *field = field.replace(['_', '%'], "-");
            }
            o
        })
        .collect();
    let now = orderdeck::fixtures::now();
    update(
        &mut s,
        Msg::Orders {
            at: now,
            result: Ok(orderdeck::model::DetectionSnapshot {
                as_of: now,
                orders,
                ..Default::default()
            }),
        },
    );
    s
}

fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(update(state, Msg::Key(Key::char(c))));
    }
    effects
}

fn enter(state: &mut State) -> Vec<Effect> {
    update(state, Msg::Key(Key::plain(KeyCode::Enter)))
}

/// `:goto TEXT` typed key by key: the order number the effect carries is
/// the text exactly as typed, for the store to bind.
fn goto_effect(text: &str) -> String {
    let mut s = state();
    let mut effects = type_text(&mut s, ":goto ");
    effects.extend(type_text(&mut s, text));
    effects.extend(enter(&mut s));
    let lookups: Vec<String> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::LookupOrder(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(lookups.len(), 1, "{text:?}: one lookup, got {lookups:?}");
    lookups.into_iter().next().unwrap_or_default()
}

#[test]
fn goto_hands_the_typed_text_to_the_store_unchanged() {
    for text in HOSTILE {
        // `:goto` trims the argument; a trailing space is not the operator's.
        assert_eq!(goto_effect(text), text.trim(), "{text:?}");
    }
}

/// The `/` filter is applied in memory: whatever is typed, it produces no
/// effect at all (nothing reaches a source), and it matches text literally.
#[test]
fn the_filter_never_reaches_the_database() {
    for text in HOSTILE {
        let mut s = state();
        let mut effects = type_text(&mut s, "/");
        effects.extend(type_text(&mut s, text));
        effects.extend(enter(&mut s));
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::LookupOrder(_))),
            "{text:?}: {effects:?}"
        );
        // A tautology is text to look for, not a condition: it hides rows.
        assert!(
            s.orders.visible_len() < s.orders.total_len(),
            "{text:?} matched every row"
        );
        let mut effects = type_text(&mut s, ":filter ");
        effects.extend(type_text(&mut s, text));
        effects.extend(enter(&mut s));
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::LookupOrder(_))),
            "{text:?}: {effects:?}"
        );
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let r = match db {
        Db::Sqlite(p) => {
            sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql))
                .fetch_one(p)
                .await
        }
        Db::Postgres(p) => {
            sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql))
                .fetch_one(p)
                .await
        }
        Db::Mysql(p) => {
            sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql))
                .fetch_one(p)
                .await
        }
    };
    r.unwrap_or_else(|e| panic!("{table} is gone or unreadable: {e}"))
        .0
}

async fn statuses(db: &Db) -> Vec<String> {
    let sql = "SELECT status FROM orders ORDER BY id";
    let r = match db {
        Db::Sqlite(p) => sqlx::query_as::<_, (String,)>(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as::<_, (String,)>(sql).fetch_all(p).await,
        Db::Mysql(p) => sqlx::query_as::<_, (String,)>(sql).fetch_all(p).await,
    };
    r.expect("read statuses")
        .into_iter()
        .map(|(s,)| s)
        .collect()
}

/// Every hostile text, as typed into `:goto`, against a database where
/// one order carries each text as its number: the lookup finds exactly
/// that order, a near miss finds nothing, and no table or row changes.
async fn hostile_lookups(store: &impl OrderStore, db: &Db) {
    let mut planted = Vec::new();
    for (i, text) in HOSTILE.iter().enumerate() {
        let id = world::order(db, text.trim(), "processing", "paid", 60 + i as i64).await;
        planted.push(id);
    }
    let plain = world::order(db, "CO1", "delivered", "paid", 5).await;
    let orders = count(db, "orders").await;
    let before = statuses(db).await;

    for (text, id) in HOSTILE.iter().zip(&planted) {
        let typed = goto_effect(text);
        let found = store
            .find_order_id(&typed)
            .await
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(found, Some(*id), "{text:?} must find exactly its own order");
        // A near miss (one more character) is a different order number.
        let miss = store
            .find_order_id(&format!("{typed}x"))
            .await
            .unwrap_or_else(|e| panic!("{text:?}x: {e}"));
        assert_eq!(miss, None, "{text:?}x");
        // Its timeline reads back the hostile text as data.
        let t = store
            .timeline(*id)
            .await
            .unwrap_or_else(|e| panic!("timeline of {text:?}: {e}"))
            .expect("the order exists");
        assert_eq!(t.order.order_no, text.trim());
    }
    assert_eq!(store.find_order_id("CO1").await.expect("CO1"), Some(plain));
    // Nothing was dropped, deleted or updated; every table still reads.
    assert_eq!(count(db, "orders").await, orders);
    assert_eq!(statuses(db).await, before);
    for table in [
        "order_events",
        "order_views",
        "inventory",
        "inventory_locks",
    ] {
        count(db, table).await;
    }
    // Detection still runs over the hostile rows (as data).
    let snap = store.detect(common::now()).await.expect("detect");
    assert!(snap.rule_errors.is_empty(), "{:?}", snap.rule_errors);
}

#[tokio::test]
async fn sqlite_binds_every_hostile_lookup() {
    let (store, _dir) = common::store().await;
    let db = Db::Sqlite(store.pool().clone());
    hostile_lookups(&store, &db).await;
}

#[tokio::test]
#[ignore = "needs services"]
async fn postgres_binds_every_hostile_lookup() {
    let s = Scratch::postgres("inject").await;
    let store = s.store().await;
    hostile_lookups(&store, &Db::of(&store)).await;
    store.close().await;
    s.cleanup().await;
}

#[tokio::test]
#[ignore = "needs services"]
async fn mysql_binds_every_hostile_lookup() {
    let s = Scratch::mysql("inject").await;
    let store = s.store().await;
    hostile_lookups(&store, &Db::of(&store)).await;
    store.close().await;
    s.cleanup().await;
}
