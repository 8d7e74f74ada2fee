//! The AMQP side: one connection, tracked explicitly and rebuilt with
//! backoff, and passive `queue.declare` probes on a few reusable channels
//! at once.
//!
//! lapin can recover connections by itself (`enable_auto_recover`), but a
//! cockpit must say "down" at once and never wait inside a poll; so
//! recovery stays off and this module decides when to reconnect.

use super::{Timeouts, missing, retry_in};
use crate::config::mask_secrets;
use crate::model::QueueStat;
use crate::sources::SourceError;
use crate::sources::backoff::{Backoff, random_unit};
use futures::{FutureExt, Stream, StreamExt};
use lapin::options::QueueDeclareOptions;
use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties, ErrorKind, Event};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::time::timeout;

type Events = Pin<Box<dyn Stream<Item = Event> + Send>>;

/// Channels probing at once. One channel answers one `queue.declare` at
/// a time, so probing 512 queues one after another took 63 ms, mostly
/// round trips; a handful of channels keeps the broker busy without
/// opening a channel per queue.
const PROBE_CHANNELS: usize = 6;

/// A connection believed to be up, with its error events and the channels
/// the probes use (each until a 404 closes it).
struct Live {
    conn: Connection,
    events: Events,
    probes: Vec<Option<Channel>>,
}

impl Live {
    /// The last connection-level error lapin reported, if any. Channel
    /// errors (our own 404s) are expected and skipped.
    fn last_error(&mut self) -> Option<String> {
        let mut last = None;
        while let Some(Some(event)) = self.events.next().now_or_never() {
            if let Event::Error(e) = event
                && !e.is_amqp_soft_error()
            {
                last = Some(e);
            }
        }
        last.map(|e| explain(&e))
    }
}

struct State {
    live: Option<Live>,
    backoff: Backoff,
    /// Why the link is down and when the next attempt may start.
    down: Option<(String, Instant)>,
}

pub(crate) struct Link {
    uri: AMQPUri,
    /// `host:port/vhost`, for messages (no user, no password).
    endpoint: String,
    scheme: &'static str,
    connection_name: String,
    timeouts: Timeouts,
    /// Channels probing at once (1: one queue after another).
    probe_channels: usize,
    state: tokio::sync::Mutex<State>,
}

/// What a failed probe means for the link.
enum Probe {
    Missing,
    /// The channel was closed for another reason; the connection is fine.
    Refused(String),
    /// The connection is gone or hung: drop it and back off.
    LinkDown(String),
    /// Like `LinkDown`, from lapin's error; the connection's own error
    /// event, when there is one, says it better.
    Lost(String),
}

impl Link {
    pub(crate) fn new(
        url: &str,
        vhost_setting: &str,
        connection_name: &str,
        timeouts: Timeouts,
    ) -> Result<Link, SourceError> {
        let shown = mask_secrets(url);
        let bad = |why: String| {
            SourceError(format!(
                "amqp_url {shown:?} {why}; expected e.g. amqp://user:password@host:5672/%2f"
            ))
        };
        // Unparseable text is not echoed: masking cannot find a password in
        // it, and the user knows which setting they wrote.
        let parsed = url::Url::parse(url.trim()).map_err(|e| {
            SourceError(format!(
                "amqp_url is not a URL ({e}); expected e.g. amqp://user:password@host:5672/%2f"
            ))
        })?;
        let scheme = match parsed.scheme() {
            "amqp" => "amqp",
            "amqps" => "amqps",
            other => return Err(bad(format!("has scheme {other:?}, not amqp or amqps"))),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("names no host".into()))?
            .to_string();
        let mut uri: AMQPUri = url
            .trim()
            .parse()
            .map_err(|e: String| bad(format!("cannot be read ({})", mask_secrets(&e))))?;
        // amq-protocol-uri only reads domain names; an IP literal would
        // silently become "localhost".
        uri.authority.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        // "amqp://h" and "amqp://h/" name no vhost in practice (the spec
        // reads the latter as the empty vhost, which nobody means).
        let from_url = match parsed.path() {
            "" | "/" => None,
            _ => Some(uri.vhost.clone()),
        };
        uri.vhost = match from_url {
            None => vhost_setting.to_string(),
            Some(v) if v == vhost_setting || vhost_setting == "/" => v,
            Some(v) => {
                return Err(SourceError(format!(
                    "amqp_url {shown:?} names vhost {v:?} but vhost is {vhost_setting:?}: remove one of them or make them agree"
                )));
            }
        };
        let port = uri.authority.port;
        let endpoint = match uri.vhost.as_str() {
            "/" => format!("{host}:{port}/"),
            v => format!("{host}:{port}/{v}"),
        };
        Ok(Link {
            uri,
            endpoint,
            scheme,
            connection_name: connection_name.to_string(),
            timeouts,
            probe_channels: PROBE_CHANNELS,
            state: tokio::sync::Mutex::new(State {
                live: None,
                backoff: Backoff::reconnect(),
                down: None,
            }),
        })
    }

