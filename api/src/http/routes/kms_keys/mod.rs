//! Named keys over HTTPS: Infisical's KMS API (`/api/v1/kms/keys…`, same
//! paths and JSON, so its SDKs work unchanged) plus versions, rotation,
//! batches, data keys, re-wrap, HMAC and random bytes. Every route calls
//! [`kms_core::service::Transit`]; this module only translates.
//!
//! | file | routes | permission (`keys:…`) |
//! |---|---|---|
//! | `manage` | `POST/GET /api/v1/kms/keys`, `GET/PATCH/DELETE …/{keyId}`, `GET …/key-name/{keyName}` | create, read, read, edit, delete |
//! | `encrypt` | `POST …/{keyId}/encrypt`, `…/decrypt` | use |
//! | `sign` | `POST …/{keyId}/sign`, `…/verify`; `GET …/public-key`, `…/signing-algorithms` | use, use, read, read |
//! | `versions` | `GET …/{keyId}/versions`, `POST …/{keyId}/rotate` (the minimum decryption version is a `PATCH` field) | read, rotate |
//! | `batch` | `POST …/{keyId}/batch/encrypt`, `…/batch/decrypt` | use |
//! | `data_keys` | `POST …/{keyId}/data-key` | use |
//! | `rewrap` | `POST …/{keyId}/rewrap` | use |
//! | `mac` | `POST …/{keyId}/hmac`, `…/hmac/verify` | use |
//! | `random` | `POST /api/v1/kms/random` | use |
//!
//! **Which project.** Routes naming a key by id alone find its project in
//! the key directory ([`Transit::project_of`], cached in memory), then make
//! the one `caller.authorize` check there. A key that does not exist and a
//! key of a project the caller is not a member of get the same answer:
//! 404 `key_not_found`, "no such key".
//!
//! **Bodies.** Binary values are standard base64 (`plaintext`, `data`,
//! `context`, `signature`, …). A payload is at most 4 MiB once decoded;
//! these routes accept bodies up to [`MAX_BODY`] (6 MiB, room for 4 MiB in
//! base64 and the JSON around it) whatever `api.max_body_size` says.
//! Larger: 413 `payload_too_large`.
//!
//! **Errors.** [`transit_error`] maps each [`TransitError`] to one status
//! and its stable code (see the table there).
//!
//! [`Transit::project_of`]: kms_core::service::Transit::project_of

pub mod batch;
pub mod data_keys;
pub mod encrypt;
pub mod mac;
pub mod manage;
pub mod random;
pub mod rewrap;
pub mod sign;
pub mod versions;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kms_core::ids::{KeyId, ProjectId};
use kms_core::service::KeyLocation;
use kms_core::service::transit::{MAX_PAYLOAD, TransitError, TransitKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::http::auth::{Action, Caller, Permission, Resource};
use crate::http::metrics::KeyOperation;
use crate::http::{ApiError, AppState};

/// Largest request body these routes read: 4 MiB of payload in base64
/// (5.33 MiB), a 64 KiB context in base64 and the JSON around them.
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The keys routes, with their own body limit.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(manage::create, manage::list))
        .routes(routes!(manage::get, manage::update, manage::delete))
        .routes(routes!(manage::get_by_name))
        .routes(routes!(encrypt::encrypt))
        .routes(routes!(encrypt::decrypt))
        .routes(routes!(sign::sign))
        .routes(routes!(sign::verify))
        .routes(routes!(sign::public_key))
        .routes(routes!(sign::signing_algorithms))
        .routes(routes!(versions::list))
        .routes(routes!(versions::rotate))
        .routes(routes!(batch::encrypt))
        .routes(routes!(batch::decrypt))
        .routes(routes!(data_keys::generate))
        .routes(routes!(rewrap::rewrap))
        .routes(routes!(mac::hmac))
        .routes(routes!(mac::verify))
        .routes(routes!(random::random))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// A key as the API shows it: Infisical's key object, plus ours
