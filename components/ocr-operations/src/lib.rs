//! Agent 6 of the OCR product workflow: operations. Input `{release,
//! report, results}`; checks the release's tested accuracy and each
//! recognition's confidence, sets the alert rules to watch, and keeps them
//! in the key-value store under the release's version. Output the
//! operations report `{version, status, checks, alerts}`.

wit_bindgen::generate!({
    path: "../../wit",
    world: "powerautomation:plugin/workflow-step",
});

use exports::powerautomation::plugin::step::{Guest, StepContext, StepError};
use ocr_kit::Failure;

struct Agent;
export!(Agent);

impl From<Failure> for StepError {
    fn from(f: Failure) -> StepError {
        StepError {
            code: f.code,
            message: f.message,
            retryable: f.retryable,
        }
    }
}

use ocr_kit::QualityReport;
use powerautomation::plugin::key_value;
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Recognised {
    name: String,
    confidence: f32,
}

#[derive(serde::Deserialize)]
struct Input {
    release: Value,
    report: QualityReport,
    results: Vec<Recognised>,
}

impl Guest for Agent {
    fn run(_: StepContext, input: String) -> Result<String, StepError> {
        let input: Input = ocr_kit::input(&input)?;
        let version = input.release["version"]
            .as_str()
            .ok_or_else(|| Failure::permanent("bad_input", "release.version is missing"))?
            .to_string();
        let confidences: Vec<(String, f32)> = input.results.into_iter().map(|r| (r.name, r.confidence)).collect();
        let mut report = ocr_kit::operations(&input.report, &confidences);
        report["version"] = Value::from(version.clone());
        key_value::set(&format!("operations/{version}"), report.to_string().as_bytes())
            .map_err(|e| Failure::transient("store", e))?;
        Ok(report.to_string())
    }
}
