//! Random bytes from the server's DRBG (audited in the project).

use axum::extract::State;
use kms_core::service::transit::MAX_RANDOM_BYTES;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SecretText, authorize_project, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::ApiJson;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RandomRequest {
    pub project_id: Uuid,
    /// 1 to 65536.
    pub bytes: usize,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RandomResponse {
    /// Base64.
    pub random_bytes: SecretText,
}

/// `bytes` random bytes.
#[utoipa::path(post, path = "/api/v1/kms/random", tag = "kms",
    request_body = RandomRequest,
    responses((status = 200, body = RandomResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn random(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RandomRequest>,
) -> Result<ApiJson<RandomResponse>, ApiError> {
    let project = authorize_project(&state, &caller, body.project_id, Action::Use).await?;
    if body.bytes == 0 || body.bytes > MAX_RANDOM_BYTES {
        return Err(ApiError::invalid(format!(
            "bytes is 1 to {MAX_RANDOM_BYTES}"
        )));
    }
    let bytes = zeroize::Zeroizing::new(
        state
            .kms
            .transit()
            .random_bytes(&caller.actor(), project, body.bytes)
            .await
            .map_err(transit_error)?,
    );
    Ok(ApiJson(RandomResponse {
        random_bytes: SecretText::encode(&bytes),
    }))
}
