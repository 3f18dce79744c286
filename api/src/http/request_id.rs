//! Request ids and the final rendering of error bodies.
//!
//! Every request gets an id: the client's `x-request-id` when it is a
//! short token (1–64 of `A-Z a-z 0-9 - _ .`), else a fresh UUID. It is
//! echoed in the answer's `x-request-id`, put in every error body as
//! `reqId`, and logged with every failed request, so one id ties a
//! client's report to the server's log line.

use axum::Json;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

pub const HEADER: &str = "x-request-id";

/// The id of the request being served (a request extension).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The outermost layer: assigns the id, renders errors, echoes the id.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let response = next.run(request).await;
    let mut response = render(response, &id, &method);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// Gives every error answer the one body shape (see [`super::error`]).
fn render(response: Response, id: &str, method: &axum::http::Method) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match response.extensions().get::<ApiError>() {
        Some(e) => e.clone(),
        None => ApiError::from_status(status),
    };
    if status.is_server_error() {
        tracing::warn!(request_id = id, %method, status = status.as_u16(), code = error.code, "request failed");
    } else {
        tracing::debug!(request_id = id, %method, status = status.as_u16(), code = error.code, "request refused");
    }
    let (mut parts, _) = response.into_parts();
    let mut rendered = (status, Json(error.body(id))).into_response();
    // Keep headers such as Retry-After and Allow; the body's own replace
    // the old ones.
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    for (name, value) in parts.headers.iter() {
        rendered.headers_mut().append(name.clone(), value.clone());
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn client_ids_are_short_tokens() {
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("a b"));
        assert!(!acceptable("a\nb"));
    }
}
