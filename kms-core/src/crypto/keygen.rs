//! Key generation for every kind of key Strongroom manages.
//!
//! [`generate`] makes a fresh key for a [`KeySpec`] from AWS-LC's DRBG and
//! returns it in the form the rest of Strongroom stores and parses:
//!
//! | [`KeySpec`] | [`GeneratedKey`] | Loaded with |
//! |---|---|---|
//! | `Aes128`, `Aes192`, `Aes256` | `Symmetric`: 16 / 24 / 32 random bytes | [`super::aead::AeadKey::new`], [`super::keywrap`] |
//! | `TripleDes` | `Symmetric`: 24 random bytes, odd parity | not used by Strongroom (KMIP clients only) |
//! | `HmacSha256/384/512` | `Symmetric`: 32 / 48 / 64 random bytes (the hash output length, RFC 2104 §3) | [`super::hmac::HmacKey::new`] |
//! | `Rsa2048/3072/4096` | `Pair`: PKCS#8 v1 private key, SPKI public key; e = 65537 | [`super::signature::SigningKey`], [`super::rsa_oaep`] |
//! | `EcP256/P384/P521` | `Pair`: PKCS#8 v1 (`id-ecPublicKey`, named curve), SPKI | [`super::signature::SigningKey`] |
//! | `Ed25519` | `Pair`: PKCS#8 v1 (RFC 8410), SPKI | [`super::signature::SigningKey`] |
//!
//! Private material is returned in [`SecretBytes`]; the caller wraps it
//! (`hierarchy::blob`) before it goes anywhere. RSA generation takes a while
//! (tens to hundreds of milliseconds for 4096 bits in release builds); call it
//! from a blocking-friendly context.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use super::signature::{EcCurve, KeyType};
use super::{CryptoError, SecretBytes, rng};

/// What kind of key to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySpec {
    Aes128,
    /// For KMIP clients (the OASIS profiles require it); prefer AES-256.
    Aes192,
    Aes256,
    /// Three-key Triple DES (24 bytes, odd parity): for KMIP clients that
    /// manage 3DES keys here and use them elsewhere.
    TripleDes,
    HmacSha256,
    HmacSha384,
    HmacSha512,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcP256,
    EcP384,
    EcP521,
    Ed25519,
}

impl KeySpec {
    /// Every spec.
    pub const ALL: [KeySpec; 14] = [
        KeySpec::Aes128,
        KeySpec::Aes192,
        KeySpec::Aes256,
        KeySpec::TripleDes,
        KeySpec::HmacSha256,
        KeySpec::HmacSha384,
        KeySpec::HmacSha512,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EcP256,
        KeySpec::EcP384,
        KeySpec::EcP521,
        KeySpec::Ed25519,
    ];

    /// The length of a symmetric key of this spec; `None` for key pairs.
    pub fn symmetric_len(self) -> Option<usize> {
        match self {
            KeySpec::Aes128 => Some(16),
            KeySpec::Aes192 | KeySpec::TripleDes => Some(24),
            KeySpec::Aes256 | KeySpec::HmacSha256 => Some(32),
            KeySpec::HmacSha384 => Some(48),
            KeySpec::HmacSha512 => Some(64),
            _ => None,
        }
    }

    pub fn is_symmetric(self) -> bool {
        self.symmetric_len().is_some()
    }

    /// The asymmetric key type of this spec; `None` for symmetric keys.
    pub fn key_type(self) -> Option<KeyType> {
        match self {
            KeySpec::Rsa2048 => Some(KeyType::Rsa { bits: 2048 }),
            KeySpec::Rsa3072 => Some(KeyType::Rsa { bits: 3072 }),
            KeySpec::Rsa4096 => Some(KeyType::Rsa { bits: 4096 }),
            KeySpec::EcP256 => Some(KeyType::Ec(EcCurve::P256)),
            KeySpec::EcP384 => Some(KeyType::Ec(EcCurve::P384)),
            KeySpec::EcP521 => Some(KeyType::Ec(EcCurve::P521)),
            KeySpec::Ed25519 => Some(KeyType::Ed25519),
            _ => None,
        }
    }
}

