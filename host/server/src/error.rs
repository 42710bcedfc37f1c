//! The one error type of the API: an HTTP status and a JSON body naming the problem.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pa_runtime::{InvokeError, LoadError};
use pa_store::StoreError;

/// An error answered as `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict { .. } => Self::new(StatusCode::CONFLICT, "version_conflict", e.to_string()),
            StoreError::NotFound(_) => Self::not_found(e.to_string()),
            StoreError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            // PostgreSQL refuses text it cannot store (a NUL character): the input is at fault.
            StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("22021") => {
                Self::bad_request("text values must not contain NUL characters")
            }
            other => {
                crate::metrics::store_error("request");
                tracing::error!(error = %other, "store failure");
                Self::internal(other)
            }
        }
    }
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Invalid(_) | LoadError::Compile(_) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_component", e.to_string())
            }
            LoadError::UnknownWorld(_) | LoadError::NoTools(_) | LoadError::MissingImports(_) | LoadError::Link(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_component", e.to_string())
            }
            LoadError::CompileTimeout(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "compile_timeout", e.to_string())
            }
            LoadError::Cache(_) => Self::internal(e),
        }
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        let (status, code, retry_after) = match &e {
            InvokeError::Busy { .. } => (StatusCode::TOO_MANY_REQUESTS, "concurrency_limit", Some(1)),
            InvokeError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout", None),
            InvokeError::MemoryLimit(_) => (StatusCode::INTERNAL_SERVER_ERROR, "memory_limit", None),
            InvokeError::Trap(_) => (StatusCode::INTERNAL_SERVER_ERROR, "function_failed", None),
            InvokeError::Suspended => (StatusCode::INTERNAL_SERVER_ERROR, "suspended", None),
            InvokeError::Instantiate(_) => (StatusCode::SERVICE_UNAVAILABLE, "no_instance", Some(1)),
        };
        ApiError {
            retry_after,
            ..Self::new(status, code, e.to_string())
        }
    }
}
