//! Keyword expressions for log alert rules, in the form teams already write
//! in their log platforms: `"ERROR" AND ("order_timeout" OR "inventory_rollback")`.
//!
//! Grammar (keywords in any case, printed upper case):
//!
//! ```text
//! or      := and ("OR" and)*
//! and     := not ("AND" not)*
//! not     := "NOT" not | primary
//! primary := QUOTED | "(" or ")"
//! ```
//!
//! so `NOT` binds tighter than `AND`, and `AND` tighter than `OR`. A term is
//! double-quoted (`\"` and `\\` are its only escapes) and matches as a
//! substring. Terms are always quoted, so a bare word is an error rather than
//! a guess: `ERROR AND x` is far more likely a missing quote than a keyword.

use crate::sanitize::sanitize_capped;
use std::fmt;

/// Nesting (parentheses and `NOT`) deeper than this is refused: no real rule
/// needs it, and it bounds the recursion of parsing, matching and printing.
pub const MAX_DEPTH: usize = 32;

/// A parsed expression, in a normal form: `And` and `Or` hold at least two
/// items and never an item of their own kind (`"a" AND ("b" AND "c")` is
/// the same three-way `And` as `"a" AND "b" AND "c"`). The normal form makes
/// printing and re-parsing give back the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// Parses `src`; the error says where (1-based character column) and
    /// what was expected there.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        let tokens = tokenize(src)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            open: Vec::new(),
        };
        let expr = p.or(0)?;
        match p.peek() {
            (Tok::End, _) => Ok(expr),
            (tok, col) => Err(ExprError::new(
                col,
                format!("expected AND, OR or end of expression at col {col}, found {tok}"),
            )),
        }
    }

    /// Whether `line` satisfies the expression (terms match as substrings).
    pub fn matches(&self, line: &str) -> bool {
        match self {
            Expr::Term(t) => line.contains(t.as_str()),
            Expr::Not(e) => !e.matches(line),
            Expr::And(items) => items.iter().all(|e| e.matches(line)),
            Expr::Or(items) => items.iter().any(|e| e.matches(line)),
        }
    }

    /// The same expression with every term lower-cased, for rules that
    /// ignore case (the line is lower-cased once and matched against this).
    pub fn lowercased(&self) -> Expr {
        match self {
            Expr::Term(t) => Expr::Term(t.to_lowercase()),
            Expr::Not(e) => Expr::Not(Box::new(e.lowercased())),
            Expr::And(items) => Expr::And(items.iter().map(Expr::lowercased).collect()),
            Expr::Or(items) => Expr::Or(items.iter().map(Expr::lowercased).collect()),
        }
    }

    /// `a AND b`, flattened into the normal form.
    pub fn and(a: Expr, b: Expr) -> Expr {
        join(a, b, Expr::And, |e| match e {
            Expr::And(items) => Ok(items),
            other => Err(other),
        })
    }

    /// `a OR b`, flattened into the normal form.
    pub fn or(a: Expr, b: Expr) -> Expr {
        join(a, b, Expr::Or, |e| match e {
            Expr::Or(items) => Ok(items),
            other => Err(other),
        })
    }
}

fn join(
    a: Expr,
    b: Expr,
    make: fn(Vec<Expr>) -> Expr,
    split: fn(Expr) -> Result<Vec<Expr>, Expr>,
) -> Expr {
    let mut items = Vec::new();
    for e in [a, b] {
        match split(e) {
            Ok(inner) => items.extend(inner),
            Err(single) => items.push(single),
        }
    }
    make(items)
}

