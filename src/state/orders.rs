//! The stuck-order table: rows from the last detection, filtered and sorted
//! once when data or settings change (never while drawing), with a selection
//! that follows its row when rows arrive or leave.

use super::filter::Filter;
use super::scroll::Scroll;
use crate::model::{BeyondLimit, DetectionSnapshot, Family, RowKey, RuleError, StuckOrder};
use crate::sanitize::sanitize;
use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderColumn {
    Family,
    Rule,
    Order,
    Status,
    Age,
    Sku,
    Supplier,
    Amount,
}

impl OrderColumn {
    pub const ALL: [OrderColumn; 8] = [
        OrderColumn::Family,
        OrderColumn::Rule,
        OrderColumn::Order,
        OrderColumn::Status,
        OrderColumn::Age,
        OrderColumn::Sku,
        OrderColumn::Supplier,
        OrderColumn::Amount,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrderColumn::Family => "family",
            OrderColumn::Rule => "rule",
            OrderColumn::Order => "order",
            OrderColumn::Status => "status",
            OrderColumn::Age => "age",
            OrderColumn::Sku => "sku",
            OrderColumn::Supplier => "supplier",
            OrderColumn::Amount => "amount",
        }
    }

    pub fn parse(s: &str) -> Option<OrderColumn> {
        let s = s.to_ascii_lowercase();
        OrderColumn::ALL
            .into_iter()
            .find(|c| c.name() == s || (s == "order_no" && *c == OrderColumn::Order))
    }

    pub fn next(self) -> OrderColumn {
        let i = OrderColumn::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(0);
        OrderColumn::ALL[(i + 1) % OrderColumn::ALL.len()]
    }

    /// The natural first direction: oldest / biggest first for numbers.
    fn default_descending(self) -> bool {
        matches!(self, OrderColumn::Age | OrderColumn::Amount)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: OrderColumn,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            column: OrderColumn::Age,
            descending: true,
        }
    }
}

/// Distinct orders per family and the money they hold up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FamilyCounts {
    pub ghost: usize,
    pub split: usize,
    pub zombie: usize,
    pub amount_cents: i64,
    /// Families (ghost, split, zombie) with a rule that has never been read:
    /// their count is a lower bound, shown as unknown.
    pub unknown: [bool; 3],
}

impl FamilyCounts {
    pub fn get(&self, f: Family) -> usize {
        match f {
            Family::Ghost => self.ghost,
            Family::Split => self.split,
            Family::Zombie => self.zombie,
        }
    }

    pub fn is_known(&self, f: Family) -> bool {
        !self.unknown[slot(f)]
    }

    fn of(rows: &[StuckOrder]) -> FamilyCounts {
        let mut seen: [HashSet<i64>; 3] = Default::default();
        let mut orders = HashSet::new();
        let mut counts = FamilyCounts::default();
        for r in rows {
            let slot = match r.family {
                Family::Ghost => 0,
                Family::Split => 1,
                Family::Zombie => 2,
            };
            seen[slot].insert(r.order_id);
            if orders.insert(r.order_id) {
                counts.amount_cents = counts.amount_cents.saturating_add(r.amount_cents);
            }
        }
        counts.ghost = seen[0].len();
        counts.split = seen[1].len();
        counts.zombie = seen[2].len();
        counts
    }

    /// With the orders rules counted past the row limit (per rule: an
    /// order two capped rules both found beyond it counts twice).
    fn plus(mut self, beyond: &[BeyondLimit]) -> FamilyCounts {
        for b in beyond {
            let n = usize::try_from(b.orders).unwrap_or(usize::MAX);
            let slot = match b.family {
                Family::Ghost => &mut self.ghost,
                Family::Split => &mut self.split,
                Family::Zombie => &mut self.zombie,
            };
            *slot = slot.saturating_add(n);
            self.amount_cents = self.amount_cents.saturating_add(b.amount_cents);
        }
        self
    }
}

