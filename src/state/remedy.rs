//! Remediation keys and the preview/confirm dialog, in the pure core.
//!
//! A key asks the edge for a preview (`Effect::PreviewRemedy`); the engine
//! there refuses and audits in read-only mode. The preview comes back as a
//! dialog whose default is Cancel; a bulk fix needs its count typed. Only
//! then does `Effect::ExecuteRemedy` go out.

use super::input::{Edit, LineInput};
use super::keys::{Action, Key, KeyCode};
use super::{Mode, Pane, State};
use crate::action::Effect;
use crate::remedy::broker::RequeueRequest;
use crate::remedy::{Preview, Report, Request};

/// Dead letters one `d` moves at most.
pub const REQUEUE_LIMIT: u64 = 1000;
/// Zombie orders one `H` heals at most.
pub const HEAL_LIMIT: u32 = 1000;

/// The preview dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub preview: Box<Preview>,
    pub scroll: usize,
    /// The Proceed button has focus (single fixes). Starts on Cancel.
    pub proceed: bool,
    /// The count typed so far (bulk fixes).
    pub typed: LineInput,
}

impl Dialog {
    pub fn new(preview: Preview) -> Self {
        Dialog {
            preview: Box::new(preview),
            scroll: 0,
            proceed: false,
            typed: LineInput::default(),
        }
    }
}

/// The retry remediations, in the order `r` prefers them.
const RETRIES: [&str; 3] = [
    "redrive_payment_sync",
    "redrive_inventory_sync",
    "retry_fulfilment",
];

/// The remediation a key means for the selected order.
fn order_action(state: &State, action: Action) -> Option<&'static str> {
    Some(match action {
        Action::ReleaseLock => "release_lock",
        Action::CancelNotify => "cancel_and_notify",
        Action::Resync => "resync_status",
        Action::ClearHold => "clear_risk_hold",
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
    effects.push(Effect::PreviewRemedy(request));
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
pub fn on_preview(state: &mut State, result: Result<Preview, Report>, effects: &mut Vec<Effect>) {
    match result {
        Err(report) => show_report(state, &report),
        Ok(p) if p.noop.is_some() || p.blocked.is_some() => {
            effects.push(Effect::ExecuteRemedy(Box::new(p)));
        }
        Ok(p) => state.mode = Mode::Remedy(Dialog::new(p)),
    }
}

pub fn show_report(state: &mut State, report: &Report) {
    use crate::remedy::audit::Outcome;
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
    match key.code {
        KeyCode::Esc => return decline(state, d, effects),
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
        KeyCode::Char('y') => return proceed(state, d, effects),
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
    state.info(format!(
        "running {} on {}…",
        d.preview.request.action(),
        d.preview.request.target()
    ));
    effects.push(Effect::ExecuteRemedy(d.preview));
}

fn decline(state: &mut State, d: Dialog, effects: &mut Vec<Effect>) {
    state.info(format!(
        "{} cancelled: nothing changed",
        d.preview.request.action()
    ));
    effects.push(Effect::DeclineRemedy(d.preview));
}
