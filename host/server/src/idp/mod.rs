//! External identity providers: a tenant's LDAP directories and OpenID
//! Connect providers, and signing in the people they vouch for.
//!
//! Each kind turns a sign-in into an [`ExternalIdentity`] (a stable subject,
//! a name and groups); [`sign_in`] maps its groups to a tenant role with the
//! provider's rules and issues the platform's own tokens. A new kind (SAML)
//! adds a variant to [`ProviderConfig`] and a module that yields the same
//! identity.

pub mod ldap;
pub mod oidc;

use axum::http::StatusCode;
use pa_store::User;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;
use utoipa::ToSchema;

use crate::auth::{built_in_role, tokens};
use crate::error::ApiError;
use crate::platform::Platform;

/// A provider's settings, by kind.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProviderConfig {
    /// An LDAP directory (simple bind as the user, groups by search).
    Ldap(ldap::LdapConfig),
    /// An OpenID Connect provider (authorization code flow with PKCE).
    Oidc(oidc::OidcConfig),
}

/// A directory or provider group, and the tenant role its members get.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// Group name (LDAP: its `cn` or DN; OIDC: a value of the groups claim).
    #[schema(min_length = 1, max_length = 1024)]
    pub group: String,
    /// Role in the tenant.
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    pub role: String,
}

/// Who a provider says signed in.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    /// Stable id at the provider (LDAP DN, OIDC `sub`).
    pub subject: String,
    /// A readable name (LDAP uid, OIDC `preferred_username`).
    pub name: String,
    /// The groups the provider puts it in.
    pub groups: Vec<String>,
}

