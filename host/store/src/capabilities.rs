//! What the host capabilities keep per tenant: the chat-model provider and
//! the versions of published sites.

use crate::db::{begin_write, now, on_pool};
use crate::{Store, StoreError};

/// A tenant's OpenAI-compatible chat-model provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelProvider {
    /// Base URL of the API, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// The API key, sealed with the platform secret (`None`: no key).
    pub api_key_sealed: Option<String>,
    /// When it was last set.
    pub updated_at: String,
}

/// One published version of a site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SiteVersion {
    /// 1, 2, … per publication.
    pub version: i64,
    /// Its files as a JSON object of path → SHA-256 of the content blob.
    pub files: String,
    /// Bytes of its files.
    pub bytes: i64,
    /// The plugin that published it.
    pub plugin: String,
    /// When.
    pub created_at: String,
}

/// A site and the version it serves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Site {
    /// Name, unique in the tenant.
    pub name: String,
    /// The version served.
    pub live_version: i64,
    /// When the live version last changed.
    pub updated_at: String,
}

impl Store {
    /// The tenant's model provider, if one is set.
    pub async fn model_provider(&self, tenant: &str) -> Result<Option<ModelProvider>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT base_url, model, api_key_sealed, updated_at FROM model_providers WHERE tenant = $1"
        )
        .bind(tenant)
        .fetch_optional(pool)
        .await)?)
    }

    /// Sets the tenant's model provider.
    pub async fn put_model_provider(&self, tenant: &str, provider: &ModelProvider) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO model_providers (tenant, base_url, model, api_key_sealed, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant) DO UPDATE SET base_url = excluded.base_url, model = excluded.model, \
             api_key_sealed = excluded.api_key_sealed, updated_at = excluded.updated_at"
        )
        .bind(tenant)
        .bind(&provider.base_url)
        .bind(&provider.model)
        .bind(&provider.api_key_sealed)
        .bind(&provider.updated_at)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Removes the tenant's model provider; whether there was one.
    pub async fn delete_model_provider(&self, tenant: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM model_providers WHERE tenant = $1"
        )
        .bind(tenant)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(removed > 0)
    }

    /// Records `files` (JSON path → blob digest) as the new live version of
    /// the tenant's site `name`, published by `plugin`; returns its number.
    pub async fn publish_site(
        &self,
        tenant: &str,
        name: &str,
        files: &str,
        bytes: i64,
        plugin: &str,
    ) -> Result<i64, StoreError> {
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin_write(pool)).await?;
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM site_versions WHERE tenant = $1 AND name = $2")
                    .bind(tenant)
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
            let version = latest.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO sites (tenant, name, live_version, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, name) DO UPDATE SET live_version = excluded.live_version, updated_at = excluded.updated_at",
            )
            .bind(tenant)
            .bind(name)
            .bind(version)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO site_versions (tenant, name, version, files, bytes, plugin, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant)
            .bind(name)
            .bind(version)
            .bind(files)
            .bind(bytes)
            .bind(plugin)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(version)
        })
    }

    /// The tenant's sites, by name.
    pub async fn sites(&self, tenant: &str) -> Result<Vec<Site>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, live_version, updated_at FROM sites WHERE tenant = $1 ORDER BY name"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?)
    }

    /// One site of the tenant.
    pub async fn site(&self, tenant: &str, name: &str) -> Result<Option<Site>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, live_version, updated_at FROM sites WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .fetch_optional(pool)
        .await)?)
    }

    /// Every version of a site, newest first.
    pub async fn site_versions(&self, tenant: &str, name: &str) -> Result<Vec<SiteVersion>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT version, files, bytes, plugin, created_at FROM site_versions \
             WHERE tenant = $1 AND name = $2 ORDER BY version DESC"
        )
        .bind(tenant)
        .bind(name)
        .fetch_all(pool)
        .await)?)
    }

    /// One version of a site.
    pub async fn site_version(
        &self,
        tenant: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<SiteVersion>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT version, files, bytes, plugin, created_at FROM site_versions \
             WHERE tenant = $1 AND name = $2 AND version = $3"
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .fetch_optional(pool)
        .await)?)
    }

    /// Serves `version` of the site again; false if the site has no such version.
    pub async fn set_live_site_version(&self, tenant: &str, name: &str, version: i64) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE sites SET live_version = $3, updated_at = $4 WHERE tenant = $1 AND name = $2 \
             AND EXISTS (SELECT 1 FROM site_versions v WHERE v.tenant = $1 AND v.name = $2 AND v.version = $3)"
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }
}
