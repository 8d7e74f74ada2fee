//! The real binary in a real pseudo-terminal: first frame, keys, and a
//! terminal put back the way it was on `q`, on Ctrl-C and on SIGTERM.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

struct Session {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
    _dirs: tempfile::TempDir,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

impl Session {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let dirs = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_orderdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, sub) in [
            ("ORDERDECK_CONFIG_DIR", "config"),
            ("ORDERDECK_DATA_DIR", "data"),
            ("ORDERDECK_STATE_DIR", "state"),
            // What orderdeck actually reads (the platform's directories):
            // drafts, incidents and logs stay in the test's directory,
            // never in the home of whoever runs the tests.
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
        ] {
            cmd.env(k, dirs.path().join(sub));
        }
        cmd.env("HOME", dirs.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn orderdeck");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep the master alive as long as the reader runs.
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Session {
            child,
            writer,
            output: rx,
            seen: Vec::new(),
            _dirs: dirs,
        }
    }

    /// Reads until `needle` shows up after byte `from`; panics with what
    /// was seen on timeout.
    fn wait_for(&mut self, needle: &[u8], from: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(p) = find(&self.seen[from.min(self.seen.len())..], needle) {
                return from + p;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timed out waiting for {:?}; saw:\n{}",
                    String::from_utf8_lossy(needle),
                    String::from_utf8_lossy(&self.seen)
                );
            }
            if let Ok(chunk) = self
                .output
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                self.seen.extend(chunk);
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            while let Ok(chunk) = self.output.try_recv() {
                self.seen.extend(chunk);
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                // Drain what the child wrote last (the restore sequences).
                while let Ok(chunk) = self.output.recv_timeout(Duration::from_millis(200)) {
                    self.seen.extend(chunk);
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "orderdeck did not exit; saw:\n{}",
                    String::from_utf8_lossy(&self.seen)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Reads until the 30x100 screen shows `text` (frames are diffs: typed
    /// text is not in the bytes in one piece).
    fn wait_for_screen(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let mut vt = vt100::Parser::new(30, 100, 0);
            vt.process(&self.seen);
            let screen = vt.screen().contents();
            if screen.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?} on screen; it shows:\n{screen}"
            );
            if let Ok(chunk) = self.output.recv_timeout(Duration::from_millis(100)) {
                self.seen.extend(chunk);
            }
        }
    }

    /// Every postmortem draft this session's data directory holds, as text.
    fn drafts(&self) -> String {
        fn walk(dir: &std::path::Path, out: &mut String) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "json") {
                    out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        let mut out = String::new();
        walk(self._dirs.path(), &mut out);
        out
    }

    #[cfg(unix)]
    fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("child pid");
        let rc = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(rc.success(), "kill -{name}");
    }

    /// The screen was left: after the last switch to the alternate screen
    /// come the switch back and the cursor shown again.
    fn assert_restored(&self) {
        let entered = rfind(&self.seen, ENTER_ALT).expect("entered the alternate screen");
        let tail = &self.seen[entered..];
        assert!(find(tail, LEAVE_ALT).is_some(), "alternate screen left");
        assert!(find(tail, SHOW_CURSOR).is_some(), "cursor shown again");
    }
}

fn start_demo() -> Session {
    let mut s = Session::start(&["demo", "--seed", "3"], &[]);
    let at = s.wait_for(ENTER_ALT, 0, Duration::from_secs(20));
    s.wait_for(b"Stuck orders", at, Duration::from_secs(20));
    s.wait_for(b"DEMO", at, Duration::from_secs(5));
    s
}

#[test]
fn demo_draws_opens_help_and_quits_cleanly_on_q() {
    let mut s = start_demo();
    let before_help = s.seen.len();
    s.send(b"?");
    s.wait_for(b"Help", before_help, Duration::from_secs(10));
    s.send(b"q"); // closes help
    s.send(b"q"); // quits (nothing at stake: no question asked)
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

/// The panic hook restores the terminal before anything else, then says
/// where the log is.
#[test]
fn a_panic_restores_the_terminal_and_points_at_the_log() {
    let mut s = Session::start(&["demo"], &[("ORDERDECK_DEBUG_PANIC", "1")]);
    let at = s.wait_for(ENTER_ALT, 0, Duration::from_secs(20));
    s.wait_for(b"Stuck orders", at, Duration::from_secs(20));
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(!status.success(), "a panic is a failure: {status:?}");
    s.assert_restored();
    let left = rfind(&s.seen, LEAVE_ALT).expect("left the alternate screen");
    let after = String::from_utf8_lossy(&s.seen[left..]);
    assert!(after.contains("deliberate panic"), "{after}");
    assert!(after.contains("orderdeck.log"), "{after}");
}

/// Asking the terminal where the cursor is costs a round trip per start over
/// SSH, and 2 s on a terminal that never answers: the cockpit must not ask.
#[test]
fn startup_sends_no_terminal_queries() {
    let mut s = start_demo();
    assert!(
        find(&s.seen, b"\x1b[6n").is_none(),
        "cursor position query sent"
    );
    s.send(b"q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn ctrl_c_quits_cleanly() {
    let mut s = start_demo();
    s.send(b"\x03");
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[cfg(unix)]
#[test]
fn sigterm_quits_cleanly() {
    let mut s = start_demo();
    let pid = s.child.process_id().expect("child pid");
    let rc = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(rc.success());
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn no_subcommand_without_config_explains_and_exits_2() {
    let mut s = Session::start(&[], &[]);
    let status = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.exit_code(), 2);
    let out = String::from_utf8_lossy(&s.seen);
    assert!(out.contains("database_url"), "{out}");
    assert!(out.contains("orderdeck demo"), "{out}");
    assert!(
        find(&s.seen, ENTER_ALT).is_none(),
        "never touched the screen"
    );
}

/// A config whose only alert is one log rule on `log`, with the bell as given.
fn log_alert_config(
    dir: &std::path::Path,
    log: &std::path::Path,
    bell: bool,
) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"[alerts]
bell = {bell}
queue_ready = false
growing_samples = 0
zero_consumers = "off"
dlq_not_empty = false
[alerts.stuck_above]
[[alerts.log]]
name = "order-errors"
file = '{}'
expr = '"ERROR" AND ("order_timeout" OR "inventory_rollback")'
level = "critical"
"#,
            log.display()
        ),
    )
    .expect("write config");
    path
}

