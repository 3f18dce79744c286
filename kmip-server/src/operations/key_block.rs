//! Managed objects on the wire (KMIP 1.4 §2.2): Key Blocks of symmetric,
//! public and private keys and secret data; certificates; opaque objects.
//!
//! Formats, for Register and Get alike:
//!
//! | object | formats |
//! |---|---|
//! | symmetric key | Raw, Transparent Symmetric Key |
//! | private key | PKCS#8 (what kms-core keeps); RSA: PKCS#1, Transparent RSA Private Key ([`super::transparent_rsa`]); EC: ECPrivateKey, Transparent EC Private Key (1.3+) and Transparent ECDSA/ECDH/ECMQV Private Key ([`super::ec_formats`]) |
//! | public key | X.509 SubjectPublicKeyInfo (what kms-core keeps); RSA: PKCS#1, Transparent RSA Public Key; EC: Transparent EC Public Key (1.3+), Transparent ECDSA/ECDH/ECMQV Public Key |
//! | certificate | X.509 |
//!
//! A key registered in another format is converted to the stored form
//! and checked by aws-lc-rs first; its Cryptographic Algorithm and Length
//! default to the key's own and, when the Key Block states them, must
//! agree with it. Registering a wrapped or compressed key is refused; a
//! Get wraps the Key Block it writes in [`super::wrapping`].

use kms_core::crypto::SecretBytes;
use kms_core::object::{
    CryptographicAlgorithm, KeyMaterial, ManagedObject, ObjectType, SecretDataType,
};

use super::{ec_formats, fields, formats, transparent_rsa};
use crate::message::attributes::parse;
use crate::message::{OpResult, OperationError, ProtocolVersion};
use crate::ttlv::enums::{CertificateType, KeyFormatType};
use crate::ttlv::{Tag, Ttlv, Value};

/// What a Register payload carries.
pub struct Incoming {
    pub material: KeyMaterial,
    pub algorithm: Option<CryptographicAlgorithm>,
    pub length: Option<u32>,
}

/// The tag of an object type's structure.
pub fn object_tag(t: ObjectType) -> Tag {
    match t {
        ObjectType::Certificate => Tag::CERTIFICATE,
        ObjectType::SymmetricKey => Tag::SYMMETRIC_KEY,
        ObjectType::PublicKey => Tag::PUBLIC_KEY,
        ObjectType::PrivateKey => Tag::PRIVATE_KEY,
        ObjectType::SecretData => Tag::SECRET_DATA,
        ObjectType::OpaqueObject => Tag::OPAQUE_OBJECT,
    }
}

fn unsupported_format(format: KeyFormatType, what: &str) -> OperationError {
    OperationError::KeyFormatTypeNotSupported(format!(
        "{} is not a supported format for {what}",
        format.kmip_name().unwrap_or("that Key Format Type")
    ))
}

