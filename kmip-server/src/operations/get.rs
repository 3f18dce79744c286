//! Get (KMIP 1.4 §4.11): the object with its key material, in the Key
//! Format Type asked for (see [`super::key_block`] for the formats), and
//! wrapped when a Key Wrapping Specification asks (see
//! [`super::wrapping`]).

use super::{Context, fields, key_block, response, uid, wrapping};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::KeyFormatType;
use crate::ttlv::{Tag, Ttlv};

/// KMIP 1.4 §9.1.3.2.2 Key Compression Type: EC Public Key Type
/// Uncompressed.
const EC_PUBLIC_KEY_TYPE_UNCOMPRESSED: u32 = 1;

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
    // Keys are stored unwrapped (inside Strongroom's own hierarchy), so
    // Not Wrapped and As Registered both give the plain key.
    if let Some(t) = payload.child(Tag::KEY_WRAP_TYPE) {
        t.as_enum()?;
    }
    // Elliptic-curve public keys are kept uncompressed (in their X.509
    // form); that is the one compression type served.
    if let Some(c) = payload.child(Tag::KEY_COMPRESSION_TYPE) {
        if c.as_enum()? != EC_PUBLIC_KEY_TYPE_UNCOMPRESSED {
            return Err(OperationError::KeyCompressionTypeNotSupported(
                "elliptic-curve public keys are served uncompressed only".into(),
            ));
        }
    }
    let format = payload
        .child(Tag::KEY_FORMAT_TYPE)
        .map(|f| f.as_enum().map(KeyFormatType))
        .transpose()?;
    let id = ctx.object_id(payload)?;
    let object = ctx.kms.get(ctx.actor, ctx.project(), id).await?;
    let mut body = key_block::write(&object, format, ctx.version)?;
    if let Some(spec) = payload.child(Tag::KEY_WRAPPING_SPECIFICATION) {
        body = wrapping::wrap(ctx, spec, id, body).await?;
    }
    Ok(response(vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, object.attributes.object_type.to_kmip()),
        uid(id),
        body,
    ]))
}
