//! MAC (KMIP 1.4 §4.33): HMAC with the key's own hash, or with the hash
//! its Cryptographic Parameters name ([`crypto_params::hmac_override`]).

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
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
        ],
    )?;
    crypto_params::refuse_streaming(payload)?;
    let id = ctx.object_id(payload)?;
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    let mac = match crypto_params::hmac_override(ctx, payload, id).await? {
        Some(hash) => {
            ctx.kms
                .mac_with(ctx.actor, ctx.project(), id, hash, data)
                .await?
        }
        None => ctx.kms.mac(ctx.actor, ctx.project(), id, data).await?,
    };
    Ok(response(vec![uid(id), Ttlv::bytes(Tag::MAC_DATA, mac)]))
}
