//! Identity providers: tenant admins configure them; anyone signs in with
//! them (LDAP with a password, OIDC through the provider's pages).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pa_store::{IdentityProvider, OidcLogin};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::identity::{grantable_role, with_actor};
use super::{check_name, parse_json};
use crate::auth::{Caller, tokens};
use crate::error::ApiError;
use crate::idp::{self, ProviderConfig, ldap, oidc};
use crate::platform::Platform;

/// How long a started OIDC sign-in may wait for the provider's answer.
const OIDC_LOGIN_TTL: std::time::Duration = std::time::Duration::from_secs(600);

fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    params
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// `GET /api/v1/tenants/{tenant}/identity-providers`: settings without secrets.
pub async fn list(State(platform): State<Platform>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let mut providers = Vec::new();
    for stored in platform.store.identity_providers(&tenant).await? {
        let config: ProviderConfig = serde_json::from_str(&stored.config).map_err(ApiError::internal)?;
        let mut entry = config.redacted();
        entry["name"] = json!(stored.name);
        providers.push(entry);
    }
    Ok(Json(json!({ "providers": providers })).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/identity-providers/{provider}`: the roles it
/// maps groups to must be ones the caller could grant.
pub async fn put(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("identity provider", &name)?;
    let config: ProviderConfig = parse_json(&body)?;
    config.validate()?;
    for rule in config.roles() {
        grantable_role(&platform, &caller, &tenant, &rule.role).await?;
    }
    let stored = IdentityProvider {
        name: name.clone(),
        kind: config.kind().to_string(),
        config: serde_json::to_string(&config).map_err(ApiError::internal)?,
    };
    platform.store.put_identity_provider(&tenant, &stored).await?;
    let mut body = config.redacted();
    body["name"] = json!(name);
    Ok(Json(body).into_response())
}

/// `DELETE /api/v1/tenants/{tenant}/identity-providers/{provider}`.
pub async fn delete(
    State(platform): State<Platform>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if !platform.store.delete_identity_provider(&tenant, &name).await? {
        return Err(ApiError::not_found(format!(
            "tenant `{tenant}` has no identity provider `{name}`"
        )));
    }
    Ok(Json(json!({ "name": name, "deleted": true })).into_response())
}

/// `?tenant=` of the public provider list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantParam {
    tenant: String,
}

/// `GET /api/v1/auth/providers?tenant=T`: the sign-in options of a tenant
/// (for a sign-in page), without settings.
pub async fn public_list(
    State(platform): State<Platform>,
    params: Result<Query<TenantParam>, QueryRejection>,
) -> Result<Response, ApiError> {
    let TenantParam { tenant } = query(params)?;
    if !platform.store.tenant_exists(&tenant).await? {
        return Err(ApiError::not_found(format!("tenant `{tenant}` not found")));
    }
    let providers: Vec<Value> = platform
        .store
        .identity_providers(&tenant)
        .await?
        .into_iter()
        .map(|p| json!({ "name": p.name, "kind": p.kind }))
        .collect();
    Ok(Json(json!({ "tenant": tenant, "providers": providers })).into_response())
}

/// `POST /api/v1/auth/ldap/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapLogin {
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    tenant: String,
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    provider: String,
    #[schema(min_length = 1, max_length = 256)]
    username: String,
    #[schema(min_length = 1, max_length = 1024)]
    password: String,
}

/// `POST /api/v1/auth/ldap/login` with `{tenant, provider, username, password}`.
pub async fn ldap_login(State(platform): State<Platform>, body: Bytes) -> Result<Response, ApiError> {
    let login: LdapLogin = parse_json(&body)?;
    let actor = format!("user:{}@{}.{}", login.username, login.provider, login.tenant);
    let config = match ProviderConfig::load(&platform, &login.tenant, &login.provider).await? {
        ProviderConfig::Ldap(config) => config,
        other => {
            return Err(ApiError::bad_request(format!(
                "identity provider `{}` is {}, not LDAP",
                login.provider,
                other.kind()
            )));
        }
    };
    let result = async {
        let identity = ldap::authenticate(&config, &login.username, &login.password).await?;
        let provider = ProviderConfig::Ldap(config);
        idp::sign_in(&platform, &login.tenant, &login.provider, &provider, &identity).await
    }
    .await;
    let response = match result {
        Ok(pair) => Json(pair).into_response(),
        Err(e) => e.into_response(),
    };
    Ok(with_actor(response, actor))
}

/// `?tenant=&provider=&return_to=` of the OIDC start.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcStartParams {
    tenant: String,
    provider: String,
    return_to: Option<String>,
}

async fn oidc_config(platform: &Platform, tenant: &str, provider: &str) -> Result<oidc::OidcConfig, ApiError> {
    match ProviderConfig::load(platform, tenant, provider).await? {
        ProviderConfig::Oidc(config) => Ok(config),
        other => Err(ApiError::bad_request(format!(
            "identity provider `{provider}` is {}, not OIDC",
            other.kind()
        ))),
    }
}

/// A path on this platform to send the browser back to (never another site).
fn check_return_to(return_to: &str) -> Result<(), ApiError> {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains(['\\', '#', '\0'])
        && !return_to.chars().any(char::is_control);
    if local {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid return_to `{return_to}`: use a path on this platform, such as /console"
        )))
    }
}