/// Prints the canonical form: quoted terms, upper-case keywords, and only
/// the parentheses precedence needs. `Expr::parse` reads it back unchanged.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => {
                f.write_str("\"")?;
                for c in t.chars() {
                    if matches!(c, '"' | '\\') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Expr::Not(e) => match **e {
                Expr::And(_) | Expr::Or(_) => write!(f, "NOT ({e})"),
                _ => write!(f, "NOT {e}"),
            },
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    match e {
                        Expr::Or(_) => write!(f, "({e})")?,
                        _ => write!(f, "{e}")?,
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why an expression does not parse. `Display` is one line ending in the
/// column, e.g. `expected a quoted term or '(' at col 12 (end of expression)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// 1-based character column in the expression.
    pub col: usize,
    pub message: String,
}

impl ExprError {
    fn new(col: usize, message: String) -> Self {
        ExprError { col, message }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Term(String),
    /// A bare word that is not a keyword: almost always a forgotten quote.
    Word(String),
    And,
    Or,
    Not,
    Open,
    Close,
    End,
}

/// How a token is named in "found ..." (outside text shown escaped and short).
impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Term(t) => write!(f, "the term \"{}\"", sanitize_capped(t, 24)),
            Tok::Word(w) => write!(f, "`{}`", sanitize_capped(w, 24)),
            Tok::And => f.write_str("AND"),
            Tok::Or => f.write_str("OR"),
            Tok::Not => f.write_str("NOT"),
            Tok::Open => f.write_str("'('"),
            Tok::Close => f.write_str("')'"),
            Tok::End => f.write_str("the end of the expression"),
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let mut out = Vec::new();
    let mut chars = src.chars().zip(1usize..).peekable();
    while let Some((c, col)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push((Tok::Open, col)),
            ')' => out.push((Tok::Close, col)),
            '"' => {
                let mut term = String::new();
                let mut closed = false;
                while let Some((c, at)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((e @ ('"' | '\\'), _)) => term.push(e),
                            Some((other, _)) => {
                                return Err(ExprError::new(
                                    at,
                                    format!(
                                        "unknown escape \\{} at col {at}: inside quotes only \\\" and \\\\ are escapes",
                                        sanitize_capped(&other.to_string(), 12)
                                    ),
                                ));
                            }
                            None => break,
                        },
                        c => term.push(c),
                    }
                }
                if !closed {
                    return Err(ExprError::new(
                        col,
                        format!("unterminated quoted term starting at col {col}: close it with \""),
                    ));
                }
                if term.is_empty() {
                    return Err(ExprError::new(
                        col,
                        format!(
                            "empty quoted term at col {col} would match every line: put text in it or remove it"
                        ),
                    ));
                }
                out.push((Tok::Term(term), col));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&(c, _)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                let tok = match word.to_ascii_uppercase().as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => Tok::Word(word),
                };
                out.push((tok, col));
            }
        }
    }
    // The end is one past the last character: where the missing piece goes.
    out.push((Tok::End, src.chars().count() + 1));
    Ok(out)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    /// Columns of the '(' still open, for "not closed" messages.
    open: Vec<usize>,
}

impl Parser {
    fn peek(&self) -> (Tok, usize) {
        // `tokenize` always ends the list with `End`, and `bump` never moves
        // past it, so the fallback is never used; it keeps this panic-free.
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .cloned()
            .unwrap_or((Tok::End, 1))
    }

    fn bump(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut e = self.and(depth)?;
        while self.peek().0 == Tok::Or {
            self.bump();
            e = Expr::or(e, self.and(depth)?);
        }
        Ok(e)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let mut e = self.not(depth)?;
        while self.peek().0 == Tok::And {
            self.bump();
            e = Expr::and(e, self.not(depth)?);
        }
        Ok(e)
    }

    fn not(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let (tok, col) = self.peek();
        if tok != Tok::Not {
            return self.primary(depth);
        }
        let depth = self.deeper(depth, col)?;
        self.bump();
        Ok(Expr::Not(Box::new(self.not(depth)?)))
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let (tok, col) = self.peek();
        match tok {
            Tok::Term(t) => {
                self.bump();
                Ok(Expr::Term(t))
            }
            Tok::Open => {
                let depth = self.deeper(depth, col)?;
                self.bump();
                self.open.push(col);
                let e = self.or(depth)?;
                match self.peek() {
                    (Tok::Close, _) => {
                        self.bump();
                        self.open.pop();
                        Ok(e)
                    }
                    (Tok::End, at) => Err(ExprError::new(
                        at,
                        format!(
                            "expected AND, OR or ')' at col {at} (end of expression): the '(' at col {col} is not closed"
                        ),
                    )),
                    (tok, at) => Err(ExprError::new(
                        at,
                        format!("expected AND, OR or ')' at col {at}, found {tok}"),
                    )),
                }
            }
            Tok::Word(w) => Err(ExprError::new(
                col,
                format!(
                    "expected a quoted term or '(' at col {col}, found {}: put terms in double quotes, e.g. \"{}\"",
                    Tok::Word(w.clone()),
                    sanitize_capped(&w, 24)
                ),
            )),
            Tok::End if self.tokens.len() == 1 => Err(ExprError::new(
                1,
                "expected a quoted term or '(' at col 1: the expression is empty".into(),
            )),
            Tok::End => Err(ExprError::new(
                col,
                format!("expected a quoted term or '(' at col {col} (end of expression)"),
            )),
            tok => Err(ExprError::new(
                col,
                format!("expected a quoted term or '(' at col {col}, found {tok}"),
            )),
        }
    }

