//! Names in a user runbook that must resolve against the merged runbook.
//!
//! `[heal] retry = "nosuch"` parses, and used to fail only when `heal` ran,
//! at night, from cron. The ids it names may be the user's own remediations
//! or built-in ones, so the check needs both, and the file's text for the
//! line to point at.

use super::{Runbook, RunbookError};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
struct Refs {
    heal: Option<HealRefs>,
}

#[derive(Deserialize)]
struct HealRefs {
    retry: Option<Spanned<String>>,
    otherwise: Option<Spanned<String>>,
}

/// Checks that `user`'s `[heal]` names remediations that exist in `user` or
/// in `builtin`; `text` is the file `user` was parsed from, `origin` its name.
pub(super) fn check(
    text: &str,
    origin: &str,
    user: &Runbook,
    builtin: &Runbook,
) -> Result<(), RunbookError> {
    // The text already parsed into `user`; a second, looser parse for spans.
    let Ok(refs) = toml::from_str::<Refs>(text) else {
        return Ok(());
    };
    let Some(heal) = refs.heal else {
        return Ok(());
    };
    let known = |id: &str| user.remediation(id).is_some() || builtin.remediation(id).is_some();
    for (key, value) in [("retry", heal.retry), ("otherwise", heal.otherwise)] {
        let Some(value) = value else { continue };
        if known(value.get_ref()) {
            continue;
        }
        let (line, col) = crate::toml_errors::position(text, value.span().start);
        let mut ids: Vec<&str> = builtin
            .remediations
            .iter()
            .chain(&user.remediations)
            .map(|r| r.id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return Err(RunbookError {
            origin: origin.to_string(),
            line,
            col,
            message: format!(
                "heal.{key}: no remediation {:?}; use one of: {}",
                crate::sanitize::sanitize_capped(value.get_ref(), 40),
                ids.join(", ")
            ),
        });
    }
    Ok(())
}
