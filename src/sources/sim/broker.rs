//! The demo's queue monitor: the in-process broker of the broker edge,
//! read the way the cockpit reads RabbitMQ.

pub use crate::broker::memory::*;

use crate::model::QueueSnapshot;
use crate::sources::{QueueMonitor, SourceError};

impl QueueMonitor for SimBroker {
    async fn poll(&self) -> Result<QueueSnapshot, SourceError> {
        Ok(self.model().snapshot())
    }

    fn describe(&self) -> String {
        "simulated broker".to_string()
    }
}
