//! GraphQL at `/api/graphql`: the same data and the same permissions as the
//! REST API, with depth and complexity limits, on both store backends.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backends::{Backend, Platform, on_both_backends};
use crate::support::{ADMIN, Api};

on_both_backends!(graphql_shows_what_rest_would_and_limits_queries,);

/// Posts `query` to `/api/graphql` as `api`'s caller.
pub async fn graphql(api: &Api, query: &str) -> (u16, Value) {
    api.send(
        Method::POST,
        "/api/graphql",
        Some(json!({ "query": query }).to_string().into_bytes()),
    )
    .await
}

fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

async fn graphql_shows_what_rest_would_and_limits_queries(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    admin
        .tenants_with_plugin(&[("acme", "alpha"), ("globex", "beta")])
        .await;
    let viewer = platform.api(&admin.create_key("acme", "viewer").await);
    let operator = platform.api(&admin.create_key("acme", "operator").await);

    let (status, _) = graphql(&platform.api(""), "{ me { actor } }").await;
    assert_eq!(status, 401);
    let (status, _) = viewer
        .send(Method::POST, "/api/graphql", Some(b"{not json".to_vec()))
        .await;
    assert_eq!(status, 400);

    // A viewer reads acme's plugins, as over REST.
    let (status, body) = graphql(
        &viewer,
        r#"{ me { actor platformAdmin } tenant(id: "acme") { id plugins { name enabledVersion versions { version size world } } } }"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["me"]["platformAdmin"], false);
    let plugins = &body["data"]["tenant"]["plugins"];
    assert_eq!(plugins[0]["name"], "alpha", "{body}");
    assert_eq!(plugins[0]["versions"][0]["version"], "1.0.0");
    assert_eq!(plugins[0]["enabledVersion"], Value::Null);

    // ... but not its members (user.read), nor anything of globex.
    let (_, body) = graphql(&viewer, r#"{ tenant(id: "acme") { members { username role } } }"#).await;
    assert_eq!(error_code(&body), Some("forbidden"), "{body}");
    let (_, body) = graphql(&viewer, r#"{ tenant(id: "globex") { plugins { name } } }"#).await;
    assert_eq!(error_code(&body), Some("forbidden"), "{body}");
    assert!(!body.to_string().contains("beta"), "{body}");

    // An operator reads usage and the audit log (billing.read, audit.read).
    let (_, period) = operator.send(Method::GET, "/api/v1/tenants/acme/usage", None).await;
    let period = period["period"].as_str().unwrap().to_string();
    let query = format!(
        r#"{{ tenant(id: "acme") {{ usage(period: "{period}") {{ plan plugins {{ plugin invocations }} }} audit(limit: 5) {{ seq action outcome }} }} }}"#
    );
    let (_, body) = graphql(&operator, &query).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["tenant"]["usage"]["plan"], "default");
    let audit = body["data"]["tenant"]["audit"].as_array().unwrap();
    assert!(!audit.is_empty() && audit[0]["seq"] == 1, "{body}");
    let (_, body) = graphql(&viewer, &query).await;
    assert_eq!(error_code(&body), Some("forbidden"), "{body}");

    // Too deep and too complex queries are refused before they run.
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }";
    let (_, body) = graphql(&viewer, deep).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("too deep"),
        "{body}"
    );
    let complex =
        r#"{ tenant(id: "acme") { audit(limit: 1000) { seq at actor action target outcome sourceIp requestId } } }"#;
    let (_, body) = graphql(&operator, complex).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("too complex"),
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
}
