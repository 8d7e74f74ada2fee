use clap::{CommandFactory, Parser};
use orderdeck::cli::{
    BrokerCommand, Cli, Command, ConfigCommand, DemoArgs, GlobalOpts, ThemesCommand,
};
use orderdeck::cockpit::{self, RunSpec, Sources};
use orderdeck::config::{self, Config};
use orderdeck::runbook::Runbook;
use orderdeck::sources::sim::{self, SimBroker, SimConfig};
use orderdeck::sources::sqlite::SqliteStore;
use orderdeck::state::{DemoInfo, EnvInfo};
use orderdeck::{logging, paths, terminal, theme};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A failure with the exit code the README documents.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    fn unreachable(message: impl Into<String>) -> Self {
        Failure {
            code: 3,
            message: message.into(),
        }
    }
}

impl From<orderdeck::simulate::SimError> for Failure {
    fn from(e: orderdeck::simulate::SimError) -> Self {
        Failure {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            code: 1,
            message: format!("{e:#}"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (log_file, _log_guard) = logging::init();
    terminal::install_panic_hook(log_file);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("orderdeck: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("orderdeck: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let global = cli.global;
    match cli.command {
        None => run_configured(&global).await,
        Some(Command::Demo(args)) => run_demo(&global, args).await,
        Some(Command::Themes {
            command: ThemesCommand::List,
        }) => {
            list_themes();
            Ok(())
        }
        Some(Command::Config {
            command: ConfigCommand::Init { force },
        }) => {
            let path = config_path(&global)?;
            let written = config::init(&path, force).map_err(|e| Failure::usage(e.to_string()))?;
            println!("wrote {}", written.display());
            println!("edit it, then check it with: orderdeck config check");
            Ok(())
        }
        Some(Command::Config {
            command: ConfigCommand::Check { path },
        }) => {
            let path = match path {
                Some(p) => p,
                None => config_path(&global)?,
            };
            let cfg = config::load(&path).map_err(|e| Failure::usage(e.to_string()))?;
            if let Some(w) = config::permission_warning(&path) {
                eprintln!("warning: {w}");
            }
            println!(
                "{}: ok ({} environment{})",
                path.display(),
                cfg.env.len(),
                if cfg.env.len() == 1 { "" } else { "s" }
            );
            Ok(())
        }
        Some(Command::Simulate(args)) => Ok(orderdeck::simulate::command::simulate(&args).await?),
        Some(Command::Broker {
            command: BrokerCommand::Declare { amqp_url },
        }) => Ok(orderdeck::simulate::command::broker_declare(&amqp_url).await?),
        Some(Command::Completions { shell }) => {
            // Generated into memory first: clap_complete panics when stdout
            // is closed early (`orderdeck completions bash | head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "orderdeck", &mut script);
            write_stdout(&script)
        }
    }
}

/// Writes command output; a reader that went away (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::from(anyhow::anyhow!(
            "writing to stdout failed: {e}"
        ))),
    }
}

fn config_path(global: &GlobalOpts) -> Result<std::path::PathBuf, Failure> {
    global
        .config
        .clone()
        .or_else(paths::default_config_path)
        .ok_or_else(|| {
            Failure::usage(
                "cannot tell where the config directory is (no HOME?): pass --config PATH",
            )
        })
}

/// The config named by `--config`, else the default file, else defaults.
fn load_config(global: &GlobalOpts) -> Result<Config, Failure> {
    match &global.config {
        Some(p) => config::load(p).map_err(|e| Failure::usage(e.to_string())),
        None => match config::load_default() {
            Ok(Some((_, cfg))) => Ok(cfg),
            Ok(None) => Ok(Config::default()),
            Err(e) => Err(Failure::usage(e.to_string())),
        },
    }
}

