//! Agent 4 of the OCR product workflow: testing, the quality gate. Input
//! `{spec, results, samples}` (results from implementation, samples with
//! their `expected` fields); output the quality report, or a non-retryable
//! `quality_gate` error when the accuracy is below the spec's threshold.

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

use std::collections::BTreeMap;

use ocr_kit::Spec;

type Fields = BTreeMap<String, String>;

#[derive(serde::Deserialize)]
struct Result_ {
    name: String,
    fields: Fields,
}

#[derive(serde::Deserialize)]
struct Sample {
    name: String,
    expected: Fields,
}

#[derive(serde::Deserialize)]
struct Input {
    spec: Spec,
    results: Vec<Result_>,
    samples: Vec<Sample>,
}

impl Guest for Agent {
    fn run(_: StepContext, input: String) -> Result<String, StepError> {
        let input: Input = ocr_kit::input(&input)?;
        let extracted = input.results.into_iter().map(|r| (r.name, r.fields)).collect();
        // Only the fields the spec asks for are tested.
        let wanted = |field: &String| input.spec.fields.iter().any(|f| f.name == *field);
        let expected = input
            .samples
            .into_iter()
            .map(|mut s| {
                s.expected.retain(|field, _| wanted(field));
                (s.name, s.expected)
            })
            .collect();
        let report = ocr_kit::score(&extracted, &expected, input.spec.threshold);
        if !report.passed {
            let mistakes: Vec<String> = report
                .samples
                .iter()
                .flat_map(|s| s.mistakes.iter().map(move |m| format!("{}: {m}", s.name)))
                .collect();
            return Err(Failure::permanent(
                "quality_gate",
                format!(
                    "accuracy {:.3} is below the threshold {:.3}; {}",
                    report.accuracy,
                    report.threshold,
                    mistakes.join("; ")
                ),
            )
            .into());
        }
        Ok(serde_json::to_string(&report).expect("a report serialises"))
    }
}
