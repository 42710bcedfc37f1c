//! The first-party tool servers (`components/smartui`, `coding`, `dev-flow`,
//! `release-mgmt`, `operations`) through the real binary: each is uploaded,
//! enabled and called over a tenant's MCP endpoint, and its results checked.

use serde_json::{Value, json};

use crate::mcp::Mcp;
use reqwest::Method;

use crate::support::{ADMIN, Api, Pa, cli, origin, outcome};

/// The result of a tool call that got no JSON-RPC error.
async fn tool_result(mcp: &Mcp, tool: &str, arguments: Value) -> Value {
    let answer = mcp
        .call("tools/call", json!({ "name": tool, "arguments": arguments }))
        .await;
    assert!(answer.get("error").is_none(), "{tool}: {answer}");
    answer["result"].clone()
}

/// Calls a tool that must succeed; returns its structured content.
async fn ok(mcp: &Mcp, tool: &str, arguments: Value) -> Value {
    let result = tool_result(mcp, tool, arguments).await;
    assert_eq!(result["isError"], false, "{tool}: {result}");
    let structured = result["structuredContent"].clone();
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        text, structured,
        "{tool}: the text block carries the structured content"
    );
    structured
}

/// Calls a tool that must fail as a tool error; returns (text, structured content).
async fn tool_error(mcp: &Mcp, tool: &str, arguments: Value) -> (String, Value) {
    let result = tool_result(mcp, tool, arguments).await;
    assert_eq!(result["isError"], true, "{tool}: {result}");
    (
        result["content"][0]["text"].as_str().unwrap().to_string(),
        result["structuredContent"].clone(),
    )
}

/// Starts `pa`, creates a tenant with four of the components enabled on
/// request and enables `operations` in it with its probe granted
/// `granted_port` on loopback.
async fn setup(dir: &std::path::Path, granted_port: u16) -> (Pa, Mcp) {
    let pa = Pa::serve(dir, &[]);
    let admin = Api::new(&pa, ADMIN);
    let four = json!({ "id": "acme", "first_party": ["smartui", "coding", "dev-flow", "release-mgmt"] });
    let (status, body) = admin.send_json(Method::POST, "/api/v1/tenants", four).await;
    assert_eq!(status, 201, "{body}");
    let (status, key) = admin.send(Method::POST, "/api/v1/tenants/acme/api-keys", None).await;
    assert_eq!(status, 201, "{key}");
    let grants = json!({ "grants": { "allowed_outbound_hosts": [format!("http://127.0.0.1:{granted_port}")] } });
    enable_operations(&admin, grants).await;
    let mut mcp = Mcp::new(&pa, "acme", key["key"].as_str());
    mcp.initialize().await;
    (pa, mcp)
}

