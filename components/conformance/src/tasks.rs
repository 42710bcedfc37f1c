//! The tools the suite's tasks scenarios (SEP-2663) expect: `greet` answers
//! at once; the others begin a task and go on in the background, asking the
//! client through `tasks/update` where they need input.

use std::time::Duration;

use pa_tool::{Args, CallResult, NO_ARGS, ServerError, TaskSupport, Tool, Value, json, tool};

/// The tools, their task support and their calls.
pub fn tools() -> Vec<Tool> {
    vec![
        tool(
            "greet",
            "Greets someone (answers at once)",
            r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#,
        ),
        tool(
            "slow_compute",
            "Waits `seconds`, then reports the computation named `label` done",
            r#"{"type":"object","properties":{"seconds":{"type":"number","minimum":0},"label":{"type":"string"}},"required":["seconds"]}"#,
        ),
        tool(
            "failing_job",
            "Runs as a task and fails with a tool error after a second",
            NO_ARGS,
        ),
        tool(
            "protocol_error_job",
            "Runs as a task and fails with a protocol error",
            NO_ARGS,
        ),
        tool(
            "confirm_delete",
            "Asks the user to confirm deleting `filename`",
            r#"{"type":"object","properties":{"filename":{"type":"string"}},"required":["filename"]}"#,
        ),
        tool("multi_input", "Asks the user two questions at once", NO_ARGS),
        tool(
            "test_tool_with_task",
            "Asks the user's name, then greets them as a task",
            NO_ARGS,
        ),
    ]
}

/// How each tool's calls may become tasks (`greet` never).
pub fn support() -> Vec<(String, TaskSupport)> {
    [
        ("slow_compute", TaskSupport::Optional),
        ("failing_job", TaskSupport::Required),
        ("protocol_error_job", TaskSupport::Required),
        ("confirm_delete", TaskSupport::Optional),
        ("multi_input", TaskSupport::Optional),
        ("test_tool_with_task", TaskSupport::Required),
    ]
    .into_iter()
    .map(|(name, support)| (name.to_string(), support))
    .collect()
}

/// Calls tool `name`; `None` when it is not one of these.
pub fn call(name: &str, args: &Args) -> Option<Result<CallResult, ServerError>> {
    Some(match name {
        "greet" => args.str("name").map(|n| CallResult::text(format!("Hello, {n}!"))),
        "slow_compute" => slow_compute(args),
        "failing_job" => {
            pa_tool::host::begin_task();
            std::thread::sleep(Duration::from_secs(1));
            Ok(CallResult::error("Tool execution failed: the job always fails"))
        }
        "protocol_error_job" => {
            pa_tool::host::begin_task();
            Err(ServerError::Internal("the job failed before producing a result".into()))
        }
        "confirm_delete" => confirm_delete(args),
        "multi_input" => multi_input(),
        "test_tool_with_task" => greet_as_task(),
        _ => return None,
    })
}

fn slow_compute(args: &Args) -> Result<CallResult, ServerError> {
    let seconds = args
        .get("seconds")
        .and_then(Value::as_f64)
        .filter(|s| (0.0..=3600.0).contains(s))
        .ok_or_else(|| ServerError::InvalidParams("`seconds` must be a number from 0 to 3600".into()))?;
    let label = args.get("label").and_then(Value::as_str).unwrap_or("computation");
    pa_tool::host::begin_task();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    Ok(CallResult::text(format!("{label}: done after {seconds} s")))
}

fn question(message: &str, field: &str, kind: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] },
    })
}

fn ask(questions: &[(&str, Value)]) -> Result<pa_tool::serde_json::Map<String, Value>, ServerError> {
    let questions: Vec<(&str, &str, Value)> = questions
        .iter()
        .map(|(key, params)| (*key, "elicitation/create", params.clone()))
        .collect();
    pa_tool::ask(&questions).map_err(ServerError::Internal)
}

fn confirm_delete(args: &Args) -> Result<CallResult, ServerError> {
    let filename = args.str("filename")?;
    pa_tool::host::begin_task();
    let answers = ask(&[(
        "confirm",
        question(&format!("Delete {filename}?"), "confirm", "boolean"),
    )])?;
    let answer = &answers["confirm"];
    let confirmed = answer["action"] == "accept" && answer["content"]["confirm"] == true;
    Ok(CallResult::text(if confirmed {
        format!("Deleted {filename}")
    } else {
        format!("Kept {filename}")
    }))
}

fn multi_input() -> Result<CallResult, ServerError> {
    pa_tool::host::begin_task();
    let answers = ask(&[
        ("first", question("First value?", "name", "string")),
        ("second", question("Second value?", "name", "string")),
    ])?;
    let name = |key: &str| {
        answers[key]["content"]["name"]
            .as_str()
            .unwrap_or("nothing")
            .to_string()
    };
    Ok(CallResult::text(format!(
        "Got {} and {}",
        name("first"),
        name("second")
    )))
}

/// Asks first (the answer comes with the call's next round), then becomes a task.
fn greet_as_task() -> Result<CallResult, ServerError> {
    let answers = ask(&[("user_name", question("What is your name?", "name", "string"))])?;
    let name = answers["user_name"]["content"]["name"]
        .as_str()
        .unwrap_or("stranger")
        .to_string();
    pa_tool::host::begin_task();
    Ok(CallResult::text(format!("Hello, {name}!")))
}