    fn deeper(&self, depth: usize, col: usize) -> Result<usize, ExprError> {
        if depth >= MAX_DEPTH {
            return Err(ExprError::new(
                col,
                format!(
                    "nested deeper than {MAX_DEPTH} levels at col {col}: simplify the expression"
                ),
            ));
        }
        Ok(depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn term(s: &str) -> Expr {
        Expr::Term(s.into())
    }

    fn parse_ok(s: &str) -> Expr {
        Expr::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn parse_err(s: &str) -> String {
        match Expr::parse(s) {
            Ok(e) => panic!("{s}: accepted as {e:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_field_practice_rule_parses_and_matches() {
        let e = parse_ok(r#""ERROR" AND ("order_timeout" OR "inventory_rollback")"#);
        assert_eq!(
            e,
            Expr::And(vec![
                term("ERROR"),
                Expr::Or(vec![term("order_timeout"), term("inventory_rollback")]),
            ])
        );
        assert!(e.matches("2026-11-25 ERROR order_timeout order=CO1"));
        assert!(e.matches("ERROR inventory_rollback sku=SKU-1"));
        assert!(!e.matches("WARN order_timeout"));
        assert!(!e.matches("ERROR payment declined"));
        assert!(!e.matches("error order_timeout"), "case-sensitive");
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(
            parse_ok(r#""a" OR "b" AND NOT "c""#),
            Expr::Or(vec![
                term("a"),
                Expr::And(vec![term("b"), Expr::Not(Box::new(term("c")))]),
            ])
        );
        assert_eq!(
            parse_ok(r#"NOT "a" AND "b""#),
            Expr::And(vec![Expr::Not(Box::new(term("a"))), term("b")])
        );
        let e = parse_ok(r#""ERROR" AND NOT "healthcheck""#);
        assert!(e.matches("ERROR db down"));
        assert!(!e.matches("ERROR healthcheck flaky"));
    }

    #[test]
    fn keywords_in_any_case_and_groups_flatten() {
        assert_eq!(
            parse_ok(r#""a" and ("b" and "c") Or not("d")"#),
            Expr::Or(vec![
                Expr::And(vec![term("a"), term("b"), term("c")]),
                Expr::Not(Box::new(term("d"))),
            ])
        );
        assert_eq!(parse_ok(r#"(("x"))"#), term("x"));
    }

    #[test]
    fn escapes_inside_quotes() {
        assert_eq!(parse_ok(r#""say \"hi\" \\o/""#), term(r#"say "hi" \o/"#));
        assert_eq!(term(r#"a"b\c"#).to_string(), r#""a\"b\\c""#);
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        let cases = [
            (
                r#""ERROR" AND ("#,
                14,
                "expected a quoted term or '(' at col 14 (end of expression)",
            ),
            (
                r#""ERROR" AND"#,
                12,
                "expected a quoted term or '(' at col 12 (end of expression)",
            ),
            (
                r#"ERROR AND "x""#,
                1,
                "expected a quoted term or '(' at col 1, found `ERROR`: put terms in double quotes, e.g. \"ERROR\"",
            ),
            (
                r#""a" "b""#,
                5,
                "expected AND, OR or end of expression at col 5, found the term \"b\"",
            ),
            (
                r#"("a" OR "b""#,
                12,
                "expected AND, OR or ')' at col 12 (end of expression): the '(' at col 1 is not closed",
            ),
            (
                r#""a")"#,
                4,
                "expected AND, OR or end of expression at col 4, found ')'",
            ),
            (
                r#""a" AND OR "b""#,
                9,
                "expected a quoted term or '(' at col 9, found OR",
            ),
            (
                r#""a" AND "oops"#,
                9,
                "unterminated quoted term starting at col 9: close it with \"",
            ),
            (
                r#""a\n""#,
                3,
                "unknown escape \\n at col 3: inside quotes only \\\" and \\\\ are escapes",
            ),
            (
                r#""a" OR """#,
                8,
                "empty quoted term at col 8 would match every line: put text in it or remove it",
            ),
            (
                "   ",
                1,
                "expected a quoted term or '(' at col 1: the expression is empty",
            ),
            (
                "",
                1,
                "expected a quoted term or '(' at col 1: the expression is empty",
            ),
        ];
        for (src, col, want) in cases {
            let e = Expr::parse(src).expect_err(src);
            assert_eq!((e.col, e.message.as_str()), (col, want), "{src}");
        }
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let e = parse_err(r#""订单" AND x"#);
        assert!(e.contains("at col 10"), "{e}");
    }

    #[test]
    fn hostile_words_are_shown_escaped() {
        let e = parse_err("\u{1b}[2J AND \"x\"");
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert!(e.contains("\\x1b[2J"), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}\"x\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse_ok(&ok), term("x"));
        let deep = format!("{}\"x\"", "(".repeat(MAX_DEPTH + 1));
        assert!(parse_err(&deep).starts_with("nested deeper than 32 levels at col 33"));
        let nots = format!("{}\"x\"", "NOT ".repeat(MAX_DEPTH + 1));
        assert!(parse_err(&nots).starts_with("nested deeper than"));
        // Long flat chains are not nesting and stay fine.
        let wide = vec!["\"x\""; 5000].join(" OR ");
        assert!(matches!(parse_ok(&wide), Expr::Or(items) if items.len() == 5000));
    }

    #[test]
    fn lowercased_terms_for_case_insensitive_rules() {
        let e = parse_ok(r#""ERROR" AND NOT "Health""#).lowercased();
        assert!(e.matches(&"Error: DB down".to_lowercase()));
        assert!(!e.matches(&"ERROR health".to_lowercase()));
    }

    fn arb_expr() -> impl Strategy<Value = Expr> {
        let leaf = "[a-zA-Z0-9_ ()\"\\\\.:=-]{1,8}".prop_map(Expr::Term);
        leaf.prop_recursive(6, 48, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::and(a, b)),
                (inner.clone(), inner).prop_map(|(a, b)| Expr::or(a, b)),
            ]
        })
    }

    /// Pieces that reach every branch of the parser far more often than
    /// random characters would.
    const PIECES: &[&str] = &[
        "\"ERROR\"",
        "\"a b\"",
        "\"\\\"\"",
        "\"\\\\\"",
        "\"",
        "\\",
        "AND",
        "OR",
        "NOT",
        "and",
        "(",
        ")",
        " ",
        "ERROR",
        "\"\"",
        "\u{1b}",
        "订单",
        "\"x\\q\"",
    ];

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_expression(e in arb_expr()) {
            let printed = e.to_string();
            prop_assert_eq!(Expr::parse(&printed), Ok(e), "{}", printed);
        }

        #[test]
        fn parser_never_panics_and_errors_point_inside(s in "\\PC{0,60}|.{0,60}") {
            check_any(&s)?;
        }

        #[test]
        fn parser_never_panics_on_token_soup(
            parts in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
        ) {
            check_any(&parts.join(" "))?;
            check_any(&parts.concat())?;
        }

        #[test]
        fn not_and_or_mean_what_they_say(a in arb_expr(), b in arb_expr(), line in "[a-zA-Z0-9_ ()\"\\\\.:=-]{0,30}") {
            prop_assert_eq!(Expr::Not(Box::new(a.clone())).matches(&line), !a.matches(&line));
            prop_assert_eq!(Expr::and(a.clone(), b.clone()).matches(&line), a.matches(&line) && b.matches(&line));
            prop_assert_eq!(Expr::or(a.clone(), b.clone()).matches(&line), a.matches(&line) || b.matches(&line));
        }
    }

    fn check_any(s: &str) -> Result<(), TestCaseError> {
        match Expr::parse(s) {
            Ok(e) => {
                // Whatever parses prints to something that parses back the same.
                prop_assert_eq!(Expr::parse(&e.to_string()), Ok(e));
            }
            Err(e) => {
                prop_assert!(
                    e.col >= 1 && e.col <= s.chars().count() + 1,
                    "{:?} in {:?}",
                    e,
                    s
                );
                prop_assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
            }
        }
        Ok(())
    }
}
