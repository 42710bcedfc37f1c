//! Who is calling and what they may do: API keys and signed-in users
//! (`Authorization: Bearer <API key | access token>`), roles made of
//! [`Permission`]s, and the one middleware that checks every API endpoint's
//! declared [`Access`] and records state-changing calls in the audit log.

mod permissions;
mod seal;
mod secrets;
pub mod tokens;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use pa_store::{KeyInfo, NewAudit, User};

pub use permissions::{BUILT_IN_ROLES, Permission, built_in_role};
pub use seal::Sealer;
pub use secrets::{Secrets, secret_key_path, write_secret_key};

use crate::error::ApiError;
use crate::platform::Platform;
use crate::telemetry;

/// Who an endpoint is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in).
    Public,
    /// Any authenticated caller.
    SignedIn,
    /// Platform administrators only.
    PlatformAdmin,
    /// Callers holding the permission in the path's `{tenant}`.
    Tenant(Permission),
}

impl Access {
    /// How the docs name it.
    pub fn describe(self) -> String {
        match self {
            Access::Public => "public".into(),
            Access::SignedIn => "signed in".into(),
            Access::PlatformAdmin => "platform admin".into(),
            Access::Tenant(p) => format!("`{p}`"),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An API key (checked: not revoked, not expired).
    Key(KeyInfo),
    /// A signed-in user.
    User(User),
}

impl Caller {
    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        match self {
            Caller::Key(k) => format!("key:{}", k.id),
            Caller::User(u) => format!("user:{}", u.username),
        }
    }

    /// Whether the caller administers the whole platform.
    pub fn is_platform_admin(&self) -> bool {
        match self {
            Caller::Key(k) => k.tenant.is_none() && k.role == "admin",
            Caller::User(u) => u.platform_admin,
        }
    }

    /// The caller's role in `tenant`, if any.
    pub async fn role_in(&self, platform: &Platform, tenant: &str) -> Result<Option<String>, ApiError> {
        if self.is_platform_admin() {
            return Ok(Some("admin".into()));
        }
        Ok(match self {
            Caller::Key(k) if k.tenant.as_deref() == Some(tenant) => Some(k.role.clone()),
            Caller::Key(_) => None,
            Caller::User(u) => telemetry::store("membership", platform.store.membership(tenant, &u.id)).await?,
        })
    }

    /// The permissions the caller holds in `tenant` (none outside its
    /// tenants): its role's, and for a member, those of the roles of its teams
    /// and of the teams above them.
    pub async fn permissions_in(&self, platform: &Platform, tenant: &str) -> Result<Vec<Permission>, ApiError> {
        let Some(role) = self.role_in(platform, tenant).await? else {
            return Ok(Vec::new());
        };
        let mut held = role_permissions(platform, tenant, &role).await?;
        if let Caller::User(user) = self
            && !self.is_platform_admin()
        {
            for team_role in telemetry::store("team_roles", platform.store.team_roles(tenant, &user.id)).await? {
                held.extend(role_permissions(platform, tenant, &team_role).await?);
            }
            held.sort();
            held.dedup();
        }
        Ok(held)
    }
}

/// The permissions of `role` in `tenant`: built-in or the tenant's custom role.
pub async fn role_permissions(platform: &Platform, tenant: &str, role: &str) -> Result<Vec<Permission>, ApiError> {
    if let Some(permissions) = built_in_role(role) {
        return Ok(permissions);
    }
    let custom = telemetry::store("roles", platform.store.roles(tenant)).await?;
    Ok(custom
        .into_iter()
        .find(|r| r.name == role)
        .map(|r| r.permissions.iter().filter_map(|p| Permission::parse(p)).collect())
        .unwrap_or_default())
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Resolves the bearer credentials: `Ok(None)` when there are none, 401 when
/// they are unknown, revoked, expired or forged.
pub async fn authenticate(platform: &Platform, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    if tokens::looks_like_jwt(token) {
        let claims = tokens::verify_access(&platform.secrets.jwt, token).map_err(unauthorized)?;
        let user = telemetry::store("user", platform.store.user(&claims.sub)).await?;
        let user = user.ok_or_else(|| unauthorized("the access token's user no longer exists"))?;
        return Ok(Some(Caller::User(user)));
    }
    let key = telemetry::store("key_info", platform.store.key_info(token)).await?;
    let key = key.ok_or_else(|| unauthorized("unknown API key"))?;
    if key.revoked_at.is_some() {
        return Err(unauthorized(format!("API key `{}` has been revoked", key.id)));
    }
    if key
        .expires_at
        .as_deref()
        .is_some_and(|at| at <= pa_store::now().as_str())
    {
        return Err(unauthorized(format!("API key `{}` has expired", key.id)));
    }
    Ok(Some(Caller::Key(key)))
}

/// Checks that `caller` holds `permission` in `tenant` (403 otherwise).
pub async fn require(
    platform: &Platform,
    caller: &Caller,
    tenant: &str,
    permission: Permission,
) -> Result<(), ApiError> {
    let held = caller.permissions_in(platform, tenant).await?;
    if held.contains(&permission) {
        return Ok(());
    }
    let message = if held.is_empty() {
        format!("{} has no access to tenant `{tenant}`", caller.actor())
    } else {
        format!(
            "{} lacks the permission `{permission}` in tenant `{tenant}`",
            caller.actor()
        )
    };
    Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", message))
}

/// The endpoint an [`authorize`] layer guards.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// Who may call it.
    pub access: Access,
    /// Its name in the audit log.
    pub action: &'static str,
}

/// The name a handler gives the actor when the caller was not authenticated
/// (e.g. the username at sign-in), for the audit log.
#[derive(Clone)]
pub struct AuditActor(pub String);

/// The middleware of every API endpoint: authenticates, checks the endpoint's
/// [`Access`], makes the [`Caller`] available to the handler, and appends every
/// state-changing call (allowed or not) to the tenant's audit chain.
pub async fn authorize(State((platform, guard)): State<(Platform, Guard)>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let tenant = tenant_param(&mut parts, &platform).await;
    let caller = authenticate(&platform, &parts.headers).await;
    let known = caller.as_ref().ok().cloned().flatten();
    let audited = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let entry = audited.then(|| audit_entry(&parts, tenant.as_deref(), guard.action, known.as_ref()));
    let allowed = match caller {
        Ok(caller) => check(&platform, guard.access, caller, tenant.as_deref()).await,
        Err(e) => Err(e),
    };
    let response = match allowed {
        Ok(caller) => {
            let mut request = Request::from_parts(parts, body);
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(e) => {
            // Read a small body before refusing, so the client gets the answer
            // instead of a connection closed under its upload.
            let _ = axum::body::to_bytes(body, REFUSED_BODY_DRAIN).await;
            axum::response::IntoResponse::into_response(e)
        }
    };
    if let Some(mut entry) = entry {
        if let Some(AuditActor(actor)) = response.extensions().get::<AuditActor>() {
            entry.actor = actor.clone();
        }
        entry.outcome = match response.status().as_u16() {
            200..=399 => "success",
            401 | 403 => "denied",
            _ => "failure",
        }
        .into();
        entry.detail = serde_json::json!({ "status": response.status().as_u16() }).to_string();
        if let Err(e) = platform.store.append_audit(&platform.secrets.audit, entry).await {
            tracing::error!(error = %e, "could not append to the audit log");
        }
    }
    response
}

async fn tenant_param(parts: &mut Parts, platform: &Platform) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, platform).await.ok()?;
    params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v.to_string())
}

