//! Sizes both the config (as defaults and bounds) and the core or the
//! sources (as behaviour) name, kept here so the config needs neither.

/// Samples kept for a queue's sparkline.
pub const HISTORY: usize = 60;

/// Rows a rule may return per poll unless the config says otherwise.
pub const DEFAULT_ROW_LIMIT: u32 = 5000;
