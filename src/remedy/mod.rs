//! Remediations: preview, confirmation, guarded transaction, publisher
//! confirms and audit, the same code path for keys and headless commands.
//!
//! `Engine::preview` says exactly what a fix will do (statements with their
//! bound values, messages, counts) without changing anything;
//! `Engine::execute` does it. Both refuse in read-only mode, and every
//! attempt, whatever its outcome, is audited.

pub mod audit;
pub mod broker;
pub mod db;
pub mod headless;
pub mod pipeline;
pub mod spec;
pub mod sql;
pub mod template;

use crate::model::remedy::Plan;
pub use crate::model::remedy::{Preview, Report, Request, WALLBOARD_READ_ONLY};
use crate::runbook::Runbook;
use crate::sources::store::AnyStore;
use audit::{Actor, AuditLog, AuditRecord, Outcome};
use broker::{Broker, OutMessage, RequeueRequest};
use chrono::{DateTime, Utc};
use pipeline::{LaneResult, Schedule, Turn};
use serde_json::json;
use spec::{REMEDY_PARAMS, Remediation};
use sql::{ApplyError, Bindings};
use std::sync::Arc;
use std::time::Instant;
use template::{Cell, Row};

/// Orders per transaction in a bulk heal: big enough to be fast, small
/// enough that a failure loses (rolls back) little and locks are short.
pub const HEAL_BATCH: usize = 500;
/// Order ids kept in an audit row's parameters (the count is always kept).
const AUDIT_IDS: usize = 1000;

impl Request {
    /// The order a single-order request names (for its timeline event).
    fn order_ids(&self) -> Vec<i64> {
        match self {
            Request::Order { order_id, .. } => vec![*order_id],
            _ => Vec::new(),
        }
    }
}

/// Why remediations are refused for a run, if they are: the wallboard
/// always (whatever the flags and config say: nobody fixes orders from the
/// wall), else `--read-only`, else the environment's `read_only`.
pub fn read_only_reason(
    wallboard: bool,
    read_only_flag: bool,
    env_name: &str,
    env_read_only: bool,
) -> Option<String> {
    if wallboard {
        Some(WALLBOARD_READ_ONLY.to_string())
    } else if read_only_flag {
        Some("read-only mode (--read-only)".to_string())
    } else if env_read_only {
        Some(format!("environment {env_name} is read_only in the config"))
    } else {
        None
    }
}

/// Everything a remediation needs. The store is the primary database
/// (never a read replica).
pub struct Engine {
    store: Option<AnyStore>,
    broker: Broker,
    runbook: Arc<Runbook>,
    actor: Actor,
    audit: AuditLog,
    /// `Some(why)`: every remediation is refused.
    read_only: Option<String>,
    /// How a bulk heal overlaps; `None`: chosen by the database.
    heal_schedule: Option<Schedule>,
}

impl Engine {
    pub fn new(
        store: Option<AnyStore>,
        broker: Broker,
        runbook: Arc<Runbook>,
        actor: Actor,
        audit: AuditLog,
    ) -> Self {
        Engine {
            store,
            broker,
            runbook,
            actor,
            audit,
            read_only: None,
            heal_schedule: None,
        }
    }

    /// Runs bulk heals with `schedule` instead of the database's default
    /// (the benchmark compares the sequential heal with the overlapped one).
    pub fn with_heal_schedule(mut self, schedule: Schedule) -> Self {
        self.heal_schedule = Some(schedule);
        self
    }

    /// Refuse everything, saying `why` (`--read-only`, the environment's
    /// `read_only`, the wallboard).
    pub fn read_only(mut self, why: Option<String>) -> Self {
        self.read_only = why;
        self
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only.is_some()
    }

    pub fn store(&self) -> Option<&AnyStore> {
        self.store.as_ref()
    }

    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// `Err` (the known ids) when the runbook has no remediation `id`: a
    /// typo for the caller to report as bad usage before anything runs.
    pub fn check_action(&self, id: &str) -> Result<(), String> {
        self.remediation(id).map(|_| ())
    }

