//! Workflows on the platform: the engine's step runner calls the tenant's
//! enabled workflow-step components and MCP tool servers, within their
//! sandboxes, limits and metering; and a saved definition is checked against
//! what the tenant has enabled.

use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use pa_runtime::{AskError, InvokeError, Plugin, StepContext, ToolPeer, tool_types};
use pa_store::StepLogLine;
use pa_workflow::{Action, Needs, StepCall, StepError, StepRunner};
use serde_json::Value;

use crate::error::ApiError;
use crate::metrics;
use crate::platform::{Inner, Platform};

/// Runs workflow actions on the platform's plugins.
pub struct PlatformRunner {
    /// The platform (weak: the platform owns the engine that owns this).
    pub platform: Weak<Inner>,
}

fn failure(code: &str, message: impl Into<String>, retryable: bool) -> StepError {
    StepError {
        code: code.into(),
        message: message.into(),
        retryable,
    }
}

/// A platform failure of an attempt: busy and timed-out calls may succeed later.
fn invoke_failure(e: InvokeError) -> StepError {
    let retryable = matches!(e, InvokeError::Busy { .. } | InvokeError::Timeout(_));
    let code = match e {
        InvokeError::Busy { .. } => "busy",
        InvokeError::Timeout(_) => "timeout",
        InvokeError::MemoryLimit(_) => "memory_limit",
        _ => "trap",
    };
    failure(code, e.to_string(), retryable)
}

impl StepRunner for PlatformRunner {
    async fn run(&self, call: StepCall) -> Result<Value, StepError> {
        let Some(inner) = self.platform.upgrade() else {
            return Err(failure("shutting_down", "the platform is shutting down", true));
        };
        let platform = Platform::from_inner(inner);
        let tenant = call.tenant.clone();
        let plugin = match &call.action {
            Action::Component { plugin, .. } | Action::Tool { plugin, .. } => plugin.clone(),
        };
        let started = Instant::now();
        let result = run_step(&platform, call).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) if e.retryable => "retryable",
            Err(_) => "failed",
        };
        let (tenant, plugin) = if platform.deployments.get(&tenant, &plugin).is_some() {
            (tenant.as_str(), plugin.as_str())
        } else {
            (metrics::UNKNOWN, metrics::UNKNOWN)
        };
        platform.metrics.step(tenant, plugin, outcome, started.elapsed());
        result
    }
}

/// Runs one step attempt on the platform's plugin.
async fn run_step(platform: &Platform, call: StepCall) -> Result<Value, StepError> {
    let (plugin, kind) = match &call.action {
        Action::Component { plugin, .. } => (plugin, "workflow-step component"),
        Action::Tool { plugin, .. } => (plugin, "tool server"),
    };
    let Some(live) = platform.deployments.get_or_load(platform, &call.tenant, plugin).await else {
        return Err(failure(
            "not_enabled",
            format!("plugin `{plugin}` is not enabled in tenant `{}`", call.tenant),
            false,
        ));
    };
    if let Err(e) = platform.metering.admit(&call.tenant).await {
        return Err(failure(e.code, e.message, false));
    }
    let log = Arc::new(StepLog {
        run: call.run_id.clone(),
        step: call.step_id.clone(),
        attempt: call.attempt,
        lines: Mutex::default(),
    });
    let result = match (&call.action, &live.plugin) {
        (Action::Component { input, .. }, Plugin::Step(step)) => {
            let context = StepContext {
                run_id: call.run_id.clone(),
                step_id: call.step_id.clone(),
                attempt: u32::try_from(call.attempt).unwrap_or(u32::MAX),
                idempotency_key: call.idempotency_key.clone(),
            };
            match step
                .run(context, &input.to_string(), log.clone())
                .await
                .map_err(invoke_failure)?
            {
                Ok(output) => serde_json::from_str(&output)
                    .map_err(|e| failure("bad_output", format!("the step's output is not JSON: {e}"), false)),
                Err(e) => Err(failure(&e.code, e.message, e.retryable)),
            }
        }
        (Action::Tool { name, arguments, .. }, Plugin::Tools(server)) => {
            let result = server
                .call_tool(name, &arguments.to_string(), log.clone())
                .await
                .map_err(invoke_failure)?
                .map_err(|e| match e {
                    tool_types::ServerError::NotFound(m) => failure("not_found", m, false),
                    tool_types::ServerError::InvalidParams(m) => failure("invalid_params", m, false),
                    tool_types::ServerError::Internal(m) => failure("internal", m, false),
                })?;
            tool_output(result)
        }
        _ => Err(failure(
            "wrong_world",
            format!("plugin `{plugin}` is not a {kind}"),
            false,
        )),
    };
    let lines = std::mem::take(&mut *log.lines.lock().expect("log lines"));
    if let Err(e) = platform.store.append_step_logs(&call.run_id, &lines).await {
        metrics::store_error("step_logs");
        tracing::warn!(run = %call.run_id, step = %call.step_id, error = %e, "keeping a step's logs");
    }
    result
}

