//! The queue backlog table: one row per work queue with its dead-letter
//! queue folded in, a history of ready counts for the sparkline, and rates
//! and time-to-drain derived from consecutive samples.

use super::scroll::Scroll;
use crate::model::QueueStat;
use crate::sanitize::sanitize;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;

pub use crate::model::limits::HISTORY;

/// How long the backlog takes to clear at the current rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drain {
    Empty,
    Seconds(f64),
    /// Growing or flat with a backlog: it will not drain at this rate.
    Never,
    /// Not enough samples yet.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub name: String,
    pub ready: u64,
    /// `None` when the source cannot read it (plain AMQP).
    pub unacked: Option<u64>,
    pub consumers: u32,
    /// Messages/s in and out: from the source when it knows, else derived.
    pub in_rate: Option<f64>,
    pub out_rate: Option<f64>,
    /// Net change of `ready` per second over the last two samples.
    pub growth: Option<f64>,
    /// Ready messages in `<name>.dlq`, when such a queue exists.
    pub dlq: Option<u64>,
    pub history: VecDeque<u64>,
    pub drain: Drain,
    /// The broker does not have this watched queue: no numbers to show.
    pub missing: bool,
    sampled_at: Option<DateTime<Utc>>,
}

impl QueueRow {
    fn new(name: String) -> Self {
        QueueRow {
            name,
            ready: 0,
            unacked: None,
            consumers: 0,
            in_rate: None,
            out_rate: None,
            growth: None,
            dlq: None,
            history: VecDeque::with_capacity(HISTORY),
            drain: Drain::Unknown,
            missing: false,
            sampled_at: None,
        }
    }

    fn sample(&mut self, stat: &QueueStat, dlq: Option<u64>, at: DateTime<Utc>) {
        self.missing = stat.missing;
        self.dlq = dlq;
        if stat.missing {
            // Zero counts keep the totals honest, but "empty" would be a lie:
            // the drain stays unknown. A queue declared again later starts
            // afresh rather than showing growth against the one that went.
            self.ready = 0;
            self.unacked = None;
            self.consumers = 0;
            self.in_rate = None;
            self.out_rate = None;
            self.growth = None;
            self.drain = Drain::Unknown;
            self.sampled_at = None;
            return;
        }
        let dt = self
            .sampled_at
            .map(|prev| (at - prev).num_milliseconds() as f64 / 1000.0)
            .filter(|dt| *dt > 0.0);
        self.growth = dt.map(|dt| (stat.ready as f64 - self.ready as f64) / dt);
        self.ready = stat.ready;
        self.unacked = stat.unacked;
        self.consumers = stat.consumers;
        self.in_rate = stat.publish_rate;
        self.out_rate = stat.deliver_rate;
        self.sampled_at = Some(at);
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(stat.ready);
        self.drain = self.compute_drain();
    }

    fn compute_drain(&self) -> Drain {
        if self.ready == 0 {
            return Drain::Empty;
        }
        if self.consumers == 0 {
            return Drain::Never;
        }
        let net_out = match (self.in_rate, self.out_rate) {
            (Some(i), Some(o)) => Some(o - i),
            _ => self.growth.map(|g| -g),
        };
        match net_out {
            Some(n) if n > 0.0 => Drain::Seconds(self.ready as f64 / n),
            Some(_) => Drain::Never,
            None => Drain::Unknown,
        }
    }

