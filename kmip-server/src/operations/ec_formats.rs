//! Elliptic-curve keys in KMIP's own formats, to and from the PKCS#8 and
//! SubjectPublicKeyInfo DER kms-core keeps:
//!
//! | format | Key Material |
//! |---|---|
//! | Transparent EC Private Key (1.3+), Transparent ECDSA/ECDH/ECMQV Private Key | Recommended Curve, D (Big Integer) |
//! | Transparent EC Public Key (1.3+), Transparent ECDSA/ECDH/ECMQV Public Key | Recommended Curve, Q String (the SEC1 point) |
//! | ECPrivateKey | the RFC 5915 `ECPrivateKey` DER |
//!
//! The three algorithm-named transparent formats are KMIP 1.0's; 1.3
//! deprecated them for the EC ones and 1.4 still defines both, so both
//! are read and written at every version that defines them. Curves: P-256,
//! P-384 and P-521 (aws-lc-rs's ECDSA curves). Every key read is checked
//! by aws-lc-rs: a scalar must lie on its curve's range, a point on the
//! curve, a public key inside an `ECPrivateKey` must be its scalar's.
//! Points are served uncompressed (see [`super::get`] for Key Compression
//! Type).

use kms_core::crypto::SecretBytes;
use kms_core::crypto::external_signature::spki_from_ec_point;
use kms_core::crypto::key_components::{
    ec_pkcs8_from_private_key_der, ec_pkcs8_from_scalar, ec_private_key_der, ec_private_parts,
};
use kms_core::crypto::signature::EcCurve;
use pkcs8::der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;

use super::transparent_rsa::{big, number};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::RecommendedCurve;
use crate::ttlv::{Tag, Ttlv};

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY_OID: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// The curve a Recommended Curve names, if it is one this server uses.
pub fn curve(item: &Ttlv) -> OpResult<EcCurve> {
    match RecommendedCurve(item.as_enum()?) {
        RecommendedCurve::P_256 => Ok(EcCurve::P256),
        RecommendedCurve::P_384 => Ok(EcCurve::P384),
        RecommendedCurve::P_521 => Ok(EcCurve::P521),
        other => Err(OperationError::FeatureNotSupported(format!(
            "elliptic curve {} is not supported: P-256, P-384 and P-521 are",
            other
                .kmip_name()
                .unwrap_or("of that Recommended Curve value")
        ))),
    }
}

fn recommended(curve: EcCurve) -> RecommendedCurve {
    match curve {
        EcCurve::P256 => RecommendedCurve::P_256,
        EcCurve::P384 => RecommendedCurve::P_384,
        EcCurve::P521 => RecommendedCurve::P_521,
    }
}

/// The curve's size in bits (its Cryptographic Length).
pub fn curve_bits(curve: EcCurve) -> u32 {
    match curve {
        EcCurve::P256 => 256,
        EcCurve::P384 => 384,
        EcCurve::P521 => 521,
    }
}

/// The curve of that size, if any: an `ECPrivateKey` that does not name
/// its curve is read on the curve its key block's length gives.
pub fn curve_of_bits(bits: u32) -> Option<EcCurve> {
    EcCurve::ALL.into_iter().find(|c| curve_bits(*c) == bits)
}

/// The curve a transparent EC key names; it must name one.
fn named_curve(material: &Ttlv) -> OpResult<EcCurve> {
    let item = material.child(Tag::RECOMMENDED_CURVE).ok_or_else(|| {
        OperationError::InvalidField("a transparent EC key needs its Recommended Curve".into())
    })?;
    curve(item)
}

fn invalid(e: kms_core::crypto::CryptoError) -> OperationError {
    OperationError::InvalidField(e.to_string())
}

/// A transparent EC private key → PKCS#8 and its curve.
pub fn read_transparent_private(material: &Ttlv) -> OpResult<(SecretBytes, EcCurve)> {
    super::fields(material, &[Tag::RECOMMENDED_CURVE, Tag::D])?;
    let curve = named_curve(material)?;
    let d = number(material, Tag::D)?.ok_or_else(|| {
        OperationError::InvalidField("a transparent EC private key needs D".into())
    })?;
    let pkcs8 = ec_pkcs8_from_scalar(curve, &d, None).map_err(invalid)?;
    Ok((pkcs8, curve))
}