/// (`location`, `minDecryptionVersion`, `autoRotatePeriod`, `rotatedAt`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub is_disabled: bool,
    pub org_id: Uuid,
    pub project_id: Uuid,
    /// The current version.
    pub version: u32,
    /// `encrypt-decrypt`, `sign-verify` or `generate-verify-mac`.
    pub key_usage: String,
    /// `aes-256-gcm`, `RSA_2048`, `ECC_NIST_P256`, `hmac-sha256`, …
    pub encryption_algorithm: String,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    /// When the current version was made.
    pub rotated_at: String,
    /// `software` or `hsm`.
    pub location: String,
    pub min_decryption_version: u32,
    /// Seconds between automatic rotations; absent when off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_rotate_period: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyResponse {
    pub key: KeyView,
}

pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn view(k: &TransitKey) -> KeyView {
    KeyView {
        id: *k.id.as_uuid(),
        name: k.name.clone(),
        description: k.description.clone(),
        is_disabled: k.is_disabled,
        org_id: *k.organization.as_uuid(),
        project_id: *k.project.as_uuid(),
        version: k.version,
        key_usage: k.usage.as_str().to_owned(),
        encryption_algorithm: k.algorithm.as_str().to_owned(),
        created_at: rfc3339(k.created_at),
        updated_at: rfc3339(k.updated_at),
        rotated_at: rfc3339(k.rotated_at),
        location: match k.location {
            KeyLocation::Hsm => "hsm",
            _ => "software",
        }
        .to_owned(),
        min_decryption_version: k.min_decryption_version,
        auto_rotate_period: k.auto_rotate_period.map(|d| d.as_secs()),
    }
}

/// What a missing key and another project's key both get.
pub fn key_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "key_not_found", "no such key")
}

/// One status and stable code per [`TransitError`]:
///
/// | error | status | code |
/// |---|---|---|
/// | key not found (or another project's) | 404 | `key_not_found` |
/// | name taken | 409 | `key_name_taken` |
/// | key disabled | 409 | `key_disabled` |
/// | version destroyed or revoked | 409 | `key_version_unusable` |
/// | changed meanwhile | 409 | `conflict` |
/// | wrong key usage (sign with an AES key) | 422 | `wrong_key_usage` |
/// | signing algorithm not for this key | 422 | `algorithm_mismatch` |
/// | ciphertext of another key | 422 | `foreign_ciphertext` |
/// | tampered ciphertext or other context | 422 | `not_authentic` |
/// | version the key does not have | 422 | `unknown_key_version` |
/// | below the minimum decryption version | 422 | `key_version_too_old` |
/// | unknown algorithm, usage or signing algorithm | 400 | `unknown_algorithm` |
/// | not a ciphertext of ours | 400 | `malformed_ciphertext` |
/// | other invalid input | 400 | `invalid_request` |
/// | over a size limit | 413 | `payload_too_large` |
pub fn transit_error(e: TransitError) -> ApiError {
    use StatusCode as S;
    let (status, code) = match &e {
        TransitError::KeyNotFound(_) => return key_not_found(),
        TransitError::Kms(inner) => return kms_error(inner, &e),
        TransitError::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
        TransitError::NameTaken(_)
        | TransitError::Disabled(_)
        | TransitError::VersionUnusable { .. }
        | TransitError::Conflict(_) => (S::CONFLICT, e.code()),
        TransitError::WrongUsage { .. }
        | TransitError::AlgorithmMismatch { .. }
        | TransitError::ForeignCiphertext(_)
        | TransitError::NotAuthentic
        | TransitError::UnknownVersion { .. }
        | TransitError::VersionTooOld { .. } => (S::UNPROCESSABLE_ENTITY, e.code()),
        // Unknown names, malformed ciphertexts, other invalid input.
        _ => (S::BAD_REQUEST, e.code()),
    };
    ApiError::new(status, code, e.to_string())
}

