//! The MCP endpoint through the real binary: authentication and tenant
//! isolation, a failing tool contained, `list_changed` on enable, name
//! clashes refused, malformed JSON-RPC answered with the spec's codes, and
//! arguments checked against their `Mcp-Param-*` headers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN, Api, Pa};

/// A client of one tenant's MCP endpoint with one key.
pub struct Mcp {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
}

impl Mcp {
    pub fn new(pa: &Pa, tenant: &str, token: Option<&str>) -> Mcp {
        Mcp {
            http: reqwest::Client::new(),
            url: format!("{}/t/{tenant}/mcp", pa.url.replace("127.0.0.1", "localhost")),
            token: token.map(str::to_string),
            session: None,
        }
    }

    fn post(&self, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        request
    }

    /// Sends a request; returns the HTTP status and the JSON-RPC response
    /// (the last SSE message when the answer is a stream).
    async fn request(&self, body: Value) -> (u16, Value) {
        self.request_text(body.to_string()).await
    }

    async fn request_text(&self, body: String) -> (u16, Value) {
        let response = self.post(body).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("data: "))
            .map(str::to_string)
            .unwrap_or(text);
        (status, serde_json::from_str(&json).unwrap_or(Value::String(json)))
    }

    pub async fn call(&self, method: &str, params: Value) -> Value {
        let (status, response) = self
            .request(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))
            .await;
        assert_eq!(status, 200, "{method}: {response}");
        response
    }

    pub async fn initialize(&mut self) {
        let response = self
            .post(
                json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": { "name": "e2e", "version": "1" } } })
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        self.session = Some(response.headers()["mcp-session-id"].to_str().unwrap().to_string());
        let (status, _) = self
            .request(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        assert_eq!(status, 202);
    }

    async fn tool_names(&self) -> Vec<String> {
        let listed = self.call("tools/list", json!({})).await;
        listed["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test]
async fn mcp_endpoint_serves_each_tenant_its_own_tools() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let acme_key = admin.create_tenant("acme").await;
    let globex_key = admin.create_tenant("globex").await;
    let limits = json!({ "limits": { "timeout_ms": 2000, "memory_mib": 32 } });
    admin
        .deploy("acme", "faults", "1.0.0", "tool_faults.wasm", limits)
        .await;
    admin
        .deploy("globex", "fixture", "1.0.0", "conformance.wasm", json!({}))
        .await;

    // Unauthenticated: 401 pointing at the protected-resource metadata.
    let anonymous = Mcp::new(&pa, "acme", None);
    let response = anonymous
        .post(json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect(&challenge)
        .to_string();
    let metadata: Value = reqwest::get(&metadata_url).await.unwrap().json().await.unwrap();
    assert!(
        metadata["resource"].as_str().unwrap().ends_with("/t/acme/mcp"),
        "{metadata}"
    );

    // Another tenant's key is refused.
    let (status, _) = Mcp::new(&pa, "acme", Some(&globex_key))
        .request(json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {} }))
        .await;
    assert_eq!(status, 403);

    let mut acme = Mcp::new(&pa, "acme", Some(&acme_key));
    acme.initialize().await;
    assert_eq!(
        acme.tool_names().await,
        [
            "faults_echo",
            "faults_panic",
            "faults_spin",
            "faults_grow",
            "faults_count"
        ]
    );
    // Instances are kept between calls, like an MCP server process.
    let count = |answer: Value| answer["result"]["content"][0]["text"].as_str().unwrap().to_string();
    let first = count(acme.call("tools/call", json!({ "name": "faults_count" })).await);
    let second = count(acme.call("tools/call", json!({ "name": "faults_count" })).await);
    assert_eq!((first.as_str(), second.as_str()), ("1", "2"));
    let mut globex = Mcp::new(&pa, "globex", Some(&globex_key));
    globex.initialize().await;
    let globex_tools = globex.tool_names().await;
    assert!(globex_tools.contains(&"fixture_test_simple_text".to_string()));
    assert!(!globex_tools.iter().any(|t| t.starts_with("faults")));
    let refused = globex
        .call(
            "tools/call",
            json!({ "name": "faults_echo", "arguments": { "text": "x" } }),
        )
        .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");

    // A panicking, a spinning and a greedy tool fail as tool errors while a
    // concurrent call to a healthy tool succeeds.
    let echo = acme.call(
        "tools/call",
        json!({ "name": "faults_echo", "arguments": { "text": "still here" } }),
    );
    let panic = acme.call("tools/call", json!({ "name": "faults_panic" }));
    let spin = acme.call("tools/call", json!({ "name": "faults_spin" }));
    let grow = acme.call("tools/call", json!({ "name": "faults_grow" }));
    let (echo, panic, spin, grow) = tokio::join!(echo, panic, spin, grow);
    assert_eq!(echo["result"]["content"][0]["text"], "still here", "{echo}");
    assert_eq!(echo["result"]["isError"], false);
    for (failed, words) in [
        (panic, "unreachable"),
        (spin, "timeout"),
        (grow, "memory limit of 32 MiB"),
    ] {
        assert_eq!(failed["result"]["isError"], true, "{failed}");
        let text = failed["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(words), "{text}");
    }
    let wrong = acme
        .call(
            "tools/call",
            json!({ "name": "faults_echo", "arguments": { "text": 5 } }),
        )
        .await;
    assert_eq!(wrong["result"]["isError"], true, "{wrong}");
    let text = wrong["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("argument `text` must be a string"), "{text}");

    // Enabling a plugin notifies the session's stream, and its tools appear.
    let mut stream = acme
        .http
        .get(&acme.url)
        .bearer_auth(&acme_key)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", acme.session.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let config = json!({ "tool_prefix": "fx" });
    admin
        .deploy("acme", "fixture", "1.0.0", "conformance.wasm", config)
        .await;
    let mut seen = String::new();
    while !seen.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("no list_changed within 10 s")
            .unwrap()
            .expect("stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(acme.tool_names().await.contains(&"fx_test_simple_text".to_string()));

    // The same names from a second plugin are refused.
    let (status, body) = admin
        .enable(
            "acme",
            "fixture-copy",
            json!({ "version": "1.0.0", "tool_prefix": "fx" }),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    admin
        .upload(
            "acme",
            "fixture-copy",
            "1.0.0",
            crate::support::guest_bytes("conformance.wasm"),
        )
        .await;
    let (status, body) = admin
        .enable(
            "acme",
            "fixture-copy",
            json!({ "version": "1.0.0", "tool_prefix": "fx" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fx_test_simple_text"),
        "{body}"
    );

    // Malformed JSON-RPC gets the spec's codes, and the server keeps serving.
    for (body, status, code) in [
        ("{not json".to_string(), 400, -32700),
        ("[]".to_string(), 400, -32600),
        (r#"{"jsonrpc":"2.0","id":1,"method":42}"#.to_string(), 400, -32600),
        (r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.to_string(), 400, -32600),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"no/such"}"#.to_string(),
            200,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#.to_string(),
            200,
            -32602,
        ),
    ] {
        let (got, answer) = acme.request_text(body.clone()).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(5 << 20)
    );
    // Its own connection: the server stops reading and closes it after the 413.
    let oversized = reqwest::Client::new()
        .post(&acme.url)
        .bearer_auth(&acme_key)
        .header("content-type", "application/json")
        .header("mcp-session-id", acme.session.as_deref().unwrap())
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    let pong = acme.call("ping", json!({})).await;
    assert_eq!(pong["result"], json!({}));

    // An ended session is gone.
    let ended = acme
        .http
        .delete(&acme.url)
        .bearer_auth(&acme_key)
        .header("mcp-session-id", acme.session.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    let (status, _) = acme
        .request(json!({ "jsonrpc": "2.0", "id": 9, "method": "ping" }))
        .await;
    assert_eq!(status, 404);
}

/// The plugin's status as the plugin list shows it.
async fn status(admin: &Api, tenant: &str, plugin: &str) -> Value {
    let (_, list) = admin
        .send(reqwest::Method::GET, &format!("/api/v1/tenants/{tenant}/plugins"), None)
        .await;
    let entry = list["plugins"].as_array().unwrap().iter().find(|p| p["name"] == plugin);
    entry.expect("plugin listed")["status"].clone()
}

#[tokio::test]
async fn failing_plugins_trip_the_breaker_and_bad_canaries_are_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key = admin.create_tenant("acme").await;
    let circuit = json!({ "circuit": { "failures": 3, "open_ms": 300 } });
    admin
        .deploy("acme", "faults", "1.0.0", "tool_faults.wasm", circuit)
        .await;
    let mut mcp = Mcp::new(&pa, "acme", Some(&key));
    mcp.initialize().await;
    let text = |answer: &Value| {
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // Three traps open the circuit: even the healthy tool fails fast.
    for _ in 0..3 {
        let failed = mcp.call("tools/call", json!({ "name": "faults_panic" })).await;
        assert!(text(&failed).contains("unreachable"), "{failed}");
    }
    assert_eq!(status(&admin, "acme", "faults").await["health"]["state"], "open");
    let echo = json!({ "name": "faults_echo", "arguments": { "text": "hi" } });
    let fast = mcp.call("tools/call", echo.clone()).await;
    assert!(text(&fast).contains("circuit open"), "{fast}");
    // After the open period one probe goes through and closes it.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(text(&mcp.call("tools/call", echo.clone()).await), "hi");
    assert_eq!(status(&admin, "acme", "faults").await["health"]["state"], "closed");

    // A canary whose echo fails is rolled back once its error rate is known.
    let (code, _) = admin
        .upload(
            "acme",
            "faults",
            "2.0.0",
            crate::support::guest_bytes("tool_faults.wasm"),
        )
        .await;
    assert_eq!(code, 201);
    let canary = json!({ "version": "1.0.0", "canary": {
        "version": "2.0.0", "weight": 50, "min_calls": 6, "max_error_rate": 0.2,
        "grants": { "variables": { "fail_echo": "true" } } } });
    let (code, body) = admin.enable("acme", "faults", canary).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&admin, "acme", "faults").await["canary"]["version"], "2.0.0");
    let mut failures = 0;
    for _ in 0..200 {
        let answer = mcp.call("tools/call", echo.clone()).await;
        if text(&answer) != "hi" {
            failures += 1;
        }
        if status(&admin, "acme", "faults").await["canary"].is_null() {
            break;
        }
    }
    assert!(failures >= 2, "the canary served some calls");
    let status = status(&admin, "acme", "faults").await;
    assert!(status["canary"].is_null(), "{status}");
    assert_eq!(status["last_rollback"]["version"], "2.0.0", "{status}");
    for _ in 0..20 {
        assert_eq!(text(&mcp.call("tools/call", echo.clone()).await), "hi");
    }
    // The rollback is stored: a restart serves the stable version alone.
    drop(pa);
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let (_, list) = admin
        .send(reqwest::Method::GET, "/api/v1/tenants/acme/plugins", None)
        .await;
    let faults = &list["plugins"][0];
    assert_eq!(faults["enabled_version"], "1.0.0", "{list}");
    assert!(faults["status"]["canary"].is_null(), "{list}");
}

#[tokio::test]
async fn plain_wit_exports_are_served_as_tools_with_derived_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key = admin.create_tenant("acme").await;
    admin
        .deploy("acme", "shapes", "1.0.0", "plain_exports.wasm", json!({}))
        .await;
    let mut mcp = Mcp::new(&pa, "acme", Some(&key));
    mcp.initialize().await;
    let listed = mcp.call("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).expect(name).clone();
    let add = tool("shapes_add");
    assert_eq!(
        add["inputSchema"]["properties"]["a"],
        json!({ "type": "integer", "minimum": 0, "maximum": 255 })
    );
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));
    let describe = tool("shapes_geometry_describe")["inputSchema"].clone();
    assert_eq!(
        describe["required"],
        json!(["label", "at", "style", "tags"]),
        "{describe}"
    );
    assert_eq!(
        describe["properties"]["color"]["anyOf"][0]["enum"],
        json!(["red", "green", "blue"])
    );
    assert_eq!(
        describe["properties"]["style"]["items"]["enum"],
        json!(["bold", "italic"])
    );
    assert_eq!(describe["properties"]["at"]["required"], json!(["x", "y"]));
    let area = tool("shapes_geometry_area")["inputSchema"]["properties"]["shape"]["oneOf"].clone();
    assert_eq!(area[2], json!({ "const": "dot" }), "{area}");

    let call = |name: &str, arguments: Value| mcp.call("tools/call", json!({ "name": name, "arguments": arguments }));
    let sum = call("shapes_add", json!({ "a": 200, "b": 100 })).await;
    assert_eq!(sum["result"]["structuredContent"], json!({ "result": 300 }), "{sum}");
    let rect = call("shapes_geometry_area", json!({ "shape": { "rect": [3, 4] } })).await;
    assert_eq!(rect["result"]["structuredContent"]["result"], 12.0, "{rect}");
    let moved = call(
        "shapes_geometry_translate",
        json!({ "points": [{ "x": 1, "y": 2 }], "dx": 10, "dy": -2 }),
    )
    .await;
    assert_eq!(
        moved["result"]["structuredContent"]["result"],
        json!([{ "x": 11, "y": 0 }])
    );
    let described = call(
        "shapes_geometry_describe",
        json!({ "label": "home", "at": { "x": 1, "y": 2 }, "color": "red", "style": ["bold"], "tags": ["a", "b"] }),
    )
    .await;
    assert_eq!(
        described["result"]["structuredContent"]["result"],
        json!({ "ok": "home at (1, 2), red bold, tags: a,b" }),
        "{described}"
    );
    let refused = call(
        "shapes_geometry_describe",
        json!({ "label": "", "at": { "x": 0, "y": 0 }, "style": [], "tags": [] }),
    )
    .await;
    assert_eq!(refused["result"]["isError"], true, "{refused}");

    // Arguments that do not fit get an error naming the field.
    for (name, arguments, expected) in [
        (
            "shapes_add",
            json!({ "a": "x", "b": 1 }),
            "`a` must be an integer between 0 and 255, got a string",
        ),
        (
            "shapes_add",
            json!({ "a": 300, "b": 1 }),
            "`a` must be an integer between 0 and 255, got 300",
        ),
        ("shapes_add", json!({ "a": 1 }), "missing argument `b`"),
        (
            "shapes_geometry_describe",
            json!({ "label": "x", "at": { "x": 1 }, "style": [], "tags": [] }),
            "missing field `at.y`",
        ),
        (
            "shapes_geometry_describe",
            json!({ "label": "x", "at": { "x": 1, "y": 1 }, "style": ["loud"], "tags": [] }),
            "`style` flags must be among bold, italic",
        ),
        (
            "shapes_geometry_area",
            json!({ "shape": { "hexagon": 1 } }),
            "`shape` has no case `hexagon`",
        ),
    ] {
        let answer = call(name, arguments).await;
        assert_eq!(answer["result"]["isError"], true, "{answer}");
        let text = answer["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(expected), "{text} should contain {expected}");
    }
}

/// A stateless (2026-07-28) `tools/call` of the fixture's `test_header_param`,
/// whose `region` argument is marked `x-mcp-header: Region`, sending
/// `Mcp-Param-Region: header` when one is given. `mcp` has no session.
async fn call_with_region_header(mcp: &Mcp, region: &str, header: Option<&str>) -> (u16, Value) {
    let body = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "test_header_param", "arguments": { "region": region },
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    } });
    let mut request = mcp
        .post(body.to_string())
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "test_header_param");
    if let Some(header) = header {
        request = request.header("Mcp-Param-Region", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn marked_arguments_must_match_their_mcp_param_headers() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let key = admin.create_tenant("acme").await;
    admin
        .deploy(
            "acme",
            "fixture",
            "1.0.0",
            "conformance.wasm",
            json!({ "tool_prefix": "" }),
        )
        .await;

    // The mark is listed as the tool declared it.
    let mut mcp = Mcp::new(&pa, "acme", Some(&key));
    mcp.initialize().await;
    let listed = mcp.call("tools/list", json!({})).await;
    let tool = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "test_header_param")
        .expect("test_header_param listed")
        .clone();
    assert_eq!(tool["inputSchema"]["properties"]["region"]["x-mcp-header"], "Region");

    // Plain or Base64-wrapped (with the spaces HTTP allows around a value), a matching header passes.
    let stateless = Mcp::new(&pa, "acme", Some(&key));
    for header in ["eu-west", " =?base64?ZXUtd2VzdA==?= "] {
        let (status, answer) = call_with_region_header(&stateless, "eu-west", Some(header)).await;
        assert_eq!(status, 200, "{header}: {answer}");
        assert_eq!(answer["result"]["content"][0]["text"], "region: eu-west", "{answer}");
    }
    // A missing, different or badly encoded header is a 400 HeaderMismatch naming it.
    for (header, says) in [
        (None, "Missing Mcp-Param-Region header"),
        (Some("us-east"), "does not match the argument `region`"),
        (Some("=?base64?ZXUtd2VzdA?="), "invalid Base64"),
        (Some("=?base64?ZXUt!!d2VzdA==?="), "invalid Base64"),
    ] {
        let (status, answer) = call_with_region_header(&stateless, "eu-west", header).await;
        assert_eq!(status, 400, "{header:?}: {answer}");
        assert_eq!(answer["error"]["code"], -32020, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Mcp-Param-Region") && message.contains(says),
            "{message}"
        );
    }
}
