//! `POST /api/v1/tenants/{tenant}/orchestrator/plan`: a requirement becomes
//! a plan (template and parameters); with `start`, the template is saved as
//! the tenant's workflow (when it differs from the newest version) and run.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pa_workflow::Definition;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::parse_json;
use super::workflows::{engine_error, run_json};
use crate::auth::{Caller, Permission, require};
use crate::error::ApiError;
use crate::orchestrator::{self, Template};
use crate::platform::Platform;
use crate::workflows;

/// The body of a plan request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// What the product should do, in plain language.
    #[schema(min_length = 1, max_length = 10000)]
    pub requirement: String,
    /// Start the plan as a run (needs `workflow.write` and `workflow.run`).
    #[serde(default)]
    pub start: bool,
    /// More input for the run, merged over the plan's parameters (e.g. `samples`).
    #[serde(default)]
    pub input: Map<String, Value>,
}

/// `POST /api/v1/tenants/{tenant}/orchestrator/plan`.
pub async fn plan(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: PlanRequest = parse_json(&body)?;
    if request.requirement.trim().is_empty() || request.requirement.len() > 10_000 {
        return Err(ApiError::bad_request("requirement must be 1 to 10000 characters"));
    }
    let plan = orchestrator::plan(&platform.models, &tenant, &request.requirement)
        .await
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unplannable", e))?;
    let mut input = plan.parameters.clone();
    input.extend(request.input);
    let mut body = json!({
        "template": plan.template.name,
        "description": plan.template.description,
        "workflow": plan.template.name,
        "parameters": plan.parameters,
        "planner": plan.planner,
        "reasoning": plan.reasoning,
    });
    if !request.start {
        return Ok(Json(body).into_response());
    }
    require(&platform, &caller, &tenant, Permission::WorkflowWrite).await?;
    install(&platform, &tenant, plan.template, &caller).await?;
    let run = platform
        .workflows
        .start(&tenant, plan.template.name, Value::Object(input), &caller.actor())
        .await
        .map_err(engine_error)?;
    body["run"] = run_json(&run);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Saves `template` as the tenant's workflow of its name unless the newest
/// version is the same definition; checked against what the tenant enabled.
async fn install(platform: &Platform, tenant: &str, template: &Template, caller: &Caller) -> Result<(), ApiError> {
    let (definition, needs) = Definition::parse(template.definition).map_err(workflows::invalid)?;
    let stored = serde_json::to_string(&definition).map_err(ApiError::internal)?;
    let current = platform.store.workflow(tenant, template.name, None).await?;
    if current.is_some_and(|c| c.definition == stored) {
        return Ok(());
    }
    workflows::check_against_tenant(platform, tenant, template.name, &needs).await?;
    platform
        .store
        .put_workflow(tenant, template.name, &stored, &caller.actor())
        .await?;
    Ok(())
}