/// The demo with one log rule on a file that does not exist yet: the strip
/// first says the rule is blind, which also proves the tail is running, so
/// the file created next is read from its start (no sleeping and hoping).
fn demo_with_log_rule(bell: bool) -> (Session, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.log");
    let config = log_alert_config(dir.path(), &log, bell);
    let config = config.to_str().expect("utf-8 path");
    let mut s = Session::start(&["demo", "--seed", "3", "--config", config], &[]);
    let at = s.wait_for(ENTER_ALT, 0, Duration::from_secs(20));
    s.wait_for(b"cannot see its file", at, Duration::from_secs(20));
    (s, log, dir)
}

/// End to end: the log tail runs inside the cockpit, a matching line raises
/// the alert in the strip, and the bell rings for new alerts only.
#[test]
fn a_matching_log_line_shows_in_the_strip_and_rings_the_bell() {
    let (mut s, log, _dir) = demo_with_log_rule(true);
    // The blind rule is a new (warning) alert: it rang.
    s.wait_for(b"\x07", 0, Duration::from_secs(5));
    let before = s.seen.len();
    std::fs::write(&log, "2026-11-25 ERROR order_timeout order=CO1\n").expect("log");
    s.wait_for(b"1 match/min", before, Duration::from_secs(10));
    let rang = s.wait_for(b"\x07", before, Duration::from_secs(5));
    // The alert goes on: a second matching line updates it on screen (a
    // positive sign the app is alive and has redrawn), with no new bell.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open log");
    std::io::Write::write_all(&mut f, b"2026-11-25 ERROR order_timeout order=CO2\n")
        .expect("append");
    drop(f);
    // Only changed cells are redrawn ("1 match" becomes "2 matches" by a
    // few bytes), so read the screen as a terminal would show it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut vt = vt100::Parser::new(30, 100, 0);
        vt.process(&s.seen);
        if vt.screen().contents().contains("2 matches/min") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second match never showed:\n{}",
            vt.screen().contents()
        );
        if let Ok(chunk) = s.output.recv_timeout(Duration::from_millis(100)) {
            s.seen.extend(chunk);
        }
    }
    // Everything it wrote up to its exit, so a bell queued with that frame
    // is seen too.
    s.send(b"q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());
    assert!(
        find(&s.seen[rang + 1..], b"\x07").is_none(),
        "the bell rang again for an alert that was going on"
    );
    s.assert_restored();
}

