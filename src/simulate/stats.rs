//! What a run did, counted while it runs (atomics shared by the tasks) and
//! reported as a progress line every few seconds and a summary at the end.

use super::args::{ChaosSet, format_duration};
use crate::config::REFERENCE_QUEUES;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Live counters, bumped by the run's tasks.
        #[derive(Debug, Default)]
        pub struct Stats {
            $($(#[$doc])* pub $name: AtomicU64,)*
            /// Dead-lettered messages per work queue (index into `REFERENCE_QUEUES`).
            pub dead_lettered_per_queue: [AtomicU64; 6],
            /// The first unexpected error, to show in the summary.
            pub first_error: std::sync::Mutex<Option<String>>,
        }

        /// The counters at one moment.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Counts {
            $($(#[$doc])* pub $name: u64,)*
            pub dead_lettered_per_queue: [u64; 6],
            pub first_error: Option<String>,
        }

        impl Stats {
            pub fn snapshot(&self) -> Counts {
                Counts {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                    dead_lettered_per_queue: std::array::from_fn(|i| {
                        self.dead_lettered_per_queue[i].load(Ordering::Relaxed)
                    }),
                    first_error: match self.first_error.lock() {
                        Ok(e) => e.clone(),
                        Err(poisoned) => poisoned.into_inner().clone(),
                    },
                }
            }
        }
    };
}

counters! {
    orders_created,
    /// Orders whose history was written in the past.
    orders_backdated,
    order_errors,
    published,
    confirmed,
    /// Publishes the broker nacked, returned as unroutable or never confirmed.
    publish_failed,
    /// Messages handled and acknowledged.
    acked,
    dead_lettered,
    /// Messages republished for another try (lock conflicts, errors).
    retried,
    /// Messages whose order had already moved on (e.g. fixed by a remediation).
    stale,
    /// Database errors other than lock conflicts.
    handler_errors,
    malformed,
    payment_declined,
    out_of_stock,
    /// bank-500: payment callbacks whose bank verification failed.
    bank_500,
    /// deadlock: row-lock timeouts and deadlocks hit by consumers.
    lock_conflicts,
    /// deadlock: inventory syncs that succeeded after a lock conflict.
    sync_recovered,
    /// deadlock: lock releases that timed out, leaving the lock held.
    release_failed,
    /// deadlock: times the hot rows were locked by the holder.
    hot_row_holds,
    /// erp-cert-expired: work orders the ERP never acknowledged.
    erp_failed,
    /// risk-false-positive: good orders held by risk control.
    risk_held,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps the first unexpected error for the summary (the rest go to the log).
    pub fn note_error(&self, text: &str) {
        let mut slot = match self.first_error.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if slot.is_none() {
            *slot = Some(text.to_string());
        }
    }

    pub fn dead_letter(&self, queue: &str) {
        Stats::bump(&self.dead_lettered);
        if let Some(i) = REFERENCE_QUEUES.iter().position(|q| *q == queue) {
            Stats::bump(&self.dead_lettered_per_queue[i]);
        }
    }
}

/// What consumer-down did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub queue: &'static str,
    /// When the consumers were stopped and restarted, from the start of the run.
    pub from: Duration,
    pub until: Option<Duration>,
    /// Ready messages on the queue just before the consumers came back.
    pub backlog_at_restart: u32,
    /// The most ready messages seen while the consumers were down.
    pub peak_backlog: u32,
}

/// The end-of-run report.
#[derive(Debug, Clone)]
pub struct Summary {
    pub elapsed: Duration,
    pub interrupted: bool,
    pub database: String,
    pub broker: String,
    pub rate: f64,
    pub seed: u64,
    pub chaos: ChaosSet,
    pub counts: Counts,
    pub outage: Option<Outage>,
    /// When the ERP certificate expired, from the start of the run.
    pub erp_expired_at: Option<Duration>,
    /// Ready messages per queue (work queues and dead-letter queues) at the end.
    pub depths: Vec<(String, u32)>,
}

impl Summary {
    pub fn depth(&self, queue: &str) -> Option<u32> {
        self.depths
            .iter()
            .find(|(q, _)| q == queue)
            .map(|(_, n)| *n)
    }
}

