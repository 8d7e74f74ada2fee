//! The RabbitMQ management HTTP API: one `GET /api/queues/{vhost}` per poll,
//! restricted with `columns` to the fields the cockpit shows.

use super::{ApiSettings, missing};
use crate::config::mask_secrets;
use crate::model::QueueStat;
use crate::sources::SourceError;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// The fields asked for; dotted paths select inside `message_stats`.
pub const COLUMNS: &str = "name,messages_ready,messages_unacknowledged,consumers,\
message_stats.publish_details.rate,message_stats.deliver_get_details.rate";

/// A vhost's queue list is small with `columns`; anything this big is not
/// the management API and must not be buffered.
const MAX_BODY: usize = 64 * 1024 * 1024;

pub(super) struct Api {
    client: reqwest::Client,
    url: url::Url,
    /// `host:port` (plus a path prefix, if any), for messages.
    endpoint: String,
    vhost: String,
    auth: Option<(String, String)>,
    timeout: Duration,
}

/// One API answer, split by what it can tell.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiQueues {
    /// Every watched queue, in the order asked; absent ones are `missing`.
    pub stats: Vec<QueueStat>,
    /// Watched queues the API lists without counts yet (declared since its
    /// last statistics emission); their `stats` entries read zero.
    pub pending: Vec<String>,
}

pub(super) enum Fetched {
    Complete(Vec<QueueStat>),
    /// Some counts are not known yet; the zeros in it are placeholders.
    Pending(Vec<QueueStat>),
}

#[derive(Deserialize)]
struct Row {
    name: String,
    messages_ready: Option<u64>,
    messages_unacknowledged: Option<u64>,
    consumers: Option<u32>,
    message_stats: Option<MessageStats>,
}

#[derive(Deserialize)]
struct MessageStats {
    publish_details: Option<Rate>,
    deliver_get_details: Option<Rate>,
}

#[derive(Deserialize)]
struct Rate {
    rate: Option<f64>,
}

/// Reads the body of `GET /api/queues/{vhost}?columns=...` and picks the
/// watched queues out of it. A queue with no `message_stats` has seen no
/// traffic in the stats window (or rates are off): its rates are unknown.
pub fn parse_queue_list(body: &[u8], watched: &[String]) -> Result<ApiQueues, String> {
    let rows: Vec<Row> = serde_json::from_slice(body)
        .map_err(|e| format!("answered with something that is not a queue list ({e})"))?;
    let mut by_name: HashMap<&str, &Row> = HashMap::with_capacity(rows.len());
    for r in &rows {
        by_name.insert(r.name.as_str(), r);
    }
    let mut stats = Vec::with_capacity(watched.len());
    let mut pending = Vec::new();
    for name in watched {
        let Some(r) = by_name.get(name.as_str()) else {
            stats.push(missing(name));
            continue;
        };
        if r.messages_ready.is_none() {
            pending.push(name.clone());
        }
        let rate = |pick: fn(&MessageStats) -> &Option<Rate>| {
            r.message_stats
                .as_ref()
                .and_then(|m| pick(m).as_ref())
                .and_then(|d| d.rate)
        };
        stats.push(QueueStat {
            name: name.clone(),
            ready: r.messages_ready.unwrap_or(0),
            unacked: r.messages_unacknowledged,
            consumers: r.consumers.unwrap_or(0),
            publish_rate: rate(|m| &m.publish_details),
            deliver_rate: rate(|m| &m.deliver_get_details),
            missing: false,
        });
    }
    Ok(ApiQueues { stats, pending })
}

/// URL userinfo is percent-encoded; the API wants the plain text.
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    })
}