/// A tool result as a step output: its structured content, else its text.
fn tool_output(result: tool_types::CallResult) -> Result<Value, StepError> {
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|block| match block {
            tool_types::ContentBlock::Text(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    if result.is_error {
        return Err(failure("tool_error", text.join("\n"), false));
    }
    match result.structured_content {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            failure(
                "bad_output",
                format!("the tool's structured content is not JSON: {e}"),
                false,
            )
        }),
        None => Ok(serde_json::json!({ "text": text.join("\n") })),
    }
}

/// The MCP name of a log level.
fn level_name(level: tool_types::LogLevel) -> &'static str {
    use tool_types::LogLevel::*;
    match level {
        Debug => "debug",
        Info => "info",
        Notice => "notice",
        Warning => "warning",
        Error => "error",
        Critical => "critical",
        Alert => "alert",
        Emergency => "emergency",
    }
}

/// Lines kept per attempt (later ones only reach the platform's log).
const MAX_LOG_LINES: usize = 1000;
/// Longest line kept, in bytes.
const MAX_LOG_LINE: usize = 4096;

/// Where a step's logs go: the platform's log, and the lines kept with the
/// run (written once the attempt ends).
struct StepLog {
    run: String,
    step: String,
    attempt: i64,
    lines: Mutex<Vec<StepLogLine>>,
}

#[async_trait::async_trait]
impl ToolPeer for StepLog {
    fn log(&self, level: tool_types::LogLevel, logger: Option<String>, data: String) {
        tracing::info!(run = %self.run, step = %self.step, ?level, logger = logger.as_deref().unwrap_or(""), "{data}");
        let mut lines = self.lines.lock().expect("log lines");
        if lines.len() >= MAX_LOG_LINES {
            return;
        }
        let mut message = match logger {
            Some(logger) => format!("{logger}: {data}"),
            None => data,
        };
        if message.len() > MAX_LOG_LINE {
            let end = (0..=MAX_LOG_LINE)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(end);
            message.push('…');
        }
        lines.push(StepLogLine {
            step_id: self.step.clone(),
            attempt: self.attempt,
            level: level_name(level).into(),
            message,
            at: pa_store::now(),
        });
    }

    fn progress(&self, _progress: f64, _total: Option<f64>, _message: Option<String>) {}

    async fn ask(&self, _requests: Vec<tool_types::InputRequest>) -> Result<Vec<(String, String)>, AskError> {
        Err(AskError::Refused(
            "a workflow step has no MCP client to ask; use an approval step".into(),
        ))
    }

    fn client_capabilities(&self) -> String {
        "{}".into()
    }
}

/// Refuses a definition whose `needs` call what `tenant` does not have enabled: a
/// component that is not a workflow step, a tool its server does not offer,
/// a workflow that does not exist (or the workflow itself).
pub async fn check_against_tenant(
    platform: &Platform,
    tenant: &str,
    name: &str,
    needs: &Needs,
) -> Result<(), ApiError> {
    for plugin in &needs.components {
        let live = platform.deployments.get_or_load(platform, tenant, plugin).await;
        match live.map(|live| live.plugin.clone()) {
            Some(Plugin::Step(_)) => {}
            Some(_) => {
                return Err(invalid(format!(
                    "component `{plugin}` is not a workflow step (it does not export powerautomation:plugin/step)"
                )));
            }
            None => {
                return Err(invalid(format!(
                    "component `{plugin}` is not an enabled plugin of tenant `{tenant}`"
                )));
            }
        }
    }
    for (plugin, tool) in &needs.tools {
        let live = platform.deployments.get_or_load(platform, tenant, plugin).await;
        let catalog = live.and_then(|live| live.catalog.clone());
        match catalog {
            Some(catalog) if catalog.has_tool(tool) => {}
            Some(_) => return Err(invalid(format!("tool server `{plugin}` has no tool `{tool}`"))),
            None => {
                return Err(invalid(format!(
                    "tool server `{plugin}` is not an enabled tool server of tenant `{tenant}`"
                )));
            }
        }
    }
    for workflow in &needs.workflows {
        if workflow == name {
            return Err(invalid(format!("workflow `{name}` cannot run itself as a step")));
        }
        if platform.store.workflow(tenant, workflow, None).await?.is_none() {
            return Err(invalid(format!(
                "workflow `{workflow}` does not exist in tenant `{tenant}`"
            )));
        }
    }
    Ok(())
}

/// `400 invalid_workflow` with `message`.
pub fn invalid(message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "invalid_workflow",
        message.to_string(),
    )
}
