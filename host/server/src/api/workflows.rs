//! Workflows of a tenant: definitions (JSON or YAML, a new version per save,
//! checked whole against what the tenant has enabled) and runs (start,
//! inspect, cancel, approve or reject).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use pa_store::{Run, RunSnapshot, StepLogLine, StepRow};
use pa_workflow::{Definition, EngineError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{check_name, parse_json_or_default};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::platform::Platform;
use crate::workflows;

/// Longest definition accepted, in bytes.
const MAX_DEFINITION_BYTES: usize = 1 << 20;

pub(super) fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::NotFound(message) => ApiError::not_found(message),
        EngineError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
        EngineError::Invalid(message) => ApiError::bad_request(message),
        EngineError::Store(e) => e.into(),
    }
}

/// JSON text stored by the engine, as a value.
fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
}

pub(super) fn run_json(run: &Run) -> Value {
    json!({
        "id": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "state": run.state,
        "input": parsed(Some(&run.input)),
        "output": parsed(run.output.as_deref()),
        "error": run.error,
        "parent_run": run.parent_run,
        "parent_step": run.parent_step,
        "started_by": run.started_by,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "finished_at": run.finished_at,
    })
}

fn step_json(step: &StepRow) -> Value {
    json!({
        "id": step.step_id,
        "state": step.state,
        "attempt": step.attempt,
        "input": parsed(step.input.as_deref()),
        "output": parsed(step.output.as_deref()),
        "error": step.error,
        "decided_by": step.decided_by,
        "ready_at": step.ready_at,
        "started_at": step.started_at,
        "finished_at": step.finished_at,
    })
}

fn snapshot_json(snapshot: &RunSnapshot, logs: &[StepLogLine]) -> Value {
    let mut run = run_json(&snapshot.run);
    run["steps"] = snapshot
        .steps
        .iter()
        .map(|step| {
            let mut json = step_json(step);
            json["logs"] = logs
                .iter()
                .filter(|l| l.step_id == step.step_id)
                .map(|l| json!({"attempt": l.attempt, "level": l.level, "message": l.message, "at": l.at}))
                .collect();
            json
        })
        .collect();
    run
}

