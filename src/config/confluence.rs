//! `[confluence]`: where `postmortem publish` sends pages. Every key may
//! also come from the environment (`ORDERDECK_CONFLUENCE_URL`, `_USER`,
//! `_TOKEN`, `_SPACE`), which wins; nothing comes from a draft.

use serde::Deserialize;
use std::fmt;

#[derive(Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfluenceConfig {
    /// `https://example.atlassian.net` (Cloud) or `https://wiki.example.com` (Data Center).
    pub url: Option<String>,
    /// Cloud: the account's e-mail. Leave empty for Data Center.
    pub user: Option<String>,
    /// Cloud: an API token. Data Center: a personal access token.
    pub token: Option<String>,
    /// Space key (Cloud also accepts the numeric space id).
    pub space: Option<String>,
    /// Page id new postmortems are created under.
    pub parent: Option<String>,
    /// `cloud` or `datacenter`; unset picks Cloud when `user` is set.
    pub flavor: Option<String>,
}

/// The token never shows in `{:?}`.
impl fmt::Debug for ConfluenceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfluenceConfig")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("space", &self.space)
            .field("parent", &self.parent)
            .field("flavor", &self.flavor)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_token() {
        let c = ConfluenceConfig {
            token: Some("s3cret-token".into()),
            ..ConfluenceConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("***"));
    }
}
