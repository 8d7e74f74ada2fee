//! The wallboard: the cockpit's numbers for a war-room wall screen, in the
//! pure core. Which page is up, the rotation timer (driven by the 1 Hz
//! tick), when the last anomaly was seen, which colour a number deserves,
//! and the keys: a wall is looked at, not worked at, so every remediation
//! key is refused (and the refusal audited by the engine).

use super::keys::{Action, Key};
use super::queues::Drain;
use super::{Mode, State};
use crate::action::Effect;
use crate::config::{AlertsConfig, Thresholds};
use crate::model::Family;
use crate::model::remedy::WALLBOARD_READ_ONLY;
use chrono::{DateTime, Utc};

/// What the wallboard shows. `All` is everything at once (big type on a
/// large terminal, compact text on a small one); the others give one
/// subject the whole screen, so big type fits on smaller screens too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    All,
    /// Stuck orders per family, the amount stuck, the last anomaly.
    Orders,
    /// Queue backlog, sparklines, time to drain.
    Queues,
    Alerts,
}

impl Page {
    pub const ALL: [Page; 4] = [Page::All, Page::Orders, Page::Queues, Page::Alerts];

    /// The page after this one among `pages` (the first when this one is
    /// not among them); `back` goes the other way.
    pub fn step(self, pages: &[Page], back: bool) -> Page {
        let n = pages.len();
        if n == 0 {
            return self;
        }
        match pages.iter().position(|p| *p == self) {
            Some(i) if back => pages[(i + n - 1) % n],
            Some(i) => pages[(i + 1) % n],
            None => pages[0],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Page::All => "overview",
            Page::Orders => "orders",
            Page::Queues => "queues",
            Page::Alerts => "alerts",
        }
    }
}

/// How `orderdeck wallboard` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Start {
    /// Move to the next page every this many seconds; `None` stays put.
    pub rotate_secs: Option<u32>,
}

/// The wallboard while it is on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Wall {
    pub page: Page,
    pub rotate_secs: Option<u32>,
    /// When the current page came up (the state's clock, so the rotation
    /// follows the ticks and tests drive it with `Msg::Tick`).
    pub page_since: DateTime<Utc>,
    /// Entered with `w` from the cockpit: `w` and Esc go back to it.
    /// `orderdeck wallboard` has no cockpit behind it.
    pub from_cockpit: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WallboardState {
    /// `Some` while the wallboard is on screen.
    pub view: Option<Wall>,
    /// When this process last saw a new anomaly: a stuck order (order and
    /// rule) the previous detection did not have, or an alert that fired.
    /// Kept when everything clears, so the wall can say "last anomaly 2h
    /// ago". Measured on the wall clock at arrival, not the source's clock
    /// (the demo's simulated clock runs faster).
    pub last_anomaly: Option<DateTime<Utc>>,
}

impl WallboardState {
    pub fn is_shown(&self) -> bool {
        self.view.is_some()
    }

    pub fn open(&mut self, start: Start, from_cockpit: bool, now: DateTime<Utc>) {
        self.view = Some(Wall {
            page: Page::All,
            rotate_secs: start.rotate_secs.filter(|s| *s > 0),
            page_since: now,
            from_cockpit,
        });
    }

    pub fn page(&self) -> Option<Page> {
        self.view.as_ref().map(|w| w.page)
    }

    pub fn note_anomaly(&mut self, at: DateTime<Utc>) {
        if self.last_anomaly.is_none_or(|t| at > t) {
            self.last_anomaly = Some(at);
        }
    }

    /// Advances the rotation at a tick, over `pages`. True when the page
    /// changed.
    pub fn tick(&mut self, now: DateTime<Utc>, pages: &[Page]) -> bool {
        let Some(wall) = self.view.as_mut() else {
            return false;
        };
        let Some(every) = wall.rotate_secs else {
            return false;
        };
        if (now - wall.page_since).num_seconds() >= i64::from(every) {
            let before = wall.page;
            wall.page = wall.page.step(pages, false);
            wall.page_since = now;
            return wall.page != before;
        }
        false
    }
}

/// The pages worth showing: no orders page without a database, no queues
/// page without a broker (an empty box on the wall reads as "all clear").
pub fn pages(state: &State) -> Vec<Page> {
    use super::Health::NotConfigured;
    Page::ALL
        .into_iter()
        .filter(|p| match p {
            Page::Orders => state.db.health != NotConfigured,
            Page::Queues => state.broker.health != NotConfigured,
            _ => true,
        })
        .collect()
}

