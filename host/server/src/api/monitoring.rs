//! A tenant's monitoring: its plugins' figures from the platform's metrics
//! (this tenant's series only) and each plugin's recent log lines. Both are
//! this node's: every node of a cluster keeps its own, and operators see the
//! whole through Prometheus and the shipped `pa::guest` log events.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use pa_runtime::{BUFFER_LINES, LogEntry, LogStream};
use prometheus::proto::{Histogram, Metric, MetricFamily};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::api::check_name;
use crate::error::ApiError;
use crate::platform::Platform;

/// The answer of `GET /api/v1/tenants/{tenant}/monitoring`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoringReport {
    /// The tenant.
    pub tenant: String,
    /// Every plugin that is enabled or has figures on this node, by name.
    #[schema(inline)]
    pub plugins: Vec<PluginFigures>,
}

/// One plugin's figures since this node started.
#[derive(Debug, Default, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct PluginFigures {
    /// The plugin.
    pub plugin: String,
    /// The enabled version; null when the plugin is not enabled now.
    pub version: Option<String>,
    /// HTTP function requests by status class.
    #[schema(inline)]
    pub requests: StatusClasses,
    /// Failed function requests by error code (the platform's, or
    /// `guest_5xx` for a 5xx answer of the function itself).
    pub errors: BTreeMap<String, u64>,
    /// Function requests refused or stopped by a limit, by limit
    /// (`concurrency`, `tenant_concurrency`, `timeout`, `memory`, `quota`).
    pub limit_hits: BTreeMap<String, u64>,
    /// Function latency until the response head.
    #[schema(inline)]
    pub latency: Latency,
    /// Function requests running now.
    pub in_flight: u64,
    /// Requests the enabled version may run at once; null if never enabled here.
    pub concurrency_limit: Option<u64>,
    /// Fuel (about one per WebAssembly instruction) its instances consumed.
    pub fuel: u64,
    /// Largest linear memory an instance of the enabled version reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Workflow step attempts by outcome (`ok` or the step's error code).
    pub steps: BTreeMap<String, u64>,
    /// Duration of workflow step attempts.
    #[schema(inline)]
    pub step_latency: Latency,
}

/// Requests by the class of their HTTP status.
#[derive(Debug, Default, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct StatusClasses {
    /// 1xx answers.
    #[serde(rename = "1xx")]
    pub informational: u64,
    /// 2xx answers.
    #[serde(rename = "2xx")]
    pub success: u64,
    /// 3xx answers.
    #[serde(rename = "3xx")]
    pub redirection: u64,
    /// 4xx answers.
    #[serde(rename = "4xx")]
    pub client_error: u64,
    /// 5xx answers.
    #[serde(rename = "5xx")]
    pub server_error: u64,
}

/// A latency histogram and the percentiles estimated from it.
#[derive(Debug, Default, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Latency {
    /// Observations.
    pub count: u64,
    /// Their total, in seconds.
    pub sum_seconds: f64,
    /// Median, in seconds, estimated from the buckets (as Prometheus'
    /// `histogram_quantile` does); null without observations.
    pub p50_seconds: Option<f64>,
    /// 95th percentile, in seconds; null without observations.
    pub p95_seconds: Option<f64>,
    /// 99th percentile, in seconds; null without observations.
    pub p99_seconds: Option<f64>,
    /// Observations at or below each bound, cumulative (those above the
    /// last bound are only in `count`); empty without observations.
    #[schema(inline)]
    pub buckets: Vec<LatencyBucket>,
}

/// One bucket of a latency histogram.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct LatencyBucket {
    /// The upper bound, in seconds.
    pub le: f64,
    /// Observations at or below it.
    pub count: u64,
}

/// `GET /api/v1/tenants/{tenant}/monitoring`.
pub async fn monitoring(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(tenant_report(&platform, tenant).await).into_response())
}

/// The figures of `tenant`'s plugins on this node (REST and GraphQL).
pub(crate) async fn tenant_report(platform: &Platform, tenant: String) -> MonitoringReport {
    let families = platform.metrics.of_tenant(platform, &tenant).await;
    let enabled: HashMap<String, String> = platform
        .deployments
        .enabled(&tenant)
        .iter()
        .map(|(plugin, live)| (plugin.clone(), live.version.clone()))
        .collect();
    report(tenant, &families, &enabled)
}

