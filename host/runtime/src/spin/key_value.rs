//! Spin's key-value stores: `fermyon:spin/key-value@2.0.0` (spin-sdk 5, the
//! Python and JavaScript SDKs) and `spin:key-value@3.0.0` (spin-sdk 7).

use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

use super::bindings::fermyon::spin::key_value as kv2;
use super::bindings::spin::key_value::key_value as kv3;
use super::{KeyValueBackend, KvScope, OpenStore, Spin, SpinView};

/// Adds `fermyon:spin/key-value@2.0.0` to a linker.
pub(super) fn add_v2_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    kv2::add_to_linker::<T, Spin>(linker, getter)
}

/// Adds `spin:key-value/key-value@3.0.0` to a linker.
pub(super) fn add_v3_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    kv3::add_to_linker::<T, Spin>(linker, getter)
}

/// Version-independent store errors, mapped to each WIT version's variant.
pub(super) enum StoreError {
    AccessDenied,
    Other(String),
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

pub(super) fn other(e: anyhow::Error) -> StoreError {
    StoreError::Other(e.to_string())
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
