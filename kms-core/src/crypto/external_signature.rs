//! Signatures made outside the process, by a key that never leaves an HSM.
//!
//! An HSM-resident private key signs inside the token; everything around the
//! private-key operation stays here, so that a signature made in the token is
//! byte-for-byte the format [`super::signature::SigningKey`] produces and
//! [`super::signature::VerifyingKey`] (or any external verifier) accepts:
//!
//! 1. [`prepare`] hashes the message (unless the caller passed a digest) and
//!    shapes the input of the private-key operation, named by
//!    [`ExternalOperation`]:
//!
//!    | scheme | operation (PKCS#11) | input |
//!    |---|---|---|
//!    | `RsaPkcs1Sha*` | `RsaPkcs1` (`CKM_RSA_PKCS`) | DER `DigestInfo` (RFC 8017 §9.2) |
//!    | `RsaPssSha*` | `RsaPss(hash)` (`CKM_RSA_PKCS_PSS`, MGF1 of the same hash, salt = hash length) | the digest |
//!    | `EcdsaSha*[Fixed]` | `Ecdsa(curve)` (`CKM_ECDSA`) | the digest, truncated or left-padded to the curve's own hash length (FIPS 186-5 §6.4.1, as the software path does) |
//!
//! 2. The signer outside runs the operation: RSA returns a modulus-sized
//!    signature, ECDSA returns `r ‖ s` (each half the field length), as
//!    PKCS#11 does.
//! 3. [`finish`] checks the length and converts ECDSA to the scheme's
//!    encoding (DER unless the scheme is `…Fixed`).
//!
//! Ed25519 is not offered: PKCS#11 tokens disagree on it, and SoftHSM's
//! support depends on its build.
//!
//! [`spki_from_rsa`] and [`spki_from_ec_point`] turn the public values a
//! token reports (`CKA_MODULUS`/`CKA_PUBLIC_EXPONENT`, `CKA_EC_POINT`) into
//! the canonical DER `SubjectPublicKeyInfo` the rest of Strongroom stores.

use aws_lc_rs::signature::{self as lc, ParsedPublicKey};

use super::CryptoError;
use super::digest::{DigestAlgorithm, digest};
use super::ecdsa_format::{fixed_to_der, push_integer, push_len};
use super::signature::{EcCurve, Family, Hash, KeyType, SignatureScheme, spki_of};

/// The private-key operation an external signer performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalOperation {
    /// RSA PKCS#1 v1.5 signature of a DER `DigestInfo` (`CKM_RSA_PKCS`).
    RsaPkcs1,
    /// RSA-PSS of a digest made with this hash; MGF1 with the same hash;
    /// salt as long as the hash (`CKM_RSA_PKCS_PSS`).
    RsaPss(DigestAlgorithm),
    /// ECDSA of a digest on this curve, returning `r ‖ s` (`CKM_ECDSA`).
    Ecdsa(EcCurve),
}

/// What to ask the external signer for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalRequest {
    pub operation: ExternalOperation,
    /// The input of the operation (a digest or a `DigestInfo`; not secret).
    pub input: Vec<u8>,
}

/// `DigestInfo` prefixes for SHA-256/384/512 (RFC 8017 §9.2, note 1).
const DIGEST_INFO_SHA256: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const DIGEST_INFO_SHA384: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const DIGEST_INFO_SHA512: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

const MISMATCH: CryptoError =
    CryptoError::Unsupported("the signature scheme does not match the key type");

/// Prepares the external signature of `data` (a message, or with
/// `is_digest` its digest) with `scheme` by a key of `key_type`.
pub fn prepare(
    key_type: KeyType,
    scheme: SignatureScheme,
    data: &[u8],
    is_digest: bool,
) -> Result<ExternalRequest, CryptoError> {
    let family = scheme.family();
    let hash = match (family, key_type) {
        (Family::RsaPkcs1(h) | Family::RsaPss(h), KeyType::Rsa { .. }) => h,
        (Family::Ecdsa { hash, .. }, KeyType::Ec(_)) => hash,
        _ => return Err(MISMATCH),
    };
    let algorithm = hash.algorithm();
    let hashed = if is_digest {
        if data.len() != algorithm.output_len() {
            return Err(CryptoError::InvalidInput(
                "the digest length does not match the scheme's hash",
            ));
        }
        data.to_vec()
    } else {
        digest(algorithm, data)
    };
    Ok(match (family, key_type) {
        (Family::RsaPkcs1(_), _) => ExternalRequest {
            operation: ExternalOperation::RsaPkcs1,
            input: digest_info(hash, &hashed),
        },
        (Family::RsaPss(_), _) => ExternalRequest {
            operation: ExternalOperation::RsaPss(algorithm),
            input: hashed,
        },
        (_, KeyType::Ec(curve)) => ExternalRequest {
            operation: ExternalOperation::Ecdsa(curve),
            input: fit_to_curve(curve, &hashed),
        },
        _ => return Err(MISMATCH),
    })
}

