//! The real RabbitMQ queue monitor.
//!
//! Two ways to read the queues, as DESIGN section 4 asks:
//! - the management HTTP API, when configured: one request per poll for the
//!   whole vhost, with unacked counts and publish/deliver rates. Preferred,
//!   because ten wallboards then cost the broker ten cheap requests instead
//!   of ten connections doing per-queue probes;
//! - AMQP alone (always possible): one connection, and a passive
//!   `queue.declare` per queue on a probe channel, which gives ready and
//!   consumer counts.
//!
//! When the API fails the poll falls back to AMQP and the API error stays
//! visible in [`RabbitMonitor::describe`] and [`RabbitMonitor::warning`].
//! Nothing connects in [`RabbitMonitor::new`]: the cockpit must start (and
//! show "down") with the broker down.

mod api;
pub(crate) mod link;

use crate::config::{ResolvedEnv, mask_secrets};
use crate::model::{QueueSnapshot, QueueStat};
use crate::sources::backoff::{Backoff, random_unit};
use crate::sources::{QueueMonitor, SourceError};
use chrono::Utc;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use api::parse_queue_list;

/// How long each network step may take before it counts as a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus the AMQP handshake.
    pub connect: Duration,
    /// One passive `queue.declare` (and opening its channel).
    pub declare: Duration,
    /// One management API request, body included.
    pub api: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            declare: Duration::from_secs(3),
            api: Duration::from_secs(3),
        }
    }
}

/// Where the management API is and how to log in to it.
#[derive(Clone, PartialEq)]
pub struct ApiSettings {
    /// Base URL, e.g. `http://127.0.0.1:15672` (a path prefix for a reverse
    /// proxy is kept).
    pub url: String,
    /// When absent: the user in `url`, else the AMQP URL's user.
    pub user: Option<String>,
    /// When absent: the password in `url`, else the AMQP URL's password.
    pub password: Option<String>,
}

/// Everything [`RabbitMonitor::new`] needs. `Debug` masks passwords.
#[derive(Clone, PartialEq)]
pub struct RabbitSettings {
    /// `amqp://user:password@host:5672/vhost`; optional only when the API is
    /// configured (then a failing API has nothing to fall back to).
    pub amqp_url: Option<String>,
    /// Used when `amqp_url` names no vhost, and for the API.
    pub vhost: String,
    /// Work queues; each one's `<queue>.dlq` is watched too.
    pub queues: Vec<String>,
    pub api: Option<ApiSettings>,
    /// The AMQP `connection_name` client property, so operators can tell the
    /// cockpit's connection apart in the management UI (and close it).
    pub connection_name: String,
    pub timeouts: Timeouts,
}

impl RabbitSettings {
    /// Settings for an environment of the config file; `None` when it
    /// configures no broker at all.
    pub fn from_env(env: &ResolvedEnv) -> Option<RabbitSettings> {
        if env.amqp_url.is_none() && env.rabbitmq_api.is_none() {
            return None;
        }
        Some(RabbitSettings {
            amqp_url: env.amqp_url.clone(),
            vhost: env.vhost.clone(),
            queues: env.queues.clone(),
            api: env.rabbitmq_api.as_ref().map(|url| ApiSettings {
                url: url.clone(),
                user: env.rabbitmq_api_user.clone(),
                password: env.rabbitmq_api_password.clone(),
            }),
            connection_name: default_connection_name(&env.name),
            timeouts: Timeouts::default(),
        })
    }
}

/// `orderdeck queue monitor (env prod, pid 4242)`.
pub fn default_connection_name(env_name: &str) -> String {
    format!(
        "orderdeck queue monitor (env {env_name}, pid {})",
        std::process::id()
    )
}

