//! Turns TOML files and their errors into one-line messages.
//!
//! The toml crate's `Display` for errors is a multi-line report with a source
//! snippet. That is nice in a compiler, but orderdeck prints config and theme
//! problems on a status line or as one `warning:` line on stderr, so every
//! problem here becomes `path:line:col: what is wrong`. Everything that came
//! from the file (keys, values, the path itself) is escaped so that a hostile
//! or corrupt file cannot put control sequences on the terminal.

use std::fmt::Write as _;
use std::io::Read as _;
use std::ops::Range;
use std::path::Path;

/// Longest message we print. A file with a 100 kB key must not produce a
/// 100 kB error line; the start is enough to recognise the mistake.
const MAX_MESSAGE_CHARS: usize = 500;

/// Why a file could not be turned into text.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    /// Bigger than the caller's limit; holds the size we saw.
    TooLarge(u64),
    /// Not a regular file (a FIFO, a device, a directory); names what it is.
    NotRegular(&'static str),
    /// Not UTF-8 (TOML must be); 1-based line and column of the first bad
    /// byte, and that byte.
    NotUtf8 {
        line: usize,
        col: usize,
        byte: u8,
    },
}

impl ReadError {
    /// One line, without the path (callers put the path in front).
    pub(crate) fn describe(&self, max: u64) -> String {
        match self {
            ReadError::Io(e) => one_line(&e.to_string()),
            ReadError::NotRegular(kind) => {
                format!("is {kind}, not a regular file; point orderdeck at a regular file")
            }
            ReadError::TooLarge(size) => format!(
                "file is {size} bytes, more than the {max} bytes allowed; is this the right file?"
            ),
            ReadError::NotUtf8 { byte, .. } => {
                format!("invalid UTF-8 (byte 0x{byte:02x}); TOML files must be saved as UTF-8 text")
            }
        }
    }
}

/// Reads a whole file as UTF-8 text, refusing files over `max` bytes so that
/// a wrong path (a log, a device) cannot make us allocate without bound.
///
/// Only regular files are read. Opening a FIFO blocks until a writer comes,
/// and reading a terminal or a FIFO blocks until it sends EOF: a config,
/// runbook, theme or draft path naming one hung orderdeck for good. So the
/// path is looked at first (a stat never blocks), and the opened file again
/// in case the path was swapped in between.
pub(crate) fn read_text(path: &Path, max: u64) -> Result<String, ReadError> {
    regular(&std::fs::metadata(path).map_err(ReadError::Io)?)?;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    regular(&file.metadata().map_err(ReadError::Io)?)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit: that is how we know it was exceeded
    // without trusting metadata (pipes and /proc files report size 0).
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        let size = std::fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64);
        return Err(ReadError::TooLarge(size.max(bytes.len() as u64)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let byte = bytes.get(good).copied().unwrap_or(0);
        // Everything before `good` is valid UTF-8, so the prefix converts.
        let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or("");
        let (line, col) = position(prefix, prefix.len());
        ReadError::NotUtf8 { line, col, byte }
    })
}

/// `Ok` for a regular file, else what the path is instead.
fn regular(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(ReadError::NotRegular("a FIFO (named pipe)"));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(ReadError::NotRegular("a device"));
        }
        if kind.is_socket() {
            return Err(ReadError::NotRegular("a socket"));
        }
    }
    Err(ReadError::NotRegular("an unknown kind of file"))
}

/// 1-based line and column (in characters) of byte `offset` in `src`.
/// Offsets past the end or inside a multi-byte character are clamped rather
/// than trusted, since they come from a parser's span.
pub(crate) fn position(src: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The path as we print it: escaped like any other outside text, because a
/// file name may contain newlines or escape sequences.
pub(crate) fn show_path(path: &Path) -> String {
    escape(&path.display().to_string())
}

/// `path:line:col` for byte `offset`, or just `path` when there is none.
pub(crate) fn location(path: &Path, src: &str, span: Option<Range<usize>>) -> String {
    match span {
        Some(span) => {
            let (line, col) = position(src, span.start);
            format!("{}:{line}:{col}", show_path(path))
        }
        None => show_path(path),
    }
}

/// The message of a TOML error, on one line, with a hint where the toml
/// crate's wording leaves the reader guessing. Errors without a span (rare:
/// serde errors raised outside any value) carry their key path only in
/// `Display`, so for those we flatten `Display` instead of losing the key.
pub(crate) fn message(err: &toml::de::Error, src: &str) -> String {
    let Some(span) = err.span() else {
        let text = err.to_string();
        let flat: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            // toml appends the key path as "in `a.b`"; make it one sentence.
            .map(|l| l.strip_prefix("in ").unwrap_or(l))
            .collect();
        return one_line(&flat.join(" in "));
    };
    let msg = err.message();
    let hint = if msg == "duplicate key" {
        // toml says which line, not which key.
        let key: String = src.get(span).unwrap_or("").chars().take(60).collect();
        format!(
            " `{}`: a key may appear only once per table; keep one",
            escape(key.trim())
        )
    } else {
        did_you_mean(msg)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default()
    };
    // Cut the crate's message, not our hint, so the hint survives a huge key.
    let main = one_line(msg);
    format!("{main}{hint}")
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the expected
/// name closest to `x` when it is close enough to be a typo.
fn did_you_mean(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once("`, expected ")?;
    if unknown.chars().count() > 64 {
        return None;
    }
    let unknown = unknown.to_ascii_lowercase();
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(&unknown, cand), cand))
        .filter(|(d, cand)| *d <= 2.max(cand.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, cand)| cand.to_string())
}

