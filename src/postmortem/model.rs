//! The postmortem draft: plain data, saved as JSON, edited by the editor and
//! read by the exporters. No I/O here.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A closed set of values the editor cycles through with ←/→.
pub trait Choice: Copy + PartialEq + Sized + 'static {
    const ALL: &'static [Self];
    fn label(self) -> &'static str;

    fn cycle(self, delta: isize) -> Self {
        let all = Self::ALL;
        let i = all.iter().position(|v| *v == self).unwrap_or(0) as isize;
        let n = all.len() as isize;
        all[((i + delta).rem_euclid(n)) as usize]
    }
}

macro_rules! choice {
    ($name:ident { $($variant:ident => $label:literal),+ $(,)? } default $default:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[doc = $label] $variant,)+
        }

        impl $name {
            pub const DEFAULT: $name = $name::$default;
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

choice!(Severity { Sev1 => "SEV1", Sev2 => "SEV2", Sev3 => "SEV3", Sev4 => "SEV4" } default Sev3);
choice!(Status { Draft => "Draft", InReview => "In review", Reviewed => "Reviewed", Closed => "Closed" } default Draft);
choice!(Confidence { Low => "low", Medium => "medium", High => "high" } default Medium);
choice!(Category {
    Unset => "uncategorised",
    Code => "code",
    Config => "config",
    Capacity => "capacity",
    Dependency => "dependency",
    Process => "process",
    Monitoring => "monitoring",
} default Unset);
choice!(ActionKind { Prevent => "prevent", Detect => "detect", Mitigate => "mitigate", Process => "process" } default Prevent);
choice!(Priority { P1 => "P1", P2 => "P2", P3 => "P3" } default P2);
choice!(ActionStatus { Open => "open", InProgress => "in progress", Done => "done" } default Open);

impl Category {
    /// The question the editor asks for a why in this category: a prompt,
    /// not a rule.
    pub fn prompt(self) -> &'static str {
        match self {
            Category::Unset => {
                "Pick a category: code, config, capacity, dependency, process, monitoring."
            }
            Category::Code => {
                "Which change introduced it, and why did review and tests let it through?"
            }
            Category::Config => {
                "Which setting was wrong, who could change it, and why was it not validated?"
            }
            Category::Capacity => {
                "Which limit was hit, and why was the headroom not known in advance?"
            }
            Category::Dependency => {
                "Which upstream failed, and why did we depend on it without a fallback?"
            }
            Category::Process => {
                "Which step was skipped or missing, and why did the process allow it?"
            }
            Category::Monitoring => {
                "Why did no alert fire earlier, and what signal would have shown it?"
            }
        }
    }
}

/// One why in the 5-Whys tree. A why may branch into several causes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Why {
    /// Stable within a draft, so action items can point at it.
    pub id: u32,
    pub answer: String,
    /// A log line, a query, a graph link.
    pub evidence: String,
    pub confidence: Confidence,
    pub category: Category,
    pub children: Vec<Why>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Impact {
    pub ghost_orders: u64,
    pub split_orders: u64,
    pub zombie_orders: u64,
    /// Money held up by stuck orders, in the currency's minor unit.
    pub amount_stuck_cents: i64,
    pub currency: String,
    pub customers_affected: Option<u64>,
    pub sla_breaches: String,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Detection {
    pub how: String,
    pub halve_it: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    pub at: DateTime<Utc>,
    pub source: String,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ActionItem {
    pub what: String,
    pub kind: ActionKind,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub priority: Priority,
    pub ticket: String,
    pub status: ActionStatus,
    /// The why this action answers.
    pub answers: Option<u32>,
}

/// Where the draft was published, so the next publish updates that page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The Confluence base URL it went to: a draft published to another
    /// server is created there afresh.
    pub base_url: String,
    pub page_id: String,
    pub version: u64,
}

/// The draft file format this orderdeck writes and reads. A draft with
/// another `format_version` is refused with a message, never guessed at.
pub const DRAFT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    /// [`DRAFT_VERSION`]; drafts saved before the field existed lack it and
    /// are read as version 1.
    pub format_version: u32,
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub owner: String,
    /// The cockpit incident it was pre-filled from.
    pub incident: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub summary: String,
    pub impact: Impact,
    pub detection: Detection,
    pub timeline: Vec<TimelineRow>,
    pub whys: Vec<Why>,
    pub root_cause: String,
    pub contributing: String,
    pub went_well: String,
    pub went_wrong: String,
    pub lucky: String,
    pub actions: Vec<ActionItem>,
    pub runbook_updates: String,
    /// Usual causes of the incident's anomaly families (from the runbook),
    /// offered in the 5-Whys screen. Not exported.
    pub suggestions: Vec<String>,
    pub next_why_id: u32,
    pub published: Option<Published>,
    pub created_at: DateTime<Utc>,
}

impl Default for Draft {
    fn default() -> Self {
        Draft::new("PM-unnamed".into(), DateTime::<Utc>::UNIX_EPOCH)
    }
}

