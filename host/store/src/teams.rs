//! Teams: a tree inside each tenant, with members and an optional role that
//! the members of the team and of every team below it hold.

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// A team of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Team {
    /// Id, unique in the tenant.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The team it belongs to (`None`: top level).
    pub parent: Option<String>,
    /// The role its members hold in the tenant, if any.
    pub role: Option<String>,
}

impl Store {
    /// The tenant's teams, by id.
    pub async fn teams(&self, tenant: &str) -> Result<Vec<Team>, StoreError> {
        let all = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, parent, role FROM teams WHERE tenant = $1 ORDER BY id"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?;
        Ok(all)
    }

    /// Creates or updates a team. `Conflict` when the parent is missing or
    /// would make the tree a loop.
    pub async fn put_team(&self, tenant: &str, team: &Team) -> Result<(), StoreError> {
        if let Some(parent) = &team.parent {
            let ancestors = self.team_ancestors(tenant, parent).await?;
            if ancestors.is_empty() {
                return Err(StoreError::NotFound(format!("team `{parent}`")));
            }
            if ancestors.contains(&team.id) {
                return Err(StoreError::Conflict(format!(
                    "team `{}` cannot be placed under `{parent}`: that is inside it",
                    team.id
                )));
            }
        }
        let at = now();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO teams (tenant, id, name, parent, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, parent = excluded.parent, role = excluded.role"
        )
        .bind(tenant)
        .bind(&team.id)
        .bind(&team.name)
        .bind(&team.parent)
        .bind(&team.role)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// `team` and every team above it (empty when it does not exist).
    async fn team_ancestors(&self, tenant: &str, team: &str) -> Result<Vec<String>, StoreError> {
        let ids = on_pool!(self, |pool| sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent) AS ( \
               SELECT id, parent FROM teams WHERE tenant = $1 AND id = $2 \
               UNION SELECT t.id, t.parent FROM teams t JOIN up ON t.id = up.parent AND t.tenant = $1) \
             SELECT id FROM up"
        )
        .bind(tenant)
        .bind(team)
        .fetch_all(pool)
        .await)?;
        Ok(ids)
    }

    /// Deletes a team with no teams below it; returns whether it existed.
    pub async fn delete_team(&self, tenant: &str, team: &str) -> Result<bool, StoreError> {
        let children: Option<String> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM teams WHERE tenant = $1 AND parent = $2"
        )
        .bind(tenant)
        .bind(team)
        .fetch_optional(pool)
        .await)?;
        if let Some(child) = children {
            return Err(StoreError::Conflict(format!(
                "team `{team}` still has team `{child}` below it"
            )));
        }
        let removed = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM team_members WHERE tenant = $1 AND team = $2")
                .bind(tenant)
                .bind(team)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM teams WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(team)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            done.rows_affected() > 0
        });
        Ok(removed)
    }

    /// Adds a user to a team (idempotent).
    pub async fn add_team_member(&self, tenant: &str, team: &str, user_id: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO team_members (tenant, team, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(tenant)
        .bind(team)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Takes a user out of a team; returns whether they were in it.
    pub async fn remove_team_member(&self, tenant: &str, team: &str, user_id: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM team_members WHERE tenant = $1 AND team = $2 AND user_id = $3"
        )
        .bind(tenant)
        .bind(team)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0))?;
        Ok(removed)
    }

    /// The usernames of a team's members.
    pub async fn team_members(&self, tenant: &str, team: &str) -> Result<Vec<String>, StoreError> {
        let names = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT u.username FROM team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.tenant = $1 AND m.team = $2 ORDER BY u.username"
        )
        .bind(tenant)
        .bind(team)
        .fetch_all(pool)
        .await)?;
        Ok(names)
    }

    /// The roles a user holds in `tenant` through the teams they are in and
    /// every team above those.
    pub async fn team_roles(&self, tenant: &str, user_id: &str) -> Result<Vec<String>, StoreError> {
        let roles = on_pool!(self, |pool| sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent, role) AS ( \
               SELECT t.id, t.parent, t.role FROM teams t JOIN team_members m \
                 ON m.tenant = t.tenant AND m.team = t.id WHERE t.tenant = $1 AND m.user_id = $2 \
               UNION SELECT t.id, t.parent, t.role FROM teams t JOIN up ON t.id = up.parent AND t.tenant = $1) \
             SELECT DISTINCT role FROM up WHERE role IS NOT NULL ORDER BY role"
        )
        .bind(tenant)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
        Ok(roles)
    }
}
