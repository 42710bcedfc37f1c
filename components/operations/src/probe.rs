//! HTTP health probes through `wasi:http/outgoing-handler`.
//!
//! The host forwards a request only to the hosts the plugin was granted
//! (`allowed_outbound_hosts`); anything else fails with `HTTP-request-denied`,
//! which the probe reports as `not_granted`.

use std::time::Instant;

use serde_json::{Value, json};
use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingRequest, RequestOptions, Scheme};
use wasi::io::streams::StreamError;

/// Most body bytes read (for `contains` and the size count).
const MAX_BODY: usize = 1024 * 1024;

/// A URL split for `wasi:http`.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub https: bool,
    pub authority: String,
    pub path_and_query: String,
}

/// Splits an `http://` or `https://` URL (no user info; the fragment is dropped).
pub fn parse_url(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not an absolute URL"))?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        other => return Err(format!("only http and https URLs can be probed, not `{other}`")),
    };
    let rest = rest.split('#').next().unwrap_or(rest);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    if authority.contains('@') {
        return Err("URLs with user info (`user@host`) are not supported".into());
    }
    if authority.contains(|c: char| c.is_whitespace() || c == '\\') {
        return Err(format!("`{authority}` is not a valid host"));
    }
    if let Some((_, port)) = authority.rsplit_once(':')
        && !authority.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(format!("`{port}` is not a valid port"));
    }
    let path_and_query = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(Target {
        https,
        authority: authority.to_string(),
        path_and_query,
    })
}

/// Which statuses count as healthy.
pub enum Expect {
    /// 200–399.
    Default,
    Statuses(Vec<u16>),
}

impl Expect {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Expect::Default => (200..400).contains(&status),
            Expect::Statuses(list) => list.contains(&status),
        }
    }
}

/// A probe that got no HTTP response.
pub struct ProbeError {
    pub kind: &'static str,
    pub message: String,
    pub elapsed_ms: f64,
}

/// What went wrong, in words, for a `wasi:http` error code.
pub fn describe(code: &ErrorCode, origin: &str) -> (&'static str, String) {
    match code {
        ErrorCode::HttpRequestDenied => (
            "not_granted",
            format!(
                "outbound HTTP to {origin} is not granted to this plugin: add it to the plugin's `allowed_outbound_hosts`"
            ),
        ),
        ErrorCode::DestinationIpProhibited => (
            "not_granted",
            format!("{origin} resolves to an internal address this plugin may not reach"),
        ),
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
            ("dns", format!("the host of {origin} could not be resolved"))
        }
        ErrorCode::ConnectionRefused => (
            "unreachable",
            format!("{origin} refused the connection (nothing listening?)"),
        ),
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => ("timeout", format!("{origin} did not answer in time")),
        ErrorCode::DestinationUnavailable | ErrorCode::DestinationIpUnroutable | ErrorCode::ConnectionTerminated => {
            ("unreachable", format!("{origin} is unreachable ({code:?})"))
        }
        ErrorCode::TlsProtocolError | ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) => {
            ("tls", format!("TLS with {origin} failed ({code:?})"))
        }
        ErrorCode::HttpRequestUriInvalid => ("invalid_url", format!("the host refused the URL of {origin}")),
        other => ("error", format!("the request to {origin} failed: {other:?}")),
    }
}

/// The outcome of a probe that got a response.
pub struct Response {
    pub status: u16,
    pub latency_ms: f64,
    pub total_ms: f64,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub content_type: Option<String>,
}

