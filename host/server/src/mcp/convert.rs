//! The tool-server world's values as MCP JSON.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pa_runtime::tool_types::{
    CallResult, ContentBlock, LogLevel, PromptResult, ResourceBody, ResourceContents, ServerError,
};
use serde_json::{Value, json};

use super::jsonrpc::RpcError;

/// Adds each optional string field that is present to a JSON object.
pub fn with_optional(mut object: Value, fields: &[(&str, &Option<String>)]) -> Value {
    for (key, value) in fields {
        if let Some(value) = value {
            object[*key] = value.clone().into();
        }
    }
    object
}

/// A resource's contents: `{uri, mimeType, text | blob}`.
pub fn resource_contents(contents: &ResourceContents) -> Value {
    let mut object = with_optional(json!({ "uri": contents.uri }), &[("mimeType", &contents.mime_type)]);
    match &contents.body {
        ResourceBody::Text(text) => object["text"] = text.clone().into(),
        ResourceBody::Blob(bytes) => object["blob"] = STANDARD.encode(bytes).into(),
    }
    object
}

/// A content block of a tool result or prompt message.
pub fn content_block(block: &ContentBlock) -> Value {
    match block {
        ContentBlock::Text(text) => json!({ "type": "text", "text": text }),
        ContentBlock::Image(media) => {
            json!({ "type": "image", "data": STANDARD.encode(&media.data), "mimeType": media.mime_type })
        }
        ContentBlock::Audio(media) => {
            json!({ "type": "audio", "data": STANDARD.encode(&media.data), "mimeType": media.mime_type })
        }
        ContentBlock::EmbeddedResource(contents) => {
            json!({ "type": "resource", "resource": resource_contents(contents) })
        }
        ContentBlock::ResourceLink(link) => with_optional(
            json!({ "type": "resource_link", "uri": link.uri, "name": link.name }),
            &[
                ("title", &link.title),
                ("description", &link.description),
                ("mimeType", &link.mime_type),
            ],
        ),
    }
}

/// A `tools/call` result. Structured content that is not JSON is a tool error.
pub fn call_result(result: &CallResult) -> Value {
    let content: Vec<Value> = result.content.iter().map(content_block).collect();
    let mut object = json!({ "content": content, "isError": result.is_error });
    if let Some(structured) = &result.structured_content {
        match serde_json::from_str::<Value>(structured) {
            Ok(value) => object["structuredContent"] = value,
            Err(e) => return tool_error(&format!("the tool returned structured content that is not JSON: {e}")),
        }
    }
    object
}

/// A tool error result the model sees.
pub fn tool_error(message: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

/// A `prompts/get` result.
pub fn prompt_result(result: &PromptResult) -> Value {
    let messages: Vec<Value> = result
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                pa_runtime::tool_types::Role::User => "user",
                pa_runtime::tool_types::Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": content_block(&m.content) })
        })
        .collect();
    let mut object = json!({ "messages": messages });
    if let Some(description) = &result.description {
        object["description"] = description.clone().into();
    }
    object
}

/// A server error as the JSON-RPC error the client gets.
pub fn server_error(error: ServerError) -> RpcError {
    match error {
        ServerError::NotFound(message) | ServerError::InvalidParams(message) => RpcError::invalid_params(message),
        ServerError::Internal(message) => RpcError::new(super::jsonrpc::INTERNAL_ERROR, message),
    }
}

/// MCP's name of a log level.
pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Notice => "notice",
        LogLevel::Warning => "warning",
        LogLevel::Error => "error",
        LogLevel::Critical => "critical",
        LogLevel::Alert => "alert",
        LogLevel::Emergency => "emergency",
    }
}

/// The severity rank of an MCP level name (`debug` = 0 … `emergency` = 7).
pub fn level_rank(name: &str) -> Option<u8> {
    [
        "debug",
        "info",
        "notice",
        "warning",
        "error",
        "critical",
        "alert",
        "emergency",
    ]
    .iter()
    .position(|l| *l == name)
    .map(|p| p as u8)
}