/// Levenshtein distance over characters; inputs are short key names.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Escapes what must not reach a terminal and cuts very long text.
pub(crate) fn one_line(s: &str) -> String {
    let escaped = escape(s);
    if escaped.chars().count() <= MAX_MESSAGE_CHARS {
        escaped
    } else {
        let cut: String = escaped.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    }
}

/// Control characters (C0, DEL, C1), line/paragraph separators and bidi
/// overrides are shown as `\u{..}` escapes: any of them could break the one
/// line, move the cursor, or reorder what the reader sees.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' // line / paragraph separators
                | '\u{200e}' | '\u{200f}' | '\u{061c}' // directional marks
                | '\u{202a}'..='\u{202e}' // embeddings and overrides
                | '\u{2066}'..='\u{2069}' // isolates
        )
}

/// Span of the value at `keys` (e.g. `["thresholds", "queue_ready_warn"]`),
/// used to give file:line:col for checks serde cannot do (a value compared
/// with another one). A key that is a number indexes an array, so
/// `["alerts", "log", "1", "name"]` is the second `[[alerts.log]]`'s name.
/// `None` when the key is not in the file, which happens for defaults; the
/// caller then reports the path alone.
pub(crate) fn locate(src: &str, keys: &[&str]) -> Option<Range<usize>> {
    use toml::Spanned;
    use toml::de::{DeTable, DeValue};
    fn in_table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }
    let doc = DeTable::parse(src).ok()?;
    let mut current: Option<&Spanned<DeValue>> = None;
    for key in keys {
        let next = match current.map(Spanned::get_ref) {
            None => in_table(doc.get_ref(), key),
            Some(DeValue::Table(t)) => in_table(t, key),
            Some(DeValue::Array(a)) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            Some(_) => None,
        }?;
        current = Some(next);
    }
    current.map(Spanned::span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(position(src, 0), (1, 1));
        assert_eq!(position(src, 6), (2, 1));
        // `=` on line 2 is after "bé " (3 chars, 4 bytes).
        assert_eq!(position(src, 6 + 4), (2, 4));
        // inside the two-byte é: clamped back to its start
        assert_eq!(position(src, 8), (2, 2));
        // past the end
        assert_eq!(position(src, 999), (3, 1));
    }

    #[test]
    fn escapes_control_and_bidi_and_cuts_long_text() {
        assert_eq!(escape("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        let long = "k".repeat(10_000);
        let cut = one_line(&long);
        assert!(cut.chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn errors_are_one_line_with_position() {
        let src = "a = 1\nb = = 2\n";
        let err = toml::from_str::<toml::Table>(src).expect_err("bad toml");
        let line = format!(
            "{}: {}",
            location(Path::new("/x/c.toml"), src, err.span()),
            message(&err, src)
        );
        assert!(line.starts_with("/x/c.toml:2:"), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn hints_for_typos_and_duplicates() {
        let msg = "unknown field `databse_url`, expected one of `database_url`, `amqp_url`";
        assert_eq!(did_you_mean(msg).as_deref(), Some("database_url"));
        assert_eq!(
            did_you_mean("unknown field `zzzzzz`, expected `ok`, `warn`"),
            None
        );
        assert_eq!(edit_distance("acent", "accent"), 1);
        let src = "clock = 1\nclock = 2\n";
        let err = toml::from_str::<toml::Table>(src).expect_err("duplicate");
        assert_eq!(
            message(&err, src),
            "duplicate key `clock`: a key may appear only once per table; keep one"
        );
    }

    #[test]
    fn locate_finds_nested_values() {
        let src = "[thresholds]\nqueue_ready_warn = 5\n";
        let span = locate(src, &["thresholds", "queue_ready_warn"]).expect("found");
        assert_eq!(&src[span], "5");
        assert_eq!(locate(src, &["thresholds", "nope"]), None);
        assert_eq!(locate("x = = 1", &["x"]), None);
        let src = "[[a.log]]\nname = \"x\"\n[[a.log]]\nname = \"y\"\n";
        let span = locate(src, &["a", "log", "1", "name"]).expect("found");
        assert_eq!(
            (&src[span.clone()], position(src, span.start)),
            ("\"y\"", (4, 8))
        );
        assert_eq!(locate(src, &["a", "log", "2", "name"]), None);
        assert_eq!(locate(src, &["a", "log", "first"]), None);
    }
}
