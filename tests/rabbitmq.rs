//! The real RabbitMQ monitor against a real broker.
//!
//! Every test needs RabbitMQ (and some its management plugin), so all are
//! `#[ignore = "needs services"]`; run them with
//! `cargo test --test rabbitmq -- --ignored`. The broker is
//! `amqp://guest:guest@127.0.0.1:5672/%2f` and the API
//! `http://127.0.0.1:15672` (guest/guest) unless `ORDERDECK_TEST_AMQP_URL`
//! and `ORDERDECK_TEST_RABBITMQ_API` say otherwise. A broker that cannot be
//! reached fails the test with a message saying so, never skips it.
//!
//! Each test uses its own queue names (pid plus a random suffix), deletes
//! them at the end, and declares them with `x-expires` so that a failed
//! run's leftovers vanish by themselves.

use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer};
use orderdeck::config::mask_secrets;
use orderdeck::model::{QueueSnapshot, QueueStat};
use orderdeck::sources::QueueMonitor;
use orderdeck::sources::amqp::{ApiSettings, RabbitMonitor, RabbitSettings, Timeouts};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn amqp_url() -> String {
    std::env::var("ORDERDECK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn api_url() -> String {
    std::env::var("ORDERDECK_TEST_RABBITMQ_API").unwrap_or_else(|_| "http://127.0.0.1:15672".into())
}

/// The management API's login: the API URL's userinfo if it has one, else
/// guest/guest.
fn api_login() -> (String, String) {
    let url = url::Url::parse(&api_url()).expect("ORDERDECK_TEST_RABBITMQ_API is a URL");
    match (url.username(), url.password()) {
        ("", _) => ("guest".into(), "guest".into()),
        (u, p) => (u.into(), p.unwrap_or("").into()),
    }
}

/// The API base URL without userinfo, for building request URLs.
fn api_base() -> url::Url {
    let mut url = url::Url::parse(&api_url()).expect("ORDERDECK_TEST_RABBITMQ_API is a URL");
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

fn suffix() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:08x}", h.finish() as u32)
}

/// Names unique to this test run: `odtest.<pid>.<random>.<label>`.
fn unique(label: &str) -> String {
    format!("odtest.{}.{}.{label}", std::process::id(), suffix())
}

/// A broker connection for setting up and checking, failing the test with
/// what to do when there is no broker.
async fn broker() -> Connection {
    let url = amqp_url();
    match tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(&url, ConnectionProperties::default()),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => panic!(
            "cannot reach RabbitMQ at {}: {e}; start it (rabbitmq-server -detached) or set ORDERDECK_TEST_AMQP_URL",
            mask_secrets(&url)
        ),
        Err(_) => panic!(
            "RabbitMQ at {} did not answer within 10 s; start it or set ORDERDECK_TEST_AMQP_URL",
            mask_secrets(&url)
        ),
    }
}

/// Fails the test unless the management API answers.
async fn require_api() {
    let (user, password) = api_login();
    let mut url = api_base();
    url.set_path("/api/overview");
    let resp = reqwest::Client::new()
        .get(url)
        .basic_auth(user, Some(password))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    match resp {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => panic!(
            "RabbitMQ management API at {} answered {}; check ORDERDECK_TEST_RABBITMQ_API and its login",
            api_base(),
            r.status()
        ),
        Err(e) => panic!(
            "cannot reach the RabbitMQ management API at {}: {e}; enable it (rabbitmq-plugins enable rabbitmq_management) or set ORDERDECK_TEST_RABBITMQ_API",
            api_base()
        ),
    }
}

/// Queues that expire ten minutes after their last use, should a failed
/// test leave them behind.
async fn declare(ch: &Channel, name: &str) {
    let mut args = FieldTable::default();
    args.insert("x-expires".into(), AMQPValue::LongInt(600_000));
    ch.queue_declare(name.into(), QueueDeclareOptions::durable(), args)
        .await
        .unwrap_or_else(|e| panic!("declare {name}: {e}"));
}

