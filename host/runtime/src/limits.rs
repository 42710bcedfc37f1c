//! Per-plugin resource limits and the store limiter that enforces memory.

use serde::{Deserialize, Serialize};
use wasmtime::ResourceLimiter;

/// Limits applied to every invocation of one plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Linear memory per instance, in MiB.
    #[schema(minimum = 1, maximum = 4096)]
    pub memory_mib: u64,
    /// Wall-clock time per request, in milliseconds.
    #[schema(minimum = 1, maximum = 3600000)]
    pub timeout_ms: u64,
    /// Requests of this plugin running at once; more get 429.
    #[schema(minimum = 1, maximum = 10000)]
    pub max_concurrency: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 128,
            timeout_ms: 30_000,
            max_concurrency: 64,
        }
    }
}

impl Limits {
    /// Checks the values are within what the host supports.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=4096).contains(&self.memory_mib) {
            return Err(format!(
                "memory_mib must be between 1 and 4096, got {}",
                self.memory_mib
            ));
        }
        if !(1..=3_600_000).contains(&self.timeout_ms) {
            return Err(format!(
                "timeout_ms must be between 1 and 3600000, got {}",
                self.timeout_ms
            ));
        }
        if !(1..=10_000).contains(&self.max_concurrency) {
            return Err(format!(
                "max_concurrency must be between 1 and 10000, got {}",
                self.max_concurrency
            ));
        }
        Ok(())
    }
}

/// Caps each linear memory of an instance and remembers whether a growth was
/// refused (so a resulting trap can be reported as the memory limit) and the
/// peak size (for metering).
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) refused: bool,
    pub(crate) peak_bytes: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(memory_mib: u64) -> Self {
        MemoryLimiter {
            max_bytes: (memory_mib as usize) << 20,
            refused: false,
            peak_bytes: 0,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.refused = true;
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
