//! The copy key: what the pane or dialog in front of the user holds, as
//! text, handed to the edge as `Effect::Copy` (which writes it as OSC 52).
//!
//! What is copied is what the screen shows, not the raw data: every line
//! goes through the sanitiser, so control characters from a database cell
//! arrive in the clipboard as visible escapes (`\x1b`), never as bytes a
//! terminal or a chat window would act on. Lines are joined with `\n`, the
//! only control character in a copy.

use super::{Pane, State};
use crate::action::Effect;
use crate::model::{Timeline, format_amount};
use crate::sanitize::sanitize_capped;

/// Most text one copy carries: 100 kB (about 133 kB of base64), far more
/// than any order number, timeline or preview, and small enough to go out
/// between two frames on a slow link. Longer text is cut and the message
/// line says so. (Terminals have limits of their own; some drop long OSC 52
/// strings silently.)
pub const MAX_COPY_BYTES: usize = 100 * 1024;

/// Copy from the focused pane in normal mode.
pub fn from_pane(state: &mut State, effects: &mut Vec<Effect>) {
    match state.focus {
        Pane::Orders => match state.orders.selected() {
            Some(o) => {
                let no = line(&o.order_no);
                copy(state, &format!("order no {no}"), no, effects);
            }
            None => state.warn("nothing to copy: no stuck order selected"),
        },
        Pane::Queues => match state.queues.selected() {
            Some(q) => {
                let name = line(&q.name);
                copy(state, &format!("queue name {name}"), name, effects);
            }
            None => state.warn("nothing to copy: no queue selected"),
        },
        Pane::Timeline => match &state.timeline.data {
            Some(t) => {
                let text = timeline_text(t);
                let what = format!("the timeline of {}", line(&t.order.order_no));
                copy(state, &what, text, effects);
            }
            None => state.warn("nothing to copy: no timeline loaded"),
        },
    }
}

/// Copy a remediation preview (the SQL with its bound values).
pub fn preview(state: &mut State, lines: &[String], effects: &mut Vec<Effect>) {
    let text = lines.iter().map(|l| line(l)).collect::<Vec<_>>().join("\n");
    copy(state, "the preview", text, effects);
}

/// One line of outside text as the clipboard gets it.
fn line(s: &str) -> String {
    sanitize_capped(s, MAX_COPY_BYTES)
}

/// Caps `text`, says what was copied, and asks the edge to write it.
fn copy(state: &mut State, what: &str, text: String, effects: &mut Vec<Effect>) {
    let (text, cut) = cap(text, MAX_COPY_BYTES);
    match cut {
        None => state.info(format!(
            "copied {what} to the clipboard ({} bytes, OSC 52)",
            text.len()
        )),
        Some(total) => state.warn(format!(
            "copied the first {} of {total} bytes of {what} to the clipboard (OSC 52 limit)",
            text.len()
        )),
    }
    effects.push(Effect::Copy(text));
}

/// `text` cut to at most `max` bytes, at the end of a line when there is
/// one in the second half, else at a character boundary; with the original
/// length when it was cut.
pub fn cap(text: String, max: usize) -> (String, Option<usize>) {
    if text.len() <= max {
        return (text, None);
    }
    let total = text.len();
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(nl) = text[..end].rfind('\n')
        && nl >= max / 2
    {
        end = nl;
    }
    (text[..end].to_string(), Some(total))
}

/// The timeline as plain text: the order, what each system says, and the
/// events in order, times in UTC (the copy goes to chat and postmortems,
/// read in other time zones). The pane has sanitised all of it on arrival.
pub fn timeline_text(t: &Timeline) -> String {
    let o = &t.order;
    let mut out = vec![format!(
        "order {} status {} payment {} amount {} sku {} x{} supplier {}{}",
        o.order_no,
        o.status,
        o.payment_status,
        format_amount(o.amount_cents),
        o.sku,
        o.quantity,
        o.supplier_id,
        o.hold_reason
            .as_deref()
            .map(|h| format!(" hold {h}"))
            .unwrap_or_default()
    )];
    for v in &t.views {
        out.push(format!(
            "view {}: {} (observed {})",
            v.system,
            v.status,
            v.observed_at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    for e in &t.events {
        let mut row = format!(
            "{}  {:<11} {:<20} {}",
            e.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.source,
            e.kind,
            e.status
        );
        if !e.detail.is_empty() {
            row.push_str("  ");
            row.push_str(&e.detail);
        }
        out.push(row.trim_end().to_string());
    }
    out.iter().map(|l| line(l)).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_cuts_at_a_line_end_or_a_char_boundary() {
        assert_eq!(cap("abc".into(), 10), ("abc".into(), None));
        let (t, cut) = cap("aaaa\nbbbb\ncccc".into(), 12);
        assert_eq!((t.as_str(), cut), ("aaaa\nbbbb", Some(14)));
        // No line end in the second half: cut inside, never mid-character.
        let (t, cut) = cap("订订订订".into(), 7);
        assert_eq!((t.as_str(), cut), ("订订", Some(12)));
    }

    #[test]
    fn lines_are_sanitised_but_not_cut_short() {
        assert_eq!(line("CO-1\x1b]52;c;x\x07"), "CO-1\\x1b]52;c;x\\x07");
        let long = "x".repeat(5000);
        assert_eq!(line(&long).len(), 5000);
    }
}
