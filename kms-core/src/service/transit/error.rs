//! What can go wrong with a named key, one variant per thing a caller must
//! be told apart (and the HTTPS API maps to its own status and code).

use crate::crypto::CryptoError;
use crate::error::Error;
use crate::ids::KeyId;
use crate::lifecycle::{Operation, State};
use crate::store::StoreError;

use super::algorithm::{KeyAlgorithm, KeyUsage, SigningAlgorithm};

/// An error of the named-key layer. Never carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransitError {
    /// No key with this id (or name) in the caller's project. A key of
    /// another project is reported the same way.
    #[error("key {0} not found")]
    KeyNotFound(String),

    /// Names are unique per project.
    #[error("a key named {0:?} already exists in this project")]
    NameTaken(String),

    /// The key is disabled: no cryptographic operation until it is enabled.
    #[error("key {0} is disabled")]
    Disabled(KeyId),

    /// The operation is for another kind of key (encrypt with a signing key).
    #[error("key {key} is a {usage} key and cannot be used to {operation}")]
    WrongUsage {
        key: KeyId,
        usage: KeyUsage,
        operation: &'static str,
    },

    /// The signing algorithm does not fit the key's algorithm.
    #[error("signing algorithm {signing} cannot be used with a {key} key")]
    AlgorithmMismatch {
        signing: SigningAlgorithm,
        key: KeyAlgorithm,
    },

    /// A name (algorithm, usage, signing algorithm) the API does not know.
    #[error("unknown {what} {name:?}")]
    UnknownName { what: &'static str, name: String },

    /// The ciphertext (or MAC) string is not one this layer produced.
    #[error("malformed ciphertext: {0}")]
    MalformedCiphertext(&'static str),

    /// The ciphertext was made with another key.
    #[error("the ciphertext was not made with key {0}")]
    ForeignCiphertext(KeyId),

    /// The ciphertext was altered, or the encryption context differs.
    #[error("the ciphertext or its encryption context is not authentic")]
    NotAuthentic,

    /// The ciphertext names a version the key does not have.
    #[error("key {key} has no version {version}")]
    UnknownVersion { key: KeyId, version: u32 },

    /// The version is older than the key's minimum decryption version.
    #[error("version {version} of key {key} is below its minimum decryption version {minimum}")]
    VersionTooOld {
        key: KeyId,
        version: u32,
        minimum: u32,
    },

    /// The key version's object is no longer usable (destroyed, revoked).
    #[error("version {version} of key {key} is in state {state} and cannot {operation}")]
    VersionUnusable {
        key: KeyId,
        version: u32,
        state: State,
        operation: Operation,
    },

    /// An input is larger than this layer accepts (`limit` is in bytes, or
    /// in items for a batch).
    #[error("{what} is over its limit of {limit}")]
    TooLarge { what: &'static str, limit: usize },

    /// A well-formed request that asks for something impossible.
    #[error("invalid request: {0}")]
    Invalid(String),

    /// Another writer changed the key meanwhile; read it again and retry.
    #[error("key {0} was changed by another request; retry")]
    Conflict(KeyId),

    /// Anything from the layers below (storage, hierarchy, HSM, audit).
    #[error(transparent)]
    Kms(Error),
}

impl From<Error> for TransitError {
    fn from(e: Error) -> Self {
        match e {
            Error::Crypto(CryptoError::AuthenticationFailed) => TransitError::NotAuthentic,
            Error::InvalidRequest(m) => TransitError::Invalid(m),
            // A digest of the wrong length, a scheme the key cannot do: the
            // caller's input, not a server failure.
            Error::Crypto(CryptoError::InvalidInput(m) | CryptoError::Unsupported(m)) => {
                TransitError::Invalid(m.to_string())
            }
            other => TransitError::Kms(other),
        }
    }
}

impl From<CryptoError> for TransitError {
    fn from(e: CryptoError) -> Self {
        Error::from(e).into()
    }
}

impl From<StoreError> for TransitError {
    fn from(e: StoreError) -> Self {
        Error::from(e).into()
    }
}

impl TransitError {
    /// A short, stable code: the audit record's result and the API's error
    /// code.
    pub fn code(&self) -> &'static str {
        match self {
            TransitError::KeyNotFound(_) => "key_not_found",
            TransitError::NameTaken(_) => "key_name_taken",
            TransitError::Disabled(_) => "key_disabled",
            TransitError::WrongUsage { .. } => "wrong_key_usage",
            TransitError::AlgorithmMismatch { .. } => "algorithm_mismatch",
            TransitError::UnknownName { .. } => "unknown_algorithm",
            TransitError::MalformedCiphertext(_) => "malformed_ciphertext",
            TransitError::ForeignCiphertext(_) => "foreign_ciphertext",
            TransitError::NotAuthentic => "not_authentic",
            TransitError::UnknownVersion { .. } => "unknown_key_version",
            TransitError::VersionTooOld { .. } => "key_version_too_old",
            TransitError::VersionUnusable { .. } => "key_version_unusable",
            TransitError::TooLarge { .. } => "too_large",
            TransitError::Invalid(_) => "invalid_request",
            TransitError::Conflict(_) => "conflict",
            TransitError::Kms(e) => super::super::objects::failure_code(e),
        }
    }
}

/// Shorthand for this layer.
pub type TransitResult<T> = std::result::Result<T, TransitError>;
