//! LDAP sign-in: a simple bind as the user (DN from a template), then the
//! user's groups by a search made with that bind.

use std::time::Duration;

use axum::http::StatusCode;
use ldap3::{LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, dn_escape, ldap_escape};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ExternalIdentity, RoleRule};
use crate::error::ApiError;

/// How long connecting and each directory operation may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// LDAP result code of a refused bind.
const INVALID_CREDENTIALS: u32 = 49;

/// An LDAP directory's settings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldap://host:port` or `ldaps://host:port`.
    #[schema(pattern = "^ldaps?://[^\\x00]+$")]
    pub url: String,
    /// The user's DN, with `{username}` where the (escaped) username goes,
    /// e.g. `uid={username},ou=people,dc=example,dc=org`.
    #[schema(pattern = "^[^\\x00]*\\{username\\}[^\\x00]*$")]
    pub user_dn: String,
    /// Where groups are searched.
    #[schema(pattern = "^[^\\x00]+$")]
    pub group_base: String,
    /// The group search filter; `{dn}` is the user's DN and `{username}` the
    /// username, both escaped.
    #[serde(default = "default_group_filter")]
    #[schema(pattern = "^\\([^\\x00]*\\)$")]
    pub group_filter: String,
    /// Groups (by `cn` or DN) and the roles they give, first match wins.
    #[schema(min_items = 1)]
    pub roles: Vec<RoleRule>,
}

fn default_group_filter() -> String {
    "(member={dn})".into()
}

impl LdapConfig {
    /// Checks the settings' shape.
    pub fn validate(&self) -> Result<(), ApiError> {
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return Err(ApiError::bad_request(format!(
                "invalid LDAP url `{}`: use ldap://host:port or ldaps://host:port",
                self.url
            )));
        }
        if !self.user_dn.contains("{username}") {
            return Err(ApiError::bad_request(
                "`user_dn` must contain `{username}`, e.g. uid={username},ou=people,dc=example,dc=org",
            ));
        }
        if !(self.group_filter.starts_with('(') && self.group_filter.ends_with(')')) {
            return Err(ApiError::bad_request(format!(
                "invalid `group_filter` `{}`: an LDAP filter is in parentheses",
                self.group_filter
            )));
        }
        if [&self.url, &self.user_dn, &self.group_base, &self.group_filter]
            .iter()
            .any(|s| s.contains('\0'))
        {
            return Err(ApiError::bad_request("LDAP settings must not contain NUL characters"));
        }
        Ok(())
    }
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "identity_provider_failed",
        format!("the LDAP directory failed: {e}"),
    )
}

fn wrong_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "wrong username or password")
}

/// Binds as `username` with `password` and reads the user's groups. A wrong
/// password is 401; an unreachable or failing directory 502.
pub async fn authenticate(config: &LdapConfig, username: &str, password: &str) -> Result<ExternalIdentity, ApiError> {
    // An empty password would be an unauthenticated bind, which "succeeds".
    if username.is_empty() || password.is_empty() || username.contains('\0') || password.contains('\0') {
        return Err(wrong_credentials());
    }
    let dn = config.user_dn.replace("{username}", &dn_escape(username));
    let settings = LdapConnSettings::new().set_conn_timeout(TIMEOUT);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &config.url)
        .await
        .map_err(unavailable)?;
    ldap3::drive!(conn);
    ldap.with_timeout(TIMEOUT);
    match ldap.simple_bind(&dn, password).await.map_err(unavailable)?.success() {
        Ok(_) => {}
        Err(LdapError::LdapResult { result }) if result.rc == INVALID_CREDENTIALS => {
            return Err(wrong_credentials());
        }
        Err(e) => return Err(unavailable(e)),
    }
    let filter = config
        .group_filter
        .replace("{dn}", &ldap_escape(&dn))
        .replace("{username}", &ldap_escape(username));
    ldap.with_timeout(TIMEOUT);
    let (entries, _) = ldap
        .search(&config.group_base, Scope::Subtree, &filter, vec!["cn"])
        .await
        .map_err(unavailable)?
        .success()
        .map_err(unavailable)?;
    let _ = ldap.unbind().await;
    let mut groups = Vec::new();
    for entry in entries {
        let entry = SearchEntry::construct(entry);
        groups.extend(entry.attrs.get("cn").into_iter().flatten().cloned());
        groups.push(entry.dn);
    }
    Ok(ExternalIdentity {
        subject: dn,
        name: username.to_string(),
        groups,
    })
}
