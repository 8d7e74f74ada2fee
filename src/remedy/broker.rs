//! Where a remediation's messages go: RabbitMQ with publisher confirms, the
//! demo's simulated broker, or nowhere (a database-only environment, where
//! a fix that must publish is refused before it starts).

use crate::broker::memory::{Message as SimMessage, Payload, Queue as SimQueue, SimBroker};
use crate::broker::{RETRY_HEADER, retries_of};
use crate::sources::amqp::link::explain;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::timeout;

/// A message a remediation sends.
#[derive(Debug, Clone, PartialEq)]
pub struct OutMessage {
    pub exchange: String,
    pub routing_key: String,
    pub message_id: String,
    pub order_id: Option<i64>,
    pub body: Vec<u8>,
}

impl OutMessage {
    /// One line for the preview: where it goes, its id and the body's start.
    pub fn describe(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let excerpt = crate::sanitize::sanitize_capped(&body, 160);
        let exchange = if self.exchange.is_empty() {
            "(default)"
        } else {
            &self.exchange
        };
        format!(
            "publish exchange={exchange} routing_key={} message_id={} body={excerpt}",
            self.routing_key, self.message_id
        )
    }
}

/// How long one publish may wait for its confirm, and a connect.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Confirms outstanding at once while requeueing.
const REQUEUE_WINDOW: usize = 500;
/// Confirmed dead letters acked with one `multiple` ack when no filter is
/// set: one ack frame per message made the ack loop, not the broker, the
/// limit (47% of a plain publish loop; DESIGN section 9 asks for 50%).
const ACK_BATCH: usize = 100;
/// A DLQ that delivers nothing for this long is taken as drained.
const IDLE: Duration = Duration::from_millis(1500);
/// Any one broker round trip of a requeue. lapin can leave a future
/// pending when its connection dies at an unlucky moment; a requeue must
/// then reconnect, not wait forever.
const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// `f` within [`OP_TIMEOUT`], its error explained in one line.
async fn bounded<T>(
    f: impl std::future::Future<Output = Result<T, lapin::Error>>,
) -> Result<T, String> {
    match timeout(OP_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(explain(&e)),
        Err(_) => Err(format!(
            "no answer from the broker within {} s",
            OP_TIMEOUT.as_secs()
        )),
    }
}

pub enum Broker {
    /// No broker configured: remediations that publish are refused.
    None,
    Amqp(Box<AmqpBroker>),
    Sim(SimBroker),
}

impl Broker {
    pub fn describe(&self) -> String {
        match self {
            Broker::None => "no broker".into(),
            Broker::Amqp(a) => a.label.clone(),
            Broker::Sim(_) => "simulated broker".into(),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Broker::None)
    }

    /// Publishes every message and returns once all are confirmed; the first
    /// nack, unroutable return or timeout is an error.
    pub async fn publish(&self, msgs: &[OutMessage]) -> Result<usize, String> {
        self.publish_on(0, msgs).await
    }

    /// [`Broker::publish`] on publisher connection `lane` (the heal's
    /// retries and cancellations confirm side by side on two of them).
    pub async fn publish_on(&self, lane: usize, msgs: &[OutMessage]) -> Result<usize, String> {
        if msgs.is_empty() {
            return Ok(0);
        }
        match self {
            Broker::None => Err("no broker is configured for this environment".into()),
            Broker::Sim(sim) => {
                let mut model = sim.model();
                for m in msgs {
                    let queue = sim_queue(&m.routing_key)?;
                    model.publish(
                        queue,
                        SimMessage {
                            order_id: m.order_id,
                            payload: sim_payload(queue),
                        },
                    );
                }
                Ok(msgs.len())
            }
            Broker::Amqp(a) => a.publish(lane, msgs).await,
        }
    }

    /// Ready messages in `dlq`.
    pub async fn depth(&self, dlq: &str) -> Result<u64, String> {
        match self {
            Broker::None => Err("no broker is configured for this environment".into()),
            Broker::Sim(sim) => {
                let q = sim_queue(dlq.strip_suffix(".dlq").unwrap_or(dlq))?;
                Ok(sim.model().dead_len(q) as u64)
            }
            Broker::Amqp(a) => a.depth(dlq).await,
        }
    }

