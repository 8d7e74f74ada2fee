//! The options several commands share (`--config`, `--env`, `--theme`,
//! `--read-only`, `--mouse`), each declared only on the commands that use it.
//!
//! They used to be clap `global` options: every subcommand's help listed
//! `--theme` and `--mouse`, and a typo such as `snapshot --bogus` got "did
//! you mean --mouse?". Now each command flattens the ones it reads, and the
//! cockpit (no subcommand) takes them all. Options written before a
//! subcommand (`orderdeck --read-only demo`, `orderdeck --config F config
//! check`) still work where that subcommand uses them; otherwise they are
//! refused with one line rather than silently ignored.

use super::{Cli, Command};
use clap::Args;
use std::path::PathBuf;

/// What the commands read, after merging: a plain struct, not a clap one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlobalOpts {
    pub config: Option<PathBuf>,
    pub env: Option<String>,
    pub theme: Option<String>,
    pub read_only: bool,
    pub mouse: bool,
}

/// The environment variable `--config` falls back to. Read here rather than
/// by clap, so that `--config` written before the subcommand beats it.
pub const CONFIG_VAR: &str = "ORDERDECK_CONFIG";

#[derive(Debug, Args, Clone, Default)]
pub struct ConfigOpt {
    /// Configuration file [env: ORDERDECK_CONFIG] [default: the user's config dir/orderdeck/config.toml]
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// `--config` for a command with subcommands (`config check`, `db migrate`,
/// `postmortem ...`): accepted before or after the subcommand's name.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigOptTree {
    /// Configuration file [env: ORDERDECK_CONFIG] [default: the user's config dir/orderdeck/config.toml]
    #[arg(long = "config", value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct EnvOpt {
    /// Environment from the config to watch
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct EnvOptTree {
    /// Environment from the config (its database_url when --database-url is not given)
    #[arg(long = "env", value_name = "NAME", global = true)]
    pub env: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ThemeOpt {
    /// Theme: dark, light, high-contrast, ansi16 or a user theme
    #[arg(long = "theme", value_name = "NAME")]
    pub theme: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ThemeOptTree {
    /// Theme of the editor: dark, light, high-contrast, ansi16 or a user theme
    #[arg(long = "theme", value_name = "NAME", global = true)]
    pub theme: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ReadOnlyOpt {
    /// Refuse every remediation (a lock badge shows the mode)
    #[arg(long = "read-only")]
    pub read_only: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct MouseOpt {
    /// Capture the mouse: wheel scrolls, click selects (off by default so the
    /// terminal's text selection works; or `mouse = true` in the config)
    #[arg(long = "mouse")]
    pub mouse: bool,
}

/// The cockpit's options, written with no subcommand or before one.
#[derive(Debug, Args, Clone, Default)]
pub struct CockpitOpts {
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
    #[command(flatten)]
    pub theme: ThemeOpt,
    #[command(flatten)]
    pub read_only: ReadOnlyOpt,
    #[command(flatten)]
    pub mouse: MouseOpt,
}

/// Which shared options a subcommand takes, and the values it was given.
#[derive(Default)]
struct Takes {
    name: &'static str,
    config: Option<Option<PathBuf>>,
    env: Option<Option<String>>,
    theme: Option<Option<String>>,
    read_only: Option<bool>,
    mouse: Option<bool>,
}

impl Command {
    fn takes(&self) -> Takes {
        let c = |o: &ConfigOpt| Some(o.config.clone());
        let e = |o: &EnvOpt| Some(o.env.clone());
        let t = |o: &ThemeOpt| Some(o.theme.clone());
        match self {
            Command::Demo(a) => Takes {
                name: "demo",
                config: c(&a.config),
                theme: t(&a.theme),
                read_only: Some(a.read_only.read_only),
                mouse: Some(a.mouse.mouse),
                ..Takes::default()
            },
            Command::Wallboard(a) => Takes {
                name: "wallboard",
                config: c(&a.config),
                env: e(&a.env),
                theme: t(&a.theme),
                mouse: Some(a.mouse.mouse),
                ..Takes::default()
            },
            Command::Snapshot(a) => Takes {
                name: "snapshot",
                config: c(&a.config),
                env: e(&a.env),
                ..Takes::default()
            },
            Command::Audit(a) => Takes {
                name: "audit",
                config: c(&a.config),
                env: e(&a.env),
                ..Takes::default()
            },
            Command::Heal(a) => Takes {
                name: "heal",
                config: c(&a.config),
                env: e(&a.env),
                read_only: Some(a.read_only.read_only),
                ..Takes::default()
            },
            Command::Requeue(a) => Takes {
                name: "requeue",
                config: c(&a.config),
                env: e(&a.env),
                read_only: Some(a.read_only.read_only),
                ..Takes::default()
            },
            Command::Remediate(a) => Takes {
                name: "remediate",
                config: c(&a.config),
                env: e(&a.env),
                read_only: Some(a.read_only.read_only),
                ..Takes::default()
            },
            Command::Config { config, .. } => Takes {
                name: "config",
                config: Some(config.config.clone()),
                ..Takes::default()
            },
            Command::Db { config, env, .. } => Takes {
                name: "db",
                config: Some(config.config.clone()),
                env: Some(env.env.clone()),
                ..Takes::default()
            },
            Command::Postmortem { config, theme, .. } => Takes {
                name: "postmortem",
                config: Some(config.config.clone()),
                theme: Some(theme.theme.clone()),
                ..Takes::default()
            },
            Command::Themes { .. } => Takes {
                name: "themes",
                ..Takes::default()
            },
            Command::Simulate(_) => Takes {
                name: "simulate",
                ..Takes::default()
            },
            Command::Broker { .. } => Takes {
                name: "broker",
                ..Takes::default()
            },
            Command::Completions { .. } => Takes {
                name: "completions",
                ..Takes::default()
            },
        }
    }
}

impl Cli {
    /// The shared options in force: the subcommand's own, else those written
    /// before it, else (`--config`) `ORDERDECK_CONFIG`. An option written
    /// before a subcommand that has no use for it is an error: silently
    /// ignoring `orderdeck --read-only snapshot` would let the user believe
    /// something the command never did.
    pub fn options(&self, get: impl Fn(&str) -> Option<String>) -> Result<GlobalOpts, String> {
        let top = &self.cockpit;
        let from_var = || {
            get(CONFIG_VAR)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let Some(cmd) = &self.command else {
            return Ok(GlobalOpts {
                config: top.config.config.clone().or_else(from_var),
                env: top.env.env.clone(),
                theme: top.theme.theme.clone(),
                read_only: top.read_only.read_only,
                mouse: top.mouse.mouse,
            });
        };
        let takes = cmd.takes();
        let refuse = |flag: &str| {
            Err(format!(
                "{flag} does not apply to `orderdeck {}` (see `orderdeck {} --help` for its options)",
                takes.name, takes.name
            ))
        };
        // `--config` is harmless where unused (it only names a file to read),
        // and scripts pass it to every command: not refused.
        if top.env.env.is_some() && takes.env.is_none() {
            return refuse("--env");
        }
        if top.theme.theme.is_some() && takes.theme.is_none() {
            return refuse("--theme");
        }
        if top.read_only.read_only && takes.read_only.is_none() {
            return refuse("--read-only");
        }
        if top.mouse.mouse && takes.mouse.is_none() {
            return refuse("--mouse");
        }
        Ok(GlobalOpts {
            config: takes
                .config
                .flatten()
                .or_else(|| top.config.config.clone())
                .or_else(from_var),
            env: takes.env.flatten().or_else(|| top.env.env.clone()),
            theme: takes.theme.flatten().or_else(|| top.theme.theme.clone()),
            read_only: takes.read_only.unwrap_or(false) || top.read_only.read_only,
            mouse: takes.mouse.unwrap_or(false) || top.mouse.mouse,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn opts(args: &[&str]) -> Result<GlobalOpts, String> {
        let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
        cli.options(|_| None)
    }

    #[test]
    fn options_before_or_after_a_subcommand_that_uses_them() {
        let g = opts(&["orderdeck", "--read-only", "demo", "--theme", "light"]).unwrap();
        assert!(g.read_only);
        assert_eq!(g.theme.as_deref(), Some("light"));
        let g = opts(&["orderdeck", "--config", "a.toml", "config", "check"]).unwrap();
        assert_eq!(g.config, Some(PathBuf::from("a.toml")));
        let g = opts(&["orderdeck", "config", "check", "--config", "b.toml"]).unwrap();
        assert_eq!(g.config, Some(PathBuf::from("b.toml")));
        let g = opts(&["orderdeck", "--env", "prod", "--read-only"]).unwrap();
        assert_eq!((g.env.as_deref(), g.read_only), (Some("prod"), true));
        let g = opts(&["orderdeck", "postmortem", "--theme", "ansi16", "list"]);
        assert_eq!(g.unwrap().theme.as_deref(), Some("ansi16"));
    }

    #[test]
    fn cockpit_options_before_a_subcommand_that_ignores_them_are_refused() {
        let e = opts(&["orderdeck", "--mouse", "snapshot"]).unwrap_err();
        assert_eq!(
            e,
            "--mouse does not apply to `orderdeck snapshot` (see `orderdeck snapshot --help` for its options)"
        );
        let e = opts(&["orderdeck", "--theme", "dark", "heal"]).unwrap_err();
        assert!(
            e.starts_with("--theme does not apply to `orderdeck heal`"),
            "{e}"
        );
    }

    #[test]
    fn the_config_variable_is_the_last_resort() {
        let cli = Cli::try_parse_from(["orderdeck", "snapshot"]).unwrap();
        let g = cli
            .options(|k| (k == CONFIG_VAR).then(|| "env.toml".to_string()))
            .unwrap();
        assert_eq!(g.config, Some(PathBuf::from("env.toml")));
        let cli = Cli::try_parse_from(["orderdeck", "--config", "flag.toml", "snapshot"]).unwrap();
        let g = cli
            .options(|k| (k == CONFIG_VAR).then(|| "env.toml".to_string()))
            .unwrap();
        assert_eq!(g.config, Some(PathBuf::from("flag.toml")));
    }

    /// Each subcommand's help lists only what it uses; a typo is no longer
    /// answered with a cockpit option.
    #[test]
    fn subcommand_help_lists_only_its_own_options() {
        let mut cmd = Cli::command();
        let help = |cmd: &mut clap::Command, name: &str| {
            cmd.find_subcommand_mut(name)
                .map(|c| c.render_long_help().to_string())
                .unwrap_or_default()
        };
        let snapshot = help(&mut cmd, "snapshot");
        for absent in ["--theme", "--mouse", "--read-only"] {
            assert!(
                !snapshot.contains(absent),
                "snapshot help has {absent}:\n{snapshot}"
            );
        }
        assert!(
            snapshot.contains("--env") && snapshot.contains("--config"),
            "{snapshot}"
        );
        let simulate = help(&mut cmd, "simulate");
        for absent in [
            "--theme",
            "--mouse",
            "--read-only",
            "--env <NAME>",
            "--config",
        ] {
            assert!(!simulate.contains(absent), "simulate help has {absent}");
        }
        let e = Cli::try_parse_from(["orderdeck", "snapshot", "--bogus"])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("--mouse"), "{e}");
    }
}
