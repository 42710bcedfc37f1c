//! Release management from conventional commits, as MCP tools.
//!
//! - `next_version`: the semver bump the commits call for (see [`release`]
//!   for the rules, including the `0.y.z` ones).
//! - `changelog`: a Markdown changelog entry grouped by type.
//! - `release_notes`: user-facing release notes.
//!
//! Commits are given newest first or in any order, as strings (the full
//! message) or objects `{message, hash?, author?}`.

mod release;

use pa_tool::{Args, CallResult, Server, ServerError, Tool, Value, json, read_only_tool};
use release::Commit;

fn commits(args: &Args) -> Result<Vec<Commit>, String> {
    let list = match args.get("commits") {
        Some(Value::Array(list)) => list,
        Some(other) => return Err(format!("`commits` must be an array, got {other}")),
        None => return Err("missing argument `commits`".into()),
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| match c {
            Value::String(m) if !m.trim().is_empty() => Ok(Commit {
                message: m.clone(),
                hash: None,
                author: None,
            }),
            Value::Object(o) => {
                let field = |k: &str| -> Result<Option<String>, String> {
                    match o.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(other) => Err(format!("`commits[{i}].{k}` must be a string, got {other}")),
                    }
                };
                let message = field("message")?
                    .filter(|m| !m.trim().is_empty())
                    .ok_or_else(|| format!("`commits[{i}].message` is required"))?;
                let hash = field("hash")?;
                if let Some(h) = &hash
                    && (h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()))
                {
                    return Err(format!(
                        "`commits[{i}].hash` must be a hexadecimal commit id, got `{h}`"
                    ));
                }
                Ok(Commit {
                    message,
                    hash,
                    author: field("author")?,
                })
            }
            other => Err(format!(
                "`commits[{i}]` must be a non-empty message or an object {{message, hash?, author?}}, got {other}"
            )),
        })
        .collect()
}

fn opt_str(args: &Args, name: &str) -> Result<Option<String>, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("`{name}` must be a non-empty string, got {other}")),
    }
}

/// `YYYY-MM-DD` (the tools never read the clock, so dates are given).
fn date(args: &Args) -> Result<Option<String>, String> {
    let d = opt_str(args, "date")?;
    if let Some(d) = &d {
        let b = d.as_bytes();
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
            && (1..=12).contains(&d[5..7].parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&d[8..10].parse::<u32>().unwrap_or(0));
        if !ok {
            return Err(format!("`date` must be YYYY-MM-DD, got `{d}`"));
        }
    }
    Ok(d)
}

/// The release's version: `version` if given, else computed from `current`.
fn version(args: &Args, commits: &[Commit]) -> Result<(String, Option<String>), String> {
    let current = opt_str(args, "current")?;
    match (opt_str(args, "version")?, &current) {
        (Some(v), _) => {
            release::Version::parse(&v)?;
            Ok((v, current))
        }
        (None, Some(c)) => {
            let next = release::next_version(c, commits)?;
            Ok((next["next"].as_str().unwrap_or_default().to_string(), current))
        }
        (None, None) => Err("give `version`, or `current` to compute the next version from the commits".into()),
    }
}

fn run(name: &str, args: &Args) -> Result<Value, String> {
    let commits = commits(args)?;
    match name {
        "next_version" => {
            let current = opt_str(args, "current")?.ok_or("missing argument `current` (e.g. `1.4.2`)")?;
            release::next_version(&current, &commits)
        }
        "changelog" => {
            let (version, previous) = version(args, &commits)?;
            let date = date(args)?;
            let url = opt_str(args, "repository_url")?;
            if let Some(u) = &url
                && !(u.starts_with("https://") || u.starts_with("http://"))
            {
                return Err(format!("`repository_url` must be an http(s) URL, got `{u}`"));
            }
            let info = release::ReleaseInfo {
                version: &version,
                previous: previous.as_deref(),
                date: date.as_deref(),
                repository_url: url.as_deref(),
            };
            Ok(release::changelog(&commits, &info))
        }
        "release_notes" => {
            let (version, _) = version(args, &commits)?;
            Ok(release::release_notes(
                &commits,
                opt_str(args, "product")?.as_deref(),
                &version,
                date(args)?.as_deref(),
            ))
        }
        other => Err(format!("no tool named `{other}`")),
    }
}

