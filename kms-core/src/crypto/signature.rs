//! Digital signatures: RSA-PSS, RSA PKCS#1 v1.5, ECDSA and Ed25519.
//!
//! A [`SigningKey`] is a private key parsed once from PKCS#8 DER; it holds the
//! prepared aws-lc-rs key pair, so signing a request does no parsing. A
//! [`VerifyingKey`] is a public key parsed once from an X.509
//! `SubjectPublicKeyInfo`; it holds one prepared aws-lc-rs public key per
//! scheme it can verify.
//!
//! # Keys
//!
//! | [`KeyType`] | Private key in | Public key in |
//! |---|---|---|
//! | RSA, 2048 to 8192 bits (Strongroom generates 2048, 3072, 4096) | PKCS#8 (`rsaEncryption`) | SPKI (`rsaEncryption`) |
//! | ECDSA on P-256, P-384, P-521 | PKCS#8 (`id-ecPublicKey`, named curve) | SPKI (named curve) |
//! | Ed25519 | PKCS#8 v1 or v2 (RFC 8410) | SPKI (RFC 8410) |
//!
//! SPKI input must be exactly the DER that AWS-LC would write for the key:
//! no trailing bytes, no BER, no bare EC points or PKCS#1 `RSAPublicKey`, no
//! explicit curve parameters. Anything else is [`CryptoError::InvalidKey`].
//! RSA keys whose SPKI uses the `id-RSASSA-PSS` identifier (RFC 4055) instead
//! of `rsaEncryption` are [`CryptoError::Unsupported`].
//!
//! # Schemes
//!
//! | [`SignatureScheme`] | Key | Signature |
//! |---|---|---|
//! | `RsaPssSha256/384/512` | RSA | modulus-sized; PSS with MGF1 of the same hash, salt as long as the hash |
//! | `RsaPkcs1Sha256/384/512` | RSA | modulus-sized; PKCS#1 v1.5 (RFC 8017 §8.2) |
//! | `EcdsaSha256/384/512` | EC, any of the three curves | DER `ECDSA-Sig-Value` |
//! | `EcdsaSha256/384/512Fixed` | EC, any of the three curves | `r ‖ s`, each half the curve's field size (32, 48, 66 bytes) |
//! | `Ed25519` | Ed25519 | 64 bytes (RFC 8032, pure Ed25519) |
//!
//! A scheme used with the wrong key type is rejected with
//! [`CryptoError::Unsupported`] (by [`SigningKey::sign`] as by
//! [`VerifyingKey::verify`]); check first with
//! [`SignatureScheme::is_compatible_with`].
//!
//! ECDSA with a hash that is not the curve's own (say P-256 with SHA-512)
//! follows FIPS 186-5 §6.4.1: the hash is truncated to the bit length of the
//! group order. aws-lc-rs only offers the matching pairs for signing, so the
//! other pairs are signed through the digest path with the hash truncated or
//! left-padded to the curve's own digest length, which yields the same integer
//! and therefore the same signature algorithm; they verify with aws-lc-rs's
//! own verifiers for those pairs (tests check this).
//!
//! # Signing a precomputed digest
//!
//! [`SigningKey::sign_digest`] takes the hash of the message instead of the
//! message (Infisical's `isDigest`, KMIP's `Digested Data`). It is available
//! for the RSA and ECDSA schemes; the digest must be exactly as long as the
//! scheme's hash. It is [`CryptoError::Unsupported`] for Ed25519: pure
//! Ed25519 hashes the message itself, and aws-lc-rs offers no Ed25519ph.
//! [`VerifyingKey::verify_digest`] is the counterpart.

use aws_lc_rs::digest::Digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{
    self as lc, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, Ed25519KeyPair,
    KeyPair, ParsedPublicKey, RsaEncoding, RsaKeyPair, RsaParameters,
};

use super::CryptoError;
use super::digest::{DigestAlgorithm, digest};
use super::ecdsa_format::{der_to_fixed, fixed_to_der};

const MISMATCH: CryptoError =
    CryptoError::Unsupported("the signature scheme does not match the key type");
pub(super) const RSA_PSS_OID: CryptoError = CryptoError::Unsupported(
    "RSA public keys with the id-RSASSA-PSS algorithm identifier (use rsaEncryption)",
);