impl ProviderConfig {
    /// The kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderConfig::Ldap(_) => "ldap",
            ProviderConfig::Oidc(_) => "oidc",
        }
    }

    /// The group → role rules, first match wins.
    pub fn roles(&self) -> &[RoleRule] {
        match self {
            ProviderConfig::Ldap(c) => &c.roles,
            ProviderConfig::Oidc(c) => &c.roles,
        }
    }

    /// Checks the settings make sense (no network use).
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.roles().is_empty() {
            return Err(ApiError::bad_request("`roles` must map at least one group to a role"));
        }
        match self {
            ProviderConfig::Ldap(c) => c.validate(),
            ProviderConfig::Oidc(c) => c.validate(),
        }
    }

    /// The settings as an admin may read them: secrets left out.
    pub fn redacted(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = value.as_object_mut()
            && let Some(secret) = fields.remove("client_secret")
        {
            fields.insert("client_secret_set".into(), json!(!secret.is_null()));
        }
        value
    }

    /// The provider's settings as stored for `tenant`.
    pub async fn load(platform: &Platform, tenant: &str, name: &str) -> Result<ProviderConfig, ApiError> {
        let stored = platform
            .store
            .identity_provider(tenant, name)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` has no identity provider `{name}`")))?;
        serde_json::from_str(&stored.config).map_err(ApiError::internal)
    }
}

/// Whether `group` names one of `groups` (case-insensitively, as directories compare).
fn in_group(groups: &[String], group: &str) -> bool {
    groups.iter().any(|g| g.eq_ignore_ascii_case(group))
}

/// The role the first matching rule gives, if any.
pub fn role_for<'a>(rules: &'a [RoleRule], groups: &[String]) -> Option<&'a str> {
    rules
        .iter()
        .find(|rule| in_group(groups, &rule.group))
        .map(|rule| rule.role.as_str())
}

/// A platform username for an external identity: `name@provider.tenant` when
/// it fits the username rules, a hash of the subject otherwise.
fn username_for(tenant: &str, provider: &str, identity: &ExternalIdentity) -> String {
    let name: String = identity
        .name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let readable = format!("{name}@{provider}.{tenant}");
    if !name.is_empty() && readable.len() <= 64 {
        return readable;
    }
    hashed_username(tenant, provider, identity)
}

fn hashed_username(tenant: &str, provider: &str, identity: &ExternalIdentity) -> String {
    let digest = sha2::Sha256::digest(format!("{tenant}\n{provider}\n{}", identity.subject));
    let hashed = format!("x{}@{provider}.{tenant}", &hex::encode(digest)[..16]);
    hashed.chars().take(64).collect()
}

/// The platform user of an external identity, created on first sign-in.
async fn external_user(
    platform: &Platform,
    tenant: &str,
    provider: &str,
    kind: &str,
    identity: &ExternalIdentity,
) -> Result<User, ApiError> {
    if let Some(id) = platform
        .store
        .external_user(tenant, provider, &identity.subject)
        .await?
        && let Some(user) = platform.store.user(&id).await?
    {
        return Ok(user);
    }
    let mut user = User {
        id: tokens::random_token("u_")[..18].to_string(),
        username: username_for(tenant, provider, identity),
        password_hash: None,
        provider: kind.to_string(),
        platform_admin: false,
        created_at: pa_store::now(),
    };
    if let Err(pa_store::StoreError::Conflict(_)) = platform.store.create_user(&user).await {
        user.username = hashed_username(tenant, provider, identity);
        platform.store.create_user(&user).await?;
    }
    platform
        .store
        .link_external_user(tenant, provider, &identity.subject, &user.id)
        .await?;
    Ok(user)
}

/// Signs `identity` in to `tenant` through `provider`: its groups choose the
/// role (set on every sign-in, so directory changes take effect), and the
/// answer carries the platform's access and refresh tokens. Someone whose
/// groups map to no role is refused (403) and loses any earlier membership.
pub async fn sign_in(
    platform: &Platform,
    tenant: &str,
    provider: &str,
    config: &ProviderConfig,
    identity: &ExternalIdentity,
) -> Result<Value, ApiError> {
    let role = role_for(config.roles(), &identity.groups);
    let user = external_user(platform, tenant, provider, config.kind(), identity).await?;
    let Some(role) = role else {
        platform.store.remove_membership(tenant, &user.id).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "`{}` is in no group that provider `{provider}` maps to a role of tenant `{tenant}`",
                identity.name
            ),
        ));
    };
    let custom = platform.store.roles(tenant).await?;
    if built_in_role(role).is_none() && !custom.iter().any(|r| r.name == role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("provider `{provider}` maps to role `{role}`, which tenant `{tenant}` no longer has"),
        ));
    }
    platform.store.set_membership(tenant, &user.id, role).await?;
    let mut pair = crate::api::identity::token_pair(platform, &user, &tokens::random_token("")).await?;
    pair["tenant"] = json!(tenant);
    pair["role"] = json!(role);
    Ok(pair)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str, subject: &str) -> ExternalIdentity {
        ExternalIdentity {
            subject: subject.into(),
            name: name.into(),
            groups: vec![],
        }
    }

    #[test]
    fn the_first_matching_rule_gives_the_role() {
        let rules = vec![
            RoleRule {
                group: "pa-admins".into(),
                role: "admin".into(),
            },
            RoleRule {
                group: "staff".into(),
                role: "viewer".into(),
            },
        ];
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(role_for(&rules, &groups(&["staff", "PA-Admins"])), Some("admin"));
        assert_eq!(role_for(&rules, &groups(&["staff"])), Some("viewer"));
        assert_eq!(role_for(&rules, &groups(&["other"])), None);
    }

    #[test]
    fn usernames_are_readable_when_they_fit() {
        assert_eq!(username_for("acme", "corp", &identity("Alice", "x")), "alice@corp.acme");
        assert_eq!(
            username_for("acme", "corp", &identity("Ana María", "x")),
            "ana-mar-a@corp.acme"
        );
        let long = username_for("acme", "corp", &identity(&"a".repeat(70), "dn=1"));
        assert!(
            long.starts_with('x') && long.ends_with("@corp.acme") && long.len() <= 64,
            "{long}"
        );
        assert_ne!(long, username_for("acme", "corp", &identity(&"a".repeat(70), "dn=2")));
    }
}
