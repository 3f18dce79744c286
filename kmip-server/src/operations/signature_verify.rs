//! Signature Verify (KMIP 1.4 §4.32): Validity Indicator Valid or Invalid.

use super::sign::data_or_digest;
use super::{Context, crypto_params, fields, response, uid};
use crate::message::OpResult;
use crate::ttlv::enums::ValidityIndicator;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            Tag::DATA,
            Tag::DIGESTED_DATA,
            Tag::SIGNATURE_DATA,
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
        ],
    )?;
    ctx.since(payload, Tag::DIGESTED_DATA, 4)?;
    crypto_params::refuse_streaming(payload)?;
    let id = ctx.object_id(payload)?;
    let (data, is_digest) = data_or_digest(payload)?;
    let signature = payload.required(Tag::SIGNATURE_DATA)?.as_bytes()?;
    let key = ctx.kms.key_profile(ctx.project(), id).await?;
    let scheme = crypto_params::signature_scheme(payload, &key)?;
    let valid = ctx
        .kms
        .verify(
            ctx.actor,
            ctx.project(),
            id,
            scheme,
            data,
            is_digest,
            signature,
        )
        .await?;
    Ok(response(vec![uid(id), validity(valid)]))
}

pub fn validity(valid: bool) -> Ttlv {
    let v = if valid {
        ValidityIndicator::VALID
    } else {
        ValidityIndicator::INVALID
    };
    Ttlv::enumeration(Tag::VALIDITY_INDICATOR, v)
}
