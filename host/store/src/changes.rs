//! Changes other nodes make, heard as they commit (PostgreSQL `LISTEN/NOTIFY`).
//!
//! A trigger on `deployments` notifies a channel of the store's schema with
//! the tenant and plugin of each changed row; every node listens on it.

use serde::Deserialize;
use sqlx::postgres::PgListener;

use crate::db::Pool;
use crate::{Store, StoreError};

/// A change to the shared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A plugin was enabled, re-enabled, changed or disabled.
    Deployment {
        /// The plugin's tenant.
        tenant: String,
        /// The plugin.
        plugin: String,
    },
    /// The connection was lost and is back: changes may have been missed.
    Reconnected,
}

/// The changes of one store, in commit order.
pub struct Changes {
    listener: PgListener,
}

#[derive(Deserialize)]
struct DeploymentPayload {
    tenant: String,
    plugin: String,
}

impl Store {
    /// Listens for changes; `None` on SQLite, which serves one node.
    pub async fn changes(&self) -> Result<Option<Changes>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let channel: String = sqlx::query_scalar("SELECT 'pa_' || md5(current_schema())")
            .fetch_one(pool)
            .await?;
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(&channel).await?;
        Ok(Some(Changes { listener }))
    }
}

impl Changes {
    /// The next change; waits for one. After an error, the next call reconnects.
    pub async fn next(&mut self) -> Result<Change, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Change::Reconnected);
            };
            match serde_json::from_str::<DeploymentPayload>(notification.payload()) {
                Ok(p) => {
                    return Ok(Change::Deployment {
                        tenant: p.tenant,
                        plugin: p.plugin,
                    });
                }
                Err(e) => tracing::warn!(payload = notification.payload(), error = %e, "unknown change notification"),
            }
        }
    }
}
