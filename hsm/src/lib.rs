//! # hsm — roots of trust outside the process
//!
//! This crate owns the providers of [`kms_core::hierarchy::RootOfTrust`]
//! that keep the root of trust outside Strongroom's memory, and the
//! providers of [`kms_core::resident::ResidentKeys`], keys that live inside
//! an HSM:
//!
//! * [`pkcs11`]: an AES-256 key generated inside a PKCS#11 token
//!   (`CKA_TOKEN`, `CKA_SENSITIVE`, not extractable, not modifiable) seals
//!   the root key with CKM_AES_GCM, bound to the install and term; a session
//!   pool that logs in once and recovers lost sessions; distinct errors for
//!   every way a module, token, PIN or key can be wrong. Tested on SoftHSM2.
//! * [`aws_kms`]: AWS KMS Encrypt/Decrypt of the root key with an
//!   encryption context that binds it to the install and term
//!   ([`kms_core::hierarchy::SealContext`]); standard retries, bounded
//!   timeouts, one error per failure an operator must tell apart. Tested
//!   against moto_server.
//! * [`gcp_kms`]: Google Cloud KMS Encrypt/Decrypt of the root key through
//!   the official `google-cloud-kms-v1` client, with additional
//!   authenticated data that binds it to the install and term, CRC32C
//!   checks of every request and answer, bounded retries and time limits,
//!   and one error per failure an operator must tell apart. Tested against
//!   a local stand-in for the Cloud KMS REST API.
//! * [`pkcs11::Pkcs11ResidentKeys`]: HSM-resident keys. RSA and ECDSA
//!   signing keys and AES-GCM keys generated in the token, non-extractable,
//!   used there through the same session pool (one session per operation,
//!   so signers run in parallel); the database records only their `CKA_ID`.
//!
//! It depends on `kms-core` only, and must never log a PIN, a credential or
//! key material. The providers plug into `Kms::init`, `Kms::open` and
//! `Kms::migrate_root` without changing their callers.

#![forbid(unsafe_code)]

pub mod aws_kms;
pub mod gcp_kms;
pub mod pkcs11;
