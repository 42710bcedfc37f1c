//! Uploaded plugin versions (immutable) and the enabled deployment of each plugin.

use crate::db::{begin_write, now, on_pool};
use crate::{Store, StoreError};

/// An uploaded plugin version.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PluginVersion {
    /// Plugin name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// World the component implements.
    pub world: String,
    /// Size in bytes.
    pub size: i64,
    /// Upload time (RFC 3339).
    pub created_at: String,
}

/// The enabled version of a plugin with its configuration (JSON).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Deployment {
    /// Tenant id.
    pub tenant: String,
    /// Plugin name.
    pub name: String,
    /// Enabled version.
    pub version: String,
    /// Grants, limits and access as JSON.
    pub config: String,
}

/// Result of storing a plugin version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new version was recorded.
    Created,
    /// The same bytes were already stored under this version.
    Unchanged,
}

const VERSION_COLUMNS: &str = "SELECT name, version, sha256, world, size, created_at FROM plugin_versions";

impl Store {
    /// Records a plugin version; identical bytes are idempotent, different
    /// bytes under an existing version are a conflict.
    pub async fn put_version(&self, tenant: &str, v: &PluginVersion) -> Result<PutOutcome, StoreError> {
        let at = now();
        on_pool!(self, |pool| {
            // A write lock from the start: SQLite cannot turn a read that saw
            // an older snapshot into a write (it would answer "database is locked").
            let mut tx = pool.begin_with(begin_write(pool)).await?;
            let existing: Option<String> = sqlx::query_scalar(
                "SELECT sha256 FROM plugin_versions WHERE tenant = $1 AND name = $2 AND version = $3",
            )
            .bind(tenant)
            .bind(&v.name)
            .bind(&v.version)
            .fetch_optional(&mut *tx)
            .await?;
            match existing {
                Some(sha) if sha == v.sha256 => return Ok(PutOutcome::Unchanged),
                Some(sha) => {
                    return Err(StoreError::VersionConflict {
                        name: v.name.clone(),
                        version: v.version.clone(),
                        existing: sha,
                    });
                }
                None => {}
            }
            sqlx::query(
                "INSERT INTO plugin_versions (tenant, name, version, sha256, world, size, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant)
            .bind(&v.name)
            .bind(&v.version)
            .bind(&v.sha256)
            .bind(&v.world)
            .bind(v.size)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(PutOutcome::Created)
    }

    /// One version of a plugin.
    pub async fn version(&self, tenant: &str, name: &str, version: &str) -> Result<Option<PluginVersion>, StoreError> {
        let sql = format!("{VERSION_COLUMNS} WHERE tenant = $1 AND name = $2 AND version = $3");
        let found = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(tenant)
            .bind(name)
            .bind(version)
            .fetch_optional(pool)
            .await)?;
        Ok(found)
    }

    /// Every version of every plugin of a tenant, by name then upload time.
    pub async fn versions(&self, tenant: &str) -> Result<Vec<PluginVersion>, StoreError> {
        let sql = format!("{VERSION_COLUMNS} WHERE tenant = $1 ORDER BY name, created_at");
        let all = on_pool!(self, |pool| sqlx::query_as(&sql).bind(tenant).fetch_all(pool).await)?;
        Ok(all)
    }

    /// Enables `version` of a plugin with `config`, replacing any enabled version.
    pub async fn set_deployment(&self, d: &Deployment) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO deployments (tenant, name, version, config, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, name) DO UPDATE SET version = excluded.version, config = excluded.config, \
             updated_at = excluded.updated_at",
        )
        .bind(&d.tenant)
        .bind(&d.name)
        .bind(&d.version)
        .bind(&d.config)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Disables a plugin; returns whether it was enabled.
    pub async fn remove_deployment(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM deployments WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0))?;
        Ok(removed)
    }

    /// The enabled version of one plugin, if it is enabled.
    pub async fn deployment(&self, tenant: &str, name: &str) -> Result<Option<Deployment>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT tenant, name, version, config FROM deployments WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .fetch_optional(pool)
        .await)?)
    }

    /// Every enabled plugin (to load at start).
    pub async fn deployments(&self) -> Result<Vec<Deployment>, StoreError> {
        let all = on_pool!(self, |pool| sqlx::query_as(
            "SELECT tenant, name, version, config FROM deployments"
        )
        .fetch_all(pool)
        .await)?;
        Ok(all)
    }
}
