//! How long one `RabbitMonitor::poll` of the six reference queues (and
//! their DLQs) takes, over AMQP and over the management API, against the
//! `rabbitmqctl list_queues name messages_ready` an engineer would run by
//! hand; then the AMQP poll of 512 queues (256 work queues and their
//! DLQs), probing on several channels at once as the cockpit does and one
//! queue after another as it did before, in the same run.
//!
//! Needs a broker: `amqp://guest:guest@127.0.0.1:5672/%2f` and
//! `http://127.0.0.1:15672` unless `ORDERDECK_TEST_AMQP_URL` /
//! `ORDERDECK_TEST_RABBITMQ_API` say otherwise. Without one it fails (exit
//! 1, one line saying which server it could not reach): a bench that
//! measured nothing must not pass. Its figures are `budget:` lines for
//! `scripts/budgets.sh`.

mod support;

use criterion::Criterion;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use orderdeck::config::{REFERENCE_QUEUES, mask_secrets};
use orderdeck::sources::QueueMonitor;
use orderdeck::sources::amqp::{
    ApiSettings, RabbitMonitor, RabbitSettings, Timeouts, default_connection_name, watched_queues,
};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

fn amqp_url() -> String {
    std::env::var("ORDERDECK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn api_url() -> String {
    std::env::var("ORDERDECK_TEST_RABBITMQ_API")
        .unwrap_or_else(|_| "http://guest:guest@127.0.0.1:15672".into())
}

/// Mean wall time of `n` runs of `f`.
fn mean(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

async fn setup(queues: &[String], messages: usize) -> Result<Connection, String> {
    let conn = tokio::time::timeout(
        Duration::from_secs(5),
        Connection::connect(&amqp_url(), ConnectionProperties::default()),
    )
    .await
    .map_err(|_| "no answer within 5 s".to_string())?
    .map_err(|e| e.to_string())?;
    let ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    for q in queues {
        // Left behind by an interrupted run, they expire by themselves.
        let mut args = FieldTable::default();
        args.insert("x-expires".into(), AMQPValue::LongInt(600_000));
        ch.queue_declare(q.as_str().into(), QueueDeclareOptions::durable(), args)
            .await
            .map_err(|e| e.to_string())?;
        // A little traffic, so the API has message_stats (rates) for each.
        for _ in 0..messages {
            ch.basic_publish(
                "".into(),
                q.as_str().into(),
                BasicPublishOptions::default(),
                b"{}",
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(conn)
}

async fn cleanup(conn: &Connection, queues: &[String]) {
    if let Ok(ch) = conn.create_channel().await {
        for q in queues {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
}

/// Waits until the API path answers with rates for every queue (its stats
/// lag up to one emission interval behind the declares).
fn api_ready(rt: &Runtime, m: &RabbitMonitor) -> Result<(), String> {
    let start = Instant::now();
    loop {
        match rt.block_on(m.poll()) {
            Ok(s) if s.queues.iter().all(|q| q.publish_rate.is_some()) && m.warning().is_none() => {
                return Ok(());
            }
            Ok(_) if m.warning().is_none() => {}
            Ok(_) => return Err(m.warning().unwrap_or_default()),
            Err(e) => return Err(e.0),
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err("the API never reported rates for the bench queues".into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            support::fail("broker", format!("cannot start a tokio runtime ({e})"));
        }
    };
    let prefix = format!("bench.{}.{:x}", std::process::id(), {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(0);
        h.finish() as u32
    });
    let work: Vec<String> = REFERENCE_QUEUES
        .iter()
        .map(|q| format!("{prefix}.{q}"))
        .collect();
    let all = watched_queues(&work);
    let conn = match rt.block_on(setup(&all, 5)) {
        Ok(c) => c,
        Err(e) => {
            support::fail(
                "broker",
                format!(
                    "no RabbitMQ at {} ({e}); start it or set ORDERDECK_TEST_AMQP_URL",
                    mask_secrets(&amqp_url())
                ),
            );
        }
    };

    let base = RabbitSettings {
        amqp_url: Some(amqp_url()),
        vhost: "/".into(),
        queues: work.clone(),
        api: None,
        connection_name: default_connection_name("bench"),
        timeouts: Timeouts::default(),
    };
    let amqp = match RabbitMonitor::new(base.clone()) {
        Ok(m) => m,
        Err(e) => {
            rt.block_on(cleanup(&conn, &all));
            support::fail("broker", e);
        }
    };
    if let Err(e) = rt.block_on(amqp.poll()) {
        rt.block_on(cleanup(&conn, &all));
        support::fail("broker", format!("first AMQP poll failed ({e})"));
    }
    let api = RabbitMonitor::new(RabbitSettings {
        api: Some(ApiSettings {
            url: api_url(),
            user: None,
            password: None,
        }),
        ..base
    })
    .map_err(|e| e.0)
    .and_then(|m| api_ready(&rt, &m).map(|()| m));
    let api = match api {
        Ok(m) => m,
        Err(e) => {
            rt.block_on(cleanup(&conn, &all));
            support::fail(
                "broker",
                format!(
                    "management API at {} not measurable ({e}); enable rabbitmq_management or set ORDERDECK_TEST_RABBITMQ_API",
                    mask_secrets(&api_url())
                ),
            );
        }
    };

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let n = all.len();
    c.bench_function(&format!("poll amqp ({n} queues)"), |b| {
        b.iter(|| black_box(rt.block_on(amqp.poll()).map(|s| s.queues.len())))
    });
    c.bench_function(&format!("poll management api ({n} queues)"), |b| {
        b.iter(|| black_box(rt.block_on(api.poll()).map(|s| s.queues.len())))
    });

    // Same-run means for the ratio (criterion's own report is above).
    // A failed poll is fast and would flatter the figure: it fails the bench.
    let amqp_mean = mean(50, || {
        if let Err(e) = black_box(rt.block_on(amqp.poll())) {
            support::fail("broker", format!("an AMQP poll failed ({e})"));
        }
    });
    let api_mean = mean(50, || {
        if let Err(e) = black_box(rt.block_on(api.poll())) {
            support::fail("broker", format!("a management API poll failed ({e})"));
        }
    });
    let (ctl_mean, ctl_failure) = rabbitmqctl();

    println!("broker bench: mean of 50 polls, {n} queues:");
    println!(
        "  RabbitMonitor::poll via amqp:           {}",
        ms(amqp_mean)
    );
    println!("  RabbitMonitor::poll via management api: {}", ms(api_mean));
    match ctl_failure {
        Some(e) => println!("  rabbitmqctl list_queues: not measured ({e})"),
        None => {
            println!(
                "  rabbitmqctl list_queues name messages_ready (mean of 3): {}",
                ms(ctl_mean)
            );
            let ratio = |d: Duration| ctl_mean.as_secs_f64() / d.as_secs_f64().max(1e-9);
            println!("  rabbitmqctl / amqp poll: {:.0}x", ratio(amqp_mean));
            println!("  rabbitmqctl / api poll:  {:.0}x", ratio(api_mean));
            support::figure("broker_poll_amqp_vs_rabbitmqctl", ratio(amqp_mean), "x");
            support::figure("broker_poll_api_vs_rabbitmqctl", ratio(api_mean), "x");
        }
    }

    rt.block_on(cleanup(&conn, &all));
    many_queues(&rt, &mut c, &prefix);
    c.final_summary();
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Mean of three `rabbitmqctl list_queues name messages_ready`, or why it
/// could not be run.
fn rabbitmqctl() -> (Duration, Option<String>) {
    let mut failure = None;
    let took = mean(3, || {
        match Command::new("rabbitmqctl")
            .args(["list_queues", "name", "messages_ready"])
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => failure = Some(format!("exit {}", out.status)),
            Err(e) => failure = Some(e.to_string()),
        }
    });
    (took, failure)
}

/// 512 queues: the concurrent AMQP poll, the sequential one it replaced,
/// and `rabbitmqctl`, all in this run.
fn many_queues(rt: &Runtime, c: &mut Criterion, prefix: &str) {
    let work: Vec<String> = (0..256).map(|i| format!("{prefix}.many.q{i:03}")).collect();
    let all = watched_queues(&work);
    let n = all.len();
    let conn = match rt.block_on(setup(&all, 0)) {
        Ok(c) => c,
        Err(e) => {
            println!("broker bench: {n} queues not measured ({e})");
            return;
        }
    };
    let settings = RabbitSettings {
        amqp_url: Some(amqp_url()),
        vhost: "/".into(),
        queues: work,
        api: None,
        connection_name: default_connection_name("bench"),
        timeouts: Timeouts::default(),
    };
    let monitors = RabbitMonitor::new(settings.clone()).and_then(|concurrent| {
        RabbitMonitor::new(settings).map(|m| (concurrent, m.with_probe_channels(1)))
    });
    let (concurrent, sequential) = match monitors {
        Ok(m) => m,
        Err(e) => {
            println!("broker bench: {e}; {n} queues not measured");
            rt.block_on(cleanup(&conn, &all));
            return;
        }
    };
    for m in [&concurrent, &sequential] {
        match rt.block_on(m.poll()) {
            Ok(s) if s.queues.iter().all(|q| !q.missing) => {}
            Ok(_) => println!("broker bench: some of the {n} queues were reported missing"),
            Err(e) => {
                println!("broker bench: first poll of {n} queues failed ({e}); skipped");
                rt.block_on(cleanup(&conn, &all));
                return;
            }
        }
    }
    c.bench_function(&format!("poll amqp ({n} queues, concurrent)"), |b| {
        b.iter(|| black_box(rt.block_on(concurrent.poll()).map(|s| s.queues.len())))
    });
    c.bench_function(&format!("poll amqp ({n} queues, one at a time)"), |b| {
        b.iter(|| black_box(rt.block_on(sequential.poll()).map(|s| s.queues.len())))
    });
    // Alternated poll by poll, so a load that comes and goes on a shared
    // machine weighs on both alike; medians, so one stall does not decide.
    let mut times = (Vec::new(), Vec::new());
    for _ in 0..60 {
        let t = Instant::now();
        let _ = black_box(rt.block_on(concurrent.poll()));
        times.0.push(t.elapsed());
        let t = Instant::now();
        let _ = black_box(rt.block_on(sequential.poll()));
        times.1.push(t.elapsed());
    }
    let (concurrent_mean, sequential_mean) = (median(&mut times.0), median(&mut times.1));
    let (ctl_mean, ctl_failure) = rabbitmqctl();
    println!("broker bench: median of 60 alternated polls, {n} queues:");
    println!(
        "  RabbitMonitor::poll via amqp, concurrent:   {} (budget ≤ 15 ms)",
        ms(concurrent_mean)
    );
    println!(
        "  RabbitMonitor::poll via amqp, one at a time: {} ({:.1}x slower)",
        ms(sequential_mean),
        sequential_mean.as_secs_f64() / concurrent_mean.as_secs_f64().max(1e-9)
    );
    support::figure(
        "broker_poll_512_ms",
        concurrent_mean.as_secs_f64() * 1000.0,
        "ms",
    );
    match ctl_failure {
        Some(e) => println!("  rabbitmqctl list_queues: not measured ({e})"),
        None => {
            let ratio = ctl_mean.as_secs_f64() / concurrent_mean.as_secs_f64().max(1e-9);
            println!(
                "  rabbitmqctl list_queues name messages_ready (mean of 3): {}; \
                 rabbitmqctl / concurrent poll: {ratio:.0}x (budget ≥ 100x)",
                ms(ctl_mean),
            );
            support::figure("broker_poll_512_vs_rabbitmqctl", ratio, "x");
        }
    }
    rt.block_on(cleanup(&conn, &all));
}
