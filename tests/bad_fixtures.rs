//! Malformed configs, themes and runbooks from `tests/fixtures/bad_config`,
//! `tests/fixtures/bad_theme` and `tests/fixtures/bad_runbook`: each must
//! give an error (never a panic) on ONE line that names the file, the line
//! where the input has lines, and what is wrong. Broken themes and runbooks
//! must leave the built-ins in use. The real binary is run on every fixture
//! too: `config check` exits 2 with that one line on stderr.

use assert_cmd::Command;
use orderdeck::config;
use orderdeck::runbook::Runbook;
use orderdeck::theme::ThemeSet;
use std::path::{Path, PathBuf};

fn fixture(dir: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(file)
}

/// One line, printable, and short enough for a terminal status line.
fn assert_one_clean_line(msg: &str) {
    assert!(!msg.is_empty());
    assert!(
        !msg.chars().any(char::is_control),
        "control character in message: {msg:?}"
    );
    assert!(
        msg.chars().count() < 1000,
        "message too long: {} chars",
        msg.chars().count()
    );
}

/// Asserts the error for a config fixture. `line` is `None` for errors that
/// have no position (unreadable file).
fn check_config(file: &str, line: Option<usize>, says: &str) -> String {
    let path = fixture("bad_config", file);
    let err = match config::load(&path) {
        Ok(c) => panic!("{file}: accepted as {c:?}"),
        Err(e) => e.to_string(),
    };
    assert_one_clean_line(&err);
    let shown = path.display().to_string();
    assert!(
        err.contains(&shown),
        "{file}: does not name the file: {err}"
    );
    if let Some(line) = line {
        let want = format!("{shown}:{line}:");
        assert!(err.starts_with(&want), "{file}: want {want}..., got {err}");
    }
    assert!(err.contains(says), "{file}: want {says:?} in {err}");
    err
}

macro_rules! bad_config {
    ($($test:ident: $file:literal, line $line:expr, $says:literal;)+) => {
        $(
            #[test]
            fn $test() {
                check_config($file, Some($line), $says);
            }
        )+
        const CONFIG_FIXTURES: &[&str] = &[$($file),+];
    };
}

