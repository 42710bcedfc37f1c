//! Users, their tenant memberships and tenants' custom roles.

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// A user account.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Login name (unique).
    pub username: String,
    /// argon2id PHC string; `None` for users of an external identity provider.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Where the user signs in: `password`, `ldap` or `oidc`.
    pub provider: String,
    /// Whether the user administers the whole platform.
    pub platform_admin: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A user's role in a tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Membership {
    /// Tenant id.
    pub tenant: String,
    /// User id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// Role name (built-in or custom).
    pub role: String,
}

/// A tenant's custom role.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomRole {
    /// Role name.
    pub name: String,
    /// Permission names.
    pub permissions: Vec<String>,
}

const USER_COLUMNS: &str = "SELECT id, username, password_hash, provider, platform_admin, created_at FROM users";
const MEMBER_COLUMNS: &str =
    "SELECT m.tenant, m.user_id, u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id";

impl Store {
    /// Creates a user; `Conflict` if the username is taken.
    pub async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let at = now();
        let inserted = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO users (id, username, password_hash, provider, platform_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&user.provider)
        .bind(user.platform_admin)
        .bind(&at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("user `{}` already exists", user.username)));
        }
        Ok(())
    }

    /// A user by login name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("{USER_COLUMNS} WHERE username = $1");
        let user = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await)?;
        Ok(user)
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("{USER_COLUMNS} WHERE id = $1");
        let user = on_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        Ok(user)
    }

    /// Gives a user a role in a tenant (replacing any previous one).
    pub async fn set_membership(&self, tenant: &str, user_id: &str, role: &str) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO memberships (tenant, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, user_id) DO UPDATE SET role = excluded.role"
        )
        .bind(tenant)
        .bind(user_id)
        .bind(role)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Takes a user out of a tenant; returns whether they were a member.
    pub async fn remove_membership(&self, tenant: &str, user_id: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM memberships WHERE tenant = $1 AND user_id = $2"
        )
        .bind(tenant)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0))?;
        Ok(removed)
    }

    /// The user's role in `tenant`, if a member.
    pub async fn membership(&self, tenant: &str, user_id: &str) -> Result<Option<String>, StoreError> {
        let role = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT role FROM memberships WHERE tenant = $1 AND user_id = $2"
        )
        .bind(tenant)
        .bind(user_id)
        .fetch_optional(pool)
        .await)?;
        Ok(role)
    }

    /// The members of a tenant, by username.
    pub async fn members(&self, tenant: &str) -> Result<Vec<Membership>, StoreError> {
        let sql = format!("{MEMBER_COLUMNS} WHERE m.tenant = $1 ORDER BY u.username");
        let all = on_pool!(self, |pool| sqlx::query_as(&sql).bind(tenant).fetch_all(pool).await)?;
        Ok(all)
    }

    /// The tenants a user belongs to.
    pub async fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        let sql = format!("{MEMBER_COLUMNS} WHERE m.user_id = $1 ORDER BY m.tenant");
        let all = on_pool!(self, |pool| sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)?;
        Ok(all)
    }

    /// Creates or replaces a custom role of a tenant.
    pub async fn put_role(&self, tenant: &str, role: &CustomRole) -> Result<(), StoreError> {
        let permissions = serde_json::to_string(&role.permissions).expect("strings serialise");
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO roles (tenant, name, permissions, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, name) DO UPDATE SET permissions = excluded.permissions"
        )
        .bind(tenant)
        .bind(&role.name)
        .bind(&permissions)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Deletes a custom role; returns whether it existed.
    pub async fn delete_role(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM roles WHERE tenant = $1 AND name = $2"
        )
        .bind(tenant)
        .bind(name)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0))?;
        Ok(removed)
    }

    /// The custom roles of a tenant, by name.
    pub async fn roles(&self, tenant: &str) -> Result<Vec<CustomRole>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, permissions FROM roles WHERE tenant = $1 ORDER BY name"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(name, permissions)| CustomRole {
                name,
                permissions: serde_json::from_str(&permissions).unwrap_or_default(),
            })
            .collect())
    }

    /// Whether any member or key of `tenant` holds `role`.
    pub async fn role_in_use(&self, tenant: &str, role: &str) -> Result<bool, StoreError> {
        let used = on_pool!(self, |pool| sqlx::query(
            "SELECT 1 FROM memberships WHERE tenant = $1 AND role = $2 \
             UNION ALL SELECT 1 FROM api_keys WHERE tenant = $1 AND role = $2 AND revoked_at IS NULL"
        )
        .bind(tenant)
        .bind(role)
        .fetch_optional(pool)
        .await
        .map(|row| row.is_some()))?;
        Ok(used)
    }
}
