//! Write a PowerAutomation MCP tool server in a few lines.
//!
//! Implement [`Server`] (only [`Server::list_tools`] and [`Server::call_tool`]
//! are required) and export it with [`export!`]:
//!
//! ```ignore
//! struct Echo;
//! impl pa_tool::Server for Echo {
//!     fn list_tools() -> Vec<pa_tool::Tool> {
//!         vec![pa_tool::tool("echo", "Returns its text", r#"{"type":"object","properties":{"text":{"type":"string"}}}"#)]
//!     }
//!     fn call_tool(name: String, args: pa_tool::Args) -> Result<pa_tool::CallResult, pa_tool::ServerError> {
//!         Ok(pa_tool::CallResult::text(args.str("text")?))
//!     }
//! }
//! pa_tool::export!(Echo);
//! ```

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "powerautomation:plugin/task-tool-server",
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "pa_tool::bindings",
    });
}

pub use bindings::exports::powerautomation::plugin::tasks::TaskSupport;
pub use bindings::powerautomation::plugin::host::{self, log};
pub use bindings::powerautomation::plugin::types::*;
pub use bindings::powerautomation::plugin::{config, key_value};
pub use serde_json::{self, Value, json};

/// A tool server. Resources, prompts and completion default to none.
pub trait Server {
    /// The tools offered.
    fn list_tools() -> Vec<Tool>;
    /// Calls tool `name`.
    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError>;
    /// The resources offered.
    fn list_resources() -> Vec<ResourceInfo> {
        Vec::new()
    }
    /// The resource templates offered.
    fn list_resource_templates() -> Vec<ResourceTemplate> {
        Vec::new()
    }
    /// Reads a resource.
    fn read_resource(uri: String) -> Result<Vec<ResourceContents>, ServerError> {
        Err(ServerError::NotFound(format!("no resource `{uri}`")))
    }
    /// The prompts offered.
    fn list_prompts() -> Vec<PromptInfo> {
        Vec::new()
    }
    /// Renders a prompt.
    fn get_prompt(name: String, _arguments: Vec<(String, String)>) -> Result<PromptResult, ServerError> {
        Err(ServerError::NotFound(format!("no prompt `{name}`")))
    }
    /// Completes an argument value.
    fn complete(_target: CompletionRef, _argument: String, _value: String) -> Result<Vec<String>, ServerError> {
        Ok(Vec::new())
    }
    /// The tools whose calls may become tasks (each begins one with
    /// [`host::begin_task`]); none by default.
    fn task_tools() -> Vec<(String, TaskSupport)> {
        Vec::new()
    }
}

/// Exports a [`Server`] implementation as the component's tool server.
#[macro_export]
macro_rules! export {
    ($server:ty) => {
        struct __PaToolExport;
        impl $crate::bindings::exports::powerautomation::plugin::tools::Guest for __PaToolExport {
            fn list_tools() -> Vec<$crate::Tool> {
                <$server as $crate::Server>::list_tools()
            }
            fn call_tool(name: String, arguments: String) -> Result<$crate::CallResult, $crate::ServerError> {
                let args = $crate::Args::parse(&arguments)?;
                <$server as $crate::Server>::call_tool(name, args)
            }
            fn list_resources() -> Vec<$crate::ResourceInfo> {
                <$server as $crate::Server>::list_resources()
            }
            fn list_resource_templates() -> Vec<$crate::ResourceTemplate> {
                <$server as $crate::Server>::list_resource_templates()
            }
            fn read_resource(uri: String) -> Result<Vec<$crate::ResourceContents>, $crate::ServerError> {
                <$server as $crate::Server>::read_resource(uri)
            }
            fn list_prompts() -> Vec<$crate::PromptInfo> {
                <$server as $crate::Server>::list_prompts()
            }
            fn get_prompt(
                name: String,
                arguments: Vec<(String, String)>,
            ) -> Result<$crate::PromptResult, $crate::ServerError> {
                <$server as $crate::Server>::get_prompt(name, arguments)
            }
            fn complete(
                target: $crate::CompletionRef,
                argument: String,
                value: String,
            ) -> Result<Vec<String>, $crate::ServerError> {
                <$server as $crate::Server>::complete(target, argument, value)
            }
        }
        impl $crate::bindings::exports::powerautomation::plugin::tasks::Guest for __PaToolExport {
            fn task_tools() -> Vec<(String, $crate::TaskSupport)> {
                <$server as $crate::Server>::task_tools()
            }
        }
        $crate::bindings::export_world!(__PaToolExport with_types_in $crate::bindings);
    };
}

