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

// Confluence: `postmortem publish` against a server that refuses or is not
// there, with the token (and a password) in the config or the environment.

/// A draft where `postmortem publish` looks for it.
fn place_draft(home: &Path) {
    let dir = home.join("data/orderdeck/postmortems");
    std::fs::create_dir_all(&dir).expect("drafts dir");
    let d = orderdeck::postmortem::model::Draft::new("PM-1".into(), chrono::Utc::now());
    std::fs::write(
        dir.join("PM-1.json"),
        serde_json::to_vec_pretty(&d).expect("json"),
    )
    .expect("write draft");
}

/// Answers every request with `status` and a body that echoes the whole
/// request back, Authorization header included: nothing from a refusal's
/// body may be printed. Returns the base URL.
fn echo_server(status: u16) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let (mut head, mut len) = (String::new(), 0usize);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&h);
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let reply = serde_json::json!({ "message": head }).to_string();
            let _ = write!(
                reader.into_inner(),
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    url
}

#[test]
fn publish_never_prints_the_confluence_token_or_password() {
    let refused = [(401, "rejected the credentials"), (500, "answered 500")];
    let mut servers: Vec<(String, &str)> = refused
        .iter()
        .map(|(status, says)| (echo_server(*status), *says))
        .collect();
    servers.push(("http://127.0.0.1:1".into(), "cannot reach Confluence"));
    for (base, says) in &servers {
        // Data Center (bearer token) and Cloud (basic auth), the token from
        // the config or from the environment. (A password in the URL is
        // refused before anything is sent: see the next test.)
        let cases = [
            (format!("url = '{base}'\ntoken = '{SECRET}'"), None),
            (
                format!("url = '{base}'\nuser = 'me@example.com'\ntoken = '{SECRET}'"),
                None,
            ),
            (format!("url = '{base}'"), Some(SECRET)),
        ];
        for (confluence, env_token) in cases {
            let home = tempfile::tempdir().expect("tempdir");
            place_draft(home.path());
            let cfg = config(
                home.path(),
                &format!("[confluence]\nspace = 'OPS'\n{confluence}\n"),
            );
            let mut cmd = orderdeck(home.path());
            if let Some(t) = env_token {
                cmd.env("ORDERDECK_CONFLUENCE_TOKEN", t);
            }
            cmd.arg("--config")
                .arg(&cfg)
                .args(["postmortem", "publish", "PM-1"]);
            let what = format!("{base} with {confluence} env {env_token:?}");
            let said = assert_no_secret(cmd, home.path(), &what);
            assert!(said.contains(says), "{what}: says why: {said}");
            let data = files_under(&home.path().join("data"));
            assert!(!data.contains(SECRET), "{what}: in the data dir:\n{data}");
        }
    }
}

