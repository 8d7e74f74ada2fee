//! The real binary in a pseudo-terminal, with HOME and the XDG
//! directories in a temporary `home`: what it writes is collected byte for
//! byte, for scanning and for a terminal emulator (vt100) to replay.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ENTER_ALT: &[u8] = b"\x1b[?1049h";
pub const LEAVE_ALT: &[u8] = b"\x1b[?1049l";

/// The variables that describe the terminal to orderdeck.
pub const TERMINAL_VARS: &[&str] = &["TERM", "COLORTERM", "NO_COLOR", "TMUX", "STY", "COLORFGBG"];

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub struct Pty {
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    pub seen: Vec<u8>,
}

impl Pty {
    pub fn start(args: &[&str], home: &Path, rows: u16, cols: u16) -> Pty {
        Pty::start_in(args, home, rows, cols, &[("TERM", "xterm-256color")])
    }

    /// Like [`Pty::start`], with the terminal described only by `term_env`:
    /// whatever the test runner's own terminal says (TERM, COLORTERM,
    /// NO_COLOR, TMUX, STY, COLORFGBG) is removed first.
    pub fn start_in(
        args: &[&str],
        home: &Path,
        rows: u16,
        cols: u16,
        term_env: &[(&str, &str)],
    ) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_orderdeck"));
        cmd.args(args);
        for k in TERMINAL_VARS {
            cmd.env_remove(k);
        }
        for (k, v) in term_env {
            cmd.env(k, v);
        }
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        let child = pty.slave.spawn_command(cmd).expect("spawn orderdeck");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            child,
            writer,
            output: rx,
            seen: Vec::new(),
        }
    }

    pub fn pump(&mut self, for_at_most: Duration) {
        if let Ok(chunk) = self.output.recv_timeout(for_at_most) {
            self.seen.extend(chunk);
        }
        while let Ok(chunk) = self.output.try_recv() {
            self.seen.extend(chunk);
        }
    }

    /// Reads until `needle` shows up; panics with what was seen on timeout.
    pub fn wait_for(&mut self, needle: &[u8], timeout: Duration) {
        self.wait_for_from(needle, 0, timeout);
    }

    /// Reads until `needle` shows up at or after byte `from`; returns where.
    pub fn wait_for_from(&mut self, needle: &[u8], from: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(p) = find(&self.seen[from.min(self.seen.len())..], needle) {
                return from + p;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {:?}; saw:\n{}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&self.seen)
            );
            self.pump(Duration::from_millis(100));
        }
    }

    /// Reads until the screen (everything seen, played through a terminal
    /// emulator of `rows` x `cols`) shows `text`: frames are diffs, so
    /// text that is on screen need not be in the bytes in one piece.
    pub fn wait_for_screen(&mut self, text: &str, rows: u16, cols: u16, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let mut vt = vt100::Parser::new(rows, cols, 0);
            vt.process(&self.seen);
            let screen = vt.screen().contents();
            if screen.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?} on screen; it shows:\n{screen}"
            );
            self.pump(Duration::from_millis(100));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
        self.writer.flush().expect("flush");
        self.pump(Duration::from_millis(400));
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.pump(Duration::from_millis(300));
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("orderdeck did not exit");
            }
            self.pump(Duration::from_millis(50));
        }
    }
}
