//! API keys: only their SHA-256 is stored.

use sha2::Digest;
use sqlx::Row;

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// What an API key may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The tenant it is scoped to; `None` for a platform admin key.
    pub tenant: Option<String>,
    /// Its role.
    pub role: String,
}

fn hash_key(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Records `token` as a key (idempotent); used to bootstrap the admin key.
    pub async fn ensure_api_key(&self, token: &str, tenant: Option<&str>, role: &str) -> Result<(), StoreError> {
        let hash = hash_key(token);
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO api_keys (id, tenant, key_hash, role, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING"
        )
        .bind(&hash[..16])
        .bind(tenant)
        .bind(&hash)
        .bind(role)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Whether any platform admin key exists.
    pub async fn has_admin_key(&self) -> Result<bool, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query("SELECT 1 FROM api_keys WHERE tenant IS NULL")
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))?;
        Ok(found)
    }

    /// Looks a presented key up.
    pub async fn key_info(&self, token: &str) -> Result<Option<KeyInfo>, StoreError> {
        let hash = hash_key(token);
        let info = on_pool!(self, |pool| sqlx::query(
            "SELECT tenant, role FROM api_keys WHERE key_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await
        .map(|row| row.map(|r| KeyInfo {
            tenant: r.get("tenant"),
            role: r.get("role"),
        })))?;
        Ok(info)
    }
}
