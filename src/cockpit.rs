//! Wiring: builds the state and the sources for a run of the cockpit, starts
//! the pollers, and hands over to the run loop inside the terminal guard.

use crate::action::{Effect, Msg};
use crate::config::Config;
use crate::remedy::Engine;
use crate::runbook::Runbook;
use crate::sources::{Clock, OrderStore, QueueMonitor};
use crate::sources::{logtail, poller};
use crate::state::keys::Keymap;
use crate::state::{EnvInfo, RuleInfo, SourceStatus, State, StateInit};
use crate::terminal::TerminalGuard;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

// The look is resolved in its own module so the post-mortem editor can
// theme itself without naming the cockpit (the shell opens the editor, never
// the other way round).
pub use crate::look::{Look, look};

pub fn rule_infos(runbook: &Runbook) -> HashMap<String, RuleInfo> {
    runbook
        .rules
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                RuleInfo {
                    title: r.title.clone(),
                    family: r.family,
                    causes: r.causes.clone(),
                    remediations: r.remediations.clone(),
                },
            )
        })
        .collect()
}

/// The sources of one cockpit run; either may be absent.
pub struct Sources<S, Q> {
    pub store: Option<Arc<S>>,
    pub monitor: Option<Arc<Q>>,
    pub clock: Clock,
    /// Remediations (on the primary database); `None` refuses them.
    pub remedy: Option<Arc<Engine>>,
}

pub struct RunSpec {
    pub env: EnvInfo,
    pub look: Look,
    pub config: Config,
    pub runbook: Runbook,
    /// Bindings from the config's `[keys]` over the defaults.
    pub keymap: Keymap,
    /// Mouse capture (`--mouse` or `mouse = true`).
    pub mouse: bool,
    /// `Some`: start on the wallboard and stay there (`orderdeck wallboard`).
    pub wallboard: Option<crate::state::wallboard::Start>,
}