    /// Moves up to `limit` dead letters from `<queue>.dlq` back to `queue`,
    /// acking each only after its republish is confirmed.
    pub async fn requeue(&self, req: &RequeueRequest) -> RequeueReport {
        match self {
            Broker::None => RequeueReport::failed("no broker is configured for this environment"),
            Broker::Sim(sim) => match sim_queue(&req.queue) {
                Ok(q) => {
                    let moved = sim
                        .model()
                        .requeue_dead_letters_limit(q, req.limit as usize);
                    RequeueReport {
                        moved: moved as u64,
                        ..RequeueReport::default()
                    }
                }
                Err(e) => RequeueReport::failed(&e),
            },
            Broker::Amqp(a) => a.requeue(req).await,
        }
    }
}

fn sim_queue(name: &str) -> Result<SimQueue, String> {
    SimQueue::ALL
        .into_iter()
        .find(|q| q.name() == name)
        .ok_or_else(|| format!("the simulated broker has no queue {name:?}"))
}

fn sim_payload(q: SimQueue) -> Payload {
    match q {
        SimQueue::PaymentCallback => Payload::PaymentCallback { ok: true },
        SimQueue::InventorySync => Payload::InventorySync,
        SimQueue::Fulfillment => Payload::Fulfil,
        SimQueue::LogisticsUpdates => Payload::Logistics("delivered"),
        SimQueue::Settlement => Payload::Settle,
        SimQueue::NotifyCustomer => Payload::Notify,
    }
}

pub use crate::model::remedy::RequeueRequest;

impl RequeueRequest {
    fn matches(&self, body: &[u8], props: &BasicProperties) -> bool {
        let Some(f) = &self.filter else {
            return true;
        };
        if String::from_utf8_lossy(body).contains(f.as_str()) {
            return true;
        }
        props.headers().as_ref().is_some_and(|h| {
            h.inner().iter().any(|(k, v)| {
                k.as_str().contains(f.as_str()) || header_text(v).contains(f.as_str())
            })
        })
    }
}

