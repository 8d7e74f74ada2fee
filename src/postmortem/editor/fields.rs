//! Which fields each editor screen shows, and how a field reads and writes
//! the draft. One table for all screens keeps the editor's keys uniform.

use crate::postmortem::model::{Choice, Draft, format_amount, format_time, parse_date, parse_time};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Header,
    Summary,
    Impact,
    Detection,
    Timeline,
    Whys,
    RootCause,
    Lessons,
    Actions,
    Runbook,
}

impl Section {
    pub const ALL: [Section; 10] = [
        Section::Header,
        Section::Summary,
        Section::Impact,
        Section::Detection,
        Section::Timeline,
        Section::Whys,
        Section::RootCause,
        Section::Lessons,
        Section::Actions,
        Section::Runbook,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Header => "Header",
            Section::Summary => "Summary",
            Section::Impact => "Impact",
            Section::Detection => "Detection",
            Section::Timeline => "Timeline",
            Section::Whys => "5 Whys",
            Section::RootCause => "Root cause",
            Section::Lessons => "Lessons",
            Section::Actions => "Action items",
            Section::Runbook => "Runbook",
        }
    }

    /// A line of guidance at the top of the screen.
    pub fn guide(self) -> &'static str {
        match self {
            Section::Header => {
                "Name it, rate it, and check the times (UTC) taken from the cockpit."
            }
            Section::Summary => "3-5 sentences: what broke, who noticed, what fixed it.",
            Section::Impact => "Orders per family and money stuck come from what the cockpit saw.",
            Section::Detection => {
                "How and when was it noticed, and what would have shown it sooner?"
            }
            Section::Timeline => {
                "UTC rows from the cockpit and the remediation audit; a adds, d deletes."
            }
            Section::Whys => {
                "a: why deeper  b: another cause (branch)  r: new chain  s: suggestion  J/K move  d delete"
            }
            Section::RootCause => "The cause the chains end in, and what made it worse.",
            Section::Lessons => "What went well, what went wrong, and where you got lucky.",
            Section::Actions => "a adds an action; give each an owner and a due date.",
            Section::Runbook => "What changes in the runbook and the contingency pages.",
        }
    }

    /// The section has something written in it (for the progress rail).
    pub fn filled(self, d: &Draft) -> bool {
        let s = |t: &str| !t.trim().is_empty();
        match self {
            Section::Header => s(&d.title) && s(&d.owner),
            Section::Summary => s(&d.summary),
            Section::Impact => {
                d.impact.ghost_orders + d.impact.split_orders + d.impact.zombie_orders > 0
                    || s(&d.impact.notes)
            }
            Section::Detection => s(&d.detection.how),
            Section::Timeline => !d.timeline.is_empty(),
            Section::Whys => !d.whys.is_empty(),
            Section::RootCause => s(&d.root_cause),
            Section::Lessons => s(&d.went_well) || s(&d.went_wrong) || s(&d.lucky),
            Section::Actions => !d.actions.is_empty(),
            Section::Runbook => s(&d.runbook_updates),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Severity,
    Status,
    Owner,
    Started,
    Detected,
    Mitigated,
    Resolved,
    Summary,
    Ghost,
    Split,
    Zombie,
    Amount,
    Currency,
    Customers,
    Sla,
    ImpactNotes,
    How,
    Halve,
    RowTime(usize),
    RowSource(usize),
    RowWhat(usize),
    WhyAnswer(u32),
    WhyEvidence(u32),
    WhyConfidence(u32),
    WhyCategory(u32),
    RootCause,
    Contributing,
    Well,
    Wrong,
    Lucky,
    ActWhat(usize),
    ActKind(usize),
    ActOwner(usize),
    ActDue(usize),
    ActPriority(usize),
    ActTicket(usize),
    ActStatus(usize),
    ActAnswers(usize),
    Runbook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Line,
    Multi,
    Choice,
}

impl Field {
    pub fn kind(self) -> Kind {
        use Field::*;
        match self {
            Severity | Status | WhyConfidence(_) | WhyCategory(_) | ActKind(_) | ActPriority(_)
            | ActStatus(_) | ActAnswers(_) => Kind::Choice,
            Summary | ImpactNotes | How | Halve | WhyAnswer(_) | WhyEvidence(_) | RootCause
            | Contributing | Well | Wrong | Lucky | RowWhat(_) | ActWhat(_) | Runbook => {
                Kind::Multi
            }
            _ => Kind::Line,
        }
    }

    pub fn label(self) -> &'static str {
        use Field::*;
        match self {
            Title => "Title",
            Severity => "Severity",
            Status => "Status",
            Owner => "Owner",
            Started => "Started (UTC)",
            Detected => "Detected (UTC)",
            Mitigated => "Mitigated (UTC)",
            Resolved => "Resolved (UTC)",
            Summary => "Summary",
            Ghost => "Ghost orders",
            Split => "Split-personality orders",
            Zombie => "Zombie orders",
            Amount => "Amount stuck",
            Currency => "Currency",
            Customers => "Customers affected",
            Sla => "SLA breaches",
            ImpactNotes => "Notes",
            How => "How it was noticed",
            Halve => "What would halve the delay",
            RowTime(_) => "Time (UTC)",
            RowSource(_) => "Source",
            RowWhat(_) => "What happened",
            WhyAnswer(_) => "Answer",
            WhyEvidence(_) => "Evidence",
            WhyConfidence(_) => "Confidence",
            WhyCategory(_) => "Category",
            RootCause => "Root cause",
            Contributing => "Contributing factors",
            Well => "What went well",
            Wrong => "What went wrong",
            Lucky => "Where we got lucky",
            ActWhat(_) => "Action",
            ActKind(_) => "Type",
            ActOwner(_) => "Owner",
            ActDue(_) => "Due (YYYY-MM-DD)",
            ActPriority(_) => "Priority",
            ActTicket(_) => "Ticket",
            ActStatus(_) => "Status",
            ActAnswers(_) => "Answers why",
            Runbook => "Runbook and contingency updates",
        }
    }
}

