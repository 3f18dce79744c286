//! Register (KMIP 1.4 §4.3): a client-supplied symmetric key, private key,
//! public key, certificate, secret data or opaque object, in any format
//! [`super::key_block`] reads.

use super::{Context, fields, key_block, response, uid};
use crate::message::attributes::template;
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    let object_type = super::object_type(payload.required(Tag::OBJECT_TYPE)?)?;
    let object_tag = key_block::object_tag(object_type);
    fields(
        payload,
        &[Tag::OBJECT_TYPE, Tag::TEMPLATE_ATTRIBUTE, object_tag],
    )?;
    let attrs = template::read(payload.child(Tag::TEMPLATE_ATTRIBUTE), ctx.version)?;
    let parts = template::parts(ctx.project(), &attrs)?;
    if parts.object_type.is_some_and(|t| t != object_type) {
        return Err(OperationError::InvalidField(
            "the template's Object Type differs from the request's".into(),
        ));
    }
    let incoming = key_block::read(object_type, payload.required(object_tag)?, ctx.version)?;
    let algorithm = incoming.algorithm.or(parts.algorithm);
    let length = incoming.length.or(parts.length);
    let id = ctx
        .kms
        .register(
            ctx.actor,
            ctx.project(),
            incoming.material,
            algorithm,
            length,
            parts.template,
        )
        .await?;
    ctx.set_placeholder(id);
    Ok(response(vec![uid(id)]))
}
