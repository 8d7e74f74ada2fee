//! The messages the simulated shop sends through RabbitMQ: one JSON body per
//! step of an order's life, published to `orders` with the work queue's
//! name as routing key.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One step of one order, as a message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Msg {
    pub order_id: i64,
    pub order_no: String,
    pub sku: String,
    pub quantity: i64,
    pub amount_cents: i64,
    pub supplier_id: i64,
    /// This order's clock runs this many seconds behind the wall clock: a
    /// backdated order writes its whole history in the past (see `--backdate`).
    #[serde(default)]
    pub backdate_secs: i64,
    pub gateway: String,
    /// The buyer's IP at checkout and when paying; risk control compares them.
    pub checkout_ip: String,
    pub payment_ip: String,
    pub step: Step,
}

/// What the consumer of the message is asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// The payment gateway's callback: `paid` false when the buyer's bank
    /// declined.
    PaymentCallback {
        paid: bool,
    },
    InventorySync,
    /// Create the work order and send it to the ERP.
    WorkOrder,
    Ship,
    /// The courier app's delivery confirmation.
    Deliver,
    /// A carrier scan for the logistics system.
    Logistics {
        status: LogisticsStatus,
    },
    Settle,
    Notify {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogisticsStatus {
    InTransit,
    Delivered,
}

impl LogisticsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogisticsStatus::InTransit => "in_transit",
            LogisticsStatus::Delivered => "delivered",
        }
    }
}

impl Step {
    /// The reference work queue (and routing key) the step is sent to.
    pub fn queue(&self) -> &'static str {
        match self {
            Step::PaymentCallback { .. } => "payment.callback",
            Step::InventorySync => "inventory.sync",
            Step::WorkOrder | Step::Ship | Step::Deliver => "fulfillment",
            Step::Logistics { .. } => "logistics.updates",
            Step::Settle => "settlement",
            Step::Notify { .. } => "notify.customer",
        }
    }
}

impl Msg {
    /// The same order's next step.
    pub fn then(&self, step: Step) -> Msg {
        Msg {
            step,
            ..self.clone()
        }
    }

    /// "Now" on this order's clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() - Duration::seconds(self.backdate_secs)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings, numbers and enums always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<Msg, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_route_by_step() {
        let m = Msg {
            order_id: 7,
            order_no: "CO20261125-AB12-000007".into(),
            sku: "SKU-TEA-0042".into(),
            quantity: 1,
            amount_cents: 12_800,
            supplier_id: 1001,
            backdate_secs: 3600,
            gateway: "alipay".into(),
            checkout_ip: "1.2.3.4".into(),
            payment_ip: "1.2.3.4".into(),
            step: Step::Logistics {
                status: LogisticsStatus::Delivered,
            },
        };
        let back = Msg::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.step.queue(), "logistics.updates");
        assert_eq!(m.then(Step::Ship).step.queue(), "fulfillment");
        let json = String::from_utf8(m.to_json()).unwrap();
        assert!(
            json.contains(r#""step":{"kind":"logistics","status":"delivered"}"#),
            "{json}"
        );
        assert!(Msg::from_json(b"{}").is_err());
        assert!((Utc::now() - m.now()).num_seconds() >= 3599);
    }
}
