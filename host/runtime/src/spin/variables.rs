//! Spin's variables (`fermyon:spin/variables@2.0.0`,
//! `spin:variables@3.0.0`) and the draft `wasi:config/store` Spin's Python SDK
//! reads them through: the variables of the enable request.

use wasmtime::component::Accessor;

use super::bindings::fermyon::spin::variables as vars2;
use super::bindings::spin::variables::variables as vars3;
use super::bindings::wasi::config::store as config;
use super::{Spin, SpinCtx, SpinView};

/// Adds `fermyon:spin/variables@2.0.0` and `wasi:config/store` to a linker.
pub(super) fn add_v2_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    vars2::add_to_linker::<T, Spin>(linker, getter)?;
    config::add_to_linker::<T, Spin>(linker, getter)
}

/// Adds `spin:variables/variables@3.0.0` to a linker.
pub(super) fn add_v3_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    vars3::add_to_linker::<T, Spin>(linker, getter)
}

impl SpinCtx {
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

/// Version-independent variable errors, mapped to each WIT version's variant.
enum VarError {
    InvalidName(String),
    Undefined(String),
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

impl vars2::Host for SpinView<'_> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, vars2::Error>> {
        Ok(self.ctx.variable(&name).map_err(Into::into))
    }
}

impl config::Host for SpinView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.ctx.variables.get(&key).cloned()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        let mut all: Vec<_> = self.ctx.variables.clone().into_iter().collect();
        all.sort();
        Ok(Ok(all))
    }
}

impl vars3::Host for SpinView<'_> {}

impl<U> vars3::HostWithStore<U> for Spin {
    async fn get(accessor: &Accessor<U, Self>, name: String) -> wasmtime::Result<Result<String, vars3::Error>> {
        Ok(accessor.with(|mut access| access.get().ctx.variable(&name).map_err(Into::into)))
    }
}
