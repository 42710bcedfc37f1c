//! Errors of loading a component and of invoking one.

use std::time::Duration;

/// Why an uploaded component cannot be loaded. Every message names the problem.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a well-formed component.
    #[error("{0}")]
    Invalid(String),
    /// Exports no world the host runs.
    #[error(
        "the component exports none of wasi:http/incoming-handler@0.2, wasi:http/handler@0.3 \
         or powerautomation:plugin/tools@0.1 (its exports: [{}])",
        .0.join(", ")
    )]
    UnknownWorld(Vec<String>),
    /// Exports functions, none of which has a JSON form.
    #[error(
        "the component exports no function the host can serve as a tool ({})",
        .0.join("; ")
    )]
    NoTools(Vec<String>),
    /// Imports interfaces the host does not provide.
    #[error("the component imports interfaces this host does not provide: {}", .0.join(", "))]
    MissingImports(Vec<String>),
    /// Compilation ran past its time limit.
    #[error("compiling the component took longer than the {0:?} limit")]
    CompileTimeout(Duration),
    /// Cranelift or validation refused it.
    #[error("the component failed to compile: {0}")]
    Compile(String),
    /// Imports exist but do not type-check against the host's.
    #[error("the component does not link against the host: {0}")]
    Link(String),
    /// The compiled-code cache could not be read or written.
    #[error("component cache: {0}")]
    Cache(#[from] std::io::Error),
}

/// Why a request to a function did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The plugin's concurrency limit is reached.
    #[error("plugin is at its limit of {limit} concurrent requests")]
    Busy {
        /// The limit that was hit.
        limit: u32,
    },
    /// The wall-clock limit was reached.
    #[error("the function did not answer within its {0:?} timeout")]
    Timeout(Duration),
    /// The guest tried to grow memory past its limit and failed.
    #[error("the function exceeded its memory limit of {0} MiB")]
    MemoryLimit(u64),
    /// The guest trapped (panic, unreachable, …).
    #[error("the function failed: {0}")]
    Trap(String),
    /// A tool server asked the client questions whose answers come with a
    /// later request (the stateless protocol's `input_required`).
    #[error("the request awaits the client's answers")]
    Suspended,
    /// The host could not start an instance.
    #[error("could not start an instance: {0}")]
    Instantiate(String),
}
