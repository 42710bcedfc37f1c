//! What every instance of one plugin gets (its grants and limits), how a
//! store is set up for it, and its running totals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{AsContextMut, Store, StoreContextMut, Trap, UpdateDeadline};
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError};

use crate::egress::AllowList;
use crate::http::FunctionConfig;
use crate::logs::{LogStream, LogTarget};
use crate::output::Capture;
use crate::spin::SpinCtx;
use crate::state::InstanceState;
use crate::{InvokeError, Limits, Runtime, Usage};

/// What every instance of the function gets, and its running totals.
pub(crate) struct Sandbox {
    pub(crate) limits: Limits,
    allow: Arc<AllowList>,
    spin: Arc<SpinCtx>,
    pub(crate) fuel_consumed: AtomicU64,
    pub(crate) peak_memory: AtomicU64,
    pub(crate) usage: Arc<Usage>,
    log: Arc<LogTarget>,
}

impl Sandbox {
    /// The sandbox of `config`'s plugin on `runtime`.
    pub(crate) fn new(runtime: &Runtime, config: FunctionConfig) -> Sandbox {
        let log = Arc::new(LogTarget {
            tenant: config.tenant.clone(),
            plugin: config.plugin.clone(),
            version: config.version,
            buffer: config.logs,
        });
        Sandbox {
            log,
            allow: Arc::new(config.allowed_outbound_hosts),
            spin: Arc::new(SpinCtx {
                kv: runtime.kv.clone(),
                capabilities: runtime.capabilities.clone(),
                grants: config.grants,
                tenant: config.tenant,
                plugin: config.plugin,
                stores: config.key_value_stores,
                variables: config.variables,
            }),
            limits: config.limits,
            usage: config.usage,
            fuel_consumed: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
        }
    }

    pub(crate) fn store(&self, engine: &wasmtime::Engine) -> Store<InstanceState> {
        let state = InstanceState::new(
            self.allow.clone(),
            self.usage.clone(),
            self.limits.memory_mib,
            self.spin.clone(),
            Capture::new(self.log.clone()),
        );
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        // At every epoch tick a running guest yields to the executor and stops
        // at its deadline. Tokio's yield lets the thread poll for I/O first,
        // so the other connections a busy guest's thread serves move on.
        store.epoch_deadline_callback(|store| {
            if Instant::now() >= store.data().deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
            }
        });
        self.rearm(&mut store);
        store
    }

    /// Readies a store for a request: a full fuel tank (so the
    /// call's consumption can be read) and a new deadline.
    pub(crate) fn rearm(&self, store: &mut Store<InstanceState>) {
        store.set_fuel(u64::MAX).expect("fuel is enabled on every engine");
        self.arm(&mut store.as_context_mut());
    }

    /// Starts the clock and the output budget of a new request on `store`.
    pub(crate) fn arm(&self, store: &mut StoreContextMut<'_, InstanceState>) {
        store.data().output.new_call();
        store.data_mut().deadline = Instant::now() + self.timeout();
        store.set_epoch_deadline(1);
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.limits.timeout_ms)
    }

    /// Records the store's unended output lines, adds what it consumed to
    /// the totals, and returns its fuel and peak linear memory in bytes.
    pub(crate) fn record(&self, store: &Store<InstanceState>) -> (u64, u64) {
        store.data().output.finish();
        let fuel = u64::MAX - store.get_fuel().unwrap_or(u64::MAX);
        let peak = store.data().limiter.peak_bytes as u64;
        self.fuel_consumed.fetch_add(fuel, Ordering::Relaxed);
        self.peak_memory.fetch_max(peak, Ordering::Relaxed);
        self.usage.add_instance(fuel, peak);
        (fuel, peak)
    }

    /// The span of one call of this plugin's component: `component.call`
    /// with its tenant and plugin, and (where an instance serves only this
    /// call) the fuel and peak memory it used.
    pub(crate) fn call_span(&self, export: &'static str) -> tracing::Span {
        tracing::info_span!(
            "component.call",
            otel.name = %format_args!("component.call {export}"),
            tenant = %self.spin.tenant,
            plugin = %self.spin.plugin,
            export,
            fuel = tracing::field::Empty,
            memory.peak_bytes = tracing::field::Empty,
        )
    }

    /// Puts a call's failure in the plugin's log; refusals (the concurrency
    /// limit) and suspended calls are not failures.
    pub(crate) fn log_failure<T>(&self, result: &Result<T, InvokeError>) {
        if let Err(e) = result
            && !matches!(e, InvokeError::Busy { .. } | InvokeError::Suspended)
        {
            self.log.record(LogStream::Host, e.to_string());
        }
    }

    /// Turns a guest failure into the error the caller sees.
    pub(crate) fn classify(&self, error: wasmtime::Error, memory_refused: bool) -> InvokeError {
        if error.downcast_ref::<crate::tools::Suspended>().is_some() {
            return InvokeError::Suspended;
        }
        if memory_refused {
            return InvokeError::MemoryLimit(self.limits.memory_mib);
        }
        if error.downcast_ref::<ExpirationError>().is_some() || error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return InvokeError::Timeout(self.timeout());
        }
        if let Some(e) = error.downcast_ref::<InstantiationError<()>>() {
            return InvokeError::Instantiate(e.to_string());
        }
        InvokeError::Trap(format!("{error:#}"))
    }
}

/// A count as a span attribute: tracing-opentelemetry exports `u64` values
/// as text, `i64` as OTLP integers.
pub(crate) fn span_int(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
