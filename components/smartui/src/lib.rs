//! SmartUI: accessible HTML from data descriptions, as MCP tools.
//!
//! - `form_from_schema`: an HTML form from a JSON Schema ([`form`]).
//! - `layout_from_description`: a page skeleton with landmarks and a clean
//!   heading outline from a structured description ([`layout`]).
//!
//! Both return the HTML and the accessibility checks the output was verified
//! against, as structured content.

mod form;
mod html;
mod layout;

use pa_tool::{Args, CallResult, ContentBlock, Server, ServerError, Tool, Value, json};

const READ_ONLY: &str = r#"{"readOnlyHint":true,"idempotentHint":true,"openWorldHint":false}"#;

const CHECKS_SCHEMA: &str = r#"{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"passed":{"type":"boolean"},"detail":{"type":"string"}},"required":["id","passed","detail"]}}"#;

fn form_input_schema() -> String {
    json!({
        "type": "object",
        "properties": {
            "schema": { "type": "object", "description": "A JSON Schema of an object: `properties`, `required`, `title`, `description`, `enum`, `format`, `minimum`/`maximum`, `minLength`/`maxLength`, `pattern`, `default`, nested objects and local `$ref`s. `x-order` on an object lists its properties' order." },
            "title": { "type": "string", "description": "Heading that names the form (its accessible name)." },
            "action": { "type": "string", "description": "Form action URL.", "default": "" },
            "method": { "type": "string", "enum": ["get", "post"], "default": "post" },
            "submit_label": { "type": "string", "default": "Submit" },
            "id_prefix": { "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$", "default": "form", "description": "Prefix of every element id." },
            "order": { "type": "array", "items": { "type": "string" }, "description": "Order of the top-level fields (others follow alphabetically)." }
        },
        "required": ["schema"],
        "additionalProperties": false
    })
    .to_string()
}

fn form_output_schema() -> String {
    format!(
        r#"{{"type":"object","properties":{{"html":{{"type":"string"}},"fields":{{"type":"array","items":{{"type":"object","properties":{{"name":{{"type":"string"}},"id":{{"type":"string"}},"control":{{"type":"string"}},"required":{{"type":"boolean"}}}},"required":["name","id","control","required"]}}}},"checks":{CHECKS_SCHEMA}}},"required":["html","fields","checks"]}}"#
    )
}

fn layout_input_schema() -> String {
    let section = json!({
        "type": "object",
        "properties": {
            "heading": { "type": "string", "minLength": 1 },
            "text": { "type": "string", "description": "Paragraphs separated by blank lines." },
            "sections": { "type": "array", "items": { "$ref": "#/$defs/section" }, "description": "Subsections (one heading level deeper, down to h6)." }
        },
        "required": ["heading"]
    });
    json!({
        "type": "object",
        "properties": {
            "title": { "type": "string", "minLength": 1, "description": "Page title: the <title> and the single <h1>." },
            "lang": { "type": "string", "default": "en", "description": "Language tag of the page." },
            "site": { "type": "string", "description": "Site name shown in the header." },
            "summary": { "type": "string", "description": "Intro paragraph and meta description." },
            "nav": { "type": "array", "items": { "type": "object", "properties": { "label": { "type": "string" }, "href": { "type": "string" }, "current": { "type": "boolean" } }, "required": ["label", "href"] } },
            "search": { "type": "boolean", "default": false, "description": "Add a site search form." },
            "sections": { "type": "array", "items": { "$ref": "#/$defs/section" } },
            "aside": { "type": "object", "properties": { "heading": { "type": "string" }, "text": { "type": "string" } }, "required": ["heading"] },
            "footer": { "type": "string" }
        },
        "required": ["title"],
        "$defs": { "section": section }
    })
    .to_string()
}

fn layout_output_schema() -> String {
    format!(
        r#"{{"type":"object","properties":{{"html":{{"type":"string"}},"landmarks":{{"type":"array","items":{{"type":"string"}}}},"outline":{{"type":"array","items":{{"type":"object","properties":{{"level":{{"type":"integer"}},"text":{{"type":"string"}},"id":{{"type":"string"}}}}}}}},"checks":{CHECKS_SCHEMA}}},"required":["html","landmarks","outline","checks"]}}"#
    )
}

fn tool(name: &str, title: &str, description: &str, input: String, output: String) -> Tool {
    Tool {
        name: name.into(),
        title: Some(title.into()),
        description: Some(description.into()),
        input_schema: input,
        output_schema: Some(output),
        annotations: Some(READ_ONLY.into()),
    }
}

/// A result carrying `value` as structured content and as JSON text.
fn structured(value: Value) -> CallResult {
    CallResult {
        content: vec![ContentBlock::Text(value.to_string())],
        structured_content: Some(value.to_string()),
        is_error: false,
    }
}

fn opt_str(args: &Args, name: &str, default: &str) -> Result<String, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{name}` must be a string, got {other}")),
    }
}

fn form(args: &Args) -> Result<Value, String> {
    let schema = args
        .get("schema")
        .ok_or("missing argument `schema` (a JSON Schema object)")?;
    let order = match args.get("order") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`order` must list strings, got {i}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`order` must be an array of property names, got {other}")),
    };
    let id_prefix = opt_str(args, "id_prefix", "form")?;
    if !id_prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        || !id_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "`id_prefix` must start with a letter and use letters, digits, `-`, `_`: `{id_prefix}`"
        ));
    }
    let title = match args.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(other) => return Err(format!("`title` must be a non-empty string, got {other}")),
    };
    let options = form::FormOptions {
        title,
        action: opt_str(args, "action", "")?,
        method: opt_str(args, "method", "post")?,
        submit_label: opt_str(args, "submit_label", "Submit")?,
        id_prefix,
        order,
    };
    let form = form::form_from_schema(schema, &options)?;
    Ok(json!({ "html": form.html, "fields": form.fields, "checks": form.checks }))
}

fn layout(args: &Args) -> Result<Value, String> {
    let page = layout::layout_from_description(&Value::Object(args.0.clone()))?;
    Ok(json!({ "html": page.html, "landmarks": page.landmarks, "outline": page.outline, "checks": page.checks }))
}

struct SmartUi;

impl Server for SmartUi {
    fn list_tools() -> Vec<Tool> {
        vec![
            tool(
                "form_from_schema",
                "Accessible form from a JSON Schema",
                "Generates an accessible HTML form from a JSON Schema of an object: labels tied to inputs, required marks, \
                 input types from types and formats, enums as selects, descriptions linked with aria-describedby, \
                 nested objects as fieldset/legend. Returns the HTML, the fields and the accessibility checks it passed.",
                form_input_schema(),
                form_output_schema(),
            ),
            tool(
                "layout_from_description",
                "Accessible page skeleton",
                "Generates an accessible HTML page skeleton (lang, title, skip link, header/nav/search/main/aside/footer \
                 landmarks, one h1 and a heading outline without skipped levels) from a structured description.",
                layout_input_schema(),
                layout_output_schema(),
            ),
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        let result = match name.as_str() {
            "form_from_schema" => form(&args),
            "layout_from_description" => layout(&args),
            other => return Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        };
        Ok(match result {
            Ok(value) => structured(value),
            Err(message) => CallResult::error(format!("{name}: {message}")),
        })
    }
}

pa_tool::export!(SmartUi);
