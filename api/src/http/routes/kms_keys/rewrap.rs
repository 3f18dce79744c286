//! Re-wrap: re-encrypts a ciphertext under the key's current version
//! without the plaintext leaving the server (after a rotation, before
//! raising the minimum decryption version).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{authorize_key, count_use, decode_opt, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewrapRequest {
    pub ciphertext: String,
    /// Base64; the context the ciphertext was made with (kept).
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewrapResponse {
    pub ciphertext: String,
}

/// Re-encrypts a ciphertext under the current version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/rewrap", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = RewrapRequest,
    responses((status = 200, body = RewrapResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rewrap(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RewrapRequest>,
) -> Result<ApiJson<RewrapResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let context = decode_opt("context", body.context.as_deref())?;
    let ciphertext = state
        .kms
        .transit()
        .rewrap(&caller.actor(), project, id, &body.ciphertext, &context)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Rewrap).await;
    Ok(ApiJson(RewrapResponse { ciphertext }))
}