async fn delete(conn: &Connection, names: &[String]) {
    let ch = conn.create_channel().await.expect("channel for cleanup");
    for n in names {
        // Already gone is fine: a test may delete on purpose.
        let _ = ch
            .queue_delete(n.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
}

/// Publishes `n` persistent messages and waits for every confirm.
async fn publish_confirmed(conn: &Connection, queue: &str, n: usize) {
    let ch = conn.create_channel().await.expect("publish channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm.select");
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                format!("{{\"order_id\":{i}}}").as_bytes(),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .expect("publish");
        pending.push(confirm);
    }
    for c in pending {
        let confirmation = c.await.expect("confirm");
        assert!(confirmation.is_ack(), "broker nacked a message");
    }
}

/// A consumer that takes up to `prefetch` messages and never acks them.
async fn hold(conn: &Connection, queue: &str, prefetch: u16) -> (Channel, Consumer) {
    let ch = conn.create_channel().await.expect("consumer channel");
    ch.basic_qos(prefetch, BasicQosOptions::default())
        .await
        .expect("qos");
    let consumer = ch
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    (ch, consumer)
}

fn settings(queues: &[String]) -> RabbitSettings {
    RabbitSettings {
        amqp_url: Some(amqp_url()),
        vhost: "/".into(),
        queues: queues.to_vec(),
        api: None,
        connection_name: unique("monitor"),
        timeouts: Timeouts::default(),
    }
}

fn with_api(mut s: RabbitSettings) -> RabbitSettings {
    let (user, password) = api_login();
    s.api = Some(ApiSettings {
        url: api_base().to_string(),
        user: Some(user),
        password: Some(password),
    });
    s
}

fn stat<'a>(snap: &'a QueueSnapshot, name: &str) -> &'a QueueStat {
    snap.queues
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} not in {:?}", snap.queues))
}

