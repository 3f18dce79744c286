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

use axum::RequestExt;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError};
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
        let plain = plain_json(&request);
        let (parts, body) = read_limited(request).await?;
        if !plain {
            // Anything but the plain content type (parameters, `+json`
            // suffixes, none at all) gets axum's full checks.
            let request = Request::from_parts(parts, Body::from(body));
            return match axum::Json::<T>::from_request(request, state).await {
                Ok(axum::Json(v)) => Ok(Self(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            };
        }
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

/// The whole body, within the route's limit (axum's `DefaultBodyLimit`).
///
/// A body whose declared `Content-Length` is over the limit is refused
/// before any of it is read; one without a declared length, as soon as it
/// passes the limit.
async fn read_limited(request: Request) -> Result<(Parts, Bytes), ApiError> {
    let too_large = || ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE);
    let declared = request.body().size_hint().lower();
    let (parts, body) = request.with_limited_body().into_parts();
    // `Limited` caps the hint's upper bound at what the limit lets in.
    if body
        .size_hint()
        .upper()
        .is_some_and(|allowed| declared > allowed)
    {
        return Err(too_large());
    }
    match body.collect().await {
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(e) => match e.into_inner().downcast::<LengthLimitError>() {
            Ok(_) => Err(too_large()),
            Err(e) => Err(ApiError::bad_request(
                "invalid_request",
                format!("the body could not be read: {e}"),
            )),
        },
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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use axum::http::header::CONTENT_TYPE;
    use http_body::{Frame, SizeHint};
    use serde_json::{Value, json};

    use super::*;

    /// axum's limit when no `DefaultBodyLimit` layer sets one.
    const LIMIT: u64 = 2 * 1024 * 1024;

    /// A body that declares `len` bytes and fails if anyone reads it.
    struct Declared(u64);

    impl HttpBody for Declared {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("the body was read"))))
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.0)
        }
    }

    async fn extract(body: Body) -> Result<Value, ApiError> {
        let request = Request::post("/")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap();
        ApiJson::<Value>::from_request(request, &())
            .await
            .map(|j| j.0)
    }

    fn code(result: Result<Value, ApiError>) -> (StatusCode, &'static str) {
        let e = result.unwrap_err();
        (e.status, e.code)
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let too_large = (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert_eq!(
            code(extract(Body::new(Declared(LIMIT + 1))).await),
            too_large
        );
        // At the limit the body is read (and here fails to be).
        let unreadable = (StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(code(extract(Body::new(Declared(LIMIT))).await), unreadable);
    }

    #[tokio::test]
    async fn an_undeclared_length_is_refused_once_past_the_limit() {
        let chunk = Bytes::from(vec![b' '; 1024 * 1024]);
        let chunks = (0..3).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let e = code(extract(body).await);
        assert_eq!(e, (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
        assert_eq!(
            extract(Body::from(r#"{"a":1}"#)).await.unwrap(),
            json!({"a": 1})
        );
    }
}
