//! The runtime: one engine per ABI (the synchronous `wasi:http` 0.2 path runs
//! without concurrency support, which is measurably cheaper per request; 0.3
//! components need it), their linkers, the compiled-component caches and the
//! epoch ticker that enforces wall-clock limits.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::capabilities::Capabilities;
use crate::compile::Compiler;

use crate::cache::ComponentCache;
use crate::spin::{self, KeyValueBackend};
use crate::state::InstanceState;
use crate::world::{self, World};
use crate::{LoadError, digest};

/// How often the epoch advances; timeouts are rounded up to this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Instances the pooling allocator can hold at once, per engine.
const POOL_INSTANCES: u32 = 1000;

/// An engine with the linker and cache that go with it.
struct EngineKit {
    engine: Engine,
    linker: Linker<InstanceState>,
    cache: ComponentCache,
}

/// A validated, compiled and linked component, ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// The world it implements.
    pub world: World,
    pub(crate) pre: Pre,
}

/// The typed pre-instance of each world.
#[derive(Clone)]
pub(crate) enum Pre {
    P2(wasmtime_wasi_http::p2::bindings::ProxyPre<InstanceState>),
    P3(wasmtime_wasi_http::p3::bindings::ServicePre<InstanceState>),
    Tools(crate::tools::Kind),
    Step(crate::steps::WorkflowStepPre<InstanceState>),
}

/// What one engine's pooling allocator holds at a moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    /// `p2` (`wasi:http` 0.2, tools, steps) or `p3` (`wasi:http` 0.3).
    pub engine: &'static str,
    /// Component instances alive now.
    pub component_instances: u64,
    /// Component instances the pool can hold.
    pub component_capacity: u32,
    /// Linear memories in use now.
    pub memories: usize,
    /// Bytes kept resident in unused memory slots for reuse.
    pub warm_memory_bytes: usize,
}

/// The host's WebAssembly runtime, shared by every tenant.
pub struct Runtime {
    p2: EngineKit,
    p3: EngineKit,
    pub(crate) kv: Arc<dyn KeyValueBackend>,
    pub(crate) capabilities: Arc<dyn Capabilities>,
    compiler: Compiler,
    compile_timeout: Duration,
    prepared: Mutex<HashMap<String, Prepared>>,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// Builds the engines, with compiled code cached under `cache_dir`,
    /// key-value data kept by `kv`, granted capabilities served by
    /// `capabilities`, and new components compiled by `compiler` within
    /// `compile_timeout`.
    pub fn new(
        cache_dir: &Path,
        kv: Arc<dyn KeyValueBackend>,
        capabilities: Arc<dyn Capabilities>,
        compiler: Compiler,
        compile_timeout: Duration,
    ) -> wasmtime::Result<Runtime> {
        let p2 = EngineKit::new(false, cache_dir)?;
        let p3 = EngineKit::new(true, cache_dir)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let engines = [p2.engine.clone(), p3.engine.clone()];
        let stop = ticker_stop.clone();
        std::thread::Builder::new().name("pa-epoch".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engines.iter().for_each(Engine::increment_epoch);
            }
        })?;
        Ok(Runtime {
            p2,
            p3,
            kv,
            capabilities,
            compiler,
            compile_timeout,
            prepared: Mutex::new(HashMap::new()),
            ticker_stop,
        })
    }

    /// What each engine's instance pool holds now.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        [("p2", &self.p2), ("p3", &self.p3)]
            .into_iter()
            .filter_map(|(engine, kit)| {
                let pool = kit.engine.pooling_allocator_metrics()?;
                Some(PoolUse {
                    engine,
                    component_instances: pool.component_instances(),
                    component_capacity: POOL_INSTANCES,
                    memories: pool.memories(),
                    warm_memory_bytes: pool.unused_memory_bytes_resident(),
                })
            })
            .collect()
    }

    /// Validates `bytes` as a component the host can run: a component (not a
    /// core module), a known world, every import provided; then compiles it
    /// (or loads it from the cache) and links it.
    pub fn prepare(&self, bytes: &[u8]) -> Result<Prepared, LoadError> {
        let sha256 = digest(bytes);
        if let Some(prepared) = self.prepared.lock().unwrap().get(&sha256) {
            return Ok(prepared.clone());
        }
        let iface = world::read_interface(bytes)?;
        let world = world::detect(&iface)?;
        let missing = world::missing_imports(&iface, world);
        if !missing.is_empty() {
            return Err(LoadError::MissingImports(missing));
        }
        let kit = self.kit(world);
        let compile = || {
            self.compiler
                .precompile(&kit.engine, world, bytes, self.compile_timeout)
        };
        let component: Component = kit.cache.load(&kit.engine, &sha256, compile)?;
        let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let pre = kit.linker.instantiate_pre(&component).map_err(link)?;
        let pre = match world {
            World::HttpP2 => Pre::P2(wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre).map_err(link)?),
            World::HttpP3 => Pre::P3(wasmtime_wasi_http::p3::bindings::ServicePre::new(pre).map_err(link)?),
            World::ToolServer => Pre::Tools(crate::tools::Kind::world(pre).map_err(link)?),
            World::WorkflowStep => Pre::Step(crate::steps::WorkflowStepPre::new(pre).map_err(link)?),
            World::Exports => {
                let (funcs, skipped) = crate::exports::exported_funcs(&kit.engine, &component);
                if funcs.is_empty() {
                    return Err(LoadError::NoTools(skipped));
                }
                Pre::Tools(crate::tools::Kind::Exports(pre, Arc::new(funcs)))
            }
        };
        let prepared = Prepared {
            sha256: sha256.clone(),
            world,
            pre,
        };
        self.prepared.lock().unwrap().insert(sha256, prepared.clone());
        Ok(prepared)
    }

    fn kit(&self, world: World) -> &EngineKit {
        match world {
            World::HttpP2 | World::ToolServer | World::Exports | World::WorkflowStep => &self.p2,
            World::HttpP3 => &self.p3,
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The engine configuration: pooling allocator (with copy-on-write memory
/// images, kept-resident slots and pagemap scanning for cheap resets), epoch
/// interruption and fuel. `concurrency` enables the component-model async ABI
/// that `wasi:http` 0.3 needs; the 0.2 engine runs cheaper without it.
pub(crate) fn new_engine(concurrency: bool) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 4)
        .total_memories(POOL_INSTANCES * 2)
        .total_tables(POOL_INSTANCES * 4)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(4 << 30)
        .linear_memory_keep_resident(128 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .consume_fuel(true)
        .concurrency_support(concurrency)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if concurrency {
        config.wasm_component_model_async(true);
    }
    Engine::new(&config)
}

impl EngineKit {
    fn new(concurrency: bool, cache_dir: &Path) -> wasmtime::Result<EngineKit> {
        let engine = new_engine(concurrency)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        spin::add_v2_to_linker(&mut linker, InstanceState::spin)?;
        crate::tools::add_to_linker(&mut linker)?;
        crate::capabilities::add_to_linker(&mut linker)?;
        if concurrency {
            wasmtime_wasi::p3::add_to_linker(&mut linker)?;
            wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
            spin::add_v3_to_linker(&mut linker, InstanceState::spin)?;
        }
        let cache = ComponentCache::new(cache_dir.to_path_buf(), &engine)?;
        Ok(EngineKit { engine, linker, cache })
    }
}
