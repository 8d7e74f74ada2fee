//! The bulk heal's schedule: retries and cancellations in two lanes that
//! run side by side (each publishing on its own broker connection), and in
//! each lane the next batch's SQL running while the current batch waits
//! for its publisher confirms.
//!
//! Publisher confirms, not SQL, were most of a heal's time (74 % of a
//! 100,000-order heal sat between a batch's last statement and its
//! COMMIT). What stays exactly as it was (docs/remediation-contract.md):
//! - a batch commits only after every one of its messages is confirmed
//!   (the transaction code is unchanged; this module only decides when a
//!   batch may start and when it may publish);
//! - in a lane, a batch publishes only after the batch before it
//!   committed, and never if that one failed: a lost connection or a killed
//!   backend leaves a prefix of each lane committed and nothing of the rest
//!   sent, as a one-batch-at-a-time heal did;
//! - in a lane, a batch's SQL starts only when the previous batch's SQL is
//!   done (it holds all its row locks by then). Two batches that touch the
//!   same stock rows are therefore ordered by the database: the later one
//!   waits for the earlier one's commit, and the two can never deadlock.
//!
//! The lanes heal different orders with different remediations; one
//! lane's failure does not stop the other.

use futures::StreamExt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// How much a heal may overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Batches of one lane in flight at once (1: none overlap).
    pub depth: usize,
    /// Transactions open at once over both lanes. Kept below the pool's
    /// three connections, so the cockpit's own polls still get one.
    pub transactions: usize,
    /// Retries and cancellations at the same time (else retries first).
    pub lanes_together: bool,
    /// Broker connections the lanes publish on.
    pub publishers: usize,
}

impl Schedule {
    /// One batch at a time, retries before cancellations, one publisher
    /// connection: the heal as it was, and what SQLite gets (one writer:
    /// a second write transaction would fail, not wait).
    pub const SEQUENTIAL: Schedule = Schedule {
        depth: 1,
        transactions: 1,
        lanes_together: false,
        publishers: 1,
    };
    /// PostgreSQL and MySQL: two lanes, each overlapping one batch's SQL
    /// with the previous batch's confirms, over two transactions.
    pub const OVERLAPPED: Schedule = Schedule {
        depth: 2,
        transactions: 2,
        lanes_together: true,
        publishers: 2,
    };
}

/// What one lane did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaneResult {
    /// Orders in committed batches.
    pub done: u64,
    /// The first batch's failure; the batches after it did nothing.
    pub error: Option<String>,
}

/// One batch's place in its lane, handed to its transaction: the
/// transaction calls [`Turn::ready_to_publish`] once its SQL is done.
pub struct Turn {
    gate: Mutex<Option<OwnedSemaphorePermit>>,
    prev: tokio::sync::Mutex<Option<oneshot::Receiver<bool>>>,
    /// The previous batch's outcome once it was awaited.
    prev_ok: AtomicBool,
    held_back: AtomicBool,
}

impl Turn {
    fn new(gate: OwnedSemaphorePermit, prev: Option<oneshot::Receiver<bool>>) -> Turn {
        Turn {
            gate: Mutex::new(Some(gate)),
            prev: tokio::sync::Mutex::new(prev),
            prev_ok: AtomicBool::new(true),
            held_back: AtomicBool::new(false),
        }
    }

    /// A turn outside any schedule (a single remediation): publishes at once.
    pub fn alone() -> Turn {
        Turn {
            gate: Mutex::new(None),
            prev: tokio::sync::Mutex::new(None),
            prev_ok: AtomicBool::new(true),
            held_back: AtomicBool::new(false),
        }
    }

