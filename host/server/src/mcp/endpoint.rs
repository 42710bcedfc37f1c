//! The Streamable HTTP transport at `/t/{tenant}/mcp`: origin and host checks,
//! authentication, the stateful wire (sessions, SSE streams carrying
//! notifications and server-to-client requests) and the stateless
//! 2026-07-28 wire (`server/discover`, `Mcp-Method`/`Mcp-Name` headers).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::catalog::TenantCatalog;
use super::jsonrpc::{
    self, HEADER_MISMATCH, INVALID_REQUEST, Incoming, MISSING_CAPABILITY, RpcError, UNSUPPORTED_VERSION,
};
use super::methods::Call;
use super::peer::{ClientPeer, Replay};
use super::session::Session;
use crate::auth::{self, Permission};
use crate::platform::Platform;

/// Versions of the stateful protocol a session can negotiate, newest first.
const SESSION_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18"];
/// Older versions accepted in the `MCP-Protocol-Version` header of a session.
const LEGACY_HEADER_VERSIONS: &[&str] = &["2025-03-26", "2024-11-05"];
/// The stateless revision.
const STATELESS_VERSION: &str = "2026-07-28";
/// Largest request body.
const MAX_BODY: usize = 4 << 20;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// A JSON-RPC error answered with an HTTP status.
fn rpc_error(status: StatusCode, id: &Value, error: RpcError) -> Response {
    (status, axum::Json(jsonrpc::error(id, &error))).into_response()
}

/// A transport-level refusal (no request id known).
fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    rpc_error(status, &Value::Null, RpcError::new(INVALID_REQUEST, message))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Whether `host` (a `Host` header or URL authority, port optional) names
/// this machine.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Protects local servers against DNS rebinding: a client on this machine
/// must address it by a loopback name, and a browser `Origin` must be the
/// same host (or both loopback).
fn check_origin(headers: &HeaderMap, peer: Option<SocketAddr>) -> Result<(), String> {
    let host = header_str(headers, "host").unwrap_or("");
    if peer.is_some_and(|p| p.ip().is_loopback()) && !is_loopback_host(host) {
        return Err(format!("Host `{host}` is not allowed for a local connection"));
    }
    if let Some(origin) = header_str(headers, "origin") {
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        let same = origin_host.eq_ignore_ascii_case(host) || (is_loopback_host(origin_host) && is_loopback_host(host));
        if !same {
            return Err(format!("Origin `{origin}` is not allowed"));
        }
    }
    Ok(())
}

/// Checks the host, the tenant and the caller; the error is the response.
/// Gives who called (`key:<id>`, `user:<name>`), `None` on a public endpoint:
/// sessions and tasks are bound to it.
fn admit(
    platform: &Platform,
    tenant: &str,
    request: &Request,
) -> impl Future<Output = Result<Option<String>, Response>> + Send {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let platform = platform.clone();
    let tenant = tenant.to_string();
    let headers = request.headers().clone();
    async move { admit_headers(&platform, &tenant, headers, peer).await }
}

async fn admit_headers(
    platform: &Platform,
    tenant: &str,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Option<String>, Response> {
    let headers = &headers;
    check_origin(headers, peer).map_err(|m| refuse(StatusCode::FORBIDDEN, m))?;
    let internal = |e: pa_store::StoreError| {
        rpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Value::Null,
            RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()),
        )
    };
    let access = match platform.mcp.access(tenant) {
        Some(access) => Some(access),
        None => {
            let stored = platform.store.mcp_access(tenant).await.map_err(internal)?;
            if let Some(access) = &stored {
                platform.mcp.set_access(tenant, access);
            }
            stored
        }
    };
    let Some(access) = access else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            format!("tenant `{tenant}` does not exist"),
        ));
    };
    if access == "public" {
        return Ok(None);
    }
    let challenge = |message: String| {
        let host = header_str(headers, "host").unwrap_or("localhost");
        let metadata = format!("http://{host}/.well-known/oauth-protected-resource/t/{tenant}/mcp");
        let mut response = rpc_error(
            StatusCode::UNAUTHORIZED,
            &Value::Null,
            RpcError::new(INVALID_REQUEST, message),
        );
        let challenge = format!("Bearer resource_metadata=\"{metadata}\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    match auth::authenticate(platform, headers).await {
        Ok(Some(caller)) => auth::require(platform, &caller, tenant, Permission::McpCall)
            .await
            .map(|()| Some(caller.actor()))
            .map_err(|e| refuse(e.status, e.message)),
        Ok(None) => Err(challenge(
            "authentication required: send `Authorization: Bearer <API key or access token of the tenant>`".into(),
        )),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(challenge(e.message)),
        Err(e) => Err(refuse(e.status, e.message)),
    }
}

