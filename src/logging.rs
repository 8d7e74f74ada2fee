//! Logs go to a file, never to the screen while the TUI is up.
//!
//! The file is private (0600, like the config: log lines carry order
//! numbers, hosts and error text from production) and capped: past
//! [`MAX_LOG_BYTES`] it is rotated to `orderdeck.log.1` (older ones shift up
//! to [`KEEP_ROTATED`]), so a cockpit left running on a wall screen for
//! months cannot fill the disk. Size, not time: a quiet week should not leave
//! seven near-empty files, nor a noisy hour one huge one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Size at which the log is rotated.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// Rotated files kept beside the live one (`.1` the newest).
pub const KEEP_ROTATED: usize = 3;

/// Starts file logging in the user's state directory. Returns the file path
/// (for the panic message) and the guard that flushes the log on exit.
/// Logging is best effort: an unwritable directory must not stop the cockpit.
pub fn init() -> (Option<PathBuf>, Option<WorkerGuard>) {
    let Some(dir) = crate::paths::state_dir() else {
        return (None, None);
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return (None, None);
    }
    let file = dir.join("orderdeck.log");
    let Ok(handle) = RotatingFile::open(&file, MAX_LOG_BYTES, KEEP_ROTATED) else {
        return (None, None);
    };
    let (writer, guard) = tracing_appender::non_blocking(handle);
    let filter =
        EnvFilter::try_from_env("ORDERDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || Masked(writer.clone()))
        .try_init()
        .is_ok();
    if installed {
        (Some(file), Some(guard))
    } else {
        (None, None)
    }
}

/// An append-only file, created 0600, rotated when a write would take it
/// past `cap` bytes.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    cap: u64,
    keep: usize,
}

impl RotatingFile {
    /// Opens (or creates) `path`; a file already at the cap is rotated first.
    pub fn open(path: &Path, cap: u64, keep: usize) -> io::Result<RotatingFile> {
        let file = open_private(path)?;
        let size = file.metadata()?.len();
        let mut me = RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            cap,
            keep: keep.max(1),
        };
        if me.size >= cap {
            me.rotate()?;
        }
        Ok(me)
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Two orderdecks (a cockpit, a cron `heal`) share the file. If the
        // other one rotated it already, the path names its fresh file: open
        // that rather than push it aside too.
        if self.still_at_path() {
            for n in (1..self.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    std::fs::rename(&from, self.rotated(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        self.file = open_private(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }

    #[cfg(unix)]
    fn still_at_path(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.metadata(), std::fs::metadata(&self.path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }

    #[cfg(not(unix))]
    fn still_at_path(&self) -> bool {
        self.path.exists()
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size.saturating_add(buf.len() as u64) > self.cap {
            // A rotation that fails (a read-only directory) must not lose
            // the line: it goes to the file we have.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.size = self.size.saturating_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Opens `path` for appending, created 0600; a file left wider by an older
/// version is narrowed to 0600.
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Masks passwords in every log line before it reaches the file. Sources
/// mask the URLs they know about; this catches the ones a driver or a
/// library echoes back in an error nobody thought of. The fmt layer writes
/// each event in one `write_all`, so a URL is never split across calls.
struct Masked<W>(W);

impl<W: std::io::Write> std::io::Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(crate::config::mask_secrets(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn log_lines_have_passwords_masked() {
        let mut out = Masked(Vec::new());
        out.write_all(b"WARN poll failed: error connecting to amqp://u:hunter2@mq:5672/%2f\n")
            .expect("write");
        let text = String::from_utf8(out.0).expect("utf-8");
        assert_eq!(
            text,
            "WARN poll failed: error connecting to amqp://u:***@mq:5672/%2f\n"
        );
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_log_is_private_new_or_old() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("fresh.log");
        RotatingFile::open(&fresh, 1000, 2).expect("open");
        assert_eq!(mode(&fresh), 0o600);
        // A log an older orderdeck left world-readable is narrowed.
        let old = dir.path().join("old.log");
        std::fs::write(&old, "earlier line\n").expect("write");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        RotatingFile::open(&old, 1000, 2).expect("open");
        assert_eq!(mode(&old), 0o600);
        assert_eq!(
            std::fs::read_to_string(&old).expect("read"),
            "earlier line\n"
        );
    }

    #[test]
    fn the_log_is_rotated_at_its_cap_and_old_files_are_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("orderdeck.log");
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).ok();
        let mut log = RotatingFile::open(&path, 20, 2).expect("open");
        for line in ["line one 1234567\n", "line two 1234567\n", "line 3\n"] {
            log.write_all(line.as_bytes()).expect("write");
        }
        log.write_all(b"four\n").expect("write");
        assert_eq!(read("orderdeck.log").as_deref(), Some("line 3\nfour\n"));
        assert_eq!(
            read("orderdeck.log.1").as_deref(),
            Some("line two 1234567\n")
        );
        assert_eq!(
            read("orderdeck.log.2").as_deref(),
            Some("line one 1234567\n")
        );
        log.write_all(b"fifth line 123456\n").expect("write");
        // Only two rotated files are kept: "line one" is gone.
        assert_eq!(
            read("orderdeck.log").as_deref(),
            Some("fifth line 123456\n")
        );
        assert_eq!(read("orderdeck.log.1").as_deref(), Some("line 3\nfour\n"));
        assert_eq!(
            read("orderdeck.log.2").as_deref(),
            Some("line two 1234567\n")
        );
        assert_eq!(read("orderdeck.log.3"), None);
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        // A file already over the cap at start is rotated before writing.
        drop(log);
        std::fs::write(&path, "x".repeat(25)).expect("write");
        let mut log = RotatingFile::open(&path, 20, 2).expect("open");
        log.write_all(b"new\n").expect("write");
        assert_eq!(read("orderdeck.log").as_deref(), Some("new\n"));
        assert_eq!(read("orderdeck.log.1"), Some("x".repeat(25)));
    }

    #[cfg(unix)]
    #[test]
    fn a_log_rotated_by_another_process_is_not_pushed_aside_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("orderdeck.log");
        let mut ours = RotatingFile::open(&path, 20, 3).expect("open");
        ours.write_all(b"ours 1234567890\n").expect("write");
        // The other process rotates and writes its fresh file.
        std::fs::rename(&path, dir.path().join("orderdeck.log.1")).expect("rename");
        std::fs::write(&path, "theirs\n").expect("write");
        ours.write_all(b"ours again 12345\n").expect("write");
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).ok();
        assert_eq!(
            read("orderdeck.log").as_deref(),
            Some("theirs\nours again 12345\n")
        );
        assert_eq!(
            read("orderdeck.log.1").as_deref(),
            Some("ours 1234567890\n")
        );
        assert_eq!(read("orderdeck.log.2"), None);
    }
}
