//! The reference RabbitMQ topology (DESIGN section 3) and how to declare it:
//! topic exchange `orders`, dead-letter exchange `orders.dlx`, six durable
//! work queues bound to `orders` by their own name, each dead-lettering
//! through `orders.dlx` into `<queue>.dlq`.
//!
//! Declaring is idempotent: RabbitMQ accepts a redeclare with the same
//! flags and arguments. When an existing queue or exchange differs, the
//! broker answers 406 PRECONDITION_FAILED and closes the channel; that is
//! reported as [`DeclareError::Mismatch`] with what to do about it.

use crate::config::{REFERENCE_QUEUES, mask_secrets};
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, ErrorKind, ExchangeKind};
use std::fmt;
use std::time::Duration;

/// Names of the topology's exchanges and queues.
///
/// The product always uses [`Topology::reference`]. Tests that share one
/// broker use [`Topology::with_prefix`], which prefixes every exchange and
/// queue name (routing keys stay the reference ones), so parallel runs do
/// not read each other's messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topology {
    prefix: String,
}

impl Topology {
    pub fn reference() -> Self {
        Topology::default()
    }

    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Topology {
            prefix: prefix.into(),
        }
    }

    /// The topic exchange work messages are published to.
    pub fn exchange(&self) -> String {
        format!("{}orders", self.prefix)
    }

    pub fn dead_letter_exchange(&self) -> String {
        format!("{}orders.dlx", self.prefix)
    }

    /// The queue for a reference queue name such as `payment.callback`.
    pub fn queue(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }

    pub fn dlq(&self, base: &str) -> String {
        format!("{}{base}.dlq", self.prefix)
    }

    /// The reference names of the work queues; also their routing keys.
    pub fn work_queues(&self) -> [&'static str; 6] {
        REFERENCE_QUEUES
    }

    /// The arguments a work queue is declared with. They must match on every
    /// redeclare, so they are built in one place.
    pub fn queue_arguments(&self, base: &str) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(LongString::from(self.dead_letter_exchange())),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(LongString::from(base.to_string())),
        );
        args
    }
}

/// What [`declare_topology`] declared, for printing.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub exchanges: Vec<DeclaredExchange>,
    pub queues: Vec<DeclaredQueue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredExchange {
    pub name: String,
    pub kind: &'static str,
    pub role: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredQueue {
    pub name: String,
    /// The exchange it is bound to and the routing key.
    pub bound_to: String,
    pub routing_key: String,
    /// Where its rejected messages go (`None` for a dead-letter queue).
    pub dead_letters_to: Option<String>,
    /// Ready messages at declare time.
    pub messages: u32,
    pub consumers: u32,
}

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.exchanges {
            writeln!(
                f,
                "exchange {:<28} {}, durable ({})",
                e.name, e.kind, e.role
            )?;
        }
        for q in &self.queues {
            let dl = match &q.dead_letters_to {
                Some(dlq) => format!(", dead-letters to {dlq}"),
                None => String::new(),
            };
            writeln!(
                f,
                "queue    {:<28} durable, bound to {} by {:?}{dl}; {} ready, {} consumer{}",
                q.name,
                q.bound_to,
                q.routing_key,
                q.messages,
                q.consumers,
                if q.consumers == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// Why declaring failed, phrased for one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeclareError {
    /// An exchange or queue exists with other arguments or flags (406).
    #[error(
        "{kind} {name} exists with different arguments or flags (RabbitMQ: {server}); orderdeck needs {wanted}: move its messages away, delete it (rabbitmqctl delete_{kind} {name}) and declare again, or use another vhost"
    )]
    Mismatch {
        kind: &'static str,
        name: String,
        server: String,
        wanted: String,
    },
    /// Anything else the broker or the connection said.
    #[error("declaring {what} failed: {message}")]
    Broker { what: String, message: String },
}

/// Declares the reference topology on `channel`. On error the channel may
/// be closed (RabbitMQ closes it on 406): open a new one to go on.
pub async fn declare_reference_topology(channel: &Channel) -> Result<Declared, DeclareError> {
    declare_topology(channel, &Topology::reference()).await
}

/// Declares `topology` on `channel`; see [`declare_reference_topology`].
pub async fn declare_topology(
    channel: &Channel,
    topology: &Topology,
) -> Result<Declared, DeclareError> {
    let mut declared = Declared {
        exchanges: Vec::new(),
        queues: Vec::new(),
    };
    for (name, role) in [
        (topology.exchange(), "work messages"),
        (topology.dead_letter_exchange(), "dead letters"),
    ] {
        channel
            .exchange_declare(
                ShortString::from(name.clone()),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| classify("exchange", &name, "a durable topic exchange", e))?;
        declared.exchanges.push(DeclaredExchange {
            name,
            kind: "topic",
            role,
        });
    }
    for base in topology.work_queues() {
        let name = topology.queue(base);
        let dlq = topology.dlq(base);
        let wanted = format!(
            "durable, x-dead-letter-exchange={}, x-dead-letter-routing-key={base}",
            topology.dead_letter_exchange()
        );
        let q = declare_queue(channel, &name, topology.queue_arguments(base), &wanted).await?;
        bind(channel, &name, &topology.exchange(), base).await?;
        declared.queues.push(DeclaredQueue {
            name: name.clone(),
            bound_to: topology.exchange(),
            routing_key: base.to_string(),
            dead_letters_to: Some(dlq.clone()),
            messages: q.message_count(),
            consumers: q.consumer_count(),
        });
        let q = declare_queue(
            channel,
            &dlq,
            FieldTable::default(),
            "durable, no arguments",
        )
        .await?;
        bind(channel, &dlq, &topology.dead_letter_exchange(), base).await?;
        declared.queues.push(DeclaredQueue {
            name: dlq,
            bound_to: topology.dead_letter_exchange(),
            routing_key: base.to_string(),
            dead_letters_to: None,
            messages: q.message_count(),
            consumers: q.consumer_count(),
        });
    }
    Ok(declared)
}

