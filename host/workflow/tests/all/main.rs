//! The workflow crate's tests, in one binary.

mod definitions;
mod templates;
