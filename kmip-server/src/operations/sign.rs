//! Sign (KMIP 1.4 §4.31): RSA PKCS#1 v1.5 or PSS, ECDSA (DER signatures) or
//! Ed25519, chosen from the key and the Cryptographic Parameters. Digested
//! Data (1.4) signs a precomputed digest.

use super::{Context, crypto_params, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            Tag::DATA,
            Tag::DIGESTED_DATA,
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
        ],
    )?;
    ctx.since(payload, Tag::DIGESTED_DATA, 4)?;
    crypto_params::refuse_streaming(payload)?;
    let id = ctx.object_id(payload)?;
    let (data, is_digest) = data_or_digest(payload)?;
    let key = ctx.kms.key_profile(ctx.project(), id).await?;
    let scheme = crypto_params::signature_scheme(payload, &key)?;
    let signature = ctx
        .kms
        .sign(ctx.actor, ctx.project(), id, scheme, data, is_digest)
        .await?;
    Ok(response(vec![
        uid(id),
        Ttlv::bytes(Tag::SIGNATURE_DATA, signature),
    ]))
}

/// The Data, or the Digested Data and `true`.
pub fn data_or_digest(payload: &Ttlv) -> OpResult<(&[u8], bool)> {
    match (payload.child(Tag::DATA), payload.child(Tag::DIGESTED_DATA)) {
        (Some(d), None) => Ok((d.as_bytes()?, false)),
        (None, Some(d)) => Ok((d.as_bytes()?, true)),
        _ => Err(OperationError::InvalidField(
            "exactly one of Data and Digested Data is required".into(),
        )),
    }
}
