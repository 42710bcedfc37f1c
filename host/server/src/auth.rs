//! Who is calling: the `Authorization: Bearer` key, resolved once per request.
//! Users and roles come with the control plane; this is the seam they plug into.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use pa_store::KeyInfo;

use crate::error::ApiError;
use crate::platform::Platform;

/// An authenticated caller.
pub struct Caller(pub KeyInfo);

impl Caller {
    /// Allows the caller to act in `tenant`: a platform key, or a key of that tenant.
    pub fn for_tenant(&self, tenant: &str) -> Result<(), ApiError> {
        match &self.0.tenant {
            None => Ok(()),
            Some(t) if t == tenant => Ok(()),
            Some(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this key has no access to tenant `{tenant}`"),
            )),
        }
    }

    /// Allows changes (upload, enable, disable): any role but `viewer`.
    pub fn can_write(&self, tenant: &str) -> Result<(), ApiError> {
        self.for_tenant(tenant)?;
        if self.0.role == "viewer" {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the viewer role cannot change plugins",
            ));
        }
        Ok(())
    }

    /// Allows platform administration (creating tenants).
    pub fn platform_admin(&self) -> Result<(), ApiError> {
        if self.0.tenant.is_none() && self.0.role == "admin" {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs a platform admin key",
            ))
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<Platform> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, platform: &Platform) -> Result<Self, ApiError> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let token = bearer(&parts.headers).ok_or_else(|| unauthorized("missing `Authorization: Bearer <API key>`"))?;
        let info = platform
            .store
            .key_info(token)
            .await?
            .ok_or_else(|| unauthorized("unknown API key"))?;
        Ok(Caller(info))
    }
}