/// A header value as text, for filtering (strings as written, others as debug).
fn header_text(v: &AMQPValue) -> String {
    match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_string(),
        other => format!("{other:?}"),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequeueReport {
    /// Dead letters republished, confirmed and acked from the DLQ (each
    /// message id once, however many connections it took).
    pub moved: u64,
    /// Looked at and left in the DLQ by the filter.
    pub skipped: u64,
    /// Connections lost and re-opened during the run.
    pub reconnects: u32,
    /// Dead letters delivered again after a lost connection whose republish
    /// this run had already confirmed: acked without a second publish.
    pub deduplicated: u64,
    /// Messages that may be in the work queue twice, with the same message
    /// id for consumers to drop: republished again after the connection
    /// died between a publish and its confirm (the first copy may or may
    /// not have been taken), or confirmed but still in the DLQ when the run
    /// stopped (its ack was lost and it did not come back in time).
    pub maybe_duplicated: u64,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

impl RequeueReport {
    fn failed(e: &str) -> Self {
        RequeueReport {
            error: Some(e.to_string()),
            ..RequeueReport::default()
        }
    }
}

/// RabbitMQ over AMQP, connected on first use and re-connected after a loss.
pub struct AmqpBroker {
    uri: lapin::uri::AMQPUri,
    label: String,
    connection_name: String,
    /// One confirm channel per publisher lane, each on its own connection:
    /// RabbitMQ confirms two connections' publishes in parallel (100,000
    /// messages: 3.3 s over two connections, 5.7 s over one).
    links: [Mutex<Option<(Connection, Channel)>>; PUBLISHERS],
}

/// Publisher connections a remediation may use at once.
const PUBLISHERS: usize = 2;

impl AmqpBroker {
    /// A broker at `url` (checked here: a bad URL is a one-line error
    /// without its password); `vhost` applies when the URL names none.
    pub fn new(url: &str, vhost: &str, env_name: &str) -> Result<Self, String> {
        let link = crate::sources::amqp::link::Link::new(
            url,
            vhost,
            "orderdeck remediation",
            crate::sources::amqp::Timeouts::default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(AmqpBroker {
            uri: link.uri(),
            label: link.label(),
            connection_name: format!(
                "orderdeck remediation (env {env_name}, pid {})",
                std::process::id()
            ),
            links: std::array::from_fn(|_| Mutex::new(None)),
        })
    }

    async fn connect(&self, purpose: &str) -> Result<Connection, String> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("not running inside a tokio runtime".into());
        }
        let runtime = lapin::runtime::default_runtime().map_err(|e| explain(&e))?;
        let props = ConnectionProperties::default()
            .with_connection_name(format!("{} {purpose}", self.connection_name).into());
        match timeout(
            CONNECT_TIMEOUT,
            Connection::connect_uri_with_runtime(self.uri.clone(), props, runtime),
        )
        .await
        {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(format!("{}: {}", self.label, explain(&e))),
            Err(_) => Err(format!(
                "{}: no answer within {} s",
                self.label,
                CONNECT_TIMEOUT.as_secs()
            )),
        }
    }

    async fn confirm_channel(conn: &Connection) -> Result<Channel, String> {
        let ch = bounded(conn.create_channel()).await?;
        bounded(ch.confirm_select(ConfirmSelectOptions::default())).await?;
        Ok(ch)
    }

    async fn publish(&self, lane: usize, msgs: &[OutMessage]) -> Result<usize, String> {
        let lane = lane % PUBLISHERS;
        let mut link = self.links[lane].lock().await;
        let usable = link
            .as_ref()
            .is_some_and(|(c, ch)| c.status().connected() && ch.status().connected());
        if !usable {
            let purpose = match lane {
                0 => "publisher".to_string(),
                n => format!("publisher {}", n + 1),
            };
            let conn = self.connect(&purpose).await?;
            let ch = Self::confirm_channel(&conn).await?;
            *link = Some((conn, ch));
        }
        let Some((_, ch)) = link.as_ref() else {
            return Err("no channel".into());
        };
        let result = publish_all(ch, msgs).await;
        if result.is_err() {
            // A failed channel is not reused: the next attempt starts clean.
            *link = None;
        }
        result
    }

    async fn depth(&self, queue: &str) -> Result<u64, String> {
        let conn = self.connect("probe").await?;
        let result = async {
            let ch = bounded(conn.create_channel()).await?;
            match ready_count(&ch, queue).await {
                Ok(n) => Ok(u64::from(n)),
                Err(Pass::Lost(e) | Pass::Fatal(e)) => Err(e),
            }
        }
        .await;
        let _ = conn.close(200, "done".into()).await;
        result
    }

    async fn requeue(&self, req: &RequeueRequest) -> RequeueReport {
        let mut run = Run::default();
        let mut backoff = crate::sources::backoff::Backoff::reconnect();
        // Lost connections are retried; a run that cannot connect at all
        // (or keeps losing it) stops and says so.
        const MAX_RECONNECTS: u32 = 30;
        // Passes that found the DLQ refilled after they ended: a lost
        // connection's unacked dead letters go back to the DLQ when the
        // broker notices, which can be after the next pass looked.
        let mut late_passes = 0;
        loop {
            match self.requeue_once(req, &mut run).await {
                Ok(()) => {
                    let handled = run.taken();
                    // With a filter the DLQ keeps what it did not match, so
                    // a non-empty DLQ says nothing then.
                    let refilled = req.filter.is_none()
                        && handled < req.limit
                        && late_passes < 3
                        && self.depth(&req.dlq()).await.is_ok_and(|n| n > 0);
                    if !refilled {
                        return run.report;
                    }
                    late_passes += 1;
                }
                Err(Pass::Fatal(e)) => {
                    run.report.error = Some(e);
                    return run.report;
                }
                Err(Pass::Lost(e)) => {
                    if run.report.reconnects >= MAX_RECONNECTS {
                        run.report.error = Some(format!(
                            "gave up after {} reconnects: {e}",
                            run.report.reconnects
                        ));
                        return run.report;
                    }
                    run.report.reconnects += 1;
                    tracing::warn!(error = %e, "requeue: connection lost, reconnecting");
                    tokio::time::sleep(
                        backoff
                            .fail(crate::sources::backoff::random_unit())
                            .min(Duration::from_secs(2)),
                    )
                    .await;
                }
            }
        }
    }

    /// One connection's worth of requeueing; `Lost` means try again.
    async fn requeue_once(&self, req: &RequeueRequest, run: &mut Run) -> Result<(), Pass> {
        let conn = self.connect("requeue").await.map_err(Pass::Lost)?;
        let result = self.requeue_on(&conn, req, run).await;
        let _ = timeout(
            Duration::from_secs(2),
            conn.close(200, "requeue done".into()),
        )
        .await;
        result
    }

    async fn requeue_on(
        &self,
        conn: &Connection,
        req: &RequeueRequest,
        run: &mut Run,
    ) -> Result<(), Pass> {
        let lost = Pass::Lost;
        let dlq = req.dlq();
        let input = bounded(conn.create_channel()).await.map_err(lost)?;
        let output = Self::confirm_channel(conn).await.map_err(Pass::Lost)?;
        // The work queue must exist: publishing to a missing queue through
        // the default exchange would drop the message (mandatory returns it).
        ready_count(&output, &req.queue).await?;
        let depth = ready_count(&input, &dlq).await?;
        let remaining = req.limit.saturating_sub(run.taken());
        if remaining == 0 || depth == 0 {
            return Ok(());
        }
        let window = REQUEUE_WINDOW as u64 * 2;
        let prefetch = if req.filter.is_none() {
            u16::try_from(remaining.min(window)).unwrap_or(1000)
        } else {
            // Skipped dead letters stay unacked until the channel closes and
            // hold their prefetch slot all that time: a window would stop
            // the pass after the first window's worth. Room for the whole
            // DLQ instead; beyond 65,535 (the most basic.qos can say) no
            // limit, which streams the DLQ through at the broker's pace.
            u16::try_from(u64::from(depth) + window).unwrap_or(0)
        };
        bounded(input.basic_qos(prefetch, BasicQosOptions::default()))
            .await
            .map_err(lost)?;
        let mut consumer = bounded(input.basic_consume(
            dlq.as_str().into(),
            format!("orderdeck-requeue-{}", std::process::id()).into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        ))
        .await
        .map_err(lost)?;
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut seen: u64 = 0;
        let mut taken: u64 = 0;
        let mut expected = u64::from(depth);
        let finish = |in_flight: &mut VecDeque<_>| std::mem::take(in_flight);
        // Without a filter every delivery is republished or acked at once,
        // so confirmed dead letters can be acked many at a time.
        let batched = req.filter.is_none();
        loop {
            if taken >= remaining {
                break;
            }
            if seen >= expected {
                // Everything that was there is seen; what came back since
                // (a dead connection's deliveries, newly dead letters) is
                // ready again and worth another look.
                let ready = ready_count(&input, &dlq).await?;
                if ready == 0 {
                    break;
                }
                expected = seen + u64::from(ready);
            }
            let next = match timeout(IDLE, consumer.next()).await {
                Err(_) | Ok(None) => break,
                Ok(Some(Err(e))) => {
                    settle(run, finish(&mut in_flight)).await;
                    return Err(lost(explain(&e)));
                }
                Ok(Some(Ok(d))) => d,
            };
            seen += 1;
            if !req.matches(&next.data, &next.properties) {
                // Held unacked until the channel closes, so it is not
                // redelivered to this consumer in a loop.
                run.report.skipped += 1;
                continue;
            }
            taken += 1;
            let props = republished_props(&next.properties, &next.data);
            let id = props.message_id().as_ref().map(|s| id_key(s.as_str()));
            if next.redelivered
                && let Some(key) = id
                && let Some(acked) = run.confirmed.get(&key).copied()
            {
                // Its republish was confirmed before the connection was lost
                // and the ack with it: publishing again would only make a
                // duplicate, so the dead letter is just acked now.
                if let Err(e) = bounded(next.acker.ack(BasicAckOptions::default())).await {
                    settle(run, finish(&mut in_flight)).await;
                    return Err(lost(e));
                }
                run.report.deduplicated += 1;
                if !acked {
                    run.acked(key);
                }
                continue;
            }
            if next.redelivered
                && let Some(key) = id
                && run.unconfirmed.remove(&key)
            {
                // Published before, confirm lost with the connection: the
                // broker may hold that copy, so this one may be a second.
                run.report.maybe_duplicated += 1;
            }
            let confirm = bounded(output.basic_publish(
                ShortString::from(""),
                req.queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &next.data,
                props,
            ))
            .await;
            match confirm {
                Ok(confirm) => in_flight.push_back(InFlight {
                    acker: next.acker,
                    confirm,
                    id,
                }),
                Err(e) => {
                    // Whether the frame left before the failure is unknown.
                    run.unconfirmed(id);
                    settle(run, finish(&mut in_flight)).await;
                    return Err(lost(e));
                }
            }
            if in_flight.len() >= REQUEUE_WINDOW
                && let Err(e) = settle_oldest(run, &mut in_flight, ACK_BATCH, batched).await
            {
                settle(run, finish(&mut in_flight)).await;
                return Err(e);
            }
        }
        let all = in_flight.len();
        if let Err(e) = settle_oldest(run, &mut in_flight, all, batched).await {
            settle(run, finish(&mut in_flight)).await;
            return Err(e);
        }
        // Held (filtered-out) messages go back to the DLQ when the channel closes.
        let _ = timeout(
            Duration::from_secs(2),
            input.close(200, "requeue done".into()),
        )
        .await;
        Ok(())
    }
}

enum Pass {
    Lost(String),
    Fatal(String),
}

/// The ready messages of `queue`, which must exist (a passive declare). A
/// refusal from the broker (no such queue, no access) stops a requeue; no
/// answer or a lost connection is worth a reconnect.
async fn ready_count(ch: &Channel, queue: &str) -> Result<u32, Pass> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    match timeout(
        OP_TIMEOUT,
        ch.queue_declare(queue.into(), passive, FieldTable::default()),
    )
    .await
    {
        Ok(Ok(q)) => Ok(q.message_count()),
        Ok(Err(e)) if matches!(e.kind(), lapin::ErrorKind::ProtocolError(_)) => {
            Err(Pass::Fatal(format!("queue {queue}: {}", explain(&e))))
        }
        Ok(Err(e)) => Err(Pass::Lost(format!("queue {queue}: {}", explain(&e)))),
        Err(_) => Err(Pass::Lost(format!("queue {queue}: no answer to a check"))),
    }
}

