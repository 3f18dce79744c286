//! The errors of the domain.
//!
//! Each variant says what went wrong in words an operator can act on. None of
//! them ever carries key material: a variant holds identifiers, names and
//! reasons, never bytes of a key or of plaintext.

use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{Operation, State};

/// Everything kms-core can report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The object does not exist in the caller's project. An object of another
    /// project is reported the same way, so existence never leaks across projects.
    #[error("object {0} not found")]
    ObjectNotFound(ObjectId),

    /// The project does not exist (or has no key-encryption key yet).
    #[error("project {0} not found")]
    ProjectNotFound(ProjectId),

    /// The lifecycle state forbids this operation.
    #[error("operation {operation} is not permitted on an object in state {state}")]
    WrongLifecycleState { state: State, operation: Operation },

    /// The object is in archival storage (KMIP Archive): it must be
    /// recovered before anything else is done with it.
    #[error("object {0} is archived; recover it first")]
    ObjectArchived(ObjectId),

    /// The key's Process Start Date or Protect Stop Date forbids this use now.
    #[error("object {id} may not be used for that now: {reason}")]
    OutsideUsePeriod { id: ObjectId, reason: &'static str },

    /// The key's Usage Limits Count is smaller than what the use would take.
    #[error("the Usage Limits of object {0} are exhausted: {1} units requested, {2} left")]
    UsageLimitExhausted(ObjectId, i64, i64),

    /// An attribute value is malformed or not allowed here.
    #[error("invalid attribute {name}: {reason}")]
    InvalidAttribute { name: &'static str, reason: String },

    /// A request is well formed but asks for something that cannot be done.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The Cryptographic Usage Mask does not allow this use.
    #[error("the Cryptographic Usage Mask of object {0} does not permit {1}")]
    UsageNotPermitted(ObjectId, &'static str),

    /// Stored data failed authentication: it was corrupted, truncated, edited
    /// or moved from another row. The data is never served.
    #[error("stored {what} failed authentication: {reason}")]
    Integrity { what: String, reason: &'static str },

    /// The object's key lives in an HSM and cannot be read out (KMIP Get of
    /// an HSM-resident private or symmetric key).
    #[error("object {0} is HSM-resident and not extractable: its key material cannot be returned")]
    NotExtractable(ObjectId),

    /// The HSM holding a resident key failed or refused.
    #[error(transparent)]
    Resident(crate::resident::ResidentError),

    /// A cryptographic primitive failed.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),

    /// The storage backend failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),

    /// The root of trust failed or refused.
    #[error(transparent)]
    Root(#[from] crate::hierarchy::RootError),

    /// The audit log could not be written or verified.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

impl From<crate::resident::ResidentError> for Error {
    /// A failed GCM tag in the token is the same failure as in software, so
    /// callers and the audit log see one error for it wherever the key lives.
    fn from(e: crate::resident::ResidentError) -> Self {
        match e {
            crate::resident::ResidentError::AuthenticationFailed => {
                Error::Crypto(crate::crypto::CryptoError::AuthenticationFailed)
            }
            other => Error::Resident(other),
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