impl fmt::Debug for RabbitSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitSettings")
            .field("amqp_url", &self.amqp_url.as_deref().map(mask_secrets))
            .field("vhost", &self.vhost)
            .field("queues", &self.queues)
            .field("api", &self.api)
            .field("connection_name", &self.connection_name)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiSettings")
            .field("url", &mask_secrets(&self.url))
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The queue names one poll reports, in order: the work queues, then their
/// dead-letter queues (the layout the simulator uses too).
pub fn watched_queues(work_queues: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(work_queues.len() * 2);
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    for q in work_queues {
        push(q.clone());
    }
    for q in work_queues {
        // A queue listed as a DLQ is already watched as itself.
        if !q.ends_with(".dlq") {
            push(format!("{q}.dlq"));
        }
    }
    out
}

/// A watched queue the broker does not have.
fn missing(name: &str) -> QueueStat {
    QueueStat {
        name: name.to_string(),
        ready: 0,
        unacked: None,
        consumers: 0,
        publish_rate: None,
        deliver_rate: None,
        missing: true,
    }
}

/// "retry in 0.4 s", "retry in 12 s".
fn retry_in(wait: Duration) -> String {
    let s = wait.as_secs_f64();
    if s < 9.95 {
        format!("retry in {s:.1} s")
    } else {
        format!("retry in {} s", s.round() as u64)
    }
}

/// The management API's failures, remembered so a broken API costs one
/// request per backoff step rather than one per poll.
#[derive(Debug, Default)]
struct ApiHealth {
    last_error: Option<String>,
    retry_at: Option<Instant>,
    backoff: Backoff,
}

/// Reads RabbitMQ queue depths through the management API or AMQP.
pub struct RabbitMonitor {
    watched: Vec<String>,
    link: Option<link::Link>,
    api: Option<api::Api>,
    api_health: Mutex<ApiHealth>,
}

impl fmt::Debug for RabbitMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMonitor")
            .field("describe", &self.describe())
            .field("watched", &self.watched)
            .finish()
    }
}

/// AMQP's `shortstr`: queue names longer than this cannot exist.
const MAX_QUEUE_NAME: usize = 255;

impl RabbitMonitor {
    /// Checks the settings and prepares the clients; connects to nothing.
    pub fn new(settings: RabbitSettings) -> Result<RabbitMonitor, SourceError> {
        if settings.amqp_url.is_none() && settings.api.is_none() {
            return Err(SourceError::new(
                "no broker to watch: set amqp_url (and optionally rabbitmq_api) for this environment",
            ));
        }
        if settings.queues.is_empty() {
            return Err(SourceError::new(
                "no queues to watch: list the work queues in `queues`, or leave it out for the reference topology",
            ));
        }
        for q in &settings.queues {
            if q.trim().is_empty() || q.len() + ".dlq".len() > MAX_QUEUE_NAME {
                return Err(SourceError::new(format!(
                    "queue name {q:?} cannot be watched: names must be 1 to {} bytes long; fix `queues` in the config",
                    MAX_QUEUE_NAME - ".dlq".len()
                )));
            }
        }
        if settings.vhost.is_empty() {
            return Err(SourceError::new(
                "vhost is empty: use \"/\" for RabbitMQ's default vhost",
            ));
        }
        let link = settings
            .amqp_url
            .as_deref()
            .map(|url| {
                link::Link::new(
                    url,
                    &settings.vhost,
                    &settings.connection_name,
                    settings.timeouts,
                )
            })
            .transpose()?;
        let vhost = link
            .as_ref()
            .map_or_else(|| settings.vhost.clone(), |l| l.vhost().to_string());
        let api = settings
            .api
            .as_ref()
            .map(|a| {
                let fallback = link.as_ref().map(|l| l.credentials());
                api::Api::new(a, &vhost, fallback, settings.timeouts.api)
            })
            .transpose()?;
        Ok(RabbitMonitor {
            watched: watched_queues(&settings.queues),
            link,
            api,
            api_health: Mutex::new(ApiHealth::default()),
        })
    }

    /// Probes queues over AMQP on `n` channels at once instead of the
    /// default six; `1` is the old one-queue-after-another poll, which the
    /// broker benchmark measures beside the concurrent one.
    pub fn with_probe_channels(mut self, n: usize) -> Self {
        if let Some(link) = self.link.as_mut() {
            link.set_probe_channels(n);
        }
        self
    }