/// What one requeue run remembers across its connections.
#[derive(Default)]
struct Run {
    report: RequeueReport,
    /// Message ids (hashed) whose republish the broker confirmed, and
    /// whether their dead letter's ack went out. A dead letter that comes
    /// back redelivered with one of these ids lost only its ack, so it is
    /// acked without being published twice.
    confirmed: HashMap<u64, bool>,
    /// Message ids published when the connection died, confirm unknown.
    unconfirmed: HashSet<u64>,
    /// Confirmed in the work queue, dead letter not acked.
    unacked: u64,
}

impl Run {
    /// Dead letters this run has put into the work queue, once each: what
    /// `--limit` counts.
    fn taken(&self) -> u64 {
        self.report.moved + self.unacked
    }

    /// Confirmed in the work queue, dead letter not acked (yet): in both
    /// queues until it is.
    fn confirmed_unacked(&mut self, id: Option<u64>) {
        self.report.maybe_duplicated += 1;
        self.unacked += 1;
        if let Some(key) = id {
            self.confirmed.insert(key, false);
        }
    }

    /// Published, confirm unknown (the connection died first).
    fn unconfirmed(&mut self, id: Option<u64>) {
        if let Some(key) = id {
            self.unconfirmed.insert(key);
        }
    }

    /// The dead letter of a confirmed republish is acked: moved, once.
    fn acked(&mut self, key: u64) {
        if self.confirmed.insert(key, true) == Some(false) {
            self.report.maybe_duplicated = self.report.maybe_duplicated.saturating_sub(1);
            self.unacked = self.unacked.saturating_sub(1);
        }
        self.report.moved += 1;
    }
}

