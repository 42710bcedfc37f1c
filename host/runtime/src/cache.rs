//! Compiled components on disk, keyed by the engine's compatibility hash and
//! the component's SHA-256. Only files this host wrote are ever deserialised.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

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

    /// Loads the compiled component for `sha256`, calling `compile` for the
    /// precompiled artefact when it is not cached yet.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        sha256: &str,
        compile: impl FnOnce() -> Result<Vec<u8>, LoadError>,
    ) -> Result<Component, LoadError> {
        let path = self.dir.join(format!("{sha256}.cwasm"));
        if !path.exists() {
            let compiled = compile()?;
            // Unique per writer: two uploads of the same bytes may compile at once.
            static WRITES: AtomicU64 = AtomicU64::new(0);
            let n = WRITES.fetch_add(1, Ordering::Relaxed);
            let tmp = self.dir.join(format!("{sha256}.{}.{n}.tmp", std::process::id()));
            std::fs::write(&tmp, compiled)?;
            std::fs::rename(&tmp, &path)?;
        }
        // SAFETY: the file was written above from `precompile_component` of an
        // engine with this configuration (in this process or a compile worker
        // running this binary); wasmtime also checks the artefact's header
        // against the engine before using it.
        unsafe { Component::deserialize_file(engine, &path) }.map_err(|e| LoadError::Compile(format!("{e:#}")))
    }
}
