//! Everything the cockpit writes to the terminal goes through one queue and
//! one writer thread, so that a slow terminal never stalls the UI loop.
//!
//! Over SSH on a bad link, or with a tmux pane that is not being read, a
//! write to the terminal can block for seconds. If the UI loop did that
//! write itself, it would stop reading keys: `q` and Ctrl-C would not work
//! until the link caught up. Instead the loop renders into memory
//! ([`FrameWriter`]) and hands the bytes to the [`Outbox`], whose thread
//! does the blocking write. While a write is in progress the loop does not
//! draw: changes pile up in the state, and when the writer is done the loop
//! draws the latest state once (ratatui diffs it against the last frame it
//! sent, so nothing is lost and nothing is sent twice). Bytes are never
//! dropped: a frame is a diff against the previous one, and a dropped frame
//! would leave the screen wrong until the next full redraw.
//!
//! Other writes (the bell, OSC 52 copies) go through the same queue, after
//! the frame they follow, so they never land in the middle of a frame.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Inner {
    queued: VecDeque<u8>,
    /// The writer thread holds bytes it has not finished writing.
    writing: bool,
    /// The first write error; later writes are dropped (the terminal is gone).
    error: Option<String>,
    closed: bool,
    /// Bytes written so far (for the PTY bench and tests).
    written: u64,
}

/// The queue between the UI loop and the writer thread.
pub struct Outbox {
    inner: Mutex<Inner>,
    /// Wakes the writer thread (bytes queued, or closing).
    work: Condvar,
    /// Wakes threads waiting in [`Outbox::drain`].
    done: Condvar,
    /// Wakes the async UI loop when a write finished.
    idle: tokio::sync::Notify,
}

impl Outbox {
    /// Starts the writer thread writing to `sink`.
    pub fn start(sink: impl Write + Send + 'static) -> io::Result<Arc<Outbox>> {
        let outbox = Arc::new(Outbox {
            inner: Mutex::new(Inner::default()),
            work: Condvar::new(),
            done: Condvar::new(),
            idle: tokio::sync::Notify::new(),
        });
        let worker = outbox.clone();
        std::thread::Builder::new()
            .name("orderdeck-output".into())
            .spawn(move || worker.run(sink))?;
        Ok(outbox)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere while holding it;
        // the queue itself is still a valid byte queue.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self, mut sink: impl Write) {
        loop {
            let chunk: Vec<u8> = {
                let mut inner = self.lock();
                while inner.queued.is_empty() && !inner.closed {
                    inner = self.work.wait(inner).unwrap_or_else(|e| e.into_inner());
                }
                if inner.queued.is_empty() {
                    return;
                }
                inner.writing = true;
                inner.queued.drain(..).collect()
            };
            let result = sink.write_all(&chunk).and_then(|()| sink.flush());
            {
                let mut inner = self.lock();
                inner.writing = false;
                inner.written += chunk.len() as u64;
                if let Err(e) = result
                    && inner.error.is_none()
                {
                    inner.error = Some(e.to_string());
                    inner.queued.clear();
                }
            }
            self.done.notify_all();
            self.idle.notify_one();
        }
    }

    /// Queues `bytes` after everything queued before.
    pub fn push(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut inner = self.lock();
        if inner.error.is_some() {
            return;
        }
        inner.queued.extend(bytes);
        drop(inner);
        self.work.notify_one();
    }

    /// Bytes are queued or being written: the terminal has not taken the
    /// last frame yet.
    pub fn busy(&self) -> bool {
        let inner = self.lock();
        inner.writing || !inner.queued.is_empty()
    }

    /// Resolves when a write finishes (at once if one finished since the
    /// last call); the caller checks [`Outbox::busy`] again.
    pub async fn write_finished(&self) {
        self.idle.notified().await;
    }

    /// Why writing failed, if it did.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    pub fn written(&self) -> u64 {
        self.lock().written
    }

    /// Waits until everything queued is written, at most `timeout`; false
    /// if the terminal did not take it in time.
    pub fn drain(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while (inner.writing || !inner.queued.is_empty()) && inner.error.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            inner = match self.done.wait_timeout(inner, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }

    /// Lets the thread end once the queue is written.
    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_one();
    }
}

/// What ratatui's backend writes into: a frame collects here and goes to
/// the [`Outbox`] whole on `flush` (ratatui flushes once per frame).
pub struct FrameWriter {
    buf: Vec<u8>,
    outbox: Arc<Outbox>,
    /// Rewrite colour SGR to the 16 basic forms (see [`sgr16`]).
    basic_colours: bool,
}

impl FrameWriter {
    pub fn new(outbox: Arc<Outbox>, basic_colours: bool) -> FrameWriter {
        FrameWriter {
            buf: Vec::with_capacity(64 * 1024),
            outbox,
            basic_colours,
        }
    }
}

