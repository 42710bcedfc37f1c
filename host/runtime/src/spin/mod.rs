//! Spin's host interfaces, so unmodified Spin apps run: key-value and
//! variables for spin-sdk 5 (`fermyon:spin@2.0.0`) and spin-sdk 7
//! (`spin:*@3.0.0`), backed by the tenant's store and the enable request; the
//! draft `wasi:keyvalue` and `wasi:config` that Spin's Python SDK imports, on
//! the same data; and outbound Redis, checked against the plugin's
//! outbound grants; and the services this host does not provide (LLM,
//! MQTT, PostgreSQL, MySQL, SQLite), linked so that apps importing them load,
//! each answering with its interface's error that says so.

mod key_value;
mod redis;
mod unsupported;
mod variables;
mod wasi_keyvalue;

use std::collections::HashMap;
use std::sync::Arc;

use crate::capabilities::{Capabilities, CapabilityGrants};
use crate::egress::Egress;
use wasmtime::component::{HasData, ResourceTable};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "pa:host/spin-imports",
        imports: {
            "fermyon:spin/key-value": async | trappable,
            "fermyon:spin/variables": async | trappable,
            "wasi:keyvalue/store": async | trappable,
            "wasi:keyvalue/atomics": async | trappable,
            "wasi:keyvalue/batch": async | trappable,
            "fermyon:spin/redis": async | trappable,
            default: trappable,
        },
        with: {
            "fermyon:spin/key-value.store": super::OpenStore,
            "spin:key-value/key-value.store": super::OpenStore,
            "wasi:keyvalue/store.bucket": super::OpenStore,
            "wasi:keyvalue/atomics.cas": super::wasi_keyvalue::Cas,
            "fermyon:spin/redis.connection": super::redis::RedisConnection,
        },
    });
}

/// Where a key-value entry lives: one named store of one plugin of one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvScope {
    /// Tenant id.
    pub tenant: String,
    /// Plugin name (all versions of a plugin share their data).
    pub plugin: String,
    /// Store label, `default` unless the app names another.
    pub store: String,
}

/// Persistent key-value storage, provided by the host's store.
#[async_trait::async_trait]
pub trait KeyValueBackend: Send + Sync + 'static {
    /// The value of `key`, if any.
    async fn get(&self, scope: &KvScope, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Sets `key` to `value`.
    async fn set(&self, scope: &KvScope, key: &str, value: &[u8]) -> anyhow::Result<()>;
    /// Sets `key` to `value` only if its value is still `expected` (`None`:
    /// absent), in one atomic step; whether it was set.
    async fn compare_and_swap(
        &self,
        scope: &KvScope,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> anyhow::Result<bool>;
    /// Removes `key`; absent keys are not an error.
    async fn delete(&self, scope: &KvScope, key: &str) -> anyhow::Result<()>;
    /// Whether `key` exists.
    async fn exists(&self, scope: &KvScope, key: &str) -> anyhow::Result<bool>;
    /// Every key of the store.
    async fn keys(&self, scope: &KvScope) -> anyhow::Result<Vec<String>>;
}

/// What one plugin's instances may use: its key-value stores, variables and
/// granted capabilities.
pub(crate) struct SpinCtx {
    pub(crate) kv: Arc<dyn KeyValueBackend>,
    pub(crate) capabilities: Arc<dyn Capabilities>,
    pub(crate) grants: CapabilityGrants,
    pub(crate) tenant: String,
    pub(crate) plugin: String,
    pub(crate) stores: Vec<String>,
    pub(crate) variables: HashMap<String, String>,
}

impl SpinCtx {
    /// The scope of store `label`, if the plugin was granted it.
    pub(crate) fn scope(&self, label: &str) -> Result<KvScope, String> {
        self.open(label)
            .map(|store| store.scope)
            .map_err(|_| format!("the plugin has no grant for key-value store `{label}`"))
    }

    fn open(&self, label: &str) -> Result<OpenStore, key_value::StoreError> {
        if !self.stores.iter().any(|s| s == label) {
            return Err(key_value::StoreError::AccessDenied);
        }
        let scope = KvScope {
            tenant: self.tenant.clone(),
            plugin: self.plugin.clone(),
            store: label.to_string(),
        };
        Ok(OpenStore { scope })
    }
}

/// An opened key-value store handle held in the instance's resource table.
pub struct OpenStore {
    scope: KvScope,
}

/// The view of an instance's state the Spin interfaces work on.
pub(crate) struct SpinView<'a> {
    pub(crate) ctx: &'a SpinCtx,
    /// The instance's outbound grants and egress meter (Redis uses them as
    /// outbound HTTP does).
    pub(crate) egress: &'a Egress,
    pub(crate) table: &'a mut ResourceTable,
}

/// [`HasData`] marker for the Spin interfaces.
pub(crate) struct Spin;

impl HasData for Spin {
    type Data<'a> = SpinView<'a>;
}

/// Adds the Spin 2 interfaces and the others of the sync ABI to a linker.
pub(crate) fn add_v2_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    key_value::add_v2_to_linker(linker, getter)?;
    variables::add_v2_to_linker(linker, getter)?;
    wasi_keyvalue::add_to_linker(linker, getter)?;
    redis::add_to_linker(linker, getter)?;
    unsupported::add_to_linker(linker, getter)
}

/// Adds the Spin 3 interfaces (async ABI) to a linker.
pub(crate) fn add_v3_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    key_value::add_v3_to_linker(linker, getter)?;
    variables::add_v3_to_linker(linker, getter)
}