fn ms(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Sends `GET target` with `timeout_ms` for connecting and for the first byte.
pub fn get(target: &Target, timeout_ms: u64) -> Result<Response, ProbeError> {
    let scheme_text = if target.https { "https" } else { "http" };
    let origin = format!("{scheme_text}://{}", target.authority);
    let start = Instant::now();
    let fail = |kind: &'static str, message: String| ProbeError {
        kind,
        message,
        elapsed_ms: ms(start),
    };
    let request = OutgoingRequest::new(Fields::new());
    let scheme = if target.https { Scheme::Https } else { Scheme::Http };
    if request.set_method(&Method::Get).is_err()
        || request.set_scheme(Some(&scheme)).is_err()
        || request.set_authority(Some(&target.authority)).is_err()
        || request.set_path_with_query(Some(&target.path_and_query)).is_err()
    {
        return Err(fail(
            "invalid_url",
            format!("the URL {origin}{} is not valid", target.path_and_query),
        ));
    }
    let options = RequestOptions::new();
    let nanos = timeout_ms * 1_000_000;
    // A host may not support every option; the probe works without them.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let future = match outgoing_handler::handle(request, Some(options)) {
        Ok(f) => f,
        Err(code) => {
            let (kind, message) = describe(&code, &origin);
            return Err(fail(kind, message));
        }
    };
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => {
            let (kind, message) = describe(&code, &origin);
            return Err(fail(kind, message));
        }
        other => return Err(fail("error", format!("the request to {origin} failed: {other:?}"))),
    };
    let latency_ms = ms(start);
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let mut body = Vec::new();
    let mut truncated = false;
    if let Ok(incoming) = response.consume() {
        if let Ok(stream) = incoming.stream() {
            loop {
                match stream.blocking_read(64 * 1024) {
                    Ok(chunk) => {
                        if body.len() + chunk.len() > MAX_BODY {
                            body.extend_from_slice(&chunk[..MAX_BODY - body.len()]);
                            truncated = true;
                            break;
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(e)) => {
                        return Err(fail(
                            "error",
                            format!("reading the body from {origin} failed: {}", e.to_debug_string()),
                        ));
                    }
                }
            }
            drop(stream);
        }
        drop(incoming);
    }
    Ok(Response {
        status,
        latency_ms,
        total_ms: ms(start),
        body,
        body_truncated: truncated,
        content_type,
    })
}

/// The structured result of a probe.
pub fn report(url: &str, outcome: &Result<Response, ProbeError>, expect: &Expect, contains: Option<&str>) -> Value {
    match outcome {
        Ok(r) => {
            let status_ok = expect.accepts(r.status);
            let found = contains.map(|needle| String::from_utf8_lossy(&r.body).contains(needle));
            let ok = status_ok && found != Some(false);
            let mut reasons = Vec::new();
            if !status_ok {
                reasons.push(format!("status {} is not an expected status", r.status));
            }
            if found == Some(false) {
                reasons.push(format!("the body does not contain `{}`", contains.unwrap_or_default()));
            }
            json!({
                "url": url, "ok": ok, "status": r.status, "latency_ms": r.latency_ms, "total_ms": r.total_ms,
                "body_bytes": r.body.len(), "body_truncated": r.body_truncated, "content_type": r.content_type,
                "contains": found, "problems": reasons,
            })
        }
        Err(e) => json!({
            "url": url, "ok": false, "status": null, "latency_ms": e.elapsed_ms,
            "error_kind": e.kind, "error": e.message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/healthz?full=1#x").unwrap(),
            Target {
                https: false,
                authority: "127.0.0.1:8080".into(),
                path_and_query: "/healthz?full=1".into()
            }
        );
        assert_eq!(parse_url("HTTPS://example.com").unwrap().path_and_query, "/");
        assert_eq!(parse_url("https://example.com?q=1").unwrap().path_and_query, "/?q=1");
        assert_eq!(parse_url("http://[::1]:9000/").unwrap().authority, "[::1]:9000");
        assert!(parse_url("ftp://x/").unwrap_err().contains("only http and https"));
        assert!(parse_url("example.com").unwrap_err().contains("not an absolute URL"));
        assert!(parse_url("http:///x").unwrap_err().contains("no host"));
        assert!(parse_url("http://u:p@x/").unwrap_err().contains("user info"));
        assert!(parse_url("http://x:99999/").unwrap_err().contains("not a valid port"));
    }

    #[test]
    fn judges_responses() {
        let response = |status| Response {
            status,
            latency_ms: 1.5,
            total_ms: 2.0,
            body: b"status: ok".to_vec(),
            body_truncated: false,
            content_type: Some("text/plain".into()),
        };
        let r = report("u", &Ok(response(204)), &Expect::Default, Some("ok"));
        assert_eq!(
            (r["ok"].as_bool(), r["status"].as_u64(), r["contains"].as_bool()),
            (Some(true), Some(204), Some(true))
        );
        let r = report("u", &Ok(response(503)), &Expect::Default, Some("down"));
        assert_eq!(r["ok"], false);
        assert_eq!(r["problems"].as_array().unwrap().len(), 2);
        assert_eq!(
            report("u", &Ok(response(404)), &Expect::Statuses(vec![404]), None)["ok"],
            true
        );
        let (kind, message) = describe(&ErrorCode::HttpRequestDenied, "http://10.0.0.1:80");
        assert_eq!(kind, "not_granted");
        assert!(message.contains("allowed_outbound_hosts"));
        let e = ProbeError {
            kind: "unreachable",
            message: "refused".into(),
            elapsed_ms: 0.3,
        };
        let r = report("u", &Err(e), &Expect::Default, None);
        assert_eq!(
            (r["ok"].as_bool(), r["error_kind"].as_str()),
            (Some(false), Some("unreachable"))
        );
    }
}
