//! The stuck-order ingest: a detection rule's row whose every column holds
//! whatever the fuzzer chose (text with any bytes, integers, reals, blobs,
//! NULL), read by the real SQLite store and drawn by the real cockpit.
//! Detection never fails as a whole for one bad row: the row becomes an
//! order, with its text as stored, or the rule's error, one printable line;
//! the frame holds no control character.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use orderdeck::action::Msg;
use orderdeck::runbook::Runbook;
use orderdeck::sources::OrderStore;
use orderdeck::sources::sqlite::SqliteStore;
use std::sync::OnceLock;

const COLUMNS: [&str; 8] = [
    "order_id",
    "order_no",
    "status",
    "since",
    "sku",
    "supplier_id",
    "amount_cents",
    "detail",
];

/// One SQLite cell, as any driver or hand-edited table may hold it.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

fn cell(u: &mut Unstructured, col: &str) -> Result<Cell> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => Cell::Null,
        1 => Cell::Int(u.arbitrary()?),
        2 => Cell::Real(u.arbitrary()?),
        3 => Cell::Bytes(u.arbitrary()?),
        // Plausible values half the time, so rows get past the integer and
        // timestamp columns and reach the text ones and the screen.
        4 => Cell::Text(match col {
            "order_id" | "supplier_id" | "amount_cents" => u.arbitrary::<i32>()?.to_string(),
            "since" => format!(
                "2026-{:02}-{:02} {:02}:{:02}:00",
                u.int_in_range(1..=12u8)?,
                u.int_in_range(1..=28u8)?,
                u.int_in_range(0..=23u8)?,
                u.int_in_range(0..=59u8)?
            ),
            _ => u.arbitrary()?,
        }),
        _ => Cell::Text(u.arbitrary()?),
    })
}

struct World {
    rt: tokio::runtime::Runtime,
    store: SqliteStore,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = rt.block_on(async {
            let store = SqliteStore::open("sqlite::memory:", true)
                .await
                .expect("in-memory SQLite");
            // Untyped columns: SQLite keeps each value as the fuzzer gave it.
            sqlx::query(
                "CREATE TABLE fuzz_rows (order_id, order_no, status, since, sku, supplier_id, amount_cents, detail)",
            )
                .execute(store.pool())
                .await
                .expect("create fuzz_rows");
            store
        });
        let rule = format!(
            "[[rule]]\nid = \"ghost.fuzzed\"\nfamily = \"ghost\"\ntitle = \"Fuzzed row\"\nsql = \"SELECT {} FROM fuzz_rows LIMIT :limit\"\n",
            COLUMNS.join(", ")
        );
        let runbook = Runbook::parse(&rule, "fuzz.toml").expect("the fuzz rule parses");
        World {
            rt,
            store: store.with_runbook(runbook),
        }
    })
}

fn printable_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(cells) = COLUMNS
        .iter()
        .map(|c| cell(&mut u, c))
        .collect::<Result<Vec<_>>>()
    else {
        return;
    };
    let w = world();
    let snap = w.rt.block_on(async {
        sqlx::query("DELETE FROM fuzz_rows")
            .execute(w.store.pool())
            .await
            .expect("clear");
        let mut q = sqlx::query("INSERT INTO fuzz_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        for c in &cells {
            q = match c.clone() {
                Cell::Null => q.bind(None::<i64>),
                Cell::Int(v) => q.bind(v),
                Cell::Real(v) => q.bind(v),
                Cell::Text(v) => q.bind(v),
                Cell::Bytes(v) => q.bind(v),
            };
        }
        q.execute(w.store.pool()).await.expect("insert");
        w.store.detect(orderdeck::fixtures::now()).await
    });
    let snap = snap.expect("one bad row never fails detection as a whole");
    for e in &snap.rule_errors {
        assert_eq!(e.rule_id, "ghost.fuzzed");
        assert!(printable_line(&e.message), "{:?}", e.message);
    }
    assert!(snap.orders.len() + snap.rule_errors.len() == 1, "{snap:?}");
    for o in &snap.orders {
        // Text comes through as stored (invalid UTF-8 read lossily).
        for (i, got) in [
            (1, &o.order_no),
            (2, &o.status),
            (4, &o.sku),
            (7, &o.detail),
        ] {
            match &cells[i] {
                Cell::Text(t) => assert_eq!(got, t, "column {}", COLUMNS[i]),
                Cell::Bytes(b) => {
                    assert_eq!(got, &String::from_utf8_lossy(b), "column {}", COLUMNS[i])
                }
                _ => {}
            }
        }
    }
    // The cockpit draws it: no panic, and nothing in the frame that could
    // drive the terminal.
    let mut s =
        orderdeck::fixtures::state(80, 24, "dark", orderdeck::theme::ColorDepth::TrueColor, 0);
    orderdeck::state::update(
        &mut s,
        Msg::Orders {
            at: orderdeck::fixtures::now(),
            result: Ok(snap),
        },
    );
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).expect("terminal");
    term.draw(|f| orderdeck::ui::render(&s, f)).expect("draw");
    for c in term.backend().buffer().content() {
        assert!(printable_line(c.symbol()), "{:?}", c.symbol());
    }
});
