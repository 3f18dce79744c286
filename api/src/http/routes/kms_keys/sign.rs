//! Signatures with asymmetric keys, by Infisical's algorithm names
//! (`RSASSA_PSS_SHA_256`, `RSASSA_PKCS1_V1_5_SHA_512`, `ECDSA_SHA_384`,
//! `ED25519`, …). ECDSA signatures are DER, as `openssl dgst -verify`
//! reads them; public keys are DER `SubjectPublicKeyInfo` in base64
//! (`publicKey`, Infisical's field) and PEM (`publicKeyPem`, ours).

use std::str::FromStr;

use axum::extract::State;
use kms_core::service::transit::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{authorize_key, count_use, decode, encode, transit_error};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignRequest {
    /// Base64: the message, or its digest with `isDigest`.
    pub data: String,
    pub signing_algorithm: String,
    #[serde(default)]
    pub is_digest: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignResponse {
    /// Base64.
    pub signature: String,
    pub key_id: Uuid,
    pub signing_algorithm: String,
    /// The version that signed.
    pub version: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    pub data: String,
    pub signature: String,
    pub signing_algorithm: String,
    #[serde(default)]
    pub is_digest: bool,
    /// Verify with this version only; default: any readable version.
    #[serde(default)]
    pub version: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    pub signature_valid: bool,
    pub key_id: Uuid,
    pub signing_algorithm: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionParam {
    /// Default: the current version.
    #[serde(default)]
    pub version: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyResponse {
    /// Base64 of the DER `SubjectPublicKeyInfo`.
    pub public_key: String,
    /// The same key as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    pub version: u32,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningAlgorithmsResponse {
    pub signing_algorithms: Vec<String>,
}

fn algorithm(name: &str) -> Result<SigningAlgorithm, ApiError> {
    SigningAlgorithm::from_str(name).map_err(transit_error)
}

/// Signs with the current version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/sign", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = SignRequest,
    responses((status = 200, body = SignResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignRequest>,
) -> Result<ApiJson<SignResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let scheme = algorithm(&body.signing_algorithm)?;
    let data = decode("data", &body.data)?;
    let signed = state
        .kms
        .transit()
        .sign(&caller.actor(), project, id, scheme, &data, body.is_digest)
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Sign).await;
    Ok(ApiJson(SignResponse {
        signature: encode(&signed.signature),
        key_id,
        signing_algorithm: signed.algorithm.as_str().to_owned(),
        version: signed.version,
    }))
}

/// Verifies a signature.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/verify", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<ApiJson<VerifyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    let scheme = algorithm(&body.signing_algorithm)?;
    let data = decode("data", &body.data)?;
    let signature = decode("signature", &body.signature)?;
    let valid = state
        .kms
        .transit()
        .verify(
            &caller.actor(),
            project,
            id,
            scheme,
            &data,
            body.is_digest,
            &signature,
            body.version,
        )
        .await
        .map_err(transit_error)?;
    count_use(&state, project, id, KeyOperation::Verify).await;
    Ok(ApiJson(VerifyResponse {
        signature_valid: valid,
        key_id,
        signing_algorithm: scheme.as_str().to_owned(),
    }))
}

/// The public key of a signing key's version.
#[utoipa::path(get, path = "/api/v1/kms/keys/{keyId}/public-key", tag = "kms",
    params(("keyId" = Uuid, Path), VersionParam),
    responses((status = 200, body = PublicKeyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn public_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<VersionParam>,
) -> Result<ApiJson<PublicKeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Read).await?;
    let key = state
        .kms
        .transit()
        .public_key(&caller.actor(), project, id, params.version)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(PublicKeyResponse {
        public_key: encode(&key.spki_der),
        public_key_pem: key.pem(),
        version: key.version,
    }))
}

/// The signing algorithms a key accepts.
#[utoipa::path(get, path = "/api/v1/kms/keys/{keyId}/signing-algorithms", tag = "kms",
    params(("keyId" = Uuid, Path)),
    responses((status = 200, body = SigningAlgorithmsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn signing_algorithms(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
) -> Result<ApiJson<SigningAlgorithmsResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Read).await?;
    let algorithms = state
        .kms
        .transit()
        .signing_algorithms(project, id)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(SigningAlgorithmsResponse {
        signing_algorithms: algorithms.iter().map(|a| a.as_str().to_owned()).collect(),
    }))
}