impl Draft {
    pub fn new(id: String, now: DateTime<Utc>) -> Draft {
        Draft {
            format_version: DRAFT_VERSION,
            id,
            title: String::new(),
            severity: Severity::DEFAULT,
            status: Status::DEFAULT,
            owner: String::new(),
            incident: None,
            started_at: None,
            detected_at: None,
            mitigated_at: None,
            resolved_at: None,
            summary: String::new(),
            impact: Impact::default(),
            detection: Detection::default(),
            timeline: Vec::new(),
            whys: Vec::new(),
            root_cause: String::new(),
            contributing: String::new(),
            went_well: String::new(),
            went_wrong: String::new(),
            lucky: String::new(),
            actions: Vec::new(),
            runbook_updates: String::new(),
            suggestions: Vec::new(),
            next_why_id: 1,
            published: None,
            created_at: now,
        }
    }

    /// Bytes of text the draft holds: a lower bound of its file's size
    /// (JSON only adds to it), cheap enough for the checks to compute on
    /// every frame, where serialising a large draft would not be.
    pub fn text_bytes(&self) -> u64 {
        fn whys(list: &[Why]) -> usize {
            list.iter()
                .map(|w| w.answer.len() + w.evidence.len() + whys(&w.children))
                .sum()
        }
        let fields = [
            &self.title,
            &self.owner,
            &self.summary,
            &self.impact.currency,
            &self.impact.sla_breaches,
            &self.impact.notes,
            &self.detection.how,
            &self.detection.halve_it,
            &self.root_cause,
            &self.contributing,
            &self.went_well,
            &self.went_wrong,
            &self.lucky,
            &self.runbook_updates,
        ];
        let rows: usize = self
            .timeline
            .iter()
            .map(|r| r.source.len() + r.what.len())
            .sum();
        let actions: usize = self
            .actions
            .iter()
            .map(|a| a.what.len() + a.owner.len() + a.ticket.len())
            .sum();
        let suggestions: usize = self.suggestions.iter().map(String::len).sum();
        let total = fields.iter().map(|f| f.len()).sum::<usize>()
            + rows
            + actions
            + suggestions
            + whys(&self.whys);
        total as u64
    }

    /// Start to resolve (or mitigate), when both are known.
    pub fn duration(&self) -> Option<chrono::Duration> {
        let end = self.resolved_at.or(self.mitigated_at)?;
        let start = self.started_at?;
        (end >= start).then(|| end - start)
    }

    /// Start to detection.
    pub fn detection_delay(&self) -> Option<chrono::Duration> {
        let (s, d) = (self.started_at?, self.detected_at?);
        (d >= s).then(|| d - s)
    }

    /// Every why with its depth (roots are depth 0), depth first, in the
    /// order the tree shows them.
    pub fn flat_whys(&self) -> Vec<(usize, &Why)> {
        fn walk<'a>(whys: &'a [Why], depth: usize, out: &mut Vec<(usize, &'a Why)>) {
            for w in whys {
                out.push((depth, w));
                walk(&w.children, depth + 1, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.whys, 0, &mut out);
        out
    }

    pub fn why(&self, id: u32) -> Option<&Why> {
        self.flat_whys()
            .into_iter()
            .map(|(_, w)| w)
            .find(|w| w.id == id)
    }

    pub fn why_mut(&mut self, id: u32) -> Option<&mut Why> {
        fn find(whys: &mut [Why], id: u32) -> Option<&mut Why> {
            for w in whys {
                if w.id == id {
                    return Some(w);
                }
                if let Some(found) = find(&mut w.children, id) {
                    return Some(found);
                }
            }
            None
        }
        find(&mut self.whys, id)
    }

    fn fresh_why(&mut self, answer: String) -> Why {
        // A draft file may say anything here: u32::MAX must not overflow.
        let id = self.next_why_id.max(1);
        self.next_why_id = id.saturating_add(1);
        Why {
            id,
            answer,
            ..Why::default()
        }
    }

    /// A new top-level why (the first "why did this happen?").
    pub fn add_root_why(&mut self, answer: String) -> u32 {
        let why = self.fresh_why(answer);
        let id = why.id;
        self.whys.push(why);
        id
    }

    /// A why one level deeper under `parent` ("and why was that?"), or a
    /// second cause of the same parent when it already has one (a branch).
    pub fn add_child_why(&mut self, parent: u32) -> Option<u32> {
        let why = self.fresh_why(String::new());
        let id = why.id;
        self.why_mut(parent)?.children.push(why);
        Some(id)
    }

    /// Another cause beside `sibling`: the tree branches at its parent.
    pub fn add_sibling_why(&mut self, sibling: u32) -> Option<u32> {
        let why = self.fresh_why(String::new());
        let id = why.id;
        let (list, i) = locate(&mut self.whys, sibling)?;
        list.insert(i + 1, why);
        Some(id)
    }

    /// Moves a why up or down among its siblings; false at either end.
    pub fn move_why(&mut self, id: u32, delta: isize) -> bool {
        let Some((list, i)) = locate(&mut self.whys, id) else {
            return false;
        };
        let j = i as isize + delta;
        if j < 0 || j as usize >= list.len() {
            return false;
        }
        list.swap(i, j as usize);
        true
    }

    /// Removes a why and everything under it; action items that answered
    /// one of them are kept but no longer point anywhere.
    pub fn delete_why(&mut self, id: u32) -> Option<Why> {
        let (list, i) = locate(&mut self.whys, id)?;
        let removed = list.remove(i);
        let mut gone = Vec::new();
        collect_ids(&removed, &mut gone);
        for a in &mut self.actions {
            if a.answers.is_some_and(|w| gone.contains(&w)) {
                a.answers = None;
            }
        }
        Some(removed)
    }
}

fn collect_ids(w: &Why, out: &mut Vec<u32>) {
    out.push(w.id);
    for c in &w.children {
        collect_ids(c, out);
    }
}

/// The sibling list holding `id` and its index there.
fn locate(whys: &mut Vec<Why>, id: u32) -> Option<(&mut Vec<Why>, usize)> {
    if let Some(i) = whys.iter().position(|w| w.id == id) {
        return Some((whys, i));
    }
    for w in whys.iter_mut() {
        if let Some(found) = locate(&mut w.children, id) {
            return Some(found);
        }
    }
    None
}

/// `2h 05m`, `45m`, `30s`: how long, for people.
pub fn format_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h {m:02}m"),
    }
}

