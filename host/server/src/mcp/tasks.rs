//! MCP tasks (the `io.modelcontextprotocol/tasks` extension): a tool call
//! that its tool turns into a task (`begin-task`) answers its request with a
//! `CreateTaskResult` and goes on in the background; the client polls it
//! (`tasks/get`), answers its questions (`tasks/update`) or stops it
//! (`tasks/cancel`). Every change is recorded in the store, so any node of a
//! cluster answers; answers and cancellations reach the node running the task
//! at once when they arrive there, else within [`WATCH`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pa_runtime::tool_types::InputRequest;
use pa_runtime::{AskError, TaskSupport};
use pa_store::{TaskRecord, TaskState};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;

use super::jsonrpc::{INTERNAL_ERROR, MISSING_CAPABILITY, RpcError};
use super::methods::Call;
use crate::platform::Platform;

/// The extension's identifier in capabilities.
pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// How long a task is kept after its creation.
const TTL_MS: i64 = 3_600_000;
/// How often clients are asked to poll.
const POLL_INTERVAL_MS: u64 = 500;
/// How often a running task looks in the store for what other nodes received.
const WATCH: Duration = Duration::from_secs(1);

/// Whether `capabilities` (the client's) declare the extension.
pub fn negotiated(capabilities: &Value) -> bool {
    capabilities
        .get("extensions")
        .and_then(|e| e.get(EXTENSION))
        .is_some_and(Value::is_object)
}

/// A request refused because the client did not declare the extension.
fn missing_extension(message: String) -> RpcError {
    RpcError::new(MISSING_CAPABILITY, message)
        .with_data(json!({ "requiredCapabilities": { "extensions": { EXTENSION: {} } } }))
}

/// The error for a call of a task-only tool by a client without tasks.
pub fn required_error(tool: &str) -> RpcError {
    missing_extension(format!(
        "tool `{tool}` runs only as a task: declare the `{EXTENSION}` extension in the client capabilities"
    ))
}

/// MCP's name of a task-support mode (`None` for tools without tasks).
pub fn support_name(support: TaskSupport) -> Option<&'static str> {
    match support {
        TaskSupport::Forbidden => None,
        TaskSupport::Optional => Some("optional"),
        TaskSupport::Required => Some("required"),
    }
}

/// The tasks this node runs, by id.
pub struct Running {
    tasks: Mutex<HashMap<String, Arc<TaskRun>>>,
    /// How long this node vouches for a running task at a time; a task not
    /// ended whose lease ran out is reported failed (its node stopped).
    lease: Duration,
}

impl Running {
    /// No tasks yet; each leased for `lease` at a time.
    pub fn new(lease: Duration) -> Running {
        Running {
            tasks: Mutex::default(),
            lease,
        }
    }

    fn get(&self, id: &str) -> Option<Arc<TaskRun>> {
        self.tasks.lock().unwrap().get(id).cloned()
    }
}

/// A task running on this node.
pub struct TaskRun {
    /// Its record when it was created.
    pub record: TaskRecord,
    platform: Platform,
    /// Rung when answers to its questions arrived at this node.
    wake: Notify,
    /// Stops the call.
    abort: OnceLock<AbortHandle>,
}

impl TaskRun {
    /// Forgets the task here (its record stays).
    fn ended(&self) {
        self.platform.mcp.tasks.tasks.lock().unwrap().remove(&self.record.id);
    }

    /// Takes what stops the call from the request handler, and watches the
    /// task while it runs.
    pub fn attach(self: &Arc<Self>, call: AbortHandle) {
        let _ = self.abort.set(call);
        tokio::spawn(watch(self.clone()));
    }

    fn stop(&self) {
        if let Some(call) = self.abort.get() {
            call.abort();
        }
        self.ended();
    }

    /// Records how the call ended: its result, or the error as `failed`.
    pub async fn finish(&self, outcome: &Result<Value, RpcError>) {
        let (result, error) = match outcome {
            Ok(result) => (Some(result.to_string()), None),
            Err(error) => (None, Some(error.to_json().to_string())),
        };
        let state = TaskState {
            status: if result.is_some() { "completed" } else { "failed" },
            result: result.as_deref(),
            error: error.as_deref(),
            ..TaskState::default()
        };
        if let Err(e) = self
            .platform
            .store
            .update_task(&self.record.tenant, &self.record.id, &state)
            .await
        {
            tracing::warn!(task = %self.record.id, error = %e, "recording the end of a task");
        }
        self.ended();
    }

