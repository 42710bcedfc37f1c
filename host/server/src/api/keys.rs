//! API keys of a tenant: created (shown once), listed, revoked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pa_store::NewKey;
use serde::Deserialize;
use serde_json::json;

use super::identity::grantable_role;
use super::parse_json;
use crate::auth::{Caller, tokens};
use crate::error::ApiError;
use crate::platform::Platform;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// Role of the key (default `admin`; at most the caller's own permissions).
    role: Option<String>,
    /// A label.
    #[serde(default)]
    name: String,
    /// Expiry (RFC 3339); none by default.
    expires_at: Option<String>,
}

/// `POST /api/v1/tenants/{tenant}/api-keys`: a new key, shown once.
pub async fn create(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: NewKeyRequest = if body.is_empty() {
        NewKeyRequest::default()
    } else {
        parse_json(&body)?
    };
    let role = request.role.unwrap_or_else(|| "admin".into());
    grantable_role(&platform, &caller, &tenant, &role).await?;
    if request.name.len() > 100 {
        return Err(ApiError::bad_request("`name` is longer than 100 characters"));
    }
    let expires_at = request.expires_at.as_deref().map(parse_future_time).transpose()?;
    let token = tokens::random_token("pa_");
    let id = platform
        .store
        .insert_api_key(&NewKey {
            token: &token,
            tenant: Some(&tenant),
            role: &role,
            name: &request.name,
            expires_at: expires_at.as_deref(),
        })
        .await?;
    let body = json!({
        "key": token, "id": id, "tenant": tenant, "role": role, "name": request.name, "expires_at": expires_at,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// An RFC 3339 time in the future, in stored form.
fn parse_future_time(text: &str) -> Result<String, ApiError> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::bad_request(format!("`expires_at` is not an RFC 3339 time ({e}): `{text}`")))?;
    if at <= time::OffsetDateTime::now_utc() {
        return Err(ApiError::bad_request(format!("`expires_at` is in the past: `{text}`")));
    }
    Ok(pa_store::format_time(at))
}

/// `GET /api/v1/tenants/{tenant}/api-keys`: every key (never the secret).
pub async fn list(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let keys = platform.store.api_keys(&tenant).await?;
    Ok(Json(json!({ "keys": keys })).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/api-keys/{id}`: revokes a key at once.
pub async fn revoke(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let key = platform.store.revoke_api_key(&tenant, &id).await?;
    Ok(Json(key).into_response())
}
