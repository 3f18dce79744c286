//! The certificate authority behind KMIP Certify, as the server is given
//! it.
//!
//! kmip-server does not own a CA: the install wires one (the managed X.509
//! CA of `pki::x509`, whose key `Kms::sign` holds) by implementing
//! [`Certifier`] and giving it to the [`crate::processor::Processor`]
//! ([`crate::processor::Processor::with_certifier`]; through the listener:
//! `handler.processor = handler.processor.with_certifier(ca)` before the
//! handler is shared). Without one, Certify is Operation Not Supported and
//! Query does not list it.

use async_trait::async_trait;

/// What the server asks the CA to certify.
pub enum CertifyRequest<'a> {
    /// A PKCS#10 certification request, DER. The CA verifies its
    /// self-signature and applies its own profile.
    Pkcs10(&'a [u8]),
    /// A public key the client keeps in this server (SubjectPublicKeyInfo
    /// DER), to be certified for `subject` (the key's first Name, or its
    /// identifier).
    PublicKey { spki: &'a [u8], subject: &'a str },
}

/// Why no certificate was issued. The message is shown to the client, so
/// it must not carry secrets.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The request cannot be certified (a bad or unverifiable PKCS#10, a
    /// key type or name the CA's profile refuses): Invalid Field.
    #[error("{0}")]
    Refused(String),
    /// The CA failed (its key unusable, signing failed): General Failure.
    #[error("{0}")]
    Failed(String),
}

/// A certificate authority that issues X.509 certificates for KMIP clients.
#[async_trait]
pub trait Certifier: Send + Sync {
    /// Issues a certificate; returns it as DER.
    async fn certify(&self, request: CertifyRequest<'_>) -> Result<Vec<u8>, CertifyError>;
}
