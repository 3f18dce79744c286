//! Get Attribute List (KMIP 1.4 §4.13): the names of the attributes the
//! object holds.

use super::{Context, fields, response, uid};
use crate::message::OpResult;
use crate::message::attributes::values;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER])?;
    let id = ctx.object_id(payload)?;
    let attrs = ctx.kms.attributes(ctx.project(), id).await?;
    let mut out = vec![uid(id)];
    out.extend(
        values::held_names(&attrs, ctx.version)
            .into_iter()
            .map(|n| Ttlv::text(Tag::ATTRIBUTE_NAME, n)),
    );
    Ok(response(out))
}
