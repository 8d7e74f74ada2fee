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

/// `themes list` names the depth the cockpit will draw at, and why: on a
/// 256-colour terminal it used to read "24-bit colour" (from the dark
/// theme's description) next to a bare `Ansi256`.
#[test]
fn themes_list_reports_the_colour_depth_in_use() {
    let home = TempDir::new().unwrap();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[],
            "colour depth in use: 256 colours (TERM=xterm-256color)",
        ),
        (
            &[("COLORTERM", "truecolor")],
            "colour depth in use: 24-bit colour (COLORTERM=truecolor)",
        ),
        (
            &[("TERM", "linux")],
            "colour depth in use: 16 colours (TERM=linux)",
        ),
        (
            &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
            "colour depth in use: no colour (bold, dim and reverse video only) (NO_COLOR is set)",
        ),
    ];
    for (env, want) in cases {
        let mut cmd = orderdeck(&home);
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let out = cmd.args(["themes", "list"]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(text.contains(want), "{env:?}: want {want:?} in\n{text}");
        if !want.contains("24-bit") {
            assert!(!text.contains("24-bit"), "{env:?}: claims 24-bit:\n{text}");
        }
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

/// A config without environments is valid, but "ok (0 environments)" did
/// not say that only the demo then has something to watch.
#[test]
fn config_check_explains_a_file_without_environments() {
    let home = TempDir::new().unwrap();
    let cfg = home.path().join("noenv.toml");
    std::fs::write(&cfg, "clock = \"utc\"\n").unwrap();
    let out = orderdeck(&home)
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("noenv.toml: ok, but it defines no environments"),
        "{text}"
    );
    assert!(
        text.contains("only `orderdeck demo` has something to watch"),
        "{text}"
    );
    assert!(text.contains("Add an [env.NAME] section"), "{text}");
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
    // A fresh file: `db migrate` says it created the schema, and a second
    // run that it changed nothing (both used to say "up to date").
    orderdeck(&home)
        .args(["db", "migrate", "--database-url", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sqlite shop.db: created the reference schema: applied migration 1 (reference schema)",
        ));
    orderdeck(&home)
        .args(["db", "migrate", "--database-url", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sqlite shop.db: reference schema already up to date (migration 1 (reference schema) applied earlier); nothing changed",
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
    insert_old_order(db, "GHOST\x1b[31m-1")
}

/// Inserts one long-stuck pending_review order numbered `order_no`.
fn insert_old_order(db: &std::path::Path, order_no: &str) -> bool {
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
        .bind(order_no)
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

/// Runs `orderdeck args` with stdout on a socket whose other end is already
/// closed, so its first write fails with EPIPE, as under `| head -1` once
/// `head` has exited (the socket makes that order certain; a pipe read by a
/// child process would race).
#[cfg(unix)]
fn run_with_reader_gone(home: &TempDir, args: &[&str]) -> std::process::Output {
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    drop(ours);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("orderdeck"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("ORDERDECK_AUDIT_LOG", home.path().join("audit.jsonl"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(OwnedFd::from(theirs)))
        .stderr(Stdio::piped());
    cmd.output().expect("run orderdeck")
}

/// `orderdeck postmortem list | head -1` panicked (exit 101): every command
/// that prints ends quietly when its reader has gone.
#[cfg(unix)]
#[test]
fn printing_commands_exit_quietly_when_the_reader_goes_away() {
    let home = TempDir::new().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let config = config.to_str().unwrap();
    for args in [
        &["postmortem", "list"][..],
        &["themes", "list"],
        &["config", "check", config],
        &["audit", "--local"],
        &["completions", "bash"],
        &["config", "init", "--force"],
    ] {
        let out = run_with_reader_gone(&home, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

/// A queue name whose `.dlq` does not fit AMQP's 255 bytes panicked inside
/// the AMQP library (exit 101); now it is bad usage, refused before the
/// engine runs, so nothing is audited.
#[test]
fn requeue_refuses_a_queue_name_amqp_cannot_carry() {
    let home = TempDir::new().unwrap();
    let audit = home.path().join("audit.jsonl");
    for name in [
        "q".repeat(252),
        "q".repeat(255),
        format!("{}.dlq", "q".repeat(252)),
    ] {
        let out = orderdeck(&home)
            .env("ORDERDECK_AMQP_URL", "amqp://guest:guest@127.0.0.1:1/%2f")
            .env("ORDERDECK_AUDIT_LOG", &audit)
            .args(["requeue", &name, "--yes"])
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("orderdeck: requeue: queue \"qqq"), "{err}");
        assert!(
            err.contains("is 252 bytes") || err.contains("is 255 bytes"),
            "{err}"
        );
        assert!(err.trim_end().ends_with("so at most 251"), "{err}");
        assert!(!audit.exists(), "nothing was attempted, nothing audited");
    }
}

/// Makes a FIFO at `path` with mkfifo(1).
#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Runs `cmd`, wanting exit 2 and one stderr line holding every `says`, in
/// well under the time a hang would take.
fn expect_one_line_exit_2(cmd: &mut Command, says: &[&str]) -> String {
    let out = cmd
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for s in says {
        assert!(err.contains(s), "want {s:?} in {err}");
    }
    err
}

/// A FIFO as the config, runbook, theme or draft hung orderdeck forever
/// (opening it waits for a writer): each is refused in one line, exit 2.
#[cfg(unix)]
#[test]
fn a_fifo_is_refused_not_waited_on() {
    let home = TempDir::new().unwrap();
    let fifo = home.path().join("fifo.toml");
    mkfifo(&fifo);
    let shown = fifo.display().to_string();
    // The config itself, for the check, the cockpit and a headless command.
    for args in [&["config", "check"][..], &["snapshot"], &[]] {
        expect_one_line_exit_2(
            orderdeck(&home).arg("--config").arg(&fifo).args(args),
            &[&shown, "is a FIFO (named pipe), not a regular file"],
        );
    }
    // A runbook the config names.
    let config = home.path().join("config.toml");
    std::fs::write(&config, format!("runbook = '{shown}'\n")).unwrap();
    expect_one_line_exit_2(
        orderdeck(&home)
            .arg("--config")
            .arg(&config)
            .args(["config", "check"]),
        &[&format!("runbook {shown}: is a FIFO")],
    );
    // A theme in the user's theme directory.
    std::fs::write(&config, "").unwrap();
    let themes = home.path().join("config/orderdeck/themes");
    std::fs::create_dir_all(&themes).unwrap();
    mkfifo(&themes.join("pipe.toml"));
    expect_one_line_exit_2(
        orderdeck(&home)
            .arg("--config")
            .arg(&config)
            .args(["config", "check"]),
        &["pipe.toml: is a FIFO", "theme file skipped"],
    );
    std::fs::remove_file(themes.join("pipe.toml")).unwrap();
    // A postmortem draft.
    let drafts = home.path().join("data/orderdeck/postmortems");
    std::fs::create_dir_all(&drafts).unwrap();
    mkfifo(&drafts.join("PM-1.json"));
    expect_one_line_exit_2(
        orderdeck(&home).args(["postmortem", "edit", "PM-1"]),
        &["PM-1.json: draft is a FIFO (named pipe), not a regular file"],
    );
}

/// `remediate` with an action the runbook does not have is bad usage (2),
/// said before the order is touched; it used to be a failed action (1).
#[test]
fn remediate_with_an_unknown_action_is_usage() {
    let home = TempDir::new().unwrap();
    let (db, url) = migrated_shop(&home);
    assert!(insert_old_order(&db, "CO-1"), "inserted");
    let audit = home.path().join("audit.jsonl");
    let err = expect_one_line_exit_2(
        orderdeck(&home)
            .env("ORDERDECK_DATABASE_URL", &url)
            .env("ORDERDECK_AUDIT_LOG", &audit)
            .args(["remediate", "nosuch", "CO-1", "--yes"]),
        &["orderdeck: remediate: unknown remediation \"nosuch\" (the runbook has: release_lock,"],
    );
    assert!(!audit.exists(), "{err}");
}

/// JSON output carries DEL, C1 (U+009B is CSI on many terminals), bidi and
/// zero-width characters as \uXXXX escapes, never raw: the value a JSON
/// reader gets is the same, the terminal is not driven by it.
#[test]
fn json_output_escapes_invisible_and_control_characters() {
    let home = TempDir::new().unwrap();
    let (db, url) = migrated_shop(&home);
    let hostile = "CO\u{9b}31m-\u{202e}1\u{200b}\u{7f}";
    assert!(insert_old_order(&db, hostile), "inserted");
    let out = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", &url)
        .args(["snapshot", "--format", "json"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(r#""order_no": "CO\u009b31m-\u202e1\u200b\u007f""#),
        "{stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["orders"][0]["order_no"], hostile);

    // An audit file written by an older orderdeck holds them raw.
    let audit = home.path().join("audit.jsonl");
    let line = serde_json::json!({
        "occurred_at": "2026-11-26T06:15:03Z",
        "os_user": "alice", "host": "bastion", "environment": "prod",
        "action": "release_lock", "target": format!("order {hostile}"),
        "parameters": {}, "statement": "UPDATE ...", "affected": 1,
        "outcome": "ok", "error": null, "duration_ms": 3
    });
    std::fs::write(&audit, format!("{line}\n")).unwrap();
    let out = orderdeck(&home)
        .env("ORDERDECK_AUDIT_LOG", &audit)
        .args([
            "audit",
            "--local",
            "--since",
            "2020-01-01T00:00:00Z",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(r#""target":"order CO\u009b31m-\u202e1\u200b\u007f""#),
        "{stdout}"
    );
}

/// The log is created 0600, like the config: it holds order numbers, hosts
/// and error text from production.
#[cfg(unix)]
#[test]
fn the_log_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = TempDir::new().unwrap();
    orderdeck(&home).args(["themes", "list"]).assert().success();
    let log = home.path().join("state/orderdeck/orderdeck.log");
    let mode = std::fs::metadata(&log)
        .expect("log file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// `shop.db` in `home`, with the reference schema migrated by the real
/// binary: its path and its URL.
fn migrated_shop(home: &TempDir) -> (std::path::PathBuf, String) {
    let db = home.path().join("shop.db");
    let url = format!("sqlite://{}", db.display());
    orderdeck(home)
        .args(["db", "migrate", "--database-url", &url])
        .assert()
        .success();
    (db, url)
}