/// `1,234.56 CNY`: cents grouped the way the cockpit shows amounts.
pub fn format_amount(cents: i64, currency: &str) -> String {
    let neg = cents < 0;
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if neg { "-" } else { "" };
    let cur = if currency.is_empty() { "" } else { " " };
    format!("{sign}{grouped}.{:02}{cur}{currency}", abs % 100)
}

/// Times in drafts and exports: `2026-11-26 06:15 UTC`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Reads what people type for a time: `2026-11-26 06:15`, with optional
/// seconds, `T`, and a trailing `UTC`/`Z`, or full RFC 3339.
pub fn parse_time(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(dt.with_timezone(&Utc)));
    }
    let bare = t
        .trim_end_matches("UTC")
        .trim_end_matches('Z')
        .trim()
        .replace('T', " ");
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(&bare, fmt) {
            return Ok(Some(n.and_utc()));
        }
    }
    Err(format!(
        "{t:?} is not a time: write it as YYYY-MM-DD HH:MM (UTC)"
    ))
}

pub fn parse_date(s: &str) -> Result<Option<NaiveDate>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{t:?} is not a date: write it as YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Draft, u32, u32, u32) {
        let mut d = Draft::default();
        let a = d.add_root_why("queue backlog".into());
        let b = d.add_child_why(a).unwrap_or_default();
        let c = d.add_sibling_why(b).unwrap_or_default();
        (d, a, b, c)
    }

    #[test]
    fn whys_branch_move_and_delete_with_their_subtree() {
        let (mut d, a, b, c) = tree();
        let order: Vec<u32> = d.flat_whys().iter().map(|(_, w)| w.id).collect();
        assert_eq!(order, vec![a, b, c]);
        assert!(d.move_why(c, -1));
        let order: Vec<u32> = d.flat_whys().iter().map(|(_, w)| w.id).collect();
        assert_eq!(order, vec![a, c, b]);
        assert!(!d.move_why(c, -1), "already first among its siblings");
        d.actions.push(ActionItem {
            answers: Some(b),
            ..ActionItem::default()
        });
        let removed = d.delete_why(a).map(|w| w.children.len());
        assert_eq!(removed, Some(2));
        assert!(d.whys.is_empty());
        assert_eq!(
            d.actions[0].answers, None,
            "link to a deleted why is dropped"
        );
    }

    #[test]
    fn choices_cycle_both_ways() {
        assert_eq!(Severity::Sev1.cycle(-1), Severity::Sev4);
        assert_eq!(Severity::Sev4.cycle(1), Severity::Sev1);
        assert_eq!(Status::Draft.cycle(1), Status::InReview);
    }

    #[test]
    fn times_and_dates_parse_as_people_type_them() {
        let t = parse_time("2026-11-26 06:15").ok().flatten();
        assert_eq!(t.map(format_time).as_deref(), Some("2026-11-26 06:15 UTC"));
        assert_eq!(parse_time("2026-11-26T06:15:00Z").ok().flatten(), t);
        assert_eq!(parse_time(" ").ok(), Some(None));
        assert!(parse_time("yesterday").is_err());
        assert!(parse_date("2026-13-01").is_err());
    }

    #[test]
    fn amounts_group_thousands() {
        assert_eq!(format_amount(123_456_789, "CNY"), "1,234,567.89 CNY");
        assert_eq!(format_amount(-5, ""), "-0.05");
    }
}
