//! Private keys to and from their parts, for protocols that carry keys as
//! numbers rather than as PKCS#8 (KMIP's Transparent RSA/EC keys and its
//! `ECPrivateKey` format).
//!
//! Strongroom keeps every private key as PKCS#8 DER. The functions here
//! build that PKCS#8 from parts, through aws-lc-rs, so a key is accepted
//! only if aws-lc-rs accepts it: RSA components are checked against one
//! another (`n = p·q`, `d·e ≡ 1`, the CRT values; 2048 to 8192 bits), an EC
//! scalar must lie in `[1, n)` on its curve and a public point given beside
//! it must be the scalar's. Going the other way, [`ec_private_parts`] splits
//! a stored EC key into its curve, scalar and public point.
//!
//! RSA components are read back with the `pkcs1` crate by the callers that
//! need them (aws-lc-rs does not expose them); only the checked assembly
//! lives here.
//!
//! Every scalar and private component stays in [`SecretBytes`].

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _};

use super::ecdsa_format::push_len;
use super::signature::EcCurve;
use super::{CryptoError, SecretBytes};

/// The eight numbers of a two-prime RSA private key, unsigned big-endian.
pub struct RsaPrivateParts<'a> {
    pub modulus: &'a [u8],
    pub public_exponent: &'a [u8],
    pub private_exponent: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
    pub dp: &'a [u8],
    pub dq: &'a [u8],
    pub q_inv: &'a [u8],
}

/// PKCS#8 of the RSA key made of `parts`, or [`CryptoError::InvalidKey`]
/// when the parts do not make one consistent key of 2048 to 8192 bits.
pub fn rsa_private_pkcs8(parts: &RsaPrivateParts<'_>) -> Result<SecretBytes, CryptoError> {
    let trim = |b: &'_ [u8]| -> Vec<u8> {
        // aws-lc-rs wants the public numbers without leading zeros.
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b.get(start..).unwrap_or_default().to_vec()
    };
    let components = KeyPairComponents {
        public_key: PublicKeyComponents {
            n: trim(parts.modulus),
            e: trim(parts.public_exponent),
        },
        d: parts.private_exponent,
        p: parts.p,
        q: parts.q,
        dP: parts.dp,
        dQ: parts.dq,
        qInv: parts.q_inv,
    };
    let pair = RsaKeyPair::from_components(&components).map_err(|_| {
        CryptoError::InvalidKey(
            "the RSA components do not form one consistent key of 2048 to 8192 bits",
        )
    })?;
    let der = pair
        .as_der()
        .map_err(|_| CryptoError::Internal("encoding an RSA private key"))?;
    Ok(SecretBytes::from_slice(der.as_ref()))
}

/// An EC private key taken apart.
pub struct EcPrivateParts {
    pub curve: EcCurve,
    /// The private scalar, big-endian, as long as the curve's order.
    pub scalar: SecretBytes,
    /// The public point, uncompressed SEC1 (`04 ‖ x ‖ y`).
    pub public_point: Vec<u8>,
}

/// The curve, scalar and public point of a PKCS#8 EC private key.
pub fn ec_private_parts(pkcs8: &[u8]) -> Result<EcPrivateParts, CryptoError> {
    let (curve, pair) = EcCurve::ALL
        .into_iter()
        .find_map(|c| {
            EcdsaKeyPair::from_pkcs8(c.signing_algorithm(), pkcs8)
                .ok()
                .map(|p| (c, p))
        })
        .ok_or(CryptoError::InvalidKey(
            "not a PKCS#8 EC private key on P-256, P-384 or P-521",
        ))?;
    let scalar = pair
        .private_key()
        .as_be_bytes()
        .map_err(|_| CryptoError::Internal("encoding an EC private scalar"))?;
    Ok(EcPrivateParts {
        curve,
        scalar: SecretBytes::from_slice(scalar.as_ref()),
        public_point: pair.public_key().as_ref().to_vec(),
    })
}

/// The RFC 5915 `ECPrivateKey` of a PKCS#8 EC private key, with its curve
/// named and its public key included.
pub fn ec_private_key_der(pkcs8: &[u8]) -> Result<SecretBytes, CryptoError> {
    let (_, pair) = ec_pair_from_der(pkcs8, None)?;
    let der = pair
        .private_key()
        .as_der()
        .map_err(|_| CryptoError::Internal("encoding an EC private key"))?;
    Ok(SecretBytes::from_slice(der.as_ref()))
}

