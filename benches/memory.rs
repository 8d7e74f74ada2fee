//! Memory of the cockpit's state with 100,000 stuck orders and 500 queues
//! (DESIGN section 9: ≤ 60 MB RSS), measured in this process: the state
//! the cockpit keeps (orders, 60 samples of history per queue, a timeline)
//! and one 200x60 frame, as resident memory before and after. The real
//! binary's resident size (its runtime, pools and the same state fed by
//! real sources) is measured by `scripts/pty-bench.py --rss`.
//!
//! Linux only (reads /proc/self/status); elsewhere it fails, saying so.

mod support;

use chrono::Duration;
use orderdeck::action::Msg;
use orderdeck::fixtures;
use orderdeck::model::{QueueSnapshot, QueueStat};
use orderdeck::state::update;
use orderdeck::theme::ColorDepth;
use orderdeck::ui::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ORDERS: usize = 100_000;
const QUEUES: usize = 500;
/// Samples the queue pane keeps per queue for its sparklines.
const SAMPLES: usize = 60;

/// (resident, peak resident) in kB.
fn rss_kb() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn queues(t: usize) -> Vec<QueueStat> {
    (0..QUEUES)
        .map(|q| QueueStat {
            name: format!(
                "consignment.tenant-{:03}.{}",
                q / 2,
                if q % 2 == 0 { "work" } else { "work.dlq" }
            ),
            ready: ((q * 7 + t * 13) % 5000) as u64,
            unacked: Some((q % 11) as u64),
            consumers: (q % 3) as u32,
            publish_rate: Some(q as f64 / 10.0),
            deliver_rate: Some(q as f64 / 11.0),
            missing: false,
        })
        .collect()
}

fn main() {
    let Some((before, _)) = rss_kb() else {
        support::fail(
            "memory",
            "no /proc/self/status here: it measures RSS on Linux only",
        );
    };
    let mut state = fixtures::state(200, 60, "dark", ColorDepth::TrueColor, ORDERS);
    let now = fixtures::now();
    for t in 0..SAMPLES {
        update(
            &mut state,
            Msg::Queues {
                at: now - Duration::seconds((SAMPLES - t) as i64),
                result: Ok(QueueSnapshot {
                    as_of: now,
                    queues: queues(t),
                }),
            },
        );
    }
    let mut terminal = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => support::fail("memory", format!("no test terminal ({e})")),
    };
    if let Err(e) = terminal.draw(|f| render(&state, f)) {
        support::fail("memory", format!("draw failed ({e})"));
    }
    let Some((after, peak)) = rss_kb() else {
        support::fail("memory", "/proc/self/status went away");
    };
    println!(
        "cockpit state with {ORDERS} stuck orders and {QUEUES} queues ({SAMPLES} samples each), one 200x60 frame: \
         RSS {:.1} MB (peak {:.1} MB; {:.1} MB before the state was built); budget ≤ 60 MB",
        after as f64 / 1024.0,
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    support::figure("memory_state_100k_rss_mb", peak as f64 / 1024.0, "MB");
    std::hint::black_box(&state);
}
