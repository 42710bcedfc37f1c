//! The durable workflow engine: definitions (a graph of steps checked when
//! saved), the references steps use to pass values along, and the engine
//! that runs them with leases, retries, approvals and compensation.

#![deny(missing_docs)]

pub mod definition;
pub mod engine;
pub mod template;

pub use definition::{Definition, Invalid, Needs};
pub use engine::{Action, ENDED, Engine, EngineError, StepCall, StepError, StepRunner};
