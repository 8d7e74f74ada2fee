//! Named SQL parameters (`:cutoff`, `:limit`, `:order_id`) rewritten to a
//! dialect's placeholders.
//!
//! Values are always bound, never formatted into the SQL. The scanner skips
//! string literals, quoted identifiers, comments, PostgreSQL dollar-quoted
//! strings and `::` casts, so a colon in any of those is left alone.

use std::fmt;

/// The SQL dialect whose placeholders the rewritten statement uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `?`, one per occurrence.
    Sqlite,
    /// `?`, one per occurrence.
    Mysql,
    /// `$1`, `$2`, ... one per distinct name.
    Postgres,
}

/// A statement ready to prepare: the rewritten SQL and the parameter names to
/// bind, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundSql {
    pub sql: String,
    pub params: Vec<String>,
}

/// Why a statement could not be rewritten. `line` and `col` are 1-based and
/// relative to the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sql line {} col {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ParamError {}

fn err(sql: &str, byte: usize, message: String) -> ParamError {
    let (line, col) = crate::toml_errors::position(sql, byte);
    ParamError { line, col, message }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rewrites `:name` parameters in `sql` to `dialect` placeholders. Only names
/// in `allowed` are accepted; anything else is an error naming the position.
/// For `?` dialects a raw `?` outside literals and comments is refused too,
/// since it would shift every bound value.
pub fn rewrite(sql: &str, dialect: Dialect, allowed: &[&str]) -> Result<BoundSql, ParamError> {
    rewrite_lists(sql, dialect, allowed, &[])
}

/// [`rewrite`], where each `(name, n)` in `lists` is a list parameter: every
/// occurrence becomes `n` placeholders (`IN (:order_ids)` → `IN (?, ?, ?)`)
/// and `params` names it `n` times in a row, to bind the list's items in
/// order. `n` must be at least 1 (`IN ()` is not SQL).
pub fn rewrite_lists(
    sql: &str,
    dialect: Dialect,
    allowed: &[&str],
    lists: &[(&str, usize)],
) -> Result<BoundSql, ParamError> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut params: Vec<String> = Vec::new();
    let mut i = 0;
    // Start of the not-yet-copied verbatim run.
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' | b'`' => {
                let close = find_quote_end(bytes, i + 1, b)
                    .ok_or_else(|| err(sql, i, format!("unterminated quote {}", b as char)))?;
                i = close + 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'#' if dialect == Dialect::Mysql => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..]
                    .find("*/")
                    .ok_or_else(|| err(sql, i, "unterminated /* comment".into()))?;
                i = i + 2 + end + 2;
            }
            b'$' if dialect == Dialect::Postgres => {
                // Dollar-quoted string: $$...$$ or $tag$...$tag$.
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|&c| !is_ident(c))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(t)
                        if bytes[t] == b'$' && (t == i + 1 || !bytes[i + 1].is_ascii_digit()) =>
                    {
                        let tag = &sql[i..=t];
                        let end = sql[t + 1..].find(tag).ok_or_else(|| {
                            err(sql, i, format!("unterminated dollar-quoted string {tag}"))
                        })?;
                        i = t + 1 + end + tag.len();
                    }
                    _ => i += 1,
                }
            }
            b'?' if dialect != Dialect::Postgres => {
                return Err(err(
                    sql,
                    i,
                    "positional `?` placeholder: use a named parameter (:cutoff, :limit, :order_id)"
                        .into(),
                ));
            }
            b':' => {
                if bytes.get(i + 1) == Some(&b':') {
                    // `::` cast (and any run of colons): skip it whole.
                    while i < bytes.len() && bytes[i] == b':' {
                        i += 1;
                    }
                    continue;
                }
                if bytes.get(i + 1) == Some(&b'=') {
                    // MySQL `:=` assignment.
                    i += 2;
                    continue;
                }
                let prev_is_ident = i > 0 && is_ident(bytes[i - 1]);
                match bytes.get(i + 1) {
                    Some(&c) if is_ident_start(c) && !prev_is_ident => {
                        let start = i + 1;
                        let mut end = start;
                        while end < bytes.len() && is_ident(bytes[end]) {
                            end += 1;
                        }
                        let name = &sql[start..end];
                        if !allowed.contains(&name) {
                            let known = allowed
                                .iter()
                                .map(|n| format!(":{n}"))
                                .collect::<Vec<_>>()
                                .join(", ");
                            return Err(err(
                                sql,
                                i,
                                format!("unknown parameter :{name} (known here: {known})"),
                            ));
                        }
                        out.push_str(&sql[copied..i]);
                        let list = lists.iter().find(|(l, _)| *l == name).map(|(_, n)| *n);
                        match (dialect, list) {
                            (_, Some(n)) => {
                                for k in 0..n.max(1) {
                                    if k > 0 {
                                        out.push_str(", ");
                                    }
                                    params.push(name.to_string());
                                    match dialect {
                                        Dialect::Postgres => {
                                            out.push('$');
                                            out.push_str(&params.len().to_string());
                                        }
                                        Dialect::Sqlite | Dialect::Mysql => out.push('?'),
                                    }
                                }
                            }
                            (Dialect::Sqlite | Dialect::Mysql, None) => {
                                out.push('?');
                                params.push(name.to_string());
                            }
                            (Dialect::Postgres, None) => {
                                let n = match params.iter().position(|p| p == name) {
                                    Some(p) => p + 1,
                                    None => {
                                        params.push(name.to_string());
                                        params.len()
                                    }
                                };
                                out.push('$');
                                out.push_str(&n.to_string());
                            }
                        }
                        i = end;
                        copied = end;
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    Ok(BoundSql { sql: out, params })
}

/// Index of the closing quote, honouring doubled quotes (`''`) as escapes.
fn find_quote_end(bytes: &[u8], mut i: usize, quote: u8) -> Option<usize> {
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {

    #[test]
    fn list_parameters_expand_to_one_placeholder_per_item() {
        let sql = "UPDATE t SET at = :now WHERE id IN (:order_ids) AND x IN (:order_ids)";
        let b = rewrite_lists(
            sql,
            Dialect::Postgres,
            &["now", "order_ids"],
            &[("order_ids", 3)],
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "UPDATE t SET at = $1 WHERE id IN ($2, $3, $4) AND x IN ($5, $6, $7)"
        );
        assert_eq!(b.params.iter().filter(|p| *p == "order_ids").count(), 6);
        let b = rewrite_lists(
            sql,
            Dialect::Mysql,
            &["now", "order_ids"],
            &[("order_ids", 2)],
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "UPDATE t SET at = ? WHERE id IN (?, ?) AND x IN (?, ?)"
        );
        assert_eq!(b.params.len(), 5);
    }

    use super::*;

    const ALL: &[&str] = &["cutoff", "limit", "order_id"];

    #[test]
    fn repeated_names_bind_once_per_occurrence_or_once_per_name() {
        let sql = "SELECT 1 WHERE a < :cutoff AND b < :cutoff LIMIT :limit";
        let s = rewrite(sql, Dialect::Sqlite, ALL).unwrap();
        assert_eq!(s.sql, "SELECT 1 WHERE a < ? AND b < ? LIMIT ?");
        assert_eq!(s.params, ["cutoff", "cutoff", "limit"]);
        let p = rewrite(sql, Dialect::Postgres, ALL).unwrap();
        assert_eq!(p.sql, "SELECT 1 WHERE a < $1 AND b < $1 LIMIT $2");
        assert_eq!(p.params, ["cutoff", "limit"]);
    }

    #[test]
    fn dollar_quotes_are_skipped_on_postgres() {
        let sql = "SELECT $$ :nope $$, $t$ :no $t$, :limit";
        let p = rewrite(sql, Dialect::Postgres, ALL).unwrap();
        assert_eq!(p.sql, "SELECT $$ :nope $$, $t$ :no $t$, $1");
    }

    #[test]
    fn literals_casts_and_comments_are_left_alone() {
        let sql = "SELECT ':cutoff', \"col:name\", `x:y`, a::timestamp, 'it''s :limit' -- :nope\n\
                   FROM t /* :nope\n :also */ WHERE b < :cutoff::timestamptz";
        let s = rewrite(sql, Dialect::Postgres, ALL).unwrap();
        assert_eq!(s.params, ["cutoff"]);
        assert!(s.sql.ends_with("WHERE b < $1::timestamptz"), "{}", s.sql);
        assert!(s.sql.contains("':cutoff'"));
        assert!(s.sql.contains("'it''s :limit'"));
        assert!(s.sql.contains("-- :nope"));
        assert!(s.sql.contains("/* :nope\n :also */"));
        assert!(s.sql.contains("a::timestamp"));
        let m = rewrite("SELECT @a := 1, :limit # :nope\n", Dialect::Mysql, ALL).unwrap();
        assert_eq!(m.sql, "SELECT @a := 1, ? # :nope\n");
    }

    #[test]
    fn unknown_parameters_are_refused_with_their_position() {
        let e = rewrite("SELECT 1\nWHERE a < :cuttoff", Dialect::Sqlite, ALL).unwrap_err();
        assert_eq!((e.line, e.col), (2, 11));
        assert!(e.message.contains(":cuttoff"), "{e}");
        assert!(e.message.contains(":cutoff"), "lists the known ones: {e}");
        assert_eq!(e.to_string().lines().count(), 1);
        let e = rewrite("SELECT :order_id", Dialect::Sqlite, &["cutoff", "limit"]).unwrap_err();
        assert!(e.message.contains(":order_id"));
    }

    #[test]
    fn raw_question_marks_and_unterminated_text_are_refused() {
        assert!(rewrite("SELECT ? ", Dialect::Sqlite, ALL).is_err());
        assert!(rewrite("SELECT ? ", Dialect::Mysql, ALL).is_err());
        assert_eq!(
            rewrite("SELECT '?'", Dialect::Sqlite, ALL).unwrap().sql,
            "SELECT '?'"
        );
        // PostgreSQL's JSON operator `?` is not a placeholder there: it
        // survives the rewrite as written, beside a numbered parameter.
        let pg = rewrite("SELECT j ? 'k' WHERE a < :cutoff", Dialect::Postgres, ALL).unwrap();
        assert_eq!(pg.sql, "SELECT j ? 'k' WHERE a < $1");
        let e = rewrite("SELECT 'open", Dialect::Sqlite, ALL).unwrap_err();
        assert!(e.message.contains("unterminated"));
        assert!(rewrite("SELECT 1 /* open", Dialect::Sqlite, ALL).is_err());
    }

    #[test]
    fn non_ascii_text_keeps_its_bytes_and_columns_count_characters() {
        let s = rewrite("SELECT '茶叶' AS x WHERE a < :cutoff", Dialect::Sqlite, ALL).unwrap();
        assert_eq!(s.sql, "SELECT '茶叶' AS x WHERE a < ?");
        let e = rewrite("SELECT '茶叶', :bad", Dialect::Sqlite, ALL).unwrap_err();
        assert_eq!((e.line, e.col), (1, 14));
    }
}
