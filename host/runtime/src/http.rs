//! HTTP functions: one enabled plugin version with its grants and limits,
//! answering requests on fresh (0.2) or pooled, reused (0.3) instances.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use thread_local::ThreadLocal;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut, Trap};
use wasmtime_wasi_http::handler::{
    HandlerState, Proxy, ProxyHandler, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::capabilities::CapabilityGrants;
use crate::egress::AllowList;
use crate::engine::EPOCH_TICK;
use crate::sandbox::Sandbox;
use crate::state::InstanceState;
use crate::{InvokeError, Limits, LogBuffer, Usage};

/// How one plugin version runs for one tenant.
pub struct FunctionConfig {
    /// Tenant id.
    pub tenant: String,
    /// Plugin name (its key-value data is shared by all its versions).
    pub plugin: String,
    /// The version enabled.
    pub version: String,
    /// Resource limits.
    pub limits: Limits,
    /// Outbound hosts it may call.
    pub allowed_outbound_hosts: AllowList,
    /// Key-value store labels it may open.
    pub key_value_stores: Vec<String>,
    /// Variables it can read.
    pub variables: HashMap<String, String>,
    /// Host capabilities it may use.
    pub grants: CapabilityGrants,
    /// Where its consumption is added up (shared by all its versions).
    pub usage: Arc<Usage>,
    /// Where what it prints and its failed calls are kept (shared by all its versions).
    pub logs: Arc<LogBuffer>,
}

/// An invocable HTTP function. Cheap to clone.
#[derive(Clone)]
pub struct HttpFunction(Arc<Inner>);

struct Inner {
    sandbox: Arc<Sandbox>,
    permits: Arc<Semaphore>,
    mode: Mode,
}

enum Mode {
    P2(ProxyPre<InstanceState>),
    /// One handler, and so one set of reused instances, per thread serving
    /// requests: a request and the instance answering it share a thread.
    P3 {
        pre: ServicePre<InstanceState>,
        handlers: Box<ThreadLocal<ProxyHandler<P3Handler>>>,
    },
}

impl HttpFunction {
    /// Binds a `wasi:http` 0.2 component to a plugin's sandbox.
    pub(crate) fn p2(pre: &ProxyPre<InstanceState>, sandbox: Sandbox) -> HttpFunction {
        HttpFunction::with_mode(Arc::new(sandbox), Mode::P2(pre.clone()))
    }

    /// Binds a `wasi:http` 0.3 component to a plugin's sandbox.
    pub(crate) fn p3(pre: &ServicePre<InstanceState>, sandbox: Sandbox) -> HttpFunction {
        HttpFunction::with_mode(
            Arc::new(sandbox),
            Mode::P3 {
                pre: pre.clone(),
                handlers: Box::default(),
            },
        )
    }

    fn with_mode(sandbox: Arc<Sandbox>, mode: Mode) -> HttpFunction {
        let permits = Arc::new(Semaphore::new(sandbox.limits.max_concurrency as usize));
        HttpFunction(Arc::new(Inner { sandbox, permits, mode }))
    }

    /// Fuel consumed by every finished call so far.
    pub fn fuel_consumed(&self) -> u64 {
        self.0.sandbox.fuel_consumed.load(Ordering::Relaxed)
    }

    /// The largest linear memory any instance reached, in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.0.sandbox.peak_memory.load(Ordering::Relaxed)
    }

    /// Handles one request. Fails fast with [`InvokeError::Busy`] when the
    /// plugin is at its concurrency limit.
    pub async fn handle(&self, request: http::Request<WasiBody>) -> Result<http::Response<WasiBody>, InvokeError> {
        let span = self.0.sandbox.call_span("wasi:http/handler");
        let result = self.handle_in(request).instrument(span.clone()).await;
        span.in_scope(|| self.0.sandbox.log_failure(&result));
        result
    }

    async fn handle_in(&self, request: http::Request<WasiBody>) -> Result<http::Response<WasiBody>, InvokeError> {
        let permit = self
            .0
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| InvokeError::Busy {
                limit: self.0.sandbox.limits.max_concurrency,
            })?;
        let _call = self.0.sandbox.usage.call();
        let response = match &self.0.mode {
            Mode::P2(pre) => self.handle_p2(pre.clone(), request, permit).await?,
            Mode::P3 { pre, handlers } => {
                let handler = handlers.get_or(|| {
                    ProxyHandler::new(P3Handler {
                        pre: pre.clone(),
                        sandbox: self.0.sandbox.clone(),
                    })
                });
                let timeout = self.0.sandbox.timeout();
                let result = tokio::time::timeout(timeout, handler.handle((), request)).await;
                drop(permit);
                match result {
                    Ok(Ok(response)) => {
                        // The instance is a task on this thread: let it run once
                        // before hyper sees the response, so a body it writes
                        // right after goes out with the headers in one write
                        // instead of two (`wasmtime serve`'s threads race to it).
                        tokio::task::yield_now().await;
                        response
                    }
                    Ok(Err(e)) => return Err(self.0.sandbox.classify(e, false)),
                    Err(_) => return Err(InvokeError::Timeout(timeout)),
                }
            }
        };
        Ok(response)
    }

    async fn handle_p2(
        &self,
        pre: ProxyPre<InstanceState>,
        request: http::Request<WasiBody>,
        permit: OwnedSemaphorePermit,
    ) -> Result<http::Response<WasiBody>, InvokeError> {
        let sandbox = self.0.sandbox.clone();
        let timeout = sandbox.timeout();
        let deadline = Instant::now() + timeout;
        let mut store = sandbox.store(pre.engine());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let setup = |store: &mut Store<InstanceState>| {
            let request = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
            let out = store.data_mut().http().new_response_outparam(tx)?;
            wasmtime::error::Ok((request, out))
        };
        let (request, out) = setup(&mut store).map_err(|e| InvokeError::Instantiate(format!("{e:#}")))?;
        let task_sandbox = sandbox.clone();
        // The guest keeps running after it sets the response (it streams the
        // body), so it runs in its own task that owns the store and the permit
        // (and the call's span, which ends with it).
        let span = tracing::Span::current();
        let task = tokio::spawn(
            async move {
                let run = async {
                    let proxy = pre.instantiate_async(&mut store).await?;
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, request, out)
                        .await
                };
                let result = match tokio::time::timeout_at(deadline.into(), run).await {
                    Ok(result) => result,
                    Err(_) => Err(Trap::Interrupt.into()),
                };
                let (fuel, peak) = task_sandbox.record(&store);
                let span = tracing::Span::current();
                span.record("fuel", crate::sandbox::span_int(fuel));
                span.record("memory.peak_bytes", crate::sandbox::span_int(peak));
                let refused = store.data().limiter.refused;
                drop(permit);
                (result, refused)
            }
            .instrument(span),
        );
        match tokio::time::timeout_at(deadline.into(), rx).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(code))) => Err(InvokeError::Trap(format!("the function returned error code {code:?}"))),
            Ok(Err(_)) => match task.await {
                Ok((Err(e), refused)) => Err(sandbox.classify(e, refused)),
                Ok((Ok(()), _)) => Err(InvokeError::Trap(
                    "the function returned without setting a response".into(),
                )),
                Err(e) => Err(InvokeError::Trap(format!("the function's task failed: {e}"))),
            },
            Err(_) => {
                // The epoch deadline stops a busy guest within a tick of this
                // one, and the task's own deadline a waiting one: wait for it so
                // its instance and permit are released before answering.
                let _ = task.await;
                Err(InvokeError::Timeout(timeout))
            }
        }
    }
}

