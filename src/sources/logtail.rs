//! Log keyword rules over followed files: a [`Tailer`] reads what was
//! appended to a file (like `tail -F`), a [`LogWatch`] runs the file's rules
//! over each new line and keeps their matches per minute, and
//! [`spawn_log_tail`] does that once a second in the background and sends
//! the numbers to the app when they change.
//!
//! Polling file metadata once a second instead of inotify: it works the
//! same on every platform and file system (NFS, bind mounts, containers),
//! costs one `stat` a second, and a second of latency is nothing next to
//! the per-minute rates the rules are about.

use crate::action::Msg;
use crate::alerts::expr::Expr;
use crate::alerts::log::{LogCount, LogReport};
use crate::alerts::window::MinuteWindow;
use crate::config::LogRule;
use crate::sanitize::sanitize_capped;
use chrono::Utc;
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often a file is checked for new lines, rotation and truncation.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// Longest line kept; the rest of a longer one is skipped up to its newline.
/// A log line is a few hundred bytes; a megabyte "line" is a binary file or
/// a dumped payload, and must not cost memory or matching time.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most bytes read per poll. A burst bigger than this is read over the next
/// polls instead of blocking for long; it bounds the time of one poll.
const READ_BUDGET: usize = 8 * 1024 * 1024;

/// The last matching line is kept to this many characters for display.
const LAST_MATCH_CHARS: usize = 300;

/// Identity of a file across renames: device and inode.
#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Without inodes, rotation shows only as truncation (the new file is
/// shorter), which is handled the same way: read from the start.
#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

struct OpenFile {
    file: File,
    id: Option<(u64, u64)>,
    /// Bytes of the file consumed so far.
    pos: u64,
}

/// Follows one file by path through rotation and truncation.
///
/// Synchronous and without a clock of its own, so tests drive it step by
/// step on real files; the task calls [`Tailer::poll`] once a second.
pub struct Tailer {
    path: PathBuf,
    open: Option<OpenFile>,
    /// Whether the next file opened is news from its first byte. A file
    /// there at start is followed from its end (the cockpit must not replay
    /// old errors as new alerts); one that appears after the path was
    /// missing, or replaces a rotated one, is read from its start. A file
    /// that was there but unreadable (permissions) is still old news once it
    /// can be read, so only "not found" and a successful open set this.
    from_start: bool,
    /// The unfinished last line, at most [`MAX_LINE_BYTES`].
    partial: Vec<u8>,
    /// The current line went over the cap; skip until its newline.
    overlong: bool,
    buf: Vec<u8>,
}

