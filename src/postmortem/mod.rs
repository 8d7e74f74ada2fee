//! Postmortems: the draft model, the guided editor, the checks, the
//! exports and publishing to Confluence. Pre-filled from what the cockpit
//! recorded about the incident and from the remediation audit.

pub mod checks;
pub mod command;
pub mod editor;
pub mod export;
pub mod headless;
pub mod journal;
pub mod model;
pub mod prefill;
pub mod publish;
pub mod record;
pub mod run;
pub mod store;
