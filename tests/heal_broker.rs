//! The overlapped heal against real PostgreSQL and RabbitMQ, with the
//! broker cut midway: whole batches only, every committed order's message
//! confirmed in its queue, and a second heal that finishes the job without
//! fixing anything twice.
//!
//! Needs PostgreSQL and RabbitMQ with its management API (to make a vhost
//! of its own, so no real queue gets test messages):
//! `cargo test --test heal_broker -- --ignored`.

mod common;

use common::remedy_world as rw;
use common::scratch::Scratch;
use common::world::Db;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use orderdeck::remedy::Engine;
use orderdeck::remedy::HEAL_BATCH;
use orderdeck::remedy::audit::{Actor, AuditLog, Outcome};
use orderdeck::remedy::broker::{AmqpBroker, Broker};
use orderdeck::runbook::Runbook;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn amqp_url() -> String {
    std::env::var("ORDERDECK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn api_url() -> url::Url {
    let raw = std::env::var("ORDERDECK_TEST_RABBITMQ_API")
        .unwrap_or_else(|_| "http://guest:guest@127.0.0.1:15672".into());
    url::Url::parse(&raw).expect("ORDERDECK_TEST_RABBITMQ_API is a URL")
}

/// `amqp_url()` on `vhost`, through `port` when given.
fn url_on(vhost: &str, port: Option<u16>) -> String {
    let mut u = url::Url::parse(&amqp_url()).expect("AMQP URL");
    u.set_path(&format!("/{vhost}"));
    if let Some(p) = port {
        u.set_port(Some(p)).expect("port");
    }
    u.to_string()
}

/// Creates (`put`) or deletes a vhost through the management API, with
/// full permissions for the test user.
async fn vhost(name: &str, put: bool) {
    let api = api_url();
    let (user, password) = (
        api.username().to_string(),
        api.password().map(str::to_string),
    );
    let (user, password) = if user.is_empty() {
        ("guest".to_string(), Some("guest".to_string()))
    } else {
        (user, password)
    };
    let amqp_user = url::Url::parse(&amqp_url())
        .map(|u| u.username().to_string())
        .unwrap_or_else(|_| "guest".into());
    let client = reqwest::Client::new();
    let at = |path: &[&str]| {
        let mut u = api.clone();
        u.set_username("").ok();
        u.set_password(None).ok();
        u.path_segments_mut()
            .expect("API base")
            .pop_if_empty()
            .extend(path);
        u
    };
    if put {
        let r = client
            .put(at(&["api", "vhosts", name]))
            .basic_auth(&user, password.as_deref())
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("management API reachable (rabbitmq-plugins enable rabbitmq_management)");
        assert!(r.status().is_success(), "create vhost: {}", r.status());
        let r = client
            .put(at(&["api", "permissions", name, &amqp_user]))
            .basic_auth(&user, password.as_deref())
            .json(&serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"}))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("set permissions");
        assert!(r.status().is_success(), "permissions: {}", r.status());
    } else {
        let _ = client
            .delete(at(&["api", "vhosts", name]))
            .basic_auth(&user, password.as_deref())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
    }
}

/// A TCP proxy to the broker that, once cut, drops every connection
/// through it and refuses new ones: the broker is gone for the heal.
struct DownProxy {
    port: u16,
    down: tokio::sync::watch::Sender<bool>,
}

impl DownProxy {
    async fn start() -> DownProxy {
        let target = url::Url::parse(&amqp_url()).expect("AMQP URL");
        let upstream = format!(
            "{}:{}",
            target.host_str().unwrap_or("127.0.0.1"),
            target.port().unwrap_or(5672)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy listens");
        let port = listener.local_addr().expect("proxy address").port();
        let (down, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = rx.clone();
                if *cut.borrow_and_update() {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        DownProxy { port, down }
    }

    fn cut(&self) {
        let _ = self.down.send(true);
    }
}

/// Message ids in `queue`, consumed and acked.
async fn message_ids(conn: &Connection, queue: &str) -> HashSet<String> {
    let ch = conn.create_channel().await.expect("drain channel");
    ch.basic_qos(1000, BasicQosOptions::default())
        .await
        .expect("qos");
    // Counted before consuming: that many are owed, each waited for as
    // long as a loaded broker needs; the short idle wait after them only
    // picks up extras (which the callers' assertions then catch).
    let owed = ready_in(&ch, queue).await;
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut out = HashSet::new();
    let mut got = 0;
    loop {
        let wait = if got < owed {
            Duration::from_secs(60)
        } else {
            Duration::from_secs(2)
        };
        let d = match tokio::time::timeout(wait, consumer.next()).await {
            Ok(Some(Ok(d))) => d,
            _ if got < owed => {
                panic!("{queue}: {got} of {owed} ready messages delivered within a minute")
            }
            _ => break,
        };
        got += 1;
        if let Some(id) = d.properties.message_id() {
            out.insert(id.as_str().to_string());
        }
    }
    out
}

/// Ready messages in `queue` (a passive declare: it creates nothing).
async fn ready_in(ch: &lapin::Channel, queue: &str) -> usize {
    ch.queue_declare(
        queue.into(),
        lapin::options::QueueDeclareOptions {
            passive: true,
            ..lapin::options::QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{queue}: {e}"))
    .message_count() as usize
}

fn engine(
    store: orderdeck::sources::store::AnyStore,
    url: &str,
    vhost: &str,
    audit: &std::path::Path,
) -> Engine {
    let broker = AmqpBroker::new(url, vhost, "heal drill").expect("broker URL");
    Engine::new(
        Some(store),
        Broker::Amqp(Box::new(broker)),
        Arc::new(Runbook::builtin()),
        Actor {
            os_user: "oncall".into(),
            host: "bastion".into(),
            environment: "test".into(),
        },
        AuditLog::new(Some(audit.join("audit.jsonl"))),
    )
}

async fn run(engine: &Engine, limit: u32) -> orderdeck::remedy::Report {
    let now = common::now();
    match engine.preview(rw::heal_request(limit), now).await {
        Ok(p) => engine.execute(&p, false, now).await,
        Err(r) => r,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and RabbitMQ (run by .ci/run)"]
async fn a_broker_lost_mid_heal_leaves_whole_confirmed_batches() {
    const N: usize = 10_000;
    let vh = common::scratch::unique("healdrill");
    vhost(&vh, true).await;
    let admin = Connection::connect(&url_on(&vh, None), ConnectionProperties::default())
        .await
        .expect("RabbitMQ reachable on the test vhost");
    orderdeck::topology::declare_reference_topology(&admin.create_channel().await.unwrap())
        .await
        .expect("reference topology");

    let s = Scratch::postgres("healdrill").await;
    let store = s.store().await;
    let db = Db::of(&store);
    rw::plant_zombies(&db, N).await;
    let proxy = DownProxy::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cut_engine = engine(
        store.clone(),
        &url_on(&vh, Some(proxy.port)),
        &vh,
        dir.path(),
    );

    // The broker goes away once the first batch has committed.
    let watcher = {
        let db = Db::of(&store);
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while db
                .count(
                    "SELECT COUNT(*) FROM order_events WHERE source = 'ops'
                     AND kind IN ('fulfilment_retried', 'cancelled_and_notified')",
                    &[],
                )
                .await
                == 0
            {
                assert!(Instant::now() < deadline, "no batch ever committed");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            proxy.cut();
        }
    };
    let (r, ()) = tokio::join!(run(&cut_engine, N as u32), watcher);
    eprintln!("heal with the broker cut: {}", r.message);
    assert_eq!(r.outcome, Outcome::Failed, "{}", r.message);
    assert!(r.message.contains("run heal again"), "{}", r.message);

    let retried = db
        .strings(
            "SELECT o.order_no FROM orders o JOIN order_events e ON e.order_id = o.id
             WHERE e.source = 'ops' AND e.kind = 'fulfilment_retried'",
        )
        .await;
    let cancelled = db
        .strings("SELECT order_no FROM orders WHERE status = 'cancelled'")
        .await;
    assert!(!retried.is_empty() || !cancelled.is_empty());
    assert!(
        retried.len() + cancelled.len() < N,
        "the cut stopped the heal"
    );
    assert_eq!(retried.len() % HEAL_BATCH, 0, "whole retry batches only");
    assert_eq!(cancelled.len() % HEAL_BATCH, 0, "whole cancel batches only");
    assert_eq!(r.affected as usize, retried.len() + cancelled.len());

    // Committed means confirmed: every committed order's message is queued.
    let work = message_ids(&admin, "fulfillment").await;
    let apologies = message_ids(&admin, "notify.customer").await;
    for no in &retried {
        assert!(
            work.iter()
                .any(|id| id.starts_with(&format!("retry_fulfilment:{no}:"))),
            "retried {no} has no confirmed work order"
        );
    }
    for no in &cancelled {
        assert!(
            apologies.contains(&format!("cancel_and_notify:{no}")),
            "cancelled {no} has no confirmed apology"
        );
    }

    // Heal again with the broker back: the rest, nothing twice.
    let again = run(
        &engine(store.clone(), &url_on(&vh, None), &vh, dir.path()),
        N as u32,
    )
    .await;
    assert_eq!(again.outcome, Outcome::Ok, "{}", again.message);
    assert_eq!(again.affected as usize, N - retried.len() - cancelled.len());
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM order_events WHERE source = 'ops'
             AND kind IN ('fulfilment_retried', 'cancelled_and_notified')",
            &[],
        )
        .await,
        N as i64,
        "one fix per order"
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'",
            &[]
        )
        .await,
        (N / 2) as i64
    );
    let _ = admin.close(200, "done".into()).await;
    vhost(&vh, false).await;
    store.close().await;
    s.cleanup().await;
}
