//! What can go wrong while building, parsing or signing X.509 objects.

use thiserror::Error;

/// An X.509 failure. No variant carries key material; input is described,
/// never echoed in full.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A subject or issuer name part is empty, too long or holds characters
    /// that have no place in a name.
    #[error("invalid name {field}: {reason}")]
    InvalidName {
        field: &'static str,
        reason: &'static str,
    },

    /// A subject alternative name is neither a valid DNS name nor an IP
    /// address.
    #[error("invalid subject alternative name {name:?}: {reason}")]
    InvalidSubjectAltName { name: String, reason: &'static str },

    /// A validity period is empty, inverted, or outside what X.509 can say.
    #[error("invalid validity: {0}")]
    InvalidValidity(&'static str),

    /// The certificate would be valid after its issuer stops being valid.
    #[error("the certificate would outlive its CA (the CA certificate expires at {ca_not_after})")]
    OutlivesIssuer { ca_not_after: String },

    /// A serial number given as text is not one.
    #[error("invalid serial number: {0}")]
    InvalidSerial(&'static str),

    /// A certificate profile cannot be applied as asked.
    #[error("profile {profile}: {reason}")]
    Profile {
        profile: &'static str,
        reason: &'static str,
    },

    /// The signer's key or scheme cannot sign X.509 objects.
    #[error("unsupported signer: {0}")]
    UnsupportedSigner(&'static str),

    /// The signer returned a signature that does not verify under its own
    /// public key: a wrong key, a mismatched public key, or a faulty device.
    /// Nothing was emitted.
    #[error("the signer's signature does not verify under the CA public key")]
    SignatureCheckFailed,

    /// A key spec that cannot make what was asked (a key pair from a
    /// symmetric spec).
    #[error("key spec: {0}")]
    KeySpec(&'static str),

    /// The key management service refused or failed to sign or to read a key.
    #[error("key management service: {0}")]
    Kms(#[from] kms_core::Error),

    /// A cryptographic primitive failed (key generation, verification setup).
    #[error(transparent)]
    Crypto(#[from] kms_core::crypto::CryptoError),

    /// A certificate signing request was refused; the reason says why.
    #[error("certificate signing request refused: {0}")]
    CsrRefused(&'static str),

    /// A certificate signing request's signature algorithm is not one this
    /// CA verifies.
    #[error("certificate signing request refused: unsupported signature algorithm {0}")]
    CsrAlgorithm(String),

    /// Input is too large to be what it claims to be.
    #[error("{what} is {len} bytes, more than the {max} allowed")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },

    /// PEM input is malformed or has an unexpected label.
    #[error("PEM: {0}")]
    Pem(String),

    /// DER input is malformed, or a value could not be encoded.
    #[error("DER {context}: {source}")]
    Der {
        context: &'static str,
        #[source]
        source: der::Error,
    },

    /// A CA certificate does not fit the signer or is not a CA certificate.
    #[error("CA certificate: {0}")]
    InvalidCaCertificate(&'static str),
}

impl Error {
    /// A DER failure while doing `context`.
    pub(crate) fn der(context: &'static str) -> impl FnOnce(der::Error) -> Error {
        move |source| Error::Der { context, source }
    }
}

/// The result of X.509 operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