/// Polls until `ok` holds (counts settle asynchronously: deliveries to a
/// consumer, the API's statistics interval), failing with the last result.
async fn poll_until(
    m: &RabbitMonitor,
    within: Duration,
    ok: impl Fn(&QueueSnapshot) -> bool,
) -> QueueSnapshot {
    let start = Instant::now();
    loop {
        let last = m.poll().await;
        if let Ok(snap) = &last
            && ok(snap)
        {
            return snap.clone();
        }
        if start.elapsed() > within {
            panic!("condition not met within {within:?}; last poll: {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn ready_and_consumers_after_confirmed_publishes() {
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let (busy, idle) = (unique("busy"), unique("idle"));
    let all = [busy.clone(), format!("{busy}.dlq"), idle.clone()];
    for q in &all {
        declare(&ch, q).await;
    }
    publish_confirmed(&conn, &busy, 50).await;

    let m = RabbitMonitor::new(settings(&[busy.clone(), idle.clone()])).unwrap();
    let snap = m.poll().await.expect("first poll connects and reads");
    let b = stat(&snap, &busy);
    assert_eq!((b.ready, b.consumers, b.missing), (50, 0, false));
    assert_eq!(stat(&snap, &format!("{busy}.dlq")).ready, 0);
    assert!(stat(&snap, &format!("{idle}.dlq")).missing);
    // AMQP alone knows no rates: unknown, not zero.
    assert_eq!((b.publish_rate, b.deliver_rate), (None, None));

    // A consumer holding 10 unacked: ready drops to 40, one consumer.
    let (_held_ch, _held) = hold(&conn, &busy, 10).await;
    let (_idle_ch, _idle_consumer) = hold(&conn, &idle, 1).await;
    // A generous budget: it only ends a hang; the poll returns as soon as
    // the broker shows both consumers.
    let snap = poll_until(&m, Duration::from_secs(60), |s| {
        stat(s, &busy).ready == 40 && stat(s, &idle).consumers == 1
    })
    .await;
    assert_eq!(stat(&snap, &busy).consumers, 1);
    // Ten are held unacked, but AMQP cannot see them: unknown, never 0.
    assert_eq!(stat(&snap, &busy).unacked, None);

    delete(&conn, &all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_missing_queue_is_not_found_and_the_others_still_report() {
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let (a, gone, c) = (unique("a"), unique("gone"), unique("c"));
    declare(&ch, &a).await;
    declare(&ch, &c).await;
    publish_confirmed(&conn, &a, 3).await;
    publish_confirmed(&conn, &c, 7).await;

    let m = RabbitMonitor::new(settings(&[a.clone(), gone.clone(), c.clone()])).unwrap();
    for _ in 0..3 {
        // Several polls: the 404 closes the probe channel each time, and
        // the next probe must open a fresh one.
        let snap = m.poll().await.expect("poll with a missing queue");
        let names: Vec<_> = snap.queues.iter().map(|s| s.name.clone()).collect();
        assert_eq!(
            names,
            [
                a.clone(),
                gone.clone(),
                c.clone(),
                format!("{a}.dlq"),
                format!("{gone}.dlq"),
                format!("{c}.dlq")
            ]
        );
        assert!(stat(&snap, &gone).missing);
        assert_eq!(stat(&snap, &gone).ready, 0);
        assert_eq!((stat(&snap, &a).ready, stat(&snap, &a).missing), (3, false));
        assert_eq!((stat(&snap, &c).ready, stat(&snap, &c).missing), (7, false));
    }

    // Deleted while watched: reported missing from the next poll on.
    delete(&conn, std::slice::from_ref(&a)).await;
    let snap = m.poll().await.expect("poll after delete");
    assert!(stat(&snap, &a).missing);
    assert_eq!(stat(&snap, &c).ready, 7);

    delete(&conn, &[a, c]).await;
}

/// The poll probes queues on several channels at once: with a third of
/// forty queues missing (each 404 closes the channel that asked), every
/// queue is still reported in order, with its own count, poll after poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn forty_queues_with_missing_ones_are_probed_concurrently_in_order() {
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let base = unique("many");
    let names: Vec<String> = (0..40).map(|i| format!("{base}.q{i:02}")).collect();
    let present: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 1)
        .map(|(_, n)| n.clone())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if i % 3 != 1 {
            declare(&ch, n).await;
            publish_confirmed(&conn, n, i % 5).await;
        }
    }
    let m = RabbitMonitor::new(settings(&names)).unwrap();
    for _ in 0..3 {
        let snap = m.poll().await.expect("poll of forty queues");
        let got: Vec<(String, u64, bool)> = snap
            .queues
            .iter()
            .take(40)
            .map(|s| (s.name.clone(), s.ready, s.missing))
            .collect();
        let want: Vec<(String, u64, bool)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let missing = i % 3 == 1;
                let ready = if missing { 0 } else { (i % 5) as u64 };
                (n.clone(), ready, missing)
            })
            .collect();
        assert_eq!(got, want);
        // The DLQs were never declared: all eighty names are reported.
        assert_eq!(snap.queues.len(), 80);
        assert!(snap.queues[40..].iter().all(|s| s.missing));
    }
    delete(&conn, &present).await;
}

/// The monitor's connection as the management API names it.
async fn find_connection(connection_name: &str) -> Option<String> {
    let (user, password) = api_login();
    let mut url = api_base();
    url.set_path("/api/connections");
    let list: serde_json::Value = reqwest::Client::new()
        .get(url)
        .basic_auth(user, Some(password))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("GET /api/connections")
        .json()
        .await
        .expect("connections JSON");
    list.as_array()?.iter().find_map(|c| {
        (c["client_properties"]["connection_name"].as_str() == Some(connection_name))
            .then(|| c["name"].as_str().map(str::to_string))
            .flatten()
    })
}

