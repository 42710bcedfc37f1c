//! Users: sign-in with passwords (argon2id) and JWT access + refresh tokens,
//! platform accounts, tenant members and custom roles.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pa_store::{CustomRole, Refresh, User};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::parse_json;
use crate::auth::{AuditActor, BUILT_IN_ROLES, Caller, Permission, built_in_role, role_permissions, tokens};
use crate::error::ApiError;
use crate::platform::Platform;

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Usernames: 1-64 of lowercase letters, digits, `.`, `_`, `-`, `@`.
fn check_username(name: &str) -> Result<(), ApiError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid username `{name}`: use 1-64 lowercase letters, digits, `.`, `_`, `-` or `@`"
        )))
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if (8..=256).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ApiError::bad_request("a password must have 8 to 256 characters"))
    }
}

/// Access and refresh tokens for a user, the refresh token in `family`.
pub async fn token_pair(platform: &Platform, user: &User, family: &str) -> Result<Value, ApiError> {
    let refresh = tokens::random_token("par_");
    let expires = tokens::rfc3339_in(tokens::REFRESH_TTL);
    platform
        .store
        .insert_refresh_token(&refresh, &user.id, family, &expires)
        .await?;
    Ok(json!({
        "access_token": tokens::issue_access(&platform.secrets.jwt, &user.id, &user.username),
        "token_type": "Bearer",
        "expires_in": tokens::ACCESS_TTL.as_secs(),
        "refresh_token": refresh,
        "user": user,
    }))
}

