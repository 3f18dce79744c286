//! RSA keys between the DER forms kms-core keeps (PKCS#8 PrivateKeyInfo,
//! X.509 SubjectPublicKeyInfo) and PKCS#1 (RSAPrivateKey, RSAPublicKey),
//! the other format KMIP clients ask for. Only the outer structure is
//! rewritten; the key itself is checked to be a well-formed PKCS#1 key.

use kms_core::crypto::SecretBytes;
use pkcs8::der::asn1::{AnyRef, BitStringRef};
use pkcs8::der::{Decode, Encode};
use pkcs8::{AlgorithmIdentifierRef, PrivateKeyInfo};
use spki::SubjectPublicKeyInfoRef;

use crate::message::{OpResult, OperationError};

fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: pkcs1::ALGORITHM_OID,
        parameters: Some(AnyRef::NULL),
    }
}

fn not_rsa() -> OperationError {
    OperationError::KeyFormatTypeNotSupported("PKCS#1 is for RSA keys".into())
}

fn malformed(what: &str) -> OperationError {
    OperationError::InvalidField(format!("the key material is not a valid {what}"))
}

/// PKCS#8 → PKCS#1 RSAPrivateKey.
pub fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> OpResult<SecretBytes> {
    let info = PrivateKeyInfo::from_der(pkcs8).map_err(|_| malformed("PKCS#8 private key"))?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(not_rsa());
    }
    Ok(SecretBytes::from_slice(info.private_key))
}

/// PKCS#1 RSAPrivateKey → PKCS#8.
pub fn pkcs1_to_pkcs8(pkcs1_der: &[u8]) -> OpResult<SecretBytes> {
    pkcs1::RsaPrivateKey::from_der(pkcs1_der).map_err(|_| malformed("PKCS#1 RSA private key"))?;
    let der = PrivateKeyInfo::new(rsa_algorithm(), pkcs1_der)
        .to_der()
        .map_err(|_| malformed("PKCS#1 RSA private key"))?;
    Ok(SecretBytes::from_vec(der))
}

/// SubjectPublicKeyInfo → PKCS#1 RSAPublicKey.
pub fn spki_to_pkcs1(spki_der: &[u8]) -> OpResult<Vec<u8>> {
    let info =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| malformed("X.509 public key"))?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(not_rsa());
    }
    info.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| malformed("X.509 public key"))
}

/// PKCS#1 RSAPublicKey → SubjectPublicKeyInfo.
pub fn pkcs1_to_spki(pkcs1_der: &[u8]) -> OpResult<Vec<u8>> {
    pkcs1::RsaPublicKey::from_der(pkcs1_der).map_err(|_| malformed("PKCS#1 RSA public key"))?;
    SubjectPublicKeyInfoRef {
        algorithm: rsa_algorithm(),
        subject_public_key: BitStringRef::from_bytes(pkcs1_der)
            .map_err(|_| malformed("PKCS#1 RSA public key"))?,
    }
    .to_der()
    .map_err(|_| malformed("PKCS#1 RSA public key"))
}
