//! Decrypt (KMIP 1.4 §4.30): the inverse of [`super::encrypt`]. The GCM
//! tag is the Authenticated Encryption Tag in KMIP 1.4, or the last 16
//! bytes of the Data before. GCM IVs may be 1 to 128 bytes (96 bits is
//! the usual size). A request may be one part of a multi-part operation
//! ([`super::by_parts`]). A missing IV where the mode needs one is
//! Invalid Message.

use kms_core::crypto::aead::TAG_LEN;
use kms_core::crypto::gcm_any_iv::MAX_IV_LEN;
use kms_core::service::SymmetricMode;

use super::by_parts::{self, Part};
use super::cipher_plan::{self, Direction, Plan};
use super::encrypt::NONCE_LEN;
use super::{Context, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    match by_parts::step(ctx, payload, Direction::Decrypt).await? {
        Part::Whole(whole) => single_part(ctx, &whole).await,
        Part::Kept(answer) => Ok(answer),
    }
}

/// A whole message, in one request or joined from its parts.
async fn single_part(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
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
    let id = ctx.object_id(payload)?;
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    let iv = payload
        .child(Tag::IV_COUNTER_NONCE)
        .map(Ttlv::as_bytes)
        .transpose()?;
    let aad = match payload.child(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA) {
        Some(a) => a.as_bytes()?,
        None => &[],
    };
    let plan = cipher_plan::plan(ctx, payload, id, Direction::Decrypt, iv.is_some()).await?;
    if iv.is_none() && cipher_plan::needs_iv(&plan) {
        return Err(OperationError::InvalidMessage(
            "the IV/Counter/Nonce is missing".into(),
        ));
    }
    let plaintext = match plan {
        Plan::CachedGcm => {
            let (nonce, ciphertext, tag) = gcm_parts(ctx, payload, data, iv, TAG_LEN)?;
            let mut sealed = zeroize::Zeroizing::new(Vec::with_capacity(
                nonce.len() + ciphertext.len() + tag.len(),
            ));
            sealed.extend_from_slice(nonce);
            sealed.extend_from_slice(ciphertext);
            sealed.extend_from_slice(tag);
            ctx.kms
                .decrypt(ctx.actor, ctx.project(), id, aad, &sealed)
                .await?
        }
        Plan::Symmetric(mode @ SymmetricMode::Gcm { tag_len }) => {
            let (nonce, ciphertext, tag) = gcm_parts(ctx, payload, data, iv, tag_len)?;
            ctx.kms
                .decrypt_symmetric(
                    ctx.actor,
                    ctx.project(),
                    id,
                    mode,
                    Some(nonce),
                    aad,
                    ciphertext,
                    tag,
                )
                .await?
        }
        Plan::Symmetric(mode) => {
            ctx.kms
                .decrypt_symmetric(ctx.actor, ctx.project(), id, mode, iv, &[], data, &[])
                .await?
        }
        Plan::Rsa(scheme, label) => {
            ctx.kms
                .decrypt_rsa(ctx.actor, ctx.project(), id, scheme, &label, data)
                .await?
        }
    };
    Ok(response(vec![
        uid(id),
        Ttlv::bytes(Tag::DATA, plaintext.expose().to_vec()),
    ]))
}

/// The IV, ciphertext and tag: the tag is its own field in KMIP 1.4, else
/// the last `tag_len` bytes of the Data.
fn gcm_parts<'a>(
    ctx: &Context<'_>,
    payload: &'a Ttlv,
    data: &'a [u8],
    iv: Option<&'a [u8]>,
    tag_len: usize,
) -> OpResult<(&'a [u8], &'a [u8], &'a [u8])> {
    let nonce = iv.unwrap_or_default();
    if nonce.is_empty() || nonce.len() > MAX_IV_LEN {
        return Err(OperationError::InvalidField(format!(
            "a GCM IV is 1 to {MAX_IV_LEN} bytes ({NONCE_LEN} is usual)"
        )));
    }
    match payload.child(Tag::AUTHENTICATED_ENCRYPTION_TAG) {
        Some(t) => Ok((nonce, data, t.as_bytes()?)),
        None if ctx.version.minor >= 4 => Err(OperationError::MissingData(
            "GCM needs the Authenticated Encryption Tag".into(),
        )),
        None => {
            let split = data.len().checked_sub(tag_len).ok_or_else(|| {
                OperationError::InvalidField("the Data is shorter than the GCM tag".into())
            })?;
            let (ciphertext, tag) = data.split_at(split);
            Ok((nonce, ciphertext, tag))
        }
    }
}
