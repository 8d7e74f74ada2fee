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
    orderdeck(&home)
        .env(
            "ORDERDECK_DATABASE_URL",
            "postgres://ops:s3cret-pw@db.internal/orders",
        )
        .assert()
        .code(2)
        .stderr(predicate::str::contains("s3cret-pw").not());
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