    pub fn over(&self, threshold: u64) -> bool {
        self.ready >= threshold
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueueTable {
    pub rows: Vec<QueueRow>,
    pub scroll: Scroll,
    pub as_of: Option<DateTime<Utc>>,
}

impl QueueTable {
    /// Folds a new poll into the rows. Returns false when nothing visible changed.
    pub fn ingest(&mut self, as_of: DateTime<Utc>, stats: &[QueueStat]) -> bool {
        let before = self.rows.clone();
        let names: Vec<String> = stats.iter().map(|s| sanitize(&s.name)).collect();
        let dlq_of = |name: &str| -> Option<u64> {
            let wanted = format!("{name}.dlq");
            names
                .iter()
                .position(|n| *n == wanted)
                .filter(|&i| !stats[i].missing)
                .map(|i| stats[i].ready)
        };
        let mut rows = Vec::with_capacity(stats.len());
        for (stat, name) in stats.iter().zip(&names) {
            // A DLQ is shown inside its work queue's row; an orphan DLQ gets its own.
            if stat.is_dead_letter_queue() {
                let parent = name.trim_end_matches(".dlq");
                if names.iter().any(|n| n == parent) {
                    continue;
                }
            }
            let mut row = self
                .rows
                .iter()
                .position(|r| r.name == *name)
                .map(|i| self.rows.swap_remove(i))
                .unwrap_or_else(|| QueueRow::new(name.clone()));
            row.sample(stat, dlq_of(name), as_of);
            rows.push(row);
        }
        self.rows = rows;
        self.as_of = Some(as_of);
        let len = self.rows.len();
        let cursor = self.scroll.cursor;
        self.scroll.set_cursor(cursor, len);
        self.rows != before
    }

    pub fn selected(&self) -> Option<&QueueRow> {
        self.rows.get(self.scroll.cursor)
    }

    pub fn total_ready(&self) -> u64 {
        self.rows.iter().map(|r| r.ready).sum()
    }

    pub fn total_dead_letters(&self) -> u64 {
        self.rows.iter().filter_map(|r| r.dlq).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::queue_stat as stat;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    #[test]
    fn dead_letter_queues_fold_into_their_work_queue() {
        let mut t = QueueTable::default();
        t.ingest(
            t0(),
            &[
                stat("fulfillment", 5, 1),
                stat("fulfillment.dlq", 7, 0),
                stat("orphan.dlq", 2, 0),
            ],
        );
        let names: Vec<_> = t.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["fulfillment", "orphan.dlq"]);
        assert_eq!(t.rows[0].dlq, Some(7));
        assert_eq!(t.total_dead_letters(), 7);
    }

    #[test]
    fn growth_and_drain_come_from_consecutive_samples() {
        let mut t = QueueTable::default();
        t.ingest(t0(), &[stat("q", 1000, 2)]);
        assert_eq!(t.rows[0].drain, Drain::Unknown);
        t.ingest(t0() + Duration::seconds(2), &[stat("q", 800, 2)]);
        assert_eq!(t.rows[0].growth, Some(-100.0));
        assert_eq!(t.rows[0].drain, Drain::Seconds(8.0));
        t.ingest(t0() + Duration::seconds(4), &[stat("q", 900, 2)]);
        assert_eq!(t.rows[0].drain, Drain::Never);
    }

    #[test]
    fn no_consumer_never_drains_and_empty_is_empty() {
        let mut t = QueueTable::default();
        t.ingest(t0(), &[stat("a", 10, 0), stat("b", 0, 0)]);
        assert_eq!(t.rows[0].drain, Drain::Never);
        assert_eq!(t.rows[1].drain, Drain::Empty);
    }

    #[test]
    fn source_rates_win_over_derived_growth() {
        let mut t = QueueTable::default();
        let mut s = stat("q", 100, 1);
        s.publish_rate = Some(10.0);
        s.deliver_rate = Some(30.0);
        t.ingest(t0(), &[s]);
        assert_eq!(t.rows[0].drain, Drain::Seconds(5.0));
    }

    #[test]
    fn a_missing_queue_has_no_numbers_and_restarts_cleanly() {
        let mut t = QueueTable::default();
        t.ingest(t0(), &[stat("q", 500, 1), stat("q.dlq", 3, 0)]);
        let gone = QueueStat {
            missing: true,
            ..stat("q", 0, 0)
        };
        let gone_dlq = QueueStat {
            missing: true,
            ..stat("q.dlq", 0, 0)
        };
        t.ingest(t0() + Duration::seconds(2), &[gone, gone_dlq]);
        let names: Vec<_> = t.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["q"], "a missing dlq still folds into its queue");
        let row = &t.rows[0];
        assert!(row.missing);
        assert_eq!((row.ready, row.dlq, row.growth), (0, None, None));
        assert_eq!(row.drain, Drain::Unknown);
        assert_eq!(t.total_ready(), 0);
        // Declared again: a fresh start, not growth against the old queue.
        t.ingest(t0() + Duration::seconds(4), &[stat("q", 10, 1)]);
        let row = &t.rows[0];
        assert!(!row.missing);
        assert_eq!((row.ready, row.growth), (10, None));
    }

    #[test]
    fn history_is_bounded_and_identical_polls_are_no_change() {
        let mut t = QueueTable::default();
        for i in 0..(HISTORY as i64 + 10) {
            t.ingest(t0() + Duration::seconds(i), &[stat("q", i as u64, 1)]);
        }
        assert_eq!(t.rows[0].history.len(), HISTORY);
        assert_eq!(t.rows[0].history.front(), Some(&10));
        let at = t0() + Duration::seconds(100);
        let s = [stat("q", 69, 1)];
        assert!(t.ingest(at, &s));
        // Same numbers again: history shifts, so the sparkline still moves.
        assert!(t.ingest(at + Duration::seconds(1), &s));
    }
}
