//! Logs and traces of the process: `PA_LOG` filters the log lines (text, or
//! JSON with `PA_LOG_FORMAT=json`, which carry the trace and span ids of the
//! request they belong to); the platform's spans are exported over OTLP/HTTP
//! when `PA_OTLP_ENDPOINT` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use tracing::{Event, Level, Subscriber};
use tracing_opentelemetry::OtelData;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, filter::Targets};

/// The OTLP/HTTP path of traces under a collector's base URL.
const TRACES_PATH: &str = "/v1/traces";

/// The tracer provider of the process, if any; flush it with [`Telemetry::shutdown`].
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered and stops the exporter.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else { return };
        // The batch processor runs on the runtime; its shutdown blocks until
        // the last batch is sent, so it must not hold a worker thread.
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: flushing traces: {e}"),
            Err(e) => eprintln!("warning: flushing traces: {e}"),
        }
    }
}

/// The OTLP/HTTP traces URL of `PA_OTLP_ENDPOINT` (a collector's base URL).
fn traces_url(endpoint: &str) -> anyhow::Result<String> {
    let endpoint = endpoint.trim();
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || reqwest::Url::parse(endpoint).is_err()
    {
        anyhow::bail!("PA_OTLP_ENDPOINT must be an http(s) URL such as http://collector:4318, got `{endpoint}`");
    }
    let base = endpoint.trim_end_matches('/');
    Ok(if base.ends_with(TRACES_PATH) {
        base.to_string()
    } else {
        format!("{base}{TRACES_PATH}")
    })
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The tracer provider: exporting in batches when an endpoint is configured,
/// otherwise only giving spans their ids (for the JSON logs); `None` when
/// neither is wanted, so that spans cost nothing.
fn provider(json_logs: bool) -> anyhow::Result<Option<SdkTracerProvider>> {
    let mut resource = Resource::builder();
    if non_empty_env("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("pa");
    }
    let builder = SdkTracerProvider::builder().with_resource(resource.build());
    let exporter = if let Some(endpoint) = non_empty_env("PA_OTLP_ENDPOINT") {
        Some(
            SpanExporter::builder()
                .with_http()
                .with_endpoint(traces_url(&endpoint)?),
        )
    } else if ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| non_empty_env(name).is_some())
    {
        Some(SpanExporter::builder().with_http())
    } else {
        None
    };
    Ok(match exporter {
        Some(exporter) => {
            let exporter = exporter
                .build()
                .map_err(|e| anyhow::anyhow!("cannot set up the OTLP exporter: {e}"))?;
            Some(
                builder
                    .with_span_processor(BatchSpanProcessor::builder(exporter, Tokio).build())
                    .build(),
            )
        }
        None if json_logs => Some(builder.build()),
        None => None,
    })
}

/// Installs the process's subscriber: log lines filtered by `PA_LOG`, and
/// the platform's spans given to OpenTelemetry whatever `PA_LOG` says (when
/// they are exported or JSON log lines carry their ids).
pub fn init() -> anyhow::Result<Telemetry> {
    let json = std::env::var("PA_LOG_FORMAT").as_deref() == Ok("json");
    let provider = provider(json)?;
    let filter = EnvFilter::try_from_env("PA_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = if json {
        logs.json()
            .event_format(WithTraceIds(tracing_subscriber::fmt::format().json()))
            .boxed()
    } else {
        logs.boxed()
    };
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("pa"))
            .with_threads(false)
            .with_filter(
                Targets::new()
                    .with_target("pa_server", Level::INFO)
                    .with_target("pa_runtime", Level::INFO),
            )
    });
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(spans)
        .init();
    Ok(Telemetry { provider })
}

/// A JSON event format that adds `trace_id` and `span_id` of the current
/// span (the nearest one OpenTelemetry knows) to each line inside one.
struct WithTraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match (current_ids(), line.strip_suffix("}\n")) {
            (Some((trace, span)), Some(object)) => {
                writeln!(writer, "{object},\"trace_id\":\"{trace}\",\"span_id\":\"{span}\"}}")
            }
            _ => writer.write_str(&line),
        }
    }
}

/// The OpenTelemetry ids of the current span or its nearest ancestor that has them.
fn current_ids() -> Option<(TraceId, SpanId)> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(id)?;
            span.scope().find_map(|span| {
                let extensions = span.extensions();
                let data = extensions.get::<OtelData>()?;
                Some((data.trace_id()?, data.span_id()?))
            })
        })
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_a_base_url() {
        assert_eq!(traces_url("http://c:4318").unwrap(), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/").unwrap(), "http://c:4318/v1/traces");
        assert_eq!(traces_url("https://c/v1/traces").unwrap(), "https://c/v1/traces");
        let err = traces_url("collector:4318").unwrap_err().to_string();
        assert!(err.contains("PA_OTLP_ENDPOINT"), "{err}");
    }
}