/// A republished dead letter waiting for its confirm.
struct InFlight {
    acker: lapin::Acker,
    confirm: lapin::PublisherConfirm,
    id: Option<u64>,
}

/// Waits for the confirms of the `n` oldest republishes, then acks their
/// dead letters: with `batched` in one `multiple` ack (the broker's
/// delivery tags are in order, and everything up to the last tag is
/// settled), else one by one. A filtered run holds the messages it skips
/// unacked on the same channel, and a `multiple` ack would take them too.
async fn settle_oldest(
    run: &mut Run,
    in_flight: &mut VecDeque<InFlight>,
    n: usize,
    batched: bool,
) -> Result<(), Pass> {
    let mut ready: Vec<Option<u64>> = Vec::new();
    let mut last: Option<lapin::Acker> = None;
    for _ in 0..n {
        let Some(f) = in_flight.pop_front() else {
            break;
        };
        match confirmed(run, f).await {
            Ok((acker, id)) if batched => {
                ready.push(id);
                last = Some(acker);
            }
            Ok((acker, id)) => ack(run, &acker, vec![id], false).await?,
            Err(e) => {
                // Those confirmed before this one are still acked.
                if let Some(acker) = last {
                    let _ = ack(run, &acker, ready, true).await;
                }
                return Err(e);
            }
        }
    }
    match last {
        Some(acker) => ack(run, &acker, ready, true).await,
        None => Ok(()),
    }
}