bad_config! {
    config_syntax_error: "syntax_error.toml", line 3, "unclosed table, expected `]`";
    config_unknown_key: "unknown_key.toml", line 2, "unknown field `databse_url`";
    config_wrong_type: "wrong_type.toml", line 2, "invalid type: string \"five\", expected u64";
    config_negative_poll: "negative_poll.toml", line 3, "invalid value: integer `-2`";
    config_zero_poll: "zero_poll.toml", line 3, "poll.orders_secs must be at least 1";
    config_warn_above_critical: "warn_above_critical.toml", line 2,
        "thresholds.queue_ready_warn (20000) must be below thresholds.queue_ready_critical (10000)";
    config_bad_db_scheme: "bad_db_scheme.toml", line 2,
        "env.prod.database_url: unsupported scheme \"http\"";
    config_bad_amqp_scheme: "bad_amqp_scheme.toml", line 3,
        "env.prod.amqp_url: unsupported scheme \"redis\"";
    config_unknown_clock: "unknown_clock.toml", line 1,
        "unknown variant `gmt`, expected `utc` or `local`";
    config_duplicate_key: "duplicate_key.toml", line 3, "duplicate key `clock`";
    config_binary_garbage: "binary_garbage.toml", line 2, "invalid UTF-8";
    config_huge_line: "huge_line.toml", line 2, "unknown field `xxxx";
    config_raw_control_chars: "control_chars.toml", line 2, "invalid basic string";
    config_escaped_control_key: "escaped_control_key.toml", line 1, "unknown field `\\u{1b}]0;pwned";
    config_empty_env_name: "empty_env_name.toml", line 1, "environment name \"\" is not usable";
    config_unknown_default_env: "unknown_default_env.toml", line 1,
        "default_env = \"prod\": known: production";
    config_env_not_a_table: "env_not_a_table.toml", line 1, "expected a map";
    alert_bad_expr: "alert_bad_expr.toml", line 5,
        "log rule expr: expected AND, OR or ')' at col 53 (end of expression): the '(' at col 13 is not closed";
    alert_unquoted_term: "alert_unquoted_term.toml", line 4,
        "expected a quoted term or '(' at col 1, found `ERROR`: put terms in double quotes";
    alert_unknown_key: "alert_unknown_key.toml", line 2, "unknown field `bel`";
    alert_negative_threshold: "alert_negative_threshold.toml", line 5, "invalid value: integer `-5`";
    alert_unknown_family: "alert_unknown_family.toml", line 3, "unknown variant `zombi`";
    alert_duplicate_name: "alert_duplicate_name.toml", line 7,
        "alerts.log name \"errors\" is used twice";
    keys_unknown_action: "keys_unknown_action.toml", line 3,
        "keys.relase_lock: unknown action `relase_lock`; did you mean `release_lock`?";
    keys_unknown_key: "keys_unknown_key.toml", line 3, "keys.help: unknown key \"F1\"";
    keys_clash_with_a_default: "keys_clash_default.toml", line 3,
        "keys.quit: \"u\" is also bound to release_lock (a default binding)";
    keys_clash_between_entries: "keys_clash_entries.toml", line 4,
        "keys.copy: \"v\" is also bound to keys.retry";
    keys_ctrl_c: "keys_ctrl_c.toml", line 2, "keys.quit: Ctrl-C always quits";
    keys_wrong_type: "keys_wrong_type.toml", line 2,
        "expected a key such as \"U\" or \"Ctrl-q\", or a list such as [\"q\", \"Ctrl-q\"]";
    keys_not_a_table: "keys_not_a_table.toml", line 1, "expected a map";
    config_huge_poll: "huge_poll.toml", line 3,
        "poll.orders_secs = 18446744073709551615 is too long: at most 3600 seconds between polls";
    config_huge_gap: "huge_gap.toml", line 3,
        "thresholds.drain_critical_minutes = 9223372036854775807 is too long: at most 10080 minutes (a week)";
    config_long_queue: "long_queue.toml", line 3,
        "is 252 bytes; AMQP names are at most 255 bytes including the \".dlq\" suffix of its dead-letter queue, so at most 251";
}

#[test]
fn alert_typo_gets_a_suggestion() {
    check_config("alert_unknown_key.toml", Some(2), "did you mean `bell`?");
}

#[test]
fn config_typo_gets_a_suggestion() {
    check_config("unknown_key.toml", Some(2), "did you mean `database_url`?");
}

