//! Agent 1 of the OCR product workflow: requirements analysis. Input
//! `{requirement, fields?, threshold?}`; output the spec (fields, threshold,
//! title) with the model's summary of the requirement (the tenant's model, or
//! the built-in one).

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

use ocr_kit::Spec;
use powerautomation::plugin::model::{self, ChatOptions, Message};
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
struct Input {
    requirement: String,
    fields: Option<Vec<String>>,
    threshold: Option<f64>,
}

/// The model's one-line summary of the requirement.
fn summarise(requirement: &str) -> Result<(String, String), Failure> {
    let messages = [
        Message {
            role: "system".into(),
            content: "You analyse requirements for document-recognition products. \
                      Answer with a JSON object {\"summary\": one sentence}."
                .into(),
        },
        Message {
            role: "user".into(),
            content: requirement.into(),
        },
    ];
    let options = ChatOptions {
        temperature: Some(0.0),
        max_tokens: Some(200),
        json: true,
    };
    let answer = model::chat(&messages, options).map_err(|e| Failure::transient("model", e))?;
    let summary = serde_json::from_str::<Value>(&answer.content)
        .ok()
        .and_then(|v| v["summary"].as_str().map(str::to_string))
        .unwrap_or(answer.content);
    Ok((summary, answer.model))
}

impl Guest for Agent {
    fn run(_: StepContext, input: String) -> Result<String, StepError> {
        let input: Input = ocr_kit::input(&input)?;
        let spec: Spec = ocr_kit::analyse(&input.requirement, input.fields, input.threshold)
            .map_err(|e| Failure::permanent("unclear_requirement", e))?;
        let (summary, model) = summarise(&input.requirement)?;
        let mut output = serde_json::to_value(&spec).expect("a spec serialises");
        output["analysis"] = json!({"summary": summary, "model": model});
        Ok(output.to_string())
    }
}
