//! Observability through the real binary: a function call continues the
//! caller's W3C trace and reaches an OTLP/HTTP receiver with its `auth`,
//! `store` and `component.call` spans (flushed at SIGTERM); the JSON log
//! lines of the request carry the same trace id; and `/metrics`, after
//! calls, a limit hit and a workflow run, passes `promtool check metrics`
//! and has the series an operator runs the platform from.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ADMIN, Api, Pa, get};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// What the receiver got: each span with its resource's attributes.
type Received = Arc<Mutex<Vec<(Vec<KeyValue>, Span)>>>;

/// An OTLP/HTTP (protobuf) trace receiver on loopback; returns its base URL.
async fn otlp_receiver(received: Received) -> String {
    async fn export(
        State(received): State<Received>,
        body: Bytes,
    ) -> (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>) {
        let protobuf = [(header::CONTENT_TYPE, "application/x-protobuf")];
        let Ok(request) = ExportTraceServiceRequest::decode(body) else {
            return (StatusCode::BAD_REQUEST, protobuf, Vec::new());
        };
        let mut received = received.lock().unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
            for scope in resource_spans.scope_spans {
                received.extend(scope.spans.into_iter().map(|span| (resource.clone(), span)));
            }
        }
        let response = ExportTraceServiceResponse { partial_success: None };
        (StatusCode::OK, protobuf, response.encode_to_vec())
    }
    let app = axum::Router::new()
        .route("/v1/traces", post(export))
        .with_state(received);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|AnyValue { value }| value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> &'a str {
    match attribute(&span.attributes, key) {
        Some(Any::StringValue(s)) => s,
        other => panic!("span `{}` has no text attribute {key}: {other:?}", span.name),
    }
}

/// An integer attribute (exported as an OTLP integer, not as text).
fn int(span: &Span, key: &str) -> i64 {
    match attribute(&span.attributes, key) {
        Some(Any::IntValue(i)) => *i,
        other => panic!("span `{}` has no integer attribute {key}: {other:?}", span.name),
    }
}

fn hex_id(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The value of the series `series` (name and labels as printed).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
        .parse()
        .unwrap()
}

/// Runs `promtool check metrics` on `metrics`; fails on any problem it reports.
fn promtool_check(metrics: &str) {
    let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("promtool is missing: install Debian's `prometheus` package (`cargo xtask test` does, or apt-get install -y prometheus)");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (ok, report) = crate::support::outcome(&out);
    assert!(
        ok && report.trim().is_empty(),
        "promtool check metrics: {report}\n{metrics}"
    );
}

