//! Probes. `/healthz`: the process is alive. `/readyz`: it can serve — the
//! database answers and the root is unsealed — and is not shutting down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ErrorBody;
use super::{ApiError, AppState};

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()),
    responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: storage reachable, root unsealed, not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "meta", security(()),
    responses((status = 200, description = "`{\"status\": \"ready\"}`"), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if state.shutdown.is_triggered() {
        return Err(not_ready("shutting down"));
    }
    match state.kms.ready().await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(not_ready(e.to_string()))
        }
    }
}

fn not_ready(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
}