    fn remediation(&self, id: &str) -> Result<&Remediation, String> {
        self.runbook.remediation(id).ok_or_else(|| {
            let known: Vec<&str> = self
                .runbook
                .remediations
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            format!(
                "unknown remediation {:?} (the runbook has: {})",
                crate::sanitize::sanitize_capped(id, 40),
                known.join(", ")
            )
        })
    }

    fn need_store(&self) -> Result<&AnyStore, String> {
        self.store
            .as_ref()
            .ok_or_else(|| "no database is configured for this environment".to_string())
    }

    /// Says exactly what `request` would do; changes nothing. Refused (and
    /// audited) in read-only mode.
    pub async fn preview(&self, request: Request, now: DateTime<Utc>) -> Result<Preview, Report> {
        let started = Instant::now();
        if let Some(why) = &self.read_only {
            return Err(self.refuse(&request, why, now, started).await);
        }
        let result = match &request {
            Request::Order {
                action, order_id, ..
            } => self.preview_order(&request, action, *order_id, now).await,
            Request::Heal { older_than, limit } => {
                self.preview_heal(&request, *older_than, *limit, now).await
            }
            Request::Requeue(r) => self.preview_requeue(&request, r).await,
            Request::Unaimed { .. } => Err("nothing is selected to fix".to_string()),
        };
        match result {
            Ok(p) => Ok(p),
            Err(e) => Err(self
                .record(
                    &request,
                    Outcome::Failed,
                    0,
                    String::new(),
                    Some(e),
                    now,
                    started,
                    &[],
                )
                .await),
        }
    }

