//! Prometheus metrics of the platform, labelled by tenant and plugin (only
//! of enabled plugins, so that labels stay bounded) and small enums.

use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::platform::Platform;

/// Label values of requests for a function that is not enabled (the path's
/// names are not used, so that random paths cannot add series).
pub const UNKNOWN: &str = "_unknown";

/// Buckets of function and step latency, in seconds (0.5 ms to 60 s; the
/// default function timeout is 30 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Store failures by where they surfaced (process-wide: the store has no
/// handle on the platform).
static STORE_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "pa_store_errors_total",
            "Database failures by operation (request: while answering a request; kv: a component's key-value call; workflow: the workflow workers; step_logs, metering, health, metrics)",
        ),
        &["operation"],
    )
    .expect("valid metric")
});

/// Redis failures by operation.
static REDIS_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("pa_redis_errors_total", "Redis failures by operation (rate_limit)"),
        &["operation"],
    )
    .expect("valid metric")
});

/// Counts a database failure at `operation`.
pub fn store_error(operation: &'static str) {
    STORE_ERRORS.with_label_values(&[operation]).inc();
}

/// Counts a Redis failure at `operation`.
pub fn redis_error(operation: &'static str) {
    REDIS_ERRORS.with_label_values(&[operation]).inc();
}

/// The platform's metric families, in their own registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    limit_hits: IntCounterVec,
    in_flight: IntGaugeVec,
    concurrency_limit: IntGaugeVec,
    fuel: IntCounterVec,
    peak_memory: IntGaugeVec,
    pool_instances: IntGaugeVec,
    pool_capacity: IntGaugeVec,
    pool_memories: IntGaugeVec,
    pool_warm_bytes: IntGaugeVec,
    steps: IntCounterVec,
    step_latency: HistogramVec,
    steps_ready: IntGaugeVec,
    steps_running: IntGaugeVec,
    workflow_store_errors: IntCounter,
    /// Held while a scrape brings the counters read from elsewhere up to date.
    refresh: Mutex<()>,
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
}

fn histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels).expect("valid metric")
}

/// Raises `counter` to `total`, a running total kept elsewhere.
fn catch_up(counter: &IntCounter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}

impl Metrics {
    pub fn new() -> Self {
        let tp = &["tenant", "plugin"];
        let engine = &["engine"];
        let metrics = Metrics {
            registry: Registry::new(),
            requests: counter(
                "pa_function_requests_total",
                "Function requests by HTTP status code",
                &["tenant", "plugin", "status"],
            ),
            errors: counter(
                "pa_function_errors_total",
                "Function requests that failed, by error code (the platform's, or guest_5xx for a 5xx answer of the function itself)",
                &["tenant", "plugin", "code"],
            ),
            latency: histogram(
                "pa_function_request_duration_seconds",
                "Function latency until the response head",
                tp,
            ),
            limit_hits: counter(
                "pa_limit_hits_total",
                "Function requests refused or stopped by a limit (concurrency, tenant_concurrency, timeout, memory, quota)",
                &["tenant", "plugin", "limit"],
            ),
            in_flight: gauge("pa_function_requests_in_flight", "Function requests running now", tp),
            concurrency_limit: gauge(
                "pa_function_concurrency_limit",
                "Requests the enabled version may run at once (max_concurrency)",
                tp,
            ),
            fuel: counter(
                "pa_function_fuel_total",
                "Fuel (about one per WebAssembly instruction) the plugin's instances consumed",
                tp,
            ),
            peak_memory: gauge(
                "pa_function_peak_memory_bytes",
                "Largest linear memory an instance of the enabled version reached",
                tp,
            ),
            pool_instances: gauge(
                "pa_instance_pool_component_instances",
                "Component instances alive in the engine's pooling allocator",
                engine,
            ),
            pool_capacity: gauge(
                "pa_instance_pool_component_capacity",
                "Component instances the engine's pooling allocator can hold",
                engine,
            ),
            pool_memories: gauge(
                "pa_instance_pool_memories",
                "Linear memories in use in the engine's pooling allocator",
                engine,
            ),
            pool_warm_bytes: gauge(
                "pa_instance_pool_warm_memory_bytes",
                "Bytes kept resident in unused memory slots for reuse",
                engine,
            ),
            steps: counter(
                "pa_workflow_steps_total",
                "Workflow step attempts run on this node, by outcome (ok or the step error code)",
                &["tenant", "plugin", "outcome"],
            ),
            step_latency: histogram(
                "pa_workflow_step_duration_seconds",
                "Duration of a workflow step attempt on this node",
                tp,
            ),
            steps_ready: gauge(
                "pa_workflow_steps_ready",
                "Workflow steps ready and due, waiting for a worker (all nodes)",
                &["tenant"],
            ),
            steps_running: gauge(
                "pa_workflow_steps_running",
                "Workflow steps running (all nodes)",
                &["tenant"],
            ),
            workflow_store_errors: STORE_ERRORS.with_label_values(&["workflow"]),
            refresh: Mutex::new(()),
        };
        let collectors: Vec<Box<dyn Collector>> = vec![
            Box::new(metrics.requests.clone()),
            Box::new(metrics.errors.clone()),
            Box::new(metrics.latency.clone()),
            Box::new(metrics.limit_hits.clone()),
            Box::new(metrics.in_flight.clone()),
            Box::new(metrics.concurrency_limit.clone()),
            Box::new(metrics.fuel.clone()),
            Box::new(metrics.peak_memory.clone()),
            Box::new(metrics.pool_instances.clone()),
            Box::new(metrics.pool_capacity.clone()),
            Box::new(metrics.pool_memories.clone()),
            Box::new(metrics.pool_warm_bytes.clone()),
            Box::new(metrics.steps.clone()),
            Box::new(metrics.step_latency.clone()),
            Box::new(metrics.steps_ready.clone()),
            Box::new(metrics.steps_running.clone()),
            Box::new(STORE_ERRORS.clone()),
            Box::new(REDIS_ERRORS.clone()),
        ];
        for c in collectors {
            metrics.registry.register(c).expect("unique metric names");
        }
        metrics
    }

