//! Get (KMIP 1.4 §4.11): the object with its key material, in the Key
//! Format Type asked for (see [`super::key_block`] for the formats).

use super::{Context, fields, key_block, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::KeyFormatType;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::KEY_FORMAT_TYPE,
            Tag::KEY_WRAP_TYPE,
            Tag::KEY_COMPRESSION_TYPE,
            Tag::KEY_WRAPPING_SPECIFICATION,
        ],
    )?;
    ctx.since(payload, Tag::KEY_WRAP_TYPE, 4)?;
    if payload.child(Tag::KEY_WRAPPING_SPECIFICATION).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "Key Wrapping Specification is not supported yet".into(),
        ));
    }
    if payload.child(Tag::KEY_COMPRESSION_TYPE).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "Key Compression Type is not supported".into(),
        ));
    }
    let format = payload
        .child(Tag::KEY_FORMAT_TYPE)
        .map(|f| f.as_enum().map(KeyFormatType))
        .transpose()?;
    let id = ctx.object_id(payload)?;
    let object = ctx.kms.get(ctx.actor, ctx.project(), id).await?;
    let body = key_block::write(&object, format)?;
    Ok(response(vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, object.attributes.object_type.to_kmip()),
        uid(id),
        body,
    ]))
}