/// Acks the dead letters whose republishes (`ids`) are confirmed.
async fn ack(
    run: &mut Run,
    acker: &lapin::Acker,
    ids: Vec<Option<u64>>,
    multiple: bool,
) -> Result<(), Pass> {
    match bounded(acker.ack(BasicAckOptions { multiple })).await {
        Ok(_) => {
            for id in ids {
                match id {
                    Some(key) => run.acked(key),
                    None => run.report.moved += 1,
                }
            }
            Ok(())
        }
        Err(e) => {
            // Confirmed in the work queue, ack unsure: the dead letters come
            // back on reconnect, redelivered, and are then acked without a
            // second publish.
            for id in ids {
                run.confirmed_unacked(id);
            }
            Err(Pass::Lost(e))
        }
    }
}

/// Waits for one republish's confirm: its dead letter's acker and id when
/// the broker took it, else why the run stops or reconnects.
async fn confirmed(run: &mut Run, f: InFlight) -> Result<(lapin::Acker, Option<u64>), Pass> {
    match timeout(CONFIRM_TIMEOUT, f.confirm).await {
        Ok(Ok(Confirmation::Ack(None))) => Ok((f.acker, f.id)),
        Ok(Ok(Confirmation::Ack(Some(_)))) => {
            let _ = f
                .acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
            Err(Pass::Fatal(
                "the work queue did not take the message (unroutable); stopped".into(),
            ))
        }
        Ok(Ok(Confirmation::Nack(_))) => {
            let _ = f
                .acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
            Err(Pass::Fatal(
                "the broker nacked a republish; stopped, the dead letter stays".into(),
            ))
        }
        Ok(Ok(Confirmation::NotRequested)) => Err(Pass::Fatal("publisher confirms are off".into())),
        // The confirm died with the connection: the broker may hold the
        // copy, so the next one counts as a possible duplicate.
        Ok(Err(e)) => {
            run.unconfirmed(f.id);
            Err(Pass::Lost(explain(&e)))
        }
        Err(_) => {
            run.unconfirmed(f.id);
            Err(Pass::Lost(format!(
                "no confirm within {} s",
                CONFIRM_TIMEOUT.as_secs()
            )))
        }
    }
}

/// After a connection loss nothing in flight can be acked any more: the
/// dead letters return to the DLQ by themselves. Those already confirmed
/// are in the work queue too.
async fn settle(run: &mut Run, in_flight: VecDeque<InFlight>) {
    for f in in_flight {
        match timeout(Duration::from_millis(50), f.confirm).await {
            Ok(Ok(Confirmation::Ack(None))) => run.confirmed_unacked(f.id),
            // Nacked or unroutable: the broker did not take it.
            Ok(Ok(Confirmation::Nack(_) | Confirmation::Ack(Some(_)))) => {}
            _ => run.unconfirmed(f.id),
        }
    }
}