/// `GET /.well-known/oauth-protected-resource/t/{tenant}/mcp` (RFC 9728).
pub async fn resource_metadata(Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let host = header_str(&headers, "host").unwrap_or("localhost");
    axum::Json(json!({
        "resource": format!("http://{host}/t/{tenant}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": format!("PowerAutomation MCP endpoint of tenant {tenant}"),
    }))
    .into_response()
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    header_str(headers, "accept").is_some_and(|a| a.contains(media) || a.contains("*/*"))
}

fn server_info(tenant: &str) -> Value {
    json!({
        "name": "powerautomation",
        "title": format!("PowerAutomation ({tenant})"),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// `POST /t/{tenant}/mcp`.
pub async fn post(State(platform): State<Platform>, Path(tenant): Path<String>, request: Request) -> Response {
    let caller = match admit(&platform, &tenant, &request).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let content_type = header_str(&headers, "content-type").unwrap_or("");
    if !content_type.starts_with("application/json") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Value::Null,
            RpcError::new(
                INVALID_REQUEST,
                format!("the request body is larger than {MAX_BODY} bytes"),
            ),
        );
    };
    let message = match jsonrpc::parse(&body) {
        Ok(message) => message,
        Err((id, error)) => return rpc_error(StatusCode::BAD_REQUEST, &id, error),
    };
    let session_id = header_str(&headers, SESSION_HEADER).map(str::to_string);
    let version = header_str(&headers, VERSION_HEADER).map(str::to_string);
    match (session_id, message) {
        (_, Incoming::Request { id, method, params }) if method == "initialize" && !is_stateless(&version, &params) => {
            initialize(&platform, &tenant, caller, id, &params)
        }
        (Some(session_id), message) => {
            let Some(session) = platform.mcp.get(&tenant, &session_id, caller.as_deref()) else {
                return refuse(StatusCode::NOT_FOUND, "unknown or expired session; initialize again");
            };
            if let Some(version) = &version
                && !SESSION_VERSIONS.contains(&version.as_str())
                && !LEGACY_HEADER_VERSIONS.contains(&version.as_str())
            {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("unsupported MCP-Protocol-Version `{version}`"),
                );
            }
            in_session(&platform, session, &headers, message).await
        }
        (None, Incoming::Request { id, method, params }) => {
            let request = StatelessRequest { id, method, params };
            stateless(&platform, &tenant, caller, &headers, version, request).await
        }
        (None, _) => StatusCode::ACCEPTED.into_response(),
    }
}

/// Whether a request without a session speaks the stateless revision.
fn is_stateless(version: &Option<String>, params: &Value) -> bool {
    version.as_deref() == Some(STATELESS_VERSION) || params.get("_meta").is_some_and(|m| m.get(META_VERSION).is_some())
}

fn initialize(platform: &Platform, tenant: &str, caller: Option<String>, id: Value, params: &Value) -> Response {
    let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            &id,
            RpcError::invalid_params("missing `protocolVersion`"),
        );
    };
    let version = if SESSION_VERSIONS.contains(&requested) {
        requested
    } else {
        SESSION_VERSIONS[0]
    };
    let capabilities = params.get("capabilities").cloned().unwrap_or_else(|| json!({}));
    let session = platform.mcp.create(tenant, caller, version, capabilities);
    let result = json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": { "listChanged": true },
            "prompts": { "listChanged": true },
            "resources": { "subscribe": true, "listChanged": true },
            "logging": {},
            "completions": {},
            "extensions": { (super::tasks::EXTENSION): {} },
        },
        "serverInfo": server_info(tenant),
        "instructions": format!("Tools of the plugins tenant `{tenant}` has enabled on PowerAutomation."),
    });
    let mut response = axum::Json(jsonrpc::result(&id, result)).into_response();
    if let Ok(value) = HeaderValue::from_str(&session.id) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

