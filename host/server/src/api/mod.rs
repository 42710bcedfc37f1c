//! The control-plane API under `/api/v1` (routes and access in [`crate::routes`]):
//! tenants and plugins here, identity, keys and audit in submodules.

pub mod audit;
pub mod billing;
pub mod capabilities;
pub mod first_party;
pub mod identity;
pub mod keys;
pub mod monitoring;
pub mod orchestrator;
pub mod providers;
pub mod teams;
pub mod workflows;

use std::collections::BTreeMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pa_store::{PluginVersion, PutOutcome};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::{self, Caller, Permission};
use crate::deploy::EnableRequest;
use crate::error::ApiError;
use crate::platform::Platform;

/// Names of tenants and plugins: lowercase letters, digits and `-`, starting
/// with a letter, at most 63 characters (safe in URLs, paths and labels).
pub fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let valid = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid {kind} name `{name}`: use 1-63 lowercase letters, digits or `-`, starting with a letter"
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integral_floats_are_integers() {
        #[derive(serde::Deserialize)]
        struct Limits {
            count: u32,
            rate: f64,
        }
        let body = axum::body::Bytes::from_static(br#"{"count": 3.0, "rate": 1}"#);
        let parsed: Limits = super::parse_json(&body).unwrap();
        assert_eq!((parsed.count, parsed.rate), (3, 1.0));
        let fractional = axum::body::Bytes::from_static(br#"{"count": 3.5, "rate": 1}"#);
        assert!(super::parse_json::<Limits>(&fractional).is_err());
    }
}

/// Versions are semantic versions (`1.2.3`, `1.0.0-rc.1`).
fn check_version(version: &str) -> Result<(), ApiError> {
    if version.len() <= 64 && semver::Version::parse(version).is_ok() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid version `{version}`: expected a semantic version such as 1.0.0"
        )))
    }
}

/// Parses a JSON body. Numbers with a zero fraction (`1.0`) count as integers,
/// as JSON Schema says they are.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let invalid = |e: serde_json::Error| ApiError::bad_request(format!("invalid JSON body: {e}"));
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    integral_floats_as_integers(&mut value);
    serde_json::from_value(value).map_err(invalid)
}

/// Like [`parse_json`], with an empty body meaning the type's default.
pub fn parse_json_or_default<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Every integral float in i64's range is exactly an integer (its
            // text may have had more digits than an f64 keeps; its value did not).
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    id: String,
    /// First-party components to enable in it with their default grants
    /// (`GET /api/v1/first-party` lists them).
    #[serde(default)]
    first_party: Vec<String>,
}

/// `GET /api/v1/tenants` (platform admin): every tenant with its plan.
pub async fn list_tenants(State(platform): State<Platform>) -> Result<Response, ApiError> {
    let tenants = platform.store.tenants().await?;
    Ok(Json(json!({ "tenants": tenants })).into_response())
}

