//! `pa up`: serve a Spin manifest locally, like `spin up`, on the embedded
//! default store (SQLite in the data folder) for key-value data.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use pa_runtime::{AllowList, Compiler, FunctionConfig, HttpFunction, Limits, NoCapabilities, Plugin, Runtime};
use pa_store::Store;

use crate::error::ApiError;
use crate::invoke::{RouteMatch, call, guest_request};
use crate::manifest::{self, Route};

/// Tenant id under which `pa up` keeps an app's key-value data.
const LOCAL_TENANT: &str = "local";

struct Served {
    routes: Vec<(Route, HttpFunction)>,
}

/// Builds the router serving the app in `manifest_path`, with data in `data_dir`.
pub async fn router(manifest_path: &Path, data_dir: &Path) -> anyhow::Result<Router> {
    let text = std::fs::read_to_string(manifest_path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", manifest_path.display()))?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let app = manifest::parse(&text, dir, &|name| std::env::var(name).ok())?;
    std::fs::create_dir_all(data_dir)?;
    let store = Store::open(&format!("sqlite://{}", data_dir.join("pa.db").display())).await?;
    let runtime = Runtime::new(
        &data_dir.join("cache"),
        Arc::new(store),
        Arc::new(NoCapabilities),
        Compiler::Thread,
        Duration::from_secs(120),
    )
    .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))?;
    let mut functions = std::collections::HashMap::new();
    for (id, spec) in &app.components {
        let bytes = std::fs::read(&spec.source)
            .map_err(|e| anyhow::anyhow!("component `{id}`: cannot read {}: {e}", spec.source.display()))?;
        let prepared = runtime
            .prepare(&bytes)
            .map_err(|e| anyhow::anyhow!("component `{id}`: {e}"))?;
        let config = FunctionConfig {
            tenant: LOCAL_TENANT.to_string(),
            plugin: format!("{}-{id}", app.name),
            // The manifest's files as they are now, not a stored version.
            version: "local".to_string(),
            limits: Limits::default(),
            allowed_outbound_hosts: AllowList::parse(&spec.allowed_outbound_hosts)?,
            key_value_stores: spec.key_value_stores.clone(),
            variables: spec.variables.clone(),
            grants: Default::default(),
            usage: Default::default(),
            // Printed lines reach the terminal as `pa::guest` log events.
            logs: Default::default(),
        };
        let Plugin::Http(function) = Plugin::new(&runtime, &prepared, config) else {
            anyhow::bail!("component `{id}` is an MCP tool server; `pa up` serves HTTP components");
        };
        functions.insert(id.clone(), function);
    }
    let mut routes: Vec<(Route, HttpFunction)> = app
        .routes
        .iter()
        .map(|r| (r.clone(), functions[&r.component].clone()))
        .collect();
    // Exact routes win over wildcards; longer wildcard prefixes over shorter.
    routes.sort_by_key(|(r, _)| {
        let (prefix, wildcard) = r.prefix();
        (wildcard, std::cmp::Reverse(prefix.len()))
    });
    for (route, _) in &routes {
        tracing::info!(route = %route.pattern, component = %route.component, "serving");
    }
    Ok(Router::new().fallback(dispatch).with_state(Arc::new(Served { routes })))
}

async fn dispatch(State(app): State<Arc<Served>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let Some((route, function, info)) = app
        .routes
        .iter()
        .find_map(|(r, f)| r.matches(&path).map(|info| (r, f, info.to_string())))
    else {
        return ApiError::not_found(format!("no route matches `{path}`")).into_response();
    };
    let matched = RouteMatch {
        route: &route.pattern,
        base: "",
        path_info: &info,
    };
    let guest = guest_request(request, &matched);
    call(function, guest).await.unwrap_or_else(IntoResponse::into_response)
}