async fn in_session(platform: &Platform, session: Arc<Session>, headers: &HeaderMap, message: Incoming) -> Response {
    match message {
        Incoming::Notification { method, params } => {
            if method == "notifications/cancelled"
                && let Some(id) = params.get("requestId")
            {
                session.cancel(id);
            }
            StatusCode::ACCEPTED.into_response()
        }
        Incoming::Response { id, outcome } => {
            session.answer(&id, outcome);
            StatusCode::ACCEPTED.into_response()
        }
        Incoming::Request { id, method, params } => {
            let streaming = method == "tools/call" && accepts(headers, "text/event-stream");
            let (outbox, inbox) = mpsc::unbounded_channel();
            let peer = ClientPeer {
                outbox: streaming.then(|| outbox.clone()),
                session: Some(session.clone()),
                progress_token: progress_token(&params),
                log_level: None,
                capabilities: session.client_capabilities.clone(),
                replay: None,
                missing_capability: Default::default(),
                task_offer: Default::default(),
                task: Default::default(),
            };
            let call = Call {
                tenant: session.tenant.clone(),
                caller: session.caller.clone(),
                catalog: TenantCatalog::new(platform.deployments.enabled(&session.tenant)),
                peer: Arc::new(peer),
                tenant_permits: platform.deployments.tenant_permits(&session.tenant),
                platform: platform.clone(),
            };
            let run = async move {
                let outcome = match call.dispatch_session(&session, &method, &params) {
                    Some(outcome) => outcome,
                    None => match call.dispatch(&method, &params).await {
                        Some(outcome) => outcome,
                        None => Err(RpcError::method_not_found(&method)),
                    },
                };
                respond(&id, outcome)
            };
            if streaming {
                stream_response(run, outbox, inbox)
            } else {
                axum::Json(run.await).into_response()
            }
        }
    }
}

fn respond(id: &Value, outcome: Result<Value, RpcError>) -> Value {
    match outcome {
        Ok(result) => jsonrpc::result(id, result),
        Err(error) => jsonrpc::error(id, &error),
    }
}

fn progress_token(params: &Value) -> Option<Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned()
}

/// Answers with an SSE stream: whatever the call sends the client first
/// (notifications, requests), then the response.
fn stream_response(
    run: impl Future<Output = Value> + Send + 'static,
    outbox: mpsc::UnboundedSender<Value>,
    inbox: mpsc::UnboundedReceiver<Value>,
) -> Response {
    tokio::spawn(async move {
        let response = run.await;
        let _ = outbox.send(response);
    });
    let events = UnboundedReceiverStream::new(inbox)
        .map(|message| Ok::<_, Infallible>(Event::default().event("message").data(message.to_string())));
    Sse::new(events).into_response()
}

/// A JSON-RPC request outside a session.
struct StatelessRequest {
    id: Value,
    method: String,
    params: Value,
}

