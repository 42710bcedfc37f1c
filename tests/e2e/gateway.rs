//! Gateway features through the real binary: rate limits (in process, and
//! shared by two nodes through Redis), request ids, security headers, CORS.

use reqwest::Method;

use crate::backends::SECRET;
use crate::support::{ADMIN, Api, Pa, postgres_url, unique_name};

async fn get_with(url: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{url}/api/v1/tenants/acme/plugins"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {name} header"))
}

async fn assert_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&response, "ratelimit-remaining"), "0");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn the_api_is_described_by_openapi_with_interactive_docs() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::start(
        &["serve", "--data-dir", dir.path().to_str().unwrap()],
        &[("PA_ADMIN_TOKEN", ADMIN)],
    );
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", pa.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let docs = include_str!("../../docs/permissions.md");
    for row in docs.lines().filter(|l| {
        l.starts_with("| GET ") || l.starts_with("| POST ") || l.starts_with("| PUT ") || l.starts_with("| DELETE ")
    }) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (method, path) = (cells[1].to_lowercase(), cells[2].trim_matches('`'));
        let operation = &doc["paths"][path][&method];
        assert!(operation.is_object(), "{method} {path} is not in the OpenAPI document");
        let secured = operation.get("security").is_some();
        assert_eq!(secured, cells[3] != "public", "{method} {path}: security");
    }
    let page = reqwest::get(format!("{}/api/docs", pa.url)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("PowerAutomation control plane"));
}

#[tokio::test]
async fn rate_limits_hold_across_two_nodes_sharing_redis() {
    let database = format!("{}?schema={}", postgres_url(), unique_name("pa_gw"));
    let prefix = format!("{}:", unique_name("pa-test"));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let nodes: Vec<Pa> = dirs
        .iter()
        .map(|dir| {
            Pa::start(
                &[
                    "serve",
                    "--data-dir",
                    dir.path().to_str().unwrap(),
                    "--database-url",
                    &database,
                ],
                &[
                    ("PA_ADMIN_TOKEN", ADMIN),
                    ("PA_SECRET_KEY", SECRET),
                    ("PA_REDIS_URL", "redis://127.0.0.1:6379"),
                    ("PA_REDIS_PREFIX", &prefix),
                    ("PA_RATE_LIMIT_KEY", "6/min"),
                ],
            )
        })
        .collect();
    let tenant_key = Api::new(&nodes[0], ADMIN).create_tenant("acme").await;
    let mut remaining = Vec::new();
    for i in 0..6 {
        let response = get_with(&nodes[i % 2].url, &tenant_key).await;
        assert_eq!(response.status(), 200, "request {i}");
        assert_eq!(header(&response, "ratelimit-limit"), "6");
        remaining.push(header(&response, "ratelimit-remaining"));
    }
    assert_eq!(
        remaining,
        ["5", "4", "3", "2", "1", "0"],
        "one bucket across both nodes"
    );
    assert_limited(get_with(&nodes[0].url, &tenant_key).await).await;
    assert_limited(get_with(&nodes[1].url, &tenant_key).await).await;
    let other = Api::new(&nodes[1], &tenant_key)
        .send(Method::POST, "/api/v1/tenants/acme/api-keys", None)
        .await;
    assert_eq!(other.0, 429, "the limit covers every endpoint");
    let fresh = Api::new(&nodes[1], ADMIN)
        .send(Method::POST, "/api/v1/tenants/acme/api-keys", None)
        .await;
    assert_eq!(fresh.0, 201, "{}", fresh.1);
    let fresh = fresh.1["key"].as_str().unwrap().to_string();
    assert_eq!(
        get_with(&nodes[1].url, &fresh).await.status(),
        200,
        "another key has its own bucket"
    );
}

#[tokio::test]
async fn in_process_limits_apply_per_ip_and_tenant_and_spare_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::start(
        &["serve", "--data-dir", dir.path().to_str().unwrap()],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_RATE_LIMIT_TENANT", "4/min"),
            ("PA_RATE_LIMIT_IP", "10/min"),
        ],
    );
    let key = Api::new(&pa, ADMIN).create_tenant("acme").await;
    // create_tenant made one tenant-scoped call (the key); three more pass.
    for _ in 0..3 {
        let response = get_with(&pa.url, &key).await;
        assert_eq!(response.status(), 200);
        assert!(!header(&response, "x-request-id").is_empty());
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
    }
    assert_limited(get_with(&pa.url, &key).await).await;
    let mcp = reqwest::Client::new()
        .post(format!("{}/t/acme/mcp", pa.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 429, "the tenant's MCP endpoint shares its limit");
    for _ in 0..20 {
        let health = reqwest::get(format!("{}/healthz", pa.url)).await.unwrap();
        assert_eq!(health.status(), 200, "health checks are never limited");
    }
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            reqwest::get(format!("{}/api/v1/auth/me", pa.url))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.contains(&401) && statuses.last() == Some(&429),
        "the IP limit: {statuses:?}"
    );
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::start(
        &["serve", "--data-dir", dir.path().to_str().unwrap()],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_CORS_ORIGINS", "https://console.example"),
        ],
    );
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(Method::OPTIONS, format!("{}/api/v1/tenants/acme/plugins", pa.url))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://console.example").await.unwrap();
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        "https://console.example"
    );
    assert!(header(&allowed, "access-control-allow-headers").contains("authorization"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let closed_dir = tempfile::tempdir().unwrap();
    let closed = Pa::start(
        &["serve", "--data-dir", closed_dir.path().to_str().unwrap()],
        &[("PA_ADMIN_TOKEN", ADMIN)],
    );
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", closed.url))
        .header("origin", "https://console.example")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for name in ["access-control-allow-origin", "access-control-expose-headers", "vary"] {
        assert!(
            response.headers().get(name).is_none(),
            "no origin configured: no `{name}`"
        );
    }
}