/// Runs the cockpit in the terminal until the user quits or a signal arrives.
pub async fn run<S: OrderStore, Q: QueueMonitor>(
    spec: RunSpec,
    sources: Sources<S, Q>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let orders_every = Duration::from_secs(spec.config.poll.orders_secs.max(1));
    let queues_every = Duration::from_secs(spec.config.poll.queues_secs.max(1));

    spawn_signal_listener(tx.clone(), cancel.clone());
    let mut guard = TerminalGuard::enter(crate::terminal::Options {
        mouse: spec.mouse,
        depth: spec.look.theming.depth,
    })
    .map_err(|e| anyhow::anyhow!("could not set up the terminal: {e} (is this a TTY?)"))?;
    let size = guard.terminal.size()?;

    let mut state = State::new(StateInit {
        env: spec.env,
        now: Utc::now(),
        clock: spec.look.clock,
        theming: spec.look.theming,
        thresholds: spec.config.thresholds.clone(),
        alerts: spec.config.alerts.clone(),
        keymap: spec.keymap,
        rules: rule_infos(&spec.runbook),
        db: SourceStatus::new(
            "db",
            sources.store.as_ref().map(|s| s.describe()),
            orders_every.as_secs(),
        ),
        broker: SourceStatus::new(
            "mq",
            sources.monitor.as_ref().map(|m| m.describe()),
            queues_every.as_secs(),
        ),
        size: (size.width, size.height),
    });
    if let Some(w) = spec.look.warnings.first() {
        state.warn(w.clone());
    }
    let journal = crate::paths::incidents_dir()
        .map(|dir| crate::postmortem::journal::Journal::new(&dir, &state.env.name));
    if let Some(journal) = &journal {
        resume_incident(&mut state, journal);
    }
    if let Some(start) = spec.wallboard {
        let now = state.now;
        state.wallboard.open(start, false, now);
    }

    let (watch_tx, watch_rx) = watch::channel(None::<i64>);
    let mut tasks = Vec::new();
    if let Some(store) = &sources.store {
        tasks.push(poller::spawn_order_poller(
            store.clone(),
            sources.clock.clone(),
            orders_every,
            tx.clone(),
            cancel.clone(),
        ));
        tasks.push(poller::spawn_timeline_watcher(
            store.clone(),
            watch_rx,
            orders_every,
            tx.clone(),
            cancel.clone(),
        ));
    }
    if let Some(monitor) = &sources.monitor {
        tasks.push(poller::spawn_queue_poller(
            monitor.clone(),
            queues_every,
            tx.clone(),
            cancel.clone(),
        ));
    }
    for watch in logtail::watches(&spec.config.alerts.log) {
        tasks.push(logtail::spawn_log_tail(watch, tx.clone(), cancel.clone()));
    }

    let store = sources.store.clone();
    let lookup_tx = tx.clone();
    let remedy = sources.remedy.clone();
    let remedy_tx = tx.clone();
    let outbox = guard.outbox.clone();
    let in_flight = InFlight::default();
    let remedies = in_flight.clone();
    let mux = crate::clipboard::Mux::detect(|k| std::env::var(k).ok());
    let execute = move |effect: Effect| match effect {
        Effect::WatchOrder(id) => {
            let _ = watch_tx.send(id);
        }
        Effect::LookupOrder(order_no) => match &store {
            Some(store) => poller::spawn_lookup(store.clone(), order_no, lookup_tx.clone()),
            None => {
                let _ = lookup_tx.try_send(Msg::OrderFound {
                    order_no,
                    result: Err(crate::sources::SourceError::new("no database configured")),
                });
            }
        },
        // Through the outbox, after the frame before: never inside a frame.
        Effect::Bell => outbox.push(b"\x07"),
        Effect::Copy(text) => outbox.push(&crate::clipboard::osc52(&text, mux)),
        Effect::PreviewRemedy(_)
        | Effect::ExecuteRemedy(_)
        | Effect::DeclineRemedy(_)
        | Effect::RefuseRemedy { .. } => {
            remedies.push(spawn_remedy(remedy.clone(), effect, remedy_tx.clone()));
        }
        Effect::RecordIncident {
            incident,
            observations,
        } => match &journal {
            // Shared with every process watching this environment: the
            // batch may land in an incident another one opened.
            Some(journal) => {
                if let Err(e) = journal.append(&incident, observations) {
                    tracing::warn!(%incident, "cannot record the incident: {e}");
                }
            }
            None => tracing::warn!("no data directory: the incident is not recorded"),
        },
        // Handled by the run loop, which owns the terminal.
        Effect::OpenPostmortem { .. } => {}
    };
    // A deliberate crash after the first frame, so the PTY tests can prove
    // the panic hook gives the terminal back. Only reachable by setting the
    // variable on purpose.
    if std::env::var_os("ORDERDECK_DEBUG_PANIC").is_some() {
        guard.terminal.draw(|f| crate::ui::render(&state, f))?;
        panic!("deliberate panic: ORDERDECK_DEBUG_PANIC is set");
    }
    let events = crossterm::event::EventStream::new();
    let outbox = guard.outbox.clone();
    let result = crate::app::run(
        &mut guard.terminal,
        &mut state,
        &mut rx,
        events,
        Some(&outbox),
        execute,
    )
    .await;
    cancel.cancel();
    drop(guard);
    // Before the pollers: `q` right behind a key the engine is still
    // auditing must not drop that audit with the runtime. Nobody reads the
    // answers now: closing the channel keeps a step from waiting on a full
    // one after its audit is written.
    drop(rx);
    in_flight.finish().await;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    result
}

