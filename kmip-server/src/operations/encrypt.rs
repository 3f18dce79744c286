//! Encrypt (KMIP 1.4 §4.29): AES-GCM, AES-CBC/ECB/CTR and RSA (OAEP,
//! PKCS#1 v1.5), as [`super::cipher_plan`] chooses from the Cryptographic
//! Parameters. An IV the server drew is returned as IV/Counter/Nonce. The
//! GCM tag is the Authenticated Encryption Tag in KMIP 1.4; 1.2 and 1.3,
//! which have no such field, append it to the Data. A client GCM IV may
//! be 1 to 128 bytes; one of 96 bits must have its first bit clear (see
//! [`super::cipher_plan`]). A request may be one part of a multi-part
//! operation ([`super::by_parts`]).

use kms_core::crypto::aead::{TAG_LEN, is_server_nonce};
use kms_core::service::SymmetricMode;

use super::by_parts::{self, Part};
use super::cipher_plan::{self, Direction, Plan};
use super::{Context, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

/// kms-core's AES-GCM output is `nonce ‖ ciphertext ‖ tag`.
pub const NONCE_LEN: usize = 12;

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    match by_parts::step(ctx, payload, Direction::Encrypt).await? {
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
        ],
    )?;
    ctx.since(payload, Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, 4)?;
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
    let plan = cipher_plan::plan(ctx, payload, id, Direction::Encrypt, iv.is_some()).await?;
    if !aad.is_empty()
        && !matches!(
            plan,
            Plan::CachedGcm | Plan::Symmetric(SymmetricMode::Gcm { .. })
        )
    {
        return Err(OperationError::InvalidField(
            "additional authenticated data applies to GCM only".into(),
        ));
    }
    let mut out = vec![uid(id)];
    match plan {
        Plan::CachedGcm => {
            let sealed = ctx
                .kms
                .encrypt(ctx.actor, ctx.project(), id, aad, data)
                .await?;
            let malformed = || OperationError::GeneralFailure("AES-GCM output is too short".into());
            let (nonce, rest) = sealed.split_at_checked(NONCE_LEN).ok_or_else(malformed)?;
            let split = rest.len().checked_sub(TAG_LEN).ok_or_else(malformed)?;
            let (ciphertext, tag) = rest.split_at(split);
            push_gcm(ctx, &mut out, ciphertext, Some(nonce), tag);
        }
        Plan::Symmetric(mode) => {
            // Only 96-bit IVs share the space the server draws from.
            if matches!(mode, SymmetricMode::Gcm { .. })
                && iv.is_some_and(|iv| iv.len() == NONCE_LEN && is_server_nonce(iv))
            {
                return Err(OperationError::InvalidField(
                    "AES-GCM IVs whose first bit is set are reserved for IVs the server draws; \
                     choose one with the first bit clear, or omit the IV"
                        .into(),
                ));
            }
            let sealed = ctx
                .kms
                .encrypt_symmetric(ctx.actor, ctx.project(), id, mode, iv, aad, data)
                .await?;
            // An IV is returned only when the server chose it.
            let drawn = if iv.is_none() {
                sealed.iv.as_deref()
            } else {
                None
            };
            match &sealed.tag {
                Some(tag) => push_gcm(ctx, &mut out, &sealed.ciphertext, drawn, tag),
                None => {
                    out.push(Ttlv::bytes(Tag::DATA, sealed.ciphertext.clone()));
                    if let Some(iv) = drawn {
                        out.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.to_vec()));
                    }
                }
            }
        }
        Plan::Rsa(scheme, label) => {
            if iv.is_some() {
                return Err(OperationError::InvalidField(
                    "RSA encryption takes no IV/Counter/Nonce".into(),
                ));
            }
            let ciphertext = ctx
                .kms
                .encrypt_rsa(ctx.actor, ctx.project(), id, scheme, &label, data)
                .await?;
            out.push(Ttlv::bytes(Tag::DATA, ciphertext));
        }
    }
    Ok(response(out))
}

/// GCM's Data, IV (when the server drew it) and tag, laid out for the
/// request's version.
fn push_gcm(
    ctx: &Context<'_>,
    out: &mut Vec<Ttlv>,
    ciphertext: &[u8],
    iv: Option<&[u8]>,
    tag: &[u8],
) {
    if ctx.version.minor >= 4 {
        out.push(Ttlv::bytes(Tag::DATA, ciphertext.to_vec()));
        if let Some(iv) = iv {
            out.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.to_vec()));
        }
        out.push(Ttlv::bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG, tag.to_vec()));
    } else {
        out.push(Ttlv::bytes(Tag::DATA, [ciphertext, tag].concat()));
        if let Some(iv) = iv {
            out.push(Ttlv::bytes(Tag::IV_COUNTER_NONCE, iv.to_vec()));
        }
    }
}
