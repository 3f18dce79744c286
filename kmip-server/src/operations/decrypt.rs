//! Decrypt (KMIP 1.4 §4.30): the inverse of [`super::encrypt`]. The tag is
//! the Authenticated Encryption Tag in KMIP 1.4, or the last 16 bytes of
//! the Data before.

use super::encrypt::NONCE_LEN;
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
            Tag::IV_COUNTER_NONCE,
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
            Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
            Tag::AUTHENTICATED_ENCRYPTION_TAG,
        ],
    )?;
    ctx.since(payload, Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, 4)?;
    ctx.since(payload, Tag::AUTHENTICATED_ENCRYPTION_TAG, 4)?;
    crypto_params::refuse_streaming(payload)?;
    crypto_params::require_gcm(&crypto_params::requested(payload)?)?;
    let id = ctx.object_id(payload)?;
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    let nonce = payload.required(Tag::IV_COUNTER_NONCE)?.as_bytes()?;
    if nonce.len() != NONCE_LEN {
        return Err(OperationError::InvalidField(format!(
            "the IV must be {NONCE_LEN} bytes"
        )));
    }
    let aad = match payload.child(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA) {
        Some(a) => a.as_bytes()?,
        None => &[],
    };
    let tag = match payload.child(Tag::AUTHENTICATED_ENCRYPTION_TAG) {
        Some(t) => t.as_bytes()?,
        None => &[],
    };
    let mut sealed =
        zeroize::Zeroizing::new(Vec::with_capacity(nonce.len() + data.len() + tag.len()));
    sealed.extend_from_slice(nonce);
    sealed.extend_from_slice(data);
    sealed.extend_from_slice(tag);
    let plaintext = ctx
        .kms
        .decrypt(ctx.actor, ctx.project(), id, aad, &sealed)
        .await?;
    Ok(response(vec![
        uid(id),
        Ttlv::bytes(Tag::DATA, plaintext.expose().to_vec()),
    ]))
}
