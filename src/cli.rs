//! The command line.

use crate::simulate::args::{Chaos, parse_duration, parse_percent, parse_rate, parse_span};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

mod opts;
pub use opts::{
    CONFIG_VAR, CockpitOpts, ConfigOpt, ConfigOptTree, EnvOpt, EnvOptTree, GlobalOpts, MouseOpt,
    ReadOnlyOpt, ThemeOpt, ThemeOptTree,
};

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
    /// The cockpit's options; also accepted before a subcommand that uses
    /// them (see [`Cli::options`]).
    #[command(flatten)]
    pub cockpit: CockpitOpts,
    #[command(subcommand)]
    pub command: Option<Command>,
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
        #[command(flatten)]
        config: ConfigOptTree,
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The order database
    Db {
        #[command(flatten)]
        config: ConfigOptTree,
        #[command(flatten)]
        env: EnvOptTree,
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The war-room wall screen: big numbers that turn amber and red, read-only
    #[command(long_about = WALLBOARD_ABOUT, after_help = WALLBOARD_EXAMPLES)]
    Wallboard(WallboardArgs),
    /// One poll of every source, printed for scripts and war-room chat
    Snapshot(SnapshotArgs),
    /// Retry or cancel zombie orders in bulk (the cockpit's H), for cron and scripts
    #[command(after_help = REMEDY_HELP)]
    Heal(HealArgs),
    /// Move dead letters from QUEUE.dlq back to QUEUE (the cockpit's d)
    #[command(after_help = REMEDY_HELP)]
    Requeue(RequeueArgs),
    /// Run one runbook remediation on one order (release_lock, cancel_and_notify, ...)
    #[command(after_help = REMEDY_HELP)]
    Remediate(RemediateArgs),
    /// List the remediation audit trail
    Audit(AuditArgs),
    /// Real order traffic with chaos into a database and RabbitMQ (a chaos drill)
    #[command(long_about = SIMULATE_ABOUT, after_help = SIMULATE_EXAMPLES)]
    Simulate(SimulateArgs),
    /// RabbitMQ topology
    Broker {
        #[command(subcommand)]
        command: BrokerCommand,
    },
    /// Postmortem drafts: the guided 5-Whys editor, exports, Confluence
    Postmortem {
        #[command(flatten)]
        config: ConfigOptTree,
        #[command(flatten)]
        theme: ThemeOptTree,
        #[command(subcommand)]
        command: crate::postmortem::command::PostmortemCommand,
    },
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
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub theme: ThemeOpt,
    #[command(flatten)]
    pub read_only: ReadOnlyOpt,
    #[command(flatten)]
    pub mouse: MouseOpt,
}

const WALLBOARD_ABOUT: &str = "\
The environment's numbers for a screen on the war-room wall: stuck orders per
family and the money they hold up, the queue backlog with sparklines and time
to drain, the active alerts, and the time since the last anomaly. Numbers
turn amber and red at the [thresholds] and [alerts.stuck_above] of the
config. On a large terminal (e.g. 300x80) they are drawn in big digits; at
80x24 every number is still there, in plain text.

