//! Read-only mode on the real binary: every remediation key in the cockpit
//! (in a real PTY) and every headless remediation command is refused,
//! nothing changes, and each attempt is audited as refused in the
//! database and in the local JSONL log.

mod common;

use common::pty::Pty;
use serde_json::Value;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kinds of ops event a fix writes (not the `remediation_*` notes).
const FIX_EVENTS: &str = "SELECT COUNT(*) FROM order_events WHERE source = 'ops'
    AND kind NOT LIKE 'remediation%'";

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("audit log {}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The audit log a run with `home` as its home writes, wherever the
/// platform's data directory puts it under there.
fn find_audit_log(home: &Path) -> PathBuf {
    let mut found = Vec::new();
    collect_audit_logs(home, &mut found);
    assert_eq!(
        found.len(),
        1,
        "one audit log under {}: {found:?}",
        home.display()
    );
    found.remove(0)
}

async fn db_count(db: &Path, sql: &str) -> i64 {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the demo database");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn refused_rows(db: &Path) -> (i64, i64) {
    (
        db_count(
            db,
            "SELECT COUNT(*) FROM remediation_audit WHERE outcome = 'refused'",
        )
        .await,
        db_count(db, "SELECT COUNT(*) FROM remediation_audit").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_remediation_key_and_command() {
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("demo.db");
    let db_arg = db.to_str().expect("utf-8 path");

    // The cockpit: every remediation key, each where it applies.
    let mut s = Pty::start(
        &["--read-only", "demo", "--db", db_arg, "--seed", "7"],
        home.path(),
        30,
        120,
    );
    s.wait_for(b"READ-ONLY", Duration::from_secs(20));
    // The demo's order numbers: the stuck-order table is filled, so the
    // order keys have a selection (the oldest zombie, in processing).
    s.wait_for(b"CO2026", Duration::from_secs(20));
    s.send(b"2");
    // Each refusal is the message line: look at the screen, not the bytes.
    let keys: [(&[u8], &str); 8] = [
        (b"u", "release_lock refused: read-only mode (--read-only)"),
        (
            b"r",
            "retry_fulfilment refused: read-only mode (--read-only)",
        ),
        (
            b"c",
            "cancel_and_notify refused: read-only mode (--read-only)",
        ),
        (b"y", "resync_status refused: read-only mode (--read-only)"),
        (
            b"x",
            "clear_risk_hold refused: read-only mode (--read-only)",
        ),
        // Focus moves to the queues: their border turns heavy.
        (b"1", "┏ 1 Queue backlog"),
        (
            b"d",
            "requeue_dead_letters refused: read-only mode (--read-only)",
        ),
        (b"H", "heal refused: read-only mode (--read-only)"),
    ];
    for (key, answer) in keys {
        s.send(key);
        s.wait_for_screen(answer, 30, 120, Duration::from_secs(10));
    }
    s.send(b"q");
    let status = s.wait_exit();
    assert!(status.success(), "cockpit exit: {status:?}");

    let log = find_audit_log(home.path());
    let lines = audit_lines(&log);
    let actions: Vec<&str> = lines.iter().filter_map(|l| l["action"].as_str()).collect();
    assert!(
        lines.iter().all(|l| l["outcome"] == "refused"),
        "only refusals: {lines:#?}"
    );
    for want in [
        "release_lock",
        "cancel_and_notify",
        "resync_status",
        "clear_risk_hold",
        "requeue_dead_letters",
        "heal",
    ] {
        assert!(
            actions.contains(&want),
            "{want} refused and audited: {actions:?}"
        );
    }
    assert!(actions.contains(&"retry_fulfilment"), "{actions:?}");
    assert_eq!(lines.len(), 7, "one line per key: {actions:?}");
    assert_eq!(refused_rows(&db).await, (7, 7), "one database row per key");
    assert_eq!(
        db_count(&db, FIX_EVENTS).await,
        0,
        "no fix reached an order"
    );

    // The headless commands, on the database the cockpit left behind.
    let order_no: String = {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{db_arg}"))
            .await
            .expect("open");
        sqlx::query_scalar("SELECT order_no FROM orders WHERE status = 'processing' LIMIT 1")
            .fetch_one(&mut c)
            .await
            .expect("a processing order")
    };
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[env.ops]\ndatabase_url = \"sqlite://{db_arg}\"\nread_only = true\n"),
    )
    .expect("config");
    let cfg = config.to_str().expect("utf-8 path");
    for args in [
        vec!["remediate", "cancel_and_notify", order_no.as_str(), "--yes"],
        vec!["remediate", "release_lock", order_no.as_str(), "--yes"],
        vec!["heal", "--yes"],
        vec!["requeue", "payment.callback", "--yes"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"))
            .args(["--config", cfg])
            .args(&args)
            .env("HOME", home.path())
            .env("ORDERDECK_AUDIT_LOG", &log)
            .output()
            .expect("run orderdeck");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains("read_only"),
            "{args:?} says why: {stdout}{stderr}"
        );
    }
    let lines = audit_lines(&log);
    assert_eq!(lines.len(), 11, "every command audited");
    assert!(lines.iter().all(|l| l["outcome"] == "refused"));
    assert_eq!(refused_rows(&db).await, (11, 11));
    assert_eq!(db_count(&db, FIX_EVENTS).await, 0, "still nothing fixed");
}

/// What the screen shows now (everything seen, through a vt100 emulator).
fn screen_text(s: &Pty, rows: u16, cols: u16) -> String {
    let mut vt = vt100::Parser::new(rows, cols, 0);
    vt.process(&s.seen);
    vt.screen().contents()
}

/// Waits until the screen shows one of `texts`; returns which.
fn wait_for_any(s: &mut Pty, texts: &[&'static str], timeout: Duration) -> &'static str {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let screen = screen_text(s, 30, 120);
        if let Some(t) = texts.iter().find(|t| screen.contains(**t)) {
            return t;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for one of {texts:?}; the screen shows:\n{screen}"
        );
        s.pump(Duration::from_millis(100));
    }
}

/// `:q`, answering yes if quitting asks (a decline may still be being
/// audited); the cockpit must exit cleanly.
fn quit(s: &mut Pty) {
    s.send(b":q\r");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if s.child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if screen_text(s, 30, 120).contains("quit?") {
            s.send(b"y");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no exit, no question");
        s.pump(Duration::from_millis(100));
    }
    assert!(s.wait_exit().success(), "cockpit exit");
}

/// Never commit by accident, on the real binary and a real SQLite file:
/// each remediation key followed by `y`, Enter and the same key again,
/// typed ahead in one write and again once the preview shows, commits
/// nothing: no `ok` audit row (JSONL and database), no fix on any order.
/// (Before: `y` proceeded in the dialog and a late preview replaced the
/// one open, so `yy` was a committed resync.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_keys_followed_by_y_enter_and_themselves_commit_nothing() {
    let mut dialogs = Vec::new();
    for (focus, key) in [
        (b'2', b'u'),
        (b'2', b'r'),
        (b'2', b'c'),
        (b'2', b'y'),
        (b'2', b'x'),
        (b'1', b'd'),
        (b'2', b'H'),
    ] {
        let what = char::from(key);
        let home = tempfile::tempdir().expect("home");
        let db = home.path().join("demo.db");
        let db_arg = db.to_str().expect("utf-8 path");
        let mut s = Pty::start(
            &["demo", "--db", db_arg, "--seed", "7"],
            home.path(),
            30,
            120,
        );
        s.wait_for(b"CO2026", Duration::from_secs(30));
        s.send(&[focus, key, b'y', b'\r', key]);
        let shown = wait_for_any(
            &mut s,
            &["[ Proceed ]", "Bulk: type", "nothing to do", " failed: "],
            Duration::from_secs(20),
        );
        if shown == "[ Proceed ]" || shown == "Bulk: type" {
            dialogs.push(what);
            // The same again with the dialog on screen, however late.
            s.send(&[b'y', b'\r', key]);
        }
        s.send(b"\x1b");
        quit(&mut s);

        // No attempt at all writes no log: that is nothing done, too.
        let mut logs = Vec::new();
        collect_audit_logs(home.path(), &mut logs);
        for path in logs {
            let lines = audit_lines(&path);
            assert!(
                lines.iter().all(|l| l["outcome"] != "ok"),
                "{what}: nothing done: {lines:#?}"
            );
        }
        assert_eq!(
            db_count(
                &db,
                "SELECT COUNT(*) FROM remediation_audit WHERE outcome = 'ok'"
            )
            .await,
            0,
            "{what}: no ok audit row"
        );
        assert_eq!(db_count(&db, FIX_EVENTS).await, 0, "{what}: no fix");
    }
    assert!(
        dialogs.len() >= 3,
        "most keys showed a dialog to type into: {dialogs:?}"
    );
}

fn collect_audit_logs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_audit_logs(&p, out);
        } else if p.file_name().is_some_and(|n| n == "audit.jsonl") {
            out.push(p);
        }
    }
}