async fn metrics_until(pa: &Pa, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, metrics) = get(&format!("{}/metrics", pa.url)).await;
        assert_eq!(status, 200, "{metrics}");
        if ready(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "/metrics never showed {what}:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_traced_logged_and_measured() {
    let received = Received::default();
    let collector = otlp_receiver(received.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let (mut pa, logs) = Pa::start_logged(
        &[
            "serve",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--workflow-workers",
            "1",
        ],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_OTLP_ENDPOINT", &collector),
            ("PA_LOG_FORMAT", "json"),
            ("PA_LOG", "warn,tower_http=debug"),
        ],
    );
    let admin = Api::new(&pa, ADMIN);
    admin.create_tenant("acme").await;
    admin
        .deploy(
            "acme",
            "hello",
            "1.0.0",
            "hello_p2.wasm",
            json!({ "access": "api-key" }),
        )
        .await;
    let limits = json!({ "limits": { "timeout_ms": 200 } });
    admin.deploy("acme", "faults", "1.0.0", "faults.wasm", limits).await;
    let kv = json!({ "grants": { "key_value_stores": ["default"] } });
    admin.deploy("acme", "steps", "1.0.0", "test_step.wasm", kv).await;
    let key = admin.create_key("acme", "developer").await;

    // The call, continuing the caller's trace.
    let response = reqwest::Client::new()
        .get(format!("{}/t/acme/fn/hello", pa.url))
        .bearer_auth(&key)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(response.text().await.unwrap(), "hello from pa");

    // A limit hit, and a function that is not there.
    assert_eq!(get(&format!("{}/t/acme/fn/faults/loop", pa.url)).await.0, 504);
    assert_eq!(get(&format!("{}/t/acme/fn/nope", pa.url)).await.0, 404);

    // A workflow of two steps on one worker: one runs while the other waits.
    let definition = r#"
steps:
  - id: first
    component: { plugin: steps, input: { sleep_ms: 1500 } }
  - id: second
    component: { plugin: steps, input: { sleep_ms: 1500 } }
"#;
    let (status, body) = admin
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/workflows/slow",
            Some(definition.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, run) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/workflows/slow/runs",
            json!({ "input": {} }),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let queued = metrics_until(&pa, "one step running and one waiting", |m| {
        m.contains("pa_workflow_steps_running{tenant=\"acme\"} 1")
            && m.contains("pa_workflow_steps_ready{tenant=\"acme\"} 1")
    })
    .await;
    promtool_check(&queued);
    let run_path = format!("/api/v1/tenants/acme/runs/{}", run["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, run) = admin.send(Method::GET, &run_path, None).await;
        assert_eq!(status, 200, "{run}");
        if run["state"] == "succeeded" {
            break;
        }
        assert!(Instant::now() < deadline && run["state"] == "running", "{run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // /metrics: clean for promtool, with the series and labels expected.
    let metrics = metrics_until(&pa, "both steps", |m| {
        m.contains("pa_workflow_steps_total{outcome=\"ok\",plugin=\"steps\",tenant=\"acme\"} 2")
    })
    .await;
    promtool_check(&metrics);
    let hello = "plugin=\"hello\",tenant=\"acme\"";
    assert_eq!(
        sample(
            &metrics,
            "pa_function_requests_total{plugin=\"hello\",status=\"200\",tenant=\"acme\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("pa_function_request_duration_seconds_count{{{hello}}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("pa_function_request_duration_seconds_bucket{{{hello},le=\"60\"}}")
        ),
        1.0
    );
    assert!(sample(&metrics, &format!("pa_function_fuel_total{{{hello}}}")) > 0.0);
    assert!(sample(&metrics, &format!("pa_function_peak_memory_bytes{{{hello}}}")) > 0.0);
    assert_eq!(
        sample(&metrics, &format!("pa_function_concurrency_limit{{{hello}}}")),
        64.0
    );
    assert_eq!(
        sample(&metrics, &format!("pa_function_requests_in_flight{{{hello}}}")),
        0.0
    );
    let faults = "plugin=\"faults\",tenant=\"acme\"";
    assert_eq!(
        sample(&metrics, &format!("pa_limit_hits_total{{limit=\"timeout\",{faults}}}")),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("pa_function_errors_total{{code=\"timeout\",{faults}}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            "pa_function_requests_total{plugin=\"_unknown\",status=\"404\",tenant=\"_unknown\"}"
        ),
        1.0
    );
    assert!(
        !metrics.contains("\"nope\""),
        "a path's names must not become labels:\n{metrics}"
    );
    let steps = "plugin=\"steps\",tenant=\"acme\"";
    assert_eq!(
        sample(&metrics, &format!("pa_workflow_step_duration_seconds_count{{{steps}}}")),
        2.0
    );
    assert!(sample(&metrics, &format!("pa_workflow_step_duration_seconds_sum{{{steps}}}")) >= 3.0);
    assert!(sample(&metrics, &format!("pa_function_fuel_total{{{steps}}}")) > 0.0);
    for gauge in ["pa_workflow_steps_ready{", "pa_workflow_steps_running{"] {
        assert!(!metrics.contains(gauge), "the queue is empty again:\n{metrics}");
    }
    assert_eq!(
        sample(&metrics, "pa_instance_pool_component_capacity{engine=\"p2\"}"),
        1000.0
    );
    sample(&metrics, "pa_instance_pool_component_instances{engine=\"p2\"}");
    for family in [
        "pa_function_errors_total",
        "pa_instance_pool_memories",
        "pa_instance_pool_warm_memory_bytes",
    ] {
        assert!(metrics.contains(&format!("# HELP {family} ")), "{family}:\n{metrics}");
    }

    // SIGTERM flushes the spans.
    let status = tokio::task::spawn_blocking(move || pa.terminate()).await.unwrap();
    assert!(status.success(), "{status:?}");
    let received = received.lock().unwrap().clone();
    let trace: Vec<&Span> = received
        .iter()
        .map(|(_, span)| span)
        .filter(|span| hex_id(&span.trace_id) == TRACE_ID)
        .collect();
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    let request = *trace
        .iter()
        .find(|s| s.name == "GET /t/{tenant}/fn/{plugin}")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {names:?}"));
    assert_eq!(
        hex_id(&request.parent_span_id),
        CALLER_SPAN,
        "the request continues the caller's span"
    );
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(text(request, "tenant"), "acme");
    assert_eq!(text(request, "plugin"), "hello");
    assert_eq!(text(request, "http.route"), "/t/{tenant}/fn/{plugin}");
    assert_eq!(text(request, "request_id"), request_id);
    assert_eq!(int(request, "http.response.status_code"), 200);
    let children: HashMap<&str, &Span> = trace
        .iter()
        .filter(|s| s.parent_span_id == request.span_id)
        .map(|s| (s.name.as_str(), *s))
        .collect();
    let auth = children
        .get("auth")
        .unwrap_or_else(|| panic!("no auth span under the request: {names:?}"));
    assert_eq!(text(auth, "tenant"), "acme");
    let store = trace
        .iter()
        .find(|s| s.name == "store key_info")
        .unwrap_or_else(|| panic!("no store span for the API key: {names:?}"));
    assert_eq!(
        store.parent_span_id, auth.span_id,
        "the key is looked up while authenticating"
    );
    assert_eq!(text(store, "db.operation.name"), "key_info");
    let call = children
        .get("component.call wasi:http/handler")
        .unwrap_or_else(|| panic!("no component call under the request: {names:?}"));
    assert_eq!(text(call, "tenant"), "acme");
    assert_eq!(text(call, "plugin"), "hello");
    assert!(int(call, "fuel") > 0, "the call's fuel");
    assert!(int(call, "memory.peak_bytes") > 0, "the call's memory");
    let service = received
        .iter()
        .find(|(_, span)| span.span_id == request.span_id)
        .map(|(resource, _)| resource)
        .unwrap();
    assert!(
        matches!(attribute(service, "service.name"), Some(Any::StringValue(name)) if name == "pa"),
        "{service:?}"
    );

    // The request's JSON log lines carry its trace and span ids.
    let request_span = hex_id(&request.span_id);
    let lines: Vec<Value> = logs
        .lines()
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &Value| line["trace_id"] == TRACE_ID)
        .collect();
    let finished = lines
        .iter()
        .find(|line| line["fields"]["message"] == "finished processing request")
        .unwrap_or_else(|| panic!("no log line of the request with its trace id: {:#?}", logs.lines()));
    assert_eq!(finished["span_id"], request_span.as_str(), "{finished}");
    assert!(
        logs.lines()
            .iter()
            .filter(|l| l.contains("finished processing request"))
            .all(|l| serde_json::from_str::<Value>(l)
                .is_ok_and(|v| v["trace_id"].as_str().is_some_and(|t| t.len() == 32))),
        "every request's lines carry a trace id: {:#?}",
        logs.lines()
    );
}

/// Without an OTLP endpoint, the JSON log lines of a request still carry its
/// trace id (the caller's, here) and a span id.
#[tokio::test]
async fn json_logs_carry_the_trace_id_without_an_exporter() {
    let data = tempfile::tempdir().unwrap();
    let (pa, logs) = Pa::start_logged(
        &["serve", "--data-dir", data.path().to_str().unwrap()],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_LOG_FORMAT", "json"),
            ("PA_LOG", "warn,tower_http=debug"),
        ],
    );
    let response = reqwest::Client::new()
        .get(format!("{}/healthz", pa.url))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let found = logs
            .lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["fields"]["message"] == "finished processing request");
        if let Some(line) = found {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line of the request: {:#?}",
            logs.lines()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(line["trace_id"], TRACE_ID, "{line}");
    let span = line["span_id"].as_str().unwrap();
    assert!(
        span.len() == 16 && span != CALLER_SPAN,
        "the request's own span: {line}"
    );
}
