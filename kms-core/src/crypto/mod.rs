//! Cryptography, all of it through aws-lc-rs.
//!
//! This module is the only place in Strongroom that calls a cryptographic
//! primitive. Callers get small typed APIs; secrets come in and go out as
//! [`SecretBytes`].
//!
//! (The helper that fills this module documents each primitive here.)

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
}

pub mod aead;
pub mod rng;