/// Enables the first-party `operations` in `acme` with `options`.
async fn enable_operations(admin: &Api, options: Value) {
    let (status, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/first-party/operations/enable",
            options,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_platform_offers_its_components_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pa = Pa::serve(dir.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let (status, offer) = admin.send(Method::GET, "/api/v1/first-party", None).await;
    assert_eq!(status, 200, "{offer}");
    let components = offer["components"].as_array().unwrap();
    let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 11, "{offer}");
    for name in ["smartui", "operations", "ocr-implementation", "ocr-release"] {
        assert!(names.contains(&name), "{name} is offered: {offer}");
    }
    let ocr = components.iter().find(|c| c["name"] == "ocr-implementation").unwrap();
    assert_eq!(ocr["grants"]["ocr"], true, "{ocr}");
    assert!(ocr["version"].as_str().unwrap().starts_with("0.1.0+"), "{ocr}");

    // An unknown name creates no tenant; an unknown component is 404.
    let unknown = json!({ "id": "newco", "first_party": ["smartui", "no-such"] });
    let (status, body) = admin.send_json(Method::POST, "/api/v1/tenants", unknown).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("`no-such`"),
        "{body}"
    );
    let (status, listed) = admin.send(Method::GET, "/api/v1/tenants", None).await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default"], "the refused tenant was not created");
    let (status, _) = admin
        .send_json(Method::POST, "/api/v1/tenants", json!({ "id": "newco" }))
        .await;
    assert_eq!(status, 201);
    let (status, body) = admin
        .send(Method::POST, "/api/v1/tenants/default/first-party/no-such/enable", None)
        .await;
    assert_eq!(status, 404, "{body}");

    // Enabled on request with its default grants, stored as a version of the
    // tenant's plugin; enabling again changes nothing.
    for _ in 0..2 {
        let (status, body) = admin
            .send(
                Method::POST,
                "/api/v1/tenants/default/first-party/ocr-implementation/enable",
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["enabled"]["grants"]["ocr"], true, "{body}");
        assert_eq!(body["enabled"]["version"], ocr["version"], "{body}");
    }
    let (_, plugins) = admin.send(Method::GET, "/api/v1/tenants/default/plugins", None).await;
    let listed = &plugins["plugins"][0];
    assert_eq!(listed["name"], "ocr-implementation", "{plugins}");
    assert_eq!(listed["enabled_version"], ocr["version"], "{plugins}");
    assert_eq!(listed["versions"].as_array().unwrap().len(), 1, "{plugins}");
    assert_eq!(
        listed["versions"][0]["world"], "powerautomation:plugin/workflow-step@0.1",
        "{plugins}"
    );

    // The same from the command line, in another tenant.
    let cli = |args: &[&str]| outcome(&cli(&pa, args));
    let (ok, text) = cli(&["plugin", "first-party"]);
    assert!(ok && text.contains("\"ocr-release\""), "{text}");
    let (ok, text) = cli(&["plugin", "enable-first-party", "dev-flow", "--tenant", "newco"]);
    assert!(ok && text.contains("\"dev-flow\""), "{text}");
    let (ok, text) = cli(&["plugin", "enable-first-party", "nothing-like-it", "--tenant", "newco"]);
    assert!(
        !ok && text.contains("no first-party component `nothing-like-it`"),
        "{text}"
    );
    let (_, plugins) = admin.send(Method::GET, "/api/v1/tenants/newco/plugins", None).await;
    assert_eq!(plugins["plugins"][0]["name"], "dev-flow", "{plugins}");
}