/// A freshly generated key. `Debug` shows lengths only.
pub enum GeneratedKey {
    /// Raw symmetric key bytes.
    Symmetric(SecretBytes),
    /// An asymmetric key pair.
    Pair {
        /// Unencrypted PKCS#8 v1 DER.
        private_pkcs8: SecretBytes,
        /// DER `SubjectPublicKeyInfo`.
        public_spki: Vec<u8>,
    },
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeneratedKey::Symmetric(key) => write!(f, "Symmetric({key:?})"),
            GeneratedKey::Pair {
                private_pkcs8,
                public_spki,
            } => write!(
                f,
                "Pair {{ private_pkcs8: {private_pkcs8:?}, public_spki: [{} bytes] }}",
                public_spki.len()
            ),
        }
    }
}

const KEYGEN: CryptoError = CryptoError::Internal("key generation");
const ENCODING: CryptoError = CryptoError::Internal("encoding a generated key");

/// Generates a key for `spec`.
pub fn generate(spec: KeySpec) -> Result<GeneratedKey, CryptoError> {
    if let Some(len) = spec.symmetric_len() {
        let mut key = rng::random_secret(len)?;
        if spec == KeySpec::TripleDes {
            set_odd_parity(key.expose_mut());
        }
        return Ok(GeneratedKey::Symmetric(key));
    }
    match spec {
        KeySpec::Rsa2048 => generate_rsa(KeySize::Rsa2048),
        KeySpec::Rsa3072 => generate_rsa(KeySize::Rsa3072),
        KeySpec::Rsa4096 => generate_rsa(KeySize::Rsa4096),
        KeySpec::EcP256 => generate_ec(&lc::ECDSA_P256_SHA256_ASN1_SIGNING),
        KeySpec::EcP384 => generate_ec(&lc::ECDSA_P384_SHA384_ASN1_SIGNING),
        KeySpec::EcP521 => generate_ec(&lc::ECDSA_P521_SHA512_ASN1_SIGNING),
        KeySpec::Ed25519 => {
            let pair = Ed25519KeyPair::generate().map_err(|_| KEYGEN)?;
            let private = pair.to_pkcs8v1().map_err(|_| ENCODING)?;
            let public = pair.public_key().as_der().map_err(|_| ENCODING)?;
            Ok(pair_of(private.as_ref(), public.as_ref()))
        }
        KeySpec::Aes128
        | KeySpec::Aes192
        | KeySpec::Aes256
        | KeySpec::TripleDes
        | KeySpec::HmacSha256
        | KeySpec::HmacSha384
        | KeySpec::HmacSha512 => Err(CryptoError::Internal("symmetric spec without a length")),
    }
}

/// DES keys carry a parity bit in each byte (FIPS 46-3: odd parity); it is
/// not key material, and setting it is what other implementations expect.
fn set_odd_parity(key: &mut [u8]) {
    for b in key {
        *b = (*b & 0xFE) | u8::from((*b >> 1).count_ones() % 2 == 0);
    }
}

fn generate_rsa(size: KeySize) -> Result<GeneratedKey, CryptoError> {
    let pair = RsaKeyPair::generate(size).map_err(|_| KEYGEN)?;
    let private: aws_lc_rs::encoding::Pkcs8V1Der<'static> = pair.as_der().map_err(|_| ENCODING)?;
    let public = pair.public_key().as_der().map_err(|_| ENCODING)?;
    Ok(pair_of(private.as_ref(), public.as_ref()))
}

fn generate_ec(alg: &'static lc::EcdsaSigningAlgorithm) -> Result<GeneratedKey, CryptoError> {
    let pair = EcdsaKeyPair::generate(alg).map_err(|_| KEYGEN)?;
    let private = pair.to_pkcs8v1().map_err(|_| ENCODING)?;
    let public = pair.public_key().as_der().map_err(|_| ENCODING)?;
    Ok(pair_of(private.as_ref(), public.as_ref()))
}

/// Copies the (zeroize-on-drop) aws-lc-rs buffers into Strongroom's types.
fn pair_of(private_pkcs8: &[u8], public_spki: &[u8]) -> GeneratedKey {
    GeneratedKey::Pair {
        private_pkcs8: SecretBytes::from_slice(private_pkcs8),
        public_spki: public_spki.to_vec(),
    }
}