/// PKCS#8 of an RFC 5915 `ECPrivateKey`. When the structure does not name
/// its curve, `curve` must; a curve named both ways must agree. A public key
/// inside must match the scalar.
pub fn ec_pkcs8_from_private_key_der(
    der: &[u8],
    curve: Option<EcCurve>,
) -> Result<(EcCurve, SecretBytes), CryptoError> {
    if !is_sequence_starting_with_version_1(der) {
        return Err(CryptoError::InvalidKey(
            "not an RFC 5915 ECPrivateKey (version 1)",
        ));
    }
    let (curve, pair) = ec_pair_from_der(der, curve)?;
    Ok((curve, pkcs8_of(curve, &pair)?))
}

/// PKCS#8 of the EC key whose private scalar on `curve` is `scalar`
/// (big-endian, leading zeros optional); the public point is computed. When
/// `public_point` is given it must be the scalar's.
pub fn ec_pkcs8_from_scalar(
    curve: EcCurve,
    scalar: &[u8],
    public_point: Option<&[u8]>,
) -> Result<SecretBytes, CryptoError> {
    let order_len = curve.field_len();
    let start = scalar.iter().position(|b| *b != 0).unwrap_or(scalar.len());
    let significant = scalar.get(start..).unwrap_or_default();
    if significant.is_empty() || significant.len() > order_len {
        return Err(CryptoError::InvalidKey(
            "the EC private scalar is zero or longer than the curve's order",
        ));
    }
    let mut fixed = SecretBytes::zeroed(order_len - significant.len());
    fixed.extend_from_slice(significant);
    let pair = match public_point {
        Some(point) => EcdsaKeyPair::from_private_key_and_public_key(
            curve.signing_algorithm(),
            fixed.expose(),
            point,
        )
        .map_err(|_| CryptoError::InvalidKey("the EC public point is not the private scalar's"))?,
        None => {
            let der = rfc5915_of_scalar(curve, fixed.expose());
            EcdsaKeyPair::from_private_key_der(curve.signing_algorithm(), der.expose())
                .map_err(|_| CryptoError::InvalidKey("the EC private scalar is not in [1, n)"))?
        }
    };
    pkcs8_of(curve, &pair)
}

/// The PKCS#8 of `pair` in the form aws-lc-rs generates: the public key
/// inside. (A pair parsed from a structure without its public key would
/// otherwise be written without it, so one key would have two stored
/// forms.)
fn pkcs8_of(curve: EcCurve, pair: &EcdsaKeyPair) -> Result<SecretBytes, CryptoError> {
    const ENCODING: CryptoError = CryptoError::Internal("encoding an EC private key as PKCS#8");
    let scalar = pair.private_key().as_be_bytes().map_err(|_| ENCODING)?;
    let whole = EcdsaKeyPair::from_private_key_and_public_key(
        curve.signing_algorithm(),
        scalar.as_ref(),
        pair.public_key().as_ref(),
    )
    .map_err(|_| ENCODING)?;
    let doc = whole.to_pkcs8v1().map_err(|_| ENCODING)?;
    Ok(SecretBytes::from_slice(doc.as_ref()))
}

/// The key pair in `der` (RFC 5915 or PKCS#8) on `curve`, or on the first
/// curve that accepts it. aws-lc-rs refuses a structure whose named curve
/// differs from the one asked for, so the loop finds the named curve; an
/// unnamed one is read on the smallest curve whose order exceeds the scalar,
/// which is why a caller that knows the curve passes it.
fn ec_pair_from_der(
    der: &[u8],
    curve: Option<EcCurve>,
) -> Result<(EcCurve, EcdsaKeyPair), CryptoError> {
    let candidates: &[EcCurve] = match &curve {
        Some(c) => std::slice::from_ref(c),
        None => &EcCurve::ALL,
    };
    candidates
        .iter()
        .find_map(|c| {
            EcdsaKeyPair::from_private_key_der(c.signing_algorithm(), der)
                .ok()
                .map(|p| (*c, p))
        })
        .ok_or(CryptoError::InvalidKey(
            "not an EC private key on P-256, P-384 or P-521 (or not on the curve named)",
        ))
}

/// `SEQUENCE { INTEGER 1, ... }`: the start every RFC 5915 structure has and
/// a PKCS#8 `PrivateKeyInfo` (version 0) does not.
fn is_sequence_starting_with_version_1(der: &[u8]) -> bool {
    let Some((&0x30, rest)) = der.split_first() else {
        return false;
    };
    let header = match rest.first() {
        Some(b) if *b < 0x80 => 1,
        Some(0x81) => 2,
        Some(0x82) => 3,
        _ => return false,
    };
    rest.get(header..header + 3) == Some(&[0x02, 0x01, 0x01][..])
}

