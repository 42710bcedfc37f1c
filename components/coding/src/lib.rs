//! Coding tools: diff, format and lint of given sources, as MCP tools.
//!
//! - `diff`: a unified diff of two texts (Myers' algorithm, [`diff`]).
//! - `format_json`: JSON re-indented (key order kept) or compacted.
//! - `format`: JSON, or whitespace normalisation of any text ([`format`]).
//! - `lint`: line-based checks with line and column numbers ([`lint`]).

mod diff;
mod format;
mod lint;

use pa_tool::{Args, CallResult, Server, ServerError, Tool, Value, json, read_only_tool};

/// Longest accepted input text (each), in bytes.
const MAX_TEXT: usize = 2 * 1024 * 1024;

fn text_arg(args: &Args, name: &str) -> Result<String, String> {
    match args.get(name) {
        Some(Value::String(s)) if s.len() > MAX_TEXT => Err(format!("`{name}` is longer than {MAX_TEXT} bytes")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{name}` must be a string, got {}", kind(other))),
        None => Err(format!("missing argument `{name}`")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_str(args: &Args, name: &str, default: &str) -> Result<String, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default.into()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{name}` must be a string, got {}", kind(other))),
    }
}

fn opt_bool(args: &Args, name: &str, default: bool) -> Result<bool, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("`{name}` must be a boolean, got {}", kind(other))),
    }
}

fn opt_uint(args: &Args, name: &str, default: usize, min: usize, max: usize) -> Result<usize, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if (min as u64..=max as u64).contains(&n) => Ok(n as usize),
            _ => Err(format!("`{name}` must be an integer from {min} to {max}, got {v}")),
        },
    }
}

fn run_diff(args: &Args) -> Result<Value, String> {
    let old = text_arg(args, "old")?;
    let new = text_arg(args, "new")?;
    let old_name = opt_str(args, "old_name", "a")?;
    let new_name = opt_str(args, "new_name", "b")?;
    let context = opt_uint(args, "context", 3, 0, 100)?;
    let d = diff::unified(&old, &new, &old_name, &new_name, context);
    Ok(json!({ "diff": d.text, "identical": d.hunks == 0, "hunks": d.hunks, "added": d.added, "removed": d.removed }))
}

fn run_format_json(args: &Args) -> Result<Value, String> {
    let text = text_arg(args, "text")?;
    let indent = opt_uint(args, "indent", 2, 0, 8)?;
    let sort_keys = opt_bool(args, "sort_keys", false)?;
    let final_newline = opt_bool(args, "final_newline", true)?;
    let formatted = format::format_json(&text, indent, sort_keys, final_newline)?;
    Ok(json!({ "changed": formatted != text, "formatted": formatted }))
}

fn run_format(args: &Args) -> Result<Value, String> {
    match opt_str(args, "language", "text")?.as_str() {
        "json" => run_format_json(args),
        "text" => {
            let text = text_arg(args, "text")?;
            let tab_width = match args.get("tabs_to_spaces") {
                None | Some(Value::Null) => None,
                Some(_) => Some(opt_uint(args, "tabs_to_spaces", 4, 1, 16)?),
            };
            let options = format::TextOptions {
                tab_width,
                trim_trailing: opt_bool(args, "trim_trailing_whitespace", true)?,
                final_newline: opt_bool(args, "final_newline", true)?,
                line_endings: opt_str(args, "line_endings", "lf")?,
            };
            let (formatted, changes) = format::normalize_text(&text, &options)?;
            Ok(json!({ "changed": formatted != text, "formatted": formatted, "changes": changes }))
        }
        other => Err(format!("`language` must be `json` or `text`, not `{other}`")),
    }
}

fn run_lint(args: &Args) -> Result<Value, String> {
    let text = text_arg(args, "text")?;
    let max = opt_uint(args, "max_line_length", 100, 1, 10_000)?;
    let rules = match args.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| {
                r.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`rules` must list strings, got {r}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`rules` must be an array of rule names, got {}", kind(other))),
    };
    let issues = lint::lint(&text, max, &rules)?;
    let mut counts = serde_json::Map::new();
    for issue in &issues {
        let n = counts.get(issue.rule).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(issue.rule.to_string(), json!(n + 1));
    }
    Ok(json!({
        "ok": issues.is_empty(),
        "issues": issues.iter().map(lint::Issue::to_json).collect::<Vec<_>>(),
        "counts": counts,
    }))
}

struct Coding;