    async fn preview_order(
        &self,
        request: &Request,
        action: &str,
        order_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Preview, String> {
        let rem = self.remediation(action)?;
        let store = self.need_store()?;
        let rows = db::RemedyDb(store).check(rem, &[order_id], now).await?;
        let mut p = Preview {
            request: request.clone(),
            title: format!("{} — {}", rem.title, request.target()),
            lines: Vec::new(),
            expected: rows.len() as u64,
            noop: None,
            blocked: None,
            plan: Plan::Orders {
                ids: vec![order_id],
            },
        };
        if rows.is_empty() {
            p.noop = Some(format!("nothing to do: {}", rem.noop));
            p.plan = Plan::Nothing;
            return Ok(p);
        }
        self.describe_remediation(&mut p.lines, rem, &[order_id], now)?;
        let msgs = messages(rem, &rows, "preview")?;
        self.describe_messages(&mut p.lines, &msgs, msgs.len());
        if !msgs.is_empty() && self.broker.is_none() {
            p.blocked = Some(format!(
                "{} publishes {} message(s) and no broker is configured",
                rem.id,
                msgs.len()
            ));
        }
        Ok(p)
    }

    /// The statements of `rem` as they will run on `ids`, values shown.
    fn describe_remediation(
        &self,
        lines: &mut Vec<String>,
        rem: &Remediation,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let store = self.need_store()?;
        let b = Bindings {
            order_ids: ids,
            now,
            cutoff: None,
            limit: None,
        };
        lines.push(format!(
            "-- in one transaction on {} ({}):",
            store.describe_kind(),
            rem.id
        ));
        for (n, step) in rem.steps.iter().enumerate() {
            let p = db::RemedyDb(store).prepare(&step.sql, REMEDY_PARAMS, &b)?;
            lines.push(format!(
                "-- step {} (guard: at most {} row(s) per order, else roll back)",
                n + 1,
                step.max_rows_per_order
            ));
            push_sql(lines, &p);
        }
        lines.push(format!(
            "-- plus one ops event \"{}\" per order on its timeline",
            rem.event_kind
        ));
        Ok(())
    }

    fn describe_messages(&self, lines: &mut Vec<String>, msgs: &[OutMessage], total: usize) {
        if total == 0 {
            return;
        }
        lines.push(format!(
            "-- then {total} message(s) to {}, each confirmed before the commit:",
            self.broker.describe()
        ));
        for m in msgs.iter().take(5) {
            lines.push(m.describe());
        }
        if total > 5 {
            lines.push(format!("… and {} more like these", total - 5));
        }
    }

    async fn preview_heal(
        &self,
        request: &Request,
        older_than: chrono::Duration,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Preview, String> {
        let store = self.need_store()?;
        let heal = self
            .runbook
            .heal
            .as_ref()
            .ok_or("the runbook has no [heal] section")?;
        let retry = self.remediation(&heal.retry)?;
        let cancel = self.remediation(&heal.otherwise)?;
        let cutoff = now - older_than;
        let ids = db::RemedyDb(store)
            .heal_candidates(&heal.candidates, cutoff, now, i64::from(limit.max(1)))
            .await?;
        let mut retry_ids = Vec::new();
        for chunk in ids.chunks(HEAL_BATCH) {
            let b = Bindings {
                order_ids: chunk,
                now,
                cutoff: None,
                limit: None,
            };
            retry_ids.extend(
                db::RemedyDb(store)
                    .ids(&heal.retry_when, REMEDY_PARAMS, &b)
                    .await
                    .map_err(|e| format!("heal retry_when: {e}"))?,
            );
        }
        let retry_set: std::collections::HashSet<i64> = retry_ids.iter().copied().collect();
        let cancel_ids: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !retry_set.contains(i))
            .collect();
        let mut lines = vec![format!(
            "{} zombie order(s) in the heal's candidates (older than {}h, limit {limit}): \
             {} to retry ({}), {} to cancel and notify ({})",
            ids.len(),
            older_than.num_hours(),
            retry_ids.len(),
            retry.id,
            cancel_ids.len(),
            cancel.id
        )];
        lines.push(format!(
            "-- in batches of {HEAL_BATCH} orders, one transaction per batch and remediation; \
             orders already fixed are skipped by each check"
        ));
        if let Some(first) = retry_ids.chunks(HEAL_BATCH).next() {
            self.describe_remediation(&mut lines, retry, first, now)?;
            let rows = db::RemedyDb(store)
                .check(retry, &first[..first.len().min(5)], now)
                .await?;
            self.describe_messages(
                &mut lines,
                &messages(retry, &rows, "preview")?,
                retry_ids.len(),
            );
        }
        if let Some(first) = cancel_ids.chunks(HEAL_BATCH).next() {
            self.describe_remediation(&mut lines, cancel, first, now)?;
            let rows = db::RemedyDb(store)
                .check(cancel, &first[..first.len().min(5)], now)
                .await?;
            self.describe_messages(
                &mut lines,
                &messages(cancel, &rows, "preview")?,
                cancel_ids.len(),
            );
        }
        let blocked = (!ids.is_empty()
            && self.broker.is_none()
            && (!retry.publish.is_empty() || !cancel.publish.is_empty()))
        .then(|| "heal publishes messages and no broker is configured".to_string());
        Ok(Preview {
            request: request.clone(),
            title: format!("Bulk heal — {}", request.target()),
            lines,
            expected: ids.len() as u64,
            noop: ids
                .is_empty()
                .then(|| "nothing to do: no zombie order is older than the threshold".to_string()),
            blocked,
            plan: if ids.is_empty() {
                Plan::Nothing
            } else {
                Plan::Heal {
                    retry: retry_ids,
                    cancel: cancel_ids,
                }
            },
        })
    }

    async fn preview_requeue(
        &self,
        request: &Request,
        r: &RequeueRequest,
    ) -> Result<Preview, String> {
        let depth = self.broker.depth(&r.dlq()).await?;
        let expected = depth.min(r.limit);
        let mut lines = vec![
            format!(
                "consume from {} ({depth} ready), republish each to queue {} through the default \
                 exchange on {}",
                r.dlq(),
                r.queue,
                self.broker.describe()
            ),
            "each republish waits for its publisher confirm; only then is its dead letter acked"
                .into(),
            format!(
                "message ids are kept (a stable one is given to messages without); header {} + 1",
                crate::broker::RETRY_HEADER
            ),
            format!("limit {}", r.limit),
        ];
        if let Some(f) = &r.filter {
            lines.push(format!(
                "only messages whose body or headers contain {:?}; the others stay in the DLQ",
                crate::sanitize::sanitize_capped(f, 60)
            ));
        }
        Ok(Preview {
            request: request.clone(),
            title: format!("Requeue dead letters — {}", request.target()),
            lines,
            expected,
            noop: (expected == 0).then(|| format!("nothing to do: {} is empty", r.dlq())),
            blocked: None,
            plan: if expected == 0 {
                Plan::Nothing
            } else {
                Plan::Requeue
            },
        })
    }

    /// Does what `preview` showed (or, with `dry_run`, only records that it
    /// was asked). Every outcome is audited.
    pub async fn execute(&self, preview: &Preview, dry_run: bool, now: DateTime<Utc>) -> Report {
        let started = Instant::now();
        let request = &preview.request;
        if let Some(why) = &self.read_only {
            return self.refuse(request, why, now, started).await;
        }
        let statement = preview.lines.join("\n");
        let ids: Vec<i64> = match &preview.plan {
            Plan::Orders { ids } => ids.clone(),
            Plan::Heal { retry, cancel } => retry.iter().chain(cancel).copied().collect(),
            _ => Vec::new(),
        };
        if let Some(why) = &preview.noop {
            let ids = request.order_ids();
            return self
                .record(
                    request,
                    Outcome::Noop,
                    0,
                    statement,
                    Some(why.clone()),
                    now,
                    started,
                    &ids,
                )
                .await;
        }
        if dry_run {
            return self
                .record(
                    request,
                    Outcome::DryRun,
                    preview.expected,
                    statement,
                    None,
                    now,
                    started,
                    &ids,
                )
                .await;
        }
        if let Some(why) = &preview.blocked {
            return self
                .record(
                    request,
                    Outcome::Failed,
                    0,
                    statement,
                    Some(why.clone()),
                    now,
                    started,
                    &ids,
                )
                .await;
        }
        let run = run_id(now);
        let detail = format!(
            "{} by {}@{} (run {run})",
            request.action(),
            self.actor.os_user,
            self.actor.host
        );
        let result: Result<u64, (u64, String)> = match (&preview.plan, request) {
            (Plan::Orders { ids }, Request::Order { action, .. }) => {
                match self
                    .apply(action, ids, now, &detail, &run, Arc::new(Turn::alone()), 0)
                    .await
                {
                    Ok(0) => {
                        let rem_noop = self
                            .remediation(action)
                            .map(|r| r.noop.clone())
                            .unwrap_or_default();
                        return self
                            .record(
                                request,
                                Outcome::Noop,
                                0,
                                statement,
                                Some(format!("nothing to do any more: {rem_noop}")),
                                now,
                                started,
                                ids,
                            )
                            .await;
                    }
                    Ok(n) => Ok(n),
                    Err(e) => Err((0, e)),
                }
            }
            (Plan::Heal { retry, cancel }, _) => self.heal(retry, cancel, now, &detail, &run).await,
            (Plan::Requeue, Request::Requeue(r)) => {
                let rep = self.broker.requeue(r).await;
                let mut note = format!("{} moved", rep.moved);
                if rep.skipped > 0 {
                    note.push_str(&format!(", {} left by the filter", rep.skipped));
                }
                if rep.reconnects > 0 {
                    note.push_str(&format!(", {} reconnect(s)", rep.reconnects));
                }
                if rep.deduplicated > 0 {
                    note.push_str(&format!(
                        ", {} already republished before a lost ack (acked, not sent twice)",
                        rep.deduplicated
                    ));
                }
                if rep.maybe_duplicated > 0 {
                    note.push_str(&format!(
                        ", up to {} may be in the work queue twice (same message id)",
                        rep.maybe_duplicated
                    ));
                }
                match rep.error {
                    Some(e) => Err((rep.moved, format!("{e} ({note})"))),
                    None => {
                        return self
                            .record(
                                request,
                                Outcome::Ok,
                                rep.moved,
                                statement,
                                None,
                                now,
                                started,
                                &[],
                            )
                            .await
                            .with_note(&note);
                    }
                }
            }
            _ => Err((0, "internal: the preview does not match the request".into())),
        };
        match result {
            Ok(n) => {
                self.record(request, Outcome::Ok, n, statement, None, now, started, &ids)
                    .await
            }
            Err((n, e)) => {
                self.record(
                    request,
                    Outcome::Failed,
                    n,
                    statement,
                    Some(e),
                    now,
                    started,
                    &ids,
                )
                .await
            }
        }
    }

    /// Asked for where no remediation may run (the wallboard): nothing is
    /// previewed or touched; audited as refused, saying `why`, in the JSONL
    /// file and `remediation_audit` like every other refusal.
    pub async fn refuse_request(&self, request: &Request, why: &str, now: DateTime<Utc>) -> Report {
        self.refuse(request, why, now, Instant::now()).await
    }

    /// The user said no (or could not be asked): audited as refused.
    pub async fn decline(&self, preview: &Preview, why: &str, now: DateTime<Utc>) -> Report {
        self.refuse(&preview.request, why, now, Instant::now())
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        action: &str,
        ids: &[i64],
        now: DateTime<Utc>,
        detail: &str,
        run: &str,
        turn: Arc<Turn>,
        publisher: usize,
    ) -> Result<u64, String> {
        let rem = self.remediation(action)?;
        let store = self.need_store()?;
        let sender = Publisher {
            rem,
            broker: &self.broker,
            run,
            turn,
            publisher,
        };
        match db::RemedyDb(store)
            .apply(rem, ids, now, detail, &sender)
            .await
        {
            Ok(applied) => Ok(applied.orders.len() as u64),
            Err(ApplyError::Guard(e)) | Err(ApplyError::Failed(e)) => Err(e),
        }
    }

    /// Retries and cancellations in batches of [`HEAL_BATCH`], one
    /// transaction each, overlapped as [`pipeline`] explains.
    async fn heal(
        &self,
        retry: &[i64],
        cancel: &[i64],
        now: DateTime<Utc>,
        detail: &str,
        run: &str,
    ) -> Result<u64, (u64, String)> {
        let Some(heal) = self.runbook.heal.as_ref() else {
            return Err((0, "the runbook has no [heal] section".into()));
        };
        let schedule = self.heal_schedule.unwrap_or_else(|| match &self.store {
            Some(s) if s.kind() != crate::sources::store::DbKind::Sqlite => Schedule::OVERLAPPED,
            _ => Schedule::SEQUENTIAL,
        });
        let transactions = tokio::sync::Semaphore::new(schedule.transactions.max(1));
        let publishers = schedule.publishers.max(1);
        let (retried, cancelled) = if schedule.lanes_together {
            futures::join!(
                self.heal_lane(
                    &heal.retry,
                    retry,
                    0,
                    schedule,
                    &transactions,
                    now,
                    detail,
                    run
                ),
                self.heal_lane(
                    &heal.otherwise,
                    cancel,
                    1 % publishers,
                    schedule,
                    &transactions,
                    now,
                    detail,
                    run
                )
            )
        } else {
            let retried = self
                .heal_lane(
                    &heal.retry,
                    retry,
                    0,
                    schedule,
                    &transactions,
                    now,
                    detail,
                    run,
                )
                .await;
            let cancelled = if retried.error.is_some() {
                // One lane after the other, as before: a failure stops both.
                LaneResult::default()
            } else {
                self.heal_lane(
                    &heal.otherwise,
                    cancel,
                    1 % publishers,
                    schedule,
                    &transactions,
                    now,
                    detail,
                    run,
                )
                .await
            };
            (retried, cancelled)
        };
        let done = retried.done + cancelled.done;
        let errors: Vec<String> = [retried.error, cancelled.error]
            .into_iter()
            .flatten()
            .collect();
        if errors.is_empty() {
            return Ok(done);
        }
        Err((
            done,
            format!(
                "{}; {done} order(s) were healed and committed (whole batches only); \
                 run heal again to continue (fixed orders are skipped)",
                errors.join("; ")
            ),
        ))
    }

    /// One lane of a heal: `action` on `ids`, batch after batch.
    #[allow(clippy::too_many_arguments)]
    async fn heal_lane(
        &self,
        action: &str,
        ids: &[i64],
        publisher: usize,
        schedule: Schedule,
        transactions: &tokio::sync::Semaphore,
        now: DateTime<Utc>,
        detail: &str,
        run: &str,
    ) -> LaneResult {
        pipeline::run_lane(ids, HEAL_BATCH, schedule, transactions, |chunk, turn| {
            self.apply(action, chunk, now, detail, run, turn, publisher)
        })
        .await
    }

    async fn refuse(
        &self,
        request: &Request,
        why: &str,
        now: DateTime<Utc>,
        started: Instant,
    ) -> Report {
        let ids = request.order_ids();
        self.record(
            request,
            Outcome::Refused,
            0,
            String::new(),
            Some(why.to_string()),
            now,
            started,
            &ids,
        )
        .await
    }

    /// Writes the attempt to the JSONL file (fsynced) and the audit table,
    /// and an `ops` event for order attempts that changed nothing.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        request: &Request,
        outcome: Outcome,
        affected: u64,
        statement: String,
        error: Option<String>,
        now: DateTime<Utc>,
        started: Instant,
        ids: &[i64],
    ) -> Report {
        let mut parameters = json!({
            "orders": ids.len(),
            "order_ids": ids.iter().take(AUDIT_IDS).collect::<Vec<_>>(),
        });
        match request {
            Request::Heal { older_than, limit } => {
                parameters["older_than_hours"] = json!(older_than.num_hours());
                parameters["limit"] = json!(limit);
            }
            Request::Requeue(r) => {
                parameters["queue"] = json!(r.queue);
                parameters["limit"] = json!(r.limit);
                parameters["filter"] = json!(r.filter);
            }
            Request::Order { order_no, .. } => parameters["order_no"] = json!(order_no),
            Request::Unaimed { .. } => parameters["order_no"] = json!(null),
        }
        // Errors and statements quote whatever a driver or broker said; a
        // URL with its password must not reach the append-only trail, where
        // it could never be taken back.
        let error =
            error.map(|e| crate::sanitize::sanitize_capped(&crate::config::mask_secrets(&e), 2000));
        let statement = crate::config::mask_secrets(&statement);
        let record = AuditRecord {
            id: None,
            occurred_at: now,
            os_user: self.actor.os_user.clone(),
            host: self.actor.host.clone(),
            environment: self.actor.environment.clone(),
            action: request.action().to_string(),
            target: request.target(),
            parameters,
            statement,
            affected,
            outcome,
            error: error.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        };
        let mut problems = Vec::new();
        if let Err(e) = self.audit.append(&record) {
            problems.push(format!("local audit file: {e}"));
        }
        if let Some(store) = &self.store {
            if let Err(e) = db::RemedyDb(store).insert_audit(&record).await {
                problems.push(format!("audit row not written: {e}"));
            }
            if outcome != Outcome::Ok && !ids.is_empty() {
                let detail = format!(
                    "{} {} by {}@{}{}",
                    request.action(),
                    outcome,
                    self.actor.os_user,
                    self.actor.host,
                    error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                );
                let kind = format!("remediation_{outcome}");
                if let Err(e) = db::RemedyDb(store)
                    .note_event(ids, now, &kind, &detail)
                    .await
                {
                    problems.push(format!("timeline event not written: {e}"));
                }
            }
        } else {
            problems.push("audit row not written: no database".into());
        }
        let mut message = match outcome {
            Outcome::Ok => format!("{}: done, {affected} affected", request.action()),
            Outcome::DryRun => format!(
                "{}: dry run, would touch {affected}; nothing changed",
                request.action()
            ),
            Outcome::Noop => format!(
                "{}: {}",
                request.action(),
                error.clone().unwrap_or_default()
            ),
            Outcome::Refused | Outcome::Failed => format!(
                "{} {outcome}: {}",
                request.action(),
                error.clone().unwrap_or_default()
            ),
        };
        if !problems.is_empty() {
            message.push_str(&format!(" ({})", problems.join("; ")));
        }
        Report {
            outcome,
            affected,
            message,
        }
    }
}

