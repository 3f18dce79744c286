//! Encrypt and decrypt with a key's versions (Infisical's
//! `{plaintext}` → `{ciphertext}` and back), with an optional encryption
//! context (ours): base64 bytes bound into the ciphertext, which decrypt
//! must be given again.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SecretText, authorize_key, count_use, decode, decode_opt, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EncryptRequest {
    /// Base64, at most 4 MiB decoded.
    pub plaintext: SecretText,
    /// Base64 associated data (at most 64 KiB decoded); decrypt needs the same.
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EncryptResponse {
    /// `strongroom:v1:<version>:<base64>`.
    pub ciphertext: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecryptRequest {
    pub ciphertext: String,
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DecryptResponse {
    /// Base64.
    pub plaintext: SecretText,
}

/// Encrypts with the current version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/encrypt", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = EncryptRequest,
    responses((status = 200, body = EncryptResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn encrypt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EncryptRequest>,
) -> Result<ApiJson<EncryptResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let plaintext = decode("plaintext", &body.plaintext.0)?;
    let context = decode_opt("context", body.context.as_deref())?;
    let ciphertext = state
        .kms
        .transit()
        .encrypt(&caller.actor(), project, id, &plaintext, &context)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Encrypt).await;
    Ok(ApiJson(EncryptResponse { ciphertext }))
}

/// Decrypts a ciphertext made by any version at or above the key's minimum
/// decryption version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/decrypt", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = DecryptRequest,
    responses((status = 200, body = DecryptResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decrypt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecryptRequest>,
) -> Result<ApiJson<DecryptResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let context = decode_opt("context", body.context.as_deref())?;
    let plaintext = state
        .kms
        .transit()
        .decrypt(&caller.actor(), project, id, &body.ciphertext, &context)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Decrypt).await;
    Ok(ApiJson(DecryptResponse {
        plaintext: SecretText::encode(plaintext.expose()),
    }))
}
