//! A workflow step for tests. Its input (a JSON object) says what to do:
//!
//! - `fail: N` — fail the first N attempts of this idempotency key
//!   (`retryable` says how, default true);
//! - `effect: NAME` — record effect NAME in the plugin's key-value store, once
//!   per idempotency key however often the step is attempted (the output
//!   counts the effects recorded under NAME);
//! - `sleep_ms: N` — take that long;
//! - `log: TEXT` — log it;
//! - `publish: {site, files: {path: text}}` — publish the files as a new
//!   version of the site (the output's `published` is its number).
//!
//! The output echoes the input with the attempt, the key and the count.

use std::time::Duration;

use serde_json::{Value, json};

wit_bindgen::generate!({
    path: "../../wit",
    world: "powerautomation:plugin/workflow-step",
});

use exports::powerautomation::plugin::step::{Guest, StepContext, StepError};
use powerautomation::plugin::sites::{self, SiteFile};
use powerautomation::plugin::{host, key_value, types::LogLevel};

struct TestStep;

fn error(code: &str, message: String, retryable: bool) -> StepError {
    StepError {
        code: code.into(),
        message,
        retryable,
    }
}

/// A counter in the key-value store.
fn counter(key: &str) -> Result<u64, StepError> {
    let stored = key_value::get(key).map_err(|e| error("store", e, true))?;
    Ok(stored
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(0))
}

fn set_counter(key: &str, value: u64) -> Result<(), StepError> {
    key_value::set(key, value.to_string().as_bytes()).map_err(|e| error("store", e, true))
}

impl Guest for TestStep {
    fn run(context: StepContext, input: String) -> Result<String, StepError> {
        let input: Value =
            serde_json::from_str(&input).map_err(|e| error("bad_input", format!("input is not JSON: {e}"), false))?;
        if let Some(text) = input["log"].as_str() {
            host::log(LogLevel::Info, Some("test-step"), text);
        }
        if let Some(ms) = input["sleep_ms"].as_u64() {
            std::thread::sleep(Duration::from_millis(ms));
        }
        let key = &context.idempotency_key;
        if let Some(times) = input["fail"].as_u64() {
            let attempts = counter(&format!("attempts:{key}"))? + 1;
            set_counter(&format!("attempts:{key}"), attempts)?;
            if attempts <= times {
                let retryable = input["retryable"].as_bool().unwrap_or(true);
                return Err(error(
                    "asked_to_fail",
                    format!("failing attempt {attempts} of {times} as asked"),
                    retryable,
                ));
            }
        }
        let mut effects = Value::Null;
        if let Some(name) = input["effect"].as_str() {
            // One key per effect and idempotency key: setting it again changes nothing.
            let prefix = format!("effect:{name}:");
            key_value::set(&format!("{prefix}{key}"), b"1").map_err(|e| error("store", e, true))?;
            let keys = key_value::list_keys().map_err(|e| error("store", e, true))?;
            effects = json!(keys.iter().filter(|k| k.starts_with(&prefix)).count());
        }
        let mut published = Value::Null;
        if let Some(publish) = input["publish"].as_object() {
            let site = publish.get("site").and_then(Value::as_str).unwrap_or_default();
            let files: Vec<SiteFile> = publish
                .get("files")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(path, text)| SiteFile {
                    path: path.clone(),
                    content: text.as_str().unwrap_or_default().as_bytes().to_vec(),
                })
                .collect();
            published = json!(sites::publish(site, &files).map_err(|e| error("publish", e, false))?);
        }
        let output = json!({
            "input": input,
            "attempt": context.attempt,
            "key": key,
            "step": context.step_id,
            "effects": effects,
            "published": published,
        });
        Ok(output.to_string())
    }
}

export!(TestStep);
