//! Key-value data of plugins, scoped per tenant, plugin and store.

use pa_runtime::{KeyValueBackend, KvScope};

use crate::Store;
use crate::db::on_pool;

#[async_trait::async_trait]
impl KeyValueBackend for Store {
    async fn get(&self, s: &KvScope, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT value FROM kv WHERE tenant = $1 AND plugin = $2 AND store = $3 AND key = $4"
        )
        .bind(&s.tenant)
        .bind(&s.plugin)
        .bind(&s.store)
        .bind(key)
        .fetch_optional(pool)
        .await)?)
    }

    async fn set(&self, s: &KvScope, key: &str, value: &[u8]) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO kv (tenant, plugin, store, key, value) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, plugin, store, key) DO UPDATE SET value = excluded.value",
        )
        .bind(&s.tenant)
        .bind(&s.plugin)
        .bind(&s.store)
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    async fn compare_and_swap(
        &self,
        s: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> anyhow::Result<bool> {
        let swapped = match expected {
            None => on_pool!(self, |pool| sqlx::query(
                "INSERT INTO kv (tenant, plugin, store, key, value) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant, plugin, store, key) DO NOTHING",
            )
            .bind(&s.tenant)
            .bind(&s.plugin)
            .bind(&s.store)
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?,
            Some(expected) => on_pool!(self, |pool| sqlx::query(
                "UPDATE kv SET value = $5 \
                 WHERE tenant = $1 AND plugin = $2 AND store = $3 AND key = $4 AND value = $6",
            )
            .bind(&s.tenant)
            .bind(&s.plugin)
            .bind(&s.store)
            .bind(key)
            .bind(value)
            .bind(expected)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?,
        };
        Ok(swapped == 1)
    }

    async fn delete(&self, s: &KvScope, key: &str) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM kv WHERE tenant = $1 AND plugin = $2 AND store = $3 AND key = $4"
        )
        .bind(&s.tenant)
        .bind(&s.plugin)
        .bind(&s.store)
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    async fn exists(&self, s: &KvScope, key: &str) -> anyhow::Result<bool> {
        Ok(KeyValueBackend::get(self, s, key).await?.is_some())
    }

    async fn keys(&self, s: &KvScope) -> anyhow::Result<Vec<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT key FROM kv WHERE tenant = $1 AND plugin = $2 AND store = $3 ORDER BY key"
        )
        .bind(&s.tenant)
        .bind(&s.plugin)
        .bind(&s.store)
        .fetch_all(pool)
        .await)?)
    }
}