/// A kms-core error below the transit layer. The caller's own mistakes
/// get their status; anything else is a 500 whose detail goes to the log.
fn kms_error(inner: &kms_core::Error, outer: &TransitError) -> ApiError {
    use StatusCode as S;
    match inner {
        kms_core::Error::ObjectNotFound(_) | kms_core::Error::ProjectNotFound(_) => key_not_found(),
        kms_core::Error::InvalidRequest(m) => ApiError::invalid(m.clone()),
        kms_core::Error::InvalidAttribute { .. } => ApiError::invalid(inner.to_string()),
        kms_core::Error::WrongLifecycleState { .. } | kms_core::Error::ObjectArchived(_) => {
            ApiError::new(S::CONFLICT, "key_version_unusable", inner.to_string())
        }
        kms_core::Error::OutsideUsePeriod { .. }
        | kms_core::Error::UsageLimitExhausted(..)
        | kms_core::Error::UsageNotPermitted(..) => {
            ApiError::new(S::UNPROCESSABLE_ENTITY, outer.code(), inner.to_string())
        }
        kms_core::Error::Resident(_) => {
            tracing::error!(error = %inner, "HSM-resident key operation failed");
            ApiError::new(
                S::BAD_GATEWAY,
                "hsm_failure",
                "the HSM did not complete the operation; see the server log for this request id",
            )
        }
        _ => ApiError::internal("key operation", outer),
    }
}

/// Resolves key `key_id` to its project and checks `action` there; a key
/// the caller may not know exists is [`key_not_found`].
pub async fn authorize_key(
    state: &AppState,
    caller: &Caller,
    key_id: Uuid,
    action: Action,
) -> Result<(ProjectId, KeyId), ApiError> {
    let id = KeyId::from_uuid(key_id);
    let project = state
        .kms
        .transit()
        .project_of(id)
        .await
        .map_err(transit_error)?;
    match caller
        .authorize(state, project, Permission::new(Resource::Keys, action))
        .await
    {
        Ok(_) => Ok((project, id)),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(key_not_found()),
        Err(e) => Err(e),
    }
}

/// Counts a successful use of key `id` in `/metrics`, by the key's
/// algorithm (a cache lookup: the key was just used).
pub async fn count_use(state: &AppState, project: ProjectId, id: KeyId, operation: KeyOperation) {
    if let Ok(algorithm) = state.kms.transit().algorithm(project, id).await {
        state.metrics.key_operation(operation, algorithm);
    }
}

/// Checks `action` on keys of `project` (routes that name the project).
pub async fn authorize_project(
    state: &AppState,
    caller: &Caller,
    project: Uuid,
    action: Action,
) -> Result<ProjectId, ApiError> {
    let project = ProjectId::from_uuid(project);
    caller
        .authorize(state, project, Permission::new(Resource::Keys, action))
        .await?;
    Ok(project)
}

/// A base64 string that may carry secret bytes (a plaintext, a data key):
/// zeroized on drop, never printed.
#[derive(Default, ToSchema)]
#[schema(value_type = String, format = Byte)]
pub struct SecretText(pub Zeroizing<String>);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Zeroizing::new(String::deserialize(d)?)))
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl SecretText {
    /// The base64 of secret bytes.
    pub fn encode(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(B64.encode(bytes)))
    }
}

/// Largest base64 text of a [`MAX_PAYLOAD`]-byte value.
const MAX_PAYLOAD_B64: usize = MAX_PAYLOAD.div_ceil(3) * 4;

/// Decodes the base64 field `field`: 400 `invalid_base64` if it is not
/// standard base64, 413 if it decodes to more than 4 MiB.
pub fn decode(field: &'static str, text: &str) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    if text.len() > MAX_PAYLOAD_B64 {
        return Err(too_large(field));
    }
    let bytes = B64
        .decode(text.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| {
            ApiError::bad_request("invalid_base64", format!("{field} is not standard base64"))
        })?;
    if bytes.len() > MAX_PAYLOAD {
        return Err(too_large(field));
    }
    Ok(bytes)
}

