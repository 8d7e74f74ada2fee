//! Publishing against a tiny HTTP server started by the test: the method,
//! path, auth header and body representation of each request, and the
//! version number going up on the next publish.

use orderdeck::config::ConfluenceConfig;
use orderdeck::postmortem::model::Draft;
use orderdeck::postmortem::publish::{self, Flavor, PublishError, Target};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    auth: String,
    body: Value,
}

/// Answers each connection with the next (status, body) and reports what
/// it was asked.
fn server(replies: Vec<(u16, &'static str)>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (status, reply) in replies {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let (mut auth, mut len) = (String::new(), 0usize);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if lower.starts_with("authorization:") {
                    auth = h["authorization:".len()..].trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let _ = tx.send(Seen {
                method,
                path,
                auth,
                body,
            });
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, rx)
}

fn target(url: &str, user: Option<&str>, space: &str) -> Target {
    let config = ConfluenceConfig {
        url: Some(url.into()),
        user: user.map(String::from),
        token: Some("tok-secret".into()),
        space: Some(space.into()),
        ..ConfluenceConfig::default()
    };
    Target::resolve(&config, |_| None, None, Some("999".into())).expect("target")
}

fn draft() -> Draft {
    let mut d = Draft::new("PM-1".into(), chrono::Utc::now());
    d.title = "Settlement <backlog> & ]]>".into();
    d
}

#[tokio::test]
async fn cloud_creates_with_basic_auth_then_updates_with_the_next_version() {
    let (url, seen) = server(vec![
        (200, r#"{"results":[{"id":"65537","key":"OPS"}]}"#),
        (200, r#"{"id":"4242","version":{"number":1}}"#),
        (200, r#"{"id":"4242","version":{"number":2}}"#),
    ]);
    let t = target(&url, Some("me@example.com"), "OPS");
    assert_eq!(t.flavor, Flavor::Cloud);
    let mut d = draft();
    let page = publish::publish(&d, &t).await.expect("create");
    assert_eq!((page.page_id.as_str(), page.version), ("4242", 1));
    let lookup = seen.recv().expect("lookup");
    assert_eq!(
        (lookup.method.as_str(), lookup.path.as_str()),
        ("GET", "/wiki/api/v2/spaces?keys=OPS")
    );
    // base64("me@example.com:tok-secret")
    assert_eq!(lookup.auth, "Basic bWVAZXhhbXBsZS5jb206dG9rLXNlY3JldA==");
    let create = seen.recv().expect("create");
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/wiki/api/v2/pages")
    );
    assert_eq!(create.body["spaceId"], "65537");
    assert_eq!(create.body["parentId"], "999");
    assert_eq!(create.body["title"], "PM-1: Settlement <backlog> & ]]>");
    assert_eq!(create.body["body"]["representation"], "storage");
    let value = create.body["body"]["value"].as_str().unwrap_or("");
    assert!(value.contains("<h2>Summary</h2>"), "{value}");

    d.published = Some(page);
    let page = publish::publish(&d, &t).await.expect("update");
    assert_eq!(page.version, 2);
    let update = seen.recv().expect("update");
    assert_eq!(
        (update.method.as_str(), update.path.as_str()),
        ("PUT", "/wiki/api/v2/pages/4242")
    );
    assert_eq!(update.body["version"]["number"], 2);
}

#[tokio::test]
async fn data_center_uses_a_bearer_token_and_explains_a_conflict() {
    let (url, seen) = server(vec![
        (200, r#"{"id":77,"version":{"number":3}}"#),
        (409, r#"{"message":"conflict"}"#),
    ]);
    let t = target(&url, None, "OPS");
    assert_eq!(t.flavor, Flavor::DataCenter);
    let mut d = draft();
    let page = publish::publish(&d, &t).await.expect("create");
    assert_eq!(page.page_id, "77");
    let create = seen.recv().expect("create");
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/rest/api/content")
    );
    assert_eq!(create.auth, "Bearer tok-secret");
    assert_eq!(create.body["space"]["key"], "OPS");
    assert_eq!(create.body["ancestors"][0]["id"], "999");
    assert_eq!(create.body["body"]["storage"]["representation"], "storage");
    d.published = Some(page);
    let err = publish::publish(&d, &t).await.expect_err("409");
    let update = seen.recv().expect("update");
    assert_eq!(update.method, "PUT");
    assert_eq!(update.body["version"]["number"], 4);
    assert!(matches!(err, PublishError::Refused(_)));
    assert!(
        err.to_string().starts_with("version conflict (409)"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn auth_errors_and_an_unreachable_server_get_their_own_messages() {
    for (status, start) in [
        (401, "Confluence rejected the credentials (401)"),
        (403, "Confluence refused (403)"),
        (404, "not found (404)"),
    ] {
        let (url, _seen) = server(vec![(status, "{}")]);
        let t = target(&url, None, "OPS");
        let err = publish::publish(&draft(), &t).await.expect_err("error");
        assert!(err.to_string().starts_with(start), "{status}: {err}");
        assert!(!err.to_string().contains("tok-secret"));
    }
    // A port nobody listens on.
    let free = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", free.local_addr().expect("addr"));
    drop(free);
    let err = publish::publish(&draft(), &target(&url, None, "OPS"))
        .await
        .expect_err("down");
    assert_eq!(err.exit_code(), 3, "{err}");
}

#[test]
fn dry_run_prints_the_requests_without_the_secret() {
    let t = target(
        "https://example.atlassian.net/wiki/",
        Some("me@example.com"),
        "OPS",
    );
    let out = publish::dry_run(&draft(), &t).expect("dry run");
    assert!(
        out.starts_with("GET https://example.atlassian.net/wiki/api/v2/spaces?keys=OPS\n"),
        "{out}"
    );
    assert!(out.contains("POST https://example.atlassian.net/wiki/api/v2/pages"));
    assert!(out.contains("Authorization: Basic ***"));
    assert!(!out.contains("tok-secret"));
    let missing = Target::resolve(&ConfluenceConfig::default(), |_| None, None, None);
    assert!(matches!(missing, Err(PublishError::Config(_))));
    let from_env = Target::resolve(
        &ConfluenceConfig::default(),
        |k| match k {
            "ORDERDECK_CONFLUENCE_URL" => Some("https://wiki.example.com".into()),
            "ORDERDECK_CONFLUENCE_TOKEN" => Some("pat".into()),
            _ => None,
        },
        Some("OPS".into()),
        None,
    )
    .expect("env");
    assert_eq!(from_env.flavor, Flavor::DataCenter);
}
