//! # X.509 certificate authority
//!
//! The certificates of the KMIP listener and its clients, and later of the
//! general X.509 CA, built with `x509-cert` and signed by a key that
//! `kms-core` manages.
//!
//! ## The pieces
//!
//! | module | does |
//! |---|---|
//! | [`ca`] | [`CertificateAuthority`]: create a CA, issue server and client certificates, sign CRLs |
//! | [`signer`] | the [`Signer`] trait and [`KmsSigner`], which signs through [`kms_core::service::Kms::sign`] |
//! | [`issue`] | builds and signs a `TBSCertificate`: random serial, key identifiers, profile extensions |
//! | [`profile`] | which extensions a CA, TLS server or TLS client certificate carries |
//! | [`names`] | distinguished names and subject alternative names (DNS, IP) |
//! | [`csr`] | reads and verifies PKCS#10 requests |
//! | [`crl`] | builds and signs CRLs |
//! | [`validity`] | validity periods and RFC 5280 time encoding |
//! | [`keygen`] | client key pairs made on the server (ECDSA P-256) |
//! | [`pem`] | PEM in and out |
//! | [`algorithms`] | signature schemes as X.509 algorithm identifiers |
//!
//! ## The CA key never enters this crate
//!
//! A CA is a certificate plus a [`Signer`]. To sign, the CA encodes the
//! to-be-signed DER and passes it to the signer; [`KmsSigner`] passes it on
//! to `Kms::sign`, so the private key stays wrapped by the root of trust (or
//! inside an HSM), each signature is checked against the key's lifecycle
//! state and usage mask, and each lands in the audit log. Every signature is
//! verified under the CA's public key before a certificate or CRL is
//! returned.
//!
//! ## Setting up a KMIP CA
//!
//! 1. `Kms::create_key_pair(actor, project, KeySpec::EcP256, ..)` makes the
//!    CA key (RSA-2048 and up, P-384 and Ed25519 work too).
//! 2. `KmsSigner::new(kms, actor, project, private_key, None)` picks the
//!    scheme for the key type (ECDSA P-256 with SHA-256; RSA PKCS#1 v1.5
//!    with SHA-256).
//! 3. `CertificateAuthority::create(signer, "Strongroom KMIP CA", validity)`
//!    makes the self-signed CA certificate (`CA:TRUE`, `pathlen:0`,
//!    `keyCertSign`, `cRLSign`). Store its DER; after a restart,
//!    `CertificateAuthority::open(signer, CaCertificate::from_der(..)?)`.
//! 4. `issue_server` for the listener's host names; `issue_client` for each
//!    client, with a public key from [`csr::parse_csr`] or
//!    [`keygen::generate_p256`].
//! 5. To revoke, keep the revoked serials and dates, sign a CRL with
//!    [`CertificateAuthority::crl`] and give it to the TLS verifier
//!    (rustls: `WebPkiClientVerifier::builder(roots).with_crls(..)`).
//!
//! ## Rules
//! * Input from outside (requests, PEM) is bounded in size and parsed
//!   strictly; anything malformed is an [`Error`], never a panic.
//! * Client private keys exist only in [`kms_core::crypto::SecretBytes`] and
//!   zeroizing strings; no `Debug` shows them.

pub mod algorithms;
pub mod ca;
pub mod crl;
pub mod csr;
mod error;
pub mod issue;
pub mod keygen;
pub mod names;
pub mod pem;
pub mod profile;
pub mod signer;
pub mod validity;

pub use ca::{CaCertificate, CertificateAuthority, validate_client_name};
pub use crl::{CrlParams, RevokedCertificate, SignedCrl};
pub use csr::{VerifiedCsr, parse_csr};
pub use error::{Error, Result};
pub use issue::IssuedCertificate;
pub use keygen::{GeneratedKeyPair, generate_p256};
pub use names::{NameBuilder, SubjectAltNames};
pub use profile::Profile;
pub use signer::{KmsSigner, Signer};
pub use validity::Validity;

/// The `x509-cert` types this API uses (names, serial numbers, CRL reasons,
/// public keys), so callers need not depend on it themselves.
pub use spki::SubjectPublicKeyInfoOwned;
pub use x509_cert::ext::pkix::CrlReason;
pub use x509_cert::name::Name;
pub use x509_cert::serial_number::SerialNumber;
