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
        .with_writer(writer)
        .try_init()
        .is_ok();
    if installed {
        (Some(file), Some(guard))
    } else {
        (None, None)
    }
}
