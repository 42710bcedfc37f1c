//! The per-instance state a store carries: WASI (which grants nothing but
//! stdout and stderr, captured for the plugin's log), wasi:http with the
//! plugin's egress policy, the memory limiter and Spin.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::{AllowList, Egress};
use crate::limits::MemoryLimiter;
use crate::logs::LogStream;
use crate::output::Capture;
use crate::spin::{SpinCtx, SpinView};
use crate::tools::ToolPeer;
use crate::usage::Usage;

/// The `T` of every `Store<T>` the runtime creates.
pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    egress: Egress,
    pub(crate) limiter: MemoryLimiter,
    /// What the guest prints.
    pub(crate) output: Capture,
    spin: Arc<SpinCtx>,
    /// The MCP client of the current tool request, if any.
    pub(crate) peer: Option<Arc<dyn ToolPeer>>,
    /// Questions asked through `sample`/`elicit` so far (for their keys).
    pub(crate) questions: u32,
    /// When the current request must stop; checked at every epoch tick.
    pub(crate) deadline: Instant,
}

impl InstanceState {
    /// A sandbox with no files, environment, sockets or inherited stdio
    /// (stdout and stderr go to `output`); only the granted outbound hosts,
    /// stores and variables.
    pub(crate) fn new(
        allow: Arc<AllowList>,
        usage: Arc<Usage>,
        memory_mib: u64,
        spin: Arc<SpinCtx>,
        output: Capture,
    ) -> Self {
        InstanceState {
            wasi: WasiCtx::builder()
                .stdout(output.stream(LogStream::Stdout))
                .stderr(output.stream(LogStream::Stderr))
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            egress: Egress { allow, usage },
            limiter: MemoryLimiter::new(memory_mib),
            output,
            spin,
            peer: None,
            questions: 0,
            deadline: Instant::now(),
        }
    }

    pub(crate) fn spin_ctx(&self) -> &SpinCtx {
        &self.spin
    }

    pub(crate) fn spin(&mut self) -> SpinView<'_> {
        SpinView {
            ctx: &self.spin,
            egress: &self.egress,
            table: &mut self.table,
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
    }
}