/// An elliptic curve for ECDSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    /// Bytes of one coordinate (and of `r` or `s` in a fixed signature).
    pub fn field_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }

    /// The hash aws-lc-rs pairs with this curve for signing.
    pub(super) fn native_hash(self) -> DigestAlgorithm {
        match self {
            EcCurve::P256 => DigestAlgorithm::Sha256,
            EcCurve::P384 => DigestAlgorithm::Sha384,
            EcCurve::P521 => DigestAlgorithm::Sha512,
        }
    }

    pub(super) fn signing_algorithm(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            EcCurve::P256 => &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            EcCurve::P384 => &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
            EcCurve::P521 => &lc::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    pub(super) fn verification_algorithm(self, hash: Hash) -> &'static EcdsaVerificationAlgorithm {
        match (self, hash) {
            (EcCurve::P256, Hash::Sha256) => &lc::ECDSA_P256_SHA256_ASN1,
            (EcCurve::P256, Hash::Sha384) => &lc::ECDSA_P256_SHA384_ASN1,
            (EcCurve::P256, Hash::Sha512) => &lc::ECDSA_P256_SHA512_ASN1,
            (EcCurve::P384, Hash::Sha256) => &lc::ECDSA_P384_SHA256_ASN1,
            (EcCurve::P384, Hash::Sha384) => &lc::ECDSA_P384_SHA384_ASN1,
            (EcCurve::P384, Hash::Sha512) => &lc::ECDSA_P384_SHA512_ASN1,
            (EcCurve::P521, Hash::Sha256) => &lc::ECDSA_P521_SHA256_ASN1,
            (EcCurve::P521, Hash::Sha384) => &lc::ECDSA_P521_SHA384_ASN1,
            (EcCurve::P521, Hash::Sha512) => &lc::ECDSA_P521_SHA512_ASN1,
        }
    }

    /// Every curve, smallest first.
    pub const ALL: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

    /// The curve's named-curve OID as a DER `OBJECT IDENTIFIER` (RFC 5480
    /// §2.1.1.1: secp256r1, secp384r1, secp521r1).
    pub fn oid_der(self) -> &'static [u8] {
        match self {
            EcCurve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            EcCurve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            EcCurve::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }
}

/// The type of an asymmetric signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        bits: usize,
    },
    /// ECDSA on a NIST curve.
    Ec(EcCurve),
    Ed25519,
}

/// A signature scheme: algorithm, hash and encoding. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    /// ECDSA, DER signature.
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    /// ECDSA, fixed-width `r ‖ s` signature (IEEE P1363).
    EcdsaSha256Fixed,
    EcdsaSha384Fixed,
    EcdsaSha512Fixed,
    /// Pure Ed25519 (RFC 8032).
    Ed25519,
}

/// The three SHA-2 hashes that signatures use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn algorithm(self) -> DigestAlgorithm {
        match self {
            Hash::Sha256 => DigestAlgorithm::Sha256,
            Hash::Sha384 => DigestAlgorithm::Sha384,
            Hash::Sha512 => DigestAlgorithm::Sha512,
        }
    }

    fn index(self) -> usize {
        match self {
            Hash::Sha256 => 0,
            Hash::Sha384 => 1,
            Hash::Sha512 => 2,
        }
    }

    const ALL: [Hash; 3] = [Hash::Sha256, Hash::Sha384, Hash::Sha512];
}

#[derive(Clone, Copy)]
pub(super) enum Family {
    RsaPss(Hash),
    RsaPkcs1(Hash),
    Ecdsa { hash: Hash, fixed: bool },
    Ed25519,
}

impl SignatureScheme {
    /// Every scheme.
    pub const ALL: [SignatureScheme; 13] = [
        SignatureScheme::RsaPssSha256,
        SignatureScheme::RsaPssSha384,
        SignatureScheme::RsaPssSha512,
        SignatureScheme::RsaPkcs1Sha256,
        SignatureScheme::RsaPkcs1Sha384,
        SignatureScheme::RsaPkcs1Sha512,
        SignatureScheme::EcdsaSha256,
        SignatureScheme::EcdsaSha384,
        SignatureScheme::EcdsaSha512,
        SignatureScheme::EcdsaSha256Fixed,
        SignatureScheme::EcdsaSha384Fixed,
        SignatureScheme::EcdsaSha512Fixed,
        SignatureScheme::Ed25519,
    ];

