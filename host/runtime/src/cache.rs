//! Compiled components on disk, keyed by the engine's compatibility hash and
//! the component's SHA-256. Only files this host wrote are ever deserialised.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;

/// A directory of precompiled components for one engine configuration.
pub(crate) struct ComponentCache {
    dir: PathBuf,
}

impl ComponentCache {
    pub(crate) fn new(root: PathBuf, engine: &Engine) -> std::io::Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!("{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir)?;
        Ok(ComponentCache { dir })
    }

    /// Loads the compiled component for `sha256`, compiling `bytes` in a
    /// worker thread bounded by `timeout` when it is not cached yet.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
        timeout: Duration,
    ) -> Result<Component, LoadError> {
        let path = self.dir.join(format!("{sha256}.cwasm"));
        if !path.exists() {
            let compiled = compile_with_timeout(engine, bytes, timeout)?;
            let tmp = self.dir.join(format!("{sha256}.{}.tmp", std::process::id()));
            std::fs::write(&tmp, compiled)?;
            std::fs::rename(&tmp, &path)?;
        }
        // SAFETY: the file was produced by `precompile_component` of an engine
        // with the same compatibility hash (the directory name) in this host.
        unsafe { Component::deserialize_file(engine, &path) }.map_err(|e| LoadError::Compile(format!("{e:#}")))
    }
}

/// Compiles on a separate thread; a compilation past `timeout` is abandoned
/// and reported (the thread finishes in the background and its result is dropped).
fn compile_with_timeout(engine: &Engine, bytes: &[u8], timeout: Duration) -> Result<Vec<u8>, LoadError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let engine = engine.clone();
    let bytes = bytes.to_vec();
    std::thread::Builder::new()
        .name("pa-compile".into())
        .spawn(move || {
            let _ = tx.send(engine.precompile_component(&bytes));
        })
        .map_err(LoadError::Cache)?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(compiled)) => Ok(compiled),
        Ok(Err(e)) => Err(LoadError::Compile(format!("{e:#}"))),
        Err(_) => Err(LoadError::CompileTimeout(timeout)),
    }
}
