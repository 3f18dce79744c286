//! MAC Verify (KMIP 1.4 §4.34): compared in constant time by kms-core.

use super::signature_verify::validity;
use super::{Context, crypto_params, fields, response, uid};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            Tag::DATA,
            Tag::MAC_DATA,
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
        ],
    )?;
    crypto_params::refuse_streaming(payload)?;
    let id = ctx.object_id(payload)?;
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    let tag = payload.required(Tag::MAC_DATA)?.as_bytes()?;
    let valid = match crypto_params::hmac_override(ctx, payload, id).await? {
        Some(hash) => {
            ctx.kms
                .mac_verify_with(ctx.actor, ctx.project(), id, hash, data, tag)
                .await?
        }
        None => {
            ctx.kms
                .mac_verify(ctx.actor, ctx.project(), id, data, tag)
                .await?
        }
    };
    Ok(response(vec![uid(id), validity(valid)]))
}