/// Answers a request of the stateless revision.
async fn stateless(
    platform: &Platform,
    tenant: &str,
    caller: Option<String>,
    headers: &HeaderMap,
    version: Option<String>,
    request: StatelessRequest,
) -> Response {
    let StatelessRequest { id, method, params } = request;
    let bad = |code: i64, message: String| rpc_error(StatusCode::BAD_REQUEST, &id, RpcError::new(code, message));
    let Some(version) = version else {
        return bad(
            HEADER_MISMATCH,
            "Missing MCP-Protocol-Version header (or Mcp-Session-Id for a session)".into(),
        );
    };
    let meta = params.get("_meta").cloned().unwrap_or(Value::Null);
    let missing: Vec<&str> = [META_VERSION, META_CAPABILITIES]
        .into_iter()
        .filter(|key| meta.get(*key).is_none())
        .collect();
    if !missing.is_empty() {
        return bad(
            jsonrpc::INVALID_PARAMS,
            format!("Invalid params: missing _meta keys: {}", missing.join(", ")),
        );
    }
    if meta[META_VERSION].as_str() != Some(version.as_str()) {
        return bad(
            HEADER_MISMATCH,
            "MCP-Protocol-Version header does not match _meta protocolVersion".into(),
        );
    }
    if let Err(message) = check_method_headers(headers, &method, &params) {
        return bad(HEADER_MISMATCH, message);
    }
    let catalog = TenantCatalog::new(platform.deployments.enabled(tenant));
    if method == "tools/call"
        && let Some(schema) = params
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| catalog.input_schema(n))
        && let Err(message) = super::param_headers::check(schema, &params["arguments"], headers)
    {
        return bad(HEADER_MISMATCH, message);
    }
    if version != STATELESS_VERSION {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            &id,
            RpcError::new(UNSUPPORTED_VERSION, format!("Unsupported protocol version: {version}"))
                .with_data(json!({ "supported": [STATELESS_VERSION], "requested": version })),
        );
    }
    if method == "server/discover" {
        return axum::Json(jsonrpc::result(&id, discover(tenant))).into_response();
    }
    if !STATELESS_METHODS.contains(&method.as_str()) {
        return rpc_error(StatusCode::NOT_FOUND, &id, RpcError::method_not_found(&method));
    }
    let log_level = meta
        .get(META_LOG_LEVEL)
        .and_then(Value::as_str)
        .and_then(super::convert::level_rank);
    let progress = progress_token(&params);
    // Only a call that reports progress or logs needs a stream; a plain JSON
    // answer keeps the HTTP status meaningful (400 for a missing capability).
    let streaming =
        method == "tools/call" && accepts(headers, "text/event-stream") && (progress.is_some() || log_level.is_some());
    let target = match method.as_str() {
        "tools/call" | "prompts/get" => params
            .get("name")
            .and_then(Value::as_str)
            .map(|n| format!("{method}:{n}")),
        _ => None,
    };
    let replay = match &target {
        Some(target) => match replay_of(platform, tenant, target, &params) {
            Ok(replay) => Some(replay),
            Err(message) => return bad(jsonrpc::INVALID_PARAMS, message),
        },
        None => None,
    };
    let (outbox, inbox) = mpsc::unbounded_channel();
    let peer = Arc::new(ClientPeer {
        outbox: streaming.then(|| outbox.clone()),
        session: None,
        progress_token: progress,
        log_level,
        capabilities: meta[META_CAPABILITIES].clone(),
        replay,
        missing_capability: Default::default(),
        task_offer: Default::default(),
        task: Default::default(),
    });
    let call = Call {
        tenant: tenant.to_string(),
        caller,
        catalog,
        peer: peer.clone(),
        tenant_permits: platform.deployments.tenant_permits(tenant),
        platform: platform.clone(),
    };
    let cacheable = CACHEABLE.contains(&method.as_str());
    let answer_id = id.clone();
    let signer_platform = platform.clone();
    let tenant_owned = tenant.to_string();
    let run = async move {
        let outcome = call
            .dispatch(&method, &params)
            .await
            .unwrap_or_else(|| Err(RpcError::method_not_found(&method)));
        match peer.missing_capability.lock().unwrap().take() {
            Some(capability) => Err(RpcError::new(
                MISSING_CAPABILITY,
                format!("this tool needs the client capability `{capability}`"),
            )
            .with_data(json!({ "requiredCapabilities": { capability: {} } }))),
            None => outcome.map(|result| match (&peer.replay, &target) {
                (Some(replay), Some(target)) if result["resultType"] == "input_required" => {
                    let questions: serde_json::Map<String, Value> = replay.pending.lock().unwrap().drain(..).collect();
                    let used = replay.used.lock().unwrap();
                    json!({
                        "resultType": "input_required",
                        "inputRequests": questions,
                        "requestState": signer_platform.mcp.signer.sign(&tenant_owned, target, &used),
                    })
                }
                _ => stamp(result, cacheable),
            }),
        }
    };
    if streaming {
        stream_response(async move { respond(&answer_id, run.await) }, outbox, inbox)
    } else {
        match run.await {
            Ok(result) => axum::Json(jsonrpc::result(&id, result)).into_response(),
            Err(error) => {
                let status = if error.code == MISSING_CAPABILITY {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                rpc_error(status, &id, error)
            }
        }
    }
}

/// The answers a multi-round request brings: those of earlier rounds (in the
/// signed `requestState`) and this round's `inputResponses`.
fn replay_of(platform: &Platform, tenant: &str, target: &str, params: &Value) -> Result<Replay, String> {
    let mut answers = std::collections::HashMap::new();
    match params.get("requestState") {
        None => {}
        Some(Value::String(state)) => {
            let earlier = platform
                .mcp
                .signer
                .verify(tenant, target, state)
                .ok_or("requestState integrity check failed")?;
            answers.extend(earlier);
        }
        Some(_) => return Err("`requestState` must be a string".into()),
    }
    match params.get("inputResponses") {
        None => {}
        Some(Value::Object(responses)) => answers.extend(responses.clone()),
        Some(_) => return Err("`inputResponses` must be an object".into()),
    }
    Ok(Replay {
        answers,
        ..Replay::default()
    })
}

/// Methods of the stateless revision (besides `server/discover`).
const STATELESS_METHODS: &[&str] = &[
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
];

