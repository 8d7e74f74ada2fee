//! What a source reports when it cannot read: the core shows it, the
//! sources produce it (`SourceError::new` in `crate::sources` masks secrets).

/// An error from a source, already phrased for the status bar: one line, no
/// secrets (URLs are masked before they get here).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);
