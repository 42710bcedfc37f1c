//! Operations tools, as MCP tools.
//!
//! - `parse_prometheus`: Prometheus text exposition → samples ([`prom`]).
//! - `check_thresholds`: rules over those samples → pass/fail ([`thresholds`]).
//! - `http_probe`: an HTTP GET health probe through the plugin's outbound
//!   allowlist, with status and latency ([`probe`]).

mod probe;
mod prom;
mod thresholds;

use pa_tool::{Args, CallResult, ContentBlock, Server, ServerError, Tool, Value, json, read_only_tool};

/// The probe reads only, but what it reads is outside (an open world).
const PROBE_HINTS: &str = r#"{"readOnlyHint":true,"idempotentHint":true,"openWorldHint":true}"#;

/// Longest accepted exposition text, in bytes.
const MAX_TEXT: usize = 4 * 1024 * 1024;

fn structured(value: Value, is_error: bool) -> CallResult {
    let text = match (&value["error"], is_error) {
        (Value::String(message), true) => message.clone(),
        _ => value.to_string(),
    };
    CallResult {
        content: vec![ContentBlock::Text(text)],
        structured_content: Some(value.to_string()),
        is_error,
    }
}

fn exposition(args: &Args) -> Result<String, String> {
    match args.get("text") {
        Some(Value::String(s)) if s.len() > MAX_TEXT => Err(format!("`text` is longer than {MAX_TEXT} bytes")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`text` must be a string, got {other}")),
        None => Err("missing argument `text` (Prometheus text exposition)".into()),
    }
}

fn parse_prometheus(args: &Args) -> Result<Value, String> {
    let (samples, families) = prom::parse(&exposition(args)?)?;
    let filter = match args.get("metric") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(other) => return Err(format!("`metric` must be a string, got {other}")),
    };
    let samples: Vec<Value> = samples
        .iter()
        .filter(|s| filter.as_ref().is_none_or(|m| &s.name == m))
        .map(|s| {
            let mut v = s.to_json();
            v["type"] = json!(prom::family_of(&s.name, &families).map_or("untyped", |f| f.kind.as_str()));
            v
        })
        .collect();
    let families: Vec<Value> = families
        .iter()
        .map(|f| json!({ "name": f.name, "type": f.kind, "help": f.help }))
        .collect();
    Ok(json!({ "count": samples.len(), "samples": samples, "families": families }))
}

fn check_thresholds(args: &Args) -> Result<Value, String> {
    let (samples, _) = prom::parse(&exposition(args)?)?;
    let rules = match args.get("rules") {
        Some(Value::Array(rules)) if !rules.is_empty() => rules,
        Some(_) => return Err("`rules` must be a non-empty array".into()),
        None => return Err("missing argument `rules`".into()),
    };
    let rules: Vec<thresholds::Rule> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| thresholds::parse_rule(i, r))
        .collect::<Result<_, _>>()?;
    let results: Vec<Value> = rules.iter().map(|r| thresholds::evaluate(r, &samples)).collect();
    let failed = results.iter().filter(|r| r["passed"] == false).count();
    Ok(json!({ "passed": failed == 0, "failed": failed, "total": results.len(), "results": results }))
}

/// Runs the probe; `Ok((report, is_error))`.
fn http_probe(args: &Args) -> Result<(Value, bool), String> {
    let url = match args.get("url") {
        Some(Value::String(u)) => u.trim().to_string(),
        Some(other) => return Err(format!("`url` must be a string, got {other}")),
        None => return Err("missing argument `url`".into()),
    };
    let target = probe::parse_url(&url)?;
    let timeout_ms = match args.get("timeout_ms") {
        None | Some(Value::Null) => 5000,
        Some(v) => v
            .as_u64()
            .filter(|t| (1..=60_000).contains(t))
            .ok_or_else(|| format!("`timeout_ms` must be an integer from 1 to 60000, got {v}"))?,
    };
    let expect = match args.get("expect_status") {
        None | Some(Value::Null) => probe::Expect::Default,
        Some(v) => {
            let list: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            let statuses = list
                .iter()
                .map(|s| s.as_u64().filter(|n| (100..=599).contains(n)).map(|n| n as u16))
                .collect::<Option<Vec<u16>>>()
                .filter(|l| !l.is_empty())
                .ok_or_else(|| format!("`expect_status` must be a status code (100–599) or a list of them, got {v}"))?;
            probe::Expect::Statuses(statuses)
        }
    };
    let contains = match args.get("contains") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("`contains` must be a string, got {other}")),
    };
    let outcome = probe::get(&target, timeout_ms);
    let failed = outcome.is_err();
    Ok((probe::report(&url, &outcome, &expect, contains.as_deref()), failed))
}

struct Operations;

