//! Creating, listing, reading, changing and deleting keys (Infisical's
//! shapes: `{key: {…}}`, `{keys, totalCount}`).

use std::str::FromStr;
use std::time::Duration;

use axum::extract::State;
use kms_core::service::KeyLocation;
use kms_core::service::transit::{
    KeyAlgorithm, KeyUpdate, KeyUsage, ListQuery, NewKey, OrderBy, OrderDirection,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{KeyResponse, KeyView, authorize_key, authorize_project, transit_error, view};
use crate::http::auth::{Action, Caller};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath, ApiQuery};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub project_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `encrypt-decrypt`, `sign-verify` or `generate-verify-mac`; must fit
    /// the algorithm (default: the algorithm's).
    #[serde(default)]
    pub key_usage: Option<String>,
    /// Default `aes-256-gcm`. Also `aes-128-gcm`, `RSA_2048`, `RSA_3072`,
    /// `RSA_4096`, `ECC_NIST_P256`, `ECC_NIST_P384`, `ECC_NIST_P521`,
    /// `ED25519`, `hmac-sha256`, `hmac-sha384`, `hmac-sha512`.
    #[serde(default)]
    pub encryption_algorithm: Option<String>,
    /// `software` (default) or `hsm` (every version generated in the
    /// server's HSM; needs a PKCS#11 root).
    #[serde(default)]
    pub location: Option<String>,
    /// Seconds between automatic rotations (at least 3600); 0 or absent:
    /// none.
    #[serde(default)]
    pub auto_rotate_period: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateKeyRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_disabled: Option<bool>,
    /// Refuse decrypt, verify and MAC verify with older versions.
    #[serde(default)]
    pub min_decryption_version: Option<u32>,
    /// Seconds (at least 3600); 0 turns automatic rotation off.
    #[serde(default)]
    pub auto_rotate_period: Option<u64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub project_id: Uuid,
    #[serde(default)]
    pub offset: Option<u64>,
    /// Default 100, at most 1000.
    #[serde(default)]
    pub limit: Option<u64>,
    /// `name` (default), `createdAt` or `updatedAt`.
    #[serde(default)]
    pub order_by: Option<String>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub order_direction: Option<String>,
    /// Names containing this, ignoring case.
    #[serde(default)]
    pub search: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectParam {
    pub project_id: Uuid,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeysResponse {
    pub keys: Vec<KeyView>,
    pub total_count: u64,
}

fn period(seconds: Option<u64>) -> Option<Option<Duration>> {
    seconds.map(|s| (s > 0).then(|| Duration::from_secs(s)))
}

fn location(text: Option<&str>) -> Result<KeyLocation, ApiError> {
    match text {
        None | Some("software") => Ok(KeyLocation::Software),
        Some("hsm") => Ok(KeyLocation::Hsm),
        Some(_) => Err(ApiError::bad_request(
            "unknown_location",
            "location is \"software\" or \"hsm\"",
        )),
    }
}

/// `location: "hsm"` needs an HSM, and an algorithm it can hold.
fn check_resident(state: &AppState, algorithm: KeyAlgorithm) -> Result<(), ApiError> {
    if !state.kms.has_resident_keys() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "hsm_unavailable",
            "this server has no HSM for resident keys (it needs a PKCS#11 root of trust)",
        ));
    }
    if !kms_core::resident::RESIDENT_SPECS.contains(&algorithm.spec()) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "hsm_unsupported_algorithm",
            format!(
                "{algorithm} keys cannot be HSM-resident (aes-256-gcm, aes-128-gcm, RSA_2048/3072/4096, ECC_NIST_P256/P384 can)"
            ),
        ));
    }
    Ok(())
}