    /// Counts a finished function request: its status, error code and latency.
    pub fn observe(&self, tenant: &str, plugin: &str, status: StatusCode, error: Option<&str>, elapsed: Duration) {
        self.requests
            .with_label_values(&[tenant, plugin, status.as_str()])
            .inc();
        let error = error.or(status.is_server_error().then_some("guest_5xx"));
        if let Some(code) = error {
            self.errors.with_label_values(&[tenant, plugin, code]).inc();
        }
        self.latency
            .with_label_values(&[tenant, plugin])
            .observe(elapsed.as_secs_f64());
    }

    pub fn limit_hit(&self, tenant: &str, plugin: &str, limit: &str) {
        self.limit_hits.with_label_values(&[tenant, plugin, limit]).inc();
    }

    pub fn in_flight(&self, tenant: &str, plugin: &str) -> InFlight {
        let gauge = self.in_flight.with_label_values(&[tenant, plugin]);
        gauge.inc();
        InFlight(gauge)
    }

    /// Counts a finished workflow step attempt.
    pub fn step(&self, tenant: &str, plugin: &str, outcome: &str, elapsed: Duration) {
        self.steps.with_label_values(&[tenant, plugin, outcome]).inc();
        self.step_latency
            .with_label_values(&[tenant, plugin])
            .observe(elapsed.as_secs_f64());
    }

    /// Brings the figures kept elsewhere (runtime, engine, store) up to date.
    async fn refresh(&self, platform: &Platform) {
        let queue = platform.store.step_queue().await;
        let _held = self.refresh.lock().expect("not poisoned");
        for (tenant, plugin, live) in platform.deployments.all() {
            let labels = [tenant.as_str(), plugin.as_str()];
            self.peak_memory
                .with_label_values(&labels)
                .set(live.plugin.peak_memory() as i64);
            self.concurrency_limit
                .with_label_values(&labels)
                .set(i64::from(live.request.limits.max_concurrency));
        }
        for ((tenant, plugin), usage) in platform.metering.counters() {
            catch_up(
                &self.fuel.with_label_values(&[tenant.as_str(), plugin.as_str()]),
                usage.fuel_total(),
            );
        }
        for pool in platform.runtime.pool_use() {
            let engine = [pool.engine];
            self.pool_instances
                .with_label_values(&engine)
                .set(pool.component_instances as i64);
            self.pool_capacity
                .with_label_values(&engine)
                .set(i64::from(pool.component_capacity));
            self.pool_memories.with_label_values(&engine).set(pool.memories as i64);
            self.pool_warm_bytes
                .with_label_values(&engine)
                .set(pool.warm_memory_bytes as i64);
        }
        catch_up(&self.workflow_store_errors, platform.workflows.store_errors());
        match queue {
            Ok(rows) => {
                self.steps_ready.reset();
                self.steps_running.reset();
                for (tenant, ready, running) in rows {
                    self.steps_ready.with_label_values(&[tenant.as_str()]).set(ready);
                    self.steps_running.with_label_values(&[tenant.as_str()]).set(running);
                }
            }
            Err(e) => {
                store_error("metrics");
                tracing::warn!(error = %e, "reading the workflow queue for /metrics");
            }
        }
    }
}

