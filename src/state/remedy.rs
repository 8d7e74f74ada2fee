//! Remediation keys and the preview/confirm dialog, in the pure core.
//!
//! A key asks the edge for a preview (`Effect::PreviewRemedy`); the engine
//! there refuses and audits in read-only mode. The preview comes back as a
//! dialog whose default is Cancel; a bulk fix needs its count typed. Only
//! then does `Effect::ExecuteRemedy` go out.
//!
//! Proceeding is a deliberate act: the key that opened the preview never
//! confirms it (there is no one-key "yes"), keys within `guard::GUARD_MS` of
//! the dialog opening are ignored (typeahead, key repeat), and then it takes
//! Proceed selected + Enter, or the typed count for a bulk fix.
//!
//! A preview that arrives after the user pressed Esc, or while another
//! dialog or prompt is open, is not shown: it is dropped and handed back to
//! the engine to audit as refused (nothing changed). It is not queued: a
//! dialog popping up later, over whatever the user is doing by then, is
//! exactly the surprise this module exists to prevent.

use super::input::{Edit, LineInput};
use super::keys::{Action, Key, KeyCode};
use super::{Mode, Pane, State};
use crate::action::Effect;
use crate::model::remedy::{Preview, Report, Request, RequeueRequest};

/// Dead letters one `d` moves at most.
pub const REQUEUE_LIMIT: u64 = 1000;
/// Zombie orders one `H` heals at most.
pub const HEAL_LIMIT: u32 = 1000;

/// A preview on its way from the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Awaiting {
    pub request: Request,
    /// Set when the user pressed Esc or opened something else since: the
    /// preview is then not shown when it arrives (see `on_preview`).
    pub dropped: bool,
}

/// The preview dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub preview: Box<Preview>,
    pub scroll: usize,
    /// The Proceed button has focus (single fixes). Starts on Cancel.
    pub proceed: bool,
    /// The count typed so far (bulk fixes).
    pub typed: LineInput,
    /// When it opened (monotonic ms): keys before `opened_ms + GUARD_MS`
    /// are ignored.
    pub opened_ms: u64,
}

impl Dialog {
    pub fn new(preview: Preview, opened_ms: u64) -> Self {
        Dialog {
            preview: Box::new(preview),
            scroll: 0,
            proceed: false,
            typed: LineInput::default(),
            opened_ms,
        }
    }
}

/// The retry remediations, in the order `r` prefers them.
const RETRIES: [&str; 3] = [
    "redrive_payment_sync",
    "redrive_inventory_sync",
    "retry_fulfilment",
];

/// The remediation a key means whatever the order (not `r`, which picks).
fn order_action_id(action: Action) -> Option<&'static str> {
    Some(match action {
        Action::ReleaseLock => "release_lock",
        Action::CancelNotify => "cancel_and_notify",
        Action::Resync => "resync_status",
        Action::ClearHold => "clear_risk_hold",
        _ => return None,
    })
}

/// The remediation a key means for the selected order.
fn order_action(state: &State, action: Action) -> Option<&'static str> {
    if let Some(id) = order_action_id(action) {
        return Some(id);
    }
    Some(match action {
        Action::Retry => {
            let order = state.orders.selected()?;
            let suggested = state
                .rules
                .get(&order.rule_id)
                .map(|r| r.remediations.clone())
                .unwrap_or_default();
            if let Some(r) = RETRIES.iter().find(|r| suggested.iter().any(|s| s == *r)) {
                r
            } else {
                match order.status.as_str() {
                    "pending_review" => "redrive_payment_sync",
                    "paid" => "redrive_inventory_sync",
                    _ => "retry_fulfilment",
                }
            }
        }
        _ => return None,
    })
}

/// A remediation key in normal mode.
pub fn on_key(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let aims_at_order = !matches!(action, Action::RequeueDead | Action::BulkHeal);
    if let Some(a) = state.guard.awaiting.as_ref().filter(|a| !a.dropped) {
        let what = a.request.action().to_string();
        state.warn(format!(
            "a {what} preview is on its way: wait for it, or Esc to drop it"
        ));
        return;
    }
    if aims_at_order && state.focus == Pane::Queues {
        state.warn("that key fixes an order: select one in the stuck-order pane");
        return;
    }
    let request = match request_for(state, action) {
        Ok(r) => r,
        Err(why) => {
            state.warn(why);
            return;
        }
    };
    state.info(format!(
        "previewing {} on {}…",
        request.action(),
        request.target()
    ));
    state.guard.awaiting = Some(Awaiting {
        request: request.clone(),
        dropped: false,
    });
    effects.push(Effect::PreviewRemedy(request));
}

