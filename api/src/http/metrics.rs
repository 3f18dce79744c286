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

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kms_core::service::transit::KeyAlgorithm;
use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use super::{ApiError, AppState};

/// The API's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    key_operations: IntCounterVec,
    /// `key_operations`' series by operation and algorithm, resolved on
    /// first use: counting then costs one atomic add, where
    /// `with_label_values` hashes both labels and takes a lock each time.
    key_operation_series: Box<[OnceLock<IntCounter>]>,
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
            key_operation_series: (0..KeyOperation::ALL.len() * KeyAlgorithm::ALL.len())
                .map(|_| OnceLock::new())
                .collect(),
            cache_hits,
            cache_misses,
            cache_entries,
            cache_ratio,
        }))
    }

    /// Counts one key operation.
    pub fn key_operation(&self, operation: KeyOperation, algorithm: KeyAlgorithm) {
        let labels = [operation.as_str(), algorithm.as_str()];
        match self
            .key_operation_series
            .get(series_index(operation, algorithm))
        {
            Some(series) => series
                .get_or_init(|| self.key_operations.with_label_values(&labels))
                .inc(),
            None => self.key_operations.with_label_values(&labels).inc(),
        }
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

/// A use of a key, as `strongroom_key_operations_total` counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOperation {
    Encrypt,
    Decrypt,
    BatchEncrypt,
    BatchDecrypt,
    DataKey,
    Rewrap,
    Sign,
    Verify,
    Hmac,
    HmacVerify,
}

impl KeyOperation {
    pub const ALL: [KeyOperation; 10] = [
        KeyOperation::Encrypt,
        KeyOperation::Decrypt,
        KeyOperation::BatchEncrypt,
        KeyOperation::BatchDecrypt,
        KeyOperation::DataKey,
        KeyOperation::Rewrap,
        KeyOperation::Sign,
        KeyOperation::Verify,
        KeyOperation::Hmac,
        KeyOperation::HmacVerify,
    ];

    /// The `operation` label.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOperation::Encrypt => "encrypt",
            KeyOperation::Decrypt => "decrypt",
            KeyOperation::BatchEncrypt => "batch-encrypt",
            KeyOperation::BatchDecrypt => "batch-decrypt",
            KeyOperation::DataKey => "data-key",
            KeyOperation::Rewrap => "rewrap",
            KeyOperation::Sign => "sign",
            KeyOperation::Verify => "verify",
            KeyOperation::Hmac => "hmac",
            KeyOperation::HmacVerify => "hmac-verify",
        }
    }
}

/// Where a pair's series sits in [`Metrics::key_operation_series`]: the
/// enums' declaration order, one row of algorithms per operation. A
/// variant missing from its `ALL` gets no slot (`usize::MAX`, which
/// `get` refuses), rather than another pair's.
fn series_index(operation: KeyOperation, algorithm: KeyAlgorithm) -> usize {
    let (op, alg) = (operation as usize, algorithm as usize);
    if op >= KeyOperation::ALL.len() || alg >= KeyAlgorithm::ALL.len() {
        return usize::MAX;
    }
    op * KeyAlgorithm::ALL.len() + alg
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_algorithm_has_its_own_series() {
        for (i, op) in KeyOperation::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "KeyOperation::ALL is in declaration order");
        }
        for (i, alg) in KeyAlgorithm::ALL.iter().enumerate() {
            assert_eq!(
                *alg as usize, i,
                "KeyAlgorithm::ALL is in declaration order"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for op in KeyOperation::ALL {
            for alg in KeyAlgorithm::ALL {
                let i = series_index(op, alg);
                assert!(i < KeyOperation::ALL.len() * KeyAlgorithm::ALL.len());
                assert!(seen.insert(i), "{op:?} {alg:?} shares a series");
            }
        }
    }

    #[test]
    fn key_operations_are_counted_by_their_labels() {
        let metrics = Metrics::new().unwrap();
        for _ in 0..3 {
            metrics.key_operation(KeyOperation::Encrypt, KeyAlgorithm::Aes256Gcm);
        }
        metrics.key_operation(KeyOperation::HmacVerify, KeyAlgorithm::HmacSha512);
        let text = TextEncoder::new()
            .encode_to_string(&metrics.registry.gather())
            .unwrap();
        assert!(text.contains(
            "strongroom_key_operations_total{algorithm=\"aes-256-gcm\",operation=\"encrypt\"} 3"
        ));
        assert!(text.contains(
            "strongroom_key_operations_total{algorithm=\"hmac-sha512\",operation=\"hmac-verify\"} 1"
        ));
        // Series appear on first use only.
        assert!(!text.contains("operation=\"sign\""));
    }
}
