//! AES-GCM (128 and 256) with random 96-bit nonces.
//!
//! [`AeadKey`] holds the expanded key schedule, so a cached key encrypts
//! without re-deriving anything. The wire form is `nonce ‖ ciphertext ‖ tag`.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::{CryptoError, SecretBytes, rng};

/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Which AES-GCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    Aes128Gcm,
    Aes256Gcm,
}

impl AeadAlgorithm {
    pub fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes128Gcm => 16,
            AeadAlgorithm::Aes256Gcm => 32,
        }
    }

    /// The algorithm for a raw AES key of `len` bytes.
    pub fn for_key_len(len: usize) -> Result<Self, CryptoError> {
        match len {
            16 => Ok(AeadAlgorithm::Aes128Gcm),
            32 => Ok(AeadAlgorithm::Aes256Gcm),
            _ => Err(CryptoError::InvalidKey("AES-GCM keys are 16 or 32 bytes")),
        }
    }
}

/// An AES-GCM key, ready to use.
pub struct AeadKey {
    algorithm: AeadAlgorithm,
    key: LessSafeKey,
}

impl AeadKey {
    pub fn new(algorithm: AeadAlgorithm, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != algorithm.key_len() {
            return Err(CryptoError::InvalidKey("wrong AES-GCM key length"));
        }
        let alg = match algorithm {
            AeadAlgorithm::Aes128Gcm => &AES_128_GCM,
            AeadAlgorithm::Aes256Gcm => &AES_256_GCM,
        };
        let unbound = UnboundKey::new(alg, key).map_err(|_| CryptoError::InvalidKey("AES-GCM"))?;
        Ok(Self {
            algorithm,
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn algorithm(&self) -> AeadAlgorithm {
        self.algorithm
    }

    /// Encrypts `plaintext` bound to `aad`; returns `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        self.seal_append(aad, plaintext, &mut out)?;
        Ok(out)
    }

    /// Like [`AeadKey::seal`], appending to `out` (which may already hold a header).
    pub fn seal_append(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng::fill(&mut nonce)?;
        out.reserve(plaintext.len() + OVERHEAD);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[start..],
            )
            .map_err(|_| CryptoError::InvalidInput("plaintext too long for AES-GCM"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts `nonce ‖ ciphertext ‖ tag` bound to `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < OVERHEAD {
            return Err(CryptoError::InvalidInput(
                "ciphertext shorter than nonce and tag",
            ));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| CryptoError::InvalidInput("nonce"))?;
        let mut buf = SecretBytes::from_slice(rest);
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.expose_mut())
            .map_err(|_| CryptoError::AuthenticationFailed)?
            .len();
        Ok(SecretBytes::from_slice(&buf.expose()[..len]))
    }
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AeadKey({:?}, ..)", self.algorithm)
    }
}
