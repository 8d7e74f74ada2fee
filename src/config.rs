//! The user's config file: theme, clock, poll intervals, thresholds and the
//! environments (database, broker) the cockpit can connect to.
//!
//! Every problem is reported as ONE line that names the file, the line and
//! column where there is one, the key, and what to do, because it ends up on
//! a bastion host's terminal at 3 a.m. Unknown keys are errors so that a typo
//! (`databse_url`) cannot silently drop a setting. Secrets never appear in
//! messages or `Debug` output: URLs are shown through [`mask_secrets`].

use crate::state::keys::{Keymap, KeymapError};
use crate::toml_errors;
use serde::{Deserialize, Serialize};

mod alerts;
pub mod confluence;
mod queues;
pub use alerts::{AlertsConfig, LogExpr, LogRule, MAX_GROWING_SAMPLES, ZeroConsumers};
pub use confluence::ConfluenceConfig;
pub use queues::{MAX_QUEUE_NAME, check_queue_name};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How the clock in the status bar and timeline times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Incidents span teams and time zones; UTC is what logs and other tools show.
    #[default]
    Utc,
    Local,
}

/// When queue backlogs and timeline gaps turn yellow and red.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Ready messages in one queue at which its row turns to warn.
    pub queue_ready_warn: u64,
    /// Ready messages at which it turns critical; must be above warn.
    pub queue_ready_critical: u64,
    /// A gap between two timeline events longer than this is marked.
    pub long_gap_minutes: u64,
    /// Distinct stuck orders of one family at which the wallboard shows the
    /// family's number red (amber comes from `[alerts.stuck_above]`, the
    /// point where the alert fires).
    pub stuck_orders_critical: u64,
    /// Money held up by stuck orders, in whole currency units, at which the
    /// wallboard's amount turns amber...
    pub amount_stuck_warn: u64,
    /// ...and red. Must be above amount_stuck_warn.
    pub amount_stuck_critical: u64,
    /// A queue that needs longer than this to drain turns amber...
    pub drain_warn_minutes: u64,
    /// ...and red (a backlog that never drains is always red).
    pub drain_critical_minutes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            queue_ready_warn: 1000,
            queue_ready_critical: 10000,
            long_gap_minutes: 30,
            stuck_orders_critical: 50,
            amount_stuck_warn: 10_000,
            amount_stuck_critical: 100_000,
            drain_warn_minutes: 10,
            drain_critical_minutes: 60,
        }
    }
}

/// Seconds between polls of each source.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Poll {
    pub orders_secs: u64,
    pub queues_secs: u64,
    /// Stuck orders one detection rule may return per poll; a rule that
    /// reaches it is marked "row limit hit" in the orders pane.
    pub rows_per_rule: u32,
}

impl Default for Poll {
    fn default() -> Self {
        Poll {
            orders_secs: 5,
            queues_secs: 2,
            rows_per_rule: crate::model::limits::DEFAULT_ROW_LIMIT,
        }
    }
}

/// The whole config file. Every key is optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Theme name; `None` picks one for the terminal.
    pub theme: Option<String>,
    pub clock: ClockMode,
    /// Environment used when `--env` is not given.
    pub default_env: Option<String>,
    pub poll: Poll,
    pub thresholds: Thresholds,
    pub alerts: AlertsConfig,
    /// A user runbook (detection rules) merged over the built-in one;
    /// `None` means `runbook.toml` next to the config file, if there is one.
    pub runbook: Option<PathBuf>,
    /// `[env.prod]`, `[env.staging]`, ...
    pub env: BTreeMap<String, EnvConfig>,
    /// Where `postmortem publish` sends pages.
    pub confluence: ConfluenceConfig,
    /// Capture the mouse (wheel, click to select); `--mouse` does the same.
    pub mouse: bool,
    /// `[keys]`: action id → key or list of keys, over the defaults.
    pub keys: BTreeMap<String, KeyList>,
    /// `[keys]` entries in the order of the file (set by [`parse`]), so
    /// that a clash is reported at the later of the two lines.
    #[serde(skip)]
    pub keys_order: Vec<String>,
}

/// The keys of one `[keys]` entry: `"U"` or `["q", "Ctrl-q"]` (`[]` unbinds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyList(pub Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a key such as "U" or "Ctrl-q", or a list such as ["q", "Ctrl-q"]"#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(KeyList(keys))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Config {
    /// The key bindings in force: the defaults with `[keys]` over them.
    pub fn keymap(&self) -> Result<Keymap, KeymapError> {
        let mut overrides: Vec<(String, Vec<String>)> = self
            .keys
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        let at = |id: &str| self.keys_order.iter().position(|k| k == id);
        overrides.sort_by_key(|(id, _)| at(id));
        Keymap::with_overrides(&overrides)
    }
}

/// One `[env.NAME]` section as written.
#[derive(Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvConfig {
    pub database_url: Option<String>,
    /// A replica for the cockpit's reads, so polling never loads the primary.
    pub read_database_url: Option<String>,
    pub amqp_url: Option<String>,
    /// RabbitMQ management API base URL (rates need it; AMQP alone works).
    pub rabbitmq_api: Option<String>,
    pub rabbitmq_api_user: Option<String>,
    pub rabbitmq_api_password: Option<String>,
    pub vhost: Option<String>,
    /// Work queues to watch; empty means the reference topology.
    pub queues: Vec<String>,
    /// No remediations from this environment, whatever the command line says.
    pub read_only: bool,
}

/// The reference queue topology (DESIGN section 3), watched when an
/// environment lists no queues.
pub const REFERENCE_QUEUES: [&str; 6] = [
    "payment.callback",
    "inventory.sync",
    "fulfillment",
    "logistics.updates",
    "settlement",
    "notify.customer",
];

/// The environment the cockpit runs against, after defaults and
/// `ORDERDECK_*` overrides.
#[derive(Clone, PartialEq)]
pub struct ResolvedEnv {
    pub name: String,
    pub database_url: Option<String>,
    pub read_database_url: Option<String>,
    pub amqp_url: Option<String>,
    pub rabbitmq_api: Option<String>,
    pub rabbitmq_api_user: Option<String>,
    pub rabbitmq_api_password: Option<String>,
    pub vhost: String,
    pub queues: Vec<String>,
    pub read_only: bool,
}

