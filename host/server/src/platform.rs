//! The shared state of a running platform and its router.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use pa_runtime::{Compiler, Runtime};
use pa_store::{Blobs, ChainReport, NewKey, Store};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_scalar::{Scalar, Servable};

use crate::auth::{Sealer, Secrets};
use crate::capabilities::PlatformCapabilities;
use crate::capabilities::model::Models;
use crate::capabilities::ocr::OcrLimits;
use crate::capabilities::provider_hosts::InternalHosts;
use crate::deploy::Deployments;
use crate::first_party::FirstParty;
use crate::invoke;
use crate::logs::PluginLogs;
use crate::metering::Metering;
use crate::metrics::Metrics;
use crate::quota_kv::QuotaKv;
use crate::ratelimit::{Limiter, RateLimits};
use crate::workflows::PlatformRunner;
use pa_workflow::Engine;
use tokio::task::JoinHandle;

/// How often an idle workflow worker looks for steps that became ready by
/// time or on another node.
const WORKFLOW_POLL: Duration = Duration::from_millis(200);

/// How to build a [`Platform`].
pub struct PlatformConfig {
    /// Data directory (database file, blobs, compiled-code cache).
    pub data_dir: PathBuf,
    /// Database URL; `sqlite://<data_dir>/pa.db` when `None`.
    pub database_url: Option<String>,
    /// Where component and site bytes are kept (`s3://BUCKET[/PREFIX]` or
    /// `file:///FOLDER`); `<data_dir>/blobs` when `None`.
    pub blob_url: Option<String>,
    /// Largest accepted component upload, in bytes.
    pub max_upload_bytes: usize,
    /// Where uploaded components are compiled.
    pub compiler: Compiler,
    /// Time limit for compiling one uploaded component.
    pub compile_timeout: Duration,
    /// Requests one tenant may have running at once across its plugins.
    pub tenant_concurrency: u32,
    /// Request rate limits per client IP, credential and tenant.
    pub rate_limits: RateLimits,
    /// Redis shared by the nodes (rate limits); in-process state when `None`.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key of this platform.
    pub redis_prefix: String,
    /// Browser origins allowed to call the API cross-origin (`*` for any).
    pub cors_origins: Vec<String>,
    /// Workflow steps this node runs at once.
    pub workflow_workers: usize,
    /// How long a workflow step stays with the node that took it without
    /// word from it (the node renews it while the step runs).
    pub workflow_lease: Duration,
    /// How long an MCP task stays `working` without word from the node
    /// running it (the node renews it while the task runs).
    pub task_lease: Duration,
    /// The built management console served at `/console/`, if any.
    pub console_dir: Option<PathBuf>,
    /// The built first-party components offered to tenants, if any.
    pub first_party_dir: Option<PathBuf>,
    /// Loopback, private or link-local hosts tenants' model providers may
    /// be at (`*` for any); others must be public.
    pub model_internal_hosts: Vec<String>,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            blob_url: None,
            max_upload_bytes: 50 << 20,
            compiler: Compiler::Thread,
            compile_timeout: Duration::from_secs(60),
            tenant_concurrency: 256,
            rate_limits: RateLimits::default(),
            redis_url: None,
            redis_prefix: "pa:".into(),
            cors_origins: Vec::new(),
            workflow_workers: 4,
            workflow_lease: Duration::from_secs(30),
            task_lease: Duration::from_secs(30),
            console_dir: None,
            first_party_dir: None,
            model_internal_hosts: Vec::new(),
        }
    }
}

/// The database URL: the one given, or the SQLite file in the data folder.
pub(crate) fn resolve_database_url(data_dir: &Path, url: Option<String>) -> String {
    url.unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pa.db").display()))
}

/// The blob store of the platform at `data_dir`: the bucket or folder at
/// `blob_url`, else the data folder's `blobs` (the one place it is made).
pub(crate) fn blob_store(data_dir: &Path, blob_url: Option<&str>) -> std::io::Result<Blobs> {
    match blob_url {
        Some(url) => Blobs::from_url(url),
        None => Blobs::open(data_dir.join("blobs")),
    }
}

