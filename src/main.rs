use clap::{CommandFactory, Parser};
use orderdeck::cli::{AuditArgs, ConfirmArgs, RemediateArgs};
use orderdeck::cli::{
    BrokerCommand, Cli, Command, ConfigCommand, DbCommand, DemoArgs, GlobalOpts, SnapshotArgs,
    SnapshotFormat, ThemesCommand,
};
use orderdeck::cockpit::{self, RunSpec, Sources};
use orderdeck::config::{self, Config};
use orderdeck::remedy::audit::{Actor, AuditLog};
use orderdeck::remedy::broker::{AmqpBroker, Broker, RequeueRequest};
use orderdeck::remedy::{Engine, Request, headless};
use orderdeck::runbook::Runbook;
use orderdeck::sources::OrderStore;
use orderdeck::sources::amqp::{RabbitMonitor, RabbitSettings};
use orderdeck::sources::sim::{self, SimConfig};
use orderdeck::sources::sqlite::SqliteStore;
use orderdeck::sources::store::{AnyStore, Open};
use orderdeck::state::{DemoInfo, EnvInfo};
use orderdeck::{logging, paths, terminal, theme};
use std::path::{Path, PathBuf};
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
            // The last line of defence: every failure is masked once more.
            eprintln!("orderdeck: {}", config::mask_secrets(&f.message));
            ExitCode::from(f.code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let global = cli
        .options(|k| std::env::var(k).ok())
        .map_err(Failure::usage)?;
    match cli.command {
        None => run_configured(&global, None).await,
        Some(Command::Wallboard(args)) => {
            let start = orderdeck::state::wallboard::Start {
                rotate_secs: args.rotate,
            };
            run_configured(&global, Some(start)).await
        }
        Some(Command::Demo(args)) => run_demo(&global, args).await,
        Some(Command::Db {
            command: DbCommand::Migrate { database_url },
            ..
        }) => migrate(&global, database_url).await,
        Some(Command::Snapshot(args)) => snapshot(&global, args).await,
        Some(Command::Heal(args)) => {
            let request = Request::Heal {
                older_than: chrono::Duration::from_std(args.older_than)
                    .map_err(|_| Failure::usage("--older-than is too large"))?,
                limit: args.limit,
            };
            remedy_headless(&global, request, &args.confirm).await
        }
        Some(Command::Requeue(args)) => {
            let queue = args.queue.trim().trim_end_matches(".dlq").to_string();
            // Before the engine: a name AMQP cannot carry is a typo to fix,
            // not an attempt to audit.
            config::check_queue_name(&queue).map_err(|why| {
                Failure::usage(format!(
                    "requeue: queue \"{}\" {why}",
                    orderdeck::sanitize::sanitize_capped(&queue, 40)
                ))
            })?;
            let request = Request::Requeue(RequeueRequest {
                queue,
                limit: args.limit,
                filter: args.filter.filter(|f| !f.is_empty()),
            });
            remedy_headless(&global, request, &args.confirm).await
        }
        Some(Command::Remediate(args)) => remediate(&global, args).await,
        Some(Command::Audit(args)) => audit(&global, args).await,
        Some(Command::Themes {
            command: ThemesCommand::List,
        }) => {
            list_themes();
            Ok(())
        }
        Some(Command::Config {
            command: ConfigCommand::Init { force },
            ..
        }) => {
            let path = config_path(&global)?;
            let written = config::init(&path, force).map_err(|e| Failure::usage(e.to_string()))?;
            orderdeck::outln!("wrote {}", written.display());
            orderdeck::outln!("edit it, then check it with: orderdeck config check");
            Ok(())
        }
        Some(Command::Config {
            command: ConfigCommand::Check { path },
            ..
        }) => {
            let path = match path {
                Some(p) => p,
                None => config_path(&global)?,
            };
            let checked = orderdeck::preflight::check(&path, paths::user_theme_dir().as_deref())
                .map_err(Failure::usage)?;
            for w in &checked.warnings {
                eprintln!("warning: {w}");
            }
            if let Some((last, rest)) = checked.problems.split_last() {
                for p in rest {
                    eprintln!("orderdeck: {p}");
                }
                return Err(Failure::usage(last.clone()));
            }
            let cfg = checked.config;
            if cfg.env.is_empty() {
                // "ok (0 environments)" left the reader to guess what that means.
                orderdeck::outln!(
                    "{}: ok, but it defines no environments: only `orderdeck demo` has something \
to watch, unless ORDERDECK_DATABASE_URL / ORDERDECK_AMQP_URL are set. Add an [env.NAME] \
section with database_url and amqp_url to watch a real system (`orderdeck config init \
--config NEW.toml` writes a commented example).",
                    path.display()
                );
            } else {
                orderdeck::outln!(
                    "{}: ok ({} environment{})",
                    path.display(),
                    cfg.env.len(),
                    if cfg.env.len() == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
        Some(Command::Simulate(args)) => Ok(orderdeck::simulate::command::simulate(&args).await?),
        Some(Command::Broker {
            command: BrokerCommand::Declare { amqp_url },
        }) => Ok(orderdeck::simulate::command::broker_declare(&amqp_url).await?),
        Some(Command::Postmortem { command, .. }) => orderdeck::postmortem::command::command(
            command,
            global.config.as_deref(),
            global.theme.as_deref(),
        )
        .await
        .map_err(|e| Failure {
            code: e.code,
            message: e.message,
        }),
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

/// The bindings in force (the config was checked when loaded, so this only
/// fails for a config built some other way).
fn keymap(config: &Config) -> Result<orderdeck::state::keys::Keymap, Failure> {
    config.keymap().map_err(|e| Failure::usage(e.message))
}

/// The config named by `--config`, else the default file, else defaults.
fn load_config(global: &GlobalOpts) -> Result<Config, Failure> {
    load_config_at(global).map(|(_, c)| c)
}

/// The config and the file it came from (`None`: no file, defaults).
fn load_config_at(global: &GlobalOpts) -> Result<(Option<PathBuf>, Config), Failure> {
    let loaded = match &global.config {
        Some(p) => config::load(p)
            .map(|c| (Some(p.clone()), c))
            .map_err(|e| Failure::usage(e.to_string())),
        None => match config::load_default() {
            Ok(Some((p, cfg))) => Ok((Some(p), cfg)),
            Ok(None) => Ok((None, Config::default())),
            Err(e) => Err(Failure::usage(e.to_string())),
        },
    }?;
    // Every command that reads the config says so, not only `config check`.
    if let Some(w) = loaded.0.as_deref().and_then(config::permission_warning) {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}

/// The built-in runbook with the user's merged over it: the config's
/// `runbook`, else `runbook.toml` next to the config file.
fn load_runbook(config_path: Option<&Path>, config: &Config) -> (Runbook, Option<String>) {
    let fallback = match config_path {
        Some(p) => p.parent().map(|d| d.join("runbook.toml")),
        None => paths::default_runbook_path(),
    };
    Runbook::with_user_file(config.runbook.as_deref(), fallback.as_deref())
}

/// The environment named by `--env` (or the default), after ORDERDECK_* overrides.
fn resolve_env(global: &GlobalOpts, config: &Config) -> Result<config::ResolvedEnv, Failure> {
    config
        .resolve_env(global.env.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| Failure::usage(e.to_string()))
}

async fn migrate(global: &GlobalOpts, database_url: Option<String>) -> Result<(), Failure> {
    let url = match database_url.filter(|u| !u.trim().is_empty()) {
        Some(u) => u,
        None => {
            let config = load_config(global)?;
            let env = resolve_env(global, &config)?;
            env.database_url.ok_or_else(|| {
                Failure::usage(format!(
                    "no database to migrate: pass --database-url URL or set database_url in [env.{}]",
                    env.name
                ))
            })?
        }
    };
    let shown = config::mask_secrets(&url);
    let store = AnyStore::open(
        &url,
        Open {
            lazy: false,
            create: true,
        },
    )
    .await
    .map_err(|e| open_failure(&shown, e))?;
    let before = store.applied_migrations().await;
    let result = store.migrate().await;
    let after = store.applied_migrations().await;
    store.close().await;
    result.map_err(|e| Failure::from(anyhow::anyhow!("database {shown}: {e}")))?;
    let line = migrate_report(&store.describe(), &before, &after);
    write_stdout(format!("{line}\n").as_bytes())
}

/// What `db migrate` did, from the migrations recorded before and after:
/// "up to date" alone read the same on a fresh database as on a current one.
fn migrate_report(db: &str, before: &[(i64, String)], after: &[(i64, String)]) -> String {
    let list = |ms: &[&(i64, String)]| {
        ms.iter()
            .map(|(v, d)| format!("{v} ({d})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let new: Vec<&(i64, String)> = after.iter().filter(|m| !before.contains(m)).collect();
    let earlier: Vec<&(i64, String)> = before.iter().collect();
    match (new.is_empty(), earlier.is_empty()) {
        (false, true) => format!(
            "{db}: created the reference schema: applied migration {}",
            list(&new)
        ),
        (false, false) => format!(
            "{db}: applied migration {}; reference schema up to date",
            list(&new)
        ),
        (true, false) => format!(
            "{db}: reference schema already up to date (migration {} applied earlier); nothing changed",
            list(&earlier)
        ),
        // Ran without error but nothing is recorded: say so rather than guess.
        (true, true) => {
            format!("{db}: migrations ran, but none is recorded in _orderdeck_migrations")
        }
    }
}

/// The RabbitMQ source for the environment, when it names a broker. It
/// connects on its first poll, so a broker that is down shows as down.
fn rabbit_monitor(env: &config::ResolvedEnv) -> Result<Option<RabbitMonitor>, Failure> {
    RabbitSettings::from_env(env)
        .map(RabbitMonitor::new)
        .transpose()
        .map_err(|e| Failure::usage(format!("environment {:?}: {e}", env.name)))
}

/// A bad URL is the user's to fix (2); a server that does not answer is 3.
fn open_failure(shown: &str, e: orderdeck::sources::SourceError) -> Failure {
    let msg = format!("database {shown}: {e}");
    let text = e.to_string();
    if text.starts_with("bad ")
        || text.contains("scheme")
        || text.contains("does not exist (check the path")
    {
        Failure::usage(msg)
    } else {
        Failure::unreachable(format!(
            "{msg} (is the server up, and are the URL's host, port and credentials right?)"
        ))
    }
}

async fn snapshot(global: &GlobalOpts, args: SnapshotArgs) -> Result<(), Failure> {
    let (config_path, config) = load_config_at(global)?;
    let env = resolve_env(global, &config)?;
    let (runbook, warning) = load_runbook(config_path.as_deref(), &config);
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let mut down = Vec::new();
    let store = match env.read_database_url.as_ref().or(env.database_url.as_ref()) {
        None => None,
        Some(url) => match AnyStore::open(url, Open::default()).await {
            Ok(s) => Some(s.with_runbook(runbook.clone())),
            Err(e) => {
                let failure = open_failure(&config::mask_secrets(url), e);
                // A bad URL or a missing SQLite file is the user's to fix.
                if failure.code == 2 {
                    return Err(failure);
                }
                let describe = orderdeck::sources::store::DbKind::of_url(url)
                    .map(|k| orderdeck::sources::store::label(k, url))
                    .unwrap_or_else(|_| "database".into());
                down.push((describe, failure.message));
                None
            }
        },
    };
    let monitor = rabbit_monitor(&env)?;
    if store.is_none() && monitor.is_none() && down.is_empty() {
        return Err(Failure::usage(format!(
            "environment {:?} has neither database_url nor amqp_url: set them in the config or ORDERDECK_DATABASE_URL / ORDERDECK_AMQP_URL",
            env.name
        )));
    }
    let mut snap = orderdeck::snapshot::take(
        &env.name,
        store.as_ref(),
        monitor.as_ref(),
        &runbook,
        chrono::Utc::now(),
        args.top,
    )
    .await;
    for (describe, error) in &down {
        snap.source_unopened("db", describe.clone(), error.clone());
    }
    // The environment's incident is everyone's: a snapshot that sees an
    // anomaly opens or joins it as a cockpit's poll would. A record that
    // cannot be written is a warning; the snapshot itself still stands.
    match paths::incidents_dir() {
        Some(dir) => {
            let journal = orderdeck::postmortem::journal::Journal::new(&dir, &env.name);
            let recorded = orderdeck::postmortem::headless::record_snapshot(
                &journal,
                &snap,
                &config.alerts,
                &config.thresholds,
            );
            if let Err(e) = recorded {
                eprintln!(
                    "warning: cannot record the incident in {}: {e}",
                    dir.display()
                );
            }
        }
        None if snap.anomalies != Some(0) => {
            eprintln!(
                "warning: no data directory (set HOME or XDG_DATA_HOME): the incident is not recorded"
            );
        }
        None => {}
    }
    if let Some(s) = &store {
        s.close().await;
    }
    let text = match args.format {
        SnapshotFormat::Table => orderdeck::snapshot::render_table(&snap),
        SnapshotFormat::Json => orderdeck::snapshot::render_json(&snap) + "\n",
    };
    write_stdout(text.as_bytes())?;
    for (_, d) in &down {
        eprintln!("orderdeck: {d}");
    }
    if !down.is_empty() || snap.any_source_down() {
        return Err(Failure::unreachable(
            "a source could not be read (see above)",
        ));
    }
    // An unknown count cannot vouch for "no anomalies".
    match (args.fail_on_anomaly, snap.anomalies) {
        (true, Some(n)) if n > 0 => {
            return Err(Failure {
                code: 1,
                message: format!("{n} anomalies"),
            });
        }
        (true, None) => {
            return Err(Failure {
                code: 1,
                message: "anomalies unknown: a rule could not be read (see the rules table)".into(),
            });
        }
        _ => {}
    }
    Ok(())
}

fn list_themes() {
    let (set, warnings) = theme::ThemeSet::load(paths::user_theme_dir().as_deref());
    for w in warnings {
        eprintln!("warning: {w}");
    }
    // The same detection the cockpit runs (cockpit::look calls theme::detect).
    let (depth, why) = theme::detect_why(|k| std::env::var(k).ok());
    let default = theme::default_theme_name(depth, std::env::var("COLORFGBG").ok().as_deref());
    for name in set.names() {
        let desc = set
            .get(name)
            .map(|t| t.description.clone())
            .unwrap_or_default();
        let mark = if name == default { "*" } else { " " };
        orderdeck::outln!("{mark} {name:<16} {desc}");
    }
    orderdeck::outln!("(* = default for this terminal)");
    orderdeck::outln!(
        "colour depth in use: {} ({why}); themes are drawn at this depth",
        depth.describe()
    );
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
        keymap: keymap(&config)?,
        mouse: global.mouse || config.mouse,
        look,
        config,
        runbook: Runbook::builtin(),
        wallboard: None,
    };
    let engine = Engine::new(
        Some(AnyStore::Sqlite(store.clone())),
        Broker::Sim(broker.clone()),
        Arc::new(Runbook::builtin()),
        Actor::current("demo"),
        AuditLog::new(orderdeck::remedy::audit::default_path()),
    )
    .read_only(orderdeck::remedy::read_only_reason(
        false,
        global.read_only,
        "demo",
        false,
    ));
    let sources = Sources {
        store: Some(Arc::new(store)),
        monitor: Some(Arc::new(broker)),
        clock,
        remedy: Some(Arc::new(engine)),
    };
    let result = cockpit::run(spec, sources, cancel.clone()).await;
    cancel.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sim_task).await;
    result.map_err(Failure::from)
}

/// The cockpit, or with `wallboard` the read-only wall screen, on the
/// configured environment.
async fn run_configured(
    global: &GlobalOpts,
    wallboard: Option<orderdeck::state::wallboard::Start>,
) -> Result<(), Failure> {
    let (config_path, config) = load_config_at(global)?;
    let env = resolve_env(global, &config)?;
    // Detection reads go to the replica when there is one.
    let db_url = env
        .read_database_url
        .clone()
        .or_else(|| env.database_url.clone());
    let monitor = rabbit_monitor(&env)?;
    if db_url.is_none() && monitor.is_none() {
        return Err(Failure::usage(format!(
            "environment {:?} has no database_url or amqp_url: set them in the config (orderdeck config init) or ORDERDECK_DATABASE_URL / ORDERDECK_AMQP_URL, or try `orderdeck demo`",
            env.name
        )));
    }
    // The wall gets the war-room theme unless --theme says otherwise.
    let theme = match (&wallboard, global.theme.as_deref()) {
        (_, Some(t)) => Some(t),
        (Some(_), None) => Some("high-contrast"),
        (None, None) => None,
    };
    let mut look = cockpit::look(&config, theme).map_err(|e| Failure::usage(format!("{e:#}")))?;
    let (runbook, warning) = load_runbook(config_path.as_deref(), &config);
    if let Some(w) = warning {
        look.warnings.insert(0, w);
    }
    // First: readable passwords outrank a broken theme or runbook.
    if let Some(w) = config_path.as_deref().and_then(config::permission_warning) {
        look.warnings.insert(0, w);
    }
    let store = match db_url {
        None => None,
        // Lazy: a server that is down at start shows as down in the status
        // bar and is picked up when it comes back, like one that goes away
        // later.
        Some(url) => Some(
            AnyStore::open(
                &url,
                Open {
                    lazy: true,
                    create: false,
                },
            )
            .await
            .map_err(|e| open_failure(&config::mask_secrets(&url), e))?
            .with_runbook(runbook.clone())
            .with_row_limit(config.poll.rows_per_rule),
        ),
    };
    let engine = engine_for(global, &env, runbook.clone(), true, wallboard.is_some()).await?;
    let spec = RunSpec {
        env: EnvInfo {
            name: env.name.clone(),
            demo: None,
            read_only: wallboard.is_some() || global.read_only || env.read_only,
        },
        keymap: keymap(&config)?,
        mouse: global.mouse || config.mouse,
        look,
        config,
        runbook,
        wallboard,
    };
    let sources: Sources<AnyStore, RabbitMonitor> = Sources {
        store: store.map(Arc::new),
        monitor: monitor.map(Arc::new),
        clock: orderdeck::sources::wall_clock(),
        remedy: Some(Arc::new(engine)),
    };
    cockpit::run(spec, sources, CancellationToken::new())
        .await
        .map_err(Failure::from)
}

/// The remediation engine for the configured environment: the primary
/// database (never the read replica), the broker, the merged runbook, and
/// read-only from `--read-only` or the environment.
async fn engine(global: &GlobalOpts) -> Result<Engine, Failure> {
    let (config_path, config) = load_config_at(global)?;
    let env = resolve_env(global, &config)?;
    let (runbook, warning) = load_runbook(config_path.as_deref(), &config);
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    if env.database_url.is_none() && env.amqp_url.is_none() {
        return Err(Failure::usage(format!(
            "environment {:?} has neither database_url nor amqp_url: nothing to remediate",
            env.name
        )));
    }
    engine_for(global, &env, runbook, false, false).await
}

/// The engine for `env`; `lazy` connects on first use (the cockpit starts
/// while the database is down); `wallboard` makes it refuse everything.
async fn engine_for(
    global: &GlobalOpts,
    env: &config::ResolvedEnv,
    runbook: Runbook,
    lazy: bool,
    wallboard: bool,
) -> Result<Engine, Failure> {
    let store = match &env.database_url {
        None => None,
        Some(url) => Some(
            AnyStore::open(
                url,
                Open {
                    lazy,
                    create: false,
                },
            )
            .await
            .map_err(|e| open_failure(&config::mask_secrets(url), e))?
            .with_runbook(runbook.clone()),
        ),
    };
    let broker = match &env.amqp_url {
        None => Broker::None,
        Some(url) => Broker::Amqp(Box::new(
            AmqpBroker::new(url, &env.vhost, &env.name)
                .map_err(|e| Failure::usage(format!("environment {:?}: {e}", env.name)))?,
        )),
    };
    let read_only =
        orderdeck::remedy::read_only_reason(wallboard, global.read_only, &env.name, env.read_only);
    Ok(Engine::new(
        store,
        broker,
        Arc::new(runbook),
        Actor::current(&env.name),
        AuditLog::new(orderdeck::remedy::audit::default_path()),
    )
    .read_only(read_only))
}

async fn remedy_headless(
    global: &GlobalOpts,
    request: Request,
    confirm: &ConfirmArgs,
) -> Result<(), Failure> {
    let engine = engine(global).await?;
    let report = headless::run(
        &engine,
        request,
        headless::Confirm {
            yes: confirm.yes,
            dry_run: confirm.dry_run,
        },
    )
    .await;
    if let Some(s) = engine.store() {
        s.close().await;
    }
    finish(report)
}

fn finish(report: orderdeck::remedy::Report) -> Result<(), Failure> {
    let line = report.line();
    match report.exit_code() {
        0 => write_stdout(format!("{line}\n").as_bytes()),
        code => Err(Failure {
            code,
            message: line,
        }),
    }
}

async fn remediate(global: &GlobalOpts, args: RemediateArgs) -> Result<(), Failure> {
    let engine = engine(global).await?;
    let action = args.action.trim().to_string();
    // A misspelt action is bad usage (2), found before the order is looked
    // up or anything is audited, not a failed remediation (1).
    engine
        .check_action(&action)
        .map_err(|e| Failure::usage(format!("remediate: {e}")))?;
    let store = engine
        .store()
        .ok_or_else(|| Failure::usage("remediate needs a database_url"))?;
    let order_no = args.order_no.trim().to_string();
    let order_id = store
        .find_order_id(&order_no)
        .await
        .map_err(|e| Failure::unreachable(e.to_string()))?
        .ok_or_else(|| {
            Failure::usage(format!(
                "no order {:?} in {}",
                orderdeck::sanitize::sanitize_capped(&order_no, 40),
                store.describe()
            ))
        })?;
    let request = Request::Order {
        action,
        order_id,
        order_no,
    };
    remedy_headless(global, request, &args.confirm).await
}

async fn audit(global: &GlobalOpts, args: AuditArgs) -> Result<(), Failure> {
    let since = parse_since(&args.since).map_err(Failure::usage)?;
    let records = if args.local {
        AuditLog::new(orderdeck::remedy::audit::default_path())
            .read_since(since)
            .map_err(|e| Failure::from(anyhow::anyhow!(e)))?
    } else {
        let (_, config) = load_config_at(global)?;
        let env = resolve_env(global, &config)?;
        let url = env.database_url.clone().ok_or_else(|| {
            Failure::usage(format!(
                "environment {:?} has no database_url: use --local for the local audit file",
                env.name
            ))
        })?;
        let store = AnyStore::open(&url, Open::default())
            .await
            .map_err(|e| open_failure(&config::mask_secrets(&url), e))?;
        let r = orderdeck::remedy::db::RemedyDb(&store)
            .list_audit(since)
            .await;
        store.close().await;
        r.map_err(|e| Failure::unreachable(format!("reading remediation_audit: {e}")))?
    };
    let text = match args.format {
        SnapshotFormat::Table => headless::audit_table(&records),
        SnapshotFormat::Json => headless::audit_json(&records),
    };
    write_stdout(text.as_bytes())
}

/// `24h`, `7d` (ago) or an RFC 3339 time.
fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let span = orderdeck::simulate::args::parse_span(s)
        .map_err(|e| format!("--since: {e}; or give an RFC 3339 time"))?;
    let span =
        chrono::Duration::from_std(span).map_err(|_| "--since is too far back".to_string())?;
    Ok(chrono::Utc::now() - span)
}