/// `Debug` shows URLs masked and the API password as `***`, so that a stray
/// `{:?}` in a log line cannot leak credentials.
fn debug_env(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    urls: [(&str, &Option<String>); 4],
    user: &Option<String>,
    password: &Option<String>,
    rest: &dyn Fn(&mut fmt::DebugStruct<'_, '_>),
) -> fmt::Result {
    let mut d = f.debug_struct(name);
    for (key, url) in urls {
        d.field(key, &url.as_deref().map(mask_secrets));
    }
    d.field("rabbitmq_api_user", user);
    d.field("rabbitmq_api_password", &password.as_ref().map(|_| "***"));
    rest(&mut d);
    d.finish()
}

impl fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_env(
            f,
            "EnvConfig",
            [
                ("database_url", &self.database_url),
                ("read_database_url", &self.read_database_url),
                ("amqp_url", &self.amqp_url),
                ("rabbitmq_api", &self.rabbitmq_api),
            ],
            &self.rabbitmq_api_user,
            &self.rabbitmq_api_password,
            &|d| {
                d.field("vhost", &self.vhost)
                    .field("queues", &self.queues)
                    .field("read_only", &self.read_only);
            },
        )
    }
}

impl fmt::Debug for ResolvedEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_env(
            f,
            "ResolvedEnv",
            [
                ("database_url", &self.database_url),
                ("read_database_url", &self.read_database_url),
                ("amqp_url", &self.amqp_url),
                ("rabbitmq_api", &self.rabbitmq_api),
            ],
            &self.rabbitmq_api_user,
            &self.rabbitmq_api_password,
            &|d| {
                d.field("name", &self.name)
                    .field("vhost", &self.vhost)
                    .field("queues", &self.queues)
                    .field("read_only", &self.read_only);
            },
        )
    }
}

/// A config problem. `Display` is always one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, permissions, too big, not UTF-8).
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// A syntax or validation error at `at` (`path:line:col`, `path`, or an
    /// environment variable's name).
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    /// `--env` or `default_env` names no `[env.NAME]` section.
    #[error("no environment \"{name}\" in the config; {known}")]
    UnknownEnv { name: String, known: String },
    /// Several environments and nothing says which one to use.
    #[error(
        "the config defines several environments ({known}): pick one with --env NAME or set default_env"
    )]
    AmbiguousEnv { known: String },
    /// `config init` would overwrite a file.
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists { path: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Longest poll interval: an hour. Past that the cockpit watches nothing.
pub const MAX_POLL_SECS: u64 = 3600;

/// Longest timeline gap or drain time a threshold may name: a week.
pub const MAX_THRESHOLD_MINUTES: u64 = 7 * 24 * 60;

/// A config file is a page of settings; anything much bigger is the wrong file.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// An I/O error without the "(os error 2)" tail, which tells users nothing.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    toml_errors::one_line(&text)
}

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let src = toml_errors::read_text(path, MAX_CONFIG_BYTES).map_err(|e| match e {
        toml_errors::ReadError::Io(io) => ConfigError::Read {
            path: toml_errors::show_path(path),
            reason: if io.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{}; `orderdeck config init` writes a commented one",
                    io_reason(&io)
                )
            } else {
                io_reason(&io)
            },
        },
        toml_errors::ReadError::NotUtf8 { line, col, .. } => ConfigError::Invalid {
            at: format!("{}:{line}:{col}", toml_errors::show_path(path)),
            message: e.describe(MAX_CONFIG_BYTES),
        },
        toml_errors::ReadError::TooLarge(_) | toml_errors::ReadError::NotRegular(_) => {
            ConfigError::Read {
                path: toml_errors::show_path(path),
                reason: e.describe(MAX_CONFIG_BYTES),
            }
        }
    })?;
    parse(&src, path)
}

/// Parses and validates config text; `origin` is only used in messages.
pub fn parse(src: &str, origin: &Path) -> Result<Config, ConfigError> {
    let mut config: Config = toml::from_str(src).map_err(|e| ConfigError::Invalid {
        at: toml_errors::location(origin, src, e.span()),
        message: toml_errors::message(&e, src),
    })?;
    validate(&config).map_err(|p| {
        let keys: Vec<&str> = p.keys.iter().map(String::as_str).collect();
        ConfigError::Invalid {
            at: toml_errors::location(origin, src, toml_errors::locate(src, &keys)),
            message: p.message,
        }
    })?;
    let mut order: Vec<(usize, String)> = config
        .keys
        .keys()
        .map(|k| {
            let at = toml_errors::locate(src, &["keys", k]).map_or(usize::MAX, |s| s.start);
            (at, k.clone())
        })
        .collect();
    order.sort();
    config.keys_order = order.into_iter().map(|(_, k)| k).collect();
    if let Err(e) = config.keymap() {
        // A clash between two entries points at the later one in the file.
        let span = e
            .actions
            .iter()
            .filter_map(|a| toml_errors::locate(src, &["keys", a]))
            .max_by_key(|s| s.start)
            .or_else(|| toml_errors::locate(src, &["keys"]));
        return Err(ConfigError::Invalid {
            at: toml_errors::location(origin, src, span),
            message: toml_errors::one_line(&e.message),
        });
    }
    Ok(config)
}

/// A validation problem: the key path it is about (to find line and column)
/// and the message, which starts with the dotted key.
struct Problem {
    keys: Vec<String>,
    message: String,
}

fn problem(keys: &[&str], message: String) -> Problem {
    Problem {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        message,
    }
}

/// Longest theme / environment name we accept; they are typed on the command
/// line and shown in the status bar.
const MAX_NAME_CHARS: usize = 40;

fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= MAX_NAME_CHARS
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Outside text quoted for a message: escaped, secrets masked, cut short.
fn shown(s: &str) -> String {
    let masked = toml_errors::escape(&mask_secrets(s));
    if masked.chars().count() > 80 {
        format!("{}…", masked.chars().take(80).collect::<String>())
    } else {
        masked
    }
}

const DB_SCHEMES: &[&str] = &["postgres", "postgresql", "mysql", "mariadb", "sqlite"];
const AMQP_SCHEMES: &[&str] = &["amqp", "amqps"];
const HTTP_SCHEMES: &[&str] = &["http", "https"];