    pub(super) fn family(self) -> Family {
        use SignatureScheme as S;
        match self {
            S::RsaPssSha256 => Family::RsaPss(Hash::Sha256),
            S::RsaPssSha384 => Family::RsaPss(Hash::Sha384),
            S::RsaPssSha512 => Family::RsaPss(Hash::Sha512),
            S::RsaPkcs1Sha256 => Family::RsaPkcs1(Hash::Sha256),
            S::RsaPkcs1Sha384 => Family::RsaPkcs1(Hash::Sha384),
            S::RsaPkcs1Sha512 => Family::RsaPkcs1(Hash::Sha512),
            S::EcdsaSha256 => Family::Ecdsa {
                hash: Hash::Sha256,
                fixed: false,
            },
            S::EcdsaSha384 => Family::Ecdsa {
                hash: Hash::Sha384,
                fixed: false,
            },
            S::EcdsaSha512 => Family::Ecdsa {
                hash: Hash::Sha512,
                fixed: false,
            },
            S::EcdsaSha256Fixed => Family::Ecdsa {
                hash: Hash::Sha256,
                fixed: true,
            },
            S::EcdsaSha384Fixed => Family::Ecdsa {
                hash: Hash::Sha384,
                fixed: true,
            },
            S::EcdsaSha512Fixed => Family::Ecdsa {
                hash: Hash::Sha512,
                fixed: true,
            },
            S::Ed25519 => Family::Ed25519,
        }
    }

    /// The hash the scheme applies to the message; `None` for Ed25519, whose
    /// hashing is internal.
    pub fn digest_algorithm(self) -> Option<DigestAlgorithm> {
        match self.family() {
            Family::RsaPss(h) | Family::RsaPkcs1(h) | Family::Ecdsa { hash: h, .. } => {
                Some(h.algorithm())
            }
            Family::Ed25519 => None,
        }
    }

    /// Whether a key of `key_type` can sign and verify with this scheme.
    pub fn is_compatible_with(self, key_type: KeyType) -> bool {
        matches!(
            (self.family(), key_type),
            (Family::RsaPss(_) | Family::RsaPkcs1(_), KeyType::Rsa { .. })
                | (Family::Ecdsa { .. }, KeyType::Ec(_))
                | (Family::Ed25519, KeyType::Ed25519)
        )
    }
}

fn rsa_signing_encoding(family: Family) -> Option<&'static dyn RsaEncoding> {
    Some(match family {
        Family::RsaPss(Hash::Sha256) => &lc::RSA_PSS_SHA256,
        Family::RsaPss(Hash::Sha384) => &lc::RSA_PSS_SHA384,
        Family::RsaPss(Hash::Sha512) => &lc::RSA_PSS_SHA512,
        Family::RsaPkcs1(Hash::Sha256) => &lc::RSA_PKCS1_SHA256,
        Family::RsaPkcs1(Hash::Sha384) => &lc::RSA_PKCS1_SHA384,
        Family::RsaPkcs1(Hash::Sha512) => &lc::RSA_PKCS1_SHA512,
        Family::Ecdsa { .. } | Family::Ed25519 => return None,
    })
}

fn rsa_pss_parameters(hash: Hash) -> &'static RsaParameters {
    match hash {
        Hash::Sha256 => &lc::RSA_PSS_2048_8192_SHA256,
        Hash::Sha384 => &lc::RSA_PSS_2048_8192_SHA384,
        Hash::Sha512 => &lc::RSA_PSS_2048_8192_SHA512,
    }
}

fn rsa_pkcs1_parameters(hash: Hash) -> &'static RsaParameters {
    match hash {
        Hash::Sha256 => &lc::RSA_PKCS1_2048_8192_SHA256,
        Hash::Sha384 => &lc::RSA_PKCS1_2048_8192_SHA384,
        Hash::Sha512 => &lc::RSA_PKCS1_2048_8192_SHA512,
    }
}

/// Imports a caller-supplied digest for `hash`, checking its length.
fn import_digest(hash: Hash, digest: &[u8]) -> Result<Digest, CryptoError> {
    Digest::import_less_safe(digest, hash.algorithm().aws_lc()).map_err(|_| {
        CryptoError::InvalidInput("the digest length does not match the scheme's hash")
    })
}

