//! Where orderdeck keeps its files, per the platform's conventions
//! (XDG on Linux): config and themes in the config dir, logs and autosaves in
//! the state/data dir.

use directories::ProjectDirs;
use std::path::PathBuf;

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "orderdeck")
}

/// `~/.config/orderdeck/config.toml` on Linux.
pub fn default_config_path() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join("config.toml"))
}

/// User themes add to the built-in ones: `~/.config/orderdeck/themes`.
pub fn user_theme_dir() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join("themes"))
}

/// Logs go here: `~/.local/state/orderdeck`. macOS and Windows have no state
/// dir, so they fall back to the data dir.
pub fn state_dir() -> Option<PathBuf> {
    project().map(|p| {
        p.state_dir()
            .map(|d| d.to_path_buf())
            .unwrap_or_else(|| p.data_local_dir().to_path_buf())
    })
}

/// Drafts and the local audit trail: `~/.local/share/orderdeck`.
pub fn data_dir() -> Option<PathBuf> {
    project().map(|p| p.data_dir().to_path_buf())
}

/// The user's runbook when the config names none: `~/.config/orderdeck/runbook.toml`.
pub fn default_runbook_path() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join("runbook.toml"))
}

/// The local append-only remediation audit: `~/.local/share/orderdeck/audit.jsonl`.
pub fn audit_log_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("audit.jsonl"))
}

/// What the cockpit saw per incident, one JSONL file each, for postmortems.
pub fn incidents_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("incidents"))
}