pub fn with_actor(mut response: Response, actor: String) -> Response {
    response.extensions_mut().insert(AuditActor(actor));
    response
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

/// `POST /api/v1/auth/login` with `{username, password}`.
pub async fn login(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let login: Login = parse_json(&body)?;
    let user = match check_username(&login.username) {
        Ok(()) => platform.store.user_by_name(&login.username).await?,
        Err(_) => None,
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = login.password;
    let valid = tokio::task::spawn_blocking(move || tokens::verify_password(&password, hash.as_deref()))
        .await
        .map_err(ApiError::internal)?;
    let actor = format!("user:{}", login.username);
    let user = match user {
        Some(user) if valid => user,
        _ => {
            let refused = unauthorized("wrong username or password").into_response();
            return Ok(with_actor(refused, actor));
        }
    };
    let family = tokens::random_token("");
    let pair = token_pair(&platform, &user, &family).await?;
    Ok(with_actor(Json(pair).into_response(), actor))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// `POST /api/v1/auth/refresh` with `{refresh_token}`: a new pair; the old
/// refresh token is spent (presenting it again signs the family out).
pub async fn refresh(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let request: RefreshRequest = parse_json(&body)?;
    match platform.store.use_refresh_token(&request.refresh_token).await? {
        Refresh::Valid { user_id, family } => {
            let user = platform.store.user(&user_id).await?;
            let user = user.ok_or_else(|| unauthorized("the refresh token's user no longer exists"))?;
            let actor = format!("user:{}", user.username);
            let pair = token_pair(&platform, &user, &family).await?;
            Ok(with_actor(Json(pair).into_response(), actor))
        }
        Refresh::Reused => Err(unauthorized(
            "this refresh token was already used; its session has been signed out",
        )),
        Refresh::Invalid => Err(unauthorized("unknown or expired refresh token")),
    }
}

/// `POST /api/v1/auth/logout` with `{refresh_token}`: ends that session.
pub async fn logout(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let request: RefreshRequest = parse_json(&body)?;
    let family = platform.store.refresh_family(&request.refresh_token).await?;
    let family = family.ok_or_else(|| unauthorized("unknown refresh token"))?;
    platform.store.revoke_refresh_family(&family).await?;
    Ok(Json(json!({ "signed_out": true })).into_response())
}

/// `GET /api/v1/auth/me`: the caller and their tenants with permissions.
pub async fn me(State(platform): State<Platform>, caller: Caller) -> Result<Response, ApiError> {
    let (who, roles) = match &caller {
        Caller::User(user) => {
            let memberships = platform.store.memberships_of(&user.id).await?;
            let roles: Vec<_> = memberships.into_iter().map(|m| (m.tenant, m.role)).collect();
            (json!({ "user": user }), roles)
        }
        Caller::Key(key) => {
            let roles = key.tenant.clone().map(|t| (t, key.role.clone())).into_iter().collect();
            (json!({ "key": key }), roles)
        }
    };
    let mut tenants = Vec::new();
    for (tenant, role) in roles {
        // What the API applies: the role, its teams' roles, admin for a platform admin.
        let permissions: Vec<_> = caller
            .permissions_in(&platform, &tenant)
            .await?
            .iter()
            .map(|p| p.name())
            .collect();
        tenants.push(json!({ "tenant": tenant, "role": role, "permissions": permissions }));
    }
    let mut body = who;
    body["platform_admin"] = json!(caller.is_platform_admin());
    body["tenants"] = json!(tenants);
    Ok(Json(body).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[a-z0-9._@-]{1,64}$")]
    username: String,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    #[serde(default)]
    platform_admin: bool,
}

async fn create_password_user(
    platform: &Platform,
    username: &str,
    password: String,
    admin: bool,
) -> Result<User, ApiError> {
    check_username(username)?;
    check_password(&password)?;
    let hash = tokio::task::spawn_blocking(move || tokens::hash_password(&password))
        .await
        .map_err(ApiError::internal)?;
    let user = User {
        id: tokens::random_token("u_")[..18].to_string(),
        username: username.to_string(),
        password_hash: Some(hash),
        provider: "password".into(),
        platform_admin: admin,
        created_at: pa_store::now(),
    };
    platform.store.create_user(&user).await?;
    Ok(user)
}

/// `POST /api/v1/users` (platform admin) with `{username, password, platform_admin?}`.
pub async fn create_user(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let new: NewUser = parse_json(&body)?;
    let user = create_password_user(&platform, &new.username, new.password, new.platform_admin).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// Checks `role` exists in `tenant` and grants nothing the caller lacks there
/// (no one can hand out more than they hold).
pub async fn grantable_role(platform: &Platform, caller: &Caller, tenant: &str, role: &str) -> Result<(), ApiError> {
    let custom = platform.store.roles(tenant).await?;
    if built_in_role(role).is_none() && !custom.iter().any(|r| r.name == role) {
        return Err(ApiError::not_found(format!(
            "no role `{role}`: use admin, developer, operator, viewer or a custom role of tenant `{tenant}`"
        )));
    }
    let wanted = role_permissions(platform, tenant, role).await?;
    check_within(platform, caller, tenant, &wanted).await
}

async fn check_within(
    platform: &Platform,
    caller: &Caller,
    tenant: &str,
    wanted: &[Permission],
) -> Result<(), ApiError> {
    let held = caller.permissions_in(platform, tenant).await?;
    let missing: Vec<_> = wanted.iter().filter(|p| !held.contains(p)).map(|p| p.name()).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("you cannot grant permissions you do not hold: {}", missing.join(", ")),
        ))
    }
}

/// `GET /api/v1/tenants/{tenant}/members`.
pub async fn members(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let members = platform.store.members(&tenant).await?;
    Ok(Json(json!({ "members": members })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    role: String,
    /// Creates a password user of that name when there is none yet.
    #[schema(min_length = 8, max_length = 256)]
    password: Option<String>,
}

/// `PUT /api/v1/tenants/{tenant}/members/{username}` with `{role, password?}`.
pub async fn set_member(
    State(platform): State<Platform>,
    Path((tenant, username)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: MemberRequest = parse_json(&body)?;
    check_username(&username)?;
    grantable_role(&platform, &caller, &tenant, &request.role).await?;
    let (user, status) = match (platform.store.user_by_name(&username).await?, request.password) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("user `{username}` exists already; leave out `password`"),
            ));
        }
        (Some(user), None) => (user, StatusCode::OK),
        (None, Some(password)) => (
            create_password_user(&platform, &username, password, false).await?,
            StatusCode::CREATED,
        ),
        (None, None) => {
            return Err(ApiError::not_found(format!(
                "no user `{username}`; give a `password` to create one"
            )));
        }
    };
    platform.store.set_membership(&tenant, &user.id, &request.role).await?;
    let body = json!({ "tenant": tenant, "username": user.username, "role": request.role });
    Ok((status, Json(body)).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/members/{username}`.
pub async fn remove_member(
    State(platform): State<Platform>,
    Path((tenant, username)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let user = platform.store.user_by_name(&username).await?;
    let removed = match &user {
        Some(user) => platform.store.remove_membership(&tenant, &user.id).await?,
        None => false,
    };
    if !removed {
        return Err(ApiError::not_found(format!(
            "`{username}` is not a member of tenant `{tenant}`"
        )));
    }
    Ok(Json(json!({ "tenant": tenant, "username": username, "role": null })).into_response())
}

/// `GET /api/v1/tenants/{tenant}/roles`: built-in and custom roles with their permissions.
pub async fn roles(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let mut roles: Vec<Value> = BUILT_IN_ROLES
        .iter()
        .map(|name| {
            let permissions: Vec<_> = built_in_role(name)
                .unwrap_or_default()
                .iter()
                .map(|p| p.name())
                .collect();
            json!({ "name": name, "built_in": true, "permissions": permissions })
        })
        .collect();
    for role in platform.store.roles(&tenant).await? {
        roles.push(json!({ "name": role.name, "built_in": false, "permissions": role.permissions }));
    }
    Ok(Json(json!({ "roles": roles })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    permissions: Vec<String>,
}

/// `PUT /api/v1/tenants/{tenant}/roles/{role}` with `{permissions: [...]}`.
pub async fn put_role(
    State(platform): State<Platform>,
    Path((tenant, role)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RoleRequest = parse_json(&body)?;
    super::check_name("role", &role)?;
    if built_in_role(&role).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("`{role}` is a built-in role and cannot be changed"),
        ));
    }
    let unknown: Vec<_> = request
        .permissions
        .iter()
        .filter(|p| Permission::parse(p).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<_> = Permission::ALL.iter().map(|p| p.name()).collect();
        return Err(ApiError::bad_request(format!(
            "unknown permissions: {}; known: {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    let mut permissions: Vec<Permission> = request
        .permissions
        .iter()
        .filter_map(|p| Permission::parse(p))
        .collect();
    permissions.sort();
    permissions.dedup();
    check_within(&platform, &caller, &tenant, &permissions).await?;
    let role = CustomRole {
        name: role,
        permissions: permissions.iter().map(|p| p.name().to_string()).collect(),
    };
    platform.store.put_role(&tenant, &role).await?;
    Ok(Json(json!({ "name": role.name, "built_in": false, "permissions": role.permissions })).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/roles/{role}`: refused while a member or key holds it.
pub async fn delete_role(
    State(platform): State<Platform>,
    Path((tenant, role)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if platform.store.role_in_use(&tenant, &role).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("role `{role}` is still held by members or API keys of tenant `{tenant}`"),
        ));
    }
    if !platform.store.delete_role(&tenant, &role).await? {
        return Err(ApiError::not_found(format!(
            "tenant `{tenant}` has no custom role `{role}`"
        )));
    }
    Ok(Json(json!({ "name": role, "deleted": true })).into_response())
}