/// The figures of `families` (one tenant's series) by plugin; `enabled`
/// maps the enabled plugins to their versions.
fn report(tenant: String, families: &[MetricFamily], enabled: &HashMap<String, String>) -> MonitoringReport {
    let mut plugins: BTreeMap<String, PluginFigures> = BTreeMap::new();
    for (plugin, version) in enabled {
        plugins.entry(plugin.clone()).or_default().version = Some(version.clone());
    }
    for family in families {
        for metric in family.get_metric() {
            let Some(plugin) = label(metric, "plugin") else {
                continue;
            };
            let figures = plugins.entry(plugin.to_string()).or_default();
            let count = metric.get_counter().get_value() as u64;
            let gauge = metric.get_gauge().get_value() as u64;
            match family.name() {
                "pa_function_requests_total" => {
                    let class = label(metric, "status").and_then(|s| s.chars().next());
                    if let Some(slot) = figures.requests.class(class) {
                        *slot += count;
                    }
                }
                "pa_function_errors_total" => add(&mut figures.errors, label(metric, "code"), count),
                "pa_limit_hits_total" => add(&mut figures.limit_hits, label(metric, "limit"), count),
                "pa_workflow_steps_total" => add(&mut figures.steps, label(metric, "outcome"), count),
                "pa_function_request_duration_seconds" => figures.latency = Latency::of(metric.get_histogram()),
                "pa_workflow_step_duration_seconds" => figures.step_latency = Latency::of(metric.get_histogram()),
                "pa_function_requests_in_flight" => figures.in_flight = gauge,
                "pa_function_concurrency_limit" => figures.concurrency_limit = Some(gauge),
                "pa_function_fuel_total" => figures.fuel = count,
                "pa_function_peak_memory_bytes" => figures.peak_memory_bytes = gauge,
                _ => {}
            }
        }
    }
    let plugins = plugins
        .into_iter()
        .map(|(plugin, figures)| PluginFigures { plugin, ..figures })
        .collect();
    MonitoringReport { tenant, plugins }
}

fn label<'a>(metric: &'a Metric, name: &str) -> Option<&'a str> {
    metric.get_label().iter().find(|l| l.name() == name).map(|l| l.value())
}

fn add(counts: &mut BTreeMap<String, u64>, key: Option<&str>, count: u64) {
    if let Some(key) = key {
        *counts.entry(key.to_string()).or_default() += count;
    }
}

impl StatusClasses {
    /// The count of status class `first` (the status code's first digit).
    fn class(&mut self, first: Option<char>) -> Option<&mut u64> {
        match first? {
            '1' => Some(&mut self.informational),
            '2' => Some(&mut self.success),
            '3' => Some(&mut self.redirection),
            '4' => Some(&mut self.client_error),
            '5' => Some(&mut self.server_error),
            _ => None,
        }
    }
}

impl Latency {
    fn of(histogram: &Histogram) -> Latency {
        let count = histogram.get_sample_count();
        if count == 0 {
            return Latency::default();
        }
        let buckets: Vec<LatencyBucket> = histogram
            .get_bucket()
            .iter()
            .map(|b| LatencyBucket {
                le: b.upper_bound(),
                count: b.cumulative_count(),
            })
            .collect();
        Latency {
            count,
            sum_seconds: histogram.get_sample_sum(),
            p50_seconds: quantile(0.5, &buckets, count),
            p95_seconds: quantile(0.95, &buckets, count),
            p99_seconds: quantile(0.99, &buckets, count),
            buckets,
        }
    }
}

/// The `q` quantile of `count` observations in cumulative `buckets`,
/// interpolated linearly within its bucket (the first bucket starts at 0);
/// the last bound when it lies above every bound.
fn quantile(q: f64, buckets: &[LatencyBucket], count: u64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let rank = q * count as f64;
    let (mut lower, mut below) = (0.0, 0u64);
    for bucket in buckets {
        if bucket.count as f64 >= rank {
            // Earlier buckets hold fewer than `rank` observations, so this one holds some.
            let fraction = (rank - below as f64) / (bucket.count - below) as f64;
            return Some(lower + (bucket.le - lower) * fraction);
        }
        (lower, below) = (bucket.le, bucket.count);
    }
    buckets.last().map(|b| b.le)
}

/// Filters of `GET /api/v1/tenants/{tenant}/plugins/{name}/logs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// Most lines to return (1 to [`BUFFER_LINES`], 100 by default).
    pub limit: Option<i64>,
    /// Only lines written after this RFC 3339 time.
    pub since: Option<String>,
    /// Only lines of this stream.
    pub stream: Option<LogStream>,
}

/// The answer of the logs endpoint.
#[derive(Serialize, ToSchema)]
pub struct LogPage {
    /// The plugin.
    pub plugin: String,
    /// The newest lines that match, oldest first.
    #[schema(inline)]
    pub entries: Vec<LogLine>,
}

/// One line of a plugin's log (its `stream` is resolved for GraphQL in
/// [`crate::graphql`]).
#[derive(Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(complex)]
pub struct LogLine {
    /// When it was written (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub at: String,
    /// The plugin version whose instance wrote it.
    pub version: String,
    /// `stdout` or `stderr` for what the guest printed, `host` for a call
    /// that failed (trap, timeout, memory limit).
    #[schema(inline)]
    #[graphql(skip)]
    pub stream: LogStream,
    /// `error` for host-side failures, `info` for what the guest printed.
    #[schema(inline)]
    pub level: LogLevel,
    /// The text (a line keeps at most 2048 bytes; a call records at most
    /// 200 lines).
    pub message: String,
    /// The OpenTelemetry trace id of the call, when the line could be tied to
    /// one (not for `wasi:http` 0.3 functions, whose instances serve many
    /// requests at once).
    pub trace_id: Option<String>,
}