#[test]
fn the_bell_stays_silent_when_it_is_off() {
    let (mut s, log, _dir) = demo_with_log_rule(false);
    let before = s.seen.len();
    std::fs::write(&log, "2026-11-25 ERROR inventory_rollback sku=SKU-1\n").expect("log");
    s.wait_for(b"1 match/min", before, Duration::from_secs(10));
    s.send(b"q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());
    assert!(find(&s.seen, b"\x07").is_none(), "bell rang while off");
}

/// `orderdeck wallboard` on a real SQLite database: big-type screen up with
/// no key pressed, `H` refused on one line and audited (JSONL and the
/// database's `remediation_audit`), `q` leaves a clean terminal.
#[test]
fn the_wallboard_refuses_a_heal_audits_it_and_quits_cleanly() {
    wallboard_refuses_a_heal(false);
}

/// `q` typed right behind `H`, before the refusal's audit was written: the
/// process used to leave with the audit task still running and drop it, so
/// the `remediation_audit` row (sometimes the JSONL line too) was lost. It
/// now finishes the audit before it exits.
#[test]
fn quitting_right_behind_a_wallboard_refusal_still_audits_it() {
    wallboard_refuses_a_heal(true);
}

/// The product guarantees the audit is written before the process exits,
/// so the audit is read after the exit: no polling needed, and a lost line
/// fails the test rather than waiting it out.
fn wallboard_refuses_a_heal(quit_at_once: bool) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wall.db").display());
    let audit = dir.path().join("audit.jsonl");
    let audit_str = audit.to_string_lossy().to_string();
    let bin = env!("CARGO_BIN_EXE_orderdeck");
    let migrate = std::process::Command::new(bin)
        .args(["db", "migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let env = [
        ("ORDERDECK_DATABASE_URL", url.as_str()),
        ("ORDERDECK_AUDIT_LOG", audit_str.as_str()),
    ];
    let mut s = Session::start(&["wallboard"], &env);
    let at = s.wait_for(ENTER_ALT, 0, Duration::from_secs(20));
    s.wait_for(b"WALLBOARD", at, Duration::from_secs(20));
    s.wait_for(b"READ-ONLY", at, Duration::from_secs(20));
    if quit_at_once {
        s.send(b"Hq");
    } else {
        let before = s.seen.len();
        s.send(b"H");
        s.wait_for(b"wallboard is read-only", before, Duration::from_secs(20));
        s.send(b"q");
    }
    let status = s.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();

    let lines = std::fs::read_to_string(&audit).expect("the audit file was written");
    let refused: Vec<&str> = lines
        .lines()
        .filter(|l| l.contains("\"action\":\"heal\"") && l.contains("\"outcome\":\"refused\""))
        .collect();
    assert_eq!(refused.len(), 1, "{lines}");
    assert!(refused[0].contains("wallboard is read-only"), "{lines}");
    let db = std::process::Command::new(bin)
        .args(["audit", "--format", "json", "--since", "1h"])
        .env("ORDERDECK_DATABASE_URL", &url)
        .env("ORDERDECK_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&db.stdout);
    assert!(db.status.success(), "{db:?}");
    assert!(
        out.contains("heal") && out.contains("refused") && out.contains("wallboard is read-only"),
        "remediation_audit: {out}"
    );
}

/// Types a title into a fresh draft's first field and waits until it is on
/// screen (read by the editor, not yet autosaved: that waits half a second).
fn type_a_title(s: &mut Session, title: &str) {
    s.wait_for_screen("autosaves to", Duration::from_secs(20));
    s.send(b"\r");
    s.send(title.as_bytes());
    s.wait_for_screen(title, Duration::from_secs(10));
}

/// SIGTERM or SIGHUP during `postmortem edit` saves what was typed and
/// gives the terminal back (it used to die with the alternate screen on,
/// the cursor hidden and the last keystrokes lost).
#[cfg(unix)]
#[test]
fn sigterm_and_sighup_in_the_postmortem_editor_save_and_restore() {
    for sig in ["TERM", "HUP"] {
        let mut s = Session::start(&["postmortem", "new"], &[]);
        s.wait_for(ENTER_ALT, 0, Duration::from_secs(20));
        let title = format!("Lock storm at {sig} time");
        type_a_title(&mut s, &title);
        s.signal(sig);
        let status = s.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "SIG{sig}: exit status {status:?}");
        s.assert_restored();
        assert!(
            s.drafts().contains(&title),
            "SIG{sig}: the typed title was saved: {}",
            s.drafts()
        );
    }
}

/// The editor opened from the cockpit (`p`): SIGTERM is no longer ignored
/// until it closes; the draft is saved, then the cockpit leaves cleanly.
#[cfg(unix)]
#[test]
fn sigterm_in_the_cockpit_hosted_editor_saves_and_quits() {
    let mut s = start_demo();
    s.send(b"p");
    let title = "Settlement backlog, cockpit editor";
    type_a_title(&mut s, title);
    s.signal("TERM");
    let status = s.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
    assert!(s.drafts().contains(title), "saved: {}", s.drafts());
}

/// `p`, Esc, `y`, `y` once ran a resync: Esc closed the editor and the
/// `y`s reached the cockpit. Now Esc stays in the editor (it says q
/// closes), and nothing is fixed or audited as done.
#[test]
fn esc_in_the_cockpit_hosted_editor_does_not_hand_keys_to_the_orders() {
    let mut s = start_demo();
    s.send(b"p");
    s.wait_for_screen("autosaves to", Duration::from_secs(20));
    s.send(b"\x1b");
    s.wait_for_screen(
        "Esc closes a field; q closes the editor",
        Duration::from_secs(10),
    );
    s.send(b"yyq");
    s.wait_for_screen(
        "export with: orderdeck postmortem export",
        Duration::from_secs(10),
    );
    s.send(b"\x03");
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
    let screen = {
        let mut vt = vt100::Parser::new(30, 100, 0);
        vt.process(&s.seen);
        vt.screen().contents()
    };
    assert!(!screen.contains("[ Proceed ]"), "no preview: {screen}");
    let audit = s._dirs.path().join("data/orderdeck/audit.jsonl");
    let lines = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(
        !lines.contains("\"outcome\":\"ok\""),
        "nothing done: {lines}"
    );
    assert!(
        !lines.contains("resync_status"),
        "no resync asked for: {lines}"
    );
}
