//! Batches: up to 1000 items in one request, answered in order. A problem
//! with the key (not found, disabled, wrong usage) fails the request; a
//! problem with one item (bad base64, too large, not authentic) fails that
//! item only, reported as `{error: {statusCode, code, message}}` in its
//! place. The whole body is bounded by the routes' 6 MiB limit.

use axum::extract::State;
use kms_core::service::transit::{BatchItem, MAX_BATCH, TransitError, TransitResult};
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
pub struct EncryptItem {
    pub plaintext: SecretText,
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchEncryptRequest {
    pub items: Vec<EncryptItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecryptItem {
    pub ciphertext: String,
    #[serde(default)]
    pub context: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchDecryptRequest {
    pub items: Vec<DecryptItem>,
}

/// One item's failure.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemError {
    pub status_code: u16,
    pub code: String,
    pub message: String,
}

impl From<ApiError> for ItemError {
    fn from(e: ApiError) -> Self {
        Self {
            status_code: e.status.as_u16(),
            code: e.code.to_owned(),
            message: e.message,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecryptResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<SecretText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchEncryptResponse {
    pub results: Vec<EncryptResult>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchDecryptResponse {
    pub results: Vec<DecryptResult>,
}

fn check_count(n: usize) -> Result<(), ApiError> {
    if n > MAX_BATCH {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a batch has at most {MAX_BATCH} items"),
        ));
    }
    Ok(())
}

/// Decodes each item; the ones that decode go to the batch, the others
/// keep their error in their place.
fn prepare<T>(
    items: &[T],
    decode_item: impl Fn(&T) -> Result<BatchItem, ApiError>,
) -> (Vec<BatchItem>, Vec<Result<(), ApiError>>) {
    let mut batch = Vec::with_capacity(items.len());
    let mut slots = Vec::with_capacity(items.len());
    for item in items {
        match decode_item(item) {
            Ok(b) => {
                batch.push(b);
                slots.push(Ok(()));
            }
            Err(e) => slots.push(Err(e)),
        }
    }
    (batch, slots)
}

/// Encrypts each item with the current version.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/batch/encrypt", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = BatchEncryptRequest,
    responses((status = 200, body = BatchEncryptResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn encrypt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BatchEncryptRequest>,
) -> Result<ApiJson<BatchEncryptResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    check_count(body.items.len())?;
    let (batch, slots) = prepare(&body.items, |item| {
        Ok(BatchItem {
            // Moved out of its zeroizing buffer, not copied: `BatchItem` wipes it.
            input: std::mem::take(&mut *decode("plaintext", &item.plaintext.0)?),
            context: std::mem::take(&mut *decode_opt("context", item.context.as_deref())?),
        })
    });
    let mut done = state
        .kms
        .transit()
        .encrypt_batch(&caller.actor(), project, id, &batch)
        .await
        .map_err(transit_error)?
        .into_iter();
    let results = merge(slots, &mut done, |outcome| match outcome {
        Ok(c) => EncryptResult {
            ciphertext: Some(c),
            error: None,
        },
        Err(e) => EncryptResult {
            ciphertext: None,
            error: Some(e.into()),
        },
    });
    count_use(&state, project, id, KeyOperation::BatchEncrypt).await;
    Ok(ApiJson(BatchEncryptResponse { results }))
}

/// Decrypts each item.
#[utoipa::path(post, path = "/api/v1/kms/keys/{keyId}/batch/decrypt", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = BatchDecryptRequest,
    responses((status = 200, body = BatchDecryptResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decrypt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BatchDecryptRequest>,
) -> Result<ApiJson<BatchDecryptResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Use).await?;
    check_count(body.items.len())?;
    let (batch, slots) = prepare(&body.items, |item| {
        Ok(BatchItem {
            input: item.ciphertext.as_bytes().to_vec(),
            context: std::mem::take(&mut *decode_opt("context", item.context.as_deref())?),
        })
    });
    let mut done = state
        .kms
        .transit()
        .decrypt_batch(&caller.actor(), project, id, &batch)
        .await
        .map_err(transit_error)?
        .into_iter();
    let results = merge(slots, &mut done, |outcome| match outcome {
        Ok(p) => DecryptResult {
            plaintext: Some(SecretText::encode(p.expose())),
            error: None,
        },
        Err(e) => DecryptResult {
            plaintext: None,
            error: Some(e.into()),
        },
    });
    count_use(&state, project, id, KeyOperation::BatchDecrypt).await;
    Ok(ApiJson(BatchDecryptResponse { results }))
}

/// Puts the batch's answers back in the places of the items that reached
/// it, beside the errors of the items that did not.
fn merge<T, R>(
    slots: Vec<Result<(), ApiError>>,
    done: &mut impl Iterator<Item = TransitResult<T>>,
    result: impl Fn(Result<T, ApiError>) -> R,
) -> Vec<R> {
    slots
        .into_iter()
        .map(|slot| {
            result(slot.and_then(|()| {
                done.next()
                    .unwrap_or_else(|| Err(missing()))
                    .map_err(transit_error)
            }))
        })
        .collect()
}

/// The batch answered fewer items than it was given (never expected).
fn missing() -> TransitError {
    TransitError::Invalid("the batch lost an item".into())
}
