//! Remediations as runbook data: the SQL each one runs and the messages it
//! publishes, so users adapt them to their own schema and topology.
//!
//! A remediation works on a list of orders (`:order_ids`): one order from a
//! key, a batch of thousands from `heal`. Its `check` SELECT returns the
//! orders that still need the fix, with the columns its messages use; its
//! `step`s change them; its `publish` entries are sent per checked order.

use crate::runbook::{Dialect, rewrite_lists};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parameters remediation SQL may use: the orders (a list) and the time.
pub const REMEDY_PARAMS: &[&str] = &["order_ids", "now"];
/// Parameters the heal candidate query may use.
pub const HEAL_PARAMS: &[&str] = &["cutoff", "now", "limit"];

/// One remediation of the runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Remediation {
    /// Stable id: `release_lock`, `cancel_and_notify`, ...
    pub id: String,
    pub title: String,
    /// A SELECT over `:order_ids` returning `order_id`, `order_no` and
    /// whatever the messages use, for the orders that still need the fix.
    pub check: String,
    /// Said when `check` finds nothing: why re-running is a no-op.
    pub noop: String,
    /// `kind` of the `ops` event written on each fixed order's timeline.
    pub event_kind: String,
    pub steps: Vec<Step>,
    pub publish: Vec<Publish>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub sql: String,
    /// The guard: most rows this statement may change per checked order.
    /// More than that rolls the whole remediation back.
    pub max_rows_per_order: u64,
}

/// A message sent once per checked order (or per order whose `when` column
/// is true).
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub exchange: String,
    pub routing_key: String,
    /// Only for rows where this column is non-zero / non-empty.
    pub when: Option<String>,
    /// Template of the message id; deterministic per order state so that a
    /// run rolled back and repeated sends the same id (consumers drop it).
    pub message_id: String,
    /// JSON body template (see `template`).
    pub body: serde_json::Value,
}

/// How `heal` picks zombie orders and what it does with them.
#[derive(Debug, Clone, PartialEq)]
pub struct HealSpec {
    /// SELECT `order_id` of candidates: `:cutoff` (now minus --older-than),
    /// `:now`, `:limit`.
    pub candidates: String,
    /// SELECT `order_id` over `:order_ids`: the candidates that get `retry`;
    /// the rest get `otherwise`.
    pub retry_when: String,
    pub retry: String,
    pub otherwise: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemediation {
    id: String,
    title: String,
    check: String,
    noop: String,
    event_kind: String,
    #[serde(default)]
    step: Vec<RawStep>,
    #[serde(default)]
    publish: Vec<RawPublish>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    sql: String,
    #[serde(default = "one")]
    max_rows_per_order: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublish {
    #[serde(default = "orders_exchange")]
    exchange: String,
    routing_key: String,
    when: Option<String>,
    message_id: String,
    body: toml::Table,
}

fn orders_exchange() -> String {
    "orders".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeal {
    candidates: String,
    retry_when: String,
    retry: String,
    otherwise: String,
}

/// Checks every statement rewrites for every dialect; `what` names it.
fn check_sql(what: &str, sql: &str, allowed: &[&str]) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Err(format!("{what}: sql is empty"));
    }
    for d in [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres] {
        rewrite_lists(sql, d, allowed, &[("order_ids", 1)]).map_err(|e| format!("{what}: {e}"))?;
    }
    Ok(())
}

impl RawRemediation {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn build(self) -> Result<Remediation, String> {
        let id = self.id.trim().to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "remediation id {:?} must be letters, digits and _",
                crate::sanitize::sanitize_capped(&id, 40)
            ));
        }
        check_sql(
            &format!("remediation {id} check"),
            &self.check,
            REMEDY_PARAMS,
        )?;
        let mut steps = Vec::new();
        for (n, s) in self.step.into_iter().enumerate() {
            check_sql(
                &format!("remediation {id} step {}", n + 1),
                &s.sql,
                REMEDY_PARAMS,
            )?;
            if s.max_rows_per_order == 0 {
                return Err(format!(
                    "remediation {id} step {}: max_rows_per_order must be at least 1",
                    n + 1
                ));
            }
            steps.push(Step {
                sql: s.sql,
                max_rows_per_order: s.max_rows_per_order,
            });
        }
        let publish = self
            .publish
            .into_iter()
            .map(|p| {
                let body = serde_json::to_value(&p.body)
                    .map_err(|e| format!("remediation {id} publish body: {e}"))?;
                Ok(Publish {
                    exchange: p.exchange,
                    routing_key: p.routing_key,
                    when: p.when,
                    message_id: p.message_id,
                    body,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if steps.is_empty() && publish.is_empty() {
            return Err(format!(
                "remediation {id} has neither a step nor a publish: it would do nothing"
            ));
        }
        Ok(Remediation {
            id,
            title: crate::sanitize::sanitize(&self.title),
            check: self.check,
            noop: self.noop,
            event_kind: self.event_kind,
            steps,
            publish,
        })
    }
}

impl RawHeal {
    pub(crate) fn build(self) -> Result<HealSpec, String> {
        check_sql("heal candidates", &self.candidates, HEAL_PARAMS)?;
        check_sql("heal retry_when", &self.retry_when, REMEDY_PARAMS)?;
        Ok(HealSpec {
            candidates: self.candidates,
            retry_when: self.retry_when,
            retry: self.retry,
            otherwise: self.otherwise,
        })
    }
}

/// The merged remediations of a runbook, by id.
pub type Remediations = BTreeMap<String, Remediation>;
