//! API keys: only their SHA-256 is stored; they can expire and be revoked.

use sha2::Digest;

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct KeyInfo {
    /// Public id (the first 16 hex digits of the key's hash).
    pub id: String,
    /// The tenant it is scoped to; `None` for a platform admin key.
    pub tenant: Option<String>,
    /// Its role.
    pub role: String,
    /// A label given at creation.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A key to record: the secret itself is only hashed.
pub struct NewKey<'a> {
    /// The secret token shown once to its owner.
    pub token: &'a str,
    /// Tenant scope (`None`: platform-wide).
    pub tenant: Option<&'a str>,
    /// Role name.
    pub role: &'a str,
    /// Label.
    pub name: &'a str,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<&'a str>,
}

/// The SHA-256 of a secret token, as stored.
pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

const KEY_COLUMNS: &str = "SELECT id, tenant, role, name, created_at, expires_at, revoked_at FROM api_keys";

impl Store {
    /// Records a key (idempotent for the same token); returns its id.
    pub async fn insert_api_key(&self, key: &NewKey<'_>) -> Result<String, StoreError> {
        let hash = hash_token(key.token);
        let id = hash[..16].to_string();
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO api_keys (id, tenant, key_hash, role, name, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
        )
        .bind(&id)
        .bind(key.tenant)
        .bind(&hash)
        .bind(key.role)
        .bind(key.name)
        .bind(key.expires_at)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(id)
    }

    /// Whether any platform admin key exists.
    pub async fn has_admin_key(&self) -> Result<bool, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query("SELECT 1 FROM api_keys WHERE tenant IS NULL")
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))?;
        Ok(found)
    }

    /// Looks a presented key up (expired and revoked keys included: the caller decides).
    pub async fn key_info(&self, token: &str) -> Result<Option<KeyInfo>, StoreError> {
        let sql = format!("{KEY_COLUMNS} WHERE key_hash = $1");
        let hash = hash_token(token);
        let info = on_pool!(self, |pool| sqlx::query_as(&sql).bind(&hash).fetch_optional(pool).await)?;
        Ok(info)
    }

    /// The keys of a tenant, newest first.
    pub async fn api_keys(&self, tenant: &str) -> Result<Vec<KeyInfo>, StoreError> {
        let sql = format!("{KEY_COLUMNS} WHERE tenant = $1 ORDER BY created_at DESC, id");
        let keys = on_pool!(self, |pool| sqlx::query_as(&sql).bind(tenant).fetch_all(pool).await)?;
        Ok(keys)
    }

    /// Revokes a key of `tenant`; `NotFound` if it has no such key.
    pub async fn revoke_api_key(&self, tenant: &str, id: &str) -> Result<KeyInfo, StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL"
        )
        .bind(&at)
        .bind(tenant)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        let sql = format!("{KEY_COLUMNS} WHERE tenant = $1 AND id = $2");
        let key: Option<KeyInfo> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        key.ok_or_else(|| StoreError::NotFound(format!("API key `{id}`")))
    }
}