pub fn fields(section: Section, d: &Draft) -> Vec<Field> {
    use Field::*;
    match section {
        Section::Header => vec![
            Title, Severity, Status, Owner, Started, Detected, Mitigated, Resolved,
        ],
        Section::Summary => vec![Summary],
        Section::Impact => vec![
            Ghost,
            Split,
            Zombie,
            Amount,
            Currency,
            Customers,
            Sla,
            ImpactNotes,
        ],
        Section::Detection => vec![How, Halve],
        Section::Timeline => (0..d.timeline.len())
            .flat_map(|i| [RowTime(i), RowSource(i), RowWhat(i)])
            .collect(),
        Section::Whys => d
            .flat_whys()
            .iter()
            .flat_map(|(_, w)| {
                [
                    WhyAnswer(w.id),
                    WhyEvidence(w.id),
                    WhyConfidence(w.id),
                    WhyCategory(w.id),
                ]
            })
            .collect(),
        Section::RootCause => vec![RootCause, Contributing],
        Section::Lessons => vec![Well, Wrong, Lucky],
        Section::Actions => (0..d.actions.len())
            .flat_map(|i| {
                [
                    ActWhat(i),
                    ActKind(i),
                    ActOwner(i),
                    ActDue(i),
                    ActPriority(i),
                    ActTicket(i),
                    ActStatus(i),
                    ActAnswers(i),
                ]
            })
            .collect(),
        Section::Runbook => vec![Runbook],
    }
}