/// A transparent EC public key → SubjectPublicKeyInfo and its curve.
pub fn read_transparent_public(material: &Ttlv) -> OpResult<(Vec<u8>, EcCurve)> {
    super::fields(material, &[Tag::RECOMMENDED_CURVE, Tag::Q_STRING])?;
    let curve = named_curve(material)?;
    let point = material
        .child(Tag::Q_STRING)
        .ok_or_else(|| {
            OperationError::InvalidField("a transparent EC public key needs its Q String".into())
        })?
        .as_bytes()?;
    let spki = spki_from_ec_point(curve, point).map_err(invalid)?;
    Ok((spki, curve))
}

/// An RFC 5915 `ECPrivateKey` → PKCS#8 and its curve; `hint` is the curve
/// to read it on when it names none.
pub fn read_ec_private_key(der: &[u8], hint: Option<EcCurve>) -> OpResult<(SecretBytes, EcCurve)> {
    ec_pkcs8_from_private_key_der(der, hint)
        .or_else(|e| match hint {
            // A named curve other than the hint wins over the hint, which
            // only came from a Cryptographic Length.
            Some(_) => ec_pkcs8_from_private_key_der(der, None),
            None => Err(e),
        })
        .map(|(curve, pkcs8)| (pkcs8, curve))
        .map_err(invalid)
}

/// The Key Material of a stored PKCS#8 EC key as a transparent private key.
pub fn write_transparent_private(pkcs8: &[u8]) -> OpResult<Ttlv> {
    let parts = ec_private_parts(pkcs8).map_err(not_ec)?;
    Ok(Ttlv::structure(
        Tag::KEY_MATERIAL,
        vec![
            Ttlv::enumeration(Tag::RECOMMENDED_CURVE, recommended(parts.curve)),
            big(Tag::D, parts.scalar.expose()),
        ],
    ))
}

/// The stored PKCS#8 EC key as an RFC 5915 `ECPrivateKey`.
pub fn write_ec_private_key(pkcs8: &[u8]) -> OpResult<SecretBytes> {
    ec_private_key_der(pkcs8).map_err(not_ec)
}

/// The Key Material of a stored EC SubjectPublicKeyInfo as a transparent
/// public key.
pub fn write_transparent_public(spki_der: &[u8]) -> OpResult<Ttlv> {
    let (curve, point) = spki_point(spki_der)?;
    Ok(Ttlv::structure(
        Tag::KEY_MATERIAL,
        vec![
            Ttlv::enumeration(Tag::RECOMMENDED_CURVE, recommended(curve)),
            Ttlv::bytes(Tag::Q_STRING, point.to_vec()),
        ],
    ))
}

/// The curve and point of an EC SubjectPublicKeyInfo.
fn spki_point(spki_der: &[u8]) -> OpResult<(EcCurve, &[u8])> {
    let info = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| {
        OperationError::GeneralFailure("the stored public key could not be read".into())
    })?;
    if info.algorithm.oid != EC_PUBLIC_KEY_OID {
        return Err(OperationError::KeyFormatTypeNotSupported(
            "transparent EC formats are for elliptic-curve keys".into(),
        ));
    }
    let named = info
        .algorithm
        .parameters
        .and_then(|p| p.to_der().ok())
        .and_then(|der| {
            EcCurve::ALL
                .into_iter()
                .find(|c| c.oid_der() == der.as_slice())
        })
        .ok_or_else(|| {
            OperationError::KeyFormatTypeNotSupported(
                "the key's curve is not P-256, P-384 or P-521".into(),
            )
        })?;
    let point = info.subject_public_key.as_bytes().ok_or_else(|| {
        OperationError::GeneralFailure("the stored public key could not be read".into())
    })?;
    Ok((named, point))
}

fn not_ec(_: kms_core::crypto::CryptoError) -> OperationError {
    OperationError::KeyFormatTypeNotSupported(
        "that format is for elliptic-curve keys on P-256, P-384 or P-521".into(),
    )
}
