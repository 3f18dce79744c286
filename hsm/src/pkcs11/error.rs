//! Errors of the PKCS#11 root, each naming what the operator must fix.
//!
//! No variant carries the PIN or key material: they hold paths, labels,
//! slot ids and PKCS#11 return codes only.

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use kms_core::hierarchy::RootError;

/// What went wrong with a PKCS#11 token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The configuration is incomplete or contradictory.
    #[error("PKCS#11 configuration: {0}")]
    Config(String),
    /// The PIN could not be read from its file or environment variable.
    #[error("PKCS#11 PIN: {source_name} {reason}")]
    PinSource { source_name: String, reason: String },
    /// Nothing exists at the module path.
    #[error("PKCS#11 module {path} not found: install the HSM vendor's library or fix the path")]
    ModuleNotFound { path: String },
    /// The file exists but is not a loadable PKCS#11 library.
    #[error("{path} is not a PKCS#11 library: {reason}")]
    NotALibrary { path: String, reason: String },
    /// No token matches the configured label or slot.
    #[error("PKCS#11 {wanted} is not present in module {module} (tokens present: {present})")]
    TokenNotPresent {
        wanted: String,
        module: String,
        present: String,
    },
    /// `C_Login` answered `CKR_PIN_INCORRECT`.
    #[error(
        "wrong PIN for PKCS#11 {token} (CKR_PIN_INCORRECT); repeated attempts may lock the token"
    )]
    WrongPin { token: String },
    /// `C_Login` answered `CKR_PIN_LOCKED`.
    #[error(
        "the user PIN of PKCS#11 {token} is locked (CKR_PIN_LOCKED); the security officer must unlock it"
    )]
    PinLocked { token: String },
    /// No AES secret key with the configured label is in the token.
    #[error(
        "no AES key labelled \"{label}\" in PKCS#11 {token}: run `strongroom init` with this token, or fix the key label"
    )]
    KeyMissing { label: String, token: String },
    /// `create_key` found an object with the label already.
    #[error(
        "PKCS#11 {token} already holds an object labelled \"{label}\"; refusing to create another"
    )]
    KeyExists { label: String, token: String },
    /// Several AES keys carry the label: which one seals the root is ambiguous.
    #[error("{count} AES keys labelled \"{label}\" in PKCS#11 {token}; labels must be unique")]
    KeyAmbiguous {
        label: String,
        token: String,
        count: usize,
    },
    /// The key exists but could leave the token.
    #[error(
        "the key \"{label}\" in PKCS#11 {token} is extractable or not sensitive; a root-wrapping key must never leave the token"
    )]
    KeyNotProtected { label: String, token: String },
    /// The token does not offer a mechanism the root needs.
    #[error("PKCS#11 {token} does not support {mechanism} (CKR_MECHANISM_INVALID)")]
    MechanismUnsupported {
        mechanism: &'static str,
        token: String,
    },
    /// The sealed bytes are not a PKCS#11-sealed root.
    #[error("the sealed root is not a PKCS#11 seal (bad header or length)")]
    Malformed,
    /// AES-GCM authentication failed.
    #[error(
        "the sealed root does not open with key \"{label}\" in PKCS#11 {token}: it was sealed by another key, or for another install or term, or was altered ({code})"
    )]
    WrongKey {
        label: String,
        token: String,
        code: String,
    },
    /// The token was removed and has not come back.
    #[error(
        "PKCS#11 {token} was removed or its sessions were lost, and reconnecting failed: {reason}"
    )]
    Disconnected { token: String, reason: String },
    /// Any other PKCS#11 failure: the function and the return code.
    #[error("PKCS#11 {function} failed on {token}: {code}")]
    Device {
        function: String,
        code: String,
        token: String,
    },
    /// No HSM-resident key with this `CKA_ID` is in the token.
    #[error(
        "no HSM-resident key with CKA_ID {id} in PKCS#11 {token}: it was deleted from the token, or this is another token"
    )]
    ResidentKeyMissing { id: String, token: String },
    /// Several keys of one class share a `CKA_ID` Strongroom generated.
    #[error("{count} keys with CKA_ID {id} in PKCS#11 {token}; resident key ids must be unique")]
    ResidentKeyAmbiguous {
        id: String,
        token: String,
        count: usize,
    },
    /// A generated key pair's public key could not be read or parsed.
    #[error("the PKCS#11 token returned no usable public key for a generated key pair")]
    PublicKeyUnreadable,
    /// A blocking task panicked or was cancelled.
    #[error("PKCS#11 worker task failed: {0}")]
    Task(String),
}