/// A message id as a set key: 8 bytes instead of the id, so a requeue of a
/// million dead letters remembers them in a few megabytes.
fn id_key(id: &str) -> u64 {
    fnv1a(id.as_bytes())
}

/// FNV-1a, 64 bit: unlike `std`'s hasher it is specified, so the ids it
/// makes stay the same across orderdeck versions and machines.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The dead letter's properties for its way back: same id (a stable one
/// from the body when it had none), retry count plus one, and the dead-
/// lettering headers RabbitMQ added left in place for forensics.
fn republished_props(props: &BasicProperties, body: &[u8]) -> BasicProperties {
    let mut headers = props.headers().clone().unwrap_or_default();
    let retries = retries_of(props).saturating_add(1);
    headers.insert(RETRY_HEADER.into(), AMQPValue::LongUInt(retries));
    let id = match props.message_id() {
        Some(id) if !id.as_str().is_empty() => id.clone(),
        _ => ShortString::from(stable_id(body)),
    };
    props
        .clone()
        .with_headers(headers)
        .with_message_id(id)
        .with_delivery_mode(2)
}

/// `od-<hash>`: the same body always gets the same id, so a message
/// requeued twice after a lost ack is recognisable as one.
pub fn stable_id(body: &[u8]) -> String {
    format!("od-{:016x}", fnv1a(body))
}

async fn publish_all(ch: &Channel, msgs: &[OutMessage]) -> Result<usize, String> {
    let mut confirms = Vec::with_capacity(msgs.len());
    for m in msgs {
        let mut headers = FieldTable::default();
        headers.insert(RETRY_HEADER.into(), AMQPValue::LongUInt(0));
        let props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_app_id("orderdeck".into())
            .with_message_id(m.message_id.as_str().into())
            .with_headers(headers);
        let c = bounded(ch.basic_publish(
            m.exchange.as_str().into(),
            m.routing_key.as_str().into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            &m.body,
            props,
        ))
        .await?;
        confirms.push((m, c));
    }
    for (m, c) in confirms {
        match timeout(CONFIRM_TIMEOUT, c).await {
            Ok(Ok(Confirmation::Ack(None))) => {}
            Ok(Ok(Confirmation::Ack(Some(_)))) => {
                return Err(format!(
                    "no queue is bound for {} / {}",
                    m.exchange, m.routing_key
                ));
            }
            Ok(Ok(Confirmation::Nack(_))) => return Err("the broker nacked a message".into()),
            Ok(Ok(Confirmation::NotRequested)) => return Err("publisher confirms are off".into()),
            Ok(Err(e)) => return Err(explain(&e)),
            Err(_) => {
                return Err(format!("no confirm within {} s", CONFIRM_TIMEOUT.as_secs()));
            }
        }
    }
    Ok(msgs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn republished_dead_letters_keep_their_id_and_count_a_retry() {
        let mut h = FieldTable::default();
        h.insert(RETRY_HEADER.into(), AMQPValue::LongUInt(2));
        let props = BasicProperties::default()
            .with_message_id("m-1".into())
            .with_headers(h);
        let out = republished_props(&props, b"{}");
        assert_eq!(out.message_id().as_ref().map(|s| s.as_str()), Some("m-1"));
        assert_eq!(retries_of(&out), 3);
        let bare = republished_props(&BasicProperties::default(), b"{\"a\":1}");
        assert_eq!(retries_of(&bare), 1);
        let id = bare.message_id().clone().unwrap();
        assert_eq!(id.as_str(), stable_id(b"{\"a\":1}"));
        assert_ne!(stable_id(b"a"), stable_id(b"b"));
        // FNV-1a's published test vector: the id is the same everywhere.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn filters_look_at_body_and_headers() {
        let req = RequeueRequest {
            queue: "q".into(),
            limit: 10,
            filter: Some("SO-7".into()),
        };
        assert!(req.matches(b"{\"order_no\":\"SO-7\"}", &BasicProperties::default()));
        assert!(!req.matches(b"{\"order_no\":\"SO-8\"}", &BasicProperties::default()));
        let mut h = FieldTable::default();
        h.insert("order".into(), AMQPValue::LongString("SO-7".into()));
        assert!(req.matches(b"{}", &BasicProperties::default().with_headers(h)));
    }
}