/// Checks that `url` has one of `schemes`; the error says what was found and
/// what would be accepted. We check only the scheme: the driver gives better
/// errors about the rest, and a wrong scheme is the usual copy-paste mistake.
fn check_url(url: &str, schemes: &[&str], example: &str) -> Result<(), String> {
    if url.trim().is_empty() {
        return Err(format!(
            "is empty; remove the line or give a URL such as {example}"
        ));
    }
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let accepted = schemes
        .iter()
        .map(|s| {
            if *s == "sqlite" {
                "sqlite:".to_string()
            } else {
                format!("{s}://")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    match scheme {
        None => Err(format!(
            "\"{}\" has no scheme; expected a URL such as {example}",
            shown(url)
        )),
        Some(s) if schemes.iter().any(|ok| ok.eq_ignore_ascii_case(s)) => Ok(()),
        Some(s) => Err(format!(
            "unsupported scheme \"{}\" in \"{}\"; use {accepted}",
            shown(s),
            shown(url)
        )),
    }
}

fn validate(c: &Config) -> Result<(), Problem> {
    if let Some(theme) = &c.theme
        && !is_plain_name(theme)
    {
        return Err(problem(
            &["theme"],
            format!(
                "theme \"{}\" is not a theme name: use 1-{MAX_NAME_CHARS} letters, digits, '-', '_' or '.' (see `orderdeck themes list`), or remove the line to pick one for the terminal",
                shown(theme)
            ),
        ));
    }
    for (key, value) in [
        ("orders_secs", c.poll.orders_secs),
        ("queues_secs", c.poll.queues_secs),
    ] {
        if value == 0 {
            return Err(problem(
                &["poll", key],
                format!("poll.{key} must be at least 1 (seconds between polls)"),
            ));
        }
        // 18446744073709551615 parses as a u64 and used to be accepted: a
        // cockpit that polls once an hour or less is not watching anything,
        // and such numbers overflow the timers they feed.
        if value > MAX_POLL_SECS {
            return Err(problem(
                &["poll", key],
                format!(
                    "poll.{key} = {value} is too long: at most {MAX_POLL_SECS} seconds between polls"
                ),
            ));
        }
    }
    if c.poll.rows_per_rule == 0 {
        return Err(problem(
            &["poll", "rows_per_rule"],
            "poll.rows_per_rule must be at least 1 (stuck orders one rule may return per poll)"
                .into(),
        ));
    }
    let t = &c.thresholds;
    if t.queue_ready_warn >= t.queue_ready_critical {
        return Err(problem(
            &["thresholds", "queue_ready_warn"],
            format!(
                "thresholds.queue_ready_warn ({}) must be below thresholds.queue_ready_critical ({})",
                t.queue_ready_warn, t.queue_ready_critical
            ),
        ));
    }
    if t.long_gap_minutes == 0 {
        return Err(problem(
            &["thresholds", "long_gap_minutes"],
            "thresholds.long_gap_minutes must be at least 1".into(),
        ));
    }
    if t.stuck_orders_critical == 0 {
        return Err(problem(
            &["thresholds", "stuck_orders_critical"],
            "thresholds.stuck_orders_critical must be at least 1 (stuck orders of one family that turn its number red)".into(),
        ));
    }
    for (key, value) in [
        ("long_gap_minutes", t.long_gap_minutes),
        ("drain_warn_minutes", t.drain_warn_minutes),
        ("drain_critical_minutes", t.drain_critical_minutes),
    ] {
        if value > MAX_THRESHOLD_MINUTES {
            return Err(problem(
                &["thresholds", key],
                format!(
                    "thresholds.{key} = {value} is too long: at most {MAX_THRESHOLD_MINUTES} minutes (a week)"
                ),
            ));
        }
    }
    for (warn, critical, (wv, cv)) in [
        (
            "amount_stuck_warn",
            "amount_stuck_critical",
            (t.amount_stuck_warn, t.amount_stuck_critical),
        ),
        (
            "drain_warn_minutes",
            "drain_critical_minutes",
            (t.drain_warn_minutes, t.drain_critical_minutes),
        ),
    ] {
        if wv >= cv {
            return Err(problem(
                &["thresholds", warn],
                format!("thresholds.{warn} ({wv}) must be below thresholds.{critical} ({cv})"),
            ));
        }
    }
    alerts::validate(&c.alerts)?;
    for (name, env) in &c.env {
        validate_env(name, env)?;
    }
    if let Some(default) = &c.default_env
        && !c.env.contains_key(default)
    {
        return Err(problem(
            &["default_env"],
            format!("default_env = \"{}\": {}", shown(default), known_envs(c)),
        ));
    }
    Ok(())
}

fn validate_env(name: &str, env: &EnvConfig) -> Result<(), Problem> {
    if !is_plain_name(name) {
        return Err(problem(
            &["env", name],
            format!(
                "environment name \"{}\" is not usable: name the section with 1-{MAX_NAME_CHARS} letters, digits, '-', '_' or '.', e.g. [env.prod]",
                shown(name)
            ),
        ));
    }
    let urls: [(&str, &Option<String>, &[&str], &str); 4] = [
        (
            "database_url",
            &env.database_url,
            DB_SCHEMES,
            "postgres://user@host:5432/orders",
        ),
        (
            "read_database_url",
            &env.read_database_url,
            DB_SCHEMES,
            "postgres://user@replica:5432/orders",
        ),
        (
            "amqp_url",
            &env.amqp_url,
            AMQP_SCHEMES,
            "amqp://user@host:5672/%2f",
        ),
        (
            "rabbitmq_api",
            &env.rabbitmq_api,
            HTTP_SCHEMES,
            "http://host:15672",
        ),
    ];
    for (key, value, schemes, example) in urls {
        if let Some(url) = value {
            check_url(url, schemes, example)
                .map_err(|m| problem(&["env", name, key], format!("env.{name}.{key}: {m}")))?;
        }
    }
    if env.vhost.as_deref().is_some_and(str::is_empty) {
        return Err(problem(
            &["env", name, "vhost"],
            format!("env.{name}.vhost is empty; use \"/\" for RabbitMQ's default vhost"),
        ));
    }
    for q in &env.queues {
        // Its `.dlq` must fit in AMQP's 255 bytes too, or requeueing from
        // it would panic inside the AMQP library.
        if let Err(why) = check_queue_name(q) {
            return Err(problem(
                &["env", name, "queues"],
                format!(
                    "env.{name}.queues: \"{}\" is not a queue name: it {why}",
                    shown(q)
                ),
            ));
        }
    }
    Ok(())
}

/// "known: a, b" or "none are defined ...", for unknown-environment errors.
fn known_envs(c: &Config) -> String {
    if c.env.is_empty() {
        "the config defines no environments; add an [env.NAME] section (`orderdeck config init` writes an example)".into()
    } else {
        format!(
            "known: {} (add an [env.NAME] section for a new one)",
            c.env
                .keys()
                .map(|k| shown(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl Config {
    /// Picks the environment to run against: `name` (from `--env`), else
    /// `default_env`, else the only one, else an empty one called "default"
    /// (so env-var-only setups work). With several and no choice, asks for
    /// one rather than guessing, since guessing could point at production.
    /// `ORDERDECK_DATABASE_URL`, `ORDERDECK_AMQP_URL` and
    /// `ORDERDECK_RABBITMQ_API` (read through `get_env`) override the
    /// chosen environment's values; empty values are ignored.
    pub fn resolve_env(
        &self,
        name: Option<&str>,
        get_env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedEnv, ConfigError> {
        let (env_name, env) = match name.or(self.default_env.as_deref()) {
            Some(n) => match self.env.get(n) {
                Some(e) => (n.to_string(), e.clone()),
                None => {
                    return Err(ConfigError::UnknownEnv {
                        name: shown(n),
                        known: known_envs(self),
                    });
                }
            },
            None => {
                let mut all = self.env.iter();
                match (all.next(), all.next()) {
                    (None, _) => ("default".to_string(), EnvConfig::default()),
                    (Some((n, e)), None) => (n.clone(), e.clone()),
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::AmbiguousEnv {
                            known: self
                                .env
                                .keys()
                                .map(|k| shown(k))
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
        };
        let over = |var: &str, current: Option<String>, schemes: &[&str], example: &str| {
            match get_env(var).filter(|v| !v.trim().is_empty()) {
                Some(v) => check_url(&v, schemes, example)
                    .map(|()| Some(v))
                    .map_err(|message| ConfigError::Invalid {
                        at: format!("environment variable {var}"),
                        message,
                    }),
                None => Ok(current),
            }
        };
        let database_url = over(
            "ORDERDECK_DATABASE_URL",
            env.database_url,
            DB_SCHEMES,
            "postgres://user@host:5432/orders",
        )?;
        let amqp_url = over(
            "ORDERDECK_AMQP_URL",
            env.amqp_url,
            AMQP_SCHEMES,
            "amqp://user@host:5672/%2f",
        )?;
        let rabbitmq_api = over(
            "ORDERDECK_RABBITMQ_API",
            env.rabbitmq_api,
            HTTP_SCHEMES,
            "http://host:15672",
        )?;
        Ok(ResolvedEnv {
            name: env_name,
            database_url,
            read_database_url: env.read_database_url,
            amqp_url,
            rabbitmq_api,
            rabbitmq_api_user: env.rabbitmq_api_user,
            rabbitmq_api_password: env.rabbitmq_api_password,
            vhost: env.vhost.unwrap_or_else(|| "/".to_string()),
            queues: if env.queues.is_empty() {
                REFERENCE_QUEUES.iter().map(|q| q.to_string()).collect()
            } else {
                env.queues
            },
            read_only: env.read_only,
        })
    }

    /// Whether any environment holds a password (in a URL or as
    /// `rabbitmq_api_password`): such a file must not be world-readable.
    fn holds_secret(&self) -> bool {
        self.env.values().any(|e| {
            [
                &e.database_url,
                &e.read_database_url,
                &e.amqp_url,
                &e.rabbitmq_api,
            ]
            .into_iter()
            .flatten()
            .any(|url| mask_secrets(url) != *url)
                || e.rabbitmq_api_password
                    .as_deref()
                    .is_some_and(|p| !p.is_empty())
        })
    }
}

/// Reads the config at `paths::default_config_path()`; `Ok(None)` when there
/// is no such file (or no config directory), which simply means defaults.
pub fn load_default() -> Result<Option<(PathBuf, Config)>, ConfigError> {
    let Some(path) = crate::paths::default_config_path() else {
        return Ok(None);
    };
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => load(&path).map(|c| Some((path, c))),
    }
}

/// Writes [`TEMPLATE`] to `path` for `orderdeck config init`.
///
/// Creates missing parent directories (0700 on unix: they will hold
/// credentials), refuses to replace an existing file unless `force`, and
/// writes through a temporary file in the same directory that is renamed
/// into place, so an interrupted write never leaves half a config.
pub fn init(path: &Path, force: bool) -> Result<PathBuf, ConfigError> {
    let exists = |p: &Path| ConfigError::Exists {
        path: toml_errors::show_path(p),
    };
    let write_err = |e: &std::io::Error| ConfigError::Write {
        path: toml_errors::show_path(path),
        reason: io_reason(e),
    };
    // symlink_metadata: a dangling symlink is still something we would replace.
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| write_err(&e))?;

    // tempfile creates the file 0600 on unix already; the config may hold
    // passwords, so it never exists with wider permissions, not even briefly.
    let mut tmp = tempfile::Builder::new()
        .prefix(".orderdeck-config.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| write_err(&e))?;
    tmp.write_all(TEMPLATE.as_bytes())
        .map_err(|e| write_err(&e))?;
    tmp.as_file().sync_all().map_err(|e| write_err(&e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(|e| write_err(&e))?;
    }
    let persisted = if force {
        tmp.persist(path)
    } else {
        // No-clobber rename: another process may have created the file since
        // the check above.
        tmp.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Err(exists(path)),
        Err(e) => Err(write_err(&e.error)),
    }
}

/// One-line warning when `path` is readable by group or others and holds a
/// password; `None` otherwise (and always on non-unix systems, whose
/// permission model this check does not fit).
pub fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o044 == 0 || !load(path).ok()?.holds_secret() {
            return None;
        }
        let p = toml_errors::show_path(path);
        let quoted = if p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'))
        {
            p.clone()
        } else {
            format!("'{}'", p.replace('\'', r"'\''"))
        };
        Some(format!(
            "{p} holds a password and is readable by other users (mode {mode:03o}); run: chmod 600 {quoted}"
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Masks passwords in `s` for display: the password in every URL's userinfo
/// (`postgres://u:secret@h/db` → `postgres://u:***@h/db`) and the value of
/// every `password=` parameter. Other text is left alone.
///
/// Errors from drivers echo URLs back, so everything that may contain one
/// goes through here before it reaches the screen or a log. When unsure
/// where a URL ends we mask too much rather than too little.
pub fn mask_secrets(s: &str) -> String {
    mask_password_params(&mask_userinfo(s))
}

/// Where a URL embedded in prose ends.
fn url_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')
}

fn mask_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(url_end).unwrap_or(tail.len());
        let token = &tail[..end];
        // The last '@' ends the userinfo: passwords may contain an unescaped '@'.
        let masked = token.rfind('@').and_then(|at| {
            let userinfo = &token[..at];
            let colon = userinfo.find(':')?;
            (colon + 1 < userinfo.len())
                .then(|| format!("{}***{}", &userinfo[..=colon], &token[at..]))
        });
        out.push_str(masked.as_deref().unwrap_or(token));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_password_params(s: &str) -> String {
    const KEY: &str = "password=";
    // ASCII lowercasing keeps byte offsets, so indexes into `lower` are valid in `s`.
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find(KEY) {
        let value_start = pos + i + KEY.len();
        out.push_str(&s[pos..value_start]);
        let value_len = s[value_start..]
            .find(|c: char| url_end(c) || matches!(c, '&' | ';'))
            .unwrap_or(s.len() - value_start);
        if value_len > 0 {
            out.push_str("***");
        }
        pos = value_start + value_len;
    }
    out.push_str(&s[pos..]);
    out
}

/// What `orderdeck config init` writes: every key with its default value and
/// what it does. The environments are commented out, so the file parses to
/// `Config::default()` until the user fills one in (a test checks this).
pub const TEMPLATE: &str = r##"# orderdeck configuration
#
# Check this file with: orderdeck config check
# Every key is optional; the values shown are the defaults. Unknown keys are
# errors, so a typo is reported instead of being silently ignored.
# This file may hold passwords: keep it readable by you only (chmod 600).

# Colour theme: dark, light, high-contrast, ansi16, or one of your own from the
# themes/ folder next to this file (see `orderdeck themes list`). Leave it unset
# to pick one from what the terminal reports. `t` cycles themes in the cockpit.
# theme = "dark"

# Times in the status bar and timelines: "utc" or "local". `z` toggles.
clock = "utc"

# Your own detection rules, in the format of the built-in runbook (see
# runbooks/default.toml in the source): a rule with a built-in id replaces
# it, new ids add rules. Default: runbook.toml next to this file, if present.
# runbook = "/etc/orderdeck/runbook.toml"

# Environment used when --env is not given. With a single [env.*] section it
# is picked anyway; with several and no default_env, --env is required.
# default_env = "staging"

# Capture the mouse in the cockpit: the wheel scrolls, a click selects a row.
# Off by default so that the terminal's own text selection keeps working
# (over SSH that is how text gets out); --mouse turns it on for one run.
mouse = false

# Key bindings over the defaults; `?` in the cockpit lists the ones in force.
# Name an action (see README "Keys" for the list) and give it a key or a list
# of keys: they replace that action's default keys ([] unbinds it). A key
# bound to two actions is an error naming both. Ctrl-C always quits.
# A key is one character ("U", "?") or Enter, Esc, Tab, Shift-Tab, Backspace,
# Del, Up, Down, Left, Right, Home, End, PgUp, PgDn, Space, optionally after
# Ctrl-, Alt- or Shift-.
# [keys]
# release_lock = "U"
# quit = ["q", "Ctrl-q"]
# copy = "Y"

[poll]
# Seconds between polls of the order database (detection rules, timelines),
# 1 to 3600.
orders_secs = 5
# Seconds between polls of the queue backlog (RabbitMQ), 1 to 3600.
queues_secs = 2
# Stuck orders one detection rule may return per poll; past it the orders
# pane says "row limit hit". Each order kept costs about 0.4 kB of memory.
rows_per_rule = 5000

[thresholds]
# Ready messages in one queue at which its row turns yellow...
queue_ready_warn = 1000
# ...and red. Must be above queue_ready_warn.
queue_ready_critical = 10000
# Gaps between two events of an order's timeline longer than this are marked
# (minutes here and in drain_*: at most 10080, a week).
long_gap_minutes = 30
# The wallboard (`orderdeck wallboard`, `w`): a family's stuck-order count is
# amber above its [alerts.stuck_above] number and red from this many orders.
stuck_orders_critical = 50
# Money held up by stuck orders, in whole currency units: amber, then red.
amount_stuck_warn = 10000
amount_stuck_critical = 100000
# Time for a queue to drain at its current rates: amber, then red (a backlog
# that never drains is always red). Also colours the cockpit's drain column.
drain_warn_minutes = 10
drain_critical_minutes = 60

[alerts]
# Active alerts show in a one-line strip under the status bar; `:alerts`
# lists them all. Ring the terminal bell when a new alert fires or a warning
# turns critical (not again while it goes on, nor when it comes back within
# a minute).
bell = false
# Alert when a queue's ready count reaches [thresholds] queue_ready_warn
# (warning) or queue_ready_critical (critical): the numbers that colour rows.
queue_ready = true
# Alert when a queue's ready count grew this many polls in a row (10 polls
# two seconds apart is 20 s of growth). 0 turns it off; at most 59.
growing_samples = 10
# Alert on a queue without consumers: "backlog" (only while messages wait,
# critical), "always" (even when empty), or "off". Dead-letter queues have
# no consumers by design and are never alerted on for it.
zero_consumers = "backlog"
# Alert when a dead-letter queue (<queue>.dlq) holds messages.
dlq_not_empty = true

# Alert when MORE distinct orders of a family than this are stuck. Leave a
# family out to never alert on it.
[alerts.stuck_above]
ghost = 10
split = 10
zombie = 0

# Log keyword rules: one [[alerts.log]] section each. The file is followed
# like `tail -F` (from its end; rotation and truncation are handled; a
# missing file is reported, not fatal). A relative path is taken from the
# directory orderdeck starts in.
# expr: double-quoted terms combined with AND, OR, NOT and parentheses (NOT
# binds tighter than AND, AND tighter than OR); a term matches as a
# substring; inside quotes, \" is a quote and \\ a backslash. Write the
# whole expression in single quotes so TOML leaves the double quotes alone.
# Terms are case-sensitive; set ignore_case to true to match any case.
# The alert fires while at least threshold_per_minute lines matched in the
# last 60 s; level is "warning" or "critical".
#
# [[alerts.log]]
# name = "order-errors"
# file = "/var/log/orders/app.log"
# expr = '"ERROR" AND ("order_timeout" OR "inventory_rollback")'
# threshold_per_minute = 1
# ignore_case = false
# level = "warning"

# Environments: one [env.NAME] section each, chosen with --env NAME.
# ORDERDECK_DATABASE_URL, ORDERDECK_AMQP_URL and ORDERDECK_RABBITMQ_API
# override the chosen environment's values, so passwords can stay out of
# this file.
#
# [env.prod]
# # The order database: postgres://, postgresql://, mysql://, mariadb:// or sqlite:
# database_url = "postgres://orderdeck@db.prod.internal:5432/orders"
# # Optional replica the cockpit reads from, to keep polling off the primary.
# read_database_url = "postgres://orderdeck_ro@replica.prod.internal:5432/orders"
# # The broker: amqp:// or amqps://
# amqp_url = "amqps://orderdeck@mq.prod.internal:5671/%2f"
# # Optional RabbitMQ management API, for in/out rates.
# rabbitmq_api = "https://mq.prod.internal:15671"
# rabbitmq_api_user = "monitoring"
# rabbitmq_api_password = "change-me"
# vhost = "/"
# # Work queues to watch (each with its .dlq). Empty or left out: the reference
# # topology payment.callback, inventory.sync, fulfillment, logistics.updates,
# # settlement, notify.customer.
# queues = []
# # No remediations from this environment (a wall screen, a shared login).
# read_only = true
#
# [env.staging]
# database_url = "postgres://orderdeck@db.staging.internal:5432/orders"
# amqp_url = "amqp://orderdeck@mq.staging.internal:5672/%2f"
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> Config {
        match parse(src, Path::new("/c/config.toml")) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn parse_err(src: &str) -> String {
        match parse(src, Path::new("/c/config.toml")) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(e) => {
                let s = e.to_string();
                assert!(!s.contains('\n'), "multi-line: {s}");
                s
            }
        }
    }

    #[test]
    fn keys_and_mouse() {
        use crate::state::keys::{Action, Key};
        let c =
            parse_ok("mouse = true\n[keys]\nrelease_lock = \"U\"\nquit = [\"q\", \"Ctrl-q\"]\n");
        assert!(c.mouse);
        let km = c.keymap().expect("valid keys");
        assert_eq!(km.action_for(Key::char('U')), Some(Action::ReleaseLock));
        assert_eq!(km.action_for(Key::char('u')), None);
        assert_eq!(km.action_for(Key::ctrl('q')), Some(Action::Quit));
        // The template's commented example, uncommented, is valid.
        let example: String = TEMPLATE
            .lines()
            .skip_while(|l| *l != "# [keys]")
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        assert!(example.starts_with("[keys]\n"), "{example}");
        let km = parse_ok(&example)
            .keymap()
            .expect("the template's example is valid");
        assert_eq!(km.action_for(Key::char('U')), Some(Action::ReleaseLock));
        assert_eq!(km.action_for(Key::ctrl('q')), Some(Action::Quit));
        assert_eq!(km.action_for(Key::char('Y')), Some(Action::Copy));
        let e = parse_err("[keys]\nretry = \"v\"\ncopy = \"v\"\n");
        assert!(
            e.starts_with("/c/config.toml:3:8: keys.copy: \"v\" is also bound to keys.retry"),
            "{e}"
        );
    }

    #[test]
    fn template_parses_to_defaults() {
        assert_eq!(parse_ok(TEMPLATE), Config::default());
    }

    #[test]
    fn template_examples_are_valid_when_uncommented() {
        let uncommented: String = TEMPLATE
            .lines()
            .map(|l| {
                let l = l.strip_prefix("# ").unwrap_or(l);
                if l.starts_with('[') || l.contains(" = ") {
                    l
                } else {
                    ""
                }
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = parse_ok(&uncommented);
        assert_eq!(c.alerts.log.len(), 1);
        assert_eq!(c.alerts.log[0].name, "order-errors");
        assert_eq!(c.env.len(), 2);
        assert_eq!(c.default_env.as_deref(), Some("staging"));
        assert_eq!(c.theme.as_deref(), Some("dark"));
        assert!(c.env["prod"].read_only);
    }

    #[test]
    fn full_config_round_trip() {
        let c = parse_ok(
            r#"
theme = "light"
clock = "local"
default_env = "prod"
[poll]
orders_secs = 10
rows_per_rule = 100000
[thresholds]
queue_ready_warn = 5
queue_ready_critical = 6
[env.prod]
database_url = "postgres://u:pw@h/db"
queues = ["a", "b"]
read_only = true
[env.local]
database_url = "sqlite:demo.db"
"#,
        );
        assert_eq!(c.clock, ClockMode::Local);
        assert_eq!(
            c.poll,
            Poll {
                orders_secs: 10,
                queues_secs: 2,
                rows_per_rule: 100_000,
            }
        );
        assert_eq!(c.thresholds.long_gap_minutes, 30);
        assert_eq!(c.env["prod"].queues, vec!["a", "b"]);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("pw"), "{dbg}");
    }

    #[test]
    fn validation_errors_name_file_line_and_key() {
        let e = parse_err("[poll]\norders_secs = 0\n");
        assert!(
            e.starts_with("/c/config.toml:2:15: poll.orders_secs must be at least 1"),
            "{e}"
        );
        let e = parse_err("[poll]\nrows_per_rule = 0\n");
        assert!(
            e.starts_with("/c/config.toml:2:17: poll.rows_per_rule must be at least 1"),
            "{e}"
        );
        let e = parse_err("[thresholds]\nqueue_ready_warn = 10\nqueue_ready_critical = 10\n");
        assert!(e.starts_with("/c/config.toml:2:"), "{e}");
        assert!(e.contains("must be below"), "{e}");
        let e = parse_err("[env.prod]\ndatabase_url = \"http://u:secret@h/db\"\n");
        assert!(
            e.starts_with(
                "/c/config.toml:2:16: env.prod.database_url: unsupported scheme \"http\""
            ),
            "{e}"
        );
        assert!(!e.contains("secret"), "{e}");
        let e = parse_err("[env.prod]\namqp_url = \"localhost\"\n");
        assert!(
            e.contains("env.prod.amqp_url: \"localhost\" has no scheme"),
            "{e}"
        );
        let e = parse_err("[env.\"\"]\n");
        assert!(e.contains("environment name \"\" is not usable"), "{e}");
        let e = parse_err("default_env = \"prod\"\n[env.staging]\n");
        assert!(
            e.starts_with("/c/config.toml:1:15: default_env = \"prod\": known: staging"),
            "{e}"
        );
        let e = parse_err("theme = \"\"\n");
        assert!(e.contains("is not a theme name"), "{e}");
        let e = parse_err("[env.x]\nqueues = [\"\"]\n");
        assert!(e.contains("env.x.queues"), "{e}");
    }

    #[test]
    fn alerts_section_with_log_rules() {
        let c = parse_ok(
            r#"
[alerts]
bell = true
zero_consumers = "always"
growing_samples = 0
[alerts.stuck_above]
zombie = 3
[[alerts.log]]
name = "order-errors"
file = "/var/log/orders/app.log"
expr = '"ERROR" AND ("order_timeout" OR "inventory_rollback")'
threshold_per_minute = 5
ignore_case = true
level = "critical"
[[alerts.log]]
name = "rollbacks"
file = "app.log"
expr = '"inventory_rollback"'
"#,
        );
        let a = &c.alerts;
        assert!(a.bell && a.queue_ready && a.dlq_not_empty);
        assert_eq!(a.zero_consumers, ZeroConsumers::Always);
        assert_eq!(a.growing_samples, 0);
        assert_eq!(
            a.stuck_above,
            BTreeMap::from([(crate::model::Family::Zombie, 3)]),
            "a table given replaces the default one"
        );
        assert_eq!(a.log.len(), 2);
        let r = &a.log[0];
        assert!(r.expr.expr.matches("ERROR order_timeout CO1"));
        assert_eq!(
            r.expr.source,
            r#""ERROR" AND ("order_timeout" OR "inventory_rollback")"#
        );
        assert_eq!(
            (r.threshold_per_minute, r.ignore_case, r.level),
            (5, true, crate::alerts::AlertLevel::Critical)
        );
        let d = &a.log[1];
        assert_eq!(
            (d.threshold_per_minute, d.ignore_case, d.level),
            (1, false, crate::alerts::AlertLevel::Warning),
            "defaults"
        );
        assert!(!AlertsConfig::default().bell, "the bell is off by default");
    }

    #[test]
    fn alert_errors_are_located() {
        let rule = |extra: &str| {
            format!(
                "[alerts]\n[[alerts.log]]\nname = \"r\"\nfile = \"a.log\"\nexpr = '\"x\"'\n{extra}"
            )
        };
        let e =
            parse_err("[[alerts.log]]\nname = \"r\"\nfile = \"a.log\"\nexpr = '\"ERROR\" AND ('\n");
        assert!(
            e.starts_with("/c/config.toml:4:8: log rule expr: expected a quoted term or '(' at col 14 (end of expression)"),
            "{e}"
        );
        let e = parse_err(&rule("threshold_per_minute = 0\n"));
        assert!(
            e.starts_with(
                "/c/config.toml:6:24: alerts.log \"r\": threshold_per_minute must be at least 1"
            ),
            "{e}"
        );
        let e = parse_err(&rule(
            "[[alerts.log]]\nname = \"r\"\nfile = \"b.log\"\nexpr = '\"y\"'\n",
        ));
        assert!(
            e.starts_with("/c/config.toml:7:8: alerts.log name \"r\" is used twice"),
            "{e}"
        );
        let e = parse_err("[[alerts.log]]\nname = \"a b\"\nfile = \"a.log\"\nexpr = '\"x\"'\n");
        assert!(
            e.starts_with("/c/config.toml:2:8: alerts.log name \"a b\" is not usable"),
            "{e}"
        );
        let e = parse_err("[[alerts.log]]\nname = \"r\"\nfile = \"\"\nexpr = '\"x\"'\n");
        assert!(
            e.starts_with("/c/config.toml:3:8: alerts.log \"r\": file is empty"),
            "{e}"
        );
        let e = parse_err("[[alerts.log]]\nname = \"r\"\nfile = \"a.log\"\n");
        assert!(e.contains("missing field `expr`"), "{e}");
        let e = parse_err("[alerts]\ngrowing_samples = 60\n");
        assert!(
            e.starts_with("/c/config.toml:2:19: alerts.growing_samples (60) must be at most 59"),
            "{e}"
        );
        let e = parse_err("[alerts.stuck_above]\nzombi = 1\n");
        assert!(e.contains("unknown variant `zombi`"), "{e}");
        let e = parse_err("[alerts]\nzero_consumers = \"never\"\n");
        assert!(
            e.contains("expected one of `off`, `backlog`, `always`"),
            "{e}"
        );
        let e = parse_err("[alerts]\nbel = true\n");
        assert!(e.contains("did you mean `bell`?"), "{e}");
    }

    #[test]
    fn resolve_env_picks_and_overrides() {
        let none = |_: &str| None;
        let empty = Config::default();
        let r = empty.resolve_env(None, none).expect("default env");
        assert_eq!(r.name, "default");
        assert_eq!(r.vhost, "/");
        assert_eq!(r.queues, REFERENCE_QUEUES.to_vec());
        assert_eq!(r.database_url, None);

        let one = parse_ok("[env.prod]\ndatabase_url = \"postgres://h/db\"\nvhost = \"orders\"\n");
        let r = one.resolve_env(None, none).expect("only env");
        assert_eq!((r.name.as_str(), r.vhost.as_str()), ("prod", "orders"));

        let two = parse_ok("[env.prod]\n[env.staging]\nread_only = true\n");
        let e = two
            .resolve_env(None, none)
            .expect_err("ambiguous")
            .to_string();
        assert!(e.contains("prod, staging") && e.contains("--env"), "{e}");
        let r = two.resolve_env(Some("staging"), none).expect("named");
        assert!(r.read_only);
        let e = two
            .resolve_env(Some("stagin"), none)
            .expect_err("unknown")
            .to_string();
        assert_eq!(
            e,
            "no environment \"stagin\" in the config; known: prod, staging (add an [env.NAME] section for a new one)"
        );
        let with_default = parse_ok("default_env = \"staging\"\n[env.prod]\n[env.staging]\n");
        assert_eq!(
            with_default.resolve_env(None, none).expect("default").name,
            "staging"
        );
        assert_eq!(
            with_default
                .resolve_env(Some("prod"), none)
                .expect("flag wins")
                .name,
            "prod"
        );

        let vars = |k: &str| match k {
            "ORDERDECK_DATABASE_URL" => Some("sqlite:/tmp/x.db".to_string()),
            "ORDERDECK_AMQP_URL" => Some(String::new()),
            "ORDERDECK_RABBITMQ_API" => Some("http://mq:15672".to_string()),
            _ => None,
        };
        let r = one.resolve_env(None, vars).expect("overrides");
        assert_eq!(r.database_url.as_deref(), Some("sqlite:/tmp/x.db"));
        assert_eq!(r.amqp_url, None, "empty variables are ignored");
        assert_eq!(r.rabbitmq_api.as_deref(), Some("http://mq:15672"));

        let bad = |k: &str| (k == "ORDERDECK_AMQP_URL").then(|| "redis://u:pw@h".to_string());
        let e = one
            .resolve_env(None, bad)
            .expect_err("bad override")
            .to_string();
        assert!(
            e.starts_with("environment variable ORDERDECK_AMQP_URL: unsupported scheme \"redis\""),
            "{e}"
        );
        assert!(!e.contains("pw"), "{e}");
    }

    #[test]
    fn masks_passwords() {
        let cases = [
            ("postgres://u:secret@h/db", "postgres://u:***@h/db"),
            (
                "error connecting to postgres://u:secret@h/db: refused",
                "error connecting to postgres://u:***@h/db: refused",
            ),
            ("amqp://u:p@ss@h:5672/%2f", "amqp://u:***@h:5672/%2f"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h:5432/db", "postgres://h:5432/db"),
            (
                "mysql://h/db?user=x&password=hunter2&ssl=1",
                "mysql://h/db?user=x&password=***&ssl=1",
            ),
            ("PASSWORD=abc def", "PASSWORD=*** def"),
            ("a://x:1@h and b://y:2@k", "a://x:***@h and b://y:***@k"),
            ("no urls here: a:b@c", "no urls here: a:b@c"),
            ("ünïcode://ü:ß@h ünï", "ünïcode://ü:***@h ünï"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(mask_secrets(input), want, "{input}");
        }
    }

    #[test]
    fn init_writes_template_privately_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/config.toml");
        assert_eq!(init(&path, false).expect("init"), path);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), TEMPLATE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let e = init(&path, false).expect_err("exists").to_string();
        assert_eq!(
            e,
            format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            )
        );
        std::fs::write(&path, "clock = \"local\"\n").expect("write");
        init(&path, true).expect("force");
        assert_eq!(load(&path).expect("load"), Config::default());
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn read_errors_are_one_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.toml");
        let e = load(&missing).expect_err("missing").to_string();
        assert!(
            e.starts_with(&format!(
                "cannot read {}: No such file or directory;",
                missing.display()
            )),
            "{e}"
        );
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(2 * 1024 * 1024)).expect("write");
        let e = load(&big).expect_err("big").to_string();
        assert!(e.contains("more than the 1048576 bytes allowed"), "{e}");
        let e = load(dir.path()).expect_err("a directory").to_string();
        assert!(e.starts_with("cannot read "), "{e}");
        assert!(!e.contains('\n'));
    }

    #[cfg(unix)]
    #[test]
    fn permission_warning_only_for_readable_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let set_mode = |m: u32| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        std::fs::write(
            &path,
            "[env.prod]\ndatabase_url = \"postgres://u:pw@h/db\"\n",
        )
        .expect("write");
        set_mode(0o644);
        let w = permission_warning(&path).expect("warning");
        assert!(w.contains("chmod 600") && w.contains("mode 644"), "{w}");
        assert!(!w.contains("pw@"), "{w}");
        set_mode(0o600);
        assert_eq!(permission_warning(&path), None);
        std::fs::write(&path, "[env.prod]\ndatabase_url = \"postgres://u@h/db\"\n").expect("write");
        set_mode(0o644);
        assert_eq!(permission_warning(&path), None, "no secret, no warning");
        std::fs::write(&path, "[env.prod]\nrabbitmq_api_password = \"x\"\n").expect("write");
        assert!(permission_warning(&path).is_some());
        // The template, as written by init, holds only commented-out examples.
        std::fs::write(&path, TEMPLATE).expect("write");
        assert_eq!(permission_warning(&path), None);
    }

    #[test]
    fn clock_values() {
        assert_eq!(parse_ok("clock = \"local\"\n").clock, ClockMode::Local);
        let e = parse_err("clock = \"gmt\"\n");
        assert!(
            e.ends_with("unknown variant `gmt`, expected `utc` or `local`"),
            "{e}"
        );
    }

    /// Pieces of plausible and hostile config text; random concatenations
    /// reach the validation paths far more often than random bytes do.
    const FRAGMENTS: &[&str] = &[
        "\n",
        "[poll]\n",
        "[thresholds]\n",
        "[env.prod]\n",
        "[env.\"\"]\n",
        "[env.a.b]\n",
        "orders_secs = ",
        "rows_per_rule = ",
        "queue_ready_warn = ",
        "queue_ready_critical = ",
        "long_gap_minutes = ",
        "amount_stuck_warn = ",
        "drain_critical_minutes = ",
        "database_url = ",
        "amqp_url = ",
        "rabbitmq_api = ",
        "queues = ",
        "vhost = ",
        "clock = ",
        "theme = ",
        "default_env = ",
        "0",
        "-1",
        "18446744073709551616",
        "1.5",
        "true",
        "\"postgres://u:p@h/db\"",
        "\"http://x\"",
        "\"\"",
        "\"local\"",
        "[\"\", \"a\"]",
        "\"",
        "=",
        "\u{1b}[2J",
        "\u{202e}",
        "é",
        "#",
        "'''",
        "{ a = 1 }",
        "[[env]]\n",
        "[alerts]\n",
        "[alerts.stuck_above]\n",
        "[[alerts.log]]\n",
        "name = ",
        "file = ",
        "expr = ",
        "growing_samples = ",
        "threshold_per_minute = ",
        "zombie = ",
        "'\"ERROR\" AND ('",
        "'\"a\" OR NOT \"b\"'",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        #[test]
        fn any_text_gives_config_or_one_clean_line(
            parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..16),
            noise in "\\PC{0,40}",
        ) {
            let src = format!("{}{noise}", parts.concat());
            if let Err(e) = parse(&src, Path::new("/c/config.toml")) {
                let msg = e.to_string();
                proptest::prop_assert!(!msg.chars().any(char::is_control), "{msg:?}");
                proptest::prop_assert!(msg.starts_with("/c/config.toml"), "{msg}");
            }
        }

        #[test]
        fn mask_hides_every_url_password(
            scheme in "[a-z][a-z0-9+]{0,8}",
            user in "[a-zA-Z0-9._-]{0,10}",
            password in "[a-zA-Z0-9!$%^*()@:/]{1,16}",
            host in "[a-z0-9.-]{1,12}(:[0-9]{1,5})?",
            around in "[a-zA-Z ,.:]{0,10}",
        ) {
            let text = format!("{around} {scheme}://{user}:{password}@{host}/db {around}");
            let masked = mask_secrets(&text);
            proptest::prop_assert!(masked.contains(&format!("{scheme}://{user}:***@")), "{masked}");
            proptest::prop_assert!(!masked.contains(&format!(":{password}@")), "{masked}");
            proptest::prop_assert_eq!(mask_secrets(&masked), masked.clone());
        }

        #[test]
        fn mask_never_panics(s in "\\PC{0,80}|.{0,80}") {
            let _ = mask_secrets(&s);
        }
    }
}