/// Serialized SPKI from an aws-lc-rs public key.
pub(super) fn spki_of(
    key: &impl AsDer<aws_lc_rs::encoding::PublicKeyX509Der<'static>>,
) -> Result<Vec<u8>, CryptoError> {
    key.as_der()
        .map(|der| der.as_ref().to_vec())
        .map_err(|_| CryptoError::Internal("encoding a public key"))
}

#[derive(Clone)]
enum SigningInner {
    Rsa(RsaKeyPair),
    Ec { curve: EcCurve, pair: EcdsaKeyPair },
    Ed25519(Ed25519KeyPair),
}

/// A private signing key, parsed once.
///
/// `Debug` shows the key type only.
#[derive(Clone)]
pub struct SigningKey {
    inner: SigningInner,
    key_type: KeyType,
    spki: Vec<u8>,
}

impl SigningKey {
    /// Parses an unencrypted PKCS#8 private key: RSA (2048 to 8192 bits),
    /// ECDSA on P-256/P-384/P-521, or Ed25519.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(pair) = RsaKeyPair::from_pkcs8(der) {
            let spki = spki_of(pair.public_key())?;
            let bits = PublicEncryptingKey::from_der(&spki)
                .map_err(|_| CryptoError::Internal("re-reading an RSA public key"))?
                .key_size_bits();
            return Ok(Self {
                inner: SigningInner::Rsa(pair),
                key_type: KeyType::Rsa { bits },
                spki,
            });
        }
        for curve in EcCurve::ALL {
            if let Ok(pair) = EcdsaKeyPair::from_pkcs8(curve.signing_algorithm(), der) {
                let spki = spki_of(pair.public_key())?;
                return Ok(Self {
                    inner: SigningInner::Ec { curve, pair },
                    key_type: KeyType::Ec(curve),
                    spki,
                });
            }
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8(der) {
            let spki = spki_of(pair.public_key())?;
            return Ok(Self {
                inner: SigningInner::Ed25519(pair),
                key_type: KeyType::Ed25519,
                spki,
            });
        }
        Err(CryptoError::InvalidKey(
            "not a PKCS#8 RSA (2048-8192 bits), ECDSA (P-256, P-384, P-521) or Ed25519 private key",
        ))
    }

    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn public_key_spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The matching [`VerifyingKey`].
    pub fn verifying_key(&self) -> Result<VerifyingKey, CryptoError> {
        VerifyingKey::from_spki_der(&self.spki)
    }

    /// Signs `message` with `scheme`. See the module docs for the output formats.
    pub fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let family = scheme.family();
        match (&self.inner, family) {
            (SigningInner::Rsa(pair), Family::RsaPss(_) | Family::RsaPkcs1(_)) => {
                let encoding = rsa_signing_encoding(family).ok_or(MISMATCH)?;
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(encoding, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| CryptoError::Internal("RSA signing"))?;
                Ok(sig)
            }
            (SigningInner::Ec { curve, pair }, Family::Ecdsa { hash, fixed }) => {
                let der = if hash.algorithm() == curve.native_hash() {
                    pair.sign(&SystemRandom::new(), message)
                        .map_err(|_| CryptoError::Internal("ECDSA signing"))?
                        .as_ref()
                        .to_vec()
                } else {
                    ecdsa_sign_hash(*curve, pair, &digest(hash.algorithm(), message))?
                };
                ecdsa_output(*curve, der, fixed)
            }
            (SigningInner::Ed25519(pair), Family::Ed25519) => Ok(pair
                .try_sign(message)
                .map_err(|_| CryptoError::Internal("Ed25519 signing"))?
                .as_ref()
                .to_vec()),
            _ => Err(MISMATCH),
        }
    }

    /// Signs a precomputed digest of the message with `scheme` (RSA and
    /// ECDSA only). `digest` must be as long as the scheme's hash output; the
    /// signature is identical to `sign(scheme, message)` where
    /// `digest == hash(message)` (up to the randomness of PSS and ECDSA).
    pub fn sign_digest(
        &self,
        scheme: SignatureScheme,
        digest: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let family = scheme.family();
        match (&self.inner, family) {
            (SigningInner::Rsa(pair), Family::RsaPss(hash) | Family::RsaPkcs1(hash)) => {
                let encoding = rsa_signing_encoding(family).ok_or(MISMATCH)?;
                let digest = import_digest(hash, digest)?;
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(encoding, &digest, &mut sig)
                    .map_err(|_| CryptoError::Internal("RSA signing"))?;
                Ok(sig)
            }
            (SigningInner::Ec { curve, pair }, Family::Ecdsa { hash, fixed }) => {
                if digest.len() != hash.algorithm().output_len() {
                    return Err(CryptoError::InvalidInput(
                        "the digest length does not match the scheme's hash",
                    ));
                }
                let der = ecdsa_sign_hash(*curve, pair, digest)?;
                ecdsa_output(*curve, der, fixed)
            }
            (SigningInner::Ed25519(_), Family::Ed25519) => Err(CryptoError::Unsupported(
                "Ed25519 signs the message itself, not a digest (no Ed25519ph)",
            )),
            _ => Err(MISMATCH),
        }
    }
}

