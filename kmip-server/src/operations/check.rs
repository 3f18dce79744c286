//! Check (KMIP 1.4 §4.10): may the client use the object as the request
//! says? The Cryptographic Usage Mask asked for must be within the object's
//! and its lifecycle state must allow those uses now. Usage Limits and Lease
//! Time are not restricted on this server, so they always pass. On a
//! refusal the ID Placeholder is emptied, so a following Get in the batch
//! does not fetch the object.

use kms_core::lifecycle::{self, Operation as Use};
use kms_core::object::UsageMask;

use super::{Context, fields, response, uid};
use crate::message::attributes::parse;
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

/// Uses that apply protection; the rest of a mask processes.
const PROTECT: UsageMask = UsageMask::SIGN
    .union(UsageMask::ENCRYPT)
    .union(UsageMask::WRAP_KEY)
    .union(UsageMask::MAC_GENERATE)
    .union(UsageMask::DERIVE_KEY);

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::USAGE_LIMITS_COUNT,
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Tag::LEASE_TIME,
        ],
    )?;
    let id = ctx.object_id(payload)?;
    let attrs = ctx.kms.attributes(ctx.project(), id).await?;
    if let Some(item) = payload.child(Tag::CRYPTOGRAPHIC_USAGE_MASK) {
        let wanted = parse::mask(item)?;
        let state_allows = (!wanted.intersects(PROTECT)
            || lifecycle::permits(attrs.state, Use::Protect))
            && (wanted.difference(PROTECT).is_empty()
                || lifecycle::permits(attrs.state, Use::Process));
        if !attrs.cryptographic_usage_mask.contains(wanted) || !state_allows {
            ctx.clear_placeholder();
            return Err(OperationError::PermissionDenied(format!(
                "object {id} may not be used for Cryptographic Usage Mask {:#x} in state {}",
                wanted.bits(),
                attrs.state
            )));
        }
    }
    ctx.set_placeholder(id);
    Ok(response(vec![uid(id)]))
}