/// Reads the object of a Register request at `version`.
pub fn read(
    object_type: ObjectType,
    object: &Ttlv,
    version: ProtocolVersion,
) -> OpResult<Incoming> {
    match object_type {
        ObjectType::Certificate => {
            fields(object, &[Tag::CERTIFICATE_TYPE, Tag::CERTIFICATE_VALUE])?;
            let kind = CertificateType(object.required(Tag::CERTIFICATE_TYPE)?.as_enum()?);
            if kind != CertificateType::X_509 {
                return Err(OperationError::InvalidField(
                    "only X.509 certificates".into(),
                ));
            }
            let der = object
                .required(Tag::CERTIFICATE_VALUE)?
                .as_bytes()?
                .to_vec();
            Ok(Incoming {
                material: KeyMaterial::Certificate(der),
                algorithm: None,
                length: None,
            })
        }
        ObjectType::OpaqueObject => {
            fields(object, &[Tag::OPAQUE_DATA_TYPE, Tag::OPAQUE_DATA_VALUE])?;
            object.required(Tag::OPAQUE_DATA_TYPE)?.as_enum()?;
            let value = object.required(Tag::OPAQUE_DATA_VALUE)?.as_bytes()?;
            Ok(Incoming {
                material: KeyMaterial::Opaque(SecretBytes::from_slice(value)),
                algorithm: None,
                length: None,
            })
        }
        ObjectType::SecretData => {
            fields(object, &[Tag::SECRET_DATA_TYPE, Tag::KEY_BLOCK])?;
            let kind = parse::known(
                object.required(Tag::SECRET_DATA_TYPE)?,
                SecretDataType::from_kmip,
            )?;
            let block = read_key_block(object.required(Tag::KEY_BLOCK)?)?;
            if !matches!(block.format, KeyFormatType::OPAQUE | KeyFormatType::RAW) {
                return Err(unsupported_format(block.format, "Secret Data"));
            }
            Ok(Incoming {
                material: KeyMaterial::SecretData {
                    kind,
                    value: block.bytes()?,
                },
                algorithm: None,
                length: None,
            })
        }
        ObjectType::SymmetricKey | ObjectType::PrivateKey | ObjectType::PublicKey => {
            fields(object, &[Tag::KEY_BLOCK])?;
            let block = read_key_block(object.required(Tag::KEY_BLOCK)?)?;
            if let Some(incoming) = read_asymmetric(object_type, &block, version)? {
                return Ok(incoming);
            }
            let material = match (object_type, block.format) {
                (ObjectType::SymmetricKey, KeyFormatType::RAW) => {
                    KeyMaterial::Symmetric(block.bytes()?)
                }
                (ObjectType::SymmetricKey, KeyFormatType::TRANSPARENT_SYMMETRIC_KEY) => {
                    let key = block.material.required(Tag::KEY)?.as_bytes()?;
                    KeyMaterial::Symmetric(SecretBytes::from_slice(key))
                }
                (ObjectType::PrivateKey, KeyFormatType::PKCS_8) => {
                    KeyMaterial::PrivateKeyPkcs8(block.bytes()?)
                }
                (ObjectType::PrivateKey, KeyFormatType::PKCS_1) => {
                    KeyMaterial::PrivateKeyPkcs8(formats::pkcs1_to_pkcs8(block.bytes()?.expose())?)
                }
                (ObjectType::PublicKey, KeyFormatType::X_509) => {
                    KeyMaterial::PublicKeySpki(block.bytes()?.expose().to_vec())
                }
                (ObjectType::PublicKey, KeyFormatType::PKCS_1) => {
                    KeyMaterial::PublicKeySpki(formats::pkcs1_to_spki(block.bytes()?.expose())?)
                }
                (t, f) => return Err(unsupported_format(f, t.kmip_name())),
            };
            Ok(Incoming {
                material,
                algorithm: block.algorithm,
                length: block.length,
            })
        }
    }
}

/// The transparent RSA and EC formats and ECPrivateKey, or `None` for the
/// formats [`read`] handles itself.
fn read_asymmetric(
    object_type: ObjectType,
    block: &KeyBlock<'_>,
    version: ProtocolVersion,
) -> OpResult<Option<Incoming>> {
    use CryptographicAlgorithm as A;
    let f = block.format;
    let (material, algorithm, bits) = match object_type {
        ObjectType::PrivateKey if f == KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY => {
            let (der, bits) = transparent_rsa::read_private(block.material)?;
            (KeyMaterial::PrivateKeyPkcs8(der), A::Rsa, bits)
        }
        ObjectType::PrivateKey if f == KeyFormatType::EC_PRIVATE_KEY => {
            let hint = block.length.and_then(ec_formats::curve_of_bits);
            let (der, curve) = ec_formats::read_ec_private_key(block.bytes()?.expose(), hint)?;
            (
                KeyMaterial::PrivateKeyPkcs8(der),
                A::Ecdsa,
                ec_formats::curve_bits(curve),
            )
        }
        ObjectType::PrivateKey if is_transparent_ec(f, version, Half::Private) => {
            let (der, curve) = ec_formats::read_transparent_private(block.material)?;
            (
                KeyMaterial::PrivateKeyPkcs8(der),
                A::Ecdsa,
                ec_formats::curve_bits(curve),
            )
        }
        ObjectType::PublicKey if f == KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY => {
            let (der, bits) = transparent_rsa::read_public(block.material)?;
            (KeyMaterial::PublicKeySpki(der), A::Rsa, bits)
        }
        ObjectType::PublicKey if is_transparent_ec(f, version, Half::Public) => {
            let (der, curve) = ec_formats::read_transparent_public(block.material)?;
            (
                KeyMaterial::PublicKeySpki(der),
                A::Ecdsa,
                ec_formats::curve_bits(curve),
            )
        }
        _ => return Ok(None),
    };
    let family_matches = match block.algorithm {
        None => true,
        Some(stated) => stated == algorithm || (algorithm == A::Ecdsa && stated == A::Ec),
    };
    if !family_matches || block.length.is_some_and(|l| l != bits) {
        return Err(OperationError::InvalidField(format!(
            "the Key Block's Cryptographic Algorithm or Length does not match the key \
             ({} of {bits} bits)",
            algorithm.kmip_name()
        )));
    }
    Ok(Some(Incoming {
        material,
        algorithm: Some(block.algorithm.unwrap_or(algorithm)),
        length: Some(bits),
    }))
}