impl Server for Coding {
    fn list_tools() -> Vec<Tool> {
        let text = json!({ "type": "string", "description": "The source text." });
        let final_newline =
            json!({ "type": "boolean", "default": true, "description": "End the output with one newline." });
        let format_json_props = json!({
            "text": text,
            "indent": { "type": "integer", "minimum": 0, "maximum": 8, "default": 2, "description": "Spaces per level; 0 gives compact JSON." },
            "sort_keys": { "type": "boolean", "default": false, "description": "Sort object keys (numbers are then re-serialised)." },
            "final_newline": final_newline,
        });
        let mut format_props = format_json_props.clone();
        let extra = json!({
            "language": { "type": "string", "enum": ["text", "json"], "default": "text", "description": "`json` formats JSON (as format_json); `text` normalises whitespace." },
            "tabs_to_spaces": { "type": "integer", "minimum": 1, "maximum": 16, "description": "Expand tabs to this tab width (text only); tabs are kept when absent." },
            "trim_trailing_whitespace": { "type": "boolean", "default": true },
            "line_endings": { "type": "string", "enum": ["lf", "crlf", "keep"], "default": "lf" },
        });
        for (k, v) in extra.as_object().unwrap() {
            format_props[k] = v.clone();
        }
        let formatted_output = |with_changes: bool| {
            let mut props = json!({ "formatted": { "type": "string" }, "changed": { "type": "boolean" } });
            if with_changes {
                props["changes"] = json!({ "type": "object" });
            }
            json!({ "type": "object", "properties": props, "required": ["formatted", "changed"] })
        };
        vec![
            read_only_tool(
                "diff",
                "Unified diff",
                "Computes a unified diff (Myers' algorithm, line based) of two texts, with hunk headers as GNU diff \
                 writes them and `\\ No newline at end of file` markers.",
                json!({
                    "type": "object",
                    "properties": {
                        "old": { "type": "string", "description": "The original text." },
                        "new": { "type": "string", "description": "The changed text." },
                        "old_name": { "type": "string", "default": "a", "description": "Name on the `---` line." },
                        "new_name": { "type": "string", "default": "b", "description": "Name on the `+++` line." },
                        "context": { "type": "integer", "minimum": 0, "maximum": 100, "default": 3, "description": "Unchanged lines around each change." }
                    },
                    "required": ["old", "new"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "diff": { "type": "string" }, "identical": { "type": "boolean" },
                        "hunks": { "type": "integer" }, "added": { "type": "integer" }, "removed": { "type": "integer" }
                    },
                    "required": ["diff", "identical", "hunks", "added", "removed"]
                }),
            ),
            read_only_tool(
                "format_json",
                "Format JSON",
                "Re-indents JSON keeping key order and number spelling (or sorts keys), or compacts it with indent 0. \
                 Invalid JSON is reported with line and column.",
                json!({ "type": "object", "properties": format_json_props, "required": ["text"], "additionalProperties": false }),
                formatted_output(false),
            ),
            read_only_tool(
                "format",
                "Format source text",
                "Formats JSON (language `json`) or normalises the whitespace of any text: trailing spaces removed, \
                 tabs expanded to spaces (optional), line endings unified, exactly one final newline.",
                json!({ "type": "object", "properties": format_props, "required": ["text"], "additionalProperties": false }),
                formatted_output(true),
            ),
            read_only_tool(
                "lint",
                "Lint source text",
                "Line-based checks with line and column: long-line, trailing-whitespace, tab, todo (TODO/FIXME/XXX/HACK), \
                 mixed-line-endings, final-newline.",
                json!({
                    "type": "object",
                    "properties": {
                        "text": text,
                        "max_line_length": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 100 },
                        "rules": { "type": "array", "items": { "type": "string", "enum": lint::RULES }, "description": "Rules to run (all when absent)." }
                    },
                    "required": ["text"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "ok": { "type": "boolean" },
                        "issues": { "type": "array", "items": { "type": "object", "properties": {
                            "line": { "type": "integer" }, "column": { "type": "integer" },
                            "rule": { "type": "string" }, "message": { "type": "string" } },
                            "required": ["line", "column", "rule", "message"] } },
                        "counts": { "type": "object", "additionalProperties": { "type": "integer" } }
                    },
                    "required": ["ok", "issues", "counts"]
                }),
            ),
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        let result = match name.as_str() {
            "diff" => run_diff(&args),
            "format_json" => run_format_json(&args),
            "format" => run_format(&args),
            "lint" => run_lint(&args),
            other => return Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        };
        Ok(match result {
            Ok(value) => CallResult::structured(value),
            Err(message) => CallResult::error(format!("{name}: {message}")),
        })
    }
}

pa_tool::export!(Coding);
