//! Refresh tokens of signed-in users: stored hashed, used once, rotated in families.

use crate::db::{now, on_pool};
use crate::keys::hash_token;
use crate::{Store, StoreError};

/// What presenting a refresh token found.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Valid and now spent: issue a new one in the same family.
    Valid {
        /// The user it belongs to.
        user_id: String,
        /// Its rotation family.
        family: String,
    },
    /// Already used (a stolen copy?): its whole family has been revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

impl Store {
    /// Records a refresh token.
    pub async fn insert_refresh_token(
        &self,
        token: &str,
        user_id: &str,
        family: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let hash = hash_token(token);
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, family, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&hash)
        .bind(user_id)
        .bind(family)
        .bind(expires_at)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Spends a refresh token: at most one caller ever gets `Valid` for it.
    pub async fn use_refresh_token(&self, token: &str) -> Result<Refresh, StoreError> {
        let hash = hash_token(token);
        let at = now();
        let spent: Option<(String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             RETURNING user_id, family, expires_at"
        )
        .bind(&at)
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
        if let Some((user_id, family, expires_at)) = spent {
            return Ok(if expires_at > at {
                Refresh::Valid { user_id, family }
            } else {
                Refresh::Invalid
            });
        }
        match self.refresh_family(token).await? {
            Some(family) => {
                self.revoke_refresh_family(&family).await?;
                Ok(Refresh::Reused)
            }
            None => Ok(Refresh::Invalid),
        }
    }

    /// Revokes every token of a family (sign-out, reuse).
    pub async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE family = $2 AND used_at IS NULL"
        )
        .bind(&at)
        .bind(family)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The family of a refresh token, if it exists.
    pub async fn refresh_family(&self, token: &str) -> Result<Option<String>, StoreError> {
        let hash = hash_token(token);
        let family = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT family FROM refresh_tokens WHERE token_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
        Ok(family)
    }
}
