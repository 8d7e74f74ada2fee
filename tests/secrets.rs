//! Passwords never leave the process in the clear: not on stdout, stderr,
//! in the log file, in `snapshot` output (table or JSON), nor in a panic
//! message. Every test points orderdeck at servers that cannot answer
//! (port 1) with credentials it must not repeat, and scans everything the
//! real binary wrote.

mod common;

use assert_cmd::Command;
use std::path::Path;

/// Distinct enough that no other text contains it by chance.
const SECRET: &str = "s3cretPW";

/// The real binary with HOME and the XDG directories in `home` (so the log
/// file lands there) and nothing else from the environment.
fn orderdeck(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("ORDERDECK_LOG", "debug")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// Everything under `dir` that is a file, concatenated (the log and
/// anything else orderdeck may have written).
fn files_under(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&files_under(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}

/// Runs `cmd`, then checks stdout, stderr and the state dir (the log).
/// Returns stdout and stderr, for the caller to check it said something useful.
fn assert_no_secret(mut cmd: Command, home: &Path, what: &str) -> String {
    let out = cmd.output().expect("run orderdeck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let log = files_under(&home.join("state"));
    for (name, text) in [("stdout", &*stdout), ("stderr", &*stderr), ("log", &*log)] {
        assert!(
            !text.contains(SECRET),
            "{what}: the password is in {name}:\n{text}"
        );
        assert!(
            !text.contains("s3cret%50W"),
            "{what}: encoded password in {name}"
        );
    }
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    format!("{stdout}{stderr}")
}

fn config(home: &Path, body: &str) -> std::path::PathBuf {
    let path = home.join("config.toml");
    std::fs::write(&path, body).expect("write config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

fn env_config(home: &Path, keys: &str) -> std::path::PathBuf {
    config(
        home,
        &format!("default_env = \"prod\"\n[env.prod]\n{keys}\n"),
    )
}

const URLS: &[(&str, &str)] = &[
    ("postgres", "postgres://u:s3cretPW@127.0.0.1:1/x"),
    ("postgres-encoded", "postgres://u:s3cret%50W@127.0.0.1:1/x"),
    ("mysql", "mysql://u:s3cretPW@127.0.0.1:1/x"),
    (
        "postgres-param",
        "postgres://127.0.0.1:1/x?user=u&password=s3cretPW",
    ),
];

#[test]
fn snapshot_with_unreachable_databases_never_prints_the_password() {
    for (name, url) in URLS {
        for format in ["table", "json"] {
            let home = tempfile::tempdir().expect("tempdir");
            let cfg = env_config(home.path(), &format!("database_url = '{url}'"));
            let mut cmd = orderdeck(home.path());
            cmd.arg("--config")
                .arg(&cfg)
                .args(["snapshot", "--format", format]);
            let stderr = assert_no_secret(cmd, home.path(), &format!("{name} {format}"));
            assert!(stderr.contains("***") || !stderr.contains("u:"), "{stderr}");
        }
    }
}

#[test]
fn snapshot_with_an_unreachable_broker_and_api_never_prints_the_password() {
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = env_config(
        home.path(),
        &format!(
            "amqp_url = 'amqp://u:{SECRET}@127.0.0.1:1/%2f'\n\
             rabbitmq_api = 'http://127.0.0.1:1'\n\
             rabbitmq_api_user = 'u'\n\
             rabbitmq_api_password = '{SECRET}'"
        ),
    );
    let mut cmd = orderdeck(home.path());
    cmd.arg("--config")
        .arg(&cfg)
        .args(["snapshot", "--format", "json"]);
    let stderr = assert_no_secret(cmd, home.path(), "amqp + api");
    assert!(
        stderr.contains("127.0.0.1:1"),
        "says which broker: {stderr}"
    );
}

#[test]
fn the_api_password_in_the_api_url_is_masked_too() {
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = env_config(
        home.path(),
        &format!("rabbitmq_api = 'http://u:{SECRET}@127.0.0.1:1'"),
    );
    let mut cmd = orderdeck(home.path());
    cmd.arg("--config").arg(&cfg).arg("snapshot");
    assert_no_secret(cmd, home.path(), "api url");
}

#[test]
fn urls_from_the_environment_are_masked() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = orderdeck(home.path());
    cmd.env("ORDERDECK_DATABASE_URL", URLS[0].1)
        .env(
            "ORDERDECK_AMQP_URL",
            format!("amqp://u:{SECRET}@127.0.0.1:1/%2f"),
        )
        .arg("snapshot");
    assert_no_secret(cmd, home.path(), "env urls");
}

#[test]
fn migrate_simulate_and_broker_declare_mask_the_password() {
    for (name, url) in URLS {
        let home = tempfile::tempdir().expect("tempdir");
        let mut cmd = orderdeck(home.path());
        cmd.args(["db", "migrate", "--database-url", url]);
        assert_no_secret(cmd, home.path(), &format!("migrate {name}"));

        let home = tempfile::tempdir().expect("tempdir");
        let mut cmd = orderdeck(home.path());
        cmd.args(["simulate", "--duration", "1s", "--database-url", url])
            .arg("--amqp-url")
            .arg(format!("amqp://u:{SECRET}@127.0.0.1:1/%2f"));
        assert_no_secret(cmd, home.path(), &format!("simulate {name}"));
    }
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = orderdeck(home.path());
    cmd.args(["broker", "declare", "--amqp-url"])
        .arg(format!("amqp://u:{SECRET}@127.0.0.1:1/%2f"));
    assert_no_secret(cmd, home.path(), "broker declare");
}

/// Malformed URLs take other paths through the parsers; their errors must
/// not quote the password either.
#[test]
fn malformed_urls_are_masked_in_errors() {
    for url in [
        format!("postgres://u:{SECRET}@[::1:5432/x"),
        format!("postgres://u:{SECRET}@127.0.0.1:99999/x"),
        format!("mysql://u:{SECRET}@127.0.0.1:1/x?ssl-mode=bogus"),
        format!("postgres://u:{SECRET}@127.0.0.1:1/x?sslmode=bogus"),
        format!("http://u:{SECRET}@127.0.0.1:1/x"),
    ] {
        let home = tempfile::tempdir().expect("tempdir");
        let cfg = env_config(home.path(), &format!("database_url = '{url}'"));
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config").arg(&cfg).args(["config", "check"]);
        assert_no_secret(cmd, home.path(), &format!("check {url}"));
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config").arg(&cfg).arg("snapshot");
        assert_no_secret(cmd, home.path(), &format!("snapshot {url}"));
    }
}

/// Every command that reads the config warns when others can read its
/// passwords, not only `config check`.
#[cfg(unix)]
#[test]
fn every_command_warns_about_a_readable_config_with_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = env_config(home.path(), &format!("database_url = '{}'", URLS[0].1));
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for args in [&["config", "check"][..], &["snapshot"], &["db", "migrate"]] {
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config").arg(&cfg).args(args);
        let stderr = assert_no_secret(cmd, home.path(), &format!("{args:?}"));
        let warnings = stderr
            .lines()
            .filter(|l| l.starts_with("warning:") && l.contains("chmod 600"))
            .count();
        assert_eq!(warnings, 1, "{args:?}: {stderr}");
    }
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut cmd = orderdeck(home.path());
    cmd.arg("--config").arg(&cfg).arg("snapshot");
    let stderr = assert_no_secret(cmd, home.path(), "0600");
    assert!(!stderr.contains("chmod"), "{stderr}");
}

/// The cockpit says it too: on stderr before it takes the screen, and on
/// its message line once it is up.
#[cfg(unix)]
#[test]
fn the_cockpit_warns_about_a_readable_config_with_secrets() {
    use common::pty::{ENTER_ALT, Pty};
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;
    let home = tempfile::tempdir().expect("tempdir");
    // Both sources unreachable: their reasons are on the screen too.
    let cfg = env_config(
        home.path(),
        &format!(
            "database_url = '{}'\namqp_url = 'amqp://u:{SECRET}@127.0.0.1:1/%2f'",
            URLS[0].1
        ),
    );
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let cfg = cfg.to_str().expect("utf-8 path");
    let mut s = Pty::start(&["--config", cfg], home.path(), 30, 120);
    s.wait_for(ENTER_ALT, Duration::from_secs(20));
    s.wait_for(b"chmod 600", Duration::from_secs(10));
    let at = common::pty::find(&s.seen, ENTER_ALT).expect("entered");
    let before = String::from_utf8_lossy(&s.seen[..at]).into_owned();
    assert!(
        before.contains("warning:") && before.contains("chmod 600"),
        "{before}"
    );
    // And on the cockpit's own screen, after it took it over.
    s.wait_for_from(b"holds a password", at, Duration::from_secs(10));
    // Both sources fail while the cockpit runs; their errors are drawn.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut vt = vt100::Parser::new(30, 120, 0);
        vt.process(&s.seen);
        let status = vt.screen().rows(0, 120).next().unwrap_or_default();
        if status.contains("db ✖ down") && status.contains("mq ✖ down") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        s.pump(Duration::from_millis(200));
    }
    s.send(b"1");
    s.send(b"2");
    s.send(b"q");
    assert!(s.wait_exit().success());
    assert!(!String::from_utf8_lossy(&s.seen).contains(SECRET));
    assert!(!files_under(&home.path().join("state")).contains(SECRET));
}