/// An optional base64 field (an encryption context): empty when absent.
pub fn decode_opt(field: &'static str, text: Option<&str>) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    match text {
        Some(t) => decode(field, t),
        None => Ok(Zeroizing::new(Vec::new())),
    }
}

fn too_large(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("{field} is over its limit of {MAX_PAYLOAD} bytes"),
    )
}

/// Base64 of non-secret bytes (a signature, a MAC, a public key).
pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use kms_core::ids::KeyId;
    use kms_core::service::transit::{KeyAlgorithm, KeyUsage, SigningAlgorithm};

    use super::*;

    #[test]
    fn transit_errors_keep_their_status_and_code() {
        let key = KeyId::generate();
        let cases = [
            (TransitError::KeyNotFound("x".into()), 404, "key_not_found"),
            (TransitError::NameTaken("x".into()), 409, "key_name_taken"),
            (TransitError::Disabled(key), 409, "key_disabled"),
            (TransitError::Conflict(key), 409, "conflict"),
            (
                TransitError::WrongUsage {
                    key,
                    usage: KeyUsage::SignVerify,
                    operation: "encrypt",
                },
                422,
                "wrong_key_usage",
            ),
            (
                TransitError::AlgorithmMismatch {
                    signing: SigningAlgorithm::Ed25519,
                    key: KeyAlgorithm::Rsa2048,
                },
                422,
                "algorithm_mismatch",
            ),
            (
                TransitError::ForeignCiphertext(key),
                422,
                "foreign_ciphertext",
            ),
            (TransitError::NotAuthentic, 422, "not_authentic"),
            (
                TransitError::UnknownVersion { key, version: 9 },
                422,
                "unknown_key_version",
            ),
            (
                TransitError::VersionTooOld {
                    key,
                    version: 1,
                    minimum: 2,
                },
                422,
                "key_version_too_old",
            ),
            (
                TransitError::UnknownName {
                    what: "key algorithm",
                    name: "DES".into(),
                },
                400,
                "unknown_algorithm",
            ),
            (
                TransitError::MalformedCiphertext("x"),
                400,
                "malformed_ciphertext",
            ),
            (TransitError::Invalid("x".into()), 400, "invalid_request"),
            (
                TransitError::TooLarge {
                    what: "the plaintext (bytes)",
                    limit: MAX_PAYLOAD,
                },
                413,
                "payload_too_large",
            ),
            (
                TransitError::Kms(kms_core::Error::InvalidRequest("x".into())),
                400,
                "invalid_request",
            ),
        ];
        for (error, status, code) in cases {
            let e = transit_error(error);
            assert_eq!((e.status.as_u16(), e.code), (status, code), "{e}");
        }
        // A missing key and another project's key: the same answer.
        let a = transit_error(TransitError::KeyNotFound("one".into()));
        let b = key_not_found();
        assert_eq!((a.status, a.code, a.message), (b.status, b.code, b.message));
    }

    #[test]
    fn base64_fields_and_secret_text() {
        assert_eq!(&*decode("plaintext", "aGk=").unwrap(), b"hi");
        let bad = decode("plaintext", "%%").unwrap_err();
        assert_eq!((bad.status.as_u16(), bad.code), (400, "invalid_base64"));
        let big = "A".repeat(MAX_PAYLOAD_B64 + 4);
        assert_eq!(decode("data", &big).unwrap_err().status.as_u16(), 413);
        let exact = B64.encode(vec![0u8; MAX_PAYLOAD]);
        assert_eq!(decode("data", &exact).unwrap().len(), MAX_PAYLOAD);
        assert!(decode_opt("context", None).unwrap().is_empty());
        let secret = SecretText::encode(b"top secret");
        assert_eq!(format!("{secret:?}"), "SecretText(<redacted>)");
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            format!("\"{}\"", B64.encode(b"top secret"))
        );
        const { assert!(MAX_BODY > MAX_PAYLOAD_B64 + 128 * 1024) };
    }
}
