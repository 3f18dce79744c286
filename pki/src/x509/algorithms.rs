//! Signature algorithm identifiers: Strongroom's signature schemes as X.509
//! writes them, and back.
//!
//! | scheme | `AlgorithmIdentifier` | parameters |
//! |---|---|---|
//! | `EcdsaSha256/384/512` | `ecdsa-with-SHA256/384/512` (RFC 5758) | absent |
//! | `RsaPkcs1Sha256/384/512` | `sha256/384/512WithRSAEncryption` (RFC 4055) | `NULL` |
//! | `Ed25519` | `id-Ed25519` (RFC 8410) | absent |
//!
//! RSA-PSS needs parameters that name the hash, mask and salt, which many
//! verifiers handle badly; the fixed-width ECDSA schemes are not the X.509
//! encoding. Both are refused as signers and in requests.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use const_oid::db::rfc8410::ID_ED_25519;
use der::asn1::{AnyRef, Null};
use kms_core::crypto::signature::{EcCurve, KeyType, SignatureScheme, VerifyingKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::error::{Error, Result};

/// The X.509 algorithm identifier of `scheme`.
pub fn algorithm_identifier(scheme: SignatureScheme) -> Result<AlgorithmIdentifierOwned> {
    use SignatureScheme as S;
    let (oid, null_parameters) = match scheme {
        S::EcdsaSha256 => (ECDSA_WITH_SHA_256, false),
        S::EcdsaSha384 => (ECDSA_WITH_SHA_384, false),
        S::EcdsaSha512 => (ECDSA_WITH_SHA_512, false),
        S::RsaPkcs1Sha256 => (SHA_256_WITH_RSA_ENCRYPTION, true),
        S::RsaPkcs1Sha384 => (SHA_384_WITH_RSA_ENCRYPTION, true),
        S::RsaPkcs1Sha512 => (SHA_512_WITH_RSA_ENCRYPTION, true),
        S::Ed25519 => (ID_ED_25519, false),
        _ => {
            return Err(Error::UnsupportedSigner(
                "X.509 signatures use ECDSA (DER), RSA PKCS#1 v1.5 or Ed25519",
            ));
        }
    };
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: null_parameters.then(|| Null.into()),
    })
}

/// The scheme an X.509 algorithm identifier names, or `None` if it is not
/// one of the table's, or its parameters are not the ones the table gives
/// (RSA's `NULL` may also be absent, as some encoders write it).
pub fn scheme_of(alg: &AlgorithmIdentifierOwned) -> Option<SignatureScheme> {
    use SignatureScheme as S;
    let table: [(ObjectIdentifier, SignatureScheme); 7] = [
        (ECDSA_WITH_SHA_256, S::EcdsaSha256),
        (ECDSA_WITH_SHA_384, S::EcdsaSha384),
        (ECDSA_WITH_SHA_512, S::EcdsaSha512),
        (SHA_256_WITH_RSA_ENCRYPTION, S::RsaPkcs1Sha256),
        (SHA_384_WITH_RSA_ENCRYPTION, S::RsaPkcs1Sha384),
        (SHA_512_WITH_RSA_ENCRYPTION, S::RsaPkcs1Sha512),
        (ID_ED_25519, S::Ed25519),
    ];
    let scheme = table.iter().find(|(oid, _)| *oid == alg.oid)?.1;
    let is_rsa = matches!(
        scheme,
        S::RsaPkcs1Sha256 | S::RsaPkcs1Sha384 | S::RsaPkcs1Sha512
    );
    let parameters_ok = match &alg.parameters {
        None => true,
        Some(any) => is_rsa && AnyRef::from(any).is_null(),
    };
    parameters_ok.then_some(scheme)
}

/// The scheme a CA key signs with unless told otherwise: the curve's own hash
/// for ECDSA, SHA-256 for RSA.
pub fn default_scheme(key_type: KeyType) -> SignatureScheme {
    match key_type {
        KeyType::Ec(EcCurve::P256) => SignatureScheme::EcdsaSha256,
        KeyType::Ec(EcCurve::P384) => SignatureScheme::EcdsaSha384,
        KeyType::Ec(EcCurve::P521) => SignatureScheme::EcdsaSha512,
        KeyType::Rsa { .. } => SignatureScheme::RsaPkcs1Sha256,
        KeyType::Ed25519 => SignatureScheme::Ed25519,
    }
}

/// Parses a public key for verification; its DER must be canonical.
pub(crate) fn verifying_key(spki: &SubjectPublicKeyInfoOwned) -> Result<VerifyingKey> {
    let der = der::Encode::to_der(spki).map_err(Error::der("encoding a public key"))?;
    Ok(VerifyingKey::from_spki_der(&der)?)
}

/// Whether `signature` by `spki` over `message` verifies under `algorithm`.
pub(crate) fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<bool> {
    let scheme =
        scheme_of(algorithm).ok_or_else(|| Error::CsrAlgorithm(algorithm.oid.to_string()))?;
    let key = verifying_key(spki)?;
    if !scheme.is_compatible_with(key.key_type()) {
        return Ok(false);
    }
    Ok(key.verify(scheme, message, signature)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_x509_scheme_round_trips() {
        for scheme in SignatureScheme::ALL {
            match algorithm_identifier(scheme) {
                Ok(alg) => assert_eq!(scheme_of(&alg), Some(scheme)),
                Err(_) => assert!(matches!(
                    scheme,
                    SignatureScheme::RsaPssSha256
                        | SignatureScheme::RsaPssSha384
                        | SignatureScheme::RsaPssSha512
                        | SignatureScheme::EcdsaSha256Fixed
                        | SignatureScheme::EcdsaSha384Fixed
                        | SignatureScheme::EcdsaSha512Fixed
                )),
            }
        }
    }

    #[test]
    fn ecdsa_with_parameters_is_not_recognised() {
        let mut alg = algorithm_identifier(SignatureScheme::EcdsaSha256).unwrap();
        alg.parameters = Some(Null.into());
        assert_eq!(scheme_of(&alg), None);
    }
}