/// Results clients may cache (they carry `ttlMs` and `cacheScope`).
const CACHEABLE: &[&str] = &[
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];

/// Adds what every 2026-07-28 result carries: `resultType`, and caching
/// hints on cacheable ones (private: lists depend on the caller's tenant).
fn stamp(mut result: Value, cacheable: bool) -> Value {
    if result.get("resultType").is_none() {
        result["resultType"] = "complete".into();
    }
    if cacheable {
        result["ttlMs"] = 0.into();
        result["cacheScope"] = "private".into();
    }
    result
}

fn discover(tenant: &str) -> Value {
    stamp(
        json!({
            "supportedVersions": [STATELESS_VERSION],
            "capabilities": {
                "tools": {}, "prompts": {}, "resources": {}, "logging": {}, "completions": {},
                "extensions": { (super::tasks::EXTENSION): {} },
            },
            "_meta": { "io.modelcontextprotocol/serverInfo": server_info(tenant) },
        }),
        true,
    )
}

/// Checks `Mcp-Method` (and `Mcp-Name` where the method names a target)
/// against the body.
fn check_method_headers(headers: &HeaderMap, method: &str, params: &Value) -> Result<(), String> {
    match header_str(headers, "mcp-method") {
        Some(value) if value == method => {}
        Some(value) => {
            return Err(format!(
                "Mcp-Method header `{value}` does not match the method `{method}`"
            ));
        }
        None => return Err("Missing Mcp-Method header".into()),
    }
    let target = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => params.get("taskId"),
        _ => return Ok(()),
    };
    let Some(target) = target.and_then(Value::as_str) else {
        return Ok(());
    };
    match header_str(headers, "mcp-name") {
        Some(value) if value == target => Ok(()),
        Some(value) => Err(format!("Mcp-Name header `{value}` does not match `{target}`")),
        None => Err("Missing Mcp-Name header".into()),
    }
}

/// `GET /t/{tenant}/mcp`: the session's stream of notifications
/// (`list_changed` when plugins are enabled, disabled or upgraded).
pub async fn get(State(platform): State<Platform>, Path(tenant): Path<String>, request: Request) -> Response {
    let caller = match admit(&platform, &tenant, &request).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let headers = request.headers();
    if !accepts(headers, "text/event-stream") {
        return refuse(StatusCode::NOT_ACCEPTABLE, "Accept must include text/event-stream");
    }
    let Some(session_id) = header_str(headers, SESSION_HEADER) else {
        return rpc_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &Value::Null,
            RpcError::new(
                INVALID_REQUEST,
                "GET needs an Mcp-Session-Id; the stateless revision has no stream",
            ),
        );
    };
    let Some(session) = platform.mcp.get(&tenant, session_id, caller.as_deref()) else {
        return refuse(StatusCode::NOT_FOUND, "unknown or expired session; initialize again");
    };
    let changes = platform.mcp.subscribe();
    Sse::new(notifications(session, changes))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn notifications(
    session: Arc<Session>,
    changes: tokio::sync::broadcast::Receiver<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    tokio_stream::wrappers::BroadcastStream::new(changes)
        .filter_map(move |tenant| {
            let session = session.clone();
            async move {
                // A lagging receiver missed changes: tell the client anyway.
                let relevant = tenant.map_or(true, |t| t == session.tenant);
                relevant.then(|| {
                    let mut messages: Vec<Value> = ["tools", "prompts", "resources"]
                        .iter()
                        .map(|kind| jsonrpc::notification(&format!("notifications/{kind}/list_changed"), json!({})))
                        .collect();
                    for uri in session.subscriptions.lock().unwrap().iter() {
                        messages.push(jsonrpc::notification(
                            "notifications/resources/updated",
                            json!({ "uri": uri }),
                        ));
                    }
                    futures::stream::iter(messages)
                })
            }
        })
        .flatten()
        .map(|message| Ok(Event::default().event("message").data(message.to_string())))
}

/// `DELETE /t/{tenant}/mcp`: ends the session.
pub async fn delete(State(platform): State<Platform>, Path(tenant): Path<String>, request: Request) -> Response {
    let caller = match admit(&platform, &tenant, &request).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let Some(session_id) = header_str(request.headers(), SESSION_HEADER) else {
        return refuse(StatusCode::BAD_REQUEST, "missing Mcp-Session-Id");
    };
    if platform.mcp.remove(&tenant, session_id, caller.as_deref()) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        refuse(StatusCode::NOT_FOUND, "unknown or expired session")
    }
}
