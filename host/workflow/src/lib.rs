//! The durable workflow engine: definitions (a graph of steps checked when
//! saved) and the references steps use to pass values along.

#![deny(missing_docs)]

pub mod definition;
pub mod template;

pub use definition::{Definition, Invalid, Needs};