/// How serious a log line is.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Printed by the guest.
    Info,
    /// A failed call.
    Error,
}

/// Lines one request returns by default.
const DEFAULT_LIMIT: i64 = 100;

/// `GET /api/v1/tenants/{tenant}/plugins/{name}/logs`: the newest lines of
/// the plugin's log on this node (at most `limit`, after `since`, of one
/// `stream`), oldest first.
pub async fn logs(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(log_page(&platform, &tenant, name, params)?).into_response())
}

/// The newest lines of `tenant`'s plugin `name` on this node that match
/// `params`, oldest first (REST and GraphQL).
pub(crate) fn log_page(
    platform: &Platform,
    tenant: &str,
    name: String,
    params: LogParams,
) -> Result<LogPage, ApiError> {
    check_name("plugin", &name)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=BUFFER_LINES as i64).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` must be between 1 and {BUFFER_LINES}"
        )));
    }
    let since = params
        .since
        .map(|s| {
            OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| {
                ApiError::bad_request(format!(
                    "`since` must be an RFC 3339 time such as 2026-01-31T12:00:00Z: {e}"
                ))
            })
        })
        .transpose()?;
    let keep = |e: &LogEntry| {
        params.stream.is_none_or(|s| e.stream == s) && since.is_none_or(|t| OffsetDateTime::from(e.at) > t)
    };
    let entries = match platform.logs.get(tenant, &name) {
        Some(buffer) => buffer.newest(limit as usize, keep),
        None => Vec::new(),
    };
    let entries = entries.into_iter().map(LogLine::from).collect();
    Ok(LogPage { plugin: name, entries })
}

impl From<LogEntry> for LogLine {
    fn from(e: LogEntry) -> LogLine {
        let at = OffsetDateTime::from(e.at);
        LogLine {
            at: at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()),
            version: e.version,
            stream: e.stream,
            level: match e.stream {
                LogStream::Host => LogLevel::Error,
                LogStream::Stdout | LogStream::Stderr => LogLevel::Info,
            },
            message: e.message,
            trace_id: e.trace_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;

    use super::*;
    use crate::metrics::Metrics;

    fn bucket(le: f64, count: u64) -> LatencyBucket {
        LatencyBucket { le, count }
    }

    #[test]
    fn quantiles_interpolate_within_their_bucket() {
        let buckets = [bucket(0.1, 50), bucket(0.2, 90), bucket(0.4, 100)];
        assert_eq!(quantile(0.5, &buckets, 100), Some(0.1));
        assert!((quantile(0.7, &buckets, 100).unwrap() - 0.15).abs() < 1e-9);
        assert!((quantile(0.95, &buckets, 100).unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(quantile(0.5, &buckets, 0), None);
        // Observations above the last bound: the last bound.
        assert_eq!(quantile(0.99, &[bucket(0.1, 1)], 10), Some(0.1));
    }

    #[test]
    fn a_report_has_only_its_tenants_figures() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(3);
        metrics.observe("acme", "hello", StatusCode::OK, None, ms);
        metrics.observe("acme", "hello", StatusCode::GATEWAY_TIMEOUT, Some("timeout"), ms);
        metrics.observe("acme", "hello", StatusCode::NOT_FOUND, Some("not_found"), ms);
        metrics.limit_hit("acme", "hello", "timeout");
        metrics.step("acme", "steps", "ok", Duration::from_millis(1500));
        metrics.observe("globex", "secret", StatusCode::OK, None, ms);
        let _running = metrics.in_flight("acme", "hello");
        let enabled = HashMap::from([("hello".to_string(), "1.0.0".to_string())]);

        let report = report("acme".into(), &metrics.families_of("acme"), &enabled);
        let names: Vec<_> = report.plugins.iter().map(|p| p.plugin.as_str()).collect();
        assert_eq!(names, ["hello", "steps"]);
        let hello = &report.plugins[0];
        assert_eq!(hello.version.as_deref(), Some("1.0.0"));
        let r = &hello.requests;
        assert_eq!((r.success, r.client_error, r.server_error), (1, 1, 1));
        assert_eq!(hello.errors["timeout"], 1);
        assert_eq!(hello.errors["not_found"], 1);
        assert_eq!(hello.limit_hits["timeout"], 1);
        assert_eq!(hello.latency.count, 3);
        assert!(hello.latency.p50_seconds.unwrap() <= 0.005);
        assert_eq!(hello.in_flight, 1);
        let steps = &report.plugins[1];
        assert_eq!((steps.version.as_deref(), steps.steps["ok"]), (None, 1));
        assert_eq!(steps.step_latency.count, 1);
        assert!(!serde_json::to_string(&report).unwrap().contains("secret"));
    }
}
