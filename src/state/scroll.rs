//! A cursor in a list with a scroll offset that keeps it in view.
//!
//! Kept in the state (not in a widget) so that `render` stays a pure function
//! of the state and paging is testable without a terminal.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scroll {
    pub cursor: usize,
    pub offset: usize,
    /// Rows the pane can show; set from the layout on every resize.
    pub page: usize,
}

impl Scroll {
    pub fn set_page(&mut self, page: usize, len: usize) {
        self.page = page;
        self.clamp(len);
    }

    pub fn set_cursor(&mut self, pos: usize, len: usize) {
        self.cursor = pos;
        self.clamp(len);
    }

    pub fn move_by(&mut self, delta: isize, len: usize) {
        self.cursor = self.cursor.saturating_add_signed(delta);
        self.clamp(len);
    }

    pub fn page_down(&mut self, len: usize) {
        self.move_by(self.page.max(1) as isize, len);
    }

    pub fn page_up(&mut self, len: usize) {
        self.move_by(-(self.page.max(1) as isize), len);
    }

    fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.cursor = 0;
            self.offset = 0;
            return;
        }
        self.cursor = self.cursor.min(len - 1);
        let page = self.page.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
        // Never leave empty space below the last row when rows went away.
        self.offset = self.offset.min(len.saturating_sub(page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_stays_visible_when_moving_past_the_page() {
        let mut s = Scroll::default();
        s.set_page(5, 100);
        s.move_by(7, 100);
        assert_eq!((s.cursor, s.offset), (7, 3));
        s.move_by(-6, 100);
        assert_eq!((s.cursor, s.offset), (1, 1));
    }

    #[test]
    fn paging_and_clamping_at_the_ends() {
        let mut s = Scroll::default();
        s.set_page(10, 25);
        s.page_down(25);
        s.page_down(25);
        s.page_down(25);
        assert_eq!((s.cursor, s.offset), (24, 15));
        s.page_up(25);
        assert_eq!(s.cursor, 14);
        s.set_cursor(usize::MAX, 25);
        assert_eq!(s.cursor, 24);
    }

    #[test]
    fn shrinking_list_pulls_cursor_and_offset_back() {
        let mut s = Scroll::default();
        s.set_page(10, 100);
        s.set_cursor(80, 100);
        s.set_cursor(80, 12);
        assert_eq!((s.cursor, s.offset), (11, 2));
        s.set_cursor(0, 0);
        assert_eq!((s.cursor, s.offset), (0, 0));
    }
}
