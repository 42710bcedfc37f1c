//! The MCP methods both protocol wires share: tools, resources, prompts,
//! completion and logging, routed to the tenant's tool servers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use pa_runtime::tool_types::{CompletionRef, ServerError};
use pa_runtime::{InvokeError, TaskSupport};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::AbortHandle;

use super::catalog::{TenantCatalog, ToolRoute};
use super::convert;
use super::jsonrpc::{INTERNAL_ERROR, RpcError};
use super::peer::ClientPeer;
use super::session::Session;
use super::tasks::{self, TaskOffer};

/// Items per page of a list result.
const PAGE: usize = 100;
/// Most completion values returned.
const MAX_COMPLETIONS: usize = 100;
/// A tool server at its concurrency limit (JSON-RPC server-error range).
const SERVER_BUSY: i64 = -32000;
/// The tenant's plan allows no more invocations this month.
const QUOTA_EXCEEDED: i64 = -32029;

/// One request's view of the tenant and the client.
#[derive(Clone)]
pub struct Call {
    pub tenant: String,
    /// Who called (`key:<id>`, `user:<name>`); `None` on a public endpoint.
    pub caller: Option<String>,
    pub catalog: TenantCatalog,
    pub peer: Arc<ClientPeer>,
    /// The tenant's budget of concurrent calls.
    pub tenant_permits: Arc<Semaphore>,
    pub platform: crate::platform::Platform,
}

fn invoke_error(e: InvokeError) -> RpcError {
    match e {
        InvokeError::Busy { .. } => RpcError::new(SERVER_BUSY, e.to_string()).with_data(json!({ "retryAfter": 1 })),
        other => RpcError::new(INTERNAL_ERROR, other.to_string()),
    }
}

fn unknown_tool(name: &str) -> RpcError {
    RpcError::invalid_params(format!("Unknown tool: {name}"))
}

fn string_param<'a>(params: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    match params.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(RpcError::invalid_params(format!(
            "`{name}` must be a string, got {other}"
        ))),
        None => Err(RpcError::invalid_params(format!("missing `{name}`"))),
    }
}

/// A page of `items` under `key`, from the request's `cursor`.
fn page(key: &str, items: Vec<Value>, params: &Value) -> Result<Value, RpcError> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| RpcError::invalid_params(format!("invalid cursor `{cursor}`")))?,
        Some(_) => return Err(RpcError::invalid_params("`cursor` must be a string")),
    };
    let end = (start + PAGE).min(items.len());
    let mut result = json!({ key: items[start..end] });
    if end < items.len() {
        result["nextCursor"] = end.to_string().into();
    }
    Ok(result)
}

/// The marker of a call suspended for the client's answers; the stateless
/// endpoint adds the questions and the state.
pub fn input_required() -> Value {
    json!({ "resultType": "input_required" })
}

impl Call {
    /// Admits one invocation against the tenant's quota.
    async fn admit(&self) -> Result<(), RpcError> {
        self.platform.metering.admit(&self.tenant).await.map_err(|e| {
            let code = if e.code == "quota_exceeded" {
                QUOTA_EXCEEDED
            } else {
                INTERNAL_ERROR
            };
            RpcError::new(code, e.message).with_data(json!({ "retryAfter": e.retry_after }))
        })
    }

    /// Answers `method`; `None` when the method is not one of these.
    pub async fn dispatch(&self, method: &str, params: &Value) -> Option<Result<Value, RpcError>> {
        Some(match method {
            "tools/list" => page("tools", self.catalog.tools(), params),
            "tools/call" => self.call_tool_or_task(params).await,
            "prompts/list" => page("prompts", self.catalog.prompts(), params),
            "prompts/get" => self.get_prompt(params).await,
            "resources/list" => page("resources", self.catalog.resources(), params),
            "resources/templates/list" => page("resourceTemplates", self.catalog.templates(), params),
            "resources/read" => self.read_resource(params).await,
            "completion/complete" => self.complete(params).await,
            _ => {
                return tasks::dispatch(self, method, params).await;
            }
        })
    }

    /// Answers the methods only sessions have; `None` for others.
    pub fn dispatch_session(&self, session: &Session, method: &str, params: &Value) -> Option<Result<Value, RpcError>> {
        Some(match method {
            "ping" => Ok(json!({})),
            "logging/setLevel" => string_param(params, "level").and_then(|level| {
                let rank = convert::level_rank(level)
                    .ok_or_else(|| RpcError::invalid_params(format!("unknown log level `{level}`")))?;
                session.log_level.store(rank, Ordering::Relaxed);
                Ok(json!({}))
            }),
            "resources/subscribe" => string_param(params, "uri").map(|uri| {
                session.subscriptions.lock().unwrap().insert(uri.to_string());
                json!({})
            }),
            "resources/unsubscribe" => string_param(params, "uri").map(|uri| {
                session.subscriptions.lock().unwrap().remove(uri);
                json!({})
            }),
            _ => return None,
        })
    }

