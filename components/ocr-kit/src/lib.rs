//! The logic of the OCR product workflow's six agents — requirements,
//! design, implementation, testing, release, operations — as plain functions
//! on JSON-friendly types. The agent components (`components/ocr-*`) call
//! these with what the host gives them (OCR text, model answers, stored
//! versions); this crate is also a member of the host workspace so its tests
//! run natively.

pub mod agent;
pub mod design;
pub mod quality;
pub mod release;
pub mod requirements;
pub mod site;

pub use agent::{Failure, input};
pub use design::{Design, FieldRule, ValueKind, design, extract};
pub use quality::{QualityReport, SampleScore, score};
pub use release::{bump, operations};
pub use requirements::{Field, Spec, analyse};