fn time_text(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The field as text, for display and as the editor's starting content.
pub fn get(d: &Draft, f: Field) -> String {
    use Field::*;
    let why = |id: u32| d.why(id);
    let act = |i: usize| d.actions.get(i);
    match f {
        Title => d.title.clone(),
        Severity => d.severity.label().into(),
        Status => d.status.label().into(),
        Owner => d.owner.clone(),
        Started => time_text(d.started_at),
        Detected => time_text(d.detected_at),
        Mitigated => time_text(d.mitigated_at),
        Resolved => time_text(d.resolved_at),
        Summary => d.summary.clone(),
        Ghost => d.impact.ghost_orders.to_string(),
        Split => d.impact.split_orders.to_string(),
        Zombie => d.impact.zombie_orders.to_string(),
        Amount => {
            let c = d.impact.amount_stuck_cents;
            format!("{}.{:02}", c / 100, (c % 100).abs())
        }
        Currency => d.impact.currency.clone(),
        Customers => d
            .impact
            .customers_affected
            .map(|n| n.to_string())
            .unwrap_or_default(),
        Sla => d.impact.sla_breaches.clone(),
        ImpactNotes => d.impact.notes.clone(),
        How => d.detection.how.clone(),
        Halve => d.detection.halve_it.clone(),
        RowTime(i) => d
            .timeline
            .get(i)
            .map(|r| format_time(r.at))
            .unwrap_or_default(),
        RowSource(i) => d
            .timeline
            .get(i)
            .map(|r| r.source.clone())
            .unwrap_or_default(),
        RowWhat(i) => d
            .timeline
            .get(i)
            .map(|r| r.what.clone())
            .unwrap_or_default(),
        WhyAnswer(id) => why(id).map(|w| w.answer.clone()).unwrap_or_default(),
        WhyEvidence(id) => why(id).map(|w| w.evidence.clone()).unwrap_or_default(),
        WhyConfidence(id) => why(id)
            .map(|w| w.confidence.label().into())
            .unwrap_or_default(),
        WhyCategory(id) => why(id)
            .map(|w| w.category.label().into())
            .unwrap_or_default(),
        RootCause => d.root_cause.clone(),
        Contributing => d.contributing.clone(),
        Well => d.went_well.clone(),
        Wrong => d.went_wrong.clone(),
        Lucky => d.lucky.clone(),
        ActWhat(i) => act(i).map(|a| a.what.clone()).unwrap_or_default(),
        ActKind(i) => act(i).map(|a| a.kind.label().into()).unwrap_or_default(),
        ActOwner(i) => act(i).map(|a| a.owner.clone()).unwrap_or_default(),
        ActDue(i) => act(i)
            .and_then(|a| a.due)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ActPriority(i) => act(i)
            .map(|a| a.priority.label().into())
            .unwrap_or_default(),
        ActTicket(i) => act(i).map(|a| a.ticket.clone()).unwrap_or_default(),
        ActStatus(i) => act(i).map(|a| a.status.label().into()).unwrap_or_default(),
        ActAnswers(i) => act(i)
            .and_then(|a| a.answers)
            .map(|id| crate::postmortem::export::answers_label(d, Some(id)))
            .unwrap_or_else(|| "none".into()),
        Runbook => d.runbook_updates.clone(),
    }
}

/// Display text: like `get`, with amounts grouped.
pub fn show(d: &Draft, f: Field) -> String {
    match f {
        Field::Amount => format_amount(d.impact.amount_stuck_cents, ""),
        _ => get(d, f),
    }
}

fn number(s: &str, what: &str) -> Result<u64, String> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        return Ok(0);
    }
    t.parse()
        .map_err(|_| format!("{what}: {:?} is not a whole number", s.trim()))
}

fn cents(s: &str) -> Result<i64, String> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        return Ok(0);
    }
    let bad = || format!("amount: {:?} is not a number like 1234.56", s.trim());
    let (units, frac) = t.split_once('.').unwrap_or((&t, ""));
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(if units < 0 { -frac } else { frac }))
        .ok_or_else(bad)
}