/// Which half of a key pair a format carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    Private,
    Public,
}

/// Whether `f` is a transparent EC format for `half` that `version`
/// defines: the ECDSA/ECDH/ECMQV ones since 1.0, the EC ones since 1.3.
fn is_transparent_ec(f: KeyFormatType, version: ProtocolVersion, half: Half) -> bool {
    let (legacy, ec) = match half {
        Half::Private => (
            [
                KeyFormatType::TRANSPARENT_ECDSA_PRIVATE_KEY,
                KeyFormatType::TRANSPARENT_ECDH_PRIVATE_KEY,
                KeyFormatType::TRANSPARENT_ECMQV_PRIVATE_KEY,
            ],
            KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY,
        ),
        Half::Public => (
            [
                KeyFormatType::TRANSPARENT_ECDSA_PUBLIC_KEY,
                KeyFormatType::TRANSPARENT_ECDH_PUBLIC_KEY,
                KeyFormatType::TRANSPARENT_ECMQV_PUBLIC_KEY,
            ],
            KeyFormatType::TRANSPARENT_EC_PUBLIC_KEY,
        ),
    };
    legacy.contains(&f) || (f == ec && version.minor >= 3)
}

struct KeyBlock<'a> {
    format: KeyFormatType,
    material: &'a Ttlv,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<u32>,
}

impl KeyBlock<'_> {
    fn bytes(&self) -> OpResult<SecretBytes> {
        Ok(SecretBytes::from_slice(self.material.as_bytes()?))
    }
}

fn read_key_block(block: &Ttlv) -> OpResult<KeyBlock<'_>> {
    fields(
        block,
        &[
            Tag::KEY_FORMAT_TYPE,
            Tag::KEY_COMPRESSION_TYPE,
            Tag::KEY_VALUE,
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Tag::CRYPTOGRAPHIC_LENGTH,
            Tag::KEY_WRAPPING_DATA,
        ],
    )?;
    if block.child(Tag::KEY_WRAPPING_DATA).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "wrapped keys cannot be registered yet".into(),
        ));
    }
    if block.child(Tag::KEY_COMPRESSION_TYPE).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "compressed keys are not supported".into(),
        ));
    }
    let value = block.required(Tag::KEY_VALUE)?;
    // Attributes inside the Key Value are not taken: the Template-Attribute
    // is where a client sets them.
    let material = value.required(Tag::KEY_MATERIAL)?;
    Ok(KeyBlock {
        format: KeyFormatType(block.required(Tag::KEY_FORMAT_TYPE)?.as_enum()?),
        material,
        algorithm: block
            .child(Tag::CRYPTOGRAPHIC_ALGORITHM)
            .map(|a| parse::known(a, CryptographicAlgorithm::from_kmip))
            .transpose()?,
        length: block
            .child(Tag::CRYPTOGRAPHIC_LENGTH)
            .map(|l| {
                u32::try_from(l.as_i32()?).map_err(|_| {
                    OperationError::InvalidField("Cryptographic Length is negative".into())
                })
            })
            .transpose()?,
    })
}