/// Esc while a preview is on its way: it will not be shown when it
/// arrives (see `on_preview`). False when none is on its way.
pub fn drop_awaited(state: &mut State) -> bool {
    if !state.guard.drop_awaited() {
        return false;
    }
    let what = state
        .guard
        .awaiting
        .as_ref()
        .map(|a| a.request.action().to_string())
        .unwrap_or_default();
    state.info(format!(
        "{what} preview dropped: it will not be shown when it arrives"
    ));
    true
}

/// What a remediation key asks for where nothing is selected (the
/// wallboard): a bulk heal names its own targets; everything else aims at
/// nothing, so refusing it touches no order's timeline.
pub fn unaimed_request(action: Action) -> Request {
    let id = match action {
        Action::BulkHeal => {
            return Request::Heal {
                older_than: chrono::Duration::hours(24),
                limit: HEAL_LIMIT,
            };
        }
        Action::RequeueDead => "requeue_dead_letters",
        Action::Retry => "retry",
        other => order_action_id(other).unwrap_or("remediation"),
    };
    Request::Unaimed { action: id.into() }
}

/// What a remediation key asks for on the current selection: the selected
/// order, the selected queue's dead letters, or the zombie heal. `Err` says
/// what is missing (no order or queue selected).
pub fn request_for(state: &State, action: Action) -> Result<Request, String> {
    Ok(match action {
        Action::RequeueDead => {
            let Some(row) = state.queues.selected() else {
                return Err("select a queue (or its .dlq) in the queue pane first".into());
            };
            let queue = row
                .name
                .strip_suffix(".dlq")
                .unwrap_or(&row.name)
                .to_string();
            Request::Requeue(RequeueRequest {
                queue,
                limit: REQUEUE_LIMIT,
                filter: None,
            })
        }
        Action::BulkHeal => Request::Heal {
            older_than: chrono::Duration::hours(24),
            limit: HEAL_LIMIT,
        },
        _ => {
            let Some(order) = state.orders.selected() else {
                return Err("no stuck order selected".into());
            };
            let (order_id, order_no) = (order.order_id, order.order_no.clone());
            let Some(id) = order_action(state, action) else {
                return Err(format!("{action:?} is not a remediation"));
            };
            Request::Order {
                action: id.to_string(),
                order_id,
                order_no,
            }
        }
    })
}

/// The preview arrived: a dialog, or straight to the engine when there is
/// nothing to confirm (a no-op or a blocked fix is recorded and reported).
/// One that is no longer wanted (Esc since, or something else open) is
/// dropped and audited as refused, never shown over what is open now.
pub fn on_preview(state: &mut State, result: Result<Preview, Report>, effects: &mut Vec<Effect>) {
    let p = match result {
        Err(report) => {
            state.guard.awaiting = None;
            return show_report(state, &report);
        }
        Ok(p) => p,
    };
    // Which preview was asked for: a late answer to an earlier, dropped
    // request must not take the place of the one on its way now.
    let (ours, dropped) = match &state.guard.awaiting {
        Some(a) if a.request == p.request => (true, a.dropped),
        Some(_) => (false, true),
        None => (false, false),
    };
    if ours {
        state.guard.awaiting = None;
    }
    let busy = state.mode != Mode::Normal;
    if dropped || (busy && p.noop.is_none() && p.blocked.is_none()) {
        let why = if dropped {
            "preview dropped before it arrived (Esc): nothing changed"
        } else {
            "preview arrived while another dialog was open; not shown: nothing changed"
        };
        if !busy {
            state.info(format!(
                "{} on {}: {why}",
                p.request.action(),
                p.request.target()
            ));
        }
        effects.push(Effect::RefuseRemedy {
            request: p.request,
            why: why.to_string(),
        });
        return;
    }
    if p.noop.is_some() || p.blocked.is_some() {
        effects.push(Effect::ExecuteRemedy(Box::new(p)));
        return;
    }
    let opened = state.guard.now_ms;
    state.mode = Mode::Remedy(Dialog::new(p, opened));
}

