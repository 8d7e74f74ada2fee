//! Publishing a draft to Confluence: Cloud's v2 REST API (basic auth with
//! e-mail and API token) or Data Center's REST API (bearer personal access
//! token). Creates the page the first time, then updates it with the next
//! version number. Requests are built as data first, so `--dry-run` can
//! print exactly what would be sent, minus the secret.

use super::export::{storage, title};
use super::model::{Draft, Published};
use crate::config::ConfluenceConfig;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Cloud,
    DataCenter,
}

/// Everything publish needs, resolved from config and environment.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub flavor: Flavor,
    pub user: Option<String>,
    pub token: String,
    pub space: Option<String>,
    pub parent: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Missing or contradictory settings: exit code 2.
    #[error("{0}")]
    Config(String),
    /// Could not reach Confluence at all: exit code 3.
    #[error("cannot reach Confluence at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Confluence answered with an error: exit code 1.
    #[error("{0}")]
    Refused(String),
}

impl PublishError {
    pub fn exit_code(&self) -> u8 {
        match self {
            PublishError::Config(_) => 2,
            PublishError::Unreachable { .. } => 3,
            PublishError::Refused(_) => 1,
        }
    }
}

impl Target {
    /// Environment first, then `[confluence]`; flags override the space and
    /// parent.
    pub fn resolve(
        config: &ConfluenceConfig,
        env: impl Fn(&str) -> Option<String>,
        space: Option<String>,
        parent: Option<String>,
    ) -> Result<Target, PublishError> {
        let pick = |var: &str, cfg: &Option<String>| {
            env(var)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| cfg.clone())
        };
        let base = pick("ORDERDECK_CONFLUENCE_URL", &config.url).ok_or_else(|| {
            PublishError::Config(
                "no Confluence URL: set [confluence] url in the config or ORDERDECK_CONFLUENCE_URL"
                    .into(),
            )
        })?;
        crate::config::confluence::check_url(&base).map_err(PublishError::Config)?;
        let base = base
            .trim_end_matches('/')
            .trim_end_matches("/wiki")
            .to_string();
        let token = pick("ORDERDECK_CONFLUENCE_TOKEN", &config.token).ok_or_else(|| {
            PublishError::Config(
                "no Confluence token: set ORDERDECK_CONFLUENCE_TOKEN (or [confluence] token)"
                    .into(),
            )
        })?;
        let user = pick("ORDERDECK_CONFLUENCE_USER", &config.user);
        let flavor = match config
            .flavor
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("cloud") => Flavor::Cloud,
            Some("datacenter" | "data-center" | "dc" | "server") => Flavor::DataCenter,
            Some(other) => {
                return Err(PublishError::Config(format!(
                    "[confluence] flavor {other:?}: expected cloud or datacenter"
                )));
            }
            None if user.is_some() => Flavor::Cloud,
            None => Flavor::DataCenter,
        };
        if flavor == Flavor::Cloud && user.is_none() {
            return Err(PublishError::Config(
                "Confluence Cloud needs the account e-mail: set ORDERDECK_CONFLUENCE_USER or [confluence] user".into(),
            ));
        }
        Ok(Target {
            base,
            flavor,
            user,
            token,
            space: space.or_else(|| pick("ORDERDECK_CONFLUENCE_SPACE", &config.space)),
            parent: parent.or_else(|| config.parent.clone()),
        })
    }

    fn masked_auth(&self) -> &'static str {
        match self.flavor {
            Flavor::Cloud => "Basic ***",
            Flavor::DataCenter => "Bearer ***",
        }
    }
}

/// One HTTP request, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub body: Option<Value>,
}

impl Request {
    /// What `--dry-run` prints: method, URL, headers with the secret masked,
    /// and the JSON body.
    pub fn describe(&self, target: &Target) -> String {
        let mut s = format!(
            "{} {}\nAuthorization: {}\nAccept: application/json\n",
            self.method,
            self.url,
            target.masked_auth()
        );
        if let Some(b) = &self.body {
            s.push_str("Content-Type: application/json\n\n");
            s.push_str(&serde_json::to_string_pretty(b).unwrap_or_default());
            s.push('\n');
        }
        s
    }
}

/// The page is updated when this draft was published to the same server
/// before; else created.
fn previous<'a>(draft: &'a Draft, target: &Target) -> Option<&'a Published> {
    draft
        .published
        .as_ref()
        .filter(|p| p.base_url == target.base)
}

/// Cloud v2 wants the numeric space id; a key is looked up first.
pub fn space_lookup(target: &Target) -> Option<Request> {
    let space = target.space.as_deref()?;
    (target.flavor == Flavor::Cloud && !space.chars().all(|c| c.is_ascii_digit())).then(|| {
        Request {
            method: "GET",
            url: format!(
                "{}/wiki/api/v2/spaces?keys={}",
                target.base,
                percent_encoding::utf8_percent_encode(space, percent_encoding::NON_ALPHANUMERIC)
            ),
            body: None,
        }
    })
}

