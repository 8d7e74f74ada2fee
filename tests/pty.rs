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
        ] {
            cmd.env(k, dirs.path().join(sub));
        }
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
    s.send(b"q"); // quits
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
