//! A log alert rule on arbitrary log bytes, end to end: any expression text
//! parses or says why on one printable line; a parsed one prints in a form
//! that parses back to itself; a real `LogWatch` following a file that
//! gets the fuzzer's bytes counts exactly the complete lines the
//! expression holds for (counted here by an oracle written apart from the
//! matcher: each term a substring test, lines split at `\n`, a trailing
//! `\r` dropped, cut at `MAX_LINE_BYTES`, read lossily), with case ignored
//! exactly when the rule says so; and the alert it raises is one printable
//! line.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use orderdeck::alerts::expr::Expr;
use orderdeck::alerts::log::{LogStatus, log_alerts};
use orderdeck::config::LogExpr;
use orderdeck::sources::logtail::{LogWatch, MAX_LINE_BYTES, TailRule};
use std::io::Write as _;
use std::sync::OnceLock;

#[derive(Debug)]
struct Input {
    expr: String,
    ignore_case: bool,
    /// What the application appends to its log, raw.
    body: Vec<u8>,
}

impl Input {
    fn from(u: &mut Unstructured) -> Result<Input> {
        Ok(Input {
            expr: u.arbitrary()?,
            ignore_case: u.arbitrary()?,
            body: u.arbitrary()?,
        })
    }
}

fn holds(e: &Expr, line: &str) -> bool {
    match e {
        Expr::Term(t) => line.find(t.as_str()).is_some(),
        Expr::Not(inner) => !holds(inner, line),
        Expr::And(items) => items.iter().fold(true, |acc, i| acc & holds(i, line)),
        Expr::Or(items) => items.iter().fold(false, |acc, i| acc | holds(i, line)),
    }
}

/// The complete lines of `body` as a tail hands them over.
fn lines(body: &[u8]) -> Vec<String> {
    let mut parts: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
    parts.pop(); // no newline after it yet: not a line
    parts
        .into_iter()
        .map(|l| {
            let l = &l[..l.len().min(MAX_LINE_BYTES)];
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            String::from_utf8_lossy(l).into_owned()
        })
        .collect()
}

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

fn printable_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::from(&mut Unstructured::new(data)) else {
        return;
    };
    let expr = match LogExpr::try_from(input.expr.clone()) {
        Ok(e) => e,
        Err(msg) => {
            assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
            return;
        }
    };
    let printed = expr.expr.to_string();
    assert_eq!(Expr::parse(&printed).as_ref(), Ok(&expr.expr), "{printed}");

    let path = dir().path().join("app.log");
    std::fs::write(&path, b"").expect("create the log");
    let rule = orderdeck::config::LogRule {
        file: path.clone(),
        expr,
        ignore_case: input.ignore_case,
        ..orderdeck::fixtures::log_rule("fuzzed", r#""x""#)
    };
    let mut watch = LogWatch::new(&path, vec![TailRule::new(&rule)]);
    let first = watch.step(0).expect("the first step always reports");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open the log");
    f.write_all(&input.body).expect("append");
    drop(f);
    // No report means nothing changed since the first one (it reports on
    // change only).
    let report = watch.step(1).unwrap_or(first);
    assert_eq!(report.problem, None);

    let (oracle_expr, fold): (Expr, fn(&str) -> String) = if input.ignore_case {
        (rule.expr.expr.lowercased(), str::to_lowercase)
    } else {
        (rule.expr.expr.clone(), str::to_string)
    };
    let want = lines(&input.body)
        .iter()
        .filter(|l| holds(&oracle_expr, &fold(l)))
        .count();
    let count = &report.counts[0];
    assert_eq!(count.per_minute as usize, want, "{printed}");
    assert_eq!(count.last_match.is_some(), want > 0);
    if let Some(last) = &count.last_match {
        assert!(printable_line(last), "{last:?}");
    }
    let mut firings = Vec::new();
    log_alerts(&rule, &LogStatus::from_report(&report, count), &mut firings);
    assert_eq!(firings.is_empty(), want == 0, "threshold is one a minute");
    for f in firings {
        assert!(printable_line(&f.message), "{:?}", f.message);
    }
});