    /// Probes on `n` channels at once (at least one) from the next connect on.
    pub(super) fn set_probe_channels(&mut self, n: usize) {
        self.probe_channels = n.max(1);
    }

    /// The parsed URI (with credentials: never shown).
    pub(crate) fn uri(&self) -> AMQPUri {
        self.uri.clone()
    }

    pub(super) fn vhost(&self) -> &str {
        &self.uri.vhost
    }

    /// The URL's user and password, which the management API may share.
    pub(super) fn credentials(&self) -> (String, String) {
        let u = &self.uri.authority.userinfo;
        (u.username.clone(), u.password.clone())
    }

    /// `amqp 127.0.0.1:5672/` (the default vhost) or `amqps host:5671/orders`.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.scheme, self.endpoint)
    }

    /// One reading of every watched queue, or why there is none.
    pub(super) async fn poll(&self, queues: &[String]) -> Result<Vec<QueueStat>, SourceError> {
        let mut st = self.state.lock().await;

        if let Some(live) = st.live.as_mut() {
            // Drained every poll: each 404 adds an event, and the queue of
            // events is unbounded.
            let error = live.last_error();
            if !live.conn.status().connected() {
                let reason = error.unwrap_or_else(|| "the connection was closed".to_string());
                return Err(self.fail(&mut st, reason));
            }
        }

        if st.live.is_none() {
            if let Some((reason, at)) = &st.down {
                let now = Instant::now();
                if now < *at {
                    return Err(SourceError(format!(
                        "{} down: {reason}; {}",
                        self.label(),
                        retry_in(*at - now)
                    )));
                }
            }
            match self.connect().await {
                Ok(live) => st.live = Some(live),
                Err(reason) => return Err(self.fail(&mut st, reason)),
            }
        }

        let Some(live) = st.live.as_mut() else {
            return Err(SourceError(format!("{} down", self.label())));
        };
        let probed = self.probe_all(live, queues).await;
        let mut stats = Vec::with_capacity(queues.len());
        let mut refused = None;
        for (name, outcome) in queues.iter().zip(probed) {
            match outcome {
                Some(Ok(stat)) => stats.push(stat),
                Some(Err(Probe::Missing)) => stats.push(missing(name)),
                Some(Err(Probe::Refused(why))) => {
                    refused.get_or_insert(why);
                }
                Some(Err(Probe::LinkDown(reason))) => return Err(self.fail(&mut st, reason)),
                Some(Err(Probe::Lost(e))) => {
                    let reason = live.last_error().unwrap_or(e);
                    return Err(self.fail(&mut st, reason));
                }
                // Not probed: another channel found the link down first.
                None => {}
            }
        }
        st.backoff.reset();
        st.down = None;
        match refused {
            // A queue we may not read would show as a wrong number; say so.
            Some(why) => Err(SourceError(format!("{}: {why}", self.label()))),
            None => Ok(stats),
        }
    }

    /// Drops the connection and schedules the next attempt.
    fn fail(&self, st: &mut State, reason: String) -> SourceError {
        st.live = None;
        let wait = st.backoff.fail(random_unit());
        st.down = Some((reason.clone(), Instant::now() + wait));
        SourceError(format!(
            "{} down: {reason}; {}",
            self.label(),
            retry_in(wait)
        ))
    }

    async fn connect(&self) -> Result<Live, String> {
        // lapin's default runtime binds to the current tokio runtime and
        // panics outside one; fail like any other connect instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("not running inside a tokio runtime".into());
        }
        let runtime = lapin::runtime::default_runtime().map_err(|e| explain(&e))?;
        let props = ConnectionProperties::default()
            .with_connection_name(self.connection_name.as_str().into());
        let limit = self.timeouts.connect;
        match timeout(
            limit,
            Connection::connect_uri_with_runtime(self.uri.clone(), props, runtime),
        )
        .await
        {
            Ok(Ok(conn)) => {
                let events: Events = Box::pin(conn.events_listener());
                Ok(Live {
                    conn,
                    events,
                    probes: vec![None; self.probe_channels],
                })
            }
            Ok(Err(e)) => Err(explain(&e)),
            Err(_) => Err(format!(
                "no answer within {} s (check the host, port and firewall)",
                limit.as_secs_f64()
            )),
        }
    }

    /// Every queue probed, in `queues`' order, on up to [`PROBE_CHANNELS`]
    /// channels at once, each taking the next queue when it is free. A
    /// missing queue's 404 closes only its channel, which the next probe on
    /// it replaces. The first link failure stops every channel: its queue
    /// says why and the queues not yet probed are `None`.
    async fn probe_all(
        &self,
        live: &mut Live,
        queues: &[String],
    ) -> Vec<Option<Result<QueueStat, Probe>>> {
        let next = AtomicUsize::new(0);
        let down = AtomicBool::new(false);
        let conn = &live.conn;
        let workers = live
            .probes
            .iter_mut()
            .take(queues.len().max(1))
            .map(|slot| {
                let (next, down) = (&next, &down);
                async move {
                    let mut out = Vec::new();
                    while !down.load(Ordering::SeqCst) {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(name) = queues.get(i) else {
                            break;
                        };
                        let r = self.probe(conn, slot, name).await;
                        if matches!(r, Err(Probe::LinkDown(_) | Probe::Lost(_))) {
                            down.store(true, Ordering::SeqCst);
                        }
                        out.push((i, r));
                    }
                    out
                }
            });
        let mut probed: Vec<Option<Result<QueueStat, Probe>>> =
            std::iter::repeat_with(|| None).take(queues.len()).collect();
        for (i, r) in futures::future::join_all(workers)
            .await
            .into_iter()
            .flatten()
        {
            probed[i] = Some(r);
        }
        probed
    }

    async fn probe(
        &self,
        conn: &Connection,
        slot: &mut Option<Channel>,
        name: &str,
    ) -> Result<QueueStat, Probe> {
        let limit = self.timeouts.declare;
        let timed_out = |what: &str| {
            Probe::LinkDown(format!(
                "{what} got no answer within {} s",
                limit.as_secs_f64()
            ))
        };
        let channel = match slot.take() {
            Some(c) if c.status().connected() => c,
            _ => match timeout(limit, conn.create_channel()).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return Err(Probe::LinkDown(explain(&e))),
                Err(_) => return Err(timed_out("opening a channel")),
            },
        };
        let declare = channel.queue_declare(
            name.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        );
        match timeout(limit, declare).await {
            Ok(Ok(q)) => {
                *slot = Some(channel);
                Ok(QueueStat {
                    name: name.to_string(),
                    ready: u64::from(q.message_count()),
                    // A passive declare says ready and consumers only.
                    unacked: None,
                    consumers: q.consumer_count(),
                    publish_rate: None,
                    deliver_rate: None,
                    missing: false,
                })
            }
            // The 404 closed the channel; the next probe opens another.
            Ok(Err(e)) if soft(&e) == Some(AMQPSoftError::NOTFOUND) => Err(Probe::Missing),
            Ok(Err(e)) if soft(&e).is_some() && conn.status().connected() => {
                Err(Probe::Refused(format!(
                    "cannot inspect queue {name:?}: {}; check the user's permissions on vhost {:?}",
                    explain(&e),
                    self.uri.vhost
                )))
            }
            // The poll replaces this with the connection's own error, if any.
            Ok(Err(e)) => Err(Probe::Lost(explain(&e))),
            Err(_) => Err(timed_out(&format!("queue.declare of {name:?}"))),
        }
    }
}

