//! Prometheus metrics of the platform, labelled by tenant and plugin.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::platform::Platform;

/// The platform's metric families, in their own registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    limit_hits: IntCounterVec,
    in_flight: IntGaugeVec,
    fuel: IntGaugeVec,
    peak_memory: IntGaugeVec,
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(prometheus::IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let labels = &["tenant", "plugin"];
        let requests = IntCounterVec::new(
            Opts::new("pa_function_requests_total", "Function requests by status"),
            &["tenant", "plugin", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "pa_function_request_duration_seconds",
                "Function latency until the response head",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            labels,
        )
        .expect("valid metric");
        let limit_hits = IntCounterVec::new(
            Opts::new("pa_limit_hits_total", "Requests refused or stopped by a limit"),
            &["tenant", "plugin", "limit"],
        )
        .expect("valid metric");
        let in_flight = IntGaugeVec::new(
            Opts::new("pa_function_requests_in_flight", "Function requests running now"),
            labels,
        )
        .expect("valid metric");
        let fuel = IntGaugeVec::new(
            Opts::new(
                "pa_function_fuel_consumed",
                "Fuel consumed by the enabled version since it was enabled",
            ),
            labels,
        )
        .expect("valid metric");
        let peak_memory = IntGaugeVec::new(
            Opts::new("pa_function_peak_memory_bytes", "Largest linear memory of an instance"),
            labels,
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(limit_hits.clone()),
            Box::new(in_flight.clone()),
            Box::new(fuel.clone()),
            Box::new(peak_memory.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            limit_hits,
            in_flight,
            fuel,
            peak_memory,
        }
    }

    pub fn observe(&self, tenant: &str, plugin: &str, status: StatusCode, elapsed: Duration) {
        self.requests
            .with_label_values(&[tenant, plugin, status.as_str()])
            .inc();
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
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(platform): State<Platform>) -> impl IntoResponse {
    for (tenant, plugin, live) in platform.deployments.all() {
        let labels = [tenant.as_str(), plugin.as_str()];
        platform
            .metrics
            .fuel
            .with_label_values(&labels)
            .set(live.plugin.fuel_consumed() as i64);
        platform
            .metrics
            .peak_memory
            .with_label_values(&labels)
            .set(live.plugin.peak_memory() as i64);
    }
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&platform.metrics.registry.gather(), &mut out)
        .expect("text encoding cannot fail");
    (
        [(header::CONTENT_TYPE, TextEncoder::new().format_type().to_string())],
        out,
    )
}
