//! The broker edge shared by remediations, the demo and `simulate`: the
//! retry header orderdeck writes on AMQP messages and the in-process broker
//! the demo runs on. It names no remediation, source or simulator, so all
//! three can use it without depending on each other.

pub mod memory;
pub mod retry;

pub use retry::{RETRY_HEADER, retries_of};
