//! The command line as a user meets it: the real binary, its output and
//! exit codes (0 ok, 2 bad usage/config/input), with a private HOME so the
//! user's own config never leaks in.

use assert_cmd::Command;
use predicates::prelude::*;
use std::process::Stdio;
use tempfile::TempDir;

fn orderdeck(home: &TempDir) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary built");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("TERM", "xterm-256color");
    cmd
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let home = TempDir::new().unwrap();
    orderdeck(&home)
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "orderdeck demo --seed 7 --speed 10",
        ))
        .stdout(predicate::str::contains("Exit codes: 0 ok"));
    orderdeck(&home)
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("orderdeck "));
}

#[test]
fn themes_list_names_the_four_built_ins() {
    let home = TempDir::new().unwrap();
    let out = orderdeck(&home).args(["themes", "list"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for name in ["dark", "light", "high-contrast", "ansi16"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
}

/// The theme a terminal gets by default, as `themes list` marks it.
fn default_theme(home: &TempDir, env: &[(&str, &str)]) -> String {
    let mut cmd = orderdeck(home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(["themes", "list"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("* "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no default marked:\n{text}"))
        .to_string()
}

#[test]
fn the_default_theme_follows_the_terminal() {
    let home = TempDir::new().unwrap();
    assert_eq!(default_theme(&home, &[]), "dark");
    assert_eq!(default_theme(&home, &[("COLORFGBG", "0;15")]), "light");
    assert_eq!(
        default_theme(
            &home,
            &[("TERM", "screen-256color"), ("COLORFGBG", "0;default;7")]
        ),
        "light"
    );
    assert_eq!(default_theme(&home, &[("TERM", "xterm")]), "ansi16");
    assert_eq!(
        default_theme(&home, &[("TERM", "linux"), ("COLORFGBG", "0;15")]),
        "ansi16"
    );
    assert_eq!(default_theme(&home, &[("NO_COLOR", "1")]), "ansi16");
}

#[test]
fn config_init_writes_a_valid_file_and_refuses_to_overwrite_it() {
    let home = TempDir::new().unwrap();
    let path = home.path().join("config/orderdeck/config.toml");
    orderdeck(&home).args(["config", "init"]).assert().success();
    let written = std::fs::read_to_string(&path).expect("config written");
    assert!(written.contains("[env."), "template documents environments");
    orderdeck(&home)
        .args(["config", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(": ok"));

    std::fs::write(&path, "edited by hand\n").unwrap();
    orderdeck(&home)
        .args(["config", "init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited by hand\n");
    orderdeck(&home)
        .args(["config", "init", "--force"])
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
}

#[test]
fn config_check_on_a_broken_file_is_one_line_and_exit_2() {
    let home = TempDir::new().unwrap();
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bad_config/unknown_key.toml"
    );
    let out = orderdeck(&home)
        .args(["config", "check", bad])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("unknown_key.toml:"), "{err}");
}

#[test]
fn bad_arguments_exit_2_and_name_the_problem() {
    let home = TempDir::new().unwrap();
    orderdeck(&home)
        .args(["demo", "--speed", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--speed"));
    orderdeck(&home)
        .args(["--theme", "nope", "demo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no theme \"nope\""));
}

#[test]
fn a_database_password_never_reaches_the_message() {
    let home = TempDir::new().unwrap();
    // Port 1 on loopback refuses at once: an unreachable server, exit 3.
    for url in [
        "postgres://ops:s3cret-pw@127.0.0.1:1/orders",
        "mysql://ops:s3cret-pw@127.0.0.1:1/orders",
    ] {
        for args in [&["snapshot"][..], &["db", "migrate"][..]] {
            orderdeck(&home)
                .env("ORDERDECK_DATABASE_URL", url)
                .args(args)
                .assert()
                .code(3)
                .stderr(predicate::str::contains("s3cret-pw").not())
                .stderr(predicate::str::contains("ops:***@127.0.0.1:1"))
                .stderr(predicate::str::contains("Connection refused"));
        }
    }
}

#[test]
fn an_unknown_database_scheme_is_a_usage_error() {
    let home = TempDir::new().unwrap();
    orderdeck(&home)
        .args(["db", "migrate", "--database-url", "redis://127.0.0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unsupported database URL scheme \"redis\"",
        ));
}

/// `snapshot` on a SQLite file: counts per rule in a table, the same in
/// JSON, and `--fail-on-anomaly` turning stuck orders into exit 1.
#[test]
fn snapshot_reports_stuck_orders_and_fails_on_anomaly() {
    let home = TempDir::new().unwrap();
    let db = home.path().join("shop.db");
    let url = format!("sqlite://{}", db.display());
    orderdeck(&home)
        .args(["db", "migrate", "--database-url", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sqlite shop.db: reference schema up to date",
        ));
    let clean = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", &url)
        .args(["snapshot", "--fail-on-anomaly"])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&clean.get_output().stdout).to_string();
    assert!(out.contains("| ghost.pending_review"), "{out}");
    assert!(out.contains("stuck: ghost 0 · split 0 · zombie 0"), "{out}");
    // A ghost order with a hostile order number.
    assert!(insert_old_ghost(&db), "inserted");
    let table = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", &url)
        .args(["snapshot", "--fail-on-anomaly"])
        .assert()
        .code(1);
    let out = String::from_utf8_lossy(&table.get_output().stdout).to_string();
    assert!(out.contains("stuck: ghost 1 · split 0 · zombie 0"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "escape sequences are neutralised: {out:?}"
    );
    assert!(out.contains("GHOST\\x1b[31m-1"), "{out}");
    let json = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", &url)
        .args(["snapshot", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(v["families"]["ghost"], 1);
    assert_eq!(v["orders"][0]["order_no"], "GHOST\x1b[31m-1");
    assert_eq!(v["orders"][0]["rule"], "ghost.pending_review");
    assert_eq!(v["anomalies"], 1);
}

/// Inserts one long-stuck pending_review order with a hostile order number,
/// by plain SQL as an outside tool would.
fn insert_old_ghost(db: &std::path::Path) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                status, payment_status, created_at, status_changed_at)
             VALUES (?, 1, 2, 'SKU-1', 1, 990, 'pending_review', 'unpaid',
                     '2020-01-01 00:00:00', '2020-01-01 00:00:00')",
        )
        .bind("GHOST\x1b[31m-1")
        .execute(&pool)
        .await
        .map(|r| r.rows_affected() == 1)
        .unwrap()
    })
}

/// `orderdeck completions bash | head -1` closes the pipe early; that is not
/// a crash.
#[test]
fn completions_survive_a_reader_that_goes_away() {
    let home = TempDir::new().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("orderdeck"))
        .env("HOME", home.path())
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader leaves before anything is read
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?}: {err}", out.status);
}