fn soft(e: &lapin::Error) -> Option<AMQPSoftError> {
    match e.kind() {
        ErrorKind::ProtocolError(p) => match p.kind() {
            AMQPErrorKind::Soft(s) => Some(s.clone()),
            AMQPErrorKind::Hard(_) => None,
        },
        _ => None,
    }
}

/// lapin's error as one line with a hint at what to do.
pub(crate) fn explain(e: &lapin::Error) -> String {
    let line = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match e.kind() {
        ErrorKind::IOError(io) => {
            let hint = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    " (is RabbitMQ running on that host and port?)"
                }
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof => {
                    " (the broker dropped the connection: wrong credentials or vhost, or a restart?)"
                }
                _ => "",
            };
            line(format!("{io}{hint}"))
        }
        ErrorKind::ProtocolError(p) => {
            let hint = match p.kind() {
                AMQPErrorKind::Hard(AMQPHardError::NOTALLOWED) => {
                    " (does the vhost exist, and may this user use it?)"
                }
                AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => {
                    " (check the user and password in amqp_url)"
                }
                AMQPErrorKind::Hard(AMQPHardError::CONNECTIONFORCED) => {
                    " (closed by an operator or a broker shutdown)"
                }
                _ => "",
            };
            line(format!("{}{hint}", p.get_message()))
        }
        _ => line(mask_secrets(&e.to_string())),
    }
}