impl Metrics {
    /// The registry's families with only `tenant`'s series, brought up to
    /// date first: what the tenant's monitoring endpoint reads.
    pub async fn of_tenant(&self, platform: &Platform, tenant: &str) -> Vec<MetricFamily> {
        self.refresh(platform).await;
        self.families_of(tenant)
    }

    /// The families with only the series labelled `tenant` (families with no
    /// tenant label, such as the instance pool's, are left out).
    pub(crate) fn families_of(&self, tenant: &str) -> Vec<MetricFamily> {
        let mut families = self.registry.gather();
        for family in &mut families {
            family.mut_metric().retain(|m| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == "tenant" && l.value() == tenant)
            });
        }
        families.retain(|f| !f.get_metric().is_empty());
        families
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(platform): State<Platform>) -> impl IntoResponse {
    platform.metrics.refresh(&platform).await;
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&platform.metrics.registry.gather(), &mut out)
        .expect("text encoding cannot fail");
    (
        [(header::CONTENT_TYPE, TextEncoder::new().format_type().to_string())],
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(metrics: &Metrics) -> String {
        let mut out = Vec::new();
        TextEncoder::new().encode(&metrics.registry.gather(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn errors_are_counted_by_code_and_failures_by_operation() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(3);
        metrics.observe("acme", "hello", StatusCode::OK, None, ms);
        metrics.observe("acme", "hello", StatusCode::GATEWAY_TIMEOUT, Some("timeout"), ms);
        metrics.observe("acme", "hello", StatusCode::BAD_GATEWAY, None, ms);
        metrics.observe("acme", "hello", StatusCode::NOT_FOUND, Some("not_found"), ms);
        metrics.step("acme", "steps", "ok", Duration::from_millis(1500));
        store_error("kv");
        redis_error("rate_limit");
        let text = text(&metrics);
        for line in [
            "pa_function_requests_total{plugin=\"hello\",status=\"200\",tenant=\"acme\"} 1",
            "pa_function_errors_total{code=\"timeout\",plugin=\"hello\",tenant=\"acme\"} 1",
            "pa_function_errors_total{code=\"guest_5xx\",plugin=\"hello\",tenant=\"acme\"} 1",
            "pa_function_errors_total{code=\"not_found\",plugin=\"hello\",tenant=\"acme\"} 1",
            "pa_function_request_duration_seconds_count{plugin=\"hello\",tenant=\"acme\"} 4",
            "pa_workflow_step_duration_seconds_bucket{plugin=\"steps\",tenant=\"acme\",le=\"2.5\"} 1",
            "pa_workflow_step_duration_seconds_bucket{plugin=\"steps\",tenant=\"acme\",le=\"1\"} 0",
            "# HELP pa_store_errors_total ",
            "# HELP pa_redis_errors_total ",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert_eq!(text.matches("pa_function_errors_total{").count(), 3, "{text}");
        assert!(text.contains("pa_store_errors_total{operation=\"kv\"}"), "{text}");
        assert!(
            text.contains("pa_redis_errors_total{operation=\"rate_limit\"}"),
            "{text}"
        );
    }

    #[test]
    fn catching_up_never_lowers_a_counter() {
        let counter = IntCounter::new("c_total", "c").unwrap();
        catch_up(&counter, 5);
        catch_up(&counter, 3);
        assert_eq!(counter.get(), 5);
        catch_up(&counter, 9);
        assert_eq!(counter.get(), 9);
    }
}