/// `POST /api/v1/tenants` (platform admin).
pub async fn create_tenant(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let new: NewTenant = parse_json(&body)?;
    check_name("tenant", &new.id)?;
    first_party::check_offered(&platform, &new.first_party)?;
    let existed = platform.store.tenant_exists(&new.id).await?;
    platform.store.ensure_tenant(&new.id).await?;
    for name in &new.first_party {
        first_party::enable_in(&platform, &new.id, name, Default::default()).await?;
    }
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({ "id": new.id, "first_party": new.first_party }))).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/plugins/{name}/versions/{version}` with the component as body.
pub async fn upload(
    State(platform): State<Platform>,
    Path((tenant, name, version)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    check_name("plugin", &name)?;
    check_version(&version)?;
    let limit = platform.max_upload_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the component is larger than the {limit}-byte upload limit"),
        )
    })?;
    let (status, stored) = put_version(&platform, &tenant, &name, &version, bytes).await?;
    Ok((status, Json(stored)).into_response())
}

/// Stores a component as a version of a tenant's plugin after compiling it:
/// `201` when new, `200` when the same bytes were already there, a conflict
/// when the version holds other bytes (versions are immutable).
pub(crate) async fn put_version(
    platform: &Platform,
    tenant: &str,
    name: &str,
    version: &str,
    bytes: Bytes,
) -> Result<(StatusCode, PluginVersion), ApiError> {
    let sha256 = pa_runtime::digest(&bytes);
    if let Some(existing) = platform.store.version(tenant, name, version).await? {
        if existing.sha256 == sha256 {
            return Ok((StatusCode::OK, existing));
        }
        return Err(pa_store::StoreError::VersionConflict {
            name: name.to_string(),
            version: version.to_string(),
            existing: existing.sha256,
        }
        .into());
    }
    platform.metering.reserve_storage(tenant, bytes.len() as u64).await?;
    let runtime = platform.runtime.clone();
    let component = bytes.clone();
    let prepared = tokio::task::spawn_blocking(move || runtime.prepare(&component))
        .await
        .map_err(ApiError::internal)??;
    platform.blobs.put(&sha256, &bytes).await.map_err(ApiError::internal)?;
    let record = PluginVersion {
        name: name.to_string(),
        version: version.to_string(),
        sha256,
        world: prepared.world.as_str().to_string(),
        size: bytes.len() as i64,
        created_at: String::new(),
    };
    let status = match platform.store.put_version(tenant, &record).await? {
        PutOutcome::Created => StatusCode::CREATED,
        PutOutcome::Unchanged => StatusCode::OK,
    };
    let stored = platform.store.version(tenant, name, version).await?;
    let stored =
        stored.ok_or_else(|| ApiError::internal(format!("version {name} {version} vanished after storing it")))?;
    Ok((status, stored))
}

/// `GET /api/v1/tenants/{tenant}/plugins/{name}/versions/{version}`.
pub async fn get_version(
    State(platform): State<Platform>,
    Path((tenant, name, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let found = platform.store.version(&tenant, &name, &version).await?;
    let found = found.ok_or_else(|| ApiError::not_found(format!("plugin `{name}` has no version `{version}`")))?;
    Ok(Json(found).into_response())
}

/// `GET /api/v1/tenants/{tenant}/plugins`: every plugin with its versions,
/// the enabled one and its configuration (variable values only for callers
/// who may enable plugins: the others see `null` in their place).
pub async fn list_plugins(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let may_enable = auth::require(&platform, &caller, &tenant, Permission::PluginEnable)
        .await
        .is_ok();
    let enabled = platform.deployments.enabled(&tenant);
    let mut plugins: BTreeMap<String, Vec<PluginVersion>> = BTreeMap::new();
    for v in platform.store.versions(&tenant).await? {
        plugins.entry(v.name.clone()).or_default().push(v);
    }
    let list: Vec<_> = plugins
        .into_iter()
        .map(|(name, versions)| {
            let live = enabled.get(&name);
            let mut entry = json!({
                "name": name,
                "versions": versions,
                "enabled_version": live.map(|l| l.version.clone()),
                "enabled": live.map(|l| enabled_config(&l.request, may_enable)),
                "fuel_consumed": live.map(|l| l.plugin.fuel_consumed()),
            });
            if let Some(live) = live {
                entry["status"] = platform.deployments.status(&tenant, &name, live);
            }
            entry
        })
        .collect();
    Ok(Json(json!({ "plugins": list })).into_response())
}

/// What a plugin was enabled with, its variables' values hidden unless `full`.
fn enabled_config(request: &EnableRequest, full: bool) -> Value {
    let mut config = json!(request);
    if !full && let Some(variables) = config["grants"]["variables"].as_object_mut() {
        variables.values_mut().for_each(|value| *value = Value::Null);
    }
    config
}

/// `POST /api/v1/tenants/{tenant}/plugins/{name}/enable` with an [`EnableRequest`].
pub async fn enable(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("plugin", &name)?;
    let request: EnableRequest = parse_json(&body)?;
    platform.deployments.enable(&platform, &tenant, &name, &request).await?;
    Ok(Json(json!({ "name": name, "enabled": request })).into_response())
}

/// `POST /api/v1/tenants/{tenant}/plugins/{name}/disable`.
pub async fn disable(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    platform.deployments.disable(&platform, &tenant, &name).await?;
    Ok(Json(json!({ "name": name, "enabled": null })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpSettings {
    #[schema(pattern = "^(api-key|public)$")]
    access: String,
}

/// `GET /api/v1/tenants/{tenant}/mcp`: the endpoint and who may use it.
pub async fn get_mcp_settings(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    let access = platform.store.mcp_access(&tenant).await?;
    Ok(Json(json!({ "endpoint": format!("/t/{tenant}/mcp"), "access": access })).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/mcp` with `{"access": "api-key" | "public"}`.
pub async fn set_mcp_settings(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings: McpSettings = parse_json(&body)?;
    if !["api-key", "public"].contains(&settings.access.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown access `{}`: use api-key or public",
            settings.access
        )));
    }
    platform.store.set_mcp_access(&tenant, &settings.access).await?;
    platform.mcp.set_access(&tenant, &settings.access);
    Ok(Json(json!({ "endpoint": format!("/t/{tenant}/mcp"), "access": settings.access })).into_response())
}
