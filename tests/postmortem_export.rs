//! Exports from a full draft full of hostile text: golden files for the
//! three formats, plus parsers that prove the output is what it claims.

use chrono::{NaiveDate, TimeZone, Utc};
use orderdeck::postmortem::export::{Format, render};
use orderdeck::postmortem::model::*;
use std::path::Path;

const HOSTILE: &str = "a | pipe, a \\ backslash, ]]> cdata end, <script>alert(1)</script>, {braces} [brackets] *stars* _under_ `tick` & amp";

fn full_draft() -> Draft {
    let t = |h, m| {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .single()
            .unwrap_or_default()
    };
    let mut d = Draft::new("PM-20261126-061500".into(), t(6, 15));
    d.title = format!("结算队列积压 settlement backlog | {HOSTILE}");
    d.severity = Severity::Sev1;
    d.status = Status::InReview;
    d.owner = "oncall | 张伟".into();
    d.started_at = Some(t(6, 15));
    d.detected_at = Some(t(6, 21));
    d.mitigated_at = Some(t(6, 40));
    d.resolved_at = Some(t(7, 55));
    d.summary = format!(
        "First line.\nSecond line: {HOSTILE}\n\n- not a list\n1. not ordered\n# not a heading"
    );
    d.impact.ghost_orders = 12;
    d.impact.split_orders = 340;
    d.impact.zombie_orders = 3;
    d.impact.amount_stuck_cents = 123_456_789;
    d.impact.currency = "CNY".into();
    d.impact.customers_affected = Some(310);
    d.impact.sla_breaches = "2 suppliers\npaid late | 迟付".into();
    d.impact.notes = "Notes with ]]> and <b>bold</b>.".into();
    d.detection.how = "settlement.dlq alert".into();
    d.detection.halve_it = "alert on consumer count 0\nwithin 1 minute".into();
    d.timeline = vec![
        TimelineRow {
            at: t(6, 15),
            source: "cockpit".into(),
            what: "first anomaly seen".into(),
        },
        TimelineRow {
            at: t(6, 21),
            source: "alert | broker".into(),
            what: format!("line one\nline two {HOSTILE}"),
        },
        TimelineRow {
            at: t(6, 40),
            source: "ops".into(),
            what: "requeue queue settlement.dlq: ok, 340 affected 🚀".into(),
        },
    ];
    let a = d.add_root_why("Settlement orders stuck | 结算卡住".into());
    let b = d.add_child_why(a).unwrap_or_default();
    let c = d.add_child_why(b).unwrap_or_default();
    let e = d.add_sibling_why(c).unwrap_or_default();
    for (id, answer, evidence, cat) in [
        (
            b,
            "The settlement consumer was down",
            "SELECT count(*) FROM orders WHERE status = 'shipped' -- ]]> \\ |",
            Category::Dependency,
        ),
        (
            c,
            format!("Its certificate expired: {HOSTILE}").as_str(),
            "log: ERROR cert expired\nsecond line",
            Category::Config,
        ),
        (
            e,
            "Nobody was alerted on zero consumers",
            "",
            Category::Monitoring,
        ),
    ] {
        if let Some(w) = d.why_mut(id) {
            w.answer = answer.to_string();
            w.evidence = evidence.to_string();
            w.category = cat;
            w.confidence = Confidence::High;
        }
    }
    d.root_cause = format!("Certificate expiry untracked.\n{HOSTILE}");
    d.contributing = "Backlog alert threshold too high".into();
    d.went_well = "Requeue was one key".into();
    d.went_wrong = "Six minutes to notice".into();
    d.lucky = "Low traffic hour".into();
    d.actions = vec![
        ActionItem {
            what: format!("Alert on zero consumers | {HOSTILE}"),
            kind: ActionKind::Detect,
            owner: "platform".into(),
            due: NaiveDate::from_ymd_opt(2026, 12, 10),
            priority: Priority::P1,
            ticket: "OPS-1 | x".into(),
            status: ActionStatus::Open,
            answers: Some(e),
        },
        ActionItem {
            what: "Track certificate expiry\nin the runbook".into(),
            kind: ActionKind::Prevent,
            owner: String::new(),
            due: None,
            priority: Priority::P2,
            ticket: String::new(),
            status: ActionStatus::Done,
            answers: Some(c),
        },
    ];
    d.runbook_updates = "Add `cert check` step {code}".into();
    d
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    // Only on request: a golden written because it was missing would make
    // the test pass on whatever the exporter produces today.
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!(
            "golden file {} cannot be read ({e}): it is part of the test; restore it from git, or create it with UPDATE_GOLDEN=1 and review it before committing",
            path.display()
        ),
    };
    assert_eq!(
        actual,
        expected,
        "{} differs; rerun with UPDATE_GOLDEN=1 and review",
        path.display()
    );
}

