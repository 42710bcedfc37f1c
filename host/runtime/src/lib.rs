//! The PowerAutomation WebAssembly runtime: engines, the compiled-component
//! cache, world detection, the sandbox (capabilities and limits), the
//! HTTP-function invoker and the plugins' logs.
#![deny(missing_docs)]

mod cache;
mod capabilities;
mod compile;
mod egress;
mod engine;
mod error;
mod exports;
mod http;
mod limits;
mod logs;
mod output;
mod plugin;
mod sandbox;
mod spin;
mod state;
mod steps;
mod tools;
mod usage;
mod world;

pub use capabilities::{
    Capabilities, CapabilityGrants, ChatOptions, Completion, Message as ChatMessage, NoCapabilities, Recognition,
    SiteFile,
};
pub use compile::{Compiler, compile_worker};
pub use egress::{AllowList, AllowListError, is_internal};
pub use engine::{PoolUse, Prepared, Runtime};
pub use error::{InvokeError, LoadError};
pub use http::{FunctionConfig, HttpFunction};
pub use limits::Limits;
pub use logs::{BUFFER_BYTES, BUFFER_LINES, LogBuffer, LogEntry, LogStream};
pub use output::{MAX_LINE_BYTES, MAX_LINES_PER_CALL};
pub use plugin::Plugin;
pub use spin::{KeyValueBackend, KvScope};
pub use steps::{StepComponent, StepContext, StepError};
pub use tools::{AskError, TaskSupport, ToolPeer, ToolServer, types as tool_types};
pub use usage::{Usage, UsageSample};
pub use wasmtime_wasi_http::{Error as HttpBodyError, WasiBody};
pub use world::World;

/// The SHA-256 of component bytes as lowercase hex: the key of every cache.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
