//! The HTTPS API: routes, shared state and the TLS listener.
//!
//! A request passes, outermost first: `no-store` on every answer →
//! `Connection: close` when the body was left unread ([`unread_body`]) → the
//! request id and error rendering ([`request_id`]) → metrics by route
//! template ([`metrics`]) → the request timeout and body limit
//! ([`limits`]) → the router. Routes and the OpenAPI document come from
//! one list ([`routes::all`]); each resource is a module of [`routes`].
//! Authentication and authorization are [`auth`]: a handler takes a
//! [`auth::Caller`] and calls `caller.authorize(...)` once.
//!
//! Every route gets the same [`AppState`], so every front end reaches keys
//! only through [`kms_core::service::Kms`].

pub mod auth;
pub mod error;
pub mod health;
pub mod json;
pub mod limits;
pub mod linger;
pub mod metrics;
pub mod openapi;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod unread_body;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::{Extension, Router, middleware};
use kms_core::service::Kms;

use crate::kmip::service::KmipAdmin;
use crate::shutdown::ShutdownSignal;

pub use error::ApiError;
pub use limits::ApiLimits;

/// What every route shares. One `Arc`: axum clones the state for every
/// extractor and layer of every request, and one reference count is cheaper
/// to bump from two cores than seven.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`], reached through `Deref`.
pub struct Shared {
    pub kms: Kms,
    /// Lets `/readyz` report "shutting down" so load balancers drain first.
    pub shutdown: ShutdownSignal,
    pub auth: Arc<auth::Auth>,
    pub rate: Arc<limits::RateLimits>,
    pub metrics: Arc<metrics::Metrics>,
    pub limits: ApiLimits,
    /// The KMIP front end, when this process runs one.
    pub kmip: Option<Arc<KmipAdmin>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        kms: Kms,
        shutdown: ShutdownSignal,
        limits: ApiLimits,
        kmip: Option<Arc<KmipAdmin>>,
    ) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Shared {
            auth: auth::Auth::new(&kms),
            rate: limits::RateLimits::new(&limits),
            metrics: metrics::Metrics::new()?,
            kms,
            shutdown,
            limits,
            kmip,
        })))
    }
}

/// The API's routes and layers.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = routes::all().split_for_parts();
    let doc = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render the OpenAPI document");
        String::from("{}")
    });
    routes
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(Extension(openapi::Document(Arc::new(doc))))
        .layer(DefaultBodyLimit::max(state.limits.max_body_size))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::layer,
        ))
        .layer(middleware::from_fn(request_id::layer))
        .layer(middleware::from_fn(unread_body::layer))
        .layer(middleware::map_response(no_store))
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
        let router = router(
            AppState::new(kms.clone(), shutdown.signal(), ApiLimits::default(), None).unwrap(),
        );

        let (status, cache, body) = get(&router, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status": "ok"}));
        assert_eq!(cache.as_deref(), Some("no-store"));
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));

        let (status, _, body) = get(&router, "/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");

        // Shutting down: not ready, still alive.
        shutdown.trigger();
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "not_ready");
        assert!(body["message"].is_string());
        let (status, _, _) = get(&router, "/healthz").await;
        assert_eq!(status, StatusCode::OK);

        // Storage closed: not ready either.
        let fresh = Shutdown::new();
        let router = super::router(
            AppState::new(kms.clone(), fresh.signal(), ApiLimits::default(), None).unwrap(),
        );
        kms.close().await;
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "not_ready");
    }
}