    fn release_gate(&self) {
        self.gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// The batch's SQL is done: lets the lane's next batch start its SQL,
    /// then waits until the batch before this one committed. `false`: it
    /// did not (failed, or was held back itself): roll back, publish nothing.
    pub async fn ready_to_publish(&self) -> bool {
        self.release_gate();
        let ok = self.predecessor_ok().await;
        if !ok {
            self.held_back.store(true, Ordering::SeqCst);
        }
        ok
    }

    async fn predecessor_ok(&self) -> bool {
        if let Some(rx) = self.prev.lock().await.take() {
            // A dropped sender is a batch that never finished: not ok.
            let ok = rx.await.unwrap_or(false);
            self.prev_ok.store(ok, Ordering::SeqCst);
        }
        self.prev_ok.load(Ordering::SeqCst)
    }

    fn was_held_back(&self) -> bool {
        self.held_back.load(Ordering::SeqCst)
    }
}

enum Step {
    Committed(u64),
    /// Not run, or rolled back, because an earlier batch of the lane failed.
    Skipped,
    Failed(String),
}

struct Lane {
    gate: Arc<Semaphore>,
    failed: AtomicBool,
}

/// Runs `apply` on each chunk of `ids` in order, as `schedule` allows,
/// stopping the lane at its first failure. `apply` runs one batch's
/// transaction and returns how many orders it committed.
pub async fn run_lane<'a, F, Fut>(
    ids: &'a [i64],
    batch: usize,
    schedule: Schedule,
    transactions: &Semaphore,
    apply: F,
) -> LaneResult
where
    F: Fn(&'a [i64], Arc<Turn>) -> Fut,
    Fut: Future<Output = Result<u64, String>>,
{
    let lane = Lane {
        gate: Arc::new(Semaphore::new(1)),
        failed: AtomicBool::new(false),
    };
    // Made up front (futures do nothing until polled): a closure mapping
    // the chunks to futures is higher-ranked over their lifetimes, which
    // the cockpit's spawned task cannot prove `Send`.
    let mut batches = Vec::new();
    let mut prev = None;
    for chunk in ids.chunks(batch.max(1)) {
        let (done, next) = oneshot::channel();
        batches.push(one(chunk, prev.take(), done, &lane, transactions, &apply));
        prev = Some(next);
    }
    let mut steps = futures::stream::iter(batches).buffered(schedule.depth.max(1));
    let mut result = LaneResult::default();
    while let Some(step) = steps.next().await {
        match step {
            Step::Committed(n) => result.done += n,
            Step::Skipped => {}
            Step::Failed(e) => {
                result.error.get_or_insert(e);
            }
        }
    }
    result
}

async fn one<'a, F, Fut>(
    chunk: &'a [i64],
    prev: Option<oneshot::Receiver<bool>>,
    done: oneshot::Sender<bool>,
    lane: &Lane,
    transactions: &Semaphore,
    apply: &F,
) -> Step
where
    F: Fn(&'a [i64], Arc<Turn>) -> Fut,
    Fut: Future<Output = Result<u64, String>>,
{
    // Dropping `done` unsent tells the next batch this one did not commit.
    let stopped = || lane.failed.load(Ordering::SeqCst);
    if stopped() {
        return Step::Skipped;
    }
    let Ok(gate) = lane.gate.clone().acquire_owned().await else {
        return Step::Skipped;
    };
    let Ok(slot) = transactions.acquire().await else {
        return Step::Skipped;
    };
    if stopped() {
        return Step::Skipped;
    }
    let turn = Arc::new(Turn::new(gate, prev));
    let result = apply(chunk, turn.clone()).await;
    drop(slot);
    // A batch that failed before publishing never released its gate.
    turn.release_gate();
    let prev_ok = turn.predecessor_ok().await;
    match result {
        Ok(n) => {
            let _ = done.send(prev_ok);
            if n == 0 && !prev_ok {
                Step::Skipped
            } else {
                Step::Committed(n)
            }
        }
        Err(_) if turn.was_held_back() || !prev_ok => {
            lane.failed.store(true, Ordering::SeqCst);
            Step::Skipped
        }
        Err(e) => {
            lane.failed.store(true, Ordering::SeqCst);
            Step::Failed(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::Notify;

    /// What the fake transactions did, in order.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Log {
        fn push(&self, s: String) {
            self.0.lock().unwrap().push(s);
        }
        fn all(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
        fn at(&self, s: &str) -> usize {
            self.all()
                .iter()
                .position(|l| l == s)
                .unwrap_or_else(|| panic!("{s} not in {:?}", self.all()))
        }
    }

    /// A fake batch transaction: SQL, then publish (after its turn), then
    /// commit. Batch 1's confirms arrive only once batch 2's SQL started:
    /// without the overlap the lane would never finish.
    async fn fake(
        chunk: &[i64],
        turn: Arc<Turn>,
        log: &Log,
        second_sql: &Notify,
        fail_publish_of: Option<i64>,
    ) -> Result<u64, String> {
        let k = chunk[0];
        log.push(format!("sql {k}"));
        if k == 2 {
            second_sql.notify_one();
        }
        tokio::task::yield_now().await;
        log.push(format!("sql done {k}"));
        if !turn.ready_to_publish().await {
            log.push(format!("held back {k}"));
            return Err("held back".into());
        }
        log.push(format!("publish {k}"));
        if k == 1 {
            second_sql.notified().await;
        }
        if fail_publish_of == Some(k) {
            log.push(format!("rollback {k}"));
            return Err(format!("batch {k}: publishing failed"));
        }
        log.push(format!("commit {k}"));
        Ok(chunk.len() as u64)
    }

    async fn lane(ids: &[i64], schedule: Schedule, fail: Option<i64>) -> (LaneResult, Vec<String>) {
        let log = Log::default();
        let second_sql = Notify::new();
        let slots = Semaphore::new(schedule.transactions);
        let result = tokio::time::timeout(
            Duration::from_secs(30),
            run_lane(ids, 1, schedule, &slots, |chunk, turn| {
                fake(chunk, turn, &log, &second_sql, fail)
            }),
        )
        .await
        .expect("the lane finished: batch 2's SQL ran while batch 1 waited for confirms");
        (result, log.all())
    }

    #[tokio::test]
    async fn the_next_batch_runs_its_sql_while_the_current_one_waits_for_confirms() {
        let (result, log) = lane(&[1, 2, 3], Schedule::OVERLAPPED, None).await;
        assert_eq!(
            result,
            LaneResult {
                done: 3,
                error: None
            }
        );
        let at = |s: &str| log.iter().position(|l| l == s).unwrap();
        assert!(at("sql 2") < at("commit 1"), "{log:?}");
        // Batch 2 publishes only after batch 1 committed.
        assert!(at("commit 1") < at("publish 2"), "{log:?}");
        assert!(at("commit 2") < at("publish 3"), "{log:?}");
        // A lane's SQL never overlaps its own SQL.
        assert!(at("sql done 1") < at("sql 2"), "{log:?}");
        assert!(at("sql done 2") < at("sql 3"), "{log:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_stops_its_lane_and_the_next_batch_publishes_nothing() {
        let (result, log) = lane(&[1, 2, 3, 4, 5], Schedule::OVERLAPPED, Some(2)).await;
        assert_eq!(
            result,
            LaneResult {
                done: 1,
                error: Some("batch 2: publishing failed".into())
            }
        );
        assert!(!log.contains(&"publish 3".to_string()), "{log:?}");
        assert!(!log.contains(&"commit 3".to_string()), "{log:?}");
        // Batch 3 may have run its SQL (overlapped), then rolled back;
        // nothing after it even started.
        assert!(
            !log.iter().any(|l| l.ends_with(" 4") || l.ends_with(" 5")),
            "{log:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_first_batch_leaves_nothing_committed() {
        let log = Log::default();
        let slots = Semaphore::new(2);
        let result = run_lane(
            &[1, 2, 3],
            1,
            Schedule::OVERLAPPED,
            &slots,
            |chunk, turn| {
                let log = &log;
                async move {
                    let k = chunk[0];
                    if k == 1 {
                        log.push("sql failed 1".into());
                        return Err("batch 1: the backend was terminated".to_string());
                    }
                    if !turn.ready_to_publish().await {
                        log.push(format!("held back {k}"));
                        return Err("held back".into());
                    }
                    log.push(format!("commit {k}"));
                    Ok(1)
                }
            },
        )
        .await;
        assert_eq!(
            result,
            LaneResult {
                done: 0,
                error: Some("batch 1: the backend was terminated".into())
            }
        );
        assert!(
            !log.all().iter().any(|l| l.starts_with("commit")),
            "{:?}",
            log.all()
        );
    }

    #[tokio::test]
    async fn sequential_runs_one_batch_at_a_time() {
        let log = Log::default();
        let slots = Semaphore::new(1);
        let result = run_lane(
            &[1, 2, 3],
            1,
            Schedule::SEQUENTIAL,
            &slots,
            |chunk, turn| {
                let log = &log;
                async move {
                    let k = chunk[0];
                    log.push(format!("sql {k}"));
                    tokio::task::yield_now().await;
                    assert!(turn.ready_to_publish().await);
                    log.push(format!("commit {k}"));
                    Ok(1)
                }
            },
        )
        .await;
        assert_eq!(result.done, 3);
        assert_eq!(
            log.all(),
            [
                "sql 1", "commit 1", "sql 2", "commit 2", "sql 3", "commit 3"
            ]
        );
        assert!(log.at("commit 1") < log.at("sql 2"));
    }
}
