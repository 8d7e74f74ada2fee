//! A draft whose every text field, timeline row, why and action item comes
//! from the fuzzer: the Markdown, Confluence storage and wiki exports never
//! panic and hold no control byte but `\n`/`\t`; the storage export is XML;
//! every Markdown table row keeps the header's column count and its text.
#![no_main]

#[path = "../../tests/common/export_checks.rs"]
mod export_checks;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use orderdeck::postmortem::model::{ActionItem, Draft, TimelineRow};

fn time(u: &mut Unstructured) -> Result<chrono::DateTime<chrono::Utc>> {
    let secs = u.int_in_range(-8_000_000_000i64..=250_000_000_000)?;
    Ok(chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

fn draft(u: &mut Unstructured) -> Result<Draft> {
    let mut d = Draft::new(
        format!("PM-{}", u.arbitrary::<u16>()?),
        chrono::DateTime::UNIX_EPOCH,
    );
    for field in [
        &mut d.title,
        &mut d.owner,
        &mut d.summary,
        &mut d.impact.currency,
        &mut d.impact.sla_breaches,
        &mut d.impact.notes,
        &mut d.detection.how,
        &mut d.detection.halve_it,
        &mut d.root_cause,
        &mut d.contributing,
        &mut d.went_well,
        &mut d.went_wrong,
        &mut d.lucky,
        &mut d.runbook_updates,
    ] {
        *field = u.arbitrary()?;
    }
    d.impact.amount_stuck_cents = u.arbitrary()?;
    d.impact.customers_affected = u.arbitrary()?;
    d.started_at = if u.arbitrary()? { Some(time(u)?) } else { None };
    d.detected_at = if u.arbitrary()? { Some(time(u)?) } else { None };
    d.resolved_at = if u.arbitrary()? { Some(time(u)?) } else { None };
    for _ in 0..u.int_in_range(0..=4)? {
        d.timeline.push(TimelineRow {
            at: time(u)?,
            source: u.arbitrary()?,
            what: u.arbitrary()?,
        });
    }
    // A why tree: each new why a root, a child or a sibling of an earlier one.
    let mut ids: Vec<u32> = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let id = match (u.int_in_range(0..=2)?, ids.is_empty()) {
            (_, true) | (0, _) => Some(d.add_root_why(String::new())),
            (1, _) => d.add_child_why(*u.choose(&ids)?),
            _ => d.add_sibling_why(*u.choose(&ids)?),
        };
        if let Some(w) = id.and_then(|id| d.why_mut(id)) {
            w.answer = u.arbitrary()?;
            w.evidence = u.arbitrary()?;
            ids.push(w.id);
        }
    }
    for _ in 0..u.int_in_range(0..=4)? {
        d.actions.push(ActionItem {
            what: u.arbitrary()?,
            owner: u.arbitrary()?,
            ticket: u.arbitrary()?,
            answers: u.arbitrary()?,
            ..ActionItem::default()
        });
    }
    Ok(d)
}

fuzz_target!(|bytes: &[u8]| {
    let mut u = Unstructured::new(bytes);
    let Ok(d) = draft(&mut u) else { return };
    if let Err(e) = export_checks::all_exports(&d) {
        panic!("{e}");
    }
});