/// Creates a key with its first version.
#[utoipa::path(post, path = "/api/v1/kms/keys", tag = "kms",
    request_body = CreateKeyRequest,
    responses((status = 200, body = KeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateKeyRequest>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let project = authorize_project(&state, &caller, body.project_id, Action::Create).await?;
    let algorithm = match body.encryption_algorithm.as_deref() {
        Some(a) => KeyAlgorithm::from_str(a).map_err(transit_error)?,
        None => KeyAlgorithm::Aes256Gcm,
    };
    let usage = body
        .key_usage
        .as_deref()
        .map(KeyUsage::from_str)
        .transpose()
        .map_err(transit_error)?;
    if let Some(u) = usage
        && u != algorithm.usage()
    {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_key_usage",
            format!("a {algorithm} key is a {} key, not {u}", algorithm.usage()),
        ));
    }
    let location = location(body.location.as_deref())?;
    if location == KeyLocation::Hsm {
        check_resident(&state, algorithm)?;
    }
    let new = NewKey {
        name: body.name,
        description: body.description.unwrap_or_default(),
        algorithm,
        usage,
        location,
        auto_rotate_period: period(body.auto_rotate_period).flatten(),
    };
    let key = state
        .kms
        .transit()
        .create(&caller.actor(), project, new)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}

/// A page of a project's keys.
#[utoipa::path(get, path = "/api/v1/kms/keys", tag = "kms", params(ListParams),
    responses((status = 200, body = KeysResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<ApiJson<KeysResponse>, ApiError> {
    let project = authorize_project(&state, &caller, params.project_id, Action::Read).await?;
    let order_by = match params.order_by.as_deref() {
        None | Some("name") => OrderBy::Name,
        Some("createdAt") => OrderBy::CreatedAt,
        Some("updatedAt") => OrderBy::UpdatedAt,
        Some(_) => {
            return Err(ApiError::invalid("orderBy is name, createdAt or updatedAt"));
        }
    };
    let direction = match params.order_direction.as_deref() {
        None | Some("asc") => OrderDirection::Ascending,
        Some("desc") => OrderDirection::Descending,
        Some(_) => return Err(ApiError::invalid("orderDirection is asc or desc")),
    };
    let query = ListQuery {
        offset: params.offset.unwrap_or(0),
        limit: params.limit.unwrap_or(100),
        order_by,
        direction,
        search: params.search.filter(|s| !s.is_empty()),
    };
    let page = state
        .kms
        .transit()
        .list(project, &query)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeysResponse {
        keys: page.keys.iter().map(view).collect(),
        total_count: page.total_count,
    }))
}

/// One key.
#[utoipa::path(get, path = "/api/v1/kms/keys/{keyId}", tag = "kms",
    params(("keyId" = Uuid, Path)),
    responses((status = 200, body = KeyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Read).await?;
    let key = state
        .kms
        .transit()
        .get(project, id)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}

/// One key, by name.
#[utoipa::path(get, path = "/api/v1/kms/keys/key-name/{keyName}", tag = "kms",
    params(("keyName" = String, Path), ProjectParam),
    responses((status = 200, body = KeyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_by_name(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<ProjectParam>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let project = authorize_project(&state, &caller, params.project_id, Action::Read).await?;
    let key = state
        .kms
        .transit()
        .get_by_name(project, &name)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}

/// Renames, describes, disables or enables a key; sets its minimum
/// decryption version or rotation period.
#[utoipa::path(patch, path = "/api/v1/kms/keys/{keyId}", tag = "kms",
    params(("keyId" = Uuid, Path)), request_body = UpdateKeyRequest,
    responses((status = 200, body = KeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateKeyRequest>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Edit).await?;
    let change = KeyUpdate {
        name: body.name,
        description: body.description,
        is_disabled: body.is_disabled,
        min_decryption_version: body.min_decryption_version,
        auto_rotate_period: period(body.auto_rotate_period),
    };
    let key = state
        .kms
        .transit()
        .update(&caller.actor(), project, id, change)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}

/// Deletes a key: every version is destroyed, so its ciphertexts can never
/// be decrypted again. A body, if sent (Infisical's SDK sends `{}`), is
/// ignored.
#[utoipa::path(delete, path = "/api/v1/kms/keys/{keyId}", tag = "kms",
    params(("keyId" = Uuid, Path)),
    responses((status = 200, body = KeyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key_id): ApiPath<Uuid>,
) -> Result<ApiJson<KeyResponse>, ApiError> {
    let (project, id) = authorize_key(&state, &caller, key_id, Action::Delete).await?;
    let key = state
        .kms
        .transit()
        .delete(&caller.actor(), project, id)
        .await
        .map_err(transit_error)?;
    Ok(ApiJson(KeyResponse { key: view(&key) }))
}