It is always read-only: every remediation key (u r c y x d H) is refused on
one line and the refusal is audited, whatever --read-only and the config
say. No key is needed to keep it running; when a source goes down its last
data stays up and its age is shown in big type (\"stale 2m13s\").

Pages: overview (everything), orders, queues, alerts. Tab and Shift-Tab
flip them by hand. --rotate SECONDS moves to the next page every SECONDS,
so a screen too small for big type on the overview shows each subject in
big type in turn. One wallboard watches one environment (--env); run one
per environment to rotate a wall of screens.

Theme: high-contrast unless --theme is given. Keys: q quits, Tab pages,
t theme, z UTC/local, ? help. `w` in the cockpit opens the same view
(and `w` or Esc goes back).";

const WALLBOARD_EXAMPLES: &str = "\
Examples:
  orderdeck wallboard --env prod
  orderdeck wallboard --env prod --rotate 15
  ORDERDECK_DATABASE_URL=sqlite:///tmp/demo.db orderdeck wallboard   (a demo's --db file)";

#[derive(Debug, Args, Clone)]
pub struct WallboardArgs {
    /// Move to the next page (overview, orders, queues, alerts) every SECONDS (2 to 3600)
    #[arg(long, value_name = "SECONDS", value_parser = parse_rotate)]
    pub rotate: Option<u32>,
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
    #[command(flatten)]
    pub theme: ThemeOpt,
    #[command(flatten)]
    pub mouse: MouseOpt,
}

fn parse_rotate(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of seconds (try 15)"))?;
    if (2..=3600).contains(&v) {
        Ok(v)
    } else {
        Err(format!("--rotate {v} is out of range (2 to 3600 seconds)"))
    }
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

const SIMULATE_ABOUT: &str = "\
Places real orders and runs real consumers: each step of an order's life is
a message published (with publisher confirms) to the reference RabbitMQ
topology, declared first, and consumers apply it to the database's reference
schema, events and views included. Chaos profiles break it the way real
incidents do, so the cockpit's rules find ghost, split-personality and zombie
orders by their real causes.

This writes real rows and messages: point it at a staging or test database
and broker, never production.

Chaos profiles (comma-separated):
  consumer-down[:QUEUE]
      the logistics.updates (or QUEUE) consumers stop from 15% to 65% of the
      run: the queue backs up, the app says delivered while logistics says
      in transit, settlement waits
  bank-500
      30% of payment callbacks fail (the issuing bank answers 500): they are
      dead-lettered into payment.callback.dlq, the orders stay pending_review
  deadlock
      a flash sale on one SKU while a job keeps its stock row and locks
      locked: inventory syncs time out and are retried or dead-lettered
      (paid, never synced), lock releases time out (expired locks still
      held); PostgreSQL and MySQL/MariaDB only
  erp-cert-expired
      a third of the way in, the ERP link's certificate expires: work orders
      are never acknowledged and orders stay in processing
  risk-false-positive
      risk control holds orders whose buyer IP changed between checkout and
      payment (hold_reason = risk)

Backdating: the rules' thresholds are minutes to a day, so --backdate writes
that share of orders (default 30%) with their whole history 1 to 50 hours in
the past, and their anomalies show in the cockpit at once. --backdate 0
writes everything at the wall-clock time.

Stops by itself after --duration (or on Ctrl-C), printing a progress line
every 5 s on stderr and a summary on stdout.";

const SIMULATE_EXAMPLES: &str = "\
Examples:
  orderdeck db migrate --database-url postgres://app@staging-db/shop
  orderdeck simulate --database-url postgres://app@staging-db/shop \\
      --amqp-url amqp://drill:secret@staging-mq:5672/%2f --chaos bank-500,consumer-down
  orderdeck simulate --rate 20 --duration 90s --chaos deadlock,erp-cert-expired --seed 7

Exit codes: 0 ok, 1 the run failed, 2 bad usage or no reference schema, 3 database or broker unreachable.";

#[derive(Debug, Args, Clone)]
pub struct SimulateArgs {
    /// Database with the reference schema: postgres://, mysql://, mariadb:// or sqlite://
    #[arg(
        long,
        value_name = "URL",
        env = "ORDERDECK_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: String,
    /// RabbitMQ, e.g. amqp://user:password@host:5672/%2f
    #[arg(
        long,
        value_name = "URL",
        env = "ORDERDECK_AMQP_URL",
        hide_env_values = true
    )]
    pub amqp_url: String,
    /// New orders per second (0.1 to 200)
    #[arg(long, value_name = "N", default_value = "5", value_parser = parse_rate)]
    pub rate: f64,
    /// How long to run, e.g. 90s, 10m, 1h (1s to 2h)
    #[arg(long, value_name = "D", default_value = "5m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Chaos profiles, comma-separated: consumer-down[:QUEUE], bank-500, deadlock, erp-cert-expired, risk-false-positive
    #[arg(long, value_name = "PROFILES", value_delimiter = ',')]
    pub chaos: Vec<Chaos>,
    /// Seed of the random choices [default: from the clock; the summary prints it]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Percent of orders written 1 to 50 hours in the past, so anomalies show at once (0 to 100)
    #[arg(long, value_name = "PERCENT", default_value = "30", value_parser = parse_percent)]
    pub backdate: f64,
}

