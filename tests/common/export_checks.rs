//! The properties every postmortem export must have, shared by the bounded
//! property tests (`tests/properties.rs`) and the `export`/`draft` fuzz
//! targets (`fuzz/`, which include this file by path). Each check returns
//! what is wrong, so both harnesses can report it their own way.
#![allow(dead_code)]

use orderdeck::postmortem::export::{self, Format};
use orderdeck::postmortem::model::Draft;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// No C0, DEL or C1 control in an export but line breaks and tabs: exports
/// are pasted into wikis and terminals.
pub fn no_control(format: Format, text: &str) -> Result<(), String> {
    match text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        Some((i, c)) => Err(format!("{format:?}: control {c:?} at byte {i}")),
        None => Ok(()),
    }
}

/// The storage export, wrapped in a root that declares Confluence's
/// prefixes, parses as XML.
pub fn well_formed_xml(text: &str) -> Result<(), String> {
    let doc = format!(
        "<root xmlns:ac=\"http://atlassian.com/content\" xmlns:ri=\"http://atlassian.com/resource/identifier\">{text}</root>"
    );
    roxmltree::Document::parse(&doc)
        .map(|_| ())
        .map_err(|e| format!("storage export is not XML: {e}"))
}

/// A table as a Markdown reader sees it: header cells and rows of cell text.
#[derive(Debug, Default)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Every GFM table in `md`, with each cell's text as pulldown-cmark reads it.
pub fn tables(md: &str) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::new();
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Table(_)) => out.push(Table::default()),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => row = Some(Vec::new()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let (Some(r), Some(c)) = (row.as_mut(), cell.take()) {
                    r.push(c);
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let (Some(t), Some(r)) = (out.last_mut(), row.take()) {
                    t.head = r;
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let (Some(t), Some(r)) = (out.last_mut(), row.take()) {
                    t.rows.push(r);
                }
            }
            _ => {}
        }
    }
    out
}

/// What a cell must read back as, written here rather than taken from the
/// exporter (an oracle built from the code under test agrees with its
/// bugs): controls shown as spaces, every run of whitespace one space,
/// trimmed (a reader trims cells), and bidi and invisible characters shown
/// escaped as `\u{202e}`.
pub fn cell_text(s: &str) -> String {
    let mut shown = String::new();
    for c in s.chars() {
        match c {
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FFF9}'..='\u{FFFC}' => shown.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c if c.is_control() => shown.push(' '),
            c => shown.push(c),
        }
    }
    let mut out = String::new();
    for word in shown.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[test]
fn cell_text_oracle_reads_as_written() {
    assert_eq!(cell_text("  a\n\tb\x1b[2J  c "), "a b [2J c");
    assert_eq!(cell_text("gpj\u{202e}.exe"), "gpj\\u{202e}.exe");
    assert_eq!(cell_text("zero\u{200b}width"), "zero\\u{200b}width");
}

/// The Markdown export has exactly its four tables, every row with the
/// header's column count, and the timeline's and action items' text in the
/// columns it was written to: no `|`, newline or markup in a field can add,
/// drop or shift a column, or a row.
pub fn markdown_tables(d: &Draft, md: &str) -> Result<(), String> {
    let found = tables(md);
    let want_rows = [8, 7, d.timeline.len(), d.actions.len()];
    let want_cols = [2, 2, 3, 9];
    if found.len() != 4 {
        return Err(format!("want 4 tables, found {}", found.len()));
    }
    for (i, t) in found.iter().enumerate() {
        if t.head.len() != want_cols[i] {
            return Err(format!("table {i}: header has {} columns", t.head.len()));
        }
        if t.rows.len() != want_rows[i] {
            return Err(format!(
                "table {i}: {} rows, want {}",
                t.rows.len(),
                want_rows[i]
            ));
        }
        if let Some(r) = t.rows.iter().find(|r| r.len() != t.head.len()) {
            return Err(format!(
                "table {i}: row {r:?} has not {} cells",
                t.head.len()
            ));
        }
    }
    for (row, r) in found[2].rows.iter().zip(&d.timeline) {
        let want = [cell_text(&r.source), cell_text(&r.what)];
        if row[1..] != want {
            return Err(format!("timeline row {row:?}, want {want:?}"));
        }
    }
    for (row, a) in found[3].rows.iter().zip(&d.actions) {
        let want = [cell_text(&a.what), cell_text(&a.owner)];
        if row[2..4] != want || row[6] != cell_text(&a.ticket) {
            return Err(format!(
                "action row {row:?}, want {want:?} and ticket {:?}",
                a.ticket
            ));
        }
    }
    Ok(())
}

/// Every property of every export of `d`.
pub fn all_exports(d: &Draft) -> Result<(), String> {
    for format in [
        Format::Markdown,
        Format::ConfluenceStorage,
        Format::ConfluenceWiki,
    ] {
        let text = export::render(d, format);
        no_control(format, &text)?;
        match format {
            Format::Markdown => markdown_tables(d, &text)?,
            Format::ConfluenceStorage => well_formed_xml(&text)?,
            Format::ConfluenceWiki => {}
        }
    }
    Ok(())
}
