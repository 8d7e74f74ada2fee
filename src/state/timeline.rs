//! The selected order's timeline: events, outside-system views, and the
//! contradictions between those systems that make an order split-personality.

use crate::model::{OrderView, Timeline};
use crate::sanitize::{sanitize, sanitize_capped};

/// Detail text can be huge (payload dumps); the pane wraps at most this much.
const DETAIL_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelinePane {
    /// The order the pane is for (it may still be loading).
    pub order_id: Option<i64>,
    pub data: Option<Timeline>,
    pub error: Option<String>,
    pub loading: bool,
    /// First line shown.
    pub scroll: usize,
}

impl TimelinePane {
    /// Points the pane at another order. Returns true when it is a new order
    /// (and so must be fetched).
    pub fn show(&mut self, order_id: Option<i64>) -> bool {
        if self.order_id == order_id {
            return false;
        }
        self.order_id = order_id;
        self.data = None;
        self.error = None;
        self.loading = order_id.is_some();
        self.scroll = 0;
        true
    }

    /// Stores a fetched timeline for `order_id`; stale answers for an order
    /// no longer shown are dropped. Returns true when something changed.
    pub fn ingest(&mut self, order_id: i64, result: Result<Option<Timeline>, String>) -> bool {
        if self.order_id != Some(order_id) {
            return false;
        }
        let before = (self.data.clone(), self.error.clone(), self.loading);
        self.loading = false;
        match result {
            Ok(Some(mut t)) => {
                sanitize_timeline(&mut t);
                self.data = Some(t);
                self.error = None;
            }
            Ok(None) => {
                self.data = None;
                self.error = Some(format!("order id {order_id} no longer exists"));
            }
            // Keep the last good timeline on a failed refresh; say why beside it.
            Err(e) => self.error = Some(e),
        }
        before != (self.data.clone(), self.error.clone(), self.loading)
    }
}

fn sanitize_timeline(t: &mut Timeline) {
    let o = &mut t.order;
    for f in [
        &mut o.order_no,
        &mut o.status,
        &mut o.payment_status,
        &mut o.sku,
    ] {
        *f = sanitize(f);
    }
    if let Some(h) = &mut o.hold_reason {
        *h = sanitize(h);
    }
    for e in &mut t.events {
        e.source = sanitize(&e.source);
        e.kind = sanitize(&e.kind);
        e.status = sanitize(&e.status);
        e.detail = sanitize_capped(&e.detail, DETAIL_CHARS);
    }
    for v in &mut t.views {
        v.system = sanitize(&v.system);
        v.status = sanitize(&v.status);
    }
}

/// Two outside systems that disagree about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contradiction {
    pub systems: (String, String),
    pub text: String,
}

fn view<'a>(views: &'a [OrderView], system: &str) -> Option<&'a str> {
    views
        .iter()
        .find(|v| v.system == system)
        .map(|v| v.status.as_str())
}

/// Disagreements between the systems' views, in the reference vocabularies
/// (DESIGN section 3). Pure, so the pane and the tests share it.
pub fn contradictions(views: &[OrderView]) -> Vec<Contradiction> {
    let mut out = Vec::new();
    let mut add = |a: &str, b: &str, text: String| {
        out.push(Contradiction {
            systems: (a.to_string(), b.to_string()),
            text,
        })
    };
    let app = view(views, "app");
    let logistics = view(views, "logistics");
    if let (Some(a), Some(l)) = (app, logistics) {
        let app_says_delivered = matches!(a, "delivered" | "settled");
        if app_says_delivered && l != "delivered" {
            add(
                "app",
                "logistics",
                format!("app says {a}, logistics says {l}"),
            );
        } else if a == "cancelled" && l == "in_transit" {
            add(
                "app",
                "logistics",
                "app says cancelled, logistics says in_transit".into(),
            );
        } else if l == "delivered" && matches!(a, "processing" | "shipped" | "inventory_locked") {
            add(
                "app",
                "logistics",
                format!("logistics says delivered, app says {a}"),
            );
        }
    }
    if let (Some("settled"), Some(f @ "unpaid")) = (view(views, "supplier"), view(views, "finance"))
    {
        add(
            "supplier",
            "finance",
            format!("supplier says settled, finance says {f}"),
        );
    }
    if let (Some(a), Some(e)) = (app, view(views, "erp")) {
        let app_past_fulfilment = matches!(a, "shipped" | "delivered" | "settled");
        if e == "failed" && a == "processing" {
            add("app", "erp", "app says processing, ERP says failed".into());
        } else if app_past_fulfilment && e != "acknowledged" {
            add("app", "erp", format!("app says {a}, ERP says {e}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn views(pairs: &[(&str, &str)]) -> Vec<OrderView> {
        pairs
            .iter()
            .map(|(s, st)| OrderView {
                system: s.to_string(),
                status: st.to_string(),
                observed_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            })
            .collect()
    }

    #[test]
    fn delivered_versus_in_transit_is_a_contradiction() {
        let c = contradictions(&views(&[("app", "delivered"), ("logistics", "in_transit")]));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].systems, ("app".into(), "logistics".into()));
        assert!(c[0].text.contains("in_transit"));
    }

    #[test]
    fn agreeing_systems_are_not_flagged() {
        let v = views(&[
            ("app", "delivered"),
            ("logistics", "delivered"),
            ("supplier", "settled"),
            ("finance", "received"),
            ("erp", "acknowledged"),
        ]);
        assert!(contradictions(&v).is_empty());
    }

    #[test]
    fn settlement_and_erp_disagreements() {
        let v = views(&[
            ("app", "processing"),
            ("supplier", "settled"),
            ("finance", "unpaid"),
            ("erp", "failed"),
        ]);
        let c = contradictions(&v);
        let pairs: Vec<_> = c.iter().map(|c| c.systems.1.as_str()).collect();
        assert_eq!(pairs, ["finance", "erp"]);
    }
}
