//! The look of a terminal screen: theme, colour depth and clock, resolved
//! from `--theme`, the config and what the terminal reports. Shared by the
//! cockpit and the standalone post-mortem editor.

use crate::config::{ClockMode, Config};
use crate::state::Theming;
use crate::theme::{self, ThemeSet};

/// Theme, clock and thresholds: what the cockpit takes from config and flags.
pub struct Look {
    pub theming: Theming,
    pub clock: ClockMode,
    /// One-line warnings to show once the cockpit is up (broken theme files...).
    pub warnings: Vec<String>,
}

/// Resolves the theme from `--theme`, the config, or what the terminal reports.
pub fn look(config: &Config, theme_flag: Option<&str>) -> anyhow::Result<Look> {
    let depth = theme::detect(|k| std::env::var(k).ok());
    let user_dir = crate::paths::user_theme_dir();
    let (set, mut warnings) = ThemeSet::load(user_dir.as_deref());
    let fallback =
        theme::default_theme_name(depth, std::env::var("COLORFGBG").ok().as_deref()).to_string();
    let wanted = theme_flag
        .map(str::to_string)
        .or_else(|| config.theme.clone())
        .unwrap_or(fallback);
    let mut theming = Theming {
        palette: theme::resolve(
            set.get("dark")
                .ok_or_else(|| anyhow::anyhow!("built-in dark theme missing"))?,
            depth,
        ),
        set,
        name: "dark".into(),
        depth,
    };
    if let Err(e) = theming.select(&wanted) {
        // A typo on the command line is the user's to fix now; one in the
        // config file should not keep the cockpit from starting.
        if theme_flag.is_some() {
            anyhow::bail!("--theme: {e}");
        }
        warnings.push(format!("config theme: {e}; using dark"));
    }
    Ok(Look {
        theming,
        clock: config.clock,
        warnings,
    })
}