#[test]
fn markdown_golden_and_every_table_keeps_its_columns() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let md = render(&full_draft(), Format::Markdown);
    golden("postmortem.md", &md);
    let mut tables = 0;
    let mut cols: Option<usize> = None;
    let mut cells = 0;
    let mut html = 0;
    let mut lists = 0;
    let mut depth = 0usize;
    let mut max_depth = 0;
    for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Table(align)) => {
                tables += 1;
                cols = Some(align.len());
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => cells = 0,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                assert_eq!(Some(cells), cols, "a row lost or gained a column");
            }
            Event::Html(_) | Event::InlineHtml(_) => html += 1,
            Event::Start(Tag::List(_)) => {
                lists += 1;
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            Event::End(TagEnd::List(_)) => depth -= 1,
            _ => {}
        }
    }
    assert_eq!(tables, 4, "header, impact, timeline, actions");
    assert_eq!(html, 0, "no raw HTML");
    assert_eq!(
        max_depth, 3,
        "the why-tree is nested lists, and nothing else is a list"
    );
    assert!(lists >= 3);
    // The hostile text survives as text.
    let text: String = Parser::new_ext(&md, Options::ENABLE_TABLES)
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .collect();
    assert!(text.contains("<script>alert(1)</script>"));
    assert!(text.contains("a | pipe, a \\ backslash"));
    assert!(text.contains("结算卡住"));
}

#[test]
fn storage_golden_is_well_formed_xml_with_lozenges_times_tasks_and_code() {
    let xml = render(&full_draft(), Format::ConfluenceStorage);
    golden("postmortem.storage.xml", &xml);
    let wrapped = format!(
        "<root xmlns:ac=\"http://atlassian.com/content\" xmlns:ri=\"http://atlassian.com/resource/identifier\">{xml}</root>"
    );
    let doc = roxmltree::Document::parse(&wrapped).expect("storage format is well-formed XML");
    let named = |n: &'static str| doc.descendants().filter(move |e| e.tag_name().name() == n);
    assert_eq!(named("script").count(), 0, "hostile markup stays text");
    let macros: Vec<String> = named("structured-macro")
        .filter_map(|e| {
            e.attributes()
                .find(|a| a.name() == "name")
                .map(|a| a.value().to_string())
        })
        .collect();
    assert_eq!(macros.iter().filter(|m| *m == "status").count(), 2);
    assert_eq!(
        macros.iter().filter(|m| *m == "code").count(),
        2,
        "one per why with evidence"
    );
    assert_eq!(named("task").count(), 2);
    assert!(named("time").count() >= 5);
    // CDATA split keeps the evidence byte for byte.
    let code: Vec<String> = named("plain-text-body")
        .map(|e| e.text().unwrap_or("").to_string())
        .collect();
    assert!(code.iter().any(|c| c.contains("-- ]]> \\ |")), "{code:?}");
    let all_text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(all_text.contains("<script>alert(1)</script>"));
}

#[test]
fn wiki_golden_escapes_markup_characters() {
    let wiki = render(&full_draft(), Format::ConfluenceWiki);
    golden("postmortem.wiki", &wiki);
    assert!(wiki.contains("a \\| pipe"));
    assert!(wiki.contains("\\{braces\\} \\[brackets\\]"));
    assert!(wiki.contains("&#92; backslash"));
    assert!(wiki.contains("{status:colour=Red|title=SEV1}"));
    // Every table row has as many cells as its header.
    let mut width = 0;
    for line in wiki.lines() {
        if let Some(h) = line.strip_prefix("||") {
            width = h.trim_end_matches("||").split("||").count();
        } else if line.starts_with('|') {
            let cells = split_unescaped(line);
            assert_eq!(cells, width, "row {line:?}");
        }
    }
}