impl Api {
    pub(super) fn new(
        settings: &ApiSettings,
        vhost: &str,
        fallback: Option<(String, String)>,
        timeout: Duration,
    ) -> Result<Api, SourceError> {
        let shown = mask_secrets(&settings.url);
        let bad = |why: String| {
            SourceError(format!(
                "rabbitmq_api {shown:?} {why}; expected the management API's base URL, e.g. http://host:15672"
            ))
        };
        // Unparseable text is not echoed: masking cannot find a password in it.
        let mut url = url::Url::parse(settings.url.trim()).map_err(|e| {
            SourceError(format!(
                "rabbitmq_api is not a URL ({e}); expected the management API's base URL, e.g. http://host:15672"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(format!(
                "has scheme {:?}, not http or https",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("names no host".into()))?
            .to_string();
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("has a query or fragment".into()));
        }

        // Separate settings win over the URL's userinfo, which wins over the
        // AMQP URL's (often the same monitoring user).
        let url_user = non_empty(url.username());
        let url_password = url.password().and_then(non_empty);
        let password = settings.password.clone().or(url_password);
        let auth = match settings.user.clone().or(url_user) {
            Some(user) => Some((user, password.unwrap_or_default())),
            None => fallback.map(|(u, p)| (u, password.unwrap_or(p))),
        };
        // Credentials go in the Authorization header, never in a URL that
        // could end up in an error message.
        let _ = url.set_username("");
        let _ = url.set_password(None);

        let prefix = url.path().trim_end_matches('/').to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let endpoint = format!("{host}:{port}{prefix}");
        url.path_segments_mut()
            .map_err(|()| bad("cannot take a path".into()))?
            .pop_if_empty()
            // One segment: a '/' in the vhost is encoded as %2F, as the API wants.
            .extend(["api", "queues", vhost]);
        url.query_pairs_mut().append_pair("columns", COLUMNS);

        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| SourceError(format!("cannot set up the HTTP client: {}", chain(&e))))?;
        Ok(Api {
            client,
            url,
            endpoint,
            vhost: vhost.to_string(),
            auth,
            timeout,
        })
    }

    pub(super) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn label(&self) -> String {
        format!("rabbitmq api {}", self.endpoint)
    }

    pub(super) async fn fetch(&self, watched: &[String]) -> Result<Fetched, SourceError> {
        let body = self
            .get()
            .await
            .map_err(|e| SourceError(mask_secrets(&e)))?;
        let parsed = parse_queue_list(&body, watched)
            .map_err(|e| SourceError(format!("{} {e}", self.label())))?;
        Ok(if parsed.pending.is_empty() {
            Fetched::Complete(parsed.stats)
        } else {
            Fetched::Pending(parsed.stats)
        })
    }

    async fn get(&self) -> Result<Vec<u8>, String> {
        let label = self.label();
        let mut req = self.client.get(self.url.clone());
        if let Some((user, password)) = &self.auth {
            req = req.basic_auth(user, Some(password));
        }
        let mut resp = req.send().await.map_err(|e| self.request_error(e))?;
        let status = resp.status();
        if !status.is_success() {
            let user = self.auth.as_ref().map(|(u, _)| u.as_str());
            return Err(match (status.as_u16(), user) {
                (401, Some(u)) => format!(
                    "{label} refused the login of user {u:?} (HTTP 401): check rabbitmq_api_user and rabbitmq_api_password"
                ),
                (401, None) => format!(
                    "{label} wants a login (HTTP 401): set rabbitmq_api_user and rabbitmq_api_password"
                ),
                (403, _) => format!(
                    "{label} refused user {:?} (HTTP 403): give it the monitoring tag and access to vhost {:?}",
                    user.unwrap_or(""),
                    self.vhost
                ),
                (404, _) => format!(
                    "{label} has no vhost {:?} (HTTP 404): check vhost, and that rabbitmq_api is the management API's base URL",
                    self.vhost
                ),
                (code, _) => format!("{label} answered HTTP {code} for the queue list"),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.request_error(e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!(
                    "{label} sent more than {} MiB for the queue list; is rabbitmq_api the management API?",
                    MAX_BODY / (1024 * 1024)
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn request_error(&self, e: reqwest::Error) -> String {
        let label = self.label();
        // The label already says where; the full query URL is only noise.
        let e = e.without_url();
        if e.is_timeout() {
            format!(
                "{label} gave no answer within {} s",
                self.timeout.as_secs_f64()
            )
        } else if e.is_connect() {
            format!(
                "{label} unreachable: {}; is the management plugin enabled (rabbitmq-plugins enable rabbitmq_management)?",
                chain(&e)
            )
        } else {
            format!("{label} request failed: {}", chain(&e))
        }
    }
}

/// An error and its causes on one line, without repeats and without URLs'
/// secrets (reqwest names the URL; ours carries no credentials, but mask
/// anyway).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    mask_secrets(&parts.join(": "))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from RabbitMQ 3.10.8 (`GET /api/queues/%2f?columns=...`):
    /// a queue with traffic (`message_stats` present), a quiet one (no
    /// `message_stats`), and one declared a moment before (no counts yet).
    const CAPTURED: &str = r#"[{"name":"capture.fresh"},{"consumers":0,"message_stats":{"publish_details":{"rate":0.0}},"messages_ready":3,"messages_unacknowledged":0,"name":"capture.work"},{"consumers":0,"messages_ready":0,"messages_unacknowledged":0,"name":"capture.work.dlq"}]"#;

    /// With a consumer holding messages, as the API reports it.
    const BUSY: &str = r#"[{"consumers":2,"message_stats":{"deliver_get_details":{"rate":4.2},"publish_details":{"rate":6.5}},"messages_ready":120,"messages_unacknowledged":20,"name":"fulfillment"}]"#;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn captured_list_gives_counts_missing_and_pending() {
        let watched = names(&["capture.work", "capture.work.dlq", "capture.fresh", "nope"]);
        let got = parse_queue_list(CAPTURED.as_bytes(), &watched).unwrap();
        let by = |n: &str| got.stats.iter().find(|s| s.name == n).unwrap();
        let work = by("capture.work");
        assert_eq!((work.ready, work.unacked, work.consumers), (3, Some(0), 0));
        assert_eq!((work.publish_rate, work.deliver_rate), (Some(0.0), None));
        assert!(!work.missing);
        let dlq = by("capture.work.dlq");
        assert_eq!((dlq.ready, dlq.publish_rate), (0, None));
        assert!(by("nope").missing);
        assert!(!by("capture.fresh").missing);
        assert_eq!(got.pending, ["capture.fresh"]);
        let order: Vec<_> = got.stats.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(order, watched, "stats follow the watched order");
    }

    #[test]
    fn rates_and_unacked_come_through() {
        let got = parse_queue_list(BUSY.as_bytes(), &names(&["fulfillment"])).unwrap();
        let s = &got.stats[0];
        assert_eq!((s.ready, s.unacked, s.consumers), (120, Some(20), 2));
        assert_eq!((s.publish_rate, s.deliver_rate), (Some(6.5), Some(4.2)));
        assert!(got.pending.is_empty());
    }

    #[test]
    fn unwatched_queues_are_ignored_and_garbage_is_an_error() {
        let got = parse_queue_list(BUSY.as_bytes(), &[]).unwrap();
        assert!(got.stats.is_empty());
        for bad in [
            "",
            "{}",
            "<html>login</html>",
            r#"[{"messages_ready":1}]"#,
            r#"[{"name":"q","messages_ready":-1}]"#,
        ] {
            let e = parse_queue_list(bad.as_bytes(), &names(&["q"])).unwrap_err();
            assert!(e.contains("not a queue list") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn the_request_url_encodes_the_vhost_and_carries_no_credentials() {
        let settings = ApiSettings {
            url: "http://mon:s3cret@127.0.0.1:15672/".into(),
            user: None,
            password: None,
        };
        let api = Api::new(&settings, "/", None, Duration::from_secs(3)).unwrap();
        assert_eq!(
            api.url.as_str(),
            "http://127.0.0.1:15672/api/queues/%2F?columns=name%2Cmessages_ready%2Cmessages_unacknowledged%2Cconsumers%2Cmessage_stats.publish_details.rate%2Cmessage_stats.deliver_get_details.rate"
        );
        assert_eq!(api.auth, Some(("mon".into(), "s3cret".into())));
        assert_eq!(api.endpoint(), "127.0.0.1:15672");

        let behind_proxy = ApiSettings {
            url: "https://ops.example/rabbitmq".into(),
            user: Some("ops".into()),
            password: Some("p".into()),
        };
        let api = Api::new(
            &behind_proxy,
            "orders",
            Some(("amqp".into(), "x".into())),
            Duration::from_secs(3),
        )
        .unwrap();
        assert!(
            api.url
                .as_str()
                .starts_with("https://ops.example/rabbitmq/api/queues/orders?")
        );
        assert_eq!(api.auth, Some(("ops".into(), "p".into())));
        assert_eq!(api.endpoint(), "ops.example:443/rabbitmq");
    }

    #[test]
    fn credentials_fall_back_to_the_amqp_url() {
        let settings = ApiSettings {
            url: "http://h:15672".into(),
            user: None,
            password: None,
        };
        let api = Api::new(
            &settings,
            "/",
            Some(("app".into(), "pw".into())),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(api.auth, Some(("app".into(), "pw".into())));
        let api = Api::new(&settings, "/", None, Duration::from_secs(1)).unwrap();
        assert_eq!(api.auth, None);
    }

    #[test]
    fn causes_are_joined_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        assert_eq!(chain(&io), "Connection refused");
    }
}
