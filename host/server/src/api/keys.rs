//! API keys of a tenant: created (shown once), listed, revoked.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pa_store::NewKey;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::identity::grantable_role;
use super::parse_json_or_default;
use crate::auth::{Caller, tokens};
use crate::error::ApiError;
use crate::platform::Platform;

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// Role of the key (default `admin`; at most the caller's own permissions).
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    role: Option<String>,
    /// A label.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    name: String,
    /// Seconds until the key expires (up to ten years); never by default.
    #[schema(minimum = 1, maximum = 315_360_000)]
    expires_in_secs: Option<u64>,
}

/// `POST /api/v1/tenants/{tenant}/api-keys`: a new key, shown once.
pub async fn create(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: NewKeyRequest = parse_json_or_default(&body)?;
    let role = request.role.unwrap_or_else(|| "admin".into());
    grantable_role(&platform, &caller, &tenant, &role).await?;
    if request.name.len() > 100 || request.name.contains('\0') {
        return Err(ApiError::bad_request(
            "`name` must have at most 100 characters and no NUL",
        ));
    }
    let expires_at = match request.expires_in_secs {
        None => None,
        Some(secs @ 1..=MAX_EXPIRY_SECS) => Some(tokens::rfc3339_in(Duration::from_secs(secs))),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`expires_in_secs` must be between 1 and {MAX_EXPIRY_SECS}, got {other}"
            )));
        }
    };
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

/// The longest key lifetime: ten years.
const MAX_EXPIRY_SECS: u64 = 315_360_000;

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
