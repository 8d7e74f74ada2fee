//! The stuck-order filter: space-separated terms, all of which must match.
//!
//! `family:zombie`, `status:processing`, `rule:ghost.paid`, `sku:`, `order:`,
//! `supplier:42`; a bare word matches order no, SKU, status, rule or detail;
//! a leading `-` negates a term. Matching is case-insensitive substring
//! matching, except `family:` and `supplier:` which are exact.

use crate::model::{Family, StuckOrder};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    source: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    kind: TermKind,
}

#[derive(Debug, Clone, PartialEq)]
enum TermKind {
    Family(Family),
    Status(String),
    Rule(String),
    Sku(String),
    Order(String),
    Supplier(i64),
    Text(String),
}

impl Filter {
    /// Parses a filter expression. Errors name the offending term.
    pub fn parse(expr: &str) -> Result<Filter, String> {
        const FIELDS: [&str; 7] = ["family", "f", "status", "rule", "sku", "order", "supplier"];
        let mut terms = Vec::new();
        for raw in expr.split_whitespace() {
            let (negated, body) = match raw.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest),
                _ => (false, raw),
            };
            let kind = match body.split_once(':') {
                Some((field, value)) if !value.is_empty() => {
                    let lower = value.to_lowercase();
                    match field.to_ascii_lowercase().as_str() {
                        "family" | "f" => TermKind::Family(value.parse()?),
                        "status" => TermKind::Status(lower),
                        "rule" => TermKind::Rule(lower),
                        "sku" => TermKind::Sku(lower),
                        "order" => TermKind::Order(lower),
                        "supplier" => TermKind::Supplier(value.parse().map_err(|_| {
                            format!("supplier:{value} is not a supplier id (a whole number)")
                        })?),
                        other => {
                            return Err(format!(
                                "unknown filter field {other:?} (use family:, status:, rule:, sku:, order:, supplier: or plain text)"
                            ));
                        }
                    }
                }
                // `status:` with nothing after it yet: the user is still
                // typing, so it matches everything rather than nothing.
                Some((field, _)) if FIELDS.contains(&field.to_ascii_lowercase().as_str()) => {
                    continue;
                }
                _ => TermKind::Text(body.to_lowercase()),
            };
            terms.push(Term { negated, kind });
        }
        Ok(Filter {
            source: expr.trim().to_string(),
            terms,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The expression as the user typed it (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, order: &StuckOrder) -> bool {
        self.terms
            .iter()
            .all(|term| term.kind.matches(order) != term.negated)
    }
}

fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        // Hot path for 100k rows: avoid allocating a lowercase copy.
        haystack
            .as_bytes()
            .windows(needle_lower.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
            || needle_lower.is_empty()
    } else {
        haystack.to_lowercase().contains(needle_lower)
    }
}

impl TermKind {
    fn matches(&self, o: &StuckOrder) -> bool {
        match self {
            TermKind::Family(f) => o.family == *f,
            TermKind::Status(s) => contains_ci(&o.status, s),
            TermKind::Rule(s) => contains_ci(&o.rule_id, s),
            TermKind::Sku(s) => contains_ci(&o.sku, s),
            TermKind::Order(s) => contains_ci(&o.order_no, s),
            TermKind::Supplier(id) => o.supplier_id == *id,
            TermKind::Text(s) => [&o.order_no, &o.sku, &o.status, &o.rule_id, &o.detail]
                .iter()
                .any(|field| contains_ci(field, s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn order(no: &str, family: Family, status: &str, sku: &str) -> StuckOrder {
        StuckOrder {
            order_id: 1,
            order_no: no.into(),
            family,
            rule_id: format!("{family}.rule"),
            status: status.into(),
            since: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            sku: sku.into(),
            supplier_id: 42,
            amount_cents: 100,
            detail: "logistics=in_transit".into(),
        }
    }

    #[test]
    fn fields_and_text_are_anded() {
        let f = Filter::parse("family:zombie status:PROC").unwrap();
        assert!(f.matches(&order("A1", Family::Zombie, "processing", "SKU-1")));
        assert!(!f.matches(&order("A1", Family::Ghost, "processing", "SKU-1")));
        assert!(!f.matches(&order("A1", Family::Zombie, "paid", "SKU-1")));
    }

    #[test]
    fn bare_words_search_several_columns_case_insensitively() {
        let f = Filter::parse("in_TRANSIT").unwrap();
        assert!(f.matches(&order("A1", Family::Split, "delivered", "X")));
        let f = Filter::parse("sku-9").unwrap();
        assert!(!f.matches(&order("A1", Family::Split, "delivered", "SKU-1")));
    }

    #[test]
    fn negation_and_supplier() {
        let f = Filter::parse("-family:ghost supplier:42").unwrap();
        assert!(f.matches(&order("A1", Family::Split, "delivered", "X")));
        assert!(!f.matches(&order("A1", Family::Ghost, "paid", "X")));
        assert!(Filter::parse("supplier:abc").is_err());
    }

    #[test]
    fn unknown_fields_and_families_are_explained() {
        let err = Filter::parse("colour:red").unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = Filter::parse("family:phantom").unwrap_err();
        assert!(err.contains("phantom"), "{err}");
    }

    #[test]
    fn a_field_still_being_typed_matches_everything() {
        let f = Filter::parse("status:").unwrap();
        assert!(f.is_empty());
        assert!(f.matches(&order("A1", Family::Ghost, "paid", "X")));
        // An unknown field with no value yet is plain text, as before.
        assert!(!Filter::parse("colour:").unwrap().is_empty());
    }

    #[test]
    fn non_ascii_text_matches() {
        let mut o = order("A1", Family::Ghost, "paid", "寄售SKU");
        o.detail = "库存锁冲突".into();
        assert!(Filter::parse("库存").unwrap().matches(&o));
        assert!(Filter::parse("寄售sku").unwrap().matches(&o));
    }

    #[test]
    fn empty_expression_matches_everything() {
        let f = Filter::parse("   ").unwrap();
        assert!(f.is_empty());
        assert!(f.matches(&order("A1", Family::Ghost, "paid", "X")));
    }
}
