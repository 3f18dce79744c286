//! `Connection: close` on an HTTP/1 answer whose request body was not read
//! to its end.
//!
//! A route may answer before it reads the body: 413 for a declared length
//! over the limit, 401 for a missing token, 429, a timeout. hyper then
//! cannot reuse the connection (the rest of the body is still on the
//! wire), so it closes it after the answer. It says so in the answer only
//! if it noticed the unread body before it wrote the head, which is a race
//! with the handler. When it loses, a keep-alive client puts the
//! connection back in its pool, sends its next request on it, and gets a
//! connection closed under that request instead of an answer.
//!
//! This layer removes the race: it watches the request body and, when the
//! answer is ready and the body has not reached its end, says
//! `Connection: close` itself, which hyper honours. Requests without a body
//! (most GETs) are not watched and cost nothing. HTTP/2 needs none of this
//! (an unread stream is reset on its own) and forbids the header.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};

/// Marks HTTP/1 answers to requests whose body was left unread.
pub async fn layer(request: Request, next: Next) -> Response {
    if request.version() >= Version::HTTP_2 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(Watched {
            inner: body,
            read: read.clone(),
        })
    });
    let mut response = next.run(request).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records reaching its end.
struct Watched {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.read.store(true, Ordering::Release);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    fn router() -> Router {
        Router::new()
            .route(
                "/read",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .route("/refuse", post(|| async { StatusCode::UNAUTHORIZED }))
            .route("/partly", post(partly))
            .layer(axum::middleware::from_fn(layer))
    }

    /// Reads one frame of a body of two, then answers.
    async fn partly(request: Request) -> StatusCode {
        let mut body = request.into_body().into_data_stream();
        let _ = futures_util::StreamExt::next(&mut body).await;
        StatusCode::OK
    }

    async fn connection(path: &str, version: Version, body: Body) -> Option<String> {
        let request = Request::post(path).version(version).body(body).unwrap();
        let response = router().oneshot(request).await.unwrap();
        response
            .headers()
            .get(header::CONNECTION)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    fn two_frames() -> Body {
        let frames = [
            Ok::<_, axum::Error>(Bytes::from_static(b"ab")),
            Ok(Bytes::from_static(b"cd")),
        ];
        Body::from_stream(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn an_unread_body_closes_the_connection() {
        let close = Some(String::from("close"));
        assert_eq!(
            connection("/refuse", Version::HTTP_11, Body::from("x")).await,
            close
        );
        assert_eq!(
            connection("/partly", Version::HTTP_11, two_frames()).await,
            close
        );
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_keeps_the_connection() {
        assert_eq!(
            connection("/read", Version::HTTP_11, Body::from("xyz")).await,
            None
        );
        assert_eq!(
            connection("/read", Version::HTTP_11, two_frames()).await,
            None
        );
    }

    #[tokio::test]
    async fn no_body_and_http2_are_left_alone() {
        assert_eq!(
            connection("/refuse", Version::HTTP_11, Body::empty()).await,
            None
        );
        assert_eq!(
            connection("/refuse", Version::HTTP_2, Body::from("x")).await,
            None
        );
    }
}
