//! Activate (KMIP 1.4 §4.19): Pre-Active → Active.

use super::{Context, fields, response, uid};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER])?;
    let id = ctx.object_id(payload)?;
    ctx.kms.activate(ctx.actor, ctx.project(), id).await?;
    Ok(response(vec![uid(id)]))
}
