//! Key versions: the list, and rotation (a new current version; old
//! ciphertexts still decrypt down to the minimum decryption version, which
//! is set with `PATCH /api/v1/kms/keys/{keyId}` `{minDecryptionVersion}`).
//! Automatic rotation (`autoRotatePeriod`) runs in the server every minute
//! (`serve`), safely on several nodes.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{KeyResponse, authorize_key, rfc3339, transit_error, view};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub version: u32,
    pub created_at: String,
    /// Whether decrypt and verify still accept this version.
    pub decryptable: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionsResponse {
    pub key_id: Uuid,
    pub current_version: u32,
    pub min_decryption_version: u32,
    pub versions: Vec<VersionView>,
}

/// A key's versions, oldest first.
#[utoipa::path(get, path = "/api/v1/kms/keys/{keyId}/versions", tag = "kms",
    params(("keyId" = Uuid, Path)),
    responses((status = 200, body = VersionsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
) -> Result<ApiJson<VersionsResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Read).await?;
    let key = state
        .kms
        .transit()
        .get(project, id)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(VersionsResponse {
        key_id,
        current_version: key.version,
        min_decryption_version: key.min_decryption_version,
        versions: key
            .versions
            .iter()
            .map(|v| VersionView {
                version: v.version,
                created_at: rfc3339(v.created_at),
                decryptable: v.version >= key.min_decryption_version,
            })
            .collect(),
    }))
}

/// Adds a version and makes it current.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/rotate", tag = "kms",
    params(("keyId" = Uuid, Path)),
    responses((status = 200, body = KeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Rotate).await?;
    let key = state
        .kms
        .transit()
        .rotate(&caller.actor(), project, id)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}
