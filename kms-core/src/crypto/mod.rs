//! Cryptography, all of it through aws-lc-rs.
//!
//! This module is the only place in Strongroom that calls a cryptographic
//! primitive. Callers get small typed APIs; secrets come in and go out as
//! [`SecretBytes`] or stay inside aws-lc-rs key objects. No other crate in the
//! workspace links a cryptographic library of its own (rustls and rcgen use
//! the same aws-lc-rs build).
//!
//! # What is here, and what each piece is for
//!
//! | Module | Primitive | Used for |
//! |---|---|---|
//! | [`aead`] | AES-128/192/256-GCM, 96-bit nonces, 128-bit tags | Wrapping every stored secret (the key hierarchy), customer `encrypt`/`decrypt` |
//! | [`cipher`] | AES-128/192/256 in CBC and ECB (PKCS#7 or no padding) and CTR, caller-supplied IVs | KMIP `Encrypt`/`Decrypt` in the modes the OASIS profiles name; never used for Strongroom's own secrets |
//! | [`keywrap`] | AES-KW (RFC 3394) and AES-KWP (RFC 5649) | KMIP `Key Wrapping Specification`, exporting keys to HSMs and clouds that expect NIST key wrap |
//! | [`hmac`] | HMAC-SHA-256/384/512 | Customer MAC keys (`mac`/`verify-mac`), audit chain links |
//! | [`digest`] | SHA-256/384/512, and SHA-1 for legacy only | KMIP `Hash`, digest-then-sign, fingerprints |
//! | [`signature`] | RSA-PSS, RSA PKCS#1 v1.5, ECDSA (P-256/384/521), Ed25519 | Customer signing keys, the certificate authorities |
//! | [`rsa_oaep`] | RSA-OAEP (SHA-256 by default; SHA-1/384/512 for KMIP) and RSA PKCS#1 v1.5 encryption | Customer asymmetric encryption keys, key transport |
//! | [`kdf`] | PBKDF2-HMAC-SHA-1/256/384/512, HMAC and hash derivation | KMIP `Derive Key` |
//! | [`external_signature`] | digest preparation and output encoding around a private-key operation done in an HSM | HSM-resident signing keys |
//! | [`keygen`] | Key generation for every [`keygen::KeySpec`] | Creating managed keys |
//! | [`rng`] | AWS-LC's DRBG | Nonces, salts, symmetric keys |
//!
//! # Formats, in and out
//!
//! * **Symmetric keys** are raw bytes: 16 or 32 for AES, any length ≥ 16 for
//!   HMAC (generated keys are as long as the hash output).
//! * **Private keys** are unencrypted PKCS#8 DER (`PrivateKeyInfo`, RFC 5208;
//!   v2 `OneAsymmetricKey`, RFC 5958, is accepted too). Keys generated here are
//!   PKCS#8 v1 for every key type, which is what OpenSSL writes.
//! * **Public keys** are X.509 `SubjectPublicKeyInfo` DER (RFC 5280). Raw EC
//!   points, raw Ed25519 keys and PKCS#1 `RSAPublicKey` are *not* accepted where
//!   an SPKI is expected: one input, one meaning.
//! * **Signatures**: RSA signatures are as long as the modulus; ECDSA
//!   signatures are DER `ECDSA-Sig-Value` by default, or fixed-width `r ‖ s`
//!   (IEEE P1363, what JOSE and PKCS#11 use) with the `…Fixed` schemes; Ed25519
//!   signatures are 64 bytes.
//! * **Ciphertexts**: AES-GCM's sealed form is `nonce ‖ ciphertext ‖ tag`
//!   ([`aead::AeadKey::seal`]); AES-KW adds 8 bytes; AES-KWP pads to a multiple
//!   of 8 and adds 8; RSA ciphertexts are as long as the modulus.
//!
//! # Rules the module keeps
//!
//! * Secrets live in [`SecretBytes`] (zeroized on drop, redacted in `Debug`,
//!   compared in constant time) or in aws-lc-rs key objects. No `Debug` impl
//!   in this module prints key bytes.
//! * Every input may come from the network: nothing here panics on a length,
//!   an encoding or a value. Errors are [`CryptoError`], which never carries
//!   secret bytes.
//! * Verification answers are constant time where the secret is ours to leak
//!   (MAC tags, authentication tags); public-key verification is not secret.
//! * Keys are parsed once: [`signature::SigningKey`], [`hmac::HmacKey`],
//!   [`aead::AeadKey`] and the RSA encryption keys hold prepared aws-lc-rs
//!   objects, so the per-request cost is the operation itself.
//!
//! # What is *not* here, on purpose
//!
//! * AES-192 as a KEK (AES-KW): Strongroom's own keys are AES-256. AES-192
//!   keys exist for KMIP clients (GCM, CBC, ECB, CTR).
//! * Triple DES: aws-lc-rs offers it only behind its `legacy-des` feature,
//!   which rebuilds AWS-LC with all bindings for every crate in the
//!   workspace; KMIP 3DES keys can be stored and fetched but not used.
//! * AES-GCM with nonces other than 96 bits or tags shorter than 128 bits:
//!   not offered by aws-lc-rs; refused with [`CryptoError::Unsupported`].
//! * Ed25519ph, or signing a precomputed digest with Ed25519: Ed25519 signs the
//!   message itself; [`signature::SigningKey::sign_digest`] says `Unsupported`.
//! * RSA-PSS with a salt length other than the hash length, with an MGF1 hash
//!   other than the message hash, or keys carrying the `id-RSASSA-PSS`
//!   identifier (RFC 4055): aws-lc-rs's PSS uses salt = hash length; such keys
//!   are refused with `Unsupported`.
//! * RSA-OAEP whose MGF1 hash differs from its label hash (aws-lc-rs pairs
//!   them: SHA-1, SHA-256, SHA-384, SHA-512). OAEP labels are supported.
//! * RSA keys below 2048 bits (aws-lc-rs's floor) or above 8192 bits.
//! * SHA-3, SHA-224, HMAC-SHA-1, brainpool and secp256k1 curves, Ed448, ML-DSA:
//!   not needed yet.

mod ecdsa_format;
mod secret;

pub use secret::SecretBytes;

/// What went wrong in a cryptographic primitive. No variant carries secret bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong associated data, or altered ciphertext.
    #[error("decryption failed: the ciphertext or its associated data is not authentic")]
    AuthenticationFailed,
    /// A key has the wrong size or encoding for the algorithm.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// An input (plaintext, ciphertext, signature, nonce) is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The algorithm or parameter combination is not supported.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// The cryptographic library failed on inputs that were checked beforehand
    /// (key generation, serialization, signing). Not caused by the caller.
    #[error("internal cryptographic failure: {0}")]
    Internal(&'static str),
}

pub mod aead;
pub mod cipher;
pub mod digest;
pub mod external_signature;
pub mod gcm_any_iv;
pub mod hmac;
pub mod kdf;
pub mod key_components;
pub mod keygen;
pub mod keywrap;
pub mod rng;
pub mod rsa_oaep;
pub mod signature;
