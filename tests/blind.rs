//! `snapshot` against databases it cannot read, through the real binary:
//! a black hole (a listener that accepts and never answers) ends with exit
//! 3 within a bounded time and one clear line, every configured source is
//! listed with its state and error, and counts never read are `null`.

use assert_cmd::Command;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use tempfile::TempDir;

fn orderdeck(home: &TempDir) -> Command {
    let mut cmd = Command::cargo_bin("orderdeck").expect("binary built");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        // Generous: the fix is a 5 s deadline; before it, this hung for ever.
        .timeout(Duration::from_secs(90));
    cmd
}

/// A TCP listener that accepts every connection and never sends a byte,
/// like a dead proxy or a half-open firewall. Lives as long as the process.
fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    port
}

fn snapshot_of(url: &str) -> (Option<i32>, serde_json::Value, String, Duration) {
    let home = TempDir::new().unwrap();
    let t0 = Instant::now();
    let out = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", url)
        .args(["snapshot", "--format", "json"])
        .output()
        .expect("runs");
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {stdout:?}, stderr {:?}", out.stderr));
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
        took,
    )
}

fn assert_blind(url: &str) {
    let (code, json, stderr, took) = snapshot_of(url);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("no answer within 5 s")),
        "{stderr}"
    );
    let src = &json["sources"][0];
    assert_eq!(src["name"], "db", "{json}");
    assert_eq!(src["state"], "down", "{json}");
    assert!(
        src["error"]
            .as_str()
            .is_some_and(|e| e.contains("no answer")),
        "{json}"
    );
    for f in ["ghost", "split", "zombie"] {
        assert_eq!(json["families"][f], serde_json::Value::Null, "{json}");
    }
    assert_eq!(json["anomalies"], serde_json::Value::Null, "{json}");
}

#[test]
fn snapshot_against_a_postgres_black_hole_exits_3_with_unknown_counts() {
    let port = black_hole();
    assert_blind(&format!("postgres://u@127.0.0.1:{port}/shop"));
}

#[test]
fn snapshot_against_a_mysql_black_hole_exits_3_with_unknown_counts() {
    let port = black_hole();
    assert_blind(&format!("mysql://u@127.0.0.1:{port}/shop"));
}

#[test]
fn a_missing_sqlite_file_is_a_usage_error() {
    let home = TempDir::new().unwrap();
    let url = format!("sqlite://{}", home.path().join("nope.db").display());
    let out = orderdeck(&home)
        .env("ORDERDECK_DATABASE_URL", &url)
        .args(["snapshot"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn the_table_format_lists_the_unreachable_database_too() {
    // Nothing listens on a port just bound and dropped: refused at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = TempDir::new().unwrap();
    let out = orderdeck(&home)
        .env(
            "ORDERDECK_DATABASE_URL",
            format!("postgres://u@127.0.0.1:{port}/shop"),
        )
        .args(["snapshot"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("| db"))
        .unwrap_or_else(|| panic!("no db row:\n{table}"));
    assert!(row.contains("postgres 127.0.0.1"), "{row}");
    assert!(row.contains("down: "), "{row}");
}
