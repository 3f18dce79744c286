//! Add Attribute (KMIP 1.4 §4.14): a new instance; the response carries it
//! with the Attribute Index it was given.

use super::{Context, edit_common, fields, response, uid};
use crate::message::OpResult;
use crate::message::attributes::{WireAttribute, attribute, edit};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER, Tag::ATTRIBUTE])?;
    let id = ctx.object_id(payload)?;
    let attr = WireAttribute::from_ttlv(payload.required(Tag::ATTRIBUTE)?, ctx.version)?;
    let value = attr.value()?.clone();
    let (index, _) = edit_common::apply(ctx, id, |a| edit::add(a, &attr)).await?;
    let shown = (attr.name == "Name" || attr.name == "Object Group" || attr.name == "Link")
        .then_some(index);
    Ok(response(vec![uid(id), attribute(&attr.name, shown, value)]))
}
