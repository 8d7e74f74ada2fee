//! The checks panel: what a reviewer would ask about the draft. Warnings
//! only; nothing here ever stops the user from saving or exporting.

use super::model::{ActionKind, Draft, Why, format_time};
use super::store::MAX_DRAFT_BYTES;

/// One warning, with the why or action item it is about when there is one,
/// so the editor can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub about: About,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    Draft,
    Why(u32),
    Action(usize),
}

/// Words that put the cause on a person. The fix for "someone forgot" is
/// asking why the system let them.
const BLAMING: &[&str] = &[
    "human error",
    "forgot",
    "should have",
    "careless",
    "didn't check",
    "did not check",
    "negligence",
    "his fault",
    "her fault",
    "their fault",
    "人为",
    "忘记",
    "粗心",
];

/// The depth a cause chain should reach before it is likely a root cause.
pub const MIN_DEPTH: usize = 3;

pub fn check(draft: &Draft) -> Vec<Warning> {
    let mut out = Vec::new();
    let size = draft.text_bytes();
    if size > MAX_DRAFT_BYTES {
        out.push(Warning {
            about: About::Draft,
            text: format!(
                "the draft holds {} MB of text, more than the {} MB a draft may be: it is not saved until it is shorter (the last saved version is kept)",
                size.div_ceil(1024 * 1024),
                MAX_DRAFT_BYTES / (1024 * 1024)
            ),
        });
    }
    times_in_order(draft, &mut out);
    if draft.whys.is_empty() {
        out.push(Warning {
            about: About::Draft,
            text: "no whys yet: start with why the orders got stuck".into(),
        });
    }
    for root in &draft.whys {
        let depth = depth(root);
        if depth < MIN_DEPTH {
            out.push(Warning {
                about: About::Why(root.id),
                text: format!(
                    "chain from \"{}\" is {depth} deep; keep asking why (at least {MIN_DEPTH})",
                    short(&root.answer)
                ),
            });
        }
    }
    for (_, why) in draft.flat_whys() {
        let lower = why.answer.to_lowercase();
        if let Some(word) = BLAMING.iter().find(|w| lower.contains(*w)) {
            out.push(Warning {
                about: About::Why(why.id),
                text: format!(
                    "\"{}\" blames a person ({word}): ask why the system allowed it",
                    short(&why.answer)
                ),
            });
        }
        if why.children.is_empty() && !draft.actions.iter().any(|a| a.answers == Some(why.id)) {
            out.push(Warning {
                about: About::Why(why.id),
                text: format!("leaf why \"{}\" has no action item", short(&why.answer)),
            });
        }
    }
    for (i, a) in draft.actions.iter().enumerate() {
        let mut missing = Vec::new();
        if a.owner.trim().is_empty() {
            missing.push("owner");
        }
        if a.due.is_none() {
            missing.push("due date");
        }
        if !missing.is_empty() {
            out.push(Warning {
                about: About::Action(i),
                text: format!(
                    "action {} \"{}\" has no {}",
                    i + 1,
                    short(&a.what),
                    missing.join(" and no ")
                ),
            });
        }
    }
    if !draft.actions.iter().any(|a| a.kind == ActionKind::Detect) {
        out.push(Warning {
            about: About::Draft,
            text: "no action improves detection: what would have shown this sooner?".into(),
        });
    }
    out
}

/// Each time no earlier than the ones before it: a mitigation before the
/// start is a typo (or a wrong day), and it makes the durations lie.
fn times_in_order(d: &Draft, out: &mut Vec<Warning>) {
    let times = [
        ("Started", d.started_at),
        ("Detected", d.detected_at),
        ("Mitigated", d.mitigated_at),
        ("Resolved", d.resolved_at),
    ];
    for (i, (later, t)) in times.iter().enumerate() {
        let Some(t) = t else { continue };
        let earlier = times[..i]
            .iter()
            .filter_map(|(name, e)| e.map(|e| (name, e)))
            .find(|(_, e)| t < e);
        if let Some((name, e)) = earlier {
            out.push(Warning {
                about: About::Draft,
                text: format!(
                    "{later} ({}) is before {name} ({}): check the date",
                    format_time(*t),
                    format_time(e)
                ),
            });
        }
    }
}

/// Longest chain below and including `why`.
fn depth(why: &Why) -> usize {
    1 + why.children.iter().map(depth).max().unwrap_or(0)
}

fn short(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return "(empty)".into();
    }
    let mut out: String = line.chars().take(40).collect();
    if line.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postmortem::model::ActionItem;

    fn texts(d: &Draft) -> Vec<String> {
        check(d).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn a_shallow_chain_and_a_blaming_answer_are_flagged() {
        let mut d = Draft::default();
        let a = d.add_root_why("settlement queue backed up".into());
        let b = d.add_child_why(a).unwrap_or_default();
        if let Some(w) = d.why_mut(b) {
            w.answer = "The operator forgot to restart the consumer".into();
        }
        let t = texts(&d);
        assert!(t.iter().any(|t| t.contains("is 2 deep")), "{t:?}");
        assert!(
            t.iter().any(|t| t.contains("blames a person (forgot)")),
            "{t:?}"
        );
        assert!(
            t.iter().any(|t| t.starts_with("leaf why \"The operator")),
            "{t:?}"
        );
        assert!(
            t.iter()
                .any(|t| t.starts_with("no action improves detection"))
        );
    }

    #[test]
    fn a_deep_chain_with_owned_dated_detect_actions_is_clean() {
        let mut d = Draft::default();
        let a = d.add_root_why("orders stuck in paid".into());
        let b = d.add_child_why(a).unwrap_or_default();
        let c = d.add_child_why(b).unwrap_or_default();
        for (id, text) in [
            (b, "callbacks were lost"),
            (c, "the gateway retried into a full queue"),
        ] {
            if let Some(w) = d.why_mut(id) {
                w.answer = text.into();
            }
        }
        d.actions.push(ActionItem {
            what: "alert on callback lag".into(),
            kind: ActionKind::Detect,
            owner: "payments".into(),
            due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            answers: Some(c),
            ..ActionItem::default()
        });
        assert_eq!(texts(&d), Vec::<String>::new());
        d.actions[0].owner.clear();
        d.actions[0].due = None;
        assert_eq!(
            texts(&d),
            vec!["action 1 \"alert on callback lag\" has no owner and no due date".to_string()]
        );
    }

    #[test]
    fn mitigated_before_started_is_a_warning() {
        let at = |h: u32| {
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, h, 0, 0).single()
        };
        let mut d = Draft {
            started_at: at(6),
            mitigated_at: at(5),
            ..Draft::default()
        };
        let t = texts(&d);
        assert!(
            t.contains(
                &"Mitigated (2026-11-26 05:00 UTC) is before Started (2026-11-26 06:00 UTC): check the date"
                    .to_string()
            ),
            "{t:?}"
        );
        d.mitigated_at = at(7);
        assert!(!texts(&d).iter().any(|t| t.contains("is before")));
    }

    #[test]
    fn a_draft_over_the_size_cap_says_so_before_saving() {
        let d = Draft {
            summary: "x".repeat(MAX_DRAFT_BYTES as usize + 1),
            ..Draft::default()
        };
        let t = texts(&d);
        assert!(
            t.iter().any(|t| t
                .starts_with("the draft holds 17 MB of text, more than the 16 MB a draft may be")),
            "{t:?}"
        );
    }
}