fn secs(d: Duration) -> String {
    if d.as_secs() >= 60 {
        format_duration(d)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        // A slow database or broker lowers the rate rather than piling up
        // work, so say what was placed, not only what was asked.
        let placed = c.orders_created as f64 / self.elapsed.as_secs_f64().max(0.001);
        writeln!(
            f,
            "simulate {} after {} (asked {} orders/s, placed {placed:.1}/s; seed {}, chaos {})",
            if self.interrupted {
                "interrupted"
            } else {
                "finished"
            },
            secs(self.elapsed),
            self.rate,
            self.seed,
            self.chaos
        )?;
        writeln!(f, "  database   {}", self.database)?;
        writeln!(f, "  broker     {}", self.broker)?;
        writeln!(
            f,
            "  orders     {} created ({} backdated), {} failed to insert; {} declined by the bank, {} cancelled out of stock",
            c.orders_created,
            c.orders_backdated,
            c.order_errors,
            c.payment_declined,
            c.out_of_stock
        )?;
        writeln!(
            f,
            "  messages   {} published, {} confirmed, {} failed; {} handled, {} retried, {} dead-lettered, {} stale, {} malformed, {} database errors",
            c.published,
            c.confirmed,
            c.publish_failed,
            c.acked,
            c.retried,
            c.dead_lettered,
            c.stale,
            c.malformed,
            c.handler_errors
        )?;
        let per_queue: Vec<String> = REFERENCE_QUEUES
            .iter()
            .zip(c.dead_lettered_per_queue)
            .filter(|(_, n)| *n > 0)
            .map(|(q, n)| format!("{q} {n}"))
            .collect();
        if !per_queue.is_empty() {
            writeln!(f, "  dead letters by queue: {}", per_queue.join(", "))?;
        }
        if let Some(o) = &self.outage {
            let until = match o.until {
                Some(u) => format!("restarted at {}", secs(u)),
                None => "still down at the end".into(),
            };
            writeln!(
                f,
                "  chaos consumer-down        {} consumers stopped at {}, {until}; backlog {} at restart (peak {})",
                o.queue,
                secs(o.from),
                o.backlog_at_restart,
                o.peak_backlog
            )?;
        }
        if self.chaos.bank_500 {
            writeln!(
                f,
                "  chaos bank-500             {} payment callbacks failed (bank 500) and were dead-lettered; those orders stay pending_review",
                c.bank_500
            )?;
        }
        if self.chaos.deadlock {
            writeln!(
                f,
                "  chaos deadlock             hot rows held {} times; {} lock timeouts/deadlocks, {} inventory syncs recovered on a retry, {} lock releases failed (locks left held)",
                c.hot_row_holds, c.lock_conflicts, c.sync_recovered, c.release_failed
            )?;
        }
        if self.chaos.erp_cert_expired {
            let at = self
                .erp_expired_at
                .map(|d| format!("expired at {}", secs(d)))
                .unwrap_or_else(|| "expired".into());
            writeln!(
                f,
                "  chaos erp-cert-expired     certificate {at}; {} work orders never acknowledged (orders stay processing)",
                c.erp_failed
            )?;
        }
        if self.chaos.risk_false_positive {
            writeln!(
                f,
                "  chaos risk-false-positive  {} good orders held by risk control (hold_reason=risk)",
                c.risk_held
            )?;
        }
        if let Some(e) = &c.first_error {
            writeln!(f, "  first error: {e}")?;
        }
        let deep: Vec<String> = self
            .depths
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(q, n)| format!("{q} {n}"))
            .collect();
        write!(
            f,
            "  queues at the end: {}",
            if deep.is_empty() {
                "all empty".to_string()
            } else {
                deep.join(", ")
            }
        )
    }
}

/// The one-line progress report.
pub fn progress_line(
    elapsed: Duration,
    total: Duration,
    c: &Counts,
    backlog: Option<u64>,
    notes: &[String],
) -> String {
    let backlog = backlog.map_or_else(|| "?".to_string(), |b| b.to_string());
    let mut line = format!(
        "[{:>6}/{}] orders {}  published {} confirmed {}  handled {}  retried {}  dead-lettered {}  backlog {}",
        secs(elapsed),
        format_duration(total),
        c.orders_created,
        c.published,
        c.confirmed,
        c.acked,
        c.retried,
        c.dead_lettered,
        backlog
    );
    for n in notes {
        line.push_str("  [");
        line.push_str(n);
        line.push(']');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_chaos_effect() {
        let stats = Stats::default();
        Stats::bump(&stats.orders_created);
        stats.dead_letter("payment.callback");
        Stats::bump(&stats.bank_500);
        let s = Summary {
            elapsed: Duration::from_secs(5),
            interrupted: false,
            database: "postgres://u:***@h/db".into(),
            broker: "amqp://guest:***@h:5672".into(),
            rate: 20.0,
            seed: 7,
            chaos: ChaosSet {
                bank_500: true,
                consumer_down: Some("logistics.updates"),
                ..ChaosSet::default()
            },
            counts: stats.snapshot(),
            outage: Some(Outage {
                queue: "logistics.updates",
                from: Duration::from_millis(750),
                until: Some(Duration::from_millis(3250)),
                backlog_at_restart: 12,
                peak_backlog: 14,
            }),
            erp_expired_at: None,
            depths: vec![("payment.callback.dlq".into(), 1)],
        };
        let text = s.to_string();
        assert!(
            text.contains("dead letters by queue: payment.callback 1"),
            "{text}"
        );
        assert!(
            text.contains("chaos bank-500             1 payment callbacks"),
            "{text}"
        );
        assert!(text.contains("backlog 12 at restart (peak 14)"), "{text}");
        assert!(
            text.contains("queues at the end: payment.callback.dlq 1"),
            "{text}"
        );
        assert_eq!(s.depth("payment.callback.dlq"), Some(1));
        let line = progress_line(
            Duration::from_secs(5),
            Duration::from_secs(300),
            &s.counts,
            Some(3),
            &["logistics.updates consumers down".into()],
        );
        assert!(!line.contains('\n'));
        assert!(
            line.ends_with("backlog 3  [logistics.updates consumers down]"),
            "{line}"
        );
    }
}