impl Pkcs11Error {
    /// Wraps any cryptoki error from `token`, mapping the return codes that
    /// have their own variant.
    /// `key_label` names the key for `CKR_ENCRYPTED_DATA_INVALID`, which
    /// only a decryption returns.
    pub(crate) fn from_cryptoki(err: CkError, token: &str, key_label: &str) -> Self {
        match err {
            // SoftHSM2 answers a failed GCM tag check with CKR_GENERAL_ERROR
            // from C_Decrypt; the standard codes are ENCRYPTED_DATA_*.
            CkError::Pkcs11(
                rv @ (RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::GeneralError),
                Function::Decrypt,
            ) => Pkcs11Error::WrongKey {
                label: key_label.into(),
                token: token.into(),
                code: code_name(rv),
            },
            CkError::Pkcs11(RvError::PinIncorrect, _) => Pkcs11Error::WrongPin {
                token: token.into(),
            },
            CkError::Pkcs11(RvError::PinLocked, _) => Pkcs11Error::PinLocked {
                token: token.into(),
            },
            CkError::Pkcs11(RvError::MechanismInvalid, _) => Pkcs11Error::MechanismUnsupported {
                mechanism: "CKM_AES_GCM",
                token: token.into(),
            },
            CkError::Pkcs11(rv, function) => Pkcs11Error::Device {
                function: function_name(function),
                code: code_name(rv),
                token: token.into(),
            },
            other => Pkcs11Error::Device {
                function: "cryptoki".into(),
                code: other.to_string(),
                token: token.into(),
            },
        }
    }
}

fn function_name(f: Function) -> String {
    format!("C_{f:?}")
}

/// `CKR_…`-style name of a return code (`SessionHandleInvalid` →
/// `CKR_SESSION_HANDLE_INVALID`).
pub(crate) fn code_name(rv: RvError) -> String {
    let debug = format!("{rv:?}");
    let mut out = String::from("CKR");
    for c in debug.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

impl From<Pkcs11Error> for RootError {
    fn from(e: Pkcs11Error) -> Self {
        RootError::Provider {
            provider: "pkcs11",
            reason: e.to_string(),
        }
    }
}

impl From<Pkcs11Error> for kms_core::resident::ResidentError {
    fn from(e: Pkcs11Error) -> Self {
        match e {
            Pkcs11Error::ResidentKeyMissing { id, token } => {
                kms_core::resident::ResidentError::KeyMissing {
                    provider: format!("PKCS#11 {token}"),
                    handle: id,
                }
            }
            other => kms_core::resident::ResidentError::Provider {
                provider: "pkcs11",
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_like_the_standard() {
        assert_eq!(
            code_name(RvError::SessionHandleInvalid),
            "CKR_SESSION_HANDLE_INVALID"
        );
        assert_eq!(code_name(RvError::PinLocked), "CKR_PIN_LOCKED");
    }

    #[test]
    fn pin_errors_are_distinct() {
        let locked = Pkcs11Error::from_cryptoki(
            CkError::Pkcs11(RvError::PinLocked, Function::Login),
            "token \"t\"",
            "k",
        );
        assert!(matches!(locked, Pkcs11Error::PinLocked { .. }));
        let wrong = Pkcs11Error::from_cryptoki(
            CkError::Pkcs11(RvError::PinIncorrect, Function::Login),
            "token \"t\"",
            "k",
        );
        assert!(matches!(wrong, Pkcs11Error::WrongPin { .. }));
        assert_ne!(locked.to_string(), wrong.to_string());
        let mech = Pkcs11Error::from_cryptoki(
            CkError::Pkcs11(RvError::MechanismInvalid, Function::EncryptInit),
            "token \"t\"",
            "k",
        );
        assert!(mech.to_string().contains("CKM_AES_GCM"));
    }
}
