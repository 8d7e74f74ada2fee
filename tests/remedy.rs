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
