//! The draft `wasi:keyvalue@0.2.0-draft2` Spin's Python SDK imports, on the
//! same stores as Spin's own key-value interface (a bucket is a store label).
//! Counters are kept as decimal text, as Redis keeps them.

use wasmtime::component::Resource;

use super::bindings::wasi::keyvalue::{atomics, batch, store};
use super::key_value::{StoreError, other};
use super::{KvScope, OpenStore, Spin, SpinView};

/// A compare-and-swap handle: the value a key had when it was read.
pub struct Cas {
    scope: KvScope,
    key: String,
    current: Option<Vec<u8>>,
}

/// Adds `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft2` to a linker.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    getter: fn(&mut T) -> SpinView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, Spin>(linker, getter)?;
    atomics::add_to_linker::<T, Spin>(linker, getter)?;
    batch::add_to_linker::<T, Spin>(linker, getter)
}

impl From<StoreError> for store::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AccessDenied => store::Error::AccessDenied,
            StoreError::Other(m) => store::Error::Other(m),
        }
    }
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl SpinView<'_> {
    fn bucket(&self, bucket: &Resource<OpenStore>) -> wasmtime::Result<KvScope> {
        Ok(self.table.get(bucket)?.scope.clone())
    }

    /// Reads `key` and pushes a compare-and-swap handle holding its value.
    async fn read_for_swap(&mut self, scope: KvScope, key: String) -> KvResult<Resource<Cas>> {
        let current = match self.ctx.kv.get(&scope, &key).await {
            Ok(current) => current,
            Err(e) => return Ok(Err(other(e).into())),
        };
        Ok(Ok(self.table.push(Cas { scope, key, current })?))
    }
}

impl store::Host for SpinView<'_> {
    async fn open(&mut self, identifier: String) -> KvResult<Resource<OpenStore>> {
        match self.ctx.open(&identifier) {
            Ok(store) => Ok(Ok(self.table.push(store)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl store::HostBucket for SpinView<'_> {
    async fn get(&mut self, bucket: Resource<OpenStore>, key: String) -> KvResult<Option<Vec<u8>>> {
        let scope = self.bucket(&bucket)?;
        Ok(self.ctx.kv.get(&scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn set(&mut self, bucket: Resource<OpenStore>, key: String, value: Vec<u8>) -> KvResult<()> {
        let scope = self.bucket(&bucket)?;
        Ok(self.ctx.kv.set(&scope, &key, &value).await.map_err(|e| other(e).into()))
    }

    async fn delete(&mut self, bucket: Resource<OpenStore>, key: String) -> KvResult<()> {
        let scope = self.bucket(&bucket)?;
        Ok(self.ctx.kv.delete(&scope, &key).await.map_err(|e| other(e).into()))
    }

    async fn exists(&mut self, bucket: Resource<OpenStore>, key: String) -> KvResult<bool> {
        let scope = self.bucket(&bucket)?;
        Ok(self.ctx.kv.exists(&scope, &key).await.map_err(|e| other(e).into()))
    }

    /// Every key in one page: the host never hands out a cursor.
    async fn list_keys(&mut self, bucket: Resource<OpenStore>, cursor: Option<String>) -> KvResult<store::KeyResponse> {
        if let Some(cursor) = cursor {
            return Ok(Err(store::Error::Other(format!("unknown cursor `{cursor}`"))));
        }
        let scope = self.bucket(&bucket)?;
        Ok(self
            .ctx
            .kv
            .keys(&scope)
            .await
            .map(|keys| store::KeyResponse { keys, cursor: None })
            .map_err(|e| other(e).into()))
    }

    async fn drop(&mut self, bucket: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl batch::Host for SpinView<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        let scope = self.bucket(&bucket)?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            match self.ctx.kv.get(&scope, &key).await {
                Ok(value) => found.push((key, value)),
                Err(e) => return Ok(Err(other(e).into())),
            }
        }
        Ok(Ok(found))
    }

    async fn set_many(&mut self, bucket: Resource<OpenStore>, key_values: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        let scope = self.bucket(&bucket)?;
        for (key, value) in key_values {
            if let Err(e) = self.ctx.kv.set(&scope, &key, &value).await {
                return Ok(Err(other(e).into()));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(&mut self, bucket: Resource<OpenStore>, keys: Vec<String>) -> KvResult<()> {
        let scope = self.bucket(&bucket)?;
        for key in keys {
            if let Err(e) = self.ctx.kv.delete(&scope, &key).await {
                return Ok(Err(other(e).into()));
            }
        }
        Ok(Ok(()))
    }
}

impl atomics::Host for SpinView<'_> {
    /// Adds `delta` to the counter at `key` (absent: 0) with compare-and-swap
    /// retries, so concurrent increments on any node all count.
    async fn increment(&mut self, bucket: Resource<OpenStore>, key: String, delta: i64) -> KvResult<i64> {
        let scope = self.bucket(&bucket)?;
        loop {
            let current = match self.ctx.kv.get(&scope, &key).await {
                Ok(current) => current,
                Err(e) => return Ok(Err(other(e).into())),
            };
            let count = match current.as_deref().map(parse_counter).transpose() {
                Ok(count) => count.unwrap_or(0),
                Err(message) => return Ok(Err(store::Error::Other(format!("`{key}` {message}")))),
            };
            let Some(next) = count.checked_add(delta) else {
                return Ok(Err(store::Error::Other(format!(
                    "incrementing `{key}` overflows a 64-bit integer"
                ))));
            };
            match self
                .ctx
                .kv
                .compare_and_swap(&scope, &key, current.as_deref(), next.to_string().as_bytes())
                .await
            {
                Ok(true) => return Ok(Ok(next)),
                Ok(false) => continue,
                Err(e) => return Ok(Err(other(e).into())),
            }
        }
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let Cas { scope, key, current } = self.table.delete(cas)?;
        match self
            .ctx
            .kv
            .compare_and_swap(&scope, &key, current.as_deref(), &value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => match self.read_for_swap(scope, key).await? {
                Ok(fresh) => Ok(Err(atomics::CasError::CasFailed(fresh))),
                Err(e) => Ok(Err(atomics::CasError::StoreError(e))),
            },
            Err(e) => Ok(Err(atomics::CasError::StoreError(other(e).into()))),
        }
    }
}

impl atomics::HostCas for SpinView<'_> {
    async fn new(&mut self, bucket: Resource<OpenStore>, key: String) -> KvResult<Resource<Cas>> {
        let scope = self.bucket(&bucket)?;
        self.read_for_swap(scope, key).await
    }

    async fn current(&mut self, cas: Resource<Cas>) -> KvResult<Option<Vec<u8>>> {
        Ok(Ok(self.table.get(&cas)?.current.clone()))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

/// A counter's value: decimal text of a 64-bit integer.
fn parse_counter(bytes: &[u8]) -> Result<i64, &'static str> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or("does not hold an integer counter")
}

#[cfg(test)]
mod tests {
    use super::parse_counter;

    #[test]
    fn counters_are_decimal_text() {
        assert_eq!(parse_counter(b"-42"), Ok(-42));
        assert!(parse_counter(b"4x").is_err());
        assert!(parse_counter(&[0xff]).is_err());
    }
}