pub fn show_report(state: &mut State, report: &Report) {
    use crate::model::remedy::Outcome;
    match report.outcome {
        Outcome::Ok | Outcome::DryRun => state.info(report.message.clone()),
        Outcome::Noop => state.warn(report.message.clone()),
        Outcome::Refused | Outcome::Failed => state.error(report.message.clone()),
    }
}

/// Keys in the dialog.
pub fn on_dialog_key(state: &mut State, mut d: Dialog, key: Key, effects: &mut Vec<Effect>) {
    let scroll = |d: &mut Dialog, by: isize| {
        d.scroll = d.scroll.saturating_add_signed(by);
    };
    // Esc always cancels: cancelling is safe, whenever it comes.
    if key.code == KeyCode::Esc {
        return decline(state, d, effects);
    }
    let looks = matches!(
        key.code,
        KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown
    ) || (!d.preview.is_bulk() && matches!(key.code, KeyCode::Char('j' | 'k')))
        || is_copy_key(state, key);
    // Only keys that read (scroll, copy) count before the guard is over.
    if !looks && state.guard.too_soon_after(d.opened_ms) {
        // Typed before the dialog could have been read: the opening key's
        // repeat, or keys meant for the cockpit behind it.
        state.warn(format!(
            "{key} ignored: the preview just opened; read it, then Tab to Proceed and Enter"
        ));
        state.mode = Mode::Remedy(d);
        return;
    }
    match key.code {
        KeyCode::Down => scroll(&mut d, 1),
        KeyCode::Up => scroll(&mut d, -1),
        KeyCode::PageDown => scroll(&mut d, 10),
        KeyCode::PageUp => scroll(&mut d, -10),
        _ if is_copy_key(state, key) => super::copy::preview(state, &d.preview.lines, effects),
        _ if d.preview.is_bulk() => match d.typed.handle(key) {
            Edit::Submit => {
                if d.typed.text.trim() == d.preview.expected.to_string() {
                    return proceed(state, d, effects);
                }
                state.error(format!(
                    "type {} (the count) to go ahead, or Esc to cancel",
                    d.preview.expected
                ));
                d.typed = LineInput::default();
            }
            Edit::Cancel => return decline(state, d, effects),
            _ => {}
        },
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => d.proceed = !d.proceed,
        KeyCode::Char('j') => scroll(&mut d, 1),
        KeyCode::Char('k') => scroll(&mut d, -1),
        KeyCode::Char('n') | KeyCode::Char('q') => return decline(state, d, effects),
        // No one-key yes: `y` is also the resync key, and `yy` must never
        // be a committed write.
        KeyCode::Char('y') => {
            state.warn("to go ahead: Tab to [ Proceed ], then Enter (Esc cancels)")
        }
        KeyCode::Enter if d.proceed => return proceed(state, d, effects),
        KeyCode::Enter => return decline(state, d, effects),
        _ => {}
    }
    state.mode = Mode::Remedy(d);
}

/// The copy binding, unless its key means something in this dialog (the
/// count's digits, y/n/q, j/k, named keys): a binding must never turn a
/// confirmation key into something else, or the reverse.
fn is_copy_key(state: &State, key: Key) -> bool {
    let reserved = match key.code {
        KeyCode::Char(c) => c.is_ascii_digit() || "jknqy".contains(c),
        _ => true,
    };
    !reserved && state.keymap.action_for(key) == Some(Action::Copy)
}

fn proceed(state: &mut State, d: Dialog, effects: &mut Vec<Effect>) {
    state.guard.closed_overlay();
    state.info(format!(
        "running {} on {}…",
        d.preview.request.action(),
        d.preview.request.target()
    ));
    effects.push(Effect::ExecuteRemedy(d.preview));
}

fn decline(state: &mut State, d: Dialog, effects: &mut Vec<Effect>) {
    state.guard.closed_overlay();
    state.info(format!(
        "{} cancelled: nothing changed",
        d.preview.request.action()
    ));
    effects.push(Effect::DeclineRemedy(d.preview));
}
