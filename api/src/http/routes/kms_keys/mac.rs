//! HMAC with `hmac-sha256/384/512` keys: MACs are envelopes naming the
//! version (`strongroom:v1:<version>:<base64>`), so they verify after a
//! rotation down to the minimum decryption version.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{authorize_key, count_use, decode, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HmacRequest {
    /// Base64, at most 4 MiB decoded.
    pub data: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HmacResponse {
    pub mac: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HmacVerifyRequest {
    pub data: String,
    pub mac: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HmacVerifyResponse {
    pub mac_valid: bool,
}

/// The HMAC of `data` under the current version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/hmac", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = HmacRequest,
    responses((status = 200, body = HmacResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hmac(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<HmacRequest>,
) -> Result<ApiJson<HmacResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let data = decode("data", &body.data)?;
    let mac = state
        .kms
        .transit()
        .hmac(&caller.actor(), project, id, &data)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Hmac).await;
    Ok(ApiJson(HmacResponse { mac }))
}

/// Whether `mac` authenticates `data`.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/hmac/verify", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = HmacVerifyRequest,
    responses((status = 200, body = HmacVerifyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<HmacVerifyRequest>,
) -> Result<ApiJson<HmacVerifyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let data = decode("data", &body.data)?;
    let valid = state
        .kms
        .transit()
        .hmac_verify(&caller.actor(), project, id, &data, &body.mac)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::HmacVerify).await;
    Ok(ApiJson(HmacVerifyResponse { mac_valid: valid }))
}
