//! Calling HTTP functions: `/t/{tenant}/fn/{plugin}/…` for the platform,
//! and the request/response conversion `pa up` shares.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use pa_runtime::{HttpFunction, Plugin, WasiBody};

use crate::auth::{self, Permission};
use crate::deploy::{Access, Live};
use crate::error::ApiError;
use crate::platform::Platform;
use crate::{metrics, telemetry};

/// Where a request matched, told to the guest in Spin's `spin-*` headers.
pub struct RouteMatch<'a> {
    /// The route pattern, e.g. `/kv/...`.
    pub route: &'a str,
    /// The path prefix the route is mounted under (`/t/acme/fn/kv` or empty).
    pub base: &'a str,
    /// The part of the path after the matched route's fixed prefix.
    pub path_info: &'a str,
}

/// Converts an incoming request for the guest, adding Spin's routing headers.
pub fn guest_request(request: Request, matched: &RouteMatch<'_>) -> http::Request<WasiBody> {
    let (mut parts, body) = request.into_parts();
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let full_url = format!(
        "http://{host}{}",
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let raw_route = format!("{}{}", matched.base, matched.route);
    let component_route = raw_route.trim_end_matches("/...").to_string();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            parts.headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("spin-full-url", &full_url);
    set("spin-path-info", matched.path_info);
    set("spin-matched-route", &raw_route);
    set("spin-raw-component-route", &raw_route);
    set("spin-component-route", &component_route);
    set(
        "spin-base-path",
        if matched.base.is_empty() { "/" } else { matched.base },
    );
    if let Some(client) = client {
        set("spin-client-addr", &client.to_string());
    }
    let body = body
        .map_err(|e| pa_runtime::HttpBodyError::InternalError(Some(e.to_string())))
        .boxed_unsync();
    http::Request::from_parts(parts, body)
}

/// Calls `function` and converts its answer (or failure) to a response.
pub async fn call(function: &HttpFunction, request: http::Request<WasiBody>) -> Result<Response, ApiError> {
    Ok(function.handle(request).await?.map(Body::new))
}

/// The names in a function's path.
#[derive(serde::Deserialize)]
pub struct Target {
    tenant: String,
    plugin: String,
}

/// `ANY /t/{tenant}/fn/{plugin}[/…]`.
pub async fn function(
    State(platform): State<Platform>,
    Path(Target { tenant, plugin }): Path<Target>,
    request: Request,
) -> Response {
    telemetry::record_target(&tenant, &plugin);
    let started = Instant::now();
    let live = platform.deployments.get(&tenant, &plugin);
    let result = run(&platform, live.as_deref(), &tenant, &plugin, request).await;
    // Metrics name only enabled functions: any path can be asked for.
    let (tenant, plugin) = if live.is_some() {
        (tenant.as_str(), plugin.as_str())
    } else {
        (metrics::UNKNOWN, metrics::UNKNOWN)
    };
    let (response, error) = match result {
        Ok(response) => (response, None),
        Err(e) => {
            if let Some(limit) = limit_name(&e) {
                platform.metrics.limit_hit(tenant, plugin, limit);
            }
            let code = e.code;
            (e.into_response(), Some(code))
        }
    };
    platform
        .metrics
        .observe(tenant, plugin, response.status(), error, started.elapsed());
    response
}

fn limit_name(e: &ApiError) -> Option<&'static str> {
    match e.code {
        "concurrency_limit" => Some("concurrency"),
        "tenant_concurrency_limit" => Some("tenant_concurrency"),
        "timeout" => Some("timeout"),
        "memory_limit" => Some("memory"),
        "quota_exceeded" => Some("quota"),
        _ => None,
    }
}

async fn run(
    platform: &Platform,
    live: Option<&Live>,
    tenant: &str,
    plugin: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let live =
        live.ok_or_else(|| ApiError::not_found(format!("no enabled function `{plugin}` in tenant `{tenant}`")))?;
    if live.access == Access::ApiKey {
        let headers = request.headers();
        telemetry::auth(tenant, async {
            let caller = auth::authenticate(platform, headers).await?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this function needs an API key or access token of its tenant",
                )
            })?;
            auth::require(platform, &caller, tenant, Permission::FunctionInvoke).await
        })
        .await?;
    }
    let function = match &live.plugin {
        Plugin::Http(function) => function,
        Plugin::Tools(_) => {
            return Err(ApiError::not_found(format!(
                "plugin `{plugin}` is an MCP tool server, not an HTTP function; use /t/{tenant}/mcp"
            )));
        }
        Plugin::Step(_) => {
            return Err(ApiError::not_found(format!(
                "plugin `{plugin}` is a workflow step, not an HTTP function; run it in a workflow"
            )));
        }
    };
    platform.metering.admit(tenant).await?;
    let _tenant_permit = platform
        .deployments
        .tenant_permits(tenant)
        .try_acquire_owned()
        .map_err(|_| ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "tenant_concurrency_limit",
                format!(
                    "tenant `{tenant}` is at its limit of {} concurrent requests",
                    platform.deployments.tenant_concurrency()
                ),
            )
        })?;
    let base = format!("/t/{tenant}/fn/{plugin}");
    let rest = request
        .uri()
        .path()
        .strip_prefix(base.as_str())
        .unwrap_or_default()
        .to_string();
    let matched = RouteMatch {
        route: "/...",
        base: &base,
        path_info: &rest,
    };
    let guest = guest_request(request, &matched);
    let _in_flight = platform.metrics.in_flight(tenant, plugin);
    call(function, guest).await
}
