//! The HTTPS API: routes, shared state and the TLS listener.
//!
//! Today it serves the probes, `GET /healthz` and `GET /readyz`; later work
//! adds the key, secret and identity routes here. Every route gets the same
//! [`AppState`], so every front end reaches keys only through
//! [`kms_core::service::Kms`].

pub mod error;
pub mod health;
pub mod server;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use kms_core::service::Kms;

use crate::shutdown::ShutdownSignal;

pub use error::ApiError;

/// What every listener shares (the HTTPS API today, KMIP next).
#[derive(Clone)]
pub struct AppState {
    pub kms: Kms,
    /// Lets `/readyz` report "shutting down" so load balancers drain first.
    pub shutdown: ShutdownSignal,
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

/// API answers can carry secrets: no cache may keep them.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use kms_core::hierarchy::software::SoftwareRoot;
    use kms_core::service::OpenOptions;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::shutdown::Shutdown;

    async fn get(router: &Router, path: &str) -> (StatusCode, Option<String>, Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let cache = response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, cache, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn probes_report_liveness_readiness_and_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let root = SoftwareRoot::create_key_file(&dir.path().join("root.key")).unwrap();
        let kms = Kms::init(&OpenOptions::sqlite_in(dir.path()), Arc::new(root))
            .await
            .unwrap();
        let shutdown = Shutdown::new();
        let router = router(AppState {
            kms: kms.clone(),
            shutdown: shutdown.signal(),
        });

        let (status, cache, body) = get(&router, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status": "ok"}));
        assert_eq!(cache.as_deref(), Some("no-store"));
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));

        let (status, _, body) = get(&router, "/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");

        // Shutting down: not ready, still alive.
        shutdown.trigger();
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "not_ready");
        assert!(body["error"]["message"].is_string());
        let (status, _, _) = get(&router, "/healthz").await;
        assert_eq!(status, StatusCode::OK);

        // Storage closed: not ready either.
        let fresh = Shutdown::new();
        let router = super::router(AppState {
            kms: kms.clone(),
            shutdown: fresh.signal(),
        });
        kms.close().await;
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "not_ready");
    }
}