/// Writes text into the field; an error (a bad time, date or number) says
/// what to type instead and leaves the draft as it was.
pub fn set(d: &mut Draft, f: Field, v: &str) -> Result<(), String> {
    use Field::*;
    let line = || v.replace(['\n', '\r'], " ");
    match f {
        Title => d.title = line(),
        Owner => d.owner = line(),
        Started => d.started_at = parse_time(v)?,
        Detected => d.detected_at = parse_time(v)?,
        Mitigated => d.mitigated_at = parse_time(v)?,
        Resolved => d.resolved_at = parse_time(v)?,
        Summary => d.summary = v.into(),
        Ghost => d.impact.ghost_orders = number(v, "ghost orders")?,
        Split => d.impact.split_orders = number(v, "split orders")?,
        Zombie => d.impact.zombie_orders = number(v, "zombie orders")?,
        Amount => d.impact.amount_stuck_cents = cents(v)?,
        Currency => d.impact.currency = line(),
        Customers => {
            d.impact.customers_affected = if v.trim().is_empty() {
                None
            } else {
                Some(number(v, "customers")?)
            }
        }
        Sla => d.impact.sla_breaches = line(),
        ImpactNotes => d.impact.notes = v.into(),
        How => d.detection.how = v.into(),
        Halve => d.detection.halve_it = v.into(),
        RowTime(i) => {
            let t = parse_time(v)?.ok_or("a timeline row needs a time")?;
            if let Some(r) = d.timeline.get_mut(i) {
                r.at = t;
            }
        }
        RowSource(i) => {
            if let Some(r) = d.timeline.get_mut(i) {
                r.source = line();
            }
        }
        RowWhat(i) => {
            if let Some(r) = d.timeline.get_mut(i) {
                r.what = v.into();
            }
        }
        WhyAnswer(id) => {
            if let Some(w) = d.why_mut(id) {
                w.answer = v.into();
            }
        }
        WhyEvidence(id) => {
            if let Some(w) = d.why_mut(id) {
                w.evidence = v.into();
            }
        }
        RootCause => d.root_cause = v.into(),
        Contributing => d.contributing = v.into(),
        Well => d.went_well = v.into(),
        Wrong => d.went_wrong = v.into(),
        Lucky => d.lucky = v.into(),
        ActWhat(i) => {
            if let Some(a) = d.actions.get_mut(i) {
                a.what = v.into();
            }
        }
        ActOwner(i) => {
            if let Some(a) = d.actions.get_mut(i) {
                a.owner = line();
            }
        }
        ActDue(i) => {
            let due = parse_date(v)?;
            if let Some(a) = d.actions.get_mut(i) {
                a.due = due;
            }
        }
        ActTicket(i) => {
            if let Some(a) = d.actions.get_mut(i) {
                a.ticket = line();
            }
        }
        Runbook => d.runbook_updates = v.into(),
        Severity | Status | WhyConfidence(_) | WhyCategory(_) | ActKind(_) | ActPriority(_)
        | ActStatus(_) | ActAnswers(_) => return Err("choose with ← and →".into()),
    }
    Ok(())
}

/// Steps a choice field by `delta`; false for text fields.
pub fn cycle(d: &mut Draft, f: Field, delta: isize) -> bool {
    use Field::*;
    let why_ids: Vec<u32> = d.flat_whys().iter().map(|(_, w)| w.id).collect();
    match f {
        Severity => d.severity = d.severity.cycle(delta),
        Status => d.status = d.status.cycle(delta),
        WhyConfidence(id) => match d.why_mut(id) {
            Some(w) => w.confidence = w.confidence.cycle(delta),
            None => return false,
        },
        WhyCategory(id) => match d.why_mut(id) {
            Some(w) => w.category = w.category.cycle(delta),
            None => return false,
        },
        ActKind(i) | ActPriority(i) | ActStatus(i) | ActAnswers(i) => {
            let Some(a) = d.actions.get_mut(i) else {
                return false;
            };
            match f {
                ActKind(_) => a.kind = a.kind.cycle(delta),
                ActPriority(_) => a.priority = a.priority.cycle(delta),
                ActStatus(_) => a.status = a.status.cycle(delta),
                _ => {
                    // None, then each why in tree order.
                    let mut options: Vec<Option<u32>> = vec![None];
                    options.extend(why_ids.into_iter().map(Some));
                    let pos = options.iter().position(|o| *o == a.answers).unwrap_or(0) as isize;
                    let n = options.len() as isize;
                    a.answers = options[((pos + delta).rem_euclid(n)) as usize];
                }
            }
        }
        _ => return false,
    }
    true
}
