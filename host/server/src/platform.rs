//! The shared state of a running platform and its router.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{any, get, post, put};
use pa_runtime::{Compiler, Runtime};
use pa_store::{Blobs, Store};
use tower_http::trace::TraceLayer;

use crate::deploy::Deployments;
use crate::metrics::Metrics;
use crate::{api, invoke};

/// How to build a [`Platform`].
pub struct PlatformConfig {
    /// Data directory (database file, blobs, compiled-code cache).
    pub data_dir: PathBuf,
    /// Database URL; `sqlite://<data_dir>/pa.db` when `None`.
    pub database_url: Option<String>,
    /// Largest accepted component upload, in bytes.
    pub max_upload_bytes: usize,
    /// Where uploaded components are compiled.
    pub compiler: Compiler,
    /// Time limit for compiling one uploaded component.
    pub compile_timeout: Duration,
    /// Requests one tenant may have running at once across its plugins.
    pub tenant_concurrency: u32,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            max_upload_bytes: 50 << 20,
            compiler: Compiler::Thread,
            compile_timeout: Duration::from_secs(60),
            tenant_concurrency: 256,
        }
    }
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct Platform(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub blobs: Blobs,
    pub runtime: Arc<Runtime>,
    pub deployments: Deployments,
    pub metrics: Metrics,
    pub mcp: crate::mcp::Sessions,
    pub max_upload_bytes: usize,
    ready: AtomicBool,
}

impl std::ops::Deref for Platform {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Platform {
    /// Opens the store, blobs and runtime, and creates the `default` tenant.
    pub async fn open(config: PlatformConfig) -> anyhow::Result<Platform> {
        std::fs::create_dir_all(&config.data_dir)?;
        let url = match config.database_url {
            Some(url) => url,
            None => format!("sqlite://{}", config.data_dir.join("pa.db").display()),
        };
        let store = Store::open(&url).await?;
        store.ensure_tenant("default").await?;
        let blobs = Blobs::open(config.data_dir.join("blobs"))?;
        let runtime = Runtime::new(
            &config.data_dir.join("cache"),
            Arc::new(store.clone()),
            config.compiler,
            config.compile_timeout,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))?;
        let metrics = Metrics::new();
        Ok(Platform(Arc::new(Inner {
            store,
            blobs,
            runtime: Arc::new(runtime),
            deployments: Deployments::new(config.tenant_concurrency),
            metrics,
            mcp: crate::mcp::Sessions::default(),
            max_upload_bytes: config.max_upload_bytes,
            ready: AtomicBool::new(false),
        })))
    }

    /// Records `token` as a platform admin key.
    pub async fn bootstrap_admin(&self, token: &str) -> anyhow::Result<()> {
        self.store.ensure_api_key(token, None, "admin").await?;
        Ok(())
    }

    /// Whether a platform admin key exists already.
    pub async fn has_admin(&self) -> anyhow::Result<bool> {
        Ok(self.store.has_admin_key().await?)
    }

    /// Loads every enabled plugin; the platform reports ready afterwards.
    pub async fn load_enabled(&self) -> anyhow::Result<()> {
        for d in self.store.deployments().await? {
            if let Err(e) = self.deployments.restore(self, &d).await {
                tracing::error!(tenant = %d.tenant, plugin = %d.name, error = %e.message, "could not load enabled plugin");
            }
        }
        self.0.ready.store(true, Ordering::Release);
        Ok(())
    }
}

/// The router of the whole platform.
pub fn app(platform: Platform) -> Router {
    let tenant_api = Router::new()
        .route("/plugins", get(api::list_plugins))
        .route(
            "/plugins/{name}/versions/{version}",
            put(api::upload).get(api::get_version),
        )
        .route("/plugins/{name}/enable", post(api::enable))
        .route("/plugins/{name}/disable", post(api::disable))
        .route("/api-keys", post(api::create_key))
        .route("/mcp", get(api::get_mcp_settings).put(api::set_mcp_settings));
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::render))
        .route("/api/v1/tenants", post(api::create_tenant))
        .nest("/api/v1/tenants/{tenant}", tenant_api)
        .route(
            "/t/{tenant}/mcp",
            post(crate::mcp::post).get(crate::mcp::get).delete(crate::mcp::delete),
        )
        .route(
            "/.well-known/oauth-protected-resource/t/{tenant}/mcp",
            get(crate::mcp::resource_metadata),
        )
        .route("/t/{tenant}/fn/{plugin}", any(invoke::function))
        .route("/t/{tenant}/fn/{plugin}/", any(invoke::function))
        .route("/t/{tenant}/fn/{plugin}/{*rest}", any(invoke::function))
        .fallback(|| async { crate::error::ApiError::not_found("no such route") })
        .layer(TraceLayer::new_for_http())
        .with_state(platform)
}

async fn readyz(State(platform): State<Platform>) -> impl IntoResponse {
    let store = platform.store.ping().await;
    let loaded = platform.0.ready.load(Ordering::Acquire);
    let status = if store.is_ok() && loaded {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "store": store.map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "plugins_loaded": loaded,
    });
    (status, axum::Json(body))
}
