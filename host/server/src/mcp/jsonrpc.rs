//! JSON-RPC 2.0 as MCP uses it: one message per HTTP body, the standard error
//! codes and the MCP-specific ones.

use serde_json::{Map, Value, json};

/// Invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a valid request object (or a batch, which MCP does not allow).
pub const INVALID_REQUEST: i64 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Bad parameters, unknown tool, prompt or resource.
pub const INVALID_PARAMS: i64 = -32602;
/// The server failed.
pub const INTERNAL_ERROR: i64 = -32603;
/// An HTTP header disagrees with the body (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// The client lacks a capability the request needs (2026-07-28).
pub const MISSING_CAPABILITY: i64 = -32021;
/// The requested protocol version is not supported (2026-07-28).
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// A JSON-RPC error object.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("method not found: {method}"))
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }
}

/// One message received from the client.
#[derive(Debug)]
pub enum Incoming {
    /// A request, to be answered.
    Request { id: Value, method: String, params: Value },
    /// A notification: no answer.
    Notification { method: String, params: Value },
    /// The client's answer to a request the server sent.
    Response { id: Value, outcome: Result<Value, Value> },
}

/// Parses one HTTP body. On failure, returns the request id (if one could be
/// read) and the error to answer with.
pub fn parse(body: &[u8]) -> Result<Incoming, (Value, RpcError)> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| (Value::Null, RpcError::new(PARSE_ERROR, format!("parse error: {e}"))))?;
    let object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err((
                Value::Null,
                RpcError::new(INVALID_REQUEST, "batch requests are not supported"),
            ));
        }
        _ => {
            return Err((
                Value::Null,
                RpcError::new(INVALID_REQUEST, "a JSON-RPC message must be a JSON object"),
            ));
        }
    };
    let id = object.get("id").cloned();
    let answer_id = id.clone().filter(valid_id).unwrap_or(Value::Null);
    let fail = |message: &str| Err((answer_id.clone(), RpcError::new(INVALID_REQUEST, message)));
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return fail("`jsonrpc` must be \"2.0\"");
    }
    if let Some(id) = &id
        && !valid_id(id)
    {
        return fail("`id` must be a string or an integer");
    }
    match object.get("method") {
        Some(Value::String(method)) => {
            let params = params_of(&object).map_err(|m| (id.clone().unwrap_or(Value::Null), m))?;
            Ok(match id {
                Some(id) => Incoming::Request {
                    id,
                    method: method.clone(),
                    params,
                },
                None => Incoming::Notification {
                    method: method.clone(),
                    params,
                },
            })
        }
        Some(_) => fail("`method` must be a string"),
        None => {
            let Some(id) = id else {
                return fail("a message needs a `method` or an `id`");
            };
            match (object.get("result"), object.get("error")) {
                (Some(result), None) => Ok(Incoming::Response {
                    id,
                    outcome: Ok(result.clone()),
                }),
                (None, Some(error)) => Ok(Incoming::Response {
                    id,
                    outcome: Err(error.clone()),
                }),
                _ => fail("a response needs exactly one of `result` and `error`"),
            }
        }
    }
}

fn valid_id(id: &Value) -> bool {
    id.is_string() || id.is_i64() || id.is_u64()
}

fn params_of(object: &Map<String, Value>) -> Result<Value, RpcError> {
    match object.get("params") {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(params)) => Ok(Value::Object(params.clone())),
        Some(_) => Err(RpcError::new(INVALID_REQUEST, "`params` must be an object")),
    }
}

/// A response carrying `result`.
pub fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A response carrying `error`.
pub fn error(id: &Value, error: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() })
}

/// A notification from the server.
pub fn notification(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> i64 {
        parse(body.as_bytes()).unwrap_err().1.code
    }

    #[test]
    fn malformed_messages_get_the_spec_codes() {
        assert_eq!(code("{"), PARSE_ERROR);
        assert_eq!(code("[]"), INVALID_REQUEST);
        assert_eq!(code("42"), INVALID_REQUEST);
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":7}"#), INVALID_REQUEST);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#),
            INVALID_REQUEST
        );
    }

    #[test]
    fn the_id_is_kept_when_the_rest_is_wrong() {
        let (id, _) = parse(br#"{"jsonrpc":"2.0","id":"a","method":3}"#).unwrap_err();
        assert_eq!(id, json!("a"));
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        let request = parse(br#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).unwrap();
        assert!(matches!(request, Incoming::Request { method, .. } if method == "tools/list"));
        let note = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(note, Incoming::Notification { .. }));
        let response = parse(br#"{"jsonrpc":"2.0","id":"pa-1","result":{}}"#).unwrap();
        assert!(matches!(response, Incoming::Response { outcome: Ok(_), .. }));
    }
}
