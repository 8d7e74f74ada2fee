//! `simulate`'s errors, each one line with the URLs masked, and the exit
//! code the README documents for it.

/// Why a run could not start or had to stop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// Bad URL, unsupported database, missing schema, chaos the database
    /// cannot do: the user has to change something (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A server is down or refused us (exit code 3).
    #[error("{0}")]
    Unreachable(String),
    /// Anything else that broke the run (exit code 1).
    #[error("{0}")]
    Failed(String),
}

impl SimError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SimError::Usage(_) => 2,
            SimError::Unreachable(_) => 3,
            SimError::Failed(_) => 1,
        }
    }
}

impl From<crate::topology::ConnectError> for SimError {
    fn from(e: crate::topology::ConnectError) -> Self {
        match e {
            crate::topology::ConnectError::BadUrl { .. } => SimError::Usage(e.to_string()),
            crate::topology::ConnectError::Unreachable { .. } => {
                SimError::Unreachable(e.to_string())
            }
        }
    }
}

impl From<crate::topology::DeclareError> for SimError {
    fn from(e: crate::topology::DeclareError) -> Self {
        SimError::Failed(e.to_string())
    }
}

/// Collapses an error message to one line, as the store's messages are.
pub(crate) use crate::sources::sql::one_line;

/// Whether the `n`th failure in a row is worth a log line: the 1st, 2nd,
/// 4th, 8th…, so a server that stays away does not flood the log.
pub(crate) fn worth_logging(n: u32) -> bool {
    n.is_power_of_two()
}