    /// Parks the task in `input_required` with the open `questions` (by key)
    /// until the client has answered every one (`tasks/update`).
    pub async fn ask(&self, mut open: Map<String, Value>) -> Result<Vec<(String, String)>, AskError> {
        let store = &self.platform.store;
        let (tenant, id) = (&self.record.tenant, &self.record.id);
        let questions = Value::Object(open.clone()).to_string();
        let state = TaskState {
            status: "input_required",
            input_requests: Some(&questions),
            ..TaskState::default()
        };
        let refused = |e: pa_store::StoreError| AskError::Refused(format!("the task's questions were lost: {e}"));
        if !store.update_task(tenant, id, &state).await.map_err(refused)? {
            return Err(AskError::Refused("the task was cancelled".into()));
        }
        let mut answers = Vec::new();
        while !open.is_empty() {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(WATCH) => {}
            }
            for (key, answer) in store.take_task_answers(id).await.map_err(refused)? {
                if open.remove(&key).is_some() {
                    answers.push((key, answer));
                }
            }
        }
        Ok(answers)
    }
}

/// Renews the task's lease while it runs, and stops its call when another
/// node records its cancellation.
async fn watch(run: Arc<TaskRun>) {
    let store = &run.platform.store;
    let (tenant, id) = (&run.record.tenant, &run.record.id);
    let lease = run.platform.mcp.tasks.lease;
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(WATCH.min(lease / 3)).await;
        if run.platform.mcp.tasks.get(id).is_none() {
            return;
        }
        if renewed.elapsed() >= lease / 3 {
            renewed = tokio::time::Instant::now();
            if let Err(e) = store.renew_task(tenant, id, lease).await {
                tracing::warn!(task = %id, error = %e, "renewing a task's lease");
            }
        }
        match store.task(tenant, id).await {
            Ok(Some(record)) if record.status != "cancelled" => {}
            Ok(_) => return run.stop(),
            Err(e) => tracing::warn!(task = %id, error = %e, "watching a task"),
        }
    }
}

/// What a call may become: a task of `tool` of `tenant`, started by `owner`,
/// announced to the request handler through `created`.
pub struct TaskOffer {
    pub platform: Platform,
    pub tenant: String,
    pub owner: Option<String>,
    pub tool: String,
    pub created: oneshot::Sender<Arc<TaskRun>>,
}

impl TaskOffer {
    /// Records the task and hands it to the request handler.
    pub async fn accept(self) -> Option<Arc<TaskRun>> {
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        let id = hex::encode(secret);
        let record = match self
            .platform
            .store
            .create_task(
                &id,
                &self.tenant,
                self.owner.as_deref(),
                &self.tool,
                TTL_MS,
                self.platform.mcp.tasks.lease,
            )
            .await
        {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(tenant = %self.tenant, tool = %self.tool, error = %e, "creating a task");
                return None;
            }
        };
        let run = Arc::new(TaskRun {
            record,
            platform: self.platform.clone(),
            wake: Notify::new(),
            abort: OnceLock::new(),
        });
        self.platform.mcp.tasks.tasks.lock().unwrap().insert(id, run.clone());
        if self.created.send(run.clone()).is_err() {
            let gone = RpcError::new(INTERNAL_ERROR, "the request that started the task went away");
            run.finish(&Err(gone)).await;
            return None;
        }
        Some(run)
    }
}

/// The fields every task answer carries.
fn task_fields(record: &TaskRecord) -> Value {
    let mut task = json!({
        "taskId": record.id,
        "status": record.status,
        "createdAt": record.created_at,
        "lastUpdatedAt": record.updated_at,
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": POLL_INTERVAL_MS,
    });
    if let Some(message) = &record.status_message {
        task["statusMessage"] = message.clone().into();
    }
    task
}

/// The answer to the call that created a task.
pub fn create_result(record: &TaskRecord) -> Value {
    let mut result = task_fields(record);
    result["resultType"] = "task".into();
    result
}

fn task_id(params: &Value) -> Result<&str, RpcError> {
    match params.get("taskId") {
        Some(Value::String(id)) => Ok(id),
        Some(_) => Err(RpcError::invalid_params("`taskId` must be a string")),
        None => Err(RpcError::invalid_params("missing `taskId`")),
    }
}

fn json_field(text: &Option<String>) -> Option<Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// `tasks/get`, `tasks/update` and `tasks/cancel` of the tasks `call`'s
/// caller started; `None` for other methods.
pub async fn dispatch(call: &Call, method: &str, params: &Value) -> Option<Result<Value, RpcError>> {
    if !matches!(method, "tasks/get" | "tasks/update" | "tasks/cancel") {
        return None;
    }
    if !negotiated(&call.peer.capabilities) {
        return Some(Err(missing_extension(format!(
            "{method} needs the `{EXTENSION}` extension in the client capabilities"
        ))));
    }
    Some(serve(call, method, params).await)
}