/// A tool with a description and an input schema (JSON text).
pub fn tool(name: &str, description: &str, input_schema: &str) -> Tool {
    Tool {
        name: name.into(),
        title: None,
        description: Some(description.into()),
        input_schema: input_schema.into(),
        output_schema: None,
        annotations: None,
    }
}

/// The input schema of a tool without arguments.
pub const NO_ARGS: &str = r#"{"type":"object","properties":{}}"#;

/// Annotations of a tool that only reads its arguments: the same arguments
/// give the same answer, and nothing outside is touched.
pub const READ_ONLY: &str = r#"{"readOnlyHint":true,"idempotentHint":true,"openWorldHint":false}"#;

/// A read-only tool with a title and input and output schemas.
pub fn read_only_tool(name: &str, title: &str, description: &str, input: Value, output: Value) -> Tool {
    Tool {
        name: name.into(),
        title: Some(title.into()),
        description: Some(description.into()),
        input_schema: input.to_string(),
        output_schema: Some(output.to_string()),
        annotations: Some(READ_ONLY.into()),
    }
}

impl CallResult {
    /// A structured result, also given as JSON text for clients that read only text.
    pub fn structured(value: Value) -> CallResult {
        CallResult {
            content: vec![ContentBlock::Text(value.to_string())],
            structured_content: Some(value.to_string()),
            is_error: false,
        }
    }

    /// A successful result of one text block.
    pub fn text(text: impl Into<String>) -> CallResult {
        CallResult::content(vec![ContentBlock::Text(text.into())])
    }

    /// A successful result of these blocks.
    pub fn content(content: Vec<ContentBlock>) -> CallResult {
        CallResult {
            content,
            structured_content: None,
            is_error: false,
        }
    }

    /// A tool error the model sees (`isError: true`).
    pub fn error(text: impl Into<String>) -> CallResult {
        CallResult {
            is_error: true,
            ..CallResult::text(text)
        }
    }
}

/// The arguments of a tool call: a JSON object.
pub struct Args(pub serde_json::Map<String, Value>);

impl Args {
    /// Parses the JSON text the host passes.
    pub fn parse(text: &str) -> Result<Args, ServerError> {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(Args(map)),
            Ok(Value::Null) => Ok(Args(Default::default())),
            Ok(_) => Err(ServerError::InvalidParams("arguments must be a JSON object".into())),
            Err(e) => Err(ServerError::InvalidParams(format!("arguments are not valid JSON: {e}"))),
        }
    }

    /// Argument `name` as a string (required).
    pub fn str(&self, name: &str) -> Result<String, ServerError> {
        match self.0.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(ServerError::InvalidParams(format!(
                "argument `{name}` must be a string, got {other}"
            ))),
            None => Err(ServerError::InvalidParams(format!("missing argument `{name}`"))),
        }
    }

    /// Argument `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Logs `message` at `level` to the client.
pub fn log_text(level: LogLevel, message: &str) {
    log(level, None, &Value::String(message.into()).to_string());
}

/// Asks the client's model (MCP sampling); `request` is the
/// `sampling/createMessage` params. Returns the result object.
pub fn sample(request: &Value) -> Result<Value, String> {
    let answer = host::sample(&request.to_string())?;
    serde_json::from_str(&answer).map_err(|e| format!("the client's answer is not JSON: {e}"))
}

/// Asks the user (MCP elicitation); `request` is the `elicitation/create`
/// params. Returns the result object (`action`, `content`).
pub fn elicit(request: &Value) -> Result<Value, String> {
    let answer = host::elicit(&request.to_string())?;
    serde_json::from_str(&answer).map_err(|e| format!("the client's answer is not JSON: {e}"))
}

/// Asks the client several questions at once (`(key, method, params)`):
/// elicitation, sampling or roots. Returns each answer by key. Over the
/// stateless protocol the tool runs again from the start once they are
/// answered, so ask before doing anything irreversible.
pub fn ask(questions: &[(&str, &str, Value)]) -> Result<serde_json::Map<String, Value>, String> {
    let requests: Vec<InputRequest> = questions
        .iter()
        .map(|(key, method, params)| InputRequest {
            key: key.to_string(),
            method: method.to_string(),
            params: params.to_string(),
        })
        .collect();
    let mut answers = serde_json::Map::new();
    for (key, answer) in host::ask(&requests)? {
        let answer = serde_json::from_str(&answer).map_err(|e| format!("the client's answer is not JSON: {e}"))?;
        answers.insert(key, answer);
    }
    Ok(answers)
}

/// The capabilities the client declared (`sampling`, `elicitation`, `roots`, …).
pub fn client_capabilities() -> Value {
    serde_json::from_str(&host::client_capabilities()).unwrap_or(Value::Null)
}
