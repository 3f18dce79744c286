//! Prometheus metrics at `GET /metrics` (text exposition format).
//!
//! | metric | labels |
//! |---|---|
//! | `strongroom_http_requests_total` | `method`, `route` (the matched route *template*, e.g. `/api/v1/projects/{projectId}`; `unmatched` otherwise), `status` |
//! | `strongroom_http_request_duration_seconds` (histogram) | `method`, `route` |
//! | `strongroom_key_cache_hits_total`, `…_misses_total`, `…_entries`, `strongroom_key_cache_hit_ratio` | — |
//! | `strongroom_key_operations_total` | `operation` (`encrypt`, `sign`, …), `algorithm` (`aes-256-gcm`, …) |
//!
//! No label ever carries an id, a name chosen by a user or a secret: route
//! templates and fixed vocabularies only, so the series count is bounded.
//! Handlers count key operations with [`Metrics::key_operation`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::{ApiError, AppState};

/// The API's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    key_operations: IntCounterVec,
    cache_hits: IntGauge,
    cache_misses: IntGauge,
    cache_entries: IntGauge,
    cache_ratio: Gauge,
}

impl Metrics {
    pub fn new() -> Result<Arc<Self>, prometheus::Error> {
        let registry = Registry::new_custom(Some("strongroom".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer a request")
                .buckets(vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                    0.5, 1.0, 2.5, 5.0, 10.0,
                ]),
            &["method", "route"],
        )?;
        let key_operations = IntCounterVec::new(
            Opts::new(
                "key_operations_total",
                "Key operations by operation and algorithm",
            ),
            &["operation", "algorithm"],
        )?;
        let cache_hits = IntGauge::new("key_cache_hits_total", "Key cache hits since start")?;
        let cache_misses = IntGauge::new("key_cache_misses_total", "Key cache misses since start")?;
        let cache_entries = IntGauge::new("key_cache_entries", "Prepared keys in the cache")?;
        let cache_ratio = Gauge::new("key_cache_hit_ratio", "Hits / (hits + misses) since start")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(key_operations.clone()))?;
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        registry.register(Box::new(cache_entries.clone()))?;
        registry.register(Box::new(cache_ratio.clone()))?;
        Ok(Arc::new(Self {
            registry,
            requests,
            latency,
            key_operations,
            cache_hits,
            cache_misses,
            cache_entries,
            cache_ratio,
        }))
    }

    /// Counts one key operation. `operation` and `algorithm` must come from
    /// a fixed vocabulary (never from the request).
    pub fn key_operation(&self, operation: &'static str, algorithm: &'static str) {
        self.key_operations
            .with_label_values(&[operation, algorithm])
            .inc();
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status_label(status)])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The exposition text, with the cache figures read now.
    pub fn render(&self, kms: &kms_core::service::Kms) -> Result<String, prometheus::Error> {
        let stats = kms.cache_stats();
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.cache_hits.set(clamp(stats.hits));
        self.cache_misses.set(clamp(stats.misses));
        self.cache_entries.set(clamp(stats.entries));
        let total = stats.hits.saturating_add(stats.misses);
        self.cache_ratio.set(if total == 0 {
            0.0
        } else {
            stats.hits as f64 / total as f64
        });
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}

/// Status codes as static labels (one allocation-free label per code).
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// Methods as static labels: a client can send any token as a method.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records every request under its matched route template.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state.metrics.observe(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()),
    responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state.kms) {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        Err(e) => ApiError::internal("cannot render metrics", &e).into_response(),
    }
}