async fn serve(call: &Call, method: &str, params: &Value) -> Result<Value, RpcError> {
    let platform = &call.platform;
    let id = task_id(params)?;
    let record = find(platform, &call.tenant, call.caller.as_deref(), id).await?;
    match method {
        "tasks/get" => Ok(detailed(&record)),
        "tasks/update" => update(platform, record, params).await,
        _ => cancel(platform, &record).await,
    }
}

fn internal(e: pa_store::StoreError) -> RpcError {
    RpcError::new(INTERNAL_ERROR, e.to_string())
}

/// Tenant `tenant`'s task `id` started by `caller`; one whose node stopped
/// before it ended is recorded failed first.
async fn find(platform: &Platform, tenant: &str, caller: Option<&str>, id: &str) -> Result<TaskRecord, RpcError> {
    let unknown = || RpcError::invalid_params(format!("Invalid task: no task `{id}`"));
    let record = platform
        .store
        .task(tenant, id)
        .await
        .map_err(internal)?
        // Another caller's task is as unknown as one that never existed.
        .filter(|record| record.owner.as_deref() == caller)
        .ok_or_else(unknown)?;
    let ended = matches!(record.status.as_str(), "completed" | "failed" | "cancelled");
    if ended || record.lease_until >= pa_store::now() {
        return Ok(record);
    }
    let lost = RpcError::new(INTERNAL_ERROR, "the node running the task stopped before it ended");
    let error = lost.to_json().to_string();
    let state = TaskState {
        status: "failed",
        error: Some(&error),
        ..TaskState::default()
    };
    platform.store.update_task(tenant, id, &state).await.map_err(internal)?;
    platform
        .store
        .task(tenant, id)
        .await
        .map_err(internal)?
        .ok_or_else(unknown)
}

/// A task as `tasks/get` shows it: the result or error inlined once ended,
/// the open questions while it waits for them.
fn detailed(record: &TaskRecord) -> Value {
    let mut task = task_fields(record);
    let inlined = match record.status.as_str() {
        "completed" => Some(("result", &record.result)),
        "failed" => Some(("error", &record.error)),
        "input_required" => Some(("inputRequests", &record.input_requests)),
        _ => None,
    };
    if let Some((key, text)) = inlined
        && let Some(value) = json_field(text)
    {
        task[key] = value;
    }
    task["resultType"] = "complete".into();
    task
}

fn ack() -> Value {
    json!({ "resultType": "complete" })
}

/// Records the answers to open questions (others are ignored) and wakes the
/// task if it runs here.
async fn update(platform: &Platform, mut record: TaskRecord, params: &Value) -> Result<Value, RpcError> {
    let responses = match params.get("inputResponses") {
        Some(Value::Object(responses)) => responses,
        Some(_) => return Err(RpcError::invalid_params("`inputResponses` must be an object")),
        None => return Err(RpcError::invalid_params("missing `inputResponses`")),
    };
    while record.status == "input_required" {
        let Some(Value::Object(mut open)) = json_field(&record.input_requests) else {
            break;
        };
        let mut answers = Vec::new();
        for (key, answer) in responses {
            let Some(question) = open.get(key) else { continue };
            let method = question["method"].as_str().unwrap_or("");
            if !super::peer::answers_method(method, answer) {
                return Err(RpcError::invalid_params(format!(
                    "inputResponses.{key} is not a result of {method}"
                )));
            }
            open.remove(key);
            answers.push((key.clone(), answer.to_string()));
        }
        if answers.is_empty() {
            break;
        }
        let still_open = (!open.is_empty()).then(|| Value::Object(open).to_string());
        let stored_open = record.input_requests.as_deref().unwrap_or("");
        let answered = platform
            .store
            .answer_task(&record.tenant, &record.id, stored_open, still_open.as_deref(), &answers)
            .await
            .map_err(internal)?;
        if answered {
            if let Some(run) = platform.mcp.tasks.get(&record.id) {
                run.wake.notify_one();
            }
            break;
        }
        record = find(platform, &record.tenant, record.owner.as_deref(), &record.id).await?;
    }
    Ok(ack())
}

/// Cancels a task that has not ended (an ended one is left as it is).
async fn cancel(platform: &Platform, record: &TaskRecord) -> Result<Value, RpcError> {
    let state = TaskState {
        status: "cancelled",
        status_message: Some("cancelled by the client"),
        ..TaskState::default()
    };
    let cancelled = platform
        .store
        .update_task(&record.tenant, &record.id, &state)
        .await
        .map_err(internal)?;
    if cancelled && let Some(run) = platform.mcp.tasks.get(&record.id) {
        run.stop();
    }
    Ok(ack())
}

/// The open questions of one round, as a task shows them.
pub fn open_questions(questions: &[(InputRequest, Value)]) -> Map<String, Value> {
    questions
        .iter()
        .map(|(q, params)| (q.key.clone(), json!({ "method": q.method, "params": params })))
        .collect()
}
