//! Teams of a tenant: a tree (company → department → team) whose roles pass
//! down to the members of every team below.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use pa_store::Team;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::identity::grantable_role;
use super::{check_name, parse_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::platform::Platform;

/// `GET /api/v1/tenants/{tenant}/teams`: every team with its members.
pub async fn list(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let mut teams = Vec::new();
    for team in platform.store.teams(&tenant).await? {
        let members = platform.store.team_members(&tenant, &team.id).await?;
        teams.push(json!({
            "id": team.id, "name": team.name, "parent": team.parent, "role": team.role, "members": members,
        }));
    }
    Ok(Json(json!({ "teams": teams })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00]*$")]
    name: String,
    /// The team it belongs to.
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    parent: Option<String>,
    /// The role its members (and those of the teams below) hold.
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    role: Option<String>,
}

/// `PUT /api/v1/tenants/{tenant}/teams/{team}` with `{name, parent?, role?}`.
pub async fn put(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TeamRequest = parse_json(&body)?;
    check_name("team", &id)?;
    if !(1..=100).contains(&request.name.chars().count()) || request.name.contains('\0') {
        return Err(ApiError::bad_request("`name` must have 1 to 100 characters and no NUL"));
    }
    if let Some(role) = &request.role {
        grantable_role(&platform, &caller, &tenant, role).await?;
    }
    let team = Team {
        id,
        name: request.name,
        parent: request.parent,
        role: request.role,
    };
    platform.store.put_team(&tenant, &team).await?;
    Ok(Json(team).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/teams/{team}`: refused while teams are below it.
pub async fn delete(
    State(platform): State<Platform>,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if !platform.store.delete_team(&tenant, &id).await? {
        return Err(ApiError::not_found(format!("tenant `{tenant}` has no team `{id}`")));
    }
    Ok(Json(json!({ "id": id, "deleted": true })).into_response())
}

/// The team and the member, both of `tenant`, or 404.
async fn team_and_member(platform: &Platform, tenant: &str, team: &str, username: &str) -> Result<String, ApiError> {
    if !platform.store.teams(tenant).await?.iter().any(|t| t.id == team) {
        return Err(ApiError::not_found(format!("tenant `{tenant}` has no team `{team}`")));
    }
    let user = platform.store.user_by_name(username).await?;
    match user {
        Some(user) if platform.store.membership(tenant, &user.id).await?.is_some() => Ok(user.id),
        _ => Err(ApiError::not_found(format!(
            "`{username}` is not a member of tenant `{tenant}`; add them first"
        ))),
    }
}

/// `PUT /api/v1/tenants/{tenant}/teams/{team}/members/{username}`.
pub async fn add_member(
    State(platform): State<Platform>,
    Path((tenant, team, username)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let user_id = team_and_member(&platform, &tenant, &team, &username).await?;
    platform.store.add_team_member(&tenant, &team, &user_id).await?;
    Ok(Json(json!({ "team": team, "username": username })).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/teams/{team}/members/{username}`.
pub async fn remove_member(
    State(platform): State<Platform>,
    Path((tenant, team, username)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let user_id = team_and_member(&platform, &tenant, &team, &username).await?;
    if !platform.store.remove_team_member(&tenant, &team, &user_id).await? {
        return Err(ApiError::not_found(format!("`{username}` is not in team `{team}`")));
    }
    Ok(Json(json!({ "team": team, "username": username, "removed": true })).into_response())
}
