//! Transparent RSA Private Key and Transparent RSA Public Key (KMIP 1.4
//! §2.1.7.4–5): RSA keys as their numbers, to and from the PKCS#8 and
//! SubjectPublicKeyInfo DER that kms-core keeps.
//!
//! Reading a stored key apart uses the `pkcs1` crate (aws-lc-rs does not
//! expose the private components); assembling one from numbers goes
//! through aws-lc-rs ([`kms_core::crypto::key_components`] and
//! [`kms_core::crypto::external_signature::spki_from_rsa`]), which checks
//! the numbers make one consistent key of 2048 to 8192 bits.
//!
//! KMIP lets a Transparent RSA Private Key carry only some of its numbers
//! (the Private Exponent, or P and Q, or the prime exponents). This server
//! keeps keys it can use, so it takes a private key with all eight; one
//! the specification allows with fewer is Feature Not Supported, one it
//! does not allow is Invalid Field.

use kms_core::crypto::SecretBytes;
use kms_core::crypto::external_signature::spki_from_rsa;
use kms_core::crypto::key_components::{RsaPrivateParts, rsa_private_pkcs8};
use pkcs8::PrivateKeyInfo;
use pkcs8::der::Decode;
use spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use crate::message::{OpResult, OperationError};
use crate::ttlv::{BigInteger, Tag, Ttlv, Value};

/// The private key's numbers in the order KMIP lists them.
const PRIVATE_FIELDS: [Tag; 8] = [
    Tag::MODULUS,
    Tag::PRIVATE_EXPONENT,
    Tag::PUBLIC_EXPONENT,
    Tag::P,
    Tag::Q,
    Tag::PRIME_EXPONENT_P,
    Tag::PRIME_EXPONENT_Q,
    Tag::CRT_COEFFICIENT,
];

/// A Transparent RSA Private Key → PKCS#8, with the modulus length in bits.
pub fn read_private(material: &Ttlv) -> OpResult<(SecretBytes, u32)> {
    super::fields(material, &PRIVATE_FIELDS)?;
    let get = |tag| number(material, tag);
    let [n, d, e, p, q, dp, dq, q_inv] = PRIVATE_FIELDS.map(get);
    let n = n?.ok_or_else(|| {
        OperationError::InvalidField("a Transparent RSA Private Key needs its Modulus".into())
    })?;
    let (d, e, p, q, dp, dq, q_inv) = (d?, e?, p?, q?, dp?, dq?, q_inv?);
    let (Some(d), Some(e), Some(p), Some(q), Some(dp), Some(dq), Some(q_inv)) =
        (&d, &e, &p, &q, &dp, &dq, &q_inv)
    else {
        let allowed = d.is_some() || (p.is_some() && q.is_some()) || (dp.is_some() && dq.is_some());
        let missing: Vec<String> = PRIVATE_FIELDS
            .iter()
            .filter(|t| material.child(**t).is_none())
            .map(ToString::to_string)
            .collect();
        let what = format!(
            "this server takes a Transparent RSA Private Key with all of Modulus, \
             Private Exponent, Public Exponent, P, Q, Prime Exponent P, Prime Exponent Q \
             and CRT Coefficient; missing: {}",
            missing.join(", ")
        );
        return Err(if allowed {
            OperationError::FeatureNotSupported(what)
        } else {
            OperationError::InvalidField(what)
        });
    };
    let parts = RsaPrivateParts {
        modulus: &n,
        public_exponent: e,
        private_exponent: d,
        p,
        q,
        dp,
        dq,
        q_inv,
    };
    let pkcs8 =
        rsa_private_pkcs8(&parts).map_err(|e| OperationError::InvalidField(e.to_string()))?;
    Ok((pkcs8, bits(&n)))
}

