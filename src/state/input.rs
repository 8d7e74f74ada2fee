//! A one-line text input (command line and filter) with a cursor.

use super::keys::{Key, KeyCode};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineInput {
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

/// What a key did to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Changed,
    Moved,
    Submit,
    Cancel,
    Ignored,
}

/// Typed input is bounded: a pasted novel should not become a filter.
const MAX_CHARS: usize = 512;

impl LineInput {
    pub fn with_text(text: &str) -> Self {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map(|(b, _)| b)
            .unwrap_or(self.text.len())
    }

    pub fn handle(&mut self, key: Key) -> Edit {
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc => Edit::Cancel,
            KeyCode::Char('u') if key.ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                Edit::Changed
            }
            KeyCode::Char('w') if key.ctrl => {
                let end = self.byte_at(self.cursor);
                let before = &self.text[..end];
                let trimmed = before.trim_end();
                let start = trimmed
                    .rfind(char::is_whitespace)
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let removed = self.text[start..end].chars().count();
                self.text.replace_range(start..end, "");
                self.cursor -= removed;
                Edit::Changed
            }
            KeyCode::Char('a') if key.ctrl => {
                self.cursor = 0;
                Edit::Moved
            }
            KeyCode::Char('e') if key.ctrl => {
                self.cursor = len;
                Edit::Moved
            }
            // Control, bidi and invisible characters are refused like
            // controls: on the prompt they would reorder or hide what the
            // operator reads (and pasting one is how it would get there).
            KeyCode::Char(c)
                if !key.ctrl
                    && !key.alt
                    && crate::sanitize::is_safe(c.encode_utf8(&mut [0; 4])) =>
            {
                if len >= MAX_CHARS {
                    return Edit::Ignored;
                }
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                Edit::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                Edit::Changed
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
                Edit::Changed
            }
            KeyCode::Left if self.cursor > 0 => {
                self.cursor -= 1;
                Edit::Moved
            }
            KeyCode::Right if self.cursor < len => {
                self.cursor += 1;
                Edit::Moved
            }
            KeyCode::Home => {
                self.cursor = 0;
                Edit::Moved
            }
            KeyCode::End => {
                self.cursor = len;
                Edit::Moved
            }
            _ => Edit::Ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineInput {
        let mut i = LineInput::default();
        for c in s.chars() {
            i.handle(Key::char(c));
        }
        i
    }

    #[test]
    fn typing_editing_and_moving() {
        let mut i = typed("family:zombi");
        assert_eq!(i.handle(Key::char('e')), Edit::Changed);
        assert_eq!(i.text, "family:zombie");
        i.handle(Key::plain(KeyCode::Home));
        i.handle(Key::plain(KeyCode::Delete));
        assert_eq!(i.text, "amily:zombie");
        i.handle(Key::plain(KeyCode::End));
        i.handle(Key::plain(KeyCode::Backspace));
        assert_eq!((i.text.as_str(), i.cursor), ("amily:zombi", 11));
    }

    #[test]
    fn ctrl_w_deletes_the_previous_word_and_ctrl_u_the_line_start() {
        let mut i = typed("status:paid sku:寄售");
        i.handle(Key::ctrl('w'));
        assert_eq!((i.text.as_str(), i.cursor), ("status:paid ", 12));
        i.handle(Key::ctrl('u'));
        assert_eq!((i.text.as_str(), i.cursor), ("", 0));
    }

    #[test]
    fn multibyte_text_keeps_the_cursor_on_char_boundaries() {
        let mut i = typed("库存锁");
        i.handle(Key::plain(KeyCode::Left));
        i.handle(Key::char('x'));
        assert_eq!(i.text, "库存x锁");
        assert_eq!(i.handle(Key::plain(KeyCode::Enter)), Edit::Submit);
    }

    #[test]
    fn input_is_bounded() {
        let i = typed(&"a".repeat(MAX_CHARS + 50));
        assert_eq!(i.text.chars().count(), MAX_CHARS);
    }
}