/// A key while the wallboard is up (and no overlay is open).
pub(super) fn on_key(state: &mut State, key: Key, effects: &mut Vec<Effect>) {
    let Some(action) = state.keymap.action_for(key) else {
        return;
    };
    if action.is_remediation() {
        refuse(state, action, effects);
        return;
    }
    let now = state.now;
    let pages = pages(state);
    let Some(wall) = state.wallboard.view.as_mut() else {
        return;
    };
    match action {
        Action::Quit => state.quit = true,
        Action::Wallboard | Action::Back if wall.from_cockpit => {
            state.wallboard.view = None;
            state.info("back in the cockpit");
        }
        Action::Wallboard | Action::Back => {
            state.info("this is the wallboard only: q quits; run `orderdeck` for the cockpit");
        }
        Action::FocusNext | Action::FocusPrev | Action::Down | Action::Up => {
            let back = !matches!(action, Action::FocusNext | Action::Down);
            wall.page = wall.page.step(&pages, back);
            // A page chosen by hand stays its full time before rotating on.
            wall.page_since = now;
            let page = wall.page.name();
            state.info(format!("page: {page}"));
        }
        Action::Help => state.mode = Mode::Help { scroll: 0 },
        Action::CycleTheme | Action::ToggleClock => super::update::on_view_action(state, action),
        Action::Postmortem => {
            state.warn("no postmortem editor on the wallboard: it is read-only");
        }
        // Commands, filters, paging and sorting need a cursor or a prompt;
        // the wall has neither.
        _ => {
            let back = if wall.from_cockpit {
                "w or Esc for the cockpit"
            } else {
                "q quits"
            };
            state.info(format!(
                "the wallboard only shows: Tab next page, t theme, z clock, {back}"
            ));
        }
    }
}

/// A remediation key on the wallboard: refused with one line, and handed
/// to the engine to audit as refused. The wall has no selection, so the
/// request aims at nothing: the cockpit's selection behind the wall must
/// not get a refusal on its timeline for a key nobody aimed at it.
fn refuse(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let request = super::remedy::unaimed_request(action);
    match &request {
        crate::model::remedy::Request::Unaimed { .. } => {
            state.error(format!("{} refused: {WALLBOARD_READ_ONLY}", action.hint()))
        }
        _ => state.error(format!(
            "{} on {} refused: {WALLBOARD_READ_ONLY}",
            request.action(),
            request.target()
        )),
    }
    effects.push(Effect::RefuseRemedy {
        request,
        why: WALLBOARD_READ_ONLY.to_string(),
    });
}

/// How loud a number on the wall is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Heat {
    Calm,
    Amber,
    Red,
}

/// A family's stuck-order count: amber once its alert fires (above
/// `[alerts.stuck_above]`), red from `[thresholds] stuck_orders_critical`.
pub fn stuck_heat(t: &Thresholds, alerts: &AlertsConfig, family: Family, n: usize) -> Heat {
    let n = n as u64;
    if n >= t.stuck_orders_critical {
        Heat::Red
    } else if alerts
        .stuck_above
        .get(&family)
        .is_some_and(|above| n > *above)
    {
        Heat::Amber
    } else {
        Heat::Calm
    }
}

/// The money held up, from `[thresholds] amount_stuck_warn` / `_critical`
/// (whole currency units).
pub fn amount_heat(t: &Thresholds, cents: i64) -> Heat {
    let units = cents.max(0) as u64 / 100;
    if units >= t.amount_stuck_critical {
        Heat::Red
    } else if units >= t.amount_stuck_warn {
        Heat::Amber
    } else {
        Heat::Calm
    }
}

/// One queue's ready count, as the cockpit's queue pane colours it: a
/// backlog nobody consumes is red whatever its size.
pub fn backlog_heat(t: &Thresholds, ready: u64, consumers: u32) -> Heat {
    if ready >= t.queue_ready_critical || (consumers == 0 && ready > 0) {
        Heat::Red
    } else if ready >= t.queue_ready_warn {
        Heat::Amber
    } else {
        Heat::Calm
    }
}

/// Time to drain, from `[thresholds] drain_warn_minutes` / `_critical`; a
/// backlog that never drains at the current rates is red.
pub fn drain_heat(t: &Thresholds, drain: Drain) -> Heat {
    match drain {
        Drain::Never => Heat::Red,
        Drain::Seconds(s) if s >= (t.drain_critical_minutes * 60) as f64 => Heat::Red,
        Drain::Seconds(s) if s > (t.drain_warn_minutes * 60) as f64 => Heat::Amber,
        _ => Heat::Calm,
    }
}

