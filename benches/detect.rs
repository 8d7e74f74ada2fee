//! Detection over 1,000,000 orders in PostgreSQL: all built-in rules, one
//! poll, through the real store (DESIGN section 9: ≤ 50 ms a poll with the
//! reference indexes).
//!
//! Needs a PostgreSQL server: `ORDERDECK_BENCH_PG_URL` (default
//! postgres://postgres@127.0.0.1:5432/test). Without one it fails (exit 1,
//! one line): a bench that measured nothing must not pass. The data lives in its own schema, `orderdeck_bench_1m`, built by
//! `benches/detect_seed_pg.sql` (about a minute) and rebuilt when older than
//! a day, since its times are relative to when it was built.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use orderdeck::sources::OrderStore;
use orderdeck::sources::store::{AnyStore, Open};
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::time::Duration;

mod support;

const SCHEMA: &str = "orderdeck_bench_1m";
const SEED: &str = include_str!("detect_seed_pg.sql");

fn admin_url() -> String {
    std::env::var("ORDERDECK_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn store_url() -> String {
    let url = admin_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{SCHEMA}")
}

/// Builds the data set unless a fresh one is there; no server fails the
/// bench.
async fn prepare() -> AnyStore {
    let mut admin = match sqlx::PgConnection::connect(&admin_url()).await {
        Ok(c) => c,
        Err(e) => support::fail(
            "detect",
            format!(
                "PostgreSQL unreachable at {} ({e}); start it or set ORDERDECK_BENCH_PG_URL",
                orderdeck::config::mask_secrets(&admin_url())
            ),
        ),
    };
    let fresh: Option<bool> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT seeded_at > now() - interval '1 day' FROM {SCHEMA}.bench_seeded"
    )))
    .fetch_optional(&mut admin)
    .await
    .ok()
    .flatten();
    if fresh != Some(true) {
        println!("building {SCHEMA}: 1,000,000 orders (about a minute)...");
        admin
            .execute(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"
            )))
            .await
            .expect("create bench schema");
        let store = AnyStore::open(&store_url(), Open::default())
            .await
            .expect("open bench schema");
        store.migrate().await.expect("migrate bench schema");
        store.close().await;
        admin
            .execute(AssertSqlSafe(format!(
                "SET search_path = {SCHEMA}; {SEED}
                 CREATE TABLE bench_seeded AS SELECT now() AS seeded_at;"
            )))
            .await
            .expect("seed 1M orders");
    }
    AnyStore::open(&store_url(), Open::default())
        .await
        .expect("open bench schema")
}

fn detect(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = rt.block_on(prepare());
    let first = rt
        .block_on(store.detect(Utc::now()))
        .expect("detection on the bench data");
    assert!(first.rule_errors.is_empty(), "{:?}", first.rule_errors);
    println!(
        "1,000,000 orders, {} stuck across {} rules",
        first.orders.len(),
        orderdeck::runbook::Runbook::builtin().rules.len()
    );
    let mut g = c.benchmark_group("detect");
    g.sample_size(30).measurement_time(Duration::from_secs(10));
    g.bench_function("postgres_1m_orders_all_rules", |b| {
        b.iter(|| rt.block_on(store.detect(Utc::now())).expect("poll"))
    });
    g.finish();
    // The figure the budget applies to, from this run (criterion's own
    // report is above).
    let median = support::median(21, || {
        if let Err(e) = rt.block_on(store.detect(Utc::now())) {
            support::fail("detect", format!("a poll failed ({e})"));
        }
    });
    support::figure("detect_1m_orders_ms", support::ms(median), "ms");
    rt.block_on(store.close());
}

criterion_group!(benches, detect);
criterion_main!(benches);
