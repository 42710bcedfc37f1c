//! Monitoring through the real binary: what a function prints (on the
//! `wasi:http` 0.2 and 0.3 paths) reaches its tenant's logs API and the
//! `pa::guest` JSON log events, never another tenant's; a failed call is
//! logged as an error; a flood of output is bounded; and the monitoring
//! endpoint counts a tenant's calls and refuses other tenants' callers; GraphQL
//! shows the same lines and figures to the same callers.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::graphql::graphql;
use crate::support::{ADMIN, Api, Logs, Pa, get};

/// Lines a call records at most (then one line saying the rest was dropped).
const LINES_PER_CALL: usize = 200;
/// Bytes a line keeps at most.
const LINE_BYTES: usize = 2048;

async fn logs_of(api: &Api, tenant: &str, plugin: &str, query: &str) -> (u16, Value) {
    api.send(
        Method::GET,
        &format!("/api/v1/tenants/{tenant}/plugins/{plugin}/logs?{query}"),
        None,
    )
    .await
}

/// The messages of a logs answer.
fn messages(page: &Value) -> Vec<&str> {
    page["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {page}"))
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect()
}

/// The entry with `message`, or a panic listing what there is.
fn entry<'a>(page: &'a Value, message: &str) -> &'a Value {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"] == message)
        .unwrap_or_else(|| panic!("no line `{message}` in {page:#}"))
}

/// The JSON log event of the process with `message`, waiting for it.
async fn log_event(logs: &Logs, message: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = logs
            .lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["fields"]["message"] == message);
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log event `{message}`: {:#?}",
            logs.lines()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn printed_lines_reach_their_tenants_logs_only() {
    let data = tempfile::tempdir().unwrap();
    let (pa, events) = Pa::start_logged(
        &["serve", "--data-dir", data.path().to_str().unwrap()],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_LOG_FORMAT", "json"),
            ("PA_LOG", "warn,pa::guest=info"),
        ],
    );
    let admin = Api::new(&pa, ADMIN);
    let acme = Api::new(&pa, &admin.create_tenant("acme").await);
    let globex = Api::new(&pa, &admin.create_tenant("globex").await);
    let limits = json!({ "limits": { "timeout_ms": 300 } });
    acme.deploy("acme", "faults", "1.0.0", "faults.wasm", limits.clone())
        .await;
    globex.deploy("globex", "faults", "1.0.0", "faults.wasm", limits).await;
    let kv = json!({ "grants": { "key_value_stores": ["default"] } });
    acme.deploy("acme", "spin7", "1.0.0", "spin7_kv.wasm", kv).await;

    let call = |tenant: &str, path: &str| format!("{}/t/{tenant}/fn/{path}", pa.url);
    assert_eq!(
        get(&call("acme", "faults/print?acme%20secret")).await,
        (200, "printed".into())
    );
    assert_eq!(
        get(&call("globex", "faults/print?globex%20line")).await,
        (200, "printed".into())
    );
    assert_eq!(get(&call("acme", "spin7/print?from-p3")).await, (200, "printed".into()));
    let (status, body) = get(&call("acme", "faults/loop")).await;
    assert_eq!(status, 504, "{body}");

    // Both streams of the 0.2 function, tied to the request's trace, and
    // the timeout as an error of the host.
    let (status, page) = logs_of(&acme, "acme", "faults", "").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["plugin"], "faults");
    let out = entry(&page, "out: acme secret");
    assert_eq!(
        (out["stream"].as_str(), out["level"].as_str()),
        (Some("stdout"), Some("info"))
    );
    assert_eq!(out["version"], "1.0.0");
    let trace = out["trace_id"].as_str().unwrap_or_else(|| panic!("no trace id: {out}"));
    assert_eq!(trace.len(), 32, "{out}");
    assert_eq!(entry(&page, "err: acme secret")["stream"], "stderr");
    let failure = page["entries"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (failure["stream"].as_str(), failure["level"].as_str()),
        (Some("host"), Some("error")),
        "{page:#}"
    );
    assert!(failure["message"].as_str().unwrap().contains("timeout"), "{failure}");
    assert!(!messages(&page).iter().any(|m| m.contains("globex")), "{page:#}");

    // The 0.3 function's line.
    let (status, page) = logs_of(&acme, "acme", "spin7", "").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(entry(&page, "spin7 printed from-p3")["stream"], "stdout");

    // Filters: one stream, the newest lines, after a time.
    let (_, page) = logs_of(&acme, "acme", "faults", "stream=stderr").await;
    assert_eq!(messages(&page), ["err: acme secret"]);
    let (_, page) = logs_of(&acme, "acme", "faults", "limit=1").await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    assert_eq!(page["entries"][0]["stream"], "host");
    let at = out["at"].as_str().unwrap();
    let (_, page) = logs_of(&acme, "acme", "faults", &format!("since={at}")).await;
    assert!(!messages(&page).contains(&"out: acme secret"), "{page:#}");
    assert!(messages(&page).contains(&"err: acme secret"), "{page:#}");

    // The other tenant's buffer of a plugin of the same name has only its own
    // line, and its callers cannot read acme's.
    let (_, page) = logs_of(&globex, "globex", "faults", "").await;
    assert_eq!(messages(&page), ["out: globex line", "err: globex line"]);
    let (status, body) = logs_of(&globex, "acme", "faults", "").await;
    assert_eq!(status, 403, "{body}");

    // GraphQL shows the same lines to the same callers.
    let query = |filters: &str| {
        format!(
            r#"{{ tenant(id: "acme") {{ logs(plugin: "faults", {filters}) {{ message stream level version }} }} }}"#
        )
    };
    let (status, body) = graphql(&acme, &query(r#"stream: STDERR, limit: 1"#)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["tenant"]["logs"],
        json!([{ "message": "err: acme secret", "stream": "STDERR", "level": "INFO", "version": "1.0.0" }]),
        "{body}"
    );
    let (_, body) = graphql(&acme, &query(r#"since: "yesterday""#)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "bad_request", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("since"),
        "{body}"
    );
    let (_, body) = graphql(&globex, &query("limit: 5")).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "forbidden", "{body}");
    assert!(!body.to_string().contains("secret"), "{body}");

    // Bad parameters are named.
    for (query, named) in [
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("since=yesterday", "since"),
        ("stream=stdin", "stream"),
        ("colour=blue", "colour"),
    ] {
        let (status, body) = logs_of(&acme, "acme", "faults", query).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{query}: {message}");
    }

    // Each line is also a JSON log event with its tenant, plugin and trace.
    let event = log_event(&events, "out: acme secret").await;
    assert_eq!(event["target"], "pa::guest", "{event}");
    assert_eq!(event["fields"]["tenant"], "acme", "{event}");
    assert_eq!(event["fields"]["plugin"], "faults", "{event}");
    assert_eq!(event["fields"]["stream"], "stdout", "{event}");
    assert_eq!(event["trace_id"], trace, "{event}");
}