impl Tailer {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Tailer {
            path: path.into(),
            open: None,
            from_start: false,
            partial: Vec::new(),
            overlong: false,
            buf: vec![0; 64 * 1024],
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what is new and calls `on_line` for each complete line
    /// (without its `\n` or `\r\n`; invalid UTF-8 shown as U+FFFD).
    /// `Err` says, in one line, why the file cannot be followed right now;
    /// the next poll tries again.
    pub fn poll(&mut self, mut on_line: impl FnMut(&str)) -> Result<(), String> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) if m.is_dir() => {
                return Err(format!(
                    "{} is a directory, not a log file",
                    self.path.display()
                ));
            }
            Ok(m) => m,
            Err(e) => {
                if e.kind() == ErrorKind::NotFound {
                    self.from_start = true;
                }
                // Renamed away with no new file yet, or deleted: whatever
                // was written to the old file before that still counts.
                if let Some(old) = self.open.take() {
                    self.finish(old, &mut on_line);
                }
                return Err(self.describe(&e));
            }
        };
        match self.open.take() {
            Some(mut cur) if cur.id == file_id(&meta) => {
                if meta.len() < cur.pos {
                    // Truncated in place (copytruncate, `> app.log`): start
                    // over. A file truncated and refilled past our position
                    // within one poll looks like growth; that loses at most
                    // one second of lines, and only in that race.
                    cur.file
                        .seek(SeekFrom::Start(0))
                        .map_err(|e| self.describe(&e))?;
                    cur.pos = 0;
                    self.partial.clear();
                    self.overlong = false;
                }
                self.open = Some(cur);
            }
            Some(old) => {
                // Rotated: finish the old file, then follow the new one.
                self.finish(old, &mut on_line);
                self.open = Some(self.open_file(false)?);
            }
            None => {
                self.open = Some(self.open_file(!self.from_start)?);
                self.from_start = true;
            }
        }
        let Some(mut cur) = self.open.take() else {
            return Ok(());
        };
        let read = self.read_new(&mut cur, &mut on_line);
        self.open = Some(cur);
        read.map_err(|e| self.describe(&e))
    }

    fn open_file(&self, at_end: bool) -> Result<OpenFile, String> {
        let mut file = File::open(&self.path).map_err(|e| self.describe(&e))?;
        // The opened file's own metadata: the path may have been swapped
        // again since we looked at it.
        let meta = file.metadata().map_err(|e| self.describe(&e))?;
        let pos = if at_end { meta.len() } else { 0 };
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| self.describe(&e))?;
        Ok(OpenFile {
            file,
            id: file_id(&meta),
            pos,
        })
    }

    /// Reads the rest of a file that is being let go, and ends its last
    /// line even without a newline: nothing more will be appended to it.
    fn finish(&mut self, mut old: OpenFile, on_line: &mut impl FnMut(&str)) {
        let _ = self.read_new(&mut old, on_line);
        if !self.partial.is_empty() {
            self.emit(on_line);
        }
        self.overlong = false;
    }

    fn read_new(
        &mut self,
        cur: &mut OpenFile,
        on_line: &mut impl FnMut(&str),
    ) -> std::io::Result<()> {
        let mut budget = READ_BUDGET;
        let mut buf = std::mem::take(&mut self.buf);
        let result = loop {
            let want = buf.len().min(budget);
            if want == 0 {
                break Ok(());
            }
            match cur.file.read(&mut buf[..want]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    cur.pos += n as u64;
                    budget -= n;
                    self.feed(&buf[..n], on_line);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.buf = buf;
        result
    }

    fn feed(&mut self, mut bytes: &[u8], on_line: &mut impl FnMut(&str)) {
        while let Some(i) = bytes.iter().position(|b| *b == b'\n') {
            self.keep(&bytes[..i]);
            self.emit(on_line);
            bytes = &bytes[i + 1..];
        }
        self.keep(bytes);
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.overlong {
            return;
        }
        let room = MAX_LINE_BYTES - self.partial.len();
        if bytes.len() > room {
            self.partial.extend_from_slice(&bytes[..room]);
            self.overlong = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn emit(&mut self, on_line: &mut impl FnMut(&str)) {
        let mut line: &[u8] = &self.partial;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        on_line(&String::from_utf8_lossy(line));
        self.partial.clear();
        self.overlong = false;
    }

    fn describe(&self, e: &std::io::Error) -> String {
        let path = self.path.display();
        match e.kind() {
            ErrorKind::NotFound => format!("{path} not found; waiting for it to appear"),
            ErrorKind::PermissionDenied => {
                format!(
                    "{path}: permission denied; the user running orderdeck must be able to read it"
                )
            }
            _ => {
                let text = e.to_string();
                let text = text.split(" (os error").next().unwrap_or(&text);
                format!("{path}: {text}")
            }
        }
    }
}

/// One log rule, ready to match lines.
#[derive(Debug, Clone)]
pub struct TailRule {
    pub name: String,
    /// Lower-cased when the rule ignores case.
    expr: Expr,
    ignore_case: bool,
}

impl TailRule {
    pub fn new(rule: &LogRule) -> Self {
        TailRule {
            name: rule.name.clone(),
            expr: if rule.ignore_case {
                rule.expr.expr.lowercased()
            } else {
                rule.expr.expr.clone()
            },
            ignore_case: rule.ignore_case,
        }
    }
}

/// One followed file and the rules on it.
pub struct LogWatch {
    tailer: Tailer,
    rules: Vec<TailRule>,
    windows: Vec<MinuteWindow>,
    /// Last matching line per rule, cut to a display-sized prefix.
    last_match: Vec<Option<String>>,
    sent: Option<LogReport>,
}

impl LogWatch {
    pub fn new(path: impl Into<PathBuf>, rules: Vec<TailRule>) -> Self {
        let n = rules.len();
        LogWatch {
            tailer: Tailer::new(path),
            rules,
            windows: vec![MinuteWindow::default(); n],
            last_match: vec![None; n],
            sent: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.tailer.path()
    }

    /// Reads what is new, counts matches in second `now` (any monotonic
    /// clock), and returns a report when it differs from the last one
    /// returned: the first call always reports, later ones only on change,
    /// so an idle log costs the app nothing.
    pub fn step(&mut self, now: u64) -> Option<LogReport> {
        let mut hits = vec![0u32; self.rules.len()];
        let rules = &self.rules;
        let last_match = &mut self.last_match;
        let result = self.tailer.poll(|line| {
            let mut lower: Option<String> = None;
            for (i, rule) in rules.iter().enumerate() {
                let text = if rule.ignore_case {
                    lower.get_or_insert_with(|| line.to_lowercase()).as_str()
                } else {
                    line
                };
                if rule.expr.matches(text) {
                    hits[i] = hits[i].saturating_add(1);
                    let slot = last_match[i].get_or_insert_with(String::new);
                    slot.clear();
                    slot.extend(line.chars().take(LAST_MATCH_CHARS + 1));
                }
            }
        });
        for (w, n) in self.windows.iter_mut().zip(hits) {
            w.record(now, n);
        }
        let report = LogReport {
            problem: result.err(),
            counts: self
                .rules
                .iter()
                .zip(&self.windows)
                .zip(&self.last_match)
                .map(|((rule, w), last)| LogCount {
                    rule: rule.name.clone(),
                    per_minute: w.count(now),
                    last_match: last
                        .as_deref()
                        .map(|l| sanitize_capped(l, LAST_MATCH_CHARS)),
                })
                .collect(),
        };
        if self.sent.as_ref() == Some(&report) {
            return None;
        }
        self.sent = Some(report.clone());
        Some(report)
    }
}

/// One watch per distinct file, so a file with several rules is read once.
pub fn watches(rules: &[LogRule]) -> Vec<LogWatch> {
    let mut by_file: Vec<(PathBuf, Vec<TailRule>)> = Vec::new();
    for rule in rules {
        match by_file.iter_mut().find(|(p, _)| *p == rule.file) {
            Some((_, list)) => list.push(TailRule::new(rule)),
            None => by_file.push((rule.file.clone(), vec![TailRule::new(rule)])),
        }
    }
    by_file
        .into_iter()
        .map(|(path, rules)| LogWatch::new(path, rules))
        .collect()
}

/// Steps `watch` every [`POLL_EVERY`] on the blocking pool (file reads may
/// stall on a slow disk or NFS; the UI must not) and sends its reports,
/// until cancelled or the app has gone away.
pub fn spawn_log_tail(
    watch: LogWatch,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut watch = watch;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            let now = start.elapsed().as_secs();
            let stepped = tokio::task::spawn_blocking(move || {
                let report = watch.step(now);
                (watch, report)
            })
            .await;
            let report = match stepped {
                Ok((w, report)) => {
                    watch = w;
                    report
                }
                Err(e) => {
                    tracing::error!(error = %e, "log tail task failed");
                    break;
                }
            };
            if let Some(report) = report {
                if let Some(p) = &report.problem {
                    tracing::warn!(source = "log", problem = %p, "log file unreadable");
                }
                if tx
                    .send(Msg::Log {
                        at: Utc::now(),
                        report,
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open for append");
        f.write_all(text.as_bytes()).expect("append");
    }

    fn lines(t: &mut Tailer) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        t.poll(|l| out.push(l.to_string()))?;
        Ok(out)
    }

    fn ok_lines(t: &mut Tailer) -> Vec<String> {
        lines(t).unwrap_or_else(|e| panic!("poll failed: {e}"))
    }

    #[test]
    fn starts_at_the_end_then_follows_appends_and_partial_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "old ERROR from yesterday\n");
        let mut t = Tailer::new(&path);
        assert!(ok_lines(&mut t).is_empty(), "history is not replayed");
        append(&path, "one\ntwo\r\nthr");
        assert_eq!(ok_lines(&mut t), ["one", "two"]);
        assert!(ok_lines(&mut t).is_empty());
        append(&path, "ee\n");
        assert_eq!(ok_lines(&mut t), ["three"]);
    }

    #[test]
    fn rotation_finishes_the_old_file_then_reads_the_new_one_from_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        let rotated = dir.path().join("app.log.1");
        append(&path, "");
        let mut t = Tailer::new(&path);
        ok_lines(&mut t);
        append(&path, "before\n");
        std::fs::rename(&path, &rotated).expect("rename");
        // The writer still had the old file open and finished its line.
        append(&rotated, "late\nunterminated");
        append(&path, "fresh\n");
        assert_eq!(
            ok_lines(&mut t),
            ["before", "late", "unterminated", "fresh"]
        );
        append(&rotated, "never seen\n");
        append(&path, "next\n");
        assert_eq!(ok_lines(&mut t), ["next"]);
    }

    #[test]
    fn rotated_away_with_no_new_file_is_reported_then_picked_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "");
        let mut t = Tailer::new(&path);
        ok_lines(&mut t);
        append(&path, "last words\n");
        std::fs::rename(&path, dir.path().join("app.log.1")).expect("rename");
        let mut seen = Vec::new();
        let e = t.poll(|l| seen.push(l.to_string())).expect_err("missing");
        assert_eq!(seen, ["last words"]);
        assert!(
            e.ends_with("app.log not found; waiting for it to appear"),
            "{e}"
        );
        append(&path, "new file\n");
        assert_eq!(ok_lines(&mut t), ["new file"]);
    }

    #[test]
    fn truncation_starts_over_from_the_top() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "");
        let mut t = Tailer::new(&path);
        ok_lines(&mut t);
        append(&path, "a long line before the truncation\npartial");
        assert_eq!(ok_lines(&mut t), ["a long line before the truncation"]);
        // copytruncate: same inode, size back to zero, new lines after.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(0)
            .expect("truncate");
        append(&path, "after\n");
        assert_eq!(
            ok_lines(&mut t),
            ["after"],
            "the old partial line is dropped"
        );
    }

    #[test]
    fn a_missing_file_is_reported_then_read_from_its_start_once_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("later.log");
        let mut t = Tailer::new(&path);
        let e = lines(&mut t).expect_err("missing");
        assert!(e.contains("later.log not found"), "{e}");
        assert!(lines(&mut t).is_err(), "still missing, still reported");
        append(&path, "first\nsecond\n");
        assert_eq!(ok_lines(&mut t), ["first", "second"]);
    }

    #[test]
    fn a_directory_is_not_a_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut t = Tailer::new(dir.path());
        let e = lines(&mut t).expect_err("dir");
        assert!(e.ends_with("is a directory, not a log file"), "{e}");
    }

    #[test]
    fn a_file_there_but_unusable_at_start_is_still_followed_from_its_end() {
        // (Permissions are the usual cause; tests may run as root, so a
        // directory in the file's place stands in for "there, unreadable".)
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        std::fs::create_dir(&path).expect("mkdir");
        let mut t = Tailer::new(&path);
        assert!(lines(&mut t).is_err());
        std::fs::remove_dir(&path).expect("rmdir");
        append(&path, "old news\n");
        assert!(ok_lines(&mut t).is_empty(), "not replayed");
        append(&path, "new\n");
        assert_eq!(ok_lines(&mut t), ["new"]);
    }

    #[test]
    fn huge_lines_are_cut_and_the_next_line_is_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "");
        let mut t = Tailer::new(&path);
        ok_lines(&mut t);
        // 3 MiB without a newline, over several polls.
        let chunk = "x".repeat(1024 * 1024);
        for _ in 0..3 {
            append(&path, &chunk);
            assert!(ok_lines(&mut t).is_empty());
        }
        append(&path, "ERROR at the end\nnormal line\n");
        let got = ok_lines(&mut t);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE_BYTES);
        assert!(got[0].bytes().all(|b| b == b'x'));
        assert_eq!(got[1], "normal line");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "");
        let mut t = Tailer::new(&path);
        ok_lines(&mut t);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"bad \xff byte\n").expect("write");
        assert_eq!(ok_lines(&mut t), ["bad \u{fffd} byte"]);
    }

    fn rule(name: &str, expr: &str, ignore_case: bool) -> LogRule {
        LogRule {
            ignore_case,
            ..crate::fixtures::log_rule(name, expr)
        }
    }

    #[test]
    fn watch_counts_per_rule_over_a_sliding_minute_and_reports_only_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        append(&path, "");
        let rules = [
            rule("timeouts", crate::fixtures::FIELD_RULE, false),
            rule("any-error", r#""error""#, true),
        ];
        let rules = rules.map(|mut r| {
            r.file = path.clone();
            r
        });
        let mut w = watches(&rules).pop().expect("one watch for one file");
        let first = w.step(100).expect("the first step always reports");
        assert_eq!(first.problem, None);
        assert!(first.counts.iter().all(|c| c.per_minute == 0));
        assert_eq!(w.step(101), None, "nothing new, nothing sent");

        append(
            &path,
            "ERROR order_timeout CO1\nerror: disk \x1b[31mfull\nWARN order_timeout CO2\n",
        );
        let r = w.step(102).expect("changed");
        assert_eq!(r.counts[0].rule, "timeouts");
        assert_eq!(r.counts[0].per_minute, 1);
        assert_eq!(
            r.counts[0].last_match.as_deref(),
            Some("ERROR order_timeout CO1")
        );
        assert_eq!(r.counts[1].per_minute, 2, "case ignored");
        assert_eq!(
            r.counts[1].last_match.as_deref(),
            Some("error: disk \\x1b[31mfull"),
            "sanitised"
        );
        append(&path, "ERROR inventory_rollback SKU-1\n");
        assert_eq!(w.step(130).expect("changed").counts[0].per_minute, 2);
        assert_eq!(
            w.step(162).expect("one left the window").counts[0].per_minute,
            1
        );
        let quiet = w.step(190).expect("window empty");
        assert_eq!(quiet.counts[0].per_minute, 0);
        assert_eq!(
            quiet.counts[0].last_match.as_deref(),
            Some("ERROR inventory_rollback SKU-1"),
            "the last match stays for reference"
        );
        assert_eq!(w.step(191), None);
    }

    #[test]
    fn one_watch_per_file() {
        let mut a = rule("a", r#""x""#, false);
        let mut b = rule("b", r#""y""#, false);
        let mut c = rule("c", r#""z""#, false);
        a.file = "one.log".into();
        b.file = "two.log".into();
        c.file = "one.log".into();
        let w = watches(&[a, b, c]);
        let shape: Vec<(&Path, Vec<&str>)> = w
            .iter()
            .map(|w| (w.path(), w.rules.iter().map(|r| r.name.as_str()).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                (Path::new("one.log"), vec!["a", "c"]),
                (Path::new("two.log"), vec!["b"])
            ]
        );
    }

    #[tokio::test]
    async fn the_task_sends_reports_and_stops_when_cancelled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        let mut r = rule("errors", r#""ERROR""#, false);
        r.file = path.clone();
        let (tx, mut rx) = mpsc::channel(8);
        let cancel = CancellationToken::new();
        let watch = watches(&[r]).pop().expect("watch");
        let task = spawn_log_tail(watch, tx, cancel.clone());
        async fn next(rx: &mut mpsc::Receiver<Msg>) -> LogReport {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some(Msg::Log { report, .. })) => report,
                other => panic!("expected a log report, got {other:?}"),
            }
        }
        let missing = next(&mut rx).await;
        assert!(missing.problem.is_some_and(|p| p.contains("not found")));
        append(&path, "ERROR order_timeout\n");
        // The file may be seen empty for one poll between its creation and
        // the write; the match arrives in a later report then.
        loop {
            let found = next(&mut rx).await;
            assert_eq!(found.problem, None);
            if found.counts[0].per_minute == 1 {
                break;
            }
        }
        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops when cancelled")
            .expect("no panic");
    }
}
