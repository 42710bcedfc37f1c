//! The platform's own components: what is offered, and enabling one in a tenant.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use pa_runtime::Limits;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{check_name, parse_json_or_default, put_version};
use crate::deploy::{EnableRequest, Grants};
use crate::error::ApiError;
use crate::first_party::Offer;
use crate::platform::Platform;

/// The body of `POST …/first-party/{name}/enable`: what to change from the
/// component's defaults (all optional).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstPartyEnable {
    /// Capabilities instead of the component's default grants.
    #[serde(default)]
    grants: Option<Grants>,
    /// Limits instead of the platform's defaults.
    #[serde(default)]
    limits: Option<Limits>,
    /// The prefix of its tool names at the tenant's MCP endpoint (the
    /// component's name when absent; empty for the tools' own names).
    #[serde(default)]
    #[schema(pattern = "^([a-z][a-z0-9-]{0,62})?$")]
    tool_prefix: Option<String>,
}

/// `GET /api/v1/first-party`: the components every tenant may enable.
pub async fn list(State(platform): State<Platform>) -> Json<serde_json::Value> {
    let offers: Vec<&Offer> = platform.first_party.offers().collect();
    Json(json!({ "components": offers }))
}

/// `POST /api/v1/tenants/{tenant}/first-party/{name}/enable`: stores the
/// component as the tenant's plugin `name` (its version names its bytes) and
/// enables it, with its default grants unless the body gives others.
pub async fn enable(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("component", &name)?;
    let options: FirstPartyEnable = parse_json_or_default(&body)?;
    let enabled = enable_in(&platform, &tenant, &name, options).await?;
    Ok(Json(json!({ "name": name, "enabled": enabled })).into_response())
}

/// Enables the first-party component `name` in `tenant`.
pub(crate) async fn enable_in(
    platform: &Platform,
    tenant: &str,
    name: &str,
    options: FirstPartyEnable,
) -> Result<EnableRequest, ApiError> {
    let offer = platform
        .first_party
        .get(name)
        .ok_or_else(|| ApiError::not_found(format!("this platform offers no first-party component `{name}`")))?;
    put_version(platform, tenant, name, &offer.version, offer.bytes.clone()).await?;
    let request = EnableRequest {
        version: offer.version.clone(),
        grants: options.grants.unwrap_or_else(|| offer.grants.clone()),
        limits: options.limits.unwrap_or_default(),
        access: Default::default(),
        tool_prefix: options.tool_prefix,
        circuit: Default::default(),
        canary: None,
    };
    platform.deployments.enable(platform, tenant, name, &request).await?;
    Ok(request)
}

/// Checks that every name in `names` is offered, before anything is changed
/// (`404` naming those that are not).
pub(crate) fn check_offered(platform: &Platform, names: &[String]) -> Result<(), ApiError> {
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| platform.first_party.get(n).is_none())
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "this platform offers no first-party component {}",
            missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )))
    }
}
