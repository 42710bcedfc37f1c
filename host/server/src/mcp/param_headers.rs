//! Custom headers from tool parameters (SEP-2243, revision 2026-07-28): a
//! tool's input schema may mark a primitive argument with
//! `"x-mcp-header": "Name"`; a `tools/call` then carries that argument in an
//! `Mcp-Param-Name` header too (so proxies can route on it without reading
//! the body), plain or as `=?base64?…?=`, and the server refuses a call whose
//! header and body disagree.

use axum::http::HeaderMap;
use base64::Engine;
use serde_json::Value;

const BASE64_START: &str = "=?base64?";
const BASE64_END: &str = "?=";

/// Checks every `Mcp-Param-*` header `schema` asks for against `arguments`;
/// the error names the header and what is wrong with it.
pub fn check(schema: &Value, arguments: &Value, headers: &HeaderMap) -> Result<(), String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (argument, definition) in properties {
        let Some(name) = definition.get("x-mcp-header").and_then(Value::as_str) else {
            continue;
        };
        let header = format!("Mcp-Param-{name}");
        let value = arguments.get(argument).filter(|v| !v.is_null());
        let sent = headers.get(header.to_ascii_lowercase().as_str());
        match (value, sent) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(format!("Missing {header} header for the argument `{argument}`"));
            }
            (None, Some(_)) => {
                return Err(format!("{header} header sent without the argument `{argument}`"));
            }
            (Some(value), Some(sent)) => {
                let text = sent
                    .to_str()
                    .map_err(|_| format!("{header} header is not visible ASCII; encode it as =?base64?…?="))?;
                let decoded = decode(text.trim_matches([' ', '\t'])).map_err(|e| format!("{header} header: {e}"))?;
                if !matches(value, &decoded) {
                    return Err(format!("{header} header does not match the argument `{argument}`"));
                }
            }
        }
    }
    Ok(())
}

/// A header value as the client meant it: `=?base64?…?=` decoded (strict
/// padding and alphabet, UTF-8), anything else literally.
fn decode(text: &str) -> Result<String, String> {
    let Some(encoded) = text
        .strip_prefix(BASE64_START)
        .and_then(|rest| rest.strip_suffix(BASE64_END))
    else {
        return Ok(text.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("invalid Base64 value: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the Base64 value is not UTF-8 text".to_string())
}

/// Whether a header's text stands for the body's `value` (a string as is,
/// a number by value, a boolean as `true`/`false`).
fn matches(value: &Value, text: &str) -> bool {
    match value {
        Value::String(s) => s == text,
        Value::Number(n) => text.parse::<f64>().ok() == n.as_f64(),
        Value::Bool(b) => text == if *b { "true" } else { "false" },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "region": { "type": "string", "x-mcp-header": "Region" },
                "count": { "type": "integer", "x-mcp-header": "Count" },
                "note": { "type": "string" },
            },
        })
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn matching_headers_pass_plain_or_base64() {
        let args = json!({ "region": "Hello", "count": 3, "note": "x" });
        assert_eq!(
            check(
                &schema(),
                &args,
                &headers(&[("Mcp-Param-Region", "Hello"), ("mcp-param-count", "3")])
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &schema(),
                &args,
                &headers(&[("Mcp-Param-Region", " =?base64?SGVsbG8=?= "), ("Mcp-Param-Count", "3")])
            ),
            Ok(())
        );
        // Neither the argument nor its header: nothing to check.
        assert_eq!(check(&schema(), &json!({ "note": "x" }), &HeaderMap::new()), Ok(()));
    }

    #[test]
    fn a_value_without_the_whole_wrapper_is_literal() {
        let check_region = |value: &str, header: &str| {
            check(
                &schema(),
                &json!({ "region": value }),
                &headers(&[("Mcp-Param-Region", header)]),
            )
        };
        assert_eq!(check_region("SGVsbG8=", "SGVsbG8="), Ok(()));
        assert_eq!(check_region("=?base64?SGVsbG8=", "=?base64?SGVsbG8="), Ok(()));
        assert!(check_region("Hello", "SGVsbG8=").is_err());
    }

    #[test]
    fn bad_base64_missing_and_mismatched_headers_are_refused() {
        let region = |header: Option<&str>, value: Value| {
            let pairs: Vec<(&str, &str)> = header.map(|h| ("Mcp-Param-Region", h)).into_iter().collect();
            check(&schema(), &json!({ "region": value }), &headers(&pairs)).unwrap_err()
        };
        assert!(region(Some("=?base64?SGVsbG8?="), json!("Hello")).contains("invalid Base64"));
        assert!(region(Some("=?base64?SGVs!!!bG8=?="), json!("Hello")).contains("invalid Base64"));
        assert!(region(Some("Goodbye"), json!("Hello")).contains("does not match the argument `region`"));
        assert!(region(None, json!("Hello")).contains("Missing Mcp-Param-Region header"));
        assert!(region(Some("Hello"), Value::Null).contains("sent without the argument"));
        let count = check(&schema(), &json!({ "count": 3 }), &headers(&[("Mcp-Param-Count", "4")]));
        assert!(count.unwrap_err().contains("Mcp-Param-Count"));
    }
}