/// Serves `wasi:http` 0.3 requests through wasmtime's handler, which reuses
/// instances across requests.
struct P3Handler {
    pre: ServicePre<InstanceState>,
    sandbox: Arc<Sandbox>,
}

/// Requests one 0.3 instance may serve at once, and over its lifetime.
const P3_CONCURRENT_PER_INSTANCE: usize = 16;
const P3_REQUESTS_PER_INSTANCE: usize = 128;
/// How long an idle 0.3 instance is kept for reuse.
const P3_IDLE: Duration = Duration::from_secs(10);

impl HandlerState for P3Handler {
    type StoreData = InstanceState;
    type WorkerExpiration = Expiry;
    type WorkerState = P3Worker;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<wasmtime_wasi_http::handler::Instance<InstanceState, Expiry, P3Worker>> {
        let mut store = self.sandbox.store(self.pre.engine());
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(wasmtime_wasi_http::handler::Instance {
            store,
            proxy: Proxy::P3(proxy),
            view: <InstanceState as WasiHttpView>::http,
            expiration: Expiry {
                timeout: self.sandbox.timeout(),
                sleep: Box::pin(tokio::time::sleep(P3_IDLE)),
            },
            state: P3Worker {
                sandbox: self.sandbox.clone(),
            },
        })
    }
}

struct P3Worker {
    sandbox: Arc<Sandbox>,
}

impl WorkerState for P3Worker {
    type StoreData = InstanceState;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= P3_REQUESTS_PER_INSTANCE {
            ShouldAccept::Never
        } else if concurrent >= P3_CONCURRENT_PER_INSTANCE {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, InstanceState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        self.sandbox.arm(&mut store);
        Box::pin(tokio::time::sleep(self.sandbox.timeout()))
    }

    fn drop(&self, store: Store<InstanceState>, _result: wasmtime::Result<()>) {
        // The instance served many requests: its fuel is counted in the
        // totals, not on any one call's span.
        self.sandbox.record(&store);
    }
}

/// Ends a 0.3 worker that stays idle too long or whose newest request is past
/// its timeout (the second line of defence the handler asks for).
struct Expiry {
    timeout: Duration,
    /// One timer, moved to each new deadline.
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiry {
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>, status: WorkerStatus, start: Instant) -> Poll<()> {
        let this = self.get_mut();
        let deadline = tokio::time::Instant::from_std(
            start
                + match status {
                    WorkerStatus::Idle => P3_IDLE,
                    WorkerStatus::Requests | WorkerStatus::PostReturn => this.timeout + EPOCH_TICK * 4,
                },
        );
        if this.sleep.deadline() != deadline {
            this.sleep.as_mut().reset(deadline);
        }
        this.sleep.as_mut().poll(cx)
    }
}
