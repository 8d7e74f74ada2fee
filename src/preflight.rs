//! `orderdeck config check`: every file the cockpit reads at start (the
//! config, the runbook it names or the one beside it, the user's themes)
//! checked in one go, before an incident rather than during one. The
//! cockpit itself starts with a broken runbook or theme (built-ins, plus a
//! warning); the check is where such files fail, with exit code 2.

use crate::config::{self, Config};
use crate::runbook::Runbook;
use crate::theme::ThemeSet;
use std::path::Path;

/// What the check found in files that loaded at all.
pub struct Checked {
    pub config: Config,
    /// Files the cockpit would fall back from: one line each, naming the
    /// file and, where the file has lines, the line.
    pub problems: Vec<String>,
    /// Worth fixing, not wrong: a config with passwords others can read.
    pub warnings: Vec<String>,
}

/// Checks the config at `config_path` and what it pulls in. `Err` is the
/// config's own one-line error: nothing else can be checked without it.
pub fn check(config_path: &Path, theme_dir: Option<&Path>) -> Result<Checked, String> {
    let config = config::load(config_path).map_err(|e| e.to_string())?;
    let warnings = config::permission_warning(config_path)
        .into_iter()
        .collect();
    let mut problems = Vec::new();
    // The same choice `Runbook::with_user_file` makes: a named runbook must
    // exist, the one beside the config only counts when it is there.
    let runbook = config.runbook.clone().or_else(|| {
        config_path
            .parent()
            .map(|d| d.join("runbook.toml"))
            .filter(|p| p.exists())
    });
    if let Some(path) = runbook
        && let Err(e) = Runbook::load_file(&path)
    {
        problems.push(e);
    }
    let (_, theme_problems) = ThemeSet::load(theme_dir);
    problems.extend(theme_problems);
    Ok(Checked {
        config,
        problems,
        warnings,
    })
}