impl Server for Operations {
    fn list_tools() -> Vec<Tool> {
        let text = json!({ "type": "string", "description": "Metrics in the Prometheus text exposition format." });
        let value = json!({ "type": ["number", "string"], "description": "A number, or `NaN`, `+Inf`, `-Inf`." });
        vec![
            read_only_tool(
                "parse_prometheus",
                "Parse Prometheus metrics",
                "Parses the Prometheus text exposition format into samples (name, labels, value, timestamp, type) and \
                 metric families (HELP, TYPE). Malformed lines are reported with their line number.",
                json!({
                    "type": "object",
                    "properties": { "text": text, "metric": { "type": "string", "description": "Only samples with this name." } },
                    "required": ["text"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "count": { "type": "integer" },
                        "samples": { "type": "array", "items": { "type": "object", "properties": {
                            "name": { "type": "string" }, "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                            "value": value, "timestamp": { "type": ["integer", "null"] }, "type": { "type": "string" } },
                            "required": ["name", "labels", "value"] } },
                        "families": { "type": "array", "items": { "type": "object" } }
                    },
                    "required": ["count", "samples", "families"]
                }),
            ),
            read_only_tool(
                "check_thresholds",
                "Check metric thresholds",
                "Checks rules such as {\"metric\": \"cpu_usage\", \"labels\": {\"host\": \"a\"}, \"op\": \"<\", \"value\": 0.9} \
                 against Prometheus text. A rule states what must hold: for every matching sample (aggregate `all`, \
                 default), for one (`any`), or for their `sum`/`avg`/`min`/`max`/`count`. No matching sample is `no_data` \
                 (a failure unless `missing` is `pass`).",
                json!({
                    "type": "object",
                    "properties": {
                        "text": text,
                        "rules": { "type": "array", "minItems": 1, "items": { "type": "object", "properties": {
                            "name": { "type": "string" },
                            "metric": { "type": "string" },
                            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                            "op": { "type": "string", "enum": [">", ">=", "<", "<=", "==", "!="] },
                            "value": { "type": "number" },
                            "aggregate": { "type": "string", "enum": ["all", "any", "sum", "avg", "min", "max", "count"], "default": "all" },
                            "missing": { "type": "string", "enum": ["fail", "pass"], "default": "fail" }
                        }, "required": ["metric", "op", "value"] } }
                    },
                    "required": ["text", "rules"],
                    "additionalProperties": false
                }),
                json!({
                    "type": "object",
                    "properties": {
                        "passed": { "type": "boolean" }, "failed": { "type": "integer" }, "total": { "type": "integer" },
                        "results": { "type": "array", "items": { "type": "object", "properties": {
                            "rule": { "type": "string" }, "status": { "type": "string", "enum": ["pass", "fail", "no_data"] },
                            "passed": { "type": "boolean" }, "matched": { "type": "integer" }, "message": { "type": "string" } },
                            "required": ["rule", "status", "passed", "matched", "message"] } }
                    },
                    "required": ["passed", "failed", "total", "results"]
                }),
            ),
            Tool {
                annotations: Some(PROBE_HINTS.into()),
                ..read_only_tool(
                    "http_probe",
                    "HTTP health probe",
                    "GETs a URL through the host's outbound allowlist and reports the status, latency in ms, body size and \
                     whether it looks healthy (2xx/3xx or `expect_status`, and `contains`). A host the plugin was not \
                     granted, an unreachable host or a timeout is a tool error naming the cause.",
                    json!({
                        "type": "object",
                        "properties": {
                            "url": { "type": "string", "description": "An http:// or https:// URL." },
                            "timeout_ms": { "type": "integer", "minimum": 1, "maximum": 60000, "default": 5000 },
                            "expect_status": { "anyOf": [
                                { "type": "integer", "minimum": 100, "maximum": 599 },
                                { "type": "array", "items": { "type": "integer", "minimum": 100, "maximum": 599 }, "minItems": 1 }
                            ], "description": "Healthy statuses (default 200–399)." },
                            "contains": { "type": "string", "description": "Text the body must contain to be healthy." }
                        },
                        "required": ["url"],
                        "additionalProperties": false
                    }),
                    json!({
                        "type": "object",
                        "properties": {
                            "url": { "type": "string" }, "ok": { "type": "boolean" },
                            "status": { "type": ["integer", "null"] }, "latency_ms": { "type": "number" },
                            "total_ms": { "type": "number" }, "body_bytes": { "type": "integer" },
                            "body_truncated": { "type": "boolean" }, "content_type": { "type": ["string", "null"] },
                            "contains": { "type": ["boolean", "null"] }, "problems": { "type": "array", "items": { "type": "string" } },
                            "error_kind": { "type": "string", "enum": ["not_granted", "dns", "unreachable", "timeout", "tls", "invalid_url", "error"] },
                            "error": { "type": "string" }
                        },
                        "required": ["url", "ok", "status", "latency_ms"]
                    }),
                )
            },
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        let result = match name.as_str() {
            "parse_prometheus" => parse_prometheus(&args).map(|v| (v, false)),
            "check_thresholds" => check_thresholds(&args).map(|v| (v, false)),
            "http_probe" => http_probe(&args),
            other => return Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        };
        Ok(match result {
            Ok((value, is_error)) => structured(value, is_error),
            Err(message) => CallResult::error(format!("{name}: {message}")),
        })
    }
}

pa_tool::export!(Operations);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_alone_reaches_an_open_world() {
        let hints: Vec<(String, Value)> = Operations::list_tools()
            .into_iter()
            .map(|t| {
                (
                    t.name,
                    serde_json::from_str(&t.annotations.expect("hints")).expect("JSON"),
                )
            })
            .collect();
        let open = |name: &str| hints.iter().find(|(n, _)| n == name).expect("listed").1["openWorldHint"].clone();
        assert!(hints.iter().all(|(_, h)| h["readOnlyHint"] == json!(true)));
        assert_eq!(open("parse_prometheus"), json!(false));
        assert_eq!(open("check_thresholds"), json!(false));
        assert_eq!(open("http_probe"), json!(true));
    }
}
