//! The fixture the official MCP conformance suite expects of a server
//! (`test_simple_text`, `test://static-text`, `test_simple_prompt`, …),
//! written as an ordinary PowerAutomation tool server.

mod media;
mod tasks;

use pa_tool::{
    Args, CallResult, CompletionRef, ContentBlock, LogLevel, Media, NO_ARGS, PromptArgument, PromptInfo, PromptMessage,
    PromptResult, ResourceBody, ResourceContents, ResourceInfo, ResourceTemplate, Role, Server, ServerError,
    TaskSupport, Tool, Value, json, tool,
};

struct Fixture;

const JSON_SCHEMA_2020_12: &str = r##"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
 "$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
 "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},
 "allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],
 "if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},
 "additionalProperties":false}"##;

fn image() -> ContentBlock {
    ContentBlock::Image(Media {
        data: media::PNG.to_vec(),
        mime_type: "image/png".into(),
    })
}

fn text_resource(uri: &str, mime_type: &str, text: &str) -> ResourceContents {
    ResourceContents {
        uri: uri.into(),
        mime_type: Some(mime_type.into()),
        body: ResourceBody::Text(text.into()),
    }
}

fn internal(e: String) -> ServerError {
    ServerError::Internal(e)
}

/// Asks the client through elicitation and reports the answer as text.
fn elicit_and_report(prefix: &str, request: Value) -> Result<CallResult, ServerError> {
    let answer = pa_tool::elicit(&request).map_err(internal)?;
    let action = answer.get("action").and_then(Value::as_str).unwrap_or("unknown");
    let content = answer.get("content").cloned().unwrap_or(Value::Null);
    Ok(CallResult::text(format!(
        "{prefix}: action={action}, content={content}"
    )))
}

fn ask(questions: &[(&str, (&str, Value))]) -> Result<pa_tool::serde_json::Map<String, Value>, ServerError> {
    let questions: Vec<(&str, &str, Value)> = questions
        .iter()
        .map(|(key, (method, params))| (*key, *method, params.clone()))
        .collect();
    pa_tool::ask(&questions).map_err(internal)
}

/// An elicitation of one required field.
fn elicitation(message: &str, field: &str, kind: &str) -> (&'static str, Value) {
    (
        "elicitation/create",
        json!({
            "message": message,
            "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] },
        }),
    )
}

fn sampling(prompt: &str, max_tokens: u32) -> (&'static str, Value) {
    (
        "sampling/createMessage",
        json!({
            "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
            "maxTokens": max_tokens,
        }),
    )
}

fn roots() -> (&'static str, Value) {
    ("roots/list", json!({}))
}

fn answer_text(answer: &Value) -> String {
    answer["content"]["text"].as_str().unwrap_or_default().to_string()
}

impl Server for Fixture {
    fn list_tools() -> Vec<Tool> {
        vec![
            tool("test_simple_text", "Returns a simple text response", NO_ARGS),
            tool("test_image_content", "Returns an image", NO_ARGS),
            tool("test_audio_content", "Returns an audio clip", NO_ARGS),
            tool("test_embedded_resource", "Returns an embedded resource", NO_ARGS),
            tool(
                "test_multiple_content_types",
                "Returns text, an image and a resource",
                NO_ARGS,
            ),
            tool("test_tool_with_logging", "Logs three messages while it runs", NO_ARGS),
            tool("test_tool_with_progress", "Reports progress three times", NO_ARGS),
            tool("test_error_handling", "Always fails with a tool error", NO_ARGS),
            tool(
                "test_sampling",
                "Asks the client's model to complete a prompt",
                r#"{"type":"object","properties":{"prompt":{"type":"string","description":"The prompt to send to the LLM"}},"required":["prompt"]}"#,
            ),
            tool(
                "test_elicitation",
                "Asks the user for their information",
                r#"{"type":"object","properties":{"message":{"type":"string","description":"The message to show the user"}},"required":["message"]}"#,
            ),
            tool(
                "test_elicitation_sep1034_defaults",
                "Asks the user to review a form with default values (SEP-1034)",
                NO_ARGS,
            ),
            tool(
                "test_elicitation_sep1330_enums",
                "Asks the user to pick from enum fields (SEP-1330)",
                NO_ARGS,
            ),
            tool(
                "test_missing_capability",
                "Needs the client's sampling capability (fails without it)",
                NO_ARGS,
            ),
            tool(
                "test_streaming_elicitation",
                "Asks the user a question while it runs",
                NO_ARGS,
            ),
            tool("test_logging_tool", "Logs a message while it runs", NO_ARGS),
            tool(
                "test_input_required_result_elicitation",
                "MRTR: asks the user's name",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_sampling",
                "MRTR: asks the client's model a question",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_list_roots",
                "MRTR: asks the client for its roots",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_request_state",
                "MRTR: asks for a confirmation, keeping state between rounds",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_multiple_inputs",
                "MRTR: asks for a name, a greeting and the roots at once",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_multi_round",
                "MRTR: asks two questions, one round each",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_tampered_state",
                "MRTR: asks for a confirmation; a tampered state is refused",
                NO_ARGS,
            ),
            tool(
                "test_input_required_result_capabilities",
                "MRTR: asks only what the client's capabilities allow",
                NO_ARGS,
            ),
            tool(
                "test_header_param",
                "Echoes a region the client also sends in an Mcp-Param-Region header (SEP-2243)",
                r#"{"type":"object","properties":{"region":{"type":"string","description":"Where the call is routed","x-mcp-header":"Region"}},"required":["region"]}"#,
            ),
            tool(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
                JSON_SCHEMA_2020_12,
            ),
        ]
        .into_iter()
        .chain(tasks::tools())
        .collect()
    }