    /// The queue names each poll reports (work queues, then DLQs).
    pub fn watched(&self) -> &[String] {
        &self.watched
    }

    /// The management API's last error while polls fall back to AMQP; one
    /// line, no secrets. `None` when the API works or is not configured.
    pub fn warning(&self) -> Option<String> {
        self.api.as_ref()?;
        self.health().last_error.clone()
    }

    fn health(&self) -> MutexGuard<'_, ApiHealth> {
        // A panic elsewhere while holding it leaves plain data, still usable.
        self.api_health
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tries the API unless it is backing off; `None` means "use AMQP".
    async fn poll_api(&self, api: &api::Api) -> Option<Result<Vec<QueueStat>, SourceError>> {
        let (retry_at, last_error) = {
            let h = self.health();
            (h.retry_at, h.last_error.clone())
        };
        let now = Instant::now();
        if let Some(at) = retry_at.filter(|&at| now < at) {
            return match &self.link {
                Some(_) => None,
                None => Some(Err(SourceError(format!(
                    "{}; {}",
                    last_error.unwrap_or_else(|| "rabbitmq api failed".into()),
                    retry_in(at - now)
                )))),
            };
        }
        match api.fetch(&self.watched).await {
            Ok(api::Fetched::Complete(stats)) => {
                let mut h = self.health();
                h.backoff.reset();
                h.last_error = None;
                h.retry_at = None;
                Some(Ok(stats))
            }
            // Just-declared queues have no counts in the API until its next
            // stats emission (a few seconds); AMQP knows them now.
            Ok(api::Fetched::Pending(stats)) => match self.link {
                Some(_) => None,
                None => Some(Ok(stats)),
            },
            Err(e) => {
                let mut h = self.health();
                let wait = h.backoff.fail(random_unit());
                h.retry_at = Some(Instant::now() + wait);
                h.last_error = Some(e.0.clone());
                tracing::warn!(source = "broker", error = %e, "management api failed");
                Some(Err(e))
            }
        }
    }
}

impl QueueMonitor for RabbitMonitor {
    async fn poll(&self) -> Result<QueueSnapshot, SourceError> {
        let mut api_error = None;
        if let Some(api) = &self.api {
            match self.poll_api(api).await {
                Some(Ok(queues)) => {
                    return Ok(QueueSnapshot {
                        as_of: Utc::now(),
                        queues,
                    });
                }
                Some(Err(e)) => api_error = Some(e),
                None => {}
            }
        }
        let Some(link) = &self.link else {
            // Only an API was configured, and it failed (poll_api never
            // defers to a link that does not exist).
            return Err(api_error.unwrap_or_else(|| {
                SourceError::new("rabbitmq api failed and no amqp_url is set")
            }));
        };
        match link.poll(&self.watched).await {
            Ok(queues) => Ok(QueueSnapshot {
                as_of: Utc::now(),
                queues,
            }),
            Err(e) => match api_error.or_else(|| self.warning().map(SourceError)) {
                Some(api) => Err(SourceError(format!("{e} (management api: {api})"))),
                None => Err(e),
            },
        }
    }