/// `GET /api/v1/auth/oidc/start?tenant=T&provider=P[&return_to=/path]`:
/// sends the browser to the provider (303).
pub async fn oidc_start(
    State(platform): State<Platform>,
    params: Result<Query<OidcStartParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    if let Some(return_to) = &params.return_to {
        check_return_to(return_to)?;
    }
    let config = oidc_config(&platform, &params.tenant, &params.provider).await?;
    let state = tokens::random_token("");
    let start = oidc::start(&config, &state).await?;
    let login = OidcLogin {
        tenant: params.tenant,
        provider: params.provider,
        nonce: start.nonce,
        verifier: start.verifier,
        return_to: params.return_to,
        expires_at: tokens::rfc3339_in(OIDC_LOGIN_TTL),
    };
    platform.store.put_oidc_login(&state, &login).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, start.location)]).into_response())
}

/// What the provider sends the browser back with.
#[derive(Deserialize)]
pub struct OidcCallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /api/v1/auth/oidc/callback?code=…&state=…`: finishes the sign-in;
/// answers the tokens as JSON, or sends the browser to the start's
/// `return_to` with them in the fragment.
pub async fn oidc_callback(
    State(platform): State<Platform>,
    params: Result<Query<OidcCallbackParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(params)?;
    let state = params.state.ok_or_else(|| ApiError::bad_request("missing `state`"))?;
    let login = platform.store.take_oidc_login(&state).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown, used or expired sign-in (`state`); start again",
        )
    })?;
    let actor = format!("oidc:{}.{}", login.provider, login.tenant);
    if let Some(error) = params.error {
        let detail = params.error_description.unwrap_or_default();
        let refused = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("the OpenID provider refused the sign-in: {error} {detail}")
                .trim_end()
                .to_string(),
        );
        return Ok(with_actor(refused.into_response(), actor));
    }
    let code = params.code.ok_or_else(|| ApiError::bad_request("missing `code`"))?;
    let result = async {
        let config = oidc_config(&platform, &login.tenant, &login.provider).await?;
        let identity = oidc::finish(&config, &code, &login.verifier, &login.nonce).await?;
        let provider = ProviderConfig::Oidc(config);
        idp::sign_in(&platform, &login.tenant, &login.provider, &provider, &identity).await
    }
    .await;
    let response = match (result, login.return_to) {
        (Ok(pair), None) => Json(pair).into_response(),
        (Ok(pair), Some(return_to)) => {
            let fragment = reqwest::Url::parse_with_params(
                "http://fragment/",
                [
                    ("access_token", pair["access_token"].as_str().unwrap_or_default()),
                    ("refresh_token", pair["refresh_token"].as_str().unwrap_or_default()),
                    ("expires_in", &pair["expires_in"].to_string()),
                    ("tenant", &login.tenant),
                ],
            )
            .map_err(ApiError::internal)?;
            let location = format!("{return_to}#{}", fragment.query().unwrap_or_default());
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        (Err(e), _) => e.into_response(),
    };
    Ok(with_actor(response, actor))
}
