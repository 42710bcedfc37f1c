//! Settings and results of the host capabilities: the tenant's model
//! provider (its key write-only) and the sites its plugins published.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use pa_store::{ModelProvider, Site, SiteVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{check_name, parse_json};
use crate::capabilities::model::{BUILTIN_MODEL, key_purpose};
use crate::error::ApiError;
use crate::platform::Platform;

/// The body of `PUT …/model-provider`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelProviderRequest {
    /// Base URL of an OpenAI-compatible API (`…/v1`); `/chat/completions` is added.
    #[schema(pattern = r"^https?://[^\s]+$", max_length = 2048)]
    pub base_url: String,
    /// The model to ask, e.g. `llama-3.1-8b-instruct`.
    #[schema(min_length = 1, max_length = 256)]
    pub model: String,
    /// The API key, sent as a bearer token; never shown again or to plugins.
    /// Absent: the stored key is kept; empty: no key.
    #[schema(max_length = 4096)]
    pub api_key: Option<String>,
}

fn provider_json(provider: &ModelProvider) -> Value {
    json!({
        "configured": true,
        "base_url": provider.base_url,
        "model": provider.model,
        "api_key_set": provider.api_key_sealed.is_some(),
        "updated_at": provider.updated_at,
    })
}

fn no_provider(tenant: &str) -> ApiError {
    ApiError::not_found(format!(
        "tenant `{tenant}` has no model provider; plugins get the built-in model"
    ))
}

/// `GET /api/v1/tenants/{tenant}/model-provider`: the provider, or
/// `configured: false` when the built-in model answers.
pub async fn get_model_provider(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    let body = match platform.store.model_provider(&tenant).await? {
        Some(provider) => provider_json(&provider),
        None => json!({"configured": false, "model": BUILTIN_MODEL, "api_key_set": false}),
    };
    Ok(Json(body).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/model-provider`: the key is sealed with the
/// platform secret before it is stored.
pub async fn put_model_provider(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ModelProviderRequest = parse_json(&body)?;
    let url = reqwest::Url::parse(&request.base_url)
        .map_err(|e| ApiError::bad_request(format!("base_url `{}` is not a URL: {e}", request.base_url)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || request.base_url.len() > 2048 {
        return Err(ApiError::bad_request(format!(
            "base_url `{}` must be an http or https URL of at most 2048 characters",
            request.base_url
        )));
    }
    platform.models.check_url(&url).map_err(ApiError::bad_request)?;
    let model = request.model.trim();
    if model.is_empty() || model.len() > 256 || model.chars().any(char::is_control) {
        return Err(ApiError::bad_request("model must be 1 to 256 printable characters"));
    }
    if request
        .api_key
        .as_ref()
        .is_some_and(|k| k.len() > 4096 || k.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "api_key must be at most 4096 printable characters",
        ));
    }
    let api_key_sealed = match request.api_key {
        None => platform
            .store
            .model_provider(&tenant)
            .await?
            .and_then(|p| p.api_key_sealed),
        Some(key) if key.is_empty() => None,
        Some(key) => Some(platform.sealer.seal(&key_purpose(&tenant), &key)),
    };
    let provider = ModelProvider {
        base_url: request.base_url.trim_end_matches('/').to_string(),
        model: model.to_string(),
        api_key_sealed,
        updated_at: pa_store::now(),
    };
    platform.store.put_model_provider(&tenant, &provider).await?;
    Ok(Json(provider_json(&provider)).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/model-provider`: back to the built-in model.
pub async fn delete_model_provider(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    if !platform.store.delete_model_provider(&tenant).await? {
        return Err(no_provider(&tenant));
    }
    Ok(Json(json!({ "deleted": true })).into_response())
}

fn site_json(tenant: &str, site: &Site) -> Value {
    json!({
        "name": site.name,
        "live_version": site.live_version,
        "updated_at": site.updated_at,
        "url": format!("/t/{tenant}/sites/{}/", site.name),
    })
}

fn version_json(version: &SiteVersion) -> Result<Value, ApiError> {
    let files: BTreeMap<String, String> = serde_json::from_str(&version.files).map_err(ApiError::internal)?;
    Ok(json!({
        "version": version.version,
        "files": files.keys().collect::<Vec<_>>(),
        "bytes": version.bytes,
        "plugin": version.plugin,
        "created_at": version.created_at,
    }))
}

async fn site_detail(platform: &Platform, tenant: &str, name: &str) -> Result<Value, ApiError> {
    let site = platform
        .store
        .site(tenant, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` has no site `{name}`")))?;
    let versions = platform
        .store
        .site_versions(tenant, name)
        .await?
        .iter()
        .map(version_json)
        .collect::<Result<Vec<_>, _>>()?;
    let mut detail = site_json(tenant, &site);
    detail["versions"] = json!(versions);
    Ok(detail)
}

/// `GET /api/v1/tenants/{tenant}/sites`.
pub async fn sites(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let sites: Vec<Value> = platform
        .store
        .sites(&tenant)
        .await?
        .iter()
        .map(|s| site_json(&tenant, s))
        .collect();
    Ok(Json(json!({ "sites": sites })).into_response())
}

/// `GET /api/v1/tenants/{tenant}/sites/{site}`: with every version, newest first.
pub async fn site(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(Json(site_detail(&platform, &tenant, &name).await?).into_response())
}

/// The body of `POST …/sites/{site}/rollback`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version to serve again.
    #[schema(minimum = 1)]
    pub version: i64,
}

/// `POST /api/v1/tenants/{tenant}/sites/{site}/rollback`: serves an earlier
/// (or later) published version.
pub async fn rollback(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("site", &name)?;
    let RollbackRequest { version } = parse_json(&body)?;
    if !platform.store.set_live_site_version(&tenant, &name, version).await? {
        return Err(ApiError::not_found(format!(
            "tenant `{tenant}` has no site `{name}` with version {version}"
        )));
    }
    Ok(Json(site_detail(&platform, &tenant, &name).await?).into_response())
}