#[test]
fn config_errors_never_show_passwords() {
    let err = check_config("bad_db_scheme.toml", Some(2), "orderdeck:***@db.prod");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn config_missing_file_says_what_to_do() {
    let path = fixture("bad_config", "does-not-exist.toml");
    let err = config::load(&path)
        .map(|_| ())
        .expect_err("missing file")
        .to_string();
    assert_one_clean_line(&err);
    assert!(
        err.starts_with(&format!("cannot read {}", path.display())),
        "{err}"
    );
    assert!(err.contains("orderdeck config init"), "{err}");
}

/// Every fixture has a test and every test a fixture, so neither rots.
#[test]
fn config_fixture_list_matches_directory() {
    assert_fixture_list("bad_config", CONFIG_FIXTURES);
}

fn assert_fixture_list(dir: &str, listed: &[&str]) {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture(dir, ""))
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// Loads a directory holding only `file` and checks the one warning, and
/// that the cockpit still has every built-in theme, unchanged.
fn check_theme(file: &str, line: usize, says: &str) {
    let src = fixture("bad_theme", file);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(file);
    std::fs::copy(&src, &path).expect("copy fixture");

    let builtin = ThemeSet::builtin_only();
    let (set, warnings) = ThemeSet::load(Some(dir.path()));
    assert_eq!(set.names(), builtin.names(), "{file}: theme list changed");
    for name in builtin.names() {
        assert_eq!(
            set.get(name),
            builtin.get(name),
            "{file}: built-in {name} changed"
        );
    }
    assert_eq!(warnings.len(), 1, "{file}: {warnings:?}");
    let w = &warnings[0];
    assert_one_clean_line(w);
    let want = format!("{}:{line}:", path.display());
    assert!(w.starts_with(&want), "{file}: want {want}..., got {w}");
    assert!(w.contains(says), "{file}: want {says:?} in {w}");
}

macro_rules! bad_theme {
    ($($test:ident: $file:literal, line $line:expr, $says:literal;)+) => {
        $(
            #[test]
            fn $test() {
                check_theme($file, $line, $says);
            }
        )+
        const THEME_FIXTURES: &[&str] = &[$($file),+];
    };
}

bad_theme! {
    theme_bad_colour: "bad_colour.toml", line 3, "invalid colour \"#12345g\"";
    theme_unknown_slot: "unknown_slot.toml", line 3, "unknown field `acent`";
    theme_unknown_table: "unknown_table.toml", line 2, "unknown field `colours`";
    theme_wrong_type: "wrong_type.toml", line 3, "invalid type: boolean `true`, expected a colour";
    theme_syntax: "syntax.toml", line 2, "unclosed table, expected `]`";
    theme_invalid_utf8: "invalid_utf8.toml", line 3, "invalid UTF-8";
    theme_empty_name: "empty_name.toml", line 1, "theme name is empty";
    theme_index_300: "index_300.toml", line 3, "colour index 300 is out of range; use 0-255";
    theme_builtin_name: "builtin_name.toml", line 1,
        "theme \"dark\" has the name of a built-in theme, which it would silently replace";
}

#[test]
fn theme_fixture_list_matches_directory() {
    assert_fixture_list("bad_theme", THEME_FIXTURES);
}

#[test]
fn theme_typo_gets_a_suggestion() {
    check_theme("unknown_slot.toml", 3, "did you mean `accent`?");
    check_theme("unknown_table.toml", 2, "did you mean `colors`?");
}

/// All broken files at once: one warning each, built-ins untouched.
#[test]
fn theme_dir_full_of_broken_files() {
    let (set, warnings) = ThemeSet::load(Some(&fixture("bad_theme", "")));
    assert_eq!(set.names(), ThemeSet::builtin_only().names());
    assert_eq!(warnings.len(), THEME_FIXTURES.len(), "{warnings:#?}");
    for file in THEME_FIXTURES {
        let named = warnings.iter().filter(|w| w.contains(file)).count();
        assert_eq!(named, 1, "{file}: {warnings:#?}");
    }
}

/// Asserts the error for a runbook fixture, read the way the cockpit and
/// `config check` read a user runbook.
fn check_runbook(file: &str, line: usize, says: &str) {
    let path = fixture("bad_runbook", file);
    let err = match Runbook::load_file(&path) {
        Ok(r) => panic!("{file}: accepted with {} rules", r.rules.len()),
        Err(e) => e,
    };
    assert_one_clean_line(&err);
    let want = format!("{}:{line}:", path.display());
    assert!(err.starts_with(&want), "{file}: want {want}..., got {err}");
    assert!(err.contains(says), "{file}: want {says:?} in {err}");
    // The cockpit keeps the built-in rules and says why.
    let (runbook, warning) = Runbook::with_user_file(Some(&path), None);
    assert_eq!(runbook, Runbook::builtin(), "{file}");
    let warning = warning.unwrap_or_else(|| panic!("{file}: no warning"));
    assert!(warning.starts_with(&err), "{file}: {warning}");
    assert!(
        warning.ends_with("using the built-in rules only"),
        "{warning}"
    );
}

macro_rules! bad_runbook {
    ($($test:ident: $file:literal, line $line:expr, $says:literal;)+) => {
        $(
            #[test]
            fn $test() {
                check_runbook($file, $line, $says);
            }
        )+
        const RUNBOOK_FIXTURES: &[&str] = &[$($file),+];
    };
}

bad_runbook! {
    runbook_syntax: "syntax.toml", line 1, "unclosed array table, expected `]`";
    runbook_unknown_key: "unknown_key.toml", line 5, "unknown field `sevrity`";
    runbook_unknown_family: "unknown_family.toml", line 3,
        "rule my.rule: unknown anomaly family \"zombi\" (expected ghost, split or zombie)";
    runbook_duplicate_id: "duplicate_id.toml", line 9, "duplicate rule id \"my.rule\"";
    runbook_both_thresholds: "both_thresholds.toml", line 1,
        "rule my.rule: set threshold_minutes or threshold_hours, not both";
    runbook_cutoff_without_threshold: "cutoff_without_threshold.toml", line 1,
        "its sql uses :cutoff but it has no threshold_minutes or threshold_hours";
    runbook_empty_sql: "empty_sql.toml", line 6, "rule my.rule: sql is empty";
    runbook_unknown_param: "unknown_param.toml", line 6, "unknown parameter :order_no";
    runbook_invalid_utf8: "invalid_utf8.toml", line 4, "invalid UTF-8 (byte 0xe9)";
    runbook_escaped_control_key: "escaped_control_key.toml", line 3,
        "unknown field `\\u{1b}]0;pwned\\u{7}`";
    runbook_missing_sql: "missing_sql.toml", line 1, "missing field `sql`";
    runbook_wrong_type: "wrong_type.toml", line 5, "invalid type: string \"thirty\", expected u64";
    runbook_negative_threshold: "negative_threshold.toml", line 5, "invalid value: integer `-5`";
    runbook_spaced_id: "spaced_id.toml", line 2, "rule id must be non-empty without spaces";
    runbook_not_a_table: "rule_not_a_table.toml", line 1, "expected a sequence";
    runbook_huge_line: "huge_line.toml", line 2, "unknown field `xxxx";
    runbook_heal_unknown_action: "heal_unknown_action.toml", line 4,
        "heal.otherwise: no remediation \"nosuch\"; use one of: cancel_and_notify, clear_risk_hold,";
}

#[test]
fn runbook_fixture_list_matches_directory() {
    assert_fixture_list("bad_runbook", RUNBOOK_FIXTURES);
}

#[test]
fn runbook_typo_gets_a_suggestion() {
    check_runbook("unknown_key.toml", 5, "did you mean `severity`?");
}

/// The real binary with HOME and the XDG directories in `home`, so neither
/// the developer's own config, themes nor log are touched.
fn orderdeck(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .timeout(std::time::Duration::from_secs(30));
    cmd
}

/// Runs `args`, wants exit 2 and exactly one stderr line that starts with
/// `orderdeck: {at}` and says `says`; returns that line.
fn expect_exit_2(cmd: &mut Command, at: &str, says: &str) -> String {
    let out = cmd.output().expect("run orderdeck");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "want one line, got: {stderr}");
    assert_one_clean_line(lines[0]);
    assert!(
        lines[0].starts_with(&format!("orderdeck: {at}")),
        "want orderdeck: {at}..., got {}",
        lines[0]
    );
    assert!(lines[0].contains(says), "want {says:?} in {}", lines[0]);
    lines[0].to_string()
}

