//! Recover (KMIP 1.4 §4.23): brings an archived object back on-line and
//! removes its Archive Date. Archived objects stay in the database, so the
//! answer is immediate, never asynchronous; recovering an on-line object
//! succeeds and changes nothing.

use super::{Context, fields, response, uid};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER])?;
    let id = ctx.object_id(payload)?;
    ctx.kms.recover(ctx.actor, ctx.project(), id).await?;
    Ok(response(vec![uid(id)]))
}