/// Checks every audit chain (or one tenant's) of the platform at `data_dir` /
/// `database_url` with the platform secret; `pa audit verify`.
pub async fn verify_audit(
    data_dir: &Path,
    database_url: Option<String>,
    tenant: Option<&str>,
) -> anyhow::Result<Vec<ChainReport>> {
    let secrets = Secrets::load(data_dir)?;
    let store = Store::open(&resolve_database_url(data_dir, database_url)).await?;
    Ok(store.verify_audit(&secrets.audit, tenant).await?)
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
    pub metering: Arc<Metering>,
    /// What each plugin printed recently, and its failed calls (this node's).
    pub logs: PluginLogs,
    pub mcp: crate::mcp::Sessions,
    pub secrets: Secrets,
    /// Seals the secrets tenants store.
    pub sealer: Sealer,
    /// The tenants' chat models.
    pub models: Models,
    pub limiter: Arc<Limiter>,
    pub graphql: crate::graphql::ApiSchema,
    /// The platform's own components, offered to every tenant.
    pub first_party: FirstParty,
    pub workflows: Arc<Engine<PlatformRunner>>,
    workflow_workers: usize,
    /// CORS for the configured origins; none configured, no CORS headers.
    cors: Option<CorsLayer>,
    console_dir: Option<PathBuf>,
    pub max_upload_bytes: usize,
    ready: AtomicBool,
    /// Set when the process was told to stop: `/readyz` answers 503.
    draining: AtomicBool,
    /// The workflow workers, awaited when the process stops.
    workers: Mutex<Vec<JoinHandle<()>>>,
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
        let url = resolve_database_url(&config.data_dir, config.database_url);
        let secrets = Secrets::load(&config.data_dir)?;
        let store = Store::open(&url).await?;
        store.ensure_tenant("default").await?;
        let blobs = blob_store(&config.data_dir, config.blob_url.as_deref())?;
        let metering = Arc::new(Metering::new(store.clone()));
        metering.spawn_flusher();
        let kv = QuotaKv {
            store: store.clone(),
            metering: metering.clone(),
        };
        let sealer = Sealer::new(&secrets.sealing);
        let models = Models::new(
            store.clone(),
            sealer.clone(),
            InternalHosts::new(&config.model_internal_hosts),
        );
        let capabilities = PlatformCapabilities::new(
            store.clone(),
            blobs.clone(),
            metering.clone(),
            models.clone(),
            OcrLimits::default(),
        );
        let runtime = Runtime::new(
            &config.data_dir.join("cache"),
            Arc::new(kv),
            Arc::new(capabilities),
            config.compiler,
            config.compile_timeout,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))?;
        let metrics = Metrics::new();
        let limiter = Limiter::new(config.rate_limits, config.redis_url.as_deref(), &config.redis_prefix).await?;
        let owner = format!("node-{}-{}", std::process::id(), hex::encode(rand::random::<[u8; 6]>()));
        let cors = cors_layer(&config.cors_origins)?;
        let first_party = FirstParty::load(config.first_party_dir.as_deref())?;
        Ok(Platform(Arc::new_cyclic(|platform| Inner {
            workflows: Arc::new(Engine::new(
                store.clone(),
                PlatformRunner {
                    platform: platform.clone(),
                },
                owner,
                config.workflow_lease,
            )),
            workflow_workers: config.workflow_workers,
            store,
            blobs,
            runtime: Arc::new(runtime),
            deployments: Deployments::new(config.tenant_concurrency),
            metrics,
            metering,
            logs: PluginLogs::default(),
            mcp: crate::mcp::Sessions::new(secrets.mcp_state.clone(), config.task_lease),
            secrets,
            sealer,
            models,
            limiter: Arc::new(limiter),
            graphql: crate::graphql::schema(),
            first_party,
            cors,
            console_dir: config.console_dir,
            max_upload_bytes: config.max_upload_bytes,
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            workers: Mutex::default(),
        })))
    }

    /// The platform of a handle its parts keep.
    pub fn from_inner(inner: Arc<Inner>) -> Platform {
        Platform(inner)
    }

    /// Records `token` as a platform admin key.
    pub async fn bootstrap_admin(&self, token: &str) -> anyhow::Result<()> {
        let key = NewKey {
            token,
            tenant: None,
            role: "admin",
            name: "bootstrap",
            expires_at: None,
        };
        self.store.insert_api_key(&key).await?;
        Ok(())
    }

    /// Whether a platform admin key exists already.
    pub async fn has_admin(&self) -> anyhow::Result<bool> {
        Ok(self.store.has_admin_key().await?)
    }

    /// Stops taking new work: `/readyz` answers 503 (load balancers move
    /// on) and the workflow workers take no new step.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
        self.workflows.stop();
    }

    /// Finishes what must outlive the last request: waits up to `timeout`
    /// for the workflow steps still running (after that their leases pass
    /// to other nodes), then records the usage not yet written.
    pub async fn shut_down(&self, timeout: Duration) {
        self.start_draining();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap());
        if tokio::time::timeout(timeout, futures::future::join_all(workers))
            .await
            .is_err()
        {
            tracing::warn!("workflow steps still running when the drain time ran out");
        }
        self.metering.flush().await;
    }

    /// Loads every enabled plugin; the platform reports ready afterwards.
    pub async fn load_enabled(&self) -> anyhow::Result<()> {
        for d in self.store.deployments().await? {
            if let Err(e) = self.deployments.restore(self, &d).await {
                tracing::error!(tenant = %d.tenant, plugin = %d.name, error = %e.message, "could not load enabled plugin");
            }
        }
        let mut workers = self.workers.lock().unwrap();
        for _ in 0..self.workflow_workers {
            workers.push(tokio::spawn(self.workflows.clone().work(WORKFLOW_POLL)));
        }
        drop(workers);
        crate::cluster::spawn(self.clone());
        self.0.ready.store(true, Ordering::Release);
        Ok(())
    }
}