async fn close_connection(name: &str) {
    let (user, password) = api_login();
    let mut url = api_base();
    url.path_segments_mut()
        .expect("base URL")
        .pop_if_empty()
        .extend(["api", "connections", name]);
    let resp = reqwest::Client::new()
        .delete(url)
        .basic_auth(user, Some(password))
        .header("X-Reason", "orderdeck test: forced close")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("DELETE connection");
    assert!(resp.status().is_success(), "close: {}", resp.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_forced_close_reports_down_and_the_monitor_recovers_by_itself() {
    require_api().await;
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let q = unique("work");
    declare(&ch, &q).await;
    publish_confirmed(&conn, &q, 4).await;

    let s = settings(std::slice::from_ref(&q));
    let connection_name = s.connection_name.clone();
    let m = RabbitMonitor::new(s).unwrap();
    assert_eq!(stat(&m.poll().await.expect("up"), &q).ready, 4);

    // The API lists a new connection within its statistics interval.
    let start = Instant::now();
    let name = loop {
        if let Some(n) = find_connection(&connection_name).await {
            break n;
        }
        // The API lists connections at its statistics interval (5 s by
        // default), later on a loaded machine: the budget only ends a hang.
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "connection {connection_name:?} never showed up in /api/connections"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    close_connection(&name).await;

    // The next poll sees the close (at the latest when its declare fails).
    let start = Instant::now();
    let down = loop {
        match m.poll().await {
            Err(e) => break e.0,
            Ok(_) => {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "monitor still reports up a minute after its connection was closed"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    eprintln!("forced close: {down}");
    assert!(down.contains("down:"), "{down}");
    assert!(down.contains("retry in"), "{down}");
    assert!(
        down.contains("127.0.0.1:5672") || !amqp_url().contains("127.0.0.1"),
        "{down}"
    );
    assert!(
        !down.contains('\n') && !down.contains("guest:guest"),
        "{down}"
    );

    // Polls while backing off do not dial (they say when they will
    // retry); a later one reconnects.
    let start = Instant::now();
    let mut polls = 0;
    let snap = loop {
        let r = within_a_minute(m.poll()).await;
        polls += 1;
        match r {
            Ok(snap) => break snap,
            Err(e) => {
                assert!(e.0.contains("retry in"), "a poll during backoff: {e}");
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "no recovery within 60 s: {e}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(stat(&snap, &q).ready, 4, "after {polls} polls");
    // The new connection carries the same name.
    let start = Instant::now();
    while find_connection(&connection_name).await.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no new connection listed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    delete(&conn, &[q]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn the_management_api_gives_unacked_and_rates() {
    require_api().await;
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let (q, gone) = (unique("api"), unique("gone"));
    let all = [q.clone(), format!("{q}.dlq")];
    for n in &all {
        declare(&ch, n).await;
    }
    publish_confirmed(&conn, &q, 30).await;
    let (_held_ch, _held) = hold(&conn, &q, 5).await;

    let m = RabbitMonitor::new(with_api(settings(&[q.clone(), gone.clone()]))).unwrap();
    assert!(
        m.describe().starts_with("rabbitmq api "),
        "{}",
        m.describe()
    );
    // The API's numbers lag by up to its statistics interval (5 s), and the
    // message counts and the consumer count are emitted separately, so one
    // can be fresh while the other is not: wait for all of them together.
    let snap = poll_until(&m, Duration::from_secs(120), |s| {
        let x = stat(s, &q);
        x.unacked == Some(5)
            && x.ready == 25
            && x.consumers == 1
            && x.publish_rate.is_some()
            && x.deliver_rate.is_some()
    })
    .await;
    assert!(
        stat(&snap, &gone).missing,
        "absent from the list: not found"
    );
    assert!(!stat(&snap, &format!("{q}.dlq")).missing);
    assert_eq!(m.warning(), None);

    delete(&conn, &all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_failing_api_falls_back_to_amqp_and_says_so() {
    require_api().await;
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let q = unique("fallback");
    declare(&ch, &q).await;
    publish_confirmed(&conn, &q, 2).await;

    let mut s = with_api(settings(std::slice::from_ref(&q)));
    if let Some(api) = s.api.as_mut() {
        api.password = Some("definitely-wrong-pw".into());
    }
    let m = RabbitMonitor::new(s).unwrap();
    let snap = m.poll().await.expect("amqp answers when the api refuses");
    assert_eq!(stat(&snap, &q).ready, 2);
    let w = m.warning().expect("the api failure stays visible");
    eprintln!("api warning: {w}\ndescribe: {}", m.describe());
    assert!(w.contains("401"), "{w}");
    assert!(!w.contains("definitely-wrong-pw"), "{w}");
    let d = m.describe();
    assert!(d.contains("api failing") && !d.contains('\n'), "{d}");
    assert!(!d.contains("definitely-wrong-pw"), "{d}");

    delete(&conn, &[q]).await;
}

/// A port on this machine that nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn unreachable_brokers_and_bad_logins_are_one_line_errors() {
    // A closed port: refused at once, reported down, then backing off.
    let port = closed_port();
    let mut s = settings(&[unique("q")]);
    s.amqp_url = Some(format!("amqp://app:s3cret-pw@127.0.0.1:{port}/%2f"));
    let m = RabbitMonitor::new(s).expect("new does not connect");
    let e = m.poll().await.expect_err("nothing listens there").0;
    eprintln!("closed port: {e}");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.contains("down:") && e.contains("refused"), "{e}");
    assert!(!e.contains('\n') && !e.contains("s3cret-pw"), "{e}");
    let again = within_a_minute(m.poll()).await.expect_err("still down").0;
    eprintln!("while backing off: {again}");
    assert!(
        again.contains("refused") && again.contains("retry in"),
        "{again}"
    );

    // While backing off a poll does not dial at all (counted at a listener
    // that hangs up on every connection, not timed: CI is a loaded
    // machine); once the backoff is over, a poll dials again.
    let (port, dials) = hang_up_port().await;
    let mut s = settings(&[unique("q")]);
    s.amqp_url = Some(format!("amqp://guest:guest@127.0.0.1:{port}/%2f"));
    let m = RabbitMonitor::new(s).expect("new does not connect");
    within_a_minute(m.poll()).await.expect_err("hung up on");
    assert_eq!(dials.load(Ordering::SeqCst), 1);
    let again = within_a_minute(m.poll()).await.expect_err("backing off").0;
    assert!(again.contains("retry in"), "{again}");
    assert_eq!(dials.load(Ordering::SeqCst), 1, "dialled while backing off");
    within_a_minute(async {
        while dials.load(Ordering::SeqCst) < 2 {
            let _ = m.poll().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    // Only an API, on a closed port: the error names it and the plugin.
    let mut s = settings(&[unique("q")]);
    s.amqp_url = None;
    s.api = Some(ApiSettings {
        url: format!("http://127.0.0.1:{}", closed_port()),
        user: Some("mon".into()),
        password: Some("s3cret-pw".into()),
    });
    let m = RabbitMonitor::new(s).unwrap();
    let e = m.poll().await.expect_err("no api there").0;
    eprintln!("api only, closed port: {e}");
    assert!(
        e.contains("rabbitmq_management") && !e.contains('\n'),
        "{e}"
    );
    assert!(!e.contains("s3cret-pw") && !e.contains("columns"), "{e}");
    let again = m.poll().await.expect_err("api still backing off").0;
    assert!(again.contains("retry in"), "{again}");

    // The real broker with a wrong password: refused, no password shown.
    let mut url = url::Url::parse(&amqp_url()).expect("test amqp url");
    let _ = url.set_password(Some("wrong-pw-123"));
    let mut s = settings(&[unique("q")]);
    s.amqp_url = Some(url.to_string());
    let m = RabbitMonitor::new(s).unwrap();
    let e = m.poll().await.expect_err("wrong password").0;
    eprintln!("wrong password: {e}");
    assert!(e.contains("down:") && !e.contains('\n'), "{e}");
    assert!(!e.contains("wrong-pw-123"), "{e}");

    // A vhost that does not exist.
    let mut s = settings(&[unique("q")]);
    s.vhost = unique("no-such-vhost");
    let mut url = url::Url::parse(&amqp_url()).expect("test amqp url");
    url.set_path("");
    s.amqp_url = Some(url.to_string());
    let m = RabbitMonitor::new(s).unwrap();
    let e = m.poll().await.expect_err("no such vhost").0;
    eprintln!("no such vhost: {e}");
    assert!(e.contains("down:") && !e.contains('\n'), "{e}");
}

/// Awaits `f`, failing the test if it hangs: a deadline far above any
/// timeout under test, so a loaded machine cannot make it flaky.
async fn within_a_minute<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("hung for a minute: no timeout fired")
}

/// A listener that hangs up on every connection it accepts, counting them.
async fn hang_up_port() -> (u16, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    let dials = Arc::new(AtomicUsize::new(0));
    let counted = dials.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            // Counted before the hang-up the client sees.
            counted.fetch_add(1, Ordering::SeqCst);
            drop(sock);
        }
    });
    (port, dials)
}

/// A listener that accepts connections and never says a word, like a
/// broker stuck behind a half-open firewall; it lives as long as the test.
async fn silent_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_silent_peer_times_out_instead_of_hanging_the_poll() {
    let port = silent_port().await;
    let fast = Timeouts {
        connect: Duration::from_millis(700),
        declare: Duration::from_millis(700),
        api: Duration::from_millis(700),
    };
    let mut s = settings(&[unique("q")]);
    s.amqp_url = Some(format!("amqp://guest:guest@127.0.0.1:{port}/%2f"));
    s.timeouts = fast;
    let m = RabbitMonitor::new(s).unwrap();
    // The poll's own timeout ends it, as its message says; the outer
    // deadline only turns a hang into a failure.
    let e = within_a_minute(m.poll())
        .await
        .expect_err("silent amqp peer")
        .0;
    eprintln!("silent amqp peer: {e}");
    assert!(e.contains("no answer within 0.7 s"), "{e}");

    // A silent API with a working broker behind it: AMQP answers instead.
    let q = unique("q");
    let conn = broker().await;
    declare(&conn.create_channel().await.unwrap(), &q).await;
    let mut s = settings(std::slice::from_ref(&q));
    s.timeouts = fast;
    s.api = Some(ApiSettings {
        url: format!("http://127.0.0.1:{}", silent_port().await),
        user: None,
        password: None,
    });
    let m = RabbitMonitor::new(s).unwrap();
    let snap = within_a_minute(m.poll())
        .await
        .expect("amqp after the api timed out");
    assert!(!stat(&snap, &q).missing);
    let w = m.warning().expect("api timeout is visible");
    eprintln!("silent api: {w}");
    assert!(w.contains("no answer within 0.7 s"), "{w}");
    delete(&conn, &[q]).await;
}

/// A TCP proxy in front of the broker that can cut every connection
/// through it at once, as a load balancer reset or a network blip does:
/// the client sees its socket die, the broker sees the peer vanish and
/// gives the unacked deliveries back.
struct CutProxy {
    url: String,
    generation: tokio::sync::watch::Sender<u64>,
}

impl CutProxy {
    async fn start() -> CutProxy {
        let mut target = url::Url::parse(&amqp_url()).expect("AMQP URL");
        let upstream = format!(
            "{}:{}",
            target.host_str().unwrap_or("127.0.0.1"),
            target.port().unwrap_or(5672)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy listens");
        let port = listener.local_addr().expect("proxy address").port();
        target.set_port(Some(port)).expect("port");
        let (generation, rx) = tokio::sync::watch::channel(0u64);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = rx.clone();
                cut.mark_unchanged();
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
        CutProxy {
            url: target.to_string(),
            generation,
        }
    }

    /// Drops every connection open through the proxy.
    fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }
}

/// `n` dead letters with message ids `dl-0` … `dl-{n-1}`, confirmed.
async fn publish_dead_letters(conn: &Connection, dlq: &str, n: usize) {
    let ch = conn.create_channel().await.expect("publish channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm.select");
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pending = Vec::with_capacity(chunk.len());
        for i in chunk {
            let confirm = ch
                .basic_publish(
                    "".into(),
                    dlq.into(),
                    BasicPublishOptions::default(),
                    format!("{{\"order_id\":{i},\"event\":\"payment_callback\"}}").as_bytes(),
                    BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_message_id(format!("dl-{i}").into()),
                )
                .await
                .expect("publish");
            pending.push(confirm);
        }
        for c in pending {
            assert!(
                c.await.expect("confirm").is_ack(),
                "broker nacked a message"
            );
        }
    }
}

/// Every message in `queue`: its id and orderdeck's retry count, acked.
async fn drain(conn: &Connection, queue: &str) -> Vec<(String, u32)> {
    use futures::StreamExt;
    let ch = conn.create_channel().await.expect("drain channel");
    ch.basic_qos(1000, BasicQosOptions::default())
        .await
        .expect("qos");
    // Counted before consuming: that many are owed, each waited for as
    // long as a loaded broker needs; the short idle wait after them only
    // picks up extras (which the callers' assertions then catch).
    let owed = ready_on(&ch, queue).await as usize;
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut out = Vec::new();
    loop {
        let wait = if out.len() < owed {
            Duration::from_secs(60)
        } else {
            Duration::from_secs(2)
        };
        let d = match tokio::time::timeout(wait, consumer.next()).await {
            Ok(Some(Ok(d))) => d,
            _ if out.len() < owed => panic!(
                "{queue}: {} of {owed} ready messages delivered within a minute",
                out.len()
            ),
            _ => break,
        };
        let id = d
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        out.push((id, orderdeck::broker::retries_of(&d.properties)));
        d.acker
            .ack(lapin::options::BasicAckOptions::default())
            .await
            .expect("ack");
    }
    out
}

/// Ready messages in `queue`, on `ch` (one channel for many probes: a
/// channel per probe would run the connection out of channel numbers).
async fn ready_on(ch: &Channel, queue: &str) -> u32 {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{queue}: {e}"))
    .message_count()
}

async fn ready(conn: &Connection, queue: &str) -> u32 {
    let ch = conn.create_channel().await.expect("probe channel");
    let n = ready_on(&ch, queue).await;
    let _ = ch.close(200, "probed".into()).await;
    n
}

/// The drill: 10,000 dead letters requeued while the requeue's own
/// AMQP connection is cut again and again. Afterwards every
/// message id is in the work queue exactly as often as the report says,
/// the DLQ is empty, and every message carries one more retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn requeue_of_10k_dead_letters_survives_forced_closes_and_loses_nothing() {
    use orderdeck::remedy::broker::{AmqpBroker, Broker, RequeueRequest};
    const N: usize = 10_000;
    const CLOSES: usize = 4;
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let q = unique("requeue");
    let dlq = format!("{q}.dlq");
    for n in [&q, &dlq] {
        declare(&ch, n).await;
    }
    publish_dead_letters(&conn, &dlq, N).await;
    assert_eq!(ready(&conn, &dlq).await as usize, N);

    let proxy = CutProxy::start().await;
    let amqp = AmqpBroker::new(&proxy.url, "/", "requeue-drill").expect("broker URL");
    let request = RequeueRequest {
        queue: q.clone(),
        limit: N as u64 + 100,
        filter: None,
    };
    let run = tokio::spawn(async move { Broker::Amqp(Box::new(amqp)).requeue(&request).await });

    // Cut the requeue's connection each time the work queue passes another
    // fifth of the messages, so the cuts land mid-run, not before or after.
    let mut cuts_at = Vec::new();
    let mut next = N / (CLOSES + 1);
    let probe = conn.create_channel().await.expect("probe channel");
    while cuts_at.len() < CLOSES && !run.is_finished() {
        let depth = ready_on(&probe, &q).await as usize;
        if depth >= next {
            proxy.cut();
            cuts_at.push(depth);
            next = depth + N / (CLOSES + 1);
        } else {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let report = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("requeue finished within 5 min")
        .expect("requeue task");
    eprintln!("requeue report: {report:?}; cut at work-queue depths {cuts_at:?}");
    assert_eq!(
        cuts_at.len(),
        CLOSES,
        "the run ended before {CLOSES} cuts: {report:?}"
    );
    assert!(report.error.is_none(), "{report:?}");
    assert!(
        report.reconnects as usize >= CLOSES,
        "each cut is a reconnect: {report:?}"
    );

    assert_eq!(ready(&conn, &dlq).await, 0, "the DLQ is empty");
    let got = drain(&conn, &q).await;
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for (id, _) in &got {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let missing: Vec<String> = (0..N)
        .map(|i| format!("dl-{i}"))
        .filter(|id| !seen.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} message id(s) lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(seen.len(), N, "no id the DLQ did not hold");
    // A copy whose confirm died with the connection may or may not have
    // been taken, so the report can only give an upper bound; but every
    // duplicate must be inside it, and with the same message id.
    let duplicates = got.len() - N;
    eprintln!("duplicates in the work queue: {duplicates}");
    assert!(
        duplicates as u64 <= report.maybe_duplicated,
        "{duplicates} duplicates, report allows {}: {report:?}",
        report.maybe_duplicated
    );
    assert_eq!(
        report.moved, N as u64,
        "every dead letter moved, each once: {report:?}"
    );
    assert!(
        got.iter().all(|(_, retries)| *retries == 1),
        "every requeued message counts one orderdeck retry"
    );
    delete(&conn, &[q, dlq]).await;
}

/// A filtered requeue moves only the dead letters that match and leaves the
/// rest in the DLQ, across more deliveries than one window of confirms (so
/// an ack of one message can never take a skipped one with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs services"]
async fn a_filtered_requeue_moves_the_matches_and_leaves_the_rest() {
    use orderdeck::remedy::broker::{AmqpBroker, Broker, RequeueRequest};
    const N: usize = 1_500;
    // Matches on both sides of the first 1,000 deliveries.
    let filter = "\"order_id\":1";
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let q = unique("requeue-filter");
    let dlq = format!("{q}.dlq");
    for n in [&q, &dlq] {
        declare(&ch, n).await;
    }
    publish_dead_letters(&conn, &dlq, N).await;
    // The bodies publish_dead_letters writes, matched the way a user reads
    // the filter: "contains".
    let matching: std::collections::BTreeSet<String> = (0..N)
        .filter(|i| format!("{{\"order_id\":{i},").contains(filter))
        .map(|i| format!("dl-{i}"))
        .collect();
    assert!(matching.len() > 100 && matching.len() < N / 2);

    let amqp = AmqpBroker::new(&amqp_url(), "/", "requeue-filter").expect("broker URL");
    let report = Broker::Amqp(Box::new(amqp))
        .requeue(&RequeueRequest {
            queue: q.clone(),
            limit: N as u64,
            filter: Some(filter.into()),
        })
        .await;
    assert!(report.error.is_none(), "{report:?}");
    assert_eq!(report.moved as usize, matching.len(), "{report:?}");
    assert_eq!(report.skipped as usize, N - matching.len(), "{report:?}");

    let moved: std::collections::BTreeSet<String> = drain(&conn, &q)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        moved, matching,
        "exactly the matching ids are in the work queue"
    );
    // The skipped ones were held unacked and are back in the DLQ.
    let mut left = 0;
    for _ in 0..50 {
        left = ready(&conn, &dlq).await as usize;
        if left == N - matching.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left,
        N - matching.len(),
        "the non-matching dead letters stay"
    );
    delete(&conn, &[q, dlq]).await;
}