fn list_themes() {
    let (set, warnings) = theme::ThemeSet::load(paths::user_theme_dir().as_deref());
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let depth = theme::detect(|k| std::env::var(k).ok());
    let default = theme::default_theme_name(depth, std::env::var("COLORFGBG").ok().as_deref());
    for name in set.names() {
        let desc = set
            .get(name)
            .map(|t| t.description.clone())
            .unwrap_or_default();
        let mark = if name == default { "*" } else { " " };
        println!("{mark} {name:<16} {desc}");
    }
    println!("(* = default for this terminal, colour depth {depth:?})");
}

async fn run_demo(global: &GlobalOpts, args: DemoArgs) -> Result<(), Failure> {
    let config = load_config(global)?;
    let look = cockpit::look(&config, global.theme.as_deref())
        .map_err(|e| Failure::usage(format!("{e:#}")))?;
    let _tmp;
    let db_path = match &args.db {
        Some(p) => p.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("orderdeck-demo-")
                .tempdir()
                .map_err(|e| {
                    Failure::from(anyhow::anyhow!(
                        "could not create a temporary directory for the demo database: {e}"
                    ))
                })?;
            let p = dir.path().join("demo.db");
            _tmp = dir;
            p
        }
    };
    let db_str = db_path.to_string_lossy().to_string();
    let store = SqliteStore::open(&db_str, true)
        .await
        .map_err(|e| Failure::usage(format!("demo database {db_str}: {e}")))?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::usage(format!("demo database {db_str}: {e}")))?;
    let cancel = CancellationToken::new();
    let sim_cfg = SimConfig {
        seed: args.seed,
        speed: args.speed,
        order_rate_per_sec: 2.0,
    };
    let (broker, clock, sim_task) = sim::start(store.pool().clone(), sim_cfg, cancel.clone())
        .await
        .map_err(|e| Failure::from(anyhow::anyhow!("demo simulator: {e}")))?;
    let spec = RunSpec {
        env: EnvInfo {
            name: "demo".into(),
            demo: Some(DemoInfo {
                seed: args.seed,
                speed: args.speed,
            }),
            read_only: global.read_only,
        },
        look,
        config,
        runbook: Runbook::builtin(),
    };
    let sources = Sources {
        store: Some(Arc::new(store)),
        monitor: Some(Arc::new(broker)),
        clock,
    };
    let result = cockpit::run(spec, sources, cancel.clone()).await;
    cancel.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sim_task).await;
    result.map_err(Failure::from)
}

async fn run_configured(global: &GlobalOpts) -> Result<(), Failure> {
    let config = load_config(global)?;
    let env = config
        .resolve_env(global.env.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let Some(url) = env.database_url.clone() else {
        return Err(Failure::usage(format!(
            "environment {:?} has no database_url: set one in the config (orderdeck config init) or ORDERDECK_DATABASE_URL, or try `orderdeck demo`",
            env.name
        )));
    };
    if !(url.starts_with("sqlite:")) {
        return Err(Failure::usage(format!(
            "environment {:?}: {} databases are not supported by this build yet; use a sqlite:// database_url or try `orderdeck demo`",
            env.name,
            url.split(':').next().unwrap_or("this kind of")
        )));
    }
    let look = cockpit::look(&config, global.theme.as_deref())
        .map_err(|e| Failure::usage(format!("{e:#}")))?;
    let mut look = look;
    if env.amqp_url.is_some() {
        look.warnings.insert(
            0,
            "amqp_url is set, but this build has no RabbitMQ source yet: queue pane disabled"
                .into(),
        );
    }
    let store = SqliteStore::open(&url, false).await.map_err(|e| {
        Failure::unreachable(format!("database {}: {e}", config::mask_secrets(&url)))
    })?;
    let spec = RunSpec {
        env: EnvInfo {
            name: env.name.clone(),
            demo: None,
            read_only: global.read_only || env.read_only,
        },
        look,
        config,
        runbook: Runbook::builtin(),
    };
    let sources: Sources<SqliteStore, SimBroker> = Sources {
        store: Some(Arc::new(store)),
        monitor: None,
        clock: orderdeck::sources::wall_clock(),
    };
    cockpit::run(spec, sources, CancellationToken::new())
        .await
        .map_err(Failure::from)
}
