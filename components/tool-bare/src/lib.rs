//! A tool server written against the plain `tool-server` world with
//! wit-bindgen alone: one tool, `shout`, and nothing else. It exports no
//! `tasks` interface, so its calls always answer within their request.

wit_bindgen::generate!({
    path: "../../wit",
    world: "powerautomation:plugin/tool-server",
});

use exports::powerautomation::plugin::tools::Guest;
use powerautomation::plugin::types::{
    CallResult, CompletionRef, ContentBlock, PromptInfo, PromptResult, ResourceContents, ResourceInfo,
    ResourceTemplate, ServerError, Tool,
};

struct Bare;

impl Guest for Bare {
    fn list_tools() -> Vec<Tool> {
        vec![Tool {
            name: "shout".into(),
            title: None,
            description: Some("Returns `text` in capitals".into()),
            input_schema: r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#.into(),
            output_schema: None,
            annotations: None,
        }]
    }

    fn call_tool(name: String, arguments: String) -> Result<CallResult, ServerError> {
        if name != "shout" {
            return Err(ServerError::NotFound(format!("no tool `{name}`")));
        }
        let arguments: serde_json::Value =
            serde_json::from_str(&arguments).map_err(|e| ServerError::InvalidParams(e.to_string()))?;
        let text = arguments["text"]
            .as_str()
            .ok_or_else(|| ServerError::InvalidParams("argument `text` must be a string".into()))?;
        Ok(CallResult {
            content: vec![ContentBlock::Text(text.to_uppercase())],
            structured_content: None,
            is_error: false,
        })
    }

    fn list_resources() -> Vec<ResourceInfo> {
        Vec::new()
    }

    fn list_resource_templates() -> Vec<ResourceTemplate> {
        Vec::new()
    }

    fn read_resource(uri: String) -> Result<Vec<ResourceContents>, ServerError> {
        Err(ServerError::NotFound(format!("no resource `{uri}`")))
    }

    fn list_prompts() -> Vec<PromptInfo> {
        Vec::new()
    }

    fn get_prompt(name: String, _arguments: Vec<(String, String)>) -> Result<PromptResult, ServerError> {
        Err(ServerError::NotFound(format!("no prompt `{name}`")))
    }

    fn complete(_target: CompletionRef, _argument: String, _value: String) -> Result<Vec<String>, ServerError> {
        Ok(Vec::new())
    }
}

export!(Bare);
