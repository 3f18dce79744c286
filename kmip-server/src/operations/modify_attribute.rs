//! Modify Attribute (KMIP 1.4 §4.15): replaces the instance at the
//! Attribute Index (0 when absent).

use super::{Context, edit_common, fields, response, uid};
use crate::message::OpResult;
use crate::message::attributes::{WireAttribute, attribute, edit};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER, Tag::ATTRIBUTE])?;
    let id = ctx.object_id(payload)?;
    let attr = WireAttribute::from_ttlv(payload.required(Tag::ATTRIBUTE)?, ctx.version)?;
    let value = attr.value()?.clone();
    let (index, _) = edit_common::apply(ctx, id, |a| edit::modify(a, &attr)).await?;
    Ok(response(vec![
        uid(id),
        attribute(&attr.name, attr.index.map(|_| index), value),
    ]))
}