/// The slowest queue to drain: the one the wall's drain number shows.
/// `Never` beats any time; unknown and empty queues do not count.
pub fn worst_drain(state: &State) -> Option<(&str, Drain)> {
    let rank = |d: Drain| match d {
        Drain::Never => Some(f64::INFINITY),
        Drain::Seconds(s) => Some(s),
        Drain::Empty | Drain::Unknown => None,
    };
    state
        .queues
        .rows
        .iter()
        .filter(|r| !r.missing)
        .filter_map(|r| rank(r.drain).map(|k| (k, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| (r.name.as_str(), r.drain))
}

/// Whole seconds since the last anomaly, if one was seen.
pub fn since_last_anomaly(state: &State) -> Option<i64> {
    state
        .wallboard
        .last_anomaly
        .map(|t| (state.now - t).num_seconds().max(0))
}

/// `2m13s`, `1h02m`, `3d04h`: an age with seconds while they still matter
/// (stale data, a fresh anomaly), for the wall's big type.
pub fn age_text(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 14, 30, 0).unwrap()
    }

    #[test]
    fn pages_cycle_both_ways_over_those_shown() {
        let mut p = Page::All;
        for _ in 0..Page::ALL.len() {
            p = p.step(&Page::ALL, false);
        }
        assert_eq!(p, Page::All);
        assert_eq!(Page::All.step(&Page::ALL, true), Page::Alerts);
        assert_eq!(Page::Orders.step(&Page::ALL, true), Page::All);
        let some = [Page::All, Page::Alerts];
        assert_eq!(Page::All.step(&some, false), Page::Alerts);
        assert_eq!(Page::Queues.step(&some, false), Page::All);
    }

    #[test]
    fn rotation_moves_on_after_its_seconds_and_not_without_it() {
        let mut w = WallboardState::default();
        w.open(
            Start {
                rotate_secs: Some(10),
            },
            false,
            t0(),
        );
        let all = Page::ALL;
        assert!(!w.tick(t0() + Duration::seconds(9), &all));
        assert_eq!(w.page(), Some(Page::All));
        assert!(w.tick(t0() + Duration::seconds(10), &all));
        assert_eq!(w.page(), Some(Page::Orders));
        assert!(!w.tick(t0() + Duration::seconds(19), &all));
        // Without a broker the queues page is skipped.
        let no_queues = [Page::All, Page::Orders, Page::Alerts];
        assert!(w.tick(t0() + Duration::seconds(20), &no_queues));
        assert_eq!(w.page(), Some(Page::Alerts));
        assert!(w.tick(t0() + Duration::seconds(30), &all));
        assert_eq!(w.page(), Some(Page::All));
        // A single page has nowhere to rotate to.
        assert!(!w.tick(t0() + Duration::seconds(40), &[Page::All]));

        let mut still = WallboardState::default();
        still.open(Start::default(), false, t0());
        assert!(!still.tick(t0() + Duration::hours(1), &Page::ALL));
        assert_eq!(still.page(), Some(Page::All));
        // --rotate 0 means no rotation, not a page a tick.
        let mut zero = WallboardState::default();
        zero.open(
            Start {
                rotate_secs: Some(0),
            },
            false,
            t0(),
        );
        assert!(!zero.tick(t0() + Duration::seconds(5), &Page::ALL));
    }

    #[test]
    fn last_anomaly_only_moves_forward() {
        let mut w = WallboardState::default();
        w.note_anomaly(t0());
        w.note_anomaly(t0() - Duration::seconds(5));
        assert_eq!(w.last_anomaly, Some(t0()));
        w.note_anomaly(t0() + Duration::seconds(5));
        assert_eq!(w.last_anomaly, Some(t0() + Duration::seconds(5)));
    }

    #[test]
    fn heat_follows_the_thresholds() {
        let t = Thresholds::default();
        let a = AlertsConfig::default();
        // Zombies alert from the first one, ghosts above ten.
        assert_eq!(stuck_heat(&t, &a, Family::Zombie, 0), Heat::Calm);
        assert_eq!(stuck_heat(&t, &a, Family::Zombie, 1), Heat::Amber);
        assert_eq!(stuck_heat(&t, &a, Family::Ghost, 10), Heat::Calm);
        assert_eq!(stuck_heat(&t, &a, Family::Ghost, 11), Heat::Amber);
        assert_eq!(stuck_heat(&t, &a, Family::Ghost, 50), Heat::Red);
        assert_eq!(amount_heat(&t, 999_999), Heat::Calm);
        assert_eq!(amount_heat(&t, 1_000_000), Heat::Amber);
        assert_eq!(amount_heat(&t, 10_000_000), Heat::Red);
        assert_eq!(backlog_heat(&t, 999, 2), Heat::Calm);
        assert_eq!(backlog_heat(&t, 1000, 2), Heat::Amber);
        assert_eq!(backlog_heat(&t, 10_000, 2), Heat::Red);
        assert_eq!(backlog_heat(&t, 3, 0), Heat::Red, "nobody consumes it");
        assert_eq!(drain_heat(&t, Drain::Seconds(600.0)), Heat::Calm);
        assert_eq!(drain_heat(&t, Drain::Seconds(601.0)), Heat::Amber);
        assert_eq!(drain_heat(&t, Drain::Seconds(3600.0)), Heat::Red);
        assert_eq!(drain_heat(&t, Drain::Never), Heat::Red);
        assert_eq!(drain_heat(&t, Drain::Unknown), Heat::Calm);
    }

    #[test]
    fn ages_keep_seconds_below_an_hour() {
        assert_eq!(age_text(-3), "0s");
        assert_eq!(age_text(59), "59s");
        assert_eq!(age_text(133), "2m13s");
        assert_eq!(age_text(3720), "1h02m");
        assert_eq!(age_text(90_000), "1d01h");
    }
}