/// The first error line `config::load` gives, up to and including `line:`.
fn config_position(file: &str) -> String {
    let path = fixture("bad_config", file);
    let err = config::load(&path).map(|_| ()).expect_err(file).to_string();
    let shown = path.display().to_string();
    let rest = &err[shown.len()..];
    let line: String = rest
        .trim_start_matches(':')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    format!("{shown}:{line}:")
}

#[test]
fn binary_exits_2_on_every_bad_config() {
    let home = tempfile::tempdir().expect("tempdir");
    for file in CONFIG_FIXTURES {
        let path = fixture("bad_config", file);
        let at = config_position(file);
        // `config check`, the cockpit and `snapshot` all stop at the config.
        for args in [&["config", "check"][..], &[], &["snapshot"]] {
            let mut cmd = orderdeck(home.path());
            cmd.arg("--config").arg(&path).args(args);
            expect_exit_2(&mut cmd, &at, "");
        }
    }
}

#[test]
fn binary_exits_2_on_every_bad_runbook() {
    let home = tempfile::tempdir().expect("tempdir");
    for file in RUNBOOK_FIXTURES {
        let path = fixture("bad_runbook", file);
        let config = home.path().join("config.toml");
        std::fs::write(&config, format!("runbook = '{}'\n", path.display())).expect("config");
        let want = Runbook::load_file(&path).map(|_| ()).expect_err(file);
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config").arg(&config).args(["config", "check"]);
        let line = expect_exit_2(&mut cmd, &path.display().to_string(), "");
        assert_eq!(line, format!("orderdeck: {want}"));
    }
}