#[tokio::test]
async fn first_party_components_do_real_work_over_mcp() {
    let dir = tempfile::tempdir().unwrap();
    let origin_port = origin().await;
    // A loopback port that was free a moment ago: granted, but nothing listens.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (pa, mcp) = setup(dir.path(), origin_port).await;
    let admin = Api::new(&pa, ADMIN);
    let both = json!({ "grants": { "allowed_outbound_hosts": [
        format!("http://127.0.0.1:{origin_port}"), format!("http://127.0.0.1:{closed_port}") ] } });
    enable_operations(&admin, both).await;

    // Every tool is listed with its schemas.
    let tools = mcp.call("tools/list", json!({})).await["result"].clone();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "smartui_form_from_schema",
        "smartui_layout_from_description",
        "coding_diff",
        "coding_format_json",
        "coding_format",
        "coding_lint",
        "dev-flow_lint_commit",
        "dev-flow_check_branch_name",
        "dev-flow_review_checklist",
        "release-mgmt_next_version",
        "release-mgmt_changelog",
        "release-mgmt_release_notes",
        "operations_parse_prometheus",
        "operations_check_thresholds",
        "operations_http_probe",
    ] {
        let tool = tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == expected);
        let tool = tool.unwrap_or_else(|| panic!("{expected} missing from {names:?}"));
        assert_eq!(tool["inputSchema"]["type"], "object", "{expected}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{expected}");
    }

    // SmartUI: a form with labels, required marks, a select and a fieldset.
    let form = ok(
        &mcp,
        "smartui_form_from_schema",
        json!({ "title": "Sign up", "id_prefix": "signup", "schema": {
                "type": "object", "x-order": ["email", "plan", "address"], "required": ["email"],
                "properties": {
                    "email": { "type": "string", "format": "email", "description": "We never share it." },
                    "plan": { "enum": ["free", "pro"] },
                    "address": { "type": "object", "title": "Address", "properties": { "city": { "type": "string" } } }
                } } }),
    )
    .await;
    let html = form["html"].as_str().unwrap();
    assert!(
        html.contains(
            "<label for=\"signup-email\">Email <span class=\"required\" aria-hidden=\"true\">*</span></label>"
        ),
        "{html}"
    );
    assert!(html.contains("<input type=\"email\" id=\"signup-email\" name=\"email\" autocomplete=\"email\" required aria-describedby=\"signup-email-desc\">"), "{html}");
    assert!(html.contains("<select id=\"signup-plan\" name=\"plan\">"), "{html}");
    assert!(html.contains("<legend>Address</legend>"), "{html}");
    assert!(html.find("signup-email\"").unwrap() < html.find("signup-plan\"").unwrap());
    assert!(
        form["checks"].as_array().unwrap().iter().all(|c| c["passed"] == true),
        "{form}"
    );
    let (message, _) = tool_error(
        &mcp,
        "smartui_form_from_schema",
        json!({ "schema": { "type": "object", "properties": { "a": { "type": "blob" } } } }),
    )
    .await;
    assert!(message.contains("`a`: unsupported type `blob`"), "{message}");
    let page = ok(
        &mcp,
        "smartui_layout_from_description",
        json!({ "title": "Status", "nav": [{ "label": "Home", "href": "/", "current": true }],
                    "sections": [{ "heading": "Services", "sections": [{ "heading": "API" }] }], "footer": "Acme" }),
    )
    .await;
    assert_eq!(
        page["landmarks"],
        json!(["banner", "navigation", "main", "contentinfo"])
    );
    let levels: Vec<u64> = page["outline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["level"].as_u64().unwrap())
        .collect();
    assert_eq!(levels, [1, 2, 3]);
    assert!(
        page["html"]
            .as_str()
            .unwrap()
            .contains("<a class=\"skip-link\" href=\"#main\">")
    );

    // Coding: diff, format, lint.
    let diff = ok(
        &mcp,
        "coding_diff",
        json!({ "old": "a\nb\nc\n", "new": "a\nB\nc\nd\n", "old_name": "a/x", "new_name": "b/x" }),
    )
    .await;
    assert_eq!(diff["diff"], "--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n");
    assert_eq!((diff["added"].as_u64(), diff["removed"].as_u64()), (Some(2), Some(1)));
    let formatted = ok(
        &mcp,
        "coding_format_json",
        json!({ "text": "{\"b\":1,\"a\":[1,2.50]}" }),
    )
    .await;
    assert_eq!(
        formatted["formatted"],
        "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2.50\n  ]\n}\n"
    );
    let (message, _) = tool_error(&mcp, "coding_format_json", json!({ "text": "{\"a\":1,}" })).await;
    assert!(
        message.contains("invalid JSON") && message.contains("line 1 column 8"),
        "{message}"
    );
    let text = ok(
        &mcp,
        "coding_format",
        json!({ "text": "x  \r\n\ty\n\n\n", "tabs_to_spaces": 2 }),
    )
    .await;
    assert_eq!(text["formatted"], "x\n  y\n");
    let lint = ok(
        &mcp,
        "coding_lint",
        json!({ "text": "ok\nbad \t// TODO\n", "max_line_length": 5 }),
    )
    .await;
    let found: Vec<(u64, u64, &str)> = lint["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["line"].as_u64().unwrap(),
                i["column"].as_u64().unwrap(),
                i["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [(2, 6, "long-line"), (2, 5, "tab"), (2, 9, "todo")]);

    // Dev-flow: commit lint, branch names, review checklist.
    let commit = ok(
        &mcp,
        "dev-flow_lint_commit",
        json!({ "message": "feat(api)!: add bulk export\n\nBREAKING CHANGE: /export paginates" }),
    )
    .await;
    assert_eq!(commit["valid"], true, "{commit}");
    assert_eq!(
        (commit["commit"]["type"].as_str(), commit["commit"]["scope"].as_str()),
        (Some("feat"), Some("api"))
    );
    assert_eq!(commit["commit"]["breaking_change"], "/export paginates");
    let bad = ok(&mcp, "dev-flow_lint_commit", json!({ "message": "Added stuff\nmore" })).await;
    assert_eq!(bad["valid"], false);
    let rules: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["header-format", "body-leading-blank"]);
    let branch = ok(
        &mcp,
        "dev-flow_check_branch_name",
        json!({ "name": "Feature/Add Login" }),
    )
    .await;
    assert_eq!(
        (branch["valid"].as_bool(), branch["suggestion"].as_str()),
        (Some(false), Some("feat/add-login"))
    );
    assert_eq!(
        ok(
            &mcp,
            "dev-flow_check_branch_name",
            json!({ "name": "fix/pa-12-null-deref" })
        )
        .await["valid"],
        true
    );
    let patch = "diff --git a/src/db.rs b/src/db.rs\n--- a/src/db.rs\n+++ b/src/db.rs\n@@ -1,2 +1,3 @@\n fn connect() {\n+    let password = \"hunter2hunter2\"; // FIXME\n }\ndiff --git a/migrations/002.sql b/migrations/002.sql\nnew file mode 100644\n--- /dev/null\n+++ b/migrations/002.sql\n@@ -0,0 +1 @@\n+ALTER TABLE t ADD c int;\n";
    let review = ok(&mcp, "dev-flow_review_checklist", json!({ "diff": patch })).await;
    let ids: Vec<&str> = review["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["secrets", "tests-missing", "migrations", "todos-added", "docs"]);
    assert_eq!(
        review["checklist"][0]["evidence"][0],
        json!({ "file": "src/db.rs", "line": 2, "text": "hard-coded credential" })
    );
    assert_eq!(review["summary"]["files"], 2);
    let (message, _) = tool_error(&mcp, "dev-flow_review_checklist", json!({ "diff": "just text" })).await;
    assert!(message.contains("not a unified diff"), "{message}");

    // Release management: bump, changelog, notes.
    let commits = json!(["feat(search): fuzzy matching",
        { "message": "fix: wrong totals", "hash": "a1b2c3d4e5", "author": "Ada" }, "docs: guide"]);
    let next = ok(
        &mcp,
        "release-mgmt_next_version",
        json!({ "current": "1.4.2", "commits": commits }),
    )
    .await;
    assert_eq!(
        (next["next"].as_str(), next["bump"].as_str()),
        (Some("1.5.0"), Some("minor"))
    );
    let initial = ok(
        &mcp,
        "release-mgmt_next_version",
        json!({ "current": "0.3.0", "commits": ["feat!: new API"] }),
    )
    .await;
    assert_eq!(initial["next"], "0.4.0");
    let major = ok(
        &mcp,
        "release-mgmt_next_version",
        json!({ "current": "v2.1.0", "commits": ["fix: x\n\nBREAKING CHANGE: y"] }),
    )
    .await;
    assert_eq!(major["next"], "v3.0.0");
    let log = ok(
        &mcp,
        "release-mgmt_changelog",
        json!({ "current": "1.4.2", "commits": commits, "date": "2026-03-01" }),
    )
    .await;
    assert_eq!(
        log["markdown"],
        "## 1.5.0 (2026-03-01)\n\n### Features\n\n- **search:** fuzzy matching\n\n### Bug Fixes\n\n- wrong totals (a1b2c3d)\n\n### Documentation\n\n- guide\n"
    );
    let notes = ok(
        &mcp,
        "release-mgmt_release_notes",
        json!({ "version": "1.5.0", "product": "Acme", "commits": commits }),
    )
    .await;
    assert!(
        notes["markdown"]
            .as_str()
            .unwrap()
            .starts_with("# Acme 1.5.0\n\nThis release brings 1 new feature, 1 bug fix and 1 other change.")
    );
    assert_eq!(notes["contributors"], json!(["Ada"]));
    let (message, _) = tool_error(
        &mcp,
        "release-mgmt_next_version",
        json!({ "current": "1.4", "commits": commits }),
    )
    .await;
    assert!(message.contains("`1.4` is not a semantic version"), "{message}");

    // Operations: Prometheus parsing, thresholds, probes.
    let metrics = "# HELP up Target up.\n# TYPE up gauge\nup{job=\"api\"} 1\nup{job=\"db\"} 0\ncpu{host=\"a\"} 0.95 1700000000000\n";
    let parsed = ok(&mcp, "operations_parse_prometheus", json!({ "text": metrics })).await;
    assert_eq!(parsed["count"], 3);
    assert_eq!(
        parsed["samples"][2],
        json!({ "name": "cpu", "labels": { "host": "a" }, "value": 0.95, "timestamp": 1700000000000u64, "type": "untyped" })
    );
    assert_eq!(
        parsed["families"][0],
        json!({ "name": "up", "type": "gauge", "help": "Target up." })
    );
    let (message, _) = tool_error(
        &mcp,
        "operations_parse_prometheus",
        json!({ "text": "ok 1\nup{job=api} 1" }),
    )
    .await;
    assert!(
        message.contains("line 2: the value of label `job` must be quoted"),
        "{message}"
    );
    let checked = ok(
        &mcp,
        "operations_check_thresholds",
        json!({ "text": metrics, "rules": [
                { "metric": "up", "labels": { "job": "api" }, "op": "==", "value": 1 },
                { "metric": "up", "op": "==", "value": 1 },
                { "metric": "cpu", "op": "<", "value": 0.9 },
                { "metric": "up", "op": "==", "value": 2, "aggregate": "count" },
                { "metric": "absent", "op": ">", "value": 0 } ] }),
    )
    .await;
    let statuses: Vec<&str> = checked["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pass", "fail", "fail", "pass", "no_data"]);
    assert_eq!(
        (checked["passed"].as_bool(), checked["failed"].as_u64()),
        (Some(false), Some(3))
    );

    let probe = ok(
        &mcp,
        "operations_http_probe",
        json!({ "url": format!("http://127.0.0.1:{origin_port}/health"), "contains": "origin" }),
    )
    .await;
    assert_eq!(
        (
            probe["ok"].as_bool(),
            probe["status"].as_u64(),
            probe["contains"].as_bool()
        ),
        (Some(true), Some(200), Some(true))
    );
    assert!(probe["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(probe["body_bytes"], 6);
    let wrong_status = ok(
        &mcp,
        "operations_http_probe",
        json!({ "url": format!("http://127.0.0.1:{origin_port}/"), "expect_status": 204 }),
    )
    .await;
    assert_eq!(wrong_status["ok"], false);
    let (message, report) = tool_error(
        &mcp,
        "operations_http_probe",
        json!({ "url": format!("{}/metrics", pa.url) }),
    )
    .await;
    assert!(
        message.contains("not granted") && message.contains("allowed_outbound_hosts"),
        "{message}"
    );
    assert_eq!(report["error_kind"], "not_granted");
    let (message, report) = tool_error(
        &mcp,
        "operations_http_probe",
        json!({ "url": format!("http://127.0.0.1:{closed_port}/") }),
    )
    .await;
    assert_eq!(report["error_kind"], "unreachable", "{message}");
    assert!(message.contains("refused the connection"), "{message}");
}
