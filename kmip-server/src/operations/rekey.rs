//! Re-key (KMIP 1.4 §4.4): a new symmetric key replacing the old one, with
//! the old key's attributes and names (see `kms_core::service` `rekey`).
//! The Offset places the new Activation Date after its Initial Date. The
//! new key becomes the ID Placeholder.

use super::{Context, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[Tag::UNIQUE_IDENTIFIER, Tag::OFFSET, Tag::TEMPLATE_ATTRIBUTE],
    )?;
    refuse_template(payload.child(Tag::TEMPLATE_ATTRIBUTE))?;
    let id = ctx.object_id(payload)?;
    let offset = offset(payload)?;
    let new = ctx.kms.rekey(ctx.actor, ctx.project(), id, offset).await?;
    ctx.set_placeholder(new);
    Ok(response(vec![uid(new)]))
}

/// The Offset as a duration.
pub fn offset(payload: &Ttlv) -> OpResult<Option<time::Duration>> {
    payload
        .child(Tag::OFFSET)
        .map(|o| Ok(time::Duration::seconds(i64::from(o.as_interval()?))))
        .transpose()
}

/// The replacement copies the old key's attributes; a template that sets
/// any is refused rather than half-applied. (Change them afterwards with
/// Modify Attribute.)
pub fn refuse_template(template: Option<&Ttlv>) -> OpResult<()> {
    match template {
        Some(t) if !t.as_structure()?.is_empty() => Err(OperationError::FeatureNotSupported(
            "a re-key copies the old key's attributes; set others afterwards with Modify Attribute"
                .into(),
        )),
        _ => Ok(()),
    }
}