#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Declare the reference topology: exchanges orders and orders.dlx, six durable work
    /// queues and their .dlq queues (idempotent)
    Declare {
        /// RabbitMQ, e.g. amqp://user:password@host:5672/%2f
        #[arg(
            long,
            value_name = "URL",
            env = "ORDERDECK_AMQP_URL",
            hide_env_values = true
        )]
        amqp_url: String,
    },
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
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
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
        let global = cli.options(|_| None).unwrap();
        assert!(global.read_only);
        assert_eq!(global.theme.as_deref(), Some("light"));
    }

    #[test]
    fn simulate_options_have_defaults_and_bounds() {
        let base = [
            "orderdeck",
            "simulate",
            "--database-url",
            "sqlite://x.db",
            "--amqp-url",
            "amqp://h",
        ];
        let parse = |more: &[&str]| Cli::try_parse_from(base.iter().chain(more));
        match parse(&[]).unwrap().command {
            Some(Command::Simulate(a)) => {
                assert_eq!(a.rate, 5.0);
                assert_eq!(a.duration, Duration::from_secs(300));
                assert!(a.chaos.is_empty());
                assert_eq!(a.backdate, 0.3);
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = parse(&[
            "--chaos",
            "bank-500,consumer-down:settlement",
            "--duration",
            "90s",
            "--rate",
            "20",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Simulate(a)) => {
                assert_eq!(
                    a.chaos,
                    vec![Chaos::Bank500, Chaos::ConsumerDown("settlement")]
                );
                assert_eq!(a.duration, Duration::from_secs(90));
            }
            other => panic!("parsed as {other:?}"),
        }
        for bad in [
            ["--rate", "500"],
            ["--duration", "3h"],
            ["--chaos", "bank-404"],
            ["--backdate", "150"],
        ] {
            let e = parse(&bad).unwrap_err().to_string();
            assert!(
                e.contains("out of range") || e.contains("unknown chaos profile"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn wallboard_takes_rotate_and_global_options_after_it() {
        let cli = Cli::try_parse_from([
            "orderdeck",
            "wallboard",
            "--rotate",
            "15",
            "--env",
            "prod",
            "--theme",
            "dark",
        ])
        .unwrap();
        let global = cli.options(|_| None).unwrap();
        assert_eq!(global.env.as_deref(), Some("prod"));
        assert_eq!(global.theme.as_deref(), Some("dark"));
        match cli.command {
            Some(Command::Wallboard(a)) => assert_eq!(a.rotate, Some(15)),
            other => panic!("parsed as {other:?}"),
        }
        for bad in ["0", "1", "3601", "soon"] {
            let e = Cli::try_parse_from(["orderdeck", "wallboard", "--rotate", bad])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("out of range") || e.contains("whole number"),
                "{bad}: {e}"
            );
        }
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

const REMEDY_HELP: &str = "\
Every run prints its preview (the exact SQL with bound values and the messages to
publish), asks on a terminal (bulk runs ask for the count to be typed), runs in one
guarded transaction with publisher confirms, and is audited (remediation_audit and
the local audit.jsonl), whatever the outcome. Without a terminal, --yes is required.
Read-only environments (--read-only, read_only = true) refuse and audit the refusal.

Exit codes: 0 done, nothing to do, or dry run; 1 failed, refused or not confirmed;
2 bad usage or config; 3 a source unreachable.";

/// Options every headless remediation takes.
#[derive(Debug, Args, Clone)]
pub struct ConfirmArgs {
    /// Show the preview and audit a dry run; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask (required without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args, Clone)]
pub struct HealArgs {
    /// Zombie orders in processing for longer than this
    #[arg(long, default_value = "24h", value_parser = parse_span, value_name = "DURATION")]
    pub older_than: Duration,
    /// Most orders healed in one run
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u32,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
    #[command(flatten)]
    pub read_only: ReadOnlyOpt,
}

#[derive(Debug, Args, Clone)]
pub struct RequeueArgs {
    /// The work queue; dead letters come from QUEUE.dlq
    pub queue: String,
    /// Most messages moved
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u64,
    /// Only messages whose body or headers contain this text
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
    #[command(flatten)]
    pub read_only: ReadOnlyOpt,
}

#[derive(Debug, Args, Clone)]
pub struct RemediateArgs {
    /// A remediation id of the runbook
    pub action: String,
    /// The order number
    pub order_no: String,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
    #[command(flatten)]
    pub read_only: ReadOnlyOpt,
}

#[derive(Debug, Args, Clone)]
pub struct AuditArgs {
    /// Only attempts from the last DURATION (e.g. 24h) or since an RFC 3339 time
    #[arg(long, default_value = "7d", value_name = "DURATION|TIME")]
    pub since: String,
    #[arg(long, value_enum, default_value_t = SnapshotFormat::Table)]
    pub format: SnapshotFormat,
    /// Read the local audit.jsonl instead of the database's remediation_audit
    #[arg(long)]
    pub local: bool,
    #[command(flatten)]
    pub config: ConfigOpt,
    #[command(flatten)]
    pub env: EnvOpt,
}
