//! # hsm — roots of trust outside the process
//!
//! This crate will own the providers of [`kms_core::hierarchy::RootOfTrust`]
//! that keep the root of trust outside Strongroom's memory, and the keys that
//! live inside an HSM:
//!
//! * **PKCS#11** (through `cryptoki`): an AES-256 key generated inside the
//!   token (`CKA_TOKEN`, `CKA_SENSITIVE`, not extractable) seals the root key
//!   with an AEAD mechanism; a session pool; a start-up self-test.
//! * **AWS KMS** (`aws-sdk-kms`) and **GCP KMS** (`google-cloud-kms-v1`):
//!   Encrypt/Decrypt of the root key with an encryption context or AAD that
//!   binds it to the install ([`kms_core::hierarchy::SealContext`]).
//! * **HSM-resident keys**: signing and AES keys that never leave the token.
//!
//! It depends on `kms-core` only, and must never log a PIN, a credential or
//! key material. Until the roots-of-trust issue fills it, the software root in
//! `kms_core::hierarchy::software` is the only provider, and this crate holds
//! no code: the trait it implements is already fixed in kms-core, so the
//! providers plug in without changing their callers.

#![forbid(unsafe_code)]