/// The create or update request for `draft`. `space_id` is Cloud's numeric
/// id (from `space_lookup`), unused for Data Center.
pub fn page_request(
    draft: &Draft,
    target: &Target,
    space_id: Option<&str>,
) -> Result<Request, PublishError> {
    let body = storage::render(draft);
    let title = title(draft);
    let prev = previous(draft, target);
    match (target.flavor, prev) {
        (Flavor::Cloud, Some(p)) => Ok(Request {
            method: "PUT",
            url: format!("{}/wiki/api/v2/pages/{}", target.base, p.page_id),
            body: Some(json!({
                "id": p.page_id,
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": body},
                "version": {"number": p.version + 1, "message": "orderdeck postmortem publish"},
            })),
        }),
        (Flavor::Cloud, None) => {
            let space_id = space_id.ok_or_else(|| {
                PublishError::Config(
                    "no Confluence space: pass --space KEY or set [confluence] space".into(),
                )
            })?;
            let mut b = json!({
                "spaceId": space_id,
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": body},
            });
            if let Some(parent) = &target.parent {
                b["parentId"] = json!(parent);
            }
            Ok(Request {
                method: "POST",
                url: format!("{}/wiki/api/v2/pages", target.base),
                body: Some(b),
            })
        }
        (Flavor::DataCenter, Some(p)) => Ok(Request {
            method: "PUT",
            url: format!("{}/rest/api/content/{}", target.base, p.page_id),
            body: Some(json!({
                "id": p.page_id,
                "type": "page",
                "title": title,
                "body": {"storage": {"value": body, "representation": "storage"}},
                "version": {"number": p.version + 1},
            })),
        }),
        (Flavor::DataCenter, None) => {
            let space = target.space.as_deref().ok_or_else(|| {
                PublishError::Config(
                    "no Confluence space: pass --space KEY or set [confluence] space".into(),
                )
            })?;
            let mut b = json!({
                "type": "page",
                "title": title,
                "space": {"key": space},
                "body": {"storage": {"value": body, "representation": "storage"}},
            });
            if let Some(parent) = &target.parent {
                b["ancestors"] = json!([{"id": parent}]);
            }
            Ok(Request {
                method: "POST",
                url: format!("{}/rest/api/content", target.base),
                body: Some(b),
            })
        }
    }
}

/// One line for an HTTP error, saying what to do.
fn explain(status: u16, req: &Request, target: &Target, draft: &Draft) -> String {
    let space = target.space.as_deref().unwrap_or("(none)");
    match status {
        401 => "Confluence rejected the credentials (401): check ORDERDECK_CONFLUENCE_USER / ORDERDECK_CONFLUENCE_TOKEN or [confluence] user/token".into(),
        403 => format!("Confluence refused (403): the account may not add or edit pages in space {space}"),
        404 if req.method == "PUT" => format!(
            "Confluence has no page {} any more (404): it may have been deleted; remove \"published\" from the draft to create a new one",
            draft.published.as_ref().map(|p| p.page_id.as_str()).unwrap_or("?")
        ),
        404 => format!("not found (404) at {}: check the URL, space {space} and parent page", req.url),
        409 => format!(
            "version conflict (409): the page changed in Confluence since version {} was published from here; merge the edits there, or remove \"published\" from the draft to publish a new page",
            draft.published.as_ref().map_or(0, |p| p.version)
        ),
        s => format!("Confluence answered {s} to {} {}", req.method, req.url),
    }
}

async fn send(
    client: &reqwest::Client,
    target: &Target,
    req: &Request,
    draft: &Draft,
) -> Result<Value, PublishError> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|e| PublishError::Config(e.to_string()))?;
    let rb = client
        .request(method, &req.url)
        .header("Accept", "application/json");
    let mut rb = match (&target.flavor, &target.user) {
        (Flavor::Cloud, Some(user)) => rb.basic_auth(user, Some(&target.token)),
        _ => rb.bearer_auth(&target.token),
    };
    if let Some(b) = &req.body {
        rb = rb.json(b);
    }
    let resp = rb.send().await.map_err(|e| PublishError::Unreachable {
        url: target.base.clone(),
        reason: one_line_error(&e),
    })?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(PublishError::Refused(explain(status, req, target, draft)));
    }
    resp.json::<Value>().await.map_err(|e| {
        PublishError::Refused(format!(
            "Confluence answered {} {} with something that is not JSON: {e}",
            req.method, req.url
        ))
    })
}

fn one_line_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s.replace('\n', " ")
}

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What `--dry-run` prints: every request in order.
pub fn dry_run(draft: &Draft, target: &Target) -> Result<String, PublishError> {
    let mut out = String::new();
    let lookup = if previous(draft, target).is_none() {
        space_lookup(target)
    } else {
        None
    };
    let space_id = match &lookup {
        Some(l) => {
            out.push_str(&l.describe(target));
            out.push('\n');
            Some("<id of space from the lookup above>".to_string())
        }
        None => target.space.clone(),
    };
    out.push_str(&page_request(draft, target, space_id.as_deref())?.describe(target));
    Ok(out)
}

/// Creates or updates the page and returns where it is now. The caller
/// saves the draft with it, so the next publish updates.
pub async fn publish(draft: &Draft, target: &Target) -> Result<Published, PublishError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PublishError::Config(format!("HTTP client: {e}")))?;
    let mut space_id = target.space.clone();
    if previous(draft, target).is_none() {
        if let Some(lookup) = space_lookup(target) {
            let v = send(&client, target, &lookup, draft).await?;
            space_id = v["results"]
                .get(0)
                .and_then(|r| id_of(&r["id"]))
                .ok_or_else(|| {
                    PublishError::Refused(format!(
                        "Confluence has no space with key {:?} (or the account cannot see it)",
                        target.space.as_deref().unwrap_or("")
                    ))
                })
                .map(Some)?;
        }
    }
    let req = page_request(draft, target, space_id.as_deref())?;
    let v = send(&client, target, &req, draft).await?;
    let page_id = id_of(&v["id"])
        .ok_or_else(|| PublishError::Refused("Confluence's answer has no page id".into()))?;
    let version = v["version"]["number"].as_u64().unwrap_or(1);
    Ok(Published {
        base_url: target.base.clone(),
        page_id,
        version,
    })
}