impl Write for FrameWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.outbox.error() {
            self.buf.clear();
            return Err(io::Error::other(format!("writing to the terminal: {e}")));
        }
        if !self.buf.is_empty() {
            if self.basic_colours {
                let rewritten = sgr16(&self.buf);
                self.outbox.push(&rewritten);
            } else {
                self.outbox.push(&self.buf);
            }
            self.buf.clear();
        }
        Ok(())
    }
}

/// Rewrites indexed colours 0-15 in SGR sequences (`ESC [ 38;5;N m`, which
/// is how crossterm writes even the 16 named colours) to the basic forms
/// 30-37/90-97 and 40-47/100-107 that every 16-colour terminal knows (the
/// Linux console, `TERM=xterm` or `screen` without 256 colours, old SSH
/// clients). Everything else passes unchanged.
pub fn sgr16(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == 0x1b && input.get(i + 1) == Some(&b'[') {
            let start = i + 2;
            let mut end = start;
            while end < input.len() && (0x20..=0x3f).contains(&input[end]) {
                end += 1;
            }
            if input.get(end) == Some(&b'm') {
                out.extend_from_slice(b"\x1b[");
                out.extend_from_slice(&rewrite_sgr_params(&input[start..end]));
                out.push(b'm');
                i = end + 1;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn rewrite_sgr_params(params: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(params) else {
        return params.to_vec();
    };
    let parts: Vec<&str> = text.split(';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let indexed = |base: u8, bright: u8| -> Option<String> {
            if parts.get(i + 1) != Some(&"5") {
                return None;
            }
            let n: u8 = parts.get(i + 2)?.parse().ok()?;
            match n {
                0..=7 => Some((base + n).to_string()),
                8..=15 => Some((bright + n - 8).to_string()),
                _ => None,
            }
        };
        let replaced = match parts[i] {
            "38" => indexed(30, 90),
            "48" => indexed(40, 100),
            _ => None,
        };
        match replaced {
            Some(r) => {
                out.push(r);
                i += 3;
            }
            None => {
                out.push(parts[i].to_string());
                i += 1;
            }
        }
    }
    out.join(";").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgr16_rewrites_indexed_low_colours_only() {
        assert_eq!(sgr16(b"\x1b[38;5;1mred"), b"\x1b[31mred");
        assert_eq!(sgr16(b"\x1b[48;5;15m"), b"\x1b[107m");
        assert_eq!(sgr16(b"\x1b[38;5;8;48;5;0m"), b"\x1b[90;40m");
        assert_eq!(sgr16(b"\x1b[1;38;5;9m"), b"\x1b[1;91m");
        // Not ours to touch: 256-colour, truecolor, other CSI, plain text.
        assert_eq!(sgr16(b"\x1b[38;5;196m"), b"\x1b[38;5;196m");
        assert_eq!(sgr16(b"\x1b[38;2;1;2;3m"), b"\x1b[38;2;1;2;3m");
        assert_eq!(sgr16(b"\x1b[5;8H38;5;1m"), b"\x1b[5;8H38;5;1m");
        assert_eq!(sgr16(b"\x1b[39m\x1b[0m"), b"\x1b[39m\x1b[0m");
        assert_eq!(sgr16(b"\x1b[38;5m"), b"\x1b[38;5m");
        assert_eq!(sgr16(b"tail\x1b["), b"tail\x1b[");
    }

    #[test]
    fn outbox_writes_everything_in_order() {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        struct Sink(std::sync::mpsc::Sender<Vec<u8>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                let _ = self.0.send(b.to_vec());
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let outbox = Outbox::start(Sink(tx)).expect("thread");
        let mut w = FrameWriter::new(outbox.clone(), false);
        w.write_all(b"frame one").expect("write");
        assert!(!outbox.busy(), "nothing goes out before flush");
        w.flush().expect("flush");
        outbox.push(b"|bell");
        w.write_all(b"|frame two").expect("write");
        w.flush().expect("flush");
        assert!(outbox.drain(Duration::from_secs(10)));
        assert!(!outbox.busy());
        outbox.close();
        let all: Vec<u8> = rx.iter().flatten().collect();
        assert_eq!(all, b"frame one|bell|frame two");
        assert_eq!(outbox.written(), 24);
    }

    #[test]
    fn a_failed_write_is_reported_on_the_next_flush() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("EIO"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let outbox = Outbox::start(Gone).expect("thread");
        outbox.push(b"x");
        assert!(outbox.drain(Duration::from_secs(10)));
        let mut w = FrameWriter::new(outbox.clone(), false);
        w.write_all(b"y").expect("write");
        let e = w.flush().expect_err("terminal gone");
        assert!(e.to_string().contains("EIO"), "{e}");
    }
}
