//! Re-key Key Pair (KMIP 1.4 §4.5): a new key pair replacing the pair of
//! the named private key, generated like it, with the old keys' attributes
//! and names; the new private key becomes the ID Placeholder.

use super::rekey::{offset, refuse_template};
use super::{Context, fields, response};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            Tag::OFFSET,
            Tag::COMMON_TEMPLATE_ATTRIBUTE,
            Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
            Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
        ],
    )?;
    for tag in [
        Tag::COMMON_TEMPLATE_ATTRIBUTE,
        Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
        Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
    ] {
        refuse_template(payload.child(tag))?;
    }
    let id = ctx.object_id_in(payload, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER)?;
    let pair = ctx
        .kms
        .rekey_key_pair(ctx.actor, ctx.project(), id, offset(payload)?)
        .await?;
    ctx.set_placeholder(pair.private_key);
    Ok(response(vec![
        Ttlv::text(
            Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
            pair.private_key.to_string(),
        ),
        Ttlv::text(
            Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER,
            pair.public_key.to_string(),
        ),
    ]))
}