#[tokio::test]
async fn a_flood_of_output_is_bounded() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let acme = Api::new(&pa, &admin.create_tenant("acme").await);
    acme.deploy("acme", "faults", "1.0.0", "faults.wasm", json!({})).await;
    let (status, body) = get(&format!("{}/t/acme/fn/faults/flood", pa.url)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("printed 8388"), "{body}");

    let (status, page) = logs_of(&acme, "acme", "faults", "limit=1000").await;
    assert_eq!(status, 200, "{page}");
    let lines = messages(&page);
    assert_eq!(lines.len(), LINES_PER_CALL + 1, "{:?}", &lines[..3]);
    assert!(lines[0].starts_with(&"y".repeat(LINE_BYTES)), "{}", &lines[0][..40]);
    assert!(
        lines[0].len() < LINE_BYTES + 64,
        "a cut line keeps {} bytes",
        lines[0].len()
    );
    assert_eq!(lines[1], "flood line 0");
    assert!(
        lines[LINES_PER_CALL].starts_with("[more output of this call dropped"),
        "{}",
        lines[LINES_PER_CALL]
    );

    // The next call has its own budget.
    assert_eq!(get(&format!("{}/t/acme/fn/faults/print?after", pa.url)).await.0, 200);
    let (_, page) = logs_of(&acme, "acme", "faults", "limit=2").await;
    assert_eq!(messages(&page), ["out: after", "err: after"]);
}

#[tokio::test]
async fn the_monitoring_endpoint_counts_a_tenants_calls_only() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let acme = Api::new(&pa, &admin.create_tenant("acme").await);
    let globex = Api::new(&pa, &admin.create_tenant("globex").await);
    acme.deploy("acme", "hello", "1.0.0", "hello_p2.wasm", json!({})).await;
    globex
        .deploy("globex", "other", "1.0.0", "hello_p2.wasm", json!({}))
        .await;
    for _ in 0..2 {
        assert_eq!(get(&format!("{}/t/acme/fn/hello", pa.url)).await.0, 200);
    }
    assert_eq!(get(&format!("{}/t/globex/fn/other", pa.url)).await.0, 200);

    let viewer = Api::new(&pa, &acme.create_key("acme", "viewer").await);
    let (status, report) = viewer.send(Method::GET, "/api/v1/tenants/acme/monitoring", None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["tenant"], "acme");
    let plugins = report["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 1, "only acme's plugins: {report:#}");
    let hello = &plugins[0];
    assert_eq!(
        (hello["plugin"].as_str(), hello["version"].as_str()),
        (Some("hello"), Some("1.0.0"))
    );
    assert_eq!(hello["requests"]["2xx"], 2, "{hello:#}");
    assert_eq!(hello["requests"]["5xx"], 0, "{hello:#}");
    assert_eq!(hello["latency"]["count"], 2, "{hello:#}");
    assert!(hello["latency"]["p95_seconds"].as_f64().unwrap() > 0.0, "{hello:#}");
    assert_eq!(hello["in_flight"], 0);
    assert_eq!(hello["concurrency_limit"], 64);
    assert!(hello["fuel"].as_u64().unwrap() > 0, "{hello:#}");
    assert!(hello["peak_memory_bytes"].as_u64().unwrap() > 0, "{hello:#}");

    let (status, body) = globex.send(Method::GET, "/api/v1/tenants/acme/monitoring", None).await;
    assert_eq!(status, 403, "{body}");

    // GraphQL gives the same figures, to the same callers.
    let query = r#"{ tenant(id: "acme") { monitoring { plugin version requests { success serverError } latency { count } fuel concurrencyLimit } } }"#;
    let (status, body) = graphql(&viewer, query).await;
    assert_eq!(status, 200, "{body}");
    let figures = &body["data"]["tenant"]["monitoring"];
    assert_eq!(figures.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(figures[0]["plugin"], "hello", "{body}");
    assert_eq!(figures[0]["version"], "1.0.0", "{body}");
    assert_eq!(
        figures[0]["requests"],
        json!({ "success": 2, "serverError": 0 }),
        "{body}"
    );
    assert_eq!(figures[0]["latency"]["count"], 2, "{body}");
    assert_eq!(figures[0]["fuel"], hello["fuel"], "{body}");
    assert_eq!(figures[0]["concurrencyLimit"], 64, "{body}");
    let (_, body) = graphql(&globex, query).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "forbidden", "{body}");
}