fn slot(f: Family) -> usize {
    match f {
        Family::Ghost => 0,
        Family::Split => 1,
        Family::Zombie => 2,
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrdersTable {
    rows: Vec<StuckOrder>,
    /// Indices into `rows` after filtering and sorting: what the pane shows.
    view: Vec<usize>,
    pub sort: Sort,
    pub filter: Filter,
    selected: Option<RowKey>,
    pub scroll: Scroll,
    pub counts: FamilyCounts,
    /// The source's clock at detection time; ages are measured from it.
    pub as_of: Option<DateTime<Utc>>,
    pub rule_errors: Vec<RuleError>,
    pub truncated_rules: Vec<String>,
    /// Orders found past the row limit: in `counts`, not in the list.
    pub beyond_limit: Vec<BeyondLimit>,
    /// Row indices of each order, for "which rules matched this order".
    by_order: HashMap<i64, Vec<usize>>,
    /// Rows (order and rule) of the latest detection that the one before did
    /// not have: newly detected anomalies, for the wallboard's "last anomaly".
    pub added: usize,
    /// Rules that failed on the latest poll, with the wall-clock time they
    /// were last read (`None`: never). Their rows and counts are the last
    /// good ones, kept and shown as stale rather than dropped to zero.
    pub stale_rules: HashMap<String, Option<DateTime<Utc>>>,
    /// Wall-clock time of the latest poll that reached the database.
    read_at: Option<DateTime<Utc>>,
}

impl OrdersTable {
    /// Takes a new detection result that arrived at `at` (wall clock).
    /// Rules that failed keep their last good rows, beyond-limit counts and
    /// truncation marks, and are listed in `stale_rules`. Returns false when
    /// nothing visible changed (so the screen need not be redrawn).
    pub fn ingest(&mut self, at: DateTime<Utc>, snap: DetectionSnapshot) -> bool {
        let DetectionSnapshot {
            as_of,
            orders: mut rows,
            rule_errors,
            mut truncated_rules,
            mut beyond_limit,
            down: _,
        } = snap;
        for r in &mut rows {
            sanitize_row(r);
        }
        let mut stale = HashMap::new();
        for e in &rule_errors {
            // Read on the poll before unless it was already stale then.
            let last_read = match self.stale_rules.get(&e.rule_id) {
                Some(since) => *since,
                None => self.read_at,
            };
            stale.insert(e.rule_id.clone(), last_read);
        }
        rows.extend(
            self.rows
                .iter()
                .filter(|r| stale.contains_key(&r.rule_id))
                .cloned(),
        );
        beyond_limit.extend(
            self.beyond_limit
                .iter()
                .filter(|b| stale.contains_key(&b.rule_id))
                .cloned(),
        );
        truncated_rules.extend(
            self.truncated_rules
                .iter()
                .filter(|r| stale.contains_key(r.as_str()))
                .cloned(),
        );
        let mut unknown = [false; 3];
        for e in &rule_errors {
            if stale.get(&e.rule_id) == Some(&None) {
                match e.family {
                    Some(f) => unknown[slot(f)] = true,
                    None => unknown = [true; 3],
                }
            }
        }
        self.read_at = Some(at);
        let unchanged = rows == self.rows
            && rule_errors == self.rule_errors
            && truncated_rules == self.truncated_rules
            && beyond_limit == self.beyond_limit
            && stale == self.stale_rules;
        // Ages are shown relative to `as_of`; a new clock value with the same
        // rows changes what is drawn only at whole-second resolution.
        let age_changed = self.as_of.map(|a| a.timestamp()) != Some(as_of.timestamp());
        self.as_of = Some(as_of);
        if unchanged {
            self.added = 0;
            return age_changed;
        }
        let before: HashSet<(i64, &str)> = self
            .rows
            .iter()
            .map(|r| (r.order_id, r.rule_id.as_str()))
            .collect();
        self.added = rows
            .iter()
            .filter(|r| !before.contains(&(r.order_id, r.rule_id.as_str())))
            .count();
        self.rows = rows;
        self.rule_errors = rule_errors;
        self.truncated_rules = truncated_rules;
        self.counts = FamilyCounts::of(&self.rows).plus(&beyond_limit);
        self.counts.unknown = unknown;
        self.beyond_limit = beyond_limit;
        self.stale_rules = stale;
        self.by_order.clear();
        for (i, r) in self.rows.iter().enumerate() {
            self.by_order.entry(r.order_id).or_default().push(i);
        }
        self.rebuild();
        true
    }

    /// Stuck orders of `f`, or `None` when they were never read (no poll
    /// reached the database yet, or one of the family's rules never ran).
    pub fn count(&self, f: Family) -> Option<usize> {
        (self.as_of.is_some() && self.counts.is_known(f)).then(|| self.counts.get(f))
    }

    /// Money held by stuck orders, or `None` when any family is unknown.
    pub fn amount(&self) -> Option<i64> {
        Family::ALL
            .iter()
            .all(|f| self.count(*f).is_some())
            .then_some(self.counts.amount_cents)
    }

    /// Whether this row's rule failed on the latest poll (its row is the
    /// last one read, not a fresh one).
    pub fn is_stale(&self, row: &StuckOrder) -> bool {
        self.stale_rules.contains_key(&row.rule_id)
    }

    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.rebuild();
    }

    pub fn set_sort(&mut self, sort: Sort) {
        self.sort = sort;
        self.rebuild();
    }

    pub fn sort_next_column(&mut self) {
        let column = self.sort.column.next();
        self.set_sort(Sort {
            column,
            descending: column.default_descending(),
        });
    }

    pub fn reverse_sort(&mut self) {
        self.set_sort(Sort {
            column: self.sort.column,
            descending: !self.sort.descending,
        });
    }

    /// Rows shown, in order.
    pub fn visible(&self) -> impl ExactSizeIterator<Item = &StuckOrder> + '_ {
        self.view.iter().map(|&i| &self.rows[i])
    }

    /// Shown row at position `i`.
    pub fn visible_row(&self, i: usize) -> Option<&StuckOrder> {
        self.view.get(i).map(|&i| &self.rows[i])
    }

    pub fn visible_len(&self) -> usize {
        self.view.len()
    }

    pub fn total_len(&self) -> usize {
        self.rows.len()
    }

    /// Every rule an order matched (filter or not).
    pub fn rules_for(&self, order_id: i64) -> impl Iterator<Item = &str> + '_ {
        self.by_order
            .get(&order_id)
            .into_iter()
            .flatten()
            .map(|&i| self.rows[i].rule_id.as_str())
    }

    pub fn selected(&self) -> Option<&StuckOrder> {
        self.visible_row(self.scroll.cursor)
    }

    /// Puts the cursor on the first row of `order_no`, if it is shown.
    /// Whether any stuck row (filtered out or not) is for `order_no`.
    pub fn contains_order_no(&self, order_no: &str) -> bool {
        self.rows
            .iter()
            .any(|r| r.order_no.eq_ignore_ascii_case(order_no))
    }

    pub fn select_order_no(&mut self, order_no: &str) -> bool {
        let found = self
            .view
            .iter()
            .position(|&i| self.rows[i].order_no.eq_ignore_ascii_case(order_no));
        match found {
            Some(pos) => {
                self.scroll.set_cursor(pos, self.view.len());
                self.remember_selection();
                true
            }
            None => false,
        }
    }

    pub fn move_cursor(&mut self, delta: isize) {
        self.scroll.move_by(delta, self.view.len());
        self.remember_selection();
    }

    pub fn cursor_to(&mut self, pos: usize) {
        self.scroll.set_cursor(pos, self.view.len());
        self.remember_selection();
    }

    fn remember_selection(&mut self) {
        self.selected = self.selected().map(StuckOrder::key);
    }

    fn rebuild(&mut self) {
        let filter = &self.filter;
        let rows = &self.rows;
        let mut view: Vec<usize> = (0..rows.len())
            .filter(|&i| filter.matches(&rows[i]))
            .collect();
        let sort = self.sort;
        view.sort_by(|&a, &b| {
            let ord = compare(&rows[a], &rows[b], sort.column);
            let ord = if sort.descending { ord.reverse() } else { ord };
            // A total order keeps rows from jumping between polls.
            ord.then_with(|| rows[a].order_no.cmp(&rows[b].order_no))
                .then_with(|| rows[a].rule_id.cmp(&rows[b].rule_id))
        });
        self.view = view;

        // Follow the selected row if it is still shown; otherwise stay at the
        // same position so the eye does not have to hunt for the cursor.
        let follow = self.selected.as_ref().and_then(|key| {
            self.view
                .iter()
                .position(|&i| rows[i].order_id == key.order_id && rows[i].rule_id == key.rule_id)
        });
        let pos = follow.unwrap_or(self.scroll.cursor);
        self.scroll.set_cursor(pos, self.view.len());
        self.remember_selection();
    }
}

fn compare(a: &StuckOrder, b: &StuckOrder, column: OrderColumn) -> Ordering {
    match column {
        OrderColumn::Family => a.family.cmp(&b.family),
        OrderColumn::Rule => a.rule_id.cmp(&b.rule_id),
        OrderColumn::Order => a.order_no.cmp(&b.order_no),
        OrderColumn::Status => a.status.cmp(&b.status),
        // Older `since` means a larger age.
        OrderColumn::Age => b.since.cmp(&a.since),
        OrderColumn::Sku => a.sku.cmp(&b.sku),
        OrderColumn::Supplier => a.supplier_id.cmp(&b.supplier_id),
        OrderColumn::Amount => a.amount_cents.cmp(&b.amount_cents),
    }
}

fn sanitize_row(r: &mut StuckOrder) {
    for field in [
        &mut r.order_no,
        &mut r.rule_id,
        &mut r.status,
        &mut r.sku,
        &mut r.detail,
    ] {
        if !crate::sanitize::is_safe(field)
            || field.chars().count() > crate::sanitize::MAX_FIELD_CHARS
        {
            *field = sanitize(field);
        }
    }
}