/// ECDSA over a hash of any length, through the curve's native digest path:
/// the hash is truncated or left-padded with zeros to the native digest
/// length, which leaves the integer that ECDSA derives from it unchanged
/// (FIPS 186-5 §6.4.1: leftmost `min(N, hashlen)` bits; P-256 and P-384 have
/// byte-aligned orders, and P-521's 521-bit order exceeds every hash here).
fn ecdsa_sign_hash(
    curve: EcCurve,
    pair: &EcdsaKeyPair,
    hash: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let native = curve.native_hash();
    let n = native.output_len();
    let mut e = vec![0u8; n];
    if hash.len() >= n {
        let head = hash.get(..n).ok_or(CryptoError::Internal("ECDSA digest"))?;
        e.copy_from_slice(head);
    } else {
        let tail = e
            .get_mut(n - hash.len()..)
            .ok_or(CryptoError::Internal("ECDSA digest"))?;
        tail.copy_from_slice(hash);
    }
    let digest = Digest::import_less_safe(&e, native.aws_lc())
        .map_err(|_| CryptoError::Internal("ECDSA digest"))?;
    Ok(pair
        .sign_digest(&digest)
        .map_err(|_| CryptoError::Internal("ECDSA signing"))?
        .as_ref()
        .to_vec())
}

fn ecdsa_output(curve: EcCurve, der: Vec<u8>, fixed: bool) -> Result<Vec<u8>, CryptoError> {
    if fixed {
        der_to_fixed(&der, curve.field_len())
            .ok_or(CryptoError::Internal("converting an ECDSA signature"))
    } else {
        Ok(der)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?}, ..)", self.key_type)
    }
}

/// Prepared public keys, one per hash (the encoding of ECDSA signatures is
/// handled before aws-lc-rs sees them).
#[derive(Clone)]
enum Verifier {
    Rsa {
        pss: [ParsedPublicKey; 3],
        pkcs1: [ParsedPublicKey; 3],
    },
    Ec {
        curve: EcCurve,
        by_hash: [ParsedPublicKey; 3],
    },
    Ed25519(ParsedPublicKey),
}

/// A public key for verifying signatures, parsed once.
#[derive(Clone)]
pub struct VerifyingKey {
    /// Boxed: six prepared keys for RSA.
    verifier: Box<Verifier>,
    key_type: KeyType,
    spki: Vec<u8>,
}

fn parse_three(
    der: &[u8],
    alg: impl Fn(Hash) -> &'static dyn lc::VerificationAlgorithm,
) -> Result<[ParsedPublicKey; 3], CryptoError> {
    let parse = |h: Hash| {
        ParsedPublicKey::new(alg(h), der).map_err(|_| CryptoError::InvalidKey("public key"))
    };
    let [a, b, c] = Hash::ALL;
    Ok([parse(a)?, parse(b)?, parse(c)?])
}

