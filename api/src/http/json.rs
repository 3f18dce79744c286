//! Request bodies and path parameters, with our error shape.
//!
//! [`ApiJson`] is axum's `Json` with every rejection mapped to a stable
//! code:
//!
//! | problem | status | code |
//! |---|---|---|
//! | no `Content-Type: application/json` | 415 | `unsupported_media_type` |
//! | not JSON | 400 | `invalid_json` |
//! | JSON of the wrong shape: missing, mistyped or **unknown** fields | 400 | `invalid_request` |
//! | larger than `api.max_body_size` | 413 | `payload_too_large` |
//!
//! Unknown fields are refused (`deny_unknown_fields` on every request
//! type): a misspelt `numUsesLimt` silently ignored would grant unlimited
//! uses. Fields Infisical defines that we accept are listed on each type.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON request body (and, as a response, a JSON answer).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !plain_json(&request) {
            // Anything but the plain content type (parameters, `+json`
            // suffixes, none at all) gets axum's full checks.
            return match axum::Json::<T>::from_request(request, state).await {
                Ok(axum::Json(v)) => Ok(Self(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            };
        }
        let body = match Bytes::from_request(request, state).await {
            Ok(body) => body,
            Err(e) => return Err(json_rejection(JsonRejection::BytesRejection(e))),
        };
        // The fast path parses without tracking the path to each value;
        // only a body that fails is parsed again, by axum, for an error
        // that names the offending field.
        match serde_json::from_slice(&body) {
            Ok(v) => Ok(Self(v)),
            Err(_) => match axum::Json::<T>::from_bytes(&body) {
                Ok(axum::Json(v)) => Ok(Self(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            },
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Content-Type: application/json` exactly (any case), the header every
/// client sends.
fn plain_json(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/json"))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => ApiError::invalid(e.body_text()),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
        other => ApiError::new(other.status(), "invalid_request", other.body_text()),
    }
}

/// Path parameters; a malformed one (not a UUID where one is expected) is
/// a 404 like any id that names nothing.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::not_found("not found"))
            }
            Err(e) => Err(ApiError::internal("path parameters", &e)),
        }
    }
}

/// Query parameters; a malformed or unknown one is 400 `invalid_request`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(e) => Err(ApiError::invalid(e.body_text())),
        }
    }
}
