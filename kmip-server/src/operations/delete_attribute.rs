//! Delete Attribute (KMIP 1.4 §4.16): removes the instance at the Attribute
//! Index (0 when absent) and returns it.

use super::{Context, edit_common, fields, response, uid};
use crate::message::attributes::{attribute, edit, names, values};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::UNIQUE_IDENTIFIER,
            Tag::ATTRIBUTE_NAME,
            Tag::ATTRIBUTE_INDEX,
        ],
    )?;
    let id = ctx.object_id(payload)?;
    let name = payload.required(Tag::ATTRIBUTE_NAME)?.as_text()?.to_owned();
    names::check_defined(&name, ctx.version)?;
    let index = match payload.child(Tag::ATTRIBUTE_INDEX) {
        Some(i) => Some(
            u32::try_from(i.as_i32()?)
                .map_err(|_| OperationError::InvalidField("Attribute Index is negative".into()))?,
        ),
        None => None,
    };
    let version = ctx.version;
    let (removed, _) = edit_common::apply(ctx, id, |a| {
        let slot = usize::try_from(index.unwrap_or(0)).unwrap_or(usize::MAX);
        let before = values::values_of(a, &name, version).into_iter().nth(slot);
        edit::delete(a, &name, index)?;
        before.ok_or_else(|| OperationError::ItemNotFound(format!("no {name} to delete")))
    })
    .await?;
    Ok(response(vec![uid(id), attribute(&name, index, removed)]))
}
