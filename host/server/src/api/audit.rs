//! Reading and exporting a tenant's audit log.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pa_store::AuditQuery;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::platform::Platform;

/// Filters and format of `GET /api/v1/tenants/{tenant}/audit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
    format: Option<String>,
}

const MAX_LIMIT: i64 = 10_000;

/// `GET /api/v1/tenants/{tenant}/audit`: entries oldest first, as JSON
/// (`{"entries": […], "next_after": seq}`), JSON lines or CSV.
pub async fn list(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let filters = [
        &params.action,
        &params.actor,
        &params.outcome,
        &params.since,
        &params.until,
    ];
    if filters.into_iter().flatten().any(|f| f.contains('\0')) {
        return Err(ApiError::bad_request("filters must not contain NUL characters"));
    }
    if params.after.is_some_and(|a| a < 0) {
        return Err(ApiError::bad_request("`after` must not be negative"));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let query = AuditQuery {
        action: params.action,
        actor: params.actor,
        outcome: params.outcome,
        since: params.since,
        until: params.until,
        after: params.after,
        limit,
    };
    let entries = platform.store.audit(&tenant, &query).await?;
    match params.format.as_deref().unwrap_or("json") {
        "json" => {
            let next_after = (entries.len() as i64 == limit)
                .then(|| entries.last().map(|e| e.seq))
                .flatten();
            Ok(Json(json!({ "entries": entries, "next_after": next_after })).into_response())
        }
        "jsonl" => {
            let mut text = String::new();
            for entry in &entries {
                text.push_str(&serde_json::to_string(entry).map_err(ApiError::internal)?);
                text.push('\n');
            }
            Ok(([(header::CONTENT_TYPE, "application/jsonl")], text).into_response())
        }
        "csv" => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for entry in &entries {
                writer.serialize(entry).map_err(ApiError::internal)?;
            }
            let bytes = writer.into_inner().map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
        }
        other => Err(ApiError::bad_request(format!(
            "unknown format `{other}`: use json, jsonl or csv"
        ))),
    }
}