    /// `amqp 127.0.0.1:5672/`, `rabbitmq api 127.0.0.1:15672, amqp
    /// 127.0.0.1:5672/`, with the API's failure appended while it lasts.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(api) = &self.api {
            parts.push(format!("rabbitmq api {}", api.endpoint()));
        }
        if let Some(link) = &self.link {
            parts.push(link.label());
        }
        let mut out = parts.join(", ");
        if let Some(w) = self.warning() {
            let fallback = if self.link.is_some() {
                ", using amqp"
            } else {
                ""
            };
            let w = self
                .api
                .as_ref()
                .and_then(|a| w.strip_prefix(&format!("rabbitmq api {} ", a.endpoint())))
                .unwrap_or(&w);
            out.push_str(&format!(" (api failing{fallback}: {w})"));
        }
        mask_secrets(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(amqp: Option<&str>, api: Option<&str>) -> RabbitSettings {
        RabbitSettings {
            amqp_url: amqp.map(str::to_string),
            vhost: "/".into(),
            queues: vec!["fulfillment".into(), "settlement".into()],
            api: api.map(|u| ApiSettings {
                url: u.into(),
                user: Some("ops".into()),
                password: Some("api-s3cret".into()),
            }),
            connection_name: "orderdeck test".into(),
            timeouts: Timeouts::default(),
        }
    }

    fn err(s: RabbitSettings) -> String {
        RabbitMonitor::new(s).expect_err("should be refused").0
    }

    #[test]
    fn watched_queues_add_each_dlq_once() {
        let q = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            watched_queues(&q(&["a", "b", "a", "c.dlq"])),
            q(&["a", "b", "c.dlq", "a.dlq", "b.dlq"])
        );
    }

    #[test]
    fn describe_names_endpoints_and_never_passwords() {
        let m = RabbitMonitor::new(settings(
            Some("amqp://app:pa55word@127.0.0.1:5672/%2f"),
            Some("http://127.0.0.1:15672"),
        ))
        .unwrap();
        assert_eq!(
            m.describe(),
            "rabbitmq api 127.0.0.1:15672, amqp 127.0.0.1:5672/"
        );
        let m = RabbitMonitor::new(settings(
            Some("amqps://app:pa55word@mq.example:5671/orders"),
            None,
        ))
        .unwrap();
        assert_eq!(m.describe(), "amqps mq.example:5671/orders");
        let m = RabbitMonitor::new(settings(None, Some("https://ops:pw@mq.example/rabbitmq/")))
            .unwrap();
        assert_eq!(m.describe(), "rabbitmq api mq.example:443/rabbitmq");
        let dbg = format!(
            "{:?}",
            settings(Some("amqp://app:pa55word@h/"), Some("http://h:15672"))
        );
        assert!(
            !dbg.contains("pa55word") && !dbg.contains("api-s3cret"),
            "{dbg}"
        );
    }

    #[test]
    fn a_url_without_a_vhost_uses_the_vhost_setting() {
        let mut s = settings(Some("amqp://h:5672"), None);
        s.vhost = "orders".into();
        let m = RabbitMonitor::new(s.clone()).unwrap();
        assert_eq!(m.describe(), "amqp h:5672/orders");
        s.amqp_url = Some("amqp://h:5672/".into());
        assert_eq!(
            RabbitMonitor::new(s).unwrap().describe(),
            "amqp h:5672/orders"
        );
    }

    #[test]
    fn conflicting_vhosts_are_refused() {
        let mut s = settings(Some("amqp://h:5672/payments"), None);
        s.vhost = "orders".into();
        let e = err(s);
        assert!(e.contains("payments") && e.contains("orders"), "{e}");
    }

    #[test]
    fn bad_urls_are_one_line_errors_without_secrets() {
        let cases = [
            settings(Some("http://u:hunter2@h:5672/"), None),
            settings(Some("amqp://u:hunter2@:5672/"), None),
            settings(Some("not a url hunter2"), None),
            settings(Some("amqp://u:hunter2@h:notaport/"), None),
            settings(Some("amqp://h/"), Some("ftp://u:hunter2@h:15672")),
            settings(Some("amqp://h/"), Some("http://u:hunter2@:15672")),
            settings(None, None),
        ];
        for s in cases {
            let e = err(s);
            assert!(!e.contains('\n'), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.len() > 20, "{e}");
        }
    }

    #[test]
    fn empty_queue_lists_and_overlong_names_are_refused() {
        let mut s = settings(Some("amqp://h/"), None);
        s.queues.clear();
        assert!(err(s.clone()).contains("queues"));
        s.queues = vec!["x".repeat(300)];
        assert!(err(s.clone()).contains("251"));
        s.queues = vec!["  ".into()];
        assert!(err(s).contains("queue name"));
    }

    #[test]
    fn retry_text_is_short() {
        assert_eq!(retry_in(Duration::from_millis(430)), "retry in 0.4 s");
        assert_eq!(retry_in(Duration::from_secs(17)), "retry in 17 s");
    }
}
