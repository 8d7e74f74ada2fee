//! A test seam: makes the k-th statement of a poll fail in a chosen way,
//! so tests can assert what the user sees when a database breaks at an
//! exact point (issue 22). Unused in production: the store holds an
//! `Option<Arc<FaultPlan>>` that is `None` and checked once per statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How the chosen statement fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database rejects the statement (a bad rule, a permission).
    Error,
    /// The statement runs past its deadline (reported as a timeout at once).
    Timeout,
    /// The connection is lost under the statement.
    Lost,
    /// The statement is sent and never answered: only the store's own
    /// deadline ends it.
    Hang,
}

/// Which statement of each poll fails, and how. Statements are counted
/// from 1 at the start of every poll (`detect`, a timeline, a lookup): the
/// connectivity check, then each rule, then any count past the row limit.
#[doc(hidden)]
#[derive(Debug)]
pub struct FaultPlan {
    at: usize,
    fault: Fault,
    seen: AtomicUsize,
}

/// What an injected fault looks like to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Error,
    Timeout,
    Lost,
}

impl FaultPlan {
    pub fn new(at: usize, fault: Fault) -> Arc<FaultPlan> {
        Arc::new(FaultPlan {
            at,
            fault,
            seen: AtomicUsize::new(0),
        })
    }

    /// Statements counted in the current poll so far.
    pub fn statements(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    pub(crate) fn start_poll(&self) {
        self.seen.store(0, Ordering::SeqCst);
    }

    /// Called before each statement; fails it when it is the chosen one.
    pub(crate) async fn before_statement(&self) -> Result<(), Injected> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.at {
            return Ok(());
        }
        match self.fault {
            Fault::Error => Err(Injected::Error),
            Fault::Timeout => Err(Injected::Timeout),
            Fault::Lost => Err(Injected::Lost),
            Fault::Hang => std::future::pending().await,
        }
    }
}
