//! Data keys (envelope encryption): a fresh AES key wrapped under the
//! key's current version, returned in clear too unless `includePlaintext`
//! is false. Unwrap it later with `…/decrypt` (same context).

use axum::extract::State;
use kms_core::service::transit::DataKeyKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SecretText, authorize_key, count_use, decode_opt, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataKeyRequest {
    /// 128 or 256 (default).
    #[serde(default)]
    pub bits: Option<u32>,
    /// Default true; false returns only the wrapped key.
    #[serde(default)]
    pub include_plaintext: Option<bool>,
    /// Base64 encryption context bound into the wrapped key.
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataKeyResponse {
    /// The data key wrapped under the named key (a ciphertext).
    pub ciphertext: String,
    /// The data key in base64, unless `includePlaintext` was false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<SecretText>,
    pub version: u32,
}

/// Generates a data key.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/data-key", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = DataKeyRequest,
    responses((status = 200, body = DataKeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DataKeyRequest>,
) -> Result<ApiJson<DataKeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let kind = match body.bits {
        None | Some(256) => DataKeyKind::Aes256,
        Some(128) => DataKeyKind::Aes128,
        Some(_) => return Err(ApiError::invalid("bits is 128 or 256")),
    };
    let context = decode_opt("context", body.context.as_deref())?;
    let key = state
        .kms
        .transit()
        .generate_data_key(
            &caller.actor(),
            project,
            id,
            kind,
            &context,
            body.include_plaintext.unwrap_or(true),
        )
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::DataKey).await;
    Ok(ApiJson(DataKeyResponse {
        plaintext: key
            .plaintext
            .as_ref()
            .map(|p| SecretText::encode(p.expose())),
        ciphertext: key.ciphertext,
        version: key.version,
    }))
}
