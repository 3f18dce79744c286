//! Revoke (KMIP 1.4 §4.20): Key Compromise and CA Compromise move the
//! object to Compromised, any other reason to Deactivated.

use kms_core::object::{RevocationReason, RevocationReasonCode};

use super::{Context, fields, response, uid};
use crate::message::OpResult;
use crate::message::attributes::parse;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::REVOCATION_REASON,
            Tag::COMPROMISE_OCCURRENCE_DATE,
        ],
    )?;
    let id = ctx.object_id(payload)?;
    let reason_item = payload.required(Tag::REVOCATION_REASON)?;
    fields(
        reason_item,
        &[Tag::REVOCATION_REASON_CODE, Tag::REVOCATION_MESSAGE],
    )?;
    let reason = RevocationReason {
        code: parse::known(
            reason_item.required(Tag::REVOCATION_REASON_CODE)?,
            RevocationReasonCode::from_kmip,
        )?,
        message: reason_item
            .child(Tag::REVOCATION_MESSAGE)
            .map(parse::text)
            .transpose()?,
    };
    let occurred = payload
        .child(Tag::COMPROMISE_OCCURRENCE_DATE)
        .map(parse::date)
        .transpose()?;
    ctx.kms
        .revoke(ctx.actor, ctx.project(), id, reason, occurred)
        .await?;
    Ok(response(vec![uid(id)]))
}
