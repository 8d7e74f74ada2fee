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

/// Why a Confluence URL is refused, in one line that never repeats the
/// credentials it found. A user or password in the URL would be printed on
/// success, shown by `--dry-run`, stored in the draft's `published.base_url`
/// and sent as Basic auth in place of the token: the token is the only
/// credential publish sends.
pub fn check_url(url: &str) -> Result<(), String> {
    let shown = crate::config::mask_secrets(url);
    let parsed = url::Url::parse(url).map_err(|e| {
        format!(
            "Confluence URL {:?} is not a URL: {e}",
            strip_userinfo_text(&shown)
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "Confluence URL {:?} must start with https://",
            strip_userinfo_text(&shown)
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let mut bare = parsed.clone();
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        return Err(format!(
            "Confluence URL has credentials in it (user:password@): use {} and put the account in ORDERDECK_CONFLUENCE_USER and the token in ORDERDECK_CONFLUENCE_TOKEN",
            bare.as_str().trim_end_matches('/')
        ));
    }
    Ok(())
}

/// Text before the last `@` after `://` dropped, for messages about URLs
/// that do not even parse (where `Url` cannot strip them for us).
fn strip_userinfo_text(s: &str) -> String {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host = &rest[..end];
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            format!("{scheme}://{host}{}", &rest[end..])
        }
        None => s.to_string(),
    }
}

/// The token never shows in `{:?}`, nor a password in the URL.
impl fmt::Debug for ConfluenceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfluenceConfig")
            .field("url", &self.url.as_deref().map(crate::config::mask_secrets))
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

    #[test]
    fn credentials_in_the_url_are_refused_without_repeating_them() {
        for url in [
            "http://alice:hunter2@wiki.example.com/",
            "https://alice:hunter2@wiki.example.com/wiki",
            "https://alice@wiki.example.com",
        ] {
            let e = check_url(url).expect_err(url);
            assert!(!e.contains("hunter2") && !e.contains("alice"), "{e}");
            assert!(e.contains("credentials"), "{e}");
            assert!(e.contains("wiki.example.com"), "{e}");
        }
        let e = check_url("ht!tp://alice:hunter2@x y/").expect_err("not a URL");
        assert!(!e.contains("hunter2"), "{e}");
        assert_eq!(check_url("https://wiki.example.com/wiki"), Ok(()));
        let c = ConfluenceConfig {
            url: Some("https://alice:hunter2@wiki.example.com".into()),
            ..ConfluenceConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