/// The object structure a Get at `version` returns, in `format` (or the
/// default one).
pub fn write(
    object: &ManagedObject,
    format: Option<KeyFormatType>,
    version: ProtocolVersion,
) -> OpResult<Ttlv> {
    let a = &object.attributes;
    let material = object.material.as_ref().ok_or_else(|| {
        OperationError::ItemNotFound(format!(
            "the key material of {} has been destroyed",
            a.unique_identifier
        ))
    })?;
    let tag = object_tag(a.object_type);
    let block = |format: KeyFormatType, material: Ttlv| {
        let mut children = vec![
            Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, format),
            Ttlv::structure(Tag::KEY_VALUE, vec![material]),
        ];
        if let Some(alg) = a.cryptographic_algorithm {
            children.push(Ttlv::enumeration(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                alg.to_kmip(),
            ));
        }
        if let Some(len) = a.cryptographic_length {
            children.push(Ttlv::integer(
                Tag::CRYPTOGRAPHIC_LENGTH,
                i32::try_from(len).unwrap_or(i32::MAX),
            ));
        }
        Ttlv::structure(Tag::KEY_BLOCK, children)
    };
    let raw = |bytes: &[u8]| Ttlv::new(Tag::KEY_MATERIAL, Value::bytes(bytes.to_vec()));
    let body = match material {
        KeyMaterial::Resident(_) => {
            return Err(OperationError::PermissionDenied(
                "the key lives in an HSM and is not extractable".into(),
            ));
        }
        KeyMaterial::Symmetric(key) => match format.unwrap_or(KeyFormatType::RAW) {
            KeyFormatType::RAW => vec![block(KeyFormatType::RAW, raw(key.expose()))],
            KeyFormatType::TRANSPARENT_SYMMETRIC_KEY => vec![block(
                KeyFormatType::TRANSPARENT_SYMMETRIC_KEY,
                Ttlv::structure(
                    Tag::KEY_MATERIAL,
                    vec![Ttlv::bytes(Tag::KEY, key.expose().to_vec())],
                ),
            )],
            f => return Err(unsupported_format(f, "a symmetric key")),
        },
        KeyMaterial::PrivateKeyPkcs8(der) => match format.unwrap_or(KeyFormatType::PKCS_8) {
            KeyFormatType::PKCS_8 => vec![block(KeyFormatType::PKCS_8, raw(der.expose()))],
            KeyFormatType::PKCS_1 => {
                let pkcs1 = formats::pkcs8_to_pkcs1(der.expose())?;
                vec![block(KeyFormatType::PKCS_1, raw(pkcs1.expose()))]
            }
            KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY => vec![block(
                KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY,
                transparent_rsa::write_private(der.expose())?,
            )],
            KeyFormatType::EC_PRIVATE_KEY => {
                let sec1 = ec_formats::write_ec_private_key(der.expose())?;
                vec![block(KeyFormatType::EC_PRIVATE_KEY, raw(sec1.expose()))]
            }
            f if is_transparent_ec(f, version, Half::Private) => {
                vec![block(
                    f,
                    ec_formats::write_transparent_private(der.expose())?,
                )]
            }
            f => return Err(unsupported_format(f, "a private key")),
        },
        KeyMaterial::PublicKeySpki(der) => match format.unwrap_or(KeyFormatType::X_509) {
            KeyFormatType::X_509 => vec![block(KeyFormatType::X_509, raw(der))],
            KeyFormatType::PKCS_1 => {
                vec![block(
                    KeyFormatType::PKCS_1,
                    raw(&formats::spki_to_pkcs1(der)?),
                )]
            }
            KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY => vec![block(
                KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY,
                transparent_rsa::write_public(der)?,
            )],
            f if is_transparent_ec(f, version, Half::Public) => {
                vec![block(f, ec_formats::write_transparent_public(der)?)]
            }
            f => return Err(unsupported_format(f, "a public key")),
        },
        KeyMaterial::SecretData { kind, value } => match format.unwrap_or(KeyFormatType::OPAQUE) {
            KeyFormatType::OPAQUE | KeyFormatType::RAW => vec![
                Ttlv::enumeration(Tag::SECRET_DATA_TYPE, kind.to_kmip()),
                block(KeyFormatType::OPAQUE, raw(value.expose())),
            ],
            f => return Err(unsupported_format(f, "secret data")),
        },
        KeyMaterial::Certificate(der) => vec![
            Ttlv::enumeration(Tag::CERTIFICATE_TYPE, CertificateType::X_509),
            Ttlv::bytes(Tag::CERTIFICATE_VALUE, der.clone()),
        ],
        KeyMaterial::Opaque(value) => vec![
            // The Opaque Data Type is not kept; 0x80000000 is the first
            // extension value, "unknown" here.
            Ttlv::enumeration(Tag::OPAQUE_DATA_TYPE, 0x8000_0000u32),
            Ttlv::bytes(Tag::OPAQUE_DATA_VALUE, value.expose().to_vec()),
        ],
    };
    Ok(Ttlv::structure(tag, body))
}