    /// Calls a tool; one that supports tasks, called by a client that does,
    /// runs where it can outlive the request, which is answered with the task
    /// when the tool begins one.
    async fn call_tool_or_task(&self, params: &Value) -> Result<Value, RpcError> {
        let name = string_param(params, "name")?;
        let route = self.catalog.tool(name).ok_or_else(|| unknown_tool(name))?;
        let client_tasks = tasks::negotiated(&self.peer.capabilities);
        match route.entry.task_support {
            Some(TaskSupport::Required) if !client_tasks => return Err(tasks::required_error(name)),
            Some(TaskSupport::Optional | TaskSupport::Required) if client_tasks => {}
            _ => return self.call_tool(name, &route, params).await,
        }
        let (created, task) = oneshot::channel();
        *self.peer.task_offer.lock().unwrap() = Some(TaskOffer {
            platform: self.platform.clone(),
            tenant: self.tenant.clone(),
            owner: self.caller.clone(),
            tool: name.to_string(),
            created,
        });
        let (call, params, name) = (self.clone(), params.clone(), name.to_string());
        let mut running = tokio::spawn(async move {
            let outcome = match call.catalog.tool(&name) {
                Some(route) => call.call_tool(&name, &route, &params).await,
                None => Err(unknown_tool(&name)),
            };
            if let Some(run) = call.peer.task.get() {
                run.finish(&outcome).await;
            }
            outcome
        });
        let abandoned = AbortOnDrop(Some(running.abort_handle()));
        tokio::select! {
            biased;
            Ok(run) = task => {
                run.attach(abandoned.disarm());
                Ok(tasks::create_result(&run.record))
            }
            outcome = &mut running => outcome
                .unwrap_or_else(|e| Err(RpcError::new(INTERNAL_ERROR, format!("the tool call failed: {e}")))),
        }
    }

