//! The key-value data components keep: the store, with every write first
//! counted against the tenant's storage quota, so a component cannot keep
//! more than its tenant's plan allows.

use std::sync::Arc;

use pa_runtime::{KeyValueBackend, KvScope};
use pa_store::Store;

use crate::metering::Metering;

/// The store behind the quota.
pub struct QuotaKv {
    pub store: Store,
    pub metering: Arc<Metering>,
}

#[async_trait::async_trait]
impl KeyValueBackend for QuotaKv {
    async fn get(&self, scope: &KvScope, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        counted("kv", self.store.get(scope, key).await)
    }

    async fn set(&self, scope: &KvScope, key: &str, value: &[u8]) -> anyhow::Result<()> {
        self.reserve(scope, key, value).await?;
        counted("kv", self.store.set(scope, key, value).await)
    }

    async fn compare_and_swap(
        &self,
        scope: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> anyhow::Result<bool> {
        self.reserve(scope, key, value).await?;
        counted("kv", self.store.compare_and_swap(scope, key, expected, value).await)
    }

    async fn delete(&self, scope: &KvScope, key: &str) -> anyhow::Result<()> {
        counted("kv", self.store.delete(scope, key).await)
    }

    async fn exists(&self, scope: &KvScope, key: &str) -> anyhow::Result<bool> {
        counted("kv", self.store.exists(scope, key).await)
    }

    async fn keys(&self, scope: &KvScope) -> anyhow::Result<Vec<String>> {
        counted("kv", self.store.keys(scope).await)
    }
}

impl QuotaKv {
    /// Counts a write of `key` and `value` against the tenant's storage quota.
    async fn reserve(&self, scope: &KvScope, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let bytes = (key.len() + value.len()) as u64;
        self.metering
            .reserve_storage(&scope.tenant, bytes)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))
    }
}

/// Counts a failed store call in the metrics and passes the result on.
fn counted<T>(operation: &'static str, result: anyhow::Result<T>) -> anyhow::Result<T> {
    if result.is_err() {
        crate::metrics::store_error(operation);
    }
    result
}
