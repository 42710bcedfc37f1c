//! Agent 5 of the OCR product workflow: release. Input `{spec, report,
//! results, site?}`; gives the release its semantic version after the last
//! one kept in the key-value store (once per idempotency key, however often
//! attempted) and, in the website flavour (`site` set), publishes the
//! results as a static site with the `sites` capability. Output `{version,
//! previous, site?, site_version?}`.

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

use ocr_kit::{QualityReport, Spec};
use powerautomation::plugin::key_value;
use powerautomation::plugin::sites::{self, SiteFile};
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
struct Result_ {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Input {
    spec: Spec,
    report: QualityReport,
    results: Vec<Result_>,
    site: Option<String>,
}

fn stored(key: &str) -> Result<Option<Value>, Failure> {
    let bytes = key_value::get(key).map_err(|e| Failure::transient("store", e))?;
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

fn store(key: &str, value: &Value) -> Result<(), Failure> {
    key_value::set(key, value.to_string().as_bytes()).map_err(|e| Failure::transient("store", e))
}

fn release(context: &StepContext, input: Input) -> Result<Value, Failure> {
    let done_key = format!("release/{}", context.idempotency_key);
    if let Some(done) = stored(&done_key)? {
        return Ok(done);
    }
    let latest_key = format!("latest/{}", input.spec.title);
    let latest = stored(&latest_key)?;
    let previous = latest.as_ref().and_then(|l| l["version"].as_str());
    let names: Vec<&str> = input.spec.fields.iter().map(|f| f.name.as_str()).collect();
    let fields_changed = latest.as_ref().is_some_and(|l| l["fields"] != json!(names));
    let improved = latest
        .as_ref()
        .is_some_and(|l| l["accuracy"].as_f64().is_some_and(|a| input.report.accuracy > a));
    let version = ocr_kit::bump(previous, fields_changed, improved).map_err(|e| Failure::permanent("store", e))?;
    let mut output = json!({"version": version, "previous": previous});
    if let Some(site) = &input.site {
        let results = input.results.into_iter().map(|r| (r.name, r.fields)).collect();
        let files: Vec<SiteFile> = ocr_kit::site::render(&input.spec, &version, &input.report, &results)
            .into_iter()
            .map(|(path, content)| SiteFile { path, content })
            .collect();
        let site_version = sites::publish(site, &files).map_err(|e| Failure::permanent("publish", e))?;
        output["site"] = json!(site);
        output["site_version"] = json!(site_version);
    }
    store(
        &latest_key,
        &json!({"version": version, "fields": names, "accuracy": input.report.accuracy}),
    )?;
    store(&done_key, &output)?;
    Ok(output)
}

impl Guest for Agent {
    fn run(context: StepContext, input: String) -> Result<String, StepError> {
        let input: Input = ocr_kit::input(&input)?;
        Ok(release(&context, input)?.to_string())
    }
}
