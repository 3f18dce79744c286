//! Derive Key (KMIP 1.4 §4.6): a Symmetric Key or Secret Data from one base
//! object (a symmetric key or Secret Data whose usage mask allows Derive
//! Key), by PBKDF2, HMAC or HASH.
//!
//! | Derivation Method | Derivation Parameters used |
//! |---|---|
//! | PBKDF2 | Salt, Iteration Count (1 to 1,000,000), Hashing Algorithm (default SHA-1, RFC 8018's) |
//! | HMAC | Derivation Data, Hashing Algorithm (required) |
//! | HASH | Hashing Algorithm (required); a hash of the base key — Derivation Data is refused |
//!
//! ENCRYPT, the SP 800-108 KDFs and Asymmetric Key are Feature Not
//! Supported, as is more than one base object. The template must give the
//! Cryptographic Length (and for a key, the Cryptographic Algorithm); a
//! length the method cannot produce is Cryptographic Failure. The new
//! object becomes the ID Placeholder (the placeholder never names the
//! base: the specification forbids it).

use kms_core::crypto::kdf::KdfHash;
use kms_core::object::{HashingAlgorithm, ObjectType};
use kms_core::service::{Derivation, DerivedObject};

use super::{Context, fields, parse_id, response, uid};
use crate::message::attributes::{parse, template};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::DerivationMethod as Method;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::OBJECT_TYPE,
            Tag::UNIQUE_IDENTIFIER,
            Tag::DERIVATION_METHOD,
            Tag::DERIVATION_PARAMETERS,
            Tag::TEMPLATE_ATTRIBUTE,
        ],
    )?;
    let object_type = super::object_type(payload.required(Tag::OBJECT_TYPE)?)?;
    let mut bases = payload.children(Tag::UNIQUE_IDENTIFIER);
    let base = parse_id(payload.required(Tag::UNIQUE_IDENTIFIER)?.as_text()?)?;
    if bases.nth(1).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "keys are derived from one base object".into(),
        ));
    }
    let method = Method(payload.required(Tag::DERIVATION_METHOD)?.as_enum()?);
    let derivation = derivation(method, payload.required(Tag::DERIVATION_PARAMETERS)?)?;
    let attrs = template::read(payload.child(Tag::TEMPLATE_ATTRIBUTE), ctx.version)?;
    let parts = template::parts(ctx.project(), &attrs)?;
    let length = parts.length.ok_or_else(|| {
        OperationError::InvalidField("Derive Key needs a Cryptographic Length".into())
    })?;
    let output = match object_type {
        ObjectType::SymmetricKey => DerivedObject::SymmetricKey(
            parts.algorithm.ok_or_else(|| {
                OperationError::InvalidField(
                    "deriving a key needs a Cryptographic Algorithm".into(),
                )
            })?,
            length,
        ),
        ObjectType::SecretData if parts.algorithm.is_none() => DerivedObject::SecretData(length),
        other => {
            return Err(OperationError::InvalidField(format!(
                "Derive Key makes a Symmetric Key or Secret Data, not {other}"
            )));
        }
    };
    let id = ctx
        .kms
        .derive_key(
            ctx.actor,
            ctx.project(),
            base,
            &derivation,
            output,
            parts.template,
        )
        .await?;
    ctx.set_placeholder(id);
    Ok(response(vec![uid(id)]))
}

fn derivation(method: Method, params: &Ttlv) -> OpResult<Derivation> {
    fields(
        params,
        &[
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            Tag::INITIALIZATION_VECTOR,
            Tag::DERIVATION_DATA,
            Tag::SALT,
            Tag::ITERATION_COUNT,
        ],
    )?;
    let hash = params
        .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
        .map(parse::cryptographic_parameters)
        .transpose()?
        .and_then(|p| p.hashing_algorithm)
        .map(kdf_hash)
        .transpose()?;
    let bytes = |tag| -> OpResult<Option<Vec<u8>>> {
        params
            .child(tag)
            .map(|b| Ok(b.as_bytes()?.to_vec()))
            .transpose()
    };
    let need_hash = || {
        hash.ok_or_else(|| {
            OperationError::InvalidField(format!(
                "{} derivation needs a Hashing Algorithm",
                method.kmip_name().unwrap_or("this")
            ))
        })
    };
    if params.child(Tag::INITIALIZATION_VECTOR).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "an Initialization Vector is used by ENCRYPT derivation only, which is not supported"
                .into(),
        ));
    }
    match method {
        Method::PBKDF2 => Ok(Derivation::Pbkdf2 {
            hash: hash.unwrap_or(KdfHash::Sha1),
            salt: bytes(Tag::SALT)?
                .ok_or_else(|| OperationError::InvalidField("PBKDF2 needs a Salt".into()))?,
            iterations: u32::try_from(params.required(Tag::ITERATION_COUNT)?.as_i32()?)
                .map_err(|_| OperationError::InvalidField("Iteration Count is negative".into()))?,
        }),
        Method::HMAC => Ok(Derivation::Hmac {
            hash: need_hash()?,
            data: bytes(Tag::DERIVATION_DATA)?.ok_or_else(|| {
                OperationError::InvalidField("HMAC derivation needs Derivation Data".into())
            })?,
        }),
        Method::HASH if params.child(Tag::DERIVATION_DATA).is_some() => {
            Err(OperationError::FeatureNotSupported(
                "HASH derivation hashes the base key; Derivation Data is not supported".into(),
            ))
        }
        Method::HASH => Ok(Derivation::Hash { hash: need_hash()? }),
        other => Err(OperationError::FeatureNotSupported(format!(
            "Derivation Method {} is not supported; PBKDF2, HMAC and HASH are",
            other.kmip_name().unwrap_or("(unknown)")
        ))),
    }
}

fn kdf_hash(h: HashingAlgorithm) -> OpResult<KdfHash> {
    match h {
        HashingAlgorithm::Sha1 => Ok(KdfHash::Sha1),
        HashingAlgorithm::Sha256 => Ok(KdfHash::Sha256),
        HashingAlgorithm::Sha384 => Ok(KdfHash::Sha384),
        HashingAlgorithm::Sha512 => Ok(KdfHash::Sha512),
        other => Err(OperationError::FeatureNotSupported(format!(
            "key derivation with {other}"
        ))),
    }
}