    async fn call_tool(&self, name: &str, route: &ToolRoute<'_>, params: &Value) -> Result<Value, RpcError> {
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(args @ Value::Object(_)) => args.to_string(),
            Some(_) => return Err(RpcError::invalid_params("`arguments` must be an object")),
        };
        let (plugin, live, local) = (route.plugin, route.live, route.entry.local.as_str());
        let canary = live.canary.as_ref().filter(|c| {
            c.catalog.as_ref().is_some_and(|cat| cat.has_tool(local)) && rand::random_range(0..100u8) < c.policy.weight
        });
        let server = match canary {
            Some(canary) => &canary.catalog.as_ref().expect("filtered above").server,
            None => {
                if let Err(wait) = live.breaker.admit() {
                    return Ok(convert::tool_error(&format!(
                        "plugin `{plugin}` is unavailable after repeated failures (circuit open); \
                         retry in {} ms",
                        wait.as_millis()
                    )));
                }
                &live.catalog.as_ref().expect("tool servers have a catalog").server
            }
        };
        self.admit().await?;
        let _permit = self.tenant_permits.clone().try_acquire_owned().map_err(|_| {
            RpcError::new(
                SERVER_BUSY,
                format!("tenant `{}` is at its limit of concurrent requests", self.tenant),
            )
            .with_data(json!({ "retryAfter": 1 }))
        })?;
        let peer: Arc<dyn pa_runtime::ToolPeer> = self.peer.clone();
        let outcome = server.call_tool(local, &arguments, peer).await;
        let failed = matches!(&outcome, Err(e) if !matches!(e, InvokeError::Busy { .. } | InvokeError::Suspended));
        match canary {
            Some(canary) => {
                if canary.stats.record(!failed, &canary.policy) {
                    let (platform, tenant, plugin) = (self.platform.clone(), self.tenant.clone(), plugin.to_string());
                    let stats = canary.stats.snapshot();
                    let reason = format!(
                        "error rate past {} ({} failed of {} calls)",
                        canary.policy.max_error_rate, stats["errors"], stats["calls"]
                    );
                    tokio::spawn(async move {
                        platform
                            .deployments
                            .roll_back(&platform, &tenant, &plugin, reason)
                            .await;
                    });
                }
            }
            None => live.breaker.record(!failed),
        }
        match outcome {
            Ok(Ok(result)) => Ok(convert::call_result(&result)),
            // Bad arguments are a tool error the model can correct (2025-11-25).
            Ok(Err(ServerError::InvalidParams(message))) => Ok(convert::tool_error(&format!(
                "invalid arguments for `{name}`: {message}"
            ))),
            Ok(Err(error)) => Err(convert::server_error(error)),
            Err(e @ InvokeError::Busy { .. }) => Err(invoke_error(e)),
            Err(InvokeError::Suspended) => Ok(input_required()),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant, plugin, tool = name, error = %e, "tool call failed");
                Ok(convert::tool_error(&format!("tool `{name}` failed: {e}")))
            }
        }
    }

    async fn get_prompt(&self, params: &Value) -> Result<Value, RpcError> {
        let name = string_param(params, "name")?;
        let mut arguments = Vec::new();
        match params.get("arguments") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let Value::String(value) = value else {
                        return Err(RpcError::invalid_params(format!(
                            "prompt argument `{key}` must be a string"
                        )));
                    };
                    arguments.push((key.clone(), value.clone()));
                }
            }
            Some(_) => return Err(RpcError::invalid_params("`arguments` must be an object")),
        }
        let (server, local) = self
            .catalog
            .prompt(name)
            .ok_or_else(|| RpcError::invalid_params(format!("Unknown prompt: {name}")))?;
        self.admit().await?;
        let peer: Arc<dyn pa_runtime::ToolPeer> = self.peer.clone();
        let outcome = match server.get_prompt(local, &arguments, peer).await {
            Err(InvokeError::Suspended) => return Ok(input_required()),
            Err(e) => return Err(invoke_error(e)),
            Ok(outcome) => outcome,
        };
        match outcome {
            Ok(result) => Ok(convert::prompt_result(&result)),
            Err(error) => Err(convert::server_error(error)),
        }
    }

    async fn read_resource(&self, params: &Value) -> Result<Value, RpcError> {
        let uri = string_param(params, "uri")?;
        let not_found = || RpcError::invalid_params("Resource not found").with_data(json!({ "uri": uri }));
        let server = self.catalog.resource(uri).ok_or_else(not_found)?;
        self.admit().await?;
        match server.read_resource(uri).await.map_err(invoke_error)? {
            Ok(contents) if !contents.is_empty() => {
                let contents: Vec<Value> = contents.iter().map(convert::resource_contents).collect();
                Ok(json!({ "contents": contents }))
            }
            Ok(_) | Err(ServerError::NotFound(_)) => Err(not_found()),
            Err(error) => Err(convert::server_error(error)),
        }
    }

    async fn complete(&self, params: &Value) -> Result<Value, RpcError> {
        let reference = params
            .get("ref")
            .ok_or_else(|| RpcError::invalid_params("missing `ref`"))?;
        let argument = params
            .get("argument")
            .ok_or_else(|| RpcError::invalid_params("missing `argument`"))?;
        let arg_name = string_param(argument, "name")?;
        let arg_value = string_param(argument, "value")?;
        let (server, target) = match string_param(reference, "type")? {
            "ref/prompt" => {
                let name = string_param(reference, "name")?;
                let (server, local) = self
                    .catalog
                    .prompt(name)
                    .ok_or_else(|| RpcError::invalid_params(format!("Unknown prompt: {name}")))?;
                (server, CompletionRef::Prompt(local.to_string()))
            }
            "ref/resource" => {
                let uri = string_param(reference, "uri")?;
                let server = self
                    .catalog
                    .template(uri)
                    .ok_or_else(|| RpcError::invalid_params(format!("Unknown resource template: {uri}")))?;
                (server, CompletionRef::ResourceTemplate(uri.to_string()))
            }
            other => return Err(RpcError::invalid_params(format!("unknown ref type `{other}`"))),
        };
        let values = match server
            .complete(&target, arg_name, arg_value)
            .await
            .map_err(invoke_error)?
        {
            Ok(values) => values,
            Err(error) => return Err(convert::server_error(error)),
        };
        let total = values.len();
        let values: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
        Ok(json!({ "completion": { "values": values, "total": total, "hasMore": total > MAX_COMPLETIONS } }))
    }
}

/// Stops a spawned call whose request went away before it became a task.
struct AbortOnDrop(Option<AbortHandle>);

impl AbortOnDrop {
    /// Keeps the call running; returns what stops it.
    fn disarm(mut self) -> AbortHandle {
        self.0.take().expect("armed until disarmed")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.abort();
        }
    }
}
