//! Tracing of requests: one `request` span per HTTP request that continues a
//! caller's W3C `traceparent`, and the spans of the work inside it (`auth`,
//! `store`). The process's subscriber (see `pa serve`) exports them over OTLP
//! and puts their ids on log lines.

use std::future::Future;
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{HeaderMap, Method, Request, Response};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower_http::trace::{DefaultOnResponse, OnResponse};
use tracing::{Instrument, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The span of one HTTP request (tower-http's `MakeSpan`): method, URI and
/// route, and the tenant and plugin once a handler knows them; its parent is
/// the caller's trace when the request carries a valid `traceparent`.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        otel.name = %SpanName(request.method(), route),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        method = %request.method(),
        uri = %request.uri(),
        version = ?request.version(),
        http.route = route.unwrap_or_default(),
        http.response.status_code = tracing::field::Empty,
        request_id,
        tenant = tracing::field::Empty,
        plugin = tracing::field::Empty,
    );
    // No subscriber wants the span (tracing is off): skip the propagation.
    if span.is_disabled() {
        return span;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(request.headers()));
    // Without a subscriber that tracks OpenTelemetry data (a library user's,
    // a test's) there is no parent to set: the span stays a root.
    let _ = span.set_parent(parent);
    span
}

/// A request span's name: the method and the matched route, if any.
struct SpanName<'a>(&'a Method, Option<&'a str>);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(route) => write!(f, "{} {route}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Records the status on the request span, then logs like tower-http does.
#[derive(Clone, Copy, Default)]
pub struct RecordStatus;

impl<B> OnResponse<B> for RecordStatus {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let status = response.status();
        // As i64: tracing-opentelemetry exports an unsigned value as text.
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
        DefaultOnResponse::default().on_response(response, latency, span);
    }
}

/// Names the tenant and plugin of the current request on its span.
pub fn record_target(tenant: &str, plugin: &str) {
    let span = Span::current();
    span.record("tenant", tenant);
    span.record("plugin", plugin);
}

/// Runs `call` in an `auth` span (credential and permission checks).
pub async fn auth<T>(tenant: &str, call: impl Future<Output = T>) -> T {
    call.instrument(tracing::info_span!("auth", tenant)).await
}

/// Runs the store call `call` (`operation` names it, e.g. `key_info`) in a
/// `store` span.
pub async fn store<T>(operation: &'static str, call: impl Future<Output = T>) -> T {
    call.instrument(tracing::info_span!(
        "store",
        otel.name = %format_args!("store {operation}"),
        otel.kind = "client",
        db.operation.name = operation,
    ))
    .await
}

/// Reads propagation headers from an HTTP header map.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
