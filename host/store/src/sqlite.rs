//! The SQLite implementation of the store.

use std::str::FromStr;

use pa_runtime::{KeyValueBackend, KvScope};
use sha2::Digest;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use crate::StoreError;

/// The platform's database.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

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

/// What an API key may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The tenant it is scoped to; `None` for a platform admin key.
    pub tenant: Option<String>,
    /// Its role.
    pub role: String,
}

/// Result of storing a plugin version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new version was recorded.
    Created,
    /// The same bytes were already stored under this version.
    Unchanged,
}

fn hash_key(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Opens (creating if needed) the database at `url` (`sqlite://path`) and migrates it.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Creates the tenant if it does not exist yet.
    pub async fn ensure_tenant(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tenants (id) VALUES (?) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the tenant exists.
    pub async fn tenant_exists(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM tenants WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Who may use the tenant's MCP endpoint (`api-key` or `public`); `None`
    /// when the tenant does not exist.
    pub async fn mcp_access(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT mcp_access FROM tenants WHERE id = ?")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get("mcp_access")))
    }

    /// Sets who may use the tenant's MCP endpoint.
    pub async fn set_mcp_access(&self, tenant: &str, access: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE tenants SET mcp_access = ? WHERE id = ?")
            .bind(access)
            .bind(tenant)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        }
        Ok(())
    }

    /// Records `token` as a key (idempotent); used to bootstrap the admin key.
    pub async fn ensure_api_key(&self, token: &str, tenant: Option<&str>, role: &str) -> Result<(), StoreError> {
        let hash = hash_key(token);
        sqlx::query("INSERT INTO api_keys (id, tenant, key_hash, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(&hash[..16])
            .bind(tenant)
            .bind(&hash)
            .bind(role)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether any platform admin key exists.
    pub async fn has_admin_key(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM api_keys WHERE tenant IS NULL")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Looks a presented key up.
    pub async fn key_info(&self, token: &str) -> Result<Option<KeyInfo>, StoreError> {
        let row = sqlx::query("SELECT tenant, role FROM api_keys WHERE key_hash = ?")
            .bind(hash_key(token))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| KeyInfo {
            tenant: r.get("tenant"),
            role: r.get("role"),
        }))
    }

    /// Records a plugin version; identical bytes are idempotent, different
    /// bytes under an existing version are a conflict.
    pub async fn put_version(&self, tenant: &str, v: &PluginVersion) -> Result<PutOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM plugin_versions WHERE tenant = ? AND name = ? AND version = ?")
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
            "INSERT INTO plugin_versions (tenant, name, version, sha256, world, size) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant)
        .bind(&v.name)
        .bind(&v.version)
        .bind(&v.sha256)
        .bind(&v.world)
        .bind(v.size)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PutOutcome::Created)
    }

    /// One version of a plugin.
    pub async fn version(&self, tenant: &str, name: &str, version: &str) -> Result<Option<PluginVersion>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, version, sha256, world, size, created_at FROM plugin_versions \
             WHERE tenant = ? AND name = ? AND version = ?",
        )
        .bind(tenant)
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every version of every plugin of a tenant, by name then upload time.
    pub async fn versions(&self, tenant: &str) -> Result<Vec<PluginVersion>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, version, sha256, world, size, created_at FROM plugin_versions \
             WHERE tenant = ? ORDER BY name, created_at",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Enables `version` of a plugin with `config`, replacing any enabled version.
    pub async fn set_deployment(&self, d: &Deployment) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO deployments (tenant, name, version, config) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant, name) DO UPDATE SET version = excluded.version, config = excluded.config, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(&d.tenant)
        .bind(&d.name)
        .bind(&d.version)
        .bind(&d.config)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Disables a plugin; returns whether it was enabled.
    pub async fn remove_deployment(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM deployments WHERE tenant = ? AND name = ?")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every enabled plugin (to load at start).
    pub async fn deployments(&self) -> Result<Vec<Deployment>, StoreError> {
        Ok(sqlx::query_as("SELECT tenant, name, version, config FROM deployments")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[async_trait::async_trait]
impl KeyValueBackend for Store {
    async fn get(&self, s: &KvScope, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM kv WHERE tenant = ? AND plugin = ? AND store = ? AND key = ?")
                .bind(&s.tenant)
                .bind(&s.plugin)
                .bind(&s.store)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set(&self, s: &KvScope, key: &str, value: &[u8]) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO kv (tenant, plugin, store, key, value) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (tenant, plugin, store, key) DO UPDATE SET value = excluded.value",
        )
        .bind(&s.tenant)
        .bind(&s.plugin)
        .bind(&s.store)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, s: &KvScope, key: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM kv WHERE tenant = ? AND plugin = ? AND store = ? AND key = ?")
            .bind(&s.tenant)
            .bind(&s.plugin)
            .bind(&s.store)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn exists(&self, s: &KvScope, key: &str) -> anyhow::Result<bool> {
        Ok(KeyValueBackend::get(self, s, key).await?.is_some())
    }

    async fn keys(&self, s: &KvScope) -> anyhow::Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT key FROM kv WHERE tenant = ? AND plugin = ? AND store = ? ORDER BY key")
                .bind(&s.tenant)
                .bind(&s.plugin)
                .bind(&s.store)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        Store::open("sqlite::memory:").await.unwrap()
    }

    fn version(sha: &str) -> PluginVersion {
        PluginVersion {
            name: "hello".into(),
            version: "1.0.0".into(),
            sha256: sha.into(),
            world: "wasi:http/proxy@0.2".into(),
            size: 3,
            created_at: String::new(),
        }
    }

    #[tokio::test]
    async fn versions_are_immutable_and_idempotent() {
        let s = store().await;
        s.ensure_tenant("acme").await.unwrap();
        assert_eq!(
            s.put_version("acme", &version("aa")).await.unwrap(),
            PutOutcome::Created
        );
        assert_eq!(
            s.put_version("acme", &version("aa")).await.unwrap(),
            PutOutcome::Unchanged
        );
        let err = s.put_version("acme", &version("bb")).await.unwrap_err();
        assert!(matches!(err, StoreError::VersionConflict { ref existing, .. } if existing == "aa"));
        assert_eq!(s.versions("acme").await.unwrap().len(), 1);
        assert!(s.versions("other").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn keys_are_stored_hashed_and_scoped() {
        let s = store().await;
        s.ensure_tenant("acme").await.unwrap();
        s.ensure_api_key("secret", Some("acme"), "admin").await.unwrap();
        let info = s.key_info("secret").await.unwrap().unwrap();
        assert_eq!(info.tenant.as_deref(), Some("acme"));
        assert!(s.key_info("other").await.unwrap().is_none());
        assert!(!s.has_admin_key().await.unwrap());
    }

    #[tokio::test]
    async fn mcp_access_defaults_to_api_key_and_is_per_tenant() {
        let s = store().await;
        s.ensure_tenant("acme").await.unwrap();
        s.ensure_tenant("globex").await.unwrap();
        assert_eq!(s.mcp_access("acme").await.unwrap().as_deref(), Some("api-key"));
        s.set_mcp_access("acme", "public").await.unwrap();
        assert_eq!(s.mcp_access("acme").await.unwrap().as_deref(), Some("public"));
        assert_eq!(s.mcp_access("globex").await.unwrap().as_deref(), Some("api-key"));
        assert!(s.mcp_access("nobody").await.unwrap().is_none());
        assert!(matches!(
            s.set_mcp_access("nobody", "public").await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn key_value_is_scoped_per_tenant_and_plugin() {
        let s = store().await;
        let a = KvScope {
            tenant: "a".into(),
            plugin: "p".into(),
            store: "default".into(),
        };
        let b = KvScope {
            tenant: "b".into(),
            ..a.clone()
        };
        s.set(&a, "k", b"v1").await.unwrap();
        assert_eq!(s.get(&a, "k").await.unwrap().as_deref(), Some(&b"v1"[..]));
        assert_eq!(s.get(&b, "k").await.unwrap(), None);
        s.set(&a, "k", b"v2").await.unwrap();
        assert_eq!(s.keys(&a).await.unwrap(), vec!["k".to_string()]);
        s.delete(&a, "k").await.unwrap();
        assert!(!s.exists(&a, "k").await.unwrap());
    }
}
