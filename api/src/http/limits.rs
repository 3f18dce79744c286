//! Request limits: body size, time, and rate.
//!
//! * **Body size.** `api.max_body_size` (default 8 MiB: a 4 MiB payload in
//!   base64 is 5.6 MiB, plus the JSON around it). Larger bodies get 413
//!   `payload_too_large`: at once when their declared `Content-Length` is
//!   over the limit, else as soon as what arrived passes it (see
//!   [`super::json`]).
//! * **Time.** A request not answered within `api.request_timeout` (default
//!   30 s) gets 503 `timeout`; the handler's future is dropped, which
//!   cancels whatever it was waiting for (a state change already handed to
//!   the store still commits, with its audit record).
//! * **Rate.** A token bucket per identity (`api.rate_limit`, requests per
//!   second with `api.rate_limit_burst`), checked when the caller is
//!   authenticated, and one per client IP address for the login route
//!   (`api.login_rate_limit` per minute), so password guessing is slow even
//!   across identities. Past the limit: 429 `rate_limited` with
//!   `Retry-After` in seconds. Buckets live in memory, per node.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{ApiError, AppState};

/// The limits the API applies (from `[api]` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    pub max_body_size: usize,
    pub request_timeout: Duration,
    /// Requests per second per identity.
    pub rate_limit: u32,
    pub rate_limit_burst: u32,
    /// Login attempts per minute per client IP address.
    pub login_rate_limit: u32,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_body_size: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limit: 2000,
            rate_limit_burst: 4000,
            login_rate_limit: 120,
        }
    }
}

/// A token bucket per key.
pub struct Buckets<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(quota: Quota) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one token for `key`, or says how long until one is there.
    pub fn take(&self, key: &K) -> Result<(), ApiError> {
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(ApiError::too_many(
                    wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    "too many requests; retry after the time in Retry-After",
                ))
            }
        }
    }

    /// Forgets buckets that are full again, so idle keys cost no memory.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The API's buckets.
pub struct RateLimits {
    pub identities: Buckets<uuid::Uuid>,
    pub logins: Buckets<IpAddr>,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    pub fn new(limits: &ApiLimits) -> Arc<Self> {
        let per_identity = Quota::per_second(nonzero(limits.rate_limit))
            .allow_burst(nonzero(limits.rate_limit_burst));
        let logins = Quota::per_minute(nonzero(limits.login_rate_limit))
            .allow_burst(nonzero(limits.login_rate_limit));
        Arc::new(Self {
            identities: Buckets::new(per_identity),
            logins: Buckets::new(logins),
        })
    }

    /// Prunes the buckets every minute until the task is aborted.
    pub fn spawn_pruner(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                this.identities.prune();
                this.logins.prune();
            }
        })
    }
}

/// Bounds how long a request may take.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request was not answered within {} s",
                state.limits.request_timeout.as_secs_f64()
            ),
        )
        .into_response(),
    }
}
