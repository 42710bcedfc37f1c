//! Spin's key-value and variables interfaces (`fermyon:spin@2.0.0` for
//! spin-sdk 5, `spin:key-value@3.0.0` / `spin:variables@3.0.0` for spin-sdk 7),
//! backed by the tenant's store, so unmodified Spin apps run.

use std::collections::HashMap;
use std::sync::Arc;

use crate::capabilities::{Capabilities, CapabilityGrants};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "pa:host/spin-imports",
        imports: {
            "fermyon:spin/key-value": async | trappable,
            "fermyon:spin/variables": async | trappable,
            default: trappable,
        },
        with: {
            "fermyon:spin/key-value.store": super::OpenStore,
            "spin:key-value/key-value.store": super::OpenStore,
        },
    });
}

use bindings::fermyon::spin::{key_value as kv2, variables as vars2};
use bindings::spin::key_value::key_value as kv3;
use bindings::spin::variables::variables as vars3;

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

    fn open(&self, label: &str) -> Result<OpenStore, StoreError> {
        if !self.stores.iter().any(|s| s == label) {
            return Err(StoreError::AccessDenied);
        }
        let scope = KvScope {
            tenant: self.tenant.clone(),
            plugin: self.plugin.clone(),
            store: label.to_string(),
        };
        Ok(OpenStore { scope })
    }

    fn variable(&self, name: &str) -> Result<String, VarError> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(VarError::InvalidName(format!("`{name}` is not a valid variable name")));
        }
        self.variables
            .get(name)
            .cloned()
            .ok_or_else(|| VarError::Undefined(format!("no variable named `{name}`")))
    }
}

/// An opened key-value store handle held in the instance's resource table.
pub struct OpenStore {
    scope: KvScope,
}

/// Version-independent store errors, mapped to each WIT version's variant.
enum StoreError {
    AccessDenied,
    Other(String),
}

enum VarError {
    InvalidName(String),
    Undefined(String),
}

impl From<StoreError> for kv2::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AccessDenied => kv2::Error::AccessDenied,
            StoreError::Other(m) => kv2::Error::Other(m),
        }
    }
}

impl From<StoreError> for kv3::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AccessDenied => kv3::Error::AccessDenied,
            StoreError::Other(m) => kv3::Error::Other(m),
        }
    }
}

impl From<VarError> for vars2::Error {
    fn from(e: VarError) -> Self {
        match e {
            VarError::InvalidName(m) => vars2::Error::InvalidName(m),
            VarError::Undefined(m) => vars2::Error::Undefined(m),
        }
    }
}

impl From<VarError> for vars3::Error {
    fn from(e: VarError) -> Self {
        match e {
            VarError::InvalidName(m) => vars3::Error::InvalidName(m),
            VarError::Undefined(m) => vars3::Error::Undefined(m),
        }
    }
}

fn other(e: anyhow::Error) -> StoreError {
    StoreError::Other(e.to_string())
}

/// The view of an instance's state the Spin interfaces work on.
pub(crate) struct SpinView<'a> {
    pub(crate) ctx: &'a SpinCtx,
    pub(crate) table: &'a mut ResourceTable,
}

/// [`HasData`] marker for the Spin interfaces.
pub(crate) struct Spin;

impl HasData for Spin {
    type Data<'a> = SpinView<'a>;
}

/// Adds the Spin 2 interfaces (sync ABI) to a linker.
pub(crate) fn add_v2_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    kv2::add_to_linker::<T, Spin>(linker, getter)?;
    vars2::add_to_linker::<T, Spin>(linker, getter)
}

/// Adds the Spin 3 interfaces (async ABI) to a linker.
pub(crate) fn add_v3_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    kv3::add_to_linker::<T, Spin>(linker, getter)?;
    vars3::add_to_linker::<T, Spin>(linker, getter)
}

impl kv2::Host for SpinView<'_> {}

impl kv2::HostStore for SpinView<'_> {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<OpenStore>, kv2::Error>> {
        match self.ctx.open(&label) {
            Ok(store) => Ok(Ok(self.table.push(store)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv2::Error>> {
        let scope = &self.table.get(&store)?.scope;
        Ok(self.ctx.kv.get(scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), kv2::Error>> {
        let scope = &self.table.get(&store)?.scope;
        Ok(self.ctx.kv.set(scope, &key, &value).await.map_err(|e| other(e).into()))
    }

    async fn delete(&mut self, store: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<(), kv2::Error>> {
        let scope = &self.table.get(&store)?.scope;
        Ok(self.ctx.kv.delete(scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn exists(&mut self, store: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<bool, kv2::Error>> {
        let scope = &self.table.get(&store)?.scope;
        Ok(self.ctx.kv.exists(scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn get_keys(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<Result<Vec<String>, kv2::Error>> {
        let scope = &self.table.get(&store)?.scope;
        Ok(self.ctx.kv.keys(scope).await.map_err(|e| other(e).into()))
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl vars2::Host for SpinView<'_> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, vars2::Error>> {
        Ok(self.ctx.variable(&name).map_err(Into::into))
    }
}

/// The backend and scope of an open store, read out of the store's state.
fn scope_of<U>(
    accessor: &Accessor<U, Spin>,
    store: &Resource<OpenStore>,
) -> wasmtime::Result<(Arc<dyn KeyValueBackend>, KvScope)> {
    accessor.with(|mut access| {
        let view = access.get();
        let scope = view.table.get(store)?.scope.clone();
        Ok((view.ctx.kv.clone(), scope))
    })
}

impl kv3::Host for SpinView<'_> {}

impl kv3::HostStore for SpinView<'_> {
    fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl<U> kv3::HostStoreWithStore<U> for Spin {
    async fn open(
        accessor: &Accessor<U, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<OpenStore>, kv3::Error>> {
        accessor.with(|mut access| {
            let view = access.get();
            match view.ctx.open(&label) {
                Ok(store) => Ok(Ok(view.table.push(store)?)),
                Err(e) => Ok(Err(e.into())),
            }
        })
    }

    async fn get(
        accessor: &Accessor<U, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv3::Error>> {
        let (kv, scope) = scope_of(accessor, &store)?;
        Ok(kv.get(&scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn set(
        accessor: &Accessor<U, Self>,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), kv3::Error>> {
        let (kv, scope) = scope_of(accessor, &store)?;
        Ok(kv.set(&scope, &key, &value).await.map_err(|e| other(e).into()))
    }

    async fn delete(
        accessor: &Accessor<U, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), kv3::Error>> {
        let (kv, scope) = scope_of(accessor, &store)?;
        Ok(kv.delete(&scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn exists(
        accessor: &Accessor<U, Self>,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, kv3::Error>> {
        let (kv, scope) = scope_of(accessor, &store)?;
        Ok(kv.exists(&scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn get_keys(
        accessor: &Accessor<U, Self>,
        store: Resource<OpenStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), kv3::Error>>)> {
        let (kv, scope) = scope_of(accessor, &store)?;
        let (keys, result) = match kv.keys(&scope).await {
            Ok(keys) => (keys, Ok(())),
            Err(e) => (Vec::new(), Err(other(e).into())),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let result = FutureReader::new(&mut access, async move { wasmtime::error::Ok(result) })?;
            Ok((keys, result))
        })
    }
}

impl vars3::Host for SpinView<'_> {}

impl<U> vars3::HostWithStore<U> for Spin {
    async fn get(accessor: &Accessor<U, Self>, name: String) -> wasmtime::Result<Result<String, vars3::Error>> {
        Ok(accessor.with(|mut access| access.get().ctx.variable(&name).map_err(Into::into)))
    }
}
