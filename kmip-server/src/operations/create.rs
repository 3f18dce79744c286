//! Create (KMIP 1.4 §4.1): a symmetric key — AES-128/256 or an HMAC key.

use kms_core::crypto::keygen::KeySpec;
use kms_core::object::{CryptographicAlgorithm as Alg, ObjectType};

use super::{Context, fields, response, uid};
use crate::message::attributes::template;
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::OBJECT_TYPE, Tag::TEMPLATE_ATTRIBUTE])?;
    let object_type = super::object_type(payload.required(Tag::OBJECT_TYPE)?)?;
    if object_type != ObjectType::SymmetricKey {
        return Err(OperationError::InvalidField(format!(
            "Create makes symmetric keys, not {object_type}"
        )));
    }
    let attrs = template::read(payload.child(Tag::TEMPLATE_ATTRIBUTE), ctx.version)?;
    let parts = template::parts(ctx.project(), &attrs)?;
    if parts.object_type.is_some_and(|t| t != object_type) {
        return Err(OperationError::InvalidField(
            "the template's Object Type differs from the request's".into(),
        ));
    }
    let spec = symmetric_spec(parts.algorithm, parts.length)?;
    let id = ctx
        .kms
        .create_key(ctx.actor, ctx.project(), spec, parts.template)
        .await?;
    ctx.set_placeholder(id);
    Ok(response(vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, object_type.to_kmip()),
        uid(id),
    ]))
}

/// The key to generate for a Cryptographic Algorithm and Length.
fn symmetric_spec(algorithm: Option<Alg>, length: Option<u32>) -> OpResult<KeySpec> {
    match (algorithm, length) {
        (Some(Alg::Aes), Some(128)) => Ok(KeySpec::Aes128),
        (Some(Alg::Aes), Some(192)) => Ok(KeySpec::Aes192),
        (Some(Alg::Aes), Some(256)) => Ok(KeySpec::Aes256),
        // KMIP counts 3DES as 168 bits; some clients say 192.
        (Some(Alg::TripleDes), Some(168 | 192)) => Ok(KeySpec::TripleDes),
        (Some(Alg::HmacSha256), None | Some(256)) => Ok(KeySpec::HmacSha256),
        (Some(Alg::HmacSha384), None | Some(384)) => Ok(KeySpec::HmacSha384),
        (Some(Alg::HmacSha512), None | Some(512)) => Ok(KeySpec::HmacSha512),
        (None, _) => Err(OperationError::InvalidField(
            "Create needs a Cryptographic Algorithm".into(),
        )),
        (Some(alg), len) => Err(OperationError::InvalidField(format!(
            "cannot create a {alg} key of length {}; AES-128/192/256, 3DES-168 and HMAC-SHA256/384/512 are supported",
            len.map_or_else(|| "(unspecified)".to_owned(), |l| l.to_string())
        ))),
    }
}