struct ReleaseMgmt;

impl Server for ReleaseMgmt {
    fn list_tools() -> Vec<Tool> {
        let commits = json!({
            "type": "array",
            "minItems": 1,
            "description": "Commit messages: strings, or objects with `message`, optional `hash` and `author`.",
            "items": { "anyOf": [
                { "type": "string", "minLength": 1 },
                { "type": "object", "properties": {
                    "message": { "type": "string", "minLength": 1 },
                    "hash": { "type": "string", "pattern": "^[0-9a-fA-F]+$" },
                    "author": { "type": "string" } }, "required": ["message"] }
            ] }
        });
        let semver = json!({ "type": "string", "pattern": "^v?(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$" });
        let date = json!({ "type": "string", "format": "date", "description": "Release date, YYYY-MM-DD." });
        vec![
            read_only_tool(
                "next_version",
                "Next semantic version",
                "Computes the next semantic version from conventional commit messages: a breaking change bumps major, \
                 feat bumps minor, anything else patch. In 0.y.z a breaking change bumps minor and a feat patch.",
                json!({
                    "type": "object",
                    "properties": { "current": semver, "commits": commits },
                    "required": ["current", "commits"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "current": { "type": "string" }, "next": { "type": "string" },
                        "bump": { "type": "string", "enum": ["major", "minor", "patch"] },
                        "initial_development": { "type": "boolean" },
                        "reasons": { "type": "array", "items": { "type": "object" } }
                    },
                    "required": ["current", "next", "bump", "initial_development", "reasons"]
                }),
            ),
            read_only_tool(
                "changelog",
                "Changelog entry",
                "Writes a Markdown changelog entry from conventional commits: breaking changes first, then Features, \
                 Bug Fixes, Performance, Reverts, Documentation, Refactoring, Tests, Build/CI and other changes; with \
                 commit links when a repository URL is given. The version is `version` or the next one after `current`.",
                json!({
                    "type": "object",
                    "properties": {
                        "commits": commits, "version": semver, "current": semver, "date": date,
                        "repository_url": { "type": "string", "description": "Base URL for `/commit/<hash>` and `/compare/<a>...<b>` links." }
                    },
                    "required": ["commits"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": { "version": { "type": "string" }, "markdown": { "type": "string" }, "sections": { "type": "object" } },
                    "required": ["version", "markdown", "sections"]
                }),
            ),
            read_only_tool(
                "release_notes",
                "Release notes",
                "Writes user-facing release notes in Markdown: a summary, breaking changes with upgrade notes, new \
                 features, bug fixes, other changes and contributors. The version is `version` or the next one after `current`.",
                json!({
                    "type": "object",
                    "properties": {
                        "commits": commits, "version": semver, "current": semver, "date": date,
                        "product": { "type": "string", "description": "Product name for the title." }
                    },
                    "required": ["commits"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "version": { "type": "string" }, "title": { "type": "string" }, "markdown": { "type": "string" },
                        "counts": { "type": "object", "properties": { "breaking": { "type": "integer" }, "features": { "type": "integer" }, "fixes": { "type": "integer" }, "other": { "type": "integer" } } },
                        "contributors": { "type": "array", "items": { "type": "string" } }
                    },
                    "required": ["version", "title", "markdown", "counts", "contributors"]
                }),
            ),
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        if !["next_version", "changelog", "release_notes"].contains(&name.as_str()) {
            return Err(ServerError::NotFound(format!("no tool named `{name}`")));
        }
        Ok(match run(&name, &args) {
            Ok(value) => CallResult::structured(value),
            Err(message) => CallResult::error(format!("{name}: {message}")),
        })
    }
}

pa_tool::export!(ReleaseMgmt);
