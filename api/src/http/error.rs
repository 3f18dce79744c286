//! The API's error body.
//!
//! Every error answer, whatever produced it (a handler, an extractor, the
//! body limit, the router's fallback), has one shape — a superset of the
//! one Infisical returns, so its SDKs (which read `message`) report our
//! errors as they report theirs:
//!
//! ```json
//! { "statusCode": 404, "error": "Not Found", "code": "not_found",
//!   "message": "no such project", "reqId": "0b9c…" }
//! ```
//!
//! * `statusCode` — the HTTP status, repeated;
//! * `error` — the status's reason phrase (Infisical's field);
//! * `code` — stable and machine-readable, snake_case: branch on this;
//! * `message` — for people; never carries key material or secrets;
//! * `reqId` — the request id, also in the `x-request-id` header; quote it
//!   when reporting a problem, it is in the server's log line.
//!
//! A handler returns an [`ApiError`]; its response carries the parts as an
//! extension, and the request-id layer ([`super::request_id`]) renders the
//! body once it knows the id. Answers that reach that layer without the
//! extension (a bare 413 from the body limit, say) get a body derived from
//! the status, so there is no second shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kms_core::Error as KmsError;
use kms_core::store::StoreError;

/// An error answer.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds until a refused request may be retried (429 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_request", message)
    }

    /// What a caller gets for anything it may not know exists.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_many(retry_after: u64, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// A failure the caller cannot fix; details go to the log only.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log for this request id",
        )
    }

    /// The body for `request_id`.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        serde_json::json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "code": self.code,
            "message": self.message,
            "reqId": request_id,
        })
    }

    /// The error a bare status stands for (answers built outside our code).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed on this route")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send the body as application/json",
            ),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "request took too long"),
            s if s.is_server_error() => ("internal", "internal error"),
            _ => ("invalid_request", "the request was refused"),
        };
        Self::new(status, code, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = status.into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = seconds.to_string().parse()
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl From<KmsError> for ApiError {
    fn from(e: KmsError) -> Self {
        match &e {
            KmsError::ObjectNotFound(_) | KmsError::ProjectNotFound(_) => {
                Self::not_found("not found")
            }
            KmsError::InvalidRequest(m) => Self::invalid(m.clone()),
            KmsError::InvalidAttribute { .. } => Self::invalid(e.to_string()),
            KmsError::Store(StoreError::RecordConflict(_)) => {
                Self::conflict("changed by another request meanwhile; retry")
            }
            KmsError::Store(StoreError::AlreadyExists(_)) => Self::conflict("already exists"),
            KmsError::Store(StoreError::NotFound(_)) => Self::not_found("not found"),
            _ => Self::internal("kms error", &e),
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::from_status(StatusCode::NOT_FOUND)
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// The error body, for the OpenAPI document.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status.
    pub status_code: u16,
    /// The status's reason phrase.
    pub error: String,
    /// Stable, machine-readable, snake_case.
    pub code: String,
    pub message: String,
    pub req_id: String,
}