/// The runbook beside the config counts when the config names none.
#[test]
fn binary_checks_the_runbook_beside_the_config() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("config.toml");
    std::fs::write(&config, "").expect("config");
    let beside = home.path().join("runbook.toml");
    std::fs::copy(fixture("bad_runbook", "duplicate_id.toml"), &beside).expect("copy");
    let mut cmd = orderdeck(home.path());
    cmd.arg("--config").arg(&config).args(["config", "check"]);
    expect_exit_2(
        &mut cmd,
        &format!("{}:9:", beside.display()),
        "duplicate rule id",
    );
    std::fs::remove_file(&beside).expect("rm");
    orderdeck(home.path())
        .arg("--config")
        .arg(&config)
        .args(["config", "check"])
        .assert()
        .success();
}

#[test]
fn binary_exits_2_on_every_bad_theme() {
    for file in THEME_FIXTURES {
        let home = tempfile::tempdir().expect("tempdir");
        let themes = home.path().join("config/orderdeck/themes");
        std::fs::create_dir_all(&themes).expect("theme dir");
        let path = themes.join(file);
        std::fs::copy(fixture("bad_theme", file), &path).expect("copy");
        let config = home.path().join("config.toml");
        std::fs::write(&config, "").expect("config");
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config").arg(&config).args(["config", "check"]);
        expect_exit_2(&mut cmd, &format!("{}:", path.display()), "");
    }
}

/// Places `bytes` as draft `PM-bad` where the real binary looks for drafts
/// (`$XDG_DATA_HOME/orderdeck/postmortems`); returns its path.
fn place_draft(home: &Path, bytes: &[u8]) -> PathBuf {
    let dir = home.join("data/orderdeck/postmortems");
    std::fs::create_dir_all(&dir).expect("drafts dir");
    let path = dir.join("PM-bad.json");
    std::fs::write(&path, bytes).expect("write draft");
    path
}

/// The files in the drafts directory, by name.
fn draft_files(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("read dir")
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// What must become of a bad draft file.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kept {
    /// Moved to `PM-bad.json.corrupt-*`, byte for byte.
    MovedAside,
    /// Left where it is, byte for byte.
    InPlace,
}

/// Runs `postmortem export` and `postmortem edit` on the draft, each on a
/// fresh copy: exit 2, one line `orderdeck: PATH:LINE:...` saying `says`,
/// no panic, and the file kept as `kept` says, never overwritten.
fn check_draft(bytes: &[u8], line: usize, says: &str, kept: Kept) {
    for args in [
        &["postmortem", "export", "PM-bad", "--format", "markdown"][..],
        &["postmortem", "edit", "PM-bad"],
    ] {
        let home = tempfile::tempdir().expect("tempdir");
        let path = place_draft(home.path(), bytes);
        let mut cmd = orderdeck(home.path());
        cmd.args(args);
        expect_exit_2(&mut cmd, &format!("{}:{line}:", path.display()), says);
        let files = draft_files(&path);
        match kept {
            Kept::InPlace => {
                assert_eq!(files, vec!["PM-bad.json".to_string()], "{args:?}");
                assert_eq!(std::fs::read(&path).ok().as_deref(), Some(bytes));
            }
            Kept::MovedAside => {
                assert_eq!(files.len(), 1, "{args:?}: {files:?}");
                assert!(files[0].starts_with("PM-bad.json.corrupt-"), "{files:?}");
                let aside = path.with_file_name(&files[0]);
                assert_eq!(std::fs::read(&aside).ok().as_deref(), Some(bytes));
                // The next command finds no draft; it does not recreate one
                // over the kept file.
                let mut again = orderdeck(home.path());
                again.args(args);
                expect_exit_2(&mut again, "no postmortem draft \"PM-bad\"", "");
                assert_eq!(std::fs::read(&aside).ok().as_deref(), Some(bytes));
            }
        }
    }
}

