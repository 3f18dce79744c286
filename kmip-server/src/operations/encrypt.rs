//! Encrypt (KMIP 1.4 §4.29): AES-GCM with a server-generated 96-bit IV and
//! a 128-bit tag. KMIP 1.4 returns the tag as Authenticated Encryption Tag;
//! 1.2 and 1.3, which have no such field, append it to the Data.

use kms_core::crypto::aead::TAG_LEN;

use super::{Context, crypto_params, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

/// kms-core's AES-GCM output is `nonce ‖ ciphertext ‖ tag`.
pub const NONCE_LEN: usize = 12;

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
        ],
    )?;
    ctx.since(payload, Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, 4)?;
    crypto_params::refuse_streaming(payload)?;
    crypto_params::require_gcm(&crypto_params::requested(payload)?)?;
    if payload.child(Tag::IV_COUNTER_NONCE).is_some() {
        return Err(OperationError::FeatureNotSupported(
            "the server generates the IV; a client-chosen IV is not accepted".into(),
        ));
    }
    let id = ctx.object_id(payload)?;
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    let aad = match payload.child(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA) {
        Some(a) => a.as_bytes()?,
        None => &[],
    };
    let sealed = ctx
        .kms
        .encrypt(ctx.actor, ctx.project(), id, aad, data)
        .await?;
    let malformed = || OperationError::GeneralFailure("AES-GCM output is too short".into());
    let (nonce, rest) = sealed.split_at_checked(NONCE_LEN).ok_or_else(malformed)?;
    let split = rest.len().checked_sub(TAG_LEN).ok_or_else(malformed)?;
    let mut out = vec![uid(id)];
    if ctx.version.minor >= 4 {
        let (ciphertext, tag) = rest.split_at(split);
        out.push(Ttlv::bytes(Tag::DATA, ciphertext.to_vec()));
        out.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, nonce.to_vec()));
        out.push(Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, tag.to_vec()));
    } else {
        out.push(Ttlv::bytes(Tag::DATA, rest.to_vec()));
        out.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, nonce.to_vec()));
    }
    Ok(response(out))
}
