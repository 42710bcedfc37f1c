//! External identity providers per tenant, the users they sign in, and OIDC
//! sign-ins in flight.

use crate::db::{now, on_pool};
use crate::keys::hash_token;
use crate::{Store, StoreError};

/// A tenant's identity provider: its kind and its settings (JSON).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityProvider {
    /// Name, unique in the tenant.
    pub name: String,
    /// `ldap` or `oidc`.
    pub kind: String,
    /// The kind's settings as JSON.
    pub config: String,
}

/// An OIDC sign-in waiting for the provider to send the browser back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OidcLogin {
    /// Tenant signing in to.
    pub tenant: String,
    /// Provider name.
    pub provider: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to send the browser with the tokens (`None`: answer JSON).
    pub return_to: Option<String>,
    /// When the sign-in expires (RFC 3339).
    pub expires_at: String,
}

impl Store {
    /// The tenant's identity providers, by name.
    pub async fn identity_providers(&self, tenant: &str) -> Result<Vec<IdentityProvider>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, kind, config FROM identity_providers WHERE tenant = $1 ORDER BY name"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?)
    }

    /// One identity provider of the tenant.
    pub async fn identity_provider(&self, tenant: &str, name: &str) -> Result<Option<IdentityProvider>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, kind, config FROM identity_providers WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .fetch_optional(pool)
        .await)?)
    }

    /// Creates or replaces an identity provider.
    pub async fn put_identity_provider(&self, tenant: &str, provider: &IdentityProvider) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO identity_providers (tenant, name, kind, config, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, name) DO UPDATE SET kind = excluded.kind, config = excluded.config"
        )
        .bind(tenant)
        .bind(&provider.name)
        .bind(&provider.kind)
        .bind(&provider.config)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes an identity provider; whether it existed.
    pub async fn delete_identity_provider(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM identity_providers WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(removed > 0)
    }

    /// The user a provider's subject signed in as before, if any.
    pub async fn external_user(
        &self,
        tenant: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT user_id FROM external_identities WHERE tenant = $1 AND provider = $2 AND subject = $3"
        )
        .bind(tenant)
        .bind(provider)
        .bind(subject)
        .fetch_optional(pool)
        .await)?;
        Ok(found.map(|(id,)| id))
    }

    /// Remembers that a provider's subject is `user_id`.
    pub async fn link_external_user(
        &self,
        tenant: &str,
        provider: &str,
        subject: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO external_identities (tenant, provider, subject, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, provider, subject) DO UPDATE SET user_id = excluded.user_id"
        )
        .bind(tenant)
        .bind(provider)
        .bind(subject)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Records an OIDC sign-in under its `state` (kept only as a hash).
    pub async fn put_oidc_login(&self, state: &str, login: &OidcLogin) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO oidc_logins (state_hash, tenant, provider, nonce, verifier, return_to, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(hash_token(state))
        .bind(&login.tenant)
        .bind(&login.provider)
        .bind(&login.nonce)
        .bind(&login.verifier)
        .bind(&login.return_to)
        .bind(&login.expires_at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Takes the unexpired sign-in of `state` (each is usable once); expired
    /// ones are removed on the way.
    pub async fn take_oidc_login(&self, state: &str) -> Result<Option<OidcLogin>, StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM oidc_logins WHERE expires_at < $1"
        )
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "DELETE FROM oidc_logins WHERE state_hash = $1 \
             RETURNING tenant, provider, nonce, verifier, return_to, expires_at"
        )
        .bind(hash_token(state))
        .fetch_optional(pool)
        .await)?)
    }
}