impl Report {
    fn with_note(mut self, note: &str) -> Report {
        self.message.push_str(&format!(" ({note})"));
        self
    }
}

/// A short id tying the audit row, the ops events and the messages of one run.
fn run_id(now: DateTime<Utc>) -> String {
    let r: u32 = rand::random();
    format!("{}-{r:08x}", now.format("%Y%m%dT%H%M%S"))
}

fn push_sql(lines: &mut Vec<String>, p: &sql::Prepared) {
    for l in p
        .sql
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
    {
        lines.push(l.to_string());
    }
    let shown: Vec<String> = p
        .params
        .iter()
        .enumerate()
        .take(12)
        .map(|(i, (name, value))| format!("#{} :{name} = {value}", i + 1))
        .collect();
    let more = p.params.len().saturating_sub(12);
    let mut line = format!("-- bound: {}", shown.join(", "));
    if more > 0 {
        line.push_str(&format!(", … {more} more"));
    }
    lines.push(line);
}

/// The messages `rem` sends for its checked rows.
pub fn messages(rem: &Remediation, rows: &[Row], run: &str) -> Result<Vec<OutMessage>, String> {
    let mut out = Vec::new();
    for row in rows {
        let order_id = match row.get("order_id") {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        };
        for p in &rem.publish {
            if let Some(col) = &p.when {
                if !row.get(col).is_some_and(Cell::truthy) {
                    continue;
                }
            }
            let body = template::fill_json(&p.body, row);
            let body = serde_json::to_vec(&body).map_err(|e| format!("{}: {e}", rem.id))?;
            let mut message_id = template::fill_text(&p.message_id, row);
            if message_id.trim().is_empty() {
                message_id = format!("{}:{run}", rem.id);
            }
            out.push(OutMessage {
                exchange: p.exchange.clone(),
                routing_key: template::fill_text(&p.routing_key, row),
                message_id,
                order_id,
                body,
            });
        }
    }
    Ok(out)
}