async fn declare_queue(
    channel: &Channel,
    name: &str,
    args: FieldTable,
    wanted: &str,
) -> Result<lapin::Queue, DeclareError> {
    channel
        .queue_declare(
            ShortString::from(name.to_string()),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .map_err(|e| classify("queue", name, wanted, e))
}

async fn bind(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    key: &str,
) -> Result<(), DeclareError> {
    channel
        .queue_bind(
            ShortString::from(queue.to_string()),
            ShortString::from(exchange.to_string()),
            ShortString::from(key.to_string()),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| DeclareError::Broker {
            what: format!("binding {queue} to {exchange}"),
            message: one_line(&e.to_string()),
        })
}

/// 406 becomes [`DeclareError::Mismatch`]; the rest is passed on.
fn classify(kind: &'static str, name: &str, wanted: &str, e: lapin::Error) -> DeclareError {
    if let ErrorKind::ProtocolError(amqp) = e.kind()
        && amqp.get_id() == 406
    {
        return DeclareError::Mismatch {
            kind,
            name: name.to_string(),
            server: one_line(amqp.get_message().as_str()),
            wanted: wanted.to_string(),
        };
    }
    DeclareError::Broker {
        what: format!("{kind} {name}"),
        message: one_line(&e.to_string()),
    }
}

/// Why connecting to the broker failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// The URL itself is wrong (exit code 2).
    #[error("bad AMQP URL {url}: {reason} (expected amqp://user:password@host:5672/vhost)")]
    BadUrl { url: String, reason: String },
    /// The broker cannot be reached or refused us (exit code 3).
    #[error(
        "RabbitMQ at {url} unreachable: {reason}; is the broker running and are the URL and credentials right?"
    )]
    Unreachable { url: String, reason: String },
}

/// Longest a connection attempt may take before the broker counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to RabbitMQ at `url`, naming the connection `name` (shown by
/// `rabbitmqctl list_connections client_properties`). Errors carry the URL
/// with its password masked.
pub async fn connect(url: &str, name: &str) -> Result<Connection, ConnectError> {
    let masked = mask_secrets(url);
    let uri: lapin::uri::AMQPUri =
        url.trim()
            .parse()
            .map_err(|e: String| ConnectError::BadUrl {
                url: masked.clone(),
                reason: one_line(&mask_secrets(&e)),
            })?;
    let props = ConnectionProperties::default().with_connection_name(LongString::from(name));
    let unreachable = |reason: String| ConnectError::Unreachable {
        url: masked.clone(),
        reason: one_line(&mask_secrets(&reason)),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect_uri(uri, props)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_names_follow_the_design() {
        let t = Topology::reference();
        assert_eq!(t.exchange(), "orders");
        assert_eq!(t.dead_letter_exchange(), "orders.dlx");
        assert_eq!(t.queue("payment.callback"), "payment.callback");
        assert_eq!(t.dlq("payment.callback"), "payment.callback.dlq");
        assert_eq!(t.work_queues()[3], "logistics.updates");
    }

    #[test]
    fn a_prefix_renames_everything_but_routing_keys() {
        let t = Topology::with_prefix("t1.");
        assert_eq!(t.exchange(), "t1.orders");
        assert_eq!(t.dlq("settlement"), "t1.settlement.dlq");
        let args = t.queue_arguments("settlement");
        let get = |k: &str| match args.inner().get(k) {
            Some(AMQPValue::LongString(s)) => s.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(get("x-dead-letter-exchange"), "t1.orders.dlx");
        assert_eq!(get("x-dead-letter-routing-key"), "settlement");
    }

    #[test]
    fn a_mismatch_says_what_to_do() {
        let e = DeclareError::Mismatch {
            kind: "queue",
            name: "payment.callback".into(),
            server: "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange'".into(),
            wanted: "durable, x-dead-letter-exchange=orders.dlx".into(),
        };
        let s = e.to_string();
        assert!(s.starts_with("queue payment.callback exists with different arguments"));
        assert!(s.contains("rabbitmqctl delete_queue payment.callback"));
        assert!(!s.contains('\n'));
    }

    #[tokio::test]
    async fn a_bad_url_is_a_usage_error_and_masks_the_password() {
        for url in [
            "amqp://guest:hunter2@host:port",
            "http://guest:hunter2@host",
        ] {
            let e = connect(url, "test").await.unwrap_err();
            assert!(matches!(e, ConnectError::BadUrl { .. }), "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(e.to_string().contains("guest:***@"), "{e}");
        }
    }
}
