//! Dev-flow tools, as MCP tools.
//!
//! - `lint_commit`: Conventional Commits 1.0 linting ([`commit`]).
//! - `check_branch_name`: `<prefix>/<description>` naming rules ([`branch`]).
//! - `review_checklist`: a review checklist from a unified diff ([`review`]).

mod branch;
mod commit;
mod review;

use pa_tool::{Args, CallResult, Server, ServerError, Tool, Value, json, read_only_tool};

fn str_arg(args: &Args, name: &str) -> Result<String, String> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{name}` must be a string, got {other}")),
        None => Err(format!("missing argument `{name}`")),
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

/// A list of words (`types`, `prefixes`), or `default` when absent.
fn word_list(args: &Args, name: &str, default: &[&str]) -> Result<Vec<String>, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| match i.as_str() {
                Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
                    Ok(s.to_string())
                }
                _ => Err(format!("`{name}` must list words (letters, digits, `-`, `_`), got {i}")),
            })
            .collect(),
        Some(other) => Err(format!("`{name}` must be a non-empty array of strings, got {other}")),
    }
}

fn lint_commit(args: &Args) -> Result<Value, String> {
    let message = str_arg(args, "message")?;
    let rules = commit::Rules {
        types: word_list(args, "types", commit::DEFAULT_TYPES)?,
        max_header_length: opt_uint(args, "max_header_length", 100, 10, 1000)?,
        max_body_line_length: opt_uint(args, "max_body_line_length", 100, 10, 10_000)?,
    };
    Ok(commit::lint_commit(&message, &rules))
}

fn check_branch(args: &Args) -> Result<Value, String> {
    let name = str_arg(args, "name")?;
    let prefixes = word_list(args, "prefixes", branch::DEFAULT_PREFIXES)?;
    let max_length = opt_uint(args, "max_length", 60, 8, 255)?;
    Ok(branch::check_branch_name(&name, &prefixes, max_length))
}

fn checklist(args: &Args) -> Result<Value, String> {
    let diff = str_arg(args, "diff")?;
    let large = opt_uint(args, "large_change_lines", 400, 1, 1_000_000)?;
    review::review_checklist(&diff, large)
}

struct DevFlow;

impl Server for DevFlow {
    fn list_tools() -> Vec<Tool> {
        let problems = json!({ "type": "array", "items": { "type": "object", "properties": {
            "line": { "type": "integer" }, "rule": { "type": "string" }, "message": { "type": "string" } },
            "required": ["line", "rule", "message"] } });
        vec![
            read_only_tool(
                "lint_commit",
                "Lint a commit message",
                "Checks a commit message against Conventional Commits 1.0 (`type(scope)!: description`, blank line, \
                 body, blank line, footers, `BREAKING CHANGE:`) and returns its parts, errors and warnings with line numbers.",
                json!({
                    "type": "object",
                    "properties": {
                        "message": { "type": "string", "description": "The full commit message." },
                        "types": { "type": "array", "items": { "type": "string" }, "description": "Allowed types (default: feat, fix, docs, style, refactor, perf, test, build, ci, chore, revert)." },
                        "max_header_length": { "type": "integer", "minimum": 10, "maximum": 1000, "default": 100 },
                        "max_body_line_length": { "type": "integer", "minimum": 10, "maximum": 10000, "default": 100 }
                    },
                    "required": ["message"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": { "valid": { "type": "boolean" }, "commit": {}, "errors": problems, "warnings": problems },
                    "required": ["valid", "commit", "errors", "warnings"]
                }),
            ),
            read_only_tool(
                "check_branch_name",
                "Check a branch name",
                "Checks a git branch name: `<prefix>/<short-description>`, lower case, a-z 0-9 `-` `.` `_` `/` only, \
                 git ref rules, a length limit; `main`, `master`, `develop` and `trunk` are accepted. Suggests a fix.",
                json!({
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "prefixes": { "type": "array", "items": { "type": "string" }, "description": "Allowed prefixes (default: feat, fix, docs, style, refactor, perf, test, build, ci, chore, release, hotfix)." },
                        "max_length": { "type": "integer", "minimum": 8, "maximum": 255, "default": 60 }
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "valid": { "type": "boolean" }, "protected": { "type": "boolean" },
                        "prefix": { "type": ["string", "null"] }, "description": { "type": ["string", "null"] },
                        "errors": { "type": "array", "items": { "type": "string" } },
                        "suggestion": { "type": ["string", "null"] }
                    },
                    "required": ["valid", "errors"]
                }),
            ),
            read_only_tool(
                "review_checklist",
                "Review checklist from a diff",
                "Reads a unified diff and returns a review checklist: files touched, tests touched or not, migrations, \
                 large changes, TODOs and debugging statements added, secret-looking strings, dependency and CI changes; \
                 with file and line evidence and a Markdown rendering.",
                json!({
                    "type": "object",
                    "properties": {
                        "diff": { "type": "string", "description": "A unified diff (`git diff` output)." },
                        "large_change_lines": { "type": "integer", "minimum": 1, "default": 400, "description": "Added + removed lines from which a file is a large change." }
                    },
                    "required": ["diff"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "summary": { "type": "object" },
                        "files": { "type": "array", "items": { "type": "object" } },
                        "checklist": { "type": "array", "items": { "type": "object", "properties": {
                            "id": { "type": "string" }, "severity": { "type": "string", "enum": ["blocker", "warning", "info"] },
                            "item": { "type": "string" }, "files": { "type": "array", "items": { "type": "string" } },
                            "evidence": { "type": "array" } }, "required": ["id", "severity", "item"] } },
                        "markdown": { "type": "string" }
                    },
                    "required": ["summary", "files", "checklist", "markdown"]
                }),
            ),
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        let result = match name.as_str() {
            "lint_commit" => lint_commit(&args),
            "check_branch_name" => check_branch(&args),
            "review_checklist" => checklist(&args),
            other => return Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        };
        Ok(match result {
            Ok(value) => CallResult::structured(value),
            Err(message) => CallResult::error(format!("{name}: {message}")),
        })
    }
}

pa_tool::export!(DevFlow);