/// Checks the external signer's output and encodes it as `scheme` requires.
pub fn finish(
    key_type: KeyType,
    scheme: SignatureScheme,
    raw: Vec<u8>,
) -> Result<Vec<u8>, CryptoError> {
    const BAD_LENGTH: CryptoError =
        CryptoError::Internal("the HSM returned a signature of the wrong length");
    match (scheme.family(), key_type) {
        (Family::RsaPkcs1(_) | Family::RsaPss(_), KeyType::Rsa { bits }) => {
            if raw.len() != bits.div_ceil(8) {
                return Err(BAD_LENGTH);
            }
            Ok(raw)
        }
        (Family::Ecdsa { fixed, .. }, KeyType::Ec(curve)) => {
            if raw.len() != 2 * curve.field_len() {
                return Err(BAD_LENGTH);
            }
            if fixed {
                Ok(raw)
            } else {
                fixed_to_der(&raw, curve.field_len()).ok_or(BAD_LENGTH)
            }
        }
        _ => Err(MISMATCH),
    }
}

fn digest_info(hash: Hash, digest: &[u8]) -> Vec<u8> {
    let prefix = match hash {
        Hash::Sha256 => DIGEST_INFO_SHA256,
        Hash::Sha384 => DIGEST_INFO_SHA384,
        Hash::Sha512 => DIGEST_INFO_SHA512,
    };
    let mut out = Vec::with_capacity(prefix.len() + digest.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(digest);
    out
}

/// The hash truncated or left-padded to the curve's own digest length, which
/// leaves the integer ECDSA derives from it unchanged (see `signature`).
fn fit_to_curve(curve: EcCurve, hash: &[u8]) -> Vec<u8> {
    let n = curve.native_hash().output_len();
    if hash.len() >= n {
        hash.iter().take(n).copied().collect()
    } else {
        let mut e = vec![0u8; n - hash.len()];
        e.extend_from_slice(hash);
        e
    }
}

/// The DER `SubjectPublicKeyInfo` of an RSA public key given as big-endian
/// modulus and public exponent. Refuses keys aws-lc-rs would not verify with
/// (below 2048 or above 8192 bits).
pub fn spki_from_rsa(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, CryptoError> {
    const BAD: CryptoError = CryptoError::InvalidKey("RSA public key components");
    if modulus.is_empty() || exponent.is_empty() || modulus.len() > 1024 || exponent.len() > 8 {
        return Err(BAD);
    }
    let mut content = Vec::with_capacity(modulus.len() + exponent.len() + 12);
    push_integer(&mut content, modulus);
    push_integer(&mut content, exponent);
    let mut rsa_public_key = Vec::with_capacity(content.len() + 4);
    rsa_public_key.push(0x30);
    push_len(&mut rsa_public_key, content.len());
    rsa_public_key.extend_from_slice(&content);
    let parsed =
        ParsedPublicKey::new(&lc::RSA_PKCS1_2048_8192_SHA256, &rsa_public_key).map_err(|_| BAD)?;
    spki_of(&parsed)
}

/// The DER `SubjectPublicKeyInfo` of an EC public key given as an
/// uncompressed SEC1 point (`04 ‖ x ‖ y`) on `curve`.
pub fn spki_from_ec_point(curve: EcCurve, point: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if point.len() != 2 * curve.field_len() + 1 {
        return Err(CryptoError::InvalidKey("EC point of the wrong length"));
    }
    let parsed = ParsedPublicKey::new(curve.verification_algorithm(Hash::Sha256), point)
        .map_err(|_| CryptoError::InvalidKey("EC point not on the curve"))?;
    spki_of(&parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keygen::{self, GeneratedKey, KeySpec};
    use crate::crypto::signature::{SigningKey, VerifyingKey};
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _};

    fn pair(spec: KeySpec) -> (SigningKey, VerifyingKey) {
        let GeneratedKey::Pair { private_pkcs8, .. } = keygen::generate(spec).unwrap() else {
            panic!("pair");
        };
        let s = SigningKey::from_pkcs8(private_pkcs8.expose()).unwrap();
        let v = s.verifying_key().unwrap();
        (s, v)
    }

    /// An ECDSA signer outside: aws-lc-rs on the prepared digest, as r ‖ s.
    #[test]
    fn ecdsa_prepared_digest_signs_like_the_software_path() {
        let GeneratedKey::Pair { private_pkcs8, .. } = keygen::generate(KeySpec::EcP256).unwrap()
        else {
            panic!("pair");
        };
        let v = VerifyingKey::from_pkcs8(private_pkcs8.expose()).unwrap();
        let kp =
            EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, private_pkcs8.expose())
                .unwrap();
        for scheme in [
            SignatureScheme::EcdsaSha256,
            SignatureScheme::EcdsaSha384Fixed,
            SignatureScheme::EcdsaSha512,
        ] {
            let req = prepare(v.key_type(), scheme, b"message", false).unwrap();
            assert_eq!(req.operation, ExternalOperation::Ecdsa(EcCurve::P256));
            assert_eq!(req.input.len(), 32);
            let d =
                aws_lc_rs::digest::Digest::import_less_safe(&req.input, &aws_lc_rs::digest::SHA256)
                    .unwrap();
            let raw = kp.sign_digest(&d).unwrap().as_ref().to_vec();
            let sig = finish(v.key_type(), scheme, raw).unwrap();
            assert!(v.verify(scheme, b"message", &sig).unwrap(), "{scheme:?}");
            assert!(!v.verify(scheme, b"other", &sig).unwrap());
        }
    }

    #[test]
    fn rsa_digest_info_is_what_pkcs1_signs() {
        let (s, v) = pair(KeySpec::Rsa2048);
        let req = prepare(v.key_type(), SignatureScheme::RsaPkcs1Sha256, b"m", false).unwrap();
        assert_eq!(req.operation, ExternalOperation::RsaPkcs1);
        assert_eq!(req.input.len(), 19 + 32);
        // Deterministic: the software signature covers the same DigestInfo.
        let sw = s.sign(SignatureScheme::RsaPkcs1Sha256, b"m").unwrap();
        let kp = aws_lc_rs::rsa::PublicEncryptingKey::from_der(v.spki_der()).unwrap();
        assert_eq!(sw.len(), kp.key_size_bytes());
        assert!(finish(v.key_type(), SignatureScheme::RsaPkcs1Sha256, sw).is_ok());
        assert!(finish(v.key_type(), SignatureScheme::RsaPkcs1Sha256, vec![0; 10]).is_err());
    }

    #[test]
    fn spki_from_components_is_canonical() {
        let GeneratedKey::Pair {
            private_pkcs8,
            public_spki,
        } = keygen::generate(KeySpec::EcP384).unwrap()
        else {
            panic!("pair");
        };
        let kp =
            EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P384_SHA384_ASN1_SIGNING, private_pkcs8.expose())
                .unwrap();
        let point = kp.public_key().as_ref().to_vec();
        assert_eq!(
            spki_from_ec_point(EcCurve::P384, &point).unwrap(),
            public_spki
        );
        assert!(spki_from_ec_point(EcCurve::P256, &point).is_err());

        let GeneratedKey::Pair {
            private_pkcs8,
            public_spki,
        } = keygen::generate(KeySpec::Rsa2048).unwrap()
        else {
            panic!("pair");
        };
        let kp = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(private_pkcs8.expose()).unwrap();
        let components: aws_lc_rs::signature::RsaPublicKeyComponents<Vec<u8>> =
            kp.public_key().into();
        assert_eq!(
            spki_from_rsa(&components.n, &components.e).unwrap(),
            public_spki
        );
        assert!(spki_from_rsa(&[], &components.e).is_err());
    }

    #[test]
    fn wrong_key_or_digest_length_is_refused() {
        let kt = KeyType::Ec(EcCurve::P256);
        assert!(prepare(kt, SignatureScheme::RsaPssSha256, b"m", false).is_err());
        assert!(prepare(kt, SignatureScheme::EcdsaSha256, &[0; 31], true).is_err());
        assert!(prepare(kt, SignatureScheme::Ed25519, b"m", false).is_err());
    }
}