macro_rules! bad_draft {
    ($($test:ident: $file:literal, line $line:expr, $says:literal, $kept:ident;)+) => {
        $(
            #[test]
            fn $test() {
                let bytes = std::fs::read(fixture("bad_draft", $file)).expect("fixture");
                check_draft(&bytes, $line, $says, Kept::$kept);
            }
        )+
        const DRAFT_FIXTURES: &[&str] = &[$($file),+];
    };
}

bad_draft! {
    draft_truncated: "truncated.json", line 10, "EOF while parsing an object", MovedAside;
    draft_empty: "empty.json", line 1, "EOF while parsing a value", MovedAside;
    draft_wrong_type: "wrong_type.json", line 5, "expected value", MovedAside;
    draft_escaped_control_value: "escaped_control_value.json", line 6,
        "unknown variant `\\u{1b}]0;pwned\\u{7}`, expected one of `draft`", MovedAside;
    draft_raw_control_in_string: "raw_control_in_string.json", line 8,
        "control character (\\u0000-\\u001F) found while parsing a string", MovedAside;
    draft_unknown_version: "unknown_version.json", line 2,
        "draft format_version 99 is not one this orderdeck reads (it reads 1)", InPlace;
    draft_version_wrong_type: "version_wrong_type.json", line 2,
        "invalid type: string \"one\", expected u64", MovedAside;
    draft_invalid_utf8: "invalid_utf8.json", line 4, "invalid UTF-8 (byte 0xe9)", MovedAside;
    draft_huge_number: "huge_number.json", line 10,
        "invalid type: floating point `1.844674407370955e+23`, expected u64", MovedAside;
    draft_negative_count: "negative_count.json", line 10,
        "invalid value: integer `-1`, expected u64", MovedAside;
    draft_duplicate_key: "duplicate_key.json", line 8, "duplicate field `title`", MovedAside;
    draft_not_an_object: "not_an_object.json", line 1,
        "a draft is one JSON object {...}; this file starts with '['", MovedAside;
    draft_bad_time: "bad_time.json", line 22, "input contains invalid characters", MovedAside;
    draft_bad_date: "bad_date.json", line 25, "input is out of range", MovedAside;
    draft_deep_nesting: "deep_nesting.json", line 3, "recursion limit exceeded", MovedAside;
}

#[test]
fn draft_fixture_list_matches_directory() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("bad_draft", ""))
        .expect("fixture dir")
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = DRAFT_FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// A draft over the size limit is refused before it is parsed and left in
/// place (generated here: 16 MiB does not belong in the repository).
#[test]
fn draft_too_large_is_refused_and_left_alone() {
    use orderdeck::postmortem::store::MAX_DRAFT_BYTES;
    let mut bytes = b"{\"summary\": \"".to_vec();
    bytes.resize(MAX_DRAFT_BYTES as usize + 10, b'x');
    bytes.extend_from_slice(b"\"}\n");
    let home = tempfile::tempdir().expect("tempdir");
    let path = place_draft(home.path(), &bytes);
    let mut cmd = orderdeck(home.path());
    cmd.args(["postmortem", "export", "PM-bad"]);
    expect_exit_2(
        &mut cmd,
        &format!("{}: draft file is {} bytes", path.display(), bytes.len()),
        "more than the 16777216 a draft may be",
    );
    assert_eq!(draft_files(&path), vec!["PM-bad.json".to_string()]);
    assert_eq!(
        std::fs::metadata(&path).map(|m| m.len()).ok(),
        Some(bytes.len() as u64)
    );
}

/// `postmortem list` names a bad draft on its own line and carries on.
#[test]
fn draft_list_reports_a_bad_draft_on_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(fixture("bad_draft", "escaped_control_value.json")).expect("fixture");
    place_draft(home.path(), &bytes);
    let out = orderdeck(home.path())
        .args(["postmortem", "list"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("PM-bad\t(unreadable: "), "{stdout}");
    assert!(!lines[0].contains('\u{1b}'), "{stdout:?}");
}