    fn task_tools() -> Vec<(String, TaskSupport)> {
        tasks::support()
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        if let Some(outcome) = tasks::call(&name, &args) {
            return outcome;
        }
        match name.as_str() {
            "test_simple_text" => Ok(CallResult::text("This is a simple text response for testing.")),
            "test_image_content" => Ok(CallResult::content(vec![image()])),
            "test_audio_content" => Ok(CallResult::content(vec![ContentBlock::Audio(Media {
                data: media::WAV.to_vec(),
                mime_type: "audio/wav".into(),
            })])),
            "test_embedded_resource" => Ok(CallResult::content(vec![ContentBlock::EmbeddedResource(
                text_resource(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                ),
            )])),
            "test_multiple_content_types" => Ok(CallResult::content(vec![
                ContentBlock::Text("Multiple content types test:".into()),
                image(),
                ContentBlock::EmbeddedResource(text_resource(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                )),
            ])),
            "test_tool_with_logging" => {
                for message in [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ] {
                    pa_tool::log_text(LogLevel::Info, message);
                }
                Ok(CallResult::text("Tool with logging executed successfully"))
            }
            "test_tool_with_progress" => {
                for step in [0.0, 50.0, 100.0] {
                    let message = format!("Completed step {step} of 100");
                    pa_tool::host::progress(step, Some(100.0), Some(&message));
                }
                Ok(CallResult::text("Progress reported in three steps"))
            }
            "test_error_handling" => Ok(CallResult::error(
                "This tool intentionally returns an error for testing",
            )),
            "test_header_param" => Ok(CallResult::text(format!("region: {}", args.str("region")?))),
            "test_sampling" => {
                let prompt = args.str("prompt")?;
                let request = json!({
                    "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
                    "maxTokens": 100,
                });
                let answer = pa_tool::sample(&request).map_err(internal)?;
                let text = answer["content"]["text"].as_str().unwrap_or_default();
                Ok(CallResult::text(format!("LLM response: {text}")))
            }
            "test_elicitation" => elicit_and_report(
                "User response",
                json!({
                    "message": args.str("message")?,
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "username": { "type": "string", "description": "User's response" },
                            "email": { "type": "string", "description": "User's email address" },
                        },
                        "required": ["username", "email"],
                    },
                }),
            ),
            "test_elicitation_sep1034_defaults" => elicit_and_report(
                "Elicitation completed",
                json!({
                    "message": "Please review and update the form fields with defaults",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "name": { "type": "string", "description": "User name", "default": "John Doe" },
                            "age": { "type": "integer", "description": "User age", "default": 30 },
                            "score": { "type": "number", "description": "User score", "default": 95.5 },
                            "status": {
                                "type": "string",
                                "description": "User status",
                                "enum": ["active", "inactive", "pending"],
                                "default": "active",
                            },
                            "verified": { "type": "boolean", "description": "Verification status", "default": true },
                        },
                        "required": [],
                    },
                }),
            ),
            "test_elicitation_sep1330_enums" => elicit_and_report(
                "Elicitation completed",
                json!({
                    "message": "Please select options from the enum fields",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "untitledSingle": {
                                "type": "string",
                                "description": "Select one option",
                                "enum": ["option1", "option2", "option3"],
                            },
                            "titledSingle": {
                                "type": "string",
                                "description": "Select one option with titles",
                                "oneOf": [
                                    { "const": "value1", "title": "First Option" },
                                    { "const": "value2", "title": "Second Option" },
                                    { "const": "value3", "title": "Third Option" },
                                ],
                            },
                            "legacyEnum": {
                                "type": "string",
                                "description": "Select one option (legacy)",
                                "enum": ["opt1", "opt2", "opt3"],
                                "enumNames": ["Option One", "Option Two", "Option Three"],
                            },
                            "untitledMulti": {
                                "type": "array",
                                "description": "Select multiple options",
                                "minItems": 1,
                                "maxItems": 3,
                                "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
                            },
                            "titledMulti": {
                                "type": "array",
                                "description": "Select multiple options with titles",
                                "minItems": 1,
                                "maxItems": 3,
                                "items": {
                                    "anyOf": [
                                        { "const": "value1", "title": "First Choice" },
                                        { "const": "value2", "title": "Second Choice" },
                                        { "const": "value3", "title": "Third Choice" },
                                    ],
                                },
                            },
                        },
                        "required": [],
                    },
                }),
            ),
            "test_missing_capability" => {
                let request = json!({
                    "messages": [{ "role": "user", "content": { "type": "text", "text": "Say hello" } }],
                    "maxTokens": 20,
                });
                let answer = pa_tool::sample(&request).map_err(internal)?;
                Ok(CallResult::text(format!("Sampled: {}", answer["content"]["text"])))
            }
            "test_streaming_elicitation" => elicit_and_report(
                "Streaming complete",
                json!({
                    "message": "Anything to add?",
                    "requestedSchema": { "type": "object", "properties": { "note": { "type": "string" } } },
                }),
            ),
            "test_logging_tool" => {
                pa_tool::log_text(LogLevel::Info, "test_logging_tool ran");
                Ok(CallResult::text("Logged one message"))
            }
            "test_input_required_result_elicitation" => {
                let answers = ask(&[("user_name", elicitation("What is your name?", "name", "string"))])?;
                Ok(CallResult::text(format!(
                    "Hello, {}!",
                    answers["user_name"]["content"]["name"].as_str().unwrap_or("stranger")
                )))
            }
            "test_input_required_result_sampling" => {
                let answers = ask(&[("sample_request", sampling("What is the capital of France?", 100))])?;
                Ok(CallResult::text(format!(
                    "The model said: {}",
                    answer_text(&answers["sample_request"])
                )))
            }
            "test_input_required_result_list_roots" => {
                let answers = ask(&[("roots_request", roots())])?;
                let count = answers["roots_request"]["roots"].as_array().map_or(0, Vec::len);
                Ok(CallResult::text(format!("Found {count} root(s)")))
            }
            "test_input_required_result_request_state" | "test_input_required_result_tampered_state" => {
                let answers = ask(&[("confirm", elicitation("Please confirm", "ok", "boolean"))])?;
                let ok = answers["confirm"]["content"]["ok"].as_bool().unwrap_or(false);
                Ok(CallResult::text(format!("state-ok: confirmed={ok}")))
            }
            "test_input_required_result_multiple_inputs" => {
                let answers = ask(&[
                    ("user_name", elicitation("What is your name?", "name", "string")),
                    ("greeting", sampling("Generate a greeting", 50)),
                    ("client_roots", roots()),
                ])?;
                Ok(CallResult::text(format!(
                    "{} (to {}, with {} root(s))",
                    answer_text(&answers["greeting"]),
                    answers["user_name"]["content"]["name"].as_str().unwrap_or("stranger"),
                    answers["client_roots"]["roots"].as_array().map_or(0, Vec::len)
                )))
            }
            "test_input_required_result_multi_round" => {
                let first = ask(&[("step1", elicitation("Step 1: What is your name?", "name", "string"))])?;
                let second = ask(&[(
                    "step2",
                    elicitation("Step 2: What is your favorite color?", "color", "string"),
                )])?;
                Ok(CallResult::text(format!(
                    "{} likes {}",
                    first["step1"]["content"]["name"].as_str().unwrap_or("someone"),
                    second["step2"]["content"]["color"].as_str().unwrap_or("no color")
                )))
            }
            "test_input_required_result_capabilities" => {
                let capabilities = pa_tool::client_capabilities();
                let question = if capabilities.get("sampling").is_some() {
                    ("sample_request", sampling("Name a colour", 10))
                } else if capabilities.get("roots").is_some() {
                    ("roots_request", roots())
                } else {
                    ("user_name", elicitation("What is your name?", "name", "string"))
                };
                let answers = ask(&[question])?;
                Ok(CallResult::text(format!(
                    "Asked `{}` and got an answer",
                    answers.keys().next().map_or("", |k| k)
                )))
            }
            "json_schema_2020_12_tool" => Ok(CallResult::text(format!("Received {}", Value::Object(args.0)))),
            other => Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        }
    }

    fn list_resources() -> Vec<ResourceInfo> {
        let info = |uri: &str, name: &str, title: &str, description: &str, mime: &str| ResourceInfo {
            uri: uri.into(),
            name: name.into(),
            title: Some(title.into()),
            description: Some(description.into()),
            mime_type: Some(mime.into()),
            size: None,
        };
        vec![
            info(
                "test://static-text",
                "static-text",
                "Static Text Resource",
                "A static text resource for testing",
                "text/plain",
            ),
            info(
                "test://static-binary",
                "static-binary",
                "Static Binary Resource",
                "A static binary resource (an image) for testing",
                "image/png",
            ),
            info(
                "test://watched-resource",
                "watched-resource",
                "Watched Resource",
                "A resource clients can subscribe to",
                "text/plain",
            ),
        ]
    }

    fn list_resource_templates() -> Vec<ResourceTemplate> {
        vec![ResourceTemplate {
            uri_template: "test://template/{id}/data".into(),
            name: "template".into(),
            title: Some("Resource Template".into()),
            description: Some("A resource template with parameter substitution".into()),
            mime_type: Some("application/json".into()),
        }]
    }

    fn read_resource(uri: String) -> Result<Vec<ResourceContents>, ServerError> {
        let contents = match uri.as_str() {
            "test://static-text" => {
                text_resource(&uri, "text/plain", "This is the content of the static text resource.")
            }
            "test://static-binary" => ResourceContents {
                uri: uri.clone(),
                mime_type: Some("image/png".into()),
                body: ResourceBody::Blob(media::PNG.to_vec()),
            },
            "test://watched-resource" => text_resource(&uri, "text/plain", "Watched resource content"),
            _ => {
                let id = uri
                    .strip_prefix("test://template/")
                    .and_then(|rest| rest.strip_suffix("/data"))
                    .filter(|id| !id.is_empty() && !id.contains('/'))
                    .ok_or_else(|| ServerError::NotFound(format!("no resource `{uri}`")))?;
                let body = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
                text_resource(&uri, "application/json", &body.to_string())
            }
        };
        Ok(vec![contents])
    }

    fn list_prompts() -> Vec<PromptInfo> {
        let prompt = |name: &str, description: &str, arguments: Vec<PromptArgument>| PromptInfo {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            arguments,
        };
        let required = |name: &str, description: &str| PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required: true,
        };
        vec![
            prompt("test_simple_prompt", "A simple prompt without arguments", vec![]),
            prompt(
                "test_prompt_with_arguments",
                "A prompt with required arguments",
                vec![
                    required("arg1", "First test argument"),
                    required("arg2", "Second test argument"),
                ],
            ),
            prompt(
                "test_prompt_with_embedded_resource",
                "A prompt that includes an embedded resource",
                vec![required("resourceUri", "URI of the resource to embed")],
            ),
            prompt("test_prompt_with_image", "A prompt that includes image content", vec![]),
            prompt(
                "test_input_required_result_prompt",
                "MRTR: prompt that requires elicitation input",
                vec![],
            ),
        ]
    }

    fn get_prompt(name: String, arguments: Vec<(String, String)>) -> Result<PromptResult, ServerError> {
        let arg = |key: &str| {
            arguments
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| ServerError::InvalidParams(format!("missing argument `{key}`")))
        };
        let user = |content: ContentBlock| PromptMessage {
            role: Role::User,
            content,
        };
        let messages = match name.as_str() {
            "test_simple_prompt" => vec![user(ContentBlock::Text("This is a simple prompt for testing.".into()))],
            "test_prompt_with_arguments" => vec![user(ContentBlock::Text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1")?,
                arg("arg2")?
            )))],
            "test_prompt_with_embedded_resource" => vec![
                user(ContentBlock::EmbeddedResource(text_resource(
                    &arg("resourceUri")?,
                    "text/plain",
                    "Embedded resource content for testing.",
                ))),
                user(ContentBlock::Text("Please process the embedded resource above.".into())),
            ],
            "test_prompt_with_image" => vec![
                user(image()),
                user(ContentBlock::Text("Please analyze the image above.".into())),
            ],
            "test_input_required_result_prompt" => {
                let answers = ask(&[(
                    "user_context",
                    elicitation("What context should the prompt use?", "context", "string"),
                )])?;
                let context = answers["user_context"]["content"]["context"]
                    .as_str()
                    .unwrap_or_default();
                vec![user(ContentBlock::Text(format!(
                    "Answer with this context in mind: {context}"
                )))]
            }
            other => return Err(ServerError::NotFound(format!("no prompt named `{other}`"))),
        };
        Ok(PromptResult {
            description: None,
            messages,
        })
    }

    fn complete(target: CompletionRef, argument: String, value: String) -> Result<Vec<String>, ServerError> {
        let candidates: &[&str] = match (&target, argument.as_str()) {
            (CompletionRef::Prompt(p), "arg1" | "arg2") if p == "test_prompt_with_arguments" => {
                &["testValue1", "testValue2"]
            }
            _ => &[],
        };
        Ok(candidates
            .iter()
            .filter(|c| c.starts_with(&value))
            .map(|c| c.to_string())
            .collect())
    }
}

pa_tool::export!(Fixture);
