//! Why a batch item failed, as a KMIP Result Reason (KMIP 1.4 §11), and
//! the one place where domain errors become Result Reasons.

use kms_core::Error as KmsError;
use kms_core::store::StoreError;

use crate::ttlv::AccessError;
use crate::ttlv::enums::ResultReason;

/// A failed batch item: the Result Reason it is reported with and a Result
/// Message. Messages name tags, attributes and identifiers, never values
/// that could be key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    #[error("item not found: {0}")]
    ItemNotFound(String),
    #[error("response too large: {0}")]
    ResponseTooLarge(String),
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    #[error("operation not supported: {0}")]
    OperationNotSupported(String),
    #[error("missing data: {0}")]
    MissingData(String),
    #[error("invalid field: {0}")]
    InvalidField(String),
    #[error("feature not supported: {0}")]
    FeatureNotSupported(String),
    #[error("cryptographic failure: {0}")]
    CryptographicFailure(String),
    #[error("illegal operation: {0}")]
    IllegalOperation(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("object archived: {0}")]
    ObjectArchived(String),
    #[error("index out of bounds: {0}")]
    IndexOutOfBounds(String),
    #[error("key format type not supported: {0}")]
    KeyFormatTypeNotSupported(String),
    #[error("key value not present: {0}")]
    KeyValueNotPresent(String),
    #[error("key compression type not supported: {0}")]
    KeyCompressionTypeNotSupported(String),
    #[error("encoding option error: {0}")]
    EncodingOptionError(String),
    #[error("general failure: {0}")]
    GeneralFailure(String),
}

impl OperationError {
    /// The Result Reason this error is reported with.
    pub fn reason(&self) -> ResultReason {
        match self {
            Self::ItemNotFound(_) => ResultReason::ITEM_NOT_FOUND,
            Self::ResponseTooLarge(_) => ResultReason::RESPONSE_TOO_LARGE,
            Self::InvalidMessage(_) => ResultReason::INVALID_MESSAGE,
            Self::OperationNotSupported(_) => ResultReason::OPERATION_NOT_SUPPORTED,
            Self::MissingData(_) => ResultReason::MISSING_DATA,
            Self::InvalidField(_) => ResultReason::INVALID_FIELD,
            Self::FeatureNotSupported(_) => ResultReason::FEATURE_NOT_SUPPORTED,
            Self::CryptographicFailure(_) => ResultReason::CRYPTOGRAPHIC_FAILURE,
            Self::IllegalOperation(_) => ResultReason::ILLEGAL_OPERATION,
            Self::PermissionDenied(_) => ResultReason::PERMISSION_DENIED,
            Self::ObjectArchived(_) => ResultReason::OBJECT_ARCHIVED,
            Self::IndexOutOfBounds(_) => ResultReason::INDEX_OUT_OF_BOUNDS,
            Self::KeyFormatTypeNotSupported(_) => ResultReason::KEY_FORMAT_TYPE_NOT_SUPPORTED,
            Self::KeyValueNotPresent(_) => ResultReason::KEY_VALUE_NOT_PRESENT,
            Self::KeyCompressionTypeNotSupported(_) => {
                ResultReason::KEY_COMPRESSION_TYPE_NOT_SUPPORTED
            }
            Self::EncodingOptionError(_) => ResultReason::ENCODING_OPTION_ERROR,
            Self::GeneralFailure(_) => ResultReason::GENERAL_FAILURE,
        }
    }

    /// The Result Message: the detail without the reason's own name.
    pub fn message(&self) -> &str {
        match self {
            Self::ItemNotFound(m)
            | Self::ResponseTooLarge(m)
            | Self::InvalidMessage(m)
            | Self::OperationNotSupported(m)
            | Self::MissingData(m)
            | Self::InvalidField(m)
            | Self::FeatureNotSupported(m)
            | Self::CryptographicFailure(m)
            | Self::IllegalOperation(m)
            | Self::PermissionDenied(m)
            | Self::ObjectArchived(m)
            | Self::IndexOutOfBounds(m)
            | Self::KeyFormatTypeNotSupported(m)
            | Self::KeyValueNotPresent(m)
            | Self::KeyCompressionTypeNotSupported(m)
            | Self::EncodingOptionError(m)
            | Self::GeneralFailure(m) => m,
        }
    }
}

/// A payload that lacks a field or has one of the wrong type could not be
/// parsed: KMIP 1.4 §11.1 "Error parsing batch item or payload".
impl From<AccessError> for OperationError {
    fn from(e: AccessError) -> Self {
        OperationError::InvalidMessage(e.to_string())
    }
}

/// Domain errors as KMIP 1.x reports them. KMIP 1.x has no "Wrong Key
/// Lifecycle State" (that is 2.0); §11 reports an object in the wrong state
/// as Permission Denied, and a usage the mask forbids likewise.
impl From<KmsError> for OperationError {
    fn from(e: KmsError) -> Self {
        let text = e.to_string();
        match e {
            KmsError::ObjectNotFound(_) => Self::ItemNotFound(text),
            // The client's project is ours to know; to the client it is as
            // if the object does not exist.
            KmsError::ProjectNotFound(_) => Self::ItemNotFound(text),
            KmsError::WrongLifecycleState { .. } => Self::PermissionDenied(text),
            KmsError::UsageNotPermitted(..) => Self::PermissionDenied(text),
            KmsError::ObjectArchived(_) => Self::ObjectArchived(text),
            // A Protect Stop Date passed, a Process Start Date not reached
            // or Usage Limits spent: the object may not be used so now, as
            // the OASIS vectors (CS-BC-M-7, CS-BC-M-14, CS-AC-M-8) expect.
            KmsError::OutsideUsePeriod { .. } => Self::PermissionDenied(text),
            KmsError::UsageLimitExhausted(..) => Self::PermissionDenied(text),
            KmsError::InvalidAttribute { .. } => Self::InvalidField(text),
            KmsError::InvalidRequest(_) => Self::IllegalOperation(text),
            KmsError::Crypto(_) => Self::CryptographicFailure(text),
            // An HSM-resident key's private or secret value never leaves
            // the token.
            KmsError::NotExtractable(_) => Self::PermissionDenied(text),
            KmsError::Resident(_) => Self::CryptographicFailure(text),
            KmsError::Store(StoreError::Conflict(_)) => Self::GeneralFailure(text),
            KmsError::Store(StoreError::AlreadyExists(_)) => Self::InvalidField(text),
            // Integrity, storage, root and audit failures are the server's
            // problem; the client is told no more than that.
            other => {
                tracing::error!(error = %other, "KMIP operation failed inside the server");
                Self::GeneralFailure("the server could not complete the operation".into())
            }
        }
    }
}

/// Shorthand for operation handlers.
pub type OpResult<T> = Result<T, OperationError>;