/// Bodies up to this size are read before a refusal is sent.
const REFUSED_BODY_DRAIN: usize = 1 << 20;

async fn check(
    platform: &Platform,
    access: Access,
    caller: Option<Caller>,
    tenant: Option<&str>,
) -> Result<Option<Caller>, ApiError> {
    if access == Access::Public {
        return Ok(caller);
    }
    let caller = caller.ok_or_else(|| unauthorized("missing `Authorization: Bearer <API key or access token>`"))?;
    match access {
        Access::Public | Access::SignedIn => {}
        Access::PlatformAdmin if caller.is_platform_admin() => {}
        Access::PlatformAdmin => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs a platform administrator",
            ));
        }
        Access::Tenant(permission) => {
            let tenant = tenant.expect("tenant endpoints have a {tenant} parameter");
            crate::api::check_name("tenant", tenant)?;
            require(platform, &caller, tenant, permission).await?;
            if !platform.store.tenant_exists(tenant).await? {
                return Err(ApiError::not_found(format!("tenant `{tenant}` does not exist")));
            }
        }
    }
    Ok(Some(caller))
}

fn audit_entry(parts: &Parts, tenant: Option<&str>, action: &str, caller: Option<&Caller>) -> NewAudit {
    let path = parts.uri.path();
    let target = match tenant {
        Some(t) => path
            .strip_prefix(&format!("/api/v1/tenants/{t}"))
            .unwrap_or(path)
            .to_string(),
        None => path.strip_prefix("/api/v1").unwrap_or(path).to_string(),
    };
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    NewAudit {
        tenant: tenant.unwrap_or_default().to_string(),
        actor: caller.map(Caller::actor).unwrap_or_else(|| "anonymous".into()),
        action: action.to_string(),
        target,
        outcome: String::new(),
        source_ip,
        request_id,
        detail: String::new(),
    }
}

impl FromRequestParts<Platform> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Platform) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| unauthorized("missing `Authorization: Bearer <API key or access token>`"))
    }
}
