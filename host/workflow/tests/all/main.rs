//! The workflow crate's tests, in one binary.

mod backends;
mod definitions;
mod engine;
mod templates;
