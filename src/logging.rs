//! Logs go to a file, never to the screen while the TUI is up.

use std::path::PathBuf;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

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
    let Ok(handle) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    else {
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
}