impl VerifyingKey {
    /// Parses a DER `SubjectPublicKeyInfo` holding an RSA (2048 to 8192
    /// bits), ECDSA (P-256/P-384/P-521) or Ed25519 public key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        const NOT_CANONICAL: CryptoError = CryptoError::InvalidKey(
            "the public key is not a DER SubjectPublicKeyInfo in canonical form",
        );
        if let Ok(rsa) = PublicEncryptingKey::from_der(der) {
            // AWS-LC parses id-RSASSA-PSS keys but cannot write them back.
            let reencoded = spki_of(&rsa).map_err(|_| RSA_PSS_OID)?;
            if reencoded != der {
                return Err(NOT_CANONICAL);
            }
            return Ok(Self {
                verifier: Box::new(Verifier::Rsa {
                    pss: parse_three(der, |h| rsa_pss_parameters(h))?,
                    pkcs1: parse_three(der, |h| rsa_pkcs1_parameters(h))?,
                }),
                key_type: KeyType::Rsa {
                    bits: rsa.key_size_bits(),
                },
                spki: der.to_vec(),
            });
        }
        for curve in EcCurve::ALL {
            if let Ok(parsed) =
                ParsedPublicKey::new(curve.verification_algorithm(Hash::Sha256), der)
            {
                if spki_of(&parsed).ok().as_deref() != Some(der) {
                    return Err(NOT_CANONICAL);
                }
                return Ok(Self {
                    verifier: Box::new(Verifier::Ec {
                        curve,
                        by_hash: parse_three(der, |h| curve_alg(curve, h))?,
                    }),
                    key_type: KeyType::Ec(curve),
                    spki: der.to_vec(),
                });
            }
        }
        if let Ok(parsed) = ParsedPublicKey::new(&lc::ED25519, der) {
            if spki_of(&parsed).ok().as_deref() != Some(der) {
                return Err(NOT_CANONICAL);
            }
            return Ok(Self {
                verifier: Box::new(Verifier::Ed25519(parsed)),
                key_type: KeyType::Ed25519,
                spki: der.to_vec(),
            });
        }
        Err(CryptoError::InvalidKey(
            "not an RSA (2048-8192 bits), ECDSA (P-256, P-384, P-521) or Ed25519 SubjectPublicKeyInfo",
        ))
    }

    /// The public half of a PKCS#8 private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        SigningKey::from_pkcs8(der)?.verifying_key()
    }

    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Whether `signature` is a valid `scheme` signature of `message`.
    ///
    /// `Ok(false)` for any signature that does not verify (including a
    /// malformed one); `Err(Unsupported)` if `scheme` does not fit the key.
    pub fn verify(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let (parsed, fixed_len) = self.parsed_for(scheme)?;
        Ok(match fixed_len {
            Some(field_len) => match fixed_to_der(signature, field_len) {
                Some(der) => parsed.verify_sig(message, &der).is_ok(),
                None => false,
            },
            None => parsed.verify_sig(message, signature).is_ok(),
        })
    }

    /// Whether `signature` is a valid `scheme` signature over a message whose
    /// hash is `digest` (RSA and ECDSA only; see [`SigningKey::sign_digest`]).
    pub fn verify_digest(
        &self,
        scheme: SignatureScheme,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let (parsed, fixed_len) = self.parsed_for(scheme)?;
        let hash = match scheme.family() {
            Family::RsaPss(h) | Family::RsaPkcs1(h) | Family::Ecdsa { hash: h, .. } => h,
            Family::Ed25519 => {
                return Err(CryptoError::Unsupported(
                    "Ed25519 signs the message itself, not a digest (no Ed25519ph)",
                ));
            }
        };
        let digest = import_digest(hash, digest)?;
        Ok(match fixed_len {
            Some(field_len) => match fixed_to_der(signature, field_len) {
                Some(der) => parsed.verify_digest_sig(&digest, &der).is_ok(),
                None => false,
            },
            None => parsed.verify_digest_sig(&digest, signature).is_ok(),
        })
    }

    /// The prepared key for `scheme`, and the field length when the scheme
    /// uses fixed-width ECDSA signatures.
    fn parsed_for(
        &self,
        scheme: SignatureScheme,
    ) -> Result<(&ParsedPublicKey, Option<usize>), CryptoError> {
        let found = match (&*self.verifier, scheme.family()) {
            (Verifier::Rsa { pss, .. }, Family::RsaPss(h)) => pss.get(h.index()).map(|p| (p, None)),
            (Verifier::Rsa { pkcs1, .. }, Family::RsaPkcs1(h)) => {
                pkcs1.get(h.index()).map(|p| (p, None))
            }
            (Verifier::Ec { curve, by_hash }, Family::Ecdsa { hash, fixed }) => by_hash
                .get(hash.index())
                .map(|p| (p, fixed.then_some(curve.field_len()))),
            (Verifier::Ed25519(p), Family::Ed25519) => Some((p, None)),
            _ => None,
        };
        found.ok_or(MISMATCH)
    }
}

fn curve_alg(curve: EcCurve, hash: Hash) -> &'static dyn lc::VerificationAlgorithm {
    curve.verification_algorithm(hash)
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({:?})", self.key_type)
    }
}
