//! Message digests: SHA-256, SHA-384, SHA-512, and SHA-1 for legacy use.
//!
//! Digests are used for KMIP's `Hash` operation, for digest-then-sign
//! ([`super::signature::SigningKey::sign_digest`] takes the output of
//! [`digest`]), and for key fingerprints.
//!
//! SHA-1 is broken for collision resistance. It is here only because KMIP's
//! `Hash` operation and some legacy clients ask for it; never use it to sign
//! or to identify anything that an attacker could choose.
//!
//! Input is any byte string; output is the raw digest
//! ([`DigestAlgorithm::output_len`] bytes), not hex.

use aws_lc_rs::digest as lc;

/// A hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-1. Legacy only (KMIP `Hash`); not collision resistant.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        self.aws_lc().output_len()
    }

    pub(crate) fn aws_lc(self) -> &'static lc::Algorithm {
        match self {
            DigestAlgorithm::Sha1 => &lc::SHA1_FOR_LEGACY_USE_ONLY,
            DigestAlgorithm::Sha256 => &lc::SHA256,
            DigestAlgorithm::Sha384 => &lc::SHA384,
            DigestAlgorithm::Sha512 => &lc::SHA512,
        }
    }
}

/// The digest of `data`.
pub fn digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    lc::digest(algorithm.aws_lc(), data).as_ref().to_vec()
}

/// An incremental digest, for inputs that arrive in pieces.
#[derive(Clone)]
pub struct DigestContext {
    algorithm: DigestAlgorithm,
    ctx: lc::Context,
}

impl DigestContext {
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        Self {
            algorithm,
            ctx: lc::Context::new(algorithm.aws_lc()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }

    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }
}

impl std::fmt::Debug for DigestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigestContext({:?})", self.algorithm)
    }
}
