//! Screen geometry: where each pane goes for a terminal size.
//!
//! Pure, and shared by `update` (which needs page sizes for scrolling) and
//! `render` (which draws into the rectangles), so both always agree.

use ratatui::layout::Rect;

/// Below this the cockpit shows a "terminal too small" note instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Side-by-side orders and timeline from this size up.
const WIDE_WIDTH: u16 = 120;
const WIDE_HEIGHT: u16 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// Queues on top, orders and timeline side by side.
    Wide,
    /// Queues on top, then orders *or* timeline (whichever has focus).
    Stacked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub arrangement: Arrangement,
    pub status: Rect,
    /// The alerts strip, present only while alerts are active.
    pub alerts: Option<Rect>,
    pub queues: Rect,
    pub orders: Option<Rect>,
    pub timeline: Option<Rect>,
    pub message: Rect,
    pub hints: Rect,
}

/// Rows a bordered table with one header line can show.
pub fn table_rows(pane: Rect) -> usize {
    pane.height.saturating_sub(3) as usize
}

/// Which of a bordered table's visible rows (0 = first under the header)
/// is on screen row `y`, if any: for mouse clicks.
pub fn table_row_at(pane: Rect, y: u16) -> Option<usize> {
    let first = pane.y.checked_add(2)?;
    let end = (first as usize) + table_rows(pane);
    ((first as usize..end).contains(&(y as usize))).then(|| (y - first) as usize)
}

/// True when the cell (x, y) is inside `r`.
pub fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x
        && y >= r.y
        && (x as u32) < r.x as u32 + r.width as u32
        && (y as u32) < r.y as u32 + r.height as u32
}

/// Lines inside a bordered pane.
pub fn inner_lines(pane: Rect) -> usize {
    pane.height.saturating_sub(2) as usize
}

pub fn is_too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Lays out the cockpit. `queue_rows` sizes the queue pane to its content;
/// `timeline_focused` picks the lower pane in the stacked arrangement;
/// `alerts` asks for the one-row alerts strip under the status bar.
///
/// The strip is a row of its own rather than a segment of the status bar:
/// at 80 columns the status bar is already full, and the alert's message
/// (which queue, how many, which log line) is the part worth reading. It is
/// there only while alerts are active, and its row comes out of the queue
/// pane's share, not the stuck-order table's: the table is what the
/// engineer works in, so it keeps its size (ten rows at 80x24) whether
/// alerts come or go, while the queue pane, which the strip partly sums up,
/// scrolls one row sooner.
pub fn screen(
    area: Rect,
    queue_rows: usize,
    timeline_focused: bool,
    alerts: bool,
) -> Option<Screen> {
    if is_too_small(area) {
        return None;
    }
    let line = |y: u16| Rect::new(area.x, y, area.width, 1);
    let status = line(area.y);
    let hints = line(area.y + area.height - 1);
    let message = line(area.y + area.height - 2);
    let strip = u16::from(alerts);
    let full_body = area.height - 3;
    let body = Rect::new(area.x, area.y + 1 + strip, area.width, full_body - strip);

    let arrangement = if area.width >= WIDE_WIDTH && area.height >= WIDE_HEIGHT {
        Arrangement::Wide
    } else {
        Arrangement::Stacked
    };
    // The queue pane fits its rows (plus borders and header) but never takes
    // more than ~40% of the body: stuck orders are what the engineer works on.
    let wanted = queue_rows.max(1) as u16 + 3;
    let cap = (full_body * 2 / 5).max(5) - strip;
    let queues_h = wanted.min(cap);
    let queues = Rect::new(body.x, body.y, body.width, queues_h);
    let lower = Rect::new(
        body.x,
        body.y + queues_h,
        body.width,
        body.height - queues_h,
    );
    let (orders, timeline) = match arrangement {
        Arrangement::Wide => {
            let left = lower.width * 3 / 5;
            (
                Some(Rect::new(lower.x, lower.y, left, lower.height)),
                Some(Rect::new(
                    lower.x + left,
                    lower.y,
                    lower.width - left,
                    lower.height,
                )),
            )
        }
        Arrangement::Stacked if timeline_focused => (None, Some(lower)),
        Arrangement::Stacked => (Some(lower), None),
    };
    Some(Screen {
        arrangement,
        status,
        alerts: alerts.then(|| line(area.y + 1)),
        queues,
        orders,
        timeline,
        message,
        hints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_terminals_are_refused() {
        assert!(screen(Rect::new(0, 0, 59, 24), 6, false, false).is_none());
        assert!(screen(Rect::new(0, 0, 80, 15), 6, false, false).is_none());
        assert!(screen(Rect::new(0, 0, 60, 16), 6, false, false).is_some());
    }

    #[test]
    fn stacked_at_80x24_swaps_the_lower_pane_with_focus() {
        let s = screen(Rect::new(0, 0, 80, 24), 6, false, false).unwrap();
        assert_eq!(s.arrangement, Arrangement::Stacked);
        assert_eq!(s.queues.height, 8);
        let orders = s.orders.unwrap();
        assert!(s.timeline.is_none());
        assert_eq!(orders.y + orders.height, s.message.y);
        assert_eq!(table_rows(orders), 10);
        let t = screen(Rect::new(0, 0, 80, 24), 6, true, false).unwrap();
        assert!(t.orders.is_none());
        assert_eq!(t.timeline, Some(orders));
    }

    #[test]
    fn wide_puts_orders_and_timeline_side_by_side_and_fills_the_screen() {
        let s = screen(Rect::new(0, 0, 200, 60), 6, false, false).unwrap();
        assert_eq!(s.arrangement, Arrangement::Wide);
        let (o, t) = (s.orders.unwrap(), s.timeline.unwrap());
        assert_eq!(o.x + o.width, t.x);
        assert_eq!(t.x + t.width, 200);
        assert_eq!(s.queues.height, 9);
        assert_eq!(o.y + o.height, s.message.y);
    }

    #[test]
    fn the_alerts_strip_takes_its_row_from_the_queue_pane() {
        for (w, h) in [(80, 24), (60, 16), (120, 40), (200, 60)] {
            let area = Rect::new(0, 0, w, h);
            let without = screen(area, 6, false, false).unwrap();
            let with = screen(area, 6, false, true).unwrap();
            assert_eq!(without.alerts, None);
            let strip = with.alerts.unwrap();
            assert_eq!(strip, Rect::new(0, 1, w, 1), "{w}x{h}");
            assert_eq!(with.queues.y, 2);
            let orders = with.orders.unwrap();
            assert_eq!(orders.y + orders.height, with.message.y);
            if h <= 24 {
                // The queue pane is at its cap here: the table keeps its rows.
                assert_eq!(orders.height, without.orders.unwrap().height, "{w}x{h}");
                assert_eq!(with.queues.height + 1, without.queues.height);
            }
        }
        let s = screen(Rect::new(0, 0, 80, 24), 6, false, true).unwrap();
        assert_eq!(table_rows(s.orders.unwrap()), 10);
        assert_eq!(table_rows(s.queues), 4);
        let tiny = screen(Rect::new(0, 0, 60, 16), 6, false, true).unwrap();
        assert_eq!(table_rows(tiny.queues), 1, "one queue row still shows");
    }

    #[test]
    fn many_queues_do_not_crowd_out_the_orders() {
        let s = screen(Rect::new(0, 0, 80, 24), 500, false, false).unwrap();
        assert!(s.queues.height <= 8);
        assert!(table_rows(s.orders.unwrap()) >= 8);
    }
}
