//! Agent 3 of the OCR product workflow: implementation. Input `{design,
//! name, image}` (the image base64-encoded); recognises the image with the
//! OCR capability and extracts the design's fields. Output `{name, text,
//! confidence, fields}`.

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

use base64::Engine as _;
use ocr_kit::Design;
use powerautomation::plugin::ocr;
use serde_json::json;

#[derive(serde::Deserialize)]
struct Input {
    design: Design,
    name: String,
    image: String,
}

impl Guest for Agent {
    fn run(_: StepContext, input: String) -> Result<String, StepError> {
        let input: Input = ocr_kit::input(&input)?;
        let image = base64::engine::general_purpose::STANDARD
            .decode(input.image.trim())
            .map_err(|e| Failure::permanent("bad_input", format!("image of `{}` is not base64: {e}", input.name)))?;
        let seen = ocr::recognize(&image, Some(&input.design.language))
            .map_err(|e| Failure::transient("ocr", format!("`{}`: {e}", input.name)))?;
        let fields = ocr_kit::extract(&input.design, &seen.text);
        Ok(json!({
            "name": input.name,
            "text": seen.text,
            "confidence": seen.confidence,
            "fields": fields,
        })
        .to_string())
    }
}