/// Sends a remediation's messages from inside its transaction.
struct Publisher<'a> {
    rem: &'a Remediation,
    broker: &'a Broker,
    run: &'a str,
    /// When this batch may publish (after the one before it committed).
    turn: Arc<Turn>,
    /// Which of the broker's publisher connections to use.
    publisher: usize,
}

impl sql::Sender for Publisher<'_> {
    async fn send(&self, orders: &[Row]) -> Result<usize, String> {
        let msgs = messages(self.rem, orders, self.run)?;
        if !self.turn.ready_to_publish().await {
            return Err("an earlier batch of this heal failed; nothing published".into());
        }
        self.broker.publish_on(self.publisher, &msgs).await
    }
}

#[cfg(test)]
mod read_only_tests {
    use super::*;

    #[test]
    fn the_wallboard_is_read_only_whatever_the_flags_say() {
        for (flag, env) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(
                read_only_reason(true, flag, "prod", env).as_deref(),
                Some(WALLBOARD_READ_ONLY)
            );
        }
        assert_eq!(read_only_reason(false, false, "prod", false), None);
        assert_eq!(
            read_only_reason(false, true, "prod", true).as_deref(),
            Some("read-only mode (--read-only)")
        );
        assert_eq!(
            read_only_reason(false, false, "prod", true).as_deref(),
            Some("environment prod is read_only in the config")
        );
    }
}