/// A Transparent RSA Public Key → SubjectPublicKeyInfo, with the modulus
/// length in bits.
pub fn read_public(material: &Ttlv) -> OpResult<(Vec<u8>, u32)> {
    super::fields(material, &[Tag::MODULUS, Tag::PUBLIC_EXPONENT])?;
    let required = |tag: Tag| {
        number(material, tag)?.ok_or_else(|| {
            OperationError::InvalidField(format!("a Transparent RSA Public Key needs its {tag}"))
        })
    };
    let (n, e) = (required(Tag::MODULUS)?, required(Tag::PUBLIC_EXPONENT)?);
    let spki = spki_from_rsa(&n, &e).map_err(|e| OperationError::InvalidField(e.to_string()))?;
    Ok((spki, bits(&n)))
}

/// The Key Material of a stored PKCS#8 RSA key as a Transparent RSA
/// Private Key.
pub fn write_private(pkcs8: &[u8]) -> OpResult<Ttlv> {
    let info = PrivateKeyInfo::from_der(pkcs8).map_err(|_| malformed())?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(not_rsa());
    }
    let key = pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|_| malformed())?;
    let numbers = [
        key.modulus,
        key.private_exponent,
        key.public_exponent,
        key.prime1,
        key.prime2,
        key.exponent1,
        key.exponent2,
        key.coefficient,
    ];
    Ok(Ttlv::structure(
        Tag::KEY_MATERIAL,
        PRIVATE_FIELDS
            .iter()
            .zip(numbers)
            .map(|(tag, value)| big(*tag, value.as_bytes()))
            .collect(),
    ))
}

/// The Key Material of a stored RSA SubjectPublicKeyInfo as a Transparent
/// RSA Public Key.
pub fn write_public(spki_der: &[u8]) -> OpResult<Ttlv> {
    let info = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| malformed())?;
    if info.algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err(not_rsa());
    }
    let bits = info.subject_public_key.as_bytes().ok_or_else(malformed)?;
    let key = pkcs1::RsaPublicKey::from_der(bits).map_err(|_| malformed())?;
    Ok(Ttlv::structure(
        Tag::KEY_MATERIAL,
        vec![
            big(Tag::MODULUS, key.modulus.as_bytes()),
            big(Tag::PUBLIC_EXPONENT, key.public_exponent.as_bytes()),
        ],
    ))
}

/// A non-negative Big Integer field as its unsigned magnitude.
pub fn number(material: &Ttlv, tag: Tag) -> OpResult<Option<Zeroizing<Vec<u8>>>> {
    material
        .child(tag)
        .map(|item| {
            item.as_big_integer()?
                .to_unsigned()
                .ok_or_else(|| OperationError::InvalidField(format!("{tag} is negative")))
        })
        .transpose()
}

/// A Big Integer item holding the unsigned `magnitude`.
pub fn big(tag: Tag, magnitude: &[u8]) -> Ttlv {
    Ttlv::new(tag, Value::BigInteger(BigInteger::from_unsigned(magnitude)))
}

/// The bit length of an unsigned big-endian number.
fn bits(magnitude: &[u8]) -> u32 {
    let start = magnitude.iter().position(|b| *b != 0);
    match start.and_then(|s| magnitude.get(s..)) {
        Some([first, rest @ ..]) => {
            u32::try_from(rest.len() * 8).unwrap_or(u32::MAX) + (8 - first.leading_zeros())
        }
        _ => 0,
    }
}

fn not_rsa() -> OperationError {
    OperationError::KeyFormatTypeNotSupported("Transparent RSA formats are for RSA keys".into())
}

fn malformed() -> OperationError {
    OperationError::GeneralFailure("the stored RSA key could not be read".into())
}

#[cfg(test)]
mod tests {
    use super::bits;

    #[test]
    fn bit_lengths() {
        assert_eq!(bits(&[]), 0);
        assert_eq!(bits(&[0, 0]), 0);
        assert_eq!(bits(&[1]), 1);
        assert_eq!(bits(&[0, 0x80, 0]), 16);
        assert_eq!(bits(&[0x7f, 0xff]), 15);
    }
}