/// Cells in a wiki row: pipes not escaped with a backslash and not inside
/// a macro's braces (the status lozenge's parameters), minus the ends.
fn split_unescaped(line: &str) -> usize {
    let mut n = 0;
    let mut prev = ' ';
    let mut in_macro = false;
    for c in line.chars() {
        match c {
            '{' if prev != '\\' => in_macro = true,
            '}' if prev != '\\' => in_macro = false,
            '|' if prev != '\\' && !in_macro => n += 1,
            _ => {}
        }
        prev = c;
    }
    n - 1
}

/// Text that would drive a terminal or a wiki when pasted in: the title
/// carries ESC and BEL, fields carry U+202E and wiki block markup at the
/// start of lines.
fn markup_draft() -> Draft {
    let mut d = Draft::new("PM-7".into(), Utc::now());
    d.title = "\u{1b}]0;pwned\u{7} invoice gpj\u{202e}.exe".into();
    d.summary = "h1. not a heading\nbq. not a quote\n----\n* not a list\n# not a list\nh6. nor this\n  h3. indented".into();
    let w = d.add_root_why("cause \u{2067}hidden\u{2069} here".into());
    if let Some(why) = d.why_mut(w) {
        why.evidence = "log \u{202e}line".into();
    }
    d.timeline.push(TimelineRow {
        at: Utc::now(),
        source: "ops".into(),
        what: "swap \u{202d}this\u{200b}".into(),
    });
    d
}

#[test]
fn the_title_goes_out_without_escape_sequences() {
    use orderdeck::postmortem::export::title;
    let d = markup_draft();
    assert_eq!(title(&d), "PM-7: ]0;pwned invoice gpj\\u{202e}.exe");
    let target = orderdeck::postmortem::publish::Target {
        base: "https://wiki.example.com".into(),
        flavor: orderdeck::postmortem::publish::Flavor::DataCenter,
        user: None,
        token: "t".into(),
        space: Some("OPS".into()),
        parent: None,
    };
    let req = orderdeck::postmortem::publish::page_request(&d, &target, None).expect("request");
    let sent = req.body.expect("body")["title"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(sent, "PM-7: ]0;pwned invoice gpj\\u{202e}.exe");
}

#[test]
fn bidi_controls_are_shown_escaped_in_every_export() {
    let d = markup_draft();
    for format in [
        Format::Markdown,
        Format::ConfluenceStorage,
        Format::ConfluenceWiki,
    ] {
        let text = render(&d, format);
        for c in ['\u{202e}', '\u{2067}', '\u{2069}', '\u{202d}', '\u{200b}'] {
            assert!(!text.contains(c), "{format:?}: raw {c:?} in\n{text}");
        }
        let shown = match format {
            // Markdown escapes the backslash and braces; wiki writes the
            // backslash as an entity and escapes the braces.
            Format::Markdown => "\\\\u\\{202e\\}",
            Format::ConfluenceStorage => "\\u{202e}",
            Format::ConfluenceWiki => "&#92;u\\{202e\\}",
        };
        assert!(text.contains(shown), "{format:?}: {shown} in\n{text}");
    }
}

#[test]
fn wiki_block_markup_at_the_start_of_a_line_stays_text() {
    let wiki = render(&markup_draft(), Format::ConfluenceWiki);
    let summary: Vec<&str> = wiki
        .split("h2. Summary\n\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\nh2. ").next())
        .expect("summary section")
        .split("\\\\\n")
        .collect();
    assert_eq!(
        summary,
        [
            "&#104;1. not a heading",
            "&#98;q. not a quote",
            "\\-\\-\\-\\-",
            "\\* not a list",
            "\\# not a list",
            "&#104;6. nor this",
            "&#104;3. indented",
        ]
    );
}
