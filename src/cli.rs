//! The command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  orderdeck demo                        the cockpit on a simulated incident (no services needed)
  orderdeck demo --seed 7 --speed 10    another incident, ten times faster
  orderdeck --env prod --read-only      watch production without being able to change it
  orderdeck config init                 write a commented config to edit
  orderdeck config check                validate the config (exit 2 on errors)
  orderdeck db migrate --database-url postgres://postgres@127.0.0.1/test
  orderdeck snapshot --env prod --format json --fail-on-anomaly
  orderdeck themes list                 the themes you can pick with --theme or `t`
  orderdeck completions bash > /etc/bash_completion.d/orderdeck

Keys in the cockpit: ? help, : commands, / filter, Tab panes, q quit.
Exit codes: 0 ok, 1 anomalies found or action failed, 2 bad usage/config/input, 3 a source unreachable.";

#[derive(Debug, Parser)]
#[command(
    name = "orderdeck",
    version,
    about = "Terminal incident cockpit for consignment e-commerce orders",
    long_about = "orderdeck watches queue backlog and stuck orders (ghost, split-personality and \
zombie orders) live, shows each order's event timeline across systems, and works over SSH \
inside tmux at 80x24 and up.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalOpts {
    /// Configuration file [default: the user's config dir/orderdeck/config.toml]
    #[arg(long, global = true, value_name = "PATH", env = "ORDERDECK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Environment from the config to watch
    #[arg(long, global = true, value_name = "NAME")]
    pub env: Option<String>,
    /// Theme: dark, light, high-contrast, ansi16 or a user theme
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Refuse every remediation (a lock badge shows the mode)
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The cockpit on an embedded SQLite database fed by a simulated incident
    Demo(DemoArgs),
    /// Themes
    Themes {
        #[command(subcommand)]
        command: ThemesCommand,
    },
    /// Configuration file
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The order database
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// One poll of every source, printed for scripts and war-room chat
    Snapshot(SnapshotArgs),
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Seed for the simulated world: the same seed gives the same incident
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Simulated seconds per real second
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Keep the demo database in this file instead of a temporary one
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number (try 1, 10 or 0.5)"))?;
    if v.is_finite() && (0.1..=1000.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("speed {v} is out of range (0.1 to 1000)"))
    }
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply the reference schema (idempotent; tracked in _orderdeck_migrations)
    Migrate {
        /// postgres://, mysql://, mariadb:// or sqlite:// [default: the environment's database_url]
        #[arg(
            long,
            value_name = "URL",
            env = "ORDERDECK_DATABASE_URL",
            hide_env_values = true
        )]
        database_url: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnapshotFormat {
    /// Aligned tables for a terminal or a chat message
    Table,
    /// One JSON document for scripts
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct SnapshotArgs {
    #[arg(long, value_enum, default_value_t = SnapshotFormat::Table)]
    pub format: SnapshotFormat,
    /// Exit 1 when anything is stuck, dead-lettered or unconsumed
    #[arg(long)]
    pub fail_on_anomaly: bool,
    /// Stuck orders listed (the counts always cover all of them)
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Subcommand)]
pub enum ThemesCommand {
    /// List built-in and user themes
    List,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented default config to the user's config directory
    Init {
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Validate a config file (default: the one orderdeck would use)
    Check { path: Option<PathBuf> },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["orderdeck", "demo", "--read-only", "--theme", "light"]).unwrap();
        assert!(cli.global.read_only);
        assert_eq!(cli.global.theme.as_deref(), Some("light"));
    }

    #[test]
    fn speed_is_validated() {
        assert!(Cli::try_parse_from(["orderdeck", "demo", "--speed", "0"]).is_err());
        assert!(Cli::try_parse_from(["orderdeck", "demo", "--speed", "fast"]).is_err());
        let cli =
            Cli::try_parse_from(["orderdeck", "demo", "--speed", "10", "--seed", "7"]).unwrap();
        match cli.command {
            Some(Command::Demo(d)) => assert_eq!((d.seed, d.speed), (7, 10.0)),
            other => panic!("parsed as {other:?}"),
        }
    }
}