/// CORS for the configured origins; none for no origins (no cross-origin
/// access, and no CORS header on any response).
fn cors_layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("mcp-session-id"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(3600));
    Ok(Some(match origins {
        [any] if any == "*" => layer.allow_origin(AllowOrigin::any()),
        list => {
            let parsed: Result<Vec<HeaderValue>, _> = list.iter().map(|o| HeaderValue::from_str(o)).collect();
            layer.allow_origin(parsed.map_err(|e| anyhow::anyhow!("invalid CORS origin: {e}"))?)
        }
    }))
}

/// A header every response carries unless its handler set one.
fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}

/// The router of the whole platform.
pub fn app(platform: Platform) -> Router {
    let limited = Router::new()
        .merge(crate::routes::router(&platform))
        .merge(Scalar::with_url("/api/docs", crate::openapi::document().clone()))
        .route(
            "/t/{tenant}/mcp",
            post(crate::mcp::post).get(crate::mcp::get).delete(crate::mcp::delete),
        )
        .route(
            "/.well-known/oauth-protected-resource/t/{tenant}/mcp",
            get(crate::mcp::resource_metadata),
        )
        .route("/api/graphql", post(crate::graphql::handle))
        .route("/t/{tenant}/sites/{site}", get(crate::sites::root))
        .route("/t/{tenant}/sites/{site}/", get(crate::sites::serve))
        .route("/t/{tenant}/sites/{site}/{*path}", get(crate::sites::serve))
        .route("/t/{tenant}/fn/{plugin}", any(invoke::function))
        .route("/t/{tenant}/fn/{plugin}/", any(invoke::function))
        .route("/t/{tenant}/fn/{plugin}/{*rest}", any(invoke::function))
        .fallback(|| async { crate::error::ApiError::not_found("no such route") });
    // Without a configured rate the layer would only cost every request a hop.
    let limited = if platform.limiter.is_active() {
        limited.layer(from_fn_with_state(platform.clone(), crate::ratelimit::limit))
    } else {
        limited
    };
    let router = limited
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .merge(crate::console::router(platform.console_dir.as_deref()))
        .route("/metrics", get(crate::metrics::render));
    // One stack, so each request passes one boxed layer instead of one per
    // middleware (a router's layers wrap every route; the trace span needs
    // the matched route).
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::telemetry::request_span::<axum::body::Body>)
                .on_response(crate::telemetry::RecordStatus),
        )
        .layer(security_header("referrer-policy", "no-referrer"))
        .layer(security_header("x-frame-options", "DENY"))
        .layer(security_header("x-content-type-options", "nosniff"))
        .option_layer(platform.cors.clone());
    router.layer(middleware).with_state(platform)
}

async fn readyz(State(platform): State<Platform>) -> impl IntoResponse {
    let store = platform.store.ping().await;
    if store.is_err() {
        crate::metrics::store_error("health");
    }
    let loaded = platform.0.ready.load(Ordering::Acquire);
    let draining = platform.0.draining.load(Ordering::Acquire);
    let status = if store.is_ok() && loaded && !draining {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "store": store.map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "plugins_loaded": loaded,
        "draining": draining,
    });
    (status, axum::Json(body))
}
