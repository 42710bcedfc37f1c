//! Tenants and their settings.

use sqlx::Row;

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// A tenant as the platform administrator lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub id: String,
    /// Its billing plan.
    pub plan: String,
    /// Who may use its MCP endpoint.
    pub mcp_access: String,
    /// When it was created.
    pub created_at: String,
}

impl Store {
    /// Every tenant, by id.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let tenants = on_pool!(self, |pool| sqlx::query_as::<_, Tenant>(
            "SELECT id, plan, mcp_access, created_at FROM tenants ORDER BY id"
        )
        .fetch_all(pool)
        .await)?;
        Ok(tenants)
    }

    /// Creates the tenant if it does not exist yet.
    pub async fn ensure_tenant(&self, id: &str) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Whether the tenant exists.
    pub async fn tenant_exists(&self, id: &str) -> Result<bool, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))?;
        Ok(found)
    }

    /// Who may use the tenant's MCP endpoint (`api-key` or `public`); `None`
    /// when the tenant does not exist.
    pub async fn mcp_access(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        let access = on_pool!(self, |pool| sqlx::query("SELECT mcp_access FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await
            .map(|row| row.map(|r| r.get("mcp_access"))))?;
        Ok(access)
    }

    /// Sets who may use the tenant's MCP endpoint.
    pub async fn set_mcp_access(&self, tenant: &str, access: &str) -> Result<(), StoreError> {
        let changed = on_pool!(self, |pool| sqlx::query(
            "UPDATE tenants SET mcp_access = $1 WHERE id = $2"
        )
        .bind(access)
        .bind(tenant)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        }
        Ok(())
    }
}