/// `GET /api/v1/tenants/{tenant}/workflows`: the newest version of each.
pub async fn list(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let workflows: Vec<Value> = platform
        .store
        .workflows(&tenant)
        .await?
        .into_iter()
        .map(|w| {
            let definition = parsed(Some(&w.definition));
            json!({
                "name": w.name,
                "version": w.version,
                "description": definition["description"],
                "steps": definition["steps"].as_array().map_or(0, Vec::len),
                "created_by": w.created_by,
                "created_at": w.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "workflows": workflows })).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/workflows/{workflow}` with a definition in
/// JSON or YAML: saved as the next version when it is sound and everything
/// it calls is enabled.
pub async fn put(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("workflow", &name)?;
    if body.len() > MAX_DEFINITION_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a definition has at most {MAX_DEFINITION_BYTES} bytes"),
        ));
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the definition is not UTF-8 text"))?;
    let (definition, needs) = Definition::parse(text).map_err(workflows::invalid)?;
    workflows::check_against_tenant(&platform, &tenant, &name, &needs).await?;
    let stored = serde_json::to_string(&definition).map_err(ApiError::internal)?;
    let version = platform
        .store
        .put_workflow(&tenant, &name, &stored, &caller.actor())
        .await?;
    let body = json!({ "name": name, "version": version, "steps": definition.steps.len() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/tenants/{tenant}/workflows/{workflow}`: the newest version.
pub async fn get(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let stored = platform
        .store
        .workflow(&tenant, &name, None)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` has no workflow `{name}`")))?;
    Ok(Json(json!({
        "name": stored.name,
        "version": stored.version,
        "definition": parsed(Some(&stored.definition)),
        "created_by": stored.created_by,
        "created_at": stored.created_at,
    }))
    .into_response())
}

/// The body that starts a run.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The run's input (any JSON value), `${input…}` in the steps.
    #[serde(default)]
    input: Value,
}

/// `POST /api/v1/tenants/{tenant}/workflows/{workflow}/runs` with `{input?}`.
pub async fn start(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: StartRequest = parse_json_or_default(&body)?;
    let run = platform
        .workflows
        .start(&tenant, &name, request.input, &caller.actor())
        .await
        .map_err(engine_error)?;
    Ok((StatusCode::CREATED, Json(run_json(&run))).into_response())
}

/// `POST /api/v1/tenants/{tenant}/runs/{run}/retry`: a new run of a failed
/// or cancelled run's workflow version with its input.
pub async fn retry(
    State(platform): State<Platform>,
    Path((tenant, run)): Path<(String, String)>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let run = platform
        .workflows
        .retry(&tenant, &run, &caller.actor())
        .await
        .map_err(engine_error)?;
    Ok((StatusCode::CREATED, Json(run_json(&run))).into_response())
}

/// Filters of the run list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    workflow: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/tenants/{tenant}/runs[?workflow=&limit=]`: newest first.
pub async fn runs(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(workflow) = &query.workflow {
        check_name("workflow", workflow)?;
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be 1 to 1000"));
    }
    let runs = platform.store.runs(&tenant, query.workflow.as_deref(), limit).await?;
    let runs: Vec<Value> = runs.iter().map(run_json).collect();
    Ok(Json(json!({ "runs": runs })).into_response())
}

/// `GET /api/v1/tenants/{tenant}/runs/{run}`: the run with every step.
pub async fn run(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let snapshot = platform
        .store
        .run(Some(&tenant), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` has no run `{id}`")))?;
    let logs = platform.store.run_logs(&id).await?;
    Ok(Json(snapshot_json(&snapshot, &logs)).into_response())
}

/// How often the event stream of a run looks for changes.
const EVENT_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// `GET /api/v1/tenants/{tenant}/runs/{run}/events`: Server-Sent Events, a
/// `run` event with the whole run (as `GET …/runs/{run}` gives it) now and
/// whenever it changes, until it has ended.
pub async fn events(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if platform.store.run(Some(&tenant), &id).await?.is_none() {
        return Err(ApiError::not_found(format!("tenant `{tenant}` has no run `{id}`")));
    }
    let changes = futures::stream::unfold((None::<String>, false), move |(last, ended)| {
        let (platform, tenant, id) = (platform.clone(), tenant.clone(), id.clone());
        async move {
            if ended {
                return None;
            }
            loop {
                let snapshot = match platform.store.run(Some(&tenant), &id).await {
                    Ok(Some(snapshot)) => snapshot,
                    Ok(None) => return None,
                    Err(e) => {
                        let event = Event::default().event("error").data(e.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(event), (last, true)));
                    }
                };
                let logs = platform.store.run_logs(&id).await.unwrap_or_default();
                let data = snapshot_json(&snapshot, &logs).to_string();
                if last.as_deref() != Some(data.as_str()) {
                    let ended = pa_workflow::ENDED.contains(&snapshot.run.state.as_str());
                    let event = Event::default().event("run").data(data.clone());
                    return Some((Ok(event), (Some(data), ended)));
                }
                tokio::time::sleep(EVENT_POLL).await;
            }
        }
    });
    Ok(Sse::new(changes).keep_alive(KeepAlive::default()).into_response())
}

/// `POST /api/v1/tenants/{tenant}/runs/{run}/cancel`.
pub async fn cancel(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
    caller: Caller,
) -> Result<Response, ApiError> {
    platform
        .workflows
        .cancel(&tenant, &id, &caller.actor())
        .await
        .map_err(engine_error)?;
    run(State(platform), Path((tenant, id))).await
}

/// The body of an approval or rejection.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why, for the record.
    #[schema(max_length = 1000, pattern = r"^[^\x00]*$")]
    comment: Option<String>,
}

async fn decide(
    platform: Platform,
    (tenant, id, step): (String, String, String),
    caller: Caller,
    body: Bytes,
    approve: bool,
) -> Result<Response, ApiError> {
    let request: DecisionRequest = parse_json_or_default(&body)?;
    if let Some(comment) = &request.comment
        && (comment.chars().count() > 1000 || comment.contains('\0'))
    {
        return Err(ApiError::bad_request(
            "`comment` has at most 1000 characters and no NUL",
        ));
    }
    platform
        .workflows
        .decide(
            &tenant,
            &id,
            &step,
            approve,
            &caller.actor(),
            request.comment.as_deref(),
        )
        .await
        .map_err(engine_error)?;
    run(State(platform), Path((tenant, id))).await
}

/// `POST /api/v1/tenants/{tenant}/runs/{run}/steps/{step}/approve` with `{comment?}`.
pub async fn approve(
    State(platform): State<Platform>,
    Path(path): Path<(String, String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide(platform, path, caller, body, true).await
}

/// `POST /api/v1/tenants/{tenant}/runs/{run}/steps/{step}/reject` with `{comment?}`.
pub async fn reject(
    State(platform): State<Platform>,
    Path(path): Path<(String, String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide(platform, path, caller, body, false).await
}
