//! Agent 2 of the OCR product workflow: design. Input the spec; output how
//! each field is found in recognised text (labels, kind of value).

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

impl Guest for Agent {
    fn run(_: StepContext, input: String) -> Result<String, StepError> {
        let spec: ocr_kit::Spec = ocr_kit::input(&input)?;
        let design = ocr_kit::design(&spec);
        Ok(serde_json::to_string(&design).expect("a design serialises"))
    }
}