/// The remediation steps handed to the engine and not finished: each one
/// ends by writing its audit (JSONL line and `remediation_audit` row), so
/// the cockpit waits for them on its way out instead of letting the
/// runtime drop them half-audited.
#[derive(Clone, Default)]
struct InFlight(Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl InFlight {
    fn push(&self, task: tokio::task::JoinHandle<()>) {
        // A poisoned lock only means a panic elsewhere mid-push: the list
        // itself is still whole.
        let mut tasks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Waits for every step still running. The terminal is already given
    /// back, so the wait is said on stderr; a step that outlasts
    /// [`FINISH_BUDGET`] (a database that stopped answering) is left, and
    /// that is said too: its audit row may be missing.
    async fn finish(&self) {
        let tasks: Vec<_> = {
            let mut tasks = self.0.lock().unwrap_or_else(|e| e.into_inner());
            tasks.drain(..).filter(|t| !t.is_finished()).collect()
        };
        if tasks.is_empty() {
            return;
        }
        let n = tasks.len();
        let mut all = Box::pin(futures::future::join_all(tasks));
        // Most steps are a refusal's audit, done in milliseconds: say
        // nothing unless the wait is one a person would notice.
        if tokio::time::timeout(QUIET_WAIT, &mut all).await.is_ok() {
            return;
        }
        eprintln!("orderdeck: waiting for {n} remediation step(s) to finish and be audited");
        if tokio::time::timeout(FINISH_BUDGET - QUIET_WAIT, &mut all)
            .await
            .is_err()
        {
            eprintln!(
                "orderdeck: {n} remediation step(s) still running after {}s: left unfinished; \
                 their audit row may be missing (see `orderdeck audit` and the local audit file)",
                FINISH_BUDGET.as_secs()
            );
        }
    }
}

/// How long quitting waits silently for a step still being audited.
const QUIET_WAIT: Duration = Duration::from_millis(500);
/// How long quitting waits at all for steps still running.
const FINISH_BUDGET: Duration = Duration::from_secs(30);

/// Runs a remediation step off the UI task; its result comes back as a
/// message (the engine audits every outcome itself).
/// Carries on the environment's open incident, if there is one: a restart
/// or a second cockpit keeps its alerts' start times and records only what
/// is new.
fn resume_incident(state: &mut State, journal: &crate::postmortem::journal::Journal) {
    let now = state.now;
    match journal.open_incident(now) {
        Ok(Some(open)) => {
            state.incident = open.recorder();
            for (id, level, since) in open.open_alerts() {
                state.alerts.board.resume(id, level, since, now);
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot read the incident journal: {e}"),
    }
}

fn spawn_remedy(
    engine: Option<Arc<Engine>>,
    effect: Effect,
    tx: mpsc::Sender<Msg>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let now = Utc::now();
        let Some(engine) = engine else {
            // Every step answers, so the core knows nothing is in flight.
            let message = match &effect {
                // Refused on screen already; with no engine there is no
                // audit trail to write it to, and the answer says so.
                Effect::RefuseRemedy { request, why } => format!(
                    "{} on {} refused: {why} (not audited: no database configured)",
                    request.action(),
                    request.target()
                ),
                _ => {
                    "remediations are not available here (no database or broker configured)".into()
                }
            };
            let report = crate::remedy::Report {
                outcome: crate::remedy::audit::Outcome::Refused,
                affected: 0,
                message,
            };
            // A preview is answered as a preview, so the core knows the
            // one it waits for has come back.
            let msg = match effect {
                Effect::PreviewRemedy(_) => Msg::RemedyPreview(Box::new(Err(report))),
                _ => Msg::RemedyDone(report),
            };
            let _ = tx.send(msg).await;
            return;
        };
        let msg = match effect {
            Effect::PreviewRemedy(request) => {
                Msg::RemedyPreview(Box::new(engine.preview(request, now).await))
            }
            Effect::ExecuteRemedy(p) => Msg::RemedyDone(engine.execute(&p, false, now).await),
            Effect::RefuseRemedy { request, why } => {
                Msg::RemedyDone(engine.refuse_request(&request, &why, now).await)
            }
            Effect::DeclineRemedy(p) => Msg::RemedyDone(
                engine
                    .decline(&p, "cancelled at the preview dialog: nothing changed", now)
                    .await,
            ),
            _ => return,
        };
        let _ = tx.send(msg).await;
    })
}

/// SIGTERM, SIGHUP (the SSH session went away) and SIGINT (when not in raw
/// mode) end the cockpit through the same clean path as `q`.
///
/// The handlers are registered here, synchronously, before the terminal is
/// touched: registering them inside the spawned task left a window after the
/// first frame in which SIGTERM still had its default action and killed the
/// process with the terminal in raw mode.
fn spawn_signal_listener(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("could not install signal handlers");
            return;
        };
        tokio::spawn(async move {
            let why = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
                _ = int.recv() => "SIGINT",
            };
            let _ = tx.send(Msg::Terminate(why)).await;
        });
    }
    #[cfg(not(unix))]
    let _ = (tx, cancel);
}
