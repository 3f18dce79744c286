//! The key hierarchy: root key → project key-encryption keys → object keys.
//!
//! ```text
//!   RootOfTrust (software file, PKCS#11 token, AWS KMS, GCP KMS)
//!        │ seals / unseals
//!        ▼
//!   RootKey (256-bit, in memory only, one per term)
//!        │ HKDF ─▶ root wrapping key ──▶ wraps ProjectKek (one per project, versioned)
//!        │ HKDF ─▶ audit key        ──▶ authenticates the audit chain head
//!        ▼
//!   ProjectKek (256-bit) ── HKDF ─▶ material key ─▶ wraps each object's key material
//!                        └─ HKDF ─▶ row MAC key  ─▶ authenticates each object row
//! ```
//!
//! Every wrapped [`blob`] is AES-256-GCM with associated data naming what it
//! belongs to (purpose, owner id, owner version) and which key wrapped it
//! (kind and term/version), so a blob moved to another row does not decrypt
//! and keys can rotate without re-encrypting everything at once.

pub mod blob;
mod project;
mod root;
pub mod seal_file;
pub mod software;

pub use project::ProjectKek;
pub use root::{RootKey, RootKind, RootOfTrust, SealContext, SealedRoot};

/// What went wrong with the root of trust. Each variant names the problem an
/// operator must fix; none carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    #[error("wrong passphrase or key file: the sealed root key does not open")]
    WrongPassphrase,
    #[error("no passphrase given: set STRONGROOM_ROOT_PASSPHRASE or root.passphrase_file")]
    MissingPassphrase,
    #[error(
        "key file {path} is readable or writable by other users (mode {mode:o}); run: chmod 600 {path}"
    )]
    KeyFilePermissions { path: String, mode: u32 },
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("sealed root file {path}: {reason}")]
    SealFile { path: String, reason: String },
    #[error("this install is not initialised: {0} does not exist (run `strongroom init`)")]
    NotInitialised(String),
    #[error("this install is already initialised: {0} exists")]
    AlreadyInitialised(String),
    #[error("the sealed root belongs to install {found}, not {expected}")]
    WrongInstall { expected: String, found: String },
    #[error("root key term {0} is not known to this install")]
    UnknownTerm(u32),
    #[error("root of trust provider {provider} failed: {reason}")]
    Provider {
        provider: &'static str,
        reason: String,
    },
}
