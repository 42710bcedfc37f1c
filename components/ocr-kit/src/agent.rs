//! What every agent step shares: reading its JSON input and saying why it failed.

use serde::de::DeserializeOwned;

/// Why a step failed, as its `step-error` carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// A short code a retry policy can name.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Whether trying again may help.
    pub retryable: bool,
}

impl Failure {
    /// A failure that trying again will not mend (bad input, a failed gate).
    pub fn permanent(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure of a host service that may pass.
    pub fn transient(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
            retryable: true,
        }
    }
}

/// The step's input as `T`, or a `bad_input` failure naming the problem.
pub fn input<T: DeserializeOwned>(text: &str) -> Result<T, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::permanent("bad_input", format!("the step's input does not fit: {e}")))
}
