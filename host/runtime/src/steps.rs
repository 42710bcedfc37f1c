//! Workflow steps: components of the `powerautomation:plugin/workflow-step`
//! world, run on a fresh instance per attempt within the plugin's sandbox.
//! They import the same host services as tool servers (log, key-value,
//! config); their logs go to whoever runs them.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::InvokeError;
use crate::sandbox::Sandbox;
use crate::state::InstanceState;
use crate::tools::ToolPeer;

#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "powerautomation:plugin/workflow-step",
        exports: { default: async },
        with: {
            "powerautomation:plugin/types": crate::tools::interfaces::types,
            "powerautomation:plugin/host": crate::tools::interfaces::host,
            "powerautomation:plugin/key-value": crate::tools::interfaces::key_value,
            "powerautomation:plugin/config": crate::tools::interfaces::config,
            "powerautomation:plugin/model": crate::tools::interfaces::model,
            "powerautomation:plugin/ocr": crate::tools::interfaces::ocr,
            "powerautomation:plugin/sites": crate::tools::interfaces::sites,
        },
    });
}

pub(crate) use bindings::WorkflowStepPre;
pub use bindings::exports::powerautomation::plugin::step::{StepContext, StepError};

/// An enabled workflow-step plugin version. Cheap to clone.
#[derive(Clone)]
pub struct StepComponent(Arc<Inner>);

struct Inner {
    pre: WorkflowStepPre<InstanceState>,
    sandbox: Sandbox,
    permits: Semaphore,
}

impl StepComponent {
    /// Binds a workflow step to a plugin's sandbox.
    pub(crate) fn new(pre: WorkflowStepPre<InstanceState>, sandbox: Sandbox) -> StepComponent {
        let permits = Semaphore::new(sandbox.limits.max_concurrency as usize);
        StepComponent(Arc::new(Inner { pre, sandbox, permits }))
    }

    /// Fuel consumed by every finished attempt so far.
    pub fn fuel_consumed(&self) -> u64 {
        self.0.sandbox.fuel_consumed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The largest linear memory any instance reached, in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.0.sandbox.peak_memory.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs one attempt with `input` (JSON text) on a fresh instance, within
    /// the plugin's limits; `peer` receives its logs. The outer error is the
    /// platform's (busy, timeout, trap), the inner one the step's own.
    pub async fn run(
        &self,
        context: StepContext,
        input: &str,
        peer: Arc<dyn ToolPeer>,
    ) -> Result<Result<String, StepError>, InvokeError> {
        let span = self.0.sandbox.call_span("workflow-step/run");
        let result = self.run_in(context, input, peer).instrument(span.clone()).await;
        span.in_scope(|| self.0.sandbox.log_failure(&result));
        result
    }

    async fn run_in(
        &self,
        context: StepContext,
        input: &str,
        peer: Arc<dyn ToolPeer>,
    ) -> Result<Result<String, StepError>, InvokeError> {
        let sandbox = &self.0.sandbox;
        let _permit = self.0.permits.try_acquire().map_err(|_| InvokeError::Busy {
            limit: sandbox.limits.max_concurrency,
        })?;
        let _call = sandbox.usage.call();
        let timeout = sandbox.timeout();
        let mut store = sandbox.store(self.0.pre.engine());
        store.data_mut().peer = Some(peer);
        let run = async {
            let step = self.0.pre.instantiate_async(&mut store).await?;
            step.powerautomation_plugin_step()
                .call_run(&mut store, &context, input)
                .await
        };
        let result = tokio::time::timeout(timeout, run).await;
        let (fuel, peak) = sandbox.record(&store);
        let span = tracing::Span::current();
        span.record("fuel", crate::sandbox::span_int(fuel));
        span.record("memory.peak_bytes", crate::sandbox::span_int(peak));
        match result {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(sandbox.classify(e, store.data().limiter.refused)),
            Err(_) => Err(InvokeError::Timeout(timeout)),
        }
    }
}
