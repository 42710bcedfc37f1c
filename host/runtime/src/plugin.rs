//! An enabled plugin version, whichever world it implements.

use crate::engine::Pre;
use crate::http::{FunctionConfig, HttpFunction};
use crate::sandbox::Sandbox;
use crate::steps::StepComponent;
use crate::tools::ToolServer;
use crate::{Prepared, Runtime};

/// A prepared component bound to a tenant, plugin, grants and limits.
#[derive(Clone)]
pub enum Plugin {
    /// An HTTP-triggered function (`wasi:http` 0.2 or 0.3).
    Http(HttpFunction),
    /// An MCP tool server.
    Tools(ToolServer),
    /// A workflow step.
    Step(StepComponent),
}

impl Plugin {
    /// Binds `prepared` according to its world.
    pub fn new(runtime: &Runtime, prepared: &Prepared, config: FunctionConfig) -> Plugin {
        let sandbox = Sandbox::new(runtime, config);
        match &prepared.pre {
            Pre::P2(pre) => Plugin::Http(HttpFunction::p2(pre, sandbox)),
            Pre::P3(pre) => Plugin::Http(HttpFunction::p3(pre, sandbox)),
            Pre::Tools(kind) => Plugin::Tools(ToolServer::new(kind.clone(), sandbox)),
            Pre::Step(pre) => Plugin::Step(StepComponent::new(pre.clone(), sandbox)),
        }
    }

    /// Fuel consumed by every finished call so far.
    pub fn fuel_consumed(&self) -> u64 {
        match self {
            Plugin::Http(f) => f.fuel_consumed(),
            Plugin::Tools(t) => t.fuel_consumed(),
            Plugin::Step(s) => s.fuel_consumed(),
        }
    }

    /// The largest linear memory any instance reached, in bytes.
    pub fn peak_memory(&self) -> u64 {
        match self {
            Plugin::Http(f) => f.peak_memory(),
            Plugin::Tools(t) => t.peak_memory(),
            Plugin::Step(s) => s.peak_memory(),
        }
    }
}