/// `ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING,
/// parameters [0] namedCurve }` (RFC 5915 §3), the public key left for
/// aws-lc-rs to compute.
fn rfc5915_of_scalar(curve: EcCurve, scalar: &[u8]) -> SecretBytes {
    let oid = curve.oid_der();
    let mut body = SecretBytes::with_capacity(scalar.len() + oid.len() + 12);
    body.extend_from_slice(&[0x02, 0x01, 0x01, 0x04]);
    body.extend_from_slice(&len_bytes(scalar.len()));
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[0xa0]);
    body.extend_from_slice(&len_bytes(oid.len()));
    body.extend_from_slice(oid);
    let mut out = SecretBytes::with_capacity(body.len() + 4);
    out.extend_from_slice(&[0x30]);
    out.extend_from_slice(&len_bytes(body.len()));
    out.extend_from_slice(body.expose());
    out
}

fn len_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(3);
    push_len(&mut out, len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keygen::{self, GeneratedKey, KeySpec};
    use crate::crypto::signature::{SignatureScheme, SigningKey, VerifyingKey};

    fn ec_pkcs8(spec: KeySpec) -> SecretBytes {
        let GeneratedKey::Pair { private_pkcs8, .. } = keygen::generate(spec).unwrap() else {
            panic!("pair");
        };
        private_pkcs8
    }

    #[test]
    fn ec_round_trips_through_scalar_and_rfc5915() {
        for spec in [KeySpec::EcP256, KeySpec::EcP384, KeySpec::EcP521] {
            let pkcs8 = ec_pkcs8(spec);
            let parts = ec_private_parts(pkcs8.expose()).unwrap();
            assert_eq!(parts.scalar.len(), parts.curve.field_len());
            let again = ec_pkcs8_from_scalar(parts.curve, parts.scalar.expose(), None).unwrap();
            let with_point = ec_pkcs8_from_scalar(
                parts.curve,
                parts.scalar.expose(),
                Some(&parts.public_point),
            )
            .unwrap();
            // One key, one stored form, however it arrived.
            assert_eq!(again.expose(), pkcs8.expose());
            assert_eq!(with_point.expose(), pkcs8.expose());
            let sec1 = ec_private_key_der(pkcs8.expose()).unwrap();
            let (curve, from_sec1) = ec_pkcs8_from_private_key_der(sec1.expose(), None).unwrap();
            assert_eq!(curve, parts.curve);
            assert_eq!(from_sec1.expose(), pkcs8.expose());
            let signer = SigningKey::from_pkcs8(pkcs8.expose()).unwrap();
            let verifier = VerifyingKey::from_spki_der(signer.public_key_spki_der()).unwrap();
            for der in [again, with_point, from_sec1] {
                let key = SigningKey::from_pkcs8(der.expose()).unwrap();
                let sig = key.sign(SignatureScheme::EcdsaSha256, b"m").unwrap();
                verifier
                    .verify(SignatureScheme::EcdsaSha256, b"m", &sig)
                    .unwrap();
            }
        }
    }

    #[test]
    fn ec_refuses_bad_scalars_and_mismatched_points() {
        assert!(ec_pkcs8_from_scalar(EcCurve::P256, &[0; 32], None).is_err());
        assert!(ec_pkcs8_from_scalar(EcCurve::P256, &[0xff; 32], None).is_err());
        assert!(ec_pkcs8_from_scalar(EcCurve::P256, &[1; 33], None).is_err());
        let a = ec_private_parts(ec_pkcs8(KeySpec::EcP256).expose()).unwrap();
        let b = ec_private_parts(ec_pkcs8(KeySpec::EcP256).expose()).unwrap();
        assert!(
            ec_pkcs8_from_scalar(EcCurve::P256, a.scalar.expose(), Some(&b.public_point)).is_err()
        );
        // A P-384 key read as P-256 is refused (the structure names P-384).
        let sec1 = ec_private_key_der(ec_pkcs8(KeySpec::EcP384).expose()).unwrap();
        assert!(ec_pkcs8_from_private_key_der(sec1.expose(), Some(EcCurve::P256)).is_err());
        // PKCS#8 is not an ECPrivateKey.
        let pkcs8 = ec_pkcs8(KeySpec::EcP256);
        assert!(ec_pkcs8_from_private_key_der(pkcs8.expose(), None).is_err());
        assert!(ec_pkcs8_from_private_key_der(&[0x30, 0x03, 0x02, 0x01], None).is_err());
    }
}
