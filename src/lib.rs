//! orderdeck: a terminal incident cockpit for consignment e-commerce orders.
//!
//! Layout follows one direction of imports: `cockpit` → `app` → (`state`,
//! `ui`, `sources`); `ui` reads `state`; `state` does no I/O.

pub mod action;
pub mod alerts;
pub mod app;
pub mod broker;
pub mod cli;
pub mod clipboard;
pub mod cockpit;
pub mod config;
/// Deterministic data for tests, snapshots and benchmarks (integration tests
/// and benches cannot see `cfg(test)` items, so this is public but hidden).
#[doc(hidden)]
pub mod fixtures;
pub mod layout;
pub mod logging;
pub mod look;
pub mod model;
pub mod output;
pub mod paths;
pub mod postmortem;
pub mod preflight;
pub mod remedy;
pub mod runbook;
pub mod sanitize;
pub mod simulate;
pub mod snapshot;
pub mod sources;
pub mod state;
pub mod stdout;
pub mod terminal;
pub mod theme;
mod toml_errors;
pub mod topology;
pub mod ui;