/// A password in the Confluence URL is refused before anything is sent,
/// printed or stored: on a server that would accept it, and with
/// `--dry-run`, which used to print the URL as given.
#[test]
fn a_password_in_the_confluence_url_is_refused_and_never_shown() {
    let base = echo_server(200);
    let with_password = base.replace("http://", &format!("http://me:{SECRET}@"));
    for dry_run in [false, true] {
        let home = tempfile::tempdir().expect("tempdir");
        place_draft(home.path());
        let cfg = config(
            home.path(),
            &format!("[confluence]\nspace = 'OPS'\nurl = '{with_password}'\ntoken = 'x'\n"),
        );
        let mut cmd = orderdeck(home.path());
        cmd.arg("--config")
            .arg(&cfg)
            .args(["postmortem", "publish", "PM-1"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().expect("run");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "dry run {dry_run}: {said}");
        assert!(!said.contains(SECRET), "dry run {dry_run}: {said}");
        assert!(
            said.contains("Confluence URL has credentials in it"),
            "dry run {dry_run}: {said}"
        );
        assert_eq!(said.lines().count(), 1, "one line: {said}");
        let data = files_under(&home.path().join("data"));
        assert!(!data.contains(SECRET), "in the data dir:\n{data}");
    }
}

// The remediation audit: a remediation that fails where a URL holds a
// password leaves a JSONL line and a database row, and `orderdeck audit`
// prints them, none holding the password.

#[test]
fn a_failed_remediation_audits_without_the_broker_password() {
    let home = tempfile::tempdir().expect("tempdir");
    let db = home.path().join("orders.db");
    let db_url = format!("sqlite://{}", db.display());
    let mut migrate = orderdeck(home.path());
    migrate.args(["db", "migrate", "--database-url", &db_url]);
    assert_no_secret(migrate, home.path(), "migrate");
    let cfg = env_config(
        home.path(),
        &format!(
            "database_url = '{db_url}'\namqp_url = 'amqp://u:{SECRET}@127.0.0.1:1/%2f'\n\
             rabbitmq_api = 'http://u:{SECRET}@127.0.0.1:1'"
        ),
    );
    let audit = home.path().join("audit.jsonl");
    let mut cmd = orderdeck(home.path());
    cmd.env("ORDERDECK_AUDIT_LOG", &audit)
        .arg("--config")
        .arg(&cfg)
        .args(["requeue", "payment.callback", "--yes"]);
    let said = assert_no_secret(cmd, home.path(), "requeue");
    assert!(said.contains("FAILED"), "{said}");

    let jsonl = std::fs::read_to_string(&audit).expect("an audit line was written");
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
    assert!(jsonl.contains("\"outcome\":\"failed\""), "{jsonl}");
    assert!(
        !jsonl.contains(SECRET),
        "password in the audit file: {jsonl}"
    );

    for (format, local) in [("json", false), ("table", false), ("json", true)] {
        let mut cmd = orderdeck(home.path());
        cmd.env("ORDERDECK_AUDIT_LOG", &audit)
            .arg("--config")
            .arg(&cfg)
            .args(["audit", "--since", "1h", "--format", format]);
        if local {
            cmd.arg("--local");
        }
        let out = assert_no_secret(cmd, home.path(), &format!("audit {format} {local}"));
        assert!(
            out.contains("requeue_dead_letters") && out.contains("failed"),
            "audit {format} local={local} lists the attempt: {out}"
        );
    }
}

/// The cockpit's engine opens its database lazily, so a remediation can be
/// attempted (and audited) against a database that is down; the database
/// URL's password must stay out of the record and the report.
#[tokio::test]
async fn a_remediation_against_an_unreachable_database_audits_without_its_password() {
    use orderdeck::remedy::audit::{Actor, AuditLog};
    use orderdeck::remedy::broker::Broker;
    use orderdeck::remedy::{Engine, Request};
    use orderdeck::sources::store::{AnyStore, Open};
    use std::sync::Arc;
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, url) in URLS {
        let store = AnyStore::open(
            url,
            Open {
                lazy: true,
                create: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: a lazy open does not connect: {e}"));
        let log = AuditLog::new(Some(dir.path().join(format!("{name}.jsonl"))));
        let engine = Engine::new(
            Some(store),
            Broker::None,
            Arc::new(orderdeck::runbook::Runbook::builtin()),
            Actor::current("prod"),
            log.clone(),
        );
        let report = match engine
            .preview(
                Request::Order {
                    action: "release_lock".into(),
                    order_id: 1,
                    order_no: "SO-1".into(),
                },
                chrono::Utc::now(),
            )
            .await
        {
            Ok(p) => panic!("{name}: a preview from a database that is down: {p:?}"),
            Err(r) => r,
        };
        let line = report.line();
        assert!(line.starts_with("FAILED"), "{name}: {line}");
        assert!(
            !line.contains(SECRET) && !line.contains("s3cret%50W"),
            "{name}: {line}"
        );
        let text = std::fs::read_to_string(log.path().expect("path")).expect("audit line");
        assert_eq!(text.lines().count(), 1, "{name}: {text}");
        assert!(
            !text.contains(SECRET) && !text.contains("s3cret%50W"),
            "{name}: {text}"
        );
        let table = orderdeck::remedy::headless::audit_table(
            &log.read_since(chrono::DateTime::UNIX_EPOCH).expect("read"),
        );
        assert!(
            table.contains("release_lock") && !table.contains(SECRET),
            "{table}"
        );
    }
}
