//! Archive (KMIP 1.4 §4.22): the client says the object may go off-line.
//! This server archives at once: the object gets an Archive Date, and from
//! then on every operation naming it answers Object Archived until a
//! Recover (see `kms_core::service` Archive/Recover). Archiving an archived
//! object is Object Archived (§11.23).

use super::{Context, fields, response, uid};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER])?;
    let id = ctx.object_id(payload)?;
    ctx.kms.archive(ctx.actor, ctx.project(), id).await?;
    Ok(response(vec![uid(id)]))
}
