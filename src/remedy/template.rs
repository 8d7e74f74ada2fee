//! Message bodies from runbook templates and a checked order's columns.
//!
//! The template is JSON (written as TOML in the runbook). Values are put in
//! as JSON values, never spliced into JSON text, so an order field holding
//! quotes or braces cannot change the message's shape.

use serde_json::Value;
use std::collections::BTreeMap;

/// One cell of a `check` row, loosely typed (the user writes the SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    pub fn as_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Text(t) => t.clone(),
        }
    }

    /// Non-zero numbers and non-empty text other than `0`/`false`.
    pub fn truthy(&self) -> bool {
        match self {
            Cell::Null => false,
            Cell::Int(i) => *i != 0,
            Cell::Text(t) => !matches!(t.trim(), "" | "0" | "false" | "f" | "FALSE"),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::from(*i),
            Cell::Text(t) => Value::from(t.clone()),
        }
    }
}

/// A checked order: column name to value.
pub type Row = BTreeMap<String, Cell>;

/// `amount_cents` as `12.34` (negative amounts keep their sign).
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn lookup(row: &Row, name: &str) -> Option<Cell> {
    if let Some(c) = row.get(name) {
        return Some(c.clone());
    }
    if name == "amount" {
        if let Some(Cell::Int(c)) = row.get("amount_cents") {
            return Some(Cell::Text(amount(*c)));
        }
    }
    None
}

/// Replaces `{name}` in text; an unknown name is left as written so the
/// preview shows the mistake instead of silently sending an empty value.
pub fn fill_text(template: &str, row: &Row) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                let name = &after[..end];
                match lookup(row, name.split(':').next().unwrap_or(name)) {
                    Some(c) => out.push_str(&c.as_text()),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(s: &str) -> bool {
    let base = s.strip_suffix(":bool").unwrap_or(s);
    !base.is_empty() && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The body for one row: strings that are exactly `{col}` become the
/// column's typed value (`{col:bool}` a boolean); other strings are filled.
pub fn fill_json(template: &Value, row: &Row) -> Value {
    match template {
        Value::String(s) => {
            if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                if is_name(inner) {
                    if let Some(name) = inner.strip_suffix(":bool") {
                        if let Some(c) = lookup(row, name) {
                            return Value::Bool(c.truthy());
                        }
                    } else if let Some(c) = lookup(row, inner) {
                        return c.to_json();
                    }
                }
            }
            Value::String(fill_text(s, row))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, row)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, row)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row() -> Row {
        let mut r = Row::new();
        r.insert("order_no".into(), Cell::Text("SO-1 \"}{".into()));
        r.insert("order_id".into(), Cell::Int(42));
        r.insert("amount_cents".into(), Cell::Int(12_305));
        r.insert("paid".into(), Cell::Int(0));
        r
    }

    #[test]
    fn whole_placeholders_keep_their_type_and_hostile_text_stays_a_string() {
        let body = fill_json(
            &json!({"id": "{order_id}", "no": "{order_no}", "paid": "{paid:bool}",
                    "text": "order {order_no} ({amount}) {missing}", "n": 3}),
            &row(),
        );
        assert_eq!(body["id"], json!(42));
        assert_eq!(body["no"], json!("SO-1 \"}{"));
        assert_eq!(body["paid"], json!(false));
        assert_eq!(body["text"], json!("order SO-1 \"}{ (123.05) {missing}"));
        assert_eq!(body["n"], json!(3));
    }

    #[test]
    fn amounts_format_with_two_decimals() {
        assert_eq!(amount(5), "0.05");
        assert_eq!(amount(-250), "-2.50");
        assert_eq!(amount(100_000), "1000.00");
    }

    #[test]
    fn stray_braces_are_left_alone() {
        assert_eq!(fill_text("{ a } {order_id}}", &row()), "{ a } 42}");
    }
}
